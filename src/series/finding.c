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

size_t msi_path_push(char path[MSI_PATH_TEXT], uint32_t tag, size_t item)
{
    size_t old = strlen(path);
    const struct ms_dict_entry *d = ms_dict_find(tag);
    char name[80];
    if (d && d->keyword && d->keyword[0])
        snprintf(name, sizeof name, "%s", d->keyword);
    else
        snprintf(name, sizeof name, "(%04X,%04X)", MS_TAG_GROUP(tag), MS_TAG_ELEMENT(tag));
    if (item)
        snprintf(path + old, MSI_PATH_TEXT - old, "%s[%zu]>", name, item);
    else
        snprintf(path + old, MSI_PATH_TEXT - old, "%s", name);
    return old;
}
