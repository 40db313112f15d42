/* husk spec (a default config.json husk can run) and husk features (runc-style JSON). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "husk.h"

static const char default_spec[] =
    "{\n"
    "\t\"ociVersion\": \"" HUSK_OCI_VERSION "\",\n"
    "\t\"process\": {\n"
    "\t\t\"terminal\": false,\n"
    "\t\t\"user\": { \"uid\": 0, \"gid\": 0 },\n"
    "\t\t\"args\": [ \"sh\" ],\n"
    "\t\t\"env\": [ \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", "
    "\"TERM=xterm\" ],\n"
    "\t\t\"cwd\": \"/\",\n"
    "\t\t\"noNewPrivileges\": true\n"
    "\t},\n"
    "\t\"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
    "\t\"hostname\": \"husk\",\n"
    "\t\"mounts\": [\n"
    "\t\t{ \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
    "\t\t{ \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
    "\"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] }\n"
    "\t],\n"
    "\t\"linux\": {\n"
    "\t\t\"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"ipc\" }, { \"type\": \"uts\" }, "
    "{ \"type\": \"mount\" }, { \"type\": \"network\" } ]\n"
    "\t}\n"
    "}\n";

int cmd_spec(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
	                                     {NULL, 0, NULL, 0}};
	const char *bundle = ".";
	char path[PATH_MAX];
	int c;
	while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c != 'b')
			return fprintf(stderr, "usage: husk spec [--bundle DIR]\n"), 2;
		bundle = optarg;
	}
	if (optind != argc)
		return fprintf(stderr, "usage: husk spec [--bundle DIR]\n"), 2;
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	cleanup_close int fd =
	    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno == EEXIST)
		return husk_error_set(err, EEXIST, "spec: File %s exists. Remove it first", path),
		       1;
	size_t len = sizeof(default_spec) - 1;
	if (fd < 0 || write(fd, default_spec, len) != (ssize_t)len)
		return husk_error_set(err, errno, "spec: %s", path), 1;
	return 0;
}

static const char features[] =
    "{\n"
    "    \"ociVersionMin\": \"1.0.0\",\n"
    "    \"ociVersionMax\": \"" HUSK_OCI_VERSION "\",\n"
    "    \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", "
    "\"startContainer\", \"poststart\", \"poststop\"],\n"
    "    \"mountOptions\": [\"ro\", \"rw\", \"nosuid\", \"suid\", \"nodev\", \"dev\", "
    "\"noexec\", \"exec\", \"relatime\", \"strictatime\", \"noatime\", \"nodiratime\", "
    "\"sync\", \"dirsync\", \"bind\", \"rbind\", \"private\", \"rprivate\", \"slave\", "
    "\"rslave\", \"shared\", \"rshared\", \"unbindable\", \"runbindable\", \"tmpcopyup\"],\n"
    "    \"linux\": {\n"
    "        \"namespaces\": [\"mount\", \"pid\", \"uts\", \"ipc\", \"cgroup\", \"network\", "
    "\"user\"],\n"
    "        \"capabilities\": [],\n"
    "        \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, "
    "\"systemdUser\": false},\n"
    "        \"seccomp\": {\"enabled\": true},\n"
    "        \"apparmor\": {\"enabled\": false},\n"
    "        \"selinux\": {\"enabled\": false}\n"
    "    },\n"
    "    \"annotations\": {\n"
    "        \"io.github.husk.vm\": \"true\"\n"
    "    }\n"
    "}\n";

int cmd_features(const struct husk_globals *g, int argc, char **argv, husk_err *err)
{
	if (argc != 1)
		return fprintf(stderr, "usage: husk features\n"), 2;
	fputs(features, stdout);
	return 0;
}
