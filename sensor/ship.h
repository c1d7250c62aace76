/*
 * ship.h: the sensor's results and events as OCSF records (proto/ocsf.h),
 * each packed as the one msgpack map the outbox takes (prefix ship_).
 *
 * Each function carries the facts of a JSON writer the sensor already has,
 * under OCSF 1.3 names (docs/records.md says where each one went):
 *
 *   ship_check, ship_summary   report_json: one check, the run's summary
 *   ship_run                   a whole baseline run: every 2003, then the 5002
 *   ship_inventory             the host: host_describe, os-release, machine-id
 *   ship_event                 event_json: 1007 exec/fork/exit, 1001 file events
 *   ship_fim                   fim_finding_json, with realtime drift's verdict
 *   ship_tampering             a 2004 for drift's "tampering" verdict
 *   ship_heartbeat, ship_gap   the sensor itself; ship_gap is an ob_gap_fn
 *
 * Records name this host by struct ship_host: device.uid is the host id
 * (the certificate's CN), which the collector checks against the sender.
 * The functions only read it, except ship_uid, which counts: threads that
 * share one take record ids under their own lock.
 * Each function returns 0, or -1 with err and nothing usable in pk's
 * buffer (pack into a scratch buffer, then ob_put it).
 */
#ifndef VIGIL_SHIP_H
#define VIGIL_SHIP_H

#include <msgpack.h>

#include "ocsf.h"
#include "drift.h"
#include "fim.h"
#include "outbox.h"
#include "pkgfile.h"
#include "vigil.h"
#include "watch.h"

#define SHIP_UID_MAX 48

struct ship_host {
	char *uid;			/* device.uid: the host id */
	char *hostname, *os_name, *os_version, *os_id;
	char *kernel, *arch, *boot_id;	/* the running system's; NULL for an image */
	char *machine_id;		/* /etc/machine-id; NULL: none */
	long long packages;		/* installed; -1: no package database read */
	struct ocsf_src src;		/* every record's sender; points into the above */
	char run[17];			/* random per ship_host: record uids are run-seq */
	uint64_t seq;
};
/* This host as ctx's root shows it (a live root: also kernel, arch, boot id). */
int ship_host_init(struct ship_host *h, const char *host_uid, struct vg_ctx *ctx,
		   struct vg_err *err);
void ship_host_free(struct ship_host *h);
/* A record id no other record of this host has: "<run>-<seq>". */
void ship_uid(struct ship_host *h, char out[SHIP_UID_MAX]);

/* ---- baselines -------------------------------------------------------- */

/* One check's result (2003): r must be selected, or skipped by --quick. */
int ship_check(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
	       const struct vg_baseline *b, const struct vg_check *c, const struct vg_result *r,
	       struct vg_err *err);
/* The run's summary (5002). */
int ship_summary(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
		 const struct vg_baseline *b, const struct vg_summary *sum, struct vg_err *err);

/* Takes one packed map: ob_put's shape, for a one-line wrapper around it. */
typedef int (*ship_put_fn)(void *u, uint64_t time_ns, const void *map, size_t len,
			   struct vg_err *err);
/* A whole run in baseline order: a 2003 for every check that ran or was
 * skipped, then the 5002, each handed to put; stops at put's first -1. */
int ship_run(const struct ship_host *h, uint64_t time_ns, const struct vg_baseline *b,
	     const struct vg_result *res, const struct vg_summary *sum, ship_put_fn put,
	     void *u, struct vg_err *err);

/* The host's inventory (5001). */
int ship_inventory(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
		   struct vg_err *err);

/* ---- events ------------------------------------------------------------- */

/* One event of `vigil watch`: 1007 for exec, fork and exit, 1001 for the
 * rest; t names the actor and its parents, as event_json does. */
int ship_event(msgpack_packer *pk, const struct ship_host *h, const struct vg_event *ev,
	       struct vg_proctab *t, struct vg_err *err);

/* ---- file integrity ------------------------------------------------------ */

/* Who made a change, captured when its event came (the process may be gone
 * when the change is judged): the process and 4 parents, the user, the
 * cgroup (its v2 path, or NULL) and the container id in it (or NULL). */
struct ship_actor;
struct ship_actor *ship_actor_capture(const struct vg_event *ev, struct vg_proctab *t,
				      const char *cgroup, const char *container);
void ship_actor_free(struct ship_actor *a);

/* Realtime drift's judgement of a finding (drift.c fills it). */
struct ship_verdict {
	const char *verdict;		/* change|package_update|tampering */
	const char *reason;
	int severity_id;		/* 0: from the kind of change */
	const struct pkg_owner *owner;	/* NULL, or no package: package nil */
	int verified;			/* content is the package's: 1, 0, -1 unknown */
	const struct ship_actor *const *actors;	/* the latest last; none: a rescan */
	size_t nactors;
	const char *found_by;		/* event|rescan|coalesced (drift.c) */
};

/* A finding (1001 with unmapped.fim); v NULL for `vigil fim check`. */
int ship_fim(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms, const char *uid,
	     const struct fim_finding *f, const struct ship_verdict *v, struct vg_err *err);
/* The Detection Finding (2004) for a tampering verdict, pointing at the
 * 1001 that ship_fim packed with fim_uid. */
int ship_tampering(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
		   const char *uid, const char *fim_uid, const struct fim_finding *f,
		   const struct ship_verdict *v, struct vg_err *err);

/* ---- the sensor itself ----------------------------------------------------- */

struct ship_status {
	enum vg_mode mode;
	uint64_t uptime_s;
	uint32_t interval_s;
	const struct vg_counters *counters;	/* the event source's */
	const struct ob_stats *outbox;		/* NULL: none */
	const struct drift_counters *drift;	/* NULL: no realtime FIM */
};
int ship_heartbeat(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
		   const struct ship_status *st, struct vg_err *err);
/* An ob_gap_fn (outbox.h): u is the struct ship_host; time is now. */
int ship_gap(void *u, const struct ob_gap *g, msgpack_packer *pk);

#endif
