/*
 * link.h: one TLS connection from the sensor to its collector (prefix
 * link_). Blocking calls with deadlines: the socket is non-blocking and each
 * call polls until its timeout, so a collector that stops answering costs
 * the caller timeout_ms, never a hung thread. Used by `vigil enroll` and by
 * the shipper thread of `vigil run`; one thread per link.
 *
 * link_open sets SIGPIPE to be ignored, process-wide: a write to a
 * collector that went away must be an error, not the end of the sensor.
 *
 * Replies are msgpack objects read whole and bounded (fwd_object_decode)
 * before msgpack-c sees them. Returns 0, or -1 with err naming the
 * collector and what failed.
 */
#ifndef VIGIL_LINK_H
#define VIGIL_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>
#include <openssl/ssl.h>

#include "forward.h"
#include "vigil.h"

#define LINK_ADDR_MAX	256

struct link {
	int fd;
	SSL *ssl;
	char addr[LINK_ADDR_MAX];	/* as dialed, for messages */
	int timeout_ms;
	unsigned char *in;		/* bytes read, not yet a whole object */
	size_t in_len, in_cap, in_max;
	bool reached;			/* link_open made the TCP connection: a failure
					 * after it was the TLS handshake's */
};

/* "host:port" or "[v6]:port" into host and port; 0, or -1 with err. */
int link_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen,
	       struct vg_err *err);
/* Dials addr, then TLS with ctx, verifying the server's name. in_max bounds
 * one reply (and what may be buffered). */
int link_open(struct link *l, const char *addr, SSL_CTX *ctx, int timeout_ms, size_t in_max,
	      struct vg_err *err);
void link_close(struct link *l);		/* sends close_notify when it can */
int link_write(struct link *l, const void *buf, size_t len, struct vg_err *err);
/* The next whole msgpack object within lim; 1 when none arrived by the
 * deadline (timeout_ms < 0: the link's). *o lives in z until destroyed. */
int link_read(struct link *l, const struct fwd_limits *lim, int timeout_ms, msgpack_zone *z,
	      msgpack_object *o, struct vg_err *err);

#endif
