/*
 * corpus_replay: runs a libFuzzer target's two entry points on every file
 * of the directories given, once each, without libFuzzer and without
 * clang. The ordinary `meson test` builds tests/fuzz/fuzz_session.c with
 * it (test 'session_corpus'), so that the session target's corpus goes
 * through the target's own checks on every build: whole JSON frames, after
 * a welcome the events with no gap and no repeat, no ack before its event,
 * a closed connection closed once, nothing leaked (under ASan).
 *
 * A failed check aborts (FUZZ_CHECK), which fails the test; so does a run
 * that found no input at all (a moved corpus must not pass silently).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds every regular file of dir to the target; returns how many. */
static size_t replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0, done = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            FUZZ_CHECK(names, "out of memory");
        }
        names[n] = strdup(e->d_name);
        FUZZ_CHECK(names[n], "out of memory");
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (f) {
            unsigned char *buf = NULL;
            size_t len = 0, got;
            unsigned char chunk[65536];
            while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
                unsigned char *nb = realloc(buf, len + got);
                FUZZ_CHECK(nb, "out of memory");
                buf = nb;
                memcpy(buf + len, chunk, got);
                len += got;
            }
            fclose(f);
            fprintf(stderr, "replaying %s (%zu bytes)\n", path, len);
            LLVMFuzzerTestOneInput(buf ? buf : (const unsigned char *)"", len);
            free(buf);
            done++;
        }
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    size_t total = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        total += replay_dir(argv[i]);
    printf("%zu inputs replayed\n", total);
    return total > 0 ? 0 : 1;
}
