/* Unit tests of realip: trusted proxy blocks and the client named by
 * X-Forwarded-For. */
#include "realip.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static void test_normalize(void)
{
    char out[REALIP_ADDR_MAX];
#define NORM(in, want)                                         \
    do {                                                       \
        CHECK(realip_normalize(in, strlen(in), out));          \
        CHECK_STR(out, want);                                  \
    } while (0)
    NORM("10.0.0.1", "10.0.0.1");
    NORM("  10.0.0.1\t", "10.0.0.1");
    NORM("10.0.0.1:8080", "10.0.0.1");
    NORM("::ffff:10.0.0.1", "10.0.0.1");
    NORM("[::ffff:10.0.0.1]", "10.0.0.1");
    NORM("2001:DB8:0:0::1", "2001:db8::1");
    NORM("[2001:db8::1]", "2001:db8::1");
    NORM("[2001:db8::1]:443", "2001:db8::1");
    NORM("::1", "::1");
#undef NORM
    static const char *const bad[] = {
        "", "   ", "unknown", "10.0.0", "10.0.0.256", "10.0.0.1:", "10.0.0.1:port",
        "10.0.0.1:123456", "[10.0.0.1]", "[::1", "[::1]x", "[::1]:", "::1%eth0", "fe80::1::2",
        "_hidden", "10.0.0.1 10.0.0.2", "a-very-long-value-that-is-not-an-address-at-all-0123456789",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(out, "x");
        if (realip_normalize(bad[i], strlen(bad[i]), out))
            fprintf(stderr, "accepted '%s'\n", bad[i]);
        CHECK(!realip_normalize(bad[i], strlen(bad[i]), out));
        CHECK_STR(out, "");
    }
    /* len bounds the text: "10.0.0.12" read as its first 8 characters */
    CHECK(realip_normalize("10.0.0.12", 8, out));
    CHECK_STR(out, "10.0.0.1");
}

static void test_blocks(void)
{
    char err[200] = "";
    struct realip *r = realip_create(REALIP_DEFAULT_TRUSTED, err, sizeof err);
    CHECK(r != NULL);
    CHECK(realip_trusted(r, "127.0.0.1"));
    CHECK(realip_trusted(r, "127.255.255.254"));
    CHECK(realip_trusted(r, "::ffff:127.0.0.2"));
    CHECK(realip_trusted(r, "::1"));
    CHECK(!realip_trusted(r, "::2"));
    CHECK(!realip_trusted(r, "128.0.0.1"));
    CHECK(!realip_trusted(r, "10.0.0.1"));
    CHECK(!realip_trusted(r, "not an address"));
    CHECK(!realip_trusted(r, NULL));
    realip_destroy(r);

    r = realip_create(" 10.1.0.0/16 , 192.0.2.7,fd00::/8, 172.16.0.0/12,0.0.0.0/0 ", err, sizeof err);
    CHECK(r != NULL);
    CHECK(realip_trusted(r, "10.1.255.1"));
    CHECK(realip_trusted(r, "192.0.2.7"));
    CHECK(realip_trusted(r, "172.31.0.1"));
    CHECK(realip_trusted(r, "fdff::1"));
    CHECK(!realip_trusted(r, "fe00::1"));
    CHECK(realip_trusted(r, "8.8.8.8")); /* 0.0.0.0/0: every IPv4 address */
    CHECK(!realip_trusted(r, "2001:db8::1"));
    realip_destroy(r);

    r = realip_create("10.1.0.0/17", err, sizeof err); /* a prefix that is not whole bytes */
    CHECK(realip_trusted(r, "10.1.127.255"));
    CHECK(!realip_trusted(r, "10.1.128.0"));
    realip_destroy(r);

    r = realip_create("::ffff:10.0.0.0/104", err, sizeof err); /* mapped: read as 10.0.0.0/8 */
    CHECK(realip_trusted(r, "10.200.0.1"));
    CHECK(!realip_trusted(r, "11.0.0.1"));
    realip_destroy(r);

    r = realip_create("none", err, sizeof err);
    CHECK(r != NULL);
    CHECK(!realip_trusted(r, "127.0.0.1"));
    realip_destroy(r);
    r = realip_create("", err, sizeof err);
    CHECK(r != NULL);
    CHECK(!realip_trusted(r, "::1"));
    realip_destroy(r);

    static const struct { const char *list, *msg; } bad[] = {
        {"10.0.0.1/8", "'10.0.0.1/8' has bits set beyond its /8 prefix"},
        {"10.0.0.0/33", "'10.0.0.0/33': the prefix must be 0..32"},
        {"fd00::/129", "'fd00::/129': the prefix must be 0..128"},
        {"10.0.0.0/", "'10.0.0.0/': the prefix must be 0..32"},
        {"10.0.0.0/8x", "'10.0.0.0/8x': the prefix must be 0..32"},
        {"10.0.0.0/-1", "'10.0.0.0/-1': the prefix must be 0..32"},
        {"localhost", "'localhost' is not an address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)"},
        {"[::1]", "'[::1]' is not an address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)"},
        {"10.0.0.1:80", "'10.0.0.1:80' is not an address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)"},
        {"10.0.0.0/8,,::1", "an empty entry in the list of trusted proxies"},
        {"/8", "'/8' is not an address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        r = realip_create(bad[i].list, err, sizeof err);
        CHECK(r == NULL);
        CHECK_STR(err, bad[i].msg);
        realip_destroy(r);
    }
    realip_destroy(NULL);
}

static void test_client(void)
{
    char err[200], out[REALIP_ADDR_MAX];
    struct realip *r = realip_create("127.0.0.0/8,::1,10.0.0.0/8", err, sizeof err);
#define CLIENT(peer, xff, kind, addr)                             \
    do {                                                          \
        strcpy(out, "?");                                         \
        CHECK_INT(realip_client(r, peer, xff, out), kind);        \
        CHECK_STR(out, addr);                                     \
    } while (0)
    /* An untrusted peer is the client, whatever it claims. */
    CLIENT("203.0.113.9", NULL, REALIP_PEER, "203.0.113.9");
    CLIENT("203.0.113.9", "198.51.100.1", REALIP_PEER, "203.0.113.9");
    CLIENT("203.0.113.9", "127.0.0.1", REALIP_PEER, "203.0.113.9");
    CLIENT("::ffff:203.0.113.9", "garbage", REALIP_PEER, "203.0.113.9");
    /* A trusted peer naming nobody: not limited per address. */
    CLIENT("127.0.0.1", NULL, REALIP_TRUSTED, "127.0.0.1");
    CLIENT("::1", "", REALIP_TRUSTED, "::1");
    CLIENT("127.0.0.1", " , ,", REALIP_TRUSTED, "127.0.0.1");
    /* One proxy: the address it appended. */
    CLIENT("127.0.0.1", "198.51.100.1", REALIP_FORWARDED, "198.51.100.1");
    CLIENT("127.0.0.1", "[2001:DB8::7]:5000", REALIP_FORWARDED, "2001:db8::7");
    /* What the client wrote itself is left of what the proxy appended. */
    CLIENT("127.0.0.1", "1.1.1.1, 2.2.2.2, 198.51.100.1", REALIP_FORWARDED, "198.51.100.1");
    CLIENT("127.0.0.1", "garbage, 198.51.100.1", REALIP_FORWARDED, "198.51.100.1");
    /* A chain of trusted proxies: skip them from the right. */
    CLIENT("127.0.0.1", "1.1.1.1, 198.51.100.1, 10.2.3.4, 10.9.9.9", REALIP_FORWARDED, "198.51.100.1");
    CLIENT("127.0.0.1", "198.51.100.1,10.2.3.4,,10.9.9.9", REALIP_FORWARDED, "198.51.100.1");
    /* Repeated headers are joined with ',': the same walk. */
    CLIENT("10.0.0.5", "1.1.1.1,198.51.100.1", REALIP_FORWARDED, "198.51.100.1");
    /* Only trusted addresses: a client on the proxies' own network. */
    CLIENT("127.0.0.1", "10.0.0.8, 127.0.0.1", REALIP_TRUSTED, "10.0.0.8");
    CLIENT("127.0.0.1", "::ffff:10.0.0.8", REALIP_TRUSTED, "10.0.0.8");
    /* A broken entry where the client should be: limited as the peer. */
    CLIENT("127.0.0.1", "unknown", REALIP_PEER, "127.0.0.1");
    CLIENT("127.0.0.1", "198.51.100.1, _hidden, 10.0.0.1", REALIP_PEER, "127.0.0.1");
    CLIENT("::ffff:127.0.0.1", "1.1.1.1 2.2.2.2", REALIP_PEER, "127.0.0.1");
    /* A peer lws could not name. */
    CLIENT("", "198.51.100.1", REALIP_PEER, "");
    CLIENT(NULL, NULL, REALIP_PEER, "");
#undef CLIENT
    realip_destroy(r);

    /* Trusting nobody: X-Forwarded-For is never read. */
    r = realip_create("none", err, sizeof err);
    CHECK_INT(realip_client(r, "127.0.0.1", "198.51.100.1", out), REALIP_PEER);
    CHECK_STR(out, "127.0.0.1");
    realip_destroy(r);
}

int main(void)
{
    test_normalize();
    test_blocks();
    test_client();
    return check_done();
}
