/*
 * room_json.c: the room's JSON forms (room.h, room_private.h): the strict
 * readers of stored and committed JSON, the wire snapshot, its parts and
 * events, the storage form of journals and Redis, and the one function
 * that turns a committed event's text into room state (room_apply_text).
 * Pure like room.c.
 */
#include "room.h"
#include "room_private.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading JSON strictly (storage and committed events) ---- */

/* Copies string member k of o into dst[dsz]. With nullable, an absent or
 * null member gives "". False for a wrong type or a string that does not
 * fit (or holds a NUL). */
bool room_get_str(const json_t *o, const char *k, char *dst, size_t dsz, bool nullable)
{
    json_t *v = json_object_get(o, k);
    if (nullable && (!v || json_is_null(v))) {
        dst[0] = '\0';
        return true;
    }
    if (!json_is_string(v))
        return false;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n >= dsz || memchr(s, '\0', n))
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

bool room_get_int(const json_t *o, const char *k, int64_t min, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return false;
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return false;
    *out = (int64_t)n;
    return true;
}

bool room_get_bool(const json_t *o, const char *k, bool *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_boolean(v))
        return false;
    *out = json_is_true(v);
    return true;
}

/* An enum by wire name; parse is one of the proto_*_parse functions. */
bool room_get_enum(const json_t *o, const char *k, int (*parse)(const char *), int *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return false;
    int e = parse(json_string_value(v));
    if (e < 0)
        return false;
    *out = e;
    return true;
}

/* A category: a wire name, or null/absent for none. */
static bool get_category(const json_t *o, const char *k, enum proto_category *out)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) {
        *out = PROTO_CAT_NONE;
        return true;
    }
    int c;
    if (!room_get_enum(o, k, proto_category_parse, &c))
        return false;
    *out = (enum proto_category)c;
    return true;
}

/* A region (contract 9.3): a valid one, or null/absent for none (""). */
static bool get_region(const json_t *o, char *dst, size_t dsz)
{
    const json_t *v = json_object_get(o, "region");
    if (json_is_string(v) && json_string_length(v) == 0)
        return false; /* "" is no region of anyone: the wire writes null */
    return room_get_str(o, "region", dst, dsz, true) && (!dst[0] || proto_valid_region(dst));
}

/* ------------------------------------------------------------------ */
/* JSON forms of the parts                                            */
/* ------------------------------------------------------------------ */

json_t *room_request_json(const struct room_request *q)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:I}", "id", q->id, "sub",
                          q->sub, "name", q->name, "delegation", room_nz(q->delegation),
                          "category", proto_category_name(q->category), "region", room_nz(q->region),
                          "kind", proto_kind_name(q->kind), "lang", room_nz(q->lang),
                          "at", (json_int_t)q->at);
    /* The statement's summary only: its text is under embargo (9.4). */
    if (j && q->statement_chars > 0 &&
        json_object_set_new(j, "statement",
                            json_pack("{s:i, s:s?}", "chars", q->statement_chars, "lang",
                                      room_nz(q->statement_lang)))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The optional "statement":{"chars","lang"} of a stored request. */
static bool get_statement_summary(const json_t *j, struct room_request *q)
{
    const json_t *st = json_object_get(j, "statement");
    int64_t chars;
    if (!st || json_is_null(st))
        return true;
    if (!json_is_object(st) || !room_get_int(st, "chars", 1, PROTO_MAX_STATEMENT_CHARS, &chars) ||
        !room_get_str(st, "lang", q->statement_lang, sizeof q->statement_lang, true))
        return false;
    q->statement_chars = (int)chars;
    return true;
}

int room_request_from_json(const json_t *j, struct room_request *q)
{
    int k;
    int64_t at;
    memset(q, 0, sizeof *q);
    if (!json_is_object(j) || !room_get_str(j, "id", q->id, sizeof q->id, false) ||
        !proto_valid_item_id(q->id) || !room_get_str(j, "sub", q->sub, sizeof q->sub, false) ||
        !proto_valid_sub(q->sub) || !room_get_str(j, "name", q->name, sizeof q->name, false) ||
        !room_get_str(j, "delegation", q->delegation, sizeof q->delegation, true) ||
        !get_category(j, "category", &q->category) ||
        !room_get_enum(j, "kind", proto_kind_parse, &k) ||
        !room_get_str(j, "lang", q->lang, sizeof q->lang, true) ||
        !get_region(j, q->region, sizeof q->region) ||
        !room_get_int(j, "at", 0, ROOM_MAX_MS, &at) || !get_statement_summary(j, q))
        return -1;
    q->kind = (enum proto_kind)k;
    q->at = at;
    return 0;
}

/* The floor object of contract section 3, or null. storage adds the
 * category (kept for the directory-less replica; not on the wire). */
json_t *room_floor_json(const struct room_floor *f, bool storage)
{
    if (!f->active)
        return json_null();
    json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s?, s:i, s:I, s:I, s:b, s:b}", "sub",
                          f->sub, "name", f->name, "delegation", room_nz(f->delegation),
                          "region", room_nz(f->region),
                          "kind", proto_kind_name(f->kind), "request_id", room_nz(f->request_id),
                          "limit_s", f->limit_s, "started_at", (json_int_t)f->started_at,
                          "elapsed_ms", (json_int_t)f->elapsed_ms, "paused", (int)f->paused,
                          "time_up", (int)f->time_up);
    if (j && storage && json_object_set_new(j, "category", room_category_json(f->category))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int room_floor_from_json(const json_t *j, struct room_floor *f)
{
    int k;
    int64_t limit, started, elapsed;
    memset(f, 0, sizeof *f);
    if (json_is_null(j))
        return 0;
    if (!json_is_object(j) || !room_get_str(j, "sub", f->sub, sizeof f->sub, false) ||
        !proto_valid_sub(f->sub) || !room_get_str(j, "name", f->name, sizeof f->name, false) ||
        !room_get_str(j, "delegation", f->delegation, sizeof f->delegation, true) ||
        !get_category(j, "category", &f->category) ||
        !get_region(j, f->region, sizeof f->region) ||
        !room_get_enum(j, "kind", proto_kind_parse, &k) ||
        !room_get_str(j, "request_id", f->request_id, sizeof f->request_id, true) ||
        !room_get_int(j, "limit_s", 1, ROOM_MAX_LIMIT_S, &limit) ||
        !room_get_int(j, "started_at", 0, ROOM_MAX_MS, &started) ||
        !room_get_int(j, "elapsed_ms", 0, ROOM_MAX_MS, &elapsed) ||
        !room_get_bool(j, "paused", &f->paused) || !room_get_bool(j, "time_up", &f->time_up))
        return -1;
    f->active = true;
    f->kind = (enum proto_kind)k;
    f->limit_s = (int)limit;
    f->started_at = started;
    f->elapsed_ms = elapsed;
    return 0;
}

/* Appends v (taken; NULL is a failure) to *a; on any failure *a is
 * released and becomes NULL, so that a loop can go on while *a. */
static void push(json_t **a, json_t *v)
{
    if (*a && json_array_append_new(*a, v) == 0)
        return;
    if (!*a)
        json_decref(v);
    json_decref(*a);
    *a = NULL;
}

static json_t *queue_json(const struct room *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->queue_len; i++)
        push(&a, room_request_json(&r->queue[i]));
    return a;
}

static int cmp_sub(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted by sub: the directory's order is each node's own (who joined
 * there first), and every node must give the same muted list. */
static json_t *muted_json(const struct room *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->members_len; i++)
        n += r->members[i].muted;
    const char **subs = n ? malloc(n * sizeof *subs) : NULL;
    if (n && !subs)
        return NULL;
    n = 0;
    for (size_t i = 0; i < r->members_len; i++)
        if (r->members[i].muted)
            subs[n++] = r->members[i].sub;
    if (n)
        qsort(subs, n, sizeof *subs, cmp_sub);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        push(&a, json_string(subs[i]));
    free(subs);
    return a;
}

static json_t *stats_json(const struct room *r)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < r->members_len; i++) {
        const struct room_member *m = &r->members[i];
        if (!m->turns && !m->spoken_ms)
            continue;
        if (json_object_set_new(o, m->sub,
                                json_pack("{s:i, s:I}", "turns", m->turns, "spoken_ms",
                                          (json_int_t)m->spoken_ms))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

void room_agenda_free(struct room_agenda_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i].title);
    free(items);
}

/* An agenda item carries planned_s and reserved only when it has them
 * (both optional in contract 9.1), so that the items of rooms without a
 * timed agenda look as they always did. */
json_t *room_agenda_items_json(const struct room_agenda_item *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *it = json_pack("{s:s, s:s}", "id", items[i].id, "title", items[i].title);
        if (!it || (items[i].planned_s &&
                    json_object_set_new(it, "planned_s", json_integer(items[i].planned_s))) ||
            (items[i].reserved && json_object_set_new(it, "reserved", json_true())) ||
            json_array_append_new(a, it)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *room_agenda_json(const struct room *r)
{
    return room_agenda_items_json(r->agenda, r->agenda_len);
}

json_t *room_schedule_json(const struct room_schedule *s)
{
    if (!s->set)
        return json_null();
    return json_pack("{s:I, s:I, s:s}", "starts_at", (json_int_t)s->starts_at, "ends_at",
                     (json_int_t)s->ends_at, "time_zone", s->time_zone);
}

bool room_schedule_parse(const json_t *j, struct room_schedule *out, char *errbuf, size_t errsz)
{
    struct room_schedule n;
    const char *key;
    json_t *v;

    memset(&n, 0, sizeof n);
    if (!j || json_is_null(j)) {
        *out = n;
        return true;
    }
    if (!json_is_object(j)) {
        room_errf(errbuf, errsz, "'schedule' must be an object or null");
        return false;
    }
    /* Unknown keys are refused: a misspelt "ends_at" would otherwise pass
     * as a schedule without an end. */
    json_object_foreach((json_t *)j, key, v) {
        if (strcmp(key, "starts_at") && strcmp(key, "ends_at") && strcmp(key, "time_zone")) {
            room_errf(errbuf, errsz, "unknown field 'schedule.%.40s'", key);
            return false;
        }
    }
    if (!room_get_int(j, "starts_at", 0, ROOM_MAX_MS, &n.starts_at)) {
        room_errf(errbuf, errsz, "'schedule.starts_at' must be a time in ms since 1970");
        return false;
    }
    if (!room_get_int(j, "ends_at", 0, ROOM_MAX_MS, &n.ends_at)) {
        room_errf(errbuf, errsz, "'schedule.ends_at' must be a time in ms since 1970");
        return false;
    }
    if (n.ends_at <= n.starts_at) {
        room_errf(errbuf, errsz, "'schedule.ends_at' must be after 'schedule.starts_at'");
        return false;
    }
    if (!room_get_str(j, "time_zone", n.time_zone, sizeof n.time_zone, false) ||
        !proto_valid_time_zone_name(n.time_zone)) {
        room_errf(errbuf, errsz, "'schedule.time_zone' must be an IANA time zone name, e.g. "
                            "\"America/New_York\"");
        return false;
    }
    n.set = true;
    *out = n;
    return true;
}

bool room_schedule_equal(const struct room_schedule *a, const struct room_schedule *b)
{
    if (!a->set || !b->set)
        return a->set == b->set;
    return a->starts_at == b->starts_at && a->ends_at == b->ends_at &&
           strcmp(a->time_zone, b->time_zone) == 0;
}

json_t *room_part_json(const struct room *r, unsigned part)
{
    switch (part) {
    case PROTO_PART_QUEUE:
        return queue_json(r);
    case PROTO_PART_FLOOR:
        return room_floor_json(&r->floor, false);
    case PROTO_PART_STATS:
        return stats_json(r);
    case PROTO_PART_SETTINGS:
        return room_settings_json(&r->settings);
    case PROTO_PART_MUTED:
        return muted_json(r);
    case PROTO_PART_AGENDA_ITEM:
        return room_nz(r->agenda_item) ? json_string(r->agenda_item) : json_null();
    case PROTO_PART_STATUS:
        return json_string(proto_status_name(r->status));
    case PROTO_PART_SCHEDULE:
        return room_schedule_json(&r->schedule);
    case PROTO_PART_AGENDA:
        return room_agenda_json(r);
    case PROTO_PART_ITEM_STARTED:
        return r->has_item_started ? json_integer((json_int_t)r->item_started_at) : json_null();
    default:
        return NULL;
    }
}

/* The snapshot part names, in the order the contract lists them. */
static const struct {
    unsigned part;
    const char *key;
} part_keys[] = {
    {PROTO_PART_STATUS, "status"}, {PROTO_PART_AGENDA, "agenda"},
    {PROTO_PART_AGENDA_ITEM, "agenda_item"}, {PROTO_PART_ITEM_STARTED, "agenda_item_started_at"},
    {PROTO_PART_SETTINGS, "settings"}, {PROTO_PART_QUEUE, "queue"},
    {PROTO_PART_FLOOR, "floor"}, {PROTO_PART_MUTED, "muted"}, {PROTO_PART_STATS, "stats"},
    {PROTO_PART_SCHEDULE, "schedule"}, /* version 1.1 additions last */
};

json_t *room_snapshot_json(const struct room *r)
{
    json_t *out = json_pack("{s:s, s:s}", "id", r->id, "title", r->title ? r->title : "");
    if (!out)
        return NULL;
    /* every part, in the contract's order (section 3, then 9.1) */
    for (size_t i = 0; i < sizeof part_keys / sizeof part_keys[0]; i++) {
        json_t *v = room_part_json(r, part_keys[i].part);
        if (!v || json_object_set_new(out, part_keys[i].key, v)) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *room_member_json(const struct room *r, const struct room_member *m)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b, s:i, s:b}", "sub", m->sub, "name",
                     m->name, "role", proto_role_name(room_member_role(m)),
                     "delegation", room_nz(m->delegation),
                     "category", proto_category_name(m->category), "region", room_nz(m->region),
                     "online", 0,
                     "connections", 0, "muted", (int)m->muted);
}

/* ------------------------------------------------------------------ */
/* participants                                                       */
/* ------------------------------------------------------------------ */

json_t *room_actor_json(const struct room_actor *a)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "sub", a->sub, "name", a->name,
                     "role", proto_role_name(a->role), "category",
                     proto_category_name(a->category), "delegation", room_nz(a->delegation),
                     "region", room_nz(a->region));
}

int room_participant_seen_json(struct room *r, const json_t *record)
{
    struct room_actor a;
    const char *sub = json_string_value(json_object_get(record, "sub"));
    const char *name = json_string_value(json_object_get(record, "name"));
    const char *del = json_string_value(json_object_get(record, "delegation"));
    const char *region = json_string_value(json_object_get(record, "region"));
    const json_t *cj = json_object_get(record, "category");
    int role = proto_role_parse(json_string_value(json_object_get(record, "role")));
    int cat = cj && !json_is_null(cj) ? proto_category_parse(json_string_value(cj)) : PROTO_CAT_NONE;
    if (!proto_valid_sub(sub) || !proto_valid_name(name) || role < 0 || cat < 0 ||
        (del && del[0] && !proto_valid_name(del)) || (region && !proto_valid_region(region)))
        return -1;
    memset(&a, 0, sizeof a);
    room_copy_str(a.sub, sizeof a.sub, sub);
    room_copy_str(a.name, sizeof a.name, name);
    room_copy_str(a.delegation, sizeof a.delegation, del);
    room_copy_str(a.region, sizeof a.region, region);
    a.role = (enum proto_role)role;
    a.category = (enum proto_category)cat;
    room_participant_seen(r, &a);
    struct room_member *m = room_member_get(r, a.sub);
    int64_t first, left;
    if (m && room_get_int(record, "first_joined_at", 1, ROOM_MAX_MS, &first)) {
        if (!m->first_joined_at || first < m->first_joined_at)
            m->first_joined_at = first;
        const json_t *lj = json_object_get(record, "last_left_at");
        if (json_is_null(lj))
            m->last_left_at = 0;
        else if (room_get_int(record, "last_left_at", 1, ROOM_MAX_MS, &left))
            m->last_left_at = left;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* events on the wire                                                 */
/* ------------------------------------------------------------------ */

json_t *room_event_json(const struct room *after, const struct room_event *ev)
{
    unsigned parts = proto_event_parts(ev->name);
    json_t *state = NULL;
    json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:s?, s:O}", "type", "event", "seq",
                          (json_int_t)ev->seq, "ts", (json_int_t)ev->ts, "name",
                          proto_event_name(ev->name), "actor", room_nz(ev->actor), "data",
                          ev->data);
    if (!j || !(state = json_object()))
        goto fail;
    for (size_t i = 0; i < sizeof part_keys / sizeof part_keys[0]; i++) {
        if (!(parts & part_keys[i].part))
            continue;
        json_t *v = room_part_json(after, part_keys[i].part);
        if (!v || json_object_set_new(state, part_keys[i].key, v))
            goto fail;
    }
    if (json_object_set_new(j, "state", state)) {
        state = NULL; /* json_object_set_new released it */
        goto fail;
    }
    return j;
fail:
    json_decref(state);
    json_decref(j);
    return NULL;
}

int room_event_from_json(const json_t *j, struct room_event *ev)
{
    int64_t seq, ts;
    int name;
    json_t *data;

    memset(ev, 0, sizeof *ev);
    if (!json_is_object(j) || !room_get_int(j, "seq", 0, INT64_MAX, &seq) ||
        !room_get_int(j, "ts", 0, ROOM_MAX_MS, &ts) ||
        !room_get_enum(j, "name", proto_event_parse, &name) ||
        !room_get_str(j, "actor", ev->actor, sizeof ev->actor, true))
        return -1;
    data = json_object_get(j, "data");
    if (!json_is_object(data))
        return -1;
    ev->seq = (uint64_t)seq;
    ev->ts = ts;
    ev->name = (enum proto_event)name;
    ev->data = json_incref(data);
    return 0;
}

enum room_apply_result room_apply_json(struct room *r, const json_t *event,
                                       void (*before)(void *arg, const struct room *r,
                                                      const struct room_event *ev),
                                       void *arg, struct room_event *ev)
{
    struct room_event e;
    enum room_apply_result res;
    if (!event || room_event_from_json(event, &e) != 0)
        return ROOM_TEXT_UNREADABLE;
    if (before)
        before(arg, r, &e);
    res = room_apply(r, &e) == 0 ? ROOM_TEXT_APPLIED : ROOM_TEXT_REFUSED;
    if (ev)
        *ev = e;
    else
        room_event_clear(&e);
    return res;
}

enum room_apply_result room_apply_text(struct room *r, const char *text, size_t len,
                               void (*before)(void *arg, const struct room *r,
                                              const struct room_event *ev),
                               void *arg, struct room_event *ev, json_t **j)
{
    json_error_t err;
    json_t *parsed = text ? json_loadb(text, len, 0, &err) : NULL;
    enum room_apply_result res = room_apply_json(r, parsed, before, arg, ev);
    if (res == ROOM_TEXT_APPLIED && j) {
        *j = parsed;
        parsed = NULL;
    }
    json_decref(parsed);
    return res;
}

/* ------------------------------------------------------------------ */
/* storage                                                            */
/* ------------------------------------------------------------------ */

static json_t *member_state_json(const struct room_member *m, bool directory)
{
    json_t *j = json_pack("{s:s?, s:b, s:b, s:i, s:I, s:i}", "role",
                          m->has_role_override ? proto_role_name(m->role_override) : NULL,
                          "muted", (int)m->muted, "removed", (int)m->removed, "turns", m->turns,
                          "spoken_ms", (json_int_t)m->spoken_ms, "replies_used",
                          m->replies_used);
    if (!j || !directory)
        return j;
    if (json_object_set_new(j, "name", json_string(m->name)) ||
        json_object_set_new(j, "delegation", room_nz(m->delegation) ? json_string(m->delegation)
                                                               : json_null()) ||
        json_object_set_new(j, "category", room_category_json(m->category)) ||
        json_object_set_new(j, "region", room_nz(m->region) ? json_string(m->region) : json_null()) ||
        json_object_set_new(j, "token_role", json_string(proto_role_name(m->token_role))) ||
        json_object_set_new(j, "seen", json_boolean(m->seen))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *room_state_json(const struct room *r, bool directory)
{
    json_t *members = json_object();
    json_t *j = NULL;
    for (size_t i = 0; members && i < r->members_len; i++) {
        const struct room_member *m = &r->members[i];
        /* Without the directory, only members with sequenced facts: those
         * are exactly what a replay of the log creates. */
        if (!directory && !room_member_has_facts(m))
            continue;
        if (json_object_set_new(members, m->sub, member_state_json(m, directory)))
            goto fail;
    }
    if (!members)
        goto fail;
    j = json_pack("{s:i, s:s, s:s, s:s, s:I, s:o, s:o, s:s?, s:o, s:o, s:o, s:I, s:I, s:O}",
                  "v", ROOM_STATE_VERSION, "id", r->id, "title", r->title ? r->title : "",
                  "epoch", r->epoch, "created_at", (json_int_t)r->created_at,
                  "status", room_part_json(r, PROTO_PART_STATUS), "agenda", room_agenda_json(r),
                  "agenda_item", room_nz(r->agenda_item), "settings", room_settings_json(&r->settings),
                  "queue", queue_json(r),
                  /* without the directory the floor's category is left out:
                   * a grant by sub takes it from the directory */
                  "floor", room_floor_json(&r->floor, directory),
                  "next_request", (json_int_t)r->next_request, "seq", (json_int_t)r->seq,
                  "members", members);
    if (j && (json_object_set_new(j, "schedule", room_schedule_json(&r->schedule)) ||
              json_object_set_new(j, "agenda_item_started_at",
                                  room_part_json(r, PROTO_PART_ITEM_STARTED)))) {
        json_decref(j);
        j = NULL;
    }
    /* Only when there are some: a room that never revoked a token stores
     * what it stored before version 1.3. */
    if (j && r->revoked.n && json_object_set_new(j, "revoked", revoke_json(&r->revoked, 0))) {
        json_decref(j);
        j = NULL;
    }
fail:
    json_decref(members);
    return j;
}

static int member_from_json(struct room *r, const char *sub, const json_t *o)
{
    struct room_member m;
    int e;
    int64_t n;
    memset(&m, 0, sizeof m);
    if (!proto_valid_sub(sub) || room_member_find(r, sub) || !json_is_object(o))
        return -1;
    room_copy_str(m.sub, sizeof m.sub, sub);
    if (!room_get_str(o, "name", m.name, sizeof m.name, true) ||
        !room_get_str(o, "delegation", m.delegation, sizeof m.delegation, true) ||
        !get_category(o, "category", &m.category) ||
        !get_region(o, m.region, sizeof m.region) ||
        !room_get_enum(o, "token_role", proto_role_parse, &e))
        return -1;
    m.token_role = (enum proto_role)e;
    if (!room_get_bool(o, "seen", &m.seen) || !room_get_bool(o, "muted", &m.muted) ||
        !room_get_bool(o, "removed", &m.removed))
        return -1;
    json_t *role = json_object_get(o, "role");
    if (role && !json_is_null(role)) {
        if (!room_get_enum(o, "role", proto_role_parse, &e))
            return -1;
        m.has_role_override = true;
        m.role_override = (enum proto_role)e;
    }
    if (!room_get_int(o, "turns", 0, ROOM_MAX_COUNT, &n))
        return -1;
    m.turns = (int)n;
    if (!room_get_int(o, "spoken_ms", 0, ROOM_MAX_MS, &m.spoken_ms) ||
        !room_get_int(o, "replies_used", 0, ROOM_MAX_COUNT, &n))
        return -1;
    m.replies_used = (int)n;
    struct room_member *slot = room_member_add(r, sub);
    if (!slot)
        return -1;
    *slot = m;
    return 0;
}

struct room *room_state_from_json(const json_t *j, char *errbuf, size_t errsz)
{
    struct room *r = NULL;
    json_t *spec = NULL, *a, *v;
    const char *key;
    int64_t n;
    int e;
    char epoch[PROTO_MAX_EPOCH + 1];

    if (!json_is_object(j) || !room_get_int(j, "v", ROOM_STATE_VERSION, ROOM_STATE_VERSION, &n)) {
        room_errf(errbuf, errsz, "not a room state of version %d", ROOM_STATE_VERSION);
        goto fail;
    }
    if (!room_get_str(j, "epoch", epoch, sizeof epoch, false) ||
        !room_get_int(j, "created_at", 0, ROOM_MAX_MS, &n)) {
        room_errf(errbuf, errsz, "bad epoch or created_at");
        goto fail;
    }
    /* id, title and agenda go through the same validation as creation;
     * settings are patched below onto defaults. */
    spec = json_pack("{s:O?, s:O?, s:O?}", "id", json_object_get(j, "id"), "title",
                     json_object_get(j, "title"), "agenda", json_object_get(j, "agenda"));
    if (!spec || !(r = room_create(spec, epoch, n, errbuf, errsz)))
        goto fail;
    if (!room_settings_patch(&r->settings, json_object_get(j, "settings"), errbuf, errsz))
        goto fail;
    if (!room_get_enum(j, "status", proto_status_parse, &e) ||
        !room_get_str(j, "agenda_item", r->agenda_item, sizeof r->agenda_item, true) ||
        !room_get_int(j, "next_request", 1, ROOM_MAX_MS, &n)) {
        room_errf(errbuf, errsz, "bad status, agenda_item or next_request");
        goto fail;
    }
    if (r->agenda_item[0] && !room_agenda_has(r, r->agenda_item)) {
        room_errf(errbuf, errsz, "agenda_item is not on the agenda");
        goto fail;
    }
    r->status = (enum proto_status)e;
    r->next_request = (uint64_t)n;
    /* Both absent in states stored before version 1.1: no schedule, and
     * the item's start unknown (null). */
    if (!room_schedule_parse(json_object_get(j, "schedule"), &r->schedule, errbuf, errsz))
        goto fail;
    v = json_object_get(j, "agenda_item_started_at");
    r->has_item_started = false;
    r->item_started_at = 0;
    if (v && !json_is_null(v)) {
        if (!room_get_int(j, "agenda_item_started_at", 0, ROOM_MAX_MS, &n)) {
            room_errf(errbuf, errsz, "bad agenda_item_started_at");
            goto fail;
        }
        r->has_item_started = true;
        r->item_started_at = n;
    }
    if (!room_get_int(j, "seq", 0, INT64_MAX, &n)) {
        room_errf(errbuf, errsz, "bad seq");
        goto fail;
    }
    r->seq = (uint64_t)n;
    a = json_object_get(j, "queue");
    if (!json_is_array(a) || room_queue_reserve(r, json_array_size(a))) {
        room_errf(errbuf, errsz, "bad queue");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        struct room_request q;
        if (room_request_from_json(json_array_get(a, i), &q) || room_queue_index(r, q.id) >= 0) {
            room_errf(errbuf, errsz, "bad queue entry %zu", i);
            goto fail;
        }
        room_queue_insert(r, r->queue_len, &q);
    }
    if (room_floor_from_json(json_object_get(j, "floor"), &r->floor)) {
        room_errf(errbuf, errsz, "bad floor");
        goto fail;
    }
    a = json_object_get(j, "members");
    if (!json_is_object(a)) {
        room_errf(errbuf, errsz, "bad members");
        goto fail;
    }
    json_object_foreach(a, key, v) {
        if (member_from_json(r, key, v)) {
            room_errf(errbuf, errsz, "bad member %s", key);
            goto fail;
        }
    }
    if (revoke_from_json(&r->revoked, json_object_get(j, "revoked"))) {
        room_errf(errbuf, errsz, "bad revoked list");
        goto fail;
    }
    json_decref(spec);
    return r;
fail:
    json_decref(spec);
    room_destroy(r);
    return NULL;
}
