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
 *
 * Identities (run.h): a batch is sent with the identity its chunk id names,
 * the current one or the previous one (identity.prev), over a link made
 * with that identity's key, since the collector takes a record only from
 * the host it names. A session sends one identity's batches; which one is
 * the oldest batch's. The previous identity's batches are all older than
 * the current one's (the spool sealed its open batch as the previous host
 * before taking a record as the new one), so this is oldest first overall.
 *
 * A refused certificate looks, from here, like any connection the
 * collector closes (TLS 1.3: the client's handshake ends before the server
 * has checked its certificate). So a failure of the previous identity
 * counts only when its TCP connection was made, and only when the current
 * one is acked right after it (a probe session, ended by its first ack): a
 * collector that is down or failing refuses both, and nothing is given up
 * for it. One that cannot be reached is waited for, oldest first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "link.h"
#include "run.h"

#define ACK_MAX 512			/* bytes of one ack message */
#define TICK_MS 200
#define PREV_TRIES 3			/* refusals of the previous identity before giving up */

struct flight {
	char chunk[128];
	int64_t sent_ms;
};

/* One identity and its TLS context (made when first needed). */
struct who {
	const struct ident *id;
	const char *name;		/* for messages: "host X" */
	SSL_CTX *ctx;
};

struct shipper {
	struct shipper_opts o;
	struct who cur, prev;
	bool have_prev;
	unsigned prev_fails;		/* sessions in a row as prev without an ack */
	bool cur_proven;		/* an ack as cur since prev last failed */
	uint64_t session_acks;
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

/* With the spool locked: a batch made as neither identity has no key
 * that could send it. */
static void give_up_foreign(struct shipper *sh, const char *host)
{
	struct spool *sp = sh->o.spool;
	struct vg_err err = {{0}};
	uint64_t nb, nr;
	char why[300];

	snprintf(why, sizeof(why), "made as host %s, which is neither this host (%s) nor "
		 "identity.prev", host, sh->cur.id->host_id);
	if (ob_discard(sp->ob, host, why, &nb, &nr, &err))
		log_err("shipper: giving up the batches of host %s: %s", host, err.msg);
	else
		log_err("shipper: %" PRIu64 " batches (%" PRIu64 " records) were made as host %s, "
			"which is neither this host nor identity.prev: they cannot be sent; moved "
			"to bad/, a gap record follows", nb, nr, host);
}

/* Copies the oldest sealed batch made as w's host and not yet in flight;
 * 1 when there is none. Batches of the other identity are passed over. */
static int next_batch(struct shipper *sh, const struct who *w, char *chunk, size_t *len,
		      struct vg_err *err)
{
	struct spool *sp = sh->o.spool;
	struct ob_batch b;
	int r = 1;
	uint64_t now = (uint64_t)mono_ms();
	unsigned given_up = 0;

	pthread_mutex_lock(&sp->mu);
	if (ob_tick(sp->ob, now, err))
		log_err("outbox: %s", err->msg);
	/* Chunk ids come from memory; only the batch chosen is read (ob_peek),
	 * and a damaged one it sets aside moves the indexes: choose again. */
	for (size_t i = 0;;) {
		char host[OB_SENSOR_MAX + 1], want[128];

		if (ob_chunk_at(sp->ob, i, want)) {
			r = 1;
			break;
		}
		if (ob_chunk_sensor(want, host) == 0 && strcmp(host, sh->cur.id->host_id) &&
		    !(sh->have_prev && !strcmp(host, sh->prev.id->host_id)) && given_up++ < 16) {
			give_up_foreign(sh, host);
			i = 0;		/* the indexes moved */
			continue;
		}
		if (ob_chunk_sensor(want, host) || strcmp(host, w->id->host_id) ||
		    in_flight(sh, want)) {
			i++;
			continue;
		}
		r = ob_peek(sp->ob, i, &b, err);
		if (r != 0 || !strcmp(b.chunk, want))
			break;
		i = 0;
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

static int send_more(struct shipper *sh, const struct who *w, struct link *l,
		     struct vg_err *err)
{
	unsigned window = sh->o.window ? sh->o.window : 4;

	while (sh->nfl < window) {
		char chunk[128];
		size_t len = 0;
		int r = next_batch(sh, w, chunk, &len, err);

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
	sh->session_acks++;
	pthread_mutex_lock(&sh->mu);
	sh->st.acked++;
	sh->st.last_ack = time(NULL);
	pthread_mutex_unlock(&sh->mu);
	return 0;
}

/* The previous identity has nothing left to send: it is no longer needed. */
static void prev_retire(struct shipper *sh)
{
	struct vg_err err = {{0}};

	if (ident_drop_prev(sh->o.state_dir, &err))
		log_err("shipper: %s", err.msg);
	else
		log_info("shipper: nothing is left to send as host %s: %s/" IDENT_PREV " removed",
			 sh->prev.id->host_id, sh->o.state_dir);
	sh->have_prev = false;
	SSL_CTX_free(sh->prev.ctx);
	sh->prev.ctx = NULL;
	pthread_mutex_lock(&sh->mu);
	sh->st.prev_host[0] = '\0';
	pthread_mutex_unlock(&sh->mu);
}

/* The collector refuses the previous identity: its batches can never go. */
static void prev_give_up(struct shipper *sh)
{
	struct spool *sp = sh->o.spool;
	struct vg_err err = {{0}};
	uint64_t nb = 0, nr = 0;
	char why[300];
	int r;

	snprintf(why, sizeof(why), "made as host %s, whose certificate the collector refuses",
		 sh->prev.id->host_id);
	pthread_mutex_lock(&sp->mu);
	r = ob_discard(sp->ob, sh->prev.id->host_id, why, &nb, &nr, &err);
	pthread_mutex_unlock(&sp->mu);
	if (r) {
		log_err("shipper: giving up the batches of host %s: %s", sh->prev.id->host_id,
			err.msg);
		nap(sh, 1000);		/* tried again at the next turn, not in a spin */
		return;
	}
	log_err("shipper: the collector refused the previous identity (host %s) %u times while "
		"it accepted this one: %" PRIu64 " batches (%" PRIu64 " records) made as %s cannot "
		"be delivered; moved to bad/, a gap record follows", sh->prev.id->host_id,
		sh->prev_fails, nb, nr, sh->prev.id->host_id);
	prev_retire(sh);
}

static void prev_failed(struct shipper *sh, const char *why)
{
	sh->prev_fails++;
	sh->cur_proven = false;
	log_warn("shipper: as the previous identity (host %s): %s (%u in a row); trying this "
		 "host's identity before again", sh->prev.id->host_id, why, sh->prev_fails);
}

/* True when w is the previous identity and all of its batches are acked. */
static bool prev_drained(struct shipper *sh, const struct who *w)
{
	uint64_t nb, nr;

	if (w != &sh->prev || sh->nfl)
		return false;
	spool_held(sh->o.spool, w->id->host_id, &nb, &nr);
	return nb == 0;
}

/* One connection's life: 0 when stopping (or, probe, at the first ack; or
 * as prev, when it has nothing left), -1 with err when it failed. */
static int session(struct shipper *sh, const struct who *w, bool probe, struct link *l,
		   struct vg_err *err)
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

		if (send_more(sh, w, l, err))
			return -1;
		if (prev_drained(sh, w))
			return 0;
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
			if (probe)
				return 0;
			continue;
		}
		for (unsigned i = 0; i < sh->nfl; i++)
			if (mono_ms() - sh->fl[i].sent_ms > ack_to)
				return vg_errf(err, "no ack for chunk %s in %u ms", sh->fl[i].chunk,
					       ack_to);
	}
	return 0;
}

/* Which identity the next session is made with; NULL when the turn went to
 * retiring or giving up the previous one. */
static struct who *choose(struct shipper *sh, bool *probe)
{
	uint64_t nb, nr;

	*probe = false;
	if (!sh->have_prev)
		return &sh->cur;
	spool_held(sh->o.spool, sh->prev.id->host_id, &nb, &nr);
	if (nb == 0) {
		prev_retire(sh);
		return NULL;
	}
	if (sh->prev_fails >= PREV_TRIES && sh->cur_proven) {
		prev_give_up(sh);
		return NULL;
	}
	if (sh->prev_fails > 0 && !sh->cur_proven) {
		*probe = true;
		return &sh->cur;
	}
	return &sh->prev;
}

static void *run(void *u)
{
	struct shipper *sh = u;
	unsigned backoff = 1000, bmax = sh->o.backoff_max_ms ? sh->o.backoff_max_ms : 60000;

	while (!done(sh)) {
		struct vg_err err = {{0}};
		struct link l;
		struct who *w;
		bool probe;
		int r;

		if (!(w = choose(sh, &probe)))
			continue;
		if (!w->ctx && !(w->ctx = ident_ctx(w->id, &err))) {
			set_error(sh, err.msg);
			log_err("shipper: %s", err.msg);
			if (w == &sh->prev)
				prev_failed(sh, err.msg);
			nap(sh, jitter(backoff));
			backoff = backoff * 2 > bmax ? bmax : backoff * 2;
			continue;
		}
		if (link_open(&l, w->id->collector, w->ctx, 10000, ACK_MAX * 4, &err)) {
			set_error(sh, err.msg);
			log_warn("shipper: %s; again in about %u ms", err.msg, backoff);
			/* Not reached (down, no route, no name): no refusal, and like
			 * any unreachable collector, the spool waits for it. */
			if (w == &sh->prev && l.reached)
				prev_failed(sh, err.msg);
			nap(sh, jitter(backoff));
			backoff = backoff * 2 > bmax ? bmax : backoff * 2;
			continue;
		}
		pthread_mutex_lock(&sh->mu);
		sh->st.connected = true;
		sh->st.connects++;
		pthread_mutex_unlock(&sh->mu);
		log_info("shipper: connected to %s as %s%s%s", w->id->collector, w->id->host_id,
			 w == &sh->prev ? " (the previous identity, for its spooled batches)" : "",
			 probe ? " (until one batch is acked)" : "");
		backoff = 1000;
		sh->session_acks = 0;
		r = session(sh, w, probe, &l, &err);
		if (w == &sh->prev && sh->session_acks)
			sh->prev_fails = 0;
		else if (w == &sh->prev && r)
			prev_failed(sh, err.msg);
		else if (w == &sh->cur && sh->session_acks)
			sh->cur_proven = true;
		if (r) {
			set_error(sh, err.msg);
			log_warn("shipper: %s; reconnecting", err.msg);
			nap(sh, jitter(backoff));
		}
		link_close(&l);
		pthread_mutex_lock(&sh->mu);
		sh->st.connected = false;
		pthread_mutex_unlock(&sh->mu);
	}
	SSL_CTX_free(sh->cur.ctx);
	SSL_CTX_free(sh->prev.ctx);
	return NULL;
}

int shipper_start(struct shipper **out, const struct shipper_opts *o, struct vg_err *err)
{
	struct shipper *sh = xcalloc(1, sizeof(*sh));
	int rc;

	sh->o = *o;
	sh->cur.id = o->id;
	if (o->prev) {
		sh->prev.id = o->prev;
		sh->have_prev = true;
		snprintf(sh->st.prev_host, sizeof(sh->st.prev_host), "%s", o->prev->host_id);
	}
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
