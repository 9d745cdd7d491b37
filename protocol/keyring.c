/*
 * keyring.c: several HS256 keys with ids (kid), for key rotation without a
 * restart (contract section 11), and the secret file format that holds them.
 *
 * The file is an operator's text, so the parser says which line is wrong
 * and why, and never quotes a secret. The one-secret form (one line without
 * blanks, what every earlier version wrote) stays valid and means a key
 * without kid. Pure: no I/O, no clock, no logging.
 */
#include "proto.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static void say(char *why, size_t whysz, const char *msg, size_t line)
{
    if (!why || whysz == 0)
        return;
    if (line)
        snprintf(why, whysz, "line %zu: %s", line, msg);
    else
        snprintf(why, whysz, "%s", msg);
}

void proto_keyring_free(struct proto_keyring *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        if (r->keys[i].secret)
            OPENSSL_cleanse(r->keys[i].secret, r->keys[i].len);
        free(r->keys[i].secret);
    }
    free(r->keys);
    free(r);
}

/* Appends a key (kid may be ""); false on allocation failure. */
static bool add_key(struct proto_keyring *r, const char *kid, size_t kidlen, const char *sec,
                    size_t seclen)
{
    struct proto_key *k = &r->keys[r->n];
    k->secret = malloc(seclen + 1);
    if (!k->secret)
        return false;
    memcpy(k->secret, sec, seclen);
    k->secret[seclen] = '\0';
    k->len = seclen;
    memcpy(k->kid, kid, kidlen);
    k->kid[kidlen] = '\0';
    r->n++;
    return true;
}

struct proto_keyring *proto_keyring_single(const char *secret, size_t len)
{
    struct proto_keyring *r = calloc(1, sizeof *r);
    if (!r || !secret || len == 0 || memchr(secret, '\0', len))
        goto fail;
    r->keys = calloc(1, sizeof *r->keys);
    if (!r->keys || !add_key(r, "", 0, secret, len))
        goto fail;
    return r;
fail:
    proto_keyring_free(r);
    return NULL;
}

struct proto_keyring *proto_keyring_parse(const char *text, size_t len, char *why, size_t whysz)
{
    struct proto_keyring *r = NULL;
    size_t lines = 0, content = 0, lineno = 0;
    const char *p, *end;

    say(why, whysz, "", 0);
    if (!text) {
        say(why, whysz, "no text", 0);
        goto fail;
    }
    if (memchr(text, '\0', len)) {
        say(why, whysz, "the file holds a NUL byte", 0);
        goto fail;
    }
    /* Count content lines first: the one-secret form is decided on the
     * whole file, and the array is sized once. */
    end = text + len;
    for (p = text; p < end; lines++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *b = p;
        while (b < e && (is_blank(*b) || *b == '\r'))
            b++;
        if (b < e && *b != '#')
            content++;
        p = nl ? nl + 1 : end;
    }
    if (content == 0) {
        say(why, whysz, "no key in the file", 0);
        goto fail;
    }
    if (content > PROTO_MAX_KEYS) {
        char m[64];
        snprintf(m, sizeof m, "more than %d keys", PROTO_MAX_KEYS);
        say(why, whysz, m, 0);
        goto fail;
    }
    r = calloc(1, sizeof *r);
    if (!r || !(r->keys = calloc(content, sizeof *r->keys))) {
        say(why, whysz, "out of memory", 0);
        goto fail;
    }
    for (p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *b = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        lineno++;
        while (b < e && (is_blank(*b) || *b == '\r'))
            b++;
        while (e > b && (is_blank(e[-1]) || e[-1] == '\r'))
            e--;
        if (b == e || *b == '#')
            continue;
        for (const char *q = b; q < e; q++) {
            if ((unsigned char)*q < 0x20 && !is_blank(*q)) {
                say(why, whysz, "control character", lineno);
                goto fail;
            }
        }
        const char *sp = b;
        while (sp < e && !is_blank(*sp))
            sp++;
        const char *kid = b, *sec = b;
        size_t kidlen = 0, seclen = (size_t)(e - b);
        if (sp < e) {
            /* "KID SECRET" */
            kidlen = (size_t)(sp - b);
            sec = sp;
            while (sec < e && is_blank(*sec))
                sec++;
            seclen = (size_t)(e - sec);
            char kbuf[PROTO_JTI_BUF];
            if (kidlen > PROTO_MAX_JTI) {
                say(why, whysz, "key id longer than 64 characters", lineno);
                goto fail;
            }
            memcpy(kbuf, kid, kidlen);
            kbuf[kidlen] = '\0';
            if (!proto_valid_jti(kbuf)) {
                say(why, whysz, "key id must be 1..64 of [A-Za-z0-9._-]", lineno);
                goto fail;
            }
            for (size_t i = 0; i < r->n; i++) {
                if (strcmp(r->keys[i].kid, kbuf) == 0) {
                    say(why, whysz, "key id used twice", lineno);
                    goto fail;
                }
            }
        } else if (content > 1) {
            say(why, whysz, "want KID SECRET (one secret without an id only in a one-line file)",
                lineno);
            goto fail;
        }
        if (seclen < PROTO_MIN_SECRET) {
            say(why, whysz, "secret shorter than 16 characters", lineno);
            goto fail;
        }
        if (seclen > PROTO_MAX_SECRET) {
            say(why, whysz, "secret longer than 1024 characters", lineno);
            goto fail;
        }
        if (!add_key(r, kid, kidlen, sec, seclen)) {
            say(why, whysz, "out of memory", 0);
            goto fail;
        }
    }
    return r;
fail:
    proto_keyring_free(r);
    return NULL;
}

const struct proto_key *proto_keyring_find(const struct proto_keyring *r, const char *kid)
{
    if (!r || r->n == 0)
        return NULL;
    if (!kid || !kid[0])
        return &r->keys[0];
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->keys[i].kid, kid) == 0)
            return &r->keys[i];
    return NULL;
}

/* The header's kid into buf ("" when absent). false when the header cannot
 * be read or kid is not a valid id: proto_jwt_verify refuses those with its
 * own reason, so the caller goes on with the first key. */
static bool header_kid(const char *token, char buf[PROTO_JTI_BUF])
{
    bool ok = false;
    size_t n = 0;
    char *raw = NULL;
    json_t *h = NULL, *kid;
    const char *dot = token ? strchr(token, '.') : NULL;

    buf[0] = '\0';
    /* A token over 4096 bytes is refused by proto_jwt_verify anyway. */
    if (!dot || dot - token > 4096)
        goto done;
    raw = proto_b64url_decode(token, (size_t)(dot - token), &n);
    h = raw ? json_loadb(raw, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(h))
        goto done;
    kid = json_object_get(h, "kid");
    if (kid && (!json_is_string(kid) || !proto_valid_jti(json_string_value(kid))))
        goto done;
    if (kid)
        snprintf(buf, PROTO_JTI_BUF, "%s", json_string_value(kid));
    ok = true;
done:
    json_decref(h);
    free(raw);
    return ok;
}

enum proto_err proto_jwt_verify_ring(const struct proto_keyring *r, const char *token,
                                     int64_t now_s, struct proto_claims *out, const char **why)
{
    char kid[PROTO_JTI_BUF];
    const struct proto_key *k;
    header_kid(token, kid);
    k = proto_keyring_find(r, kid);
    if (!k) {
        if (why)
            *why = "unknown kid";
        return PROTO_ERR_UNAUTHORIZED;
    }
    return proto_jwt_verify(k->secret, k->len, token, now_s, out, why);
}

char *proto_jwt_mint_ring(const struct proto_keyring *r, const struct proto_claims *c)
{
    struct proto_claims cc;
    const struct proto_key *k = proto_keyring_find(r, NULL);
    if (!k || !c)
        return NULL;
    cc = *c;
    snprintf(cc.kid, sizeof cc.kid, "%s", k->kid);
    return proto_jwt_mint(k->secret, k->len, &cc);
}
