/*
 * config.c: flags, environment variables and defaults (config.h).
 * Secret and key files must not be readable by other users: a key that
 * anybody on the machine can read is no key.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "realip.h"
#include "recordkey.h"

#ifndef ROSTRUM_VERSION
#define ROSTRUM_VERSION "dev"
#endif
#ifndef ROSTRUM_WEB_DIR_SOURCE
#define ROSTRUM_WEB_DIR_SOURCE "clients/web"
#endif
#ifndef ROSTRUM_WEB_DIR_INSTALLED
#define ROSTRUM_WEB_DIR_INSTALLED "/usr/local/share/rostrum/web"
#endif
/* The installed web files relative to the installed program's directory
 * (bindir to datadir/rostrum/web), or "" when either is outside the
 * prefix. */
#ifndef ROSTRUM_WEB_DIR_FROM_BIN
#define ROSTRUM_WEB_DIR_FROM_BIN "../share/rostrum/web"
#endif

static const char usage[] =
    "Usage: rostrum-server [OPTIONS]\n"
    "Rostrum: a real-time moderated discussion server (WebSocket protocol rostrum.v1).\n"
    "\n"
    "  --listen HOST:PORT       where HTTP, WebSocket and the API listen; port 0 picks a\n"
    "                           free one (env ROSTRUM_LISTEN; default 127.0.0.1:8080)\n"
    "  --redis URL              redis://[USER[:PASSWORD]@]HOST:PORT[/DB] shared by every\n"
    "                           node of a cluster (env ROSTRUM_REDIS; default: embedded\n"
    "                           memory backend); USER for a Redis ACL user\n"
    "  --redis-password-file PATH  the Redis password (AUTH); wins over one in the URL\n"
    "  --secret-file PATH       HS256 keys for tokens; every node needs the same: one\n"
    "                           secret, or lines 'KID SECRET' (the first signs) (env\n"
    "                           ROSTRUM_SECRET_FILE; ROSTRUM_SECRET holds one secret\n"
    "                           itself; default: a random secret, kept in --data-dir\n"
    "                           when given)\n"
    "  --admin-key-file PATH    bearer key for /api (env ROSTRUM_ADMIN_KEY_FILE;\n"
    "                           ROSTRUM_ADMIN_KEY holds the key itself; default: none,\n"
    "                           the admin API answers 404)\n"
    "  --record-key-file PATH   Ed25519 private key (PEM) that signs meeting records;\n"
    "                           its public key is served at /api/record-key (default:\n"
    "                           records are not signed)\n"
    "  --tls-cert PATH          certificate (PEM) to serve https and wss\n"
    "  --tls-key PATH           private key (PEM) of --tls-cert\n"
    "  --data-dir PATH          embedded mode: journal of every room, replayed at start\n"
    "                           (env ROSTRUM_DATA_DIR)\n"
    "  --node-id NAME           this node's name in presence and logs (env\n"
    "                           ROSTRUM_NODE_ID; default HOSTNAME-PID)\n"
    "  --demo                   create the room closing-discussion if missing and print\n"
    "                           one invite URL per role (and an admin key if none given)\n"
    "  --web-root PATH          the browser client's files (default: the installed ones\n"
    "                           next to this program, PREFIX/share/rostrum/web, else\n"
    "                           the source tree's clients/web)\n"
    "  --public-url URL         base of invite URLs (env ROSTRUM_PUBLIC_URL; default\n"
    "                           from the request's Host)\n"
    "  --max-frame BYTES        largest incoming WebSocket message (default 16384)\n"
    "  --send-queue-frames N    frames queued per connection before it is cut as too\n"
    "                           slow, close 1008 (default 4096)\n"
    "  --send-queue-bytes N     bytes queued per connection before the same (default\n"
    "                           8388608)\n"
    "  --join-timeout SECONDS   close connections that send no join (default 10)\n"
    "  --idle-timeout SECONDS   close joined connections silent that long; clients\n"
    "                           ping (default 0: never)\n"
    "  --max-rooms N            rooms this node holds (default 1000)\n"
    "  --max-room-connections N joined connections per room on this node (default\n"
    "                           50000)\n"
    ;
static const char usage_limits[] =
    "  --max-conns-per-ip N     WebSockets per client address (default 2000; 0: none)\n"
    "  --join-rate N            new WebSockets per second per client address, bursts\n"
    "                           of twice that (default 500; 0: no limit)\n"
    "  --trusted-proxy CIDR     a proxy (e.g. nginx) whose X-Forwarded-For names the\n"
    "                           client: the client address is its right-most entry\n"
    "                           not in a trusted block; a trusted peer naming no one\n"
    "                           is not limited per address. Repeatable or comma-\n"
    "                           separated; 'none' trusts nobody (env\n"
    "                           ROSTRUM_TRUSTED_PROXIES; default 127.0.0.0/8,::1)\n"
    "  --max-body BYTES         largest admin API body (default 65536)\n"
    "  --allowed-origin ORIGIN  a page origin (https://host[:port]) allowed to open\n"
    "                           /ws besides the server's own; repeatable, or comma-\n"
    "                           separated (env ROSTRUM_ALLOWED_ORIGINS)\n"
    "  --command-rate N         commands per second per connection (default 20)\n"
    "  --command-burst N        commands in a burst per connection (default 40)\n"
    "  --max-text-chars N       characters of a message, at most the protocol's 2000\n"
    "                           (default 2000)\n"
    ;
/* Three strings: C11 compilers need only take 4095 characters in one. */
static const char usage2[] =
    "  --audit-log PATH         append one JSON line per admin API call and moderator\n"
    "                           command (reopened on SIGHUP)\n"
    "  --log-level LEVEL        debug, info, warn or error (default info)\n"
    "  --help                   this text\n"
    "  --version                the version\n"
    "\n"
    "Signals: SIGTERM and SIGINT drain (clients get close 1001) and exit 0. SIGHUP\n"
    "rereads the secret, admin key and Redis password files, the TLS certificate, and\n"
    "reopens the audit log.\n";

enum {
    OPT_LISTEN = 256, OPT_REDIS, OPT_SECRET, OPT_ADMIN, OPT_CERT, OPT_KEY, OPT_DATA, OPT_NODE,
    OPT_DEMO, OPT_WEB, OPT_PUBLIC, OPT_MAXFRAME, OPT_QFRAMES, OPT_QBYTES, OPT_LOG, OPT_HELP,
    OPT_VERSION, OPT_JOINTO, OPT_IDLETO, OPT_MAXROOMS, OPT_MAXROOMCONNS, OPT_MAXIP, OPT_JOINRATE,
    OPT_MAXBODY, OPT_ORIGIN, OPT_CMDRATE, OPT_CMDBURST, OPT_MAXTEXT, OPT_PROXY, OPT_REDISPW,
    OPT_AUDIT, OPT_RECORDKEY,
};

static const struct option options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"redis", required_argument, NULL, OPT_REDIS},
    {"redis-password-file", required_argument, NULL, OPT_REDISPW},
    {"audit-log", required_argument, NULL, OPT_AUDIT},
    {"secret-file", required_argument, NULL, OPT_SECRET},
    {"admin-key-file", required_argument, NULL, OPT_ADMIN},
    {"record-key-file", required_argument, NULL, OPT_RECORDKEY},
    {"tls-cert", required_argument, NULL, OPT_CERT},
    {"tls-key", required_argument, NULL, OPT_KEY},
    {"data-dir", required_argument, NULL, OPT_DATA},
    {"node-id", required_argument, NULL, OPT_NODE},
    {"demo", no_argument, NULL, OPT_DEMO},
    {"web-root", required_argument, NULL, OPT_WEB},
    {"public-url", required_argument, NULL, OPT_PUBLIC},
    {"max-frame", required_argument, NULL, OPT_MAXFRAME},
    {"send-queue-frames", required_argument, NULL, OPT_QFRAMES},
    {"send-queue-bytes", required_argument, NULL, OPT_QBYTES},
    {"log-level", required_argument, NULL, OPT_LOG},
    {"join-timeout", required_argument, NULL, OPT_JOINTO},
    {"idle-timeout", required_argument, NULL, OPT_IDLETO},
    {"max-rooms", required_argument, NULL, OPT_MAXROOMS},
    {"max-room-connections", required_argument, NULL, OPT_MAXROOMCONNS},
    {"max-conns-per-ip", required_argument, NULL, OPT_MAXIP},
    {"join-rate", required_argument, NULL, OPT_JOINRATE},
    {"max-body", required_argument, NULL, OPT_MAXBODY},
    {"allowed-origin", required_argument, NULL, OPT_ORIGIN},
    {"trusted-proxy", required_argument, NULL, OPT_PROXY},
    {"command-rate", required_argument, NULL, OPT_CMDRATE},
    {"command-burst", required_argument, NULL, OPT_CMDBURST},
    {"max-text-chars", required_argument, NULL, OPT_MAXTEXT},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? strdup(v) : NULL;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* Reads a small secret file: a regular file no other user may access, at
 * most 4096 bytes, trailing blanks and newlines removed, at least min
 * characters. Returns a new string, or NULL with the reason in err (which
 * names the file, never its contents). *len gets the length. */
static char *read_secret_file(const char *path, const char *what, size_t min, size_t *len,
                              char *err, size_t errsz)
{
    char *buf = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "cannot open %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s %s is not a regular file", what, path);
        goto fail;
    }
    if (st.st_mode & (S_IRWXO)) {
        snprintf(err, errsz, "%s %s is accessible by other users (mode %03o); run: chmod 600 %s",
                 what, path, (unsigned)(st.st_mode & 0777), path);
        goto fail;
    }
    if (st.st_size > 4096) {
        snprintf(err, errsz, "%s %s is larger than 4096 bytes", what, path);
        goto fail;
    }
    buf = calloc(1, (size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(err, errsz, "cannot read %s %s", what, path);
        goto fail;
    }
    trim_end(buf);
    if (strlen(buf) < min) {
        snprintf(err, errsz, "%s %s must hold at least %zu characters", what, path, min);
        goto fail;
    }
    if (len)
        *len = strlen(buf);
    fclose(f);
    return buf;
fail:
    if (buf)
        OPENSSL_cleanse(buf, (size_t)st.st_size);
    free(buf);
    fclose(f);
    return NULL;
}

/* Appends ",v" to a comma-separated list (or starts it). */
static int append_list(char **list, const char *v)
{
    if (!*list) {
        *list = strdup(v);
        return *list ? 0 : -1;
    }
    size_t l = strlen(*list) + strlen(v) + 2;
    char *joined = malloc(l);
    if (!joined)
        return -1;
    snprintf(joined, l, "%s,%s", *list, v);
    free(*list);
    *list = joined;
    return 0;
}

/* The token keys from a secret file (one secret, or "KID SECRET" lines). */
static struct proto_keyring *read_keys(const char *path, char *err, size_t errsz)
{
    size_t len = 0;
    char why[160];
    char *text = read_secret_file(path, "secret file", 16, &len, err, errsz);
    struct proto_keyring *r = NULL;
    if (!text)
        return NULL;
    r = proto_keyring_parse(text, len, why, sizeof why);
    if (!r)
        snprintf(err, errsz, "secret file %s: %s", path, why);
    OPENSSL_cleanse(text, len);
    free(text);
    return r;
}

static char *random_hex(size_t bytes)
{
    unsigned char raw[64];
    char *out = malloc(bytes * 2 + 1);
    if (!out || bytes > sizeof raw || RAND_bytes(raw, (int)bytes) != 1) {
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < bytes; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
    return out;
}

static int parse_listen(struct config *c, const char *v)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return -1;
    size_t hl = (size_t)(colon - v);
    if (v[0] == '[' && hl >= 2 && v[hl - 1] == ']') {
        v++;
        hl -= 2;
    }
    if (hl >= sizeof c->listen_host)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    memcpy(c->listen_host, v, hl);
    c->listen_host[hl] = '\0';
    c->listen_port = (int)port;
    return 0;
}

static int parse_size(const char *v, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || end == v || n < min || n > max)
        return -1;
    *out = (size_t)n;
    return 0;
}

static int dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The web client's files: those installed with this program (found from
 * where the program is, so that a relocated or --destdir install serves
 * its own copy), else the source tree's (a build-tree program), else the
 * prefix's. Returns a new string or NULL. */
static char *find_web_root(void)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0 && ROSTRUM_WEB_DIR_FROM_BIN[0] != '\0') {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(cand, sizeof cand, "%s/%s/index.html", exe, ROSTRUM_WEB_DIR_FROM_BIN);
            if (access(cand, R_OK) == 0) {
                cand[strlen(cand) - strlen("/index.html")] = '\0';
                return realpath(cand, NULL);
            }
        }
    }
    return strdup(dir_exists(ROSTRUM_WEB_DIR_SOURCE) ? ROSTRUM_WEB_DIR_SOURCE : ROSTRUM_WEB_DIR_INSTALLED);
}

/* The secret: flag, environment, data dir, or a fresh random one (kept in
 * the data dir when there is one, so that tokens survive a restart). */
static int load_secret(struct config *c)
{
    char err[PATH_MAX + 200];
    char *secret = NULL;
    if (c->secret_file) {
        c->keys = read_keys(c->secret_file, err, sizeof err);
        if (!c->keys) {
            fprintf(stderr, "rostrum-server: %s\n", err);
            return -1;
        }
        return 0;
    } else if (getenv("ROSTRUM_SECRET") && *getenv("ROSTRUM_SECRET")) {
        secret = strdup(getenv("ROSTRUM_SECRET"));
    } else if (c->data_dir) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/secret", c->data_dir);
        if (access(path, F_OK) == 0) {
            /* Written by us (one secret), or by an operator (maybe keys):
             * the same file rules. */
            c->keys = read_keys(path, err, sizeof err);
            if (!c->keys) {
                fprintf(stderr, "rostrum-server: %s\n", err);
                return -1;
            }
            /* It is the secret file from now on: SIGHUP rereads it. */
            set_str(&c->secret_file, path);
            return 0;
        } else {
            secret = random_hex(32);
            FILE *f = NULL;
            mode_t old = umask(077);
            if (mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
                umask(old);
                fprintf(stderr, "rostrum-server: cannot create %s: %s\n", c->data_dir, strerror(errno));
                free(secret);
                return -1;
            }
            f = fopen(path, "w");
            umask(old);
            if (!f || !secret || fprintf(f, "%s\n", secret) < 0 || fclose(f) != 0) {
                fprintf(stderr, "rostrum-server: cannot write %s\n", path);
                free(secret);
                return -1;
            }
            set_str(&c->secret_file, path);
        }
    } else {
        secret = random_hex(32);
        c->secret_generated = true;
    }
    if (!secret)
        return -1;
    c->keys = proto_keyring_single(secret, strlen(secret));
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    return c->keys ? 0 : -1;
}

/* %XX escapes in a URL's user or password; -1 for a bad escape. */
static int percent_decode(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '%') {
            unsigned v = 0;
            for (int k = 1; k <= 2; k++) {
                char h = i + (size_t)k < n ? s[i + (size_t)k] : '\0';
                v <<= 4;
                if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                else return -1;
            }
            if (v == 0)
                return -1;
            ch = (unsigned char)v;
            i += 2;
        }
        if (o + 1 >= outsz)
            return -1;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return 0;
}

int config_parse_redis_url(struct config *c, const char *url, char *err, size_t errsz)
{
    char user[256], pass[1024], host[256], canon[400];
    const char *p, *at, *hostp, *end, *slash;
    long port = 6379, db = 0;
    char *e;
    user[0] = pass[0] = '\0';
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errsz, "--redis wants redis://[USER[:PASSWORD]@]HOST:PORT[/DB]");
        return -1;
    }
    p = url + 8;
    /* The last '@' ends the credentials: a database number has none. */
    at = strrchr(p, '@');
    hostp = p;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ul = colon ? (size_t)(colon - p) : (size_t)(at - p);
        if (percent_decode(p, ul, user, sizeof user) != 0 ||
            (colon && percent_decode(colon + 1, (size_t)(at - colon - 1), pass, sizeof pass) != 0)) {
            snprintf(err, errsz, "--redis: bad user or password in the URL (escape %%, @, : and / "
                                 "as %%XX; or use --redis-password-file)");
            return -1;
        }
        hostp = at + 1;
    }
    slash = strchr(hostp, '/');
    end = slash ? slash : hostp + strlen(hostp);
    /* [v6]:port, or host:port, or host */
    const char *hb = hostp, *he, *portp = NULL;
    if (*hb == '[') {
        he = memchr(hb, ']', (size_t)(end - hb));
        if (!he) {
            snprintf(err, errsz, "--redis: unclosed [ in the host");
            return -1;
        }
        hb++;
        portp = he + 1 < end && he[1] == ':' ? he + 2 : NULL;
        if (he + 1 < end && !portp) {
            snprintf(err, errsz, "--redis: want [IPV6]:PORT");
            return -1;
        }
    } else {
        he = memchr(hb, ':', (size_t)(end - hb));
        if (he)
            portp = he + 1;
        else
            he = end;
    }
    if (he == hb || (size_t)(he - hb) >= sizeof host) {
        snprintf(err, errsz, "--redis: no host");
        return -1;
    }
    memcpy(host, hb, (size_t)(he - hb));
    host[he - hb] = '\0';
    if (portp) {
        port = strtol(portp, &e, 10);
        if (e != end || port < 1 || port > 65535) {
            snprintf(err, errsz, "--redis: the port must be 1..65535");
            return -1;
        }
    }
    if (slash && slash[1]) {
        db = strtol(slash + 1, &e, 10);
        if (*e || db < 0 || db > 1000000) {
            snprintf(err, errsz, "--redis: the database must be a number");
            return -1;
        }
    }
    if (user[0] && strpbrk(user, " \t\r\n")) {
        snprintf(err, errsz, "--redis: the user holds a blank");
        return -1;
    }
    snprintf(canon, sizeof canon, "redis://%s%s%s:%ld/%ld", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", port, db);
    set_str(&c->redis_url, canon);
    set_str(&c->redis_host, host);
    c->redis_port = (int)port;
    c->redis_db = (int)db;
    set_str(&c->redis_user, user[0] ? user : NULL);
    if (c->redis_password)
        OPENSSL_cleanse(c->redis_password, strlen(c->redis_password));
    set_str(&c->redis_password, pass[0] ? pass : NULL);
    OPENSSL_cleanse(pass, sizeof pass);
    return 0;
}

static void replace_secret(char **dst, char *v)
{
    if (*dst)
        OPENSSL_cleanse(*dst, strlen(*dst));
    free(*dst);
    *dst = v;
}

int config_reload(struct config *c)
{
    char err[PATH_MAX + 200];
    int failed = 0;
    if (c->secret_file) {
        struct proto_keyring *k = read_keys(c->secret_file, err, sizeof err);
        if (k) {
            proto_keyring_free(c->keys);
            c->keys = k;
            log_info("SIGHUP: %zu token key%s from %s (first: %s)", k->n, k->n == 1 ? "" : "s",
                     c->secret_file, k->keys[0].kid[0] ? k->keys[0].kid : "no kid");
        } else {
            failed++;
            log_error("SIGHUP: %s; the old keys stay", err);
        }
    }
    if (c->admin_key_file) {
        char *k = read_secret_file(c->admin_key_file, "admin key file", 16, NULL, err, sizeof err);
        if (k) {
            replace_secret(&c->admin_key, k);
            log_info("SIGHUP: admin key reread from %s", c->admin_key_file);
        } else {
            failed++;
            log_error("SIGHUP: %s; the old admin key stays", err);
        }
    }
    if (c->redis_password_file) {
        char *k = read_secret_file(c->redis_password_file, "redis password file", 16, NULL, err,
                                   sizeof err);
        if (k) {
            replace_secret(&c->redis_password, k);
            log_info("SIGHUP: redis password reread from %s", c->redis_password_file);
        } else {
            failed++;
            log_error("SIGHUP: %s; the old redis password stays", err);
        }
    }
    if (c->record_key_file) {
        struct recordkey *k = recordkey_load(c->record_key_file, err, sizeof err);
        if (k) {
            recordkey_free(c->record_key);
            c->record_key = k;
            log_info("SIGHUP: record key reread from %s", c->record_key_file);
        } else {
            failed++;
            log_error("SIGHUP: %s; the old record key stays", err);
        }
    }
    return failed;
}

/* Overwrites the password of a redis:// URL in place with '*': argv is
 * what /proc/PID/cmdline and ps show every user of the machine, and the
 * copy taken before is the only one the server needs. (A password file,
 * --redis-password-file, never shows; docs/operations.md says so.) */
static void hide_url_password(char *url)
{
    if (strncmp(url, "redis://", 8) != 0)
        return;
    char *auth = url + 8, *end = auth + strcspn(auth, "/");
    char *at = NULL;
    for (char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    for (char *p = colon ? colon + 1 : at; colon && p < at; p++)
        *p = '*';
}

int config_parse(struct config *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    const char *listen = getenv("ROSTRUM_LISTEN");
    char err[PATH_MAX + 200];
    char *redis_arg = NULL;
    int rc = -1;
    c->max_frame = PROTO_MAX_FRAME_DEFAULT;
    c->queue_frames = 4096;
    c->queue_bytes = 8u << 20;
    c->join_timeout_ms = PROTO_JOIN_TIMEOUT_MS;
    c->max_rooms = 1000;
    c->max_room_conns = 50000;
    c->max_conns_per_ip = 2000;
    c->join_rate = 500;
    c->max_body = 64 * 1024;
    c->command_rate = PROTO_RATE_PER_S;
    c->command_burst = PROTO_RATE_BURST;
    c->max_text_chars = PROTO_MAX_TEXT_CHARS;
    c->log_level = LOG_INFO;
    set_str(&c->allowed_origins, getenv("ROSTRUM_ALLOWED_ORIGINS"));
    set_str(&c->trusted_proxies, getenv("ROSTRUM_TRUSTED_PROXIES") ? getenv("ROSTRUM_TRUSTED_PROXIES")
                                                                   : REALIP_DEFAULT_TRUSTED);
    bool proxy_flag = false;
    size_t n;
    set_str(&redis_arg, getenv("ROSTRUM_REDIS") && *getenv("ROSTRUM_REDIS") ? getenv("ROSTRUM_REDIS") : NULL);
    set_str(&c->data_dir, getenv("ROSTRUM_DATA_DIR") && *getenv("ROSTRUM_DATA_DIR") ? getenv("ROSTRUM_DATA_DIR") : NULL);
    set_str(&c->node_id, getenv("ROSTRUM_NODE_ID") && *getenv("ROSTRUM_NODE_ID") ? getenv("ROSTRUM_NODE_ID") : NULL);
    /* Paths of the secret files may come from the environment too (a
     * systemd EnvironmentFile), the flags win. Empty means unset. */
    if (getenv("ROSTRUM_SECRET_FILE") && *getenv("ROSTRUM_SECRET_FILE"))
        set_str(&c->secret_file, getenv("ROSTRUM_SECRET_FILE"));
    if (getenv("ROSTRUM_ADMIN_KEY_FILE") && *getenv("ROSTRUM_ADMIN_KEY_FILE"))
        set_str(&c->admin_key_file, getenv("ROSTRUM_ADMIN_KEY_FILE"));
    if (getenv("ROSTRUM_PUBLIC_URL") && *getenv("ROSTRUM_PUBLIC_URL"))
        set_str(&c->public_url, getenv("ROSTRUM_PUBLIC_URL"));
    set_str(&c->tls_cert, getenv("ROSTRUM_TLS_CERT"));
    set_str(&c->tls_key, getenv("ROSTRUM_TLS_KEY"));

    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case OPT_LISTEN: listen = optarg; break;
        case OPT_REDIS:
            set_str(&redis_arg, optarg);
            hide_url_password(optarg);
            break;
        case OPT_REDISPW: set_str(&c->redis_password_file, optarg); break;
        case OPT_AUDIT: set_str(&c->audit_log, optarg); break;
        case OPT_SECRET: set_str(&c->secret_file, optarg); break;
        case OPT_ADMIN: set_str(&c->admin_key_file, optarg); break;
        case OPT_RECORDKEY: set_str(&c->record_key_file, optarg); break;
        case OPT_CERT: set_str(&c->tls_cert, optarg); break;
        case OPT_KEY: set_str(&c->tls_key, optarg); break;
        case OPT_DATA: set_str(&c->data_dir, optarg); break;
        case OPT_NODE: set_str(&c->node_id, optarg); break;
        case OPT_DEMO: c->demo = true; break;
        case OPT_WEB: set_str(&c->web_root, optarg); break;
        case OPT_PUBLIC: set_str(&c->public_url, optarg); break;
        case OPT_MAXFRAME:
            if (parse_size(optarg, 1024, 16u << 20, &c->max_frame)) {
                fprintf(stderr, "rostrum-server: --max-frame must be 1024..16777216\n");
                goto fail;
            }
            break;
        case OPT_QFRAMES:
            if (parse_size(optarg, 16, 1u << 20, &c->queue_frames)) {
                fprintf(stderr, "rostrum-server: --send-queue-frames must be 16..1048576\n");
                goto fail;
            }
            break;
        case OPT_QBYTES:
            if (parse_size(optarg, 65536, 1u << 30, &c->queue_bytes)) {
                fprintf(stderr, "rostrum-server: --send-queue-bytes must be 65536..1073741824\n");
                goto fail;
            }
            break;
        case OPT_JOINTO:
            if (parse_size(optarg, 1, 3600, &n)) {
                fprintf(stderr, "rostrum-server: --join-timeout must be 1..3600 seconds\n");
                goto fail;
            }
            c->join_timeout_ms = (int)n * 1000;
            break;
        case OPT_IDLETO:
            if (parse_size(optarg, 0, 86400, &n)) {
                fprintf(stderr, "rostrum-server: --idle-timeout must be 0..86400 seconds\n");
                goto fail;
            }
            c->idle_timeout_ms = (int)n * 1000;
            break;
        case OPT_MAXROOMS:
            if (parse_size(optarg, 1, 1000000, &c->max_rooms)) {
                fprintf(stderr, "rostrum-server: --max-rooms must be 1..1000000\n");
                goto fail;
            }
            break;
        case OPT_MAXROOMCONNS:
            if (parse_size(optarg, 1, 10000000, &c->max_room_conns)) {
                fprintf(stderr, "rostrum-server: --max-room-connections must be 1..10000000\n");
                goto fail;
            }
            break;
        case OPT_MAXIP:
            if (parse_size(optarg, 0, 10000000, &c->max_conns_per_ip)) {
                fprintf(stderr, "rostrum-server: --max-conns-per-ip must be 0..10000000\n");
                goto fail;
            }
            break;
        case OPT_JOINRATE:
            if (parse_size(optarg, 0, 1000000, &n)) {
                fprintf(stderr, "rostrum-server: --join-rate must be 0..1000000\n");
                goto fail;
            }
            c->join_rate = (double)n;
            break;
        case OPT_MAXBODY:
            if (parse_size(optarg, 1024, 16u << 20, &c->max_body)) {
                fprintf(stderr, "rostrum-server: --max-body must be 1024..16777216\n");
                goto fail;
            }
            break;
        case OPT_ORIGIN:
            if (append_list(&c->allowed_origins, optarg))
                goto fail;
            break;
        case OPT_PROXY:
            /* The first flag replaces the default (and the environment). */
            if (!proxy_flag)
                set_str(&c->trusted_proxies, NULL);
            proxy_flag = true;
            if (append_list(&c->trusted_proxies, optarg))
                goto fail;
            break;
        case OPT_CMDRATE:
            if (parse_size(optarg, 1, 100000, &n)) {
                fprintf(stderr, "rostrum-server: --command-rate must be 1..100000\n");
                goto fail;
            }
            c->command_rate = (double)n;
            break;
        case OPT_CMDBURST:
            if (parse_size(optarg, 1, 100000, &n)) {
                fprintf(stderr, "rostrum-server: --command-burst must be 1..100000\n");
                goto fail;
            }
            c->command_burst = (double)n;
            break;
        case OPT_MAXTEXT:
            if (parse_size(optarg, 1, PROTO_MAX_TEXT_CHARS, &n)) {
                fprintf(stderr, "rostrum-server: --max-text-chars must be 1..%d\n", PROTO_MAX_TEXT_CHARS);
                goto fail;
            }
            c->max_text_chars = (long)n;
            break;
        case OPT_LOG:
            if (!strcmp(optarg, "debug")) c->log_level = LOG_DEBUG;
            else if (!strcmp(optarg, "info")) c->log_level = LOG_INFO;
            else if (!strcmp(optarg, "warn")) c->log_level = LOG_WARN;
            else if (!strcmp(optarg, "error")) c->log_level = LOG_ERROR;
            else {
                fprintf(stderr, "rostrum-server: --log-level must be debug, info, warn or error\n");
                goto fail;
            }
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            fputs(usage_limits, stdout);
            fputs(usage2, stdout);
            rc = 1;
            goto fail;
        case OPT_VERSION:
            printf("rostrum-server %s (protocol rostrum.v1)\n", ROSTRUM_VERSION);
            rc = 1;
            goto fail;
        default:
            fprintf(stderr, "rostrum-server: unknown or incomplete option '%s'\n"
                            "Try 'rostrum-server --help'.\n", argv[optind - 1]);
            goto fail;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rostrum-server: unexpected argument '%s'\nTry 'rostrum-server --help'.\n",
                argv[optind]);
        goto fail;
    }
    if (parse_listen(c, listen ? listen : "127.0.0.1:8080")) {
        fprintf(stderr, "rostrum-server: --listen wants HOST:PORT, e.g. 127.0.0.1:8080\n");
        goto fail;
    }
    if (!c->tls_cert != !c->tls_key) {
        fprintf(stderr, "rostrum-server: --tls-cert and --tls-key go together\n");
        goto fail;
    }
    if (redis_arg && config_parse_redis_url(c, redis_arg, err, sizeof err) != 0) {
        fprintf(stderr, "rostrum-server: %s\n", err);
        goto fail;
    }
    {
        char rerr[200];
        struct realip *r = realip_create(c->trusted_proxies, rerr, sizeof rerr);
        if (!r) {
            fprintf(stderr, "rostrum-server: --trusted-proxy: %s\n", rerr);
            goto fail;
        }
        realip_destroy(r);
    }
    if (c->redis_password_file) {
        if (!c->redis_url) {
            fprintf(stderr, "rostrum-server: --redis-password-file needs --redis\n");
            goto fail;
        }
        char *pw = read_secret_file(c->redis_password_file, "redis password file", 16, NULL, err,
                                    sizeof err);
        if (!pw) {
            fprintf(stderr, "rostrum-server: %s\n", err);
            goto fail;
        }
        replace_secret(&c->redis_password, pw);
    }
    if (c->redis_user && !c->redis_password) {
        fprintf(stderr, "rostrum-server: --redis names a user but no password (give it in the URL "
                        "or with --redis-password-file)\n");
        goto fail;
    }
    if (load_secret(c))
        goto fail;
    if (c->admin_key_file) {
        c->admin_key = read_secret_file(c->admin_key_file, "admin key file", 16, NULL, err, sizeof err);
        if (!c->admin_key) {
            fprintf(stderr, "rostrum-server: %s\n", err);
            goto fail;
        }
    } else if (getenv("ROSTRUM_ADMIN_KEY") && *getenv("ROSTRUM_ADMIN_KEY")) {
        c->admin_key = strdup(getenv("ROSTRUM_ADMIN_KEY"));
    } else if (c->demo) {
        c->admin_key = random_hex(16);
        c->admin_key_generated = true;
    }
    if (c->record_key_file) {
        c->record_key = recordkey_load(c->record_key_file, err, sizeof err);
        if (!c->record_key) {
            fprintf(stderr, "rostrum-server: %s\n", err);
            goto fail;
        }
    }
    if (!c->node_id) {
        char host[128] = "node";
        gethostname(host, sizeof host - 1);
        char buf[200];
        snprintf(buf, sizeof buf, "%s-%ld", host, (long)getpid());
        c->node_id = strdup(buf);
    }
    if (!c->web_root)
        c->web_root = find_web_root();
    if (!c->web_root)
        goto fail;
    rc = 0;
fail:
    if (redis_arg)
        OPENSSL_cleanse(redis_arg, strlen(redis_arg));
    free(redis_arg);
    if (rc != 0)
        config_free(c);
    return rc;
}

void config_free(struct config *c)
{
    proto_keyring_free(c->keys);
    replace_secret(&c->admin_key, NULL);
    replace_secret(&c->redis_password, NULL);
    recordkey_free(c->record_key);
    free(c->redis_url);
    free(c->redis_host);
    free(c->redis_user);
    free(c->redis_password_file);
    free(c->secret_file);
    free(c->admin_key_file);
    free(c->record_key_file);
    free(c->audit_log);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->data_dir);
    free(c->node_id);
    free(c->web_root);
    free(c->public_url);
    free(c->allowed_origins);
    free(c->trusted_proxies);
    memset(c, 0, sizeof *c);
}
