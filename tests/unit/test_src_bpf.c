/*
 * test_src_bpf.c: the eBPF source, loaded into the running kernel.
 *
 * These tests run the real programs of bpf/events.bpf.c. When they cannot
 * load, the test fails as root or under CI (a sensor that silently loses
 * its eyes is the bug), and is skipped only for a developer without root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "watch.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif
#define NR_fchmodat2 452

/* ---- collecting events -------------------------------------------------- */

struct tev {			/* a vg_event with its strings copied */
	enum ev_kind kind;
	uint32_t pid, tgid, ppid, uid, auid, mntns, flags, mode, fuid, fgid;
	int code;
	char comm[EV_COMM_LEN];
	char *exe, *cwd, *path, *path2, *args;
	size_t args_len;
};

struct col {
	struct tev *v;
	size_t n, cap;
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void collect(void *u, const struct vg_event *ev)
{
	struct col *c = u;
	struct tev *t;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	t = &c->v[c->n++];
	memset(t, 0, sizeof(*t));
	t->kind = ev->kind;
	t->pid = ev->pid;
	t->tgid = ev->tgid;
	t->ppid = ev->ppid;
	t->uid = ev->uid;
	t->auid = ev->auid;
	t->mntns = ev->mntns;
	t->flags = ev->flags;
	t->mode = ev->mode;
	t->fuid = ev->fuid;
	t->fgid = ev->fgid;
	t->code = ev->code;
	memcpy(t->comm, ev->comm, EV_COMM_LEN);
	t->exe = dup_or_null(ev->exe);
	t->cwd = dup_or_null(ev->cwd);
	t->path = dup_or_null(ev->path);
	t->path2 = dup_or_null(ev->path2);
	if (ev->args) {
		t->args = xmalloc(ev->args_len + 1);
		memcpy(t->args, ev->args, ev->args_len);
		t->args[ev->args_len] = '\0';
		t->args_len = ev->args_len;
	}
}

static void col_clear(struct col *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].exe);
		free(c->v[i].cwd);
		free(c->v[i].path);
		free(c->v[i].path2);
		free(c->v[i].args);
	}
	c->n = 0;
}

static void col_free(struct col *c)
{
	col_clear(c);
	free(c->v);
	c->v = NULL;
	c->cap = 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One round: waits up to ms for the source's fd, then delivers. */
static void pump(struct vg_source *s, struct col *c, int ms)
{
	struct pollfd p = {.fd = s->fd(s->impl), .events = POLLIN};

	if (poll(&p, 1, ms) < 0 && errno != EINTR)
		fail_msg("poll: %s", strerror(errno));
	if (s->poll(s->impl, collect, c) < 0)
		fail_msg("source poll: %s", strerror(errno));
}

typedef bool (*tev_pred)(const struct tev *t, const void *arg);

static const struct tev *find(const struct col *c, tev_pred pred, const void *arg)
{
	for (size_t i = 0; i < c->n; i++)
		if (pred(&c->v[i], arg))
			return &c->v[i];
	return NULL;
}

/* Polls until an event matches or timeout_ms passes: a missing event
 * fails fast instead of hanging. */
static const struct tev *wait_for(struct vg_source *s, struct col *c, tev_pred pred,
				  const void *arg, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	const struct tev *t;

	while (!(t = find(c, pred, arg)) && now_ms() < end)
		pump(s, c, 50);
	return t;
}

/* Delivers whatever arrives until quiet_ms pass without an event. */
static void settle(struct vg_source *s, struct col *c, int quiet_ms)
{
	size_t n;

	do {
		n = c->n;
		pump(s, c, quiet_ms);
	} while (c->n != n);
}

static bool is_file_event(const struct tev *t)
{
	return t->kind >= EV_CREATE && t->kind < EV_KIND_MAX;
}

static size_t count_file_events(const struct col *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += is_file_event(&c->v[i]);
	return n;
}

static void dump(const struct col *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct tev *t = &c->v[i];

		print_message("  [%zu] %s tgid=%u flags=%#x mode=%o uid=%d gid=%d path=%s path2=%s\n",
			      i, ev_kind_name(t->kind), t->tgid, t->flags, t->mode, (int)t->fuid,
			      (int)t->fgid, t->path ? t->path : "-", t->path2 ? t->path2 : "-");
	}
}

/* ---- opening the source ------------------------------------------------- */

static void open_src(struct vg_source *s, const struct vg_source_opts *o)
{
	struct vg_err err;

	if (bpf_source_open(s, o, &err) == 0)
		return;
	if (geteuid() == 0 || getenv("CI"))
		fail_msg("bpf_source_open: %s", err.msg);
	print_message("skipped: bpf_source_open: %s (not root, CI unset)\n", err.msg);
	skip();
}

static void opts_for(struct vg_source_opts *o, struct vg_strv *paths, const char *path,
		     bool process_events)
{
	memset(paths, 0, sizeof(*paths));
	if (path)
		strv_push(paths, path);
	memset(o, 0, sizeof(*o));
	o->paths = paths;
	o->process_events = process_events;
}

/* ---- (a) processes ------------------------------------------------------ */

struct pid_kind {
	pid_t pid;
	enum ev_kind kind;
};

static bool match_pid_kind(const struct tev *t, const void *arg)
{
	const struct pid_kind *pk = arg;

	return t->kind == pk->kind && t->tgid == (uint32_t)pk->pid;
}

static size_t count_pid_kind(const struct col *c, pid_t pid, enum ev_kind kind)
{
	struct pid_kind pk = {pid, kind};
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += match_pid_kind(&c->v[i], &pk);
	return n;
}

static uint32_t self_loginuid(void)
{
	unsigned long v = (uint32_t)-1;
	FILE *f = fopen("/proc/self/loginuid", "r");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = (uint32_t)-1;
		fclose(f);
	}
	return (uint32_t)v;
}

static uint32_t self_mntns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/mnt", &st))
		fail_msg("/proc/self/ns/mnt: %s", strerror(errno));
	return (uint32_t)st.st_ino;
}

static void *exit3(void *arg)
{
	(void)arg;
	exit(3);
}

/* Runs child() in a new process and waits for it. */
static pid_t run_child(int (*child)(void))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child());
	if (waitpid(pid, &status, 0) != pid)
		fail_msg("waitpid: %s", strerror(errno));
	return pid;
}

static int child_echo(void)
{
	char *argv[] = {"echo", "vigil-exec-test", "two words", NULL};
	char *envp[] = {NULL};
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		return 126;
	execve("/bin/echo", argv, envp);
	return 127;
}

static int child_exit7(void)
{
	return 7;
}

static int child_killed(void)
{
	raise(SIGKILL);
	return 0;
}

static int child_thread_exit(void)
{
	pthread_t th;

	if (pthread_create(&th, NULL, exit3, NULL))
		return 125;
	for (;;)
		pause();
}

static const struct tev *wait_exit(struct vg_source *s, struct col *c, pid_t pid)
{
	struct pid_kind pk = {pid, EV_EXIT};
	const struct tev *t = wait_for(s, c, match_pid_kind, &pk, 5000);

	if (!t) {
		dump(c);
		fail_msg("no exit event for pid %d", (int)pid);
	}
	return t;
}

static void process_events(void **state)
{
	static const char want_args[] = "echo\0vigil-exec-test\0two words";
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct col c = {0};
	const struct tev *t;
	struct pid_kind pk;
	char exe[PATH_MAX], cwd[PATH_MAX];
	pid_t pid;

	(void)state;
	opts_for(&o, &paths, NULL, true);
	open_src(&s, &o);
	assert_non_null(realpath("/bin/echo", exe));
	assert_non_null(getcwd(cwd, sizeof(cwd)));

	pid = run_child(child_echo);
	t = wait_exit(&s, &c, pid);
	assert_int_equal(t->code, 0);
	assert_false(t->flags & EVF_SIGNALED);
	pk = (struct pid_kind){pid, EV_FORK};
	t = find(&c, match_pid_kind, &pk);
	assert_non_null(t);
	assert_int_equal(t->pid, pid);
	assert_int_equal(t->ppid, getpid());
	pk.kind = EV_EXEC;
	t = find(&c, match_pid_kind, &pk);
	if (!t) {
		dump(&c);
		fail_msg("no exec event for pid %d", (int)pid);
	}
	assert_int_equal(t->ppid, getpid());
	assert_string_equal(t->exe, exe);
	assert_string_equal(t->cwd, cwd);
	assert_string_equal(t->comm, "echo");
	assert_int_equal(t->args_len, sizeof(want_args));
	assert_memory_equal(t->args, want_args, sizeof(want_args));
	assert_false(t->flags & (EVF_ARGS_TRUNC | EVF_PATH_TRUNC));
	assert_int_equal(t->uid, getuid());
	assert_int_equal(t->auid, self_loginuid());
	assert_int_equal(t->mntns, self_mntns());

	pid = run_child(child_exit7);
	t = wait_exit(&s, &c, pid);
	assert_int_equal(t->code, 7);
	assert_false(t->flags & EVF_SIGNALED);

	pid = run_child(child_killed);
	t = wait_exit(&s, &c, pid);
	assert_int_equal(t->code, SIGKILL);
	assert_true(t->flags & EVF_SIGNALED);

	/* A thread ends the process: one exit, with the process's code, and
	 * no fork event for the thread. */
	pid = run_child(child_thread_exit);
	t = wait_exit(&s, &c, pid);
	assert_int_equal(t->code, 3);
	settle(&s, &c, 100);
	assert_int_equal(count_pid_kind(&c, pid, EV_EXIT), 1);
	assert_int_equal(count_pid_kind(&c, pid, EV_FORK), 1);

	s.close(s.impl);
	col_free(&c);
	strv_free(&paths);
}

/* ---- (b), (c) file operations ------------------------------------------- */

struct want {
	enum ev_kind kind;
	char *path, *path2;
	int mode;			/* -1: not checked */
	uint32_t fuid, fgid;		/* checked for EV_CHOWN */
	uint32_t flags;			/* that must be set */
	uint32_t tgid;			/* 0: the test's own */
};

struct wants {
	struct want v[96];
	size_t n;
	bool no_xattr;
};

static void expect(struct wants *w, enum ev_kind kind, const char *path, const char *path2,
		   int mode)
{
	struct want *x;

	if (!w)
		return;
	assert_true(w->n < sizeof(w->v) / sizeof(w->v[0]));
	x = &w->v[w->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->path = dup_or_null(path);
	x->path2 = dup_or_null(path2);
	x->mode = mode;
}

static void wants_free(struct wants *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].path);
		free(w->v[i].path2);
	}
	w->n = 0;
}

#define CHECK(call)                                                                   \
	do {                                                                          \
		if ((call) < 0)                                                       \
			fail_msg("%s: %s", #call, strerror(errno));                   \
	} while (0)

static char *join(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* One scratch path per call, freed by the next round. */
static char *pbuf[64];
static size_t pn;

static const char *at(const char *dir, const char *name)
{
	char *p = join(dir, name);

	free(pbuf[pn % 64]);
	pbuf[pn++ % 64] = p;
	return p;
}

static void write_close(int fd)
{
	CHECK(write(fd, "x", 1));
	CHECK(close(fd));
}

/*
 * Every kind of file operation under dir, recording in w (when not NULL)
 * the event each must produce, in order.
 */
static void run_ops(const char *dir, struct wants *w)
{
	uid_t u = geteuid() == 0 ? 1234 : getuid();
	gid_t g = geteuid() == 0 ? 5678 : getgid();
	struct open_how how = {.flags = O_CREAT | O_WRONLY, .mode = 0600};
	struct iovec iov = {.iov_base = "y", .iov_len = 1};
	char cwd[PATH_MAX];
	int dfd, fd;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	CHECK(dfd = open(dir, O_RDONLY | O_DIRECTORY));

	/* Create, modify, truncate by open; "existed" is not "created". */
	CHECK(fd = open(at(dir, "f"), O_CREAT | O_EXCL | O_WRONLY, 0644));
	expect(w, EV_CREATE, at(dir, "f"), NULL, S_IFREG | 0644);
	write_close(fd);
	expect(w, EV_MODIFY, at(dir, "f"), NULL, -1);
	CHECK(fd = openat(dfd, "f", O_WRONLY));
	CHECK(pwrite(fd, "z", 1, 0));
	CHECK(close(fd));
	expect(w, EV_MODIFY, at(dir, "f"), NULL, -1);
	CHECK(fd = open(at(dir, "f"), O_WRONLY));	/* no write: nothing */
	CHECK(close(fd));
	CHECK(fd = open(at(dir, "f"), O_WRONLY | O_TRUNC));
	expect(w, EV_TRUNCATE, at(dir, "f"), NULL, 0);
	CHECK(close(fd));
	CHECK(fd = open(at(dir, "f"), O_CREAT | O_WRONLY, 0600));	/* exists */
	CHECK(writev(fd, &iov, 1));
	CHECK(close(fd));
	expect(w, EV_MODIFY, at(dir, "f"), NULL, -1);
	CHECK(fd = open(at(dir, "g"), O_CREAT | O_WRONLY, 0600));
	expect(w, EV_CREATE, at(dir, "g"), NULL, S_IFREG | 0600);
	CHECK(close(fd));
	CHECK(fd = creat(at(dir, "c"), 0600));
	expect(w, EV_CREATE, at(dir, "c"), NULL, S_IFREG | 0600);
	CHECK(close(fd));
	CHECK(fd = (int)syscall(SYS_openat2, dfd, "o2", &how, sizeof(how)));
	expect(w, EV_CREATE, at(dir, "o2"), NULL, S_IFREG | 0600);
	CHECK(close(fd));

	/* Renames, by path and by dirfd. */
	CHECK(rename(at(dir, "g"), at(dir, "h")));
	expect(w, EV_RENAME, at(dir, "g"), at(dir, "h"), -1);
	CHECK(syscall(SYS_renameat2, dfd, "h", dfd, "i", RENAME_NOREPLACE));
	expect(w, EV_RENAME, at(dir, "h"), at(dir, "i"), -1);
	CHECK(renameat(dfd, "i", dfd, "j"));
	expect(w, EV_RENAME, at(dir, "i"), at(dir, "j"), -1);

	/* Modes and owners. */
	CHECK(fchmodat(AT_FDCWD, at(dir, "f"), 0600, 0));
	expect(w, EV_CHMOD, at(dir, "f"), NULL, 0600);
	CHECK(chmod(at(dir, "f"), 0644));
	expect(w, EV_CHMOD, at(dir, "f"), NULL, 0644);
	CHECK(fd = open(at(dir, "f"), O_RDONLY));
	CHECK(fchmod(fd, 0640));
	expect(w, EV_CHMOD, at(dir, "f"), NULL, 0640);
	CHECK(fchown(fd, u, g));
	expect(w, EV_CHOWN, at(dir, "f"), NULL, -1);
	CHECK(close(fd));
	if (syscall(NR_fchmodat2, dfd, "f", 0644, 0) == 0)
		expect(w, EV_CHMOD, at(dir, "f"), NULL, 0644);
	else if (errno != ENOSYS)
		fail_msg("fchmodat2: %s", strerror(errno));
	CHECK(chown(at(dir, "f"), u, g));
	expect(w, EV_CHOWN, at(dir, "f"), NULL, -1);
	CHECK(fchownat(dfd, "f", u, g, 0));
	expect(w, EV_CHOWN, at(dir, "f"), NULL, -1);

	/* Truncation by path and by fd; ftruncate is not a write. */
	CHECK(truncate(at(dir, "f"), 3));
	expect(w, EV_TRUNCATE, at(dir, "f"), NULL, -1);
	CHECK(fd = open(at(dir, "f"), O_RDWR));
	CHECK(ftruncate(fd, 1));
	expect(w, EV_TRUNCATE, at(dir, "f"), NULL, -1);
	CHECK(close(fd));

	/* Links, symlinks, directories, nodes. */
	CHECK(link(at(dir, "f"), at(dir, "l")));
	expect(w, EV_LINK, at(dir, "f"), at(dir, "l"), -1);
	CHECK(linkat(dfd, "f", dfd, "l2", 0));
	expect(w, EV_LINK, at(dir, "f"), at(dir, "l2"), -1);
	CHECK(symlink("target-text", at(dir, "s")));
	expect(w, EV_SYMLINK, "target-text", at(dir, "s"), -1);
	CHECK(symlinkat("t2", dfd, "s2"));
	expect(w, EV_SYMLINK, "t2", at(dir, "s2"), -1);
	CHECK(mkdir(at(dir, "d"), 0750));
	expect(w, EV_MKDIR, at(dir, "d"), NULL, 0750);
	CHECK(mkdirat(dfd, "d2", 0700));
	expect(w, EV_MKDIR, at(dir, "d2"), NULL, 0700);
	CHECK(mknod(at(dir, "p"), S_IFIFO | 0600, 0));
	expect(w, EV_CREATE, at(dir, "p"), NULL, S_IFIFO | 0600);
	CHECK(mknodat(dfd, "p2", S_IFIFO | 0600, 0));
	expect(w, EV_CREATE, at(dir, "p2"), NULL, S_IFIFO | 0600);

	/* Extended attributes, where the file system takes user.* ones. */
	if (setxattr(at(dir, "f"), "user.vigil", "1", 1, 0) == 0) {
		expect(w, EV_SETXATTR, at(dir, "f"), "user.vigil", -1);
		CHECK(fd = open(at(dir, "f"), O_RDONLY));
		CHECK(fsetxattr(fd, "user.fd", "2", 1, 0));
		expect(w, EV_SETXATTR, at(dir, "f"), "user.fd", -1);
		CHECK(close(fd));
	} else if (errno == ENOTSUP) {
		if (w)
			w->no_xattr = true;
	} else {
		fail_msg("setxattr: %s", strerror(errno));
	}

	/* Relative names from a cwd inside dir; "." and "//" fold away, a
	 * ".." is resolved by user space and flagged. */
	CHECK(chdir(at(dir, "d")));
	CHECK(fd = open("rel", O_CREAT | O_WRONLY, 0644));
	expect(w, EV_CREATE, at(dir, "d/rel"), NULL, S_IFREG | 0644);
	write_close(fd);
	expect(w, EV_MODIFY, at(dir, "d/rel"), NULL, -1);
	CHECK(mkdir(".//sub/", 0700));
	expect(w, EV_MKDIR, at(dir, "d/sub"), NULL, 0700);
	CHECK(rmdir("sub/../sub"));
	expect(w, EV_RMDIR, at(dir, "d/sub"), NULL, -1);
	if (w)
		w->v[w->n - 1].flags = EVF_PATH_RELATIVE;
	CHECK(unlink("rel"));
	expect(w, EV_DELETE, at(dir, "d/rel"), NULL, -1);
	CHECK(chdir(cwd));

	/* Deletions, by dirfd and by path. */
	CHECK(unlinkat(dfd, "l2", 0));
	expect(w, EV_DELETE, at(dir, "l2"), NULL, -1);
	CHECK(unlinkat(dfd, "d2", AT_REMOVEDIR));
	expect(w, EV_RMDIR, at(dir, "d2"), NULL, 0);
	static const char *const names[] = {"l", "s", "s2", "p", "p2", "c", "o2", "j", "f"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK(unlink(at(dir, names[i])));
		expect(w, EV_DELETE, at(dir, names[i]), NULL, -1);
	}
	CHECK(rmdir(at(dir, "d")));
	expect(w, EV_RMDIR, at(dir, "d"), NULL, -1);
	CHECK(close(dfd));

	if (w) {
		for (size_t i = 0; i < w->n; i++)
			if (w->v[i].kind == EV_CHOWN) {
				w->v[i].fuid = u;
				w->v[i].fgid = g;
			}
	}
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The file events received must be exactly the wanted ones, in order. */
static void check_exact(const struct col *c, const struct wants *w)
{
	size_t j = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct tev *t = &c->v[i];
		const struct want *x;

		if (!is_file_event(t))
			continue;
		if (j >= w->n) {
			dump(c);
			fail_msg("event %zu: %s %s is not expected", i, ev_kind_name(t->kind), t->path);
		}
		x = &w->v[j++];
		if (t->kind != x->kind || !str_eq(t->path, x->path) || !str_eq(t->path2, x->path2) ||
		    t->tgid != (x->tgid ? x->tgid : (uint32_t)getpid()) || (x->mode >= 0 && t->mode != (uint32_t)x->mode) ||
		    (t->flags & x->flags) != x->flags ||
		    (x->kind == EV_CHOWN && (t->fuid != x->fuid || t->fgid != x->fgid))) {
			dump(c);
			fail_msg("event %zu: got %s %s %s mode %o, want %s %s %s mode %o", i,
				 ev_kind_name(t->kind), t->path, t->path2 ? t->path2 : "-", t->mode,
				 ev_kind_name(x->kind), x->path, x->path2 ? x->path2 : "-", x->mode);
		}
	}
	if (j != w->n) {
		dump(c);
		fail_msg("got %zu of %zu events; first missing: %s %s", j, w->n,
			 ev_kind_name(w->v[j].kind), w->v[j].path);
	}
}

static int inherited_fd = -1;

static int child_write_inherited(void)
{
	return write(inherited_fd, "c", 1) == 1 ? 0 : 1;
}

struct dirs {
	char *root;		/* the temporary directory */
	char *w, *u;		/* watched, and an unwatched sibling sharing w's prefix */
};

static void dirs_make(struct dirs *d)
{
	char *r = tu_mkroot(), *real = realpath(r, NULL);

	assert_non_null(real);
	free(r);
	d->root = real;
	d->w = join(real, "w");
	d->u = join(real, "w2");
	CHECK(mkdir(d->w, 0755));
	CHECK(mkdir(d->u, 0755));
}

static void dirs_free(struct dirs *d)
{
	tu_rmroot(d->root);
	free(d->w);
	free(d->u);
}

static void file_events(void **state)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct col c = {0};
	struct wants w = {0};
	struct dirs d;
	char *link;
	int fd, ufd;
	pid_t pid;

	(void)state;
	umask(022);
	dirs_make(&d);
	opts_for(&o, &paths, d.w, false);
	open_src(&s, &o);

	run_ops(d.w, &w);
	if (w.no_xattr)
		print_message("note: %s refuses user.* xattrs: setxattr not tested\n", d.w);

	/* A ".." from an unwatched cwd into the watched dir is found. */
	CHECK(chdir(d.u));
	CHECK(mkdir("../w/viadotdot", 0700));
	expect(&w, EV_MKDIR, at(d.w, "viadotdot"), NULL, 0700);
	w.v[w.n - 1].flags = EVF_PATH_RELATIVE;
	/* A cwd reached through a symlink is the watched dir all the same. */
	link = join(d.root, "link");
	CHECK(symlink(d.w, link));
	CHECK(chdir(link));
	CHECK(rmdir("viadotdot"));
	expect(&w, EV_RMDIR, at(d.w, "viadotdot"), NULL, -1);
	CHECK(chdir("/"));

	while (count_file_events(&c) < w.n) {
		size_t n = c.n;

		pump(&s, &c, 2000);
		if (c.n == n)
			break;
	}
	settle(&s, &c, 100);
	check_exact(&c, &w);

	/* A write through another fd of the same open file counts; dup2
	 * closing the written fd is a close; the fd then names an unwatched
	 * file, whose write and close are nothing. */
	col_clear(&c);
	wants_free(&w);
	CHECK(fd = open(at(d.w, "dup"), O_CREAT | O_WRONLY, 0644));
	expect(&w, EV_CREATE, at(d.w, "dup"), NULL, S_IFREG | 0644);
	CHECK(ufd = dup(fd));
	CHECK(close(fd));			/* not written yet: nothing */
	CHECK(write(ufd, "x", 1));
	CHECK(fd = open(at(d.u, "x"), O_CREAT | O_WRONLY, 0644));
	CHECK(dup2(fd, ufd));
	expect(&w, EV_MODIFY, at(d.w, "dup"), NULL, -1);
	CHECK(close(fd));
	write_close(ufd);
	/* A child writes to an inherited fd and exits without close(2). */
	CHECK(fd = open(at(d.w, "dup"), O_WRONLY | O_APPEND));
	inherited_fd = fd;
	pid = run_child(child_write_inherited);
	expect(&w, EV_MODIFY, at(d.w, "dup"), NULL, -1);
	w.v[w.n - 1].tgid = (uint32_t)pid;
	CHECK(close(fd));			/* written by the child, already told */
	CHECK(unlink(at(d.w, "dup")));
	expect(&w, EV_DELETE, at(d.w, "dup"), NULL, -1);
	settle(&s, &c, 100);
	check_exact(&c, &w);

	s.close(s.impl);
	unlink(link);
	free(link);
	wants_free(&w);
	col_free(&c);
	strv_free(&paths);
	dirs_free(&d);
}

/* (c): the same operations next to the watched dir produce nothing. */
static void unwatched_silent(void **state)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct col c = {0};
	struct dirs d;

	(void)state;
	dirs_make(&d);
	opts_for(&o, &paths, d.w, false);
	open_src(&s, &o);
	run_ops(d.u, NULL);
	CHECK(chdir(d.w));	/* a ".." out of the watched dir leaves it */
	CHECK(mkdir("../w2/out", 0700));
	CHECK(rmdir("../w2/out"));
	CHECK(chdir("/"));
	settle(&s, &c, 200);
	if (c.n) {
		dump(&c);
		fail_msg("%zu events for an unwatched directory", c.n);
	}
	s.close(s.impl);
	col_free(&c);
	strv_free(&paths);
	dirs_free(&d);
}

struct path_kind {
	const char *path;
	enum ev_kind kind;
};

static bool match_path_kind(const struct tev *t, const void *arg)
{
	const struct path_kind *pk = arg;

	return t->kind == pk->kind && t->path && !strcmp(t->path, pk->path) &&
	       t->tgid == (uint32_t)getpid();
}

/*
 * Paths across mounts: a watched directory on a tmpfs below /dev (two
 * mount roots to cross on the way up), and, as root, a tmpfs mounted
 * inside the watched directory by a child in a mount namespace of its own:
 * its files are found by inode (the namespace's paths are not prefix
 * matched) and named as that namespace sees them.
 */
static const char *mount_dir;

static int child_in_own_mntns(void)
{
	char *m = join(mount_dir, "m"), *g = join(m, "g");
	int fd, dfd;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", m, "tmpfs", 0, "size=1m"))
		return 100;
	if ((fd = open(g, O_CREAT | O_WRONLY, 0644)) < 0 || close(fd))
		return 101;
	if ((dfd = open(m, O_RDONLY | O_DIRECTORY)) < 0 || unlinkat(dfd, "g", 0))
		return 102;
	return 0;
}

static void mounts_crossed(void **state)
{
	char tmpl[] = "/dev/shm/vigil-bpf-XXXXXX";
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct col c = {0};
	struct wants w = {0};
	struct dirs d;
	char *dir;
	pid_t pid;
	int fd, status;

	(void)state;
	if (!mkdtemp(tmpl))
		fail_msg("mkdtemp %s: %s", tmpl, strerror(errno));
	dir = realpath(tmpl, NULL);
	assert_non_null(dir);
	dirs_make(&d);
	opts_for(&o, &paths, dir, false);
	strv_push(&paths, d.w);
	open_src(&s, &o);

	CHECK(fd = open(at(dir, "f"), O_CREAT | O_WRONLY, 0644));
	expect(&w, EV_CREATE, at(dir, "f"), NULL, S_IFREG | 0644);
	CHECK(close(fd));
	CHECK(mkdir(at(dir, "sub"), 0700));
	expect(&w, EV_MKDIR, at(dir, "sub"), NULL, 0700);
	CHECK(rmdir(at(dir, "sub")));
	expect(&w, EV_RMDIR, at(dir, "sub"), NULL, -1);
	CHECK(unlink(at(dir, "f")));
	expect(&w, EV_DELETE, at(dir, "f"), NULL, -1);

	CHECK(mkdir(at(d.w, "m"), 0755));
	expect(&w, EV_MKDIR, at(d.w, "m"), NULL, 0755);
	mount_dir = d.w;
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child_in_own_mntns());
	CHECK(waitpid(pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 100) {
		if (geteuid() == 0)
			fail_msg("a tmpfs in a new mount namespace: %s", strerror(errno));
		print_message("note: not root: no tmpfs inside the watched directory\n");
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail_msg("child in its own mount namespace: status %#x", status);
	} else {
		expect(&w, EV_CREATE, at(d.w, "m/g"), NULL, S_IFREG | 0644);
		w.v[w.n - 1].tgid = (uint32_t)pid;
		expect(&w, EV_DELETE, at(d.w, "m/g"), NULL, -1);
		w.v[w.n - 1].tgid = (uint32_t)pid;
	}
	CHECK(rmdir(at(d.w, "m")));
	expect(&w, EV_RMDIR, at(d.w, "m"), NULL, -1);
	settle(&s, &c, 100);
	check_exact(&c, &w);

	s.close(s.impl);
	rmdir(dir);
	free(dir);
	wants_free(&w);
	col_free(&c);
	strv_free(&paths);
	dirs_free(&d);
}

/* A watched file, not a directory: its siblings are not watched, and an
 * editor's save (write a new file, rename it over) keeps it watched. */
static void watched_file_replaced(void **state)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct col c = {0};
	struct wants w = {0};
	struct dirs d;
	struct path_kind pk;
	int fd;

	(void)state;
	dirs_make(&d);
	CHECK(fd = open(at(d.w, "cfg"), O_CREAT | O_WRONLY, 0644));
	CHECK(close(fd));
	CHECK(fd = open(at(d.w, "other"), O_CREAT | O_WRONLY, 0644));
	CHECK(close(fd));
	opts_for(&o, &paths, at(d.w, "cfg"), false);
	open_src(&s, &o);

	CHECK(fd = open(at(d.w, "cfg"), O_WRONLY));
	write_close(fd);
	expect(&w, EV_MODIFY, at(d.w, "cfg"), NULL, -1);
	CHECK(chmod(at(d.w, "other"), 0600));		/* a sibling */
	CHECK(fd = open(at(d.w, "cfg.new"), O_CREAT | O_WRONLY, 0644));
	write_close(fd);
	CHECK(rename(at(d.w, "cfg.new"), at(d.w, "cfg")));
	expect(&w, EV_RENAME, at(d.w, "cfg.new"), at(d.w, "cfg"), -1);
	/* The new inode is watched once the rename has been seen. */
	pk = (struct path_kind){at(d.w, "cfg.new"), EV_RENAME};
	if (!wait_for(&s, &c, match_path_kind, &pk, 3000)) {
		dump(&c);
		fail_msg("no rename over the watched file");
	}
	CHECK(fd = open(at(d.w, "cfg"), O_WRONLY));
	write_close(fd);
	expect(&w, EV_MODIFY, at(d.w, "cfg"), NULL, -1);
	settle(&s, &c, 100);
	check_exact(&c, &w);

	s.close(s.impl);
	wants_free(&w);
	col_free(&c);
	strv_free(&paths);
	dirs_free(&d);
}

/* The kernel caches each directory's "watched?" verdict for write-intent
 * opens: a directory whose (unwatched) verdict is cached and that is then
 * renamed into the watched tree must be seen as watched at once. */
static void cached_dir_moved_in(void **state)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct col c = {0};
	struct wants w = {0};
	struct dirs d;
	char *ux, *wx;
	int fd;

	(void)state;
	dirs_make(&d);
	ux = join(d.u, "x");
	wx = join(d.w, "x");
	CHECK(mkdir(ux, 0755));
	opts_for(&o, &paths, d.w, false);
	open_src(&s, &o);

	for (int i = 0; i < 3; i++) {		/* unwatched: verdict cached */
		CHECK(fd = open(at(ux, "f"), O_CREAT | O_WRONLY | O_TRUNC, 0644));
		write_close(fd);
	}
	CHECK(rename(ux, wx));
	expect(&w, EV_RENAME, ux, wx, -1);
	CHECK(fd = open(at(wx, "f"), O_WRONLY));
	write_close(fd);
	expect(&w, EV_MODIFY, at(wx, "f"), NULL, -1);
	CHECK(fd = open(at(wx, "g"), O_CREAT | O_WRONLY, 0644));
	expect(&w, EV_CREATE, at(wx, "g"), NULL, S_IFREG | 0644);
	CHECK(close(fd));
	/* And back out: no longer watched. */
	CHECK(rename(wx, ux));
	expect(&w, EV_RENAME, wx, ux, -1);
	CHECK(fd = open(at(ux, "f"), O_WRONLY | O_TRUNC));
	write_close(fd);
	settle(&s, &c, 100);
	check_exact(&c, &w);

	s.close(s.impl);
	free(ux);
	free(wx);
	wants_free(&w);
	col_free(&c);
	strv_free(&paths);
	dirs_free(&d);
}

/* ---- (d) a burst into a small ring -------------------------------------- */

static size_t count_path_kind(const struct col *c, const char *path, enum ev_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->v[i].kind == kind && c->v[i].path && !strcmp(c->v[i].path, path) &&
		     c->v[i].tgid == (uint32_t)getpid();
	return n;
}

/* n chmods, consuming every `every`; returns events received per second. */
static double burst(const char *dir, const char *ring, size_t n, size_t every,
		    size_t *got, uint64_t *dropped)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct vg_counters k;
	struct col c = {0};
	char *f = join(dir, "burst");
	int64_t t0, t1;
	int fd;

	opts_for(&o, &paths, dir, false);
	if (ring)
		o.ring_bytes = (size_t)strtoull(ring, NULL, 10);
	open_src(&s, &o);
	CHECK(fd = open(f, O_CREAT | O_WRONLY, 0644));
	CHECK(close(fd));
	settle(&s, &c, 50);
	col_clear(&c);

	t0 = now_ms();
	for (size_t i = 0; i < n; i++) {
		CHECK(chmod(f, i & 1 ? 0600 : 0644));
		if (i % every == every - 1 && s.poll(s.impl, collect, &c) < 0)
			fail_msg("poll: %s", strerror(errno));
		if (c.n > 4096) {	/* keep the count, not the copies */
			*got += count_path_kind(&c, f, EV_CHMOD);
			col_clear(&c);
		}
	}
	settle(&s, &c, 100);
	t1 = now_ms();
	*got += count_path_kind(&c, f, EV_CHMOD);
	s.counters(s.impl, &k);
	*dropped = k.drops[DROP_RINGBUF_FULL];
	s.close(s.impl);
	col_free(&c);
	strv_free(&paths);
	free(f);
	return (double)*got * 1000.0 / (double)(t1 > t0 ? t1 - t0 : 1);
}

/* One poll delivers a bounded batch, and the fd stays readable while
 * records wait: a flood cannot keep the loop from its other work. The fd
 * is also readable on each tick of the drain timer (10 ms), when a poll
 * may deliver nothing: 20 empty polls in a row end the wait. */
static void poll_in_batches(void **state)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct col c = {0};
	struct pollfd p;
	char *dir = tu_mkroot(), *real = realpath(dir, NULL), *f;
	int fd, n, total = 0, rounds = 0, idle = 0;

	(void)state;
	assert_non_null(real);
	f = join(real, "f");
	opts_for(&o, &paths, real, false);
	open_src(&s, &o);
	CHECK(fd = open(f, O_CREAT | O_WRONLY, 0644));
	CHECK(close(fd));
	for (int i = 0; i < 6000; i++)	/* 6000 records fit the 8 MiB ring */
		CHECK(chmod(f, i & 1 ? 0600 : 0644));
	p = (struct pollfd){.fd = s.fd(s.impl), .events = POLLIN};
	while (idle < 20 && poll(&p, 1, 200) == 1) {
		n = s.poll(s.impl, collect, &c);
		assert_true(n >= 0 && n <= 4096);
		if (!n) {
			idle++;
			continue;
		}
		idle = 0;
		total += n;
		rounds++;
	}
	assert_int_equal(total, 6001);
	assert_true(rounds >= 2);
	s.close(s.impl);
	col_free(&c);
	strv_free(&paths);
	free(f);
	free(real);
	tu_rmroot(dir);
}

static void burst_counts_every_drop(void **state)
{
	const size_t n = 50000;
	size_t got = 0;
	uint64_t dropped = 0;
	char *dir = tu_mkroot();
	char *real = realpath(dir, NULL);
	double rate;

	(void)state;
	assert_non_null(real);
	rate = burst(real, "16384", n, 256, &got, &dropped);
	print_message("burst, 16 KiB ring: %zu received + %llu dropped of %zu\n", got,
		      (unsigned long long)dropped, n);
	assert_true(dropped > 0);
	assert_true(got > 0);
	assert_int_equal(got + dropped, n);

	got = 0;
	dropped = 0;
	rate = burst(real, NULL, n, 4096, &got, &dropped);
	print_message("burst, 8 MiB ring: %zu received + %llu dropped of %zu, %.0f events/s\n",
		      got, (unsigned long long)dropped, n, rate);
	assert_int_equal(got + dropped, n);
	free(real);
	tu_rmroot(dir);
}

/* ---- (e) a path too long ------------------------------------------------ */

static bool is_trunc_kind(const struct tev *t, const void *arg)
{
	return t->kind == *(const enum ev_kind *)arg && (t->flags & EVF_PATH_TRUNC);
}

static void long_path_truncated(void **state)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct vg_counters k;
	struct col c = {0};
	struct dirs d;
	char name[201], *p1, *p2, *p3, *f;
	enum ev_kind kind;
	const struct tev *t;
	int fd;

	(void)state;
	memset(name, 'a', 200);
	name[200] = '\0';
	dirs_make(&d);
	opts_for(&o, &paths, d.w, false);
	open_src(&s, &o);
	p1 = join(d.w, name);
	p2 = join(p1, name);
	p3 = join(p2, name);
	f = join(p3, "file");
	assert_true(strlen(p3) >= EV_PATH_LEN);
	CHECK(mkdir(p1, 0700));
	CHECK(mkdir(p2, 0700));
	CHECK(mkdir(p3, 0700));
	CHECK(fd = open(f, O_CREAT | O_WRONLY, 0600));
	CHECK(close(fd));

	kind = EV_MKDIR;	/* path-based: the name made absolute, then cut */
	t = wait_for(&s, &c, is_trunc_kind, &kind, 3000);
	if (!t) {
		dump(&c);
		fail_msg("no truncated mkdir");
	}
	assert_int_equal(strlen(t->path), EV_PATH_LEN - 1);
	assert_memory_equal(t->path, p3, EV_PATH_LEN - 1);
	kind = EV_CREATE;	/* fd-based: the dentry walk, top first, then cut */
	t = wait_for(&s, &c, is_trunc_kind, &kind, 3000);
	if (!t) {
		dump(&c);
		fail_msg("no truncated create");
	}
	assert_int_equal(strlen(t->path), EV_PATH_LEN - 1);
	assert_memory_equal(t->path, f, EV_PATH_LEN - 1);
	s.counters(s.impl, &k);
	assert_true(k.drops[DROP_PATH_TRUNC] >= 2);

	s.close(s.impl);
	free(p1);
	free(p2);
	free(p3);
	free(f);
	col_free(&c);
	strv_free(&paths);
	dirs_free(&d);
}

/* Deeper than EV_PATH_DEPTH levels below the watched dir: still seen (by
 * inode), with the bottom of the path, no leading '/' and EVF_PATH_TRUNC. */
static void deep_tree_seen(void **state)
{
	enum { LEVELS = EV_PATH_DEPTH + 12 };
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct col c = {0};
	struct dirs d;
	enum ev_kind kind = EV_CREATE;
	const struct tev *t;
	size_t mkdirs = 0;
	int dfd, next, fd;

	(void)state;
	dirs_make(&d);
	opts_for(&o, &paths, d.w, false);
	open_src(&s, &o);
	CHECK(dfd = open(d.w, O_RDONLY | O_DIRECTORY));
	for (int i = 0; i < LEVELS; i++) {
		CHECK(mkdirat(dfd, "d", 0700));
		CHECK(next = openat(dfd, "d", O_RDONLY | O_DIRECTORY));
		CHECK(close(dfd));
		dfd = next;
	}
	CHECK(fd = openat(dfd, "file", O_CREAT | O_WRONLY, 0600));
	CHECK(close(fd));
	CHECK(close(dfd));

	t = wait_for(&s, &c, is_trunc_kind, &kind, 3000);
	if (!t) {
		dump(&c);
		fail_msg("no create %d levels down", LEVELS);
	}
	assert_true(t->path[0] != '/');
	assert_non_null(strstr(t->path, "d/d/file"));
	settle(&s, &c, 100);
	for (size_t i = 0; i < c.n; i++)
		mkdirs += c.v[i].kind == EV_MKDIR;
	assert_int_equal(mkdirs, LEVELS);

	s.close(s.impl);
	col_free(&c);
	strv_free(&paths);
	dirs_free(&d);
}

/* ---- (f) watching what does not exist ----------------------------------- */

static void watch_missing_is_error(void **state)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths;
	struct vg_err err;
	struct col c = {0};
	struct dirs d;
	struct path_kind pk;
	int fd;

	(void)state;
	opts_for(&o, &paths, "/nonexistent-vigil/xyz", false);
	assert_int_equal(bpf_source_open(&s, &o, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-vigil/xyz"));
	strv_free(&paths);

	/* Added later: an error naming it; a real one works at once. */
	dirs_make(&d);
	opts_for(&o, &paths, d.w, false);
	open_src(&s, &o);
	assert_int_equal(s.watch(s.impl, "/nonexistent-vigil/later", &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-vigil/later"));
	if (s.watch(s.impl, d.u, &err))
		fail_msg("watch %s: %s", d.u, err.msg);
	CHECK(fd = open(at(d.u, "late"), O_CREAT | O_WRONLY, 0600));
	CHECK(close(fd));
	pk = (struct path_kind){at(d.u, "late"), EV_CREATE};
	if (!wait_for(&s, &c, match_path_kind, &pk, 3000)) {
		dump(&c);
		fail_msg("no create event in a path watched later");
	}
	s.close(s.impl);
	col_free(&c);
	strv_free(&paths);
	dirs_free(&d);
}

/* ---- ignored processes -------------------------------------------------- */

static const char *ignored_target;

static int child_ignored_chmod(void)
{
	prctl(PR_SET_NAME, "vg-ignored");
	return chmod(ignored_target, 0600) ? 1 : 0;
}

static void ignored_comm_dropped(void **state)
{
	struct vg_source s;
	struct vg_source_opts o;
	struct vg_strv paths, ignore = {0};
	struct col c = {0};
	struct dirs d;
	int fd;

	(void)state;
	dirs_make(&d);
	opts_for(&o, &paths, d.w, true);
	strv_push(&ignore, "vg-ignored");
	o.ignore_comm = &ignore;
	open_src(&s, &o);
	ignored_target = at(d.w, "t");
	CHECK(fd = open(ignored_target, O_CREAT | O_WRONLY, 0644));
	CHECK(close(fd));
	run_child(child_ignored_chmod);
	CHECK(chmod(ignored_target, 0640));
	settle(&s, &c, 100);
	assert_int_equal(count_path_kind(&c, ignored_target, EV_CREATE), 1);
	assert_int_equal(count_path_kind(&c, ignored_target, EV_CHMOD), 1);
	for (size_t i = 0; i < c.n; i++)
		if (!strcmp(c.v[i].comm, "vg-ignored") &&
		    (c.v[i].kind == EV_CHMOD || c.v[i].kind == EV_EXIT))
			fail_msg("an event of an ignored process: %s", ev_kind_name(c.v[i].kind));
	s.close(s.impl);
	col_free(&c);
	strv_free(&paths);
	strv_free(&ignore);
	dirs_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(watch_missing_is_error),
		cmocka_unit_test(process_events),
		cmocka_unit_test(file_events),
		cmocka_unit_test(unwatched_silent),
		cmocka_unit_test(watched_file_replaced),
		cmocka_unit_test(cached_dir_moved_in),
		cmocka_unit_test(mounts_crossed),
		cmocka_unit_test(long_path_truncated),
		cmocka_unit_test(deep_tree_seen),
		cmocka_unit_test(ignored_comm_dropped),
		cmocka_unit_test(poll_in_batches),
		cmocka_unit_test(burst_counts_every_drop),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	for (size_t i = 0; i < 64; i++)
		free(pbuf[i]);
	return r;
}
