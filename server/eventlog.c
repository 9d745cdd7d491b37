/* eventlog.c: a room's events kept in memory (eventlog.h). */
#include "eventlog.h"

#include <stdlib.h>
#include <string.h>

int eventlog_push(struct eventlog *log, const char *json, size_t len)
{
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
        log->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, json, len);
    copy[len] = '\0';
    log->ev[log->seq] = copy;
    log->len[log->seq] = len;
    log->seq++;
    return 0;
}

void eventlog_clear(struct eventlog *log)
{
    for (uint64_t i = 0; i < log->seq; i++)
        free(log->ev[i]);
    free(log->ev);
    free(log->len);
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
        if (!e || json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
