/*
 * cli: what every subcommand of `rostrum` shares: the exit codes (the
 * contract with scripts, documented in docs/cli.md and every --help) and
 * the version.
 */
#ifndef ROSTRUM_CLI_H
#define ROSTRUM_CLI_H

#ifndef ROSTRUM_VERSION
#define ROSTRUM_VERSION "dev"
#endif

enum cli_exit {
    CLI_EXIT_OK = 0,       /* done; every command acknowledged */
    CLI_EXIT_REFUSED = 1,  /* the server refused: an HTTP error, a refused
                              join or command, a close by the server */
    CLI_EXIT_USAGE = 2,    /* bad flags or arguments, unreadable files */
    CLI_EXIT_CONNECT = 3,  /* cannot connect, TLS failure, connection lost,
                              no answer in time */
};

/* The exit code table as it appears at the end of every --help. */
#define CLI_EXIT_HELP                                                              \
    "Exit status: 0 done; 1 refused by the server (HTTP error, refused join or\n"  \
    "command, closed by the server); 2 usage error; 3 connection failure (cannot\n" \
    "connect, TLS, connection lost, no answer in time).\n"

#endif
