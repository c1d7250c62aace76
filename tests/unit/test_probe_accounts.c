/* test_probe_accounts.c: the `accounts` rule and the account lookups. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#define ALL_CHECKS                                                                             \
	"  - {id: unique_uids, title: t, all: [{accounts: {check: unique_uids}}]}\n"           \
	"  - {id: unique_gids, title: t, all: [{accounts: {check: unique_gids}}]}\n"           \
	"  - {id: unique_user_names, title: t, all: [{accounts: {check: unique_user_names}}]}\n" \
	"  - {id: unique_group_names, title: t, all: [{accounts: {check: unique_group_names}}]}\n" \
	"  - {id: only_root_uid0, title: t, all: [{accounts: {check: only_root_uid0}}]}\n"     \
	"  - {id: root_gid0, title: t, all: [{accounts: {check: root_gid0}}]}\n"               \
	"  - {id: no_empty_passwords, title: t, all: [{accounts: {check: no_empty_passwords}}]}\n" \
	"  - {id: shadowed_passwords, title: t, all: [{accounts: {check: shadowed_passwords}}]}\n" \
	"  - {id: groups_exist, title: t, all: [{accounts: {check: groups_exist}}]}\n"         \
	"  - {id: shadow_group_empty, title: t, all: [{accounts: {check: shadow_group_empty}}]}\n" \
	"  - {id: max_days, title: t, all: [{accounts: {check: password_max_days, max: 365}}]}\n" \
	"  - {id: min_days, title: t, all: [{accounts: {check: password_min_days, min: 1}}]}\n" \
	"  - {id: warn_age, title: t, all: [{accounts: {check: password_warn_age, min: 7}}]}\n" \
	"  - {id: inactive, title: t, all: [{accounts: {check: password_inactive, max: 30}}]}\n" \
	"  - {id: no_future, title: t, all: [{accounts: {check: no_future_password_change}}]}\n" \
	"  - {id: nologin, title: t, all: [{accounts: {check: system_accounts_nologin}}]}\n"

static const char *const all_ids[] = {
	"unique_uids", "unique_gids", "unique_user_names", "unique_group_names",
	"only_root_uid0", "root_gid0", "no_empty_passwords", "shadowed_passwords",
	"groups_exist", "shadow_group_empty", "max_days", "min_days", "warn_age",
	"inactive", "no_future", "nologin", NULL,
};

static void has_evidence(struct tu_run *t, const char *id, const char *want)
{
	const char *ev = tu_evidence(t, id);

	if (!strstr(ev, want))
		fail_msg("%s: evidence lacks \"%s\": %s", id, want, ev);
}

static void good_root(const char *r)
{
	tu_write(r, "/etc/passwd",
		 "root:x:0:0:root:/root:/bin/bash\n"
		 "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
		 "bin:x:2:2:bin:/bin:/bin/false\n"
		 "sync:x:4:65534:sync:/bin:/bin/sync\n"
		 "# a comment, then a blank line\n"
		 "\n"
		 "alice:x:1000:1000::/home/alice:/bin/bash\n",
		 0644);
	tu_write(r, "/etc/group",
		 "root:x:0:\ndaemon:x:1:\nbin:x:2:\nshadow:x:42:\nnogroup:x:65534:\n"
		 "alice:x:1000:\n",
		 0644);
	tu_write(r, "/etc/shadow",
		 "root:$y$j9T$salt$hash:19000:1:90:7:30::\n"
		 "daemon:*:19000:0:99999:7:::\n"
		 "bin:!:19000::::::\n"
		 "sync:*:19000:0:99999:7:::\n"
		 "alice:$y$j9T$salt$hash2:19000:1:90:14:30::\n",
		 0640);
	tu_write(r, "/etc/login.defs", "# defaults\nUID_MIN 1000\nUID_MAX 60000\n", 0644);
}

static void every_check_passes(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	good_root(r);
	tu_run(&t, r, TU_HEAD ALL_CHECKS);
	for (size_t i = 0; all_ids[i]; i++)
		assert_status(&t, all_ids[i], VG_PASSED);
	has_evidence(&t, "only_root_uid0", "no account but root has uid 0");
	has_evidence(&t, "shadow_group_empty", "shadow has no members");
	tu_done(&t);
	tu_rmroot(r);
}

static void bad_root(const char *r)
{
	tu_write(r, "/etc/passwd",
		 "root:x:0:5:root:/root:/bin/bash\n"
		 "toor:x:0:0::/root:/bin/sh\n"
		 "daemon:x:1:1::/:/bin/sh\n"
		 "bob::1001:4242::/home/bob:/bin/bash\n"
		 "alice:x:1000:1000::/home/alice:/bin/bash\n"
		 "alice:x:1002:1000::/x:/bin/bash\n"
		 "carol:x:1003:42::/home/carol:/bin/bash\n",
		 0644);
	tu_write(r, "/etc/group",
		 "root:x:0:\ndup:x:0:\nshadow:x:42:alice\nalice:x:1000:\nalice:x:1003:\n", 0644);
	tu_write(r, "/etc/shadow",
		 "root:$6$salt$hash:99999:0:99999:0:::\n"
		 "alice::19000:0:99999:7:::\n"
		 "bob:!:19000::::::\n",
		 0640);
}

static void every_check_fails(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	bad_root(r);
	tu_run(&t, r, TU_HEAD ALL_CHECKS);
	for (size_t i = 0; all_ids[i]; i++)
		assert_status(&t, all_ids[i], VG_FAILED);
	has_evidence(&t, "unique_uids", "uid 0: root, toor");
	has_evidence(&t, "unique_gids", "gid 0: root, dup");
	has_evidence(&t, "unique_user_names", "/etc/passwd: alice on lines 5, 6");
	has_evidence(&t, "unique_group_names", "/etc/group: alice on lines 4, 5");
	has_evidence(&t, "only_root_uid0", "/etc/passwd:2: toor has uid 0");
	has_evidence(&t, "root_gid0", "root has gid 5");
	has_evidence(&t, "no_empty_passwords", "/etc/shadow:2: alice has an empty password");
	has_evidence(&t, "no_empty_passwords", "/etc/passwd:4: bob has an empty password field");
	has_evidence(&t, "shadowed_passwords", "bob has a password field other than");
	has_evidence(&t, "groups_exist", "bob has gid 4242, not in /etc/group");
	has_evidence(&t, "shadow_group_empty", "shadow has members alice");
	has_evidence(&t, "shadow_group_empty", "carol has the shadow group");
	has_evidence(&t, "max_days", "root has maximum password age 99999 (max 365)");
	has_evidence(&t, "min_days", "root has minimum password age 0 (min 1)");
	has_evidence(&t, "warn_age", "root has password warning period 0 (min 7)");
	has_evidence(&t, "inactive", "root has no password inactivity period");
	has_evidence(&t, "no_future", "root last changed on day 99999");
	has_evidence(&t, "nologin", "daemon (uid 1) has shell \"/bin/sh\"");
	tu_done(&t);
	tu_rmroot(r);
}

/* UID_MIN comes from the root's login.defs; without one it is 1000. */
static void uid_min_from_login_defs(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/etc/passwd",
		 "root:x:0:0::/root:/bin/bash\nhalt:x:7:0::/sbin:/sbin/halt\n"
		 "svc:x:600:600::/srv:/bin/bash\n",
		 0644);
	tu_write(r, "/etc/group", "root:x:0:\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: nologin, title: t, all: [{accounts: {check: system_accounts_nologin}}]}\n");
	assert_status(&t, "nologin", VG_FAILED);
	has_evidence(&t, "nologin", "svc (uid 600)");
	tu_done(&t);

	tu_write(r, "/etc/login.defs", "UID_MIN 1000\nUID_MIN\t500\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: nologin, title: t, all: [{accounts: {check: system_accounts_nologin}}]}\n");
	assert_status(&t, "nologin", VG_PASSED);
	has_evidence(&t, "nologin", "uid < 500");
	tu_done(&t);
	tu_rmroot(r);
}

/* A missing file is an error for the checks that read it, not a pass. */
static void missing_files(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;
	struct vg_err err = {{0}};

	(void)state;
	tu_write(r, "/etc/passwd", "root:x:0:0::/root:/bin/bash\n", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: uid0, title: t, all: [{accounts: {check: only_root_uid0}}]}\n"
	       "  - {id: gids, title: t, all: [{accounts: {check: unique_gids}}]}\n"
	       "  - {id: max, title: t, all: [{accounts: {check: password_max_days, max: 90}}]}\n");
	assert_status(&t, "uid0", VG_PASSED);
	assert_status(&t, "gids", VG_ERROR);
	has_evidence(&t, "gids", "/etc/group: No such file or directory");
	assert_status(&t, "max", VG_ERROR);
	has_evidence(&t, "max", "/etc/shadow: No such file or directory");
	assert_int_equal(accounts_load(&t.ctx, &err), -1);
	assert_non_null(strstr(err.msg, "/etc/group"));
	tu_done(&t);
	tu_rmroot(r);
}

static void write_bytes(const char *root, const char *path, const char *p, size_t n)
{
	char full[PATH_MAX];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	f = fopen(full, "w");
	if (!f)
		fail_msg("%s: %s", full, strerror(errno));
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Lines are taken as glibc takes them: " 0" is uid 0, a uid past 32 bits
 * saturates (it is not 0), short lines are no accounts at all. */
static void hostile_passwd(void **state)
{
	static const char passwd[] =
		"garbage line without colons\n"
		"evil:x:0\n"
		"  toor:x: 0:0::/:/bin/sh\n"
		"big:x:4294967296:0::/:/bin/sh\n"
		"neg:x:-1:0::/:/bin/sh\n"
		"nul:x:7\0:0::/:/bin/sh\n"
		"trail:x:12abc:0::/:/bin/sh\n"
		":::::::\n"
		"short:x:5:5\n"
		"root:x:0:0:root:/root:/bin/bash";	/* no final newline */
	char *r = tu_mkroot();
	struct tu_run t;
	uid_t uid;

	(void)state;
	tu_mkdir(r, "/etc", 0755);
	write_bytes(r, "/etc/passwd", passwd, sizeof(passwd) - 1);
	tu_write(r, "/etc/group", "root:x:0:\n:\n\n::\nx:x:notanumber:\n", 0644);
	tu_write(r, "/etc/shadow",
		 "root\n"			/* too short for glibc */
		 "short:*:1:2\n"		/* max missing */
		 "old:$6$h:1:0:99999\n"		/* the old five-field form */
		 "wrap:$6$h:1:0:4294967295:7:30::\n"	/* -1 through (int) */
		 "junk:$6$h:1:0:12x:7:30::\n",
		 0640);
	tu_run(&t, r, TU_HEAD
	       "  - {id: uid0, title: t, all: [{accounts: {check: only_root_uid0}}]}\n"
	       "  - {id: unique, title: t, all: [{accounts: {check: unique_uids}}]}\n"
	       "  - {id: max, title: t, all: [{accounts: {check: password_max_days, max: 365}}]}\n"
	       "  - {id: groups, title: t, all: [{accounts: {check: unique_group_names}}]}\n");
	assert_status(&t, "uid0", VG_FAILED);
	has_evidence(&t, "uid0", "/etc/passwd:3: toor has uid 0");
	if (strstr(tu_evidence(&t, "uid0"), "big has uid 0") ||
	    strstr(tu_evidence(&t, "uid0"), "evil"))
		fail_msg("uid0: %s", tu_evidence(&t, "uid0"));
	has_evidence(&t, "uid0", "/etc/passwd:1: malformed entry");
	has_evidence(&t, "uid0", "/etc/passwd:2: malformed entry");
	/* big and neg both end up 4294967295, as with glibc. */
	assert_status(&t, "unique", VG_FAILED);
	has_evidence(&t, "unique", "uid 4294967295: big, neg");
	assert_status(&t, "max", VG_FAILED);
	has_evidence(&t, "max", "old has maximum password age 99999");
	has_evidence(&t, "max", "wrap has no maximum password age");
	has_evidence(&t, "max", "/etc/shadow:5: malformed entry");
	assert_status(&t, "groups", VG_PASSED);

	assert_int_equal(accounts_uid(&t.ctx, "toor", &uid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(accounts_uid(&t.ctx, "evil", &uid), -1);
	assert_int_equal(accounts_uid(&t.ctx, "nul", &uid), -1);
	assert_int_equal(accounts_uid(&t.ctx, "short", &uid), 0);
	assert_int_equal(uid, 5);
	tu_done(&t);
	tu_rmroot(r);
}

static void lookups(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;
	struct vg_err err = {{0}};
	uid_t uid;
	gid_t gid;

	(void)state;
	good_root(r);
	/* The first of two entries wins, as for getpwuid(). */
	tu_write(r, "/etc/passwd",
		 "root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n"
		 "alice:x:1000:1000::/home/alice:/bin/bash\n",
		 0644);
	tu_run(&t, r, TU_HEAD "  - {id: x, title: t, all: [{accounts: {check: root_gid0}}]}\n");
	assert_int_equal(accounts_load(&t.ctx, &err), 0);
	assert_string_equal(accounts_user_name(&t.ctx, 0), "root");
	assert_string_equal(accounts_user_name(&t.ctx, 1000), "alice");
	assert_null(accounts_user_name(&t.ctx, 4242));
	assert_string_equal(accounts_group_name(&t.ctx, 42), "shadow");
	assert_null(accounts_group_name(&t.ctx, 4242));
	assert_int_equal(accounts_uid(&t.ctx, "toor", &uid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(accounts_gid(&t.ctx, "alice", &gid), 0);
	assert_int_equal(gid, 1000);
	assert_int_equal(accounts_gid(&t.ctx, "nobody-here", &gid), -1);
	tu_done(&t);
	tu_rmroot(r);
}

static void load_errors(void **state)
{
	(void)state;
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{accounts: {check: password_max_days}}]}\n"),
		"needs max"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{accounts: {check: password_min_days, max: 3}}]}\n"),
		"takes no max"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{accounts: {check: unique_uids, min: 1}}]}\n"),
		"takes no min"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{accounts: {check: password_warn_age, min: -1}}]}\n"),
		"negative"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{accounts: {check: no_such_check}}]}\n"),
		"no_such_check"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{accounts: {}}]}\n"),
		"check"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_check_passes),
		cmocka_unit_test(every_check_fails),
		cmocka_unit_test(uid_min_from_login_defs),
		cmocka_unit_test(missing_files),
		cmocka_unit_test(hostile_passwd),
		cmocka_unit_test(lookups),
		cmocka_unit_test(load_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
