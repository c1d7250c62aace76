/*
 * store.c: what every backend shares. Picks the backend from the spec,
 * checks every argument before a backend sees it, keeps the chunk's state
 * (so a failed record aborts the chunk whatever the caller does next), and
 * decides the policies: which certificate is good, which token may be
 * spent, how a check's status ranks. Records become struct st_rec in
 * store_rec.c; output is store_print.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "store_int.h"

int st_rec_parse(struct st *s, const msgpack_object *rec, const void *raw, size_t raw_len,
		 struct st_err *err);

int st_errf(struct st_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The same message, as a refusal. */
#define refuse(err, ...) (st_errf((err), __VA_ARGS__), ST_REFUSED)

/* ---- opening ------------------------------------------------------------------ */

static const struct {
	const char *scheme;
	const struct st_ops *ops;
} backends[] = {
	{"sqlite", &st_sqlite_ops},
};

/* "name:rest" for a known backend, or a directory holding vigil.db. */
static int resolve(const char *spec, const struct st_ops **ops, char **where,
		   struct st_err *err)
{
	struct stat sb;

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		size_t n = strlen(backends[i].scheme);

		if (!strncmp(spec, backends[i].scheme, n) && spec[n] == ':') {
			if (!spec[n + 1])
				return st_errf(err, "%s: nothing after '%s:'", spec,
					       backends[i].scheme);
			*ops = backends[i].ops;
			*where = strdup(spec + n + 1);
			return *where ? 0 : st_errf(err, "out of memory");
		}
	}
	if (!strncmp(spec, "postgres:", 9) || !strncmp(spec, "postgresql:", 11))
		return st_errf(err, "%s: this collector was built without the PostgreSQL store",
			       spec);
	if (stat(spec, &sb) < 0)
		return st_errf(err, "%s: %s (a store is a directory, or sqlite:FILE)", spec,
			       strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return st_errf(err, "%s: not a directory (a store is a directory, or sqlite:FILE)",
			       spec);
	*ops = &st_sqlite_ops;
	if (asprintf(where, "%s/vigil.db", spec) < 0)
		return st_errf(err, "out of memory");
	return 0;
}

int st_open_flags(struct st **out, const char *spec, unsigned flags, struct st_err *err)
{
	const struct st_ops *ops;
	struct st *s;
	char *where;
	int rc;

	*out = NULL;
	if (!spec || !*spec)
		return st_errf(err, "no store given");
	if (resolve(spec, &ops, &where, err))
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(where);
		return st_errf(err, "out of memory");
	}
	s->ops = ops;
	s->where = where;
	rc = ops->open(s, where, flags, err);
	if (rc) {
		free(s->where);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int st_open(struct st **out, const char *spec, struct st_err *err)
{
	return st_open_flags(out, spec, 0, err);
}

void st_close(struct st *s)
{
	if (!s)
		return;
	st_chunk_abort(s);
	s->ops->close(s);
	msgpack_sbuffer_destroy(&s->mp);
	mpj_buf_free(&s->json);
	free(s->where);
	free(s);
}

/* ---- arguments ---------------------------------------------------------------- */

/* Ids are printable ASCII without spaces: they go into logs and messages. */
static int check_id(const char *what, const char *v, size_t max, struct st_err *err)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0)
		return refuse(err, "%s is empty", what);
	if (n > max)
		return refuse(err, "%s is %zu bytes, more than %zu", what, n, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return refuse(err, "%s has a byte 0x%02x at %zu", what, (unsigned char)v[i],
				      i);
	return 0;
}

static int check_hex(const char *what, const char *v, size_t min, size_t max,
		     struct st_err *err)
{
	size_t n = v ? strlen(v) : 0;

	if (n < min || n > max)
		return refuse(err, "%s must be %zu to %zu hex digits, not %zu", what, min, max, n);
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)v[i]))
			return refuse(err, "%s is not hex", what);
	return 0;
}

static void lower_hex(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = 0;
}

/* Every call but ingest runs its own transaction: not inside a chunk's. */
static int idle(struct st *s, struct st_err *err)
{
	if (s->state == ST_OPEN)
		return st_errf(err, "%s: a chunk is open on this handle", s->where);
	return 0;
}

/* ---- ingest ------------------------------------------------------------------- */

int st_chunk_begin(struct st *s, const char *host_id, const char *chunk, bool *seen,
		   struct st_err *err)
{
	int rc;

	*seen = false;
	if (s->state == ST_OPEN)
		return st_errf(err, "%s: chunk begun while another is open", s->where);
	s->state = ST_IDLE;
	if ((rc = check_id("host id", host_id, ST_HOST_MAX, err)) ||
	    (rc = check_id("chunk id", chunk, ST_CHUNK_MAX, err)))
		return rc;
	rc = s->ops->chunk_begin(s, host_id, chunk, seen, err);
	if (rc)
		return rc;
	snprintf(s->host, sizeof(s->host), "%s", host_id);
	s->records = 0;
	s->failed[0] = 0;
	s->state = *seen ? ST_SEEN : ST_OPEN;
	return 0;
}

static int put(struct st *s, const struct st_rec *r, struct st_err *err)
{
	switch (r->kind) {
	case ST_EVENT: return s->ops->put_event(s, r, err);
	case ST_CHECK: return s->ops->put_check(s, r, err);
	case ST_SCORE: return s->ops->put_score(s, r, err);
	case ST_INVENTORY: return s->ops->put_inventory(s, r, err);
	case ST_HEARTBEAT: return s->ops->put_heartbeat(s, r, err);
	case ST_GAP: return s->ops->put_gap(s, r, err);
	}
	return st_errf(err, "record kind %d has no table", (int)r->kind);
}

int st_record(struct st *s, const char *tag, uint64_t time_ns, const msgpack_object *rec,
	      struct st_err *err)
{
	return st_record_raw(s, tag, time_ns, rec, NULL, 0, err);
}

int st_record_raw(struct st *s, const char *tag, uint64_t time_ns, const msgpack_object *rec,
		  const void *raw, size_t raw_len, struct st_err *err)
{
	struct st_err local;
	int rc;

	if (!err)
		err = &local;
	(void)tag;			/* the record's class says more */
	(void)time_ns;			/* the record's own time is the one kept */
	if (s->state == ST_SEEN)
		return 0;		/* stored before: this copy is dropped */
	if (s->state == ST_FAILED)
		return st_errf(err, "chunk was aborted: %s", s->failed);
	if (s->state != ST_OPEN)
		return st_errf(err, "%s: record outside a chunk", s->where);
	if (s->records == UINT32_MAX)
		rc = refuse(err, "chunk has too many records");
	else if (!(rc = st_rec_parse(s, rec, raw, raw_len, err)))
		rc = put(s, &s->rec, err);
	if (rc) {
		snprintf(s->failed, sizeof(s->failed), "record %u: %.*s", s->records,
			 (int)sizeof(s->failed) - 20, err->msg);
		memcpy(err->msg, s->failed, sizeof(err->msg));
		s->ops->chunk_abort(s);
		s->state = ST_FAILED;
		return rc;
	}
	s->records++;
	return 0;
}

int st_chunk_commit(struct st *s, struct st_err *err)
{
	enum st_chunk_state was = s->state;
	int rc;

	s->state = ST_IDLE;
	switch (was) {
	case ST_SEEN:
		return 0;
	case ST_FAILED:
		return st_errf(err, "chunk was aborted: %s", s->failed);
	case ST_IDLE:
		return st_errf(err, "%s: commit outside a chunk", s->where);
	case ST_OPEN:
		break;
	}
	rc = s->ops->chunk_commit(s, s->records, (int64_t)time(NULL), err);
	if (rc)
		s->ops->chunk_abort(s);
	return rc;
}

void st_chunk_abort(struct st *s)
{
	if (s->state == ST_OPEN)
		s->ops->chunk_abort(s);
	s->state = ST_IDLE;
}

/* ---- hosts and certificates ----------------------------------------------------- */

int st_host_enroll(struct st *s, const char *host_id, const char *hostname,
		   const char *machine_id, const char *serial, int64_t not_after,
		   struct st_err *err)
{
	int rc;

	if ((rc = idle(s, err)) || (rc = check_id("host id", host_id, ST_HOST_MAX, err)) ||
	    (rc = check_id("serial", serial, 128, err)))
		return rc;
	if (hostname && strlen(hostname) > 255)
		return refuse(err, "hostname is longer than 255 bytes");
	if (machine_id && *machine_id && (rc = check_id("machine id", machine_id, 64, err)))
		return rc;
	return s->ops->host_enroll(s, host_id, hostname, machine_id, serial, not_after,
				   (int64_t)time(NULL), err);
}

int st_cert_verdict(const struct st_cert_row *r, const char *serial, const char *host,
		    int64_t now, struct st_err *err)
{
	if (!r->found)
		return refuse(err, "certificate %s is unknown to this collector", serial);
	if (strcmp(r->host, host))
		return refuse(err, "certificate %s was issued to host %s, not %s", serial, r->host,
			      host);
	if (r->revoked)
		return refuse(err, "certificate %s of host %s is revoked", serial, host);
	if (r->not_after && now > r->not_after)
		return refuse(err, "certificate %s of host %s expired", serial, host);
	return 0;
}

int st_cert_check(struct st *s, const char *serial, const char *host_id, struct st_err *err)
{
	struct st_cert_row r = {0};
	int rc;

	if ((rc = idle(s, err)) || (rc = check_id("serial", serial, 128, err)) ||
	    (rc = check_id("host id", host_id, ST_HOST_MAX, err)))
		return rc;
	if ((rc = s->ops->cert_get(s, serial, &r, err)))
		return rc;
	return st_cert_verdict(&r, serial, host_id, (int64_t)time(NULL), err);
}

int st_cert_revoke(struct st *s, const char *serial, struct st_err *err)
{
	int rc;

	if ((rc = idle(s, err)) || (rc = check_id("serial", serial, 128, err)))
		return rc;
	return s->ops->cert_revoke(s, serial, (int64_t)time(NULL), err);
}

int st_host_seen(struct st *s, const char *host_id, int64_t when, struct st_err *err)
{
	int rc;

	if ((rc = idle(s, err)) || (rc = check_id("host id", host_id, ST_HOST_MAX, err)))
		return rc;
	return s->ops->host_seen(s, host_id, when, err);
}

int st_host_clone(struct st *s, const char *host_id, const char *detail, struct st_err *err)
{
	char cut[ST_TEXT_MAX + 1];
	int rc;

	if ((rc = idle(s, err)) || (rc = check_id("host id", host_id, ST_HOST_MAX, err)))
		return rc;
	if (detail) {
		snprintf(cut, sizeof(cut), "%s", detail);
		detail = cut;
	}
	return s->ops->host_clone(s, host_id, detail, err);
}

/* ---- tokens ----------------------------------------------------------------------- */

int st_token_add(struct st *s, const char *id, const char *secret_hash, int64_t expires,
		 int uses, struct st_err *err)
{
	char lid[65], lhash[65];
	int rc;

	if ((rc = idle(s, err)) || (rc = check_hex("token id", id, 1, 64, err)) ||
	    (rc = check_hex("token secret hash", secret_hash, 64, 64, err)))
		return rc;
	if (uses < 1)
		return refuse(err, "token uses must be at least 1, not %d", uses);
	lower_hex(lid, id, sizeof(lid));
	lower_hex(lhash, secret_hash, sizeof(lhash));
	return s->ops->token_add(s, lid, lhash, expires, uses, (int64_t)time(NULL), err);
}

struct spend {
	const char *id, *hash;
	int64_t now;
};

/* The one place that says which token may be spent. */
static int token_verdict(const struct st_token_row *r, void *arg, struct st_err *err)
{
	const struct spend *sp = arg;

	if (!r->found)
		return refuse(err, "token %s is unknown", sp->id);
	/* Compared in constant time: how far a guess matched stays unsaid. */
	if (strlen(r->secret_hash) != 64 || CRYPTO_memcmp(r->secret_hash, sp->hash, 64))
		return refuse(err, "token %s: wrong secret", sp->id);
	if (sp->now >= r->expires)
		return refuse(err, "token %s expired", sp->id);
	if (r->uses_left < 1)
		return refuse(err, "token %s is used up", sp->id);
	return 0;
}

int st_token_spend(struct st *s, const char *id, const char *secret_hash, int64_t now,
		   struct st_err *err)
{
	char lid[65], lhash[65];
	struct spend sp = {lid, lhash, now};
	int rc;

	if ((rc = idle(s, err)) || (rc = check_hex("token id", id, 1, 64, err)) ||
	    (rc = check_hex("token secret hash", secret_hash, 64, 64, err)))
		return rc;
	lower_hex(lid, id, sizeof(lid));
	lower_hex(lhash, secret_hash, sizeof(lhash));
	return s->ops->token_spend(s, lid, token_verdict, &sp, err);
}

/* ---- checks ------------------------------------------------------------------------ */

/* OCSF compliance.status_id: 1 Pass, 2 Warning, 3 Fail, 0 Unknown, 99 Other.
 * Failures sort first, passes last; "Other" goes by its status text. */
int st_status_rank(const struct st_int *status_id, const char *status)
{
	if (status_id->set && status_id->v >= 1 && status_id->v <= 3)
		return status_id->v == 3 ? 0 : status_id->v == 2 ? 1 : 3;
	if (status && !strcasecmp(status, "fail"))
		return 0;
	if (status && (!strcasecmp(status, "error") || !strcasecmp(status, "warning")))
		return 1;
	if (status && !strcasecmp(status, "pass"))
		return 3;
	return 2;
}
