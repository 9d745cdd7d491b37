/* realip.c: trusted proxies and X-Forwarded-For (realip.h). */
#include "realip.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One trusted block; IPv4 is kept as IPv4 (4 bytes), never mapped. */
struct block {
    int family; /* 4 or 6 */
    unsigned char net[16];
    unsigned prefix;
};

struct realip {
    size_t n;
    struct block *blocks;
};

/* The prefix of an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An address in binary form: family 4 (4 bytes) or 6 (16 bytes). */
struct bin {
    int family;
    unsigned char b[16];
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_port(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && n <= 5 && s[n] == '\0';
}

/* Parses text[0..len) as an address, with the forms of realip.h. */
static bool parse_addr(const char *text, size_t len, struct bin *out)
{
    char buf[64];
    while (len > 0 && is_space(*text)) {
        text++;
        len--;
    }
    while (len > 0 && is_space(text[len - 1]))
        len--;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *s = buf;
    if (s[0] == '[') {
        /* "[v6]" or "[v6]:port" */
        char *close = strchr(s, ']');
        if (!close || (close[1] != '\0' && !(close[1] == ':' && is_port(close + 2))))
            return false;
        *close = '\0';
        s++;
        if (!strchr(s, ':'))
            return false; /* brackets hold IPv6 only */
    } else {
        /* "a.b.c.d:port": one colon, after a dotted quad (IPv6 has more). */
        char *colon = strchr(s, ':');
        if (colon && !strchr(colon + 1, ':') && memchr(s, '.', (size_t)(colon - s))) {
            if (!is_port(colon + 1))
                return false;
            *colon = '\0';
        }
    }
    if (inet_pton(AF_INET, s, out->b) == 1) {
        out->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, s, out->b) != 1)
        return false;
    if (memcmp(out->b, mapped, sizeof mapped) == 0) {
        /* An IPv4 client seen through a dual-stack socket is that client. */
        memmove(out->b, out->b + 12, 4);
        out->family = 4;
        return true;
    }
    out->family = 6;
    return true;
}

static void format_addr(const struct bin *a, char out[REALIP_ADDR_MAX])
{
    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, out, REALIP_ADDR_MAX))
        out[0] = '\0';
}

bool realip_normalize(const char *text, size_t len, char out[REALIP_ADDR_MAX])
{
    struct bin a;
    out[0] = '\0';
    if (!text || !parse_addr(text, len, &a))
        return false;
    format_addr(&a, out);
    return true;
}

static bool in_block(const struct block *k, const struct bin *a)
{
    if (k->family != a->family)
        return false;
    unsigned full = k->prefix / 8, rest = k->prefix % 8;
    if (memcmp(k->net, a->b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (k->net[full] & mask) == (a->b[full] & mask);
}

static bool trusted_bin(const struct realip *r, const struct bin *a)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (in_block(&r->blocks[i], a))
            return true;
    return false;
}

bool realip_trusted(const struct realip *r, const char *addr)
{
    struct bin a;
    return addr && parse_addr(addr, strlen(addr), &a) && trusted_bin(r, &a);
}

/* Parses one entry "ADDR[/PREFIX]" of text[0..len) into k. */
static bool parse_block(const char *text, size_t len, struct block *k, char *err, size_t errlen)
{
    char entry[80];
    snprintf(entry, sizeof entry, "%.*s", (int)(len < 79 ? len : 79), text);
    const char *slash = memchr(text, '/', len);
    size_t alen = slash ? (size_t)(slash - text) : len;
    /* The plain text forms only: no brackets, no port. */
    char abuf[64];
    struct bin a;
    bool ok = alen > 0 && alen < sizeof abuf;
    if (ok) {
        memcpy(abuf, text, alen);
        abuf[alen] = '\0';
        if (inet_pton(AF_INET, abuf, a.b) == 1)
            a.family = 4;
        else if (inet_pton(AF_INET6, abuf, a.b) == 1)
            a.family = 6;
        else
            ok = false;
    }
    if (!ok) {
        snprintf(err, errlen, "'%s' is not an address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)", entry);
        return false;
    }
    unsigned max = a.family == 4 ? 32 : 128;
    unsigned prefix = max;
    if (slash) {
        const char *p = slash + 1, *end = text + len;
        if (p == end || end - p > 3)
            goto bad_prefix;
        prefix = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                goto bad_prefix;
            prefix = prefix * 10 + (unsigned)(*p - '0');
        }
        if (prefix > max)
            goto bad_prefix;
    }
    for (unsigned bit = prefix; bit < max; bit++) {
        if (a.b[bit / 8] & (0x80 >> (bit % 8))) {
            snprintf(err, errlen, "'%s' has bits set beyond its /%u prefix", entry, prefix);
            return false;
        }
    }
    if (a.family == 6 && prefix >= 96 && memcmp(a.b, mapped, sizeof mapped) == 0) {
        /* ::ffff:a.b.c.d/N: addresses are compared as IPv4 (see parse_addr). */
        memmove(a.b, a.b + 12, 4);
        a.family = 4;
        prefix -= 96;
    }
    k->family = a.family;
    memcpy(k->net, a.b, sizeof k->net);
    k->prefix = prefix;
    return true;
bad_prefix:
    snprintf(err, errlen, "'%s': the prefix must be 0..%u", entry, max);
    return false;
}

struct realip *realip_create(const char *list, char *err, size_t errlen)
{
    struct realip *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!list)
        list = "";
    size_t cap = 1;
    for (const char *c = list; *c; c++)
        cap += *c == ',';
    r->blocks = calloc(cap, sizeof *r->blocks);
    if (!r->blocks) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *s = p;
        size_t l = len;
        while (l > 0 && is_space(*s)) {
            s++;
            l--;
        }
        while (l > 0 && is_space(s[l - 1]))
            l--;
        if (l == 4 && strncmp(s, "none", 4) == 0) {
            /* trusts nobody: adds nothing */
        } else if (l == 0) {
            snprintf(err, errlen, "an empty entry in the list of trusted proxies");
            goto fail;
        } else if (!parse_block(s, l, &r->blocks[r->n], err, errlen)) {
            goto fail;
        } else {
            r->n++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return r;
fail:
    realip_destroy(r);
    return NULL;
}

void realip_destroy(struct realip *r)
{
    if (!r)
        return;
    free(r->blocks);
    free(r);
}

enum realip_kind realip_client(const struct realip *r, const char *peer, const char *xff,
                               char out[REALIP_ADDR_MAX])
{
    struct bin p;
    if (!peer || !parse_addr(peer, strlen(peer), &p)) {
        /* Not an address (lws could not tell): limited under that name. */
        snprintf(out, REALIP_ADDR_MAX, "%s", peer ? peer : "");
        return REALIP_PEER;
    }
    format_addr(&p, out);
    if (!trusted_bin(r, &p))
        return REALIP_PEER;
    /* Walk the entries from the right: each was appended by the hop to
     * its right, which is trusted so far. */
    size_t end = xff ? strlen(xff) : 0;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        const char *e = xff + start;
        size_t len = end - start;
        end = start > 0 ? start - 1 : 0;
        size_t blank = 0;
        while (blank < len && is_space(e[blank]))
            blank++;
        if (blank == len)
            continue; /* "a, , b": nothing between two commas */
        struct bin a;
        if (!parse_addr(e, len, &a)) {
            format_addr(&p, out);
            return REALIP_PEER;
        }
        format_addr(&a, out);
        if (!trusted_bin(r, &a))
            return REALIP_FORWARDED;
    }
    return REALIP_TRUSTED;
}
