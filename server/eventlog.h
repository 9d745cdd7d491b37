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
#include "chain.h"

struct eventlog {
    char **ev;
    size_t *len;
    char (*hash)[CHAIN_HEX_BUF]; /* the chain hash of each event (chain.h) */
    uint64_t seq;   /* events kept, = seq of the last one */
    size_t cap;
    char h0[CHAIN_HEX_BUF]; /* the chain's start: "" until eventlog_start() */
};

/* Starts the chain of an empty log: h_0 of room and epoch (section 9.6).
 * Call before the first push, and again after eventlog_clear(). */
void eventlog_start(struct eventlog *log, const char *room, const char *epoch);
/* Appends a copy of json[0..len) as the event with seq log->seq + 1 with
 * its chain hash: known (64 hex digits the caller computed from this log's
 * head and this text with chain_next()), or, when known is NULL, computed
 * here from tree (the text parsed by the caller, borrowed) or, without
 * one, from the text parsed here. Returns 0, or -1 (out of memory, the log
 * was not started, or the text is not an event with a canonical form;
 * nothing appended). */
int eventlog_push(struct eventlog *log, const char *json, size_t len, const char *known,
                  const json_t *tree);
/* The chain hash of the event with seq (1..log->seq), or of the last
 * event for seq == log->seq; h_0 for seq 0. Borrowed; "" for an unknown
 * seq. */
const char *eventlog_hash(const struct eventlog *log, uint64_t seq);
/* Frees every kept text; the log is empty (and not started) again. */
void eventlog_clear(struct eventlog *log);
/* Calls cb with the events after since (the newest limit of them), as
 * backend_ops.history promises: NOT_FOUND when since is past the end. */
void eventlog_history(const struct eventlog *log, uint64_t since, size_t limit,
                      backend_history_cb cb, void *arg);
/* Every event parsed, each with its chain hash as "hash", as a new JSON
 * array; NULL on failure. */
json_t *eventlog_json(const struct eventlog *log);

/* ---- the rooms a backend holds ----
 * Both backends keep, for each room they hold, the room as created and
 * every event since: the history of the welcome and of resume, and the
 * record, come from here without asking the store. A backend's own room
 * struct has a struct eventlog_room as its member `kept`; the table finds,
 * adds and removes them, and answers the backend operations that read only
 * the kept history (history, record, record_log). */
struct eventlog_room {
    char id[PROTO_ROOM_BUF];
    struct room *initial;     /* owned */
    struct eventlog log;
};

struct eventlog_rooms {
    struct eventlog_room **v; /* borrowed: each backend owns its rooms */
    size_t n, cap;
};

/* Frees what r keeps (the initial room and the log), not r itself. */
void eventlog_room_clear(struct eventlog_room *r);
/* The room held under id, or NULL. */
struct eventlog_room *eventlog_rooms_find(const struct eventlog_rooms *t, const char *id);
/* Adds r (borrowed; it must outlive its place in t). 0, or -1 when out of
 * memory. */
int eventlog_rooms_add(struct eventlog_rooms *t, struct eventlog_room *r);
/* Takes r out of t (the order of the others may change). */
void eventlog_rooms_remove(struct eventlog_rooms *t, struct eventlog_room *r);
/* Frees the table's array (not the rooms). */
void eventlog_rooms_free(struct eventlog_rooms *t);
/* backend_ops.history, .record and .record_log over the rooms held. */
void eventlog_rooms_history(const struct eventlog_rooms *t, const char *id, uint64_t since,
                            size_t limit, backend_history_cb cb, void *arg);
json_t *eventlog_rooms_record(const struct eventlog_rooms *t, const char *id,
                              const struct room **initial);
const struct eventlog *eventlog_rooms_record_log(const struct eventlog_rooms *t, const char *id,
                                                 const struct room **initial);

#endif
