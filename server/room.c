/*
 * room.c: the pure logic of one meeting room (contract sections 3, 4, 5).
 *
 * Owns the room state and the two functions that everything else goes
 * through: room_decide() turns a validated command into the events to
 * commit (or a contract error), room_apply() turns one committed event into
 * the next state. Decide reads only the state it is given; apply is the only
 * writer, and it takes every fact it needs from the event (including the
 * event's ts for clock arithmetic), so that replaying the log from the
 * initial room reproduces the state on any node. The JSON forms (the wire
 * snapshot and event, the storage form used by journals and Redis, and
 * room_apply_text) are in room_json.c (room_private.h).
 *
 * PURE: no I/O, no clock reads (now is an argument), no globals, no logging;
 * it allocates only what it hands back or keeps in the room.
 */
#include "room.h"
#include "room_private.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ------------------------------------------------------------------ */
/* small helpers                                                      */
/* ------------------------------------------------------------------ */

void room_errf(char *buf, size_t sz, const char *fmt, ...)
{
    va_list ap;
    if (!buf || !sz)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sz, fmt, ap);
    va_end(ap);
}

/* NULL for "", so that json_pack's "s?" writes JSON null for an absent
 * value (the contract writes absent lang, delegation, ... as null). */
const char *room_nz(const char *s)
{
    return s && s[0] ? s : NULL;
}

/* Copies src into dst[dsz]. Callers check lengths beforehand (inputs are
 * validated), so truncation here is only a last line of defence. */
void room_copy_str(char *dst, size_t dsz, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= dsz)
        n = dsz - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

json_t *room_category_json(enum proto_category c)
{
    const char *s = proto_category_name(c);
    return s && s[0] ? json_string(s) : json_null();
}

/* A single-line human text (room and agenda titles): valid UTF-8, 1..max
 * code points, no control characters. */
static bool valid_line(const char *s, long max)
{
    size_t len = strlen(s);
    long n = proto_utf8_chars(s, len);
    if (n < 1 || n > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* ------------------------------------------------------------------ */
/* settings                                                           */
/* ------------------------------------------------------------------ */

void room_settings_default(struct room_settings *s)
{
    memset(s, 0, sizeof *s);
    s->speech_s = 180;
    s->reply_s = 60;
    s->point_of_order_s = 60;
    s->on_time_up = PROTO_TIMEUP_NOTIFY;
    s->chat = PROTO_CHAT_OPEN;
    s->list_open = true;
    s->queue_order = PROTO_ORDER_REQUEST;
    s->replies_per_item = 2;
    s->pause_on_disconnect = true;
    s->changeover_s = 15;
}

static bool patch_int(const json_t *v, const char *key, int min, int max, int *out,
                      char *errbuf, size_t errsz)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        room_errf(errbuf, errsz, "setting '%s' must be an integer from %d to %d", key, min, max);
        return false;
    }
    *out = (int)json_integer_value(v);
    return true;
}

static bool patch_bool(const json_t *v, const char *key, bool *out, char *errbuf, size_t errsz)
{
    if (!json_is_boolean(v)) {
        room_errf(errbuf, errsz, "setting '%s' must be true or false", key);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

static bool patch_enum(const json_t *v, const char *key, int (*parse)(const char *),
                       const char *allowed, int *out, char *errbuf, size_t errsz)
{
    int e = json_is_string(v) ? parse(json_string_value(v)) : -1;
    if (e < 0) {
        room_errf(errbuf, errsz, "setting '%s' must be one of %s", key, allowed);
        return false;
    }
    *out = e;
    return true;
}

bool room_settings_patch(struct room_settings *s, const json_t *patch, char *errbuf,
                         size_t errsz)
{
    struct room_settings n = *s;
    const char *key;
    json_t *v;
    int e;
    bool ok = true;

    if (!json_is_object(patch)) {
        room_errf(errbuf, errsz, "settings must be an object");
        return false;
    }
    json_object_foreach((json_t *)patch, key, v) {
        if (strcmp(key, "speech_s") == 0)
            ok = patch_int(v, key, 1, 7200, &n.speech_s, errbuf, errsz);
        else if (strcmp(key, "reply_s") == 0)
            ok = patch_int(v, key, 1, 7200, &n.reply_s, errbuf, errsz);
        else if (strcmp(key, "point_of_order_s") == 0)
            ok = patch_int(v, key, 1, 7200, &n.point_of_order_s, errbuf, errsz);
        else if (strcmp(key, "replies_per_item") == 0)
            ok = patch_int(v, key, 0, 100, &n.replies_per_item, errbuf, errsz);
        else if (strcmp(key, "changeover_s") == 0)
            ok = patch_int(v, key, 0, PROTO_MAX_CHANGEOVER_S, &n.changeover_s, errbuf, errsz);
        else if (strcmp(key, "list_open") == 0)
            ok = patch_bool(v, key, &n.list_open, errbuf, errsz);
        else if (strcmp(key, "pause_on_disconnect") == 0)
            ok = patch_bool(v, key, &n.pause_on_disconnect, errbuf, errsz);
        else if (strcmp(key, "on_time_up") == 0) {
            ok = patch_enum(v, key, proto_on_time_up_parse, "\"notify\", \"end\"", &e, errbuf,
                            errsz);
            if (ok)
                n.on_time_up = (enum proto_on_time_up)e;
        } else if (strcmp(key, "chat") == 0) {
            ok = patch_enum(v, key, proto_chat_parse, "\"open\", \"floor\", \"off\"", &e, errbuf,
                            errsz);
            if (ok)
                n.chat = (enum proto_chat)e;
        } else if (strcmp(key, "queue_order") == 0) {
            ok = patch_enum(v, key, proto_queue_order_parse, "\"request\", \"category\"", &e,
                            errbuf, errsz);
            if (ok)
                n.queue_order = (enum proto_queue_order)e;
        } else {
            room_errf(errbuf, errsz, "unknown setting '%s'", key);
            ok = false;
        }
        if (!ok)
            return false;
    }
    *s = n;
    return true;
}

static bool settings_equal(const struct room_settings *a, const struct room_settings *b)
{
    return a->speech_s == b->speech_s && a->reply_s == b->reply_s &&
           a->point_of_order_s == b->point_of_order_s && a->on_time_up == b->on_time_up &&
           a->chat == b->chat && a->list_open == b->list_open &&
           a->queue_order == b->queue_order && a->replies_per_item == b->replies_per_item &&
           a->pause_on_disconnect == b->pause_on_disconnect &&
           a->changeover_s == b->changeover_s;
}

json_t *room_settings_json(const struct room_settings *s)
{
    return json_pack("{s:i, s:i, s:i, s:s, s:s, s:b, s:s, s:i, s:b, s:i}",
                     "speech_s", s->speech_s, "reply_s", s->reply_s,
                     "point_of_order_s", s->point_of_order_s,
                     "on_time_up", proto_on_time_up_name(s->on_time_up),
                     "chat", proto_chat_name(s->chat), "list_open", (int)s->list_open,
                     "queue_order", proto_queue_order_name(s->queue_order),
                     "replies_per_item", s->replies_per_item,
                     "pause_on_disconnect", (int)s->pause_on_disconnect,
                     "changeover_s", s->changeover_s);
}

static int limit_for(const struct room_settings *s, enum proto_kind k)
{
    switch (k) {
    case PROTO_KIND_REPLY:
        return s->reply_s;
    case PROTO_KIND_POINT_OF_ORDER:
        return s->point_of_order_s;
    default:
        return s->speech_s;
    }
}

/* ------------------------------------------------------------------ */
/* members and queue                                                  */
/* ------------------------------------------------------------------ */

const struct room_member *room_member_find(const struct room *r, const char *sub)
{
    if (!sub)
        return NULL;
    for (size_t i = 0; i < r->members_len; i++)
        if (strcmp(r->members[i].sub, sub) == 0)
            return &r->members[i];
    return NULL;
}

struct room_member *room_member_get(struct room *r, const char *sub)
{
    return (struct room_member *)room_member_find(r, sub);
}

/* Appends a blank member for sub. Returns it, or NULL on allocation
 * failure (room unchanged). Pointers to members are invalidated. */
struct room_member *room_member_add(struct room *r, const char *sub)
{
    if (r->members_len == r->members_cap) {
        size_t cap = r->members_cap ? r->members_cap * 2 : 8;
        struct room_member *m = realloc(r->members, cap * sizeof *m);
        if (!m)
            return NULL;
        r->members = m;
        r->members_cap = cap;
    }
    struct room_member *m = &r->members[r->members_len++];
    memset(m, 0, sizeof *m);
    room_copy_str(m->sub, sizeof m->sub, sub);
    m->category = PROTO_CAT_NONE;
    m->token_role = PROTO_ROLE_OBSERVER;
    return m;
}

/* The member for sub, created when apply meets a sub the directory does not
 * know (a replay from the initial room has no directory). Such a member
 * acted as a delegate, which is the best guess for its token role; name and
 * delegation are taken from the event when it carries them. */
static struct room_member *member_ensure(struct room *r, const char *sub, const char *name,
                                         const char *delegation, enum proto_category cat)
{
    struct room_member *m = room_member_get(r, sub);
    if (m)
        return m;
    m = room_member_add(r, sub);
    if (!m)
        return NULL;
    room_copy_str(m->name, sizeof m->name, name ? name : "");
    room_copy_str(m->delegation, sizeof m->delegation, delegation ? delegation : "");
    m->category = cat;
    m->token_role = PROTO_ROLE_DELEGATE;
    return m;
}

enum proto_role room_member_role(const struct room_member *m)
{
    return m->has_role_override ? m->role_override : m->token_role;
}

/* Sequenced facts: what replaying the log must reproduce for a member. */
bool room_member_has_facts(const struct room_member *m)
{
    return m->has_role_override || m->muted || m->removed || m->turns || m->spoken_ms ||
           m->replies_used;
}

bool room_agenda_has(const struct room *r, const char *item)
{
    for (size_t i = 0; item && i < r->agenda_len; i++)
        if (strcmp(r->agenda[i].id, item) == 0)
            return true;
    return false;
}

long room_queue_index(const struct room *r, const char *id)
{
    for (size_t i = 0; i < r->queue_len; i++)
        if (strcmp(r->queue[i].id, id) == 0)
            return (long)i;
    return -1;
}

int room_queue_reserve(struct room *r, size_t n)
{
    if (n <= r->queue_cap)
        return 0;
    size_t cap = r->queue_cap ? r->queue_cap : 8;
    while (cap < n)
        cap *= 2;
    struct room_request *q = realloc(r->queue, cap * sizeof *q);
    if (!q)
        return -1;
    r->queue = q;
    r->queue_cap = cap;
    return 0;
}

/* Inserts at pos; capacity must have been reserved. */
void room_queue_insert(struct room *r, size_t pos, const struct room_request *q)
{
    if (pos > r->queue_len)
        pos = r->queue_len;
    memmove(&r->queue[pos + 1], &r->queue[pos], (r->queue_len - pos) * sizeof *q);
    r->queue[pos] = *q;
    r->queue_len++;
}

static void queue_erase(struct room *r, size_t pos)
{
    memmove(&r->queue[pos], &r->queue[pos + 1], (r->queue_len - pos - 1) * sizeof r->queue[0]);
    r->queue_len--;
}

/* Where a new request goes (contract section 5, "Queue order"):
 * - a point of order after the run of points of order at the front;
 * - a reply at the end, because rights of reply follow the list;
 * - a speech after the last speech (with queue_order "category": after the
 *   last speech of the same or a higher-ranked category); when no speech
 *   qualifies it goes before the first speech, or, with no speech at all,
 *   right after the leading points of order (so ahead of any reply). */
static size_t insert_pos(const struct room *r, const struct room_request *q)
{
    size_t n = r->queue_len, lead = 0;
    while (lead < n && r->queue[lead].kind == PROTO_KIND_POINT_OF_ORDER)
        lead++;
    if (q->kind == PROTO_KIND_POINT_OF_ORDER)
        return lead;
    if (q->kind == PROTO_KIND_REPLY)
        return n;
    bool by_cat = r->settings.queue_order == PROTO_ORDER_CATEGORY;
    size_t pos = SIZE_MAX, first = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const struct room_request *o = &r->queue[i];
        if (o->kind != PROTO_KIND_SPEECH)
            continue;
        if (first == SIZE_MAX)
            first = i;
        if (!by_cat || o->category <= q->category)
            pos = i + 1;
    }
    if (pos != SIZE_MAX)
        return pos;
    if (first != SIZE_MAX)
        return first;
    return lead;
}

/* Time spoken on floor f at now: what was spoken before the last
 * (re)start plus the running part. A clock that runs behind started_at
 * (another node's time) counts as zero rather than negative. */
/* Stored times are bounded (ROOM_MAX_MS), so this cannot overflow; the
 * clamp keeps it so whatever now is. */
static int64_t floor_elapsed(const struct room_floor *f, int64_t now)
{
    int64_t e = f->elapsed_ms;
    if (!f->paused && now > f->started_at)
        e += (now < ROOM_MAX_MS ? now : ROOM_MAX_MS) - f->started_at;
    return e;
}

/* ------------------------------------------------------------------ */
/* life cycle                                                         */
/* ------------------------------------------------------------------ */

static void text_unref(struct room_text *t)
{
    if (t && --t->refs == 0)
        free(t);
}

void room_destroy(struct room *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->statements_len; i++)
        text_unref(r->statements[i].text);
    free(r->statements);
    room_agenda_free(r->agenda, r->agenda_len);
    free(r->queue);
    free(r->members);
    free(r->title);
    revoke_clear(&r->revoked);
    free(r);
}

/* Reads an agenda from a JSON array of {"id","title","planned_s"?,
 * "reserved"?} (at most 50 items, valid unique ids, titles 1..2000
 * characters on one line, planned_s 1..86400 or null, reserved a boolean).
 * On success *out is a new array of *n items (room_agenda_free()); on failure
 * nothing is allocated and errbuf names the item and the field. */
static bool agenda_parse(const json_t *a, struct room_agenda_item **out, size_t *outn,
                         char *errbuf, size_t errsz)
{
    struct room_agenda_item *items = NULL;
    size_t n = json_array_size(a), done = 0;

    *out = NULL;
    *outn = 0;
    if (!json_is_array(a) || n > PROTO_MAX_AGENDA_ITEMS) {
        room_errf(errbuf, errsz, "'agenda' must be an array of at most %d items",
             PROTO_MAX_AGENDA_ITEMS);
        return false;
    }
    if (!n)
        return true;
    items = calloc(n, sizeof *items);
    if (!items) {
        room_errf(errbuf, errsz, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(a, i);
        const char *id = json_string_value(json_object_get(it, "id"));
        const char *title = json_string_value(json_object_get(it, "title"));
        const json_t *planned = json_object_get(it, "planned_s");
        const json_t *reserved = json_object_get(it, "reserved");
        if (!json_is_object(it) || !proto_valid_item_id(id)) {
            room_errf(errbuf, errsz, "agenda item %zu: 'id' must be 1 to %d characters [A-Za-z0-9._-]",
                 i + 1, PROTO_MAX_ITEM_ID);
            goto fail;
        }
        if (!title || !valid_line(title, ROOM_MAX_ITEM_TITLE_CHARS)) {
            room_errf(errbuf, errsz, "agenda item %zu: 'title' must be 1 to %d characters on one line",
                 i + 1, ROOM_MAX_ITEM_TITLE_CHARS);
            goto fail;
        }
        if (planned && !json_is_null(planned) &&
            (!json_is_integer(planned) || json_integer_value(planned) < 1 ||
             json_integer_value(planned) > PROTO_MAX_PLANNED_S)) {
            room_errf(errbuf, errsz, "agenda item %zu: 'planned_s' must be an integer from 1 to %d",
                 i + 1, PROTO_MAX_PLANNED_S);
            goto fail;
        }
        if (reserved && !json_is_null(reserved) && !json_is_boolean(reserved)) {
            room_errf(errbuf, errsz, "agenda item %zu: 'reserved' must be true or false", i + 1);
            goto fail;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(items[k].id, id) == 0) {
                room_errf(errbuf, errsz, "agenda item id '%s' appears twice", id);
                goto fail;
            }
        }
        room_copy_str(items[i].id, sizeof items[i].id, id);
        items[i].planned_s = json_is_integer(planned) ? (int)json_integer_value(planned) : 0;
        items[i].reserved = json_is_true(reserved);
        items[i].title = strdup(title);
        done = i + 1; /* so that fail frees what is set */
        if (!items[i].title) {
            room_errf(errbuf, errsz, "out of memory");
            goto fail;
        }
    }
    *out = items;
    *outn = n;
    return true;
fail:
    room_agenda_free(items, done);
    return false;
}

static bool agenda_from_json(struct room *r, const json_t *a, char *errbuf, size_t errsz)
{
    return agenda_parse(a, &r->agenda, &r->agenda_len, errbuf, errsz);
}

struct room *room_create(const json_t *spec, const char *epoch, int64_t now_ms, char *errbuf,
                         size_t errsz)
{
    struct room *r = NULL;
    const char *id, *title;
    const json_t *agenda, *settings, *status;

    if (!json_is_object(spec)) {
        room_errf(errbuf, errsz, "the room must be a JSON object");
        goto fail;
    }
    /* Unknown top-level fields are ignored, like unknown command fields,
     * so that newer admin tools keep working with this server. */
    id = json_string_value(json_object_get(spec, "id"));
    if (!proto_valid_room_id(id)) {
        room_errf(errbuf, errsz, "'id' must match [a-z0-9][a-z0-9-]{0,63}");
        goto fail;
    }
    title = json_string_value(json_object_get(spec, "title"));
    if (!title || !valid_line(title, PROTO_MAX_TITLE_CHARS)) {
        room_errf(errbuf, errsz, "'title' must be 1 to %d characters on one line",
             PROTO_MAX_TITLE_CHARS);
        goto fail;
    }
    if (epoch && strlen(epoch) > PROTO_MAX_EPOCH) {
        room_errf(errbuf, errsz, "epoch too long");
        goto fail;
    }
    r = calloc(1, sizeof *r);
    if (!r || !(r->title = strdup(title))) {
        room_errf(errbuf, errsz, "out of memory");
        goto fail;
    }
    room_copy_str(r->id, sizeof r->id, id);
    room_copy_str(r->epoch, sizeof r->epoch, epoch ? epoch : "");
    r->created_at = now_ms;
    r->status = PROTO_STATUS_OPEN;
    r->next_request = 1;
    room_settings_default(&r->settings);
    agenda = json_object_get(spec, "agenda");
    if (agenda && !json_is_null(agenda) && !agenda_from_json(r, agenda, errbuf, errsz))
        goto fail;
    if (r->agenda_len)
        room_copy_str(r->agenda_item, sizeof r->agenda_item, r->agenda[0].id);
    settings = json_object_get(spec, "settings");
    if (settings && !json_is_null(settings) &&
        !room_settings_patch(&r->settings, settings, errbuf, errsz))
        goto fail;
    if (!room_schedule_parse(json_object_get(spec, "schedule"), &r->schedule, errbuf, errsz))
        goto fail;
    status = json_object_get(spec, "status");
    if (status && !json_is_null(status)) {
        const char *st = json_string_value(status);
        if (!st || (strcmp(st, "open") != 0 && strcmp(st, "scheduled") != 0)) {
            room_errf(errbuf, errsz, "'status' must be \"open\" or \"scheduled\"");
            goto fail;
        }
        r->status = strcmp(st, "open") == 0 ? PROTO_STATUS_OPEN : PROTO_STATUS_SCHEDULED;
    }
    /* A room created open starts its first item when it is created: no
     * event made it current, and the projection needs a start. */
    if (r->status == PROTO_STATUS_OPEN && r->agenda_item[0]) {
        r->has_item_started = true;
        r->item_started_at = now_ms;
    }
    return r;
fail:
    room_destroy(r);
    return NULL;
}

struct room *room_clone(const struct room *src)
{
    struct room *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    *r = *src;
    r->title = NULL;
    r->agenda = NULL;
    r->agenda_len = 0;
    r->queue = NULL;
    r->queue_len = r->queue_cap = 0;
    r->members = NULL;
    r->members_len = r->members_cap = 0;
    memset(&r->revoked, 0, sizeof r->revoked);
    r->statements = NULL;
    r->statements_len = r->statements_cap = 0;
    if (src->statements_len) {
        r->statements = malloc(src->statements_len * sizeof *r->statements);
        if (!r->statements)
            goto fail;
        memcpy(r->statements, src->statements, src->statements_len * sizeof *r->statements);
        for (size_t i = 0; i < src->statements_len; i++)
            r->statements[i].text->refs++;
        r->statements_len = r->statements_cap = src->statements_len;
    }
    if (src->title && !(r->title = strdup(src->title)))
        goto fail;
    if (revoke_copy(&r->revoked, &src->revoked) != 0)
        goto fail;
    if (src->agenda_len) {
        r->agenda = calloc(src->agenda_len, sizeof *r->agenda);
        if (!r->agenda)
            goto fail;
        for (size_t i = 0; i < src->agenda_len; i++) {
            r->agenda[i] = src->agenda[i];
            r->agenda[i].title = strdup(src->agenda[i].title);
            r->agenda_len = i + 1;
            if (!r->agenda[i].title)
                goto fail;
        }
    }
    if (src->queue_len) {
        if (room_queue_reserve(r, src->queue_len))
            goto fail;
        memcpy(r->queue, src->queue, src->queue_len * sizeof *r->queue);
        r->queue_len = src->queue_len;
    }
    if (src->members_len) {
        r->members = malloc(src->members_len * sizeof *r->members);
        if (!r->members)
            goto fail;
        memcpy(r->members, src->members, src->members_len * sizeof *r->members);
        r->members_len = r->members_cap = src->members_len;
    }
    return r;
fail:
    room_destroy(r);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* participants                                                       */
/* ------------------------------------------------------------------ */


json_t *room_member_record(const struct room_member *m)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:I, s:o}", "sub", m->sub, "name", m->name,
                     "role", proto_role_name(m->token_role), "category",
                     proto_category_name(m->category), "delegation", room_nz(m->delegation), "region",
                     room_nz(m->region), "first_joined_at", (json_int_t)m->first_joined_at,
                     "last_left_at", m->last_left_at ? json_integer(m->last_left_at) : json_null());
}


bool room_participant_seen(struct room *r, const struct room_actor *a)
{
    struct room_member *m = room_member_get(r, a->sub);
    bool changed = false;

    if (!proto_valid_sub(a->sub))
        return false;
    if (!m) {
        m = room_member_add(r, a->sub);
        if (!m)
            return false;
        changed = true;
    }
    if (strcmp(m->name, a->name) != 0) {
        room_copy_str(m->name, sizeof m->name, a->name);
        changed = true;
    }
    if (strcmp(m->delegation, a->delegation) != 0) {
        room_copy_str(m->delegation, sizeof m->delegation, a->delegation);
        changed = true;
    }
    if (m->category != a->category) {
        m->category = a->category;
        changed = true;
    }
    if (strcmp(m->region, a->region) != 0) {
        room_copy_str(m->region, sizeof m->region, a->region);
        changed = true;
    }
    if (m->token_role != a->role) {
        m->token_role = a->role;
        changed = true;
    }
    if (a->role != PROTO_ROLE_OBSERVER && !m->seen) {
        m->seen = true;
        changed = true;
    }
    return changed;
}

enum proto_role room_effective_role(const struct room *r, const struct room_actor *a)
{
    const struct room_member *m = room_member_find(r, a->sub);
    return m && m->has_role_override ? m->role_override : a->role;
}

bool room_is_removed(const struct room *r, const char *sub)
{
    const struct room_member *m = room_member_find(r, sub);
    return m && m->removed;
}

/* ------------------------------------------------------------------ */
/* written statements (contract 9.4)                                  */
/* ------------------------------------------------------------------ */

static long statement_index(const struct room *r, const char *request_id)
{
    for (size_t i = 0; request_id && i < r->statements_len; i++)
        if (strcmp(r->statements[i].request_id, request_id) == 0)
            return (long)i;
    return -1;
}

const struct room_statement *room_statement_find(const struct room *r, const char *request_id)
{
    long i = statement_index(r, request_id);
    return i < 0 ? NULL : &r->statements[i];
}

static void statement_drop(struct room *r, const char *request_id)
{
    long i = statement_index(r, request_id);
    if (i < 0)
        return;
    text_unref(r->statements[i].text);
    r->statements[i] = r->statements[--r->statements_len];
}

static bool valid_lang_opt(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t k = 0; k < n; k++)
        if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
              (s[k] >= '0' && s[k] <= '9') || s[k] == '-'))
            return false;
    return n <= PROTO_MAX_LANG;
}

/* Puts or replaces; published marks a text that is public now. */
static int statement_set(struct room *r, const char *request_id, const char *sub, const char *lang,
                         const char *text, bool published)
{
    size_t len = text ? strlen(text) : 0;
    long chars = text ? proto_utf8_chars(text, len) : -1;
    struct room_text *t;
    long i;
    if (!proto_valid_item_id(request_id) || !proto_valid_sub(sub) || !valid_lang_opt(lang) ||
        chars < 1 || chars > PROTO_MAX_STATEMENT_CHARS)
        return -1;
    i = statement_index(r, request_id);
    if (i < 0 && r->statements_len == r->statements_cap) {
        size_t cap = r->statements_cap ? r->statements_cap * 2 : 8;
        struct room_statement *a = realloc(r->statements, cap * sizeof *a);
        if (!a)
            return -1;
        r->statements = a;
        r->statements_cap = cap;
    }
    t = malloc(sizeof *t + len + 1);
    if (!t)
        return -1;
    t->refs = 1;
    t->len = len;
    memcpy(t->s, text, len + 1);
    if (i < 0) {
        i = (long)r->statements_len++;
        memset(&r->statements[i], 0, sizeof r->statements[i]);
    } else {
        text_unref(r->statements[i].text);
    }
    struct room_statement *st = &r->statements[i];
    room_copy_str(st->request_id, sizeof st->request_id, request_id);
    room_copy_str(st->sub, sizeof st->sub, sub);
    room_copy_str(st->lang, sizeof st->lang, lang ? lang : "");
    st->text = t;
    st->published = published;
    return 0;
}

int room_statement_put(struct room *r, const char *request_id, const char *sub, const char *lang,
                       const char *text)
{
    const struct room_statement *old = room_statement_find(r, request_id);
    /* A published text is the one in its event: a late copy from a store
     * does not replace it. */
    if (old && old->published)
        return 0;
    return statement_set(r, request_id, sub, lang, text, false);
}

json_t *room_statement_json(const char *text, const char *lang, const char *sub)
{
    return json_pack("{s:s, s:s?, s:s}", "text", text, "lang", room_nz(lang), "sub", sub);
}

char *room_statement_reply(const struct room_statement *st, const char *id, size_t *len)
{
    json_t *j = json_pack("{s:s, s:s, s:s?, s:s}", "type", "statement", "request_id",
                          st->request_id, "lang", room_nz(st->lang), "text", st->text->s);
    char *s = NULL;
    if (j && id && id[0] && json_object_set_new(j, "id", json_string(id))) {
        json_decref(j);
        return NULL;
    }
    if (j)
        s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s && len)
        *len = strlen(s);
    return s;
}

enum proto_err room_statement_read(const struct room *r, const struct room_actor *a,
                                   const struct proto_cmd *c, const struct room_statement **out,
                                   char *errbuf, size_t errsz)
{
    enum proto_role role = room_effective_role(r, a);
    const struct room_statement *st = c->has_request_id ? room_statement_find(r, c->request_id)
                                                        : NULL;
    *out = NULL;
    if (room_is_removed(r, a->sub)) {
        room_errf(errbuf, errsz, "you were removed from this room");
        return PROTO_ERR_FORBIDDEN;
    }
    if (role != PROTO_ROLE_MODERATOR && role != PROTO_ROLE_INTERPRETER &&
        !(st && strcmp(st->sub, a->sub) == 0)) {
        /* Also for an unknown request, so that the answer says nothing
         * about which requests have statements. */
        room_errf(errbuf, errsz, "statements are read by moderators, interpreters and their author");
        return PROTO_ERR_FORBIDDEN;
    }
    if (!st) {
        room_errf(errbuf, errsz, "no statement for request %s", c->request_id);
        return PROTO_ERR_NOT_FOUND;
    }
    *out = st;
    return PROTO_OK;
}

/* ------------------------------------------------------------------ */
/* decide                                                             */
/* ------------------------------------------------------------------ */

struct decide_ctx {
    const struct room *r;
    const struct room_actor *a;
    const struct proto_cmd *c;
    int64_t now;
    enum proto_role role; /* the actor's effective role */
    struct room_events *out;
    char *errbuf;
    size_t errsz;
};

static enum proto_err refuse(struct decide_ctx *x, enum proto_err e, const char *fmt, ...)
    ROOM_PRINTF(3, 4);

/* Returns e with a human reason in the caller's buffer. */
static enum proto_err refuse(struct decide_ctx *x, enum proto_err e, const char *fmt, ...)
{
    va_list ap;
    if (x->errbuf && x->errsz) {
        va_start(ap, fmt);
        vsnprintf(x->errbuf, x->errsz, fmt, ap);
        va_end(ap);
    }
    return e;
}

/* Appends an event; takes ownership of data (NULL = allocation failure). */
static enum proto_err push_event(struct room_events *out, int64_t now, enum proto_event name,
                                 const char *actor, json_t *data)
{
    if (!data || out->n >= ROOM_MAX_EVENTS) {
        json_decref(data);
        return PROTO_ERR_INTERNAL;
    }
    struct room_event *e = &out->ev[out->n++];
    memset(e, 0, sizeof *e);
    e->ts = now;
    e->name = name;
    room_copy_str(e->actor, sizeof e->actor, actor ? actor : "");
    e->data = data;
    return PROTO_OK;
}

static enum proto_err emit(struct decide_ctx *x, enum proto_event name, json_t *data)
{
    enum proto_err e = push_event(x->out, x->now, name, x->a->sub, data);
    return e ? refuse(x, e, "out of memory") : PROTO_OK;
}

static json_t *floor_ended_data(const struct room *r, enum proto_end_reason why, int64_t now)
{
    return json_pack("{s:s, s:s, s:I}", "sub", r->floor.sub, "reason",
                     proto_end_reason_name(why), "spoken_ms",
                     (json_int_t)floor_elapsed(&r->floor, now));
}

/* A member that a moderator command may name: known and not removed. */
static const struct room_member *target(struct decide_ctx *x)
{
    const struct room_member *m = x->c->has_sub ? room_member_find(x->r, x->c->sub) : NULL;
    return m && !m->removed ? m : NULL;
}

static json_t *message_data(struct decide_ctx *x, const char *kind)
{
    return json_pack("{s:{s:s, s:s, s:s?, s:s}, s:s, s:s}", "from", "sub", x->a->sub, "name",
                     x->a->name, "delegation", room_nz(x->a->delegation), "role",
                     proto_role_name(x->role), "text", x->c->text, "kind", kind);
}

/* statement_published's data for statement st of a request made by
 * (sub, name, delegation, region). */
static json_t *published_data(const struct room_statement *st, const char *sub, const char *name,
                              const char *delegation, const char *region, bool delivered)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:b}", "request_id", st->request_id,
                     "sub", sub, "name", name, "delegation", room_nz(delegation), "region", room_nz(region),
                     "lang", room_nz(st->lang), "text", st->text->s, "delivered", (int)delivered);
}

static void drop_push(struct room_events *out, const char *request_id)
{
    if (out->stmt_ndrop < ROOM_MAX_EVENTS)
        room_copy_str(out->stmt_drop[out->stmt_ndrop++], sizeof out->stmt_drop[0], request_id);
}

/* floor_ended and, when the floor was granted from a request with a
 * written statement, that statement published right after it (contract
 * 9.4: "check against delivery"), whatever ended the floor. */
static enum proto_err push_floor_end(struct room_events *out, const struct room *r,
                                     enum proto_end_reason why, int64_t now, const char *actor)
{
    const struct room_statement *st =
        r->floor.request_id[0] ? room_statement_find(r, r->floor.request_id) : NULL;
    enum proto_err e =
        push_event(out, now, PROTO_EV_FLOOR_ENDED, actor, floor_ended_data(r, why, now));
    if (e || !st || st->published)
        return e;
    e = push_event(out, now, PROTO_EV_STATEMENT_PUBLISHED, actor,
                   published_data(st, r->floor.sub, r->floor.name, r->floor.delegation,
                                  r->floor.region, true));
    if (!e)
        drop_push(out, st->request_id);
    return e;
}

static enum proto_err end_floor(struct decide_ctx *x, enum proto_end_reason why)
{
    enum proto_err e = push_floor_end(x->out, x->r, why, x->now, x->a->sub);
    return e ? refuse(x, e, "out of memory") : PROTO_OK;
}

/* A request leaving the queue unheard takes its statement with it. */
static void drop_statement_of(struct decide_ctx *x, const char *request_id)
{
    if (room_statement_find(x->r, request_id))
        drop_push(x->out, request_id);
}

static enum proto_err cmd_ping(struct decide_ctx *x)
{
    return PROTO_OK;
}

static enum proto_err cmd_request_floor(struct decide_ctx *x)
{
    const struct room *r = x->r;
    const struct proto_cmd *c = x->c;
    struct room_request q;

    if ((unsigned)c->kind >= PROTO_KIND__COUNT)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "unknown kind");
    for (size_t i = 0; i < r->queue_len; i++)
        if (r->queue[i].kind == c->kind && strcmp(r->queue[i].sub, x->a->sub) == 0)
            return refuse(x, PROTO_ERR_CONFLICT, "you already have a pending %s request (%s)",
                          proto_kind_name(c->kind), r->queue[i].id);
    if (c->kind == PROTO_KIND_SPEECH && !r->settings.list_open)
        return refuse(x, PROTO_ERR_LIST_CLOSED,
                      "the speakers list is closed; replies and points of order are still "
                      "accepted");
    if (c->kind == PROTO_KIND_REPLY) {
        /* Pending or granted on this item; withdrawn and removed requests
         * give the right back. (replies_used counts the granted ones.) */
        const struct room_member *m = room_member_find(r, x->a->sub);
        int used = m ? m->replies_used : 0;
        for (size_t i = 0; i < r->queue_len; i++)
            used += r->queue[i].kind == PROTO_KIND_REPLY && strcmp(r->queue[i].sub, x->a->sub) == 0;
        if (used >= r->settings.replies_per_item)
            return refuse(x, PROTO_ERR_QUOTA_EXCEEDED,
                          "you have used your %d right(s) of reply on this agenda item",
                          r->settings.replies_per_item);
    }
    memset(&q, 0, sizeof q);
    snprintf(q.id, sizeof q.id, "r%" PRIu64, r->next_request);
    room_copy_str(q.sub, sizeof q.sub, x->a->sub);
    room_copy_str(q.name, sizeof q.name, x->a->name);
    room_copy_str(q.delegation, sizeof q.delegation, x->a->delegation);
    q.category = x->a->category;
    room_copy_str(q.region, sizeof q.region, x->a->region);
    q.kind = c->kind;
    room_copy_str(q.lang, sizeof q.lang, c->lang);
    q.at = x->now;
    return emit(x, PROTO_EV_FLOOR_REQUESTED, json_pack("{s:o}", "request", room_request_json(&q)));
}

static enum proto_err cmd_withdraw(struct decide_ctx *x)
{
    long i = x->c->has_request_id ? room_queue_index(x->r, x->c->request_id) : -1;
    /* Someone else's request is reported as not found, not forbidden: a
     * delegate only ever sees their own requests as withdrawable. */
    if (i < 0 || strcmp(x->r->queue[i].sub, x->a->sub) != 0)
        return refuse(x, PROTO_ERR_NOT_FOUND, "you have no request %s", x->c->request_id);
    drop_statement_of(x, x->r->queue[i].id);
    return emit(x, PROTO_EV_REQUEST_WITHDRAWN,
                json_pack("{s:s}", "request_id", x->r->queue[i].id));
}

static enum proto_err cmd_yield(struct decide_ctx *x)
{
    if (!x->r->floor.active)
        return refuse(x, PROTO_ERR_NOT_FOUND, "nobody has the floor");
    if (strcmp(x->r->floor.sub, x->a->sub) != 0)
        return refuse(x, PROTO_ERR_FORBIDDEN, "only the speaker can yield the floor");
    return end_floor(x, PROTO_END_YIELDED);
}

static enum proto_err cmd_say(struct decide_ctx *x)
{
    const struct room *r = x->r;
    const struct room_member *m;

    if (!x->c->text)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "field 'text' is required");
    switch (r->settings.chat) {
    case PROTO_CHAT_OFF:
        return refuse(x, PROTO_ERR_FORBIDDEN, "the chat is off");
    case PROTO_CHAT_FLOOR:
        if (x->role != PROTO_ROLE_MODERATOR &&
            !(r->floor.active && strcmp(r->floor.sub, x->a->sub) == 0))
            return refuse(x, PROTO_ERR_FORBIDDEN, "only the speaker and moderators may chat");
        break;
    default:
        break;
    }
    m = room_member_find(r, x->a->sub);
    if (m && m->muted)
        return refuse(x, PROTO_ERR_MUTED, "a moderator muted you in the chat");
    return emit(x, PROTO_EV_MESSAGE, message_data(x, "chat"));
}

/* grant: the head of the queue, a request by id, or a participant by sub.
 * By sub, that participant's first request in the queue is granted (and
 * leaves the queue, like any granted request: a later grant of the head
 * must not give them the floor again); with none waiting, the floor is
 * given directly (kind speech, request_id null). */
static enum proto_err cmd_grant(struct decide_ctx *x)
{
    const struct room *r = x->r;
    const struct proto_cmd *c = x->c;
    struct room_floor f;
    enum proto_err e;
    long i = -1;

    memset(&f, 0, sizeof f);
    f.active = true;
    if (c->has_request_id && c->has_sub)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "give 'request_id' or 'sub', not both");
    if (c->has_sub) {
        const struct room_member *m = target(x);
        if (!m || room_member_role(m) < PROTO_ROLE_DELEGATE)
            return refuse(x, PROTO_ERR_NOT_FOUND, "no delegate or moderator %s", c->sub);
        for (size_t k = 0; k < r->queue_len && i < 0; k++)
            if (strcmp(r->queue[k].sub, m->sub) == 0)
                i = (long)k;
        if (i < 0) {
            room_copy_str(f.sub, sizeof f.sub, m->sub);
            room_copy_str(f.name, sizeof f.name, m->name);
            room_copy_str(f.delegation, sizeof f.delegation, m->delegation);
            f.category = m->category;
            room_copy_str(f.region, sizeof f.region, m->region);
            f.kind = PROTO_KIND_SPEECH;
        }
    } else {
        i = c->has_request_id ? room_queue_index(r, c->request_id) : (r->queue_len ? 0 : -1);
        if (i < 0)
            return c->has_request_id
                       ? refuse(x, PROTO_ERR_NOT_FOUND, "no request %s", c->request_id)
                       : refuse(x, PROTO_ERR_NOT_FOUND, "the speakers list is empty");
    }
    if (i >= 0) {
        const struct room_request *q = &r->queue[i];
        room_copy_str(f.sub, sizeof f.sub, q->sub);
        room_copy_str(f.name, sizeof f.name, q->name);
        room_copy_str(f.delegation, sizeof f.delegation, q->delegation);
        room_copy_str(f.request_id, sizeof f.request_id, q->id);
        f.category = q->category;
        room_copy_str(f.region, sizeof f.region, q->region);
        f.kind = q->kind;
    }
    f.limit_s = limit_for(&r->settings, f.kind);
    f.started_at = x->now;
    if (r->floor.active &&
        (e = end_floor(x, PROTO_END_SUPERSEDED)))
        return e;
    return emit(x, PROTO_EV_FLOOR_GRANTED, json_pack("{s:o}", "floor", room_floor_json(&f, false)));
}

static enum proto_err cmd_end_floor(struct decide_ctx *x)
{
    if (!x->r->floor.active)
        return refuse(x, PROTO_ERR_NOT_FOUND, "nobody has the floor");
    return end_floor(x, PROTO_END_MODERATOR);
}

static enum proto_err cmd_pause(struct decide_ctx *x)
{
    if (!x->r->floor.active)
        return refuse(x, PROTO_ERR_NOT_FOUND, "nobody has the floor");
    if (x->r->floor.paused)
        return refuse(x, PROTO_ERR_CONFLICT, "the clock is already paused");
    return emit(x, PROTO_EV_TIMER_PAUSED, json_object());
}

static enum proto_err cmd_resume(struct decide_ctx *x)
{
    if (!x->r->floor.active)
        return refuse(x, PROTO_ERR_NOT_FOUND, "nobody has the floor");
    if (!x->r->floor.paused)
        return refuse(x, PROTO_ERR_CONFLICT, "the clock is not paused");
    return emit(x, PROTO_EV_TIMER_RESUMED, json_object());
}

static enum proto_err cmd_extend(struct decide_ctx *x)
{
    int s = x->c->seconds;
    if (!x->r->floor.active)
        return refuse(x, PROTO_ERR_NOT_FOUND, "nobody has the floor");
    if (s < 1 || s > 3600)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "field 'seconds' must be 1 to 3600");
    if (x->r->floor.limit_s > ROOM_MAX_LIMIT_S - s)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "a floor cannot last more than %d seconds",
                      ROOM_MAX_LIMIT_S);
    return emit(x, PROTO_EV_TIME_EXTENDED, json_pack("{s:i}", "seconds", s));
}

static enum proto_err cmd_move(struct decide_ctx *x)
{
    const struct room *r = x->r;
    long i = x->c->has_request_id ? room_queue_index(r, x->c->request_id) : -1;
    if (i < 0)
        return refuse(x, PROTO_ERR_NOT_FOUND, "no request %s", x->c->request_id);
    if (x->c->to < 0)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "field 'to' must be 0 or more");
    long to = x->c->to >= (long)r->queue_len ? (long)r->queue_len - 1 : x->c->to;
    /* Already there: done, and no event that changes nothing. */
    if (to == i)
        return PROTO_OK;
    return emit(x, PROTO_EV_REQUEST_MOVED,
                json_pack("{s:s, s:i}", "request_id", r->queue[i].id, "to", (int)to));
}

static enum proto_err cmd_remove_request(struct decide_ctx *x)
{
    long i = x->c->has_request_id ? room_queue_index(x->r, x->c->request_id) : -1;
    if (i < 0)
        return refuse(x, PROTO_ERR_NOT_FOUND, "no request %s", x->c->request_id);
    drop_statement_of(x, x->r->queue[i].id);
    return emit(x, PROTO_EV_REQUEST_REMOVED,
                json_pack("{s:s}", "request_id", x->r->queue[i].id));
}

static enum proto_err cmd_open_list(struct decide_ctx *x)
{
    if (x->r->settings.list_open)
        return refuse(x, PROTO_ERR_CONFLICT, "the speakers list is already open");
    return emit(x, PROTO_EV_LIST_OPENED, json_object());
}

static enum proto_err cmd_close_list(struct decide_ctx *x)
{
    if (!x->r->settings.list_open)
        return refuse(x, PROTO_ERR_CONFLICT, "the speakers list is already closed");
    return emit(x, PROTO_EV_LIST_CLOSED, json_object());
}

static enum proto_err cmd_mute(struct decide_ctx *x)
{
    const struct room_member *m = target(x);
    if (!m)
        return refuse(x, PROTO_ERR_NOT_FOUND, "no participant %s", x->c->sub);
    if (m->muted)
        return refuse(x, PROTO_ERR_CONFLICT, "%s is already muted", m->sub);
    return emit(x, PROTO_EV_PARTICIPANT_MUTED, json_pack("{s:s}", "sub", m->sub));
}

static enum proto_err cmd_unmute(struct decide_ctx *x)
{
    const struct room_member *m = target(x);
    if (!m)
        return refuse(x, PROTO_ERR_NOT_FOUND, "no participant %s", x->c->sub);
    if (!m->muted)
        return refuse(x, PROTO_ERR_CONFLICT, "%s is not muted", m->sub);
    return emit(x, PROTO_EV_PARTICIPANT_UNMUTED, json_pack("{s:s}", "sub", m->sub));
}

/* remove: the floor (if theirs) ends first, so that floor_ended carries
 * the time they spoke and the removal event only clears queue and mute. */
static enum proto_err cmd_remove(struct decide_ctx *x)
{
    const struct room *r = x->r;
    const struct room_member *m = target(x);
    enum proto_err e;
    if (!m)
        return refuse(x, PROTO_ERR_NOT_FOUND, "no participant %s", x->c->sub);
    /* A chair who removed themselves would be locked out of the room for
     * good; that is never what was meant. */
    if (strcmp(m->sub, x->a->sub) == 0)
        return refuse(x, PROTO_ERR_FORBIDDEN, "you cannot remove yourself");
    if (r->floor.active && strcmp(r->floor.sub, m->sub) == 0 &&
        (e = end_floor(x, PROTO_END_MODERATOR)))
        return e;
    for (size_t i = 0; i < r->queue_len; i++)
        if (strcmp(r->queue[i].sub, m->sub) == 0)
            drop_statement_of(x, r->queue[i].id);
    return emit(x, PROTO_EV_PARTICIPANT_REMOVED, json_pack("{s:s}", "sub", m->sub));
}

/* set_role: the override applies to any known member, moderators
 * included (a chair may step down); the queue and the floor stay as they
 * are (the contract's role_changed changes no snapshot part). */
static enum proto_err cmd_set_role(struct decide_ctx *x)
{
    const struct room_member *m;
    enum proto_role role = x->c->role;
    if (role != PROTO_ROLE_DELEGATE && role != PROTO_ROLE_OBSERVER)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "'role' must be \"delegate\" or \"observer\"");
    m = target(x);
    if (!m)
        return refuse(x, PROTO_ERR_NOT_FOUND, "no participant %s", x->c->sub);
    if (room_member_role(m) == role)
        return refuse(x, PROTO_ERR_CONFLICT, "%s is already %s", m->sub, proto_role_name(role));
    return emit(x, PROTO_EV_ROLE_CHANGED,
                json_pack("{s:s, s:s}", "sub", m->sub, "role", proto_role_name(role)));
}

static enum proto_err cmd_announce(struct decide_ctx *x)
{
    if (!x->c->text)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "field 'text' is required");
    return emit(x, PROTO_EV_MESSAGE, message_data(x, "announcement"));
}

static enum proto_err cmd_set_agenda_item(struct decide_ctx *x)
{
    if (!room_agenda_has(x->r, x->c->item))
        return refuse(x, PROTO_ERR_NOT_FOUND, "no agenda item %s", x->c->item);
    /* Setting the current item again would silently hand out new rights of
     * reply; refuse it like any other change to the state it already has. */
    if (strcmp(x->r->agenda_item, x->c->item) == 0)
        return refuse(x, PROTO_ERR_CONFLICT, "%s is already the current agenda item",
                      x->c->item);
    return emit(x, PROTO_EV_AGENDA_ITEM_SET, json_pack("{s:s}", "item", x->c->item));
}

/* set_status: closing the meeting also ends the floor (reason moderator),
 * so that no clock keeps running in a room where nobody can act. */
static enum proto_err cmd_set_status(struct decide_ctx *x)
{
    const struct room *r = x->r;
    enum proto_status s = x->c->status;
    enum proto_err e;
    if ((unsigned)s >= PROTO_STATUS__COUNT)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "unknown status");
    if (s == r->status)
        return refuse(x, PROTO_ERR_CONFLICT, "the meeting is already %s", proto_status_name(s));
    /* scheduled is where a meeting starts (room spec), never where it goes
     * back to: the first opening starts the first item's clock. */
    if (s == PROTO_STATUS_SCHEDULED)
        return refuse(x, PROTO_ERR_BAD_REQUEST,
                      "field 'status': a meeting is scheduled only when it is created; "
                      "use \"suspended\" to halt it");
    if (s == PROTO_STATUS_CLOSED && r->floor.active &&
        (e = end_floor(x, PROTO_END_MODERATOR)))
        return e;
    return emit(x, PROTO_EV_STATUS_CHANGED, json_pack("{s:s}", "status", proto_status_name(s)));
}

static enum proto_err cmd_update_settings(struct decide_ctx *x)
{
    struct room_settings s = x->r->settings;
    char why[160] = "";
    if (!x->c->settings)
        return refuse(x, PROTO_ERR_BAD_REQUEST,
                      "field 'settings' is required: {\"settings\":{...}}");
    if (!room_settings_patch(&s, (const json_t *)x->c->settings, why, sizeof why))
        return refuse(x, PROTO_ERR_BAD_REQUEST, "%s", why);
    /* A form saved without changes is done; it commits nothing. */
    if (settings_equal(&s, &x->r->settings))
        return PROTO_OK;
    return emit(x, PROTO_EV_SETTINGS_CHANGED, json_pack("{s:o}", "settings", room_settings_json(&s)));
}

static enum proto_err cmd_set_schedule(struct decide_ctx *x)
{
    struct room_schedule s;
    char why[160] = "";
    if (!room_schedule_parse((const json_t *)x->c->schedule, &s, why, sizeof why))
        return refuse(x, PROTO_ERR_BAD_REQUEST, "%s", why);
    if (room_schedule_equal(&s, &x->r->schedule))
        return PROTO_OK;
    return emit(x, PROTO_EV_SCHEDULE_CHANGED, json_pack("{s:o}", "schedule",
                                                        room_schedule_json(&s)));
}

/* set_agenda replaces the whole list. The current item must stay on it
 * (conflict otherwise): its clock and its rights of reply belong to it. */
static enum proto_err cmd_set_agenda(struct decide_ctx *x)
{
    struct room_agenda_item *items = NULL;
    size_t n = 0;
    char why[200] = "";
    bool found = false;
    json_t *data = NULL, *now_json = NULL;
    enum proto_err e = PROTO_OK;

    if (!agenda_parse((const json_t *)x->c->agenda, &items, &n, why, sizeof why))
        return refuse(x, PROTO_ERR_BAD_REQUEST, "%s", why);
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].id, x->r->agenda_item) == 0)
            found = true;
    if (x->r->agenda_item[0] && !found) {
        e = refuse(x, PROTO_ERR_CONFLICT,
                   "the current agenda item %s must stay on the agenda; set another item "
                   "first", x->r->agenda_item);
        goto done;
    }
    data = room_agenda_items_json(items, n);
    now_json = room_agenda_json(x->r);
    if (!data || !now_json) {
        e = refuse(x, PROTO_ERR_INTERNAL, "out of memory");
        goto done;
    }
    /* The same agenda again commits nothing, like update_settings. */
    if (!json_equal(data, now_json))
        e = emit(x, PROTO_EV_AGENDA_CHANGED, json_pack("{s:O}", "agenda", data));
done:
    json_decref(data);
    json_decref(now_json);
    room_agenda_free(items, n);
    return e;
}

/* deposit_statement: the requester (or a moderator) attaches a written
 * statement to a waiting request, or replaces it. The event carries its
 * size and language only; the text goes to the store beside the events. */
static enum proto_err cmd_deposit_statement(struct decide_ctx *x)
{
    const struct room *r = x->r;
    const struct proto_cmd *c = x->c;
    long i = c->has_request_id ? room_queue_index(r, c->request_id) : -1;
    if (i < 0) {
        if (r->floor.active && c->has_request_id && strcmp(r->floor.request_id, c->request_id) == 0)
            return refuse(x, PROTO_ERR_CONFLICT,
                          "request %s has the floor: its statement can no longer change",
                          c->request_id);
        return refuse(x, PROTO_ERR_NOT_FOUND, "no waiting request %s", c->request_id);
    }
    const struct room_request *q = &r->queue[i];
    if (x->role != PROTO_ROLE_MODERATOR && strcmp(q->sub, x->a->sub) != 0)
        return refuse(x, PROTO_ERR_FORBIDDEN, "only the requester or a moderator may attach a statement");
    if (!c->text)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "field 'text' is required");
    long chars = proto_utf8_chars(c->text, strlen(c->text));
    if (chars < 1 || chars > PROTO_MAX_STATEMENT_CHARS)
        return refuse(x, PROTO_ERR_TOO_LARGE, "a statement is 1 to %d characters",
                      PROTO_MAX_STATEMENT_CHARS);
    /* Without a lang of its own, the statement is in the language the
     * delegate said they would speak. */
    const char *lang = c->lang[0] ? c->lang : q->lang;
    enum proto_err e = emit(x, PROTO_EV_STATEMENT_DEPOSITED,
                            json_pack("{s:s, s:s, s:i, s:s?}", "request_id", q->id, "sub", q->sub,
                                      "chars", (int)chars, "lang", room_nz(lang)));
    if (e)
        return e;
    x->out->stmt_text = c->text;
    room_copy_str(x->out->stmt_request, sizeof x->out->stmt_request, q->id);
    room_copy_str(x->out->stmt_sub, sizeof x->out->stmt_sub, q->sub);
    room_copy_str(x->out->stmt_lang, sizeof x->out->stmt_lang, lang);
    return PROTO_OK;
}

/* accept_written: a waiting request with a statement leaves the list and
 * its statement is published as circulated in writing. */
static enum proto_err cmd_accept_written(struct decide_ctx *x)
{
    const struct room *r = x->r;
    long i = x->c->has_request_id ? room_queue_index(r, x->c->request_id) : -1;
    const struct room_statement *st = i >= 0 ? room_statement_find(r, r->queue[i].id) : NULL;
    if (!st || r->queue[i].statement_chars <= 0)
        return refuse(x, PROTO_ERR_NOT_FOUND, "no waiting request %s with a written statement",
                      x->c->request_id);
    const struct room_request *q = &r->queue[i];
    enum proto_err e = emit(x, PROTO_EV_STATEMENT_PUBLISHED,
                            published_data(st, q->sub, q->name, q->delegation, q->region, false));
    if (!e)
        drop_push(x->out, q->id);
    return e;
}

/* get_statement is answered by the hub with room_statement_read() (its
 * reply is the statement, not an ack); here only for completeness of the
 * table: it decides nothing. */
static enum proto_err cmd_get_statement(struct decide_ctx *x)
{
    const struct room_statement *st;
    return room_statement_read(x->r, x->a, x->c, &st, x->errbuf, x->errsz);
}

/* publish_conclusions: the chair's conclusions, with the fingerprint of
 * the record they close (the chain hash of the event before them). */
static enum proto_err cmd_publish_conclusions(struct decide_ctx *x)
{
    if (!x->c->text)
        return refuse(x, PROTO_ERR_BAD_REQUEST, "field 'text' is required");
    if (!chain_is_hex(x->r->chain_head))
        return refuse(x, PROTO_ERR_UNAVAILABLE, "the record's fingerprint is not known yet; retry");
    return emit(x, PROTO_EV_CONCLUSIONS_PUBLISHED,
                json_pack("{s:{s:s, s:s, s:s?, s:s}, s:s, s:s}", "from", "sub", x->a->sub, "name",
                          x->a->name, "delegation", room_nz(x->a->delegation), "role",
                          proto_role_name(x->role), "text", x->c->text, "record_hash",
                          x->r->chain_head));
}

/* The command table: who may send each command (the lowest effective role)
 * and its handler. join is the session's business and has no row. */
static const struct cmd_rule {
    enum proto_role min_role;
    enum proto_err (*fn)(struct decide_ctx *x);
} cmd_rules[PROTO_CMD__COUNT] = {
    [PROTO_CMD_PING] = {PROTO_ROLE_OBSERVER, cmd_ping},
    [PROTO_CMD_REQUEST_FLOOR] = {PROTO_ROLE_DELEGATE, cmd_request_floor},
    [PROTO_CMD_WITHDRAW] = {PROTO_ROLE_DELEGATE, cmd_withdraw},
    [PROTO_CMD_YIELD] = {PROTO_ROLE_DELEGATE, cmd_yield},
    [PROTO_CMD_SAY] = {PROTO_ROLE_DELEGATE, cmd_say},
    [PROTO_CMD_GRANT] = {PROTO_ROLE_MODERATOR, cmd_grant},
    [PROTO_CMD_END_FLOOR] = {PROTO_ROLE_MODERATOR, cmd_end_floor},
    [PROTO_CMD_PAUSE] = {PROTO_ROLE_MODERATOR, cmd_pause},
    [PROTO_CMD_RESUME] = {PROTO_ROLE_MODERATOR, cmd_resume},
    [PROTO_CMD_EXTEND] = {PROTO_ROLE_MODERATOR, cmd_extend},
    [PROTO_CMD_MOVE] = {PROTO_ROLE_MODERATOR, cmd_move},
    [PROTO_CMD_REMOVE_REQUEST] = {PROTO_ROLE_MODERATOR, cmd_remove_request},
    [PROTO_CMD_OPEN_LIST] = {PROTO_ROLE_MODERATOR, cmd_open_list},
    [PROTO_CMD_CLOSE_LIST] = {PROTO_ROLE_MODERATOR, cmd_close_list},
    [PROTO_CMD_MUTE] = {PROTO_ROLE_MODERATOR, cmd_mute},
    [PROTO_CMD_UNMUTE] = {PROTO_ROLE_MODERATOR, cmd_unmute},
    [PROTO_CMD_REMOVE] = {PROTO_ROLE_MODERATOR, cmd_remove},
    [PROTO_CMD_SET_ROLE] = {PROTO_ROLE_MODERATOR, cmd_set_role},
    [PROTO_CMD_ANNOUNCE] = {PROTO_ROLE_MODERATOR, cmd_announce},
    [PROTO_CMD_SET_AGENDA_ITEM] = {PROTO_ROLE_MODERATOR, cmd_set_agenda_item},
    [PROTO_CMD_SET_STATUS] = {PROTO_ROLE_MODERATOR, cmd_set_status},
    [PROTO_CMD_UPDATE_SETTINGS] = {PROTO_ROLE_MODERATOR, cmd_update_settings},
    [PROTO_CMD_SET_SCHEDULE] = {PROTO_ROLE_MODERATOR, cmd_set_schedule},
    [PROTO_CMD_SET_AGENDA] = {PROTO_ROLE_MODERATOR, cmd_set_agenda},
    [PROTO_CMD_DEPOSIT_STATEMENT] = {PROTO_ROLE_DELEGATE, cmd_deposit_statement},
    [PROTO_CMD_GET_STATEMENT] = {PROTO_ROLE_OBSERVER, cmd_get_statement},
    [PROTO_CMD_ACCEPT_WRITTEN] = {PROTO_ROLE_MODERATOR, cmd_accept_written},
    [PROTO_CMD_PUBLISH_CONCLUSIONS] = {PROTO_ROLE_MODERATOR, cmd_publish_conclusions},
};

enum proto_err room_may_send(const struct room *r, const struct room_actor *a,
                             enum proto_cmd_type type, char *errbuf, size_t errsz)
{
    struct decide_ctx x = {.errbuf = errbuf, .errsz = errsz};
    enum proto_role role = room_effective_role(r, a);
    if ((unsigned)type >= PROTO_CMD__COUNT || !cmd_rules[type].fn)
        return PROTO_OK; /* not a room command: the caller says what it is */
    if (type == PROTO_CMD_PING)
        return PROTO_OK;
    if (room_is_removed(r, a->sub))
        return refuse(&x, PROTO_ERR_FORBIDDEN, "you were removed from this room");
    /* get_statement's readers depend on the request (its author may read
     * it), but an observer is never one of them */
    if (role < cmd_rules[type].min_role ||
        (type == PROTO_CMD_GET_STATEMENT && role == PROTO_ROLE_OBSERVER))
        return role == PROTO_ROLE_OBSERVER
                   ? refuse(&x, PROTO_ERR_FORBIDDEN, "observers can only follow the meeting")
               : role == PROTO_ROLE_INTERPRETER
                   ? refuse(&x, PROTO_ERR_FORBIDDEN,
                            "interpreters follow the meeting and read statements (get_statement)")
                   : refuse(&x, PROTO_ERR_FORBIDDEN, "%s is for moderators", proto_cmd_name(type));
    return PROTO_OK;
}

enum proto_err room_decide(const struct room *r, const struct room_actor *a,
                           const struct proto_cmd *c, int64_t now_ms, struct room_events *out,
                           char *errbuf, size_t errsz)
{
    struct decide_ctx x = {r, a, c, now_ms, PROTO_ROLE_OBSERVER, out, errbuf, errsz};
    const struct cmd_rule *rule;
    enum proto_err err;

    memset(out, 0, sizeof *out);
    if (errbuf && errsz)
        errbuf[0] = '\0';
    if ((unsigned)c->type >= PROTO_CMD__COUNT || !cmd_rules[c->type].fn) {
        err = refuse(&x, PROTO_ERR_BAD_REQUEST, "%s is not a room command",
                     proto_cmd_name(c->type));
        goto fail;
    }
    rule = &cmd_rules[c->type];
    /* ping is answered whatever the room's state: it only measures. */
    if (c->type == PROTO_CMD_PING)
        return PROTO_OK;
    /* Reading a statement changes nothing: allowed in a suspended or
     * closed room, by its own permission rule. */
    if (c->type == PROTO_CMD_GET_STATEMENT) {
        err = cmd_get_statement(&x);
        if (err)
            goto fail;
        return PROTO_OK;
    }
    if (r->status == PROTO_STATUS_CLOSED) {
        err = refuse(&x, PROTO_ERR_ROOM_CLOSED, "the meeting is closed");
        goto fail;
    }
    if (c->has_if_seq && c->if_seq != r->seq) {
        err = refuse(&x, PROTO_ERR_STALE, "the room is at seq %" PRIu64 ", not %" PRIu64,
                     r->seq, c->if_seq);
        goto fail;
    }
    x.role = room_effective_role(r, a);
    if ((err = room_may_send(r, a, c->type, errbuf, errsz)))
        goto fail;
    if (r->status == PROTO_STATUS_SUSPENDED && x.role != PROTO_ROLE_MODERATOR) {
        err = refuse(&x, PROTO_ERR_ROOM_NOT_OPEN, "the meeting is suspended");
        goto fail;
    }
    /* Before the meeting (contract 9.1) people join, chat and put their
     * names down, but nobody has the floor until the chair opens it. */
    if (r->status == PROTO_STATUS_SCHEDULED && c->type == PROTO_CMD_GRANT) {
        err = refuse(&x, PROTO_ERR_ROOM_NOT_OPEN,
                     "the meeting has not opened yet; open it (set_status open) first");
        goto fail;
    }
    err = rule->fn(&x);
    if (err)
        goto fail;
    return PROTO_OK;
fail:
    room_events_clear(out);
    return err;
}

unsigned room_event_chat_changes(enum proto_event name)
{
    switch (name) {
    case PROTO_EV_STATUS_CHANGED:
    case PROTO_EV_SETTINGS_CHANGED:
    case PROTO_EV_PARTICIPANT_MUTED:
    case PROTO_EV_PARTICIPANT_UNMUTED:
    case PROTO_EV_PARTICIPANT_REMOVED:
    case PROTO_EV_ROLE_CHANGED:
    case PROTO_EV_TOKEN_REVOKED:
        return ROOM_CHAT_RULES;
    case PROTO_EV_FLOOR_GRANTED:
    case PROTO_EV_FLOOR_ENDED:
        return ROOM_CHAT_FLOOR;
    /* Named one by one (no default) so that a new event must be placed:
     * the compiler warns about an event left out. */
    case PROTO_EV_FLOOR_REQUESTED:
    case PROTO_EV_REQUEST_WITHDRAWN:
    case PROTO_EV_REQUEST_REMOVED:
    case PROTO_EV_REQUEST_MOVED:
    case PROTO_EV_TIMER_PAUSED:
    case PROTO_EV_TIMER_RESUMED:
    case PROTO_EV_TIME_EXTENDED:
    case PROTO_EV_TIME_UP:
    case PROTO_EV_LIST_OPENED:
    case PROTO_EV_LIST_CLOSED:
    case PROTO_EV_MESSAGE:
    case PROTO_EV_AGENDA_ITEM_SET:
    case PROTO_EV_SCHEDULE_CHANGED:
    case PROTO_EV_AGENDA_CHANGED:
    case PROTO_EV_STATEMENT_DEPOSITED:
    case PROTO_EV_STATEMENT_PUBLISHED:
    case PROTO_EV_CONCLUSIONS_PUBLISHED:
    case PROTO_EV__COUNT:
        return 0;
    }
    return ROOM_CHAT_RULES;
}

unsigned room_chat_reads(const struct room *r, const struct room_actor *a)
{
    if (r->settings.chat == PROTO_CHAT_FLOOR && room_effective_role(r, a) != PROTO_ROLE_MODERATOR)
        return ROOM_CHAT_RULES | ROOM_CHAT_FLOOR;
    return ROOM_CHAT_RULES;
}

int64_t room_deadline(const struct room *r)
{
    const struct room_floor *f = &r->floor;
    if (r->status == PROTO_STATUS_CLOSED || !f->active || f->paused)
        return -1;
    /* Once time_up was sent, notify has nothing more to say; with "end"
     * (say, the setting changed after time_up) the floor ends at once. */
    if (f->time_up && r->settings.on_time_up == PROTO_TIMEUP_NOTIFY)
        return -1;
    return f->started_at + ((int64_t)f->limit_s * 1000 - f->elapsed_ms);
}

void room_decide_clock(const struct room *r, int64_t now_ms, struct room_events *out)
{
    int64_t d = room_deadline(r);
    memset(out, 0, sizeof *out);
    if (d < 0 || now_ms < d)
        return;
    if (r->settings.on_time_up == PROTO_TIMEUP_END)
        push_floor_end(out, r, PROTO_END_TIME, now_ms, "");
    else
        push_event(out, now_ms, PROTO_EV_TIME_UP, "", json_pack("{s:s}", "sub", r->floor.sub));
}

int room_decide_revoke(const struct room *r, const char *jti, int64_t until_s, int64_t now_ms,
                       struct room_events *out)
{
    memset(out, 0, sizeof *out);
    /* Decided here, not found out when the event fails to apply: a
     * committed event that no replica (and no journal replay) can apply
     * would stop the room and cut its journal. */
    if (revoke_full(&r->revoked, jti, now_ms))
        return -1;
    push_event(out, now_ms, PROTO_EV_TOKEN_REVOKED, "admin",
               json_pack("{s:s, s:I}", "jti", jti, "until", (json_int_t)until_s));
    return 0;
}

bool room_is_revoked(const struct room *r, const char *jti, int64_t now_ms)
{
    return revoke_has(&r->revoked, jti, now_ms);
}

void room_decide_disconnect(const struct room *r, const char *sub, int64_t now_ms,
                            struct room_events *out)
{
    const struct room_floor *f = &r->floor;
    memset(out, 0, sizeof *out);
    if (!sub || r->status == PROTO_STATUS_CLOSED || !r->settings.pause_on_disconnect ||
        !f->active || f->paused || strcmp(f->sub, sub) != 0)
        return;
    push_event(out, now_ms, PROTO_EV_TIMER_PAUSED, "", json_object());
}

void room_events_clear(struct room_events *out)
{
    for (size_t i = 0; i < out->n && i < ROOM_MAX_EVENTS; i++)
        room_event_clear(&out->ev[i]);
    out->n = 0;
}

void room_event_clear(struct room_event *ev)
{
    json_decref(ev->data);
    ev->data = NULL;
}

/* ------------------------------------------------------------------ */
/* apply                                                              */
/* ------------------------------------------------------------------ */
/* Each handler checks that the event fits the state before it changes
 * anything, and allocates before it mutates, so that -1 leaves the room
 * as it was. */

static bool has_floor_of(const struct room *r, const json_t *d)
{
    const char *sub = json_string_value(json_object_get(d, "sub"));
    return r->floor.active && sub && strcmp(sub, r->floor.sub) == 0;
}

static int ap_floor_requested(struct room *r, const struct room_event *ev)
{
    struct room_request q;
    struct room_member *m;
    uint64_t n;
    char *end;

    if (room_request_from_json(json_object_get(ev->data, "request"), &q) ||
        room_queue_index(r, q.id) >= 0 || room_queue_reserve(r, r->queue_len + 1))
        return -1;
    m = member_ensure(r, q.sub, q.name, q.delegation, q.category);
    if (!m)
        return -1;
    /* Ids are never reused: remember the highest number seen (a stored id
     * beyond the bound is refused rather than wrapped). */
    n = 0;
    if (q.id[0] == 'r') {
        n = strtoull(q.id + 1, &end, 10);
        if (*end != '\0')
            n = 0;
        else if (n >= (uint64_t)ROOM_MAX_MS)
            return -1;
    }
    room_queue_insert(r, insert_pos(r, &q), &q);
    if (n >= r->next_request)
        r->next_request = n + 1;
    return 0;
}

static int ap_request_gone(struct room *r, const struct room_event *ev)
{
    const char *id = json_string_value(json_object_get(ev->data, "request_id"));
    long i = id ? room_queue_index(r, id) : -1;
    if (i < 0)
        return -1;
    queue_erase(r, (size_t)i);
    /* A statement of a request never heard is discarded, never published. */
    statement_drop(r, id);
    return 0;
}

static int ap_statement_deposited(struct room *r, const struct room_event *ev)
{
    const char *id = json_string_value(json_object_get(ev->data, "request_id"));
    const char *sub = json_string_value(json_object_get(ev->data, "sub"));
    char lang[PROTO_MAX_LANG + 1];
    int64_t chars;
    long i = id ? room_queue_index(r, id) : -1;
    if (i < 0 || !sub || strcmp(r->queue[i].sub, sub) != 0 ||
        !room_get_int(ev->data, "chars", 1, PROTO_MAX_STATEMENT_CHARS, &chars) ||
        !room_get_str(ev->data, "lang", lang, sizeof lang, true))
        return -1;
    r->queue[i].statement_chars = (int)chars;
    room_copy_str(r->queue[i].statement_lang, sizeof r->queue[i].statement_lang, lang);
    return 0;
}

static int ap_statement_published(struct room *r, const struct room_event *ev)
{
    const char *id = json_string_value(json_object_get(ev->data, "request_id"));
    const char *sub = json_string_value(json_object_get(ev->data, "sub"));
    const char *text = json_string_value(json_object_get(ev->data, "text"));
    char lang[PROTO_MAX_LANG + 1];
    bool delivered;
    long i = id ? room_queue_index(r, id) : -1;
    if (!id || !sub || !text || !json_is_string(json_object_get(ev->data, "name")) ||
        !room_get_str(ev->data, "lang", lang, sizeof lang, true) ||
        !room_get_bool(ev->data, "delivered", &delivered))
        return -1;
    /* Delivered: its floor has just ended. In writing: it leaves the
     * waiting list now. */
    if (delivered ? i >= 0 : (i < 0 || strcmp(r->queue[i].sub, sub) != 0))
        return -1;
    if (statement_set(r, id, sub, lang, text, true) != 0)
        return -1;
    if (i >= 0)
        queue_erase(r, (size_t)i);
    return 0;
}

static int ap_conclusions_published(struct room *r, const struct room_event *ev)
{
    const char *text = json_string_value(json_object_get(ev->data, "text"));
    (void)r;
    return text && json_is_object(json_object_get(ev->data, "from")) &&
                   chain_is_hex(json_string_value(json_object_get(ev->data, "record_hash")))
               ? 0
               : -1;
}

static int ap_request_moved(struct room *r, const struct room_event *ev)
{
    const char *id = json_string_value(json_object_get(ev->data, "request_id"));
    long i = id ? room_queue_index(r, id) : -1;
    int64_t to;
    struct room_request q;
    if (i < 0 || !room_get_int(ev->data, "to", 0, INT64_MAX, &to))
        return -1;
    q = r->queue[i];
    queue_erase(r, (size_t)i);
    room_queue_insert(r, to > (int64_t)r->queue_len ? r->queue_len : (size_t)to, &q);
    return 0;
}

static int ap_floor_granted(struct room *r, const struct room_event *ev)
{
    struct room_floor f;
    const struct room_member *known;
    long i = -1;

    if (r->floor.active || room_floor_from_json(json_object_get(ev->data, "floor"), &f) || !f.active)
        return -1;
    if (f.request_id[0]) {
        i = room_queue_index(r, f.request_id);
        if (i < 0)
            return -1;
        f.category = r->queue[i].category;
    } else {
        known = room_member_find(r, f.sub);
        f.category = known ? known->category : PROTO_CAT_NONE;
    }
    /* The member must exist when the floor ends (stats); create it now so
     * that floor_ended cannot fail for lack of memory. */
    struct room_member *m = member_ensure(r, f.sub, f.name, f.delegation, f.category);
    if (!m || (f.kind == PROTO_KIND_REPLY && m->replies_used >= ROOM_MAX_COUNT))
        return -1;
    if (i >= 0)
        queue_erase(r, (size_t)i);
    /* A right of reply is used when it is granted (the quota adds the
     * pending ones). */
    if (f.kind == PROTO_KIND_REPLY)
        m->replies_used++;
    r->floor = f;
    return 0;
}

static int ap_floor_ended(struct room *r, const struct room_event *ev)
{
    struct room_member *m;
    int64_t spoken;
    int why;
    if (!has_floor_of(r, ev->data) || !room_get_int(ev->data, "spoken_ms", 0, ROOM_MAX_MS, &spoken) ||
        !room_get_enum(ev->data, "reason", proto_end_reason_parse, &why))
        return -1;
    m = member_ensure(r, r->floor.sub, r->floor.name, r->floor.delegation, r->floor.category);
    if (!m || m->turns >= ROOM_MAX_COUNT || m->spoken_ms > ROOM_MAX_MS - spoken)
        return -1;
    m->turns++;
    m->spoken_ms += spoken;
    memset(&r->floor, 0, sizeof r->floor);
    return 0;
}

static int ap_timer_paused(struct room *r, const struct room_event *ev)
{
    if (!r->floor.active || r->floor.paused)
        return -1;
    r->floor.elapsed_ms = floor_elapsed(&r->floor, ev->ts);
    r->floor.paused = true;
    return 0;
}

static int ap_timer_resumed(struct room *r, const struct room_event *ev)
{
    if (!r->floor.active || !r->floor.paused)
        return -1;
    r->floor.started_at = ev->ts;
    r->floor.paused = false;
    return 0;
}

static int ap_time_extended(struct room *r, const struct room_event *ev)
{
    int64_t s;
    if (!r->floor.active || !room_get_int(ev->data, "seconds", 1, ROOM_MAX_LIMIT_S, &s) ||
        r->floor.limit_s > INT_MAX - (int)s)
        return -1;
    r->floor.limit_s += (int)s;
    /* The clock may fire again once the new limit is reached. */
    if (r->floor.time_up && floor_elapsed(&r->floor, ev->ts) < (int64_t)r->floor.limit_s * 1000)
        r->floor.time_up = false;
    return 0;
}

static int ap_time_up(struct room *r, const struct room_event *ev)
{
    if (!has_floor_of(r, ev->data))
        return -1;
    r->floor.time_up = true;
    return 0;
}

static int ap_list_opened(struct room *r, const struct room_event *ev)
{
    r->settings.list_open = true;
    return 0;
}

static int ap_list_closed(struct room *r, const struct room_event *ev)
{
    r->settings.list_open = false;
    return 0;
}

/* The member named by data.sub, created if the directory lacks it. */
static struct room_member *data_member(struct room *r, const struct room_event *ev)
{
    const char *sub = json_string_value(json_object_get(ev->data, "sub"));
    if (!proto_valid_sub(sub))
        return NULL;
    return member_ensure(r, sub, NULL, NULL, PROTO_CAT_NONE);
}

static int ap_muted(struct room *r, const struct room_event *ev)
{
    struct room_member *m = data_member(r, ev);
    if (!m)
        return -1;
    m->muted = true;
    return 0;
}

static int ap_unmuted(struct room *r, const struct room_event *ev)
{
    struct room_member *m = data_member(r, ev);
    if (!m)
        return -1;
    m->muted = false;
    return 0;
}

static int ap_removed(struct room *r, const struct room_event *ev)
{
    struct room_member *m;
    /* decide ends their floor first; a log that does not is not ours. */
    if (has_floor_of(r, ev->data) || !(m = data_member(r, ev)))
        return -1;
    for (size_t i = r->queue_len; i-- > 0;) {
        if (strcmp(r->queue[i].sub, m->sub) == 0) {
            statement_drop(r, r->queue[i].id);
            queue_erase(r, i);
        }
    }
    m->muted = false;
    m->removed = true;
    return 0;
}

static int ap_role_changed(struct room *r, const struct room_event *ev)
{
    struct room_member *m;
    int role;
    if (!room_get_enum(ev->data, "role", proto_role_parse, &role) || !(m = data_member(r, ev)))
        return -1;
    m->has_role_override = true;
    m->role_override = (enum proto_role)role;
    return 0;
}

static int ap_message(struct room *r, const struct room_event *ev)
{
    return json_is_string(json_object_get(ev->data, "text")) ? 0 : -1;
}

static int ap_agenda_item_set(struct room *r, const struct room_event *ev)
{
    const char *item = json_string_value(json_object_get(ev->data, "item"));
    if (!room_agenda_has(r, item))
        return -1;
    room_copy_str(r->agenda_item, sizeof r->agenda_item, item);
    /* The item's clock starts now, unless the meeting has not opened yet:
     * then the opening starts it (ap_status_changed). */
    r->has_item_started = r->status != PROTO_STATUS_SCHEDULED;
    r->item_started_at = r->has_item_started ? ev->ts : 0;
    /* Rights of reply are counted per agenda item. */
    for (size_t k = 0; k < r->members_len; k++)
        r->members[k].replies_used = 0;
    return 0;
}

static int ap_status_changed(struct room *r, const struct room_event *ev)
{
    int s;
    if (!room_get_enum(ev->data, "status", proto_status_parse, &s))
        return -1;
    r->status = (enum proto_status)s;
    /* The first opening starts the current item's clock (contract 9.1). */
    if (r->status == PROTO_STATUS_OPEN && !r->has_item_started && r->agenda_item[0]) {
        r->has_item_started = true;
        r->item_started_at = ev->ts;
    }
    return 0;
}

static int ap_schedule_changed(struct room *r, const struct room_event *ev)
{
    json_t *j = json_object_get(ev->data, "schedule");
    struct room_schedule s;
    if (!j || !room_schedule_parse(j, &s, NULL, 0))
        return -1;
    r->schedule = s;
    return 0;
}

static int ap_agenda_changed(struct room *r, const struct room_event *ev)
{
    struct room_agenda_item *items;
    size_t n;
    bool found = false;
    if (!agenda_parse(json_object_get(ev->data, "agenda"), &items, &n, NULL, 0))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].id, r->agenda_item) == 0)
            found = true;
    if (r->agenda_item[0] && !found) {
        room_agenda_free(items, n);
        return -1;
    }
    room_agenda_free(r->agenda, r->agenda_len);
    r->agenda = items;
    r->agenda_len = n;
    return 0;
}

static int ap_settings_changed(struct room *r, const struct room_event *ev)
{
    return room_settings_patch(&r->settings, json_object_get(ev->data, "settings"), NULL, 0)
               ? 0
               : -1;
}

static int ap_token_revoked(struct room *r, const struct room_event *ev)
{
    return revoke_apply(&r->revoked, ev->data, ev->ts);
}

static int (*const apply_fns[PROTO_EV__COUNT])(struct room *r, const struct room_event *ev) = {
    [PROTO_EV_TOKEN_REVOKED] = ap_token_revoked,
    [PROTO_EV_FLOOR_REQUESTED] = ap_floor_requested,
    [PROTO_EV_REQUEST_WITHDRAWN] = ap_request_gone,
    [PROTO_EV_REQUEST_REMOVED] = ap_request_gone,
    [PROTO_EV_REQUEST_MOVED] = ap_request_moved,
    [PROTO_EV_FLOOR_GRANTED] = ap_floor_granted,
    [PROTO_EV_FLOOR_ENDED] = ap_floor_ended,
    [PROTO_EV_STATEMENT_DEPOSITED] = ap_statement_deposited,
    [PROTO_EV_STATEMENT_PUBLISHED] = ap_statement_published,
    [PROTO_EV_CONCLUSIONS_PUBLISHED] = ap_conclusions_published,
    [PROTO_EV_TIMER_PAUSED] = ap_timer_paused,
    [PROTO_EV_TIMER_RESUMED] = ap_timer_resumed,
    [PROTO_EV_TIME_EXTENDED] = ap_time_extended,
    [PROTO_EV_TIME_UP] = ap_time_up,
    [PROTO_EV_LIST_OPENED] = ap_list_opened,
    [PROTO_EV_LIST_CLOSED] = ap_list_closed,
    [PROTO_EV_PARTICIPANT_MUTED] = ap_muted,
    [PROTO_EV_PARTICIPANT_UNMUTED] = ap_unmuted,
    [PROTO_EV_PARTICIPANT_REMOVED] = ap_removed,
    [PROTO_EV_ROLE_CHANGED] = ap_role_changed,
    [PROTO_EV_MESSAGE] = ap_message,
    [PROTO_EV_AGENDA_ITEM_SET] = ap_agenda_item_set,
    [PROTO_EV_STATUS_CHANGED] = ap_status_changed,
    [PROTO_EV_SETTINGS_CHANGED] = ap_settings_changed,
    [PROTO_EV_SCHEDULE_CHANGED] = ap_schedule_changed,
    [PROTO_EV_AGENDA_CHANGED] = ap_agenda_changed,
};

int room_apply(struct room *r, const struct room_event *ev)
{
    if (ev->seq != r->seq + 1 || (unsigned)ev->name >= PROTO_EV__COUNT ||
        !json_is_object(ev->data) || apply_fns[ev->name](r, ev))
        return -1;
    r->seq = ev->seq;
    /* Expired revocations go at the event's time: the same on every node. */
    if (r->revoked.n)
        revoke_prune(&r->revoked, ev->ts);
    return 0;
}
