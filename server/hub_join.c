/*
 * hub_join.c: joins and welcomes, sessions coming and going (hub.h,
 * hub_private.h). A join waits for the room when this node does not hold
 * it yet (opening it from the backend) or holds it behind the store
 * (syncing first), then gets its welcome: snapshot, participants and the
 * events it missed, spliced in as stored text.
 */
#include "hub_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "session.h"




/* ---- the delta form ---- */

/* Starts the room's delta log from the room as created and every event
 * the replica has applied (the backend's record). Returns 0, or -1 when
 * the record does not reach the replica's seq or an event does not push. */
int hub_deltas_start(struct hub *h, struct hub_room *hr)
{
    const struct room *initial = NULL;
    json_t *events = NULL, *queue = NULL, *stats = NULL;
    int rc = -1;
    if (hr->deltas.ready)
        return 0;
    events = backend_record(h->backend, hr->id, &initial);
    if (!events || !initial || json_array_size(events) < hr->state->seq)
        goto done;
    queue = room_part_json(initial, PROTO_PART_QUEUE);
    stats = room_part_json(initial, PROTO_PART_STATS);
    if (deltalog_start(&hr->deltas, queue, stats) != 0)
        goto done;
    for (uint64_t i = 0; i < hr->state->seq; i++) {
        const char *text;
        size_t len;
        json_t *e = json_array_get(events, (size_t)i);
        /* The record adds each event's chain hash; the wire form, which
         * the delta form follows, carries none (contract 9.6). */
        json_object_del(e, "hash");
        if (deltalog_push(&hr->deltas, e, &text, &len) != 0)
            goto done;
    }
    rc = 0;
done:
    if (rc != 0) {
        log_error("room %s: cannot start the delta form of its events", hr->id);
        deltalog_clear(&hr->deltas);
    }
    json_decref(events);
    json_decref(queue);
    json_decref(stats);
    return rc;
}

/* ---- sessions ---- */

static void unjoined_unlink(struct hub *h, struct session *s)
{
    if (s->u_prev)
        s->u_prev->u_next = s->u_next;
    else if (h->unjoined == s)
        h->unjoined = s->u_next;
    if (s->u_next)
        s->u_next->u_prev = s->u_prev;
    s->u_prev = s->u_next = NULL;
}

void hub_session_opened(struct hub *h, struct session *s)
{
    s->serial = ++h->next_serial;
    s->u_next = h->unjoined;
    if (h->unjoined)
        h->unjoined->u_prev = s;
    h->unjoined = s;
}

/* Forgets s in every queue and wait list (it is being freed). */
static void forget_session(struct hub *h, struct session *s)
{
    for (size_t i = 0; i < h->n_rooms; i++) {
        struct hub_room *hr = h->rooms[i];
        for (struct waiter *w = hr->waiters; w; w = w->next)
            if (w->s == s)
                w->s = NULL;
        for (struct waiter *w = hr->syncing; w; w = w->next)
            if (w->s == s)
                w->s = NULL;
    }
    struct hub_room *hr = s->room;
    if (!hr)
        return;
    for (struct hub_cmd *c = hr->q_head; c; c = c->next)
        if (c->s == s)
            c->s = NULL;
    for (struct hub_cmd *c = hr->inflight; c; c = c->next)
        if (c->s == s)
            c->s = NULL;
}

void hub_session_closed(struct hub *h, struct session *s)
{
    struct hub_room *hr = s->room;
    forget_session(h, s);
    if (!hr) {
        unjoined_unlink(h, s);
        return;
    }
    if (s->prev)
        s->prev->next = s->next;
    else
        hr->conns = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->room = NULL;
    hr->n_conns--;
    metrics.joined--;
    char cid[128];
    hub_conn_id(h, s, cid, sizeof cid);
    backend_presence(h->backend, hr->id, cid, s->is_observer, NULL);
    int idx = hub_count(hr, s->actor.sub, s->is_observer, -1);
    /* Their last connection here and everywhere: the leave time (on a
     * drain too: the leave times are what the record says). */
    if (idx >= 0 && hr->member_conns[idx] == 0)
        hub_attendance_sync(h, hr, clock_now_ms());
    /* A drain is not a disconnect: no pause on the way out. When a pause
     * was queued, the queue lets the room go when it is done. */
    if (idx >= 0 && hub_count_left(h, hr, idx, !h->draining))
        return;
    hub_maybe_drop(h, hr);
}

/* The welcome: the snapshot, the participants, and the events the client
 * missed (or the most recent ones). Events are spliced in as the stored
 * text, not re-encoded. */
struct welcome_ctx {
    struct session *s;
    json_t *head;
    bool resumed;
    const struct deltalog *deltas; /* for a delta connection */
};

static void welcome_history(void *arg, enum backend_result r, const struct backend_event *ev, size_t n)
{
    struct welcome_ctx *w = arg;
    if (r != BACKEND_OK)
        n = 0;
    json_object_set_new(w->head, "resumed", json_boolean(r == BACKEND_OK && w->resumed));
    char *head = json_dumps(w->head, JSON_COMPACT);
    if (!head) {
        session_close(w->s, PROTO_CLOSE_TRY_AGAIN, "out of memory", false);
        return;
    }
    size_t hl = strlen(head), len = hl + 16;
    /* A delta connection gets each event in the delta form where it
     * differs (an event past the delta log, not applied here yet, stays
     * in the full form, which a client also reads). */
    struct backend_event *dev = NULL;
    if (w->deltas && n) {
        dev = malloc(n * sizeof *dev);
        if (!dev) {
            free(head);
            session_close(w->s, PROTO_CLOSE_TRY_AGAIN, "out of memory", false);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            dev[i] = ev[i];
            size_t dl;
            const char *d = deltalog_get(w->deltas, ev[i].seq, &dl);
            if (d) {
                dev[i].json = d;
                dev[i].len = dl;
            }
        }
        ev = dev;
    }
    /* The client's form of each event (public_text): a revocation's is
     * shorter than its stored text, so the length counted here suffices. */
    for (size_t i = 0; i < n; i++)
        len += ev[i].len + 1;
    char *txt = malloc(len);
    if (txt) {
        size_t o = hl - 1; /* drop the closing brace */
        memcpy(txt, head, o);
        memcpy(txt + o, ",\"events\":[", 11);
        o += 11;
        for (size_t i = 0; i < n; i++) {
            if (i)
                txt[o++] = ',';
            size_t pl = 0;
            char *pub = hub_public_text(ev[i].json, ev[i].len, &pl);
            if (pub && pl <= ev[i].len) {
                memcpy(txt + o, pub, pl);
                o += pl;
            } else {
                memcpy(txt + o, ev[i].json, ev[i].len);
                o += ev[i].len;
            }
            free(pub);
        }
        txt[o++] = ']';
        txt[o++] = '}';
        session_send_text(w->s, txt, o);
    }
    free(txt);
    free(head);
    free(dev);
}

/* Refusals at join: an error saying why, then the close code. */
static void refuse_join(struct session *s, enum proto_err e, const char *msg, int close_code)
{
    metrics.commands[PROTO_CMD_JOIN][e]++;
    session_send_error(s, NULL, e, msg);
    session_close(s, close_code, proto_close_reason(close_code), true);
}

static void finish_join(struct hub *h, struct hub_room *hr, struct session *s, bool has_since,
                        uint64_t since, bool has_epoch, const char *epoch)
{
    struct room_actor *a = &s->actor;
    if (room_is_removed(hr->state, a->sub)) {
        refuse_join(s, PROTO_ERR_FORBIDDEN, "you were removed from this room", PROTO_CLOSE_REMOVED);
        return;
    }
    if (room_is_revoked(hr->state, s->jti, clock_now_ms())) {
        refuse_join(s, PROTO_ERR_UNAUTHORIZED, "this token was revoked", PROTO_CLOSE_UNAUTHORIZED);
        return;
    }
    if (!backend_available(h->backend)) {
        refuse_join(s, PROTO_ERR_UNAVAILABLE, NULL, PROTO_CLOSE_TRY_AGAIN);
        return;
    }
    if (hr->n_conns >= h->cfg->max_room_conns) {
        refuse_join(s, PROTO_ERR_UNAVAILABLE, "the room is full on this server; try again later",
                    PROTO_CLOSE_TRY_AGAIN);
        return;
    }
    /* Observers are only counted: they stay out of the member directory
     * (a plenary's thousands would make every member lookup and every
     * stored directory grow with them) and out of the store. */
    if (a->role != PROTO_ROLE_OBSERVER && room_participant_seen(hr->state, a)) {
        json_t *m = room_actor_json(a);
        if (m)
            backend_save_member(h->backend, hr->id, m);
        json_decref(m);
    }
    if (hub_member_conns_fit(hr) != 0) {
        session_close(s, PROTO_CLOSE_TRY_AGAIN, "out of memory", false);
        return;
    }
    unjoined_unlink(h, s);
    s->state = SESSION_JOINED;
    s->room = hr;
    s->prev = NULL;
    s->next = hr->conns;
    if (hr->conns)
        hr->conns->prev = s;
    hr->conns = s;
    if (hr->n_conns++ == 0)
        backend_watch(h->backend, hr->id, true, hr->state->seq);
    metrics.joined++;
    metrics.joins++;
    metrics.commands[PROTO_CMD_JOIN][PROTO_OK]++;

    enum proto_role role = room_effective_role(hr->state, a);
    const struct room_member *m = room_member_find(hr->state, a->sub);
    json_t *you, *pj = NULL;
    s->is_observer = role == PROTO_ROLE_OBSERVER || !m;
    if (s->is_observer) {
        hub_count(hr, a->sub, true, +1);
        hub_attendance_sync(h, hr, clock_now_ms()); /* the observers' peak */
        you = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b, s:i, s:b}", "sub", a->sub,
                        "name", a->name, "role", "observer", "delegation",
                        a->delegation[0] ? a->delegation : NULL, "category",
                        proto_category_name(a->category), "region",
                        a->region[0] ? a->region : NULL, "online", 1, "connections", 1,
                        "muted", m && m->muted);
        pj = json_incref(you);
    } else {
        int idx = hub_count(hr, a->sub, false, +1);
        hub_presence_send(hr, idx >= 0 && hr->member_conns[idx] == 1 ? "join" : "update", m, s);
        hub_attendance_sync(h, hr, clock_now_ms());
        you = hub_participant_json(hr, m);
        pj = room_member_json(hr->state, m);
    }
    char cid[128];
    hub_conn_id(h, s, cid, sizeof cid);
    backend_presence(h->backend, hr->id, cid, s->is_observer, pj);
    json_decref(pj);

    if (s->deltas && hub_deltas_start(h, hr) != 0)
        s->deltas = false; /* the full form then: a client reads both */
    struct welcome_ctx w = {.s = s, .deltas = s->deltas ? &hr->deltas : NULL};
    w.head = json_pack("{s:s, s:I, s:s, s:o, s:o, s:o, s:I}", "type", "welcome", "seq",
                       (json_int_t)hr->state->seq, "epoch", hr->state->epoch, "you", you, "room",
                       room_snapshot_json(hr->state), "participants", hub_participants_json(hr),
                       "observers", (json_int_t)hr->observers);
    if (!w.head) {
        session_close(s, PROTO_CLOSE_TRY_AGAIN, "out of memory", false);
        return;
    }
    uint64_t seq = hr->state->seq;
    /* Resume only within the same history: a since of another epoch (or
     * from the future) is not comparable. */
    w.resumed = has_since && since <= seq && (!has_epoch || strcmp(epoch, hr->state->epoch) == 0);
    if (w.resumed)
        backend_history(h->backend, hr->id, since, (size_t)-1, welcome_history, &w);
    else
        backend_history(h->backend, hr->id,
                                 seq > PROTO_RECENT_EVENTS ? seq - PROTO_RECENT_EVENTS : 0,
                                 PROTO_RECENT_EVENTS, welcome_history, &w);
    json_decref(w.head);
}

struct open_ctx {
    struct hub *h;
    char id[PROTO_ROOM_BUF];
};


static void opened(void *arg, enum backend_result r, struct room *initial, struct room *current,
                   const json_t *presence)
{
    struct open_ctx *o = arg;
    struct hub *h = o->h;
    struct hub_room *hr = hub_find_room(h, o->id);
    free(o);
    room_destroy(initial);
    if (!hr || hr->state) {
        room_destroy(current);
        return;
    }
    struct waiter *ws = hr->waiters;
    hr->waiters = NULL;
    if (r == BACKEND_OK) {
        hr->state = current;
        /* Know the other nodes' connections before anyone is welcomed. */
        json_t *sync = json_pack("{s:s, s:O?}", "action", "sync", "entries", presence);
        if (sync)
            hub_on_presence(h, hr->id, sync);
        json_decref(sync);
        hub_recount(hr);
        /* A waiter may queue a command or let go of the room: not while
         * this loop still uses it. */
        hr->pumping = true;
    } else {
        room_destroy(current);
        hub_remove_room(h, hr);
        hr = NULL;
    }
    for (struct waiter *w = ws, *n; w; w = n) {
        n = w->next;
        if (w->s) {
            if (hr)
                finish_join(h, hr, w->s, w->has_since, w->since, w->has_epoch, w->epoch);
            else if (r == BACKEND_NOT_FOUND)
                refuse_join(w->s, PROTO_ERR_NOT_FOUND, "no such room", PROTO_CLOSE_NO_ROOM);
            else
                refuse_join(w->s, PROTO_ERR_UNAVAILABLE, NULL, PROTO_CLOSE_TRY_AGAIN);
        } else if (w->cb) {
            w->cb(w->arg, hr != NULL);
        }
        free(w);
    }
    if (hr) {
        hr->pumping = false;
        hub_pump(h, hr);
    }
}

/* Adds w to the room's waiters, opening the room when this node does not
 * hold it. Returns false when it cannot wait (no shared backend: the room
 * does not exist). */
bool hub_wait_for_room(struct hub *h, const char *id, struct waiter *w)
{
    struct hub_room *hr = hub_find_room(h, id);
    if (!hr) {
        if (!h->shared || h->n_rooms >= h->cfg->max_rooms)
            return false;
        struct open_ctx *o = calloc(1, sizeof *o);
        hr = o ? hub_add_room(h, id, NULL) : NULL;
        if (!hr) {
            free(o);
            return false;
        }
        o->h = h;
        snprintf(o->id, sizeof o->id, "%s", id);
        w->next = NULL;
        hr->waiters = w;
        backend_open(h->backend, id, opened, o);
        return true;
    }
    w->next = hr->waiters;
    hr->waiters = w;
    return true;
}

struct join_sync {
    struct hub *h;
    struct waiter *w;
    char id[PROTO_ROOM_BUF];
};

static void join_synced(void *arg, enum backend_result r)
{
    struct join_sync *j = arg;
    struct hub *h = j->h;
    struct hub_room *hr = hub_find_room(h, j->id);
    struct waiter *w = j->w;
    free(j);
    if (hr) {
        for (struct waiter **pp = &hr->syncing; *pp; pp = &(*pp)->next)
            if (*pp == w) {
                *pp = w->next;
                break;
            }
    }
    if (w->s) {
        if (hr && hr->state && r == BACKEND_OK)
            finish_join(h, hr, w->s, w->has_since, w->since, w->has_epoch, w->epoch);
        else
            refuse_join(w->s, PROTO_ERR_UNAVAILABLE, NULL, PROTO_CLOSE_TRY_AGAIN);
    }
    free(w);
    if (hr)
        hub_maybe_drop(h, hr);
}

void hub_join(struct hub *h, struct session *s, const char *room, const struct proto_cmd *cmd)
{
    s->deltas = cmd->deltas;
    struct hub_room *hr = hub_find_room(h, room);
    /* A client resuming from a seq this node has not reached yet (it saw
     * it on another node): catch up with the store before the welcome, or
     * it would be told "not resumed" and shown events twice. */
    bool behind = hr && hr->state && h->shared && cmd->has_since && cmd->since > hr->state->seq &&
                  (!cmd->has_epoch || strcmp(cmd->epoch, hr->state->epoch) == 0);
    if (hr && hr->state && !behind) {
        finish_join(h, hr, s, cmd->has_since, cmd->since, cmd->has_epoch, cmd->epoch);
        return;
    }
    struct waiter *w = calloc(1, sizeof *w);
    if (!w) {
        session_close(s, PROTO_CLOSE_TRY_AGAIN, "out of memory", false);
        return;
    }
    w->s = s;
    w->has_since = cmd->has_since;
    w->since = cmd->since;
    w->has_epoch = cmd->has_epoch;
    snprintf(w->epoch, sizeof w->epoch, "%s", cmd->epoch);
    if (behind) {
        struct join_sync *j = calloc(1, sizeof *j);
        if (!j) {
            free(w);
            session_close(s, PROTO_CLOSE_TRY_AGAIN, "out of memory", false);
            return;
        }
        j->h = h;
        j->w = w;
        snprintf(j->id, sizeof j->id, "%s", hr->id);
        w->next = hr->syncing;
        hr->syncing = w;
        backend_sync(h->backend, hr->id, join_synced, j);
        return;
    }
    if (!hub_wait_for_room(h, room, w)) {
        free(w);
        refuse_join(s, PROTO_ERR_NOT_FOUND, "no such room", PROTO_CLOSE_NO_ROOM);
    }
}
