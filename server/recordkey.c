/* recordkey.c: the record-signing key (recordkey.h). */
#include "recordkey.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

struct recordkey {
    EVP_PKEY *key;
    char *public_pem;
};

void recordkey_free(struct recordkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->key);
    free(k->public_pem);
    free(k);
}

/* OpenSSL's default for an encrypted PEM is to prompt on the terminal:
 * a server must not wait for a passphrase nobody types. This answers "no
 * passphrase" and notes that one was asked for, to say so. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag;
    *(bool *)u = true;
    return 0;
}

struct recordkey *recordkey_load(const char *path, char *err, size_t errsz)
{
    bool encrypted = false;
    struct recordkey *k = NULL;
    char *text = NULL;
    BIO *in = NULL, *out = NULL;
    struct stat st;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "cannot open record key file %s: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "record key file %s is not a regular file", path);
        goto fail;
    }
    if (st.st_mode & S_IRWXO) {
        snprintf(err, errsz,
                 "record key file %s is accessible by other users (mode %03o); run: chmod 600 %s",
                 path, (unsigned)(st.st_mode & 0777), path);
        goto fail;
    }
    if (st.st_size > 4096) {
        snprintf(err, errsz, "record key file %s is larger than 4096 bytes", path);
        goto fail;
    }
    text = calloc(1, (size_t)st.st_size + 1);
    if (!text || fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(err, errsz, "cannot read record key file %s", path);
        goto fail;
    }
    k = calloc(1, sizeof *k);
    in = BIO_new_mem_buf(text, (int)st.st_size);
    if (k && in && !(k->key = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, &encrypted)) &&
        encrypted) {
        snprintf(err, errsz,
                 "record key file %s is encrypted with a passphrase, which the server cannot "
                 "ask for; keep it unencrypted with mode 600 (openssl pkey -in %s -out NEW)",
                 path, path);
        goto fail;
    }
    if (!k || !in || !k->key || EVP_PKEY_id(k->key) != EVP_PKEY_ED25519) {
        snprintf(err, errsz,
                 "record key file %s does not hold an Ed25519 private key in PEM "
                 "(make one with: openssl genpkey -algorithm ed25519 -out %s)",
                 path, path);
        goto fail;
    }
    char *p = NULL;
    long n;
    out = BIO_new(BIO_s_mem());
    if (!out || PEM_write_bio_PUBKEY(out, k->key) != 1 || (n = BIO_get_mem_data(out, &p)) <= 0 ||
        !(k->public_pem = malloc((size_t)n + 1))) {
        snprintf(err, errsz, "record key file %s: cannot derive its public key", path);
        goto fail;
    }
    memcpy(k->public_pem, p, (size_t)n);
    k->public_pem[n] = '\0';
    goto done;
fail:
    recordkey_free(k);
    k = NULL;
done:
    if (text) {
        OPENSSL_cleanse(text, (size_t)st.st_size); /* a memset the compiler may not drop */
        free(text);
    }
    BIO_free(in);
    BIO_free(out);
    if (f)
        fclose(f);
    return k;
}

const char *recordkey_public_pem(const struct recordkey *k)
{
    return k ? k->public_pem : NULL;
}

char *recordkey_sign(const struct recordkey *k, const char *text)
{
    unsigned char sig[64];
    size_t siglen = sizeof sig;
    char *b64 = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!k || !ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->key) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)text, strlen(text)) != 1)
        goto done;
    b64 = malloc(4 * ((siglen + 2) / 3) + 1);
    if (b64)
        EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
done:
    EVP_MD_CTX_free(ctx);
    return b64;
}
