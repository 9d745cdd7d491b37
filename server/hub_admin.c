/*
 * hub_admin.c: the admin API's calls on the hub (hub.h, hub_private.h):
 * create, ensure, list, get, close, and the record.
 */
#include "hub_private.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "eventlog.h"
#include "log.h"
#include "recordkey.h"
#include "session.h"
#include "transcript.h"
#include "tzdb.h"




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
        if (!x->h->shared && hub_add_room(x->h, x->r->id, x->r))
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
    if (hub_find_room(h, r->id) && hub_find_room(h, r->id)->state) {
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
    struct hub_room *hr = hub_find_room(h, id);
    if (hr && hr->state) {
        if (!h->shared || hr->n_conns || hr->q_head || hr->inflight) {
            cb(arg, true);
            return;
        }
        /* Held but unwatched: its replica may be stale; open it afresh. */
        hub_remove_room(h, hr);
    }
    struct waiter *w = calloc(1, sizeof *w);
    if (!w) {
        cb(arg, false);
        return;
    }
    w->cb = cb;
    w->arg = arg;
    if (!hub_wait_for_room(h, id, w)) {
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
    struct hub_room *hr = found && id ? hub_find_room(x->h, id) : NULL;
    if (hr && hr->state) {
        size_t online = 0;
        for (size_t k = 0; k < hr->state->members_len && k < hr->member_conns_cap; k++)
            online += hr->member_conns[k] > 0;
        json_array_append_new(x->out, json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", hr->id, "title",
                                                hr->state->title, "status",
                                                proto_status_name(hr->state->status),
                                                "participants", (json_int_t)online, "observers",
                                                (json_int_t)hr->observers));
        hub_maybe_drop(x->h, hr);
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
    struct hub_room *hr = hub_find_room(h, id);
    if (!hr || !hr->state)
        return NULL;
    json_t *j = room_snapshot_json(hr->state);
    json_object_set_new(j, "participants", hub_participants_json(hr));
    json_object_set_new(j, "observers", json_integer((json_int_t)hr->observers));
    json_object_set_new(j, "seq", json_integer((json_int_t)hr->state->seq));
    json_object_set_new(j, "epoch", json_string(hr->state->epoch));
    return j;
}

/* A command of the admin API for room id, queued with its callback: NULL
 * (cb told 404 or 503) when the room is not held or memory is short. */
static struct hub_cmd *admin_cmd(struct hub *h, const char *id, enum cmd_kind kind,
                                 void (*cb)(void *arg, int status), void *arg,
                                 struct hub_room **hr)
{
    *hr = hub_find_room(h, id);
    struct hub_cmd *c = *hr && (*hr)->state ? hub_cmd_new(kind) : NULL;
    if (!c) {
        cb(arg, *hr && (*hr)->state ? 503 : 404);
        return NULL;
    }
    c->done = cb;
    c->arg = arg;
    return c;
}

void hub_room_close(struct hub *h, const char *id, void (*cb)(void *arg, int status), void *arg)
{
    struct hub_room *hr;
    struct hub_cmd *c = admin_cmd(h, id, CMD_ADMIN_CLOSE, cb, arg, &hr);
    if (c)
        hub_enqueue(h, hr, c);
}

enum hub_moderator hub_room_moderator_check(struct hub *h, const char *id, const char *sub,
                                            const char *jti)
{
    struct hub_room *hr = hub_find_room(h, id);
    const struct room_member *m;
    if (!hr || !hr->state)
        return HUB_MODERATOR_NO_ROOM;
    if (jti && jti[0] && room_is_revoked(hr->state, jti, clock_now_ms()))
        return HUB_MODERATOR_REVOKED;
    /* A moderator who never joined is not in the directory: the token's
     * role stands. */
    m = room_member_find(hr->state, sub);
    if (m && (m->removed || (m->has_role_override && m->role_override != PROTO_ROLE_MODERATOR)))
        return HUB_MODERATOR_NOT_MODERATOR;
    return HUB_MODERATOR_OK;
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
    struct hub_room *hr;
    struct hub_cmd *c = admin_cmd(h, id, CMD_ADMIN_REVOKE, cb, arg, &hr);
    if (!c)
        return;
    snprintf(c->jti, sizeof c->jti, "%s", jti);
    c->until_s = until_s;
    hub_enqueue(h, hr, c);
}

int64_t hub_room_token_exp(struct hub *h, const char *id, const char *jti)
{
    struct hub_room *hr = hub_find_room(h, id);
    int64_t exp = 0;
    for (struct session *s = hr ? hr->conns : NULL; s; s = s->next)
        if (strcmp(s->jti, jti) == 0 && s->token_exp > exp)
            exp = s->token_exp;
    return exp;
}

json_t *hub_room_revocations(struct hub *h, const char *id)
{
    struct hub_room *hr = hub_find_room(h, id);
    return hr && hr->state ? revoke_json(&hr->state->revoked, clock_now_ms()) : NULL;
}

int hub_room_transcript(struct hub *h, const char *id, int format, char **out, size_t *len)
{
    const struct room *initial = NULL;
    const struct eventlog *log = backend_record_log(h->backend, id, &initial);
    if (!log)
        return hub_find_room(h, id) ? 500 : 404;
    struct transcript_source src = {(size_t)log->seq, log_get, (void *)log};
    char err[200] = "";
    struct transcript_opts opts = {NULL, NULL, NULL, NULL};
    const struct hub_room *hr = hub_find_room(h, id);
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
