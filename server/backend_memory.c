/*
 * backend_memory.c: the embedded backend (backend.h). One process owns the
 * rooms; the compare-and-set is a comparison of integers; every committed
 * event is kept in memory (history, resume, the record) and, with a data
 * directory, appended to the room's journal (DATA/rooms/ID.journal) and
 * synced before the commit's callback runs.
 *
 * Journal records: {"r":"room","state":S} first (the room as created),
 * then {"r":"event","event":E,"hash":H} per committed event (H: its chain
 * hash, section 9.6), {"r":"seen","member":M} when the participant
 * directory changes, and {"r":"statement","request_id":ID,"statement":S}
 * (a written statement, contract 9.4: S is {"text","lang","sub"}) right
 * before the event that deposited it, in the same write. Statements are
 * never in an event record: the log can be served, they cannot.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "eventlog.h"
#include "journal.h"
#include "log.h"

struct mem_room {
    struct eventlog_room kept; /* first: the table hands it back */
    struct journal *journal;
};

struct mem_backend {
    struct backend base;
    char *dir;       /* DATA/rooms, or NULL */
    struct eventlog_rooms rooms;
};

static struct mem_room *find(struct mem_backend *m, const char *id)
{
    return (struct mem_room *)eventlog_rooms_find(&m->rooms, id);
}

static void mem_room_free(struct mem_room *r)
{
    if (!r)
        return;
    eventlog_room_clear(&r->kept);
    journal_close(r->journal);
    free(r);
}

static int add_room(struct mem_backend *m, struct mem_room *r)
{
    return eventlog_rooms_add(&m->rooms, &r->kept);
}

static void journal_path(struct mem_backend *m, const char *id, char *out, size_t sz)
{
    snprintf(out, sz, "%s/%s.journal", m->dir, id);
}

/* ---- load ---- */

struct replay {
    struct mem_room *mr;
    struct room *current;
    char path[PATH_MAX];
};

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
        rp->mr->kept.initial = room_state_from_json(json_object_get(rec, "state"), err, sizeof err);
        rp->current = rp->mr->kept.initial ? room_clone(rp->mr->kept.initial) : NULL;
        if (!rp->current) {
            *why = "room record does not load";
            return -1;
        }
        snprintf(rp->mr->kept.id, sizeof rp->mr->kept.id, "%s", rp->current->id);
        eventlog_start(&rp->mr->kept.log, rp->current->id, rp->current->epoch);
        return 0;
    }
    if (strcmp(kind, "event") == 0) {
        const json_t *ej = json_object_get(rec, "event");
        char *s = json_is_object(ej) ? json_dumps(ej, JSON_COMPACT) : NULL;
        /* applied and hashed from the record's own tree: no parse */
        enum room_apply_result t = s ? room_apply_json(rp->current, ej, NULL, NULL, NULL)
                             : ROOM_TEXT_UNREADABLE;
        if (t != ROOM_TEXT_APPLIED) {
            free(s);
            *why = t == ROOM_TEXT_UNREADABLE ? "event record does not parse"
                                             : "event does not apply (wrong seq or data)";
            return -1;
        }
        if (eventlog_push(&rp->mr->kept.log, s, strlen(s), NULL, ej) != 0) {
            free(s);
            *why = "out of memory";
            return -1;
        }
        free(s);
        /* The hash is recomputed, not trusted; a stored one that differs
         * means the journal was edited by hand. Said, not hidden. */
        const char *stored = json_string_value(json_object_get(rec, "hash"));
        const char *now = eventlog_hash(&rp->mr->kept.log, rp->mr->kept.log.seq);
        if (stored && strcmp(stored, now) != 0)
            log_warn("journal %s: event %llu does not match the chain hash stored with it",
                     rp->path, (unsigned long long)rp->mr->kept.log.seq);
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
        return 0;
    }
    if (strcmp(kind, "seen") == 0) {
        if (room_participant_seen_json(rp->current, json_object_get(rec, "member")) != 0) {
            *why = "bad member record";
            return -1;
        }
        return 0;
    }
    *why = "unknown record kind";
    return -1;
}

static int mem_load(struct backend *b, void (*each)(void *, struct room *, struct room *), void *arg)
{
    struct mem_backend *m = (struct mem_backend *)b;
    if (!m->dir)
        return 0;
    DIR *d = opendir(m->dir);
    if (!d) {
        log_error("cannot read %s: %s", m->dir, strerror(errno));
        return -1;
    }
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 9 || strcmp(de->d_name + nl - 8, ".journal") != 0)
            continue;
        struct replay rp;
        memset(&rp, 0, sizeof rp);
        rp.mr = calloc(1, sizeof *rp.mr);
        if (!rp.mr)
            break;
        snprintf(rp.path, sizeof rp.path, "%s/%s", m->dir, de->d_name);
        long n = journal_replay(rp.path, replay_record, &rp);
        if (n < 0 || !rp.current) {
            log_error("journal %s: no room could be read from it; left as it is", rp.path);
            room_destroy(rp.current);
            mem_room_free(rp.mr);
            continue;
        }
        rp.mr->journal = journal_open(rp.path, 0);
        if (!rp.mr->journal || add_room(m, rp.mr) != 0) {
            log_error("journal %s: cannot reopen: %s", rp.path, strerror(errno));
            room_destroy(rp.current);
            mem_room_free(rp.mr);
            continue;
        }
        log_info("room %s: replayed %llu events from %s", rp.mr->kept.id,
                 (unsigned long long)rp.mr->kept.log.seq, rp.path);
        snprintf(rp.current->chain_head, sizeof rp.current->chain_head, "%s",
                 eventlog_hash(&rp.mr->kept.log, rp.mr->kept.log.seq));
        struct room *initial = room_clone(rp.mr->kept.initial);
        each(arg, initial, rp.current);
        count++;
    }
    closedir(d);
    return count;
}

/* ---- operations ---- */

static bool mem_available(struct backend *b)
{
    (void)b;
    return true;
}

static void mem_create(struct backend *b, const struct room *initial, backend_done_cb cb, void *arg)
{
    struct mem_backend *m = (struct mem_backend *)b;
    struct mem_room *r = NULL;
    json_t *rec = NULL;
    enum backend_result res = BACKEND_UNAVAILABLE;
    if (find(m, initial->id)) {
        res = BACKEND_EXISTS;
        goto done;
    }
    r = calloc(1, sizeof *r);
    if (!r || !(r->kept.initial = room_clone(initial)))
        goto done;
    snprintf(r->kept.id, sizeof r->kept.id, "%s", initial->id);
    eventlog_start(&r->kept.log, initial->id, initial->epoch);
    if (m->dir) {
        char path[PATH_MAX];
        journal_path(m, r->kept.id, path, sizeof path);
        rec = json_pack("{s:s, s:o}", "r", "room", "state", room_state_json(initial, true));
        r->journal = journal_open(path, 1);
        if (!rec || !r->journal || journal_append(r->journal, &rec, 1) != 0) {
            log_error("room %s: cannot write its journal %s: %s", r->kept.id, path, strerror(errno));
            goto done;
        }
    }
    if (add_room(m, r) != 0)
        goto done;
    r = NULL;
    res = BACKEND_OK;
done:
    json_decref(rec);
    mem_room_free(r);
    cb(arg, res);
}

/* One node holds the room and commits synchronously: the hub decided on
 * the log's head, so nothing can come between (reads does not matter). */
static void mem_commit(struct backend *b, const char *room_id, uint64_t expected_seq,
                       unsigned reads, const struct backend_event *ev, size_t n,
                       const json_t *state, const struct backend_stmts *st, backend_commit_cb cb,
                       void *arg)
{
    (void)state; /* the memory backend rebuilds state by replaying its journal */
    (void)reads;
    struct mem_backend *m = (struct mem_backend *)b;
    struct mem_room *r = find(m, room_id);
    json_t **recs = NULL;
    char (*hash)[CHAIN_HEX_BUF] = NULL;
    struct backend_event *out = NULL;
    size_t k = 0;
    enum backend_result res = BACKEND_UNAVAILABLE;
    if (!r) {
        res = BACKEND_NOT_FOUND;
        goto done;
    }
    if (r->kept.log.seq != expected_seq) {
        res = BACKEND_CONFLICT;
        goto done;
    }
    /* one record more for a statement, written first */
    k = st && st->request_id ? 1 : 0;
    recs = calloc(n + 1, sizeof *recs);
    hash = calloc(n, sizeof *hash);
    out = calloc(n, sizeof *out);
    if (!recs || !hash || !out)
        goto done;
    if (k && !(recs[n] = json_pack("{s:s, s:s, s:O}", "r", "statement", "request_id",
                                   st->request_id, "statement", st->statement)))
        goto done;
    /* Each event's chain hash, from the log's head: journaled with the
     * event and kept with it in memory. */
    for (size_t i = 0; i < n; i++) {
        /* the hub's tree when it handed one (the text is its dump), else
         * the text parsed */
        json_error_t err;
        json_t *e = ev[i].tree ? json_incref((json_t *)ev[i].tree) : json_loadb(ev[i].json, ev[i].len, 0, &err);
        const char *prev = i ? hash[i - 1] : eventlog_hash(&r->kept.log, r->kept.log.seq);
        if (!e || chain_next(prev, e, hash[i]) != 0) {
            json_decref(e);
            log_error("room %s: event %llu has no canonical form", room_id,
                      (unsigned long long)ev[i].seq);
            goto done;
        }
        recs[i] = json_pack("{s:s, s:o, s:s}", "r", "event", "event", e, "hash", hash[i]);
        if (!recs[i])
            goto done;
        out[i] = ev[i];
        out[i].hash = hash[i];
    }
    if (r->journal) {
        /* the statement, then the events, in one synced write */
        json_t **order = calloc(n + 1, sizeof *order);
        int rc = -1;
        if (order) {
            if (k)
                order[0] = recs[n];
            memcpy(order + k, recs, n * sizeof *recs);
            rc = journal_append(r->journal, order, n + k);
        }
        free(order);
        if (rc != 0) {
            log_error("room %s: journal append failed: %s", room_id, strerror(errno));
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (eventlog_push(&r->kept.log, ev[i].json, ev[i].len, hash[i], NULL) != 0) {
            /* Already journaled: a restart would replay it. Memory is gone,
             * which is fatal for this process's view of the room. */
            log_error("room %s: out of memory storing event %llu", room_id,
                      (unsigned long long)ev[i].seq);
            abort();
        }
    }
    if (k && b->sink.on_statement)
        b->sink.on_statement(b->sink.arg, room_id, st->request_id, st->statement);
    b->sink.on_events(b->sink.arg, room_id, out, n);
    res = BACKEND_OK;
done:
    if (recs)
        for (size_t i = 0; i <= n; i++)
            json_decref(recs[i]);
    free(recs);
    free(hash);
    free(out);
    cb(arg, res, expected_seq + 1);
}

static void mem_history(struct backend *b, const char *room_id, uint64_t since, size_t limit,
                        backend_history_cb cb, void *arg)
{
    eventlog_rooms_history(&((struct mem_backend *)b)->rooms, room_id, since, limit, cb, arg);
}

static void mem_save_member(struct backend *b, const char *room_id, const json_t *member)
{
    struct mem_backend *m = (struct mem_backend *)b;
    struct mem_room *r = find(m, room_id);
    if (!r || !r->journal)
        return;
    json_t *rec = json_pack("{s:s, s:O}", "r", "seen", "member", member);
    if (!rec || journal_append(r->journal, &rec, 1) != 0)
        log_error("room %s: cannot journal a participant: %s", room_id, strerror(errno));
    json_decref(rec);
}

static void mem_save_peak(struct backend *b, const char *room_id, long peak, int64_t at)
{
    struct mem_backend *m = (struct mem_backend *)b;
    struct mem_room *r = find(m, room_id);
    if (!r || !r->journal)
        return;
    json_t *rec = json_pack("{s:s, s:I, s:I}", "r", "peak", "observers", (json_int_t)peak, "at",
                            (json_int_t)at);
    if (!rec || journal_append(r->journal, &rec, 1) != 0)
        log_error("room %s: cannot journal the observers' peak: %s", room_id, strerror(errno));
    json_decref(rec);
}

static json_t *mem_record(struct backend *b, const char *room_id, const struct room **initial)
{
    return eventlog_rooms_record(&((struct mem_backend *)b)->rooms, room_id, initial);
}

static const struct eventlog *mem_record_log(struct backend *b, const char *room_id,
                                             const struct room **initial)
{
    return eventlog_rooms_record_log(&((struct mem_backend *)b)->rooms, room_id, initial);
}

/* Every room is handed over at start (mem_load): a room the hub does not
 * hold does not exist. */
static void mem_open(struct backend *b, const char *room_id,
                     void (*cb)(void *, enum backend_result, struct room *, struct room *, const json_t *),
                     void *arg)
{
    (void)b;
    (void)room_id;
    cb(arg, BACKEND_NOT_FOUND, NULL, NULL, NULL);
}

static void mem_rooms(struct backend *b, void (*cb)(void *, enum backend_result, json_t *), void *arg)
{
    struct mem_backend *m = (struct mem_backend *)b;
    json_t *ids = json_array();
    for (size_t i = 0; ids && i < m->rooms.n; i++)
        json_array_append_new(ids, json_string(m->rooms.v[i]->id));
    cb(arg, ids ? BACKEND_OK : BACKEND_UNAVAILABLE, ids);
    json_decref(ids);
}

/* One process: delivery needs no subscription, presence has no other
 * node to tell, and nothing waits on a timer. */
static void mem_watch(struct backend *b, const char *room_id, bool on, uint64_t from)
{
    (void)b, (void)room_id, (void)on, (void)from;
}

static void mem_presence(struct backend *b, const char *room_id, const char *conn_id, bool observer,
                         const json_t *participant)
{
    (void)b, (void)room_id, (void)conn_id, (void)observer, (void)participant;
}

/* The hub's copy is the store's: nothing can lag. */
static void mem_sync(struct backend *b, const char *room_id, backend_done_cb cb, void *arg)
{
    (void)b, (void)room_id;
    cb(arg, BACKEND_OK);
}

static void mem_tick(struct backend *b, int64_t now_ms)
{
    (void)b, (void)now_ms;
}

static void mem_destroy(struct backend *b)
{
    struct mem_backend *m = (struct mem_backend *)b;
    for (size_t i = 0; i < m->rooms.n; i++)
        mem_room_free((struct mem_room *)m->rooms.v[i]);
    eventlog_rooms_free(&m->rooms);
    free(m->dir);
    free(m);
}

static const struct backend_ops mem_ops = {
    .name = "memory",
    .destroy = mem_destroy,
    .available = mem_available,
    .load = mem_load,
    .create = mem_create,
    .commit = mem_commit,
    .history = mem_history,
    .save_member = mem_save_member,
    .save_peak = mem_save_peak,
    .record = mem_record,
    .record_log = mem_record_log,
    .open = mem_open,
    .rooms = mem_rooms,
    .watch = mem_watch,
    .presence = mem_presence,
    .sync = mem_sync,
    .tick = mem_tick,
};

struct backend *backend_memory_create(const char *data_dir)
{
    struct mem_backend *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base.ops = &mem_ops;
    if (data_dir) {
        char path[PATH_MAX];
        if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
            log_error("cannot create data directory %s: %s", data_dir, strerror(errno));
            goto fail;
        }
        snprintf(path, sizeof path, "%s/rooms", data_dir);
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            log_error("cannot create %s: %s", path, strerror(errno));
            goto fail;
        }
        m->dir = strdup(path);
        if (!m->dir)
            goto fail;
    }
    return &m->base;
fail:
    free(m);
    return NULL;
}
