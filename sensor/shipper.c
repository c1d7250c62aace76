/*
 * shipper.c: the outbox to the collector (run.h).
 *
 * Oldest first, up to `window` batches in flight, at most `rate` a second
 * (so a host that was offline for a day drains without flooding the
 * collector). A batch leaves the outbox only when its ack arrives; a
 * connection that fails, or an ack that does not come within ack_timeout,
 * means reconnect (with jittered exponential backoff, so a fleet does not
 * reconnect in step after a collector restart) and send again from the
 * oldest. The same batch carries the same chunk id every time, so the
 * collector stores it once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "link.h"
#include "run.h"

#define ACK_MAX 512			/* bytes of one ack message */
#define TICK_MS 200

struct flight {
	char chunk[128];
	int64_t sent_ms;
};

struct shipper {
	struct shipper_opts o;
	pthread_t th;
	pthread_mutex_t mu;		/* guards st and the stop fields */
	struct shipper_stats st;
	bool stop;
	int64_t stop_by_ms;		/* stop: the last moment to keep draining */
	struct flight *fl;
	unsigned nfl;
	double tokens;			/* rate limit: batches we may send now */
	int64_t tokens_ms;
	unsigned char *frame;		/* a copy of the batch being sent */
	size_t frame_cap;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_error(struct shipper *sh, const char *msg)
{
	pthread_mutex_lock(&sh->mu);
	snprintf(sh->st.last_error, sizeof(sh->st.last_error), "%.*s",
		 (int)sizeof(sh->st.last_error) - 1, msg);
	sh->st.failures++;
	sh->st.connected = false;
	pthread_mutex_unlock(&sh->mu);
}

/* true once stopping and either drained or out of grace. */
static bool done(struct shipper *sh)
{
	struct ob_stats s;
	bool stop, late;

	pthread_mutex_lock(&sh->mu);
	stop = sh->stop;
	late = mono_ms() >= sh->stop_by_ms;
	pthread_mutex_unlock(&sh->mu);
	if (!stop)
		return false;
	spool_stats(sh->o.spool, &s);
	return late || (s.batches == 0 && sh->nfl == 0);
}

/* Sleeps ms, or less when asked to stop or a batch is sealed. */
static void nap(struct shipper *sh, unsigned ms)
{
	struct spool *sp = sh->o.spool;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&sp->mu);
	if (!sp->stop)
		pthread_cond_timedwait(&sp->sealed, &sp->mu, &ts);
	pthread_mutex_unlock(&sp->mu);
}

static unsigned jitter(unsigned ms)
{
	uint32_t r = 0;

	RAND_bytes((unsigned char *)&r, sizeof(r));
	return ms / 2 + r % (ms / 2 + 1);	/* [ms/2, ms] */
}

static bool in_flight(const struct shipper *sh, const char *chunk)
{
	for (unsigned i = 0; i < sh->nfl; i++)
		if (!strcmp(sh->fl[i].chunk, chunk))
			return true;
	return false;
}

/* Copies the oldest sealed batch not yet in flight; 1 when there is none. */
static int next_batch(struct shipper *sh, char *chunk, size_t *len, struct vg_err *err)
{
	struct spool *sp = sh->o.spool;
	struct ob_batch b;
	int r = 1;
	uint64_t now = (uint64_t)mono_ms();

	pthread_mutex_lock(&sp->mu);
	if (ob_tick(sp->ob, now, err))
		log_err("outbox: %s", err->msg);
	for (size_t i = 0;; i++) {
		r = ob_peek(sp->ob, i, &b, err);
		if (r != 0 || !in_flight(sh, b.chunk))
			break;
	}
	if (r == 0) {
		if (b.len > sh->frame_cap) {
			sh->frame_cap = b.len;
			sh->frame = xrealloc(sh->frame, sh->frame_cap);
		}
		memcpy(sh->frame, b.frame, b.len);
		*len = b.len;
		snprintf(chunk, 128, "%s", b.chunk);
	}
	pthread_mutex_unlock(&sp->mu);
	return r;
}

static bool may_send(struct shipper *sh)
{
	int64_t now = mono_ms();
	unsigned rate = sh->o.rate ? sh->o.rate : 50;

	sh->tokens += (double)(now - sh->tokens_ms) * rate / 1000.0;
	if (sh->tokens > rate)
		sh->tokens = rate;	/* a burst of at most one second's worth */
	sh->tokens_ms = now;
	if (sh->tokens < 1.0)
		return false;
	sh->tokens -= 1.0;
	return true;
}

static int send_more(struct shipper *sh, struct link *l, struct vg_err *err)
{
	unsigned window = sh->o.window ? sh->o.window : 4;

	while (sh->nfl < window) {
		char chunk[128];
		size_t len = 0;
		int r = next_batch(sh, chunk, &len, err);

		if (r == 1)
			return 0;
		if (r < 0)
			return -1;
		if (!may_send(sh))
			return 0;
		if (link_write(l, sh->frame, len, err))
			return -1;
		snprintf(sh->fl[sh->nfl].chunk, sizeof(sh->fl[sh->nfl].chunk), "%s", chunk);
		sh->fl[sh->nfl++].sent_ms = mono_ms();
		pthread_mutex_lock(&sh->mu);
		sh->st.sent++;
		pthread_mutex_unlock(&sh->mu);
	}
	return 0;
}

/* {"ack": chunk}: the batch is stored; it may leave the outbox. */
static int on_ack(struct shipper *sh, const msgpack_object *o, struct vg_err *err)
{
	const msgpack_object *v = NULL;
	struct spool *sp = sh->o.spool;
	char chunk[128];
	unsigned i;

	if (o->type == MSGPACK_OBJECT_MAP)
		for (uint32_t k = 0; k < o->via.map.size; k++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[k];

			if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 3 &&
			    !memcmp(kv->key.via.str.ptr, "ack", 3))
				v = &kv->val;
		}
	if (!v || v->type != MSGPACK_OBJECT_STR || v->via.str.size >= sizeof(chunk))
		return vg_errf(err, "the collector sent something other than an ack");
	snprintf(chunk, sizeof(chunk), "%.*s", (int)v->via.str.size, v->via.str.ptr);
	for (i = 0; i < sh->nfl && strcmp(sh->fl[i].chunk, chunk); i++)
		;
	if (i == sh->nfl)
		return vg_errf(err, "an ack for chunk %s, which is not in flight", chunk);
	sh->fl[i] = sh->fl[--sh->nfl];
	pthread_mutex_lock(&sp->mu);
	if (ob_ack(sp->ob, chunk, err) < 0)
		log_err("outbox: %s", err->msg);
	pthread_mutex_unlock(&sp->mu);
	pthread_mutex_lock(&sh->mu);
	sh->st.acked++;
	sh->st.last_ack = time(NULL);
	pthread_mutex_unlock(&sh->mu);
	return 0;
}

/* One connection's life: 0 when stopping, -1 with err when it failed. */
static int session(struct shipper *sh, struct link *l, struct vg_err *err)
{
	struct fwd_limits lim;
	unsigned ack_to = sh->o.ack_timeout_ms ? sh->o.ack_timeout_ms : 30000;

	fwd_limits_default(&lim);
	lim.frame_max = lim.str_max = ACK_MAX;
	lim.depth_max = 2;
	lim.objects_max = 16;
	sh->nfl = 0;
	while (!done(sh)) {
		msgpack_zone z;
		msgpack_object o;
		int r;

		if (send_more(sh, l, err))
			return -1;
		if (sh->nfl == 0) {
			nap(sh, TICK_MS);
			continue;
		}
		r = link_read(l, &lim, TICK_MS, &z, &o, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			r = on_ack(sh, &o, err);
			msgpack_zone_destroy(&z);
			if (r)
				return -1;
			continue;
		}
		for (unsigned i = 0; i < sh->nfl; i++)
			if (mono_ms() - sh->fl[i].sent_ms > ack_to)
				return vg_errf(err, "no ack for chunk %s in %u ms", sh->fl[i].chunk,
					       ack_to);
	}
	return 0;
}

static void *run(void *u)
{
	struct shipper *sh = u;
	unsigned backoff = 1000, bmax = sh->o.backoff_max_ms ? sh->o.backoff_max_ms : 60000;
	SSL_CTX *ctx = NULL;

	while (!done(sh)) {
		struct vg_err err = {{0}};
		struct link l;

		if (!ctx && !(ctx = ident_ctx(sh->o.id, &err))) {
			set_error(sh, err.msg);
			log_err("shipper: %s", err.msg);
			nap(sh, jitter(backoff));
			backoff = backoff * 2 > bmax ? bmax : backoff * 2;
			continue;
		}
		if (link_open(&l, sh->o.id->collector, ctx, 10000, ACK_MAX * 4, &err)) {
			set_error(sh, err.msg);
			log_warn("shipper: %s; again in about %u ms", err.msg, backoff);
			nap(sh, jitter(backoff));
			backoff = backoff * 2 > bmax ? bmax : backoff * 2;
			continue;
		}
		backoff = 1000;
		pthread_mutex_lock(&sh->mu);
		sh->st.connected = true;
		sh->st.connects++;
		pthread_mutex_unlock(&sh->mu);
		log_info("shipper: connected to %s as %s", sh->o.id->collector, sh->o.id->host_id);
		if (session(sh, &l, &err)) {
			set_error(sh, err.msg);
			log_warn("shipper: %s; reconnecting", err.msg);
			nap(sh, jitter(backoff));
		}
		link_close(&l);
		pthread_mutex_lock(&sh->mu);
		sh->st.connected = false;
		pthread_mutex_unlock(&sh->mu);
	}
	SSL_CTX_free(ctx);
	return NULL;
}

int shipper_start(struct shipper **out, const struct shipper_opts *o, struct vg_err *err)
{
	struct shipper *sh = xcalloc(1, sizeof(*sh));
	int rc;

	sh->o = *o;
	sh->fl = xcalloc(o->window ? o->window : 4, sizeof(*sh->fl));
	sh->tokens_ms = mono_ms();
	sh->tokens = 1;
	pthread_mutex_init(&sh->mu, NULL);
	rc = pthread_create(&sh->th, NULL, run, sh);
	if (rc) {
		pthread_mutex_destroy(&sh->mu);
		free(sh->fl);
		free(sh);
		return vg_errf(err, "shipper thread: %s", strerror(rc));
	}
	*out = sh;
	return 0;
}

void shipper_stop(struct shipper *sh, unsigned grace_ms)
{
	struct spool *sp = sh->o.spool;

	pthread_mutex_lock(&sh->mu);
	sh->stop = true;
	sh->stop_by_ms = mono_ms() + grace_ms;
	pthread_mutex_unlock(&sh->mu);
	pthread_mutex_lock(&sp->mu);
	pthread_cond_broadcast(&sp->sealed);
	pthread_mutex_unlock(&sp->mu);
	pthread_join(sh->th, NULL);
}

void shipper_free(struct shipper *sh)
{
	if (!sh)
		return;
	pthread_mutex_destroy(&sh->mu);
	free(sh->fl);
	free(sh->frame);
	free(sh);
}

void shipper_stats(struct shipper *sh, struct shipper_stats *st)
{
	pthread_mutex_lock(&sh->mu);
	*st = sh->st;
	pthread_mutex_unlock(&sh->mu);
}
