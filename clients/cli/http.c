/*
 * http.c: blocking HTTP/1.1 client with optional TLS (http.h).
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "url.h"

#define HTTP_MAX_RESPONSE (256u << 20) /* a transcript of a long meeting fits */

struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

/* Connects to host:port within timeout_ms (a non-blocking connect, then
 * blocking I/O with socket timeouts). Returns the socket or -1. */
static int dial(const char *host, int port, int timeout_ms, char *err, size_t errsz)
{
    struct addrinfo hints, *res = NULL;
    char ports[8];
    int fd = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ports, sizeof ports, "%d", port);
    int g = getaddrinfo(host, ports, &hints, &res);
    if (g != 0) {
        snprintf(err, errsz, "cannot resolve %s: %s", host, gai_strerror(g));
        return -1;
    }
    int last = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            rc = poll(&pfd, 1, timeout_ms);
            if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
                rc = 0;
            } else {
                errno = rc == 0 ? ETIMEDOUT : soerr ? soerr : errno;
                rc = -1;
            }
        }
        if (rc == 0) {
            struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
            fcntl(fd, F_SETFL, fl);
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            break;
        }
        last = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errsz, "cannot connect to %s:%d: %s", host, port, strerror(last));
    return fd;
}

static void tls_error(const char *what, char *err, size_t errsz)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errsz, "TLS: %s%s%s", what, buf[0] ? ": " : "", buf);
}

static int tls_start(struct conn *c, const struct url *u, const struct http_tls *tls, char *err,
                     size_t errsz)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) {
        tls_error("cannot create a context", err, errsz);
        return -1;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    bool insecure = tls && tls->insecure;
    if (tls && tls->ca_file) {
        if (SSL_CTX_load_verify_locations(c->ctx, tls->ca_file, NULL) != 1) {
            tls_error("cannot load the CA file", err, errsz);
            return -1;
        }
    } else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        tls_error("cannot load the system's certificates", err, errsz);
        return -1;
    }
    SSL_CTX_set_verify(c->ctx, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
        tls_error("cannot create a connection", err, errsz);
        return -1;
    }
    SSL_set_tlsext_host_name(c->ssl, u->host);
    if (!insecure && SSL_set1_host(c->ssl, u->host) != 1) {
        tls_error("cannot set the host name to verify", err, errsz);
        return -1;
    }
    if (SSL_connect(c->ssl) != 1) {
        long v = SSL_get_verify_result(c->ssl);
        if (v != X509_V_OK)
            snprintf(err, errsz, "TLS: the server's certificate was not accepted: %s "
                     "(--ca-file FILE trusts another CA; --insecure skips the check)",
                     X509_verify_cert_error_string(v));
        else
            tls_error("handshake failed", err, errsz);
        return -1;
    }
    return 0;
}

static int conn_write(struct conn *c, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = c->ssl ? SSL_write(c->ssl, buf, (int)len) : send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0) {
            if (!c->ssl && n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Returns bytes read, 0 at the end, -1 on error. */
static ssize_t conn_read(struct conn *c, char *buf, size_t cap)
{
    for (;;) {
        if (c->ssl) {
            int n = SSL_read(c->ssl, buf, (int)cap);
            if (n > 0)
                return n;
            int e = SSL_get_error(c->ssl, n);
            /* A server that closes without close_notify still ended the
             * body (we asked for Connection: close). */
            return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? 0 : -1;
        }
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

static void conn_close(struct conn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
}

/* Decodes a chunked body in place. Returns its length or -1. */
static long dechunk(char *b, size_t len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        if (in >= len)
            return -1;
        unsigned long n = strtoul(b + in, &end, 16);
        char *eol = memchr(b + in, '\n', len - in);
        if (!eol || end == b + in)
            return -1;
        in = (size_t)(eol - b) + 1;
        if (n == 0)
            return (long)out;
        if (n > len - in)
            return -1;
        memmove(b + out, b + in, n);
        out += n;
        in += n;
        if (in < len && b[in] == '\r')
            in++;
        if (in < len && b[in] == '\n')
            in++;
    }
}

/* True when s contains word, ignoring case (strcasestr is a GNU extension). */
static bool contains_ci(const char *s, const char *word)
{
    size_t wl = strlen(word);
    for (; *s; s++)
        if (strncasecmp(s, word, wl) == 0)
            return true;
    return false;
}

/* Finds header name (case-insensitive) in the head; copies its value. */
static bool header(const char *head, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    for (const char *p = strchr(head, '\n'); p; p = strchr(p, '\n')) {
        p++;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = strcspn(v, "\r\n");
            if (vl >= outsz)
                vl = outsz - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return true;
        }
    }
    return false;
}

int http_request(const struct url *base, const char *method, const char *path,
                 const char *bearer, const char *body, size_t body_len,
                 const struct http_tls *tls, int timeout_ms, struct http_response *res,
                 char *err, size_t errsz)
{
    struct conn c = {.fd = -1};
    char *req = NULL, *buf = NULL;
    char host[URL_HOST_MAX + 16];
    size_t cap = 0, len = 0;
    int rc = -1;
    memset(res, 0, sizeof *res);
    if (url_host_header(base, host, sizeof host) != 0) {
        snprintf(err, errsz, "host name too long");
        goto done;
    }
    c.fd = dial(base->host, base->port, timeout_ms, err, errsz);
    if (c.fd < 0)
        goto done;
    if (base->tls && tls_start(&c, base, tls, err, errsz) != 0)
        goto done;
    size_t rl = strlen(path) + strlen(host) + (bearer ? strlen(bearer) : 0) + body_len + 512;
    req = malloc(rl);
    if (!req) {
        snprintf(err, errsz, "out of memory");
        goto done;
    }
    int hl = snprintf(req, rl,
                      "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rostrum-cli\r\n"
                      "Accept: */*\r\nConnection: close\r\n%s%s%s"
                      "Content-Length: %zu\r\n%s\r\n",
                      method, path, host, bearer ? "Authorization: Bearer " : "",
                      bearer ? bearer : "", bearer ? "\r\n" : "", body_len,
                      body ? "Content-Type: application/json\r\n" : "");
    if (body_len)
        memcpy(req + hl, body, body_len);
    if (conn_write(&c, req, (size_t)hl + body_len) != 0) {
        snprintf(err, errsz, "cannot send the request to %s: %s", host, strerror(errno));
        goto done;
    }
    for (;;) {
        if (cap - len < 16384) {
            cap = cap ? cap * 2 : 65536;
            if (cap > HTTP_MAX_RESPONSE) {
                snprintf(err, errsz, "the answer is larger than %u bytes", HTTP_MAX_RESPONSE);
                goto done;
            }
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                snprintf(err, errsz, "out of memory");
                goto done;
            }
            buf = nb;
        }
        ssize_t n = conn_read(&c, buf + len, cap - len);
        if (n < 0) {
            snprintf(err, errsz, "no answer from %s: %s", host,
                     errno == EAGAIN ? "timed out" : strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (!buf || len == 0) {
        snprintf(err, errsz, "%s closed the connection without an answer", host);
        goto done;
    }
    buf[len] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    int status = 0;
    if (!sep || sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status < 100) {
        snprintf(err, errsz, "%s did not answer in HTTP", host);
        goto done;
    }
    *sep = '\0';
    char te[64] = "", cl[32] = "";
    header(buf, "Content-Type", res->content_type, sizeof res->content_type);
    header(buf, "Transfer-Encoding", te, sizeof te);
    size_t off = (size_t)(sep + 4 - buf), blen = len - off;
    if (contains_ci(te, "chunked")) {
        long d = dechunk(buf + off, blen);
        if (d < 0) {
            snprintf(err, errsz, "%s sent a malformed chunked body", host);
            goto done;
        }
        blen = (size_t)d;
    } else if (header(buf, "Content-Length", cl, sizeof cl)) {
        size_t want = (size_t)strtoull(cl, NULL, 10);
        if (want > blen) {
            snprintf(err, errsz, "%s closed the connection before the end of the body", host);
            goto done;
        }
        blen = want;
    }
    memmove(buf, buf + off, blen);
    buf[blen] = '\0';
    res->status = status;
    res->body = buf;
    res->len = blen;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    free(req);
    conn_close(&c);
    return rc;
}

void http_response_free(struct http_response *res)
{
    if (!res)
        return;
    free(res->body);
    res->body = NULL;
    res->len = 0;
}
