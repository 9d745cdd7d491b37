/*
 * session: one WebSocket connection's protocol state. Decodes frames
 * (protocol), enforces the join-first rule, counts bad frames, applies the
 * per-connection rate limit, hands commands to the hub, and keeps the
 * bounded send queue of shared frames that net writes from its WRITEABLE
 * callback (handlers queue, the loop writes).
 *
 * Created by net when a WebSocket is established and destroyed by net when
 * it is closed; everybody else may only mark it for closing
 * (session_close()), never free it.
 */
#ifndef ROSTRUM_SESSION_H
#define ROSTRUM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "room.h"

struct frame;
struct hub;
struct hub_room;

/* What a session may ask of its connection (net implements it; conn is
 * net's opaque handle). Everything else goes the other way: net calls
 * session_on_message(), session_fill() and session_close_due(). */
struct session_conn_ops {
    /* Asks for a WRITEABLE turn, in which net calls session_fill(). */
    void (*want_write)(void *conn);
    /* Closes the connection by force after secs seconds if it has not
     * closed by then (a consumer that stopped reading never becomes
     * writeable). */
    void (*close_after)(void *conn, int secs);
};

/* What one connection may do (from the configuration; borrowed for the
 * session's life). */
struct session_limits {
    size_t queue_frames, queue_bytes; /* send queue bound: close 1008 past it */
    double rate, burst;               /* commands per second, burst */
    long max_text_chars;              /* say/announce text (<= the contract's 2000) */
    /* bytes of an incoming message (--max-frame); net lets through up to
     * PROTO_MAX_STATEMENT_FRAME, and only the commands that carry a
     * statement or conclusions (proto_cmd_big_frame) may use the rest */
    size_t max_frame;
    /* The token keys: *keys is read at every join, so that keys reread on
     * SIGHUP (config_reload) apply to the next join. */
    struct proto_keyring *const *keys;
};

enum session_state {
    SESSION_NEW,      /* waiting for join */
    SESSION_JOINING,  /* join handed to the hub, not answered yet */
    SESSION_JOINED,
    SESSION_CLOSING,  /* close decided; flushing, then closing */
};

struct session {
    void *conn;                  /* net's; valid for the session's life */
    const struct session_conn_ops *conn_ops; /* borrowed */
    struct hub *hub;
    enum session_state state;
    int64_t created_ms;
    int64_t last_rx_ms;          /* last message received (idle timeout) */
    char remote[64];             /* peer address, set by net (audit log) */

    /* send queue: ring of frame references */
    struct frame **q;
    size_t q_head, q_len, q_cap;
    size_t q_bytes;              /* bytes still to send */
    size_t q_off;                /* bytes of the head frame already sent */
    const struct session_limits *lim;

    int close_code;              /* when CLOSING */
    char close_reason[64];

    /* Replies in the order of the commands: a command handed to the hub
     * takes a slot; replies found at once (a malformed frame, the rate
     * limit) wait behind the slots before them. */
    struct session_slot *slots;
    size_t slot_head, slot_len, slot_cap;

    int bad_frames;              /* malformed frames in a row */
    double tokens;               /* rate limit bucket */
    int64_t tokens_ms;
    int refused;                 /* rate_limited refusals in the window */
    int64_t refused_since;

    /* hub-owned fields */
    uint64_t serial;             /* this node's connection number (presence id) */
    struct room_actor actor;
    char jti[PROTO_JTI_BUF];     /* the token's id ("" none): revocation */
    int64_t token_exp;           /* the token's exp, Unix seconds */
    struct hub_room *room;
    struct session *prev, *next; /* the room's connections */
    bool is_observer;            /* counted in the room's observers */
    bool deltas;                 /* events in the delta form (contract section 10) */
    /* while not joined: the hub's list for the join timeout */
    struct session *u_prev, *u_next;
};

/* Returns a new session (session_destroy()) or NULL. conn_ops and lim
 * are borrowed. */
struct session *session_create(struct hub *hub, void *conn, const struct session_conn_ops *conn_ops,
                               const struct session_limits *lim, int64_t now_ms);
/* Leaves the room (presence) and frees everything. NULL is a no-op. */
void session_destroy(struct session *s);

/* One complete message received (text or binary). The first must be a
 * join whose token verifies against lim->keys: the session sets actor,
 * jti and token_exp from its claims and hands the join to the hub;
 * anything else is refused with 4401 here. */
void session_on_message(struct session *s, const char *buf, size_t len, bool binary);

/* Queues a reference to f (takes no ownership of the caller's reference).
 * Past the queue's bound the connection is cut (1008) and the drop counted. */
void session_send(struct session *s, struct frame *f);
/* Queues a JSON text (copied into a new frame). */
void session_send_text(struct session *s, const char *json, size_t len);
/* Queues an error reply (after the replies still owed to earlier
 * commands). */
void session_send_error(struct session *s, const char *id, enum proto_err e, const char *msg);
/* The hub's reply (ack or error) to the oldest command it was handed by
 * this session; txt is copied. */
void session_reply(struct session *s, const char *txt, size_t len);

/* Marks the session for closing with code: with flush, what is queued is
 * sent first; without, it is dropped. The first close decided wins. */
void session_close(struct session *s, int code, const char *reason, bool flush);

/* For net's WRITEABLE callback: copies queued bytes into dst (at most
 * cap) and returns how many; more is set when bytes remain. */
size_t session_fill(struct session *s, unsigned char *dst, size_t cap, bool *more);
/* True when the session should be closed now (closing and flushed); code
 * and reason are set. */
bool session_close_due(const struct session *s, int *code, const char **reason);

#endif
