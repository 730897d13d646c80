/* Status names, exit codes and the error record. */
#include "medseal/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int exit_code;
} status_table[] = {
    [MS_OK] = {"ok", 0},
    [MS_EPROBLEM] = {"problems found", 1},
    [MS_EUSAGE] = {"usage error", 2},
    [MS_EMALFORMED] = {"malformed input", 3},
    [MS_EKEY] = {"key or authentication failure", 4},
    [MS_EIO] = {"I/O error", 5},
    [MS_EUNSUPPORTED] = {"unsupported input", 3},
    [MS_ELIMIT] = {"limit exceeded", 3},
    [MS_ENOMEM] = {"out of memory", 5},
    [MS_ENOTFOUND] = {"not found", 1},
    [MS_EINTERNAL] = {"internal error", 5},
};

#define STATUS_COUNT (sizeof status_table / sizeof status_table[0])

int ms_status_exit_code(ms_status st)
{
    if ((unsigned)st >= STATUS_COUNT)
        return 5;
    return status_table[st].exit_code;
}

const char *ms_status_name(ms_status st)
{
    if ((unsigned)st >= STATUS_COUNT)
        return "unknown status";
    return status_table[st].name;
}

ms_status ms_error_set(struct ms_error *err, ms_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void ms_error_prefix(struct ms_error *err, const char *fmt, ...)
{
    char head[256];
    char old[sizeof err->msg];
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", head, old);
}
