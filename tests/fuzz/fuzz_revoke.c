/*
 * fuzz_revoke: the revocation parsers (server/revoke.c): the admin body of
 * POST /api/rooms/{id}/revocations, a stored list (Redis, the journal's
 * room state) and a run of token_revoked event data applied in order.
 *
 * Input: one byte picking the parser, then JSON.
 *   'b' an admin body: accepted means jti valid, until after now and at
 *       most REVOKE_MAX_UNTIL_S (the default when absent);
 *   's' a stored list: accepted means it writes back to the same JSON,
 *       reads again, every id valid and unique, within bounds;
 *   anything else: an array of event data, each applied at a time that
 *       moves on (FUZZ_NOW_MS + 7 s per step): -1 leaves the list as it
 *       was; accepted means the id is in force right after; the list stays
 *       unique, bounded and free of entries expired at the step's time;
 *       its stored form reads back to the same list.
 */
#include <string.h>

#include "fuzz.h"
#include "revoke.h"

static char *dump(const struct revoke_list *l)
{
    json_t *j = revoke_json(l, 0);
    FUZZ_CHECK(j, "revoke_json failed");
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    FUZZ_CHECK(s, "json_dumps failed");
    return s;
}

static void check_list(const struct revoke_list *l)
{
    FUZZ_CHECK(l->n <= REVOKE_MAX && l->n <= l->cap, "size %zu of %zu", l->n, l->cap);
    for (size_t i = 0; i < l->n; i++) {
        FUZZ_CHECK(proto_valid_jti(l->e[i].jti), "entry %zu: jti", i);
        FUZZ_CHECK(l->e[i].until_s >= 1 && l->e[i].until_s <= REVOKE_MAX_UNTIL_S, "entry %zu: until", i);
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(strcmp(l->e[k].jti, l->e[i].jti) != 0, "'%s' twice", l->e[i].jti);
    }
    /* The stored form reads back to the same list. */
    char *a = dump(l);
    json_t *j = json_loads(a, 0, NULL);
    struct revoke_list back = {0};
    FUZZ_CHECK(revoke_from_json(&back, j) == 0, "the stored form does not read back: %s", a);
    char *b = dump(&back);
    FUZZ_CHECK(strcmp(a, b) == 0, "round trip: %s / %s", a, b);
    revoke_clear(&back);
    json_decref(j);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    char mode = (char)data[0];
    json_t *j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return 0;
    if (mode == 'b') {
        char jti[PROTO_JTI_BUF];
        int64_t until = 0;
        const char *why = revoke_body_parse(j, FUZZ_NOW_S, FUZZ_NOW_S + 3600, jti, &until);
        if (!why) {
            FUZZ_CHECK(proto_valid_jti(jti) && strcmp(jti, json_string_value(json_object_get(j, "jti"))) == 0,
                       "jti");
            FUZZ_CHECK(until > FUZZ_NOW_S && until <= REVOKE_MAX_UNTIL_S, "until %lld", (long long)until);
            if (!json_object_get(j, "until") || json_is_null(json_object_get(j, "until")))
                FUZZ_CHECK(until == FUZZ_NOW_S + 3600, "default until");
        } else {
            FUZZ_CHECK(strlen(why) < 120, "reason");
        }
    } else if (mode == 's') {
        struct revoke_list l = {0};
        if (revoke_from_json(&l, j) == 0)
            check_list(&l);
        else
            FUZZ_CHECK(l.n == 0 && l.e == NULL, "a refused list is left empty");
        revoke_clear(&l);
    } else if (json_is_array(j)) {
        struct revoke_list l = {0};
        size_t i;
        json_t *d;
        json_array_foreach(j, i, d) {
            int64_t now = FUZZ_NOW_MS + (int64_t)i * 7000;
            char *before = dump(&l);
            if (revoke_apply(&l, d, now) == 0) {
                char jti[PROTO_JTI_BUF];
                int64_t until;
                FUZZ_CHECK(revoke_data_parse(d, jti, &until) == 0, "applied data that does not parse");
                if (until * 1000 >= now)
                    FUZZ_CHECK(revoke_has(&l, jti, now), "'%s' not in force after its revocation", jti);
                for (size_t k = 0; k < l.n; k++)
                    FUZZ_CHECK(!(now / 1000 > l.e[k].until_s + PROTO_JWT_LEEWAY_S) ||
                                   strcmp(l.e[k].jti, jti) == 0,
                               "an expired entry stayed");
            } else {
                char *after = dump(&l);
                FUZZ_CHECK(strcmp(before, after) == 0, "-1 changed the list");
                free(after);
            }
            free(before);
            check_list(&l);
        }
        revoke_clear(&l);
    }
    json_decref(j);
    return 0;
}
