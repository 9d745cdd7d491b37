/*
 * command: the line language of `rostrum join`: "/request reply", "/grant
 * r3", "/say hello" or plain text (a chat message) become protocol commands
 * (contract section 5); a few lines are handled by the CLI itself (/help,
 * /state, /sleep, /quit).
 *
 * Pure: no I/O. The room replica is read to resolve defaults ("/withdraw"
 * with no id is the participant's own request).
 */
#ifndef ROSTRUM_COMMAND_H
#define ROSTRUM_COMMAND_H

#include <jansson.h>

struct roomstate;

enum command_kind {
    COMMAND_NONE,   /* empty line or # comment */
    COMMAND_SEND,   /* json holds the command to send (without "id") */
    COMMAND_HELP,
    COMMAND_STATE,
    COMMAND_SLEEP,  /* sleep_ms */
    COMMAND_QUIT,
    COMMAND_ERROR,  /* err says what is wrong with the line */
};

struct command {
    enum command_kind kind;
    json_t *json;    /* COMMAND_SEND: a new reference (json_decref) */
    long sleep_ms;
    char err[256];
};

/* The help text listing every line the language knows. */
extern const char command_help[];

/* Parses one line (no newline). me is the participant's sub (for
 * defaults); rs may be NULL. Fills *out; returns out->kind. */
enum command_kind command_parse(const char *line, const struct roomstate *rs, const char *me,
                                struct command *out);

#endif
