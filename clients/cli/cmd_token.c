/*
 * cmd_token.c: `rostrum token` (cmd_token.h).
 *
 * Offline signing uses the protocol library's proto_jwt_mint(), the same
 * code the server verifies with, so a token printed here is accepted by any
 * node that shares the secret.
 */
#include "cmd_token.h"

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
#include "keyfile.h"
#include "proto.h"

#define TTL_DEFAULT_S (24 * 3600)
#define TTL_MIN_S 60
#define TTL_MAX_S (30 * 24 * 3600)

static const char usage[] =
    "Usage: rostrum token --secret-file FILE --room ROOM --sub SUB --name NAME --role ROLE\n"
    "                     [--delegation D] [--category C] [--region R] [--ttl SECONDS]\n"
    "                     [--invite --url URL]\n"
    "       rostrum token --api URL --admin-key-file FILE --room ROOM --sub SUB --name NAME\n"
    "                     --role ROLE [...]\n"
    "       rostrum token revoke|revocations --api URL ... (see rostrum token revoke --help)\n"
    "Prints a join token (a JWT signed HS256) for one participant of one room.\n"
    "\n"
    "  --secret-file FILE      the server's token secret: the token is signed here,\n"
    "                          offline (env ROSTRUM_SECRET holds the secret itself)\n"
    "  --api URL               instead, ask the server's admin API to mint the token\n"
    "                          (the room must exist); needs --admin-key-file\n"
    "  --admin-key-file FILE   admin key for --api (env ROSTRUM_ADMIN_KEY)\n"
    "  --room ROOM             room id, [a-z0-9][a-z0-9-]{0,63}\n"
    "  --sub SUB               participant id, [A-Za-z0-9._:@-]{1,64}\n"
    "  --name NAME             display name, 1 to 80 characters\n"
    "  --role ROLE             moderator, delegate, interpreter or observer\n"
    "  --delegation D          who the person speaks for, e.g. France\n"
    "  --category C            member_state, observer_state, organization, un_entity,\n"
    "                          civil_society or other (order of precedence)\n"
    "  --region R              the person's region, 1 to 40 characters, e.g.\n"
    "                          'African States' (the chair's Regional balance)\n"
    "  --ttl SECONDS           validity, 60 to 2592000 (default 86400)\n"
    "  --jti ID                the token's id, [A-Za-z0-9._-]{1,64}, so that it can be\n"
    "                          revoked alone (the API makes one up when not given)\n"
    "  --invite                print an invite URL (BASE/#t=TOKEN) instead of the token;\n"
    "                          BASE is --url, else the URL the API answers with\n"
    "  --url URL               the server's public base URL for --invite\n"
    "  --insecure, --ca-file FILE, --timeout SECONDS   as for `rostrum room`\n"
    "  --help                  this text\n"
    "\n"
    "Example:\n"
    "  rostrum token --secret-file secret --room closing-discussion --sub france \\\n"
    "      --name 'Delegate of France' --role delegate --delegation France \\\n"
    "      --category member_state --region 'Western European and other States'\n"
    "\n" CLI_EXIT_HELP;

enum { O_SECRET = 256, O_API, O_ADMIN, O_ROOM, O_SUB, O_NAME, O_ROLE, O_DELEG, O_CAT, O_TTL,
       O_INVITE, O_URL, O_INSECURE, O_CA, O_TIMEOUT, O_HELP, O_JTI, O_UNTIL, O_REGION };

static const struct option options[] = {
    {"secret-file", required_argument, NULL, O_SECRET},
    {"api", required_argument, NULL, O_API},
    {"admin-key-file", required_argument, NULL, O_ADMIN},
    {"room", required_argument, NULL, O_ROOM},
    {"sub", required_argument, NULL, O_SUB},
    {"name", required_argument, NULL, O_NAME},
    {"role", required_argument, NULL, O_ROLE},
    {"delegation", required_argument, NULL, O_DELEG},
    {"category", required_argument, NULL, O_CAT},
    {"region", required_argument, NULL, O_REGION},
    {"ttl", required_argument, NULL, O_TTL},
    {"jti", required_argument, NULL, O_JTI},
    {"until", required_argument, NULL, O_UNTIL},
    {"invite", no_argument, NULL, O_INVITE},
    {"url", required_argument, NULL, O_URL},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"ca-file", required_argument, NULL, O_CA},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

struct token_args {
    const char *secret_file, *api, *admin_file, *room, *sub, *name, *role, *delegation,
        *category, *region, *url, *ca_file, *jti;
    long ttl;
    int timeout_s;
    bool invite, insecure;
};

static int bad(const char *msg)
{
    fprintf(stderr, "rostrum token: %s\nTry 'rostrum token --help'.\n", msg);
    return CLI_EXIT_USAGE;
}

/* Prints the token, or BASE/#t=TOKEN. */
static int print_token(const struct token_args *a, const char *token, const char *api_url)
{
    if (!a->invite) {
        printf("%s\n", token);
        return CLI_EXIT_OK;
    }
    if (a->url) {
        size_t n = strlen(a->url);
        while (n > 0 && a->url[n - 1] == '/')
            n--;
        printf("%.*s/#t=%s\n", (int)n, a->url, token);
    } else {
        printf("%s\n", api_url);
    }
    return CLI_EXIT_OK;
}

static int mint_offline(const struct token_args *a, int role, int cat)
{
    char err[300];
    char *tok = NULL;
    int rc = CLI_EXIT_USAGE;
    struct proto_keyring *keys = keyfile_keys(a->secret_file, "ROSTRUM_SECRET", "--secret-file",
                                              err, sizeof err);
    if (!keys) {
        fprintf(stderr, "rostrum token: %s\n", err);
        goto done;
    }
    struct proto_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", a->sub);
    snprintf(c.name, sizeof c.name, "%s", a->name);
    snprintf(c.room, sizeof c.room, "%s", a->room);
    snprintf(c.delegation, sizeof c.delegation, "%s", a->delegation ? a->delegation : "");
    c.role = (enum proto_role)role;
    c.category = (enum proto_category)cat;
    snprintf(c.region, sizeof c.region, "%s", a->region ? a->region : "");
    c.iat = (int64_t)time(NULL);
    c.exp = c.iat + a->ttl;
    snprintf(c.jti, sizeof c.jti, "%s", a->jti ? a->jti : "");
    tok = proto_jwt_mint_ring(keys, &c);
    if (!tok) {
        fprintf(stderr, "rostrum token: cannot sign the token\n");
        rc = CLI_EXIT_REFUSED;
        goto done;
    }
    rc = print_token(a, tok, NULL);
done:
    free(tok);
    proto_keyring_free(keys);
    return rc;
}

static int mint_api(const struct token_args *a)
{
    struct admin ad;
    struct http_response res = {0};
    char path[256];
    json_t *body = NULL, *ans = NULL;
    int rc = admin_init(&ad, a->api, a->admin_file, a->insecure, a->ca_file, a->timeout_s);
    if (rc != CLI_EXIT_OK)
        goto done;
    body = json_pack("{s:s, s:s, s:s, s:I}", "sub", a->sub, "name", a->name, "role", a->role,
                     "ttl_s", (json_int_t)a->ttl);
    if (a->delegation)
        json_object_set_new(body, "delegation", json_string(a->delegation));
    if (a->category)
        json_object_set_new(body, "category", json_string(a->category));
    if (a->jti)
        json_object_set_new(body, "jti", json_string(a->jti));
    if (a->region)
        json_object_set_new(body, "region", json_string(a->region));
    snprintf(path, sizeof path, "/api/rooms/%s/tokens", a->room);
    rc = admin_call(&ad, "POST", path, body, "cannot mint the token", &res);
    if (rc != CLI_EXIT_OK)
        goto done;
    ans = json_loadb(res.body, res.len, 0, NULL);
    const char *tok = json_string_value(json_object_get(ans, "token"));
    const char *url = json_string_value(json_object_get(ans, "url"));
    if (!tok) {
        fprintf(stderr, "rostrum token: the API answered without a token\n");
        rc = CLI_EXIT_REFUSED;
        goto done;
    }
    rc = print_token(a, tok, url ? url : tok);
done:
    json_decref(ans);
    json_decref(body);
    http_response_free(&res);
    admin_clear(&ad);
    return rc;
}

static const char revoke_usage[] =
    "Usage: rostrum token revoke --api URL --admin-key-file FILE --room ROOM --jti ID\n"
    "                            [--until UNIX_SECONDS]\n"
    "       rostrum token revocations --api URL --admin-key-file FILE --room ROOM\n"
    "Revokes one token of a room by its id (jti): the server refuses it from then on\n"
    "(close 4401) and closes the connections that joined with it, on every node and\n"
    "across restarts, until --until (default: the token's own expiry when a node\n"
    "knows it, else 30 days). 'revocations' lists those in force, one per line:\n"
    "JTI UNTIL (ISO 8601, UTC).\n"
    "\n"
    "  --api URL, --admin-key-file FILE   the server and its admin key\n"
    "  --room ROOM             room id\n"
    "  --jti ID                the token's id, [A-Za-z0-9._-]{1,64} (the API's answer\n"
    "                          to a token request carries it, and so does the token)\n"
    "  --until UNIX_SECONDS    until when (a time in the future)\n"
    "  --insecure, --ca-file FILE, --timeout SECONDS   as for `rostrum room`\n"
    "\n" CLI_EXIT_HELP;

static void print_until(int64_t until)
{
    time_t t = (time_t)until;
    struct tm tm;
    char buf[64];
    if (gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        printf("%s", buf);
    else
        printf("%lld", (long long)until);
}

/* rostrum token revoke|revocations ... */
static int revoke_main(int argc, char **argv, bool list)
{
    struct token_args a = {.timeout_s = 10};
    const char *until_s = NULL;
    struct admin ad;
    struct http_response res = {0};
    char path[256];
    json_t *body = NULL, *ans = NULL;
    int opt, rc;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_API: a.api = optarg; break;
        case O_ADMIN: a.admin_file = optarg; break;
        case O_ROOM: a.room = optarg; break;
        case O_JTI: a.jti = optarg; break;
        case O_UNTIL: until_s = optarg; break;
        case O_INSECURE: a.insecure = true; break;
        case O_CA: a.ca_file = optarg; break;
        case O_TIMEOUT:
            a.timeout_s = atoi(optarg);
            if (a.timeout_s <= 0)
                return bad("--timeout must be a positive number of seconds");
            break;
        case 'h':
        case O_HELP: fputs(revoke_usage, stdout); return CLI_EXIT_OK;
        default:
            fprintf(stderr, "rostrum token: unknown or incomplete option '%s'\n", argv[optind - 1]);
            fputs(revoke_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return bad("unexpected argument (every value is given with a flag)");
    if (!a.api || !a.room || (!list && !a.jti))
        return bad(list ? "revocations needs --api and --room" : "revoke needs --api, --room and --jti");
    if (!proto_valid_room_id(a.room))
        return bad("--room must match [a-z0-9][a-z0-9-]{0,63}");
    if (a.jti && !proto_valid_jti(a.jti))
        return bad("--jti must match [A-Za-z0-9._-]{1,64}");
    long long until = 0;
    if (until_s) {
        char *end;
        errno = 0;
        until = strtoll(until_s, &end, 10);
        if (errno || *end || end == until_s || until <= (long long)time(NULL))
            return bad("--until must be Unix seconds in the future");
    }
    rc = admin_init(&ad, a.api, a.admin_file, a.insecure, a.ca_file, a.timeout_s);
    if (rc != CLI_EXIT_OK)
        return rc;
    snprintf(path, sizeof path, "/api/rooms/%s/revocations", a.room);
    if (!list) {
        body = json_pack("{s:s}", "jti", a.jti);
        if (until)
            json_object_set_new(body, "until", json_integer(until));
    }
    rc = admin_call(&ad, list ? "GET" : "POST", path, body,
                    list ? "cannot list the revocations" : "cannot revoke the token", &res);
    if (rc != CLI_EXIT_OK)
        goto done;
    ans = json_loadb(res.body, res.len, 0, NULL);
    if (list) {
        size_t i;
        json_t *e;
        json_array_foreach(ans, i, e) {
            printf("%s ", json_string_value(json_object_get(e, "jti")));
            print_until((int64_t)json_integer_value(json_object_get(e, "until")));
            printf("\n");
        }
    } else {
        printf("revoked %s until ", a.jti);
        print_until((int64_t)json_integer_value(json_object_get(ans, "until")));
        printf("\n");
    }
done:
    json_decref(ans);
    json_decref(body);
    http_response_free(&res);
    admin_clear(&ad);
    return rc;
}

int cmd_token_main(int argc, char **argv)
{
    struct token_args a = {.ttl = TTL_DEFAULT_S, .timeout_s = 10};
    if (argc > 1 && strcmp(argv[1], "revoke") == 0)
        return revoke_main(argc - 1, argv + 1, false);
    if (argc > 1 && strcmp(argv[1], "revocations") == 0)
        return revoke_main(argc - 1, argv + 1, true);
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case O_SECRET: a.secret_file = optarg; break;
        case O_API: a.api = optarg; break;
        case O_ADMIN: a.admin_file = optarg; break;
        case O_ROOM: a.room = optarg; break;
        case O_SUB: a.sub = optarg; break;
        case O_NAME: a.name = optarg; break;
        case O_ROLE: a.role = optarg; break;
        case O_DELEG: a.delegation = optarg; break;
        case O_CAT: a.category = optarg; break;
        case O_JTI: a.jti = optarg; break;
        case O_REGION: a.region = optarg; break;
        case O_INVITE: a.invite = true; break;
        case O_URL: a.url = optarg; break;
        case O_INSECURE: a.insecure = true; break;
        case O_CA: a.ca_file = optarg; break;
        case O_TTL:
            errno = 0;
            a.ttl = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || a.ttl < TTL_MIN_S || a.ttl > TTL_MAX_S)
                return bad("--ttl must be a number of seconds from 60 to 2592000");
            break;
        case O_TIMEOUT:
            a.timeout_s = atoi(optarg);
            if (a.timeout_s <= 0)
                return bad("--timeout must be a positive number of seconds");
            break;
        case 'h':
        case O_HELP: fputs(usage, stdout); return CLI_EXIT_OK;
        default:
            fprintf(stderr, "rostrum token: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return bad("see the usage");
        }
    }
    if (optind < argc)
        return bad("unexpected argument (every value is given with a flag)");
    if (!a.room || !a.sub || !a.name || !a.role)
        return bad("--room, --sub, --name and --role are required");
    if (!proto_valid_room_id(a.room))
        return bad("--room must match [a-z0-9][a-z0-9-]{0,63}");
    if (!proto_valid_sub(a.sub))
        return bad("--sub must match [A-Za-z0-9._:@-]{1,64}");
    if (!proto_valid_name(a.name))
        return bad("--name must be 1 to 80 characters, no control characters");
    int role = proto_role_parse(a.role);
    if (role < 0)
        return bad("--role must be moderator, delegate, interpreter or observer");
    if (a.delegation && !proto_valid_name(a.delegation))
        return bad("--delegation must be 1 to 80 characters");
    int cat = PROTO_CAT_NONE;
    if (a.category && (cat = proto_category_parse(a.category)) < 0)
        return bad("--category must be member_state, observer_state, organization, un_entity, "
                   "civil_society or other");
    if (a.jti && !proto_valid_jti(a.jti))
        return bad("--jti must match [A-Za-z0-9._-]{1,64}");
    if (a.region && !proto_valid_region(a.region))
        return bad("--region must be 1 to 40 characters on one line");
    if (a.invite && !a.url && !a.api)
        return bad("--invite needs --url URL (the server's base URL)");
    if (a.api && a.secret_file)
        return bad("give either --secret-file or --api, not both");
    if (a.api)
        return mint_api(&a);
    return mint_offline(&a, role, cat);
}
