/*
 * tzdb.c: a zone name is real when the zone database has its TZif file.
 *
 * The name's shape is checked first (proto_valid_time_zone_name: no "..",
 * no leading '/', only the characters IANA names use), so that joining it
 * to the database directory can never reach another file. A directory
 * ("America") or any file that is not TZif ("zone.tab", "leapseconds") is
 * not a zone.
 */
#include "tzdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define TZDB_DEFAULT_DIR "/usr/share/zoneinfo"

bool tzdb_zone_exists(const char *name)
{
    const char *dir = getenv("TZDIR");
    char path[4096], magic[4];
    FILE *f;
    bool ok;
    int n;

    if (!proto_valid_time_zone_name(name))
        return false;
    if (!dir || !dir[0])
        dir = TZDB_DEFAULT_DIR;
    n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return false;
    f = fopen(path, "rb");
    if (!f)
        return false;
    /* fread on a directory fails (EISDIR): not a zone either. */
    ok = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}
