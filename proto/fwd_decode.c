/*
 * fwd_decode.c: one Forward frame from untrusted bytes, in any of the four
 * modes. The scanner bounds the bytes first; only then does msgpack-c build
 * objects (in one zone the frame owns), and every entry is checked before
 * the frame is handed over, so a caller never sees half a frame.
 */
#include <stdlib.h>
#include <string.h>

#include "fwd_int.h"

const char *fwd_mode_name(enum fwd_mode m)
{
	static const char *const names[] = {"heartbeat", "Message", "Forward", "PackedForward",
					    "CompressedPackedForward"};

	return m <= FWD_COMPRESSED ? names[m] : "?";
}

static uint32_t be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

int time_parse(const msgpack_object *o, uint64_t *ns, struct fwd_err *err)
{
	uint32_t nsec;

	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		/* The same range EventTime's 32-bit seconds can carry. */
		if (o->via.u64 > UINT32_MAX)
			return fwd_errf(err, "time: %llu seconds is past 2106",
					(unsigned long long)o->via.u64);
		*ns = o->via.u64 * FWD_NS;
		return FWD_OK;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return fwd_errf(err, "time: %lld is before 1970", (long long)o->via.i64);
	if (o->type != MSGPACK_OBJECT_EXT)
		return fwd_errf(err, "time: want int or EventTime, got %s", mp_obj_name(o->type));
	if (o->via.ext.type != 0 || o->via.ext.size != 8)
		return fwd_errf(err, "time: ext type %d of %u bytes is not EventTime (type 0, 8 bytes)",
				o->via.ext.type, o->via.ext.size);
	nsec = be32(o->via.ext.ptr + 4);
	if (nsec >= FWD_NS)
		return fwd_errf(err, "time: EventTime nanoseconds %u is not below 10^9", nsec);
	*ns = be32(o->via.ext.ptr) * FWD_NS + nsec;
	return FWD_OK;
}

int record_check(const msgpack_object *o, struct fwd_err *err)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return fwd_errf(err, "record: want map, got %s", mp_obj_name(o->type));
	for (uint32_t i = 0; i < o->via.map.size; i++)
		if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
			return fwd_errf(err, "record: key %u is %s, not str", i,
					mp_obj_name(o->via.map.ptr[i].key.type));
	return FWD_OK;
}

int entry_parse(const msgpack_object *o, struct fwd_entry *e, struct fwd_err *err)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return fwd_errf(err, "want [time, record], got %s", mp_obj_name(o->type));
	if (o->via.array.size != 2)
		return fwd_errf(err, "want [time, record], got an array of %u",
				o->via.array.size);
	if (time_parse(&o->via.array.ptr[0], &e->time_ns, err) != FWD_OK ||
	    record_check(&o->via.array.ptr[1], err) != FWD_OK)
		return FWD_BAD;
	e->record = o->via.array.ptr[1];
	return FWD_OK;
}

int obj_unpack(msgpack_zone *z, const unsigned char *p, size_t off, size_t end,
	       msgpack_object *o, struct fwd_err *err)
{
	size_t at = off;
	msgpack_unpack_return r = msgpack_unpack((const char *)p, end, &at, z, o);

	if (r == MSGPACK_UNPACK_NOMEM_ERROR)
		return fwd_errf(err, "out of memory unpacking %zu bytes", end - off);
	if (r != MSGPACK_UNPACK_SUCCESS || at != end)	/* the scanner said otherwise */
		return fwd_errf(err, "msgpack-c rejects what the scanner passed (%d)", (int)r);
	return FWD_OK;
}

/* Copies a str of at most max bytes, without NULs, as a C string. */
static int str_copy(char *dst, size_t max, const msgpack_object *o, const char *what,
		    struct fwd_err *err)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return fwd_errf(err, "%s: want str, got %s", what, mp_obj_name(o->type));
	if (o->via.str.size == 0 || o->via.str.size > max)
		return fwd_errf(err, "%s: %u bytes, want 1 to %zu", what, o->via.str.size, max);
	if (memchr(o->via.str.ptr, 0, o->via.str.size))
		return fwd_errf(err, "%s: contains a NUL byte", what);
	memcpy(dst, o->via.str.ptr, o->via.str.size);
	dst[o->via.str.size] = 0;
	return FWD_OK;
}

bool key_is(const msgpack_object_kv *kv, const char *name)
{
	size_t n = strlen(name);

	return kv->key.via.str.size == n && memcmp(kv->key.via.str.ptr, name, n) == 0;
}

int map_keys_check(const msgpack_object *o, const char *what, struct fwd_err *err)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return fwd_errf(err, "%s: want map, got %s", what, mp_obj_name(o->type));
	/* Control maps are small; the bound keeps the pairwise check cheap. */
	if (o->via.map.size > 64)
		return fwd_errf(err, "%s: %u keys, more than 64", what, o->via.map.size);
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;

		if (k->type != MSGPACK_OBJECT_STR)
			return fwd_errf(err, "%s: key %u is %s, not str", what, i,
					mp_obj_name(k->type));
		for (uint32_t j = 0; j < i; j++)
			if (msgpack_object_equal(o->via.map.ptr[j].key, *k))
				return fwd_errf(err, "%s: key \"%.*s\" given twice", what,
						(int)(k->via.str.size > 32 ? 32 : k->via.str.size),
						k->via.str.ptr);
	}
	return FWD_OK;
}

/* One known option; unknown keys are ignored, as the spec allows. */
static int option_one(struct fwd_frame *f, const msgpack_object_kv *kv, int *gzip,
		      struct fwd_err *err)
{
	const msgpack_object *v = &kv->val;

	if (key_is(kv, "size")) {
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return fwd_errf(err, "option size: want int >= 0, got %s",
					mp_obj_name(v->type));
		f->has_size = true;
		f->size = v->via.u64;
	} else if (key_is(kv, "chunk")) {
		return str_copy(f->chunk, FWD_CHUNK_MAX, v, "option chunk", err);
	} else if (key_is(kv, "compressed")) {
		if (v->type != MSGPACK_OBJECT_STR)
			return fwd_errf(err, "option compressed: want str, got %s",
					mp_obj_name(v->type));
		/* Fluentd sends "text" for plain PackedForward. */
		if (v->via.str.size == 4 && memcmp(v->via.str.ptr, "gzip", 4) == 0)
			*gzip = 1;
		else if (!(v->via.str.size == 4 && memcmp(v->via.str.ptr, "text", 4) == 0))
			return fwd_errf(err, "option compressed: \"%.*s\" is not supported (gzip, text)",
					(int)(v->via.str.size > 32 ? 32 : v->via.str.size),
					v->via.str.ptr);
	}
	return FWD_OK;
}

static int option_parse(struct fwd_frame *f, const msgpack_object *o, int *gzip,
			struct fwd_err *err)
{
	*gzip = 0;
	if (map_keys_check(o, "option", err) != FWD_OK)
		return FWD_BAD;
	for (uint32_t i = 0; i < o->via.map.size; i++)
		if (option_one(f, &o->via.map.ptr[i], gzip, err) != FWD_OK)
			return FWD_BAD;
	return FWD_OK;
}

static int entries_alloc(struct fwd_frame *f, size_t n, struct fwd_err *err)
{
	f->entries = calloc(n ? n : 1, sizeof(*f->entries));
	if (!f->entries)
		return fwd_errf(err, "out of memory for %zu entries", n);
	return FWD_OK;
}

static int decode_message(struct fwd_frame *f, const msgpack_object *a, struct fwd_err *err)
{
	f->mode = FWD_MESSAGE;
	if (entries_alloc(f, 1, err) != FWD_OK)
		return FWD_BAD;
	if (time_parse(&a[1], &f->entries[0].time_ns, err) != FWD_OK ||
	    record_check(&a[2], err) != FWD_OK)
		return FWD_BAD;
	f->entries[0].record = a[2];
	f->n = 1;
	return FWD_OK;
}

static int decode_forward(struct fwd_frame *f, const msgpack_object *entries,
			  const struct fwd_limits *lim, struct fwd_err *err)
{
	uint32_t n = entries->via.array.size;

	f->mode = FWD_FORWARD;
	if (n > lim->entries_max)
		return fwd_errf(err, "entries: %u, more than %u", n, lim->entries_max);
	if (entries_alloc(f, n, err) != FWD_OK)
		return FWD_BAD;
	for (uint32_t i = 0; i < n; i++)
		if (entry_parse(&entries->via.array.ptr[i], &f->entries[i], err) != FWD_OK)
			return fwd_errpre(err, "entry %u: ", i);
	f->n = n;
	return FWD_OK;
}

/* e's record is the last element of the entry p[0, n) that entry_parse
 * took: [time, record], time a scalar or an ext. Its bytes follow the
 * array's header and the time's. */
static void record_bytes(struct fwd_entry *e, const unsigned char *p, size_t n)
{
	struct mp_head a, t;

	if (mp_head(p, n, &a) != 1 || mp_head(p + a.hdr, n - a.hdr, &t) != 1 ||
	    (size_t)a.hdr + t.hdr + t.len >= n)
		return;				/* cannot be: the scanner passed it */
	e->raw = p + a.hdr + t.hdr + t.len;
	e->raw_len = n - (a.hdr + t.hdr + t.len);
}

struct packed {
	struct fwd_frame *f;
	size_t cap;
};

/* entries_walk's step: one scanned entry into the frame. */
static int packed_entry(void *u, const unsigned char *p, size_t off, size_t end,
			struct fwd_err *err)
{
	struct packed *pk = u;
	struct fwd_frame *f = pk->f;
	msgpack_object o;

	if (f->n == pk->cap) {
		size_t cap = pk->cap ? pk->cap * 2 : 64;
		struct fwd_entry *ne = realloc(f->entries, cap * sizeof(*ne));

		if (!ne)
			return fwd_errf(err, "out of memory for %zu entries", cap);
		f->entries = ne;
		pk->cap = cap;
	}
	if (obj_unpack(&f->zone, p, off, end, &o, err) != FWD_OK ||
	    entry_parse(&o, &f->entries[f->n], err) != FWD_OK)
		return FWD_BAD;
	record_bytes(&f->entries[f->n], p + off, end - off);
	f->n++;
	return FWD_OK;
}

static int decode_packed(struct fwd_frame *f, const msgpack_object *blob, int gzip,
			 const struct fwd_limits *lim, uint64_t objects, struct fwd_err *err)
{
	const unsigned char *p = (const unsigned char *)blob->via.str.ptr;
	size_t len = blob->via.str.size;	/* str and bin share the layout */
	struct packed pk = {.f = f};
	uint32_t n;

	f->mode = gzip ? FWD_COMPRESSED : FWD_PACKED;
	if (gzip) {
		if (fwd_gunzip(p, len, lim->inflate_max, &f->inflated, &len, err) != FWD_OK)
			return fwd_errpre(err, "entries: ");
		p = f->inflated;
	}
	if (entries_walk(p, len, lim, &objects, &n, packed_entry, &pk, err) != FWD_OK)
		return fwd_errpre(err, "entries: ");
	return FWD_OK;
}

/* [tag, time, record(, option)] | [tag, entries(, option)]: the second
 * element tells the mode, as the spec has servers do. */
static int frame_parse(struct fwd_frame *f, const msgpack_object *root,
		       const struct fwd_limits *lim, uint64_t objects, struct fwd_err *err)
{
	const msgpack_object *a = root->via.array.ptr;
	uint32_t n = root->via.array.size;
	msgpack_object_type second;
	bool message;
	int gzip = 0;

	if (n < 2 || n > 4)
		return fwd_errf(err, "frame: want 2 to 4 elements, got %u", n);
	if (str_copy(f->tag, FWD_TAG_MAX, &a[0], "tag", err) != FWD_OK)
		return FWD_BAD;
	second = a[1].type;
	message = second == MSGPACK_OBJECT_POSITIVE_INTEGER ||
		  second == MSGPACK_OBJECT_NEGATIVE_INTEGER || second == MSGPACK_OBJECT_EXT;
	if (!message && second != MSGPACK_OBJECT_ARRAY && second != MSGPACK_OBJECT_STR &&
	    second != MSGPACK_OBJECT_BIN)
		return fwd_errf(err, "frame: second element is %s: neither time nor entries",
				mp_obj_name(second));
	if (message ? n < 3 : n > 3)
		return fwd_errf(err, "frame: %s mode takes %s elements, got %u",
				message ? "Message" : "an entries", message ? "3 or 4" : "2 or 3", n);
	if (n == (message ? 4u : 3u) && option_parse(f, &a[n - 1], &gzip, err) != FWD_OK)
		return FWD_BAD;
	if (gzip && (message || second == MSGPACK_OBJECT_ARRAY))
		return fwd_errf(err, "option compressed=gzip, but entries are not a bin");
	if (message)
		return decode_message(f, a, err);
	if (second == MSGPACK_OBJECT_ARRAY)
		return decode_forward(f, &a[1], lim, err);
	return decode_packed(f, &a[1], gzip, lim, objects, err);
}

/* Forward mode's entry count, read from the bytes before msgpack-c
 * allocates slots for them: 1 within limits or not Forward mode. */
static int forward_count_ok(const unsigned char *p, size_t len, const struct fwd_limits *lim,
			    struct fwd_err *err)
{
	struct mp_head top, tag, entries;
	size_t at;

	if (mp_head(p, len, &top) != 1 || top.count < 2 || mp_head(p + top.hdr,
	    len - top.hdr, &tag) != 1 || tag.kind != MP_STR)
		return 1;
	at = (size_t)top.hdr + tag.hdr + tag.len;
	if (mp_head(p + at, len - at, &entries) != 1 || entries.kind != MP_ARRAY ||
	    entries.count <= lim->entries_max)
		return 1;
	fwd_errf(err, "entries: %u, more than %u", entries.count, lim->entries_max);
	return 0;
}

void fwd_frame_free(struct fwd_frame *f)
{
	if (f->zoned)
		msgpack_zone_destroy(&f->zone);
	free(f->entries);
	free(f->inflated);
	memset(f, 0, sizeof(*f));
}

static int frame_build(struct fwd_frame *f, const unsigned char *p, size_t used,
		       const struct fwd_limits *lim, uint64_t objects, struct fwd_err *err)
{
	struct mp_head top;
	msgpack_object root;

	if (p[0] == 0xc0) {			/* nil: the spec's heartbeat */
		f->mode = FWD_HEARTBEAT;
		return FWD_OK;
	}
	mp_head(p, used, &top);
	if (top.kind != MP_ARRAY)
		return fwd_errf(err, "frame: want array, got %s", mp_kind_name(top.kind));
	if (!forward_count_ok(p, used, lim, err))
		return FWD_BAD;
	if (!msgpack_zone_init(&f->zone, 16 * 1024))
		return fwd_errf(err, "out of memory");
	f->zoned = true;
	if (obj_unpack(&f->zone, p, 0, used, &root, err) != FWD_OK)
		return FWD_BAD;
	return frame_parse(f, &root, lim, objects, err);
}

int fwd_decode(struct fwd_frame *f, const void *buf, size_t len, const struct fwd_limits *lim,
	       size_t *used, struct fwd_err *err)
{
	struct fwd_limits l;
	struct fwd_scanner s;
	int r;

	memset(f, 0, sizeof(*f));
	*used = 0;
	limits_clamp(&l, lim);
	scan_init(&s, &l, SCAN_TOP_BLOBS, 0, 0);
	r = scan_run(&s, buf, len, err);
	if (r != FWD_OK)
		return r == FWD_MORE ? r : fwd_errpre(err, "frame: ");
	*used = s.off;
	if (frame_build(f, buf, s.off, &l, s.objects, err) != FWD_OK) {
		fwd_frame_free(f);
		return FWD_BAD;
	}
	return FWD_OK;
}
