/*
 * collector.h: the vigil-collector program's modules and their contracts.
 * Two blocks, each kept by its own author: the network server (log,
 * configuration, tokens, enrollment, the serve loop) and the queries behind
 * `vigil-collector hosts|checks|events`. The store has its own header
 * (store.h).
 */
#ifndef VIGIL_COLLECTOR_H
#define VIGIL_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "store.h"
#include "tls.h"

/* ==== the network server: log.c, ccfg.c, token.c, enroll*.c, serve*.c, conn*.c ==== */

#define COL_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* An error on its way to a log line or the terminal. */
struct cerr {
	char msg[512];
};
int cerrf(struct cerr *err, const char *fmt, ...) COL_PRINTF(2, 3);	/* returns -1 */

/* ---- log.c: one line per event on stderr (clog_) ------------------------------
 * "vigil-collector: LEVEL: text". Under systemd (JOURNAL_STREAM names our
 * stderr) each line starts with its syslog priority, "<4>", for the journal.
 * Bytes a peer chose end up in messages, so control characters and non-ASCII
 * are written as \xNN: a line is always one line. Nothing secret is logged:
 * callers pass token ids, never secrets, and never key material. */
enum clog_level { CLOG_ERR, CLOG_WARN, CLOG_INFO, CLOG_DEBUG };
void clog_set_level(enum clog_level l);
enum clog_level clog_get_level(void);
int clog_level_parse(const char *s, enum clog_level *l);	/* 0, or -1 */
void clog_msg(enum clog_level l, const char *fmt, ...) COL_PRINTF(2, 3);

/* ---- ccfg.c: collector.yaml ---------------------------------------------------
 * Every key is optional; unknown keys, wrong types and out-of-range values
 * are errors naming the file and line. Sizes take K/KiB, M/MiB, G/GiB
 * (binary); durations ms, s, m, h, d (a bare number is seconds). */
#define CCFG_PATH	"/etc/vigil/collector.yaml"
#define CCFG_STATE_DIR	"/var/lib/vigil-collector"
#define CCFG_LISTEN	"0.0.0.0:24224"
#define CCFG_LISTEN_MAX	8
#define CCFG_NAMES_MAX	16
#define CCFG_FILE_MAX	(64u << 10)

struct ccfg_limits {
	uint32_t max_connections;
	size_t frame_max;		/* one Forward frame (fwd_limits.frame_max) */
	size_t inflate_max;		/* one frame's gunzipped entries */
	size_t write_max;		/* unsent replies held for one connection */
	size_t memory_max;		/* read and write buffers of all connections */
	uint32_t handshake_ms;		/* accept to the end of the TLS handshake */
	uint32_t idle_ms;		/* no byte between frames */
	uint32_t frame_ms;		/* first to last byte of one frame or request */
};

struct ccfg {
	char *listen[CCFG_LISTEN_MAX];	/* "host:port", "[v6]:port", "*:port" */
	size_t n_listen;
	char *state_dir;
	char *store;			/* st_open spec; NULL: state_dir */
	char *names[CCFG_NAMES_MAX];	/* server certificate SANs; none: defaults */
	size_t n_names;
	int cert_days;			/* host certificates */
	enum clog_level log_level;
	struct ccfg_limits lim;
};
void ccfg_defaults(struct ccfg *c);
/* name is the file's name for messages; buf need not be NUL-terminated. */
int ccfg_parse(struct ccfg *c, const char *name, const char *buf, size_t len, struct cerr *err);
/* A missing file is an error only when must_exist (an explicit --config). */
int ccfg_load(struct ccfg *c, const char *path, bool must_exist, struct cerr *err);
void ccfg_free(struct ccfg *c);
int ccfg_size(const char *s, uint64_t *out);		/* "64KiB": 0, or -1 */
int ccfg_duration(const char *s, uint64_t *ms);		/* "1h": 0, or -1 */

/* ---- token.c: enrollment tokens (tok_) -------------------------------------------
 * A token is "<id>.<secret>": 16 and 64 random hex digits. The store keeps
 * the id and the SHA-256 of the secret; the secret is shown once. Printed
 * for the operator as "<id>.<secret>.<ca-pin>", the pin being the SHA-256
 * of the CA certificate, so the sensor can trust the collector before it
 * has its CA. */
#define TOK_ID_HEX	16
#define TOK_SECRET_HEX	64
#define TOK_TEXT_MAX	(TOK_ID_HEX + 1 + TOK_SECRET_HEX + 1 + PKI_FPR_HEX)
struct tok {
	char id[TOK_ID_HEX + 1];
	char secret[TOK_SECRET_HEX + 1];
};
int tok_make(struct tok *t, struct cerr *err);
/* "<id>.<secret>" or "<id>.<secret>.<pin>" (the pin is not checked here). */
int tok_split(const char *s, size_t len, struct tok *t, struct cerr *err);
void tok_hash(const char *secret, char hex[65]);	/* sha256 hex of the secret */
/* Stores a new token and writes "<id>.<secret>.<pin>" to text. */
int tok_create(struct st *s, const char *ca_pem, size_t ca_len, int64_t now, int64_t ttl_s,
	       int uses, char text[TOK_TEXT_MAX + 1], struct cerr *err);

/* ---- serve_state.c: the state directory (sst_) -------------------------------------
 * state_dir/ca/{ca.key,ca.crt}, state_dir/server/{server.key,server.crt}
 * and the store (state_dir/vigil.db unless `store` says otherwise). Made on
 * first use, by `serve` and `token create` alike; never overwritten. */
struct sst {
	char *ca_dir, *server_dir;
	char *ca_crt, *server_crt, *server_key;	/* paths */
	char *ca_pem;				/* the CA certificate, for replies */
	size_t ca_pem_len;
	char pin[PKI_FPR_HEX + 1];
	struct pki_ca *ca;
	struct st *st;
};
/* server: also the server key and certificate (only serve needs them). */
int sst_open(struct sst *x, const struct ccfg *c, bool server, struct cerr *err);
void sst_close(struct sst *x);

/* ---- enroll.c: the enrollment exchange (enr_) ---------------------------------------
 * A client without a certificate sends one msgpack map
 *   {"enroll": {"token": "<id>.<secret>", "csr": "<PEM>",
 *               "hostname": str, "machine_id": str}}
 * and gets {"ok": true, "host_id": str, "cert": PEM, "ca": PEM} or
 * {"ok": false, "error": str}; the connection then closes. */
#define ENR_REQ_MAX		(PKI_CSR_MAX + 4096)
#define ENR_TOKEN_MAX		TOK_TEXT_MAX
#define ENR_HOSTNAME_MAX	253
#define ENR_MACHINE_ID_MAX	64
struct enr_req {
	char token[ENR_TOKEN_MAX + 1];
	char hostname[ENR_HOSTNAME_MAX + 1];
	char machine_id[ENR_MACHINE_ID_MAX + 1];
	char *csr;			/* malloc'd, NUL-terminated */
	size_t csr_len;
};
/* FWD_OK (*used: the request's bytes; free with enr_req_free), FWD_MORE, or
 * FWD_BAD with err. Never allocates before the bytes passed fwd_scanner. */
int enr_parse(struct enr_req *r, const void *buf, size_t len, size_t *used, struct cerr *err);
void enr_req_free(struct enr_req *r);

struct enr_ctx {
	struct sst *state;
	int cert_days;
	int64_t now;			/* unix seconds */
};
/* Checks the CSR and signs it, spends the token, picks the host id, records
 * the host. Writes the reply to out either way. 0 enrolled (host_id and
 * serial set); ENR_REFUSED: the request's fault, err says why and so does
 * the reply; -1: the collector failed (err says; the reply only says so). */
enum { ENR_REFUSED = 1 };
int enr_handle(const struct enr_ctx *x, const struct enr_req *r, msgpack_sbuffer *out,
	       char host_id[PKI_HOSTID_MAX + 1], char serial[PKI_SERIAL_HEX + 1],
	       struct cerr *err);
int enr_reply_error(msgpack_sbuffer *out, const char *why);

/* ---- serve.c: the server ------------------------------------------------------------
 * One thread, one epoll loop; runs until SIGTERM or SIGINT, then stops
 * accepting, closes every connection (no frame is half-stored: each is
 * committed whole before its ack) and closes the store. 0, or -1 with err
 * when it could not start. */
int srv_run(const struct ccfg *c, struct cerr *err);

/* ---- privdrop.c: root on the collector user's state directory (priv_) -------------------
 * Run by root on a state directory that exists and belongs to another user,
 * a command becomes that user (its uid, the directory's gid, no
 * supplementary groups) before it creates anything there, so the service
 * can use what it made. 1 switched, 0 nothing to do (not root; the
 * directory is missing or root's), -1 could not switch (err says). */
int priv_become_owner(const char *dir, struct cerr *err);

/* ---- main.c's commands implemented elsewhere ------------------------------------------ */
/* ==== end of the network server's block ==== */

/* ==== queries: `vigil-collector hosts|checks|events` (the store's author) ==== */
/* main.c passes argv from the command's own name on (argv[0] == "hosts");
 * each returns the exit code: 0, 1 on failure, 2 on bad usage. */
int cmd_hosts(int argc, char **argv);
int cmd_checks(int argc, char **argv);
int cmd_events(int argc, char **argv);
/* ==== end of the queries' block ==== */

#endif
