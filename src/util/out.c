/* Buffered output over a sink: small writes are gathered, large ones go
 * straight through. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void msi_out_init(struct msi_out *o, ms_sink_fn sink, void *ctx)
{
    o->sink = sink;
    o->ctx = ctx;
    o->used = 0;
    o->failed = false;
}

static void drain(struct msi_out *o)
{
    if (o->used && !o->failed && o->sink(o->ctx, o->buf, o->used) != 0)
        o->failed = true;
    o->used = 0;
}

void msi_out_put(struct msi_out *o, const void *data, size_t len)
{
    if (o->failed || len == 0)
        return;
    if (len > sizeof o->buf / 2) {
        drain(o);
        if (!o->failed && o->sink(o->ctx, data, len) != 0)
            o->failed = true;
        return;
    }
    if (o->used + len > sizeof o->buf)
        drain(o);
    memcpy(o->buf + o->used, data, len);
    o->used += len;
}

void msi_out_str(struct msi_out *o, const char *s)
{
    msi_out_put(o, s, strlen(s));
}

void msi_out_printf(struct msi_out *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        msi_out_put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

bool msi_out_flush(struct msi_out *o)
{
    drain(o);
    return !o->failed;
}
