/* Hardware acceleration detection: KVM only where it can really run a normal kernel. */
#ifndef HUSK_ACCEL_H
#define HUSK_ACCEL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

enum accel_mode { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

struct accel_choice {
	enum accel_mode accel; /* ACCEL_KVM or ACCEL_TCG */
	bool warn;             /* auto fell back to TCG: print reason once as a warning */
	char reason[200];      /* "KVM unusable: /proc/cpuinfo has no vmx/svm (PVM backend?)" */
};

/* auto: KVM if /dev/kvm opens O_RDWR and cpuinfo shows vmx or svm, else TCG; kvm forced but
 * unusable: error. */
int accel_detect(enum accel_mode want, struct accel_choice *out, husk_err *err);
/* Same with explicit paths (tests). */
int accel_detect_at(enum accel_mode want, const char *kvm_dev, const char *cpuinfo,
                    struct accel_choice *out, husk_err *err);
/*
 * Opens /dev/vhost-net (virtio-net's data path in the host kernel) for one NIC; -1 with why
 * in reason when it is not usable (absent module, no permission), and QEMU's own path serves.
 */
int vhost_net_open(char *reason, size_t len);
int vhost_net_open_at(const char *dev, char *reason, size_t len);
/* "auto" | "kvm" | "tcg" -> mode; -1 on anything else. */
int accel_parse(const char *s, enum accel_mode *out);
const char *accel_name(enum accel_mode m);

#endif
