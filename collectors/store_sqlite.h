/*
 * store_sqlite.h: inside the SQLite backend, between store_sqlite.c
 * (opening, schema, ingest) and store_sqlite_q.c (hosts, certificates,
 * tokens, queries). Nothing outside the backend includes it.
 */
#ifndef VIGIL_STORE_SQLITE_H
#define VIGIL_STORE_SQLITE_H

#include <sqlite3.h>

#include "store_int.h"

/* Statements, prepared on first use and kept. */
enum sq_stmt {
	Q_HOST_ID, Q_CHUNK_GET, Q_CHUNK_PUT, Q_LAST_SEEN,
	Q_EVENT, Q_FINDING, Q_CHECK_GET, Q_CHECK_PUT, Q_HISTORY, Q_SCORE,
	Q_INVENTORY, Q_HEARTBEAT, Q_GAP,
	Q_ENROLL, Q_CERT_PUT, Q_CERT_GET, Q_CERT_REVOKE, Q_HOST_SEEN, Q_HOST_CLONE,
	Q_TOKEN_PUT, Q_TOKEN_GET, Q_TOKEN_USE,
	Q_HOSTS, Q_CHECKS, Q_SCORES, Q_EVENTS, Q_EVENTS_HOST,
	SQ_NSTMT
};

struct sq {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQ_NSTMT];
	int64_t host;			/* the open chunk's host (hosts.id) */
	char chunk[ST_CHUNK_MAX + 1];
};

/* Each returns -1 with err naming the file and SQLite's message. */
int sq_fail(struct st *s, const char *what, struct st_err *err);
int sq_exec(struct st *s, const char *sql, struct st_err *err);
sqlite3_stmt *sq_stmt(struct st *s, enum sq_stmt id, struct st_err *err);
int sq_done(struct st *s, sqlite3_stmt *st, const char *what, struct st_err *err);
void sq_reset(sqlite3_stmt *st);
int sq_begin(struct st *s, struct st_err *err);	/* BEGIN IMMEDIATE: the write lock now */
int sq_commit(struct st *s, struct st_err *err);
void sq_rollback(struct st *s);
int64_t sq_host_id(struct st *s, const char *host, struct st_err *err);	/* 0: none, -1 */

void sq_text(sqlite3_stmt *st, int col, const char *v);	/* NULL binds NULL */
void sq_int(sqlite3_stmt *st, int col, struct st_int v);
struct st_int sq_col_int(sqlite3_stmt *st, int col);
const char *sq_col_text(sqlite3_stmt *st, int col);

/* store_sqlite_q.c: the ops of the same names in struct st_ops. */
int sq_host_enroll(struct st *s, const char *host, const char *hostname,
		   const char *machine_id, const char *serial, int64_t not_after, int64_t now,
		   struct st_err *err);
int sq_cert_get(struct st *s, const char *serial, struct st_cert_row *r, struct st_err *err);
int sq_cert_revoke(struct st *s, const char *serial, int64_t now, struct st_err *err);
int sq_host_seen(struct st *s, const char *host, int64_t when, struct st_err *err);
int sq_host_clone(struct st *s, const char *host, const char *detail, struct st_err *err);
int sq_token_add(struct st *s, const char *id, const char *secret_hash, int64_t expires,
		 int uses, int64_t now, struct st_err *err);
int sq_token_spend(struct st *s, const char *id,
		   int (*verdict)(const struct st_token_row *r, void *arg, struct st_err *err),
		   void *arg, struct st_err *err);
int sq_hosts(struct st *s, const char *host, st_host_fn fn, void *arg, struct st_err *err);
int sq_checks(struct st *s, const char *host, st_check_fn fn, void *arg, struct st_err *err);
int sq_scores(struct st *s, const char *host, st_score_fn fn, void *arg, struct st_err *err);
int sq_events(struct st *s, const char *host, size_t limit, st_event_fn fn, void *arg,
	      struct st_err *err);

#endif
