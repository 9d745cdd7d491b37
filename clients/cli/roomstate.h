/*
 * roomstate: a client's replica of one room, built from a welcome (or an
 * admin API snapshot) and kept current by the events and presence messages
 * that follow. Each event's "state" holds the full new value of every part
 * it changed, so applying an event is replacing those parts (contract
 * section 4); in the delta form (section 10) the queue and stats come as
 * ops, applied with protocol/delta and checked against the event's
 * queue_len and queue_hash.
 *
 * Used by `watch` (to draw the room) and `join` (to show it, and to resolve
 * "/withdraw" with no id to the participant's own request).
 *
 * Pure: no I/O, no clock reads.
 */
#ifndef ROSTRUM_ROOMSTATE_H
#define ROSTRUM_ROOMSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define ROOMSTATE_MESSAGES 200 /* recent message events kept for display */

struct roomstate {
    json_t *room;        /* the snapshot object (owned) */
    json_t *people;      /* object sub -> participant (owned) */
    json_t *you;         /* this connection's participant, or NULL (owned) */
    json_t *messages;    /* array of recent "message" events, oldest first (owned) */
    long long observers;
    uint64_t seq;        /* last event applied */
    char epoch[64];
    unsigned gaps;       /* events that did not follow seq + 1 (never, by contract) */
    unsigned mismatches; /* delta-form events whose queue_len or queue_hash disagreed
                          * with the queue after the ops (never with a correct
                          * server; the caller joins again with since) */
};

void roomstate_init(struct roomstate *rs);
void roomstate_clear(struct roomstate *rs); /* frees; the struct may be reused after init */

/* Loads a welcome (borrowed). Returns 0, or -1 when it is malformed. */
int roomstate_welcome(struct roomstate *rs, const json_t *welcome);
/* Loads the answer of GET /api/rooms/{id} (borrowed). Returns 0 or -1. */
int roomstate_snapshot(struct roomstate *rs, const json_t *snap);

/* Applies one server message (borrowed): an event or a presence message.
 * Returns true when the replica changed, false for anything else (acks,
 * errors, pongs, events at or below the current seq). */
bool roomstate_apply(struct roomstate *rs, const json_t *msg);

/* Lookups: borrowed references valid until the next apply, or NULL. */
const json_t *roomstate_person(const struct roomstate *rs, const char *sub);
const json_t *roomstate_request(const struct roomstate *rs, const char *request_id);
/* The first pending request of sub in the queue. */
const json_t *roomstate_request_of(const struct roomstate *rs, const char *sub);
/* Position (0-based) of a request in the queue, or -1. */
int roomstate_queue_pos(const struct roomstate *rs, const char *request_id);

/* Milliseconds of speaking time left on the floor at server time now_ms
 * (negative once over), or INT64_MIN when nobody has the floor. */
int64_t roomstate_floor_left_ms(const struct roomstate *rs, int64_t now_ms);
/* Milliseconds spoken by the floor holder at server time now_ms. */
int64_t roomstate_floor_spoken_ms(const struct roomstate *rs, int64_t now_ms);

#endif
