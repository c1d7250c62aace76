/* pkitest.h: what test_pki.c and test_tls.c share: files, the openssl CLI,
 * and a CA with hosts made through the real pki_ functions. */
#ifndef VIGIL_PKITEST_H
#define VIGIL_PKITEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "testutil.h"
#include "tls.h"

static inline char *pt_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static inline void pt_spit(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static inline mode_t pt_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static inline bool pt_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Runs a shell command; its stdout and stderr, malloc'd; *status: exit code. */
static inline char *pt_sh(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline char *pt_sh(int *status, const char *fmt, ...)
{
	char cmd[4096], *out = NULL;
	size_t cap = 0, len = 0, n;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (!(p = popen(cmd, "r")))
		fail_msg("popen %s: %s", cmd, strerror(errno));
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap * 2 + 8192;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		n = fread(out + len, 1, 4096, p);
		len += n;
	} while (n > 0);
	out[len] = 0;
	st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

static inline X509 *pt_x509(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(x);
	return x;
}

/* dir/ca.{key,crt}, loaded. */
static inline struct pki_ca *pt_ca(const char *dir, const char *cn)
{
	struct pki_ca *ca = NULL;
	struct tls_err err;

	if (pki_ca_create(dir, cn, 30, &err) != 0 || pki_ca_load(&ca, dir, &err) != 0)
		fail_msg("CA %s: %s", dir, err.msg);
	return ca;
}

/* dir/stem.key and dir/stem.crt for host_id, through a real CSR. */
static inline void pt_host(const struct pki_ca *ca, const char *dir, const char *stem,
			   const char *host_id, char serial[PKI_SERIAL_HEX + 1],
			   int64_t *not_after)
{
	char key[4096], crt[4096], *csr, *pem, s[PKI_SERIAL_HEX + 1];
	struct tls_err err;
	int64_t na;

	snprintf(key, sizeof(key), "%s/%s.key", dir, stem);
	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, stem);
	if (pki_key_csr(key, host_id, &csr, &err) != 0)
		fail_msg("key/CSR %s: %s", key, err.msg);
	if (pki_sign_csr(ca, csr, strlen(csr), host_id, 30, &pem, serial ? serial : s,
			 not_after ? not_after : &na, &err) != 0)
		fail_msg("sign %s: %s", host_id, err.msg);
	pt_spit(crt, pem, strlen(pem), 0644);
	free(csr);
	free(pem);
}

#endif
