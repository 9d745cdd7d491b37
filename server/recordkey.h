/*
 * recordkey: the Ed25519 key that signs meeting records (contract section
 * 9.6, --record-key-file). Loaded from a PEM private key file under the
 * same rules as the other secret files (a regular file, not accessible by
 * other users, at most 4096 bytes); never logged.
 *
 * Pure apart from reading the file in recordkey_load(). Uses OpenSSL's
 * EVP interface.
 */
#ifndef ROSTRUM_RECORDKEY_H
#define ROSTRUM_RECORDKEY_H

#include <stddef.h>

struct recordkey;

/* Reads and parses path. Returns a new key (recordkey_free()) or NULL with
 * a one-line reason naming the file in err[0..errsz) (missing, unreadable,
 * accessible by others, not a PEM Ed25519 private key). */
struct recordkey *recordkey_load(const char *path, char *err, size_t errsz);
void recordkey_free(struct recordkey *k); /* NULL is a no-op */

/* The public key as PEM ("-----BEGIN PUBLIC KEY-----..."), borrowed for
 * the key's life. */
const char *recordkey_public_pem(const struct recordkey *k);

/* Signs the UTF-8 text. Returns a new string (free()) holding the standard
 * base64 of the 64-byte signature, or NULL on failure. */
char *recordkey_sign(const struct recordkey *k, const char *text);

#endif
