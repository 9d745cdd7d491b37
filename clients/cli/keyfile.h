/*
 * keyfile: reads a small secret (the token secret or the admin key) from a
 * file, the way rostrum-server does, so that the CLI and the bench sign and
 * authenticate with exactly the bytes the server uses: the file's contents
 * with trailing whitespace and newlines removed.
 *
 * Never prints the secret.
 */
#ifndef ROSTRUM_KEYFILE_H
#define ROSTRUM_KEYFILE_H

#include <stddef.h>

/* Reads path (at most 4096 bytes). Returns a new NUL-terminated string
 * (free()) and its length in *len (when len is not NULL), or NULL with a
 * message naming what ("secret file", "admin key file") written into
 * err[0..errsz). A file other users may read is accepted (the server would
 * refuse it) but *warn is set so that the caller can say so. */
char *keyfile_read(const char *path, const char *what, size_t *len, int *warn, char *err,
                   size_t errsz);

/* The secret from a flag value or, when path is NULL, from the environment
 * variable env (which holds the secret itself, as for the server). Returns a
 * new string or NULL with a message in err; a NULL path and an unset env is
 * an error naming flag. */
char *keyfile_from(const char *path, const char *env, const char *flag, const char *what,
                   size_t *len, char *err, size_t errsz);

/* The token keys (contract section 11): a secret file is parsed as the
 * server parses it (one secret, or "KID SECRET" lines, the first signs);
 * the environment variable env holds one secret. Returns a new keyring
 * (proto_keyring_free()) or NULL with a message in err. */
struct proto_keyring;
struct proto_keyring *keyfile_keys(const char *path, const char *env, const char *flag,
                                   char *err, size_t errsz);

#endif
