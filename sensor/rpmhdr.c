/*
 * rpmhdr.c: RPM headers from rpmdb.sqlite, for the package rule
 * (probe_pkg.c) and for the owners of files (pkgfile_rpm.c).  See
 * rpmhdr.h for the layout and why every byte of it is suspect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkgfile.h"
#include "rpmhdr.h"

#define RPM_MAX_ROWS	1000000		/* far beyond any real system */
#define RPM_MAX_STEPS	200000000	/* SQLite VM steps, against a hostile schema */
#define RPM_MAX_TAGS	0xffff		/* rpm's own limits (hdrchkTags, hdrchkData) */
#define RPM_MAX_DATA	0x0fffffff

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool rpmhdr_parse(struct rpmhdr *h, const void *blob, size_t size)
{
	const unsigned char *b = blob;
	uint32_t il, dl;

	if (!b || size < 8)
		return false;
	il = be32(b);
	dl = be32(b + 4);
	if (il == 0 || il > RPM_MAX_TAGS || dl > RPM_MAX_DATA)
		return false;
	/* il and dl are bounded, so this cannot overflow a size_t. */
	if ((size_t)il * 16 + dl > size - 8)
		return false;
	h->il = il;
	h->dl = dl;
	h->ent = b + 8;
	h->data = h->ent + (size_t)il * 16;
	return true;
}

/* The bytes of count consecutive NUL-terminated strings at p, or 0 when
 * they do not all end within avail (every string takes at least one). */
static size_t strings_size(const unsigned char *p, size_t avail, uint32_t count)
{
	size_t used = 0;

	if (count > avail)
		return 0;
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *nul = memchr(p + used, 0, avail - used);

		if (!nul)
			return 0;
		used = (size_t)(nul - p) + 1;
	}
	return used;
}

int rpmhdr_tag(const struct rpmhdr *h, uint32_t tag, uint32_t type, uint32_t max,
	       struct rpmhdr_tag *t)
{
	const unsigned char *e = h->ent;
	uint32_t off, count, i;
	size_t avail;

	for (i = 0; i < h->il; i++, e += 16)
		if (be32(e) == tag)
			break;
	if (i == h->il)
		return 0;
	off = be32(e + 8);
	count = be32(e + 12);
	if (be32(e + 4) != type || count > max || off > h->dl)
		return -1;
	avail = h->dl - off;
	switch (type) {
	case RPM_CHAR_TYPE:
		if (count > avail)
			return -1;
		t->size = count;
		break;
	case RPM_INT32_TYPE:
		/* count is at most max, a uint32_t: no overflow in 64 bits. */
		if ((uint64_t)count * 4 > avail)
			return -1;
		t->size = (size_t)count * 4;
		break;
	case RPM_STRING_TYPE:
		if (count != 1)
			return -1;
		/* fall through */
	case RPM_STRING_ARRAY_TYPE:
		t->size = strings_size(h->data + off, avail, count);
		if (count && !t->size)
			return -1;
		break;
	default:
		return -1;
	}
	t->p = h->data + off;
	t->count = count;
	return 1;
}

uint32_t rpmhdr_int32(const struct rpmhdr_tag *t, uint32_t i)
{
	/* rpm aligns INT32 data, but nothing makes a hostile header do so. */
	return be32(t->p + (size_t)i * 4);
}

bool rpmhdr_name(const struct rpmhdr *h, const char **name, size_t *len)
{
	struct rpmhdr_tag t;
	const char *s;
	size_t n;

	if (rpmhdr_tag(h, RPMTAG_NAME, RPM_STRING_TYPE, 1, &t) != 1)
		return false;
	s = (const char *)t.p;
	n = t.size - 1;
	if (n == 0)
		return false;
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)s[k] <= ' ' || (unsigned char)s[k] == 0x7f)
			return false;
	*name = s;
	*len = n;
	return true;
}

/* ---- the file list ---------------------------------------------------- */

void rpmhdr_files_init(struct rpmhdr_files *f)
{
	memset(f, 0, sizeof(*f));
}

void rpmhdr_files_free(struct rpmhdr_files *f)
{
	free(f->dirs);
	rpmhdr_files_init(f);
}

/* DIRNAMES as offsets and lengths, for the random access DIRINDEXES makes. */
static void index_dirs(struct rpmhdr_files *f, const struct rpmhdr_tag *t)
{
	const unsigned char *p = t->p;

	if (t->count > f->dircap) {
		f->dircap = t->count;
		f->dirs = xrealloc(f->dirs, f->dircap * sizeof(*f->dirs));
	}
	for (uint32_t i = 0; i < t->count; i++) {
		size_t len = strlen((const char *)p);

		f->dirs[i].off = (uint32_t)(p - f->data);
		f->dirs[i].len = (uint32_t)len;
		p += len + 1;
	}
	f->ndirs = t->count;
}

/* The optional tags: each absent, or one value per file. */
static int load_optional(struct rpmhdr_files *f, const struct rpmhdr *h)
{
	struct rpmhdr_tag t;
	int rc;

	f->digest = NULL;
	f->flags = NULL;
	f->states = NULL;
	f->algo = RPM_HASH_MD5;		/* what rpm meant before the tag existed */
	rc = rpmhdr_tag(h, RPMTAG_FILEDIGESTS, RPM_STRING_ARRAY_TYPE, RPMHDR_MAX_FILES, &t);
	if (rc < 0 || (rc && t.count != f->n))
		return -1;
	if (rc)
		f->digest = (const char *)t.p;
	rc = rpmhdr_tag(h, RPMTAG_FILEFLAGS, RPM_INT32_TYPE, RPMHDR_MAX_FILES, &t);
	if (rc < 0 || (rc && t.count != f->n))
		return -1;
	if (rc)
		f->flags = t.p;
	rc = rpmhdr_tag(h, RPMTAG_FILESTATES, RPM_CHAR_TYPE, RPMHDR_MAX_FILES, &t);
	if (rc < 0 || (rc && t.count != f->n))
		return -1;
	if (rc)
		f->states = t.p;
	rc = rpmhdr_tag(h, RPMTAG_FILEDIGESTALGO, RPM_INT32_TYPE, 1, &t);
	if (rc < 0 || (rc && t.count != 1))
		return -1;
	if (rc)
		f->algo = rpmhdr_int32(&t, 0);
	return 0;
}

int rpmhdr_files_load(struct rpmhdr_files *f, const struct rpmhdr *h)
{
	struct rpmhdr_tag base, dirs, idx;
	int rc;

	f->n = f->next = f->ndirs = 0;
	f->data = h->data;
	rc = rpmhdr_tag(h, RPMTAG_BASENAMES, RPM_STRING_ARRAY_TYPE, RPMHDR_MAX_FILES, &base);
	if (rc < 0)
		return -1;
	if (rc == 0 || base.count == 0)
		return 0;		/* a package without files, such as a gpg key */
	if (rpmhdr_tag(h, RPMTAG_DIRINDEXES, RPM_INT32_TYPE, RPMHDR_MAX_FILES, &idx) != 1 ||
	    rpmhdr_tag(h, RPMTAG_DIRNAMES, RPM_STRING_ARRAY_TYPE, RPMHDR_MAX_FILES, &dirs) != 1 ||
	    idx.count != base.count)
		return -1;
	for (uint32_t i = 0; i < idx.count; i++)
		if (rpmhdr_int32(&idx, i) >= dirs.count)
			return -1;
	f->n = base.count;
	if (load_optional(f, h) < 0) {
		f->n = 0;
		return -1;
	}
	f->base = (const char *)base.p;
	f->dirindex = idx.p;
	index_dirs(f, &dirs);
	return 1;
}

/* Every string was found NUL-terminated inside the header by load, so
 * walking them with strlen stays inside it. */
bool rpmhdr_files_next(struct rpmhdr_files *f, struct rpmhdr_file *file)
{
	const struct rpmhdr_str *dir;
	uint32_t i = f->next;

	if (i >= f->n)
		return false;
	dir = &f->dirs[be32(f->dirindex + (size_t)i * 4)];
	file->dir = (const char *)f->data + dir->off;
	file->dirlen = dir->len;
	file->base = f->base;
	file->baselen = strlen(f->base);
	f->base += file->baselen + 1;
	if (f->digest) {
		file->digest = f->digest;
		file->digestlen = strlen(f->digest);
		f->digest += file->digestlen + 1;
	} else {
		file->digest = "";
		file->digestlen = 0;
	}
	file->flags = f->flags ? be32(f->flags + (size_t)i * 4) : 0;
	file->state = f->states ? f->states[i] : RPMFILE_STATE_NORMAL;
	f->next++;
	return true;
}

/* Bytes of a digest by rpm's PGPHASHALGO number; 0 for one we cannot check. */
static size_t digest_size(uint32_t algo)
{
	switch (algo) {
	case 1:			/* MD5 */
		return 16;
	case 2:			/* SHA-1 */
		return 20;
	case 8:			/* SHA-256 */
		return 32;
	case 9:			/* SHA-384 */
		return 48;
	case 10:		/* SHA-512 */
		return 64;
	default:
		return 0;
	}
}

size_t rpmhdr_digest(uint32_t algo, const char *hex, size_t len, unsigned char *out)
{
	size_t n = digest_size(algo);

	return n && len == 2 * n && pkg_unhex(hex, len, out, n) == n ? n : 0;
}

/* ---- rpmdb.sqlite ----------------------------------------------------- */

static int rpm_progress(void *u)
{
	(void)u;
	return 1;			/* called only once the step budget is spent */
}

/* SQLite opens by name; /proc/self/fd/N names the file opened inside the
 * root, so the database is the one root_open resolved, not whatever the
 * path leads to outside it.  immutable=1: no locks, journal or WAL, and
 * nothing is ever written; rpm checkpoints its WAL when it closes the
 * database, so only a transaction still in progress goes unseen. */
static int db_sqlite(struct rpmhdr_db *db, struct vg_err *err)
{
	char uri[64];
	int rc;

	snprintf(uri, sizeof(uri), "file:/proc/self/fd/%d?mode=ro&immutable=1", db->fd);
	rc = sqlite3_open_v2(uri, &db->sq, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK)
		return vg_errf(err, "%s: %s", RPMHDR_DB,
			       db->sq ? sqlite3_errmsg(db->sq) : sqlite3_errstr(rc));
	sqlite3_db_config(db->sq, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->sq, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_progress_handler(db->sq, RPM_MAX_STEPS, rpm_progress, NULL);
	rc = sqlite3_prepare_v2(db->sq, "SELECT blob FROM Packages", -1, &db->st, NULL);
	if (rc != SQLITE_OK)
		return vg_errf(err, "%s: %s", RPMHDR_DB, sqlite3_errmsg(db->sq));
	return 0;
}

int rpmhdr_db_open(struct rpmhdr_db *db, const struct vg_root *r, struct vg_err *err)
{
	struct stat st;

	memset(db, 0, sizeof(*db));
	/* O_NONBLOCK: a FIFO planted there must not hang the open. */
	db->fd = root_open(r, RPMHDR_DB, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (db->fd < 0) {
		if (errno == ENOENT)
			return 0;
		return vg_errf(err, "%s: %s", RPMHDR_DB, strerror(errno));
	}
	if (fstat(db->fd, &st) < 0) {
		vg_errf(err, "%s: %s", RPMHDR_DB, strerror(errno));
		goto fail;
	}
	/* Nor may a FIFO or a device be handed to SQLite. */
	if (!S_ISREG(st.st_mode)) {
		vg_errf(err, "%s: not a regular file", RPMHDR_DB);
		goto fail;
	}
	if (db_sqlite(db, err) < 0)
		goto fail;
	return 1;
fail:
	rpmhdr_db_close(db);
	return -1;
}

int rpmhdr_db_next(struct rpmhdr_db *db, const unsigned char **blob, size_t *size,
		   struct vg_err *err)
{
	int rc = sqlite3_step(db->st), n;

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return vg_errf(err, "%s: %s", RPMHDR_DB, sqlite3_errmsg(db->sq));
	if (db->rows++ >= RPM_MAX_ROWS)
		return vg_errf(err, "%s: more than %d packages", RPMHDR_DB, RPM_MAX_ROWS);
	*blob = sqlite3_column_blob(db->st, 0);
	n = sqlite3_column_bytes(db->st, 0);
	*size = *blob && n > 0 ? (size_t)n : 0;
	return 1;
}

void rpmhdr_db_close(struct rpmhdr_db *db)
{
	sqlite3_finalize(db->st);
	sqlite3_close(db->sq);
	if (db->fd >= 0)
		close(db->fd);
	memset(db, 0, sizeof(*db));
	db->fd = -1;
}
