/*
 * backend: where rooms and their committed events live, behind one
 * interface (like Redis' ConnectionType vtable). The hub decides; the
 * backend stores and orders:
 *
 *   commit(room, seen_seq, reads, events)
 *                                       stores the events after seen_seq,
 *                                       or after other nodes' events that
 *                                       came meanwhile when none of them
 *                                       changed what the decision read;
 *                                       on success the events are delivered
 *                                       to the sink (every node holding the
 *                                       room, this one included) in seq
 *                                       order, and only then is the commit's
 *                                       callback called (so an ack always
 *                                       follows its event: read-your-writes)
 *   history(room, since)                committed events after since
 *
 * Results come back through callbacks so that a networked backend (Redis)
 * fits the same interface; the memory backend calls them before returning.
 *
 * Implementations: backend_memory.c (embedded; journal per room with
 * --data-dir) and backend_redis.c (several nodes sharing one Redis).
 *
 * A node holds the rooms it needs: the memory backend hands every room
 * over at start (load); the Redis backend hands a room over when the hub
 * first needs it (open), and delivers its events while the hub watches it
 * (a local connection is in it).
 */
#ifndef ROSTRUM_BACKEND_H
#define ROSTRUM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "room.h"

enum backend_result {
    BACKEND_OK,
    BACKEND_CONFLICT,    /* commit: the room's seq moved on */
    BACKEND_EXISTS,      /* create: the id is taken */
    BACKEND_NOT_FOUND,
    BACKEND_UNAVAILABLE, /* the store cannot be reached or written */
};

/* One committed event as text (the wire form, without frame header). */
struct backend_event {
    uint64_t seq;
    const char *json;  /* borrowed; valid until the callback returns */
    size_t len;
    /* Its chain hash (section 9.6; 64 hex digits, borrowed like json):
     * set on what a backend delivers (on_events, history), NULL on what
     * the hub hands to commit. */
    const char *hash;
    /* The event parsed (borrowed, valid like json; NULL: parse json when
     * needed): set by the hub on what it commits (the tree it encoded) and
     * by a backend on what it parsed anyway, so that no event is parsed
     * twice on its way. */
    const json_t *tree;
    /* What the event changes of what decisions read (BACKEND_READS_*
     * but SEQ): set by the hub on what it commits, so that a store can
     * tell which later commits it must refuse; 0 on what a backend
     * delivers. */
    unsigned changes;
};

/* What a commit's decisions read, so what other nodes' events may come
 * between the seq they were decided at and the commit's own (contract
 * section 6 holds either way: one order, no gap, the ack after its event):
 *   RULES  the status, the chat rule, mutes, removals, role changes,
 *          revocations (room.h ROOM_CHAT_RULES)
 *   FLOOR  who holds the floor (ROOM_CHAT_FLOOR)
 *   STATE  anything but the seq: every event but a chat message changes it
 *   SEQ    the seq itself (if_seq, the record's fingerprint): nothing may
 *          come between
 * A chat line reads RULES (and FLOOR under chat "floor"), any other
 * command STATE: so chat lines of several nodes never collide with each
 * other nor with anything that leaves them alone, and a chair's command
 * never collides with other nodes' chat. */
#define BACKEND_READS_RULES ROOM_CHAT_RULES
#define BACKEND_READS_FLOOR ROOM_CHAT_FLOOR
#define BACKEND_READS_STATE 4u
#define BACKEND_READS_SEQ 8u

/* The most events one commit may carry (the hub commits queued chat lines
 * together). */
#define BACKEND_MAX_EVENTS 64

/* What the backend calls on the hub. */
struct backend_sink {
    void *arg;
    /* Committed events of a room in seq order: each event once, the first
     * the one after the hub's copy (seq = its seq + 1), no gap (events[i].seq
     * consecutive). The backend is the one layer that orders: repeats are
     * dropped and gaps filled before this is called. */
    void (*on_events)(void *arg, const char *room_id, const struct backend_event *ev, size_t n);
    /* A presence change on another node: msg is {"action":"join"|"leave",
     * "conn","node","observer":bool,"participant":{...}} (borrowed). */
    void (*on_presence)(void *arg, const char *room_id, const json_t *msg);
    /* The room's history was lost (the store restarted empty) and the room
     * was started again under a new epoch: current (ownership passes) is
     * its state now; local connections must rejoin. */
    void (*on_reset)(void *arg, const char *room_id, struct room *current);
    /* The store became reachable again (resync what is not sequenced). */
    void (*on_reconnect)(void *arg);
    /* A written statement kept apart from the log (contract 9.4):
     * statement is {"text","lang","sub"} (borrowed). Delivered before the
     * event that deposited it, and for every kept statement when a room is
     * read again; may be NULL in a sink that does not hold rooms. */
    void (*on_statement)(void *arg, const char *room_id, const char *request_id,
                         const json_t *statement);
};

/* What a commit stores beside its events, apart from the log (contract
 * 9.4): the text of a deposited statement, and the statements the events
 * publish or discard (which the store may forget). */
struct backend_stmts {
    const char *request_id;        /* NULL: no statement to store */
    const json_t *statement;       /* {"text","lang","sub"}, borrowed */
    const char *const *drop;       /* request ids */
    size_t ndrop;
};

typedef void (*backend_done_cb)(void *arg, enum backend_result r);
/* commit: r, and with OK the seq the store gave the first event (the
 * others follow it). */
typedef void (*backend_commit_cb)(void *arg, enum backend_result r, uint64_t first_seq);
/* history: r is OK with the events (n may be 0), or NOT_FOUND when the
 * events after since are no longer all kept (then first_seq tells where
 * the kept history starts). */
typedef void (*backend_history_cb)(void *arg, enum backend_result r,
                                   const struct backend_event *ev, size_t n);

struct backend;
struct eventlog;

struct backend_ops {
    const char *name;
    /* Frees the backend; flushes what is buffered. NULL-safe via backend_destroy(). */
    void (*destroy)(struct backend *b);
    /* True while the store can be reached (/healthz). */
    bool (*available)(struct backend *b);
    /* Calls each(arg, initial, current) for every stored room at start; the
     * callee takes ownership of both rooms. Returns the number of rooms or
     * -1 on a fatal error. */
    int (*load)(struct backend *b, void (*each)(void *arg, struct room *initial, struct room *current),
                void *arg);
    /* Stores a new room (borrowed; copied). */
    void (*create)(struct backend *b, const struct room *initial, backend_done_cb cb, void *arg);
    /* Commits n events (wire JSON, encoded with seqs seen_seq+1..; n <=
     * BACKEND_MAX_EVENTS), all or none, decided on the room at seen_seq.
     * When the store holds more by then, the events go after those, with
     * their seqs (and texts) renumbered, unless one of those changed what
     * the decisions read (reads: BACKEND_READS_*; each committed event's
     * changes say what it changed): then CONFLICT, nothing stored.
     * state: the room's new sequenced state (room_state_json(r, false)),
     * borrowed, or NULL when the events changed no part of it (a store
     * that keeps a snapshot keeps the one it has, and may keep it when
     * the events were renumbered). st (borrowed, may be NULL): a statement
     * stored with the events, atomically, and delivered (on_statement)
     * before them; a commit with one must read SEQ. */
    void (*commit)(struct backend *b, const char *room_id, uint64_t seen_seq, unsigned reads,
                   const struct backend_event *ev, size_t n, const json_t *state,
                   const struct backend_stmts *st, backend_commit_cb cb, void *arg);
    /* Events with seq > since, at most limit of them (the newest when
     * limited). */
    void (*history)(struct backend *b, const char *room_id, uint64_t since, size_t limit,
                    backend_history_cb cb, void *arg);
    /* Records a participant directory entry (not sequenced). */
    void (*save_member)(struct backend *b, const char *room_id, const json_t *member);
    /* Records the most observers connected at once (contract 9.5; not
     * sequenced): kept when above the stored one. The room as opened or
     * loaded has it in observers_peak(_at). */
    void (*save_peak)(struct backend *b, const char *room_id, long peak, int64_t at);
    /* Every event of a room as a new JSON array, and its initial state
     * (borrowed, valid while the backend lives); NULL when unknown. Only
     * for rooms this node holds (loaded or opened). */
    json_t *(*record)(struct backend *b, const char *room_id, const struct room **initial);
    /* The same as the kept log itself (borrowed; valid until control
     * returns to the event loop), for the record of a long meeting
     * without a JSON tree of it; NULL when unknown. */
    const struct eventlog *(*record_log)(struct backend *b, const char *room_id,
                                         const struct room **initial);
    /* Hands over a room this node does not hold yet: cb gets OK with the
     * room as created and as it is now (ownership of both passes) and the
     * other nodes' connections in it (presence entries as in on_presence,
     * borrowed; NULL for none), or NOT_FOUND / UNAVAILABLE with NULLs. */
    void (*open)(struct backend *b, const char *room_id,
                 void (*cb)(void *arg, enum backend_result r, struct room *initial,
                            struct room *current, const json_t *presence),
                 void *arg);
    /* Every room id in the store, as a new JSON array of strings (cb). */
    void (*rooms)(struct backend *b, void (*cb)(void *arg, enum backend_result r, json_t *ids),
                  void *arg);
    /* Starts (on) or stops delivering a room's events to this node; from
     * (the hub's seq) tells where delivery must continue without a gap. */
    void (*watch)(struct backend *b, const char *room_id, bool on, uint64_t from);
    /* Announces a local connection joining (participant set, borrowed) or
     * leaving (NULL) to the other nodes. */
    void (*presence)(struct backend *b, const char *room_id, const char *conn_id, bool observer,
                     const json_t *participant);
    /* Makes sure the room's events up to the store's current seq have been
     * delivered (a node's copy may lag behind the store by the time a
     * publish takes), then calls cb: OK, or UNAVAILABLE. For refusals,
     * which must be decided on the room as it is, not as it was. */
    void (*sync)(struct backend *b, const char *room_id, backend_done_cb cb, void *arg);
    /* Called every 100 ms: timers (reconnects, timeouts, heartbeats). */
    void (*tick)(struct backend *b, int64_t now_ms);
};

struct backend {
    const struct backend_ops *ops;
    /* Set by the hub it serves (hub_create), before the backend's first
     * callback: a backend calls its sink only from the loop or from its
     * own operations, never from its creation. */
    struct backend_sink sink;
};

struct loop;

/* The embedded backend. data_dir may be NULL (nothing survives a restart).
 * Returns a new backend (backend_destroy()) or NULL with a message logged. */
struct backend *backend_memory_create(const char *data_dir);
/* The Redis backend for url (redis://HOST:PORT[/DB]); node names this
 * process. Its two connections run on loop (borrowed; it must outlive the
 * backend's connections: destroy the backend before the loop, or the loop
 * first, which drops them). Connects in the background. Returns a new
 * backend or NULL with a message logged (bad URL). */
struct backend *backend_redis_create(const char *url, const char *node, const struct loop *loop);
/* The credentials sent (AUTH [user] password) first on every connection
 * and reconnection of both Redis connections; user and password may be
 * NULL (no AUTH). Copied; a change applies from the next connection. A
 * connection open now stays (Redis keeps it authenticated). */
void backend_redis_auth(struct backend *b, const char *user, const char *password);

static inline void backend_destroy(struct backend *b)
{
    if (b)
        b->ops->destroy(b);
}

/* The operations, called through these (b->ops->x(b, ...) spelled once). */
static inline bool backend_available(struct backend *b)
{
    return b->ops->available(b);
}

static inline int backend_load(struct backend *b,
                               void (*each)(void *arg, struct room *initial, struct room *current),
                               void *arg)
{
    return b->ops->load(b, each, arg);
}

static inline void backend_create(struct backend *b, const struct room *initial, backend_done_cb cb,
                                  void *arg)
{
    b->ops->create(b, initial, cb, arg);
}

static inline void backend_commit(struct backend *b, const char *room_id, uint64_t seen_seq,
                                  unsigned reads, const struct backend_event *ev, size_t n,
                                  const json_t *state, const struct backend_stmts *st,
                                  backend_commit_cb cb, void *arg)
{
    b->ops->commit(b, room_id, seen_seq, reads, ev, n, state, st, cb, arg);
}

static inline void backend_history(struct backend *b, const char *room_id, uint64_t since,
                                   size_t limit, backend_history_cb cb, void *arg)
{
    b->ops->history(b, room_id, since, limit, cb, arg);
}

static inline void backend_save_member(struct backend *b, const char *room_id, const json_t *member)
{
    b->ops->save_member(b, room_id, member);
}

static inline void backend_save_peak(struct backend *b, const char *room_id, long peak, int64_t at)
{
    b->ops->save_peak(b, room_id, peak, at);
}

static inline json_t *backend_record(struct backend *b, const char *room_id,
                                     const struct room **initial)
{
    return b->ops->record(b, room_id, initial);
}

static inline const struct eventlog *backend_record_log(struct backend *b, const char *room_id,
                                                        const struct room **initial)
{
    return b->ops->record_log(b, room_id, initial);
}

static inline void backend_open(struct backend *b, const char *room_id,
                                void (*cb)(void *arg, enum backend_result r, struct room *initial,
                                           struct room *current, const json_t *presence),
                                void *arg)
{
    b->ops->open(b, room_id, cb, arg);
}

static inline void backend_rooms(struct backend *b,
                                 void (*cb)(void *arg, enum backend_result r, json_t *ids), void *arg)
{
    b->ops->rooms(b, cb, arg);
}

static inline void backend_watch(struct backend *b, const char *room_id, bool on, uint64_t from)
{
    b->ops->watch(b, room_id, on, from);
}

static inline void backend_presence(struct backend *b, const char *room_id, const char *conn_id,
                                    bool observer, const json_t *participant)
{
    b->ops->presence(b, room_id, conn_id, observer, participant);
}

static inline void backend_sync(struct backend *b, const char *room_id, backend_done_cb cb, void *arg)
{
    b->ops->sync(b, room_id, cb, arg);
}

static inline void backend_tick(struct backend *b, int64_t now_ms)
{
    b->ops->tick(b, now_ms);
}

#endif
