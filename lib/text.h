/*
 * Untrusted text (the guest's error messages, process names, console lines)
 * made safe for a terminal or a text log: printable ASCII and well-formed
 * UTF-8 from U+00A0 up stay, a backslash becomes "\\", and every other byte
 * (C0 controls such as ESC, DEL, C1 controls, malformed UTF-8) becomes "\xNN".
 * So no escape sequence, carriage return or newline of the sender's reaches
 * the reader, and one log line stays one line.
 */
#ifndef HUSK_TEXT_H
#define HUSK_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Escapes into a string of at most this many bytes (longer text ends in "..."). */
#define TEXT_ESCAPE_MAX 4096

/*
 * Escapes len bytes of in into out (cap bytes, NUL-terminated; text that does
 * not fit is cut at a whole escape and ends in "..."). Returns out.
 */
char *text_escape(char *out, size_t cap, const char *in, size_t len);
/* text_escape of a C string into a malloc'd string of at most TEXT_ESCAPE_MAX bytes; NULL on
 * ENOMEM. */
char *text_escape_dup(const char *in);
/*
 * The number after "key:" and spaces on a line of text ("MemTotal:  1024 kB" in
 * /proc/meminfo, "rchar: 5" in /proc/PID/io), saturating; 0 when absent.
 */
uint64_t text_field_u64(const char *text, const char *key);

#endif
