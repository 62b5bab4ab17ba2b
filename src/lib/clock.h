/*
 * clock.h - the daemon's one clock: monotonic milliseconds.
 *
 * Only main/listener/upstream/control read it, once per wake-up, and pass
 * `now` down; pure modules (cache, sched, hosts) take `now` as a parameter
 * so tests drive them on a fake clock.
 */
#ifndef STUBD_CLOCK_H
#define STUBD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Added to the monotonic clock so that times from before this boot (a
 * cache-file's entries, stored minutes before a reboot) stay positive. */
#define CLOCK_EPOCH_MS ((uint64_t)1 << 40)

static inline uint64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return CLOCK_EPOCH_MS + (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline double
clock_now_ms_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)CLOCK_EPOCH_MS + (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Wall-clock milliseconds since 1970 (for what outlives the process). */
static inline uint64_t
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
