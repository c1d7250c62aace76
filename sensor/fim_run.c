/*
 * fim_run.c: init, check and update, as one pipeline.
 *
 *   walk (main thread) ──► ring ──► workers: stat, read, digest
 *        │ merged with the baseline, both in path order
 *        ▼
 *   head of the ring (main thread) ──► findings, and the new baseline rows
 *
 * init writes a new baseline from scratch, reading every file; update
 * writes one too but, like check, carries over what an unchanged stat
 * vouches for (unless --full); check only reports. A baseline is written
 * inside one transaction (fim_db.c): a run that dies leaves the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fim_impl.h"

#define MAX_OPEN_DIRS 512
#define CONSUME_EVERY 64		/* a lock round trip per that many entries */

struct run {
	const struct fim_opts *o;
	struct fim_summary *s;
	struct vg_root root;
	struct fim_plan plan;
	struct fim_db *db;
	struct fim_pool *pool;
	struct fim_report rep;
	struct fim_progress prog;
	char *dbfile;
	char hostname[256];
	bool writing;			/* init, update */
	bool merging;			/* check, update: the old baseline is read along */
	bool old_left;			/* old_path/old_rec hold the next baseline row */
	struct vg_buf old_path;
	struct fim_record old_rec;
	unsigned open_dirs;
	unsigned since_consume;		/* pushes since completed jobs were taken */
	struct vg_err *err;
	bool failed;
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *op_name(enum fim_op op)
{
	return op == FIM_INIT ? "init" : op == FIM_CHECK ? "check" : "update";
}

/* ---- consuming the ring ------------------------------------------------- */

static void report(struct run *r, enum fim_change kind, const struct fim_job *j,
		   unsigned changed)
{
	struct fim_finding f = {
		.kind = kind,
		.path = j->path,
		.set = j->set ? j->set->name : NULL,
		.old = j->has_old ? &j->old : NULL,
		.cur = j->has_cur ? &j->cur : NULL,
		.changed = changed,
		.err = j->err,
	};
	uint64_t *count[] = {&r->s->added, &r->s->removed, &r->s->changed, &r->s->unstable,
			     &r->s->unreadable};

	(*count[kind])++;
	fim_progress_clear(&r->prog);
	fim_report_finding(&r->rep, &f);
}

/* What both records track; what a failed or unsettled read could not
 * learn is reported as that, not as a change. */
unsigned fim_comparable(const struct fim_record *old, const struct fim_record *cur)
{
	unsigned mask = old->attrs & cur->attrs;

	if (cur->flags & (FIM_F_UNSTABLE | FIM_F_UNREADABLE))
		mask &= ~(FIM_A_SHA256 | FIM_A_SELINUX | FIM_A_CAPS | FIM_A_TARGET);
	return mask;
}

static void judge(struct run *r, const struct fim_job *j)
{
	if (j->has_cur && (j->cur.flags & FIM_F_UNSTABLE))
		report(r, FIM_UNSTABLE, j, 0);
	else if (j->err)
		report(r, FIM_UNREADABLE, j, 0);
	if (!r->merging)
		return;
	if (j->has_old && !j->has_cur && !j->err)
		report(r, FIM_REMOVED, j, 0);
	else if (!j->has_old && j->has_cur)
		report(r, FIM_ADDED, j, 0);
	else if (j->has_old && j->has_cur) {
		unsigned d = fim_diff(&j->old, &j->cur, fim_comparable(&j->old, &j->cur));
		if (d)
			report(r, FIM_CHANGED, j, d);
	}
}

static void emit(struct run *r, struct fim_job *j)
{
	if (j->has_cur) {
		r->s->entries++;
		if (j->reread && (j->cur.flags & FIM_F_HASHED)) {
			r->s->hashed_files++;
			r->s->hashed_bytes += j->cur.size;
		}
	}
	judge(r, j);
	if (r->writing && j->has_cur && !r->failed && fimdb_put(r->db, j->path, &j->cur, r->err))
		r->failed = true;
}

static void release(struct fim_job *j)
{
	free(j->path);
	fim_record_free(&j->old);
	fim_record_free(&j->cur);
	fim_dir_put(j->dir);
}

static void consume(struct run *r, bool wait)
{
	size_t n = fim_pool_ready(r->pool, wait);

	for (size_t i = 0; i < n; i++) {
		struct fim_job *j = fim_pool_head(r->pool);
		emit(r, j);
		release(j);
		fim_pool_pop(r->pool);
	}
	if (n)
		fim_progress_tick(&r->prog, r->s, false);
}

static struct fim_job *next_slot(struct run *r)
{
	struct fim_job *j;

	while (!(j = fim_pool_slot(r->pool)))
		consume(r, true);
	return j;
}

/* ---- the walk, merged with the old baseline ----------------------------- */

static int advance_old(struct run *r)
{
	int rc = fimdb_scan_next(r->db, &r->old_path, &r->old_rec, r->err);

	r->old_left = rc == 1;
	if (rc < 0)
		r->failed = true;
	return rc < 0 ? -1 : 0;
}

/* The baseline row in hand becomes a job that no worker needs to see. */
static int push_removed(struct run *r)
{
	struct fim_job *j = next_slot(r);

	j->path = xstrdup(r->old_path.p);
	j->set = fim_plan_match(&r->plan, j->path);	/* NULL: no longer watched */
	j->old = r->old_rec;
	j->has_old = true;
	memset(&r->old_rec, 0, sizeof(r->old_rec));
	fim_pool_push(r->pool);
	return advance_old(r);
}

static int on_visit(void *u, const char *path, struct fim_dir *dir, const char *name,
		    unsigned char dtype, const struct vg_fim_set *set)
{
	struct run *r = u;
	size_t plen = strlen(path);
	struct fim_job *j;

	if (r->failed)
		return -1;
	/* The baseline being written is not part of what it describes. */
	if (r->root.live && !strncmp(path, r->dbfile, strlen(r->dbfile)))
		return 0;
	while (r->old_left && fim_path_cmp(r->old_path.p, r->old_path.len, path, plen) < 0)
		if (push_removed(r))
			return -1;
	j = next_slot(r);
	j->path = xstrdup(path);
	j->name = strcmp(name, ".") ? strrchr(j->path, '/') + 1 : ".";
	j->dir = dir;
	dir->refs++;
	j->dtype = dtype;
	j->set = set;
	if (r->old_left && !strcmp(r->old_path.p, path)) {
		j->old = r->old_rec;
		j->has_old = true;
		memset(&r->old_rec, 0, sizeof(r->old_rec));
		if (advance_old(r))
			return -1;
	}
	fim_pool_push(r->pool);
	if (++r->since_consume >= CONSUME_EVERY) {
		r->since_consume = 0;
		consume(r, false);
	}
	return 0;
}

static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1)
		return path[0] == '/' && path[1];
	return !strncmp(path, dir, n) && path[n] == '/';
}

/* A baseline row under a directory that could not be listed: unknown, not
 * removed. update keeps it as it was; check passes over it. */
static int carry_old(struct run *r)
{
	struct fim_job *j;

	if (!r->writing)
		return advance_old(r);
	j = next_slot(r);
	j->path = xstrdup(r->old_path.p);
	j->set = fim_plan_match(&r->plan, j->path);
	j->old = r->old_rec;
	j->has_old = true;
	j->cur = r->old_rec;
	j->cur.target = j->cur.selinux = NULL;
	j->cur.cap = NULL;
	fim_record_copy_content(&j->cur, &j->old);
	j->has_cur = true;
	memset(&r->old_rec, 0, sizeof(r->old_rec));
	fim_pool_push(r->pool);
	return advance_old(r);
}

static void on_error(void *u, const char *path, int errnum)
{
	struct run *r = u;
	struct fim_job j = {.path = (char *)path, .err = errnum};

	/* Reported at once, a little ahead of its place in the order. */
	log_warn("fim: %s: %s", path, strerror(errnum));
	report(r, FIM_UNREADABLE, &j, 0);
	if (r->failed)
		return;
	while (r->old_left && fim_path_cmp(r->old_path.p, r->old_path.len, path,
					   strlen(path)) < 0)
		if (push_removed(r))
			return;
	while (r->old_left && below(r->old_path.p, path))
		if (carry_old(r))
			return;
}

static void on_throttle(void *u)
{
	struct run *r = u;

	while (r->open_dirs >= MAX_OPEN_DIRS && fim_pool_pending(r->pool))
		consume(r, true);
}

static int walk_all(struct run *r)
{
	struct fim_walk_ops ops = {
		.visit = on_visit,
		.error = on_error,
		.throttle = on_throttle,
		.u = r,
		.max_open = MAX_OPEN_DIRS,
		.open_count = &r->open_dirs,
	};
	int rc = fim_walk(&r->plan, &r->root, &ops, r->err);

	while (rc == 0 && r->old_left)
		rc = push_removed(r);
	while (fim_pool_pending(r->pool))
		consume(r, true);
	fim_progress_tick(&r->prog, r->s, true);
	fim_progress_clear(&r->prog);
	return rc || r->failed ? -1 : 0;
}

/* ---- setting up --------------------------------------------------------- */

static int mkdir_p(const char *dir, struct vg_err *err)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1; rc == 0; s++) {
		char c = *s;
		if (c != '/' && c != 0)
			continue;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = vg_errf(err, "%s: %s", p, strerror(errno));
		*s = c;
		if (c == 0)
			break;
	}
	free(p);
	return rc;
}

char *fim_real_root(const char *root)
{
	char buf[PATH_MAX];

	return xstrdup(realpath(root, buf) ? buf : root);
}

static uint64_t meta_u64(struct fim_db *db, const char *key)
{
	char *v = fimdb_meta(db, key);
	long long n = 0;

	if (v && !str_to_ll(v, &n))
		n = 0;
	free(v);
	return n > 0 ? (uint64_t)n : 0;
}

/* A baseline made of one root is never compared with another. */
static int check_root_meta(struct run *r, const char *real)
{
	char *was = fimdb_meta(r->db, "root");
	int rc = 0;

	if (was && strcmp(was, real))
		rc = vg_errf(r->err, "%s: the baseline is of %s, not %s", r->dbfile, was, real);
	free(was);
	return rc;
}

static int open_db(struct run *r, const struct vg_fim_config *cfg, const char *real)
{
	const struct fim_opts *o = r->o;
	const char *dir = o->state_dir ? o->state_dir : cfg->state_dir ? cfg->state_dir :
			  VG_STATE_DIR;

	r->dbfile = fimdb_path(dir, real);
	if (r->writing && mkdir_p(dir, r->err))
		return -1;
	if (fimdb_open(&r->db, r->dbfile, r->writing, r->err) || check_root_meta(r, real))
		return -1;
	r->prog.total_entries = meta_u64(r->db, "entries");
	r->prog.total_bytes = meta_u64(r->db, "bytes");
	if (r->writing && fimdb_begin(r->db, r->err))
		return -1;
	if (r->merging && fimdb_scan_start(r->db, r->err))
		return -1;
	return r->merging ? advance_old(r) : 0;
}

static int commit(struct run *r, const char *real)
{
	char entries[32], bytes[32], when[32];
	time_t t = time(NULL);
	struct tm tm;
	const char *meta[] = {"root", real, "entries", entries, "bytes", bytes,
			      "created", when, "version", VIGIL_VERSION, NULL, NULL};

	snprintf(entries, sizeof(entries), "%llu", (unsigned long long)r->s->entries);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)r->s->hashed_bytes);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return fimdb_commit(r->db, meta, r->err);
}

static void run_fini(struct run *r)
{
	fim_pool_stop(r->pool);
	fimdb_close(r->db);		/* rolls back what was not committed */
	fim_plan_free(&r->plan);
	root_fini(&r->root);
	fim_record_free(&r->old_rec);
	buf_free(&r->old_path);
	free(r->dbfile);
}

static int run_setup(struct run *r, const struct vg_fim_config *cfg, const char *real)
{
	struct fim_pool_opts po = {
		.threads = r->o->threads ? r->o->threads : cfg->hash_threads,
		.full = r->o->full || r->o->op == FIM_INIT,
		.hook = r->o->on_read,
		.hook_u = r->o->hook_u,
	};

	if (root_init(&r->root, r->o->root, r->err) ||
	    fim_plan_build(&r->plan, cfg, &r->root, r->err) || open_db(r, cfg, real))
		return -1;
	r->prog.by_bytes = po.full;
	return fim_pool_start(&r->pool, &po, r->err);
}

int fim_run(const struct vg_fim_config *cfg, const struct fim_opts *o, struct fim_summary *s,
	    struct vg_err *err)
{
	struct run r = {.o = o, .s = s, .err = err};
	char *real = fim_real_root(o->root);
	double t0 = now_mono();
	int rc = -1;

	memset(s, 0, sizeof(*s));
	r.writing = o->op != FIM_CHECK;
	r.merging = o->op != FIM_INIT;
	r.prog.on = o->progress;
	if (gethostname(r.hostname, sizeof(r.hostname) - 1) < 0)
		r.hostname[0] = 0;
	if (run_setup(&r, cfg, real))
		goto out;
	r.rep = (struct fim_report){.out = o->out, .json = o->json, .op = op_name(o->op),
				    .root = real, .db = r.dbfile, .hostname = r.hostname};
	fim_report_begin(&r.rep);
	if (walk_all(&r) || (r.writing && commit(&r, real))) {
		fim_report_end(&r.rep, s);	/* what was found stays readable */
		goto out;
	}
	s->requeued = fim_pool_requeued(r.pool);
	s->seconds = now_mono() - t0;
	fim_report_end(&r.rep, s);
	rc = s->added || s->removed || s->changed || s->unstable || s->unreadable ? 1 : 0;
	if (o->op == FIM_INIT)
		rc = 0;
out:
	run_fini(&r);
	free(real);
	return rc;
}
