/*
 * hub.c: this node's rooms, the command queue, commit and ordered fan-out,
 * and the tick (hub.h). Joins are in hub_join.c, presence in
 * hub_presence.c, the admin calls in hub_admin.c (hub_private.h).
 *
 * Commands of a room wait in a FIFO and are decided in order against
 * the replica; the next is decided only when the commit of the previous
 * one was answered. Commands waiting together are decided one after the
 * other, each on the room as those before it leave it, and committed
 * together, in one call to the store (commit_batch): one round trip to
 * Redis (or one journal sync) for all that a busy plenary queued
 * meanwhile, each with its own outcome and seq. A commit is not compared
 * with the whole seq: it fails only when another node changed what its
 * commands read (a chat line: the rules, maybe the floor, room.h
 * room_chat_reads; any other command: anything but a chat line; backend.h
 * BACKEND_READS_*), and otherwise goes after what came meanwhile. So the
 * chat of several nodes never collides, and a chair's command never
 * collides with it. The backend delivers committed events (hub_on_events)
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
#include "hub_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "config.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "tzdb.h"
#include "session.h"

/* Commits refused by the seq check before a command is given up (then
 * "unavailable"): each refusal means another node moved the room on, so a
 * command only fails after this many others got through first. */
#define COMMIT_TRIES 50

/* This node's commit in flight: the events as decided and as encoded, so
 * that their delivery applies them as decided instead of parsing back the
 * text the hub itself just wrote. Events of other nodes (or a text that is
 * not byte for byte the one encoded here) go through room_apply_text(). */
struct own_commit {
    size_t n;
    struct room_event ev[BACKEND_MAX_EVENTS]; /* stamped with their seqs; owns data */
    json_t *json[BACKEND_MAX_EVENTS];         /* the wire events (for the delta form) */
    char *text[BACKEND_MAX_EVENTS];
    size_t len[BACKEND_MAX_EVENTS];
};

static void own_free(struct own_commit *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < BACKEND_MAX_EVENTS; i++) {
        if (i < o->n)
            room_event_clear(&o->ev[i]);
        json_decref(o->json[i]);
        free(o->text[i]);
    }
    free(o);
}

/* Event k of o when ev is that very event, else -1. */
static int own_index(const struct own_commit *o, const struct backend_event *ev)
{
    if (!o || !o->n || ev->seq < o->ev[0].seq || ev->seq >= o->ev[0].seq + o->n)
        return -1;
    size_t k = (size_t)(ev->seq - o->ev[0].seq);
    return o->len[k] == ev->len && memcmp(o->text[k], ev->json, ev->len) == 0 ? (int)k : -1;
}

/* ---- rooms ---- */

struct hub_room *hub_find_room(struct hub *h, const char *id)
{
    for (size_t i = 0; i < h->n_rooms; i++)
        if (strcmp(h->rooms[i]->id, id) == 0)
            return h->rooms[i];
    return NULL;
}

struct hub_room *hub_add_room(struct hub *h, const char *id, struct room *state)
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

static void hub_cmd_free(struct hub_cmd *c)
{
    if (!c)
        return;
    free(c->cmd.text);
    json_decref((json_t *)c->cmd.settings);
    json_decref((json_t *)c->cmd.schedule);
    json_decref((json_t *)c->cmd.agenda);
    free(c);
}

void hub_remove_room(struct hub *h, struct hub_room *hr)
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
        hub_cmd_free(c);
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
void hub_maybe_drop(struct hub *h, struct hub_room *hr)
{
    if (!h->shared || !hr->state || hr->n_conns || hr->q_head || hr->inflight || hr->waiters ||
        hr->syncing || hr->pumping)
        return;
    backend_watch(h->backend, hr->id, false, hr->state->seq);
    hub_remove_room(h, hr);
}

/* Queues one JSON text on every joined connection of the room except
 * `except`, encoded once. */
static void hub_broadcast_text(struct hub_room *hr, const char *txt, size_t len, struct session *except)
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

void hub_broadcast_json(struct hub_room *hr, json_t *msg, struct session *except)
{
    char *txt = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (txt)
        hub_broadcast_text(hr, txt, strlen(txt), except);
    free(txt);
    json_decref(msg);
}

/* Replies to a command go through session_reply(), which keeps them in
 * the order of the commands. */
static void hub_send_ack(struct session *s, const char *id, uint64_t seq)
{
    size_t len;
    char *txt = proto_encode_ack(id, seq, &len);
    if (txt)
        session_reply(s, txt, len);
    free(txt);
}

static void hub_send_refusal(struct session *s, const char *id, enum proto_err e, const char *msg)
{
    size_t len;
    char *txt = proto_encode_error(id, e, msg, &len);
    metrics.errors[e]++;
    if (txt)
        session_reply(s, txt, len);
    free(txt);
}

void hub_conn_id(const struct hub *h, const struct session *s, char *out, size_t sz)
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
        hub_recount(hr);
        int idx = hub_member_index(hr, sub);
        if (idx >= 0)
            hub_presence_send(hr, "update", &hr->state->members[idx], NULL);
    } else if (ev->name == PROTO_EV_PARTICIPANT_MUTED || ev->name == PROTO_EV_PARTICIPANT_UNMUTED) {
        int idx = hub_member_index(hr, sub);
        if (idx >= 0 && hub_member_conns_fit(hr) == 0)
            hub_presence_send(hr, "update", &hr->state->members[idx], NULL);
    }
}

/* The delta log no longer follows the room: its delta connections must
 * rejoin (their welcome starts it again). */
static void hub_deltas_stop(struct hub_room *hr)
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

char *hub_public_text(const char *text, size_t len, size_t *outlen)
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
    struct hub_room *hr = hub_find_room(h, room_id);
    if (!hr || !hr->state)
        return;
    /* Seqs are the backend's business (backend.h): it delivers each event
     * once, in order, with no gap after this replica's seq (the Redis
     * backend skips repeats and fills gaps from the stream before it calls
     * here). room_apply() still refuses an event that is not the next one,
     * as its own invariant: then the room stops here, said in the log. */
    for (size_t i = 0; i < n; i++) {
        int k = own_index(hr->own, &ev[i]);
        struct room_event parsed;
        const struct room_event *re = &parsed;
        json_t *j = NULL;
        enum room_apply_result rt;
        if (k >= 0) {
            re = &hr->own->ev[k];
            rt = room_apply(hr->state, re) == 0 ? ROOM_TEXT_APPLIED : ROOM_TEXT_REFUSED;
            j = rt == ROOM_TEXT_APPLIED ? json_incref(hr->own->json[k]) : NULL;
        } else {
            /* parsed once, by the backend when it had to (its tree), or here */
            if (ev[i].tree) {
                rt = room_apply_json(hr->state, ev[i].tree, NULL, NULL, &parsed);
                j = rt == ROOM_TEXT_APPLIED ? json_incref((json_t *)ev[i].tree) : NULL;
            } else {
                rt = room_apply_text(hr->state, ev[i].json, ev[i].len, NULL, NULL, &parsed, &j);
            }
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
            hub_deltas_stop(hr);
        }
        json_decref(j);
        /* The record's fingerprint as of this event (what the chair's
         * conclusions quote); unknown when the backend did not give it. */
        snprintf(hr->state->chain_head, sizeof hr->state->chain_head, "%s",
                 ev[i].hash ? ev[i].hash : "");
        if (re->name == PROTO_EV_TOKEN_REVOKED) {
            /* Both forms without the jti (public_text). */
            size_t pl = 0, pdl = 0;
            char *pub = hub_public_text(ev[i].json, ev[i].len, &pl);
            char *pdelta = delta ? hub_public_text(delta, dlen, &pdl) : NULL;
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
    struct hub_room *hr = hub_find_room(h, room_id);
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
    if (!c->audit)
        return;
    struct audit_entry e = {
        .remote = c->audit_remote[0] ? c->audit_remote : NULL,
        .who = c->audit_who,
        .command = proto_cmd_name(c->cmd.type),
        .room = c->audit_room,
        .outcome = outcome,
    };
    audit_record(&e);
}

void hub_audit_refusal(struct session *s, enum proto_cmd_type t, enum proto_err e)
{
    audit_session(s, t, proto_err_code(e));
}

static void reply_error(struct hub_cmd *c, enum proto_err e, const char *msg)
{
    if ((c->kind == CMD_ADMIN_CLOSE || c->kind == CMD_ADMIN_REVOKE) && c->done)
        c->done(c->arg, e == PROTO_ERR_UNAVAILABLE       ? 503
                        : c->kind == CMD_ADMIN_CLOSE       ? 200
                        : e == PROTO_ERR_QUOTA_EXCEEDED    ? 409
                                                           : 500);
    audit_command(c, proto_err_code(e));
    if (c->kind != CMD_CLIENT || !c->s)
        return;
    metrics.commands[c->cmd.type][e]++;
    hub_send_refusal(c->s, c->cmd.id, e, msg && msg[0] ? msg : NULL);
}

static void reply_ok(struct hub_cmd *c, uint64_t seq)
{
    if ((c->kind == CMD_ADMIN_CLOSE || c->kind == CMD_ADMIN_REVOKE) && c->done)
        c->done(c->arg, 200);
    audit_command(c, "ok");
    if (c->kind != CMD_CLIENT || !c->s)
        return;
    metrics.commands[c->cmd.type][PROTO_OK]++;
    hub_send_ack(c->s, c->cmd.id, seq);
}

/* Commands committed in one call (commit_batch). */
#define BATCH_MAX 32

/* The commands in flight (a commit of one command or of a batch, or a
 * sync before deciding one again). */
struct inflight {
    struct hub *h;
    struct hub_room *hr;
    size_t n;
    struct hub_cmd *c[BATCH_MAX];
    uint64_t last_seq[BATCH_MAX]; /* each one's last event */
    uint64_t seen;                /* the seq they were decided at */
};

/* The commands in flight came back. Those with again[i] go back to the
 * head of the queue, in their order, to be decided again on the replica
 * that has caught up; the others are answered in their order: ok at
 * last_seq (e PROTO_OK; their events are delivered already) or the error
 * e. Then the queue goes on. Frees x. */
static void inflight_done_each(struct inflight *x, const bool *again, enum proto_err e,
                               const char *msg)
{
    struct hub *h = x->h;
    struct hub_room *hr = x->hr;
    hr->inflight = NULL;
    own_free(hr->own);
    hr->own = NULL;
    for (size_t i = 0; i < x->n; i++)
        x->c[i]->next = NULL;
    for (size_t i = x->n; i-- > 0;) {
        struct hub_cmd *c = x->c[i];
        if (!again[i])
            continue;
        x->c[i] = NULL;
        c->next = hr->q_head;
        hr->q_head = c;
        if (!hr->q_tail)
            hr->q_tail = c;
    }
    for (size_t i = 0; i < x->n; i++) {
        struct hub_cmd *c = x->c[i];
        if (!c)
            continue;
        if (e == PROTO_OK)
            reply_ok(c, x->last_seq[i]);
        else
            reply_error(c, e, msg);
        hub_cmd_free(c);
    }
    free(x);
    hub_pump(h, hr);
}

static void inflight_done(struct inflight *x, bool again, enum proto_err e, const char *msg)
{
    bool each[BATCH_MAX];
    for (size_t i = 0; i < BATCH_MAX; i++)
        each[i] = again;
    inflight_done_each(x, each, e, msg);
}

/* The commit came back: on OK its events were stored from first on
 * (after other nodes' events that came meanwhile and changed nothing the
 * commands read: their acks name their seqs as stored) and delivered. */
static void commit_done(void *arg, enum backend_result r, uint64_t first)
{
    struct inflight *x = arg;
    if (r == BACKEND_OK && first > x->seen + 1)
        for (size_t i = 0; i < x->n; i++)
            x->last_seq[i] += first - (x->seen + 1);
    /* CONFLICT: another node committed first something the commands read,
     * and the backend has delivered its events; decide again, up to
     * COMMIT_TRIES times each. */
    bool again[BATCH_MAX] = {false};
    for (size_t i = 0; i < x->n; i++)
        again[i] = r == BACKEND_CONFLICT && ++x->c[i]->tries < COMMIT_TRIES;
    if (r == BACKEND_CONFLICT)
        metrics.commit_conflicts++;
    inflight_done_each(x, again, r == BACKEND_OK ? PROTO_OK : PROTO_ERR_UNAVAILABLE,
                       r == BACKEND_CONFLICT ? "the room is too busy right now; retry" : NULL);
}

/* Stamps, encodes and commits the decided events of k commands (cs[i]
 * decided evs[i]; only evs[0] may store or drop a statement): one call to
 * the backend, which is told what the decisions read (reads, the chat
 * lines' ROOM_CHAT_* when they are all chat lines, else 0: any other
 * command reads the room's state, and the seq itself when one has if_seq
 * or quotes the record's fingerprint); the commands become
 * the room's commands in flight, their events its own commit. An event's
 * "state" carries the snapshot parts it changes as they are after it:
 * only then is the replica cloned and the events applied to the clone; a
 * chat message (no part) is encoded from the replica as it is, since a
 * plenary's directory makes a clone cost. */
static void commit(struct hub *h, struct hub_room *hr, struct room_events *evs, struct hub_cmd **cs,
                   size_t k, unsigned reads)
{
    struct backend_event bev[BACKEND_MAX_EVENTS];
    json_t *state = NULL, *stmt = NULL;
    struct inflight *x = calloc(1, sizeof *x);
    struct own_commit *own = calloc(1, sizeof *own);
    struct room *next = NULL;
    size_t n;
    bool parts = false;
    /* The decided events are the commit's from here on (applied as they
     * are when delivered). */
    for (size_t i = 0; own && i < k; i++) {
        for (size_t j = 0; j < evs[i].n; j++) {
            if (own->n == BACKEND_MAX_EVENTS)
                room_event_clear(&evs[i].ev[j]);
            else
                own->ev[own->n++] = evs[i].ev[j];
        }
        if (own->n < BACKEND_MAX_EVENTS && x)
            x->last_seq[i] = hr->state->seq + own->n;
        evs[i].n = 0;
    }
    for (n = 0; own && n < own->n; n++)
        parts |= proto_event_parts(own->ev[n].name) != 0;
    if (!reads)
        reads = BACKEND_READS_STATE;
    for (size_t i = 0; i < k; i++)
        if (cs[i]->kind == CMD_CLIENT && cs[i]->cmd.has_if_seq)
            reads |= BACKEND_READS_SEQ;
    if (!x || !own || k > BATCH_MAX || own->n == BACKEND_MAX_EVENTS ||
        (parts && !(next = room_clone(hr->state))))
        goto fail;
    for (n = 0; n < own->n; n++) {
        struct room_event *e = &own->ev[n];
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
        bev[n].tree = own->json[n];
        bev[n].changes = room_event_chat_changes(e->name) |
                         (e->name == PROTO_EV_MESSAGE ? 0 : BACKEND_READS_STATE);
        if (e->name == PROTO_EV_CONCLUSIONS_PUBLISHED)
            reads |= BACKEND_READS_SEQ; /* it quotes the chain's head */
    }
    /* A shared store keeps a snapshot of the sequenced state beside the
     * log, when it changed. */
    if (h->shared && next && !(state = room_state_json(next, false)))
        goto fail;
    x->h = h;
    x->hr = hr;
    x->n = k;
    x->seen = hr->state->seq;
    for (size_t i = 0; i < k; i++)
        x->c[i] = cs[i];
    /* A deposited statement is stored beside the events, never in them
     * (contract 9.4); published and discarded ones may be forgotten. Only
     * the first command of a batch has any (commit_batch). */
    const char *drop[ROOM_MAX_EVENTS];
    struct backend_stmts st = {NULL, NULL, drop, evs[0].stmt_ndrop};
    for (size_t i = 0; i < evs[0].stmt_ndrop && i < ROOM_MAX_EVENTS; i++)
        drop[i] = evs[0].stmt_drop[i];
    if (evs[0].stmt_text) {
        if (!(stmt = room_statement_json(evs[0].stmt_text, evs[0].stmt_lang, evs[0].stmt_sub)))
            goto fail;
        st.request_id = evs[0].stmt_request;
        st.statement = stmt;
    }
    /* The commands in flight, linked from hr->inflight: a session that
     * goes away meanwhile is forgotten in each (forget_session). */
    for (size_t i = 0; i + 1 < k; i++)
        cs[i]->next = cs[i + 1];
    hr->inflight = cs[0];
    hr->own = own;
    own = NULL; /* commit_done frees it */
    metrics.events_committed += n;
    backend_commit(h->backend, hr->id, hr->state->seq, reads, bev, n, state, &st, commit_done, x);
    x = NULL; /* commit_done frees it */
    goto done;
fail:
    free(x);
    for (size_t i = 0; i < k; i++) {
        reply_error(cs[i], PROTO_ERR_INTERNAL, NULL);
        hub_cmd_free(cs[i]);
    }
done:
    own_free(own);
    json_decref(state);
    json_decref(stmt);
    room_destroy(next);
}

/* Whether c is a chat line: a say or announce without if_seq. Its
 * decision reads the chat rule, mutes, roles, the floor holder and the
 * status (room_chat_reads), which no chat line changes: the lines queued
 * behind it are decided on the same replica as if each one had been
 * committed before the next, and other nodes' lines may come between. */
static bool chat_line(const struct hub_cmd *c)
{
    return c->kind == CMD_CLIENT && c->s && !c->cmd.has_if_seq &&
           (c->cmd.type == PROTO_CMD_SAY || c->cmd.type == PROTO_CMD_ANNOUNCE);
}

/* ... and whether its decision is a chat line's: messages only (which
 * change nothing any command reads but the seq), no statement stored. */
static bool chat_events(const struct room_events *evs)
{
    if (!evs->n || evs->stmt_text || evs->stmt_ndrop)
        return false;
    for (size_t i = 0; i < evs->n; i++)
        if (evs->ev[i].name != PROTO_EV_MESSAGE)
            return false;
    return true;
}

/* Decides c on r: the replica, or the room as the commands batched before
 * c leave it. */
static enum proto_err decide(struct hub_room *hr, const struct room *r, struct hub_cmd *c,
                             struct room_events *evs, char *err, size_t errsz)
{
    int64_t now = clock_now_ms();
    switch (c->kind) {
    case CMD_CLIENT: {
        /* A command queued before its token was revoked (the revocation
         * closes the connection, but what it sent meanwhile waits here):
         * refused like the token itself (contract 11), never committed
         * after the revocation. */
        if (c->s->jti[0] && room_is_revoked(r, c->s->jti, now)) {
            snprintf(err, errsz, "this token was revoked");
            return PROTO_ERR_UNAUTHORIZED;
        }
        enum proto_err e = room_decide(r, &c->s->actor, &c->cmd, now, evs, err, errsz);
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
        room_decide_clock(r, now, evs);
        return PROTO_OK;
    case CMD_DISCONNECT: {
        /* Back already (another tab, a quick reconnect): nothing to pause. */
        int idx = hub_member_index(hr, c->sub);
        if (idx < 0 || hub_member_conns_fit(hr) != 0 || hr->member_conns[idx] == 0)
            room_decide_disconnect(r, c->sub, now, evs);
        return PROTO_OK;
    }
    case CMD_ADMIN_CLOSE: {
        struct room_actor admin;
        memset(&admin, 0, sizeof admin);
        snprintf(admin.sub, sizeof admin.sub, "admin");
        snprintf(admin.name, sizeof admin.name, "Administrator");
        admin.role = PROTO_ROLE_MODERATOR;
        admin.category = PROTO_CAT_NONE;
        if (r->status == PROTO_STATUS_CLOSED)
            return PROTO_OK;
        memset(&c->cmd, 0, sizeof c->cmd);
        c->cmd.type = PROTO_CMD_SET_STATUS;
        c->cmd.status = PROTO_STATUS_CLOSED;
        return room_decide(r, &admin, &c->cmd, now, evs, err, errsz);
    }
    case CMD_ADMIN_REVOKE:
        if (room_decide_revoke(r, c->jti, c->until_s, now, evs) != 0)
            return PROTO_ERR_QUOTA_EXCEEDED;
        return evs->n == 1 ? PROTO_OK : PROTO_ERR_INTERNAL;
    }
    return PROTO_ERR_INTERNAL;
}

/* The room is now as current here as in the store: decide c again. */
static void synced(void *arg, enum backend_result r)
{
    inflight_done(arg, r == BACKEND_OK, PROTO_ERR_UNAVAILABLE, NULL);
}

/* Before a refusal (or an ack without event) with a shared store: this
 * node's copy may not have the latest events yet (another node's commit
 * is acknowledged before its publish reaches us). Catch up with the
 * store's seq, then decide again; returns true when c waits for that. */
static bool sync_first(struct hub *h, struct hub_room *hr, struct hub_cmd *c)
{
    if (!h->shared || c->synced || c->kind != CMD_CLIENT)
        return false;
    struct inflight *w = calloc(1, sizeof *w);
    if (!w)
        return false;
    c->synced = true;
    w->h = h;
    w->hr = hr;
    w->n = 1;
    w->c[0] = c;
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
    audit_command(c, "ok");
    metrics.commands[c->cmd.type][PROTO_OK]++;
    session_reply(c->s, txt, len);
    free(txt);
    return true;
}

/* Whether c may be committed behind other commands: any command but one
 * answered without a commit (get_statement) or whose session is gone
 * (hub_pump drops those). */
static bool batchable(const struct hub_cmd *c)
{
    return !(c->kind == CMD_CLIENT && (!c->s || c->cmd.type == PROTO_CMD_GET_STATEMENT));
}

/* Applies evs to r, each event stamped with the seq after r's (commit()
 * stamps them again). */
static int apply_all(struct room *r, struct room_events *evs)
{
    for (size_t i = 0; i < evs->n; i++) {
        evs->ev[i].seq = r->seq + 1;
        if (room_apply(r, &evs->ev[i]) != 0)
            return -1;
    }
    return 0;
}

/* The replica as the k decided commands of batch leave it: a new room, or
 * NULL (out of memory, or an event that does not apply). */
static struct room *advance(const struct room *state, struct room_events *batch, size_t k)
{
    struct room *r = room_clone(state);
    for (size_t i = 0; r && i < k; i++) {
        if (apply_all(r, &batch[i]) != 0) {
            room_destroy(r);
            r = NULL;
        }
    }
    return r;
}

/* c, decided as evs, and the commands queued behind it, each decided in
 * turn on the room as those before it leave it, committed together in one
 * call (issue 10: a busy room's commands wait for one round trip, not one
 * each), with each command's outcome as if committed alone. The batch
 * ends before a command that is refused or changes nothing (it stays at
 * the head of the queue, to be decided after the commit on the replica as
 * it then is, and a refusal checked against the store first, as always),
 * one that stores or drops a written statement (only the first may: the
 * store writes those before the events), or one whose events would not
 * fit. Chat lines without if_seq read nothing other chat lines change, so
 * while the batch is only those they are all decided on the replica
 * itself; once it is not, on a clone that the batch advances (a plenary's
 * directory makes a clone cost, so only then). A batch of chat lines only
 * reads what room_chat_reads() says: it collides with nothing else. */
static void commit_batch(struct hub *h, struct hub_room *hr, struct hub_cmd *c, struct room_events *evs)
{
    struct room_events batch[BATCH_MAX];
    struct hub_cmd *cs[BATCH_MAX];
    struct room *work = NULL;
    size_t k = 0, n = evs->n;
    bool chat = chat_line(c) && chat_events(evs);
    unsigned reads = chat ? room_chat_reads(hr->state, &c->s->actor) : 0;
    batch[k] = *evs;
    cs[k++] = c;
    evs->n = 0; /* the batch owns its events now */
    while (k < BATCH_MAX && hr->q_head && batchable(hr->q_head)) {
        struct hub_cmd *next = hr->q_head;
        struct room_events e = {.n = 0};
        char err[200] = "";
        bool line = chat && chat_line(next);
        if (!line && !work && !(work = advance(hr->state, batch, k)))
            break;
        if (decide(hr, work ? work : hr->state, next, &e, err, sizeof err) != PROTO_OK || !e.n ||
            e.stmt_text || e.stmt_ndrop || n + e.n >= BACKEND_MAX_EVENTS ||
            (line && !chat_events(&e))) {
            room_events_clear(&e);
            break;
        }
        if (work && apply_all(work, &e) != 0) {
            room_events_clear(&e);
            break;
        }
        if (line)
            reads |= room_chat_reads(hr->state, &next->s->actor);
        else
            chat = false;
        hr->q_head = next->next;
        if (!hr->q_head)
            hr->q_tail = NULL;
        next->next = NULL;
        n += e.n;
        batch[k] = e;
        cs[k++] = next;
    }
    room_destroy(work);
    commit(h, hr, batch, cs, k, chat ? reads : 0);
    for (size_t i = 0; i < k; i++)
        room_events_clear(&batch[i]);
}

void hub_pump(struct hub *h, struct hub_room *hr)
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
            hub_cmd_free(c);
            continue;
        }
        if (!backend_available(h->backend)) {
            reply_error(c, PROTO_ERR_UNAVAILABLE, NULL);
            hub_cmd_free(c);
            continue;
        }
        if (c->kind == CMD_CLIENT && c->cmd.type == PROTO_CMD_GET_STATEMENT) {
            if (!read_statement(h, hr, c))
                continue;
            hub_cmd_free(c);
            continue;
        }
        struct room_events evs = {.n = 0};
        char err[200] = "";
        enum proto_err e = decide(hr, hr->state, c, &evs, err, sizeof err);
        if ((e != PROTO_OK || evs.n == 0) && sync_first(h, hr, c)) {
            room_events_clear(&evs);
            continue;
        } else if (e != PROTO_OK) {
            reply_error(c, e, err);
            hub_cmd_free(c);
        } else if (evs.n == 0) {
            reply_ok(c, hr->state->seq);
            hub_cmd_free(c);
        } else {
            commit_batch(h, hr, c, &evs);
        }
        room_events_clear(&evs);
    }
    hr->pumping = false;
    hub_maybe_drop(h, hr);
}

void hub_enqueue(struct hub *h, struct hub_room *hr, struct hub_cmd *c)
{
    if (hr->q_tail)
        hr->q_tail->next = c;
    else
        hr->q_head = c;
    hr->q_tail = c;
    hub_pump(h, hr);
}

struct hub_cmd *hub_cmd_new(enum cmd_kind kind)
{
    struct hub_cmd *c = calloc(1, sizeof *c);
    if (c)
        c->kind = kind;
    return c;
}

void hub_command(struct hub *h, struct session *s, const struct proto_cmd *cmd)
{
    struct hub_room *hr = s->room;
    struct hub_cmd *c = hub_cmd_new(CMD_CLIENT);
    if (!c || !hr || !hr->state) {
        free(c);
        metrics.commands[cmd->type][PROTO_ERR_INTERNAL]++;
        hub_send_refusal(s, cmd->id, PROTO_ERR_INTERNAL, NULL);
        return;
    }
    c->s = s;
    if (audit_enabled() && s->actor.role == PROTO_ROLE_MODERATOR && s->state == SESSION_JOINED &&
        cmd->type != PROTO_CMD_JOIN && cmd->type != PROTO_CMD_PING) {
        c->audit = true;
        snprintf(c->audit_who, sizeof c->audit_who, "%s", s->actor.sub);
        snprintf(c->audit_remote, sizeof c->audit_remote, "%s", s->remote);
        snprintf(c->audit_room, sizeof c->audit_room, "%s", hr->id);
    }
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
    hub_enqueue(h, hr, c);
}

enum proto_err hub_may_send(struct hub *h, const struct session *s, enum proto_cmd_type type,
                            char *msg, size_t msgsz)
{
    (void)h;
    if (!s->room || !s->room->state)
        return PROTO_OK;
    return room_may_send(s->room->state, &s->actor, type, msg, msgsz);
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
        hub_attendance_sync(h, hr, now);
        if (hr->state->observers_peak > hr->peak_saved && now - hr->peak_saved_ms >= 1000) {
            hr->peak_saved = hr->state->observers_peak;
            hr->peak_saved_ms = now;
            backend_save_peak(h->backend, hr->id, hr->state->observers_peak,
                              hr->state->observers_peak_at);
        }
        int64_t due = room_deadline(hr->state);
        if (up && due >= 0 && now >= due && !hr->clock_queued && !hr->inflight) {
            struct hub_cmd *c = hub_cmd_new(CMD_CLOCK);
            if (c) {
                hr->clock_queued = true;
                hub_enqueue(h, hr, c);
            }
        }
        if (hr->observers != hr->observers_sent && now - hr->observers_sent_ms >= OBSERVER_PRESENCE_MS) {
            hr->observers_sent = hr->observers;
            hr->observers_sent_ms = now;
            hub_broadcast_json(hr, json_pack("{s:s, s:I}", "type", "presence", "observers",
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

/* ---- life cycle ---- */

static void loaded(void *arg, struct room *initial, struct room *current)
{
    struct hub *h = arg;
    room_destroy(initial);
    if (!hub_add_room(h, current->id, current))
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
        hub_remove_room(h, h->rooms[h->n_rooms - 1]);
    free(h->rooms);
    free(h);
}
