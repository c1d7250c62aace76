/* test_probe_conf.c: each conf format reads the way its program does. */
#include <string.h>

#include "testutil.h"

static void sshd_semantics(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/etc/ssh/sshd_config",
		 "# first value wins, keywords in any case\n"
		 "Include /etc/ssh/sshd_config.d/*.conf\n"
		 "permitrootlogin yes\n"
		 "MaxAuthTries=4\n"
		 "LogLevel VERBOSE\n"
		 "Ciphers aes256-gcm@openssh.com,aes128-ctr\n"
		 "Match User backup\n"
		 "  PasswordAuthentication yes\n"
		 "  PermitRootLogin yes\n"
		 "Match all\n"
		 "X11Forwarding no\n", 0600);
	/* The include comes first, so its value wins over the later line. */
	tu_write(r, "/etc/ssh/sshd_config.d/10-hardening.conf",
		 "PermitRootLogin no\nMatch Group admins\n  MaxAuthTries 10\n", 0600);
	tu_write(r, "/etc/ssh/sshd_config.d/20-x.conf", "PasswordAuthentication no\n", 0600);
	tu_run(&t, r, TU_HEAD
	       "  - {id: root-login, title: t, all: [{conf: {format: sshd, key: PermitRootLogin, expect: {equals: 'NO'}}}]}\n"
	       "  - {id: max-auth, title: t, all: [{conf: {format: sshd, key: maxauthtries, expect: {max: 4}}}]}\n"
	       "  - {id: password-auth, title: t, all: [{conf: {format: sshd, key: PasswordAuthentication, expect: {equals: 'no'}}}]}\n"
	       "  - {id: loglevel, title: t, all: [{conf: {format: sshd, key: LogLevel, expect: {in: [INFO, VERBOSE]}}}]}\n"
	       "  - {id: ciphers, title: t, all: [{conf: {format: sshd, key: Ciphers, expect: {not_matches: '(cbc|arcfour|3des)'}}}]}\n"
	       "  - {id: default-used, title: t, all: [{conf: {format: sshd, key: IgnoreRhosts, expect: {equals: 'yes', default: 'yes'}}}]}\n"
	       "  - {id: default-bad, title: t, all: [{conf: {format: sshd, key: MaxStartups, expect: {matches: '^10:30:60$', default: '100:30:100'}}}]}\n"
	       "  - {id: unset, title: t, all: [{conf: {format: sshd, key: Banner, expect: {matches: '^/'}}}]}\n"
	       "  - {id: unset-ok, title: t, all: [{conf: {format: sshd, key: Banner, expect: {matches: '^/', absent: passed}}}]}\n"
	       "  - {id: after-match-all, title: t, all: [{conf: {format: sshd, key: X11Forwarding, expect: {equals: 'no'}}}]}\n");
	assert_status(&t, "root-login", VG_FAILED);	/* global ok, Match User backup not */
	assert_non_null(strstr(tu_evidence(&t, "root-login"), "10-hardening.conf:1"));
	assert_non_null(strstr(tu_evidence(&t, "root-login"), "Match User backup"));
	assert_status(&t, "max-auth", VG_FAILED);	/* Match Group admins sets 10 */
	assert_status(&t, "password-auth", VG_FAILED);
	assert_status(&t, "loglevel", VG_PASSED);
	assert_status(&t, "ciphers", VG_PASSED);
	assert_status(&t, "default-used", VG_PASSED);
	assert_non_null(strstr(tu_evidence(&t, "default-used"), "default"));
	assert_status(&t, "default-bad", VG_FAILED);
	assert_status(&t, "unset", VG_FAILED);
	assert_status(&t, "unset-ok", VG_PASSED);
	assert_status(&t, "after-match-all", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

static void sshd_include_loop_is_bounded(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/etc/ssh/sshd_config", "Include sshd_config\nPermitRootLogin no\n", 0600);
	tu_run(&t, r, TU_HEAD
	       "  - {id: loop, title: t, all: [{conf: {format: sshd, key: PermitRootLogin, expect: {equals: 'no'}}}]}\n");
	assert_status(&t, "loop", VG_PASSED);
	assert_non_null(strstr(tu_evidence(&t, "loop"), "nested deeper"));
	tu_done(&t);
	tu_rmroot(r);
}

static void other_formats(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/etc/login.defs", "PASS_MAX_DAYS 99999\nUMASK 022\nPASS_MAX_DAYS\t365\n", 0644);
	tu_write(r, "/etc/security/pwquality.conf", "# minlen = 20\nminlen = 8\nminlen=14\n", 0644);
	tu_write(r, "/etc/security/first.conf", "deny = 3\ndeny = 9\n", 0644);
	tu_write(r, "/etc/systemd/journald.conf", "[Journal]\nStorage=auto\nCompress=no\n", 0644);
	tu_write(r, "/etc/systemd/journald.conf.d/50-vigil.conf",
		 "[Journal]\nStorage=persistent\n[Other]\nCompress=yes\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: max-days, title: t, all: [{conf: {format: login_defs, key: PASS_MAX_DAYS, expect: {max: 365}}}]}\n"
	       "  - {id: umask, title: t, all: [{conf: {format: login_defs, key: UMASK, expect: {in: ['027', '077']}}}]}\n"
	       "  - {id: minlen, title: t, all: [{conf: {format: kv_eq, path: /etc/security/pwquality.conf, key: minlen, expect: {min: 14}}}]}\n"
	       "  - {id: first-wins, title: t, all: [{conf: {format: kv_eq, wins: first, path: /etc/security/first.conf, key: deny, expect: {max: 5}}}]}\n"
	       "  - {id: storage, title: t, all: [{conf: {format: ini, section: Journal, path: [/etc/systemd/journald.conf, /etc/systemd/journald.conf.d/*.conf], key: Storage, expect: {equals: persistent}}}]}\n"
	       "  - {id: compress, title: t, all: [{conf: {format: ini, section: Journal, path: [/etc/systemd/journald.conf, /etc/systemd/journald.conf.d/*.conf], key: Compress, expect: {equals: 'yes'}}}]}\n"
	       "  - {id: missing-file, title: t, all: [{conf: {format: kv, path: /etc/nope.conf, key: k, expect: {equals: v}}}]}\n");
	assert_status(&t, "max-days", VG_PASSED);
	assert_non_null(strstr(tu_evidence(&t, "max-days"), "login.defs:3"));
	assert_status(&t, "umask", VG_FAILED);
	assert_status(&t, "minlen", VG_PASSED);
	assert_status(&t, "first-wins", VG_PASSED);
	assert_status(&t, "storage", VG_PASSED);
	assert_status(&t, "compress", VG_FAILED);
	assert_status(&t, "missing-file", VG_FAILED);
	tu_done(&t);
	tu_rmroot(r);
}

static void expectations(void **state)
{
	struct vg_ev ev = {0};
	struct vg_expect e = {.absent = VG_NA};

	(void)state;
	assert_int_equal(expect_eval(&e, NULL, "k", &ev), VG_NA);
	e.dflt = "7";
	e.has_min = true;
	e.min = 5;
	assert_int_equal(expect_eval(&e, NULL, "k", &ev), VG_PASSED);
	assert_int_equal(expect_eval(&e, "4", "k", &ev), VG_FAILED);
	assert_int_equal(expect_eval(&e, "x", "k", &ev), VG_FAILED);
	assert_int_equal(expect_eval(&e, "99999999999999999999999", "k", &ev), VG_FAILED);
	ev_free(&ev);
	/* Evidence is capped but counted. */
	for (int i = 0; i < 25; i++)
		ev_add(&ev, "item %d", i);
	assert_int_equal(ev.n, VG_EV_MAX);
	assert_int_equal(ev.total, 25);
	ev_free(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sshd_semantics),
		cmocka_unit_test(sshd_include_loop_is_bounded),
		cmocka_unit_test(other_formats),
		cmocka_unit_test(expectations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
