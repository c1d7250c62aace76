/*
 * root.c: file access confined to the checked root.
 *
 * Every path a baseline names is resolved by the kernel with
 * openat2(RESOLVE_IN_ROOT) against a descriptor of the root, so an absolute
 * or ".." symlink inside an image (DIR/etc/passwd -> /etc/passwd) resolves
 * inside DIR, never to the host's own file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vigil.h"

#define GLOB_MAX_MATCHES 10000

static int sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = {
		.flags = (unsigned long long)flags,
		.resolve = resolve,
	};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int root_init(struct vg_root *r, const char *dir, struct vg_err *err)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->fd < 0)
		return vg_errf(err, "%s: %s", dir, strerror(errno));
	if (fstat(r->fd, &st) < 0) {
		close(r->fd);
		return vg_errf(err, "%s: %s", dir, strerror(errno));
	}
	/* The live host is the root the sensor itself runs in; any other
	 * directory is an image, even one that happens to hold a system. */
	struct stat self;
	r->live = stat("/", &self) == 0 && self.st_dev == st.st_dev && self.st_ino == st.st_ino;
	r->dir = xstrdup(dir);
	/* The fallback resolver can be forced, so tests cover it everywhere. */
	r->no_openat2 = getenv("VIGIL_NO_OPENAT2") != NULL;
	return 0;
}

void root_fini(struct vg_root *r)
{
	if (r->fd > 0)
		close(r->fd);
	free(r->dir);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/*
 * Without openat2 (kernels before 5.6, valgrind), the same resolution is
 * done here one component at a time: every step is an O_NOFOLLOW openat
 * relative to the directory reached so far, ".." never climbs above the
 * root, and an absolute symlink restarts from the root.
 */
#define MAX_SYMLINKS 40

struct walk {
	int fds[PATH_MAX / 2];		/* fds[0] is the root; fds[n-1] the current dir */
	size_t n;
};

static void walk_pop_all(struct walk *w)
{
	while (w->n > 1)
		close(w->fds[--w->n]);
}

static int walk_open(const struct vg_root *r, const char *path, int flags)
{
	struct walk w = {.n = 1};
	char *todo = xstrdup(path), *p = todo;
	int links = 0, fd = -1, saved = 0;

	w.fds[0] = r->fd;
	for (;;) {
		p += strspn(p, "/");
		size_t len = strcspn(p, "/");
		bool last = p[len + strspn(p + len, "/")] == 0;
		char name[NAME_MAX + 1];

		if (len == 0) {		/* the path names the directory reached */
			fd = openat(w.fds[w.n - 1], ".", flags | O_CLOEXEC);
			saved = errno;
			break;
		}
		if (len > NAME_MAX) {
			saved = ENAMETOOLONG;
			break;
		}
		memcpy(name, p, len);
		name[len] = 0;
		p += len;
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			if (name[1] && w.n > 1)
				close(w.fds[--w.n]);
			if (last) {
				fd = openat(w.fds[w.n - 1], ".", flags | O_CLOEXEC);
				saved = errno;
				break;
			}
			continue;
		}
		int step = openat(w.fds[w.n - 1], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (step < 0 || fstat(step, &st) < 0) {
			saved = errno;
			if (step >= 0)
				close(step);
			break;
		}
		if (S_ISLNK(st.st_mode) && (!last || !(flags & O_NOFOLLOW))) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(step, "", target, sizeof(target) - 1);
			close(step);
			if (n < 0 || ++links > MAX_SYMLINKS) {
				saved = n < 0 ? errno : ELOOP;
				break;
			}
			target[n] = 0;
			if (target[0] == '/')
				walk_pop_all(&w);
			char *rest = xasprintf("%s/%s", target, p);
			free(todo);
			todo = p = rest;
			continue;
		}
		if (last) {
			close(step);
			fd = openat(w.fds[w.n - 1], name, flags | O_NOFOLLOW | O_CLOEXEC);
			/* O_NOFOLLOW on a symlink the caller wants followed cannot
			 * happen here: it was resolved above. */
			saved = errno;
			break;
		}
		if (!S_ISDIR(st.st_mode) || w.n == sizeof(w.fds) / sizeof(w.fds[0])) {
			close(step);
			saved = S_ISDIR(st.st_mode) ? ENAMETOOLONG : ENOTDIR;
			break;
		}
		w.fds[w.n++] = step;
	}
	walk_pop_all(&w);
	free(todo);
	if (fd < 0)
		errno = saved;
	return fd;
}

int root_open(const struct vg_root *r, const char *path, int flags)
{
	int fd;

	if (path[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	if (!r->no_openat2) {
		/* Magic links (/proc/self/fd/N) could point anywhere. */
		fd = sys_openat2(r->fd, path, flags | O_CLOEXEC,
				 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (fd >= 0 || errno != ENOSYS)
			return fd;
	}
	return walk_open(r, path, flags);
}

int root_stat(const struct vg_root *r, const char *path, struct stat *st, bool follow)
{
	int fd = root_open(r, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
	int rc;

	if (fd < 0)
		return -1;
	rc = fstat(fd, st);
	close(fd);
	return rc;
}

ssize_t root_readlink(const struct vg_root *r, const char *path, char *buf, size_t size)
{
	int fd = root_open(r, path, O_PATH | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = readlinkat(fd, "", buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

int root_read(const struct vg_root *r, const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	size_t len = 0, cap = 4096;
	char *buf;
	int fd, saved;

	/* O_NONBLOCK: a FIFO planted in an image must not hang the run. */
	fd = root_open(r, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		close(fd);
		errno = saved;
		return -1;
	}
	buf = xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			if (cap > max + 1) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > max) {
		free(buf);
		errno = EFBIG;
		return -1;
	}
	buf[len] = 0;
	*out = buf;
	if (outlen)
		*outlen = len;
	return 0;
}

int root_lines(const struct vg_root *r, const char *path, size_t max, vg_line_fn fn, void *u)
{
	char *buf, *p, *nl;
	size_t len, lineno = 0;

	if (root_read(r, path, max, &buf, &len) < 0)
		return -1;
	for (p = buf; p < buf + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (!nl)
			nl = buf + len;
		*nl = 0;
		if (fn(u, p, ++lineno))
			break;
	}
	free(buf);
	return 0;
}

static bool has_wildcard(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

struct globber {
	const struct vg_root *r;
	struct vg_strv *out;
	char *comps[PATH_MAX / 2];
	size_t ncomps;
};

static void glob_step(struct globber *g, const char *prefix, size_t i);

static void glob_dir(struct globber *g, const char *prefix, size_t i)
{
	int fd = root_open(g->r, *prefix ? prefix : "/", O_RDONLY | O_DIRECTORY);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) && g->out->n < GLOB_MAX_MATCHES) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fnmatch(g->comps[i], de->d_name, FNM_PERIOD) != 0)
			continue;
		char *next = xasprintf("%s/%s", prefix, de->d_name);
		glob_step(g, next, i + 1);
		free(next);
	}
	closedir(d);
}

static void glob_step(struct globber *g, const char *prefix, size_t i)
{
	struct stat st;

	if (i == g->ncomps) {
		if (root_stat(g->r, *prefix ? prefix : "/", &st, false) == 0)
			strv_push(g->out, *prefix ? prefix : "/");
		return;
	}
	if (has_wildcard(g->comps[i])) {
		glob_dir(g, prefix, i);
		return;
	}
	char *next = xasprintf("%s/%s", prefix, g->comps[i]);
	glob_step(g, next, i + 1);
	free(next);
}

int root_glob(const struct vg_root *r, const char *pattern, struct vg_strv *out)
{
	struct globber g = {.r = r, .out = out};
	size_t before = out->n;
	char *copy, *save = NULL;

	if (pattern[0] != '/' || strlen(pattern) >= PATH_MAX) {
		errno = EINVAL;
		return -1;
	}
	copy = xstrdup(pattern);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		g.comps[g.ncomps++] = c;
	glob_step(&g, "", 0);
	free(copy);
	/* Sort only what this call added, so callers can gather several. */
	struct vg_strv added = {.v = out->v + before, .n = out->n - before};
	strv_sort(&added);
	return (int)(out->n - before);
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int cmp_base(const void *a, const void *b)
{
	return strcmp(base_of(*(char *const *)a), base_of(*(char *const *)b));
}

void root_dropins(const struct vg_root *r, const char *const *dirs, const char *suffix,
		  struct vg_strv *out)
{
	struct vg_strv all = {0};
	size_t before = out->n;

	for (size_t i = 0; dirs[i]; i++) {
		char *pat = xasprintf("%s/*%s", dirs[i], suffix);
		root_glob(r, pat, &all);
		free(pat);
	}
	for (size_t i = 0; i < all.n; i++) {
		bool hidden = false;
		for (size_t j = before; j < out->n && !hidden; j++)
			hidden = !strcmp(base_of(out->v[j]), base_of(all.v[i]));
		if (!hidden)
			strv_push(out, all.v[i]);
	}
	strv_free(&all);
	if (out->n - before > 1)
		qsort(out->v + before, out->n - before, sizeof(*out->v), cmp_base);
}
