/*
 * url: the URLs a user gives the CLI and the bench: a server's base URL
 * (http://host:port, https://..., ws://host:port/ws, wss://...) and the
 * invite URL the admin API and --demo print (http://host:port/#t=TOKEN),
 * which carries the token in the fragment.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef ROSTRUM_URL_H
#define ROSTRUM_URL_H

#include <stdbool.h>
#include <stddef.h>

#define URL_HOST_MAX 256
#define URL_PATH_MAX 1024
#define URL_FRAGMENT_MAX 4096

struct url {
    bool tls;                       /* https or wss */
    bool websocket;                 /* ws or wss was written */
    char host[URL_HOST_MAX];        /* without the brackets of an IPv6 literal */
    int port;                       /* explicit or the scheme's default */
    char path[URL_PATH_MAX];        /* "/" when absent; query kept */
    char fragment[URL_FRAGMENT_MAX]; /* after '#', "" when absent */
};

/* Parses s. Returns 0, or -1 with a reason in err[0..errsz). A URL without
 * a scheme ("127.0.0.1:8080") is read as http. */
int url_parse(const char *s, struct url *u, char *err, size_t errsz);

/* The token of an invite URL (fragment "t=TOKEN", possibly among other
 * "&"-separated parameters), copied into out; returns 0, or -1 when the URL
 * carries none or it does not fit. */
int url_token(const struct url *u, char *out, size_t outsz);

/* The WebSocket path for u: u->path when it already ends in "/ws",
 * otherwise u->path's directory followed by "ws" (so that an invite URL
 * http://h/#t=.. and a base behind a proxy prefix http://h/rostrum/ both
 * work). Returns 0, or -1 when out is too small. */
int url_ws_path(const struct url *u, char *out, size_t outsz);

/* The prefix to put before "/api/..." for an admin API base URL: u->path
 * without a trailing "/", "/api" or "/ws" ("" for the root), so that the
 * server's base, its API and its WebSocket URL all name the same API. */
int url_api_prefix(const struct url *u, char *out, size_t outsz);

/* "host:port" as it goes in a Host header (brackets around IPv6 and no
 * port when it is the scheme's default). */
int url_host_header(const struct url *u, char *out, size_t outsz);

#endif
