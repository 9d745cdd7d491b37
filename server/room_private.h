/*
 * room_private.h: what the two files of the room module share, and nobody
 * else may include (room.h is the interface). room.c holds the logic:
 * settings, members and queue, life cycle, decide and apply; room_json.c
 * its JSON forms: the strict readers of stored and committed JSON, the
 * wire snapshot, parts and events, the storage form, and room_apply_text().
 */
#ifndef ROSTRUM_ROOM_PRIVATE_H
#define ROSTRUM_ROOM_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "room.h"

/* Bounds of every stored time, duration and counter: a journal or a Redis
 * entry is data from outside this process, and arithmetic on values near
 * INT64_MAX overflows. 2^53 ms is 285,000 years. */
#define ROOM_MAX_MS (INT64_C(1) << 53)
#define ROOM_MAX_COUNT 1000000

/* The storage format of room_state_json(); bumped on incompatible change. */
#define ROOM_STATE_VERSION 1
/* A floor's limit may grow by extend up to this (24 h): beyond it a chair
 * has certainly made a mistake, and it keeps limit_s * 1000 far from any
 * overflow. */
#define ROOM_MAX_LIMIT_S 86400
/* Longest agenda item title: items are often whole guiding questions, so
 * they get the length of a message rather than that of a room title. */
#define ROOM_MAX_ITEM_TITLE_CHARS PROTO_MAX_TEXT_CHARS

#if defined(__GNUC__)
#define ROOM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ROOM_PRINTF(f, a)
#endif

/* ---- helpers (room.c) ---- */

/* Formats into buf (when buf and sz are given). */
void room_errf(char *buf, size_t sz, const char *fmt, ...) ROOM_PRINTF(3, 4);
/* s, or NULL for "" (JSON null for an empty optional string). */
const char *room_nz(const char *s);
/* Copies src into dst, cut to fit (NULL copies ""). */
void room_copy_str(char *dst, size_t dsz, const char *src);
json_t *room_category_json(enum proto_category c);
json_t *room_settings_json(const struct room_settings *s);
bool room_agenda_has(const struct room *r, const char *item);
struct room_member *room_member_add(struct room *r, const char *sub);
/* The member (writable), or NULL. */
struct room_member *room_member_get(struct room *r, const char *sub);
/* Sequenced facts: what replaying the log must reproduce for a member. */
bool room_member_has_facts(const struct room_member *m);
enum proto_role room_member_role(const struct room_member *m);
long room_queue_index(const struct room *r, const char *id);
int room_queue_reserve(struct room *r, size_t n);
void room_queue_insert(struct room *r, size_t pos, const struct room_request *q);

/* ---- JSON (room_json.c) ---- */

/* Strict readers of stored and committed JSON: false when k is missing,
 * of another type or out of range. */
bool room_get_int(const json_t *o, const char *k, int64_t min, int64_t max, int64_t *out);
bool room_get_enum(const json_t *o, const char *k, int (*parse)(const char *), int *out);
bool room_get_bool(const json_t *o, const char *k, bool *out);
/* A string into dst (cut to fit); with nullable, null reads as "". */
bool room_get_str(const json_t *o, const char *k, char *dst, size_t dsz, bool nullable);
/* A request / the floor as on the wire (new reference), and back: 0 or -1. */
json_t *room_request_json(const struct room_request *q);
int room_request_from_json(const json_t *j, struct room_request *q);
json_t *room_floor_json(const struct room_floor *f, bool storage);
int room_floor_from_json(const json_t *j, struct room_floor *f);
json_t *room_agenda_items_json(const struct room_agenda_item *items, size_t n);
json_t *room_agenda_json(const struct room *r);
void room_agenda_free(struct room_agenda_item *items, size_t n);
bool room_schedule_equal(const struct room_schedule *a, const struct room_schedule *b);

#endif
