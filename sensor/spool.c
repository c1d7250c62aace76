/* spool.c: the outbox shared by the daemon's threads (run.h). */
#include <string.h>
#include <time.h>

#include "run.h"

int spool_open(struct spool *s, const struct ob_opts *o, struct vg_err *err)
{
	memset(s, 0, sizeof(*s));
	if (ob_open(&s->ob, o, err))
		return -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->sealed, NULL);
	return 0;
}

void spool_close(struct spool *s)
{
	if (!s->ob)
		return;
	ob_close(s->ob);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->sealed);
	memset(s, 0, sizeof(*s));
}

void spool_put(struct spool *s, uint64_t time_ns, const void *map, size_t len)
{
	struct vg_err err = {{0}};
	struct ob_stats before, after;
	bool say = false;
	int r;

	pthread_mutex_lock(&s->mu);
	ob_stats(s->ob, &before);
	r = ob_put(s->ob, time_ns, map, len, &err);
	ob_stats(s->ob, &after);
	if (r) {
		s->put_errors++;
		say = time(NULL) - s->logged >= 60;	/* a flood of one complaint helps nobody */
		if (say)
			s->logged = time(NULL);
	}
	if (after.batches != before.batches)
		pthread_cond_broadcast(&s->sealed);
	pthread_mutex_unlock(&s->mu);
	if (say)
		log_err("outbox: a record was not kept (%s); counted in put_errors", err.msg);
}

void spool_flush(struct spool *s)
{
	struct vg_err err = {{0}};

	pthread_mutex_lock(&s->mu);
	if (ob_flush(s->ob, &err))
		log_err("outbox: %s", err.msg);
	pthread_cond_broadcast(&s->sealed);
	pthread_mutex_unlock(&s->mu);
}

void spool_stats(struct spool *s, struct ob_stats *st)
{
	pthread_mutex_lock(&s->mu);
	ob_stats(s->ob, st);
	pthread_mutex_unlock(&s->mu);
}

void spool_held(struct spool *s, const char *sensor, uint64_t *batches, uint64_t *records)
{
	pthread_mutex_lock(&s->mu);
	ob_held(s->ob, sensor, batches, records);
	pthread_mutex_unlock(&s->mu);
}
