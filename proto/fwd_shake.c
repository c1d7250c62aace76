/*
 * fwd_shake.c: the Forward handshake (HELO, PING, PONG) and the ack.
 *
 * Shared-key authentication proves each side knows the key without sending
 * it: the server's random nonce and the client's random salt go into both
 * digests, so neither can be replayed on another connection, and the PONG
 * hashes the server's hostname where the PING hashed the client's, so the
 * server cannot just echo the client's digest back.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fwd_int.h"

#define SHAKE_MAX	4096		/* bytes of one handshake message or ack */
#define SALT_LEN	16		/* what Fluentd sends */

/* ---- digests ------------------------------------------------------------- */

struct part {
	const void *p;
	size_t n;
};

static int sha512_hex(char out[FWD_HEX_LEN + 1], const struct part *parts, size_t n,
		      struct fwd_err *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ok = c && EVP_DigestInit_ex(c, EVP_sha512(), NULL);

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(c, parts[i].p, parts[i].n);
	ok = ok && EVP_DigestFinal_ex(c, md, &mdlen) && mdlen * 2 == FWD_HEX_LEN;
	EVP_MD_CTX_free(c);
	if (!ok)
		return fwd_errf(err, "sha512 failed");
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return FWD_OK;
}

/* sha512_hex(salt + hostname + nonce + shared_key) */
static int key_digest(char out[FWD_HEX_LEN + 1], const uint8_t *salt, size_t salt_len,
		      const char *hostname, const struct fwd_helo *h, const char *key,
		      struct fwd_err *err)
{
	struct part parts[] = {{salt, salt_len}, {hostname, strlen(hostname)},
			       {h->nonce, h->nonce_len}, {key, strlen(key)}};

	return sha512_hex(out, parts, 4, err);
}

/* sha512_hex(auth + username + password) */
static int pass_digest(char out[FWD_HEX_LEN + 1], const struct fwd_helo *h,
		       const char *username, const char *password, struct fwd_err *err)
{
	struct part parts[] = {{h->auth, h->auth_len}, {username, strlen(username)},
			       {password, strlen(password)}};

	return sha512_hex(out, parts, 3, err);
}

static bool digest_eq(const char *want, const char *got)
{
	return strlen(got) == FWD_HEX_LEN && CRYPTO_memcmp(want, got, FWD_HEX_LEN) == 0;
}

static int text_set(char *dst, const char *src, const char *what, bool may_be_empty,
		    struct fwd_err *err)
{
	size_t n = src ? strlen(src) : 0;

	if (n > FWD_FIELD_MAX || (n == 0 && !may_be_empty))
		return fwd_errf(err, "%s: %zu bytes, want %d to %d", what, n, !may_be_empty,
				FWD_FIELD_MAX);
	memcpy(dst, src ? src : "", n + 1);
	return FWD_OK;
}

static int random_fill(uint8_t *p, size_t n, struct fwd_err *err)
{
	if (RAND_bytes(p, (int)n) != 1)
		return fwd_errf(err, "RAND_bytes failed");
	return FWD_OK;
}

/* ---- making and checking ------------------------------------------------- */

int fwd_helo_make(struct fwd_helo *h, bool user_auth, bool keepalive, struct fwd_err *err)
{
	memset(h, 0, sizeof(*h));
	h->keepalive = keepalive;
	h->nonce_len = SALT_LEN;
	h->auth_len = user_auth ? SALT_LEN : 0;
	if (random_fill(h->nonce, h->nonce_len, err) != FWD_OK ||
	    random_fill(h->auth, h->auth_len, err) != FWD_OK)
		return -1;
	return 0;
}

int fwd_ping_make(struct fwd_ping *p, const struct fwd_helo *h, const char *hostname,
		  const char *shared_key, const char *username, const char *password,
		  struct fwd_err *err)
{
	memset(p, 0, sizeof(*p));
	if (!shared_key)
		return fwd_errf(err, "PING: no shared key");
	if (text_set(p->hostname, hostname, "PING hostname", false, err) != FWD_OK)
		return -1;
	p->salt_len = SALT_LEN;
	if (random_fill(p->salt, p->salt_len, err) != FWD_OK ||
	    key_digest(p->digest, p->salt, p->salt_len, p->hostname, h, shared_key, err) != FWD_OK)
		return -1;
	if (h->auth_len == 0)
		return 0;			/* the server wants no user */
	if (!password)
		return fwd_errf(err, "PING: the server wants a username and password");
	if (text_set(p->username, username, "PING username", false, err) != FWD_OK ||
	    pass_digest(p->password, h, p->username, password, err) != FWD_OK)
		return -1;
	return 0;
}

int fwd_ping_check(const struct fwd_ping *p, const struct fwd_helo *h, const char *shared_key,
		   const char *password, struct fwd_err *err)
{
	char want[FWD_HEX_LEN + 1];

	if (!shared_key)
		return fwd_errf(err, "no shared key");
	if (key_digest(want, p->salt, p->salt_len, p->hostname, h, shared_key, err) != FWD_OK)
		return -1;
	if (!digest_eq(want, p->digest))
		return fwd_errf(err, "shared key mismatch");
	if (h->auth_len == 0)
		return 0;
	/* One answer for an unknown user and a wrong password: no user probing. */
	if (!password)
		return fwd_errf(err, "username/password mismatch");
	if (pass_digest(want, h, p->username, password, err) != FWD_OK)
		return -1;
	if (!digest_eq(want, p->password))
		return fwd_errf(err, "username/password mismatch");
	return 0;
}

int fwd_pong_make(struct fwd_pong *pong, const struct fwd_ping *p, const struct fwd_helo *h,
		  const char *hostname, const char *shared_key, const char *refusal,
		  struct fwd_err *err)
{
	memset(pong, 0, sizeof(*pong));
	if (text_set(pong->hostname, hostname, "PONG hostname", false, err) != FWD_OK)
		return -1;
	if (refusal) {
		snprintf(pong->reason, sizeof(pong->reason), "%s", refusal);
		return 0;
	}
	if (!shared_key)
		return fwd_errf(err, "PONG: no shared key");
	pong->ok = true;
	return key_digest(pong->digest, p->salt, p->salt_len, pong->hostname, h, shared_key, err);
}

int fwd_pong_check(const struct fwd_pong *pong, const struct fwd_ping *p,
		   const struct fwd_helo *h, const char *shared_key, struct fwd_err *err)
{
	char want[FWD_HEX_LEN + 1];

	if (!pong->ok)
		return fwd_errf(err, "server refused: %s", pong->reason[0] ? pong->reason : "(no reason)");
	if (!shared_key)
		return fwd_errf(err, "no shared key");
	/* Same hostname, same digest: an echo of our own PING would pass. */
	if (strcmp(pong->hostname, p->hostname) == 0)
		return fwd_errf(err, "PONG hostname is our own (%s): a reflected PING",
				p->hostname);
	if (key_digest(want, p->salt, p->salt_len, pong->hostname, h, shared_key, err) != FWD_OK)
		return -1;
	if (!digest_eq(want, pong->digest))
		return fwd_errf(err, "PONG: shared key mismatch");
	return 0;
}

/* ---- encoding ------------------------------------------------------------ */

static int pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

/* Appends or leaves out as it was. */
static int finish(msgpack_sbuffer *out, size_t mark, int failed)
{
	if (failed)
		out->size = mark;
	return failed ? -1 : 0;
}

int fwd_helo_encode(msgpack_sbuffer *out, const struct fwd_helo *h)
{
	size_t mark = out->size;
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	return finish(out, mark, msgpack_pack_array(&pk, 2) || pack_str(&pk, "HELO") ||
			  msgpack_pack_map(&pk, 3) ||
			  pack_str(&pk, "nonce") ||
			  msgpack_pack_bin_with_body(&pk, h->nonce, h->nonce_len) ||
			  pack_str(&pk, "auth") ||
			  msgpack_pack_bin_with_body(&pk, h->auth, h->auth_len) ||
			  pack_str(&pk, "keepalive") ||
			  (h->keepalive ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)));
}

int fwd_ping_encode(msgpack_sbuffer *out, const struct fwd_ping *p)
{
	size_t mark = out->size;
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	return finish(out, mark, msgpack_pack_array(&pk, 6) || pack_str(&pk, "PING") ||
			  pack_str(&pk, p->hostname) ||
			  msgpack_pack_bin_with_body(&pk, p->salt, p->salt_len) ||
			  pack_str(&pk, p->digest) || pack_str(&pk, p->username) ||
			  pack_str(&pk, p->password));
}

int fwd_pong_encode(msgpack_sbuffer *out, const struct fwd_pong *p)
{
	size_t mark = out->size;
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	return finish(out, mark, msgpack_pack_array(&pk, 5) || pack_str(&pk, "PONG") ||
			  (p->ok ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) ||
			  pack_str(&pk, p->reason) || pack_str(&pk, p->hostname) ||
			  pack_str(&pk, p->digest));
}

int fwd_ack_encode(msgpack_sbuffer *out, const char *chunk)
{
	size_t mark = out->size;
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	return finish(out, mark, msgpack_pack_map(&pk, 1) || pack_str(&pk, "ack") ||
			  pack_str(&pk, chunk));
}

/* ---- decoding ------------------------------------------------------------ */

/* One small message, bounded like a frame but tighter. On FWD_OK the zone
 * is live and the caller destroys it. */
static int shake_unpack(const void *buf, size_t len, size_t *used, msgpack_zone *z,
			msgpack_object *o, const char *what, struct fwd_err *err)
{
	struct fwd_limits l;
	struct fwd_scanner s;
	int r;

	fwd_limits_default(&l);
	l.frame_max = l.str_max = SHAKE_MAX;
	l.depth_max = 2;
	l.objects_max = 64;
	*used = 0;
	scan_init(&s, &l, 0, 0, 0);
	r = scan_run(&s, buf, len, err);
	if (r != FWD_OK)
		return r == FWD_MORE ? r : fwd_errpre(err, "%s: ", what);
	*used = s.off;
	if (!msgpack_zone_init(z, 1024))
		return fwd_errf(err, "%s: out of memory", what);
	if (obj_unpack(z, buf, 0, s.off, o, err) != FWD_OK) {
		msgpack_zone_destroy(z);
		return fwd_errpre(err, "%s: ", what);
	}
	return FWD_OK;
}

int fwd_object_decode(const void *buf, size_t len, const struct fwd_limits *lim,
		      msgpack_zone *z, msgpack_object *o, size_t *used, struct fwd_err *err)
{
	struct fwd_limits l;
	struct fwd_scanner s;
	unsigned char *copy;
	int r;

	limits_clamp(&l, lim);
	*used = 0;
	scan_init(&s, &l, 0, 0, 0);
	r = scan_run(&s, buf, len, err);
	if (r != FWD_OK)
		return r;
	if (!msgpack_zone_init(z, 1024))
		return fwd_errf(err, "out of memory");
	/* msgpack-c points str/bin into what it unpacks: unpack a copy that
	 * lives in z, so the caller may reuse buf at once. */
	copy = msgpack_zone_malloc(z, s.off);
	if (!copy) {
		msgpack_zone_destroy(z);
		return fwd_errf(err, "out of memory");
	}
	memcpy(copy, buf, s.off);
	if (obj_unpack(z, copy, 0, s.off, o, err) != FWD_OK) {
		msgpack_zone_destroy(z);
		return FWD_BAD;
	}
	*used = s.off;
	return FWD_OK;
}

/* [type, ...] with n elements: the array's items, or NULL with err set. */
static const msgpack_object *shake_array(const msgpack_object *o, const char *type,
					 uint32_t n, struct fwd_err *err)
{
	const msgpack_object *t;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != n) {
		fwd_errf(err, "%s: want an array of %u", type, n);
		return NULL;
	}
	t = &o->via.array.ptr[0];
	if (t->type != MSGPACK_OBJECT_STR || t->via.str.size != strlen(type) ||
	    memcmp(t->via.str.ptr, type, t->via.str.size) != 0) {
		fwd_errf(err, "%s: first element is not \"%s\"", type, type);
		return NULL;
	}
	return o->via.array.ptr;
}

/* A str without NULs into a C string; bytes (str or bin) into a buffer. */
static int text_get(char *dst, const msgpack_object *o, const char *what, bool may_be_empty,
		    struct fwd_err *err)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return fwd_errf(err, "%s: want str, got %s", what, mp_obj_name(o->type));
	if (o->via.str.size > FWD_FIELD_MAX || (o->via.str.size == 0 && !may_be_empty))
		return fwd_errf(err, "%s: %u bytes, want %d to %d", what, o->via.str.size,
				!may_be_empty, FWD_FIELD_MAX);
	if (memchr(o->via.str.ptr, 0, o->via.str.size))
		return fwd_errf(err, "%s: contains a NUL byte", what);
	memcpy(dst, o->via.str.ptr, o->via.str.size);
	dst[o->via.str.size] = 0;
	return FWD_OK;
}

static int bytes_get(uint8_t *dst, size_t *n, const msgpack_object *o, const char *what,
		     bool may_be_empty, struct fwd_err *err)
{
	if (o->type != MSGPACK_OBJECT_STR && o->type != MSGPACK_OBJECT_BIN)
		return fwd_errf(err, "%s: want str or bin, got %s", what, mp_obj_name(o->type));
	if (o->via.bin.size > FWD_FIELD_MAX || (o->via.bin.size == 0 && !may_be_empty))
		return fwd_errf(err, "%s: %u bytes, want %d to %d", what, o->via.bin.size,
				!may_be_empty, FWD_FIELD_MAX);
	memcpy(dst, o->via.bin.ptr, o->via.bin.size);
	*n = o->via.bin.size;
	return FWD_OK;
}

/* A digest: 128 lowercase hex digits, or "" where allowed. */
static int hex_get(char dst[FWD_HEX_LEN + 1], const msgpack_object *o, const char *what,
		   bool may_be_empty, struct fwd_err *err)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return fwd_errf(err, "%s: want str, got %s", what, mp_obj_name(o->type));
	if (o->via.str.size == 0 && may_be_empty) {
		dst[0] = 0;
		return FWD_OK;
	}
	if (o->via.str.size != FWD_HEX_LEN)
		return fwd_errf(err, "%s: want %d lowercase hex digits", what, FWD_HEX_LEN);
	for (int i = 0; i < FWD_HEX_LEN; i++)
		if (!strchr("0123456789abcdef", o->via.str.ptr[i]) || !o->via.str.ptr[i])
			return fwd_errf(err, "%s: want %d lowercase hex digits", what,
					FWD_HEX_LEN);
	memcpy(dst, o->via.str.ptr, FWD_HEX_LEN);
	dst[FWD_HEX_LEN] = 0;
	return FWD_OK;
}

static int helo_option(struct fwd_helo *h, const msgpack_object_kv *kv, struct fwd_err *err)
{
	if (key_is(kv, "nonce"))
		return bytes_get(h->nonce, &h->nonce_len, &kv->val, "HELO nonce", false, err);
	if (key_is(kv, "auth"))
		return bytes_get(h->auth, &h->auth_len, &kv->val, "HELO auth", true, err);
	if (key_is(kv, "keepalive")) {
		if (kv->val.type != MSGPACK_OBJECT_BOOLEAN)
			return fwd_errf(err, "HELO keepalive: want bool, got %s",
					mp_obj_name(kv->val.type));
		h->keepalive = kv->val.via.boolean;
	}
	return FWD_OK;
}

static int helo_parse(struct fwd_helo *h, const msgpack_object *o, struct fwd_err *err)
{
	const msgpack_object *a = shake_array(o, "HELO", 2, err);

	if (!a || map_keys_check(&a[1], "HELO options", err) != FWD_OK)
		return FWD_BAD;
	h->keepalive = true;			/* the spec's default */
	for (uint32_t i = 0; i < a[1].via.map.size; i++)
		if (helo_option(h, &a[1].via.map.ptr[i], err) != FWD_OK)
			return FWD_BAD;
	if (h->nonce_len == 0)
		return fwd_errf(err, "HELO: no nonce");
	return FWD_OK;
}

static int ping_parse(struct fwd_ping *p, const msgpack_object *o, struct fwd_err *err)
{
	const msgpack_object *a = shake_array(o, "PING", 6, err);

	if (!a || text_get(p->hostname, &a[1], "PING client_hostname", false, err) != FWD_OK ||
	    bytes_get(p->salt, &p->salt_len, &a[2], "PING shared_key_salt", false, err) != FWD_OK ||
	    hex_get(p->digest, &a[3], "PING shared_key_hexdigest", false, err) != FWD_OK ||
	    text_get(p->username, &a[4], "PING username", true, err) != FWD_OK ||
	    hex_get(p->password, &a[5], "PING password", true, err) != FWD_OK)
		return FWD_BAD;
	return FWD_OK;
}

static int pong_parse(struct fwd_pong *p, const msgpack_object *o, struct fwd_err *err)
{
	const msgpack_object *a = shake_array(o, "PONG", 5, err);

	if (!a)
		return FWD_BAD;
	if (a[1].type != MSGPACK_OBJECT_BOOLEAN)
		return fwd_errf(err, "PONG auth_result: want bool, got %s", mp_obj_name(a[1].type));
	p->ok = a[1].via.boolean;
	if (text_get(p->reason, &a[2], "PONG reason", true, err) != FWD_OK ||
	    text_get(p->hostname, &a[3], "PONG server_hostname", false, err) != FWD_OK ||
	    hex_get(p->digest, &a[4], "PONG shared_key_hexdigest", !p->ok, err) != FWD_OK)
		return FWD_BAD;
	return FWD_OK;
}

static int ack_parse(char *chunk, const msgpack_object *o, struct fwd_err *err)
{
	if (map_keys_check(o, "ack", err) != FWD_OK)
		return FWD_BAD;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *v = &o->via.map.ptr[i].val;

		if (!key_is(&o->via.map.ptr[i], "ack"))
			continue;
		if (v->type != MSGPACK_OBJECT_STR)
			return fwd_errf(err, "ack: want str, got %s", mp_obj_name(v->type));
		if (v->via.str.size == 0 || v->via.str.size > FWD_CHUNK_MAX ||
		    memchr(v->via.str.ptr, 0, v->via.str.size))
			return fwd_errf(err, "ack: %u bytes, want 1 to %d without NULs",
					v->via.str.size, FWD_CHUNK_MAX);
		memcpy(chunk, v->via.str.ptr, v->via.str.size);
		chunk[v->via.str.size] = 0;
		return FWD_OK;
	}
	return fwd_errf(err, "ack: no \"ack\" key");
}

typedef int (*shake_parse_fn)(void *out, const msgpack_object *o, struct fwd_err *err);

static int helo_parse_v(void *out, const msgpack_object *o, struct fwd_err *err)
{
	return helo_parse(out, o, err);
}

static int ping_parse_v(void *out, const msgpack_object *o, struct fwd_err *err)
{
	return ping_parse(out, o, err);
}

static int pong_parse_v(void *out, const msgpack_object *o, struct fwd_err *err)
{
	return pong_parse(out, o, err);
}

static int ack_parse_v(void *out, const msgpack_object *o, struct fwd_err *err)
{
	return ack_parse(out, o, err);
}

/* Unpacks and parses into a zeroed result, and zeroes it again if the
 * message is refused, so no half-filled struct escapes. */
static int shake_decode(void *out, size_t size, shake_parse_fn parse, const char *what,
			const void *buf, size_t len, size_t *used, struct fwd_err *err)
{
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(out, 0, size);
	r = shake_unpack(buf, len, used, &z, &o, what, err);
	if (r != FWD_OK)
		return r;
	r = parse(out, &o, err);
	msgpack_zone_destroy(&z);
	if (r != FWD_OK)
		memset(out, 0, size);
	return r;
}

int fwd_helo_decode(struct fwd_helo *h, const void *buf, size_t len, size_t *used,
		    struct fwd_err *err)
{
	return shake_decode(h, sizeof(*h), helo_parse_v, "HELO", buf, len, used, err);
}

int fwd_ping_decode(struct fwd_ping *p, const void *buf, size_t len, size_t *used,
		    struct fwd_err *err)
{
	return shake_decode(p, sizeof(*p), ping_parse_v, "PING", buf, len, used, err);
}

int fwd_pong_decode(struct fwd_pong *p, const void *buf, size_t len, size_t *used,
		    struct fwd_err *err)
{
	return shake_decode(p, sizeof(*p), pong_parse_v, "PONG", buf, len, used, err);
}

int fwd_ack_decode(char chunk[FWD_CHUNK_MAX + 1], const void *buf, size_t len, size_t *used,
		   struct fwd_err *err)
{
	return shake_decode(chunk, FWD_CHUNK_MAX + 1, ack_parse_v, "ack", buf, len, used, err);
}
