/* Unit tests of iplimit: connections per address and the join rate. */
#include "iplimit.h"

#include <stdio.h>

#include "check.h"

static void test_conns(void)
{
    struct iplimit *l = iplimit_create(2, 0, 0);
    CHECK_INT(iplimit_admit(l, "10.0.0.1", 0), IPLIMIT_OK);
    CHECK_INT(iplimit_admit(l, "10.0.0.1", 0), IPLIMIT_OK);
    CHECK_INT(iplimit_admit(l, "10.0.0.1", 0), IPLIMIT_TOO_MANY);
    CHECK_INT(iplimit_admit(l, "10.0.0.2", 0), IPLIMIT_OK); /* another address */
    iplimit_release(l, "10.0.0.1");
    CHECK_INT(iplimit_admit(l, "10.0.0.1", 0), IPLIMIT_OK);
    iplimit_release(l, "10.0.0.9"); /* unknown: no effect */
    CHECK_INT(iplimit_size(l), 2);
    iplimit_release(l, "10.0.0.2");
    iplimit_sweep(l, 0);
    CHECK_INT(iplimit_size(l), 1); /* 10.0.0.2 has nothing left */
    iplimit_destroy(l);
}

static void test_rate(void)
{
    /* 10 per second, bursts of 20 */
    struct iplimit *l = iplimit_create(0, 10, 20);
    int ok = 0;
    for (int i = 0; i < 25; i++)
        ok += iplimit_admit(l, "a", 1000) == IPLIMIT_OK;
    CHECK_INT(ok, 20);
    CHECK_INT(iplimit_admit(l, "a", 1000), IPLIMIT_TOO_FAST);
    CHECK_INT(iplimit_admit(l, "a", 1100), IPLIMIT_OK); /* 100 ms = one token */
    CHECK_INT(iplimit_admit(l, "a", 1100), IPLIMIT_TOO_FAST);
    for (int i = 0; i < 21; i++)
        iplimit_release(l, "a");
    iplimit_sweep(l, 1200);
    CHECK_INT(iplimit_size(l), 1); /* bucket not full yet: remembered */
    iplimit_sweep(l, 10000);
    CHECK_INT(iplimit_size(l), 0);
    iplimit_destroy(l);
    iplimit_destroy(NULL);
}

int main(void)
{
    test_conns();
    test_rate();
    return check_done();
}
