/* test_pki.c: the CA, server and host certificates made by pki_, read back
 * with OpenSSL's API and checked again with the openssl command line; and
 * pki_sign_csr against CSRs a hostile host could send. */
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pkitest.h"

#define HOST	"web-01.prod"

/* A path that must fit (the return value checked keeps -Wformat-truncation quiet). */
#define JOIN(buf, ...) assert_true(snprintf((buf), sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

struct fx {
	char *root, ca_dir[512];
	struct pki_ca *ca;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->root = tu_mkroot();
	snprintf(f->ca_dir, sizeof(f->ca_dir), "%s/ca", f->root);
	f->ca = pt_ca(f->ca_dir, "vigil test CA");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pki_ca_free(f->ca);
	tu_rmroot(f->root);
	free(f);
	return 0;
}

static void path(char *out, const struct fx *f, const char *name)
{
	snprintf(out, 1024, "%s/%s", f->root, name);
}

/* The names in dir, sorted, joined by spaces. */
static void ls(char *out, size_t size, const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	out[0] = 0;
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.')
			snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "",
				 ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
}

static char *cli_fpr(const char *file)
{
	int st;
	char *out = pt_sh(&st, "openssl x509 -in '%s' -outform DER | sha256sum", file);

	assert_int_equal(st, 0);
	out[strcspn(out, " \n")] = 0;
	return out;
}

/* ---- the CA ----------------------------------------------------------------- */

static void test_ca_create(void **state)
{
	struct fx *f = *state;
	char key[1024], crt[1024], names[256], fpr[PKI_FPR_HEX + 1], fpr2[PKI_FPR_HEX + 1];
	char *pem, *cli;
	struct tls_err err;
	size_t len;
	X509 *x;

	JOIN(key, "%s/ca.key", f->ca_dir);
	JOIN(crt, "%s/ca.crt", f->ca_dir);
	assert_int_equal(pt_mode(key), 0600);
	assert_int_equal(pt_mode(crt), 0644);
	assert_int_equal(pt_mode(f->ca_dir), 0700);
	ls(names, sizeof(names), f->ca_dir);
	assert_string_equal(names, "ca.crt ca.key");	/* no temporary left behind */

	pem = pt_slurp(crt, &len);
	if (pki_cert_fingerprint(pem, len, fpr, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(strlen(fpr), PKI_FPR_HEX);
	cli = cli_fpr(crt);
	assert_string_equal(fpr, cli);
	assert_int_equal(pki_cert_fingerprint(pem, len, fpr2, &err), 0);
	assert_string_equal(fpr, fpr2);

	x = pt_x509(pem);
	assert_int_equal(X509_self_signed(x, 1), 1);
	assert_int_equal(X509_check_ca(x), 1);
	assert_true(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
	assert_int_equal(X509_get_pathlen(x), 0);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(x)), EVP_PKEY_EC);
	X509_free(x);
	free(cli);
	free(pem);

	/* The key is PKCS#8 PEM the openssl tool reads, and is ca.crt's. */
	int st;
	char *a = pt_sh(&st, "openssl pkey -in '%s' -pubout", key);
	char *b = pt_sh(&st, "openssl x509 -in '%s' -noout -pubkey", crt);
	assert_int_equal(st, 0);
	assert_non_null(strstr(a, "BEGIN PUBLIC KEY"));
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void test_ca_refuses_overwrite(void **state)
{
	struct fx *f = *state;
	char key[1024], crt[1024], dir[1024], *before, *after;
	struct tls_err err;

	JOIN(key, "%s/ca.key", f->ca_dir);
	JOIN(crt, "%s/ca.crt", f->ca_dir);
	before = pt_slurp(key, NULL);
	assert_int_equal(pki_ca_create(f->ca_dir, "again", 30, &err), -1);
	assert_non_null(strstr(err.msg, "exists"));
	after = pt_slurp(key, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Only ca.crt there: no ca.key is made either. */
	path(dir, f, "half");
	tu_mkdir(f->root, "/half", 0700);
	JOIN(crt, "%s/ca.crt", dir);
	JOIN(key, "%s/ca.key", dir);
	pt_spit(crt, "x", 1, 0644);
	assert_int_equal(pki_ca_create(dir, "half", 30, &err), -1);
	assert_non_null(strstr(err.msg, "exists"));
	assert_false(pt_exists(key));

	/* A parent that is not there is named. */
	path(dir, f, "no/such");
	assert_int_equal(pki_ca_create(dir, "x", 30, &err), -1);
	assert_non_null(strstr(err.msg, dir));

	path(dir, f, "bad");
	assert_int_equal(pki_ca_create(dir, "", 30, &err), -1);
	assert_non_null(strstr(err.msg, "CA name"));
	assert_int_equal(pki_ca_create(dir, "tab\there", 30, &err), -1);
	assert_int_equal(pki_ca_create(dir, "ok", 0, &err), -1);
	assert_non_null(strstr(err.msg, "validity"));
	assert_int_equal(pki_ca_create(dir, "ok", PKI_DAYS_MAX + 1, &err), -1);
	assert_false(pt_exists(dir));
}

static void test_ca_load(void **state)
{
	struct fx *f = *state;
	char dir[1024], other[1024], key[1024], src[1024], *pem;
	struct pki_ca *ca = NULL;
	struct tls_err err;
	size_t len;

	path(dir, f, "missing");
	assert_int_equal(pki_ca_load(&ca, dir, &err), -1);
	assert_null(ca);
	assert_non_null(strstr(err.msg, dir));

	/* A key others can read is refused, and says how to fix it. */
	path(dir, f, "loose");
	pki_ca_free(pt_ca(dir, "loose"));
	JOIN(key, "%s/ca.key", dir);
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(pki_ca_load(&ca, dir, &err), -1);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(pki_ca_load(&ca, dir, &err), 0);
	pki_ca_free(ca);

	/* Another CA's key next to this ca.crt. */
	path(other, f, "other");
	pki_ca_free(pt_ca(other, "other"));
	JOIN(src, "%s/ca.key", other);
	pem = pt_slurp(src, &len);
	assert_int_equal(unlink(key), 0);
	pt_spit(key, pem, len, 0600);
	free(pem);
	ca = NULL;
	assert_int_equal(pki_ca_load(&ca, dir, &err), -1);
	assert_null(ca);
	assert_non_null(strstr(err.msg, "not the key"));

	/* Garbage for a key. */
	assert_int_equal(unlink(key), 0);
	pt_spit(key, "garbage\n", 8, 0600);
	assert_int_equal(pki_ca_load(&ca, dir, &err), -1);
	assert_non_null(strstr(err.msg, "not a PEM private key"));
}

/* ---- CSRs made here, good and hostile --------------------------------------- */

static EVP_PKEY *keygen(const char *kind)
{
	EVP_PKEY *k = NULL;

	if (!strcmp(kind, "p256"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (!strcmp(kind, "p384"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (!strcmp(kind, "k256"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	else if (!strcmp(kind, "rsa512"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	else if (!strcmp(kind, "rsa2048"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (!strcmp(kind, "ed25519"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k)
		fail_msg("keygen %s", kind);
	return k;
}

static void add_req_ext(STACK_OF(X509_EXTENSION) *exts, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, nid, value);

	assert_non_null(e);
	assert_true(sk_X509_EXTENSION_push(exts, e) > 0);
}

/* A CSR for key with subject CN=cn; greedy: asks for CA:TRUE, a SAN and
 * serverAuth besides. */
static char *mkcsr(EVP_PKEY *key, const char *cn, bool greedy)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_true(X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					       (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
					       (const unsigned char *)"Evil Corp", -1, -1, 0));
	assert_true(X509_REQ_set_subject_name(req, name));
	assert_true(X509_REQ_set_pubkey(req, key));
	if (greedy) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();

		add_req_ext(exts, NID_basic_constraints, "critical,CA:TRUE");
		add_req_ext(exts, NID_subject_alt_name, "DNS:collector.example,IP:10.0.0.1");
		add_req_ext(exts, NID_ext_key_usage, "serverAuth,codeSigning");
		assert_true(X509_REQ_add_extensions(req, exts));
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519
						  ? NULL
						  : EVP_sha256()) > 0);
	assert_true(PEM_write_bio_X509_REQ(b, req));
	n = BIO_get_mem_data(b, &data);
	out = malloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = 0;
	BIO_free(b);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return out;
}

static char *csr_of(const char *kind)
{
	EVP_PKEY *k = keygen(kind);
	char *pem = mkcsr(k, "root", false);

	EVP_PKEY_free(k);
	return pem;
}

/* The CSR with the last byte of its signature flipped: still DER, no
 * longer a signature of its content. */
static char *broken_sig(const char *pem)
{
	BIO *in = BIO_new_mem_buf(pem, -1), *out = BIO_new(BIO_s_mem());
	X509_REQ *req = PEM_read_bio_X509_REQ(in, NULL, NULL, NULL);
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	char *data, *res;
	long m;

	assert_true(n > 0);
	der[n - 1] ^= 0x01;
	assert_true(PEM_write_bio(out, "CERTIFICATE REQUEST", "", der, n));
	m = BIO_get_mem_data(out, &data);
	res = malloc((size_t)m + 1);
	memcpy(res, data, (size_t)m);
	res[m] = 0;
	OPENSSL_free(der);
	X509_REQ_free(req);
	BIO_free(in);
	BIO_free(out);
	return res;
}

static int sign(struct fx *f, const char *pem, size_t len, const char *host, char **cert,
		char serial[PKI_SERIAL_HEX + 1], int64_t *na, struct tls_err *err)
{
	err->msg[0] = 0;
	return pki_sign_csr(f->ca, pem, len, host, 30, cert, serial, na, err);
}

static char *ca_pem(const struct fx *f)
{
	char crt[1024];

	JOIN(crt, "%s/ca.crt", f->ca_dir);
	return pt_slurp(crt, NULL);
}

static void test_sign_csr(void **state)
{
	struct fx *f = *state;
	char serial[PKI_SERIAL_HEX + 1], serial2[PKI_SERIAL_HEX + 1], crt[1024], cn[128];
	char *cert, *cert2, *csr, *out, *pem;
	EVP_PKEY *key = keygen("p256");
	struct tls_err err;
	int64_t na, na2, now = time(NULL);
	X509 *x, *cax;
	int st;

	csr = mkcsr(key, "root", true);
	if (sign(f, csr, strlen(csr), HOST, &cert, serial, &na, &err) != 0)
		fail_msg("%s", err.msg);
	x = pt_x509(cert);

	/* The subject is exactly CN=host id; nothing the CSR asked for. */
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					      sizeof(cn)) > 0);
	assert_string_equal(cn, HOST);
	assert_int_equal(X509_check_ca(x), 0);
	assert_true(X509_get_extension_flags(x) & EXFLAG_BCONS);
	assert_false(X509_get_extension_flags(x) & EXFLAG_CA);
	assert_true(X509_get_ext_by_NID(x, NID_subject_alt_name, -1) < 0);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);

	/* Issued by the CA: its name, its key id, its signature. */
	pem = ca_pem(f);
	cax = pt_x509(pem);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(cax)), 0);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
					       X509_get0_subject_key_id(cax)), 0);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(X509_verify(x, X509_get0_pubkey(cax)), 1);

	/* 20 bytes, top bit clear, as the openssl tool reads the serial. */
	assert_int_equal(strlen(serial), PKI_SERIAL_HEX);
	assert_true(strchr("4567", serial[0]) != NULL);
	JOIN(crt, "%s/host.crt", f->root);
	pt_spit(crt, cert, strlen(cert), 0644);
	out = pt_sh(&st, "openssl x509 -in '%s' -noout -serial", crt);
	assert_int_equal(st, 0);
	out[strcspn(out, "\n")] = 0;
	assert_int_equal(strncmp(out, "serial=", 7), 0);
	assert_int_equal(strcasecmp(out + 7, serial), 0);
	free(out);
	assert_true(na >= now + 30 * 86400 - 5 && na <= now + 30 * 86400 + 5);
	assert_true(X509_cmp_time(X509_get0_notBefore(x), NULL) < 0);

	/* The openssl tool agrees: a client certificate of this CA, not a server's. */
	out = pt_sh(&st, "openssl verify -x509_strict -purpose sslclient -CAfile '%s/ca.crt' '%s' 2>&1",
		    f->ca_dir, crt);
	if (st != 0)
		fail_msg("openssl verify: %s", out);
	free(out);
	out = pt_sh(&st, "openssl verify -purpose sslserver -CAfile '%s/ca.crt' '%s' 2>&1",
		    f->ca_dir, crt);
	assert_int_not_equal(st, 0);
	if (!strstr(out, "unsuitable certificate purpose"))
		fail_msg("openssl verify -purpose sslserver: %s", out);
	free(out);

	/* The same CSR again: another serial. */
	assert_int_equal(sign(f, csr, strlen(csr), HOST, &cert2, serial2, &na2, &err), 0);
	assert_string_not_equal(serial, serial2);

	X509_free(cax);
	X509_free(x);
	free(pem);
	free(cert);
	free(cert2);
	free(csr);
	EVP_PKEY_free(key);
}

/* P-384, and a CSR in a buffer with no NUL after it (ASan sees any overread). */
static void test_sign_csr_p384_exact(void **state)
{
	struct fx *f = *state;
	char serial[PKI_SERIAL_HEX + 1], *csr = csr_of("p384"), *cert, *exact;
	size_t len = strlen(csr);
	struct tls_err err;
	int64_t na;

	exact = malloc(len);
	memcpy(exact, csr, len);
	if (sign(f, exact, len, "db_2", &cert, serial, &na, &err) != 0)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(cert, "BEGIN CERTIFICATE"));
	free(cert);
	free(exact);
	free(csr);
}

/* Every refusal: -1, a message that says what, no certificate. */
static void refused(struct fx *f, const char *pem, size_t len, const char *host,
		    const char *want)
{
	char serial[PKI_SERIAL_HEX + 1] = "x", *cert = (char *)"x";
	struct tls_err err;
	int64_t na = 1;

	if (sign(f, pem, len, host, &cert, serial, &na, &err) != -1)
		fail_msg("accepted; want refused with \"%s\"", want);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	assert_null(cert);
	assert_string_equal(serial, "");
	assert_int_equal(na, 0);
}

static void test_sign_csr_hostile(void **state)
{
	struct fx *f = *state;
	char *good = csr_of("p256"), *big, *cert_pem, *p;
	static const char junk[] = "hello, I am a certificate request";
	static const char empty_pem[] = "-----BEGIN CERTIFICATE REQUEST-----\n"
					"-----END CERTIFICATE REQUEST-----\n";
	static const char bad_der[] = "-----BEGIN CERTIFICATE REQUEST-----\n"
				      "MIIBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
				      "-----END CERTIFICATE REQUEST-----\n";
	size_t n = strlen(good);
	char long_id[PKI_HOSTID_MAX + 2];

	refused(f, junk, sizeof(junk) - 1, HOST, "not a PEM certificate request");
	refused(f, good, 0, HOST, "empty");
	refused(f, NULL, 10, HOST, "empty");
	refused(f, good, n / 2, HOST, "not a PEM certificate request");	/* truncated */
	refused(f, good, n - 40, HOST, "not a PEM certificate request");	/* no END line */
	refused(f, empty_pem, sizeof(empty_pem) - 1, HOST, "not a PEM certificate request");
	refused(f, bad_der, sizeof(bad_der) - 1, HOST, "not a PEM certificate request");

	/* Too big, even though a valid CSR starts it. */
	big = malloc(PKI_CSR_MAX + 2);
	memset(big, '\n', PKI_CSR_MAX + 1);
	memcpy(big, good, n);
	big[PKI_CSR_MAX + 1] = 0;
	refused(f, big, PKI_CSR_MAX + 1, HOST, "more than the 16384 allowed");
	free(big);

	/* A certificate where a CSR belongs. */
	cert_pem = ca_pem(f);
	refused(f, cert_pem, strlen(cert_pem), HOST, "not a PEM certificate request");
	free(cert_pem);

	/* A signature that does not match: someone else's key. */
	p = broken_sig(good);
	refused(f, p, strlen(p), HOST, "signature does not verify");
	free(p);

	/* Keys we do not take. */
	p = csr_of("rsa512");
	refused(f, p, strlen(p), HOST, "a RSA key; only EC P-256 and P-384");
	free(p);
	p = csr_of("rsa2048");
	refused(f, p, strlen(p), HOST, "a RSA key");
	free(p);
	p = csr_of("ed25519");
	refused(f, p, strlen(p), HOST, "a ED25519 key");
	free(p);
	p = csr_of("k256");
	refused(f, p, strlen(p), HOST, "curve secp256k1");
	free(p);
	/* P-256 itself, but spelled out as explicit parameters. */
	int st;
	p = pt_sh(&st, "openssl ecparam -name prime256v1 -param_enc explicit -genkey -noout | "
		       "openssl req -new -key /dev/stdin -subj /CN=web-01");
	assert_int_equal(st, 0);
	refused(f, p, strlen(p), HOST, "explicit curve parameters");
	free(p);

	/* Host ids the collector must not issue, whatever the CSR. */
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = 0;
	refused(f, good, n, long_id, "host id");
	long_id[PKI_HOSTID_MAX] = 0;
	assert_true(pki_hostid_valid(long_id));
	refused(f, good, n, "a/b", "host id");
	refused(f, good, n, "../etc", "host id");
	refused(f, good, n, "", "host id");
	refused(f, good, n, NULL, "host id");
	refused(f, good, n, "a b", "host id");
	refused(f, good, n, "h\xc3\xa9te", "host id");
	refused(f, good, n, "cn=x,o=y", "host id");
	assert_int_equal(pki_sign_csr(NULL, good, n, HOST, 30, &cert_pem, long_id, &(int64_t){ 0 },
				      &(struct tls_err){ { 0 } }),
			 -1);

	/* Validity out of range. */
	char serial[PKI_SERIAL_HEX + 1];
	struct tls_err err;
	int64_t na;
	assert_int_equal(pki_sign_csr(f->ca, good, n, HOST, 0, &cert_pem, serial, &na, &err), -1);
	assert_non_null(strstr(err.msg, "validity"));
	assert_int_equal(pki_sign_csr(f->ca, good, n, HOST, -5, &cert_pem, serial, &na, &err), -1);
	assert_int_equal(
		pki_sign_csr(f->ca, good, n, HOST, PKI_DAYS_MAX + 1, &cert_pem, serial, &na, &err),
		-1);

	/* And after all that, the same CA still signs. */
	assert_int_equal(sign(f, good, n, HOST, &cert_pem, serial, &na, &err), 0);
	free(cert_pem);
	free(good);
}

/* ---- the host's key and CSR ------------------------------------------------- */

static void test_key_csr(void **state)
{
	struct fx *f = *state;
	char key[1024], dir[1024], names[256], *csr, *before, *after;
	struct tls_err err;
	EVP_PKEY *pk;
	X509_REQ *req;
	BIO *b;
	FILE *fp;
	char cn[128];

	path(dir, f, "host");
	tu_mkdir(f->root, "/host", 0700);
	JOIN(key, "%s/host.key", dir);
	if (pki_key_csr(key, "web-01", &csr, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pt_mode(key), 0600);
	ls(names, sizeof(names), dir);
	assert_string_equal(names, "host.key");

	fp = fopen(key, "r");
	pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(pk);
	assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_bits(pk), 256);

	b = BIO_new_mem_buf(csr, -1);
	req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), pk), 1);
	assert_true(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn,
					      sizeof(cn)) > 0);
	assert_string_equal(cn, "web-01");
	X509_REQ_free(req);
	BIO_free(b);
	EVP_PKEY_free(pk);
	free(csr);

	/* An existing key stays as it was. */
	before = pt_slurp(key, NULL);
	csr = (char *)"x";
	assert_int_equal(pki_key_csr(key, "web-01", &csr, &err), -1);
	assert_null(csr);
	assert_non_null(strstr(err.msg, "exists"));
	after = pt_slurp(key, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* No key is left behind by a refusal. */
	JOIN(key, "%s/other.key", dir);
	assert_int_equal(pki_key_csr(key, "", &csr, &err), -1);
	assert_int_equal(pki_key_csr(key, "new\nline", &csr, &err), -1);
	assert_non_null(strstr(err.msg, "CSR name"));
	assert_false(pt_exists(key));
	JOIN(key, "%s/nodir/host.key", dir);
	assert_int_equal(pki_key_csr(key, "web-01", &csr, &err), -1);
	assert_non_null(strstr(err.msg, dir));
	ls(names, sizeof(names), dir);
	assert_string_equal(names, "host.key");
}

/* ---- the server certificate --------------------------------------------------- */

static void test_server_cert(void **state)
{
	struct fx *f = *state;
	const char *names[] = { "collector.example.com", "localhost", "127.0.0.1", "::1" };
	char dir[1024], crt[1024], key[1024], fpr[PKI_FPR_HEX + 1], *pem, *ca, *out, *second;
	char cafpr[PKI_FPR_HEX + 1];
	struct tls_err err;
	X509 *x;
	int st;

	JOIN(dir, "%s/srv", f->root);
	if (pki_server_cert(f->ca, dir, names, 4, 30, &err) != 0)
		fail_msg("%s", err.msg);
	JOIN(crt, "%s/server.crt", dir);
	JOIN(key, "%s/server.key", dir);
	assert_int_equal(pt_mode(key), 0600);
	assert_int_equal(pt_mode(crt), 0644);

	pem = pt_slurp(crt, NULL);
	x = pt_x509(pem);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_check_host(x, "collector.example.com", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "evil.example.com", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.2", 0), 0);
	X509_free(x);

	/* The chain: the server's certificate, then the CA's. */
	second = strstr(pem + 1, "-----BEGIN CERTIFICATE-----");
	assert_non_null(second);
	assert_null(strstr(second + 1, "-----BEGIN CERTIFICATE-----"));
	ca = ca_pem(f);
	assert_int_equal(pki_cert_fingerprint(second, strlen(second), fpr, &err), 0);
	assert_int_equal(pki_cert_fingerprint(ca, strlen(ca), cafpr, &err), 0);
	assert_string_equal(fpr, cafpr);
	/* ...and the fingerprint of a chain is its first certificate's. */
	assert_int_equal(pki_cert_fingerprint(pem, strlen(pem), fpr, &err), 0);
	assert_string_not_equal(fpr, cafpr);
	out = cli_fpr(crt);
	assert_string_equal(fpr, out);
	free(out);

	out = pt_sh(&st, "openssl x509 -in '%s' -noout -ext subjectAltName,extendedKeyUsage", crt);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "DNS:collector.example.com, DNS:localhost, IP Address:127.0.0.1, "
				    "IP Address:0:0:0:0:0:0:0:1"));
	assert_non_null(strstr(out, "TLS Web Server Authentication"));
	assert_null(strstr(out, "Client"));
	free(out);
	out = pt_sh(&st, "openssl verify -x509_strict -purpose sslserver -CAfile '%s/ca.crt' '%s' 2>&1",
		    f->ca_dir, crt);
	if (st != 0)
		fail_msg("openssl verify: %s", out);
	free(out);
	free(ca);
	free(pem);

	/* Not over itself; names that are neither DNS nor IP; none; too many. */
	assert_int_equal(pki_server_cert(f->ca, dir, names, 1, 30, &err), -1);
	assert_non_null(strstr(err.msg, "exists"));
	JOIN(dir, "%s/srv2", f->root);
	const char *bad1[] = { "localhost", "evil,DNS:x" };
	assert_int_equal(pki_server_cert(f->ca, dir, bad1, 2, 30, &err), -1);
	assert_non_null(strstr(err.msg, "server name 2"));
	const char *bad2[] = { "" }, *bad3[] = { "a..b" }, *bad4[] = { NULL };
	assert_int_equal(pki_server_cert(f->ca, dir, bad2, 1, 30, &err), -1);
	assert_int_equal(pki_server_cert(f->ca, dir, bad3, 1, 30, &err), -1);
	assert_int_equal(pki_server_cert(f->ca, dir, bad4, 1, 30, &err), -1);
	assert_int_equal(pki_server_cert(f->ca, dir, names, 0, 30, &err), -1);
	const char *many[33];
	for (int i = 0; i < 33; i++)
		many[i] = "localhost";
	assert_int_equal(pki_server_cert(f->ca, dir, many, 33, 30, &err), -1);
	assert_false(pt_exists(dir));
}

static void test_fingerprint_refuses(void **state)
{
	char fpr[PKI_FPR_HEX + 1] = "x";
	struct tls_err err;

	(void)state;
	assert_int_equal(pki_cert_fingerprint("junk", 4, fpr, &err), -1);
	assert_string_equal(fpr, "");
	assert_non_null(strstr(err.msg, "not PEM"));
	assert_int_equal(pki_cert_fingerprint("", 0, fpr, &err), -1);
	assert_int_equal(pki_cert_fingerprint(NULL, 0, fpr, &err), -1);
	assert_false(pki_hostid_valid("a\n"));
	assert_true(pki_hostid_valid("A.b-c_9"));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_ca_create),
	cmocka_unit_test(test_ca_refuses_overwrite),
	cmocka_unit_test(test_ca_load),
	cmocka_unit_test(test_sign_csr),
	cmocka_unit_test(test_sign_csr_p384_exact),
	cmocka_unit_test(test_sign_csr_hostile),
	cmocka_unit_test(test_key_csr),
	cmocka_unit_test(test_server_cert),
	cmocka_unit_test(test_fingerprint_refuses),
};

int main(void)
{
	return cmocka_run_group_tests(tests, setup, teardown);
}
