/*
 * fuzz_network.c - what stubd reads of the network: rtnetlink datagrams
 * (first byte 0) and resolvconf interface files (first byte 1), then the
 * links rendered as configuration and parsed back.
 */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "links.h"
#include "netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ignore(void *arg, const char *name)
{
	(void)arg;
	(void)name;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] == 0) {
		struct ifstate s;
		bool done, changed;
		uint8_t *copy = malloc(size); /* netlink buffers are aligned */

		if (!copy)
			return 0;
		memcpy(copy, data + 1, size - 1);
		ifstate_init(&s);
		s.dump_done = true;
		nl_apply(&s, copy, size - 1, &done, &changed, ignore, NULL);
		nl_apply(&s, copy, size - 1, &done, &changed, ignore, NULL);
		(void)ifstate_usable(&s, "eth0");
		(void)ifstate_route_metric(&s, "eth0");
		ifstate_fini(&s);
		free(copy);
	} else {
		struct links l;
		struct cfg *c = cfg_new(NULL, NULL);
		char *text;

		links_init(&l);
		links_add_resolvconf(&l, "eth0.dhclient", (const char *)data + 1, size - 1, NULL,
		    NULL);
		text = links_config_text(&l, NULL, NULL, NULL);
		if (text && c)
			cfg_parse_text(c, text, strlen(text), "links");
		free(text);
		cfg_unref(c);
		links_fini(&l);
	}
	return 0;
}
