/* test_proctab.c: the process table from /proc and from events. */
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "watch.h"

static void seeded_from_real_proc(void **state)
{
	struct vg_proctab *t = proctab_new("/proc");
	const struct vg_proc *chain[8];

	(void)state;
	const struct vg_proc *me = proctab_get(t, (uint32_t)getpid());
	assert_non_null(me);
	assert_int_equal(me->ppid, (uint32_t)getppid());
	assert_non_null(me->exe);
	assert_non_null(strstr(me->exe, "test_proctab"));
	size_t n = proctab_lineage(t, (uint32_t)getpid(), chain, 8);
	assert_true(n >= 2);
	assert_int_equal(chain[0]->pid, (uint32_t)getpid());
	assert_int_equal(chain[1]->pid, (uint32_t)getppid());
	assert_true(proctab_size(t) > 2);
	proctab_free(t);
}

static void events_update_the_table(void **state)
{
	char *root = tu_mkroot();	/* an empty /proc: events are all it knows */
	struct vg_proctab *t = proctab_new(root);
	struct vg_event ev = {0};
	const struct vg_proc *chain[8];
	const char args[] = "/usr/bin/ls\0-la\0/etc";

	(void)state;
	ev = (struct vg_event){.kind = EV_EXEC, .pid = 100, .tgid = 100, .ppid = 1, .uid = 0,
			       .exe = "/usr/bin/bash", .args = "bash", .args_len = 5};
	strcpy(ev.comm, "bash");
	proctab_apply(t, &ev);
	ev = (struct vg_event){.kind = EV_FORK, .pid = 200, .tgid = 200, .ppid = 100};
	proctab_apply(t, &ev);
	const struct vg_proc *p = proctab_get(t, 200);
	assert_non_null(p);
	assert_string_equal(p->comm, "bash");	/* a fork inherits its parent's image */
	assert_string_equal(p->exe, "/usr/bin/bash");
	ev = (struct vg_event){.kind = EV_EXEC, .pid = 200, .tgid = 200, .ppid = 100, .uid = 1000,
			       .exe = "/usr/bin/ls", .args = args, .args_len = sizeof(args)};
	strcpy(ev.comm, "ls");
	proctab_apply(t, &ev);
	p = proctab_get(t, 200);
	assert_string_equal(p->exe, "/usr/bin/ls");
	assert_string_equal(p->args, "/usr/bin/ls -la /etc");
	assert_int_equal(p->uid, 1000);
	assert_int_equal(proctab_lineage(t, 200, chain, 8), 2);
	assert_string_equal(chain[1]->comm, "bash");

	/* A thread is not a process. */
	ev = (struct vg_event){.kind = EV_FORK, .pid = 201, .tgid = 200, .ppid = 100};
	proctab_apply(t, &ev);
	assert_null(proctab_get(t, 201));

	/* An exited process is still known for its late events. */
	ev = (struct vg_event){.kind = EV_EXIT, .pid = 200, .tgid = 200};
	proctab_apply(t, &ev);
	p = proctab_get(t, 200);
	assert_non_null(p);
	assert_true(p->exited);

	/* A pid reused by a new fork is a new process. */
	ev = (struct vg_event){.kind = EV_FORK, .pid = 200, .tgid = 200, .ppid = 1};
	strcpy(ev.comm, "cron");
	proctab_apply(t, &ev);
	p = proctab_get(t, 200);
	assert_false(p->exited);
	assert_int_equal(p->ppid, 1);
	assert_string_equal(p->comm, "cron");
	proctab_free(t);
	tu_rmroot(root);
}

static void lineage_survives_cycles_and_growth(void **state)
{
	char *root = tu_mkroot();
	struct vg_proctab *t = proctab_new(root);
	const struct vg_proc *chain[64];
	struct vg_event ev = {0};

	(void)state;
	/* 2 -> 3 -> 2: stale entries that point at each other. */
	ev = (struct vg_event){.kind = EV_EXEC, .pid = 2, .tgid = 2, .ppid = 3};
	proctab_apply(t, &ev);
	ev = (struct vg_event){.kind = EV_EXEC, .pid = 3, .tgid = 3, .ppid = 2};
	proctab_apply(t, &ev);
	assert_int_equal(proctab_lineage(t, 2, chain, 64), 2);

	/* Thousands of processes make the table grow under a lineage walk. */
	for (uint32_t pid = 10; pid < 20000; pid++) {
		ev = (struct vg_event){.kind = EV_EXEC, .pid = pid, .tgid = pid, .ppid = pid - 1};
		proctab_apply(t, &ev);
	}
	assert_int_equal(proctab_lineage(t, 19999, chain, 64), 64);
	assert_int_equal(chain[63]->pid, 19999 - 63);
	proctab_free(t);
	tu_rmroot(root);
}

static void hostile_proc_entries(void **state)
{
	char *root = tu_mkroot();

	(void)state;
	/* A comm with spaces and parentheses, as a process may name itself. */
	tu_write(root, "/42/stat", "42 (a) b (c) S 7 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0\n", 0444);
	tu_write(root, "/42/status", "Name:\tx\nUid:\t1000\t1000\t1000\t1000\n", 0444);
	tu_write(root, "/43/stat", "43 garbage", 0444);
	tu_write(root, "/44/stat", "", 0444);
	tu_write(root, "/notapid/stat", "1 (x) S 0", 0444);
	struct vg_proctab *t = proctab_new(root);
	const struct vg_proc *p = proctab_get(t, 42);
	assert_non_null(p);
	assert_string_equal(p->comm, "a) b (c");
	assert_int_equal(p->ppid, 7);
	assert_int_equal(p->uid, 1000);
	assert_non_null(proctab_get(t, 43));	/* known, with nothing parsed */
	assert_int_equal(proctab_get(t, 43)->ppid, 0);
	assert_null(proctab_get(t, 99));	/* neither seen nor in /proc */
	assert_int_equal(proctab_size(t), 3);
	proctab_free(t);
	tu_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seeded_from_real_proc),
		cmocka_unit_test(events_update_the_table),
		cmocka_unit_test(lineage_survives_cycles_and_growth),
		cmocka_unit_test(hostile_proc_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
