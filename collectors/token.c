/*
 * token.c: enrollment tokens. The secret leaves this process once, on the
 * operator's terminal; the store only ever sees its SHA-256, so a copy of
 * the database cannot enroll anything.
 */
#include <ctype.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "collector.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

int tok_make(struct tok *t, struct cerr *err)
{
	unsigned char id[TOK_ID_HEX / 2], secret[TOK_SECRET_HEX / 2];

	if (RAND_bytes(id, sizeof(id)) != 1 || RAND_bytes(secret, sizeof(secret)) != 1)
		return cerrf(err, "no random bytes from OpenSSL");
	hex(id, sizeof(id), t->id);
	hex(secret, sizeof(secret), t->secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

int tok_split(const char *s, size_t len, struct tok *t, struct cerr *err)
{
	const char *sec = s + TOK_ID_HEX + 1;
	size_t tail;

	/* The id, a dot, the secret: exact lengths, lowercase hex. */
	if (len < TOK_ID_HEX + 1 + TOK_SECRET_HEX || s[TOK_ID_HEX] != '.' ||
	    !all_hex(s, TOK_ID_HEX) || !all_hex(sec, TOK_SECRET_HEX))
		return cerrf(err, "not a token: <16 hex digits>.<64 hex digits>[.<CA pin>]");
	tail = len - (TOK_ID_HEX + 1 + TOK_SECRET_HEX);
	if (tail && (tail != 1 + PKI_FPR_HEX || sec[TOK_SECRET_HEX] != '.' ||
		     !all_hex(sec + TOK_SECRET_HEX + 1, PKI_FPR_HEX)))
		return cerrf(err, "not a token: <16 hex digits>.<64 hex digits>[.<CA pin>]");
	memcpy(t->id, s, TOK_ID_HEX);
	t->id[TOK_ID_HEX] = 0;
	memcpy(t->secret, sec, TOK_SECRET_HEX);
	t->secret[TOK_SECRET_HEX] = 0;
	return 0;
}

void tok_hash(const char *secret, char out[65])
{
	unsigned char md[32];
	unsigned int n = sizeof(md);

	EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL);
	hex(md, sizeof(md), out);
}

int tok_create(struct st *s, const char *ca_pem, size_t ca_len, int64_t now, int64_t ttl_s,
	       int uses, char text[TOK_TEXT_MAX + 1], struct cerr *err)
{
	char pin[PKI_FPR_HEX + 1], h[65];
	struct tls_err terr;
	struct st_err serr;
	struct tok t;

	if (ttl_s <= 0 || uses < 1)
		return cerrf(err, "a token needs a positive lifetime and at least one use");
	if (pki_cert_fingerprint(ca_pem, ca_len, pin, &terr))
		return cerrf(err, "CA certificate: %s", terr.msg);
	if (tok_make(&t, err))
		return -1;
	tok_hash(t.secret, h);
	if (st_token_add(s, t.id, h, now + ttl_s, uses, &serr)) {
		OPENSSL_cleanse(&t, sizeof(t));
		return cerrf(err, "storing the token: %s", serr.msg);
	}
	snprintf(text, TOK_TEXT_MAX + 1, "%s.%s.%s", t.id, t.secret, pin);
	OPENSSL_cleanse(&t, sizeof(t));
	return 0;
}
