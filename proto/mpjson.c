/*
 * mpjson.c: msgpack objects as JSON text (mpjson.h has the mapping).
 *
 * Each public call remembers the buffer's length and puts it back on any
 * error, so a caller never sees half a value. Recursion is bounded by
 * depth_max, checked before descending.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpjson.h"

void mpj_opts_default(struct mpj_opts *o)
{
	o->depth_max = MPJ_DEPTH_MAX;
	o->max_len = MPJ_LEN_MAX;
}

void mpj_buf_free(struct mpj_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

const char *mpj_strerror(int rc)
{
	switch (rc) {
	case MPJ_OK: return "ok";
	case MPJ_DEEP: return "nested too deeply";
	case MPJ_BIG: return "JSON text too long";
	case MPJ_NOMEM: return "out of memory";
	default: return "unknown error";
	}
}

/* Room for n more bytes and the NUL, within max_len. */
static int reserve(struct mpj_buf *b, size_t n, size_t max_len)
{
	size_t cap;
	char *p;

	if (n > max_len || b->len > max_len - n)
		return MPJ_BIG;
	if (b->len + n + 1 <= b->cap)
		return MPJ_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
	p = realloc(b->p, cap);
	if (!p)
		return MPJ_NOMEM;
	b->p = p;
	b->cap = cap;
	return MPJ_OK;
}

static int put(struct mpj_buf *b, const char *s, size_t n, size_t max_len)
{
	int rc = reserve(b, n, max_len);

	if (rc)
		return rc;
	if (n)					/* an empty str may have no pointer */
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return MPJ_OK;
}

static int put_cstr(struct mpj_buf *b, const char *s, size_t max_len)
{
	return put(b, s, strlen(s), max_len);
}

/* Undo everything appended after mark. */
static int rewind_to(struct mpj_buf *b, size_t mark, int rc)
{
	if (rc && b->p) {
		b->len = mark;
		b->p[mark] = 0;
	}
	return rc;
}

int mpj_append_raw(struct mpj_buf *b, const char *s, size_t n, size_t max_len)
{
	return put(b, s, n, max_len);
}

/* ---- strings ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (Unicode 15, table 3-7), or 0. */
size_t mpj_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;		/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;		/* above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* The escape for the character at s (of valid length len), or NULL when it
 * goes out as it is. */
static const char *escape_of(const unsigned char *s, size_t len, char tmp[8])
{
	if (len == 1) {
		switch (s[0]) {
		case '"': return "\\\"";
		case '\\': return "\\\\";
		case '\n': return "\\n";
		case '\t': return "\\t";
		case '\r': return "\\r";
		case '\b': return "\\b";
		case '\f': return "\\f";
		default:
			if (s[0] >= 0x20 && s[0] != 0x7f)
				return NULL;
			snprintf(tmp, 8, "\\u%04x", s[0]);
			return tmp;
		}
	}
	/* Valid JSON, but not valid JavaScript before ES2019. */
	if (len == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return s[2] == 0xa8 ? "\\u2028" : "\\u2029";
	return NULL;
}

static int put_str(struct mpj_buf *b, const char *str, size_t n, size_t max_len)
{
	const unsigned char *s = (const unsigned char *)(n ? str : "");
	size_t i = 0, run = 0;
	char tmp[8];
	int rc;

	if ((rc = put(b, "\"", 1, max_len)))
		return rc;
	while (i < n) {
		size_t len = mpj_utf8_len(s + i, n - i);
		const char *esc = len ? escape_of(s + i, len, tmp) : "\xef\xbf\xbd";

		if (!esc) {
			i += len;
			continue;
		}
		if ((rc = put(b, (const char *)s + run, i - run, max_len)) ||
		    (rc = put_cstr(b, esc, max_len)))
			return rc;
		i += len ? len : 1;
		run = i;
	}
	if ((rc = put(b, (const char *)s + run, n - run, max_len)))
		return rc;
	return put(b, "\"", 1, max_len);
}

int mpj_append_str(struct mpj_buf *b, const char *s, size_t n, size_t max_len)
{
	size_t mark = b->len;

	return rewind_to(b, mark, put_str(b, s, n, max_len));
}

static int put_base64(struct mpj_buf *b, const unsigned char *s, size_t n, size_t max_len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t out = n / 3 * 4 + (n % 3 ? 4 : 0);
	char *p;
	int rc;

	if (n / 3 > (SIZE_MAX - 8) / 4)
		return MPJ_BIG;
	if ((rc = reserve(b, out + 2, max_len)))
		return rc;
	p = b->p + b->len;
	*p++ = '"';
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		size_t k = n - i;

		if (k > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (k > 2)
			v |= s[i + 2];
		*p++ = tab[v >> 18 & 63];
		*p++ = tab[v >> 12 & 63];
		*p++ = k > 1 ? tab[v >> 6 & 63] : '=';
		*p++ = k > 2 ? tab[v & 63] : '=';
	}
	*p++ = '"';
	*p = 0;
	b->len = (size_t)(p - b->p);
	return MPJ_OK;
}

/* ---- numbers ---------------------------------------------------------------- */

int mpj_append_i64(struct mpj_buf *b, int64_t v, size_t max_len)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	return put_cstr(b, tmp, max_len);
}

/* The fewest significant digits that read back as the same value (17 do
 * for any double, 9 for any float). */
static void fmt_double(char *out, size_t n, double v, bool single)
{
	int prec = 1, most = single ? 9 : 17;

	for (; prec < most; prec++) {
		snprintf(out, n, "%.*g", prec, v);
		if (single ? strtof(out, NULL) == (float)v : strtod(out, NULL) == v)
			break;
	}
	if (prec == most)
		snprintf(out, n, "%.*g", prec, v);
	/* A float stays a float for whoever reads it back. */
	if (!strpbrk(out, ".eE"))
		strcat(out, ".0");
}

static int put_double(struct mpj_buf *b, double v, bool single, size_t max_len)
{
	char tmp[40];

	if (!isfinite(v))
		return put_cstr(b, "null", max_len);
	fmt_double(tmp, sizeof(tmp), v, single);
	return put_cstr(b, tmp, max_len);
}

int mpj_append_double(struct mpj_buf *b, double v, size_t max_len)
{
	return put_double(b, v, false, max_len);
}

static uint32_t be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static int put_ext(struct mpj_buf *b, const msgpack_object_ext *e, size_t max_len)
{
	char tmp[48];
	int rc;

	if (e->type == 0 && e->size == 8 && be32(e->ptr + 4) < 1000000000u) {
		snprintf(tmp, sizeof(tmp), "%" PRIu32 ".%09" PRIu32, be32(e->ptr), be32(e->ptr + 4));
		return put_cstr(b, tmp, max_len);
	}
	snprintf(tmp, sizeof(tmp), "{\"ext\":%d,\"base64\":", (int)e->type);
	if ((rc = put_cstr(b, tmp, max_len)) ||
	    (rc = put_base64(b, (const unsigned char *)e->ptr, e->size, max_len)))
		return rc;
	return put(b, "}", 1, max_len);
}

/* ---- values ----------------------------------------------------------------- */

static int put_obj(struct mpj_buf *b, const msgpack_object *o, unsigned depth,
		   const struct mpj_opts *op);

/* A key that is not a str: its own JSON text, as a string. */
static int put_key(struct mpj_buf *b, const msgpack_object *k, unsigned depth,
		   const struct mpj_opts *op)
{
	struct mpj_opts kop = *op;
	struct mpj_buf tmp = {0};
	int rc;

	switch (k->type) {
	case MSGPACK_OBJECT_STR:
		return put_str(b, k->via.str.ptr, k->via.str.size, op->max_len);
	case MSGPACK_OBJECT_BIN:
		return put_base64(b, (const unsigned char *)k->via.bin.ptr, k->via.bin.size,
				  op->max_len);
	default:
		break;
	}
	/* Escaping only lengthens it, so its text must fit in what is left.
	 * (Keys within keys are escaped again at each level: the limit is what
	 * keeps that doubling cheap.) */
	kop.max_len = op->max_len - b->len;
	rc = put_obj(&tmp, k, depth, &kop);
	if (!rc)
		rc = put_str(b, tmp.p, tmp.len, op->max_len);
	mpj_buf_free(&tmp);
	return rc;
}

static int put_obj(struct mpj_buf *b, const msgpack_object *o, unsigned depth,
		   const struct mpj_opts *op)
{
	size_t max = op->max_len;
	int rc = MPJ_OK;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return put_cstr(b, "null", max);
	case MSGPACK_OBJECT_BOOLEAN:
		return put_cstr(b, o->via.boolean ? "true" : "false", max);
	case MSGPACK_OBJECT_POSITIVE_INTEGER: {
		char tmp[24];
		snprintf(tmp, sizeof(tmp), "%" PRIu64, o->via.u64);
		return put_cstr(b, tmp, max);
	}
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return mpj_append_i64(b, o->via.i64, max);
	case MSGPACK_OBJECT_FLOAT32:
		return put_double(b, o->via.f64, true, max);
	case MSGPACK_OBJECT_FLOAT64:
		return put_double(b, o->via.f64, false, max);
	case MSGPACK_OBJECT_STR:
		return put_str(b, o->via.str.ptr, o->via.str.size, max);
	case MSGPACK_OBJECT_BIN:
		return put_base64(b, (const unsigned char *)o->via.bin.ptr, o->via.bin.size, max);
	case MSGPACK_OBJECT_EXT:
		return put_ext(b, &o->via.ext, max);
	case MSGPACK_OBJECT_ARRAY:
		if (depth >= op->depth_max)
			return MPJ_DEEP;
		if ((rc = put(b, "[", 1, max)))
			return rc;
		for (uint32_t i = 0; i < o->via.array.size && !rc; i++) {
			if (i && (rc = put(b, ",", 1, max)))
				break;
			rc = put_obj(b, &o->via.array.ptr[i], depth + 1, op);
		}
		return rc ? rc : put(b, "]", 1, max);
	case MSGPACK_OBJECT_MAP:
		if (depth >= op->depth_max)
			return MPJ_DEEP;
		if ((rc = put(b, "{", 1, max)))
			return rc;
		for (uint32_t i = 0; i < o->via.map.size && !rc; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];

			if ((i && (rc = put(b, ",", 1, max))) ||
			    (rc = put_key(b, &kv->key, depth + 1, op)) ||
			    (rc = put(b, ":", 1, max)))
				break;
			rc = put_obj(b, &kv->val, depth + 1, op);
		}
		return rc ? rc : put(b, "}", 1, max);
	}
	return put_cstr(b, "null", max);		/* a type msgpack-c may add later */
}

int mpj_append(struct mpj_buf *b, const msgpack_object *o, const struct mpj_opts *opts)
{
	struct mpj_opts def;
	size_t mark = b->len;

	if (!opts) {
		mpj_opts_default(&def);
		opts = &def;
	}
	return rewind_to(b, mark, put_obj(b, o, 0, opts));
}
