/*
 * watch.c: `vigil watch`, the live stream of process and file events.
 *
 * The best source that runs here is used (eBPF, then fanotify, then a
 * periodic rescan), and the one in force is said. When a source loses
 * events, the watched paths are walked again and what changed is reported,
 * so a drop is never a silent gap.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drift.h"
#include "watch.h"

#define SNAPSHOT_MAX 1000000
#define TICK_MS 500
#define DRIFT_TICK_MS 50

static const char *const default_paths[] = {"/etc", "/usr/bin", "/usr/sbin", "/boot",
					    "/root/.ssh", NULL};

struct watch_opts {
	bool json, process, quiet;
	bool fim;			/* realtime drift of the FIM sets */
	const char *config, *state_dir;
	unsigned debounce_ms;
	unsigned coalesce_ms;		/* fanotify and hybrid: busy files */
	int mode;			/* -1: auto */
	int interval;			/* rescan mode, seconds */
	double duration;		/* seconds; 0: until a signal */
	struct vg_strv paths, ignore;
};

struct watch_run {
	const struct watch_opts *o;
	struct vg_proctab *pt;
	struct vg_source src;
	struct vg_loop *loop;
	struct vg_snapshot *snap;	/* what a drop is repaired against */
	struct vg_counters last;
	struct vg_buf line;
	uint64_t shown;
	struct timespec deadline;
	struct drift *drift;		/* --fim */
};

static void usage_watch(FILE *out)
{
	fputs("usage: vigil watch [--json] [--paths P,...] [--no-process]\n"
	      "                   [--mode auto|bpf|hybrid|fanotify|rescan] [--interval S]\n"
	      "                   [--ignore-comm NAME,...] [--coalesce-ms MS] [--duration S]\n"
	      "                   [--quiet]\n"
	      "       vigil watch --fim [--config FILE] [--state-dir DIR] [--debounce MS]\n"
	      "                   [--json] [--mode ...] [--duration S]\n"
	      "--quiet counts events without printing them (for measuring)\n"
	      "--coalesce-ms: how long a busy file's writes raise no events in fanotify and\n"
	      "      hybrid modes (then its change is said with no writer); 0: never\n"
	      "--fim reports drift of the files vigil.yaml monitors, from the FIM baseline,\n"
	      "      with the process behind each change\n", out);
}

static int parse_mode(const char *s)
{
	static const char *const names[] = {"bpf", "fanotify", "rescan", "hybrid", NULL};

	if (!strcmp(s, "auto"))
		return -1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -2;
}

/* A whole number of milliseconds, lo..60000, for option opt. */
static int parse_ms(const char *opt, const char *arg, long lo, unsigned *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || end == arg || v < lo || v > 60000) {
		fprintf(stderr, "vigil: %s is %ld..60000 milliseconds\n", opt, lo);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse_watch_opts(int argc, char **argv, struct watch_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"paths", required_argument, NULL, 'p'},
		{"no-process", no_argument, NULL, 'P'},
		{"mode", required_argument, NULL, 'm'},
		{"interval", required_argument, NULL, 'i'},
		{"ignore-comm", required_argument, NULL, 'I'},
		{"duration", required_argument, NULL, 'd'},
		{"quiet", no_argument, NULL, 'q'},
		{"fim", no_argument, NULL, 'F'},
		{"config", required_argument, NULL, 'c'},
		{"state-dir", required_argument, NULL, 's'},
		{"debounce", required_argument, NULL, 'D'},
		{"coalesce-ms", required_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char *end;
	int ch;

	o->process = true;
	o->mode = -1;
	o->interval = 10;
	o->coalesce_ms = VG_COALESCE_MS;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "jp:m:hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': o->json = true; break;
		case 'p': strv_split(&o->paths, optarg, ","); break;
		case 'P': o->process = false; break;
		case 'q': o->quiet = true; break;
		case 'F': o->fim = true; break;
		case 'c': o->config = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'D':
			if (parse_ms("--debounce", optarg, 1, &o->debounce_ms))
				return -1;
			break;
		case 'C':
			if (parse_ms("--coalesce-ms", optarg, 0, &o->coalesce_ms))
				return -1;
			break;
		case 'I': strv_split(&o->ignore, optarg, ","); break;
		case 'v': log_set_level(VG_LOG_INFO); break;
		case 'm':
			if ((o->mode = parse_mode(optarg)) == -2) {
				fprintf(stderr, "vigil: --mode is auto, bpf, hybrid, fanotify or "
					"rescan\n");
				return -1;
			}
			break;
		case 'i':
			o->interval = (int)strtol(optarg, &end, 10);
			if (*end || o->interval < 1 || o->interval > 86400) {
				fprintf(stderr, "vigil: --interval is 1..86400 seconds\n");
				return -1;
			}
			break;
		case 'd':
			o->duration = strtod(optarg, &end);
			if (*end || o->duration <= 0) {
				fprintf(stderr, "vigil: --duration is a positive number of seconds\n");
				return -1;
			}
			break;
		case 'h': usage_watch(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->fim && o->paths.n) {
		fprintf(stderr, "vigil: with --fim, the paths are vigil.yaml's fim sets\n");
		return -1;
	}
	if (!o->fim && (o->config || o->state_dir || o->debounce_ms)) {
		fprintf(stderr, "vigil: --config, --state-dir and --debounce go with --fim\n");
		return -1;
	}
	if (o->state_dir && o->state_dir[0] != '/') {
		fprintf(stderr, "vigil: --state-dir must be an absolute path\n");
		return -1;
	}
	return 0;
}

/* Watched paths are absolute and real; a missing one is an error, not a
 * silently smaller watch. Defaults that this host lacks are left out. */
static int resolve_paths(struct watch_opts *o, struct vg_strv *out, struct vg_err *err)
{
	bool given = o->paths.n > 0;
	struct stat st;

	if (!given)
		for (size_t i = 0; default_paths[i]; i++)
			if (stat(default_paths[i], &st) == 0)
				strv_push(&o->paths, default_paths[i]);
	for (size_t i = 0; i < o->paths.n; i++) {
		char *real = realpath(o->paths.v[i], NULL);
		if (!real)
			return vg_errf(err, "--paths: %s: %s", o->paths.v[i], strerror(errno));
		strv_push_owned(out, real);
	}
	return 0;
}

static void on_event(void *u, const struct vg_event *ev)
{
	struct watch_run *w = u;

	proctab_apply(w->pt, ev);
	/* hybrid keeps process events for the table even with --no-process. */
	if (!w->o->process && (ev->kind == EV_EXEC || ev->kind == EV_FORK || ev->kind == EV_EXIT))
		return;
	w->shown++;
	if (w->drift) {
		drift_event(w->drift, ev, w->pt);
		return;
	}
	if (w->o->quiet)
		return;
	w->line.len = 0;
	if (w->o->json)
		event_json(&w->line, ev, w->pt);
	else
		event_text(&w->line, ev, w->pt);
	buf_put(&w->line, "\n", 1);
	fputs(w->line.p, stdout);
	fflush(stdout);
}

static uint64_t lost(const struct vg_counters *c)
{
	return c->drops[DROP_RINGBUF_FULL] + c->drops[DROP_MAP_FULL] + c->overflows;
}

/* Events were lost: what they would have said is found by walking again. */
static void repair(struct watch_run *w, const struct vg_strv *paths, uint64_t n)
{
	struct vg_snapshot *now;

	log_warn("%llu events lost; rescanning %zu watched path(s)", (unsigned long long)n,
		 paths->n);
	now = snapshot_take(paths, SNAPSHOT_MAX);
	if (w->snap) {
		snapshot_diff(w->snap, now, on_event, w);
		snapshot_free(w->snap);
	}
	w->snap = now;
}

struct tick {
	struct watch_run *w;
	const struct vg_strv *paths;
};

static void on_tick(void *u)
{
	struct tick *t = u;
	struct watch_run *w = t->w;
	struct vg_counters c = {0};
	struct timespec now;

	w->src.counters(w->src.impl, &c);
	if (lost(&c) > lost(&w->last) && w->drift)
		drift_lost(w->drift);
	else if (lost(&c) > lost(&w->last))
		repair(w, t->paths, lost(&c) - lost(&w->last));
	w->last = c;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (w->deadline.tv_sec && (now.tv_sec > w->deadline.tv_sec ||
				   (now.tv_sec == w->deadline.tv_sec &&
				    now.tv_nsec >= w->deadline.tv_nsec)))
		loop_stop(w->loop);
}

static void print_counters(const struct watch_run *w)
{
	struct vg_counters c = {0};

	w->src.counters(w->src.impl, &c);
	fprintf(stderr, "vigil watch: %llu events delivered; dropped: %llu (ring buffer full), "
		"%llu (scratch map full), %llu fanotify overflows; %llu paths cut short; "
		"%llu busy-file windows\n",
		(unsigned long long)w->shown, (unsigned long long)c.drops[DROP_RINGBUF_FULL],
		(unsigned long long)c.drops[DROP_MAP_FULL], (unsigned long long)c.overflows,
		(unsigned long long)c.drops[DROP_PATH_TRUNC], (unsigned long long)c.windows);
}

static void set_deadline(struct watch_run *w, double secs)
{
	if (secs <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &w->deadline);
	w->deadline.tv_sec += (time_t)secs;
	w->deadline.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (w->deadline.tv_nsec >= 1000000000L) {
		w->deadline.tv_sec++;
		w->deadline.tv_nsec -= 1000000000L;
	}
}

static void on_drift_tick(void *u)
{
	drift_tick(u);
}

static void print_drift(const struct drift *d)
{
	struct drift_counters c;

	drift_counters(d, &c);
	fprintf(stderr, "vigil watch: fim: %llu events on monitored paths, %llu rechecks, "
		"%llu rescans, %llu queue overflows; %llu findings (%llu package updates, "
		"%llu tampering)\n", (unsigned long long)c.events,
		(unsigned long long)c.rechecks, (unsigned long long)c.rescans,
		(unsigned long long)c.overflows, (unsigned long long)c.findings,
		(unsigned long long)c.package_updates, (unsigned long long)c.tampering);
}

static int run(struct watch_opts *o, const struct vg_strv *paths, struct drift *drift,
	       struct vg_err *err)
{
	struct vg_source_opts so = {.paths = paths, .process_events = o->process,
				    .ignore_comm = &o->ignore, .coalesce_ms = o->coalesce_ms};
	struct watch_run w = {.o = o, .drift = drift};
	struct tick t = {&w, paths};
	int rc = -1;

	if (!(w.loop = loop_new(err)))
		return -1;
	if (source_open(&w.src, o->mode, &so, o->interval, err))
		goto out_loop;
	w.pt = proctab_new("/proc");
	/* --fim repairs drops from the FIM baseline, not from a snapshot. */
	if (w.src.mode != VG_MODE_RESCAN && !drift)
		w.snap = snapshot_take(paths, SNAPSHOT_MAX);
	fprintf(stderr, "vigil watch: mode %s; %zu path(s); process events %s%s\n",
		mode_name(w.src.mode), paths->n,
		o->process && (w.src.mode == VG_MODE_BPF || w.src.mode == VG_MODE_HYBRID) ?
		"on" : "off",
		drift ? "; realtime FIM drift" : "");
	set_deadline(&w, o->duration);
	if (loop_add_source(w.loop, &w.src, err) ||
	    loop_add_timer(w.loop, TICK_MS, on_tick, &t, err) ||
	    (drift && loop_add_timer(w.loop, DRIFT_TICK_MS, on_drift_tick, drift, err)))
		goto out;
	rc = loop_run(w.loop, on_event, &w);
	if (rc)
		vg_errf(err, "the event loop failed");
	print_counters(&w);
out:
	if (w.snap)
		snapshot_free(w.snap);
	proctab_free(w.pt);
	w.src.close(w.src.impl);
	buf_free(&w.line);
out_loop:
	loop_free(w.loop);
	return rc;
}

/* --fim: the paths are the FIM sets', the findings compared with the
 * baseline that `vigil fim init` recorded. */
static int open_drift(const struct watch_opts *o, struct vg_config *cfg, struct drift **d,
		      struct vg_strv *paths, struct vg_err *err)
{
	struct drift_opts dop = {.cfg = &cfg->fim, .state_dir = o->state_dir, .json = o->json,
				 .out = stdout, .debounce_ms = o->debounce_ms};

	if (config_load_full(cfg, o->config, err) || drift_open(d, &dop, err))
		return -1;
	drift_roots(*d, paths);
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	struct watch_opts o = {0};
	struct vg_strv paths = {0};
	struct vg_err err = {{0}};
	struct vg_config cfg = {0};
	struct drift *drift = NULL;
	int rc = 0;

	if (parse_watch_opts(argc, argv, &o)) {
		usage_watch(stderr);
		rc = 2;
	} else if ((o.fim ? open_drift(&o, &cfg, &drift, &paths, &err) :
			    resolve_paths(&o, &paths, &err)) ||
		   run(&o, &paths, drift, &err)) {
		fprintf(stderr, "vigil: %s\n", err.msg);
		rc = 2;
	}
	if (drift) {
		drift_flush(drift);	/* what was still queued or held */
		print_drift(drift);
		drift_close(drift);
	}
	config_free(&cfg);
	strv_free(&o.paths);
	strv_free(&o.ignore);
	strv_free(&paths);
	return rc;
}
