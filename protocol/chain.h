/*
 * chain: the hash chain that makes a room's record verifiable (contract
 * section 9.6), shared by the server (which keeps a hash with every event)
 * and the CLI (`rostrum record verify`).
 *
 *   h_0 = SHA-256("rostrum record " + room + " " + epoch)
 *   h_n = SHA-256(hex(h_{n-1}) + canonical(event n))
 *
 * canonical(event) is the JSON of {seq, ts, name, actor, data} as jansson
 * writes it with JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII: keys
 * sorted by code point at every level, no whitespace, non-ASCII and
 * control characters as \uXXXX with uppercase hex.
 *
 * Pure: no I/O, no clock. Uses OpenSSL for SHA-256 and Ed25519.
 */
#ifndef ROSTRUM_CHAIN_H
#define ROSTRUM_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Lowercase hex of a SHA-256, with its NUL. */
#define CHAIN_HEX_BUF 65

/* The canonical text of event (an object with seq, ts, name, actor, data;
 * other members such as type, state or hash are left out). Returns a new
 * string (free()) with its length in *len, or NULL when a member is
 * missing or of the wrong type (seq and ts integers, name a string, actor
 * a string, null or absent (= null), data an object) or on allocation
 * failure. */
char *chain_canonical(const json_t *event, size_t *len);

/* h_0 of a room's history (room id and epoch, both NUL-terminated). */
void chain_h0(const char *room, const char *epoch, char out[CHAIN_HEX_BUF]);

/* h_n from h_{n-1} (64 hex characters) and canonical text. */
void chain_next_text(const char *prev, const char *canon, size_t len, char out[CHAIN_HEX_BUF]);

/* h_n from h_{n-1} and the event. Returns 0, or -1 when the event has no
 * canonical form (see chain_canonical). */
int chain_next(const char *prev, const json_t *event, char out[CHAIN_HEX_BUF]);

/* True when s is exactly 64 lowercase hex digits. */
int chain_is_hex(const char *s);

/* The text a record's signature covers: "rostrum record ROOM EPOCH
 * LAST_SEQ HEAD". Returns a new string (free()) or NULL. */
char *chain_signed_text(const char *room, const char *epoch, uint64_t last_seq, const char *head);

/* What chain_verify_record() found. */
enum chain_verdict {
    CHAIN_OK = 0,        /* chain and (when checked) signature hold */
    CHAIN_MISMATCH = 1,  /* an event, the head or the signature does not match */
    CHAIN_MALFORMED = 2, /* not a record this can read */
};

/* Checks a JSON record (GET /api/rooms/{id}/transcript?format=json):
 * recomputes the chain from h_0 over record.events (seqs must run 1, 2, ...
 * in order), compares each event's "hash" and record.chain's last_seq and
 * head, then checks record.signature with public_key_pem (a PEM Ed25519
 * public key) or, when that is NULL, the record's own "public_key".
 * *signed_out (when not NULL) is set to 1 when a signature was checked.
 * Returns a verdict with a human sentence in why[0..whysz) naming the first
 * event that does not match ("event seq 17 ..."). */
enum chain_verdict chain_verify_record(const json_t *record, const char *public_key_pem,
                                       int *signed_out, char *why, size_t whysz);

#endif
