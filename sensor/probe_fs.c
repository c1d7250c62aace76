/*
 * probe_fs.c: the "fs_search" rule: world-writable files and directories,
 * files without a known owner or group, setuid and setgid programs.
 *
 * Walking a whole file system is the most expensive thing a run does, so
 * every fs_search rule of a run shares one walk.  Each rule registers in
 * ctx->walk from the prepare hook; the first eval walks the union of their
 * paths once, recording for every match which rules it counts against
 * (after each rule's own exclude and allow), and every eval then reads its
 * own share.
 *
 * The walk never follows a symlink and never leaves the root: it starts
 * from root_open() and goes on only with openat(O_NOFOLLOW) and
 * fstatat(AT_SYMLINK_NOFOLLOW) on single names relative to the directory
 * descriptors it holds.  Pseudo and network file systems are pruned by
 * statfs type where a mount is crossed.  Two or more threads share the
 * work: a thread that runs dry makes the others hand over subdirectories
 * (as open descriptors, so nothing is resolved by path twice).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "vigil.h"

#define FS_MAX_MATCHES	10000		/* kept per kind (and VG_EV_MAX per rule) */
#define FS_MAX_ERRORS	100		/* walk errors kept for evidence */
#ifndef FS_MAX_THREADS
#define FS_MAX_THREADS	4
#endif
#define FS_MAX_DEPTH	512		/* directories held open per thread */
#define FS_BATCH	64		/* rules per walk: bits of a uint64_t */

/* Not all of these are in every linux/magic.h. */
#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC		0x62656570
#endif
#ifndef FUSECTL_SUPER_MAGIC
#define FUSECTL_SUPER_MAGIC	0x65735543
#endif
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC		0x19800202
#endif
#ifndef RPC_PIPEFS_MAGIC
#define RPC_PIPEFS_MAGIC	0x67596969
#endif
#ifndef NFSD_MAGIC
#define NFSD_MAGIC		0x6e667364
#endif

enum fs_kind { K_WW, K_WWDIR, K_UNOWNED, K_UNGROUPED, K_SUID, K_SGID, K_N };

static const char *const kind_names[] = {
	[K_WW] = "world_writable",
	[K_WWDIR] = "world_writable_dirs_no_sticky",
	[K_UNOWNED] = "unowned",
	[K_UNGROUPED] = "ungrouped",
	[K_SUID] = "suid",
	[K_SGID] = "sgid",
	[K_N] = NULL,
};

#define KBIT(k)		(1u << (k))
#define K_ACCOUNTS	(KBIT(K_UNOWNED) | KBIT(K_UNGROUPED))
/* Kinds that need the stat of files other than directories. */
#define K_FILES		(KBIT(K_WW) | KBIT(K_SUID) | KBIT(K_SGID) | K_ACCOUNTS)

struct fs_arg {
	int find;			/* enum fs_kind */
	struct vg_strv paths;		/* normalized; [/] by default */
	struct vg_strv exclude;		/* fnmatch on the absolute path; prunes */
	struct vg_strv allow;		/* expected matches: paths or globs */
};

struct fs_req {
	const struct fs_arg *arg;	/* the rule, owned by the baseline */
	size_t batch;			/* which walk of FS_BATCH rules */
	size_t count;			/* matches counted against it */
	size_t kept;			/* of them, kept in found[] */
	size_t allowed;			/* matches its allow list took */
	size_t nerr;			/* walk errors inside its paths */
	char *err;			/* why it cannot be judged at all */
};

struct fs_match {
	char *path;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	size_t batch;
	uint64_t reqs;			/* the rules of the batch it counts for */
};

struct fs_list {
	struct fs_match *v;
	size_t n, cap;
	size_t dropped;			/* counted, not kept */
};

struct fs_error {
	char *msg;
	size_t batch;
	uint64_t reqs;
};

struct vg_fswalk {
	struct fs_req *req;
	size_t nreq, capreq;
	bool done;
	struct fs_list found[K_N];
	struct fs_error err[FS_MAX_ERRORS];
	size_t nerr;			/* kept */
	size_t nentries;		/* directory entries read */
	size_t nfiles, ndirs;		/* of them, stat()ed */
	double secs;
	int nthreads;
};

/* ---- the rule's arguments ---------------------------------------------- */

static const struct yp_field fs_fields[] = {
	{"find", YP_ENUM, offsetof(struct fs_arg, find), true, kind_names},
	{"paths", YP_STRV, offsetof(struct fs_arg, paths), false, NULL},
	{"exclude", YP_STRV, offsetof(struct fs_arg, exclude), false, NULL},
	{"allow", YP_STRV, offsetof(struct fs_arg, allow), false, NULL},
	{0},
};

static void fs_init(void *p)
{
	struct fs_arg *arg = p;

	arg->find = -1;
}

/* "/usr//bin/" is "/usr/bin"; "." and ".." are refused, since the walk
 * compares paths as strings. */
static bool normalize_path(char *s)
{
	char *out = s, *in = s;

	if (*s != '/')
		return false;
	while (*in) {
		const char *comp;
		size_t len;

		while (*in == '/')
			in++;
		if (!*in)
			break;
		comp = in;
		len = strcspn(in, "/");
		if ((len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.'))
			return false;
		*out++ = '/';
		memmove(out, comp, len);
		out += len;
		in = (char *)comp + len;
	}
	if (out == s)
		*out++ = '/';
	*out = 0;
	return strlen(s) < PATH_MAX;
}

static int fs_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct fs_arg *arg = p;

	if (arg->paths.n == 0)
		strv_push(&arg->paths, "/");
	for (size_t i = 0; i < arg->paths.n; i++) {
		if (!normalize_path(arg->paths.v[i])) {
			vg_errf(err, "%s:%d: fs_search: path '%s' is not absolute and plain",
				y->file, yline(map), arg->paths.v[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < arg->exclude.n; i++) {
		if (arg->exclude.v[i][0] != '/' && arg->exclude.v[i][0] != '*') {
			vg_errf(err, "%s:%d: fs_search: exclude '%s' is not an absolute path glob",
				y->file, yline(map), arg->exclude.v[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < arg->allow.n; i++) {
		if (arg->allow.v[i][0] != '/') {
			vg_errf(err, "%s:%d: fs_search: allow '%s' is not an absolute path",
				y->file, yline(map), arg->allow.v[i]);
			return -1;
		}
	}
	return 0;
}

/* ---- what a rule wants ------------------------------------------------- */

/* p is q or below it. */
static bool path_under(const char *p, const char *q)
{
	size_t n = strlen(q);

	if (n == 1)			/* "/" */
		return true;
	return strncmp(p, q, n) == 0 && (p[n] == 0 || p[n] == '/');
}

static bool excluded(const struct fs_arg *a, const char *path)
{
	for (size_t i = 0; i < a->exclude.n; i++)
		if (fnmatch(a->exclude.v[i], path, 0) == 0)
			return true;
	return false;
}

/* allow entries are paths or globs whose "*" stays within one name. */
static bool allowed(const struct fs_arg *a, const char *path)
{
	for (size_t i = 0; i < a->allow.n; i++)
		if (fnmatch(a->allow.v[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/* ---- the walk ---------------------------------------------------------- */

/* Which rules of a batch care about a directory, a bit each. */
struct scope {
	uint64_t live;			/* want it and its entries */
	uint64_t reach;			/* have a path of their own below it */
};

struct task {
	int fd;				/* an open directory, owned by the task */
	char *path;
	struct scope sc;
	dev_t dev;
	int depth;
};

/* Shared by the threads of one walk. */
struct walker {
	struct vg_fswalk *w;
	struct vg_ctx *ctx;
	const struct fs_req *req;	/* this batch's rules */
	size_t nreq, batch;
	unsigned kinds;			/* KBIT()s some rule wants */
	int max_depth;

	pthread_mutex_t lock;		/* everything below, and w's results */
	pthread_cond_t cond;
	struct task *queue;
	size_t qn, qcap;
	int nthreads, idle;
	bool finished;
	atomic_bool hungry;		/* idle > qn: hand work over */
};

struct worker {
	struct walker *wk;
	size_t nentries, nfiles, ndirs;
	uid_t last_uid;			/* one-entry lookup caches */
	gid_t last_gid;
	int uid_known, gid_known;	/* -1 not cached, 0 no name, 1 name */
	char path[PATH_MAX];
};

/* Something the rules in mask cannot be judged without. */
static void add_error(struct walker *wk, uint64_t mask, const char *path, const char *why)
{
	struct vg_fswalk *w = wk->w;

	pthread_mutex_lock(&wk->lock);
	for (size_t i = 0; i < wk->nreq; i++)
		if (mask & (1ull << i))
			w->req[wk->batch * FS_BATCH + i].nerr++;
	if (mask && w->nerr < FS_MAX_ERRORS) {
		w->err[w->nerr].msg = xasprintf("%s: %s", path, why);
		w->err[w->nerr].batch = wk->batch;
		w->err[w->nerr].reqs = mask;
		w->nerr++;
	}
	pthread_mutex_unlock(&wk->lock);
}

/* Keeps a match while there is room, and past that while one of its rules
 * has fewer than a full page of evidence. */
static void list_add(struct walker *wk, struct fs_list *l, const char *path,
		     const struct stat *st, uint64_t reqs)
{
	struct fs_req *req = &wk->w->req[wk->batch * FS_BATCH];
	bool keep = l->n < FS_MAX_MATCHES;

	for (size_t i = 0; !keep && i < wk->nreq; i++)
		keep = (reqs & (1ull << i)) && req[i].kept < VG_EV_MAX;
	if (!keep) {
		l->dropped++;
		return;
	}
	for (size_t i = 0; i < wk->nreq; i++)
		if (reqs & (1ull << i))
			req[i].kept++;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = (struct fs_match){xstrdup(path), st->st_mode, st->st_uid, st->st_gid,
					 wk->batch, reqs};
}

/* A candidate of some kinds: count it against each rule of the batch that
 * looks for that kind here and neither excludes nor allows it. */
static void record(struct walker *wk, uint64_t mask, const char *path, const struct stat *st,
		   unsigned hits, bool is_dir)
{
	uint64_t per_kind[K_N] = {0}, allow = 0, any;
	struct vg_fswalk *w = wk->w;

	for (size_t i = 0; i < wk->nreq; i++) {
		const struct fs_req *r = &wk->req[i];

		if (!(mask & (1ull << i)) || !(hits & KBIT(r->arg->find)) || r->err)
			continue;
		/* A directory's own mask already went through exclude. */
		if (!is_dir && excluded(r->arg, path))
			continue;
		if (allowed(r->arg, path))
			allow |= 1ull << i;
		else
			per_kind[r->arg->find] |= 1ull << i;
	}
	any = allow;
	for (int k = 0; k < K_N; k++)
		any |= per_kind[k];
	if (!any)
		return;
	pthread_mutex_lock(&wk->lock);
	for (size_t i = 0; i < wk->nreq; i++)
		if (allow & (1ull << i))
			w->req[wk->batch * FS_BATCH + i].allowed++;
	for (int k = 0; k < K_N; k++) {
		if (!per_kind[k])
			continue;
		for (size_t i = 0; i < wk->nreq; i++)
			if (per_kind[k] & (1ull << i))
				w->req[wk->batch * FS_BATCH + i].count++;
		list_add(wk, &w->found[k], path, st, per_kind[k]);
	}
	pthread_mutex_unlock(&wk->lock);
}

static bool has_user(struct worker *wo, uid_t uid)
{
	if (wo->uid_known < 0 || wo->last_uid != uid) {
		wo->last_uid = uid;
		wo->uid_known = accounts_user_name(wo->wk->ctx, uid) != NULL;
	}
	return wo->uid_known;
}

static bool has_group(struct worker *wo, gid_t gid)
{
	if (wo->gid_known < 0 || wo->last_gid != gid) {
		wo->last_gid = gid;
		wo->gid_known = accounts_group_name(wo->wk->ctx, gid) != NULL;
	}
	return wo->gid_known;
}

/* Which kinds an entry is, among those some rule looks for. */
static void classify(struct worker *wo, uint64_t mask, const char *path, const struct stat *st)
{
	unsigned want = wo->wk->kinds, hits = 0;
	mode_t m = st->st_mode;

	if (!mask || S_ISLNK(m))
		return;
	if (S_ISREG(m)) {
		if (m & S_IWOTH)
			hits |= KBIT(K_WW);
		if (m & S_ISUID)
			hits |= KBIT(K_SUID);
		if (m & S_ISGID)
			hits |= KBIT(K_SGID);
	} else if (S_ISDIR(m) && (m & S_IWOTH) && !(m & S_ISVTX)) {
		hits |= KBIT(K_WWDIR);
	}
	if ((want & KBIT(K_UNOWNED)) && !has_user(wo, st->st_uid))
		hits |= KBIT(K_UNOWNED);
	if ((want & KBIT(K_UNGROUPED)) && !has_group(wo, st->st_gid))
		hits |= KBIT(K_UNGROUPED);
	if (hits & want)
		record(wo->wk, mask, path, st, hits & want, S_ISDIR(m));
}

/* The rules that care about directory PATH, given those that wanted its
 * parent: a rule wants it when its parent was wanted or it is one of the
 * rule's own paths, and the rule does not exclude it; a rule with a path
 * further down needs the walk to go through even when nothing here is
 * wanted. */
static struct scope dir_scope(const struct walker *wk, const char *path, uint64_t parent)
{
	size_t plen = strlen(path);
	struct scope sc = {0, 0};

	for (size_t i = 0; i < wk->nreq; i++) {
		const struct fs_arg *a = wk->req[i].arg;
		bool live = parent & (1ull << i);

		if (wk->req[i].err)
			continue;
		for (size_t k = 0; k < a->paths.n; k++) {
			const char *q = a->paths.v[k];

			if (!live && strcmp(q, path) == 0)
				live = true;
			else if (path_under(q, path) && strlen(q) > plen)
				sc.reach |= 1ull << i;
		}
		if (live && !excluded(a, path))
			sc.live |= 1ull << i;
	}
	return sc;
}

/* The rules that want a file in a directory of scope sc: those that want
 * the directory, and those that name the file itself as a path (exclude
 * and allow are for record() to apply). */
static uint64_t file_mask(const struct walker *wk, const char *path, struct scope sc)
{
	uint64_t m = sc.live;

	for (size_t i = 0; sc.reach && i < wk->nreq; i++) {
		const struct fs_arg *a = wk->req[i].arg;

		if (!(sc.reach & (1ull << i)))
			continue;
		for (size_t k = 0; k < a->paths.n; k++)
			if (strcmp(a->paths.v[k], path) == 0)
				m |= 1ull << i;
	}
	return m;
}

static bool tmpfs_pruned_at(const char *path)
{
	return path_under(path, "/run") || path_under(path, "/dev") ||
	       path_under(path, "/sys/fs/cgroup");
}

/* Kernel interfaces and network file systems are not files the system
 * keeps, and walking them is slow or never ends. */
static bool pruned_fs(int fd, const char *path)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	switch ((unsigned long)sf.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case DEVPTS_SUPER_MAGIC:
	case SECURITYFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case BPF_FS_MAGIC:
	case PSTOREFS_MAGIC:
	case CONFIGFS_MAGIC:
	case FUSECTL_SUPER_MAGIC:
	case MQUEUE_MAGIC:
	case HUGETLBFS_MAGIC:
	case AUTOFS_SUPER_MAGIC:
	case BINFMTFS_MAGIC:
	case EFIVARFS_MAGIC:
	case SELINUX_MAGIC:
	case SMACK_MAGIC:
	case NSFS_MAGIC:
	case RPC_PIPEFS_MAGIC:
	case NFSD_MAGIC:
	case NFS_SUPER_MAGIC:
	case SMB_SUPER_MAGIC:
	case CIFS_SUPER_MAGIC:
	case SMB2_SUPER_MAGIC:
	case FUSE_SUPER_MAGIC:
	case CEPH_SUPER_MAGIC:
	case AFS_SUPER_MAGIC:
	case AFS_FS_MAGIC:
	case CODA_SUPER_MAGIC:
	case V9FS_MAGIC:
		return true;
	case TMPFS_MAGIC:		/* devtmpfs is one of these two */
	case RAMFS_MAGIC:
		return tmpfs_pruned_at(path);
	default:
		return false;
	}
}

static void set_hungry(struct walker *wk)
{
	atomic_store(&wk->hungry, (size_t)wk->idle > wk->qn);
}

static void queue_push(struct walker *wk, const struct task *t)
{
	if (wk->qn == wk->qcap) {
		wk->qcap = wk->qcap ? wk->qcap * 2 : 16;
		wk->queue = xrealloc(wk->queue, wk->qcap * sizeof(*wk->queue));
	}
	wk->queue[wk->qn++] = *t;
	set_hungry(wk);
	pthread_cond_signal(&wk->cond);
}

/* Hands a directory to an idle thread; false: walk it yourself. */
static bool share(struct walker *wk, int fd, const char *path, struct scope sc, dev_t dev,
		  int depth)
{
	bool given = false;

	if (!atomic_load_explicit(&wk->hungry, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&wk->lock);
	if ((size_t)wk->idle > wk->qn) {
		struct task t = {fd, xstrdup(path), sc, dev, depth};

		queue_push(wk, &t);
		given = true;
	}
	pthread_mutex_unlock(&wk->lock);
	return given;
}

static bool next_task(struct walker *wk, struct task *t)
{
	bool got = false;

	pthread_mutex_lock(&wk->lock);
	while (wk->qn == 0 && !wk->finished) {
		wk->idle++;
		if (wk->idle == wk->nthreads) {
			/* Nobody is walking, so nobody can add work: done. */
			wk->finished = true;
			pthread_cond_broadcast(&wk->cond);
		} else {
			set_hungry(wk);
			pthread_cond_wait(&wk->cond, &wk->lock);
		}
		wk->idle--;
	}
	if (wk->qn) {
		*t = wk->queue[--wk->qn];
		got = true;
	}
	set_hungry(wk);
	pthread_mutex_unlock(&wk->lock);
	return got;
}

static void walk_dir(struct worker *wo, int fd, size_t plen, struct scope sc, dev_t dev,
		     int depth);

/* A subdirectory, whose path is in wo->path: prune it, or classify it and
 * go in. */
static void enter_dir(struct worker *wo, int dfd, const char *name, size_t plen,
		      struct scope parent, dev_t pdev, int depth)
{
	struct walker *wk = wo->wk;
	struct scope sc = dir_scope(wk, wo->path, parent.live);
	uint64_t concerned = sc.live | sc.reach;
	struct stat st;
	int fd;

	if (!concerned)
		return;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		/* Gone, or swapped for a symlink or a file since readdir. */
		if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR)
			add_error(wk, concerned, wo->path, strerror(errno));
		return;
	}
	/* The directory opened, not the one readdir saw, is what counts. */
	if (fstat(fd, &st) < 0) {
		add_error(wk, concerned, wo->path, strerror(errno));
		close(fd);
		return;
	}
	if (st.st_dev != pdev && pruned_fs(fd, wo->path)) {
		close(fd);
		return;
	}
	wo->ndirs++;
	classify(wo, sc.live, wo->path, &st);
	if (depth + 1 > wk->max_depth) {
		char why[64];

		snprintf(why, sizeof(why), "too deep to walk (over %d levels)", wk->max_depth);
		add_error(wk, concerned, wo->path, why);
		close(fd);
		return;
	}
	if (!share(wk, fd, wo->path, sc, st.st_dev, depth + 1))
		walk_dir(wo, fd, plen, sc, st.st_dev, depth + 1);
}

/* Entries other than directories.  Symlinks are never looked at; devices,
 * FIFOs and sockets only when their owner matters. */
static void visit_entry(struct worker *wo, int dfd, const char *name, unsigned char type,
			struct scope sc)
{
	unsigned want = wo->wk->kinds;
	uint64_t mask;
	struct stat st;

	if (type == DT_LNK || !(sc.live | sc.reach))
		return;
	if (type == DT_REG ? !(want & K_FILES) : !(want & K_ACCOUNTS))
		return;
	mask = file_mask(wo->wk, wo->path, sc);
	if (!mask)
		return;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0) {
		if (errno != ENOENT)
			add_error(wo->wk, mask, wo->path, strerror(errno));
		return;
	}
	wo->nfiles++;
	classify(wo, mask, wo->path, &st);
}

/* d_type is not filled in by every file system. */
static unsigned char entry_type(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type;
	if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
		return DT_UNKNOWN;
	return S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK
		: S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
}

/* Walks the open directory fd, whose path is wo->path[0..plen), and
 * closes it. */
static void walk_dir(struct worker *wo, int fd, size_t plen, struct scope sc, dev_t dev,
		     int depth)
{
	uint64_t concerned = sc.live | sc.reach;
	struct dirent *de;
	DIR *d = fdopendir(fd);

	if (!d) {
		add_error(wo->wk, concerned, wo->path, strerror(errno));
		close(fd);
		return;
	}
	for (;;) {
		size_t nlen, sep = plen > 1;
		unsigned char type;

		errno = 0;
		if (!(de = readdir(d)))
			break;
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		wo->nentries++;
		nlen = strlen(de->d_name);
		if (plen + sep + nlen >= sizeof(wo->path)) {
			add_error(wo->wk, concerned, wo->path, "a name in it is too long to walk");
			continue;
		}
		if (sep)
			wo->path[plen] = '/';
		memcpy(wo->path + plen + sep, de->d_name, nlen + 1);
		type = entry_type(dirfd(d), de);
		if (type == DT_DIR)
			enter_dir(wo, dirfd(d), de->d_name, plen + sep + nlen, sc, dev, depth);
		else
			visit_entry(wo, dirfd(d), de->d_name, type, sc);
		wo->path[plen] = 0;
	}
	if (errno)
		add_error(wo->wk, concerned, wo->path, strerror(errno));
	closedir(d);
}

static void *worker_main(void *p)
{
	struct worker *wo = p;
	struct task t;

	while (next_task(wo->wk, &t)) {
		size_t plen = strlen(t.path);

		memcpy(wo->path, t.path, plen + 1);
		free(t.path);
		walk_dir(wo, t.fd, plen, t.sc, t.dev, t.depth);
	}
	return NULL;
}

/* The smallest set of paths that covers every rule's paths. */
static void start_paths(const struct walker *wk, struct vg_strv *out)
{
	struct vg_strv all = {0};

	for (size_t i = 0; i < wk->nreq; i++)
		for (size_t k = 0; !wk->req[i].err && k < wk->req[i].arg->paths.n; k++)
			strv_push(&all, wk->req[i].arg->paths.v[k]);
	/* Sorted, a covering path comes before what it covers, though not
	 * always just before: "/usr", "/usr-x", "/usr/bin". */
	strv_sort(&all);
	for (size_t i = 0; i < all.n; i++) {
		bool covered = false;

		for (size_t k = 0; k < out->n && !covered; k++)
			covered = path_under(all.v[i], out->v[k]);
		if (!covered)
			strv_push(out, all.v[i]);
	}
	strv_free(&all);
}

/* Queues a start directory, or classifies it when it is not one.  A path
 * that does not exist has nothing to find. */
static void add_start(struct walker *wk, struct worker *wo, const char *path)
{
	struct scope sc = dir_scope(wk, path, 0);
	struct stat st;
	int fd;

	if (!(sc.live | sc.reach))
		return;			/* excluded by the only rules that name it */
	fd = root_open(&wk->ctx->root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			return;
		if ((e == ENOTDIR || e == ELOOP) &&
		    root_stat(&wk->ctx->root, path, &st, false) == 0) {
			wo->nfiles++;
			classify(wo, sc.live, path, &st);	/* symlinks are skipped */
			return;
		}
		add_error(wk, sc.live, path, strerror(e));
		return;
	}
	if (fstat(fd, &st) < 0) {
		add_error(wk, sc.live, path, strerror(errno));
		close(fd);
		return;
	}
	if (pruned_fs(fd, path)) {
		close(fd);
		return;
	}
	wo->ndirs++;
	classify(wo, sc.live, path, &st);
	struct task t = {fd, xstrdup(path), sc, st.st_dev, 0};
	queue_push(wk, &t);
}

/* Directories held open at once: one per level per thread, plus queued
 * hand-overs, within the descriptor limit. */
static int depth_limit(int nthreads)
{
	struct rlimit rl;
	long avail;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return FS_MAX_DEPTH;
	avail = ((long)rl.rlim_cur - 64) / (2 * nthreads);
	if (avail < 16)
		avail = 16;
	return avail < FS_MAX_DEPTH ? (int)avail : FS_MAX_DEPTH;
}

static int thread_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > FS_MAX_THREADS ? FS_MAX_THREADS : (int)n;
}

static void walk_batch(struct vg_fswalk *w, struct vg_ctx *ctx, size_t batch)
{
	struct walker wk = {.w = w, .ctx = ctx, .batch = batch};
	struct worker wo[FS_MAX_THREADS];
	pthread_t tid[FS_MAX_THREADS];
	struct vg_strv starts = {0};
	int started = 1;

	wk.req = &w->req[batch * FS_BATCH];
	wk.nreq = w->nreq - batch * FS_BATCH < FS_BATCH ? w->nreq - batch * FS_BATCH : FS_BATCH;
	for (size_t i = 0; i < wk.nreq; i++)
		if (!wk.req[i].err)
			wk.kinds |= KBIT(wk.req[i].arg->find);
	wk.nthreads = thread_count();
	wk.max_depth = depth_limit(wk.nthreads);
	pthread_mutex_init(&wk.lock, NULL);
	pthread_cond_init(&wk.cond, NULL);
	memset(wo, 0, sizeof(wo));
	for (int i = 0; i < wk.nthreads; i++) {
		wo[i].wk = &wk;
		wo[i].uid_known = wo[i].gid_known = -1;
	}

	start_paths(&wk, &starts);
	for (size_t i = 0; i < starts.n; i++)
		add_start(&wk, &wo[0], starts.v[i]);
	strv_free(&starts);

	for (int i = 1; i < wk.nthreads; i++, started++) {
		if (pthread_create(&tid[i], NULL, worker_main, &wo[i]) != 0) {
			log_warn("fs_search: walking with %d threads, not %d", started,
				 wk.nthreads);
			break;
		}
	}
	/* Threads that never started must not be waited for as idle. */
	pthread_mutex_lock(&wk.lock);
	wk.nthreads = started;
	pthread_mutex_unlock(&wk.lock);
	worker_main(&wo[0]);
	for (int i = 1; i < started; i++)
		pthread_join(tid[i], NULL);

	for (int i = 0; i < started; i++) {
		w->nentries += wo[i].nentries;
		w->nfiles += wo[i].nfiles;
		w->ndirs += wo[i].ndirs;
	}
	w->nthreads = started;
	free(wk.queue);
	pthread_cond_destroy(&wk.cond);
	pthread_mutex_destroy(&wk.lock);
}

static int cmp_match(const void *x, const void *y)
{
	const struct fs_match *a = x, *b = y;

	return strcmp(a->path, b->path);
}

static void walk_reset(struct vg_fswalk *w)
{
	for (int k = 0; k < K_N; k++) {
		for (size_t i = 0; i < w->found[k].n; i++)
			free(w->found[k].v[i].path);
		free(w->found[k].v);
		memset(&w->found[k], 0, sizeof(w->found[k]));
	}
	for (size_t i = 0; i < w->nerr; i++)
		free(w->err[i].msg);
	w->nerr = 0;
	for (size_t i = 0; i < w->nreq; i++) {
		w->req[i].count = w->req[i].kept = w->req[i].allowed = w->req[i].nerr = 0;
		free(w->req[i].err);
		w->req[i].err = NULL;
	}
	w->nentries = w->nfiles = w->ndirs = 0;
	w->done = false;
}

/* Owner and group checks mean nothing if the root's account files could
 * not be read: every file would look unowned. */
static void check_accounts(struct vg_fswalk *w, struct vg_ctx *ctx)
{
	struct vg_err err = {{0}};
	bool need = false;

	for (size_t i = 0; i < w->nreq; i++)
		need |= (KBIT(w->req[i].arg->find) & K_ACCOUNTS) != 0;
	if (!need || accounts_load(ctx, &err) == 0)
		return;
	for (size_t i = 0; i < w->nreq; i++)
		if (KBIT(w->req[i].arg->find) & K_ACCOUNTS)
			w->req[i].err = xstrdup(err.msg);
}

static void walk_run(struct vg_fswalk *w, struct vg_ctx *ctx)
{
	struct timespec t0, t1;

	walk_reset(w);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_accounts(w, ctx);
	for (size_t b = 0; b * FS_BATCH < w->nreq; b++)
		walk_batch(w, ctx, b);
	for (int k = 0; k < K_N; k++)
		if (w->found[k].n)
			qsort(w->found[k].v, w->found[k].n, sizeof(*w->found[k].v), cmp_match);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	w->done = true;
	log_info("fs_search: %zu entries (%zu directories, %zu files stat()ed) in %.2fs, "
		 "%d threads", w->nentries, w->ndirs, w->nfiles, w->secs, w->nthreads);
	for (int k = 0; k < K_N; k++)
		if (w->found[k].dropped)
			log_info("fs_search: %s: %zu matches counted but not kept", kind_names[k],
				 w->found[k].dropped);
}

/* ---- the cache and the rule -------------------------------------------- */

static struct vg_fswalk *walk_get(struct vg_ctx *ctx)
{
	if (!ctx->walk)
		ctx->walk = xcalloc(1, sizeof(*ctx->walk));
	return ctx->walk;
}

static struct fs_req *req_find(struct vg_fswalk *w, const struct fs_arg *arg)
{
	for (size_t i = 0; i < w->nreq; i++)
		if (w->req[i].arg == arg)
			return &w->req[i];
	return NULL;
}

/* A rule that joins after the walk (prepare was not called for it) makes
 * the next eval walk again, for everyone. */
static struct fs_req *req_add(struct vg_fswalk *w, const struct fs_arg *arg)
{
	if (w->nreq == w->capreq) {
		w->capreq = w->capreq ? w->capreq * 2 : 16;
		w->req = xrealloc(w->req, w->capreq * sizeof(*w->req));
	}
	w->req[w->nreq] = (struct fs_req){.arg = arg, .batch = w->nreq / FS_BATCH};
	w->done = false;
	return &w->req[w->nreq++];
}

void fswalk_free(struct vg_fswalk *w)
{
	if (!w)
		return;
	walk_reset(w);
	free(w->req);
	free(w);
}

static void fs_prepare(const void *p, struct vg_ctx *ctx)
{
	struct vg_fswalk *w = walk_get(ctx);

	if (!req_find(w, p))
		req_add(w, p);
}

static void match_evidence(const struct fs_match *m, enum fs_kind k, struct vg_ev *ev)
{
	unsigned mode = (unsigned)(m->mode & 07777);

	switch (k) {
	case K_WW:
		ev_add(ev, "%s: world-writable file (mode %04o)", m->path, mode);
		break;
	case K_WWDIR:
		ev_add(ev, "%s: world-writable directory without the sticky bit (mode %04o)",
		       m->path, mode);
		break;
	case K_UNOWNED:
		ev_add(ev, "%s: uid %lu has no user", m->path, (unsigned long)m->uid);
		break;
	case K_UNGROUPED:
		ev_add(ev, "%s: gid %lu has no group", m->path, (unsigned long)m->gid);
		break;
	case K_SUID:
		ev_add(ev, "%s: setuid, uid %lu (mode %04o)", m->path, (unsigned long)m->uid, mode);
		break;
	case K_SGID:
		ev_add(ev, "%s: setgid, gid %lu (mode %04o)", m->path, (unsigned long)m->gid, mode);
		break;
	case K_N:
		break;
	}
}

static void paths_text(const struct fs_arg *a, struct vg_buf *b)
{
	for (size_t i = 0; i < a->paths.n; i++)
		buf_printf(b, "%s%s", i ? ", " : "", a->paths.v[i]);
}

static enum vg_status fs_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct fs_arg *arg = p;
	struct vg_fswalk *w = walk_get(ctx);
	const struct fs_req *r;
	const struct fs_list *l = &w->found[arg->find];
	size_t idx, shown = 0;
	struct vg_buf where = {0};

	if (!req_find(w, arg))
		req_add(w, arg);
	if (!w->done)
		walk_run(w, ctx);
	r = req_find(w, arg);
	idx = (size_t)(r - w->req) % FS_BATCH;
	if (r->err) {
		ev_add(ev, "%s", r->err);
		return VG_ERROR;
	}
	if (r->count) {
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].batch == r->batch && (l->v[i].reqs & (1ull << idx))) {
				match_evidence(&l->v[i], arg->find, ev);
				shown++;
			}
		}
		/* The rest were counted but not kept. */
		if (r->count > shown)
			ev->total += r->count - shown;
		return VG_FAILED;
	}
	if (r->nerr) {
		for (size_t i = 0; i < w->nerr; i++) {
			if (w->err[i].batch == r->batch && (w->err[i].reqs & (1ull << idx))) {
				ev_add(ev, "%s", w->err[i].msg);
				shown++;
			}
		}
		if (r->nerr > shown)
			ev->total += r->nerr - shown;
		return VG_ERROR;
	}
	paths_text(arg, &where);
	if (r->allowed)
		ev_add(ev, "no %s match under %s but the %zu allowed", kind_names[arg->find],
		       where.p, r->allowed);
	else
		ev_add(ev, "no %s match under %s", kind_names[arg->find], where.p);
	ev_add(ev, "%zu entries in %zu directories walked", w->nentries, w->ndirs);
	buf_free(&where);
	return VG_PASSED;
}

const struct vg_probe probe_fs_search = {
	.name = "fs_search",
	.argsize = sizeof(struct fs_arg),
	.fields = fs_fields,
	.init = fs_init,
	.check = fs_check,
	.prepare = fs_prepare,
	.eval = fs_eval,
};
