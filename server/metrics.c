/* metrics.c: Prometheus text rendering of the global counters (metrics.h). */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metrics metrics;

struct buf {
    char *p;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void gauge(struct buf *b, const char *name, const char *help, uint64_t v)
{
    put(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
        (unsigned long long)v);
}

static void counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
    put(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
        (unsigned long long)v);
}

char *metrics_render(int backend_up, size_t *len)
{
    struct buf b = {malloc(8192), 0, 8192, 0};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    gauge(&b, "rostrum_up", "1 while the backend is reachable", (uint64_t)backend_up);
    gauge(&b, "rostrum_connections", "open WebSocket connections", metrics.connections);
    gauge(&b, "rostrum_joined_connections", "WebSocket connections that joined a room",
          metrics.joined);
    gauge(&b, "rostrum_rooms", "rooms known to this node", metrics.rooms);
    counter(&b, "rostrum_frames_in_total", "WebSocket messages received", metrics.frames_in);
    counter(&b, "rostrum_frames_out_total", "frames queued to connections", metrics.frames_out);
    counter(&b, "rostrum_bytes_out_total", "bytes queued to connections", metrics.bytes_out);
    counter(&b, "rostrum_ws_writes_total",
            "writes to WebSocket connections (frames queued together go in one)",
            metrics.ws_writes);
    counter(&b, "rostrum_joins_total", "successful joins", metrics.joins);
    counter(&b, "rostrum_events_committed_total", "events committed by this node",
            metrics.events_committed);
    counter(&b, "rostrum_commit_conflicts_total", "commits refused by the seq check",
            metrics.commit_conflicts);
    counter(&b, "rostrum_send_queue_drops_total",
            "connections closed because their send queue was full", metrics.send_queue_drops);
    counter(&b, "rostrum_http_requests_total", "HTTP requests served", metrics.http_requests);
    gauge(&b, "rostrum_client_addresses",
          "client addresses (named by a trusted proxy, else the peer's) the per-address limits track",
          metrics.client_addresses);
    gauge(&b, "rostrum_forwarded_connections",
          "open WebSockets whose client address a trusted proxy named", metrics.conns_forwarded);
    gauge(&b, "rostrum_unlimited_connections",
          "open WebSockets from a trusted proxy that named no client (no per-address limits)",
          metrics.conns_unlimited);
    put(&b, "# HELP rostrum_upgrades_refused_total WebSocket upgrades refused (429) by the per-address limits\n"
            "# TYPE rostrum_upgrades_refused_total counter\n"
            "rostrum_upgrades_refused_total{reason=\"too_many\"} %llu\n"
            "rostrum_upgrades_refused_total{reason=\"too_fast\"} %llu\n",
        (unsigned long long)metrics.upgrades_too_many, (unsigned long long)metrics.upgrades_too_fast);

    put(&b, "# HELP rostrum_commands_total commands by type and result\n"
            "# TYPE rostrum_commands_total counter\n");
    for (int t = 0; t < PROTO_CMD__COUNT; t++)
        for (int e = 0; e < PROTO_ERR__COUNT; e++)
            if (metrics.commands[t][e])
                put(&b, "rostrum_commands_total{type=\"%s\",result=\"%s\"} %llu\n",
                    proto_cmd_name((enum proto_cmd_type)t), proto_err_code((enum proto_err)e),
                    (unsigned long long)metrics.commands[t][e]);
    put(&b, "# HELP rostrum_errors_total error replies sent, by code\n"
            "# TYPE rostrum_errors_total counter\n");
    for (int e = 1; e < PROTO_ERR__COUNT; e++)
        put(&b, "rostrum_errors_total{code=\"%s\"} %llu\n", proto_err_code((enum proto_err)e),
            (unsigned long long)metrics.errors[e]);
    put(&b, "# HELP rostrum_closes_total WebSocket closes sent, by close code\n"
            "# TYPE rostrum_closes_total counter\n");
    for (int c = 1000; c < 5000; c++)
        if (metrics.closes[c])
            put(&b, "rostrum_closes_total{code=\"%d\"} %llu\n", c,
                (unsigned long long)metrics.closes[c]);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
