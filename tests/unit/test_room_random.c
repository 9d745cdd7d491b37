/*
 * test_room_random: random meetings (fixed seeds, so failures reproduce)
 * driven through room_decide / room_decide_clock / room_decide_disconnect
 * and committed as the hub does. After every step the invariants that the
 * rest of the server relies on are checked:
 *   - decide never changes the state it is given (not one byte);
 *   - an error produces no event; seqs are consecutive from 1;
 *   - at most one floor, granted only when none is open, ended only when one is;
 *   - nobody is twice in the queue with the same kind; request ids unique;
 *   - removed participants have no request, no mute, no floor;
 *   - time_up comes once per floor (again only after an extension);
 *   - the sum of floor_ended spoken_ms (and their count) equals the stats;
 *   - no floor while the meeting is scheduled; agenda_item_started_at is
 *     null exactly while scheduled (with an item) and never in the future;
 *     the current item is always on the agenda (set_agenda keeps it);
 *     a schedule ends after it starts; requests and floors carry the
 *     region of the person;
 *   - the projection (contract 9.2) reads every snapshot the room makes:
 *     one item per request, in order, each starting after the one before;
 *   - a replica fed only with the wire events (encoded, dumped, parsed,
 *     read back, applied) has the same sequenced state, and so does a full
 *     replay from the initial room at the end of each sequence;
 *   - the delta form (contract section 10): a client that starts from the
 *     initial room and applies every event's queue_ops and stats_ops has,
 *     after every event, exactly the queue and stats of the full form, with
 *     the length and hash the event states; the delta log gives back the
 *     same texts for the history;
 *   - chat lines commute (issue 10): a say or announce decided on a state
 *     the walk reaches and again after another decision's events decides
 *     alike whenever room_event_chat_changes() of those events and
 *     room_chat_reads() of the line say it read nothing they change
 *     (check_chat_commutes, on its own random stream).
 */
#include "room.h"

#include "delta.h"
#include "deltalog.h"
#include "projection.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SEQUENCES 200
#define STEPS 500
#define T0 INT64_C(1783000000000)

/* xorshift64*: small, deterministic, good enough to pick actions. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static int pick(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

#define N_ACTORS 8
static struct room_actor actors[N_ACTORS];

static void init_actors(void)
{
    static const struct {
        const char *sub, *name, *deleg;
        enum proto_category cat;
        enum proto_role role;
        const char *region;
    } def[N_ACTORS] = {
        {"chair-1", "Ana Chair", "", PROTO_CAT_NONE, PROTO_ROLE_MODERATOR, ""},
        {"chair-2", "Bo Vice", "", PROTO_CAT_NONE, PROTO_ROLE_MODERATOR, ""},
        {"fr", "Jean Dupont", "France", PROTO_CAT_MEMBER_STATE, PROTO_ROLE_DELEGATE,
         "Western European and other States"},
        {"va", "Luca Rossi", "Holy See", PROTO_CAT_OBSERVER_STATE, PROTO_ROLE_DELEGATE,
         "Western European and other States"},
        {"unodc", "Kim Park", "UNODC", PROTO_CAT_UN_ENTITY, PROTO_ROLE_DELEGATE, ""},
        {"ngo", "Sam Lee", "Global NGO", PROTO_CAT_CIVIL_SOCIETY, PROTO_ROLE_DELEGATE,
         "African States"},
        {"x", "Xavier", "", PROTO_CAT_NONE, PROTO_ROLE_DELEGATE, "Asia-Pacific States"},
        {"obs", "Olga Watcher", "", PROTO_CAT_NONE, PROTO_ROLE_OBSERVER, ""},
    };
    for (int i = 0; i < N_ACTORS; i++) {
        memset(&actors[i], 0, sizeof actors[i]);
        snprintf(actors[i].sub, sizeof actors[i].sub, "%s", def[i].sub);
        snprintf(actors[i].name, sizeof actors[i].name, "%s", def[i].name);
        snprintf(actors[i].delegation, sizeof actors[i].delegation, "%s", def[i].deleg);
        actors[i].category = def[i].cat;
        actors[i].role = def[i].role;
        snprintf(actors[i].region, sizeof actors[i].region, "%s", def[i].region);
    }
}

struct sim {
    struct room *initial; /* as created: the replay starts here */
    struct room *r;       /* the live replica (with directory) */
    struct room *replica; /* fed only with wire events */
    json_t *log;          /* every committed wire event (dumped text re-parsed) */
    int64_t now;
    bool floor_open;
    bool time_up_armed;
    bool dirty; /* events were committed since the last replica check */
    int64_t spoken_sum;
    int ended_count;
    struct deltalog deltas; /* the server's delta log */
    json_t *dq, *dstats;    /* a delta client's queue and stats */
};

static void fail_dump(const char *what, const json_t *a, const json_t *b)
{
    char *x = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
    char *y = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
    fprintf(stderr, "%s differ:\n  %s\n  %s\n", what, x ? x : "(null)", y ? y : "(null)");
    free(x);
    free(y);
}

static long delta_ops[4]; /* insert, remove, move, update: the walk reaches each */

/* The delta form of one full event, applied as a client does and checked
 * against the full form. */
static void check_delta(struct sim *s, const json_t *full)
{
    const char *text;
    size_t len;
    CHECK_INT(deltalog_push(&s->deltas, full, &text, &len), 0);
    const json_t *fst = json_object_get(full, "state");
    const json_t *fq = json_object_get(fst, "queue"), *fs = json_object_get(fst, "stats");
    if (!fq && !fs) {
        CHECK(text == NULL); /* the same as the full form */
        return;
    }
    json_t *d = text ? json_loadb(text, len, 0, NULL) : NULL;
    CHECK(d != NULL);
    const json_t *dst = json_object_get(d, "state");
    CHECK(json_object_get(dst, "queue") == NULL);
    CHECK(json_object_get(dst, "stats") == NULL);
    size_t dl;
    CHECK(deltalog_get(&s->deltas, s->deltas.seq, &dl) == text);
    if (fq) {
        const json_t *ops = json_object_get(dst, "queue_ops");
        for (size_t i = 0; i < json_array_size(ops); i++) {
            const char *op = json_string_value(json_object_get(json_array_get(ops, i), "op"));
            for (int k = 0; k < 4; k++)
                if (op && strcmp(op, (const char *[]){"insert", "remove", "move", "update"}[k]) == 0)
                    delta_ops[k]++;
        }
        CHECK_INT(delta_queue_apply(s->dq, ops), 0);
        if (!json_equal(s->dq, (json_t *)fq)) {
            CHECK(0);
            fail_dump("delta and full queue", s->dq, fq);
        }
        char hash[DELTA_HASH_BUF];
        delta_queue_hash(s->dq, hash);
        CHECK_STR(json_string_value(json_object_get(dst, "queue_hash")), hash);
        CHECK_INT(json_integer_value(json_object_get(dst, "queue_len")), json_array_size(s->dq));
    }
    if (fs) {
        CHECK_INT(delta_stats_apply(s->dstats, json_object_get(dst, "stats_ops")), 0);
        if (!json_equal(s->dstats, (json_t *)fs)) {
            CHECK(0);
            fail_dump("delta and full stats", s->dstats, fs);
        }
    }
    /* Every other part and field is the full form's. */
    json_t *a = json_deep_copy(full), *b = json_deep_copy(d);
    json_t *as = json_object_get(a, "state"), *bs = json_object_get(b, "state");
    json_object_del(as, "queue");
    json_object_del(as, "stats");
    json_object_del(bs, "queue_ops");
    json_object_del(bs, "queue_len");
    json_object_del(bs, "queue_hash");
    json_object_del(bs, "stats_ops");
    CHECK(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    json_decref(d);
}

static long event_counts[PROTO_EV__COUNT];
static long error_counts[PROTO_ERR__COUNT];


/* Commits what a decide produced: seq, apply, encode; then the replica
 * gets the event through its text form. Tracks what the invariants need. */
static void commit(struct sim *s, struct room_events *out)
{
    if (out->n)
        s->dirty = true;
    /* A deposited text goes to both copies beside the events, as the
     * stores hand it to every node (contract 9.4). */
    if (out->stmt_text) {
        CHECK_INT(room_statement_put(s->r, out->stmt_request, out->stmt_sub, out->stmt_lang,
                                     out->stmt_text), 0);
        CHECK_INT(room_statement_put(s->replica, out->stmt_request, out->stmt_sub, out->stmt_lang,
                                     out->stmt_text), 0);
    }
    for (size_t i = 0; i < out->n; i++) {
        struct room_event *e = &out->ev[i];
        struct room_event back;
        e->seq = s->r->seq + 1;
        event_counts[e->name]++;
        switch (e->name) {
        case PROTO_EV_FLOOR_GRANTED:
            CHECK(!s->floor_open);
            CHECK(s->r->status != PROTO_STATUS_SCHEDULED);
            s->floor_open = true;
            s->time_up_armed = true;
            break;
        case PROTO_EV_FLOOR_ENDED:
            CHECK(s->floor_open);
            s->floor_open = false;
            s->spoken_sum += json_integer_value(json_object_get(e->data, "spoken_ms"));
            s->ended_count++;
            break;
        case PROTO_EV_TIME_UP:
            CHECK(s->time_up_armed); /* once per floor, again only after extend */
            s->time_up_armed = false;
            break;
        case PROTO_EV_TIME_EXTENDED:
            s->time_up_armed = true;
            break;
        default:
            break;
        }
        CHECK_INT(room_apply(s->r, e), 0);
        CHECK_INT(s->r->seq, json_array_size(s->log) + 1);
        json_t *j = room_event_json(s->r, e);
        char *text = json_dumps(j, JSON_COMPACT);
        json_t *parsed = text ? json_loads(text, 0, NULL) : NULL;
        CHECK(parsed != NULL);
        /* the state parts are exactly those the table names */
        unsigned parts = proto_event_parts(e->name);
        size_t nparts = 0;
        for (unsigned p = parts; p; p &= p - 1)
            nparts++;
        CHECK_INT(json_object_size(json_object_get(parsed, "state")), nparts);
        CHECK_INT(room_event_from_json(parsed, &back), 0);
        CHECK_INT(room_apply(s->replica, &back), 0);
        room_event_clear(&back);
        /* the chain head, as the hub keeps it (publish_conclusions) */
        if (!s->r->chain_head[0])
            chain_h0(s->r->id, s->r->epoch, s->r->chain_head);
        CHECK_INT(chain_next(s->r->chain_head, parsed, s->r->chain_head), 0);
        memcpy(s->replica->chain_head, s->r->chain_head, sizeof s->r->chain_head);
        /* the embargo: no event but statement_published carries a text
         * of a statement, and a deposit only its size */
        if (e->name == PROTO_EV_STATEMENT_DEPOSITED)
            CHECK(json_object_get(e->data, "text") == NULL);
        check_delta(s, parsed);
        json_array_append_new(s->log, parsed);
        free(text);
        json_decref(j);
    }
    room_events_clear(out);
}

static void check_invariants(struct sim *s)
{
    const struct room *r = s->r;

    CHECK_INT(r->floor.active, s->floor_open);
    for (size_t i = 0; i < r->queue_len; i++) {
        const struct room_member *m = room_member_find(r, r->queue[i].sub);
        CHECK(!m || !m->removed);
        for (size_t k = i + 1; k < r->queue_len; k++) {
            CHECK(strcmp(r->queue[i].id, r->queue[k].id) != 0);
            CHECK(!(r->queue[i].kind == r->queue[k].kind &&
                    strcmp(r->queue[i].sub, r->queue[k].sub) == 0));
        }
    }
    int64_t spoken = 0;
    long turns = 0;
    for (size_t i = 0; i < r->members_len; i++) {
        const struct room_member *m = &r->members[i];
        spoken += m->spoken_ms;
        turns += m->turns;
        if (m->removed) {
            CHECK(!m->muted);
            CHECK(!(r->floor.active && strcmp(r->floor.sub, m->sub) == 0));
        }
    }
    CHECK_INT(spoken, s->spoken_sum);
    CHECK_INT(turns, s->ended_count);
    /* version 1.1 */
    if (r->status == PROTO_STATUS_SCHEDULED)
        CHECK(!r->floor.active && !r->has_item_started);
    if (r->agenda_item[0] && r->status == PROTO_STATUS_OPEN)
        CHECK(r->has_item_started);
    if (r->has_item_started)
        CHECK(r->item_started_at <= s->now);
    if (r->agenda_item[0]) {
        bool on = false;
        for (size_t i = 0; i < r->agenda_len; i++)
            on = on || strcmp(r->agenda[i].id, r->agenda_item) == 0;
        CHECK(on);
    }
    if (r->schedule.set)
        CHECK(r->schedule.ends_at > r->schedule.starts_at);
    for (size_t i = 0; i < r->queue_len; i++) {
        for (int k = 0; k < N_ACTORS; k++)
            if (strcmp(actors[k].sub, r->queue[i].sub) == 0)
                CHECK_STR(r->queue[i].region, actors[k].region);
    }
    if (r->floor.active) {
        const struct room_member *m = room_member_find(r, r->floor.sub);
        CHECK(m != NULL);
        if (m && m->seen)
            CHECK_STR(r->floor.region, m->region);
    }
    if (r->floor.active) {
        CHECK(r->floor.elapsed_ms >= 0);
        CHECK(r->floor.limit_s >= 1);
        if (r->floor.time_up && r->settings.on_time_up == PROTO_TIMEUP_NOTIFY)
            CHECK_INT(room_deadline(r), -1);
    } else {
        CHECK_INT(room_deadline(r), -1);
    }

    /* the projection of every snapshot, every 10th step (it is cheap, the
     * snapshot encoding is not) */
    if (s->dirty && r->seq % 10 == 0) {
        json_t *snap = room_snapshot_json(r);
        struct projection p;
        CHECK_INT(projection_compute(snap, s->now, &p), 0);
        CHECK_INT(p.n, r->queue_len);
        for (size_t i = 0; i < p.n && i < r->queue_len; i++) {
            CHECK_STR(p.items[i].id, r->queue[i].id);
            if (i)
                CHECK(p.items[i].eta_ms >= p.items[i - 1].end_ms);
        }
        CHECK(r->floor.active || p.remaining_ms == 0);
        projection_clear(&p);
        json_decref(snap);
    }

    /* A step without events changes neither room (decide is checked not
     * to write), so the replica comparison runs after each commit. */
    if (!s->dirty)
        return;
    s->dirty = false;
    json_t *a = room_state_json(r, false), *b = room_state_json(s->replica, false);
    if (!json_equal(a, b)) {
        CHECK(0);
        fail_dump("live and replica", a, b);
    }
    json_decref(a);
    json_decref(b);
}

static const char *const subs[] = {"chair-1", "chair-2", "fr", "va", "unodc", "ngo", "x", "obs",
                                   "nobody"};

static json_t *random_settings(void)
{
    json_t *o = json_object();
    int n = 1 + pick(3);
    for (int i = 0; i < n; i++) {
        switch (pick(10)) {
        case 0:
            json_object_set_new(o, "speech_s", json_integer(1 + pick(240)));
            break;
        case 1:
            json_object_set_new(o, "reply_s", json_integer(1 + pick(90)));
            break;
        case 2:
            json_object_set_new(o, "on_time_up", json_string(pick(2) ? "notify" : "end"));
            break;
        case 3:
            json_object_set_new(o, "chat", json_string((const char *[]){"open", "floor", "off"}[pick(3)]));
            break;
        case 4:
            json_object_set_new(o, "list_open", json_boolean(pick(2)));
            break;
        case 5:
            json_object_set_new(o, "queue_order", json_string(pick(2) ? "request" : "category"));
            break;
        case 6:
            json_object_set_new(o, "replies_per_item", json_integer(pick(4)));
            break;
        case 7:
            json_object_set_new(o, "pause_on_disconnect", json_boolean(pick(2)));
            break;
        case 8:
            json_object_set_new(o, "point_of_order_s", json_integer(1 + pick(60)));
            break;
        default: /* invalid */
            json_object_set_new(o, pick(2) ? "speech_s" : "nope", json_integer(-pick(3)));
            break;
        }
    }
    return o;
}

/* A schedule, mostly valid. */
static json_t *random_schedule(void)
{
    static const char *const zones[] = {"America/New_York", "Europe/Vienna", "UTC",
                                        "../etc/passwd", ""};
    int64_t start = T0 + (int64_t)pick(7200) * 1000;
    switch (pick(8)) {
    case 0:
        return json_null();
    case 1: /* ends before it starts */
        return json_pack("{s:I, s:I, s:s}", "starts_at", (json_int_t)start, "ends_at",
                         (json_int_t)start - 1, "time_zone", "UTC");
    case 2: /* a misspelt field */
        return json_pack("{s:I, s:I, s:s}", "starts_at", (json_int_t)start, "end_at",
                         (json_int_t)start + 1, "time_zone", "UTC");
    default:
        return json_pack("{s:I, s:I, s:s}", "starts_at", (json_int_t)start, "ends_at",
                         (json_int_t)start + 1000 * (1 + pick(7200)), "time_zone",
                         zones[pick(5)]);
    }
}

/* An agenda: a random subset of q1..q4 (so the current item sometimes
 * goes, which must be refused), with planned times and reserved marks,
 * sometimes invalid. */
static json_t *random_agenda(void)
{
    static const char *const ids[] = {"q1", "q2", "q3", "q4"};
    json_t *a = json_array();
    for (int i = 0; i < 4; i++) {
        if (pick(4) == 0)
            continue;
        json_t *it = json_pack("{s:s, s:s}", "id", ids[i], "title", "Item");
        switch (pick(6)) {
        case 0:
            json_object_set_new(it, "planned_s", json_integer(60 * (1 + pick(30))));
            break;
        case 1:
            json_object_set_new(it, "planned_s", json_integer(600));
            json_object_set_new(it, "reserved", json_true());
            break;
        case 2:
            if (pick(4) == 0)
                json_object_set_new(it, "planned_s", json_integer(pick(2) ? 0 : 86401));
            break;
        default:
            break;
        }
        json_array_append_new(a, it);
    }
    return a;
}

/* A random command, mostly well aimed (existing request ids, known subs),
 * sometimes not. */
static struct proto_cmd random_cmd(const struct sim *s)
{
    const struct room *r = s->r;
    struct proto_cmd c;
    memset(&c, 0, sizeof c);
    /* favour the commands that move the meeting */
    static const enum proto_cmd_type common[] = {
        PROTO_CMD_REQUEST_FLOOR, PROTO_CMD_REQUEST_FLOOR, PROTO_CMD_REQUEST_FLOOR,
        PROTO_CMD_GRANT, PROTO_CMD_GRANT, PROTO_CMD_YIELD, PROTO_CMD_WITHDRAW, PROTO_CMD_SAY,
        PROTO_CMD_END_FLOOR, PROTO_CMD_PAUSE, PROTO_CMD_RESUME, PROTO_CMD_EXTEND, PROTO_CMD_MOVE,
        PROTO_CMD_DEPOSIT_STATEMENT, PROTO_CMD_DEPOSIT_STATEMENT, PROTO_CMD_ACCEPT_WRITTEN,
    };
    if (pick(3))
        c.type = common[pick((int)(sizeof common / sizeof common[0]))];
    else
        c.type = (enum proto_cmd_type)(1 + pick(PROTO_CMD__COUNT - 1)); /* not join */
    c.kind = (enum proto_kind)pick(PROTO_KIND__COUNT);
    if (pick(4) == 0)
        snprintf(c.lang, sizeof c.lang, "%s", pick(2) ? "fr" : "ar");
    if (pick(3)) {
        c.has_request_id = true;
        if (r->queue_len && pick(5))
            snprintf(c.request_id, sizeof c.request_id, "%s",
                     r->queue[pick((int)r->queue_len)].id);
        else
            snprintf(c.request_id, sizeof c.request_id, "r%d", 1 + pick(40));
    }
    if ((c.type == PROTO_CMD_GRANT && !c.has_request_id && pick(3) == 0) ||
        c.type == PROTO_CMD_MUTE || c.type == PROTO_CMD_UNMUTE || c.type == PROTO_CMD_REMOVE ||
        c.type == PROTO_CMD_SET_ROLE) {
        c.has_sub = true;
        int k = pick((int)(sizeof subs / sizeof subs[0]));
        /* removing a chair ends most of the walk's interest: rarely */
        if (c.type == PROTO_CMD_REMOVE && k < 2 && pick(8))
            k = 2 + pick(7);
        snprintf(c.sub, sizeof c.sub, "%s", subs[k]);
    }
    /* a removal is for good; keep it rarer than the rest */
    if (c.type == PROTO_CMD_REMOVE && pick(3))
        c.type = PROTO_CMD_MUTE;
    if (c.type == PROTO_CMD_GRANT && c.has_request_id && pick(3) == 0)
        c.has_request_id = false; /* head of the queue */
    if (c.type == PROTO_CMD_SAY || c.type == PROTO_CMD_ANNOUNCE)
        c.text = pick(20) ? (char *)"Thank you, Chair." : NULL;
    if (c.type == PROTO_CMD_DEPOSIT_STATEMENT || c.type == PROTO_CMD_PUBLISH_CONCLUSIONS)
        c.text = pick(20) ? (char *)(pick(2) ? "Mr. President,\nwe thank the Secretariat."
                                             : "Statement \xc3\xa9" "crite, version 2")
                          : NULL;
    c.seconds = pick(10) ? 1 + pick(120) : pick(2) ? 0 : 3601;
    c.to = pick(10) - 1;
    c.role = (enum proto_role)pick(PROTO_ROLE__COUNT);
    snprintf(c.item, sizeof c.item, "%s", (const char *[]){"q1", "q2", "q3", "zz"}[pick(4)]);
    /* closing ends the sequence's interest; keep it rare */
    c.status = pick(30) == 0   ? PROTO_STATUS_CLOSED
               : pick(10) == 0 ? PROTO_STATUS_SCHEDULED
               : pick(2)       ? PROTO_STATUS_OPEN
                               : PROTO_STATUS_SUSPENDED;
    if (c.type == PROTO_CMD_UPDATE_SETTINGS)
        c.settings = random_settings();
    if (c.type == PROTO_CMD_SET_SCHEDULE)
        c.schedule = random_schedule();
    if (c.type == PROTO_CMD_SET_AGENDA)
        c.agenda = random_agenda();
    if (pick(8) == 0) {
        c.has_if_seq = true;
        c.if_seq = pick(2) ? r->seq : r->seq - (uint64_t)pick(2) + 1;
    }
    return c;
}

/* Who sends c: mostly someone who may (moderator commands from chairs,
 * a yield from the speaker, a withdraw from the requester), sometimes
 * anyone, so that refusals are exercised too without drowning the walk. */
static const struct room_actor *aim(const struct sim *s, const struct proto_cmd *c)
{
    const struct room *r = s->r;
    if (pick(6) == 0)
        return &actors[pick(N_ACTORS)];
    switch (c->type) {
    case PROTO_CMD_REQUEST_FLOOR:
    case PROTO_CMD_SAY:
        return &actors[pick(4) ? 2 + pick(5) : pick(2)];
    case PROTO_CMD_YIELD:
        for (int i = 0; i < N_ACTORS && r->floor.active; i++)
            if (strcmp(actors[i].sub, r->floor.sub) == 0)
                return &actors[i];
        return &actors[2 + pick(5)];
    case PROTO_CMD_WITHDRAW:
    case PROTO_CMD_DEPOSIT_STATEMENT:
        for (size_t q = 0; q < r->queue_len; q++)
            if (strcmp(r->queue[q].id, c->request_id) == 0)
                for (int i = 0; i < N_ACTORS; i++)
                    if (strcmp(actors[i].sub, r->queue[q].sub) == 0)
                        return &actors[i];
        return &actors[2 + pick(5)];
    default:
        return &actors[pick(2)];
    }
}

/* A byte copy of a room and everything it points to: decide must leave
 * every byte as it was (a stronger check than comparing JSON, and cheap
 * enough to run on every step). */
struct raw {
    struct room head;
    struct room_request *queue;
    struct room_member *members;
    struct room_agenda_item *agenda;
    char *title;
};

/* memcpy/memcmp of n bytes where a pointer may be NULL when n is 0. */
static void *dup_bytes(const void *p, size_t n)
{
    void *d = malloc(n + 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static bool same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static void raw_take(struct raw *w, const struct room *r)
{
    w->head = *r;
    w->queue = dup_bytes(r->queue, r->queue_len * sizeof *w->queue);
    w->members = dup_bytes(r->members, r->members_len * sizeof *w->members);
    w->agenda = dup_bytes(r->agenda, r->agenda_len * sizeof *w->agenda);
    w->title = strdup(r->title);
}

static bool raw_same(struct raw *w, const struct room *r)
{
    bool same = memcmp(&w->head, r, sizeof *r) == 0 &&
                same_bytes(w->queue, r->queue, r->queue_len * sizeof *w->queue) &&
                same_bytes(w->members, r->members, r->members_len * sizeof *w->members) &&
                same_bytes(w->agenda, r->agenda, r->agenda_len * sizeof *w->agenda) &&
                strcmp(w->title, r->title) == 0;
    free(w->queue);
    free(w->members);
    free(w->agenda);
    free(w->title);
    return same;
}

static void step_command(struct sim *s)
{
    struct room_events out;
    struct raw before;
    char msg[256] = "";
    struct proto_cmd c = random_cmd(s);
    const struct room_actor *a = aim(s, &c);
    raw_take(&before, s->r);
    enum proto_err e = room_decide(s->r, a, &c, s->now, &out, msg, sizeof msg);
    CHECK(raw_same(&before, s->r)); /* decide never changes the state */
    error_counts[e]++;
    if (e) {
        CHECK_INT(out.n, 0);
        CHECK(msg[0] != '\0');
        CHECK(e != PROTO_ERR_INTERNAL);
    }
    commit(s, &out);
    json_decref((json_t *)c.settings);
    json_decref((json_t *)c.schedule);
    json_decref((json_t *)c.agenda);
}

/* The hub's floor timer: fires at the deadline (or a little later). */
static void step_clock(struct sim *s)
{
    struct room_events out;
    int64_t d = room_deadline(s->r);
    if (d >= 0 && pick(3) == 0 && d > s->now)
        s->now = d + pick(900); /* the timer fired, within a second */
    else
        s->now += pick(4) ? pick(5000) : pick(120000);
    room_decide_clock(s->r, s->now, &out);
    if (d < 0 || s->now < d) {
        CHECK_INT(out.n, 0);
    } else if (out.n == 2) {
        /* the end with reason time, then the floor's written statement */
        CHECK_INT(out.ev[0].name, PROTO_EV_FLOOR_ENDED);
        CHECK_INT(out.ev[1].name, PROTO_EV_STATEMENT_PUBLISHED);
    } else {
        CHECK_INT(out.n, 1);
    }
    commit(s, &out);
}

static void step_disconnect(struct sim *s)
{
    struct room_events out;
    const char *sub = subs[pick((int)(sizeof subs / sizeof subs[0]))];
    room_decide_disconnect(s->r, sub, s->now, &out);
    commit(s, &out);
}

/* The admin revokes a token id (one of a few, some again, some already
 * expired or about to): the list must survive replay and storage, and
 * expired ones must go at the same event on every copy. */
static void step_revoke(struct sim *s)
{
    static const char *const jtis[] = {"j1", "j2", "j3", "inv-4"};
    struct room_events out;
    const char *jti = jtis[pick(4)];
    int64_t until = s->now / 1000 + (pick(3) == 0 ? -40 : pick(120));
    room_decide_revoke(s->r, jti, until < 1 ? 1 : until, s->now, &out);
    CHECK_INT(out.n, 1);
    commit(s, &out);
    if (until - s->now / 1000 > 0)
        CHECK(room_is_revoked(s->r, jti, s->now));
    CHECK(!room_is_revoked(s->r, "never", s->now));
}

/* ---- chat lines commute (issue 10) ----
 *
 * On several nodes a chat line (say, announce) decided on the room at some
 * seq is committed after other nodes' events unless one of them changes
 * what the line read (room_chat_reads() & room_event_chat_changes()). The
 * promise checked here, on states the walk reaches: a chat line decided on
 * S, and again on S plus the events E of some other decision, decides alike
 * (same error, or the same message event) whenever no event of E changes
 * what the line read on S. Every case is decided both ways; cases where the
 * masks say "ordered" are counted, and those where the outcome did change,
 * by what changed it, so that the check is known not to be vacuous.
 *
 * It draws from its own random stream (commute_rng, swapped in), so the
 * walk above is the same walk with or without it. */
static uint64_t commute_rng;
static long commute_held;        /* E changes nothing the line read: checked alike */
static long commute_ordered;     /* E changes what the line read: order kept */
static long commute_ok_held;     /* ... of the held ones, the line was accepted */
static long commute_refused_held; /* ... and refused */
static long commute_reads[4];    /* room_chat_reads() masks met */
static long commute_flipped[4];  /* ordered cases whose outcome changed, by E's mask */

/* A decision that matters to chat lines, or any decision (random_cmd), by
 * whoever would send it. Half the time about the line's own author. */
static struct proto_cmd chat_relevant_cmd(const struct sim *t, const struct room_actor *author,
                                          const struct room_actor **by)
{
    const struct room *r = t->r;
    struct proto_cmd c;
    const char *sub = pick(2) ? author->sub : subs[pick((int)(sizeof subs / sizeof subs[0]))];
    const struct room_actor *chair = &actors[pick(2)];
    memset(&c, 0, sizeof c);
    switch (pick(14)) {
    case 0:
    case 1:
        c.type = PROTO_CMD_UPDATE_SETTINGS;
        c.settings = json_object();
        json_object_set_new((json_t *)c.settings, "chat",
                            json_string((const char *[]){"open", "floor", "off"}[pick(3)]));
        if (pick(3) == 0) /* with another setting (the rule may stay as it was) */
            json_object_set_new((json_t *)c.settings, "speech_s", json_integer(1 + pick(240)));
        *by = chair;
        return c;
    case 2:
    case 3:
        c.type = pick(2) ? PROTO_CMD_MUTE : PROTO_CMD_UNMUTE;
        break;
    case 4:
        c.type = PROTO_CMD_SET_ROLE;
        c.role = pick(2) ? PROTO_ROLE_DELEGATE : PROTO_ROLE_OBSERVER;
        break;
    case 5:
    case 6:
        c.type = PROTO_CMD_GRANT; /* by sub: ends a running floor first */
        break;
    case 7:
        c.type = pick(2) ? PROTO_CMD_END_FLOOR : PROTO_CMD_YIELD;
        *by = chair;
        for (int i = 0; c.type == PROTO_CMD_YIELD && i < N_ACTORS && r->floor.active; i++)
            if (strcmp(actors[i].sub, r->floor.sub) == 0)
                *by = &actors[i];
        return c;
    case 8:
        c.type = PROTO_CMD_REMOVE;
        if (pick(4) && strncmp(sub, "chair", 5) == 0)
            sub = author->sub;
        break;
    case 9:
        c.type = PROTO_CMD_SET_STATUS;
        c.status = (enum proto_status)pick(PROTO_STATUS__COUNT);
        if (c.status == PROTO_STATUS_CLOSED && pick(2))
            c.status = PROTO_STATUS_OPEN;
        *by = chair;
        return c;
    default: /* anything: mostly events that a chat line does not read */
        c = random_cmd(t);
        *by = aim(t, &c);
        c.has_if_seq = false; /* an if_seq refusal is no event */
        return c;
    }
    c.has_sub = true;
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    *by = chair;
    return c;
}

static void free_cmd(struct proto_cmd *c)
{
    json_decref((json_t *)c->settings);
    json_decref((json_t *)c->schedule);
    json_decref((json_t *)c->agenda);
}

/* Applies out's events to r as committed (seq stamped, text stored). */
static void apply_all(struct room *r, struct room_events *out)
{
    if (out->stmt_text)
        CHECK_INT(room_statement_put(r, out->stmt_request, out->stmt_sub, out->stmt_lang,
                                     out->stmt_text), 0);
    for (size_t i = 0; i < out->n; i++) {
        out->ev[i].seq = r->seq + 1;
        CHECK_INT(room_apply(r, &out->ev[i]), 0);
    }
}

/* Some other node's events on t->r: a command that decides with events
 * (a few tries), else the clock, a disconnect or a revocation. */
static void other_events(struct sim *t, const struct room_actor *author, struct room_events *out)
{
    char msg[256];
    memset(out, 0, sizeof *out);
    for (int tries = 0; tries < 8; tries++) {
        const struct room_actor *by = NULL;
        struct proto_cmd c = chat_relevant_cmd(t, author, &by);
        enum proto_err e = room_decide(t->r, by, &c, t->now, out, msg, sizeof msg);
        free_cmd(&c);
        if (e == PROTO_OK && out->n)
            return;
        room_events_clear(out);
    }
    int64_t d = room_deadline(t->r);
    switch (pick(3)) {
    case 0:
        if (d >= 0) {
            /* the timer fires: time moves on to it */
            if (d > t->now)
                t->now = d;
            room_decide_clock(t->r, t->now, out);
            if (out->n)
                return;
        }
        /* fall through */
    case 1:
        room_decide_disconnect(t->r,
                               pick(2) ? author->sub
                                       : subs[pick((int)(sizeof subs / sizeof subs[0]))],
                               t->now, out);
        if (out->n)
            return;
        /* fall through */
    default:
        room_decide_revoke(t->r, "j1", t->now / 1000 + 60, t->now, out);
        return;
    }
}

static void check_chat_commutes(const struct sim *s)
{
    uint64_t walk_rng = rng_state;
    rng_state = commute_rng;

    /* S: the walk's state, sometimes moved on by a few decisions that
     * matter to chat (so that chat "floor", mutes, demotions and floors
     * held by the author are common), all decided and applied: reachable. */
    struct sim t;
    memset(&t, 0, sizeof t);
    t.r = room_clone(s->r);
    t.now = s->now;
    CHECK(t.r != NULL);
    if (!t.r) {
        commute_rng = rng_state;
        rng_state = walk_rng;
        return;
    }
    struct proto_cmd line;
    memset(&line, 0, sizeof line);
    line.type = pick(3) ? PROTO_CMD_SAY : PROTO_CMD_ANNOUNCE;
    line.text = (char *)(pick(2) ? "Point of order, Chair." : "Coffee at 11.");
    const struct room_actor *author =
        line.type == PROTO_CMD_SAY ? &actors[pick(4) ? 2 + pick(5) : pick(N_ACTORS)]
                                   : &actors[pick(3) ? pick(2) : pick(N_ACTORS)];
    for (int k = pick(4); k > 0; k--) {
        struct room_events pre;
        other_events(&t, author, &pre);
        apply_all(t.r, &pre);
        room_events_clear(&pre);
    }

    /* the line on S */
    struct room_events out1, out2, other;
    char msg[256];
    unsigned reads = room_chat_reads(t.r, author);
    CHECK(reads & ROOM_CHAT_RULES);
    CHECK_INT(reads & ~(ROOM_CHAT_RULES | ROOM_CHAT_FLOOR), 0);
    commute_reads[reads & 3]++;
    const int64_t line_now = t.now;
    enum proto_err e1 = room_decide(t.r, author, &line, line_now, &out1, msg, sizeof msg);

    /* E, another node's events, and S' = S + E */
    other_events(&t, author, &other);
    unsigned changes = 0;
    for (size_t i = 0; i < other.n; i++)
        changes |= room_event_chat_changes(other.ev[i].name);
    struct room *s2 = room_clone(t.r);
    CHECK(s2 != NULL);
    if (s2) {
        apply_all(s2, &other);
        /* the line on S', at the same time */
        enum proto_err e2 = room_decide(s2, author, &line, line_now, &out2, msg, sizeof msg);
        bool same = e1 == e2 && out1.n == out2.n;
        for (size_t i = 0; same && i < out1.n; i++)
            same = out1.ev[i].name == out2.ev[i].name && out1.ev[i].ts == out2.ev[i].ts &&
                   strcmp(out1.ev[i].actor, out2.ev[i].actor) == 0 &&
                   json_equal(out1.ev[i].data, out2.ev[i].data);
        if ((changes & reads) == 0) {
            commute_held++;
            if (e1 == PROTO_OK)
                commute_ok_held++;
            else
                commute_refused_held++;
            if (e1 == PROTO_OK) {
                CHECK_INT(out1.n, 1);
                CHECK_INT(out1.ev[0].name, PROTO_EV_MESSAGE);
            }
            CHECK_STR(proto_err_code(e2), proto_err_code(e1));
            CHECK(same);
            if (!same) {
                fprintf(stderr, "a %s by %s (reads %u) decided %s, then %s after:",
                        proto_cmd_name(line.type), author->sub, reads, proto_err_code(e1),
                        proto_err_code(e2));
                for (size_t i = 0; i < other.n; i++)
                    fprintf(stderr, " %s (changes %u)", proto_event_name(other.ev[i].name),
                            room_event_chat_changes(other.ev[i].name));
                fprintf(stderr, "\n");
                if (out1.n && out2.n)
                    fail_dump("message data", out1.ev[0].data, out2.ev[0].data);
            }
        } else {
            commute_ordered++;
            if (!same)
                commute_flipped[changes & 3]++;
        }
        room_events_clear(&out2);
        room_destroy(s2);
    }
    room_events_clear(&out1);
    room_events_clear(&other);
    room_destroy(t.r);
    commute_rng = rng_state;
    rng_state = walk_rng;
}

static void run_sequence(int seed)
{
    struct sim s;
    char err[200];
    memset(&s, 0, sizeof s);
    rng_state = UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)(seed + 1);
    commute_rng = UINT64_C(0xD1B54A32D192ED03) * (uint64_t)(seed + 1);

    json_t *spec = json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}], s:o}", "id",
                             "random", "title", "Random meeting", "agenda", "id", "q1", "title",
                             "One", "id", "q2", "title", "Two", "id", "q3", "title", "Three",
                             "settings", json_pack("{s:i, s:s, s:s, s:i, s:b}", "speech_s",
                                                   30 + pick(120), "on_time_up",
                                                   pick(2) ? "notify" : "end", "queue_order",
                                                   pick(2) ? "request" : "category",
                                                   "replies_per_item", pick(3),
                                                   "pause_on_disconnect", pick(2)));
    /* a third of the meetings start scheduled, with a slot */
    if (seed % 3 == 0) {
        json_object_set_new(spec, "status", json_string("scheduled"));
        json_object_set_new(spec, "schedule",
                            json_pack("{s:I, s:I, s:s}", "starts_at", (json_int_t)T0 + 60000,
                                      "ends_at", (json_int_t)T0 + 7260000, "time_zone",
                                      "America/New_York"));
    }
    s.initial = room_create(spec, "ep", T0, err, sizeof err);
    json_decref(spec);
    CHECK(s.initial != NULL);
    if (!s.initial)
        return;
    s.r = room_clone(s.initial);
    s.replica = room_clone(s.initial);
    s.log = json_array();
    s.dq = room_part_json(s.initial, PROTO_PART_QUEUE);
    s.dstats = room_part_json(s.initial, PROTO_PART_STATS);
    memset(&s.deltas, 0, sizeof s.deltas);
    CHECK_INT(deltalog_start(&s.deltas, s.dq, s.dstats), 0);
    /* the client's copies, not the log's */
    json_t *q0 = s.dq, *s0 = s.dstats;
    s.dq = json_deep_copy(q0);
    s.dstats = json_deep_copy(s0);
    json_decref(q0);
    json_decref(s0);
    s.now = T0;
    /* everyone but the last delegate has joined; "x" acts unseen */
    for (int i = 0; i < N_ACTORS; i++)
        if (strcmp(actors[i].sub, "x") != 0)
            room_participant_seen(s.r, &actors[i]);

    for (int i = 0; i < STEPS; i++) {
        int what = pick(100);
        if (what < 75)
            step_command(&s);
        else if (what < 94)
            step_clock(&s);
        else if (what < 98)
            step_disconnect(&s);
        else
            step_revoke(&s);
        check_invariants(&s);
        check_chat_commutes(&s);
    }

    /* a full replay from the initial room, from the log's text */
    struct room *replay = room_clone(s.initial);
    for (size_t i = 0; i < json_array_size(s.log); i++) {
        struct room_event e;
        CHECK_INT(room_event_from_json(json_array_get(s.log, i), &e), 0);
        CHECK_INT(e.seq, i + 1);
        CHECK_INT(room_apply(replay, &e), 0);
        room_event_clear(&e);
    }
    json_t *a = room_state_json(s.r, false), *b = room_state_json(replay, false);
    if (!json_equal(a, b)) {
        CHECK(0);
        fail_dump("live and full replay", a, b);
    }
    /* and the stored form round-trips */
    json_t *full = room_state_json(s.r, true);
    struct room *back = room_state_from_json(full, err, sizeof err);
    CHECK(back != NULL);
    json_t *full2 = back ? room_state_json(back, true) : NULL;
    CHECK(json_equal(full, full2));
    json_decref(full2);
    room_destroy(back);
    json_decref(full);
    json_decref(a);
    json_decref(b);
    room_destroy(replay);
    room_destroy(s.initial);
    room_destroy(s.r);
    room_destroy(s.replica);
    json_decref(s.log);
    json_decref(s.dq);
    json_decref(s.dstats);
    deltalog_clear(&s.deltas);
}

int main(void)
{
    init_actors();
    for (int seed = 0; seed < SEQUENCES; seed++)
        run_sequence(seed);
    /* the walk must reach every event, or the invariants prove little */
    for (int e = 0; e < PROTO_EV__COUNT; e++) {
        CHECK(event_counts[e] > 0);
        if (!event_counts[e])
            fprintf(stderr, "never produced: %s\n", proto_event_name((enum proto_event)e));
    }
    fprintf(stderr, "events:");
    for (int e = 0; e < PROTO_EV__COUNT; e++)
        fprintf(stderr, " %s=%ld", proto_event_name((enum proto_event)e), event_counts[e]);
    /* the delta form's ops, each reached (update: a deposited statement
     * changes the request's summary) */
    for (int k = 0; k < 4; k++)
        CHECK(delta_ops[k] > 0);
    fprintf(stderr, "\ndelta ops: insert=%ld remove=%ld move=%ld update=%ld", delta_ops[0],
            delta_ops[1], delta_ops[2], delta_ops[3]);
    /* chat lines commute: checked, and not vacuously (both sides of the
     * precondition, both outcomes, both read masks, and outcomes that an
     * event of either kind did change when the order was kept) */
    bool commute_reached = commute_held > 0 && commute_ordered > 0 && commute_ok_held > 0 &&
                           commute_refused_held > 0 && commute_reads[ROOM_CHAT_RULES] > 0 &&
                           commute_reads[ROOM_CHAT_RULES | ROOM_CHAT_FLOOR] > 0 &&
                           commute_flipped[ROOM_CHAT_RULES] > 0 &&
                           commute_flipped[ROOM_CHAT_FLOOR] > 0;
    CHECK(commute_reached);
    if (!commute_reached)
        fprintf(stderr,
                "\nchat commute: held=%ld (ok %ld, refused %ld) ordered=%ld reads rules=%ld "
                "rules+floor=%ld flipped by rules=%ld floor=%ld both=%ld",
                commute_held, commute_ok_held, commute_refused_held, commute_ordered,
                commute_reads[ROOM_CHAT_RULES], commute_reads[ROOM_CHAT_RULES | ROOM_CHAT_FLOOR],
                commute_flipped[ROOM_CHAT_RULES], commute_flipped[ROOM_CHAT_FLOOR],
                commute_flipped[ROOM_CHAT_RULES | ROOM_CHAT_FLOOR]);
    fprintf(stderr, "\ncommand results:");
    for (int e = 0; e < PROTO_ERR__COUNT; e++)
        if (error_counts[e])
            fprintf(stderr, " %s=%ld", proto_err_code((enum proto_err)e), error_counts[e]);
    fprintf(stderr, "\n");
    return check_done();
}
