/*
 * fwd_scan.c: the bounded walker every frame passes before msgpack-c sees
 * it. It validates, it does not decode: it reads headers, checks each
 * length and count against the limits and against the bytes that could
 * still hold it, and finds where one object ends, so a stream reader knows
 * a frame is whole without allocating anything.
 *
 * Why counts against bytes: msgpack-c allocates an array's or map's slots
 * when it reads the header, so "4 billion elements" in five bytes would
 * cost gigabytes. Every element takes at least one byte, so the elements
 * all open containers still owe can never outnumber the bytes left; that
 * one sum, checked after every element, bounds the whole tree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fwd_int.h"

int fwd_errf(struct fwd_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return FWD_BAD;
}

int fwd_errpre(struct fwd_err *err, const char *fmt, ...)
{
	char pre[96];
	size_t p, o;
	va_list ap;

	if (!err)
		return FWD_BAD;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	p = strlen(pre);
	o = strnlen(err->msg, sizeof(err->msg) - 1);
	if (p + o > sizeof(err->msg) - 1)
		o = sizeof(err->msg) - 1 - p;	/* the message's tail gives way */
	memmove(err->msg + p, err->msg, o);
	memcpy(err->msg, pre, p);
	err->msg[p + o] = 0;
	return FWD_BAD;
}

void fwd_limits_default(struct fwd_limits *l)
{
	l->frame_max = FWD_FRAME_MAX;
	l->inflate_max = FWD_INFLATE_MAX;
	l->str_max = FWD_STR_MAX;
	l->depth_max = FWD_DEPTH_MAX;
	l->entries_max = FWD_ENTRIES_MAX;
	l->objects_max = FWD_OBJECTS_MAX;
}

#define CUT(field) out->field = in->field < out->field ? in->field : out->field

/* The defaults are ceilings: FWD_DEPTH_MAX is also msgpack-c's own stack. */
void limits_clamp(struct fwd_limits *out, const struct fwd_limits *in)
{
	fwd_limits_default(out);
	if (!in)
		return;
	CUT(frame_max);
	CUT(inflate_max);
	CUT(str_max);
	CUT(depth_max);
	CUT(entries_max);
	CUT(objects_max);
}

const char *mp_kind_name(enum mp_kind k)
{
	static const char *const names[] = {"nil", "bool", "int", "float", "str",
					    "bin", "ext", "array", "map"};

	return k <= MP_MAP ? names[k] : "?";
}

const char *mp_obj_name(msgpack_object_type t)
{
	switch (t) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER: return "int";
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "negative int";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "float";
	case MSGPACK_OBJECT_STR: return "str";
	case MSGPACK_OBJECT_ARRAY: return "array";
	case MSGPACK_OBJECT_MAP: return "map";
	case MSGPACK_OBJECT_BIN: return "bin";
	case MSGPACK_OBJECT_EXT: return "ext";
	}
	return "?";
}

static uint32_t be(const unsigned char *p, unsigned n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

/* A header whose length or count follows the type byte in w bytes. */
static void sized(struct mp_head *h, enum mp_kind kind, unsigned w)
{
	h->kind = kind;
	h->hdr = 1 + w;
}

/* The type byte alone tells the header's size; this reads the rest. */
static void head_fill(const unsigned char *p, struct mp_head *h)
{
	unsigned char b = p[0];
	uint32_t w = h->hdr - 1;

	if (b >= 0xc4 && b <= 0xc6)
		h->len = be(p + 1, w);
	else if (b >= 0xc7 && b <= 0xc9) {
		h->len = be(p + 1, w - 1);
		h->ext_type = (int8_t)p[h->hdr - 1];
	} else if (b >= 0xd4 && b <= 0xd8)
		h->ext_type = (int8_t)p[1];
	else if (b >= 0xd9 && b <= 0xdb)
		h->len = be(p + 1, w);
	else if (b >= 0xdc && b <= 0xdf)
		h->count = be(p + 1, w);
}

int mp_head(const unsigned char *p, size_t avail, struct mp_head *h)
{
	unsigned char b;

	if (avail == 0)
		return 0;
	b = p[0];
	memset(h, 0, sizeof(*h));
	h->hdr = 1;
	if (b <= 0x7f || b >= 0xe0)
		h->kind = MP_INT;
	else if (b <= 0x8f)
		h->kind = MP_MAP, h->count = b & 0x0f;
	else if (b <= 0x9f)
		h->kind = MP_ARRAY, h->count = b & 0x0f;
	else if (b <= 0xbf)
		h->kind = MP_STR, h->len = b & 0x1f;
	else if (b == 0xc0)
		h->kind = MP_NIL;
	else if (b == 0xc1)
		return -1;
	else if (b <= 0xc3)
		h->kind = MP_BOOL;
	else if (b <= 0xc6)
		sized(h, MP_BIN, 1u << (b - 0xc4));
	else if (b <= 0xc9)
		sized(h, MP_EXT, (1u << (b - 0xc7)) + 1);	/* length, then type */
	else if (b <= 0xcb)
		sized(h, MP_FLOAT, b == 0xca ? 4 : 8);
	else if (b <= 0xcf)
		sized(h, MP_INT, 1u << (b - 0xcc));
	else if (b <= 0xd3)
		sized(h, MP_INT, 1u << (b - 0xd0));
	else if (b <= 0xd8) {
		sized(h, MP_EXT, 1);			/* fixext: type, then 1..16 bytes */
		h->len = 1u << (b - 0xd4);
	} else if (b <= 0xdb)
		sized(h, MP_STR, 1u << (b - 0xd9));
	else if (b <= 0xdd)
		sized(h, MP_ARRAY, b == 0xdc ? 2 : 4);
	else
		sized(h, MP_MAP, b == 0xde ? 2 : 4);
	if (avail < h->hdr)
		return 0;
	head_fill(p, h);
	return 1;
}

void scan_init(struct fwd_scanner *s, const struct fwd_limits *lim, unsigned flags,
	       uint32_t base, size_t off)
{
	memset(s, 0, sizeof(*s));
	s->lim = *lim;
	s->flags = flags;
	s->base = base;
	s->start = s->off = off;
}

void fwd_scanner_init(struct fwd_scanner *s, const struct fwd_limits *lim)
{
	struct fwd_limits l;

	limits_clamp(&l, lim);
	scan_init(s, &l, SCAN_TOP_BLOBS, 0, 0);
}

int fwd_scanner_feed(struct fwd_scanner *s, const void *buf, size_t len, size_t *used,
		     struct fwd_err *err)
{
	int r = scan_run(s, buf, len, err);

	*used = r == FWD_OK ? s->off - s->start : 0;
	return r;
}

/* What an element's payload may weigh: the entries blob of a packed frame
 * sits right below the top and may take the whole frame. */
static size_t blob_max(const struct fwd_scanner *s)
{
	if (s->depth == 1 && (s->flags & SCAN_TOP_BLOBS))
		return s->lim.frame_max;
	return s->lim.str_max;
}

/* Checks one element's header against the limits; FWD_OK to go on. */
static int element_limits(const struct fwd_scanner *s, const struct mp_head *h, size_t at,
			  struct fwd_err *err)
{
	size_t rel = at - s->start;

	if (h->kind >= MP_STR && h->kind <= MP_EXT && h->len > blob_max(s))
		return fwd_errf(err, "%s of %u bytes at offset %zu is over the %zu-byte limit",
				mp_kind_name(h->kind), h->len, rel, blob_max(s));
	if ((uint64_t)rel + h->hdr + h->len > s->lim.frame_max)
		return fwd_errf(err, "%s at offset %zu ends past the %zu-byte frame limit",
				mp_kind_name(h->kind), rel, s->lim.frame_max);
	if ((h->kind == MP_ARRAY || h->kind == MP_MAP) && s->base + s->depth >= s->lim.depth_max)
		return fwd_errf(err, "nesting deeper than %u at offset %zu", s->lim.depth_max, rel);
	return FWD_OK;
}

/* Out of bytes at `at`: a stream waits for more, a whole buffer is cut. */
static int short_of(const struct fwd_scanner *s, size_t at, size_t len, struct fwd_err *err)
{
	if (s->flags & SCAN_COMPLETE)
		return fwd_errf(err, "truncated: %zu bytes end inside the element at offset %zu",
				len - s->start, at - s->start);
	fwd_errf(err, "incomplete: %zu bytes so far", len - s->start);
	return FWD_MORE;
}

/* Takes the element at s->off (header h, wholly in the buffer) into the
 * open containers; bound is where the bytes, or the frame limit, end. */
static int element_take(struct fwd_scanner *s, const struct mp_head *h, size_t bound,
			struct fwd_err *err)
{
	size_t at = s->off;
	uint64_t n = h->kind == MP_MAP ? 2ull * h->count : h->kind == MP_ARRAY ? h->count : 0;

	if (++s->objects > s->lim.objects_max)
		return fwd_errf(err, "more than %u msgpack objects", s->lim.objects_max);
	s->off += h->hdr + h->len;
	if (s->depth) {
		s->left[s->depth - 1]--;
		s->pending--;
	}
	if (n) {
		s->left[s->depth++] = n;
		s->pending += n;
	}
	if (s->pending > bound - s->off)
		return fwd_errf(err, "%s at offset %zu: %llu elements owed cannot fit in the "
				"%zu bytes %s", mp_kind_name(h->kind), at - s->start,
				(unsigned long long)s->pending, bound - s->off,
				(s->flags & SCAN_COMPLETE) ? "left" : "the frame limit leaves");
	while (s->depth && s->left[s->depth - 1] == 0)
		s->depth--;
	return FWD_OK;
}

int scan_run(struct fwd_scanner *s, const unsigned char *buf, size_t len, struct fwd_err *err)
{
	size_t bound = s->start + s->lim.frame_max;

	if (len < s->off)
		return fwd_errf(err, "scanner fed %zu bytes after %zu", len, s->off);
	if ((s->flags & SCAN_COMPLETE) && len < bound)
		bound = len;
	for (;;) {
		struct mp_head h;
		size_t at = s->off;
		int r = mp_head(buf + at, len - at, &h);

		if (r < 0)
			return fwd_errf(err, "byte 0xc1 at offset %zu is not msgpack", at - s->start);
		if (r > 0 && element_limits(s, &h, at, err) != FWD_OK)
			return FWD_BAD;
		if (r == 0 || (uint64_t)h.hdr + h.len > len - at)
			return short_of(s, at, len, err);
		if (element_take(s, &h, bound, err) != FWD_OK)
			return FWD_BAD;
		if (s->depth == 0)
			return FWD_OK;
	}
}

int entries_walk(const unsigned char *p, size_t len, const struct fwd_limits *lim,
		 uint64_t *objects, uint32_t *n, entry_fn fn, void *u, struct fwd_err *err)
{
	struct fwd_scanner s;
	size_t off = 0;

	*n = 0;
	while (off < len) {
		if (*n >= lim->entries_max)
			return fwd_errf(err, "more than %u entries", lim->entries_max);
		/* Nesting counts as in Forward mode: frame array, entries array. */
		scan_init(&s, lim, SCAN_COMPLETE, 2, off);
		s.objects = *objects;
		if (scan_run(&s, p, len, err) != FWD_OK)
			return fwd_errpre(err, "entry %u: ", *n);
		if (fn && fn(u, p, off, s.off, err) != FWD_OK)
			return fwd_errpre(err, "entry %u: ", *n);
		*objects = s.objects;
		off = s.off;
		(*n)++;
	}
	return FWD_OK;
}
