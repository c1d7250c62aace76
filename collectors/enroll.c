/*
 * enroll.c: a host trades a token for a certificate.
 *
 * The request comes from a peer nobody vouched for yet, so it is framed by
 * fwd_scanner under tight limits (one map of one map of scalars, at most
 * ENR_REQ_MAX bytes and 64 objects) before msgpack-c sees a byte of it.
 *
 * The host id is random (128 bits, hex), never derived from what the
 * request says: a token proves an operator allowed one enrollment, not
 * which machine it is, so a machine_id or hostname in the request must not
 * be able to name an existing host and take over its identity. A machine
 * that enrolls again is a new host; the old one's certificate can be
 * revoked (docs/collector.md).
 *
 * The CSR is checked and signed before the token is spent, so a request
 * with a broken CSR does not use up the operator's token.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "collector.h"
#include "forward.h"

enum { FIELD_TOKEN, FIELD_CSR, FIELD_HOSTNAME, FIELD_MACHINE_ID, N_FIELDS };
static const char *const field_names[N_FIELDS] = {"token", "csr", "hostname", "machine_id"};

static bool key_eq(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       !memcmp(k->via.str.ptr, name, n);
}

/* Every key a str, none twice. */
static int keys_check(const msgpack_object *m, const char *what, struct cerr *err)
{
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type != MSGPACK_OBJECT_STR)
			return cerrf(err, "%s: a key that is not a string", what);
		for (uint32_t j = 0; j < i; j++) {
			const msgpack_object *o = &m->via.map.ptr[j].key;

			/* An empty str may have no pointer at all: no memcmp. */
			if (o->via.str.size == k->via.str.size &&
			    (!k->via.str.size ||
			     !memcmp(o->via.str.ptr, k->via.str.ptr, k->via.str.size)))
				return cerrf(err, "%s: key '%.*s' given twice", what,
					     (int)(k->via.str.size > 32 ? 32 : k->via.str.size),
					     k->via.str.ptr);
		}
	}
	return 0;
}

static bool chars_ok(const char *p, size_t n, const char *extra)
{
	/* NUL first: strchr would find it as extra's terminator. */
	for (size_t i = 0; i < n; i++)
		if (!p[i] || (!isalnum((unsigned char)p[i]) && !strchr(extra, p[i])))
			return false;
	return true;
}

/* A str of 1..max bytes whose every byte passes ok. */
static int text_field(const msgpack_object *v, const char *name, size_t max, const char *extra,
		      char *out, struct cerr *err)
{
	if (v->type != MSGPACK_OBJECT_STR)
		return cerrf(err, "enroll.%s: expected a string", name);
	if (v->via.str.size == 0 || v->via.str.size > max)
		return cerrf(err, "enroll.%s: %u bytes, expected 1 to %zu", name, v->via.str.size,
			     max);
	if (!chars_ok(v->via.str.ptr, v->via.str.size, extra))
		return cerrf(err, "enroll.%s: characters outside [A-Za-z0-9%s]", name, extra);
	memcpy(out, v->via.str.ptr, v->via.str.size);
	out[v->via.str.size] = 0;
	return 0;
}

static int csr_field(const msgpack_object *v, struct enr_req *r, struct cerr *err)
{
	if (v->type != MSGPACK_OBJECT_STR && v->type != MSGPACK_OBJECT_BIN)
		return cerrf(err, "enroll.csr: expected a PEM string");
	if (v->via.str.size == 0 || v->via.str.size > PKI_CSR_MAX)
		return cerrf(err, "enroll.csr: %u bytes, expected 1 to %u", v->via.str.size,
			     PKI_CSR_MAX);
	if (memchr(v->via.str.ptr, 0, v->via.str.size))
		return cerrf(err, "enroll.csr: a NUL byte in the PEM");
	if (!(r->csr = malloc(v->via.str.size + 1)))
		return cerrf(err, "out of memory");
	memcpy(r->csr, v->via.str.ptr, v->via.str.size);
	r->csr[v->via.str.size] = 0;
	r->csr_len = v->via.str.size;
	return 0;
}

static int request(const msgpack_object *top, struct enr_req *r, struct cerr *err)
{
	const msgpack_object *e = NULL;
	bool have[N_FIELDS] = {false};

	if (top->type != MSGPACK_OBJECT_MAP)
		return cerrf(err, "not an enrollment request: a %s, expected a map "
			     "{\"enroll\": {...}}", top->type == MSGPACK_OBJECT_ARRAY ?
			     "msgpack array (a Forward frame without a client certificate?)" :
			     "msgpack value other than a map");
	if (keys_check(top, "request", err))
		return -1;
	for (uint32_t i = 0; i < top->via.map.size; i++) {
		if (!key_eq(&top->via.map.ptr[i].key, "enroll"))
			return cerrf(err, "request: only the key \"enroll\" is taken");
		e = &top->via.map.ptr[i].val;
	}
	if (!e || e->type != MSGPACK_OBJECT_MAP)
		return cerrf(err, "request: \"enroll\" must be a map");
	if (keys_check(e, "enroll", err))
		return -1;
	for (uint32_t i = 0; i < e->via.map.size; i++) {
		const msgpack_object *k = &e->via.map.ptr[i].key, *v = &e->via.map.ptr[i].val;
		int f;

		for (f = 0; f < N_FIELDS && !key_eq(k, field_names[f]); f++)
			;
		if (f == N_FIELDS)
			continue;		/* a later sensor may say more */
		have[f] = true;
		if ((f == FIELD_TOKEN &&
		     text_field(v, "token", ENR_TOKEN_MAX, ".", r->token, err)) ||
		    (f == FIELD_CSR && csr_field(v, r, err)) ||
		    (f == FIELD_HOSTNAME &&
		     text_field(v, "hostname", ENR_HOSTNAME_MAX, ".-_", r->hostname, err)) ||
		    (f == FIELD_MACHINE_ID &&
		     text_field(v, "machine_id", ENR_MACHINE_ID_MAX, "-_", r->machine_id, err)))
			return -1;
	}
	for (int f = 0; f < N_FIELDS; f++)
		if (!have[f])
			return cerrf(err, "enroll.%s is missing", field_names[f]);
	return 0;
}

int enr_parse(struct enr_req *r, const void *buf, size_t len, size_t *used, struct cerr *err)
{
	struct fwd_limits lim;
	struct fwd_scanner sc;
	struct fwd_err ferr;
	msgpack_unpacked u;
	size_t n = 0, off = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	*used = 0;
	fwd_limits_default(&lim);
	lim.frame_max = ENR_REQ_MAX;
	lim.str_max = PKI_CSR_MAX;
	lim.depth_max = 2;		/* {"enroll": {...}} and no deeper */
	lim.objects_max = 64;
	fwd_scanner_init(&sc, &lim);
	rc = fwd_scanner_feed(&sc, buf, len, &n, &ferr);
	if (rc == FWD_MORE)
		return FWD_MORE;
	if (rc != FWD_OK) {
		cerrf(err, "enrollment request: %s", ferr.msg);
		return FWD_BAD;
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, buf, n, &off) != MSGPACK_UNPACK_SUCCESS || off != n) {
		msgpack_unpacked_destroy(&u);
		cerrf(err, "enrollment request: msgpack that does not unpack");
		return FWD_BAD;
	}
	rc = request(&u.data, r, err);
	msgpack_unpacked_destroy(&u);
	if (rc) {
		enr_req_free(r);
		return FWD_BAD;
	}
	*used = n;
	return FWD_OK;
}

void enr_req_free(struct enr_req *r)
{
	free(r->csr);
	OPENSSL_cleanse(r->token, sizeof(r->token));
	r->csr = NULL;
	r->csr_len = 0;
}

/* ---- the reply ------------------------------------------------------------ */

static void pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pack_key(msgpack_packer *pk, const char *s)
{
	pack_str(pk, s, strlen(s));
}

int enr_reply_error(msgpack_sbuffer *out, const char *why)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	pack_key(&pk, "ok");
	msgpack_pack_false(&pk);
	pack_key(&pk, "error");
	pack_key(&pk, why);
	return 0;
}

static void reply_ok(msgpack_sbuffer *out, const char *host_id, const char *cert,
		     const struct sst *state)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	pack_key(&pk, "ok");
	msgpack_pack_true(&pk);
	pack_key(&pk, "host_id");
	pack_key(&pk, host_id);
	pack_key(&pk, "cert");
	pack_key(&pk, cert);
	pack_key(&pk, "ca");
	pack_str(&pk, state->ca_pem, state->ca_pem_len);
}

static int new_host_id(char id[PKI_HOSTID_MAX + 1], struct cerr *err)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return cerrf(err, "no random bytes from OpenSSL");
	for (size_t i = 0; i < sizeof(b); i++) {
		id[2 * i] = digits[b[i] >> 4];
		id[2 * i + 1] = digits[b[i] & 15];
	}
	id[2 * sizeof(b)] = 0;
	return 0;
}

int enr_handle(const struct enr_ctx *x, const struct enr_req *r, msgpack_sbuffer *out,
	       char host_id[PKI_HOSTID_MAX + 1], char serial[PKI_SERIAL_HEX + 1],
	       struct cerr *err)
{
	char hash[65], *cert = NULL;
	struct tls_err terr;
	struct st_err serr;
	int64_t not_after;
	struct tok t;
	int rc = ENR_REFUSED;

	if (tok_split(r->token, strlen(r->token), &t, err))
		goto out;
	if (new_host_id(host_id, err)) {
		rc = -1;
		goto out;
	}
	if (pki_sign_csr(x->state->ca, r->csr, r->csr_len, host_id, x->cert_days, &cert, serial,
			 &not_after, &terr)) {
		cerrf(err, "csr: %s", terr.msg);
		goto out;
	}
	tok_hash(t.secret, hash);
	rc = st_token_spend(x->state->st, t.id, hash, x->now, &serr);
	if (rc) {
		cerrf(err, "token refused: %s", serr.msg);
		rc = rc == ST_REFUSED ? ENR_REFUSED : -1;
		goto out;
	}
	if (st_host_enroll(x->state->st, host_id, r->hostname, r->machine_id, serial, not_after,
			   &serr)) {
		cerrf(err, "recording the host: %s", serr.msg);
		rc = -1;
		goto out;
	}
	reply_ok(out, host_id, cert, x->state);
	rc = 0;
out:
	if (rc)
		enr_reply_error(out, rc < 0 ? "the collector failed; see its log" : err->msg);
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(hash, sizeof(hash));
	free(cert);
	return rc;
}
