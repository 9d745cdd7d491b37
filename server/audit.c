/*
 * audit.c: the audit log (audit.h).
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int audit_fd = -1;
static char *audit_path;
static char audit_node[128];
static bool audit_failing; /* a write failed: say so once, until one works */

static int open_path(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        log_error("audit log %s: cannot open: %s", path, strerror(errno));
    return fd;
}

int audit_setup(const char *path, const char *node)
{
    audit_shutdown();
    if (!path)
        return 0;
    audit_path = strdup(path);
    if (!audit_path)
        return -1;
    snprintf(audit_node, sizeof audit_node, "%s", node ? node : "");
    audit_fd = open_path(path);
    return audit_fd >= 0 ? 0 : -1;
}

int audit_reopen(void)
{
    if (!audit_path)
        return 0;
    int fd = open_path(audit_path);
    if (fd < 0) {
        log_error("audit log %s: still writing to the file opened before", audit_path);
        return -1;
    }
    if (audit_fd >= 0)
        close(audit_fd);
    audit_fd = fd;
    log_info("audit log %s reopened", audit_path);
    return 0;
}

bool audit_enabled(void) { return audit_fd >= 0; }

void audit_shutdown(void)
{
    if (audit_fd >= 0)
        close(audit_fd);
    audit_fd = -1;
    free(audit_path);
    audit_path = NULL;
}

static int set_opt(json_t *o, const char *k, const char *v)
{
    return v ? json_object_set_new(o, k, json_string(v)) : 0;
}

int audit_record(const struct audit_entry *e)
{
    struct timespec ts;
    char when[80];
    char *line = NULL;
    int rc = -1;
    json_t *o = NULL;
    if (audit_fd < 0)
        return 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ts.tv_nsec / 1000000));
    o = json_object();
    /* json_string refuses invalid UTF-8 (NULL): every field here was
     * checked by the protocol's rules, but a failure still writes nothing
     * rather than half a line. */
    if (!o || json_object_set_new(o, "time", json_string(when)) ||
        json_object_set_new(o, "node", json_string(audit_node)) ||
        set_opt(o, "remote", e->remote) || set_opt(o, "who", e->who) ||
        set_opt(o, "method", e->method) || set_opt(o, "path", e->path) ||
        set_opt(o, "command", e->command) ||
        json_object_set_new(o, "room", e->room && e->room[0] ? json_string(e->room) : json_null()) ||
        set_opt(o, "outcome", e->outcome) ||
        (e->status && json_object_set_new(o, "status", json_integer(e->status))))
        goto done;
    line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!line)
        goto done;
    size_t n = strlen(line);
    line[n] = '\n'; /* replaces the NUL: one write of the whole line */
    ssize_t w = write(audit_fd, line, n + 1);
    if (w == (ssize_t)(n + 1)) {
        rc = 0;
        audit_failing = false;
    }
done:
    if (rc != 0 && !audit_failing) {
        audit_failing = true;
        log_error("audit log %s: a line could not be written (%s)", audit_path,
                  errno ? strerror(errno) : "encoding");
    }
    free(line);
    json_decref(o);
    return rc;
}
