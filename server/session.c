/*
 * session.c: one connection's protocol state and send queue (session.h).
 *
 * Decisions per bad input (reply or disconnect), from contract section 2:
 *   anything but a valid join first        -> close 4401
 *   binary, invalid UTF-8/JSON, non-object -> error bad_request, stay open
 *   unknown type                           -> error unknown_type, stay open
 *   10 of those in a row                   -> close 4400
 *   over the rate (20/s, burst 40)         -> error rate_limited
 *   over 100 refusals within 10 s          -> close 4429
 *   send queue past its bound              -> close 1008 (queue dropped)
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "frame.h"
#include "hub.h"
#include "metrics.h"

struct session_slot {
    char *txt;      /* NULL until the reply is known */
    size_t len;
};

/* A ring of len entries of elem bytes from head, copied in order into a
 * new buffer of twice the capacity (8 at first): returns it (the caller
 * frees the old one; the new head is 0) and sets *cap, or NULL with *cap
 * as it was. Only when the ring is full, never per frame. */
static void *ring_grow(const void *ring, size_t head, size_t len, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 8;
    unsigned char *n = malloc(ncap * elem);
    const unsigned char *old = ring;
    if (!n)
        return NULL;
    for (size_t i = 0; i < len; i++)
        memcpy(n + i * elem, old + ((head + i) % *cap) * elem, elem);
    *cap = ncap;
    return n;
}

#define RATE_ABUSE_REFUSALS 100
#define RATE_ABUSE_WINDOW_MS 10000

struct session *session_create(struct hub *hub, void *conn, const struct session_conn_ops *conn_ops,
                               const struct session_limits *lim, int64_t now_ms)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->conn = conn;
    s->conn_ops = conn_ops;
    s->hub = hub;
    s->state = SESSION_NEW;
    s->created_ms = now_ms;
    s->last_rx_ms = now_ms;
    s->lim = lim;
    s->tokens = lim->burst;
    s->tokens_ms = now_ms;
    metrics.connections++;
    hub_session_opened(hub, s);
    return s;
}

static void drop_queue(struct session *s)
{
    for (size_t i = 0; i < s->q_len; i++)
        frame_unref(s->q[(s->q_head + i) % s->q_cap]);
    s->q_head = s->q_len = 0;
    s->q_bytes = s->q_off = 0;
}

void session_destroy(struct session *s)
{
    if (!s)
        return;
    hub_session_closed(s->hub, s);
    drop_queue(s);
    free(s->q);
    for (size_t i = 0; i < s->slot_len; i++)
        free(s->slots[(s->slot_head + i) % s->slot_cap].txt);
    free(s->slots);
    metrics.connections--;
    free(s);
}

void session_close(struct session *s, int code, const char *reason, bool flush)
{
    if (s->state == SESSION_CLOSING)
        return;
    /* Replies already known go out before the close, even those queued
     * behind a command the hub has not answered yet: the connection ends
     * here, that answer would never be sent. */
    if (flush) {
        for (size_t i = 0; i < s->slot_len; i++) {
            struct session_slot *sl = &s->slots[(s->slot_head + i) % s->slot_cap];
            if (sl->txt)
                session_send_text(s, sl->txt, sl->len);
        }
    }
    s->state = SESSION_CLOSING;
    s->close_code = code;
    snprintf(s->close_reason, sizeof s->close_reason, "%s", reason ? reason : "");
    if (code >= 1000 && code < 5000)
        metrics.closes[code]++;
    if (!flush)
        drop_queue(s);
    s->conn_ops->want_write(s->conn);
    /* A peer that stopped reading never becomes writeable: do not wait. */
    s->conn_ops->close_after(s->conn, 5);
}

void session_send(struct session *s, struct frame *f)
{
    if (s->state == SESSION_CLOSING)
        return;
    if (s->q_len + 1 > s->lim->queue_frames || s->q_bytes + f->len > s->lim->queue_bytes) {
        metrics.send_queue_drops++;
        session_close(s, PROTO_CLOSE_POLICY, "too slow", false);
        return;
    }
    if (s->q_len == s->q_cap) {
        struct frame **q = ring_grow(s->q, s->q_head, s->q_len, &s->q_cap, sizeof *q);
        if (!q) {
            session_close(s, PROTO_CLOSE_POLICY, "out of memory", false);
            return;
        }
        free(s->q);
        s->q = q;
        s->q_head = 0;
    }
    s->q[(s->q_head + s->q_len) % s->q_cap] = frame_ref(f);
    s->q_len++;
    s->q_bytes += f->len;
    metrics.frames_out++;
    metrics.bytes_out += f->len;
    if (s->q_len == 1)
        s->conn_ops->want_write(s->conn);
}

void session_send_text(struct session *s, const char *json, size_t len)
{
    struct frame *f = frame_text(json, len);
    if (!f) {
        session_close(s, PROTO_CLOSE_POLICY, "out of memory", false);
        return;
    }
    session_send(s, f);
    frame_unref(f);
}

/* Appends a slot (txt NULL: the hub's reply is still to come). Takes
 * ownership of txt. Returns -1 when out of memory. */
static int slot_push(struct session *s, char *txt, size_t len)
{
    if (s->slot_len == s->slot_cap) {
        struct session_slot *n = ring_grow(s->slots, s->slot_head, s->slot_len, &s->slot_cap, sizeof *n);
        if (!n)
            return -1;
        free(s->slots);
        s->slots = n;
        s->slot_head = 0;
    }
    struct session_slot *sl = &s->slots[(s->slot_head + s->slot_len++) % s->slot_cap];
    sl->txt = txt;
    sl->len = len;
    return 0;
}

/* Sends the replies at the head that are known. */
static void slot_flush(struct session *s)
{
    while (s->slot_len && s->slots[s->slot_head].txt) {
        struct session_slot *sl = &s->slots[s->slot_head];
        session_send_text(s, sl->txt, sl->len);
        free(sl->txt);
        s->slot_head = (s->slot_head + 1) % s->slot_cap;
        s->slot_len--;
    }
}

/* A reply known now: sent at once unless replies to earlier commands are
 * still owed. Takes ownership of txt. */
static void reply_now(struct session *s, char *txt, size_t len)
{
    if (!txt)
        return;
    if (s->slot_len == 0 || slot_push(s, txt, len) != 0) {
        session_send_text(s, txt, len);
        free(txt);
    }
}

void session_send_error(struct session *s, const char *id, enum proto_err e, const char *msg)
{
    size_t len = 0;
    char *txt = proto_encode_error(id, e, msg, &len);
    metrics.errors[e]++;
    reply_now(s, txt, len);
}

void session_reply(struct session *s, const char *txt, size_t len)
{
    for (size_t i = 0; i < s->slot_len; i++) {
        struct session_slot *sl = &s->slots[(s->slot_head + i) % s->slot_cap];
        if (!sl->txt) {
            sl->txt = malloc(len + 1);
            if (!sl->txt) {
                session_close(s, PROTO_CLOSE_POLICY, "out of memory", false);
                return;
            }
            memcpy(sl->txt, txt, len);
            sl->len = len;
            slot_flush(s);
            return;
        }
    }
    session_send_text(s, txt, len); /* no slot: a reply nobody waited for */
}

size_t session_fill(struct session *s, unsigned char *dst, size_t cap, bool *more)
{
    size_t n = 0;
    while (s->q_len > 0 && n < cap) {
        struct frame *f = s->q[s->q_head];
        size_t left = f->len - s->q_off;
        size_t take = left < cap - n ? left : cap - n;
        memcpy(dst + n, frame_bytes(f) + s->q_off, take);
        n += take;
        s->q_off += take;
        s->q_bytes -= take;
        if (s->q_off == f->len) {
            frame_unref(f);
            s->q_head = (s->q_head + 1) % s->q_cap;
            s->q_len--;
            s->q_off = 0;
        }
    }
    *more = s->q_len > 0;
    return n;
}

bool session_close_due(const struct session *s, int *code, const char **reason)
{
    if (s->state != SESSION_CLOSING || s->q_len > 0)
        return false;
    *code = s->close_code;
    *reason = s->close_reason;
    return true;
}

/* Token bucket: lim->rate per second, bursts of lim->burst. */
static bool rate_take(struct session *s, int64_t now)
{
    double refill = (double)(now - s->tokens_ms) * s->lim->rate / 1000.0;
    s->tokens_ms = now;
    s->tokens += refill;
    if (s->tokens > s->lim->burst)
        s->tokens = s->lim->burst;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return true;
    }
    if (now - s->refused_since > RATE_ABUSE_WINDOW_MS) {
        s->refused_since = now;
        s->refused = 0;
    }
    s->refused++;
    return false;
}

static void bad_frame(struct session *s, const char *id, enum proto_err e, const char *msg)
{
    session_send_error(s, id, e, msg);
    if (++s->bad_frames >= PROTO_BAD_FRAMES_BEFORE_CLOSE)
        session_close(s, PROTO_CLOSE_ABUSE, "too many malformed frames", true);
}

void session_on_message(struct session *s, const char *buf, size_t len, bool binary)
{
    struct proto_cmd cmd;
    char msg[160] = "";
    metrics.frames_in++;
    s->last_rx_ms = clock_now_ms();
    if (s->state == SESSION_CLOSING)
        return;
    /* Past --max-frame, only a statement or the conclusions may come (net
     * let through up to 64 KiB): anything else is too big, as it would
     * have been without them. */
    if (len > s->lim->max_frame) {
        bool big_ok = false;
        if (!binary && s->state == SESSION_JOINED) {
            enum proto_err be = proto_cmd_decode(buf, len, &cmd, msg, sizeof msg);
            /* a statement one character too long is refused as too_large,
             * like any text, not as a frame */
            big_ok = (be == PROTO_OK || be == PROTO_ERR_TOO_LARGE) && proto_cmd_big_frame(cmd.type);
            proto_cmd_clear(&cmd);
        }
        if (!big_ok) {
            session_close(s, PROTO_CLOSE_TOO_BIG, "frame too big", false);
            return;
        }
    }
    if (s->state == SESSION_NEW) {
        enum proto_err e = binary ? PROTO_ERR_BAD_REQUEST : proto_cmd_decode(buf, len, &cmd, msg, sizeof msg);
        if (e != PROTO_OK || cmd.type != PROTO_CMD_JOIN) {
            /* Say why before closing: a client author's first frame is
             * most often a join with a mistake in it. */
            session_send_error(s, binary ? NULL : cmd.id, PROTO_ERR_UNAUTHORIZED,
                               e != PROTO_OK && msg[0] ? msg : "the first frame must be a join");
            if (!binary)
                proto_cmd_clear(&cmd);
            session_close(s, PROTO_CLOSE_UNAUTHORIZED, "join first", true);
            return;
        }
        /* The token is the connection's business: checked here, where the
         * connection is, before the hub sees anything. (Whether this room
         * revoked it is the room's, checked by the hub.) */
        struct proto_claims claims;
        const char *why = "invalid token";
        e = proto_jwt_verify_ring(*s->lim->keys, cmd.token, clock_now_ms() / 1000, &claims, &why);
        if (e != PROTO_OK) {
            metrics.commands[PROTO_CMD_JOIN][PROTO_ERR_UNAUTHORIZED]++;
            session_send_error(s, NULL, PROTO_ERR_UNAUTHORIZED, why);
            session_close(s, PROTO_CLOSE_UNAUTHORIZED, proto_close_reason(PROTO_CLOSE_UNAUTHORIZED), true);
            proto_cmd_clear(&cmd);
            return;
        }
        struct room_actor *a = &s->actor;
        memset(a, 0, sizeof *a);
        snprintf(a->sub, sizeof a->sub, "%s", claims.sub);
        snprintf(a->name, sizeof a->name, "%s", claims.name);
        snprintf(a->delegation, sizeof a->delegation, "%s", claims.delegation);
        a->category = claims.category;
        snprintf(a->region, sizeof a->region, "%s", claims.region);
        a->role = claims.role;
        snprintf(s->jti, sizeof s->jti, "%s", claims.jti);
        s->token_exp = claims.exp;
        s->state = SESSION_JOINING;
        hub_join(s->hub, s, claims.room, &cmd);
        proto_cmd_clear(&cmd);
        return;
    }
    if (binary) {
        bad_frame(s, NULL, PROTO_ERR_BAD_REQUEST, "binary frames are not accepted; send JSON text");
        return;
    }
    enum proto_err e = proto_cmd_decode(buf, len, &cmd, msg, sizeof msg);
    /* Permission before arguments (contract section 5): a command the role
     * may not send is forbidden whatever its arguments, and then it is
     * refused like any forbidden command (rate limited, not a bad frame).
     * A frame whose type was not read leaves cmd.type at join, no room
     * command. */
    bool forbidden = false;
    if (e != PROTO_OK) {
        forbidden = e != PROTO_ERR_UNKNOWN_TYPE && cmd.type != PROTO_CMD_JOIN &&
                    s->state == SESSION_JOINED &&
                    hub_may_send(s->hub, s, cmd.type, msg, sizeof msg) != PROTO_OK;
        if (!forbidden) {
            if (e != PROTO_ERR_UNKNOWN_TYPE)
                hub_audit_refusal(s, cmd.type, e);
            if (e == PROTO_ERR_TOO_LARGE)
                session_send_error(s, cmd.id, e, msg);
            else
                bad_frame(s, cmd.id, e, msg);
            proto_cmd_clear(&cmd);
            return;
        }
    }
    s->bad_frames = 0;
    int64_t now = clock_now_ms();
    if (!forbidden && cmd.text && s->lim->max_text_chars < PROTO_MAX_TEXT_CHARS &&
        proto_utf8_chars(cmd.text, strlen(cmd.text)) > s->lim->max_text_chars) {
        forbidden = s->state == SESSION_JOINED &&
                    hub_may_send(s->hub, s, cmd.type, msg, sizeof msg) != PROTO_OK;
        if (!forbidden) {
            snprintf(msg, sizeof msg, "field 'text' must be at most %ld characters on this server",
                     s->lim->max_text_chars);
            hub_audit_refusal(s, cmd.type, PROTO_ERR_TOO_LARGE);
            session_send_error(s, cmd.id, PROTO_ERR_TOO_LARGE, msg);
            proto_cmd_clear(&cmd);
            return;
        }
    }
    if (!rate_take(s, now)) {
        hub_audit_refusal(s, cmd.type, PROTO_ERR_RATE_LIMITED);
        session_send_error(s, cmd.id, PROTO_ERR_RATE_LIMITED, NULL);
        metrics.commands[cmd.type][PROTO_ERR_RATE_LIMITED]++;
        if (s->refused > RATE_ABUSE_REFUSALS)
            session_close(s, PROTO_CLOSE_RATE, "rate limit exceeded repeatedly", true);
        proto_cmd_clear(&cmd);
        return;
    }
    if (forbidden) {
        hub_audit_refusal(s, cmd.type, PROTO_ERR_FORBIDDEN);
        session_send_error(s, cmd.id, PROTO_ERR_FORBIDDEN, msg);
        metrics.commands[cmd.type][PROTO_ERR_FORBIDDEN]++;
    } else if (s->state == SESSION_JOINING) {
        session_send_error(s, cmd.id, PROTO_ERR_BAD_REQUEST, "the join is still being answered");
    } else if (cmd.type == PROTO_CMD_JOIN) {
        session_send_error(s, cmd.id, PROTO_ERR_BAD_REQUEST, "already joined");
        metrics.commands[cmd.type][PROTO_ERR_BAD_REQUEST]++;
    } else if (cmd.type == PROTO_CMD_PING) {
        size_t n;
        char *pong = proto_encode_pong(now, &n);
        if (pong)
            session_send_text(s, pong, n);
        free(pong);
        metrics.commands[cmd.type][PROTO_OK]++;
    } else {
        if (slot_push(s, NULL, 0) != 0) {
            session_close(s, PROTO_CLOSE_POLICY, "out of memory", false);
        } else {
            hub_command(s->hub, s, &cmd);
        }
    }
    proto_cmd_clear(&cmd);
}
