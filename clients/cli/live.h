/*
 * live: the two subcommands that hold a WebSocket open: `rostrum watch`
 * (a live view of a room: a redrawn screen on a terminal, a line per event
 * otherwise) and `rostrum join` (commands read from standard input, events
 * and replies printed as they arrive; scriptable from a pipe).
 */
#ifndef ROSTRUM_LIVE_H
#define ROSTRUM_LIVE_H

/* argv[0] is "watch". Returns an exit code (cli.h). */
int live_watch_main(int argc, char **argv);
/* argv[0] is "join". Returns an exit code (cli.h). */
int live_join_main(int argc, char **argv);

#endif
