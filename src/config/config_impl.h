/*
 * config_impl.h - what config.c (struct cfg, addresses, the command line,
 * cfg_finish) and directives.c (the stubd.conf directives) share; not for
 * other modules.
 */
#ifndef STUBD_CONFIG_IMPL_H
#define STUBD_CONFIG_IMPL_H

#include "config.h"

/* Add "FILE:LINE: message" (line 0: "FILE: message") to c->errors. */
void cfg_error(struct cfg *c, const char *fname, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Room for element n of the array at *pp; 0 or -1. */
int cfg_grow(void *pp, size_t n, size_t size);
int cfg_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
/* seconds with optional decimals -> ms */
int cfg_parse_secs_ms(const char *s, uint32_t *ms, bool zero_ok);
int cfg_parse_acl(const char *s, struct cfg_acl *a);
/* index of the new adapter, or -1 */
long cfg_add_adapter(struct cfg *c, const char *name, int line);
int
cfg_add_server(struct cfg *c, const struct cfg_sockaddr *sa, enum cfg_prio prio, size_t adapter);
int cfg_add_listen(struct cfg *c, const struct cfg_sockaddr *sa);
/* replace *dst with a copy of v (NULL allowed); 0 or -1 */
int cfg_set_str(char **dst, const char *v);

#endif
