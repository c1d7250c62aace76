/* test_enroll.c: the enrollment request parser on good and hostile bytes,
 * tokens, the whole exchange against a real CA and a real SQLite store, and
 * the rule that fills in or refuses a record's device.uid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "collector.h"
#include "forward.h"
#include "serve_int.h"

/* ---- building requests ------------------------------------------------------ */

static void pk_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* {"enroll": {token, csr, hostname, machine_id}}, any of them NULL to leave out. */
static void request(msgpack_sbuffer *b, const char *token, const char *csr, const char *host,
		    const char *mid)
{
	msgpack_packer pk;
	int n = !!token + !!csr + !!host + !!mid;

	msgpack_sbuffer_init(b);
	msgpack_packer_init(&pk, b, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	pk_str(&pk, "enroll");
	msgpack_pack_map(&pk, (size_t)n);
	if (token)
		pk_str(&pk, "token"), pk_str(&pk, token);
	if (csr)
		pk_str(&pk, "csr"), pk_str(&pk, csr);
	if (host)
		pk_str(&pk, "hostname"), pk_str(&pk, host);
	if (mid)
		pk_str(&pk, "machine_id"), pk_str(&pk, mid);
}

static int parse(const void *p, size_t n, struct cerr *err)
{
	struct enr_req r;
	size_t used;
	int rc = enr_parse(&r, p, n, &used, err);

	if (rc == FWD_OK)
		enr_req_free(&r);
	return rc;
}

static void bad(const void *p, size_t n, const char *want)
{
	struct cerr err = {{0}};
	int rc = parse(p, n, &err);

	if (rc != FWD_BAD)
		fail_msg("want refused (%s), got %d", want, rc);
	if (!strstr(err.msg, want))
		fail_msg("want '%s' in '%s'", want, err.msg);
}

static void bad_req(const char *token, const char *csr, const char *host, const char *mid,
		    const char *want)
{
	msgpack_sbuffer b;

	request(&b, token, csr, host, mid);
	bad(b.data, b.size, want);
	msgpack_sbuffer_destroy(&b);
}

#define TOKEN "0123456789abcdef.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CSR "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"

static void test_parse_ok(void **state)
{
	msgpack_sbuffer b;
	struct enr_req r;
	struct cerr err;
	size_t used;

	(void)state;
	request(&b, TOKEN, CSR, "web-1.example.com", "4f1c2e");
	msgpack_sbuffer_write(&b, "\x93trailing", 9);	/* what follows is not read */
	assert_int_equal(enr_parse(&r, b.data, b.size, &used, &err), FWD_OK);
	assert_int_equal(used, b.size - 9);
	assert_string_equal(r.token, TOKEN);
	assert_string_equal(r.csr, CSR);
	assert_int_equal(r.csr_len, strlen(CSR));
	assert_string_equal(r.hostname, "web-1.example.com");
	assert_string_equal(r.machine_id, "4f1c2e");
	enr_req_free(&r);
	/* Every prefix is "more", never a refusal: a slow client is not an attacker. */
	for (size_t n = 0; n < used; n++)
		if (parse(b.data, n, &err) != FWD_MORE)
			fail_msg("prefix of %zu bytes: %s", n, err.msg);
	msgpack_sbuffer_destroy(&b);
}

static void test_parse_refusals(void **state)
{
	msgpack_sbuffer b;
	msgpack_packer pk;
	char big[300];

	(void)state;
	bad("\x93\xa1x\xa1y\xc0", 6, "a msgpack array (a Forward frame");
	bad("\x05", 1, "a msgpack value other than a map");
	bad("\xc1", 1, "0xc1");
	bad("\xdf\xff\xff\xff\xff", 5, "cannot fit");
	bad("\x81\xa6" "enroll" "\x05", 9, "\"enroll\" must be a map");
	bad("\x81\xa3" "foo" "\x80", 6, "only the key \"enroll\" is taken");
	bad("\x81\x01\x80", 3, "a key that is not a string");
	bad("\x82\xa6" "enroll" "\x80\xa6" "enroll" "\x80", 17, "key 'enroll' given twice");
	bad("\x80", 1, "\"enroll\" must be a map");
	bad_req(NULL, CSR, "h", "m", "enroll.token is missing");
	bad_req(TOKEN, NULL, "h", "m", "enroll.csr is missing");
	bad_req(TOKEN, CSR, NULL, "m", "enroll.hostname is missing");
	bad_req(TOKEN, CSR, "h", NULL, "enroll.machine_id is missing");
	bad_req(TOKEN, CSR, "h", "", "enroll.machine_id: 0 bytes");
	bad_req(TOKEN, CSR, "a host", "m", "enroll.hostname: characters outside");
	bad_req(TOKEN, CSR, "h\n", "m", "enroll.hostname: characters outside");
	bad_req(TOKEN, CSR, "h", "m/../x", "enroll.machine_id: characters outside");
	{	/* A NUL inside a field: strchr("-_", 0) must not let it through. */
		static const char nul_host[] = "\x81\xa6" "enroll" "\x84\xa5token\xa1t\xa3" "csr"
					       "\xa1x\xa8hostname\xa3" "a\0b" "\xaamachine_id\xa1m";

		bad(nul_host, sizeof(nul_host) - 1, "enroll.hostname: characters outside");
	}
	bad_req("id.sec ret", CSR, "h", "m", "enroll.token: characters outside");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	bad_req(big, CSR, "h", "m", "enroll.token: 299 bytes");
	bad_req(TOKEN, CSR, big, "m", "enroll.hostname: 299 bytes");
	big[65] = 0;
	bad_req(TOKEN, CSR, "h", big, "enroll.machine_id: 65 bytes");
	bad_req(TOKEN, "", "h", "m", "enroll.csr: 0 bytes");
	/* Deeper than a map of a map, and more objects than a request has. */
	msgpack_sbuffer_init(&b);
	msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	pk_str(&pk, "enroll");
	msgpack_pack_map(&pk, 1);
	pk_str(&pk, "token");
	msgpack_pack_array(&pk, 0);
	bad(b.data, b.size, "nesting deeper than 2");
	msgpack_sbuffer_clear(&b);
	msgpack_pack_map(&pk, 1);
	pk_str(&pk, "enroll");
	msgpack_pack_map(&pk, 40);
	for (int i = 0; i < 40; i++) {
		msgpack_pack_int(&pk, i);
		msgpack_pack_nil(&pk);
	}
	bad(b.data, b.size, "more than 64 msgpack objects");
	/* A CSR as bin is fine; with a NUL inside it is not. */
	msgpack_sbuffer_clear(&b);
	msgpack_pack_map(&pk, 1);
	pk_str(&pk, "enroll");
	msgpack_pack_map(&pk, 4);
	pk_str(&pk, "token"), pk_str(&pk, TOKEN);
	pk_str(&pk, "hostname"), pk_str(&pk, "h");
	pk_str(&pk, "machine_id"), pk_str(&pk, "m");
	pk_str(&pk, "csr");
	msgpack_pack_bin(&pk, 5);
	msgpack_pack_bin_body(&pk, "ab\0cd", 5);
	bad(b.data, b.size, "enroll.csr: a NUL byte");
	msgpack_sbuffer_destroy(&b);
	/* A request bigger than ENR_REQ_MAX is refused from its header on. */
	{
		char *csr = malloc(ENR_REQ_MAX + 10);

		memset(csr, 'A', ENR_REQ_MAX + 9);
		csr[ENR_REQ_MAX + 9] = 0;
		request(&b, TOKEN, csr, "h", "m");
		bad(b.data, 120, "limit");
		msgpack_sbuffer_destroy(&b);
		free(csr);
	}
}

/* ---- tokens -------------------------------------------------------------------- */

static void test_tokens(void **state)
{
	struct tok t, u;
	struct cerr err;
	char h[65], text[200];

	(void)state;
	assert_int_equal(tok_make(&t, &err), 0);
	assert_int_equal(strlen(t.id), TOK_ID_HEX);
	assert_int_equal(strlen(t.secret), TOK_SECRET_HEX);
	assert_int_equal(tok_make(&u, &err), 0);
	assert_string_not_equal(t.secret, u.secret);
	snprintf(text, sizeof(text), "%s.%s", t.id, t.secret);
	assert_int_equal(tok_split(text, strlen(text), &u, &err), 0);
	assert_string_equal(u.id, t.id);
	assert_string_equal(u.secret, t.secret);
	snprintf(text, sizeof(text), "%s.%s.%064d", t.id, t.secret, 0);
	assert_int_equal(tok_split(text, strlen(text), &u, &err), 0);
	assert_int_equal(tok_split(text, strlen(text) - 1, &u, &err), -1);	/* short pin */
	text[0] = 'A';							/* upper case */
	assert_int_equal(tok_split(text, strlen(text), &u, &err), -1);
	assert_int_equal(tok_split("abc.def", 7, &u, &err), -1);
	assert_int_equal(tok_split(TOKEN "x", strlen(TOKEN) + 1, &u, &err), -1);
	assert_int_equal(tok_split(TOKEN, strlen(TOKEN), &u, &err), 0);
	tok_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* ---- the exchange, against a real CA and store ----------------------------------- */

struct fix {
	char dir[64];
	struct ccfg cfg;
	struct sst st;
	char *csr;
};

static int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct tls_err terr;
	struct cerr err;
	char key[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_enroll_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	ccfg_defaults(&f->cfg);
	f->cfg.state_dir = strdup(f->dir);
	if (sst_open(&f->st, &f->cfg, false, &err))
		fail_msg("sst_open: %s", err.msg);
	snprintf(key, sizeof(key), "%s/host.key", f->dir);
	if (pki_key_csr(key, "asks-for-this-name", &f->csr, &terr))
		fail_msg("pki_key_csr: %s", terr.msg);
	*state = f;
	return 0;
}

static int fix_teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	sst_close(&f->st);
	free(f->cfg.state_dir);
	free(f->csr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static msgpack_sbuffer reply;		/* the unpacked reply points into it */

/* Enrolls with token text; returns enr_handle's result, the reply decoded in *out. */
static int try_enroll(struct fix *f, const char *token, const char *csr, msgpack_unpacked *out,
		      char host[PKI_HOSTID_MAX + 1], char serial[PKI_SERIAL_HEX + 1],
		      struct cerr *err)
{
	struct enr_ctx x = {.state = &f->st, .cert_days = 30, .now = (int64_t)time(NULL)};
	struct enr_req r = {0};
	size_t off = 0;
	int rc;

	snprintf(r.token, sizeof(r.token), "%s", token);
	snprintf(r.hostname, sizeof(r.hostname), "web-1");
	snprintf(r.machine_id, sizeof(r.machine_id), "0011");
	r.csr = strdup(csr);
	r.csr_len = strlen(csr);
	msgpack_sbuffer_destroy(&reply);
	msgpack_sbuffer_init(&reply);
	rc = enr_handle(&x, &r, &reply, host, serial, err);
	msgpack_unpacked_init(out);
	assert_int_equal(msgpack_unpack_next(out, reply.data, reply.size, &off),
			 MSGPACK_UNPACK_SUCCESS);
	enr_req_free(&r);
	return rc;
}

static const msgpack_object *get(const msgpack_object *m, const char *key)
{
	assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (m->via.map.ptr[i].key.via.str.size == strlen(key) &&
		    !memcmp(m->via.map.ptr[i].key.via.str.ptr, key, strlen(key)))
			return &m->via.map.ptr[i].val;
	return NULL;
}

static void test_exchange(void **state)
{
	struct fix *f = *state;
	char token[TOK_TEXT_MAX + 1], host[PKI_HOSTID_MAX + 1], serial[PKI_SERIAL_HEX + 1];
	char cn[128] = "", *pem;
	const msgpack_object *o;
	msgpack_unpacked u;
	struct st_err serr;
	struct cerr err;
	X509 *x;
	BIO *bio;

	assert_int_equal(tok_create(f->st.st, f->st.ca_pem, f->st.ca_pem_len, (int64_t)time(NULL),
				    600, 1, token, &err), 0);
	assert_string_equal(token + TOK_ID_HEX + 1 + TOK_SECRET_HEX + 1, f->st.pin);
	/* A CSR that is not one: refused, and the token is not spent. */
	assert_int_equal(try_enroll(f, token, "-----BEGIN CERTIFICATE REQUEST-----\nQUJD\n"
				    "-----END CERTIFICATE REQUEST-----\n", &u, host, serial, &err),
			 ENR_REFUSED);
	assert_non_null(strstr(err.msg, "csr"));
	o = get(&u.data, "ok");
	assert_true(o && o->type == MSGPACK_OBJECT_BOOLEAN && !o->via.boolean);
	msgpack_unpacked_destroy(&u);
	/* Now the real thing. */
	if (try_enroll(f, token, f->csr, &u, host, serial, &err))
		fail_msg("enrollment: %s", err.msg);
	o = get(&u.data, "ok");
	assert_true(o && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean);
	o = get(&u.data, "host_id");
	assert_true(o && o->via.str.size == 32 && !memcmp(o->via.str.ptr, host, 32));
	o = get(&u.data, "ca");
	assert_true(o && o->via.str.size == f->st.ca_pem_len);
	o = get(&u.data, "cert");
	assert_non_null(o);
	pem = strndup(o->via.str.ptr, o->via.str.size);
	bio = BIO_new_mem_buf(pem, -1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, host);		/* not what the CSR asked for */
	X509_free(x);
	BIO_free(bio);
	free(pem);
	msgpack_unpacked_destroy(&u);
	/* The store knows the certificate; the token is used up. */
	assert_int_equal(st_cert_check(f->st.st, serial, host, &serr), 0);
	assert_int_equal(try_enroll(f, token, f->csr, &u, host, serial, &err), ENR_REFUSED);
	assert_non_null(strstr(err.msg, "used up"));
	o = get(&u.data, "error");
	assert_true(o && memmem(o->via.str.ptr, o->via.str.size, "used up", 7));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&reply);
}

/* ---- device.uid: filled in, or refused ------------------------------------------- */

static void unpack(msgpack_unpacked *u, msgpack_sbuffer *b)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	assert_int_equal(msgpack_unpack_next(u, b->data, b->size, &off), MSGPACK_UNPACK_SUCCESS);
}

/* The record written as a tiny msgpack description: pairs of key and value. */
static void record(msgpack_sbuffer *b, const char *device_uid, bool with_class, bool dev_map)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(b);
	msgpack_packer_init(&pk, b, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1 + (with_class ? 2 : 0) + (device_uid || dev_map ? 1 : 0));
	pk_str(&pk, "message"), pk_str(&pk, "hi");
	if (with_class) {
		pk_str(&pk, "class_uid"), msgpack_pack_int(&pk, 1001);
		pk_str(&pk, "time"), msgpack_pack_int64(&pk, 1700000000123);
	}
	if (device_uid || dev_map) {
		pk_str(&pk, "device");
		msgpack_pack_map(&pk, device_uid ? 2 : 1);
		pk_str(&pk, "hostname"), pk_str(&pk, "x");
		if (device_uid)
			pk_str(&pk, "uid"), pk_str(&pk, device_uid);
	}
}

static void test_patch(void **state)
{
	const uint64_t t = 1700000000123456789ull;
	msgpack_object *out;
	const msgpack_object *o;
	msgpack_unpacked u;
	msgpack_sbuffer b;
	msgpack_zone z;
	struct cerr why;

	(void)state;
	msgpack_zone_init(&z, 1024);
	/* Complete and ours: taken as it is. */
	record(&b, "h1", true, true);
	unpack(&u, &b);
	assert_int_equal(ingest_patch(&u.data, "h1", t, &z, &out, &why), 0);
	assert_ptr_equal(out, &u.data);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&b);
	/* Another host's: refused, named. */
	record(&b, "h2", true, true);
	unpack(&u, &b);
	assert_int_equal(ingest_patch(&u.data, "h1", t, &z, &out, &why), 1);
	assert_string_equal(why.msg, "device.uid 'h2' is not this connection's host 'h1'");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&b);
	/* A generic record: device.uid, class_uid 0 and time (ms) added. */
	record(&b, NULL, false, false);
	unpack(&u, &b);
	assert_int_equal(ingest_patch(&u.data, "h1", t, &z, &out, &why), 0);
	assert_int_equal(out->via.map.size, 4);
	o = get(get(out, "device"), "uid");
	assert_true(o && o->via.str.size == 2 && !memcmp(o->via.str.ptr, "h1", 2));
	assert_int_equal(get(out, "class_uid")->via.u64, 0);
	assert_int_equal(get(out, "time")->via.u64, 1700000000123ull);
	assert_non_null(get(out, "message"));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&b);
	/* device without uid: uid added, the rest of device kept. */
	record(&b, NULL, true, true);
	unpack(&u, &b);
	assert_int_equal(ingest_patch(&u.data, "h1", t, &z, &out, &why), 0);
	assert_int_equal(out->via.map.size, 4);
	assert_non_null(get(get(out, "device"), "hostname"));
	assert_non_null(get(get(out, "device"), "uid"));
	assert_int_equal(get(out, "class_uid")->via.u64, 1001);	/* the record's own */
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&b);
	/* Malformed: device not a map, keys given twice. */
	{
		static const char not_map[] = "\x81\xa6" "device" "\x05";
		static const char twice[] = "\x82\xa6" "device" "\x80\xa6" "device" "\x80";
		static const char uid_twice[] = "\x81\xa6" "device" "\x82\xa3uid\xa2h1\xa3uid\xa2h2";
		const struct {
			const char *p;
			size_t n;
			const char *want;
		} cases[] = {
			{not_map, sizeof(not_map) - 1, "device is not a map"},
			{twice, sizeof(twice) - 1, "given twice"},
			{uid_twice, sizeof(uid_twice) - 1, "device.uid is given twice"},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			size_t off = 0;

			msgpack_unpacked_init(&u);
			assert_int_equal(msgpack_unpack_next(&u, cases[i].p, cases[i].n, &off),
					 MSGPACK_UNPACK_SUCCESS);
			assert_int_equal(ingest_patch(&u.data, "h1", t, &z, &out, &why), 1);
			assert_non_null(strstr(why.msg, cases[i].want));
			msgpack_unpacked_destroy(&u);
		}
	}
	msgpack_zone_destroy(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test_setup_teardown(test_exchange, fix_setup, fix_teardown),
		cmocka_unit_test(test_patch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
