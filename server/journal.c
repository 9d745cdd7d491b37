/*
 * journal.c: checksummed, fsync'ed line records (journal.h).
 *
 * fsync policy: every journal_append() ends with fdatasync(), and the
 * caller acknowledges a command only after that; the room file's directory
 * entry is synced when the file is created. One fdatasync per commit costs
 * a few hundred microseconds on an SSD, which a meeting's command rate
 * affords; chat fan-out does not wait on it beyond its own commit.
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

struct journal {
    int fd;
};

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t journal_crc32(const void *data, size_t len)
{
    if (!crc_table[1])
        crc_init();
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void sync_dir_of(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    int dfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

struct journal *journal_open(const char *path, int create)
{
    int existed = access(path, F_OK) == 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
    if (fd < 0)
        return NULL;
    struct journal *j = malloc(sizeof *j);
    if (!j) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    j->fd = fd;
    if (!existed)
        sync_dir_of(path);
    return j;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int journal_append(struct journal *j, json_t *const *records, size_t n)
{
    off_t start = lseek(j->fd, 0, SEEK_END);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        char *s = json_dumps(records[i], JSON_COMPACT);
        if (!s) {
            errno = ENOMEM;
            goto fail;
        }
        size_t sl = strlen(s);
        if (len + sl + 11 > cap) {
            size_t ncap = (len + sl + 11) * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(s);
                errno = ENOMEM;
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        snprintf(buf + len, 10, "%08x ", journal_crc32(s, sl));
        len += 9;
        memcpy(buf + len, s, sl);
        len += sl;
        buf[len++] = '\n';
        free(s);
    }
    if (write_all(j->fd, buf, len) != 0 || fdatasync(j->fd) != 0) {
        int e = errno;
        if (start >= 0 && ftruncate(j->fd, start) != 0)
            log_error("journal: cannot cut a failed append back: %s", strerror(errno));
        errno = e;
        goto fail;
    }
    rc = 0;
fail:
    free(buf);
    return rc;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    close(j->fd);
    free(j);
}

long journal_replay(const char *path, int (*each)(void *arg, const json_t *record, const char **why),
                    void *arg)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    long good = 0, lineno = 0;
    off_t good_end = 0;
    const char *why = NULL;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        why = NULL;
        if (line[n - 1] != '\n') {
            why = "truncated line (no newline)";
            break;
        }
        line[--n] = '\0';
        char *end;
        if (n < 10 || line[8] != ' ') {
            why = "malformed line";
            break;
        }
        unsigned long crc = strtoul(line, &end, 16);
        if (end != line + 8 || crc != journal_crc32(line + 9, (size_t)n - 9)) {
            why = "checksum mismatch";
            break;
        }
        json_error_t err;
        json_t *rec = json_loadb(line + 9, (size_t)n - 9, 0, &err);
        if (!rec) {
            why = "not JSON";
            break;
        }
        int r = each(arg, rec, &why);
        json_decref(rec);
        if (r != 0) {
            if (!why)
                why = "record refused";
            break;
        }
        good++;
        good_end = ftello(f);
    }
    int bad = why != NULL || (n < 0 && !feof(f));
    free(line);
    fclose(f);
    if (bad) {
        struct stat st;
        long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
        log_warn("journal %s: bad record at line %ld (%s); cutting the tail at byte %lld "
                 "(%lld bytes dropped, %ld good records kept)",
                 path, lineno, why ? why : "read error", (long long)good_end,
                 size >= 0 ? size - (long long)good_end : -1LL, good);
        if (truncate(path, good_end) != 0) {
            log_error("journal %s: cannot cut the bad tail: %s", path, strerror(errno));
            return -1;
        }
    }
    return good;
}
