/*
 * cmd_room: `rostrum room create|list|show|close|transcript`, the admin
 * HTTP API (contract section 7) from a terminal or a script.
 */
#ifndef ROSTRUM_CMD_ROOM_H
#define ROSTRUM_CMD_ROOM_H

/* argv[0] is "room". Returns an exit code (cli.h). */
int cmd_room_main(int argc, char **argv);

#endif
