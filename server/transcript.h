/*
 * transcript: the meeting record of a room, rendered from its events.
 *
 * PURE: takes the room's initial state and its committed events, returns
 * text. No I/O, no clock. Formats: JSON (every event in order, floors with
 * start/end/duration, speaking time per participant and per delegation),
 * Markdown (minutes a secretariat could circulate) and CSV (one row per
 * event).
 */
#ifndef ROSTRUM_TRANSCRIPT_H
#define ROSTRUM_TRANSCRIPT_H

#include <stddef.h>

#include <jansson.h>

#include "room.h"

enum transcript_format { TRANSCRIPT_JSON, TRANSCRIPT_MD, TRANSCRIPT_CSV };

/* "json", "md", "csv" -> format; -1 for anything else. */
int transcript_format_parse(const char *s);
/* The HTTP content type of a format (static string). */
const char *transcript_content_type(enum transcript_format f);

/* Renders the record. initial: the room as created (borrowed; not
 * changed); events: JSON array of wire events in seq order (borrowed), as
 * produced by room_event_json(). Returns a new NUL-terminated string
 * (free()), its length in *len, or NULL on allocation failure or when an
 * event does not apply (then errbuf says which). */
char *transcript_render(const struct room *initial, const json_t *events,
                        enum transcript_format f, size_t *len, char *errbuf, size_t errsz);

/* What the record says beyond the events (section 9.5, 9.6). Every field
 * may be NULL / zero. */
struct transcript_opts {
    /* Signs the record: sign(arg, text) returns a new string (free()) with
     * the base64 signature of text, or NULL; public_pem is the key that
     * checks it. Without sign the record is unsigned. */
    char *(*sign)(void *arg, const char *text);
    void *sign_arg;
    const char *public_pem;
    /* The room as it is now, for the attendance list (contract 9.5): its
     * members' first_joined_at, last_left_at, turns and speaking time,
     * and observers_peak. NULL: no attendance list. */
    const struct room *live;
};

/* transcript_render() with opts (borrowed; NULL = none). Every format
 * carries the chain (section 9.6): the hash of each event (an event's
 * "hash" member when it has a valid one, otherwise computed from h_0 of
 * initial's id and epoch), and the chain's epoch, seqs and head. */
char *transcript_render_opts(const struct room *initial, const json_t *events,
                             enum transcript_format f, const struct transcript_opts *opts,
                             size_t *len, char *errbuf, size_t errsz);

/* Events as text, for a caller that keeps them so (the backends' event
 * logs): get(arg, i, &json, &len, &hash) gives event i (0-based; borrowed
 * until the next call) and its stored chain hash (NULL when none), and
 * returns 0, or -1 when it cannot. */
struct transcript_source {
    size_t n;
    int (*get)(void *arg, size_t i, const char **json, size_t *len, const char **hash);
    void *arg;
};

/* transcript_render_opts() over a source. The JSON record's events are
 * the source's texts with "hash" spliced in (one line each), so a long
 * record is copied rather than parsed and written again. */
char *transcript_render_source(const struct room *initial, const struct transcript_source *src,
                               enum transcript_format f, const struct transcript_opts *opts,
                               size_t *len, char *errbuf, size_t errsz);

#endif
