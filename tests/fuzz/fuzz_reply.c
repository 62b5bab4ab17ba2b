/*
 * fuzz_reply.c - stubctl's reply parser (strict JSON).
 */
#include "auto-config.h"

#include <stdint.h>

#include "jsonp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	struct jval *v = jsonp_parse((const char *)data, size, err, sizeof(err));

	if (v) {
		jsonp_get(v, "entries");
		jsonp_get(v, "error");
	}
	jsonp_free(v);
	return 0;
}
