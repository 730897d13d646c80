/* Arena allocator: blocks are carved from 64 KiB chunks; big requests get a
 * chunk of their own. Everything is freed at once by msi_arena_destroy(). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define CHUNK_SIZE (64u * 1024u)
#define ALIGN 16u

struct chunk {
    struct chunk *next;
    size_t used, size;
    bool mapped;   /* adopted mmap region: munmap, not free */
    void *adopted; /* adopted block (malloc or mmap), NULL for normal chunks */
    _Alignas(16) unsigned char data[];
};

struct msi_arena {
    struct chunk *head;   /* chunk being carved */
    struct chunk *others; /* full chunks, big blocks, adopted regions */
};

struct msi_arena *msi_arena_create(void)
{
    return calloc(1, sizeof(struct msi_arena));
}

static void free_list(struct chunk *c)
{
    while (c) {
        struct chunk *next = c->next;
        if (c->adopted) {
            if (c->mapped)
                munmap(c->adopted, c->size);
            else
                free(c->adopted);
        }
        free(c);
        c = next;
    }
}

void msi_arena_destroy(struct msi_arena *a)
{
    if (!a)
        return;
    free_list(a->head);
    free_list(a->others);
    free(a);
}

static struct chunk *new_chunk(size_t payload)
{
    struct chunk *c = malloc(sizeof *c + payload);
    if (!c)
        return NULL;
    c->next = NULL;
    c->used = 0;
    c->size = payload;
    c->mapped = false;
    c->adopted = NULL;
    return c;
}

void *msi_arena_alloc(struct msi_arena *a, size_t size)
{
    size_t need;
    struct chunk *c;

    if (size > SIZE_MAX - ALIGN)
        return NULL;
    need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    if (need > CHUNK_SIZE / 4) {
        c = new_chunk(need);
        if (!c)
            return NULL;
        c->used = need;
        c->next = a->others;
        a->others = c;
        memset(c->data, 0, need);
        return c->data;
    }
    if (!a->head || a->head->size - a->head->used < need) {
        c = new_chunk(CHUNK_SIZE);
        if (!c)
            return NULL;
        if (a->head) {
            a->head->next = a->others;
            a->others = a->head;
        }
        a->head = c;
    }
    c = a->head;
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, need);
    return p;
}

void *msi_arena_dup(struct msi_arena *a, const void *data, size_t size)
{
    void *p = msi_arena_alloc(a, size);
    if (p && size)
        memcpy(p, data, size);
    return p;
}

bool msi_arena_adopt(struct msi_arena *a, void *ptr, size_t size, bool mapped)
{
    struct chunk *c = new_chunk(0);
    if (!c)
        return false;
    c->adopted = ptr;
    c->size = size;
    c->mapped = mapped;
    c->next = a->others;
    a->others = c;
    return true;
}
