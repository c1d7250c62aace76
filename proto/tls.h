/*
 * tls.h: TLS 1.3 with client certificates, and the small PKI behind it
 * (library vigilproto; OpenSSL 3). Prefixes: pki_ (keys, CSRs, the CA),
 * tls_ (contexts, the peer's identity).
 *
 * Identity is a certificate (DESIGN.md, decision 8): the collector's CA
 * signs one certificate per host, whose subject CN is the host id the
 * collector chose; what a CSR asks for is never copied. Keys are EC P-256
 * (every Forward peer speaks it), written 0600 through a temporary file and
 * rename, never over an existing key.
 *
 * Enrollment trust: a sensor that has no CA yet pins the CA by the SHA-256
 * of its certificate's DER (the token carries it), so a man in the middle
 * cannot enroll it. Every function returns 0, or -1 with err filled with
 * what failed and on which file; none keeps global state.
 */
#ifndef VIGIL_TLS_H
#define VIGIL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct tls_err {
	char msg[256];
};

#define PKI_CSR_MAX	(16u << 10)	/* bytes of a CSR PEM taken from outside */
#define PKI_HOSTID_MAX	64
#define PKI_FPR_HEX	64		/* sha256 hex */
#define PKI_SERIAL_HEX	40		/* 20 random bytes, hex */

/* ---- the CA (collector) ---------------------------------------------------- */
struct pki_ca;
/* dir/ca.key (0600) and dir/ca.crt; refuses when either exists. */
int pki_ca_create(const char *dir, const char *cn, int days, struct tls_err *err);
int pki_ca_load(struct pki_ca **ca, const char *dir, struct tls_err *err);
void pki_ca_free(struct pki_ca *ca);
/* dir/server.key and dir/server.crt signed by ca, serverAuth, with each of
 * names as a subjectAltName (an IP address when it parses as one, else DNS). */
int pki_server_cert(const struct pki_ca *ca, const char *dir, const char *const *names,
		    size_t n_names, int days, struct tls_err *err);
/* Checks the CSR's own signature and size, then issues a clientAuth
 * certificate with CN=host_id and a random serial. *cert_pem is malloc'd. */
int pki_sign_csr(const struct pki_ca *ca, const char *csr_pem, size_t len, const char *host_id,
		 int days, char **cert_pem, char serial[PKI_SERIAL_HEX + 1], int64_t *not_after,
		 struct tls_err *err);

/* ---- the host (sensor) -------------------------------------------------------- */
/* A new key at key_path (0600) and a CSR for it; *csr_pem is malloc'd. */
int pki_key_csr(const char *key_path, const char *cn, char **csr_pem, struct tls_err *err);

/* ---- either ------------------------------------------------------------------- */
/* SHA-256 of the DER of the first certificate in pem, lowercase hex. */
int pki_cert_fingerprint(const char *pem, size_t len, char hex[PKI_FPR_HEX + 1],
			 struct tls_err *err);

/* ---- TLS contexts: TLS 1.3 only ----------------------------------------------- */
/* Server: presents cert/key; asks every client for a certificate chained to
 * ca_path but lets one without (enrollment); the caller reads tls_peer. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *ca_path,
			struct tls_err *err);
/* Client: verifies the server against ca_path and the name it dialed
 * (tls_client_name); cert/key NULL: presents none. */
SSL_CTX *tls_client_ctx(const char *ca_path, const char *cert, const char *key,
			struct tls_err *err);
/* Client before enrollment: trusts only a server whose chain ends in the CA
 * with this fingerprint (the pin stays with the context). */
SSL_CTX *tls_client_ctx_pinned(const char pin[PKI_FPR_HEX + 1], struct tls_err *err);
/* Set SNI and the name to verify on a client SSL before the handshake. */
int tls_client_name(SSL *ssl, const char *host, struct tls_err *err);

struct tls_peer {
	bool has_cert, verified;	/* verified: chained to the CA, in date */
	char cn[PKI_HOSTID_MAX + 1];
	char serial[PKI_SERIAL_HEX + 1];
	char fingerprint[PKI_FPR_HEX + 1];
	int64_t not_after;		/* unix seconds */
	char why[128];			/* when !verified: OpenSSL's reason */
};
/* After the handshake. */
void tls_peer(SSL *ssl, struct tls_peer *p);
/* One line for the log: OpenSSL's error queue drained into err after what. */
void tls_err_ssl(struct tls_err *err, const char *what);

#endif
