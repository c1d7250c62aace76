/*
 * ocsf_finding.c: Findings: 2003 Compliance Finding (one baseline check's
 * result) and 2004 Detection Finding (what a record revealed).
 */
#include <stdlib.h>
#include <string.h>

#include "ocsf_int.h"

static const struct ocsf_actor no_actor = {.uid = OCSF_NOID};

const char *ocsf_check_status_name(enum ocsf_check_status st)
{
	switch (st) {
	case OCSF_CHECK_PASSED: return "passed";
	case OCSF_CHECK_FAILED: return "failed";
	case OCSF_CHECK_NA: return "not_applicable";
	case OCSF_CHECK_ERROR: return "error";
	case OCSF_CHECK_SKIPPED: return "skipped";
	}
	return "?";
}

/* compliance.status_id and status: Pass 1, Fail 3, Warning 2 ("did not
 * yield a result"), and Other 99 for what OCSF has no word for. */
static int check_status_id(enum ocsf_check_status st, const char **caption)
{
	switch (st) {
	case OCSF_CHECK_PASSED: *caption = "Pass"; return 1;
	case OCSF_CHECK_FAILED: *caption = "Fail"; return 3;
	case OCSF_CHECK_ERROR: *caption = "Warning"; return 2;
	case OCSF_CHECK_NA: *caption = "Not Applicable"; return 99;
	case OCSF_CHECK_SKIPPED: *caption = "Skipped"; return 99;
	}
	*caption = "Unknown";
	return 0;
}

/* prefix and s as one str */
static void ow_str2(struct ow *w, const char *prefix, const char *s)
{
	size_t a = strlen(prefix), b = s ? strlen(s) : 0;
	char *buf = malloc(a + b + 1);

	if (!buf) {
		w->rc = -1;
		return;
	}
	memcpy(buf, prefix, a);
	if (b)
		memcpy(buf + a, s, b);
	ow_strn(w, buf, a + b);
	free(buf);
}

/* ---- 2003 ------------------------------------------------------------------ */

#define NIST_STANDARD "NIST SP 800-53"

struct cmp_rec {
	const struct ocsf_src *src;
	const struct ocsf_compliance *r;
};

static size_t capped(size_t n)
{
	return n < OCSF_LIST_MAX ? n : OCSF_LIST_MAX;
}

static void finding_info_body(struct ow *w, const void *arg)
{
	const struct ocsf_compliance *r = arg;

	ow_kstr(w, "uid", r->finding_uid);
	ow_kstr(w, "title", r->title);
	if (r->desc)
		ow_kstr(w, "desc", r->desc);
}

static void compliance_body(struct ow *w, const void *arg)
{
	const struct ocsf_compliance *r = arg;
	size_t ncis = capped(r->ncis), nnist = capped(r->nist ? r->nnist : 0);
	size_t nreq = capped(ncis + nnist);
	const char *caption;
	int sid = check_status_id(r->status, &caption);

	ow_kstr(w, "control", r->check_id);
	if (ow_key(w, "standards")) {
		ow_array(w, 1 + (nnist > 0));
		ow_str(w, r->baseline_name);
		if (nnist)
			ow_str(w, NIST_STANDARD);
	}
	if (nreq && ow_key(w, "requirements")) {
		ow_array(w, nreq);
		for (size_t i = 0; i < nreq; i++) {
			if (i < ncis)
				ow_str2(w, "CIS ", r->cis[i].id);
			else
				ow_str2(w, NIST_STANDARD " ", r->nist[i - ncis]);
		}
	}
	ow_kuint(w, "status_id", (uint64_t)sid);
	ow_kstr(w, "status", caption);
}

static void remediation_body(struct ow *w, const void *arg)
{
	ow_kstr(w, "desc", arg);
}

static void baseline_body(struct ow *w, const void *arg)
{
	const struct ocsf_compliance *r = arg;

	ow_kstr(w, "id", r->baseline_id);
	ow_kstr(w, "name", r->baseline_name);
	ow_kstr(w, "version", r->baseline_version);
}

static void cis_body(struct ow *w, const void *arg)
{
	const struct ocsf_cis *c = arg;

	ow_kstr(w, "id", c->id);
	ow_kint(w, "level", c->level);
}

static void cmp_vigil_body(struct ow *w, const void *arg)
{
	const struct ocsf_compliance *r = arg;
	size_t ncis = capped(r->ncis);

	ow_kmap(w, "baseline", baseline_body, r);
	if (r->section)
		ow_kstr(w, "section", r->section);
	ow_kstr(w, "status", ocsf_check_status_name(r->status));
	if (r->severity_name)
		ow_kstr(w, "severity", r->severity_name);
	if (r->rationale)
		ow_kstr(w, "rationale", r->rationale);
	if (ncis && ow_key(w, "cis")) {
		ow_array(w, ncis);
		for (size_t i = 0; i < ncis; i++)
			ow_map(w, cis_body, &r->cis[i]);
	}
	if (r->nist && r->nnist)
		ow_kstrs(w, "nist_800_53", r->nist, r->nnist);
	if (r->evidence && r->nevidence)
		ow_kstrs(w, "evidence", r->evidence, r->nevidence);
	if (r->evidence_omitted)
		ow_kuint(w, "evidence_omitted", r->evidence_omitted);
}

static void cmp_rec_body(struct ow *w, const void *arg)
{
	const struct cmp_rec *cr = arg;
	const struct ocsf_compliance *r = cr->r;
	/* A passed check of high severity is not a high-severity event. */
	const struct ocsf_common c = {
		.src = cr->src, .h = &r->h, .class_uid = OCSF_COMPLIANCE_FINDING,
		.category_uid = 2, .activity_id = 1,
		.severity_id = r->status == OCSF_CHECK_FAILED && r->check_severity ?
				       r->check_severity : OCSF_SEV_INFO,
	};

	ocsf_common(w, &c);
	ow_kmap(w, "finding_info", finding_info_body, r);
	ow_kmap(w, "compliance", compliance_body, r);
	if (r->remediation)
		ow_kmap(w, "remediation", remediation_body, r->remediation);
	ow_unmapped(w, cmp_vigil_body, r);
}

static int required(const char *v, const char *what, struct ocsf_err *err)
{
	if (!v || !*v)
		return ocsf_errf(err, "%s: required", what);
	return 0;
}

int ocsf_pack_compliance(msgpack_packer *pk, const struct ocsf_src *s,
			 const struct ocsf_compliance *r, struct ocsf_err *err)
{
	struct cmp_rec cr = {s, r};

	if (ocsf_src_check(s, err) || required(r->finding_uid, "finding_info.uid", err) ||
	    required(r->check_id, "compliance.control (check id)", err) ||
	    required(r->title, "finding_info.title", err) ||
	    required(r->baseline_id, "baseline id", err) ||
	    required(r->baseline_name, "baseline name", err) ||
	    required(r->baseline_version, "baseline version", err))
		return -1;
	if ((unsigned)r->status > OCSF_CHECK_SKIPPED)
		return ocsf_errf(err, "status: %d is not a check status", (int)r->status);
	if (r->check_severity < 0 || r->check_severity > OCSF_SEV_FATAL)
		return ocsf_errf(err, "check severity: %d is not an OCSF severity_id",
				 r->check_severity);
	if (r->ncis && !r->cis)
		return ocsf_errf(err, "cis: %zu items but no array", r->ncis);
	for (size_t i = 0; i < capped(r->ncis); i++)
		if (!r->cis[i].id)
			return ocsf_errf(err, "cis[%zu].id: required", i);
	return ow_record(pk, cmp_rec_body, &cr, err);
}

/* ---- 2004 ------------------------------------------------------------------ */

struct det_rec {
	const struct ocsf_src *src;
	const struct ocsf_detection *r;
};

static void related_body(struct ow *w, const void *arg)
{
	const struct ocsf_file_activity *src = arg;

	ow_kstr(w, "uid", src->h.uid);
	ow_kuint(w, "type_uid", ocsf_type_uid(OCSF_FILE_ACTIVITY, src->activity_id));
}

static void det_info_body(struct ow *w, const void *arg)
{
	const struct ocsf_detection *r = arg;

	ow_kstr(w, "uid", r->finding_uid);
	ow_kstr(w, "title", r->title);
	if (r->desc)
		ow_kstr(w, "desc", r->desc);
	if (r->source && r->source->h.uid && ow_key(w, "related_events")) {
		ow_array(w, 1);
		ow_map(w, related_body, r->source);
	}
}

/* The file as it was found (after the change), and who changed it. */
static void evidence_body(struct ow *w, const void *arg)
{
	const struct ocsf_file_activity *src = arg;

	ow_kmap(w, "actor", ocsf_actor_body, src->actor ? src->actor : &no_actor);
	ow_kmap(w, "file", ocsf_file_body, src->file_result ? src->file_result : &src->file);
}

static void det_rec_body(struct ow *w, const void *arg)
{
	const struct det_rec *dr = arg;
	const struct ocsf_detection *r = dr->r;
	const struct ocsf_common c = {
		.src = dr->src, .h = &r->h, .class_uid = OCSF_DETECTION_FINDING,
		.category_uid = 2, .activity_id = 1, .severity_id = r->severity_id,
	};

	ocsf_common(w, &c);
	ow_kmap(w, "finding_info", det_info_body, r);
	if (r->source && ow_key(w, "evidences")) {
		ow_array(w, 1);
		ow_map(w, evidence_body, r->source);
	}
}

int ocsf_pack_detection(msgpack_packer *pk, const struct ocsf_src *s,
			const struct ocsf_detection *r, struct ocsf_err *err)
{
	struct det_rec dr = {s, r};

	if (ocsf_src_check(s, err) || required(r->finding_uid, "finding_info.uid", err) ||
	    required(r->title, "finding_info.title", err))
		return -1;
	if (r->severity_id < OCSF_SEV_INFO || r->severity_id > OCSF_SEV_FATAL)
		return ocsf_errf(err, "severity_id: %d, want 1..6", r->severity_id);
	if (r->source) {
		const struct ocsf_file_activity *src = r->source;
		if (ocsf_file_check(src->file_result ? src->file_result : &src->file,
				    "evidences[0].file", err))
			return -1;
	}
	return ow_record(pk, det_rec_body, &dr, err);
}
