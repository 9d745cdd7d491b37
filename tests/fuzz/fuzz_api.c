/*
 * fuzz_api: admin API requests (paths, methods, queries, keys and bodies)
 * into api_handle() with a real hub on the memory backend (fuzz_server.c),
 * as net.c hands them over once the HTTP request is read.
 *
 * The input holds up to 8 requests separated by lines "%%"; each is
 *   METHOD PATH[?QUERY]
 *   AUTHORIZATION        ("@KEY@" stands for "Bearer " + the admin key)
 *   BODY...              (the rest, may be empty)
 * against a fresh hub that holds the room of FUZZ_ROOM_SPEC.
 *
 * Checked on every answer: done is called exactly once; the status is one
 * the API documents, never 500; a JSON answer parses; without the right
 * key nothing but /healthz and /metrics answers 2xx; and a minted token
 * (201 on .../tokens) verifies with the secret, is for the room in the
 * path, and is the one in the invite URL's fragment.
 */
#include <string.h>

#include "api.h"
#include "config.h"
#include "fuzz_server.h"
#include "hub.h"

struct answer {
    int calls;
    int status;
    char *body;
    size_t len;
    const char *type;
};

static void done(void *arg, struct api_response *res)
{
    struct answer *a = arg;
    a->calls++;
    a->status = res->status;
    a->type = res->content_type;
    a->body = res->body;
    a->len = res->len;
}

static void check_token(const char *path, const struct answer *a)
{
    json_t *j = json_loadb(a->body, a->len, 0, NULL);
    const char *tok = json_string_value(json_object_get(j, "token"));
    const char *url = json_string_value(json_object_get(j, "url"));
    FUZZ_CHECK(tok && url, "a 201 from tokens without token and url: %.*s", (int)a->len, a->body);
    struct proto_claims c;
    const char *why = NULL;
    FUZZ_CHECK(proto_jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, tok, FUZZ_NOW_S, &c, &why) == PROTO_OK,
               "a minted token does not verify: %s", why);
    /* /api/rooms/ROOM/tokens */
    const char *room = path + strlen("/api/rooms/");
    size_t rl = strcspn(room, "/");
    FUZZ_CHECK(strlen(c.room) == rl && memcmp(c.room, room, rl) == 0,
               "a token for room %s from %s", c.room, path);
    const char *frag = strstr(url, "/#t=");
    FUZZ_CHECK(frag && strcmp(frag + 4, tok) == 0, "the invite URL does not carry the token");
    json_decref(j);
}

static void request(struct hub *h, const char *req, size_t n)
{
    const struct config *cfg = fuzz_server_config();
    char method[16] = "GET", path[1024] = "/", query[1024] = "", auth[512] = "";
    const char *body = NULL;
    size_t body_len = 0;

    /* METHOD PATH?QUERY */
    const char *nl = memchr(req, '\n', n);
    size_t l1 = nl ? (size_t)(nl - req) : n;
    const char *sp = memchr(req, ' ', l1);
    if (sp) {
        snprintf(method, sizeof method, "%.*s", (int)(sp - req), req);
        const char *p = sp + 1;
        size_t pl = l1 - (size_t)(p - req);
        const char *q = memchr(p, '?', pl);
        snprintf(path, sizeof path, "%.*s", (int)(q ? (size_t)(q - p) : pl), p);
        if (q)
            snprintf(query, sizeof query, "%.*s", (int)(pl - (size_t)(q + 1 - p)), q + 1);
    } else {
        snprintf(path, sizeof path, "%.*s", (int)l1, req);
    }
    /* AUTHORIZATION */
    if (nl) {
        const char *a = nl + 1;
        const char *nl2 = memchr(a, '\n', n - (size_t)(a - req));
        size_t al = nl2 ? (size_t)(nl2 - a) : n - (size_t)(a - req);
        if (al == 5 && memcmp(a, "@KEY@", 5) == 0)
            snprintf(auth, sizeof auth, "Bearer %s", FUZZ_ADMIN_KEY);
        else
            snprintf(auth, sizeof auth, "%.*s", (int)al, a);
        if (nl2) {
            body = nl2 + 1;
            body_len = n - (size_t)(body - req);
        }
    }
    /* net.c hands over NUL-free strings (lws cuts at NUL) and bodies up to
     * --max-body. */
    if (strlen(method) == 0 || body_len > cfg->max_body)
        return;

    struct api_request r = {
        .method = method,
        .path = path,
        .query = query,
        .auth = auth,
        .base_url = "http://127.0.0.1:8080",
        .body = body_len ? body : NULL,
        .body_len = body_len,
    };
    struct answer a = {0};
    api_handle(h, cfg, &r, done, &a);
    FUZZ_CHECK(a.calls == 1, "done called %d times for %s %s", a.calls, method, path);
    FUZZ_CHECK(a.status != 500, "500 for %s %s: %.*s", method, path, (int)a.len,
               a.body ? a.body : "");
    static const int known[] = {200, 201, 400, 401, 404, 405, 409, 413, 503};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok |= a.status == known[i];
    FUZZ_CHECK(ok, "status %d for %s %s", a.status, method, path);
    FUZZ_CHECK(a.body && a.len == strlen(a.body), "an answer without a body");
    if (a.type && strcmp(a.type, "application/json") == 0) {
        json_t *j = json_loadb(a.body, a.len, 0, NULL);
        FUZZ_CHECK(j, "a JSON answer that is not JSON: %.*s", (int)a.len, a.body);
        json_decref(j);
    }
    bool keyed = strcmp(auth, "Bearer " FUZZ_ADMIN_KEY) == 0;
    bool open = strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0;
    FUZZ_CHECK(keyed || open || a.status >= 400, "%d without the admin key for %s %s", a.status,
               method, path);
    size_t pl = strlen(path);
    if (a.status == 201 && strncmp(path, "/api/rooms/", 11) == 0 && pl > 18 &&
        strcmp(path + pl - 7, "/tokens") == 0)
        check_token(path, &a);
    free(a.body);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_server_config();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hub *h = fuzz_server_hub();
    const char *p = (const char *)data;
    size_t left = size;
    for (int i = 0; i < 8 && left > 0; i++) {
        const char *sep = NULL;
        for (size_t k = 0; k + 4 <= left; k++) {
            if (memcmp(p + k, "\n%%\n", 4) == 0) {
                sep = p + k;
                break;
            }
        }
        size_t n = sep ? (size_t)(sep - p) : left;
        char *req = fuzz_strndup((const uint8_t *)p, n);
        /* The method, path, query and key end at a NUL (lws hands over C
         * strings); the body may hold any byte. */
        request(h, req, n);
        free(req);
        if (!sep)
            break;
        left -= n + 4;
        p = sep + 4;
    }
    fuzz_server_hub_destroy(h);
    return 0;
}
