/* test_reenroll.c: the pieces of re-enrollment that stand alone, on real
 * files: chunk ids' host part, the spool sealing an open batch under the id
 * that made it, giving up one id's batches with a gap, the census `vigil
 * enroll` takes, and identity.prev kept and removed. The whole path (real
 * collector, TLS, revocation) is tests/cli/reenroll.sh. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "forward.h"
#include "ident.h"
#include "outbox.h"
#include "pkitest.h"
#include "testutil.h"

#define OLD "3f2a9c0d11e4b7a2aa00aa00aa00aa00"
#define NEW "77e1c0de5eed5eed77e1c0de5eed5eed"

/* dir/name, which must fit (path_join keeps -Wformat-truncation out of it). */
static void jp(char out[PATH_MAX], const char *dir, const char *name)
{
	assert_int_equal(path_join(out, dir, name), 0);
}

/* ---- chunk ids ---------------------------------------------------------------- */

static void chunk_sensor(void **state)
{
	char s[OB_SENSOR_MAX + 1], long_id[200];

	(void)state;
	assert_int_equal(ob_chunk_sensor(OLD "-3f2a9c0d11e4b7a2-0000000000000412", s), 0);
	assert_string_equal(s, OLD);
	assert_int_equal(ob_chunk_sensor("web01.example_1-0000000000000001-0000000000000001", s), 0);
	assert_string_equal(s, "web01.example_1");
	/* Not ours in form: refused, never half-parsed. */
	static const char *const bad[] = {
		"", "-", "x", "web01", "web01-3f2a9c0d11e4b7a2",
		"-3f2a9c0d11e4b7a2-0000000000000412",		/* no sensor */
		"web-01-3f2a9c0d11e4b7a2-0000000000000412",	/* '-' inside the sensor */
		"web01-3F2A9C0D11E4B7A2-0000000000000412",	/* upper case hex */
		"web01-3f2a9c0d11e4b7a2-0000000000000000",	/* seq 0 */
		"web01-3f2a9c0d11e4b7a2-000000000000041",	/* 15 digits */
		"web01-3f2a9c0d11e4b7a2x0000000000000412",
		"web01-3f2a9c0d11e4b7a2-4000000000000000",	/* past OB_SEQ_MAX */
		"noack-0123456789abcdef0123456789abcdef",
		"web 1-3f2a9c0d11e4b7a2-0000000000000412",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (ob_chunk_sensor(bad[i], s) == 0)
			fail_msg("'%s' parsed as sensor '%s'", bad[i], s);
	memset(long_id, 'a', 65);
	snprintf(long_id + 65, sizeof(long_id) - 65, "-3f2a9c0d11e4b7a2-0000000000000412");
	assert_int_equal(ob_chunk_sensor(long_id, s), -1);	/* 65 bytes of sensor */
	memset(long_id, 'a', 64);
	snprintf(long_id + 64, sizeof(long_id) - 64, "-3f2a9c0d11e4b7a2-0000000000000412");
	assert_int_equal(ob_chunk_sensor(long_id, s), 0);
	assert_int_equal(strlen(s), 64);
}

/* ---- the spool across a change of id ---------------------------------------- */

struct sp {
	char *root, dir[PATH_MAX];
	struct ob_opts o;
	struct outbox *ob;
	uint64_t gap_records;		/* what the last gap record said */
	int gap_calls;
};

static int gap_pack(void *u, const struct ob_gap *g, msgpack_packer *pk)
{
	struct sp *s = u;

	s->gap_calls++;
	s->gap_records = g->records;
	msgpack_pack_map(pk, 2);
	msgpack_pack_str(pk, 3);
	msgpack_pack_str_body(pk, "gap", 3);
	msgpack_pack_uint64(pk, g->records);
	msgpack_pack_str(pk, 7);
	msgpack_pack_str_body(pk, "batches", 7);
	msgpack_pack_uint64(pk, g->batches);
	return 0;
}

static struct sp *sp_new(void)
{
	struct sp *s = xcalloc(1, sizeof(*s));

	s->root = tu_mkroot();
	jp(s->dir, s->root, "outbox");
	s->o = (struct ob_opts){.dir = s->dir, .tag = "vigil", .batch_records = 1000,
				.gap_fn = gap_pack, .gap_u = s};
	return s;
}

static void sp_open(struct sp *s, const char *id)
{
	struct vg_err err = {{0}};

	s->o.sensor_id = id;
	if (ob_open(&s->ob, &s->o, &err))
		fail_msg("ob_open as %s: %s", id, err.msg);
}

static void sp_close(struct sp *s)
{
	ob_close(s->ob);
	s->ob = NULL;
}

static void sp_free(struct sp *s)
{
	sp_close(s);
	tu_rmroot(s->root);
	free(s);
}

/* {"host": host, "i": i}: what a record says about who made it. */
static void put(struct sp *s, const char *host, int i)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct vg_err err = {{0}};

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "host", 4);
	msgpack_pack_str(&pk, strlen(host));
	msgpack_pack_str_body(&pk, host, strlen(host));
	msgpack_pack_str(&pk, 1);
	msgpack_pack_str_body(&pk, "i", 1);
	msgpack_pack_int(&pk, i);
	if (ob_put(s->ob, 1700000000000000000ull + (uint64_t)i, sb.data, sb.size, &err))
		fail_msg("put: %s", err.msg);
	msgpack_sbuffer_destroy(&sb);
}

/* Every sealed batch: its chunk's host must be the host each of its records
 * names (a gap record names none). Returns the records seen per host in
 * *n_old and *n_new, and the gap records' total in *gaps. */
static void check_batches(struct sp *s, int *n_old, int *n_new, uint64_t *gaps)
{
	struct vg_err err = {{0}};
	struct ob_batch b;
	size_t i;

	*n_old = *n_new = 0;
	*gaps = 0;
	for (i = 0; ob_peek(s->ob, i, &b, &err) == 0; i++) {
		char host[OB_SENSOR_MAX + 1];
		struct fwd_limits lim;
		struct fwd_frame f;
		struct fwd_err fe;
		size_t used;

		assert_int_equal(ob_chunk_sensor(b.chunk, host), 0);
		fwd_limits_default(&lim);
		assert_int_equal(fwd_decode(&f, b.frame, b.len, &lim, &used, &fe), FWD_OK);
		assert_string_equal(f.chunk, b.chunk);
		for (size_t k = 0; k < f.n; k++) {
			const msgpack_object *m = &f.entries[k].record;
			const msgpack_object *h = NULL, *g = NULL;

			for (uint32_t j = 0; j < m->via.map.size; j++) {
				const msgpack_object_kv *kv = &m->via.map.ptr[j];

				if (kv->key.via.str.size == 4 && !memcmp(kv->key.via.str.ptr, "host", 4))
					h = &kv->val;
				if (kv->key.via.str.size == 3 && !memcmp(kv->key.via.str.ptr, "gap", 3))
					g = &kv->val;
			}
			if (g) {
				*gaps += g->via.u64;
				continue;
			}
			assert_non_null(h);
			if (h->via.str.size != strlen(host) || memcmp(h->via.str.ptr, host, strlen(host)))
				fail_msg("batch %s holds a record of host %.*s", b.chunk,
					 (int)h->via.str.size, h->via.str.ptr);
			if (!strcmp(host, OLD))
				(*n_old)++;
			else
				(*n_new)++;
		}
		fwd_frame_free(&f);
	}
}

static char *state_text(struct sp *s)
{
	char p[PATH_MAX];

	jp(p, s->dir, "state");
	return pt_slurp(p, NULL);
}

/* open.log made as OLD, the spool opened as NEW: sealed as OLD first. */
static void foreign_open_batch(void **state)
{
	struct sp *s = sp_new();
	struct ob_stats st;
	uint64_t nb, nr, gaps;
	int n_old, n_new;
	char *txt;

	(void)state;
	sp_open(s, OLD);
	for (int i = 0; i < 5; i++)
		put(s, OLD, i);
	assert_int_equal(ob_flush(s->ob, &(struct vg_err){{0}}), 0);
	for (int i = 5; i < 12; i++)
		put(s, OLD, i);		/* open, not sealed: a kill -9 now */
	sp_close(s);
	txt = state_text(s);
	assert_non_null(strstr(txt, "\nsensor " OLD "\n"));
	free(txt);

	sp_open(s, NEW);
	ob_stats(s->ob, &st);
	assert_int_equal(st.open_records, 0);
	assert_int_equal(st.batches, 2);
	ob_held(s->ob, OLD, &nb, &nr);
	assert_int_equal(nb, 2);
	assert_int_equal(nr, 12);
	ob_held(s->ob, NULL, &nb, &nr);
	assert_int_equal(nb, 0);
	txt = state_text(s);
	assert_non_null(strstr(txt, "\nsensor " NEW "\n"));	/* the open batch is NEW's now */
	free(txt);
	for (int i = 0; i < 3; i++)
		put(s, NEW, 100 + i);
	assert_int_equal(ob_flush(s->ob, &(struct vg_err){{0}}), 0);
	check_batches(s, &n_old, &n_new, &gaps);
	assert_int_equal(n_old, 12);
	assert_int_equal(n_new, 3);
	assert_int_equal(gaps, 0);
	ob_held(s->ob, NULL, &nb, &nr);
	assert_int_equal(nb, 1);
	assert_int_equal(nr, 3);

	/* Reopened as NEW with NEW's records open: nothing foreign, nothing sealed. */
	put(s, NEW, 200);
	sp_close(s);
	sp_open(s, NEW);
	ob_stats(s->ob, &st);
	assert_int_equal(st.open_records, 1);
	assert_int_equal(st.batches, 3);
	sp_free(s);
}

/* A spool from before the state named a sensor: its open batch is the
 * opener's, as it always was. */
static void state_without_sensor(void **state)
{
	struct sp *s = sp_new();
	struct ob_stats st;
	char p[PATH_MAX], *txt, *line;

	(void)state;
	sp_open(s, OLD);
	put(s, OLD, 1);
	sp_close(s);
	txt = state_text(s);
	line = strstr(txt, "sensor ");
	assert_non_null(line);
	*line = 0;			/* the older format ends with the gap line */
	jp(p, s->dir, "state");
	pt_spit(p, txt, strlen(txt), 0600);
	free(txt);
	sp_open(s, NEW);
	ob_stats(s->ob, &st);
	assert_int_equal(st.damaged, 0);	/* the state was read, not set aside */
	assert_int_equal(st.open_records, 1);
	assert_int_equal(st.batches, 0);
	sp_close(s);

	/* A sensor line that is no sensor id: the state is damaged. */
	txt = state_text(s);
	line = strstr(txt, "sensor ");
	assert_non_null(line);
	strcpy(line, "sensor a-b\n");
	pt_spit(p, txt, strlen(txt), 0600);
	free(txt);
	sp_open(s, NEW);
	ob_stats(s->ob, &st);
	assert_int_equal(st.damaged, 1);
	sp_free(s);
}

/* A crash after the foreign seal, before the state said NEW: the state
 * still names OLD, but open.log is empty (or names the sealed batch), so
 * nothing is sealed twice and NEW's records are not taken for OLD's. */
static void foreign_seal_crash(void **state)
{
	struct sp *s = sp_new();
	struct ob_stats st;
	uint64_t gaps;
	int n_old, n_new;
	char p[PATH_MAX], *old_state;
	size_t len;

	(void)state;
	sp_open(s, OLD);
	for (int i = 0; i < 4; i++)
		put(s, OLD, i);
	sp_close(s);
	jp(p, s->dir, "state");
	old_state = pt_slurp(p, &len);
	sp_open(s, NEW);
	sp_close(s);
	pt_spit(p, old_state, len, 0600);	/* as if the last state write never happened */
	free(old_state);
	sp_open(s, NEW);
	ob_stats(s->ob, &st);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.open_records, 0);
	put(s, NEW, 10);
	sp_close(s);
	sp_open(s, NEW);		/* NEW's record stays NEW's */
	assert_int_equal(ob_flush(s->ob, &(struct vg_err){{0}}), 0);
	check_batches(s, &n_old, &n_new, &gaps);
	assert_int_equal(n_old, 4);
	assert_int_equal(n_new, 1);
	sp_free(s);
}

static unsigned count_dir(const char *dir)
{
	char cmd[PATH_MAX + 64], *out;
	unsigned n;
	int status;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' 2>/dev/null | wc -l", dir);
	out = pt_sh(&status, "%s", cmd);
	n = (unsigned)strtoul(out, NULL, 10);
	free(out);
	return n;
}

/* OLD's batches given up: to bad/, counted, and a gap record in the next
 * batch; NEW's untouched. */
static void discard(void **state)
{
	struct sp *s = sp_new();
	struct vg_err err = {{0}};
	struct ob_stats st;
	uint64_t nb, nr, gaps;
	int n_old, n_new;
	char bad[PATH_MAX];

	(void)state;
	sp_open(s, OLD);
	for (int i = 0; i < 9; i++) {
		put(s, OLD, i);
		if (i % 3 == 2)
			assert_int_equal(ob_flush(s->ob, &err), 0);
	}
	sp_close(s);
	sp_open(s, NEW);
	put(s, NEW, 50);
	assert_int_equal(ob_flush(s->ob, &err), 0);
	assert_int_equal(ob_discard(s->ob, "nobody", "test", &nb, &nr, &err), 0);
	assert_int_equal(nb, 0);
	assert_int_equal(ob_discard(s->ob, OLD, "test: refused", &nb, &nr, &err), 0);
	assert_int_equal(nb, 3);
	assert_int_equal(nr, 9);
	jp(bad, s->dir, "bad");
	assert_int_equal(count_dir(bad), 3);
	ob_stats(s->ob, &st);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.discarded_batches, 3);
	assert_int_equal(st.discarded_records, 9);
	assert_int_equal(st.damaged, 0);
	ob_held(s->ob, OLD, &nb, &nr);
	assert_int_equal(nb, 0);

	/* The gap survives a restart (the state holds it), then the next
	 * batch carries it, once. */
	sp_close(s);
	sp_open(s, NEW);
	assert_int_equal(s->gap_calls, 0);
	put(s, NEW, 51);
	assert_int_equal(ob_flush(s->ob, &err), 0);
	assert_int_equal(s->gap_calls, 1);
	assert_int_equal(s->gap_records, 9);
	check_batches(s, &n_old, &n_new, &gaps);
	assert_int_equal(n_old, 0);
	assert_int_equal(n_new, 2);
	assert_int_equal(gaps, 9);
	put(s, NEW, 52);
	assert_int_equal(ob_flush(s->ob, &err), 0);
	assert_int_equal(s->gap_calls, 1);
	sp_close(s);
	sp_open(s, NEW);		/* the carried gap is not pending again */
	put(s, NEW, 53);
	assert_int_equal(ob_flush(s->ob, &err), 0);
	assert_int_equal(s->gap_calls, 1);
	sp_free(s);
}

/* What `vigil enroll` asks, without changing anything. */
static void census(void **state)
{
	struct sp *s = sp_new();
	struct vg_err err = {{0}};
	struct ob_census c;
	struct outbox *other;
	char missing[PATH_MAX];

	(void)state;
	jp(missing, s->root, "none");
	assert_int_equal(ob_census(missing, OLD, &c, &err), 0);
	assert_false(c.busy);
	assert_int_equal(c.batches + c.others, 0);
	assert_false(c.open_log);

	sp_open(s, OLD);
	/* Held by a process (here: another open of the same directory). */
	assert_int_equal(ob_census(s->dir, OLD, &c, &err), 0);
	assert_true(c.busy);
	for (int i = 0; i < 6; i++) {
		put(s, OLD, i);
		if (i % 2)
			assert_int_equal(ob_flush(s->ob, &err), 0);
	}
	put(s, OLD, 7);
	sp_close(s);
	assert_int_equal(ob_census(s->dir, OLD, &c, &err), 0);
	assert_false(c.busy);
	assert_int_equal(c.batches, 3);
	assert_int_equal(c.records, 6);
	assert_int_equal(c.others, 0);
	assert_true(c.open_log);
	assert_int_equal(ob_census(s->dir, NEW, &c, &err), 0);
	assert_int_equal(c.batches, 0);
	assert_int_equal(c.others, 3);
	assert_false(c.open_log);	/* open.log is OLD's */

	/* Nothing was changed: the spool opens as it was left. */
	sp_open(s, OLD);
	{
		struct ob_stats st;

		ob_stats(s->ob, &st);
		assert_int_equal(st.batches, 3);
		assert_int_equal(st.open_records, 1);
		assert_int_equal(st.damaged, 0);
	}
	/* A second census while no one holds it does not lock anyone out. */
	sp_close(s);
	assert_int_equal(ob_census(s->dir, OLD, &c, &err), 0);
	s->o.sensor_id = OLD;
	assert_int_equal(ob_open(&other, &s->o, &err), 0);
	ob_close(other);
	sp_free(s);
}

/* ---- identity.prev ------------------------------------------------------------- */

static void make_identity(const char *state, const struct pki_ca *ca, const char *host,
			  const char *collector)
{
	char dir[PATH_MAX], p[PATH_MAX], small[1024];
	char *ca_pem;
	size_t len;

	jp(dir, state, "identity");
	mkdir(state, 0700);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_true(strlen(dir) < sizeof(small));
	memcpy(small, dir, strlen(dir) + 1);	/* pt_host's paths are 4096 bytes */
	pt_host(ca, small, "host", host, NULL, NULL);
	jp(p, state, "ca/ca.crt");
	ca_pem = pt_slurp(p, &len);
	jp(p, dir, "ca.crt");
	pt_spit(p, ca_pem, len, 0644);
	free(ca_pem);
	jp(p, dir, "collector");
	pt_spit(p, collector, strlen(collector), 0644);
}

static void keep_and_drop_prev(void **state)
{
	char *root = tu_mkroot(), st[PATH_MAX], cadir[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
	static const char *const files[] = {"host.key", "host.crt", "ca.crt", "collector"};
	struct vg_err err = {{0}};
	struct pki_ca *ca;
	struct ident id;

	(void)state;
	jp(st, root, "state");
	jp(cadir, root, "state/ca");
	mkdir(st, 0700);
	mkdir(cadir, 0700);
	ca = pt_ca(cadir, "test CA");
	make_identity(st, ca, OLD, "127.0.0.1:24224");

	assert_int_equal(ident_load_at(&id, st, IDENT_PREV, &err), 1);	/* none yet */
	assert_int_equal(ident_drop_prev(st, &err), 0);			/* none: fine */
	/* What a copy cut short by a crash left is cleared first. */
	jp(p, st, "identity.prev.new");
	assert_int_equal(mkdir(p, 0700), 0);
	jp(q, p, "host.key.tmp");
	pt_spit(q, "junk", 4, 0600);
	if (ident_keep_prev(st, &err))
		fail_msg("ident_keep_prev: %s", err.msg);
	assert_false(pt_exists(p));
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		char *a, *b, d[PATH_MAX], t[PATH_MAX];
		size_t la, lb;

		jp(d, st, "identity");
		jp(p, d, files[i]);
		jp(d, st, "identity.prev");
		jp(q, d, files[i]);
		a = pt_slurp(p, &la);
		b = pt_slurp(q, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		assert_int_equal(pt_mode(q), i == 0 ? 0600 : 0644);
		snprintf(t, sizeof(t), "%s.tmp", files[i]);
		jp(q, d, t);
		assert_false(pt_exists(q));
		free(a);
		free(b);
	}
	jp(q, st, "identity.prev");
	assert_int_equal(pt_mode(q), 0700);
	assert_int_equal(ident_load_at(&id, st, IDENT_PREV, &err), 0);
	assert_string_equal(id.host_id, OLD);
	assert_string_equal(id.collector, "127.0.0.1:24224");
	SSL_CTX_free(ident_ctx(&id, &err));

	/* One previous identity at a time: the caller decides about the old one. */
	assert_int_equal(ident_keep_prev(st, &err), -1);
	assert_non_null(strstr(err.msg, "exists already"));

	assert_int_equal(ident_drop_prev(st, &err), 0);
	assert_false(pt_exists(q));
	assert_int_equal(ident_load_at(&id, st, IDENT_PREV, &err), 1);
	assert_int_equal(ident_load(&id, st, &err), 0);		/* the current one stays */
	assert_string_equal(id.host_id, OLD);

	/* A key that others may read is refused, in identity.prev as anywhere. */
	assert_int_equal(ident_keep_prev(st, &err), 0);
	jp(p, st, "identity.prev/host.key");
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(ident_load_at(&id, st, IDENT_PREV, &err), -1);
	assert_non_null(strstr(err.msg, "must not be readable by others"));
	/* No current identity to copy: an error, and no identity.prev is made. */
	assert_int_equal(ident_drop_prev(st, &err), 0);
	jp(p, st, "identity");
	assert_int_equal(ident_rmdir(p, &err), 0);
	assert_int_equal(ident_keep_prev(st, &err), -1);
	jp(p, st, "identity.prev");
	assert_false(pt_exists(p));
	jp(p, st, "identity.prev.new");
	assert_false(pt_exists(p));
	pki_ca_free(ca);
	tu_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chunk_sensor),
		cmocka_unit_test(foreign_open_batch),
		cmocka_unit_test(state_without_sensor),
		cmocka_unit_test(foreign_seal_crash),
		cmocka_unit_test(discard),
		cmocka_unit_test(census),
		cmocka_unit_test(keep_and_drop_prev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
