/*
 * enroll.c: `vigil enroll --collector HOST:PORT --token TOKEN`.
 *
 * The token is "<id>.<secret>.<ca-pin>" as `vigil-collector token create`
 * prints it. The pin (SHA-256 of the collector CA's certificate) is what
 * makes enrolling over the network safe before this host trusts anything:
 * the TLS handshake is accepted only from a server chained to that CA. The
 * host makes its key here and sends only a CSR; the collector answers with
 * the certificate it signed, whose CN is the host id it chose.
 *
 * Wire: one msgpack map each way (docs/collector.md):
 *   {"enroll": {"token": "<id>.<secret>", "csr": PEM, "hostname": s, "machine_id": s}}
 *   {"ok": true, "host_id": s, "cert": PEM, "ca": PEM} | {"ok": false, "error": s}
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forward.h"
#include "ident.h"
#include "link.h"
#include "outbox.h"

#define TOKEN_MAX	512
#define REPLY_MAX	(64u << 10)	/* a reply holds two certificates */
#define ENROLL_TIMEOUT_MS 15000

struct token {
	char idsecret[TOKEN_MAX];	/* "<id>.<secret>": what the collector checks */
	char pin[PKI_FPR_HEX + 1];
};

static bool token_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", s[i]))
			return false;
	return n > 0;
}

static int token_parse(const char *s, struct token *t, struct vg_err *err)
{
	const char *d1 = strchr(s, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	size_t len = strlen(s);

	if (!d1 || !d2 || strchr(d2 + 1, '.') || len >= TOKEN_MAX ||
	    !token_chars(s, (size_t)(d1 - s)) || !token_chars(d1 + 1, (size_t)(d2 - d1 - 1)))
		return vg_errf(err, "the token is not <id>.<secret>.<ca-pin> as "
				    "`vigil-collector token create` prints it");
	if (strlen(d2 + 1) != PKI_FPR_HEX || strspn(d2 + 1, "0123456789abcdef") != PKI_FPR_HEX)
		return vg_errf(err, "the token's CA pin is not 64 lowercase hex digits");
	memcpy(t->idsecret, s, (size_t)(d2 - s));
	t->idsecret[d2 - s] = '\0';
	memcpy(t->pin, d2 + 1, PKI_FPR_HEX + 1);
	return 0;
}

static void machine_id(char *out, size_t len)
{
	struct vg_err e;
	char *s = file_get("/etc/machine-id", 256, NULL, &e);

	snprintf(out, len, "%s", s ? str_trim(s) : "");
	free(s);
}

static int pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

static int request(msgpack_sbuffer *sb, const struct token *t, const char *csr)
{
	msgpack_packer pk;
	char host[256] = "", mid[128];

	gethostname(host, sizeof(host) - 1);
	machine_id(mid, sizeof(mid));
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	return msgpack_pack_map(&pk, 1) || pack_str(&pk, "enroll") ||
	       msgpack_pack_map(&pk, 4) || pack_str(&pk, "token") || pack_str(&pk, t->idsecret) ||
	       pack_str(&pk, "csr") || pack_str(&pk, csr) ||
	       pack_str(&pk, "hostname") || pack_str(&pk, host) ||
	       pack_str(&pk, "machine_id") || pack_str(&pk, mid);
}

struct reply {
	int ok;				/* -1: absent */
	const msgpack_object *host_id, *cert, *ca, *error;
};

static int reply_parse(const msgpack_object *o, struct reply *r, struct vg_err *err)
{
	memset(r, 0, sizeof(*r));
	r->ok = -1;
	if (o->type != MSGPACK_OBJECT_MAP)
		return vg_errf(err, "the collector's reply is a %d, not a map", (int)o->type);
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		const msgpack_object *v = &kv->val;
		const char *k = kv->key.via.str.ptr;
		uint32_t kl = kv->key.via.str.size;

		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		if (kl == 2 && !memcmp(k, "ok", 2) && v->type == MSGPACK_OBJECT_BOOLEAN)
			r->ok = v->via.boolean;
		else if (v->type != MSGPACK_OBJECT_STR)
			continue;
		else if (kl == 7 && !memcmp(k, "host_id", 7))
			r->host_id = v;
		else if (kl == 4 && !memcmp(k, "cert", 4))
			r->cert = v;
		else if (kl == 2 && !memcmp(k, "ca", 2))
			r->ca = v;
		else if (kl == 5 && !memcmp(k, "error", 5))
			r->error = v;
	}
	if (r->ok == 0)
		return vg_errf(err, "the collector refused: %.*s",
			       r->error ? (int)r->error->via.str.size : 7,
			       r->error ? r->error->via.str.ptr : "no reason given");
	if (r->ok != 1 || !r->host_id || !r->cert || !r->ca)
		return vg_errf(err, "the collector's reply lacks ok, host_id, cert or ca");
	if (r->host_id->via.str.size == 0 || r->host_id->via.str.size > PKI_HOSTID_MAX)
		return vg_errf(err, "the collector's host id is empty or too long");
	return 0;
}

/* The files of the new identity, checked against the pin and each other. */
static int write_identity(const char *dir, const struct reply *r, const struct token *t,
			  const char *collector, struct vg_err *err)
{
	char p[PATH_MAX], fpr[PKI_FPR_HEX + 1];
	struct tls_err te = {{0}};
	struct ident id;
	SSL_CTX *ctx;

	if (pki_cert_fingerprint(r->ca->via.str.ptr, r->ca->via.str.size, fpr, &te))
		return vg_errf(err, "the collector's CA certificate: %s", te.msg);
	if (strcmp(fpr, t->pin))
		return vg_errf(err, "the collector sent a CA certificate other than the token's pin");
	memset(&id, 0, sizeof(id));
	if (path_join(id.key, dir, "host.key") || path_join(id.cert, dir, "host.crt") ||
	    path_join(id.ca, dir, "ca.crt") || path_join(p, dir, "collector"))
		return vg_errf(err, "%s: path too long", dir);
	snprintf(id.dir, sizeof(id.dir), "%s", dir);
	if (file_put_atomic(id.ca, r->ca->via.str.ptr, r->ca->via.str.size, 0644, err) ||
	    file_put_atomic(id.cert, r->cert->via.str.ptr, r->cert->via.str.size, 0644, err) ||
	    file_put_atomic(p, collector, strlen(collector), 0644, err))
		return -1;
	ctx = ident_ctx(&id, err);	/* key and certificate must belong together */
	if (!ctx)
		return -1;
	SSL_CTX_free(ctx);
	return 0;
}

static void rm_identity_dir(const char *dir)
{
	struct vg_err e;

	ident_rmdir(dir, &e);
}

/* ---- the identity being replaced, and what the spool still holds of it ---- */

/*
 * Records are delivered as the host that made them, with its certificate
 * (never re-tagged: a token must not let anyone rewrite a host's past).
 * So before a new identity replaces the current one, the spool is asked
 * what it still holds of the current host; if anything, the current
 * identity is kept as identity.prev, and `vigil run` sends those batches
 * with it first. At most one previous identity: while identity.prev still
 * has batches, enrolling again is refused (or, --discard-previous, they are
 * given up: `vigil run` moves them to bad/ and sends a gap record).
 * All of this is decided before the token is spent.
 */
struct plan {
	bool have_cur;
	struct ident cur;		/* the identity being replaced */
	struct ob_census cur_held;	/* what the spool holds of it */
	bool drop_prev;			/* remove identity.prev before installing */
	char prev_host[PKI_HOSTID_MAX + 1];
	uint64_t prev_batches;		/* given up with --discard-previous */
};

static int plan_make(const char *state, bool discard, struct plan *pl, struct vg_err *err)
{
	char obdir[PATH_MAX], prevdir[PATH_MAX];
	struct ob_census pc;
	struct ident prev;
	struct stat st;
	struct vg_err e;
	int r;

	memset(pl, 0, sizeof(*pl));
	if (path_join(obdir, state, "outbox") || path_join(prevdir, state, IDENT_PREV))
		return vg_errf(err, "%s: path too long", state);
	r = ident_load(&pl->cur, state, &e);
	if (r < 0)
		log_warn("the current identity does not load (%s): enrolling anew", e.msg);
	pl->have_cur = r == 0;
	if (pl->have_cur && ob_census(obdir, pl->cur.host_id, &pl->cur_held, err))
		return -1;
	if (lstat(prevdir, &st) < 0)
		return 0;
	r = ident_load_at(&prev, state, IDENT_PREV, &e);
	if (r != 0) {
		if (!discard)
			return vg_errf(err, "%s does not load (%s): remove it, or enroll with "
				       "--discard-previous", prevdir, r < 0 ? e.msg : "incomplete");
		pl->drop_prev = true;
		return 0;
	}
	snprintf(pl->prev_host, sizeof(pl->prev_host), "%s", prev.host_id);
	if (ob_census(obdir, prev.host_id, &pc, err))
		return -1;
	if (pc.busy)
		return vg_errf(err, "%s (host %s) may still hold undelivered batches and `vigil "
			       "run` is using the spool: wait until `vigil status` shows no previous "
			       "identity, or stop vigil run and enroll with --discard-previous",
			       prevdir, prev.host_id);
	if ((pc.batches || pc.open_log) && !discard)
		return vg_errf(err, "%" PRIu64 " batches of host %s (%s) are not delivered yet: run "
			       "`vigil run` until `vigil status` shows no previous identity, or "
			       "enroll with --discard-previous to give them up", pc.batches +
			       pc.open_log, prev.host_id, prevdir);
	pl->prev_batches = pc.batches + pc.open_log;
	pl->drop_prev = true;
	return 0;
}

/* Before identity.new is renamed into place. */
static int plan_apply(const char *state, const struct plan *pl, const char *new_host,
		      struct vg_err *err)
{
	const struct ob_census *c = &pl->cur_held;

	if (pl->drop_prev) {
		if (ident_drop_prev(state, err))
			return -1;
		if (pl->prev_batches)
			printf("%" PRIu64 " batches of host %s are given up (--discard-previous): "
			       "`vigil run` moves them to bad/ and sends a gap record\n",
			       pl->prev_batches, pl->prev_host);
	}
	if (!pl->have_cur || !strcmp(pl->cur.host_id, new_host))
		return 0;
	if (!c->busy && !c->batches && !c->open_log)
		return 0;
	if (ident_keep_prev(state, err))
		return -1;
	if (c->busy)
		printf("vigil run is running as host %s: restart it to use the new identity; what "
		       "it spooled is sent as %s (identity kept in %s/" IDENT_PREV ")\n",
		       pl->cur.host_id, pl->cur.host_id, state);
	else
		printf("%" PRIu64 " batches%s of host %s stay spooled; they are sent as %s "
		       "(identity kept in %s/" IDENT_PREV ")\n", c->batches,
		       c->open_log ? " and an open one" : "", pl->cur.host_id, pl->cur.host_id,
		       state);
	return 0;
}

/* identity.new replaces identity; the old one is kept as identity.old. */
static int install(const char *state, struct vg_err *err)
{
	char cur[PATH_MAX], nw[PATH_MAX], old[PATH_MAX];
	struct stat st;

	if (path_join(cur, state, "identity") || path_join(nw, state, "identity.new") ||
	    path_join(old, state, "identity.old"))
		return vg_errf(err, "%s: path too long", state);
	if (stat(cur, &st) == 0) {
		rm_identity_dir(old);
		if (rename(cur, old) < 0)
			return vg_errf(err, "rename %s: %s", cur, strerror(errno));
	}
	if (rename(nw, cur) < 0)
		return vg_errf(err, "rename %s: %s", nw, strerror(errno));
	return 0;
}

static int enroll(const char *collector, const struct token *t, const char *state,
		  const struct plan *pl, char host_id[PKI_HOSTID_MAX + 1], struct vg_err *err)
{
	char dir[PATH_MAX], key[PATH_MAX], host[256] = "";
	struct tls_err te = {{0}};
	msgpack_sbuffer sb;
	struct fwd_limits lim;
	struct link l = {.fd = -1};
	msgpack_zone z;
	msgpack_object o;
	struct reply r;
	char *csr = NULL;
	SSL_CTX *ctx = NULL;
	int rc = -1, rr;

	if (path_join(dir, state, "identity.new") || path_join(key, dir, "host.key"))
		return vg_errf(err, "%s: path too long", state);
	if (mkdir(state, 0700) < 0 && errno != EEXIST)
		return vg_errf(err, "%s: %s", state, strerror(errno));
	rm_identity_dir(dir);	/* what a failed enrollment left */
	if (mkdir(dir, 0700) < 0)
		return vg_errf(err, "%s: %s", dir, strerror(errno));
	gethostname(host, sizeof(host) - 1);
	if (pki_key_csr(key, host[0] ? host : "vigil", &csr, &te)) {
		vg_errf(err, "%s", te.msg);
		goto out;
	}
	ctx = tls_client_ctx_pinned(t->pin, &te);
	if (!ctx) {
		vg_errf(err, "%s", te.msg);
		goto out;
	}
	msgpack_sbuffer_init(&sb);
	if (request(&sb, t, csr)) {
		msgpack_sbuffer_destroy(&sb);
		vg_errf(err, "out of memory");
		goto out;
	}
	if (link_open(&l, collector, ctx, ENROLL_TIMEOUT_MS, REPLY_MAX, err) ||
	    link_write(&l, sb.data, sb.size, err)) {
		msgpack_sbuffer_destroy(&sb);
		goto out;
	}
	msgpack_sbuffer_destroy(&sb);
	fwd_limits_default(&lim);
	lim.frame_max = lim.str_max = REPLY_MAX;
	lim.depth_max = 2;
	lim.objects_max = 64;
	rr = link_read(&l, &lim, -1, &z, &o, err);
	if (rr == 1)
		vg_errf(err, "%s: no answer to the enrollment in %d ms", collector,
			ENROLL_TIMEOUT_MS);
	if (rr)
		goto out;
	if (reply_parse(&o, &r, err) == 0 && write_identity(dir, &r, t, collector, err) == 0) {
		snprintf(host_id, PKI_HOSTID_MAX + 1, "%.*s", (int)r.host_id->via.str.size,
			 r.host_id->via.str.ptr);
		rc = plan_apply(state, pl, host_id, err) ? -1 : install(state, err);
	}
	msgpack_zone_destroy(&z);
out:
	link_close(&l);
	SSL_CTX_free(ctx);
	free(csr);
	if (rc)
		rm_identity_dir(dir);
	return rc;
}

static void usage_enroll(FILE *out)
{
	fputs("usage: vigil enroll --collector HOST:PORT --token TOKEN [--state-dir DIR]\n"
	      "                    [--discard-previous]\n"
	      "Trades a token from `vigil-collector token create` for this host's certificate;\n"
	      "the identity is kept in DIR/identity (default " VG_STATE_DIR "). Records still\n"
	      "spooled under the identity it replaces are sent as that host (DIR/identity.prev);\n"
	      "--discard-previous gives up those of an earlier identity.prev instead.\n",
	      out);
}

int cmd_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
		{"collector", required_argument, NULL, 'c'},
		{"token", required_argument, NULL, 't'},
		{"state-dir", required_argument, NULL, 's'},
		{"discard-previous", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *collector = NULL, *tok = NULL, *state = VG_STATE_DIR;
	char host[LINK_ADDR_MAX], port[16], host_id[PKI_HOSTID_MAX + 1] = "";
	struct vg_err err = {{0}};
	struct plan pl;
	struct token t;
	bool discard = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': collector = optarg; break;
		case 't': tok = optarg; break;
		case 's': state = optarg; break;
		case 'd': discard = true; break;
		case 'h': usage_enroll(stdout); return 0;
		default: usage_enroll(stderr); return 2;
		}
	}
	if (!collector || !tok || optind != argc) {
		usage_enroll(stderr);
		return 2;
	}
	if (link_split(collector, host, sizeof(host), port, sizeof(port), &err) ||
	    token_parse(tok, &t, &err)) {
		fprintf(stderr, "vigil enroll: %s\n", err.msg);
		return 2;
	}
	if (plan_make(state, discard, &pl, &err)) {
		fprintf(stderr, "vigil enroll: refused: %s\n", err.msg);
		return 1;
	}
	if (enroll(collector, &t, state, &pl, host_id, &err)) {
		fprintf(stderr, "vigil enroll: %s\n", err.msg);
		return 1;
	}
	printf("enrolled with %s as host %s; identity in %s/identity\n", collector, host_id,
	       state);
	return 0;
}
