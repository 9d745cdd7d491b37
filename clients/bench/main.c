/*
 * rostrum-bench: a load generator for Rostrum and for the reference peer
 * (both speak join/say/ping of rostrum.v1). It creates its rooms with the
 * admin API, mints its tokens with the server's secret, opens the
 * connections from one or more worker processes (each one epoll loop),
 * runs one scenario and prints one JSON line (docs/benchmarks.md).
 *
 * The parent process only plans, lines the workers up (every worker has
 * joined before any traffic starts), samples the server's memory for idle,
 * and adds the workers' results up. Workers are always child processes, so
 * that the parent can watch the server while they hold the connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "hist.h"
#include "http.h"
#include "keyfile.h"
#include "proto.h"
#include "url.h"
#include "worker.h"
#include "wsproto.h"

#define EXIT_LOST 1
#define EXIT_USAGE 2
#define EXIT_SETUP 3
#define MAX_URLS 64
#define FD_SPARE 32

#define COMMON_HELP                                                                      \
    "Server and set-up:\n"                                                                \
    "  --url URL               ws://HOST:PORT/ws or http://HOST:PORT; repeat for several\n" \
    "                          nodes (connections are spread round-robin)\n"            \
    "  --api URL               admin API (default: the first --url)\n"                  \
    "  --admin-key-file FILE   admin key (env ROSTRUM_ADMIN_KEY holds the key itself)\n" \
    "  --secret-file FILE      token secret (env ROSTRUM_SECRET holds the secret itself)\n" \
    "  --room ID               room id (rooms: the prefix of ID-1 .. ID-R); default: a\n" \
    "                          new one per run; an existing room is reused\n"          \
    "  --server-pid PID        the server's process, on this machine: idle adds\n"      \
    "                          rss_per_connection_kib; plenary and rooms add\n"         \
    "                          server_cpu_s and deliveries_per_server_cpu_s;\n"         \
    "                          repeatable (up to 8): the CPU is summed over them\n"     \
    "                          (nodes and Redis), the RSS is the first one's\n"        \
    "Load generator:\n"                                                                   \
    "  --source-ips A-B        spread connections over source addresses, e.g.\n"       \
    "                          127.0.0.2-127.0.0.30 (tens of thousands of connections)\n" \
    "  --full-state            join without \"deltas\": events carry the whole queue\n"  \
    "                          and statistics (default: the delta form, protocol 1.2)\n" \
    "  --procs N               run as N worker processes, each holding 1/N of the\n"    \
    "                          connections (past the open-files limit of one process);\n" \
    "                          with N > 1, plenary and rooms need --rate > 0\n"         \
    "  --concurrency N         connections being set up at once (default 1000)\n"      \
    "  --connect-timeout S     give up on connections not joined by then (default 60)\n" \
    "  --drain-timeout S       wait at most this long for the last deliveries; the wait\n" \
    "                          ends once all arrived or none came for 2 s (default 60)\n" \
    "  --quiet                 no progress lines on standard error\n"                   \
    "  --verbose               each error, and progress every second, on standard error\n" \
    "  --help                  this text\n"                                            \
    "\n"                                                                                  \
    "Output: one JSON line on standard output,\n"                                         \
    "  {\"scenario\",\"connections\",\"sent\",\"delivered\",\"expected\",\"deliveries_per_s\",\n" \
    "   \"latency_ms\":{\"p50\",\"p99\",\"max\"},\"connect_s\",\"errors\", ...}\n"           \
    "(plenary, rooms and speakers add \"form\" and \"bytes_per_delivery\": the bytes of\n" \
    "the event frames counted as deliveries, WebSocket header included, per delivery)\n" \
    "connections: joined; delivered == expected unless something was lost; latency\n"   \
    "is from the sender's clock reading (carried in the message text) to the receipt,\n" \
    "on this machine's monotonic clock; connect_s: first connect to last welcome.\n"    \
    "Plain ws:// only.\n"                                                                 \
    "\n"                                                                                  \
    "Exit status: 0 every message delivered and no error; 1 something was lost or\n"    \
    "failed (see \"errors\"); 2 usage; 3 set-up failed (API, secret, addresses).\n"

static const char usage[] =
    "Usage: rostrum-bench SCENARIO [OPTIONS]\n"
    "Load generator for Rostrum and for the Node.js reference peer (both speak\n"
    "join/say/ping). Creates its rooms with the admin API, signs its tokens with the\n"
    "server's secret, runs one scenario and prints one JSON line.\n"
    "\n"
    "Scenarios (rostrum-bench SCENARIO --help for each):\n"
    "  plenary   one room, N observers, M delegates saying R messages a second\n"
    "  rooms     R rooms of P connections each, D delegates saying in each\n"
    "  storm     N connections connect and join as fast as possible\n"
    "  idle      N connections join and stay; the server's memory per connection\n"
    "  speakers  a speakers list of L requests, N observers, the chair granting the\n"
    "            floor every S seconds while the granted ask again\n"
    "\n" COMMON_HELP
    "\n"
    "Example:\n"
    "  rostrum-bench plenary --url http://127.0.0.1:8080 --admin-key-file admin.key \\\n"
    "      --secret-file secret --observers 10000 --delegates 100\n";

#define MESSAGES_HELP                                                                    \
    "  --rate R                says a second in total, spread over the delegates; 0\n"  \
    "                          (default) is a closed loop: as fast as the server\n"     \
    "                          delivers, with --window messages not yet received by\n"  \
    "                          everyone (default 64)\n"                                 \
    "  --size BYTES            length of each message's text, 32..2000 (default 100)\n" \
    "  --duration S            how long to send (default 10)\n"                         \
    "A delegate sends at most 19 messages a second (the server refuses more than 20).\n" \
    "\n"

static const char usage_plenary[] =
    "Usage: rostrum-bench plenary [--observers N] [--delegates M] [--rate R] [OPTIONS]\n"
    "One room: N observers and M delegates; the delegates say messages that every\n"
    "connection receives (expected = messages x (N + M)).\n"
    "\n"
    "  --observers N           (default 1000)\n"
    "  --delegates M           (default 10)\n"
    MESSAGES_HELP COMMON_HELP;

static const char usage_rooms[] =
    "Usage: rostrum-bench rooms [--rooms R] [--per-room P] [--delegates D] [OPTIONS]\n"
    "R rooms of P connections each; in each, D delegates say messages that the P\n"
    "connections of that room receive. Traffic goes round the rooms.\n"
    "\n"
    "  --rooms R               (default 10)\n"
    "  --per-room P            connections per room (default 100)\n"
    "  --delegates D           senders per room, the rest observe (default 1)\n"
    MESSAGES_HELP COMMON_HELP;

static const char usage_storm[] =
    "Usage: rostrum-bench storm [--connections N] [OPTIONS]\n"
    "N observers connect and join one room as fast as possible (--concurrency at a\n"
    "time). deliveries_per_s and joins_per_s are joins a second; latency_ms is the\n"
    "time from connect to welcome; connect_s the time for all of them.\n"
    "\n"
    "  --connections N         (default 1000)\n"
    "\n" COMMON_HELP;

static const char usage_idle[] =
    "Usage: rostrum-bench idle [--connections N] [--hold S] [--server-pid PID] [OPTIONS]\n"
    "N observers join one room and stay for S seconds; then each sends a ping and\n"
    "must get its pong (delivered == expected == N; latency_ms is the round trip).\n"
    "With --server-pid, rss_per_connection_kib is the server's RSS growth (read\n"
    "halfway through the hold) divided by N.\n"
    "\n"
    "  --connections N         (default 1000)\n"
    "  --hold S                (default 5)\n"
    "\n" COMMON_HELP;

static const char usage_speakers[] =
    "Usage: rostrum-bench speakers [--observers N] [--list L] [--grant-every S] [OPTIONS]\n"
    "One room: a chair, L delegates who each ask for the floor, and N observers.\n"
    "The chair and the delegates join first and fill the list; the chair then says\n"
    "50 short messages (so that the welcomes' recent events are the same size in\n"
    "both forms); then the observers join. For --duration seconds the chair grants\n"
    "the floor to the head of the list every S seconds (floor_ended, floor_granted)\n"
    "and the delegate granted asks again (floor_requested): the list keeps L\n"
    "requests. Every event is a delivery on every connection (expected = events the\n"
    "chair got x connections); latency is from the event's ts (server clock) to its\n"
    "receipt. Run it with and without --full-state to compare the two forms.\n"
    "\n"
    "  --observers N           (default 10000)\n"
    "  --list L                requests on the list (default 190)\n"
    "  --grant-every S         seconds between grants (default 3)\n"
    "  --duration S            how long to grant (default 30)\n"
    "One process only (--procs 1).\n"
    "\n" COMMON_HELP;

struct opts {
    enum bench_scenario scenario;
    const char *name;
    const char *urls[MAX_URLS];
    size_t n_urls;
    const char *api, *admin_file, *secret_file, *room, *source_ips;
    long observers, delegates, rooms, per_room, connections, procs, concurrency, size, window;
    double rate, duration_s, hold_s, connect_timeout_s, drain_timeout_s;
    long server_pid;          /* the first --server-pid */
    long cpu_pids[8];         /* every --server-pid */
    size_t n_cpu_pids;
    bool quiet, verbose, full_state;
    long list;
    double grant_every_s;
};

static int usage_error(const char *msg)
{
    fprintf(stderr, "rostrum-bench: %s\nTry 'rostrum-bench --help'.\n", msg);
    return EXIT_USAGE;
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

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

enum {
    O_URL = 256, O_API, O_ADMIN, O_SECRET, O_ROOM, O_SRC, O_PROCS, O_CONC, O_CTIMEOUT, O_DTIMEOUT,
    O_QUIET, O_VERBOSE, O_HELP, O_OBS, O_DELS, O_RATE, O_SIZE, O_DURATION, O_WINDOW, O_ROOMS,
    O_PERROOM, O_CONNS, O_HOLD, O_PID, O_FULL, O_LIST, O_GRANT,
};

static const struct option options[] = {
    {"url", required_argument, NULL, O_URL},
    {"api", required_argument, NULL, O_API},
    {"admin-key-file", required_argument, NULL, O_ADMIN},
    {"secret-file", required_argument, NULL, O_SECRET},
    {"room", required_argument, NULL, O_ROOM},
    {"source-ips", required_argument, NULL, O_SRC},
    {"procs", required_argument, NULL, O_PROCS},
    {"concurrency", required_argument, NULL, O_CONC},
    {"connect-timeout", required_argument, NULL, O_CTIMEOUT},
    {"drain-timeout", required_argument, NULL, O_DTIMEOUT},
    {"quiet", no_argument, NULL, O_QUIET},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"help", no_argument, NULL, O_HELP},
    {"observers", required_argument, NULL, O_OBS},
    {"delegates", required_argument, NULL, O_DELS},
    {"rate", required_argument, NULL, O_RATE},
    {"size", required_argument, NULL, O_SIZE},
    {"duration", required_argument, NULL, O_DURATION},
    {"window", required_argument, NULL, O_WINDOW},
    {"rooms", required_argument, NULL, O_ROOMS},
    {"per-room", required_argument, NULL, O_PERROOM},
    {"connections", required_argument, NULL, O_CONNS},
    {"hold", required_argument, NULL, O_HOLD},
    {"server-pid", required_argument, NULL, O_PID},
    {"full-state", no_argument, NULL, O_FULL},
    {"list", required_argument, NULL, O_LIST},
    {"grant-every", required_argument, NULL, O_GRANT},
    {NULL, 0, NULL, 0},
};

/* Which options each scenario takes: a flag of another scenario is a
 * usage error rather than silently ignored. */
static bool allowed(enum bench_scenario sc, int opt)
{
    switch (opt) {
    case O_OBS: return sc == SC_PLENARY || sc == SC_SPEAKERS;
    case O_DURATION: return sc == SC_PLENARY || sc == SC_ROOMS || sc == SC_SPEAKERS;
    case O_DELS: case O_RATE: case O_SIZE: case O_WINDOW:
        return sc == SC_PLENARY || sc == SC_ROOMS;
    case O_LIST: case O_GRANT: return sc == SC_SPEAKERS;
    case O_ROOMS: case O_PERROOM: return sc == SC_ROOMS;
    case O_CONNS: return sc == SC_STORM || sc == SC_IDLE;
    case O_HOLD: return sc == SC_IDLE;
    default: return true;
    }
}

static int parse(struct opts *o, int argc, char **argv)
{
    static const struct { const char *name; enum bench_scenario sc; const char *usage; } scs[] = {
        {"plenary", SC_PLENARY, usage_plenary}, {"rooms", SC_ROOMS, usage_rooms},
        {"storm", SC_STORM, usage_storm}, {"idle", SC_IDLE, usage_idle},
        {"speakers", SC_SPEAKERS, usage_speakers},
    };
    const char *sc_usage = usage;
    memset(o, 0, sizeof *o);
    o->observers = 1000;
    o->delegates = -1;
    o->rooms = 10;
    o->per_room = 100;
    o->connections = 1000;
    o->procs = 1;
    o->concurrency = 1000;
    o->size = 100;
    o->window = 64;
    o->duration_s = 10;
    o->hold_s = 5;
    o->list = 190;
    o->grant_every_s = 3;
    o->connect_timeout_s = 60;
    o->drain_timeout_s = 60;
    if (argc < 2)
        return usage_error("which scenario? plenary, rooms, storm, idle or speakers");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return -1;
    }
    for (size_t i = 0; i < sizeof scs / sizeof scs[0]; i++)
        if (strcmp(argv[1], scs[i].name) == 0) {
            o->scenario = scs[i].sc;
            o->name = scs[i].name;
            sc_usage = scs[i].usage;
        }
    if (!o->name)
        return usage_error("the first argument is the scenario: plenary, rooms, storm, idle or speakers");
    if (o->scenario == SC_SPEAKERS) {
        o->observers = 10000;
        o->duration_s = 30;
    }
    int opt;
    optind = 2;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (!allowed(o->scenario, opt)) {
            fprintf(stderr, "rostrum-bench: %s is not an option of %s\n", argv[optind - 1], o->name);
            return usage_error("see the usage");
        }
        int bad = 0;
        switch (opt) {
        case O_URL:
            if (o->n_urls == MAX_URLS)
                return usage_error("too many --url");
            o->urls[o->n_urls++] = optarg;
            break;
        case O_API: o->api = optarg; break;
        case O_ADMIN: o->admin_file = optarg; break;
        case O_SECRET: o->secret_file = optarg; break;
        case O_ROOM: o->room = optarg; break;
        case O_SRC: o->source_ips = optarg; break;
        case O_PROCS: bad = parse_long(optarg, 1, 64, &o->procs); break;
        case O_CONC: bad = parse_long(optarg, 1, 1000000, &o->concurrency); break;
        case O_CTIMEOUT: bad = parse_double(optarg, 0.1, 3600, &o->connect_timeout_s); break;
        case O_DTIMEOUT: bad = parse_double(optarg, 0.1, 3600, &o->drain_timeout_s); break;
        case O_QUIET: o->quiet = true; break;
        case O_VERBOSE: o->verbose = true; break;
        case 'h':
        case O_HELP: fputs(sc_usage, stdout); return -1;
        case O_OBS: bad = parse_long(optarg, 0, 10000000, &o->observers); break;
        case O_DELS: bad = parse_long(optarg, 0, 1000000, &o->delegates); break;
        case O_RATE: bad = parse_double(optarg, 0, 1e7, &o->rate); break;
        case O_SIZE: bad = parse_long(optarg, 32, 2000, &o->size); break;
        case O_DURATION: bad = parse_double(optarg, 0.1, 86400, &o->duration_s); break;
        case O_WINDOW: bad = parse_long(optarg, 1, 30000, &o->window); break;
        case O_ROOMS: bad = parse_long(optarg, 1, 100000, &o->rooms); break;
        case O_PERROOM: bad = parse_long(optarg, 1, 10000000, &o->per_room); break;
        case O_CONNS: bad = parse_long(optarg, 1, 10000000, &o->connections); break;
        case O_HOLD: bad = parse_double(optarg, 0, 86400, &o->hold_s); break;
        case O_PID: {
            long pid = 0;
            bad = parse_long(optarg, 1, 1L << 30, &pid) ||
                  o->n_cpu_pids == sizeof o->cpu_pids / sizeof o->cpu_pids[0];
            if (!bad) {
                o->cpu_pids[o->n_cpu_pids++] = pid;
                if (!o->server_pid)
                    o->server_pid = pid;
            }
            break;
        }
        case O_FULL: o->full_state = true; break;
        case O_LIST: bad = parse_long(optarg, 1, 100000, &o->list); break;
        case O_GRANT: bad = parse_double(optarg, 0.05, 3600, &o->grant_every_s); break;
        default:
            fprintf(stderr, "rostrum-bench: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return usage_error("see the usage");
        }
        if (bad) {
            fprintf(stderr, "rostrum-bench: bad value '%s' for %s\n", optarg, argv[optind - 2]);
            return usage_error("see the usage (--size is 32..2000, the server's text limit)");
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument");
    if (o->n_urls == 0)
        return usage_error("--url is required");
    if (o->delegates < 0)
        o->delegates = o->scenario == SC_PLENARY ? 10 : 1;
    if (o->scenario == SC_ROOMS && o->delegates > o->per_room)
        return usage_error("--delegates is per room and cannot exceed --per-room");
    if ((o->scenario == SC_PLENARY || o->scenario == SC_ROOMS) && o->delegates == 0)
        return usage_error("somebody must send: --delegates at least 1");
    if ((o->scenario == SC_PLENARY || o->scenario == SC_ROOMS) && o->procs > 1 && o->rate <= 0)
        return usage_error("with --procs > 1, give --rate (the closed loop needs one process)");
    if (o->scenario == SC_SPEAKERS && o->procs > 1)
        return usage_error("speakers runs in one process (--procs 1)");
    if (o->room && !proto_valid_room_id(o->room))
        return usage_error("--room must match [a-z0-9][a-z0-9-]{0,63}");
    return 0;
}

/* ---- set-up ---- */

static int parse_ips(const char *s, uint32_t *lo, uint32_t *hi)
{
    char a[64], b[64];
    struct in_addr x, y;
    const char *dash = strchr(s, '-');
    snprintf(a, sizeof a, "%.*s", dash ? (int)(dash - s) : (int)strlen(s), s);
    snprintf(b, sizeof b, "%s", dash ? dash + 1 : a);
    if (inet_pton(AF_INET, a, &x) != 1 || inet_pton(AF_INET, b, &y) != 1)
        return -1;
    *lo = ntohl(x.s_addr);
    *hi = ntohl(y.s_addr);
    return *lo && *lo <= *hi ? 0 : -1;
}

static int make_target(struct bench_target *t, const char *s, bool v4)
{
    struct url u;
    char err[300], path[URL_PATH_MAX], host[URL_HOST_MAX + 16], port[16];
    struct addrinfo hints, *res = NULL;
    if (url_parse(s, &u, err, sizeof err) != 0) {
        fprintf(stderr, "rostrum-bench: --url %s: %s\n", s, err);
        return -1;
    }
    if (u.tls) {
        fprintf(stderr, "rostrum-bench: --url %s: TLS is not supported; measure plain ws://\n", s);
        return -1;
    }
    if (url_ws_path(&u, path, sizeof path) != 0 || url_host_header(&u, host, sizeof host) != 0)
        return -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = v4 ? AF_INET : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", u.port);
    int g = getaddrinfo(u.host, port, &hints, &res);
    if (g != 0) {
        fprintf(stderr, "rostrum-bench: cannot resolve %s: %s\n", u.host, gai_strerror(g));
        return -1;
    }
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    t->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    t->request_len = wsproto_request(t->request, sizeof t->request, host, path);
    return t->request_len ? 0 : -1;
}

/* Creates each room (201), or finds it there (409). */
static int create_rooms(const struct opts *o, const struct bench_plan *p, const char *admin_key)
{
    struct url api;
    char err[300], prefix[URL_PATH_MAX], path[URL_PATH_MAX + 32];
    const char *a = o->api ? o->api : o->urls[0];
    if (url_parse(a, &api, err, sizeof err) != 0 || url_api_prefix(&api, prefix, sizeof prefix) != 0) {
        fprintf(stderr, "rostrum-bench: --api %s: %s\n", a, err);
        return -1;
    }
    snprintf(path, sizeof path, "%s/api/rooms", prefix);
    for (size_t r = 0; r < p->rooms; r++) {
        struct http_response res;
        char body[256];
        int n = snprintf(body, sizeof body, "{\"id\":\"%s\",\"title\":\"Benchmark %s\",\"agenda\":[]}",
                         p->room_ids[r], o->name);
        if (http_request(&api, "POST", path, admin_key, body, (size_t)n, NULL, 10000, &res, err,
                         sizeof err) != 0) {
            fprintf(stderr, "rostrum-bench: cannot create room %s: %s\n", p->room_ids[r], err);
            return -1;
        }
        int st = res.status;
        if (st != 201 && st != 409)
            fprintf(stderr, "rostrum-bench: cannot create room %s: HTTP %d %.200s\n", p->room_ids[r], st,
                    res.body ? res.body : "");
        http_response_free(&res);
        if (st != 201 && st != 409)
            return -1;
    }
    return 0;
}

/* CPU time (user + system) the process has used, in seconds; -1 if gone. */
static double cpu_s(long pid);

/* The CPU seconds of every --server-pid together; -1 when one is gone. */
static double cpu_total(const struct opts *o)
{
    double t = 0;
    for (size_t i = 0; i < o->n_cpu_pids; i++) {
        double c = cpu_s(o->cpu_pids[i]);
        if (c < 0)
            return -1;
        t += c;
    }
    return t;
}

static double cpu_s(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* fields after the command name, which may hold spaces: 3 is state,
     * 14 utime, 15 stime (clock ticks) */
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long rss_kib(long pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

/* ---- workers ---- */

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A worker process: connect, report, wait for the go, run, report. */
static int child(const struct bench_plan *p, unsigned k, int fd)
{
    int rc = 1;
    uint64_t *sizes = calloc(p->rooms, sizeof *sizes);
    struct worker *w = worker_create(p, k);
    if (!w || !sizes)
        goto done;
    worker_connect(w);
    if (write_all(fd, worker_result(w), sizeof(struct wresult)) != 0 ||
        write_all(fd, worker_joined_per_room(w), p->rooms * sizeof(uint64_t)) != 0 ||
        read_all(fd, sizes, p->rooms * sizeof(uint64_t)) != 0)
        goto done;
    worker_traffic(w, sizes);
    if (write_all(fd, worker_result(w), sizeof(struct wresult)) != 0 ||
        write_all(fd, worker_acked_per_room(w), p->rooms * sizeof(uint64_t)) != 0)
        goto done;
    rc = 0;
done:
    worker_destroy(w);
    free(sizes);
    return rc;
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static int64_t min_nz(int64_t a, int64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

static int64_t max_of(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Adds a worker's result into the total. */
static void merge(struct wresult *t, const struct wresult *r)
{
    t->conns += r->conns;
    t->joined += r->joined;
    t->failed += r->failed;
    t->closed += r->closed;
    t->sent += r->sent;
    t->acked += r->acked;
    t->refused += r->refused;
    t->delivered += r->delivered;
    t->errors += r->errors;
    t->pongs += r->pongs;
    t->throttled += r->throttled;
    t->event_bytes += r->event_bytes;
    t->chair_events += r->chair_events;
    t->t_first_connect = min_nz(t->t_first_connect, r->t_first_connect);
    t->t_last_join = max_of(t->t_last_join, r->t_last_join);
    t->t_first_send = min_nz(t->t_first_send, r->t_first_send);
    t->t_last_send = max_of(t->t_last_send, r->t_last_send);
    t->t_last_delivery = max_of(t->t_last_delivery, r->t_last_delivery);
    hist_merge(&t->lat, &r->lat);
    hist_merge(&t->join, &r->join);
    if (!t->first_error[0])
        memcpy(t->first_error, r->first_error, sizeof t->first_error);
}

struct run {
    pid_t pid[64];
    int fd[64];
    unsigned n;
};

static int run_workers(const struct opts *o, const struct bench_plan *p, struct wresult *total,
                       uint64_t *expected, long *rss_delta, double *server_cpu)
{
    struct run run = {.n = 0};
    struct wresult *r = malloc(sizeof *r);
    uint64_t *sizes = calloc(p->rooms, sizeof *sizes), *part = calloc(p->rooms, sizeof *part);
    uint64_t *acked = calloc(p->rooms, sizeof *acked);
    long rss0 = o->server_pid ? rss_kib(o->server_pid) : -1;
    int rc = EXIT_SETUP;
    memset(total, 0, sizeof *total);
    hist_init(&total->lat);
    hist_init(&total->join);
    if (!r || !sizes || !part || !acked)
        goto done;
    if (o->server_pid && rss0 < 0) {
        fprintf(stderr, "rostrum-bench: cannot read /proc/%ld/status\n", o->server_pid);
        goto done;
    }
    fflush(NULL);
    for (unsigned k = 0; k < p->procs; k++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            goto done;
        pid_t pid = fork();
        if (pid < 0) {
            close(sv[0]);
            close(sv[1]);
            goto done;
        }
        if (pid == 0) {
            close(sv[0]);
            for (unsigned j = 0; j < run.n; j++)
                close(run.fd[j]);
            _exit(child(p, k, sv[1]));
        }
        close(sv[1]);
        run.pid[run.n] = pid;
        run.fd[run.n++] = sv[0];
    }
    /* Phase 1: every worker has joined (or failed) its connections. */
    for (unsigned k = 0; k < run.n; k++) {
        if (read_all(run.fd[k], r, sizeof *r) != 0 ||
            read_all(run.fd[k], part, p->rooms * sizeof *part) != 0) {
            fprintf(stderr, "rostrum-bench: worker %u died while connecting\n", k);
            goto done;
        }
        for (size_t i = 0; i < p->rooms; i++)
            sizes[i] += part[i];
        total->joined += r->joined;
        total->t_first_connect = min_nz(total->t_first_connect, r->t_first_connect);
        total->t_last_join = max_of(total->t_last_join, r->t_last_join);
    }
    if (!o->quiet)
        fprintf(stderr, "rostrum-bench: %s: %" PRIu64 " of %zu connections joined in %.2f s\n",
                o->name, total->joined, p->conns,
                (double)(total->t_last_join - total->t_first_connect) / 1e6);
    double cpu0 = o->server_pid ? cpu_total(o) : -1;
    for (unsigned k = 0; k < run.n; k++)
        if (write_all(run.fd[k], sizes, p->rooms * sizeof *sizes) != 0)
            goto done;
    if (o->server_pid && p->scenario == SC_IDLE) {
        /* Sample while the connections are held, after they settled. */
        struct timespec ts = {.tv_sec = (time_t)(o->hold_s / 2),
                              .tv_nsec = (long)((o->hold_s / 2 - (double)(time_t)(o->hold_s / 2)) * 1e9)};
        nanosleep(&ts, NULL);
        long rss1 = rss_kib(o->server_pid);
        *rss_delta = rss1 >= 0 ? rss1 - rss0 : -1;
    }
    /* Phase 2: results. */
    memset(total, 0, sizeof *total);
    hist_init(&total->lat);
    hist_init(&total->join);
    for (unsigned k = 0; k < run.n; k++) {
        if (read_all(run.fd[k], r, sizeof *r) != 0 ||
            read_all(run.fd[k], part, p->rooms * sizeof *part) != 0) {
            fprintf(stderr, "rostrum-bench: worker %u died\n", k);
            goto done;
        }
        merge(total, r);
        for (size_t i = 0; i < p->rooms; i++)
            acked[i] += part[i];
    }
    if (o->server_pid && cpu0 >= 0 && cpu_total(o) >= 0)
        *server_cpu = cpu_total(o) - cpu0;
    *expected = 0;
    if (p->scenario == SC_PLENARY || p->scenario == SC_ROOMS)
        for (size_t i = 0; i < p->rooms; i++)
            *expected += acked[i] * sizes[i];
    else if (p->scenario == SC_SPEAKERS)
        *expected = total->chair_events * sizes[0];
    else
        *expected = p->conns;
    rc = 0;
done:
    for (unsigned k = 0; k < run.n; k++) {
        int st;
        close(run.fd[k]);
        if (rc != 0)
            kill(run.pid[k], SIGKILL);
        waitpid(run.pid[k], &st, 0);
    }
    free(r);
    free(sizes);
    free(part);
    free(acked);
    return rc;
}

static void print_result(const struct opts *o, const struct bench_plan *p, const struct wresult *t,
                         uint64_t expected, long rss_delta, double server_cpu)
{
    double connect_s = t->t_last_join > t->t_first_connect
                           ? (double)(t->t_last_join - t->t_first_connect) / 1e6 : 0;
    const struct hist *lat = p->scenario == SC_STORM ? &t->join : &t->lat;
    uint64_t sent = t->sent, delivered = t->delivered;
    double rate = 0, span;
    switch (p->scenario) {
    case SC_STORM:
        sent = p->conns;
        delivered = t->joined;
        rate = connect_s > 0 ? (double)t->joined / connect_s : 0;
        break;
    default:
        span = (double)(t->t_last_delivery - t->t_first_send) / 1e6;
        rate = span > 0 ? (double)delivered / span : 0;
        break;
    }
    /* Connections that failed to join count as errors, once. */
    uint64_t errors = t->errors;
    printf("{\"scenario\":\"%s\",\"connections\":%" PRIu64 ",\"sent\":%" PRIu64
           ",\"delivered\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"deliveries_per_s\":%.0f"
           ",\"latency_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},\"connect_s\":%.3f"
           ",\"errors\":%" PRIu64,
           o->name, t->joined, sent, delivered, expected, rate, ms(hist_quantile(lat, 0.5)),
           ms(hist_quantile(lat, 0.99)), ms(lat->max), connect_s, errors);
    if (p->scenario == SC_PLENARY || p->scenario == SC_ROOMS) {
        double send_span = (double)(t->t_last_send - t->t_first_send) / 1e6;
        printf(",\"sent_per_s\":%.1f", send_span > 0 ? (double)t->sent / send_span : 0);
    }
    if (p->scenario == SC_STORM)
        printf(",\"joins_per_s\":%.0f", rate);
    if (p->scenario == SC_IDLE && o->server_pid)
        printf(",\"rss_per_connection_kib\":%.2f",
               t->joined && rss_delta >= 0 ? (double)rss_delta / (double)t->joined : -1.0);
    if (p->scenario == SC_PLENARY || p->scenario == SC_ROOMS || p->scenario == SC_SPEAKERS)
        printf(",\"form\":\"%s\",\"bytes_per_delivery\":%.1f", p->full_state ? "full" : "delta",
               delivered ? (double)t->event_bytes / (double)delivered : 0.0);
    if (p->scenario == SC_SPEAKERS)
        printf(",\"events\":%" PRIu64 ",\"event_bytes\":%" PRIu64, t->chair_events, t->event_bytes);
    if ((p->scenario == SC_PLENARY || p->scenario == SC_ROOMS || p->scenario == SC_SPEAKERS) &&
        server_cpu > 0)
        printf(",\"server_cpu_s\":%.2f,\"deliveries_per_server_cpu_s\":%.0f", server_cpu,
               (double)delivered / server_cpu);
    printf("}\n");
    fflush(stdout);
    if (!o->quiet && t->first_error[0])
        fprintf(stderr, "rostrum-bench: first error: %s\n", t->first_error);
    if (!o->quiet && strstr(t->first_error, " 429"))
        fprintf(stderr, "rostrum-bench: the server limits connections per source address: spread "
                        "them with --source-ips (e.g. 127.0.0.2-127.0.0.30)\n");
    if (!o->quiet && t->throttled)
        fprintf(stderr, "rostrum-bench: the senders were held back by the server's rate limit "
                        "(20 commands a second per connection): add --delegates\n");
}

int main(int argc, char **argv)
{
    struct opts o;
    struct bench_plan p;
    struct wresult *total = NULL;
    char err[300];
    char *admin_key = NULL;
    struct proto_keyring *keys = NULL;
    uint64_t expected = 0;
    long rss_delta = -1;
    double server_cpu = -1;
    int rc = parse(&o, argc, argv);
    memset(&p, 0, sizeof p);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    rc = EXIT_SETUP;
    signal(SIGPIPE, SIG_IGN);
    keys = keyfile_keys(o.secret_file, "ROSTRUM_SECRET", "--secret-file", err, sizeof err);
    admin_key = keyfile_from(o.admin_file, "ROSTRUM_ADMIN_KEY", "--admin-key-file",
                             "admin key file", NULL, err, sizeof err);
    if (!keys || !admin_key) {
        fprintf(stderr, "rostrum-bench: %s\n", err);
        goto done;
    }
    p.keys = keys;
    p.scenario = o.scenario;
    p.procs = (unsigned)o.procs;
    p.concurrency = (size_t)o.concurrency;
    p.rate = o.rate;
    p.size = (size_t)o.size;
    p.window = (size_t)o.window;
    p.duration_us = (int64_t)(o.duration_s * 1e6);
    p.hold_us = (int64_t)(o.hold_s * 1e6);
    p.connect_timeout_us = (int64_t)(o.connect_timeout_s * 1e6);
    p.drain_timeout_us = (int64_t)(o.drain_timeout_s * 1e6);
    p.verbose = o.verbose;
    switch (o.scenario) {
    case SC_PLENARY:
        p.rooms = 1;
        p.delegates = (size_t)o.delegates;
        p.per_room = (size_t)(o.observers + o.delegates);
        break;
    case SC_ROOMS:
        p.rooms = (size_t)o.rooms;
        p.per_room = (size_t)o.per_room;
        p.delegates = (size_t)o.delegates;
        break;
    case SC_STORM:
    case SC_IDLE:
        p.rooms = 1;
        p.per_room = (size_t)o.connections;
        p.delegates = 0;
        break;
    case SC_SPEAKERS:
        p.rooms = 1;
        p.list_len = (size_t)o.list;
        p.delegates = p.list_len + 1; /* the chair, then the list */
        p.per_room = (size_t)o.observers + p.delegates;
        p.grant_every_us = (int64_t)(o.grant_every_s * 1e6);
        break;
    }
    p.full_state = o.full_state;
    p.conns = p.rooms * p.per_room;
    if (o.source_ips && parse_ips(o.source_ips, &p.src_lo, &p.src_hi) != 0) {
        fprintf(stderr, "rostrum-bench: --source-ips wants A or A-B (IPv4), e.g. 127.0.0.2-127.0.0.30\n");
        rc = EXIT_USAGE;
        goto done;
    }
    /* Every connection is a file: take the hard limit, and say when one
     * process cannot hold its share. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        size_t share = (p.conns + p.procs - 1) / p.procs;
        if (rl.rlim_cur != RLIM_INFINITY && share + FD_SPARE > rl.rlim_cur) {
            fprintf(stderr, "rostrum-bench: %zu connections per process exceed the open-files "
                            "limit (%llu): use --procs %zu\n", share,
                    (unsigned long long)rl.rlim_cur,
                    (p.conns + (size_t)rl.rlim_cur - FD_SPARE - 1) / ((size_t)rl.rlim_cur - FD_SPARE));
            rc = EXIT_USAGE;
            goto done;
        }
    }
    p.targets = calloc(o.n_urls, sizeof *p.targets);
    p.room_ids = calloc(p.rooms, sizeof *p.room_ids);
    total = malloc(sizeof *total);
    if (!p.targets || !p.room_ids || !total)
        goto done;
    p.n_targets = o.n_urls;
    for (size_t i = 0; i < o.n_urls; i++)
        if (make_target(&p.targets[i], o.urls[i], p.src_lo != 0) != 0)
            goto done;
    char base[PROTO_ROOM_BUF];
    if (o.room)
        snprintf(base, sizeof base, "%s", o.room);
    else
        snprintf(base, sizeof base, "bench-%s-%ld-%ld", o.name, (long)getpid(), (long)time(NULL));
    for (size_t r = 0; r < p.rooms; r++) {
        p.room_ids[r] = malloc(PROTO_ROOM_BUF + 16);
        if (!p.room_ids[r])
            goto done;
        if (o.scenario == SC_ROOMS)
            snprintf(p.room_ids[r], PROTO_ROOM_BUF + 16, "%.50s-%zu", base, r + 1);
        else
            snprintf(p.room_ids[r], PROTO_ROOM_BUF + 16, "%s", base);
    }
    if (create_rooms(&o, &p, admin_key) != 0)
        goto done;
    if (!o.quiet)
        fprintf(stderr, "rostrum-bench: %s: %zu connections (%zu rooms) to %zu URL(s), %u process(es)\n",
                o.name, p.conns, p.rooms, p.n_targets, p.procs);
    if (run_workers(&o, &p, total, &expected, &rss_delta, &server_cpu) != 0)
        goto done;
    print_result(&o, &p, total, expected, rss_delta, server_cpu);
    rc = total->errors == 0 && total->joined == p.conns &&
                 (o.scenario == SC_STORM || total->delivered == expected)
             ? 0 : EXIT_LOST;
done:
    for (size_t r = 0; p.room_ids && r < p.rooms; r++)
        free(p.room_ids[r]);
    free(p.room_ids);
    free(p.targets);
    free(total);
    proto_keyring_free(keys);
    free(admin_key);
    return rc;
}
