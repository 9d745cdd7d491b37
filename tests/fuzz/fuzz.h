/*
 * fuzz: what the libFuzzer targets share (fuzz_common.c).
 *
 * Each target feeds one parser with untrusted bytes and then checks the
 * promises the parser's header makes (ownership, "state unchanged on -1",
 * round trips). A broken promise calls FUZZ_CHECK, which prints the reason
 * and aborts, so libFuzzer saves the input as a crash exactly as it would
 * for an ASan or UBSan report.
 *
 * The fixed world (key, clock, rooms) is the same in every target and in
 * gen_corpus.c, so that the seed corpora (tokens signed with FUZZ_KEY, events
 * for FUZZ_ROOM_SPEC's room) stay valid inputs.
 */
#ifndef ROSTRUM_FUZZ_H
#define ROSTRUM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "room.h"

/* The token key of every target (32 bytes, like a generated secret). */
#define FUZZ_KEY "fuzz-key-0123456789abcdef0123456"
#define FUZZ_KEY_LEN (sizeof FUZZ_KEY - 1)
/* The clock: 2026-01-01T00:00:00Z. */
#define FUZZ_NOW_S INT64_C(1767225600)
#define FUZZ_NOW_MS (FUZZ_NOW_S * 1000)
#define FUZZ_EPOCH "fuzz-epoch"

/* The room every event target starts from: an admin API body. */
#define FUZZ_ROOM_SPEC                                                                     \
    "{\"id\":\"fuzz-room\",\"title\":\"Fuzzing session\","                                 \
    "\"agenda\":[{\"id\":\"item-1\",\"title\":\"Opening\"},"                               \
    "{\"id\":\"item-2\",\"title\":\"General debate\"}],"                                   \
    "\"settings\":{\"speech_s\":120,\"replies_per_item\":3}}"

/* Prints file:line and the message, then aborts (libFuzzer saves the input). */
#define FUZZ_CHECK(cond, ...)                                                              \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* The participants of the populated room (index into fuzz_actors()). */
enum fuzz_actor { FUZZ_MOD, FUZZ_DEL1, FUZZ_DEL2, FUZZ_DEL3, FUZZ_DEL4, FUZZ_OBS, FUZZ_ACTORS };

/* The actors (static array of FUZZ_ACTORS). */
const struct room_actor *fuzz_actors(void);

/* A new room from FUZZ_ROOM_SPEC (room_destroy()); aborts on failure. */
struct room *fuzz_room_new(void);

/* The room after a short meeting, built by the real decide/apply path:
 * everyone joined, a queue of three kinds, a floor, a muted delegate.
 * Borrowed: built once, never changed; clone it. When events is not NULL it
 * receives a new reference to the wire events that built it. */
const struct room *fuzz_room_populated(json_t **events);

/* Decides cmd as actor a at now and commits what comes out the way the hub
 * does (stamp seqs, apply to a clone, encode the wire event, apply the
 * re-parsed wire event to the room). Aborts when a decided event does not
 * apply or its wire form does not read back to the same state. Returns the
 * decision's error (PROTO_OK: r has moved on). When log is not NULL the
 * wire events are appended to it. */
enum proto_err fuzz_commit(struct room *r, const struct room_actor *a,
                           const struct proto_cmd *cmd, int64_t now, json_t *log);

/* Checks the storage promises on r: room_state_json(r, true) exists, reads
 * back with room_state_from_json to the same JSON, and the snapshot and the
 * clock functions work on it. Aborts otherwise. */
void fuzz_check_room(const struct room *r);

/* True when both rooms store as the same JSON (with the directory). */
bool fuzz_room_equal(const struct room *a, const struct room *b);

/* Applies ev to r and checks room_apply's promises: -1 leaves r unchanged;
 * 0 gives a state that stores and reads back, and an event whose wire form
 * reads back to the same event. Returns room_apply's result. */
int fuzz_apply_checked(struct room *r, const struct room_event *ev);

/* The checks of fuzz_apply_checked, for an event that something else
 * applied (room_apply_text): before is a clone of r taken just before ev
 * was applied, rc what room_apply returned. before is changed (the wire
 * form of ev is applied to it); the caller still owns it. */
void fuzz_check_applied(struct room *before, const struct room *r, const struct room_event *ev,
                        int rc);

/* Renders the record of initial + events in all three formats and checks
 * that it succeeds whenever every event applies in order and initial has
 * no floor (a room as created never has one): the record endpoint of a room
 * that loaded must never fail. */
void fuzz_check_transcript(const struct room *initial, const json_t *events, bool all_apply);

/* A NUL-terminated copy of data (free()). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Parses data as JSON the way the server reads stored records and bodies.
 * Returns a new reference or NULL. */
json_t *fuzz_json(const uint8_t *data, size_t size, size_t flags);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
