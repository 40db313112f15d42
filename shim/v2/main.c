/*
 * containerd-shim-husk-v2 [-namespace NS] [-address A] [-publish-binary P]
 * [-id ID] [-bundle B] [-debug] [start|delete]: containerd's runtime v2 shim
 * for husk (runtime_type io.containerd.husk.v2). Flags follow Go's flag
 * package (one or two dashes, "-flag value" or "-flag=value").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "shim.h"

struct flag {
	const char *name;
	const char **value; /* NULL: a boolean */
	bool *set;
};

static int parse_args(int argc, char **argv, struct shim_args *a)
{
	const struct flag flags[] = {
	    {"namespace", &a->ns, NULL},
	    {"address", &a->address, NULL},
	    {"publish-binary", &a->publish_binary, NULL},
	    {"id", &a->id, NULL},
	    {"bundle", &a->bundle, NULL},
	    {"debug", NULL, &a->debug},
	    {"socket", NULL, NULL},
	};
	int i;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *name = argv[i] + (argv[i][1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct flag *f = NULL;
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strlen(flags[k].name) == len && !strncmp(flags[k].name, name, len))
				f = &flags[k];
		if (!f) {
			fprintf(stderr, "%s: unknown flag %s\n", SHIM_NAME, argv[i]);
			return -1;
		}
		if (!f->value) {
			if (f->set)
				*f->set = !eq || strcmp(eq + 1, "false") != 0;
			continue;
		}
		if (eq) {
			*f->value = eq + 1;
		} else if (i + 1 < argc) {
			*f->value = argv[++i];
		} else {
			fprintf(stderr, "%s: flag %s needs a value\n", SHIM_NAME, argv[i]);
			return -1;
		}
	}
	if (i < argc)
		a->action = argv[i++];
	if (i < argc) {
		fprintf(stderr, "%s: unexpected argument %s\n", SHIM_NAME, argv[i]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct shim_args a = {.ns = "default", .address = ""};
	if (parse_args(argc, argv, &a) < 0)
		return 2;
	log_init(SHIM_NAME);
	log_set_level(a.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (!a.id) {
		fprintf(stderr, "%s: -id is required\n", SHIM_NAME);
		return 2;
	}
	if (!a.action)
		return shim_serve(&a);
	if (!strcmp(a.action, "start"))
		return shim_action_start(&a);
	if (!strcmp(a.action, "delete"))
		return shim_action_delete(&a);
	fprintf(stderr, "%s: unknown action %s (start, delete)\n", SHIM_NAME, a.action);
	return 2;
}
