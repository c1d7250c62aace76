/*
 * tls.c: TLS 1.3 contexts for the collector and the sensor, and what a
 * handshake tells about the peer.
 *
 * Everything below TLS 1.3 is off, so there is no renegotiation, no
 * compression and no RSA key exchange to reason about. The server keeps no
 * sessions and sends no tickets: every connection shows its certificate
 * again, so a revoked host cannot come back by resuming a session.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls_int.h"

#define VERIFY_DEPTH	2	/* leaf, CA: no intermediates in our PKI */
#define SID_CTX		"vigil"

/* ---- errors ----------------------------------------------------------------- */

void tls_errf(struct tls_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	ERR_clear_error();
}

/* Appends every queued reason once, oldest (the root cause) first. */
static void append_queue(struct tls_err *err)
{
	size_t len = strlen(err->msg);
	const char *sep = ": ";
	char last[160] = "";
	const char *data;
	unsigned long e;
	int flags;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		char reason[160];
		const char *r = ERR_reason_error_string(e);

		if (r)
			snprintf(reason, sizeof(reason), "%s%s%s", r,
				 (flags & ERR_TXT_STRING) && data && *data ? " " : "",
				 (flags & ERR_TXT_STRING) && data ? data : "");
		else
			ERR_error_string_n(e, reason, sizeof(reason));
		if (strcmp(reason, last) == 0 || len + 1 >= sizeof(err->msg))
			continue;
		snprintf(last, sizeof(last), "%s", reason);
		len += (size_t)snprintf(err->msg + len, sizeof(err->msg) - len, "%s%s", sep, reason);
		if (len >= sizeof(err->msg))
			len = sizeof(err->msg) - 1;
		sep = "; ";
	}
}

void tls_errf_ssl(struct tls_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	append_queue(err);
}

void tls_err_ssl(struct tls_err *err, const char *what)
{
	tls_errf_ssl(err, "%s", what);
}

/* ---- contexts --------------------------------------------------------------- */

static SSL_CTX *ctx_new(const SSL_METHOD *method, struct tls_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		tls_err_ssl(err, "TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_security_level(ctx, 2);	/* no key weaker than 112 bits */
	/* RFC 5280 as written: a certificate OpenSSL would only tolerate is refused. */
	X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);
	SSL_CTX_set_verify_depth(ctx, VERIFY_DEPTH);
	return ctx;
}

static int use_cert_key(SSL_CTX *ctx, const char *cert, const char *key, struct tls_err *err)
{
	EVP_PKEY *pk;
	int ok;

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_errf_ssl(err, "%s: certificate chain", cert);
		return -1;
	}
	if (!(pk = pki_read_key(key, 007, err)))
		return -1;
	ok = SSL_CTX_use_PrivateKey(ctx, pk) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(pk);
	if (!ok) {
		tls_errf_ssl(err, "%s: not the key of %s", key, cert);
		return -1;
	}
	return 0;
}

static int use_ca(SSL_CTX *ctx, const char *ca_path, struct tls_err *err)
{
	if (!ca_path || SSL_CTX_load_verify_file(ctx, ca_path) != 1) {
		tls_errf_ssl(err, "%s: CA certificates", ca_path ? ca_path : "(none)");
		return -1;
	}
	return 0;
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *ca_path,
			struct tls_err *err)
{
	SSL_CTX *ctx = ctx_new(TLS_server_method(), err);
	STACK_OF(X509_NAME) *names;

	if (!ctx)
		return NULL;
	if (use_cert_key(ctx, cert, key, err) != 0 || use_ca(ctx, ca_path, err) != 0)
		goto fail;
	/* Tells clients which CA to pick a certificate for. */
	if (!(names = SSL_load_client_CA_file(ca_path))) {
		tls_errf_ssl(err, "%s: CA names", ca_path);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	/* A certificate is asked for, not required (enrollment comes without
	 * one); one that is offered must verify, or the handshake fails. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)SID_CTX, sizeof(SID_CTX) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (!SSL_CTX_set_num_tickets(ctx, 0)) {
		tls_err_ssl(err, "TLS context: tickets");
		goto fail;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* A server certificate is only as good as the name it was checked for:
 * a client that was never told a name (tls_client_name) refuses. */
static int verify_named(int ok, X509_STORE_CTX *sc)
{
	X509_VERIFY_PARAM *p;
	char *ip;
	bool named;

	if (!ok || X509_STORE_CTX_get_error_depth(sc) != 0)
		return ok;
	p = X509_STORE_CTX_get0_param(sc);
	ip = X509_VERIFY_PARAM_get1_ip_asc(p);
	named = ip || X509_VERIFY_PARAM_get0_host(p, 0);
	OPENSSL_free(ip);
	if (!named) {
		X509_STORE_CTX_set_error(sc, X509_V_ERR_HOSTNAME_MISMATCH);
		return 0;
	}
	return 1;
}

SSL_CTX *tls_client_ctx(const char *ca_path, const char *cert, const char *key,
			struct tls_err *err)
{
	SSL_CTX *ctx;

	if (!cert != !key) {
		tls_errf(err, "client certificate: want both a certificate and a key, or neither");
		return NULL;
	}
	if (!(ctx = ctx_new(TLS_client_method(), err)))
		return NULL;
	if (use_ca(ctx, ca_path, err) != 0 || (cert && use_cert_key(ctx, cert, key, err) != 0)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_named);
	return ctx;
}

/* ---- the pinned client ---------------------------------------------------------- */

static int pin_index = -1;		/* one ex_data slot, for every pinned context */
static CRYPTO_ONCE pin_once = CRYPTO_ONCE_STATIC_INIT;

static void pin_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
		     void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	OPENSSL_free(ptr);
}

static void pin_index_new(void)
{
	pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, pin_free);
}

/* Instead of X509_verify_cert against a trust store: the certificate of the
 * peer's chain whose fingerprint is the pin becomes the only trust anchor,
 * then the chain is verified as usual (signatures, dates, purpose, the
 * name when one was set). arg: the context's pin. */
static int pin_verify(X509_STORE_CTX *sc, void *arg)
{
	const char *pin = arg;
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(sc), *anchors;
	X509 *anchor = NULL;
	char fpr[PKI_FPR_HEX + 1];
	int ok;

	for (int i = 0; !anchor && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if (pki_x509_fpr(x, fpr) == 0 && strcmp(fpr, pin) == 0)
			anchor = x;
	}
	if (!anchor) {
		X509_STORE_CTX_set_error(sc, X509_V_ERR_CERT_UNTRUSTED);
		return 0;
	}
	if (!(anchors = sk_X509_new_null()) || !sk_X509_push(anchors, anchor)) {
		sk_X509_free(anchors);
		X509_STORE_CTX_set_error(sc, X509_V_ERR_OUT_OF_MEM);
		return 0;
	}
	X509_STORE_CTX_set0_trusted_stack(sc, anchors);
	ok = X509_verify_cert(sc);
	X509_STORE_CTX_set0_trusted_stack(sc, NULL);
	sk_X509_free(anchors);		/* anchor itself belongs to the chain */
	return ok == 1;
}

SSL_CTX *tls_client_ctx_pinned(const char pin[PKI_FPR_HEX + 1], struct tls_err *err)
{
	SSL_CTX *ctx;
	char *copy;

	if (!pin || strnlen(pin, PKI_FPR_HEX + 1) != PKI_FPR_HEX) {
		tls_errf(err, "pin: want %d hex digits (SHA-256 of the CA certificate)",
			 PKI_FPR_HEX);
		return NULL;
	}
	for (int i = 0; i < PKI_FPR_HEX; i++)
		if (!isxdigit((unsigned char)pin[i])) {
			tls_errf(err, "pin: want %d hex digits (SHA-256 of the CA certificate)",
				 PKI_FPR_HEX);
			return NULL;
		}
	if (!CRYPTO_THREAD_run_once(&pin_once, pin_index_new) || pin_index < 0) {
		tls_err_ssl(err, "pinned TLS context");
		return NULL;
	}
	if (!(ctx = ctx_new(TLS_client_method(), err)))
		return NULL;
	if (!(copy = OPENSSL_strdup(pin)) || !SSL_CTX_set_ex_data(ctx, pin_index, copy)) {
		OPENSSL_free(copy);
		SSL_CTX_free(ctx);
		tls_err_ssl(err, "pinned TLS context");
		return NULL;
	}
	for (char *c = copy; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, pin_verify, copy);
	return ctx;
}

/* ---- names and peers ------------------------------------------------------------ */

int tls_client_name(SSL *ssl, const char *host, struct tls_err *err)
{
	X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
	unsigned char addr[16];
	size_t n = host ? strlen(host) : 0;

	if (n == 0 || n > 253) {
		tls_errf(err, "server name: want 1..253 bytes");
		return -1;
	}
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
		/* No SNI for an address (RFC 6066, 3). */
		if (X509_VERIFY_PARAM_set1_ip_asc(p, host) != 1) {
			tls_errf_ssl(err, "server name %s", host);
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!isascii((unsigned char)host[i]) ||
		    !(isalnum((unsigned char)host[i]) || host[i] == '-' || host[i] == '.')) {
			tls_errf(err, "server name: neither an IP address nor a DNS name");
			return -1;
		}
	/* SANs only: a CN never stands in for a name. */
	X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
						   X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (SSL_set_tlsext_host_name(ssl, host) != 1 || X509_VERIFY_PARAM_set1_host(p, host, 0) != 1) {
		tls_errf_ssl(err, "server name %s", host);
		return -1;
	}
	return 0;
}

void tls_peer(SSL *ssl, struct tls_peer *p)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	long v = SSL_get_verify_result(ssl);

	memset(p, 0, sizeof(*p));
	if (x) {
		p->has_cert = true;
		p->verified = v == X509_V_OK;
		pki_x509_cn(x, p->cn);
		pki_x509_serial(x, p->serial);
		pki_x509_fpr(x, p->fingerprint);
		p->not_after = pki_x509_not_after(x);
	}
	if (v != X509_V_OK)
		snprintf(p->why, sizeof(p->why), "%s", X509_verify_cert_error_string(v));
	else if (!x)
		snprintf(p->why, sizeof(p->why), "no certificate");
}
