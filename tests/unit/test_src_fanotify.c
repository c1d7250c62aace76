/* test_src_fanotify.c: the fanotify source, operation by operation, under a
 * watched temporary directory and an unwatched sibling on the same
 * filesystem (both in a private directory, so nothing else on the machine
 * makes events in the watched directory's parent). Every group runs twice:
 * with the best reporting the kernel has, and again forced to the pre-5.17
 * mode (VIGIL_FANOTIFY_LEGACY). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "watch.h"

#define ANY ((const char *)-1)		/* any path2 */
#define NOID ((uint32_t)-1)
#define WAIT_MS 3000			/* a missing event fails after this */

struct rec {
	enum ev_kind kind;
	char *path, *path2;
	uint32_t mode, fuid, fgid, tgid, uid;
	char comm[EV_COMM_LEN];
	bool rescan;
};

struct fx {
	char *base;			/* holds the two below */
	char *dir, *other;		/* watched; an unwatched sibling */
	struct vg_source s;
	struct rec *v;
	size_t n, cap;
	int settles;
	char comm[EV_COMM_LEN];
};

static bool legacy(void)
{
	return getenv("VIGIL_FANOTIFY_LEGACY") != NULL;
}

static void collect(void *u, const struct vg_event *ev)
{
	struct fx *x = u;
	struct rec *r;

	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 32;
		x->v = xrealloc(x->v, x->cap * sizeof(*x->v));
	}
	r = &x->v[x->n++];
	*r = (struct rec){ev->kind, ev->path ? xstrdup(ev->path) : NULL,
			  ev->path2 ? xstrdup(ev->path2) : NULL, ev->mode, ev->fuid, ev->fgid,
			  ev->tgid, ev->uid, {0}, ev->found_by != NULL};
	memcpy(r->comm, ev->comm, sizeof(r->comm));
}

static const char *dump(const struct fx *x)
{
	static char out[16384];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < x->n && len < sizeof(out) - 1; i++) {
		const struct rec *r = &x->v[i];
		int n = snprintf(out + len, sizeof(out) - len,
				 "\n  kind %d %s -> %s mode %o fuid %d fgid %d tgid %d uid %d '%s'",
				 r->kind, r->path ? r->path : "(null)", r->path2 ? r->path2 : "(null)",
				 r->mode, (int)r->fuid, (int)r->fgid, (int)r->tgid, (int)r->uid,
				 r->comm);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return out;
}

static bool same(const char *a, const char *b)
{
	return b == ANY || (a && b ? !strcmp(a, b) : a == b);
}

static const struct rec *find(const struct fx *x, enum ev_kind k, const char *path,
			      const char *path2)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i].kind == k && same(x->v[i].path, path) && same(x->v[i].path2, path2))
			return &x->v[i];
	return NULL;
}

static size_t count(const struct fx *x, enum ev_kind k, const char *path)
{
	size_t n = 0;

	for (size_t i = 0; i < x->n; i++)
		n += x->v[i].kind == k && same(x->v[i].path, path);
	return n;
}

static void forget(struct fx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].path);
		free(x->v[i].path2);
	}
	x->n = 0;
}

/* Delivers what is waiting, waiting at most ms for something. */
static void pump(struct fx *x, int ms)
{
	struct pollfd pfd = {x->s.fd(x->s.impl), POLLIN, 0};

	if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
		fail_msg("poll: %s", strerror(errno));
	if (x->s.poll(x->s.impl, collect, x) < 0)
		fail_msg("the fanotify source's poll failed");
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The event, once it has come; fails after WAIT_MS. */
static const struct rec *wait_for(struct fx *x, enum ev_kind k, const char *path,
				  const char *path2)
{
	long long end = now_ms() + WAIT_MS;
	const struct rec *r;

	while (!(r = find(x, k, path, path2))) {
		long long left = end - now_ms();
		if (left <= 0)
			fail_msg("no event of kind %d for %s -> %s within %d ms; got:%s", k,
				 path ? path : "(null)",
				 path2 == ANY ? "*" : path2 ? path2 : "(null)", WAIT_MS, dump(x));
		pump(x, (int)(left < 100 ? left : 100));
	}
	return r;
}

/* The event, by this very process. */
static const struct rec *expect(struct fx *x, enum ev_kind k, const char *path,
				const char *path2)
{
	const struct rec *r = wait_for(x, k, path, path2);

	if (r->tgid != (uint32_t)getpid() || r->uid != getuid() || strcmp(r->comm, x->comm) ||
	    r->rescan)
		fail_msg("kind %d for %s: actor %d uid %d '%s', want %d %d '%s'", k,
			 path ? path : "(null)", (int)r->tgid, (int)r->uid, r->comm, (int)getpid(),
			 (int)getuid(), x->comm);
	return r;
}

/* Everything done before this has been delivered once it returns: the
 * marker's creation is queued after it. */
static void settle(struct fx *x)
{
	char *p = xasprintf("%s/.settle-%d", x->dir, x->settles++);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	close(fd);
	wait_for(x, EV_CREATE, p, NULL);
	free(p);
}

static char *in(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static char *mkdir_temp(void)
{
	char tmpl[] = "/tmp/vigil-test-XXXXXX";
	char *real;

	if (!mkdtemp(tmpl))
		fail_msg("mkdtemp: %s", strerror(errno));
	if (!(real = realpath(tmpl, NULL)))
		fail_msg("realpath %s: %s", tmpl, strerror(errno));
	return real;
}

/* As root, or in CI, fanotify must work; elsewhere it may be skipped. */
static void open_or_skip(struct fx *x, const struct vg_source_opts *o)
{
	struct vg_err err = {{0}};

	if (fan_source_open(&x->s, o, &err) == 0)
		return;
	tu_rmroot(x->base);		/* and frees it */
	free(x->dir);
	free(x->other);
	x->base = x->dir = x->other = NULL;
	if (geteuid() == 0 || getenv("CI"))
		fail_msg("fan_source_open: %s", err.msg);
	fprintf(stderr, "skipped, not root: %s\n", err.msg);
	skip();
}

static char *mkdir_in(const char *dir, const char *name)
{
	char *p = in(dir, name);

	if (mkdir(p, 0755))
		fail_msg("mkdir %s: %s", p, strerror(errno));
	return p;
}

/* Watches x->dir, or the name under it when watch is set. */
static struct fx *fx_open_at(void (*prepare)(const char *dir), const char *ignore,
			     const char *watch, unsigned batch_ms, unsigned coalesce_ms)
{
	struct fx *x = xcalloc(1, sizeof(*x));
	struct vg_strv paths = {0}, ign = {0};
	struct vg_source_opts o = {.paths = &paths, .ignore_comm = &ign, .batch_ms = batch_ms,
				   .coalesce_ms = coalesce_ms};
	char buf[EV_COMM_LEN] = "";	/* a comm is at most 15 bytes */
	FILE *f = fopen("/proc/self/comm", "r");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	snprintf(x->comm, sizeof(x->comm), "%s", buf);
	x->base = mkdir_temp();
	x->dir = mkdir_in(x->base, "watched");
	x->other = mkdir_in(x->base, "other");
	if (prepare) {
		prepare(x->dir);
		prepare(x->other);
	}
	if (watch) {
		char *p = in(x->dir, watch);
		strv_push(&paths, p);
		free(p);
	} else {
		strv_push(&paths, x->dir);
	}
	if (ignore)
		strv_push(&ign, ignore);
	open_or_skip(x, &o);
	strv_free(&paths);
	strv_free(&ign);
	assert_int_equal(x->s.mode, VG_MODE_FANOTIFY);
	return x;
}

static struct fx *fx_open_ignoring(void (*prepare)(const char *dir), const char *ignore)
{
	return fx_open_at(prepare, ignore, NULL, 0, 0);
}

static struct fx *fx_open(void (*prepare)(const char *dir))
{
	return fx_open_at(prepare, NULL, NULL, 0, 0);
}

static void fx_close(struct fx *x)
{
	x->s.close(x->s.impl);
	forget(x);
	free(x->v);
	tu_rmroot(x->base);
	free(x->dir);
	free(x->other);
	free(x);
}

static struct vg_counters counters(struct fx *x)
{
	struct vg_counters c = {0};

	x->s.counters(x->s.impl, &c);
	return c;
}

/* Events the source has read from the kernel, whatever became of them. */
static uint64_t received(struct fx *x)
{
	return counters(x).received;
}

/* Reads all the kernel has queued. It queues an event in the system call
 * that causes it, so every earlier operation's events are read after this;
 * none from an operation that made none. */
static void drain(struct fx *x)
{
	uint64_t n;

	do {
		n = received(x);
		pump(x, 0);
	} while (received(x) != n);
}

/* No event was reported with a path (or path2) under dir. */
static void none_under(const struct fx *x, const char *dir)
{
	size_t n = strlen(dir);

	for (size_t i = 0; i < x->n; i++) {
		const struct rec *r = &x->v[i];
		if ((r->path && !strncmp(r->path, dir, n) && (!r->path[n] || r->path[n] == '/')) ||
		    (r->path2 && !strncmp(r->path2, dir, n) &&
		     (!r->path2[n] || r->path2[n] == '/')))
			fail_msg("an event under %s:%s", dir, dump(x));
	}
}

static void append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail_msg("write %s: %s", path, strerror(errno));
	close(fd);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail_msg("write %s: %s", path, strerror(errno));
	close(fd);
}

/* Files the operations below work on, made before the source opens. */
static void prepare_files(const char *dir)
{
	static const char *const names[] = {"mod", "del", "ren", "nore", "ex1", "ex2", "perm",
					    "own", "trunc", "link", "xattr", "rmd", NULL};

	for (size_t i = 0; names[i]; i++) {
		char *p = in(dir, names[i]);
		if (!strcmp(names[i], "rmd")) {
			if (mkdir(p, 0755))
				fail_msg("mkdir %s: %s", p, strerror(errno));
		} else {
			write_file(p, "0123456789abcdef0123456789abcdef");
		}
		free(p);
	}
}

/* ---- one operation each ------------------------------------------------ */

static void t_create(void **state)
{
	struct fx *x = fx_open(NULL);
	char *p = in(x->dir, "new");
	char *q = in(x->dir, "written");
	int fd;

	(void)state;
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0640);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(expect(x, EV_CREATE, p, NULL)->mode, 0640);
	write_file(q, "hello");		/* create, write, close: a creation and a modify */
	expect(x, EV_CREATE, q, NULL);
	expect(x, EV_MODIFY, q, NULL);
	settle(x);
	assert_int_equal(count(x, EV_MODIFY, p), 0);	/* closed unwritten */
	free(p);
	free(q);
	fx_close(x);
}

static void t_modify(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *p = in(x->dir, "mod");
	int fd;

	(void)state;
	fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "more", 4), 4);
	close(fd);
	expect(x, EV_MODIFY, p, NULL);
	settle(x);
	forget(x);
	fd = open(p, O_WRONLY | O_CLOEXEC);		/* open for writing, no write */
	assert_true(fd >= 0);
	close(fd);
	settle(x);
	assert_int_equal(count(x, EV_MODIFY, p), 0);
	assert_int_equal(count(x, EV_TRUNCATE, p), 0);
	free(p);
	fx_close(x);
}

static void t_delete(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *p = in(x->dir, "del");

	(void)state;
	assert_int_equal(unlink(p), 0);
	expect(x, EV_DELETE, p, NULL);
	free(p);
	fx_close(x);
}

static void t_rename(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *a = in(x->dir, "ren"), *b = in(x->dir, "ren2");
	char *c = in(x->dir, "nore"), *d = in(x->dir, "nore2");
	char *e = in(x->dir, "ex1"), *f = in(x->dir, "ex2");

	(void)state;
	assert_int_equal(rename(a, b), 0);
	expect(x, EV_RENAME, a, b);
	assert_int_equal(renameat2(AT_FDCWD, c, AT_FDCWD, d, RENAME_NOREPLACE), 0);
	expect(x, EV_RENAME, c, d);
	assert_int_equal(renameat2(AT_FDCWD, e, AT_FDCWD, f, RENAME_EXCHANGE), 0);
	expect(x, EV_RENAME, e, f);
	expect(x, EV_RENAME, f, e);
	/* Attributes followed the names: a chmod of the renamed file is one. */
	forget(x);
	assert_int_equal(chmod(b, 0600), 0);
	assert_int_equal(expect(x, EV_CHMOD, b, NULL)->mode, 0600);
	free(a), free(b), free(c), free(d), free(e), free(f);
	fx_close(x);
}

static void t_chmod(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *p = in(x->dir, "perm");
	int fd;

	(void)state;
	assert_int_equal(fchmodat(AT_FDCWD, p, 0600, 0), 0);
	assert_int_equal(expect(x, EV_CHMOD, p, NULL)->mode, 0600);
	forget(x);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 04750), 0);
	close(fd);
	assert_int_equal(expect(x, EV_CHMOD, p, NULL)->mode, 04750);
	settle(x);
	assert_int_equal(count(x, EV_CHOWN, p) + count(x, EV_SETXATTR, p), 0);
	/* A directory's own mode. */
	forget(x);
	assert_int_equal(chmod(x->dir, 0751), 0);
	assert_int_equal(expect(x, EV_CHMOD, x->dir, NULL)->mode, 0751);
	free(p);
	fx_close(x);
}

static void t_chown(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *p = in(x->dir, "own");
	const struct rec *r;

	(void)state;
	if (geteuid() != 0) {
		fx_close(x);
		free(p);
		skip();
	}
	assert_int_equal(chown(p, 4242, 4343), 0);
	r = expect(x, EV_CHOWN, p, NULL);
	assert_int_equal(r->fuid, 4242);
	assert_int_equal(r->fgid, 4343);
	forget(x);
	assert_int_equal(fchownat(AT_FDCWD, p, (uid_t)-1, 4444, AT_SYMLINK_NOFOLLOW), 0);
	r = expect(x, EV_CHOWN, p, NULL);
	assert_int_equal(r->fuid, NOID);		/* unchanged */
	assert_int_equal(r->fgid, 4444);
	settle(x);
	assert_int_equal(count(x, EV_CHMOD, p) + count(x, EV_SETXATTR, p), 0);
	free(p);
	fx_close(x);
}

static void t_truncate(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *p = in(x->dir, "trunc");
	int fd;

	(void)state;
	assert_int_equal(truncate(p, 10), 0);
	expect(x, EV_TRUNCATE, p, NULL);
	forget(x);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 0), 0);
	close(fd);
	expect(x, EV_TRUNCATE, p, NULL);
	free(p);
	fx_close(x);
}

static void t_link(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *p = in(x->dir, "link"), *q = in(x->dir, "link2");

	(void)state;
	assert_int_equal(link(p, q), 0);
	expect(x, EV_LINK, p, q);
	settle(x);
	assert_int_equal(count(x, EV_SETXATTR, p) + count(x, EV_CHMOD, p), 0);
	free(p);
	free(q);
	fx_close(x);
}

static void t_symlink(void **state)
{
	struct fx *x = fx_open(NULL);
	char *p = in(x->dir, "sym");

	(void)state;
	assert_int_equal(symlink("some/target", p), 0);
	expect(x, EV_SYMLINK, "some/target", p);
	free(p);
	fx_close(x);
}

static void t_mkdir_rmdir(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *p = in(x->dir, "sub"), *q = in(x->dir, "rmd");

	(void)state;
	assert_int_equal(mkdir(p, 0710), 0);
	assert_int_equal(expect(x, EV_MKDIR, p, NULL)->mode, 0710);
	assert_int_equal(rmdir(q), 0);
	expect(x, EV_RMDIR, q, NULL);
	/* Inside the new directory: without target handles its name is
	 * looked up from its handle, through the kernel. */
	free(q);
	q = in(p, "inner");
	write_file(q, "x");
	expect(x, EV_CREATE, q, NULL);
	assert_int_equal(unlink(q), 0);
	assert_int_equal(rmdir(p), 0);
	expect(x, EV_RMDIR, p, NULL);
	free(p);
	free(q);
	fx_close(x);
}

static void t_setxattr(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *p = in(x->dir, "xattr");

	(void)state;
	if (setxattr(p, "user.vigil", "1", 1, 0))
		fail_msg("setxattr %s: %s", p, strerror(errno));
	expect(x, EV_SETXATTR, p, NULL);
	settle(x);
	assert_int_equal(count(x, EV_CHMOD, p) + count(x, EV_CHOWN, p), 0);
	forget(x);
	assert_int_equal(removexattr(p, "user.vigil"), 0);
	expect(x, EV_SETXATTR, p, NULL);
	free(p);
	fx_close(x);
}

/* ---- what must not be reported ------------------------------------------ */

static void every_operation(const char *dir)
{
	char *a = in(dir, "mod"), *b = in(dir, "n"), *c = in(dir, "sub");
	int fd;

	write_file(a, "changed");
	write_file(b, "new");
	assert_int_equal(truncate(a, 1), 0);
	assert_int_equal(chmod(a, 0600), 0);
	assert_int_equal(chown(b, 4242, 4242), 0);
	assert_int_equal(setxattr(b, "user.vigil", "1", 1, 0), 0);
	free(b);
	b = in(dir, "ren2");
	assert_int_equal(rename(a, b), 0);
	free(a);
	a = in(dir, "link2");
	assert_int_equal(link(b, a), 0);
	free(a);
	a = in(dir, "sym");
	assert_int_equal(symlink("t", a), 0);
	assert_int_equal(mkdir(c, 0755), 0);
	free(a);
	a = in(dir, "sub/f");
	fd = open(a, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 100), 0);
	close(fd);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(rmdir(c), 0);
	assert_int_equal(unlink(b), 0);
	free(a), free(b), free(c);
}

/* Not reported, and -- what inode marks are for -- not even queued by the
 * kernel: an unwatched directory costs its operations nothing. */
static void t_unwatched_sibling_is_silent(void **state)
{
	struct fx *x = fx_open(prepare_files);
	uint64_t before;

	(void)state;
	drain(x);
	before = received(x);
	every_operation(x->other);
	drain(x);
	if (received(x) != before)
		fail_msg("the kernel queued %llu events for the unwatched directory:%s",
			 (unsigned long long)(received(x) - before), dump(x));
	settle(x);
	for (size_t i = 0; i < x->n; i++) {
		const struct rec *r = &x->v[i];
		if ((r->path && !strncmp(r->path, x->other, strlen(x->other))) ||
		    (r->path2 && !strncmp(r->path2, x->other, strlen(x->other))))
			fail_msg("an event from the unwatched directory:%s", dump(x));
	}
	/* The marker and nothing else. */
	if (x->n != 1)
		fail_msg("events from outside the watched path:%s", dump(x));
	fx_close(x);
}

/* The same operations where it watches, all read only afterwards: the
 * kernel merges what one process did to one name, and attributes are read
 * late. Names survive in both modes; with target handles, the attributes of
 * a file renamed and unlinked since, and a directory removed since, too. */
static void t_operations_read_late(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *mod = in(x->dir, "mod"), *n = in(x->dir, "n"), *ren = in(x->dir, "ren2");
	char *sym = in(x->dir, "sym"), *sub = in(x->dir, "sub"), *f = in(x->dir, "sub/f");
	char *lnk = in(x->dir, "link2");

	(void)state;
	every_operation(x->dir);
	expect(x, EV_CREATE, n, NULL);
	expect(x, EV_MODIFY, mod, NULL);
	expect(x, EV_RENAME, mod, ren);
	expect(x, EV_SYMLINK, "t", sym);
	expect(x, EV_MKDIR, sub, NULL);
	expect(x, EV_RMDIR, sub, NULL);
	expect(x, EV_DELETE, ren, NULL);
	if (!legacy()) {
		expect(x, EV_TRUNCATE, mod, NULL);
		assert_int_equal(expect(x, EV_CHMOD, mod, NULL)->mode, 0600);
		assert_int_equal(find(x, EV_CREATE, n, NULL)->fuid, 4242);	/* merged chown */
		/* Its other name was unlinked before this was read: one link left. */
		expect(x, EV_CREATE, lnk, NULL);
	}
	/* sub was made and removed before its mkdir was read, so it was never
	 * marked: what happened in it is not seen (nothing of it is left). Its
	 * events came before ren2's deletion, if at all; never half of them. */
	assert_int_equal(count(x, EV_CREATE, f), count(x, EV_DELETE, f));
	free(mod), free(n), free(ren), free(sym), free(sub), free(f), free(lnk);
	fx_close(x);
}

static void t_other_names(void **state)
{
	struct fx *x = fx_open(prepare_files);
	char *sib = xasprintf("%s-sibling", x->dir);	/* shares the prefix, not the path */
	char *p;

	(void)state;
	if (mkdir(sib, 0755))
		fail_msg("mkdir %s: %s", sib, strerror(errno));
	p = in(sib, "f");
	write_file(p, "x");
	settle(x);
	assert_null(find(x, EV_CREATE, p, NULL));
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rmdir(sib), 0);
	free(p);
	free(sib);
	fx_close(x);
}

/* ---- actors ------------------------------------------------------------- */

/* Once its process has exited, an event has a pid and nothing else. */
static void t_exited_actor(void **state)
{
	struct fx *x = fx_open(NULL);
	char *p = in(x->dir, "by-child");
	const struct rec *r;
	pid_t pid;
	int st;

	(void)state;
	if ((pid = fork()) == 0) {
		int fd = open(p, O_CREAT | O_WRONLY, 0644);
		_exit(fd < 0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	r = wait_for(x, EV_CREATE, p, NULL);
	assert_int_equal(r->tgid, (uint32_t)pid);
	assert_int_equal(r->uid, NOID);
	assert_string_equal(r->comm, "");
	free(p);
	fx_close(x);
}

/* A process named in ignore_comm is not reported; the others are. */
static void t_ignored_comm(void **state)
{
	struct fx *x = fx_open_ignoring(NULL, "vigil-quiet");
	char *p = in(x->dir, "by-quiet");
	int go[2], done[2];
	char c = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	if ((pid = fork()) == 0) {
		int fd;

		prctl(PR_SET_NAME, "vigil-quiet");
		fd = open(p, O_CREAT | O_WRONLY, 0644);
		if (write(done[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(fd < 0);
	}
	assert_true(pid > 0);
	assert_int_equal(read(done[0], &c, 1), 1);
	settle(x);		/* the child still runs, so its name is known */
	assert_null(find(x, EV_CREATE, p, NULL));
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(go[0]), close(go[1]), close(done[0]), close(done[1]);
	free(p);
	fx_close(x);
}

/* ---- events read late --------------------------------------------------- */

static void prepare_dir(const char *dir)
{
	char *p = in(dir, "d");

	if (mkdir(p, 0755))
		fail_msg("mkdir %s: %s", p, strerror(errno));
	free(p);
}

/* A directory renamed before its events are read: they keep the name they
 * happened under, because the renames are applied in order. */
static void t_renamed_before_read(void **state)
{
	struct fx *x = fx_open(prepare_dir);
	char *d = in(x->dir, "d"), *e = in(x->dir, "e");
	char *dx = in(x->dir, "d/x"), *ey = in(x->dir, "e/y");

	(void)state;
	write_file(dx, "x");
	assert_int_equal(rename(d, e), 0);
	write_file(ey, "y");
	expect(x, EV_CREATE, dx, NULL);
	expect(x, EV_RENAME, d, e);
	expect(x, EV_CREATE, ey, NULL);
	free(d), free(e), free(dx), free(ey);
	fx_close(x);
}

/* Made and removed before its events are read: the directory is reported,
 * by name; it was gone before it could be marked, so what happened inside it
 * is not seen, and certainly not reported under a wrong name. */
static void t_removed_before_read(void **state)
{
	struct fx *x = fx_open(NULL);
	char *d = in(x->dir, "gone"), *f = in(x->dir, "gone/f");

	(void)state;
	assert_int_equal(mkdir(d, 0755), 0);
	write_file(f, "x");
	assert_int_equal(unlink(f), 0);
	assert_int_equal(rmdir(d), 0);
	expect(x, EV_MKDIR, d, NULL);
	expect(x, EV_RMDIR, d, NULL);
	settle(x);
	assert_int_equal(count(x, EV_CREATE, f), count(x, EV_DELETE, f));
	for (size_t i = 0; i < x->n; i++)
		if (!x->v[i].path || strncmp(x->v[i].path, x->dir, strlen(x->dir)))
			fail_msg("an event with a wrong path:%s", dump(x));
	free(d);
	free(f);
	fx_close(x);
}

/* ---- the watched set as it changes -------------------------------------- */

/* mkdir -p and a file in the deepest directory, all before the source reads
 * anything: only the first mkdir has an event (the others happened in
 * directories not marked yet), the rest is found when that one is marked and
 * walked. Each is reported once, and the new tree is watched from then on. */
static void t_mkdir_tree(void **state)
{
	struct fx *x = fx_open(NULL);
	char *a = in(x->dir, "a"), *b = in(x->dir, "a/b"), *c = in(x->dir, "a/b/c");
	char *f = in(x->dir, "a/b/c/f"), *g = in(x->dir, "a/b/c/g");

	(void)state;
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	assert_int_equal(mkdir(c, 0750), 0);
	write_file(f, "deep");
	expect(x, EV_MKDIR, a, NULL);
	assert_int_equal(wait_for(x, EV_MKDIR, b, NULL)->mode, 0755);
	assert_int_equal(wait_for(x, EV_MKDIR, c, NULL)->mode, 0750);
	assert_true(wait_for(x, EV_CREATE, f, NULL)->rescan);	/* found, not seen */
	write_file(g, "later");
	expect(x, EV_CREATE, g, NULL);
	expect(x, EV_MODIFY, g, NULL);
	settle(x);
	assert_int_equal(count(x, EV_MKDIR, a), 1);
	assert_int_equal(count(x, EV_MKDIR, b), 1);
	assert_int_equal(count(x, EV_MKDIR, c), 1);
	assert_int_equal(count(x, EV_CREATE, f), 1);
	free(a), free(b), free(c), free(f), free(g);
	fx_close(x);
}

#define TREES 30
#define DEPTH 4

/* The same while the source reads: a walk and the events of a tree being
 * made race, and still say every directory and file exactly once. */
static void t_mkdir_tree_racing(void **state)
{
	struct fx *x = fx_open(NULL);
	struct vg_buf p = {0};
	pid_t pid;
	int st;

	(void)state;
	if ((pid = fork()) == 0) {
		for (int t = 0; t < TREES; t++) {
			p.len = 0;
			buf_printf(&p, "%s/t%d", x->dir, t);
			for (int d = 0; d < DEPTH; d++) {
				if (d)
					buf_printf(&p, "/d%d", d);
				if (mkdir(p.p, 0755))
					_exit(1);
				char *q = xasprintf("%s/f", p.p);
				int fd = open(q, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
				free(q);
				if (fd < 0)
					_exit(1);
				close(fd);
			}
		}
		_exit(0);
	}
	assert_true(pid > 0);
	while (waitpid(pid, &st, WNOHANG) == 0)
		pump(x, 1);
	assert_int_equal(st, 0);
	settle(x);
	for (int t = 0; t < TREES; t++) {
		p.len = 0;
		buf_printf(&p, "%s/t%d", x->dir, t);
		for (int d = 0; d < DEPTH; d++) {
			char *q;

			if (d)
				buf_printf(&p, "/d%d", d);
			q = xasprintf("%s/f", p.p);
			if (count(x, EV_MKDIR, p.p) != 1 || count(x, EV_CREATE, q) != 1)
				fail_msg("%s: %zu mkdir, %s: %zu create; want one each:%s",
					 p.p, count(x, EV_MKDIR, p.p), q, count(x, EV_CREATE, q),
					 dump(x));
			free(q);
		}
	}
	buf_free(&p);
	fx_close(x);
}

/* A tree with a subdirectory and files, in both directories. */
static void prepare_tree(const char *dir)
{
	char *m = in(dir, "m"), *sub = in(dir, "m/sub");
	char *f = in(dir, "m/f"), *g = in(dir, "m/sub/g");

	if (mkdir(m, 0755) || mkdir(sub, 0755))
		fail_msg("mkdir %s: %s", sub, strerror(errno));
	write_file(f, "f");
	write_file(g, "g");
	free(m), free(sub), free(f), free(g);
}

/* Moved in from an unwatched place: a rename without its old name (the
 * kernel tells names in marked directories only), and what is inside is
 * watched from then on, however deep. */
static void t_dir_moved_in(void **state)
{
	struct fx *x = fx_open(prepare_tree);
	char *from = in(x->other, "m"), *to = in(x->dir, "in");
	char *f = in(to, "f"), *g = in(to, "sub/g"), *h = in(to, "sub/h");

	(void)state;
	assert_int_equal(rename(from, to), 0);
	expect(x, EV_RENAME, NULL, to);
	append(f, "more");
	expect(x, EV_MODIFY, f, NULL);
	append(g, "more");
	expect(x, EV_MODIFY, g, NULL);
	write_file(h, "new");
	expect(x, EV_CREATE, h, NULL);
	free(from), free(to), free(f), free(g), free(h);
	fx_close(x);
}

/* Moved out to an unwatched place: a rename (to where it is now, found
 * through its handle; without target handles, to an unknown place), and
 * then nothing from inside it, not even an event queued by the kernel: its
 * marks came off. */
static void t_dir_moved_out(void **state)
{
	struct fx *x = fx_open(prepare_tree);
	char *from = in(x->dir, "m"), *to = in(x->other, "out");
	char *f = in(to, "f"), *g = in(to, "sub/g"), *h = in(to, "sub/h");
	uint64_t before;

	(void)state;
	assert_int_equal(rename(from, to), 0);
	expect(x, EV_RENAME, from, legacy() ? NULL : to);
	settle(x);
	forget(x);
	drain(x);
	before = received(x);
	append(f, "more");
	append(g, "more");
	write_file(h, "new");
	assert_int_equal(chmod(to, 0700), 0);
	drain(x);
	if (received(x) != before)
		fail_msg("the kernel queued %llu events for a directory moved out:%s",
			 (unsigned long long)(received(x) - before), dump(x));
	settle(x);
	none_under(x, to);
	free(from), free(to), free(f), free(g), free(h);
	fx_close(x);
}

/* A directory moved from one watched place to another stays watched. */
static void t_dir_moved_within(void **state)
{
	struct fx *x = fx_open(prepare_tree);
	char *from = in(x->dir, "m"), *to = in(x->dir, "m2");
	char *g = in(to, "sub/g");

	(void)state;
	assert_int_equal(rename(from, to), 0);
	expect(x, EV_RENAME, from, to);
	append(g, "more");
	expect(x, EV_MODIFY, g, NULL);
	free(from), free(to), free(g);
	fx_close(x);
}

/* The watched directory itself removed, made again, moved away: its
 * parent's entries are marked, so each is reported, and what is made again
 * at its name is watched (paths are watched by name). */
static void t_root_made_again(void **state)
{
	struct fx *x = fx_open(NULL);
	char *f = in(x->dir, "f"), *away = in(x->other, "away");
	char *af = in(away, "f");
	uint64_t before;

	(void)state;
	assert_int_equal(rmdir(x->dir), 0);
	expect(x, EV_RMDIR, x->dir, NULL);
	assert_int_equal(mkdir(x->dir, 0755), 0);
	expect(x, EV_MKDIR, x->dir, NULL);
	write_file(f, "x");
	expect(x, EV_CREATE, f, NULL);
	forget(x);
	assert_int_equal(rename(x->dir, away), 0);
	expect(x, EV_RENAME, x->dir, legacy() ? NULL : away);
	forget(x);
	drain(x);
	before = received(x);
	append(af, "more");
	drain(x);
	assert_int_equal(received(x), before);
	none_under(x, away);
	assert_int_equal(mkdir(x->dir, 0755), 0);
	expect(x, EV_MKDIR, x->dir, NULL);
	write_file(f, "again");
	expect(x, EV_MODIFY, f, NULL);
	free(f), free(away), free(af);
	fx_close(x);
}

/* A watched path that is a file: its own mark reports it, its siblings are
 * not even queued, and when it is replaced (a save by rename) or removed and
 * made again, the new file is watched. */
static void t_file_root(void **state)
{
	struct fx *x = fx_open_at(prepare_files, NULL, "mod", 0, 0);
	char *p = in(x->dir, "mod"), *sib = in(x->dir, "del"), *tmp = in(x->dir, "mod.tmp");
	uint64_t before;

	(void)state;
	append(p, "more");
	expect(x, EV_MODIFY, p, NULL);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(expect(x, EV_CHMOD, p, NULL)->mode, 0600);
	drain(x);
	before = received(x);
	append(sib, "more");
	assert_int_equal(chmod(sib, 0600), 0);
	drain(x);
	assert_int_equal(received(x), before);
	none_under(x, sib);
	forget(x);
	write_file(tmp, "replaced");
	assert_int_equal(rename(tmp, p), 0);
	expect(x, EV_RENAME, tmp, p);
	append(p, "more");
	expect(x, EV_MODIFY, p, NULL);
	forget(x);
	assert_int_equal(unlink(p), 0);
	expect(x, EV_DELETE, p, NULL);
	write_file(p, "again");
	expect(x, EV_CREATE, p, NULL);
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(expect(x, EV_CHMOD, p, NULL)->mode, 0640);
	none_under(x, tmp);
	free(p), free(sib), free(tmp);
	fx_close(x);
}

/* ---- the source itself -------------------------------------------------- */

static void t_watch_added(void **state)
{
	struct fx *x = fx_open(NULL);
	char *later = mkdir_temp();
	char *before = in(later, "before"), *after = in(later, "after");
	struct vg_err err = {{0}};
	struct vg_counters c;

	(void)state;
	write_file(before, "x");
	settle(x);
	assert_null(find(x, EV_CREATE, before, NULL));
	assert_int_equal(x->s.watch(x->s.impl, later, &err), 0);
	write_file(after, "x");
	expect(x, EV_CREATE, after, NULL);
	assert_int_equal(x->s.watch(x->s.impl, "/vigil-no-such-path", &err), -1);
	assert_non_null(strstr(err.msg, "/vigil-no-such-path"));
	x->s.counters(x->s.impl, &c);
	assert_int_equal(c.events, x->n);
	assert_int_equal(c.overflows, 0);
	free(before);
	free(after);
	tu_rmroot(later);
	fx_close(x);
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* A full kernel queue is counted (the caller rescans), and the source goes
 * on with its remembered attributes rebuilt. */
static void t_overflow(void **state)
{
	struct fx *x = fx_open(prepare_files);
	long max = read_long("/proc/sys/fs/fanotify/max_queued_events");
	char *own = in(x->dir, "own");
	struct vg_counters c = {0};
	long long end;

	(void)state;
	if (max <= 0 || max > 100000 || geteuid() != 0) {
		free(own);
		fx_close(x);
		skip();
	}
	/* Distinct names are never merged: more events than the queue holds.
	 * In the watched directory: the unwatched one makes none at all. */
	for (long i = 0; i < max + 100; i++) {
		char *p = xasprintf("%s/o%ld", x->dir, i);
		int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		close(fd);
		free(p);
	}
	for (end = now_ms() + WAIT_MS; !c.overflows && now_ms() < end;) {
		pump(x, 100);
		x->s.counters(x->s.impl, &c);
	}
	assert_true(c.overflows >= 1);
	forget(x);
	assert_int_equal(chown(own, 4242, (gid_t)-1), 0);
	assert_int_equal(expect(x, EV_CHOWN, own, NULL)->fuid, 4242);
	free(own);
	fx_close(x);
}

static bool readable(struct fx *x, int ms)
{
	struct pollfd pfd = {x->s.fd(x->s.impl), POLLIN, 0};

	return poll(&pfd, 1, ms) == 1;
}

static void write_n(const char *path, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "x", 1), 1);
		close(fd);
	}
}

/* Batching: the first event is read at once; then, while the source
 * rests, its fd stays quiet however many events come (no reader is woken),
 * the kernel merges the repeats, and nothing is lost: the file's change
 * is reported when the rest ends. Quiet again, the next event is read at
 * once. */
static void t_batched(void **state)
{
	const unsigned rest_ms = 400;
	struct fx *x = fx_open_at(prepare_files, NULL, NULL, rest_ms, 0);
	char *p = in(x->dir, "mod");
	uint64_t before;
	long long t0;

	(void)state;
	write_n(p, 1);
	assert_true(readable(x, WAIT_MS));
	pump(x, 0);
	assert_non_null(find(x, EV_MODIFY, p, NULL));
	forget(x);
	/* Resting: 1000 writes, and the fd is not readable before the rest
	 * ends (rest_ms counts from the read above; half of it is safe). */
	t0 = now_ms();
	before = received(x);
	write_n(p, 1000);
	if (now_ms() - t0 < rest_ms / 4)
		assert_false(readable(x, (int)rest_ms / 4));
	pump(x, 0);
	if (now_ms() - t0 < rest_ms / 2)
		assert_int_equal(x->n, 0);	/* a poll while resting reads nothing */
	for (long long end = now_ms() + WAIT_MS; !find(x, EV_MODIFY, p, NULL) && now_ms() < end;)
		pump(x, 100);
	assert_non_null(find(x, EV_MODIFY, p, NULL));
	/* 2000 kernel events (a modify and a close each) were merged into a
	 * few: what the rest is for. */
	assert_true(received(x) - before < 100);
	/* The rest ends with a read that finds the queue empty, and the fd is
	 * armed again: the next write is read as soon as it is made. */
	for (long long end = now_ms() + 3 * rest_ms; now_ms() < end;)
		pump(x, 50);
	forget(x);
	t0 = now_ms();
	write_n(p, 1);
	assert_true(readable(x, WAIT_MS));
	assert_true(now_ms() - t0 < rest_ms / 2);
	pump(x, 0);
	assert_non_null(find(x, EV_MODIFY, p, NULL));
	free(p);
	fx_close(x);
}

/* Coalescing windows the source has opened. */
static uint64_t windows(struct fx *x)
{
	return counters(x).windows;
}

/* Writes path until the source opens a coalescing window on it. */
static void make_busy(struct fx *x, const char *path)
{
	uint64_t w0 = windows(x);

	for (long long end = now_ms() + WAIT_MS; windows(x) == w0; pump(x, 5))
		if (now_ms() > end)
			fail_msg("no coalescing window on %s after %d ms of writes;%s", path,
				 WAIT_MS, dump(x));
		else
			write_n(path, 1);
}

/* An event of kind k on path by process pid; -1: by nobody seen. */
static const struct rec *wait_by(struct fx *x, enum ev_kind k, const char *path, pid_t pid)
{
	long long end = now_ms() + WAIT_MS;

	for (;;) {
		for (size_t i = 0; i < x->n; i++)
			if (x->v[i].kind == k && same(x->v[i].path, path) &&
			    x->v[i].tgid == (uint32_t)pid)
				return &x->v[i];
		if (now_ms() > end)
			fail_msg("no event of kind %d on %s by pid %d;%s", k, path, (int)pid,
				 dump(x));
		pump(x, 50);
	}
}

/* Runs fn(path) in a child process, which exits; returns its pid. */
static pid_t in_child(void (*fn)(const char *path), const char *path)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		fn(path);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	return pid;
}

static void append_hidden(const char *path)
{
	append(path, "written inside the window\n");
}

static void append_after(const char *path)
{
	append(path, "written after the window\n");
}

/*
 * Coalescing: a file written in two reads in a row gets a window in which
 * its writes raise no events. Another process writing inside it is not
 * named, but its change is not lost: the window ends with a "coalesced"
 * modify and no actor. Attribute changes inside a window keep their actor,
 * and once the window is over a writer is named again.
 */
static void t_coalesced(void **state)
{
	const unsigned window_ms = 600;
	struct fx *x = fx_open_at(prepare_files, NULL, NULL, 20, window_ms);
	char *p = in(x->dir, "mod");
	const struct rec *r;
	uint64_t before;
	long long t0;
	bool inside;
	pid_t pid;

	(void)state;
	make_busy(x, p);
	forget(x);
	t0 = now_ms();
	before = received(x);
	pid = in_child(append_hidden, p);
	write_n(p, 500);
	assert_int_equal(chmod(p, 0600), 0);
	inside = now_ms() - t0 < window_ms / 2;
	expect(x, EV_CHMOD, p, NULL);	/* the mark leaves attributes alone */
	if (inside) {
		/* The 1002 write and close events of the window were never
		 * queued; the chmod, read after them, was. */
		assert_true(received(x) - before < 10);
		for (size_t i = 0; i < x->n; i++)
			if (x->v[i].kind == EV_MODIFY && x->v[i].tgid == (uint32_t)pid)
				fail_msg("the hidden writer was named:%s", dump(x));
	}
	r = wait_by(x, EV_MODIFY, p, (pid_t)-1);
	assert_true(r->rescan);		/* found by comparing: no actor */
	assert_int_equal(r->uid, NOID);
	/* After the window: the next writer is named. */
	forget(x);
	pid = in_child(append_after, p);
	wait_by(x, EV_MODIFY, p, pid);
	free(p);
	fx_close(x);
}

/* A busy file renamed inside the watched set while its window is open is
 * compared under its new name. */
static void t_coalesced_renamed(void **state)
{
	struct fx *x = fx_open_at(prepare_files, NULL, NULL, 20, 600);
	char *p = in(x->dir, "mod"), *q = in(x->dir, "moved");
	const struct rec *r;

	(void)state;
	make_busy(x, p);
	in_child(append_hidden, p);
	assert_int_equal(rename(p, q), 0);
	expect(x, EV_RENAME, p, q);
	r = wait_by(x, EV_MODIFY, q, (pid_t)-1);
	assert_true(r->rescan);
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i].kind == EV_MODIFY && x->v[i].rescan && same(x->v[i].path, p))
			fail_msg("coalesced under the old name:%s", dump(x));
	free(p);
	free(q);
	fx_close(x);
}

/* A window that opens while the file is still open for writing hides the
 * close that would have said "modify": the writes seen are said when the
 * window opens, with their actor (here unbatched, as fanotify mode reads). */
static void t_coalesced_while_open(void **state)
{
	struct fx *x = fx_open_at(prepare_files, NULL, NULL, 0, 600);
	char *p = in(x->dir, "mod");
	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	uint64_t w0 = windows(x);

	(void)state;
	assert_true(fd >= 0);
	for (long long end = now_ms() + WAIT_MS; windows(x) == w0; pump(x, 5)) {
		if (now_ms() > end)
			fail_msg("no coalescing window after %d ms of writes;%s", WAIT_MS, dump(x));
		assert_int_equal(write(fd, "x", 1), 1);
	}
	close(fd);
	expect(x, EV_MODIFY, p, NULL);
	free(p);
	fx_close(x);
}

/* A script that writes a file twice, then truncates and removes it, does
 * not make it busy: the truncation (a FAN_MODIFY only) keeps its actor. */
static void t_not_busy_for_a_script(void **state)
{
	struct fx *x = fx_open_at(prepare_files, NULL, NULL, 0, 600);
	char *p = in(x->dir, "trunc");

	(void)state;
	write_n(p, 1);
	wait_for(x, EV_MODIFY, p, NULL);
	write_n(p, 1);
	pump(x, 5);
	assert_int_equal(truncate(p, 1), 0);
	expect(x, EV_TRUNCATE, p, NULL);
	assert_int_equal(unlink(p), 0);
	expect(x, EV_DELETE, p, NULL);
	assert_int_equal(windows(x), 0);
	free(p);
	fx_close(x);
}

static void t_missing_path_is_an_error(void **state)
{
	struct vg_strv paths = {0};
	struct vg_source_opts o = {.paths = &paths};
	struct vg_source s;
	struct vg_err err = {{0}};

	(void)state;
	strv_push(&paths, "/tmp/vigil-no-such-path/x");
	if (fan_source_open(&s, &o, &err) == 0)
		fail_msg("opened a source on a missing path");
	if (!strstr(err.msg, "/tmp/vigil-no-such-path/x")) {
		if (geteuid() != 0 && !getenv("CI") && strstr(err.msg, "CAP_SYS_ADMIN"))
			skip();
		fail_msg("the error does not name the path: %s", err.msg);
	}
	strv_free(&paths);
}

static int modern(void **state)
{
	(void)state;
	return unsetenv("VIGIL_FANOTIFY_LEGACY");
}

static int legacy_mode(void **state)
{
	(void)state;
	return setenv("VIGIL_FANOTIFY_LEGACY", "1", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_create),
		cmocka_unit_test(t_modify),
		cmocka_unit_test(t_batched),
		cmocka_unit_test(t_coalesced),
		cmocka_unit_test(t_coalesced_renamed),
		cmocka_unit_test(t_coalesced_while_open),
		cmocka_unit_test(t_not_busy_for_a_script),
		cmocka_unit_test(t_delete),
		cmocka_unit_test(t_rename),
		cmocka_unit_test(t_chmod),
		cmocka_unit_test(t_chown),
		cmocka_unit_test(t_truncate),
		cmocka_unit_test(t_link),
		cmocka_unit_test(t_symlink),
		cmocka_unit_test(t_mkdir_rmdir),
		cmocka_unit_test(t_setxattr),
		cmocka_unit_test(t_unwatched_sibling_is_silent),
		cmocka_unit_test(t_operations_read_late),
		cmocka_unit_test(t_other_names),
		cmocka_unit_test(t_exited_actor),
		cmocka_unit_test(t_ignored_comm),
		cmocka_unit_test(t_renamed_before_read),
		cmocka_unit_test(t_removed_before_read),
		cmocka_unit_test(t_mkdir_tree),
		cmocka_unit_test(t_mkdir_tree_racing),
		cmocka_unit_test(t_dir_moved_in),
		cmocka_unit_test(t_dir_moved_out),
		cmocka_unit_test(t_dir_moved_within),
		cmocka_unit_test(t_root_made_again),
		cmocka_unit_test(t_file_root),
		cmocka_unit_test(t_watch_added),
		cmocka_unit_test(t_overflow),
		cmocka_unit_test(t_missing_path_is_an_error),
	};
	int failed = cmocka_run_group_tests_name("fanotify", tests, modern, NULL);

	failed += cmocka_run_group_tests_name("fanotify-legacy", tests, legacy_mode, NULL);
	return failed;
}
