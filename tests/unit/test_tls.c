/* test_tls.c: real TLS 1.3 handshakes between the contexts of tls.h, a
 * thread per side over a socketpair, with certificates made by pki_: who
 * gets through (mutual TLS, enrollment without a certificate, a pinned
 * client) and who does not (another CA, expired, wrong purpose, TLS 1.2,
 * a name not in the certificate, a wrong pin). */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pkitest.h"

#define JOIN(buf, ...) assert_true(snprintf((buf), sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

struct fx {
	char *root;
	char ca[512], other[512];		/* CA directories */
	char ca_crt[600], other_crt[600];
	char pin[PKI_FPR_HEX + 1], other_pin[PKI_FPR_HEX + 1];
	char host_serial[PKI_SERIAL_HEX + 1], host_fpr[PKI_FPR_HEX + 1];
	int64_t host_not_after;
	SSL_CTX *srv, *srv_other;		/* our collector; another CA's */
};

/* f->root/name into out. */
static void at(char out[600], const struct fx *f, const char *name)
{
	assert_true(snprintf(out, 600, "%s/%s", f->root, name) < 600);
}

static SSL_CTX *server(const struct fx *f, const char *crt, const char *key, const char *ca)
{
	char c[600], k[600], a[600];
	struct tls_err err;
	SSL_CTX *ctx;

	at(c, f, crt);
	at(k, f, key);
	at(a, f, ca);
	if (!(ctx = tls_server_ctx(c, k, a, &err)))
		fail_msg("server context: %s", err.msg);
	return ctx;
}

/* A client; crt/key relative to root, or NULL. */
static SSL_CTX *client(const struct fx *f, const char *ca, const char *crt, const char *key)
{
	char c[600], k[600], a[600];
	struct tls_err err;
	SSL_CTX *ctx;

	at(a, f, ca);
	if (crt) {
		at(c, f, crt);
		at(k, f, key);
	}
	if (!(ctx = tls_client_ctx(a, crt ? c : NULL, key ? k : NULL, &err)))
		fail_msg("client context: %s", err.msg);
	return ctx;
}

static SSL_CTX *pinned(const char *pin)
{
	struct tls_err err;
	SSL_CTX *ctx = tls_client_ctx_pinned(pin, &err);

	if (!ctx)
		fail_msg("pinned context: %s", err.msg);
	return ctx;
}

/* A client certificate of the real CA, expired yesterday, otherwise as
 * pki_sign_csr makes them: only the date is wrong. */
static void mk_expired(const struct fx *f)
{
	char path[600];
	EVP_PKEY *cakey, *key = EVP_EC_gen("P-256");
	X509 *cacert, *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	FILE *fp;
	BIO *b;
	static const struct { int nid; const char *v; } exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ NID_ext_key_usage, "clientAuth" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};

	JOIN(path, "%s/ca.key", f->ca);
	fp = fopen(path, "r");
	cakey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	JOIN(path, "%s/ca.crt", f->ca);
	fp = fopen(path, "r");
	cacert = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(cakey);
	assert_non_null(cacert);

	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x5eed));
	assert_true(X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					       (const unsigned char *)"expired-host", -1, -1, 0));
	assert_true(X509_set_subject_name(x, name));
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(cacert)));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -10 * 86400L));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), -86400L));
	assert_true(X509_set_pubkey(x, key));
	X509V3_set_ctx(&v3, cacert, x, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &v3, exts[i].nid, exts[i].v);

		assert_non_null(e);
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, cakey, EVP_sha256()) > 0);

	at(path, f, "expired.crt");
	b = BIO_new_file(path, "w");
	assert_true(PEM_write_bio_X509(b, x));
	BIO_free(b);
	at(path, f, "expired.key");
	b = BIO_new_file(path, "w");
	assert_true(PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
	BIO_free(b);
	assert_int_equal(chmod(path, 0600), 0);

	X509_NAME_free(name);
	X509_free(x);
	X509_free(cacert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
}

static void fpr_of(char out[PKI_FPR_HEX + 1], const char *file)
{
	struct tls_err err;
	size_t len;
	char *pem = pt_slurp(file, &len);

	if (pki_cert_fingerprint(pem, len, out, &err) != 0)
		fail_msg("%s: %s", file, err.msg);
	free(pem);
}

static int setup(void **state)
{
	static const char *const names[] = { "localhost", "127.0.0.1", "::1" };
	struct fx *f = calloc(1, sizeof(*f));
	struct pki_ca *ca, *other;
	struct tls_err err;
	char path[600], *pem, *second;

	f->root = tu_mkroot();
	JOIN(f->ca, "%s/ca", f->root);
	JOIN(f->other, "%s/other", f->root);
	JOIN(f->ca_crt, "%s/ca.crt", f->ca);
	JOIN(f->other_crt, "%s/ca.crt", f->other);
	ca = pt_ca(f->ca, "vigil test CA");
	other = pt_ca(f->other, "someone else's CA");
	if (pki_server_cert(ca, f->ca, names, 3, 30, &err) != 0 ||
	    pki_server_cert(other, f->other, names, 3, 30, &err) != 0)
		fail_msg("server certificate: %s", err.msg);
	pt_host(ca, f->root, "host", "host-1", f->host_serial, &f->host_not_after);
	pt_host(other, f->root, "stranger", "host-1", NULL, NULL);
	pki_ca_free(ca);
	pki_ca_free(other);
	mk_expired(f);
	fpr_of(f->pin, f->ca_crt);
	fpr_of(f->other_pin, f->other_crt);
	at(path, f, "host.crt");
	fpr_of(f->host_fpr, path);

	/* The server's certificate without the CA after it. */
	JOIN(path, "%s/server.crt", f->ca);
	pem = pt_slurp(path, NULL);
	second = strstr(pem + 1, "-----BEGIN CERTIFICATE-----");
	assert_non_null(second);
	at(path, f, "leaf-only.crt");
	pt_spit(path, pem, (size_t)(second - pem), 0644);
	free(pem);

	f->srv = server(f, "ca/server.crt", "ca/server.key", "ca/ca.crt");
	f->srv_other = server(f, "other/server.crt", "other/server.key", "other/ca.crt");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	SSL_CTX_free(f->srv);
	SSL_CTX_free(f->srv_other);
	tu_rmroot(f->root);
	free(f);
	return 0;
}

/* ---- one handshake, a thread per side ------------------------------------------ */

struct end {
	bool ok;
	int version;
	struct tls_peer peer;
	char err[256];
};

struct hs {
	struct end srv, cli;
	bool resumable;			/* the client's session could resume */
};

struct srv_arg {
	SSL_CTX *ctx;
	int fd;
	struct end *out;
};

/* After the handshake each side proves it can talk: the server sends 's',
 * the client answers 'c'. In TLS 1.3 the client finishes first, so a
 * server that refuses its certificate shows only on this read. */
static void *server_main(void *p)
{
	struct srv_arg *a = p;
	SSL *ssl = SSL_new(a->ctx);
	struct tls_err err;
	char c = 0;

	SSL_set_fd(ssl, a->fd);
	a->out->ok = SSL_accept(ssl) == 1 && SSL_write(ssl, "s", 1) == 1 &&
		     SSL_read(ssl, &c, 1) == 1 && c == 'c';
	if (!a->out->ok) {
		tls_err_ssl(&err, "accept");
		memcpy(a->out->err, err.msg, sizeof(err.msg));
	}
	tls_peer(ssl, &a->out->peer);
	a->out->version = SSL_version(ssl);
	if (a->out->ok)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	close(a->fd);
	return NULL;
}

static void handshake(SSL_CTX *sctx, SSL_CTX *cctx, const char *name, struct hs *r)
{
	struct timeval tv = { .tv_sec = 10 };
	struct srv_arg a;
	struct tls_err err;
	pthread_t t;
	int fd[2];
	SSL *ssl;
	char c = 0;

	memset(r, 0, sizeof(*r));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(setsockopt(fd[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
		assert_int_equal(setsockopt(fd[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	}
	a = (struct srv_arg){ .ctx = sctx, .fd = fd[1], .out = &r->srv };
	assert_int_equal(pthread_create(&t, NULL, server_main, &a), 0);

	ssl = SSL_new(cctx);
	SSL_set_fd(ssl, fd[0]);
	if (name && tls_client_name(ssl, name, &err) != 0)
		fail_msg("tls_client_name %s: %s", name, err.msg);
	r->cli.ok = SSL_connect(ssl) == 1 && SSL_read(ssl, &c, 1) == 1 && c == 's' &&
		    SSL_write(ssl, "c", 1) == 1;
	if (!r->cli.ok) {
		tls_err_ssl(&err, "connect");
		memcpy(r->cli.err, err.msg, sizeof(err.msg));
	}
	tls_peer(ssl, &r->cli.peer);
	r->cli.version = SSL_version(ssl);
	r->resumable = SSL_get0_session(ssl) && SSL_SESSION_is_resumable(SSL_get0_session(ssl));
	SSL_free(ssl);
	close(fd[0]);
	assert_int_equal(pthread_join(t, NULL), 0);
}

#define assert_contains(s, sub)                                                          \
	do {                                                                             \
		if (!strstr((s), (sub)))                                                  \
			fail_msg("\"%s\" lacks \"%s\"", (s), (sub));                    \
	} while (0)

static void want_ok(const struct hs *r)
{
	if (!r->srv.ok || !r->cli.ok)
		fail_msg("handshake failed: server: %s (%s); client: %s (%s)", r->srv.err,
			 r->srv.peer.why, r->cli.err, r->cli.peer.why);
	assert_int_equal(r->srv.version, TLS1_3_VERSION);
	assert_int_equal(r->cli.version, TLS1_3_VERSION);
}

static void want_fail(const struct hs *r)
{
	if (r->srv.ok || r->cli.ok)
		fail_msg("handshake passed: server %d, client %d (client saw %s)", r->srv.ok, r->cli.ok, r->cli.peer.cn);
}

/* ---- mutual TLS ---------------------------------------------------------------- */

static void test_mutual(void **state)
{
	struct fx *f = *state;
	SSL_CTX *c = client(f, "ca/ca.crt", "host.crt", "host.key");
	struct hs r;

	handshake(f->srv, c, "localhost", &r);
	want_ok(&r);
	/* What the collector learns about the host. */
	assert_true(r.srv.peer.has_cert);
	assert_true(r.srv.peer.verified);
	assert_string_equal(r.srv.peer.cn, "host-1");
	assert_string_equal(r.srv.peer.serial, f->host_serial);
	assert_string_equal(r.srv.peer.fingerprint, f->host_fpr);
	assert_int_equal(r.srv.peer.not_after, f->host_not_after);
	assert_string_equal(r.srv.peer.why, "");
	/* What the host learns about the collector. */
	assert_true(r.cli.peer.has_cert);
	assert_true(r.cli.peer.verified);
	assert_string_equal(r.cli.peer.cn, "localhost");
	assert_int_equal(strlen(r.cli.peer.serial), PKI_SERIAL_HEX);
	/* The server keeps nothing to resume with. */
	assert_false(r.resumable);

	handshake(f->srv, c, "127.0.0.1", &r);
	want_ok(&r);
	handshake(f->srv, c, "::1", &r);
	want_ok(&r);
	SSL_CTX_free(c);
}

/* The same server with tickets turned back on: the session does resume,
 * so test_mutual's !resumable says something about tls_server_ctx. */
static void test_tickets_control(void **state)
{
	struct fx *f = *state;
	SSL_CTX *s = server(f, "ca/server.crt", "ca/server.key", "ca/ca.crt");
	SSL_CTX *c = client(f, "ca/ca.crt", "host.crt", "host.key");
	struct hs r;

	SSL_CTX_clear_options(s, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(s, 2);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_SERVER);
	handshake(s, c, "localhost", &r);
	want_ok(&r);
	assert_true(r.resumable);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

static void test_no_client_cert(void **state)
{
	struct fx *f = *state;
	SSL_CTX *c = client(f, "ca/ca.crt", NULL, NULL);
	struct hs r;

	handshake(f->srv, c, "localhost", &r);
	want_ok(&r);
	assert_false(r.srv.peer.has_cert);
	assert_false(r.srv.peer.verified);
	assert_string_equal(r.srv.peer.cn, "");
	assert_string_equal(r.srv.peer.serial, "");
	assert_string_equal(r.srv.peer.why, "no certificate");
	assert_true(r.cli.peer.verified);
	SSL_CTX_free(c);
}

static void client_refused(struct fx *f, const char *crt, const char *key, const char *why)
{
	SSL_CTX *c = client(f, "ca/ca.crt", crt, key);
	struct hs r;

	handshake(f->srv, c, "localhost", &r);
	want_fail(&r);
	assert_false(r.srv.peer.verified);
	assert_contains(r.srv.peer.why, why);
	assert_contains(r.srv.err, "accept: ");
	assert_contains(r.srv.err, "certificate verify failed");
	assert_contains(r.cli.err, "connect: ");
	SSL_CTX_free(c);
}

static void test_client_other_ca(void **state)
{
	client_refused(*state, "stranger.crt", "stranger.key", "unable to get local issuer");
}

static void test_client_expired(void **state)
{
	client_refused(*state, "expired.crt", "expired.key", "certificate has expired");
}

/* The collector's own certificate is for serving, not for a host. */
static void test_client_wrong_purpose(void **state)
{
	client_refused(*state, "ca/server.crt", "ca/server.key", "unsuitable certificate purpose");
}

static void test_client_tls12(void **state)
{
	struct fx *f = *state;
	SSL_CTX *c = client(f, "ca/ca.crt", "host.crt", "host.key");
	struct hs r;

	assert_int_equal(SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION), 1);
	handshake(f->srv, c, "localhost", &r);
	want_fail(&r);
	assert_contains(r.srv.err, "unsupported protocol");
	assert_contains(r.cli.err, "protocol version");
	SSL_CTX_free(c);
}

/* ---- the client's checks of the server ----------------------------------------- */

static void server_refused(SSL_CTX *s, SSL_CTX *c, const char *name, const char *why)
{
	struct hs r;

	handshake(s, c, name, &r);
	want_fail(&r);
	assert_false(r.cli.peer.verified);
	assert_contains(r.cli.peer.why, why);
	assert_contains(r.cli.err, "certificate verify failed");
}

static void test_server_name(void **state)
{
	struct fx *f = *state;
	SSL_CTX *c = client(f, "ca/ca.crt", "host.crt", "host.key");
	struct hs r;

	handshake(f->srv, c, "LocalHost", &r);		/* DNS names ignore case */
	want_ok(&r);
	server_refused(f->srv, c, "evil.example", "hostname mismatch");
	server_refused(f->srv, c, "127.0.0.2", "IP address mismatch");
	server_refused(f->srv, c, "::2", "IP address mismatch");
	/* No name at all: refused rather than unchecked. */
	server_refused(f->srv, c, NULL, "hostname mismatch");
	SSL_CTX_free(c);
}

static void test_server_other_ca(void **state)
{
	struct fx *f = *state;
	SSL_CTX *c = client(f, "ca/ca.crt", "host.crt", "host.key");

	server_refused(f->srv_other, c, "localhost", "self-signed certificate in certificate chain");
	SSL_CTX_free(c);
}

/* A host's certificate is for clients, not for serving. */
static void test_server_wrong_purpose(void **state)
{
	struct fx *f = *state;
	SSL_CTX *s = server(f, "host.crt", "host.key", "ca/ca.crt");
	SSL_CTX *c = client(f, "ca/ca.crt", NULL, NULL);

	server_refused(s, c, "localhost", "unsuitable certificate purpose");
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

/* ---- the pinned client ------------------------------------------------------------ */

static void test_pinned(void **state)
{
	struct fx *f = *state;
	SSL_CTX *c = pinned(f->pin), *co = pinned(f->other_pin);
	char upper[PKI_FPR_HEX + 1];
	struct hs r;

	handshake(f->srv, c, NULL, &r);
	want_ok(&r);
	assert_true(r.cli.peer.verified);
	assert_string_equal(r.cli.peer.cn, "localhost");
	assert_false(r.srv.peer.has_cert);		/* enrollment: no certificate yet */
	handshake(f->srv, c, "localhost", &r);
	want_ok(&r);
	server_refused(f->srv, c, "evil.example", "hostname mismatch");

	/* Each context keeps its own pin. */
	handshake(f->srv_other, co, "localhost", &r);
	want_ok(&r);
	server_refused(f->srv_other, c, "localhost", "certificate not trusted");
	server_refused(f->srv, co, "localhost", "certificate not trusted");

	for (int i = 0; i <= PKI_FPR_HEX; i++)
		upper[i] = (char)toupper((unsigned char)f->pin[i]);
	SSL_CTX_free(co);
	co = pinned(upper);
	handshake(f->srv, co, NULL, &r);
	want_ok(&r);
	SSL_CTX_free(co);
	SSL_CTX_free(c);
}

static void test_pinned_wrong(void **state)
{
	struct fx *f = *state;
	char pin[PKI_FPR_HEX + 1], path[600];
	SSL_CTX *c, *s;
	struct tls_err err;

	/* One digit off. */
	memcpy(pin, f->pin, sizeof(pin));
	pin[10] = pin[10] == '0' ? '1' : '0';
	c = pinned(pin);
	server_refused(f->srv, c, NULL, "certificate not trusted");
	SSL_CTX_free(c);

	/* The server's own certificate is not the CA: pinning it chains nowhere. */
	JOIN(path, "%s/server.crt", f->ca);
	fpr_of(pin, path);
	c = pinned(pin);
	server_refused(f->srv, c, NULL, "self-signed certificate in certificate chain");
	SSL_CTX_free(c);

	/* A server that does not send the CA cannot be matched to the pin.
	 * (Left alone, OpenSSL would append the CA from ca.crt by itself.) */
	s = server(f, "leaf-only.crt", "ca/server.key", "ca/ca.crt");
	SSL_CTX_set_mode(s, SSL_MODE_NO_AUTO_CHAIN);
	c = pinned(f->pin);
	server_refused(s, c, NULL, "certificate not trusted");
	SSL_CTX_free(c);
	SSL_CTX_free(s);

	/* Pins that are not 64 hex digits. */
	memset(pin, 0, sizeof(pin));
	memcpy(pin, "abc", 3);
	assert_null(tls_client_ctx_pinned(pin, &err));
	assert_contains(err.msg, "64 hex digits");
	memcpy(pin, f->pin, sizeof(pin));
	pin[63] = 'g';
	assert_null(tls_client_ctx_pinned(pin, &err));
	pin[63] = 0;
	assert_null(tls_client_ctx_pinned(pin, &err));
	assert_null(tls_client_ctx_pinned(NULL, &err));
}

/* ---- contexts that must not be made ----------------------------------------------- */

static void test_ctx_refusals(void **state)
{
	struct fx *f = *state;
	char crt[600], key[600], ca[600], loose[600], *pem;
	struct tls_err err;
	size_t len;
	SSL *ssl;
	SSL_CTX *c;

	at(crt, f, "host.crt");
	at(key, f, "host.key");
	at(ca, f, "ca/ca.crt");
	assert_null(tls_client_ctx(ca, crt, NULL, &err));
	assert_contains(err.msg, "both");
	assert_null(tls_client_ctx(ca, NULL, key, &err));
	at(loose, f, "nothing.crt");
	assert_null(tls_client_ctx(loose, NULL, NULL, &err));
	assert_contains(err.msg, loose);
	assert_null(tls_server_ctx(loose, key, ca, &err));
	assert_contains(err.msg, loose);

	/* The key of another certificate. */
	at(key, f, "stranger.key");
	assert_null(tls_server_ctx(crt, key, ca, &err));
	assert_contains(err.msg, "not the key of");

	/* A key others may read. */
	at(loose, f, "loose.key");
	at(key, f, "host.key");
	pem = pt_slurp(key, &len);
	pt_spit(loose, pem, len, 0604);
	free(pem);
	assert_null(tls_client_ctx(ca, crt, loose, &err));
	assert_contains(err.msg, "chmod 600");
	assert_int_equal(chmod(loose, 0640), 0);	/* the group may: packaging */
	c = tls_client_ctx(ca, crt, loose, &err);
	assert_non_null(c);

	/* A CA file with no certificate in it. */
	assert_null(tls_server_ctx(crt, key, loose, &err));
	assert_contains(err.msg, "CA certificates");

	/* Names a client cannot be told. */
	ssl = SSL_new(c);
	assert_int_equal(tls_client_name(ssl, "", &err), -1);
	assert_int_equal(tls_client_name(ssl, NULL, &err), -1);
	assert_int_equal(tls_client_name(ssl, "a b", &err), -1);
	assert_contains(err.msg, "neither");
	assert_int_equal(tls_client_name(ssl, "[::1]", &err), -1);
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(tls_client_name(ssl, big, &err), -1);
	assert_int_equal(tls_client_name(ssl, "collector.example", &err), 0);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), "collector.example");
	SSL_free(ssl);
	SSL_CTX_free(c);
}

static void test_err_ssl(void **state)
{
	struct tls_err err;

	(void)state;
	ERR_clear_error();
	tls_err_ssl(&err, "nothing queued");
	assert_string_equal(err.msg, "nothing queued");
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	assert_int_equal(SSL_CTX_use_certificate_chain_file(c, "/nonexistent/x.crt"), 0);
	tls_err_ssl(&err, "loading x.crt");
	assert_int_equal(strncmp(err.msg, "loading x.crt: ", 15), 0);
	assert_contains(err.msg, "No such file");
	assert_int_equal(ERR_peek_error(), 0);		/* drained */
	SSL_CTX_free(c);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_mutual),
	cmocka_unit_test(test_tickets_control),
	cmocka_unit_test(test_no_client_cert),
	cmocka_unit_test(test_client_other_ca),
	cmocka_unit_test(test_client_expired),
	cmocka_unit_test(test_client_wrong_purpose),
	cmocka_unit_test(test_client_tls12),
	cmocka_unit_test(test_server_name),
	cmocka_unit_test(test_server_other_ca),
	cmocka_unit_test(test_server_wrong_purpose),
	cmocka_unit_test(test_pinned),
	cmocka_unit_test(test_pinned_wrong),
	cmocka_unit_test(test_ctx_refusals),
	cmocka_unit_test(test_err_ssl),
};

int main(void)
{
	signal(SIGPIPE, SIG_IGN);	/* a peer that hung up is an error, not a death */
	return cmocka_run_group_tests(tests, setup, teardown);
}
