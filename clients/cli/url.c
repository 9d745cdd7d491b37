/*
 * url.c: parsing the URLs users hand the CLI and the bench (url.h).
 */
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int copy(char *dst, size_t dstsz, const char *src, size_t n)
{
    if (n >= dstsz)
        return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

int url_parse(const char *s, struct url *u, char *err, size_t errsz)
{
    static const struct { const char *scheme; bool tls, ws; int port; } schemes[] = {
        {"http://", false, false, 80}, {"https://", true, false, 443},
        {"ws://", false, true, 80}, {"wss://", true, true, 443},
    };
    memset(u, 0, sizeof *u);
    u->port = 80;
    if (!s || !*s) {
        snprintf(err, errsz, "empty URL");
        return -1;
    }
    const char *p = s;
    if (strstr(s, "://")) {
        size_t i;
        for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
            size_t n = strlen(schemes[i].scheme);
            if (strncasecmp(s, schemes[i].scheme, n) == 0) {
                u->tls = schemes[i].tls;
                u->websocket = schemes[i].ws;
                u->port = schemes[i].port;
                p = s + n;
                break;
            }
        }
        if (i == sizeof schemes / sizeof schemes[0]) {
            snprintf(err, errsz, "unsupported scheme in '%s' (use http, https, ws or wss)", s);
            return -1;
        }
    }
    /* authority: up to the first '/', '?' or '#' */
    size_t alen = strcspn(p, "/?#");
    const char *auth = p, *rest = p + alen;
    if (memchr(auth, '@', alen)) {
        snprintf(err, errsz, "user information in URLs is not supported");
        return -1;
    }
    const char *port = NULL;
    if (alen > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close || copy(u->host, sizeof u->host, auth + 1, (size_t)(close - auth - 1)) != 0)
            goto bad_host;
        if (close + 1 < auth + alen) {
            if (close[1] != ':')
                goto bad_host;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(auth, ':', alen);
        size_t hl = colon ? (size_t)(colon - auth) : alen;
        if (copy(u->host, sizeof u->host, auth, hl) != 0)
            goto bad_host;
        if (colon)
            port = colon + 1;
    }
    if (!u->host[0])
        goto bad_host;
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (end == port || end != auth + alen || v < 1 || v > 65535) {
            snprintf(err, errsz, "bad port in '%s'", s);
            return -1;
        }
        u->port = (int)v;
    }
    size_t plen = strcspn(rest, "#");
    if (plen == 0) {
        strcpy(u->path, "/");
    } else if (rest[0] == '?') {
        if (plen + 1 >= sizeof u->path)
            goto too_long;
        u->path[0] = '/';
        memcpy(u->path + 1, rest, plen);
        u->path[plen + 1] = '\0';
    } else if (copy(u->path, sizeof u->path, rest, plen) != 0) {
        goto too_long;
    }
    if (rest[plen] == '#' && copy(u->fragment, sizeof u->fragment, rest + plen + 1,
                                  strlen(rest + plen + 1)) != 0)
        goto too_long;
    return 0;
bad_host:
    snprintf(err, errsz, "no valid host in '%s'", s);
    return -1;
too_long:
    snprintf(err, errsz, "URL too long");
    return -1;
}

int url_token(const struct url *u, char *out, size_t outsz)
{
    for (const char *p = u->fragment; *p;) {
        size_t seg = strcspn(p, "&");
        if (seg > 2 && p[0] == 't' && p[1] == '=')
            return copy(out, outsz, p + 2, seg - 2);
        p += seg;
        if (*p == '&')
            p++;
    }
    return -1;
}

int url_ws_path(const struct url *u, char *out, size_t outsz)
{
    size_t q = strcspn(u->path, "?");
    if (q >= 3 && strncmp(u->path + q - 3, "/ws", 3) == 0)
        return copy(out, outsz, u->path, q);
    /* the directory of the path: up to and including its last '/' */
    const char *slash = NULL;
    for (size_t i = 0; i < q; i++)
        if (u->path[i] == '/')
            slash = u->path + i;
    size_t dl = slash ? (size_t)(slash - u->path) + 1 : 0;
    if (dl + 3 > outsz)
        return -1;
    if (dl == 0)
        out[dl++] = '/';
    else
        memcpy(out, u->path, dl);
    memcpy(out + dl, "ws", 3);
    return 0;
}

int url_api_prefix(const struct url *u, char *out, size_t outsz)
{
    size_t n = strcspn(u->path, "?");
    while (n > 0 && u->path[n - 1] == '/')
        n--;
    /* "/api" is ours to add; "/ws" names the WebSocket of the same base. */
    if (n >= 4 && strncmp(u->path + n - 4, "/api", 4) == 0)
        n -= 4;
    else if (n >= 3 && strncmp(u->path + n - 3, "/ws", 3) == 0)
        n -= 3;
    while (n > 0 && u->path[n - 1] == '/')
        n--;
    return copy(out, outsz, u->path, n);
}

int url_host_header(const struct url *u, char *out, size_t outsz)
{
    bool v6 = strchr(u->host, ':') != NULL;
    bool dflt = u->port == (u->tls ? 443 : 80);
    int n = dflt ? snprintf(out, outsz, v6 ? "[%s]" : "%s", u->host)
                 : snprintf(out, outsz, v6 ? "[%s]:%d" : "%s:%d", u->host, u->port);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}
