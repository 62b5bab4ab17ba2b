/*
 * fuzz_ctl.c - control request lines against a small daemon state.
 */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum stub_err
noreload(void *arg, char *err, size_t len)
{
	(void)arg;
	(void)err;
	(void)len;
	return STUB_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct control_view v;
	static struct stats st;
	static struct cfg *cfg;
	static const char conf[] = "adapter lan\nserver 192.0.2.1\ndomain corp.example\n";
	static const char hosts[] = "192.0.2.9 host.lan\n";
	struct cache_cfg cc = { .max_entries = 100,
		.max_bytes = 1u << 30,
		.max_ttl = 86400,
		.max_negative_ttl = 900,
		.negative_ttl = 60,
		.serve_stale = 10 };
	char line[2048], *out;

	if (!cfg) {
		cfg = cfg_new(NULL, NULL);
		cfg_parse_text(cfg, conf, sizeof(conf) - 1, "x");
		cfg_finish(cfg, NULL);
		v.cfg = cfg;
		v.cache = cache_new(&cc, 1);
		v.hosts = hosts_parse(hosts, sizeof(hosts) - 1, 1, NULL, NULL);
		v.sched = sched_new(cfg);
		v.st = &st;
		v.reload = noreload;
	}
	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	out = control_handle(&v, line, NULL, NULL);
	free(out);
	return 0;
}
