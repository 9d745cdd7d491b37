/*
 * rostrum-server: parses the configuration, raises the open-files limit,
 * and wires the modules, each given what it uses:
 *
 *   net      the loop and the listening socket (nothing served yet)
 *   backend  memory, or Redis on net's loop (net_loop())
 *   hub      the rooms, on the backend (it becomes the backend's sink)
 *   net_start(net, hub): sessions, /api and the tick go to the hub
 *
 * then runs --demo, prints "rostrum listening on URL" once connections are
 * accepted, and runs until SIGTERM/SIGINT, which drain (close 1001) and
 * exit 0. Teardown goes the other way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>

#include "api.h"
#include "audit.h"
#include "backend.h"
#include "clock.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "net.h"

#define DEMO_ROOM "closing-discussion"

/* lws busy-loops on accept() with EMFILE: take every file the hard limit
 * allows. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn("cannot raise the open-files limit");
    }
}

static void demo_created(void *arg, int status, const json_t *out, const char *msg)
{
    (void)out;
    *(int *)arg = status;
    if (status != 201 && status != 409)
        log_error("--demo: cannot create the room (%d %s)", status, msg ? msg : "");
}

/* The seed meeting's slot (contract 9.1): two hours from the next full
 * half hour, New York time, as the 2020 meeting was (11:30-13:30); three
 * guiding questions of 30 minutes and the Under-Secretary-General's
 * conclusions (15 minutes), reserved so that the list never eats them. */
#define DEMO_HALF_HOUR_MS (30 * 60 * 1000)

static int demo(struct hub *h, const struct config *cfg, const char *base)
{
    static const char spec_text[] =
        "{\"id\":\"" DEMO_ROOM "\","
        "\"title\":\"Interactive Closing Discussion: Member States' Counter-Terrorism Priorities "
        "in the Post COVID-19 Environment\","
        "\"status\":\"scheduled\","
        "\"agenda\":["
        "{\"id\":\"q1\",\"planned_s\":1800,\"title\":\"What are Member States' counter-terrorism "
        "needs and priorities during the on-going and post-pandemic environments?\"},"
        "{\"id\":\"q2\",\"planned_s\":1800,\"title\":\"What are the synergies and complementarities "
        "between the response to and recovery from COVID-19 and the counter-terrorism agenda?\"},"
        "{\"id\":\"q3\",\"planned_s\":1800,\"title\":\"How can we strengthen political support for "
        "international counter-terrorism cooperation and capacity-building, including through the UN "
        "and its partners?\"},"
        "{\"id\":\"usg\",\"planned_s\":900,\"reserved\":true,"
        "\"title\":\"Conclusions of the Under-Secretary-General\"}]}";
    static const struct {
        const char *label, *sub, *name, *delegation;
        enum proto_role role;
        enum proto_category category;
        const char *region; /* contract 9.3: the chair's Regional balance */
    } people[] = {
        {"moderator", "chair", "Chair", NULL, PROTO_ROLE_MODERATOR, PROTO_CAT_NONE, NULL},
        {"delegate", "france", "Delegate of France", "France", PROTO_ROLE_DELEGATE,
         PROTO_CAT_MEMBER_STATE, "Western European and other States"},
        {"delegate", "kenya", "Delegate of Kenya", "Kenya", PROTO_ROLE_DELEGATE,
         PROTO_CAT_MEMBER_STATE, "African States"},
        {"observer", "observer-1", "Observer", NULL, PROTO_ROLE_OBSERVER, PROTO_CAT_NONE, NULL},
    };
    json_error_t jerr;
    json_t *spec = json_loads(spec_text, 0, &jerr);
    /* the slot: from the next full half hour (server clock), two hours */
    int64_t starts = (clock_now_ms() / DEMO_HALF_HOUR_MS + 1) * DEMO_HALF_HOUR_MS;
    if (spec && json_object_set_new(spec, "schedule",
                                    json_pack("{s:I, s:I, s:s}", "starts_at", (json_int_t)starts,
                                              "ends_at", (json_int_t)(starts + 4 * DEMO_HALF_HOUR_MS),
                                              "time_zone", "America/New_York"))) {
        json_decref(spec);
        spec = NULL;
    }
    static int st; /* written by demo_created, maybe after this returns */
    st = spec ? 0 : 500;
    if (spec)
        hub_room_create(h, spec, demo_created, &st);
    json_decref(spec);
    /* 409: it exists already (a restart on the same data). 0: the backend
     * answers later (Redis); the room is created in the background. */
    if (st != 201 && st != 409 && st != 0) {
        log_error("--demo: cannot create the room (%d)", st);
        return -1;
    }
    printf("Demo room '%s' is ready. Invite links (valid 7 days):\n", DEMO_ROOM);
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        char *tok = api_mint(cfg, DEMO_ROOM, people[i].sub, people[i].name, people[i].role,
                             people[i].delegation, people[i].category, people[i].region,
                             7 * 24 * 3600, NULL);
        if (!tok)
            return -1;
        if (people[i].region)
            printf("  %-9s %s/#t=%s   (%s, %s)\n", people[i].label, base, tok,
                   people[i].delegation, people[i].region);
        else
            printf("  %-9s %s/#t=%s\n", people[i].label, base, tok);
        free(tok);
    }
    if (cfg->admin_key_generated)
        printf("Admin API key (generated for this run): %s\n", cfg->admin_key);
    return 0;
}

static int backend_ready(void *arg)
{
    return hub_backend_up(arg);
}

struct reload_ctx {
    struct config *cfg;
    struct backend *backend;
};

/* SIGHUP (on the loop, after net reloaded the certificate): the keys and
 * the Redis password are read again (a file that fails keeps the old
 * value), the backend gets the password for its next connection, and the
 * audit log is reopened. Open connections stay. */
static void reload(void *arg)
{
    struct reload_ctx *r = arg;
    config_reload(r->cfg);
    /* The backend is main's (the hub only uses it). */
    if (r->cfg->redis_url)
        backend_redis_auth(r->backend, r->cfg->redis_user, r->cfg->redis_password);
    audit_reopen();
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct hub *hub = NULL;
    struct net *net = NULL;
    struct backend *backend = NULL;
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    rc = 1;
    log_setup(cfg.node_id, (enum log_level)cfg.log_level);
    raise_nofile();
    if (cfg.audit_log && audit_setup(cfg.audit_log, cfg.node_id) != 0)
        goto done;
    net = net_create(&cfg);
    if (!net)
        goto done;
    if (cfg.redis_url) {
        backend = backend_redis_create(cfg.redis_url, cfg.node_id, net_loop(net));
        if (backend)
            backend_redis_auth(backend, cfg.redis_user, cfg.redis_password);
    } else {
        backend = backend_memory_create(cfg.data_dir);
    }
    if (!backend)
        goto done;
    hub = hub_create(&cfg, backend);
    if (!hub)
        goto done;
    struct reload_ctx rctx = {&cfg, backend};
    net_on_reload(net, reload, &rctx);
    net_start(net, hub);
    /* With Redis, say we listen once the backend answers (or after 5 s,
     * with /healthz saying 503 until it does). */
    if (cfg.redis_url && !net_wait(net, backend_ready, hub, 5000))
        log_warn("redis %s is not reachable yet; retrying in the background", cfg.redis_url);
    if (cfg.secret_generated)
        log_warn("no --secret-file: using a random secret; tokens stop working at restart");
    if (cfg.demo && demo(hub, &cfg, cfg.public_url ? cfg.public_url : net_base_url(net)) != 0)
        goto done;
    printf("rostrum listening on %s\n", net_base_url(net));
    fflush(stdout);
    log_info("rostrum %s backend, node %s, web root %s", cfg.redis_url ? "redis" : "memory",
             cfg.node_id, cfg.web_root);
    rc = net_run(net);
    log_info("stopped");
done:
    /* The loop first: closing it drops the Redis connections (and no
     * callback reaches the hub or the backend after). */
    net_destroy(net);
    hub_destroy(hub);
    backend_destroy(backend);
    audit_shutdown();
    config_free(&cfg);
    return rc;
}
