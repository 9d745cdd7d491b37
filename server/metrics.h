/*
 * metrics: the process's counters, rendered in the Prometheus text format at
 * /metrics. One global instance: the server is one thread, so plain
 * integers suffice. Never holds a token, secret or key.
 */
#ifndef ROSTRUM_METRICS_H
#define ROSTRUM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct metrics {
    uint64_t connections;          /* open WebSocket connections (gauge) */
    uint64_t joined;               /* joined connections (gauge) */
    uint64_t rooms;                /* rooms on this node (gauge) */
    uint64_t frames_in;            /* WebSocket messages received */
    uint64_t frames_out;           /* frames queued to connections */
    uint64_t bytes_out;
    uint64_t ws_writes;            /* writes to WebSocket connections: each
                                    * carries every frame queued, up to 64 KiB */
    uint64_t commands[PROTO_CMD__COUNT][PROTO_ERR__COUNT]; /* [type][result] */
    uint64_t errors[PROTO_ERR__COUNT]; /* error replies sent, by code */
    uint64_t closes[5000];         /* close codes sent (1000..4999) */
    uint64_t send_queue_drops;     /* connections cut for a full send queue */
    uint64_t events_committed;
    uint64_t commit_conflicts;
    uint64_t http_requests;
    uint64_t joins;
    /* Per client address (realip.h: behind a trusted proxy, the address it
     * names), not per socket peer. */
    uint64_t client_addresses;     /* addresses the per-address limits track (gauge) */
    uint64_t conns_forwarded;      /* open WebSockets whose client a proxy named (gauge) */
    uint64_t conns_unlimited;      /* open WebSockets from a trusted proxy naming no client (gauge) */
    uint64_t upgrades_too_many;    /* upgrades refused: too many from the client's address */
    uint64_t upgrades_too_fast;    /* upgrades refused: too fast from the client's address */
};

extern struct metrics metrics;

/* Renders every metric. backend_up: 1 when the backend is reachable.
 * Returns a new string (free()), length in *len; NULL on allocation failure. */
char *metrics_render(int backend_up, size_t *len);

#endif
