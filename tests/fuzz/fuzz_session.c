/*
 * fuzz_session: WebSocket messages into the real server, minus sockets:
 * session.c (join-first rule, bad-frame count, rate limit, send queue),
 * hub.c (join, dispatch, commit, ordered delivery, acks, presence, clock)
 * and the memory backend, with net.c replaced by fuzz_server.c.
 *
 * The input is a script, one line per step:
 *   0..3 TEXT    slot N sends the text message TEXT ("@TOKEN@" in it is
 *                replaced by the slot's valid token; a slot without a
 *                connection gets a new one first)
 *   a..d BYTES   slot 0..3 sends a binary message
 *   oN           slot N opens a connection (and sends nothing yet)
 *   xN           slot N's connection goes away (net destroys the session)
 *   tMS          MS milliseconds pass (at most 10 minutes) and the hub ticks
 * Slots: 0 the chair (moderator), 1 "fr" and 2 "de" (delegates), 3 an
 * observer, all with tokens for the fixed room signed with FUZZ_KEY.
 *
 * Checked after every step, on what each connection would be sent: whole,
 * unmasked text frames of JSON objects with a "type"; after a welcome at
 * seq W, the events come as W+1, W+2, ... with no gap and no repeat; an
 * ack never runs ahead of the events already delivered on its connection
 * (read-your-writes); a closed connection is closed once. At the end every
 * session and the hub are destroyed (LeakSanitizer checks that nothing is
 * left).
 */
#include <string.h>

#include "fuzz_server.h"
#include "config.h"
#include "hub.h"
#include "session.h"

#define SLOTS 4

struct slot {
    struct session *s;
    bool welcomed;
    uint64_t seq; /* last event delivered */
};

static char *tokens[SLOTS];
static struct slot slots[SLOTS];
/* FUZZ_VERBOSE=1 in the environment: print what each connection is sent. */
static bool verbose;

static char *mint(const char *sub, const char *name, enum proto_role role, const char *deleg,
                  enum proto_category cat)
{
    struct proto_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.room, sizeof c.room, "fuzz-room");
    snprintf(c.delegation, sizeof c.delegation, "%s", deleg);
    c.role = role;
    c.category = cat;
    c.iat = FUZZ_NOW_S;
    c.exp = FUZZ_NOW_S + 7 * 86400;
    char *t = proto_jwt_mint(FUZZ_KEY, FUZZ_KEY_LEN, &c);
    FUZZ_CHECK(t, "cannot mint");
    return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    fuzz_server_config();
    tokens[0] = mint("chair", "Ana Chair", PROTO_ROLE_MODERATOR, "", PROTO_CAT_NONE);
    tokens[1] = mint("fr", "Jean Dupont", PROTO_ROLE_DELEGATE, "France", PROTO_CAT_MEMBER_STATE);
    tokens[2] = mint("de", "Eva Berg", PROTO_ROLE_DELEGATE, "Germany", PROTO_CAT_MEMBER_STATE);
    tokens[3] = mint("obs", "Olga Watcher", PROTO_ROLE_OBSERVER, "", PROTO_CAT_NONE);
    return 0;
}

/* One message sent to slot k: the ordering promises. */
static void on_message(void *arg, const json_t *m)
{
    struct slot *sl = arg;
    const char *type = json_string_value(json_object_get(m, "type"));
    if (verbose) {
        char *t = json_dumps(m, JSON_COMPACT);
        fprintf(stderr, "  -> slot %d: %.160s\n", (int)(sl - slots), t ? t : "?");
        free(t);
    }
    json_t *seq = json_object_get(m, "seq");
    if (strcmp(type, "welcome") == 0) {
        FUZZ_CHECK(json_is_integer(seq) && json_integer_value(seq) >= 0, "welcome without seq");
        FUZZ_CHECK(!sl->welcomed, "a second welcome on one connection");
        sl->welcomed = true;
        sl->seq = (uint64_t)json_integer_value(seq);
    } else if (strcmp(type, "event") == 0) {
        FUZZ_CHECK(sl->welcomed, "an event before the welcome");
        FUZZ_CHECK(json_is_integer(seq) && (uint64_t)json_integer_value(seq) == sl->seq + 1,
                   "event %lld after %llu (gap or repeat)",
                   (long long)json_integer_value(seq), (unsigned long long)sl->seq);
        sl->seq++;
    } else if (strcmp(type, "ack") == 0) {
        FUZZ_CHECK(json_is_integer(seq) && (uint64_t)json_integer_value(seq) <= sl->seq,
                   "ack at %lld before its event (delivered: %llu)",
                   (long long)json_integer_value(seq), (unsigned long long)sl->seq);
    }
}

/* What net does when a connection is writeable (it writes at most 64 KiB
 * at a time), and when a close is due. */
static void drain(unsigned k)
{
    static unsigned char buf[(8u << 20) + 65536];
    struct slot *sl = &slots[k];
    size_t total = 0;
    bool more = sl->s != NULL;
    while (more) {
        FUZZ_CHECK(total + 65536 <= sizeof buf, "more queued than the queue's bound");
        size_t n = session_fill(sl->s, buf + total, 65536, &more);
        FUZZ_CHECK(n > 0 || !more, "session_fill made no progress");
        total += n;
    }
    fuzz_server_check_frames(buf, total, on_message, sl);
    int code;
    const char *reason;
    if (sl->s && session_close_due(sl->s, &code, &reason)) {
        FUZZ_CHECK(code >= 1000 && code < 5000, "close code %d", code);
        session_destroy(sl->s);
        memset(sl, 0, sizeof *sl);
    }
}

/* A connection for slot k, opened as net opens one. */
static void connect_slot(struct hub *h, unsigned k)
{
    const struct config *cfg = fuzz_server_config();
    if (slots[k].s)
        return;
    static struct session_limits lim;
    FUZZ_CHECK(cfg->queue_bytes <= (8u << 20), "queue bound above the drain buffer");
    lim.queue_frames = cfg->queue_frames;
    lim.queue_bytes = cfg->queue_bytes;
    lim.rate = cfg->command_rate;
    lim.burst = cfg->command_burst;
    lim.max_text_chars = cfg->max_text_chars;
    lim.keys = &cfg->keys;
    lim.max_frame = cfg->max_frame;
    slots[k].s = session_create(h, fuzz_server_conn(k), &fuzz_server_conn_ops, &lim, fuzz_server_clock());
    FUZZ_CHECK(slots[k].s, "session_create failed");
}

static void disconnect(unsigned k)
{
    session_destroy(slots[k].s);
    memset(&slots[k], 0, sizeof slots[k]);
}

/* line[0..n) with @TOKEN@ replaced by tok (free()). */
static char *with_token(const char *line, size_t n, const char *tok, size_t *outlen)
{
    static const char mark[] = "@TOKEN@";
    const size_t ml = sizeof mark - 1, tl = strlen(tok);
    size_t count = 0;
    for (size_t i = 0; i + ml <= n; i++)
        if (memcmp(line + i, mark, ml) == 0)
            count++, i += ml - 1;
    char *out = malloc(n + count * tl + 1);
    FUZZ_CHECK(out, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (i + ml <= n && memcmp(line + i, mark, ml) == 0) {
            memcpy(out + o, tok, tl);
            o += tl;
            i += ml;
        } else {
            out[o++] = line[i++];
        }
    }
    *outlen = o;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hub *h = fuzz_server_hub();
    memset(slots, 0, sizeof slots);

    size_t off = 0;
    int steps = 0;
    while (off < size && steps++ < 200) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (data + off)) : size - off;
        const char *line = (const char *)data + off;
        off += n + (nl ? 1 : 0);
        if (n == 0)
            continue;
        char c = line[0];
        if (c >= '0' && c <= '3') {
            unsigned k = (unsigned)(c - '0');
            size_t len;
            char *msg = with_token(line + 1, n - 1, tokens[k], &len);
            connect_slot(h, k);
            session_on_message(slots[k].s, msg, len, false);
            free(msg);
        } else if (c >= 'a' && c <= 'd') {
            unsigned k = (unsigned)(c - 'a');
            connect_slot(h, k);
            session_on_message(slots[k].s, line + 1, n - 1, true);
        } else if (c == 'o' && n >= 2 && line[1] >= '0' && line[1] <= '3') {
            connect_slot(h, (unsigned)(line[1] - '0'));
        } else if (c == 'x' && n >= 2 && line[1] >= '0' && line[1] <= '3') {
            disconnect((unsigned)(line[1] - '0'));
        } else if (c == 't') {
            long ms = 0;
            for (size_t i = 1; i < n && i < 8 && line[i] >= '0' && line[i] <= '9'; i++)
                ms = ms * 10 + (line[i] - '0');
            if (ms > 600000)
                ms = 600000;
            fuzz_server_set_clock(fuzz_server_clock() + ms);
            hub_tick(h, fuzz_server_clock());
        }
        for (unsigned k = 0; k < SLOTS; k++)
            drain(k);
    }
    for (unsigned k = 0; k < SLOTS; k++)
        disconnect(k);
    fuzz_server_hub_destroy(h);
    return 0;
}
