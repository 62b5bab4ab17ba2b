/*
 * rand.c - a small pool refilled from getrandom(2).
 */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "rand.h"

static uint8_t pool[512];
static size_t avail;

static void
refill(void)
{
	size_t got = 0;

	while (got < sizeof(pool)) {
		ssize_t r = getrandom(pool + got, sizeof(pool) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* no entropy source at all: nothing sane to do */
			_exit(70);
		}
		got += (size_t)r;
	}
	avail = sizeof(pool);
}

static void
take(void *out, size_t n)
{
	if (avail < n)
		refill();
	memcpy(out, pool + sizeof(pool) - avail, n);
	memset(pool + sizeof(pool) - avail, 0, n);
	avail -= n;
}

uint16_t
rand_u16(void)
{
	uint16_t v;

	take(&v, sizeof(v));
	return v;
}

uint64_t
rand_u64(void)
{
	uint64_t v;

	take(&v, sizeof(v));
	return v;
}
