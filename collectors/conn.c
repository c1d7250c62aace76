/*
 * conn.c: one TLS connection, non-blocking. OpenSSL says what it waits
 * for (WANT_READ, WANT_WRITE) and the epoll interest follows; decrypted
 * bytes TLS still holds (SSL_pending, or a turn cut short) put the
 * connection on the "again" list, since epoll cannot see them.
 *
 * Frames: the scanner frames the stream without allocating; only a whole
 * frame is decoded, ingested and acked. The read buffer holds one partial
 * frame (at most frame_max, plus one read) and is freed between frames.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "serve_int.h"

static int fail(struct conn *c, enum clog_level l, const char *fmt, ...) COL_PRINTF(3, 4);

void conn_log(const struct conn *c, enum clog_level l, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (l > clog_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->host[0])
		clog_msg(l, "peer %s host %s: %s", c->addr, c->host, msg);
	else
		clog_msg(l, "peer %s: %s", c->addr, msg);
}

/* ---- lifetime ------------------------------------------------------------- */

struct conn *conn_new(struct srv *s, int fd, const struct sockaddr *sa, socklen_t len)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	struct conn *c = calloc(1, sizeof(*c));

	if (!c || !(c->ssl = SSL_new(s->ctx)) || !SSL_set_fd(c->ssl, fd)) {
		clog_msg(CLOG_ERR, "connection refused: out of memory");
		if (c && c->ssl)
			SSL_free(c->ssl);
		free(c);
		close(fd);
		return NULL;
	}
	c->kind = EV_CONN;
	c->srv = s;
	c->fd = fd;
	c->state = CS_HANDSHAKE;
	c->t_accept = c->t_last = s->now;
	SSL_set_accept_state(c->ssl);
	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		/* Numeric: an IPv6 address is at most 45 bytes, a port 5. */
		snprintf(c->ip, sizeof(c->ip), "%.47s", host);
		snprintf(c->addr, sizeof(c->addr), strchr(host, ':') ? "[%.47s]:%.7s" :
			 "%.47s:%.7s", host, port);
	} else {
		snprintf(c->ip, sizeof(c->ip), "?");
		snprintf(c->addr, sizeof(c->addr), "?");
	}
	c->events = EPOLLIN;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){.events = EPOLLIN,
								     .data.ptr = c})) {
		clog_msg(CLOG_ERR, "connection from %s refused: epoll: %s", c->addr, strerror(errno));
		SSL_free(c->ssl);
		free(c);
		close(fd);
		return NULL;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	conn_log(c, CLOG_DEBUG, "connected");
	return c;
}

static void rbuf_release(struct conn *c)
{
	size_t cap = c->rcap;

	if (!cap)
		return;
	free(c->rbuf);
	c->rbuf = NULL;
	c->rcap = c->rlen = 0;
	srv_mem_give(c->srv, c, cap, true);
}

static void wbuf_release(struct conn *c)
{
	if (!c->wcap)
		return;
	free(c->wbuf);
	c->wbuf = NULL;
	c->srv->buffered -= c->wcap;
	c->wcap = c->wlen = c->woff = 0;
}

void conn_free(struct conn *c)
{
	struct srv *s = c->srv;

	srv_forget(s, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	close(c->fd);
	wbuf_release(c);
	rbuf_release(c);
	free(c);
}

/* Logs why, closes, and returns -1 for the caller to pass up. */
static int fail(struct conn *c, enum clog_level l, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_log(c, l, "%s; closing after %llu frames, %llu records", msg,
		 (unsigned long long)c->frames, (unsigned long long)c->records);
	conn_free(c);
	return -1;
}

/* What OpenSSL said, for the log: its queue, else errno. */
static const char *tls_why(int e, char *buf, size_t n)
{
	unsigned long code = ERR_get_error();

	if (code)
		ERR_error_string_n(code, buf, n);
	else if (e == SSL_ERROR_SYSCALL && errno)
		snprintf(buf, n, "%s", strerror(errno));
	else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, n, "connection closed by the peer");
	else
		snprintf(buf, n, "TLS error %d", e);
	ERR_clear_error();
	return buf;
}

/* ---- writing ---------------------------------------------------------------- */

int conn_send(struct conn *c, const void *p, size_t n)
{
	size_t held = c->wlen - c->woff;

	if (held + n > c->srv->cfg->lim.write_max)
		return -1;
	if (c->wlen + n > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 1024;
		unsigned char *w;

		while (cap < c->wlen + n)
			cap *= 2;
		if (!(w = realloc(c->wbuf, cap)))
			return -1;
		c->srv->buffered += cap - c->wcap;
		c->wbuf = w;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
	return 0;
}

static int flush(struct conn *c)
{
	char why[256];

	while (c->woff < c->wlen) {
		int n, e;

		ERR_clear_error();
		n = SSL_write(c->ssl, c->wbuf + c->woff, (int)(c->wlen - c->woff));
		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			c->wr_want_read = e == SSL_ERROR_WANT_READ;
			return 0;
		}
		c->ssl_dead = true;
		return fail(c, CLOG_INFO, "write: %s", tls_why(e, why, sizeof(why)));
	}
	c->wr_want_read = false;
	wbuf_release(c);
	return 0;
}

/* ---- the epoll interest ------------------------------------------------------ */

static void interest(struct conn *c)
{
	bool pending = c->woff < c->wlen, reading;
	uint32_t want = 0;

	switch (c->state) {
	case CS_HANDSHAKE:
		want = c->hs_want_write ? EPOLLOUT : EPOLLIN;
		break;
	case CS_ENROLL:
	case CS_FORWARD:
		reading = !c->paused && !c->srv->stopping;
		if (reading)
			want |= c->rd_want_write ? EPOLLOUT : EPOLLIN;
		if (pending)
			want |= c->wr_want_read ? EPOLLIN : EPOLLOUT;
		break;
	case CS_CLOSING:
		if (pending)
			want |= c->wr_want_read ? EPOLLIN : EPOLLOUT;
		break;
	}
	if (want == c->events)
		return;
	if (epoll_ctl(c->srv->ep, EPOLL_CTL_MOD, c->fd,
		      &(struct epoll_event){.events = want, .data.ptr = c}) == 0)
		c->events = want;
}

/* ---- after the handshake: who is this ---------------------------------------- */

static int authenticate(struct conn *c)
{
	struct srv *s = c->srv;
	struct tls_peer p;
	struct st_err serr;
	int rc;

	tls_peer(c->ssl, &p);
	if (!p.has_cert) {
		c->state = CS_ENROLL;
		c->t_frame = s->now;		/* the request's clock starts now */
		conn_log(c, CLOG_DEBUG, "no client certificate: enrollment only");
		return 0;
	}
	if (!p.verified)
		return fail(c, CLOG_WARN, "client certificate refused: %s", p.why);
	rc = st_cert_check(s->state.st, p.serial, p.cn, &serr);
	if (rc)
		return fail(c, rc == ST_REFUSED ? CLOG_WARN : CLOG_ERR,
			    "certificate %s (CN %s) refused: %s", p.serial, p.cn, serr.msg);
	snprintf(c->host, sizeof(c->host), "%s", p.cn);
	snprintf(c->serial, sizeof(c->serial), "%s", p.serial);
	c->state = CS_FORWARD;
	c->t_checked = c->t_seen = s->now;
	if (st_host_seen(s->state.st, c->host, (int64_t)time(NULL), &serr))
		conn_log(c, CLOG_WARN, "recording the host as seen: %s", serr.msg);
	conn_log(c, CLOG_INFO, "connected with certificate %s", c->serial);
	fwd_scanner_init(&c->sc, &s->flim);
	return 0;
}

static int handshake(struct conn *c)
{
	struct tls_peer p;
	char why[256];
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->hs_want_write = false;
		return authenticate(c);
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->hs_want_write = e == SSL_ERROR_WANT_WRITE;
		return 0;
	}
	c->ssl_dead = true;
	tls_why(e, why, sizeof(why));
	/* A certificate that does not verify is worth a warning (another CA,
	 * expired); port scanners and dropped links are not. */
	tls_peer(c->ssl, &p);
	if (p.has_cert || SSL_get_verify_result(c->ssl) != X509_V_OK)
		return fail(c, CLOG_WARN, "client certificate refused in the TLS handshake: %s%s%s",
			    p.why, p.cn[0] ? ", CN " : "", p.cn);
	return fail(c, CLOG_INFO, "TLS handshake failed: %s", why);
}

/* ---- reading ------------------------------------------------------------------- */

/* Room for one more read; false with the connection paused when the memory
 * budget has none. The scanner refuses a frame past frame_max, and rbuf
 * starts at the frame's first byte, so cap_max is never reached. */
static int room(struct conn *c, bool *ok)
{
	struct srv *s = c->srv;
	size_t frame = c->state == CS_ENROLL ? ENR_REQ_MAX : s->cfg->lim.frame_max;
	size_t cap_max = frame + READ_CHUNK, cap;
	unsigned char *b;

	*ok = true;
	if (c->rlen < c->rcap)
		return 0;
	if (c->rcap >= cap_max)
		return fail(c, CLOG_WARN, "frame refused: more than %zu bytes", frame);
	cap = c->rcap ? c->rcap * 2 : READ_CHUNK;
	if (cap > cap_max)
		cap = cap_max;
	if (!srv_mem_take(s, c, cap - c->rcap)) {
		if (!c->paused)
			conn_log(c, CLOG_DEBUG, "waiting for memory (limits.memory_max)");
		srv_pause(s, c);
		*ok = false;
		return 0;
	}
	if (!(b = realloc(c->rbuf, cap))) {
		srv_mem_give(s, c, cap - c->rcap, false);
		return fail(c, CLOG_ERR, "out of memory");
	}
	c->rbuf = b;
	c->rcap = cap;
	return 0;
}

static int enroll(struct conn *c)
{
	struct srv *s = c->srv;
	struct enr_ctx x = {.state = &s->state, .cert_days = s->cfg->cert_days,
			    .now = (int64_t)time(NULL)};
	char host[PKI_HOSTID_MAX + 1], serial[PKI_SERIAL_HEX + 1];
	msgpack_sbuffer out;
	struct enr_req req;
	struct cerr err;
	size_t used;
	int r;

	r = enr_parse(&req, c->rbuf, c->rlen, &used, &err);
	if (r == FWD_MORE)
		return 0;
	msgpack_sbuffer_init(&out);
	if (r == FWD_OK) {
		r = enr_handle(&x, &req, &out, host, serial, &err);
		if (r == 0)
			conn_log(c, CLOG_INFO, "enrolled host %s (hostname %s, machine id %s) "
				 "with certificate %s", host, req.hostname, req.machine_id, serial);
		else
			conn_log(c, r < 0 ? CLOG_ERR : CLOG_WARN, "enrollment of hostname %s "
				 "refused: %s", req.hostname, err.msg);
		enr_req_free(&req);
	} else {
		conn_log(c, CLOG_WARN, "enrollment refused: %s", err.msg);
		enr_reply_error(&out, err.msg);
	}
	/* One request per connection: what follows it is not read. */
	c->state = CS_CLOSING;
	c->t_close = s->now;
	rbuf_release(c);
	r = conn_send(c, out.data, out.size);
	msgpack_sbuffer_destroy(&out);
	if (r)
		return fail(c, CLOG_ERR, "reply over limits.write_max");
	return 0;
}

/* The overdraft served its frame: keep only what the next one has so far,
 * and let another connection have the overdraft. */
static void shrink(struct conn *c)
{
	size_t cap = (c->rlen + READ_CHUNK - 1) / READ_CHUNK * READ_CHUNK;
	unsigned char *b;

	if (cap < c->rcap && (b = realloc(c->rbuf, cap))) {
		srv_mem_give(c->srv, c, c->rcap - cap, true);
		c->rbuf = b;
		c->rcap = cap;
	} else {
		srv_mem_give(c->srv, c, 0, true);
	}
}

/* Every whole frame in rbuf, in order. */
static int frames(struct conn *c)
{
	struct srv *s = c->srv;
	size_t pos = 0;

	while (pos < c->rlen && !s->stopping) {
		struct fwd_frame f;
		struct fwd_err ferr;
		struct cerr why;
		size_t used, u2;
		int r;

		r = fwd_scanner_feed(&c->sc, c->rbuf + pos, c->rlen - pos, &used, &ferr);
		if (r == FWD_MORE)
			break;
		if (r == FWD_OK)
			r = fwd_decode(&f, c->rbuf + pos, used, &s->flim, &u2, &ferr);
		if (r != FWD_OK)
			return fail(c, CLOG_WARN, "frame refused: %s", ferr.msg);
		r = ingest_frame(c, &f, &why);
		fwd_frame_free(&f);
		if (r)
			return fail(c, r < 0 ? CLOG_ERR : CLOG_WARN, "%s: %s",
				    r < 0 ? "store failed" : "frame refused", why.msg);
		if (c->wlen - c->woff && flush(c))
			return -1;
		pos += used;
		c->frames++;
		c->t_done = s->now;
		fwd_scanner_init(&c->sc, &s->flim);
	}
	if (pos) {
		memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
		c->rlen -= pos;
		c->t_frame = s->now;		/* the next frame's first bytes came now */
	}
	if (c->rlen == 0)
		rbuf_release(c);
	else if (pos && s->overdraft == c)
		shrink(c);
	return 0;
}

static int read_some(struct conn *c)
{
	struct srv *s = c->srv;
	size_t total = 0;
	char why[256];

	while ((c->state == CS_ENROLL || c->state == CS_FORWARD) && !s->stopping) {
		bool ok;
		int n, e;

		if (room(c, &ok))
			return -1;
		if (!ok)
			return 0;
		ERR_clear_error();
		n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
		if (n > 0) {
			/* A frame's clock starts at its first byte; the enrollment
			 * request's at the handshake (authenticate). */
			if (c->rlen == 0 && c->state == CS_FORWARD)
				c->t_frame = s->now;
			c->rlen += (size_t)n;
			c->t_last = s->now;
			c->rd_want_write = false;
			if ((c->state == CS_ENROLL ? enroll(c) : frames(c)) < 0)
				return -1;
			total += (size_t)n;
			if (total >= FAIR_BYTES) {
				srv_again(s, c);
				return 0;
			}
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			c->rd_want_write = e == SSL_ERROR_WANT_WRITE;
			if (c->rlen == 0)
				rbuf_release(c);
			return 0;
		}
		if (e == SSL_ERROR_ZERO_RETURN && c->rlen == 0) {
			conn_log(c, CLOG_DEBUG, "closed by the peer after %llu frames",
				 (unsigned long long)c->frames);
			conn_free(c);
			return -1;
		}
		c->ssl_dead = e != SSL_ERROR_ZERO_RETURN;
		if (c->rlen)
			return fail(c, CLOG_WARN, "gone in the middle of a frame (%zu bytes "
				    "read): %s", c->rlen, tls_why(e, why, sizeof(why)));
		return fail(c, CLOG_INFO, "read: %s", tls_why(e, why, sizeof(why)));
	}
	return 0;
}

/* ---- driving it ----------------------------------------------------------------- */

int conn_step(struct conn *c)
{
	if (c->state == CS_HANDSHAKE && handshake(c))
		return -1;
	if (c->state == CS_HANDSHAKE) {
		interest(c);
		return 0;
	}
	if (flush(c) || read_some(c) || flush(c))
		return -1;
	if (c->state == CS_CLOSING && c->woff == c->wlen) {
		conn_log(c, CLOG_DEBUG, "reply sent, closing");
		SSL_shutdown(c->ssl);	/* close_notify, once, without waiting */
		conn_free(c);
		return -1;
	}
	interest(c);
	return 0;
}

int conn_event(struct conn *c, uint32_t events)
{
	bool hup = events & (EPOLLERR | EPOLLHUP);

	/* A paused or closing connection does not read, and would see
	 * EPOLLHUP forever: the peer is gone, so is the connection. */
	if (hup && (c->paused || c->state == CS_CLOSING))
		return fail(c, CLOG_INFO, "the peer hung up");
	if (conn_step(c))
		return -1;
	if (hup)
		return fail(c, CLOG_INFO, "the peer hung up");
	return 0;
}

int conn_tick(struct conn *c)
{
	struct srv *s = c->srv;
	const struct ccfg_limits *l = &s->cfg->lim;
	struct st_err serr;
	int rc;

	switch (c->state) {
	case CS_HANDSHAKE:
		if (s->now - c->t_accept > l->handshake_ms)
			return fail(c, CLOG_INFO, "TLS handshake not done in %u ms "
				    "(limits.handshake_timeout)", l->handshake_ms);
		break;
	case CS_ENROLL:
		if (s->now - c->t_frame > l->frame_ms)
			return fail(c, CLOG_WARN, "enrollment request not whole in %u ms "
				    "(limits.frame_timeout)", l->frame_ms);
		break;
	case CS_FORWARD:
		if (c->rlen && s->now - c->t_frame > l->frame_ms)
			return fail(c, CLOG_WARN, "frame not whole in %u ms, %zu bytes so far "
				    "(limits.frame_timeout)", l->frame_ms, c->rlen);
		if (!c->rlen && s->now - c->t_last > l->idle_ms)
			return fail(c, CLOG_INFO, "idle for %u ms (limits.idle_timeout)",
				    l->idle_ms);
		if (s->now - c->t_checked > RECHECK_MS) {
			c->t_checked = s->now;
			rc = st_cert_check(s->state.st, c->serial, c->host, &serr);
			if (rc)
				return fail(c, rc == ST_REFUSED ? CLOG_WARN : CLOG_ERR,
					    "certificate %s refused: %s", c->serial, serr.msg);
		}
		break;
	case CS_CLOSING:
		if (s->now - c->t_close > l->handshake_ms)
			return fail(c, CLOG_INFO, "reply not taken in %u ms", l->handshake_ms);
		break;
	}
	return 0;
}

void conn_bye(struct conn *c)
{
	if (!c->ssl_dead && c->state != CS_HANDSHAKE) {
		if (flush(c))			/* acks already committed: try once */
			return;
		ERR_clear_error();
		SSL_shutdown(c->ssl);
	}
	conn_free(c);
}
