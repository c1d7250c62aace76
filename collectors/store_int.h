/*
 * store_int.h: between store.c, which does what every backend shares, and
 * a backend (store_sqlite.c; a PostgreSQL one fills the same table).
 *
 * store.c checks arguments, keeps the chunk's state (idle, open, seen,
 * failed), turns each msgpack record into a struct st_rec (typed, bounded,
 * valid UTF-8; the record's msgpack bytes, and for checks and inventory its
 * JSON text) and hands it to one put_* op. A backend only stores and
 * fetches: it never unpacks msgpack, and it decides
 * no policy that st_cert_verdict, st_token_verdict or st_status_rank
 * decide for it. Printing (store_print.c) reads rows through the query ops.
 *
 * Ops return 0, ST_REFUSED or -1 as store.h says, with err set. A backend
 * keeps its state in s->be.
 */
#ifndef VIGIL_STORE_INT_H
#define VIGIL_STORE_INT_H

#include "mpjson.h"
#include "store.h"

#define ST_HOST_MAX	64		/* bytes of a host id */
#define ST_CHUNK_MAX	128		/* bytes of a chunk id (forward.h's FWD_CHUNK_MAX) */
#define ST_KEY_MAX	256		/* check and baseline ids: longer is refused */
#define ST_TEXT_MAX	4096		/* a summary column: longer is cut (the record keeps it) */
#define ST_MP_MAX	(1u << 20)	/* one record's msgpack bytes: longer is refused */
#define ST_JSON_MAX	(1u << 20)	/* a check's or inventory's JSON text: likewise */
#define ST_DEPTH_MAX	16		/* containers in one record (OCSF needs about 6) */
#define ST_TEXTS	20		/* summary strings one record may fill */
#define ST_TIME_MAX	253402300799999	/* ms: 9999-12-31T23:59:59.999Z */
#define ST_HEARTBEAT_DEFAULT 60		/* s, for a host that never announced one */
#define ST_MISSED_DEFAULT 3

/* Flags of st_open_flags. */
#define ST_OPEN_EXISTING 0x1		/* refuse to create a store */
#define ST_OPEN_READONLY 0x2		/* queries only; no migration */
int st_open_flags(struct st **out, const char *spec, unsigned flags, struct st_err *err);

int st_errf(struct st_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct st_int {				/* a column that may be NULL */
	bool set;
	int64_t v;
};

/* Which put_* op a record goes to. */
enum st_kind {
	ST_EVENT,			/* 1001, 1007, 2004, unknown classes, incomplete ones */
	ST_CHECK,			/* 2003 with finding_info.uid */
	ST_SCORE,			/* 5002 with unmapped.vigil.baseline.id */
	ST_INVENTORY,			/* 5001 */
	ST_HEARTBEAT,			/* 0, unmapped.vigil.kind "heartbeat" */
	ST_GAP,				/* 0, unmapped.vigil.kind "gap" */
};

/* One record, as store.c extracted it. Strings are NUL-terminated valid
 * UTF-8 without NUL inside, at most ST_TEXT_MAX bytes, or NULL when the
 * record had no such field (or not of the right type). They live until the
 * next st_record. */
struct st_rec {
	enum st_kind kind;
	int64_t class_uid, time;	/* required; time in ms since the epoch */
	struct st_int activity_id, type_uid, severity_id;
	const char *hostname, *os_name, *os_version;	/* device.* */
	const void *mp;			/* the whole record as msgpack (events) */
	size_t mp_len;
	const char *json;		/* ST_CHECK, ST_INVENTORY: the whole record as JSON */
	size_t json_len;
	/* ST_CHECK: finding_info.uid, .title; compliance.*; unmapped.vigil.baseline.* */
	const char *check_id, *title, *status, *control;
	struct st_int status_id;
	int rank;			/* st_status_rank: 0 fail ... 3 pass */
	const char *baseline, *baseline_name, *baseline_version;	/* also ST_SCORE */
	/* ST_SCORE: unmapped.vigil.summary */
	struct st_int passed, failed, not_applicable, errors, skipped;
	bool has_score;
	double score;
	/* ST_EVENT: summary columns, any class */
	const char *path, *exe, *actor, *verdict, *detail;	/* actor: the user id */
	struct st_int pid;
	const char *finding;		/* "detection" (2004), "tampering" (1001), or NULL */
	const char *finding_uid;	/* finding_info.uid; title above */
	/* ST_HEARTBEAT: unmapped.vigil.* */
	const char *sensor_version, *mode;
	struct st_int interval_s;
	/* ST_GAP: unmapped.vigil.* */
	struct st_int gap_records, gap_batches, first_seq, last_seq, since, until;
};

/* ---- rows the query ops hand to a callback (valid during the call) ----- */
struct st_host_row {
	struct st_host h;
	const char *os_name, *os_version, *clone_detail;
};
struct st_check_row {
	const char *host, *hostname, *check_id, *status, *title, *baseline;
	struct st_int status_id, severity_id;
	int64_t time;
};
struct st_score_row {
	const char *host, *hostname, *baseline, *baseline_name, *baseline_version;
	int64_t time;
	struct st_int passed, failed, not_applicable, errors, skipped;
	bool has_score;
	double score;
};
struct st_event_row {
	const char *host, *hostname;
	int64_t time, class_uid;
	struct st_int activity_id, severity_id, pid;
	const char *path, *exe, *actor, *verdict, *detail;
	/* The record: mp (msgpack, stored since schema 2), or json (text, rows
	 * stored before); NULL both when the row has neither. */
	const void *mp;
	size_t mp_len;
	const char *json;
};
/* A callback's nonzero return stops the query, which returns it. */
typedef int (*st_host_fn)(void *arg, const struct st_host_row *r);
typedef int (*st_check_fn)(void *arg, const struct st_check_row *r);
typedef int (*st_score_fn)(void *arg, const struct st_score_row *r);
typedef int (*st_event_fn)(void *arg, const struct st_event_row *r);

/* What a certificate or token row says; the verdicts are store.c's. */
struct st_cert_row {
	bool found;
	char host[ST_HOST_MAX + 1];
	int64_t not_after, revoked;	/* revoked: when, 0 never */
};
struct st_token_row {
	bool found;
	char secret_hash[65];
	int64_t expires, uses_left;
};

struct st_ops {
	const char *name;
	/* where: what followed the spec's "name:". flags: ST_OPEN_*. Creates
	 * or migrates the schema; refuses a newer one. */
	int (*open)(struct st *s, const char *where, unsigned flags, struct st_err *err);
	void (*close)(struct st *s);

	/* Ingest. chunk_begin starts a transaction and looks the chunk up:
	 * when (host, chunk) is stored, *seen and no transaction stays open.
	 * ST_REFUSED for a host that is not enrolled. The put ops run inside
	 * it; commit records the chunk with its record count, raises the
	 * host's last_seen to now, and returns once that is durable. abort
	 * rolls back (also after a failed op). */
	int (*chunk_begin)(struct st *s, const char *host, const char *chunk, bool *seen,
			   struct st_err *err);
	int (*put_event)(struct st *s, const struct st_rec *r, struct st_err *err);
	/* check_latest keeps the newest result per (host, check); one older
	 * than it is dropped. check_history gets a row when the status differs
	 * from the latest one (and for the first). */
	int (*put_check)(struct st *s, const struct st_rec *r, struct st_err *err);
	int (*put_score)(struct st *s, const struct st_rec *r, struct st_err *err);
	/* Inventory and heartbeats update the host (hostname, OS; heartbeats
	 * also version, mode, interval), unless it has a newer one of theirs. */
	int (*put_inventory)(struct st *s, const struct st_rec *r, struct st_err *err);
	int (*put_heartbeat)(struct st *s, const struct st_rec *r, struct st_err *err);
	int (*put_gap)(struct st *s, const struct st_rec *r, struct st_err *err);
	int (*chunk_commit)(struct st *s, uint32_t records, int64_t now, struct st_err *err);
	void (*chunk_abort)(struct st *s);

	/* Hosts, certificates, tokens: each its own transaction. An unknown
	 * host is ST_REFUSED. Enroll: a new host, or new details for a known
	 * one; a serial already recorded is ST_REFUSED. */
	int (*host_enroll)(struct st *s, const char *host, const char *hostname,
			   const char *machine_id, const char *serial, int64_t not_after,
			   int64_t now, struct st_err *err);
	int (*cert_get)(struct st *s, const char *serial, struct st_cert_row *r,
			struct st_err *err);
	int (*cert_revoke)(struct st *s, const char *serial, int64_t now, struct st_err *err);
	int (*host_seen)(struct st *s, const char *host, int64_t when, struct st_err *err);
	int (*host_clone)(struct st *s, const char *host, const char *detail,
			  struct st_err *err);	/* detail NULL: clears the flag */
	int (*token_add)(struct st *s, const char *id, const char *secret_hash,
			 int64_t expires, int uses, int64_t now, struct st_err *err);
	/* Reads the token and calls verdict; if it returns 0, spends one use,
	 * all in one transaction (two collectors cannot both spend the last). */
	int (*token_spend)(struct st *s, const char *id,
			   int (*verdict)(const struct st_token_row *r, void *arg,
					  struct st_err *err),
			   void *arg, struct st_err *err);

	/* Queries. host: an id or a hostname, NULL for all. Order:
	 * hosts by hostname then id; checks by rank, severity_id (1..6)
	 * highest first, hostname, check id; scores only the latest run per
	 * host and baseline, by hostname then baseline; events newest first,
	 * at most limit. */
	int (*hosts)(struct st *s, const char *host, st_host_fn fn, void *arg,
		     struct st_err *err);
	int (*checks)(struct st *s, const char *host, st_check_fn fn, void *arg,
		      struct st_err *err);
	int (*scores)(struct st *s, const char *host, st_score_fn fn, void *arg,
		      struct st_err *err);
	int (*events)(struct st *s, const char *host, size_t limit, st_event_fn fn, void *arg,
		      struct st_err *err);
};

extern const struct st_ops st_sqlite_ops;

enum st_chunk_state { ST_IDLE, ST_OPEN, ST_SEEN, ST_FAILED };

struct st {
	const struct st_ops *ops;
	void *be;			/* the backend's */
	char *where;			/* for messages: the file, or the server */
	enum st_chunk_state state;
	char host[ST_HOST_MAX + 1];	/* the open chunk's */
	uint32_t records;
	char failed[sizeof(((struct st_err *)0)->msg)];	/* why the chunk was aborted */
	struct st_rec rec;
	msgpack_sbuffer mp;		/* a record packed here when no raw bytes came with it */
	struct mpj_buf json;
	unsigned ntext;
	char text[ST_TEXTS][ST_TEXT_MAX + 1];
};

/* Policy, shared by backends. */
int st_status_rank(const struct st_int *status_id, const char *status);
int st_cert_verdict(const struct st_cert_row *r, const char *serial, const char *host,
		    int64_t now, struct st_err *err);

#endif
