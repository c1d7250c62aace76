/*
 * outbox_int.h: what outbox.c (the spool's logic), outbox_open.c (opening
 * is recovering) and outbox_disk.c (its files: state, open.log, batch
 * files, bad/) share. outbox.c says why the
 * files are what they are; docs/outbox.md draws them.
 */
#ifndef VIGIL_OUTBOX_INT_H
#define VIGIL_OUTBOX_INT_H

#include "forward.h"
#include "outbox.h"

#define OB_LOG "open.log"
#define OB_STATE "state"
#define OB_BAD "bad"
#define OB_TMP ".tmp"			/* suffix of every file not yet renamed */
#define OB_NAME_LEN 16			/* a batch file: the seq in 16 hex digits */
#define OB_SEQ_MAX (1ull << 62)		/* seqs are below; more is not ours */
#define OB_CHUNK_SIZE 128		/* struct ob_batch's chunk; ours take at most 98 */

#define OB_LOG_MAGIC "VGOBLOG1"
#define OB_LOG_HDR 16			/* magic, le64 seq of the open batch */
#define OB_ENT_HDR 16			/* le32 len, le32 crc32, le64 time_ns */
#define OB_FWD_ENT 11			/* what [EventTime, record] adds to a record */

#define OB_RECORD_MAX (1u << 20)	/* hard cap on one record, whatever batch_bytes */
#define OB_BATCH_BYTES_MAX (2u << 20)	/* keeps a frame far inside fwd_limits */
#define OB_BATCH_RECORDS_MAX (FWD_ENTRIES_MAX - 1)	/* one more: the gap record */
#define OB_GAP_MAX 1024			/* bytes of a gap record */
#define OB_SEQ_BLOCK 1024		/* sequence numbers reserved per state write */
#define OB_BAD_KEEP 32			/* files kept in bad/; later ones are deleted */
#define OB_STATE_MAX 4096
#define OB_FRAME_SLACK 4096		/* frame, gzip and gap overhead over batch_bytes */

/* One sealed batch file, waiting for its ack. */
struct ob_sealed {
	uint64_t seq, epoch;
	uint64_t size;			/* bytes of the file */
	uint64_t t_first, t_last;	/* event times of its first and last entry */
	uint32_t n;			/* entries */
	char *sensor;			/* NULL: ob->sensor_id (else an older id's batch) */
};

/* The state file. The gap is pending while gap.batches > 0: the first
 * batch sealed with a seq >= gap_seq carries it. sensor: the id open.log's
 * entries were made under ("": not recorded, as by an older spool; taken
 * to be the opener's). */
struct ob_state {
	uint64_t epoch, next_seq, drop_through;
	struct ob_gap gap;
	uint64_t gap_seq;
	char sensor[OB_SENSOR_MAX + 1];
};

struct outbox {
	char *dir, *sensor_id, *tag;
	uint64_t max_bytes, log_max;	/* log_max: the most open.log can hold */
	uint32_t batch_records, batch_bytes, batch_ms;
	ob_gap_fn gap_fn;
	void *gap_u;

	int dirfd, logfd;		/* logfd -1: no usable open.log (see log_ready) */
	struct ob_state st;		/* as the state file holds it */
	uint64_t open_seq;		/* what the open batch will be sealed as */
	uint64_t next_seq;		/* the next to hand out (> open_seq) */

	/* The open batch: open.log's bytes past its header, mirrored. */
	unsigned char *lbuf;
	size_t llen, lcap;
	uint32_t open_n;
	size_t open_fwd;		/* its entries' bytes in a frame, uncompressed */
	bool open_timed;
	uint64_t open_since_ms;

	struct ob_sealed *b;		/* oldest first: b[first .. first + n) */
	size_t first, n, cap;
	uint64_t sealed_bytes, sealed_records;

	struct fwd_batch batch;		/* scratch for sealing */
	msgpack_sbuffer frame;
	msgpack_zone zone;		/* for checking records */
	unsigned char *peek;		/* ob_peek's frame */
	size_t peek_len, peek_cap;
	uint64_t peek_seq;		/* 0: none */

	struct ob_stats c;		/* counters only; ob_stats adds the rest */
};

/* ---- outbox_disk.c ----------------------------------------------------- */

bool ob_gap_pending(const struct ob_state *st);
void ob_name(char out[OB_NAME_LEN + 1], uint64_t seq);
bool ob_name_parse(const char *name, uint64_t *seq);	/* a batch file's name */
void ob_chunk(char out[OB_CHUNK_SIZE], const char *sensor, uint64_t epoch, uint64_t seq);
/* sensor must hold 65 bytes; 0, or -1 when chunk is not ours in form. */
int ob_chunk_parse(const char *chunk, char *sensor, uint64_t *epoch, uint64_t *seq);
bool ob_sensor_ok(const char *s, size_t n);

int ob_fsync_dir(struct outbox *ob, struct vg_err *err);
/* name.tmp, fsync'd when sync, renamed to name; the directory is not synced. */
int ob_write_file(struct outbox *ob, const char *name, const void *p, size_t n, bool sync,
		  struct vg_err *err);
/* The whole file: 0; 1 when there is none; -1 when it is damaged (not a
 * regular file, over max, unreadable); -2 when the process is short of
 * descriptors or memory, which says nothing about the file. */
int ob_read_file(struct outbox *ob, const char *name, size_t max, unsigned char **buf,
		 size_t *len, struct vg_err *err);
/* Moves a damaged file to bad/ (or deletes it when bad/ is full), counts it
 * and logs why. Never fails: what cannot be moved is left and logged. */
void ob_to_bad(struct outbox *ob, const char *name, const char *why);
/* The same for a whole batch that is not damaged but cannot be delivered:
 * not counted in damaged. */
void ob_set_aside(struct outbox *ob, const char *name, const char *why);

/* 0 read; 1 none there; -1 damaged, -2 unreadable for now (err says how). */
int ob_state_read(struct outbox *ob, struct ob_state *st, struct vg_err *err);
/* Written whole and durably (temp, fsync, rename, fsync of dir), then st is ob->st. */
int ob_state_write(struct outbox *ob, const struct ob_state *st, struct vg_err *err);

/* Checks one batch file as a receiver would; fills *s. 0, or -1 (damaged)
 * or -2 (as ob_read_file) with err. */
int ob_batch_check(struct outbox *ob, const char *name, uint64_t seq, struct ob_sealed *s,
		   struct vg_err *err);

/* Reads open.log into the open batch, keeping its whole entries. *seq: the
 * seq its header names (0: none). *rewrite: it must be written anew (it was
 * damaged, and went to bad/). 0, or -1 on a failure that is not damage. */
int ob_log_load(struct outbox *ob, uint64_t *seq, bool *rewrite, struct vg_err *err);
/* A new open.log: header with ob->open_seq, then ob->lbuf; opened for appending. */
int ob_log_reset(struct outbox *ob, struct vg_err *err);
/* Appends one entry's header to out (16 bytes). */
void ob_ent_head(unsigned char out[OB_ENT_HDR], uint64_t time_ns, const void *rec, uint32_t len);

/* ---- outbox.c ---------------------------------------------------------- */

/* 0 when rec is exactly one msgpack map with str keys, within the limits a
 * receiver applies to a record in a frame; else -1 and err says why. */
int ob_record_check(struct outbox *ob, const void *rec, size_t len, struct vg_err *err);

/* The sealed batches, oldest first. find returns the index of seq, or n. */
struct ob_sealed *ob_sealed_at(struct outbox *ob, size_t i);
void ob_sealed_push(struct outbox *ob, const struct ob_sealed *s);	/* seq above all */
void ob_sealed_remove(struct outbox *ob, size_t i);
size_t ob_sealed_find(struct outbox *ob, uint64_t seq);

void ob_log_clear(struct outbox *ob);		/* empties the open batch */
bool ob_log_full(const struct outbox *ob);	/* batch_records or batch_bytes reached */
/* Seals the open batch (and the pending gap) as ob->open_seq; 0 when there
 * is nothing to seal. */
int ob_seal(struct outbox *ob, struct vg_err *err);
/* Seals the open batch under another sensor id (the one that made it),
 * without the pending gap: the gap record is the opener's. */
int ob_seal_as(struct outbox *ob, const char *sensor, struct vg_err *err);
/* After a seal (carried: it took the pending gap) or at open: writes the
 * state and drops the oldest batches if the bound needs it. */
void ob_settle(struct outbox *ob, bool carried);

#endif
