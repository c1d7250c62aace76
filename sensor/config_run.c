/*
 * config_run.c: the sections only `vigil run` reads: run:, outbox:,
 * collector: (vigil.yaml(5)). Each bound is where a bigger or smaller value
 * stops making sense for a server, not a taste: a check interval under a
 * minute would keep a core busy with the baseline.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

static const char *const mode_names[] = {"auto", "bpf", "hybrid", "fanotify", "rescan", NULL};

struct run_raw {
	int mode;
	long long check_interval, heartbeat_interval, coalesce_ms;
	int process_events, fim;
	char *state_dir;
};
static const struct yp_field run_fields[] = {
	{"mode", YP_ENUM, offsetof(struct run_raw, mode), false, mode_names},
	{"check_interval", YP_INT, offsetof(struct run_raw, check_interval), false, NULL},
	{"heartbeat_interval", YP_INT, offsetof(struct run_raw, heartbeat_interval), false, NULL},
	{"process_events", YP_BOOL, offsetof(struct run_raw, process_events), false, NULL},
	{"fim", YP_BOOL, offsetof(struct run_raw, fim), false, NULL},
	{"coalesce_ms", YP_INT, offsetof(struct run_raw, coalesce_ms), false, NULL},
	{"state_dir", YP_STR, offsetof(struct run_raw, state_dir), false, NULL},
	{0},
};

struct outbox_raw {
	long long max_bytes, batch_records, batch_bytes, batch_ms, rate;
};
static const struct yp_field outbox_fields[] = {
	{"max_bytes", YP_INT, offsetof(struct outbox_raw, max_bytes), false, NULL},
	{"batch_records", YP_INT, offsetof(struct outbox_raw, batch_records), false, NULL},
	{"batch_bytes", YP_INT, offsetof(struct outbox_raw, batch_bytes), false, NULL},
	{"batch_ms", YP_INT, offsetof(struct outbox_raw, batch_ms), false, NULL},
	{"rate", YP_INT, offsetof(struct outbox_raw, rate), false, NULL},
	{0},
};

struct collector_raw {
	char *address;
};
static const struct yp_field collector_fields[] = {
	{"address", YP_STR, offsetof(struct collector_raw, address), false, NULL},
	{0},
};

void run_config_defaults(struct vg_run_config *r)
{
	memset(r, 0, sizeof(*r));
	r->mode = -1;
	r->check_interval = 3600;
	r->heartbeat_interval = 60;
	r->process_events = true;
	r->fim = true;
	r->coalesce_ms = VG_COALESCE_MS;
	r->outbox_max_bytes = 256ull << 20;
	r->batch_records = 1000;
	r->batch_bytes = 512u << 10;
	r->batch_ms = 1000;
	r->rate = 50;
}

void run_config_free(struct vg_run_config *r)
{
	free(r->state_dir);
	free(r->collector);
	memset(r, 0, sizeof(*r));
}

/* key is "section.name": the mistake is reported on name's line. */
static int range(struct vg_yctx *y, yaml_node_t *v, const char *key, long long val,
		 long long lo, long long hi, struct vg_err *err)
{
	if (val >= lo && val <= hi)
		return 0;
	return vg_errf(err, "%s:%d: %s must be %lld..%lld", y->file,
		       ykey_line(y, v, strchr(key, '.') + 1), key, lo, hi);
}

static int run_section(struct vg_yctx *y, yaml_node_t *v, struct vg_run_config *r,
		       struct vg_err *err)
{
	struct run_raw raw = {.mode = -1, .check_interval = r->check_interval,
			      .heartbeat_interval = r->heartbeat_interval,
			      .coalesce_ms = r->coalesce_ms, .process_events = -1, .fim = -1};
	int rc = yp_parse(y, v, run_fields, &raw, "run", err);

	if (!rc)
		rc = range(y, v, "run.check_interval", raw.check_interval, 60, 7 * 86400, err) ||
		     range(y, v, "run.heartbeat_interval", raw.heartbeat_interval, 5, 3600, err) ||
		     range(y, v, "run.coalesce_ms", raw.coalesce_ms, 0, 60000, err);
	if (!rc && raw.state_dir && raw.state_dir[0] != '/')
		rc = vg_errf(err, "%s:%d: run.state_dir must be an absolute path", y->file,
			     ykey_line(y, v, "state_dir"));
	if (rc) {
		yp_free(run_fields, &raw);
		return -1;
	}
	/* mode index 0 is "auto", which is -1 inside. */
	if (raw.mode >= 0)
		r->mode = raw.mode - 1;
	r->check_interval = (int)raw.check_interval;
	r->heartbeat_interval = (int)raw.heartbeat_interval;
	r->coalesce_ms = (unsigned)raw.coalesce_ms;
	if (raw.process_events >= 0)
		r->process_events = raw.process_events;
	if (raw.fim >= 0)
		r->fim = raw.fim;
	if (raw.state_dir) {
		free(r->state_dir);
		r->state_dir = raw.state_dir;
	}
	return 0;
}

static int outbox_section(struct vg_yctx *y, yaml_node_t *v, struct vg_run_config *r,
			  struct vg_err *err)
{
	struct outbox_raw raw = {(long long)r->outbox_max_bytes, r->batch_records,
				 r->batch_bytes, r->batch_ms, r->rate};

	if (yp_parse(y, v, outbox_fields, &raw, "outbox", err) ||
	    range(y, v, "outbox.max_bytes", raw.max_bytes, 1ll << 20, 1ll << 40, err) ||
	    range(y, v, "outbox.batch_records", raw.batch_records, 1, 100000, err) ||
	    range(y, v, "outbox.batch_bytes", raw.batch_bytes, 4096, 8ll << 20, err) ||
	    range(y, v, "outbox.batch_ms", raw.batch_ms, 10, 60000, err) ||
	    range(y, v, "outbox.rate", raw.rate, 1, 10000, err))
		return -1;
	if ((unsigned long long)raw.batch_bytes * 4 > (unsigned long long)raw.max_bytes)
		return vg_errf(err, "%s:%d: outbox.max_bytes must hold at least four batches "
			       "(4 × batch_bytes)", y->file, ykey_line(y, v, "max_bytes"));
	r->outbox_max_bytes = (uint64_t)raw.max_bytes;
	r->batch_records = (unsigned)raw.batch_records;
	r->batch_bytes = (unsigned)raw.batch_bytes;
	r->batch_ms = (unsigned)raw.batch_ms;
	r->rate = (unsigned)raw.rate;
	return 0;
}

static int collector_section(struct vg_yctx *y, yaml_node_t *v, struct vg_run_config *r,
			     struct vg_err *err)
{
	struct collector_raw raw = {0};

	if (yp_parse(y, v, collector_fields, &raw, "collector", err))
		return -1;
	if (raw.address && (!raw.address[0] || strlen(raw.address) > 255 ||
			    !strchr(raw.address, ':'))) {
		free(raw.address);
		return vg_errf(err, "%s:%d: collector.address must be host:port", y->file,
			       ykey_line(y, v, "address"));
	}
	if (raw.address) {
		free(r->collector);
		r->collector = raw.address;
	}
	return 0;
}

int run_config_section(struct vg_yctx *y, const char *key, yaml_node_t *v,
		       struct vg_run_config *r, struct vg_err *err)
{
	if (!strcmp(key, "run"))
		return run_section(y, v, r, err);
	if (!strcmp(key, "outbox"))
		return outbox_section(y, v, r, err);
	if (!strcmp(key, "collector"))
		return collector_section(y, v, r, err);
	return 1;
}
