/*
 * outbox.c: the durable spool (outbox.h): putting, sealing, dropping,
 * peeking and acking. Opening, which is recovering, is outbox_open.c; the
 * files are outbox_disk.c; docs/outbox.md tells the same story with tables.
 *
 * The directory:
 *
 *   state              "vigil-outbox 1", the epoch (64 random bits made with
 *                      the spool), next_seq, drop_through and the pending gap
 *   open.log           "VGOBLOG1", le64 seq of the open batch, then entries:
 *                      le32 len | le32 crc32(len, time, record) | le64 time_ns | record
 *   0000000000000001   sealed batches, named by seq in 16 hex digits so a
 *   0000000000000002   listing sorts oldest first; each is the whole frame
 *   bad/               damaged files, moved aside (at most 32 are kept)
 *
 * Why each rule:
 *
 * - ob_put returns once write(2) put the entry in open.log, without fsync.
 *   The page cache belongs to the kernel, not to the process: a kill -9 (or
 *   any crash of the sensor) cannot take back a write that returned. Only a
 *   kernel crash or power loss can, and those lose at most the open batch,
 *   since sealing fsyncs. One writev per entry, and a CRC per entry, so a
 *   write cut short (disk full, a kill inside a multi-page write) is a torn
 *   tail that the next open detects and sets aside; it was never acknowledged.
 *
 * - A sequence number goes out to the collector only inside a batch file, and
 *   a batch file with seq S is written only once the state file says
 *   next_seq > S (reserved OB_SEQ_BLOCK at a time, so most seals write no
 *   state). The state is replaced by temp + fsync + rename + fsync of the
 *   directory, so a chunk id is never reused: not after every batch was acked
 *   and deleted, not after a crash. If the state file itself is lost, the spool
 *   takes a new random epoch, which makes every chunk id new again.
 *
 * - Sealing: the frame is built from the mirror of open.log kept in memory,
 *   written to "<seq>.tmp", fsync'd, renamed, and the directory fsync'd. Only
 *   then is a new open.log (header with the next seq) renamed over the old
 *   one. A crash in between leaves an open.log whose header names a batch
 *   that exists: its entries are sealed already, and it is dropped at open,
 *   so nothing is sealed twice. Until the new open.log exists, nothing is
 *   appended, sealed or acked (logfd is -1; each call first retries it).
 *
 * - Bound: the sealed batches plus the largest open.log the options allow
 *   (log_max) stay within max_bytes, so the spool is within it between calls,
 *   whatever ob_put does next. A seal that would pass it deletes the oldest
 *   batches (never the newest, the one just sealed) and the gap they leave is
 *   carried by the first entry of the next batch. The state file is the
 *   commit point: it is written after the new batch is durable and before the
 *   oldest are deleted, with drop_through (the newest dropped seq) and the
 *   gap. A crash before it: nothing was dropped. After it: open deletes what
 *   is left at or below drop_through, and the gap is still pending. The
 *   state also says from which seq on (gap_seq) a batch carries the gap: a
 *   batch at or after gap_seq found at open means the crash came between
 *   sealing the carrier and clearing the gap, so it is not sent twice.
 *   A dropped batch that carried an earlier gap record counts as records
 *   like any other (the collector still sees the seqs it never got).
 *
 * - Open: leftover *.tmp are deleted; each batch is decoded as the collector
 *   would (fwd_decode under limits, CompressedPackedForward, one frame, its
 *   chunk id naming its own seq); a failure moves it to bad/ with the reason.
 *   open.log keeps its whole entries up to the first bad one; the damaged file
 *   goes to bad/ (a hard link, then a rewrite replaces it by rename) and is
 *   counted. The open batch stays open unless it is already full.
 *
 * Errors say which directory and file. Only memory exhaustion is fatal
 * (xmalloc, as everywhere in the sensor).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "outbox_int.h"

#define NS 1000000000ull

/* ---- records ------------------------------------------------------------- */

int ob_record_check(struct outbox *ob, const void *rec, size_t len, struct vg_err *err)
{
	const unsigned char *p = rec;
	struct fwd_limits lim;
	struct fwd_scanner sc;
	struct fwd_err fe;
	msgpack_object o;
	size_t used, off = 0;
	int r;

	if (len == 0)
		return vg_errf(err, "record: empty");
	if (!((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf))
		return vg_errf(err, "record: not a msgpack map (first byte 0x%02x)", p[0]);
	/* In a frame a record sits under the frame's array and its entry's:
	 * three levels the receiver counts and this walk does not. */
	fwd_limits_default(&lim);
	lim.depth_max = FWD_DEPTH_MAX - 3;
	fwd_scanner_init(&sc, &lim);
	r = fwd_scanner_feed(&sc, p, len, &used, &fe);
	if (r == FWD_MORE)
		return vg_errf(err, "record: truncated msgpack (%zu bytes end inside the map)", len);
	if (r != FWD_OK)
		return vg_errf(err, "record: %s", fe.msg);
	if (used != len)
		return vg_errf(err, "record: %zu bytes after the map", len - used);
	/* Bounded now: msgpack-c may allocate, and tell the keys apart. */
	msgpack_zone_clear(&ob->zone);
	if (msgpack_unpack((const char *)p, len, &off, &ob->zone, &o) != MSGPACK_UNPACK_SUCCESS ||
	    off != len || o.type != MSGPACK_OBJECT_MAP)
		return vg_errf(err, "record: msgpack-c does not read it as one map");
	for (uint32_t i = 0; i < o.via.map.size; i++)
		if (o.via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
			return vg_errf(err, "record: key %u is not a str", i);
	return 0;
}

/* ---- the sealed batches, oldest first ------------------------------------ */

struct ob_sealed *ob_sealed_at(struct outbox *ob, size_t i)
{
	return &ob->b[ob->first + i];
}

void ob_sealed_push(struct outbox *ob, const struct ob_sealed *s)
{
	if (ob->first + ob->n == ob->cap) {
		if (ob->first > ob->cap / 2) {
			memmove(ob->b, ob->b + ob->first, ob->n * sizeof(*ob->b));
			ob->first = 0;
		} else {
			ob->cap = ob->cap ? ob->cap * 2 : 64;
			ob->b = xrealloc(ob->b, ob->cap * sizeof(*ob->b));
		}
	}
	ob->b[ob->first + ob->n++] = *s;
	ob->sealed_bytes += s->size;
	ob->sealed_records += s->n;
}

/* Forgets b[i]; whichever side is shorter moves. */
void ob_sealed_remove(struct outbox *ob, size_t i)
{
	struct ob_sealed *s = ob_sealed_at(ob, i);

	ob->sealed_bytes -= s->size;
	ob->sealed_records -= s->n;
	free(s->sensor);
	if (i < ob->n / 2) {
		memmove(ob->b + ob->first + 1, ob->b + ob->first, i * sizeof(*ob->b));
		ob->first++;
	} else {
		memmove(s, s + 1, (ob->n - i - 1) * sizeof(*ob->b));
	}
	if (--ob->n == 0)
		ob->first = 0;
	if (ob->peek_seq == s->seq)
		ob->peek_seq = 0;
}

/* The index of seq, or n. */
size_t ob_sealed_find(struct outbox *ob, uint64_t seq)
{
	size_t lo = 0, hi = ob->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ob_sealed_at(ob, mid)->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ob->n && ob_sealed_at(ob, lo)->seq == seq ? lo : ob->n;
}

static void sealed_chunk(struct outbox *ob, const struct ob_sealed *s,
			 char out[OB_CHUNK_SIZE])
{
	ob_chunk(out, s->sensor ? s->sensor : ob->sensor_id, s->epoch, s->seq);
}

/* ---- the open batch ------------------------------------------------------ */

void ob_log_clear(struct outbox *ob)
{
	ob->llen = 0;
	ob->open_n = 0;
	ob->open_fwd = 0;
	ob->open_timed = false;
}

/* open.log must exist and match the open batch before anything is added. */
static int log_ready(struct outbox *ob, struct vg_err *err)
{
	return ob->logfd >= 0 ? 0 : ob_log_reset(ob, err);
}

static int log_append(struct outbox *ob, uint64_t time_ns, const void *rec, size_t len,
		      struct vg_err *err)
{
	unsigned char head[OB_ENT_HDR];
	struct iovec iov[2] = {{head, sizeof(head)}, {(void *)rec, len}};
	size_t want = sizeof(head) + len;
	ssize_t w;

	ob_ent_head(head, time_ns, rec, (uint32_t)len);
	do
		w = writev(ob->logfd, iov, 2);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)want) {
		int e = w < 0 ? errno : ENOSPC;

		/* No half entry stays; if it might, the next call rewrites the log. */
		if (w > 0 && ftruncate(ob->logfd, (off_t)(OB_LOG_HDR + ob->llen))) {
			close(ob->logfd);
			ob->logfd = -1;
		}
		return vg_errf(err, "outbox %s: append to %s: %s", ob->dir, OB_LOG, strerror(e));
	}
	if (ob->llen + want > ob->lcap) {
		ob->lcap = (ob->llen + want) * 2;
		ob->lbuf = xrealloc(ob->lbuf, ob->lcap);
	}
	memcpy(ob->lbuf + ob->llen, head, sizeof(head));
	memcpy(ob->lbuf + ob->llen + sizeof(head), rec, len);
	ob->llen += want;
	ob->open_n++;
	ob->open_fwd += len + OB_FWD_ENT;
	return 0;
}

/* ---- sealing ------------------------------------------------------------- */

/* The pending gap record, first in ob->batch. */
static int gap_add(struct outbox *ob, struct vg_err *err)
{
	const struct ob_gap *g = &ob->st.gap;
	msgpack_packer *pk = fwd_batch_add(&ob->batch, g->until_ns);
	size_t mark = ob->batch.buf.size;	/* where the record starts */
	struct vg_err why;

	if (!pk)
		return vg_errf(err, "outbox %s: out of memory for the gap record", ob->dir);
	if (ob->gap_fn(ob->gap_u, g, pk))
		return vg_errf(err, "outbox %s: gap_fn failed", ob->dir);
	if (ob->batch.buf.size - mark > OB_GAP_MAX)
		return vg_errf(err, "outbox %s: a gap record of %zu bytes, over %d", ob->dir,
			       ob->batch.buf.size - mark, OB_GAP_MAX);
	if (ob_record_check(ob, ob->batch.buf.data + mark, ob->batch.buf.size - mark, &why))
		return vg_errf(err, "outbox %s: gap_fn packed no valid %.900s", ob->dir, why.msg);
	return 0;
}

/* ob->frame: the open batch (after the pending gap record, when gap) as
 * batch seq of sensor. */
static int frame_build(struct outbox *ob, uint64_t seq, const char *sensor, bool gap,
		       struct ob_sealed *s, struct vg_err *err)
{
	char chunk[OB_CHUNK_SIZE];
	struct fwd_err fe;
	size_t off = 0;

	fwd_batch_clear(&ob->batch);
	msgpack_sbuffer_clear(&ob->frame);
	*s = (struct ob_sealed){.seq = seq, .epoch = ob->st.epoch};
	if (gap) {
		if (gap_add(ob, err))
			return -1;
		s->t_first = s->t_last = ob->st.gap.until_ns;
	}
	while (off < ob->llen) {
		const unsigned char *h = ob->lbuf + off;
		uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
			       (uint32_t)h[3] << 24;
		uint64_t t = 0;

		for (int i = 7; i >= 0; i--)
			t = t << 8 | h[8 + i];
		if (!fwd_batch_add(&ob->batch, t) ||
		    msgpack_sbuffer_write(&ob->batch.buf, (const char *)h + OB_ENT_HDR, len))
			return vg_errf(err, "outbox %s: out of memory sealing batch %" PRIu64,
				       ob->dir, seq);
		if (ob->batch.n == 1)
			s->t_first = t;
		s->t_last = t;
		off += OB_ENT_HDR + len;
	}
	s->n = ob->batch.n;
	ob_chunk(chunk, sensor, ob->st.epoch, seq);
	if (fwd_encode_compressed(&ob->frame, ob->tag, &ob->batch, chunk, &fe))
		return vg_errf(err, "outbox %s: sealing batch %s: %s", ob->dir, chunk, fe.msg);
	s->size = ob->frame.size;
	return 0;
}

static void gap_grow(struct ob_gap *g, const struct ob_sealed *d)
{
	if (g->batches == 0) {
		g->first_seq = d->seq;
		g->since_ns = d->t_first;
	}
	g->last_seq = d->seq;
	g->until_ns = d->t_last;
	g->batches++;
	g->records += d->n;
}

/* How many of the oldest batches must go for the bound; st takes their gap. */
static size_t drop_plan(struct outbox *ob, struct ob_state *st)
{
	uint64_t total = ob->sealed_bytes;
	size_t k = 0;

	for (; k + 1 < ob->n && total + ob->log_max > ob->max_bytes; k++) {
		const struct ob_sealed *d = ob_sealed_at(ob, k);

		if (!ob_gap_pending(st))
			st->gap_seq = ob->open_seq;
		gap_grow(&st->gap, d);
		st->drop_through = d->seq;
		total -= d->size;
	}
	return k;
}

/* After the state says they are gone. A file that will not go is deleted at
 * the next open (it is at or below drop_through). */
static void drop_do(struct outbox *ob, size_t k)
{
	while (k--) {
		const struct ob_sealed *d = ob_sealed_at(ob, 0);
		char name[OB_NAME_LEN + 1];

		ob_name(name, d->seq);
		if (unlinkat(ob->dirfd, name, 0) && errno != ENOENT)
			log_err("outbox %s: dropping %s: %s", ob->dir, name, strerror(errno));
		log_warn("outbox %s: full (%" PRIu64 " bytes): dropped batch %s, %u records",
			 ob->dir, ob->max_bytes, name, d->n);
		ob->c.dropped_batches++;
		ob->c.dropped_records += d->n;
		ob_sealed_remove(ob, 0);
	}
}

/* The state after a seal or at open: the gap carried (when carried), and the
 * oldest batches dropped for the bound. Failing to write it is not failing
 * the seal: the batch is durable; nothing is dropped until a state says so,
 * and a gap it could not clear may be sent twice, never lost. */
void ob_settle(struct outbox *ob, bool carried)
{
	struct ob_state st = ob->st;
	struct vg_err err;
	size_t k;

	if (carried) {
		memset(&st.gap, 0, sizeof(st.gap));
		st.gap_seq = 0;
	}
	k = drop_plan(ob, &st);
	if (!carried && !k)
		return;
	if (ob_state_write(ob, &st, &err)) {
		log_err("%s", err.msg);
		if (carried) {
			memset(&ob->st.gap, 0, sizeof(ob->st.gap));
			ob->st.gap_seq = 0;
		}
		return;
	}
	drop_do(ob, k);
}

/* sensor NULL: the spool's own, with the pending gap. */
static int seal(struct outbox *ob, const char *sensor, struct vg_err *err)
{
	bool carried = !sensor && ob_gap_pending(&ob->st);
	uint64_t seq = ob->open_seq;
	char name[OB_NAME_LEN + 1];
	struct ob_sealed s;

	if (!ob->open_n && !carried)
		return 0;
	/* Until open.log no longer names the last batch, nothing else moves. */
	if (log_ready(ob, err) ||
	    frame_build(ob, seq, sensor ? sensor : ob->sensor_id, carried, &s, err))
		return -1;
	if (seq >= ob->st.next_seq) {
		struct ob_state st = ob->st;

		st.next_seq = seq + OB_SEQ_BLOCK;
		if (ob_state_write(ob, &st, err))
			return -1;
	}
	ob_name(name, seq);
	/* A failure leaves the open batch as it was: the retry writes the same
	 * bytes under the same name. */
	if (ob_write_file(ob, name, ob->frame.data, ob->frame.size, true, err) ||
	    ob_fsync_dir(ob, err))
		return -1;
	if (sensor && strcmp(sensor, ob->sensor_id))
		s.sensor = xstrdup(sensor);
	ob_sealed_push(ob, &s);
	ob_log_clear(ob);
	ob->open_seq = ob->next_seq++;
	close(ob->logfd);		/* names a sealed batch now: never append to it */
	ob->logfd = -1;
	ob_settle(ob, carried);
	if (ob_log_reset(ob, err))	/* retried by log_ready before the next append */
		log_err("%s", err->msg);
	return 0;
}

int ob_seal(struct outbox *ob, struct vg_err *err)
{
	return seal(ob, NULL, err);
}

int ob_seal_as(struct outbox *ob, const char *sensor, struct vg_err *err)
{
	return seal(ob, sensor, err);
}

bool ob_log_full(const struct outbox *ob)
{
	return ob->open_n >= ob->batch_records || ob->open_fwd >= ob->batch_bytes;
}

/* ---- the calls ----------------------------------------------------------- */

int ob_put(struct outbox *ob, uint64_t time_ns, const void *map, size_t len,
	   struct vg_err *err)
{
	struct vg_err e2;

	if (len > OB_RECORD_MAX)
		return vg_errf(err, "record: %zu bytes, over the %u-byte cap", len, OB_RECORD_MAX);
	if (len + OB_FWD_ENT > ob->batch_bytes)
		return vg_errf(err, "record: %zu bytes do not fit a batch of %u (batch_bytes)", len,
			       ob->batch_bytes);
	if (time_ns / NS > UINT32_MAX)
		return vg_errf(err, "record: event time %" PRIu64 " ns is past 2106", time_ns);
	if (ob_record_check(ob, map, len, err))
		return -1;
	if (ob->open_n && ob->open_fwd + len + OB_FWD_ENT > ob->batch_bytes && ob_seal(ob, err))
		return -1;
	if (log_ready(ob, err) || log_append(ob, time_ns, map, len, err))
		return -1;
	/* The record is safe whatever happens now: a failed seal is retried. */
	if (ob_log_full(ob) && ob_seal(ob, &e2))
		log_err("%s", e2.msg);
	return 0;
}

int ob_tick(struct outbox *ob, uint64_t now_ms, struct vg_err *err)
{
	if (!ob->open_n && !ob_gap_pending(&ob->st))
		return 0;
	/* Age counts from the first tick that saw the batch: at most one tick
	 * interval late, and ob_put needs no clock. */
	if (!ob->open_timed) {
		ob->open_timed = true;
		ob->open_since_ms = now_ms;
	}
	if (now_ms - ob->open_since_ms < ob->batch_ms)
		return 0;
	return ob_seal(ob, err);
}

int ob_flush(struct outbox *ob, struct vg_err *err)
{
	return ob_seal(ob, err);
}

int ob_peek(struct outbox *ob, size_t i, struct ob_batch *b, struct vg_err *err)
{
	while (i < ob->n) {
		struct ob_sealed *s = ob_sealed_at(ob, i);
		char name[OB_NAME_LEN + 1];
		unsigned char *buf;
		struct vg_err why;
		size_t len;
		int r = 0;

		ob_name(name, s->seq);
		if (ob->peek_seq != s->seq) {
			r = ob_read_file(ob, name, s->size, &buf, &len, &why);
			if (r == -2)
				return vg_errf(err, "outbox %s: %s: %s", ob->dir, name, why.msg);
			if (r == 0 && len == s->size) {
				free(ob->peek);
				ob->peek = buf;
				ob->peek_len = len;
				ob->peek_seq = s->seq;
			} else {
				/* Gone or changed under us: it is no longer what was sealed. */
				if (r == 0) {
					free(buf);
					ob_to_bad(ob, name, "shrank after it was sealed");
				} else if (r > 0) {
					ob->c.damaged++;
					log_err("outbox %s: %s vanished", ob->dir, name);
				} else {
					ob_to_bad(ob, name, why.msg);
				}
				ob_sealed_remove(ob, i);
				continue;
			}
		}
		sealed_chunk(ob, s, b->chunk);
		b->seq = s->seq;
		b->records = s->n;
		b->frame = ob->peek;
		b->len = ob->peek_len;
		return 0;
	}
	return 1;
}

int ob_chunk_at(const struct outbox *ob, size_t i, char chunk[OB_CHUNK_SIZE])
{
	const struct ob_sealed *s;

	if (i >= ob->n)
		return 1;
	s = &ob->b[ob->first + i];
	ob_chunk(chunk, s->sensor ? s->sensor : ob->sensor_id, s->epoch, s->seq);
	return 0;
}

int ob_ack(struct outbox *ob, const char *chunk, struct vg_err *err)
{
	char sensor[65], mine[OB_CHUNK_SIZE], name[OB_NAME_LEN + 1];
	uint64_t epoch, seq;
	size_t i;

	if (ob_chunk_parse(chunk, sensor, &epoch, &seq) || (i = ob_sealed_find(ob, seq)) == ob->n)
		return 1;
	sealed_chunk(ob, ob_sealed_at(ob, i), mine);
	if (strcmp(mine, chunk))
		return 1;
	/* While open.log still names a sealed batch, that batch must stay. */
	if (log_ready(ob, err))
		return -1;
	ob_name(name, seq);
	if (unlinkat(ob->dirfd, name, 0) && errno != ENOENT)
		return vg_errf(err, "outbox %s: delete acked %s: %s", ob->dir, name,
			       strerror(errno));
	ob->c.acked_batches++;
	ob->c.acked_records += ob_sealed_at(ob, i)->n;
	ob->c.last_ack = (int64_t)time(NULL);
	ob_sealed_remove(ob, i);
	return ob_fsync_dir(ob, err);
}

/* ---- batches by the id they were made under ------------------------------ */

int ob_chunk_sensor(const char *chunk, char sensor[OB_SENSOR_MAX + 1])
{
	uint64_t epoch, seq;

	return ob_chunk_parse(chunk, sensor, &epoch, &seq);
}

static const char *sealed_sensor(const struct outbox *ob, const struct ob_sealed *s)
{
	return s->sensor ? s->sensor : ob->sensor_id;
}

void ob_held(const struct outbox *ob, const char *sensor, uint64_t *batches,
	     uint64_t *records)
{
	*batches = *records = 0;
	if (!sensor)
		sensor = ob->sensor_id;
	for (size_t i = 0; i < ob->n; i++) {
		const struct ob_sealed *s = &ob->b[ob->first + i];

		if (!strcmp(sealed_sensor(ob, s), sensor)) {
			(*batches)++;
			*records += s->n;
		}
	}
}

int ob_discard(struct outbox *ob, const char *sensor, const char *why, uint64_t *batches,
	       uint64_t *records, struct vg_err *err)
{
	struct ob_state st = ob->st;
	char name[OB_NAME_LEN + 1];

	*batches = *records = 0;
	/* The gap first: its carrier is the open batch, after every sealed one. */
	for (size_t i = 0; i < ob->n; i++) {
		const struct ob_sealed *s = ob_sealed_at(ob, i);

		if (strcmp(sealed_sensor(ob, s), sensor))
			continue;
		if (!ob_gap_pending(&st))
			st.gap_seq = ob->open_seq;
		gap_grow(&st.gap, s);
		(*batches)++;
		*records += s->n;
	}
	if (!*batches)
		return 0;
	if (log_ready(ob, err) || ob_state_write(ob, &st, err))
		return -1;
	for (size_t i = 0; i < ob->n;) {
		const struct ob_sealed *s = ob_sealed_at(ob, i);

		if (strcmp(sealed_sensor(ob, s), sensor)) {
			i++;
			continue;
		}
		ob_name(name, s->seq);
		ob_set_aside(ob, name, why);
		ob_sealed_remove(ob, i);
	}
	ob->c.discarded_batches += *batches;
	ob->c.discarded_records += *records;
	return ob_fsync_dir(ob, err);
}

void ob_stats(const struct outbox *ob, struct ob_stats *s)
{
	*s = ob->c;
	s->batches = ob->n;
	s->records = ob->sealed_records;
	s->bytes = ob->sealed_bytes;
	s->open_records = ob->open_n;
	s->next_seq = ob->open_seq;
}
