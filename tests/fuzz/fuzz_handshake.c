/* fuzz_handshake.c: the HELO, PING, PONG and ack decoders on arbitrary
 * bytes. What one takes must be well formed (NUL-terminated fields within
 * their sizes, digests of 128 hex digits or empty) and must come back the
 * same through its encoder and decoder again; the digest checks run on it
 * too, so they see hostile salts and names. */
#include <stdint.h>
#include <string.h>

#include "forward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
	if (strnlen(s, cap) >= cap)
		__builtin_trap();
}

static void check_hex(const char *s)
{
	size_t n = strlen(s);

	if ((n != 0 && n != FWD_HEX_LEN) || strspn(s, "0123456789abcdef") != n)
		__builtin_trap();
}

/* A verdict that says why, and a size only with a message. */
static void check_verdict(int r, const struct fwd_err *err, size_t used, size_t size)
{
	if ((r == FWD_BAD && !err->msg[0]) || (r == FWD_OK && (used == 0 || used > size)) ||
	    (r == FWD_MORE && used))
		__builtin_trap();
}

static void helo(const uint8_t *data, size_t size)
{
	struct fwd_helo h, again;
	struct fwd_err err = {{0}};
	msgpack_sbuffer sb;
	size_t used;
	int r = fwd_helo_decode(&h, data, size, &used, &err);

	check_verdict(r, &err, used, size);
	if (r != FWD_OK)
		return;
	if (h.nonce_len == 0 || h.nonce_len > FWD_FIELD_MAX || h.auth_len > FWD_FIELD_MAX)
		__builtin_trap();
	msgpack_sbuffer_init(&sb);
	if (fwd_helo_encode(&sb, &h) || fwd_helo_decode(&again, sb.data, sb.size, &used, &err) ||
	    again.nonce_len != h.nonce_len || again.auth_len != h.auth_len ||
	    memcmp(again.nonce, h.nonce, h.nonce_len) || memcmp(again.auth, h.auth, h.auth_len) ||
	    again.keepalive != h.keepalive)
		__builtin_trap();
	msgpack_sbuffer_destroy(&sb);
}

static void ping(const uint8_t *data, size_t size)
{
	static const struct fwd_helo h = {.nonce = "nonce", .nonce_len = 5, .auth = "a", .auth_len = 1};
	struct fwd_ping p, again;
	struct fwd_err err = {{0}};
	msgpack_sbuffer sb;
	size_t used;
	int r = fwd_ping_decode(&p, data, size, &used, &err);

	check_verdict(r, &err, used, size);
	if (r != FWD_OK)
		return;
	check_text(p.hostname, sizeof(p.hostname));
	check_text(p.username, sizeof(p.username));
	check_hex(p.digest);
	check_hex(p.password);
	if (!p.hostname[0] || strlen(p.digest) != FWD_HEX_LEN || p.salt_len == 0 ||
	    p.salt_len > FWD_FIELD_MAX)
		__builtin_trap();
	err.msg[0] = 0;
	if (fwd_ping_check(&p, &h, "key", "pw", &err) != 0 && !err.msg[0])
		__builtin_trap();
	msgpack_sbuffer_init(&sb);
	if (fwd_ping_encode(&sb, &p) || fwd_ping_decode(&again, sb.data, sb.size, &used, &err) ||
	    memcmp(&again, &p, sizeof(p)))
		__builtin_trap();
	msgpack_sbuffer_destroy(&sb);
}

static void pong(const uint8_t *data, size_t size)
{
	static const struct fwd_helo h = {.nonce = "nonce", .nonce_len = 5};
	static const struct fwd_ping p = {.hostname = "client", .salt = "salt", .salt_len = 4};
	struct fwd_pong o, again;
	struct fwd_err err = {{0}};
	msgpack_sbuffer sb;
	size_t used;
	int r = fwd_pong_decode(&o, data, size, &used, &err);

	check_verdict(r, &err, used, size);
	if (r != FWD_OK)
		return;
	check_text(o.reason, sizeof(o.reason));
	check_text(o.hostname, sizeof(o.hostname));
	check_hex(o.digest);
	if (!o.hostname[0] || (o.ok && !o.digest[0]))
		__builtin_trap();
	err.msg[0] = 0;
	if (fwd_pong_check(&o, &p, &h, "key", &err) != 0 && !err.msg[0])
		__builtin_trap();
	msgpack_sbuffer_init(&sb);
	if (fwd_pong_encode(&sb, &o) || fwd_pong_decode(&again, sb.data, sb.size, &used, &err) ||
	    memcmp(&again, &o, sizeof(o)))
		__builtin_trap();
	msgpack_sbuffer_destroy(&sb);
}

static void ack(const uint8_t *data, size_t size)
{
	char chunk[FWD_CHUNK_MAX + 1], again[FWD_CHUNK_MAX + 1];
	struct fwd_err err = {{0}};
	msgpack_sbuffer sb;
	size_t used;
	int r = fwd_ack_decode(chunk, data, size, &used, &err);

	check_verdict(r, &err, used, size);
	if (r != FWD_OK)
		return;
	check_text(chunk, sizeof(chunk));
	msgpack_sbuffer_init(&sb);
	if (!chunk[0] || fwd_ack_encode(&sb, chunk) ||
	    fwd_ack_decode(again, sb.data, sb.size, &used, &err) || strcmp(again, chunk))
		__builtin_trap();
	msgpack_sbuffer_destroy(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	helo(data, size);
	ping(data, size);
	pong(data, size);
	ack(data, size);
	return 0;
}
