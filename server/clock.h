/*
 * clock: the server's time, in one place. Wall-clock milliseconds since the
 * epoch: what clients are shown (event ts, pong, floor started_at) and what
 * the hub and the sessions measure timeouts with. Its own module so that
 * nobody reads the time through the network layer, and so that a harness
 * (the fuzz targets) can replace this one file to drive time itself.
 */
#ifndef ROSTRUM_CLOCK_H
#define ROSTRUM_CLOCK_H

#include <stdint.h>

/* Wall clock in ms since the epoch. */
int64_t clock_now_ms(void);

#endif
