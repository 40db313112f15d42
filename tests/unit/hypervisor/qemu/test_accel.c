#include "tests/unit/harness/test.h"

#include <stdlib.h>
#include <unistd.h>

#include "lib/error.h"
#include "hypervisor/qemu/accel.h"

static char dir[] = "/tmp/husk-test-accel-XXXXXX";
static char cpuinfo[64], kvm[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A fake cpuinfo and a fake /dev/kvm (a regular file opens O_RDWR just like the device). */
static void fixture(const char *flags, int with_kvm)
{
	if (!cpuinfo[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(cpuinfo, sizeof(cpuinfo), "%s/cpuinfo", dir);
		snprintf(kvm, sizeof(kvm), "%s/kvm", dir);
	}
	char text[512];
	snprintf(text, sizeof(text), "processor\t: 0\nflags\t\t: %s\n\nprocessor\t: 1\n", flags);
	write_file(cpuinfo, text);
	unlink(kvm);
	if (with_kvm)
		write_file(kvm, "");
}

static void cleanup_fixture(void)
{
	unlink(cpuinfo);
	unlink(kvm);
	rmdir(dir);
}

TEST(auto_without_vmx_falls_back_to_tcg_with_warning)
{
	cleanup_error husk_err err = NULL;
	struct accel_choice c;
	fixture("fpu vme de pse sse2 hypervisor vmxnot svm_lock", 1);
	CHECK_INT(accel_detect_at(ACCEL_AUTO, kvm, cpuinfo, &c, &err), ==, 0);
	CHECK_INT(c.accel, ==, ACCEL_TCG);
	CHECK(c.warn);
	CHECK(strstr(c.reason, "has no vmx/svm (PVM backend?)"));
}

TEST(auto_with_vmx_and_kvm_uses_kvm)
{
	cleanup_error husk_err err = NULL;
	struct accel_choice c;
	fixture("fpu vmx sse2", 1);
	CHECK_INT(accel_detect_at(ACCEL_AUTO, kvm, cpuinfo, &c, &err), ==, 0);
	CHECK_INT(c.accel, ==, ACCEL_KVM);
	CHECK(!c.warn);
	fixture("fpu sse2 svm", 1);
	CHECK_INT(accel_detect_at(ACCEL_AUTO, kvm, cpuinfo, &c, &err), ==, 0);
	CHECK_INT(c.accel, ==, ACCEL_KVM);
}

TEST(auto_without_dev_kvm_falls_back)
{
	cleanup_error husk_err err = NULL;
	struct accel_choice c;
	fixture("fpu vmx", 0);
	CHECK_INT(accel_detect_at(ACCEL_AUTO, kvm, cpuinfo, &c, &err), ==, 0);
	CHECK_INT(c.accel, ==, ACCEL_TCG);
	CHECK(c.warn);
	CHECK(strstr(c.reason, "No such file or directory"));
}

TEST(forced_kvm_on_unusable_host_is_an_error)
{
	cleanup_error husk_err err = NULL;
	struct accel_choice c;
	fixture("fpu sse2", 1);
	CHECK_INT(accel_detect_at(ACCEL_KVM, kvm, cpuinfo, &c, &err), ==, -1);
	CHECK(strstr(husk_error_msg(err), "accel=kvm: KVM unusable:"));
}

TEST(forced_tcg_never_probes)
{
	cleanup_error husk_err err = NULL;
	struct accel_choice c;
	CHECK_INT(accel_detect_at(ACCEL_TCG, "/nonexistent", "/nonexistent", &c, &err), ==, 0);
	CHECK_INT(c.accel, ==, ACCEL_TCG);
	CHECK(!c.warn);
	cleanup_fixture();
}

TEST(this_host_is_detected_consistently)
{
	cleanup_error husk_err err = NULL;
	struct accel_choice c;
	CHECK_INT(accel_detect(ACCEL_AUTO, &c, &err), ==, 0);
	CHECK(c.accel == ACCEL_TCG ? c.warn : !c.warn);
}

TEST(vhost_net_names_why_it_is_unusable)
{
	char why[200];
	int fd = vhost_net_open_at("/dev/null", why, sizeof(why));
	CHECK(fd >= 0);
	close(fd);
	CHECK_STR(why, "/dev/null usable");
	CHECK_INT(vhost_net_open_at("/nonexistent/vhost-net", why, sizeof(why)), ==, -1);
	CHECK_STR(why, "vhost-net unusable: cannot open /nonexistent/vhost-net: No such file or "
	               "directory");
}

TEST(parse_names)
{
	enum accel_mode m;
	CHECK_INT(accel_parse("kvm", &m), ==, 0);
	CHECK_INT(m, ==, ACCEL_KVM);
	CHECK_INT(accel_parse("KVM", &m), ==, -1);
	CHECK_STR(accel_name(ACCEL_TCG), "tcg");
}
