/* test_pkgfile_rpm.c: owners and digests of files from rpmdb.sqlite, with
 * headers fabricated whole and then broken every way the parser must catch. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pkgfile.h"
#include "testutil.h"

/* ---- header blobs ------------------------------------------------------ */

#define HB_MAX_TAGS 16

struct hb {				/* a header being built */
	unsigned char ent[HB_MAX_TAGS * 16];
	uint32_t il;
	unsigned char data[16384];
	uint32_t dl;
};

struct blob {
	unsigned char b[8 + HB_MAX_TAGS * 16 + 16384];
	size_t n;
};

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put_ent(unsigned char *e, uint32_t tag, uint32_t type, uint32_t off,
		    uint32_t count)
{
	put32(e, tag);
	put32(e + 4, type);
	put32(e + 8, off);
	put32(e + 12, count);
}

static void hb_entry(struct hb *h, uint32_t tag, uint32_t type, uint32_t count)
{
	assert_true(h->il < HB_MAX_TAGS);
	put_ent(h->ent + h->il * 16, tag, type, h->dl, count);
	h->il++;
}

static void hb_bytes(struct hb *h, const void *p, size_t n)
{
	assert_true(h->dl + n <= sizeof(h->data));
	memcpy(h->data + h->dl, p, n);
	h->dl += (uint32_t)n;
}

static void hb_string(struct hb *h, uint32_t tag, const char *s)
{
	hb_entry(h, tag, 6, 1);
	hb_bytes(h, s, strlen(s) + 1);
}

static void hb_strings(struct hb *h, uint32_t tag, const char *const *v, size_t n)
{
	hb_entry(h, tag, 8, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		hb_bytes(h, v[i], strlen(v[i]) + 1);
}

static void hb_int32s(struct hb *h, uint32_t tag, const uint32_t *v, size_t n)
{
	static const unsigned char pad[4];
	unsigned char b[4];

	hb_bytes(h, pad, (4 - h->dl % 4) % 4);	/* rpm aligns them; so do we */
	hb_entry(h, tag, 4, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put32(b, v[i]);
		hb_bytes(h, b, 4);
	}
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void hb_chars(struct hb *h, uint32_t tag, const unsigned char *v, size_t n)
{
	hb_entry(h, tag, 1, (uint32_t)n);
	hb_bytes(h, v, n);
}

/* Field 0 tag, 1 type, 2 offset, 3 count of the entry for tag. */
static void hb_patch(struct hb *h, uint32_t tag, int field, uint32_t v)
{
	for (uint32_t i = 0; i < h->il; i++) {
		unsigned char *e = h->ent + i * 16;

		if (get32(e) == tag) {
			put32(e + 4 * field, v);
			return;
		}
	}
	fail_msg("no tag %u", tag);
}

static void hb_blob(const struct hb *h, struct blob *b)
{
	put32(b->b, h->il);
	put32(b->b + 4, h->dl);
	memcpy(b->b + 8, h->ent, h->il * 16);
	memcpy(b->b + 8 + h->il * 16, h->data, h->dl);
	b->n = 8 + h->il * 16 + h->dl;
}

struct tfile {
	uint32_t dir;			/* index into the package's dirs */
	const char *base, *digest;
	uint32_t flags;
};

#define ALGO_NONE 0xffffffffu		/* no FILEDIGESTALGO tag */

/* A package header the way rpm lays one out (NAME, digests, flags, dir
 * indexes, then BASENAMES and DIRNAMES; BASENAMES last in the data). */
static void pkg_header(struct hb *h, const char *name, const char *const *dirs, size_t ndirs,
		       const struct tfile *f, size_t n, uint32_t algo)
{
	const char *base[16], *digest[16];
	uint32_t idx[16], flags[16];

	assert_true(n <= 16);
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < n; i++) {
		base[i] = f[i].base;
		digest[i] = f[i].digest;
		idx[i] = f[i].dir;
		flags[i] = f[i].flags;
	}
	hb_string(h, 1000, name);
	hb_strings(h, 1035, digest, n);
	hb_int32s(h, 1037, flags, n);
	hb_int32s(h, 1116, idx, n);
	if (algo != ALGO_NONE)
		hb_int32s(h, 5011, &algo, 1);
	hb_strings(h, 1118, dirs, ndirs);
	hb_strings(h, 1117, base, n);
}

/* ---- rpmdb.sqlite ------------------------------------------------------ */

static void db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static sqlite3 *db_create(const char *root)
{
	char path[PATH_MAX];
	sqlite3 *db;

	tu_mkdir(root, "/var/lib/rpm", 0755);
	snprintf(path, sizeof(path), "%s/var/lib/rpm/rpmdb.sqlite", root);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	db_exec(db, "PRAGMA journal_mode=WAL");
	db_exec(db, "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, "
		    "blob BLOB NOT NULL)");
	return db;
}

static void db_put(sqlite3 *db, const struct blob *b)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1,
					    &st, NULL), SQLITE_OK);
	if (b->n)
		sqlite3_bind_blob(st, 1, b->b, (int)b->n, SQLITE_STATIC);
	else
		sqlite3_bind_zeroblob(st, 1, 0);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void db_put_hb(sqlite3 *db, const struct hb *h)
{
	struct blob b;

	hb_blob(h, &b);
	db_put(db, &b);
}

static void db_close(sqlite3 *db)
{
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* ---- running a query --------------------------------------------------- */

struct run {
	struct vg_root root;
	struct pkg_query *q;
	struct vg_err err;
	char log[4096];			/* what it said on stderr */
	int rc;
};

static void run_rpm(struct run *t, const char *root, const char *const *paths)
{
	char tmpl[] = "/tmp/vigil-test-log-XXXXXX";
	int fd, saved;
	ssize_t n;

	memset(t, 0, sizeof(*t));
	assert_int_equal(root_init(&t->root, root, &t->err), 0);
	t->q = pkgq_new();
	for (size_t i = 0; paths[i]; i++)
		pkgq_add(t->q, paths[i]);
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	t->rc = pkgfile_rpm(&t->root, t->q, &t->err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, t->log, sizeof(t->log) - 1, 0);
	t->log[n > 0 ? n : 0] = 0;
	close(fd);
}

static void run_done(struct run *t)
{
	pkgq_free(t->q);
	root_fini(&t->root);
}

static const struct pkg_owner *owner(struct run *t, const char *path)
{
	const struct pkg_owner *o = pkgq_owner(t->q, path);

	if (!o)
		fail_msg("%s was not asked", path);
	return o;
}

static void assert_owner(struct run *t, const char *path, const char *pkg, enum pkg_alg alg,
			 size_t dlen, bool conffile)
{
	const struct pkg_owner *o = owner(t, path);

	if (!o->package)
		fail_msg("%s: no owner, want %s", path, pkg);
	assert_string_equal(o->package, pkg);
	assert_string_equal(o->manager, "rpm");
	if (o->alg != alg || o->digest_len != dlen || o->conffile != conffile)
		fail_msg("%s: alg %d len %zu conffile %d, want %d %zu %d", path, o->alg,
			 o->digest_len, o->conffile, alg, dlen, conffile);
}

static void assert_unowned(struct run *t, const char *path)
{
	const struct pkg_owner *o = owner(t, path);

	if (o->package)
		fail_msg("%s: owned by %s, want nobody", path, o->package);
}

/* ---- well-formed headers ----------------------------------------------- */

#define SHA256_A "ca978112ca1bbdcafac231b39a23dc4da786eff8146d8d3d9e6d8fd6e6d0fd5f"
#define SHA256_B "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
#define SHA256_C "2E7D2C03A9507AE265ECF5B5356885A53393A2029D241394997265A1A25AEFC6"
#define MD5_A "0cc175b9c0f1b6a831c399e269772661"

static const char *const vim_dirs[] = {"/usr/bin/", "/etc/"};
static const struct tfile vim_files[] = {
	{0, "vim", SHA256_A, 0},
	{1, "vimrc", SHA256_B, 1 << 0 | 1 << 4},	/* %config(noreplace) */
	{0, "vimdiff", SHA256_C, 0},
};

static void sha256_files(void **state)
{
	static const char *const paths[] = {"/usr/bin/vim", "/etc/vimrc", "/usr/bin/vimdiff",
					    "/usr/bin/emacs", "/usr/bin", NULL};
	char *r = tu_mkroot();
	sqlite3 *db = db_create(r);
	const struct pkg_owner *o;
	struct hb h;
	struct run t;

	(void)state;
	pkg_header(&h, "vim-enhanced", vim_dirs, 2, vim_files, 3, 8);
	db_put_hb(db, &h);
	db_close(db);
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_owner(&t, "/usr/bin/vim", "vim-enhanced", PKG_ALG_SHA256, 32, false);
	assert_owner(&t, "/etc/vimrc", "vim-enhanced", PKG_ALG_SHA256, 32, true);
	assert_owner(&t, "/usr/bin/vimdiff", "vim-enhanced", PKG_ALG_SHA256, 32, false);
	o = owner(&t, "/usr/bin/vim");
	assert_int_equal(o->digest[0], 0xca);
	assert_int_equal(o->digest[31], 0x5f);
	o = owner(&t, "/usr/bin/vimdiff");	/* upper-case hex too */
	assert_int_equal(o->digest[0], 0x2e);
	assert_int_equal(o->digest[31], 0xc6);
	/* Asked, but no package ships it; and a directory is not its files. */
	assert_unowned(&t, "/usr/bin/emacs");
	assert_unowned(&t, "/usr/bin");
	assert_int_equal(pkgq_size(t.q), 5);
	assert_string_equal(t.log, "");
	run_done(&t);
	tu_rmroot(r);
}

/* Headers from before FILEDIGESTALGO mean MD5; empty digests are what rpm
 * records for directories, symlinks and %ghost files. */
static void md5_and_empty_digests(void **state)
{
	static const char *const dirs[] = {"/usr/share/doc/", "/usr/share/doc/old/"};
	static const struct tfile files[] = {
		{1, "README", MD5_A, 0},
		{0, "old", "", 0},
		{1, "link", "", 0},
		{1, "NEWS", MD5_A, 0},
	};
	static const char *const paths[] = {"/usr/share/doc/old/README", "/usr/share/doc/old",
					    "/usr/share/doc/old/link", NULL};
	char *r = tu_mkroot();
	sqlite3 *db = db_create(r);
	const struct pkg_owner *o;
	struct hb h;
	struct run t;

	(void)state;
	pkg_header(&h, "old-docs", dirs, 2, files, 4, ALGO_NONE);
	db_put_hb(db, &h);
	db_close(db);
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_owner(&t, "/usr/share/doc/old/README", "old-docs", PKG_ALG_MD5, 16, false);
	o = owner(&t, "/usr/share/doc/old/README");
	assert_int_equal(o->digest[0], 0x0c);
	assert_int_equal(o->digest[15], 0x61);
	assert_owner(&t, "/usr/share/doc/old", "old-docs", PKG_ALG_NONE, 0, false);
	assert_owner(&t, "/usr/share/doc/old/link", "old-docs", PKG_ALG_NONE, 0, false);
	/* NEWS is in the package but was not asked for. */
	assert_null(pkgq_owner(t.q, "/usr/share/doc/old/NEWS"));
	assert_int_equal(pkgq_size(t.q), 3);
	run_done(&t);
	tu_rmroot(r);
}

/* A digest that is not what its algorithm makes leaves the file owned but
 * without a digest to check; so does a header with no digests at all. */
static void unusable_digests(void **state)
{
	static const char *const dirs[] = {"/opt/"};
	static const struct tfile files[] = {
		{0, "short", MD5_A, 0},				/* MD5 length, SHA-256 header */
		{0, "nothex", "zz978112ca1bbdcafac231b39a23dc4da786eff8146d8d3d9e6d8fd6e6d0fd5f", 0},
		{0, "long", SHA256_A "00", 0},
		{0, "good", SHA256_A, 0},
	};
	static const struct tfile other[] = {{0, "unknown-algo", SHA256_A, 0}};
	static const struct tfile bare[] = {{0, "no-digests", "", 1}};
	static const char *const paths[] = {"/opt/short", "/opt/nothex", "/opt/long", "/opt/good",
					    "/opt/unknown-algo", "/opt/no-digests", NULL};
	char *r = tu_mkroot();
	sqlite3 *db = db_create(r);
	struct hb h;
	struct run t;

	(void)state;
	pkg_header(&h, "odd", dirs, 1, files, 4, 8);
	db_put_hb(db, &h);
	pkg_header(&h, "algo7", dirs, 1, other, 1, 7);
	db_put_hb(db, &h);
	/* Without FILEDIGESTS: rebuilt by hand, tag by tag. */
	memset(&h, 0, sizeof(h));
	hb_string(&h, 1000, "bare");
	hb_int32s(&h, 1037, &bare[0].flags, 1);
	hb_int32s(&h, 1116, &bare[0].dir, 1);
	hb_strings(&h, 1118, dirs, 1);
	hb_strings(&h, 1117, &bare[0].base, 1);
	db_put_hb(db, &h);
	db_close(db);
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_owner(&t, "/opt/short", "odd", PKG_ALG_NONE, 0, false);
	assert_owner(&t, "/opt/nothex", "odd", PKG_ALG_NONE, 0, false);
	assert_owner(&t, "/opt/long", "odd", PKG_ALG_NONE, 0, false);
	assert_owner(&t, "/opt/good", "odd", PKG_ALG_SHA256, 32, false);
	assert_owner(&t, "/opt/unknown-algo", "algo7", PKG_ALG_NONE, 0, false);
	assert_owner(&t, "/opt/no-digests", "bare", PKG_ALG_NONE, 0, true);
	assert_string_equal(t.log, "");
	run_done(&t);
	tu_rmroot(r);
}

/* Packages without files (gpg-pubkey) and paths too long to be one are not
 * malformed; a file two packages list stays with the first. */
static void no_files_long_paths_shared(void **state)
{
	static const char *const paths[] = {"/usr/share/shared", "/usr/share/after", NULL};
	static const struct tfile shared[] = {{0, "shared", MD5_A, 0}};
	static const struct tfile longf[] = {{1, "x", MD5_A, 0}, {0, "after", MD5_A, 0}};
	static char longdir[PATH_MAX + 16];
	const char *dirs[] = {"/usr/share/", longdir};
	char *r = tu_mkroot();
	sqlite3 *db = db_create(r);
	struct hb h;
	struct run t;

	(void)state;
	longdir[0] = '/';
	memset(longdir + 1, 'd', PATH_MAX - 2);
	longdir[PATH_MAX - 1] = '/';
	memset(&h, 0, sizeof(h));
	hb_string(&h, 1000, "gpg-pubkey");
	hb_string(&h, 1001, "d4082792");
	db_put_hb(db, &h);
	pkg_header(&h, "first", dirs, 1, shared, 1, ALGO_NONE);
	db_put_hb(db, &h);
	pkg_header(&h, "second", dirs, 1, shared, 1, ALGO_NONE);
	db_put_hb(db, &h);
	pkg_header(&h, "longpath", dirs, 2, longf, 2, ALGO_NONE);
	db_put_hb(db, &h);
	db_close(db);
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_owner(&t, "/usr/share/shared", "first", PKG_ALG_MD5, 16, false);
	assert_owner(&t, "/usr/share/after", "longpath", PKG_ALG_MD5, 16, false);
	assert_string_equal(t.log, "");
	run_done(&t);
	tu_rmroot(r);
}

/* Only a file rpm says is on disk (FILESTATES normal) is claimed: not one
 * another package replaced, one never installed, nor the loser of a
 * multilib conflict, whose digest is not what is on disk. */
static void file_states(void **state)
{
	static const char *const dirs[] = {"/usr/share/", "/usr/share/doc/"};
	static const struct tfile files[] = {
		{0, "shared", MD5_A, 0},
		{1, "excluded", MD5_A, 0},
		{1, "replaced", MD5_A, 0},
		{1, "normal", MD5_A, 0},
	};
	static const unsigned char states[] = {4, 2, 1, 0};
	static const struct tfile winner[] = {{0, "shared", SHA256_A, 0}};
	static const char *const paths[] = {"/usr/share/shared", "/usr/share/doc/excluded",
					    "/usr/share/doc/replaced", "/usr/share/doc/normal",
					    NULL};
	char *r = tu_mkroot();
	sqlite3 *db = db_create(r);
	struct hb h;
	struct run t;

	(void)state;
	pkg_header(&h, "lib.i686", dirs, 2, files, 4, ALGO_NONE);
	hb_chars(&h, 1029, states, 4);
	db_put_hb(db, &h);
	pkg_header(&h, "lib.x86_64", dirs, 1, winner, 1, 8);
	hb_chars(&h, 1029, (const unsigned char *)"", 1);
	db_put_hb(db, &h);
	db_close(db);
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_owner(&t, "/usr/share/shared", "lib.x86_64", PKG_ALG_SHA256, 32, false);
	assert_unowned(&t, "/usr/share/doc/excluded");
	assert_unowned(&t, "/usr/share/doc/replaced");
	assert_owner(&t, "/usr/share/doc/normal", "lib.i686", PKG_ALG_MD5, 16, false);
	assert_string_equal(t.log, "");
	run_done(&t);
	tu_rmroot(r);
}

/* ---- hostile headers --------------------------------------------------- */

static const char *const evil_dirs[] = {"/usr/share/", "/evil/"};
static const struct tfile evil_files[] = {
	{0, "shared", SHA256_A, 0},
	{1, "file", SHA256_B, 0},
	{1, "conf", SHA256_C, 1},
};

static void evil(struct hb *h)
{
	pkg_header(h, "evil", evil_dirs, 2, evil_files, 3, 8);
}

static void put_bad(sqlite3 *db, const struct blob *b, size_t *bad)
{
	db_put(db, b);
	(*bad)++;
}

static void put_bad_hb(sqlite3 *db, const struct hb *h, size_t *bad)
{
	db_put_hb(db, h);
	(*bad)++;
}

/* Blobs whose own two counts are wrong. */
static void put_bad_sizes(sqlite3 *db, size_t *bad)
{
	struct hb h;
	struct blob b;

	evil(&h);				/* truncated: shorter than its counts */
	hb_blob(&h, &b);
	b.n -= 3;
	put_bad(db, &b, bad);
	b.n = 5;				/* shorter than the counts themselves */
	put_bad(db, &b, bad);
	b.n = 0;				/* empty */
	put_bad(db, &b, bad);
	hb_blob(&h, &b);			/* huge index counts */
	put32(b.b, 0xffffffffu);
	put_bad(db, &b, bad);
	put32(b.b, 0x10000000u);		/* il * 16 wraps 32 bits */
	put_bad(db, &b, bad);
	put32(b.b, 0x10000u);			/* past rpm's own limit */
	put_bad(db, &b, bad);
	hb_blob(&h, &b);			/* a data size past the blob */
	put32(b.b + 4, 0x0fffffffu);
	put_bad(db, &b, bad);
}

/* Index entries that do not fit the data, or each other. */
static void put_bad_entries(sqlite3 *db, size_t *bad)
{
	struct tfile f[3];
	struct hb h;

	evil(&h);				/* counts that overflow */
	hb_patch(&h, 1117, 3, 0xffffffffu);
	put_bad_hb(db, &h, bad);
	evil(&h);
	hb_patch(&h, 1116, 3, 0x40000001u);	/* count * 4 wraps to 4 */
	put_bad_hb(db, &h, bad);
	evil(&h);
	hb_patch(&h, 1037, 3, 0x40000000u);	/* count * 4 wraps to 0 */
	put_bad_hb(db, &h, bad);
	evil(&h);				/* an offset outside the data */
	hb_patch(&h, 1118, 2, 0xfffffff0u);
	put_bad_hb(db, &h, bad);
	memcpy(f, evil_files, sizeof(f));	/* DIRINDEXES out of range, last file */
	f[2].dir = 2;
	pkg_header(&h, "evil", evil_dirs, 2, f, 3, 8);
	put_bad_hb(db, &h, bad);
	f[2].dir = 0xffffffffu;
	pkg_header(&h, "evil", evil_dirs, 2, f, 3, 8);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* BASENAMES count != DIRINDEXES count */
	hb_patch(&h, 1117, 3, 2);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* and the other way round */
	hb_patch(&h, 1116, 3, 2);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* FILEDIGESTS count != files */
	hb_patch(&h, 1035, 3, 2);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* FILEFLAGS count != files */
	hb_patch(&h, 1037, 3, 4);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* FILESTATES count != files */
	hb_chars(&h, 1029, (const unsigned char *)"\0\0", 2);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* FILESTATES past the data */
	hb_chars(&h, 1029, (const unsigned char *)"\0\0\0", 3);
	hb_patch(&h, 1029, 2, h.dl - 2);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* DIRNAMES too few for the indexes */
	hb_patch(&h, 1118, 3, 1);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* no DIRNAMES at all */
	hb_patch(&h, 1118, 0, 1119);
	put_bad_hb(db, &h, bad);
}

/* Strings without their NUL, tags of the wrong type or count. */
static void put_bad_values(sqlite3 *db, size_t *bad)
{
	struct hb h;

	evil(&h);				/* the last basename has no NUL */
	h.dl--;
	put_bad_hb(db, &h, bad);
	evil(&h);				/* nor the name, at the end of the data */
	hb_bytes(&h, "abc", 3);
	hb_patch(&h, 1000, 2, h.dl - 3);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* BASENAMES as one STRING */
	hb_patch(&h, 1117, 1, 6);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* DIRINDEXES as strings */
	hb_patch(&h, 1116, 1, 8);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* one algorithm per header */
	hb_patch(&h, 5011, 3, 2);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* not none either */
	hb_patch(&h, 5011, 3, 0);
	put_bad_hb(db, &h, bad);
	evil(&h);				/* no name */
	hb_patch(&h, 1000, 0, 1001);
	put_bad_hb(db, &h, bad);
}

static void hostile_headers(void **state)
{
	static const char *const paths[] = {"/usr/share/shared", "/evil/file", "/evil/conf",
					    NULL};
	static const struct tfile good_files[] = {{0, "shared", MD5_A, 0}};
	char *r = tu_mkroot(), want[128];
	sqlite3 *db = db_create(r);
	struct hb h;
	struct run t;
	size_t bad = 0;

	(void)state;
	/* Each lists /usr/share/shared first, so a header taken in part before
	 * the damage was found would claim it ahead of "good". */
	put_bad_sizes(db, &bad);
	put_bad_entries(db, &bad);
	put_bad_values(db, &bad);
	pkg_header(&h, "good", evil_dirs, 1, good_files, 1, ALGO_NONE);
	db_put_hb(db, &h);
	db_close(db);
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_owner(&t, "/usr/share/shared", "good", PKG_ALG_MD5, 16, false);
	assert_unowned(&t, "/evil/file");
	assert_unowned(&t, "/evil/conf");
	snprintf(want, sizeof(want), "rpmdb.sqlite: %zu malformed package headers skipped", bad);
	if (!strstr(t.log, want))
		fail_msg("log lacks \"%s\": %s", want, t.log);
	run_done(&t);
	tu_rmroot(r);
}

/* The same evil header unbroken: what the hostile cases would claim. */
static void hostile_control(void **state)
{
	static const char *const paths[] = {"/usr/share/shared", "/evil/file", "/evil/conf",
					    NULL};
	char *r = tu_mkroot();
	sqlite3 *db = db_create(r);
	struct hb h;
	struct run t;

	(void)state;
	evil(&h);
	db_put_hb(db, &h);
	db_close(db);
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_owner(&t, "/usr/share/shared", "evil", PKG_ALG_SHA256, 32, false);
	assert_owner(&t, "/evil/file", "evil", PKG_ALG_SHA256, 32, false);
	assert_owner(&t, "/evil/conf", "evil", PKG_ALG_SHA256, 32, true);
	run_done(&t);
	tu_rmroot(r);
}

/* A header of n files, all /many/x, with DIRINDEXES and BASENAMES only;
 * the indexes unaligned, as nothing makes a hostile header align them. */
static void put_many(sqlite3 *db, const char *name, uint32_t n)
{
	size_t nlen = strlen(name) + 1, dl = nlen + 7 + (size_t)n * 4 + (size_t)n * 2;
	size_t size = 8 + 4 * 16 + dl;
	unsigned char *b = xcalloc(1, size), *e = b + 8, *d = e + 4 * 16;
	uint32_t off = 0;
	sqlite3_stmt *st;

	put32(b, 4);
	put32(b + 4, (uint32_t)dl);
	put_ent(e, 1000, 6, off, 1);
	memcpy(d + off, name, nlen);
	off += (uint32_t)nlen;
	put_ent(e + 16, 1118, 8, off, 1);
	memcpy(d + off, "/many/", 7);
	off += 7;
	put_ent(e + 32, 1116, 4, off, n);	/* all 0: calloc's zeros */
	off += n * 4;
	put_ent(e + 48, 1117, 8, off, n);
	for (uint32_t i = 0; i < n; i++, off += 2)
		d[off] = 'x';
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1,
					    &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, b, (int)size, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	free(b);
}

/* A million files in one package is the limit, and the limit is enforced. */
static void too_many_files(void **state)
{
	static const char *const paths[] = {"/many/x", NULL};
	char *r = tu_mkroot();
	sqlite3 *db = db_create(r);
	struct run t;

	(void)state;
	put_many(db, "toomany", 1000001);
	put_many(db, "many", 1000000);
	db_close(db);
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_owner(&t, "/many/x", "many", PKG_ALG_NONE, 0, false);
	if (!strstr(t.log, "1 malformed package headers skipped"))
		fail_msg("log: %s", t.log);
	run_done(&t);
	tu_rmroot(r);
}

/* ---- the database file ------------------------------------------------- */

static void absent_database(void **state)
{
	static const char *const paths[] = {"/usr/bin/vim", NULL};
	char *r = tu_mkroot();
	struct run t;

	(void)state;
	run_rpm(&t, r, paths);			/* no /var/lib/rpm */
	assert_int_equal(t.rc, 0);
	assert_unowned(&t, "/usr/bin/vim");
	run_done(&t);
	tu_mkdir(r, "/var/lib/rpm", 0755);	/* the directory, no database */
	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, 0);
	assert_unowned(&t, "/usr/bin/vim");
	run_done(&t);
	tu_rmroot(r);
}

static void expect_error(const char *r, const char *want)
{
	static const char *const paths[] = {"/usr/bin/vim", NULL};
	struct run t;

	run_rpm(&t, r, paths);
	assert_int_equal(t.rc, -1);
	if (!strstr(t.err.msg, want))
		fail_msg("error lacks \"%s\": %s", want, t.err.msg);
	assert_unowned(&t, "/usr/bin/vim");
	run_done(&t);
}

/* There but not readable as a database: an error, never "no packages",
 * and a FIFO must not hang the open. */
static void unreadable_database(void **state)
{
	char *r = tu_mkroot(), path[PATH_MAX];
	sqlite3 *db;

	(void)state;
	snprintf(path, sizeof(path), "%s/var/lib/rpm/rpmdb.sqlite", r);
	tu_mkdir(r, "/var/lib/rpm", 0755);
	assert_int_equal(mkfifo(path, 0644), 0);
	expect_error(r, "/var/lib/rpm/rpmdb.sqlite: not a regular file");
	assert_int_equal(unlink(path), 0);
	tu_mkdir(r, "/var/lib/rpm/rpmdb.sqlite", 0755);
	expect_error(r, "/var/lib/rpm/rpmdb.sqlite: not a regular file");
	assert_int_equal(rmdir(path), 0);
	tu_write(r, "/var/lib/rpm/rpmdb.sqlite", "SQLite format 3\nthis is not a database", 0644);
	expect_error(r, "/var/lib/rpm/rpmdb.sqlite: ");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	db_exec(db, "CREATE TABLE Other (x)");
	db_close(db);
	expect_error(r, "no such table: Packages");
	tu_rmroot(r);
}

/* Through pkgfile_lookup, on a merged-/usr root: a package's /bin/vimdiff
 * is the /usr/bin/vimdiff asked about; there is no dpkg database to mind. */
static void lookup_merged_usr(void **state)
{
	static const char *const old_dirs[] = {"/bin/", "/etc/"};
	char *r = tu_mkroot();
	sqlite3 *db = db_create(r);
	struct pkg_query *q = pkgq_new();
	struct vg_root root;
	struct vg_err err;
	struct hb h;

	(void)state;
	pkg_header(&h, "vim-enhanced", old_dirs, 2, vim_files, 3, 8);
	db_put_hb(db, &h);
	db_close(db);
	tu_symlink(r, "usr/bin", "/bin");
	assert_int_equal(root_init(&root, r, &err), 0);
	pkgq_add(q, "/usr/bin/vimdiff");
	pkgq_add(q, "/etc/vimrc");
	assert_int_equal(pkgfile_lookup(&root, q, &err), 0);
	assert_string_equal(pkgq_owner(q, "/usr/bin/vimdiff")->package, "vim-enhanced");
	assert_true(pkgq_owner(q, "/etc/vimrc")->conffile);
	pkgq_free(q);
	root_fini(&root);
	tu_rmroot(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_files),
		cmocka_unit_test(md5_and_empty_digests),
		cmocka_unit_test(unusable_digests),
		cmocka_unit_test(no_files_long_paths_shared),
		cmocka_unit_test(file_states),
		cmocka_unit_test(hostile_control),
		cmocka_unit_test(hostile_headers),
		cmocka_unit_test(too_many_files),
		cmocka_unit_test(absent_database),
		cmocka_unit_test(unreadable_database),
		cmocka_unit_test(lookup_merged_usr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
