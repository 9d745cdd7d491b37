/*
 * codec.c: decoding and validation of client commands (one JSON object per
 * text frame) and encoding of the small server replies (ack, error, pong).
 *
 * Decoding is the only place where untrusted frames are interpreted: every
 * field that a handler later reads has been type- and range-checked here
 * against contract section 5, so handlers never look at JSON. Unknown extra
 * fields are ignored so that newer clients keep working with this server.
 * An optional field sent as JSON null is treated as absent, because clients
 * mirror the events, where absent values are written as null.
 *
 * Pure: no I/O, no clock, no logging.
 */
#include "proto.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A join token longer than this is refused before any work is done on it
 * (jwt.c applies the same bound). */
#define CODEC_MAX_TOKEN 4096

/* jansson integers are json_int_t (long long here); its largest value. */
#define CODEC_INT_MAX ((json_int_t)LLONG_MAX)

#if defined(__GNUC__)
#define CODEC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CODEC_PRINTF(f, a)
#endif

/* Writes the human message for a refusal and returns e, so that every
 * refusal is one "return refuse(...)". */
static enum proto_err refuse(char *msg, size_t msgsz, enum proto_err e, const char *fmt, ...)
    CODEC_PRINTF(4, 5);

static enum proto_err refuse(char *msg, size_t msgsz, enum proto_err e, const char *fmt, ...)
{
    if (msg && msgsz > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msgsz, fmt, ap);
        va_end(ap);
    }
    return e;
}

/* Looks up an optional field; JSON null counts as absent (see top). */
static json_t *field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* Reads a string field. *out is NULL when the field is absent and not
 * required. */
static enum proto_err get_string(json_t *obj, const char *key, bool required,
                                 const char **out, char *msg, size_t msgsz)
{
    json_t *v = field(obj, key);
    *out = NULL;
    if (!v) {
        if (required)
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "field '%s' is required", key);
        return PROTO_OK;
    }
    if (!json_is_string(v))
        return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "field '%s' must be a string", key);
    *out = json_string_value(v);
    return PROTO_OK;
}

/* Reads an integer field in [min, max]. *present tells whether it was
 * there; reals (3.0) and booleans are not integers. */
static enum proto_err get_int(json_t *obj, const char *key, bool required, json_int_t min,
                              json_int_t max, bool *present, json_int_t *out, char *msg,
                              size_t msgsz)
{
    json_t *v = field(obj, key);
    *present = false;
    *out = 0;
    if (!v) {
        if (required)
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "field '%s' is required", key);
        return PROTO_OK;
    }
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    if (!json_is_integer(v) || n < min || n > max) {
        if (max == CODEC_INT_MAX && min == 0)
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "field '%s' must be a non-negative integer", key);
        return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                      "field '%s' must be an integer from %" JSON_INTEGER_FORMAT
                      " to %" JSON_INTEGER_FORMAT,
                      key, min, max);
    }
    *present = true;
    *out = n;
    return PROTO_OK;
}

/* Copies a string that a validator has already bounded to fit dst. */
static void copy_bounded(char *dst, size_t dstsz, const char *src)
{
    size_t n = strlen(src);
    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool valid_lang(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > PROTO_MAX_LANG)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

/* request_id (withdraw, grant, move, remove_request). */
static enum proto_err get_request_id(json_t *obj, bool required, struct proto_cmd *c,
                                     char *msg, size_t msgsz)
{
    const char *s;
    enum proto_err err = get_string(obj, "request_id", required, &s, msg, msgsz);
    if (err || !s)
        return err;
    if (!proto_valid_item_id(s))
        return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                      "field 'request_id' must be 1 to %d characters [A-Za-z0-9._-]",
                      PROTO_MAX_REQUEST_ID);
    copy_bounded(c->request_id, sizeof c->request_id, s);
    c->has_request_id = true;
    return PROTO_OK;
}

/* sub (grant, mute, unmute, remove, set_role). */
static enum proto_err get_sub(json_t *obj, bool required, struct proto_cmd *c, char *msg,
                              size_t msgsz)
{
    const char *s;
    enum proto_err err = get_string(obj, "sub", required, &s, msg, msgsz);
    if (err || !s)
        return err;
    if (!proto_valid_sub(s))
        return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                      "field 'sub' must be 1 to %d characters [A-Za-z0-9._:@-]", PROTO_MAX_SUB);
    copy_bounded(c->sub, sizeof c->sub, s);
    c->has_sub = true;
    return PROTO_OK;
}

/* lang (request_floor, deposit_statement): optional; absent leaves c->lang
 * empty. One reader so that both commands accept and refuse the same tags
 * with the same message. */
static enum proto_err get_lang(json_t *obj, struct proto_cmd *c, char *msg, size_t msgsz)
{
    const char *s;
    enum proto_err err = get_string(obj, "lang", false, &s, msg, msgsz);
    if (err || !s)
        return err;
    if (!valid_lang(s))
        return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                      "field 'lang' must be 1 to %d characters [A-Za-z0-9-]", PROTO_MAX_LANG);
    copy_bounded(c->lang, sizeof c->lang, s);
    return PROTO_OK;
}

/* text (say, announce): 1..2000 code points; jansson has already checked
 * that it is valid UTF-8 without NUL. */
static enum proto_err get_text_max(json_t *obj, struct proto_cmd *c, long max, char *msg,
                                   size_t msgsz)
{
    const char *s;
    enum proto_err err = get_string(obj, "text", true, &s, msg, msgsz);
    if (err)
        return err;
    long n = proto_utf8_chars(s, strlen(s));
    if (n > max)
        return refuse(msg, msgsz, PROTO_ERR_TOO_LARGE, "field 'text' must be at most %ld characters",
                      max);
    if (n < 1)
        return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "field 'text' must be 1 to %ld characters",
                      max);
    c->text = strdup(s);
    if (!c->text)
        return refuse(msg, msgsz, PROTO_ERR_INTERNAL, "out of memory");
    return PROTO_OK;
}

static enum proto_err decode_join(json_t *obj, struct proto_cmd *c, char *msg, size_t msgsz)
{
    const char *s;
    json_int_t n;
    enum proto_err err = get_string(obj, "token", true, &s, msg, msgsz);
    if (err)
        return err;
    size_t len = strlen(s);
    if (len < 1 || len > CODEC_MAX_TOKEN)
        return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                      "field 'token' must be a non-empty string of at most %d bytes",
                      CODEC_MAX_TOKEN);
    c->token = strdup(s);
    if (!c->token)
        return refuse(msg, msgsz, PROTO_ERR_INTERNAL, "out of memory");

    err = get_int(obj, "since", false, 0, CODEC_INT_MAX, &c->has_since, &n, msg, msgsz);
    if (err)
        return err;
    c->since = (uint64_t)n;

    err = get_string(obj, "epoch", false, &s, msg, msgsz);
    if (err)
        return err;
    if (s) {
        if (strlen(s) > PROTO_MAX_EPOCH)
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "field 'epoch' must be at most %d bytes", PROTO_MAX_EPOCH);
        copy_bounded(c->epoch, sizeof c->epoch, s);
        c->has_epoch = true;
    }

    /* Contract section 10: a boolean; absent or null is false. */
    json_t *d = field(obj, "deltas");
    if (d && !json_is_boolean(d))
        return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "field 'deltas' must be a boolean");
    c->deltas = json_is_true(d);
    return PROTO_OK;
}

static enum proto_err decode_request_floor(json_t *obj, struct proto_cmd *c, char *msg,
                                           size_t msgsz)
{
    const char *s;
    enum proto_err err = get_string(obj, "kind", false, &s, msg, msgsz);
    if (err)
        return err;
    if (s) {
        int k = proto_kind_parse(s);
        if (k < 0)
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "field 'kind' must be \"speech\", \"reply\" or \"point_of_order\"");
        c->kind = (enum proto_kind)k;
    }
    return get_lang(obj, c, msg, msgsz);
}

static enum proto_err get_text(json_t *obj, struct proto_cmd *c, char *msg, size_t msgsz)
{
    return get_text_max(obj, c, PROTO_MAX_TEXT_CHARS, msg, msgsz);
}

bool proto_cmd_big_frame(enum proto_cmd_type t)
{
    return t == PROTO_CMD_DEPOSIT_STATEMENT || t == PROTO_CMD_PUBLISH_CONCLUSIONS;
}

/* deposit_statement {request_id, text (1..20000), lang?} */
static enum proto_err decode_deposit(json_t *obj, struct proto_cmd *c, char *msg, size_t msgsz)
{
    enum proto_err err;
    if ((err = get_request_id(obj, true, c, msg, msgsz)) ||
        (err = get_text_max(obj, c, PROTO_MAX_STATEMENT_CHARS, msg, msgsz)))
        return err;
    return get_lang(obj, c, msg, msgsz);
}

static enum proto_err decode_args(json_t *obj, struct proto_cmd *c, char *msg, size_t msgsz)
{
    const char *s;
    json_int_t n;
    bool present;
    enum proto_err err = PROTO_OK;

    switch (c->type) {
    case PROTO_CMD_JOIN:
        return decode_join(obj, c, msg, msgsz);
    case PROTO_CMD_REQUEST_FLOOR:
        return decode_request_floor(obj, c, msg, msgsz);
    case PROTO_CMD_WITHDRAW:
    case PROTO_CMD_REMOVE_REQUEST:
    case PROTO_CMD_GET_STATEMENT:
    case PROTO_CMD_ACCEPT_WRITTEN:
        return get_request_id(obj, true, c, msg, msgsz);
    case PROTO_CMD_DEPOSIT_STATEMENT:
        return decode_deposit(obj, c, msg, msgsz);
    case PROTO_CMD_PUBLISH_CONCLUSIONS:
        return get_text_max(obj, c, PROTO_MAX_STATEMENT_CHARS, msg, msgsz);
    case PROTO_CMD_SAY:
    case PROTO_CMD_ANNOUNCE:
        return get_text(obj, c, msg, msgsz);
    case PROTO_CMD_GRANT:
        /* Neither means "head of the queue"; both would be ambiguous. */
        if ((err = get_request_id(obj, false, c, msg, msgsz)) ||
            (err = get_sub(obj, false, c, msg, msgsz)))
            return err;
        if (c->has_request_id && c->has_sub)
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "give either 'request_id' or 'sub', not both");
        return PROTO_OK;
    case PROTO_CMD_EXTEND:
        err = get_int(obj, "seconds", true, 1, 3600, &present, &n, msg, msgsz);
        c->seconds = (int)n;
        return err;
    case PROTO_CMD_MOVE:
        if ((err = get_request_id(obj, true, c, msg, msgsz)))
            return err;
        err = get_int(obj, "to", true, 0, CODEC_INT_MAX, &present, &n, msg, msgsz);
        /* The room clamps, so a huge index only needs to fit a long. */
        c->to = n > LONG_MAX ? LONG_MAX : (long)n;
        return err;
    case PROTO_CMD_MUTE:
    case PROTO_CMD_UNMUTE:
    case PROTO_CMD_REMOVE:
        return get_sub(obj, true, c, msg, msgsz);
    case PROTO_CMD_SET_ROLE: {
        if ((err = get_sub(obj, true, c, msg, msgsz)) ||
            (err = get_string(obj, "role", true, &s, msg, msgsz)))
            return err;
        /* A moderator is made only by token (contract section 5). */
        int r = proto_role_parse(s);
        if (r != PROTO_ROLE_DELEGATE && r != PROTO_ROLE_OBSERVER)
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "field 'role' must be \"delegate\" or \"observer\"");
        c->role = (enum proto_role)r;
        return PROTO_OK;
    }
    case PROTO_CMD_SET_AGENDA_ITEM:
        if ((err = get_string(obj, "item", true, &s, msg, msgsz)))
            return err;
        if (!proto_valid_item_id(s))
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "field 'item' must be 1 to %d characters [A-Za-z0-9._-]",
                          PROTO_MAX_ITEM_ID);
        copy_bounded(c->item, sizeof c->item, s);
        return PROTO_OK;
    case PROTO_CMD_SET_STATUS: {
        if ((err = get_string(obj, "status", true, &s, msg, msgsz)))
            return err;
        int st = proto_status_parse(s);
        if (st < 0)
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "field 'status' must be \"open\", \"suspended\", \"closed\" or "
                          "\"scheduled\"");
        c->status = (enum proto_status)st;
        return PROTO_OK;
    }
    case PROTO_CMD_UPDATE_SETTINGS: {
        json_t *v = field(obj, "settings");
        if (!json_is_object(v))
            /* Name the whole form: a client that sent the settings at the
             * top level learns where they go. */
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "field 'settings' must be an object: "
                          "{\"type\":\"update_settings\",\"settings\":{\"speech_s\":120,...}}");
        c->settings = json_incref(v);
        return PROTO_OK;
    }
    case PROTO_CMD_SET_SCHEDULE: {
        /* Present is required; null is meaningful here (no schedule), so
         * field()'s null-as-absent rule does not apply. */
        json_t *v = json_object_get(obj, "schedule");
        if (!v || !(json_is_object(v) || json_is_null(v)))
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                          "field 'schedule' must be an object, or null for none");
        c->schedule = json_incref(v);
        return PROTO_OK;
    }
    case PROTO_CMD_SET_AGENDA: {
        json_t *v = field(obj, "agenda");
        if (!json_is_array(v))
            return refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "field 'agenda' must be an array");
        c->agenda = json_incref(v);
        return PROTO_OK;
    }
    case PROTO_CMD_PING:
    case PROTO_CMD_YIELD:
    case PROTO_CMD_END_FLOOR:
    case PROTO_CMD_PAUSE:
    case PROTO_CMD_RESUME:
    case PROTO_CMD_OPEN_LIST:
    case PROTO_CMD_CLOSE_LIST:
    case PROTO_CMD__COUNT:
        break;
    }
    return PROTO_OK;
}

enum proto_err proto_cmd_decode(const char *buf, size_t len, struct proto_cmd *out,
                                char *msg, size_t msgsz)
{
    enum proto_err err;
    json_t *root = NULL;
    json_error_t jerr;
    json_t *id, *type;
    json_int_t n;
    int t;

    memset(out, 0, sizeof *out);
    out->kind = PROTO_KIND_SPEECH;
    if (msg && msgsz > 0)
        msg[0] = '\0';

    if (!buf) {
        err = refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "empty frame");
        goto fail;
    }
    /* jansson rejects invalid UTF-8, NUL bytes inside strings and nesting
     * deeper than JSON_PARSER_MAX_DEPTH, and never reads past len. Its own
     * error text may quote frame bytes, so only the position is reported. */
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        err = refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                     "the frame is not valid UTF-8 JSON (at byte %d)", jerr.position);
        goto fail;
    }
    if (!json_is_object(root)) {
        err = refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "the frame must be a JSON object");
        goto fail;
    }

    /* The id first, so that every later refusal can carry it. */
    id = field(root, "id");
    if (id) {
        if (!json_is_string(id) ||
            proto_utf8_chars(json_string_value(id), json_string_length(id)) >
                PROTO_MAX_ID_CHARS) {
            err = refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST,
                         "field 'id' must be a string of at most %d characters",
                         PROTO_MAX_ID_CHARS);
            goto fail;
        }
        copy_bounded(out->id, sizeof out->id, json_string_value(id));
        out->has_id = out->id[0] != '\0';
    }

    type = json_object_get(root, "type");
    if (!json_is_string(type)) {
        err = refuse(msg, msgsz, PROTO_ERR_BAD_REQUEST, "field 'type' must be a string");
        goto fail;
    }
    t = proto_cmd_parse(json_string_value(type));
    if (t < 0) {
        /* The name itself is not echoed: it may be long or odd. */
        err = refuse(msg, msgsz, PROTO_ERR_UNKNOWN_TYPE, "unknown command type");
        goto fail;
    }
    out->type = (enum proto_cmd_type)t;

    err = get_int(root, "if_seq", false, 0, CODEC_INT_MAX, &out->has_if_seq, &n, msg, msgsz);
    if (err)
        goto fail;
    out->if_seq = (uint64_t)n;

    err = decode_args(root, out, msg, msgsz);
    if (err)
        goto fail;

    json_decref(root);
    return PROTO_OK;

fail:
    json_decref(root);
    return err;
}

void proto_cmd_clear(struct proto_cmd *c)
{
    if (!c)
        return;
    free(c->token);
    free(c->text);
    json_decref((json_t *)c->settings);
    json_decref((json_t *)c->schedule);
    json_decref((json_t *)c->agenda);
    /* Zeroed so that a second clear, or a clear after a failed decode, is
     * harmless. */
    memset(c, 0, sizeof *c);
    c->kind = PROTO_KIND_SPEECH;
}

/* ---- replies ---- */

/* Serialises obj compactly (insertion order is kept by jansson >= 2.8) and
 * takes ownership of it. json_dumps allocates with malloc unless someone
 * calls json_set_alloc_funcs, which this project does not, so the caller
 * frees with free(). */
static char *dump(json_t *obj, size_t *len)
{
    char *out = NULL;
    if (!obj)
        goto fail;
    out = json_dumps(obj, JSON_COMPACT);
    if (!out)
        goto fail;
    if (len)
        *len = strlen(out);
fail:
    json_decref(obj);
    return out;
}

/* Adds "id" unless it is NULL or empty; false on failure (e.g. invalid
 * UTF-8, which a decoded id never is). */
static bool add_id(json_t *obj, const char *id)
{
    if (!id || !id[0])
        return true;
    return json_object_set_new(obj, "id", json_string(id)) == 0;
}

/* JSON integers are signed 64-bit; a seq never gets near the limit, but
 * clamping keeps the output a valid non-negative number. */
static json_int_t clamp_u64(uint64_t v)
{
    return v > (uint64_t)CODEC_INT_MAX ? CODEC_INT_MAX : (json_int_t)v;
}

char *proto_encode_ack(const char *id, uint64_t seq, size_t *len)
{
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "type", json_string("ack")) || !add_id(o, id) ||
        json_object_set_new(o, "seq", json_integer(clamp_u64(seq))))
        goto fail;
    return dump(o, len);
fail:
    json_decref(o);
    return NULL;
}

char *proto_encode_error(const char *id, enum proto_err e, const char *message, size_t *len)
{
    json_t *o = json_object();
    json_t *m = NULL;
    if (!o || json_object_set_new(o, "type", json_string("error")) || !add_id(o, id) ||
        json_object_set_new(o, "code", json_string(proto_err_code(e))))
        goto fail;
    /* A caller's message that is not valid UTF-8 falls back to the table's
     * text rather than losing the whole reply. */
    if (message && message[0])
        m = json_string(message);
    if (!m)
        m = json_string(proto_err_text(e));
    if (json_object_set_new(o, "message", m))
        goto fail;
    return dump(o, len);
fail:
    json_decref(o);
    return NULL;
}

char *proto_encode_pong(int64_t ts_ms, size_t *len)
{
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "type", json_string("pong")) ||
        json_object_set_new(o, "ts", json_integer((json_int_t)ts_ms)))
        goto fail;
    return dump(o, len);
fail:
    json_decref(o);
    return NULL;
}
