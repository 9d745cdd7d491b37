/*
 * check: the assertions of the unit tests. A failed check prints the file,
 * line, the expression and both values, counts the failure and goes on;
 * check_done() prints "N checks, N failed" and returns the exit status.
 */
#ifndef ROSTRUM_CHECK_H
#define ROSTRUM_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check__total;
static int check__failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        check__total++;                                                          \
        if (!(cond)) {                                                           \
            check__failed++;                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_INT(a, b)                                                          \
    do {                                                                         \
        long long check__a = (long long)(a), check__b = (long long)(b);          \
        check__total++;                                                          \
        if (check__a != check__b) {                                              \
            check__failed++;                                                     \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,  \
                    __LINE__, #a, #b, check__a, check__b);                        \
        }                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                          \
    do {                                                                         \
        const char *check__a = (a), *check__b = (b);                             \
        check__total++;                                                          \
        if (!check__a || !check__b || strcmp(check__a, check__b) != 0) {         \
            check__failed++;                                                     \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",        \
                    __FILE__, __LINE__, #a, #b, check__a ? check__a : "(null)",  \
                    check__b ? check__b : "(null)");                             \
        }                                                                        \
    } while (0)

static inline int check_done(void)
{
    printf("%d checks, %d failed\n", check__total, check__failed);
    return check__failed ? 1 : 0;
}

#endif
