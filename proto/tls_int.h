/*
 * tls_int.h: what pki.c, pki_io.c and tls.c share; nothing here is public.
 */
#ifndef VIGIL_TLS_INT_H
#define VIGIL_TLS_INT_H

#include <sys/types.h>

#include <openssl/x509.h>

#include "tls.h"

#define TLS_ATTR_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* err = the formatted message; clears OpenSSL's queue, which is stale then. */
void tls_errf(struct tls_err *err, const char *fmt, ...) TLS_ATTR_PRINTF(2, 3);
/* err = the formatted message, ": ", and OpenSSL's queue, drained. */
void tls_errf_ssl(struct tls_err *err, const char *fmt, ...) TLS_ATTR_PRINTF(2, 3);

/* Facts of one certificate, in the formats of struct tls_peer. */
int pki_x509_fpr(X509 *x, char hex[PKI_FPR_HEX + 1]);
void pki_x509_serial(const X509 *x, char hex[PKI_SERIAL_HEX + 1]);	/* "": does not fit */
int64_t pki_x509_not_after(const X509 *x);				/* 0: unreadable */
/* The subject's CN when it is a valid host id, else "". */
void pki_x509_cn(const X509 *x, char cn[PKI_HOSTID_MAX + 1]);

/* ---- pki_io.c ------------------------------------------------------------ */
/* dir/name into out (PATH_MAX bytes). */
int pki_path(char *out, const char *dir, const char *name, struct tls_err *err);
/* dir, made 0700 when missing (not its parents). */
int pki_mkdir(const char *dir, struct tls_err *err);
/* A new file at path with these bytes and mode: written to a temporary file
 * in the same directory, synced, then renamed into place only if path does
 * not exist; the directory is synced too. */
int pki_write_new(const char *path, const void *data, size_t len, mode_t mode,
		  struct tls_err *err);
/* A private key; refused when its mode has any of the bits in deny. Never
 * asks for a passphrase. */
EVP_PKEY *pki_read_key(const char *path, mode_t deny, struct tls_err *err);
X509 *pki_read_cert(const char *path, struct tls_err *err);
/* PEM of a private key in memory that is wiped when freed. */
int pki_key_pem(EVP_PKEY *key, char **pem, size_t *len, struct tls_err *err);
void pki_pem_wipe(char *pem, size_t len);
/* A new EC P-256 key. */
EVP_PKEY *pki_keygen(struct tls_err *err);

#endif
