/*
 * log.h - logging to stderr (foreground) or syslog (daemon).
 */
#ifndef STUBD_LOG_H
#define STUBD_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* verbosity: 0 warnings and errors, 1 info, 2 one line per query */
void log_init(const char *ident, bool to_syslog, int verbosity);
int log_verbosity(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
