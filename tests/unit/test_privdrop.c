/* test_privdrop.c: root on a state directory that belongs to the collector's
 * user. Each case runs in a forked child (a process cannot take root back),
 * on real directories, with the real CA, token and SQLite store; the parent,
 * still root, then looks at who owns every file the child made. Needs root:
 * skipped otherwise. */
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collector.h"
#include "store_int.h"

#define OWNER	65534		/* nobody */
#define GROUP	65534		/* nogroup */

static char *mkdir_owned(uid_t uid, gid_t gid)
{
	char *dir = strdup("/tmp/vigil-privdrop.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chown(dir, uid, gid), 0);
	assert_int_equal(chmod(dir, 0750), 0);
	return dir;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void rm_tree(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Runs fn(arg) in a child; its exit status: 0 when every check there held. */
static int in_child(int (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Who owns what under a tree: the files not OWNER:GROUP, and how many there are. */
static int n_files, n_foreign;
static char foreign[512];

static int count_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	n_files++;
	if (st->st_uid != OWNER || st->st_gid != GROUP) {
		n_foreign++;
		snprintf(foreign, sizeof(foreign), "%s (%u:%u)", p, (unsigned)st->st_uid,
			 (unsigned)st->st_gid);
	}
	return 0;
}

static void assert_all_owned(const char *dir, int at_least)
{
	n_files = n_foreign = 0;
	foreign[0] = 0;
	assert_int_equal(nftw(dir, count_one, 16, FTW_PHYS), 0);
	if (n_foreign)
		fail_msg("%d of %d files not %d:%d, e.g. %s", n_foreign, n_files, OWNER, GROUP,
			 foreign);
	if (n_files < at_least)
		fail_msg("only %d files under %s, want at least %d", n_files, dir, at_least);
}

static int skip_unless_root(void **state)
{
	if (geteuid() != 0)
		skip();
	return 0;
}

/* ---- what the child does ---------------------------------------------------------- */

/* `token create` as root on the package's directory: the CA, the store and
 * the token, made as the directory's owner. */
static int child_token(const char *dir)
{
	char text[TOK_TEXT_MAX + 1];
	struct cerr err = {{0}};
	struct ccfg c;
	struct sst x;
	int rc;

	if (priv_become_owner(dir, &err) != 1)
		return fprintf(stderr, "priv_become_owner: %s\n", err.msg), 10;
	if (getuid() != OWNER || geteuid() != OWNER || getgid() != GROUP || getegid() != GROUP)
		return 11;
	if (getgroups(0, NULL) != 0)
		return 12;	/* root's supplementary groups are gone */
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 13;	/* and root cannot come back */
	ccfg_defaults(&c);
	free(c.state_dir);
	c.state_dir = strdup(dir);
	rc = sst_open(&x, &c, false, &err) ||
	     tok_create(x.st, x.ca_pem, x.ca_pem_len, (int64_t)time(NULL), 3600, 1, text, &err);
	if (rc)
		fprintf(stderr, "token: %s\n", err.msg);
	sst_close(&x);
	ccfg_free(&c);
	return rc ? 14 : 0;
}

/* `serve`'s first start as the owner: the server certificate too. */
static int child_server(const char *dir)
{
	struct cerr err = {{0}};
	struct ccfg c;
	struct sst x;
	int rc;

	if (priv_become_owner(dir, &err) != 1)
		return 10;
	ccfg_defaults(&c);
	free(c.state_dir);
	c.state_dir = strdup(dir);
	rc = sst_open(&x, &c, true, &err);
	if (rc)
		fprintf(stderr, "sst_open: %s\n", err.msg);
	sst_close(&x);
	ccfg_free(&c);
	return rc ? 14 : 0;
}

/* Nothing to do: the process stays who it is. */
static int child_stays(const char *dir)
{
	struct cerr err = {{0}};
	uid_t uid = geteuid();

	if (priv_become_owner(dir, &err) != 0)
		return fprintf(stderr, "priv_become_owner: %s\n", err.msg), 10;
	return geteuid() == uid ? 0 : 11;
}

static int child_not_root(const char *dir)
{
	if (setgid(GROUP) || setuid(1))	/* daemon: not root, not the owner */
		return 20;
	return child_stays(dir);
}

/* ---- tests ------------------------------------------------------------------------ */

static void token_as_root_leaves_owner_files(void **state)
{
	char *dir = mkdir_owned(OWNER, GROUP);
	char path[4096];

	assert_int_equal(in_child(child_token, dir), 0);
	snprintf(path, sizeof(path), "%s/ca/ca.key", dir);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/vigil.db", dir);
	assert_int_equal(access(path, F_OK), 0);
	/* dir, ca/, ca.key, ca.crt, vigil.db */
	assert_all_owned(dir, 5);
	/* And the service, as that user, can use them: a server certificate from that CA. */
	assert_int_equal(in_child(child_server, dir), 0);
	assert_all_owned(dir, 8);
	rm_tree(dir);
}

/* What a root query leaves: SQLite's -wal and -shm get the database's owner. */
static void root_query_leaves_owner_files(void **state)
{
	char *dir = mkdir_owned(OWNER, GROUP);
	struct st_query q = {.format = ST_JSON, .missed = 3, .now = (int64_t)time(NULL)};
	struct st_err err = {{0}};
	struct st *s;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(in_child(child_token, dir), 0);
	assert_int_equal(st_open_flags(&s, dir, ST_OPEN_EXISTING | ST_OPEN_READONLY, &err), 0);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(st_print_hosts(s, &q, f, &err), 0);
	fclose(f);
	/* While it is open, and after. */
	assert_all_owned(dir, 5);
	st_close(s);
	assert_all_owned(dir, 5);
	assert_string_equal(out, "[]\n");
	free(out);
	rm_tree(dir);
}

static void root_owned_dir_stays_root(void **state)
{
	char *dir = mkdir_owned(0, 0);

	assert_int_equal(in_child(child_stays, dir), 0);
	rm_tree(dir);
}

static void missing_dir_stays_root(void **state)
{
	assert_int_equal(in_child(child_stays, "/tmp/vigil-privdrop-missing/state"), 0);
}

static void not_root_stays(void **state)
{
	char *dir = mkdir_owned(OWNER, GROUP);

	assert_int_equal(in_child(child_not_root, dir), 0);
	rm_tree(dir);
}

static void unreadable_path_is_an_error(void **state)
{
	struct cerr err = {{0}};
	char *dir = mkdir_owned(0, 0);
	char file[4096], below[4200];

	/* A path through a regular file: ENOTDIR, not "missing". */
	snprintf(file, sizeof(file), "%s/f", dir);
	fclose(fopen(file, "w"));
	snprintf(below, sizeof(below), "%s/state", file);
	assert_int_equal(priv_become_owner(below, &err), -1);
	assert_non_null(strstr(err.msg, "Not a directory"));
	assert_non_null(strstr(err.msg, below));
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(token_as_root_leaves_owner_files, skip_unless_root),
		cmocka_unit_test_setup(root_query_leaves_owner_files, skip_unless_root),
		cmocka_unit_test_setup(root_owned_dir_stays_root, skip_unless_root),
		cmocka_unit_test_setup(missing_dir_stays_root, skip_unless_root),
		cmocka_unit_test_setup(not_root_stays, skip_unless_root),
		cmocka_unit_test_setup(unreadable_path_is_an_error, skip_unless_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
