/*
 * revoke: the revoked token ids (jti) of one room (contract section 11).
 *
 * A revocation is a sequenced event of the room, `token_revoked` with data
 * {"jti","until"} (until: Unix seconds), so it reaches every node and
 * survives restarts like every room change: the journal and the Redis
 * stream replay it, and the stored state keeps the list. A token whose jti
 * is in the list is refused until `until` (plus the JWT leeway: a token is
 * accepted up to 30 s after its exp, so its revocation lasts as long).
 * Entries past that are dropped when an event is applied (at the event's
 * ts, so every node drops the same ones).
 *
 * PURE: no I/O, no clock (time is an argument). The list is owned by its
 * room (struct room); the parsers take untrusted input (admin bodies,
 * stored state, events from Redis) and are fuzzed (tests/fuzz/fuzz_revoke.c).
 */
#ifndef ROSTRUM_REVOKE_H
#define ROSTRUM_REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"

#define REVOKE_MAX 10000                    /* entries per room */
#define REVOKE_MAX_UNTIL_S INT64_C(9007199254) /* 2^53 ms in seconds: year 2255 */
#define REVOKE_DEFAULT_S (30 * 24 * 3600)   /* when nobody knows the token's exp */

struct revoke_entry {
    char jti[PROTO_JTI_BUF];
    int64_t until_s;
};

struct revoke_list {
    struct revoke_entry *e; /* owned */
    size_t n, cap;
};

/* Frees the entries; the list is empty (and reusable) after. */
void revoke_clear(struct revoke_list *l);
/* dst becomes a copy of src (dst's old entries are freed). 0, or -1
 * (out of memory, dst empty). */
int revoke_copy(struct revoke_list *dst, const struct revoke_list *src);

/* Reads a token_revoked event's data: {"jti": valid id, "until": integer
 * 1..REVOKE_MAX_UNTIL_S}, nothing else. 0, or -1. */
int revoke_data_parse(const json_t *data, char jti[PROTO_JTI_BUF], int64_t *until_s);
/* Applies a token_revoked event (data as above) at now_ms: drops expired
 * entries, then adds jti or sets its until (the later revocation decides).
 * 0, or -1 (invalid data, list full) with the list unchanged. */
int revoke_apply(struct revoke_list *l, const json_t *data, int64_t now_ms);
/* Drops the entries expired at now_ms. */
void revoke_prune(struct revoke_list *l, int64_t now_ms);
/* True when jti ("" never) is revoked at now_ms. */
bool revoke_has(const struct revoke_list *l, const char *jti, int64_t now_ms);
/* True when revoke_apply() at now_ms would refuse jti because REVOKE_MAX
 * revocations are in force (a jti already listed always fits). */
bool revoke_full(const struct revoke_list *l, const char *jti, int64_t now_ms);

/* The list as stored: [{"jti","until"}...], in order of revocation. With
 * now_ms > 0, only the entries in force then. A new reference or NULL. */
json_t *revoke_json(const struct revoke_list *l, int64_t now_ms);
/* Reads a stored list (what revoke_json wrote; NULL or absent is empty)
 * into l (cleared first). 0, or -1 with l empty: ids valid and unique,
 * until in range, at most REVOKE_MAX. */
int revoke_from_json(struct revoke_list *l, const json_t *arr);

/* Checks an admin body {"jti", "until"?} (POST /api/rooms/{id}/revocations)
 * at now_s: jti valid; until an integer after now_s and at most
 * REVOKE_MAX_UNTIL_S; without until, default_until_s. Returns NULL and
 * fills jti/until_s, or a static message for a 400. */
const char *revoke_body_parse(const json_t *body, int64_t now_s, int64_t default_until_s,
                              char jti[PROTO_JTI_BUF], int64_t *until_s);

#endif
