/* test_forward.c: Forward frames both ways, in every mode, and every kind of
 * hostile input the decoder must refuse (each with its own reason), without
 * crashing, leaking, or handing out part of a frame. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "forward.h"
#include "testutil.h"

#define T0 1700000000123456789ull	/* 2023-11-14T22:13:20.123456789Z */

/* ---- building frames by hand -------------------------------------------- */

static void pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void pack_record(msgpack_packer *pk, int i)
{
	static const unsigned char bin[] = {0, 1, 2, 0xff};

	msgpack_pack_map(pk, 6);
	pstr(pk, "class_uid");
	msgpack_pack_uint32(pk, 1001);
	pstr(pk, "seq");
	msgpack_pack_int(pk, i);
	pstr(pk, "msg");
	pstr(pk, "h\xc3\xa9llo");
	pstr(pk, "nested");
	msgpack_pack_map(pk, 1);
	pstr(pk, "a");
	msgpack_pack_array(pk, 3);
	msgpack_pack_int(pk, -1);
	msgpack_pack_true(pk);
	msgpack_pack_nil(pk);
	pstr(pk, "bin");
	msgpack_pack_bin_with_body(pk, bin, sizeof(bin));
	pstr(pk, "f");
	msgpack_pack_double(pk, 1.5);
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->via.str.size == strlen(key) && !memcmp(k->via.str.ptr, key, k->via.str.size))
			return &m->via.map.ptr[i].val;
	}
	fail_msg("no key %s", key);
	return NULL;
}

static void check_record(const msgpack_object *r, int i)
{
	const msgpack_object *v;

	assert_int_equal(map_get(r, "class_uid")->via.u64, 1001);
	v = map_get(r, "seq");
	assert_int_equal(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_int_equal(v->via.u64, (uint64_t)i);
	v = map_get(r, "msg");
	assert_int_equal(v->via.str.size, 6);
	assert_memory_equal(v->via.str.ptr, "h\xc3\xa9llo", 6);
	v = map_get(map_get(r, "nested"), "a");
	assert_int_equal(v->via.array.size, 3);
	assert_int_equal(v->via.array.ptr[0].via.i64, -1);
	assert_true(v->via.array.ptr[1].via.boolean);
	assert_int_equal(v->via.array.ptr[2].type, MSGPACK_OBJECT_NIL);
	v = map_get(r, "bin");
	assert_int_equal(v->type, MSGPACK_OBJECT_BIN);
	assert_memory_equal(v->via.bin.ptr, "\0\1\2\xff", 4);
	assert_true(map_get(r, "f")->via.f64 == 1.5);
}

static void batch_fill(struct fwd_batch *b, int n)
{
	for (int i = 0; i < n; i++) {
		msgpack_packer *pk = fwd_batch_add(b, T0 + (uint64_t)i * 1000000001ull);
		assert_non_null(pk);
		pack_record(pk, i);
	}
}

/* A frame that must decode; the caller frees f. */
static void must_decode(struct fwd_frame *f, const void *buf, size_t len,
			const struct fwd_limits *lim)
{
	struct fwd_err err = {{0}};
	size_t used;
	int r = fwd_decode(f, buf, len, lim, &used, &err);

	if (r != FWD_OK)
		fail_msg("decode: %d: %s", r, err.msg);
	assert_int_equal(used, len);
}

/* A frame that must be refused, for a reason containing why. */
static void must_refuse(const void *buf, size_t len, const struct fwd_limits *lim,
			const char *why)
{
	struct fwd_frame f;
	struct fwd_err err = {{0}};
	size_t used;
	int r = fwd_decode(&f, buf, len, lim, &used, &err);

	if (r != FWD_BAD)
		fail_msg("want refusal (%s), got %d (%s)", why, r, err.msg);
	if (!strstr(err.msg, why))
		fail_msg("want reason with \"%s\", got \"%s\"", why, err.msg);
	assert_null(f.entries);
	assert_int_equal(f.n, 0);
}

static void must_refuse_sb(msgpack_sbuffer *sb, const char *why)
{
	must_refuse(sb->data, sb->size, NULL, why);
	msgpack_sbuffer_clear(sb);
}

/* A whole buffer cut short: the end is found, or the counts before it are
 * seen not to fit in what is left, whichever comes first. */
static void must_refuse_cut(msgpack_sbuffer *sb)
{
	struct fwd_frame f;
	struct fwd_err err = {{0}};
	size_t used;

	assert_int_equal(fwd_decode(&f, sb->data, sb->size, NULL, &used, &err), FWD_BAD);
	if (!strstr(err.msg, "truncated") && !strstr(err.msg, "cannot fit in the"))
		fail_msg("want a cut found, got \"%s\"", err.msg);
	msgpack_sbuffer_clear(sb);
}

/* [tag, blob(, option with compressed)] around any bytes. */
static void packed_frame(msgpack_sbuffer *sb, const void *blob, size_t n, bool as_str,
			 const char *compressed)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, compressed ? 3 : 2);
	pstr(&pk, "vigil.test");
	if (as_str)
		msgpack_pack_str_with_body(&pk, blob, n);
	else
		msgpack_pack_bin_with_body(&pk, blob, n);
	if (compressed) {
		msgpack_pack_map(&pk, 1);
		pstr(&pk, "compressed");
		pstr(&pk, compressed);
	}
}

static unsigned char *gz(const void *p, size_t n, size_t *out)
{
	z_stream z;
	uLong cap;
	unsigned char *o;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&z, n);
	o = malloc(cap);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = o;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out = z.total_out;
	deflateEnd(&z);
	return o;
}

/* ---- round trips ---------------------------------------------------------- */

/* e->raw is exactly the bytes of e->record: all of them, nothing after. */
static void check_raw(const struct fwd_entry *e)
{
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;

	assert_non_null(e->raw);
	assert_true(msgpack_zone_init(&z, 1024));
	assert_int_equal(msgpack_unpack((const char *)e->raw, e->raw_len, &off, &z, &o),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, e->raw_len);
	assert_true(msgpack_object_equal(o, e->record));
	msgpack_zone_destroy(&z);
}

static void roundtrip(bool gzip)
{
	struct fwd_batch b;
	msgpack_sbuffer sb;
	struct fwd_frame f;
	struct fwd_err err = {{0}};

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	batch_fill(&b, 50);
	if ((gzip ? fwd_encode_compressed : fwd_encode_packed)(&sb, "vigil.events", &b,
							       "host-1.42", &err) != 0)
		fail_msg("encode: %s", err.msg);
	must_decode(&f, sb.data, sb.size, NULL);
	assert_int_equal(f.mode, gzip ? FWD_COMPRESSED : FWD_PACKED);
	assert_string_equal(f.tag, "vigil.events");
	assert_string_equal(f.chunk, "host-1.42");
	assert_true(f.has_size);
	assert_int_equal(f.size, 50);
	assert_int_equal(f.n, 50);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(f.entries[i].time_ns, T0 + (uint64_t)i * 1000000001ull);
		check_record(&f.entries[i].record, i);
		check_raw(&f.entries[i]);
	}
	fwd_frame_free(&f);
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

/* Packed entries' record bytes whatever the time's spelling (int, fixext8,
 * ext8), and none in Message mode, where ingest packs the record itself. */
static void raw_bytes(void **state)
{
	static const unsigned char ext8[] = {0xc7, 8, 0, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 7};
	msgpack_sbuffer ent, sb;
	msgpack_packer pk;
	struct fwd_frame f;

	(void)state;
	msgpack_sbuffer_init(&ent);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &ent, msgpack_sbuffer_write);
	for (int form = 0; form < 3; form++) {
		msgpack_pack_array(&pk, 2);
		if (form == 0)
			msgpack_pack_uint64(&pk, 4000000000u);
		else if (form == 1)
			fwd_pack_time(&pk, T0);
		else
			msgpack_sbuffer_write(&ent, (const char *)ext8, sizeof(ext8));
		pack_record(&pk, form);
	}
	packed_frame(&sb, ent.data, ent.size, false, NULL);
	must_decode(&f, sb.data, sb.size, NULL);
	assert_int_equal(f.n, 3);
	for (int i = 0; i < 3; i++) {
		check_record(&f.entries[i].record, i);
		check_raw(&f.entries[i]);
	}
	fwd_frame_free(&f);
	msgpack_sbuffer_clear(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	pstr(&pk, "app.log");
	fwd_pack_time(&pk, T0);
	pack_record(&pk, 7);
	must_decode(&f, sb.data, sb.size, NULL);
	assert_null(f.entries[0].raw);
	assert_int_equal(f.entries[0].raw_len, 0);
	fwd_frame_free(&f);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&ent);
}

static void roundtrip_compressed(void **state)
{
	roundtrip(true);
}

static void roundtrip_packed(void **state)
{
	roundtrip(false);
}

/* Message mode with an integer time, and with EventTime as fixext8 and as
 * ext8 (both spellings the spec allows). */
static void message_mode(void **state)
{
	static const unsigned char ext8[] = {0xc7, 8, 0, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 7};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct fwd_frame f;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (int form = 0; form < 3; form++) {
		msgpack_sbuffer_clear(&sb);
		msgpack_pack_array(&pk, form == 0 ? 4 : 3);
		pstr(&pk, "app.log");
		if (form == 0)
			msgpack_pack_uint32(&pk, 1441588984);
		else if (form == 1)
			fwd_pack_time(&pk, T0);
		else
			msgpack_sbuffer_write(&sb, (const char *)ext8, sizeof(ext8));
		pack_record(&pk, 7);
		if (form == 0) {
			msgpack_pack_map(&pk, 1);
			pstr(&pk, "chunk");
			pstr(&pk, "p8n9gmxTQVC8/nh2wlKKeQ==");
		}
		must_decode(&f, sb.data, sb.size, NULL);
		assert_int_equal(f.mode, FWD_MESSAGE);
		assert_string_equal(f.tag, "app.log");
		assert_int_equal(f.n, 1);
		assert_int_equal(f.entries[0].time_ns, form == 0 ? 1441588984000000000ull :
					       form == 1 ? T0 : 1700000000000000007ull);
		check_record(&f.entries[0].record, 7);
		assert_string_equal(f.chunk, form == 0 ? "p8n9gmxTQVC8/nh2wlKKeQ==" : "");
		assert_false(f.has_size);
		fwd_frame_free(&f);
	}
	msgpack_sbuffer_destroy(&sb);
}

/* Forward mode mixing integer and EventTime entries, with an option. */
static void forward_mode(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct fwd_frame f;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	pstr(&pk, "fwd");
	msgpack_pack_array(&pk, 4);
	for (int i = 0; i < 4; i++) {
		msgpack_pack_array(&pk, 2);
		if (i % 2)
			msgpack_pack_uint64(&pk, 4294967295u);	/* the last second EventTime can hold */
		else
			fwd_pack_time(&pk, 4294967295ull * 1000000000ull + 999999999);
		pack_record(&pk, i);
	}
	msgpack_pack_map(&pk, 3);
	pstr(&pk, "size");
	msgpack_pack_int(&pk, 4);
	pstr(&pk, "compressed");
	pstr(&pk, "text");			/* Fluentd's word for none */
	pstr(&pk, "unknown");
	msgpack_pack_nil(&pk);			/* ignored, as the spec allows */
	must_decode(&f, sb.data, sb.size, NULL);
	assert_int_equal(f.mode, FWD_FORWARD);
	assert_int_equal(f.n, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(f.entries[i].time_ns, i % 2 ? 4294967295000000000ull
							     : 4294967295999999999ull);
		check_record(&f.entries[i].record, i);
	}
	fwd_frame_free(&f);
	msgpack_sbuffer_destroy(&sb);
}

/* PackedForward as Fluentd sends it (entries in a str), two gzip members
 * end to end, an empty batch, and the nil heartbeat. */
static void packed_variants(void **state)
{
	struct fwd_batch b;
	msgpack_sbuffer sb, two;
	struct fwd_frame f;
	unsigned char *g1, *g2;
	size_t n1, n2;

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&two);
	batch_fill(&b, 3);

	packed_frame(&sb, b.buf.data, b.buf.size, true, NULL);
	must_decode(&f, sb.data, sb.size, NULL);
	assert_int_equal(f.mode, FWD_PACKED);
	assert_int_equal(f.n, 3);
	check_record(&f.entries[2].record, 2);
	fwd_frame_free(&f);

	g1 = gz(b.buf.data, b.buf.size, &n1);
	fwd_batch_clear(&b);
	batch_fill(&b, 1);
	g2 = gz(b.buf.data, b.buf.size, &n2);
	msgpack_sbuffer_write(&two, (const char *)g1, n1);
	msgpack_sbuffer_write(&two, (const char *)g2, n2);
	msgpack_sbuffer_clear(&sb);
	packed_frame(&sb, two.data, two.size, false, "gzip");
	must_decode(&f, sb.data, sb.size, NULL);
	assert_int_equal(f.mode, FWD_COMPRESSED);
	assert_int_equal(f.n, 4);
	check_record(&f.entries[3].record, 0);
	fwd_frame_free(&f);

	fwd_batch_clear(&b);
	msgpack_sbuffer_clear(&sb);
	assert_int_equal(fwd_encode_compressed(&sb, "t", &b, NULL, NULL), 0);
	must_decode(&f, sb.data, sb.size, NULL);
	assert_int_equal(f.n, 0);
	assert_false(f.has_size && f.size != 0);
	fwd_frame_free(&f);

	must_decode(&f, "\xc0", 1, NULL);
	assert_int_equal(f.mode, FWD_HEARTBEAT);
	assert_int_equal(f.n, 0);
	fwd_frame_free(&f);

	free(g1);
	free(g2);
	msgpack_sbuffer_destroy(&two);
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

/* A Forward frame written out byte by byte, as the spec lays it out:
 * ["vigil.t", [[EventTime(1700000000, 5), {"k": "v"}]], {"chunk": "abc", "size": 1}] */
static const unsigned char KNOWN_FORWARD[] = {
	0x93,
	0xa7, 'v', 'i', 'g', 'i', 'l', '.', 't',
	0x91,
	0x92,
	0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x81, 0xa1, 'k', 0xa1, 'v',
	0x82, 0xa5, 'c', 'h', 'u', 'n', 'k', 0xa3, 'a', 'b', 'c', 0xa4, 's', 'i', 'z', 'e', 0x01,
};

/* What the encoder must write for the same event as PackedForward. */
static const unsigned char KNOWN_PACKED[] = {
	0x93,
	0xa7, 'v', 'i', 'g', 'i', 'l', '.', 't',
	0xc4, 16,
	0x92, 0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x81, 0xa1, 'k', 0xa1, 'v',
	0x82, 0xa4, 's', 'i', 'z', 'e', 0x01, 0xa5, 'c', 'h', 'u', 'n', 'k', 0xa3, 'a', 'b', 'c',
};

static void known_bytes(void **state)
{
	struct fwd_frame f;
	struct fwd_batch b;
	msgpack_sbuffer sb;
	msgpack_packer *pk;
	const msgpack_object *v;

	must_decode(&f, KNOWN_FORWARD, sizeof(KNOWN_FORWARD), NULL);
	assert_int_equal(f.mode, FWD_FORWARD);
	assert_string_equal(f.tag, "vigil.t");
	assert_string_equal(f.chunk, "abc");
	assert_int_equal(f.size, 1);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.entries[0].time_ns, 1700000000000000005ull);
	v = map_get(&f.entries[0].record, "k");
	assert_int_equal(v->via.str.size, 1);
	assert_int_equal(v->via.str.ptr[0], 'v');
	fwd_frame_free(&f);

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	pk = fwd_batch_add(&b, 1700000000000000005ull);
	msgpack_pack_map(pk, 1);
	pstr(pk, "k");
	pstr(pk, "v");
	assert_int_equal(fwd_encode_packed(&sb, "vigil.t", &b, "abc", NULL), 0);
	assert_int_equal(sb.size, sizeof(KNOWN_PACKED));
	assert_memory_equal(sb.data, KNOWN_PACKED, sizeof(KNOWN_PACKED));
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

/* A stream holding several frames, read one after another. */
static void frame_stream(void **state)
{
	struct fwd_batch b;
	msgpack_sbuffer sb;
	struct fwd_frame f;
	struct fwd_err err;
	size_t off = 0, used;
	enum fwd_mode want[] = {FWD_COMPRESSED, FWD_HEARTBEAT, FWD_FORWARD, FWD_PACKED};

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	batch_fill(&b, 5);
	assert_int_equal(fwd_encode_compressed(&sb, "a", &b, "c1", NULL), 0);
	msgpack_sbuffer_write(&sb, "\xc0", 1);
	msgpack_sbuffer_write(&sb, (const char *)KNOWN_FORWARD, sizeof(KNOWN_FORWARD));
	assert_int_equal(fwd_encode_packed(&sb, "b", &b, "c2", NULL), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(fwd_decode(&f, sb.data + off, sb.size - off, NULL, &used, &err),
				 FWD_OK);
		assert_int_equal(f.mode, want[i]);
		off += used;
		fwd_frame_free(&f);
	}
	assert_int_equal(off, sb.size);
	assert_int_equal(fwd_decode(&f, sb.data + off, 0, NULL, &used, &err), FWD_MORE);
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

/* ---- incomplete is not invalid -------------------------------------------- */

/* Every proper prefix of a valid frame is "more", both to the decoder and
 * to a scanner fed one byte at a time, which then finds the exact end. */
static void prefixes(const void *buf, size_t len)
{
	struct fwd_scanner s;
	struct fwd_frame f;
	struct fwd_err err;
	size_t used;

	for (size_t k = 0; k < len; k++) {
		int r = fwd_decode(&f, buf, k, NULL, &used, &err);
		if (r != FWD_MORE)
			fail_msg("prefix of %zu/%zu bytes: %d (%s)", k, len, r, err.msg);
		assert_int_equal(used, 0);
	}
	fwd_scanner_init(&s, NULL);
	for (size_t k = 0; k < len; k++)
		assert_int_equal(fwd_scanner_feed(&s, buf, k, &used, &err), FWD_MORE);
	assert_int_equal(fwd_scanner_feed(&s, buf, len, &used, &err), FWD_OK);
	assert_int_equal(used, len);
}

static void truncated_everywhere(void **state)
{
	struct fwd_batch b;
	msgpack_sbuffer sb;

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	batch_fill(&b, 4);
	assert_int_equal(fwd_encode_compressed(&sb, "vigil.events", &b, "k", NULL), 0);
	prefixes(sb.data, sb.size);
	msgpack_sbuffer_clear(&sb);
	assert_int_equal(fwd_encode_packed(&sb, "vigil.events", &b, "k", NULL), 0);
	prefixes(sb.data, sb.size);
	prefixes(KNOWN_FORWARD, sizeof(KNOWN_FORWARD));
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

/* Inside a frame that arrived whole, a cut is damage, not "more". */
static void truncated_inside(void **state)
{
	struct fwd_batch b;
	msgpack_sbuffer sb;
	unsigned char *g;
	size_t n;

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	batch_fill(&b, 2);			/* two entries of the same size */
	for (size_t cut = 1; cut < b.buf.size / 2; cut += 7) {
		packed_frame(&sb, b.buf.data, b.buf.size - cut, false, NULL);
		must_refuse_cut(&sb);
	}
	g = gz(b.buf.data, b.buf.size, &n);
	for (size_t cut = 1; cut < n; cut += 5) {
		packed_frame(&sb, g, n - cut, false, "gzip");
		must_refuse_sb(&sb, "truncated");
	}
	free(g);
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

/* A prefix that is already wrong is refused at once, not waited on. */
static void bad_before_complete(void **state)
{
	struct fwd_limits lim;
	unsigned char hdr[] = {0x93, 0xa1, 't', 0xc6, 0x01, 0x00, 0x00, 0x01};	/* bin32 16 MiB+1 */

	must_refuse("\x93\xa1t\xc1", 4, NULL, "not msgpack");
	must_refuse(hdr, sizeof(hdr), NULL, "bin of 16777217 bytes at offset 3 is over the 16777216");
	hdr[4] = 0x00, hdr[5] = 0xff, hdr[6] = 0xff, hdr[7] = 0xff;	/* fits alone, not after 8 */
	must_refuse(hdr, sizeof(hdr), NULL, "ends past the 16777216-byte frame limit");
	fwd_limits_default(&lim);
	lim.frame_max = 64;
	hdr[4] = 0, hdr[5] = 0, hdr[6] = 0, hdr[7] = 100;
	must_refuse(hdr, sizeof(hdr), &lim, "over the 64-byte limit");
	/* a record str over str_max, seen from its header alone */
	must_refuse("\x93\xa1t\x91\x92\x00\x81\xa1k\xdb\x00\x20\x00\x01", 14, NULL,
		    "str of 2097153 bytes at offset 9 is over the 1048576-byte limit");
}

/* ---- hostile inputs ------------------------------------------------------- */

/* A gzip member of 1 GiB of zeros (about 1 MB), built in steps so the test
 * never holds the gigabyte. */
static unsigned char *zip_bomb(size_t *len)
{
	static const unsigned char zeros[1 << 16];
	size_t cap = 4 << 20;
	unsigned char *out = malloc(cap);
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_RLE), Z_OK);	/* runs only: quick */
	z.next_out = out;
	z.avail_out = (uInt)cap;
	for (int i = 0; i < (1 << 14); i++) {
		z.next_in = (Bytef *)(uintptr_t)zeros;
		z.avail_in = sizeof(zeros);
		assert_int_equal(deflate(&z, Z_NO_FLUSH), Z_OK);
		assert_int_equal(z.avail_in, 0);
	}
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*len = z.total_out;
	deflateEnd(&z);
	return out;
}

static void zip_bomb_refused(void **state)
{
	msgpack_sbuffer sb;
	struct fwd_limits lim;
	size_t n;
	unsigned char *bomb = zip_bomb(&n);

	assert_true(n < (2u << 20));
	msgpack_sbuffer_init(&sb);
	packed_frame(&sb, bomb, n, false, "gzip");
	must_refuse(sb.data, sb.size, NULL, "inflates past the 67108864-byte limit");
	fwd_limits_default(&lim);
	lim.inflate_max = 1000;
	must_refuse(sb.data, sb.size, &lim, "inflates past the 1000-byte limit");
	free(bomb);
	msgpack_sbuffer_destroy(&sb);
}

static void deep_nesting(void **state)
{
	unsigned char deep[1001];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct fwd_frame f;

	memset(deep, 0x91, 1000);		/* [[[[...nil...]]]] */
	deep[1000] = 0xc0;
	must_refuse(deep, sizeof(deep), NULL, "nesting deeper than 32 at offset 32");

	/* frame, entries, entry, record: 4 levels; 28 more reach the limit of
	 * 32 exactly, which msgpack-c (its own stack holds 32) must also take. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (int extra = 28; extra <= 29; extra++) {
		msgpack_sbuffer_clear(&sb);
		msgpack_pack_array(&pk, 2);
		pstr(&pk, "t");
		msgpack_pack_array(&pk, 1);
		msgpack_pack_array(&pk, 2);
		msgpack_pack_uint8(&pk, 1);
		msgpack_pack_map(&pk, 1);
		pstr(&pk, "k");
		for (int i = 0; i < extra; i++)
			msgpack_pack_array(&pk, 1);
		msgpack_pack_nil(&pk);
		if (extra == 28) {
			must_decode(&f, sb.data, sb.size, NULL);
			fwd_frame_free(&f);
		} else {
			must_refuse(sb.data, sb.size, NULL, "nesting deeper than 32");
		}
	}
	msgpack_sbuffer_destroy(&sb);
}

/* Counts that promise more elements than there are bytes to hold them. */
static void huge_counts(void **state)
{
	struct fwd_batch b;
	msgpack_sbuffer sb;

	must_refuse("\xdd\xff\xff\xff\xff\xc0\xc0", 7, NULL,
		    "array at offset 0: 4294967295 elements owed cannot fit in the 16777211 bytes");
	must_refuse("\x92\xa1t\xdf\xff\xff\xff\xff\xc0", 9, NULL,
		    "map at offset 3: 8589934590 elements owed");
	/* each count alone fits; together they do not */
	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_write(&b.buf, "\x92\x00\x81\xa1k\x92\x9f", 7);
	for (int i = 0; i < 15; i++)
		msgpack_sbuffer_write(&b.buf, "\xc0", 1);
	packed_frame(&sb, b.buf.data, b.buf.size, false, NULL);
	must_refuse_sb(&sb, "array at offset 6: 16 elements owed cannot fit in the 15 bytes left");
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

static void long_strings(void **state)
{
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	/* a top-level str claiming 2 GiB */
	must_refuse("\xdb\x7f\xff\xff\xff", 5, NULL, "str of 2147483647 bytes at offset 0");
	/* a str in a packed entry (a buffer that is all there is) past its end */
	packed_frame(&sb, "\x92\x00\x81\xa1k\xd9\x32xyz", 10, false, NULL);
	must_refuse_sb(&sb, "entries: entry 0: truncated");
	msgpack_sbuffer_destroy(&sb);
}

static void not_msgpack(void **state)
{
	static const char *const texts[] = {"hello world", "{\"a\": 1}", "GET / HTTP/1.1\r\n"};
	unsigned char junk[256];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct fwd_frame f;
	struct fwd_err err;
	size_t used;

	must_refuse("\xc1", 1, NULL, "byte 0xc1 at offset 0 is not msgpack");
	for (size_t i = 0; i < 3; i++)
		must_refuse(texts[i], strlen(texts[i]), NULL, "frame: want array, got ");
	must_refuse("\x81\xa1k\xc0", 4, NULL, "frame: want array, got map");
	/* random bytes: refused or waited on, never taken, never a crash */
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			junk[i] = (unsigned char)x;
		}
		junk[0] = (unsigned char)(0x92 + round % 3);	/* mostly a plausible start */
		err.msg[0] = 0;
		int r = fwd_decode(&f, junk, sizeof(junk), NULL, &used, &err);
		if (r == FWD_OK)
			fwd_frame_free(&f);
		else
			assert_true(err.msg[0] != 0);
	}
}

/* One hostile frame per case: [case builder, reason it must give]. */
struct bad_case {
	const char *why;
	void (*build)(msgpack_packer *pk);
};

static void entry_frame_open(msgpack_packer *pk)	/* ["t", [ one entry ]] */
{
	msgpack_pack_array(pk, 2);
	pstr(pk, "t");
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, 2);
}

static void opt_frame_open(msgpack_packer *pk)	/* ["t", 1, {}, option] */
{
	msgpack_pack_array(pk, 4);
	pstr(pk, "t");
	msgpack_pack_uint8(pk, 1);
	msgpack_pack_map(pk, 0);
}

static void b_tag_int(msgpack_packer *pk) { msgpack_pack_array(pk, 3); msgpack_pack_int(pk, 5); msgpack_pack_int(pk, 1); msgpack_pack_map(pk, 0); }
static void b_tag_empty(msgpack_packer *pk) { msgpack_pack_array(pk, 3); pstr(pk, ""); msgpack_pack_int(pk, 1); msgpack_pack_map(pk, 0); }
static void b_tag_nul(msgpack_packer *pk) { msgpack_pack_array(pk, 3); msgpack_pack_str_with_body(pk, "a\0b", 3); msgpack_pack_int(pk, 1); msgpack_pack_map(pk, 0); }
static void b_second_nil(msgpack_packer *pk) { msgpack_pack_array(pk, 3); pstr(pk, "t"); msgpack_pack_nil(pk); msgpack_pack_map(pk, 0); }
static void b_second_map(msgpack_packer *pk) { msgpack_pack_array(pk, 2); pstr(pk, "t"); msgpack_pack_map(pk, 0); }
static void b_second_float(msgpack_packer *pk) { msgpack_pack_array(pk, 3); pstr(pk, "t"); msgpack_pack_double(pk, 1.5); msgpack_pack_map(pk, 0); }
static void b_time_str(msgpack_packer *pk) { entry_frame_open(pk); pstr(pk, "now"); msgpack_pack_map(pk, 0); }
static void b_time_neg(msgpack_packer *pk) { msgpack_pack_array(pk, 3); pstr(pk, "t"); msgpack_pack_int(pk, -1); msgpack_pack_map(pk, 0); }
static void b_time_float(msgpack_packer *pk) { entry_frame_open(pk); msgpack_pack_float(pk, 1.0f); msgpack_pack_map(pk, 0); }
static void b_time_big(msgpack_packer *pk) { entry_frame_open(pk); msgpack_pack_uint64(pk, 1ull << 33); msgpack_pack_map(pk, 0); }
static void b_time_ext1(msgpack_packer *pk) { entry_frame_open(pk); msgpack_pack_ext_with_body(pk, "\0\0\0\0\0\0\0\0", 8, 1); msgpack_pack_map(pk, 0); }
static void b_time_ext4(msgpack_packer *pk) { entry_frame_open(pk); msgpack_pack_ext_with_body(pk, "\0\0\0\0", 4, 0); msgpack_pack_map(pk, 0); }
static void b_time_nsec(msgpack_packer *pk) { entry_frame_open(pk); msgpack_pack_ext_with_body(pk, "\0\0\0\1\x3b\x9a\xca\x00", 8, 0); msgpack_pack_map(pk, 0); }
static void b_record_array(msgpack_packer *pk) { entry_frame_open(pk); msgpack_pack_int(pk, 1); msgpack_pack_array(pk, 0); }
static void b_record_key_int(msgpack_packer *pk) { entry_frame_open(pk); msgpack_pack_int(pk, 1); msgpack_pack_map(pk, 1); msgpack_pack_int(pk, 1); msgpack_pack_int(pk, 2); }
static void b_entry_three(msgpack_packer *pk) { msgpack_pack_array(pk, 2); pstr(pk, "t"); msgpack_pack_array(pk, 1); msgpack_pack_array(pk, 3); msgpack_pack_int(pk, 1); msgpack_pack_map(pk, 0); msgpack_pack_nil(pk); }
static void b_entry_map(msgpack_packer *pk) { msgpack_pack_array(pk, 2); pstr(pk, "t"); msgpack_pack_array(pk, 1); msgpack_pack_map(pk, 0); }
static void b_five(msgpack_packer *pk) { msgpack_pack_array(pk, 5); pstr(pk, "t"); msgpack_pack_int(pk, 1); msgpack_pack_map(pk, 0); msgpack_pack_map(pk, 0); msgpack_pack_nil(pk); }
static void b_forward_four(msgpack_packer *pk) { msgpack_pack_array(pk, 4); pstr(pk, "t"); msgpack_pack_array(pk, 0); msgpack_pack_map(pk, 0); msgpack_pack_nil(pk); }
static void b_message_two(msgpack_packer *pk) { msgpack_pack_array(pk, 2); pstr(pk, "t"); msgpack_pack_int(pk, 1); }
static void b_one(msgpack_packer *pk) { msgpack_pack_array(pk, 1); pstr(pk, "t"); }
static void b_opt_array(msgpack_packer *pk) { msgpack_pack_array(pk, 4); pstr(pk, "t"); msgpack_pack_int(pk, 1); msgpack_pack_map(pk, 0); msgpack_pack_array(pk, 0); }
static void b_opt_key_int(msgpack_packer *pk) { opt_frame_open(pk); msgpack_pack_map(pk, 1); msgpack_pack_int(pk, 1); msgpack_pack_int(pk, 1); }
static void b_opt_size_str(msgpack_packer *pk) { opt_frame_open(pk); msgpack_pack_map(pk, 1); pstr(pk, "size"); pstr(pk, "3"); }
static void b_opt_size_neg(msgpack_packer *pk) { opt_frame_open(pk); msgpack_pack_map(pk, 1); pstr(pk, "size"); msgpack_pack_int(pk, -3); }
static void b_opt_chunk_int(msgpack_packer *pk) { opt_frame_open(pk); msgpack_pack_map(pk, 1); pstr(pk, "chunk"); msgpack_pack_int(pk, 3); }
static void b_opt_chunk_long(msgpack_packer *pk) { char c[200]; memset(c, 'x', 199); c[199] = 0; opt_frame_open(pk); msgpack_pack_map(pk, 1); pstr(pk, "chunk"); pstr(pk, c); }
static void b_opt_chunk_empty(msgpack_packer *pk) { opt_frame_open(pk); msgpack_pack_map(pk, 1); pstr(pk, "chunk"); pstr(pk, ""); }
static void b_opt_twice(msgpack_packer *pk) { opt_frame_open(pk); msgpack_pack_map(pk, 2); pstr(pk, "chunk"); pstr(pk, "a"); pstr(pk, "chunk"); pstr(pk, "b"); }
static void b_opt_comp_int(msgpack_packer *pk) { opt_frame_open(pk); msgpack_pack_map(pk, 1); pstr(pk, "compressed"); msgpack_pack_int(pk, 1); }
static void b_opt_comp_zstd(msgpack_packer *pk) { msgpack_pack_array(pk, 3); pstr(pk, "t"); msgpack_pack_bin(pk, 0); msgpack_pack_map(pk, 1); pstr(pk, "compressed"); pstr(pk, "zstd"); }
static void b_opt_gzip_forward(msgpack_packer *pk) { msgpack_pack_array(pk, 3); pstr(pk, "t"); msgpack_pack_array(pk, 0); msgpack_pack_map(pk, 1); pstr(pk, "compressed"); pstr(pk, "gzip"); }
static void b_opt_gzip_message(msgpack_packer *pk) { opt_frame_open(pk); msgpack_pack_map(pk, 1); pstr(pk, "compressed"); pstr(pk, "gzip"); }
static void b_blob_not_entry(msgpack_packer *pk) { msgpack_pack_array(pk, 2); pstr(pk, "t"); msgpack_pack_bin_with_body(pk, "\x81\xa1k\x01", 4); }
static void b_blob_not_gzip(msgpack_packer *pk) { msgpack_pack_array(pk, 3); pstr(pk, "t"); msgpack_pack_bin_with_body(pk, "\x92\x01\x80", 3); msgpack_pack_map(pk, 1); pstr(pk, "compressed"); pstr(pk, "gzip"); }
static void b_blob_empty_gzip(msgpack_packer *pk) { msgpack_pack_array(pk, 3); pstr(pk, "t"); msgpack_pack_bin(pk, 0); msgpack_pack_map(pk, 1); pstr(pk, "compressed"); pstr(pk, "gzip"); }

static const struct bad_case BAD[] = {
	{"tag: want str, got int", b_tag_int},
	{"tag: 0 bytes", b_tag_empty},
	{"tag: contains a NUL", b_tag_nul},
	{"second element is nil", b_second_nil},
	{"second element is map", b_second_map},
	{"second element is float", b_second_float},
	{"entry 0: time: want int or EventTime, got str", b_time_str},
	{"time: -1 is before 1970", b_time_neg},
	{"entry 0: time: want int or EventTime, got float", b_time_float},
	{"time: 8589934592 seconds is past 2106", b_time_big},
	{"time: ext type 1 of 8 bytes is not EventTime", b_time_ext1},
	{"time: ext type 0 of 4 bytes is not EventTime", b_time_ext4},
	{"nanoseconds 1000000000 is not below", b_time_nsec},
	{"entry 0: record: want map, got array", b_record_array},
	{"record: key 0 is int, not str", b_record_key_int},
	{"entry 0: want [time, record], got an array of 3", b_entry_three},
	{"entry 0: want [time, record], got map", b_entry_map},
	{"frame: want 2 to 4 elements, got 5", b_five},
	{"an entries mode takes 2 or 3 elements, got 4", b_forward_four},
	{"Message mode takes 3 or 4 elements, got 2", b_message_two},
	{"frame: want 2 to 4 elements, got 1", b_one},
	{"option: want map, got array", b_opt_array},
	{"option: key 0 is int, not str", b_opt_key_int},
	{"option size: want int >= 0, got str", b_opt_size_str},
	{"option size: want int >= 0, got negative int", b_opt_size_neg},
	{"option chunk: want str, got int", b_opt_chunk_int},
	{"option chunk: 199 bytes, want 1 to 128", b_opt_chunk_long},
	{"option chunk: 0 bytes", b_opt_chunk_empty},
	{"option: key \"chunk\" given twice", b_opt_twice},
	{"option compressed: want str, got int", b_opt_comp_int},
	{"option compressed: \"zstd\" is not supported", b_opt_comp_zstd},
	{"compressed=gzip, but entries are not a bin", b_opt_gzip_forward},
	{"compressed=gzip, but entries are not a bin", b_opt_gzip_message},
	{"entries: entry 0: want [time, record], got map", b_blob_not_entry},
	{"entries: gunzip: member 1: incorrect header check", b_blob_not_gzip},
	{"entries: gunzip: no data", b_blob_empty_gzip},
};

static void wrong_types(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		BAD[i].build(&pk);
		must_refuse_sb(&sb, BAD[i].why);
	}
	msgpack_sbuffer_destroy(&sb);
}

static void gzip_trailing_garbage(void **state)
{
	struct fwd_batch b;
	msgpack_sbuffer sb, blob;
	unsigned char *g;
	size_t n;

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&blob);
	batch_fill(&b, 2);
	g = gz(b.buf.data, b.buf.size, &n);
	msgpack_sbuffer_write(&blob, (const char *)g, n);
	msgpack_sbuffer_write(&blob, "garbage!", 8);
	packed_frame(&sb, blob.data, blob.size, false, "gzip");
	must_refuse_sb(&sb, "trailing bytes after member 1 are not gzip");
	msgpack_sbuffer_clear(&blob);
	msgpack_sbuffer_write(&blob, (const char *)g, n);
	msgpack_sbuffer_write(&blob, "\0\0\0\0", 4);	/* padding some writers leave */
	packed_frame(&sb, blob.data, blob.size, false, "gzip");
	must_refuse_sb(&sb, "trailing bytes after member 1 are not gzip");
	/* the gzip is fine, but what it holds is not entries */
	free(g);
	g = gz("not msgpack entries", 19, &n);
	packed_frame(&sb, g, n, false, "gzip");
	must_refuse_sb(&sb, "entries: entry 0: want [time, record], got int");
	free(g);
	msgpack_sbuffer_destroy(&blob);
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

static void limits_enforced(void **state)
{
	struct fwd_limits lim;
	struct fwd_batch b;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct fwd_frame f;

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	batch_fill(&b, 3);
	fwd_limits_default(&lim);
	lim.entries_max = 2;
	assert_int_equal(fwd_encode_compressed(&sb, "t", &b, NULL, NULL), 0);
	must_refuse(sb.data, sb.size, &lim, "entries: more than 2 entries");
	msgpack_sbuffer_clear(&sb);

	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);		/* Forward mode: refused from its header */
	pstr(&pk, "t");
	msgpack_pack_array(&pk, 3);
	for (int i = 0; i < 3; i++) {
		msgpack_pack_array(&pk, 2);
		msgpack_pack_int(&pk, 1);
		pack_record(&pk, i);
	}
	must_refuse(sb.data, sb.size, &lim, "entries: 3, more than 2");
	must_decode(&f, sb.data, sb.size, NULL);
	fwd_frame_free(&f);

	fwd_limits_default(&lim);
	lim.objects_max = 20;			/* the frame has well over 20 */
	must_refuse(sb.data, sb.size, &lim, "more than 20 msgpack objects");
	fwd_limits_default(&lim);
	lim.str_max = 5;
	must_refuse(sb.data, sb.size, &lim, "str of 9 bytes");	/* "class_uid" */
	/* limits above the defaults are cut to them */
	fwd_limits_default(&lim);
	lim.depth_max = 1000;
	lim.frame_max = SIZE_MAX;
	must_refuse("\xdd\xff\xff\xff\xff\xc0", 6, &lim, "16777211 bytes");
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

/* ---- the encoder refuses what a receiver would ---------------------------- */

static void encoder_checks(void **state)
{
	struct fwd_batch b;
	msgpack_sbuffer sb;
	struct fwd_err err;
	msgpack_packer *pk;
	char longtag[FWD_TAG_MAX + 2];

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	assert_null(fwd_batch_add(&b, (UINT32_MAX + 1ull) * 1000000000ull));
	assert_int_equal(b.buf.size, 0);

	pk = fwd_batch_add(&b, T0);
	msgpack_pack_int(pk, 5);		/* not a map */
	assert_int_equal(fwd_encode_compressed(&sb, "t", &b, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "batch: entry 0: record: want map, got int"));

	fwd_batch_clear(&b);
	pk = fwd_batch_add(&b, T0);
	pack_record(pk, 1);
	pack_record(pk, 2);			/* one record too many */
	assert_int_equal(fwd_encode_packed(&sb, "t", &b, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "batch: entry 1: want [time, record], got map"));

	fwd_batch_clear(&b);
	fwd_batch_add(&b, T0);			/* none at all */
	assert_int_equal(fwd_encode_packed(&sb, "t", &b, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "batch: entry 0: ext at offset 1: 1 elements owed "
				    "cannot fit in the 0 bytes left"));

	fwd_batch_clear(&b);
	batch_fill(&b, 1);
	assert_int_equal(fwd_encode_packed(&sb, "", &b, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "tag: 0 bytes"));
	memset(longtag, 'a', sizeof(longtag) - 1);
	longtag[sizeof(longtag) - 1] = 0;
	assert_int_equal(fwd_encode_packed(&sb, longtag, &b, NULL, &err), -1);
	assert_int_equal(fwd_encode_packed(&sb, "t", &b, "", &err), -1);
	assert_non_null(strstr(err.msg, "chunk: 0 bytes"));
	assert_int_equal(sb.size, 0);		/* nothing half-written */
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_compressed),
		cmocka_unit_test(roundtrip_packed),
		cmocka_unit_test(raw_bytes),
		cmocka_unit_test(message_mode),
		cmocka_unit_test(forward_mode),
		cmocka_unit_test(packed_variants),
		cmocka_unit_test(known_bytes),
		cmocka_unit_test(frame_stream),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(truncated_inside),
		cmocka_unit_test(bad_before_complete),
		cmocka_unit_test(zip_bomb_refused),
		cmocka_unit_test(deep_nesting),
		cmocka_unit_test(huge_counts),
		cmocka_unit_test(long_strings),
		cmocka_unit_test(not_msgpack),
		cmocka_unit_test(wrong_types),
		cmocka_unit_test(gzip_trailing_garbage),
		cmocka_unit_test(limits_enforced),
		cmocka_unit_test(encoder_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
