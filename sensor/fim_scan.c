/*
 * fim_scan.c: which paths are monitored (the plan), and the walk over them.
 *
 * The walk starts at the checked root's "/" and is one depth-first pass
 * with sorted children, so entries come out in fim_path_cmp order, which is
 * the baseline table's key order. Directories that only lead to configured
 * roots (/, /usr, /home/alice) are passed through without being listed or
 * recorded: their children are taken from the plan. A root inside another
 * root (/usr/lib/systemd/system in /usr/lib) switches to its own set for
 * its subtree, so the deepest root decides a path's attributes and
 * exclusions.
 *
 * Every step below the root is an openat/fstatat of one name relative to an
 * open directory, with O_NOFOLLOW: nothing can lead the walk out of --root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fim_impl.h"

#define FIM_MAX_DEPTH 256
#define DENTS_BUF (64u << 10)

int fim_path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++) {
		unsigned char ca = a[i] == '/' ? 0 : (unsigned char)a[i];
		unsigned char cb = b[i] == '/' ? 0 : (unsigned char)b[i];
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen;
}

/* Path order; for one path in two sets, the set configured first (sets
 * are one array, so their addresses are in configuration order). */
static int root_cmp(const void *a, const void *b)
{
	const struct fim_rootdef *x = a, *y = b;
	int c = fim_path_cmp(x->path, strlen(x->path), y->path, strlen(y->path));

	if (c)
		return c;
	return x->set < y->set ? -1 : x->set > y->set;
}

/* "//usr/./lib/" -> "/usr/lib"; ".." was refused by the configuration. */
static char *normalize(const char *path)
{
	struct vg_buf b = {0};

	for (const char *p = path; *p;) {
		p += strspn(p, "/");
		size_t len = strcspn(p, "/");
		if (len && !(len == 1 && p[0] == '.')) {
			buf_put(&b, "/", 1);
			buf_put(&b, p, len);
		}
		p += len;
	}
	if (!b.p)
		buf_puts(&b, "/");
	return b.p;
}

/* The path of an open descriptor inside the root, or NULL if /proc cannot
 * tell (then the configured spelling is kept). */
static char *inside_path(const struct vg_root *r, int fd)
{
	char link[64], host[PATH_MAX], rootp[PATH_MAX];
	ssize_t n, m;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, host, sizeof(host) - 1);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", r->fd);
	m = readlink(link, rootp, sizeof(rootp) - 1);
	if (n <= 0 || m <= 0)
		return NULL;
	host[n] = rootp[m] = 0;
	if (!strcmp(rootp, "/"))
		return xstrdup(host);
	if (strncmp(host, rootp, (size_t)m) || (host[m] && host[m] != '/'))
		return NULL;
	return xstrdup(host[m] ? host + m : "/");
}

/* Symlinks in a root's parent are resolved (/lib/systemd/system is
 * /usr/lib/systemd/system on a merged-/usr system); the root itself is
 * recorded as what it is, a symlink included, as a file would be. */
static char *resolve_root(const struct vg_root *r, const char *path)
{
	char *norm = normalize(path), *slash, *parent, *res;
	int fd;

	if (!strcmp(norm, "/"))
		return norm;
	slash = strrchr(norm, '/');
	parent = slash == norm ? xstrdup("/") : xstrndup(norm, (size_t)(slash - norm));
	fd = root_open(r, parent, O_PATH | O_DIRECTORY);
	free(parent);
	if (fd < 0)
		return norm;		/* absent: the walk will find nothing there */
	res = inside_path(r, fd);
	close(fd);
	if (!res)
		return norm;
	char *full = xasprintf("%s%s", strcmp(res, "/") ? res : "", slash);
	free(res);
	free(norm);
	return full;
}

static void plan_add(struct fim_plan *p, size_t *cap, char *path, const struct vg_fim_set *s)
{
	if (p->n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		p->roots = xrealloc(p->roots, *cap * sizeof(*p->roots));
	}
	p->roots[p->n].path = path;
	p->roots[p->n].set = s;
	p->n++;
}

static void plan_expand(struct fim_plan *p, size_t *cap, const struct vg_root *r,
			const struct vg_fim_set *s, const char *pattern)
{
	struct vg_strv found = {0};

	if (!strpbrk(pattern, "*?[")) {
		plan_add(p, cap, resolve_root(r, pattern), s);
		return;
	}
	if (root_glob(r, pattern, &found) < 0)
		log_warn("fim: %s: %s", pattern, strerror(errno));
	for (size_t i = 0; i < found.n; i++)
		plan_add(p, cap, resolve_root(r, found.v[i]), s);
	strv_free(&found);
}

/* Sorted; of two equal roots the first configured wins. */
static void plan_dedup(struct fim_plan *p)
{
	size_t out = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (out && !strcmp(p->roots[out - 1].path, p->roots[i].path)) {
			if (p->roots[out - 1].set != p->roots[i].set)
				log_info("fim: %s is in sets %s and %s; %s applies",
					 p->roots[i].path, p->roots[out - 1].set->name,
					 p->roots[i].set->name, p->roots[out - 1].set->name);
			free(p->roots[i].path);
			continue;
		}
		p->roots[out++] = p->roots[i];
	}
	p->n = out;
}

int fim_plan_build(struct fim_plan *p, const struct vg_fim_config *cfg, const struct vg_root *r,
		   struct vg_err *err)
{
	size_t cap = 0;

	memset(p, 0, sizeof(*p));
	if (!cfg->nsets)
		return vg_errf(err, "fim: no path sets configured");
	for (size_t i = 0; i < cfg->nsets; i++)
		for (size_t j = 0; j < cfg->sets[i].paths.n; j++)
			plan_expand(p, &cap, r, &cfg->sets[i], cfg->sets[i].paths.v[j]);
	if (p->n > 1)
		qsort(p->roots, p->n, sizeof(*p->roots), root_cmp);
	plan_dedup(p);
	return 0;
}

void fim_plan_free(struct fim_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->roots[i].path);
	free(p->roots);
	memset(p, 0, sizeof(*p));
}

/* First root not ordered before path. */
static size_t plan_lower(const struct fim_plan *p, const char *path, size_t len)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *rp = p->roots[mid].path;
		if (fim_path_cmp(rp, strlen(rp), path, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct fim_rootdef *plan_exact(const struct fim_plan *p, const char *path,
					    size_t len)
{
	size_t i = plan_lower(p, path, len);

	if (i < p->n && strlen(p->roots[i].path) == len && !memcmp(p->roots[i].path, path, len))
		return &p->roots[i];
	return NULL;
}

static bool is_below(const char *child, const char *dir, size_t dlen)
{
	if (dlen == 1)				/* "/" */
		return child[0] == '/' && child[1];
	return !strncmp(child, dir, dlen) && child[dlen] == '/';
}

/* Is there a root strictly below path? Those sort right after it. */
static bool plan_has_below(const struct fim_plan *p, const char *path, size_t len)
{
	size_t i = plan_lower(p, path, len);

	if (i < p->n && !strcmp(p->roots[i].path, path))
		i++;
	return i < p->n && is_below(p->roots[i].path, path, len);
}

static bool excluded(const struct vg_fim_set *s, const char *path)
{
	const char *name = strrchr(path, '/');

	name = name ? name + 1 : path;
	for (size_t i = 0; i < s->exclude.n; i++) {
		const char *pat = s->exclude.v[i];
		if (fnmatch(pat, strchr(pat, '/') ? path : name, 0) == 0)
			return true;
	}
	return false;
}

const struct vg_fim_set *fim_plan_match(const struct fim_plan *p, const char *path)
{
	const struct fim_rootdef *best = NULL;
	size_t blen = 0;
	char *q;

	for (size_t i = 0; i < p->n; i++) {
		size_t len = strlen(p->roots[i].path);
		if ((!strcmp(p->roots[i].path, path) || is_below(path, p->roots[i].path, len)) &&
		    (!best || len > blen)) {
			best = &p->roots[i];
			blen = len;
		}
	}
	if (!best)
		return NULL;
	/* An excluded directory excludes what is below it. */
	q = xstrdup(path);
	for (char *s = q + (blen == 1 ? 0 : blen); s && *s;) {
		char *next = strchr(s + 1, '/');
		if (next)
			*next = 0;
		bool ex = excluded(best->set, q);
		if (next)
			*next = '/';
		if (ex) {
			free(q);
			return NULL;
		}
		s = next;
	}
	free(q);
	return best->set;
}

/* ---- the walk ---------------------------------------------------------- */

struct dent {
	size_t off;			/* into the names arena */
	unsigned char type;		/* DT_*, DT_UNKNOWN from the plan */
};

struct names {
	struct vg_buf arena;
	struct dent *v;
	size_t n, cap;
};

struct walker {
	const struct fim_plan *p;
	const struct fim_walk_ops *ops;
	struct vg_buf path;		/* the directory being walked; "" for "/" */
	char *dents;
};

void fim_dir_put(struct fim_dir *d)
{
	if (!d || --d->refs)
		return;
	close(d->fd);
	(*d->open_count)--;
	free(d);
}

static struct fim_dir *dir_new(struct walker *w, int fd)
{
	struct fim_dir *d = xmalloc(sizeof(*d));

	d->fd = fd;
	d->refs = 1;
	d->open_count = w->ops->open_count;
	(*d->open_count)++;
	return d;
}

static void names_add(struct names *nm, const char *name, size_t len, unsigned char type)
{
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		nm->v = xrealloc(nm->v, nm->cap * sizeof(*nm->v));
	}
	nm->v[nm->n].off = nm->arena.len;
	nm->v[nm->n].type = type;
	nm->n++;
	buf_put(&nm->arena, name, len);
	buf_put(&nm->arena, "", 1);
}

static void names_free(struct names *nm)
{
	buf_free(&nm->arena);
	free(nm->v);
}

static int dent_cmp(const void *a, const void *b, void *arena)
{
	const struct dent *x = a, *y = b;

	return strcmp((char *)arena + x->off, (char *)arena + y->off);
}

static int list_dir(struct walker *w, int fd, struct names *nm)
{
	for (;;) {
		ssize_t n = getdents64(fd, w->dents, DENTS_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(w->dents + off);
			const char *s = de->d_name;
			off += de->d_reclen;
			if (s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2])))
				continue;
			names_add(nm, s, strlen(s), de->d_type);
		}
	}
	if (nm->n > 1)
		qsort_r(nm->v, nm->n, sizeof(*nm->v), dent_cmp, nm->arena.p);
	return 0;
}

/* A pass-through directory: its children are the next components of the
 * roots below it, which the sorted plan yields in order. */
static void list_transit(struct walker *w, struct names *nm)
{
	const char *dir = w->path.len ? w->path.p : "/";
	size_t dlen = w->path.len ? w->path.len : 1, skip = w->path.len + 1;
	const char *last = NULL;
	size_t lastlen = 0;

	for (size_t i = plan_lower(w->p, dir, dlen); i < w->p->n; i++) {
		const char *rp = w->p->roots[i].path;
		if (!strcmp(rp, dir))
			continue;
		if (!is_below(rp, dir, dlen))
			break;
		const char *c = rp + skip;
		size_t len = strcspn(c, "/");
		if (last && len == lastlen && !memcmp(c, last, len))
			continue;
		names_add(nm, c, len, DT_UNKNOWN);
		last = c;
		lastlen = len;
	}
}

static unsigned char probe_type(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return DT_UNKNOWN;
	return S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
}

static struct fim_dir *open_child(struct walker *w, struct fim_dir *parent, const char *name)
{
	int fd;

	if (*w->ops->open_count >= w->ops->max_open && w->ops->throttle)
		w->ops->throttle(w->ops->u);
	fd = openat(parent->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* Gone or replaced since it was listed: the entry shows that. */
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && w->ops->error)
			w->ops->error(w->ops->u, w->path.p, errno);
		return NULL;
	}
	return dir_new(w, fd);
}

static int walk_dir(struct walker *w, struct fim_dir *dir, const struct vg_fim_set *set,
		    int depth);

static int walk_child(struct walker *w, struct fim_dir *dir, const char *name,
		      unsigned char type, const struct vg_fim_set *set, int depth)
{
	const struct fim_rootdef *root = plan_exact(w->p, w->path.p, w->path.len);
	const struct vg_fim_set *cset = root ? root->set : set;
	bool below = plan_has_below(w->p, w->path.p, w->path.len);
	struct fim_dir *child;
	int rc;

	if (cset && !root && excluded(cset, w->path.p))
		cset = NULL;
	if (!cset && !below)
		return 0;
	if (cset && (rc = w->ops->visit(w->ops->u, w->path.p, dir, name, type, cset)))
		return rc;
	if (type == DT_UNKNOWN)
		type = probe_type(dir->fd, name);
	if (type != DT_DIR)
		return 0;
	if (depth >= FIM_MAX_DEPTH) {
		if (w->ops->error)
			w->ops->error(w->ops->u, w->path.p, ELOOP);
		return 0;
	}
	if (!(child = open_child(w, dir, name)))
		return 0;
	rc = walk_dir(w, child, cset, depth + 1);
	fim_dir_put(child);
	return rc;
}

static int walk_dir(struct walker *w, struct fim_dir *dir, const struct vg_fim_set *set,
		    int depth)
{
	struct names nm = {0};
	size_t base = w->path.len;
	int rc = 0;

	if (!set)
		list_transit(w, &nm);
	else if (list_dir(w, dir->fd, &nm) < 0 && w->ops->error)
		w->ops->error(w->ops->u, base ? w->path.p : "/", errno);
	for (size_t i = 0; i < nm.n && rc == 0; i++) {
		const char *name = nm.arena.p + nm.v[i].off;
		w->path.len = base;
		buf_put(&w->path, "/", 1);
		buf_puts(&w->path, name);
		rc = walk_child(w, dir, name, nm.v[i].type, set, depth);
	}
	w->path.len = base;
	if (w->path.p)
		w->path.p[base] = 0;
	names_free(&nm);
	return rc;
}

int fim_walk(const struct fim_plan *p, const struct vg_root *r, const struct fim_walk_ops *ops,
	     struct vg_err *err)
{
	struct walker w = {.p = p, .ops = ops};
	const struct vg_fim_set *top = NULL;
	struct fim_dir *dir;
	int fd, rc = 0;

	fd = root_open(r, "/", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return vg_errf(err, "%s: %s", r->dir, strerror(errno));
	w.dents = xmalloc(DENTS_BUF);
	dir = dir_new(&w, fd);
	buf_puts(&w.path, "");
	if (p->n && !strcmp(p->roots[0].path, "/")) {
		top = p->roots[0].set;
		rc = ops->visit(ops->u, "/", dir, ".", DT_DIR, top);
	}
	if (rc == 0)
		rc = walk_dir(&w, dir, top, 0);
	fim_dir_put(dir);
	buf_free(&w.path);
	free(w.dents);
	return rc;
}
