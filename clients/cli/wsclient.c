/*
 * wsclient.c: the libwebsockets client (wsclient.h).
 *
 * lws owns the poll loop; standard input is adopted into it as a raw file
 * so that reading commands never blocks the WebSocket (and vice versa).
 * Writes happen only in the WRITEABLE callback, one queued message each.
 */
#include "wsclient.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#define RX_MAX (8u << 20) /* a welcome of a big room is well below this */

struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE headroom, then the text */
};

struct wsc {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct lws *wsi;
    struct lws *in_wsi;
    const struct wsc_config *cfg;
    const struct wsc_handlers *h;
    void *ud;
    struct out_msg *out_head, *out_tail;
    char *rx;
    size_t rx_len, rx_cap;
    bool opened, ended, stop, closing;
    bool again;                 /* wsc_reconnect(): connect anew once closed */
    int close_code;
    char close_reason[124];
    int peer_code;
    char peer_reason[124];
    lws_sorted_usec_list_t tick;
    lws_sorted_usec_list_t redo; /* the new connection of wsc_reconnect() */
};

static volatile sig_atomic_t got_signal;
static struct wsc *the_client; /* for the signal handler's wake-up */

static void on_signal(int sig)
{
    got_signal = sig;
    if (the_client && the_client->ctx)
        lws_cancel_service(the_client->ctx);
}

static struct wsc *client_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static void drop_out(struct wsc *c)
{
    while (c->out_head) {
        struct out_msg *m = c->out_head;
        c->out_head = m->next;
        free(m);
    }
    c->out_tail = NULL;
}

static void connect_now(struct wsc *c);

static void redo_cb(lws_sorted_usec_list_t *sul)
{
    struct wsc *c = lws_container_of(sul, struct wsc, redo);
    connect_now(c);
}

/* The connection is over: report once (or, after wsc_reconnect(), start
 * the next one without a report). */
static void ended(struct wsc *c, int code, const char *reason)
{
    if (c->ended)
        return;
    if (c->again && !c->stop) {
        c->again = false;
        c->wsi = NULL;
        c->opened = c->closing = false;
        c->peer_code = 0;
        c->peer_reason[0] = '\0';
        c->rx_len = 0;
        drop_out(c);
        /* From the loop, not from inside the old connection's close. */
        lws_sul_schedule(c->ctx, 0, &c->redo, redo_cb, 1);
        return;
    }
    c->ended = true;
    c->wsi = NULL;
    drop_out(c);
    if (c->h->on_close)
        c->h->on_close(c->ud, c->opened, code, reason ? reason : "");
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct wsc *c = client_of(wsi);
    if (!c)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[256];
        snprintf(why, sizeof why, "%s", in ? (const char *)in : "connection failed");
        ended(c, 0, why);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->wsi = wsi;
        c->opened = true;
        if (c->h->on_open)
            c->h->on_open(c->ud);
        if (c->out_head || c->closing)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        if (lws_is_first_fragment(wsi))
            c->rx_len = 0;
        if (c->rx_len + len + 1 > RX_MAX)
            return -1;
        if (c->rx_len + len + 1 > c->rx_cap) {
            size_t cap = (c->rx_len + len + 1) * 2;
            char *b = realloc(c->rx, cap);
            if (!b)
                return -1;
            c->rx = b;
            c->rx_cap = cap;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
            return 0;
        c->rx[c->rx_len] = '\0';
        if (!lws_frame_is_binary(wsi) && c->h->on_message)
            c->h->on_message(c->ud, c->rx, c->rx_len);
        c->rx_len = 0;
        return 0;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        struct out_msg *m = c->out_head;
        if (m) {
            c->out_head = m->next;
            if (!c->out_head)
                c->out_tail = NULL;
            int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
            free(m);
            if (n < 0)
                return -1;
            if (c->out_head || c->closing)
                lws_callback_on_writable(wsi);
            return 0;
        }
        if (c->closing) {
            lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                             (unsigned char *)c->close_reason, strlen(c->close_reason));
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *p = in;
            c->peer_code = (p[0] << 8) | p[1];
            snprintf(c->peer_reason, sizeof c->peer_reason, "%.*s", (int)(len - 2), (const char *)p + 2);
        } else {
            c->peer_code = 1005; /* a close frame without a code */
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c->peer_code)
            ended(c, c->peer_code, c->peer_reason);
        else if (c->closing)
            ended(c, c->close_code, c->close_reason);
        else
            ended(c, 1006, "connection lost");
        return 0;
    default:
        break;
    }
    return 0;
}

static int stdin_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct wsc *c = client_of(wsi);
    if (!c)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE: {
        char buf[4096];
        ssize_t n = read(lws_get_socket_fd(wsi), buf, sizeof buf);
        if (n > 0) {
            if (c->h->on_stdin)
                c->h->on_stdin(c->ud, buf, (size_t)n);
            return 0;
        }
        return -1; /* end of input or an error: close, reported below */
    }
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (c->in_wsi) {
            c->in_wsi = NULL;
            if (c->h->on_stdin)
                c->h->on_stdin(c->ud, "", 0);
        }
        return 0;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"rostrum.v1", ws_cb, 0, 65536, 0, NULL, 0},
    {"rostrum-stdin", stdin_cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    struct wsc *c = lws_container_of(sul, struct wsc, tick);
    if (c->h->on_tick)
        c->h->on_tick(c->ud);
    if (c->cfg->tick_ms > 0)
        lws_sul_schedule(c->ctx, 0, &c->tick, tick_cb, (lws_usec_t)c->cfg->tick_ms * LWS_US_PER_MS);
}

/* Starts a connection to the configured server. A failure is reported
 * through CLIENT_CONNECTION_ERROR (ended() ran), or now. */
static void connect_now(struct wsc *c)
{
    const struct wsc_config *cfg = c->cfg;
    struct lws_client_connect_info cc;
    memset(&cc, 0, sizeof cc);
    cc.context = c->ctx;
    cc.address = cfg->host;
    cc.port = cfg->port;
    cc.path = cfg->path;
    cc.host = cfg->host_header;
    /* No Origin: it is a browser's statement about a page, and a server
     * that checks it would refuse one we made up. */
    cc.origin = NULL;
    cc.protocol = "rostrum.v1";
    cc.ssl_connection = cfg->tls ? LCCSCF_USE_SSL : 0;
    if (cfg->tls && cfg->insecure)
        cc.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                             LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    cc.pwsi = &c->wsi;
    if (!lws_client_connect_via_info(&cc))
        ended(c, 0, "cannot start the connection");
}

struct wsc *wsc_create(const struct wsc_config *cfg, const struct wsc_handlers *h, void *ud,
                       char *err, size_t errsz)
{
    struct lws_context_creation_info info;
    struct wsc *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    c->h = h;
    c->ud = ud;
    lws_set_log_level(cfg->verbose ? (LLL_ERR | LLL_WARN) : 0, NULL);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    info.user = c;
    info.timeout_secs = 10;
    info.connect_timeout_secs = 10;
    info.options = cfg->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    info.client_ssl_ca_filepath = cfg->ca_file;
    c->ctx = lws_create_context(&info);
    if (!c->ctx) {
        snprintf(err, errsz, "cannot create the libwebsockets context%s",
                 cfg->ca_file ? " (check --ca-file)" : "");
        goto fail;
    }
    c->vh = lws_get_vhost_by_name(c->ctx, "default");
    the_client = c;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (cfg->read_stdin) {
        lws_sock_file_fd_type fd;
        fd.filefd = 0;
        c->in_wsi = lws_adopt_descriptor_vhost(c->vh, LWS_ADOPT_RAW_FILE_DESC, fd, "rostrum-stdin",
                                               NULL);
        if (!c->in_wsi) {
            snprintf(err, errsz, "cannot read standard input");
            goto fail;
        }
    }
    connect_now(c);
    if (cfg->tick_ms > 0)
        lws_sul_schedule(c->ctx, 0, &c->tick, tick_cb, (lws_usec_t)cfg->tick_ms * LWS_US_PER_MS);
    return c;
fail:
    wsc_destroy(c);
    return NULL;
}

void wsc_run(struct wsc *c)
{
    while (!c->stop) {
        if (lws_service(c->ctx, 0) < 0)
            break;
        if (got_signal) {
            int sig = got_signal;
            got_signal = 0;
            if (c->h->on_signal)
                c->h->on_signal(c->ud, sig);
        }
    }
}

void wsc_stop(struct wsc *c)
{
    c->stop = true;
    lws_cancel_service(c->ctx);
}

int wsc_send(struct wsc *c, const char *txt, size_t len)
{
    if (!c->opened || !c->wsi || c->ended || c->closing)
        return -1;
    struct out_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return -1;
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, txt, len);
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    lws_callback_on_writable(c->wsi);
    return 0;
}

void wsc_close(struct wsc *c, int code, const char *reason)
{
    if (c->ended || c->closing)
        return;
    c->closing = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
}

void wsc_reconnect(struct wsc *c)
{
    if (c->ended || c->stop)
        return;
    c->again = true;
    if (c->closing)
        return; /* the close under way ends in a new connection */
    c->closing = true;
    c->close_code = 1000;
    snprintf(c->close_reason, sizeof c->close_reason, "joining again");
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
}

void wsc_stdin_done(struct wsc *c)
{
    if (!c->in_wsi)
        return;
    struct lws *w = c->in_wsi;
    c->in_wsi = NULL; /* no end-of-input report for a close we asked for */
    lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void wsc_destroy(struct wsc *c)
{
    if (!c)
        return;
    if (c->ctx)
        lws_context_destroy(c->ctx);
    drop_out(c);
    free(c->rx);
    if (the_client == c)
        the_client = NULL;
    free(c);
}
