/*
 * fwd_gzip.c: the gzip of CompressedPackedForward. Inflating is where a
 * few bytes become many (a megabyte of deflate can be a gigabyte of
 * zeros), so output grows in steps and stops one byte past the limit.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fwd_int.h"

#define GZIP_WBITS (MAX_WBITS + 16)	/* gzip wrapper only: no zlib, no raw */

int fwd_gzip(const void *src, size_t n, unsigned char **out, size_t *outlen,
	     struct fwd_err *err)
{
	z_stream z;
	uLong cap;
	int r;

	*out = NULL;
	*outlen = 0;
	if (n > UINT_MAX)
		return fwd_errf(err, "gzip: %zu bytes is more than zlib takes at once", n);
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return fwd_errf(err, "gzip: deflateInit2 failed");
	cap = deflateBound(&z, (uLong)n);
	*out = malloc(cap ? cap : 1);
	if (!*out) {
		deflateEnd(&z);
		return fwd_errf(err, "gzip: out of memory for %lu bytes", cap);
	}
	z.next_in = (Bytef *)(uintptr_t)src;	/* zlib's API is not const */
	z.avail_in = (uInt)n;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	r = deflate(&z, Z_FINISH);		/* deflateBound makes one call enough */
	*outlen = z.total_out;
	deflateEnd(&z);
	if (r != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return fwd_errf(err, "gzip: deflate returned %d", r);
	}
	return FWD_OK;
}

struct sink {
	unsigned char *buf;
	size_t got, cap, max;
};

/* Room for more output; a full buffer at max + 1 means the limit is hit. */
static int sink_grow(struct sink *k, struct fwd_err *err)
{
	size_t cap = k->cap ? k->cap * 2 : 64 * 1024;
	unsigned char *nb;

	if (cap > k->max + 1)
		cap = k->max + 1;
	nb = realloc(k->buf, cap);
	if (!nb)
		return fwd_errf(err, "gunzip: out of memory for %zu bytes", cap);
	k->buf = nb;
	k->cap = cap;
	return FWD_OK;
}

enum { STEP_BAD = -1, STEP_ON, STEP_END };

/* One inflate step into the sink's free room: STEP_END at a member's end. */
static int inflate_step(z_stream *z, struct sink *k, size_t member, struct fwd_err *err)
{
	size_t room;
	int r;

	if (k->got == k->cap && sink_grow(k, err) != FWD_OK)
		return STEP_BAD;
	room = k->cap - k->got;
	if (room > UINT_MAX)
		room = UINT_MAX;
	z->next_out = k->buf + k->got;
	z->avail_out = (uInt)room;
	r = inflate(z, Z_NO_FLUSH);
	k->got += room - z->avail_out;
	if (k->got > k->max) {
		fwd_errf(err, "gunzip: inflates past the %zu-byte limit", k->max);
		return STEP_BAD;
	}
	if (r == Z_STREAM_END)
		return STEP_END;
	if (r == Z_OK || (r == Z_BUF_ERROR && z->avail_out == 0))
		return STEP_ON;			/* Z_BUF_ERROR here only wanted room */
	if (r == Z_BUF_ERROR)
		fwd_errf(err, "gunzip: member %zu is truncated", member);
	else if (member > 1 && z->total_in < 10)	/* inside what would be a gzip header */
		fwd_errf(err, "gunzip: trailing bytes after member %zu are not gzip (%s)",
			 member - 1, z->msg ? z->msg : "bad data");
	else
		fwd_errf(err, "gunzip: member %zu: %s", member, z->msg ? z->msg : "bad data");
	return STEP_BAD;
}

int fwd_gunzip(const void *src, size_t n, size_t max, unsigned char **out, size_t *outlen,
	       struct fwd_err *err)
{
	struct sink k = {.max = max};
	size_t member = 1;
	z_stream z;
	int r;

	*out = NULL;
	*outlen = 0;
	if (n == 0)
		return fwd_errf(err, "gunzip: no data");
	if (n > UINT_MAX)
		return fwd_errf(err, "gunzip: %zu bytes is more than zlib takes at once", n);
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, GZIP_WBITS) != Z_OK)
		return fwd_errf(err, "gunzip: inflateInit2 failed");
	z.next_in = (Bytef *)(uintptr_t)src;
	z.avail_in = (uInt)n;
	/* The spec lets entries be several gzip members end to end. */
	while ((r = inflate_step(&z, &k, member, err)) != STEP_BAD) {
		if (r != STEP_END)
			continue;
		if (z.avail_in == 0)
			break;
		member++;
		inflateReset(&z);
	}
	inflateEnd(&z);
	if (r == STEP_BAD) {
		free(k.buf);
		return FWD_BAD;
	}
	*out = k.buf;
	*outlen = k.got;
	return FWD_OK;
}
