/*
 * pkgfile.c: the query set that pkgfile_dpkg.c and pkgfile_rpm.c answer,
 * the /usr-merge aliases that make a package's /bin/ls the /usr/bin/ls an
 * event names, and digests of files on disk in a package's algorithm.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkgfile.h"

#define DIGEST_BLOCK (128u << 10)

/* Top-level directories that merged-/usr systems turn into symlinks. */
static const char *const merged[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
				     NULL};

struct alias {
	char from[16], to[32];		/* "/bin" -> "/usr/bin" */
	size_t flen;
};

struct pkg_query {
	struct vg_smap map;		/* path -> struct pkg_owner */
	struct alias alias[8];
	size_t nalias;
};

struct pkg_query *pkgq_new(void)
{
	return xcalloc(1, sizeof(struct pkg_query));
}

static void owner_free(void *p)
{
	struct pkg_owner *o = p;

	free(o->package);
	free(o);
}

void pkgq_free(struct pkg_query *q)
{
	if (!q)
		return;
	smap_free(&q->map, owner_free);
	free(q);
}

void pkgq_add(struct pkg_query *q, const char *path)
{
	bool added;
	void **v = smap_put(&q->map, path, strlen(path), &added);

	if (added)
		*v = xcalloc(1, sizeof(struct pkg_owner));
}

const struct pkg_owner *pkgq_owner(const struct pkg_query *q, const char *path)
{
	return smap_get(&q->map, path, strlen(path));
}

size_t pkgq_size(const struct pkg_query *q)
{
	return q->map.n;
}

/* Which of the merged directories are symlinks into /usr inside r. */
static void find_aliases(struct pkg_query *q, const struct vg_root *r)
{
	q->nalias = 0;
	for (size_t i = 0; merged[i]; i++) {
		char target[PATH_MAX];
		ssize_t n = root_readlink(r, merged[i], target, sizeof(target) - 1);
		struct alias *a = &q->alias[q->nalias];

		if (n <= 0)
			continue;
		target[n] = 0;
		/* "usr/bin" or "/usr/bin", and nothing more exotic. */
		const char *t = target[0] == '/' ? target + 1 : target;
		if (strncmp(t, "usr/", 4) || strchr(t + 4, '/') || strlen(t) + 2 > sizeof(a->to))
			continue;
		a->flen = strlen(merged[i]);
		memcpy(a->from, merged[i], a->flen + 1);
		a->to[0] = '/';
		memcpy(a->to + 1, t, strlen(t) + 1);
		q->nalias++;
	}
}

struct pkg_owner *pkgq_find(struct pkg_query *q, const char *pkgpath, size_t len)
{
	char path[PATH_MAX];
	size_t n = 0;

	if (!len || len + 1 >= sizeof(path))
		return NULL;
	if (pkgpath[0] == '.' && len > 1 && pkgpath[1] == '/') {	/* "./usr/bin/ls" */
		pkgpath++;
		len--;
	}
	if (pkgpath[0] != '/')
		path[n++] = '/';
	memcpy(path + n, pkgpath, len);
	n += len;
	path[n] = 0;
	for (size_t i = 0; i < q->nalias; i++) {
		const struct alias *a = &q->alias[i];
		size_t tlen = strlen(a->to);
		if (n >= a->flen && !memcmp(path, a->from, a->flen) &&
		    (path[a->flen] == '/' || !path[a->flen]) && n - a->flen + tlen < sizeof(path)) {
			memmove(path + tlen, path + a->flen, n - a->flen + 1);
			memcpy(path, a->to, tlen);
			n = n - a->flen + tlen;
			break;
		}
	}
	return smap_get(&q->map, path, n);
}

void pkgq_claim(struct pkg_owner *o, const char *manager, const char *package, size_t plen,
		enum pkg_alg alg, const unsigned char *digest, size_t dlen, bool conffile)
{
	if (o->package)
		return;
	o->package = xstrndup(package, plen);
	o->manager = manager;
	o->conffile = conffile;
	o->alg = dlen && dlen <= sizeof(o->digest) ? alg : PKG_ALG_NONE;
	o->digest_len = o->alg == PKG_ALG_NONE ? 0 : dlen;
	if (o->digest_len)
		memcpy(o->digest, digest, dlen);
}

int pkgfile_lookup(const struct vg_root *r, struct pkg_query *q, struct vg_err *err)
{
	find_aliases(q, r);
	if (pkgfile_dpkg(r, q, err) || pkgfile_rpm(r, q, err))
		return -1;
	return 0;
}

const char *pkg_alg_name(enum pkg_alg alg)
{
	switch (alg) {
	case PKG_ALG_MD5: return "MD5";
	case PKG_ALG_SHA1: return "SHA1";
	case PKG_ALG_SHA256: return "SHA256";
	case PKG_ALG_SHA384: return "SHA384";
	case PKG_ALG_SHA512: return "SHA512";
	default: return NULL;
	}
}

size_t pkg_unhex(const char *hex, size_t n, unsigned char *out, size_t max)
{
	if (!n || n % 2 || n / 2 > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)hex[i], v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return 0;
		if (i % 2)
			out[i / 2] = (unsigned char)(out[i / 2] | v);
		else
			out[i / 2] = (unsigned char)(v << 4);
	}
	return n / 2;
}

int pkgfile_digest(const struct vg_root *r, const char *path, enum pkg_alg alg,
		   unsigned char *out, size_t *len, struct vg_err *err)
{
	const char *name = pkg_alg_name(alg);
	EVP_MD *md = name ? EVP_MD_fetch(NULL, name, NULL) : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = xmalloc(DIGEST_BLOCK);
	unsigned int mdlen = 0;
	int fd = -1, rc = -1;
	ssize_t n;

	if (!md || !ctx || !EVP_DigestInit_ex2(ctx, md, NULL)) {
		vg_errf(err, "%s: digest %s is not available", path, name ? name : "(none)");
		goto out;
	}
	if ((fd = root_open(r, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
		vg_errf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vg_errf(err, "%s: not a regular file", path);
		goto out;
	}
	while ((n = read(fd, buf, DIGEST_BLOCK)) > 0)
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			break;
	if (n != 0) {
		vg_errf(err, "%s: %s", path, n < 0 ? strerror(errno) : "digest failed");
		goto out;
	}
	if (!EVP_DigestFinal_ex(ctx, out, &mdlen)) {
		vg_errf(err, "%s: digest failed", path);
		goto out;
	}
	*len = mdlen;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return rc;
}
