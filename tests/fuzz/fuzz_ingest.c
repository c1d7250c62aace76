/* fuzz_ingest.c: the collector's rule for a record's host (ingest_patch)
 * on every record of a Forward frame made of arbitrary bytes. Beyond not
 * crashing, leaking or hanging: a refusal says why; a record taken names
 * the connection's host as device.uid exactly once, has class_uid and time
 * once each, and kept every pair it came with. */
#include <stdint.h>
#include <string.h>

#include "forward.h"
#include "serve_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST "5d719581c38566f5e3cebf1b1a1b9cb0"

static const msgpack_object *only(const msgpack_object *m, const char *key)
{
	const msgpack_object *found = NULL;
	size_t n = strlen(key);

	if (m->type != MSGPACK_OBJECT_MAP)
		__builtin_trap();
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    !memcmp(k->via.str.ptr, key, n)) {
			if (found)
				__builtin_trap();
			found = &m->via.map.ptr[i].val;
		}
	}
	if (!found)
		__builtin_trap();
	return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_limits lim;
	struct fwd_frame f;
	struct fwd_err ferr;
	msgpack_zone z;
	size_t used;

	fwd_limits_default(&lim);
	lim.inflate_max = 1u << 20;
	if (fwd_decode(&f, data, size, &lim, &used, &ferr) != FWD_OK)
		return 0;
	msgpack_zone_init(&z, 1024);
	for (size_t i = 0; i < f.n; i++) {
		const msgpack_object *rec = &f.entries[i].record, *uid;
		msgpack_object *out;
		struct cerr why;
		int rc;

		why.msg[0] = 0;
		rc = ingest_patch(rec, HOST, f.entries[i].time_ns, &z, &out, &why);
		if (rc) {
			if (rc != 1 || !why.msg[0])
				__builtin_trap();
			continue;
		}
		uid = only(only(out, "device"), "uid");
		if (uid->type != MSGPACK_OBJECT_STR || uid->via.str.size != strlen(HOST) ||
		    memcmp(uid->via.str.ptr, HOST, strlen(HOST)))
			__builtin_trap();
		only(out, "class_uid");
		only(out, "time");
		if (out->via.map.size < rec->via.map.size || out->via.map.size > rec->via.map.size + 3)
			__builtin_trap();
		msgpack_zone_clear(&z);
	}
	msgpack_zone_destroy(&z);
	fwd_frame_free(&f);
	return 0;
}
