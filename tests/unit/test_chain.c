/*
 * test_chain: the record's hash chain (contract section 9.6): the canonical
 * JSON against a text written by hand from the contract's escaping rules,
 * h_0 and h_1 against values computed outside (sha256sum / Python's
 * hashlib), and chain_verify_record() on a record that holds, with one
 * character changed, an event dropped, two swapped, the head or the
 * signature altered, or another key.
 */
#include "chain.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "check.h"

static const char canon_want[] =
    "{\"actor\":null,\"data\":{\"b\":[1,-2,true,false,null],\"e\\u00E9\":\"\\\"\\\\/\\b\\f\\n\\r"
    "\\t\\u0001\x7f\\u00E9\\u4E2D\\uD83D\\uDE00\",\"z\":{}},\"name\":\"message\",\"seq\":1,"
    "\"ts\":1783000000000}";

static json_t *tricky_event(void)
{
    /* keys out of order, extra members the canonical form leaves out */
    return json_pack("{s:s, s:I, s:{s:{}, s:s, s:[i,i,b,b,n]}, s:n, s:s, s:I, s:{}, s:s}", "type",
                     "event", "ts", (json_int_t)1783000000000, "data", "z", "e\xc3\xa9",
                     "\"\\/\b\f\n\r\t\x01\x7f\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", "b", 1, -2, 1, 0,
                     "actor", "name", "message", "seq", (json_int_t)1, "state", "hash", "ignored");
}

static void test_canonical(void)
{
    json_t *e = tricky_event();
    size_t len = 0;
    char *c = chain_canonical(e, &len);
    CHECK_STR(c, canon_want);
    CHECK_INT(len, strlen(canon_want));
    free(c);

    char h[CHAIN_HEX_BUF];
    chain_h0("closing-discussion", "k3v9q2", h);
    CHECK_STR(h, "e3f9cf2fbeb632cdccd3d50c3dee12e5044cd48f1caf3397133f076d54f8a2c2");
    CHECK(chain_next(h, e, h) == 0);
    CHECK_STR(h, "49c0d411503a0bf574b40c1c12d3c401ec056b24d6da8c1a98f3248f07fad97f");
    CHECK(chain_is_hex(h));
    CHECK(!chain_is_hex("49c0"));
    CHECK(!chain_is_hex("49C0D411503A0BF574B40C1C12D3C401EC056B24D6DA8C1A98F3248F07FAD97F"));
    CHECK(!chain_is_hex(NULL));

    /* no canonical form without the five members of the right types */
    json_object_set_new(e, "seq", json_string("1"));
    CHECK(chain_canonical(e, NULL) == NULL);
    CHECK(chain_next(h, e, h) == -1);
    json_object_set_new(e, "seq", json_integer(1));
    json_object_set_new(e, "data", json_pack("{s:{}, s:s, s:[i,i,b,b,n]}", "z", "e\xc3\xa9",
                                             "\"\\/\b\f\n\r\t\x01\x7f\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80",
                                             "b", 1, -2, 1, 0));
    json_object_del(e, "actor");
    c = chain_canonical(e, NULL); /* absent reads as null */
    CHECK_STR(c, canon_want);
    free(c);
    json_object_set_new(e, "actor", json_integer(3));
    CHECK(chain_canonical(e, NULL) == NULL);
    json_object_set_new(e, "actor", json_string("chair"));
    json_object_set_new(e, "data", json_array());
    CHECK(chain_canonical(e, NULL) == NULL);
    CHECK(chain_canonical(json_array_get(e, 0), NULL) == NULL);
    json_decref(e);

    char *t = chain_signed_text("r1", "ep", 17, "ab");
    CHECK_STR(t, "rostrum record r1 ep 17 ab");
    free(t);
}

/* A record of n message events, chained and (with key) signed. */
static json_t *make_record(int n, EVP_PKEY *key)
{
    char h[CHAIN_HEX_BUF];
    json_t *evs = json_array();
    chain_h0("r1", "ep", h);
    for (int i = 1; i <= n; i++) {
        json_t *e = json_pack("{s:s, s:i, s:I, s:s, s:s, s:{s:s, s:s}, s:{}}", "type", "event",
                              "seq", i, "ts", (json_int_t)(1783000000000 + i), "name", "message",
                              "actor", "fr", "data", "text", "bonjour", "kind", "chat", "state");
        chain_next(h, e, h);
        json_object_set_new(e, "hash", json_string(h));
        json_array_append_new(evs, e);
    }
    json_t *rec = json_pack("{s:{s:s, s:s}, s:o, s:{s:s, s:s, s:i, s:i, s:s}}", "room", "id", "r1",
                            "title", "T", "events", evs, "chain", "algorithm", "sha256", "epoch",
                            "ep", "first_seq", n ? 1 : 0, "last_seq", n, "head", h);
    if (key) {
        char *text = chain_signed_text("r1", "ep", (uint64_t)n, h);
        unsigned char sig[64];
        size_t sl = sizeof sig;
        char b64[100];
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestSignInit(ctx, NULL, NULL, NULL, key);
        EVP_DigestSign(ctx, sig, &sl, (unsigned char *)text, strlen(text));
        EVP_MD_CTX_free(ctx);
        EVP_EncodeBlock((unsigned char *)b64, sig, (int)sl);
        json_object_set_new(rec, "signature", json_string(b64));
        free(text);
    }
    return rec;
}

static char *pub_pem(EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL, *out;
    PEM_write_bio_PUBKEY(b, key);
    long n = BIO_get_mem_data(b, &p);
    out = strndup(p, (size_t)n);
    BIO_free(b);
    return out;
}

static enum chain_verdict verify(json_t *rec, const char *pem, char *why)
{
    int sig = 0;
    return chain_verify_record(rec, pem, &sig, why, 300);
}

static void test_verify(void)
{
    char why[300];
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char *pem = pub_pem(key), *other_pem = pub_pem(other);
    json_t *rec;

    /* unsigned: the chain alone */
    rec = make_record(5, NULL);
    CHECK_INT(verify(rec, NULL, why), CHAIN_OK);
    CHECK_STR(why, "the chain of 5 events holds; the record is not signed");
    CHECK_INT(verify(rec, pem, why), CHAIN_MISMATCH); /* a key was expected to sign it */
    json_decref(rec);

    /* empty */
    rec = make_record(0, key);
    CHECK_INT(verify(rec, pem, why), CHAIN_OK);
    json_decref(rec);

    rec = make_record(5, key);
    CHECK_INT(verify(rec, pem, why), CHAIN_OK);
    CHECK(strstr(why, "the chain of 5 events and the signature hold") == why);
    /* the record's own key */
    json_object_set_new(rec, "public_key", json_string(pem));
    CHECK_INT(verify(rec, NULL, why), CHAIN_OK);
    /* another key */
    CHECK_INT(verify(rec, other_pem, why), CHAIN_MISMATCH);
    CHECK_STR(why, "the signature does not match the record");
    json_decref(rec);

    /* one character */
    rec = make_record(5, key);
    json_object_set_new(json_object_get(json_array_get(json_object_get(rec, "events"), 2), "data"),
                        "text", json_string("bonjouR"));
    CHECK_INT(verify(rec, pem, why), CHAIN_MISMATCH);
    CHECK_STR(why, "event seq 3 does not match its hash: it was changed, or an event before it was");
    json_decref(rec);

    /* dropped */
    rec = make_record(5, key);
    json_array_remove(json_object_get(rec, "events"), 1);
    CHECK_INT(verify(rec, pem, why), CHAIN_MISMATCH);
    CHECK_STR(why, "event seq 3 is at position 2: an event is missing or out of order before it");
    json_decref(rec);
    rec = make_record(5, key);
    json_array_remove(json_object_get(rec, "events"), 4);
    CHECK_INT(verify(rec, pem, why), CHAIN_MISMATCH);
    CHECK(strstr(why, "events are missing at the end") != NULL);
    json_decref(rec);

    /* swapped */
    rec = make_record(5, key);
    json_t *evs = json_object_get(rec, "events");
    json_t *a = json_incref(json_array_get(evs, 1)), *b = json_incref(json_array_get(evs, 2));
    json_array_set_new(evs, 1, b);
    json_array_set_new(evs, 2, a);
    CHECK_INT(verify(rec, pem, why), CHAIN_MISMATCH);
    CHECK_STR(why, "event seq 3 is at position 2: an event is missing or out of order before it");
    json_decref(rec);

    /* head, signature */
    rec = make_record(5, key);
    json_object_set_new(json_object_get(rec, "chain"), "head",
                        json_string("0000000000000000000000000000000000000000000000000000000000000000"));
    CHECK_INT(verify(rec, pem, why), CHAIN_MISMATCH);
    CHECK_STR(why, "chain.head does not match the events");
    json_decref(rec);
    rec = make_record(5, key);
    char *sig = strdup(json_string_value(json_object_get(rec, "signature")));
    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    json_object_set_new(rec, "signature", json_string(sig));
    CHECK_INT(verify(rec, pem, why), CHAIN_MISMATCH);
    json_object_set_new(rec, "signature", json_string("not base64!"));
    CHECK_INT(verify(rec, pem, why), CHAIN_MISMATCH);
    CHECK_STR(why, "the signature is not a base64 Ed25519 signature");
    free(sig);
    CHECK_INT(verify(rec, NULL, why), CHAIN_MALFORMED); /* signed, but no key anywhere */
    CHECK_INT(verify(rec, "not a pem", why), CHAIN_MALFORMED);
    json_decref(rec);

    /* not records */
    json_t *junk = json_pack("{s:i}", "hello", 1);
    CHECK_INT(verify(junk, NULL, why), CHAIN_MALFORMED);
    json_decref(junk);
    junk = json_array();
    CHECK_INT(verify(junk, NULL, why), CHAIN_MALFORMED);
    json_decref(junk);

    free(pem);
    free(other_pem);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

int main(void)
{
    test_canonical();
    test_verify();
    return check_done();
}
