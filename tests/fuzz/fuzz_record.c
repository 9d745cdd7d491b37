/*
 * fuzz_record: the verifier's input (chain_verify_record, used by
 * `rostrum record verify`): any bytes as a JSON record, checked with no key,
 * with the record's own key and with a fixed Ed25519 public key.
 * Promises checked: a verdict of the three, always with a reason; the
 * record is not changed; a record that verifies stops verifying when its
 * last event's data changes (the chain covers every event).
 */
#include <string.h>

#include "chain.h"
#include "fuzz.h"

/* A fixed Ed25519 public key (its private half is not needed: the fuzzer
 * cannot forge signatures, so a signed record only reaches the check). */
static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
                          "MCowBQYDK2VwAyEAoEdr4AkDm97twOqcnV3yZ2MTN1GOH585QCn+HYzFSe0=\n"
                          "-----END PUBLIC KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *rec = json_loadb((const char *)data, size, 0, &err);
    char why[512];
    int sig = -1;
    if (!rec)
        return 0;
    char *before = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    const char *keys[] = {NULL, pem};
    for (size_t k = 0; k < 2; k++) {
        why[0] = '\0';
        enum chain_verdict v = chain_verify_record(rec, keys[k], &sig, why, sizeof why);
        FUZZ_CHECK(v == CHAIN_OK || v == CHAIN_MISMATCH || v == CHAIN_MALFORMED, "verdict %d", v);
        FUZZ_CHECK(why[0], "a verdict without a reason");
        FUZZ_CHECK(sig == 0 || v == CHAIN_OK, "signed but not OK");
        if (v == CHAIN_OK && k == 0) {
            json_t *evs = json_object_get(rec, "events");
            size_t n = json_array_size(evs);
            if (n) {
                json_t *copy = json_deep_copy(rec);
                json_t *last = json_array_get(json_object_get(copy, "events"), n - 1);
                json_object_set_new(json_object_get(last, "data"), "fuzz-changed", json_true());
                FUZZ_CHECK(chain_verify_record(copy, NULL, NULL, why, sizeof why) != CHAIN_OK,
                           "a changed last event still verifies");
                json_decref(copy);
            }
        }
    }
    char *after = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    FUZZ_CHECK((!before && !after) || (before && after && strcmp(before, after) == 0),
               "the record was changed");
    free(before);
    free(after);
    json_decref(rec);
    return 0;
}
