/*
 * fuzz_cmd: one WebSocket text frame, as a client sends it, through
 * proto_cmd_decode() and then the way the server goes on with it.
 *
 * The input is the frame's payload, exactly what session_on_message() hands
 * to the codec (any bytes: binary, invalid UTF-8, truncated or deep JSON).
 * Checked:
 *   - decode never reads past the buffer (ASan) and its error message and
 *     id always make an error reply that encodes (the reply must carry the
 *     id, so the id must be valid UTF-8 of at most 64 characters);
 *   - a decoded command holds only what the contract allows for its type
 *     (every field a handler reads was checked);
 *   - proto_cmd_clear() releases everything and may be called twice;
 *   - every decoded room command is decided on a populated room by a
 *     moderator, a delegate with requests, a delegate holding the floor and
 *     an observer, and what is decided is committed the hub's way
 *     (fuzz_commit: decided events apply, encode, and re-read to the same
 *     state), after which the room still stores and reads back.
 */
#include <string.h>

#include "fuzz.h"

static bool valid_utf8_max(const char *s, long max)
{
    long n = proto_utf8_chars(s, strlen(s));
    return n >= 0 && n <= max;
}

/* What the contract says a decoded command of each type holds. */
static void check_decoded(const struct proto_cmd *c)
{
    FUZZ_CHECK((unsigned)c->type < PROTO_CMD__COUNT, "type %d", (int)c->type);
    FUZZ_CHECK((unsigned)c->kind < PROTO_KIND__COUNT, "kind %d", (int)c->kind);
    FUZZ_CHECK(!c->has_sub || proto_valid_sub(c->sub), "sub '%s'", c->sub);
    FUZZ_CHECK(!c->has_request_id || proto_valid_item_id(c->request_id), "request_id '%s'",
               c->request_id);
    FUZZ_CHECK(c->if_seq <= (uint64_t)INT64_MAX && c->since <= (uint64_t)INT64_MAX,
               "if_seq or since out of range");
    FUZZ_CHECK(valid_utf8_max(c->lang, PROTO_MAX_LANG), "lang");
    switch (c->type) {
    case PROTO_CMD_JOIN:
        FUZZ_CHECK(c->token && strlen(c->token) >= 1 && strlen(c->token) <= 4096, "token");
        FUZZ_CHECK(strlen(c->epoch) <= PROTO_MAX_EPOCH, "epoch");
        break;
    case PROTO_CMD_SAY:
    case PROTO_CMD_ANNOUNCE: {
        long n = c->text ? proto_utf8_chars(c->text, strlen(c->text)) : -1;
        FUZZ_CHECK(n >= 1 && n <= PROTO_MAX_TEXT_CHARS, "text of %ld characters", n);
        break;
    }
    case PROTO_CMD_DEPOSIT_STATEMENT:
    case PROTO_CMD_PUBLISH_CONCLUSIONS: {
        /* contract 9.4, 9.5: 1..20,000 characters */
        long n = c->text ? proto_utf8_chars(c->text, strlen(c->text)) : -1;
        FUZZ_CHECK(n >= 1 && n <= PROTO_MAX_STATEMENT_CHARS, "statement of %ld characters", n);
        FUZZ_CHECK(c->type != PROTO_CMD_DEPOSIT_STATEMENT || c->has_request_id,
                   "deposit_statement without request_id");
        FUZZ_CHECK(proto_cmd_big_frame(c->type), "not allowed a big frame");
        break;
    }
    case PROTO_CMD_WITHDRAW:
    case PROTO_CMD_REMOVE_REQUEST:
    case PROTO_CMD_GET_STATEMENT:
    case PROTO_CMD_ACCEPT_WRITTEN:
        FUZZ_CHECK(c->has_request_id, "request_id required");
        FUZZ_CHECK(!proto_cmd_big_frame(c->type), "a big frame for %s", proto_cmd_name(c->type));
        break;
    case PROTO_CMD_MOVE:
        FUZZ_CHECK(c->has_request_id && c->to >= 0, "move: request_id and to >= 0");
        break;
    case PROTO_CMD_GRANT:
        FUZZ_CHECK(!(c->has_sub && c->has_request_id), "grant with both sub and request_id");
        break;
    case PROTO_CMD_EXTEND:
        FUZZ_CHECK(c->seconds >= 1 && c->seconds <= 3600, "extend %d", c->seconds);
        break;
    case PROTO_CMD_MUTE:
    case PROTO_CMD_UNMUTE:
    case PROTO_CMD_REMOVE:
        FUZZ_CHECK(c->has_sub, "sub required");
        break;
    case PROTO_CMD_SET_ROLE:
        FUZZ_CHECK(c->has_sub &&
                       (c->role == PROTO_ROLE_DELEGATE || c->role == PROTO_ROLE_OBSERVER),
                   "set_role %d", (int)c->role);
        break;
    case PROTO_CMD_SET_AGENDA_ITEM:
        FUZZ_CHECK(proto_valid_item_id(c->item), "item '%s'", c->item);
        break;
    case PROTO_CMD_SET_STATUS:
        FUZZ_CHECK((unsigned)c->status < PROTO_STATUS__COUNT, "status %d", (int)c->status);
        break;
    case PROTO_CMD_UPDATE_SETTINGS:
        FUZZ_CHECK(json_is_object((json_t *)c->settings), "settings");
        break;
    default:
        break;
    }
    if (c->type != PROTO_CMD_JOIN)
        FUZZ_CHECK(!c->token, "token outside join");
    if (c->type != PROTO_CMD_SAY && c->type != PROTO_CMD_ANNOUNCE &&
        c->type != PROTO_CMD_DEPOSIT_STATEMENT && c->type != PROTO_CMD_PUBLISH_CONCLUSIONS)
        FUZZ_CHECK(!c->text, "text outside say/announce/deposit_statement/publish_conclusions");
    if (c->type != PROTO_CMD_UPDATE_SETTINGS)
        FUZZ_CHECK(!c->settings, "settings outside update_settings");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_room_populated(NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proto_cmd c;
    char msg[256];
    /* The codec must not need a NUL after the frame: give it none. */
    char *frame = malloc(size ? size : 1);
    FUZZ_CHECK(frame, "out of memory");
    if (size)
        memcpy(frame, data, size);

    memset(msg, 'x', sizeof msg);
    enum proto_err e = proto_cmd_decode(frame, size, &c, msg, sizeof msg);
    FUZZ_CHECK(memchr(msg, '\0', sizeof msg), "the message is not NUL-terminated");
    FUZZ_CHECK(e == PROTO_OK || e == PROTO_ERR_BAD_REQUEST || e == PROTO_ERR_UNKNOWN_TYPE ||
                   e == PROTO_ERR_TOO_LARGE,
               "unexpected error %d (%s)", (int)e, proto_err_code(e));
    FUZZ_CHECK(e != PROTO_OK || msg[0] == '\0', "success with a message: %s", msg);
    FUZZ_CHECK(e == PROTO_OK || msg[0] != '\0', "refusal %s without a message",
               proto_err_code(e));
    FUZZ_CHECK(valid_utf8_max(c.id, PROTO_MAX_ID_CHARS), "id is not valid UTF-8 of <= 64");
    FUZZ_CHECK(c.has_id == (c.id[0] != '\0'), "has_id disagrees with id");

    /* The reply the session sends: it must always encode, with the id. */
    size_t len = 0;
    char *reply = e ? proto_encode_error(c.id, e, msg, &len) : proto_encode_ack(c.id, 7, &len);
    FUZZ_CHECK(reply && strlen(reply) == len, "the reply does not encode");
    json_t *rj = json_loads(reply, 0, NULL);
    const char *rid = json_string_value(json_object_get(rj, "id"));
    FUZZ_CHECK(rj && (c.id[0] ? rid && strcmp(rid, c.id) == 0 : !rid),
               "the reply does not carry the id: %s", reply);
    json_decref(rj);
    free(reply);

    if (e == PROTO_OK) {
        check_decoded(&c);
        if (c.type != PROTO_CMD_JOIN) {
            static const enum fuzz_actor who[] = {FUZZ_MOD, FUZZ_DEL4, FUZZ_DEL1, FUZZ_OBS};
            const struct room_actor *a = fuzz_actors();
            for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
                struct room *r = room_clone(fuzz_room_populated(NULL));
                FUZZ_CHECK(r, "room_clone failed");
                if (fuzz_commit(r, &a[who[i]], &c, FUZZ_NOW_MS, NULL) == PROTO_OK)
                    fuzz_check_room(r);
                room_destroy(r);
            }
        }
    }
    proto_cmd_clear(&c);
    proto_cmd_clear(&c);
    FUZZ_CHECK(!c.token && !c.text && !c.settings, "proto_cmd_clear left something");
    free(frame);
    return 0;
}
