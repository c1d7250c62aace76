/* fuzz_store.c: arbitrary bytes as one chunk of records for the store.
 *
 * The bytes pass the Forward scanner's limits (as a frame's entries do),
 * are unpacked, and each element of a top array (or the one object) is
 * handed to st_record inside a chunk of an in-memory SQLite store, for the
 * enrolled host "h1" (the one object with the bytes it came from, as
 * ingest hands them over). The first byte picks commit or abort. Beyond
 * not crashing or leaking: a refusal always says why, a refused record
 * aborts the chunk (what follows is refused too), a committed chunk is
 * "seen" the second time and an aborted one is not, and every stored event
 * prints its record back as JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The events query, as JSON: every record stored decodes again. */
static void print_events(struct st *s)
{
	struct st_query q = {.format = ST_JSON, .limit = 1000};
	struct st_err err;
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);

	if (!out)
		return;
	if (st_print_events(s, &q, out, &err))
		__builtin_trap();
	fclose(out);
	if (strstr(text, "\"record\":null"))
		__builtin_trap();
	free(text);
}

/* raw: the bytes of recs[0] when n is 1, or NULL. */
static void chunk(struct st *s, const msgpack_object *recs, uint32_t n, const void *raw,
		  size_t raw_len, bool commit)
{
	struct st_err err;
	bool seen = true, failed = false;
	int rc;

	if (st_chunk_begin(s, "h1", "c1", &seen, &err) || seen)
		__builtin_trap();
	for (uint32_t i = 0; i < n; i++) {
		err.msg[0] = 0;
		rc = raw ? st_record_raw(s, "vigil.fuzz", 0, &recs[i], raw, raw_len, &err)
			 : st_record(s, "vigil.fuzz", 0, &recs[i], &err);
		if (rc && !err.msg[0])
			__builtin_trap();
		if (failed && !rc)
			__builtin_trap();	/* an aborted chunk takes nothing more */
		failed |= rc != 0;
	}
	if (commit) {
		rc = st_chunk_commit(s, &err);
		if (failed != (rc != 0))
			__builtin_trap();
	} else {
		st_chunk_abort(s);
	}
	if (st_chunk_begin(s, "h1", "c1", &seen, &err))
		__builtin_trap();
	if (seen != (commit && !failed))
		__builtin_trap();
	st_chunk_abort(s);
	print_events(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_limits lim;
	struct fwd_scanner sc;
	struct fwd_err ferr;
	struct st_err err;
	struct st *s;
	msgpack_zone z;
	msgpack_object o;
	size_t used = 0, off = 0;
	bool commit;

	if (size < 1)
		return 0;
	commit = data[0] & 1;
	data++, size--;
	fwd_limits_default(&lim);
	lim.frame_max = 1u << 20;
	lim.str_max = 64u << 10;
	lim.objects_max = 1u << 16;
	fwd_scanner_init(&sc, &lim);
	if (fwd_scanner_feed(&sc, data, size, &used, &ferr) != FWD_OK)
		return 0;
	if (!msgpack_zone_init(&z, 4096))
		return 0;
	if (msgpack_unpack((const char *)data, used, &off, &z, &o) != MSGPACK_UNPACK_SUCCESS) {
		msgpack_zone_destroy(&z);
		return 0;
	}
	if (st_open(&s, "sqlite::memory:", &err) ||
	    st_host_enroll(s, "h1", "fuzz", NULL, "01", 0, &err))
		__builtin_trap();
	if (o.type == MSGPACK_OBJECT_ARRAY)
		chunk(s, o.via.array.ptr, o.via.array.size, NULL, 0, commit);
	else
		chunk(s, &o, 1, data, used, commit);
	st_close(s);
	msgpack_zone_destroy(&z);
	return 0;
}
