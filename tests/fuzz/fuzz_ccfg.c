/* fuzz_ccfg.c: collector.yaml (ccfg_parse) on arbitrary bytes. Beyond not
 * crashing, leaking or hanging: a refusal says why, and a configuration
 * taken is whole: at least one listen address, a state directory, and
 * every limit within the range the loader promises. */
#include <stdint.h>
#include <string.h>

#include "collector.h"
#include "forward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccfg c;
	struct cerr err;
	const struct ccfg_limits *l = &c.lim;

	err.msg[0] = 0;
	ccfg_defaults(&c);
	if (ccfg_parse(&c, "fuzz.yaml", (const char *)data, size, &err)) {
		if (!err.msg[0])
			__builtin_trap();
		ccfg_free(&c);
		return 0;
	}
	if (c.n_listen < 1 || c.n_listen > CCFG_LISTEN_MAX || !c.state_dir || !*c.state_dir ||
	    c.n_names > CCFG_NAMES_MAX)
		__builtin_trap();
	for (size_t i = 0; i < c.n_listen; i++)
		if (!strrchr(c.listen[i], ':'))
			__builtin_trap();
	if (l->max_connections < 1 || l->frame_max < 1024 || l->frame_max > FWD_FRAME_MAX ||
	    l->inflate_max > FWD_INFLATE_MAX || l->memory_max < l->frame_max + l->write_max ||
	    l->handshake_ms < 100 || l->idle_ms < 100 || l->frame_ms < 100 || c.cert_days < 1 ||
	    c.cert_days > 3650)
		__builtin_trap();
	ccfg_free(&c);
	return 0;
}
