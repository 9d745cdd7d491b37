/*
 * live.c: `rostrum watch` and `rostrum join` (live.h).
 *
 * join sends one command at a time and waits for its reply before the
 * next: a script then reads like a meeting (each line sees the effects of
 * the one before, e.g. "/withdraw" finds the request "/request" made), and
 * the client paces itself under the server's rate limit (20 commands a
 * second, bursts of 40) instead of collecting rate_limited refusals.
 *
 * Exit codes (cli.h): join ends 0 when every command was acknowledged, 1
 * when the server refused the join or any command (or closed the
 * connection on us), 2 when a line could not be understood, 3 when the
 * connection failed, was lost, or a reply did not come in time.
 */
#include "live.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "command.h"
#include "keyfile.h"
#include "render.h"
#include "roomstate.h"
#include "url.h"
#include "wsclient.h"

#define TICK_MS 100
#define PACE_PER_S 18.0  /* below the server's 20/s */
#define PACE_BURST 30.0  /* below its burst of 40 */
#define LINE_BYTES 8192

static const char conn_help[] =
    "  INVITE_URL              an invite link, http://HOST:PORT/#t=TOKEN (in place of\n"
    "                          --url and --token)\n"
    "  --url URL               the server: http(s)://HOST:PORT or ws(s)://HOST:PORT/ws\n"
    "                          (env ROSTRUM_URL)\n"
    "  --token TOKEN           join token (env ROSTRUM_TOKEN)\n"
    "  --token-file FILE       read the token from FILE (keeps it out of ps)\n"
    "  --since SEQ             resume after the last seq you saw\n"
    "  --full-state            events with the whole queue and statistics (the form\n"
    "                          before protocol 1.2); by default the queue and the\n"
    "                          statistics come as changes, checked against the\n"
    "                          server's length and hash (a disagreement joins again)\n"
    "  --json                  print every server message as the JSON it is, one a line\n"
    "  --insecure              wss: do not verify the server's certificate\n"
    "  --ca-file FILE          wss: trust the CAs in FILE (PEM)\n"
    "  --verbose               libwebsockets' own errors on standard error\n"
    "  --help                  this text\n";

static const char usage_watch[] =
    "Usage: rostrum watch INVITE_URL [OPTIONS]\n"
    "       rostrum watch --url URL --token TOKEN [OPTIONS]\n"
    "Follows a room live. On a terminal: a screen redrawn as things happen, with\n"
    "the speaker and the countdown, the speakers list and the recent messages.\n"
    "Otherwise (a pipe or a file): one line per event, as a log. Ctrl-C leaves.\n"
    "Any role may watch; an observer token is the usual one.\n"
    "\n"
    "%s"
    "  --plain                 the line log even on a terminal\n"
    "\n"
    "Line format: '#SEQ HH:MM:SS what happened' for events, '+ NAME (role) is\n"
    "online' / '- NAME ... is offline' for presence, 'observers: N' for counts.\n"
    "\n" CLI_EXIT_HELP;

static const char usage_join[] =
    "Usage: rostrum join INVITE_URL [OPTIONS] < COMMANDS\n"
    "       rostrum join --url URL --token TOKEN [OPTIONS]\n"
    "Takes part in a room: reads one command per line from standard input (a\n"
    "terminal or a pipe), sends them one at a time, and prints the events and the\n"
    "reply to each ('ok LINE (seq N)' or 'refused LINE: code: message'). Leaves\n"
    "when the input ends and every reply has arrived.\n"
    "\n"
    "%s"
    "  -q, --quiet             do not print 'ok' lines\n"
    "  --linger SECONDS        after the input ends, keep printing events this long\n"
    "  --timeout SECONDS       wait this long for each reply (default 10)\n"
    "\n"
    "%s"
    "\n"
    "Example:\n"
    "  printf '/request\\n/say Thank you, Chair\\n' | rostrum join \"$INVITE\"\n"
    "\n" CLI_EXIT_HELP;

enum live_mode { LIVE_WATCH, LIVE_JOIN };

struct line {
    struct line *next;
    char text[];
};

struct live {
    enum live_mode mode;
    /* options */
    const char *url_arg, *token_arg, *token_file;
    long long since;
    bool has_since, json, plain, quiet, insecure, verbose, full_state;
    const char *ca_file;
    long linger_ms, timeout_ms;
    /* connection */
    struct url url;
    char path[URL_PATH_MAX], host_header[URL_HOST_MAX + 16];
    char *token;
    struct wsc_config wcfg;
    struct wsc *wsc;
    /* session */
    struct roomstate rs;
    bool joined, leaving;
    bool need_rejoin;        /* a delta-form disagreement: join again once no reply is owed */
    bool rejoining;          /* ... and that join is under way */
    int exit_code;
    bool refused, bad_line, lost;
    char me[80];
    int64_t offset_ms;       /* server clock minus ours */
    int64_t ping_sent_ms;    /* watch's own clock ping */
    /* join: input */
    char inbuf[LINE_BYTES];
    size_t inlen;
    struct line *q_head, *q_tail;
    bool in_eof;
    /* join: the command in flight */
    bool pending, pending_pong;
    char pending_id[24];
    char pending_line[LINE_BYTES];
    int64_t pending_since;
    unsigned next_id;
    int64_t sleep_until, linger_until;
    double tokens;
    int64_t tokens_ms;
    /* watch on a terminal */
    bool screen;
    int64_t last_draw;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ---- */

static void screen_enter(struct live *l)
{
    l->screen = true;
    fputs("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J", stdout);
    fflush(stdout);
}

static void screen_leave(struct live *l)
{
    if (!l->screen)
        return;
    l->screen = false;
    fputs("\x1b[?25h\x1b[?1049l", stdout);
    fflush(stdout);
}

static void draw(struct live *l)
{
    struct winsize ws;
    int rows = 24, cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
        rows = ws.ws_row;
        cols = ws.ws_col;
    }
    /* Not the URL: an invite URL carries the token. */
    char footer[URL_HOST_MAX + 200];
    snprintf(footer, sizeof footer, "%s as %s  on %s:%d  live (Ctrl-C leaves)",
             json_string_value(json_object_get(l->rs.room, "id")) ? json_string_value(json_object_get(l->rs.room, "id")) : "",
             l->me, l->url.host, l->url.port);
    render_screen(stdout, &l->rs, rows, cols, now_ms() + l->offset_ms, footer);
    l->last_draw = now_ms();
}

/* ---- leaving ---- */

static void leave(struct live *l)
{
    if (l->leaving)
        return;
    l->leaving = true;
    wsc_close(l->wsc, 1000, "bye");
}

/* The exit code for a connection that ended with code. */
static int code_for_close(const struct live *l, bool opened, int code)
{
    if (!opened)
        return CLI_EXIT_CONNECT;
    if (code >= 4000 && code < 5000)
        return CLI_EXIT_REFUSED;
    if (l->leaving && code == 1000) {
        if (l->lost)
            return CLI_EXIT_CONNECT;
        if (l->refused)
            return CLI_EXIT_REFUSED;
        return l->bad_line ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (code == 1000 && l->joined)
        return l->refused ? CLI_EXIT_REFUSED : l->bad_line ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    return CLI_EXIT_CONNECT;
}

static void on_close(void *ud, bool opened, int code, const char *reason)
{
    struct live *l = ud;
    screen_leave(l);
    l->exit_code = code_for_close(l, opened, code);
    if (!opened) {
        fprintf(stderr, "rostrum %s: cannot connect to %s: %s\n",
                l->mode == LIVE_JOIN ? "join" : "watch", l->url_arg, reason);
    } else if (!(l->leaving && code == 1000)) {
        char msg[300];
        snprintf(msg, sizeof msg, "connection closed by the server: %d%s%s%s", code,
                 *reason ? " (" : "", reason, *reason ? ")" : "");
        if (code == 4401)
            strcat(msg, ": the token was refused (bad, expired, or another room)");
        else if (code == 4403)
            strcat(msg, ": removed from the room");
        else if (code == 4404)
            strcat(msg, ": no such room");
        fprintf(stderr, "rostrum: %s\n", msg);
    }
    wsc_stop(l->wsc);
}

/* ---- join: input ---- */

static void enqueue(struct live *l, const char *text, size_t n)
{
    struct line *ln = malloc(sizeof *ln + n + 1);
    if (!ln)
        return;
    ln->next = NULL;
    memcpy(ln->text, text, n);
    ln->text[n] = '\0';
    if (l->q_tail)
        l->q_tail->next = ln;
    else
        l->q_head = ln;
    l->q_tail = ln;
}

static void drop_queue(struct live *l)
{
    while (l->q_head) {
        struct line *ln = l->q_head;
        l->q_head = ln->next;
        free(ln);
    }
    l->q_tail = NULL;
}

static void pump(struct live *l);

static void on_stdin(void *ud, const char *buf, size_t len)
{
    struct live *l = ud;
    if (len == 0) {
        if (l->inlen > 0)
            enqueue(l, l->inbuf, l->inlen);
        l->inlen = 0;
        l->in_eof = true;
        pump(l);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            enqueue(l, l->inbuf, l->inlen);
            l->inlen = 0;
        } else if (l->inlen + 1 < sizeof l->inbuf) {
            l->inbuf[l->inlen++] = buf[i];
        }
    }
    pump(l);
}

/* Token bucket for our own commands. */
static bool pace_take(struct live *l, int64_t now)
{
    l->tokens += (double)(now - l->tokens_ms) * PACE_PER_S / 1000.0;
    l->tokens_ms = now;
    if (l->tokens > PACE_BURST)
        l->tokens = PACE_BURST;
    if (l->tokens < 1.0)
        return false;
    l->tokens -= 1.0;
    return true;
}

static void send_line(struct live *l, const char *text, json_t *cmd)
{
    bool ping = strcmp(json_string_value(json_object_get(cmd, "type")), "ping") == 0;
    snprintf(l->pending_id, sizeof l->pending_id, "c%u", ++l->next_id);
    if (!ping)
        json_object_set_new(cmd, "id", json_string(l->pending_id));
    char *txt = json_dumps(cmd, JSON_COMPACT);
    if (!txt || wsc_send(l->wsc, txt, strlen(txt)) != 0) {
        fprintf(stderr, "rostrum join: cannot send %s\n", text);
        l->lost = true;
        free(txt);
        leave(l);
        return;
    }
    free(txt);
    l->pending = true;
    l->pending_pong = ping;
    l->pending_since = now_ms();
    snprintf(l->pending_line, sizeof l->pending_line, "%s", text);
}

/* Runs queued lines until one needs a reply, a pause, or the pace. */
static void pump(struct live *l)
{
    if (l->mode != LIVE_JOIN || !l->joined || l->leaving || l->need_rejoin || l->rejoining)
        return;
    int64_t now = now_ms();
    while (!l->pending && now >= l->sleep_until && l->q_head) {
        struct line *ln = l->q_head;
        struct command c;
        command_parse(ln->text, &l->rs, l->me, &c);
        if (c.kind == COMMAND_SEND && !pace_take(l, now)) {
            json_decref(c.json);
            return; /* the tick comes back when there is a token */
        }
        l->q_head = ln->next;
        if (!l->q_head)
            l->q_tail = NULL;
        switch (c.kind) {
        case COMMAND_NONE: break;
        case COMMAND_ERROR:
            fprintf(stderr, "rostrum join: %s: %s\n", ln->text, c.err);
            l->bad_line = true;
            break;
        case COMMAND_HELP: fputs(command_help, stdout); break;
        case COMMAND_STATE: render_snapshot(stdout, &l->rs, now + l->offset_ms); break;
        case COMMAND_SLEEP: l->sleep_until = now + c.sleep_ms; break;
        case COMMAND_QUIT:
            drop_queue(l);
            l->in_eof = true;
            wsc_stdin_done(l->wsc);
            break;
        case COMMAND_SEND: send_line(l, ln->text, c.json); break;
        }
        json_decref(c.json);
        free(ln);
        if (l->leaving)
            return;
    }
    if (l->in_eof && !l->q_head && !l->pending && now >= l->sleep_until) {
        if (l->linger_until == 0)
            l->linger_until = now + l->linger_ms;
        if (now >= l->linger_until)
            leave(l);
    }
}

/* ---- messages ---- */

static void on_reply(struct live *l, const json_t *m, const char *type)
{
    const char *id = json_string_value(json_object_get(m, "id"));
    bool mine = l->pending && !l->pending_pong && id && strcmp(id, l->pending_id) == 0;
    if (strcmp(type, "error") == 0 && (mine || !id)) {
        l->refused = true;
        if (!l->json) {
            const char *code = json_string_value(json_object_get(m, "code"));
            const char *msg = json_string_value(json_object_get(m, "message"));
            printf("refused %s: %s: %s\n", mine ? l->pending_line : "(unknown command)",
                   code ? code : "?", msg ? msg : "");
        }
    } else if (strcmp(type, "ack") == 0 && mine && !l->json && !l->quiet) {
        printf("ok %s (seq %lld)\n", l->pending_line,
               (long long)json_integer_value(json_object_get(m, "seq")));
    }
    if (mine)
        l->pending = false;
}

/* The queue after the ops is not the server's: a whole snapshot, from
 * the last event seen on (contract section 10). The reply to a command in
 * flight is awaited first (it follows its event on the same connection),
 * and no command is sent meanwhile (pump), so none is lost. */
static void rejoin_when_due(struct live *l)
{
    if (!l->need_rejoin || l->pending || l->leaving)
        return;
    l->need_rejoin = false;
    l->rejoining = true;
    wsc_reconnect(l->wsc);
}

static void on_welcome(struct live *l, const json_t *m, const char *raw)
{
    l->rejoining = false;
    if (roomstate_welcome(&l->rs, m) != 0) {
        fprintf(stderr, "rostrum: the server's welcome is malformed\n");
        l->lost = true;
        leave(l);
        return;
    }
    l->joined = true;
    snprintf(l->me, sizeof l->me, "%s", json_string_value(json_object_get(l->rs.you, "sub"))
                                            ? json_string_value(json_object_get(l->rs.you, "sub")) : "");
    if (l->json) {
        printf("%s\n", raw);
    } else if (l->mode == LIVE_WATCH && !l->plain && isatty(STDOUT_FILENO)) {
        screen_enter(l);
        draw(l);
    } else {
        char line[LINE_BYTES];
        render_line(&l->rs, m, line, sizeof line);
        printf("%s\n", line);
        /* A log starts with the recent history, so it can be read alone. */
        if (l->mode == LIVE_WATCH) {
            size_t i;
            const json_t *ev;
            json_array_foreach(json_object_get(m, "events"), i, ev) {
                render_line(&l->rs, ev, line, sizeof line);
                printf("%s\n", line);
            }
        }
    }
    if (l->mode == LIVE_WATCH) {
        /* Server time for the countdown: one ping after the welcome. */
        l->ping_sent_ms = now_ms();
        wsc_send(l->wsc, "{\"type\":\"ping\"}", 15);
    }
    pump(l);
}

static void on_message(void *ud, const char *buf, size_t len)
{
    struct live *l = ud;
    json_error_t je;
    json_t *m = json_loadb(buf, len, 0, &je);
    const char *type = json_string_value(json_object_get(m, "type"));
    if (!type) {
        fprintf(stderr, "rostrum: unreadable message from the server: %.200s\n", buf);
        goto done;
    }
    if (strcmp(type, "welcome") == 0) {
        on_welcome(l, m, buf);
        goto done;
    }
    if (strcmp(type, "pong") == 0) {
        int64_t now = now_ms();
        if (l->ping_sent_ms) {
            /* our own clock ping (watch): not printed */
            l->offset_ms = json_integer_value(json_object_get(m, "ts")) - (l->ping_sent_ms + now) / 2;
            l->ping_sent_ms = 0;
            goto done;
        }
        if (l->pending && l->pending_pong) {
            l->pending = false;
            if (!l->json)
                printf("pong: %lld ms round trip\n", (long long)(now - l->pending_since));
        }
    }
    if (!l->joined && strcmp(type, "error") == 0) {
        /* The join was refused; the close that follows sets the exit code. */
        if (!l->json)
            fprintf(stderr, "rostrum: join refused: %s: %s\n",
                    json_string_value(json_object_get(m, "code")),
                    json_string_value(json_object_get(m, "message")));
        l->refused = true;
    }
    if (l->json)
        printf("%s\n", buf);
    if (l->joined && (strcmp(type, "ack") == 0 || strcmp(type, "error") == 0)) {
        on_reply(l, m, type);
    } else if (!l->json && strcmp(type, "pong") != 0 && l->joined && !l->screen) {
        char line[LINE_BYTES];
        render_line(&l->rs, m, line, sizeof line);
        printf("%s\n", line);
    }
    unsigned mismatches = l->rs.mismatches;
    roomstate_apply(&l->rs, m);
    if (l->rs.mismatches != mismatches && !l->rejoining && !l->need_rejoin) {
        fprintf(stderr, "rostrum: the speakers list disagrees with the server's after seq %llu; "
                        "joining again\n", (unsigned long long)l->rs.seq);
        l->need_rejoin = true;
    }
    rejoin_when_due(l);
    if (l->screen)
        draw(l);
    pump(l);
done:
    json_decref(m);
}

static void on_open(void *ud)
{
    struct live *l = ud;
    json_t *j = json_pack("{s:s, s:s}", "type", "join", "token", l->token);
    if (l->rejoining) {
        json_object_set_new(j, "since", json_integer((json_int_t)l->rs.seq));
        json_object_set_new(j, "epoch", json_string(l->rs.epoch));
    } else if (l->has_since) {
        json_object_set_new(j, "since", json_integer(l->since));
    }
    if (!l->full_state)
        json_object_set_new(j, "deltas", json_true());
    char *txt = json_dumps(j, JSON_COMPACT);
    if (txt)
        wsc_send(l->wsc, txt, strlen(txt));
    free(txt);
    json_decref(j);
}

static void on_tick(void *ud)
{
    struct live *l = ud;
    int64_t now = now_ms();
    if (l->pending && now - l->pending_since > l->timeout_ms) {
        fprintf(stderr, "rostrum join: no reply to '%s' within %ld s\n", l->pending_line,
                l->timeout_ms / 1000);
        l->pending = false;
        l->lost = true;
        drop_queue(l);
        leave(l);
        return;
    }
    if (l->screen && now - l->last_draw >= 250)
        draw(l);
    pump(l);
}

static void on_signal(void *ud, int sig)
{
    struct live *l = ud;
    if (l->leaving || !l->joined) {
        /* a second Ctrl-C, or nothing to close politely: stop now */
        screen_leave(l);
        l->exit_code = l->joined ? code_for_close(l, true, 1000) : CLI_EXIT_CONNECT;
        wsc_stop(l->wsc);
        return;
    }
    drop_queue(l);
    leave(l);
}

/* ---- options ---- */

enum { O_URL = 256, O_TOKEN, O_TOKEN_FILE, O_SINCE, O_JSON, O_INSECURE, O_CA, O_VERBOSE,
       O_HELP, O_PLAIN, O_QUIET, O_LINGER, O_TIMEOUT, O_FULL };

static const struct option options[] = {
    {"url", required_argument, NULL, O_URL},
    {"token", required_argument, NULL, O_TOKEN},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"since", required_argument, NULL, O_SINCE},
    {"full-state", no_argument, NULL, O_FULL},
    {"json", no_argument, NULL, O_JSON},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"ca-file", required_argument, NULL, O_CA},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"help", no_argument, NULL, O_HELP},
    {"plain", no_argument, NULL, O_PLAIN},
    {"quiet", no_argument, NULL, O_QUIET},
    {"linger", required_argument, NULL, O_LINGER},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {NULL, 0, NULL, 0},
};

static void print_usage(const struct live *l, FILE *f)
{
    if (l->mode == LIVE_WATCH)
        fprintf(f, usage_watch, conn_help);
    else
        fprintf(f, usage_join, conn_help, command_help);
}

static int bad(const struct live *l, const char *msg)
{
    const char *name = l->mode == LIVE_WATCH ? "watch" : "join";
    fprintf(stderr, "rostrum %s: %s\nTry 'rostrum %s --help'.\n", name, msg, name);
    return CLI_EXIT_USAGE;
}

static int seconds_ms(const char *s, long *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || v < 0 || v > 86400)
        return -1;
    *out = (long)(v * 1000 + 0.5);
    return 0;
}

/* Returns 0, -2 after --help, or an exit code. */
static int parse(struct live *l, int argc, char **argv)
{
    int opt;
    const char *invite = NULL;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        if (opt == 'q')
            opt = O_QUIET;
        bool join_only = opt == O_QUIET || opt == O_LINGER || opt == O_TIMEOUT;
        if ((join_only && l->mode != LIVE_JOIN) || (opt == O_PLAIN && l->mode != LIVE_WATCH)) {
            fprintf(stderr, "rostrum: %s is not an option of this command\n", argv[optind - 1]);
            return bad(l, "see the usage");
        }
        switch (opt) {
        case O_URL: l->url_arg = optarg; break;
        case O_TOKEN: l->token_arg = optarg; break;
        case O_TOKEN_FILE: l->token_file = optarg; break;
        case O_SINCE: {
            char *end;
            errno = 0;
            l->since = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || l->since < 0)
                return bad(l, "--since wants a seq (a whole number)");
            l->has_since = true;
            break;
        }
        case O_JSON: l->json = true; break;
        case O_FULL: l->full_state = true; break;
        case O_INSECURE: l->insecure = true; break;
        case O_CA: l->ca_file = optarg; break;
        case O_VERBOSE: l->verbose = true; break;
        case O_PLAIN: l->plain = true; break;
        case O_QUIET: l->quiet = true; break;
        case O_LINGER:
            if (seconds_ms(optarg, &l->linger_ms) != 0)
                return bad(l, "--linger wants a number of seconds");
            break;
        case O_TIMEOUT:
            if (seconds_ms(optarg, &l->timeout_ms) != 0 || l->timeout_ms == 0)
                return bad(l, "--timeout wants a positive number of seconds");
            break;
        case 'h':
        case O_HELP: print_usage(l, stdout); return -2;
        default:
            fprintf(stderr, "rostrum: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return bad(l, "see the usage");
        }
    }
    if (optind < argc)
        invite = argv[optind++];
    if (optind < argc)
        return bad(l, "too many arguments (one invite URL at most)");
    if (invite && l->url_arg)
        return bad(l, "give an invite URL or --url, not both");
    if (invite)
        l->url_arg = invite;
    if (!l->url_arg)
        l->url_arg = getenv("ROSTRUM_URL");
    if (!l->url_arg || !*l->url_arg)
        return bad(l, "which server? give an invite URL, or --url and --token");
    char err[300];
    if (url_parse(l->url_arg, &l->url, err, sizeof err) != 0)
        return bad(l, err);
    /* The token: --token, --token-file, the URL's #t=, ROSTRUM_TOKEN. */
    char frag[URL_FRAGMENT_MAX];
    if (l->token_arg) {
        l->token = strdup(l->token_arg);
    } else if (l->token_file) {
        l->token = keyfile_read(l->token_file, "token file", NULL, NULL, err, sizeof err);
        if (!l->token)
            return bad(l, err);
    } else if (url_token(&l->url, frag, sizeof frag) == 0) {
        l->token = strdup(frag);
    } else if (getenv("ROSTRUM_TOKEN") && *getenv("ROSTRUM_TOKEN")) {
        l->token = strdup(getenv("ROSTRUM_TOKEN"));
    } else {
        return bad(l, "no token: give an invite URL (.../#t=TOKEN), --token or --token-file");
    }
    if (!l->token)
        return CLI_EXIT_CONNECT;
    if (url_ws_path(&l->url, l->path, sizeof l->path) != 0 ||
        url_host_header(&l->url, l->host_header, sizeof l->host_header) != 0)
        return bad(l, "the URL is too long");
    return 0;
}

static int live_main(enum live_mode mode, int argc, char **argv)
{
    struct live l;
    struct wsc_handlers h = {
        .on_open = on_open, .on_message = on_message, .on_close = on_close,
        .on_stdin = on_stdin, .on_tick = on_tick, .on_signal = on_signal,
    };
    char err[300];
    memset(&l, 0, sizeof l);
    l.mode = mode;
    l.timeout_ms = 10000;
    l.tokens = PACE_BURST;
    l.tokens_ms = now_ms();
    l.exit_code = CLI_EXIT_CONNECT;
    roomstate_init(&l.rs);
    int rc = parse(&l, argc, argv);
    if (rc != 0) {
        rc = rc == -2 ? CLI_EXIT_OK : rc;
        goto done;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    l.wcfg.host = l.url.host;
    l.wcfg.port = l.url.port;
    l.wcfg.path = l.path;
    l.wcfg.host_header = l.host_header;
    l.wcfg.tls = l.url.tls;
    l.wcfg.insecure = l.insecure;
    l.wcfg.ca_file = l.ca_file;
    l.wcfg.read_stdin = mode == LIVE_JOIN;
    l.wcfg.tick_ms = TICK_MS;
    l.wcfg.verbose = l.verbose;
    if (mode == LIVE_JOIN && isatty(STDIN_FILENO) && !l.json)
        fprintf(stderr, "Type commands (/help lists them); Ctrl-D or /quit leaves.\n");
    l.wsc = wsc_create(&l.wcfg, &h, &l, err, sizeof err);
    if (!l.wsc) {
        fprintf(stderr, "rostrum: %s\n", err);
        rc = CLI_EXIT_CONNECT;
        goto done;
    }
    wsc_run(l.wsc);
    rc = l.exit_code;
done:
    screen_leave(&l);
    wsc_destroy(l.wsc);
    drop_queue(&l);
    roomstate_clear(&l.rs);
    free(l.token);
    return rc;
}

int live_watch_main(int argc, char **argv)
{
    return live_main(LIVE_WATCH, argc, argv);
}

int live_join_main(int argc, char **argv)
{
    return live_main(LIVE_JOIN, argc, argv);
}
