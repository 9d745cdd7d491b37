/*
 * hub_private.h: what the files of the hub share, and nobody else may
 * include (hub.h is the hub's interface). The hub is one module in four
 * files: hub.c (rooms, the command queue, commit and ordered fan-out, the
 * tick), hub_join.c (joins and welcomes, sessions coming and going),
 * hub_presence.c (counting connections on every node, the mirror of the
 * other nodes' connections) and hub_admin.c (the admin API's calls).
 */
#ifndef ROSTRUM_HUB_PRIVATE_H
#define ROSTRUM_HUB_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend.h"
#include "deltalog.h"
#include "hub.h"
#include "room.h"

struct session;

#define OBSERVER_PRESENCE_MS 1000

enum cmd_kind { CMD_CLIENT, CMD_CLOCK, CMD_DISCONNECT, CMD_ADMIN_CLOSE, CMD_ADMIN_REVOKE };

/* A command waiting for its turn in a room (or in flight). */
struct hub_cmd {
    struct hub_cmd *next;
    enum cmd_kind kind;
    struct session *s;        /* CLIENT; NULL once the session closed */
    struct proto_cmd cmd;     /* CLIENT: a copy that owns text, settings, schedule, agenda */
    char sub[PROTO_SUB_BUF];  /* DISCONNECT */
    void (*done)(void *arg, int status); /* ADMIN_CLOSE, ADMIN_REVOKE */
    void *arg;
    char jti[PROTO_JTI_BUF];  /* ADMIN_REVOKE */
    int64_t until_s;
    int tries;
    bool synced;              /* a refusal was checked against the store's seq */
    /* CLIENT, a moderator's command with an audit log: who sent it, copied
     * when it was queued, so that its outcome is written even when the
     * connection closed before the commit was answered */
    bool audit;
    char audit_who[PROTO_SUB_BUF];
    char audit_remote[64];
    char audit_room[PROTO_ROOM_BUF];
};

/* Someone waiting for a room to be opened: a joining session or an admin
 * call. */
struct waiter {
    struct waiter *next;
    struct session *s;        /* NULL once the session closed */
    bool has_since, has_epoch;
    uint64_t since;
    char epoch[PROTO_MAX_EPOCH + 1];
    void (*cb)(void *arg, bool found);
    void *arg;
};

/* A connection of another node (presence mirror). */
struct remote_conn {
    char conn[128];
    char sub[PROTO_SUB_BUF];
    bool observer;
};

struct hub_room {
    char id[PROTO_ROOM_BUF];
    struct room *state;       /* the replica; NULL while opening */
    struct waiter *waiters;   /* while opening */
    struct waiter *syncing;   /* joins waiting for this copy to catch up */
    struct session *conns;    /* joined local connections */
    size_t n_conns;
    int *member_conns;        /* connections on every node, by member index */
    size_t member_conns_cap;
    size_t observers;         /* observer connections on every node */
    size_t observers_sent;
    int64_t observers_sent_ms;
    struct remote_conn *remote;
    size_t n_remote, cap_remote;
    struct hub_cmd *q_head, *q_tail, *inflight; /* inflight: the commands in
                                                * flight, linked by next */
    long peak_saved;          /* observers' peak last handed to the backend */
    int64_t peak_saved_ms;
    struct own_commit *own;   /* this node's commit in flight */
    bool pumping;
    bool clock_queued;
    /* The delta form of every event, started on the first join that asks
     * for it (deltas_start) and kept while the room is held. */
    struct deltalog deltas;
};

struct hub {
    const struct config *cfg;
    struct backend *backend;
    bool shared;              /* other nodes share the backend (Redis) */
    struct hub_room **rooms;
    size_t n_rooms, cap_rooms;
    struct session *unjoined;
    uint64_t next_serial;
    int64_t last_idle_check;
    bool draining;            /* shutting down: a closing connection is not a disconnect */
};

/* ---- rooms, commands, commit and fan-out (hub.c) ---- */

/* The room this node holds under id, or NULL. */
struct hub_room *hub_find_room(struct hub *h, const char *id);
/* Adds a room (state may be NULL while it is being opened; ownership
 * passes). Returns it, or NULL when out of memory (state not taken). */
struct hub_room *hub_add_room(struct hub *h, const char *id, struct room *state);
/* Frees hr and everything it holds (queue, waiters, replica). */
void hub_remove_room(struct hub *h, struct hub_room *hr);
/* With a shared backend, lets go of a room nobody here uses. */
void hub_maybe_drop(struct hub *h, struct hub_room *hr);
/* A new command of kind (hub_enqueue() takes it), or NULL. */
struct hub_cmd *hub_cmd_new(enum cmd_kind kind);
/* Queues c (ownership passes) and decides what can be decided now. */
void hub_enqueue(struct hub *h, struct hub_room *hr, struct hub_cmd *c);
/* Decides queued commands while none is in flight. */
void hub_pump(struct hub *h, struct hub_room *hr);
/* Queues msg (ownership passes; NULL allowed) on every joined connection
 * of the room but except, encoded once. */
void hub_broadcast_json(struct hub_room *hr, json_t *msg, struct session *except);
/* This connection's presence id, "NODE:SERIAL", into out. */
void hub_conn_id(const struct hub *h, const struct session *s, char *out, size_t sz);
/* Starts the room's delta log (0), or -1. */
int hub_deltas_start(struct hub *h, struct hub_room *hr);
/* An event's text as clients may see it (a token_revoked without its
 * jti): a new string (free()) of *outlen bytes, or NULL. */
char *hub_public_text(const char *json, size_t len, size_t *outlen);

/* ---- joins (hub_join.c) ---- */

/* Adds w (ownership passes on true) to the room's waiters, opening the
 * room when this node does not hold it; false when it cannot wait. */
bool hub_wait_for_room(struct hub *h, const char *id, struct waiter *w);

/* ---- presence: counting connections on every node (hub_presence.c) ---- */

/* Grows member_conns to cover every member of the replica: 0 or -1. */
int hub_member_conns_fit(struct hub_room *hr);
/* The member's index in the replica's directory, or -1. */
int hub_member_index(const struct hub_room *hr, const char *sub);
/* Brings the room's attendance (first join, last leave per person, the
 * observers' peak) up to date with the connection counts, as of now. */
void hub_attendance_sync(struct hub *h, struct hub_room *hr, int64_t now);
/* Counts every connection again (after a resync or a role change). */
void hub_recount(struct hub_room *hr);
/* Counts one connection of sub more (delta +1) or less (-1): in
 * member_conns by member index, or, for an observer or someone not in the
 * directory, in observers. The one place counts change. Returns the
 * member index, or -1 when it was counted as an observer. */
int hub_count(struct hub_room *hr, const char *sub, bool observer, int delta);
/* After a member's connection went (counted already): presence update or
 * leave, and with may_pause, when that was the floor holder's last
 * connection, the disconnect command queued. Returns true when a command
 * was queued (hr may be gone by then: do not touch it). */
bool hub_count_left(struct hub *h, struct hub_room *hr, int idx, bool may_pause);
/* The wire participant with presence filled in (new reference). */
json_t *hub_participant_json(const struct hub_room *hr, const struct room_member *m);
/* Every participant shown in the room (new reference). */
json_t *hub_participants_json(const struct hub_room *hr);
/* Sends {"type":"presence","action",participant} to the room but except. */
void hub_presence_send(struct hub_room *hr, const char *action, const struct room_member *m,
                       struct session *except);
/* The backend's sink (backend.h) for presence, resets and reconnects. */
void hub_on_presence(void *arg, const char *room_id, const json_t *msg);
void hub_on_reset(void *arg, const char *room_id, struct room *current);
void hub_on_reconnect(void *arg);

#endif
