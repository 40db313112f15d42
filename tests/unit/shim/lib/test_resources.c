/* shim/lib/resources.c: linux.resources shape checks and the VM size they ask for. */
#include <string.h>

#include "lib/cleanup.h"
#include "shim/lib/resources.h"
#include "tests/unit/harness/test.h"

/* Parses s; returns the error message, "" on success. */
static const char *parse_msg(const char *s)
{
	static char msg[512];
	json_object *o = NULL;
	cleanup_error husk_err err = NULL;
	if (resources_parse(s, strlen(s), &o, &err) == 0) {
		json_object_put(o);
		return "";
	}
	snprintf(msg, sizeof(msg), "%s", husk_error_msg(err));
	return msg;
}

TEST(resources_accept_the_spec_shape)
{
	CHECK_STR(parse_msg("{}"), "");
	CHECK_STR(
	    parse_msg("{\"memory\":{\"limit\":67108864,\"swap\":-1,\"disableOOMKiller\":false},"
	              "\"cpu\":{\"shares\":1024,\"quota\":-1,\"period\":100000,\"cpus\":"
	              "\"0-1,3\"},\"pids\":{\"limit\":5},\"devices\":[{\"allow\":false}],"
	              "\"blockIO\":{\"weight\":10},\"unified\":{\"memory.high\":\"max\"}} \n"),
	    "");
}

TEST(resources_reject_bad_shapes_naming_the_field)
{
	CHECK_STR(parse_msg("[]"), "linux.resources: must be an object");
	CHECK_STR(parse_msg("{\"memory\":{\"limit\":\"64m\"}}"),
	          "linux.resources.memory.limit: must be an integer");
	CHECK_STR(parse_msg("{\"pids\":{\"limit\":1,\"max\":2}}"),
	          "linux.resources.pids.max: unknown field");
	CHECK_STR(parse_msg("{\"cpu\":{\"shares\":-1}}"),
	          "linux.resources.cpu.shares: must be a non-negative integer");
	CHECK_STR(parse_msg("{\"cpu\":{\"cpus\":\"1-0\"}}"),
	          "linux.resources.cpu.cpus: \"1-0\" is not a list of CPUs 0..63");
	CHECK_STR(parse_msg("{\"cpu\":{\"cpus\":\"0,\"}}"),
	          "linux.resources.cpu.cpus: \"0,\" is not a list of CPUs 0..63");
	CHECK_STR(parse_msg("{\"cpu\":{\"cpus\":\"64\"}}"),
	          "linux.resources.cpu.cpus: \"64\" is not a list of CPUs 0..63");
	CHECK_STR(parse_msg("{\"devices\":[1]}"), "linux.resources.devices[0]: must be an object");
	CHECK_STR(parse_msg("{\"unified\":{\"a\":1}}"),
	          "linux.resources.unified.a: must be a string");
	CHECK_STR(parse_msg("{\"memory\":{}"), "invalid JSON at byte 12: unexpected end of input");
	CHECK_STR(parse_msg("{} x"), "invalid JSON at byte 3: trailing data");
	CHECK(
	    strstr(parse_msg("{\"a\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}"), "invalid JSON"));
}

static void size_of(const char *spec, unsigned host_cpus, uint64_t host_mib, unsigned *vcpus,
                    unsigned *mib, int *ret)
{
	struct resource_limits l;
	cleanup_error husk_err err = NULL;
	*vcpus = 1;
	*mib = 256;
	*ret = resources_from_spec(spec, strlen(spec), &l, &err);
	if (*ret == 0)
		resources_vm_size(&l, host_cpus, host_mib, vcpus, mib);
}

TEST(vm_size_follows_the_limits)
{
	unsigned vcpus, mib;
	int ret;
	size_of("{\"ociVersion\":\"1\"}", 8, 4096, &vcpus, &mib, &ret);
	CHECK_INT(ret, ==, 0);
	CHECK_INT(vcpus, ==, 1);
	CHECK_INT(mib, ==, 256);
	size_of("{\"linux\":{\"resources\":{\"memory\":{\"limit\":67108865},\"cpu\":{\"quota\":"
	        "150000,\"period\":100000}}}}",
	        8, 4096, &vcpus, &mib, &ret);
	CHECK_INT(vcpus, ==, 2);
	CHECK_INT(mib, ==, 65 + VM_MEMORY_OVERHEAD_MIB);
	/* the cpuset wins: the guest needs CPU 3 to exist; capped by the host */
	size_of("{\"linux\":{\"resources\":{\"cpu\":{\"quota\":100000,\"cpus\":\"3\"}}}}", 8, 4096,
	        &vcpus, &mib, &ret);
	CHECK_INT(vcpus, ==, 4);
	size_of("{\"linux\":{\"resources\":{\"cpu\":{\"quota\":900000000}}}}", 2, 4096, &vcpus,
	        &mib, &ret);
	CHECK_INT(vcpus, ==, 2);
	/* no limit (-1, 0) keeps the default; a huge one is capped by the host and QEMU */
	size_of("{\"linux\":{\"resources\":{\"memory\":{\"limit\":-1},\"cpu\":{\"quota\":-1}}}}", 8,
	        4096, &vcpus, &mib, &ret);
	CHECK_INT(mib, ==, 256);
	CHECK_INT(vcpus, ==, 1);
	size_of("{\"linux\":{\"resources\":{\"memory\":{\"limit\":9223372036854775807}}}}", 8, 0,
	        &vcpus, &mib, &ret);
	CHECK_INT(mib, ==, VM_MEMORY_MAX_MIB);
	size_of("{\"linux\":{\"resources\":{\"memory\":{\"limit\":9223372036854775807}}}}", 8, 4096,
	        &vcpus, &mib, &ret);
	CHECK_INT(mib, ==, 4096);
	size_of("{\"linux\":{\"resources\":{\"memory\":{\"limit\":true}}}}", 8, 4096, &vcpus, &mib,
	        &ret);
	CHECK_INT(ret, ==, -1);
}
