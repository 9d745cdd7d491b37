/* eventlog.c: a room's events kept in memory (eventlog.h). */
#include "eventlog.h"

#include <stdlib.h>
#include <string.h>

void eventlog_start(struct eventlog *log, const char *room, const char *epoch)
{
    chain_h0(room, epoch, log->h0);
}

const char *eventlog_hash(const struct eventlog *log, uint64_t seq)
{
    if (seq == 0)
        return log->h0;
    return seq <= log->seq ? log->hash[seq - 1] : "";
}

int eventlog_push(struct eventlog *log, const char *json, size_t len, const char *known,
                  const json_t *tree)
{
    char h[CHAIN_HEX_BUF];
    if (!log->h0[0])
        return -1;
    if (known) {
        memcpy(h, known, sizeof h);
        h[64] = '\0';
    } else {
        /* Computed by every node from the text it keeps rather than
         * trusted from the store: the chain a record shows is the chain of
         * the events this node serves. */
        json_error_t err;
        json_t *j = tree ? NULL : json_loadb(json, len, 0, &err);
        int bad = !(tree ? tree : j) || chain_next(eventlog_hash(log, log->seq), tree ? tree : j, h) != 0;
        json_decref(j);
        if (bad)
            return -1;
    }
    if (log->seq == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 64;
        char **ev = realloc(log->ev, cap * sizeof *ev);
        if (!ev)
            return -1;
        log->ev = ev;
        size_t *el = realloc(log->len, cap * sizeof *el);
        if (!el)
            return -1;
        log->len = el;
        char (*hs)[CHAIN_HEX_BUF] = realloc(log->hash, cap * sizeof *hs);
        if (!hs)
            return -1;
        log->hash = hs;
        log->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, json, len);
    copy[len] = '\0';
    log->ev[log->seq] = copy;
    log->len[log->seq] = len;
    memcpy(log->hash[log->seq], h, sizeof h);
    log->seq++;
    return 0;
}

void eventlog_clear(struct eventlog *log)
{
    for (uint64_t i = 0; i < log->seq; i++)
        free(log->ev[i]);
    free(log->ev);
    free(log->len);
    free(log->hash);
    memset(log, 0, sizeof *log);
}

void eventlog_history(const struct eventlog *log, uint64_t since, size_t limit,
                      backend_history_cb cb, void *arg)
{
    if (since > log->seq) {
        cb(arg, BACKEND_NOT_FOUND, NULL, 0);
        return;
    }
    size_t n = (size_t)(log->seq - since);
    uint64_t first = since;
    if (n > limit) {
        first = log->seq - limit;
        n = limit;
    }
    struct backend_event *ev = n ? calloc(n, sizeof *ev) : NULL;
    if (n && !ev) {
        cb(arg, BACKEND_UNAVAILABLE, NULL, 0);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ev[i].seq = first + i + 1;
        ev[i].json = log->ev[first + i];
        ev[i].len = log->len[first + i];
        ev[i].hash = log->hash[first + i];
    }
    cb(arg, BACKEND_OK, ev, n);
    free(ev);
}

json_t *eventlog_json(const struct eventlog *log)
{
    json_t *arr = json_array();
    for (uint64_t i = 0; arr && i < log->seq; i++) {
        json_error_t err;
        json_t *e = json_loadb(log->ev[i], log->len[i], 0, &err);
        if (e && json_object_set_new(e, "hash", json_string(log->hash[i])) != 0) {
            json_decref(e);
            e = NULL;
        }
        /* json_array_append_new releases e when it fails */
        if (!e || json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* ---- the rooms a backend holds ---- */

void eventlog_room_clear(struct eventlog_room *r)
{
    eventlog_clear(&r->log);
    room_destroy(r->initial);
    r->initial = NULL;
}

struct eventlog_room *eventlog_rooms_find(const struct eventlog_rooms *t, const char *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i]->id, id) == 0)
            return t->v[i];
    return NULL;
}

int eventlog_rooms_add(struct eventlog_rooms *t, struct eventlog_room *r)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct eventlog_room **v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = r;
    return 0;
}

void eventlog_rooms_remove(struct eventlog_rooms *t, struct eventlog_room *r)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i] == r) {
            t->v[i] = t->v[--t->n];
            return;
        }
}

void eventlog_rooms_free(struct eventlog_rooms *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

void eventlog_rooms_history(const struct eventlog_rooms *t, const char *id, uint64_t since,
                            size_t limit, backend_history_cb cb, void *arg)
{
    const struct eventlog_room *r = eventlog_rooms_find(t, id);
    if (!r) {
        cb(arg, BACKEND_NOT_FOUND, NULL, 0);
        return;
    }
    eventlog_history(&r->log, since, limit, cb, arg);
}

json_t *eventlog_rooms_record(const struct eventlog_rooms *t, const char *id,
                              const struct room **initial)
{
    const struct eventlog_room *r = eventlog_rooms_find(t, id);
    if (!r)
        return NULL;
    *initial = r->initial;
    return eventlog_json(&r->log);
}

const struct eventlog *eventlog_rooms_record_log(const struct eventlog_rooms *t, const char *id,
                                                 const struct room **initial)
{
    const struct eventlog_room *r = eventlog_rooms_find(t, id);
    if (!r)
        return NULL;
    *initial = r->initial;
    return &r->log;
}
