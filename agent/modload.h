/*
 * Guest kernel module loader. The initrd carries the modules husk needs as
 * plain .ko files in <dir>/modules/, the load order (dependencies first) of
 * those loaded at boot in <dir>/modules.order, one file name per line, and
 * modules.dep and modules.alias for those the kernel asks for on demand, which
 * may be gzipped (<name>.ko.gz, found when <name>.ko is not there).
 */
#ifndef HUSK_MODLOAD_H
#define HUSK_MODLOAD_H

#include "lib/error.h"

/* Longest accepted line (module file name) in the order file. */
#define MODLOAD_NAME_MAX 128
/* Longest line of modules.dep and modules.alias, most dependencies of a module */
#define MODLOAD_LINE_MAX 1024
#define MODLOAD_DEPS_MAX 64
/* Largest module unpacked from NAME.ko.gz (bridge.ko, among the largest, is 640 KiB) */
#define MODLOAD_SIZE_MAX (16 << 20)

/*
 * Loads every module listed in order_file (e.g. "/husk/modules.order") from
 * the "modules" directory beside it, in file order, with finit_module(2).
 * A module that is already loaded (EEXIST) counts as loaded. Stops at the
 * first failure with an error naming the module.
 */
int modload_all(const char *order_file, husk_err *err);

/*
 * The guest's modprobe, which the kernel runs for request_module(name) (an
 * `ip link add type bridge`, an nftables socket, a mount of overlay): name is
 * a module (dashes as underscores) or an alias of modules.alias in dir
 * (fnmatch patterns, as depmod writes them); the module and its dependencies
 * (modules.dep, depmod's format with bare file names) are loaded from
 * dir/modules. A module already loaded counts as loaded.
 */
int modload_probe(const char *dir, const char *name, husk_err *err);

#endif
