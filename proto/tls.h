/*
 * tls.h: TLS 1.3 with client certificates, and the small PKI behind it
 * (library vigilproto; OpenSSL 3). Prefixes: pki_ (keys, CSRs, the CA),
 * tls_ (contexts, the peer's identity). docs/pki.md tells the whole story.
 *
 * Identity is a certificate (DESIGN.md, decision 8): the collector's CA
 * signs one certificate per host, whose subject CN is the host id the
 * collector chose; what a CSR asks for is never copied (only its public
 * key is). Keys are EC P-256 (every Forward peer speaks it), written 0600
 * through a temporary file and a rename that never replaces an existing
 * file. Serials are 20 random bytes (40 hex digits, top bit clear).
 *
 * Enrollment trust: a sensor that has no CA yet pins the CA by the SHA-256
 * of its certificate's DER (the token carries it), so a man in the middle
 * cannot enroll it. Every function returns 0, or -1 with err filled with
 * what failed and on which file; none keeps state beyond its arguments
 * (the pinned contexts share one ex_data index, allocated once).
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
#define PKI_DAYS_MAX	36500		/* validity of any certificate, 1..this */

/* A host id: 1..64 of [A-Za-z0-9_.-]. */
bool pki_hostid_valid(const char *id);

/* ---- the CA (collector) ---------------------------------------------------- */
struct pki_ca;
/* dir/ca.key (0600) and dir/ca.crt (0644, CA:TRUE, pathlen 0); refuses when
 * either exists. dir is made 0700 when missing (not its parents). */
int pki_ca_create(const char *dir, const char *cn, int days, struct tls_err *err);
/* Refuses a ca.key that group or others may access, or that is not ca.crt's. */
int pki_ca_load(struct pki_ca **ca, const char *dir, struct tls_err *err);
void pki_ca_free(struct pki_ca *ca);
/* dir/server.key and dir/server.crt signed by ca, serverAuth, with each of
 * names as a subjectAltName (an IP address when it parses as one, else a
 * DNS name: letters, digits, '-', '.'); 1..32 names. server.crt holds the
 * chain (server, then CA) so a pinned client finds the CA in the handshake.
 * Refuses when either file exists. */
int pki_server_cert(const struct pki_ca *ca, const char *dir, const char *const *names,
		    size_t n_names, int days, struct tls_err *err);
/* Checks size (1..PKI_CSR_MAX), PEM, key (EC P-256 or P-384, a valid point;
 * RSA, Ed25519 and other curves are refused) and the CSR's own signature,
 * then issues a clientAuth certificate with CN=host_id (pki_hostid_valid),
 * a random serial, CA:FALSE, no SAN. *cert_pem is malloc'd; serial is hex
 * as tls_peer reports it; not_after in unix seconds. */
int pki_sign_csr(const struct pki_ca *ca, const char *csr_pem, size_t len, const char *host_id,
		 int days, char **cert_pem, char serial[PKI_SERIAL_HEX + 1], int64_t *not_after,
		 struct tls_err *err);

/* ---- the host (sensor) -------------------------------------------------------- */
/* A new key at key_path (0600; refused when the file exists: remove a stale
 * one first) and a CSR for it, CN=cn; *csr_pem is malloc'd. */
int pki_key_csr(const char *key_path, const char *cn, char **csr_pem, struct tls_err *err);

/* ---- either ------------------------------------------------------------------- */
/* SHA-256 of the DER of the first certificate in pem, lowercase hex. */
int pki_cert_fingerprint(const char *pem, size_t len, char hex[PKI_FPR_HEX + 1],
			 struct tls_err *err);

/* ---- TLS contexts: TLS 1.3 only ----------------------------------------------- *
 * Private keys are refused when others (not the group) may access them.
 * Certificates are verified strictly (X509_V_FLAG_X509_STRICT), depth 2. */
/* Server: presents cert (a chain file: server.crt) and key. Asks every
 * client for a certificate chained to ca_path, but does not require one:
 * a client with none completes the handshake with has_cert false (the
 * server then allows it enrollment only); a client whose certificate does
 * not verify (other CA, expired, not clientAuth) fails the handshake with
 * an alert. No session cache, no tickets: nothing resumes past a
 * revocation. Modes ENABLE_PARTIAL_WRITE, ACCEPT_MOVING_WRITE_BUFFER and
 * RELEASE_BUFFERS, for a non-blocking server with many idle peers. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *ca_path,
			struct tls_err *err);
/* Client: verifies the server against ca_path and the name it dialed; a
 * handshake where tls_client_name was not called fails (fail closed).
 * cert/key NULL: presents none; both or neither. */
SSL_CTX *tls_client_ctx(const char *ca_path, const char *cert, const char *key,
			struct tls_err *err);
/* Client before enrollment: trusts only a server whose presented chain holds
 * a certificate with this fingerprint (64 hex digits, any case) and whose
 * leaf chains to that certificate; the server's name is checked as well
 * when tls_client_name set one. The pin stays with the context. */
SSL_CTX *tls_client_ctx_pinned(const char pin[PKI_FPR_HEX + 1], struct tls_err *err);
/* Set SNI (DNS names only) and the name to verify (a SAN: DNS, or IP when
 * host parses as an address) on a client SSL before the handshake. */
int tls_client_name(SSL *ssl, const char *host, struct tls_err *err);

struct tls_peer {
	bool has_cert, verified;	/* verified: chained to the CA, in date */
	char cn[PKI_HOSTID_MAX + 1];	/* "" unless the CN is a valid host id */
	char serial[PKI_SERIAL_HEX + 1];/* lowercase hex; "" beyond 20 bytes */
	char fingerprint[PKI_FPR_HEX + 1];
	int64_t not_after;		/* unix seconds */
	char why[128];			/* when !verified: OpenSSL's reason */
};
/* After the handshake; after a failed one, why still says what failed. */
void tls_peer(SSL *ssl, struct tls_peer *p);
/* One line for the log: OpenSSL's error queue drained into err after what. */
void tls_err_ssl(struct tls_err *err, const char *what);

#endif
