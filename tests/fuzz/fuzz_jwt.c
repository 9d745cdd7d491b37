/*
 * fuzz_jwt: JWT parse and verify (proto_jwt_verify), base64url, and the
 * mint/verify round trip.
 *
 * A fuzzer cannot forge HMAC-SHA256, so a raw token alone would never get
 * past the signature check to the header and claims logic. The first byte
 * of the input therefore picks what the rest is:
 *   'T' (and any byte not below)  the token itself, as a client sends it
 *   'P'  a JWT payload (JSON bytes): signed with FUZZ_KEY under the
 *        standard header, so that check_claims() sees fuzzed claims
 *   'H'  "header-json\npayload-json": both fuzzed, then signed, so that
 *        the alg and crit rules are reached with a valid signature
 *   'B'  bytes for proto_b64url_encode/decode round trips
 * Checked on every accepted token: the claims obey the contract's rules,
 * the same token is refused under another key and a minute after exp plus
 * leeway, and proto_jwt_mint(claims) gives a token that verifies to the
 * same claims. A refusal always comes with a reason.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"

#define OTHER_KEY "fuzz-key-0123456789abcdef0123457"

/* base64url of s[0..n) (free()). */
static char *b64(const void *s, size_t n)
{
    char *out = proto_b64url_encode(s, n);
    FUZZ_CHECK(out, "proto_b64url_encode failed");
    return out;
}

/* header.payload.signature with FUZZ_KEY (free()). */
static char *sign(const char *header, size_t hlen, const char *payload, size_t plen)
{
    char *h = b64(header, hlen), *p = b64(payload, plen);
    size_t n = strlen(h) + 1 + strlen(p);
    char *tok = malloc(n + 1 + 64);
    unsigned char mac[32];
    unsigned int maclen = 0;
    FUZZ_CHECK(tok, "out of memory");
    snprintf(tok, n + 1, "%s.%s", h, p);
    FUZZ_CHECK(HMAC(EVP_sha256(), FUZZ_KEY, (int)FUZZ_KEY_LEN, (const unsigned char *)tok, n,
                    mac, &maclen) &&
                   maclen == 32,
               "HMAC failed");
    char *s = b64(mac, sizeof mac);
    tok[n] = '.';
    memcpy(tok + n + 1, s, strlen(s) + 1);
    free(s);
    free(h);
    free(p);
    return tok;
}

static void check_claims(const struct proto_claims *c)
{
    FUZZ_CHECK(proto_valid_sub(c->sub), "sub '%s'", c->sub);
    FUZZ_CHECK(proto_valid_name(c->name), "name");
    FUZZ_CHECK(proto_valid_room_id(c->room), "room '%s'", c->room);
    FUZZ_CHECK((unsigned)c->role < PROTO_ROLE__COUNT, "role %d", (int)c->role);
    FUZZ_CHECK(!c->delegation[0] || proto_valid_name(c->delegation), "delegation");
    FUZZ_CHECK((unsigned)c->category < PROTO_CAT__COUNT, "category %d", (int)c->category);
    FUZZ_CHECK(c->exp >= FUZZ_NOW_S - PROTO_JWT_LEEWAY_S, "accepted an expired token");
}

static bool claims_equal(const struct proto_claims *a, const struct proto_claims *b)
{
    return strcmp(a->sub, b->sub) == 0 && strcmp(a->name, b->name) == 0 &&
           strcmp(a->room, b->room) == 0 && a->role == b->role && a->exp == b->exp &&
           a->iat == b->iat && strcmp(a->delegation, b->delegation) == 0 &&
           a->category == b->category;
}

static void verify_and_check(const char *token)
{
    struct proto_claims c, c2;
    const char *why = "unset";
    memset(&c, 0, sizeof c);
    enum proto_err e = proto_jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, token, FUZZ_NOW_S, &c, &why);
    if (e != PROTO_OK) {
        FUZZ_CHECK(e == PROTO_ERR_UNAUTHORIZED, "verify returned %s", proto_err_code(e));
        FUZZ_CHECK(why && why[0] && strcmp(why, "unset") != 0, "refused without a reason");
        /* The reason is a static text: it never quotes the token. */
        FUZZ_CHECK(strlen(token) < 8 || !strstr(why, token), "the reason quotes the token");
        return;
    }
    FUZZ_CHECK(why == NULL, "accepted with a reason: %s", why);
    check_claims(&c);

    /* The signature binds the token to the key. */
    e = proto_jwt_verify(OTHER_KEY, sizeof OTHER_KEY - 1, token, FUZZ_NOW_S, &c2, &why);
    FUZZ_CHECK(e == PROTO_ERR_UNAUTHORIZED, "a token verified under two keys");
    /* And exp binds it to time (exp + leeway + 1 s is too late). */
    if (c.exp < INT64_MAX - PROTO_JWT_LEEWAY_S - 1) {
        e = proto_jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, token, c.exp + PROTO_JWT_LEEWAY_S + 1, &c2,
                             &why);
        FUZZ_CHECK(e == PROTO_ERR_UNAUTHORIZED, "a token verified after exp + leeway");
    }

    /* What verify accepts, mint can write again, and it reads back the same. */
    char *again = proto_jwt_mint(FUZZ_KEY, FUZZ_KEY_LEN, &c);
    FUZZ_CHECK(again, "proto_jwt_mint refused verified claims");
    memset(&c2, 0, sizeof c2);
    e = proto_jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, again, FUZZ_NOW_S, &c2, &why);
    FUZZ_CHECK(e == PROTO_OK, "a minted token does not verify: %s", why);
    FUZZ_CHECK(claims_equal(&c, &c2), "mint/verify changed the claims");
    free(again);
}

static void b64_round_trip(const uint8_t *data, size_t size)
{
    size_t n = 0;
    char *enc = b64(data, size);
    unsigned char *dec = proto_b64url_decode(enc, strlen(enc), &n);
    FUZZ_CHECK(dec && n == size && (size == 0 || memcmp(dec, data, size) == 0),
               "decode(encode(x)) != x");
    free(dec);
    free(enc);

    /* The other way: what decodes re-encodes to the canonical spelling. */
    char *s = fuzz_strndup(data, size);
    dec = proto_b64url_decode(s, size, &n);
    if (dec) {
        size_t body = size;
        while (body > 0 && s[body - 1] == '=')
            body--;
        enc = b64(dec, n);
        FUZZ_CHECK(strlen(enc) == body && memcmp(enc, s, body) == 0,
                   "a non-canonical base64url spelling decoded");
        free(enc);
        free(dec);
    }
    free(s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char std_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    if (size < 1)
        return 0;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    char *tok;

    switch (data[0]) {
    case 'P':
        tok = sign(std_header, sizeof std_header - 1, (const char *)rest, n);
        verify_and_check(tok);
        free(tok);
        break;
    case 'H': {
        const uint8_t *nl = memchr(rest, '\n', n);
        size_t hl = nl ? (size_t)(nl - rest) : n;
        const char *payload = nl ? (const char *)nl + 1 : "{}";
        size_t pl = nl ? n - hl - 1 : 2;
        tok = sign((const char *)rest, hl, payload, pl);
        verify_and_check(tok);
        free(tok);
        break;
    }
    case 'B':
        b64_round_trip(rest, n);
        break;
    default:
        /* The token as a client sends it: a NUL-terminated string (the
         * codec has already refused a NUL inside). */
        tok = fuzz_strndup(rest, n);
        verify_and_check(tok);
        free(tok);
        break;
    }
    return 0;
}
