/*
 * test_transcript: a small meeting, decided and committed with the real
 * room logic, rendered as JSON, Markdown and CSV, with exact checks of the
 * lines that matter (CSV header and rows, the minutes' headings and
 * speaking-time tables, the JSON totals).
 */
#include "transcript.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

/* 2026-07-01T10:00:00Z */
#define T0 INT64_C(1782900000000)
#define AT(m, s) (T0 + ((int64_t)(m) * 60 + (s)) * 1000)

static struct room_actor actor(const char *sub, const char *name, const char *deleg,
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

struct meeting {
    struct room *initial;
    struct room *r;
    json_t *events;
};

static void act(struct meeting *m, const struct room_actor *a, struct proto_cmd c, int64_t now)
{
    struct room_events out;
    char err[200];
    enum proto_err e = room_decide(m->r, a, &c, now, &out, err, sizeof err);
    CHECK_INT(e, PROTO_OK);
    if (e)
        fprintf(stderr, "  %s: %s\n", proto_cmd_name(c.type), err);
    if (out.stmt_text)
        CHECK_INT(room_statement_put(m->r, out.stmt_request, out.stmt_sub, out.stmt_lang,
                                     out.stmt_text), 0);
    for (size_t i = 0; i < out.n; i++) {
        out.ev[i].seq = m->r->seq + 1;
        CHECK_INT(room_apply(m->r, &out.ev[i]), 0);
        json_array_append_new(m->events, room_event_json(m->r, &out.ev[i]));
    }
    room_events_clear(&out);
}

static void tick(struct meeting *m, int64_t now)
{
    struct room_events out;
    room_decide_clock(m->r, now, &out);
    CHECK_INT(out.n, 1);
    for (size_t i = 0; i < out.n; i++) {
        out.ev[i].seq = m->r->seq + 1;
        CHECK_INT(room_apply(m->r, &out.ev[i]), 0);
        json_array_append_new(m->events, room_event_json(m->r, &out.ev[i]));
    }
    room_events_clear(&out);
}

static struct proto_cmd cmd(enum proto_cmd_type t)
{
    struct proto_cmd c;
    memset(&c, 0, sizeof c);
    c.type = t;
    c.kind = PROTO_KIND_SPEECH;
    return c;
}

static struct proto_cmd req(enum proto_kind k)
{
    struct proto_cmd c = cmd(PROTO_CMD_REQUEST_FLOOR);
    c.kind = k;
    return c;
}

static struct proto_cmd with_id(enum proto_cmd_type t, const char *id)
{
    struct proto_cmd c = cmd(t);
    c.has_request_id = true;
    snprintf(c.request_id, sizeof c.request_id, "%s", id);
    return c;
}

static struct proto_cmd with_text(enum proto_cmd_type t, const char *text)
{
    struct proto_cmd c = cmd(t);
    c.text = (char *)text;
    return c;
}

/* The meeting:
 *   10:00:05 France speaks 2:30 and yields
 *   10:02:40 Germany speaks, superseded at 10:03:10 by a point of order
 *   10:03:10 Global NGO's point of order: time up at 10:04:10, ended 10:04:20
 *   10:05:00 an announcement; a chat message
 *   10:06:00 agenda item q2; France replies 0:40 and yields
 *   10:10:00 the meeting closes */
static void hold_meeting(struct meeting *m)
{
    char err[200];
    struct room_actor chair = actor("chair-1", "Ana Chair", "", PROTO_CAT_NONE,
                                    PROTO_ROLE_MODERATOR);
    struct room_actor fr = actor("fr", "Jean Dupont", "France", PROTO_CAT_MEMBER_STATE,
                                 PROTO_ROLE_DELEGATE);
    struct room_actor de = actor("de", "Eva Berg", "Germany", PROTO_CAT_MEMBER_STATE,
                                 PROTO_ROLE_DELEGATE);
    struct room_actor ngo = actor("ngo", "Sam \"the voice\" Lee", "Global NGO",
                                  PROTO_CAT_CIVIL_SOCIETY, PROTO_ROLE_DELEGATE);
    json_t *spec = json_loads("{\"id\":\"closing-discussion\",\"title\":\"Closing discussion\","
                              "\"agenda\":[{\"id\":\"q1\",\"title\":\"Lessons learned\"},"
                              "{\"id\":\"q2\",\"title\":\"The way forward\"}]}",
                              0, NULL);
    m->initial = room_create(spec, "ep", T0 - 60000, err, sizeof err);
    json_decref(spec);
    m->r = room_clone(m->initial);
    m->events = json_array();
    room_participant_seen(m->r, &chair);
    room_participant_seen(m->r, &fr);
    room_participant_seen(m->r, &de);
    room_participant_seen(m->r, &ngo);

    struct proto_cmd c = req(PROTO_KIND_SPEECH);
    snprintf(c.lang, sizeof c.lang, "fr");
    act(m, &fr, c, AT(0, 0));                                   /* 1 r1 */
    act(m, &de, req(PROTO_KIND_SPEECH), AT(0, 1));              /* 2 r2 */
    act(m, &chair, cmd(PROTO_CMD_GRANT), AT(0, 5));             /* 3 */
    act(m, &fr, cmd(PROTO_CMD_YIELD), AT(2, 35));               /* 4 */
    act(m, &chair, cmd(PROTO_CMD_GRANT), AT(2, 40));            /* 5 */
    act(m, &ngo, req(PROTO_KIND_POINT_OF_ORDER), AT(3, 0));     /* 6 r3 */
    act(m, &chair, with_id(PROTO_CMD_GRANT, "r3"), AT(3, 10));  /* 7, 8 */
    tick(m, AT(4, 10));                                         /* 9 time_up */
    act(m, &chair, cmd(PROTO_CMD_END_FLOOR), AT(4, 20));        /* 10 */
    act(m, &chair, with_text(PROTO_CMD_ANNOUNCE, "Coffee, then \"Q&A\"\non *q2*"),
        AT(5, 0));                                              /* 11 */
    act(m, &fr, with_text(PROTO_CMD_SAY, "Merci, Madame la Présidente"), AT(5, 30)); /* 12 */
    c = cmd(PROTO_CMD_SET_AGENDA_ITEM);
    snprintf(c.item, sizeof c.item, "q2");
    act(m, &chair, c, AT(6, 0));                                /* 13 */
    act(m, &fr, req(PROTO_KIND_REPLY), AT(6, 10));              /* 14 r4 */
    act(m, &chair, cmd(PROTO_CMD_GRANT), AT(6, 20));            /* 15 */
    act(m, &fr, cmd(PROTO_CMD_YIELD), AT(7, 0));                /* 16 */
    c = cmd(PROTO_CMD_SET_STATUS);
    c.status = PROTO_STATUS_CLOSED;
    act(m, &chair, c, AT(10, 0));                               /* 17 */
    CHECK_INT(json_array_size(m->events), 17);
}

static char *render(struct meeting *m, enum transcript_format f, size_t *len)
{
    char err[200] = "";
    char *s = transcript_render(m->initial, m->events, f, len, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        fprintf(stderr, "transcript_render: %s\n", err);
    else
        CHECK_INT(strlen(s), *len);
    return s;
}

/* Line n (0-based) of s, in a static buffer. */
static const char *line(const char *s, int n, const char *eol)
{
    static char buf[1024];
    for (int i = 0; i < n && s; i++) {
        s = strstr(s, eol);
        if (s)
            s += strlen(eol);
    }
    if (!s)
        return "(no such line)";
    const char *e = strstr(s, eol);
    size_t len = e ? (size_t)(e - s) : strlen(s);
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (; (s = strstr(s, needle)); s += strlen(needle))
        n++;
    return n;
}

#define CHECK_HAS(s, needle)                                                             \
    do {                                                                                 \
        bool check_has__ok = (s) && strstr((s), (needle)) != NULL;                       \
        CHECK(check_has__ok);                                                            \
        if (!check_has__ok)                                                              \
            fprintf(stderr, "  missing: %s\n", needle);                                  \
    } while (0)

/* Takes the hash column (section 9.6) off every row of a CSV record and
 * the chain row off its end, checking that each event row had a hash and
 * that the chain row names the last one; the rest is then compared as
 * before. Works in place. */
static void strip_hashes(char *s, size_t *len)
{
    char *w = s, *r = s, last[65] = "";
    int rows = 0;
    while (*r) {
        char *eol = strstr(r, "\r\n");
        /* a quoted field may hold a line break: a row ends at a CRLF
         * preceded by ",<64 hex>" */
        while (eol && !(eol - r >= 65 && eol[-65] == ',' && strspn(eol - 64, "0123456789abcdef") >= 64))
            eol = strstr(eol + 2, "\r\n");
        if (!eol)
            break;
        size_t keep = (size_t)(eol - 65 - r);
        if (rows == 0 || strncmp(r, ",,chain,", 8) != 0) {
            memmove(w, r, keep);
            w += keep;
            memcpy(w, "\r\n", 2);
            w += 2;
            memcpy(last, eol - 64, 64);
            last[64] = '\0';
        } else {
            CHECK(strncmp(eol - 64, last, 64) == 0);
        }
        rows++;
        r = eol + 2;
    }
    *w = '\0';
    *len = (size_t)(w - s);
}

static void test_csv(struct meeting *m)
{
    size_t len;
    char *s = render(m, TRANSCRIPT_CSV, &len);
    if (!s)
        return;
    CHECK_STR(line(s, 0, "\r\n"), "seq,time_utc,event,actor,sub,name,delegation,detail,hash");
    CHECK_HAS(s, "\r\n,,chain,,,,,epoch=ep last_seq=17,");
    /* the header has no hash: give it one so that strip_hashes reads it
     * as a row like the others */
    {
        const char *hdr = "seq,time_utc,event,actor,sub,name,delegation,detail,hash\r\n";
        char *rest = s + strlen(hdr);
        size_t n = len - strlen(hdr);
        strip_hashes(rest, &n);
        len = strlen(hdr) - strlen(",hash") + n;
        memmove(s + strlen(hdr) - strlen(",hash\r\n") + 2, rest, n + 1);
        memcpy(s + strlen(hdr) - strlen(",hash\r\n"), "\r\n", 2);
    }
    CHECK_STR(line(s, 0, "\r\n"), "seq,time_utc,event,actor,sub,name,delegation,detail");
    CHECK_STR(line(s, 1, "\r\n"), "1,2026-07-01T10:00:00.000Z,floor_requested,fr,fr,Jean Dupont,"
                                  "France,kind=speech request=r1 lang=fr");
    CHECK_STR(line(s, 3, "\r\n"), "3,2026-07-01T10:00:05.000Z,floor_granted,chair-1,fr,"
                                  "Jean Dupont,France,kind=speech request=r1 limit_s=180");
    CHECK_STR(line(s, 4, "\r\n"), "4,2026-07-01T10:02:35.000Z,floor_ended,fr,fr,Jean Dupont,"
                                  "France,reason=yielded spoken_ms=150000");
    /* a name with quotes is quoted, quotes doubled */
    CHECK_STR(line(s, 6, "\r\n"), "6,2026-07-01T10:03:00.000Z,floor_requested,ngo,ngo,"
                                  "\"Sam \"\"the voice\"\" Lee\",Global NGO,"
                                  "kind=point_of_order request=r3");
    CHECK_STR(line(s, 7, "\r\n"), "7,2026-07-01T10:03:10.000Z,floor_ended,chair-1,de,Eva Berg,"
                                  "Germany,reason=superseded spoken_ms=30000");
    /* the clock has no actor */
    CHECK_STR(line(s, 9, "\r\n"), "9,2026-07-01T10:04:10.000Z,time_up,,ngo,"
                                  "\"Sam \"\"the voice\"\" Lee\",Global NGO,");
    /* a field with a comma, quotes and a line break */
    CHECK_HAS(s, "\r\n11,2026-07-01T10:05:00.000Z,message,chair-1,chair-1,Ana Chair,,"
                 "\"announcement: Coffee, then \"\"Q&A\"\"\non *q2*\"\r\n");
    CHECK_HAS(s, "\r\n12,2026-07-01T10:05:30.000Z,message,fr,fr,Jean Dupont,France,"
                 "\"chat: Merci, Madame la Présidente\"\r\n");
    CHECK_HAS(s, "\r\n13,2026-07-01T10:06:00.000Z,agenda_item_set,chair-1,,,,item=q2\r\n");
    CHECK_HAS(s, "\r\n17,2026-07-01T10:10:00.000Z,status_changed,chair-1,,,,status=closed\r\n");
    /* the summary rows after the events: per item, then per region and per
     * category on each item and on all ("*") */
    CHECK_HAS(s, "\r\n,2026-07-01T09:59:00.000Z,item_summary,,,,,item=q1 planned_s=none "
                 "actual_s=420 reserved=no speakers=fr;de;ngo,\r\n"
                 ",2026-07-01T10:06:00.000Z,item_summary,,,,,item=q2 planned_s=none "
                 "actual_s=240 reserved=no speakers=fr,\r\n"
                 ",,region_summary,,,,,item=q1 region=none turns=3 spoken_ms=250000,\r\n"
                 ",,region_summary,,,,,item=q2 region=none turns=1 spoken_ms=40000,\r\n"
                 ",,region_summary,,,,,item=* region=none turns=4 spoken_ms=290000,\r\n"
                 ",,category_summary,,,,,item=q1 category=member_state turns=2 spoken_ms=180000,\r\n"
                 ",,category_summary,,,,,item=q1 category=civil_society turns=1 spoken_ms=70000,\r\n"
                 ",,category_summary,,,,,item=q2 category=member_state turns=1 spoken_ms=40000,\r\n"
                 ",,category_summary,,,,,item=* category=member_state turns=3 spoken_ms=220000,\r\n"
                 ",,category_summary,,,,,item=* category=civil_society turns=1 spoken_ms=70000,\r\n");
    /* 17 events + header + 10 summary rows, each line ended by CRLF (one
     * more inside row 11) */
    CHECK_INT(count(s, "\r\n"), 29); /* and the chain row */
    CHECK_INT(s[len - 1], '\n');
    free(s);
}

static void test_md(struct meeting *m)
{
    size_t len;
    char *s = render(m, TRANSCRIPT_MD, &len);
    if (!s)
        return;
    CHECK_STR(line(s, 0, "\n"), "# Closing discussion");
    CHECK_STR(line(s, 2, "\n"),
              "Record of the meeting `closing-discussion`, 1 July 2026. All times are UTC.");
    CHECK_STR(line(s, 4, "\n"), "## Agenda");
    CHECK_STR(line(s, 6, "\n"), "1. Lessons learned (`q1`)");
    CHECK_STR(line(s, 7, "\n"), "2. The way forward (`q2`)");
    CHECK_STR(line(s, 9, "\n"), "## Proceedings");
    /* speech requests and chat are not minuted; the first line is the grant */
    CHECK_STR(line(s, 11, "\n"),
              "- **10:00:05** The Chair gave the floor to the representative of France (speech).");
    CHECK_STR(line(s, 12, "\n"),
              "- **10:02:35** The representative of France yielded the floor (spoke 2:30).");
    CHECK_HAS(s, "- **10:03:00** The representative of Global NGO rose to a point of order.\n");
    CHECK_HAS(s, "- **10:03:10** The floor of the representative of Germany ended as the Chair "
                 "gave the floor to the next speaker (spoke 0:30).\n"
                 "- **10:03:10** The Chair gave the floor to the representative of Global NGO "
                 "(point of order).\n");
    CHECK_HAS(s, "- **10:04:10** The speaking time of the representative of Global NGO was up.\n");
    CHECK_HAS(s, "- **10:04:20** The Chair closed the floor of the representative of Global NGO "
                 "(spoke 1:10).\n");
    /* the announcement is quoted, its markup escaped, its lines kept */
    CHECK_HAS(s, "- **10:05:00** The Chair made an announcement:\n\n"
                 "  > Coffee, then \"Q&A\"\n  > on \\*q2\\*\n");
    CHECK(strstr(s, "Merci") == NULL);
    /* the proceedings follow the agenda: each item taken up is a heading */
    CHECK_HAS(s, "\n### Agenda item q2: The way forward\n\n"
                 "- **10:06:00** The meeting took up the item.\n");
    CHECK_HAS(s, "- **10:06:10** The representative of France asked for the right of reply.\n");
    CHECK_HAS(s, "- **10:06:20** The Chair gave the floor to the representative of France "
                 "(right of reply).\n");
    CHECK_HAS(s, "- **10:10:00** The Chair closed the meeting.\n");
    CHECK_HAS(s, "\n## Speaking time\n\n### By delegation\n\n"
                 "| Delegation | Turns | Speaking time |\n"
                 "| --- | ---: | ---: |\n"
                 "| France | 2 | 3:10 |\n"
                 "| Germany | 1 | 0:30 |\n"
                 "| Global NGO | 1 | 1:10 |\n"
                 "| **Total** | **4** | **4:50** |\n");
    CHECK_HAS(s, "\n### By speaker\n\n"
                 "| Speaker | Delegation | Turns | Speaking time |\n"
                 "| --- | --- | ---: | ---: |\n"
                 "| Jean Dupont | France | 2 | 3:10 |\n"
                 "| Eva Berg | Germany | 1 | 0:30 |\n"
                 "| Sam \"the voice\" Lee | Global NGO | 1 | 1:10 |\n");
    CHECK_INT(s[len - 1], '\n');
    free(s);
}

static void test_json(struct meeting *m)
{
    size_t len;
    char *s = render(m, TRANSCRIPT_JSON, &len);
    if (!s)
        return;
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "room"), "id")),
              "closing-discussion");
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "room"), "title")),
              "Closing discussion");
    /* the events as committed, each with its chain hash (section 9.6) */
    json_t *evs = json_object_get(j, "events");
    char h[CHAIN_HEX_BUF];
    chain_h0("closing-discussion", "ep", h);
    CHECK_INT(json_array_size(evs), json_array_size(m->events));
    for (size_t k = 0; k < json_array_size(evs); k++) {
        json_t *e = json_array_get(evs, k);
        CHECK(chain_next(h, json_array_get(m->events, k), h) == 0);
        CHECK_STR(json_string_value(json_object_get(e, "hash")), h);
        json_object_del(e, "hash");
    }
    CHECK(json_equal(evs, m->events));
    json_t *ch = json_object_get(j, "chain");
    CHECK_STR(json_string_value(json_object_get(ch, "head")), h);
    CHECK_STR(json_string_value(json_object_get(ch, "epoch")), "ep");
    CHECK_INT(json_integer_value(json_object_get(ch, "first_seq")), 1);
    CHECK_INT(json_integer_value(json_object_get(ch, "last_seq")), 17);
    CHECK(json_object_get(j, "signature") == NULL);

    json_t *floors = json_object_get(j, "floors");
    CHECK_INT(json_array_size(floors), 4);
    char *f1 = json_dumps(json_array_get(floors, 1), JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(f1, "{\"agenda_item\":\"q1\",\"category\":\"member_state\","
                  "\"delegation\":\"Germany\",\"ended_at\":1782900190000,\"kind\":\"speech\","
                  "\"name\":\"Eva Berg\",\"reason\":\"superseded\",\"region\":null,"
                  "\"spoken_ms\":30000,\"started_at\":1782900160000,\"sub\":\"de\"}");
    free(f1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(floors, 2), "kind")),
              "point_of_order");
    CHECK_STR(json_string_value(json_object_get(json_array_get(floors, 2), "reason")),
              "moderator");
    CHECK_STR(json_string_value(json_object_get(json_array_get(floors, 3), "kind")), "reply");

    char *sp = json_dumps(json_object_get(j, "speakers"), JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(sp, "[{\"delegation\":\"France\",\"name\":\"Jean Dupont\",\"spoken_ms\":190000,"
                  "\"sub\":\"fr\",\"turns\":2},"
                  "{\"delegation\":\"Germany\",\"name\":\"Eva Berg\",\"spoken_ms\":30000,"
                  "\"sub\":\"de\",\"turns\":1},"
                  "{\"delegation\":\"Global NGO\",\"name\":\"Sam \\\"the voice\\\" Lee\","
                  "\"spoken_ms\":70000,\"sub\":\"ngo\",\"turns\":1}]");
    free(sp);
    /* totals agree with the room's own stats */
    json_int_t total = 0, turns = 0;
    json_t *d;
    size_t i;
    json_array_foreach(json_object_get(j, "delegations"), i, d) {
        total += json_integer_value(json_object_get(d, "spoken_ms"));
        turns += json_integer_value(json_object_get(d, "turns"));
    }
    CHECK_INT(total, 290000);
    CHECK_INT(turns, 4);
    int64_t stats = 0;
    for (size_t k = 0; k < m->r->members_len; k++)
        stats += m->r->members[k].spoken_ms;
    CHECK_INT(total, stats);
    json_decref(j);
    free(s);
}

static void test_edges(struct meeting *m)
{
    char err[200];
    size_t len;

    CHECK_INT(transcript_format_parse("json"), TRANSCRIPT_JSON);
    CHECK_INT(transcript_format_parse("md"), TRANSCRIPT_MD);
    CHECK_INT(transcript_format_parse("csv"), TRANSCRIPT_CSV);
    CHECK_INT(transcript_format_parse("pdf"), -1);
    CHECK_INT(transcript_format_parse(NULL), -1);
    CHECK_STR(transcript_content_type(TRANSCRIPT_JSON), "application/json");
    CHECK_STR(transcript_content_type(TRANSCRIPT_MD), "text/markdown; charset=utf-8");
    CHECK_STR(transcript_content_type(TRANSCRIPT_CSV), "text/csv; charset=utf-8");

    /* an empty record */
    json_t *none = json_array();
    char *s = transcript_render(m->initial, none, TRANSCRIPT_MD, &len, err, sizeof err);
    CHECK_HAS(s, "## Proceedings\n\nNothing was recorded.\n");
    CHECK_HAS(s, "## Speaking time\n\nNobody took the floor.\n");
    free(s);
    s = transcript_render(m->initial, none, TRANSCRIPT_CSV, &len, err, sizeof err);
    {
        /* no event: the header, the items (q1 current since the creation),
         * then the chain */
        char h0[CHAIN_HEX_BUF], want[800];
        chain_h0("closing-discussion", "ep", h0);
        snprintf(want, sizeof want,
                 "seq,time_utc,event,actor,sub,name,delegation,detail,hash\r\n"
                 ",2026-07-01T09:59:00.000Z,item_summary,,,,,item=q1 planned_s=none actual_s=0 "
                 "ongoing reserved=no speakers=,\r\n"
                 ",,item_summary,,,,,item=q2 planned_s=none actual_s=none reserved=no "
                 "speakers=,\r\n"
                 ",,chain,,,,,epoch=ep last_seq=0,%s\r\n", h0);
        CHECK_STR(s, want);
    }
    free(s);
    s = transcript_render(m->initial, none, TRANSCRIPT_JSON, &len, err, sizeof err);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    CHECK_INT(json_array_size(json_object_get(j, "floors")), 0);
    CHECK_INT(json_array_size(json_object_get(j, "delegations")), 0);
    json_decref(j);
    free(s);
    json_decref(none);

    /* a floor still open at the end */
    json_t *part = json_array();
    for (size_t i = 0; i < 5; i++)
        json_array_append(part, json_array_get(m->events, i));
    s = transcript_render(m->initial, part, TRANSCRIPT_JSON, &len, err, sizeof err);
    j = s ? json_loads(s, 0, NULL) : NULL;
    json_t *last = json_array_get(json_object_get(j, "floors"), 1);
    CHECK(json_is_null(json_object_get(last, "ended_at")));
    CHECK(json_is_null(json_object_get(last, "spoken_ms")));
    CHECK_INT(json_array_size(json_object_get(j, "speakers")), 1);
    json_decref(j);
    free(s);
    s = transcript_render(m->initial, part, TRANSCRIPT_MD, &len, err, sizeof err);
    CHECK_HAS(s, "\nAt the end of this record, the representative of Germany still had the "
                 "floor.\n");
    free(s);

    /* an event that does not apply (a gap in seqs) is an error, not a guess */
    json_array_remove(part, 2);
    err[0] = '\0';
    s = transcript_render(m->initial, part, TRANSCRIPT_CSV, &len, err, sizeof err);
    CHECK(s == NULL);
    CHECK_STR(err, "event 3 (seq 4, floor_ended) does not apply");
    json_array_set_new(part, 0, json_string("nope"));
    s = transcript_render(m->initial, part, TRANSCRIPT_MD, &len, err, sizeof err);
    CHECK(s == NULL);
    CHECK_STR(err, "event 1 is not a valid event");
    json_decref(part);
    s = transcript_render(m->initial, json_object_get(m->events, "x"), TRANSCRIPT_MD, &len, err,
                          sizeof err);
    CHECK(s == NULL);

    /* the initial room is left as it was */
    CHECK_INT(m->initial->seq, 0);
    CHECK_INT(m->initial->queue_len, 0);
}

/* ---- version 1.1: planned and actual per item, regions, categories ---- */

/* A scheduled meeting with a timed agenda and a reserved closing item:
 *   09:55 Kenya asks for the floor before the meeting
 *   10:00 the Chair opens: q1 (planned 30:00) starts
 *   Kenya 3:00, France 2:00, Global NGO 1:00 on q1
 *   10:40 q2 (planned 30:00): UNODC 3:00, Kenya 1:00
 *   11:00 the closing item (15:00, reserved); 11:10 the meeting closes */
static void hold_timed_meeting(struct meeting *m)
{
    char err[200];
    struct room_actor chair = actor("chair-1", "Ana Chair", "", PROTO_CAT_NONE,
                                    PROTO_ROLE_MODERATOR);
    struct room_actor ke = actor("ke", "Wanjiru Kamau", "Kenya", PROTO_CAT_MEMBER_STATE,
                                 PROTO_ROLE_DELEGATE);
    struct room_actor fr = actor("fr", "Jean Dupont", "France", PROTO_CAT_MEMBER_STATE,
                                 PROTO_ROLE_DELEGATE);
    struct room_actor ngo = actor("ngo", "Sam Lee", "Global NGO", PROTO_CAT_CIVIL_SOCIETY,
                                  PROTO_ROLE_DELEGATE);
    struct room_actor un = actor("unodc", "Kim Park", "UNODC", PROTO_CAT_UN_ENTITY,
                                 PROTO_ROLE_DELEGATE);
    snprintf(ke.region, sizeof ke.region, "African States");
    snprintf(ngo.region, sizeof ngo.region, "African States");
    snprintf(fr.region, sizeof fr.region, "Western European and other States");
    json_t *spec = json_loads(
        "{\"id\":\"closing-discussion\",\"title\":\"Closing discussion\",\"status\":\"scheduled\","
        "\"schedule\":{\"starts_at\":1782900000000,\"ends_at\":1782907200000,"
        "\"time_zone\":\"America/New_York\"},"
        "\"agenda\":[{\"id\":\"q1\",\"title\":\"First\",\"planned_s\":1800},"
        "{\"id\":\"q2\",\"title\":\"Second\",\"planned_s\":1800},"
        "{\"id\":\"usg\",\"title\":\"Conclusions\",\"planned_s\":900,\"reserved\":true}]}",
        0, NULL);
    m->initial = room_create(spec, "ep", T0 - 3600000, err, sizeof err);
    json_decref(spec);
    CHECK(m->initial != NULL);
    m->r = room_clone(m->initial);
    m->events = json_array();
    room_participant_seen(m->r, &chair);
    room_participant_seen(m->r, &ke);
    room_participant_seen(m->r, &fr);
    room_participant_seen(m->r, &ngo);
    room_participant_seen(m->r, &un);
    struct proto_cmd st = cmd(PROTO_CMD_SET_STATUS), ai = cmd(PROTO_CMD_SET_AGENDA_ITEM);
    act(m, &ke, req(PROTO_KIND_SPEECH), AT(-5, 0));
    st.status = PROTO_STATUS_OPEN;
    act(m, &chair, st, AT(0, 0));
    act(m, &fr, req(PROTO_KIND_SPEECH), AT(0, 5));
    act(m, &chair, cmd(PROTO_CMD_GRANT), AT(0, 10));
    act(m, &ke, cmd(PROTO_CMD_YIELD), AT(3, 10));
    act(m, &ngo, req(PROTO_KIND_SPEECH), AT(3, 15));
    act(m, &chair, cmd(PROTO_CMD_GRANT), AT(3, 20));
    act(m, &fr, cmd(PROTO_CMD_YIELD), AT(5, 20));
    act(m, &chair, cmd(PROTO_CMD_GRANT), AT(5, 30));
    act(m, &chair, cmd(PROTO_CMD_END_FLOOR), AT(6, 30));
    snprintf(ai.item, sizeof ai.item, "q2");
    act(m, &chair, ai, AT(40, 0));
    act(m, &un, req(PROTO_KIND_SPEECH), AT(41, 0));
    act(m, &ke, req(PROTO_KIND_SPEECH), AT(41, 5));
    act(m, &chair, cmd(PROTO_CMD_GRANT), AT(41, 10));
    act(m, &un, cmd(PROTO_CMD_YIELD), AT(44, 10));
    act(m, &chair, cmd(PROTO_CMD_GRANT), AT(44, 20));
    act(m, &ke, cmd(PROTO_CMD_YIELD), AT(45, 20));
    snprintf(ai.item, sizeof ai.item, "usg");
    act(m, &chair, ai, AT(60, 0));
    st.status = PROTO_STATUS_CLOSED;
    act(m, &chair, st, AT(70, 0));
}

static void test_balance(void)
{
    struct meeting m;
    size_t len;
    memset(&m, 0, sizeof m);
    hold_timed_meeting(&m);

    char *s = render(&m, TRANSCRIPT_JSON, &len);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    CHECK(j != NULL);
    json_t *agenda = json_object_get(j, "agenda");
    CHECK_INT(json_array_size(agenda), 3);
    char *a0 = json_dumps(json_array_get(agenda, 0), JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(a0, "{\"actual_ms\":2400000,\"categories\":[{\"category\":\"member_state\","
                  "\"spoken_ms\":300000,\"turns\":2},{\"category\":\"civil_society\","
                  "\"spoken_ms\":60000,\"turns\":1}],\"id\":\"q1\",\"ongoing\":false,"
                  "\"periods\":[{\"ended_at\":1782902400000,\"started_at\":1782900000000}],"
                  "\"planned_s\":1800,\"regions\":[{\"region\":\"African States\","
                  "\"spoken_ms\":240000,\"turns\":2},{\"region\":\"Western European and other "
                  "States\",\"spoken_ms\":120000,\"turns\":1}],\"reserved\":false,"
                  "\"speakers\":[{\"category\":\"member_state\",\"delegation\":\"Kenya\","
                  "\"name\":\"Wanjiru Kamau\",\"region\":\"African States\",\"spoken_ms\":180000,"
                  "\"sub\":\"ke\",\"turns\":1},{\"category\":\"member_state\",\"delegation\":"
                  "\"France\",\"name\":\"Jean Dupont\",\"region\":\"Western European and other "
                  "States\",\"spoken_ms\":120000,\"sub\":\"fr\",\"turns\":1},{\"category\":"
                  "\"civil_society\",\"delegation\":\"Global NGO\",\"name\":\"Sam Lee\","
                  "\"region\":\"African States\",\"spoken_ms\":60000,\"sub\":\"ngo\",\"turns\":1}],"
                  "\"title\":\"First\"}");
    free(a0);
    json_t *q2 = json_array_get(agenda, 1);
    CHECK_INT(json_integer_value(json_object_get(q2, "actual_ms")), 1200000);
    char *r2 = json_dumps(json_object_get(q2, "regions"), JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(r2, "[{\"region\":null,\"spoken_ms\":180000,\"turns\":1},"
                  "{\"region\":\"African States\",\"spoken_ms\":60000,\"turns\":1}]");
    free(r2);
    json_t *usg = json_array_get(agenda, 2);
    CHECK(json_is_true(json_object_get(usg, "reserved")));
    CHECK_INT(json_integer_value(json_object_get(usg, "planned_s")), 900);
    CHECK_INT(json_integer_value(json_object_get(usg, "actual_ms")), 600000);
    CHECK_INT(json_array_size(json_object_get(usg, "speakers")), 0);
    char *tr = json_dumps(json_object_get(j, "regions"), JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(tr, "[{\"region\":\"African States\",\"spoken_ms\":300000,\"turns\":3},"
                  "{\"region\":\"Western European and other States\",\"spoken_ms\":120000,"
                  "\"turns\":1},{\"region\":null,\"spoken_ms\":180000,\"turns\":1}]");
    free(tr);
    char *tc = json_dumps(json_object_get(j, "categories"), JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(tc, "[{\"category\":\"member_state\",\"spoken_ms\":360000,\"turns\":3},"
                  "{\"category\":\"civil_society\",\"spoken_ms\":60000,\"turns\":1},"
                  "{\"category\":\"un_entity\",\"spoken_ms\":180000,\"turns\":1}]");
    free(tc);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "schedule"), "time_zone")),
              "America/New_York");
    json_t *f0 = json_array_get(json_object_get(j, "floors"), 0);
    CHECK_STR(json_string_value(json_object_get(f0, "region")), "African States");
    CHECK_STR(json_string_value(json_object_get(f0, "agenda_item")), "q1");
    json_decref(j);
    free(s);

    s = render(&m, TRANSCRIPT_MD, &len);
    CHECK_HAS(s, "1. First (`q1`, planned 30:00)\n2. Second (`q2`, planned 30:00)\n"
                 "3. Conclusions (`usg`, planned 15:00, reserved)\n\n"
                 "Scheduled from 10:00:00 to 12:00:00 UTC on 1 July 2026 (meeting time zone "
                 "America/New_York).\n");
    CHECK_HAS(s, "- **10:00:00** The meeting opened.\n");
    CHECK_HAS(s, "\n## Agenda items: planned and actual\n\n"
                 "| Item | Planned | Actual | Speakers |\n"
                 "| --- | ---: | ---: | --- |\n"
                 "| First (`q1`) | 30:00 | 40:00 | Kenya (1, 3:00); France (1, 2:00); "
                 "Global NGO (1, 1:00) |\n"
                 "| Second (`q2`) | 30:00 | 20:00 | UNODC (1, 3:00); Kenya (1, 1:00) |\n"
                 "| Conclusions (`usg`, reserved) | 15:00 | 10:00 | — |\n");
    CHECK_HAS(s, "\n## Turns and speaking time by region\n\n"
                 "| Region | Agenda item | Turns | Speaking time |\n"
                 "| --- | --- | ---: | ---: |\n"
                 "| African States | q1 | 2 | 4:00 |\n"
                 "| Western European and other States | q1 | 1 | 2:00 |\n"
                 "| (no region) | q2 | 1 | 3:00 |\n"
                 "| African States | q2 | 1 | 1:00 |\n"
                 "| African States | all items | 3 | 5:00 |\n"
                 "| Western European and other States | all items | 1 | 2:00 |\n"
                 "| (no region) | all items | 1 | 3:00 |\n");
    CHECK_HAS(s, "\n## Turns and speaking time by category\n\n"
                 "| Category | Agenda item | Turns | Speaking time |\n"
                 "| --- | --- | ---: | ---: |\n"
                 "| Member States | q1 | 2 | 5:00 |\n"
                 "| Civil society | q1 | 1 | 1:00 |\n"
                 "| UN entities | q2 | 1 | 3:00 |\n"
                 "| Member States | q2 | 1 | 1:00 |\n"
                 "| Member States | all items | 3 | 6:00 |\n"
                 "| Civil society | all items | 1 | 1:00 |\n"
                 "| UN entities | all items | 1 | 3:00 |\n");
    free(s);

    s = render(&m, TRANSCRIPT_CSV, &len);
    CHECK_HAS(s, "\r\n,2026-07-01T10:00:00.000Z,item_summary,,,,,item=q1 planned_s=1800 "
                 "actual_s=2400 reserved=no speakers=ke;fr;ngo,\r\n");
    CHECK_HAS(s, "\r\n,2026-07-01T11:00:00.000Z,item_summary,,,,,item=usg planned_s=900 "
                 "actual_s=600 reserved=yes speakers=,\r\n");
    CHECK_HAS(s, "\r\n,,region_summary,,,,,item=q1 region=African States turns=2 "
                 "spoken_ms=240000,\r\n");
    CHECK_HAS(s, "\r\n,,region_summary,,,,,item=* region=none turns=1 spoken_ms=180000,\r\n");
    CHECK_HAS(s, "\r\n,,category_summary,,,,,item=* category=un_entity turns=1 "
                 "spoken_ms=180000,\r\n");
    free(s);

    /* the meeting still running: the current item is "ongoing" up to the
     * last event */
    json_t *part = json_array();
    for (size_t i = 0; i + 1 < json_array_size(m.events); i++)
        json_array_append(part, json_array_get(m.events, i));
    char err[200];
    s = transcript_render(m.initial, part, TRANSCRIPT_JSON, &len, err, sizeof err);
    j = s ? json_loads(s, 0, NULL) : NULL;
    usg = json_array_get(json_object_get(j, "agenda"), 2);
    CHECK(json_is_true(json_object_get(usg, "ongoing")));
    CHECK_INT(json_integer_value(json_object_get(usg, "actual_ms")), 0);
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(usg, "periods"), 0),
                                       "ended_at")));
    json_decref(j);
    free(s);
    json_decref(part);

    room_destroy(m.initial);
    room_destroy(m.r);
    json_decref(m.events);
}

/* Contract 9.4, 9.5: statements delivered and circulated in writing,
 * the conclusions with the fingerprint they quote, the attendance. */
static void test_v11_record(void)
{
    struct meeting m;
    char err[200];
    size_t len;
    memset(&m, 0, sizeof m);
    struct room_actor chair = actor("chair-1", "Ana Chair", "", PROTO_CAT_NONE, PROTO_ROLE_MODERATOR);
    struct room_actor eg = actor("eg", "Amr Said", "Egypt", PROTO_CAT_MEMBER_STATE, PROTO_ROLE_DELEGATE);
    snprintf(eg.region, sizeof eg.region, "African States");
    struct room_actor br = actor("br", "Ana Lima", "Brazil", PROTO_CAT_MEMBER_STATE, PROTO_ROLE_DELEGATE);
    struct room_actor in = actor("int", "Ines", "", PROTO_CAT_NONE, PROTO_ROLE_INTERPRETER);
    struct room_actor ob = actor("obs", "Olga", "", PROTO_CAT_NONE, PROTO_ROLE_OBSERVER);
    json_t *spec = json_loads("{\"id\":\"r13\",\"title\":\"Closing\",\"agenda\":[{\"id\":\"q1\","
                              "\"title\":\"One\"}]}", 0, NULL);
    m.initial = room_create(spec, "ep", T0, err, sizeof err);
    json_decref(spec);
    m.r = room_clone(m.initial);
    m.events = json_array();
    room_participant_seen(m.r, &chair);
    room_participant_seen(m.r, &eg);
    room_participant_seen(m.r, &br);
    room_participant_seen(m.r, &in);
    room_participant_seen(m.r, &ob);
    act(&m, &eg, req(PROTO_KIND_SPEECH), AT(0, 0));                   /* r1 */
    act(&m, &br, req(PROTO_KIND_SPEECH), AT(0, 1));                   /* r2 */
    struct proto_cmd d = with_id(PROTO_CMD_DEPOSIT_STATEMENT, "r1");
    d.text = (char *)"Mr. President,\nEgypt *supports* the text.";
    act(&m, &eg, d, AT(0, 2));
    d = with_id(PROTO_CMD_DEPOSIT_STATEMENT, "r2");
    d.text = (char *)"Brazil, in writing.";
    act(&m, &br, d, AT(0, 3));
    act(&m, &chair, with_id(PROTO_CMD_GRANT, "r1"), AT(1, 0));
    act(&m, &eg, cmd(PROTO_CMD_YIELD), AT(2, 0));                     /* + published */
    act(&m, &chair, with_id(PROTO_CMD_ACCEPT_WRITTEN, "r2"), AT(2, 10));
    /* the hub keeps the chain head; here it is computed the same way */
    char h[CHAIN_HEX_BUF];
    chain_h0("r13", "ep", h);
    for (size_t i = 0; i < json_array_size(m.events); i++)
        chain_next(h, json_array_get(m.events, i), h);
    memcpy(m.r->chain_head, h, sizeof h);
    act(&m, &chair, with_text(PROTO_CMD_PUBLISH_CONCLUSIONS, "We thank all.\nThe meeting agreed."),
        AT(3, 0));
    /* attendance as the hub records it */
    struct room_member *mem = m.r->members;
    for (size_t i = 0; i < m.r->members_len; i++) {
        if (strcmp(mem[i].sub, "eg") == 0) {
            mem[i].first_joined_at = AT(0, 0) - 5000;
            mem[i].last_left_at = AT(2, 30);
        } else if (strcmp(mem[i].sub, "obs") != 0) {
            mem[i].first_joined_at = AT(0, 0) - 1000;
        }
    }
    m.r->observers_peak = 250;
    m.r->observers_peak_at = AT(1, 30);
    struct transcript_opts o = {NULL, NULL, NULL, m.r};

    char *s = transcript_render_opts(m.initial, m.events, TRANSCRIPT_MD, &o, &len, err, sizeof err);
    CHECK(s != NULL);
    CHECK_HAS(s, "The written statement of the representative of Egypt (African States), as handed "
                 "in before delivery (check against delivery):\n\n  > Mr. President,\n"
                 "  > Egypt \\*supports\\* the text.\n");
    CHECK_HAS(s, "The representative of Brazil was not reached; the statement was circulated in "
                 "writing:\n\n  > Brazil, in writing.\n");
    char want[300];
    snprintf(want, sizeof want, "\n## Conclusions\n\nPresented by Ana Chair. They close the record "
             "as it stood at seq 8, fingerprint **%.16s** (full hash `%s`).\n\n"
             "> We thank all.\n> The meeting agreed.\n", h, h);
    CHECK_HAS(s, want);
    CHECK_HAS(s, "\n## Attendance\n\n| Name | Delegation | Region | Category | Role | First joined"
                 " | Last left | Turns | Speaking time |\n");
    CHECK_HAS(s, "| Amr Said | Egypt | African States | member_state | delegate | 09:59:55 | 10:02:30 | 1 | 1:00 |\n");
    CHECK_HAS(s, "| Ines | — | — | — | interpreter | 09:59:59 | still connected | 0 | 0:00 |\n");
    CHECK(strstr(s, "| Olga") == NULL);
    CHECK_HAS(s, "\nObservers: at most 250 connected at once (at 10:01:30 UTC).\n");
    free(s);

    s = transcript_render_opts(m.initial, m.events, TRANSCRIPT_JSON, &o, &len, err, sizeof err);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    json_t *att = json_object_get(j, "attendance");
    CHECK_INT(json_integer_value(json_object_get(att, "observers_peak")), 250);
    CHECK_INT(json_array_size(json_object_get(att, "participants")), 4);
    char *p0 = json_dumps(json_array_get(json_object_get(att, "participants"), 1),
                          JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(p0, "{\"category\":\"member_state\",\"delegation\":\"Egypt\",\"first_joined_at\":"
                  "1782899995000,\"last_left_at\":1782900150000,\"name\":\"Amr Said\","
                  "\"region\":\"African States\",\"role\":\"delegate\",\"spoken_ms\":60000,"
                  "\"sub\":\"eg\",\"turns\":1}");
    free(p0);
    json_decref(j);
    free(s);

    s = transcript_render_opts(m.initial, m.events, TRANSCRIPT_CSV, &o, &len, err, sizeof err);
    CHECK_HAS(s, ",2026-07-01T09:59:55.000Z,attendance,,eg,Amr Said,Egypt,role=delegate "
                 "first_joined_at=1782899995000 last_left_at=1782900150000 turns=1 spoken_ms=60000 "
                 "region=African States category=member_state,\r\n");
    CHECK_HAS(s, ",2026-07-01T10:01:30.000Z,observers_peak,,,,,observers=250,\r\n");
    CHECK_HAS(s, "statement_published,");
    free(s);
    room_destroy(m.r);
    room_destroy(m.initial);
    json_decref(m.events);
}

int main(void)
{
    test_v11_record();
    struct meeting m;
    memset(&m, 0, sizeof m);
    hold_meeting(&m);
    test_csv(&m);
    test_md(&m);
    test_json(&m);
    test_edges(&m);
    test_balance();
    room_destroy(m.initial);
    room_destroy(m.r);
    json_decref(m.events);
    return check_done();
}
