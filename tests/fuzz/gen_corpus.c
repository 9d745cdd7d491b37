/*
 * gen_corpus: writes the seed corpora of the fuzz targets.
 *
 *   gen-corpus DIR    writes DIR/{cmd,jwt,admin,journal,event}/NAME
 *
 * Seeds are valid inputs of every kind (every command type, tokens of every
 * role signed with FUZZ_KEY, room specs and token bodies, journals and
 * events produced by the real decide/apply/encode path), plus a few
 * malformed ones that reach each refusal. They are written by the code
 * itself so that they stay in the exact formats the server produces;
 * scripts/fuzz --seeds regenerates tests/fuzz/corpus with it. Not a fuzz
 * target: built without the fuzzer, run by hand.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "journal.h"

static const char *outdir;
static int written;

static void mkdir_p(const char *d)
{
    if (mkdir(d, 0755) != 0 && errno != EEXIST) {
        perror(d);
        exit(1);
    }
}

static void put(const char *target, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    written++;
}

static void put_str(const char *target, const char *name, const char *s)
{
    put(target, name, s, strlen(s));
}

/* Writes j compactly (takes ownership of j). */
static void put_json(const char *target, const char *name, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    FUZZ_CHECK(s, "cannot encode seed %s/%s", target, name);
    put_str(target, name, s);
    free(s);
    json_decref(j);
}

/* ---- cmd: one frame per command type and then some ---- */

/* One frame per command type (valid for the populated room), then refusals. */
static const struct {
    const char *name, *frame;
} frames[] = {
    {"join-min", "{\"type\":\"join\",\"token\":\"a.b.c\"}"},
    {"ping", "{\"type\":\"ping\",\"id\":\"p1\"}"},
    {"request-floor", "{\"type\":\"request_floor\",\"id\":\"c1\"}"},
    {"request-reply", "{\"type\":\"request_floor\",\"kind\":\"reply\",\"lang\":\"fr\"}"},
    {"request-poo", "{\"type\":\"request_floor\",\"kind\":\"point_of_order\",\"if_seq\":12}"},
    {"withdraw", "{\"type\":\"withdraw\",\"request_id\":\"r4\"}"},
    {"withdraw-r2", "{\"type\":\"withdraw\",\"request_id\":\"r2\",\"id\":\"w\"}"},
    {"yield", "{\"type\":\"yield\"}"},
    {"say", "{\"type\":\"say\",\"text\":\"Merci, Monsieur le Pr\\u00e9sident.\"}"},
    {"grant", "{\"type\":\"grant\"}"},
    {"grant-request", "{\"type\":\"grant\",\"request_id\":\"r2\"}"},
    {"grant-sub", "{\"type\":\"grant\",\"sub\":\"de\"}"},
    {"end-floor", "{\"type\":\"end_floor\",\"id\":\"e\"}"},
    {"pause", "{\"type\":\"pause\"}"},
    {"resume", "{\"type\":\"resume\"}"},
    {"extend", "{\"type\":\"extend\",\"seconds\":60}"},
    {"move", "{\"type\":\"move\",\"request_id\":\"r4\",\"to\":0}"},
    {"move-far", "{\"type\":\"move\",\"request_id\":\"r2\",\"to\":99999999999}"},
    {"remove-request", "{\"type\":\"remove_request\",\"request_id\":\"r2\"}"},
    {"open-list", "{\"type\":\"open_list\"}"},
    {"close-list", "{\"type\":\"close_list\"}"},
    {"mute", "{\"type\":\"mute\",\"sub\":\"de\"}"},
    {"unmute", "{\"type\":\"unmute\",\"sub\":\"ngo\"}"},
    {"remove", "{\"type\":\"remove\",\"sub\":\"fr\"}"},
    {"set-role", "{\"type\":\"set_role\",\"sub\":\"ngo\",\"role\":\"observer\"}"},
    {"set-role-delegate", "{\"type\":\"set_role\",\"sub\":\"obs\",\"role\":\"delegate\"}"},
    {"announce", "{\"type\":\"announce\",\"text\":\"We resume at 15:00.\"}"},
    {"set-agenda-item", "{\"type\":\"set_agenda_item\",\"item\":\"item-2\"}"},
    {"set-status", "{\"type\":\"set_status\",\"status\":\"suspended\"}"},
    {"set-status-closed", "{\"type\":\"set_status\",\"status\":\"closed\"}"},
    {"update-settings",
     "{\"type\":\"update_settings\",\"settings\":{\"speech_s\":300,\"reply_s\":30,"
     "\"point_of_order_s\":45,\"on_time_up\":\"end\",\"chat\":\"floor\",\"list_open\":false,"
     "\"queue_order\":\"category\",\"replies_per_item\":1,\"pause_on_disconnect\":false}}"},
    {"nulls", "{\"type\":\"request_floor\",\"id\":null,\"kind\":null,\"lang\":null,"
              "\"if_seq\":null}"},
    {"extra-fields", "{\"type\":\"ping\",\"x\":[1,{\"y\":true}],\"z\":\"\"}"},
    /* refusals */
    {"bad-unknown-type", "{\"type\":\"dance\",\"id\":\"u\"}"},
    {"bad-wrong-types", "{\"type\":\"extend\",\"seconds\":\"60\",\"id\":7}"},
    {"bad-real", "{\"type\":\"move\",\"request_id\":\"r1\",\"to\":1.0}"},
    {"bad-negative", "{\"type\":\"move\",\"request_id\":\"r1\",\"to\":-1}"},
    {"bad-duplicate", "{\"type\":\"ping\",\"type\":\"say\"}"},
    {"bad-array", "[{\"type\":\"ping\"}]"},
    {"bad-truncated", "{\"type\":\"say\",\"text\":\"abc"},
    {"bad-both", "{\"type\":\"grant\",\"sub\":\"de\",\"request_id\":\"r1\"}"},
    {"bad-role", "{\"type\":\"set_role\",\"sub\":\"de\",\"role\":\"moderator\"}"},
    {"bad-empty-text", "{\"type\":\"say\",\"text\":\"\"}"},
    {"bad-nul", "{\"type\":\"say\",\"text\":\"a\\u0000b\"}"},
    {"bad-surrogate", "{\"type\":\"say\",\"text\":\"\\ud800\"}"},
};

static void gen_cmd(const char *token)
{
    char join[5000];
    snprintf(join, sizeof join,
             "{\"type\":\"join\",\"id\":\"j1\",\"token\":\"%s\",\"since\":12,\"epoch\":\"%s\"}",
             token, FUZZ_EPOCH);
    put_str("cmd", "join", join);
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++)
        put_str("cmd", frames[i].name, frames[i].frame);

    /* Binary, invalid UTF-8, deep nesting, over-long fields. */
    static const unsigned char bin[] = {0x81, 0xfe, 0x00, 0x7b, 0xff, 0x22, 0xc0, 0xaf};
    put("cmd", "bad-binary", bin, sizeof bin);
    put_str("cmd", "bad-utf8", "{\"type\":\"say\",\"text\":\"\xc3\x28\"}");
    char deep[2100];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    put("cmd", "bad-deep", deep, 2000);
    char longtext[2100 + 64];
    int n = snprintf(longtext, sizeof longtext, "{\"type\":\"say\",\"text\":\"");
    memset(longtext + n, 'x', 2001);
    snprintf(longtext + n + 2001, sizeof longtext - (size_t)n - 2001, "\"}");
    put_str("cmd", "bad-long-text", longtext);
    char longid[200];
    n = snprintf(longid, sizeof longid, "{\"type\":\"ping\",\"id\":\"");
    memset(longid + n, 'i', 65);
    snprintf(longid + n + 65, sizeof longid - (size_t)n - 65, "\"}");
    put_str("cmd", "bad-long-id", longid);
}

/* ---- jwt: tokens (T), payloads (P), header+payload (H), base64 (B) ---- */

static char *mint(const char *sub, const char *name, enum proto_role role, const char *deleg,
                  enum proto_category cat, int64_t iat, int64_t exp)
{
    struct proto_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.room, sizeof c.room, "fuzz-room");
    snprintf(c.delegation, sizeof c.delegation, "%s", deleg);
    c.role = role;
    c.category = cat;
    c.iat = iat;
    c.exp = exp;
    char *t = proto_jwt_mint(FUZZ_KEY, FUZZ_KEY_LEN, &c);
    FUZZ_CHECK(t, "cannot mint a seed token");
    return t;
}

static void put_prefixed(const char *target, const char *name, char mode, const char *s)
{
    size_t n = strlen(s);
    char *buf = malloc(n + 1);
    FUZZ_CHECK(buf, "out of memory");
    buf[0] = mode;
    memcpy(buf + 1, s, n);
    put(target, name, buf, n + 1);
    free(buf);
}

static char *gen_jwt(void)
{
    char *chair = mint("chair", "Ana Chair", PROTO_ROLE_MODERATOR, "", PROTO_CAT_NONE,
                       FUZZ_NOW_S - 60, FUZZ_NOW_S + 3600);
    char *fr = mint("fr", "Jean Dupont", PROTO_ROLE_DELEGATE, "France", PROTO_CAT_MEMBER_STATE,
                    0, FUZZ_NOW_S + 86400);
    char *obs = mint("obs", "Olga \xc3\x9f Watcher", PROTO_ROLE_OBSERVER, "",
                     PROTO_CAT_CIVIL_SOCIETY, FUZZ_NOW_S, FUZZ_NOW_S - 10);
    char *old = mint("x", "Expired", PROTO_ROLE_DELEGATE, "", PROTO_CAT_NONE, 0,
                     FUZZ_NOW_S - 3600);
    put_prefixed("jwt", "token-moderator", 'T', chair);
    put_prefixed("jwt", "token-delegate", 'T', fr);
    put_prefixed("jwt", "token-observer-leeway", 'T', obs);
    put_prefixed("jwt", "token-expired", 'T', old);
    /* A good token with its last signature character changed. */
    char *bad = strdup(chair);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    put_prefixed("jwt", "token-bad-sig", 'T', bad);
    free(bad);
    put_prefixed("jwt", "token-two-segments", 'T', "eyJhbGciOiJIUzI1NiJ9.e30");
    put_prefixed("jwt", "token-alg-none",
                 'T', "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.");

    static const struct {
        const char *name, *payload;
    } payloads[] = {
        {"payload-full",
         "{\"sub\":\"fr\",\"name\":\"Jean Dupont\",\"room\":\"fuzz-room\",\"role\":\"delegate\","
         "\"delegation\":\"France\",\"category\":\"member_state\",\"iat\":1767225000,"
         "\"exp\":1767229200}"},
        {"payload-min", "{\"sub\":\"chair\",\"name\":\"A\",\"room\":\"r\",\"role\":\"moderator\","
                        "\"exp\":1767225630}"},
        {"payload-nulls", "{\"sub\":\"o:1@x.y-z\",\"name\":\"\\u00c9mile\",\"room\":\"a-1\","
                          "\"role\":\"observer\",\"delegation\":null,\"category\":null,"
                          "\"exp\":9223372036854775807}"},
        {"payload-nbf", "{\"sub\":\"s\",\"name\":\"N\",\"room\":\"r\",\"role\":\"delegate\","
                        "\"exp\":1767229200,\"nbf\":1767229000}"},
        {"payload-bad-types", "{\"sub\":1,\"name\":[],\"room\":\"R\",\"role\":\"admin\","
                              "\"exp\":1.5,\"iat\":\"x\"}"},
        {"payload-bad-exp", "{\"sub\":\"s\",\"name\":\"N\",\"room\":\"r\",\"role\":\"delegate\","
                            "\"exp\":-9223372036854775808}"},
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
        put_prefixed("jwt", payloads[i].name, 'P', payloads[i].payload);

    static const struct {
        const char *name, *hp;
    } headers[] = {
        {"header-std", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}\n{\"sub\":\"s\",\"name\":\"N\","
                       "\"room\":\"r\",\"role\":\"delegate\",\"exp\":1767229200}"},
        {"header-kid", "{\"typ\":\"JWT\",\"kid\":\"k1\",\"alg\":\"HS256\"}\n{\"sub\":\"s\","
                       "\"name\":\"N\",\"room\":\"r\",\"role\":\"observer\",\"exp\":1767229200}"},
        {"header-none", "{\"alg\":\"none\"}\n{}"},
        {"header-lower", "{\"alg\":\"hs256\"}\n{}"},
        {"header-crit", "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}\n{}"},
        {"header-array", "[\"HS256\"]\n{}"},
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        put_prefixed("jwt", headers[i].name, 'H', headers[i].hp);

    put_prefixed("jwt", "b64-plain", 'B', "eyJhbGciOiJIUzI1NiJ9");
    put_prefixed("jwt", "b64-padded", 'B', "YWI=");
    put_prefixed("jwt", "b64-noncanonical", 'B', "YWJ");
    put_prefixed("jwt", "b64-bad", 'B', "a+b/c===");
    free(fr);
    free(obs);
    free(old);
    return chair;
}

/* ---- admin: room specs, settings, token bodies ---- */

static void gen_admin(void)
{
    static const struct {
        const char *name, *body;
    } bodies[] = {
        {"room-full", FUZZ_ROOM_SPEC},
        {"room-min", "{\"id\":\"a\",\"title\":\"T\"}"},
        {"room-all-settings",
         "{\"id\":\"council-2026\",\"title\":\"Conseil \\u00e9conomique\",\"agenda\":null,"
         "\"settings\":{\"speech_s\":7200,\"reply_s\":1,\"point_of_order_s\":60,"
         "\"on_time_up\":\"end\",\"chat\":\"off\",\"list_open\":false,\"queue_order\":"
         "\"category\",\"replies_per_item\":100,\"pause_on_disconnect\":false},\"extra\":1}"},
        {"room-bad-id", "{\"id\":\"-Bad\",\"title\":\"T\"}"},
        {"room-bad-agenda", "{\"id\":\"a\",\"title\":\"T\",\"agenda\":[{\"id\":\"x\",\"title\":"
                            "\"A\"},{\"id\":\"x\",\"title\":\"B\"}]}"},
        {"room-bad-settings", "{\"id\":\"a\",\"title\":\"T\",\"settings\":{\"speech_s\":0,"
                              "\"colour\":\"red\"}}"},
        {"settings-patch", "{\"speech_s\":90,\"chat\":\"floor\",\"list_open\":true}"},
        {"token-full", "{\"sub\":\"fr\",\"name\":\"Jean Dupont\",\"role\":\"delegate\","
                       "\"delegation\":\"France\",\"category\":\"member_state\","
                       "\"ttl_s\":3600}"},
        {"token-min", "{\"sub\":\"chair\",\"name\":\"Ana\",\"role\":\"moderator\"}"},
        {"token-nulls", "{\"sub\":\"obs\",\"name\":\"O\",\"role\":\"observer\","
                        "\"delegation\":null,\"category\":null,\"ttl_s\":2592000}"},
        {"token-bad", "{\"sub\":\"a b\",\"name\":\"\",\"role\":\"chair\",\"ttl_s\":59}"},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        put_str("admin", bodies[i].name, bodies[i].body);
}

/* ---- the rest of a meeting: every event type, from the populated room ---- */

/* Commits what the clock decides at the floor's deadline. */
static void clock(struct room *r, json_t *log)
{
    struct room_events evs;
    room_decide_clock(r, room_deadline(r), &evs);
    FUZZ_CHECK(evs.n == 1, "no clock event");
    evs.ev[0].seq = r->seq + 1;
    FUZZ_CHECK(room_apply(r, &evs.ev[0]) == 0, "clock event does not apply");
    json_array_append_new(log, room_event_json(r, &evs.ev[0]));
    room_events_clear(&evs);
}

static json_t *rest_of_meeting(struct room *r)
{
    static const struct {
        enum fuzz_actor who;
        const char *cmd;
    } steps[] = {
        {FUZZ_MOD, "{\"type\":\"move\",\"request_id\":\"r2\",\"to\":0}"},
        {FUZZ_DEL4, "{\"type\":\"withdraw\",\"request_id\":\"r4\"}"},
        {FUZZ_MOD, "{\"type\":\"remove_request\",\"request_id\":\"r2\"}"},
        {FUZZ_MOD, "{\"type\":\"close_list\"}"},
        {FUZZ_MOD, "{\"type\":\"open_list\"}"},
        {FUZZ_MOD, "{\"type\":\"unmute\",\"sub\":\"ngo\"}"},
        {FUZZ_MOD, "{\"type\":\"set_role\",\"sub\":\"ngo\",\"role\":\"observer\"}"},
        {FUZZ_MOD, "{\"type\":\"set_agenda_item\",\"item\":\"item-2\"}"},
        {FUZZ_MOD, "{\"type\":\"update_settings\",\"settings\":{\"on_time_up\":\"end\","
                   "\"queue_order\":\"category\"}}"},
        {FUZZ_DEL1, "{\"type\":\"yield\"}"},
        {FUZZ_MOD, "{\"type\":\"grant\",\"sub\":\"de\"}"},
        {FUZZ_MOD, "{\"type\":\"remove\",\"sub\":\"de\"}"},
        {FUZZ_MOD, "{\"type\":\"set_status\",\"status\":\"suspended\"}"},
        {FUZZ_MOD, "{\"type\":\"set_status\",\"status\":\"open\"}"},
        {FUZZ_DEL3, "{\"type\":\"request_floor\"}"},
        {FUZZ_MOD, "{\"type\":\"grant\"}"},
    };
    const struct room_actor *a = fuzz_actors();
    json_t *log = json_array();
    int64_t now = FUZZ_NOW_MS;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct proto_cmd c;
        char msg[256];
        FUZZ_CHECK(proto_cmd_decode(steps[i].cmd, strlen(steps[i].cmd), &c, msg, sizeof msg) ==
                       PROTO_OK,
                   "%s: %s", steps[i].cmd, msg);
        enum proto_err e = fuzz_commit(r, &a[steps[i].who], &c, now, log);
        FUZZ_CHECK(e == PROTO_OK, "%s refused: %s", steps[i].cmd, proto_err_code(e));
        proto_cmd_clear(&c);
        now += 5000;
    }
    /* The clock: time up (end) at the deadline, after a pause on disconnect. */
    struct room_events evs;
    room_decide_disconnect(r, r->floor.sub, now, &evs);
    FUZZ_CHECK(evs.n == 1, "no pause on disconnect");
    evs.ev[0].seq = r->seq + 1;
    FUZZ_CHECK(room_apply(r, &evs.ev[0]) == 0, "pause does not apply");
    json_array_append_new(log, room_event_json(r, &evs.ev[0]));
    room_events_clear(&evs);
    {
        struct proto_cmd c;
        char msg[64];
        const char *resume = "{\"type\":\"resume\"}";
        proto_cmd_decode(resume, strlen(resume), &c, msg, sizeof msg);
        FUZZ_CHECK(fuzz_commit(r, &a[FUZZ_MOD], &c, now + 1000, log) == PROTO_OK, "resume");
        proto_cmd_clear(&c);
    }
    clock(r, log);
    /* And once more with notify: time_up. */
    static const char *const more[] = {
        "{\"type\":\"update_settings\",\"settings\":{\"on_time_up\":\"notify\"}}",
        "{\"type\":\"grant\",\"sub\":\"fr\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        struct proto_cmd c;
        char msg[256];
        FUZZ_CHECK(proto_cmd_decode(more[i], strlen(more[i]), &c, msg, sizeof msg) == PROTO_OK,
                   "%s", msg);
        FUZZ_CHECK(fuzz_commit(r, &a[FUZZ_MOD], &c, now + 2000, log) == PROTO_OK, "%s", more[i]);
        proto_cmd_clear(&c);
    }
    clock(r, log);
    return log;
}

/* A deep copy of j with every integer but "seq" and "v" set to v: the
 * boundary values every reader of stored numbers must survive. */
static json_t *with_ints(const json_t *j, json_int_t v)
{
    json_t *c = json_deep_copy(j);
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_object(c)) {
        json_object_foreach(c, key, x) {
            if (json_is_integer(x) && strcmp(key, "seq") != 0 && strcmp(key, "v") != 0)
                json_object_set_new(c, key, json_integer(v));
            else if (json_is_object(x) || json_is_array(x))
                json_object_set_new(c, key, with_ints(x, v));
        }
    } else if (json_is_array(c)) {
        json_array_foreach(c, i, x) {
            if (json_is_integer(x))
                json_array_set_new(c, i, json_integer(v));
            else if (json_is_object(x) || json_is_array(x))
                json_array_set_new(c, i, with_ints(x, v));
        }
    }
    return c;
}

static void gen_event(const struct room *pop, const json_t *pop_log, const json_t *rest,
                      const struct room *end)
{
    static const struct {
        const char *name;
        json_int_t v;
    } bounds[] = {
        {"max", INT64_MAX}, {"min", INT64_MIN}, {"minus1", -1}, {"int-max", 2147483647},
    };
    size_t i;
    json_t *ev;
    /* Each following event alone, named by its event name (first one kept). */
    json_array_foreach(rest, i, ev) {
        char name[64];
        snprintf(name, sizeof name, "event-%02zu-%s", i + 1,
                 json_string_value(json_object_get(ev, "name")));
        /* Alone, only the first event fits the populated room's seq; the
         * others are still good shapes for the fuzzer to mutate. */
        put_json("event", name, json_incref(ev));
    }
    put_json("event", "events-rest-of-meeting", json_incref((json_t *)rest));
    /* A state with events: the populated room as stored, then the rest. */
    json_t *st = room_state_json(pop, true);
    json_object_set(st, "events", (json_t *)rest);
    put_json("event", "state-with-events", st);
    put_json("event", "state-end", room_state_json(end, true));
    put_json("event", "state-end-sequenced", room_state_json(end, false));
    struct room *fresh = fuzz_room_new();
    st = room_state_json(fresh, true);
    json_object_set(st, "events", (json_t *)pop_log);
    put_json("event", "state-new-with-meeting", st);
    room_destroy(fresh);
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        char name[64];
        snprintf(name, sizeof name, "bounds-%s-events", bounds[b].name);
        put_json("event", name, with_ints(rest, bounds[b].v));
        snprintf(name, sizeof name, "bounds-%s-state", bounds[b].name);
        json_t *endj = room_state_json(end, true);
        put_json("event", name, with_ints(endj, bounds[b].v));
        json_decref(endj);
    }
    put_str("event", "bad-event", "{\"type\":\"event\",\"seq\":13,\"ts\":1,\"name\":\"nope\","
                                  "\"actor\":null,\"data\":{}}");
    put_str("event", "bad-state", "{\"v\":2}");
}

/* ---- journal: "CRC32HEX JSON\n" lines ---- */

static void journal_line(char **buf, size_t *len, const json_t *rec)
{
    char *s = json_dumps(rec, JSON_COMPACT);
    FUZZ_CHECK(s, "cannot encode a record");
    size_t sl = strlen(s);
    *buf = realloc(*buf, *len + sl + 11);
    FUZZ_CHECK(*buf, "out of memory");
    snprintf(*buf + *len, 10, "%08x ", journal_crc32(s, sl));
    *len += 9;
    memcpy(*buf + *len, s, sl);
    *len += sl;
    (*buf)[(*len)++] = '\n';
    free(s);
}

/* The '!' form of a journal (fuzz_journal.c): the lines without their
 * checksums. */
static void put_bare(const char *name, const char *buf, size_t len)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    FUZZ_CHECK(out, "out of memory");
    out[o++] = '!';
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
        memcpy(out + o, buf + off + 9, n - 9);
        o += n - 9;
        off += n;
    }
    put("journal", name, out, o);
    free(out);
}

static void gen_journal(const json_t *pop_log, const json_t *rest)
{
    struct room *fresh = fuzz_room_new();
    const struct room_actor *a = fuzz_actors();
    char *buf = NULL;
    size_t len = 0, i;
    json_t *ev;

    json_t *rec = json_pack("{s:s, s:o}", "r", "room", "state", room_state_json(fresh, true));
    journal_line(&buf, &len, rec);
    json_decref(rec);
    put("journal", "room-only", buf, len);

    for (int k = 0; k < FUZZ_ACTORS; k++) {
        rec = json_pack("{s:s, s:{s:s, s:s, s:s?, s:s, s:s?}}", "r", "seen", "member", "sub",
                        a[k].sub, "name", a[k].name, "delegation",
                        a[k].delegation[0] ? a[k].delegation : NULL, "role",
                        proto_role_name(a[k].role), "category",
                        proto_category_name(a[k].category));
        journal_line(&buf, &len, rec);
        json_decref(rec);
    }
    json_array_foreach(pop_log, i, ev) {
        rec = json_pack("{s:s, s:O}", "r", "event", "event", ev);
        journal_line(&buf, &len, rec);
        json_decref(rec);
    }
    put("journal", "meeting", buf, len);
    size_t meeting_len = len;

    json_array_foreach(rest, i, ev) {
        rec = json_pack("{s:s, s:O}", "r", "event", "event", ev);
        journal_line(&buf, &len, rec);
        json_decref(rec);
    }
    put("journal", "meeting-all-events", buf, len);
    put_bare("bare-meeting-all-events", buf, len);
    put_bare("bare-meeting", buf, meeting_len);

    /* Bad tails after the meeting: truncated, bad checksum, not JSON,
     * refused record, and a record that does not apply. */
    put("journal", "tail-truncated", buf, meeting_len + 40);
    char *bad = malloc(len + 64);
    FUZZ_CHECK(bad, "out of memory");
    memcpy(bad, buf, len);
    bad[meeting_len + 3] = bad[meeting_len + 3] == '0' ? '1' : '0';
    put("journal", "tail-bad-crc", bad, len);
    memcpy(bad, buf, meeting_len);
    size_t n = meeting_len;
    const char *notjson = "{\"r\":";
    n += (size_t)snprintf(bad + n, 64, "%08x %s\n", journal_crc32(notjson, strlen(notjson)),
                          notjson);
    put("journal", "tail-not-json", bad, n);
    free(bad);
    free(buf);

    buf = NULL;
    len = 0;
    rec = json_pack("{s:s, s:s}", "r", "event", "event", "x");
    journal_line(&buf, &len, rec);
    json_decref(rec);
    put("journal", "first-not-room", buf, len);
    free(buf);
    room_destroy(fresh);
}

/* ---- the dictionary: every wire word, quoted as it appears in JSON ---- */

static void dict_word(FILE *f, const char *w)
{
    fputc('"', f);
    fputc('\\', f);
    fputc('"', f);
    fputs(w, f);
    fputc('\\', f);
    fputc('"', f);
    fputs("\"\n", f);
}

static void gen_dict(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/rostrum.dict", outdir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs("# libFuzzer dictionary of the rostrum.v1 words (written by gen-corpus)\n", f);
    for (int i = 0; i < PROTO_CMD__COUNT; i++)
        dict_word(f, proto_cmd_name((enum proto_cmd_type)i));
    for (int i = 0; i < PROTO_EV__COUNT; i++)
        dict_word(f, proto_event_name((enum proto_event)i));
    for (int i = 0; i < PROTO_ROLE__COUNT; i++)
        dict_word(f, proto_role_name((enum proto_role)i));
    for (int i = 0; i < PROTO_KIND__COUNT; i++)
        dict_word(f, proto_kind_name((enum proto_kind)i));
    for (int i = 0; i < PROTO_CAT_NONE; i++)
        dict_word(f, proto_category_name((enum proto_category)i));
    for (int i = 0; i < PROTO_STATUS__COUNT; i++)
        dict_word(f, proto_status_name((enum proto_status)i));
    for (int i = 0; i < PROTO_END__COUNT; i++)
        dict_word(f, proto_end_reason_name((enum proto_end_reason)i));
    for (int i = 0; i < PROTO_TIMEUP__COUNT; i++)
        dict_word(f, proto_on_time_up_name((enum proto_on_time_up)i));
    for (int i = 0; i < PROTO_CHAT__COUNT; i++)
        dict_word(f, proto_chat_name((enum proto_chat)i));
    for (int i = 0; i < PROTO_ORDER__COUNT; i++)
        dict_word(f, proto_queue_order_name((enum proto_queue_order)i));
    static const char *const fields[] = {
        /* commands */
        "type", "id", "if_seq", "token", "since", "epoch", "kind", "lang", "request_id", "sub",
        "text", "seconds", "to", "role", "item", "status", "settings",
        /* settings */
        "speech_s", "reply_s", "point_of_order_s", "on_time_up", "chat", "list_open",
        "queue_order", "replies_per_item", "pause_on_disconnect",
        /* claims and headers */
        "alg", "typ", "crit", "kid", "HS256", "JWT", "name", "room", "exp", "iat", "nbf",
        "delegation", "category", "ttl_s",
        /* rooms, states, events, journals */
        "title", "agenda", "agenda_item", "queue", "floor", "muted", "stats", "v", "created_at",
        "next_request", "seq", "members", "ts", "actor", "data", "state", "request", "at",
        "limit_s", "started_at", "elapsed_ms", "paused", "time_up", "spoken_ms", "reason",
        "turns", "replies_used", "token_role", "seen", "removed", "from", "r", "event", "member",
        "events", "initial", "r1", "r2", "item-1", "item-2", "chair", "fr", "ngo", "de", "obs",
        "unodc", "fuzz-room",
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        dict_word(f, fields[i]);
    static const char *const raw[] = {
        "\"{\"", "\"}\"", "\"[\"", "\"]\"", "\":\"", "\",\"", "\"null\"", "\"true\"",
        "\"false\"", "\"0\"", "\"-1\"", "\"1.0\"", "\"1e400\"",
        "\"9223372036854775807\"", "\"-9223372036854775808\"", "\"18446744073709551616\"",
        "\"2147483647\"", "\"4294967296\"", "\"1767225600000\"",
        "\"\\\\u0000\"", "\"\\\\ud800\"", "\"\\\\u00e9\"", "\"\\xc3\\xa9\"",
        "\"\\xed\\xa0\\x80\"", "\"\\xf4\\x90\\x80\\x80\"", "\"\\x0a\"",
        "\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\"", "\".\"", "\"=\"", "\"-\"", "\"_\"",
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        fprintf(f, "%s\n", raw[i]);
    fclose(f);
}

/* ---- session: scripts of messages from four connections ---- */

static void gen_session(void)
{
    static const char joins[] =
        "0{\"type\":\"join\",\"token\":\"@TOKEN@\",\"id\":\"j0\"}\n"
        "1{\"type\":\"join\",\"token\":\"@TOKEN@\"}\n"
        "2{\"type\":\"join\",\"token\":\"@TOKEN@\",\"since\":0,\"epoch\":\"" FUZZ_EPOCH "\"}\n"
        "3{\"type\":\"join\",\"token\":\"@TOKEN@\"}\n";
    static const struct {
        const char *name, *script;
    } scripts[] = {
        {"meeting",
         "1{\"type\":\"request_floor\",\"id\":\"c1\"}\n"
         "2{\"type\":\"request_floor\",\"kind\":\"reply\",\"lang\":\"fr\"}\n"
         "0{\"type\":\"grant\",\"id\":\"g\"}\n"
         "1{\"type\":\"say\",\"text\":\"Merci\"}\n"
         "3{\"type\":\"say\",\"text\":\"observers cannot\"}\n"
         "t61000\n"
         "0{\"type\":\"extend\",\"seconds\":30,\"if_seq\":3}\n"
         "x1\n"
         "t1000\n"
         "1{\"type\":\"join\",\"token\":\"@TOKEN@\",\"since\":2,\"epoch\":\"" FUZZ_EPOCH "\"}\n"
         "0{\"type\":\"resume\"}\n"
         "1{\"type\":\"yield\"}\n"
         "0{\"type\":\"grant\"}\n"
         "0{\"type\":\"set_status\",\"status\":\"closed\"}\n"},
        {"time-up-end",
         "0{\"type\":\"update_settings\",\"settings\":{\"on_time_up\":\"end\",\"speech_s\":5}}\n"
         "0{\"type\":\"grant\",\"sub\":\"de\"}\n"
         "t6000\n"
         "0{\"type\":\"grant\",\"sub\":\"fr\"}\n"
         "0{\"type\":\"update_settings\",\"settings\":{\"on_time_up\":\"notify\"}}\n"
         "t6000\n"
         "0{\"type\":\"remove\",\"sub\":\"fr\"}\n"
         "1{\"type\":\"ping\"}\n"},
        {"garbage-after-join",
         "1{\"type\":\n1[]\n1\"x\"\nb\x01\x02\x03\n1{\"type\":\"dance\"}\n1{}\n1null\n"
         "1{\"type\":\"say\",\"text\":5}\n1{\"type\":\"join\",\"token\":\"@TOKEN@\"}\n"
         "1\xff\xfe\n1{\"type\":\"ping\"}\n1{\"type\":1}\n1{\n1{\n1{\n1{\n1{\n1{\n1{\n1{\n1{\n1{\n"},
        {"flood",
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n"
         "2{\"type\":\"ping\"}\n2{\"type\":\"ping\"}\n2{\"type\":\"request_floor\"}\nt1000\n"
         "2{\"type\":\"withdraw\",\"request_id\":\"r1\"}\n"},
    };
    char buf[8192];
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", joins, scripts[i].script);
        put_str("session", scripts[i].name, buf);
    }
    /* Before any join: each is refused and closed. */
    put_str("session", "no-join", "1{\"type\":\"ping\"}\n2[\na\x00\x01\n"
            "3{\"type\":\"join\",\"token\":\"a.b.c\"}\n0{\"type\":\"join\"}\n");
    put_str("session", "join-timeout", "o1\nt11000\n2{\"type\":\"join\",\"token\":\"@TOKEN@\"}\n");
    /* Every command from every role. */
    size_t o = (size_t)snprintf(buf, sizeof buf, "%s", joins);
    for (char who = '0'; who <= '3'; who++) {
        for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
            if (strchr(frames[i].frame, '\n') || strncmp(frames[i].name, "bad-", 4) == 0)
                continue;
            if (o + strlen(frames[i].frame) + 3 >= sizeof buf)
                break;
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%c%s\n", who, frames[i].frame);
        }
        char name[32];
        snprintf(name, sizeof name, "every-command-%c", who);
        put_str("session", name, buf);
        o = (size_t)snprintf(buf, sizeof buf, "%s", joins);
    }
}

/* ---- api: requests ---- */

static void gen_api(void)
{
    static const struct {
        const char *name, *req;
    } reqs[] = {
        {"create", "POST /api/rooms\n@KEY@\n{\"id\":\"council\",\"title\":\"Council\","
                   "\"agenda\":[{\"id\":\"a\",\"title\":\"A\"}],\"settings\":{\"chat\":\"off\"}}"},
        {"create-exists", "POST /api/rooms/\n@KEY@\n" FUZZ_ROOM_SPEC},
        {"list", "GET /api/rooms\n@KEY@\n"},
        {"get", "GET /api/rooms/fuzz-room\n@KEY@\n"},
        {"tokens", "POST /api/rooms/fuzz-room/tokens\n@KEY@\n{\"sub\":\"fr\",\"name\":\"Jean\","
                   "\"role\":\"delegate\",\"delegation\":\"France\",\"category\":\"member_state\","
                   "\"ttl_s\":3600}"},
        {"transcript-md", "GET /api/rooms/fuzz-room/transcript?format=md\n@KEY@\n"},
        {"transcript-csv", "GET /api/rooms/fuzz-room/transcript?x=1&format=csv\n@KEY@\n"},
        {"transcript", "GET /api/rooms/fuzz-room/transcript\n@KEY@\n"},
        {"close", "DELETE /api/rooms/fuzz-room\n@KEY@\n"},
        {"healthz", "GET /healthz\n\n"},
        {"metrics", "GET /metrics\n\n"},
        {"wrong-key", "GET /api/rooms\nBearer fuzz-admin-key-012345678\n"},
        {"no-key", "POST /api/rooms\n\n{}"},
        {"bad-body", "POST /api/rooms\n@KEY@\n[1,2"},
        {"bad-paths", "GET /api/rooms/Fuzz-Room\n@KEY@\n\n%%\nPUT /api/rooms\n@KEY@\n\n%%\n"
                      "GET /api/rooms/fuzz-room/nope\n@KEY@\n\n%%\nGET /api\n@KEY@\n\n%%\n"
                      "POST /api/rooms/fuzz-room/tokens\n@KEY@\n"},
        {"sequence", "POST /api/rooms\n@KEY@\n{\"id\":\"b\",\"title\":\"B\"}\n%%\n"
                     "POST /api/rooms/b/tokens\n@KEY@\n{\"sub\":\"c\",\"name\":\"C\",\"role\":\"moderator\"}\n%%\n"
                     "DELETE /api/rooms/b\n@KEY@\n\n%%\nGET /api/rooms/b/transcript?format=json\n@KEY@\n\n%%\n"
                     "GET /api/rooms\n@KEY@\n"},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        put_str("api", reqs[i].name, reqs[i].req);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    mkdir_p(outdir);

    char *token = gen_jwt();
    gen_cmd(token);
    free(token);
    gen_admin();
    gen_session();
    gen_api();

    json_t *pop_log = NULL;
    const struct room *pop = fuzz_room_populated(&pop_log);
    struct room *end = room_clone(pop);
    json_t *rest = rest_of_meeting(end);
    gen_event(pop, pop_log, rest, end);
    gen_journal(pop_log, rest);
    gen_dict();
    json_decref(rest);
    json_decref(pop_log);
    room_destroy(end);
    printf("%d seeds written to %s\n", written, outdir);
    return 0;
}
