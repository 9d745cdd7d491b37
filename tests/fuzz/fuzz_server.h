/*
 * fuzz_server: the whole server minus libwebsockets, for the targets that
 * go through the hub (fuzz_session, fuzz_api).
 *
 * fuzz_server.c links hub.c, session.c, api.c, the memory backend and the
 * rest of server/ as they are, but net.c (the only file that includes
 * libwebsockets.h), clock.c and backend_redis.c: it has a clock the target
 * sets, and connections that are only pointers. A fresh hub per input keeps every
 * run independent and lets LeakSanitizer check that tearing the hub down
 * frees everything.
 */
#ifndef ROSTRUM_FUZZ_SERVER_H
#define ROSTRUM_FUZZ_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz.h"

struct config;
struct hub;
struct session_conn_ops;

/* The admin key of the fuzz server. */
#define FUZZ_ADMIN_KEY "fuzz-admin-key-0123456789"

/* The configuration (defaults from config_parse, FUZZ_KEY as the secret,
 * FUZZ_ADMIN_KEY as the admin key). Borrowed; built once. */
const struct config *fuzz_server_config(void);

/* A new hub on a new memory backend holding the room of FUZZ_ROOM_SPEC
 * (fuzz_server_hub_destroy(); one at a time). The clock is reset to
 * FUZZ_NOW_MS. */
struct hub *fuzz_server_hub(void);
/* Destroys the hub and its backend. */
void fuzz_server_hub_destroy(struct hub *h);

/* The clock (clock_now_ms(), replaced here). */
void fuzz_server_set_clock(int64_t now_ms);
int64_t fuzz_server_clock(void);

/* A distinct fake connection for slot i, and the connection interface
 * for session_create() (no-ops). */
void *fuzz_server_conn(unsigned i);
extern const struct session_conn_ops fuzz_server_conn_ops;

/* Checks that buf[0..len) is a sequence of whole unmasked server text
 * frames, each holding a JSON object with a string "type"; aborts
 * otherwise. Returns the number of frames; calls each(arg, json) for
 * each when each is not NULL (json borrowed). */
size_t fuzz_server_check_frames(const unsigned char *buf, size_t len,
                                void (*each)(void *arg, const json_t *msg), void *arg);

#endif
