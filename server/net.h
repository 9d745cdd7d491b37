/*
 * net: the libwebsockets glue, and the only file that includes
 * libwebsockets.h. Serves on one port: the browser client's static files at
 * /, the WebSocket endpoint /ws (subprotocol rostrum.v1), /api/..., /healthz
 * and /metrics, plain or TLS. Owns the event loop (lws' own poll loop) and
 * its timers. Sessions and the hub reach connections only through the
 * functions below, never through lws.
 */
#ifndef ROSTRUM_NET_H
#define ROSTRUM_NET_H

#include <stdint.h>

struct config;
struct hub;
struct net;
/* A WebSocket connection: opaque outside net.c. */
struct net_conn;

/* Creates the listening context. Returns NULL with a message logged. */
struct net *net_create(const struct config *cfg, struct hub *hub);
/* Runs the loop until net_stop() or a signal; drains on the way out
 * (every WebSocket gets close 1001). Returns 0. */
int net_run(struct net *n);
/* Services the loop until ready() is true or ms passed (e.g. to wait for
 * the backend before announcing that we listen). Returns ready(). */
int net_wait(struct net *n, int (*ready)(void *arg), void *arg, int ms);
/* fn(arg) runs on the loop after each SIGHUP (the certificate is reloaded
 * by net itself): keys, files, logs to reread. */
void net_on_reload(struct net *n, void (*fn)(void *arg), void *arg);
/* Asks the loop to stop (safe from a signal handler). */
void net_stop(void);
void net_destroy(struct net *n); /* NULL is a no-op */

/* The base URL clients reach ("http://127.0.0.1:8080"), valid once
 * listening. */
const char *net_base_url(const struct net *n);

/* Asks for a WRITEABLE callback on c (its session has frames or a close
 * to send). */
void net_conn_want_write(struct net_conn *c);
/* Closes c by force after secs seconds if it has not closed by then (a
 * consumer that stopped reading never becomes writeable). */
void net_conn_kill_after(struct net_conn *c, int secs);

/* A foreign file descriptor (a Redis connection) watched by the loop. The
 * loop adopts fd (pass a dup(): the loop closes what it adopts) and calls
 * on_read / on_write when it is readable / writeable and write interest
 * was asked for; on_close when the loop closed it on its own (hang-up).
 * Callbacks get arg. */
struct net_watch;
typedef void (*net_watch_cb)(void *arg);
/* Returns a new watch (net_watch_remove()) or NULL; fd is then owned by
 * the loop (closed on failure too). Read interest starts on. */
struct net_watch *net_watch_add(int fd, net_watch_cb on_read, net_watch_cb on_write,
                                net_watch_cb on_close, void *arg);
void net_watch_read(struct net_watch *w, int on);
/* Asks for one on_write call (repeat to keep writing). */
void net_watch_write(struct net_watch *w);
/* Stops the callbacks at once and closes the fd soon. NULL is a no-op. */
void net_watch_remove(struct net_watch *w);

/* Wall clock in ms since the epoch (server time shown to clients). */
int64_t net_now_ms(void);

#endif
