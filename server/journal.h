/*
 * journal: an append-only file of records, one per line, each line
 * "CRC32HEX JSON\n". Appends are written and fdatasync'ed before
 * journal_append() returns, so a record the caller acknowledges survives
 * a crash. Replay stops at the first line that is truncated, fails its
 * checksum, is not JSON, or is refused by the caller; that tail is
 * reported and cut off, never silently accepted.
 */
#ifndef ROSTRUM_JOURNAL_H
#define ROSTRUM_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct journal;

/* Opens (creating when create is set) path for appending. Returns a new
 * journal (journal_close()) or NULL (errno set). */
struct journal *journal_open(const char *path, int create);
/* Appends n records (each serialized compactly) and syncs. Returns 0 or -1
 * (errno set); on -1 the file is cut back to its size before the call. */
int journal_append(struct journal *j, json_t *const *records, size_t n);
void journal_close(struct journal *j); /* NULL is a no-op */

/* Replays path: calls each(arg, record) for every good record in order
 * (record borrowed). each returns 0 to go on or -1 to refuse the record
 * (it then counts as the corrupt tail, with why from *why if set).
 * Returns the number of good records, or -1 when the file cannot be read.
 * A bad tail is logged and truncated away. */
long journal_replay(const char *path, int (*each)(void *arg, const json_t *record, const char **why),
                    void *arg);

/* CRC-32 (IEEE 802.3) of data. */
uint32_t journal_crc32(const void *data, size_t len);

#endif
