/*
 * mpjson.h: a msgpack object as JSON text (prefix mpj_, library vigilproto).
 * The collector stores records with it; the sensor prints what it ships.
 *
 * Mapping (RFC 8259 output, UTF-8, no whitespace):
 *   nil, bool       null, true, false
 *   int             exactly, all 64 bits (either sign)
 *   float32/64      the shortest %.Ng that reads back to the same value
 *                   (float32: as a float), with ".0" added when it would
 *                   look like an integer; NaN and infinities: null
 *   str             a string. '"', '\\' and every byte below 0x20 are
 *                   escaped (\n \t \r \b \f, else \u00XX), as are 0x7f,
 *                   U+2028 and U+2029. A byte that does not begin a valid
 *                   UTF-8 sequence (overlong, surrogate, above U+10FFFF,
 *                   truncated) becomes U+FFFD, one per byte.
 *   bin             a string: standard base64 with '=' padding
 *   ext type 0, 8 bytes (Fluent EventTime: be32 s, be32 ns)
 *                   a number, seconds with 9 decimals: 1700000000.000000042
 *   other ext       {"ext": type, "base64": "..."}
 *   array, map      as such; map keys keep their order and duplicates. A
 *                   key that is not a str becomes a string of its own JSON
 *                   text: 1 -> "1", true -> "true", [1] -> "[1]"; a bin
 *                   key is its base64.
 *
 * Limits: containers nested deeper than depth_max, or output longer than
 * max_len, fail the whole call. Every call appends all or nothing: on error
 * the buffer is as it was. No global state.
 */
#ifndef VIGIL_MPJSON_H
#define VIGIL_MPJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

enum { MPJ_OK = 0, MPJ_DEEP = -1, MPJ_BIG = -2, MPJ_NOMEM = -3 };

#define MPJ_DEPTH_MAX	64		/* defaults */
#define MPJ_LEN_MAX	(64u << 20)

struct mpj_opts {
	unsigned depth_max;		/* containers: 1 lets a map of scalars through */
	size_t max_len;			/* bytes of the buffer's whole contents */
};
void mpj_opts_default(struct mpj_opts *o);

struct mpj_buf {			/* growable, NUL-terminated after the first append */
	char *p;
	size_t len, cap;
};
void mpj_buf_free(struct mpj_buf *b);	/* and leaves it empty, reusable */

/* o as JSON, after what b holds. opts NULL: defaults. MPJ_OK or an error. */
int mpj_append(struct mpj_buf *b, const msgpack_object *o, const struct mpj_opts *opts);
/* s[0..n) as one JSON string, escaped as a str above. */
int mpj_append_str(struct mpj_buf *b, const char *s, size_t n, size_t max_len);
/* Raw bytes (JSON text the caller vouches for). */
int mpj_append_raw(struct mpj_buf *b, const char *s, size_t n, size_t max_len);
const char *mpj_strerror(int rc);

/* Helpers the store and printers share. Both append all or nothing. */
int mpj_append_i64(struct mpj_buf *b, int64_t v, size_t max_len);
int mpj_append_double(struct mpj_buf *b, double v, size_t max_len);
/* Bytes in the valid UTF-8 character at s[0..n) (n >= 1), or 0 if none is. */
size_t mpj_utf8_len(const unsigned char *s, size_t n);

#endif
