/*
 * conn_ingest.c: one decoded frame into the store, then its ack.
 *
 * A frame with a chunk option is one chunk: st_chunk_begin, st_record per
 * entry, st_chunk_commit; the ack is queued only after the commit
 * returned, and a chunk the store has seen is acked without storing. A
 * frame without a chunk is stored the same way under a chunk id made up
 * here ("noack-" and 32 random hex digits: it can never repeat, and no
 * ack goes out, as Forward has it).
 *
 * Records from any Forward client are taken, on one rule: a record speaks
 * only for the host of its certificate. device.uid is filled in from the
 * certificate when absent and refused when it names another host. A
 * record without class_uid is a generic client's (Fluentd, Fluent Bit, a
 * logging library): it is kept as OCSF class 0 (Base Event). A record
 * without time gets the entry's Forward time, in ms.
 *
 * Clones (DESIGN.md, 8): one certificate sending from two IP addresses
 * within CLONE_WINDOW_MS of each other, or records naming two machine ids
 * (unmapped.vigil.machine_id), flag the host in the store and log a
 * warning. Nothing is refused for it: two machines behind one NAT share an
 * address, a host may move, and the operator decides (revoke).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "serve_int.h"

#define NOACK_PREFIX	"noack-"

static bool key_is(const msgpack_object *k, const char *name, size_t n)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       !memcmp(k->via.str.ptr, name, n);
}

/* The index of key name in map m: 1 found, 0 absent, -1 given twice (two
 * readers could take two different values: refused). */
static int find(const msgpack_object *m, const char *name, uint32_t *idx)
{
	size_t n = strlen(name);
	int found = 0;

	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (key_is(&m->via.map.ptr[i].key, name, n)) {
			if (found)
				return -1;
			found = 1;
			*idx = i;
		}
	return found;
}

static void str_obj(msgpack_object *o, const char *s)
{
	o->type = MSGPACK_OBJECT_STR;
	o->via.str.ptr = s;
	o->via.str.size = (uint32_t)strlen(s);
}

/* A copy of map m's pairs with room for extra more, in z. */
static msgpack_object_kv *pairs_copy(const msgpack_object *m, uint32_t extra, msgpack_zone *z)
{
	msgpack_object_kv *kv = msgpack_zone_malloc(z, sizeof(*kv) * (m->via.map.size + extra));

	if (kv && m->via.map.size)
		memcpy(kv, m->via.map.ptr, sizeof(*kv) * m->via.map.size);
	return kv;
}

/* Quoted for a message: at most 64 bytes of what a peer sent. */
static void quote(char *out, size_t n, const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_STR)
		snprintf(out, n, "(not a string)");
	else if (!o->via.str.size)
		snprintf(out, n, "''");
	else
		snprintf(out, n, "'%.*s'%s", (int)(o->via.str.size > 64 ? 64 : o->via.str.size),
			 o->via.str.ptr, o->via.str.size > 64 ? "..." : "");
}

int ingest_patch(const msgpack_object *rec, const char *host, uint64_t time_ns,
		 msgpack_zone *z, msgpack_object **out, struct cerr *why)
{
	msgpack_object dev_new, *r;
	msgpack_object_kv *kv;
	uint32_t di = 0, ui = 0, ci = 0, ti = 0, n;
	int has_dev, has_uid = 0, has_class, has_time;
	bool fill_dev;

	*out = NULL;
	if (rec->type != MSGPACK_OBJECT_MAP)
		return cerrf(why, "record is not a map"), 1;
	if ((has_dev = find(rec, "device", &di)) < 0 ||
	    (has_class = find(rec, "class_uid", &ci)) < 0 || (has_time = find(rec, "time", &ti)) < 0)
		return cerrf(why, "a key among device, class_uid, time is given twice"), 1;
	if (has_dev) {
		const msgpack_object *d = &rec->via.map.ptr[di].val;
		char a[80];

		if (d->type != MSGPACK_OBJECT_MAP)
			return cerrf(why, "device is not a map"), 1;
		if ((has_uid = find(d, "uid", &ui)) < 0)
			return cerrf(why, "device.uid is given twice"), 1;
		if (has_uid && !key_is(&d->via.map.ptr[ui].val, host, strlen(host))) {
			quote(a, sizeof(a), &d->via.map.ptr[ui].val);
			return cerrf(why, "device.uid %s is not this connection's host '%s'", a,
				     host), 1;
		}
	}
	fill_dev = !has_dev || !has_uid;
	if (!fill_dev && has_class && has_time) {
		*out = (msgpack_object *)rec;	/* as sent: nothing to fill in */
		return 0;
	}
	n = rec->via.map.size;
	if (!(kv = pairs_copy(rec, 3, z)) || !(r = msgpack_zone_malloc(z, sizeof(*r))))
		return cerrf(why, "out of memory"), -1;
	if (fill_dev) {
		/* {"uid": host} alone, or the record's device with uid added. */
		msgpack_object_kv *dkv;
		const msgpack_object empty = {.type = MSGPACK_OBJECT_MAP};
		const msgpack_object *d = has_dev ? &rec->via.map.ptr[di].val : &empty;

		if (!(dkv = pairs_copy(d, 1, z)))
			return cerrf(why, "out of memory"), -1;
		str_obj(&dkv[d->via.map.size].key, "uid");
		str_obj(&dkv[d->via.map.size].val, host);
		dev_new.type = MSGPACK_OBJECT_MAP;
		dev_new.via.map.size = d->via.map.size + 1;
		dev_new.via.map.ptr = dkv;
		if (has_dev) {
			kv[di].val = dev_new;
		} else {
			str_obj(&kv[n].key, "device");
			kv[n++].val = dev_new;
		}
	}
	if (!has_class) {
		str_obj(&kv[n].key, "class_uid");
		kv[n].val.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		kv[n++].val.via.u64 = 0;	/* OCSF Base Event */
	}
	if (!has_time) {
		str_obj(&kv[n].key, "time");
		kv[n].val.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		kv[n++].val.via.u64 = time_ns / 1000000;
	}
	r->type = MSGPACK_OBJECT_MAP;
	r->via.map.size = n;
	r->via.map.ptr = kv;
	*out = r;
	return 0;
}

/* ---- clones ------------------------------------------------------------------- */

static void flag_clone(struct conn *c, struct conn *d, const char *detail)
{
	struct st_err serr;

	c->clone_flagged = true;
	if (d)
		d->clone_flagged = true;
	conn_log(c, CLOG_WARN, "possible clone: %s", detail);
	if (st_host_clone(c->srv->state.st, c->host, detail, &serr))
		conn_log(c, CLOG_ERR, "recording the clone: %s", serr.msg);
}

/* Another live connection of this certificate, recently active, from
 * another address. */
static void clone_by_address(struct conn *c)
{
	struct srv *s = c->srv;
	char detail[300];

	if (c->clone_flagged)
		return;
	for (struct conn *d = s->conns; d; d = d->next)
		if (d != c && d->state == CS_FORWARD && d->t_done &&
		    s->now - d->t_done < CLONE_WINDOW_MS && !strcmp(d->serial, c->serial) &&
		    strcmp(d->ip, c->ip)) {
			snprintf(detail, sizeof(detail), "certificate %s in use from %s and %s at "
				 "once", c->serial, d->ip, c->ip);
			flag_clone(c, d, detail);
			return;
		}
}

static void clone_by_machine(struct conn *c, const char *mid)
{
	struct srv *s = c->srv;
	char detail[300];

	if (c->clone_flagged)
		return;
	if (c->machine_id[0] && strcmp(c->machine_id, mid)) {
		snprintf(detail, sizeof(detail), "certificate %s announced machine ids %s and %s",
			 c->serial, c->machine_id, mid);
		flag_clone(c, NULL, detail);
		return;
	}
	snprintf(c->machine_id, sizeof(c->machine_id), "%s", mid);
	for (struct conn *d = s->conns; d; d = d->next)
		if (d != c && d->state == CS_FORWARD && d->machine_id[0] &&
		    !strcmp(d->serial, c->serial) && strcmp(d->machine_id, mid)) {
			snprintf(detail, sizeof(detail), "certificate %s in use by machine ids %s "
				 "and %s at once", c->serial, d->machine_id, mid);
			flag_clone(c, d, detail);
			return;
		}
}

/* unmapped.vigil.machine_id of a record, when it is a sane string. */
static bool machine_id_of(const msgpack_object *rec, char out[ENR_MACHINE_ID_MAX + 1])
{
	static const char *const path[] = {"unmapped", "vigil", "machine_id"};
	const msgpack_object *o = rec;
	uint32_t i;

	for (size_t k = 0; k < 3; k++) {
		if (o->type != MSGPACK_OBJECT_MAP || find(o, path[k], &i) != 1)
			return false;
		o = &o->via.map.ptr[i].val;
	}
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 ||
	    o->via.str.size > ENR_MACHINE_ID_MAX || memchr(o->via.str.ptr, 0, o->via.str.size))
		return false;
	memcpy(out, o->via.str.ptr, o->via.str.size);
	out[o->via.str.size] = 0;
	return true;
}

/* ---- the frame ------------------------------------------------------------------ */

static int store_fail(int rc, struct cerr *why, const char *chunk, const char *msg)
{
	cerrf(why, "chunk %s: %s", chunk, msg);
	return rc == ST_REFUSED ? 1 : -1;
}

static int noack_chunk(char chunk[FWD_CHUNK_MAX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b[16];
	size_t n = strlen(NOACK_PREFIX);

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	memcpy(chunk, NOACK_PREFIX, n);
	for (size_t i = 0; i < sizeof(b); i++) {
		chunk[n + 2 * i] = digits[b[i] >> 4];
		chunk[n + 2 * i + 1] = digits[b[i] & 15];
	}
	chunk[n + 2 * sizeof(b)] = 0;
	return 0;
}

static int records(struct conn *c, const struct fwd_frame *f, const char *chunk,
		   char mid[ENR_MACHINE_ID_MAX + 1], struct cerr *why)
{
	struct st *st = c->srv->state.st;
	struct st_err serr;
	msgpack_zone z;
	int rc = 0;

	if (!msgpack_zone_init(&z, 4096))
		return cerrf(why, "out of memory"), -1;
	for (size_t i = 0; i < f->n && rc == 0; i++) {
		msgpack_object *rec;
		struct cerr perr;

		rc = ingest_patch(&f->entries[i].record, c->host, f->entries[i].time_ns, &z, &rec,
				  &perr);
		if (rc) {
			cerrf(why, "chunk %s: entry %zu: %s", chunk, i, perr.msg);
			break;
		}
		if (!mid[0])
			machine_id_of(rec, mid);
		/* As sent (not patched): the store keeps the bytes received. */
		if (rec == &f->entries[i].record && f->entries[i].raw)
			rc = st_record_raw(st, f->tag, f->entries[i].time_ns, rec,
					   f->entries[i].raw, f->entries[i].raw_len, &serr);
		else
			rc = st_record(st, f->tag, f->entries[i].time_ns, rec, &serr);
		if (rc)
			rc = store_fail(rc, why, chunk, serr.msg);
		msgpack_zone_clear(&z);		/* the store is done with it */
	}
	msgpack_zone_destroy(&z);
	return rc;
}

int ingest_frame(struct conn *c, const struct fwd_frame *f, struct cerr *why)
{
	struct srv *s = c->srv;
	struct st *st = s->state.st;
	char chunk[FWD_CHUNK_MAX + 1], mid[ENR_MACHINE_ID_MAX + 1] = "";
	struct st_err serr;
	bool seen = false, stored = false;
	int rc;

	c->t_done = s->now;
	clone_by_address(c);
	if (f->n) {
		if (f->chunk[0])
			snprintf(chunk, sizeof(chunk), "%s", f->chunk);
		else if (noack_chunk(chunk))
			return cerrf(why, "no random bytes for a chunk id"), -1;
		if ((rc = st_chunk_begin(st, c->host, chunk, &seen, &serr)))
			return store_fail(rc, why, chunk, serr.msg);
		if (!seen && (rc = records(c, f, chunk, mid, why))) {
			st_chunk_abort(st);
			return rc;
		}
		if ((rc = st_chunk_commit(st, &serr)))
			return store_fail(rc, why, chunk, serr.msg);
		stored = !seen;
		if (stored)
			c->records += f->n;
		conn_log(c, CLOG_DEBUG, "chunk %s: %zu records %s", chunk, f->n,
			 seen ? "seen before, not stored again" : "stored");
	}
	if (stored) {
		c->t_seen = s->now;		/* the commit raised last_seen */
	} else if (s->now - c->t_seen >= SEEN_EVERY_MS) {
		c->t_seen = s->now;
		if (st_host_seen(st, c->host, (int64_t)time(NULL), &serr))
			conn_log(c, CLOG_WARN, "recording the host as seen: %s", serr.msg);
	}
	if (mid[0])
		clone_by_machine(c, mid);
	if (f->chunk[0]) {
		msgpack_sbuffer ack;

		msgpack_sbuffer_init(&ack);
		rc = fwd_ack_encode(&ack, f->chunk) || conn_send(c, ack.data, ack.size);
		msgpack_sbuffer_destroy(&ack);
		if (rc)
			return cerrf(why, "chunk %s committed, but its ack does not fit: the peer "
				     "leaves more than %zu bytes of acks unread (limits.write_max)",
				     f->chunk, s->cfg->lim.write_max), 1;
	}
	return 0;
}
