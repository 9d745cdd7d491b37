/*
 * fuzz_realip: trusted proxy lists and X-Forwarded-For (realip.h).
 *
 * Input: "LIST\nPEER\nXFF" (missing parts: no XFF header, peer "",
 * list REALIP_DEFAULT_TRUSTED). LIST goes to realip_create(); when it is
 * refused, the default list is used and the refusal must say why.
 * Checked: the client address is NUL-terminated within REALIP_ADDR_MAX;
 * REALIP_PEER names the peer (normalized when it is an address);
 * REALIP_FORWARDED names a normalized, untrusted address, and only for a trusted peer; REALIP_TRUSTED only for a trusted
 * peer and names a trusted address; entries a client adds on the left of a
 * header that names a client change nothing; normalizing a normalized
 * address gives it back.
 */
#include <string.h>

#include "fuzz.h"
#include "realip.h"

static bool normalized(const char *a)
{
    char again[REALIP_ADDR_MAX];
    return realip_normalize(a, strlen(a), again) && strcmp(again, a) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *in = malloc(size + 1);
    FUZZ_CHECK(in, "out of memory");
    memcpy(in, data, size);
    in[size] = '\0';
    if (strlen(in) != size) {
        free(in); /* a NUL inside: headers cannot carry one */
        return 0;
    }
    char *list = in, *peer = "", *xff = NULL;
    char *nl = strchr(in, '\n');
    if (nl) {
        *nl = '\0';
        peer = nl + 1;
        nl = strchr(peer, '\n');
        if (nl) {
            *nl = '\0';
            xff = nl + 1;
        }
    }
    char err[200] = "";
    struct realip *r = realip_create(list, err, sizeof err);
    if (!r) {
        FUZZ_CHECK(err[0], "a refused list without a reason");
        r = realip_create(REALIP_DEFAULT_TRUSTED, err, sizeof err);
        FUZZ_CHECK(r, "the default list refused: %s", err);
    }
    char out[REALIP_ADDR_MAX];
    memset(out, 'x', sizeof out);
    enum realip_kind k = realip_client(r, peer, xff, out);
    FUZZ_CHECK(memchr(out, '\0', sizeof out), "the client address is not terminated");
    char npeer[REALIP_ADDR_MAX];
    bool peer_ok = realip_normalize(peer, strlen(peer), npeer);
    bool peer_trusted = peer_ok && realip_trusted(r, npeer);
    switch (k) {
    case REALIP_PEER:
        if (peer_ok)
            FUZZ_CHECK(strcmp(out, npeer) == 0, "PEER names %s, not the peer %s", out, npeer);
        break;
    case REALIP_FORWARDED:
        FUZZ_CHECK(peer_trusted, "FORWARDED for an untrusted peer");
        FUZZ_CHECK(xff, "FORWARDED without a header");
        FUZZ_CHECK(normalized(out), "FORWARDED names %s, not normalized", out);
        FUZZ_CHECK(!realip_trusted(r, out), "FORWARDED names a trusted address %s", out);
        break;
    case REALIP_TRUSTED:
        FUZZ_CHECK(peer_trusted, "TRUSTED for an untrusted peer");
        FUZZ_CHECK(realip_trusted(r, out), "TRUSTED names %s, not trusted", out);
        break;
    default:
        FUZZ_CHECK(0, "kind %d", (int)k);
    }
    /* What the client writes is left of what the proxies appended: once the
     * header names a client (or is broken where the client should be),
     * more entries on its left change nothing. */
    if (peer_trusted && k != REALIP_TRUSTED && xff) {
        static const char forged[] = "203.0.113.77, unknown, ";
        size_t n = strlen(xff);
        char *longer = malloc(sizeof forged + n);
        FUZZ_CHECK(longer, "out of memory");
        memcpy(longer, forged, sizeof forged - 1);
        memcpy(longer + sizeof forged - 1, xff, n + 1);
        char out2[REALIP_ADDR_MAX];
        FUZZ_CHECK(realip_client(r, peer, longer, out2) == k && strcmp(out, out2) == 0,
                   "entries left of the client changed the answer: %s, then %s", out, out2);
        free(longer);
    }
    realip_destroy(r);
    free(in);
    return 0;
}
