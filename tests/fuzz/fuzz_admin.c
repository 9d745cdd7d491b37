/*
 * fuzz_admin: admin API bodies (contract section 7), read the way api.c
 * reads them (json_loadb with JSON_REJECT_DUPLICATES; anything but an
 * object is a 400 before any logic runs).
 *
 * One body goes through everything a body reaches without the hub:
 *   - room_create(body) as POST /api/rooms does (hub_room_create): on
 *     success the room must be what the body said (id, title, agenda, the
 *     first item current, settings in range), store and read back, render
 *     an empty record, and take the populated meeting's commands;
 *     on failure it must say why;
 *   - room_settings_patch() with the body and with its "settings" member
 *     (update_settings and the settings of a new room): a refusal leaves
 *     the settings unchanged and says why, a success stays in range;
 *   - POST /api/rooms/ID/tokens: the checks of api.c's tokens() (a static
 *     function, copied here and kept in step by hand) and then what
 *     api_mint() does, proto_jwt_mint(); every body the API accepts must
 *     give a token that verifies to exactly the claims asked for.
 * Paths, methods and keys are routed in api.c with the hub: the api target
 * (fuzz_api.c) covers them, and the real tokens().
 */
#include <string.h>

#include "fuzz.h"
#include "transcript.h"

static void check_settings(const struct room_settings *s)
{
    FUZZ_CHECK(s->speech_s >= 1 && s->speech_s <= 7200, "speech_s %d", s->speech_s);
    FUZZ_CHECK(s->reply_s >= 1 && s->reply_s <= 7200, "reply_s %d", s->reply_s);
    FUZZ_CHECK(s->point_of_order_s >= 1 && s->point_of_order_s <= 7200, "point_of_order_s %d",
               s->point_of_order_s);
    FUZZ_CHECK(s->replies_per_item >= 0 && s->replies_per_item <= 100, "replies_per_item %d",
               s->replies_per_item);
    FUZZ_CHECK((unsigned)s->on_time_up < PROTO_TIMEUP__COUNT, "on_time_up");
    FUZZ_CHECK((unsigned)s->chat < PROTO_CHAT__COUNT, "chat");
    FUZZ_CHECK((unsigned)s->queue_order < PROTO_ORDER__COUNT, "queue_order");
}

static bool settings_same(const struct room_settings *a, const struct room_settings *b)
{
    return a->speech_s == b->speech_s && a->reply_s == b->reply_s &&
           a->point_of_order_s == b->point_of_order_s && a->on_time_up == b->on_time_up &&
           a->chat == b->chat && a->list_open == b->list_open &&
           a->queue_order == b->queue_order && a->replies_per_item == b->replies_per_item &&
           a->pause_on_disconnect == b->pause_on_disconnect;
}

static void patch(const json_t *p)
{
    struct room_settings s, before;
    char err[256] = "";
    room_settings_default(&s);
    s.speech_s = 99; /* not the default, so that "unchanged" means something */
    s.chat = PROTO_CHAT_FLOOR;
    before = s;
    if (room_settings_patch(&s, p, err, sizeof err)) {
        check_settings(&s);
        /* Patching the same again changes nothing more. */
        struct room_settings again = s;
        FUZZ_CHECK(room_settings_patch(&again, p, NULL, 0) && settings_same(&again, &s),
                   "a settings patch is not idempotent");
    } else {
        FUZZ_CHECK(settings_same(&s, &before), "a refused patch changed the settings");
        FUZZ_CHECK(err[0], "a refused patch without a reason");
    }
}

static void create(const json_t *body)
{
    char err[256] = "";
    struct room *r = room_create(body, FUZZ_EPOCH, FUZZ_NOW_MS, err, sizeof err);
    if (!r) {
        FUZZ_CHECK(err[0], "room_create refused without a reason");
        return;
    }
    FUZZ_CHECK(proto_valid_room_id(r->id) &&
                   strcmp(r->id, json_string_value(json_object_get(body, "id"))) == 0,
               "the room's id is not the body's");
    FUZZ_CHECK(r->title && strcmp(r->title, json_string_value(json_object_get(body, "title"))) == 0,
               "the room's title is not the body's");
    FUZZ_CHECK(r->status == PROTO_STATUS_OPEN && r->seq == 0 && r->queue_len == 0 &&
                   !r->floor.active && r->members_len == 0 && r->next_request == 1,
               "a new room is not empty");
    FUZZ_CHECK(r->agenda_len <= PROTO_MAX_AGENDA_ITEMS, "agenda of %zu items", r->agenda_len);
    FUZZ_CHECK(r->agenda_len == json_array_size(json_object_get(body, "agenda")),
               "agenda of %zu items from %zu", r->agenda_len,
               json_array_size(json_object_get(body, "agenda")));
    FUZZ_CHECK(r->agenda_len ? strcmp(r->agenda_item, r->agenda[0].id) == 0 : !r->agenda_item[0],
               "the current item is not the first");
    check_settings(&r->settings);
    fuzz_check_room(r);

    json_t *none = json_array();
    fuzz_check_transcript(r, none, true);
    json_decref(none);

    /* A meeting runs in it: the commands that built the populated room. */
    const struct room_actor *a = fuzz_actors();
    static const struct {
        enum fuzz_actor who;
        const char *cmd;
    } steps[] = {
        {FUZZ_DEL1, "{\"type\":\"request_floor\"}"},
        {FUZZ_DEL2, "{\"type\":\"request_floor\",\"kind\":\"reply\"}"},
        {FUZZ_MOD, "{\"type\":\"grant\"}"},
        {FUZZ_MOD, "{\"type\":\"extend\",\"seconds\":3600}"},
        {FUZZ_MOD, "{\"type\":\"close_list\"}"},
        {FUZZ_MOD, "{\"type\":\"set_agenda_item\",\"item\":\"item-2\"}"},
        {FUZZ_MOD, "{\"type\":\"set_status\",\"status\":\"closed\"}"},
    };
    for (int i = 0; i < FUZZ_ACTORS; i++)
        room_participant_seen(r, &a[i]);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct proto_cmd c;
        char msg[256];
        FUZZ_CHECK(proto_cmd_decode(steps[i].cmd, strlen(steps[i].cmd), &c, msg, sizeof msg) ==
                       PROTO_OK,
                   "%s", msg);
        fuzz_commit(r, &a[steps[i].who], &c, FUZZ_NOW_MS + 1000 * (int64_t)i, NULL);
        proto_cmd_clear(&c);
    }
    fuzz_check_room(r);
    room_destroy(r);
}

/* api.c tokens(): the same checks in the same order, then api_mint(). */
static void token_body(const json_t *body)
{
    const char *sub = json_string_value(json_object_get(body, "sub"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *role = json_string_value(json_object_get(body, "role"));
    const json_t *dj = json_object_get(body, "delegation");
    const json_t *cj = json_object_get(body, "category");
    const json_t *tj = json_object_get(body, "ttl_s");
    const char *del = json_string_value(dj);
    int r = proto_role_parse(role), cat = PROTO_CAT_NONE;
    long ttl = 24 * 3600;
    if (!proto_valid_sub(sub) || !proto_valid_name(name) || r < 0)
        return;
    if (dj && !json_is_null(dj) && !proto_valid_name(del))
        return;
    if (cj && !json_is_null(cj) && (cat = proto_category_parse(json_string_value(cj))) < 0)
        return;
    if (tj) {
        if (!json_is_integer(tj) || json_integer_value(tj) < 60 ||
            json_integer_value(tj) > 30 * 24 * 3600)
            return;
        ttl = (long)json_integer_value(tj);
    }
    struct proto_claims c, back;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.room, sizeof c.room, "%s", "fuzz-room");
    snprintf(c.delegation, sizeof c.delegation, "%s", del ? del : "");
    c.role = (enum proto_role)r;
    c.category = (enum proto_category)cat;
    c.iat = FUZZ_NOW_S;
    c.exp = c.iat + ttl;
    char *tok = proto_jwt_mint(FUZZ_KEY, FUZZ_KEY_LEN, &c);
    FUZZ_CHECK(tok, "an accepted token body does not mint");
    const char *why = NULL;
    FUZZ_CHECK(proto_jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, tok, FUZZ_NOW_S, &back, &why) == PROTO_OK,
               "a minted token does not verify: %s", why);
    FUZZ_CHECK(strcmp(back.sub, sub) == 0 && strcmp(back.name, name) == 0 &&
                   strcmp(back.delegation, del ? del : "") == 0 && back.role == c.role &&
                   back.category == c.category && back.exp == c.exp,
               "a minted token carries other claims than the body asked for");
    free(tok);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_room_populated(NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = fuzz_json(data, size, JSON_REJECT_DUPLICATES);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    create(body);
    patch(body);
    json_t *s = json_object_get(body, "settings");
    if (s)
        patch(s);
    token_body(body);
    json_decref(body);
    return 0;
}
