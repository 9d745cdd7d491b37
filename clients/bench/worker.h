/*
 * worker: one load-generating process. It owns a share of the run's
 * connections (connection i belongs to worker i % procs) on one epoll loop
 * over raw non-blocking sockets: connect, upgrade, join, then the
 * scenario's traffic, counting every delivery and its latency.
 *
 * The run goes in two phases so that several workers (processes) can be
 * lined up: worker_connect() opens and joins every connection, and
 * worker_traffic() sends and receives (or holds, for idle) and drains.
 * The parent reads each worker's struct wresult (sent over a socketpair
 * when the worker is another process) and adds them up.
 */
#ifndef ROSTRUM_WORKER_H
#define ROSTRUM_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hist.h"

enum bench_scenario { SC_PLENARY, SC_ROOMS, SC_STORM, SC_IDLE, SC_SPEAKERS };

struct bench_target {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char request[1024];        /* the HTTP upgrade request */
    size_t request_len;
};

/* What every worker needs; read-only once the run starts. */
struct bench_plan {
    enum bench_scenario scenario;
    size_t conns;              /* total, all workers */
    size_t rooms;
    size_t per_room;           /* connection i is in room i / per_room */
    size_t delegates;          /* per room: the first ones of each room */
    char **room_ids;           /* rooms entries */
    struct bench_target *targets;
    size_t n_targets;          /* connection i uses target i % n_targets */
    uint32_t src_lo, src_hi;   /* source IPv4 range (host order); 0: any */
    const struct proto_keyring *keys; /* the server's token keys; the first signs */
    double rate;               /* says per second in total; 0: closed loop */
    size_t size;               /* bytes of message text */
    int64_t duration_us;
    size_t window;             /* closed loop: messages in flight */
    size_t concurrency;        /* connections being set up at once */
    int64_t hold_us;           /* idle */
    int64_t connect_timeout_us;
    int64_t drain_timeout_us;
    unsigned procs;
    bool verbose;
    bool full_state;           /* join without "deltas" (the whole queue in events) */
    /* speakers: connection 0 chairs, 1..list_len are the list's delegates,
     * the rest observe */
    size_t list_len;
    int64_t grant_every_us;
};

/* A worker's counters (times are CLOCK_MONOTONIC microseconds, 0 = never). */
struct wresult {
    uint64_t conns, joined, failed, closed;
    uint64_t sent, acked, refused, delivered, errors, pongs, throttled;
    uint64_t event_bytes;      /* bytes of the event frames counted as deliveries */
    uint64_t chair_events;     /* speakers: events the chair received (each goes to all) */
    int64_t t_first_connect, t_last_join;
    int64_t t_first_send, t_last_send, t_last_delivery;
    struct hist lat;           /* delivery latency (idle: ping round trip) */
    struct hist join;          /* connect start to welcome */
    char first_error[200];
};

struct worker;

/* Creates worker k of plan->procs (NULL with a message on stderr).
 * plan is borrowed for the worker's life. */
struct worker *worker_create(const struct bench_plan *plan, unsigned k);
void worker_destroy(struct worker *w); /* NULL is a no-op */

/* Opens and joins every connection of this worker. Returns when each one
 * has joined or failed, or after plan->connect_timeout_us. */
void worker_connect(struct worker *w);
/* Joined connections of this worker per room (plan->rooms entries). */
const uint64_t *worker_joined_per_room(const struct worker *w);

/* Runs the scenario's traffic. room_sizes: joined connections per room over
 * all workers (the expected deliveries per message). */
void worker_traffic(struct worker *w, const uint64_t *room_sizes);

/* Results so far; acked says per room in acked (plan->rooms entries). */
const struct wresult *worker_result(const struct worker *w);
const uint64_t *worker_acked_per_room(const struct worker *w);

/* Monotonic clock in microseconds. */
int64_t worker_now_us(void);

#endif
