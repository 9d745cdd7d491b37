/*
 * Unit tests of protocol/jwt.c: HS256 tokens and base64url.
 *
 * Tokens under test are built here from literal header and payload JSON so
 * that every malformation can be expressed; the known-answer vectors were
 * computed independently with node's crypto and checked with
 * `openssl dgst -sha256 -hmac` when this test was written.
 */
#include "proto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define KEY "rostrum-test-secret"
#define NOW INT64_C(1700000000)

/* Computed with node: crypto.createHmac('sha256', KEY) over
 * base64url(JSON.stringify(header)) + "." + base64url(JSON.stringify(payload)). */
static const char kat1[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJkZWxlZ2F0ZS1mciIsIm5hbWUiOiJGcmFuY2UiLCJyb29tIjoiY2xvc2luZy1kaXNjdXNzaW9uIiwic"
    "m9sZSI6ImRlbGVnYXRlIiwiZGVsZWdhdGlvbiI6IkZyYW5jZSIsImNhdGVnb3J5IjoibWVtYmVyX3N0YXRlIiwia"
    "WF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDB9."
    "PCHssnKKBOnVJVZcIEiUr4EZSPWlg1Beuf3WL88Wjnk";
/* Header fields in the other order, claims in reverse, a non-ASCII name. */
static const char kat2[] =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
    "eyJleHAiOjE3MDAwMDM2MDAsInJvbGUiOiJtb2RlcmF0b3IiLCJyb29tIjoicjEiLCJuYW1lIjoiQ2hhaXIgw4ltaWxp"
    "ZSIsInN1YiI6ImNoYWlyLTEifQ."
    "H6Q0H0ftVONUkhM71j9N8AwCfXcNVweAl4Nf-9PXVqc";

/* A JWT from literal header and payload JSON, signed with key (or with the
 * literal signature segment sig when it is not NULL). */
static char *make_sig(const char *key, const char *header, const char *payload, const char *sig)
{
    char *h = proto_b64url_encode(header, strlen(header));
    char *p = proto_b64url_encode(payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 2;
    char *si = malloc(n);
    snprintf(si, n, "%s.%s", h, p);
    unsigned char mac[32];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)si, strlen(si), mac, &maclen);
    char *s = sig ? strdup(sig) : proto_b64url_encode(mac, maclen);
    size_t tn = strlen(si) + strlen(s) + 2;
    char *tok = malloc(tn);
    snprintf(tok, tn, "%s.%s", si, s);
    free(h);
    free(p);
    free(si);
    free(s);
    return tok;
}

static char *make(const char *header, const char *payload)
{
    return make_sig(KEY, header, payload, NULL);
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* Good claims with one placeholder for extra or replacing members. */
#define BASE "\"sub\":\"d1\",\"name\":\"Delegate One\",\"room\":\"r1\",\"role\":\"delegate\""
#define EXP "\"exp\":1700000100"

static void expect_ok(const char *tok, int64_t now, int line)
{
    struct proto_claims c;
    const char *why = "unset";
    enum proto_err e = proto_jwt_verify(KEY, strlen(KEY), tok, now, &c, &why);
    if (e != PROTO_OK)
        fprintf(stderr, "line %d: expected ok, got why=%s\n", line, why ? why : "(null)");
    CHECK_INT(e, PROTO_OK);
}

/* Refused with a reason that does not quote the token (or any of its
 * segments). */
static void expect_reject(const char *key, const char *tok, int64_t now, int line)
{
    struct proto_claims c;
    const char *why = NULL;
    memset(&c, 0x5a, sizeof c);
    enum proto_err e = proto_jwt_verify(key, key ? strlen(key) : 0, tok, now, &c, &why);
    if (e != PROTO_ERR_UNAUTHORIZED)
        fprintf(stderr, "line %d: expected unauthorized, got %d\n", line, (int)e);
    CHECK_INT(e, PROTO_ERR_UNAUTHORIZED);
    CHECK(why != NULL && why[0] != '\0');
    if (why && tok && tok[0]) {
        const char *dot = strchr(tok, '.');
        size_t seg = dot ? (size_t)(dot - tok) : strlen(tok);
        CHECK(strstr(why, tok) == NULL);
        if (seg >= 8) {
            char first[16];
            memcpy(first, tok, 8);
            first[8] = '\0';
            CHECK(strstr(why, first) == NULL);
        }
    }
}

#define OK(tok) expect_ok(tok, NOW, __LINE__)
#define REJECT(tok) expect_reject(KEY, tok, NOW, __LINE__)
/* Builds, rejects and frees in one line. */
#define REJECT_MADE(h, p)              \
    do {                               \
        char *t__ = make(h, p);        \
        expect_reject(KEY, t__, NOW, __LINE__); \
        free(t__);                     \
    } while (0)
#define OK_MADE(h, p)                  \
    do {                               \
        char *t__ = make(h, p);        \
        expect_ok(t__, NOW, __LINE__); \
        free(t__);                     \
    } while (0)

static void test_known_answer(void)
{
    struct proto_claims c;
    const char *why = "unset";
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), kat1, NOW, &c, &why), PROTO_OK);
    CHECK(why == NULL);
    CHECK_STR(c.sub, "delegate-fr");
    CHECK_STR(c.name, "France");
    CHECK_STR(c.room, "closing-discussion");
    CHECK_INT(c.role, PROTO_ROLE_DELEGATE);
    CHECK_STR(c.delegation, "France");
    CHECK_INT(c.category, PROTO_CAT_MEMBER_STATE);
    CHECK_INT(c.iat, 1700000000);
    CHECK_INT(c.exp, 1700003600);

    /* Minting the same claims gives the same bytes as the independent
     * implementation. */
    char *m = proto_jwt_mint(KEY, strlen(KEY), &c);
    CHECK_STR(m, kat1);
    free(m);

    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), kat2, NOW, &c, &why), PROTO_OK);
    CHECK_STR(c.sub, "chair-1");
    CHECK_STR(c.name, "Chair \xc3\x89milie");
    CHECK_STR(c.room, "r1");
    CHECK_INT(c.role, PROTO_ROLE_MODERATOR);
    CHECK_STR(c.delegation, "");
    CHECK_INT(c.category, PROTO_CAT_NONE);
    CHECK_INT(c.iat, 0);

    /* The same tokens under another key, or with one signature bit off. */
    expect_reject("another-secret", kat1, NOW, __LINE__);
    char *t = strdup(kat1);
    size_t n = strlen(t);
    t[n - 2] = t[n - 2] == 'n' ? 'm' : 'n';
    REJECT(t);
    /* A payload changed under a kept signature. */
    strcpy(t, kat1);
    char *p = strchr(t, '.') + 1;
    p[3] = p[3] == 'A' ? 'B' : 'A';
    REJECT(t);
    free(t);
}

static void test_round_trip(void)
{
    struct proto_claims in, out;
    memset(&in, 0, sizeof in);
    strcpy(in.sub, "user.name:x@y-1");
    strcpy(in.name, "Ms \xe5\xbc\xa0 \xf0\x9f\x8c\x8d"); /* CJK and a 4-byte emoji */
    strcpy(in.room, "0-room");
    in.role = PROTO_ROLE_OBSERVER;
    in.exp = NOW + 3600;
    in.iat = NOW;
    strcpy(in.delegation, "UNODC");
    in.category = PROTO_CAT_UN_ENTITY;
    strcpy(in.region, "Western European and other States");

    char *tok = proto_jwt_mint(KEY, strlen(KEY), &in);
    CHECK(tok != NULL);
    const char *why = "unset";
    memset(&out, 0, sizeof out);
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, &out, &why), PROTO_OK);
    CHECK_STR(out.sub, in.sub);
    CHECK_STR(out.name, in.name);
    CHECK_STR(out.room, in.room);
    CHECK_INT(out.role, in.role);
    CHECK_INT(out.exp, in.exp);
    CHECK_INT(out.iat, in.iat);
    CHECK_STR(out.delegation, in.delegation);
    CHECK_INT(out.category, in.category);
    CHECK_STR(out.region, "Western European and other States");
    /* out is NULL-safe, why is NULL-safe. */
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, NULL, NULL), PROTO_OK);
    expect_reject("rostrum-test-secreT", tok, NOW, __LINE__);
    free(tok);

    /* Without the optional claims. */
    in.delegation[0] = '\0';
    in.category = PROTO_CAT_NONE;
    in.region[0] = '\0';
    in.iat = 0;
    in.role = PROTO_ROLE_MODERATOR;
    tok = proto_jwt_mint(KEY, strlen(KEY), &in);
    CHECK(tok != NULL);
    memset(&out, 0x11, sizeof out);
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, &out, &why), PROTO_OK);
    CHECK_STR(out.delegation, "");
    CHECK_INT(out.category, PROTO_CAT_NONE);
    CHECK_STR(out.region, "");
    CHECK_INT(out.iat, 0);
    CHECK_INT(out.role, PROTO_ROLE_MODERATOR);
    free(tok);

    /* Every category survives the trip. */
    for (int k = 0; k < PROTO_CAT_NONE; k++) {
        in.category = (enum proto_category)k;
        tok = proto_jwt_mint(KEY, strlen(KEY), &in);
        CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, &out, &why), PROTO_OK);
        CHECK_INT(out.category, k);
        free(tok);
    }
    in.category = PROTO_CAT_NONE;

    /* Mint refuses what verify would refuse. */
    struct proto_claims bad = in;
    CHECK(proto_jwt_mint(KEY, 0, &in) == NULL);
    CHECK(proto_jwt_mint(NULL, 3, &in) == NULL);
    CHECK(proto_jwt_mint(KEY, strlen(KEY), NULL) == NULL);
    strcpy(bad.sub, "bad sub");
    CHECK(proto_jwt_mint(KEY, strlen(KEY), &bad) == NULL);
    bad = in;
    strcpy(bad.room, "Upper");
    CHECK(proto_jwt_mint(KEY, strlen(KEY), &bad) == NULL);
    bad = in;
    bad.name[0] = '\0';
    CHECK(proto_jwt_mint(KEY, strlen(KEY), &bad) == NULL);
    bad = in;
    bad.role = (enum proto_role)7;
    CHECK(proto_jwt_mint(KEY, strlen(KEY), &bad) == NULL);
    bad = in;
    bad.category = (enum proto_category)42;
    CHECK(proto_jwt_mint(KEY, strlen(KEY), &bad) == NULL);
    bad = in;
    strcpy(bad.delegation, "tab\there");
    CHECK(proto_jwt_mint(KEY, strlen(KEY), &bad) == NULL);
    bad = in;
    strcpy(bad.region, "line\nbreak");
    CHECK(proto_jwt_mint(KEY, strlen(KEY), &bad) == NULL);
}

static void test_alg(void)
{
    const char *payload = "{" BASE "," EXP "}";
    OK_MADE(HS256, payload);
    OK_MADE("{\"alg\":\"HS256\"}", payload);
    /* alg none, with an empty signature and with a real one. */
    char *t = make_sig(KEY, "{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, "");
    REJECT(t);
    free(t);
    REJECT_MADE("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload);
    REJECT_MADE("{\"alg\":\"None\"}", payload);
    REJECT_MADE("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", payload);
    REJECT_MADE("{\"alg\":\"HS384\"}", payload);
    REJECT_MADE("{\"alg\":\"RS256\"}", payload);
    REJECT_MADE("{\"alg\":\"hs256\"}", payload);
    REJECT_MADE("{\"alg\":\"HS256 \"}", payload);
    REJECT_MADE("{\"typ\":\"JWT\"}", payload);
    REJECT_MADE("{\"alg\":null}", payload);
    REJECT_MADE("{\"alg\":256}", payload);
    REJECT_MADE("{\"alg\":[\"HS256\"]}", payload);
    REJECT_MADE("{\"alg\":\"HS256\",\"alg\":\"none\"}", payload);
    REJECT_MADE("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", payload);
    /* The header must be a JSON object. */
    REJECT_MADE("[\"HS256\"]", payload);
    REJECT_MADE("\"HS256\"", payload);
    REJECT_MADE("{\"alg\":\"HS256\"", payload);
    REJECT_MADE("not json", payload);
    REJECT_MADE("{\"alg\":\"HS\xff\"}", payload);

    /* An HS512 signature of the right bytes is still not HS256. */
    const char *h = "{\"alg\":\"HS512\"}";
    char *hb = proto_b64url_encode(h, strlen(h));
    char *pb = proto_b64url_encode(payload, strlen(payload));
    char si[1024];
    snprintf(si, sizeof si, "%s.%s", hb, pb);
    unsigned char mac[64];
    unsigned int maclen = 0;
    HMAC(EVP_sha512(), KEY, (int)strlen(KEY), (unsigned char *)si, strlen(si), mac, &maclen);
    char *sb = proto_b64url_encode(mac, maclen);
    char tok[2048];
    snprintf(tok, sizeof tok, "%s.%s", si, sb);
    REJECT(tok);
    free(hb);
    free(pb);
    free(sb);
}

static void test_signature(void)
{
    const char *payload = "{" BASE "," EXP "}";
    char *t = make_sig("another key", HS256, payload, NULL);
    REJECT(t);
    free(t);
    t = make_sig(KEY, HS256, payload, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    REJECT(t);
    free(t);
    /* Too short, too long, not base64url, padded forms of a wrong one. */
    t = make_sig(KEY, HS256, payload, "AAAA");
    REJECT(t);
    free(t);
    char *good = make(HS256, payload);
    OK(good);
    size_t n = strlen(good);
    char *buf = malloc(n + 8);
    memcpy(buf, good, n - 1);
    buf[n - 1] = '\0'; /* one character short */
    REJECT(buf);
    snprintf(buf, n + 8, "%sA", good); /* one character long */
    REJECT(buf);
    snprintf(buf, n + 8, "%s", good);
    buf[n - 5] = '+'; /* base64, not base64url */
    REJECT(buf);
    snprintf(buf, n + 8, "%s", good);
    buf[n - 5] = '*';
    REJECT(buf);
    /* Flip every character of the signature in turn. */
    const char *dot = strrchr(good, '.');
    for (size_t i = (size_t)(dot - good) + 1; i < n; i++) {
        snprintf(buf, n + 8, "%s", good);
        buf[i] = buf[i] == 'A' ? 'B' : 'A';
        REJECT(buf);
    }
    /* Every character of header and payload too. */
    for (size_t i = 0; i < (size_t)(dot - good); i++) {
        if (good[i] == '.')
            continue;
        snprintf(buf, n + 8, "%s", good);
        buf[i] = buf[i] == 'A' ? 'B' : 'A';
        REJECT(buf);
    }
    free(buf);
    free(good);
}

static void test_expiry(void)
{
    char p[512];
    snprintf(p, sizeof p, "{" BASE ",\"exp\":%" PRId64 "}", NOW - 31);
    REJECT_MADE(HS256, p);
    snprintf(p, sizeof p, "{" BASE ",\"exp\":%" PRId64 "}", NOW - 1000000);
    REJECT_MADE(HS256, p);
    snprintf(p, sizeof p, "{" BASE ",\"exp\":%" PRId64 "}", NOW - 30);
    OK_MADE(HS256, p);
    snprintf(p, sizeof p, "{" BASE ",\"exp\":%" PRId64 "}", NOW - 1);
    OK_MADE(HS256, p);
    snprintf(p, sizeof p, "{" BASE ",\"exp\":%" PRId64 "}", NOW);
    OK_MADE(HS256, p);
    /* Extremes do not overflow into acceptance or refusal. */
    OK_MADE(HS256, "{" BASE ",\"exp\":9223372036854775807}");
    REJECT_MADE(HS256, "{" BASE ",\"exp\":-9223372036854775808}");
    REJECT_MADE(HS256, "{" BASE ",\"exp\":0}");
    /* exp must be an integer. */
    REJECT_MADE(HS256, "{" BASE ",\"exp\":\"1700000100\"}");
    REJECT_MADE(HS256, "{" BASE ",\"exp\":1700000100.5}");
    REJECT_MADE(HS256, "{" BASE ",\"exp\":null}");
    REJECT_MADE(HS256, "{" BASE ",\"exp\":true}");
    /* iat optional, integer. */
    OK_MADE(HS256, "{" BASE "," EXP ",\"iat\":1699999000}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"iat\":\"x\"}");
    /* nbf honoured with the same leeway. */
    OK_MADE(HS256, "{" BASE "," EXP ",\"nbf\":1700000030}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"nbf\":1700000031}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"nbf\":\"soon\"}");
}

static void test_claims(void)
{
    /* Each required claim missing. */
    REJECT_MADE(HS256, "{\"name\":\"N\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"room\":\"r1\"," EXP "}");
    REJECT_MADE(HS256, "{" BASE "}");
    REJECT_MADE(HS256, "{}");
    /* Invalid values. */
    REJECT_MADE(HS256, "{\"sub\":\"a b\",\"name\":\"N\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"\",\"name\":\"N\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"a/b\",\"name\":\"N\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"a12345678901234567890123456789012345678901234567890123456789012345\","
                       "\"name\":\"N\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    OK_MADE(HS256, "{\"sub\":\"1234567890123456789012345678901234567890123456789012345678901234\","
                   "\"name\":\"N\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":42,\"name\":\"N\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"a\\nb\",\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":[\"N\"],\"room\":\"r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"room\":\"R1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"room\":\"-r1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"room\":\"r_1\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"room\":\"\",\"role\":\"delegate\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"room\":\"r1\",\"role\":\"admin\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"room\":\"r1\",\"role\":\"Moderator\"," EXP "}");
    REJECT_MADE(HS256, "{\"sub\":\"d1\",\"name\":\"N\",\"room\":\"r1\",\"role\":2," EXP "}");
    /* A duplicated claim is refused, not resolved either way. */
    REJECT_MADE(HS256, "{" BASE ",\"role\":\"moderator\"," EXP "}");
    /* Optional claims. */
    OK_MADE(HS256, "{" BASE "," EXP ",\"delegation\":\"France\",\"category\":\"member_state\"}");
    OK_MADE(HS256, "{" BASE "," EXP ",\"delegation\":null,\"category\":null}");
    OK_MADE(HS256, "{" BASE "," EXP ",\"extra\":{\"nested\":[1,2,3]}}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"category\":\"ngo\"}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"category\":\"Member_State\"}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"category\":3}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"delegation\":\"\"}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"delegation\":5}");
    /* region (contract 9.3): 1..40 characters, null is absent */
    OK_MADE(HS256, "{" BASE "," EXP ",\"region\":\"African States\"}");
    OK_MADE(HS256, "{" BASE "," EXP ",\"region\":null}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"region\":\"\"}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"region\":7}");
    REJECT_MADE(HS256, "{" BASE "," EXP ",\"region\":\"12345678901234567890123456789012345678901\"}");
    /* The payload must be a JSON object. */
    REJECT_MADE(HS256, "[1,2]");
    REJECT_MADE(HS256, "\"sub\"");
    REJECT_MADE(HS256, "{" BASE "," EXP);
    REJECT_MADE(HS256, "");
}

static void test_structure(void)
{
    char *good = make(HS256, "{" BASE "," EXP "}");
    const char *dot1 = strchr(good, '.');
    const char *dot2 = strrchr(good, '.');
    char buf[8192];

    REJECT("");
    REJECT(".");
    REJECT("..");
    REJECT("...");
    REJECT("abc");
    REJECT("a.b");
    REJECT("a.b.c.d");
    /* Two segments of a good token, four segments, empty ones. */
    snprintf(buf, sizeof buf, "%.*s", (int)(dot2 - good), good);
    REJECT(buf);
    snprintf(buf, sizeof buf, "%s.", good);
    REJECT(buf);
    snprintf(buf, sizeof buf, "%s.AAAA", good);
    REJECT(buf);
    snprintf(buf, sizeof buf, ".%s", dot1 + 1);
    REJECT(buf);
    snprintf(buf, sizeof buf, "%.*s..%s", (int)(dot1 - good), good, dot2 + 1);
    REJECT(buf);
    /* Bad base64url in the header and payload. */
    snprintf(buf, sizeof buf, "%s", good);
    buf[2] = '+';
    REJECT(buf);
    snprintf(buf, sizeof buf, "%s", good);
    buf[dot1 - good + 3] = '/';
    REJECT(buf);
    snprintf(buf, sizeof buf, "%s", good);
    buf[dot1 - good + 3] = '=';
    REJECT(buf);
    snprintf(buf, sizeof buf, "%s", good);
    buf[dot1 - good + 3] = ' ';
    REJECT(buf);
    snprintf(buf, sizeof buf, "%s", good);
    buf[1] = '\x80';
    REJECT(buf);
    /* NULL token, missing key. */
    REJECT(NULL);
    expect_reject(NULL, good, NOW, __LINE__);
    expect_reject("", good, NOW, __LINE__);

    /* Oversized: refused by length whatever its content. */
    char *big = malloc(100001);
    memset(big, 'A', 100000);
    big[100000] = '\0';
    big[10] = '.';
    big[20] = '.';
    REJECT(big);
    const char *why = NULL;
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), big, NOW, NULL, &why), PROTO_ERR_UNAUTHORIZED);
    CHECK_STR(why, "token too long");
    free(big);
    /* A properly signed token just over the bound, with a long claim. */
    char payload[6000];
    snprintf(payload, sizeof payload, "{" BASE "," EXP ",\"pad\":\"%03000d\"}", 0);
    char *t = make(HS256, payload);
    CHECK(strlen(t) > 4096);
    REJECT(t);
    free(t);
    /* ... and just under it. */
    snprintf(payload, sizeof payload, "{" BASE "," EXP ",\"pad\":\"%02700d\"}", 0);
    t = make(HS256, payload);
    CHECK(strlen(t) <= 4096);
    OK(t);
    free(t);
    free(good);
}

static void b64_case(const char *raw, const char *enc)
{
    char *e = proto_b64url_encode(raw, strlen(raw));
    CHECK_STR(e, enc);
    free(e);
    size_t n = 99;
    char *d = proto_b64url_decode(enc, strlen(enc), &n);
    CHECK(d != NULL);
    CHECK_INT(n, strlen(raw));
    CHECK(d && memcmp(d, raw, n) == 0);
    free(d);
}

static void b64_bad(const char *enc)
{
    size_t n = 0;
    void *d = proto_b64url_decode(enc, strlen(enc), &n);
    if (d)
        fprintf(stderr, "b64 decode accepted \"%s\"\n", enc);
    CHECK(d == NULL);
    free(d);
}

static void b64_good(const char *enc, const char *raw)
{
    size_t n = 0;
    char *d = proto_b64url_decode(enc, strlen(enc), &n);
    CHECK(d != NULL);
    CHECK_INT(n, strlen(raw));
    CHECK(d && memcmp(d, raw, n) == 0);
    free(d);
}

static void test_b64(void)
{
    /* RFC 4648 section 10, without padding. */
    b64_case("", "");
    b64_case("f", "Zg");
    b64_case("fo", "Zm8");
    b64_case("foo", "Zm9v");
    b64_case("foob", "Zm9vYg");
    b64_case("fooba", "Zm9vYmE");
    b64_case("foobar", "Zm9vYmFy");
    /* The two url-safe characters. */
    unsigned char hi[3] = {0xfb, 0xff, 0xbf};
    char *e = proto_b64url_encode(hi, 3);
    CHECK_STR(e, "-_-_");
    free(e);
    /* Padding is optional but must be right when present. */
    b64_good("Zg==", "f");
    b64_good("Zm8=", "fo");
    b64_good("Zm9v", "foo");
    b64_bad("Zg=");
    b64_bad("Zg===");
    b64_bad("Zm8==");
    b64_bad("Zm9v=");
    b64_bad("Zm9v====");
    b64_bad("=");
    b64_bad("==");
    b64_bad("Z");
    b64_bad("Zm9vY");
    b64_bad("Z=g=");
    b64_bad("Zm+v");
    b64_bad("Zm/v");
    b64_bad("Zm9v\n");
    b64_bad(" Zm9v");
    /* Non-canonical trailing bits. */
    b64_bad("Zh");
    b64_bad("Zm9");
    b64_bad("Zm-");
    CHECK(proto_b64url_decode(NULL, 0, NULL) == NULL);
    /* len is honoured: bytes past it are never read. */
    size_t n = 0;
    char *d = proto_b64url_decode("Zm9vYmFy!!!", 4, &n);
    CHECK(d != NULL);
    CHECK_INT(n, 3);
    CHECK(d && memcmp(d, "foo", 3) == 0);
    free(d);

    /* Every length 0..300 over every byte value round-trips. */
    unsigned char raw[300];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof raw; len++) {
        char *enc = proto_b64url_encode(raw, len);
        CHECK(enc != NULL);
        CHECK_INT(strlen(enc), (len * 4 + 2) / 3);
        CHECK(strpbrk(enc, "+/=") == NULL);
        unsigned char *dec = proto_b64url_decode(enc, strlen(enc), &n);
        CHECK(dec != NULL);
        CHECK_INT(n, len);
        CHECK(dec && memcmp(dec, raw, len) == 0);
        free(dec);
        free(enc);
    }
}

/* jti: optional, [A-Za-z0-9._-]{1,64}, kept in the claims and minted. */
static void test_jti(void)
{
    struct proto_claims c;
    const char *why = NULL;
    char *tok = make(HS256, "{" BASE ",\"jti\":\"inv-7.a_B\"," EXP "}");
    memset(&c, 0, sizeof c);
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, &c, &why), PROTO_OK);
    CHECK_STR(c.jti, "inv-7.a_B");
    CHECK_STR(c.kid, "");
    free(tok);
    static const char *bad[] = {
        "\"jti\":\"\"", "\"jti\":\"a b\"", "\"jti\":\"a/b\"", "\"jti\":7", "\"jti\":\"\u00e9\"",
        "\"jti\":\"0123456789012345678901234567890123456789012345678901234567890123x\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char payload[512];
        snprintf(payload, sizeof payload, "{" BASE ",%s," EXP "}", bad[i]);
        tok = make(HS256, payload);
        why = NULL;
        CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, &c, &why), PROTO_ERR_UNAUTHORIZED);
        CHECK_STR(why, "invalid jti");
        free(tok);
    }
    /* 64 characters is the most; null is absent. */
    tok = make(HS256, "{" BASE ",\"jti\":\"0123456789012345678901234567890123456789012345678901234567890123\"," EXP "}");
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, &c, &why), PROTO_OK);
    CHECK_INT(strlen(c.jti), 64);
    free(tok);
    tok = make(HS256, "{" BASE ",\"jti\":null," EXP "}");
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, &c, &why), PROTO_OK);
    CHECK_STR(c.jti, "");
    free(tok);

    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "d1");
    snprintf(c.name, sizeof c.name, "D");
    snprintf(c.room, sizeof c.room, "r1");
    c.role = PROTO_ROLE_DELEGATE;
    c.category = PROTO_CAT_NONE;
    c.exp = NOW + 60;
    snprintf(c.jti, sizeof c.jti, "j1");
    tok = proto_jwt_mint(KEY, strlen(KEY), &c);
    CHECK(tok != NULL);
    struct proto_claims back;
    CHECK_INT(proto_jwt_verify(KEY, strlen(KEY), tok, NOW, &back, &why), PROTO_OK);
    CHECK_STR(back.jti, "j1");
    free(tok);
    snprintf(c.jti, sizeof c.jti, "no spaces");
    CHECK(proto_jwt_mint(KEY, strlen(KEY), &c) == NULL);
}

static struct proto_keyring *ring(const char *text, const char *want_why)
{
    char why[200];
    struct proto_keyring *r = proto_keyring_parse(text, strlen(text), why, sizeof why);
    if (want_why) {
        CHECK(r == NULL);
        CHECK_STR(why, want_why);
        /* A reason never quotes a secret. */
        CHECK(strstr(why, "0123456789abcdef") == NULL);
    }
    return r;
}

static void test_keyring_parse(void)
{
    struct proto_keyring *r = ring("0123456789abcdef\n", NULL);
    CHECK(r && r->n == 1);
    if (r) {
        CHECK_STR(r->keys[0].kid, "");
        CHECK_STR(r->keys[0].secret, "0123456789abcdef");
        CHECK_INT(r->keys[0].len, 16);
    }
    proto_keyring_free(r);

    r = ring("# rotated 2026-12-06\n\nk2  secret-two-0123456789\r\n\tk1 secret-one-0123456789  \n", NULL);
    CHECK(r && r->n == 2);
    if (r) {
        CHECK_STR(r->keys[0].kid, "k2");
        CHECK_STR(r->keys[0].secret, "secret-two-0123456789");
        CHECK_STR(r->keys[1].kid, "k1");
        CHECK_STR(r->keys[1].secret, "secret-one-0123456789");
        CHECK(proto_keyring_find(r, NULL) == &r->keys[0]);
        CHECK(proto_keyring_find(r, "") == &r->keys[0]);
        CHECK(proto_keyring_find(r, "k1") == &r->keys[1]);
        CHECK(proto_keyring_find(r, "k3") == NULL);
    }
    proto_keyring_free(r);

    /* One "KID SECRET" line is a key with an id. */
    r = ring("main 0123456789abcdef0", NULL);
    CHECK(r && r->n == 1 && !strcmp(r->keys[0].kid, "main"));
    proto_keyring_free(r);

    ring("", "no key in the file");
    ring("# only a comment\n\n", "no key in the file");
    ring("short", "line 1: secret shorter than 16 characters");
    ring("k1 0123456789abcdef\n0123456789abcdef0\n",
         "line 2: want KID SECRET (one secret without an id only in a one-line file)");
    ring("k1 0123456789abcdef\nk1 0123456789abcdefX\n", "line 2: key id used twice");
    ring("k/1 0123456789abcdef\n", "line 1: key id must be 1..64 of [A-Za-z0-9._-]");
    ring("k1 0123456789abcdef\nk2 short\n", "line 2: secret shorter than 16 characters");
    ring("k1 0123456789ab\001cdef\n", "line 1: control character");
    char big[80 * 40];
    big[0] = '\0';
    for (int i = 0; i < 33; i++) {
        char line[64];
        snprintf(line, sizeof line, "k%d 0123456789abcdef%d\n", i, i);
        strcat(big, line);
    }
    ring(big, "more than 32 keys");
    char nul[] = "0123456789abcdef\0x";
    char why[100];
    CHECK(proto_keyring_parse(nul, sizeof nul - 1, why, sizeof why) == NULL);
    CHECK_STR(why, "the file holds a NUL byte");
}

static struct proto_claims claims_for(const char *sub)
{
    struct proto_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.name, sizeof c.name, "N");
    snprintf(c.room, sizeof c.room, "r1");
    c.role = PROTO_ROLE_DELEGATE;
    c.category = PROTO_CAT_NONE;
    c.exp = NOW + 600;
    return c;
}

static void test_keyring_verify(void)
{
    const char *why;
    struct proto_claims c = claims_for("d1"), out;
    struct proto_keyring *old = ring("old 0123456789abcdef-old", NULL);
    struct proto_keyring *both = ring("new 0123456789abcdef-new\nold 0123456789abcdef-old", NULL);
    struct proto_keyring *fresh = ring("new 0123456789abcdef-new", NULL);
    struct proto_keyring *legacy = ring("0123456789abcdef-old", NULL);
    CHECK(old && both && fresh && legacy);

    /* Minted with the first key, its kid in the header. */
    char *t_old = proto_jwt_mint_ring(old, &c);
    char *t_new = proto_jwt_mint_ring(both, &c);
    CHECK(t_old && t_new);
    CHECK_INT(proto_jwt_verify_ring(old, t_old, NOW, &out, &why), PROTO_OK);
    CHECK_STR(out.kid, "old");
    CHECK_INT(proto_jwt_verify_ring(both, t_old, NOW, &out, &why), PROTO_OK);
    CHECK_STR(out.kid, "old");
    CHECK_INT(proto_jwt_verify_ring(both, t_new, NOW, &out, &why), PROTO_OK);
    CHECK_STR(out.kid, "new");
    /* The old key removed: its tokens are refused. */
    CHECK_INT(proto_jwt_verify_ring(fresh, t_old, NOW, &out, &why), PROTO_ERR_UNAUTHORIZED);
    CHECK_STR(why, "unknown kid");
    CHECK_INT(proto_jwt_verify_ring(fresh, t_new, NOW, &out, &why), PROTO_OK);
    /* A kid is checked against that key only: the same kid with another
     * secret is a bad signature, not a try of every key. */
    struct proto_keyring *swapped = ring("old 0123456789abcdef-new\nnew 0123456789abcdef-old", NULL);
    CHECK_INT(proto_jwt_verify_ring(swapped, t_old, NOW, &out, &why), PROTO_ERR_UNAUTHORIZED);
    CHECK_STR(why, "bad signature");
    proto_keyring_free(swapped);

    /* Without kid: the first line. A one-secret file mints without kid. */
    char *t_plain = proto_jwt_mint(KEY, strlen(KEY), &c);
    struct proto_keyring *first = ring("a " KEY "\nb 0123456789abcdef-other", NULL);
    struct proto_keyring *second = ring("b 0123456789abcdef-other\na " KEY, NULL);
    CHECK_INT(proto_jwt_verify_ring(first, t_plain, NOW, &out, &why), PROTO_OK);
    CHECK_STR(out.kid, "");
    CHECK_INT(proto_jwt_verify_ring(second, t_plain, NOW, &out, &why), PROTO_ERR_UNAUTHORIZED);
    char *t_legacy = proto_jwt_mint_ring(legacy, &c);
    CHECK(t_legacy && strchr(t_legacy, '.'));
    size_t hl = (size_t)(strchr(t_legacy, '.') - t_legacy);
    size_t n = 0;
    char *hdr = proto_b64url_decode(t_legacy, hl, &n);
    CHECK(hdr && n == strlen("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") &&
          memcmp(hdr, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", n) == 0);
    free(hdr);
    /* A header kid that is no id is refused, whatever the keys. */
    char *t_badkid = make_sig("0123456789abcdef-old", "{\"alg\":\"HS256\",\"kid\":\"a b\"}",
                              "{" BASE "," EXP "}", NULL);
    CHECK_INT(proto_jwt_verify_ring(legacy, t_badkid, NOW, &out, &why), PROTO_ERR_UNAUTHORIZED);
    CHECK_STR(why, "invalid kid");
    struct proto_keyring *single = proto_keyring_single(KEY, strlen(KEY));
    CHECK_INT(proto_jwt_verify_ring(single, t_plain, NOW, &out, &why), PROTO_OK);

    free(t_badkid);
    free(t_legacy);
    free(t_plain);
    free(t_old);
    free(t_new);
    proto_keyring_free(single);
    proto_keyring_free(first);
    proto_keyring_free(second);
    proto_keyring_free(old);
    proto_keyring_free(both);
    proto_keyring_free(fresh);
    proto_keyring_free(legacy);
}

int main(void)
{
    test_jti();
    test_keyring_parse();
    test_keyring_verify();
    test_known_answer();
    test_round_trip();
    test_alg();
    test_signature();
    test_expiry();
    test_claims();
    test_structure();
    test_b64();
    return check_done();
}
