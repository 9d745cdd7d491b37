/*
 * api.c: admin API, /healthz and /metrics (api.h).
 *
 * The admin key is compared in constant time. Tokens minted here are never
 * logged; their URL carries the token in the fragment (/#t=...), which
 * browsers never send to a server.
 */
#include "api.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "hub.h"
#include "metrics.h"
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

char *api_mint(const struct config *cfg, const char *room, const char *sub, const char *name,
               enum proto_role role, const char *delegation, enum proto_category category,
               long ttl_s)
{
    struct proto_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.room, sizeof c.room, "%s", room);
    snprintf(c.delegation, sizeof c.delegation, "%s", delegation ? delegation : "");
    c.role = role;
    c.category = category;
    c.iat = (int64_t)time(NULL);
    c.exp = c.iat + ttl_s;
    return proto_jwt_mint(cfg->secret, cfg->secret_len, &c);
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

static void tokens(struct hub *h, const struct config *cfg, const struct api_request *req,
                   const char *room, const json_t *body, struct api_response *res)
{
    const char *sub = json_string_value(json_object_get(body, "sub"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *role = json_string_value(json_object_get(body, "role"));
    const json_t *dj = json_object_get(body, "delegation");
    const json_t *cj = json_object_get(body, "category");
    const json_t *tj = json_object_get(body, "ttl_s");
    const char *del = json_string_value(dj);
    int r = proto_role_parse(role), cat = PROTO_CAT_NONE;
    long ttl = TOKEN_TTL_DEFAULT_S;
    if (!hub_room_exists(h, room))
        { reply_error(res, 404, "not_found", "no such room"); return; }
    if (!proto_valid_sub(sub))
        { reply_error(res, 400, "bad_request", "'sub' must match [A-Za-z0-9._:@-]{1,64}"); return; }
    if (!proto_valid_name(name))
        { reply_error(res, 400, "bad_request", "'name' must be 1 to 80 characters"); return; }
    if (r < 0)
        { reply_error(res, 400, "bad_request", "'role' must be moderator, delegate or observer"); return; }
    if (dj && !json_is_null(dj) && !proto_valid_name(del))
        { reply_error(res, 400, "bad_request", "'delegation' must be 1 to 80 characters"); return; }
    if (cj && !json_is_null(cj) && (cat = proto_category_parse(json_string_value(cj))) < 0)
        { reply_error(res, 400, "bad_request", "'category' is not a known category"); return; }
    if (tj) {
        if (!json_is_integer(tj) || json_integer_value(tj) < 60 || json_integer_value(tj) > TOKEN_TTL_MAX_S)
            { reply_error(res, 400, "bad_request", "'ttl_s' must be an integer from 60 to 2592000"); return; }
        ttl = (long)json_integer_value(tj);
    }
    char *tok = api_mint(cfg, room, sub, name, (enum proto_role)r, del, (enum proto_category)cat, ttl);
    if (!tok)
        { reply_error(res, 500, "internal", "cannot mint a token"); return; }
    size_t ul = strlen(req->base_url) + strlen(tok) + 8;
    char *url = malloc(ul);
    if (url)
        snprintf(url, ul, "%s/#t=%s", req->base_url, tok);
    reply_json(res, 201, json_pack("{s:s, s:s}", "token", tok, "url", url ? url : ""));
    free(url);
    free(tok);
}

static void rooms_api(struct hub *h, const struct config *cfg, const struct api_request *req,
                      struct api_response *res)
{
    const char *rest = req->path + strlen("/api/rooms");
    char id[PROTO_ROOM_BUF + 1] = "", sub[32] = "";
    json_t *body = NULL;
    if (req->body_len > 0) {
        json_error_t err;
        body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
        if (!body || !json_is_object(body)) {
            json_decref(body);
            char msg[200];
            snprintf(msg, sizeof msg, "the body must be a JSON object (%s)", body ? "not an object" : err.text);
            { reply_error(res, 400, "bad_request", msg); return; }
        }
    }
    if (*rest == '\0' || strcmp(rest, "/") == 0) {
        if (strcmp(req->method, "GET") == 0) {
            reply_json(res, 200, hub_rooms_list(h));
        } else if (strcmp(req->method, "POST") == 0) {
            json_t *out = NULL;
            char err[200] = "invalid room";
            int st = body ? hub_room_create(h, body, &out, err, sizeof err) : 400;
            if (!body)
                snprintf(err, sizeof err, "a JSON body is required");
            if (st == 201)
                reply_json(res, 201, out);
            else if (st == 409)
                reply_error(res, 409, "conflict", "a room with this id exists");
            else if (st == 400)
                reply_error(res, 400, "bad_request", err);
            else
                reply_error(res, 503, "unavailable", "the backend is unavailable; retry later");
        } else {
            reply_error(res, 405, "bad_request", "use GET or POST on /api/rooms");
        }
        goto done;
    }
    /* /api/rooms/{id}[/tokens|/transcript] */
    const char *p = rest + 1;
    size_t il = strcspn(p, "/");
    if (il == 0 || il > PROTO_MAX_ROOM_ID) {
        reply_error(res, 404, "not_found", "no such room");
        goto done;
    }
    memcpy(id, p, il);
    id[il] = '\0';
    snprintf(sub, sizeof sub, "%s", p[il] == '/' ? p + il + 1 : "");
    if (!proto_valid_room_id(id) || !hub_room_exists(h, id)) {
        reply_error(res, 404, "not_found", "no such room");
        goto done;
    }
    if (sub[0] == '\0') {
        if (strcmp(req->method, "GET") == 0) {
            reply_json(res, 200, hub_room_get(h, id));
        } else if (strcmp(req->method, "DELETE") == 0) {
            int st = hub_room_close(h, id);
            if (st == 200) {
                json_t *j = hub_room_get(h, id);
                reply_json(res, 200, j);
            } else {
                reply_error(res, st, st == 404 ? "not_found" : "unavailable", "cannot close the room");
            }
        } else {
            reply_error(res, 405, "bad_request", "use GET or DELETE on a room");
        }
    } else if (strcmp(sub, "tokens") == 0) {
        if (strcmp(req->method, "POST") != 0)
            reply_error(res, 405, "bad_request", "use POST on tokens");
        else if (!body)
            reply_error(res, 400, "bad_request", "a JSON body is required");
        else
            tokens(h, cfg, req, id, body, res);
    } else if (strcmp(sub, "transcript") == 0) {
        char fmt[16] = "json";
        query_param(req->query, "format", fmt, sizeof fmt);
        int f = transcript_format_parse(fmt);
        if (strcmp(req->method, "GET") != 0) {
            reply_error(res, 405, "bad_request", "use GET on the transcript");
        } else if (f < 0) {
            reply_error(res, 400, "bad_request", "format must be json, md or csv");
        } else {
            char *out = NULL;
            size_t len = 0;
            int st = hub_room_transcript(h, id, f, &out, &len);
            if (st == 200) {
                res->status = 200;
                res->content_type = transcript_content_type((enum transcript_format)f);
                res->body = out;
                res->len = len;
            } else {
                reply_error(res, st, st == 404 ? "not_found" : "internal", "cannot render the record");
            }
        }
    } else {
        reply_error(res, 404, "not_found", "no such endpoint");
    }
done:
    json_decref(body);
}

void api_handle(struct hub *h, const struct config *cfg, const struct api_request *req,
                struct api_response *res)
{
    memset(res, 0, sizeof *res);
    metrics.http_requests++;
    if (strcmp(req->path, "/healthz") == 0) {
        int up = hub_backend_up(h);
        reply_json(res, up ? 200 : 503,
                   json_pack("{s:s, s:s, s:s, s:I, s:I}", "status", up ? "ok" : "unavailable",
                             "node", cfg->node_id, "backend", cfg->redis_url ? "redis" : "memory",
                             "rooms", (json_int_t)metrics.rooms, "connections",
                             (json_int_t)metrics.connections));
        return;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        res->status = 200;
        res->content_type = "text/plain; version=0.0.4; charset=utf-8";
        res->body = metrics_render(hub_backend_up(h), &res->len);
        if (!res->body)
            reply_error(res, 500, "internal", "out of memory");
        return;
    }
    if (!cfg->admin_key)
        { reply_error(res, 404, "not_found", "the admin API is disabled (no admin key)"); return; }
    if (!authorized(cfg, req->auth))
        { reply_error(res, 401, "unauthorized", "missing or wrong admin key"); return; }
    if (strcmp(req->path, "/api/rooms") == 0 || strncmp(req->path, "/api/rooms/", 11) == 0)
        { rooms_api(h, cfg, req, res); return; }
    reply_error(res, 404, "not_found", "no such endpoint");
}
