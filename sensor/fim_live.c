/*
 * fim_live.c: realtime drift, one path (or one subtree) at a time.
 *
 * The event engine says a monitored path was touched; this re-reads it
 * and compares it with what was last reported for it, or with the
 * baseline when nothing was. Remembering the last report means a file
 * edited ten times gives ten findings, each naming what that change did,
 * rather than the same difference from the baseline ten times over.
 * The memory is bounded (KNOWN_MAX paths); past it, paths compare with the
 * baseline again. A baseline replaced by `vigil fim update` is noticed and
 * the memory dropped: the new baseline is what was approved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fim_impl.h"

#define LIVE_READ_TRIES 4
#define KNOWN_MAX 200000
#define RESCAN_MAX_OPEN 64

struct known {				/* the state last reported for a path */
	unsigned gen;			/* rescans that saw it */
	bool present;
	struct fim_record rec;
};

struct fim_live {
	struct vg_root root;
	struct fim_plan plan;
	struct fim_db *db;
	char *dbfile;
	struct stat dbst;		/* to notice a baseline replaced by a new file */
	long long dbver;		/* or rewritten in place (fimdb_data_version) */
	struct fim_reader rd;
	struct vg_smap known;		/* path -> struct known */
	bool known_full;
	unsigned gen;
};

static void known_free(void *p)
{
	struct known *k = p;

	fim_record_free(&k->rec);
	free(k);
}

static int open_db(struct fim_live *l, struct vg_err *err)
{
	struct stat st;

	if (stat(l->dbfile, &st) < 0)
		return vg_errf(err, "%s: %s (run `vigil fim init` first)", l->dbfile,
			       strerror(errno));
	if (fimdb_open(&l->db, l->dbfile, false, err))
		return -1;
	l->dbst = st;
	l->dbver = fimdb_data_version(l->db);
	return 0;
}

int fim_live_open(struct fim_live **out, const struct vg_fim_config *cfg, const char *root,
		  const char *state_dir, struct vg_err *err)
{
	struct fim_live *l = xcalloc(1, sizeof(*l));
	char *real = fim_real_root(root);
	int rc;

	*out = NULL;
	l->root.fd = -1;
	l->dbfile = fimdb_path(state_dir ? state_dir : cfg->state_dir ? cfg->state_dir :
			       VG_STATE_DIR, real);
	free(real);
	rc = root_init(&l->root, root, err) || fim_plan_build(&l->plan, cfg, &l->root, err) ||
	     open_db(l, err) || fim_reader_init(&l->rd, err);
	if (rc) {
		fim_live_close(l);
		return -1;
	}
	*out = l;
	return 0;
}

void fim_live_close(struct fim_live *l)
{
	if (!l)
		return;
	fimdb_close(l->db);
	fim_plan_free(&l->plan);
	if (l->root.fd >= 0)
		root_fini(&l->root);
	if (l->rd.buf)
		fim_reader_fini(&l->rd);
	smap_free(&l->known, known_free);
	free(l->dbfile);
	free(l);
}

int fim_live_reload(struct fim_live *l, struct vg_err *err)
{
	struct stat st;

	/* `fim update` commits the new baseline into the same file: the
	 * inode stays, the data version moves. */
	if (stat(l->dbfile, &st) == 0 && st.st_ino == l->dbst.st_ino &&
	    st.st_dev == l->dbst.st_dev && fimdb_data_version(l->db) == l->dbver)
		return 0;
	fimdb_close(l->db);
	l->db = NULL;
	smap_free(&l->known, known_free);
	l->known_full = false;
	if (open_db(l, err))
		return -1;
	log_info("%s: a new baseline; realtime drift compares with it from now on",
		 l->dbfile);
	return 1;
}

void fim_live_roots(const struct fim_live *l, struct vg_strv *out)
{
	for (size_t i = 0; i < l->plan.n; i++)
		strv_push(out, l->plan.roots[i].path);
}

const struct vg_fim_set *fim_live_match(const struct fim_live *l, const char *path)
{
	return fim_plan_match(&l->plan, path);
}

void fim_finding_fini(struct fim_finding *f)
{
	struct fim_record *old = (struct fim_record *)f->old, *cur = (struct fim_record *)f->cur;

	if (old)
		fim_record_free(old);
	if (cur)
		fim_record_free(cur);
	free(old);
	free(cur);
	free((char *)f->path);
	memset(f, 0, sizeof(*f));
}

/* Reads path's current state into cur; 0 present, 1 absent, -1 error. */
static int live_read(struct fim_live *l, const char *path, const struct fim_record *old,
		     bool rehash, struct fim_record *cur, struct vg_err *err)
{
	const char *slash = strrchr(path, '/'), *name = slash[1] ? slash + 1 : ".";
	char *parent = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	int dfd = root_open(&l->root, parent, O_RDONLY | O_DIRECTORY), rc = 1, e;

	free(parent);
	if (dfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 1 :
		       vg_errf(err, "%s: %s", path, strerror(errno));
	for (int attempt = 0;; attempt++) {
		cur->flags = 0;
		if ((e = fim_stat(dfd, name, cur))) {
			rc = e == ENOENT || e == ENOTDIR ? 1 :
			     vg_errf(err, "%s: %s", path, strerror(e));
			break;
		}
		if (!fim_must_read(old, cur, rehash)) {
			fim_record_copy_content(cur, old);
			rc = 0;
			break;
		}
		enum fim_read_rc rr = fim_read(&l->rd, dfd, name, path, cur, attempt, NULL,
					       NULL);
		if (rr == FIM_READ_CHANGED && attempt + 1 < LIVE_READ_TRIES) {
			/* Give the writer a moment to finish. */
			nanosleep(&(struct timespec){.tv_nsec = 10000000L * (attempt + 1)}, NULL);
			continue;
		}
		rc = rr == FIM_READ_GONE ? 1 : 0;
		if (rr == FIM_READ_FAILED)
			cur->flags |= FIM_F_UNREADABLE;
		if (rr == FIM_READ_CHANGED)
			cur->flags |= FIM_F_UNSTABLE;
		break;
	}
	close(dfd);
	return rc;
}

/* What path was last known as: from the memory, else the baseline.
 * 1 present (r filled), 0 absent, -1 error. */
static int last_known(struct fim_live *l, const char *path, struct fim_record *r,
		      struct vg_err *err)
{
	struct known *k = smap_get(&l->known, path, strlen(path));

	if (!k)
		return fimdb_get(l->db, path, r, err);
	k->gen = l->gen;
	if (k->present)
		fim_record_dup(r, &k->rec);
	return k->present;
}

static void remember(struct fim_live *l, const char *path, const struct fim_record *cur)
{
	bool added;
	void **slot;
	struct known *k;

	if (!smap_get(&l->known, path, strlen(path)) && l->known.n >= KNOWN_MAX) {
		if (!l->known_full)
			log_warn("realtime drift remembers %d paths at most; more compare "
				 "with the baseline", KNOWN_MAX);
		l->known_full = true;
		return;
	}
	slot = smap_put(&l->known, path, strlen(path), &added);
	if (!added)
		known_free(*slot);
	k = *slot = xcalloc(1, sizeof(*k));
	k->gen = l->gen;
	k->present = cur != NULL;
	if (cur)
		fim_record_dup(&k->rec, cur);
}

static enum fim_change judge(struct fim_finding *f)
{
	if (f->cur && (f->cur->flags & FIM_F_UNSTABLE))
		return FIM_UNSTABLE;
	if (f->cur && (f->cur->flags & FIM_F_UNREADABLE))
		return FIM_UNREADABLE;
	if (!f->cur)
		return FIM_REMOVED;
	if (!f->old)
		return FIM_ADDED;
	return FIM_CHANGED;
}

/* The finding from old to cur (either NULL when absent); 0 when equal. */
static int compare(struct fim_finding *f)
{
	if (!f->old && !f->cur)
		return 0;
	f->kind = judge(f);
	if (f->kind == FIM_CHANGED &&
	    !(f->changed = fim_diff(f->old, f->cur, fim_comparable(f->old, f->cur))))
		return 0;
	return 1;
}

int fim_recheck(struct fim_live *l, const char *path, bool rehash, struct fim_finding *f,
		struct vg_err *err)
{
	const struct vg_fim_set *set = fim_plan_match(&l->plan, path);
	struct fim_record *old, *cur;
	int has_old, present = -1;

	memset(f, 0, sizeof(*f));
	if (!set || path[0] != '/')
		return 0;
	old = xcalloc(1, sizeof(*old));
	cur = xcalloc(1, sizeof(*cur));
	cur->attrs = set->attrs;
	if ((has_old = last_known(l, path, old, err)) >= 0)
		present = live_read(l, path, has_old ? old : NULL, rehash, cur, err);
	if (has_old < 0 || present < 0) {
		fim_record_free(old);
		fim_record_free(cur);
		free(old);
		free(cur);
		return -1;
	}
	*f = (struct fim_finding){.path = xstrdup(path), .set = set->name};
	if (has_old)
		f->old = old;
	else
		free(old);
	if (present == 0)
		f->cur = cur;
	else
		free(cur);
	if (!compare(f)) {
		fim_finding_fini(f);
		return 0;
	}
	remember(l, path, f->cur);
	return 1;
}

/* ---- a subtree ----------------------------------------------------------- */

struct rescan {
	struct fim_live *l;
	fim_finding_fn fn;
	void *u;
	struct vg_err *err;
	int found;
	bool failed;
	bool db_more;			/* db_path holds the next baseline row */
	struct vg_buf db_path;
	struct fim_record db_rec;
	unsigned open_dirs;
};

static void rescan_one(struct rescan *s, const char *path)
{
	struct fim_finding f;
	int rc = fim_recheck(s->l, path, false, &f, s->err);

	if (rc < 0) {
		log_warn("rescan: %s", s->err->msg);
		return;
	}
	if (rc == 1) {
		s->fn(s->u, &f);
		fim_finding_fini(&f);
		s->found++;
	}
}

static void db_advance(struct rescan *s)
{
	int rc = fimdb_scan_next(s->l->db, &s->db_path, &s->db_rec, s->err);

	s->db_more = rc == 1;
	if (rc < 0)
		s->failed = true;
}

/* Baseline rows before path are gone from the file system (the walk and
 * the table are both in fim_path_cmp order). */
static void db_catch_up(struct rescan *s, const char *path)
{
	size_t plen = path ? strlen(path) : 0;

	while (s->db_more) {
		int c = path ? fim_path_cmp(s->db_path.p, s->db_path.len, path, plen) : -1;
		if (c > 0)
			return;
		if (c < 0)
			rescan_one(s, s->db_path.p);
		db_advance(s);
	}
}

static int rescan_visit(void *u, const char *path, struct fim_dir *dir, const char *name,
			unsigned char dtype, const struct vg_fim_set *set)
{
	struct rescan *s = u;

	(void)dir, (void)name, (void)dtype, (void)set;
	db_catch_up(s, path);
	rescan_one(s, path);
	return s->failed ? -1 : 0;
}

bool fim_at_or_below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!strcmp(prefix, "/"))
		return path[0] == '/';
	return !strncmp(path, prefix, n) && (path[n] == 0 || path[n] == '/');
}

/* The plan narrowed to prefix: prefix itself under the set that governs
 * it, and the roots below it with their own sets. */
static void sub_plan(const struct fim_plan *p, const char *prefix, struct fim_plan *sub)
{
	const struct vg_fim_set *set = fim_plan_match(p, prefix);

	sub->roots = xcalloc(p->n + 1, sizeof(*sub->roots));
	sub->n = 0;
	if (set)
		sub->roots[sub->n++] = (struct fim_rootdef){xstrdup(prefix), set};
	for (size_t i = 0; i < p->n; i++)
		if (fim_at_or_below(p->roots[i].path, prefix) && strcmp(p->roots[i].path, prefix))
			sub->roots[sub->n++] = (struct fim_rootdef){xstrdup(p->roots[i].path),
								    p->roots[i].set};
}

int fim_live_rescan(struct fim_live *l, const char *prefix, fim_finding_fn fn, void *u,
		    struct vg_err *err)
{
	struct rescan s = {.l = l, .fn = fn, .u = u, .err = err};
	struct fim_walk_ops ops = {.visit = rescan_visit, .u = &s, .max_open = RESCAN_MAX_OPEN,
				   .open_count = &s.open_dirs};
	struct fim_plan sub;
	const char *key;
	void *val;

	l->gen++;
	sub_plan(&l->plan, prefix, &sub);
	if (fimdb_scan_below(l->db, prefix, err)) {
		fim_plan_free(&sub);
		return -1;
	}
	db_advance(&s);
	if (sub.n && fim_walk(&sub, &l->root, &ops, err) < 0 && !s.failed)
		log_warn("rescan of %s: %s", prefix, err->msg);
	if (!s.failed)
		db_catch_up(&s, NULL);
	fimdb_scan_stop(l->db);
	fim_record_free(&s.db_rec);
	buf_free(&s.db_path);
	fim_plan_free(&sub);
	if (s.failed)
		return -1;
	/* Paths only the memory knew of (added since the baseline) that
	 * neither the walk nor the table brought up. */
	struct vg_strv stale = {0};
	for (size_t i = 0; (i = smap_next(&l->known, i, &key, &val));) {
		const struct known *k = val;
		if (k->gen != l->gen && k->present && fim_at_or_below(key, prefix))
			strv_push(&stale, key);
	}
	for (size_t i = 0; i < stale.n; i++)
		rescan_one(&s, stale.v[i]);
	strv_free(&stale);
	return s.found;
}
