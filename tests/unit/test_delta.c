/*
 * test_delta: the delta form of events (protocol/delta.c) and the server's
 * delta log (server/deltalog.c), with exact expected ops: which op, where,
 * and how few; the hash against known SHA-256 values; refusals of ops that
 * do not fit. The random equivalence with the full form over long
 * meetings is in test_room_random.
 */
#include "delta.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "deltalog.h"

/* A queue from a string of ids: "r1 r2 r3" -> [{"id":"r1","sub":"s-r1"}, ...]. */
static json_t *q(const char *ids)
{
    json_t *a = json_array();
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", ids);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char sub[64];
        snprintf(sub, sizeof sub, "s-%s", t);
        json_array_append_new(a, json_pack("{s:s, s:s}", "id", t, "sub", sub));
    }
    return a;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

/* ops(before, after) must be exactly `want` (JSON text) and must turn
 * before into after. */
static void diff_is(int line, const char *before, const char *after, const char *want)
{
    json_t *b = q(before), *a = q(after);
    json_t *ops = delta_queue_ops(b, a);
    json_t *w = json_loads(want, 0, NULL);
    CHECK(ops != NULL && w != NULL);
    if (!json_equal(ops, w)) {
        char *x = dump(ops);
        fprintf(stderr, "line %d: [%s] -> [%s]: ops %s, want %s\n", line, before, after, x, want);
        free(x);
        CHECK(0);
    }
    CHECK_INT(delta_queue_apply(b, ops), 0);
    if (!json_equal(a, b)) {
        fprintf(stderr, "line %d: [%s] -> [%s]: ops do not give after\n", line, before, after);
        CHECK(0);
    }
    json_decref(b);
    json_decref(a);
    json_decref(ops);
    json_decref(w);
}
#define DIFF(b, a, w) diff_is(__LINE__, b, a, w)

static void test_ops(void)
{
    DIFF("", "", "[]");
    DIFF("r1 r2 r3", "r1 r2 r3", "[]");
    DIFF("", "r1", "[{\"op\":\"insert\",\"at\":0,\"request\":{\"id\":\"r1\",\"sub\":\"s-r1\"}}]");
    DIFF("r1 r2", "r1 r2 r3",
         "[{\"op\":\"insert\",\"at\":2,\"request\":{\"id\":\"r3\",\"sub\":\"s-r3\"}}]");
    DIFF("r1 r2", "r3 r1 r2",
         "[{\"op\":\"insert\",\"at\":0,\"request\":{\"id\":\"r3\",\"sub\":\"s-r3\"}}]");
    DIFF("r1 r2", "r1 r3 r2",
         "[{\"op\":\"insert\",\"at\":1,\"request\":{\"id\":\"r3\",\"sub\":\"s-r3\"}}]");
    DIFF("r1 r2 r3", "r2 r3", "[{\"op\":\"remove\",\"id\":\"r1\"}]");
    DIFF("r1 r2 r3", "r1 r3", "[{\"op\":\"remove\",\"id\":\"r2\"}]");
    DIFF("r1 r2 r3", "", "[{\"op\":\"remove\",\"id\":\"r1\"},{\"op\":\"remove\",\"id\":\"r2\"},"
                         "{\"op\":\"remove\",\"id\":\"r3\"}]");
    /* one move is one op, whichever way and however long the list */
    DIFF("r1 r2 r3 r4 r5", "r2 r3 r4 r5 r1", "[{\"op\":\"move\",\"id\":\"r1\",\"to\":4}]");
    DIFF("r1 r2 r3 r4 r5", "r5 r1 r2 r3 r4", "[{\"op\":\"move\",\"id\":\"r5\",\"to\":0}]");
    DIFF("r1 r2 r3 r4 r5", "r1 r4 r2 r3 r5", "[{\"op\":\"move\",\"id\":\"r4\",\"to\":1}]");
    DIFF("r1 r2 r3 r4 r5", "r1 r3 r4 r2 r5", "[{\"op\":\"move\",\"id\":\"r2\",\"to\":3}]");
    DIFF("r1 r2", "r2 r1", "[{\"op\":\"move\",\"id\":\"r1\",\"to\":1}]");
    /* a reversal keeps one in place (the last of the longest runs) */
    DIFF("r1 r2 r3", "r3 r2 r1",
         "[{\"op\":\"move\",\"id\":\"r2\",\"to\":2},{\"op\":\"move\",\"id\":\"r1\",\"to\":2}]");
    /* removals first, then places in the order of after */
    DIFF("r1 r2 r3 r4", "r5 r4 r2",
         "[{\"op\":\"remove\",\"id\":\"r1\"},{\"op\":\"remove\",\"id\":\"r3\"},"
         "{\"op\":\"insert\",\"at\":0,\"request\":{\"id\":\"r5\",\"sub\":\"s-r5\"}},"
         "{\"op\":\"move\",\"id\":\"r2\",\"to\":2}]");

    /* a request whose fields changed: one update, wherever it is */
    json_t *b = q("r1 r2 r3"), *a = q("r1 r2 r3");
    json_object_set_new(json_array_get(a, 1), "statement",
                        json_pack("{s:i, s:s}", "chars", 1200, "lang", "fr"));
    json_t *ops = delta_queue_ops(b, a);
    json_t *w = json_loads("[{\"op\":\"update\",\"request\":{\"id\":\"r2\",\"sub\":\"s-r2\","
                           "\"statement\":{\"chars\":1200,\"lang\":\"fr\"}}}]", 0, NULL);
    CHECK(json_equal(ops, w));
    CHECK_INT(delta_queue_apply(b, ops), 0);
    CHECK(json_equal(a, b));
    json_decref(ops);
    json_decref(w);
    json_decref(a);
    json_decref(b);

    /* 190 requests, the last moved to the front: one op */
    char big[190 * 6], big2[190 * 6];
    size_t o = 0, o2 = 0;
    o2 += (size_t)snprintf(big2 + o2, sizeof big2 - o2, "r189");
    for (int i = 0; i < 190; i++) {
        o += (size_t)snprintf(big + o, sizeof big - o, "%sr%d", i ? " " : "", i);
        if (i < 189)
            o2 += (size_t)snprintf(big2 + o2, sizeof big2 - o2, " r%d", i);
    }
    DIFF(big, big2, "[{\"op\":\"move\",\"id\":\"r189\",\"to\":0}]");

    /* malformed input */
    json_t *dup = q("r1 r1"), *one = q("r1");
    CHECK(delta_queue_ops(dup, one) == NULL);
    CHECK(delta_queue_ops(one, dup) == NULL);
    json_t *notarr = json_object();
    CHECK(delta_queue_ops(notarr, one) == NULL);
    json_decref(dup);
    json_decref(one);
    json_decref(notarr);
}

static int apply_text(const char *queue, const char *ops_text)
{
    json_t *x = q(queue), *ops = json_loads(ops_text, 0, NULL);
    int rc = delta_queue_apply(x, ops);
    json_decref(x);
    json_decref(ops);
    return rc;
}

static void test_apply(void)
{
    /* clamped indexes */
    json_t *x = q("r1 r2");
    json_t *ops = json_loads("[{\"op\":\"insert\",\"at\":99,\"request\":{\"id\":\"r9\"}},"
                             "{\"op\":\"move\",\"id\":\"r1\",\"to\":99},"
                             "{\"op\":\"move\",\"id\":\"r9\",\"to\":-3}]", 0, NULL);
    CHECK_INT(delta_queue_apply(x, ops), 0);
    char hash[DELTA_HASH_BUF];
    CHECK_INT(json_array_size(x), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(x, 0), "id")), "r9");
    CHECK_STR(json_string_value(json_object_get(json_array_get(x, 1), "id")), "r2");
    CHECK_STR(json_string_value(json_object_get(json_array_get(x, 2), "id")), "r1");
    delta_queue_hash(x, hash);
    json_decref(x);
    json_decref(ops);
    /* ops that do not fit */
    CHECK_INT(apply_text("r1", "[{\"op\":\"remove\",\"id\":\"r2\"}]"), -1);
    CHECK_INT(apply_text("r1", "[{\"op\":\"move\",\"id\":\"r2\",\"to\":0}]"), -1);
    CHECK_INT(apply_text("r1", "[{\"op\":\"update\",\"request\":{\"id\":\"r2\"}}]"), -1);
    CHECK_INT(apply_text("r1", "[{\"op\":\"insert\",\"at\":0,\"request\":{\"id\":\"r1\"}}]"), -1);
    CHECK_INT(apply_text("r1", "[{\"op\":\"insert\",\"request\":{\"id\":\"r2\"}}]"), -1);
    CHECK_INT(apply_text("r1", "[{\"op\":\"move\",\"id\":\"r1\"}]"), -1);
    CHECK_INT(apply_text("r1", "[{\"op\":\"swap\",\"id\":\"r1\"}]"), -1);
    CHECK_INT(apply_text("r1", "[{\"id\":\"r1\"}]"), -1);
    CHECK_INT(apply_text("r1", "[{\"op\":\"remove\"}]"), -1);
    CHECK_INT(apply_text("r1", "{}"), -1);
    CHECK_INT(apply_text("r1", "[]"), 0);
}

static void hash_is(const char *ids, const char *want)
{
    json_t *x = q(ids);
    char h[DELTA_HASH_BUF];
    delta_queue_hash(x, h);
    CHECK_STR(h, want);
    json_decref(x);
}

static void test_hash(void)
{
    /* first 16 hex digits of sha256("") / ("r1") / ("r1,r2,r3") / ("r3,r1,r2") */
    hash_is("", "e3b0c44298fc1c14");
    hash_is("r1", "82f3e9c695dc6b8d");
    hash_is("r1 r2 r3", "5b63746c4f244bc3");
    hash_is("r3 r1 r2", "2c4e2ceb3e6b6a31");
    char h[DELTA_HASH_BUF] = "x";
    json_t *bad = json_pack("[{s:i}]", "id", 3);
    delta_queue_hash(bad, h);
    CHECK_STR(h, "");
    json_decref(bad);
}

static void test_stats(void)
{
    json_t *b = json_loads("{\"fr\":{\"turns\":1,\"spoken_ms\":500},\"de\":{\"turns\":2,\"spoken_ms\":9}}", 0, NULL);
    json_t *a = json_loads("{\"fr\":{\"turns\":2,\"spoken_ms\":900},\"de\":{\"turns\":2,\"spoken_ms\":9},"
                           "\"it\":{\"turns\":1,\"spoken_ms\":1}}", 0, NULL);
    json_t *ops = delta_stats_ops(b, a);
    json_t *w = json_loads("{\"fr\":{\"turns\":2,\"spoken_ms\":900},\"it\":{\"turns\":1,\"spoken_ms\":1}}", 0, NULL);
    CHECK(json_equal(ops, w));
    CHECK_INT(delta_stats_apply(b, ops), 0);
    CHECK(json_equal(a, b));
    json_t *none = delta_stats_ops(a, a);
    CHECK_INT(json_object_size(none), 0);
    json_t *bad = json_loads("{\"fr\":3}", 0, NULL);
    CHECK_INT(delta_stats_apply(b, bad), -1);
    json_decref(bad);
    json_decref(none);
    json_decref(ops);
    json_decref(w);
    json_decref(a);
    json_decref(b);
}

static json_t *event(unsigned seq, const char *name, json_t *state)
{
    return json_pack("{s:s, s:I, s:I, s:s, s:n, s:{}, s:o}", "type", "event", "seq", (json_int_t)seq,
                     "ts", (json_int_t)1000, "name", name, "actor", "data", "state", state);
}

static void test_event_and_log(void)
{
    struct deltalog log;
    memset(&log, 0, sizeof log);
    json_t *q0 = q(""), *s0 = json_object();
    CHECK_INT(deltalog_start(&log, q0, s0), 0);
    const char *t;
    size_t len;
    /* 1: a request */
    json_t *e1 = event(1, "floor_requested", json_pack("{s:o}", "queue", q("r1")));
    CHECK_INT(deltalog_push(&log, e1, &t, &len), 0);
    CHECK_STR(t, "{\"type\":\"event\",\"seq\":1,\"ts\":1000,\"name\":\"floor_requested\","
                 "\"actor\":null,\"data\":{},\"state\":{\"queue_ops\":[{\"op\":\"insert\",\"at\":0,"
                 "\"request\":{\"id\":\"r1\",\"sub\":\"s-r1\"}}],\"queue_len\":1,"
                 "\"queue_hash\":\"82f3e9c695dc6b8d\"}}");
    CHECK_INT(len, strlen(t));
    /* 2: a chat message: the same as the full form */
    json_t *e2 = event(2, "message", json_object());
    CHECK_INT(deltalog_push(&log, e2, &t, &len), 0);
    CHECK(t == NULL);
    /* 3: a grant (floor and queue; the other parts stay in their place) */
    json_t *e3 = event(3, "floor_granted", json_pack("{s:{s:s}, s:o}", "floor", "sub", "s-r1", "queue", q("")));
    CHECK_INT(deltalog_push(&log, e3, &t, &len), 0);
    CHECK_STR(t, "{\"type\":\"event\",\"seq\":3,\"ts\":1000,\"name\":\"floor_granted\","
                 "\"actor\":null,\"data\":{},\"state\":{\"floor\":{\"sub\":\"s-r1\"},"
                 "\"queue_ops\":[{\"op\":\"remove\",\"id\":\"r1\"}],\"queue_len\":0,"
                 "\"queue_hash\":\"e3b0c44298fc1c14\"}}");
    /* 4: a floor that ends */
    json_t *e4 = event(4, "floor_ended", json_pack("{s:n, s:{s:{s:i, s:i}}}", "floor", "stats", "s-r1",
                                                   "turns", 1, "spoken_ms", 700));
    CHECK_INT(deltalog_push(&log, e4, &t, &len), 0);
    CHECK_STR(t, "{\"type\":\"event\",\"seq\":4,\"ts\":1000,\"name\":\"floor_ended\","
                 "\"actor\":null,\"data\":{},\"state\":{\"floor\":null,"
                 "\"stats_ops\":{\"s-r1\":{\"turns\":1,\"spoken_ms\":700}}}}");
    /* out of order, or not an event: refused, nothing pushed */
    CHECK_INT(deltalog_push(&log, e4, &t, &len), -1);
    json_t *e5 = event(5, "floor_requested", json_pack("{s:s}", "queue", "nope"));
    CHECK_INT(deltalog_push(&log, e5, &t, &len), -1);
    CHECK_INT(log.seq, 4);
    /* the history as pushed */
    CHECK(deltalog_get(&log, 1, &len) != NULL);
    CHECK(deltalog_get(&log, 2, &len) == NULL);
    CHECK(strstr(deltalog_get(&log, 3, &len), "\"remove\"") != NULL);
    CHECK(deltalog_get(&log, 0, &len) == NULL);
    CHECK(deltalog_get(&log, 5, &len) == NULL);
    /* delta_event without the part before: refused */
    CHECK(delta_event(e1, NULL, s0) == NULL);
    CHECK(delta_event(e4, q0, NULL) == NULL);
    json_t *same = delta_event(e2, NULL, NULL);
    CHECK(json_equal(same, e2));
    json_decref(same);
    deltalog_clear(&log);
    CHECK(!log.ready);
    CHECK(deltalog_get(&log, 1, &len) == NULL);
    CHECK_INT(deltalog_push(&log, e1, &t, &len), -1);
    deltalog_clear(&log); /* twice is fine */
    json_decref(e1);
    json_decref(e2);
    json_decref(e3);
    json_decref(e4);
    json_decref(e5);
    json_decref(q0);
    json_decref(s0);
}

int main(void)
{
    test_ops();
    test_apply();
    test_hash();
    test_stats();
    test_event_and_log();
    return check_done();
}
