/*
 * admin.c: calling the admin HTTP API (admin.h).
 */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "keyfile.h"

int admin_init(struct admin *a, const char *api, const char *key_file, bool insecure,
               const char *ca_file, int timeout_s)
{
    char err[300];
    memset(a, 0, sizeof *a);
    if (!api)
        api = getenv("ROSTRUM_API");
    if (!api || !*api) {
        fprintf(stderr, "rostrum: --api URL is required (or set ROSTRUM_API)\n");
        return CLI_EXIT_USAGE;
    }
    if (url_parse(api, &a->base, err, sizeof err) != 0 ||
        url_api_prefix(&a->base, a->prefix, sizeof a->prefix) != 0) {
        fprintf(stderr, "rostrum: --api: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    /* ws:// and wss:// name the same server: talk HTTP to it. */
    a->base.websocket = false;
    a->key = keyfile_from(key_file, "ROSTRUM_ADMIN_KEY", "--admin-key-file", "admin key file",
                          NULL, err, sizeof err);
    if (!a->key) {
        fprintf(stderr, "rostrum: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    a->tls.insecure = insecure;
    a->tls.ca_file = ca_file;
    a->timeout_ms = timeout_s > 0 ? timeout_s * 1000 : 10000;
    return CLI_EXIT_OK;
}

void admin_clear(struct admin *a)
{
    free(a->key);
    a->key = NULL;
}

int admin_call(const struct admin *a, const char *method, const char *path, const json_t *body,
               const char *what, struct http_response *res)
{
    char err[400], full[URL_PATH_MAX + 512];
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int rc = CLI_EXIT_CONNECT;
    snprintf(full, sizeof full, "%s%s", a->prefix, path);
    if (http_request(&a->base, method, full, a->key, text, text ? strlen(text) : 0, &a->tls,
                     a->timeout_ms, res, err, sizeof err) != 0) {
        fprintf(stderr, "rostrum: %s: %s\n", what, err);
        goto done;
    }
    if (res->status >= 200 && res->status < 300) {
        rc = CLI_EXIT_OK;
        goto done;
    }
    /* The server's errors are {"error":"code","message":"text"}. */
    json_t *j = json_loadb(res->body ? res->body : "", res->len, 0, NULL);
    const char *code = json_string_value(json_object_get(j, "error"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (res->status == 404 && code && msg && strstr(msg, "admin API is disabled"))
        fprintf(stderr, "rostrum: %s: the admin API is disabled on this server (start it with "
                        "--admin-key-file)\n", what);
    else if (code || msg)
        fprintf(stderr, "rostrum: %s: HTTP %d %s%s%s\n", what, res->status, code ? code : "",
                code && msg ? ": " : "", msg ? msg : "");
    else
        fprintf(stderr, "rostrum: %s: HTTP %d%s%.200s\n", what, res->status,
                res->len ? " " : "", res->body ? res->body : "");
    json_decref(j);
    http_response_free(res);
    rc = CLI_EXIT_REFUSED;
done:
    free(text);
    return rc;
}
