/*
 * src_hybrid.c: processes from eBPF, files from fanotify.
 *
 * The eBPF source's file events cost every syscall of the machine: the
 * sys_enter/sys_exit tracepoints put all of them on the kernel's slow
 * path, watched or not (tests/bench/watch-bench.sh measures that floor).
 * The sched_process_{exec,fork,exit} tracepoints cost only at those
 * events, and fanotify inode marks only on the watched directories. So
 * this source runs the eBPF programs without the syscall tracepoints, for
 * the process table (who ran what, and who their parents were, even after
 * they exit), and takes file events from fanotify. What is lost against
 * the eBPF source: the arguments fanotify does not carry (it infers chmod,
 * chown and truncate by comparing attributes) and the actor's ids when the
 * process has exited and its exec was never seen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "watch.h"

#define HY_BATCH_MS 10	/* file events late by this much, in exchange for no wakeups */

struct hybrid {
	struct vg_source proc, file;
	int epfd;
};

static int hy_fd(void *impl)
{
	return ((struct hybrid *)impl)->epfd;
}

/* Processes first: a file event's actor is then already in the table. */
static int hy_poll(void *impl, vg_event_fn fn, void *u)
{
	struct hybrid *h = impl;
	int a = h->proc.poll(h->proc.impl, fn, u), b = h->file.poll(h->file.impl, fn, u);

	return a < 0 || b < 0 ? -1 : a + b;
}

static int hy_watch(void *impl, const char *path, struct vg_err *err)
{
	struct hybrid *h = impl;

	return h->file.watch(h->file.impl, path, err);
}

static void hy_counters(void *impl, struct vg_counters *c)
{
	struct hybrid *h = impl;
	struct vg_counters f = {0};

	h->proc.counters(h->proc.impl, c);
	h->file.counters(h->file.impl, &f);
	c->events += f.events;
	c->overflows += f.overflows;
	c->received += f.received;
	c->windows += f.windows;
	for (int i = 0; i < DROP_MAX; i++)
		c->drops[i] += f.drops[i];
}

static void hy_close(void *impl)
{
	struct hybrid *h = impl;

	if (h->proc.impl)
		h->proc.close(h->proc.impl);
	if (h->file.impl)
		h->file.close(h->file.impl);
	if (h->epfd >= 0)
		close(h->epfd);
	free(h);
}

int hybrid_source_open(struct vg_source *s, const struct vg_source_opts *o, struct vg_err *err)
{
	struct hybrid *h = xcalloc(1, sizeof(*h));
	struct vg_source_opts po = *o, fo = *o;
	struct epoll_event ev = {.events = EPOLLIN};

	h->epfd = -1;
	po.paths = NULL;
	po.process_only = true;
	po.process_events = true;	/* the table needs them, shown or not */
	fo.process_events = false;
	/* The process table keeps exited actors for 30 s, so reading file
	 * events late costs no attribution here (it would in fanotify mode,
	 * which reads actors from /proc). */
	if (!fo.batch_ms)
		fo.batch_ms = HY_BATCH_MS;
	if (fan_source_open(&h->file, &fo, err) || bpf_source_open(&h->proc, &po, err))
		goto fail;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->proc.fd(h->proc.impl), &ev) < 0 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->file.fd(h->file.impl), &ev) < 0) {
		vg_errf(err, "epoll: %s", strerror(errno));
		goto fail;
	}
	memset(s, 0, sizeof(*s));
	s->mode = VG_MODE_HYBRID;
	s->impl = h;
	s->fd = hy_fd;
	s->poll = hy_poll;
	s->watch = hy_watch;
	s->counters = hy_counters;
	s->close = hy_close;
	return 0;
fail:
	hy_close(h);
	return -1;
}
