/*
 * revoke.c: revoked token ids (revoke.h).
 */
#include "revoke.h"

#include <stdlib.h>
#include <string.h>

void revoke_clear(struct revoke_list *l)
{
    free(l->e);
    l->e = NULL;
    l->n = l->cap = 0;
}

int revoke_copy(struct revoke_list *dst, const struct revoke_list *src)
{
    revoke_clear(dst);
    if (src->n == 0)
        return 0;
    dst->e = malloc(src->n * sizeof *dst->e);
    if (!dst->e)
        return -1;
    memcpy(dst->e, src->e, src->n * sizeof *dst->e);
    dst->n = dst->cap = src->n;
    return 0;
}

/* Expired: past until plus the leeway a token gets past its exp. */
static bool expired(const struct revoke_entry *e, int64_t now_ms)
{
    return now_ms / 1000 > e->until_s + PROTO_JWT_LEEWAY_S;
}

void revoke_prune(struct revoke_list *l, int64_t now_ms)
{
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!expired(&l->e[i], now_ms))
            l->e[o++] = l->e[i];
    l->n = o;
}

static struct revoke_entry *find(const struct revoke_list *l, const char *jti)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].jti, jti) == 0)
            return &l->e[i];
    return NULL;
}

bool revoke_full(const struct revoke_list *l, const char *jti, int64_t now_ms)
{
    size_t in_force = 0;
    if (find(l, jti))
        return false; /* a new until for a listed jti takes no room */
    for (size_t i = 0; i < l->n; i++)
        if (!expired(&l->e[i], now_ms))
            in_force++;
    return in_force >= REVOKE_MAX;
}

bool revoke_has(const struct revoke_list *l, const char *jti, int64_t now_ms)
{
    const struct revoke_entry *e = jti && jti[0] ? find(l, jti) : NULL;
    return e && !expired(e, now_ms);
}

/* jti and until from an object with exactly those members (allowed: the
 * keys in extra too, ignored). */
static int read_entry(const json_t *o, char jti[PROTO_JTI_BUF], int64_t *until_s)
{
    const json_t *j = json_object_get(o, "jti"), *u = json_object_get(o, "until");
    if (!json_is_object(o) || json_object_size(o) != 2 || !json_is_string(j) ||
        !proto_valid_jti(json_string_value(j)) || !json_is_integer(u) ||
        json_integer_value(u) < 1 || json_integer_value(u) > REVOKE_MAX_UNTIL_S)
        return -1;
    memcpy(jti, json_string_value(j), strlen(json_string_value(j)) + 1);
    *until_s = (int64_t)json_integer_value(u);
    return 0;
}

int revoke_data_parse(const json_t *data, char jti[PROTO_JTI_BUF], int64_t *until_s)
{
    return read_entry(data, jti, until_s);
}

int revoke_apply(struct revoke_list *l, const json_t *data, int64_t now_ms)
{
    char jti[PROTO_JTI_BUF];
    int64_t until;
    if (read_entry(data, jti, &until) != 0)
        return -1;
    struct revoke_entry *e = find(l, jti);
    if (e) {
        revoke_prune(l, now_ms);
        e = find(l, jti);
    } else {
        revoke_prune(l, now_ms);
    }
    if (e) {
        e->until_s = until;
        return 0;
    }
    if (l->n >= REVOKE_MAX)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct revoke_entry *ne = realloc(l->e, cap * sizeof *ne);
        if (!ne)
            return -1;
        l->e = ne;
        l->cap = cap;
    }
    memcpy(l->e[l->n].jti, jti, sizeof jti[0] * PROTO_JTI_BUF);
    l->e[l->n].until_s = until;
    l->n++;
    return 0;
}

json_t *revoke_json(const struct revoke_list *l, int64_t now_ms)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++) {
        if (now_ms > 0 && expired(&l->e[i], now_ms))
            continue;
        if (json_array_append_new(a, json_pack("{s:s, s:I}", "jti", l->e[i].jti, "until",
                                               (json_int_t)l->e[i].until_s))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int revoke_from_json(struct revoke_list *l, const json_t *arr)
{
    revoke_clear(l);
    if (!arr || json_is_null(arr))
        return 0;
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n > REVOKE_MAX)
        return -1;
    if (n == 0)
        return 0;
    l->e = malloc(n * sizeof *l->e);
    if (!l->e)
        return -1;
    l->cap = n;
    for (size_t i = 0; i < n; i++) {
        char jti[PROTO_JTI_BUF];
        int64_t until;
        if (read_entry(json_array_get(arr, i), jti, &until) != 0 || find(l, jti)) {
            revoke_clear(l);
            return -1;
        }
        memcpy(l->e[l->n].jti, jti, sizeof jti);
        l->e[l->n].until_s = until;
        l->n++;
    }
    return 0;
}

const char *revoke_body_parse(const json_t *body, int64_t now_s, int64_t default_until_s,
                              char jti[PROTO_JTI_BUF], int64_t *until_s)
{
    const json_t *j = json_object_get(body, "jti"), *u = json_object_get(body, "until");
    const char *k;
    const json_t *v;
    if (!json_is_object(body))
        return "the body must be a JSON object";
    json_object_foreach((json_t *)body, k, v) {
        if (strcmp(k, "jti") != 0 && strcmp(k, "until") != 0)
            return "only 'jti' and 'until' are allowed";
    }
    if (!json_is_string(j) || !proto_valid_jti(json_string_value(j)))
        return "'jti' must match [A-Za-z0-9._-]{1,64}";
    if (u && !json_is_null(u)) {
        if (!json_is_integer(u) || json_integer_value(u) <= now_s ||
            json_integer_value(u) > REVOKE_MAX_UNTIL_S)
            return "'until' must be Unix seconds in the future (at most 9007199254)";
        *until_s = (int64_t)json_integer_value(u);
    } else {
        *until_s = default_until_s > now_s && default_until_s <= REVOKE_MAX_UNTIL_S
                       ? default_until_s
                       : now_s + REVOKE_DEFAULT_S;
    }
    memcpy(jti, json_string_value(j), strlen(json_string_value(j)) + 1);
    return NULL;
}
