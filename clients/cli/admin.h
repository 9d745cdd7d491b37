/*
 * admin: the admin HTTP API as the CLI calls it (contract section 7):
 * where the API is (--api or ROSTRUM_API), the bearer key
 * (--admin-key-file or ROSTRUM_ADMIN_KEY), TLS options, and one call that
 * turns any failure into a message and an exit code.
 */
#ifndef ROSTRUM_ADMIN_H
#define ROSTRUM_ADMIN_H

#include <stdbool.h>

#include <jansson.h>

#include "http.h"
#include "url.h"

struct admin {
    struct url base;
    char prefix[URL_PATH_MAX];  /* path before /api */
    char *key;                  /* owned */
    struct http_tls tls;
    int timeout_ms;
};

/* The flags every admin subcommand takes, for their --help. */
#define ADMIN_FLAGS_HELP                                                              \
    "  --api URL               the server's base URL, e.g. http://127.0.0.1:8080\n"   \
    "                          (env ROSTRUM_API)\n"                                   \
    "  --admin-key-file FILE   file holding the admin key (env ROSTRUM_ADMIN_KEY\n"   \
    "                          holds the key itself)\n"                               \
    "  --insecure              https: do not verify the server's certificate\n"       \
    "  --ca-file FILE          https: trust the CAs in FILE (PEM)\n"                  \
    "  --timeout SECONDS       give up after this long (default 10)\n"

/* Fills *a from the flag values (NULL: from the environment). Returns
 * CLI_EXIT_OK, or CLI_EXIT_USAGE with a message printed. */
int admin_init(struct admin *a, const char *api, const char *key_file, bool insecure,
               const char *ca_file, int timeout_s);
void admin_clear(struct admin *a);

/* Calls METHOD prefix+path with body (may be NULL; not consumed). On a 2xx
 * answer returns CLI_EXIT_OK with the response in *res (free with
 * http_response_free()). Otherwise prints what went wrong (the server's
 * {"error","message"} when it sent one) prefixed with what, and returns
 * CLI_EXIT_REFUSED (an HTTP error) or CLI_EXIT_CONNECT. */
int admin_call(const struct admin *a, const char *method, const char *path, const json_t *body,
               const char *what, struct http_response *res);

#endif
