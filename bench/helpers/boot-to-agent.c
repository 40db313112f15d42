/*
 * The bare-boot baseline for bench/coldstart.sh: starts a sandbox exactly as
 * `husk run` does (husk-vsockd, virtiofsd, QEMU with the same kernel and
 * initrd), waits until the agent answers Health, then tears it down. No
 * bundle, no container.
 * Usage: boot-to-agent [--config FILE] ROOT ID
 */
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "shim/lib/config.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "shim/lib/sandbox.h"

int main(int argc, char **argv)
{
	cleanup_error husk_err err = NULL;
	struct husk_config cfg;
	const char *config = NULL;
	int argi = 1;

	log_init("boot-to-agent");
	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		config = argv[2];
		argi = 3;
	}
	if (argc - argi != 2) {
		fprintf(stderr, "usage: boot-to-agent [--config FILE] ROOT ID\n");
		return 2;
	}
	if (config_load(config, &cfg, &err) < 0) {
		fprintf(stderr, "boot-to-agent: %s\n", husk_error_msg(err));
		return 1;
	}
	struct husk_loop *loop = husk_loop_new(&err);
	struct sandbox *sb =
	    loop ? sandbox_create(loop, argv[argi], argv[argi + 1], &cfg, &err) : NULL;
	int ret = sb && sandbox_boot(sb, &err) == 0 ? 0 : 1;
	if (ret)
		fprintf(stderr, "boot-to-agent: %s\n", husk_error_msg(err));
	sandbox_destroy(sb);
	husk_loop_free(loop);
	config_free(&cfg);
	return ret;
}
