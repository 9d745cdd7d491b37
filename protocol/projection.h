/*
 * projection: contract section 9.2, the projection every client computes.
 *
 * From a room snapshot (the wire JSON of contract section 3, with the
 * version 1.1 fields) and the clock, it says when each waiting request
 * should start and end, where the current segment ends, whether the list
 * overruns it, and the speech limit at which the list would fit. The
 * browser client has the same function in clients/web/js/projection.js;
 * both pass protocol/projection-vectors.json.
 *
 * Pure: no I/O, no clock (now is an argument), no globals. Allocates only
 * the items it hands back.
 */
#ifndef ROSTRUM_PROJECTION_H
#define ROSTRUM_PROJECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"

/* The smallest speech limit "the limit that fits" proposes, and the
 * largest (the largest speech_s a room accepts). */
#define PROJECTION_MIN_FIT_S 30
#define PROJECTION_MAX_FIT_S 7200

struct projection_item {
    char id[PROTO_MAX_REQUEST_ID + 1];
    int64_t eta_ms;  /* when this request is expected to start (server ms) */
    int64_t end_ms;  /* eta_ms + the limit of its kind */
    bool at_risk;    /* ends after the segment end */
};

struct projection {
    int64_t start_ms;        /* what the list is projected from: now, or the
                              * scheduled start while scheduled (if later) */
    int64_t remaining_ms;    /* R: the floor's remaining time, 0 without */
    bool has_segment_end;
    int64_t segment_end_ms;  /* E */
    int64_t list_end_ms;     /* end of the last request; without one, of the floor */
    bool has_overrun;        /* false without E */
    int64_t overrun_ms;      /* max(0, list_end - E) */
    int fit_s;               /* the limit that fits, 0 = none */
    size_t n;
    struct projection_item *items; /* n, in queue order; owned */
};

/* Computes the projection of room (a snapshot object) at now_ms (server
 * clock). Returns 0 with *out filled (free with projection_clear()), or -1
 * with *out empty for a snapshot that lacks what the projection needs or
 * holds values out of the contract's ranges. */
int projection_compute(const json_t *room, int64_t now_ms, struct projection *out);
void projection_clear(struct projection *p);

/* The projection as JSON, the form of the test vectors' "expect":
 * {"start","remaining_ms","segment_end"|null,"list_end","overrun_ms"|null,
 *  "fit_s"|null,"queue":[{"id","eta","end","at_risk"}]}. New reference. */
json_t *projection_json(const struct projection *p);

#endif
