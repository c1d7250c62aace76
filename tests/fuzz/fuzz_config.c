/* fuzz_config.c: the vigil.yaml parser on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "vigil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_config c;
	struct vg_err err;

	err.msg[0] = 0;
	config_defaults(&c);
	if (config_parse(&c, "fuzz.yaml", (const char *)data, size, &err) != 0 && !err.msg[0])
		__builtin_trap();
	config_free(&c);
	return 0;
}
