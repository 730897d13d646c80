/* Findings: severity names and the one helper every check reports through. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "series/series_internal.h"

static const char *const severity_names[] = {"info", "warning", "error"};

const char *ms_severity_name(ms_severity s)
{
    return (unsigned)s < sizeof severity_names / sizeof *severity_names ? severity_names[s] : "?";
}

void msi_report(ms_finding_fn fn, void *ctx, ms_severity sev, const char *instance,
                const char *check, uint32_t tag, const char *attribute, const char *module,
                const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    struct ms_finding f;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) /* values quoted from the input: keep one line */
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = '?';
    f.severity = sev;
    f.instance = instance ? instance : "";
    f.check = check ? check : "";
    f.tag = tag;
    f.attribute = attribute ? attribute : "";
    f.module = module ? module : "";
    f.message = msg;
    fn(ctx, &f);
}

const char *msi_strdup(struct msi_arena *a, const char *s)
{
    if (!s || !*s)
        return "";
    return msi_arena_dup(a, s, strlen(s) + 1);
}
