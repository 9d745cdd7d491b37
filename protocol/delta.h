/*
 * delta: the delta form of events (contract section 10), shared by the
 * server (which computes it) and the C clients (which apply it).
 *
 * A connection that joins with "deltas": true gets, instead of an event's
 * whole "queue" and "stats" state parts, the changes to them:
 *   queue_ops   [{"op":"insert","at":i,"request":{...}},
 *                {"op":"remove","id":"r17"},
 *                {"op":"move","id":"r17","to":i},
 *                {"op":"update","request":{...}}]   applied in order
 *   queue_len   the queue's length after the ops
 *   queue_hash  first 16 hex digits of SHA-256 of the ids in order, joined by ","
 *   stats_ops   {"<sub>":{"turns","spoken_ms"}} for the entries that changed
 * exactly where the full form carries "queue" (resp. "stats"). Every other
 * part is the same in both forms.
 *
 * The ops are a diff of the queue before and after the event, not a
 * translation of the event's name: any event that changes the queue (today
 * or later) gets correct ops, and the ops are few: every request that
 * keeps its relative order with the others (a longest increasing
 * subsequence) stays put, so moving one request is one "move" whatever the
 * list's length.
 *
 * Pure: no I/O, no clock. Every function returns new references; inputs
 * are borrowed.
 */
#ifndef ROSTRUM_DELTA_H
#define ROSTRUM_DELTA_H

#include <stddef.h>

#include <jansson.h>

/* 16 hex digits and the NUL. */
#define DELTA_HASH_BUF 17

/* The ops that turn queue `before` into queue `after` (arrays of request
 * objects, each with a string "id"; ids unique within each array). Returns
 * a new array, or NULL on allocation failure or malformed input. */
json_t *delta_queue_ops(const json_t *before, const json_t *after);

/* Applies ops to queue (an array of request objects, changed in place).
 * "at" and "to" are clamped to the list as a "move" or "insert" finds it
 * (after the moved request left it). Returns 0, or -1 when an op does not
 * fit (unknown op, unknown id, an insert of an id already there, missing
 * fields); the queue may then be partly changed and must be refetched. */
int delta_queue_apply(json_t *queue, const json_t *ops);

/* The hash of a queue (array of request objects): the first 16 lowercase
 * hex digits of SHA-256 of the ids in order joined by ",". out gets "" for
 * malformed input. */
void delta_queue_hash(const json_t *queue, char out[DELTA_HASH_BUF]);

/* The stats entries (objects {"turns","spoken_ms"} by sub) of `after` that
 * differ from (or are missing in) `before`. An entry that disappeared gets
 * {"turns":0,"spoken_ms":0} (the room never drops one). New object, NULL
 * on allocation failure. */
json_t *delta_stats_ops(const json_t *before, const json_t *after);

/* Sets every entry of ops into stats (changed in place). Returns 0, or -1
 * for malformed input. */
int delta_stats_apply(json_t *stats, const json_t *ops);

/* The delta form of a full wire event {"type":"event",...,"state":{...}}:
 * the same object but with "queue" replaced by queue_ops (from
 * queue_before), queue_len and queue_hash, and "stats" by stats_ops (from
 * stats_before). queue_before / stats_before are only read when the event
 * carries that part. Returns a new object (for an event that carries
 * neither part, an equal copy), or NULL on allocation failure or when the
 * event carries a part whose "before" is NULL. */
json_t *delta_event(const json_t *full, const json_t *queue_before, const json_t *stats_before);

#endif
