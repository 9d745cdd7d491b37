/*
 * Unit tests of server/revoke.c: the revoked token ids of a room, their
 * expiry, their stored form and the admin body.
 */
#include "revoke.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define NOW_S INT64_C(1800000000)
#define NOW_MS (NOW_S * 1000)

static json_t *data(const char *jti, int64_t until)
{
    return json_pack("{s:s, s:I}", "jti", jti, "until", (json_int_t)until);
}

static void test_apply(void)
{
    struct revoke_list l = {0};
    json_t *d = data("a", NOW_S + 60);
    CHECK_INT(revoke_apply(&l, d, NOW_MS), 0);
    json_decref(d);
    CHECK(revoke_has(&l, "a", NOW_MS));
    CHECK(!revoke_has(&l, "b", NOW_MS));
    CHECK(!revoke_has(&l, "", NOW_MS));
    CHECK(!revoke_has(&l, NULL, NOW_MS));
    /* In force until until + the 30 s a token gets past its exp. */
    CHECK(revoke_has(&l, "a", (NOW_S + 60 + 30) * 1000 + 999));
    CHECK(!revoke_has(&l, "a", (NOW_S + 60 + 31) * 1000));
    /* The later revocation of the same id decides its until. */
    d = data("a", NOW_S + 10);
    CHECK_INT(revoke_apply(&l, d, NOW_MS), 0);
    json_decref(d);
    CHECK_INT(l.n, 1);
    CHECK_INT(l.e[0].until_s, NOW_S + 10);
    /* Expired entries go when another is applied or at a prune. */
    d = data("b", NOW_S + 1000);
    CHECK_INT(revoke_apply(&l, d, (NOW_S + 100) * 1000), 0);
    json_decref(d);
    CHECK_INT(l.n, 1);
    CHECK_STR(l.e[0].jti, "b");
    revoke_prune(&l, (NOW_S + 2000) * 1000);
    CHECK_INT(l.n, 0);

    /* Invalid data changes nothing. */
    static const char *bad[] = {
        "{}", "{\"jti\":\"a\"}", "{\"until\":5}", "{\"jti\":\"a b\",\"until\":5}",
        "{\"jti\":\"a\",\"until\":0}", "{\"jti\":\"a\",\"until\":\"5\"}",
        "{\"jti\":\"a\",\"until\":9007199255}", "{\"jti\":\"a\",\"until\":5,\"x\":1}", "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        CHECK(j != NULL);
        CHECK_INT(revoke_apply(&l, j, NOW_MS), -1);
        char jti[PROTO_JTI_BUF];
        int64_t u;
        CHECK_INT(revoke_data_parse(j, jti, &u), -1);
        json_decref(j);
    }
    CHECK_INT(l.n, 0);

    /* Full: the next one is refused, an existing one still updates. */
    for (int i = 0; i < REVOKE_MAX; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%d", i);
        d = data(id, NOW_S + 100);
        CHECK_INT(revoke_apply(&l, d, NOW_MS), 0);
        json_decref(d);
    }
    d = data("one-more", NOW_S + 100);
    CHECK_INT(revoke_apply(&l, d, NOW_MS), -1);
    json_decref(d);
    d = data("t7", NOW_S + 200);
    CHECK_INT(revoke_apply(&l, d, NOW_MS), 0);
    json_decref(d);
    CHECK_INT(l.n, REVOKE_MAX);
    /* what the room decides with before it commits a revocation */
    CHECK(revoke_full(&l, "one-more", NOW_MS));
    CHECK(!revoke_full(&l, "t7", NOW_MS));
    CHECK(!revoke_full(&l, "one-more", (NOW_S + 300) * 1000)); /* all expired by then */

    struct revoke_list c = {0};
    CHECK_INT(revoke_copy(&c, &l), 0);
    CHECK_INT(c.n, REVOKE_MAX);
    CHECK(revoke_has(&c, "t7", NOW_MS));
    revoke_clear(&c);
    revoke_clear(&l);
}

static void test_json(void)
{
    struct revoke_list l = {0}, back = {0};
    json_t *d1 = data("x.1", NOW_S + 5), *d2 = data("y_2", NOW_S + 500);
    revoke_apply(&l, d1, NOW_MS);
    revoke_apply(&l, d2, NOW_MS);
    json_decref(d1);
    json_decref(d2);
    json_t *all = revoke_json(&l, 0);
    char *txt = json_dumps(all, JSON_COMPACT);
    CHECK_STR(txt, "[{\"jti\":\"x.1\",\"until\":1800000005},{\"jti\":\"y_2\",\"until\":1800000500}]");
    free(txt);
    /* In force at a later time: only y_2. */
    json_t *now = revoke_json(&l, (NOW_S + 100) * 1000);
    CHECK_INT(json_array_size(now), 1);
    json_decref(now);
    CHECK_INT(revoke_from_json(&back, all), 0);
    CHECK_INT(back.n, 2);
    CHECK(revoke_has(&back, "y_2", NOW_MS));
    json_decref(all);
    CHECK_INT(revoke_from_json(&back, NULL), 0);
    CHECK_INT(back.n, 0);
    CHECK_INT(revoke_from_json(&back, json_null()), 0);
    static const char *bad[] = {
        "{}", "[1]", "[{\"jti\":\"a\",\"until\":5},{\"jti\":\"a\",\"until\":6}]",
        "[{\"jti\":\"\",\"until\":5}]", "[{\"jti\":\"a\",\"until\":-1}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        CHECK_INT(revoke_from_json(&back, j), -1);
        CHECK_INT(back.n, 0);
        json_decref(j);
    }
    revoke_clear(&l);
}

static void test_body(void)
{
    char jti[PROTO_JTI_BUF];
    int64_t until = 0;
    json_t *b = json_loads("{\"jti\":\"inv-1\"}", 0, NULL);
    CHECK(revoke_body_parse(b, NOW_S, NOW_S + 3600, jti, &until) == NULL);
    CHECK_STR(jti, "inv-1");
    CHECK_INT(until, NOW_S + 3600);
    /* Without a known expiry (or one already past): 30 days. */
    CHECK(revoke_body_parse(b, NOW_S, 0, jti, &until) == NULL);
    CHECK_INT(until, NOW_S + 30 * 24 * 3600);
    CHECK(revoke_body_parse(b, NOW_S, NOW_S - 5, jti, &until) == NULL);
    CHECK_INT(until, NOW_S + 30 * 24 * 3600);
    json_decref(b);
    b = json_loads("{\"jti\":\"inv-1\",\"until\":1800000100}", 0, NULL);
    CHECK(revoke_body_parse(b, NOW_S, 0, jti, &until) == NULL);
    CHECK_INT(until, 1800000100);
    json_decref(b);
    static const char *bad[] = {
        "{}", "{\"jti\":\"a b\"}", "{\"jti\":7}", "{\"jti\":\"a\",\"until\":1800000000}",
        "{\"jti\":\"a\",\"until\":\"soon\"}", "{\"jti\":\"a\",\"until\":9007199255}",
        "{\"jti\":\"a\",\"token\":\"x\"}", "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        CHECK(revoke_body_parse(j, NOW_S, 0, jti, &until) != NULL);
        json_decref(j);
    }
}

int main(void)
{
    test_apply();
    test_json();
    test_body();
    return check_done();
}
