/*
 * command.c: the line language of `rostrum join` (command.h).
 *
 * One row per line command: its name, aliases, the protocol command it
 * sends and how its arguments are read. Positions typed by people are
 * 1-based (the list is shown numbered from 1); the wire's "to" is 0-based.
 */
#include "command.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "roomstate.h"

#define MAX_ARGS 8

const char command_help[] =
    "Lines (one command each; replies and events are printed as they arrive):\n"
    "  TEXT                      say TEXT in the chat (a line starting with // sends /...)\n"
    "  /say TEXT                 the same\n"
    "  /request [KIND] [LANG]    ask for the floor: speech (default), reply or\n"
    "                            point_of_order; LANG: the language you will speak\n"
    "  /reply [LANG]             ask for a right of reply\n"
    "  /poo [LANG]               raise a point of order\n"
    "  /withdraw [REQUEST]       withdraw your request (default: your pending one)\n"
    "  /yield                    give the floor back\n"
    "Chair:\n"
    "  /next                     give the floor to the head of the list\n"
    "  /grant REQUEST|SUB        give the floor to a request (r3) or a participant\n"
    "  /end                      end the current floor\n"
    "  /pause, /resume           stop and restart the speaker's clock\n"
    "  /extend SECONDS           add time to the current floor (1..3600)\n"
    "  /move REQUEST POSITION    move a request in the list (1 = head)\n"
    "  /drop REQUEST             remove a request from the list\n"
    "  /open-list, /close-list   open or close the speakers list\n"
    "  /mute SUB, /unmute SUB    mute or unmute someone in the chat\n"
    "  /remove SUB               remove someone from the room\n"
    "  /role SUB delegate|observer   change someone's role\n"
    "  /announce TEXT            an announcement to the room\n"
    "  /item ID                  move to agenda item ID\n"
    "  /status open|suspended|closed   suspend, reopen or close the meeting\n"
    "  /set KEY=VALUE...         change settings, e.g. /set speech_s=120 chat=floor\n"
    "Anyone:\n"
    "  /ping                     measure the round trip\n"
    "  /raw JSON                 send a command as JSON, e.g. /raw {\"type\":\"yield\"}\n"
    "  /state                    print the room as this client sees it\n"
    "  /sleep SECONDS            wait before the next line (for scripts)\n"
    "  /help                     this text\n"
    "  /quit                     leave (as does the end of input)\n"
    "  # ...                     a comment\n";

enum argmode {
    ARG_NONE,      /* no argument */
    ARG_TEXT,      /* the rest of the line, required */
    ARG_WORDS,     /* whitespace-separated words */
};

struct row {
    const char *name, *alias;
    const char *type;          /* the protocol command */
    enum argmode mode;
    int min, max;              /* number of words for ARG_WORDS */
    int (*build)(json_t *cmd, char **argv, int argc, const struct roomstate *rs, const char *me,
                 char *err, size_t errsz);
};

static int fail(char *err, size_t errsz, const char *msg)
{
    snprintf(err, errsz, "%s", msg);
    return -1;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int kind_of(const char *s)
{
    if (strcmp(s, "poo") == 0 || strcmp(s, "point-of-order") == 0 || strcmp(s, "order") == 0)
        return PROTO_KIND_POINT_OF_ORDER;
    return proto_kind_parse(s);
}

static int b_request(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                     char *err, size_t errsz)
{
    int i = 0;
    if (ac > 0 && kind_of(av[0]) >= 0) {
        json_object_set_new(c, "kind", json_string(proto_kind_name((enum proto_kind)kind_of(av[0]))));
        i++;
    } else if (ac > 1) {
        return fail(err, errsz, "the kind must be speech, reply or point_of_order");
    }
    if (i < ac)
        json_object_set_new(c, "lang", json_string(av[i]));
    return 0;
}

/* /reply and /poo: a request of a fixed kind, optionally a language. */
static int b_reply(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                   char *err, size_t errsz)
{
    json_object_set_new(c, "kind", json_string("reply"));
    if (ac > 0)
        json_object_set_new(c, "lang", json_string(av[0]));
    return 0;
}

static int b_poo(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                 char *err, size_t errsz)
{
    json_object_set_new(c, "kind", json_string("point_of_order"));
    if (ac > 0)
        json_object_set_new(c, "lang", json_string(av[0]));
    return 0;
}

static int b_withdraw(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                      char *err, size_t errsz)
{
    if (ac > 0) {
        json_object_set_new(c, "request_id", json_string(av[0]));
        return 0;
    }
    const json_t *r = rs ? roomstate_request_of(rs, me) : NULL;
    if (!r)
        return fail(err, errsz, "you have no pending request (give its id: /withdraw r3)");
    json_object_set(c, "request_id", json_object_get(r, "id"));
    return 0;
}

/* A request id looks like the server's ("r17"); anything else is a sub. */
static bool looks_like_request(const struct roomstate *rs, const char *s)
{
    if (rs && roomstate_request(rs, s))
        return true;
    if (s[0] != 'r' || !s[1])
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return !(rs && roomstate_person(rs, s));
}

static int b_grant(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                   char *err, size_t errsz)
{
    if (ac > 0)
        json_object_set_new(c, looks_like_request(rs, av[0]) ? "request_id" : "sub",
                            json_string(av[0]));
    return 0;
}

static int b_extend(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                    char *err, size_t errsz)
{
    long s;
    if (parse_long(av[0], 1, 3600, &s) != 0)
        return fail(err, errsz, "/extend wants a number of seconds from 1 to 3600");
    json_object_set_new(c, "seconds", json_integer(s));
    return 0;
}

static int b_move(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                  char *err, size_t errsz)
{
    long pos;
    if (parse_long(av[1], 1, 1000000, &pos) != 0)
        return fail(err, errsz, "/move wants a position from 1 (the head of the list)");
    json_object_set_new(c, "request_id", json_string(av[0]));
    json_object_set_new(c, "to", json_integer(pos - 1));
    return 0;
}

static int b_request_id(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                        char *err, size_t errsz)
{
    json_object_set_new(c, "request_id", json_string(av[0]));
    return 0;
}

static int b_sub(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                 char *err, size_t errsz)
{
    json_object_set_new(c, "sub", json_string(av[0]));
    return 0;
}

static int b_role(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                  char *err, size_t errsz)
{
    json_object_set_new(c, "sub", json_string(av[0]));
    json_object_set_new(c, "role", json_string(av[1]));
    return 0;
}

static int b_item(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                  char *err, size_t errsz)
{
    json_object_set_new(c, "item", json_string(av[0]));
    return 0;
}

static int b_status(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                    char *err, size_t errsz)
{
    if (proto_status_parse(av[0]) < 0)
        return fail(err, errsz, "/status wants open, suspended or closed");
    json_object_set_new(c, "status", json_string(av[0]));
    return 0;
}

/* KEY=VALUE: VALUE as JSON when it parses (120, true), else a string. */
static int b_set(json_t *c, char **av, int ac, const struct roomstate *rs, const char *me,
                 char *err, size_t errsz)
{
    json_t *s = json_object();
    for (int i = 0; i < ac; i++) {
        char *eq = strchr(av[i], '=');
        if (!eq || eq == av[i]) {
            json_decref(s);
            return fail(err, errsz, "/set wants KEY=VALUE pairs, e.g. /set speech_s=120");
        }
        *eq = '\0';
        json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
        json_object_set_new(s, av[i], v ? v : json_string(eq + 1));
    }
    json_object_set_new(c, "settings", s);
    return 0;
}

static const struct row rows[] = {
    {"request", NULL, "request_floor", ARG_WORDS, 0, 2, b_request},
    {"reply", NULL, "request_floor", ARG_WORDS, 0, 1, b_reply},
    {"poo", "point-of-order", "request_floor", ARG_WORDS, 0, 1, b_poo},
    {"withdraw", NULL, "withdraw", ARG_WORDS, 0, 1, b_withdraw},
    {"yield", NULL, "yield", ARG_NONE, 0, 0, NULL},
    {"say", NULL, "say", ARG_TEXT, 0, 0, NULL},
    {"next", NULL, "grant", ARG_NONE, 0, 0, NULL},
    {"grant", NULL, "grant", ARG_WORDS, 0, 1, b_grant},
    {"end", "end-floor", "end_floor", ARG_NONE, 0, 0, NULL},
    {"pause", NULL, "pause", ARG_NONE, 0, 0, NULL},
    {"resume", NULL, "resume", ARG_NONE, 0, 0, NULL},
    {"extend", NULL, "extend", ARG_WORDS, 1, 1, b_extend},
    {"move", NULL, "move", ARG_WORDS, 2, 2, b_move},
    {"drop", "remove-request", "remove_request", ARG_WORDS, 1, 1, b_request_id},
    {"open-list", "open", "open_list", ARG_NONE, 0, 0, NULL},
    {"close-list", "close", "close_list", ARG_NONE, 0, 0, NULL},
    {"mute", NULL, "mute", ARG_WORDS, 1, 1, b_sub},
    {"unmute", NULL, "unmute", ARG_WORDS, 1, 1, b_sub},
    {"remove", NULL, "remove", ARG_WORDS, 1, 1, b_sub},
    {"role", "set-role", "set_role", ARG_WORDS, 2, 2, b_role},
    {"announce", NULL, "announce", ARG_TEXT, 0, 0, NULL},
    {"item", "agenda", "set_agenda_item", ARG_WORDS, 1, 1, b_item},
    {"status", NULL, "set_status", ARG_WORDS, 1, 1, b_status},
    {"set", "settings", "update_settings", ARG_WORDS, 1, MAX_ARGS, b_set},
    {"ping", NULL, "ping", ARG_NONE, 0, 0, NULL},
};

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static enum command_kind error(struct command *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum command_kind error(struct command *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->err, sizeof out->err, fmt, ap);
    va_end(ap);
    return out->kind = COMMAND_ERROR;
}

static enum command_kind say(struct command *out, const char *type, const char *text)
{
    out->json = json_pack("{s:s, s:s}", "type", type, "text", text);
    out->kind = out->json ? COMMAND_SEND : COMMAND_ERROR;
    if (!out->json)
        snprintf(out->err, sizeof out->err, "the text is not valid UTF-8");
    return out->kind;
}

enum command_kind command_parse(const char *line, const struct roomstate *rs, const char *me,
                                struct command *out)
{
    char buf[4096];
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    memset(out, 0, sizeof *out);
    const char *p = skip_space(line);
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    if (n == 0 || p[0] == '#')
        return out->kind = COMMAND_NONE;
    if (n >= sizeof buf)
        return error(out, "the line is longer than %zu bytes", sizeof buf - 1);
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (buf[0] != '/')
        return say(out, "say", buf);
    if (buf[1] == '/')
        return say(out, "say", buf + 1);
    char *name = buf + 1;
    char *rest = name + strcspn(name, " \t");
    if (*rest)
        *rest++ = '\0';
    rest = (char *)skip_space(rest);

    if (strcmp(name, "help") == 0 || strcmp(name, "?") == 0)
        return out->kind = COMMAND_HELP;
    if (strcmp(name, "state") == 0)
        return out->kind = COMMAND_STATE;
    if (strcmp(name, "quit") == 0 || strcmp(name, "exit") == 0 || strcmp(name, "leave") == 0)
        return out->kind = COMMAND_QUIT;
    if (strcmp(name, "sleep") == 0) {
        char *end;
        double s = strtod(rest, &end);
        if (end == rest || *skip_space(end) || s < 0 || s > 3600)
            return error(out, "/sleep wants a number of seconds (0 to 3600)");
        out->sleep_ms = (long)(s * 1000 + 0.5);
        return out->kind = COMMAND_SLEEP;
    }
    if (strcmp(name, "raw") == 0) {
        json_error_t je;
        out->json = json_loads(rest, 0, &je);
        if (!json_is_object(out->json) || !json_is_string(json_object_get(out->json, "type"))) {
            json_decref(out->json);
            out->json = NULL;
            return error(out, "/raw wants a JSON object with a \"type\"");
        }
        json_object_del(out->json, "id"); /* the CLI numbers its commands */
        return out->kind = COMMAND_SEND;
    }
    const struct row *r = NULL;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(name, rows[i].name) == 0 || (rows[i].alias && strcmp(name, rows[i].alias) == 0))
            r = &rows[i];
    if (!r)
        return error(out, "unknown command /%.40s (try /help)", name);
    if (r->mode == ARG_TEXT) {
        if (!*rest)
            return error(out, "/%.40s wants a text", name);
        return say(out, r->type, rest);
    }
    for (char *tok = strtok(rest, " \t"); tok; tok = strtok(NULL, " \t")) {
        if (argc == MAX_ARGS)
            return error(out, "too many arguments for /%.40s", name);
        argv[argc++] = tok;
    }
    if (argc < r->min || argc > r->max) {
        const char *want = r->max == 0 ? "no arguments"
                           : r->min == r->max ? (r->min == 1 ? "one argument" : "two arguments")
                           : "other arguments";
        return error(out, "/%.40s takes %s (try /help)", name, want);
    }
    out->json = json_pack("{s:s}", "type", r->type);
    if (r->build && r->build(out->json, argv, argc, rs, me, out->err, sizeof out->err) != 0) {
        json_decref(out->json);
        out->json = NULL;
        return out->kind = COMMAND_ERROR;
    }
    return out->kind = COMMAND_SEND;
}
