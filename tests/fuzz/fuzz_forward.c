/* fuzz_forward.c: the Forward frame decoder, and the stream scanner that
 * frames it, on arbitrary bytes. Beyond not crashing, leaking or hanging:
 * a refusal always says why; a frame taken is whole (a record is a map
 * whose every byte can be read, times fit EventTime, counts are within the
 * limits, a record's raw bytes, where given, unpack to that record and
 * nothing more), and one byte less of it is "more", never "bad"; and a
 * scanner fed in two steps agrees with one fed all at once. */
#include <stdint.h>
#include <string.h>

#include "forward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sink;

/* Reads every byte of an object; the scanner keeps depth within 32. */
static void touch(const msgpack_object *o, int depth)
{
	if (depth > FWD_DEPTH_MAX)
		__builtin_trap();
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		for (uint32_t i = 0; i < o->via.str.size; i++)
			sink += (unsigned char)o->via.str.ptr[i];
		break;
	case MSGPACK_OBJECT_EXT:
		for (uint32_t i = 0; i < o->via.ext.size; i++)
			sink += (unsigned char)o->via.ext.ptr[i];
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++)
			touch(&o->via.array.ptr[i], depth + 1);
		break;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			touch(&o->via.map.ptr[i].key, depth + 1);
			touch(&o->via.map.ptr[i].val, depth + 1);
		}
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		sink += o->via.u64;
		break;
	default:			/* nil and bool carry nothing more */
		break;
	}
}

/* o, packed again; compared as bytes (msgpack_object_equal has NaN != NaN). */
static void repack(msgpack_sbuffer *sb, const msgpack_object *o)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_object(&pk, *o))
		__builtin_trap();
}

/* Packed modes hand out each record's bytes: exactly those of the record. */
static void check_raw(const struct fwd_entry *e, enum fwd_mode mode)
{
	msgpack_sbuffer a, b;
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;

	if (!e->raw) {
		if (mode == FWD_PACKED || mode == FWD_COMPRESSED)
			__builtin_trap();
		return;
	}
	if (!msgpack_zone_init(&z, 1024))
		return;
	if (msgpack_unpack((const char *)e->raw, e->raw_len, &off, &z, &o) !=
	    MSGPACK_UNPACK_SUCCESS || off != e->raw_len)
		__builtin_trap();
	repack(&a, &o);
	repack(&b, &e->record);
	if (a.size != b.size || memcmp(a.data, b.data, a.size))
		__builtin_trap();
	msgpack_sbuffer_destroy(&a);
	msgpack_sbuffer_destroy(&b);
	msgpack_zone_destroy(&z);
}

static void check_frame(const struct fwd_frame *f, const struct fwd_limits *lim)
{
	size_t tag = strlen(f->tag);

	if (f->mode != FWD_HEARTBEAT && (tag == 0 || tag > FWD_TAG_MAX))
		__builtin_trap();
	if (strlen(f->chunk) > FWD_CHUNK_MAX || f->n > lim->entries_max)
		__builtin_trap();
	if ((f->mode == FWD_MESSAGE && f->n != 1) || (f->mode == FWD_HEARTBEAT && f->n))
		__builtin_trap();
	for (size_t i = 0; i < f->n; i++) {
		const msgpack_object *r = &f->entries[i].record;

		if (f->entries[i].time_ns > 4294967295999999999ull || r->type != MSGPACK_OBJECT_MAP)
			__builtin_trap();
		for (uint32_t k = 0; k < r->via.map.size; k++)
			if (r->via.map.ptr[k].key.type != MSGPACK_OBJECT_STR)
				__builtin_trap();
		touch(r, 0);
		check_raw(&f->entries[i], f->mode);
	}
}

/* The same verdict, fed at once or in two steps. */
static void check_scanner(const uint8_t *data, size_t size, const struct fwd_limits *lim)
{
	struct fwd_scanner a, b;
	struct fwd_err err;
	size_t ua, ub;
	int ra, rb;

	fwd_scanner_init(&a, lim);
	ra = fwd_scanner_feed(&a, data, size, &ua, &err);
	fwd_scanner_init(&b, lim);
	rb = fwd_scanner_feed(&b, data, size / 2, &ub, &err);
	if (rb == FWD_MORE)
		rb = fwd_scanner_feed(&b, data, size, &ub, &err);
	if (ra != rb || ua != ub)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_limits lim;
	struct fwd_frame f;
	struct fwd_err err;
	size_t used;
	int r;

	fwd_limits_default(&lim);
	lim.inflate_max = 1u << 20;		/* the same paths, more runs a second */
	err.msg[0] = 0;
	r = fwd_decode(&f, data, size, &lim, &used, &err);
	if ((r == FWD_BAD && !err.msg[0]) || (r == FWD_MORE && used) || used > size)
		__builtin_trap();
	if (r == FWD_OK) {
		if (used == 0)
			__builtin_trap();
		check_frame(&f, &lim);
		fwd_frame_free(&f);
		if (fwd_decode(&f, data, used - 1, &lim, &used, &err) != FWD_MORE)
			__builtin_trap();
	}
	check_scanner(data, size, &lim);
	return 0;
}
