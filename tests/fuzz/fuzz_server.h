/*
 * fuzz_server: the whole server minus libwebsockets, for the targets that
 * go through the hub (fuzz_session, fuzz_api).
 *
 * fuzz_server.c links hub.c, session.c, api.c, the memory backend and the
 * rest of server/ as they are, and replaces net.c (the only file that
 * includes libwebsockets.h) with stubs: a clock the target sets, and
 * connections that are only pointers. A fresh hub per input keeps every
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

/* The admin key of the fuzz server. */
#define FUZZ_ADMIN_KEY "fuzz-admin-key-0123456789"

/* The configuration (defaults from config_parse, FUZZ_KEY as the secret,
 * FUZZ_ADMIN_KEY as the admin key). Borrowed; built once. */
const struct config *fuzz_server_config(void);

/* A new hub on the memory backend holding the room of FUZZ_ROOM_SPEC
 * (hub_destroy()). The clock is reset to FUZZ_NOW_MS. */
struct hub *fuzz_server_hub(void);

/* The stub net's clock (net_now_ms()). */
void fuzz_server_set_clock(int64_t now_ms);
int64_t fuzz_server_clock(void);

/* A distinct fake connection for slot i (net_conn is opaque). */
struct net_conn *fuzz_server_conn(unsigned i);

/* Checks that buf[0..len) is a sequence of whole unmasked server text
 * frames, each holding a JSON object with a string "type"; aborts
 * otherwise. Returns the number of frames; calls each(arg, json) for
 * each when each is not NULL (json borrowed). */
size_t fuzz_server_check_frames(const unsigned char *buf, size_t len,
                                void (*each)(void *arg, const json_t *msg), void *arg);

#endif
