/*
 * fuzz_blocklist.c - the list parsers of SPEC 18 (the first byte picks the
 * format, all five, and block or allow), format detection, lookups of names
 * taken from the input, and rebinding protection's rewrite of the input
 * read as a stored answer.  A parse never fails but for memory, and what it
 * counts adds up: no more entries and malformed lines than the text has
 * room for, the first malformed line's number iff there was one, within
 * the text's lines (abort() otherwise: the fuzzer reports it).
 */
#include "auto-config.h"

#include <stdint.h>
#include <stdlib.h>
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
	size_t len, i, olen, lines;
	unsigned removed;
	enum stub_err e;

	if (size < 1)
		return 0;
	len = size - 1;
	p = policy_new(7);
	if (!p)
		return 0;
	(void)blocklist_detect(text, len);
	e = blocklist_parse(p, text, len, (enum bl_format)(data[0] % BL_FORMAT_COUNT),
	    (data[0] & 0x80) != 0, POL_ACT_DEFAULT, 0, &st);
	if (e != STUB_OK && e != STUB_ENOMEM)
		abort(); /* a malformed line is never fatal */
	for (i = 0, lines = 1; i < len; i++)
		lines += text[i] == '\n';
	if (e == STUB_OK &&
	    (st.unknown > lines || (st.unknown == 0) != (st.first_unknown == 0) ||
	        st.first_unknown > lines || st.entries > len))
		abort();
	if (e == STUB_OK) {
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
