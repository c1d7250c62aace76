/*
 * fim_impl.h: what the fim_*.c files share beyond fim.h.
 *
 * Paths are ordered as if '/' sorted before every other byte (fim_path_cmp),
 * which is the order of a depth-first walk with sorted children: the walk
 * and the baseline table can then be merged like two sorted lists, and
 * nothing but a bounded window of entries is ever held in memory.
 */
#ifndef VIGIL_FIM_IMPL_H
#define VIGIL_FIM_IMPL_H

#include "fim.h"

/* ---- records (fim_attr.c) ---------------------------------------------- */

void fim_record_copy_content(struct fim_record *dst, const struct fim_record *src);

/* The attributes in mask whose values differ between a and b. */
unsigned fim_diff(const struct fim_record *a, const struct fim_record *b, unsigned mask);
/* Same inode, type, size, mtime and ctime: a quick check does not re-read. */
bool fim_same_stat(const struct fim_record *a, const struct fim_record *b);
/* Whether cur (stat fields filled) must be read rather than carried over
 * from old (NULL: not in the baseline). */
bool fim_must_read(const struct fim_record *old, const struct fim_record *cur, bool full);
const char *fim_type_name(unsigned type);	/* file, dir, symlink, ... */
/* The attributes of old and cur that can be compared: a digest that could
 * not be taken is not a change. */
unsigned fim_comparable(const struct fim_record *old, const struct fim_record *cur);
void fim_record_dup(struct fim_record *dst, const struct fim_record *src);

/* ---- the walk (fim_scan.c) --------------------------------------------- */

int fim_path_cmp(const char *a, size_t alen, const char *b, size_t blen);

struct fim_rootdef {			/* one resolved root of a path set */
	char *path;
	const struct vg_fim_set *set;
};
struct fim_plan {			/* roots in fim_path_cmp order, no duplicates */
	struct fim_rootdef *roots;
	size_t n;
};
/* Expands globs and resolves symlinks in each root's parent, inside r. */
int fim_plan_build(struct fim_plan *p, const struct vg_fim_config *cfg, const struct vg_root *r,
		   struct vg_err *err);
void fim_plan_free(struct fim_plan *p);
/* The set that governs path (the deepest root above it), NULL if none or
 * if that set excludes it. */
const struct vg_fim_set *fim_plan_match(const struct fim_plan *p, const char *path);

struct fim_dir {			/* an open directory, shared by its entries */
	int fd;
	unsigned refs;
	unsigned *open_count;
};
void fim_dir_put(struct fim_dir *d);

struct fim_walk_ops {
	/* One entry; name is relative to dir (which fn may keep with a ref);
	 * dtype is the directory's DT_* for it, DT_UNKNOWN if it did not say. */
	int (*visit)(void *u, const char *path, struct fim_dir *dir, const char *name,
		     unsigned char dtype, const struct vg_fim_set *set);
	/* A directory could not be read; the walk goes on. */
	void (*error)(void *u, const char *path, int errnum);
	/* Called when max_open directories are open: release some. */
	void (*throttle)(void *u);
	void *u;
	unsigned max_open;
	unsigned *open_count;		/* directories open, the walk's and entries' */
};
/* -1 with err if the root cannot be opened; a non-zero return of visit
 * stops the walk and is returned. */
int fim_walk(const struct fim_plan *p, const struct vg_root *r, const struct fim_walk_ops *ops,
	     struct vg_err *err);

/* ---- one entry (fim_read.c) -------------------------------------------- */

struct fim_reader {			/* per thread: one reused buffer, one digest */
	unsigned char *buf;
	size_t bufsize;
	void *md;			/* EVP_MD_CTX */
	void *alg;			/* EVP_MD, fetched once */
	bool noatime_denied;		/* O_NOATIME refused: stop asking */
};
int fim_reader_init(struct fim_reader *rd, struct vg_err *err);
void fim_reader_fini(struct fim_reader *rd);

/* lstat of dirfd/name into r (keeps r->attrs); 0 or an errno. */
int fim_stat(int dirfd, const char *name, struct fim_record *r);

enum fim_read_rc { FIM_READ_OK, FIM_READ_GONE, FIM_READ_CHANGED, FIM_READ_FAILED };
/* Reads what r->attrs asks for beyond stat (content, xattrs, target) and
 * refreshes the stat fields; CHANGED if the file changed while read. */
enum fim_read_rc fim_read(struct fim_reader *rd, int dirfd, const char *name, const char *path,
			  struct fim_record *r, int attempt, fim_read_hook hook, void *u);

/* ---- worker threads (fim_hash.c) --------------------------------------- */

/* One walked entry (or one removed baseline entry) on its way through the
 * ring: filled by the walk, completed by a worker, consumed in ring order. */
struct fim_job {
	char *path;
	const char *name;		/* relative to dir */
	struct fim_dir *dir;		/* NULL: a baseline entry no longer seen */
	unsigned char dtype;		/* DT_* from the directory */
	const struct vg_fim_set *set;
	struct fim_record old, cur;
	bool has_old, has_cur;
	bool reread;			/* content and xattrs read now, not carried */
	int attempts;			/* reads that saw the file change */
	int err;			/* errno when it could not be read */
	unsigned state;			/* private to fim_hash.c */
	double retry_at;
};

struct fim_pool;
struct fim_pool_opts {
	int threads;
	bool full;			/* re-read even what a stat says is unchanged */
	fim_read_hook hook;
	void *hook_u;
};
int fim_pool_start(struct fim_pool **p, const struct fim_pool_opts *o, struct vg_err *err);
/* The next free slot (zeroed), or NULL when the ring is full: consume first. */
struct fim_job *fim_pool_slot(struct fim_pool *p);
void fim_pool_push(struct fim_pool *p);	/* hands the slot to the workers */
/* How many jobs at the head are complete; with wait, at least one unless
 * the ring is empty. */
size_t fim_pool_ready(struct fim_pool *p, bool wait);
struct fim_job *fim_pool_head(struct fim_pool *p);
void fim_pool_pop(struct fim_pool *p);	/* the caller has released the job */
size_t fim_pool_pending(const struct fim_pool *p);
uint64_t fim_pool_requeued(struct fim_pool *p);
void fim_pool_stop(struct fim_pool *p);	/* joins the workers, frees the pool */

/* ---- runs (fim_run.c) -------------------------------------------------- */

char *fim_real_root(const char *root);	/* realpath, or root as given */

/* ---- the baseline (fim_db.c) ------------------------------------------- */

struct fim_db;
int fimdb_open(struct fim_db **db, const char *file, bool write, struct vg_err *err);
void fimdb_close(struct fim_db *db);
/* The file for a root: DIR/fim.db for "/", DIR/fim-NAME-HASH.db otherwise. */
char *fimdb_path(const char *state_dir, const char *rootdir);
char *fimdb_meta(struct fim_db *db, const char *key);	/* NULL if unset */
/* Replacing the baseline: nothing is visible, and a crash loses nothing
 * old, until fimdb_commit. */
int fimdb_begin(struct fim_db *db, struct vg_err *err);
int fimdb_put(struct fim_db *db, const char *path, const struct fim_record *r,
	      struct vg_err *err);
int fimdb_commit(struct fim_db *db, const char *const *meta, struct vg_err *err);
void fimdb_abort(struct fim_db *db);
/* The baseline in path order: 1 a row, 0 the end, -1 error. */
int fimdb_scan_start(struct fim_db *db, struct vg_err *err);
/* The same, only prefix and what lies below it. */
int fimdb_scan_below(struct fim_db *db, const char *prefix, struct vg_err *err);
int fimdb_scan_next(struct fim_db *db, struct vg_buf *path, struct fim_record *r,
		    struct vg_err *err);
void fimdb_scan_stop(struct fim_db *db);
/* Changes whenever another connection has committed to the file since
 * (a baseline replaced in place); -1 if it cannot be read. */
long long fimdb_data_version(struct fim_db *db);
/* 1 found, 0 not in the baseline, -1 error. */
int fimdb_get(struct fim_db *db, const char *path, struct fim_record *r, struct vg_err *err);

/* ---- reports (fim_report.c) --------------------------------------------- */

struct fim_report {
	FILE *out;
	bool json;
	const char *op, *root, *db, *hostname;
	size_t nfindings;
};
void fim_report_begin(struct fim_report *rep);
void fim_report_finding(struct fim_report *rep, const struct fim_finding *f);
void fim_report_end(struct fim_report *rep, const struct fim_summary *s);


struct fim_progress {			/* a line on a terminal's stderr */
	bool on;
	bool by_bytes;			/* every file is read: bytes measure progress */
	double start, last;
	uint64_t total_entries, total_bytes;	/* from the last baseline; 0: unknown */
};
void fim_progress_tick(struct fim_progress *p, const struct fim_summary *s, bool force);
void fim_progress_clear(struct fim_progress *p);

#endif
