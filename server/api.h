/*
 * api: the HTTP endpoints other than static files: the admin API (contract
 * section 7), /healthz and /metrics. Independent of libwebsockets: net.c
 * hands in the method, path, headers and body and writes out the response.
 */
#ifndef ROSTRUM_API_H
#define ROSTRUM_API_H

#include <stddef.h>

#include "proto.h"

struct config;
struct hub;

struct api_request {
    const char *method;     /* "GET", "POST", "DELETE", ... */
    const char *path;       /* without the query */
    const char *query;      /* after '?', or "" */
    const char *auth;       /* Authorization header, or "" */
    const char *base_url;   /* "http://host:port" as the client reached us */
    const char *remote;     /* the peer's address (audit log), or NULL */
    const char *body;       /* may be NULL */
    size_t body_len;
};

struct api_response {
    int status;
    const char *content_type; /* static */
    char *body;               /* new string (free()) */
    size_t len;
};

/* True for the paths api_handle() serves (/api..., /healthz, /metrics). */
int api_owns_path(const char *path);
/* Answers one request: done(arg, res) is called exactly once, before
 * api_handle() returns or later (the backend may have to be asked); res is
 * the caller's to free (res->body). req is copied. */
void api_handle(struct hub *h, const struct config *cfg, const struct api_request *req,
                void (*done)(void *arg, struct api_response *res), void *arg);

/* Mints a token for room with the first token key. delegation and region
 * may be NULL (no claim); jti NULL gives a random one, so that every token
 * the server mints (the API's, --demo's) can be revoked alone. Returns a
 * new string (free()) or NULL. */
char *api_mint(const struct config *cfg, const char *room, const char *sub, const char *name,
               enum proto_role role, const char *delegation, enum proto_category category,
               const char *region, long ttl_s, const char *jti);

#endif
