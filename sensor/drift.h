/*
 * drift.h: realtime file integrity, where the event engine meets FIM.
 *
 * Each file event on a monitored path queues the path (debounced: a burst
 * of writes is one re-read); when it is due, the path is re-read and
 * compared with what was last known (fim_recheck). A change is reported
 * with the actor captured when the event arrived (process, user, parents,
 * cgroup), and judged:
 *
 *   package_update  made by the package manager (dpkg, rpm, ...) by the
 *                   actor's lineage, and the content is what the package
 *                   recorded (or the package records no digest for it);
 *   tampering       the content is not what its package recorded, whoever
 *                   wrote it (a conffile is the admin's to edit, so only
 *                   the package manager is held to its digest);
 *   change          anything else: an edit outside any package.
 *
 * A package manager's change waits until that process has exited, because
 * dpkg records the new digests after it unpacks the files. Lost events,
 * a full queue or a path the kernel could not spell out lead to a rescan
 * of the monitored trees, so a change is never silently missed.
 */
#ifndef VIGIL_DRIFT_H
#define VIGIL_DRIFT_H

#include "fim.h"
#include "watch.h"

struct ship_verdict;			/* ship.h */

struct drift_opts {
	const struct vg_fim_config *cfg;
	const char *state_dir;		/* NULL: the configuration's */
	bool json;
	FILE *out;
	unsigned debounce_ms;		/* 0: 200 */
	size_t queue_max;		/* paths waiting; 0: 16384 */
	unsigned lookup_ms;		/* least time between package lookups; 0: 1000 */
	unsigned pkg_wait_ms;		/* longest wait for a package manager; 0: 600000 */
	/* Each finding as it is reported, judged, for ship_fim (ship.h):
	 * after its line is written. NULL: none, and no actor is kept for it. */
	void (*emit)(void *u, const struct fim_finding *f, const struct ship_verdict *v);
	void *emit_u;
};

struct drift_counters {
	uint64_t events;		/* file events on monitored paths */
	uint64_t rechecks, rescans;
	uint64_t overflows;		/* events that found the queue full */
	uint64_t findings, package_updates, tampering;
};

struct drift;
int drift_open(struct drift **d, const struct drift_opts *o, struct vg_err *err);
/* Re-reads and reports everything still queued or held, now. */
void drift_flush(struct drift *d);
void drift_close(struct drift *d);
/* The paths the event engine must watch. */
void drift_roots(const struct drift *d, struct vg_strv *out);
/* An event from the engine; t already holds the event's processes. */
void drift_event(struct drift *d, const struct vg_event *ev, struct vg_proctab *t);
/* Events were lost: the monitored trees are rescanned at the next tick. */
void drift_lost(struct drift *d);
/* Re-reads what is due and reports what is ready; call it often (50 ms). */
void drift_tick(struct drift *d);
void drift_counters(const struct drift *d, struct drift_counters *c);

#endif
