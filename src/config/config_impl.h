/*
 * config_impl.h - what config.c (struct cfg, addresses, the command line,
 * cfg_finish) and directives.c (the stubd.conf directives) share; not for
 * other modules.
 */
#ifndef STUBD_CONFIG_IMPL_H
#define STUBD_CONFIG_IMPL_H

#include "config.h"
#include "err.h"

/* Add "FILE:LINE: message" (line 0: "FILE: message") to c->errors. */
void cfg_error(struct cfg *c, const char *fname, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Room for element n of the array at *pp; STUB_ENOMEM. */
enum stub_err cfg_grow(void *pp, size_t n, size_t size);
/* A decimal in [lo, hi]; STUB_EINVAL. */
enum stub_err cfg_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
/* seconds with optional decimals -> ms; STUB_EINVAL */
enum stub_err cfg_parse_secs_ms(const char *s, uint32_t *ms, bool zero_ok);
/* "ADDR[/PREFIX]"; STUB_EFORMAT. */
enum stub_err cfg_parse_acl(const char *s, struct cfg_acl *a);
/* A new adapter; its index in *idx.  STUB_ENOMEM. */
enum stub_err cfg_add_adapter(struct cfg *c, const char *name, int line, size_t *idx);
enum stub_err
cfg_add_server(struct cfg *c, const struct cfg_sockaddr *sa, enum cfg_prio prio, size_t adapter);
enum stub_err cfg_add_listen(struct cfg *c, const struct cfg_sockaddr *sa);
/* replace *dst with a copy of v (NULL allowed); STUB_ENOMEM */
enum stub_err cfg_set_str(char **dst, const char *v);

#endif
