/*
 * delta.c: the delta form of events (delta.h).
 *
 * The queue diff keeps the requests of a longest increasing subsequence
 * (their order in `after`, read in the order of `before`) where they are
 * and walks `after` from the front, placing every other request right
 * after its predecessor in `after`. Each step keeps this true: the requests
 * already walked are in `after`'s order, with at most some not yet walked
 * (and not kept) requests between them, and the kept requests not yet
 * walked all come later. So at the end the list is `after`, with one op per
 * request that had to change place, and none for the others.
 *
 * Pure: no I/O, no clock.
 */
#include "delta.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *req_id(const json_t *req)
{
    return json_string_value(json_object_get(req, "id"));
}

/* id -> index, as a jansson object (a hash table). NULL for a malformed
 * queue (not an array, a request without id, a repeated id). */
static json_t *index_of(const json_t *queue)
{
    json_t *map = json_is_array(queue) ? json_object() : NULL;
    for (size_t i = 0; map && i < json_array_size(queue); i++) {
        const char *id = req_id(json_array_get(queue, i));
        if (!id || json_object_get(map, id) ||
            json_object_set_new(map, id, json_integer((json_int_t)i)) != 0) {
            json_decref(map);
            map = NULL;
        }
    }
    return map;
}

static long lookup(const json_t *map, const char *id)
{
    const json_t *v = json_object_get(map, id);
    return v ? (long)json_integer_value(v) : -1;
}

/* keep[i] = true for the elements of a longest strictly increasing
 * subsequence of pos[0..n). Returns 0 or -1 (allocation). */
static int lis(const long *pos, size_t n, bool *keep)
{
    size_t *tail = malloc((n + 1) * sizeof *tail); /* index of the tail of each length */
    size_t *prev = malloc((n + 1) * sizeof *prev);
    size_t len = 0;
    if (!tail || !prev) {
        free(tail);
        free(prev);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = len; /* first length whose tail is >= pos[i] */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (pos[tail[mid]] < pos[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        prev[i] = lo ? tail[lo - 1] : (size_t)-1;
        tail[lo] = i;
        if (lo == len)
            len++;
    }
    memset(keep, 0, n * sizeof *keep);
    for (size_t k = len ? tail[len - 1] : (size_t)-1; k != (size_t)-1; k = prev[k])
        keep[k] = true;
    free(tail);
    free(prev);
    return 0;
}

/* The list being rebuilt while walking `after`: ids (borrowed) in order. */
struct idlist {
    const char **id;
    size_t n;
};

static size_t idlist_find(const struct idlist *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->id[i], id) == 0)
            return i;
    return (size_t)-1;
}

static void idlist_remove(struct idlist *l, size_t at)
{
    memmove(l->id + at, l->id + at + 1, (l->n - at - 1) * sizeof *l->id);
    l->n--;
}

static void idlist_insert(struct idlist *l, size_t at, const char *id)
{
    memmove(l->id + at + 1, l->id + at, (l->n - at) * sizeof *l->id);
    l->id[at] = id;
    l->n++;
}

static int add_op(json_t *ops, json_t *op)
{
    return op ? json_array_append_new(ops, op) : -1;
}

json_t *delta_queue_ops(const json_t *before, const json_t *after)
{
    json_t *ops = json_array();
    json_t *in_before = index_of(before), *in_after = index_of(after);
    size_t nb = json_array_size(before), na = json_array_size(after);
    struct idlist cur = {.id = malloc((nb + na + 1) * sizeof(char *)), .n = 0};
    long *pos = malloc((nb + 1) * sizeof *pos);
    bool *keep = malloc((nb + 1) * sizeof *keep);
    bool *kept = calloc(na + 1, sizeof *kept); /* by index in after */
    if (!ops || !in_before || !in_after || !cur.id || !pos || !keep || !kept)
        goto fail;
    /* Removals first, in the order of before. */
    for (size_t i = 0; i < nb; i++) {
        const char *id = req_id(json_array_get(before, i));
        long j = lookup(in_after, id);
        if (j < 0) {
            if (add_op(ops, json_pack("{s:s, s:s}", "op", "remove", "id", id)))
                goto fail;
            continue;
        }
        pos[cur.n] = j;
        cur.id[cur.n++] = id;
    }
    /* Requests whose fields changed (their place does not matter). */
    for (size_t i = 0; i < cur.n; i++) {
        const json_t *b = json_array_get(before, (size_t)lookup(in_before, cur.id[i]));
        const json_t *a = json_array_get(after, (size_t)pos[i]);
        if (!json_equal((json_t *)b, (json_t *)a) &&
            add_op(ops, json_pack("{s:s, s:o}", "op", "update", "request", json_deep_copy(a))))
            goto fail;
    }
    if (lis(pos, cur.n, keep) != 0)
        goto fail;
    for (size_t i = 0; i < cur.n; i++)
        if (keep[i])
            kept[pos[i]] = true;
    for (size_t i = 0; i < na; i++) {
        const json_t *req = json_array_get(after, i);
        const char *id = req_id(req);
        if (kept[i])
            continue;
        size_t at = idlist_find(&cur, id);
        bool is_new = at == (size_t)-1;
        if (!is_new)
            idlist_remove(&cur, at);
        size_t to = i ? idlist_find(&cur, req_id(json_array_get(after, i - 1))) + 1 : 0;
        idlist_insert(&cur, to, id);
        json_t *op = is_new ? json_pack("{s:s, s:I, s:o}", "op", "insert", "at", (json_int_t)to,
                                        "request", json_deep_copy(req))
                            : json_pack("{s:s, s:s, s:I}", "op", "move", "id", id, "to",
                                        (json_int_t)to);
        if (add_op(ops, op))
            goto fail;
    }
    goto done;
fail:
    json_decref(ops);
    ops = NULL;
done:
    json_decref(in_before);
    json_decref(in_after);
    free(cur.id);
    free(pos);
    free(keep);
    free(kept);
    return ops;
}

static long find_id(const json_t *queue, const char *id)
{
    for (size_t i = 0; i < json_array_size(queue); i++) {
        const char *x = req_id(json_array_get(queue, i));
        if (x && strcmp(x, id) == 0)
            return (long)i;
    }
    return -1;
}

static size_t clamp_index(const json_t *v, size_t len)
{
    json_int_t i = json_integer_value(v);
    if (i < 0)
        return 0;
    return (size_t)i > len ? len : (size_t)i;
}

int delta_queue_apply(json_t *queue, const json_t *ops)
{
    if (!json_is_array(queue) || !json_is_array(ops))
        return -1;
    for (size_t k = 0; k < json_array_size(ops); k++) {
        const json_t *op = json_array_get(ops, k);
        const char *what = json_string_value(json_object_get(op, "op"));
        json_t *req = json_object_get(op, "request");
        const char *id = req ? req_id(req) : json_string_value(json_object_get(op, "id"));
        if (!what || !id)
            return -1;
        long at = find_id(queue, id);
        if (strcmp(what, "insert") == 0) {
            const json_t *to = json_object_get(op, "at");
            if (at >= 0 || !json_is_object(req) || !json_is_integer(to) ||
                json_array_insert(queue, clamp_index(to, json_array_size(queue)), req) != 0)
                return -1;
        } else if (strcmp(what, "remove") == 0) {
            if (at < 0 || json_array_remove(queue, (size_t)at) != 0)
                return -1;
        } else if (strcmp(what, "move") == 0) {
            const json_t *to = json_object_get(op, "to");
            if (at < 0 || !json_is_integer(to))
                return -1;
            json_t *moved = json_incref(json_array_get(queue, (size_t)at));
            json_array_remove(queue, (size_t)at);
            if (json_array_insert_new(queue, clamp_index(to, json_array_size(queue)), moved) != 0)
                return -1;
        } else if (strcmp(what, "update") == 0) {
            if (at < 0 || !json_is_object(req) || json_array_set(queue, (size_t)at, req) != 0)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

void delta_queue_hash(const json_t *queue, char out[DELTA_HASH_BUF])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && json_is_array(queue) && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    out[0] = '\0';
    for (size_t i = 0; ok && i < json_array_size(queue); i++) {
        const char *id = req_id(json_array_get(queue, i));
        ok = id && (i == 0 || EVP_DigestUpdate(ctx, ",", 1) == 1) &&
             EVP_DigestUpdate(ctx, id, strlen(id)) == 1;
    }
    if (ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 8) {
        for (int i = 0; i < 8; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    EVP_MD_CTX_free(ctx);
}

json_t *delta_stats_ops(const json_t *before, const json_t *after)
{
    json_t *ops = json_object();
    const char *sub;
    json_t *v;
    if (!ops || !json_is_object(before) || !json_is_object(after))
        goto fail;
    json_object_foreach((json_t *)after, sub, v) {
        if (!json_equal(v, json_object_get(before, sub)) &&
            json_object_set_new(ops, sub, json_deep_copy(v)) != 0)
            goto fail;
    }
    json_object_foreach((json_t *)before, sub, v) {
        if (!json_object_get(after, sub) &&
            json_object_set_new(ops, sub, json_pack("{s:i, s:i}", "turns", 0, "spoken_ms", 0)) != 0)
            goto fail;
    }
    return ops;
fail:
    json_decref(ops);
    return NULL;
}

int delta_stats_apply(json_t *stats, const json_t *ops)
{
    const char *sub;
    json_t *v;
    if (!json_is_object(stats) || !json_is_object(ops))
        return -1;
    json_object_foreach((json_t *)ops, sub, v) {
        if (!json_is_object(v) || json_object_set(stats, sub, v) != 0)
            return -1;
    }
    return 0;
}

json_t *delta_event(const json_t *full, const json_t *queue_before, const json_t *stats_before)
{
    const json_t *state = json_object_get(full, "state");
    json_t *out = json_copy((json_t *)full); /* shallow: the other parts are shared */
    json_t *ds = json_object();
    const char *key;
    json_t *v;
    if (!out || !ds || !json_is_object(state))
        goto fail;
    json_object_foreach((json_t *)state, key, v) {
        if (strcmp(key, "queue") == 0) {
            char hash[DELTA_HASH_BUF];
            delta_queue_hash(v, hash);
            if (!queue_before || !hash[0] ||
                json_object_set_new(ds, "queue_ops", delta_queue_ops(queue_before, v)) != 0 ||
                json_object_set_new(ds, "queue_len", json_integer((json_int_t)json_array_size(v))) ||
                json_object_set_new(ds, "queue_hash", json_string(hash)) != 0)
                goto fail;
        } else if (strcmp(key, "stats") == 0) {
            if (!stats_before ||
                json_object_set_new(ds, "stats_ops", delta_stats_ops(stats_before, v)) != 0)
                goto fail;
        } else if (json_object_set(ds, key, v) != 0) {
            goto fail;
        }
    }
    if (json_object_set_new(out, "state", ds) != 0) {
        ds = NULL;
        goto fail;
    }
    return out;
fail:
    json_decref(ds);
    json_decref(out);
    return NULL;
}
