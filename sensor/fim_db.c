/*
 * fim_db.c: the baseline, in SQLite.
 *
 * One table of entries keyed by path, where the key is the path with '/'
 * stored as a NUL byte: SQLite compares BLOBs with memcmp, so the table's
 * order is fim_path_cmp's, the order the walk produces. A check then reads
 * the table front to back beside the walk; nothing is looked up at random.
 *
 * A new baseline is written into a fresh table inside one transaction that
 * then drops the old table and renames the new one. The database is in WAL
 * mode: until the commit record reaches the log, a crash (kill -9 included)
 * leaves the previous baseline exactly as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fim_impl.h"

#define SCHEMA_VERSION "1"
#define BUSY_TIMEOUT_MS 10000

#define COLUMNS "path, attrs, flags, type, mode, uid, gid, size, ino, dev, nlink, mtime, " \
		"ctime, target, selinux, cap, sha256"
#define TABLE_DEF(name) "CREATE TABLE " name "(path BLOB PRIMARY KEY, attrs INTEGER NOT NULL," \
	" flags INTEGER NOT NULL, type INTEGER NOT NULL, mode INTEGER NOT NULL,"	\
	" uid INTEGER NOT NULL, gid INTEGER NOT NULL, size INTEGER NOT NULL,"		\
	" ino INTEGER NOT NULL, dev INTEGER NOT NULL, nlink INTEGER NOT NULL,"		\
	" mtime INTEGER NOT NULL, ctime INTEGER NOT NULL, target BLOB, selinux BLOB,"	\
	" cap BLOB, sha256 BLOB) WITHOUT ROWID"

struct fim_db {
	sqlite3 *h;
	char *file;
	sqlite3_stmt *put, *scan, *get, *version;
	struct vg_buf key;		/* scratch: a path as a key */
	bool in_tx;
};

static int db_error(struct fim_db *db, struct vg_err *err, const char *what)
{
	return vg_errf(err, "%s: %s: %s", db->file, what, sqlite3_errmsg(db->h));
}

static int exec(struct fim_db *db, const char *sql, struct vg_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	vg_errf(err, "%s: %s", db->file, msg ? msg : sqlite3_errmsg(db->h));
	sqlite3_free(msg);
	return -1;
}

char *fimdb_path(const char *state_dir, const char *rootdir)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char real[4096], name[48];
	size_t n = 0;

	if (!strcmp(rootdir, "/"))
		return xasprintf("%s/fim.db", state_dir);
	/* Another root never shares the host's file: its own, named for
	 * people and made unique by a digest of its real path. */
	if (!realpath(rootdir, real))
		snprintf(real, sizeof(real), "%s", rootdir);
	if (!strcmp(real, "/"))
		return xasprintf("%s/fim.db", state_dir);
	EVP_Digest(real, strlen(real), md, &mdlen, EVP_sha256(), NULL);
	for (const char *p = real; *p && n < 32; p++)
		name[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ? *p : '_';
	name[n] = 0;
	return xasprintf("%s/fim-%s-%02x%02x%02x%02x.db", state_dir, name + (name[0] == '_'),
			 md[0], md[1], md[2], md[3]);
}

/* The baseline names every protected file and its digest: only root reads it. */
static int create_private(const char *file, struct vg_err *err)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return vg_errf(err, "%s: %s", file, strerror(errno));
	close(fd);
	return 0;
}

static int db_setup(struct fim_db *db, bool write, struct vg_err *err)
{
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	/* Rows go in key order and are read back in key order: a small cache
	 * is enough, and keeps the sensor small. */
	if (exec(db, "PRAGMA cache_size=-1024", err))
		return -1;
	if (!write)
		return 0;
	if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		     "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);",
		     err))
		return -1;
	return 0;
}

int fimdb_open(struct fim_db **out, const char *file, bool write, struct vg_err *err)
{
	struct fim_db *db;
	int flags = write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;

	*out = NULL;
	if (!write && access(file, F_OK) < 0)
		return vg_errf(err, "%s: no baseline (%s); run `vigil fim init` first", file,
			       strerror(errno));
	if (write && create_private(file, err))
		return -1;
	db = xcalloc(1, sizeof(*db));
	db->file = xstrdup(file);
	if (sqlite3_open_v2(file, &db->h, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		db_error(db, err, "cannot open");
		fimdb_close(db);
		return -1;
	}
	if (db_setup(db, write, err)) {
		fimdb_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

void fimdb_close(struct fim_db *db)
{
	if (!db)
		return;
	if (db->in_tx)
		fimdb_abort(db);
	sqlite3_finalize(db->put);
	sqlite3_finalize(db->scan);
	sqlite3_finalize(db->get);
	sqlite3_finalize(db->version);
	sqlite3_close(db->h);
	buf_free(&db->key);
	free(db->file);
	free(db);
}

char *fimdb_meta(struct fim_db *db, const char *key)
{
	sqlite3_stmt *st;
	char *val = NULL;

	if (sqlite3_prepare_v2(db->h, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL))
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		val = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return val;
}

static const char *to_key(struct fim_db *db, const char *path, size_t *len)
{
	db->key.len = 0;
	buf_puts(&db->key, path);
	for (size_t i = 0; i < db->key.len; i++)
		if (db->key.p[i] == '/')
			db->key.p[i] = 0;
	*len = db->key.len;
	return db->key.p;
}

int fimdb_begin(struct fim_db *db, struct vg_err *err)
{
	if (exec(db, "BEGIN IMMEDIATE", err))
		return -1;
	db->in_tx = true;
	if (exec(db, "DROP TABLE IF EXISTS file_new; " TABLE_DEF("file_new"), err))
		return -1;
	if (sqlite3_prepare_v2(db->h, "INSERT INTO file_new(" COLUMNS ") VALUES "
			       "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &db->put, NULL))
		return db_error(db, err, "prepare");
	return 0;
}

static void bind_opt_text(sqlite3_stmt *st, int col, const char *s)
{
	if (s)
		sqlite3_bind_blob(st, col, s, (int)strlen(s), SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

int fimdb_put(struct fim_db *db, const char *path, const struct fim_record *r,
	      struct vg_err *err)
{
	sqlite3_stmt *st = db->put;
	size_t klen;
	const char *key = to_key(db, path, &klen);
	int rc;

	sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->attrs);
	sqlite3_bind_int64(st, 3, r->flags);
	sqlite3_bind_int64(st, 4, r->type);
	sqlite3_bind_int64(st, 5, r->mode);
	sqlite3_bind_int64(st, 6, r->uid);
	sqlite3_bind_int64(st, 7, r->gid);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)r->size);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)r->ino);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)r->dev);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)r->nlink);
	sqlite3_bind_int64(st, 12, r->mtime_ns);
	sqlite3_bind_int64(st, 13, r->ctime_ns);
	bind_opt_text(st, 14, r->target);
	bind_opt_text(st, 15, r->selinux);
	if (r->cap)
		sqlite3_bind_blob(st, 16, r->cap, (int)r->cap_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 16);
	if (r->flags & FIM_F_HASHED)
		sqlite3_bind_blob(st, 17, r->sha256, sizeof(r->sha256), SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 17);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return vg_errf(err, "%s: storing %s: %s", db->file, path, sqlite3_errmsg(db->h));
	return 0;
}

static int put_meta(struct fim_db *db, const char *key, const char *val, struct vg_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
			       -1, &st, NULL))
		return db_error(db, err, "prepare");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(db, err, "storing meta");
}

int fimdb_commit(struct fim_db *db, const char *const *meta, struct vg_err *err)
{
	fimdb_scan_stop(db);
	sqlite3_finalize(db->put);
	db->put = NULL;
	if (exec(db, "DROP TABLE IF EXISTS file; ALTER TABLE file_new RENAME TO file", err) ||
	    put_meta(db, "schema", SCHEMA_VERSION, err))
		return -1;
	for (; meta && meta[0] && meta[1]; meta += 2)
		if (put_meta(db, meta[0], meta[1], err))
			return -1;
	if (exec(db, "COMMIT", err))
		return -1;
	db->in_tx = false;
	/* The log held the whole new table; fold it in and give the space back. */
	if (sqlite3_exec(db->h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL))
		log_warn("%s: checkpoint: %s", db->file, sqlite3_errmsg(db->h));
	return 0;
}

void fimdb_abort(struct fim_db *db)
{
	fimdb_scan_stop(db);
	sqlite3_finalize(db->put);
	db->put = NULL;
	if (db->in_tx)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->in_tx = false;
}

static bool has_baseline(struct fim_db *db)
{
	sqlite3_stmt *st;
	bool yes;

	if (sqlite3_prepare_v2(db->h, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
			       "name = 'file'", -1, &st, NULL))
		return false;
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

int fimdb_scan_start(struct fim_db *db, struct vg_err *err)
{
	if (!has_baseline(db))
		return vg_errf(err, "%s: no baseline yet; run `vigil fim init` first", db->file);
	if (sqlite3_prepare_v2(db->h, "SELECT " COLUMNS " FROM file ORDER BY path", -1,
			       &db->scan, NULL))
		return db_error(db, err, "reading the baseline");
	return 0;
}

/* With '/' stored as NUL, what lies below P is the key range [P\0, P\1):
 * one index range, in path order. */
int fimdb_scan_below(struct fim_db *db, const char *prefix, struct vg_err *err)
{
	size_t klen;
	const char *key;

	if (!has_baseline(db))
		return vg_errf(err, "%s: no baseline yet; run `vigil fim init` first", db->file);
	if (sqlite3_prepare_v2(db->h, "SELECT " COLUMNS " FROM file WHERE path = ?1 OR "
			       "(path >= ?2 AND path < ?3) ORDER BY path", -1, &db->scan, NULL))
		return db_error(db, err, "reading the baseline");
	to_key(db, strcmp(prefix, "/") ? prefix : "", &klen);
	buf_put(&db->key, "", 1);	/* P\0 */
	key = db->key.p;
	sqlite3_bind_blob(db->scan, 1, key, (int)klen, SQLITE_TRANSIENT);
	sqlite3_bind_blob(db->scan, 2, key, (int)klen + 1, SQLITE_TRANSIENT);
	db->key.p[klen] = 1;		/* P\1 */
	sqlite3_bind_blob(db->scan, 3, key, (int)klen + 1, SQLITE_TRANSIENT);
	return 0;
}

static char *col_text(sqlite3_stmt *st, int col)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	return p ? xstrndup(p, (size_t)n) : NULL;
}

static void decode(sqlite3_stmt *st, struct fim_record *r)
{
	const void *p;
	int n;

	fim_record_free(r);
	r->attrs = (unsigned)sqlite3_column_int64(st, 1);
	r->flags = (unsigned)sqlite3_column_int64(st, 2);
	r->type = (unsigned)sqlite3_column_int64(st, 3);
	r->mode = (unsigned)sqlite3_column_int64(st, 4);
	r->uid = (uint32_t)sqlite3_column_int64(st, 5);
	r->gid = (uint32_t)sqlite3_column_int64(st, 6);
	r->size = (uint64_t)sqlite3_column_int64(st, 7);
	r->ino = (uint64_t)sqlite3_column_int64(st, 8);
	r->dev = (uint64_t)sqlite3_column_int64(st, 9);
	r->nlink = (uint64_t)sqlite3_column_int64(st, 10);
	r->mtime_ns = sqlite3_column_int64(st, 11);
	r->ctime_ns = sqlite3_column_int64(st, 12);
	r->target = col_text(st, 13);
	r->selinux = col_text(st, 14);
	p = sqlite3_column_blob(st, 15);
	n = sqlite3_column_bytes(st, 15);
	if (p && n > 0) {
		r->cap = xmalloc((size_t)n);
		memcpy(r->cap, p, (size_t)n);
		r->cap_len = (size_t)n;
	}
	p = sqlite3_column_blob(st, 16);
	n = sqlite3_column_bytes(st, 16);
	r->flags &= ~FIM_F_HASHED;
	if (p && n == (int)sizeof(r->sha256)) {
		memcpy(r->sha256, p, sizeof(r->sha256));
		r->flags |= FIM_F_HASHED;
	}
}

static void key_to_path(sqlite3_stmt *st, struct vg_buf *path)
{
	const char *k = sqlite3_column_blob(st, 0);
	int n = sqlite3_column_bytes(st, 0);

	path->len = 0;
	buf_put(path, k ? k : "", k ? (size_t)n : 0);
	for (size_t i = 0; i < path->len; i++)
		if (path->p[i] == 0)
			path->p[i] = '/';
}

int fimdb_scan_next(struct fim_db *db, struct vg_buf *path, struct fim_record *r,
		    struct vg_err *err)
{
	int rc = sqlite3_step(db->scan);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_error(db, err, "reading the baseline");
	key_to_path(db->scan, path);
	decode(db->scan, r);
	return 1;
}

void fimdb_scan_stop(struct fim_db *db)
{
	sqlite3_finalize(db->scan);
	db->scan = NULL;
}

/* SQLite's data_version: the same on this connection until another one
 * commits to the file. `fim update` rewrites the baseline in place, in one
 * transaction on the same file, so the file's inode alone cannot tell. */
long long fimdb_data_version(struct fim_db *db)
{
	long long v = -1;

	if (!db->version && sqlite3_prepare_v2(db->h, "PRAGMA data_version", -1, &db->version,
					       NULL))
		return -1;
	if (sqlite3_step(db->version) == SQLITE_ROW)
		v = sqlite3_column_int64(db->version, 0);
	sqlite3_reset(db->version);
	return v;
}

int fimdb_get(struct fim_db *db, const char *path, struct fim_record *r, struct vg_err *err)
{
	size_t klen;
	const char *key;
	int rc;

	if (!db->get && sqlite3_prepare_v2(db->h, "SELECT " COLUMNS " FROM file WHERE path = ?",
					   -1, &db->get, NULL))
		return db_error(db, err, "reading the baseline");
	key = to_key(db, path, &klen);
	sqlite3_bind_blob(db->get, 1, key, (int)klen, SQLITE_STATIC);
	rc = sqlite3_step(db->get);
	if (rc == SQLITE_ROW)
		decode(db->get, r);
	sqlite3_reset(db->get);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_error(db, err, "reading the baseline");
}
