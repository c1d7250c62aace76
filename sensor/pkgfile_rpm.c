/*
 * pkgfile_rpm.c: owners and recorded digests of files from the root's
 * rpmdb.sqlite.  One pass over every package header answers the whole
 * query; the headers are parsed by rpmhdr.c, which checks each of them
 * whole before a single file of it is taken.
 */
#include <limits.h>
#include <string.h>

#include "pkgfile.h"
#include "rpmhdr.h"

struct rpm_pass {
	struct pkg_query *q;
	struct rpmhdr_files files;
	size_t bad;			/* malformed headers skipped */
};

static void claim(struct pkg_owner *o, const char *name, size_t nlen, uint32_t algo,
		  const struct rpmhdr_file *f)
{
	unsigned char digest[RPMHDR_DIGEST_MAX];
	size_t dlen = rpmhdr_digest(algo, f->digest, f->digestlen, digest);

	/* pkg_alg is numbered as rpm numbers its hash algorithms; a digest
	 * that does not decode leaves the file shipped but uncheckable. */
	pkgq_claim(o, "rpm", name, nlen, dlen ? (enum pkg_alg)algo : PKG_ALG_NONE, digest,
		   dlen, f->flags & RPMFILE_CONFIG);
}

/* Each file of one header blob that the query asks about; -1 when the
 * header is malformed, and then nothing of it was claimed. */
static int rpm_header(struct rpm_pass *p, const unsigned char *blob, size_t size)
{
	struct rpmhdr h;
	struct rpmhdr_file f;
	const char *name;
	size_t nlen;
	int rc;

	if (!rpmhdr_parse(&h, blob, size) || !rpmhdr_name(&h, &name, &nlen))
		return -1;
	rc = rpmhdr_files_load(&p->files, &h);
	if (rc <= 0)
		return rc;
	while (rpmhdr_files_next(&p->files, &f)) {
		char path[PATH_MAX];
		size_t len = f.dirlen + f.baselen;
		struct pkg_owner *o;

		/* Another package's copy, or none at all, is what is on disk. */
		if (len >= sizeof(path) || f.state != RPMFILE_STATE_NORMAL)
			continue;
		memcpy(path, f.dir, f.dirlen);
		memcpy(path + f.dirlen, f.base, f.baselen);
		path[len] = 0;
		if ((o = pkgq_find(p->q, path, len)))
			claim(o, name, nlen, p->files.algo, &f);
	}
	return 0;
}

int pkgfile_rpm(const struct vg_root *r, struct pkg_query *q, struct vg_err *err)
{
	struct rpm_pass p = {.q = q};
	struct rpmhdr_db db;
	const unsigned char *blob;
	size_t size;
	int rc;

	if (pkgq_size(q) == 0)
		return 0;		/* nothing asked: the database is not even opened */
	rc = rpmhdr_db_open(&db, r, err);
	if (rc <= 0)
		return rc;
	rpmhdr_files_init(&p.files);
	while ((rc = rpmhdr_db_next(&db, &blob, &size, err)) > 0)
		if (rpm_header(&p, blob, size) < 0)
			p.bad++;
	rpmhdr_files_free(&p.files);
	rpmhdr_db_close(&db);
	/* The files they list go unanswered, which the caller cannot tell
	 * from files no package ships; say so where a person will see it. */
	if (p.bad)
		log_warn("%s: %zu malformed package headers skipped", RPMHDR_DB, p.bad);
	return rc < 0 ? -1 : 0;
}
