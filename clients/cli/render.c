/*
 * render.c: text views of a room (render.h).
 */
#include "render.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "projection.h"
#include "roomstate.h"

#define LINE_MAX_BYTES 4096

static const char *str(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

static long long num(const json_t *j, const char *key)
{
    return (long long)json_integer_value(json_object_get(j, key));
}

/* Appends printf output to out (bounded; always NUL-terminated). */
static void add(char *out, size_t sz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *out, size_t sz, const char *fmt, ...)
{
    size_t n = strlen(out);
    if (n + 1 >= sz)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, sz - n, fmt, ap);
    va_end(ap);
}

void render_clock(char *out, size_t sz, int64_t ms)
{
    if (ms < 0)
        ms = -ms;
    int64_t s = ms / 1000;
    if (s >= 3600)
        snprintf(out, sz, "%" PRId64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
    else
        snprintf(out, sz, "%d:%02d", (int)(s / 60), (int)(s % 60));
}

static void clock_of(char *out, size_t sz, int64_t ts_ms)
{
    time_t t = (time_t)(ts_ms / 1000);
    struct tm tm;
    if (ts_ms <= 0 || !localtime_r(&t, &tm))
        snprintf(out, sz, "--:--:--");
    else
        strftime(out, sz, "%H:%M:%S", &tm);
}

/* "Name (Delegation)" for a participant, request, floor or message author. */
static void who_of(char *out, size_t sz, const json_t *p, const char *fallback)
{
    const char *name = str(p, "name"), *del = str(p, "delegation");
    if (!*name)
        snprintf(out, sz, "%s", fallback && *fallback ? fallback : "someone");
    else if (*del && strcmp(del, name) != 0)
        snprintf(out, sz, "%s (%s)", name, del);
    else
        snprintf(out, sz, "%s", name);
}

static void who_sub(char *out, size_t sz, const struct roomstate *rs, const char *sub)
{
    who_of(out, sz, roomstate_person(rs, sub), sub);
}

static const char *kind_text(const char *kind)
{
    if (strcmp(kind, "point_of_order") == 0)
        return "point of order";
    if (strcmp(kind, "reply") == 0)
        return "right of reply";
    return *kind ? kind : "speech";
}

static void event_text(const struct roomstate *rs, const json_t *ev, char *out, size_t sz)
{
    const char *name = str(ev, "name"), *actor = str(ev, "actor");
    const json_t *data = json_object_get(ev, "data");
    const char *sub = str(data, "sub");
    char who[400], by[400] = "", t[32];
    if (*actor)
        who_sub(by, sizeof by, rs, actor);
    if (strcmp(name, "floor_requested") == 0) {
        const json_t *r = json_object_get(data, "request");
        who_of(who, sizeof who, r, str(r, "sub"));
        add(out, sz, "%s asks for the floor: %s", who, kind_text(str(r, "kind")));
        if (*str(r, "lang"))
            add(out, sz, " (in %s)", str(r, "lang"));
        add(out, sz, " [%s]", str(r, "id"));
    } else if (strcmp(name, "request_withdrawn") == 0 || strcmp(name, "request_removed") == 0) {
        const char *rid = str(data, "request_id");
        bool withdrawn = strcmp(name, "request_withdrawn") == 0;
        who_of(who, sizeof who, roomstate_request(rs, rid), rid);
        add(out, sz, "%s's request [%s] %s", who, rid,
            withdrawn ? "withdrawn" : "removed from the list");
        if (!withdrawn && *by)
            add(out, sz, " by %s", by);
    } else if (strcmp(name, "request_moved") == 0) {
        const char *rid = str(data, "request_id");
        who_of(who, sizeof who, roomstate_request(rs, rid), rid);
        add(out, sz, "%s's request [%s] moved to position %lld", who, rid, num(data, "to") + 1);
    } else if (strcmp(name, "floor_granted") == 0) {
        const json_t *f = json_object_get(data, "floor");
        who_of(who, sizeof who, f, str(f, "sub"));
        render_clock(t, sizeof t, num(f, "limit_s") * 1000);
        add(out, sz, "%s has the floor: %s, %s", who, kind_text(str(f, "kind")), t);
    } else if (strcmp(name, "floor_ended") == 0) {
        who_sub(who, sizeof who, rs, sub);
        render_clock(t, sizeof t, num(data, "spoken_ms"));
        const char *reason = str(data, "reason");
        add(out, sz, "%s's floor ended after %s (%s)", who, t,
            strcmp(reason, "yielded") == 0 ? "yielded"
            : strcmp(reason, "time") == 0 ? "time" : strcmp(reason, "superseded") == 0
            ? "floor given to the next speaker" : "ended by the chair");
    } else if (strcmp(name, "timer_paused") == 0) {
        add(out, sz, "clock paused%s%s", *by ? " by " : " (the speaker disconnected)", by);
    } else if (strcmp(name, "timer_resumed") == 0) {
        add(out, sz, "clock resumed%s%s", *by ? " by " : "", by);
    } else if (strcmp(name, "time_extended") == 0) {
        add(out, sz, "%lld s more for the speaker", num(data, "seconds"));
    } else if (strcmp(name, "time_up") == 0) {
        who_sub(who, sizeof who, rs, sub);
        add(out, sz, "time is up for %s", who);
    } else if (strcmp(name, "list_opened") == 0 || strcmp(name, "list_closed") == 0) {
        add(out, sz, "speakers list %s", strcmp(name, "list_opened") == 0 ? "opened" : "closed");
    } else if (strcmp(name, "participant_muted") == 0 || strcmp(name, "participant_unmuted") == 0 ||
               strcmp(name, "participant_removed") == 0) {
        who_sub(who, sizeof who, rs, sub);
        add(out, sz, "%s %s", who, name + strlen("participant_"));
        if (*by)
            add(out, sz, " by %s", by);
    } else if (strcmp(name, "role_changed") == 0) {
        who_sub(who, sizeof who, rs, sub);
        add(out, sz, "%s is now %s", who, str(data, "role"));
    } else if (strcmp(name, "message") == 0) {
        const json_t *from = json_object_get(data, "from");
        who_of(who, sizeof who, from, str(from, "sub"));
        if (strcmp(str(data, "kind"), "announcement") == 0)
            add(out, sz, "ANNOUNCEMENT from %s: %s", who, str(data, "text"));
        else
            add(out, sz, "%s: %s", who, str(data, "text"));
    } else if (strcmp(name, "agenda_item_set") == 0) {
        const char *item = str(data, "item");
        const char *title = "";
        size_t i;
        const json_t *a;
        json_array_foreach(json_object_get(rs->room, "agenda"), i, a)
            if (strcmp(str(a, "id"), item) == 0)
                title = str(a, "title");
        add(out, sz, "agenda item %s%s%s", item, *title ? ": " : "", title);
    } else if (strcmp(name, "status_changed") == 0) {
        add(out, sz, "the meeting is now %s", str(data, "status"));
    } else if (strcmp(name, "statement_deposited") == 0) {
        /* contract 9.4: the size only; the text is under embargo */
        who_sub(who, sizeof who, rs, sub);
        add(out, sz, "%s handed in a written statement (%lld characters) for %s", who,
            (long long)num(data, "chars"), str(data, "request_id"));
    } else if (strcmp(name, "statement_published") == 0) {
        who_of(who, sizeof who, data, sub);
        add(out, sz, "STATEMENT of %s (%s): %s", who,
            json_is_true(json_object_get(data, "delivered")) ? "as delivered" : "circulated in writing",
            str(data, "text"));
    } else if (strcmp(name, "conclusions_published") == 0) {
        const json_t *from = json_object_get(data, "from");
        who_of(who, sizeof who, from, str(from, "sub"));
        add(out, sz, "CONCLUSIONS by %s (record fingerprint %.16s): %s", who,
            str(data, "record_hash"), str(data, "text"));
    } else if (strcmp(name, "schedule_changed") == 0) {
        const json_t *sc = json_object_get(data, "schedule");
        char from[32], to[32];
        if (!json_is_object(sc)) {
            add(out, sz, "the schedule was removed");
        } else {
            clock_of(from, sizeof from, num(sc, "starts_at"));
            clock_of(to, sizeof to, num(sc, "ends_at"));
            add(out, sz, "schedule: %s to %s (local time; the meeting's zone is %s)", from, to,
                str(sc, "time_zone"));
        }
    } else if (strcmp(name, "agenda_changed") == 0) {
        size_t i;
        const json_t *a;
        add(out, sz, "agenda changed:");
        json_array_foreach(json_object_get(data, "agenda"), i, a) {
            char planned[32];
            add(out, sz, "%s %s", i ? "," : "", str(a, "id"));
            if (json_is_integer(json_object_get(a, "planned_s"))) {
                render_clock(planned, sizeof planned, num(a, "planned_s") * 1000);
                add(out, sz, " (%s%s)", planned,
                    json_is_true(json_object_get(a, "reserved")) ? ", reserved" : "");
            }
        }
    } else if (strcmp(name, "token_revoked") == 0) {
        /* Which token is not said on the wire (docs/protocol.md). */
        add(out, sz, "a token of this room was revoked");
    } else if (strcmp(name, "settings_changed") == 0) {
        const json_t *old = json_object_get(rs->room, "settings");
        const char *k;
        const json_t *v;
        add(out, sz, "settings changed:");
        /* The values that changed; all of them when the replica has
         * already moved on (events replayed from a welcome). */
        size_t before = strlen(out);
        for (int pass = 0; pass < 2 && strlen(out) == before; pass++) {
            json_object_foreach((json_t *)json_object_get(data, "settings"), k, v) {
                if (pass == 0 && json_equal((json_t *)v, json_object_get(old, k)))
                    continue;
                char *val = json_dumps(v, JSON_ENCODE_ANY);
                add(out, sz, " %s=%s", k, val ? val : "?");
                free(val);
            }
        }
    } else {
        char *d = json_dumps(data, JSON_COMPACT);
        add(out, sz, "%s %s", name, d ? d : "");
        free(d);
    }
}

void render_line(const struct roomstate *rs, const json_t *msg, char *out, size_t sz)
{
    const char *type = str(msg, "type");
    char who[400], t[32];
    out[0] = '\0';
    if (strcmp(type, "event") == 0) {
        clock_of(t, sizeof t, num(msg, "ts"));
        add(out, sz, "#%lld %s ", num(msg, "seq"), t);
        event_text(rs, msg, out, sz);
    } else if (strcmp(type, "presence") == 0) {
        const json_t *p = json_object_get(msg, "participant");
        if (!p) {
            add(out, sz, "observers: %lld", num(msg, "observers"));
            return;
        }
        who_of(who, sizeof who, p, str(p, "sub"));
        const char *action = str(msg, "action");
        if (strcmp(action, "join") == 0)
            add(out, sz, "+ %s [%s] is online", who, str(p, "role"));
        else if (strcmp(action, "leave") == 0 && num(p, "connections") == 0)
            add(out, sz, "- %s [%s] is offline", who, str(p, "role"));
        else
            add(out, sz, "~ %s [%s]: %lld connection%s%s", who, str(p, "role"),
                num(p, "connections"), num(p, "connections") == 1 ? "" : "s",
                json_is_true(json_object_get(p, "muted")) ? ", muted" : "");
    } else if (strcmp(type, "welcome") == 0) {
        const json_t *room = json_object_get(msg, "room"), *you = json_object_get(msg, "you");
        who_of(who, sizeof who, you, str(you, "sub"));
        add(out, sz, "joined %s \"%s\" as %s [%s]; seq %lld, %zu participants, %lld observers%s",
            str(room, "id"), str(room, "title"), who, str(you, "role"), num(msg, "seq"),
            json_array_size(json_object_get(msg, "participants")), num(msg, "observers"),
            json_is_true(json_object_get(msg, "resumed")) ? " (resumed)" : "");
    } else if (strcmp(type, "ack") == 0) {
        add(out, sz, "ok %s seq %lld", str(msg, "id"), num(msg, "seq"));
    } else if (strcmp(type, "error") == 0) {
        add(out, sz, "refused %s: %s: %s", *str(msg, "id") ? str(msg, "id") : "-",
            str(msg, "code"), str(msg, "message"));
    } else if (strcmp(type, "pong") == 0) {
        clock_of(t, sizeof t, num(msg, "ts"));
        add(out, sz, "pong (server time %s)", t);
    } else {
        char *d = json_dumps(msg, JSON_COMPACT);
        add(out, sz, "%s", d ? d : "?");
        free(d);
    }
}

/* ---- summary ---- */

static void floor_text(const struct roomstate *rs, int64_t now_ms, char *out, size_t sz)
{
    const json_t *f = json_object_get(rs->room, "floor");
    char who[400], t[32];
    out[0] = '\0';
    if (!json_is_object(f)) {
        add(out, sz, "nobody has the floor");
        return;
    }
    who_of(who, sizeof who, f, str(f, "sub"));
    int64_t left = roomstate_floor_left_ms(rs, now_ms);
    /* Round up while counting down, so "0:00" means the time is spent. */
    render_clock(t, sizeof t, left > 0 ? left + 999 : left);
    add(out, sz, "%s, %s: %s %s", who, kind_text(str(f, "kind")), t,
        left > 0 ? "left" : "OVER TIME");
    if (json_is_true(json_object_get(f, "paused")))
        add(out, sz, " [clock paused]");
}

/* "about N min" until ms from now, as the browser client says it. */
static void about(char *out, size_t sz, int64_t ms)
{
    long long min = ms > 0 ? (long long)((ms + 30000) / 60000) : 0;
    if (min < 1)
        snprintf(out, sz, "in under a minute");
    else
        snprintf(out, sz, "about %lld min", min);
}

/* One entry of the list: position, id, who, kind; with the projection
 * (contract 9.2), when it is expected and whether it is at risk. */
static void request_text(const json_t *r, size_t pos, const struct projection *p, int64_t now_ms,
                         char *out, size_t sz)
{
    char who[400], when[64];
    who_of(who, sizeof who, r, str(r, "sub"));
    snprintf(out, sz, "%3zu. [%s] %s, %s", pos + 1, str(r, "id"), who, kind_text(str(r, "kind")));
    if (*str(r, "lang"))
        add(out, sz, " (in %s)", str(r, "lang"));
    if (p && pos < p->n && strcmp(p->items[pos].id, str(r, "id")) == 0) {
        about(when, sizeof when, p->items[pos].eta_ms - now_ms);
        add(out, sz, " - %s%s", when,
            p->items[pos].at_risk ? " - may not be reached in this segment" : "");
    }
}

/* The segment line (contract 9.2): when the segment ends, when the list
 * ends, the overrun and the limit that fits. Empty without a segment end. */
static void segment_text(const struct projection *p, char *out, size_t sz)
{
    char e[32], l[32], o[32], fit[32];
    out[0] = '\0';
    if (!p || !p->has_segment_end)
        return;
    clock_of(e, sizeof e, p->segment_end_ms);
    clock_of(l, sizeof l, p->list_end_ms);
    add(out, sz, "segment ends %s; the list ends %s", e, l);
    if (p->overrun_ms > 0) {
        render_clock(o, sizeof o, p->overrun_ms);
        add(out, sz, ", %s over", o);
        if (p->fit_s) {
            render_clock(fit, sizeof fit, (int64_t)p->fit_s * 1000);
            add(out, sz, " (at %s per speech the list fits)", fit);
        }
    } else {
        add(out, sz, ", within the segment");
    }
}

void render_snapshot(FILE *f, const struct roomstate *rs, int64_t now_ms)
{
    const json_t *room = rs->room, *st = json_object_get(room, "settings");
    char line[LINE_MAX_BYTES], t1[32], t2[32], t3[32];
    size_t i;
    const json_t *v;
    fprintf(f, "Room %s: \"%s\" [%s], seq %" PRIu64 "\n", str(room, "id"), str(room, "title"),
            str(room, "status"), rs->seq);
    fprintf(f, "Agenda:%s\n", json_array_size(json_object_get(room, "agenda")) ? "" : " (none)");
    json_array_foreach(json_object_get(room, "agenda"), i, v)
        fprintf(f, "  %s %s  %s\n", strcmp(str(v, "id"), str(room, "agenda_item")) == 0 ? "*" : " ",
                str(v, "id"), str(v, "title"));
    floor_text(rs, now_ms, line, sizeof line);
    fprintf(f, "Floor: %s\n", line);
    struct projection p;
    bool projected = projection_compute(room, now_ms, &p) == 0;
    segment_text(projected ? &p : NULL, line, sizeof line);
    if (line[0])
        fprintf(f, "Segment: %s\n", line);
    const json_t *q = json_object_get(room, "queue");
    fprintf(f, "Speakers list (%s, %zu waiting):\n",
            json_is_false(json_object_get(st, "list_open")) ? "closed" : "open", json_array_size(q));
    json_array_foreach(q, i, v) {
        request_text(v, i, projected ? &p : NULL, now_ms, line, sizeof line);
        fprintf(f, "%s\n", line);
    }
    projection_clear(&p);
    size_t online = 0;
    const char *k;
    json_object_foreach(rs->people, k, v)
        online += json_is_true(json_object_get(v, "online"));
    fprintf(f, "Participants (%zu online of %zu; %lld observers):\n", online,
            json_object_size(rs->people), rs->observers);
    json_object_foreach(rs->people, k, v) {
        char who[400];
        who_of(who, sizeof who, v, k);
        fprintf(f, "  %-16s %s, %s, %s%s\n", k, who, str(v, "role"),
                json_is_true(json_object_get(v, "online")) ? "online" : "offline",
                json_is_true(json_object_get(v, "muted")) ? ", muted" : "");
    }
    render_clock(t1, sizeof t1, num(st, "speech_s") * 1000);
    render_clock(t2, sizeof t2, num(st, "reply_s") * 1000);
    render_clock(t3, sizeof t3, num(st, "point_of_order_s") * 1000);
    fprintf(f, "Settings: speech %s, reply %s, point of order %s; at time up: %s; chat: %s; "
               "queue order: %s; %lld replies per item; pause on disconnect: %s\n",
            t1, t2, t3, str(st, "on_time_up"), str(st, "chat"), str(st, "queue_order"),
            num(st, "replies_per_item"),
            json_is_true(json_object_get(st, "pause_on_disconnect")) ? "yes" : "no");
    const json_t *stats = json_object_get(room, "stats");
    if (json_object_size(stats)) {
        fprintf(f, "Speaking time:\n");
        json_object_foreach((json_t *)stats, k, v) {
            char who[400];
            who_sub(who, sizeof who, rs, k);
            render_clock(t1, sizeof t1, num(v, "spoken_ms"));
            fprintf(f, "  %s: %s in %lld turn%s\n", who, t1, num(v, "turns"),
                    num(v, "turns") == 1 ? "" : "s");
        }
    }
}

/* ---- full screen ---- */

/* Writes s cut to cols code points (approximating one column each), and
 * clears the rest of the terminal line. */
static void put_line(FILE *f, const char *s, int cols)
{
    int n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < cols) {
        const unsigned char *start = p++;
        while ((*p & 0xC0) == 0x80)
            p++;
        if (*start >= 0x20 || (*start & 0x80))
            fwrite(start, 1, (size_t)(p - start), f);
        else
            fputc(' ', f);
        n++;
    }
    fputs("\x1b[K\n", f);
}

void render_screen(FILE *f, const struct roomstate *rs, int rows, int cols, int64_t now_ms,
                   const char *footer)
{
    const json_t *room = rs->room;
    char line[LINE_MAX_BYTES];
    int used = 0;
    size_t i;
    const json_t *v;
    if (rows < 8)
        rows = 8;
    if (cols < 20)
        cols = 20;
    fputs("\x1b[H", f);
    snprintf(line, sizeof line, "%s  [%s]  seq %" PRIu64 "  %lld observers", str(room, "title"),
             str(room, "status"), rs->seq, rs->observers);
    fputs("\x1b[1m", f);
    put_line(f, line, cols);
    fputs("\x1b[0m", f);
    used++;
    const char *item = str(room, "agenda_item");
    line[0] = '\0';
    json_array_foreach(json_object_get(room, "agenda"), i, v)
        if (strcmp(str(v, "id"), item) == 0)
            snprintf(line, sizeof line, "Agenda item %s: %s", item, str(v, "title"));
    put_line(f, line, cols);
    put_line(f, "", cols);
    used += 2;
    floor_text(rs, now_ms, line, sizeof line);
    bool over = roomstate_floor_left_ms(rs, now_ms) <= 0 &&
                json_is_object(json_object_get(room, "floor"));
    fprintf(f, "%s", over ? "\x1b[7m" : "\x1b[1m");
    char fl[LINE_MAX_BYTES + 16];
    snprintf(fl, sizeof fl, "FLOOR  %s", line);
    put_line(f, fl, cols);
    fputs("\x1b[0m", f);
    struct projection p;
    bool projected = projection_compute(room, now_ms, &p) == 0;
    segment_text(projected ? &p : NULL, line, sizeof line);
    if (line[0]) {
        snprintf(fl, sizeof fl, "SEGMENT  %s", line);
        put_line(f, fl, cols);
        used++;
    }
    put_line(f, "", cols);
    used += 2;
    const json_t *q = json_object_get(room, "queue");
    const json_t *st = json_object_get(room, "settings");
    snprintf(line, sizeof line, "SPEAKERS LIST (%s, %zu waiting)",
             json_is_false(json_object_get(st, "list_open")) ? "closed" : "open", json_array_size(q));
    put_line(f, line, cols);
    used++;
    int list_rows = (rows - used - 4) / 2;
    json_array_foreach(q, i, v) {
        if ((int)i >= list_rows - 1 && i + 1 < json_array_size(q)) {
            snprintf(line, sizeof line, "     ... and %zu more", json_array_size(q) - i);
            put_line(f, line, cols);
            used++;
            break;
        }
        request_text(v, i, projected ? &p : NULL, now_ms, line, sizeof line);
        put_line(f, line, cols);
        used++;
    }
    projection_clear(&p);
    put_line(f, "", cols);
    put_line(f, "MESSAGES", cols);
    used += 2;
    int msg_rows = rows - used - 1;
    size_t n = json_array_size(rs->messages);
    size_t first = msg_rows > 0 && n > (size_t)msg_rows ? n - (size_t)msg_rows : 0;
    for (i = first; i < n; i++) {
        const json_t *ev = json_array_get(rs->messages, i);
        char t[32];
        clock_of(t, sizeof t, num(ev, "ts"));
        snprintf(line, sizeof line, "%s  ", t);
        event_text(rs, ev, line, sizeof line);
        put_line(f, line, cols);
        used++;
    }
    for (; used < rows - 1; used++)
        put_line(f, "", cols);
    /* The footer is the last row: no line feed after it, or the terminal
     * would scroll the header away. */
    snprintf(line, sizeof line, "%.*s", cols, footer ? footer : "");
    fprintf(f, "\x1b[2m%s\x1b[0m\x1b[K", line);
    fflush(f);
}
