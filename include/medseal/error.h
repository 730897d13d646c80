/* medseal — status codes and the caller-owned error record.
 *
 * Every fallible library function returns an ms_status and takes an optional
 * struct ms_error * that it fills with a one-line cause. Reporting an error
 * never allocates. */
#ifndef MEDSEAL_ERROR_H
#define MEDSEAL_ERROR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MS_NODISCARD __attribute__((warn_unused_result))
#define MS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define MS_NODISCARD
#define MS_PRINTF(fmt, args)
#endif

/** Status of a library call. The program's exit code is ms_status_exit_code(). */
typedef enum ms_status {
    MS_OK = 0,
    MS_EPROBLEM = 1,     /* checked and found problems (invalid, tampered) */
    MS_EUSAGE = 2,       /* bad arguments */
    MS_EMALFORMED = 3,   /* malformed input */
    MS_EKEY = 4,         /* wrong key, failed authentication, untrusted signer */
    MS_EIO = 5,          /* I/O or system error */
    MS_EUNSUPPORTED = 6, /* well-formed but not supported (exit 3) */
    MS_ELIMIT = 7,       /* a size or nesting limit was exceeded (exit 3) */
    MS_ENOMEM = 8,       /* out of memory (exit 5) */
    MS_ENOTFOUND = 9,    /* a requested item is absent (exit 1) */
    MS_EINTERNAL = 10    /* a bug or an impossible state (exit 5) */
} ms_status;

/** Caller-owned error record: a status and a one-line message. */
struct ms_error {
    ms_status code;
    char msg[256];
};

/** Exit code of the medseal program for a status: 0 ok, 1 problems found,
 * 2 usage, 3 malformed or unsupported input, 4 key or authentication failure,
 * 5 I/O or system error. */
int ms_status_exit_code(ms_status st);

/** A short English name of a status ("malformed input"). Static string. */
const char *ms_status_name(ms_status st);

/** Fill err (if not NULL) with code and a printf-formatted message; returns
 * code so that callers can write `return ms_error_set(err, ...)`. */
ms_status ms_error_set(struct ms_error *err, ms_status code, const char *fmt, ...)
    MS_PRINTF(3, 4);

/** Prefix err's message with "prefix: " (truncating if needed). */
void ms_error_prefix(struct ms_error *err, const char *fmt, ...) MS_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif
#endif
