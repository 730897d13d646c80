/* Running independent work items on all cores, with a progress bar on a
 * terminal. Items are handed out one at a time from a shared counter, so a
 * slow item never holds up the others. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "medseal/util.h"

struct pool {
    size_t n;
    ms_work_fn fn;
    void *ctx;
    atomic_size_t next;
    atomic_size_t done;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        p->fn(p->ctx, i);
        atomic_fetch_add(&p->done, 1);
    }
    return NULL;
}

unsigned ms_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

static void draw(const char *label, size_t done, size_t n)
{
    int width = 30, filled = n ? (int)((double)done / (double)n * width) : width;
    fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu", label ? label : "",
            filled, "##############################", width - filled, "", done, n);
    fflush(stderr);
}

void ms_parallel_for(size_t n, unsigned threads, ms_work_fn fn, void *ctx, const char *label,
                     bool progress)
{
    struct pool p = {n, fn, ctx, 0, 0};
    pthread_t tids[64];
    unsigned started = 0;
    bool bar = progress && isatty(STDERR_FILENO);

    if (threads == 0)
        threads = ms_cpu_count();
    if (threads > 64)
        threads = 64;
    if (threads > n)
        threads = (unsigned)(n ? n : 1);
    for (unsigned t = 1; t < threads; t++)
        if (pthread_create(&tids[started], NULL, worker, &p) == 0)
            started++;
    if (!bar) {
        worker(&p);
    } else {
        /* the calling thread works too, and redraws between items */
        for (;;) {
            size_t i = atomic_fetch_add(&p.next, 1);
            if (i >= p.n)
                break;
            fn(ctx, i);
            atomic_fetch_add(&p.done, 1);
            draw(label, atomic_load(&p.done), n);
        }
    }
    for (unsigned t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    if (bar) {
        draw(label, n, n);
        fputc('\n', stderr);
    }
}
