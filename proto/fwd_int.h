/* fwd_int.h: what the vigilproto sources share and nobody else sees. */
#ifndef VIGIL_FWD_INT_H
#define VIGIL_FWD_INT_H

#include "forward.h"

#define FWD_NS 1000000000ull

#if defined(__GNUC__)
#define FWD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FWD_PRINTF(a, b)
#endif

/* Both return FWD_BAD, so "return fwd_errf(...)" reads as the failure. */
int fwd_errf(struct fwd_err *err, const char *fmt, ...) FWD_PRINTF(2, 3);
int fwd_errpre(struct fwd_err *err, const char *fmt, ...) FWD_PRINTF(2, 3);	/* prefixes */

/* ---- one msgpack header, read without trusting it ---------------------- */
enum mp_kind { MP_NIL, MP_BOOL, MP_INT, MP_FLOAT, MP_STR, MP_BIN, MP_EXT, MP_ARRAY, MP_MAP };

struct mp_head {
	enum mp_kind kind;
	uint32_t hdr;			/* bytes before the payload (or the whole scalar) */
	uint32_t len;			/* str/bin/ext payload bytes */
	uint32_t count;			/* array elements, map pairs */
	int8_t ext_type;
};
/* 1: read; 0: avail ends inside the header; -1: 0xc1, which msgpack never uses. */
int mp_head(const unsigned char *p, size_t avail, struct mp_head *h);
const char *mp_kind_name(enum mp_kind k);
const char *mp_obj_name(msgpack_object_type t);

/* ---- the scanner, as the decoders drive it ------------------------------ */
enum {
	SCAN_COMPLETE = 1u,		/* buf is all there is: running out is an error */
	SCAN_TOP_BLOBS = 2u,		/* str/bin just below the top may be frame-sized */
};
/* Scans one object starting at off, counting its nesting from base. */
void scan_init(struct fwd_scanner *s, const struct fwd_limits *lim, unsigned flags,
	       uint32_t base, size_t off);
int scan_run(struct fwd_scanner *s, const unsigned char *buf, size_t len, struct fwd_err *err);
void limits_clamp(struct fwd_limits *out, const struct fwd_limits *in);	/* in NULL: defaults */

/* One concatenated stream of entries (PackedForward's payload): scans each
 * as a receiver does (nesting counted as inside a frame) and hands its
 * extent to fn. FWD_OK with *n entries and *objects grown, or FWD_BAD. */
typedef int (*entry_fn)(void *u, const unsigned char *p, size_t off, size_t end,
			struct fwd_err *err);
int entries_walk(const unsigned char *p, size_t len, const struct fwd_limits *lim,
		 uint64_t *objects, uint32_t *n, entry_fn fn, void *u, struct fwd_err *err);
/* msgpack-c on bytes the scanner passed: p[off, end) is one object. */
int obj_unpack(msgpack_zone *z, const unsigned char *p, size_t off, size_t end,
	       msgpack_object *o, struct fwd_err *err);
/* An entry [time, record] or Message's time and record, checked. */
int time_parse(const msgpack_object *o, uint64_t *ns, struct fwd_err *err);
int record_check(const msgpack_object *o, struct fwd_err *err);
int entry_parse(const msgpack_object *o, struct fwd_entry *e, struct fwd_err *err);
/* A control map (option, HELO, ack): at most 64 keys, distinct strs, since
 * a repeated key would let two readers see two different values. */
int map_keys_check(const msgpack_object *o, const char *what, struct fwd_err *err);
bool key_is(const msgpack_object_kv *kv, const char *name);

/* ---- gzip ---------------------------------------------------------------- */
int fwd_gzip(const void *src, size_t n, unsigned char **out, size_t *outlen,
	     struct fwd_err *err);
/* One or more concatenated gzip members; more than max bytes out is a bomb. */
int fwd_gunzip(const void *src, size_t n, size_t max, unsigned char **out, size_t *outlen,
	       struct fwd_err *err);

#endif
