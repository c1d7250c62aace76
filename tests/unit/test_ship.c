/*
 * test_ship.c: the sensor's own structures as records (sensor/ship.h),
 * filled the way the sensor fills them: a real baseline run of
 * baselines/debian-12.yaml on the weak fixture root, a process table
 * seeded from /proc, a real file integrity baseline re-read after a real
 * change, and realtime drift driven with events. Each record is unpacked
 * and set against the structures and the JSON the sensor writes for the
 * same facts.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "mpcheck.h"
#include "ship.h"
#include "testutil.h"

#define T_MS 1767225600000ull

static char srcdir[PATH_MAX];		/* the source tree, from this file's path */

static void find_srcdir(void)
{
	char *p;

	snprintf(srcdir, sizeof(srcdir), "%s", __FILE__);
	for (int i = 0; i < 3 && (p = strrchr(srcdir, '/')); i++)
		*p = 0;			/* .../tests/unit/test_ship.c -> ... */
}

/* The host as records name it, from an empty root: nothing but the id. */
static void host_bare(struct ship_host *h)
{
	memset(h, 0, sizeof(*h));
	h->uid = xstrdup("h-test");
	h->src = (struct ocsf_src){.host_uid = h->uid};
	snprintf(h->run, sizeof(h->run), "0123456789abcdef");
}

/* ---- a baseline run ------------------------------------------------------- */

struct collected {
	struct mp rec[512];
	size_t n;
	uint64_t time_ns;
};

static int collect(void *u, uint64_t time_ns, const void *map, size_t len,
		   struct vg_err *err)
{
	struct collected *c = u;

	(void)err;
	if (c->n == sizeof(c->rec) / sizeof(*c->rec))
		return vg_errf(err, "too many records");
	mp_init(&c->rec[c->n]);
	msgpack_sbuffer_write(&c->rec[c->n].sb, map, len);
	c->n++;
	c->time_ns = time_ns;
	return 0;
}

static int refuse_third(void *u, uint64_t time_ns, const void *map, size_t len,
			struct vg_err *err)
{
	int *calls = u;

	(void)time_ns, (void)map, (void)len;
	return ++*calls == 3 ? vg_errf(err, "outbox full") : 0;
}

static const char *status_word(const struct vg_result *r)
{
	return r->skipped ? "skipped" : r->status == VG_NA ? "not_applicable" :
	       r->status == VG_ERROR ? "error" : status_name(r->status);
}

/* The JSON report's object for check id: from its start to the next one. */
static char *json_check(const char *json, const char *id)
{
	char *key = xasprintf("{\"id\":\"%s\",", id), *start, *end, *out;

	start = strstr(json, key);
	free(key);
	if (!start)
		return NULL;
	end = strstr(start + 1, "{\"id\":\"");
	out = end ? xstrndup(start, (size_t)(end - start)) : xstrdup(start);
	return out;
}

static void test_baseline_run(void **state)
{
	char root[] = "/tmp/vigil-ship.XXXXXX", *cmd, *path, *json = NULL;
	struct vg_filter f = {.min_severity = -1, .quick = true};
	struct vg_config cfg;
	struct vg_baseline b;
	struct vg_ctx ctx;
	struct vg_result *res;
	struct vg_summary sum;
	struct vg_host vh = {0};
	struct vg_osrel os;
	struct ship_host h;
	struct vg_err err = {{0}};
	struct collected *c = xcalloc(1, sizeof(*c));
	size_t jlen = 0, ran = 0;
	FILE *mem;
	int calls = 0;

	(void)state;
	if (geteuid() != 0)
		skip();			/* the fixture root has files of other owners */
	assert_non_null(mkdtemp(root));
	cmd = xasprintf("sh %s/tests/fixtures/mkroot.sh weak %s/r >/dev/null", srcdir, root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	path = xasprintf("%s/r", root);
	tu_write(path, "/etc/hostname", "fixture-01\n", 0644);
	tu_write(path, "/etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0444);
	config_defaults(&cfg);
	cmd = xasprintf("%s/baselines/debian-12.yaml", srcdir);
	if (baseline_load(&b, cmd, &err))
		fail_msg("%s", err.msg);
	free(cmd);
	assert_int_equal(ctx_init(&ctx, path, &cfg, &err), 0);
	res = xcalloc(b.nchecks, sizeof(*res));
	assert_int_equal(engine_run(&b, &ctx, &f, res, &sum, &err), 0);
	assert_true(sum.skipped > 0);	/* --quick left the filesystem-wide searches out */
	assert_true(sum.failed > 0 && sum.passed > 0);

	assert_int_equal(ship_host_init(&h, "h-fixture", &ctx, &err), 0);
	assert_int_equal(ship_run(&h, T_MS * 1000000, &b, res, &sum, collect, c, &err), 0);
	assert_int_equal(c->time_ns, T_MS * 1000000);
	/* The JSON report of the same run, for its facts. */
	mem = open_memstream(&json, &jlen);
	osrel_read(&ctx.root, &os);
	host_describe(&ctx, &os, &vh);
	report_json(mem, &b, &vh, res, &sum);
	fclose(mem);

	for (size_t i = 0; i < b.nchecks; i++) {
		const struct vg_check *ck = &b.checks[i];
		if (!res[i].selected && !res[i].skipped)
			continue;
		assert_true(ran < c->n);
		const msgpack_object *r = mp_root(&c->rec[ran++]);
		char *uid = xasprintf("h-fixture:debian-12:%s", ck->id);
		mp_uint_eq(r, "class_uid", 2003);
		mp_uint_eq(r, "time", T_MS);
		mp_str_eq(r, "device.uid", "h-fixture");
		mp_str_eq(r, "device.hostname", "fixture-01");
		mp_str_eq(r, "finding_info.uid", uid);
		mp_str_eq(r, "finding_info.title", ck->title);
		mp_str_eq(r, "compliance.control", ck->id);
		mp_str_eq(r, "unmapped.vigil.status", status_word(&res[i]));
		mp_str_eq(r, "unmapped.vigil.severity", severity_name(ck->severity));
		mp_str_eq(r, "unmapped.vigil.section", ck->section);
		mp_uint_eq(r, "severity_id", res[i].status == VG_FAILED && !res[i].skipped ?
						     (uint64_t)ck->severity + 2 : 1);
		if (ck->remediation)
			mp_str_eq(r, "remediation.desc", ck->remediation);
		if (ck->ncis)
			mp_str_eq(r, "unmapped.vigil.cis.0.id", ck->cis[0].id);
		for (size_t k = 0; k < res[i].ev.n; k++) {
			char key[64];
			snprintf(key, sizeof(key), "unmapped.vigil.evidence.%zu", k);
			mp_str_eq(r, key, res[i].ev.item[k]);
		}
		if (!res[i].ev.n)
			mp_absent(r, "unmapped.vigil.evidence");
		/* What the JSON report says of it: the same status, or no entry
		 * when --quick left it out. */
		char *jc = json_check(json, ck->id);
		if (res[i].skipped) {
			assert_null(jc);
		} else {
			char *st = xasprintf("\"status\":\"%s\"", status_name(res[i].status));
			assert_non_null(jc);
			if (!strstr(jc, st))
				fail_msg("%s: JSON %s, record %s", ck->id, jc,
					 status_word(&res[i]));
			free(st);
		}
		free(jc);
		free(uid);
	}
	/* Then the run's summary. */
	assert_int_equal(c->n, ran + 1);
	const msgpack_object *s = mp_root(&c->rec[ran]);
	mp_uint_eq(s, "class_uid", 5002);
	mp_str_eq(s, "unmapped.vigil.baseline.id", "debian-12");
	mp_str_eq(s, "unmapped.vigil.baseline.version", b.version);
	mp_uint_eq(s, "unmapped.vigil.summary.passed", sum.passed);
	mp_uint_eq(s, "unmapped.vigil.summary.failed", sum.failed);
	mp_uint_eq(s, "unmapped.vigil.summary.not_applicable", sum.na);
	mp_uint_eq(s, "unmapped.vigil.summary.errors", sum.errors);
	mp_uint_eq(s, "unmapped.vigil.summary.skipped", sum.skipped);
	assert_true(mp_need(s, "unmapped.vigil.summary.score", MSGPACK_OBJECT_FLOAT64)->via.f64 ==
		    sum.score);
	assert_non_null(strstr(json, "\"skipped\":"));

	/* The host, offline: no kernel, architecture or boot of its own. */
	struct mp inv;
	mp_init(&inv);
	assert_int_equal(ship_inventory(&inv.pk, &h, T_MS, &err), 0);
	const msgpack_object *ir = mp_root(&inv);
	mp_uint_eq(ir, "class_uid", 5001);
	mp_str_eq(ir, "device.os.name", vh.os);
	mp_str_eq(ir, "device.os.version", "12");
	mp_str_eq(ir, "unmapped.vigil.os_id", "debian");
	mp_str_eq(ir, "unmapped.vigil.machine_id", "0123456789abcdef0123456789abcdef");
	mp_need(ir, "unmapped.vigil.packages", MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_true(mp_get(ir, "unmapped.vigil.packages")->via.u64 > 10);
	mp_absent(ir, "unmapped.vigil.kernel_release");
	mp_absent(ir, "unmapped.vigil.boot_uid");
	mp_absent(ir, "unmapped.vigil.architecture");
	mp_free(&inv);

	/* The put callback's refusal stops the run and is reported. */
	assert_int_equal(ship_run(&h, 1, &b, res, &sum, refuse_third, &calls, &err), -1);
	assert_int_equal(calls, 3);
	assert_string_equal(err.msg, "outbox full");
	/* A check that neither ran nor was skipped has nothing to ship. */
	struct vg_result none = {0};
	struct mp m;
	mp_init(&m);
	assert_int_equal(ship_check(&m.pk, &h, 1, &b, &b.checks[0], &none, &err), -1);
	mp_free(&m);

	for (size_t i = 0; i < c->n; i++)
		mp_free(&c->rec[i]);
	free(c);
	free(json);
	host_free(&vh);
	osrel_free(&os);
	ship_host_free(&h);
	results_free(res, b.nchecks);
	free(res);
	ctx_fini(&ctx);
	baseline_free(&b);
	config_free(&cfg);
	cmd = xasprintf("rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

/* The running host: kernel, architecture and boot id come from it. */
static void test_live_host(void **state)
{
	struct vg_config cfg;
	struct vg_ctx ctx;
	struct ship_host h;
	struct vg_err err;
	struct utsname u;
	char boot[64] = "", a[SHIP_UID_MAX], b[SHIP_UID_MAX];
	FILE *f;
	struct mp m;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(ctx_init(&ctx, "/", &cfg, &err), 0);
	assert_int_equal(ship_host_init(&h, "h-live", &ctx, &err), 0);
	assert_int_equal(uname(&u), 0);
	assert_non_null(f = fopen("/proc/sys/kernel/random/boot_id", "r"));
	assert_non_null(fgets(boot, sizeof(boot), f));
	fclose(f);
	boot[strcspn(boot, "\n")] = 0;
	mp_init(&m);
	assert_int_equal(ship_inventory(&m.pk, &h, T_MS, &err), 0);
	const msgpack_object *r = mp_root(&m);
	mp_str_eq(r, "device.uid", "h-live");
	mp_str_eq(r, "unmapped.vigil.kernel_release", u.release);
	mp_str_eq(r, "unmapped.vigil.architecture", u.machine);
	mp_str_eq(r, "unmapped.vigil.boot_uid", boot);
	mp_need(r, "metadata.product.version", MSGPACK_OBJECT_STR);
	/* Record ids never repeat within a host, nor across its runs. */
	ship_uid(&h, a);
	ship_uid(&h, b);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, h.run, 16), 0);
	struct ship_host h2;
	assert_int_equal(ship_host_init(&h2, "h-live", &ctx, &err), 0);
	assert_string_not_equal(h.run, h2.run);
	ship_host_free(&h2);
	assert_int_equal(ship_host_init(&h2, "", &ctx, &err), -1);
	assert_null(h2.uid);		/* nothing to free after a refusal */
	mp_free(&m);
	ship_host_free(&h);
	ctx_fini(&ctx);
	config_free(&cfg);
}

/* ---- vigil watch events ---------------------------------------------------- */

static char my_comm[EV_COMM_LEN + 1];

static void read_comm(void)
{
	FILE *f = fopen("/proc/self/comm", "r");

	if (!f || !fgets(my_comm, sizeof(my_comm), f))
		fail_msg("/proc/self/comm");
	fclose(f);
	my_comm[strcspn(my_comm, "\n")] = 0;
}

static struct vg_event event(enum ev_kind k, uint32_t pid, uint32_t ppid)
{
	struct vg_event ev = {.kind = k, .time_ns = T_MS * 1000000 + 999999, .pid = pid,
			      .tgid = pid, .ppid = ppid, .uid = 1000, .gid = 1000,
			      .euid = 1000, .auid = (uint32_t)-1, .cgroup_id = 77,
			      .mntns = 4026531841u};

	snprintf(ev.comm, sizeof(ev.comm), "child");
	return ev;
}

/* A child of this test execs: the record's actor is this process, with its
 * parent, as the process table (seeded from /proc) knows them. */
static void test_exec_event(void **state)
{
	static const char args[] = "curl\0-fsS\0https://example.net/x\0";
	struct vg_proctab *t = proctab_new("/proc");
	struct vg_event ev = event(EV_EXEC, 4000000, (uint32_t)getpid());
	struct ship_host h;
	struct vg_buf json = {0};
	struct vg_err err;
	struct mp m;
	char want[64];

	(void)state;
	host_bare(&h);
	ev.exe = "/usr/bin/curl";
	ev.cwd = "/tmp";
	ev.args = args;
	ev.args_len = sizeof(args) - 1;
	ev.flags = EVF_ARGS_TRUNC;
	mp_init(&m);
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	event_json(&json, &ev, t);
	const msgpack_object *r = mp_root(&m);
	mp_uint_eq(r, "class_uid", 1007);
	mp_uint_eq(r, "activity_id", 1);
	mp_uint_eq(r, "time", T_MS);
	mp_uint_eq(r, "process.pid", 4000000);
	mp_absent(r, "process.tid");
	mp_str_eq(r, "process.name", "child");
	mp_str_eq(r, "process.cmd_line", "curl -fsS https://example.net/x");
	mp_str_eq(r, "process.file.path", "/usr/bin/curl");
	mp_str_eq(r, "process.user.uid", "1000");
	mp_uint_eq(r, "actor.process.pid", (uint64_t)getpid());
	mp_str_eq(r, "actor.process.name", my_comm);
	mp_uint_eq(r, "actor.process.parent_process.pid", (uint64_t)getppid());
	mp_str_eq(r, "unmapped.vigil.event", "exec");
	mp_str_eq(r, "unmapped.vigil.cwd", "/tmp");
	mp_absent(r, "unmapped.vigil.auid");
	mp_uint_eq(r, "unmapped.vigil.cgroup_id", 77);
	mp_bool_eq(r, "unmapped.vigil.cmd_line_truncated", true);
	/* The JSON line says the same. */
	assert_non_null(strstr(json.p, "\"cmd_line\":\"curl -fsS https://example.net/x\""));
	snprintf(want, sizeof(want), "\"actor\":{\"process\":{\"pid\":%d,", (int)getpid());
	assert_non_null(strstr(json.p, want));
	assert_non_null(strstr(json.p, "\"cmd_line_truncated\":true"));

	/* A thread's exit by a signal. */
	ev = event(EV_EXIT, 4000001, (uint32_t)getpid());
	ev.tgid = 4000000;
	ev.flags = EVF_SIGNALED;
	ev.code = 9;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	r = mp_root(&m);
	mp_uint_eq(r, "activity_id", 2);
	mp_uint_eq(r, "type_uid", 100702);
	mp_uint_eq(r, "process.tid", 4000001);
	mp_uint_eq(r, "exit_code", 137);
	mp_uint_eq(r, "unmapped.vigil.signal", 9);
	mp_absent(r, "process.cmd_line");
	buf_free(&json);
	event_json(&json, &ev, t);
	assert_non_null(strstr(json.p, "\"exit_code\":137"));

	/* A fork of pid 1 with no parent known: actor {}. */
	ev = event(EV_FORK, 4000002, 0);
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	r = mp_root(&m);
	assert_int_equal(mp_size(r, "actor"), 0);
	mp_str_eq(r, "unmapped.vigil.event", "fork");
	buf_free(&json);
	mp_free(&m);
	ship_host_free(&h);
	proctab_free(t);
}

/* File events as event_json words them: who, and what changed how. */
static void test_file_events(void **state)
{
	struct vg_proctab *t = proctab_new("/proc");
	struct vg_event ev = event(EV_RENAME, (uint32_t)getpid(), 0);
	struct ship_host h;
	struct vg_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	host_bare(&h);
	mp_init(&m);
	ev.uid = (uint32_t)-1;		/* fanotify: the table knows the user */
	ev.path = "/etc/a";
	ev.path2 = "/etc/b";
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	r = mp_root(&m);
	mp_uint_eq(r, "class_uid", 1001);
	mp_uint_eq(r, "activity_id", 5);
	mp_uint_eq(r, "status_id", 1);
	mp_str_eq(r, "file.path", "/etc/a");
	mp_str_eq(r, "file_result.path", "/etc/b");
	mp_uint_eq(r, "actor.process.pid", (uint64_t)getpid());
	mp_str_eq(r, "actor.process.name", my_comm);
	mp_uint_eq(r, "actor.process.parent_process.pid", (uint64_t)getppid());
	char uid[16];
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	mp_str_eq(r, "actor.user.uid", uid);
	mp_str_eq(r, "unmapped.vigil.event", "rename");

	ev = event(EV_SYMLINK, (uint32_t)getpid(), 0);
	ev.path = "../lib/target";
	ev.path2 = "/usr/bin/link";
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	r = mp_root(&m);
	mp_str_eq(r, "file.path", "/usr/bin/link");
	mp_uint_eq(r, "file.type_id", 7);
	mp_str_eq(r, "unmapped.vigil.symlink_target", "../lib/target");
	mp_absent(r, "file_result");

	ev = event(EV_CHOWN, (uint32_t)getpid(), 0);
	ev.path = "/etc/shadow";
	ev.fuid = 0;
	ev.fgid = (uint32_t)-1;		/* left as it was */
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	r = mp_root(&m);
	mp_uint_eq(r, "activity_id", 7);
	mp_uint_eq(r, "unmapped.vigil.owner_uid", 0);
	mp_absent(r, "unmapped.vigil.owner_gid");

	ev = event(EV_CHMOD, (uint32_t)getpid(), 0);
	ev.path = "/etc/shadow";
	ev.mode = 0100640;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	mp_str_eq(mp_root(&m), "unmapped.vigil.mode", "0640");

	ev = event(EV_SETXATTR, (uint32_t)getpid(), 0);
	ev.path = "/usr/bin/ping";
	ev.path2 = "security.capability";
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	r = mp_root(&m);
	mp_str_eq(r, "unmapped.vigil.xattr_name", "security.capability");
	mp_absent(r, "file_result");

	/* Found by a rescan: nobody was seen; the path was not known whole. */
	ev = event(EV_MKDIR, (uint32_t)getpid(), 0);
	ev.found_by = "rescan";
	ev.path = NULL;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_event(&m.pk, &h, &ev, t, &err), 0);
	r = mp_root(&m);
	assert_int_equal(mp_size(r, "actor"), 0);
	mp_str_eq(r, "file.path", "");
	mp_uint_eq(r, "file.type_id", 2);
	mp_str_eq(r, "unmapped.vigil.found_by", "rescan");
	mp_bool_eq(r, "unmapped.vigil.path_incomplete", true);
	mp_free(&m);
	ship_host_free(&h);
	proctab_free(t);
}

/* ---- file integrity ----------------------------------------------------------- */

struct fimx {
	char *root;
	char data[PATH_MAX], state[PATH_MAX];
	struct vg_fim_config cfg;
};

static void fimx_open(struct fimx *x)
{
	struct vg_fim_set *s;
	struct fim_summary sum;
	struct vg_err err = {{0}};
	struct fim_opts o = {.op = FIM_INIT, .root = "/"};

	memset(x, 0, sizeof(*x));
	x->root = tu_mkroot();
	snprintf(x->data, sizeof(x->data), "%s/data", x->root);
	snprintf(x->state, sizeof(x->state), "%s/state", x->root);
	tu_mkdir(x->root, "/data", 0755);
	tu_write(x->root, "/data/a", "alpha\n", 0644);
	tu_write(x->root, "/data/b", "bravo\n", 0644);
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
}

static void fimx_path(const struct fimx *x, char *buf, const char *rel)
{
	if (snprintf(buf, PATH_MAX, "%s%s", x->data, rel) >= PATH_MAX)
		fail_msg("path too long: %s%s", x->data, rel);
}

static void fimx_close(struct fimx *x)
{
	fim_config_free(&x->cfg);
	tu_rmroot(x->root);
}

static void hex(const unsigned char *d, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A change found by re-reading: before and after, and the changes as the
 * JSON names them. */
static void test_fim_finding(void **state)
{
	struct fimx x;
	struct fim_live *l;
	struct fim_finding f;
	struct ship_host h;
	struct vg_err err;
	struct vg_buf json = {0};
	struct mp m;
	char path[PATH_MAX], want[65], *item;
	unsigned char d[32];
	const msgpack_object *r;

	(void)state;
	fimx_open(&x);
	host_bare(&h);
	assert_int_equal(fim_live_open(&l, &x.cfg, "/", x.state, &err), 0);
	tu_write(x.root, "/data/a", "ALPHA, longer\n", 0600);
	fimx_path(&x, path, "/a");
	assert_int_equal(fim_recheck(l, path, true, &f, &err), 1);
	mp_init(&m);
	assert_int_equal(ship_fim(&m.pk, &h, T_MS, "r-1", &f, NULL, &err), 0);
	fim_finding_json(&json, &f, "host", NULL);
	r = mp_root(&m);
	mp_uint_eq(r, "class_uid", 1001);
	mp_uint_eq(r, "activity_id", 3);		/* content: Update */
	mp_uint_eq(r, "severity_id", 3);
	mp_uint_eq(r, "status_id", 1);
	mp_str_eq(r, "metadata.uid", "r-1");
	mp_str_eq(r, "file.path", path);
	mp_uint_eq(r, "file.size", 6);
	SHA256((const unsigned char *)"alpha\n", 6, d);
	hex(d, want);
	mp_str_eq(r, "file.hashes.0.value", want);
	SHA256((const unsigned char *)"ALPHA, longer\n", 14, d);
	hex(d, want);
	mp_str_eq(r, "file_result.hashes.0.value", want);
	mp_uint_eq(r, "file_result.size", 14);
	mp_str_eq(r, "unmapped.fim.change", "changed");
	mp_str_eq(r, "unmapped.fim.set", "data");
	mp_absent(r, "unmapped.fim.verdict");
	mp_absent(r, "unmapped.vigil");
	assert_int_equal(mp_size(r, "actor"), 0);
	/* Every change the record lists, the JSON lists with the same words. */
	uint32_t n = mp_size(r, "unmapped.fim.changes");
	assert_true(n >= 3);		/* mode, size, sha256, mtime, ... */
	for (uint32_t i = 0; i < n; i++) {
		char k[64];
		const msgpack_object *c;
		snprintf(k, sizeof(k), "unmapped.fim.changes.%u", i);
		c = mp_get(r, k);
		const msgpack_object *a = mp_need(c, "attribute", MSGPACK_OBJECT_STR),
				     *o = mp_need(c, "old", MSGPACK_OBJECT_STR),
				     *nw = mp_need(c, "new", MSGPACK_OBJECT_STR);
		item = xasprintf("{\"attribute\":\"%.*s\",\"old\":\"%.*s\",\"new\":\"%.*s\"}",
				 (int)a->via.str.size, a->via.str.ptr, (int)o->via.str.size,
				 o->via.str.ptr, (int)nw->via.str.size, nw->via.str.ptr);
		if (!strstr(json.p, item))
			fail_msg("%s is not in the JSON: %s", item, json.p);
		free(item);
	}
	fim_finding_fini(&f);

	/* A removed file: its old state only. */
	fimx_path(&x, path, "/b");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(fim_recheck(l, path, true, &f, &err), 1);
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_fim(&m.pk, &h, T_MS, NULL, &f, NULL, &err), 0);
	r = mp_root(&m);
	mp_uint_eq(r, "activity_id", 4);
	mp_uint_eq(r, "file.size", 6);
	mp_absent(r, "file_result");
	mp_absent(r, "metadata.uid");
	mp_str_eq(r, "unmapped.fim.change", "removed");
	mp_nil(r, "unmapped.fim.changes.0.new");

	/* Tampering: the 2004 points at the 1001 and shows the file now. */
	struct pkg_owner o = {.package = "data-pkg", .manager = "dpkg", .alg = PKG_ALG_MD5};
	struct ship_verdict v = {.verdict = "tampering", .reason = "not the package's",
				 .severity_id = 4, .owner = &o, .verified = 0};
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_tampering(&m.pk, &h, T_MS, "r-3", "r-2", &f, &v, &err), 0);
	r = mp_root(&m);
	mp_uint_eq(r, "class_uid", 2004);
	mp_uint_eq(r, "severity_id", 4);
	mp_str_eq(r, "finding_info.uid", "r-3");
	mp_str_eq(r, "metadata.uid", "r-3");
	item = xasprintf("Tampering: %s", path);
	mp_str_eq(r, "finding_info.title", item);
	free(item);
	mp_str_eq(r, "finding_info.desc", "not the package's");
	mp_str_eq(r, "finding_info.related_events.0.uid", "r-2");
	mp_uint_eq(r, "finding_info.related_events.0.type_uid", 100104);
	mp_str_eq(r, "evidences.0.file.path", path);
	assert_int_equal(ship_tampering(&m.pk, &h, T_MS, NULL, "r-2", &f, &v, &err), -1);
	fim_finding_fini(&f);

	buf_free(&json);
	mp_free(&m);
	ship_host_free(&h);
	fim_live_close(l);
	fimx_close(&x);
}

/* Realtime drift hands each judged finding to emit: packed, it names the
 * process that made the change and carries drift's verdict. */
struct emitted {
	struct ship_host *h;
	struct mp rec[16];
	size_t n;
};

static void on_emit(void *u, const struct fim_finding *f, const struct ship_verdict *v)
{
	struct emitted *e = u;
	struct vg_err err;
	char uid[SHIP_UID_MAX];

	if (e->n == 16)
		fail_msg("too many findings");
	mp_init(&e->rec[e->n]);
	ship_uid(e->h, uid);
	if (ship_fim(&e->rec[e->n].pk, e->h, T_MS, uid, f, v, &err))
		fail_msg("ship_fim: %s", err.msg);
	e->n++;
}

static char *my_cgroup(void)
{
	char buf[4096] = "", *line;
	FILE *f = fopen("/proc/self/cgroup", "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	if (!(line = strstr(buf, "0::")))
		return NULL;
	line[strcspn(line, "\n")] = 0;
	return xstrdup(line + 3);
}

static void test_drift_emit(void **state)
{
	struct fimx x;
	struct ship_host h;
	struct emitted e = {.h = &h};
	struct drift *d;
	struct vg_proctab *t = proctab_new("/proc");
	struct vg_err err;
	char path[PATH_MAX], *out = NULL, *cg = my_cgroup();
	size_t outlen = 0;
	FILE *mem = open_memstream(&out, &outlen);
	struct drift_opts o = {.json = true, .debounce_ms = 1, .lookup_ms = 1, .out = mem,
			       .emit = on_emit, .emit_u = &e};

	(void)state;
	fimx_open(&x);
	host_bare(&h);
	o.cfg = &x.cfg;
	o.state_dir = x.state;
	assert_int_equal(drift_open(&d, &o, &err), 0);
	tu_write(x.root, "/data/a", "changed by this test\n", 0644);
	fimx_path(&x, path, "/a");
	struct vg_event ev = event(EV_MODIFY, (uint32_t)getpid(), (uint32_t)getppid());
	ev.path = path;
	ev.uid = getuid();
	ev.cgroup_id = 4242;
	drift_event(d, &ev, t);
	for (int i = 0; i < 40 && e.n < 1; i++) {
		usleep(5000);
		drift_tick(d);
	}
	drift_flush(d);
	fflush(mem);
	assert_int_equal(e.n, 1);
	const msgpack_object *r = mp_root(&e.rec[0]);
	mp_str_eq(r, "file.path", path);
	mp_str_eq(r, "unmapped.fim.verdict", "change");
	mp_str_eq(r, "unmapped.fim.found_by", "event");
	mp_str_eq(r, "unmapped.fim.reason", "not made by the package manager");
	mp_nil(r, "unmapped.fim.package");
	mp_bool_eq(r, "unmapped.fim.realtime", true);
	assert_int_equal(mp_size(r, "unmapped.fim.other_actors"), 0);
	mp_uint_eq(r, "actor.process.pid", (uint64_t)getpid());
	mp_str_eq(r, "actor.process.name", my_comm);
	mp_uint_eq(r, "actor.process.parent_process.pid", (uint64_t)getppid());
	mp_uint_eq(r, "unmapped.vigil.cgroup.id", 4242);
	if (cg)
		mp_str_eq(r, "unmapped.vigil.cgroup.path", cg);
	mp_need(r, "metadata.uid", MSGPACK_OBJECT_STR);
	/* The JSON line drift wrote for it says the same. */
	assert_non_null(out);
	assert_non_null(strstr(out, "\"verdict\":\"change\""));
	assert_non_null(strstr(out, "\"found_by\":\"event\""));
	char want[64];
	snprintf(want, sizeof(want), "\"actor\":{\"process\":{\"pid\":%d,", (int)getpid());
	assert_non_null(strstr(out, want));

	/* Events were lost: the rescan finds the next change, nobody named. */
	tu_write(x.root, "/data/b", "changed unseen\n", 0644);
	drift_lost(d);
	for (int i = 0; i < 40 && e.n < 2; i++) {
		usleep(5000);
		drift_tick(d);
	}
	drift_flush(d);
	assert_true(e.n >= 2);
	bool found = false;
	for (size_t i = 1; i < e.n; i++) {
		r = mp_root(&e.rec[i]);
		const msgpack_object *p = mp_get(r, "file.path");
		if (!p || p->via.str.size < 2 || memcmp(p->via.str.ptr + p->via.str.size - 2, "/b", 2))
			continue;
		found = true;
		mp_str_eq(r, "unmapped.fim.found_by", "rescan");
		assert_int_equal(mp_size(r, "actor"), 0);
		mp_absent(r, "unmapped.vigil");
	}
	assert_true(found);

	drift_close(d);
	fclose(mem);
	free(out);
	free(cg);
	for (size_t i = 0; i < e.n; i++)
		mp_free(&e.rec[i]);
	ship_host_free(&h);
	proctab_free(t);
	fimx_close(&x);
}

/* ---- the sensor itself -------------------------------------------------------- */

static void test_heartbeat_and_gap(void **state)
{
	struct vg_counters c = {.events = 5, .drops = {1, 2, 3}, .overflows = 4};
	struct ob_stats ob = {.records = 10, .open_records = 3, .batches = 2, .bytes = 900,
			      .dropped_records = 7, .dropped_batches = 1, .last_ack = 1767225600};
	struct drift_counters dc = {.events = 9, .tampering = 1};
	struct ship_status st = {.mode = VG_MODE_HYBRID, .uptime_s = 61, .interval_s = 30,
				 .counters = &c, .outbox = &ob, .drift = &dc};
	struct ob_gap g = {.records = 100, .batches = 2, .first_seq = 5, .last_seq = 6,
			   .since_ns = 1000000000ull * 1767225600ull + 999999,
			   .until_ns = 1000000000ull * 1767225660ull};
	ob_gap_fn gap_fn = ship_gap;	/* the outbox's callback type */
	struct ship_host h;
	struct vg_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	host_bare(&h);
	mp_init(&m);
	assert_int_equal(ship_heartbeat(&m.pk, &h, T_MS, &st, &err), 0);
	r = mp_root(&m);
	mp_uint_eq(r, "class_uid", 0);
	mp_str_eq(r, "unmapped.vigil.kind", "heartbeat");
	mp_str_eq(r, "unmapped.vigil.mode", "hybrid");
	mp_uint_eq(r, "unmapped.vigil.uptime_s", 61);
	mp_uint_eq(r, "unmapped.vigil.events", 5);
	mp_uint_eq(r, "unmapped.vigil.drops.ringbuf_full", 1);
	mp_uint_eq(r, "unmapped.vigil.drops.path_trunc", 2);
	mp_uint_eq(r, "unmapped.vigil.drops.map_full", 3);
	mp_uint_eq(r, "unmapped.vigil.drops.overflow", 4);
	mp_uint_eq(r, "unmapped.vigil.outbox.records", 13);
	mp_uint_eq(r, "unmapped.vigil.outbox.dropped_records", 7);
	mp_uint_eq(r, "unmapped.vigil.outbox.last_ack", 1767225600000ull);
	mp_uint_eq(r, "unmapped.vigil.fim.events", 9);
	mp_uint_eq(r, "unmapped.vigil.fim.tampering", 1);
	assert_int_equal(mp_size(r, "unmapped.vigil.fim"), 7);

	st = (struct ship_status){.mode = VG_MODE_RESCAN};
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ship_heartbeat(&m.pk, &h, T_MS, &st, &err), 0);
	r = mp_root(&m);
	assert_int_equal(mp_size(r, "unmapped.vigil.drops"), 0);
	mp_absent(r, "unmapped.vigil.outbox");
	mp_absent(r, "unmapped.vigil.fim");

	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(gap_fn(&h, &g, &m.pk), 0);
	r = mp_root(&m);
	mp_str_eq(r, "unmapped.vigil.kind", "gap");
	mp_uint_eq(r, "unmapped.vigil.records", 100);
	mp_uint_eq(r, "unmapped.vigil.first_seq", 5);
	mp_uint_eq(r, "unmapped.vigil.since", 1767225600000ull);
	mp_uint_eq(r, "start_time", 1767225600000ull);
	mp_uint_eq(r, "end_time", 1767225660000ull);
	assert_true(mp_get(r, "time")->via.u64 > 1700000000000ull);	/* now */
	mp_str_eq(r, "device.uid", "h-test");
	mp_free(&m);
	ship_host_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_run),
		cmocka_unit_test(test_live_host),
		cmocka_unit_test(test_exec_event),
		cmocka_unit_test(test_file_events),
		cmocka_unit_test(test_fim_finding),
		cmocka_unit_test(test_drift_emit),
		cmocka_unit_test(test_heartbeat_and_gap),
	};

	find_srcdir();
	read_comm();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
