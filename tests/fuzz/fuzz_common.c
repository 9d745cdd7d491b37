/*
 * fuzz_common.c: the fixed world and the checks the fuzz targets share
 * (fuzz.h).
 *
 * The checks are the promises written in room.h and transcript.h, turned
 * into assertions: decide's events always apply, apply's -1 leaves the room
 * as it was, every state stores and reads back, every applied event encodes
 * and reads back, and a record renders whenever its events apply. They run
 * on every input that gets that far, so a fuzzer finds not only memory
 * errors but also inputs that would leave a room unstorable or unreadable.
 */
#include "fuzz.h"

#include <string.h>

#include "transcript.h"

static struct room_actor actors[FUZZ_ACTORS];

static struct room_actor make_actor(const char *sub, const char *name, const char *deleg,
                                    enum proto_category cat, enum proto_role role)
{
    struct room_actor a;
    memset(&a, 0, sizeof a);
    snprintf(a.sub, sizeof a.sub, "%s", sub);
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.delegation, sizeof a.delegation, "%s", deleg);
    a.category = cat;
    a.role = role;
    return a;
}

const struct room_actor *fuzz_actors(void)
{
    if (!actors[0].sub[0]) {
        actors[FUZZ_MOD] = make_actor("chair", "Ana Chair", "", PROTO_CAT_NONE,
                                      PROTO_ROLE_MODERATOR);
        actors[FUZZ_DEL1] = make_actor("fr", "Jean Dupont", "France", PROTO_CAT_MEMBER_STATE,
                                       PROTO_ROLE_DELEGATE);
        actors[FUZZ_DEL2] = make_actor("ngo", "Sam Lee", "Global NGO", PROTO_CAT_CIVIL_SOCIETY,
                                       PROTO_ROLE_DELEGATE);
        actors[FUZZ_DEL3] = make_actor("unodc", "Kim Park", "UNODC", PROTO_CAT_UN_ENTITY,
                                       PROTO_ROLE_DELEGATE);
        actors[FUZZ_DEL4] = make_actor("de", "Eva Berg", "Germany", PROTO_CAT_MEMBER_STATE,
                                       PROTO_ROLE_DELEGATE);
        actors[FUZZ_OBS] = make_actor("obs", "Olga Watcher", "", PROTO_CAT_NONE,
                                      PROTO_ROLE_OBSERVER);
    }
    return actors;
}

struct room *fuzz_room_new(void)
{
    char err[256] = "";
    json_t *spec = json_loads(FUZZ_ROOM_SPEC, 0, NULL);
    struct room *r = spec ? room_create(spec, FUZZ_EPOCH, FUZZ_NOW_MS - 3600000, err, sizeof err)
                          : NULL;
    json_decref(spec);
    FUZZ_CHECK(r, "the fixed room does not create: %s", err);
    return r;
}

bool fuzz_room_equal(const struct room *a, const struct room *b)
{
    json_t *ja = room_state_json(a, true);
    json_t *jb = room_state_json(b, true);
    bool eq = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return eq;
}

/* Dumps j for a failure message (static buffer, truncated). */
static const char *show(const json_t *j)
{
    static char buf[2048];
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(buf, sizeof buf, "%s", s ? s : "(null)");
    free(s);
    return buf;
}

enum proto_err fuzz_commit(struct room *r, const struct room_actor *a,
                           const struct proto_cmd *cmd, int64_t now, json_t *log)
{
    struct room_events evs;
    json_t *wire[ROOM_MAX_EVENTS] = {NULL};
    char err[256] = "";
    struct room *next;
    enum proto_err e = room_decide(r, a, cmd, now, &evs, err, sizeof err);
    if (e) {
        FUZZ_CHECK(evs.n == 0, "room_decide failed (%s) with %zu events", err, evs.n);
        return e;
    }
    FUZZ_CHECK(evs.n <= ROOM_MAX_EVENTS, "room_decide gave %zu events", evs.n);
    if (evs.n == 0)
        return PROTO_OK;
    /* The hub: stamp, apply to a clone, encode each event once. */
    next = room_clone(r);
    FUZZ_CHECK(next, "room_clone failed");
    for (size_t i = 0; i < evs.n; i++) {
        evs.ev[i].seq = r->seq + 1 + i;
        FUZZ_CHECK(room_apply(next, &evs.ev[i]) == 0,
                   "decided event %s (seq %llu) does not apply: data %s",
                   proto_event_name(evs.ev[i].name), (unsigned long long)evs.ev[i].seq,
                   show(evs.ev[i].data));
        wire[i] = room_event_json(next, &evs.ev[i]);
        FUZZ_CHECK(wire[i], "room_event_json failed for decided %s",
                   proto_event_name(evs.ev[i].name));
    }
    /* Delivery: every node applies the wire text, not the structs. */
    for (size_t i = 0; i < evs.n; i++) {
        char *text = json_dumps(wire[i], JSON_COMPACT);
        json_t *j = text ? json_loads(text, 0, NULL) : NULL;
        struct room_event re;
        FUZZ_CHECK(j && room_event_from_json(j, &re) == 0, "wire event does not read back: %s",
                   text ? text : "(null)");
        FUZZ_CHECK(room_apply(r, &re) == 0, "delivered wire event does not apply: %s", text);
        room_event_clear(&re);
        if (log)
            json_array_append(log, j);
        json_decref(j);
        free(text);
        json_decref(wire[i]);
    }
    FUZZ_CHECK(fuzz_room_equal(r, next), "the delivered state differs from the decided one");
    room_destroy(next);
    room_events_clear(&evs);
    return PROTO_OK;
}

void fuzz_check_room(const struct room *r)
{
    char err[256] = "";
    json_t *j = room_state_json(r, true);
    FUZZ_CHECK(j, "room_state_json(directory) failed");
    json_t *seq = room_state_json(r, false);
    FUZZ_CHECK(seq, "room_state_json(sequenced) failed");
    json_decref(seq);
    struct room *back = room_state_from_json(j, err, sizeof err);
    FUZZ_CHECK(back, "a stored state does not read back (%s): %s", err, show(j));
    json_t *j2 = room_state_json(back, true);
    FUZZ_CHECK(j2 && json_equal(j, j2), "state round trip differs:\n%s", show(j));
    json_decref(j2);
    json_decref(j);
    room_destroy(back);

    json_t *snap = room_snapshot_json(r);
    FUZZ_CHECK(snap, "room_snapshot_json failed");
    json_decref(snap);
    for (size_t i = 0; i < r->members_len; i++) {
        json_t *m = room_member_json(r, &r->members[i]);
        FUZZ_CHECK(m, "room_member_json failed for %s", r->members[i].sub);
        json_decref(m);
    }

    /* The hub's tick: the clock, at its deadline, must commit. */
    int64_t due = room_deadline(r);
    struct room_events evs;
    room_decide_clock(r, due >= 0 ? due : FUZZ_NOW_MS, &evs);
    if (evs.n) {
        struct room *c = room_clone(r);
        FUZZ_CHECK(c, "room_clone failed");
        for (size_t i = 0; i < evs.n; i++) {
            evs.ev[i].seq = c->seq + 1;
            FUZZ_CHECK(room_apply(c, &evs.ev[i]) == 0, "a clock event does not apply: %s",
                       show(evs.ev[i].data));
        }
        room_destroy(c);
    }
    room_events_clear(&evs);
}

int fuzz_apply_checked(struct room *r, const struct room_event *ev)
{
    struct room *before = room_clone(r);
    FUZZ_CHECK(before, "room_clone failed");
    int rc = room_apply(r, ev);
    fuzz_check_applied(before, r, ev, rc);
    room_destroy(before);
    return rc;
}

void fuzz_check_applied(struct room *before, const struct room *r, const struct room_event *ev,
                        int rc)
{
    if (rc != 0) {
        FUZZ_CHECK(fuzz_room_equal(before, r), "room_apply returned -1 but changed the room (%s)",
                   proto_event_name(ev->name));
        return;
    }
    FUZZ_CHECK(r->seq == ev->seq, "applied, but seq is %llu, not %llu",
               (unsigned long long)r->seq, (unsigned long long)ev->seq);
    /* Its wire form (what history and the record hand out) reads back. */
    json_t *w = room_event_json(r, ev);
    FUZZ_CHECK(w, "room_event_json failed for an applied %s", proto_event_name(ev->name));
    struct room_event back;
    FUZZ_CHECK(room_event_from_json(w, &back) == 0, "wire event does not read back: %s", show(w));
    FUZZ_CHECK(back.seq == ev->seq && back.ts == ev->ts && back.name == ev->name &&
                   strcmp(back.actor, ev->actor) == 0 && json_equal(back.data, ev->data),
               "wire event reads back different: %s", show(w));
    FUZZ_CHECK(room_apply(before, &back) == 0 && fuzz_room_equal(before, r),
               "the wire form of an applied event applies differently: %s", show(w));
    room_event_clear(&back);
    json_decref(w);
}

void fuzz_check_transcript(const struct room *initial, const json_t *events, bool all_apply)
{
    static const enum transcript_format fmts[] = {TRANSCRIPT_JSON, TRANSCRIPT_MD,
                                                  TRANSCRIPT_CSV};
    /* The record starts from the room as created, which never has a floor:
     * from a stored state that has one, the floor's end is refused. */
    if (initial->floor.active)
        all_apply = false;
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char err[256] = "";
        size_t len = 0;
        char *out = transcript_render(initial, events, fmts[i], &len, err, sizeof err);
        FUZZ_CHECK(out || !all_apply, "the record (format %d) of events that apply fails: %s",
                   (int)fmts[i], err);
        FUZZ_CHECK(!out || strlen(out) == len, "record length %zu, strlen %zu", len,
                   out ? strlen(out) : 0);
        free(out);
    }
}

const struct room *fuzz_room_populated(json_t **events)
{
    static struct room *pop;
    static json_t *log;
    if (!pop) {
        static const struct {
            enum fuzz_actor who;
            const char *cmd;
        } steps[] = {
            {FUZZ_DEL1, "{\"type\":\"request_floor\"}"},
            {FUZZ_DEL2, "{\"type\":\"request_floor\",\"kind\":\"reply\",\"lang\":\"fr\"}"},
            {FUZZ_DEL3, "{\"type\":\"request_floor\",\"kind\":\"point_of_order\"}"},
            {FUZZ_MOD, "{\"type\":\"grant\"}"},
            {FUZZ_DEL4, "{\"type\":\"request_floor\",\"id\":\"c1\"}"},
            {FUZZ_MOD, "{\"type\":\"mute\",\"sub\":\"ngo\"}"},
            {FUZZ_DEL1, "{\"type\":\"say\",\"text\":\"Bonjour \\u00e0 tous\"}"},
            {FUZZ_MOD, "{\"type\":\"announce\",\"text\":\"Ten minutes left\"}"},
            {FUZZ_MOD, "{\"type\":\"grant\",\"request_id\":\"r1\"}"},
            {FUZZ_MOD, "{\"type\":\"pause\"}"},
            {FUZZ_MOD, "{\"type\":\"resume\"}"},
            {FUZZ_MOD, "{\"type\":\"extend\",\"seconds\":30}"},
        };
        const struct room_actor *a = fuzz_actors();
        int64_t now = FUZZ_NOW_MS - 600000;
        pop = fuzz_room_new();
        log = json_array();
        for (int i = 0; i < FUZZ_ACTORS; i++)
            room_participant_seen(pop, &a[i]);
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            struct proto_cmd c;
            char msg[256];
            enum proto_err e = proto_cmd_decode(steps[i].cmd, strlen(steps[i].cmd), &c, msg,
                                                sizeof msg);
            FUZZ_CHECK(e == PROTO_OK, "setup command %s does not decode: %s", steps[i].cmd, msg);
            e = fuzz_commit(pop, &a[steps[i].who], &c, now, log);
            FUZZ_CHECK(e == PROTO_OK, "setup command %s refused: %s", steps[i].cmd,
                       proto_err_code(e));
            proto_cmd_clear(&c);
            now += 7000;
        }
    }
    if (events)
        *events = json_incref(log);
    return pop;
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s, "out of memory");
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

json_t *fuzz_json(const uint8_t *data, size_t size, size_t flags)
{
    json_error_t err;
    return json_loadb((const char *)data, size, flags, &err);
}
