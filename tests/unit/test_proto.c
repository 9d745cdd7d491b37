/*
 * Unit tests of protocol/proto.c (name tables, string rules) and
 * protocol/codec.c (command decoding, reply encoding).
 *
 * The decoder is the server's first contact with untrusted bytes, so besides
 * every command with every argument, valid and invalid, it is fed invalid
 * UTF-8, garbage, truncations and deep nesting; frames are copied into
 * buffers of their exact length (no NUL) so that a sanitizer build catches
 * any read past len.
 */
#include "proto.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static struct proto_cmd cmd;
static char msg[256];

/* Decodes s (its strlen bytes, copied without a terminator). */
static enum proto_err dec_n(const char *s, size_t n)
{
    char *buf = malloc(n ? n : 1);
    memcpy(buf, s, n);
    proto_cmd_clear(&cmd);
    msg[0] = '\0';
    enum proto_err e = proto_cmd_decode(buf, n, &cmd, msg, sizeof msg);
    free(buf);
    return e;
}

static enum proto_err dec(const char *s) { return dec_n(s, strlen(s)); }

/* The frame decodes; cmd holds it until the next decode. */
#define OK(s, t)                                                             \
    do {                                                                     \
        enum proto_err e__ = dec(s);                                         \
        if (e__)                                                             \
            fprintf(stderr, "line %d: %s -> %s (%s)\n", __LINE__, s,         \
                    proto_err_code(e__), msg);                               \
        CHECK_INT(e__, PROTO_OK);                                            \
        CHECK_INT(cmd.type, t);                                              \
    } while (0)

/* The frame is refused with code; the message is not empty and, when field
 * is not NULL, names it as 'field'. */
#define ERR(s, code, field) err_at(__LINE__, s, strlen(s), code, field)

static void err_at(int line, const char *s, size_t n, enum proto_err code, const char *field)
{
    enum proto_err e = dec_n(s, n);
    if (e != code)
        fprintf(stderr, "line %d: %.*s -> %s, expected %s\n", line, (int)(n > 200 ? 200 : n), s,
                proto_err_code(e), proto_err_code(code));
    CHECK_INT(e, code);
    CHECK(msg[0] != '\0');
    if (field) {
        char quoted[80];
        snprintf(quoted, sizeof quoted, "'%s'", field);
        if (!strstr(msg, quoted))
            fprintf(stderr, "line %d: message \"%s\" does not name %s\n", line, msg, quoted);
        CHECK(strstr(msg, quoted) != NULL);
    }
}

/* n copies of unit, as a new string. */
static char *rep(const char *unit, int n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(s + u * (size_t)i, unit, u);
    s[u * (size_t)n] = '\0';
    return s;
}

/* f with its one "%s" replaced by a, as a new string (not printf, so
 * that templates built at run time need no format checking). */
static char *fmt(const char *f, const char *a)
{
    const char *at = strstr(f, "%s");
    size_t pre = (size_t)(at - f), la = strlen(a), post = strlen(at + 2);
    char *s = malloc(pre + la + post + 1);
    memcpy(s, f, pre);
    memcpy(s + pre, a, la);
    memcpy(s + pre + la, at + 2, post + 1);
    return s;
}

/* ---- tables ---- */

static void test_tables(void)
{
    static const char *const commands[] = {
        "join", "ping", "request_floor", "withdraw", "yield", "say", "grant", "end_floor",
        "pause", "resume", "extend", "move", "remove_request", "open_list", "close_list",
        "mute", "unmute", "remove", "set_role", "announce", "set_agenda_item", "set_status",
        "update_settings", "set_schedule", "set_agenda", "deposit_statement", "get_statement",
        "accept_written", "publish_conclusions"};
    CHECK_INT(PROTO_CMD__COUNT, sizeof commands / sizeof commands[0]);
    for (int i = 0; i < PROTO_CMD__COUNT; i++) {
        CHECK_STR(proto_cmd_name((enum proto_cmd_type)i), commands[i]);
        CHECK_INT(proto_cmd_parse(commands[i]), i);
    }
    CHECK_STR(proto_cmd_name(PROTO_CMD__COUNT), "");
    CHECK_STR(proto_cmd_name((enum proto_cmd_type)-1), "");
    CHECK_INT(proto_cmd_parse("fly"), -1);
    CHECK_INT(proto_cmd_parse(""), -1);
    CHECK_INT(proto_cmd_parse("PING"), -1);
    CHECK_INT(proto_cmd_parse(NULL), -1);

    /* The contract's error codes, in its order. */
    static const char *const errors[] = {
        "bad_request", "unknown_type", "unauthorized", "forbidden", "not_found", "conflict",
        "stale", "quota_exceeded", "list_closed", "room_not_open", "room_closed", "muted",
        "rate_limited", "too_large", "unavailable", "internal"};
    CHECK_INT(PROTO_ERR__COUNT - 1, sizeof errors / sizeof errors[0]);
    for (int i = 1; i < PROTO_ERR__COUNT; i++) {
        CHECK_STR(proto_err_code((enum proto_err)i), errors[i - 1]);
        CHECK(proto_err_text((enum proto_err)i)[0] != '\0');
    }
    CHECK_INT(PROTO_OK, 0);
    CHECK_STR(proto_err_code(PROTO_OK), "ok");
    CHECK_STR(proto_err_code(PROTO_ERR_NOT_FOUND), "not_found");
    CHECK_STR(proto_err_text(PROTO_ERR_BAD_REQUEST), "the command is malformed");
    CHECK_STR(proto_err_code(PROTO_ERR__COUNT), "");
    CHECK_STR(proto_err_text((enum proto_err)-3), "");

    static const char *const events[] = {
        "floor_requested", "request_withdrawn", "request_removed", "request_moved",
        "floor_granted", "floor_ended", "timer_paused", "timer_resumed", "time_extended",
        "time_up", "list_opened", "list_closed", "participant_muted", "participant_unmuted",
        "participant_removed", "role_changed", "message", "agenda_item_set", "status_changed",
        "settings_changed", "schedule_changed", "agenda_changed", "token_revoked",
        "statement_deposited", "statement_published", "conclusions_published"};
    CHECK_INT(PROTO_EV__COUNT, sizeof events / sizeof events[0]);
    for (int i = 0; i < PROTO_EV__COUNT; i++) {
        CHECK_STR(proto_event_name((enum proto_event)i), events[i]);
        CHECK_INT(proto_event_parse(events[i]), i);
    }
    CHECK_INT(proto_event_parse("floor"), -1);
    CHECK_STR(proto_event_name(PROTO_EV__COUNT), "");
    /* State parts per the contract's event table. */
    CHECK_INT(proto_event_parts(PROTO_EV_FLOOR_REQUESTED), PROTO_PART_QUEUE);
    CHECK_INT(proto_event_parts(PROTO_EV_FLOOR_GRANTED), PROTO_PART_FLOOR | PROTO_PART_QUEUE);
    CHECK_INT(proto_event_parts(PROTO_EV_FLOOR_ENDED), PROTO_PART_FLOOR | PROTO_PART_STATS);
    CHECK_INT(proto_event_parts(PROTO_EV_TIME_UP), PROTO_PART_FLOOR);
    CHECK_INT(proto_event_parts(PROTO_EV_LIST_CLOSED), PROTO_PART_SETTINGS);
    CHECK_INT(proto_event_parts(PROTO_EV_PARTICIPANT_REMOVED), PROTO_PART_QUEUE | PROTO_PART_MUTED);
    CHECK_INT(proto_event_parts(PROTO_EV_ROLE_CHANGED), 0);
    CHECK_INT(proto_event_parts(PROTO_EV_MESSAGE), 0);
    CHECK_INT(proto_event_parts(PROTO_EV_AGENDA_ITEM_SET),
              PROTO_PART_AGENDA_ITEM | PROTO_PART_ITEM_STARTED);
    CHECK_INT(proto_event_parts(PROTO_EV_STATUS_CHANGED),
              PROTO_PART_STATUS | PROTO_PART_ITEM_STARTED);
    CHECK_INT(proto_event_parts(PROTO_EV_SCHEDULE_CHANGED), PROTO_PART_SCHEDULE);
    CHECK_INT(proto_event_parts(PROTO_EV_AGENDA_CHANGED), PROTO_PART_AGENDA);
    CHECK_INT(proto_event_parts(PROTO_EV_SETTINGS_CHANGED), PROTO_PART_SETTINGS);
    CHECK_INT(proto_event_parts(PROTO_EV_STATEMENT_DEPOSITED), PROTO_PART_QUEUE);
    CHECK_INT(proto_event_parts(PROTO_EV_STATEMENT_PUBLISHED), PROTO_PART_QUEUE);
    CHECK_INT(proto_event_parts(PROTO_EV_CONCLUSIONS_PUBLISHED), 0);
    CHECK_INT(proto_event_parts(PROTO_EV__COUNT), 0);

    static const int closes[] = {1000, 1001, 1009, 1013, 4400, 4401, 4403, 4404, 4408, 4429};
    for (size_t i = 0; i < sizeof closes / sizeof closes[0]; i++)
        CHECK(proto_close_reason(closes[i])[0] != '\0');
    CHECK_INT(PROTO_CLOSE_UNAUTHORIZED, 4401);
    CHECK_INT(PROTO_CLOSE_TOO_BIG, 1009);
    CHECK_STR(proto_close_reason(1000), "normal");
    CHECK_STR(proto_close_reason(1234), "");
    CHECK_STR(proto_close_reason(0), "");

    static const char *const roles[] = {"observer", "interpreter", "delegate", "moderator"};
    for (int i = 0; i < PROTO_ROLE__COUNT; i++) {
        CHECK_STR(proto_role_name((enum proto_role)i), roles[i]);
        CHECK_INT(proto_role_parse(roles[i]), i);
    }
    CHECK_INT(PROTO_ROLE__COUNT, 4);
    CHECK(PROTO_ROLE_OBSERVER < PROTO_ROLE_INTERPRETER && PROTO_ROLE_INTERPRETER < PROTO_ROLE_DELEGATE &&
          PROTO_ROLE_DELEGATE < PROTO_ROLE_MODERATOR);
    CHECK_INT(proto_role_parse("admin"), -1);
    CHECK_INT(proto_role_parse(NULL), -1);

    static const char *const kinds[] = {"speech", "reply", "point_of_order"};
    for (int i = 0; i < PROTO_KIND__COUNT; i++) {
        CHECK_STR(proto_kind_name((enum proto_kind)i), kinds[i]);
        CHECK_INT(proto_kind_parse(kinds[i]), i);
    }
    CHECK_INT(PROTO_KIND__COUNT, 3);
    CHECK_INT(proto_kind_parse("Speech"), -1);

    static const char *const cats[] = {"member_state", "observer_state", "organization",
                                       "un_entity", "civil_society", "other"};
    for (int i = 0; i < PROTO_CAT_NONE; i++) {
        CHECK_STR(proto_category_name((enum proto_category)i), cats[i]);
        CHECK_INT(proto_category_parse(cats[i]), i);
    }
    CHECK_INT(PROTO_CAT_NONE, 6);
    CHECK(proto_category_name(PROTO_CAT_NONE) == NULL);
    CHECK_INT(proto_category_parse("none"), -1);
    CHECK_INT(proto_category_parse(NULL), -1);

    static const char *const statuses[] = {"open", "suspended", "closed", "scheduled"};
    for (int i = 0; i < PROTO_STATUS__COUNT; i++) {
        CHECK_STR(proto_status_name((enum proto_status)i), statuses[i]);
        CHECK_INT(proto_status_parse(statuses[i]), i);
    }
    CHECK_INT(proto_status_parse("paused"), -1);

    static const char *const ends[] = {"yielded", "moderator", "time", "superseded"};
    for (int i = 0; i < PROTO_END__COUNT; i++) {
        CHECK_STR(proto_end_reason_name((enum proto_end_reason)i), ends[i]);
        CHECK_INT(proto_end_reason_parse(ends[i]), i);
    }
    CHECK_INT(PROTO_END__COUNT, 4);

    CHECK_STR(proto_on_time_up_name(PROTO_TIMEUP_NOTIFY), "notify");
    CHECK_STR(proto_on_time_up_name(PROTO_TIMEUP_END), "end");
    CHECK_INT(proto_on_time_up_parse("end"), PROTO_TIMEUP_END);
    CHECK_INT(proto_on_time_up_parse("stop"), -1);
    CHECK_STR(proto_chat_name(PROTO_CHAT_OPEN), "open");
    CHECK_STR(proto_chat_name(PROTO_CHAT_FLOOR), "floor");
    CHECK_STR(proto_chat_name(PROTO_CHAT_OFF), "off");
    CHECK_INT(proto_chat_parse("floor"), PROTO_CHAT_FLOOR);
    CHECK_INT(proto_chat_parse("closed"), -1);
    CHECK_STR(proto_queue_order_name(PROTO_ORDER_REQUEST), "request");
    CHECK_STR(proto_queue_order_name(PROTO_ORDER_CATEGORY), "category");
    CHECK_INT(proto_queue_order_parse("category"), PROTO_ORDER_CATEGORY);
    CHECK_INT(proto_queue_order_parse(""), -1);
    CHECK_STR(proto_chat_name(PROTO_CHAT__COUNT), "");
}

/* ---- string rules ---- */

#define U8(lit, want) CHECK_INT(proto_utf8_chars(lit, sizeof(lit) - 1), want)

static void test_utf8(void)
{
    U8("", 0);
    U8("abc", 3);
    U8("a\0b", 3); /* NUL is a code point; len, not strlen, bounds */
    U8("\xc2\x80", 1);         /* U+0080, smallest 2-byte */
    U8("\xc3\xa9", 1);         /* é */
    U8("\xdf\xbf", 1);         /* U+07FF */
    U8("\xe0\xa0\x80", 1);     /* U+0800, smallest 3-byte */
    U8("\xe2\x82\xac", 1);     /* € */
    U8("\xed\x9f\xbf", 1);     /* U+D7FF, just below the surrogates */
    U8("\xee\x80\x80", 1);     /* U+E000, just above */
    U8("\xef\xbf\xbf", 1);     /* U+FFFF */
    U8("\xf0\x90\x80\x80", 1); /* U+10000, smallest 4-byte */
    U8("\xf0\x9d\x84\x9e", 1); /* musical G clef */
    U8("\xf4\x8f\xbf\xbf", 1); /* U+10FFFF, the last */
    U8("a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", 4);
    /* Beyond Unicode. */
    U8("\xf4\x90\x80\x80", -1);
    U8("\xf7\xbf\xbf\xbf", -1);
    /* Overlong forms. */
    U8("\xc0\x80", -1);
    U8("\xc0\xaf", -1);
    U8("\xc1\xbf", -1);
    U8("\xe0\x80\x80", -1);
    U8("\xe0\x9f\xbf", -1);
    U8("\xf0\x80\x80\x80", -1);
    U8("\xf0\x8f\xbf\xbf", -1);
    /* Surrogates. */
    U8("\xed\xa0\x80", -1);
    U8("\xed\xaf\xbf", -1);
    U8("\xed\xb0\x80", -1);
    U8("\xed\xbf\xbf", -1);
    U8("\xed\xa0\xbd\xed\xb8\x80", -1); /* CESU-8 pair */
    /* Truncated sequences, at the end and in the middle. */
    U8("\xc3", -1);
    U8("\xe2\x82", -1);
    U8("\xf0\x9d\x84", -1);
    U8("a\xf0\x9d", -1);
    U8("\xc3" "a", -1);
    U8("\xe2\x82" "a", -1);
    U8("\xf0\x9d\x84" "a", -1);
    /* Stray continuation bytes and bytes that never occur. */
    U8("\x80", -1);
    U8("a\xbf", -1);
    U8("\xfe", -1);
    U8("\xff", -1);
    U8("\xf8\x88\x80\x80\x80", -1);
    U8("\xfc\x84\x80\x80\x80\x80", -1);
    /* len cuts a valid sequence: invalid, never read past len. */
    CHECK_INT(proto_utf8_chars("\xc3\xa9", 1), -1);
    CHECK_INT(proto_utf8_chars("\xf0\x9d\x84\x9e", 3), -1);
    CHECK_INT(proto_utf8_chars("ab", 0), 0);
}

static void test_validators(void)
{
    char *s;
    /* regions (contract 9.3): 1..40 characters, one line */
    CHECK(proto_valid_region("African States"));
    CHECK(proto_valid_region("Western European and other States"));
    CHECK(proto_valid_region("\xd8\xa7\xd9\x84\xd8\xaf\xd9\x88\xd9\x84")); /* Arabic */
    CHECK(!proto_valid_region(""));
    CHECK(!proto_valid_region(NULL));
    CHECK(!proto_valid_region("a\nb"));
    s = rep("\xc3\xa9", 40);
    CHECK(proto_valid_region(s));
    free(s);
    s = rep("a", 41);
    CHECK(!proto_valid_region(s));
    free(s);
    CHECK(!proto_valid_region("\xff"));
    /* time zone names: the shape, safe to join to a directory */
    CHECK(proto_valid_time_zone_name("America/New_York"));
    CHECK(proto_valid_time_zone_name("UTC"));
    CHECK(proto_valid_time_zone_name("Etc/GMT+5"));
    CHECK(proto_valid_time_zone_name("America/Argentina/Buenos_Aires"));
    CHECK(!proto_valid_time_zone_name(""));
    CHECK(!proto_valid_time_zone_name(NULL));
    CHECK(!proto_valid_time_zone_name("/etc/passwd"));
    CHECK(!proto_valid_time_zone_name("../etc/passwd"));
    CHECK(!proto_valid_time_zone_name("America/../../etc"));
    CHECK(!proto_valid_time_zone_name("America//New_York"));
    CHECK(!proto_valid_time_zone_name("America/"));
    CHECK(!proto_valid_time_zone_name("New York"));
    CHECK(!proto_valid_time_zone_name(".hidden"));
    s = rep("a", 65);
    CHECK(!proto_valid_time_zone_name(s));
    free(s);
    CHECK(proto_valid_sub("a"));
    CHECK(proto_valid_sub("chair-1"));
    CHECK(proto_valid_sub("user.name:x@example.org"));
    CHECK(proto_valid_sub("ABC-xyz.09:@"));
    s = rep("a", 64);
    CHECK(proto_valid_sub(s));
    free(s);
    s = rep("a", 65);
    CHECK(!proto_valid_sub(s));
    free(s);
    CHECK(!proto_valid_sub(""));
    CHECK(!proto_valid_sub(NULL));
    CHECK(!proto_valid_sub("a b"));
    CHECK(proto_valid_sub("a_b")); /* "._:@-" includes the underscore */
    CHECK(!proto_valid_sub("a+b"));
    CHECK(!proto_valid_sub("a#b"));
    CHECK(!proto_valid_sub("a/b"));
    CHECK(!proto_valid_sub("a\nb"));
    CHECK(!proto_valid_sub("\xc3\xa9"));

    CHECK(proto_valid_room_id("a"));
    CHECK(proto_valid_room_id("0"));
    CHECK(proto_valid_room_id("closing-discussion"));
    CHECK(proto_valid_room_id("a-"));
    s = rep("a", 64);
    CHECK(proto_valid_room_id(s));
    free(s);
    s = rep("a", 65);
    CHECK(!proto_valid_room_id(s));
    free(s);
    CHECK(!proto_valid_room_id(""));
    CHECK(!proto_valid_room_id(NULL));
    CHECK(!proto_valid_room_id("-a"));
    CHECK(!proto_valid_room_id("Room"));
    CHECK(!proto_valid_room_id("a_b"));
    CHECK(!proto_valid_room_id("a.b"));
    CHECK(!proto_valid_room_id("a b"));

    CHECK(proto_valid_item_id("q1"));
    CHECK(proto_valid_item_id("Q.1_x-y"));
    CHECK(proto_valid_item_id("r17"));
    s = rep("x", 32);
    CHECK(proto_valid_item_id(s));
    free(s);
    s = rep("x", 33);
    CHECK(!proto_valid_item_id(s));
    free(s);
    CHECK(!proto_valid_item_id(""));
    CHECK(!proto_valid_item_id(NULL));
    CHECK(!proto_valid_item_id("a b"));
    CHECK(!proto_valid_item_id("a:b"));
    CHECK(!proto_valid_item_id("a@b"));

    CHECK(proto_valid_name("France"));
    CHECK(proto_valid_name("C\xc3\xb4te d'Ivoire"));
    CHECK(proto_valid_name("\xe4\xb8\xad\xe5\x9b\xbd"));
    s = rep("a", 80);
    CHECK(proto_valid_name(s));
    free(s);
    s = rep("a", 81);
    CHECK(!proto_valid_name(s));
    free(s);
    s = rep("\xc3\xa9", 80); /* 80 code points, 160 bytes */
    CHECK(proto_valid_name(s));
    free(s);
    s = rep("\xf0\x9f\x8c\x8d", 80);
    CHECK(proto_valid_name(s));
    free(s);
    s = rep("\xc3\xa9", 81);
    CHECK(!proto_valid_name(s));
    free(s);
    CHECK(!proto_valid_name(""));
    CHECK(!proto_valid_name(NULL));
    CHECK(!proto_valid_name("a\tb"));
    CHECK(!proto_valid_name("a\nb"));
    CHECK(!proto_valid_name("a\x7f"));
    CHECK(!proto_valid_name("a\x1b[31m"));
    CHECK(!proto_valid_name("\xff"));
    CHECK(!proto_valid_name("\xed\xa0\x80"));
    CHECK(!proto_valid_name("\xc0\xaf"));
}

/* ---- decoding: valid commands ---- */

static void test_decode_valid(void)
{
    OK("{\"type\":\"ping\"}", PROTO_CMD_PING);
    CHECK(!cmd.has_id);
    CHECK_STR(cmd.id, "");
    CHECK(!cmd.has_if_seq);
    CHECK(cmd.token == NULL && cmd.text == NULL && cmd.settings == NULL);
    CHECK_INT(cmd.kind, PROTO_KIND_SPEECH);

    OK("{\"type\":\"ping\",\"id\":\"abc\"}", PROTO_CMD_PING);
    CHECK(cmd.has_id);
    CHECK_STR(cmd.id, "abc");
    OK("{\"id\":\"c-1\",\"type\":\"ping\"}", PROTO_CMD_PING); /* any key order */
    CHECK_STR(cmd.id, "c-1");
    OK("  {\"type\" : \"ping\" }\n", PROTO_CMD_PING);
    OK("{\"type\":\"ping\",\"id\":null}", PROTO_CMD_PING);
    CHECK(!cmd.has_id);
    OK("{\"type\":\"ping\",\"id\":\"\"}", PROTO_CMD_PING);
    CHECK(!cmd.has_id);

    /* id at the limit, in ASCII and in multi-byte code points. */
    char *id = rep("i", 64), *f = fmt("{\"type\":\"ping\",\"id\":\"%s\"}", id);
    OK(f, PROTO_CMD_PING);
    CHECK_STR(cmd.id, id);
    free(id);
    free(f);
    id = rep("\xf0\x9f\x8c\x8d", 64);
    f = fmt("{\"type\":\"ping\",\"id\":\"%s\"}", id);
    OK(f, PROTO_CMD_PING);
    CHECK_STR(cmd.id, id);
    free(id);
    free(f);
    OK("{\"type\":\"ping\",\"id\":\"a\\\"b\\\\c\\u00e9\"}", PROTO_CMD_PING);
    CHECK_STR(cmd.id, "a\"b\\c\xc3\xa9");

    /* if_seq on any command. */
    OK("{\"type\":\"yield\",\"if_seq\":0}", PROTO_CMD_YIELD);
    CHECK(cmd.has_if_seq);
    CHECK_INT(cmd.if_seq, 0);
    OK("{\"type\":\"grant\",\"if_seq\":42}", PROTO_CMD_GRANT);
    CHECK(cmd.has_if_seq);
    CHECK_INT(cmd.if_seq, 42);
    OK("{\"type\":\"grant\",\"if_seq\":9223372036854775807}", PROTO_CMD_GRANT);
    CHECK(cmd.if_seq == UINT64_C(9223372036854775807));
    OK("{\"type\":\"grant\",\"if_seq\":null}", PROTO_CMD_GRANT);
    CHECK(!cmd.has_if_seq);

    /* Unknown fields are ignored, whatever they hold. */
    OK("{\"type\":\"yield\",\"future\":{\"x\":[1,2,{\"y\":null}]},\"v\":2.5}", PROTO_CMD_YIELD);

    /* join */
    OK("{\"type\":\"join\",\"token\":\"a.b.c\"}", PROTO_CMD_JOIN);
    CHECK_STR(cmd.token, "a.b.c");
    CHECK(!cmd.has_since);
    CHECK(!cmd.has_epoch);
    CHECK_STR(cmd.epoch, "");
    OK("{\"type\":\"join\",\"token\":\"a.b.c\",\"since\":42,\"epoch\":\"k3v9q2\",\"id\":\"j\"}",
       PROTO_CMD_JOIN);
    CHECK_STR(cmd.token, "a.b.c");
    CHECK(cmd.has_since);
    CHECK_INT(cmd.since, 42);
    CHECK(cmd.has_epoch);
    CHECK_STR(cmd.epoch, "k3v9q2");
    CHECK_STR(cmd.id, "j");
    OK("{\"type\":\"join\",\"token\":\"t\",\"since\":0,\"epoch\":\"\"}", PROTO_CMD_JOIN);
    CHECK(cmd.has_since);
    CHECK_INT(cmd.since, 0);
    CHECK(cmd.has_epoch);
    OK("{\"type\":\"join\",\"token\":\"t\",\"since\":null,\"epoch\":null}", PROTO_CMD_JOIN);
    CHECK(!cmd.has_since);
    CHECK(!cmd.has_epoch);
    CHECK(!cmd.deltas);
    OK("{\"type\":\"join\",\"token\":\"t\",\"deltas\":true}", PROTO_CMD_JOIN);
    CHECK(cmd.deltas);
    OK("{\"type\":\"join\",\"token\":\"t\",\"deltas\":false}", PROTO_CMD_JOIN);
    CHECK(!cmd.deltas);
    OK("{\"type\":\"join\",\"token\":\"t\",\"deltas\":null}", PROTO_CMD_JOIN);
    CHECK(!cmd.deltas);
    char *e32 = rep("e", 32);
    f = fmt("{\"type\":\"join\",\"token\":\"t\",\"epoch\":\"%s\"}", e32);
    OK(f, PROTO_CMD_JOIN);
    CHECK_STR(cmd.epoch, e32);
    free(f);
    free(e32);
    char *tok = rep("t", 4096);
    f = fmt("{\"type\":\"join\",\"token\":\"%s\"}", tok);
    OK(f, PROTO_CMD_JOIN);
    CHECK_STR(cmd.token, tok);
    free(f);
    free(tok);

    /* request_floor */
    OK("{\"type\":\"request_floor\"}", PROTO_CMD_REQUEST_FLOOR);
    CHECK_INT(cmd.kind, PROTO_KIND_SPEECH);
    CHECK_STR(cmd.lang, "");
    OK("{\"type\":\"request_floor\",\"kind\":\"speech\"}", PROTO_CMD_REQUEST_FLOOR);
    CHECK_INT(cmd.kind, PROTO_KIND_SPEECH);
    OK("{\"type\":\"request_floor\",\"kind\":\"reply\",\"lang\":\"fr\"}", PROTO_CMD_REQUEST_FLOOR);
    CHECK_INT(cmd.kind, PROTO_KIND_REPLY);
    CHECK_STR(cmd.lang, "fr");
    OK("{\"type\":\"request_floor\",\"kind\":\"point_of_order\",\"lang\":\"zh-Hant-TW\"}",
       PROTO_CMD_REQUEST_FLOOR);
    CHECK_INT(cmd.kind, PROTO_KIND_POINT_OF_ORDER);
    CHECK_STR(cmd.lang, "zh-Hant-TW");
    OK("{\"type\":\"request_floor\",\"lang\":\"abcdefgh-1234567\"}", PROTO_CMD_REQUEST_FLOOR);
    CHECK_STR(cmd.lang, "abcdefgh-1234567");
    OK("{\"type\":\"request_floor\",\"kind\":null,\"lang\":null}", PROTO_CMD_REQUEST_FLOOR);
    CHECK_INT(cmd.kind, PROTO_KIND_SPEECH);
    CHECK_STR(cmd.lang, "");

    /* withdraw, remove_request */
    OK("{\"type\":\"withdraw\",\"request_id\":\"r17\"}", PROTO_CMD_WITHDRAW);
    CHECK(cmd.has_request_id);
    CHECK_STR(cmd.request_id, "r17");
    OK("{\"type\":\"remove_request\",\"request_id\":\"abcdefghijklmnopqrstuvwxyz012345\"}",
       PROTO_CMD_REMOVE_REQUEST);
    CHECK_STR(cmd.request_id, "abcdefghijklmnopqrstuvwxyz012345");

    /* commands without arguments */
    OK("{\"type\":\"yield\"}", PROTO_CMD_YIELD);
    OK("{\"type\":\"end_floor\"}", PROTO_CMD_END_FLOOR);
    OK("{\"type\":\"pause\"}", PROTO_CMD_PAUSE);
    OK("{\"type\":\"resume\"}", PROTO_CMD_RESUME);
    OK("{\"type\":\"open_list\"}", PROTO_CMD_OPEN_LIST);
    OK("{\"type\":\"close_list\"}", PROTO_CMD_CLOSE_LIST);

    /* say, announce */
    OK("{\"type\":\"say\",\"text\":\"hello\"}", PROTO_CMD_SAY);
    CHECK_STR(cmd.text, "hello");
    OK("{\"type\":\"announce\",\"text\":\"Line 1\\nLine 2 \\u20ac \\ud834\\udd1e\"}",
       PROTO_CMD_ANNOUNCE);
    CHECK_STR(cmd.text, "Line 1\nLine 2 \xe2\x82\xac \xf0\x9d\x84\x9e");
    OK("{\"type\":\"say\",\"text\":\"   \"}", PROTO_CMD_SAY);
    CHECK_STR(cmd.text, "   ");
    char *t = rep("x", 2000);
    f = fmt("{\"type\":\"say\",\"text\":\"%s\"}", t);
    OK(f, PROTO_CMD_SAY);
    CHECK_STR(cmd.text, t);
    free(f);
    free(t);
    t = rep("\xf0\x9d\x84\x9e", 2000); /* 2000 code points, 8000 bytes */
    f = fmt("{\"type\":\"announce\",\"text\":\"%s\"}", t);
    OK(f, PROTO_CMD_ANNOUNCE);
    CHECK_STR(cmd.text, t);
    free(f);
    free(t);

    /* grant: neither, request_id, sub */
    OK("{\"type\":\"grant\"}", PROTO_CMD_GRANT);
    CHECK(!cmd.has_request_id && !cmd.has_sub);
    OK("{\"type\":\"grant\",\"request_id\":\"r3\"}", PROTO_CMD_GRANT);
    CHECK(cmd.has_request_id && !cmd.has_sub);
    CHECK_STR(cmd.request_id, "r3");
    OK("{\"type\":\"grant\",\"sub\":\"france@un.org\"}", PROTO_CMD_GRANT);
    CHECK(!cmd.has_request_id && cmd.has_sub);
    CHECK_STR(cmd.sub, "france@un.org");
    OK("{\"type\":\"grant\",\"sub\":\"d1\",\"request_id\":null}", PROTO_CMD_GRANT);
    CHECK(!cmd.has_request_id && cmd.has_sub);

    /* extend */
    OK("{\"type\":\"extend\",\"seconds\":1}", PROTO_CMD_EXTEND);
    CHECK_INT(cmd.seconds, 1);
    OK("{\"type\":\"extend\",\"seconds\":60}", PROTO_CMD_EXTEND);
    CHECK_INT(cmd.seconds, 60);
    OK("{\"type\":\"extend\",\"seconds\":3600}", PROTO_CMD_EXTEND);
    CHECK_INT(cmd.seconds, 3600);

    /* move */
    OK("{\"type\":\"move\",\"request_id\":\"r1\",\"to\":0}", PROTO_CMD_MOVE);
    CHECK_STR(cmd.request_id, "r1");
    CHECK_INT(cmd.to, 0);
    OK("{\"type\":\"move\",\"request_id\":\"r1\",\"to\":5}", PROTO_CMD_MOVE);
    CHECK_INT(cmd.to, 5);
    OK("{\"type\":\"move\",\"request_id\":\"r1\",\"to\":9223372036854775807}", PROTO_CMD_MOVE);
    CHECK(cmd.to == LONG_MAX || cmd.to == (long)9223372036854775807LL);

    /* mute, unmute, remove */
    OK("{\"type\":\"mute\",\"sub\":\"d1\"}", PROTO_CMD_MUTE);
    CHECK(cmd.has_sub);
    CHECK_STR(cmd.sub, "d1");
    OK("{\"type\":\"unmute\",\"sub\":\"d1\"}", PROTO_CMD_UNMUTE);
    CHECK_STR(cmd.sub, "d1");
    char *sub = rep("s", 64);
    f = fmt("{\"type\":\"remove\",\"sub\":\"%s\"}", sub);
    OK(f, PROTO_CMD_REMOVE);
    CHECK_STR(cmd.sub, sub);
    free(f);
    free(sub);

    /* set_role */
    OK("{\"type\":\"set_role\",\"sub\":\"d1\",\"role\":\"observer\"}", PROTO_CMD_SET_ROLE);
    CHECK_STR(cmd.sub, "d1");
    CHECK_INT(cmd.role, PROTO_ROLE_OBSERVER);
    OK("{\"type\":\"set_role\",\"sub\":\"o1\",\"role\":\"delegate\"}", PROTO_CMD_SET_ROLE);
    CHECK_INT(cmd.role, PROTO_ROLE_DELEGATE);

    /* set_agenda_item */
    OK("{\"type\":\"set_agenda_item\",\"item\":\"q1\"}", PROTO_CMD_SET_AGENDA_ITEM);
    CHECK_STR(cmd.item, "q1");
    OK("{\"type\":\"set_agenda_item\",\"item\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
       PROTO_CMD_SET_AGENDA_ITEM);
    CHECK_STR(cmd.item, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");

    /* set_status */
    OK("{\"type\":\"set_status\",\"status\":\"open\"}", PROTO_CMD_SET_STATUS);
    CHECK_INT(cmd.status, PROTO_STATUS_OPEN);
    OK("{\"type\":\"set_status\",\"status\":\"suspended\"}", PROTO_CMD_SET_STATUS);
    CHECK_INT(cmd.status, PROTO_STATUS_SUSPENDED);
    OK("{\"type\":\"set_status\",\"status\":\"closed\"}", PROTO_CMD_SET_STATUS);
    CHECK_INT(cmd.status, PROTO_STATUS_CLOSED);

    /* update_settings keeps its own reference to the object. */
    OK("{\"type\":\"update_settings\",\"settings\":{\"speech_s\":120,\"chat\":\"floor\"}}",
       PROTO_CMD_UPDATE_SETTINGS);
    json_t *st = cmd.settings;
    CHECK(json_is_object(st));
    CHECK_INT(json_integer_value(json_object_get(st, "speech_s")), 120);
    CHECK_STR(json_string_value(json_object_get(st, "chat")), "floor");
    CHECK_INT(st ? st->refcount : 0, 1);
    OK("{\"type\":\"update_settings\",\"settings\":{}}", PROTO_CMD_UPDATE_SETTINGS);
    CHECK(json_is_object((json_t *)cmd.settings));
    CHECK_INT(json_object_size(cmd.settings), 0);

    /* A caller may keep the settings past clear by taking a reference. */
    OK("{\"type\":\"update_settings\",\"settings\":{\"reply_s\":30}}", PROTO_CMD_UPDATE_SETTINGS);
    json_t *kept = json_incref(cmd.settings);
    proto_cmd_clear(&cmd);
    CHECK(cmd.settings == NULL);
    CHECK_INT(json_integer_value(json_object_get(kept, "reply_s")), 30);
    json_decref(kept);

    /* Every command type decodes with its minimal arguments. */
    static const char *const minimal[PROTO_CMD__COUNT] = {
        [PROTO_CMD_JOIN] = ",\"token\":\"t\"",
        [PROTO_CMD_WITHDRAW] = ",\"request_id\":\"r1\"",
        [PROTO_CMD_SAY] = ",\"text\":\"x\"",
        [PROTO_CMD_EXTEND] = ",\"seconds\":30",
        [PROTO_CMD_MOVE] = ",\"request_id\":\"r1\",\"to\":1",
        [PROTO_CMD_REMOVE_REQUEST] = ",\"request_id\":\"r1\"",
        [PROTO_CMD_MUTE] = ",\"sub\":\"d\"",
        [PROTO_CMD_UNMUTE] = ",\"sub\":\"d\"",
        [PROTO_CMD_REMOVE] = ",\"sub\":\"d\"",
        [PROTO_CMD_SET_ROLE] = ",\"sub\":\"d\",\"role\":\"observer\"",
        [PROTO_CMD_ANNOUNCE] = ",\"text\":\"x\"",
        [PROTO_CMD_SET_AGENDA_ITEM] = ",\"item\":\"q\"",
        [PROTO_CMD_SET_STATUS] = ",\"status\":\"open\"",
        [PROTO_CMD_UPDATE_SETTINGS] = ",\"settings\":{}",
        [PROTO_CMD_SET_SCHEDULE] = ",\"schedule\":null",
        [PROTO_CMD_SET_AGENDA] = ",\"agenda\":[]",
        [PROTO_CMD_DEPOSIT_STATEMENT] = ",\"request_id\":\"r1\",\"text\":\"x\"",
        [PROTO_CMD_GET_STATEMENT] = ",\"request_id\":\"r1\"",
        [PROTO_CMD_ACCEPT_WRITTEN] = ",\"request_id\":\"r1\"",
        [PROTO_CMD_PUBLISH_CONCLUSIONS] = ",\"text\":\"x\"",
    };
    for (int i = 0; i < PROTO_CMD__COUNT; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"id\":\"n%d\",\"if_seq\":7%s}",
                 proto_cmd_name((enum proto_cmd_type)i), i, minimal[i] ? minimal[i] : "");
        OK(buf, i);
        CHECK(cmd.has_if_seq);
        CHECK_INT(cmd.if_seq, 7);
        char want[16];
        snprintf(want, sizeof want, "n%d", i);
        CHECK_STR(cmd.id, want);
        /* And a command with required arguments is refused without them,
         * still carrying its id. */
        if (minimal[i]) {
            snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"id\":\"n%d\"}",
                     proto_cmd_name((enum proto_cmd_type)i), i);
            ERR(buf, PROTO_ERR_BAD_REQUEST, NULL);
            CHECK_STR(cmd.id, want);
        }
    }
    proto_cmd_clear(&cmd);
}

/* ---- written statements and conclusions (contract 9.4, 9.5) ---- */

static void test_statements(void)
{
    size_t n = PROTO_MAX_STATEMENT_CHARS;
    /* 20,000 characters of two bytes each, with line breaks */
    char *big = malloc(2 * n + 200);
    char *p = big + sprintf(big, "{\"type\":\"deposit_statement\",\"request_id\":\"r7\",\"lang\":\"fr\",\"text\":\"");
    for (size_t i = 0; i < n; i++) {
        if (i % 100 == 99) {
            memcpy(p, "\\n", 2);
            p += 2;
        } else {
            memcpy(p, "\xc3\xa9", 2);
            p += 2;
        }
    }
    strcpy(p, "\"}");
    CHECK_INT(proto_cmd_decode(big, strlen(big), &cmd, msg, sizeof msg), PROTO_OK);
    CHECK_INT(cmd.type, PROTO_CMD_DEPOSIT_STATEMENT);
    CHECK_STR(cmd.request_id, "r7");
    CHECK_STR(cmd.lang, "fr");
    CHECK_INT(proto_utf8_chars(cmd.text, strlen(cmd.text)), (long)n);
    CHECK(proto_cmd_big_frame(cmd.type));
    proto_cmd_clear(&cmd);
    /* one more is too large */
    strcpy(p, "x\"}");
    CHECK_INT(proto_cmd_decode(big, strlen(big), &cmd, msg, sizeof msg), PROTO_ERR_TOO_LARGE);
    proto_cmd_clear(&cmd);
    free(big);
    CHECK_INT(proto_cmd_decode("{\"type\":\"deposit_statement\",\"request_id\":\"r1\",\"text\":\"\"}",
                               62, &cmd, msg, sizeof msg),
              PROTO_ERR_BAD_REQUEST);
    proto_cmd_clear(&cmd);
    const char *badlang = "{\"type\":\"deposit_statement\",\"request_id\":\"r1\",\"text\":\"x\",\"lang\":\"f r\"}";
    CHECK_INT(proto_cmd_decode(badlang, strlen(badlang), &cmd, msg, sizeof msg), PROTO_ERR_BAD_REQUEST);
    proto_cmd_clear(&cmd);
    const char *concl = "{\"type\":\"publish_conclusions\",\"text\":\"We agree.\\nThank you.\"}";
    CHECK_INT(proto_cmd_decode(concl, strlen(concl), &cmd, msg, sizeof msg), PROTO_OK);
    CHECK_STR(cmd.text, "We agree.\nThank you.");
    CHECK(proto_cmd_big_frame(cmd.type));
    proto_cmd_clear(&cmd);
    /* a say keeps its 2,000 and its ordinary frame */
    CHECK(!proto_cmd_big_frame(PROTO_CMD_SAY));
    CHECK(!proto_cmd_big_frame(PROTO_CMD_GET_STATEMENT));
    CHECK_INT(proto_role_parse("interpreter"), PROTO_ROLE_INTERPRETER);
}

/* ---- decoding: invalid frames ---- */

static void test_decode_frames(void)
{
    /* Not JSON. */
    ERR("", PROTO_ERR_BAD_REQUEST, NULL);
    ERR(" ", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("nope", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{type:\"ping\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{'type':'ping'}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"ping\",}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"ping\"} x", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"ping\"}{\"type\":\"ping\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"ping\"\"id\":\"x\"}", PROTO_ERR_BAD_REQUEST, NULL);
    /* A NUL byte inside the frame, or escaped in a string. */
    err_at(__LINE__, "{\"type\":\"ping\"}\0", 16, PROTO_ERR_BAD_REQUEST, NULL);
    err_at(__LINE__, "{\"type\":\"pi\0ng\"}", 16, PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"say\",\"text\":\"a\\u0000b\"}", PROTO_ERR_BAD_REQUEST, NULL);
    /* Lone surrogate escapes are not Unicode. */
    ERR("{\"type\":\"say\",\"text\":\"\\ud800\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"say\",\"text\":\"\\udc00x\"}", PROTO_ERR_BAD_REQUEST, NULL);
    /* Duplicate keys are ambiguous: refused. */
    ERR("{\"type\":\"ping\",\"type\":\"yield\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"extend\",\"seconds\":1,\"seconds\":3600}", PROTO_ERR_BAD_REQUEST, NULL);
    /* Numbers jansson cannot hold. */
    ERR("{\"type\":\"ping\",\"if_seq\":99999999999999999999}", PROTO_ERR_BAD_REQUEST, NULL);

    /* Not an object. */
    ERR("[]", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("[{\"type\":\"ping\"}]", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("\"ping\"", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("42", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("null", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("true", PROTO_ERR_BAD_REQUEST, NULL);

    /* Invalid UTF-8 anywhere: in a value, a key, an unknown field. */
    ERR("{\"type\":\"say\",\"text\":\"\xff\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"say\",\"text\":\"\xc0\xaf\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"say\",\"text\":\"\xed\xa0\x80\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"say\",\"text\":\"\xf4\x90\x80\x80\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"say\",\"text\":\"abc\xe2\x82\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"say\",\"text\":\"\x80\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"ping\",\"x\xfe\":1}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("{\"type\":\"ping\",\"future\":\"\xc3\"}", PROTO_ERR_BAD_REQUEST, NULL);
    ERR("\xef\xbb\xbf{\"type\":\"ping\"}", PROTO_ERR_BAD_REQUEST, NULL); /* BOM */

    /* Missing or non-string type; the id still comes back. */
    ERR("{}", PROTO_ERR_BAD_REQUEST, "type");
    ERR("{\"id\":\"x\"}", PROTO_ERR_BAD_REQUEST, "type");
    CHECK_STR(cmd.id, "x");
    ERR("{\"type\":5,\"id\":\"y\"}", PROTO_ERR_BAD_REQUEST, "type");
    CHECK_STR(cmd.id, "y");
    ERR("{\"type\":null}", PROTO_ERR_BAD_REQUEST, "type");
    ERR("{\"type\":[\"ping\"]}", PROTO_ERR_BAD_REQUEST, "type");
    ERR("{\"type\":{\"name\":\"ping\"}}", PROTO_ERR_BAD_REQUEST, "type");
    ERR("{\"type\":true}", PROTO_ERR_BAD_REQUEST, "type");

    /* Unknown type. */
    ERR("{\"type\":\"fly\",\"id\":\"u1\"}", PROTO_ERR_UNKNOWN_TYPE, NULL);
    CHECK_STR(cmd.id, "u1");
    CHECK(cmd.has_id);
    ERR("{\"type\":\"\"}", PROTO_ERR_UNKNOWN_TYPE, NULL);
    ERR("{\"type\":\"PING\"}", PROTO_ERR_UNKNOWN_TYPE, NULL);
    ERR("{\"type\":\"ping \"}", PROTO_ERR_UNKNOWN_TYPE, NULL);
    ERR("{\"type\":\"welcome\"}", PROTO_ERR_UNKNOWN_TYPE, NULL);
    ERR("{\"type\":\"event\"}", PROTO_ERR_UNKNOWN_TYPE, NULL);
    ERR("{\"type\":\"floor_granted\"}", PROTO_ERR_UNKNOWN_TYPE, NULL);
    /* The unknown name is not echoed back. */
    ERR("{\"type\":\"<script>alert(1)</script>\"}", PROTO_ERR_UNKNOWN_TYPE, NULL);
    CHECK(strstr(msg, "script") == NULL);

    /* id: string of at most 64 code points, not copied otherwise. */
    char *id = rep("i", 65), *f = fmt("{\"type\":\"ping\",\"id\":\"%s\"}", id);
    ERR(f, PROTO_ERR_BAD_REQUEST, "id");
    CHECK_STR(cmd.id, "");
    CHECK(!cmd.has_id);
    free(f);
    free(id);
    id = rep("\xc3\xa9", 65);
    f = fmt("{\"type\":\"ping\",\"id\":\"%s\"}", id);
    ERR(f, PROTO_ERR_BAD_REQUEST, "id");
    CHECK_STR(cmd.id, "");
    free(f);
    free(id);
    ERR("{\"type\":\"ping\",\"id\":5}", PROTO_ERR_BAD_REQUEST, "id");
    CHECK_STR(cmd.id, "");
    ERR("{\"type\":\"ping\",\"id\":[\"x\"]}", PROTO_ERR_BAD_REQUEST, "id");
    ERR("{\"type\":\"ping\",\"id\":true}", PROTO_ERR_BAD_REQUEST, "id");
    ERR("{\"type\":\"fly\",\"id\":5}", PROTO_ERR_BAD_REQUEST, "id");

    /* if_seq: a non-negative integer. */
    ERR("{\"type\":\"yield\",\"if_seq\":-1,\"id\":\"s\"}", PROTO_ERR_BAD_REQUEST, "if_seq");
    CHECK_STR(cmd.id, "s");
    ERR("{\"type\":\"yield\",\"if_seq\":1.5}", PROTO_ERR_BAD_REQUEST, "if_seq");
    ERR("{\"type\":\"yield\",\"if_seq\":3.0}", PROTO_ERR_BAD_REQUEST, "if_seq");
    ERR("{\"type\":\"yield\",\"if_seq\":1e3}", PROTO_ERR_BAD_REQUEST, "if_seq");
    ERR("{\"type\":\"yield\",\"if_seq\":\"3\"}", PROTO_ERR_BAD_REQUEST, "if_seq");
    ERR("{\"type\":\"yield\",\"if_seq\":true}", PROTO_ERR_BAD_REQUEST, "if_seq");
    ERR("{\"type\":\"yield\",\"if_seq\":[3]}", PROTO_ERR_BAD_REQUEST, "if_seq");
}

static void test_decode_args(void)
{
    char *s, *f;

    /* join */
    ERR("{\"type\":\"join\"}", PROTO_ERR_BAD_REQUEST, "token");
    ERR("{\"type\":\"join\",\"token\":5}", PROTO_ERR_BAD_REQUEST, "token");
    ERR("{\"type\":\"join\",\"token\":null}", PROTO_ERR_BAD_REQUEST, "token");
    ERR("{\"type\":\"join\",\"token\":\"\"}", PROTO_ERR_BAD_REQUEST, "token");
    ERR("{\"type\":\"join\",\"token\":[\"a\"]}", PROTO_ERR_BAD_REQUEST, "token");
    s = rep("t", 4097);
    f = fmt("{\"type\":\"join\",\"token\":\"%s\"}", s);
    ERR(f, PROTO_ERR_BAD_REQUEST, "token");
    CHECK(cmd.token == NULL);
    free(f);
    free(s);
    ERR("{\"type\":\"join\",\"token\":\"t\",\"since\":-1}", PROTO_ERR_BAD_REQUEST, "since");
    ERR("{\"type\":\"join\",\"token\":\"t\",\"since\":\"1\"}", PROTO_ERR_BAD_REQUEST, "since");
    ERR("{\"type\":\"join\",\"token\":\"t\",\"since\":1.0}", PROTO_ERR_BAD_REQUEST, "since");
    ERR("{\"type\":\"join\",\"token\":\"t\",\"since\":false}", PROTO_ERR_BAD_REQUEST, "since");
    ERR("{\"type\":\"join\",\"token\":\"t\",\"epoch\":5}", PROTO_ERR_BAD_REQUEST, "epoch");
    ERR("{\"type\":\"join\",\"token\":\"t\",\"deltas\":1}", PROTO_ERR_BAD_REQUEST, "deltas");
    ERR("{\"type\":\"join\",\"token\":\"t\",\"deltas\":\"yes\"}", PROTO_ERR_BAD_REQUEST, "deltas");
    ERR("{\"type\":\"join\",\"token\":\"t\",\"epoch\":{}}", PROTO_ERR_BAD_REQUEST, "epoch");
    s = rep("e", 33);
    f = fmt("{\"type\":\"join\",\"token\":\"t\",\"epoch\":\"%s\"}", s);
    ERR(f, PROTO_ERR_BAD_REQUEST, "epoch");
    free(f);
    free(s);

    /* request_floor */
    ERR("{\"type\":\"request_floor\",\"kind\":\"speak\"}", PROTO_ERR_BAD_REQUEST, "kind");
    ERR("{\"type\":\"request_floor\",\"kind\":\"Speech\"}", PROTO_ERR_BAD_REQUEST, "kind");
    ERR("{\"type\":\"request_floor\",\"kind\":\"\"}", PROTO_ERR_BAD_REQUEST, "kind");
    ERR("{\"type\":\"request_floor\",\"kind\":1}", PROTO_ERR_BAD_REQUEST, "kind");
    ERR("{\"type\":\"request_floor\",\"kind\":[\"reply\"]}", PROTO_ERR_BAD_REQUEST, "kind");
    ERR("{\"type\":\"request_floor\",\"lang\":\"\"}", PROTO_ERR_BAD_REQUEST, "lang");
    ERR("{\"type\":\"request_floor\",\"lang\":\"abcdefgh-12345678\"}", PROTO_ERR_BAD_REQUEST, "lang");
    ERR("{\"type\":\"request_floor\",\"lang\":\"fr_FR\"}", PROTO_ERR_BAD_REQUEST, "lang");
    ERR("{\"type\":\"request_floor\",\"lang\":\"fr fr\"}", PROTO_ERR_BAD_REQUEST, "lang");
    ERR("{\"type\":\"request_floor\",\"lang\":\"fran\xc3\xa7\"}", PROTO_ERR_BAD_REQUEST, "lang");
    ERR("{\"type\":\"request_floor\",\"lang\":5}", PROTO_ERR_BAD_REQUEST, "lang");
    ERR("{\"type\":\"request_floor\",\"kind\":\"reply\",\"lang\":true}", PROTO_ERR_BAD_REQUEST, "lang");

    /* withdraw and remove_request: request_id required and well-formed. */
    static const char *const rid_cmds[] = {"withdraw", "remove_request"};
    for (int i = 0; i < 2; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{\"type\":\"%s\"}", rid_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "request_id");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"request_id\":17}", rid_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "request_id");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"request_id\":\"\"}", rid_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "request_id");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"request_id\":\"r 1\"}", rid_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "request_id");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"request_id\":\"%s\"}", rid_cmds[i],
                 "abcdefghijklmnopqrstuvwxyz0123456");
        ERR(buf, PROTO_ERR_BAD_REQUEST, "request_id");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"request_id\":null}", rid_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "request_id");
    }

    /* say and announce: text 1..2000 code points; more is too_large. */
    static const char *const text_cmds[] = {"say", "announce"};
    for (int i = 0; i < 2; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"id\":\"t%d\"}", text_cmds[i], i);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "text");
        CHECK(cmd.text == NULL);
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"text\":\"\"}", text_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "text");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"text\":5}", text_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "text");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"text\":null}", text_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "text");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"text\":[\"hi\"]}", text_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "text");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"text\":{}}", text_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "text");
        s = rep("x", 2001);
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"id\":\"big\",\"text\":\"%cs\"}", text_cmds[i], '%');
        f = fmt(buf, s);
        ERR(f, PROTO_ERR_TOO_LARGE, "text");
        CHECK_STR(cmd.id, "big");
        CHECK(cmd.text == NULL);
        free(f);
        free(s);
        s = rep("\xc3\xa9", 2001);
        f = fmt(buf, s);
        ERR(f, PROTO_ERR_TOO_LARGE, "text");
        free(f);
        free(s);
        s = rep("\\u00e9", 2001); /* escaped: counted after unescaping */
        f = fmt(buf, s);
        ERR(f, PROTO_ERR_TOO_LARGE, "text");
        free(f);
        free(s);
        s = rep("\\u00e9", 2000);
        f = fmt(buf, s);
        CHECK_INT(dec(f), PROTO_OK);
        free(f);
        free(s);
    }

    /* grant */
    ERR("{\"type\":\"grant\",\"request_id\":\"r1\",\"sub\":\"d1\"}", PROTO_ERR_BAD_REQUEST, "request_id");
    CHECK(strstr(msg, "'sub'") != NULL);
    ERR("{\"type\":\"grant\",\"request_id\":\"r 1\"}", PROTO_ERR_BAD_REQUEST, "request_id");
    ERR("{\"type\":\"grant\",\"request_id\":1}", PROTO_ERR_BAD_REQUEST, "request_id");
    ERR("{\"type\":\"grant\",\"sub\":\"a b\"}", PROTO_ERR_BAD_REQUEST, "sub");
    ERR("{\"type\":\"grant\",\"sub\":\"\"}", PROTO_ERR_BAD_REQUEST, "sub");
    ERR("{\"type\":\"grant\",\"sub\":{}}", PROTO_ERR_BAD_REQUEST, "sub");

    /* extend: the message says exactly what is allowed. */
    ERR("{\"type\":\"extend\",\"seconds\":0}", PROTO_ERR_BAD_REQUEST, "seconds");
    CHECK_STR(msg, "field 'seconds' must be an integer from 1 to 3600");
    ERR("{\"type\":\"extend\"}", PROTO_ERR_BAD_REQUEST, "seconds");
    CHECK_STR(msg, "field 'seconds' is required");
    ERR("{\"type\":\"extend\",\"seconds\":3601}", PROTO_ERR_BAD_REQUEST, "seconds");
    ERR("{\"type\":\"extend\",\"seconds\":-5}", PROTO_ERR_BAD_REQUEST, "seconds");
    ERR("{\"type\":\"extend\",\"seconds\":1.5}", PROTO_ERR_BAD_REQUEST, "seconds");
    ERR("{\"type\":\"extend\",\"seconds\":60.0}", PROTO_ERR_BAD_REQUEST, "seconds");
    ERR("{\"type\":\"extend\",\"seconds\":\"60\"}", PROTO_ERR_BAD_REQUEST, "seconds");
    ERR("{\"type\":\"extend\",\"seconds\":true}", PROTO_ERR_BAD_REQUEST, "seconds");
    ERR("{\"type\":\"extend\",\"seconds\":null}", PROTO_ERR_BAD_REQUEST, "seconds");
    ERR("{\"type\":\"extend\",\"seconds\":4294967356}", PROTO_ERR_BAD_REQUEST, "seconds");
    ERR("{\"type\":\"extend\",\"seconds\":-9223372036854775808}", PROTO_ERR_BAD_REQUEST, "seconds");

    /* move */
    ERR("{\"type\":\"move\",\"to\":1}", PROTO_ERR_BAD_REQUEST, "request_id");
    ERR("{\"type\":\"move\",\"request_id\":\"r1\"}", PROTO_ERR_BAD_REQUEST, "to");
    ERR("{\"type\":\"move\",\"request_id\":\"r1\",\"to\":-1}", PROTO_ERR_BAD_REQUEST, "to");
    CHECK_STR(msg, "field 'to' must be a non-negative integer");
    ERR("{\"type\":\"move\",\"request_id\":\"r1\",\"to\":1.5}", PROTO_ERR_BAD_REQUEST, "to");
    ERR("{\"type\":\"move\",\"request_id\":\"r1\",\"to\":\"1\"}", PROTO_ERR_BAD_REQUEST, "to");
    ERR("{\"type\":\"move\",\"request_id\":\"r1\",\"to\":null}", PROTO_ERR_BAD_REQUEST, "to");
    ERR("{\"type\":\"move\",\"request_id\":\"bad id\",\"to\":1}", PROTO_ERR_BAD_REQUEST, "request_id");

    /* mute, unmute, remove: sub required and well-formed. */
    static const char *const sub_cmds[] = {"mute", "unmute", "remove"};
    for (int i = 0; i < 3; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{\"type\":\"%s\"}", sub_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "sub");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"sub\":7}", sub_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "sub");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"sub\":\"a b\"}", sub_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "sub");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"sub\":\"a+b\"}", sub_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "sub");
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"sub\":\"\"}", sub_cmds[i]);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "sub");
        s = rep("s", 65);
        snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"sub\":\"%s\"}", sub_cmds[i], s);
        ERR(buf, PROTO_ERR_BAD_REQUEST, "sub");
        free(s);
    }

    /* set_role */
    ERR("{\"type\":\"set_role\",\"sub\":\"d1\",\"role\":\"moderator\"}", PROTO_ERR_BAD_REQUEST, "role");
    ERR("{\"type\":\"set_role\",\"sub\":\"d1\",\"role\":\"admin\"}", PROTO_ERR_BAD_REQUEST, "role");
    ERR("{\"type\":\"set_role\",\"sub\":\"d1\",\"role\":\"Delegate\"}", PROTO_ERR_BAD_REQUEST, "role");
    ERR("{\"type\":\"set_role\",\"sub\":\"d1\",\"role\":1}", PROTO_ERR_BAD_REQUEST, "role");
    ERR("{\"type\":\"set_role\",\"sub\":\"d1\"}", PROTO_ERR_BAD_REQUEST, "role");
    ERR("{\"type\":\"set_role\",\"role\":\"observer\"}", PROTO_ERR_BAD_REQUEST, "sub");
    ERR("{\"type\":\"set_role\",\"sub\":\"d 1\",\"role\":\"observer\"}", PROTO_ERR_BAD_REQUEST, "sub");

    /* set_agenda_item */
    ERR("{\"type\":\"set_agenda_item\"}", PROTO_ERR_BAD_REQUEST, "item");
    ERR("{\"type\":\"set_agenda_item\",\"item\":\"\"}", PROTO_ERR_BAD_REQUEST, "item");
    ERR("{\"type\":\"set_agenda_item\",\"item\":\"q 1\"}", PROTO_ERR_BAD_REQUEST, "item");
    ERR("{\"type\":\"set_agenda_item\",\"item\":5}", PROTO_ERR_BAD_REQUEST, "item");
    ERR("{\"type\":\"set_agenda_item\",\"item\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
        PROTO_ERR_BAD_REQUEST, "item");

    /* set_status */
    ERR("{\"type\":\"set_status\"}", PROTO_ERR_BAD_REQUEST, "status");
    ERR("{\"type\":\"set_status\",\"status\":\"paused\"}", PROTO_ERR_BAD_REQUEST, "status");
    ERR("{\"type\":\"set_status\",\"status\":\"OPEN\"}", PROTO_ERR_BAD_REQUEST, "status");
    ERR("{\"type\":\"set_status\",\"status\":1}", PROTO_ERR_BAD_REQUEST, "status");

    /* update_settings */
    ERR("{\"type\":\"update_settings\"}", PROTO_ERR_BAD_REQUEST, "settings");
    ERR("{\"type\":\"update_settings\",\"settings\":null}", PROTO_ERR_BAD_REQUEST, "settings");
    ERR("{\"type\":\"update_settings\",\"settings\":[]}", PROTO_ERR_BAD_REQUEST, "settings");
    ERR("{\"type\":\"update_settings\",\"settings\":\"speech_s=60\"}", PROTO_ERR_BAD_REQUEST, "settings");
    ERR("{\"type\":\"update_settings\",\"settings\":5}", PROTO_ERR_BAD_REQUEST, "settings");
    ERR("{\"type\":\"update_settings\",\"speech_s\":60}", PROTO_ERR_BAD_REQUEST, "settings");
    /* the message names the form the command takes */
    ERR("{\"type\":\"update_settings\",\"speech_s\":60}", PROTO_ERR_BAD_REQUEST, NULL);
    CHECK(strstr(msg, "{\"type\":\"update_settings\",\"settings\":{") != NULL);
    CHECK(cmd.settings == NULL);
    proto_cmd_clear(&cmd);

    /* set_schedule: an object or null (null removes it), required. */
    OK("{\"type\":\"set_schedule\",\"schedule\":{\"starts_at\":1}}", PROTO_CMD_SET_SCHEDULE);
    CHECK(json_is_object((json_t *)cmd.schedule));
    OK("{\"type\":\"set_schedule\",\"schedule\":null}", PROTO_CMD_SET_SCHEDULE);
    CHECK(json_is_null((json_t *)cmd.schedule));
    ERR("{\"type\":\"set_schedule\"}", PROTO_ERR_BAD_REQUEST, "schedule");
    ERR("{\"type\":\"set_schedule\",\"schedule\":[]}", PROTO_ERR_BAD_REQUEST, "schedule");
    ERR("{\"type\":\"set_schedule\",\"schedule\":\"11:30\"}", PROTO_ERR_BAD_REQUEST,
        "schedule");
    CHECK(cmd.schedule == NULL);
    /* set_agenda: an array, required. */
    OK("{\"type\":\"set_agenda\",\"agenda\":[{\"id\":\"q1\"}]}", PROTO_CMD_SET_AGENDA);
    CHECK_INT(json_array_size((json_t *)cmd.agenda), 1);
    ERR("{\"type\":\"set_agenda\"}", PROTO_ERR_BAD_REQUEST, "agenda");
    ERR("{\"type\":\"set_agenda\",\"agenda\":null}", PROTO_ERR_BAD_REQUEST, "agenda");
    ERR("{\"type\":\"set_agenda\",\"agenda\":{}}", PROTO_ERR_BAD_REQUEST, "agenda");
    CHECK(cmd.agenda == NULL);
    /* status scheduled decodes (the room refuses it for set_status) */
    OK("{\"type\":\"set_status\",\"status\":\"scheduled\"}", PROTO_CMD_SET_STATUS);
    CHECK_INT(cmd.status, PROTO_STATUS_SCHEDULED);
    proto_cmd_clear(&cmd);
}

/* ---- decoding: hostile input ---- */

static uint32_t rng = 0x12345678u;
static uint32_t next_rand(void)
{
    /* xorshift32: deterministic, so a failure reproduces. */
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void test_decode_hostile(void)
{
    /* Binary garbage of every length up to 2 KiB. */
    for (int round = 0; round < 2000; round++) {
        size_t n = next_rand() % 2048;
        char *buf = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(next_rand() & 0xff);
        if (round % 2 && n > 0)
            buf[0] = '{'; /* get past the first byte now and then */
        enum proto_err e = proto_cmd_decode(buf, n, &cmd, msg, sizeof msg);
        CHECK_INT(e, PROTO_ERR_BAD_REQUEST);
        proto_cmd_clear(&cmd);
        free(buf);
    }

    /* 10,000-deep nesting, as arrays, objects and inside a valid command. */
    enum { DEPTH = 10000 };
    char *deep = malloc(DEPTH * 8 + 64);
    size_t n = 0;
    for (int i = 0; i < DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < DEPTH; i++)
        deep[n++] = ']';
    err_at(__LINE__, deep, n, PROTO_ERR_BAD_REQUEST, NULL);
    /* Unclosed. */
    err_at(__LINE__, deep, DEPTH, PROTO_ERR_BAD_REQUEST, NULL);

    n = 0;
    for (int i = 0; i < DEPTH; i++) {
        memcpy(deep + n, "{\"a\":", 5);
        n += 5;
    }
    deep[n++] = '1';
    for (int i = 0; i < DEPTH; i++)
        deep[n++] = '}';
    err_at(__LINE__, deep, n, PROTO_ERR_BAD_REQUEST, NULL);

    n = 0;
    memcpy(deep, "{\"type\":\"ping\",\"x\":", 19);
    n = 19;
    for (int i = 0; i < DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < DEPTH; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    err_at(__LINE__, deep, n, PROTO_ERR_BAD_REQUEST, NULL);
    free(deep);

    /* Every strict prefix of a valid frame is refused (truncation). */
    const char *full =
        "{\"type\":\"join\",\"id\":\"j1\",\"token\":\"a.b.c\",\"since\":42,"
        "\"epoch\":\"k3v9q2\",\"x\":[1,{\"y\":\"\xc3\xa9\\u20ac\"},true,null,-1.5e3]}";
    CHECK_INT(dec(full), PROTO_OK);
    for (size_t k = 0; k < strlen(full); k++) {
        enum proto_err e = dec_n(full, k);
        if (e != PROTO_ERR_BAD_REQUEST)
            fprintf(stderr, "prefix of %zu bytes -> %s\n", k, proto_err_code(e));
        CHECK_INT(e, PROTO_ERR_BAD_REQUEST);
    }
    const char *say = "{\"type\":\"say\",\"text\":\"\xf0\x9d\x84\x9e\xe2\x82\xac\"}";
    CHECK_INT(dec(say), PROTO_OK);
    for (size_t k = 0; k < strlen(say); k++)
        CHECK_INT(dec_n(say, k), PROTO_ERR_BAD_REQUEST);

    /* Every single-byte corruption of a valid frame decodes or is refused,
     * never crashes, and a refusal always has a message. */
    const char *base = "{\"type\":\"move\",\"id\":\"m\",\"request_id\":\"r1\",\"to\":3}";
    size_t bl = strlen(base);
    char *mut = malloc(bl);
    for (size_t i = 0; i < bl; i++) {
        for (int b = 0; b < 256; b += 7) {
            memcpy(mut, base, bl);
            mut[i] = (char)b;
            proto_cmd_clear(&cmd);
            msg[0] = '\0';
            enum proto_err e = proto_cmd_decode(mut, bl, &cmd, msg, sizeof msg);
            CHECK(e == PROTO_OK || msg[0] != '\0');
            proto_cmd_clear(&cmd);
        }
    }
    free(mut);

    /* NULL buffer, no message buffer, a tiny message buffer. */
    CHECK_INT(proto_cmd_decode(NULL, 0, &cmd, msg, sizeof msg), PROTO_ERR_BAD_REQUEST);
    proto_cmd_clear(&cmd);
    CHECK_INT(proto_cmd_decode("{}", 2, &cmd, NULL, 0), PROTO_ERR_BAD_REQUEST);
    proto_cmd_clear(&cmd);
    char tiny[4] = "zzz";
    CHECK_INT(proto_cmd_decode("[]", 2, &cmd, tiny, sizeof tiny), PROTO_ERR_BAD_REQUEST);
    CHECK_INT(strlen(tiny), 3);
    proto_cmd_clear(&cmd);
    CHECK_INT(proto_cmd_decode("{\"type\":\"ping\"}", 15, &cmd, NULL, 0), PROTO_OK);
    /* clear twice, and clear(NULL), are harmless. */
    proto_cmd_clear(&cmd);
    proto_cmd_clear(&cmd);
    proto_cmd_clear(NULL);
    /* decode overwrites whatever the struct held before. */
    memset(&cmd, 0, sizeof cmd);
    CHECK_INT(dec("{\"type\":\"say\",\"text\":\"one\"}"), PROTO_OK);
    CHECK_INT(dec("{\"type\":\"ping\"}"), PROTO_OK);
    CHECK(cmd.text == NULL);
    proto_cmd_clear(&cmd);
}

/* ---- encoders ---- */

static void enc_check(char *out, size_t len, const char *want)
{
    CHECK_STR(out, want);
    CHECK_INT(len, out ? strlen(out) : 0);
    free(out);
}

static void test_encode(void)
{
    size_t len = 0;
    char *o;

    o = proto_encode_ack("x", 3, &len);
    enc_check(o, len, "{\"type\":\"ack\",\"id\":\"x\",\"seq\":3}");
    o = proto_encode_ack(NULL, 0, &len);
    enc_check(o, len, "{\"type\":\"ack\",\"seq\":0}");
    o = proto_encode_ack("", 17, &len);
    enc_check(o, len, "{\"type\":\"ack\",\"seq\":17}");
    o = proto_encode_ack("a\"b\\c\xc3\xa9\n", 1, &len);
    enc_check(o, len, "{\"type\":\"ack\",\"id\":\"a\\\"b\\\\c\xc3\xa9\\n\",\"seq\":1}");
    o = proto_encode_ack("x", UINT64_C(9007199254740993), &len);
    enc_check(o, len, "{\"type\":\"ack\",\"id\":\"x\",\"seq\":9007199254740993}");
    o = proto_encode_ack("x", UINT64_MAX, &len);
    enc_check(o, len, "{\"type\":\"ack\",\"id\":\"x\",\"seq\":9223372036854775807}");
    o = proto_encode_ack("x", 5, NULL);
    CHECK_STR(o, "{\"type\":\"ack\",\"id\":\"x\",\"seq\":5}");
    free(o);

    o = proto_encode_error("x", PROTO_ERR_NOT_FOUND, "no such request", &len);
    enc_check(o, len,
              "{\"type\":\"error\",\"id\":\"x\",\"code\":\"not_found\",\"message\":\"no such request\"}");
    o = proto_encode_error(NULL, PROTO_ERR_BAD_REQUEST, NULL, &len);
    enc_check(o, len,
              "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"the command is malformed\"}");
    o = proto_encode_error("", PROTO_ERR_RATE_LIMITED, "", &len);
    enc_check(o, len,
              "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"too many commands; slow down\"}");
    o = proto_encode_error("q", PROTO_ERR_STALE, "seq is \"43\", not 42", &len);
    enc_check(o, len,
              "{\"type\":\"error\",\"id\":\"q\",\"code\":\"stale\",\"message\":\"seq is \\\"43\\\", not 42\"}");
    /* A message that is not UTF-8 falls back to the table's text. */
    o = proto_encode_error("q", PROTO_ERR_INTERNAL, "bad \xff byte", &len);
    enc_check(o, len, "{\"type\":\"error\",\"id\":\"q\",\"code\":\"internal\",\"message\":\"internal error\"}");
    /* Every error code encodes with its text. */
    for (int i = 1; i < PROTO_ERR__COUNT; i++) {
        char want[256];
        snprintf(want, sizeof want, "{\"type\":\"error\",\"code\":\"%s\",\"message\":\"%s\"}",
                 proto_err_code((enum proto_err)i), proto_err_text((enum proto_err)i));
        o = proto_encode_error(NULL, (enum proto_err)i, NULL, &len);
        enc_check(o, len, want);
    }

    o = proto_encode_pong(INT64_C(1783000000000), &len);
    enc_check(o, len, "{\"type\":\"pong\",\"ts\":1783000000000}");
    o = proto_encode_pong(0, &len);
    enc_check(o, len, "{\"type\":\"pong\",\"ts\":0}");
    o = proto_encode_pong(-1, NULL);
    CHECK_STR(o, "{\"type\":\"pong\",\"ts\":-1}");
    free(o);

    /* The decode -> error reply path the session uses. */
    CHECK_INT(dec("{\"type\":\"extend\",\"id\":\"e1\",\"seconds\":0}"), PROTO_ERR_BAD_REQUEST);
    o = proto_encode_error(cmd.has_id ? cmd.id : NULL, PROTO_ERR_BAD_REQUEST, msg, &len);
    enc_check(o, len,
              "{\"type\":\"error\",\"id\":\"e1\",\"code\":\"bad_request\","
              "\"message\":\"field 'seconds' must be an integer from 1 to 3600\"}");
    /* An id with every kind of character survives decode and encode. */
    CHECK_INT(dec("{\"type\":\"pause\",\"id\":\"\\u00e9\\\"\\\\\\t\\ud83c\\udf0d\"}"), PROTO_OK);
    o = proto_encode_ack(cmd.id, 9, &len);
    enc_check(o, len, "{\"type\":\"ack\",\"id\":\"\xc3\xa9\\\"\\\\\\t\xf0\x9f\x8c\x8d\",\"seq\":9}");
    proto_cmd_clear(&cmd);
}

int main(void)
{
    test_statements();
    test_tables();
    test_utf8();
    test_validators();
    test_decode_valid();
    test_decode_frames();
    test_decode_args();
    test_decode_hostile();
    test_encode();
    return check_done();
}
