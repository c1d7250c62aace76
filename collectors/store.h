/*
 * store.h: where the collector keeps the fleet (prefix st_). One interface;
 * the backend sits behind struct st_ops: SQLite (store_sqlite.c, WAL, the
 * default) now, PostgreSQL (libpq) later, without touching ingest.
 *
 * Ingest is by chunk: st_chunk_begin, st_record for each entry, then
 * st_chunk_commit, which returns only when the chunk is durable (the ack is
 * sent after it, DESIGN.md decision 6). A chunk id already committed for that
 * host reports *seen: ack it, store nothing. A chunk is stored whole or not
 * at all: any error aborts it.
 *
 * Records are OCSF maps (docs/records.md). A record whose device.uid is not
 * the connection's host id is refused (ST_REFUSED with the reason) and the
 * chunk is aborted: a host may not speak for another.
 *
 * A struct st is used by one thread at a time. Every function returns 0,
 * ST_REFUSED (input the store will not take, err says why) or -1 (err says
 * what failed).
 */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

enum { ST_REFUSED = 1 };

struct st_err {
	char msg[256];
};

struct st;

/* spec: "sqlite:PATH", or a directory (then DIR/vigil.db). Creates the
 * schema, or migrates it forward; refuses a newer schema than it knows. */
int st_open(struct st **out, const char *spec, struct st_err *err);
void st_close(struct st *s);

/* ---- ingest ----------------------------------------------------------------- */
int st_chunk_begin(struct st *s, const char *host_id, const char *chunk, bool *seen,
		   struct st_err *err);
int st_record(struct st *s, const char *tag, uint64_t time_ns, const msgpack_object *rec,
	      struct st_err *err);
/* The same, given rec's msgpack encoding: raw_len bytes at raw, exactly the
 * bytes rec was unpacked from. The store keeps those bytes instead of
 * packing rec again (ingest has them in the frame it decoded). */
int st_record_raw(struct st *s, const char *tag, uint64_t time_ns, const msgpack_object *rec,
		  const void *raw, size_t raw_len, struct st_err *err);
int st_chunk_commit(struct st *s, struct st_err *err);
void st_chunk_abort(struct st *s);

/* ---- hosts and their certificates --------------------------------------------- */
struct st_host {
	char id[65], hostname[256], machine_id[65];
	char os[128], version[32], mode[16];	/* from inventory and heartbeats */
	int64_t enrolled, last_seen;		/* unix seconds; 0: never */
	int64_t heartbeat_s;			/* the interval it announced */
	bool clone;				/* one certificate, two machines */
};
/* Records an issued certificate for host id (a new host, or a re-enrollment). */
int st_host_enroll(struct st *s, const char *host_id, const char *hostname,
		   const char *machine_id, const char *serial, int64_t not_after,
		   struct st_err *err);
/* The certificate's state: 0 good, ST_REFUSED revoked or unknown (err says). */
int st_cert_check(struct st *s, const char *serial, const char *host_id, struct st_err *err);
int st_cert_revoke(struct st *s, const char *serial, struct st_err *err);
int st_host_seen(struct st *s, const char *host_id, int64_t when, struct st_err *err);
int st_host_clone(struct st *s, const char *host_id, const char *detail, struct st_err *err);

/* ---- enrollment tokens: stored as SHA-256 of the secret -------------------------- */
/* id and secret_hash are hex. uses >= 1. */
int st_token_add(struct st *s, const char *id, const char *secret_hash, int64_t expires,
		 int uses, struct st_err *err);
/* Spends one use: 0, or ST_REFUSED (unknown, expired, used up, wrong secret). */
int st_token_spend(struct st *s, const char *id, const char *secret_hash, int64_t now,
		   struct st_err *err);

/* ---- queries (vigil-collector hosts|checks|events) ------------------------------ */
enum st_format { ST_TEXT, ST_JSON };
struct st_query {
	const char *host;		/* id or hostname; NULL: all */
	enum st_format format;
	int64_t now;			/* for "not reporting" */
	int missed;			/* heartbeats missed before a host is not reporting */
	size_t limit;			/* events: newest first; 0: a default */
};
int st_print_hosts(struct st *s, const struct st_query *q, FILE *out, struct st_err *err);
int st_print_checks(struct st *s, const struct st_query *q, FILE *out, struct st_err *err);
int st_print_events(struct st *s, const struct st_query *q, FILE *out, struct st_err *err);

/* ---- backends ------------------------------------------------------------------ */
struct st_ops;				/* store_int.h: what a backend implements */

#endif
