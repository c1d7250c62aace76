/*
 * pki.c: the collector's CA, its server certificate, the hosts' keys and
 * CSRs, and the signing that turns a CSR into a host's identity.
 *
 * A CSR comes from a host that is not trusted yet, so nothing in it is
 * copied but its public key: the subject, the SANs and every requested
 * extension are ignored, and the certificate says what the collector
 * decided (CN = the host id it chose, clientAuth only, not a CA).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tls_int.h"

#define BACKDATE	3600		/* seconds: tolerates clocks behind the CA's */
#define SERIAL_LEN	20		/* bytes; RFC 5280 allows no more */
#define NAMES_MAX	32		/* subjectAltNames of a server certificate */
#define DNS_MAX		253
#define CN_MAX		64		/* ub-common-name */

struct pki_ca {
	EVP_PKEY *key;
	X509 *cert;
};

/* ---- small facts ---------------------------------------------------------- */

bool pki_hostid_valid(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++) {
		unsigned char c = (unsigned char)id[n];

		if (n >= PKI_HOSTID_MAX ||
		    !(isascii(c) && (isalnum(c) || c == '_' || c == '.' || c == '-')))
			return false;
	}
	return n > 0;
}

static void hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

int pki_x509_fpr(X509 *x, char out[PKI_FPR_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = 0;
	if (!X509_digest(x, EVP_sha256(), md, &n) || n * 2 != PKI_FPR_HEX)
		return -1;
	hex(out, md, n);
	return 0;
}

void pki_x509_serial(const X509 *x, char out[PKI_SERIAL_HEX + 1])
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	BIGNUM *bn = ai ? ASN1_INTEGER_to_BN(ai, NULL) : NULL;
	unsigned char b[SERIAL_LEN];
	int n;

	out[0] = 0;
	if (bn && !BN_is_negative(bn) && (n = BN_num_bytes(bn)) <= SERIAL_LEN &&
	    BN_bn2bin(bn, b) == n)
		hex(out, b, (size_t)n);
	BN_free(bn);
}

int64_t pki_x509_not_after(const X509 *x)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

void pki_x509_cn(const X509 *x, char cn[PKI_HOSTID_MAX + 1])
{
	const X509_NAME *name = X509_get_subject_name(x);
	int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	const ASN1_STRING *s;
	unsigned char *utf8 = NULL;
	int n;

	cn[0] = 0;
	if (i < 0 || !(s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))))
		return;
	n = ASN1_STRING_to_UTF8(&utf8, s);
	if (n > 0 && n <= PKI_HOSTID_MAX && strlen((char *)utf8) == (size_t)n &&
	    pki_hostid_valid((char *)utf8))
		memcpy(cn, utf8, (size_t)n + 1);
	OPENSSL_free(utf8);
}

int pki_cert_fingerprint(const char *pem, size_t len, char out[PKI_FPR_HEX + 1],
			 struct tls_err *err)
{
	BIO *b;
	X509 *x;
	int r = -1;

	out[0] = 0;
	if (!pem || len == 0 || len > INT_MAX) {
		tls_errf(err, "certificate: empty");
		return -1;
	}
	b = BIO_new_mem_buf(pem, (int)len);
	x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	if (!x)
		tls_errf_ssl(err, "certificate: not PEM");
	else if ((r = pki_x509_fpr(x, out)) != 0)
		tls_errf_ssl(err, "certificate: SHA-256");
	X509_free(x);
	BIO_free(b);
	return r;
}

/* Text that goes into a subject: no control bytes, within ub-common-name. */
static bool cn_ok(const char *cn)
{
	size_t n = cn ? strlen(cn) : 0;

	if (n == 0 || n > CN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)cn[i] < 0x20 || cn[i] == 0x7f)
			return false;
	return true;
}

static bool days_ok(int days, struct tls_err *err)
{
	if (days >= 1 && days <= PKI_DAYS_MAX)
		return true;
	tls_errf(err, "validity of %d days: want 1..%d", days, PKI_DAYS_MAX);
	return false;
}

/* ---- issuing -------------------------------------------------------------- */

enum kind { CA, CLIENT, SERVER };

struct issue {
	enum kind kind;
	const char *cn;
	EVP_PKEY *pub;			/* the subject's key */
	const struct pki_ca *ca;	/* NULL: self-signed with pub (the CA) */
	int days;
	const char *const *names;	/* SERVER: subjectAltNames */
	size_t n_names;
};

static int random_serial(X509 *x)
{
	unsigned char b[SERIAL_LEN];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	/* Top bit clear (a positive INTEGER), the next set (always 20 bytes,
	 * so every serial is 40 hex digits): 158 random bits. */
	b[0] = (unsigned char)((b[0] & 0x3f) | 0x40);
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
	int ok = e && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	return ok;
}

static int add_sans(X509 *x, const char *const *names, size_t n, struct tls_err *err)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	int ok = gens != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(names[i]);
		ASN1_IA5STRING *dns;

		ERR_clear_error();	/* a2i_IPADDRESS leaves one for a DNS name */
		if (!g) {
			ASN1_OCTET_STRING_free(ip);
			ok = 0;
		} else if (ip) {
			GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		} else if ((dns = ASN1_IA5STRING_new()) &&
			   ASN1_STRING_set(dns, names[i], (int)strlen(names[i]))) {
			GENERAL_NAME_set0_value(g, GEN_DNS, dns);
		} else {
			ASN1_IA5STRING_free(dns);
			ok = 0;
		}
		if (ok && !sk_GENERAL_NAME_push(gens, g))
			ok = 0;
		if (!ok)
			GENERAL_NAME_free(g);
	}
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	if (!ok)
		tls_errf_ssl(err, "subjectAltName");
	return ok ? 0 : -1;
}

static X509 *issue(const struct issue *in, struct tls_err *err)
{
	static const char *const eku[] = { [CA] = NULL, [CLIENT] = "clientAuth",
					   [SERVER] = "serverAuth" };
	X509 *x = X509_new(), *issuer;
	X509_NAME *subject = NULL;
	EVP_PKEY *sign_key = in->ca ? in->ca->key : in->pub;
	X509V3_CTX v3;
	time_t now = time(NULL);
	int ok;

	ok = x && X509_set_version(x, X509_VERSION_3) && random_serial(x) &&
	     (subject = X509_NAME_new()) &&
	     X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
					(const unsigned char *)in->cn, -1, -1, 0) &&
	     X509_set_subject_name(x, subject) &&
	     X509_set_issuer_name(x, in->ca ? X509_get_subject_name(in->ca->cert) : subject) &&
	     X509_time_adj_ex(X509_getm_notBefore(x), 0, -BACKDATE, &now) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), in->days, 0, &now) &&
	     X509_set_pubkey(x, in->pub);
	X509_NAME_free(subject);
	if (!ok) {
		tls_errf_ssl(err, "certificate for %s", in->cn);
		X509_free(x);
		return NULL;
	}
	issuer = in->ca ? in->ca->cert : x;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if (in->kind == CA)
		ok = add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
		     add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
	else
		ok = add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
		     add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") &&
		     add_ext(x, &v3, NID_ext_key_usage, eku[in->kind]);
	ok = ok && add_ext(x, &v3, NID_subject_key_identifier, "hash") &&
	     add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (!ok) {
		tls_errf_ssl(err, "certificate for %s: extensions", in->cn);
		X509_free(x);
		return NULL;
	}
	if (in->kind == SERVER && add_sans(x, in->names, in->n_names, err) != 0) {
		X509_free(x);
		return NULL;
	}
	if (X509_sign(x, sign_key, EVP_sha256()) <= 0) {
		tls_errf_ssl(err, "certificate for %s: signing", in->cn);
		X509_free(x);
		return NULL;
	}
	return x;
}

/* PEM of certificates in a malloc'd, NUL-terminated string. */
static char *certs_pem(X509 *const *certs, size_t n, size_t *len, struct tls_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long size;
	int ok = b != NULL;

	for (size_t i = 0; ok && i < n; i++)
		ok = PEM_write_bio_X509(b, certs[i]);
	if (ok && (size = BIO_get_mem_data(b, &data)) > 0 && (out = malloc((size_t)size + 1))) {
		memcpy(out, data, (size_t)size);
		out[size] = 0;
		if (len)
			*len = (size_t)size;
	} else {
		tls_errf_ssl(err, "certificate to PEM");
	}
	BIO_free(b);
	return out;
}

/* key then certificate(s), as new files; the key goes when the rest fails. */
static int write_pair(const char *dir, const char *key_name, const char *crt_name,
		      EVP_PKEY *key, X509 *const *certs, size_t n, struct tls_err *err)
{
	char key_path[PATH_MAX], crt_path[PATH_MAX], *key_pem = NULL, *crt_pem;
	size_t key_len = 0, crt_len = 0;
	int r = -1;

	if (pki_path(key_path, dir, key_name, err) || pki_path(crt_path, dir, crt_name, err))
		return -1;
	if (access(key_path, F_OK) == 0 || access(crt_path, F_OK) == 0) {
		tls_errf(err, "%s: %s or %s exists; not overwritten", dir, key_name, crt_name);
		return -1;
	}
	if (!(crt_pem = certs_pem(certs, n, &crt_len, err)) ||
	    pki_key_pem(key, &key_pem, &key_len, err) != 0)
		goto out;
	if (pki_write_new(key_path, key_pem, key_len, 0600, err) != 0)
		goto out;
	if (pki_write_new(crt_path, crt_pem, crt_len, 0644, err) != 0) {
		unlink(key_path);
		goto out;
	}
	r = 0;
out:
	pki_pem_wipe(key_pem, key_len);
	free(crt_pem);
	return r;
}

/* ---- the CA ----------------------------------------------------------------- */

int pki_ca_create(const char *dir, const char *cn, int days, struct tls_err *err)
{
	struct issue in = { .kind = CA, .cn = cn, .days = days };
	X509 *x = NULL;
	int r = -1;

	if (!cn_ok(cn)) {
		tls_errf(err, "CA name: want 1..%d printable bytes", CN_MAX);
		return -1;
	}
	if (!days_ok(days, err) || pki_mkdir(dir, err) != 0)
		return -1;
	if (!(in.pub = pki_keygen(err)))
		return -1;
	if ((x = issue(&in, err)))
		r = write_pair(dir, "ca.key", "ca.crt", in.pub, &x, 1, err);
	X509_free(x);
	EVP_PKEY_free(in.pub);
	return r;
}

int pki_ca_load(struct pki_ca **out, const char *dir, struct tls_err *err)
{
	char key_path[PATH_MAX], crt_path[PATH_MAX];
	struct pki_ca *ca;

	*out = NULL;
	if (pki_path(key_path, dir, "ca.key", err) || pki_path(crt_path, dir, "ca.crt", err))
		return -1;
	if (!(ca = calloc(1, sizeof(*ca)))) {
		tls_errf(err, "%s: out of memory", dir);
		return -1;
	}
	if (!(ca->key = pki_read_key(key_path, 077, err)) ||
	    !(ca->cert = pki_read_cert(crt_path, err)))
		goto fail;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		tls_errf_ssl(err, "%s: ca.key is not the key of ca.crt", dir);
		goto fail;
	}
	if (X509_check_ca(ca->cert) != 1) {
		tls_errf(err, "%s: ca.crt is not a CA certificate", crt_path);
		goto fail;
	}
	*out = ca;
	return 0;
fail:
	pki_ca_free(ca);
	return -1;
}

void pki_ca_free(struct pki_ca *ca)
{
	if (!ca)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca);
}

/* A DNS name as a subjectAltName: letters, digits, '-' and '.', no empty
 * label; an IP address is checked by a2i_IPADDRESS instead. */
static bool dns_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > DNS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isascii(c) && (isalnum(c) || c == '-') && ++label <= 63) {
			continue;
		} else {
			return false;
		}
	}
	return label > 0;
}

int pki_server_cert(const struct pki_ca *ca, const char *dir, const char *const *names,
		    size_t n_names, int days, struct tls_err *err)
{
	struct issue in = { .kind = SERVER, .ca = ca, .days = days, .names = names,
			    .n_names = n_names };
	X509 *chain[2] = { NULL, ca ? ca->cert : NULL };
	int r = -1;

	if (!ca || n_names == 0 || n_names > NAMES_MAX) {
		tls_errf(err, "server certificate: want a CA and 1..%d names", NAMES_MAX);
		return -1;
	}
	for (size_t i = 0; i < n_names; i++) {
		ASN1_OCTET_STRING *ip = names[i] ? a2i_IPADDRESS(names[i]) : NULL;
		bool ok = ip || (names[i] && dns_ok(names[i]));

		ASN1_OCTET_STRING_free(ip);
		if (!ok) {
			tls_errf(err, "server name %zu: neither an IP address nor a DNS name", i + 1);
			return -1;
		}
	}
	/* Clients match the SANs; the CN is for people reading the certificate. */
	in.cn = strlen(names[0]) <= CN_MAX ? names[0] : "vigil-collector";
	if (!days_ok(days, err) || pki_mkdir(dir, err) != 0)
		return -1;
	if (!(in.pub = pki_keygen(err)))
		return -1;
	/* The chain, so a client that pins the CA finds it in the handshake. */
	if ((chain[0] = issue(&in, err)))
		r = write_pair(dir, "server.key", "server.crt", in.pub, chain, 2, err);
	X509_free(chain[0]);
	EVP_PKEY_free(in.pub);
	return r;
}

/* ---- a host's CSR, and signing it ---------------------------------------- */

/* EC on P-256 or P-384, a valid point: what our TLS peers all speak. */
static int csr_key_ok(EVP_PKEY *pk, struct tls_err *err)
{
	char group[64];
	EVP_PKEY_CTX *c;
	int nid, ok;

	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC) {
		tls_errf(err, "CSR: a %s key; only EC P-256 and P-384 are accepted",
			 EVP_PKEY_get0_type_name(pk));
		return -1;
	}
	if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) ||
	    ((nid = OBJ_sn2nid(group)) != NID_X9_62_prime256v1 && nid != NID_secp384r1)) {
		tls_errf(err, "CSR: EC key on curve %s; only P-256 and P-384 are accepted",
			 EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) ? group
										 : "(explicit)");
		return -1;
	}
	/* Explicit parameters that happen to describe P-256 would be copied into
	 * the certificate as they are, and strict verification refuses those. */
	if (EVP_PKEY_get_int_param(pk, OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS, &ok) &&
	    ok) {
		tls_errf(err, "CSR: EC key with explicit curve parameters; want a named curve");
		return -1;
	}
	c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	ok = c && EVP_PKEY_public_check(c) == 1;
	EVP_PKEY_CTX_free(c);
	if (!ok) {
		tls_errf_ssl(err, "CSR: invalid EC public key");
		return -1;
	}
	return 0;
}

int pki_sign_csr(const struct pki_ca *ca, const char *csr_pem, size_t len, const char *host_id,
		 int days, char **cert_pem, char serial[PKI_SERIAL_HEX + 1], int64_t *not_after,
		 struct tls_err *err)
{
	struct issue in = { .kind = CLIENT, .ca = ca, .cn = host_id, .days = days };
	X509_REQ *req = NULL;
	BIO *b = NULL;
	X509 *x = NULL;
	int r = -1;

	*cert_pem = NULL;
	serial[0] = 0;
	*not_after = 0;
	if (!ca) {
		tls_errf(err, "CSR: no CA");
		return -1;
	}
	if (!pki_hostid_valid(host_id)) {
		tls_errf(err, "host id: want 1..%d of A-Z a-z 0-9 _ . -", PKI_HOSTID_MAX);
		return -1;
	}
	if (!days_ok(days, err))
		return -1;
	if (!csr_pem || len == 0) {
		tls_errf(err, "CSR: empty");
		return -1;
	}
	if (len > PKI_CSR_MAX) {
		tls_errf(err, "CSR: %zu bytes, more than the %u allowed", len, PKI_CSR_MAX);
		return -1;
	}
	if (!(b = BIO_new_mem_buf(csr_pem, (int)len)) ||
	    !(req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL))) {
		tls_errf_ssl(err, "CSR: not a PEM certificate request");
		goto out;
	}
	if (!(in.pub = X509_REQ_get0_pubkey(req))) {
		tls_errf_ssl(err, "CSR: unreadable public key");
		goto out;
	}
	if (csr_key_ok(in.pub, err) != 0)
		goto out;
	if (X509_REQ_verify(req, in.pub) != 1) {
		tls_errf_ssl(err, "CSR: its signature does not verify with its key");
		goto out;
	}
	if (!(x = issue(&in, err)) || !(*cert_pem = certs_pem(&x, 1, NULL, err)))
		goto out;
	pki_x509_serial(x, serial);
	*not_after = pki_x509_not_after(x);
	r = 0;
out:
	X509_free(x);
	X509_REQ_free(req);
	BIO_free(b);
	return r;
}

int pki_key_csr(const char *key_path, const char *cn, char **csr_pem, struct tls_err *err)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *key = NULL;
	char *key_pem = NULL;
	size_t key_len = 0;
	BIO *b = NULL;
	char *data;
	long n;
	int r = -1;

	*csr_pem = NULL;
	if (!cn_ok(cn)) {
		tls_errf(err, "CSR name: want 1..%d printable bytes", CN_MAX);
		return -1;
	}
	if (!(key = pki_keygen(err)))
		return -1;
	if (!(req = X509_REQ_new()) || !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !(name = X509_NAME_new()) ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, key) ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0 || !(b = BIO_new(BIO_s_mem())) ||
	    !PEM_write_bio_X509_REQ(b, req) || (n = BIO_get_mem_data(b, &data)) <= 0) {
		tls_errf_ssl(err, "CSR for %s", cn);
		goto out;
	}
	if (!(*csr_pem = malloc((size_t)n + 1))) {
		tls_errf(err, "CSR for %s: out of memory", cn);
		goto out;
	}
	memcpy(*csr_pem, data, (size_t)n);
	(*csr_pem)[n] = 0;
	/* The key last: a failure before leaves no key behind. */
	if (pki_key_pem(key, &key_pem, &key_len, err) != 0 ||
	    pki_write_new(key_path, key_pem, key_len, 0600, err) != 0) {
		free(*csr_pem);
		*csr_pem = NULL;
		goto out;
	}
	r = 0;
out:
	pki_pem_wipe(key_pem, key_len);
	BIO_free(b);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return r;
}
