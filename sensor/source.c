/*
 * source.c: which event source runs here.
 *
 * auto tries hybrid first, then bpf, fanotify and rescan. Hybrid traces
 * no system call: its eBPF programs sit on the sched tracepoints only
 * (exec, fork, exit), and file events come from fanotify inode marks on
 * what is watched. bpf mode puts programs on sys_enter and sys_exit, and
 * the kernel then sends every system call of every process on the host
 * through its slow path and into BPF twice, watched or not: 9-14% on an
 * open/write/close loop here before the programs do any work
 * (tests/bench/watch-bench.sh, the floor row). docs/events.md has the
 * figures and what each mode sees.
 */
#include "watch.h"

static int open_one(enum vg_mode mode, struct vg_source *s, const struct vg_source_opts *so,
		    int interval_s, struct vg_err *err)
{
	switch (mode) {
	case VG_MODE_BPF: return bpf_source_open(s, so, err);
	case VG_MODE_FANOTIFY: return fan_source_open(s, so, err);
	case VG_MODE_HYBRID: return hybrid_source_open(s, so, err);
	case VG_MODE_RESCAN: break;
	}
	return rescan_source_open(s, so, interval_s, err);
}

int source_open(struct vg_source *s, int mode, const struct vg_source_opts *so, int interval_s,
		struct vg_err *err)
{
	static const enum vg_mode order[] = {VG_MODE_HYBRID, VG_MODE_BPF, VG_MODE_FANOTIFY,
					     VG_MODE_RESCAN};
	struct vg_err why = {{0}};

	if (mode >= 0)
		return open_one((enum vg_mode)mode, s, so, interval_s, err);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		why.msg[0] = '\0';
		if (open_one(order[i], s, so, interval_s, &why) == 0)
			return 0;
		log_warn("%s mode unavailable: %s", mode_name(order[i]), why.msg);
	}
	return vg_errf(err, "no event source can run here: %s", why.msg);
}
