/* test_handshake.c: the Forward handshake (HELO, PING, PONG) and the ack:
 * a whole exchange through the wire encoding, digests checked against
 * vectors computed independently (Python hashlib), and the ways a peer
 * without the key, or a hostile byte stream, must fail. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "forward.h"
#include "testutil.h"

/* sha512(salt + hostname + nonce + key) for the values below, by hashlib. */
#define SALT	"0123456789abcdef"
#define NONCE	"NONCE-0123456789"
#define PING_HEX "739436a0cc3ba910176356b008ebeb9ecb503829c39addfcd8468b33d7b5fad3" \
		 "df9579489ad29efda88bfaad6c5ea8577432c37c97d96e7ed8e64006ccfb9029"
#define PONG_HEX "ccb13e8841caa5facd250cd3aaddec22a30255ffcd67ff49deff8a0872198882" \
		 "a3346aef2a16519a11f2f6c4fd232bc6ccf1d85ceab1108e05d0b81ae2e271f6"
/* sha512("AUTHSALT" + "alice" + "pw") */
#define PASS_HEX "a8f12eea4d1d59f67541d29f7b8deba18a4ec74831fdf9adb5edd35d1e1b3e80" \
		 "d50a45b03de3acfcd36293a157ce5f038749900b7bb2cb9bc9ab92c8ce70a1ef"

static void pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Each message through its encoder and decoder, checking the decoder
 * takes exactly what the encoder wrote and waits on every prefix. */
static void wire_helo(struct fwd_helo *out, const struct fwd_helo *in)
{
	msgpack_sbuffer sb;
	struct fwd_err err;
	size_t used;

	msgpack_sbuffer_init(&sb);
	assert_int_equal(fwd_helo_encode(&sb, in), 0);
	for (size_t k = 0; k < sb.size; k++)
		assert_int_equal(fwd_helo_decode(out, sb.data, k, &used, &err), FWD_MORE);
	if (fwd_helo_decode(out, sb.data, sb.size, &used, &err) != FWD_OK)
		fail_msg("HELO: %s", err.msg);
	assert_int_equal(used, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void wire_ping(struct fwd_ping *out, const struct fwd_ping *in)
{
	msgpack_sbuffer sb;
	struct fwd_err err;
	size_t used;

	msgpack_sbuffer_init(&sb);
	assert_int_equal(fwd_ping_encode(&sb, in), 0);
	for (size_t k = 0; k < sb.size; k++)
		assert_int_equal(fwd_ping_decode(out, sb.data, k, &used, &err), FWD_MORE);
	if (fwd_ping_decode(out, sb.data, sb.size, &used, &err) != FWD_OK)
		fail_msg("PING: %s", err.msg);
	assert_int_equal(used, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void wire_pong(struct fwd_pong *out, const struct fwd_pong *in)
{
	msgpack_sbuffer sb;
	struct fwd_err err;
	size_t used;

	msgpack_sbuffer_init(&sb);
	assert_int_equal(fwd_pong_encode(&sb, in), 0);
	for (size_t k = 0; k < sb.size; k++)
		assert_int_equal(fwd_pong_decode(out, sb.data, k, &used, &err), FWD_MORE);
	if (fwd_pong_decode(out, sb.data, sb.size, &used, &err) != FWD_OK)
		fail_msg("PONG: %s", err.msg);
	assert_int_equal(used, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void full_exchange(bool users)
{
	struct fwd_helo helo, c_helo;
	struct fwd_ping ping, s_ping;
	struct fwd_pong pong, c_pong;
	struct fwd_err err;

	/* server */
	assert_int_equal(fwd_helo_make(&helo, users, false, &err), 0);
	assert_int_equal(helo.nonce_len, 16);
	assert_int_equal(helo.auth_len, users ? 16 : 0);
	/* client */
	wire_helo(&c_helo, &helo);
	assert_memory_equal(c_helo.nonce, helo.nonce, 16);
	assert_false(c_helo.keepalive);
	if (fwd_ping_make(&ping, &c_helo, "sensor-1.example", "s3cret", "alice", "pw", &err))
		fail_msg("ping_make: %s", err.msg);
	assert_int_equal(strlen(ping.password), users ? FWD_HEX_LEN : 0);
	/* server */
	wire_ping(&s_ping, &ping);
	assert_string_equal(s_ping.hostname, "sensor-1.example");
	assert_string_equal(s_ping.username, users ? "alice" : "");
	if (fwd_ping_check(&s_ping, &helo, "s3cret", "pw", &err) != 0)
		fail_msg("ping_check: %s", err.msg);
	assert_int_equal(fwd_pong_make(&pong, &s_ping, &helo, "collector.example", "s3cret",
				       NULL, &err), 0);
	/* client */
	wire_pong(&c_pong, &pong);
	assert_true(c_pong.ok);
	if (fwd_pong_check(&c_pong, &ping, &c_helo, "s3cret", &err) != 0)
		fail_msg("pong_check: %s", err.msg);
}

static void exchange_shared_key(void **state)
{
	full_exchange(false);
}

static void exchange_with_users(void **state)
{
	full_exchange(true);
}

/* The digests are the spec's, not merely self-consistent. */
static void known_vectors(void **state)
{
	struct fwd_helo h = {.nonce_len = 16, .auth_len = 8, .keepalive = true};
	struct fwd_ping p = {.salt_len = 16};
	struct fwd_pong pong;
	struct fwd_err err;

	memcpy(h.nonce, NONCE, 16);
	memcpy(h.auth, "AUTHSALT", 8);
	memcpy(p.salt, SALT, 16);
	strcpy(p.hostname, "client.example");
	strcpy(p.digest, PING_HEX);
	strcpy(p.username, "alice");
	strcpy(p.password, PASS_HEX);
	if (fwd_ping_check(&p, &h, "secret", "pw", &err) != 0)
		fail_msg("ping_check: %s", err.msg);
	assert_int_equal(fwd_pong_make(&pong, &p, &h, "server.example", "secret", NULL, &err), 0);
	assert_string_equal(pong.digest, PONG_HEX);
	assert_int_equal(fwd_pong_check(&pong, &p, &h, "secret", &err), 0);
}

static void wrong_digests(void **state)
{
	struct fwd_helo h;
	struct fwd_ping p, bad;
	struct fwd_pong pong;
	struct fwd_err err;

	assert_int_equal(fwd_helo_make(&h, true, true, &err), 0);
	assert_int_equal(fwd_ping_make(&p, &h, "c.example", "key", "alice", "pw", &err), 0);

	assert_int_equal(fwd_ping_check(&p, &h, "other key", "pw", &err), -1);
	assert_string_equal(err.msg, "shared key mismatch");
	bad = p;
	bad.digest[17] = bad.digest[17] == '0' ? '1' : '0';
	assert_int_equal(fwd_ping_check(&bad, &h, "key", "pw", &err), -1);
	assert_string_equal(err.msg, "shared key mismatch");
	bad = p;
	strcpy(bad.hostname, "d.example");	/* a digest made for another host */
	assert_int_equal(fwd_ping_check(&bad, &h, "key", "pw", &err), -1);
	assert_int_equal(fwd_ping_check(&p, &h, "key", "wrong", &err), -1);
	assert_string_equal(err.msg, "username/password mismatch");
	assert_int_equal(fwd_ping_check(&p, &h, "key", NULL, &err), -1);	/* unknown user */
	assert_string_equal(err.msg, "username/password mismatch");
	h.nonce[0] ^= 1;			/* a PING from another connection */
	assert_int_equal(fwd_ping_check(&p, &h, "key", "pw", &err), -1);
	h.nonce[0] ^= 1;

	/* client side: the server's key, a refusal, a reflected PING */
	assert_int_equal(fwd_pong_make(&pong, &p, &h, "s.example", "not key", NULL, &err), 0);
	assert_int_equal(fwd_pong_check(&pong, &p, &h, "key", &err), -1);
	assert_string_equal(err.msg, "PONG: shared key mismatch");
	assert_int_equal(fwd_pong_make(&pong, &p, &h, "s.example", "key", "shared key mismatch",
				       &err), 0);
	assert_false(pong.ok);
	assert_string_equal(pong.digest, "");
	assert_int_equal(fwd_pong_check(&pong, &p, &h, "key", &err), -1);
	assert_string_equal(err.msg, "server refused: shared key mismatch");
	memset(&pong, 0, sizeof(pong));
	pong.ok = true;
	strcpy(pong.hostname, p.hostname);
	strcpy(pong.digest, p.digest);		/* our own digest sent back */
	assert_int_equal(fwd_pong_check(&pong, &p, &h, "key", &err), -1);
	assert_non_null(strstr(err.msg, "a reflected PING"));

	/* making: what the server asks for must be there */
	assert_int_equal(fwd_ping_make(&p, &h, "c.example", "key", NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "wants a username and password"));
	assert_int_equal(fwd_ping_make(&p, &h, "", "key", "a", "b", &err), -1);
	assert_non_null(strstr(err.msg, "PING hostname: 0 bytes"));
}

static void ack_roundtrip(void **state)
{
	msgpack_sbuffer sb;
	char chunk[FWD_CHUNK_MAX + 1];
	struct fwd_err err;
	size_t used;

	msgpack_sbuffer_init(&sb);
	assert_int_equal(fwd_ack_encode(&sb, "p8n9gmxTQVC8/nh2wlKKeQ=="), 0);
	assert_int_equal(sb.data[0], (char)0x81);
	for (size_t k = 0; k < sb.size; k++)
		assert_int_equal(fwd_ack_decode(chunk, sb.data, k, &used, &err), FWD_MORE);
	assert_int_equal(fwd_ack_decode(chunk, sb.data, sb.size, &used, &err), FWD_OK);
	assert_int_equal(used, sb.size);
	assert_string_equal(chunk, "p8n9gmxTQVC8/nh2wlKKeQ==");
	msgpack_sbuffer_destroy(&sb);
}

/* ---- hostile messages ------------------------------------------------------ */

enum msg { HELO, PING, PONG, ACK };

static void refuse(enum msg m, msgpack_sbuffer *sb, const char *why)
{
	union {
		struct fwd_helo h;
		struct fwd_ping p;
		struct fwd_pong o;
		char chunk[FWD_CHUNK_MAX + 1];
	} u;
	struct fwd_err err = {{0}};
	size_t used;
	int r;

	r = m == HELO ? fwd_helo_decode(&u.h, sb->data, sb->size, &used, &err) :
	    m == PING ? fwd_ping_decode(&u.p, sb->data, sb->size, &used, &err) :
	    m == PONG ? fwd_pong_decode(&u.o, sb->data, sb->size, &used, &err) :
			fwd_ack_decode(u.chunk, sb->data, sb->size, &used, &err);
	if (r != FWD_BAD || !strstr(err.msg, why))
		fail_msg("want refusal with \"%s\", got %d \"%s\"", why, r, err.msg);
	msgpack_sbuffer_clear(sb);
}

static void ping_fields(msgpack_packer *pk, const char *host, const char *digest,
			const char *user, const char *pass)
{
	msgpack_pack_array(pk, 6);
	pstr(pk, "PING");
	pstr(pk, host);
	msgpack_pack_bin_with_body(pk, SALT, 16);
	pstr(pk, digest);
	pstr(pk, user);
	pstr(pk, pass);
}

static void hostile_messages(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char longname[300];

	memset(longname, 'h', 299);
	longname[299] = 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

	msgpack_sbuffer_write(&sb, "\xc1", 1);
	refuse(HELO, &sb, "HELO: byte 0xc1 at offset 0 is not msgpack");
	msgpack_sbuffer_write(&sb, "\xdd\xff\xff\xff\xff", 5);
	refuse(PING, &sb, "cannot fit");
	msgpack_sbuffer_write(&sb, "\xda\x20\x00", 3);	/* str16 of 8 KiB */
	refuse(PONG, &sb, "over the 4096-byte limit");
	msgpack_sbuffer_write(&sb, "\x91\x91\x91\xc0", 4);
	refuse(ACK, &sb, "nesting deeper than 2");

	msgpack_pack_array(&pk, 2);		/* a PING where a HELO belongs */
	pstr(&pk, "PING");
	msgpack_pack_map(&pk, 0);
	refuse(HELO, &sb, "HELO: first element is not \"HELO\"");
	msgpack_pack_array(&pk, 3);
	pstr(&pk, "HELO");
	msgpack_pack_map(&pk, 0);
	msgpack_pack_nil(&pk);
	refuse(HELO, &sb, "HELO: want an array of 2");
	msgpack_pack_array(&pk, 2);
	pstr(&pk, "HELO");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "auth");
	pstr(&pk, "");
	refuse(HELO, &sb, "HELO: no nonce");
	msgpack_pack_array(&pk, 2);
	pstr(&pk, "HELO");
	msgpack_pack_map(&pk, 2);
	pstr(&pk, "nonce");
	msgpack_pack_int(&pk, 5);
	pstr(&pk, "keepalive");
	msgpack_pack_true(&pk);
	refuse(HELO, &sb, "HELO nonce: want str or bin, got int");
	msgpack_pack_array(&pk, 2);
	pstr(&pk, "HELO");
	msgpack_pack_map(&pk, 2);
	pstr(&pk, "nonce");
	pstr(&pk, "n");
	pstr(&pk, "keepalive");
	pstr(&pk, "yes");
	refuse(HELO, &sb, "HELO keepalive: want bool, got str");
	msgpack_pack_array(&pk, 2);
	pstr(&pk, "HELO");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "nonce");
	pstr(&pk, longname);
	refuse(HELO, &sb, "HELO nonce: 299 bytes, want 1 to 255");

	ping_fields(&pk, "c", "abc", "", "");
	refuse(PING, &sb, "PING shared_key_hexdigest: want 128 lowercase hex digits");
	ping_fields(&pk, "c", PING_HEX, "", "");
	sb.data[sb.size - 2 - 128 + 5] = 'G';	/* one digit not hex */
	refuse(PING, &sb, "PING shared_key_hexdigest: want 128 lowercase hex digits");
	ping_fields(&pk, "", PING_HEX, "", "");
	refuse(PING, &sb, "PING client_hostname: 0 bytes");
	ping_fields(&pk, longname, PING_HEX, "", "");
	refuse(PING, &sb, "PING client_hostname: 299 bytes");
	ping_fields(&pk, "c", PING_HEX, "", "x");
	refuse(PING, &sb, "PING password: want 128 lowercase hex digits");
	msgpack_pack_array(&pk, 5);
	pstr(&pk, "PING");
	for (int i = 0; i < 4; i++)
		pstr(&pk, "");
	refuse(PING, &sb, "PING: want an array of 6");

	msgpack_pack_array(&pk, 5);
	pstr(&pk, "PONG");
	msgpack_pack_int(&pk, 1);
	pstr(&pk, "");
	pstr(&pk, "s");
	pstr(&pk, "");
	refuse(PONG, &sb, "PONG auth_result: want bool, got int");
	msgpack_pack_array(&pk, 5);
	pstr(&pk, "PONG");
	msgpack_pack_true(&pk);
	pstr(&pk, "");
	pstr(&pk, "s");
	pstr(&pk, "");				/* accepted, yet unsigned */
	refuse(PONG, &sb, "PONG shared_key_hexdigest: want 128");
	msgpack_pack_array(&pk, 5);
	pstr(&pk, "PONG");
	msgpack_pack_false(&pk);
	pstr(&pk, "r");
	msgpack_pack_nil(&pk);
	pstr(&pk, "");
	refuse(PONG, &sb, "PONG server_hostname: want str, got nil");

	msgpack_pack_map(&pk, 1);
	pstr(&pk, "nack");
	pstr(&pk, "c");
	refuse(ACK, &sb, "ack: no \"ack\" key");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "ack");
	msgpack_pack_int(&pk, 1);
	refuse(ACK, &sb, "ack: want str, got int");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "ack");
	pstr(&pk, longname);
	refuse(ACK, &sb, "ack: 299 bytes, want 1 to 128");
	msgpack_pack_map(&pk, 2);
	pstr(&pk, "ack");
	pstr(&pk, "a");
	pstr(&pk, "ack");
	pstr(&pk, "b");
	refuse(ACK, &sb, "ack: key \"ack\" given twice");
	msgpack_pack_array(&pk, 1);
	pstr(&pk, "ack");
	refuse(ACK, &sb, "ack: want map, got array");
	msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exchange_shared_key),
		cmocka_unit_test(exchange_with_users),
		cmocka_unit_test(known_vectors),
		cmocka_unit_test(wrong_digests),
		cmocka_unit_test(ack_roundtrip),
		cmocka_unit_test(hostile_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
