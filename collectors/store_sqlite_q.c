/*
 * store_sqlite_q.c: the SQLite backend's hosts, certificates, tokens and
 * queries. Each write is its own IMMEDIATE transaction, so two collectors
 * on one file cannot both spend a token's last use.
 */
#include <stdio.h>
#include <string.h>

#include "store_sqlite.h"

#define refuse(err, ...) (st_errf((err), __VA_ARGS__), ST_REFUSED)

/* Runs an INSERT: 0, ST_REFUSED when a key is taken (err is the caller's to
 * word), or -1. */
static int insert(struct st *s, sqlite3_stmt *st, const char *what, struct st_err *err)
{
	int step = sqlite3_step(st);

	if (step != SQLITE_DONE && (step & 0xff) != SQLITE_CONSTRAINT)
		sq_fail(s, what, err);
	sq_reset(st);
	if (step == SQLITE_DONE)
		return 0;
	return (step & 0xff) == SQLITE_CONSTRAINT ? ST_REFUSED : -1;
}

/* ---- hosts and certificates ----------------------------------------------------- */

int sq_host_enroll(struct st *s, const char *host, const char *hostname,
		   const char *machine_id, const char *serial, int64_t not_after, int64_t now,
		   struct st_err *err)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc = -1;

	if (sq_begin(s, err))
		return -1;
	if (!(st = sq_stmt(s, Q_ENROLL, err)))
		goto out;
	sq_text(st, 1, host);
	sq_text(st, 2, hostname && *hostname ? hostname : NULL);
	sq_text(st, 3, machine_id && *machine_id ? machine_id : NULL);
	sqlite3_bind_int64(st, 4, now);
	if (sq_done(s, st, "enrolling a host", err) || (id = sq_host_id(s, host, err)) <= 0)
		goto out;
	if (!(st = sq_stmt(s, Q_CERT_PUT, err)))
		goto out;
	sq_text(st, 1, serial);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, not_after);
	sqlite3_bind_int64(st, 4, now);
	if ((rc = insert(s, st, "recording a certificate", err)) == ST_REFUSED)
		st_errf(err, "certificate serial %s is already recorded", serial);
	if (rc)
		goto out;
	rc = sq_commit(s, err);
out:
	if (rc)
		sq_rollback(s);
	return rc;
}

int sq_cert_get(struct st *s, const char *serial, struct st_cert_row *r, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_CERT_GET, err);
	int rc;

	memset(r, 0, sizeof(*r));
	if (!st)
		return -1;
	sq_text(st, 1, serial);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->found = true;
		snprintf(r->host, sizeof(r->host), "%s", sq_col_text(st, 0));
		r->not_after = sqlite3_column_int64(st, 1);
		r->revoked = sqlite3_column_int64(st, 2);
	} else if (rc != SQLITE_DONE) {
		sq_fail(s, "reading a certificate", err);
	}
	sq_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* An UPDATE that must touch one row, or the thing it names is unknown. */
static int update_one(struct st *s, sqlite3_stmt *st, const char *what, const char *unknown,
		      struct st_err *err)
{
	struct sq *q = s->be;

	if (sq_done(s, st, what, err))
		return -1;
	if (sqlite3_changes(q->db) == 0)
		return refuse(err, "%s", unknown);
	return 0;
}

int sq_cert_revoke(struct st *s, const char *serial, int64_t now, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_CERT_REVOKE, err);
	char unknown[200];

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sq_text(st, 2, serial);
	snprintf(unknown, sizeof(unknown), "certificate %s is unknown to this collector", serial);
	return update_one(s, st, "revoking a certificate", unknown, err);
}

int sq_host_seen(struct st *s, const char *host, int64_t when, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_HOST_SEEN, err);
	char unknown[128];

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, when);
	sq_text(st, 2, host);
	snprintf(unknown, sizeof(unknown), "host %s is not enrolled", host);
	return update_one(s, st, "updating last seen", unknown, err);
}

int sq_host_clone(struct st *s, const char *host, const char *detail, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_HOST_CLONE, err);
	char unknown[128];

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, detail != NULL);
	sq_text(st, 2, detail);
	sq_text(st, 3, host);
	snprintf(unknown, sizeof(unknown), "host %s is not enrolled", host);
	return update_one(s, st, "flagging a clone", unknown, err);
}

/* ---- tokens ----------------------------------------------------------------------- */

int sq_token_add(struct st *s, const char *id, const char *secret_hash, int64_t expires,
		 int uses, int64_t now, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_TOKEN_PUT, err);
	int rc;

	if (!st)
		return -1;
	sq_text(st, 1, id);
	sq_text(st, 2, secret_hash);
	sqlite3_bind_int64(st, 3, expires);
	sqlite3_bind_int(st, 4, uses);
	sqlite3_bind_int64(st, 5, now);
	if ((rc = insert(s, st, "adding a token", err)) == ST_REFUSED)
		st_errf(err, "token %s exists", id);
	return rc;
}

int sq_token_spend(struct st *s, const char *id,
		   int (*verdict)(const struct st_token_row *r, void *arg, struct st_err *err),
		   void *arg, struct st_err *err)
{
	struct st_token_row r = {0};
	sqlite3_stmt *st;
	int rc = -1, step;

	if (sq_begin(s, err))
		return -1;
	if (!(st = sq_stmt(s, Q_TOKEN_GET, err)))
		goto out;
	sq_text(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		r.found = true;
		snprintf(r.secret_hash, sizeof(r.secret_hash), "%s", sq_col_text(st, 0));
		r.expires = sqlite3_column_int64(st, 1);
		r.uses_left = sqlite3_column_int64(st, 2);
	} else if (step != SQLITE_DONE) {
		sq_fail(s, "reading a token", err);
	}
	sq_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		goto out;
	if ((rc = verdict(&r, arg, err)))
		goto out;
	rc = -1;
	if (!(st = sq_stmt(s, Q_TOKEN_USE, err)))
		goto out;
	sq_text(st, 1, id);
	if (sq_done(s, st, "spending a token", err))
		goto out;
	rc = sq_commit(s, err);
out:
	if (rc)
		sq_rollback(s);
	return rc;
}

/* ---- queries ------------------------------------------------------------------------ */

/* Steps st to its end, handing each row to row(); stops at a nonzero. */
static int each_row(struct st *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *, void *),
		    void *ctx, struct st_err *err)
{
	int step, rc = 0;

	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = row(st, ctx)))
			break;
	if (!rc && step != SQLITE_DONE)
		rc = sq_fail(s, "query", err);
	sq_reset(st);
	return rc;
}

struct cb {				/* the caller's callback, one of */
	st_host_fn host;
	st_check_fn check;
	st_score_fn score;
	st_event_fn event;
	void *arg;
};

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static int host_row(sqlite3_stmt *st, void *ctx)
{
	const struct cb *cb = ctx;
	struct st_host_row r;
	struct st_int hb;

	memset(&r, 0, sizeof(r));
	copy(r.h.id, sizeof(r.h.id), sq_col_text(st, 0));
	copy(r.h.hostname, sizeof(r.h.hostname), sq_col_text(st, 1));
	copy(r.h.machine_id, sizeof(r.h.machine_id), sq_col_text(st, 2));
	r.os_name = sq_col_text(st, 3);
	r.os_version = sq_col_text(st, 4);
	snprintf(r.h.os, sizeof(r.h.os), "%s%s%s", r.os_name ? r.os_name : "",
		 r.os_name && r.os_version ? " " : "", r.os_version ? r.os_version : "");
	copy(r.h.version, sizeof(r.h.version), sq_col_text(st, 5));
	copy(r.h.mode, sizeof(r.h.mode), sq_col_text(st, 6));
	r.h.enrolled = sqlite3_column_int64(st, 7);
	r.h.last_seen = sqlite3_column_int64(st, 8);
	hb = sq_col_int(st, 9);
	r.h.heartbeat_s = hb.set ? hb.v : 0;
	r.h.clone = sqlite3_column_int(st, 10) != 0;
	r.clone_detail = sq_col_text(st, 11);
	return cb->host(cb->arg, &r);
}

int sq_hosts(struct st *s, const char *host, st_host_fn fn, void *arg, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_HOSTS, err);
	struct cb cb = {.host = fn, .arg = arg};

	if (!st)
		return -1;
	sq_text(st, 1, host);
	return each_row(s, st, host_row, &cb, err);
}

static int check_row(sqlite3_stmt *st, void *ctx)
{
	const struct cb *cb = ctx;
	struct st_check_row r = {
		.host = sq_col_text(st, 0),
		.hostname = sq_col_text(st, 1),
		.check_id = sq_col_text(st, 2),
		.status = sq_col_text(st, 3),
		.status_id = sq_col_int(st, 4),
		.severity_id = sq_col_int(st, 5),
		.title = sq_col_text(st, 6),
		.baseline = sq_col_text(st, 7),
		.time = sqlite3_column_int64(st, 8),
	};

	return cb->check(cb->arg, &r);
}

int sq_checks(struct st *s, const char *host, st_check_fn fn, void *arg, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_CHECKS, err);
	struct cb cb = {.check = fn, .arg = arg};

	if (!st)
		return -1;
	sq_text(st, 1, host);
	return each_row(s, st, check_row, &cb, err);
}

static int score_row(sqlite3_stmt *st, void *ctx)
{
	const struct cb *cb = ctx;
	struct st_score_row r = {
		.host = sq_col_text(st, 0),
		.hostname = sq_col_text(st, 1),
		.baseline = sq_col_text(st, 2),
		.baseline_name = sq_col_text(st, 3),
		.baseline_version = sq_col_text(st, 4),
		.time = sqlite3_column_int64(st, 5),
		.passed = sq_col_int(st, 6),
		.failed = sq_col_int(st, 7),
		.not_applicable = sq_col_int(st, 8),
		.errors = sq_col_int(st, 9),
		.skipped = sq_col_int(st, 10),
		.has_score = sqlite3_column_type(st, 11) != SQLITE_NULL,
		.score = sqlite3_column_double(st, 11),
	};

	return cb->score(cb->arg, &r);
}

int sq_scores(struct st *s, const char *host, st_score_fn fn, void *arg, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_SCORES, err);
	struct cb cb = {.score = fn, .arg = arg};

	if (!st)
		return -1;
	sq_text(st, 1, host);
	return each_row(s, st, score_row, &cb, err);
}

static int event_row(sqlite3_stmt *st, void *ctx)
{
	const struct cb *cb = ctx;
	struct st_event_row r = {
		.host = sq_col_text(st, 0),
		.hostname = sq_col_text(st, 1),
		.time = sqlite3_column_int64(st, 2),
		.class_uid = sqlite3_column_int64(st, 3),
		.activity_id = sq_col_int(st, 4),
		.severity_id = sq_col_int(st, 5),
		.pid = sq_col_int(st, 6),
		.path = sq_col_text(st, 7),
		.exe = sq_col_text(st, 8),
		.actor = sq_col_text(st, 9),
		.verdict = sq_col_text(st, 10),
		.detail = sq_col_text(st, 11),
	};

	if (sqlite3_column_type(st, 12) == SQLITE_BLOB) {
		r.mp = sqlite3_column_blob(st, 12);
		r.mp_len = (size_t)sqlite3_column_bytes(st, 12);
	} else {
		r.json = sq_col_text(st, 12);
	}

	return cb->event(cb->arg, &r);
}

int sq_events(struct st *s, const char *host, size_t limit, st_event_fn fn, void *arg,
	      struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, host ? Q_EVENTS_HOST : Q_EVENTS, err);
	struct cb cb = {.event = fn, .arg = arg};

	if (!st)
		return -1;
	if (host)
		sq_text(st, 1, host);
	sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	return each_row(s, st, event_row, &cb, err);
}
