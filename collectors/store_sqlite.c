/*
 * store_sqlite.c: the SQLite backend (st_sqlite_ops): opening, the schema
 * and its migrations, and ingest. Hosts, certificates, tokens and queries
 * are in store_sqlite_q.c; both share store_sqlite.h.
 *
 * Durability: the database is in WAL mode with synchronous=FULL. In WAL
 * mode, synchronous=NORMAL only syncs the log at checkpoints, so a commit
 * survives a crash of the process but may be lost with the power; the
 * collector acks a chunk once st_chunk_commit returns (DESIGN.md, 6), so
 * every commit must reach the disk first: FULL fsyncs the log at each
 * commit. A chunk is one transaction, so that cost is paid per chunk, not
 * per record.
 *
 * Schema: PRAGMA user_version is the schema version, application_id marks
 * the file as a vigil-collector store. Opening migrates an older schema
 * forward, one step per version, in one transaction; a newer one is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_sqlite.h"

#define SQ_APP_ID 0x5647434c		/* "VGCL" */
#define SQ_BUSY_MS 10000
/* Pages of a new store. A chunk of 1000 events writes about 1 MB: SQLite
 * writes each page to the WAL with two pwrite calls and copies it again at
 * the checkpoint with a pread and a pwrite, so 4 KiB pages cost about 800
 * system calls per chunk. 16 KiB pages took the collector from about 112k
 * to 140k records per CPU-second (tests/bench/ingest-bench.sh) and a
 * one-record chunk from 0.26 to 0.30 ms: small chunks are the idle case. */
#define SQ_PAGE_SIZE 16384
#define SQ_STR(x) SQ_STR_(x)
#define SQ_STR_(x) #x

/* migrations[v] takes a store from version v to v + 1. Append; never edit. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE hosts("
	" id INTEGER PRIMARY KEY,"
	" uid TEXT NOT NULL UNIQUE,"		/* the host id: the certificate's subject */
	" hostname TEXT, machine_id TEXT,"
	" os_name TEXT, os_version TEXT, inventory TEXT, inventory_time INTEGER,"
	" sensor_version TEXT, mode TEXT, heartbeat_s INTEGER, heartbeat_time INTEGER,"
	" enrolled INTEGER NOT NULL DEFAULT 0,"	/* unix seconds */
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" clone INTEGER NOT NULL DEFAULT 0, clone_detail TEXT);"
	"CREATE INDEX hosts_hostname ON hosts(hostname);"
	"CREATE TABLE certs("
	" serial TEXT PRIMARY KEY,"
	" host_id INTEGER NOT NULL REFERENCES hosts(id),"
	" not_after INTEGER NOT NULL, issued INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0);"	/* when, 0: not */
	"CREATE INDEX certs_host ON certs(host_id);"
	"CREATE TABLE tokens("
	" id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL,"
	" expires INTEGER NOT NULL, uses_left INTEGER NOT NULL, created INTEGER NOT NULL);"
	/* The dedupe: a chunk is stored once per host. */
	"CREATE TABLE chunks("
	" host_id INTEGER NOT NULL REFERENCES hosts(id), chunk TEXT NOT NULL,"
	" stored_at INTEGER NOT NULL, records INTEGER NOT NULL,"
	" PRIMARY KEY(host_id, chunk)) WITHOUT ROWID;"
	"CREATE TABLE check_latest("
	" host_id INTEGER NOT NULL REFERENCES hosts(id), check_id TEXT NOT NULL,"
	" status TEXT, status_id INTEGER, rank INTEGER NOT NULL, severity_id INTEGER,"
	" title TEXT, control TEXT, baseline TEXT, baseline_version TEXT,"
	" time INTEGER NOT NULL, record TEXT NOT NULL,"	/* ms; the record's JSON */
	" PRIMARY KEY(host_id, check_id));"
	"CREATE INDEX check_latest_rank ON check_latest(rank, severity_id);"
	"CREATE TABLE check_history("
	" id INTEGER PRIMARY KEY,"
	" host_id INTEGER NOT NULL REFERENCES hosts(id), check_id TEXT NOT NULL,"
	" time INTEGER NOT NULL, status TEXT, status_id INTEGER, prev_status TEXT);"
	"CREATE INDEX check_history_host ON check_history(host_id, check_id, time);"
	"CREATE TABLE scores("
	" host_id INTEGER NOT NULL REFERENCES hosts(id), baseline TEXT NOT NULL,"
	" time INTEGER NOT NULL, baseline_name TEXT, baseline_version TEXT,"
	" passed INTEGER, failed INTEGER, not_applicable INTEGER, errors INTEGER,"
	" skipped INTEGER, score REAL,"
	" PRIMARY KEY(host_id, baseline, time)) WITHOUT ROWID;"
	"CREATE TABLE events("
	" id INTEGER PRIMARY KEY,"
	" host_id INTEGER NOT NULL REFERENCES hosts(id), time INTEGER NOT NULL,"
	" class_uid INTEGER NOT NULL, activity_id INTEGER, type_uid INTEGER,"
	" severity_id INTEGER, path TEXT, exe TEXT, pid INTEGER, actor TEXT,"
	" verdict TEXT, detail TEXT, record TEXT NOT NULL);"
	"CREATE INDEX events_time ON events(time);"
	"CREATE INDEX events_host_time ON events(host_id, time);"
	"CREATE TABLE findings("
	" event_id INTEGER PRIMARY KEY REFERENCES events(id),"
	" host_id INTEGER NOT NULL REFERENCES hosts(id), time INTEGER NOT NULL,"
	" kind TEXT NOT NULL, uid TEXT, title TEXT, severity_id INTEGER);"
	"CREATE INDEX findings_host_time ON findings(host_id, time);"
	"CREATE TABLE gaps("
	" id INTEGER PRIMARY KEY,"
	" host_id INTEGER NOT NULL REFERENCES hosts(id), time INTEGER NOT NULL,"
	" records INTEGER, batches INTEGER, first_seq INTEGER, last_seq INTEGER,"
	" since INTEGER, until INTEGER);"
	"CREATE INDEX gaps_host_time ON gaps(host_id, time);",
	/* 1 -> 2: events.record holds the record's msgpack bytes, a BLOB,
	 * from here on (JSON is made when a query prints it; making it at
	 * ingest took a fifth of the collector's CPU). Rows stored before
	 * keep their JSON TEXT; a reader tells them apart by the value's
	 * type. A TEXT column stores a BLOB as it is, so nothing is altered. */
	"-- events.record: BLOB msgpack (new rows) or TEXT JSON (rows of version 1)",
};
#define SQ_SCHEMA ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const sql[SQ_NSTMT] = {
	[Q_HOST_ID] = "SELECT id FROM hosts WHERE uid = ?",
	[Q_CHUNK_GET] = "SELECT 1 FROM chunks WHERE host_id = ? AND chunk = ?",
	[Q_CHUNK_PUT] = "INSERT INTO chunks(host_id, chunk, stored_at, records) VALUES(?,?,?,?)",
	[Q_LAST_SEEN] = "UPDATE hosts SET last_seen = max(last_seen, ?) WHERE id = ?",
	[Q_EVENT] = "INSERT INTO events(host_id, time, class_uid, activity_id, type_uid,"
		    " severity_id, path, exe, pid, actor, verdict, detail, record)"
		    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[Q_FINDING] = "INSERT INTO findings(event_id, host_id, time, kind, uid, title,"
		      " severity_id) VALUES(?,?,?,?,?,?,?)",
	[Q_CHECK_GET] = "SELECT status, status_id, time FROM check_latest"
			" WHERE host_id = ? AND check_id = ?",
	[Q_CHECK_PUT] = "INSERT INTO check_latest(host_id, check_id, status, status_id, rank,"
			" severity_id, title, control, baseline, baseline_version, time, record)"
			" VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(host_id, check_id) DO UPDATE"
			" SET status = excluded.status, status_id = excluded.status_id,"
			" rank = excluded.rank, severity_id = excluded.severity_id,"
			" title = excluded.title, control = excluded.control,"
			" baseline = excluded.baseline,"
			" baseline_version = excluded.baseline_version,"
			" time = excluded.time, record = excluded.record",
	[Q_HISTORY] = "INSERT INTO check_history(host_id, check_id, time, status, status_id,"
		      " prev_status) VALUES(?,?,?,?,?,?)",
	[Q_SCORE] = "INSERT OR REPLACE INTO scores(host_id, baseline, time, baseline_name,"
		    " baseline_version, passed, failed, not_applicable, errors, skipped, score)"
		    " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	[Q_INVENTORY] = "UPDATE hosts SET hostname = coalesce(?1, hostname),"
			" os_name = coalesce(?2, os_name), os_version = coalesce(?3, os_version),"
			" inventory = ?4, inventory_time = ?5"
			" WHERE id = ?6 AND (inventory_time IS NULL OR inventory_time <= ?5)",
	[Q_HEARTBEAT] = "UPDATE hosts SET hostname = coalesce(?1, hostname),"
			" sensor_version = coalesce(?2, sensor_version),"
			" mode = coalesce(?3, mode), heartbeat_s = coalesce(?4, heartbeat_s),"
			" os_name = coalesce(?7, os_name), os_version = coalesce(?8, os_version),"
			" heartbeat_time = ?5"
			" WHERE id = ?6 AND (heartbeat_time IS NULL OR heartbeat_time <= ?5)",
	[Q_GAP] = "INSERT INTO gaps(host_id, time, records, batches, first_seq, last_seq,"
		  " since, until) VALUES(?,?,?,?,?,?,?,?)",
	[Q_ENROLL] = "INSERT INTO hosts(uid, hostname, machine_id, enrolled) VALUES(?1,?2,?3,?4)"
		     " ON CONFLICT(uid) DO UPDATE SET hostname = coalesce(?2, hostname),"
		     " machine_id = coalesce(?3, machine_id), enrolled = ?4",
	[Q_CERT_PUT] = "INSERT INTO certs(serial, host_id, not_after, issued) VALUES(?,?,?,?)",
	[Q_CERT_GET] = "SELECT h.uid, c.not_after, c.revoked FROM certs c"
		       " JOIN hosts h ON h.id = c.host_id WHERE c.serial = ?",
	[Q_CERT_REVOKE] = "UPDATE certs SET revoked = CASE revoked WHEN 0 THEN ?1 ELSE revoked"
			  " END WHERE serial = ?2",
	[Q_HOST_SEEN] = "UPDATE hosts SET last_seen = max(last_seen, ?) WHERE uid = ?",
	[Q_HOST_CLONE] = "UPDATE hosts SET clone = ?, clone_detail = ? WHERE uid = ?",
	[Q_TOKEN_PUT] = "INSERT INTO tokens(id, secret_hash, expires, uses_left, created)"
			" VALUES(?,?,?,?,?)",
	[Q_TOKEN_GET] = "SELECT secret_hash, expires, uses_left FROM tokens WHERE id = ?",
	[Q_TOKEN_USE] = "UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ?",
	[Q_HOSTS] = "SELECT uid, hostname, machine_id, os_name, os_version, sensor_version,"
		    " mode, enrolled, last_seen, heartbeat_s, clone, clone_detail FROM hosts"
		    " WHERE ?1 IS NULL OR uid = ?1 OR hostname = ?1 ORDER BY hostname, uid",
	[Q_CHECKS] = "SELECT h.uid, h.hostname, c.check_id, c.status, c.status_id,"
		     " c.severity_id, c.title, c.baseline, c.time"
		     " FROM check_latest c JOIN hosts h ON h.id = c.host_id"
		     " WHERE ?1 IS NULL OR h.uid = ?1 OR h.hostname = ?1"
		     " ORDER BY c.rank, CASE WHEN c.severity_id BETWEEN 1 AND 6"
		     " THEN c.severity_id ELSE 0 END DESC, h.hostname, h.uid, c.check_id",
	[Q_SCORES] = "SELECT h.uid, h.hostname, s.baseline, s.baseline_name,"
		     " s.baseline_version, s.time, s.passed, s.failed, s.not_applicable,"
		     " s.errors, s.skipped, s.score"
		     " FROM scores s JOIN hosts h ON h.id = s.host_id"
		     " WHERE (?1 IS NULL OR h.uid = ?1 OR h.hostname = ?1)"
		     " AND s.time = (SELECT max(time) FROM scores x"
		     " WHERE x.host_id = s.host_id AND x.baseline = s.baseline)"
		     " ORDER BY h.hostname, h.uid, s.baseline",
	[Q_EVENTS] = "SELECT h.uid, h.hostname, e.time, e.class_uid, e.activity_id,"
		     " e.severity_id, e.pid, e.path, e.exe, e.actor, e.verdict, e.detail, e.record"
		     " FROM events e JOIN hosts h ON h.id = e.host_id"
		     " ORDER BY e.time DESC, e.id DESC LIMIT ?2",
	[Q_EVENTS_HOST] = "SELECT h.uid, h.hostname, e.time, e.class_uid, e.activity_id,"
			  " e.severity_id, e.pid, e.path, e.exe, e.actor, e.verdict, e.detail,"
			  " e.record FROM events e JOIN hosts h ON h.id = e.host_id"
			  " WHERE e.host_id IN (SELECT id FROM hosts WHERE uid = ?1"
			  " OR hostname = ?1) ORDER BY e.time DESC, e.id DESC LIMIT ?2",
};

/* ---- helpers store_sqlite_q.c shares ------------------------------------------ */

int sq_fail(struct st *s, const char *what, struct st_err *err)
{
	struct sq *q = s->be;

	return st_errf(err, "%s: %s: %s", s->where, what, sqlite3_errmsg(q->db));
}

int sq_exec(struct st *s, const char *text, struct st_err *err)
{
	struct sq *q = s->be;
	char *msg = NULL;

	if (sqlite3_exec(q->db, text, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	st_errf(err, "%s: %s", s->where, msg ? msg : sqlite3_errmsg(q->db));
	sqlite3_free(msg);
	return -1;
}

sqlite3_stmt *sq_stmt(struct st *s, enum sq_stmt id, struct st_err *err)
{
	struct sq *q = s->be;

	if (!q->stmt[id] &&
	    sqlite3_prepare_v3(q->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &q->stmt[id],
			       NULL) != SQLITE_OK) {
		sq_fail(s, "prepare", err);
		return NULL;
	}
	return q->stmt[id];
}

void sq_text(sqlite3_stmt *st, int col, const char *v)
{
	if (v)
		sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

void sq_int(sqlite3_stmt *st, int col, struct st_int v)
{
	if (v.set)
		sqlite3_bind_int64(st, col, v.v);
	else
		sqlite3_bind_null(st, col);
}

struct st_int sq_col_int(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (struct st_int){false, 0};
	return (struct st_int){true, sqlite3_column_int64(st, col)};
}

const char *sq_col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* Runs a statement that returns no rows, and resets it. */
int sq_done(struct st *s, sqlite3_stmt *st, const char *what, struct st_err *err)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		sq_fail(s, what, err);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void sq_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int sq_begin(struct st *s, struct st_err *err)
{
	return sq_exec(s, "BEGIN IMMEDIATE", err);
}

int sq_commit(struct st *s, struct st_err *err)
{
	return sq_exec(s, "COMMIT", err);
}

/* After an error, too: an I/O error may have rolled back already. */
void sq_rollback(struct st *s)
{
	struct sq *q = s->be;

	if (!sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

int64_t sq_host_id(struct st *s, const char *host, struct st_err *err)
{
	sqlite3_stmt *st = sq_stmt(s, Q_HOST_ID, err);
	int64_t id = 0;
	int rc;

	if (!st)
		return -1;
	sq_text(st, 1, host);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		id = sq_fail(s, "host lookup", err);
	sq_reset(st);
	return id;
}

/* ---- opening -------------------------------------------------------------------- */

static int pragma_int(struct st *s, const char *text, int64_t *out, struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(q->db, text, -1, &st, NULL) != SQLITE_OK)
		return sq_fail(s, "reading the schema", err);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		sq_fail(s, "reading the schema", err);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Reads what the file is; refuses what is not ours or is newer. *fresh: an
 * empty database, ours to create. */
static int identify(struct st *s, int64_t *version, bool *fresh, struct st_err *err)
{
	int64_t app, objects;

	if (pragma_int(s, "PRAGMA application_id", &app, err) ||
	    pragma_int(s, "PRAGMA user_version", version, err) ||
	    pragma_int(s, "SELECT count(*) FROM sqlite_schema", &objects, err))
		return -1;
	*fresh = app == 0 && *version == 0 && objects == 0;
	if (!*fresh && app != SQ_APP_ID)
		return st_errf(err, "%s: an SQLite database, but not a vigil-collector store "
			       "(application_id %#llx)", s->where, (unsigned long long)app);
	if (*version > SQ_SCHEMA)
		return st_errf(err, "%s: store schema version %lld is newer than this "
			       "vigil-collector knows (%d); run a newer vigil-collector",
			       s->where, (long long)*version, SQ_SCHEMA);
	return 0;
}

static int migrate(struct st *s, int64_t from, struct st_err *err)
{
	char text[96];

	if (sq_begin(s, err))
		return -1;
	for (int64_t v = from; v < SQ_SCHEMA; v++) {
		if (sq_exec(s, migrations[v], err)) {
			sq_rollback(s);
			return -1;
		}
	}
	snprintf(text, sizeof(text), "PRAGMA user_version = %d; PRAGMA application_id = %d",
		 SQ_SCHEMA, SQ_APP_ID);
	if (sq_exec(s, text, err) || sq_commit(s, err)) {
		sq_rollback(s);
		return -1;
	}
	return 0;
}

/* The store holds token hashes and every host's records: the collector's
 * own user only. */
static int create_private(struct st *s, const char *file, unsigned flags, struct st_err *err)
{
	int fd;

	if (access(file, F_OK) == 0)
		return 0;
	if (flags & (ST_OPEN_EXISTING | ST_OPEN_READONLY))
		return st_errf(err, "%s: no store here (%s)", file, strerror(errno));
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return st_errf(err, "%s: %s", file, strerror(errno));
	close(fd);
	return 0;
}

static int setup(struct st *s, unsigned flags, bool memory, struct st_err *err)
{
	struct sq *q = s->be;
	int64_t version;
	bool fresh;
	char mode[16] = "";
	sqlite3_stmt *st;

	sqlite3_busy_timeout(q->db, SQ_BUSY_MS);
	if (identify(s, &version, &fresh, err))
		return -1;
	if (flags & ST_OPEN_READONLY) {
		if (version < SQ_SCHEMA)
			return st_errf(err, "%s: store schema version %lld is older than this "
				       "vigil-collector's (%d): start the collector once to "
				       "migrate it", s->where, (long long)version, SQ_SCHEMA);
		return sq_exec(s, "PRAGMA query_only = ON", err);
	}
	/* Why this page size: see SQ_PAGE_SIZE. It takes only before the
	 * first table is made; a store keeps the size it was made with. */
	if (fresh && sq_exec(s, "PRAGMA page_size = " SQ_STR(SQ_PAGE_SIZE), err))
		return -1;
	if (sqlite3_prepare_v2(q->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(s, "journal mode", err);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (strcmp(mode, memory ? "memory" : "wal"))
		return st_errf(err, "%s: cannot use WAL mode (journal mode is '%s')", s->where,
			       mode);
	/* Why FULL: see the top of this file. */
	if (sq_exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", err))
		return -1;
	if (version < SQ_SCHEMA && migrate(s, version, err))
		return -1;
	return 0;
}

static void sq_close(struct st *s)
{
	struct sq *q = s->be;

	if (!q)
		return;
	for (int i = 0; i < SQ_NSTMT; i++)
		sqlite3_finalize(q->stmt[i]);
	sqlite3_close(q->db);
	free(q);
	s->be = NULL;
}

static int sq_open(struct st *s, const char *where, unsigned flags, struct st_err *err)
{
	bool memory = !strcmp(where, ":memory:");
	int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	struct sq *q;

	if (!memory && create_private(s, where, flags, err))
		return -1;
	oflags |= flags & ST_OPEN_READONLY ? SQLITE_OPEN_READONLY
					   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	q = calloc(1, sizeof(*q));
	if (!q)
		return st_errf(err, "out of memory");
	s->be = q;
	if (sqlite3_open_v2(where, &q->db, oflags, NULL) != SQLITE_OK) {
		if (q->db)
			sq_fail(s, "cannot open", err);
		else
			st_errf(err, "%s: cannot open: out of memory", where);
		sq_close(s);
		return -1;
	}
	sqlite3_extended_result_codes(q->db, 1);
	if (setup(s, flags, memory, err)) {
		sq_close(s);
		return -1;
	}
	return 0;
}

/* ---- ingest ---------------------------------------------------------------------- */

static int sq_chunk_begin(struct st *s, const char *host, const char *chunk, bool *seen,
			  struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st;
	int rc;

	if (sq_begin(s, err))
		return -1;
	q->host = sq_host_id(s, host, err);
	if (q->host <= 0) {
		sq_rollback(s);
		if (q->host < 0)
			return -1;
		st_errf(err, "host %s is not enrolled in %s", host, s->where);
		return ST_REFUSED;
	}
	if (!(st = sq_stmt(s, Q_CHUNK_GET, err))) {
		sq_rollback(s);
		return -1;
	}
	sqlite3_bind_int64(st, 1, q->host);
	sq_text(st, 2, chunk);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		sq_fail(s, "chunk lookup", err);
	sq_reset(st);
	if (rc != SQLITE_DONE)
		sq_rollback(s);
	*seen = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	snprintf(q->chunk, sizeof(q->chunk), "%s", chunk);
	return 0;
}

static int sq_put_event(struct st *s, const struct st_rec *r, struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st = sq_stmt(s, Q_EVENT, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, q->host);
	sqlite3_bind_int64(st, 2, r->time);
	sqlite3_bind_int64(st, 3, r->class_uid);
	sq_int(st, 4, r->activity_id);
	sq_int(st, 5, r->type_uid);
	sq_int(st, 6, r->severity_id);
	sq_text(st, 7, r->path);
	sq_text(st, 8, r->exe);
	sq_int(st, 9, r->pid);
	sq_text(st, 10, r->actor);
	sq_text(st, 11, r->verdict);
	sq_text(st, 12, r->detail);
	sqlite3_bind_blob(st, 13, r->mp, (int)r->mp_len, SQLITE_STATIC);
	if (sq_done(s, st, "storing an event", err))
		return -1;
	if (!r->finding)
		return 0;
	if (!(st = sq_stmt(s, Q_FINDING, err)))
		return -1;
	sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(q->db));
	sqlite3_bind_int64(st, 2, q->host);
	sqlite3_bind_int64(st, 3, r->time);
	sq_text(st, 4, r->finding);
	sq_text(st, 5, r->finding_uid);
	sq_text(st, 6, r->title);
	sq_int(st, 7, r->severity_id);
	return sq_done(s, st, "storing a finding", err);
}

static bool same_text(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* The latest result per check, and a history row when the status moved. */
static int sq_put_check(struct st *s, const struct st_rec *r, struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st = sq_stmt(s, Q_CHECK_GET, err);
	char prev[ST_TEXT_MAX + 1] = "";
	struct st_int prev_id = {false, 0};
	bool found, prev_null = true, changed;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, q->host);
	sq_text(st, 2, r->check_id);
	rc = sqlite3_step(st);
	found = rc == SQLITE_ROW;
	if (found) {
		if (sqlite3_column_int64(st, 2) > r->time) {
			sq_reset(st);
			return 0;	/* a retry of an older run: the newer stands */
		}
		prev_null = sqlite3_column_type(st, 0) == SQLITE_NULL;
		if (!prev_null)
			snprintf(prev, sizeof(prev), "%s", sq_col_text(st, 0));
		prev_id = sq_col_int(st, 1);
	} else if (rc != SQLITE_DONE) {
		sq_fail(s, "reading a check", err);
	}
	sq_reset(st);
	if (!found && rc != SQLITE_DONE)
		return -1;
	changed = !found || !same_text(prev_null ? NULL : prev, r->status) ||
		  prev_id.set != r->status_id.set || prev_id.v != r->status_id.v;
	if (changed) {
		if (!(st = sq_stmt(s, Q_HISTORY, err)))
			return -1;
		sqlite3_bind_int64(st, 1, q->host);
		sq_text(st, 2, r->check_id);
		sqlite3_bind_int64(st, 3, r->time);
		sq_text(st, 4, r->status);
		sq_int(st, 5, r->status_id);
		sq_text(st, 6, found && !prev_null ? prev : NULL);
		if (sq_done(s, st, "storing check history", err))
			return -1;
	}
	if (!(st = sq_stmt(s, Q_CHECK_PUT, err)))
		return -1;
	sqlite3_bind_int64(st, 1, q->host);
	sq_text(st, 2, r->check_id);
	sq_text(st, 3, r->status);
	sq_int(st, 4, r->status_id);
	sqlite3_bind_int(st, 5, r->rank);
	sq_int(st, 6, r->severity_id);
	sq_text(st, 7, r->title);
	sq_text(st, 8, r->control);
	sq_text(st, 9, r->baseline);
	sq_text(st, 10, r->baseline_version);
	sqlite3_bind_int64(st, 11, r->time);
	sqlite3_bind_text(st, 12, r->json, (int)r->json_len, SQLITE_STATIC);
	return sq_done(s, st, "storing a check", err);
}

static int sq_put_score(struct st *s, const struct st_rec *r, struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st = sq_stmt(s, Q_SCORE, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, q->host);
	sq_text(st, 2, r->baseline);
	sqlite3_bind_int64(st, 3, r->time);
	sq_text(st, 4, r->baseline_name);
	sq_text(st, 5, r->baseline_version);
	sq_int(st, 6, r->passed);
	sq_int(st, 7, r->failed);
	sq_int(st, 8, r->not_applicable);
	sq_int(st, 9, r->errors);
	sq_int(st, 10, r->skipped);
	if (r->has_score)
		sqlite3_bind_double(st, 11, r->score);
	return sq_done(s, st, "storing a score", err);
}

static int sq_put_inventory(struct st *s, const struct st_rec *r, struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st = sq_stmt(s, Q_INVENTORY, err);

	if (!st)
		return -1;
	sq_text(st, 1, r->hostname);
	sq_text(st, 2, r->os_name);
	sq_text(st, 3, r->os_version);
	sqlite3_bind_text(st, 4, r->json, (int)r->json_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->time);
	sqlite3_bind_int64(st, 6, q->host);
	return sq_done(s, st, "storing inventory", err);
}

static int sq_put_heartbeat(struct st *s, const struct st_rec *r, struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st = sq_stmt(s, Q_HEARTBEAT, err);

	if (!st)
		return -1;
	sq_text(st, 1, r->hostname);
	sq_text(st, 2, r->sensor_version);
	sq_text(st, 3, r->mode);
	sq_int(st, 4, r->interval_s);
	sqlite3_bind_int64(st, 5, r->time);
	sqlite3_bind_int64(st, 6, q->host);
	sq_text(st, 7, r->os_name);
	sq_text(st, 8, r->os_version);
	return sq_done(s, st, "storing a heartbeat", err);
}

static int sq_put_gap(struct st *s, const struct st_rec *r, struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st = sq_stmt(s, Q_GAP, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, q->host);
	sqlite3_bind_int64(st, 2, r->time);
	sq_int(st, 3, r->gap_records);
	sq_int(st, 4, r->gap_batches);
	sq_int(st, 5, r->first_seq);
	sq_int(st, 6, r->last_seq);
	sq_int(st, 7, r->since);
	sq_int(st, 8, r->until);
	return sq_done(s, st, "storing a gap", err);
}

static int sq_chunk_commit(struct st *s, uint32_t records, int64_t now, struct st_err *err)
{
	struct sq *q = s->be;
	sqlite3_stmt *st = sq_stmt(s, Q_CHUNK_PUT, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, q->host);
	sq_text(st, 2, q->chunk);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, records);
	if (sq_done(s, st, "storing the chunk id", err))
		return -1;
	if (!(st = sq_stmt(s, Q_LAST_SEEN, err)))
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, q->host);
	if (sq_done(s, st, "updating last seen", err))
		return -1;
	return sq_commit(s, err);
}

static void sq_chunk_abort(struct st *s)
{
	sq_rollback(s);
}

const struct st_ops st_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.chunk_begin = sq_chunk_begin,
	.put_event = sq_put_event,
	.put_check = sq_put_check,
	.put_score = sq_put_score,
	.put_inventory = sq_put_inventory,
	.put_heartbeat = sq_put_heartbeat,
	.put_gap = sq_put_gap,
	.chunk_commit = sq_chunk_commit,
	.chunk_abort = sq_chunk_abort,
	.host_enroll = sq_host_enroll,
	.cert_get = sq_cert_get,
	.cert_revoke = sq_cert_revoke,
	.host_seen = sq_host_seen,
	.host_clone = sq_host_clone,
	.token_add = sq_token_add,
	.token_spend = sq_token_spend,
	.hosts = sq_hosts,
	.checks = sq_checks,
	.scores = sq_scores,
	.events = sq_events,
};
