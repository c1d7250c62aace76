/*
 * run.h: `vigil run`, the daemon, and the modules only it uses.
 *
 *   run.c      configuration, identity, the threads, signals, the schedule
 *   spool.c    the outbox behind a mutex: producers put, the shipper drains
 *   shipper.c  one thread: the outbox to the collector over mutual TLS
 *   sdnotify.c READY/WATCHDOG/STOPPING to systemd, when it runs us
 *   status.c   STATE/status.json, which `vigil status` reads
 *
 * Threads: the main thread runs the event loop (eBPF or fanotify events,
 * realtime FIM, timers, signals); a checks thread runs the baseline on its
 * schedule; the shipper thread sends. They meet only in the spool.
 */
#ifndef VIGIL_RUN_H
#define VIGIL_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ident.h"
#include "outbox.h"
#include "vigil.h"

/* ---- spool.c ----------------------------------------------------------- */
struct spool {
	pthread_mutex_t mu;
	pthread_cond_t sealed;		/* a batch was sealed, or stop */
	struct outbox *ob;
	bool stop;
	uint64_t put_errors;
	time_t logged;			/* last complaint about a put */
};
int spool_open(struct spool *s, const struct ob_opts *o, struct vg_err *err);
void spool_close(struct spool *s);
/* One record (a packed msgpack map); an error is counted and logged once a
 * minute at most, since a producer can do nothing else with it. */
void spool_put(struct spool *s, uint64_t time_ns, const void *map, size_t len);
void spool_flush(struct spool *s);
void spool_stats(struct spool *s, struct ob_stats *st);
/* ob_held under the lock. */
void spool_held(struct spool *s, const char *sensor, uint64_t *batches, uint64_t *records);

/* ---- shipper.c ----------------------------------------------------------- */
/*
 * Batches go oldest first, each with the identity its chunk id names: the
 * current one (id), or the one before the last enrollment (prev, from
 * STATE/identity.prev), whose batches are all older. One link at a time,
 * made with the identity of the oldest batch. When prev has nothing left,
 * STATE/identity.prev is removed. A batch that can never be delivered goes
 * to bad/ and into a gap record (ob_discard), so the spool is never stuck:
 * prev's batches once the collector refused prev PREV_TRIES times in a row
 * (connected, then closed without an ack) while accepting the current
 * identity after each refusal (so a collector that is down or failing is
 * never mistaken for a refusal), and at once a batch whose chunk id names
 * neither identity.
 */
struct shipper_opts {
	const struct ident *id;
	const struct ident *prev;	/* NULL: none */
	const char *state_dir;		/* where identity.prev is removed */
	struct spool *spool;
	unsigned window;		/* batches in flight; 0: 4 */
	unsigned rate;			/* most batches sent per second; 0: 50 */
	unsigned ack_timeout_ms;	/* 0: 30000 */
	unsigned backoff_max_ms;	/* 0: 60000 */
};
struct shipper_stats {
	bool connected;
	uint64_t connects, failures, sent, acked;
	int64_t last_ack;		/* unix seconds */
	char last_error[256];
	char prev_host[PKI_HOSTID_MAX + 1];	/* "": no previous identity (any more) */
};
struct shipper;
int shipper_start(struct shipper **sh, const struct shipper_opts *o, struct vg_err *err);
/* Asks it to stop and waits at most grace_ms for what is sealed to be
 * acked; its stats stay readable until shipper_free. */
void shipper_stop(struct shipper *sh, unsigned grace_ms);
void shipper_free(struct shipper *sh);
void shipper_stats(struct shipper *sh, struct shipper_stats *st);

/* ---- status.c ------------------------------------------------------------ */
struct run_status {
	const char *mode, *host_id, *collector;
	const char *prev_host;		/* NULL or "": no identity.prev */
	uint64_t prev_batches, prev_records;	/* still to send as prev_host */
	int64_t started;
	struct ob_stats ob;
	struct shipper_stats sh;
	uint64_t events, drops, findings, checks_runs;
	int64_t last_checks;
	double score;
};
int status_write(const char *state_dir, const struct run_status *st, struct vg_err *err);
/* `vigil status [--state-dir DIR] [--json]` */
int cmd_status(int argc, char **argv);

/* ---- run.c --------------------------------------------------------------- */
int cmd_run(int argc, char **argv);

#endif
