/*
 * test_drift.c: realtime drift's queue, actors and repairs, driven with
 * events made here (the kernel sources have their own tests; the whole
 * path through bpf and fanotify is tests/cli/fim-drift.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "drift.h"
#include "testutil.h"

struct dx {
	char *root;			/* a scratch directory on the live host */
	char data[PATH_MAX], state[PATH_MAX];
	struct vg_fim_config cfg;
	struct drift *d;
	struct vg_proctab *pt;
	char *out;
	size_t outlen;
	FILE *mem;
};

static void dx_path(const struct dx *x, char *buf, const char *rel)
{
	if (snprintf(buf, PATH_MAX, "%s%s", x->data, rel) >= PATH_MAX)
		fail_msg("path too long: %s%s", x->data, rel);
}

/* A baseline of ROOT/data (files a, b, c and dir sub/ with d), then a drift
 * engine over it that reports JSON into memory. */
static void dx_open(struct dx *x, size_t queue_max)
{
	struct vg_fim_set *s;
	struct fim_summary sum;
	struct vg_err err = {{0}};
	struct fim_opts o = {.op = FIM_INIT, .root = "/"};
	struct drift_opts dop = {.json = true, .debounce_ms = 1, .lookup_ms = 1,
				 .queue_max = queue_max};

	memset(x, 0, sizeof(*x));
	x->root = tu_mkroot();
	snprintf(x->data, sizeof(x->data), "%s/data", x->root);
	snprintf(x->state, sizeof(x->state), "%s/state", x->root);
	tu_mkdir(x->root, "/data", 0755);
	tu_mkdir(x->root, "/data/sub", 0755);
	tu_write(x->root, "/data/a", "alpha\n", 0644);
	tu_write(x->root, "/data/b", "bravo\n", 0644);
	tu_write(x->root, "/data/c", "charlie\n", 0644);
	tu_write(x->root, "/data/sub/d", "delta\n", 0644);
	x->cfg.sets = xcalloc(1, sizeof(*x->cfg.sets));
	s = &x->cfg.sets[x->cfg.nsets++];
	s->name = xstrdup("data");
	s->attrs = FIM_A_ALL;
	strv_push(&s->paths, x->data);
	x->cfg.hash_threads = 1;
	o.state_dir = x->state;
	o.out = fopen("/dev/null", "w");
	if (fim_run(&x->cfg, &o, &sum, &err) < 0)
		fail_msg("fim init: %s", err.msg);
	fclose(o.out);
	x->mem = open_memstream(&x->out, &x->outlen);
	dop.cfg = &x->cfg;
	dop.state_dir = x->state;
	dop.out = x->mem;
	if (drift_open(&x->d, &dop, &err))
		fail_msg("drift_open: %s", err.msg);
	x->pt = proctab_new("/proc");
}

static void dx_close(struct dx *x)
{
	drift_close(x->d);
	proctab_free(x->pt);
	fclose(x->mem);
	free(x->out);
	fim_config_free(&x->cfg);
	tu_rmroot(x->root);
}

/* Ticks until nothing is queued or held (a few debounce periods). */
static void dx_settle(struct dx *x)
{
	for (int i = 0; i < 20; i++) {
		usleep(5000);
		drift_tick(x->d);
	}
	fflush(x->mem);
}

static struct vg_event file_event(enum ev_kind kind, const char *path, uint32_t pid)
{
	struct vg_event ev = {.kind = kind, .path = path, .pid = pid, .tgid = pid, .ppid = 1,
			      .uid = 0, .gid = 0, .euid = 0, .auid = (uint32_t)-1};

	snprintf(ev.comm, sizeof(ev.comm), "tester");
	return ev;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static size_t lines(const struct dx *x)
{
	return x->out ? count(x->out, "\n") : 0;
}

/* Events were lost: what changed meanwhile is found by the rescan, and
 * the records say no event was seen. */
static void test_lost_events_rescan(void **state)
{
	struct dx x;
	struct drift_counters c;

	(void)state;
	dx_open(&x, 0);
	tu_write(x.root, "/data/a", "ALPHA\n", 0644);
	char b[PATH_MAX];
	dx_path(&x, b, "/b");
	unlink(b);
	tu_write(x.root, "/data/sub/new", "new\n", 0600);
	drift_lost(x.d);
	dx_settle(&x);
	drift_counters(x.d, &c);
	/* a, b and sub/new, and the two directories whose entries changed. */
	assert_int_equal(lines(&x), 5);
	assert_int_equal(count(x.out, "\"found_by\":\"rescan\""), 5);
	assert_int_equal(count(x.out, "\"actor\":null"), 5);
	assert_non_null(strstr(x.out, "/data/a\""));
	assert_non_null(strstr(x.out, "\"change\":\"removed\""));
	assert_non_null(strstr(x.out, "/data/sub/new\""));
	assert_int_equal(c.findings, 5);
	assert_true(c.rescans >= 1);
	/* A second loss finds nothing new: each change is told once. */
	drift_lost(x.d);
	dx_settle(&x);
	assert_int_equal(lines(&x), 5);
	dx_close(&x);
}

/* A full queue never drops a change: the overflow turns into a rescan. */
static void test_queue_overflow_rescans(void **state)
{
	char p[3][PATH_MAX];
	struct dx x;
	struct drift_counters c;

	(void)state;
	dx_open(&x, 2);
	dx_path(&x, p[0], "/a");
	dx_path(&x, p[1], "/b");
	dx_path(&x, p[2], "/c");
	tu_write(x.root, "/data/a", "1\n", 0644);
	tu_write(x.root, "/data/b", "2\n", 0644);
	tu_write(x.root, "/data/c", "3\n", 0644);
	for (int i = 0; i < 3; i++) {
		struct vg_event ev = file_event(EV_MODIFY, p[i], (uint32_t)getpid());
		drift_event(x.d, &ev, x.pt);
	}
	dx_settle(&x);
	drift_counters(x.d, &c);
	assert_int_equal(c.overflows, 1);
	assert_int_equal(c.findings, 3);
	for (int i = 0; i < 3; i++) {
		char *want = xasprintf("\"path\":\"%s\"", p[i]);
		assert_non_null(strstr(x.out, want));
		free(want);
	}
	/* The two queued had an actor; the third was found by the rescan. */
	assert_int_equal(count(x.out, "\"found_by\":\"event\""), 2);
	assert_int_equal(count(x.out, "\"found_by\":\"rescan\""), 1);
	dx_close(&x);
}

/* A busy file's change found when its coalescing window ended has nobody
 * to name, and says how it was found; one with an actor says "event". */
static void test_coalesced_change(void **state)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct vg_event ev;
	struct dx x;

	(void)state;
	dx_open(&x, 0);
	dx_path(&x, a, "/a");
	dx_path(&x, b, "/b");
	tu_write(x.root, "/data/a", "changed in a window\n", 0644);
	tu_write(x.root, "/data/b", "changed by someone seen\n", 0644);
	ev = file_event(EV_MODIFY, a, (uint32_t)-1);
	ev.found_by = "coalesced";
	drift_event(x.d, &ev, x.pt);
	ev = file_event(EV_MODIFY, b, (uint32_t)getpid());
	drift_event(x.d, &ev, x.pt);
	dx_settle(&x);
	assert_int_equal(count(x.out, "\"found_by\":\"coalesced\""), 1);
	assert_int_equal(count(x.out, "\"found_by\":\"event\""), 1);
	assert_int_equal(count(x.out, "\"found_by\":\"rescan\""), 0);
	dx_close(&x);
}

/* A path the kernel could not spell out cannot be trusted: rescan. */
static void test_truncated_path_rescans(void **state)
{
	struct dx x;
	struct vg_event ev;
	struct drift_counters c;

	(void)state;
	dx_open(&x, 0);
	tu_write(x.root, "/data/sub/d", "DELTA\n", 0644);
	ev = file_event(EV_MODIFY, "/incomplete/d", (uint32_t)getpid());
	ev.flags = EVF_PATH_TRUNC;
	drift_event(x.d, &ev, x.pt);
	dx_settle(&x);
	drift_counters(x.d, &c);
	assert_int_equal(c.findings, 1);
	assert_non_null(strstr(x.out, "/data/sub/d\""));
	assert_non_null(strstr(x.out, "\"found_by\":\"rescan\""));
	dx_close(&x);
}

/* Two writers within the debounce time: one record naming both, the
 * latest as "actor". Events outside the sets are not even counted. */
static void test_two_actors_one_change(void **state)
{
	char a[PATH_MAX];
	struct dx x;
	struct vg_event ev;
	struct drift_counters c;

	(void)state;
	dx_open(&x, 0);
	dx_path(&x, a, "/a");
	tu_write(x.root, "/data/a", "two writers\n", 0644);
	ev = file_event(EV_MODIFY, a, 4000001);
	drift_event(x.d, &ev, x.pt);
	ev = file_event(EV_MODIFY, a, 4000002);
	drift_event(x.d, &ev, x.pt);
	ev = file_event(EV_MODIFY, "/not/monitored", 4000003);
	drift_event(x.d, &ev, x.pt);
	dx_settle(&x);
	drift_counters(x.d, &c);
	assert_int_equal(c.events, 2);
	assert_int_equal(c.findings, 1);
	assert_non_null(strstr(x.out, "\"actor\":{\"process\":{\"pid\":4000002"));
	assert_non_null(strstr(x.out, "\"other_actors\":[{\"process\":{\"pid\":4000001"));
	assert_non_null(strstr(x.out, "\"verdict\":\"change\""));
	dx_close(&x);
}

/* The actor's lineage holds dpkg: a package update, judged once that
 * process is gone; no package ships this path, so nothing to verify. */
static void test_package_manager_lineage(void **state)
{
	char a[PATH_MAX];
	struct dx x;
	struct vg_event exec = {.kind = EV_EXEC, .pid = 4000010, .tgid = 4000010, .ppid = 1,
				.exe = "/usr/bin/dpkg", .args = "dpkg\0-i\0x.deb", .args_len = 13};
	struct vg_event ev;
	struct drift_counters c;

	(void)state;
	dx_open(&x, 0);
	snprintf(exec.comm, sizeof(exec.comm), "dpkg");
	proctab_apply(x.pt, &exec);
	dx_path(&x, a, "/a");
	tu_write(x.root, "/data/a", "from a package\n", 0644);
	ev = file_event(EV_RENAME, a, 4000010);
	ev.path = "/elsewhere/a.dpkg-new";
	ev.path2 = a;
	drift_event(x.d, &ev, x.pt);
	dx_settle(&x);
	drift_counters(x.d, &c);
	assert_int_equal(c.findings, 1);
	assert_int_equal(c.package_updates, 1);
	assert_non_null(strstr(x.out, "\"verdict\":\"package_update\""));
	assert_non_null(strstr(x.out, "no package ships it"));
	assert_non_null(strstr(x.out, "\"path\":\"/usr/bin/dpkg\""));
	dx_close(&x);
}

/* A renamed directory: every entry below it moves, though only the
 * directory had an event. */
static void test_directory_rename(void **state)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct dx x;
	struct vg_event ev;

	(void)state;
	dx_open(&x, 0);
	dx_path(&x, from, "/sub");
	dx_path(&x, to, "/moved");
	assert_int_equal(rename(from, to), 0);
	ev = file_event(EV_RENAME, from, (uint32_t)getpid());
	ev.path2 = to;
	drift_event(x.d, &ev, x.pt);
	dx_settle(&x);
	assert_int_equal(count(x.out, "\"change\":\"removed\""), 2);	/* sub, sub/d */
	assert_int_equal(count(x.out, "\"change\":\"added\""), 2);	/* moved, moved/d */
	assert_non_null(strstr(x.out, "/data/moved/d\""));
	dx_close(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_events_rescan),
		cmocka_unit_test(test_queue_overflow_rescans),
		cmocka_unit_test(test_coalesced_change),
		cmocka_unit_test(test_truncated_path_rescans),
		cmocka_unit_test(test_two_actors_one_change),
		cmocka_unit_test(test_package_manager_lineage),
		cmocka_unit_test(test_directory_rename),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
