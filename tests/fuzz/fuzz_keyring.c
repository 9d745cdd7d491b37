/*
 * fuzz_keyring: the secret file's text (protocol/keyring.c,
 * proto_keyring_parse), as an operator writes it and SIGHUP rereads it.
 *
 * Input: the file's bytes (NULs included: the parser must refuse them).
 * Checked when accepted: 1..PROTO_MAX_KEYS keys, each secret
 * PROTO_MIN_SECRET..PROTO_MAX_SECRET bytes with no NUL, no control
 * character but a tab and no blank at either end; a one-key file may have
 * no kid, otherwise every kid is a valid id and none twice; find(NULL) and
 * find("") are the first key, find(kid) that key; a token minted with the
 * ring names the first kid, verifies with the ring to the same claims and
 * kid, and does not verify once that key is gone (a ring of the other keys,
 * or of the first key under another kid). Checked when refused: the reason
 * is one of the parser's fixed messages, maybe after "line N: ", so it can
 * quote nothing of the file.
 */
#include <string.h>

#include "fuzz.h"
#include "proto.h"

static bool known_reason(const char *why)
{
    static const char *const fixed[] = {
        "control character", "key id longer than 64 characters",
        "key id must be 1..64 of [A-Za-z0-9._-]", "key id used twice", "no key in the file",
        "out of memory", "secret longer than 1024 characters",
        "secret shorter than 16 characters", "the file holds a NUL byte",
        "want KID SECRET (one secret without an id only in a one-line file)", "more than 32 keys",
    };
    if (strncmp(why, "line ", 5) == 0) {
        const char *p = why + 5;
        if (*p < '1' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
        if (strncmp(p, ": ", 2) != 0)
            return false;
        why = p + 2;
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(why, fixed[i]) == 0)
            return true;
    return false;
}

static struct proto_claims claims(void)
{
    struct proto_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "fuzz-sub");
    snprintf(c.name, sizeof c.name, "Fuzz");
    snprintf(c.room, sizeof c.room, "fuzz-room");
    snprintf(c.jti, sizeof c.jti, "jti-1");
    c.role = PROTO_ROLE_DELEGATE;
    c.category = PROTO_CAT_NONE;
    c.exp = FUZZ_NOW_S + 600;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[200];
    if (size > 8192)
        return 0;
    struct proto_keyring *r = proto_keyring_parse((const char *)data, size, why, sizeof why);
    if (!r) {
        FUZZ_CHECK(known_reason(why), "reason: '%s'", why);
        return 0;
    }
    FUZZ_CHECK(r->n >= 1 && r->n <= PROTO_MAX_KEYS, "%zu keys", r->n);
    for (size_t i = 0; i < r->n; i++) {
        const struct proto_key *k = &r->keys[i];
        FUZZ_CHECK(k->len >= PROTO_MIN_SECRET && k->len <= PROTO_MAX_SECRET &&
                       strlen(k->secret) == k->len,
                   "key %zu: length %zu", i, k->len);
        FUZZ_CHECK(k->secret[0] != ' ' && k->secret[0] != '\t' && k->secret[k->len - 1] != ' ' &&
                       k->secret[k->len - 1] != '\t',
                   "key %zu: blank at an end", i);
        for (size_t b = 0; b < k->len; b++)
            FUZZ_CHECK((unsigned char)k->secret[b] >= 0x20 || k->secret[b] == '\t',
                       "key %zu: control byte", i);
        if (r->n > 1 || k->kid[0])
            FUZZ_CHECK(proto_valid_jti(k->kid), "key %zu: kid '%s'", i, k->kid);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(r->keys[j].kid, k->kid) != 0, "kid '%s' twice", k->kid);
        FUZZ_CHECK(proto_keyring_find(r, k->kid[0] ? k->kid : NULL) == (k->kid[0] ? k : &r->keys[0]),
                   "find('%s')", k->kid);
    }
    FUZZ_CHECK(proto_keyring_find(r, NULL) == &r->keys[0] && proto_keyring_find(r, "") == &r->keys[0],
               "find(first)");

    struct proto_claims in = claims(), out;
    const char *reason = NULL;
    char *tok = proto_jwt_mint_ring(r, &in);
    FUZZ_CHECK(tok, "mint with the first key failed");
    FUZZ_CHECK(proto_jwt_verify_ring(r, tok, FUZZ_NOW_S, &out, &reason) == PROTO_OK,
               "the ring refuses its own token: %s", reason);
    FUZZ_CHECK(strcmp(out.kid, r->keys[0].kid) == 0 && strcmp(out.jti, "jti-1") == 0 &&
                   strcmp(out.sub, in.sub) == 0,
               "claims changed");
    /* The first key removed: the others do not take its tokens. */
    if (r->n > 1) {
        struct proto_keyring rest = {r->n - 1, r->keys + 1};
        FUZZ_CHECK(proto_jwt_verify_ring(&rest, tok, FUZZ_NOW_S, &out, &reason) != PROTO_OK,
                   "a token of a removed key verifies");
    }
    /* The same secret under another id is another key. */
    if (r->keys[0].kid[0]) {
        struct proto_key other = r->keys[0];
        snprintf(other.kid, sizeof other.kid, "%s", strcmp(r->keys[0].kid, "x") ? "x" : "y");
        struct proto_keyring one = {1, &other};
        FUZZ_CHECK(proto_jwt_verify_ring(&one, tok, FUZZ_NOW_S, &out, &reason) != PROTO_OK,
                   "a kid verified under another id");
    }
    free(tok);
    proto_keyring_free(r);
    return 0;
}
