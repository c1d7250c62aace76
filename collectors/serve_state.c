/*
 * serve_state.c: the state directory. `serve` and `token create` both come
 * through here, so whichever runs first makes the CA, and the token's pin
 * is the CA the server will present.
 *
 * The server certificate is reissued (the old files kept as *.old) when
 * the names it was made for change, or when it has less than 30 days left:
 * nothing renews it otherwise, and sensors verify the name they dial.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "collector.h"

#define CA_DAYS		3650
#define SERVER_DAYS	825
#define RENEW_S		(30 * 86400)
#define PEM_MAX		(64u << 10)

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

/* mkdir -p, the last component with mode. */
static int mkdirs(const char *path, mode_t mode, struct cerr *err)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return cerrf(err, "%s: not a usable directory name", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return cerrf(err, "%s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return cerrf(err, "%s: %s", buf, strerror(errno));
	return 0;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int read_small(const char *path, size_t max, char **out, size_t *len, struct cerr *err)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return cerrf(err, "%s: %s", path, strerror(errno));
	buf = malloc(max + 1);
	n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!buf)
		return cerrf(err, "out of memory");
	if (n > max) {
		free(buf);
		return cerrf(err, "%s: larger than %zu bytes", path, max);
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

static int ca_prepare(struct sst *x, struct cerr *err)
{
	char *key = path_join(x->ca_dir, "ca.key");
	bool has_key = key && exists(key), has_crt = exists(x->ca_crt);
	struct tls_err terr;
	int rc = 0;

	if (!key)
		return cerrf(err, "out of memory");
	if (has_key != has_crt)
		rc = cerrf(err, "%s: one of ca.key and ca.crt is missing; restore it from a "
			   "backup (a new CA would orphan every enrolled host)", x->ca_dir);
	else if (!has_key && pki_ca_create(x->ca_dir, "vigil-collector CA", CA_DAYS, &terr))
		rc = cerrf(err, "creating the CA: %s", terr.msg);
	else if (!has_key)
		clog_msg(CLOG_INFO, "created the CA in %s", x->ca_dir);
	free(key);
	if (rc)
		return rc;
	if (pki_ca_load(&x->ca, x->ca_dir, &terr))
		return cerrf(err, "loading the CA: %s", terr.msg);
	if (read_small(x->ca_crt, PEM_MAX, &x->ca_pem, &x->ca_pem_len, err))
		return -1;
	if (pki_cert_fingerprint(x->ca_pem, x->ca_pem_len, x->pin, &terr))
		return cerrf(err, "%s: %s", x->ca_crt, terr.msg);
	return 0;
}

/* The names a server certificate is made for: the configured ones, else
 * this host's name, localhost and the loopback addresses, plus any
 * listen address that names one host. */
static size_t server_names(const struct ccfg *c, char names[][256], size_t max)
{
	size_t n = 0;

	if (c->n_names) {
		for (size_t i = 0; i < c->n_names && n < max; i++)
			snprintf(names[n++], 256, "%s", c->names[i]);
		return n;
	}
	if (gethostname(names[n], 255) == 0 && names[n][0]) {
		names[n][255] = 0;
		n++;
	}
	snprintf(names[n++], 256, "localhost");
	snprintf(names[n++], 256, "127.0.0.1");
	snprintf(names[n++], 256, "::1");
	for (size_t i = 0; i < c->n_listen && n < max; i++) {
		const char *l = c->listen[i], *colon = strrchr(l, ':');
		size_t len = colon ? (size_t)(colon - l) : 0;
		bool dup = false;

		if (len >= 2 && l[0] == '[')
			l++, len -= 2;
		if (len == 0 || len > 255 || !strncmp(l, "*", len) || !strncmp(l, "0.0.0.0", len) ||
		    !strncmp(l, "::", len))
			continue;
		snprintf(names[n], 256, "%.*s", (int)len, l);
		for (size_t k = 0; k < n; k++)
			dup |= !strcmp(names[k], names[n]);
		n += !dup;
	}
	return n;
}

/* Seconds the certificate at path has left; -1 when it cannot be read. */
static int64_t cert_left(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;
	int day = 0, sec = 0;

	if (!f)
		return -1;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return -1;
	if (!ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notAfter(x)))
		day = -1, sec = 0;
	X509_free(x);
	return (int64_t)day * 86400 + sec;
}

static int move_aside(const char *path, struct cerr *err)
{
	char old[4096];

	snprintf(old, sizeof(old), "%s.old", path);
	if (rename(path, old) && errno != ENOENT)
		return cerrf(err, "%s: %s", path, strerror(errno));
	return 0;
}

static int server_prepare(struct sst *x, const struct ccfg *c, struct cerr *err)
{
	char names[CCFG_NAMES_MAX + 4][256], *was = NULL, *want, *np;
	const char *ptrs[CCFG_NAMES_MAX + 4];
	size_t n = server_names(c, names, CCFG_NAMES_MAX + 4), len = 0, wlen = 0;
	struct tls_err terr;
	bool fresh;
	FILE *f;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		wlen += strlen(names[i]) + 1;
	if (!(want = calloc(1, wlen + 1)) || !(np = path_join(x->server_dir, "names"))) {
		free(want);
		return cerrf(err, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		strcat(want, names[i]);
		strcat(want, "\n");
		ptrs[i] = names[i];
	}
	fresh = exists(x->server_crt) && exists(x->server_key) &&
		read_small(np, PEM_MAX, &was, &len, err) == 0 && !strcmp(was, want) &&
		cert_left(x->server_crt) > RENEW_S;
	if (!fresh) {
		if (exists(x->server_crt) || exists(x->server_key))
			clog_msg(CLOG_INFO, "reissuing the server certificate (names changed or "
			     "expiring; the old one is kept as server.crt.old)");
		if (move_aside(x->server_crt, err) || move_aside(x->server_key, err))
			rc = -1;
		else if (pki_server_cert(x->ca, x->server_dir, ptrs, n, SERVER_DAYS, &terr))
			rc = cerrf(err, "issuing the server certificate: %s", terr.msg);
		else if (!(f = fopen(np, "we")) || fputs(want, f) < 0 || fclose(f))
			rc = cerrf(err, "%s: %s", np, strerror(errno));
	}
	free(was);
	free(want);
	free(np);
	return rc;
}

int sst_open(struct sst *x, const struct ccfg *c, bool server, struct cerr *err)
{
	struct st_err serr;

	memset(x, 0, sizeof(*x));
	if (mkdirs(c->state_dir, 0700, err))
		return -1;
	x->ca_dir = path_join(c->state_dir, "ca");
	x->server_dir = path_join(c->state_dir, "server");
	x->ca_crt = x->ca_dir ? path_join(x->ca_dir, "ca.crt") : NULL;
	x->server_crt = x->server_dir ? path_join(x->server_dir, "server.crt") : NULL;
	x->server_key = x->server_dir ? path_join(x->server_dir, "server.key") : NULL;
	if (!x->ca_crt || !x->server_crt || !x->server_key) {
		sst_close(x);
		return cerrf(err, "out of memory");
	}
	if (mkdirs(x->ca_dir, 0700, err) || ca_prepare(x, err) ||
	    (server && (mkdirs(x->server_dir, 0700, err) || server_prepare(x, c, err)))) {
		sst_close(x);
		return -1;
	}
	if (st_open(&x->st, c->store ? c->store : c->state_dir, &serr)) {
		sst_close(x);
		return cerrf(err, "opening the store: %s", serr.msg);
	}
	return 0;
}

void sst_close(struct sst *x)
{
	if (x->st)
		st_close(x->st);
	if (x->ca)
		pki_ca_free(x->ca);
	free(x->ca_dir);
	free(x->server_dir);
	free(x->ca_crt);
	free(x->server_crt);
	free(x->server_key);
	free(x->ca_pem);
	memset(x, 0, sizeof(*x));
}
