/*
 * net: the libwebsockets glue, and the only file that includes
 * libwebsockets.h. Serves on one port: the browser client's static files at
 * /, the WebSocket endpoint /ws (subprotocol rostrum.v1), /api/..., /healthz
 * and /metrics, plain or TLS. Owns the event loop (lws' own poll loop) and
 * its timers. Sessions reach their connection through the two calls of
 * struct session_conn_ops (session.h), the Redis backend its sockets
 * through struct loop (loop.h); nobody else calls into net.
 */
#ifndef ROSTRUM_NET_H
#define ROSTRUM_NET_H

#include <stdint.h>

struct config;
struct hub;
struct loop;
struct net;

/* Creates the listening context (nothing is served until net_start()).
 * Returns NULL with a message logged. cfg is borrowed for net's life. */
struct net *net_create(const struct config *cfg);
/* The loop, for modules with descriptors of their own (the Redis backend
 * at its creation). Valid for net's life. */
const struct loop *net_loop(struct net *n);
/* Starts serving: WebSockets become sessions of hub, /api calls go to the
 * admin API on hub, and the 100 ms tick drives hub_tick(). hub is
 * borrowed; it must outlive the loop's last service. */
void net_start(struct net *n, struct hub *hub);
/* Runs the loop until SIGTERM/SIGINT; drains on the way out (every
 * WebSocket gets close 1001). Returns 0. */
int net_run(struct net *n);
/* Services the loop until ready() is true or ms passed (e.g. to wait for
 * the backend before announcing that we listen). Returns ready(). */
int net_wait(struct net *n, int (*ready)(void *arg), void *arg, int ms);
/* fn(arg) runs on the loop after each SIGHUP (the certificate is reloaded
 * by net itself): keys, files, logs to reread. */
void net_on_reload(struct net *n, void (*fn)(void *arg), void *arg);
void net_destroy(struct net *n); /* NULL is a no-op */

/* The base URL clients reach ("http://127.0.0.1:8080"), valid once
 * listening. */
const char *net_base_url(const struct net *n);

#endif
