/*
 * fuzz_svcb.c - the SVCB/HTTPS RDATA reader (RFC 9460) on any bytes.
 */
#include "auto-config.h"

#include <stdint.h>
#include <string.h>

#include "svcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svcb s;
	char why[96];
	char t[WIRE_NAME_TEXT];

	if (svcb_read(data, size, &s, why, sizeof(why)) == STUB_OK) {
		wire_name_to_text(s.target, s.target_len, t, sizeof(t));
		(void)svcb_has_alpn(&s, "dot");
		(void)strlen(s.dohpath);
	}
	return 0;
}
