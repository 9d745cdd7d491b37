/*
 * roomstate.c: the client's replica of a room (roomstate.h).
 */
#include "roomstate.h"

#include <stdio.h>
#include <string.h>

#include "delta.h"

void roomstate_init(struct roomstate *rs)
{
    memset(rs, 0, sizeof *rs);
}

void roomstate_clear(struct roomstate *rs)
{
    json_decref(rs->room);
    json_decref(rs->people);
    json_decref(rs->you);
    json_decref(rs->messages);
    roomstate_init(rs);
}

static void keep_message(struct roomstate *rs, const json_t *ev)
{
    json_array_append(rs->messages, (json_t *)ev);
    while (json_array_size(rs->messages) > ROOMSTATE_MESSAGES)
        json_array_remove(rs->messages, 0);
}

static int load(struct roomstate *rs, const json_t *room, const json_t *participants,
                const json_t *observers, const json_t *seq, const json_t *epoch)
{
    if (!json_is_object(room))
        return -1;
    json_decref(rs->room);
    json_decref(rs->people);
    json_decref(rs->messages);
    rs->room = json_deep_copy(room);
    rs->people = json_object();
    rs->messages = json_array();
    size_t i;
    const json_t *p;
    json_array_foreach(participants, i, p) {
        const char *sub = json_string_value(json_object_get(p, "sub"));
        if (sub)
            json_object_set_new(rs->people, sub, json_deep_copy(p));
    }
    rs->observers = json_integer_value(observers);
    rs->seq = (uint64_t)json_integer_value(seq);
    snprintf(rs->epoch, sizeof rs->epoch, "%s", json_string_value(epoch) ? json_string_value(epoch) : "");
    return rs->room && rs->people && rs->messages ? 0 : -1;
}

int roomstate_welcome(struct roomstate *rs, const json_t *w)
{
    if (load(rs, json_object_get(w, "room"), json_object_get(w, "participants"),
             json_object_get(w, "observers"), json_object_get(w, "seq"),
             json_object_get(w, "epoch")) != 0)
        return -1;
    json_decref(rs->you);
    rs->you = json_deep_copy(json_object_get(w, "you"));
    /* The history in a welcome is already part of the snapshot; only its
     * messages are worth keeping, for display. */
    size_t i;
    const json_t *ev;
    json_array_foreach(json_object_get(w, "events"), i, ev) {
        const char *name = json_string_value(json_object_get(ev, "name"));
        if (name && strcmp(name, "message") == 0)
            keep_message(rs, ev);
    }
    return 0;
}

int roomstate_snapshot(struct roomstate *rs, const json_t *snap)
{
    return load(rs, snap, json_object_get(snap, "participants"), json_object_get(snap, "observers"),
                json_object_get(snap, "seq"), json_object_get(snap, "epoch"));
}

static void set_person(struct roomstate *rs, const json_t *p)
{
    const char *sub = json_string_value(json_object_get(p, "sub"));
    if (!sub)
        return;
    json_object_set_new(rs->people, sub, json_deep_copy(p));
    const char *me = json_string_value(json_object_get(rs->you, "sub"));
    if (me && strcmp(me, sub) == 0) {
        json_decref(rs->you);
        rs->you = json_deep_copy(p);
    }
}

static bool apply_presence(struct roomstate *rs, const json_t *msg)
{
    const json_t *obs = json_object_get(msg, "observers");
    if (json_is_integer(obs)) {
        rs->observers = json_integer_value(obs);
        return true;
    }
    const json_t *p = json_object_get(msg, "participant");
    if (!json_is_object(p))
        return false;
    /* "leave" still carries the participant (offline, or with fewer
     * connections): participants stay listed once seen. */
    set_person(rs, p);
    return true;
}

/* The delta form (contract section 10): queue_ops and stats_ops applied
 * to copies (the parts may be shared with an earlier message), then the
 * queue checked against queue_len and queue_hash. Returns 0, or -1 when the
 * ops do not fit or the queue disagrees with the server's. */
static int apply_delta(struct roomstate *rs, const json_t *st)
{
    const json_t *ops = json_object_get(st, "queue_ops");
    int rc = 0;
    if (ops) {
        json_t *q = json_deep_copy(json_object_get(rs->room, "queue"));
        if (!q)
            q = json_array();
        char hash[DELTA_HASH_BUF];
        if (delta_queue_apply(q, ops) != 0) {
            rc = -1;
        } else {
            delta_queue_hash(q, hash);
            const char *want = json_string_value(json_object_get(st, "queue_hash"));
            if (json_integer_value(json_object_get(st, "queue_len")) != (json_int_t)json_array_size(q) ||
                !want || strcmp(want, hash) != 0)
                rc = -1;
        }
        json_object_set_new(rs->room, "queue", q);
    }
    const json_t *sops = json_object_get(st, "stats_ops");
    if (sops) {
        json_t *stats = json_deep_copy(json_object_get(rs->room, "stats"));
        if (!stats)
            stats = json_object();
        if (delta_stats_apply(stats, sops) != 0)
            rc = -1;
        json_object_set_new(rs->room, "stats", stats);
    }
    return rc;
}

static bool apply_event(struct roomstate *rs, const json_t *ev)
{
    json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
    if (seq <= 0 || (uint64_t)seq <= rs->seq)
        return false;
    if ((uint64_t)seq != rs->seq + 1)
        rs->gaps++;
    rs->seq = (uint64_t)seq;
    const char *key;
    json_t *val;
    const json_t *st = json_object_get(ev, "state");
    json_object_foreach((json_t *)st, key, val) {
        if (strcmp(key, "queue_ops") != 0 && strcmp(key, "queue_len") != 0 &&
            strcmp(key, "queue_hash") != 0 && strcmp(key, "stats_ops") != 0)
            json_object_set(rs->room, key, val);
    }
    if (apply_delta(rs, st) != 0)
        rs->mismatches++;
    const char *name = json_string_value(json_object_get(ev, "name"));
    const json_t *data = json_object_get(ev, "data");
    if (!name)
        return true;
    if (strcmp(name, "message") == 0) {
        keep_message(rs, ev);
    } else if (strcmp(name, "role_changed") == 0) {
        const char *sub = json_string_value(json_object_get(data, "sub"));
        json_t *p = sub ? json_object_get(rs->people, sub) : NULL;
        const json_t *role = json_object_get(data, "role");
        if (p && json_is_string(role))
            json_object_set(p, "role", (json_t *)role);
        const char *me = json_string_value(json_object_get(rs->you, "sub"));
        if (sub && me && strcmp(sub, me) == 0 && json_is_string(role))
            json_object_set(rs->you, "role", (json_t *)role);
    } else if (strcmp(name, "participant_muted") == 0 || strcmp(name, "participant_unmuted") == 0) {
        const char *sub = json_string_value(json_object_get(data, "sub"));
        json_t *p = sub ? json_object_get(rs->people, sub) : NULL;
        if (p)
            json_object_set_new(p, "muted", json_boolean(strcmp(name, "participant_muted") == 0));
    }
    return true;
}

bool roomstate_apply(struct roomstate *rs, const json_t *msg)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!rs->room || !type)
        return false;
    if (strcmp(type, "event") == 0)
        return apply_event(rs, msg);
    if (strcmp(type, "presence") == 0)
        return apply_presence(rs, msg);
    return false;
}

const json_t *roomstate_person(const struct roomstate *rs, const char *sub)
{
    return sub && rs->people ? json_object_get(rs->people, sub) : NULL;
}

const json_t *roomstate_request(const struct roomstate *rs, const char *request_id)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(rs->room, "queue"), i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (id && request_id && strcmp(id, request_id) == 0)
            return r;
    }
    return NULL;
}

const json_t *roomstate_request_of(const struct roomstate *rs, const char *sub)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(rs->room, "queue"), i, r) {
        const char *s = json_string_value(json_object_get(r, "sub"));
        if (s && sub && strcmp(s, sub) == 0)
            return r;
    }
    return NULL;
}

int roomstate_queue_pos(const struct roomstate *rs, const char *request_id)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(rs->room, "queue"), i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (id && request_id && strcmp(id, request_id) == 0)
            return (int)i;
    }
    return -1;
}

int64_t roomstate_floor_spoken_ms(const struct roomstate *rs, int64_t now_ms)
{
    const json_t *f = json_object_get(rs->room, "floor");
    if (!json_is_object(f))
        return 0;
    int64_t spoken = json_integer_value(json_object_get(f, "elapsed_ms"));
    if (!json_is_true(json_object_get(f, "paused"))) {
        int64_t since = now_ms - json_integer_value(json_object_get(f, "started_at"));
        if (since > 0)
            spoken += since;
    }
    return spoken;
}

int64_t roomstate_floor_left_ms(const struct roomstate *rs, int64_t now_ms)
{
    const json_t *f = json_object_get(rs->room, "floor");
    if (!json_is_object(f))
        return INT64_MIN;
    int64_t limit = json_integer_value(json_object_get(f, "limit_s")) * 1000;
    return limit - roomstate_floor_spoken_ms(rs, now_ms);
}
