/*
 * store_rec.c: one msgpack record (an OCSF map as the sensor packs it,
 * docs/records.md) into a struct st_rec.
 *
 * Refused, naming the field: a record that is not a map; class_uid, time or
 * device.uid missing or of the wrong type; a device.uid that is not the
 * chunk's host; a check or baseline id longer than ST_KEY_MAX; nesting
 * deeper than ST_DEPTH_MAX, more than ST_MP_MAX bytes of msgpack, or (a
 * check or inventory, which are kept as JSON) more than ST_JSON_MAX bytes
 * of JSON. Anything else missing or of another type is NULL: the record is
 * kept whole, only that column is empty. A 2003 without a check id or a 5002
 * without a baseline id cannot be filed as a check or a score: it is kept
 * as an event, like a class this code does not know.
 *
 * Strings are copied into the handle's text slots: valid UTF-8 (a bad byte
 * or NUL becomes U+FFFD), cut at a character boundary to ST_TEXT_MAX.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"

int st_rec_parse(struct st *s, const msgpack_object *rec, const void *raw, size_t raw_len,
		 struct st_err *err);

#define refuse(err, ...) (st_errf((err), __VA_ARGS__), ST_REFUSED)

static const char *type_name(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "a bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an int";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "a float";
	case MSGPACK_OBJECT_STR: return "a str";
	case MSGPACK_OBJECT_BIN: return "a bin";
	case MSGPACK_OBJECT_ARRAY: return "an array";
	case MSGPACK_OBJECT_MAP: return "a map";
	case MSGPACK_OBJECT_EXT: return "an ext";
	}
	return "of an unknown type";
}

/* The value of the first str key name[0..n) of map m, or NULL. */
static const msgpack_object *field_n(const msgpack_object *m, const char *name, size_t n)
{
	if (!m || m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    !memcmp(k->via.str.ptr, name, n))
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

/* A dotted path: "actor.process.file.path". */
static const msgpack_object *at(const msgpack_object *m, const char *path)
{
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		m = field_n(m, path, n);
		if (!m || !dot)
			return m;
		path = dot + 1;
	}
}

static struct st_int int_of(const msgpack_object *o)
{
	struct st_int r = {false, 0};

	if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		r = (struct st_int){true, (int64_t)o->via.u64};
	else if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		r = (struct st_int){true, o->via.i64};
	return r;
}

static struct st_int int_at(const msgpack_object *m, const char *path)
{
	return int_of(at(m, path));
}

static bool str_is(const msgpack_object *o, const char *want)
{
	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(want) &&
	       !memcmp(o->via.str.ptr, want, o->via.str.size);
}

/* A copy in the next text slot: valid UTF-8, no NUL, at most ST_TEXT_MAX. */
static const char *copy_text(struct st *s, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	char *out;
	size_t o = 0;

	if (s->ntext >= ST_TEXTS)
		return NULL;		/* cannot happen: fewer fields than slots */
	out = s->text[s->ntext++];
	for (size_t i = 0; i < n;) {
		size_t len = u[i] ? mpj_utf8_len(u + i, n - i) : 0;

		if (o + (len ? len : 3) > ST_TEXT_MAX)
			break;
		if (len) {
			memcpy(out + o, p + i, len);
			o += len;
			i += len;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = 0;
	return out;
}

/* A str (or, where an id may come as a number, an int) as text; else NULL. */
static const char *text_of(struct st *s, const msgpack_object *o, bool int_ok)
{
	char tmp[24];
	struct st_int v;

	if (!o)
		return NULL;
	if (o->type == MSGPACK_OBJECT_STR)
		return copy_text(s, o->via.str.ptr, o->via.str.size);
	v = int_of(o);
	if (int_ok && v.set) {
		snprintf(tmp, sizeof(tmp), "%" PRId64, v.v);
		return copy_text(s, tmp, strlen(tmp));
	}
	return NULL;
}

static const char *text_at(struct st *s, const msgpack_object *m, const char *path)
{
	return text_of(s, at(m, path), false);
}

/* The first of several paths that holds a str. */
static const char *text_first(struct st *s, const msgpack_object *m, const char *const *paths,
			      bool int_ok)
{
	for (; *paths; paths++) {
		const msgpack_object *o = at(m, *paths);

		if (o && (o->type == MSGPACK_OBJECT_STR || (int_ok && int_of(o).set)))
			return text_of(s, o, int_ok);
	}
	return NULL;
}

/* An id that keys a table row: cutting it would merge two, so a long one
 * is refused. Absent, empty or not a str: NULL, and 0. */
static int key_at(struct st *s, const msgpack_object *m, const char *path, const char **out,
		  struct st_err *err)
{
	const msgpack_object *o = at(m, path);

	*out = NULL;
	if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0)
		return 0;
	if (o->via.str.size > ST_KEY_MAX)
		return refuse(err, "%s is %" PRIu32 " bytes, more than %d", path, o->via.str.size,
			      ST_KEY_MAX);
	*out = copy_text(s, o->via.str.ptr, o->via.str.size);
	return 0;
}

/* Printable for an error message, whatever the bytes. */
static void quote(char *out, size_t size, const char *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < size; i++)
		out[o++] = p[i] > 0x20 && p[i] < 0x7f ? p[i] : '?';
	if (o + 4 >= size && n > o)
		memcpy(out + o, "...", 3), o += 3;
	out[o] = 0;
}

/* ---- the fields every record must have ---------------------------------------- */

static int required_int(const msgpack_object *rec, const char *name, int64_t max,
			int64_t *out, struct st_err *err)
{
	const msgpack_object *o = at(rec, name);
	struct st_int v;

	if (!o)
		return refuse(err, "%s is missing", name);
	v = int_of(o);
	if (!v.set)
		return refuse(err, "%s is %s, not an int", name, type_name(o));
	if (v.v < 0 || v.v > max)
		return refuse(err, "%s %" PRId64 " is out of range (0 to %" PRId64 ")", name, v.v,
			      max);
	*out = v.v;
	return 0;
}

static int required(struct st *s, const msgpack_object *rec, struct st_err *err)
{
	const msgpack_object *uid;
	char a[80], b[80];
	int rc;

	if (rec->type != MSGPACK_OBJECT_MAP)
		return refuse(err, "record is %s, not a map", type_name(rec));
	if ((rc = required_int(rec, "class_uid", INT32_MAX, &s->rec.class_uid, err)) ||
	    (rc = required_int(rec, "time", ST_TIME_MAX, &s->rec.time, err)))
		return rc;
	uid = at(rec, "device.uid");
	if (!uid)
		return refuse(err, "device.uid is missing");
	if (uid->type != MSGPACK_OBJECT_STR)
		return refuse(err, "device.uid is %s, not a str", type_name(uid));
	if (uid->via.str.size != strlen(s->host) ||
	    memcmp(uid->via.str.ptr, s->host, uid->via.str.size)) {
		quote(a, sizeof(a), uid->via.str.ptr, uid->via.str.size);
		quote(b, sizeof(b), s->host, strlen(s->host));
		return refuse(err, "device.uid '%s' is not this connection's host '%s'", a, b);
	}
	return 0;
}

static bool is_container(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP;
}

/* Containers, o's own counted, stay within left (o is one). Only
 * containers are descended into: most of a record is scalars. */
static bool depth_ok(const msgpack_object *o, unsigned left)
{
	if (!left--)
		return false;
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < o->via.array.size; i++)
			if (is_container(&o->via.array.ptr[i]) &&
			    !depth_ok(&o->via.array.ptr[i], left))
				return false;
		return true;
	}
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];

		if ((is_container(&kv->key) && !depth_ok(&kv->key, left)) ||
		    (is_container(&kv->val) && !depth_ok(&kv->val, left)))
			return false;
	}
	return true;
}

static int packed_fail(struct st_err *err, int rc)
{
	return st_errf(err, "packing the record: %s", rc == -1 ? "out of memory" : "failed");
}

/* The record's msgpack bytes: raw as received when the caller has them
 * (no work at all), else rec packed again. Events keep these bytes; JSON
 * is made from them only when a query prints the record. */
static int to_mp(struct st *s, const msgpack_object *rec, const void *raw, size_t raw_len,
		 struct st_err *err)
{
	msgpack_packer pk;
	int rc;

	if (!raw) {
		s->mp.size = 0;
		msgpack_packer_init(&pk, &s->mp, msgpack_sbuffer_write);
		if ((rc = msgpack_pack_object(&pk, *rec)))
			return packed_fail(err, rc);
		raw = s->mp.data;
		raw_len = s->mp.size;
	}
	if (raw_len > ST_MP_MAX)
		return refuse(err, "record is more than %u bytes as msgpack", ST_MP_MAX);
	s->rec.mp = raw;
	s->rec.mp_len = raw_len;
	return 0;
}

/* Checks and inventory, a few per host and run, are kept as JSON text so
 * that SQL (json_extract) reads them as they are. */
static int to_json(struct st *s, const msgpack_object *rec, struct st_err *err)
{
	struct mpj_opts o = {.depth_max = ST_DEPTH_MAX, .max_len = ST_JSON_MAX};
	int rc;

	s->json.len = 0;
	rc = mpj_append(&s->json, rec, &o);
	if (rc == MPJ_BIG)
		return refuse(err, "record is more than %u bytes as JSON", ST_JSON_MAX);
	if (rc)
		return st_errf(err, "record as JSON: %s", mpj_strerror(rc));
	s->rec.json = s->json.p;
	s->rec.json_len = s->json.len;
	return 0;
}

/* ---- by class ------------------------------------------------------------------- */

static void event_fields(struct st *s, const msgpack_object *rec)
{
	static const char *const exe[] = {"process.file.path", "actor.process.file.path", NULL};
	static const char *const pid[] = {"process.pid", "actor.process.pid", NULL};
	static const char *const actor[] = {"process.user.uid", "actor.process.user.uid",
					    "actor.user.uid", NULL};
	static const char *const detail[] = {"process.cmd_line", "finding_info.title",
					     "message", NULL};
	struct st_rec *r = &s->rec;

	r->kind = ST_EVENT;
	r->path = text_at(s, rec, "file.path");
	r->exe = text_first(s, rec, exe, false);
	for (const char *const *p = pid; *p && !r->pid.set; p++)
		r->pid = int_at(rec, *p);
	r->actor = text_first(s, rec, actor, true);
	r->verdict = text_at(s, rec, "unmapped.fim.verdict");
	r->detail = text_first(s, rec, detail, false);
	if (r->class_uid == 2004) {
		r->finding = "detection";
		r->finding_uid = text_of(s, at(rec, "finding_info.uid"), true);
		r->title = text_at(s, rec, "finding_info.title");
	} else if (r->class_uid == 1001 && str_is(at(rec, "unmapped.fim.verdict"), "tampering")) {
		r->finding = "tampering";
	}
}

static int check_fields(struct st *s, const msgpack_object *rec, struct st_err *err)
{
	struct st_rec *r = &s->rec;
	int rc;

	if ((rc = key_at(s, rec, "finding_info.uid", &r->check_id, err)) ||
	    (rc = key_at(s, rec, "unmapped.vigil.baseline.id", &r->baseline, err)))
		return rc;
	if (!r->check_id) {
		event_fields(s, rec);
		return 0;
	}
	r->kind = ST_CHECK;
	r->title = text_at(s, rec, "finding_info.title");
	r->status = text_at(s, rec, "compliance.status");
	r->status_id = int_at(rec, "compliance.status_id");
	r->control = text_at(s, rec, "compliance.control");
	r->baseline_version = text_of(s, at(rec, "unmapped.vigil.baseline.version"), true);
	r->rank = st_status_rank(&r->status_id, r->status);
	return 0;
}

static int score_fields(struct st *s, const msgpack_object *rec, struct st_err *err)
{
	const msgpack_object *vg = at(rec, "unmapped.vigil"), *score;
	struct st_rec *r = &s->rec;
	int rc;

	if ((rc = key_at(s, vg, "baseline.id", &r->baseline, err)))
		return rc;
	if (!r->baseline) {
		event_fields(s, rec);
		return 0;
	}
	r->kind = ST_SCORE;
	r->baseline_name = text_at(s, vg, "baseline.name");
	r->baseline_version = text_of(s, at(vg, "baseline.version"), true);
	r->passed = int_at(vg, "summary.passed");
	r->failed = int_at(vg, "summary.failed");
	r->not_applicable = int_at(vg, "summary.not_applicable");
	r->errors = int_at(vg, "summary.errors");
	r->skipped = int_at(vg, "summary.skipped");
	score = at(vg, "summary.score");
	if (score && (score->type == MSGPACK_OBJECT_FLOAT32 ||
		      score->type == MSGPACK_OBJECT_FLOAT64)) {
		r->has_score = score->via.f64 == score->via.f64;	/* not NaN */
		r->score = score->via.f64;
	} else if (int_of(score).set) {
		r->has_score = true;
		r->score = (double)int_of(score).v;
	}
	return 0;
}

static void vigil_fields(struct st *s, const msgpack_object *rec)
{
	const msgpack_object *vg = at(rec, "unmapped.vigil"), *kind = field_n(vg, "kind", 4);
	struct st_rec *r = &s->rec;

	if (str_is(kind, "heartbeat")) {
		r->kind = ST_HEARTBEAT;
		/* The sensor's version is its product's (docs/records.md). */
		r->sensor_version = text_of(s, at(rec, "metadata.product.version"), false);
		r->mode = text_of(s, field_n(vg, "mode", 4), false);
		r->interval_s = int_of(field_n(vg, "interval_s", 10));
		/* A host that announces no sane interval gets the default. */
		if (r->interval_s.set && (r->interval_s.v < 1 || r->interval_s.v > 86400))
			r->interval_s.set = false;
	} else if (str_is(kind, "gap")) {
		r->kind = ST_GAP;
		r->gap_records = int_at(vg, "records");
		r->gap_batches = int_at(vg, "batches");
		r->first_seq = int_at(vg, "first_seq");
		r->last_seq = int_at(vg, "last_seq");
		r->since = int_at(vg, "since");
		r->until = int_at(vg, "until");
	} else {
		event_fields(s, rec);
	}
}

/* The summary columns, by class. */
static int fields(struct st *s, const msgpack_object *rec, struct st_err *err)
{
	struct st_rec *r = &s->rec;

	r->activity_id = int_at(rec, "activity_id");
	r->type_uid = int_at(rec, "type_uid");
	r->severity_id = int_at(rec, "severity_id");
	r->hostname = text_at(s, rec, "device.hostname");
	r->os_name = text_at(s, rec, "device.os.name");
	r->os_version = text_of(s, at(rec, "device.os.version"), true);
	switch (r->class_uid) {
	case 2003:
		return check_fields(s, rec, err);
	case 5002:
		return score_fields(s, rec, err);
	case 5001:
		r->kind = ST_INVENTORY;
		return 0;
	case 0:
		vigil_fields(s, rec);
		return 0;
	default:
		event_fields(s, rec);
		return 0;
	}
}

int st_rec_parse(struct st *s, const msgpack_object *rec, const void *raw, size_t raw_len,
		 struct st_err *err)
{
	struct st_rec *r = &s->rec;
	int rc;

	memset(r, 0, sizeof(*r));
	s->ntext = 0;
	if ((rc = required(s, rec, err)))
		return rc;
	if (!depth_ok(rec, ST_DEPTH_MAX))
		return refuse(err, "record nests deeper than %d", ST_DEPTH_MAX);
	if ((rc = to_mp(s, rec, raw, raw_len, err)) || (rc = fields(s, rec, err)))
		return rc;
	if (r->kind == ST_CHECK || r->kind == ST_INVENTORY)
		return to_json(s, rec, err);
	return 0;
}
