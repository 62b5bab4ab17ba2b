/*
 * fuzz_config.c - the configuration parser (and finishing with a
 * resolv.conf made of the same bytes).
 */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *c = cfg_new("/run/stubd.sock", "/etc/hosts");
	char *text;
	struct sched *s;

	if (!c)
		return 0;
	cfg_parse_text(c, (const char *)data, size, "fuzz.conf");
	text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = 0;
		cfg_finish(c, text);
		free(text);
	}
	s = sched_new(c);
	sched_free(s);
	cfg_unref(c);
	return 0;
}
