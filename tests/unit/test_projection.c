/*
 * test_projection: contract section 9.2 in C against the shared vectors
 * (protocol/projection-vectors.json, path given as argv[1]); the browser
 * client's projection.js passes the same file (tests/browser/
 * projection.test.mjs). Then the refusals of malformed snapshots, and the
 * projection's own invariants over the vectors moved in time.
 */
#include "projection.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

static void check_vectors(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    CHECK(doc != NULL);
    if (!doc) {
        fprintf(stderr, "%s: %s (line %d)\n", path, jerr.text, jerr.line);
        return;
    }
    json_t *vectors = json_object_get(doc, "vectors");
    CHECK(json_array_size(vectors) >= 8);
    for (size_t i = 0; i < json_array_size(vectors); i++) {
        json_t *v = json_array_get(vectors, i);
        struct projection p;
        int64_t now = (int64_t)json_integer_value(json_object_get(v, "now"));
        CHECK_INT(projection_compute(json_object_get(v, "room"), now, &p), 0);
        json_t *got = projection_json(&p);
        json_t *want = json_object_get(v, "expect");
        CHECK(json_equal(got, want));
        if (!json_equal(got, want)) {
            char *a = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
            char *b = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
            fprintf(stderr, "vector '%s':\n  got  %s\n  want %s\n",
                    json_string_value(json_object_get(v, "name")), a, b);
            free(a);
            free(b);
        }
        json_decref(got);
        projection_clear(&p);
    }
    json_decref(doc);
}

/* Invariants that hold for any snapshot and any now: etas grow by at least
 * the changeover, ends are etas plus a limit, at risk is exactly "ends
 * after E", the limit that fits does fit (and one more second does not,
 * below the cap), and later clocks never bring the list's end earlier
 * while a floor runs unpaused. */
static void check_invariants(const char *path)
{
    json_t *doc = json_load_file(path, 0, NULL);
    json_t *vectors = json_object_get(doc, "vectors");
    for (size_t i = 0; i < json_array_size(vectors); i++) {
        json_t *v = json_array_get(vectors, i);
        json_t *room = json_object_get(v, "room");
        int64_t now0 = (int64_t)json_integer_value(json_object_get(v, "now"));
        int64_t prev_end = -1;
        for (int64_t dt = 0; dt <= 600000; dt += 7000) {
            struct projection p;
            CHECK_INT(projection_compute(room, now0 + dt, &p), 0);
            CHECK(p.start_ms >= now0 + dt);
            for (size_t k = 0; k < p.n; k++) {
                CHECK(p.items[k].end_ms > p.items[k].eta_ms);
                if (k)
                    CHECK(p.items[k].eta_ms >= p.items[k - 1].end_ms);
                CHECK(p.items[k].at_risk == (p.has_segment_end && p.items[k].end_ms > p.segment_end_ms));
            }
            CHECK(p.list_end_ms >= p.start_ms);
            if (p.has_overrun)
                CHECK(p.overrun_ms >= 0);
            CHECK(prev_end < 0 || p.list_end_ms >= prev_end);
            prev_end = p.list_end_ms;
            if (p.fit_s) {
                /* set speech_s to fit_s: the list ends by E */
                json_t *r2 = json_deep_copy(room);
                json_t *st = json_object_get(r2, "settings");
                struct projection q;
                json_object_set_new(st, "speech_s", json_integer(p.fit_s));
                CHECK_INT(projection_compute(r2, now0 + dt, &q), 0);
                CHECK(q.list_end_ms <= q.segment_end_ms);
                projection_clear(&q);
                if (p.fit_s < PROJECTION_MAX_FIT_S) {
                    json_object_set_new(st, "speech_s", json_integer(p.fit_s + 1));
                    CHECK_INT(projection_compute(r2, now0 + dt, &q), 0);
                    CHECK(q.list_end_ms > q.segment_end_ms);
                    projection_clear(&q);
                }
                json_decref(r2);
            }
            projection_clear(&p);
        }
    }
    json_decref(doc);
}

static void check_refusals(void)
{
    static const char *const bad[] = {
        "[]",
        "{}",
        "{\"settings\":{},\"queue\":{}}",
        "{\"settings\":{\"speech_s\":\"180\"},\"queue\":[]}",
        "{\"settings\":{\"changeover_s\":601},\"queue\":[]}",
        "{\"settings\":{},\"queue\":[],\"floor\":7}",
        "{\"settings\":{},\"queue\":[],\"floor\":{\"limit_s\":60,\"elapsed_ms\":-1,\"started_at\":0}}",
        "{\"settings\":{},\"queue\":[],\"schedule\":{\"starts_at\":1}}",
        "{\"settings\":{},\"queue\":[{\"kind\":\"speech\"}]}",
        "{\"settings\":{},\"queue\":[{\"id\":\"r1\"},{\"id\":3}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        struct projection p;
        CHECK_INT(projection_compute(j, 1000, &p), -1);
        CHECK(p.items == NULL && p.n == 0);
        projection_clear(&p);
        json_decref(j);
    }
    /* the minimum: defaults for every setting */
    json_t *j = json_loads("{\"settings\":{},\"queue\":[{\"id\":\"r1\",\"kind\":\"reply\"}]}", 0, NULL);
    struct projection p;
    CHECK_INT(projection_compute(j, 1000, &p), 0);
    CHECK_INT(p.items[0].end_ms, 61000);
    CHECK(!p.has_segment_end && !p.has_overrun && p.fit_s == 0);
    projection_clear(&p);
    projection_clear(NULL);
    CHECK_INT(projection_compute(j, -1, &p), -1);
    json_decref(j);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_projection protocol/projection-vectors.json\n");
        return 2;
    }
    check_vectors(argv[1]);
    check_invariants(argv[1]);
    check_refusals();
    return check_done();
}
