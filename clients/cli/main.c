/*
 * rostrum: the command-line client. Dispatches to one subcommand; each
 * parses its own flags and answers --help (docs/cli.md has them all).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_record.h"
#include "cmd_room.h"
#include "cmd_token.h"
#include "live.h"

static const char usage[] =
    "Usage: rostrum COMMAND [OPTIONS]\n"
    "The command-line client of Rostrum, the moderated discussion server.\n"
    "\n"
    "Commands:\n"
    "  token        print a join token (signed with the server's secret, or minted\n"
    "               by the admin API)\n"
    "  room         create, list, show, close rooms and get their transcript\n"
    "               (admin API): rostrum room create|list|show|close|transcript\n"
    "  watch        follow a room live (a screen on a terminal, a log otherwise)\n"
    "  join         take part: commands from standard input, events printed\n"
    "  record       check a meeting record offline: rostrum record verify FILE\n"
    "               [--public-key PEM] (its hash chain and its signature)\n"
    "\n"
    "  rostrum COMMAND --help    the options of a command\n"
    "  rostrum --version         the version\n"
    "\n"
    "Quick start (with scripts/run's demo server and its printed links):\n"
    "  rostrum watch 'http://127.0.0.1:8080/#t=...observer token...'\n"
    "  echo '/request' | rostrum join 'http://127.0.0.1:8080/#t=...delegate token...'\n"
    "\n" CLI_EXIT_HELP;

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"token", cmd_token_main},
        {"room", cmd_room_main},
        {"watch", live_watch_main},
        {"join", live_join_main},
        {"record", cmd_record_main},
    };
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        /* "rostrum help join" is "rostrum join --help" */
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    char *args[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, args);
                }
        }
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("rostrum %s\n", ROSTRUM_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "rostrum: unknown command '%s'\n\n%s", argv[1], usage);
    return CLI_EXIT_USAGE;
}
