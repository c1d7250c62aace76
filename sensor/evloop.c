/*
 * evloop.c: one thread, one epoll set: event sources, timers, and the
 * signals that stop the loop (read from a signalfd, so no handler runs in
 * the middle of an event).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "watch.h"

#define LOOP_MAX_SOURCES 4
#define LOOP_MAX_TIMERS 8

struct timer {
	int fd;
	void (*fn)(void *u);
	void *u;
};

struct vg_loop {
	int epfd, sigfd;
	sigset_t oldmask;
	struct vg_source *src[LOOP_MAX_SOURCES];
	size_t nsrc;
	struct timer timers[LOOP_MAX_TIMERS];
	size_t ntimers;
	bool stop;
	void (*hup)(void *u);		/* SIGHUP; NULL: ignored */
	void *hup_u;
};

/* epoll data: which kind of fd woke us, and its index. */
enum { TAG_SIGNAL = 1, TAG_SOURCE, TAG_TIMER };
#define TAG(kind, i) (((uint64_t)(kind) << 32) | (uint32_t)(i))

const char *mode_name(enum vg_mode m)
{
	switch (m) {
	case VG_MODE_BPF: return "bpf";
	case VG_MODE_FANOTIFY: return "fanotify";
	case VG_MODE_RESCAN: return "rescan";
	case VG_MODE_HYBRID: return "hybrid";
	}
	return "?";
}

static int add_fd(struct vg_loop *l, int fd, uint64_t tag, struct vg_err *err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return vg_errf(err, "epoll_ctl: %s", strerror(errno));
	return 0;
}

struct vg_loop *loop_new(struct vg_err *err)
{
	struct vg_loop *l = xcalloc(1, sizeof(*l));
	sigset_t mask;

	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		vg_errf(err, "epoll_create1: %s", strerror(errno));
		free(l);
		return NULL;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &l->oldmask) < 0 ||
	    (l->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    add_fd(l, l->sigfd, TAG(TAG_SIGNAL, 0), err)) {
		if (!err->msg[0])
			vg_errf(err, "signalfd: %s", strerror(errno));
		loop_free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct vg_loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->ntimers; i++)
		close(l->timers[i].fd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	free(l);
}

int loop_add_source(struct vg_loop *l, struct vg_source *s, struct vg_err *err)
{
	if (l->nsrc == LOOP_MAX_SOURCES)
		return vg_errf(err, "too many event sources");
	if (add_fd(l, s->fd(s->impl), TAG(TAG_SOURCE, l->nsrc), err))
		return -1;
	l->src[l->nsrc++] = s;
	return 0;
}

int loop_add_timer(struct vg_loop *l, unsigned interval_ms, void (*fn)(void *u), void *u,
		   struct vg_err *err)
{
	struct itimerspec its = {
		.it_interval = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000},
		.it_value = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000},
	};
	struct timer *t;

	if (l->ntimers == LOOP_MAX_TIMERS)
		return vg_errf(err, "too many timers");
	t = &l->timers[l->ntimers];
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0)
		return vg_errf(err, "timerfd_create: %s", strerror(errno));
	if (timerfd_settime(t->fd, 0, &its, NULL) < 0 ||
	    add_fd(l, t->fd, TAG(TAG_TIMER, l->ntimers), err)) {
		if (!err->msg[0])
			vg_errf(err, "timerfd_settime: %s", strerror(errno));
		close(t->fd);
		return -1;
	}
	t->fn = fn;
	t->u = u;
	l->ntimers++;
	return 0;
}

void loop_on_hup(struct vg_loop *l, void (*fn)(void *u), void *u)
{
	l->hup = fn;
	l->hup_u = u;
}

void loop_stop(struct vg_loop *l)
{
	l->stop = true;
}

static void on_signal(struct vg_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			l->stop = true;
		else if (si.ssi_signo == SIGHUP && l->hup)
			l->hup(l->hup_u);
}

static void on_timer(struct timer *t)
{
	uint64_t expirations;

	if (read(t->fd, &expirations, sizeof(expirations)) == sizeof(expirations))
		t->fn(t->u);
}

int loop_run(struct vg_loop *l, vg_event_fn fn, void *u)
{
	struct epoll_event evs[16];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 16, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			uint32_t kind = (uint32_t)(evs[i].data.u64 >> 32);
			uint32_t idx = (uint32_t)evs[i].data.u64;
			if (kind == TAG_SIGNAL)
				on_signal(l);
			else if (kind == TAG_TIMER)
				on_timer(&l->timers[idx]);
			else if (l->src[idx]->poll(l->src[idx]->impl, fn, u) < 0)
				log_warn("%s source: poll failed", mode_name(l->src[idx]->mode));
		}
	}
	return 0;
}
