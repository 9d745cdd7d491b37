/*
 * projection.c: contract section 9.2 in C (the same in
 * clients/web/js/projection.js; protocol/projection-vectors.json keeps the
 * two honest).
 *
 * The rules, with the decisions the contract leaves open (docs/protocol.md
 * "The projection"):
 * - R = max(0, limit_s*1000 - elapsed), elapsed = elapsed_ms + (paused ? 0 :
 *   max(0, now - started_at)): a clock behind started_at counts as zero.
 * - The list starts at now; while the meeting is scheduled, at the
 *   scheduled start if that is later (nobody speaks before the meeting).
 * - eta_i = start + R + (floor ? C : 0) + sum_{j<i} (L(kind_j) + C).
 * - E = item start + planned_s of the current item when it has planned_s
 *   (the item start is agenda_item_started_at, or while scheduled the
 *   scheduled start); otherwise, with a schedule, ends_at minus the
 *   planned_s of every reserved item after the current one (of every
 *   reserved item when there is no current item); otherwise none.
 * - list end: the end of the last request; with an empty list, the end of
 *   the floor (start + R). Overrun: max(0, list end - E).
 * - The limit that fits: the largest whole s in [30, 7200] such that with
 *   every waiting speech at s the last request ends by E; none without E,
 *   without a waiting speech, or when 30 s does not fit.
 */
#include "projection.h"

#include <stdlib.h>
#include <string.h>

/* Every time and duration read is bounded, so that the sums below stay far
 * from overflow (2^53 ms, as the room bounds them). */
#define PROJ_MAX_MS (INT64_C(1) << 53)

static bool get_ms(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > PROJ_MAX_MS)
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* An optional integer setting with a default when absent. */
static bool get_setting(const json_t *settings, const char *k, int64_t def, int64_t max,
                        int64_t *out)
{
    const json_t *v = json_object_get(settings, k);
    if (!v) {
        *out = def;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

struct limits {
    int64_t speech, reply, point_of_order, changeover; /* ms */
};

static int64_t limit_of(const struct limits *l, const char *kind)
{
    if (kind && strcmp(kind, "reply") == 0)
        return l->reply;
    if (kind && strcmp(kind, "point_of_order") == 0)
        return l->point_of_order;
    return l->speech;
}

/* E, the segment end. Returns false when there is none. */
static bool segment_end(const json_t *room, bool scheduled, bool has_sched, int64_t sched_start,
                        int64_t sched_end, int64_t *out)
{
    const json_t *agenda = json_object_get(room, "agenda");
    const char *cur = json_string_value(json_object_get(room, "agenda_item"));
    size_t ci = (size_t)-1;
    for (size_t i = 0; cur && i < json_array_size(agenda); i++)
        if (json_is_string(json_object_get(json_array_get(agenda, i), "id")) &&
            strcmp(json_string_value(json_object_get(json_array_get(agenda, i), "id")), cur) == 0)
            ci = i;
    if (ci != (size_t)-1) {
        const json_t *item = json_array_get(agenda, ci);
        const json_t *planned = json_object_get(item, "planned_s");
        int64_t started;
        if (json_is_integer(planned) && json_integer_value(planned) > 0 &&
            json_integer_value(planned) <= PROTO_MAX_PLANNED_S) {
            int64_t p = (int64_t)json_integer_value(planned) * 1000;
            if (get_ms(room, "agenda_item_started_at", &started)) {
                *out = started + p;
                return true;
            }
            if (scheduled && has_sched) {
                *out = sched_start + p;
                return true;
            }
        }
    }
    if (!has_sched)
        return false;
    int64_t e = sched_end;
    for (size_t i = ci == (size_t)-1 ? 0 : ci + 1; i < json_array_size(agenda); i++) {
        const json_t *item = json_array_get(agenda, i);
        const json_t *planned = json_object_get(item, "planned_s");
        if (json_is_true(json_object_get(item, "reserved")) && json_is_integer(planned) &&
            json_integer_value(planned) > 0 && json_integer_value(planned) <= PROTO_MAX_PLANNED_S)
            e -= (int64_t)json_integer_value(planned) * 1000;
    }
    *out = e;
    return true;
}

int projection_compute(const json_t *room, int64_t now, struct projection *out)
{
    const json_t *settings, *queue, *floor, *sched;
    struct limits l;
    int64_t v, sched_start = 0, sched_end = 0, t, nonspeech = 0;
    bool has_sched = false, scheduled;
    size_t n, speeches = 0;

    memset(out, 0, sizeof *out);
    if (!json_is_object(room) || now < 0 || now > PROJ_MAX_MS)
        return -1;
    settings = json_object_get(room, "settings");
    queue = json_object_get(room, "queue");
    floor = json_object_get(room, "floor");
    if (!json_is_object(settings) || !json_is_array(queue))
        return -1;
    if (!get_setting(settings, "speech_s", 180, 86400, &v))
        return -1;
    l.speech = v * 1000;
    if (!get_setting(settings, "reply_s", 60, 86400, &v))
        return -1;
    l.reply = v * 1000;
    if (!get_setting(settings, "point_of_order_s", 60, 86400, &v))
        return -1;
    l.point_of_order = v * 1000;
    if (!get_setting(settings, "changeover_s", 15, PROTO_MAX_CHANGEOVER_S, &v))
        return -1;
    l.changeover = v * 1000;

    sched = json_object_get(room, "schedule");
    if (json_is_object(sched)) {
        if (!get_ms(sched, "starts_at", &sched_start) || !get_ms(sched, "ends_at", &sched_end))
            return -1;
        has_sched = true;
    }
    scheduled = json_is_string(json_object_get(room, "status")) &&
                strcmp(json_string_value(json_object_get(room, "status")), "scheduled") == 0;
    out->start_ms = scheduled && has_sched && sched_start > now ? sched_start : now;

    if (json_is_object(floor)) {
        int64_t limit, elapsed, started;
        if (!get_ms(floor, "limit_s", &limit) || limit > 86400 ||
            !get_ms(floor, "elapsed_ms", &elapsed) || !get_ms(floor, "started_at", &started))
            return -1;
        if (!json_is_true(json_object_get(floor, "paused")) && now > started)
            elapsed += now - started;
        out->remaining_ms = limit * 1000 > elapsed ? limit * 1000 - elapsed : 0;
    } else if (floor && !json_is_null(floor)) {
        return -1;
    }

    n = json_array_size(queue);
    if (n) {
        out->items = calloc(n, sizeof *out->items);
        if (!out->items)
            return -1;
    }
    t = out->start_ms + out->remaining_ms + (json_is_object(floor) ? l.changeover : 0);
    for (size_t i = 0; i < n; i++) {
        const json_t *q = json_array_get(queue, i);
        const char *id = json_string_value(json_object_get(q, "id"));
        const char *kind = json_string_value(json_object_get(q, "kind"));
        struct projection_item *it = &out->items[i];
        if (!id || strlen(id) > PROTO_MAX_REQUEST_ID) {
            projection_clear(out);
            return -1;
        }
        memcpy(it->id, id, strlen(id) + 1);
        if (i)
            t += l.changeover;
        it->eta_ms = t;
        t += limit_of(&l, kind);
        it->end_ms = t;
        if (kind && strcmp(kind, "speech") != 0)
            nonspeech += limit_of(&l, kind);
        else
            speeches++;
    }
    out->n = n;
    out->list_end_ms = n ? out->items[n - 1].end_ms : out->start_ms + out->remaining_ms;

    out->has_segment_end =
        segment_end(room, scheduled, has_sched, sched_start, sched_end, &out->segment_end_ms);
    if (!out->has_segment_end)
        return 0;
    for (size_t i = 0; i < n; i++)
        out->items[i].at_risk = out->items[i].end_ms > out->segment_end_ms;
    out->has_overrun = true;
    out->overrun_ms = out->list_end_ms > out->segment_end_ms
                          ? out->list_end_ms - out->segment_end_ms
                          : 0;
    if (speeches) {
        /* the list's end with every speech at 0 s, then room per speech */
        int64_t base = out->start_ms + out->remaining_ms +
                       (json_is_object(floor) ? l.changeover : 0) + nonspeech +
                       (int64_t)(n - 1) * l.changeover;
        int64_t avail = out->segment_end_ms - base;
        int64_t s = avail >= 0 ? avail / (1000 * (int64_t)speeches) : -1;
        if (s >= PROJECTION_MIN_FIT_S)
            out->fit_s = (int)(s > PROJECTION_MAX_FIT_S ? PROJECTION_MAX_FIT_S : s);
    }
    return 0;
}

void projection_clear(struct projection *p)
{
    if (!p)
        return;
    free(p->items);
    memset(p, 0, sizeof *p);
}

json_t *projection_json(const struct projection *p)
{
    json_t *q = json_array();
    for (size_t i = 0; q && i < p->n; i++) {
        if (json_array_append_new(q, json_pack("{s:s, s:I, s:I, s:b}", "id", p->items[i].id,
                                               "eta", (json_int_t)p->items[i].eta_ms, "end",
                                               (json_int_t)p->items[i].end_ms, "at_risk",
                                               (int)p->items[i].at_risk))) {
            json_decref(q);
            return NULL;
        }
    }
    if (!q)
        return NULL;
    return json_pack("{s:I, s:I, s:o, s:I, s:o, s:o, s:o}", "start", (json_int_t)p->start_ms,
                     "remaining_ms", (json_int_t)p->remaining_ms, "segment_end",
                     p->has_segment_end ? json_integer((json_int_t)p->segment_end_ms)
                                        : json_null(),
                     "list_end", (json_int_t)p->list_end_ms, "overrun_ms",
                     p->has_overrun ? json_integer((json_int_t)p->overrun_ms) : json_null(),
                     "fit_s", p->fit_s ? json_integer(p->fit_s) : json_null(), "queue", q);
}
