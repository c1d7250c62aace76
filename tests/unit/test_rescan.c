/* test_rescan.c: snapshots of the watched set, their differences, and the
 * source that rescans on a timer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "watch.h"

#define ANY ((const char *)-1)		/* find(): any path2 */
#define NOID ((uint32_t)-1)

struct rec {
	enum ev_kind kind;
	char *path, *path2;
	uint32_t mode, fuid, fgid, tgid, uid;
	bool rescan;
};

struct evlog {
	struct rec *v;
	size_t n, cap;
};

static void collect(void *u, const struct vg_event *ev)
{
	struct evlog *l = u;
	struct rec *r;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	r = &l->v[l->n++];
	*r = (struct rec){ev->kind, ev->path ? xstrdup(ev->path) : NULL,
			  ev->path2 ? xstrdup(ev->path2) : NULL, ev->mode, ev->fuid, ev->fgid,
			  ev->tgid, ev->uid, ev->found_by != NULL};
}

static void evlog_free(struct evlog *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].path2);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool same(const char *a, const char *b)
{
	return b == ANY || (a && b ? !strcmp(a, b) : a == b);
}

static const struct rec *find(const struct evlog *l, enum ev_kind k, const char *path,
			      const char *path2)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == k && same(l->v[i].path, path) && same(l->v[i].path2, path2))
			return &l->v[i];
	return NULL;
}

static size_t count(const struct evlog *l, enum ev_kind k, const char *path)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].kind == k && same(l->v[i].path, path);
	return n;
}

static const char *dump(const struct evlog *l)
{
	static char out[8192];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n && len < sizeof(out) - 1; i++) {
		int n = snprintf(out + len, sizeof(out) - len, "\n  kind %d %s -> %s mode %o",
				 l->v[i].kind, l->v[i].path ? l->v[i].path : "(null)",
				 l->v[i].path2 ? l->v[i].path2 : "(null)", l->v[i].mode);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return out;
}

#define expect_event(l, k, p, p2)                                                        \
	do {                                                                             \
		if (!find((l), (k), (p), (p2)))                                          \
			fail_msg("no event of kind %d for %s; got:%s", (k), (p), dump(l)); \
	} while (0)

static struct vg_snapshot *snap_of(const char *root, size_t max)
{
	struct vg_strv p = {0};
	struct vg_snapshot *s;

	strv_push(&p, root);
	s = snapshot_take(&p, max);
	strv_free(&p);
	assert_non_null(s);
	return s;
}

static char *at(const char *root, const char *rel)
{
	return xasprintf("%s/%s", root, rel);
}

static void set_times(const char *root, const char *rel, time_t secs)
{
	struct timespec ts[2] = {{secs, 0}, {secs, 0}};
	char *p = at(root, rel);

	if (utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW))
		fail_msg("utimensat %s: %s", p, strerror(errno));
	free(p);
}

/* Names whose order differs between plain byte order and path order. */
static void make_tricky_tree(const char *r)
{
	static const char *const files[] = {
		"/a/x", "/a/y/z", "/a-b", "/a.b/c", "/a0", "/b c", "/\xc3\xa9t\xc3\xa9",
		"/a/x-1", "/a/x/../w", "/z", NULL,
	};

	for (size_t i = 0; files[i]; i++)
		if (!strstr(files[i], ".."))
			tu_write(r, files[i], "x", 0644);
	tu_mkdir(r, "/a/empty", 0755);
	tu_symlink(r, "a", "/link-to-a");
}

static void unchanged_tree_gives_nothing(void **state)
{
	char *r = tu_mkroot();
	struct vg_snapshot *a, *b;
	struct evlog l = {0};

	(void)state;
	make_tricky_tree(r);
	a = snap_of(r, 1000);
	b = snap_of(r, 1000);
	/* root, a, a/empty, a/x, a/x-1, a/y, a/y/z, a-b, a.b, a.b/c, a0, b c,
	 * été, link-to-a, z */
	assert_int_equal(snapshot_size(a), 15);
	assert_int_equal(snapshot_size(b), 15);
	snapshot_diff(a, b, collect, &l);
	if (l.n)
		fail_msg("an unchanged tree gave %zu events:%s", l.n, dump(&l));

	/* One new name in the middle of the order: exactly one event. */
	tu_write(r, "/a-a", "x", 0644);
	snapshot_free(b);
	b = snap_of(r, 1000);
	snapshot_diff(a, b, collect, &l);
	assert_int_equal(l.n, 1);
	char *p = at(r, "a-a");
	expect_event(&l, EV_CREATE, p, NULL);
	free(p);

	/* One name gone just before "a-a" in path order (in byte order it sorts
	 * after it): exactly one event again. */
	evlog_free(&l);
	snapshot_free(a);
	a = b;
	p = at(r, "a/y/z");
	assert_int_equal(unlink(p), 0);
	b = snap_of(r, 1000);
	snapshot_diff(a, b, collect, &l);
	if (l.n != 1)
		fail_msg("one deletion gave %zu events:%s", l.n, dump(&l));
	expect_event(&l, EV_DELETE, p, NULL);
	free(p);

	/* Back to the fixture's 15 entries. */
	tu_write(r, "/a/y/z", "x", 0644);
	p = at(r, "a-a");
	assert_int_equal(unlink(p), 0);
	free(p);
	snapshot_free(a);
	snapshot_free(b);
	a = snap_of(r, 1000);
	b = NULL;

	/* Against nothing: everything is new, nothing is gone. */
	evlog_free(&l);
	snapshot_diff(NULL, a, collect, &l);
	assert_int_equal(l.n, 15);
	assert_int_equal(count(&l, EV_MKDIR, ANY), 5);
	assert_int_equal(count(&l, EV_SYMLINK, "a"), 1);
	evlog_free(&l);
	snapshot_diff(a, NULL, collect, &l);
	assert_int_equal(count(&l, EV_RMDIR, ANY) + count(&l, EV_DELETE, ANY), 15);

	evlog_free(&l);
	snapshot_free(a);
	snapshot_free(b);
	tu_rmroot(r);
}

static void each_kind_of_difference(void **state)
{
	char *r = tu_mkroot();
	struct vg_snapshot *a, *b;
	struct evlog l = {0};
	bool root = geteuid() == 0;
	char *p, *q;
	int fd;

	(void)state;
	tu_write(r, "/gone", "x", 0644);
	tu_mkdir(r, "/gonedir", 0755);
	tu_write(r, "/perm", "x", 0600);
	tu_mkdir(r, "/permdir", 0700);
	tu_write(r, "/owned", "x", 0644);
	tu_write(r, "/content", "aaaa", 0644);
	tu_write(r, "/grown", "aaaa", 0644);
	tu_write(r, "/replaced", "old", 0644);
	tu_write(r, "/stomped", "aaaa", 0644);
	tu_write(r, "/xattr", "x", 0644);
	tu_write(r, "/linked", "x", 0644);
	tu_write(r, "/quiet", "x", 0644);
	set_times(r, "content", 1000000000);
	set_times(r, "stomped", 1000000000);
	a = snap_of(r, 1000);
	usleep(20000);		/* so every change below moves a ctime */

	tu_write(r, "/new", "x", 0640);
	tu_mkdir(r, "/newdir", 0750);
	tu_symlink(r, "some/target", "/newlink");
	p = at(r, "gone");
	assert_int_equal(unlink(p), 0);
	free(p);
	p = at(r, "gonedir");
	assert_int_equal(rmdir(p), 0);
	free(p);
	p = at(r, "perm");
	assert_int_equal(chmod(p, 0640), 0);
	free(p);
	p = at(r, "permdir");
	assert_int_equal(chmod(p, 0755), 0);
	free(p);
	if (root)
		tu_chown(r, "/owned", 4242, (gid_t)-1);
	tu_write(r, "/content", "bbbb", 0644);		/* same size, new mtime */
	tu_write(r, "/grown", "aaaaaaaa", 0644);
	tu_write(r, "/replaced.tmp", "new", 0644);
	p = at(r, "replaced.tmp");
	q = at(r, "replaced");
	assert_int_equal(rename(p, q), 0);
	free(p);
	free(q);
	tu_write(r, "/stomped", "bbbb", 0644);
	set_times(r, "stomped", 1000000000);		/* mtime put back: ctime tells */
	p = at(r, "xattr");
	if (setxattr(p, "user.vigil", "1", 1, 0))
		fail_msg("setxattr %s: %s", p, strerror(errno));
	free(p);
	p = at(r, "linked");
	q = at(r, "linked2");
	assert_int_equal(link(p, q), 0);
	free(p);
	free(q);
	p = at(r, "quiet");
	fd = open(p, O_RDONLY);		/* reading changes nothing a snapshot keeps */
	assert_true(fd >= 0);
	close(fd);
	free(p);

	b = snap_of(r, 1000);
	snapshot_diff(a, b, collect, &l);

#define PATH(rel) (free(p), p = at(r, rel))
	p = NULL;
	expect_event(&l, EV_CREATE, PATH("new"), NULL);
	assert_int_equal(find(&l, EV_CREATE, p, NULL)->mode, 0640);
	assert_int_equal(find(&l, EV_CREATE, p, NULL)->fuid, geteuid());
	expect_event(&l, EV_MKDIR, PATH("newdir"), NULL);
	assert_int_equal(find(&l, EV_MKDIR, p, NULL)->mode, 0750);
	expect_event(&l, EV_SYMLINK, "some/target", PATH("newlink"));
	expect_event(&l, EV_DELETE, PATH("gone"), NULL);
	expect_event(&l, EV_RMDIR, PATH("gonedir"), NULL);
	expect_event(&l, EV_CHMOD, PATH("perm"), NULL);
	assert_int_equal(find(&l, EV_CHMOD, p, NULL)->mode, 0640);
	assert_int_equal(count(&l, EV_MODIFY, p), 0);	/* a chmod is not a modify */
	expect_event(&l, EV_CHMOD, PATH("permdir"), NULL);
	assert_int_equal(find(&l, EV_CHMOD, p, NULL)->mode, 0755);
	if (root) {
		expect_event(&l, EV_CHOWN, PATH("owned"), NULL);
		assert_int_equal(find(&l, EV_CHOWN, p, NULL)->fuid, 4242);
		assert_int_equal(find(&l, EV_CHOWN, p, NULL)->fgid, NOID);	/* unchanged */
		assert_int_equal(count(&l, EV_MODIFY, p), 0);
	}
	expect_event(&l, EV_MODIFY, PATH("content"), NULL);
	expect_event(&l, EV_MODIFY, PATH("grown"), NULL);
	expect_event(&l, EV_DELETE, PATH("replaced"), NULL);
	expect_event(&l, EV_CREATE, p, NULL);
	expect_event(&l, EV_MODIFY, PATH("stomped"), NULL);
	expect_event(&l, EV_MODIFY, PATH("xattr"), NULL);
	expect_event(&l, EV_CREATE, PATH("linked2"), NULL);
	assert_int_equal(count(&l, EV_MODIFY, PATH("linked")), 0);	/* link count */
	assert_int_equal(count(&l, EV_MODIFY, PATH("quiet")), 0);
	free(p);
#undef PATH
	/* Nothing else, and every event says it came from a rescan. */
	assert_int_equal(l.n, 14 + (root ? 1 : 0));
	for (size_t i = 0; i < l.n; i++) {
		assert_true(l.v[i].rescan);
		assert_int_equal(l.v[i].tgid, NOID);
		assert_int_equal(l.v[i].uid, NOID);
	}
	evlog_free(&l);
	snapshot_free(a);
	snapshot_free(b);
	tu_rmroot(r);
}

static void max_entries_respected(void **state)
{
	char *r = tu_mkroot();
	struct vg_snapshot *a, *b;
	struct evlog l = {0};
	char name[32];

	(void)state;
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "/f%02d", i);
		tu_write(r, name, "x", 0644);
	}
	a = snap_of(r, 10);
	assert_int_equal(snapshot_size(a), 10);
	b = snap_of(r, 10);
	snapshot_diff(a, b, collect, &l);
	assert_int_equal(l.n, 0);
	snapshot_free(b);
	b = snap_of(r, 0);
	assert_int_equal(snapshot_size(b), 0);
	snapshot_free(b);
	b = snap_of(r, 1000);
	assert_int_equal(snapshot_size(b), 51);
	snapshot_free(a);
	snapshot_free(b);
	tu_rmroot(r);
}

static void symlink_loops_are_not_followed(void **state)
{
	char *r = tu_mkroot();
	struct vg_snapshot *a, *b;
	struct evlog l = {0};

	(void)state;
	tu_symlink(r, "b", "/a");
	tu_symlink(r, "a", "/b");
	tu_symlink(r, ".", "/self");
	tu_symlink(r, "..", "/up");
	tu_symlink(r, "..", "/d/back");
	tu_symlink(r, "/", "/rootlink");
	a = snap_of(r, 100000);
	/* root, a, b, self, up, d, d/back, rootlink */
	assert_int_equal(snapshot_size(a), 8);
	b = snap_of(r, 100000);
	snapshot_diff(a, b, collect, &l);
	assert_int_equal(l.n, 0);
	snapshot_diff(NULL, a, collect, &l);
	assert_int_equal(count(&l, EV_SYMLINK, ANY), 6);
	expect_event(&l, EV_SYMLINK, "..", ANY);
	evlog_free(&l);
	snapshot_free(a);
	snapshot_free(b);

	/* A watched path that is itself a symlink is recorded, not followed. */
	char *link = at(r, "self");
	a = snap_of(link, 100);
	assert_int_equal(snapshot_size(a), 1);
	snapshot_free(a);
	free(link);
	tu_rmroot(r);
}

/* A chain of depth directories named "d" below r. */
static void make_chain(const char *r, int depth)
{
	int fd = open(r, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	for (int i = 0; i < depth; i++) {
		int next;

		if (mkdirat(fd, "d", 0755))
			fail_msg("mkdirat at depth %d: %s", i, strerror(errno));
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
}

static void deep_trees_are_bounded(void **state)
{
	char *r = tu_mkroot();
	char *r2 = tu_mkroot();
	struct vg_snapshot *a, *b;
	struct evlog l = {0};

	(void)state;
	make_chain(r, 100);
	a = snap_of(r, 100000);
	assert_int_equal(snapshot_size(a), 101);
	b = snap_of(r, 100000);
	snapshot_diff(a, b, collect, &l);
	assert_int_equal(l.n, 0);
	snapshot_free(a);
	snapshot_free(b);

	/* Deeper than the walk goes: it stops, says so, and stays consistent. */
	make_chain(r2, 400);
	a = snap_of(r2, 100000);
	assert_true(snapshot_size(a) > 101);
	assert_true(snapshot_size(a) < 401);
	b = snap_of(r2, 100000);
	snapshot_diff(a, b, collect, &l);
	assert_int_equal(l.n, 0);
	snapshot_free(a);
	snapshot_free(b);
	tu_rmroot(r);
	tu_rmroot(r2);
}

static void nested_and_file_roots(void **state)
{
	char *r = tu_mkroot();
	struct vg_strv paths = {0};
	struct vg_snapshot *a, *b;
	struct evlog l = {0};

	(void)state;
	tu_write(r, "/sub/f", "x", 0644);
	tu_write(r, "/g", "x", 0644);
	strv_push_owned(&paths, at(r, "sub"));
	strv_push_owned(&paths, xasprintf("%s/", r));	/* trailing slash */
	strv_push_owned(&paths, at(r, "g"));
	a = snapshot_take(&paths, 100);
	assert_int_equal(snapshot_size(a), 4);	/* root, g, sub, sub/f: once each */
	snapshot_free(a);

	/* A file alone. */
	strv_free(&paths);
	strv_push_owned(&paths, at(r, "g"));
	a = snapshot_take(&paths, 100);
	assert_int_equal(snapshot_size(a), 1);
	tu_write(r, "/g", "longer", 0644);
	b = snapshot_take(&paths, 100);
	snapshot_diff(a, b, collect, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].kind, EV_MODIFY);
	evlog_free(&l);
	snapshot_free(a);
	snapshot_free(b);

	/* A path that is not there is an empty part, not a failure. */
	strv_free(&paths);
	strv_push_owned(&paths, at(r, "missing"));
	a = snapshot_take(&paths, 100);
	assert_int_equal(snapshot_size(a), 0);
	snapshot_free(a);
	strv_free(&paths);
	tu_rmroot(r);
}

/* Polls the source until it delivers, for at most ms. */
static void poll_source(struct vg_source *s, struct evlog *l, int ms)
{
	struct pollfd pfd = {s->fd(s->impl), POLLIN, 0};

	if (poll(&pfd, 1, ms) < 0)
		fail_msg("poll: %s", strerror(errno));
	if (pfd.revents & POLLIN)
		assert_true(s->poll(s->impl, collect, l) >= 0);
}

static void rescan_source_on_a_timer(void **state)
{
	char *r = tu_mkroot();
	char *extra = tu_mkroot();
	struct vg_strv paths = {0};
	struct vg_source_opts o = {.paths = &paths};
	struct vg_source s;
	struct vg_counters c;
	struct vg_err err = {{0}};
	struct evlog l = {0};
	char *p;

	(void)state;
	tu_write(r, "/f", "x", 0644);
	tu_write(extra, "/old", "x", 0644);
	strv_push(&paths, r);
	assert_int_equal(rescan_source_open(&s, &o, 0, &err), -1);
	assert_non_null(strstr(err.msg, "interval"));
	assert_int_equal(rescan_source_open(&s, &o, 1, &err), 0);
	assert_int_equal(s.mode, VG_MODE_RESCAN);
	assert_true(s.fd(s.impl) >= 0);

	tu_write(r, "/new", "x", 0644);
	poll_source(&s, &l, 3000);
	p = at(r, "new");
	expect_event(&l, EV_CREATE, p, NULL);
	free(p);
	assert_true(l.v[0].rescan);
	s.counters(s.impl, &c);
	assert_int_equal(c.events, l.n);

	/* A path added while running: what it held is not news, what comes is. */
	assert_int_equal(s.watch(s.impl, extra, &err), 0);
	evlog_free(&l);
	poll_source(&s, &l, 3000);
	assert_int_equal(l.n, 0);
	tu_write(extra, "/later", "x", 0644);
	poll_source(&s, &l, 3000);
	p = at(extra, "later");
	expect_event(&l, EV_CREATE, p, NULL);
	free(p);
	assert_int_equal(l.n, 1);
	assert_int_equal(s.watch(s.impl, "/vigil-no-such-path", &err), -1);
	assert_non_null(strstr(err.msg, "/vigil-no-such-path"));
	s.close(s.impl);
	evlog_free(&l);

	/* A watched path that is not there is an error naming it. */
	strv_push(&paths, "/vigil-no-such-path");
	assert_int_equal(rescan_source_open(&s, &o, 1, &err), -1);
	assert_non_null(strstr(err.msg, "/vigil-no-such-path"));
	strv_free(&paths);
	tu_rmroot(r);
	tu_rmroot(extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unchanged_tree_gives_nothing),
		cmocka_unit_test(each_kind_of_difference),
		cmocka_unit_test(max_entries_respected),
		cmocka_unit_test(symlink_loops_are_not_followed),
		cmocka_unit_test(deep_trees_are_bounded),
		cmocka_unit_test(nested_and_file_roots),
		cmocka_unit_test(rescan_source_on_a_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
