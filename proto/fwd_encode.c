/*
 * fwd_encode.c: batches of [EventTime, record] entries and the
 * PackedForward / CompressedPackedForward frames that carry them.
 */
#include <stdlib.h>
#include <string.h>

#include "fwd_int.h"

void fwd_batch_init(struct fwd_batch *b)
{
	msgpack_sbuffer_init(&b->buf);
	msgpack_packer_init(&b->pk, &b->buf, msgpack_sbuffer_write);
	b->n = 0;
}

void fwd_batch_clear(struct fwd_batch *b)
{
	msgpack_sbuffer_clear(&b->buf);
	b->n = 0;
}

void fwd_batch_free(struct fwd_batch *b)
{
	msgpack_sbuffer_destroy(&b->buf);
	memset(b, 0, sizeof(*b));
}

int fwd_pack_time(msgpack_packer *pk, uint64_t time_ns)
{
	uint64_t sec = time_ns / FWD_NS;
	uint32_t nsec = (uint32_t)(time_ns % FWD_NS);
	unsigned char t[8];

	if (sec > UINT32_MAX)
		return -1;
	for (int i = 0; i < 4; i++) {
		t[i] = (unsigned char)(sec >> (24 - 8 * i));
		t[4 + i] = (unsigned char)(nsec >> (24 - 8 * i));
	}
	return msgpack_pack_ext_with_body(pk, t, sizeof(t), 0) ? -1 : 0;	/* fixext8 */
}

msgpack_packer *fwd_batch_add(struct fwd_batch *b, uint64_t time_ns)
{
	size_t mark = b->buf.size;

	if (time_ns / FWD_NS > UINT32_MAX)
		return NULL;
	if (msgpack_pack_array(&b->pk, 2) || fwd_pack_time(&b->pk, time_ns)) {
		b->buf.size = mark;		/* out of memory: no half entry stays */
		return NULL;
	}
	b->n++;
	return &b->pk;
}

/* entries_walk's step for a batch: each entry is what a receiver takes. */
static int batch_entry(void *u, const unsigned char *p, size_t off, size_t end,
		       struct fwd_err *err)
{
	msgpack_zone *z = u;
	struct fwd_entry e;
	msgpack_object o;
	int r;

	r = obj_unpack(z, p, off, end, &o, err);
	if (r == FWD_OK)
		r = entry_parse(&o, &e, err);
	msgpack_zone_clear(z);
	return r;
}

/* The caller packs records by hand, so a record too many, too few or not a
 * map would go out unnoticed: the batch is checked as the decoder will. */
static int batch_check(const struct fwd_batch *b, struct fwd_err *err)
{
	struct fwd_limits lim;
	msgpack_zone z;
	uint64_t objects = 0;
	uint32_t n;
	int r;

	fwd_limits_default(&lim);
	if (b->buf.size > lim.inflate_max)
		return fwd_errf(err, "batch: %zu bytes, more than a receiver inflates (%zu)",
				b->buf.size, lim.inflate_max);
	if (!msgpack_zone_init(&z, 16 * 1024))
		return fwd_errf(err, "batch: out of memory");
	r = entries_walk((const unsigned char *)b->buf.data, b->buf.size, &lim, &objects, &n,
			 batch_entry, &z, err);
	msgpack_zone_destroy(&z);
	if (r != FWD_OK)
		return fwd_errpre(err, "batch: ");
	if (n != b->n)
		return fwd_errf(err, "batch: %u entries added but %u packed: a record "
				"must be exactly one map", b->n, n);
	return FWD_OK;
}

static int names_check(const char *tag, const char *chunk, struct fwd_err *err)
{
	size_t t = tag ? strlen(tag) : 0;

	if (t == 0 || t > FWD_TAG_MAX)
		return fwd_errf(err, "tag: %zu bytes, want 1 to %d", t, FWD_TAG_MAX);
	if (chunk && (!*chunk || strlen(chunk) > FWD_CHUNK_MAX))
		return fwd_errf(err, "chunk: %zu bytes, want 1 to %d", strlen(chunk),
				FWD_CHUNK_MAX);
	return FWD_OK;
}

static int pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

/* [tag, bin, {"size": n, "chunk": id(, "compressed": "gzip")}] */
static int frame_pack(msgpack_sbuffer *out, const char *tag, const void *body, size_t len,
		      uint32_t n, const char *chunk, bool gzip)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	return msgpack_pack_array(&pk, 3) || pack_cstr(&pk, tag) ||
	       msgpack_pack_bin_with_body(&pk, body, len) ||
	       msgpack_pack_map(&pk, 1 + (chunk != NULL) + gzip) ||
	       pack_cstr(&pk, "size") || msgpack_pack_uint32(&pk, n) ||
	       (chunk && (pack_cstr(&pk, "chunk") || pack_cstr(&pk, chunk))) ||
	       (gzip && (pack_cstr(&pk, "compressed") || pack_cstr(&pk, "gzip")));
}

static int encode(msgpack_sbuffer *out, const char *tag, const struct fwd_batch *b,
		  const char *chunk, bool gzip, struct fwd_err *err)
{
	const void *body = b->buf.data;
	size_t len = b->buf.size, mark = out->size;
	unsigned char *z = NULL;
	int r;

	if (names_check(tag, chunk, err) != FWD_OK || batch_check(b, err) != FWD_OK)
		return -1;
	if (gzip) {
		if (fwd_gzip(b->buf.data, b->buf.size, &z, &len, err) != FWD_OK)
			return -1;
		body = z;
	}
	/* Around the body: tag, chunk, and under 64 bytes of headers and keys. */
	if (len + strlen(tag) + FWD_CHUNK_MAX + 64 > FWD_FRAME_MAX) {
		free(z);
		return fwd_errf(err, "batch: %zu bytes of entries, more than a frame takes", len);
	}
	r = frame_pack(out, tag, body, len, b->n, chunk, gzip);
	free(z);
	if (r) {
		out->size = mark;
		return fwd_errf(err, "out of memory for a %zu-byte frame", len);
	}
	return 0;
}

int fwd_encode_compressed(msgpack_sbuffer *out, const char *tag, const struct fwd_batch *b,
			  const char *chunk, struct fwd_err *err)
{
	return encode(out, tag, b, chunk, true, err);
}

int fwd_encode_packed(msgpack_sbuffer *out, const char *tag, const struct fwd_batch *b,
		      const char *chunk, struct fwd_err *err)
{
	return encode(out, tag, b, chunk, false, err);
}
