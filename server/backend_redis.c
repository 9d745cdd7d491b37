/*
 * backend_redis.c: several nodes share rooms through one Redis (backend.h).
 * The only file that includes hiredis.
 *
 * Two connections on the server's event loop: one for commands, one
 * subscribed to the channels of the rooms this node watches (plain
 * SUBSCRIBE; hiredis 0.14 has no sharded pub/sub). Each hiredis socket is
 * dup()'ed and watched by the loop handed to backend_redis_create (loop.h,
 * the way hiredis' own adapters attach to a loop): the loop and hiredis
 * each close their own copy.
 *
 * Layout (one hash tag per room so that Redis Cluster keeps a room on one
 * slot):
 *   rostrum:rooms                set of room ids
 *   rostrum:{ID}:state           hash: seq, snapshot, initial, epoch,
 *                                previous_epoch once the room started again,
 *                                gr, gf and gx (the seq of the last event
 *                                that changed a chat line's rules, the
 *                                floor's holder, anything but the seq: what
 *                                the commit checks)
 *   rostrum:{ID}:log             stream: one entry per event, id SEQ-0, fields
 *                                e (the event) and h (its chain hash, 9.6)
 *   rostrum:{ID}:statements      hash: request id -> written statement
 *                                {"text","lang","sub"} (section 9.4): kept out
 *                                of the log, the snapshot and the channel
 *   rostrum:{ID}:events          channel: committed events and presence
 *   rostrum:{ID}:members         hash: sub -> participant directory entry
 *   rostrum:{ID}:presence        hash: connection -> {conn,node,inst,observer,participant}
 *   rostrum:{ID}:presence:exp    zset: node process (inst) -> expiry (ms)
 *   rostrum:node:NODE            heartbeat with a TTL
 *
 * The commit is one Lua script: compare seq, XADD and PUBLISH each event,
 * store snapshot and seq; when other nodes' events came since the node
 * decided, it checks only what the decisions read (gr, gf, gx) and stores
 * the events after those, renumbered. A node keeps, for each room it holds, the room
 * as created and every event (the history for resume and the record), and
 * delivers events in seq order: an event past a gap makes it read the
 * missing ones from the stream first.
 *
 * Faults: every command must be answered within COMMAND_TIMEOUT_MS of the
 * last answer (hiredis 0.14 has no timeouts); the subscriber is probed with
 * a PUBLISH to its own channel every PROBE_MS. Either failing, or a
 * connection dropping, drops both connections; the node retries with
 * backoff, then resubscribes, fills every gap from the streams, checks each
 * room's epoch (a Redis that lost its data started the room again) and
 * announces its connections again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "backend.h"
#include "eventlog.h"
#include "log.h"
#include "loop.h"

#define COMMAND_TIMEOUT_MS 3000
#define PROBE_MS 3000
#define PRESENCE_REFRESH_MS 5000
#define PRESENCE_TTL_MS 15000
#define PRUNE_MS 2000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

/* The commit (backend.h). ARGV[1] is the seq the events were decided at
 * (seen). ARGV[2] is a deadline (ms, the node's clock): a commit that
 * reaches Redis after the node gave up on it (and told the client
 * "unavailable") must not happen, e.g. when Redis was frozen and runs its
 * backlog later. ARGV[7..9]: the index (1..n; 0 for none) of the last
 * event that changes a chat line's rules, the floor's holder, and
 * anything but the seq (BACKEND_READS_RULES, FLOOR, STATE): their seqs
 * are kept as gr, gf and gx. ARGV[10]: what the decisions read (the same
 * bits, and 8 for the seq itself). When the room holds more than seen,
 * the events go after it unless something they read changed since seen
 * (a field not there yet counts as changed at the room's seq): each text
 * is renumbered (it starts {"type":"event","seq":N, as jansson writes the
 * encoder's object; checked before anything is written) and stored
 * without its hash, which every node computes from the texts anyway (it
 * needs the predecessor's, and a script has no SHA-256); the snapshot is
 * then left as it was (nothing reads it back; it is for operators). A
 * room that went back below seen (it lost its data) refuses: the epoch
 * check starts it again. Returns {1, first seq}, {0, seq} (conflict),
 * {-1, 0} (no room), {-2, 0} (deadline), {-3, 0} (not an event). */
static const char commit_lua[] =
    "local t = redis.call('TIME')\n"
    "if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[2]) then return {-2, 0} end\n"
    "local st = redis.call('HMGET', KEYS[1], 'seq', 'gr', 'gf', 'gx')\n"
    "local seq = tonumber(st[1])\n"
    "if seq == nil then return {-1, 0} end\n"
    "local seen, reads = tonumber(ARGV[1]), tonumber(ARGV[10])\n"
    "local n, k, d = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])\n"
    "local function since(v) return tonumber(v or seq) > seen end\n"
    "local head = '{\"type\":\"event\",\"seq\":'\n"
    "if seq ~= seen then\n"
    "  if seq < seen or reads >= 8 or k > 0 or (reads % 8 >= 4 and since(st[4]))\n"
    "     or (reads % 2 == 1 and since(st[2])) or (reads % 4 >= 2 and since(st[3])) then\n"
    "    return {0, seq}\n"
    "  end\n"
    "  for i = 1, n do\n"
    "    local p = head .. tostring(seen + i)\n"
    "    if string.sub(ARGV[10 + i], 1, string.len(p)) ~= p then return {-3, 0} end\n"
    "  end\n"
    "end\n"
    "local first = seq + 1\n"
    "local base = 10 + 2 * n\n"
    /* statements first, and told to the other nodes before the event that
     * deposits them: a node that applies the event has the text (only a
     * commit that was not renumbered has one: k > 0 refuses above) */
    "for i = 1, k do\n"
    "  redis.call('HSET', KEYS[4], ARGV[base + 3 * i - 2], ARGV[base + 3 * i - 1])\n"
    "  redis.call('PUBLISH', KEYS[3], ARGV[base + 3 * i])\n"
    "end\n"
    "for i = 1, d do redis.call('HDEL', KEYS[4], ARGV[base + 3 * k + i]) end\n"
    "local marks = {}\n"
    "for j, f in ipairs({'gr', 'gf', 'gx'}) do\n"
    "  local idx = tonumber(ARGV[6 + j])\n"
    "  if idx > 0 then table.insert(marks, f); table.insert(marks, seq + idx)\n"
    "  elseif not st[j + 1] then table.insert(marks, f); table.insert(marks, seq) end\n"
    "end\n"
    "for i = 1, n do\n"
    "  seq = seq + 1\n"
    "  local e, h = ARGV[10 + i], ARGV[10 + n + i]\n"
    "  if first ~= seen + 1 then\n"
    "    e = head .. seq .. string.sub(e, string.len(head) + string.len(tostring(seen + i)) + 1)\n"
    "    h = ''\n"
    "  end\n"
    "  if h ~= '' then redis.call('XADD', KEYS[2], seq .. '-0', 'e', e, 'h', h)\n"
    "  else redis.call('XADD', KEYS[2], seq .. '-0', 'e', e) end\n"
    "  redis.call('PUBLISH', KEYS[3], e)\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'seq', seq, unpack(marks))\n"
    "if ARGV[3] ~= '' and first == seen + 1 then redis.call('HSET', KEYS[1], 'snapshot', ARGV[3]) end\n"
    "return {1, first}\n";

/* The observers' peak: kept when above the stored one (every node that
 * sees a new peak tells it; the highest stays). */
static const char peak_lua[] =
    "local p = tonumber(redis.call('HGET', KEYS[1], 'observers_peak') or '0')\n"
    "if tonumber(ARGV[1]) > p then redis.call('HSET', KEYS[1], 'observers_peak', ARGV[1], 'observers_peak_at', ARGV[2]) end\n"
    "return 1\n";

static const char create_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'seq', 0, 'snapshot', ARGV[1], 'initial', ARGV[1], 'epoch', ARGV[2], 'gr', 0, 'gf', 0, 'gx', 0)\n"
    "return 1\n";

/* Starts a room again under a new epoch, unless another node already did
 * (the epoch is no longer the one that was lost). */
static const char reseed_lua[] =
    "local e = redis.call('HGET', KEYS[1], 'epoch')\n"
    "if e and e ~= ARGV[1] then return 0 end\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('HSET', KEYS[1], 'gr', 0, 'gf', 0, 'gx', 0)\n"
    "redis.call('HSET', KEYS[1], 'seq', 0, 'snapshot', ARGV[2], 'initial', ARGV[2], 'epoch', ARGV[3], 'previous_epoch', ARGV[1])\n"
    "return 1\n";

/* Presence expires per node process, not per connection: a node refreshes
 * one zset member per room (its inst), whatever its number of connections,
 * and only when a process stopped refreshing are its connections found
 * (one pass over the room's entries) and announced as gone. A member that
 * is a connection id is an entry of the layout before (a node of an older
 * version): it expires alone, as it did. */
static const char prune_lua[] =
    "local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])\n"
    "if #dead == 0 then return 0 end\n"
    "local gone, any = {}, false\n"
    "local function leave(c)\n"
    "  redis.call('PUBLISH', KEYS[3], cjson.encode({type='presence', action='leave', conn=c}))\n"
    "end\n"
    "for _, d in ipairs(dead) do\n"
    "  redis.call('ZREM', KEYS[2], d)\n"
    "  if redis.call('HDEL', KEYS[1], d) == 1 then leave(d) else gone[d] = true; any = true end\n"
    "end\n"
    "if not any then return #dead end\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "for i = 1, #all, 2 do\n"
    "  local ok, v = pcall(cjson.decode, all[i + 1])\n"
    "  if ok and type(v) == 'table' and v.inst and gone[v.inst] then\n"
    "    redis.call('HDEL', KEYS[1], all[i])\n"
    "    leave(all[i])\n"
    "  end\n"
    "end\n"
    "return #dead\n";

/* A local connection joins: its entry, its process' expiry (so that it is
 * pruned even before the first refresh) and the announcement, in one call. */
static const char presence_join_lua[] =
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])\n"
    "redis.call('PUBLISH', KEYS[3], ARGV[5])\n"
    "return 1\n";

static const char presence_leave_lua[] =
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "redis.call('PUBLISH', KEYS[2], ARGV[2])\n"
    "return 1\n";

struct redis_backend;

struct rconn {
    struct redis_backend *b;
    redisAsyncContext *ac;
    struct loop_watch *w;
    bool want_write;
    bool connected;
    const char *name;
};

struct rroom {
    struct eventlog_room kept; /* first: the table hands it back */
    char epoch[PROTO_MAX_EPOCH + 1];
    bool watched;
    bool filling, refill;
    char **local;             /* this node's connections in the room */
    size_t n_local, cap_local;
};

struct redis_backend {
    struct backend base;
    const struct loop *loop;
    char host[256];
    int port, db;
    char *user, *password;    /* AUTH on every connection; NULL: none */
    int hello_sent;           /* AUTH (or PING) sent on both connections */
    int hello_ok;             /* connections that answered it */
    int64_t hello_at;
    bool auth_refused;        /* said once until Redis accepts again */
    char node[128];
    /* This process among the node's lifetimes (a restart with the same
     * --node-id is another one): NODE/RANDOM, the member presence expires by. */
    char inst[160];
    char probe_channel[200];
    struct rconn cmd, sub;
    bool up;
    int64_t now, next_attempt, backoff;
    int64_t busy_since;       /* command sent with no answer since */
    long inflight;
    int64_t probe_sent, probe_seen;
    int64_t sub_seen;         /* anything received on the subscriber */
    int64_t last_refresh, last_prune;
    struct eventlog_rooms rooms;
};

/* ---- keys and rooms ---- */

static void key(char *out, size_t sz, const char *room, const char *what)
{
    snprintf(out, sz, "rostrum:{%s}:%s", room, what);
}

static struct rroom *find(struct redis_backend *b, const char *id)
{
    return (struct rroom *)eventlog_rooms_find(&b->rooms, id);
}

static void rroom_free(struct rroom *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_local; i++)
        free(r->local[i]);
    free(r->local);
    eventlog_room_clear(&r->kept);
    free(r);
}

static void forget(struct redis_backend *b, struct rroom *r)
{
    eventlog_rooms_remove(&b->rooms, &r->kept);
    rroom_free(r);
}

/* Keeps and delivers events that continue the room's history; returns
 * false at a gap (the caller fills it from the stream). */
static bool deliver(struct redis_backend *b, struct rroom *r, const struct backend_event *ev, size_t n)
{
    size_t first = 0;
    while (first < n && ev[first].seq <= r->kept.log.seq)
        first++;
    for (size_t i = first; i < n; i++) {
        if (ev[i].seq != r->kept.log.seq + 1)
            return false;
        /* Parsed once, here, for its chain hash and for the hub, unless
         * this node committed it (its hash is known, and the hub applies
         * it as decided). */
        json_error_t err;
        json_t *parsed = ev[i].hash || ev[i].tree ? NULL : json_loadb(ev[i].json, ev[i].len, 0, &err);
        struct backend_event one = ev[i];
        if (parsed)
            one.tree = parsed;
        if (eventlog_push(&r->kept.log, ev[i].json, ev[i].len, ev[i].hash, one.tree) != 0) {
            log_error("room %s: cannot keep event %llu (out of memory, or not an event)", r->kept.id,
                      (unsigned long long)ev[i].seq);
            json_decref(parsed);
            return false;
        }
        one.hash = eventlog_hash(&r->kept.log, r->kept.log.seq);
        b->base.sink.on_events(b->base.sink.arg, r->kept.id, &one, 1);
        json_decref(parsed);
    }
    return true;
}

/* ---- the hiredis adapter on the server's loop ---- */

static void ad_add_read(void *p)
{
    struct rconn *c = p;
    c->b->loop->want_read(c->w, true);
}
static void ad_del_read(void *p)
{
    struct rconn *c = p;
    c->b->loop->want_read(c->w, false);
}
static void ad_add_write(void *p)
{
    struct rconn *c = p;
    c->want_write = true;
    c->b->loop->want_write(c->w);
}
static void ad_del_write(void *p) { ((struct rconn *)p)->want_write = false; }
static void ad_cleanup(void *p)
{
    struct rconn *c = p;
    c->b->loop->unwatch(c->w);
    c->w = NULL;
    c->want_write = false;
}

static void on_readable(void *arg)
{
    struct rconn *c = arg;
    if (c->ac)
        redisAsyncHandleRead(c->ac);
}

static void on_writable(void *arg)
{
    struct rconn *c = arg;
    if (c->ac && c->want_write) {
        redisAsyncHandleWrite(c->ac);
        if (c->ac && c->want_write)
            c->b->loop->want_write(c->w);
    }
}

static void lost(struct redis_backend *b, const char *why);

/* The loop closed the descriptor (hang-up): hiredis is not told by
 * anyone else, so free its context here. */
static void on_hangup(void *arg)
{
    struct rconn *c = arg;
    redisAsyncContext *ac = c->ac;
    if (!ac)
        return;
    c->ac = NULL;
    c->connected = false;
    redisAsyncFree(ac);
    lost(c->b, "connection closed");
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct rconn *c = ac->data;
    if (!c || c->ac != ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback. */
        c->ac = NULL;
        lost(c->b, ac->errstr[0] ? ac->errstr : "connect failed");
        return;
    }
    c->connected = true;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rconn *c = ac->data;
    (void)status;
    if (!c || c->ac != ac)
        return;
    c->ac = NULL;
    c->connected = false;
    lost(c->b, ac->errstr[0] ? ac->errstr : "disconnected");
}

static int connect_one(struct redis_backend *b, struct rconn *c)
{
    redisAsyncContext *ac = redisAsyncConnect(b->host, b->port);
    if (!ac)
        return -1;
    if (ac->err) {
        log_warn("redis %s connection: %s", c->name, ac->errstr);
        redisAsyncFree(ac);
        return -1;
    }
    int fd = dup(ac->c.fd);
    c->w = fd >= 0 ? b->loop->watch(b->loop->impl, fd, on_readable, on_writable, on_hangup, c) : NULL;
    if (!c->w) {
        redisAsyncFree(ac);
        return -1;
    }
    ac->data = c;
    ac->ev.data = c;
    ac->ev.addRead = ad_add_read;
    ac->ev.delRead = ad_del_read;
    ac->ev.addWrite = ad_add_write;
    ac->ev.delWrite = ad_del_write;
    ac->ev.cleanup = ad_cleanup;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
    /* The connect completes on the first writeable event. */
    ad_add_write(c);
    return 0;
}

static void drop(struct rconn *c)
{
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    c->connected = false;
    if (ac)
        redisAsyncFree(ac);
}

/* Something failed: both connections go, and the node retries. */
static void lost(struct redis_backend *b, const char *why)
{
    if (b->up)
        log_warn("redis %s:%d unreachable (%s); commands get 'unavailable' until it is back",
                 b->host, b->port, why);
    b->up = false;
    b->hello_sent = 0;
    b->hello_ok = 0;
    drop(&b->cmd);
    drop(&b->sub);
    b->inflight = 0;
    b->probe_sent = b->probe_seen = 0;
    for (size_t i = 0; i < b->rooms.n; i++)
        ((struct rroom *)b->rooms.v[i])->filling = false;
    b->next_attempt = b->now + b->backoff;
    b->backoff = b->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->backoff * 2;
}

/* ---- commands ---- */

typedef void (*reply_fn)(struct redis_backend *b, redisReply *r, void *arg);

struct op {
    struct redis_backend *b;
    reply_fn fn;
    void *arg;
};

static void op_done(redisAsyncContext *ac, void *reply, void *priv)
{
    struct op *o = priv;
    struct redis_backend *b = o->b;
    (void)ac;
    if (b->inflight > 0)
        b->inflight--;
    b->busy_since = b->now;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_warn("redis: %s", r->str);
    o->fn(b, r, o->arg); /* r NULL: the connection went away */
    free(o);
}

/* Sends a command on the command connection; fn(b, NULL, arg) when it
 * cannot be sent or is never answered. */
static void command(struct redis_backend *b, reply_fn fn, void *arg, int argc, const char **argv,
                    const size_t *lens)
{
    struct op *o = b->cmd.ac && b->cmd.connected ? calloc(1, sizeof *o) : NULL;
    if (!o) {
        fn(b, NULL, arg);
        return;
    }
    o->b = b;
    o->fn = fn;
    o->arg = arg;
    if (b->inflight++ == 0)
        b->busy_since = b->now;
    if (redisAsyncCommandArgv(b->cmd.ac, op_done, o, argc, argv, lens) != REDIS_OK) {
        b->inflight--;
        free(o);
        fn(b, NULL, arg);
    }
}

static void ignore_reply(struct redis_backend *b, redisReply *r, void *arg)
{
    (void)b, (void)r, (void)arg;
}

/* A command of plain strings. */
static void command_v(struct redis_backend *b, reply_fn fn, void *arg, int argc, const char **argv)
{
    size_t lens[32];
    for (int i = 0; i < argc && i < 32; i++)
        lens[i] = strlen(argv[i]);
    command(b, fn, arg, argc, argv, lens);
}

/* ---- reading the stream ---- */

/* Turns an XRANGE reply into events (borrowing its strings). Returns the
 * count, or -1 for a malformed reply. */
static long xrange_events(redisReply *r, struct backend_event **out)
{
    *out = NULL;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return -1;
    if (r->elements == 0)
        return 0;
    struct backend_event *ev = calloc(r->elements, sizeof *ev);
    if (!ev)
        return -1;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY ||
            e->element[1]->elements < 2) {
            free(ev);
            return -1;
        }
        redisReply *val = e->element[1]->element[1];
        ev[i].seq = strtoull(e->element[0]->str, NULL, 10);
        ev[i].json = val->str;
        ev[i].len = val->len;
    }
    *out = ev;
    return (long)r->elements;
}

static void fill(struct redis_backend *b, struct rroom *r);

struct fill_ctx {
    char id[PROTO_ROOM_BUF];
    void (*then)(struct redis_backend *b, struct rroom *r, void *arg);
    void *arg;
};

static void filled(struct redis_backend *b, redisReply *reply, void *arg)
{
    struct fill_ctx *x = arg;
    struct rroom *r = find(b, x->id);
    struct backend_event *ev = NULL;
    long n = xrange_events(reply, &ev);
    if (r) {
        r->filling = false;
        if (n > 0 && !deliver(b, r, ev, (size_t)n))
            log_error("room %s: the stream has a gap after seq %llu", r->kept.id, (unsigned long long)r->kept.log.seq);
    }
    free(ev);
    if (x->then) {
        x->then(b, r, x->arg);
        /* The callback may have let the room go (the hub drops a room
         * nobody here uses any more): look it up again. */
        r = find(b, x->id);
    }
    if (r && r->refill && !r->filling) {
        r->refill = false;
        fill(b, r);
    }
    free(x);
}

static json_t *statements_of(redisReply *r);

static void fill_statements(struct redis_backend *b, redisReply *reply, void *arg)
{
    char *id = arg;
    json_t *all = statements_of(reply);
    const char *rid;
    json_t *sv;
    if (all && find(b, id) && b->base.sink.on_statement)
        json_object_foreach(all, rid, sv)
            b->base.sink.on_statement(b->base.sink.arg, id, rid, sv);
    json_decref(all);
    free(id);
}

/* Reads the events after the room's last kept one from its stream. */
static void fill_then(struct redis_backend *b, struct rroom *r,
                      void (*then)(struct redis_backend *, struct rroom *, void *), void *arg)
{
    struct fill_ctx *x = calloc(1, sizeof *x);
    char k[200], from[32];
    if (!x) {
        if (then)
            then(b, r, arg);
        return;
    }
    snprintf(x->id, sizeof x->id, "%s", r->kept.id);
    x->then = then;
    x->arg = arg;
    key(k, sizeof k, r->kept.id, "log");
    snprintf(from, sizeof from, "%llu-0", (unsigned long long)r->kept.log.seq + 1);
    r->filling = true;
    /* Statements deposited in the gap: read before its events (replies
     * come in order), so that the events find their texts. */
    char ks[200];
    key(ks, sizeof ks, r->kept.id, "statements");
    const char *a0[] = {"HGETALL", ks};
    char *id = strdup(r->kept.id);
    if (id)
        command_v(b, fill_statements, id, 2, a0);
    const char *argv[] = {"XRANGE", k, from, "+"};
    command_v(b, filled, x, 4, argv);
}

static void fill(struct redis_backend *b, struct rroom *r)
{
    if (r->filling) {
        r->refill = true;
        return;
    }
    fill_then(b, r, NULL, NULL);
}

/* ---- the subscriber ---- */

/* The seq of a published event without parsing it: events are published
 * as room_event_json() writes them, {"type":"event","seq":N,...}. False
 * for anything else (presence, statements), which is parsed whole. */
static bool event_seq(const char *msg, size_t len, uint64_t *seq)
{
    static const char head[] = "{\"type\":\"event\",\"seq\":";
    size_t i = sizeof head - 1, digits = 0;
    uint64_t v = 0;
    if (len <= i || memcmp(msg, head, i) != 0)
        return false;
    for (; i < len && msg[i] >= '0' && msg[i] <= '9' && digits < 18; i++, digits++)
        v = v * 10 + (uint64_t)(msg[i] - '0');
    if (!digits || i >= len || msg[i] != ',' || v == 0)
        return false;
    *seq = v;
    return true;
}

static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
    struct rconn *c = ac->data;
    struct redis_backend *b = c ? c->b : NULL;
    redisReply *r = reply;
    (void)priv;
    if (!b || !r || r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return;
    b->sub_seen = b->now;
    const char *kind = r->element[0]->str;
    const char *channel = r->element[1]->str;
    if (!kind || !channel)
        return;
    if (strcmp(channel, b->probe_channel) == 0) {
        if (strcmp(kind, "message") == 0)
            b->probe_seen = b->now;
        return;
    }
    /* rostrum:{ID}:events */
    const char *open = strchr(channel, '{'), *close = open ? strchr(open, '}') : NULL;
    char id[PROTO_ROOM_BUF];
    if (!open || !close || (size_t)(close - open - 1) >= sizeof id)
        return;
    memcpy(id, open + 1, (size_t)(close - open - 1));
    id[close - open - 1] = '\0';
    struct rroom *room = find(b, id);
    if (!room || !room->watched)
        return;
    if (strcmp(kind, "subscribe") == 0) {
        /* Subscribed: what was committed before is read from the stream. */
        fill(b, room);
        return;
    }
    if (strcmp(kind, "message") != 0 || r->element[2]->type != REDIS_REPLY_STRING)
        return;
    const char *msg = r->element[2]->str;
    size_t len = r->element[2]->len;
    uint64_t seq;
    if (event_seq(msg, len, &seq)) {
        /* An event: its seq is all this needs (the hub parses it once, on
         * delivery); this node's own commits were delivered already and
         * are dropped here unparsed. */
        struct backend_event ev = {.seq = seq, .json = msg, .len = len};
        if (room->filling) {
            if (seq > room->kept.log.seq)
                room->refill = true;
        } else if (seq > room->kept.log.seq && !deliver(b, room, &ev, 1)) {
            fill(b, room);
        }
        return;
    }
    json_error_t err;
    json_t *j = json_loadb(msg, len, 0, &err);
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type && strcmp(type, "presence") == 0) {
        const char *node = json_string_value(json_object_get(j, "node"));
        if (!node || strcmp(node, b->node) != 0)
            b->base.sink.on_presence(b->base.sink.arg, room->kept.id, j);
    } else if (type && strcmp(type, "statement") == 0) {
        /* Another node's deposit, told before its event: kept by the hub
         * apart from the log. This node's own (or one it read from the
         * stream already) is older than what it holds: skipped. */
        json_int_t s = json_integer_value(json_object_get(j, "seq"));
        const char *rid = json_string_value(json_object_get(j, "request_id"));
        if (rid && s > 0 && (uint64_t)s > room->kept.log.seq && b->base.sink.on_statement)
            b->base.sink.on_statement(b->base.sink.arg, room->kept.id, rid,
                                      json_object_get(j, "statement"));
    } else if (type && strcmp(type, "event") == 0) {
        struct backend_event ev = {.json = msg, .len = len};
        json_int_t s = json_integer_value(json_object_get(j, "seq"));
        ev.seq = s > 0 ? (uint64_t)s : 0;
        if (room->filling) {
            if (ev.seq > room->kept.log.seq)
                room->refill = true;
        } else if (!deliver(b, room, &ev, 1)) {
            fill(b, room);
        }
    }
    json_decref(j);
}

static void subscribe(struct redis_backend *b, const char *channel, bool on)
{
    if (!b->sub.ac || !b->sub.connected)
        return;
    const char *argv[] = {on ? "SUBSCRIBE" : "UNSUBSCRIBE", channel};
    size_t lens[] = {strlen(argv[0]), strlen(channel)};
    redisAsyncCommandArgv(b->sub.ac, on ? on_message : NULL, NULL, 2, argv, lens);
}

/* ---- presence ---- */

static json_t *presence_value(struct redis_backend *b, const char *conn, bool observer,
                              const json_t *participant)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:O}", "conn", conn, "node", b->node, "inst", b->inst,
                     "observer", observer, "participant", participant);
}

static void presence_sync(struct redis_backend *b, redisReply *r, void *arg)
{
    char *id = arg;
    struct rroom *room = find(b, id);
    if (room && r && r->type == REDIS_REPLY_ARRAY) {
        json_t *entries = json_array();
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            json_error_t err;
            json_t *v = json_loadb(r->element[i + 1]->str, r->element[i + 1]->len, 0, &err);
            if (v)
                json_array_append_new(entries, v);
        }
        json_t *msg = json_pack("{s:s, s:o}", "action", "sync", "entries", entries);
        if (msg)
            b->base.sink.on_presence(b->base.sink.arg, id, msg);
        json_decref(msg);
    }
    free(id);
}

static void read_presence(struct redis_backend *b, struct rroom *r)
{
    char k[200];
    key(k, sizeof k, r->kept.id, "presence");
    char *id = strdup(r->kept.id);
    if (!id)
        return;
    const char *argv[] = {"HGETALL", k};
    command_v(b, presence_sync, id, 2, argv);
}

/* One ZADD of one member (this process) per room with local connections:
 * the refresh costs Redis the same for one connection or twenty thousand. */
static void refresh_presence(struct redis_backend *b)
{
    char k[200], score[32];
    snprintf(score, sizeof score, "%lld", (long long)(b->now + PRESENCE_TTL_MS));
    for (size_t i = 0; i < b->rooms.n; i++) {
        struct rroom *r = (struct rroom *)b->rooms.v[i];
        if (!r->n_local)
            continue;
        key(k, sizeof k, r->kept.id, "presence:exp");
        const char *argv[] = {"ZADD", k, score, b->inst};
        command_v(b, ignore_reply, NULL, 4, argv);
    }
    char node_key[200], ttl[16];
    snprintf(node_key, sizeof node_key, "rostrum:node:%s", b->node);
    snprintf(ttl, sizeof ttl, "%d", PRESENCE_TTL_MS);
    const char *argv[] = {"SET", node_key, "1", "PX", ttl};
    command_v(b, ignore_reply, NULL, 5, argv);
}

static void prune_presence(struct redis_backend *b)
{
    char kp[200], ke[200], kc[200], now[32];
    snprintf(now, sizeof now, "%lld", (long long)b->now);
    for (size_t i = 0; i < b->rooms.n; i++) {
        struct rroom *r = (struct rroom *)b->rooms.v[i];
        if (!r->watched)
            continue;
        key(kp, sizeof kp, r->kept.id, "presence");
        key(ke, sizeof ke, r->kept.id, "presence:exp");
        key(kc, sizeof kc, r->kept.id, "events");
        const char *argv[] = {"EVAL", prune_lua, "3", kp, ke, kc, now};
        command_v(b, ignore_reply, NULL, 7, argv);
    }
}

static void r_presence(struct backend *base, const char *room_id, const char *conn, bool observer,
                       const json_t *participant)
{
    struct redis_backend *b = (struct redis_backend *)base;
    struct rroom *r = find(b, room_id);
    char kp[200], ke[200], kc[200], score[32];
    key(kp, sizeof kp, room_id, "presence");
    key(ke, sizeof ke, room_id, "presence:exp");
    key(kc, sizeof kc, room_id, "events");
    if (participant) {
        if (r && r->n_local == r->cap_local) {
            size_t cap = r->cap_local ? r->cap_local * 2 : 16;
            char **l = realloc(r->local, cap * sizeof *l);
            if (l) {
                r->local = l;
                r->cap_local = cap;
            }
        }
        if (r && r->n_local < r->cap_local)
            r->local[r->n_local++] = strdup(conn);
        json_t *v = presence_value(b, conn, observer, participant);
        char *vs = v ? json_dumps(v, JSON_COMPACT) : NULL;
        json_object_set_new(v, "type", json_string("presence"));
        json_object_set_new(v, "action", json_string("join"));
        char *msg = v ? json_dumps(v, JSON_COMPACT) : NULL;
        snprintf(score, sizeof score, "%lld", (long long)(b->now + PRESENCE_TTL_MS));
        if (vs && msg) {
            const char *a[] = {"EVAL", presence_join_lua, "3", kp, ke, kc, conn, vs, score, b->inst, msg};
            command_v(b, ignore_reply, NULL, 11, a);
        }
        free(vs);
        free(msg);
        json_decref(v);
        return;
    }
    for (size_t i = 0; r && i < r->n_local; i++)
        if (strcmp(r->local[i], conn) == 0) {
            free(r->local[i]);
            r->local[i] = r->local[--r->n_local];
            break;
        }
    json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "type", "presence", "action", "leave", "conn", conn,
                          "node", b->node);
    char *msg = v ? json_dumps(v, JSON_COMPACT) : NULL;
    if (msg) {
        const char *a[] = {"EVAL", presence_leave_lua, "2", kp, kc, conn, msg};
        command_v(b, ignore_reply, NULL, 7, a);
    }
    free(msg);
    json_decref(v);
}

/* ---- opening a room ---- */

struct open_ctx {
    char id[PROTO_ROOM_BUF];
    void (*cb)(void *arg, enum backend_result r, struct room *initial, struct room *current,
               const json_t *presence);
    void *arg;
    json_t *state;     /* {"initial","epoch","previous_epoch","peak","peak_at"} */
    json_t *members;   /* array of directory entries */
    json_t *presence;  /* array of presence entries */
    json_t *statements; /* request id -> {"text","lang","sub"} */
    struct backend_event *ev; /* the stream, borrowing log_reply's strings */
    long n_ev;
    redisReply *log_reply;
    bool gone, failed;
};

static void open_state(struct redis_backend *b, redisReply *r, void *arg)
{
    struct open_ctx *x = arg;
    (void)b;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
        x->failed = true;
        return;
    }
    if (r->element[0]->type != REDIS_REPLY_STRING) {
        x->gone = true;
        return;
    }
    json_error_t err;
    json_t *initial = json_loadb(r->element[0]->str, r->element[0]->len, 0, &err);
    x->state = json_pack("{s:o?, s:s?, s:s?}", "initial", initial, "epoch",
                         r->element[1]->type == REDIS_REPLY_STRING ? r->element[1]->str : NULL,
                         "previous_epoch",
                         r->element[2]->type == REDIS_REPLY_STRING ? r->element[2]->str : NULL);
    if (x->state && r->element[3]->type == REDIS_REPLY_STRING &&
        r->element[4]->type == REDIS_REPLY_STRING) {
        json_object_set_new(x->state, "peak", json_integer(strtoll(r->element[3]->str, NULL, 10)));
        json_object_set_new(x->state, "peak_at", json_integer(strtoll(r->element[4]->str, NULL, 10)));
    }
}

static void open_members(struct redis_backend *b, redisReply *r, void *arg)
{
    struct open_ctx *x = arg;
    (void)b;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        x->failed = true;
        return;
    }
    x->members = json_array();
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        json_error_t err;
        json_t *m = json_loadb(r->element[i + 1]->str, r->element[i + 1]->len, 0, &err);
        if (m)
            json_array_append_new(x->members, m);
    }
}

/* HGETALL of a room's statements into a new object (request id ->
 * statement); NULL for a reply that is not a hash. */
static json_t *statements_of(redisReply *r)
{
    json_t *o;
    if (!r || r->type != REDIS_REPLY_ARRAY || !(o = json_object()))
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        json_error_t err;
        if (r->element[i]->type != REDIS_REPLY_STRING || r->element[i + 1]->type != REDIS_REPLY_STRING)
            continue;
        json_t *v = json_loadb(r->element[i + 1]->str, r->element[i + 1]->len, 0, &err);
        if (v)
            json_object_set_new(o, r->element[i]->str, v);
    }
    return o;
}

static void open_statements(struct redis_backend *b, redisReply *r, void *arg)
{
    struct open_ctx *x = arg;
    (void)b;
    x->statements = statements_of(r);
    if (!x->statements)
        x->failed = true;
}

/* The stream: parsed when the last reply is in (hiredis frees a reply
 * when its callback returns, so the events are copied). */
static void open_log(struct redis_backend *b, redisReply *r, void *arg)
{
    struct open_ctx *x = arg;
    struct backend_event *ev = NULL;
    (void)b;
    x->n_ev = r ? xrange_events(r, &ev) : -1;
    for (long i = 0; i < x->n_ev; i++) {
        char *copy = malloc(ev[i].len + 1);
        if (!copy) {
            for (long k = 0; k < i; k++)
                free((char *)ev[k].json);
            x->n_ev = -1;
            break;
        }
        memcpy(copy, ev[i].json, ev[i].len);
        copy[ev[i].len] = '\0';
        ev[i].json = copy;
    }
    if (x->n_ev < 0) {
        free(ev);
        ev = NULL;
    }
    x->ev = ev;
}

/* The last reply of the open pipeline: the other nodes' connections. The
 * room as it is now is the room as created with every event applied. */
static void open_presence(struct redis_backend *b, redisReply *r, void *arg)
{
    struct open_ctx *x = arg;
    struct rroom *rr = NULL;
    struct room *initial = NULL, *current = NULL;
    struct backend_event *ev = x->ev;
    enum backend_result res = BACKEND_UNAVAILABLE;
    char err[200] = "";
    long n = x->n_ev;
    x->presence = json_array();
    if (!r || r->type != REDIS_REPLY_ARRAY)
        x->failed = true;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        json_error_t jerr;
        json_t *v = json_loadb(r->element[i + 1]->str, r->element[i + 1]->len, 0, &jerr);
        if (v)
            json_array_append_new(x->presence, v);
    }
    if (x->gone) {
        res = BACKEND_NOT_FOUND;
        goto done;
    }
    if (x->failed || n < 0 || !x->state)
        goto done;
    initial = room_state_from_json(json_object_get(x->state, "initial"), err, sizeof err);
    current = initial ? room_clone(initial) : NULL;
    rr = current ? calloc(1, sizeof *rr) : NULL;
    if (!rr) {
        log_error("room %s: cannot read it from redis: %s", x->id, err);
        goto done;
    }
    snprintf(rr->kept.id, sizeof rr->kept.id, "%s", x->id);
    snprintf(rr->epoch, sizeof rr->epoch, "%s", current->epoch);
    snprintf(initial->previous_epoch, sizeof initial->previous_epoch, "%s",
             json_string_value(json_object_get(x->state, "previous_epoch"))
                 ? json_string_value(json_object_get(x->state, "previous_epoch"))
                 : "");
    eventlog_start(&rr->kept.log, x->id, current->epoch);
    for (long i = 0; i < n; i++) {
        /* each event parsed once: applied and hashed from one tree */
        json_error_t err2;
        json_t *t = json_loadb(ev[i].json, ev[i].len, 0, &err2);
        bool bad = ev[i].seq != rr->kept.log.seq + 1 ||
                   room_apply_json(current, t, NULL, NULL, NULL) != ROOM_TEXT_APPLIED ||
                   eventlog_push(&rr->kept.log, ev[i].json, ev[i].len, NULL, t) != 0;
        json_decref(t);
        if (bad) {
            log_error("room %s: event %llu in redis does not apply; the room cannot be opened", x->id,
                      (unsigned long long)ev[i].seq);
            goto done;
        }
    }
    snprintf(current->chain_head, sizeof current->chain_head, "%s",
             eventlog_hash(&rr->kept.log, rr->kept.log.seq));
    json_int_t peak = json_integer_value(json_object_get(x->state, "peak"));
    json_int_t peak_at = json_integer_value(json_object_get(x->state, "peak_at"));
    if (peak > 0 && peak < 100000000 && peak_at >= 0 && peak_at < (INT64_C(1) << 53)) {
        current->observers_peak = (long)peak;
        current->observers_peak_at = peak_at;
    }
    /* the statements kept apart from the log (contract 9.4) */
    const char *rid;
    json_t *sv;
    json_object_foreach(x->statements, rid, sv) {
        if (room_statement_put(current, rid, json_string_value(json_object_get(sv, "sub")),
                               json_string_value(json_object_get(sv, "lang")),
                               json_string_value(json_object_get(sv, "text"))) != 0)
            log_error("room %s: the statement of %s in redis does not read; left out", x->id, rid);
    }
    size_t i;
    const json_t *mj;
    json_array_foreach(x->members, i, mj)
        room_participant_seen_json(current, mj);
    rr->kept.initial = initial;
    initial = NULL;
    if (eventlog_rooms_add(&b->rooms, &rr->kept) != 0)
        goto done;
    rr = NULL;
    res = BACKEND_OK;
done:
    for (long k = 0; k < n; k++)
        free((char *)ev[k].json);
    free(ev);
    rroom_free(rr);
    if (res == BACKEND_OK) {
        struct room *init_copy = room_clone(find(b, x->id)->kept.initial);
        x->cb(x->arg, res, init_copy, current, x->presence);
    } else {
        room_destroy(initial);
        room_destroy(current);
        x->cb(x->arg, res, NULL, NULL, NULL);
    }
    json_decref(x->state);
    json_decref(x->members);
    json_decref(x->presence);
    json_decref(x->statements);
    free(x);
}

static void r_open(struct backend *base, const char *room_id,
                   void (*cb)(void *arg, enum backend_result r, struct room *initial,
                              struct room *current, const json_t *presence),
                   void *arg)
{
    struct redis_backend *b = (struct redis_backend *)base;
    struct open_ctx *x = calloc(1, sizeof *x);
    if (!x || !b->up) {
        free(x);
        cb(arg, BACKEND_UNAVAILABLE, NULL, NULL, NULL);
        return;
    }
    struct rroom *old = find(b, room_id);
    if (old)
        forget(b, old); /* a fresh read replaces what was kept */
    snprintf(x->id, sizeof x->id, "%s", room_id);
    x->cb = cb;
    x->arg = arg;
    char ks[200], km[200], kl[200], kp[200];
    key(ks, sizeof ks, room_id, "state");
    key(km, sizeof km, room_id, "members");
    key(kl, sizeof kl, room_id, "log");
    key(kp, sizeof kp, room_id, "presence");
    /* Pipelined: the replies come back in this order. */
    const char *a1[] = {"HMGET", ks, "initial", "epoch", "previous_epoch", "observers_peak",
                        "observers_peak_at"};
    command_v(b, open_state, x, 7, a1);
    const char *a2[] = {"HGETALL", km};
    command_v(b, open_members, x, 2, a2);
    char kst[200];
    key(kst, sizeof kst, room_id, "statements");
    const char *a2b[] = {"HGETALL", kst};
    command_v(b, open_statements, x, 2, a2b);
    const char *a3[] = {"XRANGE", kl, "-", "+"};
    command_v(b, open_log, x, 4, a3);
    /* Connections of nodes that died expire first, so that a room nobody
     * here watched does not look busier than it is. */
    char ke[200], kc[200], now[32];
    key(ke, sizeof ke, room_id, "presence:exp");
    key(kc, sizeof kc, room_id, "events");
    snprintf(now, sizeof now, "%lld", (long long)b->now);
    const char *a4[] = {"EVAL", prune_lua, "3", kp, ke, kc, now};
    command_v(b, ignore_reply, NULL, 7, a4);
    const char *a5[] = {"HGETALL", kp};
    command_v(b, open_presence, x, 2, a5);
}

/* ---- create, commit, rooms ---- */

struct done_ctx {
    backend_done_cb cb;     /* create's */
    backend_commit_cb ccb;  /* commit's */
    void *arg;
    uint64_t first;         /* a commit's first seq as stored */
    char id[PROTO_ROOM_BUF];
    uint64_t expected;
    size_t n;
    struct backend_event ev[BACKEND_MAX_EVENTS];
    char *texts[BACKEND_MAX_EVENTS];
    char hash[BACKEND_MAX_EVENTS][CHAIN_HEX_BUF]; /* a commit's, "" unknown */
    char stmt_request[PROTO_MAX_REQUEST_ID + 1]; /* "" = none */
    json_t *stmt;                                /* {"text","lang","sub"} */
};

static void created(struct redis_backend *b, redisReply *r, void *arg)
{
    struct done_ctx *x = arg;
    enum backend_result res = !r || r->type != REDIS_REPLY_INTEGER ? BACKEND_UNAVAILABLE
                              : r->integer == 1                    ? BACKEND_OK
                                                                   : BACKEND_EXISTS;
    if (res == BACKEND_OK) {
        const char *argv[] = {"SADD", "rostrum:rooms", x->id};
        command_v(b, ignore_reply, NULL, 3, argv);
    }
    x->cb(x->arg, res);
    free(x);
}

static void r_create(struct backend *base, const struct room *initial, backend_done_cb cb, void *arg)
{
    struct redis_backend *b = (struct redis_backend *)base;
    struct done_ctx *x = calloc(1, sizeof *x);
    json_t *state = room_state_json(initial, true);
    char *s = state ? json_dumps(state, JSON_COMPACT) : NULL;
    json_decref(state);
    if (!x || !s || !b->up) {
        free(x);
        free(s);
        cb(arg, BACKEND_UNAVAILABLE);
        return;
    }
    x->cb = cb;
    x->arg = arg;
    snprintf(x->id, sizeof x->id, "%s", initial->id);
    char ks[200];
    key(ks, sizeof ks, initial->id, "state");
    const char *argv[] = {"EVAL", create_lua, "1", ks, s, initial->epoch};
    command_v(b, created, x, 6, argv);
    free(s);
}

static void done_free(struct done_ctx *x)
{
    for (size_t i = 0; i < x->n; i++)
        free(x->texts[i]);
    json_decref(x->stmt);
    free(x);
}

/* Answers a commit and frees x. */
static void finish(struct done_ctx *x, enum backend_result r)
{
    x->ccb(x->arg, r, x->first);
    done_free(x);
}

static void conflict_filled(struct redis_backend *b, struct rroom *r, void *arg)
{
    (void)b, (void)r;
    finish(arg, BACKEND_CONFLICT);
}

/* A commit's events as stored from x->first on: the texts renumbered the
 * way commit_lua did (the head {"type":"event","seq": is the same).
 * Returns false when out of memory or a text is not an event. */
static bool renumber(struct done_ctx *x)
{
    static const char head[] = "{\"type\":\"event\",\"seq\":";
    for (size_t i = 0; i < x->n; i++) {
        char old[24], now[24];
        int ol = snprintf(old, sizeof old, "%llu", (unsigned long long)(x->expected + 1 + i));
        int nl = snprintf(now, sizeof now, "%llu", (unsigned long long)(x->first + i));
        size_t hl = sizeof head - 1, len = x->ev[i].len;
        if (len < hl + (size_t)ol || memcmp(x->texts[i], head, hl) != 0 ||
            memcmp(x->texts[i] + hl, old, (size_t)ol) != 0)
            return false;
        char *t = malloc(len - (size_t)ol + (size_t)nl + 1);
        if (!t)
            return false;
        memcpy(t, head, hl);
        memcpy(t + hl, now, (size_t)nl);
        memcpy(t + hl + nl, x->texts[i] + hl + ol, len - hl - (size_t)ol + 1);
        free(x->texts[i]);
        x->texts[i] = t;
        x->ev[i].json = t;
        x->ev[i].len = len - (size_t)ol + (size_t)nl;
        x->ev[i].seq = x->first + i;
        x->ev[i].hash = NULL; /* its predecessor is not the one it was computed on */
    }
    return true;
}

/* The events stored between a commit's seen seq and its own were read
 * from the stream, its own with them: answered OK unless that read failed
 * (the connection dropped: the ack must not come before its events, and
 * what happened is told as for any lost answer). */
static void gap_filled(struct redis_backend *b, struct rroom *r, void *arg)
{
    struct done_ctx *x = arg;
    (void)b;
    finish(x, r && r->kept.log.seq >= x->first + x->n - 1 ? BACKEND_OK : BACKEND_UNAVAILABLE);
}

static void committed(struct redis_backend *b, redisReply *r, void *arg)
{
    struct done_ctx *x = arg;
    struct rroom *room = find(b, x->id);
    enum backend_result res = BACKEND_UNAVAILABLE;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_INTEGER && r->element[1]->type == REDIS_REPLY_INTEGER) {
        long long status = r->element[0]->integer;
        if (status == 1) {
            x->first = (uint64_t)r->element[1]->integer;
            res = BACKEND_OK;
            /* Delivered here before the answer, whatever the subscriber
             * does: the ack must follow its events. The statement first
             * (a commit with one is never renumbered). */
            if (room && x->stmt && b->base.sink.on_statement)
                b->base.sink.on_statement(b->base.sink.arg, room->kept.id, x->stmt_request, x->stmt);
            bool readable = x->first == x->expected + 1 || renumber(x);
            /* Other nodes' events came first and are not all here yet, or
             * ours are not readable here: the stream has them all. */
            if (room && (!readable || room->kept.log.seq + 1 < x->first ||
                         !deliver(b, room, x->ev, x->n))) {
                fill_then(b, room, gap_filled, x);
                return;
            }
        } else if (status == 0) {
            if (room) {
                fill_then(b, room, conflict_filled, x);
                return;
            }
            res = BACKEND_CONFLICT;
        } else if (status == -2) {
            log_warn("room %s: a commit reached redis after its deadline and was dropped", x->id);
        } else if (status == -3) {
            log_error("room %s: a commit to renumber holds a text that is not an event; dropped",
                      x->id);
        } else {
            res = BACKEND_NOT_FOUND;
        }
    }
    finish(x, res);
}

static void r_commit(struct backend *base, const char *room_id, uint64_t expected_seq,
                     unsigned reads, const struct backend_event *ev, size_t n, const json_t *state,
                     const struct backend_stmts *st, backend_commit_cb cb, void *arg)
{
    struct redis_backend *b = (struct redis_backend *)base;
    struct done_ctx *x = calloc(1, sizeof *x);
    struct rroom *room = find(b, room_id);
    char ks[200], kl[200], kc[200], kst[200], exp[32], deadline[32], nev[16];
    char nset[4], ndrop[16], gr[24], gf[24], gx[24], rd[8];
    const char *argv[16 + 2 * BACKEND_MAX_EVENTS + ROOM_MAX_EVENTS];
    size_t lens[16 + 2 * BACKEND_MAX_EVENTS + ROOM_MAX_EVENTS];
    size_t last_rules = 0, last_floor = 0, last_state = 0;
    int argc = 0;
    /* The sequenced state only: the directory lives in the members hash. */
    char *snap = NULL, *stmt_text = NULL, *stmt_msg = NULL;
    size_t ndrops = st ? st->ndrop : 0;
    if (!x || n == 0 || n > BACKEND_MAX_EVENTS || ndrops > ROOM_MAX_EVENTS || !b->up)
        goto fail;
    if (st && st->request_id) {
        /* the stored value, and what the other nodes are told (with the
         * seq of the event that deposits it: a node that already has that
         * event, this one, ignores it; exact, since such a commit reads
         * the seq) */
        json_t *m = json_pack("{s:s, s:I, s:s, s:O}", "type", "statement", "seq",
                              (json_int_t)(expected_seq + n), "request_id", st->request_id,
                              "statement", st->statement);
        stmt_text = json_dumps(st->statement, JSON_COMPACT);
        stmt_msg = m ? json_dumps(m, JSON_COMPACT) : NULL;
        json_decref(m);
        if (!stmt_text || !stmt_msg)
            goto fail;
        snprintf(x->stmt_request, sizeof x->stmt_request, "%s", st->request_id);
        x->stmt = json_incref((json_t *)st->statement);
        reads |= BACKEND_READS_SEQ;
    }
    snap = state ? json_dumps(state, JSON_COMPACT) : strdup("");
    if (!snap)
        goto fail;
    x->ccb = cb;
    x->arg = arg;
    x->expected = expected_seq;
    x->n = n;
    snprintf(x->id, sizeof x->id, "%s", room_id);
    for (size_t i = 0; i < n; i++) {
        x->texts[i] = malloc(ev[i].len + 1);
        if (!x->texts[i])
            goto fail;
        memcpy(x->texts[i], ev[i].json, ev[i].len);
        x->texts[i][ev[i].len] = '\0';
        x->ev[i].seq = ev[i].seq;
        x->ev[i].json = x->texts[i];
        x->ev[i].len = ev[i].len;
        if (ev[i].changes & BACKEND_READS_RULES)
            last_rules = i + 1;
        if (ev[i].changes & BACKEND_READS_FLOOR)
            last_floor = i + 1;
        if (ev[i].changes & BACKEND_READS_STATE)
            last_state = i + 1;
        /* The chain hash stored with the event (and kept with it when it
         * is delivered here): from this node's copy of the log when it is
         * where the commit expects it (the script drops it when it
         * renumbers the events), from the hub's tree when it gave one. */
        char *hash = x->hash[i];
        hash[0] = '\0';
        if (room && room->kept.log.seq == expected_seq) {
            json_error_t err;
            json_t *j = ev[i].tree ? NULL : json_loadb(ev[i].json, ev[i].len, 0, &err);
            const json_t *tree = ev[i].tree ? ev[i].tree : j;
            const char *prev = i ? x->hash[i - 1] : eventlog_hash(&room->kept.log, room->kept.log.seq);
            if (!tree || !prev[0] || chain_next(prev, tree, hash) != 0)
                hash[0] = '\0';
            json_decref(j);
        }
        x->ev[i].hash = hash[0] ? hash : NULL;
    }
    key(ks, sizeof ks, room_id, "state");
    key(kl, sizeof kl, room_id, "log");
    key(kc, sizeof kc, room_id, "events");
    key(kst, sizeof kst, room_id, "statements");
    snprintf(exp, sizeof exp, "%llu", (unsigned long long)expected_seq);
    snprintf(nev, sizeof nev, "%zu", n);
    /* A little less than the node's own timeout: when the node says
     * "unavailable", Redis will not commit it any more. */
    snprintf(deadline, sizeof deadline, "%lld", (long long)(b->now + COMMAND_TIMEOUT_MS - 500));
    snprintf(nset, sizeof nset, "%d", stmt_text ? 1 : 0);
    snprintf(ndrop, sizeof ndrop, "%zu", ndrops);
    snprintf(gr, sizeof gr, "%zu", last_rules);
    snprintf(gf, sizeof gf, "%zu", last_floor);
    snprintf(gx, sizeof gx, "%zu", last_state);
    snprintf(rd, sizeof rd, "%u",
             reads & (BACKEND_READS_RULES | BACKEND_READS_FLOOR | BACKEND_READS_STATE |
                      BACKEND_READS_SEQ));
    argv[argc++] = "EVAL";
    argv[argc++] = commit_lua;
    argv[argc++] = "4";
    argv[argc++] = ks;
    argv[argc++] = kl;
    argv[argc++] = kc;
    argv[argc++] = kst;
    argv[argc++] = exp;      /* ARGV[1]: seen */
    argv[argc++] = deadline; /* ARGV[2] */
    argv[argc++] = snap;     /* ARGV[3] */
    argv[argc++] = nev;      /* ARGV[4] */
    argv[argc++] = nset;     /* ARGV[5]: statements stored */
    argv[argc++] = ndrop;    /* ARGV[6]: statements dropped */
    argv[argc++] = gr;       /* ARGV[7] */
    argv[argc++] = gf;       /* ARGV[8] */
    argv[argc++] = gx;       /* ARGV[9] */
    argv[argc++] = rd;       /* ARGV[10]: reads */
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    for (size_t i = 0; i < n; i++) {
        argv[argc] = x->texts[i];
        lens[argc++] = x->ev[i].len;
    }
    for (size_t i = 0; i < n; i++) {
        argv[argc] = x->hash[i];
        lens[argc++] = strlen(x->hash[i]);
    }
    if (stmt_text) {
        argv[argc] = st->request_id;
        lens[argc++] = strlen(st->request_id);
        argv[argc] = stmt_text;
        lens[argc++] = strlen(stmt_text);
        argv[argc] = stmt_msg;
        lens[argc++] = strlen(stmt_msg);
    }
    for (size_t i = 0; i < ndrops; i++) {
        argv[argc] = st->drop[i];
        lens[argc++] = strlen(st->drop[i]);
    }
    command(b, committed, x, argc, argv, lens);
    free(snap);
    free(stmt_text);
    free(stmt_msg);
    return;
fail:
    if (x)
        done_free(x);
    free(snap);
    free(stmt_text);
    free(stmt_msg);
    cb(arg, BACKEND_UNAVAILABLE, 0);
}

struct rooms_ctx {
    void (*cb)(void *arg, enum backend_result r, json_t *ids);
    void *arg;
};

static void rooms_read(struct redis_backend *b, redisReply *r, void *arg)
{
    struct rooms_ctx *x = arg;
    (void)b;
    json_t *ids = json_array();
    if (!r || r->type != REDIS_REPLY_ARRAY || !ids) {
        x->cb(x->arg, BACKEND_UNAVAILABLE, NULL);
    } else {
        for (size_t i = 0; i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_STRING)
                json_array_append_new(ids, json_string(r->element[i]->str));
        x->cb(x->arg, BACKEND_OK, ids);
    }
    json_decref(ids);
    free(x);
}

static void r_rooms(struct backend *base, void (*cb)(void *, enum backend_result, json_t *), void *arg)
{
    struct redis_backend *b = (struct redis_backend *)base;
    struct rooms_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        cb(arg, BACKEND_UNAVAILABLE, NULL);
        return;
    }
    x->cb = cb;
    x->arg = arg;
    const char *argv[] = {"SMEMBERS", "rostrum:rooms"};
    command_v(b, rooms_read, x, 2, argv);
}

static void r_save_member(struct backend *base, const char *room_id, const json_t *member)
{
    struct redis_backend *b = (struct redis_backend *)base;
    char km[200];
    char *v = json_dumps(member, JSON_COMPACT);
    const char *sub = json_string_value(json_object_get(member, "sub"));
    key(km, sizeof km, room_id, "members");
    if (v && sub) {
        const char *argv[] = {"HSET", km, sub, v};
        command_v(b, ignore_reply, NULL, 4, argv);
    }
    free(v);
}

/* ---- what the hub reads from what this node keeps ---- */

static void r_save_peak(struct backend *base, const char *room_id, long peak, int64_t at)
{
    struct redis_backend *b = (struct redis_backend *)base;
    char ks[200], n[32], t[32];
    if (!b->up)
        return;
    key(ks, sizeof ks, room_id, "state");
    snprintf(n, sizeof n, "%ld", peak);
    snprintf(t, sizeof t, "%lld", (long long)at);
    const char *argv[] = {"EVAL", peak_lua, "1", ks, n, t};
    command_v(b, ignore_reply, NULL, 6, argv);
}

static void r_history(struct backend *base, const char *room_id, uint64_t since, size_t limit,
                      backend_history_cb cb, void *arg)
{
    eventlog_rooms_history(&((struct redis_backend *)base)->rooms, room_id, since, limit, cb, arg);
}

static json_t *r_record(struct backend *base, const char *room_id, const struct room **initial)
{
    return eventlog_rooms_record(&((struct redis_backend *)base)->rooms, room_id, initial);
}

static const struct eventlog *r_record_log(struct backend *base, const char *room_id,
                                           const struct room **initial)
{
    return eventlog_rooms_record_log(&((struct redis_backend *)base)->rooms, room_id, initial);
}

static void r_watch(struct backend *base, const char *room_id, bool on, uint64_t from)
{
    struct redis_backend *b = (struct redis_backend *)base;
    struct rroom *r = find(b, room_id);
    char kc[200];
    key(kc, sizeof kc, room_id, "events");
    if (!r)
        return;
    (void)from;
    if (on) {
        if (!r->watched) {
            r->watched = true;
            subscribe(b, kc, true); /* the confirmation starts a fill */
        } else {
            fill(b, r);
        }
        return;
    }
    if (r->watched)
        subscribe(b, kc, false);
    forget(b, r);
}

struct sync_ctx {
    char id[PROTO_ROOM_BUF];
    backend_done_cb cb;
    void *arg;
    uint64_t want;
};

static void sync_filled(struct redis_backend *b, struct rroom *r, void *arg)
{
    struct sync_ctx *x = arg;
    (void)b;
    x->cb(x->arg, r && r->kept.log.seq >= x->want ? BACKEND_OK : BACKEND_UNAVAILABLE);
    free(x);
}

static void sync_seq(struct redis_backend *b, redisReply *reply, void *arg)
{
    struct sync_ctx *x = arg;
    struct rroom *r = find(b, x->id);
    if (!r || !reply || reply->type != REDIS_REPLY_STRING) {
        x->cb(x->arg, BACKEND_UNAVAILABLE);
        free(x);
        return;
    }
    x->want = strtoull(reply->str, NULL, 10);
    if (r->kept.log.seq >= x->want) {
        x->cb(x->arg, BACKEND_OK);
        free(x);
        return;
    }
    fill_then(b, r, sync_filled, x);
}

static void r_sync(struct backend *base, const char *room_id, backend_done_cb cb, void *arg)
{
    struct redis_backend *b = (struct redis_backend *)base;
    struct sync_ctx *x = calloc(1, sizeof *x);
    char ks[200];
    if (!x || !b->up || !find(b, room_id)) {
        free(x);
        cb(arg, BACKEND_UNAVAILABLE);
        return;
    }
    snprintf(x->id, sizeof x->id, "%s", room_id);
    x->cb = cb;
    x->arg = arg;
    key(ks, sizeof ks, room_id, "state");
    const char *argv[] = {"HGET", ks, "seq"};
    command_v(b, sync_seq, x, 3, argv);
}

static int r_load(struct backend *base, void (*each)(void *, struct room *, struct room *), void *arg)
{
    (void)base, (void)each, (void)arg;
    return 0; /* rooms are opened when used */
}

static bool r_available(struct backend *base)
{
    return ((struct redis_backend *)base)->up;
}

/* ---- coming back ---- */

struct reset_ctx {
    struct redis_backend *b;
    char id[PROTO_ROOM_BUF];
    bool watched;
};

static void reset_opened(void *arg, enum backend_result res, struct room *initial, struct room *current,
                         const json_t *presence)
{
    (void)presence;
    struct reset_ctx *x = arg;
    struct rroom *r = res == BACKEND_OK ? find(x->b, x->id) : NULL;
    room_destroy(initial);
    if (r) {
        r->watched = x->watched;
        x->b->base.sink.on_reset(x->b->base.sink.arg, x->id, current);
    } else {
        room_destroy(current);
    }
    free(x);
}

/* The room as this node knows it: created, then every kept event. */
static struct room *replay(const struct rroom *r)
{
    struct room *current = room_clone(r->kept.initial);
    for (uint64_t i = 0; current && i < r->kept.log.seq; i++) {
        if (room_apply_text(current, r->kept.log.ev[i], r->kept.log.len[i], NULL, NULL, NULL, NULL) !=
            ROOM_TEXT_APPLIED) {
            room_destroy(current);
            return NULL;
        }
    }
    return current;
}

static void epoch_checked(struct redis_backend *b, redisReply *reply, void *arg)
{
    char *id = arg;
    struct rroom *r = find(b, id);
    if (!r || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        free(id);
        return;
    }
    redisReply *epoch = reply->element[0], *seq = reply->element[1];
    bool same = epoch->type == REDIS_REPLY_STRING && strcmp(epoch->str, r->epoch) == 0;
    unsigned long long stored = seq->type == REDIS_REPLY_STRING ? strtoull(seq->str, NULL, 10) : 0;
    if (same && stored >= r->kept.log.seq) {
        free(id);
        return;
    }
    /* Redis lost the room, or the end of its history (a restart without
     * the last writes), or another node already started it again. Seqs of
     * the lost history must never be compared with new ones: start the
     * room again under a new epoch, from what this node knows, at seq 0
     * (the first node to do so wins), then read it back as Redis has it and
     * hand it over; clients rejoin. */
    log_warn("room %s: redis lost history of epoch %s (has seq %llu of %llu)", id, r->epoch, stored,
             (unsigned long long)r->kept.log.seq);
    if (same || epoch->type == REDIS_REPLY_NIL) {
        struct room *current = replay(r);
        unsigned char raw[8];
        if (current && RAND_bytes(raw, sizeof raw) == 1) {
            static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
            for (int i = 0; i < 8; i++)
                current->epoch[i] = alphabet[raw[i] % 36];
            current->epoch[8] = '\0';
            current->seq = 0;
            json_t *state = room_state_json(current, true);
            char *st = state ? json_dumps(state, JSON_COMPACT) : NULL;
            char ks[200], kl[200];
            key(ks, sizeof ks, id, "state");
            key(kl, sizeof kl, id, "log");
            if (st) {
                const char *argv[] = {"EVAL", reseed_lua, "2", ks, kl, r->epoch, st, current->epoch};
                command_v(b, ignore_reply, NULL, 8, argv);
                const char *a2[] = {"SADD", "rostrum:rooms", id};
                command_v(b, ignore_reply, NULL, 3, a2);
            }
            free(st);
            json_decref(state);
        }
        room_destroy(current);
    }
    struct reset_ctx *x = calloc(1, sizeof *x);
    if (x) {
        x->b = b;
        x->watched = r->watched;
        snprintf(x->id, sizeof x->id, "%s", id);
        r_open(&b->base, id, reset_opened, x);
    }
    free(id);
}

static void back_up(struct redis_backend *b)
{
    b->up = true;
    b->backoff = BACKOFF_MIN_MS;
    b->probe_sent = b->probe_seen = b->now;
    log_info("redis %s:%d reachable", b->host, b->port);
    subscribe(b, b->probe_channel, true);
    for (size_t i = 0; i < b->rooms.n; i++) {
        struct rroom *r = (struct rroom *)b->rooms.v[i];
        char ks[200], kc[200];
        key(ks, sizeof ks, r->kept.id, "state");
        key(kc, sizeof kc, r->kept.id, "events");
        char *id = strdup(r->kept.id);
        if (id) {
            const char *argv[] = {"HMGET", ks, "epoch", "seq"};
            command_v(b, epoch_checked, id, 4, argv);
        }
        if (r->watched)
            subscribe(b, kc, true); /* the confirmation fills the gap */
        read_presence(b, r);
    }
    b->base.sink.on_reconnect(b->base.sink.arg);
}

/* The answer to the first command on a connection: AUTH, or PING when
 * there are no credentials (so that a Redis that wants a password is
 * told apart from one that is down). A refusal is said once, clearly, and
 * the node keeps retrying with backoff: Redis may be given the password
 * (CONFIG SET requirepass, ACL SETUSER) or the node the right one
 * (SIGHUP rereads --redis-password-file). Redis' error text never holds
 * the password. */
static void hello_done(redisAsyncContext *ac, void *reply, void *priv)
{
    struct rconn *c = priv;
    struct redis_backend *b = c->b;
    redisReply *r = reply;
    if (c->ac != ac || !r)
        return; /* a connection dropped since (lost() already ran) */
    if (r->type == REDIS_REPLY_ERROR) {
        if (!b->auth_refused) {
            b->auth_refused = true;
            if (b->password)
                log_error("redis %s:%d refused the credentials%s%s (%s); commands get "
                          "'unavailable' and /healthz 503 until it accepts them (retrying)",
                          b->host, b->port, b->user ? " of user " : "", b->user ? b->user : "",
                          r->str);
            else
                log_error("redis %s:%d wants authentication (%s): give --redis-password-file "
                          "or USER:PASSWORD@ in --redis; commands get 'unavailable' until then",
                          b->host, b->port, r->str);
        }
        lost(b, "authentication refused");
        return;
    }
    b->hello_ok++;
}

static int hello(struct redis_backend *b, struct rconn *c)
{
    const char *argv[3];
    size_t lens[3];
    int argc = 0;
    if (b->password) {
        argv[argc++] = "AUTH";
        if (b->user)
            argv[argc++] = b->user;
        argv[argc++] = b->password;
    } else {
        argv[argc++] = "PING";
    }
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return redisAsyncCommandArgv(c->ac, hello_done, c, argc, argv, lens) == REDIS_OK ? 0 : -1;
}

static char *dup_secret(char *old, const char *v)
{
    if (old) {
        OPENSSL_cleanse(old, strlen(old));
        free(old);
    }
    return v ? strdup(v) : NULL;
}

void backend_redis_auth(struct backend *base, const char *user, const char *password)
{
    struct redis_backend *b = (struct redis_backend *)base;
    b->user = dup_secret(b->user, password ? user : NULL);
    b->password = dup_secret(b->password, password);
}

static void selected(struct redis_backend *b, redisReply *r, void *arg)
{
    (void)arg;
    if (!r || r->type == REDIS_REPLY_ERROR)
        lost(b, "SELECT failed");
}

static void r_tick(struct backend *base, int64_t now)
{
    struct redis_backend *b = (struct redis_backend *)base;
    b->now = now;
    if (!b->cmd.ac && !b->sub.ac) {
        if (now < b->next_attempt)
            return;
        if (connect_one(b, &b->cmd) != 0 || connect_one(b, &b->sub) != 0) {
            lost(b, "cannot connect");
            return;
        }
        return;
    }
    if (!b->up) {
        if (b->cmd.connected && b->sub.connected && !b->hello_sent) {
            /* AUTH before anything else, on both connections. */
            b->hello_sent = 1;
            b->hello_at = now;
            if (hello(b, &b->cmd) != 0 || hello(b, &b->sub) != 0)
                lost(b, "cannot send AUTH");
        } else if (b->hello_sent && b->hello_ok < 2) {
            if (now - b->hello_at > COMMAND_TIMEOUT_MS)
                lost(b, "AUTH was not answered in time");
        } else if (b->hello_ok == 2) {
            if (b->auth_refused)
                log_info("redis %s:%d accepts the credentials again", b->host, b->port);
            b->auth_refused = false;
            /* Pub/sub ignores the database; the commands use it. */
            if (b->db > 0) {
                char db[16];
                snprintf(db, sizeof db, "%d", b->db);
                const char *argv[] = {"SELECT", db};
                command_v(b, selected, NULL, 2, argv);
            }
            back_up(b);
        } else if (now > b->next_attempt + COMMAND_TIMEOUT_MS) {
            lost(b, "connect timed out");
        }
        return;
    }
    if (b->inflight > 0 && now - b->busy_since > COMMAND_TIMEOUT_MS) {
        lost(b, "a command was not answered in time");
        return;
    }
    /* Dead: the probe unanswered and nothing else received either (a
     * subscriber busy delivering events is alive, even if the probe waits
     * behind them). */
    if (b->probe_seen < b->probe_sent && now - b->probe_sent > PROBE_MS && now - b->sub_seen > PROBE_MS) {
        lost(b, "the subscriber connection stopped delivering");
        return;
    }
    if (now - b->probe_sent >= PROBE_MS && b->probe_seen >= b->probe_sent) {
        b->probe_sent = now;
        const char *argv[] = {"PUBLISH", b->probe_channel, "probe"};
        command_v(b, ignore_reply, NULL, 3, argv);
    }
    if (now - b->last_refresh >= PRESENCE_REFRESH_MS) {
        b->last_refresh = now;
        refresh_presence(b);
    }
    if (now - b->last_prune >= PRUNE_MS) {
        b->last_prune = now;
        prune_presence(b);
    }
}

static void r_destroy(struct backend *base)
{
    struct redis_backend *b = (struct redis_backend *)base;
    drop(&b->cmd);
    drop(&b->sub);
    for (size_t i = 0; i < b->rooms.n; i++)
        rroom_free((struct rroom *)b->rooms.v[i]);
    eventlog_rooms_free(&b->rooms);
    b->user = dup_secret(b->user, NULL);
    b->password = dup_secret(b->password, NULL);
    free(b);
}

static const struct backend_ops redis_ops = {
    .name = "redis",
    .destroy = r_destroy,
    .available = r_available,
    .load = r_load,
    .create = r_create,
    .commit = r_commit,
    .history = r_history,
    .save_member = r_save_member,
    .save_peak = r_save_peak,
    .record = r_record,
    .record_log = r_record_log,
    .open = r_open,
    .rooms = r_rooms,
    .watch = r_watch,
    .presence = r_presence,
    .sync = r_sync,
    .tick = r_tick,
};

struct backend *backend_redis_create(const char *url, const char *node, const struct loop *loop)
{
    struct redis_backend *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->base.ops = &redis_ops;
    b->loop = loop;
    b->cmd.b = b->sub.b = b;
    b->cmd.name = "command";
    b->sub.name = "subscriber";
    b->backoff = BACKOFF_MIN_MS;
    b->port = 6379;
    const char *p = url + strlen("redis://");
    const char *end;
    if (*p == '[') {
        /* [IPv6]:port, as config writes it */
        p++;
        end = strchr(p, ']');
        if (!end)
            end = p;
    } else {
        end = p + strcspn(p, ":/");
    }
    if (end == p || (size_t)(end - p) >= sizeof b->host) {
        log_error("--redis %s: no host", url);
        free(b);
        return NULL;
    }
    memcpy(b->host, p, (size_t)(end - p));
    if (*end == ']')
        end++;
    if (*end == ':')
        b->port = atoi(end + 1);
    const char *slash = strchr(p, '/');
    if (slash && slash[1])
        b->db = atoi(slash + 1);
    if (b->port <= 0 || b->port > 65535 || b->db < 0) {
        log_error("--redis %s: bad port or database", url);
        free(b);
        return NULL;
    }
    snprintf(b->node, sizeof b->node, "%s", node);
    snprintf(b->probe_channel, sizeof b->probe_channel, "rostrum:probe:%s", node);
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        /* still one lifetime apart from the next: the pid and the clock */
        uint64_t x = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
        memcpy(rnd, &x, sizeof rnd);
    }
    snprintf(b->inst, sizeof b->inst, "%.120s/%02x%02x%02x%02x%02x%02x%02x%02x", node, rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    return &b->base;
}
