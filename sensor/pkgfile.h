/*
 * pkgfile.h: which installed package shipped a file, and the digest the
 * package says it has. Realtime FIM uses it to tell a package update from
 * tampering: a change made by the package manager must leave the content
 * its package recorded.
 *
 * Lookups are batched: a set of paths is filled, then one pass over each
 * package database answers all of them, so an upgrade that touches
 * thousands of files costs one read of the databases, not thousands.
 *
 *   pkgfile.c       the set, /usr-merge aliases, digests of files on disk
 *   pkgfile_dpkg.c  /var/lib/dpkg/info/ *.md5sums and status Conffiles
 *   pkgfile_rpm.c   /var/lib/rpm/rpmdb.sqlite file digests
 */
#ifndef VIGIL_PKGFILE_H
#define VIGIL_PKGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil.h"

enum pkg_alg {				/* rpm's PGPHASHALGO numbers */
	PKG_ALG_NONE = 0,
	PKG_ALG_MD5 = 1,
	PKG_ALG_SHA1 = 2,
	PKG_ALG_SHA256 = 8,
	PKG_ALG_SHA384 = 9,
	PKG_ALG_SHA512 = 10,
};
#define PKG_DIGEST_MAX 64

struct pkg_owner {
	char *package;			/* NULL: no package ships this path */
	const char *manager;		/* "dpkg" or "rpm" */
	enum pkg_alg alg;		/* PKG_ALG_NONE: shipped, but no digest */
	unsigned char digest[PKG_DIGEST_MAX];
	size_t digest_len;
	bool conffile;
};

/* Paths as seen inside the root, each with its answer. */
struct pkg_query;
struct pkg_query *pkgq_new(void);
void pkgq_free(struct pkg_query *q);
void pkgq_add(struct pkg_query *q, const char *path);
/* The answer for a path added before (NULL if it was not added). */
const struct pkg_owner *pkgq_owner(const struct pkg_query *q, const char *path);
size_t pkgq_size(const struct pkg_query *q);

/* Answers every path of q from the root's dpkg and rpm databases. A
 * database that is absent is not an error; one that cannot be read is. */
int pkgfile_lookup(const struct vg_root *r, struct pkg_query *q, struct vg_err *err);

/* The digest of the file at path (inside r) by alg; -1 with err. */
int pkgfile_digest(const struct vg_root *r, const char *path, enum pkg_alg alg,
		   unsigned char *out, size_t *len, struct vg_err *err);
const char *pkg_alg_name(enum pkg_alg alg);
/* Decodes n hex digits into out (at most max bytes): the byte count, or 0
 * when the text is not whole, even-length hex that fits. */
size_t pkg_unhex(const char *hex, size_t n, unsigned char *out, size_t max);

/* ---- for the database readers (pkgfile_*.c) ---------------------------- */

/* The query's entry for a path as a package database spells it (relative
 * or absolute, through /usr-merge aliases such as /bin -> /usr/bin), or
 * NULL when nobody asked for it. */
struct pkg_owner *pkgq_find(struct pkg_query *q, const char *pkgpath, size_t len);
/* Records an answer; the first package to claim a path keeps it. */
void pkgq_claim(struct pkg_owner *o, const char *manager, const char *package, size_t plen,
		enum pkg_alg alg, const unsigned char *digest, size_t dlen, bool conffile);
int pkgfile_dpkg(const struct vg_root *r, struct pkg_query *q, struct vg_err *err);
int pkgfile_rpm(const struct vg_root *r, struct pkg_query *q, struct vg_err *err);

#endif
