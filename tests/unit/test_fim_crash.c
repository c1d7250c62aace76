/*
 * test_fim_crash.c: kill -9 in the middle of init or update leaves the
 * previous baseline whole: the database passes SQLite's integrity check
 * and a check still compares against the old baseline.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fimtest.h"

#define OLD_FILES 50
#define NEW_FILES 20000
#define STALL_AFTER 15000		/* files read before the child stops moving */

struct stall {
	int fd;				/* the pipe to the parent */
	unsigned calls;
};

/* In the child, on a worker: after enough files, tell the parent and stop
 * this worker, so the kill lands inside the open transaction. */
static void stall_hook(void *u, const char *path, int attempt)
{
	struct stall *s = u;

	(void)path;
	(void)attempt;
	if (__atomic_add_fetch(&s->calls, 1, __ATOMIC_SEQ_CST) != STALL_AFTER)
		return;
	if (write(s->fd, "x", 1) != 1)
		_exit(3);
	sleep(60);
}

static void populate(struct fx *f, const char *dir, int n)
{
	char path[128], text[64];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%05d", dir, i);
		snprintf(text, sizeof(text), "file %d of %s\n", i, dir);
		tu_write(f->root, path, text, 0644);
	}
}

static void sql_one(sqlite3 *db, const char *sql, char *out, size_t n)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) || sqlite3_step(st) != SQLITE_ROW)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void assert_db_intact(const struct fx *f, long long rows)
{
	char *file = fimdb_path(f->state, f->root), val[256];
	sqlite3 *db;

	if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE, NULL))
		fail_msg("%s: %s", file, sqlite3_errmsg(db));
	sql_one(db, "PRAGMA integrity_check", val, sizeof(val));
	assert_string_equal(val, "ok");
	sql_one(db, "SELECT count(*) FROM file", val, sizeof(val));
	assert_int_equal(atoll(val), rows);
	sql_one(db, "SELECT count(*) FROM sqlite_master WHERE name = 'file_new'", val,
		sizeof(val));
	assert_string_equal(val, "0");		/* the half-written table is gone */
	sqlite3_close(db);
	free(file);
}

static long long wal_size(const struct fx *f)
{
	char *db = fimdb_path(f->state, f->root), *wal = xasprintf("%s-wal", db);
	struct stat st;
	long long n = stat(wal, &st) == 0 ? (long long)st.st_size : -1;

	free(db);
	free(wal);
	return n;
}

/* Forks a child running op; kills it with SIGKILL once it is well inside. */
static void run_and_kill(struct fx *f, enum fim_op op)
{
	struct stall s = {0};
	int fds[2], status;
	pid_t pid;
	char c;

	if (pipe(fds))
		fail_msg("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct vg_err err = {{0}};
		FILE *null = fopen("/dev/null", "w");
		close(fds[0]);
		s.fd = fds[1];
		f->o = (struct fim_opts){.op = op, .root = f->root, .state_dir = f->state,
					 .out = null, .on_read = stall_hook, .hook_u = &s};
		fim_run(&f->cfg, &f->o, &f->sum, &err);
		_exit(4);			/* finished: the test could not interrupt it */
	}
	close(fds[1]);
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	if (poll(&p, 1, 60000) != 1 || read(fds[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("the child never got far enough (status %d)", status);
	}
	usleep(100 * 1000);			/* let the other worker and the writer go on */
	/* New rows already spilled into the log: the kill lands mid-write. */
	long long wal = wal_size(f);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	if (wal <= 0)
		fail_msg("nothing of the new baseline was written before the kill");
}

static void killed_during(enum fim_op op)
{
	struct fx f;
	long long old_entries;

	fx_init(&f, FIM_A_ALL);
	populate(&f, "/data/old", OLD_FILES);
	assert_int_equal(fx_run(&f, FIM_INIT, false), 0);
	old_entries = (long long)f.sum.entries;
	populate(&f, "/data/new", NEW_FILES);
	tu_write(f.root, "/data/old/f00000", "tampered\n", 0644);

	run_and_kill(&f, op);

	assert_db_intact(&f, old_entries);
	/* The old baseline answers: the new files are new to it. */
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_int_equal(f.sum.added, NEW_FILES + 1);	/* and /data/new itself */
	assert_int_equal(f.sum.removed, 0);
	assert_changed(&f, "/data/old/f00000", "sha256");
	/* A run that is allowed to finish replaces it. */
	assert_int_equal(fx_run(&f, op, false), op == FIM_INIT ? 0 : 1);
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 0);
	assert_db_intact(&f, (long long)f.sum.entries);
	fx_free(&f);
}

static void kill_during_init(void **state)
{
	(void)state;
	killed_during(FIM_INIT);
}

static void kill_during_update(void **state)
{
	(void)state;
	killed_during(FIM_UPDATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kill_during_init),
		cmocka_unit_test(kill_during_update),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
