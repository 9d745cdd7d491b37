/*
 * hist: a latency histogram with bounded relative error (log-linear
 * buckets, 64 per power of two: under 1.6 %), cheap enough to record every
 * delivery, and mergeable (the bench's worker processes add theirs up).
 *
 * Pure: no I/O, no allocation.
 */
#ifndef ROSTRUM_HIST_H
#define ROSTRUM_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) << HIST_SUB_BITS)

struct hist {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at quantile q (0..1): the upper bound of its bucket, never above
 * max. 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
