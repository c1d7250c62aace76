/*
 * store_print.c: st_print_hosts, st_print_checks, st_print_events, for any
 * backend (rows come through the query ops).
 *
 * text: aligned columns under a header, for a terminal. Every cell is made
 * safe to print first (control characters, C1 included, become '?': a
 * hostname or path from a host must not drive the terminal); long cells
 * are cut with "..." except in the last column. Times are UTC.
 * json: one JSON array, written as rows arrive (docs/collector-store.md has the
 * fields). Missing values are null.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forward.h"
#include "store_int.h"

#define JSON_MAX ((size_t)1 << 30)
#define EVENTS_DEFAULT 100

/* ---- names ------------------------------------------------------------------- */

static const char *severity_name(struct st_int v)
{
	static const char *const names[] = {"unknown", "info", "low", "medium", "high",
					    "critical", "fatal"};

	if (!v.set)
		return "-";
	if (v.v >= 0 && v.v <= 6)
		return names[v.v];
	return "other";
}

static const char *class_name(int64_t c)
{
	switch (c) {
	case 0: return "vigil";
	case 1001: return "file";
	case 1007: return "process";
	case 2003: return "compliance";
	case 2004: return "detection";
	case 5001: return "inventory";
	case 5002: return "config";
	default: return NULL;
	}
}

static const char *activity_name(int64_t c, struct st_int a)
{
	static const char *const file[] = {"unknown", "create", "read", "update", "delete",
					   "rename", "set-attr", "set-security", "get-attr",
					   "get-security", "encrypt", "decrypt", "mount",
					   "unmount", "open"};
	static const char *const proc[] = {"unknown", "launch", "terminate", "open", "inject",
					   "set-uid"};
	static const char *const finding[] = {"unknown", "create", "update", "close"};

	if (!a.set)
		return NULL;
	if (c == 1001 && a.v >= 0 && a.v < 15)
		return file[a.v];
	if (c == 1007 && a.v >= 0 && a.v < 6)
		return proc[a.v];
	if (c == 2004 && a.v >= 0 && a.v < 4)
		return finding[a.v];
	return NULL;
}

static void fmt_time(char *out, size_t n, int64_t secs)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (secs <= 0 || !gmtime_r(&t, &tm))
		snprintf(out, n, "-");
	else
		strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void fmt_age(char *out, size_t n, int64_t last, int64_t now)
{
	int64_t d = now - last;

	if (last <= 0)
		snprintf(out, n, "never");
	else if (d < 120)
		snprintf(out, n, "%" PRId64 "s ago", d < 0 ? 0 : d);
	else if (d < 7200)
		snprintf(out, n, "%" PRId64 "m ago", d / 60);
	else if (d < 172800)
		snprintf(out, n, "%" PRId64 "h ago", d / 3600);
	else
		snprintf(out, n, "%" PRId64 "d ago", d / 86400);
}

static const char *status_of(const struct st_host *h, const struct st_query *q)
{
	int64_t every = h->heartbeat_s > 0 ? h->heartbeat_s : ST_HEARTBEAT_DEFAULT;
	int64_t missed = q->missed > 0 ? q->missed : ST_MISSED_DEFAULT;

	if (h->last_seen <= 0 || q->now - h->last_seen > missed * every)
		return "not reporting";
	return "reporting";
}

/* ---- text tables ----------------------------------------------------------------- */

struct tbl {
	size_t ncol, nrow, cap;
	char **cell;			/* nrow * ncol, owned */
	bool nomem;
};

/* A copy safe for a terminal: C0, DEL and C1 controls become '?'. */
static char *term_safe(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			out[o++] = '?';
		else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
			 (unsigned char)s[i + 1] <= 0x9f)
			out[o++] = '?', i++;
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
	return out;
}

static void tbl_add(struct tbl *t, const char *const *cells)
{
	char **cell;

	if (t->nomem)
		return;
	if (t->nrow == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;

		cell = realloc(t->cell, cap * t->ncol * sizeof(*cell));
		if (!cell) {
			t->nomem = true;
			return;
		}
		t->cell = cell;
		t->cap = cap;
	}
	cell = t->cell + t->nrow * t->ncol;
	for (size_t c = 0; c < t->ncol; c++) {
		cell[c] = term_safe(cells[c] && *cells[c] ? cells[c] : "-");
		if (!cell[c]) {
			while (c--)
				free(cell[c]);
			t->nomem = true;
			return;
		}
	}
	t->nrow++;
}

static void tbl_free(struct tbl *t)
{
	for (size_t i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
}

/* Characters, not bytes: a UTF-8 continuation byte adds none. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Prints s in w columns; cut to max with "..." (max 0: never cut). */
static void cell_print(FILE *out, const char *s, size_t w, size_t max, bool last)
{
	size_t sw = width(s), i = 0, k = 0;

	if (max && sw > max) {
		while (s[i] && k < max - 3) {
			for (i++; ((unsigned char)s[i] & 0xc0) == 0x80; i++)
				;
			k++;
		}
		fprintf(out, "%.*s...", (int)i, s);
		sw = max;
	} else {
		fputs(s, out);
	}
	if (!last)
		fprintf(out, "%*s", (int)(w - sw + 2), "");
}

static int tbl_print(const struct tbl *t, FILE *out, const char *const *head,
		     const size_t *max, struct st_err *err)
{
	size_t w[16] = {0};

	if (t->nomem)
		return st_errf(err, "out of memory");
	for (size_t c = 0; c < t->ncol && c < 16; c++) {
		w[c] = width(head[c]);
		for (size_t r = 0; r < t->nrow; r++) {
			size_t cw = width(t->cell[r * t->ncol + c]);

			if (max[c] && cw > max[c])
				cw = max[c];
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (size_t c = 0; c < t->ncol; c++)
		cell_print(out, head[c], w[c], 0, c + 1 == t->ncol);
	fputc('\n', out);
	for (size_t r = 0; r < t->nrow; r++) {
		for (size_t c = 0; c < t->ncol; c++)
			cell_print(out, t->cell[r * t->ncol + c], w[c], max[c], c + 1 == t->ncol);
		fputc('\n', out);
	}
	return ferror(out) ? st_errf(err, "writing the output failed") : 0;
}

/* ---- JSON ------------------------------------------------------------------------ */

struct json {
	struct mpj_buf b;
	FILE *out;
	size_t n;			/* elements written */
	int rc;				/* first error */
};

static void j_raw(struct json *j, const char *s)
{
	if (!j->rc)
		j->rc = mpj_append_raw(&j->b, s, strlen(s), JSON_MAX);
}

static void j_key(struct json *j, const char *key, bool first)
{
	if (!first)
		j_raw(j, ",");
	if (!j->rc)
		j->rc = mpj_append_str(&j->b, key, strlen(key), JSON_MAX);
	j_raw(j, ":");
}

static void j_str_at(struct json *j, const char *key, const char *v, bool first)
{
	j_key(j, key, first);
	if (!v)
		j_raw(j, "null");
	else if (!j->rc)
		j->rc = mpj_append_str(&j->b, v, strlen(v), JSON_MAX);
}

static void j_str(struct json *j, const char *key, const char *v)
{
	j_str_at(j, key, v, false);
}

static void j_int(struct json *j, const char *key, struct st_int v)
{
	j_key(j, key, false);
	if (!v.set)
		j_raw(j, "null");
	else if (!j->rc)
		j->rc = mpj_append_i64(&j->b, v.v, JSON_MAX);
}

static void j_i64(struct json *j, const char *key, int64_t v)
{
	j_int(j, key, (struct st_int){true, v});
}

static void j_double(struct json *j, const char *key, bool set, double v)
{
	j_key(j, key, false);
	if (!set)
		j_raw(j, "null");
	else if (!j->rc)
		j->rc = mpj_append_double(&j->b, v, JSON_MAX);
}

/* Opens one element of the top array, and its first member. */
static void j_open(struct json *j, const char *key, const char *v)
{
	j_raw(j, j->n++ ? ",\n{" : "{");
	j_str_at(j, key, v, true);
}

/* Writes what is buffered; the array stays open. 1 (stop) after an error. */
static int j_flush(struct json *j)
{
	if (!j->rc && j->b.len && fwrite(j->b.p, 1, j->b.len, j->out) != j->b.len)
		j->rc = MPJ_NOMEM;
	j->b.len = 0;
	return j->rc ? 1 : 0;
}

/* Closes the array. qrc: what the query returned (1: a callback stopped it). */
static int j_end(struct json *j, int qrc, struct st_err *err)
{
	int rc;

	j_flush(j);
	rc = j->rc;
	mpj_buf_free(&j->b);
	if (rc)
		return st_errf(err, "JSON output: %s", mpj_strerror(rc));
	if (qrc)
		return qrc;
	fputs(j->n ? "\n]\n" : "]\n", j->out);
	return ferror(j->out) ? st_errf(err, "writing the output failed") : 0;
}

/* ---- hosts ------------------------------------------------------------------------ */

struct hosts_ctx {
	const struct st_query *q;
	struct tbl t;
	struct json j;
};

static int host_text(void *arg, const struct st_host_row *r)
{
	struct hosts_ctx *c = arg;
	const struct st_host *h = &r->h;
	char seen[32];

	fmt_age(seen, sizeof(seen), h->last_seen, c->q->now);
	tbl_add(&c->t, (const char *const[]){h->hostname, h->id, h->os, h->version, h->mode,
					      seen, status_of(h, c->q),
					      h->clone ? "yes" : "no"});
	return 0;
}

static int host_json(void *arg, const struct st_host_row *r)
{
	struct hosts_ctx *c = arg;
	const struct st_host *h = &r->h;
	struct json *j = &c->j;

	j_open(j, "id", h->id);
	j_str(j, "hostname", *h->hostname ? h->hostname : NULL);
	j_str(j, "machine_id", *h->machine_id ? h->machine_id : NULL);
	j_str(j, "os", r->os_name);
	j_str(j, "os_version", r->os_version);
	j_str(j, "version", *h->version ? h->version : NULL);
	j_str(j, "mode", *h->mode ? h->mode : NULL);
	j_i64(j, "enrolled", h->enrolled);
	j_i64(j, "last_seen", h->last_seen);
	j_int(j, "age_s", (struct st_int){h->last_seen > 0, c->q->now - h->last_seen});
	j_int(j, "heartbeat_s", (struct st_int){h->heartbeat_s > 0, h->heartbeat_s});
	j_str(j, "status", status_of(h, c->q));
	j_key(j, "clone", false);
	j_raw(j, h->clone ? "true" : "false");
	j_str(j, "clone_detail", h->clone ? r->clone_detail : NULL);
	j_raw(j, "}");
	return j_flush(j);
}

int st_print_hosts(struct st *s, const struct st_query *q, FILE *out, struct st_err *err)
{
	static const char *const head[] = {"HOSTNAME", "ID", "OS", "VERSION", "MODE",
					   "LAST SEEN", "STATUS", "CLONE"};
	static const size_t max[] = {40, 0, 40, 20, 12, 0, 0, 0};
	struct hosts_ctx c = {.q = q, .t = {.ncol = 8}, .j = {.out = out}};
	int rc;

	if (s->state == ST_OPEN)
		return st_errf(err, "%s: a chunk is open on this handle", s->where);
	if (q->format == ST_JSON) {
		fputs("[", out);
		rc = s->ops->hosts(s, q->host, host_json, &c, err);
		return j_end(&c.j, rc, err);
	}
	rc = s->ops->hosts(s, q->host, host_text, &c, err);
	if (!rc)
		rc = tbl_print(&c.t, out, head, max, err);
	tbl_free(&c.t);
	return rc;
}

/* ---- checks and scores ---------------------------------------------------------------- */

/* Rows kept until all are read: text aligns them, JSON groups them by host. */
struct check {
	char *host, *hostname, *check_id, *status, *title, *baseline;
	struct st_int status_id, severity_id;
	int64_t time;
};
struct score {
	char *host, *hostname, *baseline, *name, *version;
	struct st_score_row r;		/* numbers; strings above */
};
struct checks_ctx {
	struct check *c;
	size_t nc, capc;
	struct score *sc;
	size_t ns, caps;
	bool nomem;
};

static char *dup_or_null(const char *s, bool *nomem)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*nomem = true;
	return d;
}

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *np;
	size_t ncap;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	if (!(np = realloc(*p, ncap * size)))
		return false;
	*p = np;
	*cap = ncap;
	return true;
}

static int check_keep(void *arg, const struct st_check_row *r)
{
	struct checks_ctx *c = arg;
	struct check *k;

	if (!grow((void **)&c->c, &c->capc, c->nc, sizeof(*c->c)))
		return c->nomem = true, 1;
	k = &c->c[c->nc++];
	*k = (struct check){
		.host = dup_or_null(r->host, &c->nomem),
		.hostname = dup_or_null(r->hostname, &c->nomem),
		.check_id = dup_or_null(r->check_id, &c->nomem),
		.status = dup_or_null(r->status, &c->nomem),
		.title = dup_or_null(r->title, &c->nomem),
		.baseline = dup_or_null(r->baseline, &c->nomem),
		.status_id = r->status_id,
		.severity_id = r->severity_id,
		.time = r->time,
	};
	return c->nomem;
}

static int score_keep(void *arg, const struct st_score_row *r)
{
	struct checks_ctx *c = arg;
	struct score *k;

	if (!grow((void **)&c->sc, &c->caps, c->ns, sizeof(*c->sc)))
		return c->nomem = true, 1;
	k = &c->sc[c->ns++];
	*k = (struct score){
		.host = dup_or_null(r->host, &c->nomem),
		.hostname = dup_or_null(r->hostname, &c->nomem),
		.baseline = dup_or_null(r->baseline, &c->nomem),
		.name = dup_or_null(r->baseline_name, &c->nomem),
		.version = dup_or_null(r->baseline_version, &c->nomem),
		.r = *r,
	};
	return c->nomem;
}

static void checks_free(struct checks_ctx *c)
{
	for (size_t i = 0; i < c->nc; i++) {
		struct check *k = &c->c[i];

		free(k->host), free(k->hostname), free(k->check_id);
		free(k->status), free(k->title), free(k->baseline);
	}
	for (size_t i = 0; i < c->ns; i++) {
		struct score *k = &c->sc[i];

		free(k->host), free(k->hostname), free(k->baseline), free(k->name);
		free(k->version);
	}
	free(c->c);
	free(c->sc);
}

static void fmt_int(char *out, size_t n, struct st_int v)
{
	if (v.set)
		snprintf(out, n, "%" PRId64, v.v);
	else
		snprintf(out, n, "-");
}

static int checks_text(const struct checks_ctx *c, FILE *out, struct st_err *err)
{
	static const char *const head[] = {"HOST", "CHECK", "STATUS", "SEVERITY", "TITLE"};
	static const size_t max[] = {32, 48, 16, 10, 0};
	static const char *const shead[] = {"HOST", "BASELINE", "VERSION", "SCORE", "PASSED",
					    "FAILED", "N/A", "ERRORS", "SKIPPED", "RUN"};
	static const size_t smax[] = {32, 32, 16, 0, 0, 0, 0, 0, 0, 0};
	struct tbl t = {.ncol = 5}, st = {.ncol = 10};
	int rc;

	for (size_t i = 0; i < c->nc; i++) {
		const struct check *k = &c->c[i];

		tbl_add(&t, (const char *const[]){k->hostname ? k->hostname : k->host,
						  k->check_id, k->status,
						  severity_name(k->severity_id), k->title});
	}
	for (size_t i = 0; i < c->ns; i++) {
		const struct score *k = &c->sc[i];
		char n[5][24], score[32] = "-", run[32];

		if (k->r.has_score)
			snprintf(score, sizeof(score), "%.1f", k->r.score);
		fmt_int(n[0], sizeof(n[0]), k->r.passed);
		fmt_int(n[1], sizeof(n[1]), k->r.failed);
		fmt_int(n[2], sizeof(n[2]), k->r.not_applicable);
		fmt_int(n[3], sizeof(n[3]), k->r.errors);
		fmt_int(n[4], sizeof(n[4]), k->r.skipped);
		fmt_time(run, sizeof(run), k->r.time / 1000);
		tbl_add(&st, (const char *const[]){k->hostname ? k->hostname : k->host,
						   k->baseline, k->version, score, n[0], n[1],
						   n[2], n[3], n[4], run});
	}
	rc = tbl_print(&t, out, head, max, err);
	if (!rc && c->ns) {
		fputc('\n', out);
		rc = tbl_print(&st, out, shead, smax, err);
	}
	tbl_free(&t);
	tbl_free(&st);
	return rc;
}

static int host_cmp(const char *ha, const char *ia, const char *hb, const char *ib)
{
	int d = strcmp(ha ? ha : "", hb ? hb : "");

	return d ? d : strcmp(ia, ib);
}

static int score_order(const void *a, const void *b)
{
	const struct score *x = a, *y = b;
	int d = host_cmp(x->hostname, x->host, y->hostname, y->host);

	return d ? d : strcmp(x->baseline, y->baseline);
}

/* [{"host", "hostname", "scores": [...], "checks": [...]}], hosts by name;
 * checks within a host keep the query's order (failed first). */
static int checks_json(const struct checks_ctx *c, FILE *out, struct st_err *err)
{
	struct json j = {.out = out};
	const char **hosts = NULL, **names = NULL;
	size_t nh = 0;

	/* Hosts: every one that has a check or a score, in name order. */
	hosts = calloc(c->nc + c->ns + 1, sizeof(*hosts));
	names = calloc(c->nc + c->ns + 1, sizeof(*names));
	if (!hosts || !names) {
		free(hosts), free(names);
		return st_errf(err, "out of memory");
	}
	for (size_t i = 0; i < c->nc + c->ns; i++) {
		const char *h = i < c->nc ? c->c[i].host : c->sc[i - c->nc].host;
		const char *n = i < c->nc ? c->c[i].hostname : c->sc[i - c->nc].hostname;
		size_t k, at;

		for (k = 0; k < nh && strcmp(hosts[k], h); k++)
			;
		if (k < nh)
			continue;
		for (at = nh; at > 0 && host_cmp(names[at - 1], hosts[at - 1], n, h) > 0; at--)
			hosts[at] = hosts[at - 1], names[at] = names[at - 1];
		hosts[at] = h, names[at] = n;
		nh++;
	}
	fputs("[", out);
	for (size_t k = 0; k < nh && !j.rc; k++) {
		size_t n = 0;

		j_open(&j, "host", hosts[k]);
		j_str(&j, "hostname", names[k]);
		j_key(&j, "scores", false);
		j_raw(&j, "[");
		for (size_t i = 0; i < c->ns; i++) {
			const struct score *s = &c->sc[i];

			if (strcmp(s->host, hosts[k]))
				continue;
			j_raw(&j, n++ ? ",{" : "{");
			j_str_at(&j, "baseline", s->baseline, true);
			j_str(&j, "name", s->name);
			j_str(&j, "version", s->version);
			j_i64(&j, "time", s->r.time);
			j_int(&j, "passed", s->r.passed);
			j_int(&j, "failed", s->r.failed);
			j_int(&j, "not_applicable", s->r.not_applicable);
			j_int(&j, "errors", s->r.errors);
			j_int(&j, "skipped", s->r.skipped);
			j_double(&j, "score", s->r.has_score, s->r.score);
			j_raw(&j, "}");
		}
		j_raw(&j, "]");
		j_key(&j, "checks", false);
		j_raw(&j, "[");
		n = 0;
		for (size_t i = 0; i < c->nc; i++) {
			const struct check *ck = &c->c[i];

			if (strcmp(ck->host, hosts[k]))
				continue;
			j_raw(&j, n++ ? ",{" : "{");
			j_str_at(&j, "check", ck->check_id, true);
			j_str(&j, "status", ck->status);
			j_int(&j, "status_id", ck->status_id);
			j_int(&j, "severity_id", ck->severity_id);
			j_str(&j, "severity", ck->severity_id.set ? severity_name(ck->severity_id)
								  : NULL);
			j_str(&j, "title", ck->title);
			j_str(&j, "baseline", ck->baseline);
			j_i64(&j, "time", ck->time);
			j_raw(&j, "}");
		}
		j_raw(&j, "]}");
		j_flush(&j);
	}
	free(hosts);
	free(names);
	return j_end(&j, 0, err);
}

int st_print_checks(struct st *s, const struct st_query *q, FILE *out, struct st_err *err)
{
	struct checks_ctx c = {0};
	int rc;

	if (s->state == ST_OPEN)
		return st_errf(err, "%s: a chunk is open on this handle", s->where);
	rc = s->ops->checks(s, q->host, check_keep, &c, err);
	if (!rc)
		rc = s->ops->scores(s, q->host, score_keep, &c, err);
	if (c.nomem)
		rc = st_errf(err, "out of memory");
	if (!rc) {
		if (c.ns)
			qsort(c.sc, c.ns, sizeof(*c.sc), score_order);
		rc = q->format == ST_JSON ? checks_json(&c, out, err) : checks_text(&c, out, err);
	}
	checks_free(&c);
	return rc;
}

/* ---- events ------------------------------------------------------------------------- */

struct events_ctx {
	struct tbl t;
	struct json j;
};

static int event_text(void *arg, const struct st_event_row *r)
{
	struct events_ctx *c = arg;
	char when[32], cls[24], act[24], pid[24];
	const char *name = class_name(r->class_uid), *an = activity_name(r->class_uid,
									  r->activity_id);

	fmt_time(when, sizeof(when), r->time / 1000);
	snprintf(cls, sizeof(cls), "%s", name ? name : "");
	if (!name)
		snprintf(cls, sizeof(cls), "%" PRId64, r->class_uid);
	if (an)
		snprintf(act, sizeof(act), "%s", an);
	else
		fmt_int(act, sizeof(act), r->activity_id);
	fmt_int(pid, sizeof(pid), r->pid);
	tbl_add(&c->t, (const char *const[]){when, r->hostname ? r->hostname : r->host, cls,
					      act, pid, r->exe, r->path, r->verdict, r->detail});
	return 0;
}

/* The record as JSON: msgpack (every row since schema 2) made into JSON
 * here, as the store made it at ingest before; a row of schema 1 has its
 * JSON text already. The bytes come from a file, so they pass the bounded
 * decoder first; bytes that do not decode whole (a damaged file) are null. */
static void j_record(struct json *j, const struct st_event_row *r)
{
	struct mpj_opts op = {.depth_max = ST_DEPTH_MAX, .max_len = JSON_MAX};
	struct fwd_err ferr;
	msgpack_zone z;
	msgpack_object o;
	size_t used = 0;
	int rc;

	if (j->rc)
		return;
	if (!r->mp) {
		j_raw(j, r->json && *r->json ? r->json : "null");
		return;
	}
	if (fwd_object_decode(r->mp, r->mp_len, NULL, &z, &o, &used, &ferr) != FWD_OK) {
		j_raw(j, "null");
		return;
	}
	rc = used == r->mp_len ? mpj_append(&j->b, &o, &op) : MPJ_DEEP;
	if (rc == MPJ_NOMEM)
		j->rc = rc;
	else if (rc)
		j_raw(j, "null");
	msgpack_zone_destroy(&z);
}

static int event_json(void *arg, const struct st_event_row *r)
{
	struct events_ctx *c = arg;
	struct json *j = &c->j;

	j_open(j, "host", r->host);
	j_str(j, "hostname", r->hostname);
	j_i64(j, "time", r->time);
	j_i64(j, "class_uid", r->class_uid);
	j_int(j, "activity_id", r->activity_id);
	j_int(j, "severity_id", r->severity_id);
	j_int(j, "pid", r->pid);
	j_str(j, "exe", r->exe);
	j_str(j, "path", r->path);
	j_str(j, "actor", r->actor);
	j_str(j, "verdict", r->verdict);
	j_str(j, "detail", r->detail);
	j_key(j, "record", false);
	j_record(j, r);
	j_raw(j, "}");
	return j_flush(j);
}

int st_print_events(struct st *s, const struct st_query *q, FILE *out, struct st_err *err)
{
	static const char *const head[] = {"TIME", "HOST", "CLASS", "ACTIVITY", "PID", "EXE",
					   "PATH", "VERDICT", "DETAIL"};
	static const size_t max[] = {0, 32, 12, 12, 0, 40, 60, 16, 0};
	struct events_ctx c = {.t = {.ncol = 9}, .j = {.out = out}};
	size_t limit = q->limit ? q->limit : EVENTS_DEFAULT;
	int rc;

	if (s->state == ST_OPEN)
		return st_errf(err, "%s: a chunk is open on this handle", s->where);
	if (q->format == ST_JSON) {
		fputs("[", out);
		rc = s->ops->events(s, q->host, limit, event_json, &c, err);
		return j_end(&c.j, rc, err);
	}
	rc = s->ops->events(s, q->host, limit, event_text, &c, err);
	if (!rc)
		rc = tbl_print(&c.t, out, head, max, err);
	tbl_free(&c.t);
	return rc;
}
