/*
 * ocsf_state.c: what the sensor says of the host and of itself: 5001
 * Device Inventory Info, 5002 Device Config State (a baseline run), and the
 * Base Events heartbeat and gap (OCSF has no class for either).
 */
#include <math.h>
#include <stdio.h>

#include "ocsf_int.h"

struct state_rec {
	const struct ocsf_src *src;
	const void *r;
};

/* ---- 5001 ------------------------------------------------------------------ */

static bool inv_vigil_any(const struct ocsf_inventory *r)
{
	return r->kernel_release || r->machine_id || r->boot_uid || r->architecture ||
	       r->os_id || r->packages >= 0;
}

static void inv_vigil_body(struct ow *w, const void *arg)
{
	const struct ocsf_inventory *r = arg;

	if (r->os_id)
		ow_kstr(w, "os_id", r->os_id);
	if (r->kernel_release)
		ow_kstr(w, "kernel_release", r->kernel_release);
	if (r->architecture)
		ow_kstr(w, "architecture", r->architecture);
	if (r->machine_id)
		ow_kstr(w, "machine_id", r->machine_id);
	if (r->boot_uid)
		ow_kstr(w, "boot_uid", r->boot_uid);
	if (r->packages >= 0)
		ow_kint(w, "packages", r->packages);
}

static void inv_rec_body(struct ow *w, const void *arg)
{
	const struct state_rec *sr = arg;
	const struct ocsf_inventory *r = sr->r;
	const struct ocsf_common c = {
		.src = sr->src, .h = &r->h, .class_uid = OCSF_INVENTORY_INFO, .category_uid = 5,
		.activity_id = 2, .severity_id = OCSF_SEV_INFO, .status_id = 1,	/* Collect */
	};

	ocsf_common(w, &c);
	if (inv_vigil_any(r))
		ow_unmapped(w, inv_vigil_body, r);
}

int ocsf_pack_inventory(msgpack_packer *pk, const struct ocsf_src *s,
			const struct ocsf_inventory *r, struct ocsf_err *err)
{
	struct state_rec sr = {s, r};

	if (ocsf_src_check(s, err))
		return -1;
	return ow_record(pk, inv_rec_body, &sr, err);
}

/* ---- 5002 ------------------------------------------------------------------ */

static void cfg_baseline_body(struct ow *w, const void *arg)
{
	const struct ocsf_config_state *r = arg;

	ow_kstr(w, "id", r->baseline_id);
	ow_kstr(w, "name", r->baseline_name);
	ow_kstr(w, "version", r->baseline_version);
}

static void cfg_summary_body(struct ow *w, const void *arg)
{
	const struct ocsf_config_state *r = arg;

	ow_kuint(w, "passed", r->passed);
	ow_kuint(w, "failed", r->failed);
	ow_kuint(w, "not_applicable", r->not_applicable);
	ow_kuint(w, "errors", r->errors);
	ow_kuint(w, "skipped", r->skipped);
	if (ow_key(w, "score")) {
		if (r->has_score && isfinite(r->score))
			ow_double(w, r->score);
		else
			ow_nil(w);
	}
}

static void cfg_vigil_body(struct ow *w, const void *arg)
{
	ow_kmap(w, "baseline", cfg_baseline_body, arg);
	ow_kmap(w, "summary", cfg_summary_body, arg);
}

static void cfg_rec_body(struct ow *w, const void *arg)
{
	const struct state_rec *sr = arg;
	const struct ocsf_config_state *r = sr->r;
	const struct ocsf_common c = {
		.src = sr->src, .h = &r->h, .class_uid = OCSF_CONFIG_STATE, .category_uid = 5,
		.activity_id = 2, .severity_id = OCSF_SEV_INFO, .status_id = 1,
	};

	ocsf_common(w, &c);
	ow_unmapped(w, cfg_vigil_body, r);
}

int ocsf_pack_config_state(msgpack_packer *pk, const struct ocsf_src *s,
			   const struct ocsf_config_state *r, struct ocsf_err *err)
{
	struct state_rec sr = {s, r};

	if (ocsf_src_check(s, err))
		return -1;
	if (!r->baseline_id || !*r->baseline_id || !r->baseline_name || !r->baseline_version)
		return ocsf_errf(err, "baseline id, name and version: required");
	return ow_record(pk, cfg_rec_body, &sr, err);
}

/* ---- heartbeat ------------------------------------------------------------- */

struct counters {
	const struct ocsf_counter *v;
	size_t n;
};

static void counters_body(struct ow *w, const void *arg)
{
	const struct counters *c = arg;

	for (size_t i = 0; i < c->n && i < OCSF_LIST_MAX; i++)
		if (ow_data_key(w, c->v[i].name ? c->v[i].name : "?"))
			ow_uint(w, c->v[i].n);
}

static void outbox_body(struct ow *w, const void *arg)
{
	const struct ocsf_outbox *o = arg;

	ow_kuint(w, "records", o->records);
	ow_kuint(w, "batches", o->batches);
	ow_kuint(w, "bytes", o->bytes);
	ow_kuint(w, "dropped_records", o->dropped_records);
	ow_kuint(w, "dropped_batches", o->dropped_batches);
	if (ow_key(w, "last_ack")) {
		if (o->last_ack_ms > 0)
			ow_int(w, o->last_ack_ms);
		else
			ow_nil(w);
	}
}

static void hb_vigil_body(struct ow *w, const void *arg)
{
	const struct ocsf_heartbeat *r = arg;
	struct counters drops = {r->drops, r->ndrops}, fim = {r->fim, r->nfim};

	ow_kstr(w, "kind", "heartbeat");
	ow_kstr(w, "mode", r->mode);
	ow_kuint(w, "uptime_s", r->uptime_s);
	ow_kuint(w, "interval_s", r->interval_s);
	ow_kuint(w, "events", r->events);
	ow_kmap(w, "drops", counters_body, &drops);
	if (r->outbox)
		ow_kmap(w, "outbox", outbox_body, r->outbox);
	if (r->fim && r->nfim)
		ow_kmap(w, "fim", counters_body, &fim);
}

static void hb_rec_body(struct ow *w, const void *arg)
{
	const struct state_rec *sr = arg;
	const struct ocsf_heartbeat *r = sr->r;
	const struct ocsf_common c = {
		.src = sr->src, .h = &r->h, .class_uid = OCSF_BASE_EVENT, .category_uid = 0,
		.activity_id = 99, .severity_id = OCSF_SEV_INFO, .status_id = 1,
	};

	ocsf_common(w, &c);
	ow_unmapped(w, hb_vigil_body, r);
}

int ocsf_pack_heartbeat(msgpack_packer *pk, const struct ocsf_src *s,
			const struct ocsf_heartbeat *r, struct ocsf_err *err)
{
	struct state_rec sr = {s, r};

	if (ocsf_src_check(s, err))
		return -1;
	if (!r->mode || !*r->mode)
		return ocsf_errf(err, "heartbeat: mode required");
	if (r->ndrops && !r->drops)
		return ocsf_errf(err, "heartbeat: %zu drop counters but no array", r->ndrops);
	return ow_record(pk, hb_rec_body, &sr, err);
}

/* ---- gap ------------------------------------------------------------------- */

static void gap_vigil_body(struct ow *w, const void *arg)
{
	const struct ocsf_gap *r = arg;

	ow_kstr(w, "kind", "gap");
	ow_kuint(w, "records", r->records);
	ow_kuint(w, "batches", r->batches);
	ow_kuint(w, "first_seq", r->first_seq);
	ow_kuint(w, "last_seq", r->last_seq);
	ow_kuint(w, "since", r->since_ms);
	ow_kuint(w, "until", r->until_ms);
}

static void gap_rec_body(struct ow *w, const void *arg)
{
	const struct state_rec *sr = arg;
	const struct ocsf_gap *r = sr->r;
	/* Telemetry was lost: someone must look, so not Informational. */
	const struct ocsf_common c = {
		.src = sr->src, .h = &r->h, .class_uid = OCSF_BASE_EVENT, .category_uid = 0,
		.activity_id = 99, .severity_id = OCSF_SEV_MEDIUM, .status_id = 2,
	};
	char msg[160];

	snprintf(msg, sizeof(msg), "outbox full: %llu records in %llu batches dropped",
		 (unsigned long long)r->records, (unsigned long long)r->batches);
	ocsf_common(w, &c);
	ow_kstr(w, "message", msg);
	ow_kuint(w, "start_time", r->since_ms);
	ow_kuint(w, "end_time", r->until_ms);
	ow_unmapped(w, gap_vigil_body, r);
}

int ocsf_pack_gap(msgpack_packer *pk, const struct ocsf_src *s, const struct ocsf_gap *r,
		  struct ocsf_err *err)
{
	struct state_rec sr = {s, r};

	if (ocsf_src_check(s, err))
		return -1;
	return ow_record(pk, gap_rec_body, &sr, err);
}
