/*
 * forward.h: the Fluent Forward protocol v1 codec (library vigilproto).
 *
 * Wire (docs/forward.md): a frame is one msgpack array. The sensor sends
 * CompressedPackedForward: [tag, bin(gzip of [EventTime, record]...),
 * {"size": n, "chunk": id, "compressed": "gzip"}] and the collector answers
 * {"ack": id}. The decoder takes all four modes (Message, Forward,
 * PackedForward, CompressedPackedForward) and a nil heartbeat. EventTime is
 * ext type 0, 8 bytes: be32 seconds, be32 nanoseconds.
 *
 * Every byte read is hostile. Before msgpack-c allocates anything, a bounded
 * walker (fwd_scanner) checks the bytes against fwd_limits: frame size,
 * nesting, str/bin/ext length, element counts against the bytes that could
 * still hold them, object count; gunzip stops at inflate_max. A frame is
 * accepted whole or rejected whole: entries exist only after all of it
 * passed. Decoders return FWD_OK, FWD_MORE (a prefix of something valid:
 * read more bytes) or FWD_BAD (err says why; drop the connection).
 * No global state: threads may each use their own frames and scanners.
 */
#ifndef VIGIL_FORWARD_H
#define VIGIL_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

enum { FWD_OK = 0, FWD_MORE = 1, FWD_BAD = -1 };

struct fwd_err {
	char msg[256];
};

/* Defaults are the most; a caller may lower any, higher values are cut. */
#define FWD_FRAME_MAX	(16u << 20)	/* bytes of one frame on the wire */
#define FWD_INFLATE_MAX	(64u << 20)	/* bytes of a gunzipped entries stream */
#define FWD_STR_MAX	(1u << 20)	/* one str/bin/ext below the frame's top array */
#define FWD_DEPTH_MAX	32		/* nested arrays/maps, the frame's own counted */
#define FWD_ENTRIES_MAX	100000		/* entries in one frame */
#define FWD_OBJECTS_MAX	(4u << 20)	/* msgpack objects in one frame: bounds memory */
#define FWD_TAG_MAX	1024
#define FWD_CHUNK_MAX	128

struct fwd_limits {
	size_t frame_max, inflate_max, str_max;
	uint32_t depth_max, entries_max, objects_max;
};
void fwd_limits_default(struct fwd_limits *l);

/* ---- framing a byte stream without allocating ---------------------------
 * buf holds a frame's bytes from its first; feed again with the same bytes
 * and more after FWD_MORE (buf may move): work already done is not redone.
 * FWD_OK sets *used to the frame's size. */
struct fwd_scanner {
	struct fwd_limits lim;
	size_t start, off;		/* off: end of the last whole element */
	uint64_t pending;		/* elements open containers still owe */
	uint64_t objects;
	uint32_t depth, base;
	unsigned flags;
	uint64_t left[FWD_DEPTH_MAX];	/* per open container */
};
void fwd_scanner_init(struct fwd_scanner *s, const struct fwd_limits *lim);
int fwd_scanner_feed(struct fwd_scanner *s, const void *buf, size_t len, size_t *used,
		     struct fwd_err *err);

/* ---- encoding ------------------------------------------------------------
 * Per entry: pk = fwd_batch_add(&b, time_ns), then pack exactly one map
 * (the record) with pk. The batch must not move after init. Encoders append
 * one frame to out; each checks the batch as a receiver would first. */
struct fwd_batch {
	msgpack_sbuffer buf;		/* the entries, concatenated */
	msgpack_packer pk;		/* writes to buf */
	uint32_t n;
};
void fwd_batch_init(struct fwd_batch *b);
msgpack_packer *fwd_batch_add(struct fwd_batch *b, uint64_t time_ns);	/* NULL: OOM, time > 2^32 s */
void fwd_batch_clear(struct fwd_batch *b);	/* empty, keeps its memory */
void fwd_batch_free(struct fwd_batch *b);
int fwd_pack_time(msgpack_packer *pk, uint64_t time_ns);	/* an EventTime */

/* chunk: NULL for none (then no ack comes). 0, or -1 with err. */
int fwd_encode_compressed(msgpack_sbuffer *out, const char *tag, const struct fwd_batch *b,
			  const char *chunk, struct fwd_err *err);
int fwd_encode_packed(msgpack_sbuffer *out, const char *tag, const struct fwd_batch *b,
		      const char *chunk, struct fwd_err *err);

/* ---- decoding ------------------------------------------------------------ */
enum fwd_mode { FWD_HEARTBEAT, FWD_MESSAGE, FWD_FORWARD, FWD_PACKED, FWD_COMPRESSED };
const char *fwd_mode_name(enum fwd_mode m);

struct fwd_entry {
	uint64_t time_ns;		/* integer times are whole seconds */
	msgpack_object record;		/* a map with str keys */
	/* The bytes record was unpacked from, in the frame's buffer or its
	 * inflated copy (PackedForward modes; NULL in the others). */
	const unsigned char *raw;
	size_t raw_len;
};

struct fwd_frame {
	enum fwd_mode mode;
	char tag[FWD_TAG_MAX + 1];
	char chunk[FWD_CHUNK_MAX + 1];	/* option chunk: "" when none */
	bool has_size;
	uint64_t size;			/* option size as sent: a hint, never trusted */
	size_t n;
	struct fwd_entry *entries;
	/* owned */
	msgpack_zone zone;
	bool zoned;
	unsigned char *inflated;
};

/* One frame from the start of buf. FWD_OK: f holds it (fwd_frame_free it);
 * records point into buf, which must outlive f. *used is the frame's size
 * whenever its end is known (also on FWD_BAD), else 0. lim NULL: defaults. */
int fwd_decode(struct fwd_frame *f, const void *buf, size_t len, const struct fwd_limits *lim,
	       size_t *used, struct fwd_err *err);
void fwd_frame_free(struct fwd_frame *f);

/* ---- one bounded msgpack object (enrollment and other small messages) ----
 * The first object in buf, scanned against lim (NULL: defaults) before
 * msgpack-c sees it; the top object's own str/bin count against str_max.
 * FWD_OK: *o lives in z (initialized here; msgpack_zone_destroy it), not in
 * buf, and *used is its size. FWD_MORE and FWD_BAD as fwd_decode; z is then free. */
int fwd_object_decode(const void *buf, size_t len, const struct fwd_limits *lim,
		      msgpack_zone *z, msgpack_object *o, size_t *used, struct fwd_err *err);

/* ---- handshake (server: HELO, client: PING, server: PONG) and ack ---------
 * Digests are lowercase hex sha512: PING's of salt+client_hostname+nonce+
 * shared_key, PONG's of salt+server_hostname+nonce+shared_key; a password
 * is sha512 hex of auth+username+password. */
#define FWD_FIELD_MAX	255		/* hostnames, names, reasons, salts */
#define FWD_HEX_LEN	128

struct fwd_helo {
	uint8_t nonce[FWD_FIELD_MAX], auth[FWD_FIELD_MAX];	/* auth empty: no users */
	size_t nonce_len, auth_len;
	bool keepalive;
};
struct fwd_ping {
	char hostname[FWD_FIELD_MAX + 1];
	uint8_t salt[FWD_FIELD_MAX];
	size_t salt_len;
	char digest[FWD_HEX_LEN + 1];
	char username[FWD_FIELD_MAX + 1];
	char password[FWD_HEX_LEN + 1];	/* "" when the server wants no user */
};
struct fwd_pong {
	bool ok;
	char reason[FWD_FIELD_MAX + 1];
	char hostname[FWD_FIELD_MAX + 1];
	char digest[FWD_HEX_LEN + 1];	/* "" when refused */
};

/* Random nonce and salts from OpenSSL. Each returns 0, or -1 with err. */
int fwd_helo_make(struct fwd_helo *h, bool user_auth, bool keepalive, struct fwd_err *err);
int fwd_ping_make(struct fwd_ping *p, const struct fwd_helo *h, const char *hostname,
		  const char *shared_key, const char *username, const char *password,
		  struct fwd_err *err);
/* Server: password is p->username's, NULL when unknown; err is the reason. */
int fwd_ping_check(const struct fwd_ping *p, const struct fwd_helo *h, const char *shared_key,
		   const char *password, struct fwd_err *err);
/* refusal NULL: accepted (and signed); else the reason sent. */
int fwd_pong_make(struct fwd_pong *pong, const struct fwd_ping *p, const struct fwd_helo *h,
		  const char *hostname, const char *shared_key, const char *refusal,
		  struct fwd_err *err);
int fwd_pong_check(const struct fwd_pong *pong, const struct fwd_ping *p,
		   const struct fwd_helo *h, const char *shared_key, struct fwd_err *err);

/* Encoders append to out: 0, or -1 when out of memory. */
int fwd_helo_encode(msgpack_sbuffer *out, const struct fwd_helo *h);
int fwd_ping_encode(msgpack_sbuffer *out, const struct fwd_ping *p);
int fwd_pong_encode(msgpack_sbuffer *out, const struct fwd_pong *p);
int fwd_ack_encode(msgpack_sbuffer *out, const char *chunk);
/* Decoders: FWD_OK, FWD_MORE or FWD_BAD, as fwd_decode. */
int fwd_helo_decode(struct fwd_helo *h, const void *buf, size_t len, size_t *used,
		    struct fwd_err *err);
int fwd_ping_decode(struct fwd_ping *p, const void *buf, size_t len, size_t *used,
		    struct fwd_err *err);
int fwd_pong_decode(struct fwd_pong *p, const void *buf, size_t len, size_t *used,
		    struct fwd_err *err);
int fwd_ack_decode(char chunk[FWD_CHUNK_MAX + 1], const void *buf, size_t len, size_t *used,
		   struct fwd_err *err);

#endif
