/*
 * serve_int.h: what serve.c (the loop: listeners, signals, timers, the
 * memory budget) and conn*.c (one connection: TLS, framing, enrollment,
 * ingest) share. Nobody else includes it.
 *
 * A connection is a small state machine driven by readiness:
 *
 *   HANDSHAKE --no client certificate--> ENROLL --reply sent--> CLOSING
 *       \--verified, known, not revoked--> FORWARD (frames, acks)
 *
 * Every step that can end a connection frees it and returns -1; a caller
 * that gets -1 never touches the connection again.
 */
#ifndef VIGIL_SERVE_INT_H
#define VIGIL_SERVE_INT_H

#include <sys/socket.h>

#include <openssl/ssl.h>

#include "collector.h"
#include "forward.h"

#define READ_CHUNK	(16u << 10)	/* buffer growth step; one TLS record */
#define FAIR_BYTES	(1u << 20)	/* read per turn before others get theirs */
#define TICK_MS		100		/* timer resolution */
#define SEEN_EVERY_MS	(60 * 1000)	/* st_host_seen at most this often per connection */
#define RECHECK_MS	(300 * 1000)	/* st_cert_check again: revocations reach open links */
#define CLONE_WINDOW_MS	(120 * 1000)	/* both sent a frame this recently: both alive */

enum ev_kind { EV_LISTEN, EV_SIGNAL, EV_CONN };	/* first member of what epoll points to */

enum conn_state { CS_HANDSHAKE, CS_ENROLL, CS_FORWARD, CS_CLOSING };

struct srv;

struct conn {
	enum ev_kind kind;
	struct srv *srv;
	struct conn *prev, *next;		/* srv->conns */
	struct conn *again_next;		/* srv->again: run without an event */
	bool in_again, paused;			/* paused: waits for the memory budget */
	int fd;
	SSL *ssl;
	bool ssl_dead;				/* fatal TLS error: no close_notify */
	enum conn_state state;
	uint32_t events;			/* registered with epoll */
	bool hs_want_write, rd_want_write, wr_want_read;
	char addr[64];				/* "ip:port", "[v6]:port" */
	char ip[48];
	/* identity (CS_FORWARD) */
	char host[PKI_HOSTID_MAX + 1];
	char serial[PKI_SERIAL_HEX + 1];
	char machine_id[ENR_MACHINE_ID_MAX + 1];	/* first one its records named */
	bool clone_flagged;
	/* bytes in: rbuf[0, rlen) starts at the first byte of a frame */
	unsigned char *rbuf;
	size_t rlen, rcap;
	struct fwd_scanner sc;
	/* bytes out: wbuf[woff, wlen) not yet taken by TLS */
	unsigned char *wbuf;
	size_t woff, wlen, wcap;
	/* clocks (ms, monotonic) */
	int64_t t_accept, t_last, t_frame, t_done, t_seen, t_checked, t_close;
	uint64_t frames, records;
};

struct lsock {
	enum ev_kind kind;
	int fd;
	bool armed;
	char addr[64];
};

struct srv {
	const struct ccfg *cfg;
	struct sst state;
	struct fwd_limits flim;
	SSL_CTX *ctx;
	int ep;
	struct lsock ls[CCFG_LISTEN_MAX * 2];
	size_t n_ls;
	struct {
		enum ev_kind kind;
		int fd;
	} sig;
	struct conn *conns, *again, *running, *paused;
	struct conn *overdraft;			/* may pass memory_max by one frame */
	size_t n_conns;
	size_t buffered;			/* read and write buffers of all connections */
	int64_t now, next_tick, rearm_at;
	int64_t wd_ms, next_wd;			/* systemd's watchdog: ping every wd_ms / 2 */
	int64_t excess_logged;			/* refusals are logged once a second */
	uint64_t excess_quiet;
	bool stopping;
};

/* serve.c */
int64_t srv_clock(void);
/* Read buffer bytes for c: false when over memory_max and another
 * connection holds the overdraft. done: c finished the frame it held the
 * overdraft for (or released its buffer), so the overdraft is free. */
bool srv_mem_take(struct srv *s, struct conn *c, size_t n);
void srv_mem_give(struct srv *s, struct conn *c, size_t n, bool done);
void srv_again(struct srv *s, struct conn *c);
void srv_pause(struct srv *s, struct conn *c);
void srv_forget(struct srv *s, struct conn *c);	/* out of every list but conns */

/* conn.c */
struct conn *conn_new(struct srv *s, int fd, const struct sockaddr *sa, socklen_t len);
int conn_event(struct conn *c, uint32_t events);
int conn_step(struct conn *c);
int conn_tick(struct conn *c);			/* timeouts */
void conn_free(struct conn *c);			/* closes now, logs nothing */
void conn_bye(struct conn *c);			/* at shutdown: flush once, close_notify */
void conn_log(const struct conn *c, enum clog_level l, const char *fmt, ...) COL_PRINTF(3, 4);
int conn_send(struct conn *c, const void *p, size_t n);	/* -1: over write_max */

/* conn_ingest.c: one decoded frame into the store. 0: stored (and its ack
 * queued when it had a chunk); 1: refused (why); -1: the store failed
 * (why). Either way nothing of a refused frame is stored. */
int ingest_frame(struct conn *c, const struct fwd_frame *f, struct cerr *why);
/* rec as the store gets it: device.uid set to host when absent (refused
 * when it names another), class_uid 0 and time (ms, from time_ns) added
 * when absent. 0 with *out (rec itself, or a copy in z); 1 refused (why);
 * -1 out of memory. */
int ingest_patch(const msgpack_object *rec, const char *host, uint64_t time_ns,
		 msgpack_zone *z, msgpack_object **out, struct cerr *why);

#endif
