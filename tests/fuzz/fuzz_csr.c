/* fuzz_csr.c: pki_sign_csr on arbitrary bytes, against a CA made once, at
 * the first input, in a temporary directory (removed at exit). Beyond not
 * crashing, leaking or reading past the input: a refusal says why and
 * leaves no certificate; an acceptance is a certificate of this CA with
 * CN = the host id we gave, clientAuth only, not a CA, a 40-digit serial,
 * that verifies as the collector's server will verify it (strict, as a
 * client certificate), whatever the input asked for. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define HOST	"fuzz-host"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pki_ca *ca;
static X509 *ca_cert;
static X509_STORE *store;
static char dir[] = "/tmp/vigil-fuzz-csr-XXXXXX";

static void ca_remove(void)
{
	char path[sizeof(dir) + 16];

	pki_ca_free(ca);
	X509_free(ca_cert);
	X509_STORE_free(store);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	unlink(path);
	rmdir(dir);
}

static void ca_make(void)
{
	char path[sizeof(dir) + 16];
	struct tls_err err;
	FILE *f;

	if (!mkdtemp(dir) || pki_ca_create(dir, "fuzz CA", 30, &err) != 0 ||
	    pki_ca_load(&ca, dir, &err) != 0) {
		fprintf(stderr, "fuzz_csr: CA in %s: %s\n", dir, err.msg);
		abort();
	}
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	if (!(f = fopen(path, "r")) || !(ca_cert = PEM_read_X509(f, NULL, NULL, NULL)))
		abort();
	fclose(f);
	if (!(store = X509_STORE_new()) || !X509_STORE_add_cert(store, ca_cert) ||
	    !X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT) ||
	    !X509_STORE_set_purpose(store, X509_PURPOSE_SSL_CLIENT))
		abort();
	atexit(ca_remove);
}

/* As tls_server_ctx's handshake would. */
static int verifies(X509 *x)
{
	X509_STORE_CTX *c = X509_STORE_CTX_new();
	int ok = c && X509_STORE_CTX_init(c, store, x, NULL) && X509_verify_cert(c) == 1;

	X509_STORE_CTX_free(c);
	return ok;
}

static void check_cert(const char *pem, const char *serial, int64_t not_after)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	char cn[128];

	if (!x || X509_NAME_entry_count(X509_get_subject_name(x)) != 1 ||
	    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
				      sizeof(cn)) <= 0 ||
	    strcmp(cn, HOST) != 0 || X509_check_ca(x) != 0 ||
	    X509_get_extended_key_usage(x) != XKU_SSL_CLIENT ||
	    X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0 ||
	    X509_verify(x, X509_get0_pubkey(ca_cert)) != 1 || !verifies(x) ||
	    strlen(serial) != PKI_SERIAL_HEX || not_after <= time(NULL))
		__builtin_trap();
	X509_free(x);
	BIO_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char serial[PKI_SERIAL_HEX + 1], *pem = (char *)"unset";
	struct tls_err err;
	int64_t not_after = -1;

	if (!ca)
		ca_make();
	err.msg[0] = 0;
	if (pki_sign_csr(ca, (const char *)data, size, HOST, 1, &pem, serial, &not_after,
			 &err) == 0) {
		check_cert(pem, serial, not_after);
		free(pem);
	} else if (!err.msg[0] || pem || serial[0] || not_after != 0) {
		__builtin_trap();
	}
	return 0;
}
