/*
 * test_outbox.c: the durable spool (sensor/outbox.h) on real files, with
 * real processes killed by SIGKILL: what ob_put accepted is there exactly
 * once after any crash; chunk ids never repeat; damaged files go to bad/
 * and the rest is kept; the bound drops the oldest batches and says so in a
 * gap record, exactly, across restarts too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forward.h"
#include "outbox.h"
#include "testutil.h"

#define T0 1700000000000000000ull
#define ID "host_1.example"

/* ---- records, gap records, reading the spool back ------------------------ */

static void pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* {kind: "rec", i: id, pad: <pad letters>}: pad varies with id, so batches
 * do not compress to nothing. */
static void rec_pack(msgpack_sbuffer *sb, int64_t id, size_t pad)
{
	msgpack_packer pk;
	char *p = xmalloc(pad + 1);
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < pad; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p[i] = (char)('a' + x % 26);
	}
	p[pad] = 0;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	pstr(&pk, "kind");
	pstr(&pk, "rec");
	pstr(&pk, "i");
	msgpack_pack_int64(&pk, id);
	pstr(&pk, "pad");
	pstr(&pk, p);
	free(p);
}

static int gap_pack(void *u, const struct ob_gap *g, msgpack_packer *pk)
{
	int *calls = u;

	if (calls)
		(*calls)++;
	msgpack_pack_map(pk, 5);
	pstr(pk, "kind");
	pstr(pk, "gap");
	pstr(pk, "records");
	msgpack_pack_uint64(pk, g->records);
	pstr(pk, "batches");
	msgpack_pack_uint64(pk, g->batches);
	pstr(pk, "first_seq");
	msgpack_pack_uint64(pk, g->first_seq);
	pstr(pk, "last_seq");
	msgpack_pack_uint64(pk, g->last_seq);
	return 0;
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->via.str.size == strlen(key) && !memcmp(k->via.str.ptr, key, k->via.str.size))
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

struct ent {
	uint64_t t;
	bool gap;
	int64_t id;			/* a record's */
	uint64_t g[4];			/* a gap's records, batches, first_seq, last_seq */
};
struct bat {
	uint64_t seq;
	char chunk[128];
	size_t n;
	struct ent *e;
};
struct snap {
	struct bat *b;
	size_t n;
};

/* Every sealed batch, oldest first, decoded as the collector will. */
static void snap_take(struct outbox *ob, struct snap *s)
{
	struct ob_batch ob_b;
	struct vg_err err;
	int r;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; (r = ob_peek(ob, i, &ob_b, &err)) == 0; i++) {
		struct fwd_frame f;
		struct fwd_err fe = {{0}};
		struct bat *b;
		size_t used;

		if (fwd_decode(&f, ob_b.frame, ob_b.len, NULL, &used, &fe) != FWD_OK)
			fail_msg("batch %zu (%s): %s", i, ob_b.chunk, fe.msg);
		assert_int_equal(used, ob_b.len);
		assert_int_equal(f.mode, FWD_COMPRESSED);
		assert_string_equal(f.chunk, ob_b.chunk);
		assert_true(f.has_size);
		assert_int_equal(f.size, f.n);
		assert_int_equal(f.n, ob_b.records);
		s->b = xrealloc(s->b, (s->n + 1) * sizeof(*s->b));
		b = &s->b[s->n++];
		b->seq = ob_b.seq;
		snprintf(b->chunk, sizeof(b->chunk), "%s", ob_b.chunk);
		b->n = f.n;
		b->e = xcalloc(f.n, sizeof(*b->e));
		for (size_t k = 0; k < f.n; k++) {
			const msgpack_object *rec = &f.entries[k].record, *v = map_get(rec, "kind");
			struct ent *e = &b->e[k];

			assert_non_null(v);
			e->t = f.entries[k].time_ns;
			e->gap = v->via.str.size == 3 && !memcmp(v->via.str.ptr, "gap", 3);
			if (e->gap) {
				static const char *const keys[] = {"records", "batches", "first_seq",
								   "last_seq"};
				for (int j = 0; j < 4; j++)
					e->g[j] = map_get(rec, keys[j])->via.u64;
			} else {
				e->id = map_get(rec, "i")->via.i64;
			}
		}
		fwd_frame_free(&f);
	}
	if (r < 0)
		fail_msg("peek: %s", err.msg);
}

static void snap_free(struct snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->b[i].e);
	free(s->b);
	memset(s, 0, sizeof(*s));
}

static const struct bat *snap_find(const struct snap *s, uint64_t seq)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->b[i].seq == seq)
			return &s->b[i];
	return NULL;
}

/* ---- a spool in a fresh directory ---------------------------------------- */

struct fx {
	char *root, dir[PATH_MAX];
	struct ob_opts o;
	struct outbox *ob;
	msgpack_sbuffer sb;
	int gap_calls;
};

static struct fx *fx_new(uint32_t records, uint32_t bytes, uint64_t max)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->root = tu_mkroot();
	snprintf(f->dir, sizeof(f->dir), "%s/spool", f->root);
	f->o = (struct ob_opts){.dir = f->dir, .sensor_id = ID, .tag = "vigil.test",
				.max_bytes = max, .batch_records = records, .batch_bytes = bytes,
				.gap_fn = gap_pack, .gap_u = &f->gap_calls};
	msgpack_sbuffer_init(&f->sb);
	return f;
}

static void fx_open(struct fx *f)
{
	struct vg_err err = {{0}};

	if (ob_open(&f->ob, &f->o, &err))
		fail_msg("ob_open: %s", err.msg);
}

static void fx_close(struct fx *f)
{
	ob_close(f->ob);
	f->ob = NULL;
}

static void fx_free(struct fx *f)
{
	fx_close(f);
	msgpack_sbuffer_destroy(&f->sb);
	tu_rmroot(f->root);
	free(f);
}

static void put(struct fx *f, int64_t id, size_t pad)
{
	struct vg_err err = {{0}};

	rec_pack(&f->sb, id, pad);
	if (ob_put(f->ob, T0 + (uint64_t)id * 1000, f->sb.data, f->sb.size, &err))
		fail_msg("ob_put %" PRId64 ": %s", id, err.msg);
}

static void flush(struct fx *f)
{
	struct vg_err err = {{0}};

	if (ob_flush(f->ob, &err))
		fail_msg("ob_flush: %s", err.msg);
}

static struct ob_stats stats(struct fx *f)
{
	struct ob_stats s;

	ob_stats(f->ob, &s);
	return s;
}

static char *path_in(struct fx *f, const char *name)
{
	static char p[sizeof(f->dir) + 300];

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	return p;
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf;
	long len;

	if (!fp)
		fail_msg("%s: %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*n = (size_t)len;
	return buf;
}

static void spit(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (!fp)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fwrite(p, 1, n, fp), n);
	fclose(fp);
}

static char *seq_name(uint64_t seq)
{
	static char name[32];

	snprintf(name, sizeof(name), "%016" PRIx64, seq);
	return name;
}

static unsigned count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Bytes the spool takes: batch files and open.log. */
static uint64_t disk_bytes(struct fx *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	uint64_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (strlen(de->d_name) != 16 && strcmp(de->d_name, "open.log"))
			continue;
		assert_int_equal(stat(path_in(f, de->d_name), &st), 0);
		n += (uint64_t)st.st_size;
	}
	closedir(d);
	return n;
}

/* ---- tests ---------------------------------------------------------------- */

/* What was put comes back: the frame, its chunk id and options, each record. */
static void roundtrip(void **state)
{
	struct fx *f = fx_new(0, 0, 0);
	struct ob_batch b;
	struct fwd_frame fr;
	struct fwd_err fe = {{0}};
	struct vg_err err;
	msgpack_sbuffer out[25];
	msgpack_unpacked top;
	size_t used;
	struct stat st;
	(void)state;

	fx_open(f);
	for (int i = 0; i < 25; i++) {
		msgpack_sbuffer_init(&out[i]);
		rec_pack(&out[i], i, (size_t)(i * 7));
		assert_int_equal(ob_put(f->ob, T0 + (uint64_t)i * 1000000007ull, out[i].data,
					out[i].size, &err), 0);
	}
	assert_int_equal(stats(f).open_records, 25);
	assert_int_equal(stats(f).batches, 0);
	assert_int_equal(ob_peek(f->ob, 0, &b, &err), 1);
	flush(f);
	assert_int_equal(stats(f).open_records, 0);
	assert_int_equal(ob_peek(f->ob, 0, &b, &err), 0);
	assert_int_equal(ob_peek(f->ob, 1, &b, &err), 1);
	assert_int_equal(b.records, 25);
	/* <sensor>-<16 hex epoch>-<16 hex seq>, and the file is named by the seq. */
	assert_int_equal(strlen(b.chunk), strlen(ID) + 34);
	assert_memory_equal(b.chunk, ID "-", strlen(ID) + 1);
	assert_string_equal(b.chunk + strlen(ID) + 18, seq_name(b.seq));
	assert_int_equal(b.chunk[strlen(ID) + 17], '-');
	assert_int_equal(stat(path_in(f, seq_name(b.seq)), &st), 0);
	assert_int_equal((size_t)st.st_size, b.len);
	assert_int_equal(stats(f).bytes, b.len);

	assert_int_equal(fwd_decode(&fr, b.frame, b.len, NULL, &used, &fe), FWD_OK);
	assert_int_equal(used, b.len);
	assert_int_equal(fr.mode, FWD_COMPRESSED);
	assert_string_equal(fr.tag, "vigil.test");
	assert_string_equal(fr.chunk, b.chunk);
	assert_true(fr.has_size);
	assert_int_equal(fr.size, 25);
	assert_int_equal(fr.n, 25);
	for (int i = 0; i < 25; i++) {
		msgpack_sbuffer re;
		msgpack_packer pk;

		assert_int_equal(fr.entries[i].time_ns, T0 + (uint64_t)i * 1000000007ull);
		msgpack_sbuffer_init(&re);
		msgpack_packer_init(&pk, &re, msgpack_sbuffer_write);
		msgpack_pack_object(&pk, fr.entries[i].record);
		assert_int_equal(re.size, out[i].size);
		assert_memory_equal(re.data, out[i].data, re.size);
		msgpack_sbuffer_destroy(&re);
		msgpack_sbuffer_destroy(&out[i]);
	}
	fwd_frame_free(&fr);
	/* The option map itself: exactly size, chunk, compressed: "gzip". */
	msgpack_unpacked_init(&top);
	used = 0;
	assert_int_equal(msgpack_unpack_next(&top, (const char *)b.frame, b.len, &used),
			 MSGPACK_UNPACK_SUCCESS);
	{
		const msgpack_object *opt = &top.data.via.array.ptr[2], *v;

		assert_int_equal(opt->via.map.size, 3);
		assert_int_equal(map_get(opt, "size")->via.u64, 25);
		v = map_get(opt, "chunk");
		assert_int_equal(v->via.str.size, strlen(b.chunk));
		assert_memory_equal(v->via.str.ptr, b.chunk, v->via.str.size);
		v = map_get(opt, "compressed");
		assert_int_equal(v->via.str.size, 4);
		assert_memory_equal(v->via.str.ptr, "gzip", 4);
	}
	msgpack_unpacked_destroy(&top);
	/* Nothing to seal: a flush makes no empty batch. */
	flush(f);
	assert_int_equal(stats(f).batches, 1);
	fx_free(f);
}

static void seal_by_count_bytes_age(void **state)
{
	struct fx *f = fx_new(10, 0, 0);
	struct vg_err err;
	struct snap s;
	(void)state;

	fx_open(f);
	for (int i = 0; i < 25; i++)
		put(f, i, 20);
	assert_int_equal(stats(f).batches, 2);
	assert_int_equal(stats(f).records, 20);
	assert_int_equal(stats(f).open_records, 5);
	fx_free(f);

	/* By bytes: each record is 11 + 100 bytes in a frame; 1000 hold 9. */
	f = fx_new(0, 1000, 0);
	fx_open(f);
	rec_pack(&f->sb, 0, 81);
	assert_int_equal(f->sb.size, 100);
	for (int i = 0; i < 30; i++)
		put(f, i, 81);
	snap_take(f->ob, &s);
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.b[i].n, 9);
	assert_int_equal(stats(f).open_records, 3);
	snap_free(&s);
	/* Exactly full seals at once. */
	fx_close(f);
	f->o.batch_bytes = 999;
	fx_open(f);
	for (int i = 30; i < 36; i++)
		put(f, i, 81);
	assert_int_equal(stats(f).batches, 4);
	assert_int_equal(stats(f).open_records, 0);
	fx_free(f);

	/* By age, counted from the first tick that sees the batch. */
	f = fx_new(0, 0, 0);
	f->o.batch_ms = 500;
	fx_open(f);
	assert_int_equal(ob_tick(f->ob, 100, &err), 0);
	put(f, 1, 10);
	assert_int_equal(ob_tick(f->ob, 1000, &err), 0);
	assert_int_equal(ob_tick(f->ob, 1499, &err), 0);
	assert_int_equal(stats(f).batches, 0);
	put(f, 2, 10);
	assert_int_equal(ob_tick(f->ob, 1500, &err), 0);
	assert_int_equal(stats(f).batches, 1);
	assert_int_equal(stats(f).records, 2);
	/* The next batch's clock starts anew. */
	put(f, 3, 10);
	assert_int_equal(ob_tick(f->ob, 1600, &err), 0);
	assert_int_equal(ob_tick(f->ob, 2000, &err), 0);
	assert_int_equal(stats(f).batches, 1);
	assert_int_equal(ob_tick(f->ob, 2100, &err), 0);
	assert_int_equal(stats(f).batches, 2);
	fx_free(f);
}

static void acks(void **state)
{
	struct fx *f = fx_new(5, 0, 0);
	struct vg_err err;
	struct snap s;
	char chunk[128];
	(void)state;

	fx_open(f);
	for (int i = 0; i < 20; i++)
		put(f, i, 10);
	snap_take(f->ob, &s);
	assert_int_equal(s.n, 4);
	/* Out of order: the third, then the first. */
	assert_int_equal(ob_ack(f->ob, s.b[2].chunk, &err), 0);
	assert_int_equal(ob_ack(f->ob, s.b[0].chunk, &err), 0);
	assert_int_equal(access(path_in(f, seq_name(s.b[2].seq)), F_OK), -1);
	assert_int_equal(access(path_in(f, seq_name(s.b[1].seq)), F_OK), 0);
	{
		struct snap t;

		snap_take(f->ob, &t);
		assert_int_equal(t.n, 2);
		assert_int_equal(t.b[0].seq, s.b[1].seq);
		assert_int_equal(t.b[1].seq, s.b[3].seq);
		snap_free(&t);
	}
	assert_int_equal(stats(f).acked_batches, 2);
	assert_int_equal(stats(f).acked_records, 10);
	assert_true(stats(f).last_ack > 0);
	/* Late, unknown, or not ours: 1, and nothing moves. */
	assert_int_equal(ob_ack(f->ob, s.b[2].chunk, &err), 1);
	snprintf(chunk, sizeof(chunk), "%s", s.b[1].chunk);
	chunk[strlen(chunk) - 1] = 'f';
	assert_int_equal(ob_ack(f->ob, chunk, &err), 1);
	snprintf(chunk, sizeof(chunk), "other%s", strchr(s.b[1].chunk, '-'));
	assert_int_equal(ob_ack(f->ob, chunk, &err), 1);	/* another sensor's */
	assert_int_equal(ob_ack(f->ob, "other", &err), 1);
	assert_int_equal(ob_ack(f->ob, "", &err), 1);
	assert_int_equal(ob_ack(f->ob, "x-y-z", &err), 1);
	memcpy(chunk, s.b[1].chunk, sizeof(chunk));
	chunk[strlen(ID) + 3] ^= 1;		/* another epoch */
	assert_int_equal(ob_ack(f->ob, chunk, &err), 1);
	assert_int_equal(stats(f).batches, 2);
	/* Acks last across a restart. */
	fx_close(f);
	fx_open(f);
	assert_int_equal(stats(f).batches, 2);
	assert_int_equal(ob_ack(f->ob, s.b[3].chunk, &err), 0);
	assert_int_equal(ob_ack(f->ob, s.b[1].chunk, &err), 0);
	assert_int_equal(ob_peek(f->ob, 0, (struct ob_batch[1]){0}, &err), 1);
	snap_free(&s);
	fx_free(f);
}

static void restart(void **state)
{
	struct fx *f = fx_new(0, 0, 0);
	struct ob_batch b;
	struct vg_err err;
	struct snap s, t;
	unsigned char *frames[2];
	size_t lens[2];
	uint64_t last;
	(void)state;

	fx_open(f);
	put(f, 1, 10);
	flush(f);
	put(f, 2, 10);
	flush(f);
	put(f, 3, 10);			/* stays open across the restart */
	snap_take(f->ob, &s);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ob_peek(f->ob, (size_t)i, &b, &err), 0);
		frames[i] = xmalloc(b.len);
		memcpy(frames[i], b.frame, b.len);
		lens[i] = b.len;
	}
	fx_close(f);
	fx_open(f);
	assert_int_equal(stats(f).open_records, 1);
	assert_int_equal(stats(f).damaged, 0);
	snap_take(f->ob, &t);
	assert_int_equal(t.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(t.b[i].chunk, s.b[i].chunk);
		assert_int_equal(ob_peek(f->ob, (size_t)i, &b, &err), 0);
		assert_int_equal(b.len, lens[i]);
		assert_memory_equal(b.frame, frames[i], b.len);	/* a retry sends the same bytes */
		free(frames[i]);
	}
	snap_free(&t);
	/* The sequence goes on where it stopped. */
	flush(f);
	snap_take(f->ob, &t);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.b[2].seq, s.b[1].seq + 1);
	assert_int_equal(t.b[2].n, 1);
	assert_int_equal(t.b[2].e[0].id, 3);
	last = t.b[2].seq;
	/* Everything acked: the next chunk id is still new. */
	for (size_t i = 0; i < t.n; i++)
		assert_int_equal(ob_ack(f->ob, t.b[i].chunk, &err), 0);
	snap_free(&t);
	fx_close(f);
	fx_open(f);
	assert_int_equal(stats(f).batches, 0);
	put(f, 4, 10);
	flush(f);
	snap_take(f->ob, &t);
	assert_int_equal(t.n, 1);
	assert_true(t.b[0].seq > last);
	for (size_t i = 0; i < s.n; i++)
		assert_string_not_equal(t.b[0].chunk, s.b[i].chunk);
	assert_memory_equal(t.b[0].chunk, s.b[0].chunk, strlen(ID) + 18);	/* same epoch */
	snap_free(&t);
	snap_free(&s);
	fx_free(f);
}

/* ---- kill -9 --------------------------------------------------------------- */

#define KILL_ROUNDS 20

static void child_run(struct fx *f, int wfd, int64_t base)
{
	struct vg_err err;

	if (ob_open(&f->ob, &f->o, &err))
		_exit(2);
	for (int64_t i = 0;; i++) {
		int64_t id = base + i;

		rec_pack(&f->sb, id, (size_t)(id % 97));
		if (ob_put(f->ob, T0 + (uint64_t)id, f->sb.data, f->sb.size, &err))
			_exit(3);
		if (write(wfd, &id, sizeof(id)) != sizeof(id))
			_exit(4);
	}
}

/* Runs a child until SIGKILL after delay_us; returns how many it reported. */
static int64_t run_and_kill(struct fx *f, int64_t base, long delay_us)
{
	struct timespec t0, now;
	int64_t expect = base, id;
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_run(f, fds[1], base);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		long spent;

		clock_gettime(CLOCK_MONOTONIC, &now);
		spent = (now.tv_sec - t0.tv_sec) * 1000000 + (now.tv_nsec - t0.tv_nsec) / 1000;
		if (spent >= delay_us)
			break;
		if (poll(&p, 1, (int)((delay_us - spent) / 1000) + 1) > 0) {
			ssize_t r = read(fds[0], &id, sizeof(id));

			if (r == 0)
				break;		/* the child died by itself */
			assert_int_equal(r, sizeof(id));
			assert_int_equal(id, expect);
			expect++;
		}
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		fail_msg("child exited with %d before the kill", WEXITSTATUS(status));
	while (read(fds[0], &id, sizeof(id)) == sizeof(id)) {
		assert_int_equal(id, expect);
		expect++;
	}
	close(fds[0]);
	return expect - base;
}

static void kill9(void **state)
{
	struct fx *f = fx_new(20, 0, 0);
	unsigned seed = (unsigned)time(NULL);
	int64_t reported[KILL_ROUNDS];
	uint64_t acked_max = 0;
	(void)state;

	srand(seed);
	for (int r = 0; r < KILL_ROUNDS; r++) {
		/* 1 to 100 ms. With 20 records a batch most kills land in a seal,
		 * with 500 most land in ob_put; some land in the child's ob_open. */
		long delay = 1000 + (long)(rand() % 99000);
		struct vg_err err;
		struct snap s;

		f->o.batch_records = r / 2 % 2 ? 500 : 20;
		reported[r] = run_and_kill(f, (int64_t)r << 32, delay);
		if (r % 2 == 0)
			continue;		/* the next child recovers from this kill */
		fx_open(f);
		flush(f);
		snap_take(f->ob, &s);
		for (int k = r - 1; k <= r; k++) {
			int64_t n = reported[k], *c = xcalloc((size_t)n + 1, sizeof(*c));

			for (size_t i = 0; i < s.n; i++)
				for (size_t j = 0; j < s.b[i].n; j++) {
					int64_t id = s.b[i].e[j].id, off = id & 0xffffffff;

					assert_false(s.b[i].e[j].gap);
					/* Nothing from a round acked before, nothing made up. */
					assert_true(id >> 32 == r - 1 || id >> 32 == r);
					if (id >> 32 != k)
						continue;
					if (off > n)
						fail_msg("seed %u round %d: record %" PRId64 " was never "
							 "written (%" PRId64 " reported)", seed, k, off, n);
					c[off]++;
				}
			for (int64_t i = 0; i < n; i++)
				if (c[i] != 1)
					fail_msg("seed %u round %d: reported record %" PRId64 " of %"
						 PRId64 " is there %" PRId64 " times", seed, k, i, n,
						 c[i]);
			/* The one ob_put did not return for: there at most once. */
			assert_true(c[n] <= 1);
			free(c);
		}
		for (size_t i = 0; i < s.n; i++)
			assert_true(s.b[i].seq > acked_max);	/* never an old chunk id */
		for (size_t i = 0; i < s.n; i++) {
			assert_int_equal(ob_ack(f->ob, s.b[i].chunk, &err), 0);
			acked_max = s.b[i].seq;
		}
		print_message("kill9 round %d/%d: %" PRId64 " + %" PRId64 " records reported, "
			      "%zu batches, %" PRIu64 " damaged\n", r, KILL_ROUNDS, reported[r - 1],
			      reported[r], s.n, stats(f).damaged);
		snap_free(&s);
		fx_close(f);
	}
	fx_free(f);
}

/* ---- damage ----------------------------------------------------------------- */

/* The sizes of open.log's entries, from its bytes. */
static size_t log_entries(const unsigned char *buf, size_t len, size_t *ends, size_t max)
{
	size_t off = 16, n = 0;

	while (off + 16 <= len && n < max) {
		uint32_t l = (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8 |
			     (uint32_t)buf[off + 2] << 16 | (uint32_t)buf[off + 3] << 24;

		off += 16 + l;
		ends[n++] = off;
	}
	assert_int_equal(off, len);
	return n;
}

/* Opens a spool whose open.log is bytes (and the state saved before), and
 * checks that exactly the first `whole` records are in it. */
static void open_damaged(struct fx *f, const unsigned char *state, size_t slen,
			 const unsigned char *log, size_t llen, size_t whole, bool damaged)
{
	struct vg_err err = {{0}};
	struct snap s;

	spit(path_in(f, "state"), state, slen);
	spit(path_in(f, "open.log"), log, llen);
	if (ob_open(&f->ob, &f->o, &err))
		fail_msg("ob_open on a log cut at %zu: %s", llen, err.msg);
	assert_int_equal(stats(f).open_records, whole);
	if (stats(f).damaged != (damaged ? 1u : 0u))
		fail_msg("log of %zu bytes: %" PRIu64 " damaged, want %d", llen, stats(f).damaged,
			 damaged);
	flush(f);
	snap_take(f->ob, &s);
	assert_int_equal(s.n, whole ? 1 : 0);
	for (size_t i = 0; i < whole; i++)
		assert_int_equal(s.b[0].e[i].id, (int64_t)i);
	if (whole)
		assert_int_equal(ob_ack(f->ob, s.b[0].chunk, &err), 0);
	snap_free(&s);
	fx_close(f);
}

static void torn_log(void **state)
{
	struct fx *f = fx_new(0, 0, 0);
	unsigned char *log, *st, *copy;
	size_t llen, slen, ends[8], n, bad_before;
	char bad[PATH_MAX + 64];
	(void)state;

	log_set_level(VG_LOG_ERROR);
	fx_open(f);
	for (int i = 0; i < 6; i++)
		put(f, i, (size_t)(30 + 11 * i));
	fx_close(f);
	log = slurp(path_in(f, "open.log"), &llen);
	st = slurp(path_in(f, "state"), &slen);
	n = log_entries(log, llen, ends, 8);
	assert_int_equal(n, 6);
	snprintf(bad, sizeof(bad), "%s/bad", f->dir);

	/* Cut anywhere in the last three entries: whole entries only. */
	for (size_t cut = ends[2]; cut < llen; cut++) {
		size_t whole = 0;

		while (whole < n && ends[whole] <= cut)
			whole++;
		/* Damage is a cut inside an entry, not one at its end. */
		open_damaged(f, st, slen, log, cut, whole, ends[whole - 1] != cut);
	}
	/* In the header, or nothing at all. */
	open_damaged(f, st, slen, log, 0, 0, false);
	open_damaged(f, st, slen, log, 5, 0, true);
	open_damaged(f, st, slen, log, 16, 0, false);
	/* A flipped byte anywhere in entries 3 to 5 loses that entry and the rest. */
	copy = xmalloc(llen);
	for (size_t at = ends[2]; at < llen; at += 3) {
		size_t whole = 0;

		while (ends[whole] <= at)
			whole++;
		memcpy(copy, log, llen);
		copy[at] ^= 0x5a;
		open_damaged(f, st, slen, copy, llen, whole, true);
	}
	/* Garbage after whole entries, and a header that is not ours. */
	memcpy(copy, log, llen);
	memset(copy + ends[4], 0, llen - ends[4]);
	open_damaged(f, st, slen, copy, llen, 5, true);
	memcpy(copy, log, llen);
	copy[0] = 'X';
	bad_before = count_files(bad);
	open_damaged(f, st, slen, copy, llen, 0, true);
	/* The damaged log went to bad/ whole; bad/ never holds more than 32. */
	assert_true(count_files(bad) <= 32);
	assert_true(count_files(bad) >= (bad_before < 32 ? bad_before + 1 : 32));
	free(copy);
	free(st);
	free(log);
	fx_free(f);
	log_set_level(VG_LOG_WARN);
}

static void bad_batches(void **state)
{
	struct fx *f = fx_new(3, 0, 0);
	unsigned char *first, junk[3000];
	size_t flen, len;
	struct fwd_batch fb;
	struct fwd_err fe;
	msgpack_sbuffer packed;
	char bad[PATH_MAX + 64], chunk[128];
	struct snap s;
	(void)state;

	log_set_level(VG_LOG_ERROR);
	fx_open(f);
	for (int i = 0; i < 18; i++)
		put(f, i, 40);
	snap_take(f->ob, &s);
	assert_int_equal(s.n, 6);
	fx_close(f);
	first = slurp(path_in(f, seq_name(s.b[0].seq)), &flen);
	/* 2: garbage; 3: cut in half; 4: batch 1's bytes (its chunk names seq 1);
	 * 5: PackedForward, not compressed; 6: stays whole. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	spit(path_in(f, seq_name(s.b[1].seq)), junk, sizeof(junk));
	free(slurp(path_in(f, seq_name(s.b[2].seq)), &len));
	assert_int_equal(truncate(path_in(f, seq_name(s.b[2].seq)), (off_t)len / 2), 0);
	spit(path_in(f, seq_name(s.b[3].seq)), first, flen);
	fwd_batch_init(&fb);
	rec_pack(&f->sb, 99, 5);
	assert_non_null(fwd_batch_add(&fb, T0));
	msgpack_sbuffer_write(&fb.buf, f->sb.data, f->sb.size);
	msgpack_sbuffer_init(&packed);
	snprintf(chunk, sizeof(chunk), "%s", s.b[4].chunk);
	assert_int_equal(fwd_encode_packed(&packed, "vigil.test", &fb, chunk, &fe), 0);
	spit(path_in(f, seq_name(s.b[4].seq)), packed.data, packed.size);
	msgpack_sbuffer_destroy(&packed);
	fwd_batch_free(&fb);
	/* A leftover temporary file is not a batch. */
	spit(path_in(f, "00000000000000ff.tmp"), junk, 10);

	fx_open(f);
	assert_int_equal(stats(f).damaged, 4);
	assert_int_equal(stats(f).batches, 2);
	{
		struct snap t;

		snap_take(f->ob, &t);
		assert_int_equal(t.b[0].seq, s.b[0].seq);
		assert_int_equal(t.b[1].seq, s.b[5].seq);
		assert_int_equal(t.b[1].e[2].id, 17);
		snap_free(&t);
	}
	snprintf(bad, sizeof(bad), "%s/bad", f->dir);
	assert_int_equal(count_files(bad), 4);
	assert_int_equal(access(path_in(f, "00000000000000ff.tmp"), F_OK), -1);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(access(path_in(f, seq_name(s.b[i].seq)), F_OK), -1);
	/* Still a spool: the next batch comes after all of them. */
	put(f, 100, 5);
	flush(f);
	{
		struct snap t;

		snap_take(f->ob, &t);
		assert_int_equal(t.n, 3);
		assert_true(t.b[2].seq > s.b[5].seq);
		snap_free(&t);
	}
	fx_close(f);
	/* A batch that changes after it was opened is dropped when peeked. */
	fx_open(f);
	assert_int_equal(truncate(path_in(f, seq_name(s.b[0].seq)), 10), 0);
	{
		struct ob_batch b;
		struct vg_err err;

		assert_int_equal(ob_peek(f->ob, 0, &b, &err), 0);
		assert_int_equal(b.seq, s.b[5].seq);
		assert_int_equal(stats(f).damaged, 1);
		assert_int_equal(stats(f).batches, 2);
	}
	free(first);
	snap_free(&s);
	fx_free(f);
	log_set_level(VG_LOG_WARN);
}

/* A state file that is garbage: the spool goes on with a new epoch. */
static void bad_state(void **state)
{
	struct fx *f = fx_new(0, 0, 0);
	struct snap s, t;
	(void)state;

	log_set_level(VG_LOG_ERROR);
	fx_open(f);
	put(f, 1, 10);
	flush(f);
	snap_take(f->ob, &s);
	fx_close(f);
	spit(path_in(f, "state"), "vigil-outbox 1\nepoch -1\n", 24);
	fx_open(f);
	assert_int_equal(stats(f).damaged, 1);
	assert_true(stats(f).next_seq > s.b[0].seq);
	put(f, 2, 10);
	flush(f);
	snap_take(f->ob, &t);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.b[0].chunk, s.b[0].chunk);	/* an old batch keeps its id */
	assert_memory_not_equal(t.b[1].chunk, s.b[0].chunk, strlen(ID) + 18);
	snap_free(&t);
	snap_free(&s);
	fx_close(f);
	/* No state at all, but batches: the same. */
	assert_int_equal(unlink(path_in(f, "state")), 0);
	fx_open(f);
	assert_int_equal(stats(f).batches, 2);
	fx_free(f);
	log_set_level(VG_LOG_WARN);
}

/* ---- the bound ------------------------------------------------------------- */

struct model {
	uint64_t seen[4096];		/* seqs seen, with their entries */
	uint32_t n_of[4096];
	size_t nseen;
	uint64_t want[4];		/* the gap the next batch must carry */
	uint64_t dropped_records, dropped_batches;
};

static void model_gap_check(struct model *m, const struct bat *b)
{
	if (m->want[1] == 0) {
		assert_false(b->e[0].gap);
		return;
	}
	if (!b->e[0].gap)
		fail_msg("batch %" PRIu64 " does not start with the gap of %" PRIu64 " batches",
			 b->seq, m->want[1]);
	for (int j = 0; j < 4; j++)
		assert_int_equal(b->e[0].g[j], m->want[j]);
	for (size_t k = 1; k < b->n; k++)
		assert_false(b->e[k].gap);
	memset(m->want, 0, sizeof(m->want));
}

/* After one seal: the new batch carries what was dropped before it; what
 * vanished now is the next one's gap. */
static void model_step(struct model *m, const struct snap *s, size_t seen_before)
{
	const struct bat *nb = &s->b[s->n - 1];

	model_gap_check(m, nb);
	for (size_t i = 0; i < seen_before; i++) {
		if (!m->seen[i] || snap_find(s, m->seen[i]))
			continue;
		if (m->want[1] == 0)
			m->want[2] = m->seen[i];
		m->want[3] = m->seen[i];
		m->want[1]++;
		m->want[0] += m->n_of[i];
		m->dropped_batches++;
		m->dropped_records += m->n_of[i];
		m->seen[i] = 0;
	}
	m->seen[m->nseen] = nb->seq;
	m->n_of[m->nseen++] = (uint32_t)nb->n;
}

static void bound(void **state)
{
	/* open.log can hold 16 + 4096 + 10 * 5 bytes; the least max_bytes for
	 * 4096-byte batches is 13378. */
	struct fx *f = fx_new(10, 4096, 16000);
	struct model *m = xcalloc(1, sizeof(*m));
	struct vg_err err;
	struct snap s;
	int64_t id = 0;
	(void)state;

	log_set_level(VG_LOG_ERROR);
	f->o.max_bytes = 13000;
	assert_int_equal(ob_open(&f->ob, &f->o, &err), -1);
	assert_non_null(strstr(err.msg, "want at least 13378"));
	f->o.max_bytes = 16000;
	fx_open(f);
	for (int g = 0; g < 60; g++) {
		size_t before = m->nseen;

		for (int i = 0; i < 10; i++)
			put(f, id, 60 + (size_t)(id % 40)), id++;
		snap_take(f->ob, &s);
		assert_true(disk_bytes(f) <= 16000);
		model_step(m, &s, before);
		/* What stays is the newest, whole. */
		assert_int_equal(s.b[s.n - 1].e[s.b[s.n - 1].n - 1].id, id - 1);
		snap_free(&s);
	}
	assert_true(m->dropped_batches > 30);
	assert_int_equal(stats(f).dropped_batches, m->dropped_batches);
	assert_int_equal(stats(f).dropped_records, m->dropped_records);
	assert_true(m->want[1] > 0);	/* the last seal dropped: its gap is pending */
	/* It survives a restart, and the next batch starts with it. */
	fx_close(f);
	fx_open(f);
	for (int round = 0; round < 2; round++) {
		size_t before = m->nseen;
		bool carries = m->want[1] > 0;

		put(f, id++, 10);
		flush(f);
		snap_take(f->ob, &s);
		model_step(m, &s, before);
		/* The first carries the gap and its record; once carried, it is not
		 * carried again (the second carries only what its seal dropped). */
		assert_int_equal(s.b[s.n - 1].n, carries ? 2 : 1);
		assert_int_equal(s.b[s.n - 1].e[s.b[s.n - 1].n - 1].id, id - 1);
		snap_free(&s);
	}
	fx_free(f);
	free(m);
	log_set_level(VG_LOG_WARN);
}

/* The files a crash can leave between the steps of a seal or a drop. */
static void crash_windows(void **state)
{
	struct fx *f = fx_new(10, 4096, 16000);
	unsigned char *saved, *st, *files[64];
	size_t slen, stlen, lens[64];
	uint64_t seqs[64], pending;
	struct vg_err err;
	struct snap s, t;
	int64_t id = 0;
	size_t n = 0;
	(void)state;

	log_set_level(VG_LOG_ERROR);
	/* 1. Sealed, but open.log not yet replaced: nothing is sealed twice. */
	fx_open(f);
	for (int i = 0; i < 5; i++)
		put(f, id++, 30);
	fx_close(f);
	saved = slurp(path_in(f, "open.log"), &slen);
	fx_open(f);
	flush(f);
	fx_close(f);
	spit(path_in(f, "open.log"), saved, slen);
	free(saved);
	fx_open(f);
	assert_int_equal(stats(f).open_records, 0);
	assert_int_equal(stats(f).batches, 1);
	assert_int_equal(stats(f).damaged, 0);
	flush(f);
	assert_int_equal(stats(f).batches, 1);

	/* 2. Dropped in the state, not yet deleted: deleted at open, counted once. */
	for (;;) {
		snap_take(f->ob, &s);
		n = s.n;
		for (size_t i = 0; i < n; i++) {
			seqs[i] = s.b[i].seq;
			files[i] = slurp(path_in(f, seq_name(seqs[i])), &lens[i]);
		}
		snap_free(&s);
		for (int i = 0; i < 10; i++)
			put(f, id++, 80);
		if (stats(f).dropped_batches)
			break;
		for (size_t i = 0; i < n; i++)
			free(files[i]);
	}
	pending = stats(f).dropped_records;
	fx_close(f);
	for (size_t i = 0; i < n; i++)
		if (access(path_in(f, seq_name(seqs[i])), F_OK))
			spit(path_in(f, seq_name(seqs[i])), files[i], lens[i]);
	fx_open(f);
	snap_take(f->ob, &s);
	assert_int_equal(stats(f).damaged, 0);
	assert_true(s.b[0].seq > seqs[0]);
	for (size_t i = 0; i < n; i++)
		free(files[i]);

	/* 3. The gap's carrier sealed, the state not yet updated: not sent twice. */
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(ob_ack(f->ob, s.b[i].chunk, &err), 0);
	snap_free(&s);
	fx_close(f);
	st = slurp(path_in(f, "state"), &stlen);
	fx_open(f);
	for (int i = 0; i < 10; i++)
		put(f, id++, 30);
	snap_take(f->ob, &s);
	assert_int_equal(s.n, 1);
	assert_true(s.b[0].e[0].gap);
	assert_int_equal(s.b[0].e[0].g[0], pending);
	fx_close(f);
	spit(path_in(f, "state"), st, stlen);
	free(st);
	fx_open(f);
	put(f, id++, 30);
	flush(f);
	snap_take(f->ob, &t);
	assert_int_equal(t.n, 2);
	assert_false(t.b[1].e[0].gap);
	assert_int_equal(t.b[1].n, 1);
	/* And the carrier's seq is not given out again. */
	assert_true(t.b[1].seq > s.b[0].seq);
	snap_free(&t);
	snap_free(&s);
	fx_free(f);
	log_set_level(VG_LOG_WARN);
}

/* A gap_fn that packs no map: sealing says so, and nothing is lost. */
static int gap_not_map(void *u, const struct ob_gap *g, msgpack_packer *pk)
{
	(void)u;
	return msgpack_pack_uint64(pk, g->records);
}

static void bad_gap_fn(void **state)
{
	struct fx *f = fx_new(10, 4096, 16000);
	struct vg_err err = {{0}};
	int64_t id = 0;
	(void)state;

	log_set_level(VG_LOG_ERROR);
	f->o.gap_fn = gap_not_map;
	fx_open(f);
	while (stats(f).dropped_batches == 0)
		for (int i = 0; i < 10; i++)
			put(f, id++, 80);
	put(f, id++, 10);
	assert_int_equal(ob_flush(f->ob, &err), -1);
	assert_non_null(strstr(err.msg, "gap_fn packed no valid record: not a msgpack map"));
	assert_int_equal(stats(f).open_records, 1);
	fx_close(f);
	f->o.gap_fn = gap_pack;
	fx_open(f);
	flush(f);
	assert_int_equal(stats(f).open_records, 0);
	fx_free(f);
	log_set_level(VG_LOG_WARN);
}

/* ---- hostile input ------------------------------------------------------------- */

static void refuse(struct fx *f, const void *p, size_t n, uint64_t t, const char *why)
{
	struct vg_err err = {{0}};
	struct stat a, b;

	assert_int_equal(stat(path_in(f, "open.log"), &a), 0);
	if (ob_put(f->ob, t, p, n, &err) != -1)
		fail_msg("accepted what should be refused for \"%s\"", why);
	if (!strstr(err.msg, why))
		fail_msg("want \"%s\" in \"%s\"", why, err.msg);
	assert_int_equal(stat(path_in(f, "open.log"), &b), 0);
	assert_int_equal(a.st_size, b.st_size);
}

static void hostile_put(void **state)
{
	struct fx *f = fx_new(0, 0, 0);
	msgpack_sbuffer sb;
	msgpack_packer pk;
	unsigned char deep[128], *big;
	size_t ok_depth = 0;
	struct vg_err err;
	(void)state;

	fx_open(f);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	refuse(f, "\x92\x01\x02", 3, T0, "not a msgpack map (first byte 0x92)");
	refuse(f, "\x05", 1, T0, "not a msgpack map");
	refuse(f, "\xa3" "abc", 4, T0, "not a msgpack map");
	refuse(f, "", 0, T0, "empty");
	refuse(f, "\x81\xa1" "a\xa5" "hel", 7, T0, "truncated");
	refuse(f, "\x81\xa1" "a\x01\x00", 5, T0, "1 bytes after the map");
	refuse(f, "\x81\x01\x02", 3, T0, "key 0 is not a str");
	refuse(f, "\x81\xa1" "a\xc1", 4, T0, "0xc1");
	refuse(f, "\xdf\xff\xff\xff\xff\xa1" "a", 7, T0, "cannot fit");
	refuse(f, "\x81\xa1" "a\xdb\xff\xff\xff\xff", 8, T0, "over the");
	refuse(f, "\x82\xa1" "a\x01", 4, T0, "truncated");
	refuse(f, "\x80", 1, 4294967296ull * 1000000000ull, "past 2106");
	/* Nesting: the deepest map ob_put takes still seals and decodes. */
	for (size_t d = 1; d < 40; d++) {
		size_t k = 0;

		for (size_t i = 0; i + 1 < d; i++)
			deep[k++] = 0x81, deep[k++] = 0xa1, deep[k++] = 'k';
		deep[k++] = 0x80;
		if (ob_put(f->ob, T0, deep, k, &err) == 0) {
			ok_depth = d;
			continue;
		}
		assert_non_null(strstr(err.msg, "nesting deeper"));
		break;
	}
	assert_int_equal(ok_depth, 29);		/* + frame array + entry array = 31 */
	flush(f);
	{
		struct ob_batch b;
		struct fwd_frame fr;
		struct fwd_err fe;
		size_t used;

		assert_int_equal(ob_peek(f->ob, 0, &b, &err), 0);
		assert_int_equal(fwd_decode(&fr, b.frame, b.len, NULL, &used, &fe), FWD_OK);
		assert_int_equal(fr.n, 29);
		fwd_frame_free(&fr);
	}
	/* Too big for a batch, then for any batch. */
	big = xcalloc(1, (2u << 20) + 16);
	big[0] = 0x81, big[1] = 0xa1, big[2] = 'b', big[3] = 0xc6;	/* bin32 */
	refuse(f, big, (512u << 10) - 10, T0, "do not fit a batch of 524288");
	fx_close(f);
	f->o.batch_bytes = 2u << 20;
	f->o.max_bytes = 64u << 20;
	fx_open(f);
	refuse(f, big, (1u << 20) + 1, T0, "over the 1048576-byte cap");
	{
		size_t n = (1u << 20) - 8;	/* bin32 of n bytes: the whole record is 1 MiB */

		big[4] = (unsigned char)(n >> 24), big[5] = (unsigned char)(n >> 16);
		big[6] = (unsigned char)(n >> 8), big[7] = (unsigned char)n;
		assert_int_equal(ob_put(f->ob, T0, big, 1u << 20, &err), 0);
		flush(f);
		assert_int_equal(stats(f).batches, 2);
		assert_int_equal(stats(f).records, 29 + 1);
	}
	free(big);
	/* After all that, still a spool. */
	put(f, 7, 10);
	flush(f);
	assert_int_equal(stats(f).batches, 3);
	msgpack_sbuffer_destroy(&sb);
	fx_free(f);
}

static void bad_opts(void **state)
{
	struct fx *f = fx_new(0, 0, 0);
	struct outbox *ob;
	struct vg_err err;
	(void)state;

	f->o.sensor_id = "no-dashes";
	assert_int_equal(ob_open(&ob, &f->o, &err), -1);
	assert_non_null(strstr(err.msg, "sensor id"));
	f->o.sensor_id = ID;
	f->o.batch_bytes = (2u << 20) + 1;
	assert_int_equal(ob_open(&ob, &f->o, &err), -1);
	assert_non_null(strstr(err.msg, "batch_bytes"));
	f->o.batch_bytes = 0;
	f->o.gap_fn = NULL;
	assert_int_equal(ob_open(&ob, &f->o, &err), -1);
	f->o.gap_fn = gap_pack;
	/* One process at a time. */
	fx_open(f);
	assert_int_equal(ob_open(&ob, &f->o, &err), -1);
	assert_non_null(strstr(err.msg, "in use by another process"));
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(seal_by_count_bytes_age),
		cmocka_unit_test(acks),
		cmocka_unit_test(restart),
		cmocka_unit_test(kill9),
		cmocka_unit_test(torn_log),
		cmocka_unit_test(bad_batches),
		cmocka_unit_test(bad_state),
		cmocka_unit_test(bound),
		cmocka_unit_test(crash_windows),
		cmocka_unit_test(bad_gap_fn),
		cmocka_unit_test(hostile_put),
		cmocka_unit_test(bad_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
