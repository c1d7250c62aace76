/* fuzz_baseline.c: the baseline loader on arbitrary bytes. It must return
 * 0 or -1 with a message, never crash, leak or hang. */
#include <stdint.h>
#include <string.h>

#include "vigil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_baseline b;
	struct vg_err err;

	err.msg[0] = 0;
	if (baseline_load_mem(&b, "fuzz.yaml", (const char *)data, size, &err) == 0)
		baseline_free(&b);
	else if (!err.msg[0])
		__builtin_trap();	/* every refusal must say why */
	return 0;
}
