/* iplimit.c: per-address connection counts and join rate (iplimit.h). */
#include "iplimit.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

struct addr {
    struct addr *next;
    size_t conns;
    double tokens;
    int64_t last_ms;
    char ip[64];
};

struct iplimit {
    size_t max_conns;
    double rate, burst;
    size_t size;
    struct addr *bucket[BUCKETS];
};

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

struct iplimit *iplimit_create(size_t max_conns, double rate, double burst)
{
    struct iplimit *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->max_conns = max_conns;
    l->rate = rate;
    l->burst = burst < 1 ? 1 : burst;
    return l;
}

void iplimit_destroy(struct iplimit *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < BUCKETS; i++)
        for (struct addr *a = l->bucket[i], *n; a; a = n) {
            n = a->next;
            free(a);
        }
    free(l);
}

static struct addr *lookup(struct iplimit *l, const char *ip, bool create, int64_t now)
{
    unsigned h = hash(ip);
    for (struct addr *a = l->bucket[h]; a; a = a->next)
        if (strcmp(a->ip, ip) == 0)
            return a;
    if (!create)
        return NULL;
    struct addr *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    strncpy(a->ip, ip, sizeof a->ip - 1);
    a->tokens = l->burst;
    a->last_ms = now;
    a->next = l->bucket[h];
    l->bucket[h] = a;
    l->size++;
    return a;
}

static void refill(const struct iplimit *l, struct addr *a, int64_t now)
{
    if (now > a->last_ms)
        a->tokens += (double)(now - a->last_ms) * l->rate / 1000.0;
    if (a->tokens > l->burst)
        a->tokens = l->burst;
    a->last_ms = now;
}

enum iplimit_verdict iplimit_admit(struct iplimit *l, const char *ip, int64_t now)
{
    struct addr *a = lookup(l, ip, true, now);
    if (!a)
        return IPLIMIT_TOO_MANY; /* out of memory: refuse rather than track nothing */
    if (l->max_conns && a->conns >= l->max_conns)
        return IPLIMIT_TOO_MANY;
    if (l->rate > 0) {
        refill(l, a, now);
        if (a->tokens < 1.0)
            return IPLIMIT_TOO_FAST;
        a->tokens -= 1.0;
    }
    a->conns++;
    return IPLIMIT_OK;
}

void iplimit_release(struct iplimit *l, const char *ip)
{
    struct addr *a = lookup(l, ip, false, 0);
    if (a && a->conns > 0)
        a->conns--;
}

void iplimit_sweep(struct iplimit *l, int64_t now)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        struct addr **pp = &l->bucket[i];
        while (*pp) {
            struct addr *a = *pp;
            if (l->rate > 0)
                refill(l, a, now);
            if (a->conns == 0 && (l->rate <= 0 || a->tokens >= l->burst)) {
                *pp = a->next;
                free(a);
                l->size--;
            } else {
                pp = &a->next;
            }
        }
    }
}

size_t iplimit_size(const struct iplimit *l)
{
    return l->size;
}
