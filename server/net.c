/*
 * net.c: the libwebsockets glue (net.h). The only file that includes
 * libwebsockets.h.
 *
 * - One vhost, one port: HTTP (static files, /api, /healthz, /metrics) and
 *   the WebSocket endpoint /ws with subprotocol rostrum.v1. A WebSocket
 *   upgrade to any other path or without that subprotocol is refused.
 * - Writes happen only in the WRITEABLE callbacks. For WebSockets the
 *   session's queue holds complete pre-built frames; as many as fit in
 *   64 KiB are copied into one buffer and sent with one lws_write(...,
 *   LWS_WRITE_RAW), i.e. one syscall for many frames (lws keeps any part
 *   the socket did not take and sends it before the next WRITEABLE).
 * - Permessage-deflate is not offered (no extensions): it costs ~100 KB per
 *   connection and trips an lws assert on large inflated messages.
 * - A 100 ms timer drives the hub's clocks (floor time, join timeouts,
 *   observer counts).
 * - Per-address limits, logs and metrics use the client's address: the
 *   peer's, or behind a --trusted-proxy the one its X-Forwarded-For names
 *   (realip.h decides; this file only reads the header).
 */
#include "net.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "frame.h"
#include "hub.h"
#include "iplimit.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "realip.h"
#include "session.h"

_Static_assert(LWS_PRE <= FRAME_PRE, "FRAME_PRE must cover LWS_PRE");

#define WRITE_CHUNK (64 * 1024)
#define TICK_US (100 * LWS_US_PER_MS)
#define DRAIN_MS 3000

struct net {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    const struct config *cfg;
    struct hub *hub;
    char base_url[320];
    lws_sorted_usec_list_t tick;
    unsigned char *wbuf;  /* LWS_PRE + WRITE_CHUNK, shared: one thread */
    struct iplimit *ipl;
    struct realip *trusted;   /* --trusted-proxy */
    int64_t last_sweep;
    int64_t last_refusal_log; /* refusals are logged at most once a second */
    uint64_t refusals_unlogged;
    struct session_limits lim;
    void (*on_reload)(void *arg); /* SIGHUP, besides the certificate */
    void *reload_arg;
    struct loop loop;         /* net_loop(): the watches of foreign descriptors */
    /* The watches, also served between WebSocket writes (see
     * serve_watches); a handful at most (Redis: two). */
    struct loop_watch *watched[8];
    size_t n_watched;
    unsigned writes_since_serve;
    bool serving;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

struct ws_pss {
    struct session *s;
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_binary;
    bool wrote_last;      /* bytes went out in the last WRITEABLE */
    char ip[REALIP_ADDR_MAX]; /* the client's address (realip_client()) */
    enum realip_kind kind;    /* REALIP_TRUSTED: not counted in the per-address limits */
    bool close_sent;      /* our close frame is out: read and discard until the peer closes */
    bool shut;            /* and our side of the TCP connection is shut */
};

struct http_pss {
    char path[512];
    char query[512];
    char method[8];
    char auth[512];
    char base[320];
    char remote[REALIP_ADDR_MAX]; /* the client (behind trusted proxies too), for the audit log */
    char *body;
    size_t body_len;
    bool too_big;
    char *out;
    size_t out_len, out_sent;
    int status;               /* 0 until the response is known */
    const char *ctype;
    bool headers_sent;
    struct http_wait *wait;   /* an API answer still to come */
};

/* Links an API call that answers later to its connection, which may be
 * gone by then. */
struct http_wait {
    struct lws *wsi;          /* NULL once the connection closed */
};

static enum realip_kind client_of(struct lws *wsi, char out[REALIP_ADDR_MAX], char *peer,
                                  size_t peer_len);

/* Which net a connection belongs to (lws keeps it as the context's user). */
static struct net *net_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* ---- what sessions may do with their connection (session.h) ---- */

static void conn_want_write(void *conn)
{
    lws_callback_on_writable(conn);
}

static void conn_close_after(void *conn, int secs)
{
    lws_set_timeout(conn, PENDING_TIMEOUT_USER_OK, secs);
}

void net_on_reload(struct net *n, void (*fn)(void *arg), void *arg)
{
    n->on_reload = fn;
    n->reload_arg = arg;
}
static const struct session_conn_ops conn_ops = {conn_want_write, conn_close_after};

const char *net_base_url(const struct net *n)
{
    return n->base_url;
}

/* Safe from a signal handler: the 100 ms tick wakes the loop, which then
 * sees the flag (no global pointer to the context needed). */
static void net_stop(void)
{
    stop_requested = 1;
}

/* ---- HTTP ---- */

static const char *mime_of(const char *path)
{
    static const struct { const char *ext, *mime; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"}, {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].mime;
    return "application/octet-stream";
}

/* Sets the response; headers go out from the next WRITEABLE, then the
 * body. */
static int http_respond(struct lws *wsi, struct http_pss *p, int status, const char *ctype,
                        char *body, size_t len)
{
    if (p->status) {
        /* Answered already (e.g. 413 before the body came in): keep the
         * first answer. */
        free(body);
        return 0;
    }
    p->status = status;
    p->ctype = ctype;
    p->out = body;
    p->out_len = len;
    p->out_sent = 0;
    p->headers_sent = false;
    lws_callback_on_writable(wsi);
    return 0;
}

static int http_send_headers(struct lws *wsi, struct http_pss *p)
{
    unsigned char buf[LWS_PRE + 1024];
    unsigned char *start = buf + LWS_PRE, *q = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)p->status, p->ctype, p->out_len, &q, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &q, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                    (const unsigned char *)"nosniff", 7, &q, end) ||
        lws_finalize_write_http_header(wsi, start, &q, end))
        return -1;
    p->headers_sent = true;
    return 0;
}

static int http_simple(struct lws *wsi, struct http_pss *p, int status, const char *msg)
{
    size_t cap = strlen(msg) + 64;
    char *body = malloc(cap);
    if (!body)
        return -1;
    int n = snprintf(body, cap, "{\"error\":\"%s\",\"message\":\"%s\"}",
                     status == 404 ? "not_found" : status == 413 ? "too_large" : "bad_request", msg);
    /* (411 is a bad_request too: the request is fine but for its framing.) */
    return http_respond(wsi, p, status, "application/json", body, (size_t)n);
}

static int serve_static(struct lws *wsi, struct http_pss *p)
{
    char file[PATH_MAX];
    const char *path = p->path;
    if (strstr(path, "..") || strchr(path, '\\'))
        return http_simple(wsi, p, 404, "no such file");
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    snprintf(file, sizeof file, "%s%s", net_of(wsi)->cfg->web_root, path);
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
        return http_simple(wsi, p, 404, "no such file");
    /* The page may load only its own files and talk only to its own
     * server, and no other site may frame it (clickjacking). */
    static const char extra[] = "x-content-type-options: nosniff\r\n"
                                "referrer-policy: no-referrer\r\n"
                                "cache-control: no-cache\r\n"
                                "x-frame-options: DENY\r\n"
                                "content-security-policy: default-src 'self'; connect-src 'self' ws: wss:; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'\r\n";
    int n = lws_serve_http_file(wsi, file, mime_of(file), extra, (int)sizeof extra - 1);
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

static void api_done(void *arg, struct api_response *res)
{
    struct http_wait *w = arg;
    if (!w->wsi) {
        free(res->body);
        free(w);
        return;
    }
    struct http_pss *p = lws_wsi_user(w->wsi);
    p->wait = NULL;
    http_respond(w->wsi, p, res->status, res->content_type, res->body, res->len);
    free(w);
}

static int handle_api(struct lws *wsi, struct http_pss *p)
{
    struct api_request req = {
        .method = p->method, .path = p->path, .query = p->query, .auth = p->auth,
        .base_url = p->base, .body = p->body, .body_len = p->body_len, .remote = p->remote,
    };
    struct http_wait *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->wsi = wsi;
    p->wait = w;
    api_handle(net_of(wsi)->hub, net_of(wsi)->cfg, &req, api_done, w);
    return 0;
}

static void http_pss_reset(struct http_pss *p)
{
    if (p->wait)
        p->wait->wsi = NULL; /* api_done frees it */
    free(p->body);
    free(p->out);
    memset(p, 0, sizeof *p);
}

/* Answers a refused WebSocket upgrade with an HTTP/1.1 status and a
 * reason, then closes. (lws_return_http_status() answers HTTP/1.0 at this
 * stage, which some client libraries cannot read, and lws itself drops an
 * upgrade offering only subprotocols it does not know without a word.) */
static int refuse_upgrade(struct lws *wsi, int status, const char *why)
{
    unsigned char buf[LWS_PRE + 512];
    char *t = (char *)buf + LWS_PRE;
    const char *text = status == 400   ? "Bad Request"
                       : status == 403 ? "Forbidden"
                       : status == 404 ? "Not Found"
                       : status == 429 ? "Too Many Requests"
                                       : "Error";
    int n = snprintf(t, sizeof buf - LWS_PRE,
                     "HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
                     "content-length: %zu\r\ncache-control: no-store\r\nconnection: close\r\n\r\n%s",
                     status, text, strlen(why), why);
    if (n > 0 && (size_t)n < sizeof buf - LWS_PRE)
        lws_write(wsi, (unsigned char *)t, (size_t)n, LWS_WRITE_RAW);
    return -1;
}

/* True when the comma-separated Sec-WebSocket-Protocol offer names
 * rostrum.v1. */
static bool offers_rostrum(struct lws *wsi)
{
    char offer[256] = "";
    if (lws_hdr_copy(wsi, offer, sizeof offer, WSI_TOKEN_PROTOCOL) <= 0)
        return false;
    for (char *tok = offer; *tok;) {
        tok += strspn(tok, " ,");
        size_t l = strcspn(tok, " ,");
        if (l == strlen("rostrum.v1") && strncmp(tok, "rostrum.v1", l) == 0)
            return true;
        tok += l;
    }
    return false;
}

static bool origin_allowed(const struct net *net, struct lws *wsi);

/* Every refusal of a WebSocket upgrade, before lws picks a subprotocol:
 * another path (404), rostrum.v1 not offered (400), a foreign Origin
 * (403). The per-address limits (429) come in ws_cb's filter, next to the
 * connection's accounting. */
static int check_upgrade(struct net *net, struct lws *wsi)
{
    char uri[64] = "";
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/ws") != 0)
        return refuse_upgrade(wsi, 404, "the WebSocket endpoint is /ws");
    if (!offers_rostrum(wsi))
        return refuse_upgrade(wsi, 400, "WebSocket subprotocol rostrum.v1 required");
    if (!origin_allowed(net, wsi))
        return refuse_upgrade(wsi, 403, "a page of another site may not open this WebSocket");
    return 0;
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct http_pss *p = user;
    struct net *net = net_of(wsi);
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return check_upgrade(net, wsi);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade that did not ask for rostrum.v1 lands on the
         * default protocol (check_upgrade has refused it already). */
        return refuse_upgrade(wsi, 400, "WebSocket subprotocol rostrum.v1 required");
    case LWS_CALLBACK_HTTP: {
        char *uri = NULL;
        int ulen = 0;
        http_pss_reset(p);
        int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
        static const char *const methods[] = {"GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"};
        snprintf(p->method, sizeof p->method, "%s", m >= 0 && m < 6 ? methods[m] : "OTHER");
        snprintf(p->path, sizeof p->path, "%s", (const char *)in);
        for (int i = 0; i < 16; i++) {
            char frag[256];
            int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
            if (n <= 0)
                break;
            size_t ql = strlen(p->query);
            snprintf(p->query + ql, sizeof p->query - ql, "%s%s", ql ? "&" : "", frag);
        }
        if (lws_hdr_copy(wsi, p->auth, sizeof p->auth, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
            p->auth[0] = '\0';
        {
            char peer[64] = "";
            client_of(wsi, p->remote, peer, sizeof peer);
        }
        if (net->cfg->public_url) {
            snprintf(p->base, sizeof p->base, "%s", net->cfg->public_url);
        } else {
            char host[256] = "";
            if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) > 0 &&
                strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == strlen(host))
                snprintf(p->base, sizeof p->base, "%s://%s", net->cfg->tls_cert ? "https" : "http", host);
            else
                snprintf(p->base, sizeof p->base, "%s", net->base_url);
        }
        if (!api_owns_path(p->path)) {
            if (strcmp(p->method, "GET") != 0)
                return http_simple(wsi, p, 404, "no such endpoint");
            return serve_static(wsi, p);
        }
        char cl[32] = "";
        if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 && atol(cl) > 0) {
            if ((size_t)atol(cl) > net->cfg->max_body)
                return http_simple(wsi, p, 413, "the body is larger than --max-body");
            return 0; /* wait for the body */
        }
        char te[32] = "";
        /* lws 4.1 does not read chunked request bodies: say so plainly. */
        if (lws_hdr_copy(wsi, te, sizeof te, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0 && strstr(te, "chunked"))
            return http_simple(wsi, p, 411, "send the body with a Content-Length, not chunked");
        return handle_api(wsi, p);
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (p->too_big || p->body_len + len > net->cfg->max_body) {
            p->too_big = true;
            return 0;
        }
        {
            char *b = realloc(p->body, p->body_len + len + 1);
            if (!b)
                return -1;
            p->body = b;
            if (len) /* lws may report an empty body chunk with in == NULL */
                memcpy(p->body + p->body_len, in, len);
            p->body_len += len;
            p->body[p->body_len] = '\0';
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (p->too_big)
            return http_simple(wsi, p, 413, "the body is larger than --max-body");
        return handle_api(wsi, p);
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!p->status)
            return 0; /* the answer is not there yet */
        if (!p->headers_sent) {
            if (http_send_headers(wsi, p) != 0)
                return -1;
            lws_callback_on_writable(wsi);
            return 0;
        }
        if (!p->out && p->out_len)
            return -1;
        size_t left = p->out_len - p->out_sent;
        size_t n = left < WRITE_CHUNK ? left : WRITE_CHUNK;
        unsigned char *b = net->wbuf + LWS_PRE;
        if (n)
            memcpy(b, p->out + p->out_sent, n);
        bool last = p->out_sent + n >= p->out_len;
        if (lws_write(wsi, b, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        p->out_sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        free(p->out);
        p->out = NULL;
        p->status = 0;
        if (lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (p)
            http_pss_reset(p);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- watched descriptors (the Redis connections) ---- */

struct loop_watch {
    struct net *net;
    struct lws *wsi;          /* NULL once lws closed it */
    int fd;
    loop_cb on_read, on_write, on_close;
    void *arg;
    bool removed;             /* the owner let go; free on close */
    bool reading;             /* want_read(on) */
    bool write_wanted;        /* want_write() not yet answered by on_write */
};

static void watched_del(struct loop_watch *w)
{
    struct net *n = w->net;
    for (size_t i = 0; i < n->n_watched; i++)
        if (n->watched[i] == w) {
            n->watched[i] = n->watched[--n->n_watched];
            return;
        }
}

/* A pass of lws over thousands of writable WebSockets takes tens of
 * milliseconds; Redis' answers (commits, published events) would wait for
 * its end, and a room's next commit behind them. So every WATCH_EVERY
 * writes the watched descriptors are polled (no wait) and served here, in
 * the middle of the pass: bounded work between two services of Redis. */
#define WATCH_EVERY 32

static void serve_watches(struct net *n)
{
    struct pollfd fds[8];
    struct loop_watch *ws[8];
    size_t k = 0;
    if (n->serving || !n->n_watched)
        return;
    n->serving = true;
    for (size_t i = 0; i < n->n_watched && k < 8; i++) {
        struct loop_watch *w = n->watched[i];
        if (!w->wsi || w->removed)
            continue;
        fds[k] = (struct pollfd){.fd = w->fd, .events = (short)((w->reading ? POLLIN : 0) |
                                                               (w->write_wanted ? POLLOUT : 0))};
        ws[k++] = w;
    }
    if (k && poll(fds, k, 0) > 0) {
        for (size_t i = 0; i < k; i++) {
            struct loop_watch *w = ws[i];
            /* A callback may have let go of a later watch (removed) but
             * not freed it: lws closes it later, outside this pass. */
            if ((fds[i].revents & POLLOUT) && w->write_wanted && w->on_write && !w->removed) {
                w->write_wanted = false;
                w->on_write(w->arg);
            }
            if ((fds[i].revents & POLLIN) && w->reading && w->on_read && !w->removed)
                w->on_read(w->arg);
        }
    }
    n->serving = false;
}

struct raw_pss {
    struct loop_watch *w;
};

static struct loop_watch *adopting;

static struct loop_watch *watch_add(void *impl, int fd, loop_cb on_read, loop_cb on_write,
                                    loop_cb on_close, void *arg)
{
    struct net *net = impl;
    struct loop_watch *w = calloc(1, sizeof *w);
    if (!w || !net->vh) {
        free(w);
        close(fd);
        return NULL;
    }
    w->net = net;
    w->fd = fd;
    w->reading = true; /* read interest starts on (loop.h) */
    w->on_read = on_read;
    w->on_write = on_write;
    w->on_close = on_close;
    w->arg = arg;
    lws_sock_file_fd_type u;
    u.filefd = fd;
    adopting = w;
    w->wsi = lws_adopt_descriptor_vhost(net->vh, LWS_ADOPT_RAW_FILE_DESC, u, "rostrum-raw", NULL);
    adopting = NULL;
    if (!w->wsi) {
        free(w);
        return NULL; /* lws closed fd */
    }
    if (net->n_watched < sizeof net->watched / sizeof net->watched[0])
        net->watched[net->n_watched++] = w;
    return w;
}

static void watch_read(struct loop_watch *w, bool on)
{
    if (w && w->wsi) {
        w->reading = on;
        lws_rx_flow_control(w->wsi, on ? 1 : 0);
    }
}

static void watch_write(struct loop_watch *w)
{
    if (w && w->wsi) {
        w->write_wanted = true;
        lws_callback_on_writable(w->wsi);
    }
}

static void watch_remove(struct loop_watch *w)
{
    if (!w)
        return;
    w->on_read = w->on_write = w->on_close = NULL;
    w->removed = true;
    if (!w->wsi) {
        free(w);
        return;
    }
    watched_del(w);
    lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

const struct loop *net_loop(struct net *n)
{
    return &n->loop;
}

static int raw_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct raw_pss *p = user;
    struct loop_watch *w = p ? p->w : NULL;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1; /* not a WebSocket subprotocol */
    case LWS_CALLBACK_RAW_ADOPT_FILE:
        if (p)
            p->w = adopting;
        return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
        if (w && w->on_read)
            w->on_read(w->arg);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        /* (served already between writes when write_wanted is clear) */
        if (w && w->on_write && w->write_wanted) {
            w->write_wanted = false;
            w->on_write(w->arg);
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (!w)
            return 0;
        p->w = NULL;
        if (!w->removed)
            watched_del(w);
        w->wsi = NULL;
        if (w->removed) {
            free(w);
        } else if (w->on_close) {
            /* Hang-up seen by lws: the owner must drop its connection. */
            w->on_close(w->arg);
        }
        return 0;
    default:
        break;
    }
    return 0;
}

/* ---- WebSocket ---- */

/* Closing a socket with unread input makes the kernel answer with a reset
 * instead of a clean close, and the peer may then lose the frames it was
 * sent last, close frame included. We are closing: what the peer sent
 * since no longer matters, so read it away first. */
static void discard_input(struct lws *wsi)
{
    char buf[4096];
    int fd = lws_get_socket_fd(wsi);
    if (fd < 0 || lws_is_ssl(wsi))
        return;
    for (int i = 0; i < 256 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; i++)
        ;
}

/* The client of an upgrade: the peer, or the address a trusted proxy
 * named in X-Forwarded-For. Repeated headers (lws keeps each as one
 * fragment) are joined with ',' as RFC 9110 says they may be. The header
 * data of a request is at most max_http_header_data (4096) bytes, so buf
 * holds it all and the right-most entries are never cut off. */
static enum realip_kind client_of(struct lws *wsi, char out[REALIP_ADDR_MAX], char *peer, size_t peer_len)
{
    char xff[4100];
    size_t used = 0;
    bool any = false;
    lws_get_peer_simple(wsi, peer, peer_len);
    for (int i = 0; i < 64 && used + 1 < sizeof xff; i++) {
        int n = lws_hdr_copy_fragment(wsi, xff + used, (int)(sizeof xff - used), WSI_TOKEN_X_FORWARDED_FOR, i);
        if (n < 0)
            break;
        used += (size_t)n;
        any = true;
        if (used + 1 < sizeof xff)
            xff[used++] = ',';
    }
    xff[used] = '\0';
    return realip_client(net_of(wsi)->trusted, peer, any ? xff : NULL, out);
}

/* One log line per second at most: a flood must not flood the log too. */
static void log_refusal(struct net *net, const char *client, const char *peer,
                        enum iplimit_verdict v)
{
    int64_t now = clock_now_ms();
    if (now - net->last_refusal_log < 1000) {
        net->refusals_unlogged++;
        return;
    }
    net->last_refusal_log = now;
    char more[64] = "";
    if (net->refusals_unlogged)
        snprintf(more, sizeof more, " (and %llu refusals not logged before)",
                 (unsigned long long)net->refusals_unlogged);
    log_warn("refused a WebSocket from %s%s%s: %s%s", client, strcmp(client, peer) ? " via " : "",
             strcmp(client, peer) ? peer : "",
             v == IPLIMIT_TOO_MANY ? "too many connections from that address" : "too many new connections",
             more);
    net->refusals_unlogged = 0;
}

/* The Origin a browser sends with the upgrade: the server's own page
 * (Origin's host equals Host), a listed --allowed-origin, or none at all (a
 * program, not a page). A page of another site must not ride a delegate's
 * browser into a room. */
static bool origin_allowed(const struct net *net, struct lws *wsi)
{
    char origin[256] = "", host[256] = "";
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
        return true;
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
        return false;
    lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST);
    const char *sep = strstr(origin, "://");
    const char *ohost = sep ? sep + 3 : origin;
    if (host[0] && strcasecmp(ohost, host) == 0)
        return true;
    const char *list = net->cfg->allowed_origins;
    size_t ol = strlen(origin);
    while (list && *list) {
        size_t n = strcspn(list, ",");
        while (n > 0 && list[n - 1] == ' ')
            n--;
        if (n == ol && strncasecmp(list, origin, n) == 0)
            return true;
        list += strcspn(list, ",");
        while (*list == ',' || *list == ' ')
            list++;
    }
    return false;
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct ws_pss *p = user;
    struct net *net = net_of(wsi);
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        if (check_upgrade(net, wsi) != 0)
            return -1;
        char ip[REALIP_ADDR_MAX], peer[64] = "";
        if (client_of(wsi, ip, peer, sizeof peer) == REALIP_TRUSTED)
            return 0; /* a trusted proxy that names no client: global limits only */
        enum iplimit_verdict v = iplimit_admit(net->ipl, ip, clock_now_ms());
        metrics.client_addresses = iplimit_size(net->ipl);
        if (v != IPLIMIT_OK) {
            metrics.closes[PROTO_CLOSE_RATE]++;
            if (v == IPLIMIT_TOO_MANY)
                metrics.upgrades_too_many++;
            else
                metrics.upgrades_too_fast++;
            log_refusal(net, ip, peer, v);
            return refuse_upgrade(wsi, 429, v == IPLIMIT_TOO_MANY
                                                ? "too many connections from your address"
                                                : "too many new connections from your address; slow down");
        }
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        /* The same headers as at the filter: the same client, the one
         * counted there. */
        char peer[64] = "";
        memset(p, 0, sizeof *p);
        p->kind = client_of(wsi, p->ip, peer, sizeof peer);
        p->s = session_create(net->hub, wsi, &conn_ops, &net->lim, clock_now_ms());
        if (!p->s) {
            if (p->kind != REALIP_TRUSTED)
                iplimit_release(net->ipl, p->ip);
            return -1;
        }
        snprintf(p->s->remote, sizeof p->s->remote, "%s", p->ip);
        if (p->kind == REALIP_FORWARDED)
            metrics.conns_forwarded++;
        else if (p->kind == REALIP_TRUSTED)
            metrics.conns_unlimited++;
        log_debug("WebSocket from %s%s%s", p->ip, strcmp(p->ip, peer) ? " via " : "",
                  strcmp(p->ip, peer) ? peer : "");
        return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* After our own close frame there is nothing to echo: just close. */
        return p->close_sent ? -1 : 0;
    case LWS_CALLBACK_RECEIVE: {
        if (!p->s)
            return -1;
        if (p->close_sent || p->s->state == SESSION_CLOSING)
            return 0;
        if (lws_is_first_fragment(wsi)) {
            p->rx_len = 0;
            p->rx_binary = lws_frame_is_binary(wsi);
        }
        size_t total = p->rx_len + len + lws_remaining_packet_payload(wsi);
        /* A written statement (contract 9.4) may come in a frame of up to
         * 64 KiB; the session refuses any other command above
         * --max-frame once it sees its type. */
        size_t limit = net->cfg->max_frame > PROTO_MAX_STATEMENT_FRAME
                           ? net->cfg->max_frame
                           : PROTO_MAX_STATEMENT_FRAME;
        if (total > limit) {
            /* Refused before it is buffered; the rest of it is dropped. */
            p->rx_len = 0;
            session_close(p->s, PROTO_CLOSE_TOO_BIG, "frame too big", false);
            return 0;
        }
        if (p->rx_len + len + 1 > p->rx_cap) {
            size_t cap = p->rx_len + len + 1 + 256;
            char *b = realloc(p->rx, cap);
            if (!b)
                return -1;
            p->rx = b;
            p->rx_cap = cap;
        }
        memcpy(p->rx + p->rx_len, in, len);
        p->rx_len += len;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
            return 0;
        p->rx[p->rx_len] = '\0';
        session_on_message(p->s, p->rx, p->rx_len, p->rx_binary);
        p->rx_len = 0;
        /* Idle connections should not keep a receive buffer around. */
        if (p->rx_cap > 4096) {
            free(p->rx);
            p->rx = NULL;
            p->rx_cap = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        if (!p->s)
            return -1;
        bool more = false;
        unsigned char *b = net->wbuf + LWS_PRE;
        size_t n = session_fill(p->s, b, WRITE_CHUNK, &more);
        if (n > 0) {
            if (lws_write(wsi, b, n, LWS_WRITE_RAW) < (int)n)
                return -1;
            metrics.ws_writes++;
            p->wrote_last = true;
            lws_callback_on_writable(wsi);
            if (++net->writes_since_serve >= WATCH_EVERY) {
                net->writes_since_serve = 0;
                serve_watches(net);
            }
            return 0;
        }
        int code;
        const char *why;
        if (p->close_sent) {
            /* Shut our side once lws holds nothing more for the socket. */
            if (!p->shut && !lws_send_pipe_choked(wsi)) {
                shutdown(lws_get_socket_fd(wsi), SHUT_WR);
                p->shut = true;
            } else if (!p->shut) {
                lws_callback_on_writable(wsi);
            }
            return 0;
        }
        if (session_close_due(p->s, &code, &why)) {
            if (p->wrote_last) {
                /* Let lws finish what it holds before the close frame. */
                p->wrote_last = false;
                lws_callback_on_writable(wsi);
                return 0;
            }
            if (lws_is_ssl(wsi)) {
                lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)why, strlen(why));
                discard_input(wsi);
                return -1;
            }
            /* A lingering close: our close frame, then a half-close, then
             * read (and drop) until the peer closes. Closing at once with
             * unread input would reset the connection and could lose the
             * close frame. The session's kill timer bounds the wait. */
            unsigned char *f = net->wbuf + LWS_PRE;
            size_t rl = strlen(why) > 120 ? 120 : strlen(why);
            f[0] = 0x88;
            f[1] = (unsigned char)(2 + rl);
            f[2] = (unsigned char)(code >> 8);
            f[3] = (unsigned char)code;
            memcpy(f + 4, why, rl);
            if (lws_write(wsi, f, 4 + rl, LWS_WRITE_RAW) < (int)(4 + rl))
                return -1;
            p->close_sent = true;
            lws_callback_on_writable(wsi);
            return 0;
        }
        p->wrote_last = false;
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (p) {
            if (p->s && p->kind != REALIP_TRUSTED)
                iplimit_release(net->ipl, p->ip);
            if (p->s && p->kind == REALIP_FORWARDED)
                metrics.conns_forwarded--;
            else if (p->s && p->kind == REALIP_TRUSTED)
                metrics.conns_unlimited--;
            session_destroy(p->s);
            p->s = NULL;
            free(p->rx);
            p->rx = NULL;
        }
        return 0;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"http", http_cb, sizeof(struct http_pss), 0, 0, NULL, 0},
    /* tx_packet_size: without it lws 4.1 cuts every write to rx_buffer_size +
     * LWS_PRE + 4 bytes (1044) and keeps the rest for later POLLOUTs, which
     * undoes the batching of queued frames into one write. */
    {"rostrum.v1", ws_cb, sizeof(struct ws_pss), 1024, 0, NULL, WRITE_CHUNK},
    {"rostrum-raw", raw_cb, sizeof(struct raw_pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* SIGHUP: read the certificate and key again (renewed certificates need
 * no restart). */
static void reload_tls(struct net *n)
{
    char *cert = NULL, *key = NULL;
    size_t cl = 0, kl = 0;
    FILE *f = fopen(n->cfg->tls_cert, "rb");
    if (f) {
        cert = malloc(1 << 20);
        cl = cert ? fread(cert, 1, 1 << 20, f) : 0;
        fclose(f);
    }
    f = fopen(n->cfg->tls_key, "rb");
    if (f) {
        key = malloc(1 << 20);
        kl = key ? fread(key, 1, 1 << 20, f) : 0;
        fclose(f);
    }
    if (cl && kl && lws_tls_cert_updated(n->ctx, n->cfg->tls_cert, n->cfg->tls_key, cert, cl, key, kl) == 0)
        log_info("TLS certificate reloaded from %s", n->cfg->tls_cert);
    else
        log_error("TLS certificate reload from %s failed; the old one stays", n->cfg->tls_cert);
    if (key)
        memset(key, 0, kl);
    free(cert);
    free(key);
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct net *n = lws_container_of(sul, struct net, tick);
    int64_t now = clock_now_ms();
    if (reload_requested) {
        reload_requested = 0;
        if (n->cfg->tls_cert)
            reload_tls(n);
        if (n->on_reload)
            n->on_reload(n->reload_arg);
    }
    if (now - n->last_sweep > 10000) {
        n->last_sweep = now;
        iplimit_sweep(n->ipl, now);
        metrics.client_addresses = iplimit_size(n->ipl);
    }
    hub_tick(n->hub, now);
    lws_sul_schedule(n->ctx, 0, &n->tick, tick, TICK_US);
}

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        reload_requested = 1;
        return;
    }
    net_stop();
}

struct net *net_create(const struct config *cfg)
{
    struct net *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->cfg = cfg;
    n->loop = (struct loop){.impl = n, .watch = watch_add, .want_read = watch_read,
                            .want_write = watch_write, .unwatch = watch_remove};
    n->lim.queue_frames = cfg->queue_frames;
    n->lim.queue_bytes = cfg->queue_bytes;
    n->lim.rate = cfg->command_rate;
    n->lim.burst = cfg->command_burst;
    n->lim.max_text_chars = cfg->max_text_chars;
    n->lim.keys = &cfg->keys;
    n->lim.max_frame = cfg->max_frame;
    n->wbuf = malloc(LWS_PRE + WRITE_CHUNK);
    n->ipl = iplimit_create(cfg->max_conns_per_ip, cfg->join_rate, cfg->join_rate * 2);
    char err[200];
    n->trusted = realip_create(cfg->trusted_proxies, err, sizeof err);
    if (!n->trusted)
        log_error("--trusted-proxy: %s", err);
    if (!n->wbuf || !n->ipl || !n->trusted)
        goto fail;
    lws_set_log_level(cfg->log_level <= 0 ? (LLL_ERR | LLL_WARN | LLL_NOTICE) : LLL_ERR, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->listen_port;
    info.iface = cfg->listen_host;
    info.protocols = protocols;
    info.user = n; /* net_of() */
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    info.max_http_header_data = 4096;
    /* No lws validity timers (a PING after 300 s idle by default): every
     * received frame would re-insert its connection's timer into lws'
     * sorted list of all of them, O(connections) per frame. The server
     * has its own idle timeout (--idle-timeout) and clients ping. */
    static const lws_retry_bo_t no_validity = {.secs_since_valid_ping = 0,
                                               .secs_since_valid_hangup = 0};
    info.retry_and_idle_policy = &no_validity;
    info.timeout_secs = 10;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6 * (strchr(cfg->listen_host, ':') == NULL);
    if (cfg->tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
        info.alpn = "http/1.1";
        info.ssl_options_set = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
    }
    n->ctx = lws_create_context(&info);
    if (!n->ctx) {
        log_error("cannot listen on %s:%d%s", cfg->listen_host, cfg->listen_port,
                  cfg->tls_cert ? " with TLS (check the certificate and key)" : "");
        goto fail;
    }
    n->vh = lws_get_vhost_by_name(n->ctx, "default");
    int port = n->vh ? lws_get_vhost_listen_port(n->vh) : cfg->listen_port;
    snprintf(n->base_url, sizeof n->base_url, "%s://%s%s%s:%d", cfg->tls_cert ? "https" : "http",
             strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
             strchr(cfg->listen_host, ':') ? "]" : "", port);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);
    return n;
fail:
    net_destroy(n);
    return NULL;
}

void net_start(struct net *n, struct hub *hub)
{
    n->hub = hub;
    lws_sul_schedule(n->ctx, 0, &n->tick, tick, TICK_US);
}

int net_wait(struct net *n, int (*ready)(void *arg), void *arg, int ms)
{
    int64_t until = clock_now_ms() + ms;
    while (!ready(arg) && !stop_requested && clock_now_ms() < until)
        if (lws_service(n->ctx, 0) < 0)
            break;
    return ready(arg);
}

int net_run(struct net *n)
{
    while (!stop_requested)
        if (lws_service(n->ctx, 0) < 0)
            break;
    log_info("stopping: draining %zu connections", hub_drain(n->hub));
    int64_t until = clock_now_ms() + DRAIN_MS;
    while (metrics.connections > 0 && clock_now_ms() < until)
        if (lws_service(n->ctx, 0) < 0)
            break;
    /* A last moment for what the closes sent to the backend (presence). */
    until = clock_now_ms() + 200;
    while (clock_now_ms() < until)
        if (lws_service(n->ctx, 0) < 0)
            break;
    return 0;
}

void net_destroy(struct net *n)
{
    if (!n)
        return;
    if (n->ctx)
        lws_context_destroy(n->ctx);
    free(n->wbuf);
    iplimit_destroy(n->ipl);
    realip_destroy(n->trusted);
    free(n);
}
