/*
 * fim_hash.c: the worker threads, and the ring that keeps their results in
 * walk order.
 *
 * The walk (the main thread) fills ring slots in path order; workers claim
 * them in small batches, stat each entry, decide whether it must be read
 * (always for init and --full; for a check, only when inode, size, mtime or
 * ctime moved), and read it. The main thread consumes completed slots from
 * the head only, so the baseline is written in key order and a report comes
 * out sorted, while at most RING_SLOTS entries are ever held.
 *
 * A file that changed while it was read goes to the back of a retry queue
 * and is read again a little later, up to READ_TRIES times in all; after
 * that it is recorded as unstable, without a digest, rather than with a
 * digest of no version that ever existed.
 *
 * Everything shared is guarded by one mutex, taken once per batch, not per
 * file: system calls cost microseconds on these machines.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fim_impl.h"

#define RING_SLOTS 4096			/* a power of two */
#define CLAIM_BATCH 32
#define PUBLISH_BATCH 128
#define READ_TRIES 4
#define BIG_FILE (1u << 20)		/* hands the rest of its batch back */
#define RETRY_DELAY_S 0.02		/* times the attempt number */

enum { JOB_FILLING, JOB_READY, JOB_CLAIMED, JOB_RETRY, JOB_DONE };

struct fim_pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	struct fim_job *ring;
	uint64_t head, tail;		/* main thread: consumed, filled */
	uint64_t published, claimed;	/* under mu */
	uint64_t *retry;		/* slot numbers, a FIFO */
	uint64_t rhead, rtail;
	uint64_t *back;			/* claimed, then handed back: a stack */
	size_t nback;
	bool stop;
	int idle_workers;
	bool main_waiting;
	uint64_t main_wants;		/* the slot the main thread waits for */
	uint64_t requeued;
	struct fim_pool_opts o;
	pthread_t *threads;
	struct fim_reader *readers;
	int nthreads, started;
};

struct worker {
	struct fim_pool *p;
	struct fim_reader *rd;
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct fim_job *slot(struct fim_pool *p, uint64_t n)
{
	return &p->ring[n & (RING_SLOTS - 1)];
}

/* Stats the entry; true if it must be read (else the job is complete). */
static bool stat_job(struct fim_pool *p, struct fim_job *j)
{
	int e;

	j->cur.attrs = j->set->attrs;
	j->cur.flags = 0;
	/* Every file is read anyway: the fstat of the open file is the stat
	 * (a system call saved per file); a retry stats afresh. */
	if (p->o.full && j->dtype == DT_REG && j->attempts == 0) {
		j->cur.type = S_IFREG;
		j->has_cur = true;
		return true;
	}
	if ((e = fim_stat(j->dir->fd, j->name, &j->cur))) {
		j->has_cur = false;
		j->err = e == ENOENT || e == ENOTDIR ? 0 : e;	/* gone is not an error */
		return false;
	}
	j->has_cur = true;
	if (!fim_must_read(j->has_old ? &j->old : NULL, &j->cur, p->o.full)) {
		fim_record_copy_content(&j->cur, &j->old);
		return false;
	}
	return true;
}

/* Returns JOB_DONE or JOB_RETRY. */
static unsigned read_job(struct fim_pool *p, struct fim_reader *rd, struct fim_job *j)
{
	enum fim_read_rc rc;

	j->reread = true;
	rc = fim_read(rd, j->dir->fd, j->name, j->path, &j->cur, j->attempts, p->o.hook,
		      p->o.hook_u);
	switch (rc) {
	case FIM_READ_OK:
		return JOB_DONE;
	case FIM_READ_GONE:
		fim_record_free(&j->cur);
		j->has_cur = false;
		return JOB_DONE;
	case FIM_READ_FAILED:
		j->err = errno ? errno : EIO;
		j->cur.flags |= FIM_F_UNREADABLE;
		j->cur.flags &= ~FIM_F_HASHED;
		return JOB_DONE;
	case FIM_READ_CHANGED:
		break;
	}
	if (++j->attempts < READ_TRIES)
		return JOB_RETRY;
	j->cur.flags |= FIM_F_UNSTABLE;
	j->cur.flags &= ~FIM_F_HASHED;
	return JOB_DONE;
}

static bool retry_due(struct fim_pool *p, double now)
{
	return p->rhead != p->rtail && slot(p, p->retry[p->rhead % RING_SLOTS])->retry_at <= now;
}

/* Under mu: the next batch, or 0 with *wait_until set if only a retry
 * that is not yet due is left (0 when there is nothing at all). */
static size_t take(struct fim_pool *p, uint64_t *batch, double *wait_until)
{
	double now = now_mono();
	size_t n = 0;

	*wait_until = 0;
	if (retry_due(p, now)) {
		batch[n++] = p->retry[p->rhead++ % RING_SLOTS];
		return n;
	}
	while (n < CLAIM_BATCH && p->nback)
		batch[n++] = p->back[--p->nback];
	if (n)
		return n;
	while (n < CLAIM_BATCH && p->claimed < p->published) {
		uint64_t s = p->claimed++;
		if (slot(p, s)->state == JOB_READY) {
			slot(p, s)->state = JOB_CLAIMED;
			batch[n++] = s;
		}
	}
	if (n == 0 && p->rhead != p->rtail)
		*wait_until = slot(p, p->retry[p->rhead % RING_SLOTS])->retry_at;
	return n;
}

static void wait_for_work(struct fim_pool *p, double until)
{
	struct timespec ts;

	p->idle_workers++;
	if (until > 0) {
		/* work_cv runs on CLOCK_MONOTONIC (fim_pool_start). */
		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&p->work_cv, &p->mu, &ts);
	} else {
		pthread_cond_wait(&p->work_cv, &p->mu);
	}
	p->idle_workers--;
}

static void finish(struct fim_pool *p, uint64_t s, unsigned state)
{
	struct fim_job *j = slot(p, s);

	j->state = state;
	if (state == JOB_RETRY) {
		j->retry_at = now_mono() + RETRY_DELAY_S * j->attempts;
		p->retry[p->rtail++ % RING_SLOTS] = s;
		p->requeued++;
	}
}

/* The rest of a batch goes back to the pool, for an idle worker. */
static void hand_back(struct fim_pool *p, const uint64_t *rest, size_t n)
{
	pthread_mutex_lock(&p->mu);
	for (size_t i = n; i-- > 0;)	/* the earliest on top */
		p->back[p->nback++] = rest[i];
	if (p->idle_workers)
		pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
}

/* Completes the jobs of a batch; returns how many it kept. A large file
 * would hold up the small ones claimed with it (and the in-order ring
 * behind them), so before reading one the rest of the batch is handed back. */
static size_t work_batch(struct fim_pool *p, struct fim_reader *rd, uint64_t *batch, size_t n,
			 unsigned *result)
{
	for (size_t i = 0; i < n; i++) {
		struct fim_job *j = slot(p, batch[i]);
		if (!stat_job(p, j)) {
			result[i] = JOB_DONE;
			continue;
		}
		if (j->cur.type == S_IFREG && j->cur.size >= BIG_FILE && i + 1 < n) {
			hand_back(p, batch + i + 1, n - i - 1);
			n = i + 1;
		}
		result[i] = read_job(p, rd, j);
	}
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct fim_pool *p = w->p;
	uint64_t batch[CLAIM_BATCH];
	unsigned result[CLAIM_BATCH];
	double until;
	size_t n;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if (!(n = take(p, batch, &until))) {
			wait_for_work(p, until);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		n = work_batch(p, w->rd, batch, n, result);
		pthread_mutex_lock(&p->mu);
		bool wanted = false;
		for (size_t i = 0; i < n; i++) {
			finish(p, batch[i], result[i]);
			wanted |= batch[i] == p->main_wants;
		}
		/* Wake the main thread only for the job it waits on. */
		if (p->main_waiting && wanted)
			pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	free(w);
	return NULL;
}

static int cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int rc;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

/* The CPUs this process may run on (a container or taskset may allow
 * fewer than the machine has). */
static int usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

int fim_pool_start(struct fim_pool **out, const struct fim_pool_opts *o, struct vg_err *err)
{
	struct fim_pool *p = xcalloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	p->o = *o;
	p->nthreads = o->threads > 0 ? o->threads : usable_cpus();
	if (p->nthreads < 1)
		p->nthreads = 1;
	p->ring = xcalloc(RING_SLOTS, sizeof(*p->ring));
	p->retry = xcalloc(RING_SLOTS, sizeof(*p->retry));
	p->back = xcalloc(RING_SLOTS, sizeof(*p->back));
	p->threads = xcalloc((size_t)p->nthreads, sizeof(*p->threads));
	p->readers = xcalloc((size_t)p->nthreads, sizeof(*p->readers));
	pthread_mutex_init(&p->mu, NULL);
	cond_init_monotonic(&p->work_cv);
	pthread_cond_init(&p->done_cv, NULL);
	for (int i = 0; i < p->nthreads; i++) {
		struct worker *w;
		if (fim_reader_init(&p->readers[i], err)) {
			fim_pool_stop(p);
			return -1;
		}
		w = xmalloc(sizeof(*w));
		w->p = p;
		w->rd = &p->readers[i];
		if ((rc = pthread_create(&p->threads[i], NULL, worker_main, w))) {
			free(w);
			fim_reader_fini(&p->readers[i]);
			fim_pool_stop(p);
			return vg_errf(err, "fim: starting a hash thread: %s", strerror(rc));
		}
		p->started++;
	}
	*out = p;
	return 0;
}

struct fim_job *fim_pool_slot(struct fim_pool *p)
{
	struct fim_job *j;

	if (p->tail - p->head >= RING_SLOTS)
		return NULL;
	j = slot(p, p->tail);
	memset(j, 0, sizeof(*j));
	return j;
}

static void publish(struct fim_pool *p)
{
	if (p->published == p->tail)
		return;
	pthread_mutex_lock(&p->mu);
	/* One worker per batch it can take; a wakeup costs a system call. */
	if (p->idle_workers > 1 && p->tail - p->published > CLAIM_BATCH)
		pthread_cond_broadcast(&p->work_cv);
	else if (p->idle_workers)
		pthread_cond_signal(&p->work_cv);
	p->published = p->tail;
	pthread_mutex_unlock(&p->mu);
}

void fim_pool_push(struct fim_pool *p)
{
	struct fim_job *j = slot(p, p->tail);

	/* A baseline entry no longer seen needs no worker. */
	j->state = j->dir ? JOB_READY : JOB_DONE;
	p->tail++;
	if (p->tail - p->published >= PUBLISH_BATCH)
		publish(p);
}

size_t fim_pool_ready(struct fim_pool *p, bool wait)
{
	size_t n = 0;

	if (p->head == p->tail)
		return 0;
	if (wait)
		publish(p);
	pthread_mutex_lock(&p->mu);
	while (wait && slot(p, p->head)->state != JOB_DONE) {
		p->main_waiting = true;
		p->main_wants = p->head;
		pthread_cond_wait(&p->done_cv, &p->mu);
		p->main_waiting = false;
	}
	while (p->head + n < p->tail && slot(p, p->head + n)->state == JOB_DONE)
		n++;
	pthread_mutex_unlock(&p->mu);
	return n;
}

struct fim_job *fim_pool_head(struct fim_pool *p)
{
	return p->head < p->tail ? slot(p, p->head) : NULL;
}

void fim_pool_pop(struct fim_pool *p)
{
	p->head++;
}

size_t fim_pool_pending(const struct fim_pool *p)
{
	return (size_t)(p->tail - p->head);
}

uint64_t fim_pool_requeued(struct fim_pool *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->mu);
	n = p->requeued;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void fim_pool_stop(struct fim_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->started; i++)
		pthread_join(p->threads[i], NULL);
	for (int i = 0; i < p->nthreads; i++)
		fim_reader_fini(&p->readers[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	free(p->ring);
	free(p->retry);
	free(p->back);
	free(p->threads);
	free(p->readers);
	free(p);
}
