/*
 * keyfile.c: secrets from files or the environment (keyfile.h).
 */
#include "keyfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto.h"

#define KEYFILE_MAX 4096

char *keyfile_read(const char *path, const char *what, size_t *len, int *warn, char *err,
                   size_t errsz)
{
    char *buf = NULL;
    struct stat st;
    FILE *f = fopen(path, "r");
    if (warn)
        *warn = 0;
    if (!f) {
        snprintf(err, errsz, "cannot open %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s %s is not a regular file", what, path);
        goto fail;
    }
    if (st.st_size > KEYFILE_MAX) {
        snprintf(err, errsz, "%s %s is larger than %d bytes", what, path, KEYFILE_MAX);
        goto fail;
    }
    if (warn && (st.st_mode & S_IRWXO))
        *warn = 1;
    buf = calloc(1, (size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(err, errsz, "cannot read %s %s", what, path);
        goto fail;
    }
    /* The server trims trailing whitespace only; so do we, or a key file
     * written by `echo` would sign with a different key. */
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                     buf[n - 1] == '\t'))
        buf[--n] = '\0';
    if (n == 0) {
        snprintf(err, errsz, "%s %s is empty", what, path);
        goto fail;
    }
    if (len)
        *len = n;
    fclose(f);
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

char *keyfile_from(const char *path, const char *env, const char *flag, const char *what,
                   size_t *len, char *err, size_t errsz)
{
    if (path) {
        int warn = 0;
        char *k = keyfile_read(path, what, len, &warn, err, errsz);
        if (k && warn)
            fprintf(stderr, "warning: %s %s is readable by other users (chmod 600 %s)\n", what,
                    path, path);
        return k;
    }
    const char *v = env ? getenv(env) : NULL;
    if (v && *v) {
        char *k = strdup(v);
        if (!k)
            snprintf(err, errsz, "out of memory");
        else if (len)
            *len = strlen(k);
        return k;
    }
    snprintf(err, errsz, "%s is required (or set %s)", flag, env ? env : "it");
    return NULL;
}

struct proto_keyring *keyfile_keys(const char *path, const char *env, const char *flag,
                                   char *err, size_t errsz)
{
    size_t len = 0;
    char why[160];
    struct proto_keyring *r = NULL;
    char *text = keyfile_from(path, env, flag, "secret file", &len, err, errsz);
    if (!text)
        return NULL;
    if (path) {
        r = proto_keyring_parse(text, len, why, sizeof why);
        if (!r)
            snprintf(err, errsz, "secret file %s: %s", path, why);
    } else {
        r = proto_keyring_single(text, len);
        if (!r)
            snprintf(err, errsz, "out of memory");
    }
    memset(text, 0, len);
    free(text);
    return r;
}
