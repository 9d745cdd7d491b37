/*
 * cmd_token: `rostrum token`, which prints a join token for one participant
 * of one room: signed here with the server's secret (--secret-file), or
 * minted by the server's admin API (--api).
 */
#ifndef ROSTRUM_CMD_TOKEN_H
#define ROSTRUM_CMD_TOKEN_H

/* argv[0] is "token". Returns an exit code (cli.h). */
int cmd_token_main(int argc, char **argv);

#endif
