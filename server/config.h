/*
 * config: the server's settings from flags and environment (contract
 * section 8), with defaults, validation and --help. Reads the secret and
 * admin key files; never logs their contents.
 */
#ifndef ROSTRUM_CONFIG_H
#define ROSTRUM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct proto_keyring;
struct recordkey;

struct config {
    char listen_host[256];
    int listen_port;
    char *redis_url;           /* redis://HOST:PORT/DB, never with credentials
                                  (safe to log); NULL: embedded memory backend */
    char *redis_host;
    int redis_port, redis_db;
    char *redis_user;          /* NULL: no ACL user (plain AUTH password) */
    char *redis_password;      /* NULL: no AUTH; from the file, else the URL */
    char *redis_password_file; /* reread on SIGHUP */
    struct proto_keyring *keys; /* token keys; the first mints */
    char *secret_file;         /* the keys' file, reread on SIGHUP; NULL otherwise */
    bool secret_generated;     /* random, not from a flag or the data dir */
    char *admin_key;           /* NULL: admin API disabled */
    char *admin_key_file;      /* reread on SIGHUP; NULL otherwise */
    bool admin_key_generated;  /* --demo made one up */
    char *record_key_file;     /* --record-key-file: reread on SIGHUP; NULL: none */
    struct recordkey *record_key; /* loaded from it (recordkey.h); NULL: records unsigned */
    char *audit_log;           /* --audit-log PATH, NULL: none */
    char *tls_cert, *tls_key;
    char *data_dir;
    char *node_id;
    char *web_root;
    char *public_url;          /* base of invite URLs; default from --listen */
    bool demo;
    size_t max_frame;          /* bytes of one incoming message */
    size_t queue_frames;       /* send queue bound, frames */
    size_t queue_bytes;        /* send queue bound, bytes */
    int join_timeout_ms;
    int idle_timeout_ms;       /* 0: off */
    size_t max_rooms;          /* rooms this node holds */
    size_t max_room_conns;     /* joined connections per room on this node */
    size_t max_conns_per_ip;   /* WebSockets per source address (0: no limit) */
    double join_rate;          /* new WebSockets per second per address (0: no limit) */
    size_t max_body;           /* admin API body bytes */
    char *allowed_origins;     /* comma-separated extra Origins for /ws, or NULL */
    char *trusted_proxies;     /* comma-separated CIDR blocks (realip.h); "" or "none": nobody */
    double command_rate, command_burst; /* per connection */
    long max_text_chars;       /* <= 2000 (the contract's) */
    int log_level;             /* enum log_level */
};

/* Parses argv and the environment into *c (flags win over environment).
 * Returns 0 to run, 1 when --help or --version was printed (exit 0), -1 on
 * an error (a message was printed to stderr; exit 2). */
int config_parse(struct config *c, int argc, char **argv);
/* Frees what config_parse allocated. */
void config_free(struct config *c);

/* SIGHUP: rereads the secret file, the admin key file and the Redis
 * password file and the record key file. A file that can no
 * longer be read or parsed keeps the old value, and the reason is logged
 * (never the secret). Returns the number of files that failed. */
int config_reload(struct config *c);

/* Parses --redis into host, port, db, user and password (percent-decoded)
 * and the credential-free redis_url. Returns 0, or -1 with the reason in
 * err (never the password). Exposed for the unit tests. */
int config_parse_redis_url(struct config *c, const char *url, char *err, size_t errsz);

#endif
