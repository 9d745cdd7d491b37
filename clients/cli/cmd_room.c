/*
 * cmd_room.c: `rostrum room ...` (cmd_room.h).
 *
 * Every subcommand prints something a person can read by default and the
 * server's JSON with --json, for scripts (jq). Settings of `room create`
 * have one flag each, plus --set KEY=VALUE for anything else, so that a new
 * server setting needs no new CLI.
 */
#include "cmd_room.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admin.h"
#include "cli.h"
#include "proto.h"
#include "render.h"
#include "roomstate.h"

static const char usage_room[] =
    "Usage: rostrum room COMMAND [OPTIONS]\n"
    "Manages rooms through the server's admin HTTP API.\n"
    "\n"
    "Commands:\n"
    "  create      create a room (title, agenda, settings)\n"
    "  list        list the rooms with their participants and observers\n"
    "  show ID     show a room: agenda, floor, speakers list, participants\n"
    "  close ID    close a room (every command is refused from then on)\n"
    "  transcript ID   print a room's record (json, md or csv)\n"
    "\n"
    "Options of every command:\n" ADMIN_FLAGS_HELP
    "  --json                  print the server's JSON answer\n"
    "  --help                  help of a command: rostrum room create --help\n"
    "\n" CLI_EXIT_HELP;

static const char usage_create[] =
    "Usage: rostrum room create --api URL --admin-key-file FILE --id ID --title TITLE\n"
    "                           [--agenda-item ID=TITLE]... [SETTINGS] [--json]\n"
    "Creates a room and prints it.\n"
    "\n"
    "  --id ID                 room id, [a-z0-9][a-z0-9-]{0,63} (or give it as the\n"
    "                          only argument)\n"
    "  --title TITLE           the meeting's title\n"
    "  --agenda-item ID=TITLE  an agenda item (repeat, in order); ID is\n"
    "                          [A-Za-z0-9._-]{1,32}\n"
    "Settings (the server's defaults apply to those not given):\n"
    "  --speech-s N            speaking time of a speech, seconds (default 180)\n"
    "  --reply-s N             of a right of reply (default 60)\n"
    "  --point-of-order-s N    of a point of order (default 60)\n"
    "  --on-time-up notify|end notify the room, or end the floor (default notify)\n"
    "  --chat open|floor|off   who may chat: delegates and chairs; the speaker and\n"
    "                          chairs; nobody (default open)\n"
    "  --list-closed           open the meeting with the speakers list closed\n"
    "  --queue-order request|category   order of speeches (default request)\n"
    "  --replies-per-item N    rights of reply per agenda item (default 2)\n"
    "  --no-pause-on-disconnect   keep the clock running when the speaker drops\n"
    "  --set KEY=VALUE         any setting (VALUE is read as JSON when it parses:\n"
    "                          numbers, true, false; as a string otherwise)\n"
    ADMIN_FLAGS_HELP
    "  --json                  print the snapshot as JSON\n"
    "\n"
    "Example:\n"
    "  rostrum room create --api http://127.0.0.1:8080 --admin-key-file admin.key \\\n"
    "      --id closing --title 'Closing discussion' --agenda-item q1='First question' \\\n"
    "      --speech-s 120 --queue-order category\n"
    "\n" CLI_EXIT_HELP;

static const char usage_list[] =
    "Usage: rostrum room list --api URL --admin-key-file FILE [--json]\n"
    "Lists the rooms: id, status, participants online, observers, title.\n"
    "\n" ADMIN_FLAGS_HELP "  --json                  print the server's JSON array\n"
    "\n" CLI_EXIT_HELP;

static const char usage_show[] =
    "Usage: rostrum room show ID --api URL --admin-key-file FILE [--json]\n"
    "Shows a room: status, agenda, floor, speakers list, participants, settings,\n"
    "speaking time.\n"
    "\n" ADMIN_FLAGS_HELP "  --json                  print the server's JSON snapshot\n"
    "\n" CLI_EXIT_HELP;

static const char usage_close[] =
    "Usage: rostrum room close ID --api URL --admin-key-file FILE [--json]\n"
    "Closes a room: every connection sees status_changed to closed; commands are\n"
    "refused from then on (room_closed), reading stays possible. Closing a closed\n"
    "room succeeds.\n"
    "\n" ADMIN_FLAGS_HELP "  --json                  print the server's JSON snapshot\n"
    "\n" CLI_EXIT_HELP;

static const char usage_transcript[] =
    "Usage: rostrum room transcript ID --api URL --admin-key-file FILE\n"
    "                               [--format json|md|csv] [--output FILE]\n"
    "Prints a room's record: every event in order and the speaking time\n"
    "statistics; md is minutes a secretariat can circulate, csv one row per event.\n"
    "\n"
    "  --format json|md|csv    (default md)\n"
    "  --output FILE           write to FILE instead of standard output\n"
    ADMIN_FLAGS_HELP "\n" CLI_EXIT_HELP;

enum {
    O_API = 256, O_ADMIN, O_INSECURE, O_CA, O_TIMEOUT, O_JSON, O_HELP, O_ID, O_TITLE, O_ITEM,
    O_SPEECH, O_REPLY, O_POO, O_TIMEUP, O_CHAT, O_LISTCLOSED, O_ORDER, O_REPLIES, O_NOPAUSE,
    O_SET, O_FORMAT, O_OUTPUT,
};

static const struct option options[] = {
    {"api", required_argument, NULL, O_API},
    {"admin-key-file", required_argument, NULL, O_ADMIN},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"ca-file", required_argument, NULL, O_CA},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"json", no_argument, NULL, O_JSON},
    {"help", no_argument, NULL, O_HELP},
    {"id", required_argument, NULL, O_ID},
    {"title", required_argument, NULL, O_TITLE},
    {"agenda-item", required_argument, NULL, O_ITEM},
    {"speech-s", required_argument, NULL, O_SPEECH},
    {"reply-s", required_argument, NULL, O_REPLY},
    {"point-of-order-s", required_argument, NULL, O_POO},
    {"on-time-up", required_argument, NULL, O_TIMEUP},
    {"chat", required_argument, NULL, O_CHAT},
    {"list-closed", no_argument, NULL, O_LISTCLOSED},
    {"queue-order", required_argument, NULL, O_ORDER},
    {"replies-per-item", required_argument, NULL, O_REPLIES},
    {"no-pause-on-disconnect", no_argument, NULL, O_NOPAUSE},
    {"set", required_argument, NULL, O_SET},
    {"format", required_argument, NULL, O_FORMAT},
    {"output", required_argument, NULL, O_OUTPUT},
    {NULL, 0, NULL, 0},
};

struct room_args {
    const char *sub;          /* create, list, ... */
    const char *usage;
    const char *api, *admin_file, *ca_file, *id, *title, *format, *output;
    bool insecure, json;
    int timeout_s;
    json_t *agenda;           /* owned */
    json_t *settings;         /* owned */
};

static int bad(const struct room_args *a, const char *msg)
{
    fprintf(stderr, "rostrum room %s: %s\nTry 'rostrum room %s --help'.\n", a->sub, msg, a->sub);
    return CLI_EXIT_USAGE;
}

/* A value as the user wrote it: JSON when it parses (123, true, "x"),
 * otherwise the text itself. */
static json_t *loose_value(const char *v)
{
    json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
    return j ? j : json_string(v);
}

static int int_setting(struct room_args *a, const char *key, const char *v)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < 0) {
        fprintf(stderr, "rostrum room create: --%s wants a whole number of seconds or items\n", key);
        return -1;
    }
    json_object_set_new(a->settings, key, json_integer(n));
    return 0;
}

/* Parses the options of one subcommand; allowed says which are valid for
 * it (the others are usage errors, not silently ignored). */
static int parse(struct room_args *a, int argc, char **argv, bool create)
{
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        bool create_only = opt >= O_ID && opt <= O_SET;
        bool transcript_only = opt == O_FORMAT || opt == O_OUTPUT;
        if ((create_only && !create) || (transcript_only && strcmp(a->sub, "transcript") != 0)) {
            fprintf(stderr, "rostrum room %s: %s is not an option of this command\n", a->sub,
                    argv[optind - 1]);
            return bad(a, "see the usage");
        }
        switch (opt) {
        case O_API: a->api = optarg; break;
        case O_ADMIN: a->admin_file = optarg; break;
        case O_INSECURE: a->insecure = true; break;
        case O_CA: a->ca_file = optarg; break;
        case O_TIMEOUT:
            a->timeout_s = atoi(optarg);
            if (a->timeout_s <= 0)
                return bad(a, "--timeout must be a positive number of seconds");
            break;
        case O_JSON: a->json = true; break;
        case 'h':
        case O_HELP: fputs(a->usage, stdout); return -2;
        case O_ID: a->id = optarg; break;
        case O_TITLE: a->title = optarg; break;
        case O_ITEM: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1])
                return bad(a, "--agenda-item wants ID=TITLE");
            char id[64];
            snprintf(id, sizeof id, "%.*s", (int)(eq - optarg), optarg);
            if (!proto_valid_item_id(id))
                return bad(a, "an agenda item id must match [A-Za-z0-9._-]{1,32}");
            json_array_append_new(a->agenda, json_pack("{s:s, s:s}", "id", id, "title", eq + 1));
            break;
        }
        case O_SPEECH: if (int_setting(a, "speech_s", optarg)) return CLI_EXIT_USAGE; break;
        case O_REPLY: if (int_setting(a, "reply_s", optarg)) return CLI_EXIT_USAGE; break;
        case O_POO: if (int_setting(a, "point_of_order_s", optarg)) return CLI_EXIT_USAGE; break;
        case O_REPLIES: if (int_setting(a, "replies_per_item", optarg)) return CLI_EXIT_USAGE; break;
        case O_TIMEUP: json_object_set_new(a->settings, "on_time_up", json_string(optarg)); break;
        case O_CHAT: json_object_set_new(a->settings, "chat", json_string(optarg)); break;
        case O_ORDER: json_object_set_new(a->settings, "queue_order", json_string(optarg)); break;
        case O_LISTCLOSED: json_object_set_new(a->settings, "list_open", json_false()); break;
        case O_NOPAUSE: json_object_set_new(a->settings, "pause_on_disconnect", json_false()); break;
        case O_SET: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                return bad(a, "--set wants KEY=VALUE");
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(eq - optarg), optarg);
            json_object_set_new(a->settings, key, loose_value(eq + 1));
            break;
        }
        case O_FORMAT: a->format = optarg; break;
        case O_OUTPUT: a->output = optarg; break;
        default:
            fprintf(stderr, "rostrum room %s: unknown or incomplete option '%s'\n", a->sub,
                    argv[optind - 1]);
            return bad(a, "see the usage");
        }
    }
    /* One positional argument: the room id. */
    if (optind < argc) {
        if (a->id && strcmp(a->id, argv[optind]) != 0)
            return bad(a, "the room id is given twice");
        a->id = argv[optind++];
    }
    if (optind < argc)
        return bad(a, "too many arguments");
    return 0;
}

static void print_json(const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    printf("%s\n", s ? s : body);
    free(s);
    json_decref(j);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints a snapshot answer for a person, or as JSON. */
static int print_room(const struct room_args *a, const struct http_response *res)
{
    if (a->json) {
        print_json(res->body, res->len);
        return CLI_EXIT_OK;
    }
    json_t *j = json_loadb(res->body, res->len, 0, NULL);
    struct roomstate rs;
    roomstate_init(&rs);
    int rc = CLI_EXIT_OK;
    if (!j || roomstate_snapshot(&rs, j) != 0) {
        fprintf(stderr, "rostrum room %s: the server's answer is not a room\n", a->sub);
        rc = CLI_EXIT_REFUSED;
    } else {
        render_snapshot(stdout, &rs, now_ms());
    }
    roomstate_clear(&rs);
    json_decref(j);
    return rc;
}

static int room_create(struct room_args *a, struct admin *ad)
{
    struct http_response res = {0};
    json_t *body = NULL;
    int rc;
    if (!a->id || !a->title)
        return bad(a, "--id and --title are required");
    if (!proto_valid_room_id(a->id))
        return bad(a, "the room id must match [a-z0-9][a-z0-9-]{0,63}");
    body = json_pack("{s:s, s:s, s:O}", "id", a->id, "title", a->title, "agenda", a->agenda);
    if (json_object_size(a->settings))
        json_object_set(body, "settings", a->settings);
    rc = admin_call(ad, "POST", "/api/rooms", body, "cannot create the room", &res);
    if (rc == CLI_EXIT_OK)
        rc = print_room(a, &res);
    json_decref(body);
    http_response_free(&res);
    return rc;
}

static int room_list(struct room_args *a, struct admin *ad)
{
    struct http_response res = {0};
    json_t *arr = NULL;
    int rc = admin_call(ad, "GET", "/api/rooms", NULL, "cannot list the rooms", &res);
    if (rc != CLI_EXIT_OK)
        goto done;
    if (a->json) {
        print_json(res.body, res.len);
        goto done;
    }
    arr = json_loadb(res.body, res.len, 0, NULL);
    if (!json_is_array(arr)) {
        fprintf(stderr, "rostrum room list: the server's answer is not a list\n");
        rc = CLI_EXIT_REFUSED;
        goto done;
    }
    size_t i;
    json_t *r;
    if (json_array_size(arr) == 0) {
        printf("no rooms\n");
        goto done;
    }
    printf("%-24s %-10s %12s %10s  %s\n", "ID", "STATUS", "PARTICIPANTS", "OBSERVERS", "TITLE");
    json_array_foreach(arr, i, r)
        printf("%-24s %-10s %12lld %10lld  %s\n", json_string_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "status")),
               (long long)json_integer_value(json_object_get(r, "participants")),
               (long long)json_integer_value(json_object_get(r, "observers")),
               json_string_value(json_object_get(r, "title")));
done:
    json_decref(arr);
    http_response_free(&res);
    return rc;
}

static int room_show_close(struct room_args *a, struct admin *ad, bool close)
{
    struct http_response res = {0};
    char path[128], what[128];
    int rc;
    if (!a->id)
        return bad(a, "which room? give its id");
    if (!proto_valid_room_id(a->id))
        return bad(a, "the room id must match [a-z0-9][a-z0-9-]{0,63}");
    snprintf(path, sizeof path, "/api/rooms/%s", a->id);
    snprintf(what, sizeof what, "cannot %s room %s", close ? "close" : "show", a->id);
    rc = admin_call(ad, close ? "DELETE" : "GET", path, NULL, what, &res);
    if (rc == CLI_EXIT_OK) {
        if (close && !a->json)
            printf("room %s is closed\n", a->id);
        else
            rc = print_room(a, &res);
    }
    http_response_free(&res);
    return rc;
}

static int room_transcript(struct room_args *a, struct admin *ad)
{
    struct http_response res = {0};
    char path[160], what[128];
    const char *fmt = a->format ? a->format : (a->json ? "json" : "md");
    FILE *out = stdout;
    int rc;
    if (!a->id)
        return bad(a, "which room? give its id");
    if (!proto_valid_room_id(a->id))
        return bad(a, "the room id must match [a-z0-9][a-z0-9-]{0,63}");
    if (strcmp(fmt, "json") != 0 && strcmp(fmt, "md") != 0 && strcmp(fmt, "csv") != 0)
        return bad(a, "--format must be json, md or csv");
    snprintf(path, sizeof path, "/api/rooms/%s/transcript?format=%s", a->id, fmt);
    snprintf(what, sizeof what, "cannot get the transcript of room %s", a->id);
    rc = admin_call(ad, "GET", path, NULL, what, &res);
    if (rc != CLI_EXIT_OK)
        goto done;
    if (a->output && !(out = fopen(a->output, "w"))) {
        fprintf(stderr, "rostrum room transcript: cannot write %s: %s\n", a->output, strerror(errno));
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    fwrite(res.body, 1, res.len, out);
    if (res.len && res.body[res.len - 1] != '\n')
        fputc('\n', out);
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "rostrum room transcript: cannot write %s: %s\n", a->output, strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
done:
    http_response_free(&res);
    return rc;
}

int cmd_room_main(int argc, char **argv)
{
    static const struct { const char *name, *usage; } subs[] = {
        {"create", usage_create}, {"list", usage_list}, {"show", usage_show},
        {"close", usage_close}, {"transcript", usage_transcript},
    };
    struct room_args a = {.timeout_s = 10};
    struct admin ad;
    int rc = CLI_EXIT_USAGE;
    memset(&ad, 0, sizeof ad);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_room, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(argv[1], subs[i].name) == 0) {
            a.sub = subs[i].name;
            a.usage = subs[i].usage;
        }
    if (!a.sub) {
        fprintf(stderr, "rostrum room: unknown command '%s'\n%s", argv[1], usage_room);
        return CLI_EXIT_USAGE;
    }
    a.agenda = json_array();
    a.settings = json_object();
    int p = parse(&a, argc - 1, argv + 1, strcmp(a.sub, "create") == 0);
    if (p == -2) {
        rc = CLI_EXIT_OK;
        goto done;
    }
    if (p != 0)
        goto done;
    rc = admin_init(&ad, a.api, a.admin_file, a.insecure, a.ca_file, a.timeout_s);
    if (rc != CLI_EXIT_OK)
        goto done;
    if (strcmp(a.sub, "create") == 0)
        rc = room_create(&a, &ad);
    else if (strcmp(a.sub, "list") == 0)
        rc = a.id ? bad(&a, "list takes no room id") : room_list(&a, &ad);
    else if (strcmp(a.sub, "show") == 0)
        rc = room_show_close(&a, &ad, false);
    else if (strcmp(a.sub, "close") == 0)
        rc = room_show_close(&a, &ad, true);
    else
        rc = room_transcript(&a, &ad);
done:
    admin_clear(&ad);
    json_decref(a.agenda);
    json_decref(a.settings);
    return rc;
}
