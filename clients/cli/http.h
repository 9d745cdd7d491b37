/*
 * http: a small blocking HTTP/1.1 client for the admin API (plain or TLS
 * through OpenSSL). One request per connection ("Connection: close"); the
 * body is read to the end (Content-Length, chunked, or until close).
 *
 * Blocking is right here: the CLI makes one call and exits, and the bench
 * makes its few admin calls before its event loop starts.
 */
#ifndef ROSTRUM_HTTP_H
#define ROSTRUM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct url;

struct http_tls {
    bool insecure;         /* skip certificate and host name checks */
    const char *ca_file;   /* PEM bundle to trust instead of the system's */
};

struct http_response {
    int status;
    char *body;            /* NUL-terminated; free with http_response_free() */
    size_t len;
    char content_type[128];
};

/* Sends METHOD base+path with an optional bearer key and JSON body, and
 * reads the answer into *res. Returns 0 when an HTTP answer arrived (any
 * status), or -1 with a reason in err[0..errsz) when the server could not
 * be reached or did not answer in HTTP within timeout_ms. tls may be NULL. */
int http_request(const struct url *base, const char *method, const char *path,
                 const char *bearer, const char *body, size_t body_len,
                 const struct http_tls *tls, int timeout_ms, struct http_response *res,
                 char *err, size_t errsz);

void http_response_free(struct http_response *res);

#endif
