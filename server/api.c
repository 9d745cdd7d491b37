/*
 * api.c: admin API, /healthz and /metrics (api.h).
 *
 * The admin key is compared in constant time. Tokens minted here are never
 * logged; their URL carries the token in the fragment (/#t=...), which
 * browsers never send to a server.
 */
#include "api.h"

#include <stdbool.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "config.h"
#include "hub.h"
#include "revoke.h"
#include "metrics.h"
#include "recordkey.h"
#include "transcript.h"

#define TOKEN_TTL_DEFAULT_S (24 * 3600)
#define TOKEN_TTL_MAX_S (30 * 24 * 3600)

static void reply_json(struct api_response *res, int status, json_t *j)
{
    res->status = status;
    res->content_type = "application/json";
    res->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (!res->body) {
        res->status = 500;
        res->body = strdup("{\"error\":\"internal\",\"message\":\"out of memory\"}");
    }
    res->len = res->body ? strlen(res->body) : 0;
    json_decref(j);
}

static void reply_error(struct api_response *res, int status, const char *code, const char *msg)
{
    reply_json(res, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

int api_owns_path(const char *path)
{
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0 ||
           strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0;
}

static int authorized(const struct config *cfg, const char *auth)
{
    size_t kl = strlen(cfg->admin_key);
    if (strncmp(auth, "Bearer ", 7) != 0)
        return 0;
    const char *given = auth + 7;
    return strlen(given) == kl && CRYPTO_memcmp(given, cfg->admin_key, kl) == 0;
}

/* A random token id (128 bits, base64url): says nothing about its holder.
 * 0, or -1. */
static int random_jti(char out[PROTO_JTI_BUF])
{
    unsigned char raw[16];
    char *b = RAND_bytes(raw, sizeof raw) == 1 ? proto_b64url_encode(raw, sizeof raw) : NULL;
    if (!b)
        return -1;
    snprintf(out, PROTO_JTI_BUF, "%s", b);
    free(b);
    return 0;
}

char *api_mint(const struct config *cfg, const char *room, const char *sub, const char *name,
               enum proto_role role, const char *delegation, enum proto_category category,
               const char *region, long ttl_s, const char *jti)
{
    struct proto_claims c;
    memset(&c, 0, sizeof c);
    /* Every token the server mints can be revoked alone (--demo's too). */
    if (jti)
        snprintf(c.jti, sizeof c.jti, "%s", jti);
    else if (random_jti(c.jti) != 0)
        return NULL;
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.room, sizeof c.room, "%s", room);
    snprintf(c.delegation, sizeof c.delegation, "%s", delegation ? delegation : "");
    c.role = role;
    c.category = category;
    snprintf(c.region, sizeof c.region, "%s", region ? region : "");
    c.iat = (int64_t)time(NULL);
    c.exp = c.iat + ttl_s;
    return proto_jwt_mint_ring(cfg->keys, &c);
}

/* Reads a query parameter into out; returns 1 when present. */
static int query_param(const char *query, const char *key, char *out, size_t sz)
{
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = seg - kl - 1;
            if (vl >= sz)
                vl = sz - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

/* GET /api/record-key (no authentication): the public key that checks
 * the records' signatures, as PEM; 404 when records are not signed. */
static void record_key(const struct config *cfg, const struct api_request *req,
                       struct api_response *res)
{
    const char *pem = recordkey_public_pem(cfg->record_key);
    if (strcmp(req->method, "GET") != 0) {
        reply_error(res, 405, "bad_request", "use GET on /api/record-key");
        return;
    }
    if (!pem) {
        reply_error(res, 404, "not_found", "this server does not sign records (no --record-key-file)");
        return;
    }
    res->status = 200;
    res->content_type = "application/x-pem-file";
    res->body = strdup(pem);
    res->len = res->body ? strlen(res->body) : 0;
    if (!res->body)
        reply_error(res, 500, "internal", "out of memory");
}

/* True when req is GET /api/rooms/{id}/transcript with a Bearer that is a
 * valid moderator token for that room; its sub goes to sub_out. The admin
 * key is not a JWT, so it never matches here. */
static bool transcript_token(const struct config *cfg, const struct api_request *req,
                             char sub_out[PROTO_SUB_BUF], char jti_out[PROTO_JTI_BUF])
{
    struct proto_claims claims;
    const char *why = NULL;
    const char *p = req->path;
    size_t pre = strlen("/api/rooms/"), il;
    if (strcmp(req->method, "GET") != 0 || strncmp(p, "/api/rooms/", pre) != 0 ||
        strncmp(req->auth, "Bearer ", 7) != 0)
        return false;
    il = strcspn(p + pre, "/");
    if (il == 0 || il > PROTO_MAX_ROOM_ID || strcmp(p + pre + il, "/transcript") != 0)
        return false;
    if (proto_jwt_verify_ring(cfg->keys, req->auth + 7, (int64_t)time(NULL),
                         &claims, &why) != PROTO_OK ||
        claims.role != PROTO_ROLE_MODERATOR || strlen(claims.room) != il ||
        strncmp(claims.room, p + pre, il) != 0)
        return false;
    snprintf(sub_out, PROTO_SUB_BUF, "%s", claims.sub);
    snprintf(jti_out, PROTO_JTI_BUF, "%s", claims.jti);
    return true;
}

/* One request in progress: what it needs, copied, until done is called. */
struct call {
    struct hub *h;
    const struct config *cfg;
    char method[8];
    char path[512];
    char query[512];
    char base[320];
    char id[PROTO_ROOM_BUF + 1];
    char sub[32];
    char remote[64];
    char jti[PROTO_JTI_BUF];  /* revocations */
    int64_t until_s;
    const char *who;  /* audit: "admin", "anonymous"; NULL: not an admin API call */
    /* the transcript asked for with a moderator's room token (section
     * 9.6): the token's sub, checked against the room once it is held */
    char moderator[PROTO_SUB_BUF];
    char moderator_jti[PROTO_JTI_BUF];
    json_t *body;
    struct api_response res;
    void (*done)(void *arg, struct api_response *res);
    void *arg;
};

/* The answer's error code ("ok" for 2xx), for the audit log. */
static const char *outcome(const struct api_response *res)
{
    if (res->status >= 200 && res->status < 300)
        return "ok";
    switch (res->status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 411: return "length_required";
    case 413: return "too_large";
    case 503: return "unavailable";
    default: return "error";
    }
}

static void finish(struct call *c)
{
    if (c->who) {
        /* Written before the answer leaves (contract section 11). Never
         * the body, the query or the Authorization header. */
        struct audit_entry e = {
            .remote = c->remote[0] ? c->remote : NULL,
            .who = c->who,
            .method = c->method,
            .path = c->path,
            .room = c->id[0] ? c->id : NULL,
            .outcome = outcome(&c->res),
            .status = c->res.status,
        };
        audit_record(&e);
    }
    json_decref(c->body);
    c->done(c->arg, &c->res);
    free(c);
}

static void tokens(struct call *c)
{
    const json_t *body = c->body;
    struct api_response *res = &c->res;
    const char *sub = json_string_value(json_object_get(body, "sub"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *role = json_string_value(json_object_get(body, "role"));
    const json_t *dj = json_object_get(body, "delegation");
    const json_t *cj = json_object_get(body, "category");
    const json_t *tj = json_object_get(body, "ttl_s");
    const json_t *jj = json_object_get(body, "jti");
    const char *del = json_string_value(dj);
    char jti[PROTO_JTI_BUF];
    const json_t *rj = json_object_get(body, "region");
    const char *region = json_string_value(rj);
    int r = proto_role_parse(role), cat = PROTO_CAT_NONE;
    long ttl = TOKEN_TTL_DEFAULT_S;
    if (!proto_valid_sub(sub)) {
        reply_error(res, 400, "bad_request", "'sub' must match [A-Za-z0-9._:@-]{1,64}");
        return;
    }
    if (!proto_valid_name(name)) {
        reply_error(res, 400, "bad_request", "'name' must be 1 to 80 characters");
        return;
    }
    if (r < 0) {
        reply_error(res, 400, "bad_request", "'role' must be moderator, delegate or observer");
        return;
    }
    if (dj && !json_is_null(dj) && !proto_valid_name(del)) {
        reply_error(res, 400, "bad_request", "'delegation' must be 1 to 80 characters");
        return;
    }
    if (cj && !json_is_null(cj) && (cat = proto_category_parse(json_string_value(cj))) < 0) {
        reply_error(res, 400, "bad_request", "'category' is not a known category");
        return;
    }
    if (rj && !json_is_null(rj) && !proto_valid_region(region)) {
        reply_error(res, 400, "bad_request", "'region' must be 1 to 40 characters on one line");
        return;
    }
    if (tj) {
        if (!json_is_integer(tj) || json_integer_value(tj) < 60 || json_integer_value(tj) > TOKEN_TTL_MAX_S) {
            reply_error(res, 400, "bad_request", "'ttl_s' must be an integer from 60 to 2592000");
            return;
        }
        ttl = (long)json_integer_value(tj);
    }
    if (jj && !json_is_null(jj)) {
        if (!proto_valid_jti(json_string_value(jj))) {
            reply_error(res, 400, "bad_request", "'jti' must match [A-Za-z0-9._-]{1,64}");
            return;
        }
        snprintf(jti, sizeof jti, "%s", json_string_value(jj));
    } else if (random_jti(jti) != 0) {
        reply_error(res, 500, "internal", "cannot make a token id");
        return;
    }
    char *tok = api_mint(c->cfg, c->id, sub, name, (enum proto_role)r, del, (enum proto_category)cat,
                         region, ttl, jti);
    if (!tok) {
        reply_error(res, 500, "internal", "cannot mint a token");
        return;
    }
    size_t ul = strlen(c->base) + strlen(tok) + 8;
    char *url = malloc(ul);
    if (url)
        snprintf(url, ul, "%s/#t=%s", c->base, tok);
    reply_json(res, 201, json_pack("{s:s, s:s, s:s}", "token", tok, "url", url ? url : "", "jti", jti));
    free(url);
    free(tok);
}

static void transcript(struct call *c)
{
    char fmt[16] = "json";
    query_param(c->query, "format", fmt, sizeof fmt);
    int f = transcript_format_parse(fmt);
    if (f < 0) {
        reply_error(&c->res, 400, "bad_request", "format must be json, md or csv");
        return;
    }
    char *out = NULL;
    size_t len = 0;
    int st = hub_room_transcript(c->h, c->id, f, &out, &len);
    if (st != 200) {
        reply_error(&c->res, st, st == 404 ? "not_found" : "internal", "cannot render the record");
        return;
    }
    c->res.status = 200;
    c->res.content_type = transcript_content_type((enum transcript_format)f);
    c->res.body = out;
    c->res.len = len;
}

static void closed_cb(void *arg, int status)
{
    struct call *c = arg;
    json_t *j = status == 200 ? hub_room_get(c->h, c->id) : NULL;
    if (j)
        reply_json(&c->res, 200, j);
    else if (status == 404)
        reply_error(&c->res, 404, "not_found", "no such room");
    else
        reply_error(&c->res, 503, "unavailable", "the backend is unavailable; retry later");
    finish(c);
}

static void revoked_cb(void *arg, int status)
{
    struct call *c = arg;
    if (status == 200)
        reply_json(&c->res, 201, json_pack("{s:s, s:I}", "jti", c->jti, "until", (json_int_t)c->until_s));
    else if (status == 404)
        reply_error(&c->res, 404, "not_found", "no such room");
    else if (status == 503)
        reply_error(&c->res, 503, "unavailable", "the backend is unavailable; retry later");
    else if (status == 409)
        reply_error(&c->res, 409, "quota_exceeded",
                    "the room already holds as many revocations in force as it keeps; "
                    "wait for some to expire");
    else
        reply_error(&c->res, 500, "internal", "the revocation was not stored");
    finish(c);
}

/* POST /api/rooms/{id}/revocations {"jti","until"?}: until defaults to
 * the token's own exp when a connection here joined with it, else 30 days.
 * Returns true when the call finishes later. */
static bool revoke(struct call *c)
{
    int64_t now_s = (int64_t)time(NULL);
    const char *jti = json_string_value(json_object_get(c->body, "jti"));
    int64_t exp = jti && proto_valid_jti(jti) ? hub_room_token_exp(c->h, c->id, jti) : 0;
    const char *why = revoke_body_parse(c->body, now_s, exp, c->jti, &c->until_s);
    if (why) {
        reply_error(&c->res, 400, "bad_request", why);
        return false;
    }
    hub_room_revoke(c->h, c->id, c->jti, c->until_s, revoked_cb, c);
    return true;
}

/* The transcript asked for with a moderator's room token, once the room is
 * held: true (and the answer set) when the token no longer opens it. A
 * revoked token is refused as unauthorized (contract section 11), 401 like
 * a forged or expired one, so that a client knows to get a new token; 403
 * is for a valid token whose holder is no longer a moderator of the room. */
static bool moderator_refused(struct call *c)
{
    bool refused = true;
    switch (hub_room_moderator_check(c->h, c->id, c->moderator, c->moderator_jti)) {
    case HUB_MODERATOR_OK:
        refused = false;
        break;
    case HUB_MODERATOR_REVOKED:
        reply_error(&c->res, 401, "unauthorized", "this token was revoked");
        break;
    case HUB_MODERATOR_NOT_MODERATOR:
        reply_error(&c->res, 403, "forbidden",
                    "this token's holder is no longer a moderator of the room");
        break;
    case HUB_MODERATOR_NO_ROOM:
        reply_error(&c->res, 404, "not_found", "no such room");
        break;
    }
    return refused;
}

/* The room is held by this node (or does not exist): act on it. */
static void room_found(void *arg, bool found)
{
    struct call *c = arg;
    if (!found) {
        if (!hub_backend_up(c->h))
            reply_error(&c->res, 503, "unavailable", "the backend is unavailable; retry later");
        else
            reply_error(&c->res, 404, "not_found", "no such room");
    } else if (c->sub[0] == '\0' && strcmp(c->method, "GET") == 0) {
        json_t *j = hub_room_get(c->h, c->id);
        if (j)
            reply_json(&c->res, 200, j);
        else
            reply_error(&c->res, 404, "not_found", "no such room");
    } else if (c->sub[0] == '\0' && strcmp(c->method, "DELETE") == 0) {
        hub_room_close(c->h, c->id, closed_cb, c);
        return;
    } else if (strcmp(c->sub, "tokens") == 0) {
        tokens(c);
    } else if (c->moderator[0] && moderator_refused(c)) {
        /* answered: 401, 403 or 404 */
    } else if (strcmp(c->sub, "revocations") == 0 && strcmp(c->method, "POST") == 0) {
        if (revoke(c))
            return;
    } else if (strcmp(c->sub, "revocations") == 0) {
        json_t *list = hub_room_revocations(c->h, c->id);
        if (list)
            reply_json(&c->res, 200, list);
        else
            reply_error(&c->res, 404, "not_found", "no such room");
    } else {
        transcript(c);
    }
    finish(c);
}

static void created_cb(void *arg, int status, const json_t *out, const char *msg)
{
    struct call *c = arg;
    if (status == 201)
        reply_json(&c->res, 201, json_incref((json_t *)out));
    else if (status == 409)
        reply_error(&c->res, 409, "conflict", "a room with this id exists");
    else if (status == 400)
        reply_error(&c->res, 400, "bad_request", msg ? msg : "invalid room");
    else
        reply_error(&c->res, 503, "unavailable", "the backend is unavailable; retry later");
    finish(c);
}

static void listed_cb(void *arg, int status, const json_t *list)
{
    struct call *c = arg;
    if (status == 200)
        reply_json(&c->res, 200, json_incref((json_t *)list));
    else
        reply_error(&c->res, 503, "unavailable", "the backend is unavailable; retry later");
    finish(c);
}

/* Routes /api/rooms[...]; returns true when the call was handed on (it
 * finishes later), false when c->res holds the answer. */
static bool rooms_api(struct call *c)
{
    const char *rest = c->path + strlen("/api/rooms");
    if (*rest == '\0' || strcmp(rest, "/") == 0) {
        if (strcmp(c->method, "GET") == 0) {
            hub_rooms_list(c->h, listed_cb, c);
            return true;
        }
        if (strcmp(c->method, "POST") == 0) {
            if (!c->body) {
                reply_error(&c->res, 400, "bad_request", "a JSON body is required");
                return false;
            }
            hub_room_create(c->h, c->body, created_cb, c);
            return true;
        }
        reply_error(&c->res, 405, "bad_request", "use GET or POST on /api/rooms");
        return false;
    }
    /* /api/rooms/{id}[/tokens|/transcript] */
    const char *p = rest + 1;
    size_t il = strcspn(p, "/");
    if (il == 0 || il > PROTO_MAX_ROOM_ID) {
        reply_error(&c->res, 404, "not_found", "no such room");
        return false;
    }
    memcpy(c->id, p, il);
    c->id[il] = '\0';
    snprintf(c->sub, sizeof c->sub, "%s", p[il] == '/' ? p + il + 1 : "");
    if (!proto_valid_room_id(c->id)) {
        reply_error(&c->res, 404, "not_found", "no such room");
        return false;
    }
    const char *want = c->sub[0] == '\0' ? (strcmp(c->method, "DELETE") == 0 ? "DELETE" : "GET")
                       : strcmp(c->sub, "tokens") == 0     ? "POST"
                       : strcmp(c->sub, "transcript") == 0 ? "GET"
                       : strcmp(c->sub, "revocations") == 0
                           ? (strcmp(c->method, "POST") == 0 ? "POST" : "GET")
                           : NULL;
    if (!want) {
        reply_error(&c->res, 404, "not_found", "no such endpoint");
        return false;
    }
    if (strcmp(c->method, want) != 0) {
        reply_error(&c->res, 405, "bad_request", "method not allowed here");
        return false;
    }
    if ((strcmp(c->sub, "tokens") == 0 || strcmp(c->method, "POST") == 0) && !c->body) {
        reply_error(&c->res, 400, "bad_request", "a JSON body is required");
        return false;
    }
    hub_room_ensure(c->h, c->id, room_found, c);
    return true;
}

void api_handle(struct hub *h, const struct config *cfg, const struct api_request *req,
                void (*done)(void *arg, struct api_response *res), void *arg)
{
    struct call *c = calloc(1, sizeof *c);
    struct api_response oom = {500, "application/json", NULL, 0};
    if (!c) {
        done(arg, &oom);
        return;
    }
    c->h = h;
    c->cfg = cfg;
    c->done = done;
    c->arg = arg;
    snprintf(c->method, sizeof c->method, "%s", req->method);
    snprintf(c->path, sizeof c->path, "%s", req->path);
    snprintf(c->query, sizeof c->query, "%s", req->query ? req->query : "");
    snprintf(c->base, sizeof c->base, "%s", req->base_url);
    snprintf(c->remote, sizeof c->remote, "%s", req->remote ? req->remote : "");
    metrics.http_requests++;
    if (strcmp(req->path, "/healthz") == 0) {
        int up = hub_backend_up(h);
        reply_json(&c->res, up ? 200 : 503,
                   json_pack("{s:s, s:s, s:s, s:I, s:I}", "status", up ? "ok" : "unavailable",
                             "node", cfg->node_id, "backend", cfg->redis_url ? "redis" : "memory",
                             "rooms", (json_int_t)metrics.rooms, "connections",
                             (json_int_t)metrics.connections));
        goto now;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        c->res.status = 200;
        c->res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        c->res.body = metrics_render(hub_backend_up(h), &c->res.len);
        if (!c->res.body)
            reply_error(&c->res, 500, "internal", "out of memory");
        goto now;
    }
    if (strcmp(req->path, "/api/record-key") == 0) {
        record_key(cfg, req, &c->res);
        goto now;
    }
    /* A moderator's room token opens that room's record, and nothing
     * else: the chair downloads the minutes without the admin key. */
    if (transcript_token(cfg, req, c->moderator, c->moderator_jti)) {
        c->who = c->moderator; /* audited as that moderator's call */
        if (rooms_api(c))
            return;
        goto now;
    }
    if (!cfg->admin_key) {
        reply_error(&c->res, 404, "not_found", "the admin API is disabled (no admin key)");
        goto now;
    }
    c->who = "anonymous";
    if (!authorized(cfg, req->auth)) {
        reply_error(&c->res, 401, "unauthorized", "missing or wrong admin key");
        goto now;
    }
    c->who = "admin";
    if (req->body_len > 0) {
        json_error_t err;
        c->body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
        if (!c->body || !json_is_object(c->body)) {
            char msg[200];
            snprintf(msg, sizeof msg, "the body must be a JSON object (%s)",
                     c->body ? "not an object" : err.text);
            reply_error(&c->res, 400, "bad_request", msg);
            goto now;
        }
    }
    if (strcmp(req->path, "/api/rooms") == 0 || strncmp(req->path, "/api/rooms/", 11) == 0) {
        if (rooms_api(c))
            return;
        goto now;
    }
    reply_error(&c->res, 404, "not_found", "no such endpoint");
now:
    finish(c);
}
