/*
 * Guest kernel module loader. The initrd carries the modules husk needs as
 * plain .ko files in <dir>/modules/ and their load order (dependencies first)
 * in <dir>/modules.order, one file name per line.
 */
#ifndef HUSK_MODLOAD_H
#define HUSK_MODLOAD_H

#include "lib/error.h"

/* Longest accepted line (module file name) in the order file. */
#define MODLOAD_NAME_MAX 128

/*
 * Loads every module listed in order_file (e.g. "/husk/modules.order") from
 * the "modules" directory beside it, in file order, with finit_module(2).
 * A module that is already loaded (EEXIST) counts as loaded. Stops at the
 * first failure with an error naming the module.
 */
int modload_all(const char *order_file, husk_err *err);

#endif
