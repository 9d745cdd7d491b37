/*
 * fuzz_journal: a room journal file (DATA/rooms/ID.journal) replayed at
 * start, with server/journal.c itself reading a real file.
 *
 * The input is written to a temporary file and replayed with
 * journal_replay() and a callback that does what backend_memory.c's
 * replay_record() does (it is static there; this copy must be kept in step
 * by hand): the first record {"r":"room","state":S} loads with
 * room_state_from_json, then {"r":"event","event":E} records go, as the
 * record's tree E, through room_apply_json() (the path every replay takes,
 * room_apply_text() after its parse; not a copy of it; its before hook
 * keeps the room as it was, for the checks of fuzz_apply_checked), {"r":"seen",
 * "member":M} records go to room_participant_seen, and {"r":"statement",
 * "request_id","statement":{"text","lang","sub"}} records (written
 * statements, kept apart from the events) to room_statement_put, and
 * {"r":"peak","observers","at"} raise the observers' peak.
 *
 * An input that starts with '!' holds bare JSON lines instead: each gets
 * its right CRC before it is written, so that the fuzzer's changes inside a
 * record reach the record's parsing instead of all failing the checksum.
 *
 * Phase 2 loads the same file the way the server starts: the memory
 * backend on a data directory holding it (backend_memory_create, load, and
 * record for the meeting record), so that backend_memory.c's own
 * replay_record runs too, and the copy above is checked to be in step
 * with it (both load the same room, or neither does).
 *
 * Checked: the replay never reads out of bounds; a bad tail is cut exactly
 * after the last good record (a second replay then finds the same records
 * and cuts nothing); the room that comes back stores and reads back (what
 * the hub and the Redis backend do with it next), its clock can commit, and
 * its record renders from the replayed events in every format.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "fuzz.h"
#include "journal.h"
#include "log.h"

/* DIR/rooms/fuzz-room.journal, DIR the data directory of phase 2. */
static char dir[256], path[300];

struct replay {
    struct room *initial;
    struct room *current;
    json_t *events; /* the applied events, as stored */
    long records;
};

/* room_apply_text's before hook: keeps a clone of the room as it was
 * (*arg, a struct room **), so that the event's effect can be checked. */
static void keep_before(void *arg, const struct room *r, const struct room_event *ev)
{
    struct room **before = arg;
    (void)ev;
    *before = room_clone(r);
    FUZZ_CHECK(*before, "room_clone failed");
}

/* An {"r":"event"} record, the way backend_memory.c replays it: its tree
 * through room_apply_json(), the path shared by every replay, then
 * room_apply's promises checked on what that did. Returns 0 or -1 with
 * *why set. */
static int replay_event(struct replay *rp, const json_t *ej, const char **why)
{
    struct room *before = NULL;
    struct room_event ev;
    char *s = json_is_object(ej) ? json_dumps(ej, JSON_COMPACT) : NULL;
    enum room_apply_result t = s ? room_apply_json(rp->current, ej, keep_before, &before, &ev)
                                 : ROOM_TEXT_UNREADABLE;
    int rc = -1;
    /* ev is handed over only when it was read (applied or refused). */
    if (t != ROOM_TEXT_UNREADABLE) {
        fuzz_check_applied(before, rp->current, &ev, t == ROOM_TEXT_APPLIED ? 0 : -1);
        room_event_clear(&ev);
    }
    if (t != ROOM_TEXT_APPLIED) {
        *why = t == ROOM_TEXT_UNREADABLE ? "event record does not parse"
                                         : "event does not apply (wrong seq or data)";
        goto done;
    }
    json_array_append(rp->events, (json_t *)ej);
    rc = 0;
done:
    room_destroy(before);
    free(s);
    return rc;
}

/* backend_memory.c replay_record(), same decisions in the same order. */
static int replay_record(void *arg, const json_t *rec, const char **why)
{
    struct replay *rp = arg;
    const char *kind = json_string_value(json_object_get(rec, "r"));
    char err[200] = "";
    if (!kind) {
        *why = "record without kind";
        return -1;
    }
    if (!rp->current) {
        if (strcmp(kind, "room") != 0) {
            *why = "first record is not the room";
            return -1;
        }
        rp->initial = room_state_from_json(json_object_get(rec, "state"), err, sizeof err);
        rp->current = rp->initial ? room_clone(rp->initial) : NULL;
        if (!rp->current) {
            *why = "room record does not load";
            return -1;
        }
        rp->records++;
        return 0;
    }
    if (strcmp(kind, "event") == 0) {
        if (replay_event(rp, json_object_get(rec, "event"), why) != 0)
            return -1;
        rp->records++;
        return 0;
    }
    if (strcmp(kind, "peak") == 0) {
        json_int_t n = json_integer_value(json_object_get(rec, "observers"));
        json_int_t at = json_integer_value(json_object_get(rec, "at"));
        if (n < 0 || n > 100000000 || at < 0 || at > (INT64_C(1) << 53)) {
            *why = "bad peak record";
            return -1;
        }
        if (n > rp->current->observers_peak) {
            rp->current->observers_peak = (long)n;
            rp->current->observers_peak_at = at;
        }
        rp->records++;
        return 0;
    }
    if (strcmp(kind, "statement") == 0) {
        const json_t *st = json_object_get(rec, "statement");
        if (room_statement_put(rp->current, json_string_value(json_object_get(rec, "request_id")),
                               json_string_value(json_object_get(st, "sub")),
                               json_string_value(json_object_get(st, "lang")),
                               json_string_value(json_object_get(st, "text"))) != 0) {
            *why = "bad statement record";
            return -1;
        }
        rp->records++;
        return 0;
    }
    if (strcmp(kind, "seen") == 0) {
        if (room_participant_seen_json(rp->current, json_object_get(rec, "member")) != 0) {
            *why = "bad member record";
            return -1;
        }
        rp->records++;
        return 0;
    }
    *why = "unknown record kind";
    return -1;
}

static void write_file(const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0, "cannot open %s", path);
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        FUZZ_CHECK(w > 0, "cannot write %s", path);
        off += (size_t)w;
    }
    close(fd);
}

static long long file_size(void)
{
    struct stat st;
    FUZZ_CHECK(stat(path, &st) == 0, "cannot stat %s", path);
    return (long long)st.st_size;
}

/* The byte after the n-th '\n' of data (0 for n == 0). */
static size_t end_of_line(const uint8_t *data, size_t size, long n)
{
    size_t off = 0;
    for (long i = 0; i < n; i++) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        FUZZ_CHECK(nl, "fewer lines than good records");
        off = (size_t)(nl - data) + 1;
    }
    return off;
}

static void free_replay(struct replay *rp)
{
    room_destroy(rp->initial);
    room_destroy(rp->current);
    json_decref(rp->events);
    memset(rp, 0, sizeof *rp);
}

/* ---- phase 2: the memory backend's own loading ---- */

struct loaded {
    struct room *initial, *current;
    int rooms;
};

static void on_events(void *arg, const char *room_id, const struct backend_event *ev, size_t n)
{
    (void)arg;
    (void)room_id;
    (void)ev;
    (void)n;
}

static void each_room(void *arg, struct room *initial, struct room *current)
{
    struct loaded *l = arg;
    l->rooms++;
    room_destroy(l->initial);
    room_destroy(l->current);
    l->initial = initial;
    l->current = current;
}

static void load_with_backend(const struct replay *copy)
{
    struct backend *b = backend_memory_create(dir);
    struct loaded l = {0};
    FUZZ_CHECK(b, "backend_memory_create(%s) failed", dir);
    b->sink = (struct backend_sink){.on_events = on_events};
    int n = b->ops->load(b, each_room, &l);
    FUZZ_CHECK(n == l.rooms && n <= 1, "load returned %d for %d rooms", n, l.rooms);
    FUZZ_CHECK(!l.current == !copy->current,
               "backend_memory.c loads %s room, this target's copy of replay_record %s "
               "(keep the copy in step)", l.current ? "a" : "no", copy->current ? "one" : "none");
    if (l.current) {
        FUZZ_CHECK(fuzz_room_equal(l.current, copy->current) &&
                       fuzz_room_equal(l.initial, copy->initial),
                   "backend_memory.c loads another room than this target's copy of "
                   "replay_record (keep the copy in step)");
        /* GET /api/rooms/ID/transcript: the record from the backend. */
        const struct room *initial = NULL;
        json_t *events = b->ops->record(b, l.current->id, &initial);
        FUZZ_CHECK(events && initial, "no record for a loaded room");
        FUZZ_CHECK(json_array_size(events) == l.current->seq - initial->seq,
                   "the record holds %zu events for seqs %llu..%llu", json_array_size(events),
                   (unsigned long long)initial->seq, (unsigned long long)l.current->seq);
        fuzz_check_transcript(initial, events, true);
        json_decref(events);
    }
    room_destroy(l.initial);
    room_destroy(l.current);
    backend_destroy(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/rostrum-fuzz-journal-%ld", tmp ? tmp : "/tmp", (long)getpid());
    snprintf(path, sizeof path, "%s/rooms/fuzz-room.journal", dir);
    FUZZ_CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST, "cannot create %s", dir);
    char rooms[300];
    snprintf(rooms, sizeof rooms, "%s/rooms", dir);
    FUZZ_CHECK(mkdir(rooms, 0700) == 0 || errno == EEXIST, "cannot create %s", rooms);
    /* A bad tail is logged on every run, a journal without a room as an
     * error: print nothing. */
    log_setup("fuzz", (enum log_level)(LOG_ERROR + 1));
    return 0;
}

/* '!' mode: data holds bare JSON lines; each gets its right checksum, so
 * that the fuzzer's changes to the records get past the CRC. A last line
 * without '\n' stays without (a truncated record). Returns a new buffer. */
static uint8_t *with_checksums(const uint8_t *data, size_t size, size_t *outlen)
{
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    uint8_t *out = malloc(size + lines * 9 + 1);
    FUZZ_CHECK(out, "out of memory");
    size_t o = 0, off = 0;
    while (off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (data + off)) : size - off;
        char crc[10];
        snprintf(crc, sizeof crc, "%08x ", journal_crc32(data + off, n));
        memcpy(out + o, crc, 9);
        o += 9;
        memcpy(out + o, data + off, n);
        o += n;
        off += n;
        if (nl) {
            out[o++] = '\n';
            off++;
        }
    }
    *outlen = o;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t input_size)
{
    struct replay rp;
    uint8_t *fixed = NULL;
    const uint8_t *data = input;
    size_t size = input_size;
    if (size > 0 && input[0] == '!') {
        data = fixed = with_checksums(input + 1, size - 1, &size);
    }
    memset(&rp, 0, sizeof rp);
    rp.events = json_array();
    write_file(data, size);

    long good = journal_replay(path, replay_record, &rp);
    FUZZ_CHECK(good >= 0, "journal_replay could not read %s", path);
    FUZZ_CHECK(good == rp.records, "journal_replay counted %ld good records, the callback %ld",
               good, rp.records);
    /* Exactly the good records are kept. */
    size_t keep = end_of_line(data, size, good);
    FUZZ_CHECK(file_size() == (long long)keep, "the file was cut at %lld, not after record %ld "
               "(byte %zu)", file_size(), good, keep);

    if (rp.current) {
        fuzz_check_room(rp.current);
        fuzz_check_room(rp.initial);
        FUZZ_CHECK(rp.current->seq == rp.initial->seq + json_array_size(rp.events),
                   "seq %llu after %zu events from %llu", (unsigned long long)rp.current->seq,
                   json_array_size(rp.events), (unsigned long long)rp.initial->seq);
        /* The record the admin API serves for this room. */
        fuzz_check_transcript(rp.initial, rp.events, true);
    }

    /* A second start replays the same records and cuts nothing. */
    struct replay again;
    memset(&again, 0, sizeof again);
    again.events = json_array();
    long good2 = journal_replay(path, replay_record, &again);
    FUZZ_CHECK(good2 == good, "a second replay found %ld records, the first %ld", good2, good);
    FUZZ_CHECK(file_size() == (long long)keep, "a second replay cut the file again");
    FUZZ_CHECK(!rp.current == !again.current &&
                   (!rp.current || fuzz_room_equal(rp.current, again.current)),
               "a second replay gives another room");
    free_replay(&again);

    load_with_backend(&rp);
    free_replay(&rp);
    free(fixed);
    return 0;
}
