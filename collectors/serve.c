/*
 * serve.c: the collector's one loop. epoll tells which socket is ready;
 * listeners accept, the signalfd stops the loop, connections step their
 * state machine (conn.c). Timers are a sweep over the connections every
 * TICK_MS: with a thousand connections that is nothing, and it keeps every
 * deadline in one place.
 *
 * Memory: each connection holds only the bytes of the frame it is reading
 * (none between frames) and the replies not yet sent (at most write_max).
 * Read buffers of all connections together stay under memory_max: a
 * connection that would pass it stops reading until others free theirs
 * (TCP then holds the sender back), and its frame timeout still runs.
 * Connections that each hold part of a frame and all wait for more would
 * wait for each other, so one of them at a time (the overdraft) may pass
 * memory_max by the one frame it is reading: some frame can always finish.
 * The bound is memory_max + frame_max.
 *
 * Under systemd (Type=notify) it says READY=1 once every listener is up,
 * pings the watchdog from the loop, and says STOPPING=1 when it stops.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "serve_int.h"
#include "sdnotify.h"

#define EVENTS_MAX	128
#define ACCEPT_BURST	64
#define SNDBUF		(32 << 10)	/* the kernel doubles it */

int64_t srv_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool srv_mem_take(struct srv *s, struct conn *c, size_t n)
{
	if (s->buffered + n > s->cfg->lim.memory_max) {
		if (s->overdraft && s->overdraft != c)
			return false;
		s->overdraft = c;	/* until its frame is done */
	}
	s->buffered += n;
	return true;
}

void srv_mem_give(struct srv *s, struct conn *c, size_t n, bool done)
{
	s->buffered -= n;
	if (done && s->overdraft == c)
		s->overdraft = NULL;
	/* Whoever waited for memory tries again. */
	while (s->paused) {
		struct conn *w = s->paused;

		s->paused = w->again_next;
		w->paused = false;
		w->in_again = false;
		srv_again(s, w);
	}
}

void srv_again(struct srv *s, struct conn *c)
{
	if (c->in_again || c->paused)
		return;
	c->in_again = true;
	c->again_next = s->again;
	s->again = c;
}

static bool unlink_from(struct conn **pp, struct conn *c)
{
	for (; *pp; pp = &(*pp)->again_next)
		if (*pp == c) {
			*pp = c->again_next;
			return true;
		}
	return false;
}

void srv_pause(struct srv *s, struct conn *c)
{
	if (c->paused)
		return;
	if (c->in_again && !unlink_from(&s->again, c))
		unlink_from(&s->running, c);
	c->in_again = false;
	c->paused = true;
	c->again_next = s->paused;
	s->paused = c;
}

void srv_forget(struct srv *s, struct conn *c)
{
	if (c->in_again && !unlink_from(&s->again, c))
		unlink_from(&s->running, c);
	if (c->paused)
		unlink_from(&s->paused, c);
	c->in_again = c->paused = false;
}

/* ---- listening ----------------------------------------------------------- */

static void addr_text(const struct sockaddr *sa, char *out, size_t n)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in), host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(out, n, "?");
		return;
	}
	snprintf(out, n, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static int arm(struct srv *s, struct lsock *l, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};

	if (l->armed == on)
		return 0;
	if (epoll_ctl(s->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l->fd, &ev))
		return -1;
	l->armed = on;
	return 0;
}

static int listen_one(struct srv *s, const struct addrinfo *ai, const char *spec,
		      struct cerr *err)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	struct lsock *l;
	int fd, one = 1;

	if (s->n_ls == sizeof(s->ls) / sizeof(s->ls[0]))
		return cerrf(err, "listen %s: too many addresses", spec);
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cerrf(err, "listen %s: socket: %s", spec, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 511) ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen)) {
		cerrf(err, "listen %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	l = &s->ls[s->n_ls++];
	l->kind = EV_LISTEN;
	l->fd = fd;
	addr_text((struct sockaddr *)&sa, l->addr, sizeof(l->addr));
	if (arm(s, l, true))
		return cerrf(err, "listen %s: epoll: %s", spec, strerror(errno));
	clog_msg(CLOG_INFO, "listening on %s", l->addr);
	return 0;
}

static int listen_spec(struct srv *s, const char *spec, struct cerr *err)
{
	char host[256];
	const char *colon = strrchr(spec, ':'), *h = spec;
	size_t hlen = (size_t)(colon - spec);
	struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM}, *res, *ai;
	int rc;

	if (hlen >= 2 && spec[0] == '[')
		h++, hlen -= 2;
	if (hlen >= sizeof(host))
		return cerrf(err, "listen %s: host name too long", spec);
	memcpy(host, h, hlen);
	host[hlen] = 0;
	rc = getaddrinfo(hlen && strcmp(host, "*") ? host : NULL, colon + 1, &hints, &res);
	if (rc)
		return cerrf(err, "listen %s: %s", spec, gai_strerror(rc));
	rc = 0;
	for (ai = res; ai && rc == 0; ai = ai->ai_next)
		rc = listen_one(s, ai, spec, err);
	freeaddrinfo(res);
	return rc;
}

/* Refusals under load come in floods: one line a second says how many. */
static void excess(struct srv *s, const char *addr, const char *why)
{
	if (s->now - s->excess_logged < 1000) {
		s->excess_quiet++;
		return;
	}
	clog_msg(CLOG_WARN, "connection from %s closed: %s%s", addr, why,
	     s->excess_quiet ? " (and more since the last such line)" : "");
	s->excess_logged = s->now;
	s->excess_quiet = 0;
}

static void accept_some(struct srv *s, struct lsock *l)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		char addr[64];
		int fd = accept4(l->fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of descriptors or memory: stop accepting for a second
			 * rather than spin on a listener that stays readable. */
			excess(s, l->addr, strerror(errno));
			for (size_t k = 0; k < s->n_ls; k++)
				arm(s, &s->ls[k], false);
			s->rearm_at = s->now + 1000;
			return;
		}
		if (s->n_conns >= s->cfg->lim.max_connections) {
			addr_text((struct sockaddr *)&sa, addr, sizeof(addr));
			excess(s, addr, "limits.max_connections reached");
			close(fd);
			continue;
		}
		/* Replies are small: a client that never reads may park only
		 * this much in the kernel (autotuning would let it be MBs), then
		 * write_max in us. */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){SNDBUF}, sizeof(int));
		conn_new(s, fd, (struct sockaddr *)&sa, len);
	}
}

/* ---- the loop ------------------------------------------------------------ */

static void tick(struct srv *s)
{
	struct conn *c, *next;

	for (c = s->conns; c; c = next) {
		next = c->next;
		conn_tick(c);
	}
	if (s->rearm_at && s->now >= s->rearm_at) {
		s->rearm_at = 0;
		for (size_t k = 0; k < s->n_ls; k++)
			arm(s, &s->ls[k], true);
	}
}

/* Connections with work but no event: TLS holds decrypted bytes, or they
 * yielded after FAIR_BYTES, or memory came free. Those that ask again
 * while running wait for the next turn. */
static void run_again(struct srv *s)
{
	s->running = s->again;
	s->again = NULL;
	while (s->running) {
		struct conn *c = s->running;

		s->running = c->again_next;
		c->in_again = false;
		conn_step(c);
	}
}

static void on_signal(struct srv *s)
{
	struct signalfd_siginfo si;

	while (read(s->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (!s->stopping)
			clog_msg(CLOG_INFO, "signal %u: stopping", si.ssi_signo);
		s->stopping = true;
	}
}

static void loop(struct srv *s)
{
	struct epoll_event ev[EVENTS_MAX];

	while (!s->stopping) {
		int n = epoll_wait(s->ep, ev, EVENTS_MAX, s->again ? 0 : TICK_MS);

		s->now = srv_clock();
		if (n < 0 && errno != EINTR) {
			clog_msg(CLOG_ERR, "epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			enum ev_kind *k = ev[i].data.ptr;

			if (*k == EV_LISTEN)
				accept_some(s, (struct lsock *)k);
			else if (*k == EV_SIGNAL)
				on_signal(s);
			else
				conn_event((struct conn *)k, ev[i].events);
		}
		run_again(s);
		if (s->now >= s->next_tick) {
			tick(s);
			s->next_tick = s->now + TICK_MS;
		}
		/* From the loop itself: a loop that stops turning gets restarted. */
		if (s->wd_ms && s->now >= s->next_wd) {
			sdn_notify("WATCHDOG=1");
			s->next_wd = s->now + s->wd_ms / 2;
		}
	}
}

/* ---- start and stop -------------------------------------------------------- */

/* A thousand connections need more than the usual 1024 descriptors. */
static void raise_nofile(const struct ccfg *c)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)c->lim.max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want)
		clog_msg(CLOG_WARN, "only %llu file descriptors for %u connections "
		     "(limits.max_connections)", (unsigned long long)rl.rlim_cur,
		     c->lim.max_connections);
}

static int tls_setup(struct srv *s, struct cerr *err)
{
	struct tls_err terr;

	s->ctx = tls_server_ctx(s->state.server_crt, s->state.server_key, s->state.ca_crt, &terr);
	if (!s->ctx)
		return cerrf(err, "TLS: %s", terr.msg);
	/* Partial writes and moving buffers: replies are appended while TLS
	 * still owes part of what it took. Released buffers: an idle
	 * connection keeps no 34 KiB of record buffers. No tickets: every
	 * connection verifies its certificate in full. */
	SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_num_tickets(s->ctx, 0);
	return 0;
}

static void srv_fini(struct srv *s)
{
	while (s->conns)
		conn_free(s->conns);
	for (size_t i = 0; i < s->n_ls; i++)
		close(s->ls[i].fd);
	if (s->sig.fd >= 0)
		close(s->sig.fd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->ctx)
		SSL_CTX_free(s->ctx);
	sst_close(&s->state);
}

int srv_run(const struct ccfg *c, struct cerr *err)
{
	struct srv s = {.cfg = c, .ep = -1, .sig = {EV_SIGNAL, -1}};
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	sigset_t mask, old_mask;
	int rc = -1;

	fwd_limits_default(&s.flim);
	s.flim.frame_max = c->lim.frame_max;
	s.flim.inflate_max = c->lim.inflate_max;
	raise_nofile(c);
	/* TLS writes to a peer that left must be an error, not a signal. */
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	s.now = srv_clock();
	if (sst_open(&s.state, c, true, err) || tls_setup(&s, err))
		goto out;
	if ((s.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (s.sig.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    epoll_ctl(s.ep, EPOLL_CTL_ADD, s.sig.fd,
		      &(struct epoll_event){.events = EPOLLIN, .data.ptr = &s.sig})) {
		cerrf(err, "epoll/signalfd: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < c->n_listen; i++)
		if (listen_spec(&s, c->listen[i], err))
			goto out;
	clog_msg(CLOG_INFO, "serving: state %s, CA pin %s, at most %u connections", c->state_dir,
	     s.state.pin, c->lim.max_connections);
	s.wd_ms = (int64_t)sdn_watchdog_ms();
	sdn_notify("READY=1\nSTATUS=listening on %s%s", s.ls[0].addr, s.n_ls > 1 ? " and more" : "");
	loop(&s);
	sdn_notify("STOPPING=1");
	/* Stopping: no new connections; what is whole is already committed
	 * and acked, partial frames are dropped (the senders resend them). */
	for (size_t i = 0; i < s.n_ls; i++)
		arm(&s, &s.ls[i], false);
	if (s.n_conns)
		clog_msg(CLOG_INFO, "closing %zu connections", s.n_conns);
	while (s.conns)
		conn_bye(s.conns);
	rc = 0;
	clog_msg(CLOG_INFO, "stopped");
out:
	srv_fini(&s);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	return rc;
}
