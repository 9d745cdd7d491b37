/*
 * wsclient: one WebSocket client connection (subprotocol rostrum.v1) on the
 * libwebsockets client, plus the two other inputs a live CLI session has on
 * the same loop: standard input (adopted as a raw file) and a periodic tick.
 * The only CLI file that includes libwebsockets.h.
 *
 * Handlers are called from inside the loop; they may call wsc_send(),
 * wsc_close() and wsc_stop(), never wsc_destroy().
 */
#ifndef ROSTRUM_WSCLIENT_H
#define ROSTRUM_WSCLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct wsc;

struct wsc_config {
    const char *host;
    int port;
    const char *path;       /* e.g. "/ws" */
    const char *host_header; /* the Host header */
    bool tls;
    bool insecure;          /* accept any certificate and host name */
    const char *ca_file;
    bool read_stdin;        /* adopt fd 0 */
    int tick_ms;            /* 0: no tick */
    bool verbose;           /* let libwebsockets log its errors */
};

struct wsc_handlers {
    /* The WebSocket is open (the upgrade succeeded). */
    void (*on_open)(void *ud);
    /* One complete text message. buf is NUL-terminated, valid for the call. */
    void (*on_message)(void *ud, const char *buf, size_t len);
    /* The connection ended. opened: it had been open; code: the close code
     * (the peer's, ours if we closed first, 1006 without a close frame, 0
     * when it never opened); reason: text (the peer's reason or what
     * failed). */
    void (*on_close)(void *ud, bool opened, int code, const char *reason);
    /* Bytes read from standard input; len 0 means end of input (once). */
    void (*on_stdin)(void *ud, const char *buf, size_t len);
    void (*on_tick)(void *ud);
    /* SIGINT or SIGTERM arrived. */
    void (*on_signal)(void *ud, int sig);
};

/* Creates the loop and starts connecting. Returns NULL with a message in
 * err. cfg strings are borrowed for the client's life; h too. */
struct wsc *wsc_create(const struct wsc_config *cfg, const struct wsc_handlers *h, void *ud,
                       char *err, size_t errsz);
/* Runs until wsc_stop(). */
void wsc_run(struct wsc *c);
void wsc_stop(struct wsc *c);
/* Queues one text message (copied). Returns 0, or -1 when the connection
 * is not open or memory ran out. */
int wsc_send(struct wsc *c, const char *txt, size_t len);
/* Sends what is queued, then a close frame with code and reason. */
void wsc_close(struct wsc *c, int code, const char *reason);
/* Closes the connection (1000) and opens a new one to the same server:
 * on_open is called again, on_close is not called for the old one. */
void wsc_reconnect(struct wsc *c);
/* Stops reading standard input (closes it). */
void wsc_stdin_done(struct wsc *c);
void wsc_destroy(struct wsc *c); /* NULL is a no-op */

#endif
