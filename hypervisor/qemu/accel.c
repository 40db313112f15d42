#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"

static const char *const accel_names[] = {
    [ACCEL_AUTO] = "auto",
    [ACCEL_KVM] = "kvm",
    [ACCEL_TCG] = "tcg",
};

int accel_parse(const char *s, enum accel_mode *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(accel_names); i++) {
		if (strcmp(s, accel_names[i]) == 0) {
			*out = (enum accel_mode)i;
			return 0;
		}
	}
	return -1;
}

const char *accel_name(enum accel_mode m)
{
	return (unsigned)m < ARRAY_SIZE(accel_names) ? accel_names[m] : "?";
}

/* Is word one of the space-separated tokens of list? */
static int has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += wl) {
		int starts = p == list || p[-1] == ' ' || p[-1] == '\t';
		int ends = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\t';
		if (starts && ends)
			return 1;
	}
	return 0;
}

/* 1 if a "flags" line of cpuinfo lists vmx or svm, 0 if not, -1 if unreadable. */
static int cpu_has_virt(const char *cpuinfo)
{
	cleanup_fclose FILE *f = fopen(cpuinfo, "re");
	if (!f)
		return -1;
	char line[8192];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		char *colon = strchr(line, ':');
		if (colon && (has_word(colon + 1, "vmx") || has_word(colon + 1, "svm")))
			return 1;
	}
	return 0;
}

/* 0 if usable; else writes why into reason. */
static int kvm_unusable(const char *kvm_dev, const char *cpuinfo, char *reason, size_t len)
{
	int fd = open(kvm_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(reason, len, "KVM unusable: cannot open %s: %s", kvm_dev, strerror(errno));
		return 1;
	}
	close(fd);
	int virt = cpu_has_virt(cpuinfo);
	if (virt < 0) {
		snprintf(reason, len, "KVM unusable: cannot read %s: %s", cpuinfo, strerror(errno));
		return 1;
	}
	if (!virt) {
		snprintf(reason, len, "KVM unusable: %s has no vmx/svm (PVM backend?)", cpuinfo);
		return 1;
	}
	return 0;
}

int accel_detect_at(enum accel_mode want, const char *kvm_dev, const char *cpuinfo,
                    struct accel_choice *out, husk_err *err)
{
	memset(out, 0, sizeof(*out));
	if (want == ACCEL_TCG) {
		out->accel = ACCEL_TCG;
		snprintf(out->reason, sizeof(out->reason), "accel=tcg configured");
		return 0;
	}
	if (kvm_unusable(kvm_dev, cpuinfo, out->reason, sizeof(out->reason))) {
		if (want == ACCEL_KVM)
			return husk_error_set(err, 0, "accel=kvm: %s", out->reason);
		out->accel = ACCEL_TCG;
		out->warn = true;
		return 0;
	}
	out->accel = ACCEL_KVM;
	snprintf(out->reason, sizeof(out->reason), "%s usable and CPU has vmx/svm", kvm_dev);
	return 0;
}

int accel_detect(enum accel_mode want, struct accel_choice *out, husk_err *err)
{
	return accel_detect_at(want, "/dev/kvm", "/proc/cpuinfo", out, err);
}

int vhost_net_open_at(const char *dev, char *reason, size_t len)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		snprintf(reason, len, "vhost-net unusable: cannot open %s: %s", dev,
		         strerror(errno));
	else
		snprintf(reason, len, "%s usable", dev);
	return fd;
}

int vhost_net_open(char *reason, size_t len)
{
	return vhost_net_open_at("/dev/vhost-net", reason, len);
}
