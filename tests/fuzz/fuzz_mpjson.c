/* fuzz_mpjson.c: arbitrary bytes, bounded by the Forward scanner (as every
 * msgpack the collector reads is), unpacked and written as JSON. Beyond not
 * crashing or leaking: what mpj_append writes is always one valid JSON
 * value in valid UTF-8, within the length limit; a failure leaves the
 * buffer exactly as it was; and a key or a float never writes anything
 * a JSON reader would refuse. */
#include <stdint.h>
#include <string.h>

#include "forward.h"
#include "mpjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a strict JSON checker (RFC 8259, no whitespace: mpj writes none) ---- */

struct jp {
	const unsigned char *p, *end;
};

static int j_value(struct jp *j, int depth);

static int j_lit(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return -1;
	j->p += n;
	return 0;
}

static int hexd(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int j_string(struct jp *j)
{
	if (j->p >= j->end || *j->p++ != '"')
		return -1;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p < 0x20)
			return -1;
		if (*j->p == '\\') {
			if (++j->p >= j->end)
				return -1;
			if (*j->p == 'u') {
				if (j->end - j->p < 5 || !hexd(j->p[1]) || !hexd(j->p[2]) ||
				    !hexd(j->p[3]) || !hexd(j->p[4]))
					return -1;
				j->p += 5;
			} else if (strchr("\"\\/bfnrt", *j->p) && *j->p) {
				j->p++;
			} else {
				return -1;
			}
			continue;
		}
		size_t n = mpj_utf8_len(j->p, (size_t)(j->end - j->p));
		if (!n)
			return -1;
		j->p += n;
	}
	return j->p < j->end && *j->p++ == '"' ? 0 : -1;
}

static int digits(struct jp *j)
{
	const unsigned char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s ? 0 : -1;
}

static int j_number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (digits(j))
		return -1;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (digits(j))
			return -1;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (digits(j))
			return -1;
	}
	return 0;
}

static int j_value(struct jp *j, int depth)
{
	if (j->p >= j->end || depth > MPJ_DEPTH_MAX)
		return -1;
	switch (*j->p) {
	case '{':
		j->p++;
		if (j->p < j->end && *j->p == '}')
			return j->p++, 0;
		for (;;) {
			if (j_string(j) || j_lit(j, ":") || j_value(j, depth + 1))
				return -1;
			if (j->p < j->end && *j->p == '}')
				return j->p++, 0;
			if (j_lit(j, ","))
				return -1;
		}
	case '[':
		j->p++;
		if (j->p < j->end && *j->p == ']')
			return j->p++, 0;
		for (;;) {
			if (j_value(j, depth + 1))
				return -1;
			if (j->p < j->end && *j->p == ']')
				return j->p++, 0;
			if (j_lit(j, ","))
				return -1;
		}
	case '"': return j_string(j);
	case 't': return j_lit(j, "true");
	case 'f': return j_lit(j, "false");
	case 'n': return j_lit(j, "null");
	default: return j_number(j);
	}
}

static void check_json(const char *s, size_t n)
{
	struct jp j = {(const unsigned char *)s, (const unsigned char *)s + n};

	if (j_value(&j, 0) || j.p != j.end)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_limits lim;
	struct fwd_scanner sc;
	struct fwd_err err;
	struct mpj_opts opts;
	struct mpj_buf b = {0};
	msgpack_zone z;
	msgpack_object o;
	size_t used = 0, off = 0;
	int rc;

	fwd_limits_default(&lim);
	lim.frame_max = 1u << 20;
	lim.str_max = 64u << 10;
	lim.objects_max = 1u << 16;
	fwd_scanner_init(&sc, &lim);
	if (fwd_scanner_feed(&sc, data, size, &used, &err) != FWD_OK)
		return 0;
	if (!msgpack_zone_init(&z, 4096))
		return 0;
	if (msgpack_unpack((const char *)data, used, &off, &z, &o) != MSGPACK_UNPACK_SUCCESS) {
		msgpack_zone_destroy(&z);
		return 0;
	}
	/* Twice: the store's limit, and one a little input can reach. */
	mpj_opts_default(&opts);
	opts.max_len = 1u << 20;
	rc = mpj_append(&b, &o, &opts);
	if (rc == MPJ_OK)
		check_json(b.p, b.len);
	else if ((rc != MPJ_DEEP && rc != MPJ_BIG) || b.len != 0)
		__builtin_trap();
	if (mpj_append_raw(&b, "x", 1, opts.max_len))
		__builtin_trap();
	{
		size_t before = b.len;

		opts.max_len = before + size % 97;
		opts.depth_max = 1 + size % 7;
		rc = mpj_append(&b, &o, &opts);
		if (rc == MPJ_OK) {
			if (b.len > opts.max_len)
				__builtin_trap();
			check_json(b.p + before, b.len - before);
		} else if (b.len != before || b.p[before] != 0) {
			__builtin_trap();
		}
	}
	mpj_buf_free(&b);
	msgpack_zone_destroy(&z);
	return 0;
}
