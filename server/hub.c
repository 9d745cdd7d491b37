/*
 * hub.c: this node's rooms, delivery, presence and clocks (hub.h).
 *
 * Ordering: the backend delivers committed events (hub_on_events) before it
 * answers the commit (commit_done), and delivery queues each event on every
 * connection of the room, the actor's included; the ack is queued in
 * commit_done, so on the acting connection the ack always follows its
 * event (read-your-writes).
 */
#include "hub.h"

#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "room.h"
#include "session.h"
#include "transcript.h"

#define OBSERVER_PRESENCE_MS 1000

struct hub_room {
    struct room *state;       /* the replica; only hub_on_events changes it */
    struct session *conns;    /* joined connections */
    size_t n_conns;
    int *member_conns;        /* connections per member, by index in state->members */
    size_t member_conns_cap;
    size_t observers;
    size_t observers_sent;
    int64_t observers_sent_ms;
};

struct hub {
    const struct config *cfg;
    struct backend *backend;
    struct hub_room **rooms;
    size_t n_rooms, cap_rooms;
    struct session *unjoined;
    bool draining;            /* shutting down: a closing connection is not a disconnect */
};

/* One commit in flight. */
struct commit_ctx {
    struct hub *h;
    struct session *s;        /* NULL for the clock and disconnects */
    char id[PROTO_ID_BUF];
    enum proto_cmd_type type;
    uint64_t last_seq;
    enum backend_result result;
};

static struct hub_room *find_room(struct hub *h, const char *id)
{
    for (size_t i = 0; i < h->n_rooms; i++)
        if (strcmp(h->rooms[i]->state->id, id) == 0)
            return h->rooms[i];
    return NULL;
}

static int add_room(struct hub *h, struct room *state)
{
    struct hub_room *hr = calloc(1, sizeof *hr);
    if (!hr)
        return -1;
    if (h->n_rooms == h->cap_rooms) {
        size_t cap = h->cap_rooms ? h->cap_rooms * 2 : 16;
        struct hub_room **p = realloc(h->rooms, cap * sizeof *p);
        if (!p) {
            free(hr);
            return -1;
        }
        h->rooms = p;
        h->cap_rooms = cap;
    }
    hr->state = state;
    h->rooms[h->n_rooms++] = hr;
    metrics.rooms = h->n_rooms;
    return 0;
}

static void free_room(struct hub_room *hr)
{
    room_destroy(hr->state);
    free(hr->member_conns);
    free(hr);
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

/* The wire participant with presence filled in. */
static json_t *participant_json(const struct hub_room *hr, const struct room_member *m)
{
    json_t *j = room_member_json(hr->state, m);
    size_t i = (size_t)(m - hr->state->members);
    int n = i < hr->member_conns_cap ? hr->member_conns[i] : 0;
    json_object_set_new(j, "online", json_boolean(n > 0));
    json_object_set_new(j, "connections", json_integer(n));
    return j;
}

static json_t *participants_json(const struct hub_room *hr)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < hr->state->members_len; i++) {
        const struct room_member *m = &hr->state->members[i];
        if (m->seen && member_role(m) != PROTO_ROLE_OBSERVER)
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

static void broadcast_json(struct hub_room *hr, json_t *msg, struct session *except)
{
    char *txt = json_dumps(msg, JSON_COMPACT);
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

static void send_ack(struct session *s, const char *id, uint64_t seq)
{
    size_t len;
    char *txt = proto_encode_ack(id, seq, &len);
    if (txt)
        session_send_text(s, txt, len);
    free(txt);
}

/* ---- delivery ---- */

/* After an event is applied: the effects on connections. */
static void after_event(struct hub *h, struct hub_room *hr, const struct room_event *ev)
{
    (void)h;
    const char *sub = json_string_value(json_object_get(ev->data, "sub"));
    if (ev->name == PROTO_EV_PARTICIPANT_REMOVED && sub) {
        for (struct session *s = hr->conns; s; s = s->next)
            if (strcmp(s->actor.sub, sub) == 0)
                session_close(s, PROTO_CLOSE_REMOVED, "removed from the room", true);
    } else if (ev->name == PROTO_EV_ROLE_CHANGED && sub) {
        /* The person's connections move between the participants and the
         * observer count. */
        member_conns_fit(hr);
        int idx = member_index(hr, sub);
        for (struct session *s = hr->conns; s; s = s->next) {
            if (strcmp(s->actor.sub, sub) != 0)
                continue;
            bool obs = room_effective_role(hr->state, &s->actor) == PROTO_ROLE_OBSERVER;
            if (obs == s->is_observer)
                continue;
            s->is_observer = obs;
            if (obs) {
                hr->observers++;
                if (idx >= 0)
                    hr->member_conns[idx]--;
            } else {
                hr->observers--;
                if (idx >= 0)
                    hr->member_conns[idx]++;
            }
        }
        if (idx >= 0)
            presence(hr, "update", &hr->state->members[idx], NULL);
    } else if ((ev->name == PROTO_EV_PARTICIPANT_MUTED || ev->name == PROTO_EV_PARTICIPANT_UNMUTED) && sub) {
        int idx = member_index(hr, sub);
        if (idx >= 0 && member_conns_fit(hr) == 0)
            presence(hr, "update", &hr->state->members[idx], NULL);
    }
}

static void hub_on_events(void *arg, const char *room_id, const struct backend_event *ev, size_t n)
{
    struct hub *h = arg;
    struct hub_room *hr = find_room(h, room_id);
    if (!hr)
        return;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].seq <= hr->state->seq)
            continue; /* already applied */
        json_error_t jerr;
        json_t *j = json_loadb(ev[i].json, ev[i].len, 0, &jerr);
        struct room_event re;
        if (!j || room_event_from_json(j, &re) != 0) {
            log_error("room %s: committed event %llu does not parse", room_id,
                      (unsigned long long)ev[i].seq);
            json_decref(j);
            continue;
        }
        json_decref(j);
        if (room_apply(hr->state, &re) != 0) {
            log_error("room %s: committed event %llu does not apply at seq %llu", room_id,
                      (unsigned long long)ev[i].seq, (unsigned long long)hr->state->seq);
            room_event_clear(&re);
            continue;
        }
        broadcast_text(hr, ev[i].json, ev[i].len, NULL);
        after_event(h, hr, &re);
        room_event_clear(&re);
    }
}

static void commit_done(void *arg, enum backend_result r)
{
    struct commit_ctx *c = arg;
    c->result = r;
    if (!c->s)
        return;
    if (r == BACKEND_OK) {
        metrics.commands[c->type][PROTO_OK]++;
        send_ack(c->s, c->id, c->last_seq);
    } else if (r == BACKEND_CONFLICT) {
        metrics.commands[c->type][PROTO_ERR_STALE]++;
        session_send_error(c->s, c->id, PROTO_ERR_STALE, "the room changed at the same time; retry");
    } else {
        metrics.commands[c->type][PROTO_ERR_UNAVAILABLE]++;
        session_send_error(c->s, c->id, PROTO_ERR_UNAVAILABLE, NULL);
    }
}

/* Stamps, encodes and commits decided events. s (may be NULL) gets the ack
 * or the error. Returns the backend's result. */
static enum backend_result commit(struct hub *h, struct hub_room *hr, struct room_events *evs,
                                  struct session *s, const char *id, enum proto_cmd_type type)
{
    struct commit_ctx ctx = {.h = h, .s = s, .type = type, .result = BACKEND_UNAVAILABLE};
    snprintf(ctx.id, sizeof ctx.id, "%s", id ? id : "");
    struct backend_event bev[ROOM_MAX_EVENTS];
    char *texts[ROOM_MAX_EVENTS] = {0};
    json_t *state = NULL;
    size_t n = 0;
    struct room *next = room_clone(hr->state);
    if (!next)
        goto fail;
    for (n = 0; n < evs->n; n++) {
        evs->ev[n].seq = next->seq + 1;
        if (room_apply(next, &evs->ev[n]) != 0) {
            log_error("room %s: decided event %s does not apply", hr->state->id,
                      proto_event_name(evs->ev[n].name));
            goto fail;
        }
        json_t *ej = room_event_json(next, &evs->ev[n]);
        texts[n] = ej ? json_dumps(ej, JSON_COMPACT) : NULL;
        json_decref(ej);
        if (!texts[n])
            goto fail;
        bev[n].seq = evs->ev[n].seq;
        bev[n].json = texts[n];
        bev[n].len = strlen(texts[n]);
    }
    ctx.last_seq = next->seq;
    state = room_state_json(next, true);
    metrics.events_committed += n;
    h->backend->ops->commit(h->backend, hr->state->id, hr->state->seq, bev, n, state, commit_done, &ctx);
    if (ctx.result == BACKEND_CONFLICT)
        metrics.commit_conflicts++;
    goto done;
fail:
    if (s) {
        metrics.commands[type][PROTO_ERR_INTERNAL]++;
        session_send_error(s, id, PROTO_ERR_INTERNAL, NULL);
    }
    ctx.result = BACKEND_UNAVAILABLE;
done:
    for (size_t i = 0; i < ROOM_MAX_EVENTS; i++)
        free(texts[i]);
    json_decref(state);
    room_destroy(next);
    return ctx.result;
}

void hub_command(struct hub *h, struct session *s, const struct proto_cmd *cmd)
{
    struct hub_room *hr = s->room;
    struct room_events evs = {.n = 0};
    char err[200] = "";
    int64_t now = net_now_ms();
    if (!h->backend->ops->available(h->backend)) {
        metrics.commands[cmd->type][PROTO_ERR_UNAVAILABLE]++;
        session_send_error(s, cmd->id, PROTO_ERR_UNAVAILABLE, NULL);
        return;
    }
    enum proto_err e = room_decide(hr->state, &s->actor, cmd, now, &evs, err, sizeof err);
    if (e != PROTO_OK) {
        metrics.commands[cmd->type][e]++;
        session_send_error(s, cmd->id, e, err[0] ? err : NULL);
        return;
    }
    if (evs.n == 0) {
        metrics.commands[cmd->type][PROTO_OK]++;
        send_ack(s, cmd->id, hr->state->seq);
        return;
    }
    commit(h, hr, &evs, s, cmd->id, cmd->type);
    room_events_clear(&evs);
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
    s->u_next = h->unjoined;
    if (h->unjoined)
        h->unjoined->u_prev = s;
    h->unjoined = s;
}

void hub_session_closed(struct hub *h, struct session *s)
{
    struct hub_room *hr = s->room;
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
    if (s->is_observer) {
        hr->observers--;
        return;
    }
    int idx = member_index(hr, s->actor.sub);
    if (idx < 0 || member_conns_fit(hr) != 0)
        return;
    if (--hr->member_conns[idx] > 0) {
        presence(hr, "update", &hr->state->members[idx], NULL);
        return;
    }
    presence(hr, "leave", &hr->state->members[idx], NULL);
    if (h->draining)
        return;
    struct room_events evs = {.n = 0};
    room_decide_disconnect(hr->state, s->actor.sub, net_now_ms(), &evs);
    if (evs.n > 0 && h->backend->ops->available(h->backend))
        commit(h, hr, &evs, NULL, NULL, PROTO_CMD_PING);
    room_events_clear(&evs);
}

/* The welcome: the snapshot, the participants, and the events the client
 * missed (or the most recent ones). Events are spliced in as the stored
 * text, not re-encoded. */
struct welcome_ctx {
    struct session *s;
    json_t *head;
    bool resumed;
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
            memcpy(txt + o, ev[i].json, ev[i].len);
            o += ev[i].len;
        }
        txt[o++] = ']';
        txt[o++] = '}';
        session_send_text(w->s, txt, o);
    }
    free(txt);
    free(head);
}

void hub_join(struct hub *h, struct session *s, const struct proto_cmd *cmd)
{
    struct proto_claims claims;
    const char *why = "invalid token";
    int64_t now = net_now_ms();
    if (proto_jwt_verify(h->cfg->secret, h->cfg->secret_len, cmd->token, now / 1000, &claims, &why) != PROTO_OK) {
        metrics.commands[PROTO_CMD_JOIN][PROTO_ERR_UNAUTHORIZED]++;
        session_send_error(s, NULL, PROTO_ERR_UNAUTHORIZED, why);
        session_close(s, PROTO_CLOSE_UNAUTHORIZED, "unauthorized", true);
        return;
    }
    struct hub_room *hr = find_room(h, claims.room);
    if (!hr) {
        metrics.commands[PROTO_CMD_JOIN][PROTO_ERR_NOT_FOUND]++;
        session_send_error(s, NULL, PROTO_ERR_NOT_FOUND, "no such room");
        session_close(s, PROTO_CLOSE_NO_ROOM, "no such room", true);
        return;
    }
    if (room_is_removed(hr->state, claims.sub)) {
        metrics.commands[PROTO_CMD_JOIN][PROTO_ERR_FORBIDDEN]++;
        session_send_error(s, NULL, PROTO_ERR_FORBIDDEN, "you were removed from this room");
        session_close(s, PROTO_CLOSE_REMOVED, "removed from the room", true);
        return;
    }
    if (!h->backend->ops->available(h->backend)) {
        metrics.commands[PROTO_CMD_JOIN][PROTO_ERR_UNAVAILABLE]++;
        session_close(s, PROTO_CLOSE_TRY_AGAIN, "backend unavailable, try again", true);
        return;
    }
    struct room_actor *a = &s->actor;
    memset(a, 0, sizeof *a);
    snprintf(a->sub, sizeof a->sub, "%s", claims.sub);
    snprintf(a->name, sizeof a->name, "%s", claims.name);
    snprintf(a->delegation, sizeof a->delegation, "%s", claims.delegation);
    a->category = claims.category;
    a->role = claims.role;

    if (room_participant_seen(hr->state, a)) {
        json_t *m = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "sub", a->sub, "name", a->name,
                              "role", proto_role_name(a->role), "category",
                              proto_category_name(a->category), "delegation", a->delegation);
        if (m)
            h->backend->ops->save_member(h->backend, hr->state->id, m);
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
    hr->n_conns++;
    metrics.joined++;
    metrics.joins++;
    metrics.commands[PROTO_CMD_JOIN][PROTO_OK]++;

    enum proto_role role = room_effective_role(hr->state, a);
    const struct room_member *m = room_member_find(hr->state, a->sub);
    json_t *you;
    s->is_observer = role == PROTO_ROLE_OBSERVER;
    if (s->is_observer) {
        hr->observers++;
        you = m ? room_member_json(hr->state, m) : json_object();
        json_object_set_new(you, "sub", json_string(a->sub));
        json_object_set_new(you, "name", json_string(a->name));
        json_object_set_new(you, "role", json_string("observer"));
        json_object_set_new(you, "delegation", a->delegation[0] ? json_string(a->delegation) : json_null());
        json_object_set_new(you, "category", a->category == PROTO_CAT_NONE ? json_null()
                                                 : json_string(proto_category_name(a->category)));
        json_object_set_new(you, "online", json_true());
        json_object_set_new(you, "connections", json_integer(1));
        if (!json_object_get(you, "muted"))
            json_object_set_new(you, "muted", json_false());
    } else {
        int idx = (int)(m - hr->state->members);
        hr->member_conns[idx]++;
        presence(hr, hr->member_conns[idx] == 1 ? "join" : "update", m, s);
        you = participant_json(hr, m);
    }

    struct welcome_ctx w = {.s = s};
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
    w.resumed = cmd->has_since && cmd->since <= seq &&
                (!cmd->has_epoch || strcmp(cmd->epoch, hr->state->epoch) == 0);
    if (w.resumed)
        h->backend->ops->history(h->backend, hr->state->id, cmd->since, (size_t)-1, welcome_history, &w);
    else
        h->backend->ops->history(h->backend, hr->state->id, seq > PROTO_RECENT_EVENTS ? seq - PROTO_RECENT_EVENTS : 0,
                                 PROTO_RECENT_EVENTS, welcome_history, &w);
    json_decref(w.head);
}

/* ---- timers ---- */

void hub_tick(struct hub *h, int64_t now)
{
    for (struct session *s = h->unjoined, *next; s; s = next) {
        next = s->u_next;
        if (s->state == SESSION_NEW && now - s->created_ms >= h->cfg->join_timeout_ms)
            session_close(s, PROTO_CLOSE_JOIN_TIMEOUT, "no join within 10 s", true);
    }
    if (!h->backend->ops->available(h->backend))
        return;
    for (size_t i = 0; i < h->n_rooms; i++) {
        struct hub_room *hr = h->rooms[i];
        int64_t due = room_deadline(hr->state);
        if (due >= 0 && now >= due) {
            struct room_events evs = {.n = 0};
            room_decide_clock(hr->state, now, &evs);
            if (evs.n > 0)
                commit(h, hr, &evs, NULL, NULL, PROTO_CMD_PING);
            room_events_clear(&evs);
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
    return h->backend->ops->available(h->backend) ? 1 : 0;
}

/* ---- admin ---- */

static void result_cb(void *arg, enum backend_result r)
{
    *(enum backend_result *)arg = r;
}

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

int hub_room_create(struct hub *h, const json_t *spec, json_t **out, char *errbuf, size_t errsz)
{
    char epoch[16];
    random_epoch(epoch, sizeof epoch);
    struct room *r = room_create(spec, epoch, net_now_ms(), errbuf, errsz);
    if (!r)
        return 400;
    if (find_room(h, r->id)) {
        room_destroy(r);
        return 409;
    }
    enum backend_result res = BACKEND_UNAVAILABLE;
    h->backend->ops->create(h->backend, r, result_cb, &res);
    if (res != BACKEND_OK) {
        room_destroy(r);
        return res == BACKEND_EXISTS ? 409 : 503;
    }
    if (add_room(h, r) != 0) {
        room_destroy(r);
        return 503;
    }
    log_info("room %s created", r->id);
    *out = room_snapshot_json(r);
    return 201;
}

json_t *hub_rooms_list(struct hub *h)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < h->n_rooms; i++) {
        struct hub_room *hr = h->rooms[i];
        size_t online = 0;
        for (size_t k = 0; k < hr->state->members_len && k < hr->member_conns_cap; k++)
            online += hr->member_conns[k] > 0;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", hr->state->id,
                                             "title", hr->state->title, "status",
                                             proto_status_name(hr->state->status), "participants",
                                             (json_int_t)online, "observers",
                                             (json_int_t)hr->observers));
    }
    return arr;
}

json_t *hub_room_get(struct hub *h, const char *id)
{
    struct hub_room *hr = find_room(h, id);
    if (!hr)
        return NULL;
    json_t *j = room_snapshot_json(hr->state);
    json_object_set_new(j, "participants", participants_json(hr));
    json_object_set_new(j, "observers", json_integer((json_int_t)hr->observers));
    json_object_set_new(j, "seq", json_integer((json_int_t)hr->state->seq));
    json_object_set_new(j, "epoch", json_string(hr->state->epoch));
    return j;
}

int hub_room_exists(struct hub *h, const char *id)
{
    return find_room(h, id) != NULL;
}

int hub_room_close(struct hub *h, const char *id)
{
    struct hub_room *hr = find_room(h, id);
    if (!hr)
        return 404;
    if (hr->state->status == PROTO_STATUS_CLOSED)
        return 200;
    struct proto_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = PROTO_CMD_SET_STATUS;
    cmd.status = PROTO_STATUS_CLOSED;
    struct room_actor admin;
    memset(&admin, 0, sizeof admin);
    snprintf(admin.sub, sizeof admin.sub, "admin");
    snprintf(admin.name, sizeof admin.name, "Administrator");
    admin.role = PROTO_ROLE_MODERATOR;
    admin.category = PROTO_CAT_NONE;
    struct room_events evs = {.n = 0};
    char err[200];
    if (room_decide(hr->state, &admin, &cmd, net_now_ms(), &evs, err, sizeof err) != PROTO_OK)
        return 200;
    enum backend_result r = commit(h, hr, &evs, NULL, NULL, PROTO_CMD_SET_STATUS);
    room_events_clear(&evs);
    return r == BACKEND_OK ? 200 : 503;
}

int hub_room_transcript(struct hub *h, const char *id, int format, char **out, size_t *len)
{
    const struct room *initial = NULL;
    json_t *events = h->backend->ops->record(h->backend, id, &initial);
    if (!events)
        return hub_room_exists(h, id) ? 500 : 404;
    char err[200] = "";
    *out = transcript_render(initial, events, (enum transcript_format)format, len, err, sizeof err);
    json_decref(events);
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
    if (add_room(h, current) != 0)
        room_destroy(current);
}

struct hub *hub_create(const struct config *cfg)
{
    struct hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = cfg;
    struct backend_sink sink = {.arg = h, .on_events = hub_on_events};
    if (cfg->redis_url) {
        log_error("--redis: the Redis backend is not part of this build yet; "
                  "run without --redis for the embedded backend");
        goto fail;
    }
    h->backend = backend_memory_create(cfg->data_dir, &sink);
    if (!h->backend)
        goto fail;
    if (h->backend->ops->load(h->backend, loaded, h) < 0)
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
    for (size_t i = 0; i < h->n_rooms; i++)
        free_room(h->rooms[i]);
    free(h->rooms);
    backend_destroy(h->backend);
    free(h);
}
