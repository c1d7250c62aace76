/*
 * ship.c: the host, baseline runs and the sensor's own state as records
 * (ship.h). The facts are those of report_json (report.c); the mapping
 * onto OCSF names is docs/records.md.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ship_int.h"

/* ---- the host ------------------------------------------------------------ */

/* The first line of a small file, trimmed; NULL when missing or empty. */
static char *first_line(const struct vg_root *r, const char *path)
{
	char *buf, *line, *out = NULL;

	if (root_read(r, path, 4096, &buf, NULL) < 0)
		return NULL;
	line = str_trim(buf);
	line[strcspn(line, "\n")] = 0;
	if (*line)
		out = xstrdup(line);
	free(buf);
	return out;
}

static char *proc_line(const char *path)
{
	char buf[256];
	FILE *f = fopen(path, "re");
	char *line = NULL;

	if (!f)
		return NULL;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		if (buf[0])
			line = xstrdup(buf);
	}
	fclose(f);
	return line;
}

static void run_id(char out[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[8];
	uint64_t x;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		/* No entropy yet (early boot): distinct enough within a host. */
		x = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
		memcpy(r, &x, sizeof(r));
	}
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[16] = 0;
}

int ship_host_init(struct ship_host *h, const char *host_uid, struct vg_ctx *ctx,
		   struct vg_err *err)
{
	struct vg_osrel os;
	struct vg_host vh;
	struct utsname u;

	memset(h, 0, sizeof(*h));
	if (!host_uid || !*host_uid)
		return vg_errf(err, "ship: no host id (the certificate's CN)");
	if (osrel_read(&ctx->root, &os) < 0)
		memset(&os, 0, sizeof(os));	/* an image without os-release */
	host_describe(ctx, &os, &vh);
	h->uid = xstrdup(host_uid);
	h->hostname = vh.hostname;
	h->os_name = vh.os;
	h->kernel = vh.kernel;
	vh.hostname = vh.os = vh.kernel = NULL;
	host_free(&vh);
	h->os_version = os.version_id ? xstrdup(os.version_id) : NULL;
	h->os_id = os.id ? xstrdup(os.id) : NULL;
	osrel_free(&os);
	h->machine_id = first_line(&ctx->root, "/etc/machine-id");
	if (ctx->root.live) {
		if (uname(&u) == 0)
			h->arch = xstrdup(u.machine);
		h->boot_id = proc_line("/proc/sys/kernel/random/boot_id");
	}
	h->packages = pkgdb_count(ctx);
	h->src = (struct ocsf_src){
		.host_uid = h->uid, .hostname = h->hostname, .os_name = h->os_name,
		.os_version = h->os_version, .product_version = VIGIL_VERSION,
	};
	run_id(h->run);
	return 0;
}

void ship_host_free(struct ship_host *h)
{
	free(h->uid);
	free(h->hostname);
	free(h->os_name);
	free(h->os_version);
	free(h->os_id);
	free(h->kernel);
	free(h->arch);
	free(h->boot_id);
	free(h->machine_id);
	memset(h, 0, sizeof(*h));
}

void ship_uid(struct ship_host *h, char out[SHIP_UID_MAX])
{
	snprintf(out, SHIP_UID_MAX, "%s-%llu", h->run, (unsigned long long)++h->seq);
}

int ship_inventory(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
		   struct vg_err *err)
{
	struct ocsf_err oe;
	struct ocsf_inventory r = {
		.h = {time_ms, NULL},
		.kernel_release = h->kernel, .machine_id = h->machine_id,
		.boot_uid = h->boot_id, .architecture = h->arch, .os_id = h->os_id,
		.packages = h->packages,
	};

	if (ocsf_pack_inventory(pk, &h->src, &r, &oe))
		return ship_ocsf_err(err, "inventory", &oe);
	return 0;
}

/* ---- baselines ----------------------------------------------------------- */

static int ocsf_severity(enum vg_severity s)
{
	switch (s) {
	case VG_SEV_LOW: return OCSF_SEV_LOW;
	case VG_SEV_MEDIUM: return OCSF_SEV_MEDIUM;
	case VG_SEV_HIGH: return OCSF_SEV_HIGH;
	case VG_SEV_CRITICAL: return OCSF_SEV_CRITICAL;
	}
	return OCSF_SEV_UNKNOWN;
}

static enum ocsf_check_status check_status(const struct vg_result *r)
{
	if (r->skipped)
		return OCSF_CHECK_SKIPPED;
	switch (r->status) {
	case VG_PASSED: return OCSF_CHECK_PASSED;
	case VG_FAILED: return OCSF_CHECK_FAILED;
	case VG_NA: return OCSF_CHECK_NA;
	case VG_ERROR: break;
	}
	return OCSF_CHECK_ERROR;
}

int ship_check(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
	       const struct vg_baseline *b, const struct vg_check *c, const struct vg_result *r,
	       struct vg_err *err)
{
	struct ocsf_cis *cis;
	struct ocsf_err oe;
	char *uid;
	int rc;

	if (!r->selected && !r->skipped)
		return vg_errf(err, "check %s: not run, nothing to ship", c->id);
	cis = xcalloc(c->ncis ? c->ncis : 1, sizeof(*cis));
	for (size_t i = 0; i < c->ncis; i++)
		cis[i] = (struct ocsf_cis){c->cis[i].id, c->cis[i].level};
	/* The same check on the same host is the same finding, run after run. */
	uid = xasprintf("%s:%s:%s", h->uid, b->id, c->id);
	struct ocsf_compliance rec = {
		.h = {time_ms, NULL},
		.finding_uid = uid,
		.check_id = c->id, .title = c->title, .desc = c->description,
		.section = c->section, .rationale = c->rationale, .remediation = c->remediation,
		.status = check_status(r),
		.check_severity = ocsf_severity(c->severity),
		.severity_name = severity_name(c->severity),
		.baseline_id = b->id, .baseline_name = b->name, .baseline_version = b->version,
		.cis = cis, .ncis = c->ncis,
		.nist = (const char *const *)c->nist.v, .nnist = c->nist.n,
		.evidence = (const char *const *)r->ev.item, .nevidence = r->ev.n,
		.evidence_omitted = r->ev.total - r->ev.n,
	};
	rc = ocsf_pack_compliance(pk, &h->src, &rec, &oe);
	if (rc)
		ship_ocsf_err(err, c->id, &oe);
	free(uid);
	free(cis);
	return rc;
}

int ship_summary(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
		 const struct vg_baseline *b, const struct vg_summary *sum, struct vg_err *err)
{
	struct ocsf_err oe;
	struct ocsf_config_state r = {
		.h = {time_ms, NULL},
		.baseline_id = b->id, .baseline_name = b->name, .baseline_version = b->version,
		.passed = sum->passed, .failed = sum->failed, .not_applicable = sum->na,
		.errors = sum->errors, .skipped = sum->skipped,
		.has_score = !isnan(sum->score), .score = sum->score,
	};

	if (ocsf_pack_config_state(pk, &h->src, &r, &oe))
		return ship_ocsf_err(err, b->id, &oe);
	return 0;
}

int ship_run(const struct ship_host *h, uint64_t time_ns, const struct vg_baseline *b,
	     const struct vg_result *res, const struct vg_summary *sum, ship_put_fn put,
	     void *u, struct vg_err *err)
{
	uint64_t ms = time_ns / 1000000u;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (size_t i = 0; i < b->nchecks && !rc; i++) {
		if (!res[i].selected && !res[i].skipped)
			continue;
		msgpack_sbuffer_clear(&sb);
		rc = ship_check(&pk, h, ms, b, &b->checks[i], &res[i], err) ||
		     put(u, time_ns, sb.data, sb.size, err) ? -1 : 0;
	}
	if (!rc) {
		msgpack_sbuffer_clear(&sb);
		rc = ship_summary(&pk, h, ms, b, sum, err) || put(u, time_ns, sb.data, sb.size, err)
			     ? -1 : 0;
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* ---- the sensor itself ------------------------------------------------------ */

static const char *const drop_names[DROP_MAX] = {
	[DROP_RINGBUF_FULL] = "ringbuf_full",
	[DROP_PATH_TRUNC] = "path_trunc",
	[DROP_MAP_FULL] = "map_full",
};

int ship_heartbeat(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
		   const struct ship_status *st, struct vg_err *err)
{
	struct ocsf_counter drops[DROP_MAX + 1], fim[7];
	struct ocsf_outbox ob;
	struct ocsf_err oe;
	struct ocsf_heartbeat r = {
		.h = {time_ms, NULL},
		.mode = mode_name(st->mode),
		.uptime_s = st->uptime_s,
		.interval_s = st->interval_s,
	};

	if (st->counters) {
		for (int i = 0; i < DROP_MAX; i++)
			drops[i] = (struct ocsf_counter){drop_names[i], st->counters->drops[i]};
		/* fanotify's queue overflowed, or it refused a mark */
		drops[DROP_MAX] = (struct ocsf_counter){"overflow", st->counters->overflows};
		r.events = st->counters->events;
		r.drops = drops;
		r.ndrops = DROP_MAX + 1;
	}
	if (st->outbox) {
		const struct ob_stats *s = st->outbox;
		ob = (struct ocsf_outbox){
			.records = s->records + s->open_records, .batches = s->batches,
			.bytes = s->bytes, .dropped_records = s->dropped_records,
			.dropped_batches = s->dropped_batches, .last_ack_ms = s->last_ack * 1000,
		};
		r.outbox = &ob;
	}
	if (st->drift) {
		const struct drift_counters *d = st->drift;
		fim[0] = (struct ocsf_counter){"events", d->events};
		fim[1] = (struct ocsf_counter){"rechecks", d->rechecks};
		fim[2] = (struct ocsf_counter){"rescans", d->rescans};
		fim[3] = (struct ocsf_counter){"overflows", d->overflows};
		fim[4] = (struct ocsf_counter){"findings", d->findings};
		fim[5] = (struct ocsf_counter){"package_updates", d->package_updates};
		fim[6] = (struct ocsf_counter){"tampering", d->tampering};
		r.fim = fim;
		r.nfim = 7;
	}
	if (ocsf_pack_heartbeat(pk, &h->src, &r, &oe))
		return ship_ocsf_err(err, "heartbeat", &oe);
	return 0;
}

int ship_gap(void *u, const struct ob_gap *g, msgpack_packer *pk)
{
	const struct ship_host *h = u;
	struct timespec ts;
	struct ocsf_err oe;
	struct ocsf_gap r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = (struct ocsf_gap){
		.h = {(uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u, NULL},
		.records = g->records, .batches = g->batches,
		.first_seq = g->first_seq, .last_seq = g->last_seq,
		.since_ms = g->since_ns / 1000000u, .until_ms = g->until_ns / 1000000u,
	};
	if (ocsf_pack_gap(pk, &h->src, &r, &oe)) {
		log_err("gap record: %s", oe.msg);
		return -1;
	}
	return 0;
}
