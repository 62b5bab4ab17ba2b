/*
 * fuzz_dnropt.c - the DHCP DNR option reader (RFC 9463) on any bytes:
 * the first byte picks DHCPv4 (even) or DHCPv6 (odd); the rest is the
 * option's data, read, and every resolver kept formatted; and the same
 * bytes as hex text through dnropt_hex.
 */
#include "auto-config.h"

#include <stdint.h>
#include <string.h>

#include "dnropt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnropt o;
	char why[128], line[1024], text[256];
	uint8_t b[64];
	size_t i, n;

	if (size == 0)
		return 0;
	memset(&o, 0, sizeof(o));
	if (dnropt_read(data + 1, size - 1, data[0] & 1, &o, why, sizeof(why)) == STUB_OK)
		for (i = 0; i < o.n; i++) {
			dnropt_format(&o.v[i], line, sizeof(line));
			(void)strlen(line);
		}
	n = size < sizeof(text) ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = 0;
	(void)dnropt_hex(text, b, sizeof(b), &i);
	return 0;
}
