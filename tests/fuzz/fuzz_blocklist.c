/*
 * fuzz_blocklist.c - the list parsers of SPEC 18 (the first byte picks the
 * format and block or allow), format detection, lookups of names taken
 * from the input, and rebinding protection's rewrite of the input read as
 * a stored answer.
 */
#include "auto-config.h"

#include <stdint.h>
#include <string.h>

#include "blocklist.h"
#include "polcfg.h"
#include "rebind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 4096];
	struct policy *p;
	struct bl_stats st;
	struct pol_match m;
	const char *text = (const char *)data + 1;
	size_t len, i, olen;
	unsigned removed;

	if (size < 1)
		return 0;
	len = size - 1;
	p = policy_new(7);
	if (!p)
		return 0;
	(void)blocklist_detect(text, len);
	if (blocklist_parse(p, text, len, (enum bl_format)(data[0] % BL_FORMAT_COUNT),
	        (data[0] & 0x80) != 0, POL_ACT_DEFAULT, 0, &st) == STUB_OK) {
		/* every dot-separated run of the input as a name to look up */
		for (i = 0; i + 1 < len && i < 4096; i += 7) {
			uint8_t n[WIRE_NAME_MAX];
			char w[64];
			size_t k = 0, l;

			while (k < sizeof(w) - 1 && i + k < len && text[i + k] != '\n' &&
			    text[i + k] != ' ' && text[i + k] != '\0')
				k++;
			memcpy(w, text + i, k);
			w[k] = 0;
			l = wire_name_from_text(w, n);
			if (l) {
				wire_name_lower(n, l);
				policy_lookup(p, n, l, &m);
			}
		}
	}
	policy_free(p);
	(void)rebind_filter(data, size, out, sizeof(out), &olen, &removed);
	return 0;
}
