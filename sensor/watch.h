/*
 * watch.h: the event engine's contract.
 *
 * A *source* turns kernel activity into struct vg_event: the eBPF source
 * (src_bpf.c, tracepoints), the fanotify source (src_fanotify.c), and the
 * rescan source (rescan.c, the last resort and the repair after drops).
 * Each exposes one pollable fd; the loop (evloop.c) waits on them, on
 * signals and on timers, and hands every event to one callback. The
 * process table (proctab.c) keeps who is who, so an event can name its
 * actor's executable, user and parents even after the actor has exited.
 */
#ifndef VIGIL_WATCH_H
#define VIGIL_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/events.h"
#include "vigil.h"

/* hybrid: eBPF for processes (the sched tracepoints only) and fanotify
 * for files, so syscalls are not traced at all; see watch.c. */
enum vg_mode { VG_MODE_BPF, VG_MODE_FANOTIFY, VG_MODE_RESCAN, VG_MODE_HYBRID };
const char *mode_name(enum vg_mode m);

/* One event, whatever its source. Strings are owned by the source and live
 * until the callback returns; NULL when the source does not know them. */
struct vg_event {
	enum ev_kind kind;
	uint64_t time_ns;		/* CLOCK_REALTIME */
	uint32_t pid, tgid, ppid;	/* tgid is the process id users see */
	uint32_t uid, gid, euid, auid;	/* (uint32_t)-1 when unknown */
	uint32_t flags;			/* enum ev_flags */
	uint64_t cgroup_id;
	uint32_t mntns;
	char comm[EV_COMM_LEN];
	const char *exe;		/* exec: the new image */
	const char *cwd;		/* exec */
	const char *args;		/* exec: argv, NUL-separated */
	size_t args_len;
	const char *path, *path2;	/* file events; rename: old, new */
	int code;			/* exit code or signal, or a syscall's return */
	uint32_t mode, fuid, fgid;	/* chmod / chown / create arguments */
	/* NULL: seen happen, with its actor. Else how a file change was found
	 * instead, with no actor: "rescan" (a walk compared with the last one),
	 * "coalesced" (a busy file compared after a window in which its writes
	 * raised no events; src_fanotify.c). */
	const char *found_by;
};

typedef void (*vg_event_fn)(void *u, const struct vg_event *ev);

struct vg_counters {
	uint64_t events;		/* delivered to the callback */
	uint64_t drops[DROP_MAX];	/* by cause, summed over CPUs */
	uint64_t overflows;		/* fanotify queue overflows, marks refused */
	uint64_t received;		/* fanotify: events read from the kernel,
					 * before any filtering */
	uint64_t windows;		/* fanotify: coalescing windows opened */
};

struct vg_source_opts {
	const struct vg_strv *paths;	/* absolute paths (dirs or files) to watch */
	bool process_events;		/* exec, fork, exit */
	const struct vg_strv *ignore_comm;	/* processes whose events are dropped */
	size_t ring_bytes;		/* bpf ring buffer: a power of two; 0 = 8 MiB */
	bool process_only;		/* bpf: no file events, no syscall tracepoints */
	unsigned batch_ms;		/* fanotify: read the queue at most this often
					 * while events keep coming (src_fanotify.c,
					 * fan_poll); 0: as each comes */
	unsigned coalesce_ms;		/* fanotify: a file written in two reads in
					 * a row raises no write events for this
					 * long, then is compared (src_fanotify.c);
					 * 0: never */
};

/* The same operations for every source. */
struct vg_source {
	enum vg_mode mode;
	void *impl;
	int (*fd)(void *impl);		/* readable when events are waiting */
	/* Delivers what is waiting; returns the number delivered or -1. */
	int (*poll)(void *impl, vg_event_fn fn, void *u);
	/* Adds a path to the watched set while running. */
	int (*watch)(void *impl, const char *path, struct vg_err *err);
	void (*counters)(void *impl, struct vg_counters *c);
	void (*close)(void *impl);
};

/* Each returns -1 with err filled when that source cannot run here. */
int bpf_source_open(struct vg_source *s, const struct vg_source_opts *o, struct vg_err *err);
int fan_source_open(struct vg_source *s, const struct vg_source_opts *o, struct vg_err *err);
int rescan_source_open(struct vg_source *s, const struct vg_source_opts *o, int interval_s,
		       struct vg_err *err);
int hybrid_source_open(struct vg_source *s, const struct vg_source_opts *o, struct vg_err *err);
/* source.c: mode is an enum vg_mode, or -1 for auto: hybrid, bpf, fanotify,
 * then rescan (every interval_s), the first that opens; each refusal is
 * logged as a warning. */
int source_open(struct vg_source *s, int mode, const struct vg_source_opts *o, int interval_s,
		struct vg_err *err);

/* ---- rescan.c: what a walk of the watched set can tell ----------------- */

/* The type, mode, owner, size, mtime, ctime and inode of every file under
 * the watched paths (at most max_entries; more are counted, not kept). */
struct vg_snapshot;
struct vg_snapshot *snapshot_take(const struct vg_strv *paths, size_t max_entries);
/* Calls fn once per difference from old to new, as events with rescan set:
 * create, delete, modify, chmod, chown, (a changed inode: delete+create). */
void snapshot_diff(const struct vg_snapshot *old, const struct vg_snapshot *new,
		   vg_event_fn fn, void *u);
size_t snapshot_size(const struct vg_snapshot *s);
void snapshot_free(struct vg_snapshot *s);

/* ---- proctab.c: processes and their lineage ---------------------------- */

struct vg_proc {
	uint32_t pid, ppid;		/* process ids (tgids) */
	uint32_t uid, auid;
	uint64_t start_ns;
	char comm[EV_COMM_LEN];
	char *exe;			/* NULL until known */
	char *args;			/* argv joined by spaces, NULL until known */
	bool exited;
};

struct vg_proctab;
/* Seeded from procdir ("/proc"), so processes already running have parents. */
struct vg_proctab *proctab_new(const char *procdir);
void proctab_free(struct vg_proctab *t);
void proctab_apply(struct vg_proctab *t, const struct vg_event *ev);
/* A pointer from the table is valid until the next call that changes it
 * (apply, get, lineage): get may load a pid from /proc and grow the table. */
const struct vg_proc *proctab_get(struct vg_proctab *t, uint32_t pid);
/* Fills out[0] = pid's process, out[1] = its parent, ... up to max; returns n. */
size_t proctab_lineage(struct vg_proctab *t, uint32_t pid, const struct vg_proc **out,
		       size_t max);
size_t proctab_size(const struct vg_proctab *t);

/* ---- evloop.c: the loop ------------------------------------------------ */

struct vg_loop;
struct vg_loop *loop_new(struct vg_err *err);
void loop_free(struct vg_loop *l);
int loop_add_source(struct vg_loop *l, struct vg_source *s, struct vg_err *err);
/* Calls fn every interval_ms while running. */
int loop_add_timer(struct vg_loop *l, unsigned interval_ms, void (*fn)(void *u), void *u,
		   struct vg_err *err);
/* Runs until SIGINT/SIGTERM or loop_stop; events go to fn. */
int loop_run(struct vg_loop *l, vg_event_fn fn, void *u);
void loop_stop(struct vg_loop *l);
/* fn runs on SIGHUP (in the loop's thread); without it SIGHUP is ignored. */
void loop_on_hup(struct vg_loop *l, void (*fn)(void *u), void *u);

/* ---- watchfmt.c: events for people and for machines ------------------- */

const char *ev_kind_name(enum ev_kind k);
/* Its OCSF activity_id within its class (1007 Process, 1001 File System). */
int ev_kind_activity(enum ev_kind k);
/* One readable line, no newline. */
void event_text(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t);
/* One JSON object with OCSF 1.x attribute names (1001 File System
 * Activity, 1007 Process Activity), no newline. */
void event_json(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t);
/* Who did a file event: "by pid 812 /usr/bin/vim uid 0 parents ..." and
 * "actor":{"process":{...,"parent_process":{...}},"user":{...}}. */
void event_actor_text(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t);
void event_actor_json(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t);

/* ---- watch.c ----------------------------------------------------------- */

int cmd_watch(int argc, char **argv);

#endif
