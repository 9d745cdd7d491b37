/*
 * hub.c: this node's rooms, commands, delivery, presence and clocks (hub.h).
 *
 * Commands of a room wait in a FIFO and are decided one at a time against
 * the replica; the next is decided only when the commit of the previous
 * one was answered. The backend delivers committed events (hub_on_events)
 * before it answers the commit (commit_done), and delivery queues each
 * event on every connection of the room, the actor's included; the ack is
 * queued in commit_done, so on the acting connection the ack always
 * follows its event (read-your-writes). A commit refused because another
 * node committed first is decided again on the caught-up replica.
 *
 * Presence counts every connection of a room on every node: this node's
 * sessions plus a mirror of the other nodes' connections, kept from the
 * backend's presence messages.
 *
 * With a shared backend (Redis) the hub holds a room only while it is
 * used: it opens it from the backend on the first join or admin call, and
 * drops it when its last local connection left and nothing is pending.
 */
#include "hub.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "backend.h"
#include "clock.h"
#include "config.h"
#include "deltalog.h"
#include "eventlog.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "tzdb.h"
#include "session.h"
#include "recordkey.h"
#include "transcript.h"

#define OBSERVER_PRESENCE_MS 1000
/* Commits refused by the seq check before a command is given up (then
 * "unavailable"): each refusal means another node moved the room on, so a
 * command only fails after this many others got through first. */
#define COMMIT_TRIES 50

enum cmd_kind { CMD_CLIENT, CMD_CLOCK, CMD_DISCONNECT, CMD_ADMIN_CLOSE, CMD_ADMIN_REVOKE };

/* This node's commit in flight: the events as decided and as encoded, so
 * that their delivery applies them as decided instead of parsing back the
 * text the hub itself just wrote. Events of other nodes (or a text that is
 * not byte for byte the one encoded here) go through room_apply_text(). */
struct own_commit {
    struct room_events evs;           /* stamped with their seqs; owns data */
    json_t *json[ROOM_MAX_EVENTS];    /* the wire events (for the delta form) */
    char *text[ROOM_MAX_EVENTS];
    size_t len[ROOM_MAX_EVENTS];
};

static void own_free(struct own_commit *o)
{
    if (!o)
        return;
    room_events_clear(&o->evs);
    for (size_t i = 0; i < ROOM_MAX_EVENTS; i++) {
        json_decref(o->json[i]);
        free(o->text[i]);
    }
    free(o);
}

/* Event k of o when ev is that very event, else -1. */
static int own_index(const struct own_commit *o, const struct backend_event *ev)
{
    if (!o || !o->evs.n || ev->seq < o->evs.ev[0].seq || ev->seq >= o->evs.ev[0].seq + o->evs.n)
        return -1;
    size_t k = (size_t)(ev->seq - o->evs.ev[0].seq);
    return o->len[k] == ev->len && memcmp(o->text[k], ev->json, ev->len) == 0 ? (int)k : -1;
}

/* A command waiting for its turn in a room (or in flight). */
struct hub_cmd {
    struct hub_cmd *next;
    enum cmd_kind kind;
    struct session *s;        /* CLIENT; NULL once the session closed */
    struct proto_cmd cmd;     /* CLIENT: a copy that owns text, settings, schedule, agenda */
    char sub[PROTO_SUB_BUF];  /* DISCONNECT */
    void (*done)(void *arg, int status); /* ADMIN_CLOSE, ADMIN_REVOKE */
    void *arg;
    char jti[PROTO_JTI_BUF];  /* ADMIN_REVOKE */
    int64_t until_s;
    int tries;
    bool synced;              /* a refusal was checked against the store's seq */
};

/* Someone waiting for a room to be opened: a joining session or an admin
 * call. */
struct waiter {
    struct waiter *next;
    struct session *s;        /* NULL once the session closed */
    bool has_since, has_epoch;
    uint64_t since;
    char epoch[PROTO_MAX_EPOCH + 1];
    void (*cb)(void *arg, bool found);
    void *arg;
};

/* A connection of another node (presence mirror). */
struct remote_conn {
    char conn[128];
    char sub[PROTO_SUB_BUF];
    bool observer;
};

struct hub_room {
    char id[PROTO_ROOM_BUF];
    struct room *state;       /* the replica; NULL while opening */
    struct waiter *waiters;   /* while opening */
    struct waiter *syncing;   /* joins waiting for this copy to catch up */
    struct session *conns;    /* joined local connections */
    size_t n_conns;
    int *member_conns;        /* connections on every node, by member index */
    size_t member_conns_cap;
    size_t observers;         /* observer connections on every node */
    size_t observers_sent;
    int64_t observers_sent_ms;
    struct remote_conn *remote;
    size_t n_remote, cap_remote;
    struct hub_cmd *q_head, *q_tail, *inflight;
    long peak_saved;          /* observers' peak last handed to the backend */
    int64_t peak_saved_ms;
    struct own_commit *own;   /* this node's commit in flight */
    bool pumping;
    bool clock_queued;
    /* The delta form of every event, started on the first join that asks
     * for it (deltas_start) and kept while the room is held. */
    struct deltalog deltas;
};

struct hub {
    const struct config *cfg;
    struct backend *backend;
    bool shared;              /* other nodes share the backend (Redis) */
    struct hub_room **rooms;
    size_t n_rooms, cap_rooms;
    struct session *unjoined;
    uint64_t next_serial;
    int64_t last_idle_check;
    bool draining;            /* shutting down: a closing connection is not a disconnect */
};

static void pump(struct hub *h, struct hub_room *hr);

/* ---- rooms ---- */

static struct hub_room *find_room(struct hub *h, const char *id)
{
    for (size_t i = 0; i < h->n_rooms; i++)
        if (strcmp(h->rooms[i]->id, id) == 0)
            return h->rooms[i];
    return NULL;
}

static struct hub_room *add_room(struct hub *h, const char *id, struct room *state)
{
    struct hub_room *hr = calloc(1, sizeof *hr);
    if (!hr)
        return NULL;
    if (h->n_rooms == h->cap_rooms) {
        size_t cap = h->cap_rooms ? h->cap_rooms * 2 : 16;
        struct hub_room **p = realloc(h->rooms, cap * sizeof *p);
        if (!p) {
            free(hr);
            return NULL;
        }
        h->rooms = p;
        h->cap_rooms = cap;
    }
    snprintf(hr->id, sizeof hr->id, "%s", id);
    hr->state = state;
    /* A room nothing happened in yet starts its chain at h_0. */
    if (state && !state->chain_head[0] && state->seq == 0)
        chain_h0(state->id, state->epoch, state->chain_head);
    h->rooms[h->n_rooms++] = hr;
    metrics.rooms = h->n_rooms;
    return hr;
}

static void cmd_free(struct hub_cmd *c)
{
    if (!c)
        return;
    free(c->cmd.text);
    json_decref((json_t *)c->cmd.settings);
    json_decref((json_t *)c->cmd.schedule);
    json_decref((json_t *)c->cmd.agenda);
    free(c);
}

static void remove_room(struct hub *h, struct hub_room *hr)
{
    for (size_t i = 0; i < h->n_rooms; i++) {
        if (h->rooms[i] == hr) {
            h->rooms[i] = h->rooms[--h->n_rooms];
            break;
        }
    }
    metrics.rooms = h->n_rooms;
    for (struct hub_cmd *c = hr->q_head, *n; c; c = n) {
        n = c->next;
        cmd_free(c);
    }
    for (struct waiter *w = hr->waiters, *n; w; w = n) {
        n = w->next;
        free(w);
    }
    for (struct waiter *w = hr->syncing, *n; w; w = n) {
        n = w->next;
        free(w);
    }
    own_free(hr->own);
    room_destroy(hr->state);
    deltalog_clear(&hr->deltas);
    free(hr->member_conns);
    free(hr->remote);
    free(hr);
}

/* With a shared backend, a room nobody here uses is let go: its replica
 * would go stale unwatched. */
static void maybe_drop(struct hub *h, struct hub_room *hr)
{
    if (!h->shared || !hr->state || hr->n_conns || hr->q_head || hr->inflight || hr->waiters ||
        hr->syncing || hr->pumping)
        return;
    backend_watch(h->backend, hr->id, false, hr->state->seq);
    remove_room(h, hr);
}

/* Grows member_conns to cover every member of the replica. */
static int member_conns_fit(struct hub_room *hr)
{
    size_t need = hr->state->members_len;
    if (need <= hr->member_conns_cap)
        return 0;
    size_t cap = need * 2;
    int *p = realloc(hr->member_conns, cap * sizeof *p);
    if (!p)
        return -1;
    memset(p + hr->member_conns_cap, 0, (cap - hr->member_conns_cap) * sizeof *p);
    hr->member_conns = p;
    hr->member_conns_cap = cap;
    return 0;
}

static int member_index(const struct hub_room *hr, const char *sub)
{
    const struct room_member *m = room_member_find(hr->state, sub);
    return m ? (int)(m - hr->state->members) : -1;
}

static enum proto_role member_role(const struct room_member *m)
{
    return m->has_role_override ? m->role_override : m->token_role;
}

static bool remote_is_observer(const struct hub_room *hr, const struct remote_conn *rc)
{
    const struct room_member *m = room_member_find(hr->state, rc->sub);
    if (m && m->has_role_override)
        return m->role_override == PROTO_ROLE_OBSERVER;
    return rc->observer;
}

/* Counts every connection again (after a presence resync or a role
 * change). */
static void recount(struct hub_room *hr)
{
    if (member_conns_fit(hr) != 0)
        return;
    if (hr->member_conns)
        memset(hr->member_conns, 0, hr->member_conns_cap * sizeof *hr->member_conns);
    hr->observers = 0;
    for (struct session *s = hr->conns; s; s = s->next) {
        s->is_observer = room_effective_role(hr->state, &s->actor) == PROTO_ROLE_OBSERVER;
        int idx = s->is_observer ? -1 : member_index(hr, s->actor.sub);
        if (idx >= 0)
            hr->member_conns[idx]++;
        else
            hr->observers++;
    }
    for (size_t i = 0; i < hr->n_remote; i++) {
        int idx = remote_is_observer(hr, &hr->remote[i]) ? -1 : member_index(hr, hr->remote[i].sub);
        if (idx >= 0)
            hr->member_conns[idx]++;
        else
            hr->observers++;
    }
}

/* Attendance (contract 9.5), from the connection counts of every node:
 * a member whose count went from 0 is joined (first_joined_at kept from
 * the very first time), one whose count fell to 0 has left (last_left_at
 * now). Each change goes to the store with the directory record, so it
 * survives restarts and is the same on every node (every node sees every
 * connection and writes the same facts). After a crash, people the
 * directory still had as connected and who are not back are taken as
 * having left when the room is next looked at here. Also notes a new
 * observers' peak (stored at most once a second by hub_tick). */
static void attendance_sync(struct hub *h, struct hub_room *hr, int64_t now)
{
    struct room *r = hr->state;
    if (!r || member_conns_fit(hr) != 0)
        return;
    for (size_t i = 0; i < r->members_len; i++) {
        struct room_member *m = &r->members[i];
        bool on = hr->member_conns[i] > 0;
        bool was = m->first_joined_at && !m->last_left_at;
        if (on == was || (!on && !m->first_joined_at))
            continue;
        if (on) {
            if (!m->first_joined_at)
                m->first_joined_at = now;
            m->last_left_at = 0;
        } else {
            m->last_left_at = now > m->first_joined_at ? now : m->first_joined_at;
        }
        json_t *rec = room_member_record(m);
        if (rec)
            backend_save_member(h->backend, hr->id, rec);
        json_decref(rec);
    }
    if ((long)hr->observers > r->observers_peak) {
        r->observers_peak = (long)hr->observers;
        r->observers_peak_at = now;
    }
}

/* The wire participant with presence filled in. */
static json_t *participant_json(const struct hub_room *hr, const struct room_member *m)
{
    json_t *j = room_member_json(hr->state, m);
    size_t i = (size_t)(m - hr->state->members);
    int n = i < hr->member_conns_cap ? hr->member_conns[i] : 0;
    json_object_set_new(j, "role", json_string(proto_role_name(member_role(m))));
    json_object_set_new(j, "online", json_boolean(n > 0));
    json_object_set_new(j, "connections", json_integer(n));
    return j;
}

static json_t *participants_json(const struct hub_room *hr)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < hr->state->members_len; i++) {
        const struct room_member *m = &hr->state->members[i];
        /* Removed people are gone for good; someone made a delegate by
         * set_role is one even if they joined as an observer. */
        if ((m->seen || m->has_role_override) && !m->removed && member_role(m) != PROTO_ROLE_OBSERVER)
            json_array_append_new(arr, participant_json(hr, m));
    }
    return arr;
}

/* Queues one JSON text on every joined connection of the room except
 * `except`, encoded once. */
static void broadcast_text(struct hub_room *hr, const char *txt, size_t len, struct session *except)
{
    struct frame *f = frame_text(txt, len);
    if (!f)
        return;
    for (struct session *s = hr->conns; s; s = s->next)
        if (s != except)
            session_send(s, f);
    frame_unref(f);
}

/* Queues an event on every joined connection: the full form, or the delta
 * form (when it differs) on connections that joined with deltas. Each form
 * is made into a frame at most once, and only when someone gets it. */
static void broadcast_event(struct hub_room *hr, const char *full, size_t flen, const char *delta,
                            size_t dlen)
{
    struct frame *ff = NULL, *df = NULL;
    for (struct session *s = hr->conns; s; s = s->next) {
        bool d = s->deltas && delta;
        struct frame **f = d ? &df : &ff;
        if (!*f)
            *f = d ? frame_text(delta, dlen) : frame_text(full, flen);
        if (*f)
            session_send(s, *f);
    }
    frame_unref(ff);
    frame_unref(df);
}

static void broadcast_json(struct hub_room *hr, json_t *msg, struct session *except)
{
    char *txt = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (txt)
        broadcast_text(hr, txt, strlen(txt), except);
    free(txt);
    json_decref(msg);
}

static void presence(struct hub_room *hr, const char *action, const struct room_member *m,
                     struct session *except)
{
    broadcast_json(hr, json_pack("{s:s, s:s, s:o}", "type", "presence", "action", action,
                                 "participant", participant_json(hr, m)),
                   except);
}

/* Replies to a command go through session_reply(), which keeps them in
 * the order of the commands. */
static void send_ack(struct session *s, const char *id, uint64_t seq)
{
    size_t len;
    char *txt = proto_encode_ack(id, seq, &len);
    if (txt)
        session_reply(s, txt, len);
    free(txt);
}

static void send_refusal(struct session *s, const char *id, enum proto_err e, const char *msg)
{
    size_t len;
    char *txt = proto_encode_error(id, e, msg, &len);
    metrics.errors[e]++;
    if (txt)
        session_reply(s, txt, len);
    free(txt);
}

static void conn_id(const struct hub *h, const struct session *s, char *out, size_t sz)
{
    snprintf(out, sz, "%s:%llu", h->cfg->node_id, (unsigned long long)s->serial);
}

/* ---- delivery ---- */

/* After an event is applied: its effects on connections and presence. */
static void after_event(struct hub_room *hr, const struct room_event *ev)
{
    if (ev->name == PROTO_EV_TOKEN_REVOKED) {
        /* On every node: the connections that joined with that token. */
        const char *jti = json_string_value(json_object_get(ev->data, "jti"));
        for (struct session *s = hr->conns; jti && s; s = s->next)
            if (s->jti[0] && strcmp(s->jti, jti) == 0)
                session_close(s, PROTO_CLOSE_UNAUTHORIZED, "token revoked", true);
        return;
    }
    const char *sub = json_string_value(json_object_get(ev->data, "sub"));
    if (!sub)
        return;
    if (ev->name == PROTO_EV_PARTICIPANT_REMOVED) {
        for (struct session *s = hr->conns; s; s = s->next)
            if (strcmp(s->actor.sub, sub) == 0)
                session_close(s, PROTO_CLOSE_REMOVED, "removed from the room", true);
    } else if (ev->name == PROTO_EV_ROLE_CHANGED) {
        /* The person's connections move between the participants and the
         * observer count. */
        recount(hr);
        int idx = member_index(hr, sub);
        if (idx >= 0)
            presence(hr, "update", &hr->state->members[idx], NULL);
    } else if (ev->name == PROTO_EV_PARTICIPANT_MUTED || ev->name == PROTO_EV_PARTICIPANT_UNMUTED) {
        int idx = member_index(hr, sub);
        if (idx >= 0 && member_conns_fit(hr) == 0)
            presence(hr, "update", &hr->state->members[idx], NULL);
    }
}

/* Starts the room's delta log from the room as created and every event
 * the replica has applied (the backend's record). Returns 0, or -1 when
 * the record does not reach the replica's seq or an event does not push. */
static int deltas_start(struct hub *h, struct hub_room *hr)
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

/* The delta log no longer follows the room: its delta connections must
 * rejoin (their welcome starts it again). */
static void deltas_stop(struct hub_room *hr)
{
    deltalog_clear(&hr->deltas);
    for (struct session *s = hr->conns; s; s = s->next)
        if (s->deltas)
            session_close(s, PROTO_CLOSE_TRY_AGAIN, "join again", true);
}

/* What clients see of a stored event. A token_revoked event keeps its
 * place in the seq order but goes out with empty data: the jti (and its
 * until) is for the servers and the admin API, not for everyone in the
 * room (docs/protocol.md "Revoking a token"). Returns a new text (free())
 * for such an event, NULL for every other (send it as it is). */
static bool contains(const char *hay, size_t len, const char *needle, size_t nl)
{
    for (size_t i = 0; i + nl <= len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0)
            return true;
    return false;
}

static char *public_text(const char *text, size_t len, size_t *outlen)
{
    static const char needle[] = "\"name\":\"token_revoked\"";
    char *out = NULL;
    /* Cheap first: jansson writes "name":"..." exactly so, and a string
     * value cannot hold an unescaped quote. */
    if (!contains(text, len, needle, sizeof needle - 1))
        return NULL;
    json_t *j = json_loadb(text, len, 0, NULL);
    const char *name = json_string_value(json_object_get(j, "name"));
    if (name && strcmp(name, "token_revoked") == 0 &&
        json_object_set_new(j, "data", json_object()) == 0)
        out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (out)
        *outlen = strlen(out);
    return out;
}

static void hub_on_events(void *arg, const char *room_id, const struct backend_event *ev, size_t n)
{
    struct hub *h = arg;
    struct hub_room *hr = find_room(h, room_id);
    if (!hr || !hr->state)
        return;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].seq <= hr->state->seq)
            continue; /* already applied */
        if (ev[i].seq != hr->state->seq + 1) {
            /* The backend promised no gap; ask again from where we are. */
            log_error("room %s: got event %llu at seq %llu; resyncing", room_id,
                      (unsigned long long)ev[i].seq, (unsigned long long)hr->state->seq);
            backend_watch(h->backend, room_id, true, hr->state->seq);
            return;
        }
        int k = own_index(hr->own, &ev[i]);
        struct room_event parsed;
        const struct room_event *re = &parsed;
        json_t *j = NULL;
        enum room_apply_result rt;
        if (k >= 0) {
            re = &hr->own->evs.ev[k];
            rt = room_apply(hr->state, re) == 0 ? ROOM_TEXT_APPLIED : ROOM_TEXT_REFUSED;
            j = rt == ROOM_TEXT_APPLIED ? json_incref(hr->own->json[k]) : NULL;
        } else {
            rt = room_apply_text(hr->state, ev[i].json, ev[i].len, NULL, NULL, &parsed, &j);
            if (rt == ROOM_TEXT_REFUSED)
                room_event_clear(&parsed);
        }
        if (rt != ROOM_TEXT_APPLIED) {
            log_error("room %s: committed event %llu %s at seq %llu", room_id,
                      (unsigned long long)ev[i].seq,
                      rt == ROOM_TEXT_UNREADABLE ? "does not parse" : "does not apply",
                      (unsigned long long)hr->state->seq);
            return;
        }
        const char *delta = NULL;
        size_t dlen = 0;
        if (hr->deltas.ready && deltalog_push(&hr->deltas, j, &delta, &dlen) != 0) {
            /* Delta connections cannot be served from here on: they
             * rejoin and the log is started again. */
            log_error("room %s: no delta form for event %llu", room_id,
                      (unsigned long long)ev[i].seq);
            deltas_stop(hr);
        }
        json_decref(j);
        /* The record's fingerprint as of this event (what the chair's
         * conclusions quote); unknown when the backend did not give it. */
        snprintf(hr->state->chain_head, sizeof hr->state->chain_head, "%s",
                 ev[i].hash ? ev[i].hash : "");
        if (re->name == PROTO_EV_TOKEN_REVOKED) {
            /* Both forms without the jti (public_text). */
            size_t pl = 0, pdl = 0;
            char *pub = public_text(ev[i].json, ev[i].len, &pl);
            char *pdelta = delta ? public_text(delta, dlen, &pdl) : NULL;
            if (pub)
                broadcast_event(hr, pub, pl, pdelta, pdelta ? pdl : 0);
            else
                log_error("room %s: cannot encode event %llu for clients", room_id,
                          (unsigned long long)ev[i].seq);
            free(pub);
            free(pdelta);
        } else {
            broadcast_event(hr, ev[i].json, ev[i].len, delta, dlen);
        }
        after_event(hr, re);
        if (re == &parsed)
            room_event_clear(&parsed);
    }
}

/* A statement a store kept apart from the log (contract 9.4). */
static void hub_on_statement(void *arg, const char *room_id, const char *request_id,
                             const json_t *stmt)
{
    struct hub *h = arg;
    struct hub_room *hr = find_room(h, room_id);
    if (!hr || !hr->state)
        return;
    if (room_statement_put(hr->state, request_id,
                           json_string_value(json_object_get(stmt, "sub")),
                           json_string_value(json_object_get(stmt, "lang")),
                           json_string_value(json_object_get(stmt, "text"))) != 0)
        log_error("room %s: a stored statement for %s does not read; left out", room_id,
                  request_id);
}

/* ---- commands ---- */

/* A moderator's command and its outcome in the audit log, before the
 * reply is queued. The command's arguments (a message's text, a sub) are
 * not written: the name, the room and the outcome say what happened. */
static void audit_session(const struct session *s, enum proto_cmd_type t, const char *outcome)
{
    if (!audit_enabled() || s->actor.role != PROTO_ROLE_MODERATOR || s->state != SESSION_JOINED ||
        t == PROTO_CMD_JOIN || t == PROTO_CMD_PING)
        return;
    struct audit_entry e = {
        .remote = s->remote[0] ? s->remote : NULL,
        .who = s->actor.sub,
        .command = proto_cmd_name(t),
        .room = s->room ? s->room->id : NULL,
        .outcome = outcome,
    };
    audit_record(&e);
}

static void audit_command(const struct hub_cmd *c, const char *outcome)
{
    audit_session(c->s, c->cmd.type, outcome);
}

void hub_audit_refusal(struct session *s, enum proto_cmd_type t, enum proto_err e)
{
    audit_session(s, t, proto_err_code(e));
}

static void reply_error(struct hub_cmd *c, enum proto_err e, const char *msg)
{
    if ((c->kind == CMD_ADMIN_CLOSE || c->kind == CMD_ADMIN_REVOKE) && c->done)
        c->done(c->arg, e == PROTO_ERR_UNAVAILABLE ? 503 : c->kind == CMD_ADMIN_CLOSE ? 200 : 500);
    if (c->kind != CMD_CLIENT || !c->s)
        return;
    audit_command(c, proto_err_code(e));
    metrics.commands[c->cmd.type][e]++;
    send_refusal(c->s, c->cmd.id, e, msg && msg[0] ? msg : NULL);
}

static void reply_ok(struct hub_cmd *c, uint64_t seq)
{
    if ((c->kind == CMD_ADMIN_CLOSE || c->kind == CMD_ADMIN_REVOKE) && c->done)
        c->done(c->arg, 200);
    if (c->kind != CMD_CLIENT || !c->s)
        return;
    audit_command(c, "ok");
    metrics.commands[c->cmd.type][PROTO_OK]++;
    send_ack(c->s, c->cmd.id, seq);
}

struct commit_ctx {
    struct hub *h;
    struct hub_room *hr;
    struct hub_cmd *c;
    uint64_t last_seq;
};

static void commit_done(void *arg, enum backend_result r)
{
    struct commit_ctx *x = arg;
    struct hub *h = x->h;
    struct hub_room *hr = x->hr;
    struct hub_cmd *c = x->c;
    hr->inflight = NULL;
    own_free(hr->own);
    hr->own = NULL;
    if (r == BACKEND_CONFLICT && ++c->tries < COMMIT_TRIES) {
        /* Another node committed first; the backend has delivered its
         * events: decide again on the caught-up replica. */
        metrics.commit_conflicts++;
        c->next = hr->q_head;
        hr->q_head = c;
        if (!hr->q_tail)
            hr->q_tail = c;
    } else {
        if (r == BACKEND_OK)
            reply_ok(c, x->last_seq);
        else if (r == BACKEND_CONFLICT)
            reply_error(c, PROTO_ERR_UNAVAILABLE, "the room is too busy right now; retry");
        else
            reply_error(c, PROTO_ERR_UNAVAILABLE, NULL);
        cmd_free(c);
    }
    free(x);
    pump(h, hr);
}

/* Stamps, encodes and commits decided events for c (which becomes the
 * room's command in flight). An event's "state" carries the snapshot parts
 * it changes as they are after it: only then is the replica cloned and the
 * events applied to the clone; a chat message (no part) is encoded from the
 * replica as it is, since a plenary's directory makes a clone cost. */
static void commit(struct hub *h, struct hub_room *hr, struct room_events *evs, struct hub_cmd *c)
{
    struct backend_event bev[ROOM_MAX_EVENTS];
    json_t *state = NULL, *stmt = NULL;
    struct commit_ctx *x = calloc(1, sizeof *x);
    struct own_commit *own = calloc(1, sizeof *own);
    struct room *next = NULL;
    size_t n;
    bool parts = false;
    /* The decided events are the commit's from here on (applied as they
     * are when delivered). */
    if (own) {
        own->evs = *evs;
        evs->n = 0;
    }
    for (n = 0; own && n < own->evs.n; n++)
        parts |= proto_event_parts(own->evs.ev[n].name) != 0;
    if (!x || !own || (parts && !(next = room_clone(hr->state))))
        goto fail;
    for (n = 0; n < own->evs.n; n++) {
        struct room_event *e = &own->evs.ev[n];
        e->seq = hr->state->seq + n + 1;
        if (next && room_apply(next, e) != 0) {
            log_error("room %s: decided event %s does not apply", hr->id, proto_event_name(e->name));
            goto fail;
        }
        own->json[n] = room_event_json(next ? next : hr->state, e);
        own->text[n] = own->json[n] ? json_dumps(own->json[n], JSON_COMPACT) : NULL;
        if (!own->text[n])
            goto fail;
        own->len[n] = strlen(own->text[n]);
        bev[n].seq = e->seq;
        bev[n].json = own->text[n];
        bev[n].len = own->len[n];
        bev[n].hash = NULL;
    }
    /* A shared store keeps a snapshot of the sequenced state beside the
     * log, when it changed. */
    if (h->shared && next && !(state = room_state_json(next, false)))
        goto fail;
    x->h = h;
    x->hr = hr;
    x->c = c;
    x->last_seq = hr->state->seq + n;
    /* A deposited statement is stored beside the events, never in them
     * (contract 9.4); published and discarded ones may be forgotten. */
    const char *drop[ROOM_MAX_EVENTS];
    struct backend_stmts st = {NULL, NULL, drop, evs->stmt_ndrop};
    for (size_t i = 0; i < evs->stmt_ndrop && i < ROOM_MAX_EVENTS; i++)
        drop[i] = evs->stmt_drop[i];
    if (evs->stmt_text) {
        if (!(stmt = room_statement_json(evs->stmt_text, evs->stmt_lang, evs->stmt_sub)))
            goto fail;
        st.request_id = evs->stmt_request;
        st.statement = stmt;
    }
    hr->inflight = c;
    hr->own = own;
    own = NULL; /* commit_done frees it */
    metrics.events_committed += n;
    backend_commit(h->backend, hr->id, hr->state->seq, bev, n, state, &st, commit_done, x);
    x = NULL; /* commit_done frees it */
    goto done;
fail:
    free(x);
    reply_error(c, PROTO_ERR_INTERNAL, NULL);
    cmd_free(c);
done:
    own_free(own);
    json_decref(state);
    json_decref(stmt);
    room_destroy(next);
}

static enum proto_err decide(struct hub_room *hr, struct hub_cmd *c, struct room_events *evs,
                             char *err, size_t errsz)
{
    int64_t now = clock_now_ms();
    switch (c->kind) {
    case CMD_CLIENT: {
        enum proto_err e = room_decide(hr->state, &c->s->actor, &c->cmd, now, evs, err, errsz);
        /* The room checks a schedule's shape; whether its zone exists is
         * the system's to say. Checked once the room accepted the command
         * (so permission still comes first), before anything commits. */
        if (e == PROTO_OK && evs->n && evs->ev[0].name == PROTO_EV_SCHEDULE_CHANGED) {
            const char *tz = json_string_value(json_object_get(
                json_object_get(evs->ev[0].data, "schedule"), "time_zone"));
            if (tz && !tzdb_zone_exists(tz)) {
                /* tz lives in the event: write the message before clearing */
                snprintf(err, errsz,
                         "'schedule.time_zone': \"%s\" is not a time zone of this "
                         "system's zone database", tz);
                room_events_clear(evs);
                return PROTO_ERR_BAD_REQUEST;
            }
        }
        return e;
    }
    case CMD_CLOCK:
        hr->clock_queued = false;
        room_decide_clock(hr->state, now, evs);
        return PROTO_OK;
    case CMD_DISCONNECT: {
        /* Back already (another tab, a quick reconnect): nothing to pause. */
        int idx = member_index(hr, c->sub);
        if (idx < 0 || member_conns_fit(hr) != 0 || hr->member_conns[idx] == 0)
            room_decide_disconnect(hr->state, c->sub, now, evs);
        return PROTO_OK;
    }
    case CMD_ADMIN_CLOSE: {
        struct room_actor admin;
        memset(&admin, 0, sizeof admin);
        snprintf(admin.sub, sizeof admin.sub, "admin");
        snprintf(admin.name, sizeof admin.name, "Administrator");
        admin.role = PROTO_ROLE_MODERATOR;
        admin.category = PROTO_CAT_NONE;
        if (hr->state->status == PROTO_STATUS_CLOSED)
            return PROTO_OK;
        memset(&c->cmd, 0, sizeof c->cmd);
        c->cmd.type = PROTO_CMD_SET_STATUS;
        c->cmd.status = PROTO_STATUS_CLOSED;
        return room_decide(hr->state, &admin, &c->cmd, now, evs, err, errsz);
    }
    case CMD_ADMIN_REVOKE:
        room_decide_revoke(hr->state, c->jti, c->until_s, now, evs);
        return evs->n == 1 ? PROTO_OK : PROTO_ERR_INTERNAL;
    }
    return PROTO_ERR_INTERNAL;
}

struct sync_wait {
    struct hub *h;
    struct hub_room *hr;
    struct hub_cmd *c;
};

/* The room is now as current here as in the store: decide c again. */
static void synced(void *arg, enum backend_result r)
{
    struct sync_wait *w = arg;
    struct hub_room *hr = w->hr;
    struct hub_cmd *c = w->c;
    struct hub *h = w->h;
    free(w);
    hr->inflight = NULL;
    if (r != BACKEND_OK) {
        reply_error(c, PROTO_ERR_UNAVAILABLE, NULL);
        cmd_free(c);
    } else {
        c->next = hr->q_head;
        hr->q_head = c;
        if (!hr->q_tail)
            hr->q_tail = c;
    }
    pump(h, hr);
}

/* Before a refusal (or an ack without event) with a shared store: this
 * node's copy may not have the latest events yet (another node's commit
 * is acknowledged before its publish reaches us). Catch up with the
 * store's seq, then decide again; returns true when c waits for that. */
static bool sync_first(struct hub *h, struct hub_room *hr, struct hub_cmd *c)
{
    if (!h->shared || c->synced || c->kind != CMD_CLIENT)
        return false;
    struct sync_wait *w = calloc(1, sizeof *w);
    if (!w)
        return false;
    c->synced = true;
    w->h = h;
    w->hr = hr;
    w->c = c;
    hr->inflight = c;
    backend_sync(h->backend, hr->id, synced, w);
    return true;
}

/* get_statement (contract 9.4): answered with the statement itself, not
 * an ack, from this node's copy; a refusal is first checked against the
 * store like any other (the deposit may be on its way from another node).
 * Returns false when c waits for that check (then it is not freed). The
 * text goes only into this one reply: no log line, no metric label. */
static bool read_statement(struct hub *h, struct hub_room *hr, struct hub_cmd *c)
{
    const struct room_statement *st = NULL;
    char err[200] = "";
    enum proto_err e = room_statement_read(hr->state, &c->s->actor, &c->cmd, &st, err, sizeof err);
    if (e != PROTO_OK && sync_first(h, hr, c))
        return false;
    if (e != PROTO_OK) {
        reply_error(c, e, err);
        return true;
    }
    size_t len = 0;
    char *txt = room_statement_reply(st, c->cmd.id, &len);
    if (!txt) {
        reply_error(c, PROTO_ERR_INTERNAL, NULL);
        return true;
    }
    metrics.commands[c->cmd.type][PROTO_OK]++;
    session_reply(c->s, txt, len);
    free(txt);
    return true;
}

static void pump(struct hub *h, struct hub_room *hr)
{
    if (hr->pumping)
        return;
    hr->pumping = true;
    while (!hr->inflight && hr->q_head) {
        struct hub_cmd *c = hr->q_head;
        hr->q_head = c->next;
        if (!hr->q_head)
            hr->q_tail = NULL;
        c->next = NULL;
        if (c->kind == CMD_CLIENT && !c->s) {
            cmd_free(c);
            continue;
        }
        if (!backend_available(h->backend)) {
            reply_error(c, PROTO_ERR_UNAVAILABLE, NULL);
            cmd_free(c);
            continue;
        }
        if (c->kind == CMD_CLIENT && c->cmd.type == PROTO_CMD_GET_STATEMENT) {
            if (!read_statement(h, hr, c))
                continue;
            cmd_free(c);
            continue;
        }
        struct room_events evs = {.n = 0};
        char err[200] = "";
        enum proto_err e = decide(hr, c, &evs, err, sizeof err);
        if ((e != PROTO_OK || evs.n == 0) && sync_first(h, hr, c)) {
            room_events_clear(&evs);
            continue;
        } else if (e != PROTO_OK) {
            reply_error(c, e, err);
            cmd_free(c);
        } else if (evs.n == 0) {
            reply_ok(c, hr->state->seq);
            cmd_free(c);
        } else {
            commit(h, hr, &evs, c);
        }
        room_events_clear(&evs);
    }
    hr->pumping = false;
    maybe_drop(h, hr);
}

static void enqueue(struct hub *h, struct hub_room *hr, struct hub_cmd *c)
{
    if (hr->q_tail)
        hr->q_tail->next = c;
    else
        hr->q_head = c;
    hr->q_tail = c;
    pump(h, hr);
}

static struct hub_cmd *cmd_new(enum cmd_kind kind)
{
    struct hub_cmd *c = calloc(1, sizeof *c);
    if (c)
        c->kind = kind;
    return c;
}

void hub_command(struct hub *h, struct session *s, const struct proto_cmd *cmd)
{
    struct hub_room *hr = s->room;
    struct hub_cmd *c = cmd_new(CMD_CLIENT);
    if (!c || !hr || !hr->state) {
        free(c);
        metrics.commands[cmd->type][PROTO_ERR_INTERNAL]++;
        send_refusal(s, cmd->id, PROTO_ERR_INTERNAL, NULL);
        return;
    }
    c->s = s;
    c->cmd = *cmd;
    c->cmd.token = NULL;
    c->cmd.text = cmd->text ? strdup(cmd->text) : NULL;
    if (cmd->settings)
        json_incref((json_t *)cmd->settings);
    /* the copy owns references of its own: the command may be decided
     * again after a sync with Redis, long after the frame is gone */
    if (cmd->schedule)
        json_incref((json_t *)cmd->schedule);
    if (cmd->agenda)
        json_incref((json_t *)cmd->agenda);
    enqueue(h, hr, c);
}

enum proto_err hub_may_send(struct hub *h, const struct session *s, enum proto_cmd_type type,
                            char *msg, size_t msgsz)
{
    (void)h;
    if (!s->room || !s->room->state)
        return PROTO_OK;
    return room_may_send(s->room->state, &s->actor, type, msg, msgsz);
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
    if (hr->inflight && hr->inflight->s == s)
        hr->inflight->s = NULL;
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
    conn_id(h, s, cid, sizeof cid);
    backend_presence(h->backend, hr->id, cid, s->is_observer, NULL);
    if (s->is_observer) {
        hr->observers--;
        maybe_drop(h, hr);
        return;
    }
    /* (on a drain too: the leave times are what the record says) */
    int idx = member_index(hr, s->actor.sub);
    if (idx < 0 || member_conns_fit(hr) != 0) {
        maybe_drop(h, hr);
        return;
    }
    if (--hr->member_conns[idx] > 0) {
        presence(hr, "update", &hr->state->members[idx], NULL);
    } else {
        presence(hr, "leave", &hr->state->members[idx], NULL);
        attendance_sync(h, hr, clock_now_ms());
        if (!h->draining && hr->state->floor.active && strcmp(hr->state->floor.sub, s->actor.sub) == 0) {
            struct hub_cmd *c = cmd_new(CMD_DISCONNECT);
            if (c) {
                snprintf(c->sub, sizeof c->sub, "%s", s->actor.sub);
                enqueue(h, hr, c);
                return;
            }
        }
    }
    maybe_drop(h, hr);
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
            char *pub = public_text(ev[i].json, ev[i].len, &pl);
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
    if (member_conns_fit(hr) != 0) {
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
        hr->observers++;
        attendance_sync(h, hr, clock_now_ms()); /* the observers' peak */
        you = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b, s:i, s:b}", "sub", a->sub,
                        "name", a->name, "role", "observer", "delegation",
                        a->delegation[0] ? a->delegation : NULL, "category",
                        proto_category_name(a->category), "region",
                        a->region[0] ? a->region : NULL, "online", 1, "connections", 1,
                        "muted", m && m->muted);
        pj = json_incref(you);
    } else {
        int idx = (int)(m - hr->state->members);
        hr->member_conns[idx]++;
        presence(hr, hr->member_conns[idx] == 1 ? "join" : "update", m, s);
        attendance_sync(h, hr, clock_now_ms());
        you = participant_json(hr, m);
        pj = room_member_json(hr->state, m);
    }
    char cid[128];
    conn_id(h, s, cid, sizeof cid);
    backend_presence(h->backend, hr->id, cid, s->is_observer, pj);
    json_decref(pj);

    if (s->deltas && deltas_start(h, hr) != 0)
        s->deltas = false; /* the full form then: a client reads both */
    struct welcome_ctx w = {.s = s, .deltas = s->deltas ? &hr->deltas : NULL};
    w.head = json_pack("{s:s, s:I, s:s, s:o, s:o, s:o, s:I}", "type", "welcome", "seq",
                       (json_int_t)hr->state->seq, "epoch", hr->state->epoch, "you", you, "room",
                       room_snapshot_json(hr->state), "participants", participants_json(hr),
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

static void hub_on_presence(void *arg, const char *room_id, const json_t *msg);

static void opened(void *arg, enum backend_result r, struct room *initial, struct room *current,
                   const json_t *presence)
{
    struct open_ctx *o = arg;
    struct hub *h = o->h;
    struct hub_room *hr = find_room(h, o->id);
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
        recount(hr);
        /* A waiter may queue a command or let go of the room: not while
         * this loop still uses it. */
        hr->pumping = true;
    } else {
        room_destroy(current);
        remove_room(h, hr);
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
        pump(h, hr);
    }
}

/* Adds w to the room's waiters, opening the room when this node does not
 * hold it. Returns false when it cannot wait (no shared backend: the room
 * does not exist). */
static bool wait_for_room(struct hub *h, const char *id, struct waiter *w)
{
    struct hub_room *hr = find_room(h, id);
    if (!hr) {
        if (!h->shared || h->n_rooms >= h->cfg->max_rooms)
            return false;
        struct open_ctx *o = calloc(1, sizeof *o);
        hr = o ? add_room(h, id, NULL) : NULL;
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
    struct hub_room *hr = find_room(h, j->id);
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
        maybe_drop(h, hr);
}

void hub_join(struct hub *h, struct session *s, const struct proto_cmd *cmd)
{
    struct proto_claims claims;
    const char *why = "invalid token";
    int64_t now = clock_now_ms();
    if (proto_jwt_verify_ring(h->cfg->keys, cmd->token, now / 1000, &claims, &why) != PROTO_OK) {
        refuse_join(s, PROTO_ERR_UNAUTHORIZED, why, PROTO_CLOSE_UNAUTHORIZED);
        return;
    }
    struct room_actor *a = &s->actor;
    memset(a, 0, sizeof *a);
    snprintf(a->sub, sizeof a->sub, "%s", claims.sub);
    snprintf(a->name, sizeof a->name, "%s", claims.name);
    snprintf(a->delegation, sizeof a->delegation, "%s", claims.delegation);
    a->category = claims.category;
    snprintf(a->region, sizeof a->region, "%s", claims.region);
    a->role = claims.role;
    s->deltas = cmd->deltas;
    snprintf(s->jti, sizeof s->jti, "%s", claims.jti);
    s->token_exp = claims.exp;

    struct hub_room *hr = find_room(h, claims.room);
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
    if (!wait_for_room(h, claims.room, w)) {
        free(w);
        refuse_join(s, PROTO_ERR_NOT_FOUND, "no such room", PROTO_CLOSE_NO_ROOM);
    }
}

/* ---- presence from other nodes ---- */

static struct remote_conn *remote_find(struct hub_room *hr, const char *conn)
{
    for (size_t i = 0; i < hr->n_remote; i++)
        if (strcmp(hr->remote[i].conn, conn) == 0)
            return &hr->remote[i];
    return NULL;
}

static bool remote_add(struct hub *h, struct hub_room *hr, const json_t *msg)
{
    const char *conn = json_string_value(json_object_get(msg, "conn"));
    const char *node = json_string_value(json_object_get(msg, "node"));
    const json_t *p = json_object_get(msg, "participant");
    const char *sub = json_string_value(json_object_get(p, "sub"));
    if (!conn || !sub || (node && strcmp(node, h->cfg->node_id) == 0) || remote_find(hr, conn))
        return false;
    if (hr->n_remote == hr->cap_remote) {
        size_t cap = hr->cap_remote ? hr->cap_remote * 2 : 16;
        struct remote_conn *rc = realloc(hr->remote, cap * sizeof *rc);
        if (!rc)
            return false;
        hr->remote = rc;
        hr->cap_remote = cap;
    }
    struct remote_conn *rc = &hr->remote[hr->n_remote++];
    snprintf(rc->conn, sizeof rc->conn, "%s", conn);
    snprintf(rc->sub, sizeof rc->sub, "%s", sub);
    rc->observer = json_is_true(json_object_get(msg, "observer"));
    /* Learn the participant as this node would at a local join. */
    if (!rc->observer)
        room_participant_seen_json(hr->state, p);
    return true;
}

static void hub_on_presence(void *arg, const char *room_id, const json_t *msg)
{
    struct hub *h = arg;
    struct hub_room *hr = find_room(h, room_id);
    const char *action = json_string_value(json_object_get(msg, "action"));
    if (!hr || !hr->state || !action)
        return;
    if (strcmp(action, "sync") == 0) {
        /* The whole mirror again (after opening the room, or a reconnect). */
        hr->n_remote = 0;
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(msg, "entries"), i, e)
            remote_add(h, hr, e);
        recount(hr);
        return;
    }
    const char *conn = json_string_value(json_object_get(msg, "conn"));
    if (!conn)
        return;
    if (strcmp(action, "join") == 0) {
        if (!remote_add(h, hr, msg))
            return;
        struct remote_conn *rc = &hr->remote[hr->n_remote - 1];
        int idx = remote_is_observer(hr, rc) ? -1 : member_index(hr, rc->sub);
        if (idx < 0 || member_conns_fit(hr) != 0) {
            hr->observers++;
            return;
        }
        hr->member_conns[idx]++;
        presence(hr, hr->member_conns[idx] == 1 ? "join" : "update", &hr->state->members[idx], NULL);
    } else if (strcmp(action, "leave") == 0) {
        struct remote_conn *rc = remote_find(hr, conn);
        if (!rc)
            return;
        struct remote_conn gone = *rc;
        *rc = hr->remote[--hr->n_remote];
        int idx = remote_is_observer(hr, &gone) ? -1 : member_index(hr, gone.sub);
        if (idx < 0 || member_conns_fit(hr) != 0) {
            if (hr->observers)
                hr->observers--;
            return;
        }
        if (hr->member_conns[idx] > 0)
            hr->member_conns[idx]--;
        presence(hr, hr->member_conns[idx] > 0 ? "update" : "leave", &hr->state->members[idx], NULL);
        if (hr->member_conns[idx] == 0 && hr->state->floor.active &&
            strcmp(hr->state->floor.sub, gone.sub) == 0) {
            struct hub_cmd *c = cmd_new(CMD_DISCONNECT);
            if (c) {
                snprintf(c->sub, sizeof c->sub, "%s", gone.sub);
                enqueue(h, hr, c);
            }
        }
    }
}

static void hub_on_reset(void *arg, const char *room_id, struct room *current)
{
    struct hub *h = arg;
    struct hub_room *hr = find_room(h, room_id);
    if (!hr || !hr->state) {
        room_destroy(current);
        return;
    }
    log_warn("room %s: its history was lost; it goes on under epoch %s", room_id, current->epoch);
    room_destroy(hr->state);
    hr->state = current;
    hr->n_remote = 0;
    deltalog_clear(&hr->deltas);
    recount(hr);
    /* The clients' seqs belong to the lost history: they must rejoin. */
    for (struct session *s = hr->conns; s; s = s->next)
        session_close(s, PROTO_CLOSE_TRY_AGAIN, "room history reset; join again", true);
}

static void hub_on_reconnect(void *arg)
{
    struct hub *h = arg;
    /* The store may have forgotten this node's connections: announce them
     * again. */
    for (size_t i = 0; i < h->n_rooms; i++) {
        struct hub_room *hr = h->rooms[i];
        if (!hr->state)
            continue;
        for (struct session *s = hr->conns; s; s = s->next) {
            char cid[128];
            conn_id(h, s, cid, sizeof cid);
            const struct room_member *m = room_member_find(hr->state, s->actor.sub);
            json_t *pj = m ? room_member_json(hr->state, m) : room_actor_json(&s->actor);
            backend_presence(h->backend, hr->id, cid, s->is_observer, pj);
            json_decref(pj);
        }
    }
}

/* ---- timers ---- */

void hub_tick(struct hub *h, int64_t now)
{
    backend_tick(h->backend, now);
    for (struct session *s = h->unjoined, *next; s; s = next) {
        next = s->u_next;
        if (s->state == SESSION_NEW && now - s->created_ms >= h->cfg->join_timeout_ms)
            session_close(s, PROTO_CLOSE_JOIN_TIMEOUT, "no join within 10 s", true);
    }
    bool idle_check = h->cfg->idle_timeout_ms > 0 && now - h->last_idle_check >= 1000;
    if (idle_check)
        h->last_idle_check = now;
    bool up = backend_available(h->backend);
    for (size_t i = 0; i < h->n_rooms; i++) {
        struct hub_room *hr = h->rooms[i];
        for (struct session *s = idle_check ? hr->conns : NULL; s; s = s->next)
            if (now - s->last_rx_ms > h->cfg->idle_timeout_ms)
                session_close(s, PROTO_CLOSE_GOING_AWAY, "idle: nothing received in time", true);
        if (!hr->state || (h->shared && !hr->n_conns))
            continue;
        /* other nodes' joins and leaves, and the observers' peak */
        attendance_sync(h, hr, now);
        if (hr->state->observers_peak > hr->peak_saved && now - hr->peak_saved_ms >= 1000) {
            hr->peak_saved = hr->state->observers_peak;
            hr->peak_saved_ms = now;
            backend_save_peak(h->backend, hr->id, hr->state->observers_peak,
                              hr->state->observers_peak_at);
        }
        int64_t due = room_deadline(hr->state);
        if (up && due >= 0 && now >= due && !hr->clock_queued && !hr->inflight) {
            struct hub_cmd *c = cmd_new(CMD_CLOCK);
            if (c) {
                hr->clock_queued = true;
                enqueue(h, hr, c);
            }
        }
        if (hr->observers != hr->observers_sent && now - hr->observers_sent_ms >= OBSERVER_PRESENCE_MS) {
            hr->observers_sent = hr->observers;
            hr->observers_sent_ms = now;
            broadcast_json(hr, json_pack("{s:s, s:I}", "type", "presence", "observers",
                                         (json_int_t)hr->observers),
                           NULL);
        }
    }
}

size_t hub_drain(struct hub *h)
{
    size_t open = 0;
    h->draining = true;
    for (struct session *s = h->unjoined; s; s = s->u_next, open++)
        session_close(s, PROTO_CLOSE_GOING_AWAY, "server going away", true);
    for (size_t i = 0; i < h->n_rooms; i++)
        for (struct session *s = h->rooms[i]->conns; s; s = s->next, open++)
            session_close(s, PROTO_CLOSE_GOING_AWAY, "server going away", true);
    return open;
}

int hub_backend_up(struct hub *h)
{
    return backend_available(h->backend) ? 1 : 0;
}

/* ---- admin ---- */

static void random_epoch(char *out, size_t sz)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[8];
    if (RAND_bytes(raw, sizeof raw) != 1)
        memset(raw, 7, sizeof raw);
    size_t i;
    for (i = 0; i < sizeof raw && i + 1 < sz; i++)
        out[i] = alphabet[raw[i] % (sizeof alphabet - 1)];
    out[i] = '\0';
}

struct create_ctx {
    struct hub *h;
    struct room *r;
    void (*cb)(void *arg, int status, const json_t *out, const char *msg);
    void *arg;
};

static void created(void *arg, enum backend_result res)
{
    struct create_ctx *x = arg;
    json_t *snap = NULL;
    int status = res == BACKEND_OK ? 201 : res == BACKEND_EXISTS ? 409 : 503;
    if (res == BACKEND_OK) {
        log_info("room %s created", x->r->id);
        snap = room_snapshot_json(x->r);
        /* The embedded backend's rooms all live in the hub; a shared one's
         * are opened when used. */
        if (!x->h->shared && add_room(x->h, x->r->id, x->r))
            x->r = NULL;
    }
    x->cb(x->arg, status, snap, status == 409 ? "a room with this id exists" : NULL);
    json_decref(snap);
    room_destroy(x->r);
    free(x);
}

void hub_room_create(struct hub *h, const json_t *spec,
                     void (*cb)(void *arg, int status, const json_t *out, const char *msg), void *arg)
{
    char epoch[16], err[200] = "invalid room";
    random_epoch(epoch, sizeof epoch);
    struct room *r = room_create(spec, epoch, clock_now_ms(), err, sizeof err);
    if (!r) {
        cb(arg, 400, NULL, err);
        return;
    }
    if (r->schedule.set && !tzdb_zone_exists(r->schedule.time_zone)) {
        snprintf(err, sizeof err,
                 "'schedule.time_zone': \"%s\" is not a time zone of this system's zone "
                 "database", r->schedule.time_zone);
        room_destroy(r);
        cb(arg, 400, NULL, err);
        return;
    }
    if (find_room(h, r->id) && find_room(h, r->id)->state) {
        room_destroy(r);
        cb(arg, 409, NULL, "a room with this id exists");
        return;
    }
    if (!h->shared && h->n_rooms >= h->cfg->max_rooms) {
        room_destroy(r);
        cb(arg, 503, NULL, "this server holds the most rooms it may (--max-rooms)");
        return;
    }
    struct create_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        room_destroy(r);
        cb(arg, 503, NULL, NULL);
        return;
    }
    x->h = h;
    x->r = r;
    x->cb = cb;
    x->arg = arg;
    backend_create(h->backend, r, created, x);
}

void hub_room_ensure(struct hub *h, const char *id, void (*cb)(void *arg, bool found), void *arg)
{
    struct hub_room *hr = find_room(h, id);
    if (hr && hr->state) {
        if (!h->shared || hr->n_conns || hr->q_head || hr->inflight) {
            cb(arg, true);
            return;
        }
        /* Held but unwatched: its replica may be stale; open it afresh. */
        remove_room(h, hr);
    }
    struct waiter *w = calloc(1, sizeof *w);
    if (!w) {
        cb(arg, false);
        return;
    }
    w->cb = cb;
    w->arg = arg;
    if (!wait_for_room(h, id, w)) {
        free(w);
        cb(arg, false);
    }
}

/* Lists rooms one after the other: ensure each, then describe it. */
struct list_ctx {
    struct hub *h;
    json_t *ids, *out;
    size_t next;
    void (*cb)(void *arg, int status, const json_t *list);
    void *arg;
};

static void list_next(struct list_ctx *x);

static void list_found(void *arg, bool found)
{
    struct list_ctx *x = arg;
    const char *id = json_string_value(json_array_get(x->ids, x->next));
    struct hub_room *hr = found && id ? find_room(x->h, id) : NULL;
    if (hr && hr->state) {
        size_t online = 0;
        for (size_t k = 0; k < hr->state->members_len && k < hr->member_conns_cap; k++)
            online += hr->member_conns[k] > 0;
        json_array_append_new(x->out, json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", hr->id, "title",
                                                hr->state->title, "status",
                                                proto_status_name(hr->state->status),
                                                "participants", (json_int_t)online, "observers",
                                                (json_int_t)hr->observers));
        maybe_drop(x->h, hr);
    }
    x->next++;
    list_next(x);
}

static void list_next(struct list_ctx *x)
{
    if (x->next >= json_array_size(x->ids)) {
        x->cb(x->arg, 200, x->out);
        json_decref(x->ids);
        json_decref(x->out);
        free(x);
        return;
    }
    hub_room_ensure(x->h, json_string_value(json_array_get(x->ids, x->next)), list_found, x);
}

static void list_ids(void *arg, enum backend_result r, json_t *ids)
{
    struct list_ctx *x = arg;
    if (r != BACKEND_OK) {
        x->cb(x->arg, 503, NULL);
        json_decref(x->out);
        free(x);
        return;
    }
    x->ids = json_incref(ids);
    list_next(x);
}

void hub_rooms_list(struct hub *h, void (*cb)(void *arg, int status, const json_t *list), void *arg)
{
    struct list_ctx *x = calloc(1, sizeof *x);
    if (!x || !(x->out = json_array())) {
        free(x);
        cb(arg, 503, NULL);
        return;
    }
    x->h = h;
    x->cb = cb;
    x->arg = arg;
    backend_rooms(h->backend, list_ids, x);
}

json_t *hub_room_get(struct hub *h, const char *id)
{
    struct hub_room *hr = find_room(h, id);
    if (!hr || !hr->state)
        return NULL;
    json_t *j = room_snapshot_json(hr->state);
    json_object_set_new(j, "participants", participants_json(hr));
    json_object_set_new(j, "observers", json_integer((json_int_t)hr->observers));
    json_object_set_new(j, "seq", json_integer((json_int_t)hr->state->seq));
    json_object_set_new(j, "epoch", json_string(hr->state->epoch));
    return j;
}

void hub_room_close(struct hub *h, const char *id, void (*cb)(void *arg, int status), void *arg)
{
    struct hub_room *hr = find_room(h, id);
    struct hub_cmd *c = hr && hr->state ? cmd_new(CMD_ADMIN_CLOSE) : NULL;
    if (!c) {
        cb(arg, hr && hr->state ? 503 : 404);
        return;
    }
    c->done = cb;
    c->arg = arg;
    enqueue(h, hr, c);
}

bool hub_room_moderator_ok(struct hub *h, const char *id, const char *sub, const char *jti)
{
    struct hub_room *hr = find_room(h, id);
    const struct room_member *m = hr && hr->state ? room_member_find(hr->state, sub) : NULL;
    if (hr && hr->state && jti && jti[0] && room_is_revoked(hr->state, jti, clock_now_ms()))
        return false;
    /* A moderator who never joined is not in the directory: the token's
     * role stands. */
    if (!m)
        return hr && hr->state;
    return !m->removed && (!m->has_role_override || m->role_override == PROTO_ROLE_MODERATOR);
}

static char *sign_record(void *arg, const char *text)
{
    return recordkey_sign(arg, text);
}

static int log_get(void *arg, size_t i, const char **json, size_t *len, const char **hash)
{
    const struct eventlog *log = arg;
    if (i >= log->seq)
        return -1;
    *json = log->ev[i];
    *len = log->len[i];
    *hash = log->hash[i];
    return 0;
}

void hub_room_revoke(struct hub *h, const char *id, const char *jti, int64_t until_s,
                     void (*cb)(void *arg, int status), void *arg)
{
    struct hub_room *hr = find_room(h, id);
    struct hub_cmd *c = hr && hr->state ? cmd_new(CMD_ADMIN_REVOKE) : NULL;
    if (!c) {
        cb(arg, hr && hr->state ? 503 : 404);
        return;
    }
    c->done = cb;
    c->arg = arg;
    snprintf(c->jti, sizeof c->jti, "%s", jti);
    c->until_s = until_s;
    enqueue(h, hr, c);
}

int64_t hub_room_token_exp(struct hub *h, const char *id, const char *jti)
{
    struct hub_room *hr = find_room(h, id);
    int64_t exp = 0;
    for (struct session *s = hr ? hr->conns : NULL; s; s = s->next)
        if (strcmp(s->jti, jti) == 0 && s->token_exp > exp)
            exp = s->token_exp;
    return exp;
}

json_t *hub_room_revocations(struct hub *h, const char *id)
{
    struct hub_room *hr = find_room(h, id);
    return hr && hr->state ? revoke_json(&hr->state->revoked, clock_now_ms()) : NULL;
}

int hub_room_transcript(struct hub *h, const char *id, int format, char **out, size_t *len)
{
    const struct room *initial = NULL;
    const struct eventlog *log = backend_record_log(h->backend, id, &initial);
    if (!log)
        return find_room(h, id) ? 500 : 404;
    struct transcript_source src = {(size_t)log->seq, log_get, (void *)log};
    char err[200] = "";
    struct transcript_opts opts = {NULL, NULL, NULL, NULL};
    const struct hub_room *hr = find_room(h, id);
    opts.live = hr ? hr->state : NULL;
    if (h->cfg->record_key) {
        opts.sign = sign_record;
        opts.sign_arg = h->cfg->record_key;
        opts.public_pem = recordkey_public_pem(h->cfg->record_key);
    }
    *out = transcript_render_source(initial, &src, (enum transcript_format)format, &opts, len,
                                    err, sizeof err);
    if (!*out) {
        log_error("room %s: transcript failed: %s", id, err);
        return 500;
    }
    return 200;
}

/* ---- life cycle ---- */

static void loaded(void *arg, struct room *initial, struct room *current)
{
    struct hub *h = arg;
    room_destroy(initial);
    if (!add_room(h, current->id, current))
        room_destroy(current);
}

struct hub *hub_create(const struct config *cfg, struct backend *b)
{
    struct hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = cfg;
    h->backend = b;
    h->shared = cfg->redis_url != NULL;
    b->sink = (struct backend_sink){
        .arg = h,
        .on_events = hub_on_events,
        .on_presence = hub_on_presence,
        .on_reset = hub_on_reset,
        .on_reconnect = hub_on_reconnect,
        .on_statement = hub_on_statement,
    };
    if (backend_load(b, loaded, h) < 0)
        goto fail;
    return h;
fail:
    hub_destroy(h);
    return NULL;
}

void hub_destroy(struct hub *h)
{
    if (!h)
        return;
    while (h->n_rooms)
        remove_room(h, h->rooms[h->n_rooms - 1]);
    free(h->rooms);
    free(h);
}
