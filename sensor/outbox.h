/*
 * outbox.h: the sensor's durable spool (prefix ob_). Records go to disk
 * before anything is sent, and leave only when the collector acked them
 * (DESIGN.md, decision 6).
 *
 * A record is one msgpack map, already packed. ob_put appends it to the
 * open batch, which is on disk (dir/open.log) by the time ob_put returns,
 * so a kill -9 loses nothing ob_put accepted. A batch is sealed when it
 * holds batch_records or batch_bytes, when it is batch_ms old (ob_tick), or
 * on ob_flush: it becomes one file holding its whole Forward frame
 * (CompressedPackedForward, gzip) with chunk id "<sensor_id>-<epoch>-<seq>",
 * written to a temporary name, fsync'd and renamed. A retry therefore sends
 * the same bytes with the same id. The sequence never repeats, across
 * restarts too: a chunk id the collector has seen is acked and not stored.
 *
 * The spool holds at most max_bytes. When a seal would pass it, the oldest
 * sealed batches are deleted and the next batch starts with a gap record
 * (gap_fn) saying how many records and batches went, and from when.
 *
 * A spool outlives an identity (docs/outbox.md, "Re-enrollment"): the
 * state file names the id the open batch was made under, and ob_open
 * seals that batch under it when another id opens the spool, so a batch's
 * chunk id and its records always name the same host. Sealed batches keep
 * the id they were sealed under; ob_held counts them by id, and ob_discard
 * gives up those that can never be delivered (moved to bad/, a gap record
 * follows).
 *
 * Damaged files (a torn open.log tail, a batch that does not decode) are
 * never fatal: what is whole is kept, the rest is moved to dir/bad/ and
 * counted, and err/the log say which file and why.
 *
 * Not thread-safe; no global state. Returns 0, or -1 with err.
 */
#ifndef VIGIL_OUTBOX_H
#define VIGIL_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "vigil.h"

struct ob_gap {
	uint64_t records, batches;	/* dropped since the last gap record */
	uint64_t first_seq, last_seq;	/* the dropped batches' sequence numbers */
	uint64_t since_ns, until_ns;	/* event times of the first and last dropped */
};
/* Packs exactly one map (the gap record) with pk. */
typedef int (*ob_gap_fn)(void *u, const struct ob_gap *g, msgpack_packer *pk);

#define OB_SENSOR_MAX 64		/* bytes of a sensor id */

struct ob_opts {
	const char *dir;		/* created 0700 if missing */
	const char *sensor_id;		/* [A-Za-z0-9_.]{1,64}: the host id */
	const char *tag;		/* Forward tag, e.g. "vigil" */
	uint64_t max_bytes;		/* whole spool; 0: 256 MiB */
	uint32_t batch_records;		/* 0: 1000 */
	uint32_t batch_bytes;		/* uncompressed; 0: 512 KiB */
	uint32_t batch_ms;		/* 0: 1000 */
	ob_gap_fn gap_fn;		/* required */
	void *gap_u;
};

struct ob_batch {
	char chunk[128];
	uint64_t seq;
	uint32_t records;
	const uint8_t *frame;		/* valid until the next ob_ call */
	size_t len;
};

struct ob_stats {
	uint64_t batches, records, bytes;	/* sealed, waiting for an ack */
	uint64_t open_records;			/* in the open batch */
	uint64_t acked_batches, acked_records;
	uint64_t dropped_records, dropped_batches;
	uint64_t damaged;			/* files moved to bad/ */
	uint64_t discarded_records, discarded_batches;	/* ob_discard: undeliverable */
	uint64_t next_seq;
	int64_t last_ack;			/* unix seconds; 0: none yet */
};

struct outbox;
int ob_open(struct outbox **out, const struct ob_opts *o, struct vg_err *err);
void ob_close(struct outbox *ob);		/* seals nothing: see ob_flush */

int ob_put(struct outbox *ob, uint64_t time_ns, const void *map, size_t len,
	   struct vg_err *err);
int ob_tick(struct outbox *ob, uint64_t now_ms, struct vg_err *err);
int ob_flush(struct outbox *ob, struct vg_err *err);

/* The i-th oldest sealed batch; 1 when there is none that old. */
int ob_peek(struct outbox *ob, size_t i, struct ob_batch *b, struct vg_err *err);
/* The i-th oldest sealed batch's chunk id, from memory (no file is read);
 * 1 when there is none that old. */
int ob_chunk_at(const struct outbox *ob, size_t i, char chunk[128]);
/* Removes the batch with this chunk id; 1 when none has it (a late ack). */
int ob_ack(struct outbox *ob, const char *chunk, struct vg_err *err);
void ob_stats(const struct outbox *ob, struct ob_stats *s);

/* The sensor id a chunk id names (its part before the epoch); -1 when the
 * chunk id is not "<sensor>-<16 hex>-<16 hex>". */
int ob_chunk_sensor(const char *chunk, char sensor[OB_SENSOR_MAX + 1]);
/* Sealed batches and their records made under sensor (NULL: the spool's own). */
void ob_held(const struct outbox *ob, const char *sensor, uint64_t *batches,
	     uint64_t *records);
/* Every sealed batch made under sensor goes to bad/ (why is logged with
 * each) and into the pending gap, which the next batch sealed carries.
 * *batches and *records say what went. The state (the gap) is written
 * before any file moves: a crash in between may send the gap twice, never
 * lose it. 0, or -1 with err and nothing moved. */
int ob_discard(struct outbox *ob, const char *sensor, const char *why, uint64_t *batches,
	       uint64_t *records, struct vg_err *err);

/* What a spool holds, read without changing it and without waiting for
 * it (`vigil enroll` asks before it replaces an identity). */
struct ob_census {
	bool busy;			/* another process (vigil run) has it: nothing read */
	uint64_t batches, records;	/* sealed under the sensor asked about */
	uint64_t others;		/* sealed under any other id */
	bool open_log;			/* open.log holds records made under it (or by an
					 * id an older spool did not record) */
};
/* A missing dir is an empty spool. 0, or -1 with err. */
int ob_census(const char *dir, const char *sensor, struct ob_census *c, struct vg_err *err);

#endif
