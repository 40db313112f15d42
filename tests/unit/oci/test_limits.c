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

#define SECCOMP   PROCESS ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
#define RESOURCES PROCESS ",\"linux\":{\"resources\":{"

/*
 * The common shape of a case: head, then the limited thing n long (fill bytes after the
 * fill_from bytes head ends with), or n times pre<i>post (pre alone when post is NULL), then
 * tail.
 */
struct shape {
	const char *head, *pre, *post, *tail;
	char fill;
	size_t fill_from;
};

static void write_shape(FILE *f, const struct shape *s, size_t n)
{
	fputs(s->head, f);
	if (s->fill)
		chars(f, n - s->fill_from, s->fill);
	else if (s->post)
		repeat(f, n, s->pre, s->post);
	else
		repeat_same(f, n, s->pre);
	fputs(s->tail, f);
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

static void hook_timeout(FILE *f, size_t n)
{
	fprintf(
	    f, PROCESS ",\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/true\",\"timeout\":%zu}]}}",
	    n);
}

/*
 * One case per limit: its shape (or build(f, n)) writes what follows BASE, with the limited
 * thing n times (or n bytes long, n deep); at is the largest n accepted, and at + 1 is refused with
 * refusal in the message. A few bounds guard fields whose every valid value is far shorter (a file
 * system type, a namespace path): at their bound the spec is refused for what it says, by both
 * alike.
 */
static const struct limit_case {
	const char *limit;
	size_t at;
	struct shape shape;
	void (*build)(FILE *f, size_t n); /* when the shape does not do */
	const char *refusal;
	const char *at_refusal; /* NULL: accepted at the limit */
} cases[] = {
    {"SPEC_MAX_JSON", SPEC_MAX_JSON, {0}, json_bytes, "larger than 1048576 bytes", NULL},
    {"SPEC_MAX_DEPTH", SPEC_MAX_DEPTH, {0}, depth, "nesting too deep", NULL},
    {"SPEC_MAX_STRING",
     SPEC_MAX_STRING,
     {.head = ",\"process\":{\"cwd\":\"/\",\"args\":[\"sh\",\"", .fill = 'a', .tail = "\"]}}"},
     NULL,
     "process.args[1]: longer than 32768 bytes",
     NULL},
    {"SPEC_MAX_ARGS",
     SPEC_MAX_ARGS,
     {.head = ",\"process\":{\"cwd\":\"/\",\"args\":[", .pre = "\"a", .post = "\"", .tail = "]}}"},
     NULL,
     "process.args: more than 1024 entries",
     NULL},
    {"SPEC_MAX_ENV",
     SPEC_MAX_ENV,
     {.head = ",\"process\":{\"args\":[\"sh\"],\"env\":[",
      .pre = "\"K",
      .post = "=v\"",
      .tail = "]}}"},
     NULL,
     "process.env: more than 1024 entries",
     NULL},
    {"SPEC_MAX_GIDS",
     SPEC_MAX_GIDS,
     {.head = ",\"process\":{\"args\":[\"sh\"],\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[",
      .pre = "",
      .post = "",
      .tail = "]}}}"},
     NULL,
     "process.user.additionalGids: more than 64 entries",
     NULL},
    {"SPEC_MAX_RLIMITS",
     SPEC_MAX_RLIMITS,
     {.head = ",\"process\":{\"args\":[\"sh\"],\"rlimits\":[",
      .pre = "{\"type\":\"RLIMIT_NOFILE\",\"soft\":",
      .post = ",\"hard\":1024}",
      .tail = "]}}"},
     NULL,
     "process.rlimits: more than 16 entries",
     NULL},
    {"SPEC_MAX_MOUNTS",
     SPEC_MAX_MOUNTS,
     {.head = PROCESS ",\"mounts\":[",
      .pre = "{\"destination\":\"/m",
      .post = "\",\"type\":\"tmpfs\"}",
      .tail = "]}"},
     NULL,
     "mounts: more than 64 entries",
     NULL},
    {"SPEC_MAX_MOUNT_OPTIONS",
     SPEC_MAX_MOUNT_OPTIONS,
     {.head = PROCESS ",\"mounts\":[{\"destination\":\"/m\",\"type\":\"tmpfs\",\"options\":[",
      .pre = "\"nosuid\"",
      .tail = "]}]}"},
     NULL,
     "options: more than 64 entries",
     NULL},
    {"SPEC_MAX_MOUNT_DATA",
     SPEC_MAX_MOUNT_DATA,
     {.head = PROCESS ",\"mounts\":[{\"destination\":\"/m\",\"type\":\"tmpfs\",\"options\":[\"",
      .fill = 'x',
      .tail = "\"]}]}"},
     NULL,
     "options: longer than 4000 bytes",
     NULL},
    {"SPEC_MAX_FSTYPE",
     SPEC_MAX_FSTYPE,
     {.head = PROCESS ",\"mounts\":[{\"destination\":\"/m\",\"type\":\"",
      .fill = 't',
      .tail = "\"}]}"},
     NULL,
     "type: longer than 64 bytes",
     "not supported"},
    {"SPEC_MAX_PATH",
     SPEC_MAX_PATH - 1,
     {.head = ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"", .fill = '/', .tail = "\"}}"},
     NULL,
     "process.cwd: path too long",
     NULL},
    {"SPEC_MAX_HOST",
     SPEC_MAX_HOST,
     {.head = PROCESS ",\"hostname\":\"", .fill = 'h', .tail = "\"}"},
     NULL,
     "hostname: longer than 64 bytes",
     NULL},
    {"SPEC_MAX_MASKS",
     SPEC_MAX_MASKS,
     {.head = PROCESS ",\"linux\":{\"maskedPaths\":[", .pre = "\"/m", .post = "\"", .tail = "]}}"},
     NULL,
     "linux.maskedPaths: more than 128 entries",
     NULL},
    {"SPEC_MAX_NAMESPACES",
     SPEC_MAX_NAMESPACES,
     {.head = PROCESS ",\"linux\":{\"namespaces\":[",
      .pre = "{\"type\":\"mount\",\"x\":",
      .post = "}",
      .tail = "]}}"},
     NULL,
     "linux.namespaces: more than 16 entries",
     NULL},
    {"SPEC_MAX_NS_PATH",
     SPEC_MAX_NS_PATH,
     {.head = PROCESS ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc",
      .fill = '/',
      .fill_from = sizeof("/proc/1/ns/ipc") - 1,
      .tail = "\"}]}}"},
     NULL,
     "path: longer than 64 bytes",
     "of a container in this sandbox"},
    {"SPEC_MAX_RULES",
     SPEC_MAX_RULES,
     {.head = SECCOMP "\"syscalls\":[",
      .pre = "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":",
      .post = "}",
      .tail = "]}}}"},
     NULL,
     "syscalls: more than 512 entries",
     NULL},
    {"SPEC_MAX_NAMES",
     SPEC_MAX_NAMES,
     {.head = SECCOMP "\"syscalls\":[{\"action\":\"SCMP_ACT_LOG\",\"names\":[",
      .pre = "\"read\"",
      .tail = "]}]}}}"},
     NULL,
     "names: more than 512 entries",
     NULL},
    {"SPEC_MAX_ARCHES",
     SPEC_MAX_ARCHES,
     {.head = SECCOMP "\"architectures\":[", .pre = "\"SCMP_ARCH_X86_64\"", .tail = "]}}}"},
     NULL,
     "architectures: more than 16 entries",
     NULL},
    {"SPEC_MAX_SECCOMP_FLAGS",
     SPEC_MAX_SECCOMP_FLAGS,
     {.head = SECCOMP "\"flags\":[", .pre = "\"SECCOMP_FILTER_FLAG_LOG\"", .tail = "]}}}"},
     NULL,
     "flags: more than 8 entries",
     NULL},
    {"SPEC_MAX_SECCOMP_ARGS",
     SPEC_MAX_SECCOMP_ARGS,
     {.head = SECCOMP "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[",
      .pre = "{\"index\":0,\"op\":\"SCMP_CMP_NE\",\"value\":",
      .post = "}",
      .tail = "]}]}}}"},
     NULL,
     "args: more than 6 entries",
     NULL},
    {"SPEC_MAX_CGFILES",
     SPEC_MAX_CGFILES,
     {.head = RESOURCES "\"unified\":{", .pre = "\"memory.k", .post = "\":\"1\"", .tail = "}}}}"},
     NULL,
     "linux.resources: more than 64 settings",
     NULL},
    {"SPEC_MAX_HUGEPAGES",
     SPEC_MAX_HUGEPAGES,
     {.head = RESOURCES "\"hugepageLimits\":[",
      .pre = "{\"pageSize\":\"2MB\",\"limit\":",
      .post = "}",
      .tail = "]}}}"},
     NULL,
     "linux.resources.hugepageLimits: more than 8 entries",
     NULL},
    {"SPEC_MAX_DEVICE_RULES",
     SPEC_MAX_DEVICE_RULES,
     {.head = RESOURCES "\"devices\":[",
      .pre = "{\"allow\":false,\"major\":",
      .post = ",\"access\":\"rwm\"}",
      .tail = "]}}}"},
     NULL,
     "linux.resources.devices: more than 256 entries",
     NULL},
    {"SPEC_MAX_CPUSET",
     SPEC_MAX_CPUSET,
     {.head = RESOURCES "\"cpu\":{\"cpus\":\"", .fill = '0', .tail = "\"}}}}"},
     NULL,
     "linux.resources.cpu.cpus: longer than 128 bytes",
     NULL},
    {"SPEC_MAX_SYSCTL",
     SPEC_MAX_SYSCTL,
     {.head = PROCESS ",\"linux\":{\"sysctl\":{",
      .pre = "\"fs.mqueue.k",
      .post = "\":\"1\"",
      .tail = "}}}"},
     NULL,
     "linux.sysctl: more than 64 entries",
     NULL},
    {"SPEC_MAX_SYSCTL_KEY",
     SPEC_MAX_SYSCTL_KEY,
     {.head = PROCESS ",\"linux\":{\"sysctl\":{\"fs.mqueue.",
      .fill = 'k',
      .fill_from = sizeof("fs.mqueue.") - 1,
      .tail = "\":\"1\"}}}"},
     NULL,
     "longer than 128 bytes",
     NULL},
    {"SPEC_MAX_SYSCTL_VALUE",
     SPEC_MAX_SYSCTL_VALUE,
     {.head = PROCESS ",\"linux\":{\"sysctl\":{\"fs.mqueue.msg_max\":\"",
      .fill = '1',
      .tail = "\"}}}"},
     NULL,
     "linux.sysctl value: longer than 4096 bytes",
     NULL},
    {"SPEC_MAX_DEVICES",
     SPEC_MAX_DEVICES,
     {.head = PROCESS ",\"linux\":{\"devices\":[",
      .pre = "{\"type\":\"c\",\"major\":1,\"minor\":3,\"path\":\"/dev/d",
      .post = "\"}",
      .tail = "]}}"},
     NULL,
     "linux.devices: more than 4096 entries",
     NULL},
    {"SPEC_MAX_IDMAPS",
     SPEC_MAX_IDMAPS,
     {0},
     idmaps,
     "linux.uidMappings: more than 340 entries",
     NULL},
    {"SPEC_IDMAP_TEXT",
     SPEC_IDMAP_TEXT - 1,
     {0},
     idmap_text,
     "linux.uidMappings: longer than the kernel's 4096 bytes",
     NULL},
    {"HOOKS_MAX",
     HOOKS_MAX,
     {.head = PROCESS ",\"hooks\":{\"prestart\":[",
      .pre = "{\"path\":\"/bin/true\",\"args\":[\"true\",\"",
      .post = "\"]}",
      .tail = "]}}"},
     NULL,
     "hooks.prestart: more than 64 hooks",
     NULL},
    {"HOOK_MAX_ARGS",
     HOOK_MAX_ARGS,
     {.head = PROCESS ",\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"args\":[",
      .pre = "\"a",
      .post = "\"",
      .tail = "]}]}}"},
     NULL,
     "hooks.poststop[0].args: more than 1024 entries",
     NULL},
    {"HOOK_MAX_TIMEOUT",
     HOOK_MAX_TIMEOUT,
     {0},
     hook_timeout,
     "hooks.createRuntime[0].timeout: must be a whole number of seconds, 1 to 86400",
     NULL},
};

static char *spec_text(const struct limit_case *c, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fputs(BASE, f);
	if (c->build)
		c->build(f, n);
	else
		write_shape(f, &c->shape, n);
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
