/*
 * hub_presence.c: who is connected, on every node (hub_private.h). Each
 * member's connections are counted by member index (member_conns), and
 * observers as a number, over this node's sessions and the mirror of the
 * other nodes' connections kept from the backend's presence messages.
 */
#include "hub_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "session.h"




/* ---- counting connections ---- */

/* Grows member_conns to cover every member of the replica. */
int hub_member_conns_fit(struct hub_room *hr)
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

int hub_member_index(const struct hub_room *hr, const char *sub)
{
    const struct room_member *m = room_member_find(hr->state, sub);
    return m ? (int)(m - hr->state->members) : -1;
}

static enum proto_role hub_member_role(const struct room_member *m)
{
    return m->has_role_override ? m->role_override : m->token_role;
}

static bool hub_remote_is_observer(const struct hub_room *hr, const struct remote_conn *rc)
{
    const struct room_member *m = room_member_find(hr->state, rc->sub);
    if (m && m->has_role_override)
        return m->role_override == PROTO_ROLE_OBSERVER;
    return rc->observer;
}

/* Counts every connection again (after a presence resync or a role
 * change). */
void hub_recount(struct hub_room *hr)
{
    if (hub_member_conns_fit(hr) != 0)
        return;
    if (hr->member_conns)
        memset(hr->member_conns, 0, hr->member_conns_cap * sizeof *hr->member_conns);
    hr->observers = 0;
    for (struct session *s = hr->conns; s; s = s->next) {
        s->is_observer = room_effective_role(hr->state, &s->actor) == PROTO_ROLE_OBSERVER;
        hub_count(hr, s->actor.sub, s->is_observer, +1);
    }
    for (size_t i = 0; i < hr->n_remote; i++)
        hub_count(hr, hr->remote[i].sub, hub_remote_is_observer(hr, &hr->remote[i]), +1);
}

int hub_count(struct hub_room *hr, const char *sub, bool observer, int delta)
{
    int idx = observer ? -1 : hub_member_index(hr, sub);
    if (idx < 0 || hub_member_conns_fit(hr) != 0) {
        /* Not in the directory (or no memory to count them there): one of
         * the observers. */
        if (delta > 0)
            hr->observers++;
        else if (hr->observers)
            hr->observers--;
        return -1;
    }
    if (delta > 0)
        hr->member_conns[idx]++;
    else if (hr->member_conns[idx] > 0)
        hr->member_conns[idx]--;
    return idx;
}

bool hub_count_left(struct hub *h, struct hub_room *hr, int idx, bool may_pause)
{
    const struct room_member *m = &hr->state->members[idx];
    hub_presence_send(hr, hr->member_conns[idx] > 0 ? "update" : "leave", m, NULL);
    /* The floor holder's last connection went: pause the clock (the room
     * decides whether pause_on_disconnect applies). */
    if (!may_pause || hr->member_conns[idx] > 0 || !hr->state->floor.active ||
        strcmp(hr->state->floor.sub, m->sub) != 0)
        return false;
    struct hub_cmd *c = hub_cmd_new(CMD_DISCONNECT);
    if (!c)
        return false;
    snprintf(c->sub, sizeof c->sub, "%s", m->sub);
    hub_enqueue(h, hr, c);
    return true;
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
void hub_attendance_sync(struct hub *h, struct hub_room *hr, int64_t now)
{
    struct room *r = hr->state;
    if (!r || hub_member_conns_fit(hr) != 0)
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
json_t *hub_participant_json(const struct hub_room *hr, const struct room_member *m)
{
    json_t *j = room_member_json(hr->state, m);
    size_t i = (size_t)(m - hr->state->members);
    int n = i < hr->member_conns_cap ? hr->member_conns[i] : 0;
    json_object_set_new(j, "role", json_string(proto_role_name(hub_member_role(m))));
    json_object_set_new(j, "online", json_boolean(n > 0));
    json_object_set_new(j, "connections", json_integer(n));
    return j;
}

json_t *hub_participants_json(const struct hub_room *hr)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < hr->state->members_len; i++) {
        const struct room_member *m = &hr->state->members[i];
        /* Removed people are gone for good; someone made a delegate by
         * set_role is one even if they joined as an observer. */
        if ((m->seen || m->has_role_override) && !m->removed && hub_member_role(m) != PROTO_ROLE_OBSERVER)
            json_array_append_new(arr, hub_participant_json(hr, m));
    }
    return arr;
}


void hub_presence_send(struct hub_room *hr, const char *action, const struct room_member *m,
                     struct session *except)
{
    hub_broadcast_json(hr, json_pack("{s:s, s:s, s:o}", "type", "presence", "action", action,
                                 "participant", hub_participant_json(hr, m)),
                   except);
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

void hub_on_presence(void *arg, const char *room_id, const json_t *msg)
{
    struct hub *h = arg;
    struct hub_room *hr = hub_find_room(h, room_id);
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
        hub_recount(hr);
        return;
    }
    const char *conn = json_string_value(json_object_get(msg, "conn"));
    if (!conn)
        return;
    if (strcmp(action, "join") == 0) {
        if (!remote_add(h, hr, msg))
            return;
        struct remote_conn *rc = &hr->remote[hr->n_remote - 1];
        int idx = hub_count(hr, rc->sub, hub_remote_is_observer(hr, rc), +1);
        if (idx >= 0)
            hub_presence_send(hr, hr->member_conns[idx] == 1 ? "join" : "update",
                              &hr->state->members[idx], NULL);
    } else if (strcmp(action, "leave") == 0) {
        struct remote_conn *rc = remote_find(hr, conn);
        if (!rc)
            return;
        struct remote_conn gone = *rc;
        *rc = hr->remote[--hr->n_remote];
        int idx = hub_count(hr, gone.sub, hub_remote_is_observer(hr, &gone), -1);
        if (idx >= 0)
            hub_count_left(h, hr, idx, true);
    }
}

void hub_on_reset(void *arg, const char *room_id, struct room *current)
{
    struct hub *h = arg;
    struct hub_room *hr = hub_find_room(h, room_id);
    if (!hr || !hr->state) {
        room_destroy(current);
        return;
    }
    log_warn("room %s: its history was lost; it goes on under epoch %s", room_id, current->epoch);
    room_destroy(hr->state);
    hr->state = current;
    hr->n_remote = 0;
    deltalog_clear(&hr->deltas);
    hub_recount(hr);
    /* The clients' seqs belong to the lost history: they must rejoin. */
    for (struct session *s = hr->conns; s; s = s->next)
        session_close(s, PROTO_CLOSE_TRY_AGAIN, "room history reset; join again", true);
}

void hub_on_reconnect(void *arg)
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
            hub_conn_id(h, s, cid, sizeof cid);
            const struct room_member *m = room_member_find(hr->state, s->actor.sub);
            json_t *pj = m ? room_member_json(hr->state, m) : room_actor_json(&s->actor);
            backend_presence(h->backend, hr->id, cid, s->is_observer, pj);
            json_decref(pj);
        }
    }
}
