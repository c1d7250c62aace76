/* test_fim.c: every attribute change is found, and nothing else is. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fimtest.h"

static void must(int rc, const char *what)
{
	if (rc < 0)
		fail_msg("%s: %s", what, strerror(errno));
}

/* A small tree under /data, recorded as the baseline. */
static void setup_tree(struct fx *f)
{
	tu_write(f->root, "/data/a.conf", "alpha\n", 0644);
	tu_write(f->root, "/data/b.conf", "bravo\n", 0644);
	tu_write(f->root, "/data/sub/c.bin", "charlie charlie\n", 0755);
	tu_symlink(f->root, "a.conf", "/data/link");
	assert_int_equal(fx_run(f, FIM_INIT, false), 0);
	assert_int_equal(f->sum.entries, 6);	/* /data, 3 files, /data/sub, link */
	assert_int_equal(f->sum.hashed_files, 3);
}

static void clean_check_reads_nothing(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 0);
	assert_int_equal(f.sum.entries, 6);
	assert_int_equal(f.sum.hashed_files, 0);	/* quick: stat said enough */
	assert_int_equal(f.sum.added + f.sum.removed + f.sum.changed, 0);
	/* --full reads every file again, and still finds nothing. */
	assert_int_equal(fx_run(&f, FIM_CHECK, true), 0);
	assert_int_equal(f.sum.hashed_files, 3);
	fx_free(&f);
}

static void mode_and_owner(void **state)
{
	struct fx f;
	char *p;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	p = fx_path(&f, "/data/a.conf");
	must(chmod(p, 0600), "chmod");
	free(p);
	tu_chown(f.root, "/data/b.conf", 1234, 5678);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/a.conf", "mode");
	assert_changed(&f, "/data/a.conf", "ctime");
	assert_unchanged(&f, "/data/a.conf", "sha256");
	assert_changed(&f, "/data/b.conf", "uid");
	assert_changed(&f, "/data/b.conf", "gid");
	assert_non_null(strstr(f.out, "0644 \u2192 0600"));
	assert_int_equal(f.sum.changed, 2);
	fx_free(&f);
}

/* Same size, mtime put back: only ctime (which no one can set) and the
 * content tell. A quick check sees ctime move and re-reads the file. */
static void content_same_size_mtime_restored(void **state)
{
	struct fx f;
	struct stat st;
	char *p;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	p = fx_path(&f, "/data/a.conf");
	must(stat(p, &st), "stat");
	tu_write(f.root, "/data/a.conf", "ALPHA\n", 0644);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	must(utimensat(AT_FDCWD, p, ts, 0), "utimensat");
	free(p);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/a.conf", "sha256");
	assert_changed(&f, "/data/a.conf", "ctime");
	assert_unchanged(&f, "/data/a.conf", "mtime");
	assert_unchanged(&f, "/data/a.conf", "size");
	assert_int_equal(f.sum.hashed_files, 1);	/* only that one was re-read */
	assert_int_equal(fx_run(&f, FIM_CHECK, true), 1);
	assert_changed(&f, "/data/a.conf", "sha256");
	fx_free(&f);
}

static void hard_link(void **state)
{
	struct fx f;
	char *a, *b;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	a = fx_path(&f, "/data/a.conf");
	b = fx_path(&f, "/data/sub/hard");
	must(link(a, b), "link");
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/a.conf", "links");
	assert_non_null(strstr(f.out, "1 \u2192 2"));
	assert_has(&f, "added", "/data/sub/hard");
	free(a);
	free(b);
	fx_free(&f);
}

static void rename_over(void **state)
{
	struct fx f;
	char *a, *b;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	a = fx_path(&f, "/data/a.conf");
	b = fx_path(&f, "/data/b.conf");
	must(rename(b, a), "rename");
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/a.conf", "inode");
	assert_changed(&f, "/data/a.conf", "sha256");
	assert_has(&f, "removed", "/data/b.conf");
	free(a);
	free(b);
	fx_free(&f);
}

static void symlink_retarget(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	tu_symlink(f.root, "b.conf", "/data/link");
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/link", "target");
	assert_non_null(strstr(f.out, "a.conf \u2192 b.conf"));
	fx_free(&f);
}

static void truncate_file(void **state)
{
	struct fx f;
	char *p;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	p = fx_path(&f, "/data/sub/c.bin");
	must(truncate(p, 3), "truncate");
	free(p);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/sub/c.bin", "size");
	assert_changed(&f, "/data/sub/c.bin", "sha256");
	fx_free(&f);
}

/* security.* needs root; user.* is not an attribute FIM keeps. */
static void xattrs(void **state)
{
	/* VFS_CAP_REVISION_2 | effective, permitted CAP_NET_RAW. */
	const uint32_t cap[5] = {0x02000001, 1u << 13, 0, 0, 0};
	const char label[] = "system_u:object_r:bin_t:s0";
	struct fx f;
	char *p, *q;

	(void)state;
	if (geteuid() != 0)
		skip();
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	p = fx_path(&f, "/data/sub/c.bin");
	q = fx_path(&f, "/data/b.conf");
	must(setxattr(p, "security.capability", cap, sizeof(cap), 0), "setxattr capability");
	if (setxattr(q, "security.selinux", label, sizeof(label), 0) < 0)
		fail_msg("setxattr security.selinux: %s", strerror(errno));
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/sub/c.bin", "capability");
	assert_changed(&f, "/data/b.conf", "selinux");
	assert_non_null(strstr(f.out, "(none) \u2192 system_u:object_r:bin_t:s0"));
	/* The new values become the baseline; then the label changes again. */
	assert_int_equal(fx_run(&f, FIM_UPDATE, false), 1);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 0);
	must(setxattr(q, "security.selinux", "x_u:x_r:x_t:s0", 15, 0), "setxattr");
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/b.conf", "selinux");
	/* A user.* attribute alone changes ctime, nothing FIM reports as xattr. */
	must(setxattr(p, "user.note", "x", 1, 0), "setxattr user");
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_unchanged(&f, "/data/sub/c.bin", "capability");
	free(p);
	free(q);
	fx_free(&f);
}

static void added_removed_and_type(void **state)
{
	struct fx f;
	char *p;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	tu_write(f.root, "/data/sub/new", "new\n", 0600);
	p = fx_path(&f, "/data/b.conf");
	must(unlink(p), "unlink");
	must(mkdir(p, 0700), "mkdir");		/* a file became a directory */
	free(p);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_has(&f, "added", "/data/sub/new");
	assert_changed(&f, "/data/b.conf", "type");
	assert_int_equal(f.sum.added, 1);
	assert_int_equal(f.sum.removed, 0);
	p = fx_path(&f, "/data/sub/c.bin");
	must(unlink(p), "unlink");
	free(p);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_has(&f, "removed", "/data/sub/c.bin");
	fx_free(&f);
}

static void update_accepts_drift(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	tu_write(f.root, "/data/a.conf", "changed content\n", 0644);
	tu_write(f.root, "/data/d.conf", "delta\n", 0644);
	assert_int_equal(fx_run(&f, FIM_UPDATE, false), 1);
	assert_changed(&f, "/data/a.conf", "sha256");
	assert_has(&f, "added", "/data/d.conf");
	assert_int_equal(f.sum.hashed_files, 2);	/* unchanged files were carried */
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 0);
	assert_int_equal(fx_run(&f, FIM_CHECK, true), 0);
	fx_free(&f);
}

/* Exclusions, and a nested root whose set tracks fewer attributes. */
static void exclusions_and_nested_sets(void **state)
{
	struct fx f;
	char *p;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	strv_push(&f.cfg.sets[0].exclude, "*.swp");
	strv_push(&f.cfg.sets[0].exclude, "/data/cache/*");
	fx_add_set(&f, "logs", "/data/log", FIM_A_TYPE | FIM_A_MODE | FIM_A_UID | FIM_A_GID);
	tu_write(f.root, "/data/a.conf", "alpha\n", 0644);
	tu_write(f.root, "/data/.a.conf.swp", "x", 0644);
	tu_write(f.root, "/data/cache/blob", "x", 0644);
	tu_write(f.root, "/data/log/app.log", "line 1\n", 0640);
	assert_int_equal(fx_run(&f, FIM_INIT, false), 0);
	/* /data, a.conf, /data/cache (the dir itself is not excluded), /data/log, app.log */
	assert_int_equal(f.sum.entries, 5);
	assert_int_equal(f.sum.hashed_files, 1);	/* the log's set has no sha256 */
	tu_write(f.root, "/data/.a.conf.swp", "yy", 0644);
	tu_write(f.root, "/data/cache/blob", "yy", 0644);
	tu_write(f.root, "/data/cache/more", "z", 0644);
	tu_write(f.root, "/data/log/app.log", "line 1\nline 2\n", 0640);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	/* Only the cache directory's own times moved; the log's content is not tracked. */
	assert_int_equal(f.sum.changed, 1);
	assert_changed(&f, "/data/cache", "mtime");
	p = fx_path(&f, "/data/log/app.log");
	must(chmod(p, 0666), "chmod");
	free(p);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/data/log/app.log", "mode");
	assert_unchanged(&f, "/data/log/app.log", "size");
	assert_non_null(strstr(f.out, "[logs]"));
	fx_free(&f);
}

/* An excluded directory is still passed through to a root below it; a
 * glob root is expanded again on every run. */
static void transit_and_globs(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	strv_push(&f.cfg.sets[0].exclude, "/data/skip");
	fx_add_set(&f, "keep", "/data/skip/keep", FIM_A_ALL);
	fx_add_set(&f, "ssh", "/home/*/.ssh", FIM_A_ALL);
	tu_write(f.root, "/data/skip/other", "x", 0644);
	tu_write(f.root, "/data/skip/keep", "k", 0644);
	tu_write(f.root, "/home/alice/.ssh/authorized_keys", "ssh-ed25519 A\n", 0600);
	tu_write(f.root, "/home/bob/.ssh/authorized_keys", "ssh-ed25519 B\n", 0600);
	tu_write(f.root, "/home/bob/notes", "not watched\n", 0600);
	assert_int_equal(fx_run(&f, FIM_INIT, false), 0);
	/* /data, /data/skip/keep, two .ssh dirs and their keys */
	assert_int_equal(f.sum.entries, 6);
	tu_write(f.root, "/data/skip/other", "y", 0644);
	tu_write(f.root, "/home/carol/.ssh/authorized_keys", "ssh-ed25519 C\n", 0600);
	tu_write(f.root, "/home/bob/notes", "still not\n", 0600);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_has(&f, "added", "/home/carol/.ssh");
	assert_has(&f, "added", "/home/carol/.ssh/authorized_keys");
	assert_int_equal(f.sum.added, 2);
	assert_int_equal(f.sum.changed, 0);
	fx_free(&f);
}

/* The whole root as one set: "/" itself is an entry. */
static void whole_root(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	free(f.cfg.sets[0].paths.v[0]);
	f.cfg.sets[0].paths.v[0] = xstrdup("/");
	strv_push(&f.cfg.sets[0].exclude, "/state");
	tu_write(f.root, "/data/x", "x", 0644);
	assert_int_equal(fx_run(&f, FIM_INIT, false), 0);
	assert_int_equal(f.sum.entries, 3);		/* /, /data, /data/x */
	tu_write(f.root, "/y", "y", 0644);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/", "mtime");
	assert_has(&f, "added", "/y");
	fx_free(&f);
}

/* A baseline of an image never lands in the host's file, and symlinks in
 * the image resolve inside it. */
static void root_confined(void **state)
{
	struct fx f;
	char *db;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	tu_write(f.root, "/etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
	tu_symlink(f.root, "/etc", "/data/etc");	/* absolute: means the image's /etc */
	fx_add_set(&f, "via-link", "/data/etc/passwd", FIM_A_ALL);
	assert_int_equal(fx_run(&f, FIM_INIT, false), 0);
	db = fimdb_path(f.state, f.root);
	assert_null(strstr(db, "/fim.db"));
	assert_int_equal(access(db, F_OK), 0);
	free(db);
	/* /data, the /data/etc symlink, and the image's /etc/passwd (resolved) */
	assert_int_equal(f.sum.entries, 3);
	assert_int_equal(f.sum.hashed_files, 1);
	tu_write(f.root, "/etc/passwd", "root:x:0:0::/root:/bin/bash\n", 0644);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_changed(&f, "/etc/passwd", "sha256");
	fx_free(&f);
}

static void json_report(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	tu_write(f.root, "/data/e\"vil\n", "x", 0644);
	assert_int_equal(fx_run_opts(&f, FIM_CHECK, false, true), 1);
	assert_non_null(strstr(f.out, "\"class_uid\":1001"));
	assert_non_null(strstr(f.out, "\"activity_id\":1,\"activity_name\":\"Create\""));
	assert_non_null(strstr(f.out, "\"path\":\"/data/e\\\"vil\\n\""));
	assert_non_null(strstr(f.out, "\"summary\":{\"entries\":7"));
	fx_free(&f);
}

/* The event engine's hook: one path, re-read now, against the baseline. */
static void recheck_one_path(void **state)
{
	struct fx f;
	struct fim_live *l;
	struct fim_finding fd;
	struct vg_err err = {{0}};
	char *p;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	setup_tree(&f);
	strv_push(&f.cfg.sets[0].exclude, "/data/sub/*");
	if (fim_live_open(&l, &f.cfg, f.root, f.state, &err))
		fail_msg("fim_live_open: %s", err.msg);
	assert_non_null(fim_live_match(l, "/data/a.conf"));
	assert_null(fim_live_match(l, "/data/sub/c.bin"));	/* excluded */
	assert_null(fim_live_match(l, "/etc/passwd"));		/* not monitored */
	assert_int_equal(fim_recheck(l, "/data/a.conf", false, &fd, &err), 0);
	p = fx_path(&f, "/data/a.conf");
	must(chmod(p, 0640), "chmod");
	assert_int_equal(fim_recheck(l, "/data/a.conf", false, &fd, &err), 1);
	assert_int_equal(fd.kind, FIM_CHANGED);
	assert_true(fd.changed & FIM_A_MODE);
	assert_false(fd.changed & FIM_A_SHA256);
	fim_finding_fini(&fd);
	tu_write(f.root, "/data/a.conf", "other\n", 0640);
	assert_int_equal(fim_recheck(l, "/data/a.conf", true, &fd, &err), 1);
	assert_true(fd.changed & FIM_A_SHA256);
	fim_finding_fini(&fd);
	must(unlink(p), "unlink");
	assert_int_equal(fim_recheck(l, "/data/a.conf", false, &fd, &err), 1);
	assert_int_equal(fd.kind, FIM_REMOVED);
	fim_finding_fini(&fd);
	tu_write(f.root, "/data/z", "z", 0600);
	assert_int_equal(fim_recheck(l, "/data/z", false, &fd, &err), 1);
	assert_int_equal(fd.kind, FIM_ADDED);
	fim_finding_fini(&fd);
	free(p);
	fim_live_close(l);
	fx_free(&f);
}

static void no_baseline_is_an_error(void **state)
{
	struct fx f;
	struct vg_err err = {{0}};
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	fx_init(&f, FIM_A_ALL);
	f.o = (struct fim_opts){.op = FIM_CHECK, .root = f.root, .state_dir = f.state,
				.out = devnull};
	assert_int_equal(fim_run(&f.cfg, &f.o, &f.sum, &err), -1);
	assert_non_null(strstr(err.msg, "fim init"));
	fclose(devnull);
	fx_free(&f);
}

static void path_order(void **state)
{
	(void)state;
	/* '/' sorts before every other byte: a directory's subtree comes
	 * right after it, before its siblings "/a/b-c" and "/a/b.c". */
	assert_true(fim_path_cmp("/a/b", 4, "/a/b/x", 6) < 0);
	assert_true(fim_path_cmp("/a/b/x", 6, "/a/b-c", 6) < 0);
	assert_true(fim_path_cmp("/a/b/zzz", 8, "/a/b.c", 6) < 0);
	assert_true(fim_path_cmp("/a", 2, "/a", 2) == 0);
	assert_true(fim_path_cmp("/\xc3\xa9", 3, "/z", 2) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_check_reads_nothing),
		cmocka_unit_test(mode_and_owner),
		cmocka_unit_test(content_same_size_mtime_restored),
		cmocka_unit_test(hard_link),
		cmocka_unit_test(rename_over),
		cmocka_unit_test(symlink_retarget),
		cmocka_unit_test(truncate_file),
		cmocka_unit_test(xattrs),
		cmocka_unit_test(added_removed_and_type),
		cmocka_unit_test(update_accepts_drift),
		cmocka_unit_test(exclusions_and_nested_sets),
		cmocka_unit_test(transit_and_globs),
		cmocka_unit_test(whole_root),
		cmocka_unit_test(root_confined),
		cmocka_unit_test(json_report),
		cmocka_unit_test(recheck_one_path),
		cmocka_unit_test(no_baseline_is_an_error),
		cmocka_unit_test(path_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
