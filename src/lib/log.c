/*
 * log.c - stderr or syslog.
 */
#include "auto-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static bool use_syslog;
static int verbose;
static const char *name = "stubd";

void
log_init(const char *ident, bool to_syslog, int verbosity)
{
	name = ident;
	use_syslog = to_syslog;
	verbose = verbosity;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_verbosity(void)
{
	return verbose;
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio == LOG_INFO && verbose < 1)
		return;
	if (prio == LOG_DEBUG && verbose < 2)
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		fprintf(stderr, "%s: ", name);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
