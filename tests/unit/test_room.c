/*
 * test_room: the pure room logic, command by command (contract sections 3,
 * 4 and 5). Every decision is also committed the way the hub does it (seq
 * stamped, applied, encoded as a wire event), and every decide is checked
 * not to change the state it was given.
 */
#include "room.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define T0 INT64_C(1783000000000)

/* Dumps j compactly with sorted keys, so that expected JSON is exact. */
#define CHECK_JSON(j, s)                                                                 \
    do {                                                                                 \
        char *check_json__d = (j) ? json_dumps((j), JSON_COMPACT | JSON_SORT_KEYS |      \
                                                        JSON_ENCODE_ANY)                 \
                                  : NULL;                                                \
        CHECK_STR(check_json__d, s);                                                     \
        free(check_json__d);                                                             \
    } while (0)

/* ---- a little world: a room, a clock and the committed log ---- */

struct world {
    struct room *r;
    int64_t now;
    json_t *log;  /* every committed wire event */
    json_t *last; /* the events of the last command */
    enum proto_err err;
    char msg[256];
    /* the statements the last commit may forget (room_events.stmt_drop) */
    char drop[ROOM_MAX_EVENTS][PROTO_MAX_REQUEST_ID + 1];
    size_t ndrop;
};

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

static struct room_actor MOD, MOD2, FR, DE, NGO, OBS, UN, INTERP;

static void init_actors(void)
{
    MOD = actor("chair-1", "Ana Chair", "", PROTO_CAT_NONE, PROTO_ROLE_MODERATOR);
    MOD2 = actor("chair-2", "Bo Vice", "", PROTO_CAT_NONE, PROTO_ROLE_MODERATOR);
    FR = actor("fr", "Jean Dupont", "France", PROTO_CAT_MEMBER_STATE, PROTO_ROLE_DELEGATE);
    DE = actor("de", "Eva Berg", "Germany", PROTO_CAT_MEMBER_STATE, PROTO_ROLE_DELEGATE);
    NGO = actor("ngo", "Sam Lee", "Global NGO", PROTO_CAT_CIVIL_SOCIETY, PROTO_ROLE_DELEGATE);
    UN = actor("unodc", "Kim Park", "UNODC", PROTO_CAT_UN_ENTITY, PROTO_ROLE_DELEGATE);
    OBS = actor("obs", "Olga Watcher", "", PROTO_CAT_NONE, PROTO_ROLE_OBSERVER);
    INTERP = actor("int-fr", "Ines Interprete", "", PROTO_CAT_NONE, PROTO_ROLE_INTERPRETER);
}

static struct proto_cmd cmd(enum proto_cmd_type t)
{
    struct proto_cmd c;
    memset(&c, 0, sizeof c);
    c.type = t;
    c.kind = PROTO_KIND_SPEECH;
    return c;
}

static struct proto_cmd cmd_req(enum proto_kind k, const char *lang)
{
    struct proto_cmd c = cmd(PROTO_CMD_REQUEST_FLOOR);
    c.kind = k;
    snprintf(c.lang, sizeof c.lang, "%s", lang ? lang : "");
    return c;
}

static struct proto_cmd cmd_id(enum proto_cmd_type t, const char *id)
{
    struct proto_cmd c = cmd(t);
    snprintf(c.request_id, sizeof c.request_id, "%s", id);
    c.has_request_id = true;
    return c;
}

static struct proto_cmd cmd_sub(enum proto_cmd_type t, const char *sub)
{
    struct proto_cmd c = cmd(t);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    c.has_sub = true;
    return c;
}

static struct proto_cmd cmd_text(enum proto_cmd_type t, const char *text)
{
    struct proto_cmd c = cmd(t);
    c.text = (char *)text;
    return c;
}

static struct room *make_room(const char *settings)
{
    char err[200] = "";
    char spec[1024];
    snprintf(spec, sizeof spec,
             "{\"id\":\"closing-discussion\",\"title\":\"Closing discussion\","
             "\"agenda\":[{\"id\":\"q1\",\"title\":\"First question\"},"
             "{\"id\":\"q2\",\"title\":\"Second question\"}],\"settings\":%s}",
             settings ? settings : "{}");
    json_t *j = json_loads(spec, 0, NULL);
    struct room *r = room_create(j, "ep1", T0 - 1000, err, sizeof err);
    if (!r)
        fprintf(stderr, "room_create: %s\n", err);
    json_decref(j);
    return r;
}

static void world_init(struct world *w, const char *settings)
{
    memset(w, 0, sizeof *w);
    w->r = make_room(settings);
    w->now = T0;
    w->log = json_array();
    w->last = json_array();
    room_participant_seen(w->r, &MOD);
    room_participant_seen(w->r, &MOD2);
    room_participant_seen(w->r, &FR);
    room_participant_seen(w->r, &DE);
    room_participant_seen(w->r, &NGO);
    room_participant_seen(w->r, &UN);
    room_participant_seen(w->r, &OBS);
    room_participant_seen(w->r, &INTERP);
}

static void world_free(struct world *w)
{
    room_destroy(w->r);
    json_decref(w->log);
    json_decref(w->last);
}

/* Commits decided events as the hub does: stamps the seq, applies, encodes
 * the wire event, and reads it back to check the round trip. */
static void commit(struct world *w, struct room_events *out)
{
    json_decref(w->last);
    w->last = json_array();
    /* a deposited text reaches the room beside its event, as from a store */
    if (out->stmt_text)
        CHECK_INT(room_statement_put(w->r, out->stmt_request, out->stmt_sub, out->stmt_lang,
                                     out->stmt_text), 0);
    w->ndrop = out->stmt_ndrop;
    for (size_t i = 0; i < out->stmt_ndrop; i++)
        snprintf(w->drop[i], sizeof w->drop[i], "%s", out->stmt_drop[i]);
    for (size_t i = 0; i < out->n; i++) {
        struct room_event *e = &out->ev[i];
        struct room_event back;
        e->seq = w->r->seq + 1;
        CHECK_INT(room_apply(w->r, e), 0);
        json_t *j = room_event_json(w->r, e);
        CHECK(j != NULL);
        CHECK_INT(room_event_from_json(j, &back), 0);
        CHECK_INT(back.seq, e->seq);
        CHECK_INT(back.name, e->name);
        CHECK(json_equal(back.data, e->data));
        room_event_clear(&back);
        json_array_append(w->last, j);
        json_array_append_new(w->log, j);
        /* the chain head, as the hub keeps it */
        if (!w->r->chain_head[0])
            chain_h0(w->r->id, w->r->epoch, w->r->chain_head);
        CHECK_INT(chain_next(w->r->chain_head, j, w->r->chain_head), 0);
    }
    room_events_clear(out);
}

static void run(struct world *w, const struct room_actor *a, const struct proto_cmd *c)
{
    struct room_events out;
    json_t *before = room_state_json(w->r, true);
    w->msg[0] = '\0';
    w->err = room_decide(w->r, a, c, w->now, &out, w->msg, sizeof w->msg);
    json_t *after = room_state_json(w->r, true);
    CHECK(json_equal(before, after)); /* decide never changes the state */
    json_decref(before);
    json_decref(after);
    if (w->err) {
        CHECK_INT(out.n, 0);
        CHECK(w->msg[0] != '\0');
    }
    commit(w, &out);
}

static void clock_tick(struct world *w)
{
    struct room_events out;
    room_decide_clock(w->r, w->now, &out);
    commit(w, &out);
}

static void disconnect(struct world *w, const char *sub)
{
    struct room_events out;
    room_decide_disconnect(w->r, sub, w->now, &out);
    commit(w, &out);
}

/* "name,name" of the last events. */
static const char *names(const struct world *w)
{
    static char buf[256];
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(w->last); i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, json_string_value(json_object_get(json_array_get(w->last, i), "name")));
    }
    return buf;
}

static json_t *ev(const struct world *w, size_t i)
{
    return json_array_get(w->last, i);
}

static json_t *data(const struct world *w, size_t i)
{
    return json_object_get(ev(w, i), "data");
}

static json_t *state(const struct world *w, size_t i)
{
    return json_object_get(ev(w, i), "state");
}

/* Queue ids in order: "r1,r3". */
static const char *queue_ids(const struct room *r)
{
    static char buf[512];
    buf[0] = '\0';
    for (size_t i = 0; i < r->queue_len; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, r->queue[i].id);
    }
    return buf;
}

#define EXPECT(w, a, c, e, evnames)                                                      \
    do {                                                                                 \
        struct proto_cmd expect__c = (c);                                                \
        run((w), (a), &expect__c);                                                       \
        CHECK_STR(proto_err_code((w)->err), proto_err_code(e));                          \
        CHECK_STR(names(w), evnames);                                                    \
    } while (0)

/* ------------------------------------------------------------------ */

static void test_create(void)
{
    char err[200];
    struct room *r = make_room(NULL);
    CHECK(r != NULL);
    CHECK_STR(r->id, "closing-discussion");
    CHECK_STR(r->title, "Closing discussion");
    CHECK_STR(r->epoch, "ep1");
    CHECK_STR(r->agenda_item, "q1");
    CHECK_INT(r->agenda_len, 2);
    CHECK_INT(r->status, PROTO_STATUS_OPEN);
    CHECK_INT(r->seq, 0);
    CHECK_INT(r->next_request, 1);
    CHECK_INT(r->settings.speech_s, 180);
    CHECK_INT(r->settings.reply_s, 60);
    CHECK_INT(r->settings.point_of_order_s, 60);
    CHECK_INT(r->settings.replies_per_item, 2);
    CHECK(r->settings.list_open);
    CHECK(r->settings.pause_on_disconnect);
    CHECK_INT(r->settings.on_time_up, PROTO_TIMEUP_NOTIFY);
    CHECK_INT(r->settings.chat, PROTO_CHAT_OPEN);
    CHECK_INT(r->settings.queue_order, PROTO_ORDER_REQUEST);
    room_destroy(r);

    r = make_room("{\"speech_s\":120,\"on_time_up\":\"end\",\"queue_order\":\"category\"}");
    CHECK(r != NULL);
    CHECK_INT(r->settings.speech_s, 120);
    CHECK_INT(r->settings.on_time_up, PROTO_TIMEUP_END);
    CHECK_INT(r->settings.queue_order, PROTO_ORDER_CATEGORY);
    CHECK_INT(r->settings.reply_s, 60);
    room_destroy(r);
    room_destroy(NULL);

    /* no agenda: agenda_item null */
    json_t *j = json_loads("{\"id\":\"r0\",\"title\":\"T\"}", 0, NULL);
    r = room_create(j, "e", T0, err, sizeof err);
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->agenda_item, "");
        json_t *snap = room_snapshot_json(r);
        CHECK(json_is_null(json_object_get(snap, "agenda_item")));
        CHECK_INT(json_array_size(json_object_get(snap, "agenda")), 0);
        json_decref(snap);
    }
    room_destroy(r);
    json_decref(j);

    static const char *const bad[] = {
        "[]",
        "{\"title\":\"T\"}",
        "{\"id\":\"Bad\",\"title\":\"T\"}",
        "{\"id\":\"-x\",\"title\":\"T\"}",
        "{\"id\":\"x\"}",
        "{\"id\":\"x\",\"title\":\"\"}",
        "{\"id\":\"x\",\"title\":\"a\\nb\"}",
        "{\"id\":\"x\",\"title\":7}",
        "{\"id\":\"x\",\"title\":\"T\",\"agenda\":{}}",
        "{\"id\":\"x\",\"title\":\"T\",\"agenda\":[{\"id\":\"a\"}]}",
        "{\"id\":\"x\",\"title\":\"T\",\"agenda\":[{\"id\":\"a b\",\"title\":\"x\"}]}",
        "{\"id\":\"x\",\"title\":\"T\",\"agenda\":[{\"id\":\"a\",\"title\":\"x\"},"
        "{\"id\":\"a\",\"title\":\"y\"}]}",
        "{\"id\":\"x\",\"title\":\"T\",\"settings\":{\"speech_s\":0}}",
        "{\"id\":\"x\",\"title\":\"T\",\"settings\":{\"nope\":1}}",
        "{\"id\":\"x\",\"title\":\"T\",\"settings\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        err[0] = '\0';
        r = room_create(j, "e", T0, err, sizeof err);
        CHECK(r == NULL);
        if (r)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(err[0] != '\0');
        room_destroy(r);
        json_decref(j);
    }

    /* 201 characters of title, 51 agenda items */
    char title[260];
    memset(title, 'x', 201);
    title[201] = '\0';
    j = json_pack("{s:s, s:s}", "id", "x", "title", title);
    r = room_create(j, "e", T0, err, sizeof err);
    CHECK(r == NULL);
    json_decref(j);
    title[200] = '\0';
    j = json_pack("{s:s, s:s}", "id", "x", "title", title);
    r = room_create(j, "e", T0, err, sizeof err);
    CHECK(r != NULL);
    room_destroy(r);
    json_decref(j);
    json_t *agenda = json_array();
    for (int i = 0; i < 51; i++) {
        char id[16];
        snprintf(id, sizeof id, "i%d", i);
        json_array_append_new(agenda, json_pack("{s:s, s:s}", "id", id, "title", "t"));
    }
    j = json_pack("{s:s, s:s, s:O}", "id", "x", "title", "T", "agenda", agenda);
    r = room_create(j, "e", T0, err, sizeof err);
    CHECK(r == NULL);
    json_decref(j);
    json_array_remove(agenda, 0);
    j = json_pack("{s:s, s:s, s:O}", "id", "x", "title", "T", "agenda", agenda);
    r = room_create(j, "e", T0, err, sizeof err);
    CHECK(r != NULL);
    if (r)
        CHECK_STR(r->agenda_item, "i1");
    room_destroy(r);
    json_decref(j);
    json_decref(agenda);
}

static void test_settings_patch(void)
{
    struct room_settings s, d;
    char err[200];
    room_settings_default(&s);
    d = s;
    static const char *const bad[] = {
        "{\"speech_s\":0}",          "{\"speech_s\":7201}",      "{\"speech_s\":\"1\"}",
        "{\"reply_s\":0}",           "{\"point_of_order_s\":-1}", "{\"replies_per_item\":101}",
        "{\"replies_per_item\":-1}", "{\"list_open\":1}",         "{\"pause_on_disconnect\":null}",
        "{\"on_time_up\":\"stop\"}", "{\"chat\":\"closed\"}",     "{\"queue_order\":\"fifo\"}",
        "{\"speech_s\":1.5}",        "{\"colour\":\"red\"}",
        /* a bad value after a good one leaves everything unchanged */
        "{\"reply_s\":30,\"chat\":7}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *p = json_loads(bad[i], 0, NULL);
        err[0] = '\0';
        CHECK(!room_settings_patch(&s, p, err, sizeof err));
        CHECK(err[0] != '\0');
        CHECK(memcmp(&s, &d, sizeof s) == 0);
        json_decref(p);
    }
    json_t *p = json_loads("{\"speech_s\":7200,\"reply_s\":1,\"point_of_order_s\":30,"
                           "\"on_time_up\":\"end\",\"chat\":\"floor\",\"list_open\":false,"
                           "\"queue_order\":\"category\",\"replies_per_item\":0,"
                           "\"pause_on_disconnect\":false}",
                           0, NULL);
    CHECK(room_settings_patch(&s, p, err, sizeof err));
    CHECK_INT(s.speech_s, 7200);
    CHECK_INT(s.reply_s, 1);
    CHECK_INT(s.point_of_order_s, 30);
    CHECK_INT(s.on_time_up, PROTO_TIMEUP_END);
    CHECK_INT(s.chat, PROTO_CHAT_FLOOR);
    CHECK(!s.list_open);
    CHECK_INT(s.queue_order, PROTO_ORDER_CATEGORY);
    CHECK_INT(s.replies_per_item, 0);
    CHECK(!s.pause_on_disconnect);
    json_decref(p);
    p = json_object();
    CHECK(room_settings_patch(&s, p, err, sizeof err)); /* empty patch: fine */
    json_decref(p);
}

/* ---- the role x command x state matrix ---- */

/* The matrix world: de holds the floor (granted r1), de has a reply
 * pending (r2), fr a speech (r3). The queue is [r3, r2]. */
static void matrix_world(struct world *w)
{
    world_init(w, NULL);
    EXPECT(w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    EXPECT(w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    EXPECT(w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    CHECK_STR(queue_ids(w->r), "r3,r2");
    CHECK_STR(w->r->floor.sub, "de");
}

struct matrix_row {
    enum proto_cmd_type type;
    /* expected for the delegate (de) and the moderator; observers always
     * get forbidden */
    enum proto_err del;
    const char *del_events;
    enum proto_err mod;
    const char *mod_events;
};

static json_t *matrix_settings; /* {"speech_s":120}, made by main() */
static json_t *matrix_schedule; /* a valid schedule, made by main() */
static json_t *matrix_agenda;   /* q1 and q2 with planned times, made by main() */

static struct proto_cmd matrix_cmd(enum proto_cmd_type t)
{
    struct proto_cmd c = cmd(t);
    switch (t) {
    case PROTO_CMD_WITHDRAW:
    case PROTO_CMD_MOVE:
    case PROTO_CMD_GET_STATEMENT:
    case PROTO_CMD_ACCEPT_WRITTEN:
        c = cmd_id(t, "r2");
        break;
    case PROTO_CMD_DEPOSIT_STATEMENT:
        c = cmd_id(t, "r2");
        c.text = (char *)"Madam Chair, in writing.";
        break;
    case PROTO_CMD_PUBLISH_CONCLUSIONS:
        c.text = (char *)"The meeting concluded.";
        break;
    case PROTO_CMD_REMOVE_REQUEST:
        c = cmd_id(t, "r3");
        break;
    case PROTO_CMD_SAY:
    case PROTO_CMD_ANNOUNCE:
        c.text = (char *)"Thank you";
        break;
    case PROTO_CMD_EXTEND:
        c.seconds = 30;
        break;
    case PROTO_CMD_MUTE:
    case PROTO_CMD_UNMUTE:
    case PROTO_CMD_REMOVE:
        c = cmd_sub(t, "fr");
        break;
    case PROTO_CMD_SET_ROLE:
        c = cmd_sub(t, "fr");
        c.role = PROTO_ROLE_OBSERVER;
        break;
    case PROTO_CMD_SET_AGENDA_ITEM:
        snprintf(c.item, sizeof c.item, "q2");
        break;
    case PROTO_CMD_SET_STATUS:
        c.status = PROTO_STATUS_CLOSED;
        break;
    case PROTO_CMD_UPDATE_SETTINGS:
        c.settings = matrix_settings;
        break;
    case PROTO_CMD_SET_SCHEDULE:
        c.schedule = matrix_schedule;
        break;
    case PROTO_CMD_SET_AGENDA:
        c.agenda = matrix_agenda;
        break;
    default:
        break;
    }
    return c;
}

static const struct matrix_row matrix[] = {
    {PROTO_CMD_REQUEST_FLOOR, PROTO_OK, "floor_requested", PROTO_OK, "floor_requested"},
    {PROTO_CMD_WITHDRAW, PROTO_OK, "request_withdrawn", PROTO_ERR_NOT_FOUND, ""},
    {PROTO_CMD_YIELD, PROTO_OK, "floor_ended", PROTO_ERR_FORBIDDEN, ""},
    {PROTO_CMD_SAY, PROTO_OK, "message", PROTO_OK, "message"},
    {PROTO_CMD_GRANT, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "floor_ended,floor_granted"},
    {PROTO_CMD_END_FLOOR, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "floor_ended"},
    {PROTO_CMD_PAUSE, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "timer_paused"},
    {PROTO_CMD_RESUME, PROTO_ERR_FORBIDDEN, "", PROTO_ERR_CONFLICT, ""},
    {PROTO_CMD_EXTEND, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "time_extended"},
    {PROTO_CMD_MOVE, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "request_moved"},
    {PROTO_CMD_REMOVE_REQUEST, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "request_removed"},
    {PROTO_CMD_OPEN_LIST, PROTO_ERR_FORBIDDEN, "", PROTO_ERR_CONFLICT, ""},
    {PROTO_CMD_CLOSE_LIST, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "list_closed"},
    {PROTO_CMD_MUTE, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "participant_muted"},
    {PROTO_CMD_UNMUTE, PROTO_ERR_FORBIDDEN, "", PROTO_ERR_CONFLICT, ""},
    {PROTO_CMD_REMOVE, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "participant_removed"},
    {PROTO_CMD_SET_ROLE, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "role_changed"},
    {PROTO_CMD_ANNOUNCE, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "message"},
    {PROTO_CMD_SET_AGENDA_ITEM, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "agenda_item_set"},
    {PROTO_CMD_SET_STATUS, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "floor_ended,status_changed"},
    {PROTO_CMD_UPDATE_SETTINGS, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "settings_changed"},
    {PROTO_CMD_SET_SCHEDULE, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "schedule_changed"},
    {PROTO_CMD_SET_AGENDA, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "agenda_changed"},
    {PROTO_CMD_DEPOSIT_STATEMENT, PROTO_OK, "statement_deposited", PROTO_OK, "statement_deposited"},
    /* reading: no statement yet; de cannot tell (forbidden), the chair can */
    {PROTO_CMD_GET_STATEMENT, PROTO_ERR_FORBIDDEN, "", PROTO_ERR_NOT_FOUND, ""},
    {PROTO_CMD_ACCEPT_WRITTEN, PROTO_ERR_FORBIDDEN, "", PROTO_ERR_NOT_FOUND, ""},
    {PROTO_CMD_PUBLISH_CONCLUSIONS, PROTO_ERR_FORBIDDEN, "", PROTO_OK, "conclusions_published"},
};

#define MATRIX_N (sizeof matrix / sizeof matrix[0])

static void test_matrix_open(void)
{
    struct world w;
    for (size_t i = 0; i < MATRIX_N; i++) {
        const struct matrix_row *m = &matrix[i];
        matrix_world(&w);
        EXPECT(&w, &OBS, matrix_cmd(m->type), PROTO_ERR_FORBIDDEN, "");
        world_free(&w);
        matrix_world(&w);
        EXPECT(&w, &DE, matrix_cmd(m->type), m->del, m->del_events);
        if (w.err != m->del)
            fprintf(stderr, "  delegate %s\n", proto_cmd_name(m->type));
        world_free(&w);
        matrix_world(&w);
        EXPECT(&w, &MOD, matrix_cmd(m->type), m->mod, m->mod_events);
        if (w.err != m->mod)
            fprintf(stderr, "  moderator %s: %s\n", proto_cmd_name(m->type), w.msg);
        world_free(&w);
    }
    CHECK_INT(MATRIX_N, PROTO_CMD__COUNT - 2); /* every command but join and ping */
}

/* Permission before arguments: room_may_send says forbidden for what the
 * role may not send (the session asks it when the arguments are bad). */
static void test_may_send(void)
{
    struct world w;
    char msg[200];
    matrix_world(&w);
    for (size_t i = 0; i < MATRIX_N; i++) {
        const struct matrix_row *m = &matrix[i];
        CHECK_INT(room_may_send(w.r, &OBS, m->type, msg, sizeof msg), PROTO_ERR_FORBIDDEN);
        CHECK_STR(msg, "observers can only follow the meeting");
        /* get_statement: a delegate may read their own request's */
        bool mod_only = m->del == PROTO_ERR_FORBIDDEN && m->type != PROTO_CMD_YIELD &&
                        m->type != PROTO_CMD_GET_STATEMENT;
        CHECK_INT(room_may_send(w.r, &DE, m->type, msg, sizeof msg),
                  mod_only ? PROTO_ERR_FORBIDDEN : PROTO_OK);
        CHECK_INT(room_may_send(w.r, &MOD, m->type, msg, sizeof msg), PROTO_OK);
    }
    CHECK_INT(room_may_send(w.r, &OBS, PROTO_CMD_PING, msg, sizeof msg), PROTO_OK);
    CHECK_INT(room_may_send(w.r, &DE, PROTO_CMD_GRANT, msg, sizeof msg), PROTO_ERR_FORBIDDEN);
    CHECK_STR(msg, "grant is for moderators");
    /* a removed person may send nothing but ping; set_role counts */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "fr"), PROTO_OK, "participant_removed");
    CHECK_INT(room_may_send(w.r, &FR, PROTO_CMD_SAY, msg, sizeof msg), PROTO_ERR_FORBIDDEN);
    CHECK_STR(msg, "you were removed from this room");
    struct proto_cmd sr = cmd_sub(PROTO_CMD_SET_ROLE, "de");
    sr.role = PROTO_ROLE_OBSERVER;
    EXPECT(&w, &MOD, sr, PROTO_OK, "role_changed");
    CHECK_INT(room_may_send(w.r, &DE, PROTO_CMD_REQUEST_FLOOR, msg, sizeof msg), PROTO_ERR_FORBIDDEN);
    world_free(&w);
}

static void test_matrix_suspended(void)
{
    struct world w;
    struct proto_cmd st = cmd(PROTO_CMD_SET_STATUS);
    st.status = PROTO_STATUS_SUSPENDED;
    for (size_t i = 0; i < MATRIX_N; i++) {
        const struct matrix_row *m = &matrix[i];
        bool mod_only = m->del == PROTO_ERR_FORBIDDEN;
        matrix_world(&w);
        EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
        /* role before status: observers are forbidden, delegates sending a
         * moderator command too; delegate commands get room_not_open */
        EXPECT(&w, &OBS, matrix_cmd(m->type), PROTO_ERR_FORBIDDEN, "");
        EXPECT(&w, &DE, matrix_cmd(m->type),
               mod_only ? PROTO_ERR_FORBIDDEN : PROTO_ERR_ROOM_NOT_OPEN, "");
        EXPECT(&w, &MOD, matrix_cmd(m->type), m->mod, m->mod_events);
        world_free(&w);
    }
    /* ping is always fine */
    matrix_world(&w);
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    EXPECT(&w, &DE, cmd(PROTO_CMD_PING), PROTO_OK, "");
    EXPECT(&w, &OBS, cmd(PROTO_CMD_PING), PROTO_OK, "");
    /* and open again */
    st.status = PROTO_STATUS_OPEN;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    CHECK_JSON(data(&w, 0), "{\"status\":\"open\"}");
    /* the room was created open: its first item started then */
    CHECK_JSON(state(&w, 0), "{\"agenda_item_started_at\":1782999999000,\"status\":\"open\"}");
    EXPECT(&w, &DE, cmd(PROTO_CMD_YIELD), PROTO_OK, "floor_ended");
    world_free(&w);
}

static void test_matrix_closed(void)
{
    struct world w;
    struct proto_cmd st = cmd(PROTO_CMD_SET_STATUS);
    st.status = PROTO_STATUS_CLOSED;
    matrix_world(&w);
    EXPECT(&w, &MOD, st, PROTO_OK, "floor_ended,status_changed");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"moderator\",\"spoken_ms\":0,\"sub\":\"de\"}");
    CHECK(!w.r->floor.active);
    CHECK_INT(room_deadline(w.r), -1);
    for (size_t i = 0; i < MATRIX_N; i++) {
        /* reading a statement stays possible in a closed room */
        bool read = matrix[i].type == PROTO_CMD_GET_STATEMENT;
        EXPECT(&w, &OBS, matrix_cmd(matrix[i].type),
               read ? PROTO_ERR_FORBIDDEN : PROTO_ERR_ROOM_CLOSED, "");
        EXPECT(&w, &DE, matrix_cmd(matrix[i].type),
               read ? PROTO_ERR_FORBIDDEN : PROTO_ERR_ROOM_CLOSED, "");
        EXPECT(&w, &MOD, matrix_cmd(matrix[i].type),
               read ? PROTO_ERR_NOT_FOUND : PROTO_ERR_ROOM_CLOSED, "");
    }
    st.status = PROTO_STATUS_OPEN;
    EXPECT(&w, &MOD, st, PROTO_ERR_ROOM_CLOSED, "");
    EXPECT(&w, &OBS, cmd(PROTO_CMD_PING), PROTO_OK, "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_PING), PROTO_OK, "");
    /* closed comes before stale */
    struct proto_cmd c = cmd(PROTO_CMD_SAY);
    c.text = (char *)"x";
    c.has_if_seq = true;
    c.if_seq = 1;
    EXPECT(&w, &DE, c, PROTO_ERR_ROOM_CLOSED, "");
    /* join is not a room command */
    EXPECT(&w, &MOD, cmd(PROTO_CMD_JOIN), PROTO_ERR_BAD_REQUEST, "");
    world_free(&w);

    /* suspended -> closed with no floor: one event */
    world_init(&w, NULL);
    EXPECT(&w, &MOD, st, PROTO_ERR_CONFLICT, "");
    st.status = PROTO_STATUS_SUSPENDED;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    EXPECT(&w, &MOD, st, PROTO_ERR_CONFLICT, "");
    st.status = PROTO_STATUS_CLOSED;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    CHECK_JSON(state(&w, 0), "{\"agenda_item_started_at\":1782999999000,\"status\":\"closed\"}");
    world_free(&w);
}

static void test_if_seq(void)
{
    struct world w;
    world_init(&w, NULL);
    struct proto_cmd c = cmd_req(PROTO_KIND_SPEECH, NULL);
    c.has_if_seq = true;
    c.if_seq = 0;
    EXPECT(&w, &FR, c, PROTO_OK, "floor_requested");
    EXPECT(&w, &FR, c, PROTO_ERR_STALE, ""); /* seq is 1 now */
    /* stale comes before the role check */
    EXPECT(&w, &OBS, c, PROTO_ERR_STALE, "");
    c = cmd(PROTO_CMD_GRANT);
    c.has_if_seq = true;
    c.if_seq = 1;
    EXPECT(&w, &MOD, c, PROTO_OK, "floor_granted");
    EXPECT(&w, &MOD2, c, PROTO_ERR_STALE, ""); /* two chairs at once */
    /* the chair's "next" racing the speaker's yield */
    c = cmd(PROTO_CMD_END_FLOOR);
    c.has_if_seq = true;
    c.if_seq = 2;
    EXPECT(&w, &FR, cmd(PROTO_CMD_YIELD), PROTO_OK, "floor_ended");
    EXPECT(&w, &MOD, c, PROTO_ERR_STALE, "");
    /* ping is never stale */
    c = cmd(PROTO_CMD_PING);
    c.has_if_seq = true;
    c.if_seq = 99;
    EXPECT(&w, &FR, c, PROTO_OK, "");
    world_free(&w);
}

/* ---- requests ---- */

static void test_request_floor(void)
{
    struct world w;
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, "fr"), PROTO_OK, "floor_requested");
    CHECK_JSON(data(&w, 0), "{\"request\":{\"at\":1783000000000,\"category\":\"member_state\","
                            "\"delegation\":\"France\",\"id\":\"r1\",\"kind\":\"speech\","
                            "\"lang\":\"fr\",\"name\":\"Jean Dupont\",\"region\":null,\"sub\":\"fr\"}}");
    CHECK_JSON(state(&w, 0),
               "{\"queue\":[{\"at\":1783000000000,\"category\":\"member_state\","
               "\"delegation\":\"France\",\"id\":\"r1\",\"kind\":\"speech\",\"lang\":\"fr\","
               "\"name\":\"Jean Dupont\",\"region\":null,\"sub\":\"fr\"}]}");
    CHECK_STR(json_string_value(json_object_get(ev(&w, 0), "actor")), "fr");
    CHECK_STR(json_string_value(json_object_get(ev(&w, 0), "type")), "event");
    CHECK_INT(json_integer_value(json_object_get(ev(&w, 0), "seq")), 1);
    CHECK_INT(json_integer_value(json_object_get(ev(&w, 0), "ts")), T0);

    /* a moderator without delegation or category: nulls */
    w.now += 5;
    EXPECT(&w, &MOD, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested");
    CHECK_JSON(data(&w, 0), "{\"request\":{\"at\":1783000000005,\"category\":null,"
                            "\"delegation\":null,\"id\":\"r2\",\"kind\":\"point_of_order\","
                            "\"lang\":null,\"name\":\"Ana Chair\",\"region\":null,\"sub\":\"chair-1\"}}");

    /* one pending request per kind */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_ERR_CONFLICT, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_ERR_CONFLICT, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_ERR_CONFLICT, "");
    CHECK_INT(w.r->queue_len, 4);

    /* withdraw: own only; ids are never reused */
    EXPECT(&w, &DE, cmd_id(PROTO_CMD_WITHDRAW, "r1"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &FR, cmd_id(PROTO_CMD_WITHDRAW, "r99"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &FR, cmd(PROTO_CMD_WITHDRAW), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_WITHDRAW, "r1"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &FR, cmd_id(PROTO_CMD_WITHDRAW, "r1"), PROTO_OK, "request_withdrawn");
    CHECK_JSON(data(&w, 0), "{\"request_id\":\"r1\"}");
    CHECK(json_object_get(state(&w, 0), "queue") != NULL);
    EXPECT(&w, &FR, cmd_id(PROTO_CMD_WITHDRAW, "r1"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    CHECK_STR(json_string_value(json_object_get(json_object_get(data(&w, 0), "request"), "id")),
              "r5");
    world_free(&w);
}

static void test_list_closed(void)
{
    struct world w;
    world_init(&w, NULL);
    EXPECT(&w, &MOD, cmd(PROTO_CMD_OPEN_LIST), PROTO_ERR_CONFLICT, "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_CLOSE_LIST), PROTO_OK, "list_closed");
    CHECK_JSON(data(&w, 0), "{}");
    CHECK(json_is_false(json_object_get(json_object_get(state(&w, 0), "settings"), "list_open")));
    EXPECT(&w, &MOD, cmd(PROTO_CMD_CLOSE_LIST), PROTO_ERR_CONFLICT, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_ERR_LIST_CLOSED, "");
    EXPECT(&w, &MOD, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_ERR_LIST_CLOSED, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested");
    /* a pending speech is a conflict before the list is */
    EXPECT(&w, &MOD, cmd(PROTO_CMD_OPEN_LIST), PROTO_OK, "list_opened");
    CHECK(json_is_true(json_object_get(json_object_get(state(&w, 0), "settings"), "list_open")));
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_CLOSE_LIST), PROTO_OK, "list_closed");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_ERR_CONFLICT, "");
    /* closing the list keeps the speeches already on it */
    CHECK_STR(queue_ids(w.r), "r2,r3,r1");
    world_free(&w);
}

static void test_reply_quota(void)
{
    struct world w;
    world_init(&w, NULL);
    /* withdrawn replies give the right back (the quota is 2) */
    for (int i = 0; i < 3; i++) {
        EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
        EXPECT(&w, &FR, cmd_id(PROTO_CMD_WITHDRAW, w.r->queue[0].id), PROTO_OK,
               "request_withdrawn");
    }
    /* a granted reply counts (r4), and so does a pending one (r5) */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested"); /* r4 */
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested"); /* r5 */
    EXPECT(&w, &FR, cmd(PROTO_CMD_YIELD), PROTO_OK, "floor_ended");
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r5"), PROTO_OK, "floor_granted");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_ERR_QUOTA_EXCEEDED, "");
    CHECK_INT(room_member_find(w.r, "fr")->replies_used, 2);
    /* pending counts: one granted and one waiting use up the two */
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested"); /* r6 */
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r6"), PROTO_OK, "floor_ended,floor_granted");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested"); /* r7 */
    struct world w2;
    world_init(&w2, "{\"replies_per_item\":1}");
    EXPECT(&w2, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w2, &DE, cmd_id(PROTO_CMD_WITHDRAW, "r1"), PROTO_OK, "request_withdrawn");
    EXPECT(&w2, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w2, &MOD, cmd_id(PROTO_CMD_GRANT, "r2"), PROTO_OK, "floor_granted");
    EXPECT(&w2, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_ERR_QUOTA_EXCEEDED, "");
    world_free(&w2);
    /* a removed request gives the right back too */
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_REMOVE_REQUEST, "r7"), PROTO_OK, "request_removed");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested"); /* r8 */
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r8"), PROTO_OK, "floor_ended,floor_granted");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_ERR_QUOTA_EXCEEDED, "");
    /* the count resets with the agenda item */
    struct proto_cmd c = cmd(PROTO_CMD_SET_AGENDA_ITEM);
    snprintf(c.item, sizeof c.item, "q1");
    EXPECT(&w, &MOD, c, PROTO_ERR_CONFLICT, "");
    snprintf(c.item, sizeof c.item, "q9");
    EXPECT(&w, &MOD, c, PROTO_ERR_NOT_FOUND, "");
    snprintf(c.item, sizeof c.item, "q2");
    EXPECT(&w, &MOD, c, PROTO_OK, "agenda_item_set");
    CHECK_JSON(data(&w, 0), "{\"item\":\"q2\"}");
    CHECK_JSON(state(&w, 0), "{\"agenda_item\":\"q2\",\"agenda_item_started_at\":1783000000000}");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    world_free(&w);

    /* replies_per_item 0: no replies at all; speeches unaffected */
    world_init(&w, "{\"replies_per_item\":0}");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_ERR_QUOTA_EXCEEDED, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    world_free(&w);
}

static void test_queue_order(void)
{
    struct world w;
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");        /* r1 */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");         /* r2 */
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");        /* r3 */
    CHECK_STR(queue_ids(w.r), "r1,r3,r2");
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested"); /* r4 */
    CHECK_STR(queue_ids(w.r), "r4,r1,r3,r2");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested"); /* r5 */
    CHECK_STR(queue_ids(w.r), "r4,r5,r1,r3,r2");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");         /* r6 */
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");       /* r7 */
    CHECK_STR(queue_ids(w.r), "r4,r5,r1,r3,r7,r2,r6");
    /* the head of the queue is granted: points of order first */
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    CHECK_STR(w.r->floor.request_id, "r4");
    CHECK_STR(queue_ids(w.r), "r5,r1,r3,r7,r2,r6");
    world_free(&w);

    /* no speech yet: a speech goes after the leading points of order but
     * ahead of the replies */
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");          /* r1 */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested"); /* r2 */
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");         /* r3 */
    CHECK_STR(queue_ids(w.r), "r2,r3,r1");
    /* a point of order moved down is no longer "at the front" */
    struct proto_cmd mv = cmd_id(PROTO_CMD_MOVE, "r2");
    mv.to = 99; /* clamped to the end */
    EXPECT(&w, &MOD, mv, PROTO_OK, "request_moved");
    CHECK_JSON(data(&w, 0), "{\"request_id\":\"r2\",\"to\":2}");
    CHECK_STR(queue_ids(w.r), "r3,r1,r2");
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested"); /* r4 */
    CHECK_STR(queue_ids(w.r), "r4,r3,r1,r2");
    /* move: to the top, no-op, negative, unknown */
    mv = cmd_id(PROTO_CMD_MOVE, "r1");
    mv.to = 0;
    EXPECT(&w, &MOD, mv, PROTO_OK, "request_moved");
    CHECK_STR(queue_ids(w.r), "r1,r4,r3,r2");
    CHECK_INT(json_array_size(json_object_get(state(&w, 0), "queue")), 4);
    EXPECT(&w, &MOD, mv, PROTO_OK, ""); /* already there: ack, no event */
    mv.to = -1;
    EXPECT(&w, &MOD, mv, PROTO_ERR_BAD_REQUEST, "");
    mv = cmd_id(PROTO_CMD_MOVE, "r42");
    EXPECT(&w, &MOD, mv, PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_REMOVE_REQUEST, "r42"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_REMOVE_REQUEST, "r4"), PROTO_OK, "request_removed");
    CHECK_JSON(data(&w, 0), "{\"request_id\":\"r4\"}");
    CHECK_STR(queue_ids(w.r), "r1,r3,r2");
    world_free(&w);
}

static void test_category_order(void)
{
    struct world w;
    struct room_actor obs_state = actor("va", "Holy See rep", "Holy See",
                                        PROTO_CAT_OBSERVER_STATE, PROTO_ROLE_DELEGATE);
    struct room_actor none = actor("x", "Xavier", "", PROTO_CAT_NONE, PROTO_ROLE_DELEGATE);
    world_init(&w, "{\"queue_order\":\"category\"}");
    room_participant_seen(w.r, &obs_state);
    room_participant_seen(w.r, &none);
    EXPECT(&w, &none, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested"); /* r1 */
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");  /* r2 */
    CHECK_STR(queue_ids(w.r), "r2,r1");
    EXPECT(&w, &UN, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested"); /* r3 */
    CHECK_STR(queue_ids(w.r), "r3,r2,r1");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested"); /* r4 */
    EXPECT(&w, &obs_state, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK,
           "floor_requested"); /* r5 */
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested"); /* r6 */
    CHECK_STR(queue_ids(w.r), "r4,r6,r5,r3,r2,r1");
    /* points of order and replies ignore categories */
    EXPECT(&w, &none, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK,
           "floor_requested"); /* r7 */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested"); /* r8 */
    CHECK_STR(queue_ids(w.r), "r7,r4,r6,r5,r3,r2,r1,r8");
    /* a moderator's move overrides the rule; later speeches follow the
     * last speech of the same or a higher rank wherever it is */
    struct proto_cmd mv = cmd_id(PROTO_CMD_MOVE, "r1");
    mv.to = 1;
    EXPECT(&w, &MOD, mv, PROTO_OK, "request_moved");
    CHECK_STR(queue_ids(w.r), "r7,r1,r4,r6,r5,r3,r2,r8");
    EXPECT(&w, &UN, cmd_id(PROTO_CMD_WITHDRAW, "r3"), PROTO_OK, "request_withdrawn");
    EXPECT(&w, &UN, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested"); /* r9 */
    CHECK_STR(queue_ids(w.r), "r7,r1,r4,r6,r5,r9,r2,r8");
    world_free(&w);

    /* in request order, the same arrivals stay in arrival order */
    world_init(&w, NULL);
    room_participant_seen(w.r, &none);
    EXPECT(&w, &none, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    CHECK_STR(queue_ids(w.r), "r1,r2,r3");
    world_free(&w);
}

/* ---- the floor ---- */

static void test_grant(void)
{
    struct world w;
    world_init(&w, NULL);
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r1"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, "fr"), PROTO_OK, "floor_requested"); /* r1 */
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");  /* r2 */
    w.now = T0 + 1000;
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    CHECK_JSON(data(&w, 0), "{\"floor\":{\"delegation\":\"France\",\"elapsed_ms\":0,"
                            "\"kind\":\"speech\",\"limit_s\":180,\"name\":\"Jean Dupont\","
                            "\"paused\":false,\"region\":null,\"request_id\":\"r1\",\"started_at\":1783000001000,"
                            "\"sub\":\"fr\",\"time_up\":false}}");
    CHECK_JSON(json_object_get(state(&w, 0), "floor"),
               "{\"delegation\":\"France\",\"elapsed_ms\":0,\"kind\":\"speech\",\"limit_s\":180,"
               "\"name\":\"Jean Dupont\",\"paused\":false,\"region\":null,\"request_id\":\"r1\","
               "\"started_at\":1783000001000,\"sub\":\"fr\",\"time_up\":false}");
    CHECK_INT(json_array_size(json_object_get(state(&w, 0), "queue")), 1);
    CHECK_INT(json_object_size(state(&w, 0)), 2);
    CHECK_STR(queue_ids(w.r), "r2");

    /* a grant over a running floor supersedes it, in one decision */
    w.now = T0 + 31000;
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r2"), PROTO_OK, "floor_ended,floor_granted");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"superseded\",\"spoken_ms\":30000,\"sub\":\"fr\"}");
    CHECK_JSON(state(&w, 0), "{\"floor\":null,\"stats\":{\"fr\":{\"spoken_ms\":30000,\"turns\":1}}}");
    CHECK_INT(json_integer_value(json_object_get(ev(&w, 1), "seq")),
              json_integer_value(json_object_get(ev(&w, 0), "seq")) + 1);
    CHECK_STR(w.r->floor.sub, "de");
    CHECK_INT(w.r->floor.kind, PROTO_KIND_REPLY);
    CHECK_INT(w.r->floor.limit_s, 60);
    CHECK_STR(queue_ids(w.r), "");

    /* by sub with nothing waiting: directly, speech, request_id null */
    w.now = T0 + 41000;
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "ngo"), PROTO_OK, "floor_ended,floor_granted");
    CHECK_JSON(data(&w, 1), "{\"floor\":{\"delegation\":\"Global NGO\",\"elapsed_ms\":0,"
                            "\"kind\":\"speech\",\"limit_s\":180,\"name\":\"Sam Lee\","
                            "\"paused\":false,\"region\":null,\"request_id\":null,\"started_at\":1783000041000,"
                            "\"sub\":\"ngo\",\"time_up\":false}}");
    /* by sub with requests waiting: their first one in the queue is
     * granted and leaves it, so the next grant of the head goes on */
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");       /* r3 */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");        /* r4 */
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested"); /* r5 */
    CHECK_STR(queue_ids(w.r), "r5,r3,r4");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "ngo"), PROTO_OK, "floor_ended,floor_granted");
    CHECK_JSON(json_object_get(json_object_get(data(&w, 1), "floor"), "request_id"), "\"r5\"");
    CHECK_INT(w.r->floor.kind, PROTO_KIND_POINT_OF_ORDER);
    CHECK_STR(queue_ids(w.r), "r3,r4");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "ngo"), PROTO_OK, "floor_ended,floor_granted");
    CHECK_JSON(json_object_get(json_object_get(data(&w, 1), "floor"), "request_id"), "\"r3\"");
    CHECK_STR(queue_ids(w.r), "r4");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_ended,floor_granted");
    CHECK_STR(w.r->floor.sub, "fr");
    CHECK_STR(queue_ids(w.r), "");
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_POINT_OF_ORDER, NULL), PROTO_OK, "floor_requested"); /* r6 */
    /* a moderator may be given the floor; observers and unknowns not */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "chair-2"), PROTO_OK, "floor_ended,floor_granted");
    CHECK_JSON(json_object_get(json_object_get(data(&w, 1), "floor"), "delegation"), "null");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "obs"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "nobody"), PROTO_ERR_NOT_FOUND, "");
    struct proto_cmd both = cmd_sub(PROTO_CMD_GRANT, "fr");
    both.has_request_id = true;
    snprintf(both.request_id, sizeof both.request_id, "r6");
    EXPECT(&w, &MOD, both, PROTO_ERR_BAD_REQUEST, "");
    /* point of order limit */
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r6"), PROTO_OK, "floor_ended,floor_granted");
    CHECK_INT(w.r->floor.limit_s, 60);
    CHECK_INT(w.r->floor.kind, PROTO_KIND_POINT_OF_ORDER);
    /* stats: fr 30 s + 0, de 10 s, ngo three turns of 0, chair-2 0 */
    CHECK_INT(room_member_find(w.r, "fr")->turns, 2);
    CHECK_INT(room_member_find(w.r, "de")->spoken_ms, 10000);
    CHECK_INT(room_member_find(w.r, "ngo")->turns, 3);
    CHECK_INT(room_member_find(w.r, "chair-2")->turns, 1);
    world_free(&w);

    /* a removed participant and one demoted to observer cannot be granted */
    world_init(&w, NULL);
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "de"), PROTO_OK, "participant_removed");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "de"), PROTO_ERR_NOT_FOUND, "");
    struct proto_cmd sr = cmd_sub(PROTO_CMD_SET_ROLE, "fr");
    sr.role = PROTO_ROLE_OBSERVER;
    EXPECT(&w, &MOD, sr, PROTO_OK, "role_changed");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "fr"), PROTO_ERR_NOT_FOUND, "");
    world_free(&w);
}

static void test_yield_end(void)
{
    struct world w;
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd(PROTO_CMD_YIELD), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_END_FLOOR), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_PAUSE), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_RESUME), PROTO_ERR_NOT_FOUND, "");
    struct proto_cmd ext = cmd(PROTO_CMD_EXTEND);
    ext.seconds = 10;
    EXPECT(&w, &MOD, ext, PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    w.now += 12345;
    EXPECT(&w, &DE, cmd(PROTO_CMD_YIELD), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_YIELD), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &FR, cmd(PROTO_CMD_YIELD), PROTO_OK, "floor_ended");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"yielded\",\"spoken_ms\":12345,\"sub\":\"fr\"}");
    CHECK_JSON(state(&w, 0), "{\"floor\":null,\"stats\":{\"fr\":{\"spoken_ms\":12345,\"turns\":1}}}");
    EXPECT(&w, &FR, cmd(PROTO_CMD_YIELD), PROTO_ERR_NOT_FOUND, "");
    /* end_floor by a moderator; a moderator holding the floor may yield */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "fr"), PROTO_OK, "floor_granted");
    w.now += 1000;
    EXPECT(&w, &MOD, cmd(PROTO_CMD_END_FLOOR), PROTO_OK, "floor_ended");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"moderator\",\"spoken_ms\":1000,\"sub\":\"fr\"}");
    CHECK_INT(room_member_find(w.r, "fr")->turns, 2);
    CHECK_INT(room_member_find(w.r, "fr")->spoken_ms, 13345);
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "chair-1"), PROTO_OK, "floor_granted");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_YIELD), PROTO_OK, "floor_ended");
    world_free(&w);
}

/* ---- the clock ---- */

static void test_clock(void)
{
    struct world w;
    world_init(&w, "{\"speech_s\":60}");
    CHECK_INT(room_deadline(w.r), -1);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    CHECK_INT(room_deadline(w.r), T0 + 60000);
    w.now = T0 + 10000;
    EXPECT(&w, &MOD, cmd(PROTO_CMD_PAUSE), PROTO_OK, "timer_paused");
    CHECK_JSON(data(&w, 0), "{}");
    CHECK_JSON(state(&w, 0), "{\"floor\":{\"delegation\":\"France\",\"elapsed_ms\":10000,"
                             "\"kind\":\"speech\",\"limit_s\":60,\"name\":\"Jean Dupont\","
                             "\"paused\":true,\"region\":null,\"request_id\":\"r1\",\"started_at\":1783000000000,"
                             "\"sub\":\"fr\",\"time_up\":false}}");
    CHECK_INT(room_deadline(w.r), -1);
    EXPECT(&w, &MOD, cmd(PROTO_CMD_PAUSE), PROTO_ERR_CONFLICT, "");
    w.now = T0 + 100000; /* paused: nothing happens */
    clock_tick(&w);
    CHECK_STR(names(&w), "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_RESUME), PROTO_OK, "timer_resumed");
    CHECK_INT(w.r->floor.started_at, T0 + 100000);
    CHECK_INT(w.r->floor.elapsed_ms, 10000);
    CHECK_INT(room_deadline(w.r), T0 + 150000);
    EXPECT(&w, &MOD, cmd(PROTO_CMD_RESUME), PROTO_ERR_CONFLICT, "");
    struct proto_cmd ext = cmd(PROTO_CMD_EXTEND);
    ext.seconds = 30;
    EXPECT(&w, &MOD, ext, PROTO_OK, "time_extended");
    CHECK_JSON(data(&w, 0), "{\"seconds\":30}");
    CHECK_INT(w.r->floor.limit_s, 90);
    CHECK_INT(room_deadline(w.r), T0 + 180000);
    ext.seconds = 0;
    EXPECT(&w, &MOD, ext, PROTO_ERR_BAD_REQUEST, "");
    ext.seconds = 3601;
    EXPECT(&w, &MOD, ext, PROTO_ERR_BAD_REQUEST, "");
    /* not yet */
    w.now = T0 + 179999;
    clock_tick(&w);
    CHECK_STR(names(&w), "");
    /* time up, exactly once */
    w.now = T0 + 180000;
    clock_tick(&w);
    CHECK_STR(names(&w), "time_up");
    CHECK_JSON(data(&w, 0), "{\"sub\":\"fr\"}");
    CHECK(json_is_null(json_object_get(ev(&w, 0), "actor")));
    CHECK(json_is_true(json_object_get(json_object_get(state(&w, 0), "floor"), "time_up")));
    CHECK_INT(room_deadline(w.r), -1);
    w.now = T0 + 181000;
    clock_tick(&w);
    CHECK_STR(names(&w), "");
    /* extend beyond the elapsed time: the clock may fire again */
    ext.seconds = 10;
    EXPECT(&w, &MOD, ext, PROTO_OK, "time_extended");
    CHECK(!w.r->floor.time_up);
    CHECK_INT(room_deadline(w.r), T0 + 190000);
    w.now = T0 + 195000;
    clock_tick(&w);
    CHECK_STR(names(&w), "time_up");
    /* an extension that still leaves the speaker over time keeps time_up */
    ext.seconds = 1;
    EXPECT(&w, &MOD, ext, PROTO_OK, "time_extended");
    CHECK(w.r->floor.time_up);
    CHECK_INT(room_deadline(w.r), -1);
    /* the speaker spoke 10 + 95 s */
    w.now = T0 + 200000;
    EXPECT(&w, &FR, cmd(PROTO_CMD_YIELD), PROTO_OK, "floor_ended");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"yielded\",\"spoken_ms\":110000,\"sub\":\"fr\"}");
    world_free(&w);

    /* extend is refused beyond 24 h in all */
    world_init(&w, "{\"speech_s\":7200}");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "fr"), PROTO_OK, "floor_granted");
    ext.seconds = 3600;
    for (int i = 0; i < 22; i++)
        EXPECT(&w, &MOD, ext, PROTO_OK, "time_extended");
    CHECK_INT(w.r->floor.limit_s, 86400);
    ext.seconds = 1;
    EXPECT(&w, &MOD, ext, PROTO_ERR_BAD_REQUEST, "");
    world_free(&w);
}

static void test_clock_end(void)
{
    struct world w;
    world_init(&w, "{\"reply_s\":20,\"on_time_up\":\"end\"}");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    CHECK_INT(room_deadline(w.r), T0 + 20000);
    w.now = T0 + 20400; /* the timer fired a little late */
    clock_tick(&w);
    CHECK_STR(names(&w), "floor_ended");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"time\",\"spoken_ms\":20400,\"sub\":\"de\"}");
    CHECK(json_is_null(json_object_get(ev(&w, 0), "actor")));
    CHECK(!w.r->floor.active);
    CHECK_INT(room_deadline(w.r), -1);
    clock_tick(&w);
    CHECK_STR(names(&w), "");
    world_free(&w);

    /* notify then the chair switches to end: the floor ends at once */
    world_init(&w, "{\"speech_s\":5}");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "fr"), PROTO_OK, "floor_granted");
    w.now = T0 + 5000;
    clock_tick(&w);
    CHECK_STR(names(&w), "time_up");
    struct proto_cmd us = cmd(PROTO_CMD_UPDATE_SETTINGS);
    us.settings = json_pack("{s:s}", "on_time_up", "end");
    EXPECT(&w, &MOD, us, PROTO_OK, "settings_changed");
    json_decref(us.settings);
    CHECK_INT(room_deadline(w.r), T0 + 5000);
    w.now = T0 + 6000;
    clock_tick(&w);
    CHECK_STR(names(&w), "floor_ended");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"time\",\"spoken_ms\":6000,\"sub\":\"fr\"}");
    world_free(&w);
}

static void test_disconnect(void)
{
    struct world w;
    world_init(&w, NULL);
    disconnect(&w, "fr"); /* no floor */
    CHECK_STR(names(&w), "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "fr"), PROTO_OK, "floor_granted");
    disconnect(&w, "de"); /* not the speaker */
    CHECK_STR(names(&w), "");
    w.now += 7000;
    disconnect(&w, "fr");
    CHECK_STR(names(&w), "timer_paused");
    CHECK(json_is_null(json_object_get(ev(&w, 0), "actor")));
    CHECK_INT(w.r->floor.elapsed_ms, 7000);
    disconnect(&w, "fr"); /* already paused */
    CHECK_STR(names(&w), "");
    w.now += 60000;
    EXPECT(&w, &MOD, cmd(PROTO_CMD_RESUME), PROTO_OK, "timer_resumed");
    w.now += 3000;
    EXPECT(&w, &FR, cmd(PROTO_CMD_YIELD), PROTO_OK, "floor_ended");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"yielded\",\"spoken_ms\":10000,\"sub\":\"fr\"}");
    world_free(&w);

    world_init(&w, "{\"pause_on_disconnect\":false}");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "fr"), PROTO_OK, "floor_granted");
    disconnect(&w, "fr");
    CHECK_STR(names(&w), "");
    world_free(&w);
}

/* ---- chat and moderation ---- */

static void test_say(void)
{
    struct world w;
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "Bonjour"), PROTO_OK, "message");
    CHECK_JSON(data(&w, 0), "{\"from\":{\"delegation\":\"France\",\"name\":\"Jean Dupont\","
                            "\"role\":\"delegate\",\"sub\":\"fr\"},\"kind\":\"chat\","
                            "\"text\":\"Bonjour\"}");
    CHECK_JSON(state(&w, 0), "{}");
    EXPECT(&w, &MOD, cmd_text(PROTO_CMD_SAY, "Hello"), PROTO_OK, "message");
    CHECK_JSON(json_object_get(data(&w, 0), "from"),
               "{\"delegation\":null,\"name\":\"Ana Chair\",\"role\":\"moderator\","
               "\"sub\":\"chair-1\"}");
    EXPECT(&w, &OBS, cmd_text(PROTO_CMD_SAY, "hi"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &FR, cmd(PROTO_CMD_SAY), PROTO_ERR_BAD_REQUEST, "");

    /* mute: a known member only; conflicts */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "nobody"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_UNMUTE, "fr"), PROTO_ERR_CONFLICT, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "fr"), PROTO_OK, "participant_muted");
    CHECK_JSON(data(&w, 0), "{\"sub\":\"fr\"}");
    CHECK_JSON(state(&w, 0), "{\"muted\":[\"fr\"]}");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "fr"), PROTO_ERR_CONFLICT, "");
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "Bonjour"), PROTO_ERR_MUTED, "");
    /* muted is chat only */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "de"), PROTO_OK, "participant_muted");
    /* sorted by sub, not in the order of muting or of the directory */
    CHECK_JSON(state(&w, 0), "{\"muted\":[\"de\",\"fr\"]}");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_UNMUTE, "fr"), PROTO_OK, "participant_unmuted");
    CHECK_JSON(data(&w, 0), "{\"sub\":\"fr\"}");
    CHECK_JSON(state(&w, 0), "{\"muted\":[\"de\"]}");
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "Merci"), PROTO_OK, "message");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "obs"), PROTO_OK, "participant_muted");

    /* chat "floor": the floor holder and moderators */
    struct proto_cmd us = cmd(PROTO_CMD_UPDATE_SETTINGS);
    us.settings = json_pack("{s:s}", "chat", "floor");
    EXPECT(&w, &MOD, us, PROTO_OK, "settings_changed");
    json_decref(us.settings);
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, cmd_text(PROTO_CMD_SAY, "x"), PROTO_OK, "message");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "x"), PROTO_OK, "message");
    EXPECT(&w, &NGO, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
    /* the chat rule comes before the mute */
    EXPECT(&w, &DE, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "de"), PROTO_OK, "floor_ended,floor_granted");
    EXPECT(&w, &DE, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_MUTED, "");

    /* chat "off": nobody, but announce still works */
    us.settings = json_pack("{s:s}", "chat", "off");
    EXPECT(&w, &MOD, us, PROTO_OK, "settings_changed");
    json_decref(us.settings);
    EXPECT(&w, &MOD, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, cmd_text(PROTO_CMD_ANNOUNCE, "Coffee break at 11"), PROTO_OK, "message");
    CHECK_JSON(data(&w, 0), "{\"from\":{\"delegation\":null,\"name\":\"Ana Chair\","
                            "\"role\":\"moderator\",\"sub\":\"chair-1\"},"
                            "\"kind\":\"announcement\",\"text\":\"Coffee break at 11\"}");
    CHECK_STR(json_string_value(json_object_get(ev(&w, 0), "actor")), "chair-1");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_ANNOUNCE), PROTO_ERR_BAD_REQUEST, "");
    /* a muted moderator may still announce */
    EXPECT(&w, &MOD2, cmd_sub(PROTO_CMD_MUTE, "chair-1"), PROTO_OK, "participant_muted");
    EXPECT(&w, &MOD, cmd_text(PROTO_CMD_ANNOUNCE, "Still here"), PROTO_OK, "message");
    world_free(&w);
}

static void test_remove(void)
{
    struct world w;
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");  /* r1 */
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");  /* r2 */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");    /* r3 */
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r2"), PROTO_OK, "floor_granted");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "fr"), PROTO_OK, "participant_muted");
    /* not the speaker: one event, requests and mute go */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "fr"), PROTO_OK, "participant_removed");
    CHECK_JSON(data(&w, 0), "{\"sub\":\"fr\"}");
    CHECK_JSON(state(&w, 0), "{\"muted\":[],\"queue\":[]}");
    CHECK(room_is_removed(w.r, "fr"));
    CHECK(!room_is_removed(w.r, "de"));
    /* removed: every command forbidden, and they are gone for the chair too */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "fr"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "fr"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_UNMUTE, "fr"), PROTO_ERR_NOT_FOUND, "");
    struct proto_cmd sr = cmd_sub(PROTO_CMD_SET_ROLE, "fr");
    sr.role = PROTO_ROLE_DELEGATE;
    EXPECT(&w, &MOD, sr, PROTO_ERR_NOT_FOUND, "");
    /* the speaker: the floor ends first (moderator), then the removal */
    w.now += 4000;
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "de"), PROTO_OK,
           "floor_ended,participant_removed");
    CHECK_JSON(data(&w, 0), "{\"reason\":\"moderator\",\"spoken_ms\":4000,\"sub\":\"de\"}");
    CHECK_JSON(data(&w, 1), "{\"sub\":\"de\"}");
    CHECK(!w.r->floor.active);
    /* a removed moderator is forbidden too; nobody removes themselves */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "chair-1"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "nobody"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_REMOVE), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &MOD2, cmd_sub(PROTO_CMD_REMOVE, "chair-1"), PROTO_OK, "participant_removed");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_CLOSE_LIST), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_PING), PROTO_OK, "");
    world_free(&w);
}

static void test_set_role(void)
{
    struct world w;
    world_init(&w, NULL);
    struct proto_cmd sr = cmd_sub(PROTO_CMD_SET_ROLE, "fr");
    sr.role = PROTO_ROLE_DELEGATE;
    EXPECT(&w, &MOD, sr, PROTO_ERR_CONFLICT, "");
    sr.role = PROTO_ROLE_MODERATOR;
    EXPECT(&w, &MOD, sr, PROTO_ERR_BAD_REQUEST, "");
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    sr.role = PROTO_ROLE_OBSERVER;
    EXPECT(&w, &MOD, sr, PROTO_OK, "role_changed");
    CHECK_JSON(data(&w, 0), "{\"role\":\"observer\",\"sub\":\"fr\"}");
    CHECK_JSON(state(&w, 0), "{}");
    CHECK_INT(room_effective_role(w.r, &FR), PROTO_ROLE_OBSERVER);
    /* their request stays (role_changed changes no queue) */
    CHECK_STR(queue_ids(w.r), "r1");
    EXPECT(&w, &FR, cmd_id(PROTO_CMD_WITHDRAW, "r1"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, sr, PROTO_ERR_CONFLICT, "");
    sr.role = PROTO_ROLE_DELEGATE;
    EXPECT(&w, &MOD, sr, PROTO_OK, "role_changed");
    EXPECT(&w, &FR, cmd_id(PROTO_CMD_WITHDRAW, "r1"), PROTO_OK, "request_withdrawn");
    /* an observer promoted to delegate may act */
    sr = cmd_sub(PROTO_CMD_SET_ROLE, "obs");
    sr.role = PROTO_ROLE_DELEGATE;
    EXPECT(&w, &MOD, sr, PROTO_OK, "role_changed");
    EXPECT(&w, &OBS, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &OBS, cmd_text(PROTO_CMD_SAY, "thanks"), PROTO_OK, "message");
    CHECK_STR(json_string_value(
                  json_object_get(json_object_get(data(&w, 0), "from"), "role")),
              "delegate");
    /* a chair may step a moderator down: then moderator commands are refused */
    sr = cmd_sub(PROTO_CMD_SET_ROLE, "chair-2");
    sr.role = PROTO_ROLE_DELEGATE;
    EXPECT(&w, &MOD, sr, PROTO_OK, "role_changed");
    EXPECT(&w, &MOD2, cmd(PROTO_CMD_CLOSE_LIST), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD2, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    /* unknown */
    sr = cmd_sub(PROTO_CMD_SET_ROLE, "nobody");
    sr.role = PROTO_ROLE_OBSERVER;
    EXPECT(&w, &MOD, sr, PROTO_ERR_NOT_FOUND, "");
    /* the participant list form reflects the override */
    json_t *mj = room_member_json(w.r, room_member_find(w.r, "chair-2"));
    CHECK_JSON(mj, "{\"category\":null,\"connections\":0,\"delegation\":null,\"muted\":false,"
                   "\"name\":\"Bo Vice\",\"online\":false,\"region\":null,\"role\":\"delegate\","
                   "\"sub\":\"chair-2\"}");
    json_decref(mj);
    world_free(&w);
}

/* ---- chat lines commute (issue 10) ---- */

/* room_event_chat_changes(): what each event changes of what a chat line
 * reads. Written out by name for every event of the protocol: an event
 * added to the tables and not placed here fails (it is not found, and the
 * count differs), whatever the function answers for it. */
static void test_chat_changes(void)
{
    static const struct {
        const char *name;
        unsigned changes;
    } want[] = {
        {"floor_requested", 0},
        {"request_withdrawn", 0},
        {"request_removed", 0},
        {"request_moved", 0},
        {"floor_granted", ROOM_CHAT_FLOOR},
        {"floor_ended", ROOM_CHAT_FLOOR},
        {"timer_paused", 0},
        {"timer_resumed", 0},
        {"time_extended", 0},
        {"time_up", 0},
        {"list_opened", 0},
        {"list_closed", 0},
        {"participant_muted", ROOM_CHAT_RULES},
        {"participant_unmuted", ROOM_CHAT_RULES},
        {"participant_removed", ROOM_CHAT_RULES},
        {"role_changed", ROOM_CHAT_RULES},
        {"message", 0},
        {"agenda_item_set", 0},
        {"status_changed", ROOM_CHAT_RULES},
        {"settings_changed", ROOM_CHAT_RULES},
        {"schedule_changed", 0},
        {"agenda_changed", 0},
        {"token_revoked", ROOM_CHAT_RULES},
        {"statement_deposited", 0},
        {"statement_published", 0},
        {"conclusions_published", 0},
    };
    size_t n = sizeof want / sizeof want[0];
    bool used[sizeof want / sizeof want[0]] = {false};
    CHECK_INT(n, PROTO_EV__COUNT);
    for (int e = 0; e < PROTO_EV__COUNT; e++) {
        const char *name = proto_event_name((enum proto_event)e);
        size_t k = 0;
        while (k < n && !(name && strcmp(want[k].name, name) == 0))
            k++;
        if (k == n) {
            CHECK(0);
            fprintf(stderr, "event %d (%s) is not placed in test_chat_changes\n", e,
                    name ? name : "?");
            continue;
        }
        CHECK(!used[k]);
        used[k] = true;
        CHECK_INT(proto_event_parse(want[k].name), e);
        unsigned got = room_event_chat_changes((enum proto_event)e);
        if (got != want[k].changes)
            fprintf(stderr, "room_event_chat_changes(%s) = %u, want %u\n", name, got,
                    want[k].changes);
        CHECK_INT(got, want[k].changes);
        CHECK_INT(got & ~(ROOM_CHAT_RULES | ROOM_CHAT_FLOOR), 0);
    }
    for (size_t k = 0; k < n; k++)
        CHECK(used[k]); /* no name in the table that the protocol lacks */
}

/* A role_changed event applied as committed: set_role cannot make anyone a
 * moderator, but the event can say so (the apply takes any role). */
static void commit_role(struct world *w, const char *sub, enum proto_role role)
{
    struct room_events out;
    memset(&out, 0, sizeof out);
    out.n = 1;
    out.ev[0].ts = w->now;
    out.ev[0].name = PROTO_EV_ROLE_CHANGED;
    snprintf(out.ev[0].actor, sizeof out.ev[0].actor, "%s", MOD.sub);
    out.ev[0].data = json_pack("{s:s, s:s}", "sub", sub, "role", proto_role_name(role));
    commit(w, &out);
}

/* room_chat_reads(): the floor is read only under chat "floor" and only
 * for someone whose role in the room (overrides included) is not
 * moderator; the rules always. */
static void test_chat_reads(void)
{
    static const char *const rules[] = {"open", "floor", "off"};
    const unsigned R = ROOM_CHAT_RULES, RF = ROOM_CHAT_RULES | ROOM_CHAT_FLOOR;
    for (int i = 0; i < 3; i++) {
        struct world w;
        char settings[64];
        bool floor = strcmp(rules[i], "floor") == 0;
        snprintf(settings, sizeof settings, "{\"chat\":\"%s\"}", rules[i]);
        world_init(&w, settings);
        CHECK_STR(proto_chat_name(w.r->settings.chat), rules[i]);
        /* by the token */
        CHECK_INT(room_chat_reads(w.r, &FR), floor ? RF : R);
        CHECK_INT(room_chat_reads(w.r, &DE), floor ? RF : R);
        CHECK_INT(room_chat_reads(w.r, &MOD), R);
        CHECK_INT(room_chat_reads(w.r, &MOD2), R);
        CHECK_INT(room_chat_reads(w.r, &OBS), floor ? RF : R);
        /* a delegate made moderator by a role_changed event */
        commit_role(&w, DE.sub, PROTO_ROLE_MODERATOR);
        CHECK_INT(room_effective_role(w.r, &DE), PROTO_ROLE_MODERATOR);
        CHECK_INT(room_chat_reads(w.r, &DE), R);
        /* a moderator made delegate (set_role, the command) */
        struct proto_cmd sr = cmd_sub(PROTO_CMD_SET_ROLE, MOD2.sub);
        sr.role = PROTO_ROLE_DELEGATE;
        EXPECT(&w, &MOD, sr, PROTO_OK, "role_changed");
        CHECK_INT(room_effective_role(w.r, &MOD2), PROTO_ROLE_DELEGATE);
        CHECK_INT(room_chat_reads(w.r, &MOD2), floor ? RF : R);
        /* the others unchanged */
        CHECK_INT(room_chat_reads(w.r, &FR), floor ? RF : R);
        CHECK_INT(room_chat_reads(w.r, &MOD), R);
        /* what decide does agrees: under "floor" with nobody speaking, the
         * promoted delegate may chat and the demoted moderator may not */
        if (floor) {
            EXPECT(&w, &DE, cmd_text(PROTO_CMD_SAY, "x"), PROTO_OK, "message");
            EXPECT(&w, &MOD2, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
            EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "x"), PROTO_ERR_FORBIDDEN, "");
            /* granted, fr reads the floor and may chat (so a floor_ended
             * matters to fr's line) */
            EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, FR.sub), PROTO_OK, "floor_granted");
            EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "x"), PROTO_OK, "message");
            CHECK_INT(room_chat_reads(w.r, &FR), RF);
        }
        /* back again: the promoted delegate demoted, the demoted moderator
         * restored by an event */
        commit_role(&w, DE.sub, PROTO_ROLE_DELEGATE);
        CHECK_INT(room_chat_reads(w.r, &DE), floor ? RF : R);
        commit_role(&w, MOD2.sub, PROTO_ROLE_MODERATOR);
        CHECK_INT(room_chat_reads(w.r, &MOD2), R);
        /* the chat rule is read from the state: changing it changes what a
         * delegate's line reads */
        struct proto_cmd us = cmd(PROTO_CMD_UPDATE_SETTINGS);
        us.settings = json_pack("{s:s}", "chat", floor ? "open" : "floor");
        EXPECT(&w, &MOD, us, PROTO_OK, "settings_changed");
        json_decref(us.settings);
        CHECK_INT(room_chat_reads(w.r, &FR), floor ? R : RF);
        CHECK_INT(room_chat_reads(w.r, &MOD), R);
        world_free(&w);
    }
}

static void test_update_settings(void)
{
    struct world w;
    world_init(&w, NULL);
    struct proto_cmd us = cmd(PROTO_CMD_UPDATE_SETTINGS);
    EXPECT(&w, &MOD, us, PROTO_ERR_BAD_REQUEST, "");
    us.settings = json_pack("{s:i}", "speech_s", 0);
    EXPECT(&w, &MOD, us, PROTO_ERR_BAD_REQUEST, "");
    CHECK(strstr(w.msg, "speech_s") != NULL);
    json_decref(us.settings);
    us.settings = json_pack("{s:b}", "bogus", 1);
    EXPECT(&w, &MOD, us, PROTO_ERR_BAD_REQUEST, "");
    CHECK(strstr(w.msg, "bogus") != NULL);
    json_decref(us.settings);
    us.settings = json_pack("{s:i}", "speech_s", 180); /* no change: ack, no event */
    EXPECT(&w, &MOD, us, PROTO_OK, "");
    json_decref(us.settings);
    us.settings = json_pack("{s:i, s:b}", "speech_s", 90, "list_open", 0);
    EXPECT(&w, &MOD, us, PROTO_OK, "settings_changed");
    json_decref(us.settings);
    const char *want = "{\"changeover_s\":15,\"chat\":\"open\",\"list_open\":false,\"on_time_up\":\"notify\","
                       "\"pause_on_disconnect\":true,\"point_of_order_s\":60,"
                       "\"queue_order\":\"request\",\"replies_per_item\":2,\"reply_s\":60,"
                       "\"speech_s\":90}";
    char wrapped[512];
    snprintf(wrapped, sizeof wrapped, "{\"settings\":%s}", want);
    CHECK_JSON(data(&w, 0), wrapped);
    CHECK_JSON(state(&w, 0), wrapped);
    CHECK_INT(w.r->settings.speech_s, 90);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_ERR_LIST_CLOSED, "");
    /* a running floor keeps the limit it was granted with */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "fr"), PROTO_OK, "floor_granted");
    CHECK_INT(w.r->floor.limit_s, 90);
    us.settings = json_pack("{s:i}", "speech_s", 30);
    EXPECT(&w, &MOD, us, PROTO_OK, "settings_changed");
    json_decref(us.settings);
    CHECK_INT(w.r->floor.limit_s, 90);
    world_free(&w);
}

/* ---- apply, JSON ---- */

static void test_apply_rejects(void)
{
    struct world w;
    struct room_event e;
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    json_t *before = room_state_json(w.r, true);

    memset(&e, 0, sizeof e);
    e.name = PROTO_EV_LIST_CLOSED;
    e.ts = T0;
    e.data = json_object();
    e.seq = w.r->seq; /* replayed */
    CHECK_INT(room_apply(w.r, &e), -1);
    e.seq = w.r->seq + 2; /* a gap */
    CHECK_INT(room_apply(w.r, &e), -1);
    room_event_clear(&e);

    static const struct {
        enum proto_event name;
        const char *data;
    } bad[] = {
        {PROTO_EV_REQUEST_WITHDRAWN, "{\"request_id\":\"r9\"}"},
        {PROTO_EV_REQUEST_REMOVED, "{}"},
        {PROTO_EV_REQUEST_MOVED, "{\"request_id\":\"r1\",\"to\":-1}"},
        {PROTO_EV_FLOOR_ENDED, "{\"sub\":\"fr\",\"reason\":\"yielded\",\"spoken_ms\":0}"},
        {PROTO_EV_TIMER_PAUSED, "{}"},
        {PROTO_EV_TIMER_RESUMED, "{}"},
        {PROTO_EV_TIME_EXTENDED, "{\"seconds\":10}"},
        {PROTO_EV_TIME_UP, "{\"sub\":\"fr\"}"},
        {PROTO_EV_PARTICIPANT_MUTED, "{\"sub\":\"bad sub\"}"},
        {PROTO_EV_ROLE_CHANGED, "{\"sub\":\"fr\",\"role\":\"king\"}"},
        {PROTO_EV_AGENDA_ITEM_SET, "{\"item\":\"q7\"}"},
        {PROTO_EV_STATUS_CHANGED, "{\"status\":\"paused\"}"},
        {PROTO_EV_SETTINGS_CHANGED, "{\"settings\":{\"speech_s\":-4}}"},
        {PROTO_EV_MESSAGE, "{}"},
        {PROTO_EV_FLOOR_REQUESTED, "{\"request\":{\"id\":\"r1\",\"sub\":\"de\",\"name\":\"E\","
                                   "\"kind\":\"speech\",\"at\":1}}"}, /* duplicate id */
        {PROTO_EV_FLOOR_REQUESTED, "{\"request\":{\"id\":\"r2\",\"sub\":\"de\",\"name\":\"E\","
                                   "\"kind\":\"sing\",\"at\":1}}"},
        {PROTO_EV_FLOOR_GRANTED, "{\"floor\":{\"sub\":\"de\",\"name\":\"E\",\"kind\":\"speech\","
                                 "\"request_id\":\"r5\",\"limit_s\":60,\"started_at\":0,"
                                 "\"elapsed_ms\":0,\"paused\":false,\"time_up\":false}}"},
        {PROTO_EV_FLOOR_GRANTED, "{\"floor\":null}"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        e.seq = w.r->seq + 1;
        e.name = bad[i].name;
        e.data = json_loads(bad[i].data, 0, NULL);
        CHECK(e.data != NULL);
        int rc = room_apply(w.r, &e);
        CHECK_INT(rc, -1);
        if (rc != -1)
            fprintf(stderr, "  applied: %s %s\n", proto_event_name(bad[i].name), bad[i].data);
        room_event_clear(&e);
    }
    json_t *after = room_state_json(w.r, true);
    CHECK(json_equal(before, after));
    json_decref(before);
    json_decref(after);

    /* removal of the floor holder without floor_ended first is not ours */
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    memset(&e, 0, sizeof e);
    e.seq = w.r->seq + 1;
    e.name = PROTO_EV_PARTICIPANT_REMOVED;
    e.data = json_pack("{s:s}", "sub", "fr");
    CHECK_INT(room_apply(w.r, &e), -1);
    room_event_clear(&e);

    /* wire events read back strictly */
    static const char *const bad_json[] = {
        "[]",
        "{\"seq\":1,\"ts\":1,\"name\":\"nope\",\"data\":{}}",
        "{\"seq\":\"1\",\"ts\":1,\"name\":\"message\",\"data\":{}}",
        "{\"seq\":1,\"ts\":1,\"name\":\"message\"}",
        "{\"seq\":1,\"ts\":1,\"name\":\"message\",\"data\":{},\"actor\":5}",
        "{\"seq\":-1,\"ts\":1,\"name\":\"message\",\"data\":{}}",
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        json_t *j = json_loads(bad_json[i], JSON_DECODE_ANY, NULL);
        CHECK_INT(room_event_from_json(j, &e), -1);
        CHECK(e.data == NULL);
        json_decref(j);
    }
    json_t *j = json_loads("{\"seq\":3,\"ts\":9,\"name\":\"time_up\",\"actor\":null,"
                           "\"data\":{\"sub\":\"fr\"}}",
                           0, NULL);
    CHECK_INT(room_event_from_json(j, &e), 0);
    CHECK_INT(e.seq, 3);
    CHECK_INT(e.ts, 9);
    CHECK_INT(e.name, PROTO_EV_TIME_UP);
    CHECK_STR(e.actor, "");
    room_event_clear(&e);
    json_decref(j);
    world_free(&w);
}

static void test_event_state_parts(void)
{
    /* every event carries exactly the parts the table names */
    struct world w;
    matrix_world(&w);
    for (size_t i = 0; i < json_array_size(w.log); i++) {
        json_t *e = json_array_get(w.log, i);
        int name = proto_event_parse(json_string_value(json_object_get(e, "name")));
        unsigned parts = proto_event_parts((enum proto_event)name);
        size_t n = 0;
        for (unsigned p = parts; p; p &= p - 1)
            n++;
        CHECK_INT(json_object_size(json_object_get(e, "state")), n);
    }
    world_free(&w);
}

static void test_snapshot(void)
{
    struct world w;
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, "fr"), PROTO_OK, "floor_requested");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    w.now += 61000;
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_ended,floor_granted");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "ngo"), PROTO_OK, "participant_muted");
    json_t *s = room_snapshot_json(w.r);
    CHECK_JSON(s,
               "{\"agenda\":[{\"id\":\"q1\",\"title\":\"First question\"},"
               "{\"id\":\"q2\",\"title\":\"Second question\"}],\"agenda_item\":\"q1\","
               "\"agenda_item_started_at\":1782999999000,"
               "\"floor\":{\"delegation\":\"Germany\",\"elapsed_ms\":0,\"kind\":\"speech\","
               "\"limit_s\":180,\"name\":\"Eva Berg\",\"paused\":false,\"region\":null,\"request_id\":\"r2\","
               "\"started_at\":1783000061000,\"sub\":\"de\",\"time_up\":false},"
               "\"id\":\"closing-discussion\",\"muted\":[\"ngo\"],\"queue\":[],"
               "\"schedule\":null,"
               "\"settings\":{\"changeover_s\":15,\"chat\":\"open\",\"list_open\":true,\"on_time_up\":\"notify\","
               "\"pause_on_disconnect\":true,\"point_of_order_s\":60,"
               "\"queue_order\":\"request\",\"replies_per_item\":2,\"reply_s\":60,"
               "\"speech_s\":180},\"stats\":{\"fr\":{\"spoken_ms\":61000,\"turns\":1}},"
               "\"status\":\"open\",\"title\":\"Closing discussion\"}");
    /* the contract's key order */
    const char *order[] = {"id",       "title", "status", "agenda", "agenda_item",
                           "agenda_item_started_at", "settings", "queue", "floor", "muted",
                           "stats", "schedule"};
    void *it = json_object_iter(s);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++, it = json_object_iter_next(s, it))
        CHECK_STR(it ? json_object_iter_key(it) : NULL, order[i]);
    json_decref(s);

    /* the participant form */
    json_t *m = room_member_json(w.r, room_member_find(w.r, "fr"));
    CHECK_JSON(m, "{\"category\":\"member_state\",\"connections\":0,\"delegation\":\"France\","
                  "\"muted\":false,\"name\":\"Jean Dupont\",\"online\":false,"
                  "\"region\":null,\"role\":\"delegate\",\"sub\":\"fr\"}");
    json_decref(m);
    world_free(&w);
}

static void test_state_round_trip(void)
{
    struct world w;
    char err[200];
    matrix_world(&w);
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_MUTE, "ngo"), PROTO_OK, "participant_muted");
    struct proto_cmd sr = cmd_sub(PROTO_CMD_SET_ROLE, "unodc");
    sr.role = PROTO_ROLE_OBSERVER;
    EXPECT(&w, &MOD, sr, PROTO_OK, "role_changed");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_PAUSE), PROTO_OK, "timer_paused");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "fr"), PROTO_OK, "participant_removed");
    json_t *j = room_state_json(w.r, true);
    char *text = json_dumps(j, JSON_COMPACT);
    json_t *back_j = json_loads(text, 0, NULL);
    struct room *back = room_state_from_json(back_j, err, sizeof err);
    CHECK(back != NULL);
    if (!back)
        fprintf(stderr, "room_state_from_json: %s\n", err);
    json_t *j2 = back ? room_state_json(back, true) : NULL;
    CHECK(json_equal(j, j2));
    json_t *snap1 = room_snapshot_json(w.r), *snap2 = back ? room_snapshot_json(back) : NULL;
    CHECK(json_equal(snap1, snap2));
    if (back) {
        CHECK_INT(back->seq, w.r->seq);
        CHECK_INT(back->next_request, w.r->next_request);
        CHECK_INT(back->members_len, w.r->members_len);
        CHECK_STR(back->members[0].sub, w.r->members[0].sub); /* order kept */
        CHECK_STR(back->epoch, "ep1");
    }
    /* a clone is equal too */
    struct room *c = room_clone(w.r);
    json_t *j3 = room_state_json(c, true);
    CHECK(json_equal(j, j3));

    /* replaying the log from the initial room gives the sequenced state */
    struct room *replay = make_room(NULL);
    for (size_t i = 0; i < json_array_size(w.log); i++) {
        struct room_event e;
        CHECK_INT(room_event_from_json(json_array_get(w.log, i), &e), 0);
        CHECK_INT(room_apply(replay, &e), 0);
        room_event_clear(&e);
    }
    json_t *s1 = room_state_json(w.r, false), *s2 = room_state_json(replay, false);
    CHECK(json_equal(s1, s2));
    if (!json_equal(s1, s2)) {
        char *a = json_dumps(s1, JSON_SORT_KEYS), *b = json_dumps(s2, JSON_SORT_KEYS);
        fprintf(stderr, "live:   %s\nreplay: %s\n", a, b);
        free(a);
        free(b);
    }

    /* bad storage */
    static const char *const bad[] = {
        "{}", "{\"v\":2}", "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *b = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        err[0] = '\0';
        CHECK(room_state_from_json(b, err, sizeof err) == NULL);
        CHECK(err[0] != '\0');
        json_decref(b);
    }
    json_object_set_new(back_j, "agenda_item", json_string("zz"));
    CHECK(room_state_from_json(back_j, err, sizeof err) == NULL);

    json_decref(s1);
    json_decref(s2);
    room_destroy(replay);
    json_decref(j3);
    room_destroy(c);
    json_decref(snap1);
    json_decref(snap2);
    json_decref(j2);
    room_destroy(back);
    json_decref(back_j);
    free(text);
    json_decref(j);
    world_free(&w);
}

static void test_participants(void)
{
    struct room *r = make_room(NULL);
    CHECK(room_participant_seen(r, &FR));
    CHECK(!room_participant_seen(r, &FR));
    struct room_actor fr2 = FR;
    snprintf(fr2.name, sizeof fr2.name, "Jean-Pierre Dupont");
    CHECK(room_participant_seen(r, &fr2));
    CHECK_STR(room_member_find(r, "fr")->name, "Jean-Pierre Dupont");
    CHECK(room_member_find(r, "fr")->seen);
    CHECK(room_participant_seen(r, &OBS));
    CHECK(!room_member_find(r, "obs")->seen); /* observers are not listed */
    CHECK(room_member_find(r, "nobody") == NULL);
    CHECK_INT(room_effective_role(r, &OBS), PROTO_ROLE_OBSERVER);
    CHECK_INT(room_effective_role(r, &MOD), PROTO_ROLE_MODERATOR); /* unknown: token role */
    /* an observer token later used as delegate: listed from then on */
    struct room_actor obs2 = OBS;
    obs2.role = PROTO_ROLE_DELEGATE;
    CHECK(room_participant_seen(r, &obs2));
    CHECK(room_member_find(r, "obs")->seen);
    room_destroy(r);
}

/* The hub's system actor (admin API): an empty sub with moderator role. */
static void test_system_actor(void)
{
    struct world w;
    struct room_actor sys = actor("", "admin", "", PROTO_CAT_NONE, PROTO_ROLE_MODERATOR);
    world_init(&w, NULL);
    struct proto_cmd st = cmd(PROTO_CMD_SET_STATUS);
    st.status = PROTO_STATUS_CLOSED;
    EXPECT(&w, &sys, st, PROTO_OK, "status_changed");
    CHECK(json_is_null(json_object_get(ev(&w, 0), "actor")));
    world_free(&w);
}

/* ---- version 1.1: schedule, scheduled status, timed agenda, regions ---- */

static struct room *room_from(const char *spec, char *err, size_t errsz)
{
    json_t *j = json_loads(spec, 0, NULL);
    struct room *r = j ? room_create(j, "ep1", T0 - 1000, err, errsz) : NULL;
    json_decref(j);
    return r;
}

#define SPEC_HEAD "{\"id\":\"closing-discussion\",\"title\":\"Closing discussion\","
#define SCHED "{\"starts_at\":1783000000000,\"ends_at\":1783007200000,\"time_zone\":\"America/New_York\"}"
/* the same with sorted keys, as CHECK_JSON prints it */
#define SCHED_SORTED "{\"ends_at\":1783007200000,\"starts_at\":1783000000000,\"time_zone\":\"America/New_York\"}"

static void test_create_v11(void)
{
    char err[256] = "";
    struct room *r = room_from(SPEC_HEAD "\"status\":\"scheduled\",\"schedule\":" SCHED ","
                               "\"agenda\":[{\"id\":\"q1\",\"title\":\"One\",\"planned_s\":1800},"
                               "{\"id\":\"usg\",\"title\":\"Conclusions\",\"planned_s\":900,"
                               "\"reserved\":true}],\"settings\":{\"changeover_s\":20}}",
                               err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "room_create: %s\n", err);
        return;
    }
    CHECK_INT(r->status, PROTO_STATUS_SCHEDULED);
    CHECK(r->schedule.set);
    CHECK_INT(r->schedule.starts_at, INT64_C(1783000000000));
    CHECK_INT(r->schedule.ends_at, INT64_C(1783007200000));
    CHECK_STR(r->schedule.time_zone, "America/New_York");
    CHECK_INT(r->agenda[0].planned_s, 1800);
    CHECK(!r->agenda[0].reserved);
    CHECK_INT(r->agenda[1].planned_s, 900);
    CHECK(r->agenda[1].reserved);
    CHECK_INT(r->settings.changeover_s, 20);
    CHECK(!r->has_item_started); /* null while scheduled */
    json_t *snap = room_snapshot_json(r);
    CHECK_JSON(json_object_get(snap, "schedule"), SCHED_SORTED);
    CHECK_JSON(json_object_get(snap, "agenda"),
               "[{\"id\":\"q1\",\"planned_s\":1800,\"title\":\"One\"},"
               "{\"id\":\"usg\",\"planned_s\":900,\"reserved\":true,\"title\":\"Conclusions\"}]");
    CHECK(json_is_null(json_object_get(snap, "agenda_item_started_at")));
    CHECK_STR(json_string_value(json_object_get(snap, "status")), "scheduled");
    json_decref(snap);
    room_destroy(r);

    /* default: open, no schedule, the first item started at creation */
    r = room_from(SPEC_HEAD "\"agenda\":[{\"id\":\"q1\",\"title\":\"One\"}]}", err, sizeof err);
    CHECK(r != NULL);
    CHECK_INT(r->status, PROTO_STATUS_OPEN);
    CHECK(!r->schedule.set);
    CHECK(r->has_item_started);
    CHECK_INT(r->item_started_at, T0 - 1000);
    CHECK_INT(r->settings.changeover_s, 15);
    room_destroy(r);
    /* explicit open, and null schedule */
    r = room_from(SPEC_HEAD "\"status\":\"open\",\"schedule\":null}", err, sizeof err);
    CHECK(r != NULL);
    CHECK(r && !r->has_item_started); /* no agenda: no item to start */
    room_destroy(r);

    /* every new field refused with its name, nothing created */
    static const struct {
        const char *spec, *field;
    } bad[] = {
        {SPEC_HEAD "\"status\":\"suspended\"}", "'status'"},
        {SPEC_HEAD "\"status\":\"closed\"}", "'status'"},
        {SPEC_HEAD "\"status\":1}", "'status'"},
        {SPEC_HEAD "\"schedule\":[]}", "'schedule'"},
        {SPEC_HEAD "\"schedule\":{\"ends_at\":2,\"time_zone\":\"UTC\"}}", "'schedule.starts_at'"},
        {SPEC_HEAD "\"schedule\":{\"starts_at\":1,\"time_zone\":\"UTC\"}}", "'schedule.ends_at'"},
        {SPEC_HEAD "\"schedule\":{\"starts_at\":2,\"ends_at\":2,\"time_zone\":\"UTC\"}}",
         "'schedule.ends_at' must be after"},
        {SPEC_HEAD "\"schedule\":{\"starts_at\":-5,\"ends_at\":2,\"time_zone\":\"UTC\"}}",
         "'schedule.starts_at'"},
        {SPEC_HEAD "\"schedule\":{\"starts_at\":1.5,\"ends_at\":2,\"time_zone\":\"UTC\"}}",
         "'schedule.starts_at'"},
        {SPEC_HEAD "\"schedule\":{\"starts_at\":1,\"ends_at\":2}}", "'schedule.time_zone'"},
        {SPEC_HEAD "\"schedule\":{\"starts_at\":1,\"ends_at\":2,\"time_zone\":\"../x\"}}",
         "'schedule.time_zone'"},
        {SPEC_HEAD "\"schedule\":{\"starts_at\":1,\"ends_at\":2,\"time_zone\":7}}",
         "'schedule.time_zone'"},
        {SPEC_HEAD "\"schedule\":{\"starts_at\":1,\"ends_at\":2,\"time_zone\":\"UTC\",\"tz\":1}}",
         "'schedule.tz'"},
        {SPEC_HEAD "\"agenda\":[{\"id\":\"a\",\"title\":\"x\",\"planned_s\":0}]}", "'planned_s'"},
        {SPEC_HEAD "\"agenda\":[{\"id\":\"a\",\"title\":\"x\",\"planned_s\":86401}]}",
         "'planned_s'"},
        {SPEC_HEAD "\"agenda\":[{\"id\":\"a\",\"title\":\"x\",\"planned_s\":\"30\"}]}",
         "'planned_s'"},
        {SPEC_HEAD "\"agenda\":[{\"id\":\"a\",\"title\":\"x\",\"reserved\":1}]}", "'reserved'"},
        {SPEC_HEAD "\"settings\":{\"changeover_s\":601}}", "'changeover_s'"},
        {SPEC_HEAD "\"settings\":{\"changeover_s\":-1}}", "'changeover_s'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        r = room_from(bad[i].spec, err, sizeof err);
        CHECK(r == NULL);
        if (!strstr(err, bad[i].field))
            fprintf(stderr, "%s: '%s' does not name %s\n", bad[i].spec, err, bad[i].field);
        CHECK(strstr(err, bad[i].field) != NULL);
        room_destroy(r);
    }
    /* the limits themselves are fine */
    r = room_from(SPEC_HEAD "\"agenda\":[{\"id\":\"a\",\"title\":\"x\",\"planned_s\":86400,"
                  "\"reserved\":false},{\"id\":\"b\",\"title\":\"y\",\"planned_s\":1,"
                  "\"reserved\":null}],\"settings\":{\"changeover_s\":600}}",
                  err, sizeof err);
    CHECK(r != NULL);
    room_destroy(r);
    r = room_from(SPEC_HEAD "\"settings\":{\"changeover_s\":0}}", err, sizeof err);
    CHECK(r && r->settings.changeover_s == 0);
    room_destroy(r);
}

/* A world whose room was created scheduled. */
static void sched_world(struct world *w)
{
    char err[256] = "";
    memset(w, 0, sizeof *w);
    w->r = room_from(SPEC_HEAD "\"status\":\"scheduled\",\"schedule\":" SCHED ","
                     "\"agenda\":[{\"id\":\"q1\",\"title\":\"First question\",\"planned_s\":1800},"
                     "{\"id\":\"q2\",\"title\":\"Second question\",\"planned_s\":1800},"
                     "{\"id\":\"usg\",\"title\":\"Conclusions\",\"planned_s\":900,"
                     "\"reserved\":true}]}",
                     err, sizeof err);
    w->now = T0;
    w->log = json_array();
    w->last = json_array();
    room_participant_seen(w->r, &MOD);
    room_participant_seen(w->r, &FR);
    room_participant_seen(w->r, &DE);
    room_participant_seen(w->r, &NGO);
    room_participant_seen(w->r, &OBS);
}

static void test_scheduled(void)
{
    struct world w;
    sched_world(&w);
    /* before the meeting: requests (the list is open), chat, withdraw */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    EXPECT(&w, &NGO, cmd_id(PROTO_CMD_WITHDRAW, "r3"), PROTO_OK, "request_withdrawn");
    EXPECT(&w, &FR, cmd_text(PROTO_CMD_SAY, "Good morning"), PROTO_OK, "message");
    EXPECT(&w, &OBS, cmd(PROTO_CMD_REQUEST_FLOOR), PROTO_ERR_FORBIDDEN, "");
    /* but nobody gets the floor, in any form of grant; permission first */
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_ERR_ROOM_NOT_OPEN, "");
    CHECK(strstr(w.msg, "not opened") != NULL);
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r1"), PROTO_ERR_ROOM_NOT_OPEN, "");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "de"), PROTO_ERR_ROOM_NOT_OPEN, "");
    EXPECT(&w, &FR, cmd(PROTO_CMD_GRANT), PROTO_ERR_FORBIDDEN, "");
    /* the chair arranges the list */
    struct proto_cmd mv = cmd_id(PROTO_CMD_MOVE, "r2");
    mv.to = 0;
    EXPECT(&w, &MOD, mv, PROTO_OK, "request_moved");
    /* moving to another item keeps the clock unstarted */
    struct proto_cmd ai = cmd(PROTO_CMD_SET_AGENDA_ITEM);
    snprintf(ai.item, sizeof ai.item, "q2");
    EXPECT(&w, &MOD, ai, PROTO_OK, "agenda_item_set");
    CHECK_JSON(state(&w, 0), "{\"agenda_item\":\"q2\",\"agenda_item_started_at\":null}");
    snprintf(ai.item, sizeof ai.item, "q1");
    EXPECT(&w, &MOD, ai, PROTO_OK, "agenda_item_set");
    /* going "back" to scheduled is not a thing */
    struct proto_cmd st = cmd(PROTO_CMD_SET_STATUS);
    st.status = PROTO_STATUS_SCHEDULED;
    EXPECT(&w, &MOD, st, PROTO_ERR_CONFLICT, "");
    /* suspending before the opening does not start the clock */
    st.status = PROTO_STATUS_SUSPENDED;
    w.now += 1000;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    CHECK_JSON(state(&w, 0), "{\"agenda_item_started_at\":null,\"status\":\"suspended\"}");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_ERR_ROOM_NOT_OPEN, "");
    /* the opening starts q1's clock, in the event's state */
    st.status = PROTO_STATUS_OPEN;
    w.now = T0 + 60000;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    CHECK_JSON(state(&w, 0), "{\"agenda_item_started_at\":1783000060000,\"status\":\"open\"}");
    CHECK(w.r->has_item_started);
    CHECK_INT(w.r->item_started_at, T0 + 60000);
    st.status = PROTO_STATUS_SCHEDULED;
    EXPECT(&w, &MOD, st, PROTO_ERR_BAD_REQUEST, "");
    CHECK(strstr(w.msg, "'status'") != NULL);
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    /* suspend and reopen: the item's start stays (only the first opening) */
    st.status = PROTO_STATUS_SUSPENDED;
    w.now += 5000;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    st.status = PROTO_STATUS_OPEN;
    w.now += 5000;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    CHECK_JSON(state(&w, 0), "{\"agenda_item_started_at\":1783000060000,\"status\":\"open\"}");
    /* the next item starts when it is set */
    snprintf(ai.item, sizeof ai.item, "q2");
    w.now = T0 + 1800000;
    EXPECT(&w, &MOD, ai, PROTO_OK, "agenda_item_set");
    CHECK_JSON(state(&w, 0), "{\"agenda_item\":\"q2\",\"agenda_item_started_at\":1783001800000}");
    /* a scheduled meeting may also be called off */
    world_free(&w);
    sched_world(&w);
    st.status = PROTO_STATUS_CLOSED;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    CHECK_JSON(state(&w, 0), "{\"agenda_item_started_at\":null,\"status\":\"closed\"}");
    world_free(&w);
}

static void test_set_schedule(void)
{
    struct world w;
    world_init(&w, NULL);
    struct proto_cmd c = cmd(PROTO_CMD_SET_SCHEDULE);
    c.schedule = json_loads(SCHED, 0, NULL);
    EXPECT(&w, &FR, c, PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, c, PROTO_OK, "schedule_changed");
    CHECK_JSON(data(&w, 0), "{\"schedule\":" SCHED_SORTED "}");
    CHECK_JSON(state(&w, 0), "{\"schedule\":" SCHED_SORTED "}");
    /* the same again: done, nothing committed */
    EXPECT(&w, &MOD, c, PROTO_OK, "");
    json_decref((json_t *)c.schedule);
    /* a later end */
    c.schedule = json_loads("{\"starts_at\":1783000000000,\"ends_at\":1783008000000,"
                            "\"time_zone\":\"America/New_York\"}", 0, NULL);
    EXPECT(&w, &MOD, c, PROTO_OK, "schedule_changed");
    CHECK_INT(w.r->schedule.ends_at, INT64_C(1783008000000));
    json_decref((json_t *)c.schedule);
    /* invalid: bad_request naming the field, the schedule as it was */
    static const struct {
        const char *j, *field;
    } bad[] = {
        {"{\"starts_at\":5,\"ends_at\":4,\"time_zone\":\"UTC\"}", "'schedule.ends_at'"},
        {"{\"starts_at\":\"11:30\",\"ends_at\":4,\"time_zone\":\"UTC\"}", "'schedule.starts_at'"},
        {"{\"starts_at\":1,\"ends_at\":4,\"time_zone\":\"New York\"}", "'schedule.time_zone'"},
        {"{\"starts_at\":1,\"ends_at\":4,\"time_zone\":\"\"}", "'schedule.time_zone'"},
        {"{\"starts_at\":1,\"ends_at\":4,\"time_zone\":\"UTC\",\"x\":0}", "'schedule.x'"},
        {"{\"starts_at\":1,\"ends_at\":9007199254740993,\"time_zone\":\"UTC\"}",
         "'schedule.ends_at'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.schedule = json_loads(bad[i].j, 0, NULL);
        EXPECT(&w, &MOD, c, PROTO_ERR_BAD_REQUEST, "");
        CHECK(strstr(w.msg, bad[i].field) != NULL);
        CHECK_INT(w.r->schedule.ends_at, INT64_C(1783008000000));
        json_decref((json_t *)c.schedule);
    }
    /* null removes it */
    c.schedule = json_null();
    EXPECT(&w, &MOD, c, PROTO_OK, "schedule_changed");
    CHECK_JSON(state(&w, 0), "{\"schedule\":null}");
    CHECK(!w.r->schedule.set);
    EXPECT(&w, &MOD, c, PROTO_OK, "");
    world_free(&w);
}

static void test_set_agenda(void)
{
    struct world w;
    world_init(&w, NULL);
    struct proto_cmd c = cmd(PROTO_CMD_SET_AGENDA);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_REPLY, NULL), PROTO_OK, "floor_requested");
    /* a right of reply is used when granted (contract section 5) */
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    c.agenda = json_loads("[{\"id\":\"q1\",\"title\":\"First question\",\"planned_s\":1800},"
                          "{\"id\":\"q3\",\"title\":\"Third\",\"planned_s\":1200},"
                          "{\"id\":\"usg\",\"title\":\"Conclusions\",\"planned_s\":900,"
                          "\"reserved\":true}]", 0, NULL);
    EXPECT(&w, &DE, c, PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, c, PROTO_OK, "agenda_changed");
    const char *want = "[{\"id\":\"q1\",\"planned_s\":1800,"
                       "\"title\":\"First question\"},{\"id\":\"q3\",\"planned_s\":1200,"
                       "\"title\":\"Third\"},{\"id\":\"usg\","
                       "\"planned_s\":900,\"reserved\":true,\"title\":\"Conclusions\"}]";
    char wrapped[1024];
    snprintf(wrapped, sizeof wrapped, "{\"agenda\":%s}", want);
    CHECK_JSON(data(&w, 0), wrapped);
    CHECK_JSON(state(&w, 0), wrapped);
    CHECK_STR(w.r->agenda_item, "q1");
    CHECK_INT(w.r->item_started_at, T0 - 1000); /* the current item keeps its clock */
    /* and its rights of reply */
    CHECK_INT(room_member_find(w.r, "fr")->replies_used, 1);
    EXPECT(&w, &MOD, c, PROTO_OK, ""); /* the same: nothing */
    json_decref((json_t *)c.agenda);
    /* the current item must stay */
    c.agenda = json_loads("[{\"id\":\"q2\",\"title\":\"Second\"}]", 0, NULL);
    EXPECT(&w, &MOD, c, PROTO_ERR_CONFLICT, "");
    CHECK(strstr(w.msg, "q1") != NULL);
    json_decref((json_t *)c.agenda);
    c.agenda = json_array();
    EXPECT(&w, &MOD, c, PROTO_ERR_CONFLICT, "");
    json_decref((json_t *)c.agenda);
    /* invalid items: bad_request naming the field, nothing changed */
    static const struct {
        const char *j, *field;
    } bad[] = {
        {"[{\"id\":\"q1\",\"title\":\"A\",\"planned_s\":0}]", "'planned_s'"},
        {"[{\"id\":\"q1\",\"title\":\"A\",\"planned_s\":86401}]", "'planned_s'"},
        {"[{\"id\":\"q1\",\"title\":\"A\",\"planned_s\":true}]", "'planned_s'"},
        {"[{\"id\":\"q1\",\"title\":\"A\",\"reserved\":\"yes\"}]", "'reserved'"},
        {"[{\"id\":\"q1\",\"title\":\"\"}]", "'title'"},
        {"[{\"id\":\"q 1\",\"title\":\"A\"}]", "'id'"},
        {"[{\"id\":\"q1\",\"title\":\"A\"},{\"id\":\"q1\",\"title\":\"B\"}]", "twice"},
        {"[7]", "'id'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.agenda = json_loads(bad[i].j, 0, NULL);
        EXPECT(&w, &MOD, c, PROTO_ERR_BAD_REQUEST, "");
        if (!strstr(w.msg, bad[i].field))
            fprintf(stderr, "%s: %s\n", bad[i].j, w.msg);
        CHECK(strstr(w.msg, bad[i].field) != NULL);
        CHECK_INT(w.r->agenda_len, 3);
        json_decref((json_t *)c.agenda);
    }
    /* 51 items */
    c.agenda = json_array();
    for (int i = 0; i < 51; i++) {
        char id[8];
        snprintf(id, sizeof id, "i%d", i);
        json_array_append_new((json_t *)c.agenda, json_pack("{s:s, s:s}", "id", i ? id : "q1",
                                                            "title", "T"));
    }
    EXPECT(&w, &MOD, c, PROTO_ERR_BAD_REQUEST, "");
    json_decref((json_t *)c.agenda);
    /* a room without an agenda gets one; no item becomes current */
    world_free(&w);
    char err[200];
    memset(&w, 0, sizeof w);
    w.r = room_from(SPEC_HEAD "\"agenda\":[]}", err, sizeof err);
    w.now = T0;
    w.log = json_array();
    w.last = json_array();
    room_participant_seen(w.r, &MOD);
    c.agenda = json_loads("[{\"id\":\"a\",\"title\":\"A\",\"planned_s\":600}]", 0, NULL);
    EXPECT(&w, &MOD, c, PROTO_OK, "agenda_changed");
    CHECK_STR(w.r->agenda_item, "");
    json_decref((json_t *)c.agenda);
    struct proto_cmd ai = cmd(PROTO_CMD_SET_AGENDA_ITEM);
    snprintf(ai.item, sizeof ai.item, "a");
    EXPECT(&w, &MOD, ai, PROTO_OK, "agenda_item_set");
    CHECK_JSON(state(&w, 0), "{\"agenda_item\":\"a\",\"agenda_item_started_at\":1783000000000}");
    world_free(&w);
}

static void test_changeover_setting(void)
{
    struct world w;
    world_init(&w, NULL);
    struct proto_cmd us = cmd(PROTO_CMD_UPDATE_SETTINGS);
    us.settings = json_pack("{s:i}", "changeover_s", 30);
    EXPECT(&w, &MOD, us, PROTO_OK, "settings_changed");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(data(&w, 0), "settings"),
                                                 "changeover_s")), 30);
    json_decref(us.settings);
    us.settings = json_pack("{s:i}", "changeover_s", 601);
    EXPECT(&w, &MOD, us, PROTO_ERR_BAD_REQUEST, "");
    CHECK(strstr(w.msg, "'changeover_s'") != NULL);
    json_decref(us.settings);
    us.settings = json_pack("{s:s}", "changeover_s", "15");
    EXPECT(&w, &MOD, us, PROTO_ERR_BAD_REQUEST, "");
    json_decref(us.settings);
    CHECK_INT(w.r->settings.changeover_s, 30);
    world_free(&w);
}

static void test_region(void)
{
    struct world w;
    struct room_actor fr = FR, ngo = NGO;
    snprintf(fr.region, sizeof fr.region, "Western European and other States");
    snprintf(ngo.region, sizeof ngo.region, "African States");
    world_init(&w, NULL);
    CHECK(room_participant_seen(w.r, &fr)); /* the region is news */
    CHECK(!room_participant_seen(w.r, &fr));
    room_participant_seen(w.r, &ngo);
    EXPECT(&w, &fr, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    CHECK_STR(json_string_value(json_object_get(json_object_get(data(&w, 0), "request"),
                                                "region")),
              "Western European and other States");
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    CHECK(json_is_null(json_object_get(json_object_get(data(&w, 0), "request"), "region")));
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    CHECK_STR(json_string_value(json_object_get(json_object_get(data(&w, 0), "floor"), "region")),
              "Western European and other States");
    CHECK_STR(w.r->floor.region, "Western European and other States");
    /* by sub: the region from the directory */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "ngo"), PROTO_OK, "floor_ended,floor_granted");
    CHECK_STR(json_string_value(json_object_get(json_object_get(data(&w, 1), "floor"), "region")),
              "African States");
    /* the participant form */
    json_t *m = room_member_json(w.r, room_member_find(w.r, "ngo"));
    CHECK_STR(json_string_value(json_object_get(m, "region")), "African States");
    json_decref(m);
    /* the directory record round trip (journal, Redis) */
    json_t *rec = room_actor_json(&ngo);
    CHECK_STR(json_string_value(json_object_get(rec, "region")), "African States");
    struct room *r2 = make_room(NULL);
    CHECK_INT(room_participant_seen_json(r2, rec), 0);
    CHECK_STR(room_member_find(r2, "ngo")->region, "African States");
    json_object_set_new(rec, "region", json_string(""));
    CHECK_INT(room_participant_seen_json(r2, rec), -1);
    json_object_set_new(rec, "region", json_integer(3));
    CHECK_INT(room_participant_seen_json(r2, rec), 0); /* not a string: none */
    json_decref(rec);
    room_destroy(r2);
    world_free(&w);
}

/* Storage and replay keep every version 1.1 fact; bad stored values are
 * refused. */
static void test_v11_round_trip(void)
{
    struct world w;
    char err[256] = "";
    struct room_actor fr = FR;
    snprintf(fr.region, sizeof fr.region, "Western European and other States");
    sched_world(&w);
    room_participant_seen(w.r, &fr);
    struct room *initial = room_clone(w.r);
    EXPECT(&w, &fr, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    struct proto_cmd st = cmd(PROTO_CMD_SET_STATUS);
    st.status = PROTO_STATUS_OPEN;
    w.now += 1000;
    EXPECT(&w, &MOD, st, PROTO_OK, "status_changed");
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    struct proto_cmd c = cmd(PROTO_CMD_SET_AGENDA);
    c.agenda = json_loads("[{\"id\":\"q1\",\"title\":\"One\",\"planned_s\":600},"
                          "{\"id\":\"usg\",\"title\":\"Conclusions\",\"planned_s\":900,"
                          "\"reserved\":true}]", 0, NULL);
    EXPECT(&w, &MOD, c, PROTO_OK, "agenda_changed");
    json_decref((json_t *)c.agenda);
    c = cmd(PROTO_CMD_SET_SCHEDULE);
    c.schedule = json_loads("{\"starts_at\":1783000000000,\"ends_at\":1783003600000,"
                            "\"time_zone\":\"Europe/Vienna\"}", 0, NULL);
    EXPECT(&w, &MOD, c, PROTO_OK, "schedule_changed");
    json_decref((json_t *)c.schedule);
    struct proto_cmd us = cmd(PROTO_CMD_UPDATE_SETTINGS);
    us.settings = json_pack("{s:i}", "changeover_s", 5);
    EXPECT(&w, &MOD, us, PROTO_OK, "settings_changed");
    json_decref(us.settings);

    json_t *j = room_state_json(w.r, true);
    struct room *back = room_state_from_json(j, err, sizeof err);
    CHECK(back != NULL);
    if (back) {
        json_t *j2 = room_state_json(back, true);
        CHECK(json_equal(j, j2));
        json_decref(j2);
        CHECK_STR(back->schedule.time_zone, "Europe/Vienna");
        CHECK_INT(back->item_started_at, T0 + 1000);
        CHECK_STR(back->floor.region, "Western European and other States");
        CHECK_STR(room_member_find(back, "fr")->region, "Western European and other States");
        CHECK(back->agenda[1].reserved);
        CHECK_INT(back->settings.changeover_s, 5);
    }
    room_destroy(back);
    /* replay from the initial room */
    for (size_t i = 0; i < json_array_size(w.log); i++) {
        struct room_event e;
        CHECK_INT(room_event_from_json(json_array_get(w.log, i), &e), 0);
        CHECK_INT(room_apply(initial, &e), 0);
        room_event_clear(&e);
    }
    json_t *s1 = room_state_json(w.r, false), *s2 = room_state_json(initial, false);
    CHECK(json_equal(s1, s2));
    json_decref(s1);
    json_decref(s2);
    room_destroy(initial);

    /* a state stored before version 1.1 (no schedule, no start) reads */
    json_t *old = json_deep_copy(j);
    json_object_del(old, "schedule");
    json_object_del(old, "agenda_item_started_at");
    back = room_state_from_json(old, err, sizeof err);
    CHECK(back && !back->schedule.set && !back->has_item_started);
    room_destroy(back);
    json_decref(old);
    /* bad stored values */
    static const char *const bad_keys[] = {"schedule", "agenda_item_started_at"};
    static const char *const bad_vals[] = {"{\"starts_at\":1}", "-1"};
    for (size_t i = 0; i < 2; i++) {
        json_t *b = json_deep_copy(j);
        json_object_set_new(b, bad_keys[i], json_loads(bad_vals[i], JSON_DECODE_ANY, NULL));
        struct room *bad = room_state_from_json(b, err, sizeof err);
        CHECK(bad == NULL);
        if (bad)
            fprintf(stderr, "accepted stored %s: %s\n", bad_keys[i], bad_vals[i]);
        room_destroy(bad);
        json_decref(b);
    }
    json_t *b = json_deep_copy(j);
    json_object_set_new(json_object_get(b, "floor"), "region", json_string(""));
    CHECK(room_state_from_json(b, err, sizeof err) == NULL);
    json_decref(b);
    json_decref(j);

    /* committed events that do not fit are refused, the room unchanged */
    json_t *before = room_state_json(w.r, true);
    static const struct {
        enum proto_event name;
        const char *data;
    } evs[] = {
        {PROTO_EV_SCHEDULE_CHANGED, "{}"},
        {PROTO_EV_SCHEDULE_CHANGED, "{\"schedule\":{\"starts_at\":2,\"ends_at\":1,"
                                    "\"time_zone\":\"UTC\"}}"},
        {PROTO_EV_AGENDA_CHANGED, "{}"},
        {PROTO_EV_AGENDA_CHANGED, "{\"agenda\":[{\"id\":\"q9\",\"title\":\"x\"}]}"},
        {PROTO_EV_AGENDA_CHANGED, "{\"agenda\":[{\"id\":\"q1\",\"title\":\"x\",\"planned_s\":0}]}"},
    };
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        struct room_event e;
        memset(&e, 0, sizeof e);
        e.seq = w.r->seq + 1;
        e.ts = w.now;
        e.name = evs[i].name;
        e.data = json_loads(evs[i].data, 0, NULL);
        CHECK_INT(room_apply(w.r, &e), -1);
        room_event_clear(&e);
    }
    json_t *after = room_state_json(w.r, true);
    CHECK(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    world_free(&w);
}


/* ---- written statements, conclusions (contract 9.4, 9.5) ---- */

static struct proto_cmd deposit(const char *id, const char *text, const char *lang)
{
    struct proto_cmd c = cmd_id(PROTO_CMD_DEPOSIT_STATEMENT, id);
    c.text = (char *)text;
    if (lang)
        snprintf(c.lang, sizeof c.lang, "%s", lang);
    return c;
}

/* No JSON form of the room holds text: snapshot, stored state with and
 * without the directory. */
static void check_embargo(const struct world *w, const char *text)
{
    json_t *forms[] = {room_snapshot_json(w->r), room_state_json(w->r, true),
                       room_state_json(w->r, false), room_part_json(w->r, PROTO_PART_QUEUE)};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char *d = json_dumps(forms[i], JSON_COMPACT);
        CHECK(d && strstr(d, text) == NULL);
        free(d);
        json_decref(forms[i]);
    }
}

static void test_statements(void)
{
    struct world w;
    const struct room_statement *st;
    static const char *secret1 = "SECRET-ONE: Madame la Presidente, la France...";
    static const char *secret2 = "SECRET-TWO: revised, \xc3\xa9" "crit";
    world_init(&w, NULL);
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, "de"), PROTO_OK, "floor_requested"); /* r1 */
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, "fr"), PROTO_OK, "floor_requested"); /* r2 */

    /* the requester deposits: size and language only, lang from the request */
    EXPECT(&w, &FR, deposit("r2", secret1, NULL), PROTO_OK, "statement_deposited");
    CHECK_JSON(data(&w, 0), "{\"chars\":46,\"lang\":\"fr\",\"request_id\":\"r2\",\"sub\":\"fr\"}");
    CHECK_JSON(json_object_get(json_array_get(json_object_get(state(&w, 0), "queue"), 1), "statement"),
               "{\"chars\":46,\"lang\":\"fr\"}");
    /* r1 has none: no member at all */
    CHECK(json_object_get(json_array_get(json_object_get(state(&w, 0), "queue"), 0), "statement") == NULL);
    check_embargo(&w, "SECRET-ONE");
    char *logtext = json_dumps(w.log, JSON_COMPACT);
    CHECK(logtext && strstr(logtext, "SECRET") == NULL);
    free(logtext);
    /* others may not, a moderator may (replacing), an interpreter may not */
    EXPECT(&w, &DE, deposit("r2", "mine", NULL), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &INTERP, deposit("r2", "mine", NULL), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &OBS, deposit("r2", "mine", NULL), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, deposit("r2", secret2, "en"), PROTO_OK, "statement_deposited");
    CHECK_JSON(data(&w, 0), "{\"chars\":26,\"lang\":\"en\",\"request_id\":\"r2\",\"sub\":\"fr\"}");
    EXPECT(&w, &FR, deposit("r9", "x", NULL), PROTO_ERR_NOT_FOUND, "");

    /* reading: the requester, moderators, interpreters; others never */
    struct proto_cmd g = cmd_id(PROTO_CMD_GET_STATEMENT, "r2");
    char err[200];
    CHECK_INT(room_statement_read(w.r, &FR, &g, &st, err, sizeof err), PROTO_OK);
    CHECK_STR(st ? st->text->s : NULL, secret2);
    CHECK_STR(st ? st->lang : NULL, "en");
    CHECK_INT(room_statement_read(w.r, &INTERP, &g, &st, err, sizeof err), PROTO_OK);
    CHECK_INT(room_statement_read(w.r, &MOD, &g, &st, err, sizeof err), PROTO_OK);
    CHECK_INT(room_statement_read(w.r, &DE, &g, &st, err, sizeof err), PROTO_ERR_FORBIDDEN);
    CHECK_INT(room_statement_read(w.r, &OBS, &g, &st, err, sizeof err), PROTO_ERR_FORBIDDEN);
    g = cmd_id(PROTO_CMD_GET_STATEMENT, "r1");
    CHECK_INT(room_statement_read(w.r, &DE, &g, &st, err, sizeof err), PROTO_ERR_FORBIDDEN);
    CHECK_INT(room_statement_read(w.r, &MOD, &g, &st, err, sizeof err), PROTO_ERR_NOT_FOUND);
    g = cmd_id(PROTO_CMD_GET_STATEMENT, "r2");
    EXPECT(&w, &INTERP, g, PROTO_OK, "");
    size_t len = 0;
    st = room_statement_find(w.r, "r2");
    char *reply = st ? room_statement_reply(st, "c7", &len) : NULL;
    CHECK_STR(reply, "{\"type\":\"statement\",\"request_id\":\"r2\",\"lang\":\"en\","
                     "\"text\":\"SECRET-TWO: revised, \xc3\xa9" "crit\",\"id\":\"c7\"}");
    CHECK_INT(len, reply ? strlen(reply) : 0);
    free(reply);

    /* an interpreter follows and reads, nothing else */
    EXPECT(&w, &INTERP, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &INTERP, cmd_text(PROTO_CMD_SAY, "hi"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &INTERP, cmd(PROTO_CMD_GRANT), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &INTERP, cmd(PROTO_CMD_PING), PROTO_OK, "");
    /* and is not given the floor by name */
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_GRANT, "int-fr"), PROTO_ERR_NOT_FOUND, "");

    /* granted: no more changes; the end publishes it, delivered */
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_GRANT, "r2"), PROTO_OK, "floor_granted");
    EXPECT(&w, &FR, deposit("r2", "late", NULL), PROTO_ERR_CONFLICT, "");
    check_embargo(&w, "SECRET-TWO");
    w.now += 61000;
    EXPECT(&w, &FR, cmd(PROTO_CMD_YIELD), PROTO_OK, "floor_ended,statement_published");
    CHECK_JSON(data(&w, 1), "{\"delegation\":\"France\",\"delivered\":true,\"lang\":\"en\","
                            "\"name\":\"Jean Dupont\",\"region\":null,\"request_id\":\"r2\","
                            "\"sub\":\"fr\",\"text\":\"SECRET-TWO: revised, \xc3\xa9" "crit\"}");
    CHECK_INT(w.ndrop, 1);
    CHECK_STR(w.drop[0], "r2");
    st = room_statement_find(w.r, "r2");
    CHECK(st && st->published);
    /* still readable by its readers after publication */
    CHECK_INT(room_statement_read(w.r, &INTERP, &g, &st, err, sizeof err), PROTO_OK);
    /* a late copy from a store does not replace the published text */
    CHECK_INT(room_statement_put(w.r, "r2", "fr", "en", "stale copy"), 0);
    CHECK_STR(room_statement_find(w.r, "r2")->text->s, secret2);

    /* withdrawn: discarded, never published */
    EXPECT(&w, &DE, deposit("r1", "SECRET-THREE", NULL), PROTO_OK, "statement_deposited");
    CHECK(room_statement_find(w.r, "r1") != NULL);
    EXPECT(&w, &DE, cmd_id(PROTO_CMD_WITHDRAW, "r1"), PROTO_OK, "request_withdrawn");
    CHECK_INT(w.ndrop, 1);
    CHECK_STR(w.drop[0], "r1");
    CHECK(room_statement_find(w.r, "r1") == NULL);

    /* accepted in writing: leaves the list, published not delivered */
    EXPECT(&w, &NGO, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested"); /* r3 */
    EXPECT(&w, &UN, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");  /* r4 */
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_ACCEPT_WRITTEN, "r3"), PROTO_ERR_NOT_FOUND, "");
    EXPECT(&w, &NGO, deposit("r3", "Civil society, in writing.", "es"), PROTO_OK, "statement_deposited");
    EXPECT(&w, &NGO, cmd_id(PROTO_CMD_ACCEPT_WRITTEN, "r3"), PROTO_ERR_FORBIDDEN, "");
    EXPECT(&w, &MOD, cmd_id(PROTO_CMD_ACCEPT_WRITTEN, "r3"), PROTO_OK, "statement_published");
    CHECK_JSON(data(&w, 0), "{\"delegation\":\"Global NGO\",\"delivered\":false,\"lang\":\"es\","
                            "\"name\":\"Sam Lee\",\"region\":null,\"request_id\":\"r3\","
                            "\"sub\":\"ngo\",\"text\":\"Civil society, in writing.\"}");
    CHECK_STR(queue_ids(w.r), "r4");
    CHECK(json_object_get(state(&w, 0), "queue") != NULL);

    /* removed with a statement: discarded */
    EXPECT(&w, &UN, deposit("r4", "SECRET-FOUR", NULL), PROTO_OK, "statement_deposited");
    EXPECT(&w, &MOD, cmd_sub(PROTO_CMD_REMOVE, "unodc"), PROTO_OK, "participant_removed");
    CHECK_INT(w.ndrop, 1);
    CHECK(room_statement_find(w.r, "r4") == NULL);

    /* the clock's end publishes too; a clone shares the texts */
    EXPECT(&w, &DE, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested"); /* r5 */
    EXPECT(&w, &DE, deposit("r5", "By the clock.", NULL), PROTO_OK, "statement_deposited");
    struct proto_cmd set = cmd(PROTO_CMD_UPDATE_SETTINGS);
    json_t *end = json_pack("{s:s}", "on_time_up", "end");
    set.settings = end;
    EXPECT(&w, &MOD, set, PROTO_OK, "settings_changed");
    json_decref(end);
    EXPECT(&w, &MOD, cmd(PROTO_CMD_GRANT), PROTO_OK, "floor_granted");
    struct room *copy = room_clone(w.r);
    CHECK(copy && room_statement_find(copy, "r5") != NULL);
    CHECK(copy && room_statement_find(copy, "r5")->text == room_statement_find(w.r, "r5")->text);
    room_destroy(copy);
    w.now += 181000;
    clock_tick(&w);
    CHECK_STR(names(&w), "floor_ended,statement_published");
    CHECK_JSON(json_object_get(data(&w, 1), "delivered"), "true");

    /* conclusions quote the chain head before them */
    char head[CHAIN_HEX_BUF];
    memcpy(head, w.r->chain_head, sizeof head);
    EXPECT(&w, &MOD, cmd_text(PROTO_CMD_PUBLISH_CONCLUSIONS, "We conclude."), PROTO_OK,
           "conclusions_published");
    CHECK_STR(json_string_value(json_object_get(data(&w, 0), "record_hash")), head);
    CHECK_JSON(json_object_get(data(&w, 0), "from"),
               "{\"delegation\":null,\"name\":\"Ana Chair\",\"role\":\"moderator\",\"sub\":\"chair-1\"}");
    EXPECT(&w, &DE, cmd_text(PROTO_CMD_PUBLISH_CONCLUSIONS, "No."), PROTO_ERR_FORBIDDEN, "");

    /* replay from the log (the texts of deposits come from the store) */
    struct room *replay = room_clone(w.r);
    CHECK(replay != NULL);
    world_free(&w);
    room_destroy(replay);
}

static void test_statement_apply_rejects(void)
{
    struct world w;
    struct room_event e;
    world_init(&w, NULL);
    EXPECT(&w, &FR, cmd_req(PROTO_KIND_SPEECH, NULL), PROTO_OK, "floor_requested");
    memset(&e, 0, sizeof e);
    e.seq = w.r->seq + 1;
    e.ts = w.now;
    e.name = PROTO_EV_STATEMENT_DEPOSITED;
    /* another person's request, too long, unknown request */
    e.data = json_pack("{s:s, s:s, s:i}", "request_id", "r1", "sub", "de", "chars", 10);
    CHECK_INT(room_apply(w.r, &e), -1);
    json_decref(e.data);
    e.data = json_pack("{s:s, s:s, s:i}", "request_id", "r1", "sub", "fr", "chars", 20001);
    CHECK_INT(room_apply(w.r, &e), -1);
    json_decref(e.data);
    e.data = json_pack("{s:s, s:s, s:i}", "request_id", "r7", "sub", "fr", "chars", 10);
    CHECK_INT(room_apply(w.r, &e), -1);
    json_decref(e.data);
    /* published delivered while still waiting; in writing when not waiting */
    e.name = PROTO_EV_STATEMENT_PUBLISHED;
    e.data = json_pack("{s:s, s:s, s:s, s:s, s:b}", "request_id", "r1", "sub", "fr", "name", "J",
                       "text", "t", "delivered", 1);
    CHECK_INT(room_apply(w.r, &e), -1);
    json_decref(e.data);
    e.data = json_pack("{s:s, s:s, s:s, s:s, s:b}", "request_id", "r7", "sub", "fr", "name", "J",
                       "text", "t", "delivered", 0);
    CHECK_INT(room_apply(w.r, &e), -1);
    json_decref(e.data);
    e.name = PROTO_EV_CONCLUSIONS_PUBLISHED;
    e.data = json_pack("{s:{}, s:s, s:s}", "from", "text", "t", "record_hash", "nothex");
    CHECK_INT(room_apply(w.r, &e), -1);
    json_decref(e.data);
    /* bad texts from a store are refused */
    CHECK_INT(room_statement_put(w.r, "r1", "fr", NULL, ""), -1);
    CHECK_INT(room_statement_put(w.r, "bad id!", "fr", NULL, "x"), -1);
    CHECK_INT(room_statement_put(w.r, "r1", "fr", "f r", "x"), -1);
    CHECK_INT(room_statement_put(w.r, "r1", "fr", NULL, "\xff\xfe"), -1);
    CHECK(room_statement_find(w.r, "r1") == NULL);
    world_free(&w);
}

int main(void)
{
    init_actors();
    matrix_settings = json_pack("{s:i}", "speech_s", 120);
    matrix_schedule = json_loads("{\"starts_at\":1783000000000,\"ends_at\":1783007200000,"
                                 "\"time_zone\":\"America/New_York\"}", 0, NULL);
    matrix_agenda = json_loads("[{\"id\":\"q1\",\"title\":\"First question\",\"planned_s\":1800},"
                               "{\"id\":\"q2\",\"title\":\"Second question\"}]", 0, NULL);
    test_create();
    test_statements();
    test_statement_apply_rejects();
    test_settings_patch();
    test_matrix_open();
    test_may_send();
    test_matrix_suspended();
    test_matrix_closed();
    test_if_seq();
    test_request_floor();
    test_list_closed();
    test_reply_quota();
    test_queue_order();
    test_category_order();
    test_grant();
    test_yield_end();
    test_clock();
    test_clock_end();
    test_disconnect();
    test_say();
    test_remove();
    test_set_role();
    test_chat_changes();
    test_chat_reads();
    test_update_settings();
    test_apply_rejects();
    test_event_state_parts();
    test_snapshot();
    test_state_round_trip();
    test_participants();
    test_system_actor();
    test_create_v11();
    test_scheduled();
    test_set_schedule();
    test_set_agenda();
    test_changeover_setting();
    test_region();
    test_v11_round_trip();
    json_decref(matrix_settings);
    json_decref(matrix_schedule);
    json_decref(matrix_agenda);
    return check_done();
}
