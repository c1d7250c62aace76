/* test_probe_file.c: `file` and `line` rules, and the --root jail. */
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static const char *accounts_files(const char *root)
{
	tu_write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
		 "daemon:x:1:1::/:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n",
		 0644);
	tu_write(root, "/etc/group", "root:x:0:\nshadow:x:42:\nalice:x:1000:\n", 0644);
	return root;
}

static void file_rule(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	accounts_files(r);
	tu_write(r, "/etc/shadow", "root:*:1::::::\n", 0640);
	tu_chown(r, "/etc/shadow", 0, 42);
	tu_write(r, "/etc/loose", "x", 0666);
	tu_chown(r, "/etc/loose", 1000, 1000);
	tu_mkdir(r, "/etc/ssh", 0755);
	tu_write(r, "/etc/ssh/ssh_host_rsa_key", "k", 0600);
	tu_write(r, "/etc/ssh/ssh_host_ed25519_key", "k", 0644);
	tu_symlink(r, "shadow", "/etc/shadow-link");
	tu_run(&t, r, TU_HEAD
	       "  - {id: shadow-ok, title: t, all: [{file: {path: /etc/shadow, type: file, mode_max: '0640', owner: root, group: [root, shadow]}}]}\n"
	       "  - {id: shadow-exact, title: t, all: [{file: {path: /etc/shadow, mode: '0600'}}]}\n"
	       "  - {id: loose-mode, title: t, all: [{file: {path: /etc/loose, mode_max: '0644'}}]}\n"
	       "  - {id: loose-owner, title: t, all: [{file: {path: /etc/loose, owner: root}}]}\n"
	       "  - {id: loose-group-num, title: t, all: [{file: {path: /etc/loose, group: '1000'}}]}\n"
	       "  - {id: missing, title: t, all: [{file: {path: /etc/nope}}]}\n"
	       "  - {id: missing-na, title: t, all: [{file: {path: /etc/nope, if_missing: not_applicable}}]}\n"
	       "  - {id: must-not-exist, title: t, all: [{file: {path: /etc/nope, exists: false}}]}\n"
	       "  - {id: exists-but-must-not, title: t, all: [{file: {path: /etc/loose, exists: false}}]}\n"
	       "  - {id: glob-keys, title: t, all: [{file: {path: /etc/ssh/ssh_host_*_key, mode_max: '0600'}}]}\n"
	       "  - {id: dir-type, title: t, all: [{file: {path: /etc/ssh, type: dir}}]}\n"
	       "  - {id: link-nofollow, title: t, all: [{file: {path: /etc/shadow-link, type: symlink, follow: false}}]}\n"
	       "  - {id: link-follow, title: t, all: [{file: {path: /etc/shadow-link, type: file, group: shadow}}]}\n"
	       "  - {id: one-literal-missing, title: t, all: [{file: {path: [/etc/shadow, /etc/nope], mode_max: '0640'}}]}\n"
	       "  - {id: glob-and-literal, title: t, all: [{file: {path: [/etc/nothing-*, /etc/shadow], mode_max: '0640'}}]}\n");
	assert_status(&t, "shadow-ok", VG_PASSED);
	assert_status(&t, "shadow-exact", VG_FAILED);
	assert_status(&t, "loose-mode", VG_FAILED);
	assert_non_null(strstr(tu_evidence(&t, "loose-mode"), "mode 0666, allowed at most 0644"));
	assert_status(&t, "loose-owner", VG_FAILED);
	assert_non_null(strstr(tu_evidence(&t, "loose-owner"), "owner alice(1000)"));
	assert_status(&t, "loose-group-num", VG_PASSED);
	assert_status(&t, "missing", VG_FAILED);
	assert_status(&t, "missing-na", VG_NA);
	assert_status(&t, "must-not-exist", VG_PASSED);
	assert_status(&t, "exists-but-must-not", VG_FAILED);
	assert_status(&t, "glob-keys", VG_FAILED);
	assert_non_null(strstr(tu_evidence(&t, "glob-keys"), "ssh_host_ed25519_key: mode 0644"));
	assert_status(&t, "dir-type", VG_PASSED);
	assert_status(&t, "link-nofollow", VG_PASSED);
	assert_status(&t, "link-follow", VG_PASSED);
	assert_status(&t, "one-literal-missing", VG_FAILED);
	assert_non_null(strstr(tu_evidence(&t, "one-literal-missing"), "/etc/nope: not found"));
	assert_status(&t, "glob-and-literal", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

/* An image's absolute symlink must resolve inside the image: the host's
 * /etc/hostname is not the image's. */
static void root_cannot_be_escaped(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	accounts_files(r);
	tu_symlink(r, "/etc/hostname", "/etc/abs-link");
	tu_symlink(r, "../../../../../../etc/hostname", "/etc/rel-link");
	tu_write(r, "/etc/hostname", "image-host\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: abs, title: t, all: [{line: {path: /etc/abs-link, match: '^image-host$'}}]}\n"
	       "  - {id: rel, title: t, all: [{line: {path: /etc/rel-link, match: '^image-host$'}}]}\n"
	       "  - {id: dotdot, title: t, all: [{file: {path: /../../../etc/hostname, mode_max: '0644'}}]}\n");
	assert_status(&t, "abs", VG_PASSED);
	assert_status(&t, "rel", VG_PASSED);
	assert_status(&t, "dotdot", VG_PASSED);
	assert_false(t.ctx.root.live);
	tu_done(&t);
	tu_rmroot(r);
}

static void line_rule(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/etc/issue", "Debian GNU/Linux 12 \\n \\l\n", 0644);
	tu_write(r, "/etc/sudoers", "Defaults use_pty\n# Defaults logfile=/x\n", 0440);
	tu_write(r, "/etc/sudoers.d/50-nopw", "bob ALL=(ALL) NOPASSWD: ALL\n", 0440);
	tu_mkdir(r, "/etc/emptydir", 0755);
	tu_run(&t, r, TU_HEAD
	       "  - {id: issue-escapes, title: t, all: [{line: {path: /etc/issue, match: '\\\\[mrsv]', expect: absent}}]}\n"
	       "  - {id: issue-os, title: t, all: [{line: {path: /etc/issue, match: 'debian', icase: true, expect: absent}}]}\n"
	       "  - {id: use-pty, title: t, all: [{line: {path: [/etc/sudoers, /etc/sudoers.d/*], match: '^Defaults.*use_pty'}}]}\n"
	       "  - {id: logfile, title: t, all: [{line: {path: [/etc/sudoers, /etc/sudoers.d/*], match: 'logfile=', comments: '#'}}]}\n"
	       "  - {id: nopasswd, title: t, all: [{line: {path: [/etc/sudoers, /etc/sudoers.d/*], match: NOPASSWD, expect: absent}}]}\n"
	       "  - {id: absent-missing-file, title: t, all: [{line: {path: /etc/nope, match: x, expect: absent}}]}\n"
	       "  - {id: present-missing-file, title: t, all: [{line: {path: /etc/nope, match: x}}]}\n"
	       "  - {id: dir-only, title: t, all: [{line: {path: /etc/emptydir, match: x}}]}\n");
	assert_status(&t, "issue-escapes", VG_PASSED);
	assert_status(&t, "issue-os", VG_FAILED);
	assert_non_null(strstr(tu_evidence(&t, "issue-os"), "/etc/issue:1: Debian"));
	assert_status(&t, "use-pty", VG_PASSED);
	assert_status(&t, "logfile", VG_FAILED);
	assert_status(&t, "nopasswd", VG_FAILED);
	assert_non_null(strstr(tu_evidence(&t, "nopasswd"), "/etc/sudoers.d/50-nopw:1"));
	assert_status(&t, "absent-missing-file", VG_PASSED);
	assert_status(&t, "present-missing-file", VG_FAILED);
	assert_status(&t, "dir-only", VG_FAILED);
	tu_done(&t);
	tu_rmroot(r);
}

static void hostile_files(void **state)
{
	char *r = tu_mkroot();
	char fifo[512];
	struct tu_run t;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/etc/fifo", r);
	tu_mkdir(r, "/etc", 0755);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	tu_symlink(r, "loop2", "/etc/loop1");
	tu_symlink(r, "loop1", "/etc/loop2");
	tu_run(&t, r, TU_HEAD
	       "  - {id: fifo, title: t, all: [{line: {path: /etc/fifo, match: x}}]}\n"
	       "  - {id: loop, title: t, all: [{file: {path: /etc/loop1}}]}\n"
	       "  - {id: loop-line, title: t, all: [{line: {path: /etc/loop1, match: x}}]}\n");
	assert_status(&t, "fifo", VG_ERROR);	/* refused, not hung */
	assert_status(&t, "loop", VG_ERROR);
	assert_non_null(strstr(tu_evidence(&t, "loop"), "symbolic links"));
	assert_status(&t, "loop-line", VG_ERROR);
	tu_done(&t);
	tu_rmroot(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_rule),
		cmocka_unit_test(root_cannot_be_escaped),
		cmocka_unit_test(line_rule),
		cmocka_unit_test(hostile_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
