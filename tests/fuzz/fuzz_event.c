/*
 * fuzz_event: what a node reads back from Redis (or another node's
 * pub/sub, or the journal): committed wire events and stored room states.
 *
 * The input is one JSON text (read as hub.c and backend_redis.c read them,
 * json_loadb without flags):
 *   - an array: wire events applied in order to the populated room (a
 *     meeting in progress: queue, floor, a muted delegate), as
 *     hub_on_events() does; events that do not read or apply are skipped
 *     (the hub stops at them; going on reaches more states), and an event
 *     whose seq does not fit is tried as it is and then with the seq that
 *     fits (see apply_all);
 *   - an object with "v": a stored state (room_state_from_json, as the
 *     Redis backend loads "initial" and a room's current state), then the
 *     events of its "events" array, if any;
 *   - any other object: one wire event applied to the populated room.
 * Checked for each event: room_apply's promises (fuzz_apply_checked: -1
 * leaves the room unchanged; an applied event encodes and reads back), and
 * at the end that the room stores and reads back, its clock commits, and
 * the record renders whenever every event applied.
 */
#include <string.h>

#include "fuzz.h"

/* FUZZ_VERBOSE=1 in the environment: say what happens to each event. */
static bool verbose;

/* Applies events (an array) to r; returns true when every one applied
 * as it was. An event whose seq does not follow r's is tried as it is
 * (refused, and r must not change) and then again with the seq that fits,
 * so that any event shape reaches its apply handler wherever it is in the
 * input; *fitted then receives the events with the seqs that were used. */
static bool apply_all(struct room *r, const json_t *events, json_t *fitted)
{
    bool all = true;
    size_t i;
    json_t *j;
    json_array_foreach(events, i, j) {
        struct room_event ev;
        if (room_event_from_json(j, &ev) != 0) {
            if (verbose)
                fprintf(stderr, "event %zu: does not read\n", i + 1);
            all = false;
            continue;
        }
        FUZZ_CHECK(json_is_object(ev.data), "room_event_from_json gave data that is no object");
        json_t *used = json_deep_copy(j);
        FUZZ_CHECK(used, "out of memory");
        if (ev.seq != r->seq + 1) {
            FUZZ_CHECK(fuzz_apply_checked(r, &ev) != 0, "an event with seq %llu applied at %llu",
                       (unsigned long long)ev.seq, (unsigned long long)r->seq);
            ev.seq = r->seq + 1;
            json_object_set_new(used, "seq", json_integer((json_int_t)ev.seq));
        }
        int rc = fuzz_apply_checked(r, &ev);
        if (verbose)
            fprintf(stderr, "event %zu: %s seq %llu %s\n", i + 1, proto_event_name(ev.name),
                    (unsigned long long)ev.seq, rc ? "refused" : "applied");
        if (rc != 0)
            all = false;
        json_array_append_new(fitted, used);
        room_event_clear(&ev);
    }
    return all;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    fuzz_room_populated(NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = fuzz_json(data, size, 0);
    struct room *start = NULL, *r = NULL;
    json_t *events = NULL, *pop_log = NULL, *fitted = NULL;
    char err[256] = "";

    if (json_is_object(in) && json_object_get(in, "v")) {
        start = room_state_from_json(in, err, sizeof err);
        if (!start) {
            FUZZ_CHECK(err[0], "room_state_from_json refused without a reason");
            goto done;
        }
        events = json_incref(json_object_get(in, "events"));
        if (!json_is_array(events)) {
            json_decref(events);
            events = json_array();
        }
    } else if (json_is_array(in) || json_is_object(in)) {
        start = room_clone(fuzz_room_populated(&pop_log));
        FUZZ_CHECK(start, "room_clone failed");
        if (json_is_array(in)) {
            events = json_incref(in);
        } else {
            events = json_array();
            json_array_append(events, in);
        }
    } else {
        goto done;
    }
    fuzz_check_room(start);
    r = room_clone(start);
    FUZZ_CHECK(r, "room_clone failed");
    fitted = json_array();
    bool all = apply_all(r, events, fitted);
    fuzz_check_room(r);

    /* The record: from the room as created, the whole log. */
    if (pop_log) {
        struct room *initial = fuzz_room_new();
        json_t *log = json_deep_copy(pop_log);
        json_array_extend(log, fitted);
        fuzz_check_transcript(initial, log, all);
        json_decref(log);
        room_destroy(initial);
    } else {
        fuzz_check_transcript(start, fitted, all);
    }

done:
    room_destroy(r);
    room_destroy(start);
    json_decref(events);
    json_decref(fitted);
    json_decref(pop_log);
    json_decref(in);
    return 0;
}
