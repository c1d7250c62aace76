/* test_probe_fs.c: the `fs_search` rule and its shared walk. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static void has_evidence(struct tu_run *t, const char *id, const char *want)
{
	const char *ev = tu_evidence(t, id);

	if (!strstr(ev, want))
		fail_msg("%s: evidence lacks \"%s\": %s", id, want, ev);
}

static void lacks_evidence(struct tu_run *t, const char *id, const char *unwanted)
{
	const char *ev = tu_evidence(t, id);

	if (strstr(ev, unwanted))
		fail_msg("%s: evidence has \"%s\": %s", id, unwanted, ev);
}

static const struct vg_ev *evidence(struct tu_run *t, const char *id)
{
	for (size_t i = 0; i < t->b.nchecks; i++)
		if (strcmp(t->b.checks[i].id, id) == 0)
			return &t->res[i].ev;
	fail_msg("no check %s", id);
	return NULL;
}

static void full_path(char *out, size_t n, const char *root, const char *path)
{
	snprintf(out, n, "%s%s", root, path);
}

/* tu_write chmods, and chmod keeps setuid bits only for root: we are. */
static void accounts(const char *r)
{
	tu_write(r, "/etc/passwd",
		 "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n",
		 0644);
	tu_write(r, "/etc/group", "root:x:0:\ntty:x:5:\nalice:x:1000:\n", 0644);
}

static void tree(const char *r)
{
	char p[PATH_MAX], host[PATH_MAX];

	accounts(r);
	tu_write(r, "/usr/bin/su", "x", 04755);
	tu_write(r, "/usr/bin/wall", "x", 0755);
	tu_chown(r, "/usr/bin/wall", 0, 5);	/* chown clears setgid: chmod after */
	full_path(p, sizeof(p), r, "/usr/bin/wall");
	assert_int_equal(chmod(p, 02755), 0);
	tu_write(r, "/usr/bin/ls", "x", 0755);
	tu_mkdir(r, "/tmp", 01777);
	tu_mkdir(r, "/var/bad", 0777);
	tu_mkdir(r, "/srv/shared", 02775);		/* setgid directories are not sgid files */
	tu_write(r, "/srv/data.txt", "x", 0666);
	tu_write(r, "/home/alice/orphan", "x", 0644);
	tu_chown(r, "/home/alice/orphan", 4242, 4343);
	full_path(p, sizeof(p), r, "/srv/fifo");
	if (mkfifo(p, 0600) < 0)
		fail_msg("mkfifo: %s", strerror(errno));
	tu_chown(r, "/srv/fifo", 4242, 0);
	tu_write(r, "/opt/excluded/suidprog", "x", 04711);

	/* Loops and ways out: none may be followed. */
	tu_symlink(r, "b", "/loop/a");
	tu_symlink(r, "a", "/loop/b");
	tu_symlink(r, ".", "/loop/self");
	tu_symlink(r, "..", "/loop/up");
	tu_symlink(r, "/", "/escape");
	tu_symlink(r, "../../../../../../../../..", "/escape-dots");
	snprintf(host, sizeof(host), "/usr/bin");
	tu_symlink(r, host, "/usr/hostbin");
	tu_symlink(r, "/usr/bin/su", "/srv/su-link");
}

#define RULE(id, body) "  - {id: " id ", title: t, all: [{fs_search: {" body "}}]}\n"

static void finds(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tree(r);
	tu_run(&t, r, TU_HEAD
	       RULE("suid", "find: suid")
	       RULE("suid-ok", "find: suid, allow: [/usr/bin/su], exclude: [/opt/excluded]")
	       RULE("suid-glob", "find: suid, allow: ['/usr/bin/*', '/opt/*/suidprog']")
	       RULE("suid-glob-one-level", "find: suid, allow: ['/usr/*', '/opt/*']")
	       RULE("suid-paths", "find: suid, paths: [/usr/bin], allow: [/usr/bin/su]")
	       RULE("suid-reach", "find: suid, paths: [/opt/excluded]")
	       RULE("sgid", "find: sgid")
	       RULE("sgid-ok", "find: sgid, paths: [/srv, /tmp]")
	       RULE("ww", "find: world_writable")
	       RULE("ww-ok", "find: world_writable, paths: [/usr, /tmp]")
	       RULE("wwdir", "find: world_writable_dirs_no_sticky")
	       RULE("wwdir-ok", "find: world_writable_dirs_no_sticky, exclude: [/var/bad]")
	       RULE("unowned", "find: unowned")
	       RULE("unowned-ok", "find: unowned, paths: [/usr]")
	       RULE("unowned-star", "find: unowned, exclude: ['/home/*', /srv/fifo]")
	       RULE("ungrouped", "find: ungrouped")
	       RULE("ungrouped-ok", "find: ungrouped, allow: [/home/alice/orphan]")
	       RULE("missing-path", "find: suid, paths: [/nonexistent, /escape, /usr/hostbin]")
	       RULE("file-path", "find: suid, paths: [/usr/bin/su]")
	       RULE("dir-root", "find: world_writable_dirs_no_sticky, paths: [/var/bad]")
	       RULE("overlap", "find: suid, paths: [/usr, /usr-x, /usr/bin, /usr//bin/]"));
	assert_status(&t, "suid", VG_FAILED);
	has_evidence(&t, "suid", "/opt/excluded/suidprog: setuid, uid 0 (mode 4711)");
	has_evidence(&t, "suid", "/usr/bin/su: setuid, uid 0 (mode 4755)");
	assert_int_equal(evidence(&t, "suid")->total, 2);
	assert_status(&t, "suid-ok", VG_PASSED);
	has_evidence(&t, "suid-ok", "no suid match under / but the 1 allowed");
	assert_status(&t, "suid-glob", VG_PASSED);
	assert_status(&t, "suid-glob-one-level", VG_FAILED);
	assert_status(&t, "suid-paths", VG_PASSED);
	/* Another rule prunes /opt; this one still reaches its own path. */
	assert_status(&t, "suid-reach", VG_FAILED);
	has_evidence(&t, "suid-reach", "/opt/excluded/suidprog");
	assert_status(&t, "sgid", VG_FAILED);
	has_evidence(&t, "sgid", "/usr/bin/wall: setgid, gid 5 (mode 2755)");
	lacks_evidence(&t, "sgid", "/srv/shared");
	assert_status(&t, "sgid-ok", VG_PASSED);
	assert_status(&t, "ww", VG_FAILED);
	has_evidence(&t, "ww", "/srv/data.txt: world-writable file (mode 0666)");
	assert_int_equal(evidence(&t, "ww")->total, 1);
	assert_status(&t, "ww-ok", VG_PASSED);
	assert_status(&t, "wwdir", VG_FAILED);
	has_evidence(&t, "wwdir", "/var/bad: world-writable directory without the sticky bit");
	lacks_evidence(&t, "wwdir", "/tmp");
	assert_status(&t, "wwdir-ok", VG_PASSED);
	assert_status(&t, "unowned", VG_FAILED);
	has_evidence(&t, "unowned", "/home/alice/orphan: uid 4242 has no user");
	has_evidence(&t, "unowned", "/srv/fifo: uid 4242 has no user");
	assert_status(&t, "unowned-ok", VG_PASSED);
	assert_status(&t, "unowned-star", VG_PASSED);
	assert_status(&t, "ungrouped", VG_FAILED);
	has_evidence(&t, "ungrouped", "/home/alice/orphan: gid 4343 has no group");
	lacks_evidence(&t, "ungrouped", "/usr/bin/wall");
	assert_status(&t, "ungrouped-ok", VG_PASSED);
	/* Missing paths find nothing; symlinked paths are not followed. */
	assert_status(&t, "missing-path", VG_PASSED);
	assert_status(&t, "file-path", VG_FAILED);
	assert_status(&t, "dir-root", VG_FAILED);
	/* Overlapping paths are walked once: one match, counted once. */
	assert_status(&t, "overlap", VG_FAILED);
	assert_int_equal(evidence(&t, "overlap")->total, 1);
	for (size_t i = 0; i < t.b.nchecks; i++) {
		if (strcmp(t.b.checks[i].id, "missing-path") == 0)
			continue;	/* its evidence names its paths */
		lacks_evidence(&t, t.b.checks[i].id, "escape");
		lacks_evidence(&t, t.b.checks[i].id, "hostbin");
		lacks_evidence(&t, t.b.checks[i].id, "loop");
		lacks_evidence(&t, t.b.checks[i].id, "su-link");
	}
	tu_done(&t);
	tu_rmroot(r);
}

/* Overlapping paths are walked once, and each match counted once. */
static void overlapping_paths(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tree(r);
	tu_write(r, "/usr-x/f", "x", 0644);
	tu_run(&t, r, TU_HEAD
	       RULE("overlap", "find: suid, paths: [/usr, /usr-x, /usr/bin, /usr//bin/]")
	       RULE("inner", "find: suid, paths: [/usr/bin], allow: [/usr/bin/su]"));
	assert_status(&t, "overlap", VG_FAILED);
	assert_int_equal(evidence(&t, "overlap")->total, 1);
	assert_status(&t, "inner", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

/* The host's own setuid programs are one symlink away; a walk that
 * followed it would find them. */
static void symlinks_lead_nowhere(void **state)
{
	char *r = tu_mkroot(), *outside = tu_mkroot(), target[PATH_MAX];
	struct tu_run t;

	(void)state;
	accounts(r);
	tu_write(outside, "/bin/evil", "x", 04755);
	snprintf(target, sizeof(target), "%s/bin", outside);
	tu_symlink(r, target, "/outside");
	tu_symlink(r, "/", "/abs");
	tu_symlink(r, "../../../../../../../../usr", "/rel");
	tu_symlink(r, "/usr/bin/passwd", "/passwd");
	tu_symlink(r, "d2", "/d/d1");
	tu_symlink(r, "d1", "/d/d2");
	tu_symlink(r, "/d", "/d/again");
	tu_run(&t, r, TU_HEAD
	       RULE("suid", "find: suid")
	       RULE("via-abs", "find: suid, paths: [/abs/usr/bin]")
	       RULE("via-rel", "find: suid, paths: [/rel/bin]")
	       RULE("via-outside", "find: suid, paths: [/outside]"));
	assert_status(&t, "suid", VG_PASSED);
	assert_status(&t, "via-outside", VG_PASSED);
	/* A start path through a symlink resolves inside the root. */
	assert_status(&t, "via-abs", VG_PASSED);
	assert_status(&t, "via-rel", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
	tu_rmroot(outside);
}

/* More matches than are kept: all counted, the first ones shown. */
static void many_matches(void **state)
{
	char *r = tu_mkroot(), p[PATH_MAX];
	struct tu_run t;
	int dfd;

	(void)state;
	accounts(r);
	tu_mkdir(r, "/many", 0755);
	full_path(p, sizeof(p), r, "/many");
	dfd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	for (int i = 0; i < 10050; i++) {
		char name[32];
		int fd;

		snprintf(name, sizeof(name), "f%05d", i);
		fd = openat(dfd, name, O_CREAT | O_WRONLY, 0600);
		assert_true(fd >= 0);
		assert_int_equal(fchmod(fd, 0666), 0);
		close(fd);
	}
	close(dfd);
	tu_run(&t, r, TU_HEAD
	       RULE("ww", "find: world_writable")
	       RULE("ww-some", "find: world_writable, allow: ['/many/f0*']")
	       RULE("ww-none", "find: world_writable, exclude: [/many]"));
	assert_status(&t, "ww", VG_FAILED);
	assert_int_equal(evidence(&t, "ww")->total, 10050);
	has_evidence(&t, "ww", "/many/f00000: world-writable file");
	assert_status(&t, "ww-some", VG_FAILED);
	assert_int_equal(evidence(&t, "ww-some")->total, 50);
	has_evidence(&t, "ww-some", "/many/f100");
	lacks_evidence(&t, "ww-some", "/many/f0");
	assert_status(&t, "ww-none", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

/* Deeper than the walk holds directories open: an error, never a silent
 * pass; a match above the limit still decides. */
static void too_deep(void **state)
{
	char *r = tu_mkroot(), p[PATH_MAX];
	struct tu_run t;
	int fd;

	(void)state;
	accounts(r);
	tu_mkdir(r, "/deep", 0755);
	full_path(p, sizeof(p), r, "/deep");
	fd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i < 700; i++) {
		int next;

		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
	tu_write(r, "/deep/d/ww", "x", 0666);
	tu_run(&t, r, TU_HEAD
	       RULE("suid", "find: suid, paths: [/deep]")
	       RULE("ww", "find: world_writable, paths: [/deep]")
	       RULE("elsewhere", "find: suid, paths: [/etc]"));
	assert_status(&t, "suid", VG_ERROR);
	has_evidence(&t, "suid", "too deep");
	assert_status(&t, "ww", VG_FAILED);
	assert_status(&t, "elsewhere", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

/* Without the root's passwd every file would look unowned. */
static void no_passwd(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/srv/file", "x", 0644);
	tu_run(&t, r, TU_HEAD
	       RULE("unowned", "find: unowned")
	       RULE("ungrouped", "find: ungrouped")
	       RULE("suid", "find: suid"));
	assert_status(&t, "unowned", VG_ERROR);
	has_evidence(&t, "unowned", "/etc/passwd: No such file or directory");
	assert_status(&t, "ungrouped", VG_ERROR);
	assert_status(&t, "suid", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

/* Pseudo file systems, and tmpfs on /run, are pruned; tmpfs elsewhere
 * is walked.  Needs mount(2): skipped where that is not allowed. */
static void pruned_mounts(void **state)
{
	char *r = tu_mkroot(), run[PATH_MAX], data[PATH_MAX], proc[PATH_MAX];
	struct tu_run t;

	(void)state;
	accounts(r);
	tu_mkdir(r, "/run", 0755);
	tu_mkdir(r, "/data", 0755);
	tu_mkdir(r, "/proc", 0555);
	full_path(run, sizeof(run), r, "/run");
	full_path(data, sizeof(data), r, "/data");
	full_path(proc, sizeof(proc), r, "/proc");
	if (mount("tmpfs", run, "tmpfs", 0, "size=1m") < 0) {
		tu_rmroot(r);
		skip();
	}
	if (mount("tmpfs", data, "tmpfs", 0, "size=1m") < 0 ||
	    mount("proc", proc, "proc", 0, NULL) < 0)
		fail_msg("mount: %s", strerror(errno));
	tu_write(r, "/run/ww", "x", 0666);
	tu_write(r, "/data/ww", "x", 0666);
	tu_run(&t, r, TU_HEAD
	       RULE("ww", "find: world_writable")
	       RULE("proc", "find: world_writable, paths: [/proc]"));
	assert_status(&t, "ww", VG_FAILED);
	has_evidence(&t, "ww", "/data/ww");
	lacks_evidence(&t, "ww", "/run/ww");
	lacks_evidence(&t, "ww", "/proc");
	assert_int_equal(evidence(&t, "ww")->total, 1);
	assert_status(&t, "proc", VG_PASSED);
	tu_done(&t);
	umount2(proc, MNT_DETACH);
	umount2(data, MNT_DETACH);
	umount2(run, MNT_DETACH);
	tu_rmroot(r);
}

/* A rule whose prepare hook never ran still gets a walk of its own, and
 * one that joins after a walk gets a second one. */
static void unprepared_rule(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;
	const struct vg_probe *p = probe_find("fs_search");
	struct vg_err err = {{0}};
	struct vg_ev ev = {0};
	struct vg_ctx ctx;

	(void)state;
	tree(r);
	tu_run(&t, r, TU_HEAD RULE("suid", "find: suid, paths: [/usr]")
			      RULE("ww", "find: world_writable"));
	assert_status(&t, "suid", VG_FAILED);
	assert_status(&t, "ww", VG_FAILED);
	assert_non_null(p);
	assert_int_equal(ctx_init(&ctx, r, &t.cfg, &err), 0);
	assert_int_equal(p->eval(t.b.checks[1].rule.kids[0].arg, &ctx, &ev), VG_FAILED);
	ev_free(&ev);
	assert_int_equal(p->eval(t.b.checks[0].rule.kids[0].arg, &ctx, &ev), VG_FAILED);
	assert_non_null(strstr(ev.item[0], "/usr/bin/su"));
	ev_free(&ev);
	assert_int_equal(p->eval(t.b.checks[1].rule.kids[0].arg, &ctx, &ev), VG_FAILED);
	assert_non_null(strstr(ev.item[0], "/srv/data.txt"));
	ev_free(&ev);
	ctx_fini(&ctx);
	tu_done(&t);
	tu_rmroot(r);
}

static void load_errors(void **state)
{
	(void)state;
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "paths: [/]")), "find"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "find: setuid")), "setuid"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "find: suid, paths: [usr]")),
			       "not absolute"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "find: suid, paths: [/a/../b]")),
			       "not absolute"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "find: suid, exclude: [proc]")),
			       "exclude"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "find: suid, allow: [su]")),
			       "allow"));
	assert_non_null(strstr(tu_load_error(TU_HEAD RULE("a", "find: suid, path: [/]")),
			       "path"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds),
		cmocka_unit_test(overlapping_paths),
		cmocka_unit_test(symlinks_lead_nowhere),
		cmocka_unit_test(many_matches),
		cmocka_unit_test(too_deep),
		cmocka_unit_test(no_passwd),
		cmocka_unit_test(pruned_mounts),
		cmocka_unit_test(unprepared_rule),
		cmocka_unit_test(load_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
