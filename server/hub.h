/*
 * hub: this node's rooms. For each room: the local replica of its state,
 * the local connections, the queue of commands waiting for their turn (one
 * commit in flight per room), ordered delivery of committed events (each
 * event encoded once, the same frame queued on every connection), acks
 * after their events, presence (local connections and those of other
 * nodes), and the floor clock (checked on every tick).
 *
 * Commands reach the hub from sessions; the hub asks the pure room logic
 * (room_decide), commits through the backend, and applies what the backend
 * delivers. Nothing else writes room state.
 */
#ifndef ROSTRUM_HUB_H
#define ROSTRUM_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"

struct backend;
struct config;
struct hub;
struct session;

/* Creates the hub on backend b (memory or Redis, made by main): the hub
 * becomes b's sink and takes every room b loads. Returns NULL with a
 * message logged. cfg and b are borrowed for the hub's life (b is
 * destroyed after the hub). */
struct hub *hub_create(const struct config *cfg, struct backend *b);
void hub_destroy(struct hub *h); /* NULL is a no-op */

/* Session life cycle (called by session.c). */
void hub_session_opened(struct hub *h, struct session *s);
void hub_session_closed(struct hub *h, struct session *s);
/* cmd is borrowed for the call (copied when it must wait). */
/* A join whose token the session verified (s->actor, jti and token_exp
 * are set from its claims) for room: welcomes s, or refuses it (error,
 * then close). */
void hub_join(struct hub *h, struct session *s, const char *room, const struct proto_cmd *cmd);
void hub_command(struct hub *h, struct session *s, const struct proto_cmd *cmd);
/* A joined moderator's command that the session refused itself (malformed,
 * too large, rate limited): into the audit log like the hub's refusals. */
void hub_audit_refusal(struct session *s, enum proto_cmd_type t, enum proto_err e);
/* Whether joined session s may send commands of this type at all, on the
 * room as this node has it now (room_may_send): PROTO_OK or
 * PROTO_ERR_FORBIDDEN with a reason in msg. For frames whose arguments are
 * bad: permission is checked first. */
enum proto_err hub_may_send(struct hub *h, const struct session *s, enum proto_cmd_type type,
                            char *msg, size_t msgsz);

/* Timers: join timeouts, floor clocks, observer counts, the backend's.
 * Call every 100 ms. */
void hub_tick(struct hub *h, int64_t now_ms);
/* Marks every connection for closing with 1001 (drain). Returns the
 * number of connections marked. */
size_t hub_drain(struct hub *h);
/* 1 while the backend is reachable. */
int hub_backend_up(struct hub *h);

/* ---- for the admin API ----
 * Results come through callbacks, called before return or later. JSON
 * passed to callbacks is borrowed for the call. */

/* Creates a room from an API body: status 201 (out: snapshot), 400 (msg
 * says why), 409 or 503. */
void hub_room_create(struct hub *h, const json_t *spec,
                     void (*cb)(void *arg, int status, const json_t *out, const char *msg), void *arg);
/* Makes sure this node holds room id (opening it from the backend): cb
 * gets true when the room exists. Until the next return to the event loop,
 * hub_room_get/hub_room_transcript/hub_room_mint_ok may then be used. */
void hub_room_ensure(struct hub *h, const char *id, void (*cb)(void *arg, bool found), void *arg);
/* [{"id","title","status","participants","observers"}] of every room. */
void hub_rooms_list(struct hub *h, void (*cb)(void *arg, int status, const json_t *list), void *arg);
/* The snapshot with participants, observers, seq and epoch (new
 * reference); NULL when this node does not hold the room. */
json_t *hub_room_get(struct hub *h, const char *id);
/* Closes the room (status_changed closed): status 200, 404 or 503. */
void hub_room_close(struct hub *h, const char *id, void (*cb)(void *arg, int status), void *arg);
/* Revokes token id jti in room id until until_s (a token_revoked event:
 * every node refuses the token and closes its connections with 4401).
 * cb: 200, 404, 503 (backend unavailable) or 500. */
void hub_room_revoke(struct hub *h, const char *id, const char *jti, int64_t until_s,
                     void (*cb)(void *arg, int status), void *arg);
/* The latest exp (Unix seconds) of the tokens with this jti that this
 * node's connections in the room joined with; 0 when none. */
int64_t hub_room_token_exp(struct hub *h, const char *id, const char *jti);
/* The revocations in force: [{"jti","until"}], a new reference; NULL when
 * the room is not held. */
json_t *hub_room_revocations(struct hub *h, const char *id);
/* Whether a moderator's room token still opens the room's record. The
 * kinds of refusal are kept apart because the API answers them
 * differently: a revoked token is no valid credential (401), a holder no
 * longer a moderator is (403). */
enum hub_moderator {
    HUB_MODERATOR_OK,
    HUB_MODERATOR_REVOKED,       /* the token's jti was revoked (section 11) */
    HUB_MODERATOR_NOT_MODERATOR, /* made a delegate or observer by set_role, or removed */
    HUB_MODERATOR_NO_ROOM,       /* the room is not held by this node */
};
/* May sub read room id's record as its moderator: a moderator (token role,
 * no set_role override) who was not removed, with a token (jti, "" for
 * none) that was not revoked? A revoked token is reported before anything
 * about its holder. Returns HUB_MODERATOR_OK or the reason it may not.
 * Only after hub_room_ensure() found the room. */
enum hub_moderator hub_room_moderator_check(struct hub *h, const char *id, const char *sub,
                                            const char *jti);
/* The record as text (transcript_render), signed with the configured
 * record key. Returns 200 (body in *out, new string, length in *len), 404
 * or 500. */
int hub_room_transcript(struct hub *h, const char *id, int format, char **out, size_t *len);

#endif
