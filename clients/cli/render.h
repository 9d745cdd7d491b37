/*
 * render: how the CLI shows a room to a person: one line per server
 * message (the log of `watch` when stdout is not a terminal, and of `join`),
 * a multi-line summary of a room (`room show`, `/state`), and the live
 * full-screen view of `watch` on a terminal.
 *
 * Lines carry the seq and the local time of each event so that a log can be
 * read later. Writes only to the FILE it is given; reads no clock (the time
 * is an argument).
 */
#ifndef ROSTRUM_RENDER_H
#define ROSTRUM_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct roomstate;

/* "2:05", "1:02:03"; negative values are shown as their absolute value. */
void render_clock(char *out, size_t sz, int64_t ms);

/* One line (no newline) describing msg, a message as received from the
 * server (welcome, event, presence, ack, error, pong). rs is the replica
 * BEFORE msg is applied (for names of people and requests). */
void render_line(const struct roomstate *rs, const json_t *msg, char *out, size_t outsz);

/* The room as a few paragraphs: title and status, agenda, floor, speakers
 * list, participants, settings, speaking time. now_ms is server time. */
void render_snapshot(FILE *f, const struct roomstate *rs, int64_t now_ms);

/* Redraws the whole terminal (rows x cols) with the live view: header,
 * floor with countdown, speakers list, recent messages, and footer as the
 * last line. now_ms is server time. */
void render_screen(FILE *f, const struct roomstate *rs, int rows, int cols, int64_t now_ms,
                   const char *footer);

#endif
