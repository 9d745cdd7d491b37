/* deltalog.c: a room's events in the delta form (deltalog.h). */
#include "deltalog.h"

#include <stdlib.h>
#include <string.h>

#include "delta.h"

int deltalog_start(struct deltalog *log, json_t *queue, json_t *stats)
{
    deltalog_clear(log);
    if (!json_is_array(queue) || !json_is_object(stats))
        return -1;
    log->queue = json_incref(queue);
    log->stats = json_incref(stats);
    log->ready = true;
    return 0;
}

static int grow(struct deltalog *log)
{
    if (log->seq < log->cap)
        return 0;
    size_t cap = log->cap ? log->cap * 2 : 64;
    char **text = realloc(log->text, cap * sizeof *text);
    if (!text)
        return -1;
    log->text = text;
    size_t *len = realloc(log->len, cap * sizeof *len);
    if (!len)
        return -1;
    log->len = len;
    log->cap = cap;
    return 0;
}

int deltalog_push(struct deltalog *log, const json_t *full, const char **text, size_t *len)
{
    const json_t *state = json_object_get(full, "state");
    json_t *queue = json_object_get(state, "queue"), *stats = json_object_get(state, "stats");
    json_t *ev = NULL;
    char *txt = NULL;
    *text = NULL;
    *len = 0;
    if (!log->ready || json_integer_value(json_object_get(full, "seq")) != (json_int_t)(log->seq + 1) ||
        !json_is_object(state) || (queue && !json_is_array(queue)) ||
        (stats && !json_is_object(stats)) || grow(log) != 0)
        return -1;
    if (queue || stats) {
        ev = delta_event(full, log->queue, log->stats);
        txt = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        json_decref(ev);
        if (!txt)
            return -1;
        /* The parts are shared with the caller's event, never changed. */
        if (queue) {
            json_decref(log->queue);
            log->queue = json_incref(queue);
        }
        if (stats) {
            json_decref(log->stats);
            log->stats = json_incref(stats);
        }
    }
    log->text[log->seq] = txt;
    log->len[log->seq] = txt ? strlen(txt) : 0;
    log->seq++;
    *text = txt;
    *len = log->len[log->seq - 1];
    return 0;
}

const char *deltalog_get(const struct deltalog *log, uint64_t seq, size_t *len)
{
    if (!log->ready || seq < 1 || seq > log->seq || !log->text[seq - 1])
        return NULL;
    *len = log->len[seq - 1];
    return log->text[seq - 1];
}

void deltalog_clear(struct deltalog *log)
{
    for (uint64_t i = 0; i < log->seq; i++)
        free(log->text[i]);
    free(log->text);
    free(log->len);
    json_decref(log->queue);
    json_decref(log->stats);
    memset(log, 0, sizeof *log);
}
