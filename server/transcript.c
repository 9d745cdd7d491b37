/*
 * transcript.c: the meeting record, rendered from the room's committed
 * events.
 *
 * Owns nothing but the rendering: it replays the events onto a clone of
 * the initial room with room_apply() (so the record says exactly what the
 * room did, and an event that does not apply is reported instead of being
 * papered over), and on the way collects the floors (who spoke, from when
 * to when, for how long, how it ended). From that it writes JSON (every
 * event, the floors, speaking time per speaker and per delegation), the
 * Markdown minutes a secretariat could circulate, or CSV with one row per
 * event.
 *
 * PURE: no I/O, no clock (times come from the events), no globals.
 */
#include "transcript.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
#define TX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TX_PRINTF(f, a)
#endif

int transcript_format_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "json") == 0)
        return TRANSCRIPT_JSON;
    if (strcmp(s, "md") == 0)
        return TRANSCRIPT_MD;
    if (strcmp(s, "csv") == 0)
        return TRANSCRIPT_CSV;
    return -1;
}

const char *transcript_content_type(enum transcript_format f)
{
    switch (f) {
    case TRANSCRIPT_MD:
        return "text/markdown; charset=utf-8";
    case TRANSCRIPT_CSV:
        return "text/csv; charset=utf-8";
    default:
        return "application/json";
    }
}

/* ---- a growing string; after an allocation failure it stays failed ---- */

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) TX_PRINTF(2, 3);

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_put(b, big, (size_t)n);
    free(big);
}

/* ---- times ---- */

/* Broken-down UTC time of ms since the epoch (floor division, so times
 * before 1970 still come out right). gmtime_r reads no clock. */
static bool utc(int64_t ms, struct tm *tm, int *msec)
{
    int64_t s = ms / 1000, r = ms % 1000;
    if (r < 0) {
        r += 1000;
        s--;
    }
    time_t t = (time_t)s;
    *msec = (int)r;
    return gmtime_r(&t, tm) != NULL;
}

static void put_hms(struct buf *b, int64_t ms)
{
    struct tm tm;
    int msec;
    if (utc(ms, &tm, &msec))
        buf_printf(b, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_iso(struct buf *b, int64_t ms)
{
    struct tm tm;
    int msec;
    if (utc(ms, &tm, &msec))
        buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, msec);
}

static void put_date(struct buf *b, int64_t ms)
{
    static const char *const months[] = {"January", "February", "March",     "April",
                                         "May",     "June",     "July",      "August",
                                         "September", "October", "November", "December"};
    struct tm tm;
    int msec;
    if (utc(ms, &tm, &msec))
        buf_printf(b, "%d %s %d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
}

/* A duration as M:SS (H:MM:SS from an hour), rounded to the second. */
static void put_duration(struct buf *b, int64_t ms)
{
    /* ms comes from the stored events: keep the rounding from overflowing
     * on a value no real meeting has (2^53 ms is beyond any). */
    if (ms < 0)
        ms = 0;
    if (ms > (INT64_C(1) << 53))
        ms = INT64_C(1) << 53;
    int64_t s = (ms + 500) / 1000;
    if (s >= 3600)
        buf_printf(b, "%" PRId64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
    else
        buf_printf(b, "%d:%02d", (int)(s / 60), (int)(s % 60));
}

/* ---- escaping ---- */

/* Markdown: participants' text is text. A backslash before the ASCII
 * punctuation that could start markup inside a line (CommonMark allows
 * escaping any of it), so names and announcements never become links,
 * emphasis, table cells or HTML; the rest stays readable as plain text.
 * Line breaks become spaces (callers that keep lines split first). */
static void put_md(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        /* '&' only where it could start an entity ("&amp;", "&#38;") */
        bool entity = *s == '&' && (s[1] == '#' || (s[1] >= 'a' && s[1] <= 'z') ||
                                    (s[1] >= 'A' && s[1] <= 'Z'));
        if (entity || strchr("\\`*_[]<>|~", *s)) {
            char e[2] = {'\\', *s};
            buf_put(b, e, 2);
        } else if (*s == '\n' || *s == '\r') {
            buf_put(b, " ", 1);
        } else {
            buf_put(b, s, 1);
        }
    }
}

/* CSV (RFC 4180): a field with a comma, quote or line break is quoted,
 * quotes doubled. */
static void put_csv(struct buf *b, const char *s)
{
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        buf_str(b, s);
        return;
    }
    buf_put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            buf_put(b, "\"\"", 2);
        else
            buf_put(b, s, 1);
    }
    buf_put(b, "\"", 1);
}

/* ---- the replay and what it collects ---- */

struct person {
    char sub[PROTO_SUB_BUF];
    char name[PROTO_NAME_BUF];
    char delegation[PROTO_NAME_BUF];
    char region[PROTO_REGION_BUF]; /* "" = none */
};

struct floor_rec {
    struct person who;
    /* contract 9.3: the speaker's region and category, and the agenda item
     * current when the floor was given (the record's per-item sections) */
    char region[PROTO_REGION_BUF];
    enum proto_category category;
    char item[PROTO_MAX_ITEM_ID + 1];
    enum proto_kind kind;
    int64_t started_at;
    bool ended;
    int64_t ended_at;
    int64_t spoken_ms;
    enum proto_end_reason reason;
};

/* One stretch of time during which an agenda item was current: from
 * agenda_item_started_at to the next item's start or the closing. */
struct period {
    char item[PROTO_MAX_ITEM_ID + 1];
    int64_t started_at;
    bool ended;
    int64_t ended_at;
};

struct tx {
    struct room *r;           /* the replayed room */
    const struct room *initial;
    const struct transcript_opts *opts;
    char (*hash)[CHAIN_HEX_BUF]; /* the chain hash of each event */
    size_t nhash;
    char h0[CHAIN_HEX_BUF];
    /* the last conclusions (section 9.5), for their own section */
    char *concl_text;
    char concl_hash[CHAIN_HEX_BUF];
    uint64_t concl_seq;
    struct person concl_by;
    int written;              /* statements circulated in writing */
    enum transcript_format f;
    struct buf out;
    struct floor_rec *floors;
    size_t nfloors, capfloors;
    struct period *periods;
    size_t nperiods, capperiods;
    int64_t last_ts;          /* ts of the last event (the end of an open period) */
};

static void person_set(struct person *p, const char *sub, const char *name, const char *deleg)
{
    snprintf(p->sub, sizeof p->sub, "%s", sub ? sub : "");
    snprintf(p->name, sizeof p->name, "%s", name ? name : "");
    snprintf(p->delegation, sizeof p->delegation, "%s", deleg ? deleg : "");
    p->region[0] = '\0';
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Someone named by sub, with the name and delegation the room knows. */
static void person_of(const struct room *r, const char *sub, struct person *p)
{
    const struct room_member *m = room_member_find(r, sub);
    person_set(p, sub, m ? m->name : "", m ? m->delegation : "");
}

/* The participant an event is about, from the room before it applies
 * (request owners and the floor holder are only known there). */
static void subject_of(const struct room *before, const struct room_event *ev, struct person *p)
{
    const json_t *d = ev->data, *o;
    const char *id;
    memset(p, 0, sizeof *p);
    switch (ev->name) {
    case PROTO_EV_FLOOR_REQUESTED:
    case PROTO_EV_FLOOR_GRANTED:
    case PROTO_EV_MESSAGE:
    case PROTO_EV_CONCLUSIONS_PUBLISHED:
        o = json_object_get(d, ev->name == PROTO_EV_FLOOR_REQUESTED ? "request"
                               : ev->name == PROTO_EV_FLOOR_GRANTED ? "floor"
                                                                    : "from");
        person_set(p, jstr(o, "sub"), jstr(o, "name"), jstr(o, "delegation"));
        snprintf(p->region, sizeof p->region, "%s", jstr(o, "region") ? jstr(o, "region") : "");
        break;
    case PROTO_EV_STATEMENT_PUBLISHED:
        person_set(p, jstr(d, "sub"), jstr(d, "name"), jstr(d, "delegation"));
        snprintf(p->region, sizeof p->region, "%s", jstr(d, "region") ? jstr(d, "region") : "");
        break;
    case PROTO_EV_REQUEST_WITHDRAWN:
    case PROTO_EV_REQUEST_REMOVED:
    case PROTO_EV_REQUEST_MOVED:
        id = jstr(d, "request_id");
        for (size_t i = 0; id && i < before->queue_len; i++)
            if (strcmp(before->queue[i].id, id) == 0)
                person_set(p, before->queue[i].sub, before->queue[i].name,
                           before->queue[i].delegation);
        break;
    case PROTO_EV_FLOOR_ENDED:
    case PROTO_EV_TIME_UP:
    case PROTO_EV_TIMER_PAUSED:
    case PROTO_EV_TIMER_RESUMED:
    case PROTO_EV_TIME_EXTENDED:
        if (before->floor.active)
            person_set(p, before->floor.sub, before->floor.name, before->floor.delegation);
        break;
    case PROTO_EV_PARTICIPANT_MUTED:
    case PROTO_EV_PARTICIPANT_UNMUTED:
    case PROTO_EV_PARTICIPANT_REMOVED:
    case PROTO_EV_ROLE_CHANGED:
        if (jstr(d, "sub"))
            person_of(before, jstr(d, "sub"), p);
        break;
    default:
        break;
    }
}

static int floors_push(struct tx *t, const struct floor_rec *f)
{
    if (t->nfloors == t->capfloors) {
        size_t cap = t->capfloors ? t->capfloors * 2 : 16;
        struct floor_rec *n = realloc(t->floors, cap * sizeof *n);
        if (!n)
            return -1;
        t->floors = n;
        t->capfloors = cap;
    }
    t->floors[t->nfloors++] = *f;
    return 0;
}

/* Keeps the floor record up to date with one (applied) event. */
static int track_floor(struct tx *t, const struct room_event *ev, const struct person *who)
{
    struct floor_rec f, *last;
    int r;
    switch (ev->name) {
    case PROTO_EV_FLOOR_GRANTED:
        memset(&f, 0, sizeof f);
        f.who = *who;
        snprintf(f.region, sizeof f.region, "%s", t->r->floor.region);
        f.category = t->r->floor.category;
        snprintf(f.item, sizeof f.item, "%s", t->r->agenda_item);
        f.kind = t->r->floor.kind;
        f.started_at = ev->ts;
        return floors_push(t, &f);
    case PROTO_EV_FLOOR_ENDED:
        if (!t->nfloors || t->floors[t->nfloors - 1].ended)
            return -1; /* room_apply would have refused it */
        last = &t->floors[t->nfloors - 1];
        last->ended = true;
        last->ended_at = ev->ts;
        last->spoken_ms = json_integer_value(json_object_get(ev->data, "spoken_ms"));
        r = proto_end_reason_parse(jstr(ev->data, "reason"));
        last->reason = r < 0 ? PROTO_END_MODERATOR : (enum proto_end_reason)r;
        return 0;
    default:
        return 0;
    }
}

enum group_by { BY_REGION, BY_CATEGORY, BY_SPEAKER, BY_DELEGATION };

struct group {
    const struct floor_rec *first; /* the key's floor (region, category, who) */
    int turns;
    int64_t spoken_ms;
};

static bool same_key(enum group_by by, const struct floor_rec *a, const struct floor_rec *b)
{
    switch (by) {
    case BY_REGION:
        return strcmp(a->region, b->region) == 0;
    case BY_CATEGORY:
        return a->category == b->category;
    case BY_DELEGATION:
        return strcmp(a->who.delegation, b->who.delegation) == 0;
    default:
        return strcmp(a->who.sub, b->who.sub) == 0;
    }
}

/* Turns and speaking time of the ended floors (on item, or on every item
 * when item is NULL), grouped by region, category, speaker or delegation
 * in the order of first appearance. Only floors that ended count, as in
 * the room's stats. Returns a new array (free()) and its length in *n;
 * NULL with *n == 0 when empty, *oom set when out of memory. */
static struct group *groups(const struct tx *t, const char *item, enum group_by by, size_t *n,
                            bool *oom)
{
    struct group *g = NULL;
    size_t len = 0;
    *oom = false;
    if (t->nfloors && !(g = calloc(t->nfloors, sizeof *g))) {
        *oom = true;
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < t->nfloors; i++) {
        const struct floor_rec *f = &t->floors[i];
        size_t k;
        if (!f->ended || (item && strcmp(f->item, item) != 0))
            continue;
        for (k = 0; k < len; k++)
            if (same_key(by, g[k].first, f))
                break;
        if (k == len)
            g[len++].first = f;
        g[k].turns++;
        g[k].spoken_ms += f->spoken_ms;
    }
    *n = len;
    return g;
}

/* ---- the chain (section 9.6) ---- */

static const char *chain_head(const struct tx *t)
{
    return t->nhash ? t->hash[t->nhash - 1] : t->h0;
}

/* The hash of event i (its stored "hash" when valid, else computed from
 * the previous one). Returns 0 or -1 for an event with no canonical form. */
static int chain_push(struct tx *t, const json_t *ev, const char *stored)
{
    if (!stored)
        stored = json_string_value(json_object_get(ev, "hash"));
    if (chain_is_hex(stored)) {
        memcpy(t->hash[t->nhash], stored, CHAIN_HEX_BUF);
    } else {
        if (chain_next(chain_head(t), ev, t->hash[t->nhash]) != 0)
            return -1;
    }
    t->nhash++;
    return 0;
}

/* "the first 16 hex digits at seq N": what screens show (section 9.5). */
static void md_chain(struct tx *t)
{
    struct buf *b = &t->out;
    const char *head = chain_head(t);
    buf_str(b, "\n## Record integrity\n\n");
    buf_printf(b, "Fingerprint of this record: **%.16s** at seq %zu (history `", head, t->nhash);
    buf_str(b, t->initial->epoch); /* [a-z0-9]: safe in a code span */
    buf_printf(b, "`). Full chain head: `%s`.\n\n", head);
    if (t->initial->previous_epoch[0]) {
        buf_str(b, "The chain restarted with this history: the events of the earlier history `");
        buf_str(b, t->initial->previous_epoch);
        buf_str(b, "` were lost by the store and are not part of this record.\n\n");
    }
    buf_str(b, "Each event's hash chains it to the one before it (SHA-256 over the previous hash "
               "and the event's canonical JSON), so a changed, missing or reordered event "
               "changes every hash after it. To check: download the record as JSON and run "
               "`rostrum record verify RECORD.json");
    if (t->opts && t->opts->sign)
        buf_str(b, " --public-key record-key.pem` with the server's public key from "
                   "`GET /api/record-key`; the record is signed with it.\n");
    else
        buf_str(b, "`. This server does not sign its records.\n");
}

/* ---- Markdown ---- */

static const char *kind_words(enum proto_kind k)
{
    switch (k) {
    case PROTO_KIND_REPLY:
        return "right of reply";
    case PROTO_KIND_POINT_OF_ORDER:
        return "point of order";
    default:
        return "speech";
    }
}

/* "the representative of France", or the person's name when they speak
 * for no delegation. */
static void md_who(struct buf *b, const struct person *p, bool capital)
{
    if (p->delegation[0]) {
        buf_str(b, capital ? "The representative of " : "the representative of ");
        put_md(b, p->delegation);
        /* the regional group, as a summary record names it */
        if (p->region[0]) {
            buf_str(b, " (");
            put_md(b, p->region);
            buf_str(b, ")");
        }
    } else if (p->name[0]) {
        put_md(b, p->name);
    } else {
        buf_str(b, capital ? "A participant (" : "a participant (");
        put_md(b, p->sub);
        buf_str(b, ")");
    }
}

static const struct room_agenda_item *agenda_find(const struct room *r, const char *id)
{
    for (size_t i = 0; id && i < r->agenda_len; i++)
        if (strcmp(r->agenda[i].id, id) == 0)
            return &r->agenda[i];
    return NULL;
}

static void md_head(struct tx *t, size_t n, int64_t first_ts)
{
    struct buf *b = &t->out;
    const struct room *r = t->r;
    int64_t day = n ? first_ts : r->created_at;

    buf_str(b, "# ");
    put_md(b, r->title);
    buf_str(b, "\n\nRecord of the meeting `");
    buf_str(b, r->id); /* [a-z0-9-]: safe in a code span */
    buf_str(b, "`, ");
    put_date(b, day);
    buf_str(b, ". All times are UTC.\n\n## Agenda\n\n");
    if (!r->agenda_len)
        buf_str(b, "No agenda was set.\n");
    for (size_t i = 0; i < r->agenda_len; i++) {
        buf_printf(b, "%zu. ", i + 1);
        put_md(b, r->agenda[i].title);
        buf_str(b, " (`");
        buf_str(b, r->agenda[i].id); /* [A-Za-z0-9._-] */
        buf_str(b, "`");
        if (r->agenda[i].planned_s) {
            buf_str(b, ", planned ");
            put_duration(b, (int64_t)r->agenda[i].planned_s * 1000);
        }
        if (r->agenda[i].reserved)
            buf_str(b, ", reserved");
        buf_str(b, ")\n");
    }
    if (r->schedule.set) {
        buf_str(b, "\nScheduled from ");
        put_hms(b, r->schedule.starts_at);
        buf_str(b, " to ");
        put_hms(b, r->schedule.ends_at);
        buf_str(b, " UTC on ");
        put_date(b, r->schedule.starts_at);
        buf_str(b, " (meeting time zone ");
        buf_str(b, r->schedule.time_zone);
        buf_str(b, ").\n");
    }
    buf_str(b, "\n## Proceedings\n\n");
    if (!n)
        buf_str(b, "Nothing was recorded.\n");
}

/* A block quote inside a list item: each line of text, escaped. */
static void md_quote(struct buf *b, const char *text)
{
    buf_str(b, "\n  > ");
    for (const char *s = text; s && *s; s++) {
        if (*s == '\n') {
            buf_str(b, "\n  > ");
        } else if (*s != '\r') {
            char one[2] = {*s, '\0'};
            put_md(b, one);
        }
    }
    buf_str(b, "\n");
}

/* One line of the proceedings, or nothing for events that minutes leave
 * out (speech requests, queue housekeeping, chat). */
static void md_event(struct tx *t, enum proto_status was, const struct room_event *ev,
                     const struct person *who)
{
    struct buf *b = &t->out;
    const json_t *d = ev->data;
    const char *s;
    bool chair = ev->actor[0] != '\0';
    size_t mark = b->len;

    buf_str(b, "- **");
    put_hms(b, ev->ts);
    buf_str(b, "** ");
    switch (ev->name) {
    case PROTO_EV_FLOOR_REQUESTED: {
        int k = proto_kind_parse(jstr(json_object_get(d, "request"), "kind"));
        if (k == PROTO_KIND_POINT_OF_ORDER) {
            md_who(b, who, true);
            buf_str(b, " rose to a point of order.\n");
        } else if (k == PROTO_KIND_REPLY) {
            md_who(b, who, true);
            buf_str(b, " asked for the right of reply.\n");
        } else {
            goto skip;
        }
        break;
    }
    case PROTO_EV_FLOOR_GRANTED:
        buf_str(b, "The Chair gave the floor to ");
        md_who(b, who, false);
        buf_printf(b, " (%s).\n", kind_words(t->r->floor.kind));
        break;
    case PROTO_EV_FLOOR_ENDED: {
        int why = proto_end_reason_parse(jstr(d, "reason"));
        if (why == PROTO_END_YIELDED) {
            md_who(b, who, true);
            buf_str(b, " yielded the floor");
        } else if (why == PROTO_END_TIME) {
            buf_str(b, "The speaking time of ");
            md_who(b, who, false);
            buf_str(b, " ran out and the floor closed");
        } else if (why == PROTO_END_SUPERSEDED) {
            buf_str(b, "The floor of ");
            md_who(b, who, false);
            buf_str(b, " ended as the Chair gave the floor to the next speaker");
        } else {
            buf_str(b, "The Chair closed the floor of ");
            md_who(b, who, false);
        }
        buf_str(b, " (spoke ");
        put_duration(b, json_integer_value(json_object_get(d, "spoken_ms")));
        buf_str(b, ").\n");
        break;
    }
    case PROTO_EV_TIME_UP:
        buf_str(b, "The speaking time of ");
        md_who(b, who, false);
        buf_str(b, " was up.\n");
        break;
    case PROTO_EV_TIME_EXTENDED:
        buf_str(b, "The Chair extended the speaking time of ");
        md_who(b, who, false);
        buf_printf(b, " by %" JSON_INTEGER_FORMAT " seconds.\n",
                   json_integer_value(json_object_get(d, "seconds")));
        break;
    case PROTO_EV_TIMER_PAUSED:
        buf_str(b, chair ? "The Chair paused the clock.\n"
                         : "The clock paused: the speaker's connection dropped.\n");
        break;
    case PROTO_EV_TIMER_RESUMED:
        buf_str(b, "The Chair restarted the clock.\n");
        break;
    case PROTO_EV_LIST_OPENED:
        buf_str(b, "The Chair opened the list of speakers.\n");
        break;
    case PROTO_EV_LIST_CLOSED:
        buf_str(b, "The Chair closed the list of speakers.\n");
        break;
    case PROTO_EV_PARTICIPANT_MUTED:
    case PROTO_EV_PARTICIPANT_UNMUTED:
        buf_str(b, ev->name == PROTO_EV_PARTICIPANT_MUTED ? "The Chair muted "
                                                           : "The Chair unmuted ");
        md_who(b, who, false);
        buf_str(b, " in the chat.\n");
        break;
    case PROTO_EV_PARTICIPANT_REMOVED:
        buf_str(b, "The Chair removed ");
        md_who(b, who, false);
        buf_str(b, " from the meeting.\n");
        break;
    case PROTO_EV_ROLE_CHANGED:
        buf_str(b, "The Chair made ");
        md_who(b, who, false);
        s = jstr(d, "role");
        buf_str(b, s && strcmp(s, "observer") == 0 ? " an observer.\n" : " a delegate.\n");
        break;
    case PROTO_EV_MESSAGE:
        if (!(s = jstr(d, "kind")) || strcmp(s, "announcement") != 0)
            goto skip;
        buf_str(b, "The Chair made an announcement:\n\n  > ");
        for (s = jstr(d, "text"); s && *s; s++) {
            if (*s == '\n') {
                buf_str(b, "\n  > ");
            } else if (*s != '\r') {
                char one[2] = {*s, '\0'};
                put_md(b, one);
            }
        }
        buf_str(b, "\n");
        break;
    case PROTO_EV_AGENDA_ITEM_SET: {
        /* The proceedings follow the agenda: each item its own heading. */
        const struct room_agenda_item *it = agenda_find(t->r, jstr(d, "item"));
        if (!b->oom) {
            b->len = mark;
            b->p[mark] = '\0';
        }
        buf_str(b, "\n### Agenda item ");
        buf_str(b, t->r->agenda_item);
        if (it) {
            buf_str(b, ": ");
            put_md(b, it->title);
        }
        buf_str(b, "\n\n- **");
        put_hms(b, ev->ts);
        buf_str(b, "** The meeting took up the item.\n");
        break;
    }
    case PROTO_EV_STATEMENT_PUBLISHED:
        if (json_is_true(json_object_get(d, "delivered"))) {
            buf_str(b, "The written statement of ");
            md_who(b, who, false);
            buf_str(b, ", as handed in before delivery (check against delivery):\n");
        } else {
            t->written++;
            md_who(b, who, true);
            buf_str(b, " was not reached; the statement was circulated in writing:\n");
        }
        md_quote(b, jstr(d, "text"));
        break;
    case PROTO_EV_CONCLUSIONS_PUBLISHED: {
        const char *h = jstr(d, "record_hash");
        buf_str(b, "The Chair, ");
        md_who(b, who, false);
        buf_printf(b, ", presented the conclusions (record fingerprint %.16s at seq %" PRIu64
                      "); see Conclusions below.\n",
                   h ? h : "", ev->seq - 1);
        free(t->concl_text);
        t->concl_text = jstr(d, "text") ? strdup(jstr(d, "text")) : NULL;
        snprintf(t->concl_hash, sizeof t->concl_hash, "%s", h ? h : "");
        t->concl_seq = ev->seq - 1;
        t->concl_by = *who;
        break;
    }
    case PROTO_EV_STATUS_CHANGED:
        s = jstr(d, "status");
        if (s && strcmp(s, "suspended") == 0)
            buf_str(b, chair ? "The Chair suspended the meeting.\n"
                             : "The meeting was suspended.\n");
        else if (s && strcmp(s, "closed") == 0)
            buf_str(b, chair ? "The Chair closed the meeting.\n" : "The meeting was closed.\n");
        else
            buf_str(b, was == PROTO_STATUS_SUSPENDED ? "The meeting resumed.\n"
                                                      : "The meeting opened.\n");
        break;
    case PROTO_EV_SETTINGS_CHANGED:
        buf_str(b, "The Chair changed the meeting's settings.\n");
        break;
    case PROTO_EV_SCHEDULE_CHANGED:
        if (!t->r->schedule.set) {
            buf_str(b, "The Chair removed the meeting's schedule.\n");
            break;
        }
        buf_str(b, "The Chair set the meeting's time: ");
        put_hms(b, t->r->schedule.starts_at);
        buf_str(b, " to ");
        put_hms(b, t->r->schedule.ends_at);
        buf_str(b, " UTC (meeting time zone ");
        buf_str(b, t->r->schedule.time_zone); /* [A-Za-z0-9/_+-] */
        buf_str(b, ").\n");
        break;
    case PROTO_EV_AGENDA_CHANGED:
        buf_printf(b, "The Chair changed the agenda (%zu item%s).\n", t->r->agenda_len,
                   t->r->agenda_len == 1 ? "" : "s");
        break;
    default:
        goto skip;
    }
    return;
skip:
    /* drop the time stamp written for a line that is left out */
    if (!b->oom) {
        b->len = mark;
        b->p[mark] = '\0';
    }
}

static void md_tail(struct tx *t)
{
    struct buf *b = &t->out;
    size_t nd, ns;
    bool oom1, oom2;
    struct group *dl = groups(t, NULL, BY_DELEGATION, &nd, &oom1);
    struct group *sp = groups(t, NULL, BY_SPEAKER, &ns, &oom2);
    int turns = 0;
    int64_t total = 0;

    if (oom1 || oom2) {
        b->oom = true;
        goto done;
    }
    if (t->r->floor.active) {
        struct person p;
        person_set(&p, t->r->floor.sub, t->r->floor.name, t->r->floor.delegation);
        snprintf(p.region, sizeof p.region, "%s", t->r->floor.region);
        buf_str(b, "\nAt the end of this record, ");
        md_who(b, &p, false);
        buf_str(b, " still had the floor.\n");
    }
    buf_str(b, "\n## Speaking time\n\n");
    if (!nd) {
        buf_str(b, "Nobody took the floor.\n");
        goto done;
    }
    buf_str(b, "### By delegation\n\n"
               "| Delegation | Turns | Speaking time |\n"
               "| --- | ---: | ---: |\n");
    for (size_t i = 0; i < nd; i++) {
        buf_str(b, "| ");
        if (dl[i].first->who.delegation[0])
            put_md(b, dl[i].first->who.delegation);
        else
            buf_str(b, "(no delegation)");
        buf_printf(b, " | %d | ", dl[i].turns);
        put_duration(b, dl[i].spoken_ms);
        buf_str(b, " |\n");
        turns += dl[i].turns;
        total += dl[i].spoken_ms;
    }
    buf_printf(b, "| **Total** | **%d** | **", turns);
    put_duration(b, total);
    buf_str(b, "** |\n\n### By speaker\n\n"
               "| Speaker | Delegation | Turns | Speaking time |\n"
               "| --- | --- | ---: | ---: |\n");
    for (size_t i = 0; i < ns; i++) {
        buf_str(b, "| ");
        const struct person *p = &sp[i].first->who;
        put_md(b, p->name[0] ? p->name : p->sub);
        buf_str(b, " | ");
        if (p->delegation[0])
            put_md(b, p->delegation);
        else
            buf_str(b, "—");
        buf_printf(b, " | %d | ", sp[i].turns);
        put_duration(b, sp[i].spoken_ms);
        buf_str(b, " |\n");
    }
done:
    free(dl);
    free(sp);
}

/* Markdown: the chair's conclusions as their own section. */
static void md_conclusions(struct tx *t)
{
    struct buf *b = &t->out;
    if (!t->concl_text)
        return;
    buf_str(b, "\n## Conclusions\n\nPresented by ");
    md_who(b, &t->concl_by, false);
    buf_printf(b, ". They close the record as it stood at seq %" PRIu64 ", fingerprint **%.16s** "
                  "(full hash `%s`).\n\n",
               t->concl_seq, t->concl_hash, t->concl_hash);
    for (const char *s = t->concl_text; *s; s++) {
        if (s == t->concl_text || s[-1] == '\n')
            buf_str(b, "> ");
        if (*s == '\n') {
            buf_str(b, "\n");
        } else if (*s != '\r') {
            char one[2] = {*s, '\0'};
            put_md(b, one);
        }
    }
    buf_str(b, "\n");
}

/* The members the attendance lists (contract 9.5): moderators, delegates
 * and interpreters who joined, in the order they were first seen. */
static bool attended(const struct room_member *m)
{
    enum proto_role role = m->has_role_override ? m->role_override : m->token_role;
    return m->first_joined_at > 0 && (role != PROTO_ROLE_OBSERVER || m->has_role_override);
}

static const char *member_role_name(const struct room_member *m)
{
    return proto_role_name(m->has_role_override ? m->role_override : m->token_role);
}

static void md_attendance(struct tx *t)
{
    struct buf *b = &t->out;
    const struct room *live = t->opts ? t->opts->live : NULL;
    size_t n = 0;
    if (!live)
        return;
    buf_str(b, "\n## Attendance\n\n");
    for (size_t i = 0; i < live->members_len; i++) {
        const struct room_member *m = &live->members[i];
        if (!attended(m))
            continue;
        if (!n++)
            buf_str(b, "| Name | Delegation | Region | Category | Role | First joined | Last left | "
                       "Turns | Speaking time |\n"
                       "| --- | --- | --- | --- | --- | --- | --- | ---: | ---: |\n");
        buf_str(b, "| ");
        put_md(b, m->name[0] ? m->name : m->sub);
        buf_str(b, " | ");
        put_md(b, m->delegation[0] ? m->delegation : "—");
        buf_str(b, " | ");
        put_md(b, m->region[0] ? m->region : "—");
        buf_str(b, " | ");
        buf_str(b, proto_category_name(m->category) ? proto_category_name(m->category) : "—");
        buf_str(b, " | ");
        buf_str(b, member_role_name(m));
        buf_str(b, " | ");
        put_hms(b, m->first_joined_at);
        buf_str(b, " | ");
        if (m->last_left_at)
            put_hms(b, m->last_left_at);
        else
            buf_str(b, "still connected");
        buf_printf(b, " | %d | ", m->turns);
        put_duration(b, m->spoken_ms);
        buf_str(b, " |\n");
    }
    if (!n)
        buf_str(b, "Nobody but observers joined.\n");
    if (live->observers_peak > 0) {
        buf_printf(b, "\nObservers: at most %ld connected at once (at ", live->observers_peak);
        put_hms(b, live->observers_peak_at);
        buf_str(b, " UTC).\n");
    } else {
        buf_str(b, "\nNo observer connected.\n");
    }
}

/* ---- CSV ---- */

static void csv_event(struct tx *t, const struct room_event *ev, const struct person *who,
                      const char *hash)
{
    struct buf *b = &t->out;
    struct buf detail = {0};
    const json_t *d = ev->data, *o;
    const char *s;

    buf_printf(b, "%" PRIu64 ",", ev->seq);
    put_iso(b, ev->ts);
    buf_printf(b, ",%s,", proto_event_name(ev->name));
    put_csv(b, ev->actor);
    buf_str(b, ",");
    put_csv(b, who->sub);
    buf_str(b, ",");
    put_csv(b, who->name);
    buf_str(b, ",");
    put_csv(b, who->delegation);
    buf_str(b, ",");
    switch (ev->name) {
    case PROTO_EV_FLOOR_REQUESTED:
        o = json_object_get(d, "request");
        buf_printf(&detail, "kind=%s request=%s", jstr(o, "kind"), jstr(o, "id"));
        if ((s = jstr(o, "lang")))
            buf_printf(&detail, " lang=%s", s);
        break;
    case PROTO_EV_REQUEST_WITHDRAWN:
    case PROTO_EV_REQUEST_REMOVED:
        buf_printf(&detail, "request=%s", jstr(d, "request_id"));
        break;
    case PROTO_EV_REQUEST_MOVED:
        buf_printf(&detail, "request=%s to=%" JSON_INTEGER_FORMAT, jstr(d, "request_id"),
                   json_integer_value(json_object_get(d, "to")));
        break;
    case PROTO_EV_FLOOR_GRANTED:
        o = json_object_get(d, "floor");
        s = jstr(o, "request_id");
        buf_printf(&detail, "kind=%s request=%s limit_s=%" JSON_INTEGER_FORMAT, jstr(o, "kind"),
                   s ? s : "none", json_integer_value(json_object_get(o, "limit_s")));
        break;
    case PROTO_EV_FLOOR_ENDED:
        buf_printf(&detail, "reason=%s spoken_ms=%" JSON_INTEGER_FORMAT, jstr(d, "reason"),
                   json_integer_value(json_object_get(d, "spoken_ms")));
        break;
    case PROTO_EV_TIME_EXTENDED:
        buf_printf(&detail, "seconds=%" JSON_INTEGER_FORMAT,
                   json_integer_value(json_object_get(d, "seconds")));
        break;
    case PROTO_EV_ROLE_CHANGED:
        buf_printf(&detail, "role=%s", jstr(d, "role"));
        break;
    case PROTO_EV_MESSAGE:
        buf_printf(&detail, "%s: %s", jstr(d, "kind"), jstr(d, "text"));
        break;
    case PROTO_EV_AGENDA_ITEM_SET:
        buf_printf(&detail, "item=%s", jstr(d, "item"));
        break;
    case PROTO_EV_STATUS_CHANGED:
        buf_printf(&detail, "status=%s", jstr(d, "status"));
        break;
    case PROTO_EV_SCHEDULE_CHANGED:
        if (!t->r->schedule.set) {
            buf_str(&detail, "schedule=none");
            break;
        }
        buf_str(&detail, "starts_at=");
        put_iso(&detail, t->r->schedule.starts_at);
        buf_str(&detail, " ends_at=");
        put_iso(&detail, t->r->schedule.ends_at);
        buf_printf(&detail, " time_zone=%s", t->r->schedule.time_zone);
        break;
    case PROTO_EV_AGENDA_CHANGED:
        buf_str(&detail, "items=");
        for (size_t i = 0; i < t->r->agenda_len; i++)
            buf_printf(&detail, "%s%s", i ? "," : "", t->r->agenda[i].id);
        break;
    case PROTO_EV_STATEMENT_DEPOSITED:
        buf_printf(&detail, "request=%s chars=%" JSON_INTEGER_FORMAT, jstr(d, "request_id"),
                   json_integer_value(json_object_get(d, "chars")));
        break;
    case PROTO_EV_STATEMENT_PUBLISHED:
        buf_printf(&detail, "request=%s delivered=%s: %s", jstr(d, "request_id"),
                   json_is_true(json_object_get(d, "delivered")) ? "true" : "false",
                   jstr(d, "text") ? jstr(d, "text") : "");
        break;
    case PROTO_EV_CONCLUSIONS_PUBLISHED:
        buf_printf(&detail, "record_hash=%s: %s", jstr(d, "record_hash") ? jstr(d, "record_hash") : "",
                   jstr(d, "text") ? jstr(d, "text") : "");
        break;
    case PROTO_EV_SETTINGS_CHANGED: {
        char *js = json_dumps(json_object_get(d, "settings"), JSON_COMPACT | JSON_SORT_KEYS);
        if (!js)
            detail.oom = true;
        else
            buf_str(&detail, js);
        free(js);
        break;
    }
    default:
        break;
    }
    put_csv(b, detail.p);
    buf_str(b, ",");
    buf_str(b, hash);
    buf_str(b, "\r\n");
    if (detail.oom)
        b->oom = true;
    free(detail.p);
}

/* Attendance rows (contract 9.5): event "attendance" per person, then
 * "observers_peak"; seq and hash empty (they are not events). */
static void csv_attendance(struct tx *t)
{
    struct buf *b = &t->out;
    const struct room *live = t->opts ? t->opts->live : NULL;
    struct buf d = {0};
    if (!live)
        return;
    for (size_t i = 0; i < live->members_len; i++) {
        const struct room_member *m = &live->members[i];
        if (!attended(m))
            continue;
        buf_str(b, ",");
        put_iso(b, m->first_joined_at);
        buf_str(b, ",attendance,,");
        put_csv(b, m->sub);
        buf_str(b, ",");
        put_csv(b, m->name);
        buf_str(b, ",");
        put_csv(b, m->delegation);
        buf_str(b, ",");
        d.len = 0;
        buf_printf(&d, "role=%s first_joined_at=%" PRId64, member_role_name(m), m->first_joined_at);
        if (m->last_left_at)
            buf_printf(&d, " last_left_at=%" PRId64, m->last_left_at);
        else
            buf_str(&d, " last_left_at=null");
        buf_printf(&d, " turns=%d spoken_ms=%" PRId64, m->turns, m->spoken_ms);
        if (m->region[0])
            buf_printf(&d, " region=%s", m->region);
        if (proto_category_name(m->category))
            buf_printf(&d, " category=%s", proto_category_name(m->category));
        put_csv(b, d.p);
        buf_str(b, ",\r\n");
    }
    buf_str(b, ",");
    if (live->observers_peak > 0)
        put_iso(b, live->observers_peak_at);
    buf_printf(b, ",observers_peak,,,,,observers=%ld,\r\n", live->observers_peak);
    if (d.oom)
        b->oom = true;
    free(d.p);
}

/* The last row: the chain's head in the hash column. */
static void csv_chain(struct tx *t)
{
    struct buf *b = &t->out;
    buf_printf(b, ",,chain,,,,,epoch=%s last_seq=%zu", t->initial->epoch, t->nhash);
    if (t->initial->previous_epoch[0])
        buf_printf(b, " restarted_after=%s", t->initial->previous_epoch);
    buf_printf(b, ",%s\r\n", chain_head(t));
}

/* ---- JSON ---- */

/* "attendance" on record j (contract 9.5). */
static int json_attendance(struct tx *t, json_t *j)
{
    const struct room *live = t->opts ? t->opts->live : NULL;
    json_t *people = json_array();
    if (!live) {
        json_decref(people);
        return 0;
    }
    for (size_t i = 0; people && i < live->members_len; i++) {
        const struct room_member *m = &live->members[i];
        if (!attended(m))
            continue;
        json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:I, s:o, s:i, s:I}", "sub", m->sub,
                              "name", m->name, "role", member_role_name(m), "delegation",
                              m->delegation[0] ? m->delegation : NULL, "category",
                              proto_category_name(m->category), "region",
                              m->region[0] ? m->region : NULL, "first_joined_at",
                              (json_int_t)m->first_joined_at, "last_left_at",
                              m->last_left_at ? json_integer(m->last_left_at) : json_null(),
                              "turns", m->turns, "spoken_ms", (json_int_t)m->spoken_ms);
        if (!o || json_array_append_new(people, o)) {
            json_decref(people);
            return -1;
        }
    }
    json_t *a = json_pack("{s:o, s:I, s:o}", "participants", people, "observers_peak",
                          (json_int_t)live->observers_peak, "observers_peak_at",
                          live->observers_peak > 0 ? json_integer(live->observers_peak_at)
                                                   : json_null());
    return a && json_object_set_new(j, "attendance", a) == 0 ? 0 : -1;
}

/* The chain object, the signature and the public key on record j. */
static int json_chain(struct tx *t, json_t *j)
{
    const char *head = chain_head(t);
    json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s?}", "algorithm", "sha256", "epoch",
                          t->initial->epoch, "first_seq", (json_int_t)(t->nhash ? 1 : 0),
                          "last_seq", (json_int_t)t->nhash, "head", head, "restarted_after",
                          t->initial->previous_epoch[0] ? t->initial->previous_epoch : NULL);
    if (!c || json_object_set_new(j, "chain", c))
        return -1;
    if (!t->opts || !t->opts->sign)
        return 0;
    char *text = chain_signed_text(t->initial->id, t->initial->epoch, t->nhash, head);
    char *sig = text ? t->opts->sign(t->opts->sign_arg, text) : NULL;
    int r = !sig || json_object_set_new(j, "signature", json_string(sig)) ||
                    json_object_set_new(j, "public_key", json_string(t->opts->public_pem ? t->opts->public_pem : ""))
                ? -1
                : 0;
    free(text);
    free(sig);
    return r;
}

/* The record without its events (they are spliced in as text after it,
 * see put_events), new reference. */
static json_t *json_record(struct tx *t)
{
    json_t *j = NULL, *floors = NULL, *speakers = NULL, *delegs = NULL;
    struct group *sp = NULL, *dl = NULL;
    size_t ns, nd;
    bool oom1, oom2;

    floors = json_array();
    speakers = json_array();
    delegs = json_array();
    sp = groups(t, NULL, BY_SPEAKER, &ns, &oom1);
    dl = groups(t, NULL, BY_DELEGATION, &nd, &oom2);
    if (!floors || !speakers || !delegs || oom1 || oom2)
        goto fail;
    for (size_t i = 0; i < t->nfloors; i++) {
        const struct floor_rec *f = &t->floors[i];
        /* a floor still open at the end of the record has no end yet */
        json_t *o = json_pack(
            "{s:s, s:s, s:s?, s:s, s:I, s:o, s:o, s:o}", "sub", f->who.sub, "name", f->who.name,
            "delegation", f->who.delegation[0] ? f->who.delegation : NULL, "kind",
            proto_kind_name(f->kind), "started_at", (json_int_t)f->started_at, "ended_at",
            f->ended ? json_integer(f->ended_at) : json_null(), "spoken_ms",
            f->ended ? json_integer(f->spoken_ms) : json_null(), "reason",
            f->ended ? json_string(proto_end_reason_name(f->reason)) : json_null());
        if (!o || json_array_append_new(floors, o))
            goto fail;
    }
    for (size_t i = 0; i < ns; i++) {
        const struct person *p = &sp[i].first->who;
        if (json_array_append_new(
                speakers, json_pack("{s:s, s:s, s:s?, s:i, s:I}", "sub", p->sub, "name", p->name,
                                    "delegation", p->delegation[0] ? p->delegation : NULL,
                                    "turns", sp[i].turns, "spoken_ms",
                                    (json_int_t)sp[i].spoken_ms)))
            goto fail;
    }
    for (size_t i = 0; i < nd; i++) {
        if (json_array_append_new(
                delegs, json_pack("{s:s?, s:i, s:I}", "delegation",
                                  dl[i].first->who.delegation[0] ? dl[i].first->who.delegation
                                                                  : NULL,
                                  "turns",
                                  dl[i].turns, "spoken_ms", (json_int_t)dl[i].spoken_ms)))
            goto fail;
    }
    j = json_pack("{s:{s:s, s:s}, s:O, s:O, s:O}", "room", "id", t->r->id, "title",
                  t->r->title, "floors", floors, "speakers", speakers, "delegations", delegs);
    if (j && json_chain(t, j)) {
        json_decref(j);
        j = NULL;
    }
fail:
    free(sp);
    free(dl);
    json_decref(floors);
    json_decref(speakers);
    json_decref(delegs);
    return j;
}

/* ---- version 1.1: agenda items planned and actual, regions, categories ---- */

/* Keeps the periods up to date with the replayed room: a new current item
 * (or a new start of it) closes the open period and opens another; the
 * closing of the meeting closes it. Called once before the events (for a
 * room created open) and after each one. */
static int track_periods(struct tx *t, int64_t ts)
{
    const struct room *r = t->r;
    struct period *open = t->nperiods && !t->periods[t->nperiods - 1].ended
                              ? &t->periods[t->nperiods - 1]
                              : NULL;
    bool current = r->status != PROTO_STATUS_CLOSED && r->has_item_started && r->agenda_item[0];
    if (open && current && strcmp(open->item, r->agenda_item) == 0 &&
        open->started_at == r->item_started_at)
        return 0;
    if (open) {
        open->ended = true;
        open->ended_at = ts > open->started_at ? ts : open->started_at;
    }
    if (!current)
        return 0;
    if (t->nperiods == t->capperiods) {
        size_t cap = t->capperiods ? t->capperiods * 2 : 8;
        struct period *n = realloc(t->periods, cap * sizeof *n);
        if (!n)
            return -1;
        t->periods = n;
        t->capperiods = cap;
    }
    struct period *p = &t->periods[t->nperiods++];
    memset(p, 0, sizeof *p);
    snprintf(p->item, sizeof p->item, "%s", r->agenda_item);
    p->started_at = r->item_started_at;
    return 0;
}

/* The time an item was current, summed over its periods (an open one runs
 * to the last event of the record). */
static int64_t item_actual_ms(const struct tx *t, const char *item, bool *ongoing)
{
    int64_t sum = 0;
    *ongoing = false;
    for (size_t i = 0; i < t->nperiods; i++) {
        const struct period *p = &t->periods[i];
        if (strcmp(p->item, item) != 0)
            continue;
        int64_t end = p->ended ? p->ended_at : t->last_ts;
        if (!p->ended)
            *ongoing = true;
        if (end > p->started_at)
            sum += end - p->started_at;
    }
    return sum;
}

static bool item_was_current(const struct tx *t, const char *item)
{
    for (size_t i = 0; i < t->nperiods; i++)
        if (strcmp(t->periods[i].item, item) == 0)
            return true;
    return false;
}

static json_t *opt_str(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *category_or_null(enum proto_category c)
{
    const char *s = proto_category_name(c);
    return s && s[0] ? json_string(s) : json_null();
}

/* [{"region"|"category"|speaker fields, "turns", "spoken_ms"}] */
static json_t *groups_json(const struct tx *t, const char *item, enum group_by by)
{
    size_t n;
    bool oom;
    struct group *g = groups(t, item, by, &n, &oom);
    json_t *a = oom ? NULL : json_array();
    for (size_t i = 0; a && i < n; i++) {
        const struct floor_rec *f = g[i].first;
        json_t *o;
        if (by == BY_REGION)
            o = json_pack("{s:o}", "region", opt_str(f->region));
        else if (by == BY_CATEGORY)
            o = json_pack("{s:o}", "category", category_or_null(f->category));
        else
            o = json_pack("{s:s, s:s, s:o, s:o, s:o}", "sub", f->who.sub, "name", f->who.name,
                          "delegation", opt_str(f->who.delegation), "region",
                          opt_str(f->region), "category", category_or_null(f->category));
        if (!o || json_object_set_new(o, "turns", json_integer(g[i].turns)) ||
            json_object_set_new(o, "spoken_ms", json_integer((json_int_t)g[i].spoken_ms)) ||
            json_array_append_new(a, o)) {
            json_decref(o);
            json_decref(a);
            a = NULL;
        }
    }
    free(g);
    return a;
}

/* The items to report: the agenda as it stands at the end of the record,
 * then any item that was current once and has since left the agenda. */
static json_t *agenda_record_json(const struct tx *t)
{
    json_t *a = json_array();
    const struct room *r = t->r;
    for (size_t i = 0; a && i < r->agenda_len + t->nperiods; i++) {
        const char *id, *title = NULL;
        int planned = 0;
        bool reserved = false, ongoing;
        if (i < r->agenda_len) {
            id = r->agenda[i].id;
            title = r->agenda[i].title;
            planned = r->agenda[i].planned_s;
            reserved = r->agenda[i].reserved;
        } else {
            const struct period *p = &t->periods[i - r->agenda_len];
            bool seen = false;
            id = p->item;
            for (size_t k = 0; k < r->agenda_len; k++)
                seen = seen || strcmp(r->agenda[k].id, id) == 0;
            for (size_t k = 0; k < i - r->agenda_len; k++)
                seen = seen || strcmp(t->periods[k].item, id) == 0;
            if (seen)
                continue;
        }
        json_t *periods = json_array();
        for (size_t k = 0; periods && k < t->nperiods; k++) {
            const struct period *p = &t->periods[k];
            if (strcmp(p->item, id) == 0 &&
                json_array_append_new(periods, json_pack("{s:I, s:o}", "started_at",
                                                         (json_int_t)p->started_at, "ended_at",
                                                         p->ended ? json_integer(p->ended_at)
                                                                  : json_null()))) {
                json_decref(periods);
                periods = NULL;
            }
        }
        int64_t actual = item_actual_ms(t, id, &ongoing);
        json_t *o = json_pack(
            "{s:s, s:o, s:o, s:b, s:o, s:o, s:b, s:o, s:o, s:o}", "id", id, "title",
            opt_str(title), "planned_s", planned ? json_integer(planned) : json_null(),
            "reserved", (int)reserved, "periods", periods ? periods : json_null(), "actual_ms",
            item_was_current(t, id) ? json_integer((json_int_t)actual) : json_null(), "ongoing",
            (int)ongoing, "speakers", groups_json(t, id, BY_SPEAKER), "regions",
            groups_json(t, id, BY_REGION), "categories", groups_json(t, id, BY_CATEGORY));
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* The JSON record's version 1.1 parts, added to j (the record object):
 * "schedule", "agenda" (per item: planned and actual, periods, speakers,
 * regions, categories), and "regions"/"categories" over the whole record;
 * each floor gains region, category and agenda_item. False when out of
 * memory. */
static bool json_balance(struct tx *t, json_t *j)
{
    json_t *floors = json_object_get(j, "floors");
    for (size_t i = 0; i < t->nfloors && i < json_array_size(floors); i++) {
        json_t *o = json_array_get(floors, i);
        const struct floor_rec *f = &t->floors[i];
        if (json_object_set_new(o, "region", opt_str(f->region)) ||
            json_object_set_new(o, "category", category_or_null(f->category)) ||
            json_object_set_new(o, "agenda_item", opt_str(f->item)))
            return false;
    }
    /* json_object_set_new takes each value, also when it fails */
    int bad = json_object_set_new(j, "schedule", room_schedule_json(&t->r->schedule));
    bad |= json_object_set_new(j, "agenda", agenda_record_json(t));
    bad |= json_object_set_new(j, "regions", groups_json(t, NULL, BY_REGION));
    bad |= json_object_set_new(j, "categories", groups_json(t, NULL, BY_CATEGORY));
    return !bad;
}

static const char *category_words(enum proto_category c)
{
    switch (c) {
    case PROTO_CAT_MEMBER_STATE:
        return "Member States";
    case PROTO_CAT_OBSERVER_STATE:
        return "Observer States";
    case PROTO_CAT_ORGANIZATION:
        return "Organizations";
    case PROTO_CAT_UN_ENTITY:
        return "UN entities";
    case PROTO_CAT_CIVIL_SOCIETY:
        return "Civil society";
    case PROTO_CAT_OTHER:
        return "Others";
    default:
        return "(no category)";
    }
}

static void md_group_rows(struct tx *t, const char *item, const char *label, enum group_by by)
{
    struct buf *b = &t->out;
    size_t n;
    bool oom;
    struct group *g = groups(t, item, by, &n, &oom);
    if (oom) {
        b->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        buf_str(b, "| ");
        if (by == BY_REGION) {
            if (g[i].first->region[0])
                put_md(b, g[i].first->region);
            else
                buf_str(b, "(no region)");
        } else {
            buf_str(b, category_words(g[i].first->category));
        }
        buf_str(b, " | ");
        put_md(b, label);
        buf_printf(b, " | %d | ", g[i].turns);
        put_duration(b, g[i].spoken_ms);
        buf_str(b, " |\n");
    }
    free(g);
}

/* The minutes' sections of contract 9.1/9.3: each agenda item planned
 * against actual and who spoke, then turns and speaking time by region and
 * by category, per item and in total. */
static void md_balance(struct tx *t)
{
    struct buf *b = &t->out;
    const struct room *r = t->r;
    bool ongoing;

    if (!r->agenda_len && !t->nperiods)
        return;
    buf_str(b, "\n## Agenda items: planned and actual\n\n"
               "| Item | Planned | Actual | Speakers |\n"
               "| --- | ---: | ---: | --- |\n");
    for (size_t i = 0; i < r->agenda_len; i++) {
        const struct room_agenda_item *it = &r->agenda[i];
        size_t n;
        bool oom;
        struct group *g = groups(t, it->id, BY_SPEAKER, &n, &oom);
        if (oom) {
            b->oom = true;
            return;
        }
        buf_str(b, "| ");
        put_md(b, it->title);
        buf_str(b, " (`");
        buf_str(b, it->id);
        buf_str(b, it->reserved ? "`, reserved) | " : "`) | ");
        if (it->planned_s)
            put_duration(b, (int64_t)it->planned_s * 1000);
        else
            buf_str(b, "—");
        buf_str(b, " | ");
        if (item_was_current(t, it->id)) {
            put_duration(b, item_actual_ms(t, it->id, &ongoing));
            if (ongoing)
                buf_str(b, " (ongoing)");
        } else {
            buf_str(b, "not taken up");
        }
        buf_str(b, " | ");
        if (!n)
            buf_str(b, "—");
        for (size_t k = 0; k < n; k++) {
            const struct floor_rec *f = g[k].first;
            if (k)
                buf_str(b, "; ");
            put_md(b, f->who.delegation[0] ? f->who.delegation
                                           : f->who.name[0] ? f->who.name : f->who.sub);
            buf_printf(b, " (%d, ", g[k].turns);
            put_duration(b, g[k].spoken_ms);
            buf_str(b, ")");
        }
        buf_str(b, " |\n");
        free(g);
    }
    for (int pass = 0; pass < 2; pass++) {
        enum group_by by = pass ? BY_CATEGORY : BY_REGION;
        buf_str(b, pass ? "\n## Turns and speaking time by category\n\n"
                          "| Category | Agenda item | Turns | Speaking time |\n"
                          "| --- | --- | ---: | ---: |\n"
                        : "\n## Turns and speaking time by region\n\n"
                          "| Region | Agenda item | Turns | Speaking time |\n"
                          "| --- | --- | ---: | ---: |\n");
        for (size_t i = 0; i < r->agenda_len; i++)
            md_group_rows(t, r->agenda[i].id, r->agenda[i].id, by);
        md_group_rows(t, NULL, "all items", by);
    }
}

/* CSV summary rows after the events (event "item_summary",
 * "region_summary", "category_summary"; seq empty), so that a spreadsheet
 * has the per-item and per-region figures without a pivot. */
static void csv_balance(struct tx *t)
{
    struct buf *b = &t->out;
    const struct room *r = t->r;
    bool ongoing;
    for (size_t i = 0; i < r->agenda_len; i++) {
        const struct room_agenda_item *it = &r->agenda[i];
        struct buf d = {0};
        size_t n;
        bool oom;
        struct group *g = groups(t, it->id, BY_SPEAKER, &n, &oom);
        buf_printf(&d, "item=%s planned_s=", it->id);
        if (it->planned_s)
            buf_printf(&d, "%d", it->planned_s);
        else
            buf_str(&d, "none");
        buf_str(&d, " actual_s=");
        if (item_was_current(t, it->id)) {
            int64_t actual = item_actual_ms(t, it->id, &ongoing); /* sets ongoing */
            buf_printf(&d, "%" PRId64 "%s", (actual + 500) / 1000, ongoing ? " ongoing" : "");
        } else
            buf_str(&d, "none");
        buf_printf(&d, " reserved=%s speakers=", it->reserved ? "yes" : "no");
        for (size_t k = 0; k < n; k++)
            buf_printf(&d, "%s%s", k ? ";" : "", g[k].first->who.sub);
        buf_str(b, ",");
        for (size_t k = 0; k < t->nperiods; k++)
            if (strcmp(t->periods[k].item, it->id) == 0) {
                put_iso(b, t->periods[k].started_at);
                break;
            }
        buf_str(b, ",item_summary,,,,,");
        put_csv(b, d.p);
        buf_str(b, ",\r\n"); /* no hash: not an event */
        if (oom || d.oom)
            b->oom = true;
        free(d.p);
        free(g);
    }
    for (int pass = 0; pass < 2; pass++) {
        enum group_by by = pass ? BY_CATEGORY : BY_REGION;
        for (size_t i = 0; i <= r->agenda_len; i++) {
            const char *item = i < r->agenda_len ? r->agenda[i].id : NULL;
            size_t n;
            bool oom;
            struct group *g = groups(t, item, by, &n, &oom);
            if (oom)
                b->oom = true;
            for (size_t k = 0; k < n; k++) {
                const struct floor_rec *f = g[k].first;
                struct buf d = {0};
                const char *cat = proto_category_name(f->category);
                buf_printf(&d, "item=%s %s=%s turns=%d spoken_ms=%" PRId64, item ? item : "*",
                           pass ? "category" : "region",
                           pass ? (cat && cat[0] ? cat : "none") : (f->region[0] ? f->region : "none"),
                           g[k].turns, g[k].spoken_ms);
                buf_str(b, pass ? ",,category_summary,,,,," : ",,region_summary,,,,,");
                put_csv(b, d.p);
                buf_str(b, ",\r\n");
                if (d.oom)
                    b->oom = true;
                free(d.p);
            }
            free(g);
        }
    }
}

/* ---- the entry point ---- */

/* Event i of src as parsed JSON (new reference) with its stored hash
 * (borrowed, may be NULL), or NULL. */
static json_t *source_event(const struct transcript_source *src, size_t i, const char **hash)
{
    const char *txt = NULL;
    size_t n = 0;
    json_error_t err;
    *hash = NULL;
    if (src->get(src->arg, i, &txt, &n, hash) != 0 || !txt)
        return NULL;
    return json_loadb(txt, n, 0, &err);
}

/* The JSON record: everything but the events through jansson, then the
 * events spliced in as their stored text with "hash" added, so that a
 * record of 100,000 events costs one pass of copying, not a tree. */
static int put_json(struct tx *t, const struct transcript_source *src)
{
    json_t *j = json_record(t);
    char *head = NULL;
    int r = -1;
    if (!j || !json_balance(t, j) || json_attendance(t, j) || json_chain(t, j) ||
        !(head = json_dumps(j, JSON_INDENT(2))))
        goto done;
    size_t hl = strlen(head);
    while (hl && head[hl - 1] != '}')
        hl--;
    if (!hl)
        goto done;
    buf_put(&t->out, head, hl - 1); /* without the closing brace */
    while (t->out.len && (t->out.p[t->out.len - 1] == '\n' || t->out.p[t->out.len - 1] == ' '))
        t->out.len--;
    buf_str(&t->out, ",\n  \"events\": [");
    for (size_t i = 0; i < src->n; i++) {
        const char *txt = NULL, *hash = NULL;
        size_t n = 0;
        if (src->get(src->arg, i, &txt, &n, &hash) != 0 || !txt)
            goto done;
        while (n && (txt[n - 1] == '\n' || txt[n - 1] == ' '))
            n--;
        if (n < 2 || txt[0] != '{' || txt[n - 1] != '}')
            goto done;
        buf_str(&t->out, i ? ",\n    " : "\n    ");
        buf_put(&t->out, txt, n - 1);
        buf_str(&t->out, n > 2 ? ",\"hash\":\"" : "\"hash\":\"");
        buf_str(&t->out, t->hash[i]);
        buf_str(&t->out, "\"}");
    }
    buf_str(&t->out, src->n ? "\n  ]\n}\n" : "]\n}\n");
    r = t->out.oom ? -1 : 0;
done:
    free(head);
    json_decref(j);
    return r;
}

/* The JSON record needs from a chat message or announcement nothing but
 * its place in the chain: such an event changes no state (room_apply only
 * checks that it has a text) and counts in no tally. When event i's stored
 * text shows, before its data, that it is the next seq's "message" and it
 * has a stored hash, it is taken as read without parsing it: a long
 * meeting is mostly messages. Anything else, or any doubt, returns false
 * and the event is parsed and applied as usual. */
static bool skip_message(struct tx *t, const struct transcript_source *src, size_t i)
{
    const char *txt = NULL, *hash = NULL;
    size_t n = 0;
    char want[96];
    if (src->get(src->arg, i, &txt, &n, &hash) != 0 || !txt || !chain_is_hex(hash))
        return false;
    /* room_event_json writes type, seq, ts, name in this order */
    int w = snprintf(want, sizeof want, "{\"type\":\"event\",\"seq\":%" PRIu64 ",\"ts\":",
                     t->r->seq + 1);
    if (w <= 0 || (size_t)w >= n || memcmp(txt, want, (size_t)w) != 0)
        return false;
    size_t k = (size_t)w;
    while (k < n && k < (size_t)w + 20 && txt[k] >= '0' && txt[k] <= '9')
        k++;
    static const char name[] = ",\"name\":\"message\",";
    if (k == (size_t)w || n - k < sizeof name - 1 || memcmp(txt + k, name, sizeof name - 1) != 0)
        return false;
    memcpy(t->hash[t->nhash++], hash, CHAIN_HEX_BUF);
    t->r->seq++;
    /* the record's last time (an ongoing item runs to it) */
    int64_t ts = 0;
    for (size_t d = (size_t)w; d < k && k - (size_t)w <= 16; d++)
        ts = ts * 10 + (txt[d] - '0');
    if (ts > t->last_ts)
        t->last_ts = ts;
    return true;
}

/* What the record notes of the room just before an event changes it. */
struct before_ctx {
    struct person *who;
    enum proto_status *was;
};

static void before_apply(void *arg, const struct room *r, const struct room_event *ev)
{
    struct before_ctx *b = arg;
    subject_of(r, ev, b->who);
    *b->was = r->status;
}

char *transcript_render_source(const struct room *initial, const struct transcript_source *src,
                               enum transcript_format f, const struct transcript_opts *opts,
                               size_t *len, char *errbuf, size_t errsz)
{
    struct tx t;
    enum proto_status was;
    char *result = NULL;
    json_t *first = NULL;
    const char *h;

    memset(&t, 0, sizeof t);
    t.f = f;
    if (len)
        *len = 0;
    if (errbuf && errsz)
        errbuf[0] = '\0';
    t.r = room_clone(initial);
    t.initial = initial;
    t.opts = opts;
    chain_h0(initial->id, initial->epoch, t.h0);
    if (!t.r || (src->n && !(t.hash = malloc(src->n * sizeof *t.hash))) ||
        track_periods(&t, t.r->created_at))
        goto oom;
    t.last_ts = t.r->created_at;
    if (f == TRANSCRIPT_MD) {
        first = src->n ? source_event(src, 0, &h) : NULL;
        md_head(&t, src->n, json_integer_value(json_object_get(first, "ts")));
        json_decref(first);
    } else if (f == TRANSCRIPT_CSV) {
        buf_str(&t.out, "seq,time_utc,event,actor,sub,name,delegation,detail,hash\r\n");
    }

    for (size_t i = 0; i < src->n; i++) {
        struct room_event ev;
        struct person who;
        const char *stored = NULL;
        if (f == TRANSCRIPT_JSON && skip_message(&t, src, i))
            continue;
        const char *txt = NULL;
        size_t tlen = 0;
        json_t *ej = NULL;
        struct before_ctx bc = {&who, &was};
        enum room_apply_result rt = src->get(src->arg, i, &txt, &tlen, &stored) != 0
                                ? ROOM_TEXT_UNREADABLE
                                : room_apply_text(t.r, txt, tlen, before_apply, &bc, &ev, &ej);
        if (rt == ROOM_TEXT_UNREADABLE) {
            if (errbuf && errsz)
                snprintf(errbuf, errsz, "event %zu is not a valid event", i + 1);
            goto fail;
        }
        if (rt != ROOM_TEXT_APPLIED || track_floor(&t, &ev, &who) || chain_push(&t, ej, stored) ||
            track_periods(&t, ev.ts)) {
            if (errbuf && errsz)
                snprintf(errbuf, errsz, "event %zu (seq %" PRIu64 ", %s) does not apply", i + 1,
                         ev.seq, proto_event_name(ev.name));
            room_event_clear(&ev);
            json_decref(ej);
            goto fail;
        }
        json_decref(ej);
        t.last_ts = ev.ts;
        if (f == TRANSCRIPT_MD)
            md_event(&t, was, &ev, &who);
        else if (f == TRANSCRIPT_CSV)
            csv_event(&t, &ev, &who, t.hash[t.nhash - 1]);
        room_event_clear(&ev);
        if (t.out.oom)
            goto oom;
    }

    if (t.nperiods && !t.periods[t.nperiods - 1].ended && t.last_ts < t.periods[t.nperiods - 1].started_at)
        t.last_ts = t.periods[t.nperiods - 1].started_at;
    if (f == TRANSCRIPT_MD) {
        md_tail(&t);
        md_balance(&t);
        md_conclusions(&t);
        md_attendance(&t);
        md_chain(&t);
    } else if (f == TRANSCRIPT_CSV) {
        csv_balance(&t);
        csv_attendance(&t);
        csv_chain(&t);
    } else if (put_json(&t, src) != 0) {
        goto oom;
    }
    if (t.out.oom || !t.out.p)
        goto oom;
    result = t.out.p;
    t.out.p = NULL;
    if (len)
        *len = t.out.len;
    goto done;
oom:
    if (errbuf && errsz)
        snprintf(errbuf, errsz, "out of memory");
fail:
done:
    free(t.out.p);
    free(t.floors);
    free(t.hash);
    free(t.periods);
    free(t.concl_text);
    room_destroy(t.r);
    return result;
}

/* A JSON array as a source: each event written out as text when asked
 * (the array form serves tests and tools; the server passes its texts). */
struct array_src {
    const json_t *events;
    char *last;
};

static int array_get(void *arg, size_t i, const char **json, size_t *len, const char **hash)
{
    struct array_src *a = arg;
    const json_t *e = json_array_get(a->events, i);
    free(a->last);
    a->last = json_is_object(e) ? json_dumps(e, JSON_COMPACT) : NULL;
    if (!a->last)
        return -1;
    *json = a->last;
    *len = strlen(a->last);
    *hash = json_string_value(json_object_get(e, "hash"));
    return 0;
}

char *transcript_render(const struct room *initial, const json_t *events,
                        enum transcript_format f, size_t *len, char *errbuf, size_t errsz)
{
    return transcript_render_opts(initial, events, f, NULL, len, errbuf, errsz);
}

char *transcript_render_opts(const struct room *initial, const json_t *events,
                             enum transcript_format f, const struct transcript_opts *opts,
                             size_t *len, char *errbuf, size_t errsz)
{
    struct array_src a = {events, NULL};
    struct transcript_source src = {json_array_size(events), array_get, &a};
    char *out;
    if (!json_is_array(events)) {
        if (errbuf && errsz)
            snprintf(errbuf, errsz, "events must be an array");
        if (len)
            *len = 0;
        return NULL;
    }
    out = transcript_render_source(initial, &src, f, opts, len, errbuf, errsz);
    free(a.last);
    return out;
}
