/*
 * outbox_open.c: ob_open and ob_close. Opening is recovery: whatever a
 * crash or a disk left in the directory is checked, kept when whole, set
 * aside in bad/ when not, and the spool goes on from there (outbox.c says
 * why each file can be trusted as far as it is).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outbox_int.h"

static int opts_check(const struct ob_opts *o, struct vg_err *err)
{
	if (!o->dir || !*o->dir)
		return vg_errf(err, "outbox: no directory");
	if (!o->sensor_id || !ob_sensor_ok(o->sensor_id, strlen(o->sensor_id)))
		return vg_errf(err, "outbox: sensor id \"%s\" is not [A-Za-z0-9_.]{1,64}",
			       o->sensor_id ? o->sensor_id : "");
	if (!o->tag || !*o->tag || strlen(o->tag) > FWD_TAG_MAX)
		return vg_errf(err, "outbox: tag: want 1 to %d bytes", FWD_TAG_MAX);
	if (!o->gap_fn)
		return vg_errf(err, "outbox: no gap_fn");
	if (o->batch_records > OB_BATCH_RECORDS_MAX)
		return vg_errf(err, "outbox: batch_records %u is over %d", o->batch_records,
			       OB_BATCH_RECORDS_MAX);
	if (o->batch_bytes > OB_BATCH_BYTES_MAX)
		return vg_errf(err, "outbox: batch_bytes %u is over %u", o->batch_bytes,
			       OB_BATCH_BYTES_MAX);
	if (o->batch_bytes && o->batch_bytes < 64)
		return vg_errf(err, "outbox: batch_bytes %u is under 64", o->batch_bytes);
	return 0;
}

static void opts_take(struct outbox *ob, const struct ob_opts *o)
{
	ob->dir = xstrdup(o->dir);
	ob->sensor_id = xstrdup(o->sensor_id);
	ob->tag = xstrdup(o->tag);
	ob->max_bytes = o->max_bytes ? o->max_bytes : 256ull << 20;
	ob->batch_records = o->batch_records ? o->batch_records : 1000;
	ob->batch_bytes = o->batch_bytes ? o->batch_bytes : 512u << 10;
	ob->batch_ms = o->batch_ms ? o->batch_ms : 1000;
	ob->gap_fn = o->gap_fn;
	ob->gap_u = o->gap_u;
	/* A full open batch: every entry 5 bytes bigger in the log than in a frame. */
	ob->log_max = OB_LOG_HDR + ob->batch_bytes +
		      (uint64_t)ob->batch_records * (OB_ENT_HDR - OB_FWD_ENT);
}

static int cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The batch files' seqs, sorted; leftover temporary files are deleted. */
static int dir_scan(struct outbox *ob, uint64_t **seqs, size_t *n, struct vg_err *err)
{
	int fd = openat(ob->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t cap = 0;

	*seqs = NULL;
	*n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return vg_errf(err, "outbox %s: list: %s", ob->dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		uint64_t seq;

		if (len > 4 && !strcmp(de->d_name + len - 4, OB_TMP)) {
			unlinkat(ob->dirfd, de->d_name, 0);
			continue;
		}
		if (!ob_name_parse(de->d_name, &seq))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*seqs = xrealloc(*seqs, cap * sizeof(**seqs));
		}
		(*seqs)[(*n)++] = seq;
	}
	closedir(d);
	if (*n)
		qsort(*seqs, *n, sizeof(**seqs), cmp_seq);
	return 0;
}

/* *fresh: there was no state (or none that could be read). */
static int state_load(struct outbox *ob, bool *fresh, struct vg_err *err)
{
	struct vg_err why;
	int r = ob_state_read(ob, &ob->st, &why);

	if (r == -2)
		return vg_errf(err, "outbox %s: %s: %s", ob->dir, OB_STATE, why.msg);
	if (r == -1)
		ob_to_bad(ob, OB_STATE, why.msg);
	*fresh = r != 0;
	if (r == 0)
		return 0;
	memset(&ob->st, 0, sizeof(ob->st));
	ob->st.next_seq = 1;
	while (!ob->st.epoch)
		if (getrandom(&ob->st.epoch, sizeof(ob->st.epoch), 0) != sizeof(ob->st.epoch))
			return vg_errf(err, "outbox %s: getrandom: %s", ob->dir, strerror(errno));
	return 0;
}

static int batches_load(struct outbox *ob, const uint64_t *seqs, size_t n, struct vg_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char name[OB_NAME_LEN + 1];
		struct ob_sealed s;
		struct vg_err why;
		int r;

		ob_name(name, seqs[i]);
		if (seqs[i] <= ob->st.drop_through) {	/* a drop a crash cut short */
			unlinkat(ob->dirfd, name, 0);
			continue;
		}
		r = ob_batch_check(ob, name, seqs[i], &s, &why);
		if (r == -2)
			return vg_errf(err, "outbox %s: %s: %s", ob->dir, name, why.msg);
		if (r == 0)
			ob_sealed_push(ob, &s);
		else
			ob_to_bad(ob, name, why.msg);
	}
	return 0;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The open batch was made under ob->st.sensor, an id other than the one
 * opening the spool now (the host enrolled again): its records name that
 * host, so it is sealed under it, and only then does the state say the
 * open batch is the opener's. A crash before that state is written finds
 * an open.log naming a sealed batch, or an empty one: nothing twice. */
static int seal_foreign(struct outbox *ob, struct vg_err *err)
{
	struct ob_state st;
	uint32_t n = ob->open_n;

	if (ob_seal_as(ob, ob->st.sensor, err))
		return -1;
	log_info("outbox %s: the open batch (%u records) was made as host %s: sealed as %s", ob->dir,
		 n, ob->st.sensor, ob->st.sensor);
	st = ob->st;
	snprintf(st.sensor, sizeof(st.sensor), "%s", ob->sensor_id);
	return ob_state_write(ob, &st, err);
}

static int recover(struct outbox *ob, struct vg_err *err)
{
	uint64_t *seqs, lseq, newest;
	bool rewrite, fresh, foreign;
	size_t n;
	int r;

	if (state_load(ob, &fresh, err) || dir_scan(ob, &seqs, &n, err))
		return -1;
	if (fresh && n)
		log_warn("outbox %s: no state file but %zu batches: a new epoch keeps chunk ids "
			 "unique", ob->dir, n);
	r = batches_load(ob, seqs, n, err);
	free(seqs);
	if (r)
		return -1;
	newest = ob->n ? ob_sealed_at(ob, ob->n - 1)->seq : 0;
	if (ob_gap_pending(&ob->st) && newest >= ob->st.gap_seq) {	/* carried already */
		memset(&ob->st.gap, 0, sizeof(ob->st.gap));
		ob->st.gap_seq = 0;
	}
	if (ob_log_load(ob, &lseq, &rewrite, err))
		return -1;
	/* Its entries are in a batch already (a crash right after a seal), or
	 * it names a seq it cannot be sealed as any more: start it anew. */
	if (lseq && (ob_sealed_find(ob, lseq) < ob->n || lseq <= newest ||
		     lseq <= ob->st.drop_through)) {
		if (ob_sealed_find(ob, lseq) < ob->n)
			ob_log_clear(ob);
		lseq = 0;
		rewrite = true;
	}
	/* Entries made under another id are sealed under it below; until
	 * then the state goes on naming it. */
	foreign = ob->open_n && ob->st.sensor[0] && strcmp(ob->st.sensor, ob->sensor_id);
	if (!foreign)
		snprintf(ob->st.sensor, sizeof(ob->st.sensor), "%s", ob->sensor_id);
	ob->next_seq = max64(max64(ob->st.next_seq, newest + 1), lseq + 1);
	ob->open_seq = lseq ? lseq : ob->next_seq++;
	{
		struct ob_state st = ob->st;

		st.next_seq = ob->next_seq + OB_SEQ_BLOCK;
		if (ob_state_write(ob, &st, err))
			return -1;
	}
	if (!rewrite) {
		ob->logfd = openat(ob->dirfd, OB_LOG, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (ob->logfd < 0)
			return vg_errf(err, "outbox %s: open %s: %s", ob->dir, OB_LOG,
				       strerror(errno));
	} else if (ob_log_reset(ob, err)) {
		return -1;
	}
	if (foreign && seal_foreign(ob, err))
		return -1;
	ob_settle(ob, false);		/* a smaller max_bytes than last time */
	if (ob_log_full(ob) && ob_seal(ob, err))
		return -1;
	return 0;
}

int ob_open(struct outbox **out, const struct ob_opts *o, struct vg_err *err)
{
	struct outbox *ob;

	*out = NULL;
	if (opts_check(o, err))
		return -1;
	ob = xcalloc(1, sizeof(*ob));
	ob->dirfd = ob->logfd = -1;
	opts_take(ob, o);
	fwd_batch_init(&ob->batch);
	msgpack_sbuffer_init(&ob->frame);
	if (!msgpack_zone_init(&ob->zone, 4096))
		abort();
	if (ob->max_bytes < ob->log_max + ob->batch_bytes + OB_GAP_MAX + OB_FRAME_SLACK) {
		vg_errf(err, "outbox %s: max_bytes %" PRIu64 " cannot hold an open and a sealed "
			"batch of %u bytes: want at least %" PRIu64, ob->dir, ob->max_bytes,
			ob->batch_bytes, ob->log_max + ob->batch_bytes + OB_GAP_MAX + OB_FRAME_SLACK);
		goto fail;
	}
	if (mkdir(ob->dir, 0700) && errno != EEXIST) {
		vg_errf(err, "outbox %s: mkdir: %s", ob->dir, strerror(errno));
		goto fail;
	}
	ob->dirfd = open(ob->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ob->dirfd < 0) {
		vg_errf(err, "outbox %s: open: %s", ob->dir, strerror(errno));
		goto fail;
	}
	if (flock(ob->dirfd, LOCK_EX | LOCK_NB)) {
		vg_errf(err, "outbox %s: %s", ob->dir, errno == EWOULDBLOCK
			? "in use by another process" : strerror(errno));
		goto fail;
	}
	if (recover(ob, err))
		goto fail;
	*out = ob;
	return 0;
fail:
	ob->next_seq = 0;		/* ob_close writes no state */
	ob_close(ob);
	return -1;
}

void ob_close(struct outbox *ob)
{
	if (!ob)
		return;
	/* Hands back the unused reservation, so a clean restart goes on from
	 * the next seq; a crash skips at most OB_SEQ_BLOCK of them. */
	if (ob->next_seq && ob->st.next_seq > ob->next_seq) {
		struct ob_state st = ob->st;
		struct vg_err err;

		st.next_seq = ob->next_seq;
		if (ob_state_write(ob, &st, &err))
			log_err("%s", err.msg);
	}
	if (ob->logfd >= 0)
		close(ob->logfd);
	if (ob->dirfd >= 0)
		close(ob->dirfd);
	while (ob->n)
		ob_sealed_remove(ob, ob->n - 1);
	free(ob->b);
	free(ob->lbuf);
	free(ob->peek);
	fwd_batch_free(&ob->batch);
	msgpack_sbuffer_destroy(&ob->frame);
	msgpack_zone_destroy(&ob->zone);
	free(ob->dir);
	free(ob->sensor_id);
	free(ob->tag);
	free(ob);
}

/* ---- a census, for `vigil enroll` ------------------------------------------ */

int ob_census(const char *dir, const char *sensor, struct ob_census *c, struct vg_err *err)
{
	struct outbox ob = {.dir = (char *)dir, .sensor_id = (char *)sensor, .logfd = -1};
	struct ob_state st;
	struct vg_err why;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd;

	memset(c, 0, sizeof(*c));
	ob.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ob.dirfd < 0 && errno == ENOENT)
		return 0;
	if (ob.dirfd < 0)
		return vg_errf(err, "outbox %s: open: %s", dir, strerror(errno));
	/* Shared: the daemon's lock is exclusive, and two censuses do not
	 * disturb each other. */
	if (flock(ob.dirfd, LOCK_SH | LOCK_NB)) {
		int e = errno;

		close(ob.dirfd);
		if (e == EWOULDBLOCK) {
			c->busy = true;
			return 0;
		}
		return vg_errf(err, "outbox %s: lock: %s", dir, strerror(e));
	}
	if (ob_state_read(&ob, &st, &why))
		memset(&st, 0, sizeof(st));
	fd = openat(ob.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		vg_errf(err, "outbox %s: list: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		close(ob.dirfd);
		return -1;
	}
	while ((de = readdir(d))) {
		struct ob_sealed s;
		uint64_t seq;

		if (!ob_name_parse(de->d_name, &seq) || seq <= st.drop_through)
			continue;
		if (ob_batch_check(&ob, de->d_name, seq, &s, &why))
			continue;		/* damaged: the next open sets it aside */
		if (s.sensor) {
			c->others++;
		} else {
			c->batches++;
			c->records += s.n;
		}
		free(s.sensor);
	}
	closedir(d);
	c->open_log = fstatat(ob.dirfd, OB_LOG, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		      sb.st_size > OB_LOG_HDR && (!st.sensor[0] || !strcmp(st.sensor, sensor));
	close(ob.dirfd);
	return 0;
}
