/* link.c: the sensor's TLS connection to its collector (link.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "link.h"
#include "tls.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int link_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen,
	       struct vg_err *err)
{
	const char *colon, *h = addr;
	size_t hl;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return vg_errf(err, "collector address '%s': want [v6-address]:port", addr);
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || strchr(addr, ':') != colon)
			return vg_errf(err, "collector address '%s': want host:port", addr);
		hl = (size_t)(colon - addr);
	}
	if (hl == 0 || hl >= hostlen)
		return vg_errf(err, "collector address '%s': the host is empty or too long", addr);
	if (!colon[1] || strlen(colon + 1) >= portlen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 ||
	    atoi(colon + 1) > 65535)
		return vg_errf(err, "collector address '%s': the port must be 1..65535", addr);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

/* Waits for fd to be ready for ev until deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = {.fd = fd, .events = ev};
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;	/* let the next call report the error */
	}
}

static int dial(const char *host, const char *port, int64_t deadline, struct vg_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res, *ai;
	int rc, fd = -1, soerr = 0;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		return vg_errf(err, "%s: %s", host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			soerr = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		soerr = errno;
		if (errno == EINPROGRESS) {
			if (!wait_fd(fd, POLLOUT, deadline))
				soerr = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				soerr = errno;
			if (!soerr)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return vg_errf(err, "connect to %s port %s: %s", host, port, strerror(soerr));
	return fd;
}

/* Runs one SSL call to completion or the deadline. */
static int ssl_drive(struct link *l, int rc, int64_t deadline, const char *what,
		     struct vg_err *err)
{
	int e = SSL_get_error(l->ssl, rc);
	struct tls_err te;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (!wait_fd(l->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
			return 1;
		return 0;	/* call again */
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return vg_errf(err, "%s: %s: the collector closed the connection", l->addr, what);
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return vg_errf(err, "%s: %s: %s", l->addr, what,
			       errno ? strerror(errno) : "the connection was cut");
	tls_err_ssl(&te, what);
	return vg_errf(err, "%s: %s", l->addr, te.msg);
}

int link_open(struct link *l, const char *addr, SSL_CTX *ctx, int timeout_ms, size_t in_max,
	      struct vg_err *err)
{
	/* OpenSSL writes with write(2): a collector that closed first would
	 * kill the process with SIGPIPE instead of returning EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	char host[LINK_ADDR_MAX], port[16];
	int64_t deadline = now_ms() + timeout_ms;
	struct tls_err te;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->timeout_ms = timeout_ms;
	l->in_max = in_max;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	if (link_split(addr, host, sizeof(host), port, sizeof(port), err))
		return -1;
	l->fd = dial(host, port, deadline, err);
	if (l->fd < 0)
		return -1;
	l->ssl = SSL_new(ctx);
	if (!l->ssl || !SSL_set_fd(l->ssl, l->fd) || tls_client_name(l->ssl, host, &te)) {
		if (!l->ssl || !te.msg[0])
			tls_err_ssl(&te, "SSL_new");
		vg_errf(err, "%s: %s", addr, te.msg);
		link_close(l);
		l->reached = true;
		return -1;
	}
	l->reached = true;
	for (;;) {
		int rc = SSL_connect(l->ssl), r;

		if (rc == 1)
			return 0;
		r = ssl_drive(l, rc, deadline, "TLS handshake", err);
		if (r == 1)
			vg_errf(err, "%s: TLS handshake: no answer in %d ms", addr, timeout_ms);
		if (r) {
			SSL_free(l->ssl);	/* no close_notify after a failed handshake */
			l->ssl = NULL;
			link_close(l);
			l->reached = true;
			return -1;
		}
	}
}

void link_close(struct link *l)
{
	if (l->ssl) {
		SSL_shutdown(l->ssl);	/* best effort: the socket is non-blocking */
		SSL_free(l->ssl);
	}
	if (l->fd >= 0)
		close(l->fd);
	free(l->in);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

int link_write(struct link *l, const void *buf, size_t len, struct vg_err *err)
{
	int64_t deadline = now_ms() + l->timeout_ms;
	const unsigned char *p = buf;

	while (len > 0) {
		size_t done = 0;
		int rc = SSL_write_ex(l->ssl, p, len, &done), r;

		if (rc == 1) {
			p += done;
			len -= done;
			continue;
		}
		r = ssl_drive(l, rc, deadline, "write", err);
		if (r == 1)
			return vg_errf(err, "%s: write: the collector took nothing for %d ms",
				       l->addr, l->timeout_ms);
		if (r)
			return -1;
	}
	return 0;
}

/* What is buffered as one object, if whole: FWD_OK, FWD_MORE, FWD_BAD. */
static int take(struct link *l, const struct fwd_limits *lim, msgpack_zone *z,
		msgpack_object *o, struct vg_err *err)
{
	struct fwd_err fe = {{0}};
	size_t used = 0;
	int r;

	if (!l->in_len)
		return FWD_MORE;
	r = fwd_object_decode(l->in, l->in_len, lim, z, o, &used, &fe);
	if (r == FWD_BAD)
		return vg_errf(err, "%s: a reply that is not one msgpack object within limits: %s",
			       l->addr, fe.msg), FWD_BAD;
	if (r == FWD_MORE)
		return FWD_MORE;
	memmove(l->in, l->in + used, l->in_len - used);
	l->in_len -= used;
	return FWD_OK;
}

int link_read(struct link *l, const struct fwd_limits *lim, int timeout_ms, msgpack_zone *z,
	      msgpack_object *o, struct vg_err *err)
{
	int64_t deadline = now_ms() + (timeout_ms < 0 ? l->timeout_ms : timeout_ms);

	for (;;) {
		size_t got = 0;
		int r = take(l, lim, z, o, err), rc;

		if (r == FWD_OK)
			return 0;
		if (r == FWD_BAD)
			return -1;
		if (l->in_len >= l->in_max)
			return vg_errf(err, "%s: a reply longer than %zu bytes", l->addr, l->in_max);
		if (l->in_cap < l->in_max) {
			l->in_cap = l->in_max;
			l->in = xrealloc(l->in, l->in_cap);
		}
		rc = SSL_read_ex(l->ssl, l->in + l->in_len, l->in_max - l->in_len, &got);
		if (rc == 1) {
			l->in_len += got;
			continue;
		}
		r = ssl_drive(l, rc, deadline, "read", err);
		if (r == 1)
			return 1;
		if (r)
			return -1;
	}
}
