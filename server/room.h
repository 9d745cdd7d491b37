/*
 * room: the pure logic of one meeting room.
 *
 * A room is a small state (status, settings, agenda, speakers queue, floor,
 * mutes, removals, role changes, speaking statistics) plus a sequence
 * number. Every change goes through two functions:
 *
 *   room_decide(state, actor, command, now_ms) -> error, or events
 *   room_apply(state, event)                   -> next state
 *
 * decide never changes the state; apply is the only writer. Replaying every
 * committed event with room_apply() on the room's initial state gives the
 * same state again (the journal, Redis and the tests rely on it).
 *
 * PURE: no I/O, no clock reads (time is an argument), no libwebsockets, no
 * hiredis, no globals. Allocation only for what it hands back.
 *
 * The participant directory (who has been seen: name, delegation, category,
 * token role) is not sequenced: the hub records it with
 * room_participant_seen() when someone joins. It is part of the stored
 * state so that a restart keeps it, but the replay check compares only the
 * sequenced state (room_state_json(..., false)).
 */
#ifndef ROSTRUM_ROOM_H
#define ROSTRUM_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chain.h"
#include "proto.h"
#include "revoke.h"

struct room_settings {
    int speech_s;            /* 1..7200, default 180 */
    int reply_s;             /* 1..7200, default 60 */
    int point_of_order_s;    /* 1..7200, default 60 */
    enum proto_on_time_up on_time_up; /* default NOTIFY */
    enum proto_chat chat;    /* default OPEN */
    bool list_open;          /* default true */
    enum proto_queue_order queue_order; /* default REQUEST */
    int replies_per_item;    /* 0..100, default 2 */
    bool pause_on_disconnect; /* default true */
    int changeover_s;        /* 0..600, default 15 (contract 9.1; projection only) */
};

/* The meeting's slot (contract 9.1). */
struct room_schedule {
    bool set;                          /* false = no schedule (JSON null) */
    int64_t starts_at, ends_at;        /* ms, starts_at < ends_at */
    char time_zone[PROTO_MAX_TIME_ZONE + 1]; /* IANA name, checked on input */
};

struct room_agenda_item {
    char id[PROTO_MAX_ITEM_ID + 1];
    char *title; /* owned */
    int planned_s;  /* 0 = none (absent), else 1..86400 */
    bool reserved;  /* a segment the list must not eat into */
};

struct room_request {
    char id[PROTO_MAX_REQUEST_ID + 1]; /* "r1", "r2", ... never reused in a room */
    char sub[PROTO_SUB_BUF];
    char name[PROTO_NAME_BUF];
    char delegation[PROTO_NAME_BUF];   /* "" = none (JSON null) */
    enum proto_category category;
    enum proto_kind kind;
    char lang[PROTO_MAX_LANG + 1];     /* "" = none (JSON null) */
    char region[PROTO_REGION_BUF];     /* "" = none (JSON null) */
    int64_t at;                        /* ms */
    /* The written statement's summary (contract 9.4), on the wire as
     * "statement":{"chars","lang"}; 0 chars = none (the member is left
     * out). The text itself is in room.statements, never in the queue. */
    int statement_chars;
    char statement_lang[PROTO_MAX_LANG + 1]; /* "" = none (null) */
};

struct room_floor {
    bool active;                       /* false = no floor (JSON null) */
    char sub[PROTO_SUB_BUF];
    char name[PROTO_NAME_BUF];
    char delegation[PROTO_NAME_BUF];
    enum proto_category category;
    char region[PROTO_REGION_BUF];     /* "" = none (JSON null) */
    enum proto_kind kind;
    char request_id[PROTO_MAX_REQUEST_ID + 1]; /* "" = granted directly (null) */
    int limit_s;
    int64_t started_at;                /* ms of the last (re)start */
    int64_t elapsed_ms;                /* spoken before started_at */
    bool paused;
    bool time_up;
};

/* A participant as the room knows it (the directory and the sequenced
 * per-person facts). */
struct room_member {
    char sub[PROTO_SUB_BUF];
    char name[PROTO_NAME_BUF];
    char delegation[PROTO_NAME_BUF];
    enum proto_category category;
    char region[PROTO_REGION_BUF]; /* "" = none */
    enum proto_role token_role;   /* role of the token last seen */
    bool seen;                    /* joined at least once as moderator/delegate */
    /* sequenced: */
    bool has_role_override;       /* set_role made it delegate/observer */
    enum proto_role role_override;
    bool muted;
    bool removed;
    int turns;                    /* floors held (ended) */
    int64_t spoken_ms;
    /* replies requested on the current agenda item (reset when it changes) */
    int replies_used;
    /* Attendance (contract 9.5), from what the servers saw: not sequenced,
     * kept with the directory record. 0 = never / null. last_left_at is 0
     * while connected (first_joined_at set). */
    int64_t first_joined_at, last_left_at;
};

/* A written statement's text, shared (by reference count) between a room
 * and its clones: a plenary's statements are not copied per commit. */
struct room_text {
    unsigned refs;
    size_t len;    /* bytes */
    char s[];      /* NUL-terminated UTF-8 */
};

/* A written statement (contract 9.4). Under embargo until published: it is
 * in no JSON form of the room (snapshot, stored state, events) and is read
 * only through room_statement_read(). */
struct room_statement {
    char request_id[PROTO_MAX_REQUEST_ID + 1];
    char sub[PROTO_SUB_BUF];           /* the requester */
    char lang[PROTO_MAX_LANG + 1];     /* "" = none */
    struct room_text *text;            /* shared; see room_text */
    bool published;                    /* statement_published was applied */
};

struct room {
    char id[PROTO_ROOM_BUF];
    char *title;                  /* owned */
    char epoch[PROTO_MAX_EPOCH + 1];
    int64_t created_at;           /* ms */
    enum proto_status status;
    struct room_agenda_item *agenda;
    size_t agenda_len;
    char agenda_item[PROTO_MAX_ITEM_ID + 1]; /* "" = none (null) */
    /* ts of the event that made agenda_item current (contract 9.1); for a
     * room created open, its created_at. Meaningful only with
     * has_item_started (false = JSON null). */
    int64_t item_started_at;
    bool has_item_started;
    struct room_schedule schedule;
    struct room_settings settings;
    struct room_request *queue;   /* in order, owned */
    size_t queue_len, queue_cap;
    struct room_floor floor;
    struct room_member *members;  /* owned; order of first appearance */
    size_t members_len, members_cap;
    uint64_t next_request;        /* number of the next request id */
    uint64_t seq;                 /* seq of the last applied event */
    /* The chain hash (section 9.6) of event seq (h_0 at seq 0), kept by
     * whoever applies events (the hub, from what the backend delivers);
     * "" when not known. Not part of any JSON form; room_apply() leaves
     * it alone. publish_conclusions quotes it as record_hash. */
    char chain_head[CHAIN_HEX_BUF];
    /* The epoch whose history was lost when the room started again under
     * this one (section 6; "" = none). Set by the backend that knows it,
     * not part of any JSON form: the record says the chain restarted. */
    char previous_epoch[PROTO_MAX_EPOCH + 1];
    struct revoke_list revoked;   /* token ids refused (token_revoked events) */
    /* Written statements by request id: texts the stores keep apart from
     * the log (journal records, a Redis hash) and hand over with
     * room_statement_put(); published ones also come from their event. */
    struct room_statement *statements;
    size_t statements_len, statements_cap;
    /* The most observers connected at once on all nodes, and when (contract
     * 9.5); kept by the hub, stored apart from the log. */
    long observers_peak;
    int64_t observers_peak_at;
};

/* Who acts: the connection's token claims. The room applies set_role
 * overrides and removals itself. */
struct room_actor {
    char sub[PROTO_SUB_BUF];
    char name[PROTO_NAME_BUF];
    char delegation[PROTO_NAME_BUF];
    enum proto_category category;
    char region[PROTO_REGION_BUF]; /* "" = none */
    enum proto_role role;         /* from the token */
};

/* One event, as decided and as committed. */
struct room_event {
    uint64_t seq;                 /* 0 until the hub stamps it */
    int64_t ts;                   /* ms */
    enum proto_event name;
    char actor[PROTO_SUB_BUF];    /* "" = null (the clock, a disconnect) */
    json_t *data;                 /* owned reference: the event's "data" */
};

#define ROOM_MAX_EVENTS 4 /* events one decision may produce */

struct room_events {
    struct room_event ev[ROOM_MAX_EVENTS];
    size_t n;
    /* deposit_statement: the text the commit must store beside the events
     * (never in them). stmt_text borrows the command's text. */
    const char *stmt_text;
    char stmt_request[PROTO_MAX_REQUEST_ID + 1];
    char stmt_sub[PROTO_SUB_BUF];
    char stmt_lang[PROTO_MAX_LANG + 1];
    /* Requests whose statements these events publish or discard: a store
     * that keeps texts apart may forget them (published ones are then in
     * their event). */
    char stmt_drop[ROOM_MAX_EVENTS][PROTO_MAX_REQUEST_ID + 1];
    size_t stmt_ndrop;
};

/* ---- life cycle ---- */

/* Default settings. */
void room_settings_default(struct room_settings *s);

/* Builds a new room from an admin API body {"id","title","agenda","settings",
 * "schedule","status"} (settings: any subset, the rest default; status
 * "open" (default) or "scheduled"). Returns a new room (free with
 * room_destroy()) or NULL with a human reason in errbuf that names the
 * field. epoch is copied. Only the shape of the schedule's time zone is
 * checked here (pure); the caller checks that the zone exists (tzdb.h). */
struct room *room_create(const json_t *spec, const char *epoch, int64_t now_ms,
                         char *errbuf, size_t errsz);
void room_destroy(struct room *r); /* NULL is a no-op */
/* A deep copy (free with room_destroy()), NULL on allocation failure. */
struct room *room_clone(const struct room *r);

/* Applies a settings patch (any subset of the settings object) onto *s.
 * Returns true, or false with a human reason in errbuf and *s unchanged
 * for an unknown key or invalid value. Used by room_create and
 * update_settings. */
bool room_settings_patch(struct room_settings *s, const json_t *patch, char *errbuf,
                         size_t errsz);

/* Reads a schedule ({"starts_at","ends_at","time_zone"} or null) into *out.
 * Returns true, or false with a reason naming the field in errbuf. Only the
 * shape of the zone name is checked (this module does no I/O): the hub
 * checks new schedules against the zone database (tzdb.h) once room_decide
 * or room_create accepted them, and the log replays without it, so that a
 * node whose database lacks a zone still applies what was committed. */
bool room_schedule_parse(const json_t *j, struct room_schedule *out, char *errbuf,
                         size_t errsz);
/* The JSON form of a schedule (null when !s->set). New reference. */
json_t *room_schedule_json(const struct room_schedule *s);

/* ---- decide and apply ---- */

/* Whether a's role lets it send a command of this type at all (removed
 * people and too low a role get PROTO_ERR_FORBIDDEN with a reason in
 * errbuf). Checked before the arguments: a command the role may not send
 * is forbidden whatever its arguments (contract section 5). */
enum proto_err room_may_send(const struct room *r, const struct room_actor *a,
                             enum proto_cmd_type type, char *errbuf, size_t errsz);

/* Decides a client command. Returns PROTO_OK with the events to commit in
 * *out (out->n may be 0, e.g. for ping), or an error code with a human
 * reason in errbuf and out->n == 0. Checks, in this order: room closed
 * (room_closed; ping always allowed), if_seq (stale), role (forbidden),
 * suspended (room_not_open for non-moderators), then the command's own rules.
 * Events are stamped with ts = now_ms and seq 0; the caller owns
 * out's data references (room_events_clear()). */
enum proto_err room_decide(const struct room *r, const struct room_actor *a,
                           const struct proto_cmd *c, int64_t now_ms,
                           struct room_events *out, char *errbuf, size_t errsz);

/* Chat lines commute (issue 10): a say or announce decided on a room at
 * seq S decides the same way after any events that change nothing it
 * reads, so several nodes' chat lines need not be ordered against each
 * other, only against the events below. What a chat line reads:
 *   ROOM_CHAT_RULES  the status, the chat rule, mutes, removals, role
 *                    changes and revocations
 *   ROOM_CHAT_FLOOR  who holds the floor (chat "floor", non-moderators)
 * room_event_chat_changes() is which of those an event changes (a
 * message, a queue change, a timer, the agenda: none);
 * room_chat_reads() is which of those a chat line by a decided on r reads
 * (ROOM_CHAT_RULES always). test_room_random checks the promise: a chat
 * line decided before and after an event it does not read decides alike. */
#define ROOM_CHAT_RULES 1u
#define ROOM_CHAT_FLOOR 2u
unsigned room_event_chat_changes(enum proto_event name);
unsigned room_chat_reads(const struct room *r, const struct room_actor *a);

/* The floor clock. Returns the absolute ms at which room_decide_clock()
 * will produce an event (time up, or the end with reason time), or -1 when
 * nothing is due (no floor, paused, or time_up already emitted with
 * on_time_up notify). */
int64_t room_deadline(const struct room *r);
/* Decides what the clock does at now_ms: time_up (notify) or floor_ended
 * reason time (end), actor null; out->n == 0 when nothing is due yet. */
void room_decide_clock(const struct room *r, int64_t now_ms, struct room_events *out);

/* Decides what happens when participant sub's last connection drops: with
 * pause_on_disconnect and sub holding a running floor, timer_paused (actor
 * null). */
/* The admin's revocation of token id jti until until_s (Unix seconds):
 * one token_revoked event with actor "admin", in any status (a closed
 * room's tokens still read it). Returns -1 and no event when REVOKE_MAX
 * revocations are in force and jti is not one of them, else 0. */
int room_decide_revoke(const struct room *r, const char *jti, int64_t until_s, int64_t now_ms,
                       struct room_events *out);
/* True when a token with this jti ("": none) is revoked in r at now_ms. */
bool room_is_revoked(const struct room *r, const char *jti, int64_t now_ms);
void room_decide_disconnect(const struct room *r, const char *sub, int64_t now_ms,
                            struct room_events *out);

/* Applies one committed event. ev->seq must be r->seq + 1. Returns 0, or -1
 * (state unchanged) for an event that does not fit the state (wrong seq,
 * bad data). */
int room_apply(struct room *r, const struct room_event *ev);

void room_events_clear(struct room_events *out);

/* ---- participants ---- */

/* Records that a participant joined (moderator or delegate: listed;
 * observers are only remembered for their name). Returns true when the
 * directory changed. */
bool room_participant_seen(struct room *r, const struct room_actor *a);
/* The directory record of a participant as stored by the backends:
 * {"sub","name","role","category","delegation"} (role: the token's). New
 * reference, NULL on allocation failure. */
json_t *room_actor_json(const struct room_actor *a);
/* room_participant_seen() for a stored record (room_actor_json()). A
 * record with "first_joined_at" also carries attendance (contract 9.5):
 * the earliest first join is kept, and its "last_left_at" (null while
 * connected) replaces the member's. Returns 0, or -1 (nothing recorded)
 * for an invalid record. */
int room_participant_seen_json(struct room *r, const json_t *record);
/* A member's directory record with its attendance (contract 9.5): what
 * room_actor_json() gives plus "region", "first_joined_at" and
 * "last_left_at" (null while connected). New reference or NULL. */
json_t *room_member_record(const struct room_member *m);
/* Member by sub, or NULL. */
const struct room_member *room_member_find(const struct room *r, const char *sub);
/* The role that counts for a: the set_role override, else the token's. */
enum proto_role room_effective_role(const struct room *r, const struct room_actor *a);
/* True when sub was removed from the room. */
bool room_is_removed(const struct room *r, const char *sub);

/* ---- written statements (contract 9.4) ---- */

/* Keeps the text of request_id's statement (deposited by sub, in lang or
 * "" for none), replacing an earlier one. A store calls it for what it
 * kept apart (journal record, Redis hash, a node's message). Returns 0, or
 * -1 for invalid arguments (request id, sub, lang, text of 1..20,000
 * characters of valid UTF-8) or out of memory; the room is then
 * unchanged. */
int room_statement_put(struct room *r, const char *request_id, const char *sub, const char *lang,
                       const char *text);
/* The statement of request_id, or NULL. */
const struct room_statement *room_statement_find(const struct room *r, const char *request_id);
/* get_statement: the statement of c->request_id for actor a, who must be
 * a moderator, an interpreter or the requester (forbidden otherwise, even
 * for an unknown request: observers learn nothing from the answer).
 * PROTO_OK with *out set, or an error with a reason in errbuf (not_found:
 * no statement for that request). Reading is allowed in a suspended or
 * closed room. */
enum proto_err room_statement_read(const struct room *r, const struct room_actor *a,
                                   const struct proto_cmd *c, const struct room_statement **out,
                                   char *errbuf, size_t errsz);
/* The direct reply to get_statement: {"type":"statement","id","request_id",
 * "lang","text"} (id omitted when empty). New string (free()) or NULL. */
char *room_statement_reply(const struct room_statement *st, const char *id, size_t *len);
/* What a store keeps for a statement: {"text","lang","sub"}. New reference. */
json_t *room_statement_json(const char *text, const char *lang, const char *sub);

/* ---- JSON (wire and storage) ---- */

/* The wire snapshot (contract section 3 "Room snapshot"); new reference. */
json_t *room_snapshot_json(const struct room *r);
/* One snapshot part, by PROTO_PART_* bit; new reference. */
json_t *room_part_json(const struct room *r, unsigned part);
/* The wire form of a participant ("online" false, "connections" 0: the hub
 * fills in presence). New reference. */
json_t *room_member_json(const struct room *r, const struct room_member *m);

/* The whole state for storage. With directory false, only the sequenced
 * state (what replaying events must reproduce). New reference. */
json_t *room_state_json(const struct room *r, bool directory);
/* Rebuilds a room from room_state_json(r, true). Returns a new room or NULL
 * with a reason in errbuf. */
struct room *room_state_from_json(const json_t *j, char *errbuf, size_t errsz);

/* The full wire event {"type":"event","seq","ts","name","actor","data",
 * "state"}, where state holds the parts the event changed as they are in
 * `after` (the room with the event applied). New reference. */
json_t *room_event_json(const struct room *after, const struct room_event *ev);
/* Reads back a wire event (journal, Redis, history). Fills *ev (data is a
 * new reference; room_event_clear()). Returns 0 or -1 for invalid input. */
int room_event_from_json(const json_t *j, struct room_event *ev);
void room_event_clear(struct room_event *ev);

/* How room_apply_text() went. */
enum room_apply_result {
    ROOM_TEXT_APPLIED,
    ROOM_TEXT_UNREADABLE, /* not JSON, or not an event */
    ROOM_TEXT_REFUSED,    /* an event, but not the next one of r or bad data */
};
/* The one way a committed event's wire text (as stored, published and
 * sent) becomes room state: every replay (journal, Redis), the hub's
 * delivery of events it did not decide itself, and the record go through
 * here. Parses text[0..len), reads it as an event, calls before(arg, r,
 * &ev) when given (to look at the room as it was), then room_apply()
 * (which checks the seq: r unchanged on failure). With ev, the event read
 * is handed over whenever it was read (APPLIED or REFUSED;
 * room_event_clear()), and with j its JSON (new reference), on
 * ROOM_TEXT_APPLIED only. */
/* room_apply_text() for an event its caller parsed already (borrowed):
 * the same, without the parse. */
enum room_apply_result room_apply_json(struct room *r, const json_t *event,
                                       void (*before)(void *arg, const struct room *r,
                                                      const struct room_event *ev),
                                       void *arg, struct room_event *ev);
enum room_apply_result room_apply_text(struct room *r, const char *text, size_t len,
                               void (*before)(void *arg, const struct room *r,
                                              const struct room_event *ev),
                               void *arg, struct room_event *ev, json_t **j);

#endif
