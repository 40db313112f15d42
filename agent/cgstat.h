/* Parsing of cgroup v2 statistics files, bounded by the NUL-terminated text read. */
#ifndef HUSK_AGENT_CGSTAT_H
#define HUSK_AGENT_CGSTAT_H

#include <stdint.h>

/* The N of a "key N" line (cpu.stat, memory.events); 0 when absent or malformed. */
uint64_t cgstat_keyed(const char *text, const char *key);
/* The sum of key=N over the lines of io.stat ("MAJ:MIN rbytes=N wbytes=N ..."). */
uint64_t cgstat_io_sum(const char *text, const char *key);
/* A one-value file (memory.current, pids.max): the number, 0 for "max" or garbage. */
uint64_t cgstat_single(const char *text);

#endif
