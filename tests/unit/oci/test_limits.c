/*
 * The one spec contract: every limit of oci/limits.h, at its bound and one past it, through
 * both sides that enforce it: the host's bundle check (bundle_load and bundle_check of a bundle
 * on disk) and the agent's decode of the CreateContainerRequest carrying the same text
 * (request_decode). One past the limit both refuse with the same message, naming the limit; at
 * the limit both accept.
 */
#include "tests/unit/harness/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/request.h"
#include "lib/cleanup.h"
#include "oci/limits.h"
#include "proto/agent.pb-c.h"
#include "shim/lib/bundle.h"

/* a 64-character container id, as containerd and CRI make them */
#define CONTAINER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define BASE         "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}"
#define PROCESS      ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}"

/* writes n elements pre<i>post, comma-separated */
static void repeat(FILE *f, size_t n, const char *pre, const char *post)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s%zu%s", i ? "," : "", pre, i, post);
}

/* writes n times elem, comma-separated */
static void repeat_same(FILE *f, size_t n, const char *elem)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "", elem);
}

static void chars(FILE *f, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		fputc(c, f);
}

static void json_bytes(FILE *f, size_t n)
{
	fputs(PROCESS "}", f);
	fflush(f);
	chars(f, n - (size_t)ftell(f), ' ');
}

static void depth(FILE *f, size_t n)
{
	fputs(PROCESS ",\"x\":", f);
	chars(f, n - 1, '[');
	chars(f, n - 1, ']');
	fputs("}", f);
}

static void string_length(FILE *f, size_t n)
{
	fputs(",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\",\"", f);
	chars(f, n, 'a');
	fputs("\"]}}", f);
}

static void args(FILE *f, size_t n)
{
	fputs(",\"process\":{\"cwd\":\"/\",\"args\":[", f);
	repeat(f, n, "\"a", "\"");
	fputs("]}}", f);
}

static void env(FILE *f, size_t n)
{
	fputs(",\"process\":{\"args\":[\"sh\"],\"env\":[", f);
	repeat(f, n, "\"K", "=v\"");
	fputs("]}}", f);
}

static void gids(FILE *f, size_t n)
{
	fputs(",\"process\":{\"args\":[\"sh\"],\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[",
	      f);
	repeat(f, n, "", "");
	fputs("]}}}", f);
}

static void rlimits(FILE *f, size_t n)
{
	fputs(",\"process\":{\"args\":[\"sh\"],\"rlimits\":[", f);
	repeat(f, n, "{\"type\":\"RLIMIT_NOFILE\",\"soft\":", ",\"hard\":1024}");
	fputs("]}}", f);
}

static void mounts(FILE *f, size_t n)
{
	fputs(PROCESS ",\"mounts\":[", f);
	repeat(f, n, "{\"destination\":\"/m", "\",\"type\":\"tmpfs\"}");
	fputs("]}", f);
}

static void mount_options(FILE *f, size_t n)
{
	fputs(PROCESS ",\"mounts\":[{\"destination\":\"/m\",\"type\":\"tmpfs\",\"options\":[", f);
	repeat_same(f, n, "\"nosuid\"");
	fputs("]}]}", f);
}

static void mount_data(FILE *f, size_t n)
{
	fputs(PROCESS ",\"mounts\":[{\"destination\":\"/m\",\"type\":\"tmpfs\",\"options\":[\"", f);
	chars(f, n, 'x');
	fputs("\"]}]}", f);
}

static void fstype(FILE *f, size_t n)
{
	fputs(PROCESS ",\"mounts\":[{\"destination\":\"/m\",\"type\":\"", f);
	chars(f, n, 't');
	fputs("\"}]}", f);
}

static void path(FILE *f, size_t n)
{
	fputs(",\"process\":{\"args\":[\"sh\"],\"cwd\":\"", f);
	chars(f, n, '/');
	fputs("\"}}", f);
}

static void hostname(FILE *f, size_t n)
{
	fputs(PROCESS ",\"hostname\":\"", f);
	chars(f, n, 'h');
	fputs("\"}", f);
}

static void masks(FILE *f, size_t n)
{
	fputs(PROCESS ",\"linux\":{\"maskedPaths\":[", f);
	repeat(f, n, "\"/m", "\"");
	fputs("]}}", f);
}

static void namespaces(FILE *f, size_t n)
{
	fputs(PROCESS ",\"linux\":{\"namespaces\":[", f);
	repeat(f, n, "{\"type\":\"mount\",\"x\":", "}");
	fputs("]}}", f);
}

static void ns_path(FILE *f, size_t n)
{
	fputs(PROCESS ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc", f);
	chars(f, n - strlen("/proc/1/ns/ipc"), '/');
	fputs("\"}]}}", f);
}

#define SECCOMP PROCESS ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","

static void seccomp_rules(FILE *f, size_t n)
{
	fputs(SECCOMP "\"syscalls\":[", f);
	repeat(f, n, "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":", "}");
	fputs("]}}}", f);
}

static void seccomp_names(FILE *f, size_t n)
{
	fputs(SECCOMP "\"syscalls\":[{\"action\":\"SCMP_ACT_LOG\",\"names\":[", f);
	repeat_same(f, n, "\"read\"");
	fputs("]}]}}}", f);
}

static void seccomp_arches(FILE *f, size_t n)
{
	fputs(SECCOMP "\"architectures\":[", f);
	repeat_same(f, n, "\"SCMP_ARCH_X86_64\"");
	fputs("]}}}", f);
}

static void seccomp_flags(FILE *f, size_t n)
{
	fputs(SECCOMP "\"flags\":[", f);
	repeat_same(f, n, "\"SECCOMP_FILTER_FLAG_LOG\"");
	fputs("]}}}", f);
}

static void seccomp_args(FILE *f, size_t n)
{
	fputs(SECCOMP "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[",
	      f);
	repeat(f, n, "{\"index\":0,\"op\":\"SCMP_CMP_NE\",\"value\":", "}");
	fputs("]}]}}}", f);
}

#define RESOURCES PROCESS ",\"linux\":{\"resources\":{"

static void cgroup_files(FILE *f, size_t n)
{
	fputs(RESOURCES "\"unified\":{", f);
	repeat(f, n, "\"memory.k", "\":\"1\"");
	fputs("}}}}", f);
}

static void hugepages(FILE *f, size_t n)
{
	fputs(RESOURCES "\"hugepageLimits\":[", f);
	repeat(f, n, "{\"pageSize\":\"2MB\",\"limit\":", "}");
	fputs("]}}}", f);
}

static void device_rules(FILE *f, size_t n)
{
	fputs(RESOURCES "\"devices\":[", f);
	repeat(f, n, "{\"allow\":false,\"major\":", ",\"access\":\"rwm\"}");
	fputs("]}}}", f);
}

static void cpuset(FILE *f, size_t n)
{
	fputs(RESOURCES "\"cpu\":{\"cpus\":\"", f);
	chars(f, n, '0');
	fputs("\"}}}}", f);
}

static void sysctls(FILE *f, size_t n)
{
	fputs(PROCESS ",\"linux\":{\"sysctl\":{", f);
	repeat(f, n, "\"fs.mqueue.k", "\":\"1\"");
	fputs("}}}", f);
}

static void sysctl_key(FILE *f, size_t n)
{
	fputs(PROCESS ",\"linux\":{\"sysctl\":{\"fs.mqueue.", f);
	chars(f, n - strlen("fs.mqueue."), 'k');
	fputs("\":\"1\"}}}", f);
}

static void sysctl_value(FILE *f, size_t n)
{
	fputs(PROCESS ",\"linux\":{\"sysctl\":{\"fs.mqueue.msg_max\":\"", f);
	chars(f, n, '1');
	fputs("\"}}}", f);
}

static void devices(FILE *f, size_t n)
{
	fputs(PROCESS ",\"linux\":{\"devices\":[", f);
	repeat(f, n, "{\"type\":\"c\",\"major\":1,\"minor\":3,\"path\":\"/dev/d", "\"}");
	fputs("]}}", f);
}

#define USERNS                                                                                     \
	PROCESS ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],"                                \
	        "\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1}],\"uidMappings\":["

static void idmaps(FILE *f, size_t n)
{
	fputs(USERNS, f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s{\"containerID\":%zu,\"hostID\":%zu,\"size\":1}", i ? "," : "", i,
		        1000 + i);
	fputs("]}}", f);
}

/*
 * uid_map text of exactly n bytes (4095 or 4096): "0 1000000000 1\n" (15 bytes), then 170
 * lines of 24 bytes, the last one's size 10 (25 bytes) for 4096.
 */
static void idmap_text(FILE *f, size_t n)
{
	fputs(USERNS "{\"containerID\":0,\"hostID\":1000000000,\"size\":1}", f);
	for (unsigned j = 1; j <= 170; j++)
		fprintf(f, ",{\"containerID\":%u,\"hostID\":%u,\"size\":%zu}", 1000000000 + 100 * j,
		        2000000000 + 100 * j, j == 170 ? 1 + 9 * (n - 4095) : 1);
	fputs("]}}", f);
}

static void hooks(FILE *f, size_t n)
{
	fputs(PROCESS ",\"hooks\":{\"prestart\":[", f);
	repeat(f, n, "{\"path\":\"/bin/true\",\"args\":[\"true\",\"", "\"]}");
	fputs("]}}", f);
}

static void hook_args(FILE *f, size_t n)
{
	fputs(PROCESS ",\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"args\":[", f);
	repeat(f, n, "\"a", "\"");
	fputs("]}]}}", f);
}

static void hook_timeout(FILE *f, size_t n)
{
	fprintf(
	    f, PROCESS ",\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/true\",\"timeout\":%zu}]}}",
	    n);
}

/*
 * One case per limit: build(f, n) writes what follows BASE, with the limited thing n times (or
 * n bytes long, n deep); at is the largest n accepted, and at + 1 is refused with refusal in the
 * message. A few bounds guard fields whose every valid value is far shorter (a file system
 * type, a namespace path): at their bound the spec is refused for what it says, by both alike.
 */
static const struct limit_case {
	const char *limit;
	size_t at;
	void (*build)(FILE *f, size_t n);
	const char *refusal;
	const char *at_refusal; /* NULL: accepted at the limit */
} cases[] = {
    {"SPEC_MAX_JSON", SPEC_MAX_JSON, json_bytes, "larger than 1048576 bytes", NULL},
    {"SPEC_MAX_DEPTH", SPEC_MAX_DEPTH, depth, "nesting too deep", NULL},
    {"SPEC_MAX_STRING", SPEC_MAX_STRING, string_length, "process.args[1]: longer than 32768 bytes",
     NULL},
    {"SPEC_MAX_ARGS", SPEC_MAX_ARGS, args, "process.args: more than 1024 entries", NULL},
    {"SPEC_MAX_ENV", SPEC_MAX_ENV, env, "process.env: more than 1024 entries", NULL},
    {"SPEC_MAX_GIDS", SPEC_MAX_GIDS, gids, "process.user.additionalGids: more than 64 entries",
     NULL},
    {"SPEC_MAX_RLIMITS", SPEC_MAX_RLIMITS, rlimits, "process.rlimits: more than 16 entries", NULL},
    {"SPEC_MAX_MOUNTS", SPEC_MAX_MOUNTS, mounts, "mounts: more than 64 entries", NULL},
    {"SPEC_MAX_MOUNT_OPTIONS", SPEC_MAX_MOUNT_OPTIONS, mount_options,
     "options: more than 64 entries", NULL},
    {"SPEC_MAX_MOUNT_DATA", SPEC_MAX_MOUNT_DATA, mount_data, "options: longer than 4000 bytes",
     NULL},
    {"SPEC_MAX_FSTYPE", SPEC_MAX_FSTYPE, fstype, "type: longer than 64 bytes", "not supported"},
    {"SPEC_MAX_PATH", SPEC_MAX_PATH - 1, path, "process.cwd: path too long", NULL},
    {"SPEC_MAX_HOST", SPEC_MAX_HOST, hostname, "hostname: longer than 64 bytes", NULL},
    {"SPEC_MAX_MASKS", SPEC_MAX_MASKS, masks, "linux.maskedPaths: more than 128 entries", NULL},
    {"SPEC_MAX_NAMESPACES", SPEC_MAX_NAMESPACES, namespaces,
     "linux.namespaces: more than 16 entries", NULL},
    {"SPEC_MAX_NS_PATH", SPEC_MAX_NS_PATH, ns_path, "path: longer than 64 bytes",
     "of a container in this sandbox"},
    {"SPEC_MAX_RULES", SPEC_MAX_RULES, seccomp_rules, "syscalls: more than 512 entries", NULL},
    {"SPEC_MAX_NAMES", SPEC_MAX_NAMES, seccomp_names, "names: more than 512 entries", NULL},
    {"SPEC_MAX_ARCHES", SPEC_MAX_ARCHES, seccomp_arches, "architectures: more than 16 entries",
     NULL},
    {"SPEC_MAX_SECCOMP_FLAGS", SPEC_MAX_SECCOMP_FLAGS, seccomp_flags, "flags: more than 8 entries",
     NULL},
    {"SPEC_MAX_SECCOMP_ARGS", SPEC_MAX_SECCOMP_ARGS, seccomp_args, "args: more than 6 entries",
     NULL},
    {"SPEC_MAX_CGFILES", SPEC_MAX_CGFILES, cgroup_files, "linux.resources: more than 64 settings",
     NULL},
    {"SPEC_MAX_HUGEPAGES", SPEC_MAX_HUGEPAGES, hugepages,
     "linux.resources.hugepageLimits: more than 8 entries", NULL},
    {"SPEC_MAX_DEVICE_RULES", SPEC_MAX_DEVICE_RULES, device_rules,
     "linux.resources.devices: more than 256 entries", NULL},
    {"SPEC_MAX_CPUSET", SPEC_MAX_CPUSET, cpuset, "linux.resources.cpu.cpus: longer than 128 bytes",
     NULL},
    {"SPEC_MAX_SYSCTL", SPEC_MAX_SYSCTL, sysctls, "linux.sysctl: more than 64 entries", NULL},
    {"SPEC_MAX_SYSCTL_KEY", SPEC_MAX_SYSCTL_KEY, sysctl_key, "longer than 128 bytes", NULL},
    {"SPEC_MAX_SYSCTL_VALUE", SPEC_MAX_SYSCTL_VALUE, sysctl_value,
     "linux.sysctl value: longer than 4096 bytes", NULL},
    {"SPEC_MAX_DEVICES", SPEC_MAX_DEVICES, devices, "linux.devices: more than 64 entries", NULL},
    {"SPEC_MAX_IDMAPS", SPEC_MAX_IDMAPS, idmaps, "linux.uidMappings: more than 340 entries", NULL},
    {"SPEC_IDMAP_TEXT", SPEC_IDMAP_TEXT - 1, idmap_text,
     "linux.uidMappings: longer than the kernel's 4096 bytes", NULL},
    {"HOOKS_MAX", HOOKS_MAX, hooks, "hooks.prestart: more than 64 hooks", NULL},
    {"HOOK_MAX_ARGS", HOOK_MAX_ARGS, hook_args, "hooks.poststop[0].args: more than 1024 entries",
     NULL},
    {"HOOK_MAX_TIMEOUT", HOOK_MAX_TIMEOUT, hook_timeout,
     "hooks.createRuntime[0].timeout: must be a whole number of seconds, 1 to 86400", NULL},
};

static char *spec_text(const struct limit_case *c, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fputs(BASE, f);
	c->build(f, n);
	fclose(f);
	return text;
}

static char bundle_dir[] = "/tmp/husk-limits.XXXXXX";

/* The host's verdict: "" when accepted, else the message after "bundle DIR: config.json: ". */
static char *host_verdict(const char *text)
{
	char path[256];
	struct bundle b;
	cleanup_free char *rootfs = NULL;
	cleanup_error husk_err err = NULL;
	snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		return strdup("cannot write config.json");
	int ret = bundle_load(bundle_dir, &b, &rootfs, &err);
	if (ret == 0) {
		ret = bundle_check(&b, &err);
		bundle_free(&b);
	}
	if (ret == 0)
		return strdup("");
	snprintf(path, sizeof(path), "bundle %s: config.json: ", bundle_dir);
	const char *msg = husk_error_msg(err);
	return strdup(strncmp(msg, path, strlen(path)) == 0 ? msg + strlen(path) : msg);
}

/* The agent's verdict on a CreateContainerRequest carrying text, after "CreateContainer: spec: ".
 */
static char *agent_verdict(const char *text)
{
	static const char prefix[] = "CreateContainer: spec: ";
	Husk__Agent__V1__CreateContainerRequest req =
	    HUSK__AGENT__V1__CREATE_CONTAINER_REQUEST__INIT;
	cleanup_error husk_err err = NULL;
	req.container_id = CONTAINER_ID;
	req.rootfs_tag = CONTAINER_ID;
	req.oci_spec_json.data = (uint8_t *)text;
	req.oci_spec_json.len = strlen(text);
	size_t len = protobuf_c_message_get_packed_size(&req.base);
	cleanup_free uint8_t *buf = malloc(len);
	if (!buf)
		return strdup("out of memory");
	protobuf_c_message_pack(&req.base, buf);
	ProtobufCMessage *m = request_decode("CreateContainer", buf, len, &err);
	if (m) {
		protobuf_c_message_free_unpacked(m, NULL);
		return strdup("");
	}
	const char *msg = husk_error_msg(err);
	return strdup(strncmp(msg, prefix, strlen(prefix)) == 0 ? msg + strlen(prefix) : msg);
}

/* Both sides' verdicts on the case at n agree; *verdict gets it (free it). */
static int verdicts_agree(const struct limit_case *c, size_t n, char **verdict)
{
	cleanup_free char *text = spec_text(c, n);
	cleanup_free char *host = text ? host_verdict(text) : NULL;
	char *agent = text ? agent_verdict(text) : NULL;
	*verdict = agent;
	if (!host || !agent || strcmp(host, agent) != 0) {
		fprintf(stderr, "  %s at %zu: host \"%.200s\", agent \"%.200s\"\n", c->limit, n,
		        host ? host : "(null)", agent ? agent : "(null)");
		return 0;
	}
	return 1;
}

static int at_limit_ok(const struct limit_case *c, const char *verdict)
{
	return c->at_refusal ? strstr(verdict, c->at_refusal) && !strstr(verdict, c->refusal)
	                     : !verdict[0];
}

TEST(every_limit_is_refused_alike_by_host_and_agent_and_accepted_at_its_bound)
{
	char rootfs[sizeof(bundle_dir) + 8];
	CHECK(mkdtemp(bundle_dir));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle_dir);
	CHECK_INT(mkdir(rootfs, 0755), ==, 0);
	size_t failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct limit_case *c = &cases[i];
		cleanup_free char *at = NULL, *over = NULL;
		int ok = verdicts_agree(c, c->at, &at) && at_limit_ok(c, at);
		ok = verdicts_agree(c, c->at + 1, &over) && ok && strstr(over, c->refusal);
		if (!ok) {
			fprintf(stderr, "  %s: at %zu \"%.200s\", at %zu \"%.200s\", want \"%s\"\n",
			        c->limit, c->at, at ? at : "", c->at + 1, over ? over : "",
			        c->refusal);
			failed++;
		}
	}
	char path[sizeof(bundle_dir) + 16];
	snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
	unlink(path);
	rmdir(rootfs);
	rmdir(bundle_dir);
	CHECK_INT(failed, ==, 0);
}
