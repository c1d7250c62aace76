/*
 * run.c: `vigil run`, the daemon (vigil(8)).
 *
 * What it does, on the configuration of /etc/vigil/vigil.yaml:
 *   - the baseline checks, at start and every run.check_interval, in their
 *     own thread (a run takes seconds; events must not wait for it);
 *   - process events and realtime FIM drift from the best event source here
 *     (eBPF, else fanotify, else rescans), in the main thread's loop;
 *   - a heartbeat every run.heartbeat_interval, saying the mode in force;
 *   - everything into the outbox, which the shipper drains to the
 *     collector this host enrolled with.
 * SIGHUP reloads the configuration (a bad file is refused and the running
 * one kept); SIGTERM stops: the open batch is sealed, the shipper gets a
 * few seconds to deliver, and the rest stays spooled for the next start.
 * Under systemd: READY=1 once running, WATCHDOG=1 from the loop (so a
 * wedged loop is restarted), STOPPING=1 on the way out.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drift.h"
#include "run.h"
#include "sdnotify.h"
#include "ship.h"
#include "watch.h"

#define TICK_MS 500
#define DRIFT_TICK_MS 50
#define STATUS_MS 5000
#define STOP_GRACE_MS 5000
#define RESCAN_INTERVAL_S 300	/* the last resort's walk of the watched set */

struct checks {
	pthread_t th;
	atomic_bool running, joinable;
	atomic_uint_fast64_t runs;
	atomic_int_fast64_t last;	/* unix seconds of the last finished run */
	_Atomic double score;
};

struct daemon {
	const char *config_path;	/* NULL: /etc/vigil/vigil.yaml */
	struct vg_config cfg;
	char state_dir[PATH_MAX];
	struct ident id;
	struct ident prev;		/* identity.prev, when have_prev */
	bool have_prev;
	struct ship_host host;		/* the main thread's records */
	struct ship_host gap_host;	/* gap records: made under the spool's lock */
	msgpack_sbuffer scratch;	/* the main thread's packing buffer */
	struct spool spool;
	struct shipper *sh;
	struct vg_loop *loop;
	struct vg_source source;
	bool have_source;
	struct vg_proctab *pt;
	struct drift *drift;
	struct checks checks;
	struct vg_counters last;	/* source counters at the last tick */
	uint64_t events;
	int64_t started, next_checks, next_heartbeat, next_status;
	uint64_t watchdog_ms;
	int64_t next_watchdog_ms;
	bool reload;
	FILE *devnull;			/* drift's text lines: the journal needs none */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- records into the spool ----------------------------------------------- */

/* A ship_put_fn: u is the spool. */
static int put_map(void *u, uint64_t time_ns, const void *map, size_t len, struct vg_err *err)
{
	spool_put(u, time_ns, map, len);
	return 0;
}

static int put_inventory(struct daemon *d, struct ship_host *h, struct vg_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t t = now_ns();
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc = ship_inventory(&pk, h, t / 1000000, err);
	if (!rc)
		spool_put(&d->spool, t, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* The main thread's packer: pk over d->scratch, emptied. */
static msgpack_packer scratch(struct daemon *d)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(&d->scratch);
	msgpack_packer_init(&pk, &d->scratch, msgpack_sbuffer_write);
	return pk;
}

static void put_scratch(struct daemon *d, uint64_t t_ns, int rc, const struct vg_err *err,
			const char *what)
{
	if (rc) {
		log_warn("%s: not shipped: %s", what, err->msg);
		return;
	}
	spool_put(&d->spool, t_ns, d->scratch.data, d->scratch.size);
}

/* ---- the checks thread -------------------------------------------------- */

struct checks_job {
	struct daemon *d;
	struct vg_config cfg;		/* a copy of what it needs: reloads may free the daemon's */
};

static void *checks_main(void *u)
{
	struct checks_job *job = u;
	struct daemon *d = job->d;
	struct vg_filter filter = {.min_severity = -1};
	struct vg_err err = {{0}};
	struct vg_ctx ctx;
	struct vg_osrel os = {0};
	struct vg_baseline b;
	struct vg_summary sum;
	struct vg_host host;
	struct vg_result *res;
	struct ship_host sh;
	char *path = NULL;

	if (ctx_init(&ctx, "/", &job->cfg, &err)) {
		log_err("checks: %s", err.msg);
		goto out;
	}
	if (osrel_read(&ctx.root, &os) < 0)
		log_warn("checks: no /etc/os-release; the system is unknown");
	if (baseline_select(job->cfg.baseline, job->cfg.baseline_dir, &os, &path, &err) ||
	    baseline_load(&b, path, &err)) {
		log_err("checks: %s", err.msg);
		free(path);
		osrel_free(&os);
		ctx_fini(&ctx);
		goto out;
	}
	free(path);
	res = xcalloc(b.nchecks, sizeof(*res));
	if (engine_run(&b, &ctx, &filter, res, &sum, &err)) {
		log_err("checks: %s", err.msg);
	} else {
		host_describe(&ctx, &os, &host);
		if (ship_host_init(&sh, d->id.host_id, &ctx, &err) == 0) {
			if (ship_run(&sh, now_ns(), &b, res, &sum, put_map, &d->spool, &err) ||
			    put_inventory(d, &sh, &err))
				log_err("checks: %s", err.msg);
			ship_host_free(&sh);
		} else {
			log_err("checks: %s", err.msg);
		}
		host_free(&host);
		atomic_store(&d->checks.score, sum.score);
		atomic_fetch_add(&d->checks.runs, 1);
		atomic_store(&d->checks.last, (int_fast64_t)time(NULL));
		log_info("checks: %s: %zu passed, %zu failed, %zu errors, score %.1f", b.id,
			 sum.passed, sum.failed, sum.errors, sum.score);
	}
	results_free(res, b.nchecks);
	free(res);
	baseline_free(&b);
	osrel_free(&os);
	ctx_fini(&ctx);
out:
	free(job->cfg.baseline);
	free(job->cfg.baseline_dir);
	free(job);
	atomic_store(&d->checks.running, false);
	return NULL;
}

static void checks_reap(struct daemon *d)
{
	if (atomic_load(&d->checks.joinable) && !atomic_load(&d->checks.running)) {
		pthread_join(d->checks.th, NULL);
		atomic_store(&d->checks.joinable, false);
	}
}

static void checks_start(struct daemon *d)
{
	struct checks_job *job;
	int rc;

	checks_reap(d);
	if (atomic_load(&d->checks.joinable))
		return;		/* the last run is still going: skip, do not pile up */
	job = xcalloc(1, sizeof(*job));
	job->d = d;
	job->cfg.allow_commands = d->cfg.allow_commands;
	job->cfg.command_timeout = d->cfg.command_timeout;
	job->cfg.baseline = d->cfg.baseline ? xstrdup(d->cfg.baseline) : NULL;
	job->cfg.baseline_dir = d->cfg.baseline_dir ? xstrdup(d->cfg.baseline_dir) : NULL;
	atomic_store(&d->checks.running, true);
	rc = pthread_create(&d->checks.th, NULL, checks_main, job);
	if (rc) {
		log_err("checks: thread: %s", strerror(rc));
		atomic_store(&d->checks.running, false);
		free(job->cfg.baseline);
		free(job->cfg.baseline_dir);
		free(job);
		return;
	}
	atomic_store(&d->checks.joinable, true);
}

/* ---- events ----------------------------------------------------------------- */

static void on_event(void *u, const struct vg_event *ev)
{
	struct daemon *d = u;

	proctab_apply(d->pt, ev);
	d->events++;
	if (ev->kind == EV_EXEC || ev->kind == EV_FORK || ev->kind == EV_EXIT) {
		if (d->cfg.run.process_events) {
			struct vg_err err = {{0}};
			msgpack_packer pk = scratch(d);

			put_scratch(d, now_ns(), ship_event(&pk, &d->host, ev, d->pt, &err), &err,
				    "process event");
		}
		return;
	}
	if (d->drift)
		drift_event(d->drift, ev, d->pt);
}

/* drift's emit: the 1001 and, for tampering, the 2004 that points at it. */
static void on_finding(void *u, const struct fim_finding *f, const struct ship_verdict *v)
{
	struct daemon *d = u;
	struct vg_err err = {{0}};
	char uid[SHIP_UID_MAX], tuid[SHIP_UID_MAX];
	uint64_t t = now_ns();
	msgpack_packer pk = scratch(d);

	ship_uid(&d->host, uid);
	put_scratch(d, t, ship_fim(&pk, &d->host, t / 1000000, uid, f, v, &err), &err,
		    "file finding");
	if (v && v->verdict && !strcmp(v->verdict, "tampering")) {
		pk = scratch(d);
		ship_uid(&d->host, tuid);
		put_scratch(d, t, ship_tampering(&pk, &d->host, t / 1000000, tuid, uid, f, v, &err),
			    &err, "tampering finding");
	}
}

static uint64_t lost(const struct vg_counters *c)
{
	return c->drops[DROP_RINGBUF_FULL] + c->drops[DROP_MAP_FULL] + c->overflows;
}

static void heartbeat(struct daemon *d)
{
	struct vg_counters c = {0};
	struct drift_counters dc = {0};
	struct ob_stats ob;
	struct ship_status st = {0};
	struct vg_err err = {{0}};
	uint64_t t = now_ns();
	msgpack_packer pk;

	if (d->have_source)
		d->source.counters(d->source.impl, &c);
	if (d->drift)
		drift_counters(d->drift, &dc);
	spool_stats(&d->spool, &ob);
	st.mode = d->have_source ? d->source.mode : VG_MODE_RESCAN;
	st.uptime_s = (uint64_t)(time(NULL) - d->started);
	st.interval_s = (uint32_t)d->cfg.run.heartbeat_interval;
	st.counters = &c;
	st.outbox = &ob;
	st.drift = d->drift ? &dc : NULL;
	pk = scratch(d);
	put_scratch(d, t, ship_heartbeat(&pk, &d->host, t / 1000000, &st, &err), &err,
		    "heartbeat");
}

static void write_status(struct daemon *d)
{
	struct run_status st = {0};
	struct vg_counters c = {0};
	struct drift_counters dc = {0};
	struct vg_err err = {{0}};

	if (d->have_source)
		d->source.counters(d->source.impl, &c);
	if (d->drift)
		drift_counters(d->drift, &dc);
	st.mode = d->have_source ? mode_name(d->source.mode) : "none";
	st.host_id = d->id.host_id;
	st.collector = d->id.collector;
	st.started = d->started;
	spool_stats(&d->spool, &st.ob);
	shipper_stats(d->sh, &st.sh);
	if (st.sh.prev_host[0]) {
		st.prev_host = st.sh.prev_host;
		spool_held(&d->spool, st.prev_host, &st.prev_batches, &st.prev_records);
	}
	st.events = d->events;
	st.drops = lost(&c);
	st.findings = dc.findings;
	st.checks_runs = atomic_load(&d->checks.runs);
	st.last_checks = atomic_load(&d->checks.last);
	st.score = st.checks_runs ? atomic_load(&d->checks.score) : NAN;
	if (status_write(d->state_dir, &st, &err))
		log_warn("status: %s", err.msg);
}

static void on_tick(void *u)
{
	struct daemon *d = u;
	struct vg_counters c = {0};
	int64_t now = mono_ms();

	if (d->have_source) {
		d->source.counters(d->source.impl, &c);
		if (lost(&c) > lost(&d->last) && d->drift)
			drift_lost(d->drift);	/* the monitored trees are walked again */
		d->last = c;
	}
	checks_reap(d);
	if (now >= d->next_checks) {
		checks_start(d);
		d->next_checks = now + (int64_t)d->cfg.run.check_interval * 1000;
	}
	if (now >= d->next_heartbeat) {
		heartbeat(d);
		d->next_heartbeat = now + (int64_t)d->cfg.run.heartbeat_interval * 1000;
	}
	if (now >= d->next_status) {
		write_status(d);
		d->next_status = now + STATUS_MS;
	}
	if (d->watchdog_ms && now >= d->next_watchdog_ms) {
		sdn_notify("WATCHDOG=1");
		d->next_watchdog_ms = now + (int64_t)d->watchdog_ms / 2;
	}
}

static void on_drift_tick(void *u)
{
	drift_tick(u);
}

static void on_hup(void *u)
{
	struct daemon *d = u;

	d->reload = true;
	loop_stop(d->loop);
}

/* ---- sources, opened from the configuration --------------------------------- */

static int open_source(struct daemon *d, const struct vg_strv *paths, struct vg_err *err)
{
	struct vg_source_opts so = {.paths = paths, .process_events = d->cfg.run.process_events,
				    .coalesce_ms = d->cfg.run.coalesce_ms};

	return source_open(&d->source, d->cfg.run.mode, &so, RESCAN_INTERVAL_S, err);
}

/* A FIM root missing on this host (no cron installed, say) would make
 * every event source fail, and events would be off altogether: the roots
 * that exist are watched live; `vigil fim check` still
 * compares the missing one with its baseline. */
static void keep_existing(struct vg_strv *paths)
{
	struct vg_strv kept = {0};
	struct stat st;

	for (size_t i = 0; i < paths->n; i++) {
		if (stat(paths->v[i], &st) == 0)
			strv_push(&kept, paths->v[i]);
		else
			log_info("realtime FIM: %s: %s; not watched live", paths->v[i],
				 strerror(errno));
	}
	strv_free(paths);
	*paths = kept;
}

static int open_watch(struct daemon *d, struct vg_err *err)
{
	struct vg_strv paths = {0};
	int rc = 0;

	if (d->cfg.run.fim) {
		struct drift_opts dop = {.cfg = &d->cfg.fim, .state_dir = d->cfg.fim.state_dir,
					 .out = d->devnull, .emit = on_finding, .emit_u = d};

		if (drift_open(&d->drift, &dop, err)) {
			/* No FIM baseline yet is normal on a new host: events still flow. */
			log_warn("realtime FIM off: %s (run `vigil fim init`)", err->msg);
			d->drift = NULL;
			err->msg[0] = '\0';
		} else {
			drift_roots(d->drift, &paths);
			keep_existing(&paths);
		}
	}
	if (!d->cfg.run.fim || !d->drift || paths.n == 0)
		strv_push(&paths, "/etc");
	if (open_source(d, &paths, err))
		rc = -1;
	else
		d->have_source = true;
	strv_free(&paths);
	if (!rc)
		log_info("events: mode %s, process events %s, realtime FIM %s",
			 mode_name(d->source.mode), d->cfg.run.process_events ? "on" : "off",
			 d->drift ? "on" : "off");
	return rc;
}

static void close_watch(struct daemon *d)
{
	if (d->drift) {
		drift_flush(d->drift);
		drift_close(d->drift);
		d->drift = NULL;
	}
	if (d->have_source) {
		d->source.close(d->source.impl);
		d->have_source = false;
	}
}

/* ---- life ------------------------------------------------------------------------ */

static int load_config(struct daemon *d, struct vg_config *cfg, struct vg_err *err)
{
	if (config_load_full(cfg, d->config_path, err)) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

/* Who every record says it comes from: this host, as / shows it. */
static int hosts_init(struct daemon *d, struct vg_err *err)
{
	struct vg_ctx ctx;
	int rc;

	if (ctx_init(&ctx, "/", &d->cfg, err))
		return -1;
	rc = ship_host_init(&d->host, d->id.host_id, &ctx, err) ||
	     ship_host_init(&d->gap_host, d->id.host_id, &ctx, err);
	ctx_fini(&ctx);
	return rc ? -1 : 0;
}

/* identity.prev: the identity before the last enrollment, kept while the
 * spool holds batches made under it (docs/outbox.md, "Re-enrollment").
 * One that does not load is reported; its batches then match no identity
 * and are given up with a gap record rather than left to block the spool. */
static void prev_load(struct daemon *d)
{
	struct vg_err err = {{0}};
	int r = ident_load_at(&d->prev, d->state_dir, IDENT_PREV, &err);

	if (r < 0)
		log_err("%s/" IDENT_PREV ": %s; batches made under it cannot be sent", d->state_dir,
			err.msg);
	d->have_prev = r == 0;
}

/* After the spool is open (it sealed prev's open batch as prev): prev is
 * kept only while there is something to send with it. */
static void prev_check(struct daemon *d)
{
	struct vg_err err = {{0}};
	uint64_t nb = 0, nr = 0;

	if (!d->have_prev)
		return;
	if (strcmp(d->prev.host_id, d->id.host_id))
		spool_held(&d->spool, d->prev.host_id, &nb, &nr);
	if (nb) {
		log_info("%" PRIu64 " batches (%" PRIu64 " records) made as host %s, before this host "
			 "enrolled again, are sent first, as %s (%s/" IDENT_PREV ")", nb, nr,
			 d->prev.host_id, d->prev.host_id, d->state_dir);
		return;
	}
	d->have_prev = false;
	if (ident_drop_prev(d->state_dir, &err))
		log_err("%s", err.msg);
	else
		log_info("nothing spooled as host %s: %s/" IDENT_PREV " removed", d->prev.host_id,
			 d->state_dir);
}

static int start(struct daemon *d, struct vg_err *err)
{
	struct ob_opts oo = {0};
	struct shipper_opts so = {0};
	char obdir[PATH_MAX];
	int r;

	if (load_config(d, &d->cfg, err))
		return -1;
	snprintf(d->state_dir, sizeof(d->state_dir), "%s",
		 d->cfg.run.state_dir ? d->cfg.run.state_dir : VG_STATE_DIR);
	if (mkdir(d->state_dir, 0700) < 0 && errno != EEXIST)
		return vg_errf(err, "%s: %s", d->state_dir, strerror(errno));
	r = ident_load(&d->id, d->state_dir, err);
	if (r == 1)
		return vg_errf(err, "this host is not enrolled: run `vigil enroll --collector "
			       "HOST:PORT --token TOKEN` first (state in %s)", d->state_dir);
	if (r)
		return -1;
	prev_load(d);
	if (d->cfg.run.collector) {
		/* The address of the same collector; not of another one prev enrolled with. */
		if (d->have_prev && !strcmp(d->prev.collector, d->id.collector))
			snprintf(d->prev.collector, sizeof(d->prev.collector), "%s",
				 d->cfg.run.collector);
		snprintf(d->id.collector, sizeof(d->id.collector), "%s", d->cfg.run.collector);
	}
	if (hosts_init(d, err))
		return -1;
	if (path_join(obdir, d->state_dir, "outbox"))
		return vg_errf(err, "%s: path too long", d->state_dir);
	oo.dir = obdir;
	oo.sensor_id = d->id.host_id;
	oo.tag = "vigil";
	oo.max_bytes = d->cfg.run.outbox_max_bytes;
	oo.batch_records = d->cfg.run.batch_records;
	oo.batch_bytes = d->cfg.run.batch_bytes;
	oo.batch_ms = d->cfg.run.batch_ms;
	oo.gap_fn = ship_gap;
	oo.gap_u = &d->gap_host;
	if (spool_open(&d->spool, &oo, err))
		return -1;
	prev_check(d);
	so.id = &d->id;
	so.prev = d->have_prev ? &d->prev : NULL;
	so.state_dir = d->state_dir;
	so.spool = &d->spool;
	so.rate = d->cfg.run.rate;
	if (shipper_start(&d->sh, &so, err)) {
		spool_close(&d->spool);
		return -1;
	}
	d->pt = proctab_new("/proc");
	d->started = time(NULL);
	msgpack_sbuffer_init(&d->scratch);
	d->devnull = fopen("/dev/null", "we");
	if (!d->devnull)
		return vg_errf(err, "/dev/null: %s", strerror(errno));
	return 0;
}

/* SIGHUP: a configuration that does not load is refused, the old one kept. */
static void reload(struct daemon *d)
{
	struct vg_config cfg;
	struct vg_err err = {{0}};

	if (load_config(d, &cfg, &err)) {
		log_err("reload refused, the running configuration stays: %s", err.msg);
		return;
	}
	close_watch(d);
	config_free(&d->cfg);
	d->cfg = cfg;
	if (open_watch(d, &err))
		log_err("after reload: %s", err.msg);
	d->next_checks = mono_ms();	/* a new baseline setting shows at once */
	log_info("configuration reloaded");
}

static int serve(struct daemon *d, struct vg_err *err)
{
	int rc = 0;

	if (open_watch(d, err))
		log_err("events off: %s", err->msg);	/* checks and heartbeats still go */
	d->watchdog_ms = sdn_watchdog_ms();
	d->next_checks = d->next_heartbeat = d->next_status = mono_ms();
	sdn_notify("READY=1\nSTATUS=mode %s, host %s",
		   d->have_source ? mode_name(d->source.mode) : "none", d->id.host_id);
	log_info("running as host %s, shipping to %s", d->id.host_id, d->id.collector);
	for (;;) {
		if (!(d->loop = loop_new(err)))
			return -1;
		loop_on_hup(d->loop, on_hup, d);
		if ((d->have_source && loop_add_source(d->loop, &d->source, err)) ||
		    loop_add_timer(d->loop, TICK_MS, on_tick, d, err) ||
		    (d->drift && loop_add_timer(d->loop, DRIFT_TICK_MS, on_drift_tick, d->drift,
						err))) {
			loop_free(d->loop);
			return -1;
		}
		d->reload = false;
		rc = loop_run(d->loop, on_event, d);
		loop_free(d->loop);
		d->loop = NULL;
		if (rc || !d->reload)
			break;
		sdn_notify("RELOADING=1");
		reload(d);
		sdn_notify("READY=1");
	}
	return rc;
}

static void stop(struct daemon *d)
{
	sdn_notify("STOPPING=1");
	close_watch(d);			/* what drift still held is reported */
	heartbeat(d);
	spool_flush(&d->spool);
	shipper_stop(d->sh, STOP_GRACE_MS);
	write_status(d);
	if (atomic_load(&d->checks.joinable) && !atomic_load(&d->checks.running))
		pthread_join(d->checks.th, NULL);
	/* A checks run still going is left to die with the process: its
	 * results were never put, so nothing half-made reaches the outbox. */
	shipper_free(d->sh);
	spool_close(&d->spool);
	proctab_free(d->pt);
	ship_host_free(&d->host);
	ship_host_free(&d->gap_host);
	msgpack_sbuffer_destroy(&d->scratch);
	if (d->devnull)
		fclose(d->devnull);
	config_free(&d->cfg);
}

static void block_loop_signals(void)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigset_t mask;

	/* A collector that goes away while the shipper writes is an error
	 * the shipper handles (it reconnects), not a SIGPIPE that ends the
	 * daemon (measured: exit 141 when the collector stopped mid-batch;
	 * systemd counts SIGPIPE as a clean exit and would not restart it). */
	sigaction(SIGPIPE, &ign, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
}

static void usage_run(FILE *out)
{
	fputs("usage: vigil run [--config FILE] [--verbose]\n"
	      "The daemon: checks, events and file integrity, shipped to the enrolled collector.\n",
	      out);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct daemon d = {0};
	struct vg_err err = {{0}};
	int c, rc;

	/* A daemon's log is read later, in the journal: what it started,
	 * reloaded and checked belongs there, not only what went wrong. */
	log_set_level(VG_LOG_INFO);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d.config_path = optarg; break;
		case 'v': log_set_level(VG_LOG_DEBUG); break;
		case 'h': usage_run(stdout); return 0;
		default: usage_run(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage_run(stderr);
		return 2;
	}
	/* Every thread blocks the loop's signals, so that they reach its
	 * signalfd: the shipper thread starts before the loop, and a
	 * SIGTERM or SIGHUP it took unblocked would kill the whole process
	 * by default action (no clean stop, no reload). SIGPIPE is ignored. */
	block_loop_signals();
	if (start(&d, &err)) {
		fprintf(stderr, "vigil run: %s\n", err.msg);
		config_free(&d.cfg);
		return 2;
	}
	rc = serve(&d, &err);
	if (rc)
		log_err("%s", err.msg);
	stop(&d);
	return rc ? 1 : 0;
}
