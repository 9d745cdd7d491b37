/*
 * audit: the audit log (--audit-log PATH, contract section 11): one JSON
 * line per admin API call and per moderator command, saying when, on which
 * node, from which address, who (`admin` or the moderator's sub), what
 * (method and path, or the command's name), in which room, and the
 * outcome. Each line is written with one write(2) on a descriptor opened
 * O_APPEND before the answer leaves, so it is in the file (the kernel's)
 * before anyone hears of the outcome, and lines of several nodes sharing a
 * file never interleave.
 *
 * What a line never holds: a token, a secret, a key, a statement or
 * message text, a query string or a body. Callers pass only the fields
 * below; this module is the one place that writes the file.
 *
 * One audit log per process (like log.h): audit_setup() opens it,
 * audit_reopen() (SIGHUP) opens the path again for log rotation.
 */
#ifndef ROSTRUM_AUDIT_H
#define ROSTRUM_AUDIT_H

#include <stdbool.h>

struct audit_entry {
    const char *remote;  /* peer address, or NULL */
    const char *who;     /* "admin", a moderator's sub, or "anonymous" (refused API call) */
    const char *method;  /* API: "POST"...; NULL for a command */
    const char *path;    /* API: the path, without the query */
    const char *command; /* WebSocket: the command's name; NULL for the API */
    const char *room;    /* room id, or NULL */
    const char *outcome; /* "ok", or an error code ("forbidden", "unauthorized", ...) */
    int status;          /* API: the HTTP status; 0 for a command */
};

/* Opens path for appending (created 0600; node is copied). Returns 0, or
 * -1 with a message logged. Without a call, audit_record() does nothing. */
int audit_setup(const char *path, const char *node);
/* Opens the path again (the old file was moved away): 0, or -1 with the
 * reason logged, and the old descriptor kept. */
int audit_reopen(void);
/* Appends one line, stamped with the wall clock now (as log lines are).
 * Returns 0, -1 when it could not be written (logged once per streak of
 * failures). */
int audit_record(const struct audit_entry *e);
/* True when an audit log is open. */
bool audit_enabled(void);
void audit_shutdown(void);

#endif
