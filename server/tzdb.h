/*
 * tzdb: is a time zone name real? Checks IANA names against the system's
 * zone database (contract 9.1: a schedule's time_zone "checked against the
 * system's zone database").
 *
 * The room logic is pure and only checks a name's shape
 * (proto_valid_time_zone_name); this module does the one read that says the
 * zone exists. The hub calls it when a room is created and when a
 * set_schedule was accepted by the room, before anything is committed.
 */
#ifndef ROSTRUM_TZDB_H
#define ROSTRUM_TZDB_H

#include <stdbool.h>

/* True when name has the shape of an IANA zone name and the zone database
 * (the directory in $TZDIR, else /usr/share/zoneinfo) holds a TZif file of
 * that name. Reads at most the file's first 4 bytes. */
bool tzdb_zone_exists(const char *name);

#endif
