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

#endif
