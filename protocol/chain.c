/*
 * chain.c: the record's hash chain and its verification (chain.h).
 *
 * The canonical form is jansson's own output with fixed flags, so the
 * server and the verifier cannot disagree about escaping; a third-party
 * verifier follows the rules spelled out in the contract (section 9.6),
 * which are exactly what jansson 2.14 writes with these flags.
 */
#include "chain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

/* Room ids are at most 64 characters (proto.h); a longer one hashes as
 * if empty, which no record of a real room matches. */
#define PROTO_CHAIN_ROOM_MAX 256
#define CANON_FLAGS (JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

char *chain_canonical(const json_t *event, size_t *len)
{
    json_t *seq = json_object_get(event, "seq"), *ts = json_object_get(event, "ts");
    json_t *name = json_object_get(event, "name"), *actor = json_object_get(event, "actor");
    json_t *data = json_object_get(event, "data");
    char *s = NULL;
    /* An absent actor reads as null, as the room logic reads events. */
    if (!json_is_object(event) || !json_is_integer(seq) || !json_is_integer(ts) ||
        !json_is_string(name) || !(!actor || json_is_string(actor) || json_is_null(actor)) ||
        !json_is_object(data))
        return NULL;
    json_t *o = json_pack("{s:O, s:O, s:O, s:o, s:O}", "seq", seq, "ts", ts, "name", name,
                          "actor", actor ? json_incref(actor) : json_null(), "data", data);
    if (o)
        s = json_dumps(o, CANON_FLAGS);
    json_decref(o);
    if (s && len)
        *len = strlen(s);
    return s;
}

/* SHA-256 of a[0..an) followed by b[0..bn), as hex. An allocation failure
 * inside OpenSSL (the only way this fails) leaves a hash of zeros, which
 * matches nothing. */
static void sha256_hex2(const void *a, size_t an, const void *b, size_t bn, char out[CHAIN_HEX_BUF])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    memset(md, 0, sizeof md);
    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(c, a, an) != 1 ||
        EVP_DigestUpdate(c, b, bn) != 1 || EVP_DigestFinal_ex(c, md, &mdlen) != 1)
        memset(md, 0, sizeof md);
    EVP_MD_CTX_free(c);
    to_hex(md, 32, out);
}

void chain_h0(const char *room, const char *epoch, char out[CHAIN_HEX_BUF])
{
    char head[16 + PROTO_CHAIN_ROOM_MAX];
    int n = snprintf(head, sizeof head, "rostrum record %s ", room);
    if (n < 0 || (size_t)n >= sizeof head)
        n = 0; /* room ids are at most 64 characters; nothing longer is a room */
    sha256_hex2(head, (size_t)n, epoch, strlen(epoch), out);
}

void chain_next_text(const char *prev, const char *canon, size_t len, char out[CHAIN_HEX_BUF])
{
    sha256_hex2(prev, 64, canon, len, out);
}

int chain_next(const char *prev, const json_t *event, char out[CHAIN_HEX_BUF])
{
    size_t len = 0;
    char *canon = chain_canonical(event, &len);
    if (!canon)
        return -1;
    chain_next_text(prev, canon, len, out);
    free(canon);
    return 0;
}

int chain_is_hex(const char *s)
{
    size_t i;
    for (i = 0; s && s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s && i == 64;
}

char *chain_signed_text(const char *room, const char *epoch, uint64_t last_seq, const char *head)
{
    size_t n = strlen(room) + strlen(epoch) + strlen(head) + 64;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "rostrum record %s %s %" PRIu64 " %s", room, epoch, last_seq, head);
    return s;
}

/* Standard base64 (with or without padding) into out[0..cap); returns the
 * byte count or -1. */
static long b64_decode(const char *s, unsigned char *out, size_t cap)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0, i;
    for (i = 0; s[i] && s[i] != '='; i++) {
        const char *p = strchr(alpha, s[i]);
        if (!p || !s[i])
            return -1;
        acc = (acc << 6) | (unsigned)(p - alpha);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    for (; s[i] == '='; i++)
        ;
    return s[i] ? -1 : (long)n;
}

#if defined(__GNUC__)
static enum chain_verdict say(char *why, size_t whysz, enum chain_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif

static enum chain_verdict say(char *why, size_t whysz, enum chain_verdict v, const char *fmt, ...)
{
    va_list ap;
    if (why && whysz) {
        va_start(ap, fmt);
        vsnprintf(why, whysz, fmt, ap);
        va_end(ap);
    }
    return v;
}

/* Ed25519 check of sig_b64 over text with a PEM public key. */
static enum chain_verdict check_signature(const char *pem, const char *sig_b64, const char *text,
                                          char *why, size_t whysz)
{
    unsigned char sig[128];
    enum chain_verdict v = CHAIN_MISMATCH;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *ctx = NULL;
    BIO *bio = BIO_new_mem_buf(pem, -1);
    long n = b64_decode(sig_b64, sig, sizeof sig);
    if (!bio || !(key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL))) {
        v = say(why, whysz, CHAIN_MALFORMED, "the public key is not a PEM public key");
        goto done;
    }
    if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
        v = say(why, whysz, CHAIN_MALFORMED, "the public key is not an Ed25519 key");
        goto done;
    }
    if (n != 64) {
        v = say(why, whysz, CHAIN_MISMATCH, "the signature is not a base64 Ed25519 signature");
        goto done;
    }
    if (!(ctx = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1) {
        v = say(why, whysz, CHAIN_MALFORMED, "cannot check signatures (OpenSSL)");
        goto done;
    }
    if (EVP_DigestVerify(ctx, sig, (size_t)n, (const unsigned char *)text, strlen(text)) != 1) {
        v = say(why, whysz, CHAIN_MISMATCH, "the signature does not match the record");
        goto done;
    }
    v = CHAIN_OK;
done:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return v;
}

enum chain_verdict chain_verify_record(const json_t *record, const char *public_key_pem,
                                       int *signed_out, char *why, size_t whysz)
{
    const json_t *chain = json_object_get(record, "chain");
    const json_t *events = json_object_get(record, "events");
    const char *room = json_string_value(json_object_get(json_object_get(record, "room"), "id"));
    const char *epoch = json_string_value(json_object_get(chain, "epoch"));
    const char *head = json_string_value(json_object_get(chain, "head"));
    const json_t *last = json_object_get(chain, "last_seq");
    const char *sig = json_string_value(json_object_get(record, "signature"));
    const char *own_key = json_string_value(json_object_get(record, "public_key"));
    char h[CHAIN_HEX_BUF];
    size_t n = json_array_size(events);
    char *text = NULL;
    enum chain_verdict v;

    if (signed_out)
        *signed_out = 0;
    if (!json_is_object(record) || !room || !epoch || !json_is_array(events))
        return say(why, whysz, CHAIN_MALFORMED,
                   "not a JSON record (room.id, chain.epoch and events are required)");
    if (!chain_is_hex(head) || !json_is_integer(last) || json_integer_value(last) < 0)
        return say(why, whysz, CHAIN_MALFORMED, "chain.head or chain.last_seq is missing or malformed");
    chain_h0(room, epoch, h);
    for (size_t i = 0; i < n; i++) {
        const json_t *ev = json_array_get(events, i);
        const json_t *sj = json_object_get(ev, "seq");
        const char *stored = json_string_value(json_object_get(ev, "hash"));
        char next[CHAIN_HEX_BUF];
        if (!json_is_integer(sj))
            return say(why, whysz, CHAIN_MISMATCH, "event %zu of the record has no seq", i + 1);
        json_int_t seq = json_integer_value(sj);
        if (seq != (json_int_t)i + 1)
            return say(why, whysz, CHAIN_MISMATCH,
                       "event seq %" JSON_INTEGER_FORMAT " is at position %zu: an event is "
                       "missing or out of order before it",
                       seq, i + 1);
        if (chain_next(h, ev, next) != 0)
            return say(why, whysz, CHAIN_MISMATCH,
                       "event seq %" JSON_INTEGER_FORMAT " is malformed (seq, ts, name, actor, data)",
                       seq);
        if (!stored || strcmp(stored, next) != 0)
            return say(why, whysz, CHAIN_MISMATCH,
                       "event seq %" JSON_INTEGER_FORMAT " does not match its hash: it was "
                       "changed, or an event before it was",
                       seq);
        memcpy(h, next, sizeof h);
    }
    if ((json_int_t)n != json_integer_value(last))
        return say(why, whysz, CHAIN_MISMATCH,
                   "the record holds %zu events but chain.last_seq is %" JSON_INTEGER_FORMAT
                   ": events are missing at the end",
                   n, json_integer_value(last));
    if (strcmp(h, head) != 0)
        return say(why, whysz, CHAIN_MISMATCH, "chain.head does not match the events");
    if (!sig) {
        if (public_key_pem)
            return say(why, whysz, CHAIN_MISMATCH, "the record is not signed");
        return say(why, whysz, CHAIN_OK, "the chain of %zu events holds; the record is not signed",
                   n);
    }
    if (!public_key_pem && !own_key)
        return say(why, whysz, CHAIN_MALFORMED, "the record is signed but carries no public_key");
    text = chain_signed_text(room, epoch, (uint64_t)n, head);
    if (!text)
        return say(why, whysz, CHAIN_MALFORMED, "out of memory");
    v = check_signature(public_key_pem ? public_key_pem : own_key, sig, text, why, whysz);
    free(text);
    if (v != CHAIN_OK)
        return v;
    if (signed_out)
        *signed_out = 1;
    return say(why, whysz, CHAIN_OK, "the chain of %zu events and the signature hold (head %.16s)",
               n, head);
}
