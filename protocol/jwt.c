/*
 * jwt.c: JSON Web Tokens signed HS256, the only way into a room (contract
 * section 3), and base64url.
 *
 * Verification is deliberately narrow: exactly three segments, a header that
 * names alg "HS256" and nothing else (no "none", no case variants, no
 * algorithm chosen by the token), a signature checked in constant time
 * before the payload is even parsed, then every required claim checked with
 * the same string rules as the rest of the protocol. Reasons given back are
 * static strings and never quote the token, which is a bearer credential.
 *
 * Pure: no I/O, no clock (now is an argument), no logging.
 */
#include "proto.h"

#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

/* Bounded before any work, so that a huge token costs nothing. */
#define JWT_MAX_TOKEN 4096
#define JWT_SIG_LEN 32 /* SHA-256 */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *proto_b64url_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    /* 4 characters per 3 bytes, rounded up, plus the NUL. */
    if (len / 3 >= SIZE_MAX / 4 - 1)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    size_t o = 0, i = 0;
    if (!out)
        return NULL;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

void *proto_b64url_decode(const char *s, size_t len, size_t *outlen)
{
    unsigned char *out = NULL;
    size_t n = len, o = 0, pad = 0;
    unsigned acc = 0;
    int bits = 0;

    if (!s)
        goto fail;
    /* Padding is optional, but when present it must complete the last
     * quantum: with at most two '=' and a total length that is a multiple
     * of 4, the remaining length is 2 or 3 mod 4 as it must be. */
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (pad && len % 4 != 0)
        goto fail;
    if (n % 4 == 1)
        goto fail;
    out = malloc(n / 4 * 3 + 3);
    if (!out)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            goto fail;
        acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits & 0xFF);
        }
    }
    /* Leftover bits must be zero: only the canonical spelling is accepted,
     * so that one byte string has one encoding. */
    if (acc & ((1u << bits) - 1))
        goto fail;
    if (outlen)
        *outlen = o;
    return out;

fail:
    free(out);
    return NULL;
}

/* HMAC-SHA256 of data with key into sig[32]; false on an OpenSSL failure.
 * HMAC() is the one-shot interface, not deprecated in OpenSSL 3. */
static bool hs256(const void *key, size_t keylen, const char *data, size_t len,
                  unsigned char sig[JWT_SIG_LEN])
{
    unsigned int siglen = 0;
    if (keylen > INT_MAX)
        return false;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, len, sig, &siglen))
        return false;
    return siglen == JWT_SIG_LEN;
}

/* Decodes one base64url segment as a JSON object; NULL otherwise. */
static json_t *segment_object(const char *s, size_t len)
{
    size_t n = 0;
    json_t *obj = NULL;
    char *raw = proto_b64url_decode(s, len, &n);
    if (!raw)
        goto fail;
    obj = json_loadb(raw, n, JSON_REJECT_DUPLICATES, NULL);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        obj = NULL;
    }
fail:
    free(raw);
    return obj;
}

/* Optional integer claim: absent is fine, present must be an integer. */
static bool opt_int_claim(json_t *payload, const char *key, bool *present, int64_t *out)
{
    json_t *v = json_object_get(payload, key);
    *present = v != NULL;
    *out = 0;
    if (!v)
        return true;
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* Copies a string already checked to fit (a validated name or id). */
static void copy_to(char *dst, size_t dstsz, const char *src)
{
    size_t n = strlen(src);
    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *check_claims(json_t *p, int64_t now_s, struct proto_claims *c)
{
    json_t *v;
    const char *s;
    bool present;
    int64_t nbf;

    v = json_object_get(p, "sub");
    if (!json_is_string(v) || !proto_valid_sub(json_string_value(v)))
        return "missing or invalid sub";
    copy_to(c->sub, sizeof c->sub, json_string_value(v));

    v = json_object_get(p, "name");
    if (!json_is_string(v) || !proto_valid_name(json_string_value(v)))
        return "missing or invalid name";
    copy_to(c->name, sizeof c->name, json_string_value(v));

    v = json_object_get(p, "room");
    if (!json_is_string(v) || !proto_valid_room_id(json_string_value(v)))
        return "missing or invalid room";
    copy_to(c->room, sizeof c->room, json_string_value(v));

    v = json_object_get(p, "role");
    int role = json_is_string(v) ? proto_role_parse(json_string_value(v)) : -1;
    if (role < 0)
        return "missing or invalid role";
    c->role = (enum proto_role)role;

    v = json_object_get(p, "exp");
    if (!json_is_integer(v))
        return "missing or invalid exp";
    c->exp = (int64_t)json_integer_value(v);
    /* Written so that neither side can overflow: the unsigned difference is
     * exact once exp < now. */
    if (c->exp < now_s && (uint64_t)now_s - (uint64_t)c->exp > PROTO_JWT_LEEWAY_S)
        return "token expired";

    if (!opt_int_claim(p, "iat", &present, &c->iat))
        return "invalid iat";
    /* nbf is not in the contract, but a token that says "not yet" is
     * honoured as any JWT library would, with the same leeway. */
    if (!opt_int_claim(p, "nbf", &present, &nbf))
        return "invalid nbf";
    if (present && nbf > now_s && (uint64_t)nbf - (uint64_t)now_s > PROTO_JWT_LEEWAY_S)
        return "token not yet valid";

    /* Optional claims: null is taken as absent, as minting libraries often
     * write it for an empty field. */
    v = json_object_get(p, "delegation");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || !proto_valid_name(json_string_value(v)))
            return "invalid delegation";
        copy_to(c->delegation, sizeof c->delegation, json_string_value(v));
    }

    /* jti: the token's id, for revocation (contract section 11). */
    v = json_object_get(p, "jti");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || !proto_valid_jti(json_string_value(v)))
            return "invalid jti";
        copy_to(c->jti, sizeof c->jti, json_string_value(v));
    }

    c->category = PROTO_CAT_NONE;
    v = json_object_get(p, "category");
    if (v && !json_is_null(v)) {
        s = json_is_string(v) ? json_string_value(v) : NULL;
        int cat = proto_category_parse(s);
        if (cat < 0)
            return "invalid category";
        c->category = (enum proto_category)cat;
    }

    v = json_object_get(p, "region");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || !proto_valid_region(json_string_value(v)))
            return "invalid region";
        copy_to(c->region, sizeof c->region, json_string_value(v));
    }
    return NULL;
}

enum proto_err proto_jwt_verify(const void *key, size_t keylen, const char *token,
                                int64_t now_s, struct proto_claims *out, const char **why)
{
    const char *reason = NULL;
    json_t *header = NULL, *payload = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0, len;
    unsigned char mac[JWT_SIG_LEN];
    struct proto_claims c;
    const char *dot1, *dot2;
    json_t *alg, *kid;

    memset(&c, 0, sizeof c);
    if (!key || keylen == 0) {
        /* An empty secret is a configuration error, never a valid key. */
        reason = "no key";
        goto fail;
    }
    if (!token) {
        reason = "no token";
        goto fail;
    }
    len = strnlen(token, JWT_MAX_TOKEN + 1);
    if (len > JWT_MAX_TOKEN) {
        reason = "token too long";
        goto fail;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        reason = "not a JWT (needs three segments)";
        goto fail;
    }
    if (dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == token + len) {
        reason = "empty JWT segment";
        goto fail;
    }

    header = segment_object(token, (size_t)(dot1 - token));
    if (!header) {
        reason = "invalid JWT header";
        goto fail;
    }
    /* The algorithm is fixed by the server, never chosen by the token. */
    alg = json_object_get(header, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0) {
        reason = "unsupported alg (only HS256)";
        goto fail;
    }
    /* RFC 7515 4.1.11: extensions we do not understand must be refused. */
    if (json_object_get(header, "crit")) {
        reason = "unsupported crit header";
        goto fail;
    }
    /* kid picks the key (keyring.c); here it is only checked and kept. */
    kid = json_object_get(header, "kid");
    if (kid && (!json_is_string(kid) || !proto_valid_jti(json_string_value(kid)))) {
        reason = "invalid kid";
        goto fail;
    }

    sig = proto_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), &siglen);
    if (!sig || siglen != JWT_SIG_LEN) {
        reason = "invalid signature";
        goto fail;
    }
    if (!hs256(key, keylen, token, (size_t)(dot2 - token), mac)) {
        reason = "signature computation failed";
        goto fail;
    }
    if (CRYPTO_memcmp(mac, sig, JWT_SIG_LEN) != 0) {
        reason = "bad signature";
        goto fail;
    }

    payload = segment_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!payload) {
        reason = "invalid JWT payload";
        goto fail;
    }
    reason = check_claims(payload, now_s, &c);
    if (reason)
        goto fail;
    if (kid)
        copy_to(c.kid, sizeof c.kid, json_string_value(kid));

    if (out)
        *out = c;
    if (why)
        *why = NULL;
    OPENSSL_cleanse(mac, sizeof mac);
    free(sig);
    json_decref(payload);
    json_decref(header);
    return PROTO_OK;

fail:
    if (why)
        *why = reason;
    OPENSSL_cleanse(mac, sizeof mac);
    free(sig);
    json_decref(payload);
    json_decref(header);
    return PROTO_ERR_UNAUTHORIZED;
}

/* Appends "."-joined segment b64 to a heap string; returns the new string
 * (the old one is freed) or NULL. */
static char *join_dot(char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *r = malloc(la + 1 + lb + 1);
    if (r) {
        memcpy(r, a, la);
        r[la] = '.';
        memcpy(r + la + 1, b, lb + 1);
    }
    free(a);
    return r;
}

char *proto_jwt_mint(const void *key, size_t keylen, const struct proto_claims *c)
{
    /* A fixed header: the same bytes every time, in the usual field order
     * (kid, a checked [A-Za-z0-9._-] string, needs no escaping). */
    char header[64 + PROTO_JTI_BUF];
    json_t *p = NULL;
    char *payload = NULL, *tok = NULL, *seg = NULL;
    unsigned char mac[JWT_SIG_LEN];

    /* Refuse to mint what verify would refuse: that is always a bug. */
    if (!key || keylen == 0 || !c || !proto_valid_sub(c->sub) || !proto_valid_name(c->name) ||
        !proto_valid_room_id(c->room) || !proto_role_name(c->role)[0] ||
        (c->delegation[0] && !proto_valid_name(c->delegation)) ||
        (c->jti[0] && !proto_valid_jti(c->jti)) || (c->kid[0] && !proto_valid_jti(c->kid)))
        goto fail;
    if (c->kid[0])
        snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", c->kid);
    else
        snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    if (c->category != PROTO_CAT_NONE && !proto_category_name(c->category)[0])
        goto fail;
    if (c->region[0] && !proto_valid_region(c->region))
        goto fail;

    p = json_object();
    if (!p || json_object_set_new(p, "sub", json_string(c->sub)) ||
        json_object_set_new(p, "name", json_string(c->name)) ||
        json_object_set_new(p, "room", json_string(c->room)) ||
        json_object_set_new(p, "role", json_string(proto_role_name(c->role))))
        goto fail;
    if (c->delegation[0] && json_object_set_new(p, "delegation", json_string(c->delegation)))
        goto fail;
    if (c->category != PROTO_CAT_NONE &&
        json_object_set_new(p, "category", json_string(proto_category_name(c->category))))
        goto fail;
    if (c->region[0] && json_object_set_new(p, "region", json_string(c->region)))
        goto fail;
    if (c->iat && json_object_set_new(p, "iat", json_integer((json_int_t)c->iat)))
        goto fail;
    if (c->jti[0] && json_object_set_new(p, "jti", json_string(c->jti)))
        goto fail;
    if (json_object_set_new(p, "exp", json_integer((json_int_t)c->exp)))
        goto fail;
    payload = json_dumps(p, JSON_COMPACT);
    if (!payload)
        goto fail;

    tok = proto_b64url_encode(header, strlen(header));
    seg = proto_b64url_encode(payload, strlen(payload));
    if (!tok || !seg)
        goto fail;
    tok = join_dot(tok, seg);
    if (!tok || !hs256(key, keylen, tok, strlen(tok), mac))
        goto fail;
    free(seg);
    seg = proto_b64url_encode(mac, sizeof mac);
    if (!seg)
        goto fail;
    tok = join_dot(tok, seg);
    if (!tok)
        goto fail;

    free(seg);
    free(payload);
    json_decref(p);
    return tok;

fail:
    free(tok);
    free(seg);
    free(payload);
    json_decref(p);
    return NULL;
}
