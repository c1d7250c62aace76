/* test_fim_live.c: realtime drift, one path or one subtree at a time,
 * against what was last reported, else the baseline. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fimtest.h"

static void must(int rc, const char *what)
{
	if (rc < 0)
		fail_msg("%s: %s", what, strerror(errno));
}

static void fx_chmod(struct fx *f, const char *path, mode_t mode)
{
	char *p = fx_path(f, path);

	must(chmod(p, mode), "chmod");
	free(p);
}

static void fx_unlink(struct fx *f, const char *path)
{
	char *p = fx_path(f, path);

	must(unlink(p), "unlink");
	free(p);
}

/* Twelve entries under /data; /data/d/ab shares a name prefix with /data/d/a. */
static void setup_tree(struct fx *f)
{
	tu_write(f->root, "/data/a.conf", "alpha\n", 0644);
	tu_write(f->root, "/data/b.conf", "bravo\n", 0644);
	tu_write(f->root, "/data/d/a/x1", "one\n", 0644);
	tu_write(f->root, "/data/d/a/x2", "two\n", 0644);
	tu_write(f->root, "/data/d/a/sub/x3", "three\n", 0644);
	tu_write(f->root, "/data/d/ab/y", "why\n", 0644);
	tu_write(f->root, "/data/d/ab/z", "zed\n", 0644);
	tu_write(f->root, "/etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
	tu_write(f->root, "/data-other/x", "not watched\n", 0644);
	assert_int_equal(fx_run(f, FIM_INIT, false), 0);
	assert_int_equal(f->sum.entries, 12);
}

static struct fim_live *live_open(struct fx *f)
{
	struct fim_live *l = NULL;
	struct vg_err err = {{0}};

	if (fim_live_open(&l, &f->cfg, f->root, f->state, &err))
		fail_msg("fim_live_open: %s", err.msg);
	assert_non_null(l);
	return l;
}

/* fim_recheck that must not fail; returns its 0 or 1. */
static int recheck(struct fim_live *l, const char *path, bool rehash, struct fim_finding *fd)
{
	struct vg_err err = {{0}};
	int rc = fim_recheck(l, path, rehash, fd, &err);

	if (rc < 0)
		fail_msg("fim_recheck %s: %s", path, err.msg);
	if (rc == 0) {		/* nothing to free, nothing filled */
		assert_null(fd->path);
		assert_null(fd->old);
		assert_null(fd->cur);
	} else {
		assert_int_equal(rc, 1);
		assert_string_equal(fd->path, path);
	}
	return rc;
}

/* ---- single paths -------------------------------------------------------- */

static void unchanged_is_quiet(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;
	struct vg_strv roots = {0};

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	fim_live_roots(l, &roots);
	assert_int_equal(roots.n, 1);
	assert_string_equal(roots.v[0], "/data");
	strv_free(&roots);
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 0);
	assert_int_equal(recheck(l, "/data/a.conf", true, &fd), 0);	/* read again: same */
	assert_int_equal(recheck(l, "/data", false, &fd), 0);
	assert_int_equal(recheck(l, "/data/d/a/sub/x3", true, &fd), 0);
	fim_live_close(l);
	fx_free(&f);
}

/* Same size, mtime put back: the content read again tells. */
static void content_change_same_size(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;
	struct stat st;
	char *p;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	p = fx_path(&f, "/data/a.conf");
	must(stat(p, &st), "stat");
	tu_write(f.root, "/data/a.conf", "ALPHA\n", 0644);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	must(utimensat(AT_FDCWD, p, ts, 0), "utimensat");
	free(p);
	assert_int_equal(recheck(l, "/data/a.conf", true, &fd), 1);
	assert_int_equal(fd.kind, FIM_CHANGED);
	assert_string_equal(fd.set, "data");
	assert_true(fd.changed & FIM_A_SHA256);
	assert_false(fd.changed & FIM_A_SIZE);
	assert_false(fd.changed & FIM_A_MTIME);
	assert_false(fd.changed & FIM_A_INODE);
	assert_non_null(fd.old);
	assert_non_null(fd.cur);
	assert_int_equal(fd.old->size, 6);
	assert_int_equal(fd.cur->size, 6);
	assert_int_equal(fd.old->mtime_ns, fd.cur->mtime_ns);
	assert_true(fd.old->flags & FIM_F_HASHED);
	assert_true(fd.cur->flags & FIM_F_HASHED);
	assert_memory_not_equal(fd.old->sha256, fd.cur->sha256, 32);
	fim_finding_fini(&fd);
	assert_null(fd.path);
	/* Reported once; the same state again is not news. */
	assert_int_equal(recheck(l, "/data/a.conf", true, &fd), 0);
	fim_live_close(l);
	fx_free(&f);
}

/* Each change is reported against the one before it, not the baseline. */
static void changes_chain(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;
	unsigned char first_sha[32];

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	tu_write(f.root, "/data/b.conf", "bravo bravo\n", 0644);
	assert_int_equal(recheck(l, "/data/b.conf", false, &fd), 1);
	assert_int_equal(fd.kind, FIM_CHANGED);
	assert_true(fd.changed & FIM_A_SIZE);
	assert_true(fd.changed & FIM_A_SHA256);
	assert_int_equal(fd.old->size, 6);
	assert_int_equal(fd.cur->size, 12);
	memcpy(first_sha, fd.cur->sha256, sizeof(first_sha));
	fim_finding_fini(&fd);
	/* The live memory: the same file, unchanged since, is quiet. */
	assert_int_equal(recheck(l, "/data/b.conf", false, &fd), 0);
	assert_int_equal(recheck(l, "/data/b.conf", true, &fd), 0);
	tu_write(f.root, "/data/b.conf", "b\n", 0644);
	assert_int_equal(recheck(l, "/data/b.conf", false, &fd), 1);
	assert_int_equal(fd.kind, FIM_CHANGED);
	assert_int_equal(fd.old->size, 12);	/* the first change's new size */
	assert_int_equal(fd.cur->size, 2);
	assert_memory_equal(fd.old->sha256, first_sha, sizeof(first_sha));
	fim_finding_fini(&fd);
	assert_int_equal(recheck(l, "/data/b.conf", false, &fd), 0);
	fim_live_close(l);
	fx_free(&f);
}

static void mode_change(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	fx_chmod(&f, "/data/a.conf", 0600);
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 1);
	assert_int_equal(fd.kind, FIM_CHANGED);
	assert_true(fd.changed & FIM_A_MODE);
	/* Nothing but the mode and the ctime that chmod moves. */
	assert_int_equal(fd.changed & ~(unsigned)(FIM_A_MODE | FIM_A_CTIME), 0);
	assert_int_equal(fd.old->mode, 0644);
	assert_int_equal(fd.cur->mode, 0600);
	assert_int_equal(fd.old->type, S_IFREG);
	fim_finding_fini(&fd);
	fx_chmod(&f, "/data/a.conf", 04755);
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 1);
	assert_int_equal(fd.old->mode, 0600);
	assert_int_equal(fd.cur->mode, 04755);
	fim_finding_fini(&fd);
	fim_live_close(l);
	fx_free(&f);
}

static void removed_and_added(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	fx_unlink(&f, "/data/a.conf");
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 1);
	assert_int_equal(fd.kind, FIM_REMOVED);
	assert_non_null(fd.old);
	assert_null(fd.cur);
	assert_int_equal(fd.old->size, 6);
	fim_finding_fini(&fd);
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 0);	/* still gone */
	tu_write(f.root, "/data/new.conf", "november\n", 0600);
	assert_int_equal(recheck(l, "/data/new.conf", false, &fd), 1);
	assert_int_equal(fd.kind, FIM_ADDED);
	assert_null(fd.old);
	assert_non_null(fd.cur);
	assert_string_equal(fd.set, "data");
	assert_int_equal(fd.cur->size, 9);
	assert_int_equal(fd.cur->mode, 0600);
	assert_true(fd.cur->flags & FIM_F_HASHED);
	fim_finding_fini(&fd);
	assert_int_equal(recheck(l, "/data/new.conf", false, &fd), 0);
	/* Back after its removal was reported: added again, not changed. */
	tu_write(f.root, "/data/a.conf", "alpha\n", 0644);
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 1);
	assert_int_equal(fd.kind, FIM_ADDED);
	fim_finding_fini(&fd);
	/* A path that never existed, anywhere, is no finding. */
	assert_int_equal(recheck(l, "/data/never", false, &fd), 0);
	assert_int_equal(recheck(l, "/data/nodir/never", false, &fd), 0);
	fim_live_close(l);
	fx_free(&f);
}

static void outside_every_set(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	tu_write(f.root, "/etc/passwd", "root:x:0:0::/root:/bin/bash\n", 0644);
	tu_write(f.root, "/data-other/x", "changed, still not watched\n", 0644);
	assert_null(fim_live_match(l, "/etc/passwd"));
	assert_null(fim_live_match(l, "/data-other/x"));	/* a name prefix of /data */
	assert_null(fim_live_match(l, "/dat"));
	assert_non_null(fim_live_match(l, "/data"));
	assert_non_null(fim_live_match(l, "/data/d/ab/y"));
	assert_int_equal(recheck(l, "/etc/passwd", true, &fd), 0);
	assert_int_equal(recheck(l, "/data-other/x", true, &fd), 0);
	assert_int_equal(recheck(l, "/", true, &fd), 0);
	/* Not absolute: never a monitored path. */
	tu_write(f.root, "/data/a.conf", "changed\n", 0644);
	assert_int_equal(recheck(l, "data/a.conf", true, &fd), 0);
	assert_int_equal(recheck(l, "/data/a.conf", true, &fd), 1);	/* it did change */
	fim_finding_fini(&fd);
	fim_live_close(l);
	fx_free(&f);
}

/* ---- subtrees ------------------------------------------------------------ */

struct seen {
	struct vg_strv lines;		/* "KIND PATH" */
	unsigned changed[64];		/* per line, FIM_CHANGED's attributes */
};

static void on_finding(void *u, const struct fim_finding *f)
{
	struct seen *s = u;

	assert_true(s->lines.n < 64);
	assert_non_null(f->set);
	s->changed[s->lines.n] = f->changed;
	strv_push_owned(&s->lines, xasprintf("%s %s", fim_change_name(f->kind), f->path));
}

static int rescan(struct fim_live *l, const char *prefix, struct seen *s)
{
	struct vg_err err = {{0}};
	int rc;

	strv_free(&s->lines);
	memset(s, 0, sizeof(*s));
	rc = fim_live_rescan(l, prefix, on_finding, s, &err);
	if (rc < 0)
		fail_msg("fim_live_rescan %s: %s", prefix, err.msg);
	assert_int_equal((size_t)rc, s->lines.n);	/* one call per finding */
	return rc;
}

static unsigned changed_of(const struct seen *s, const char *path)
{
	char *line = xasprintf("changed %s", path);

	for (size_t i = 0; i < s->lines.n; i++)
		if (!strcmp(s->lines.v[i], line)) {
			free(line);
			return s->changed[i];
		}
	fail_msg("no '%s' among %zu findings", line, s->lines.n);
	return 0;
}

/* Exactly these findings, in any order; want ends with NULL. */
static void expect_findings(const struct seen *s, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++)
		if (!strv_has(&s->lines, want[n]))
			goto bad;
	for (size_t i = 0; i < s->lines.n; i++) {
		bool listed = false;
		for (size_t j = 0; want[j]; j++)
			listed |= !strcmp(want[j], s->lines.v[i]);
		if (!listed)
			goto bad;
	}
	if (n == s->lines.n)
		return;
bad:
	for (size_t i = 0; i < s->lines.n; i++)
		print_error("  got:  %s\n", s->lines.v[i]);
	for (size_t i = 0; want[i]; i++)
		print_error("  want: %s\n", want[i]);
	fail_msg("findings differ");
}

/* A directory renamed away: everything at or below its old name is gone,
 * everything at or below its new one is new. */
static void rescan_renamed_dir(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct seen s = {0};
	char *from, *to;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	from = fx_path(&f, "/data/d/a");
	to = fx_path(&f, "/data/d/moved");
	must(rename(from, to), "rename");
	assert_int_equal(rescan(l, "/data/d/a", &s), 5);
	expect_findings(&s, (const char *const[]){
		"removed /data/d/a", "removed /data/d/a/x1", "removed /data/d/a/x2",
		"removed /data/d/a/sub", "removed /data/d/a/sub/x3", NULL});
	assert_int_equal(rescan(l, "/data/d/moved", &s), 5);
	expect_findings(&s, (const char *const[]){
		"added /data/d/moved", "added /data/d/moved/x1", "added /data/d/moved/x2",
		"added /data/d/moved/sub", "added /data/d/moved/sub/x3", NULL});
	/* Both were reported: rescanning either again finds nothing. */
	assert_int_equal(rescan(l, "/data/d/a", &s), 0);
	assert_int_equal(rescan(l, "/data/d/moved", &s), 0);
	/* Moved back, the old names are added again and the new ones removed. */
	must(rename(to, from), "rename back");
	assert_int_equal(rescan(l, "/data/d/moved", &s), 5);
	assert_true(strv_has(&s.lines, "removed /data/d/moved/sub/x3"));
	assert_int_equal(rescan(l, "/data/d/a", &s), 5);
	assert_true(strv_has(&s.lines, "added /data/d/a/sub/x3"));
	strv_free(&s.lines);
	free(from);
	free(to);
	fim_live_close(l);
	fx_free(&f);
}

/* A full rescan finds exactly what changed since the baseline or the last
 * report, including a file known only to the live memory. */
static void rescan_everything(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;
	struct seen s = {0};

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	assert_int_equal(rescan(l, "/", &s), 0);
	assert_int_equal(rescan(l, "/data", &s), 0);
	fx_chmod(&f, "/data/a.conf", 0600);
	fx_unlink(&f, "/data/b.conf");
	tu_write(f.root, "/data/new", "new\n", 0644);
	tu_write(f.root, "/data/d/a/x2", "two two\n", 0644);
	tu_write(f.root, "/data/tmpfile", "temporary\n", 0644);
	assert_int_equal(recheck(l, "/data/tmpfile", false, &fd), 1);
	assert_int_equal(fd.kind, FIM_ADDED);
	fim_finding_fini(&fd);
	fx_unlink(&f, "/data/tmpfile");
	/* Outside the sets: never found. */
	tu_write(f.root, "/etc/passwd", "changed\n", 0644);
	tu_write(f.root, "/data-other/y", "new\n", 0644);
	assert_int_equal(rescan(l, "/", &s), 6);
	expect_findings(&s, (const char *const[]){
		"changed /data", "changed /data/a.conf", "removed /data/b.conf",
		"changed /data/d/a/x2", "added /data/new", "removed /data/tmpfile", NULL});
	assert_true(changed_of(&s, "/data") & FIM_A_MTIME);
	assert_true(changed_of(&s, "/data/a.conf") & FIM_A_MODE);
	assert_false(changed_of(&s, "/data/a.conf") & FIM_A_SHA256);
	assert_true(changed_of(&s, "/data/d/a/x2") & FIM_A_SHA256);
	assert_true(changed_of(&s, "/data/d/a/x2") & FIM_A_SIZE);
	/* All of it is remembered now. */
	assert_int_equal(rescan(l, "/", &s), 0);
	assert_int_equal(recheck(l, "/data/tmpfile", false, &fd), 0);
	assert_int_equal(recheck(l, "/data/b.conf", false, &fd), 0);
	strv_free(&s.lines);
	fim_live_close(l);
	fx_free(&f);
}

/* /data/d/ab is not below /data/d/a, in the baseline's range, in the walk,
 * or in the live memory. */
static void rescan_sibling_prefix(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;
	struct seen s = {0};

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	tu_write(f.root, "/data/d/a/x1", "one one\n", 0644);
	tu_write(f.root, "/data/d/ab/y", "why why\n", 0644);	/* walk and table */
	fx_unlink(&f, "/data/d/ab/z");				/* table only */
	tu_write(f.root, "/data/d/ab/new", "n\n", 0644);	/* memory only */
	assert_int_equal(recheck(l, "/data/d/ab/new", false, &fd), 1);
	fim_finding_fini(&fd);
	fx_unlink(&f, "/data/d/ab/new");
	assert_int_equal(rescan(l, "/data/d/a", &s), 1);
	expect_findings(&s, (const char *const[]){"changed /data/d/a/x1", NULL});
	/* A file below the prefix is a subtree of one. */
	assert_int_equal(rescan(l, "/data/d/a/x1", &s), 0);
	assert_int_equal(rescan(l, "/data/d/ab", &s), 4);
	expect_findings(&s, (const char *const[]){
		"changed /data/d/ab", "changed /data/d/ab/y", "removed /data/d/ab/z",
		"removed /data/d/ab/new", NULL});
	assert_int_equal(rescan(l, "/data/d", &s), 0);
	/* A rescan of a path no set monitors, nor anything below it, is empty. */
	assert_int_equal(rescan(l, "/etc", &s), 0);
	assert_int_equal(rescan(l, "/data-other", &s), 0);
	strv_free(&s.lines);
	fim_live_close(l);
	fx_free(&f);
}

/* ---- the baseline -------------------------------------------------------- */

static void reload_after_update(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;
	struct vg_err err = {{0}};

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	assert_int_equal(fim_live_reload(l, &err), 0);		/* nothing new */
	fx_chmod(&f, "/data/a.conf", 0600);
	tu_write(f.root, "/data/b.conf", "bravo bravo\n", 0644);
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 1);
	fim_finding_fini(&fd);
	assert_int_equal(recheck(l, "/data/b.conf", false, &fd), 1);
	fim_finding_fini(&fd);
	/* Changed again, not rechecked: the memory says 0600, the file 0640. */
	fx_chmod(&f, "/data/a.conf", 0640);
	assert_int_equal(fim_live_reload(l, &err), 0);
	/* The drift is approved. */
	assert_int_equal(fx_run(&f, FIM_UPDATE, false), 1);
	assert_changed(&f, "/data/a.conf", "mode");
	if (fim_live_reload(l, &err) != 1)
		fail_msg("fim update replaced the baseline, reload did not notice (%s)", err.msg);
	assert_int_equal(fim_live_reload(l, &err), 0);
	/* A check only reads the baseline: no reload after it. */
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 0);
	assert_int_equal(fim_live_reload(l, &err), 0);
	/* Compared with the new baseline now, not the memory from before it. */
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 0);
	assert_int_equal(recheck(l, "/data/b.conf", true, &fd), 0);
	fx_chmod(&f, "/data/a.conf", 0644);
	assert_int_equal(recheck(l, "/data/a.conf", false, &fd), 1);
	assert_int_equal(fd.old->mode, 0640);
	assert_int_equal(fd.cur->mode, 0644);
	fim_finding_fini(&fd);
	fim_live_close(l);
	fx_free(&f);
}

/* A baseline made afresh (a new file) is noticed too. */
static void reload_after_new_file(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;
	struct vg_err err = {{0}};
	char *db, *side;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	l = live_open(&f);
	tu_write(f.root, "/data/b.conf", "bravo bravo\n", 0644);
	db = fimdb_path(f.state, f.root);
	must(unlink(db), "unlink baseline");
	side = xasprintf("%s-wal", db);
	unlink(side);
	free(side);
	side = xasprintf("%s-shm", db);
	unlink(side);
	free(side);
	free(db);
	assert_int_equal(fx_run(&f, FIM_INIT, false), 0);
	assert_int_equal(fim_live_reload(l, &err), 1);
	assert_int_equal(recheck(l, "/data/b.conf", false, &fd), 0);
	fim_live_close(l);
	fx_free(&f);
}

static void open_without_baseline(void **state)
{
	struct fx f;
	struct fim_live *l = (struct fim_live *)&f;	/* not left as it was */
	struct vg_err err = {{0}};

	(void)state;
	fx_init(&f, FIM_A_ALL);
	tu_write(f.root, "/data/a.conf", "alpha\n", 0644);
	assert_int_equal(fim_live_open(&l, &f.cfg, f.root, f.state, &err), -1);
	assert_null(l);
	if (!strstr(err.msg, "vigil fim init"))
		fail_msg("no hint to run `vigil fim init`: %s", err.msg);
	/* The state directory exists but holds no baseline of this root. */
	tu_mkdir(f.root, "/state", 0700);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fim_live_open(&l, &f.cfg, f.root, f.state, &err), -1);
	assert_null(l);
	assert_non_null(strstr(err.msg, "vigil fim init"));
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unchanged_is_quiet),
		cmocka_unit_test(content_change_same_size),
		cmocka_unit_test(changes_chain),
		cmocka_unit_test(mode_change),
		cmocka_unit_test(removed_and_added),
		cmocka_unit_test(outside_every_set),
		cmocka_unit_test(rescan_renamed_dir),
		cmocka_unit_test(rescan_everything),
		cmocka_unit_test(rescan_sibling_prefix),
		cmocka_unit_test(reload_after_update),
		cmocka_unit_test(reload_after_new_file),
		cmocka_unit_test(open_without_baseline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
