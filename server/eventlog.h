/*
 * eventlog: a room's committed events as their wire text, in seq order
 * (the event with seq i + 1 at index i). Both backends keep one per room
 * they hold: the welcome's history, resume and the record are read from
 * it without asking the store.
 *
 * Pure: no I/O. The log owns its copies of the texts.
 */
#ifndef ROSTRUM_EVENTLOG_H
#define ROSTRUM_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend.h"

struct eventlog {
    char **ev;
    size_t *len;
    uint64_t seq;   /* events kept, = seq of the last one */
    size_t cap;
};

/* Appends a copy of json[0..len) as the event with seq log->seq + 1.
 * Returns 0 or -1 (out of memory; nothing appended). */
int eventlog_push(struct eventlog *log, const char *json, size_t len);
/* Frees every kept text; the log is empty again. */
void eventlog_clear(struct eventlog *log);
/* Calls cb with the events after since (the newest limit of them), as
 * backend_ops.history promises: NOT_FOUND when since is past the end. */
void eventlog_history(const struct eventlog *log, uint64_t since, size_t limit,
                      backend_history_cb cb, void *arg);
/* Every event parsed, as a new JSON array; NULL on failure. */
json_t *eventlog_json(const struct eventlog *log);

#endif
