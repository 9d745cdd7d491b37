/*
 * protocol: the rostrum.v1 wire contract as a C library, shared by the
 * server and every C client (CLI, bench).
 *
 * Owns: the enums and name tables built from proto_tables.h, the limits,
 * decoding and validation of client commands (one JSON object per frame),
 * encoding of the small server replies, and JWT HS256 (jwt.c).
 *
 * Never does I/O, never reads the clock (time is an argument), never logs.
 */
#ifndef ROSTRUM_PROTO_H
#define ROSTRUM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_tables.h"

/* ---- limits (contract section 2 and 3) ---- */
#define PROTO_MAX_FRAME_DEFAULT (16 * 1024) /* bytes, configurable */
#define PROTO_MAX_TEXT_CHARS 2000           /* Unicode code points */
/* A written statement or the conclusions (contract 9.4, 9.5), and the
 * frames that carry them (deposit_statement, publish_conclusions only:
 * every other frame keeps the configured maximum). */
#define PROTO_MAX_STATEMENT_CHARS 20000
#define PROTO_MAX_STATEMENT_FRAME (64 * 1024)
#define PROTO_MAX_NAME_CHARS 80
#define PROTO_MAX_ID_CHARS 64               /* command correlation id */
#define PROTO_MAX_SUB 64
#define PROTO_MAX_ROOM_ID 64
#define PROTO_MAX_TITLE_CHARS 200
#define PROTO_MAX_AGENDA_ITEMS 50
#define PROTO_MAX_ITEM_ID 32
#define PROTO_MAX_LANG 16
#define PROTO_MAX_DELEGATION_CHARS 80
#define PROTO_MAX_EPOCH 32
#define PROTO_MAX_REQUEST_ID 32
#define PROTO_BAD_FRAMES_BEFORE_CLOSE 10
#define PROTO_JOIN_TIMEOUT_MS 10000
#define PROTO_RATE_PER_S 20
#define PROTO_RATE_BURST 40
#define PROTO_JWT_LEEWAY_S 30
#define PROTO_RECENT_EVENTS 50 /* events in a welcome that did not resume */
#define PROTO_MAX_JTI 64                  /* token id and key id: [A-Za-z0-9._-] */
#define PROTO_MAX_KEYS 32                 /* keys in one secret file */
#define PROTO_MIN_SECRET 16               /* bytes of one HS256 secret */
#define PROTO_MAX_SECRET 1024
#define PROTO_MAX_REGION_CHARS 40           /* region claim (contract 9.3) */
#define PROTO_MAX_TIME_ZONE 64              /* IANA zone name, bytes */
#define PROTO_MAX_PLANNED_S 86400           /* agenda item planned_s */
#define PROTO_MAX_CHANGEOVER_S 600          /* settings.changeover_s */

/* Byte sizes of buffers holding the strings above, UTF-8, NUL included. */
#define PROTO_SUB_BUF (PROTO_MAX_SUB + 1)
#define PROTO_NAME_BUF (PROTO_MAX_NAME_CHARS * 4 + 1)
#define PROTO_ROOM_BUF (PROTO_MAX_ROOM_ID + 1)
#define PROTO_ID_BUF (PROTO_MAX_ID_CHARS * 4 + 1)
#define PROTO_JTI_BUF (PROTO_MAX_JTI + 1)
#define PROTO_REGION_BUF (PROTO_MAX_REGION_CHARS * 4 + 1)

/* ---- enums from the tables ---- */
#define PROTO__ENUM2(E, s) PROTO_CMD_##E,
enum proto_cmd_type { PROTO_COMMANDS(PROTO__ENUM2) PROTO_CMD__COUNT };
#undef PROTO__ENUM2

/* PROTO_OK is 0 so that "if (err)" reads naturally. */
#define PROTO__ENUM3(E, s, t) PROTO_ERR_##E,
enum proto_err { PROTO_OK = 0, PROTO_ERRORS(PROTO__ENUM3) PROTO_ERR__COUNT };
#undef PROTO__ENUM3

#define PROTO__ENUM3(E, s, p) PROTO_EV_##E,
enum proto_event { PROTO_EVENTS(PROTO__ENUM3) PROTO_EV__COUNT };
#undef PROTO__ENUM3

#define PROTO__ENUM3(E, c, r) PROTO_CLOSE_##E = c,
enum proto_close { PROTO_CLOSES(PROTO__ENUM3) };
#undef PROTO__ENUM3

#define PROTO__ENUM2(E, s) PROTO_ROLE_##E,
enum proto_role { PROTO_ROLES(PROTO__ENUM2) PROTO_ROLE__COUNT };
#undef PROTO__ENUM2
#define PROTO__ENUM2(E, s) PROTO_KIND_##E,
enum proto_kind { PROTO_KINDS(PROTO__ENUM2) PROTO_KIND__COUNT };
#undef PROTO__ENUM2
/* PROTO_CAT_NONE (no category claimed) ranks after every named one. */
#define PROTO__ENUM2(E, s) PROTO_CAT_##E,
enum proto_category { PROTO_CATEGORIES(PROTO__ENUM2) PROTO_CAT_NONE, PROTO_CAT__COUNT };
#undef PROTO__ENUM2
#define PROTO__ENUM2(E, s) PROTO_STATUS_##E,
enum proto_status { PROTO_STATUSES(PROTO__ENUM2) PROTO_STATUS__COUNT };
#undef PROTO__ENUM2
#define PROTO__ENUM2(E, s) PROTO_END_##E,
enum proto_end_reason { PROTO_END_REASONS(PROTO__ENUM2) PROTO_END__COUNT };
#undef PROTO__ENUM2
#define PROTO__ENUM2(E, s) PROTO_TIMEUP_##E,
enum proto_on_time_up { PROTO_ON_TIME_UP(PROTO__ENUM2) PROTO_TIMEUP__COUNT };
#undef PROTO__ENUM2
#define PROTO__ENUM2(E, s) PROTO_CHAT_##E,
enum proto_chat { PROTO_CHAT_RULES(PROTO__ENUM2) PROTO_CHAT__COUNT };
#undef PROTO__ENUM2
#define PROTO__ENUM2(E, s) PROTO_ORDER_##E,
enum proto_queue_order { PROTO_QUEUE_ORDERS(PROTO__ENUM2) PROTO_ORDER__COUNT };
#undef PROTO__ENUM2

/* ---- names <-> enums ----
 * *_name() returns a static string ("" for out of range values; category
 * NONE gives NULL, which encodes as JSON null).
 * *_parse() returns the enum value, or -1 for an unknown or NULL name. */
const char *proto_cmd_name(enum proto_cmd_type t);
int proto_cmd_parse(const char *s);
const char *proto_err_code(enum proto_err e);  /* "bad_request" */
const char *proto_err_text(enum proto_err e);  /* "the command is malformed" */
const char *proto_event_name(enum proto_event e);
int proto_event_parse(const char *s);
unsigned proto_event_parts(enum proto_event e); /* PROTO_PART_* mask */
const char *proto_close_reason(int code);
const char *proto_role_name(enum proto_role r);
int proto_role_parse(const char *s);
const char *proto_kind_name(enum proto_kind k);
int proto_kind_parse(const char *s);
const char *proto_category_name(enum proto_category c);
int proto_category_parse(const char *s);
const char *proto_status_name(enum proto_status s);
int proto_status_parse(const char *s);
const char *proto_end_reason_name(enum proto_end_reason r);
int proto_end_reason_parse(const char *s);
const char *proto_on_time_up_name(enum proto_on_time_up v);
int proto_on_time_up_parse(const char *s);
const char *proto_chat_name(enum proto_chat v);
int proto_chat_parse(const char *s);
const char *proto_queue_order_name(enum proto_queue_order v);
int proto_queue_order_parse(const char *s);

/* ---- string rules ---- */
/* Number of Unicode code points in valid UTF-8 s[0..len), or -1 when s is
 * not valid UTF-8 (overlongs, surrogates and > U+10FFFF are invalid). */
long proto_utf8_chars(const char *s, size_t len);
/* sub: [A-Za-z0-9._:@-]{1,64} */
bool proto_valid_sub(const char *s);
/* token id (jti) and key id (kid): [A-Za-z0-9._-]{1,64} */
bool proto_valid_jti(const char *s);
/* room id: [a-z0-9][a-z0-9-]{0,63} */
bool proto_valid_room_id(const char *s);
/* agenda item id and request id: [A-Za-z0-9._-]{1,32} */
bool proto_valid_item_id(const char *s);
/* a display name: valid UTF-8, 1..80 code points, no control characters */
bool proto_valid_name(const char *s);
/* a region (contract 9.3): valid UTF-8, 1..40 code points, no control
 * characters */
bool proto_valid_region(const char *s);
/* the shape of an IANA time zone name ("America/New_York", "UTC",
 * "Etc/GMT+5"): 1..64 bytes of [A-Za-z0-9/_+-], no empty, "." or ".."
 * component, not starting with '/'. Whether the zone exists is for the
 * caller to check against the zone database (this library does no I/O). */
bool proto_valid_time_zone_name(const char *s);

/* ---- commands ---- */

/* One decoded, validated client command. Strings are owned by the struct
 * (fixed buffers, or malloc'd where noted) and released by
 * proto_cmd_clear(). Fields not used by the command are zero/empty. */
struct proto_cmd {
    enum proto_cmd_type type;
    char id[PROTO_ID_BUF];    /* correlation id, "" when absent */
    bool has_id;
    bool has_if_seq;
    uint64_t if_seq;

    /* join */
    char *token;              /* malloc'd */
    bool has_since;
    uint64_t since;
    char epoch[PROTO_MAX_EPOCH + 1];
    bool has_epoch;
    bool deltas;              /* the delta form of events (section 10) */

    /* request_floor */
    enum proto_kind kind;     /* default SPEECH */
    char lang[PROTO_MAX_LANG + 1]; /* "" when absent */

    /* withdraw, grant, move, remove_request, deposit_statement,
     * get_statement, accept_written (lang: deposit_statement too) */
    char request_id[PROTO_MAX_REQUEST_ID + 1];
    bool has_request_id;
    /* grant, mute, unmute, remove, set_role */
    char sub[PROTO_SUB_BUF];
    bool has_sub;
    /* say, announce: malloc'd, valid UTF-8, 1..2000 code points;
     * deposit_statement: 1..20000 code points, any line breaks */
    char *text;
    /* extend: 1..3600 */
    int seconds;
    /* move: 0-based, clamped by the room; negative is bad_request */
    long to;
    /* set_role: DELEGATE or OBSERVER only */
    enum proto_role role;
    /* set_agenda_item */
    char item[PROTO_MAX_ITEM_ID + 1];
    /* set_status */
    enum proto_status status;
    /* update_settings: the raw "settings" object (a new jansson reference,
     * type json_t *; void * so that this header needs no jansson include).
     * Its values are validated by the room (room_settings_patch). */
    void *settings;
    /* set_schedule: the raw "schedule" value, an object or JSON null (to
     * remove the schedule); set_agenda: the raw "agenda" array. New jansson
     * references (json_t *), validated by the room. */
    void *schedule;
    void *agenda;
};

/* Decodes one text frame. On success fills *out and returns PROTO_OK. On
 * failure returns PROTO_ERR_BAD_REQUEST or PROTO_ERR_UNKNOWN_TYPE (or
 * TOO_LARGE for an over-long text), writes a human message into
 * msg[0..msgsz) and, when the frame had a usable "id", copies it into
 * out->id so that the error reply can carry it, and out->type when the
 * type was read (the arguments were wrong; PROTO_CMD_JOIN, 0, otherwise),
 * so that permission can be checked before arguments. Never reads past len.
 * Always call proto_cmd_clear(out) afterwards, on success and failure. */
enum proto_err proto_cmd_decode(const char *buf, size_t len, struct proto_cmd *out,
                                char *msg, size_t msgsz);
void proto_cmd_clear(struct proto_cmd *c);
/* True for the commands whose frames may be up to
 * PROTO_MAX_STATEMENT_FRAME bytes (they carry a statement or conclusions)
 * whatever the configured maximum of other frames. */
bool proto_cmd_big_frame(enum proto_cmd_type t);

/* ---- small replies ----
 * Each returns a new NUL-terminated JSON string (malloc'd; free()) and
 * stores its length in *len when len is not NULL; NULL on allocation
 * failure. id may be NULL or "" (then the reply carries no "id"). */
char *proto_encode_ack(const char *id, uint64_t seq, size_t *len);
char *proto_encode_error(const char *id, enum proto_err e, const char *message, size_t *len);
char *proto_encode_pong(int64_t ts_ms, size_t *len);

/* ---- JWT HS256 (jwt.c) ---- */
struct proto_claims {
    char sub[PROTO_SUB_BUF];
    char name[PROTO_NAME_BUF];
    char room[PROTO_ROOM_BUF];
    enum proto_role role;
    int64_t exp;              /* Unix seconds */
    int64_t iat;              /* 0 when absent */
    char delegation[PROTO_NAME_BUF]; /* "" when absent */
    enum proto_category category;    /* PROTO_CAT_NONE when absent */
    char jti[PROTO_JTI_BUF];         /* token id, "" when absent (revocation) */
    char kid[PROTO_JTI_BUF];         /* header kid: verified with / mint with; "" none */
    char region[PROTO_REGION_BUF];   /* "" when absent (contract 9.3) */
};

/* Verifies token with key[0..keylen) at time now_s. Returns PROTO_OK and
 * fills *out, or PROTO_ERR_UNAUTHORIZED with a short reason in *why (a
 * static string; never contains the token). Rejects every alg but HS256,
 * a bad signature (constant-time compare), exp + 30 s < now, any missing
 * or invalid required claim (sub, name, room, role, exp) and invalid
 * optional ones. */
enum proto_err proto_jwt_verify(const void *key, size_t keylen, const char *token,
                                int64_t now_s, struct proto_claims *out, const char **why);

/* Mints a token for claims (exp taken from c->exp, iat from c->iat when
 * non-zero, jti when not "", and a header kid when c->kid is not "").
 * Returns a new string (free()), or NULL on failure. */
char *proto_jwt_mint(const void *key, size_t keylen, const struct proto_claims *c);

/* ---- several token keys (keyring.c, contract section 11) ----
 * A secret file holds either one secret (one line without blanks: the
 * original form) or lines "KID SECRET": tokens are minted with the first,
 * a token whose header has kid is checked against that key only, and one
 * without kid against the first. Blank lines and lines starting with '#'
 * are ignored. */
struct proto_key {
    char kid[PROTO_JTI_BUF]; /* "" for the one-secret form */
    char *secret;            /* owned, NUL-terminated */
    size_t len;
};
struct proto_keyring {
    size_t n; /* >= 1 */
    struct proto_key *keys;
};
/* Parses a secret file's text[0..len). Returns a new keyring
 * (proto_keyring_free()) or NULL with the reason in why[0..whysz) (names a
 * line number, never a secret). */
struct proto_keyring *proto_keyring_parse(const char *text, size_t len, char *why, size_t whysz);
/* A keyring of one secret without kid (from the environment, generated). */
struct proto_keyring *proto_keyring_single(const char *secret, size_t len);
/* Wipes and frees. NULL is a no-op. */
void proto_keyring_free(struct proto_keyring *r);
/* The key for kid ("" or NULL: the first); NULL when no key has that kid.
 * Borrowed from r. */
const struct proto_key *proto_keyring_find(const struct proto_keyring *r, const char *kid);
/* proto_jwt_verify with the key the token's header names (see above);
 * out->kid tells which. An unknown kid is refused ("unknown kid"). */
enum proto_err proto_jwt_verify_ring(const struct proto_keyring *r, const char *token,
                                     int64_t now_s, struct proto_claims *out, const char **why);
/* proto_jwt_mint with the first key (and its kid in the header). */
char *proto_jwt_mint_ring(const struct proto_keyring *r, const struct proto_claims *c);

/* base64url without padding. Returns a new string (free()). */
char *proto_b64url_encode(const void *data, size_t len);
/* Decodes base64url (padding optional) into a new buffer (free()), length in
 * *outlen; NULL for invalid input. */
void *proto_b64url_decode(const char *s, size_t len, size_t *outlen);

#endif
