/*
 * hub: this node's rooms. For each room: the local replica of its state,
 * the local connections, ordered delivery of committed events (each event
 * encoded once, the same frame queued on every connection), acks after
 * their events, presence, and the floor clock (checked on every tick).
 *
 * Commands reach the hub from sessions; the hub asks the pure room logic
 * (room_decide), commits through the backend, and applies what the backend
 * delivers. Nothing else writes room state.
 */
#ifndef ROSTRUM_HUB_H
#define ROSTRUM_HUB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"

struct backend;
struct config;
struct hub;
struct session;

/* Creates the hub and its backend (memory). Returns NULL with a message
 * logged. cfg is borrowed for the hub's life. */
struct hub *hub_create(const struct config *cfg);
void hub_destroy(struct hub *h); /* NULL is a no-op */

/* Session life cycle (called by session.c). */
void hub_session_opened(struct hub *h, struct session *s);
void hub_session_closed(struct hub *h, struct session *s);
/* cmd is borrowed for the call. */
void hub_join(struct hub *h, struct session *s, const struct proto_cmd *cmd);
void hub_command(struct hub *h, struct session *s, const struct proto_cmd *cmd);

/* Timers: join timeouts, floor clocks, observer counts. Call often (every
 * 100 ms). */
void hub_tick(struct hub *h, int64_t now_ms);
/* Marks every connection for closing with 1001 (drain). Returns the
 * number of connections still open. */
size_t hub_drain(struct hub *h);
/* True while the backend is reachable. */
int hub_backend_up(struct hub *h);

/* ---- for the admin API; results as new JSON references ---- */
/* Creates a room from an API body. Returns 201, 400 (reason in errbuf),
 * 409 or 503; *out is the snapshot on 201. */
int hub_room_create(struct hub *h, const json_t *spec, json_t **out, char *errbuf, size_t errsz);
/* [{"id","title","status","participants","observers"}] */
json_t *hub_rooms_list(struct hub *h);
/* The snapshot with participants, observers, seq and epoch; NULL if unknown. */
json_t *hub_room_get(struct hub *h, const char *id);
/* Closes the room (status_changed closed). Returns 200, 404 or 503. */
int hub_room_close(struct hub *h, const char *id);
/* True when the room exists. */
int hub_room_exists(struct hub *h, const char *id);
/* The record as text (transcript_render). Returns 200 (body in *out, new
 * string, length in *len), 404 or 500. */
int hub_room_transcript(struct hub *h, const char *id, int format, char **out, size_t *len);

#endif
