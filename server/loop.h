/*
 * loop: what a module that owns sockets of its own (the Redis backend)
 * needs from the event loop, and nothing more: watch a descriptor for
 * reading and writing, and stop watching it. In the manner of hiredis'
 * adapters (redisAeAttach, redisLibeventAttach): the loop is handed to the
 * module at creation, so the module needs no global and no knowledge of
 * which loop runs it. net.c implements it on libwebsockets (net_loop()).
 *
 * Ownership: the loop adopts fd (pass a dup(): the loop closes what it
 * adopts, on failure too). A watch lives until unwatch(); after on_close
 * (the loop saw a hang-up and closed fd) the owner must still call
 * unwatch() to free it, and no callback comes any more.
 */
#ifndef ROSTRUM_LOOP_H
#define ROSTRUM_LOOP_H

#include <stdbool.h>

struct loop_watch;
typedef void (*loop_cb)(void *arg);

struct loop {
    void *impl;
    /* Watches fd: on_read when it is readable (read interest starts on),
     * on_write once per want_write() when it is writeable, on_close when
     * the loop closed it on its own. Returns NULL on failure. */
    struct loop_watch *(*watch)(void *impl, int fd, loop_cb on_read, loop_cb on_write,
                                loop_cb on_close, void *arg);
    void (*want_read)(struct loop_watch *w, bool on);
    /* Asks for one on_write call (repeat to keep writing). */
    void (*want_write)(struct loop_watch *w);
    /* Stops the callbacks at once and closes fd soon. NULL is a no-op. */
    void (*unwatch)(struct loop_watch *w);
};

#endif
