/*
 * cmd_record: `rostrum record verify FILE [--public-key PEM]`, the check
 * that a meeting record (the JSON transcript) was not edited: its hash
 * chain and its signature (contract section 9.6). Works offline.
 */
#ifndef ROSTRUM_CMD_RECORD_H
#define ROSTRUM_CMD_RECORD_H

/* argv[0] is "record". Returns an exit code: 0 the chain and the
 * signature hold, 1 they do not (the first event or part that does not
 * match is named on stderr), 2 usage error or a file that is not a record. */
int cmd_record_main(int argc, char **argv);

#endif
