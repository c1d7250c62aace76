/*
 * rescan.c: what a walk of the watched set can tell, and the source that
 * walks it on a timer when neither eBPF nor fanotify can run.
 *
 * A snapshot is one sorted array of fixed-size entries; every path (and
 * every symlink's target) lives in one arena, so a million files cost about
 * 64 bytes each plus their names. Entries are produced already sorted: each
 * directory's names are sorted and the walk is depth-first, and paths are
 * ordered with '/' below every other byte (path_cmp), under which a
 * depth-first walk is exactly the sorted order. Two snapshots are compared
 * by one merge-walk.
 *
 * The walk never follows a symlink (fstatat with AT_SYMLINK_NOFOLLOW, every
 * directory opened relative to its parent with O_NOFOLLOW), so a symlink
 * loop is just two symlinks; it does not cross into other filesystems; it
 * holds one descriptor per level and goes at most SNAP_MAX_DEPTH levels
 * deep. What it cannot keep (past max_entries, too deep, a path longer than
 * PATH_MAX, an unreadable directory) is counted and said in one warning per
 * snapshot, never dropped silently.
 *
 * What a difference means (snapshot_diff), per path present in either:
 *   only in new		EV_CREATE; EV_MKDIR for a directory, EV_SYMLINK
 *				for a symlink (path = target text, path2 = name);
 *				mode, fuid, fgid: its permission bits and owner
 *   only in old		EV_DELETE; EV_RMDIR for a directory
 *   other inode, device or file type
 *				EV_DELETE/EV_RMDIR then the creation above:
 *				the name now denotes another file
 *   permission bits (07777)	EV_CHMOD, mode = the new bits
 *   owner or group		EV_CHOWN, fuid/fgid = the new ids, (uint32_t)-1
 *				for the one that did not change
 *   regular file: size or mtime, or ctime alone
 *				EV_MODIFY. "ctime alone" is a ctime change with
 *				mode, owner and link count unchanged: what a write
 *				with its mtime put back (touch -r) or an xattr
 *				change leaves, which a walk cannot tell apart; a
 *				ctime change explained by chmod, chown or a link
 *				count change is not a modify.
 * One path can give several (EV_CHMOD, EV_CHOWN, EV_MODIFY in that order).
 * Events go out in path order with rescan set, the actor unknown
 * ((uint32_t)-1, empty comm) and time_ns the time of the comparison.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "watch.h"

#define SNAP_MAX_DEPTH 128		/* levels below a watched path, one fd each */
#define RESCAN_MAX_ENTRIES 1000000
#define UNKNOWN_ID ((uint32_t)-1)

struct snap_ent {
	uint32_t path;			/* arena offset of the path */
	uint32_t target;		/* symlinks: arena offset of the target; 0: none */
	uint32_t mode, uid, gid, nlink;
	uint64_t size, ino, dev;
	int64_t mtime, ctime;		/* ns since the epoch */
};

struct vg_snapshot {
	struct snap_ent *ent;
	size_t n, cap;
	char *arena;			/* NUL-terminated strings; offset 0 is "" */
	size_t alen, acap;
	size_t max;			/* entries kept at most */
	size_t over;			/* seen beyond max, or beyond the arena */
	size_t too_deep, too_long, errors;
	char first_error[256];
};

/* ---- paths ------------------------------------------------------------- */

/* Path order: byte order, except that '/' sorts below every other byte, so
 * "a/z" < "a-b" and a directory's subtree directly follows it. */
static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned ca = *a == '/' ? 1u : (unsigned char)*a + (*a ? 1u : 0u);
		unsigned cb = *b == '/' ? 1u : (unsigned char)*b + (*b ? 1u : 0u);

		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (!ca)
			return 0;
	}
}

/* Is path root itself or below it, on a component boundary? */
static bool path_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return path[0] == '/';
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* A copy without trailing slashes ("/" stays "/"). */
static char *path_norm(const char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	return xstrndup(p, n);
}

static int path_cmp_v(const void *a, const void *b)
{
	return path_cmp(*(char *const *)a, *(char *const *)b);
}

/* The roots to walk: normalized, in path order, none inside another. */
static void roots_prepare(const struct vg_strv *paths, struct vg_strv *out)
{
	struct vg_strv all = {0};

	for (size_t i = 0; paths && i < paths->n; i++)
		strv_push_owned(&all, path_norm(paths->v[i]));
	if (all.n > 1)
		qsort(all.v, all.n, sizeof(*all.v), path_cmp_v);
	for (size_t i = 0; i < all.n; i++) {
		if (out->n && path_under(all.v[i], out->v[out->n - 1]))
			continue;
		strv_push(out, all.v[i]);
	}
	strv_free(&all);
}

/* ---- building a snapshot ----------------------------------------------- */

static struct vg_snapshot *snap_new(size_t max)
{
	struct vg_snapshot *s = xcalloc(1, sizeof(*s));

	s->max = max;
	s->acap = 4096;
	s->arena = xmalloc(s->acap);
	s->arena[0] = '\0';
	s->alen = 1;
	return s;
}

/* Copies a string into the arena; 0 if the arena is at its 4 GiB limit. */
static uint32_t arena_put(struct vg_snapshot *s, const char *str, size_t n)
{
	size_t off = s->alen;

	if (off + n + 1 > UINT32_MAX)
		return 0;
	if (off + n + 1 > s->acap) {
		while (off + n + 1 > s->acap)
			s->acap *= 2;
		s->arena = xrealloc(s->arena, s->acap);
	}
	memcpy(s->arena + off, str, n);
	s->arena[off + n] = '\0';
	s->alen += n + 1;
	return (uint32_t)off;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

struct walker {
	struct vg_snapshot *s;
	char path[PATH_MAX];
	size_t len;
	dev_t dev;			/* of the root being walked */
	unsigned depth;
};

static void walk_error(struct walker *w, const char *what, int e)
{
	struct vg_snapshot *s = w->s;

	if (s->errors++ == 0)
		snprintf(s->first_error, sizeof(s->first_error), "%s %.200s: %s", what, w->path,
			 strerror(e));
}

/* Keeps one entry for w->path; name is its name relative to dfd. */
static void record(struct walker *w, int dfd, const char *name, const struct stat *st)
{
	struct vg_snapshot *s = w->s;
	struct snap_ent e = {0};
	char target[PATH_MAX];

	if (s->n >= s->max) {
		s->over++;
		return;
	}
	if (!(e.path = arena_put(s, w->path, w->len))) {
		s->over++;
		return;
	}
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dfd, name, target, sizeof(target));
		if (n < 0)
			walk_error(w, "readlink", errno);
		else
			e.target = arena_put(s, target, (size_t)n);
	}
	e.mode = st->st_mode;
	e.uid = st->st_uid;
	e.gid = st->st_gid;
	e.nlink = st->st_nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)st->st_nlink;
	e.size = (uint64_t)st->st_size;
	e.ino = st->st_ino;
	e.dev = st->st_dev;
	e.mtime = ts_ns(&st->st_mtim);
	e.ctime = ts_ns(&st->st_ctim);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->ent = xrealloc(s->ent, s->cap * sizeof(*s->ent));
	}
	s->ent[s->n++] = e;
}

/* The names in a directory, sorted; the stream stays open for the caller. */
static int read_names(DIR *d, struct vg_strv *names)
{
	struct dirent *de;

	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strv_push(names, de->d_name);
		errno = 0;
	}
	if (errno)
		return -1;
	strv_sort(names);
	return 0;
}

/* Opens the directory name (in dfd) if it is still the one st describes. */
static int open_subdir(struct walker *w, int dfd, const char *name, const struct stat *st)
{
	struct stat now;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			walk_error(w, "open", errno);
		return -1;
	}
	/* Replaced between the stat and the open: its successor is seen next time. */
	if (fstat(fd, &now) || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

static void walk_dir(struct walker *w, int fd);

/* Records dfd/name (already appended to w->path) and descends into it. */
static void walk_entry(struct walker *w, int dfd, const char *name)
{
	struct stat st;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno != ENOENT)
			walk_error(w, "stat", errno);
		return;
	}
	record(w, dfd, name, &st);
	if (!S_ISDIR(st.st_mode) || st.st_dev != w->dev)
		return;
	if (w->depth >= SNAP_MAX_DEPTH) {
		w->s->too_deep++;
		return;
	}
	if ((fd = open_subdir(w, dfd, name, &st)) < 0)
		return;
	w->depth++;
	walk_dir(w, fd);
	w->depth--;
}

/* Walks the directory open on fd (w->path names it); closes fd. */
static void walk_dir(struct walker *w, int fd)
{
	struct vg_strv names = {0};
	size_t len = w->len;
	DIR *d = fdopendir(fd);

	if (!d) {
		walk_error(w, "opendir", errno);
		close(fd);
		return;
	}
	if (read_names(d, &names))
		walk_error(w, "readdir", errno);
	for (size_t i = 0; i < names.n; i++) {
		size_t n = strlen(names.v[i]);
		size_t sep = len > 1 ? 1 : 0;	/* the root "/" has its slash */

		if (len + sep + n >= sizeof(w->path)) {
			w->s->too_long++;
			continue;
		}
		if (sep)
			w->path[len] = '/';
		memcpy(w->path + len + sep, names.v[i], n + 1);
		w->len = len + sep + n;
		walk_entry(w, dirfd(d), names.v[i]);
	}
	w->len = len;
	w->path[len] = '\0';
	strv_free(&names);
	closedir(d);
}

static void walk_root(struct walker *w, const char *root)
{
	struct stat st;

	w->len = strlen(root);
	if (w->len >= sizeof(w->path)) {
		w->s->too_long++;
		return;
	}
	memcpy(w->path, root, w->len + 1);
	if (fstatat(AT_FDCWD, root, &st, AT_SYMLINK_NOFOLLOW)) {
		walk_error(w, "stat", errno);
		return;
	}
	w->dev = st.st_dev;
	w->depth = 0;
	walk_entry(w, AT_FDCWD, root);
}

static void snap_report(const struct vg_snapshot *s)
{
	if (s->over)
		log_warn("rescan: %zu entries beyond the limit of %zu were not kept", s->over,
			 s->max);
	if (s->too_deep)
		log_warn("rescan: %zu directories deeper than %d levels were not walked",
			 s->too_deep, SNAP_MAX_DEPTH);
	if (s->too_long)
		log_warn("rescan: %zu paths longer than %d bytes were skipped", s->too_long,
			 PATH_MAX - 1);
	if (s->errors)
		log_warn("rescan: %zu errors, the first: %s", s->errors, s->first_error);
}

struct vg_snapshot *snapshot_take(const struct vg_strv *paths, size_t max_entries)
{
	struct vg_snapshot *s = snap_new(max_entries);
	struct vg_strv roots = {0};
	struct walker *w = xcalloc(1, sizeof(*w));

	w->s = s;
	roots_prepare(paths, &roots);
	for (size_t i = 0; i < roots.n; i++)
		walk_root(w, roots.v[i]);
	strv_free(&roots);
	free(w);
	snap_report(s);
	return s;
}

size_t snapshot_size(const struct vg_snapshot *s)
{
	return s ? s->n : 0;
}

void snapshot_free(struct vg_snapshot *s)
{
	if (!s)
		return;
	free(s->ent);
	free(s->arena);
	free(s);
}

/* ---- comparing two snapshots ------------------------------------------- */

struct differ {
	vg_event_fn fn;
	void *u;
	uint64_t now;
};

static const char *ent_path(const struct vg_snapshot *s, const struct snap_ent *e)
{
	return s->arena + e->path;
}

static void diff_emit(const struct differ *d, enum ev_kind kind, const char *path,
		      const char *path2, uint32_t mode, uint32_t fuid, uint32_t fgid)
{
	struct vg_event ev = {
		.kind = kind,
		.time_ns = d->now,
		.pid = UNKNOWN_ID, .tgid = UNKNOWN_ID, .ppid = UNKNOWN_ID,
		.uid = UNKNOWN_ID, .gid = UNKNOWN_ID, .euid = UNKNOWN_ID, .auid = UNKNOWN_ID,
		.path = path,
		.path2 = path2,
		.mode = mode,
		.fuid = fuid,
		.fgid = fgid,
		.found_by = "rescan",
	};

	d->fn(d->u, &ev);
}

static void diff_created(const struct differ *d, const struct vg_snapshot *s,
			 const struct snap_ent *e)
{
	const char *path = ent_path(s, e);
	uint32_t perm = e->mode & 07777;

	if (S_ISDIR(e->mode))
		diff_emit(d, EV_MKDIR, path, NULL, perm, e->uid, e->gid);
	else if (S_ISLNK(e->mode))
		diff_emit(d, EV_SYMLINK, e->target ? s->arena + e->target : NULL, path, perm,
			  e->uid, e->gid);
	else
		diff_emit(d, EV_CREATE, path, NULL, perm, e->uid, e->gid);
}

static void diff_deleted(const struct differ *d, const struct vg_snapshot *s,
			 const struct snap_ent *e)
{
	diff_emit(d, S_ISDIR(e->mode) ? EV_RMDIR : EV_DELETE, ent_path(s, e), NULL,
		  e->mode & 07777, UNKNOWN_ID, UNKNOWN_ID);
}

/* See the table at the top for what each difference means. */
static void diff_changed(const struct differ *d, const struct vg_snapshot *os,
			 const struct snap_ent *o, const struct vg_snapshot *ns,
			 const struct snap_ent *n)
{
	const char *path = ent_path(ns, n);
	bool perm, owner, content, ctime_alone;

	if (o->ino != n->ino || o->dev != n->dev || (o->mode & S_IFMT) != (n->mode & S_IFMT)) {
		diff_deleted(d, os, o);
		diff_created(d, ns, n);
		return;
	}
	perm = (o->mode & 07777) != (n->mode & 07777);
	owner = o->uid != n->uid || o->gid != n->gid;
	if (perm)
		diff_emit(d, EV_CHMOD, path, NULL, n->mode & 07777, UNKNOWN_ID, UNKNOWN_ID);
	if (owner)
		diff_emit(d, EV_CHOWN, path, NULL, n->mode & 07777,
			  o->uid != n->uid ? n->uid : UNKNOWN_ID,
			  o->gid != n->gid ? n->gid : UNKNOWN_ID);
	if (!S_ISREG(n->mode))
		return;
	content = o->size != n->size || o->mtime != n->mtime;
	ctime_alone = o->ctime != n->ctime && !perm && !owner && o->nlink == n->nlink;
	if (content || ctime_alone)
		diff_emit(d, EV_MODIFY, path, NULL, n->mode & 07777, UNKNOWN_ID, UNKNOWN_ID);
}

static uint64_t realtime_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)ts_ns(&t);
}

/* One merge-walk of two arrays in path order; NULL is an empty snapshot. */
void snapshot_diff(const struct vg_snapshot *old, const struct vg_snapshot *new,
		   vg_event_fn fn, void *u)
{
	struct differ d = {fn, u, realtime_ns()};
	size_t i = 0, j = 0, on = old ? old->n : 0, nn = new ? new->n : 0;

	while (i < on || j < nn) {
		int c;

		if (i == on)
			c = 1;
		else if (j == nn)
			c = -1;
		else
			c = path_cmp(ent_path(old, &old->ent[i]), ent_path(new, &new->ent[j]));
		if (c < 0) {
			diff_deleted(&d, old, &old->ent[i++]);
		} else if (c > 0) {
			diff_created(&d, new, &new->ent[j++]);
		} else {
			diff_changed(&d, old, &old->ent[i], new, &new->ent[j]);
			i++;
			j++;
		}
	}
}

/* ---- the rescan source ------------------------------------------------- */

struct rescan {
	int tfd;			/* timerfd, CLOCK_MONOTONIC */
	struct vg_strv paths;		/* the watched set, normalized */
	struct vg_strv fresh;		/* added by watch() since the last scan */
	struct vg_snapshot *last;
	struct vg_counters c;
	vg_event_fn fn;			/* the caller's, during poll */
	void *u;
};

static int rescan_fd(void *impl)
{
	return ((struct rescan *)impl)->tfd;
}

static bool under_any(const struct vg_strv *roots, const char *path)
{
	for (size_t i = 0; path && i < roots->n; i++)
		if (path_under(path, roots->v[i]))
			return true;
	return false;
}

/* A path watch() just added is not news: its files were there before the
 * watch, so their creation is not reported by the first scan. */
static void rescan_deliver(void *u, const struct vg_event *ev)
{
	struct rescan *r = u;
	const char *name = ev->kind == EV_SYMLINK ? ev->path2 : ev->path;
	bool created = ev->kind == EV_CREATE || ev->kind == EV_MKDIR || ev->kind == EV_SYMLINK;

	if (created && under_any(&r->fresh, name))
		return;
	r->c.events++;
	r->fn(r->u, ev);
}

static int rescan_poll(void *impl, vg_event_fn fn, void *u)
{
	struct rescan *r = impl;
	struct vg_snapshot *now;
	uint64_t expirations, before = r->c.events;
	ssize_t n = read(r->tfd, &expirations, sizeof(expirations));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n != (ssize_t)sizeof(expirations)) {
		log_err("rescan: reading the timer: %s", n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	now = snapshot_take(&r->paths, RESCAN_MAX_ENTRIES);
	r->fn = fn;
	r->u = u;
	snapshot_diff(r->last, now, rescan_deliver, r);
	snapshot_free(r->last);
	r->last = now;
	strv_free(&r->fresh);
	log_debug("rescan: %zu entries, %llu events", snapshot_size(now),
		  (unsigned long long)(r->c.events - before));
	return (int)(r->c.events - before);
}

static int rescan_watch(void *impl, const char *path, struct vg_err *err)
{
	struct rescan *r = impl;
	struct stat st;
	char *p;

	if (!path || path[0] != '/')
		return vg_errf(err, "rescan: %s: not an absolute path", path ? path : "(null)");
	if (lstat(path, &st))
		return vg_errf(err, "rescan: %s: %s", path, strerror(errno));
	p = path_norm(path);
	if (under_any(&r->paths, p)) {
		free(p);
		return 0;
	}
	strv_push(&r->fresh, p);
	strv_push_owned(&r->paths, p);
	return 0;
}

static void rescan_counters(void *impl, struct vg_counters *c)
{
	*c = ((struct rescan *)impl)->c;
}

static void rescan_close(void *impl)
{
	struct rescan *r = impl;

	if (!r)
		return;
	if (r->tfd >= 0)
		close(r->tfd);
	snapshot_free(r->last);
	strv_free(&r->paths);
	strv_free(&r->fresh);
	free(r);
}

static int timer_open(int interval_s, struct vg_err *err)
{
	struct itimerspec its = {
		.it_interval = {.tv_sec = interval_s},
		.it_value = {.tv_sec = interval_s},
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return vg_errf(err, "rescan: timerfd_create: %s", strerror(errno));
	if (timerfd_settime(fd, 0, &its, NULL)) {
		vg_errf(err, "rescan: timerfd_settime: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int rescan_source_open(struct vg_source *s, const struct vg_source_opts *o, int interval_s,
		       struct vg_err *err)
{
	struct rescan *r;
	struct stat st;

	if (interval_s < 1)
		return vg_errf(err, "rescan: the interval must be at least 1 second, not %d",
			       interval_s);
	for (size_t i = 0; o->paths && i < o->paths->n; i++)
		if (lstat(o->paths->v[i], &st))
			return vg_errf(err, "rescan: %s: %s", o->paths->v[i], strerror(errno));
	r = xcalloc(1, sizeof(*r));
	if ((r->tfd = timer_open(interval_s, err)) < 0) {
		free(r);
		return -1;
	}
	for (size_t i = 0; o->paths && i < o->paths->n; i++)
		strv_push_owned(&r->paths, path_norm(o->paths->v[i]));
	r->last = snapshot_take(&r->paths, RESCAN_MAX_ENTRIES);
	log_info("rescan: %zu entries under %zu path(s), every %d s", snapshot_size(r->last),
		 r->paths.n, interval_s);
	*s = (struct vg_source){
		.mode = VG_MODE_RESCAN,
		.impl = r,
		.fd = rescan_fd,
		.poll = rescan_poll,
		.watch = rescan_watch,
		.counters = rescan_counters,
		.close = rescan_close,
	};
	return 0;
}
