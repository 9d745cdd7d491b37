/*
 * worker.c: one load-generating process (worker.h).
 *
 * Sockets are edge-triggered (EPOLLET): one epoll_ctl per connection for
 * its whole life, EPOLLOUT reported once when the connect completes and
 * again only after a write that did not fit. A read shorter than the
 * buffer means the socket is drained (stream sockets report every new
 * arrival as a new edge), so a busy connection costs one read per wake-up.
 *
 * Received frames are parsed in place in one shared buffer; a frame split
 * across reads is kept per connection until its end arrives. Only the
 * message type and, for chat events, the marker "#B<send time>:<id>:" at the
 * start of our own text are looked at: decoding whole JSON documents would
 * make the load generator slower than the server it measures. The speakers
 * scenario looks at an event's name and "ts" the same way, and every event
 * frame's size is counted (bytes per delivery, full against delta form).
 */
#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "wsproto.h"

#define RBUF_BYTES (256 * 1024)
#define MAX_EVENTS 1024
#define RING 65536                  /* closed loop: messages tracked */
#define PACE_INTERVAL_US (1000000 / 19) /* a delegate stays under the server's 20/s */
#define PACE_BURST 30               /* ... and under its burst of 40 */
#define STALL_US (10 * 1000000)     /* closed loop: nothing received this long = lost */
#define QUIET_US (2 * 1000000)      /* drain: no delivery this long = done */
#define MARKER "#B"

enum cstate { C_IDLE, C_CONNECTING, C_UPGRADING, C_JOINING, C_JOINED, C_DEAD };

struct conn {
    int fd;
    uint8_t state;
    bool delegate;
    bool chair;                  /* speakers: grants the floor */
    bool want_request;           /* speakers: was granted; asks again */
    uint32_t gid;                /* index over all workers */
    uint32_t room;
    int64_t t_start;             /* connect start */
    int64_t pace_tat;            /* delegates: GCRA theoretical arrival time */
    int64_t ping_at;             /* idle: when our ping left */
    unsigned char *part;         /* an incomplete frame (or answer head) */
    uint32_t part_len, part_cap;
    unsigned char *wout;         /* bytes the socket did not take yet */
    uint32_t wout_len;
    unsigned char *join;         /* the join frame, until sent */
    uint32_t join_len;
};

struct inflight {
    uint64_t id;
    uint32_t count, expected;
};

struct worker {
    const struct bench_plan *p;
    unsigned k;
    int ep;
    struct conn *c;
    size_t n;
    size_t next_start, setting_up;
    struct conn **dels;          /* this worker's delegates, rooms interleaved */
    size_t n_dels, next_del;
    uint64_t *joined_r, *acked_r;
    const uint64_t *room_sizes;  /* joined per room, all workers */
    bool closed_loop;
    struct wresult r;
    struct inflight *ring;
    uint64_t next_msg;
    size_t in_flight;
    int64_t last_progress;
    uint32_t rng;
    unsigned char *rbuf;
    char *pad;
    bool counting;               /* speakers: the traffic phase has begun */
};

int64_t worker_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t rnd(struct worker *w)
{
    /* xorshift32: masking keys need not be secret here, only varied */
    uint32_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return w->rng = x;
}

static void note_error(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_error(struct worker *w, const char *fmt, ...)
{
    char msg[sizeof w->r.first_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->r.errors++;
    if (!w->r.first_error[0])
        memcpy(w->r.first_error, msg, sizeof msg);
    if (w->p->verbose)
        fprintf(stderr, "rostrum-bench: worker %u: %s\n", w->k, msg);
}

/* ---- connection life ---- */

static void conn_close(struct worker *w, struct conn *c)
{
    if (c->state == C_DEAD || c->state == C_IDLE)
        return;
    if (c->state == C_JOINED) {
        w->joined_r[c->room]--;
        w->r.closed++;
    } else {
        w->setting_up--;
        w->r.failed++;
    }
    c->state = C_DEAD;
    close(c->fd);
    c->fd = -1;
    free(c->part);
    free(c->wout);
    free(c->join);
    c->part = c->wout = c->join = NULL;
    c->part_len = c->part_cap = c->wout_len = c->join_len = 0;
}

static void conn_fail(struct worker *w, struct conn *c, const char *what, const char *detail)
{
    note_error(w, "%s%s", what, detail ? detail : "");
    conn_close(w, c);
}

/* Sends buf, keeping what the socket does not take for EPOLLOUT. */
static void conn_write(struct worker *w, struct conn *c, const unsigned char *buf, size_t len)
{
    if (c->wout_len == 0) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n == (ssize_t)len)
            return;
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                conn_fail(w, c, "send: ", strerror(errno));
                return;
            }
            n = 0;
        }
        buf += n;
        len -= (size_t)n;
    }
    unsigned char *nb = realloc(c->wout, c->wout_len + len);
    if (!nb) {
        conn_fail(w, c, "out of memory", NULL);
        return;
    }
    memcpy(nb + c->wout_len, buf, len);
    c->wout = nb;
    c->wout_len += (uint32_t)len;
}

static void conn_flush(struct worker *w, struct conn *c)
{
    if (c->wout_len == 0)
        return;
    ssize_t n = send(c->fd, c->wout, c->wout_len, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_fail(w, c, "send: ", strerror(errno));
        return;
    }
    memmove(c->wout, c->wout + n, c->wout_len - (size_t)n);
    c->wout_len -= (uint32_t)n;
}

static void conn_start(struct worker *w, struct conn *c, int64_t now)
{
    const struct bench_plan *p = w->p;
    const struct bench_target *t = &p->targets[c->gid % p->n_targets];
    int one = 1;
    c->t_start = now;
    if (!w->r.t_first_connect)
        w->r.t_first_connect = now;
    c->state = C_CONNECTING;
    w->setting_up++;
    c->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_fail(w, c, "socket: ", strerror(errno));
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (p->src_lo) {
        /* Spread over loopback source addresses; the port is chosen at
         * connect time, so each address offers the whole port range per
         * destination instead of one port per bind. */
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(p->src_lo + c->gid % (p->src_hi - p->src_lo + 1));
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            conn_fail(w, c, "bind to the source address: ", strerror(errno));
            return;
        }
    }
    if (connect(c->fd, (const struct sockaddr *)&t->addr, t->addrlen) != 0 && errno != EINPROGRESS) {
        conn_fail(w, c, "connect: ", strerror(errno));
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        conn_fail(w, c, "epoll_ctl: ", strerror(errno));
}

static void on_connected(struct worker *w, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        conn_fail(w, c, "connect: ", strerror(err ? err : errno));
        return;
    }
    const struct bench_target *t = &w->p->targets[c->gid % w->p->n_targets];
    c->state = C_UPGRADING;
    conn_write(w, c, (const unsigned char *)t->request, t->request_len);
}

/* ---- what arrives ---- */

/* memmem() is a GNU extension; this is all the searching we need. */
static const unsigned char *find(const unsigned char *p, size_t len, const char *needle, size_t nl)
{
    const unsigned char *end = p + len;
    while (len >= nl) {
        const unsigned char *q = memchr(p, needle[0], len - nl + 1);
        if (!q)
            return NULL;
        if (memcmp(q, needle, nl) == 0)
            return q;
        p = q + 1;
        len = (size_t)(end - p);
    }
    return NULL;
}

/* The message type from the first bytes: both servers put "type" first;
 * anything else is found by a search. */
static char type_of(const unsigned char *p, size_t len)
{
    const unsigned char *q = NULL;
    if (len >= 12 && memcmp(p, "{\"type\":\"", 9) == 0) {
        q = p + 9;
    } else {
        const unsigned char *m = find(p, len < 512 ? len : 512, "\"type\":\"", 8);
        if (!m || (size_t)(m - p) + 11 > len)
            return '?';
        q = m + 8;
    }
    switch (q[0]) {
    case 'e': return q[1] == 'v' ? 'E' : q[1] == 'r' ? 'R' : '?';
    case 'a': return 'A';
    case 'p': return q[1] == 'r' ? 'P' : q[1] == 'o' ? 'O' : '?';
    case 'w': return 'W';
    default: return '?';
    }
}

static bool digits(const unsigned char **pp, const unsigned char *end, uint64_t *out)
{
    const unsigned char *p = *pp;
    uint64_t v = 0;
    if (p >= end || *p < '0' || *p > '9')
        return false;
    while (p < end && *p >= '0' && *p <= '9')
        v = v * 10 + (uint64_t)(*p++ - '0');
    *out = v;
    *pp = p;
    return true;
}

static void on_delivery(struct worker *w, const unsigned char *p, size_t len, int64_t now)
{
    const unsigned char *end = p + len;
    const unsigned char *m = find(p, len, MARKER, 2);
    uint64_t t_sent, id;
    if (!m)
        return; /* an event that is not ours */
    m += 2;
    if (!digits(&m, end, &t_sent) || m >= end || *m++ != ':' || !digits(&m, end, &id))
        return;
    w->r.delivered++;
    w->r.t_last_delivery = now;
    w->last_progress = now;
    hist_add(&w->r.lat, now > (int64_t)t_sent ? (uint64_t)(now - (int64_t)t_sent) : 0);
    struct inflight *f = &w->ring[id % RING];
    if (f->id == id && f->count < f->expected && ++f->count == f->expected)
        w->in_flight--;
}

static int64_t realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* speakers: every event counts, by its frame's size; latency from the
 * event's "ts" (the server's decision, same machine) to now. A delegate
 * given the floor asks for it again, so the list stays as long. */
static void on_speakers_event(struct worker *w, struct conn *c, const unsigned char *p, size_t len,
                              size_t frame_bytes, int64_t now)
{
    const unsigned char *end = p + len, *t = find(p, len < 256 ? len : 256, "\"ts\":", 5);
    uint64_t ts_ms;
    if (!w->counting)
        return;
    w->r.delivered++;
    w->r.event_bytes += frame_bytes;
    w->r.t_last_delivery = now;
    if (c->chair)
        w->r.chair_events++;
    if (t) {
        t += 5;
        if (digits(&t, end, &ts_ms)) {
            int64_t lag = realtime_us() - (int64_t)ts_ms * 1000;
            hist_add(&w->r.lat, lag > 0 ? (uint64_t)lag : 0);
        }
    }
    if (c->delegate && !c->chair && find(p, len < 256 ? len : 256, "\"name\":\"floor_granted\"", 22)) {
        char me[48];
        int ml = snprintf(me, sizeof me, "\"floor\":{\"sub\":\"d%" PRIu32 "\"", c->gid);
        if (find(p, len, me, (size_t)ml))
            c->want_request = true;
    }
}

static void on_text(struct worker *w, struct conn *c, const unsigned char *p, size_t len,
                    size_t frame_bytes, int64_t now)
{
    switch (type_of(p, len)) {
    case 'E':
        if (w->p->scenario == SC_SPEAKERS) {
            on_speakers_event(w, c, p, len, frame_bytes, now);
        } else {
            uint64_t before = w->r.delivered;
            on_delivery(w, p, len, now);
            if (w->r.delivered != before)
                w->r.event_bytes += frame_bytes;
        }
        break;
    case 'W':
        if (c->state == C_JOINING) {
            c->state = C_JOINED;
            w->setting_up--;
            w->r.joined++;
            w->joined_r[c->room]++;
            w->r.t_last_join = now;
            hist_add(&w->r.join, (uint64_t)(now - c->t_start));
        }
        break;
    case 'A':
        if (c->delegate) {
            w->r.acked++;
            w->acked_r[c->room]++;
        }
        break;
    case 'R': {
        char excerpt[160];
        snprintf(excerpt, sizeof excerpt, "%.*s", (int)(len < 150 ? len : 150), (const char *)p);
        if (c->state == C_JOINING) {
            conn_fail(w, c, "join refused: ", excerpt);
        } else {
            w->r.refused++;
            note_error(w, "refused: %s", excerpt);
            /* a refused say never completes: free its place in the window */
            if (w->closed_loop && w->in_flight)
                w->in_flight--;
        }
        break;
    }
    case 'O':
        if (c->ping_at) {
            w->r.pongs++;
            w->r.t_last_delivery = now;
            hist_add(&w->r.lat, (uint64_t)(now - c->ping_at));
            c->ping_at = 0;
        }
        break;
    default:
        break;
    }
}

static void on_frame(struct worker *w, struct conn *c, const struct wsproto_frame *f,
                     size_t frame_bytes, int64_t now)
{
    if (f->opcode == WSPROTO_TEXT) {
        on_text(w, c, f->payload, f->len, frame_bytes, now);
    } else if (f->opcode == WSPROTO_CLOSE) {
        char why[80];
        int code = f->len >= 2 ? (f->payload[0] << 8) | f->payload[1] : 1005;
        size_t rl = f->len > 2 ? f->len - 2 : 0;
        snprintf(why, sizeof why, "%d %.*s", code, (int)(rl < 60 ? rl : 60),
                 rl ? (const char *)f->payload + 2 : "");
        conn_fail(w, c, "closed by the server: ", why);
    } else if (f->opcode == WSPROTO_PING) {
        unsigned char out[256];
        size_t n = f->len < 125 ? f->len : 125;
        conn_write(w, c, out, wsproto_frame(out, WSPROTO_PONG, f->payload, n, rnd(w)));
    }
}

/* Keeps buf[0..len) (the start of a frame) for the next read. */
static void keep_part(struct worker *w, struct conn *c, const unsigned char *buf, size_t len)
{
    if (len > c->part_cap) {
        unsigned char *nb = realloc(c->part, len);
        if (!nb) {
            conn_fail(w, c, "out of memory", NULL);
            return;
        }
        c->part = nb;
        c->part_cap = (uint32_t)len;
    }
    memmove(c->part, buf, len);
    c->part_len = (uint32_t)len;
}

static void on_readable(struct worker *w, struct conn *c, int64_t now)
{
    for (;;) {
        size_t have = c->part_len;
        if (have >= RBUF_BYTES) {
            conn_fail(w, c, "a frame larger than the read buffer", NULL);
            return;
        }
        if (have)
            memcpy(w->rbuf, c->part, have);
        c->part_len = 0;
        ssize_t n = read(c->fd, w->rbuf + have, RBUF_BYTES - have);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            keep_part(w, c, w->rbuf, have);
            return;
        }
        if (n <= 0) {
            conn_fail(w, c, "connection closed", n < 0 ? strerror(errno) : NULL);
            return;
        }
        size_t len = have + (size_t)n, off = 0;
        if (c->state == C_UPGRADING) {
            long h = wsproto_response((const char *)w->rbuf, len);
            if (h < 0) {
                char line[100];
                size_t ll = strcspn((const char *)w->rbuf, "\r\n");
                snprintf(line, sizeof line, "%.*s", (int)(ll < 90 ? ll : 90), (const char *)w->rbuf);
                conn_fail(w, c, "upgrade refused: ", line);
                return;
            }
            if (h == 0) {
                keep_part(w, c, w->rbuf, len);
                return;
            }
            off = (size_t)h;
            c->state = C_JOINING;
            conn_write(w, c, c->join, c->join_len);
            free(c->join);
            c->join = NULL;
            if (c->state == C_DEAD)
                return;
        }
        while (off < len) {
            struct wsproto_frame f;
            long used = wsproto_parse(w->rbuf + off, len - off, &f);
            if (used < 0) {
                conn_fail(w, c, "a malformed frame from the server", NULL);
                return;
            }
            if (used == 0)
                break;
            on_frame(w, c, &f, (size_t)used, now);
            if (c->state == C_DEAD)
                return;
            off += (size_t)used;
        }
        if (off < len)
            keep_part(w, c, w->rbuf + off, len - off);
        if ((size_t)n < RBUF_BYTES - have)
            return; /* drained (see the top of the file) */
    }
}

static void poll_once(struct worker *w, int64_t timeout_us)
{
    struct epoll_event evs[MAX_EVENTS];
    if (timeout_us < 0)
        timeout_us = 0;
    struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (timeout_us % 1000000) * 1000};
    int n = epoll_pwait2(w->ep, evs, MAX_EVENTS, &ts, NULL);
    if (n < 0 && errno == ENOSYS)
        n = epoll_wait(w->ep, evs, MAX_EVENTS, (int)((timeout_us + 999) / 1000));
    int64_t now = worker_now_us();
    for (int i = 0; i < n; i++) {
        struct conn *c = evs[i].data.ptr;
        uint32_t e = evs[i].events;
        if (c->state == C_DEAD)
            continue;
        if (c->state == C_CONNECTING) {
            if (e & (EPOLLERR | EPOLLHUP)) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                conn_fail(w, c, "connect: ", strerror(err ? err : ECONNREFUSED));
                continue;
            }
            if (!(e & EPOLLOUT))
                continue;
            on_connected(w, c);
            if (c->state == C_DEAD)
                continue;
        } else if (e & EPOLLOUT) {
            conn_flush(w, c);
            if (c->state == C_DEAD)
                continue;
        }
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            on_readable(w, c, now);
    }
}

/* ---- set-up ---- */

static int prepare_join(struct worker *w, struct conn *c, int64_t now_s)
{
    const struct bench_plan *p = w->p;
    struct proto_claims cl;
    memset(&cl, 0, sizeof cl);
    cl.category = PROTO_CAT_NONE;
    snprintf(cl.sub, sizeof cl.sub, "%s%" PRIu32, c->delegate ? "d" : "o", c->gid);
    if (p->scenario == SC_SPEAKERS && c->delegate)
        /* names and delegations of a real list's length */
        snprintf(cl.name, sizeof cl.name, "%s %" PRIu32 " of the list", c->chair ? "Chair" : "Delegate", c->gid);
    else
        snprintf(cl.name, sizeof cl.name, "%s %" PRIu32, c->delegate ? "Delegate" : "Observer", c->gid);
    if (p->scenario == SC_SPEAKERS && c->delegate && !c->chair) {
        snprintf(cl.delegation, sizeof cl.delegation, "Member State %" PRIu32, c->gid);
        cl.category = PROTO_CAT_MEMBER_STATE;
    }
    snprintf(cl.room, sizeof cl.room, "%s", p->room_ids[c->room]);
    cl.role = c->chair ? PROTO_ROLE_MODERATOR : c->delegate ? PROTO_ROLE_DELEGATE : PROTO_ROLE_OBSERVER;
    cl.iat = now_s;
    cl.exp = now_s + 12 * 3600;
    char *tok = proto_jwt_mint_ring(p->keys, &cl);
    if (!tok)
        return -1;
    size_t tl = strlen(tok) + 64;
    char *json = malloc(tl);
    if (!json) {
        free(tok);
        return -1;
    }
    /* The delta form unless --full-state (contract section 10). */
    int jl = snprintf(json, tl, "{\"type\":\"join\",\"token\":\"%s\"%s}", tok,
                      p->full_state ? "" : ",\"deltas\":true");
    free(tok);
    c->join = malloc(wsproto_frame_size((size_t)jl));
    if (c->join)
        c->join_len = (uint32_t)wsproto_frame(c->join, WSPROTO_TEXT, json, (size_t)jl, rnd(w));
    free(json);
    return c->join ? 0 : -1;
}

struct worker *worker_create(const struct bench_plan *p, unsigned k)
{
    struct worker *w = calloc(1, sizeof *w);
    if (!w)
        goto fail;
    w->p = p;
    w->k = k;
    w->ep = -1;
    w->rng = 0x9E3779B9u ^ (k * 2654435761u) ^ (uint32_t)worker_now_us();
    if (!w->rng)
        w->rng = 1;
    hist_init(&w->r.lat);
    hist_init(&w->r.join);
    w->n = p->conns / p->procs + (k < p->conns % p->procs);
    w->c = calloc(w->n ? w->n : 1, sizeof *w->c);
    w->dels = calloc(w->n ? w->n : 1, sizeof *w->dels);
    w->joined_r = calloc(p->rooms, sizeof *w->joined_r);
    w->acked_r = calloc(p->rooms, sizeof *w->acked_r);
    w->ring = calloc(RING, sizeof *w->ring);
    w->rbuf = malloc(RBUF_BYTES);
    w->pad = malloc(p->size + 1);
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!w->c || !w->dels || !w->joined_r || !w->acked_r || !w->ring || !w->rbuf || !w->pad ||
        w->ep < 0)
        goto fail;
    memset(w->pad, 'x', p->size);
    w->pad[p->size] = '\0';
    int64_t now_s = (int64_t)time(NULL);
    for (size_t i = 0; i < w->n; i++) {
        struct conn *c = &w->c[i];
        c->fd = -1;
        c->gid = (uint32_t)(k + i * p->procs);
        c->room = (uint32_t)(c->gid / p->per_room);
        c->delegate = c->gid % p->per_room < p->delegates;
        c->chair = p->scenario == SC_SPEAKERS && c->gid == 0;
        if (prepare_join(w, c, now_s) != 0)
            goto fail;
    }
    w->r.conns = w->n;
    /* Delegates in an order that visits every room before a room's second
     * delegate, so that traffic is spread evenly over rooms. */
    for (size_t d = 0; d < p->delegates; d++)
        for (size_t i = 0; i < w->n; i++)
            if (w->c[i].delegate && w->c[i].gid % p->per_room == d)
                w->dels[w->n_dels++] = &w->c[i];
    return w;
fail:
    fprintf(stderr, "rostrum-bench: worker %u: out of memory or cannot sign tokens\n", k);
    worker_destroy(w);
    return NULL;
}

void worker_destroy(struct worker *w)
{
    if (!w)
        return;
    for (size_t i = 0; w->c && i < w->n; i++) {
        if (w->c[i].fd >= 0)
            close(w->c[i].fd);
        free(w->c[i].part);
        free(w->c[i].wout);
        free(w->c[i].join);
    }
    if (w->ep >= 0)
        close(w->ep);
    free(w->c);
    free(w->dels);
    free(w->joined_r);
    free(w->acked_r);
    free(w->ring);
    free(w->rbuf);
    free(w->pad);
    free(w);
}

static void send_text(struct worker *w, struct conn *c, const char *json)
{
    unsigned char frame[256];
    size_t len = strlen(json);
    w->r.sent++;
    conn_write(w, c, frame, wsproto_frame(frame, WSPROTO_TEXT, json, len, rnd(w)));
}

static bool pace_ok(struct conn *c, int64_t now);

/* Opens and joins this worker's connections up to index upto. */
static void connect_upto(struct worker *w, size_t upto, int64_t start)
{
    const struct bench_plan *p = w->p;
    for (;;) {
        int64_t now = worker_now_us();
        while (w->setting_up < p->concurrency && w->next_start < upto)
            conn_start(w, &w->c[w->next_start++], now);
        if (w->next_start == upto && w->setting_up == 0)
            break;
        if (now - start > p->connect_timeout_us) {
            char left[32];
            snprintf(left, sizeof left, "%zu", w->setting_up + (w->n - w->next_start));
            note_error(w, "%s connections not joined in time", left);
            for (size_t i = 0; i < w->n; i++)
                if (w->c[i].state >= C_CONNECTING && w->c[i].state < C_JOINED)
                    conn_close(w, &w->c[i]);
            w->r.failed += w->n - w->next_start;
            w->next_start = w->n;
            break;
        }
        poll_once(w, 100000);
    }
}

/* Polls until this worker's delegates (the chair included) have n
 * replies, or the connect timeout. */
static void await_acks(struct worker *w, uint64_t n, int64_t start)
{
    while (w->r.acked + w->r.refused < n && worker_now_us() - start < w->p->connect_timeout_us)
        poll_once(w, 100000);
    if (w->r.acked + w->r.refused < n)
        note_error(w, "the speakers list was not filled in time");
}

#define SPEAKERS_HISTORY 50 /* the welcome's recent events (PROTO_RECENT_EVENTS) */

/* speakers: the chair and the list's delegates join first and fill the
 * list; the chair then says SPEAKERS_HISTORY short messages, so that the
 * observers' welcomes (the snapshot with the whole list, and the recent
 * events) cost the same in both forms and the run measures the events
 * alone; then the observers join. One process holds them all (main.c). */
static void connect_speakers(struct worker *w, int64_t start)
{
    const struct bench_plan *p = w->p;
    size_t first = p->list_len + 1 < w->n ? p->list_len + 1 : w->n;
    connect_upto(w, first, start);
    for (size_t i = 1; i < first; i++)
        if (w->c[i].state == C_JOINED)
            send_text(w, &w->c[i], "{\"type\":\"request_floor\"}");
    await_acks(w, w->r.sent, start);
    struct conn *chair = &w->c[0];
    for (int k = 0; k < SPEAKERS_HISTORY && chair->state == C_JOINED;) {
        int64_t now = worker_now_us();
        if (pace_ok(chair, now)) {
            char json[96];
            snprintf(json, sizeof json, "{\"type\":\"say\",\"text\":\"Recent history, message %d\"}", k++);
            send_text(w, chair, json);
        } else {
            poll_once(w, 20000);
        }
    }
    await_acks(w, w->r.sent, start);
    connect_upto(w, w->n, start);
    w->r.sent = w->r.acked = w->r.refused = 0;
}

void worker_connect(struct worker *w)
{
    int64_t start = worker_now_us();
    if (w->p->scenario == SC_SPEAKERS)
        connect_speakers(w, start);
    else
        connect_upto(w, w->n, start);
}

const uint64_t *worker_joined_per_room(const struct worker *w)
{
    return w->joined_r;
}

/* ---- traffic ---- */

/* GCRA: may this delegate send now without the server refusing? */
static bool pace_ok(struct conn *c, int64_t now)
{
    int64_t tolerance = (int64_t)(PACE_BURST - 1) * PACE_INTERVAL_US;
    if (now < c->pace_tat - tolerance)
        return false;
    c->pace_tat = (c->pace_tat > now ? c->pace_tat : now) + PACE_INTERVAL_US;
    return true;
}

/* Sends one say from the next delegate allowed to. Returns false when
 * none is (the server's rate limit would refuse it). */
static bool send_one(struct worker *w, int64_t now)
{
    struct conn *c = NULL;
    for (size_t tries = 0; tries < w->n_dels && !c; tries++) {
        struct conn *d = w->dels[w->next_del];
        w->next_del = (w->next_del + 1) % w->n_dels;
        if (d->state == C_JOINED && pace_ok(d, now))
            c = d;
    }
    if (!c)
        return false;
    uint64_t id = w->next_msg++ * w->p->procs + w->k;
    char head[64];
    int hl = snprintf(head, sizeof head, MARKER "%" PRId64 ":%" PRIu64 ":", now, id);
    size_t pad = w->p->size > (size_t)hl ? w->p->size - (size_t)hl : 0;
    char json[2200];
    int jl = snprintf(json, sizeof json, "{\"type\":\"say\",\"text\":\"%s%.*s\"}", head, (int)pad, w->pad);
    unsigned char frame[2300];
    size_t fl = wsproto_frame(frame, WSPROTO_TEXT, json, (size_t)jl, rnd(w));
    if (w->closed_loop) {
        struct inflight *f = &w->ring[id % RING];
        f->id = id;
        f->count = 0;
        f->expected = (uint32_t)w->room_sizes[c->room];
        w->in_flight++;
    }
    w->r.sent++;
    if (!w->r.t_first_send)
        w->r.t_first_send = now;
    w->r.t_last_send = now;
    conn_write(w, c, frame, fl);
    return true;
}

static uint64_t expected_now(const struct worker *w)
{
    uint64_t e = 0;
    for (size_t r = 0; r < w->p->rooms; r++)
        e += w->acked_r[r] * w->room_sizes[r];
    return e;
}

static void run_messages(struct worker *w, const uint64_t *room_sizes)
{
    const struct bench_plan *p = w->p;
    bool closed_loop = p->rate <= 0;
    size_t total_dels = p->rooms * p->delegates;
    double local_rate = total_dels ? p->rate * (double)w->n_dels / (double)total_dels : 0;
    uint64_t attempted = 0;
    bool was_throttled = false;
    /* The closed loop tracks each message to its last recipient, which
     * only one process that holds every recipient can do (main.c
     * refuses --procs > 1 without --rate). */
    w->room_sizes = room_sizes;
    w->closed_loop = closed_loop;
    int64_t t0 = worker_now_us(), end = t0 + p->duration_us;
    w->last_progress = t0;
    int64_t next_report = t0 + 1000000;
    for (int64_t now = t0; now < end; now = worker_now_us()) {
        int64_t wait = 50000;
        bool throttled = false;
        if (p->verbose && now >= next_report) {
            fprintf(stderr, "rostrum-bench: worker %u: %.1f s: sent %" PRIu64 ", acked %" PRIu64
                    ", delivered %" PRIu64 ", in flight %zu\n", w->k, (double)(now - t0) / 1e6,
                    w->r.sent, w->r.acked, w->r.delivered, w->in_flight);
            next_report += 1000000;
        }
        if (w->n_dels == 0) {
            /* observers only: receive until the senders are done */
        } else if (closed_loop) {
            while (w->in_flight < p->window)
                if (!send_one(w, now)) {
                    throttled = true;
                    break;
                }
            if (throttled)
                wait = 1000;
            if (w->in_flight >= p->window && now - w->last_progress > STALL_US) {
                note_error(w, "closed loop stalled: nothing received for 10 s with messages in flight");
                break;
            }
        } else {
            uint64_t due = (uint64_t)((double)(now - t0) * local_rate / 1e6) + 1;
            for (int burst = 0; attempted < due && burst < 10000; burst++) {
                if (!send_one(w, now)) {
                    throttled = true;
                    break;
                }
                attempted++;
            }
            double next = (double)(attempted) * 1e6 / local_rate;
            wait = throttled ? 1000 : (int64_t)next - (now - t0);
        }
        if (throttled && !was_throttled)
            w->r.throttled++;
        was_throttled = throttled;
        if (wait > end - now)
            wait = end - now;
        poll_once(w, wait);
    }
    /* Drain: until everything arrived (one process: we know how much), or
     * nothing arrived for a while (several: only the total is known). */
    int64_t stop = worker_now_us() + p->drain_timeout_us;
    for (int64_t now = worker_now_us(); now < stop; now = worker_now_us()) {
        bool replies_in = w->r.acked + w->r.refused >= w->r.sent;
        if (replies_in && p->procs == 1 && w->r.delivered >= expected_now(w))
            break;
        int64_t last = w->r.t_last_delivery > w->r.t_last_send ? w->r.t_last_delivery : w->r.t_last_send;
        if (replies_in && last && now - last > QUIET_US)
            break;
        if (!last && now - t0 > p->duration_us + QUIET_US)
            break;
        poll_once(w, 100000);
    }
}

static void run_idle(struct worker *w)
{
    const struct bench_plan *p = w->p;
    int64_t until = worker_now_us() + p->hold_us;
    for (int64_t now = worker_now_us(); now < until; now = worker_now_us())
        poll_once(w, until - now);
    /* Every connection must still answer: one ping each. */
    unsigned char frame[64];
    static const char ping[] = "{\"type\":\"ping\"}";
    uint64_t pinged = 0;
    int64_t now = worker_now_us();
    w->r.t_first_send = now;
    for (size_t i = 0; i < w->n; i++) {
        struct conn *c = &w->c[i];
        if (c->state != C_JOINED)
            continue;
        c->ping_at = now;
        w->r.sent++;
        pinged++;
        conn_write(w, c, frame, wsproto_frame(frame, WSPROTO_TEXT, ping, sizeof ping - 1, rnd(w)));
    }
    int64_t stop = worker_now_us() + p->drain_timeout_us;
    for (now = worker_now_us(); now < stop && w->r.pongs < pinged; now = worker_now_us())
        poll_once(w, 100000);
    w->r.delivered = w->r.pongs;
}

/* speakers: the chair grants the floor to the head of the list every
 * grant_every; whoever got it asks again at once, so the list keeps its
 * length while requests keep coming. Every event counts as a delivery on
 * every connection. */
static void run_speakers(struct worker *w, const uint64_t *room_sizes)
{
    const struct bench_plan *p = w->p;
    struct conn *chair = &w->c[0];
    size_t last_del = p->list_len + 1 < w->n ? p->list_len + 1 : w->n;
    int64_t t0 = worker_now_us(), end = t0 + p->duration_us, next_grant = t0;
    w->counting = true;
    w->r.t_first_send = t0;
    for (int64_t now = t0; now < end; now = worker_now_us()) {
        if (now >= next_grant && chair->state == C_JOINED) {
            send_text(w, chair, "{\"type\":\"grant\"}");
            w->r.t_last_send = now;
            next_grant += p->grant_every_us;
        }
        for (size_t i = 1; i < last_del; i++) {
            struct conn *c = &w->c[i];
            if (c->want_request && c->state == C_JOINED && pace_ok(c, now)) {
                c->want_request = false;
                send_text(w, c, "{\"type\":\"request_floor\"}");
                w->r.t_last_send = now;
            }
        }
        int64_t wait = next_grant - now < 20000 ? next_grant - now : 20000;
        poll_once(w, wait > end - now ? end - now : wait);
    }
    /* Drain: every event the chair saw reaches every connection. */
    int64_t stop = worker_now_us() + p->drain_timeout_us;
    for (int64_t now = worker_now_us(); now < stop; now = worker_now_us()) {
        bool replies_in = w->r.acked + w->r.refused >= w->r.sent;
        if (replies_in && w->r.delivered >= w->r.chair_events * room_sizes[0])
            break;
        int64_t last = w->r.t_last_delivery > w->r.t_last_send ? w->r.t_last_delivery : w->r.t_last_send;
        if (replies_in && last && now - last > QUIET_US)
            break;
        poll_once(w, 100000);
    }
}

void worker_traffic(struct worker *w, const uint64_t *room_sizes)
{
    switch (w->p->scenario) {
    case SC_SPEAKERS:
        run_speakers(w, room_sizes);
        break;
    case SC_PLENARY:
    case SC_ROOMS:
        run_messages(w, room_sizes);
        break;
    case SC_IDLE:
        run_idle(w);
        break;
    case SC_STORM:
        break;
    }
}

const struct wresult *worker_result(const struct worker *w)
{
    return &w->r;
}

const uint64_t *worker_acked_per_room(const struct worker *w)
{
    return w->acked_r;
}
