/*
 * Error object passed last to every fallible function (crun habit).
 * A failing function sets *err and returns -1; callers propagate the -1 and
 * may add context with husk_error_prefix(), so the final message reads
 * "create abc: bundle /x: config.json: No such file or directory".
 */
#ifndef HUSK_ERROR_H
#define HUSK_ERROR_H

typedef struct husk_error {
	int code;  /* errno-style cause, 0 if none */
	char *msg; /* never NULL */
} husk_error;

typedef husk_error *husk_err; /* NULL means no error */

/*
 * Sets *err to fmt (plus ": strerror(code)" when code != 0). Returns -1. Never leaves *err
 * NULL: without memory for the error, *err is a shared "out of memory" error (code ENOMEM)
 * that husk_error_free does not free and the functions below leave as it is.
 */
int husk_error_set(husk_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Makes code the errno-style cause of the error in *err, its message unchanged. Returns -1. */
int husk_error_set_code(husk_err *err, int code);
/* Prepends "fmt: " to the message in *err. Returns -1. */
int husk_error_prefix(husk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void husk_error_free(husk_err *err);
/* Message of *err, or "unknown error". */
const char *husk_error_msg(husk_err err);

static inline void cleanup_error_fn(husk_err *err)
{
	husk_error_free(err);
}
#define cleanup_error __attribute__((cleanup(cleanup_error_fn)))

#endif
