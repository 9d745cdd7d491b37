/*
 * deltalog: a room's events in the delta form (contract section 10), kept
 * beside the full form so that welcomes and resumes of delta connections
 * can be answered without recomputing anything, and live events are
 * encoded once per form.
 *
 * The delta form of an event is a pure function of the full forms of the
 * events before it: each full event carries the whole queue and stats it
 * leaves, so the log only keeps the last of each to diff the next one
 * against. Every node therefore derives the same delta form from the same
 * committed events, whoever committed them (this node, another node
 * through Redis, a journal replay).
 *
 * Only events whose delta form differs from the full form (they carry
 * "queue" or "stats") have a text here; the others are read from the full
 * log.
 *
 * Pure: no I/O. The log owns its texts and its references to the parts.
 */
#ifndef ROSTRUM_DELTALOG_H
#define ROSTRUM_DELTALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct deltalog {
    bool ready;       /* started; every event up to seq pushed */
    uint64_t seq;     /* seq of the last event pushed */
    json_t *queue;    /* the queue and stats after that event */
    json_t *stats;
    char **text;      /* text[i]: delta form of seq i + 1, NULL = same as full */
    size_t *len;
    size_t cap;
};

/* Starts an empty log at seq 0 from the room as created (its queue array
 * and stats object, borrowed: the log takes its own references). Returns 0
 * or -1 (bad input). */
int deltalog_start(struct deltalog *log, json_t *queue, json_t *stats);

/* Pushes the full form of event seq log->seq + 1 (borrowed). On success
 * returns 0 and sets *text / *len to the delta form (owned by the log,
 * valid until deltalog_clear()), or *text to NULL when it is the same as
 * the full form. Returns -1 (nothing pushed) for an event with another seq,
 * a malformed event, or out of memory. */
int deltalog_push(struct deltalog *log, const json_t *full, const char **text, size_t *len);

/* The delta form of event seq as pushed: the text (borrowed) and its
 * length, or NULL when it is the same as the full form or seq was never
 * pushed. */
const char *deltalog_get(const struct deltalog *log, uint64_t seq, size_t *len);

/* Frees everything; the log is not ready any more. */
void deltalog_clear(struct deltalog *log);

#endif
