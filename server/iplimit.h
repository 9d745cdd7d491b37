/*
 * iplimit: what one source address may do: how many WebSockets it holds
 * and how fast it opens new ones (a token bucket). Bad input and floods
 * cost the sender, never the meeting.
 *
 * Pure bookkeeping: no I/O, time is an argument. One table per process.
 */
#ifndef ROSTRUM_IPLIMIT_H
#define ROSTRUM_IPLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iplimit;

/* max_conns: WebSockets per address (0: no limit); rate, burst: new
 * WebSockets per second per address (0: no limit). Returns a new table
 * (iplimit_destroy()) or NULL. */
struct iplimit *iplimit_create(size_t max_conns, double rate, double burst);
void iplimit_destroy(struct iplimit *l); /* NULL is a no-op */

enum iplimit_verdict { IPLIMIT_OK, IPLIMIT_TOO_MANY, IPLIMIT_TOO_FAST };

/* A new WebSocket from addr at now_ms: counted when IPLIMIT_OK (then call
 * iplimit_release() when it closes). */
enum iplimit_verdict iplimit_admit(struct iplimit *l, const char *addr, int64_t now_ms);
void iplimit_release(struct iplimit *l, const char *addr);
/* Forgets addresses with no connection whose bucket is full again. */
void iplimit_sweep(struct iplimit *l, int64_t now_ms);
/* Addresses remembered (for tests and metrics). */
size_t iplimit_size(const struct iplimit *l);

#endif
