/*
 * ship_fim.c: file integrity findings as records: the facts of
 * fim_finding_json (fim_report.c) and of realtime drift's verdict, and a
 * Detection Finding for tampering.
 *
 * Where the JSON has one "file" (the state now, or the last one known),
 * the record follows OCSF: file is the state before the change and
 * file_result the state after, for a changed entry; an added entry has
 * only its new state, a removed one only its old. unmapped.fim.changes
 * has every attribute that differs (or, when added or removed, every
 * attribute tracked) as old/new text, as the JSON does.
 */
#include <stdlib.h>
#include <string.h>

#include "ship_int.h"

/* A 1001 and everything it points into. */
struct fim_rec {
	struct ocsf_file_activity r;
	struct ocsf_file before, after;
	struct ocsf_fim fim;
	struct ocsf_fim_change ch[FIM_NATTRS];
	struct ocsf_fim_package pkg;
	struct ocsf_actor *others;
	char *text[2 * FIM_NATTRS + 2];	/* formatted values, owned */
	size_t ntext;
};

static const char *text(struct fim_rec *fr, const struct fim_record *r, unsigned attr)
{
	struct vg_buf b = {0};

	fim_attr_format(&b, r, attr);
	if (!b.p)
		b.p = xstrdup("");
	fr->text[fr->ntext++] = b.p;
	return b.p;
}

static void file_from(struct fim_rec *fr, struct ocsf_file *o, const char *path,
		      const struct fim_record *r)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	if (!r)			/* known by name only: it could not be read */
		return;
	o->type_id = ocsf_file_type(r->type);
	o->has_stat = true;
	o->size = r->size;
	o->mtime_ms = r->mtime_ns / 1000000;
	o->inode = r->ino;
	o->owner_uid = r->uid;
	if (r->flags & FIM_F_HASHED)
		o->sha256 = r->sha256;
	o->selinux = r->selinux;
	if (r->cap)
		o->capability = text(fr, r, FIM_A_CAPS);
}

/* As json_changes: what differs, or all that is tracked when there is
 * nothing to compare with; no new value when it could not be read. */
static void changes(struct fim_rec *fr, const struct fim_finding *f)
{
	unsigned mask = f->kind == FIM_CHANGED ? f->changed :
			f->cur ? f->cur->attrs : f->old ? f->old->attrs : 0;
	bool no_new = f->kind == FIM_UNSTABLE || f->kind == FIM_UNREADABLE;
	size_t n = 0;

	for (int i = 0; i < FIM_NATTRS; i++) {
		unsigned a = 1u << i;
		if (!(mask & a))
			continue;
		fr->ch[n].attribute = fim_attr_name(a);
		fr->ch[n].old = f->old ? text(fr, f->old, a) : NULL;
		fr->ch[n].new_ = f->cur && !no_new ? text(fr, f->cur, a) : NULL;
		n++;
	}
	fr->fim.changes = fr->ch;
	fr->fim.nchanges = n;
}

static void verdict(struct fim_rec *fr, const struct ship_verdict *v)
{
	size_t n = v->nactors;

	fr->fim.verdict = v->verdict ? v->verdict : "change";
	fr->fim.reason = v->reason;
	fr->fim.found_by = v->found_by;
	if (v->owner && v->owner->package) {
		fr->pkg = (struct ocsf_fim_package){
			.name = v->owner->package,
			.manager = v->owner->manager,
			.digest_algorithm = pkg_alg_name(v->owner->alg),
			.conffile = v->owner->conffile,
			.verified = v->verified,
		};
		fr->fim.package = &fr->pkg;
	}
	if (!n)
		return;
	fr->r.actor = &v->actors[n - 1]->a;	/* the latest */
	if (n > 1) {
		fr->others = xcalloc(n - 1, sizeof(*fr->others));
		for (size_t i = 0; i + 1 < n; i++)
			fr->others[i] = v->actors[i]->a;
		fr->fim.others = fr->others;
		fr->fim.nothers = n - 1;
	}
}

static void fim_rec_fill(struct fim_rec *fr, uint64_t time_ms, const char *uid,
			 const struct fim_finding *f, const struct ship_verdict *v)
{
	bool problem = f->kind == FIM_UNSTABLE || f->kind == FIM_UNREADABLE;
	const char *aname;

	memset(fr, 0, sizeof(*fr));
	fr->r.h = (struct ocsf_head){time_ms, uid};
	fr->r.activity_id = fim_finding_activity(f, &aname);
	fr->r.severity_id = v && v->severity_id ? v->severity_id :
			    problem ? OCSF_SEV_LOW : OCSF_SEV_MEDIUM;
	fr->r.status_id = problem ? 2 : 1;
	if (f->kind == FIM_UNREADABLE)
		fr->r.status_detail = f->err ? strerror(f->err) : "unknown";
	fr->r.mode = -1;
	fr->r.owner_uid = fr->r.owner_gid = OCSF_NOID;
	if (f->kind == FIM_CHANGED && f->old && f->cur) {
		file_from(fr, &fr->before, f->path, f->old);
		file_from(fr, &fr->after, f->path, f->cur);
		fr->r.file_result = &fr->after;
	} else {
		file_from(fr, &fr->before, f->path, f->cur ? f->cur : f->old);
	}
	fr->r.file = fr->before;
	fr->fim.change = fim_change_name(f->kind);
	fr->fim.set = f->set;
	changes(fr, f);
	if (v)
		verdict(fr, v);
	fr->r.fim = &fr->fim;
}

static void fim_rec_free(struct fim_rec *fr)
{
	for (size_t i = 0; i < fr->ntext; i++)
		free(fr->text[i]);
	free(fr->others);
}

int ship_fim(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms, const char *uid,
	     const struct fim_finding *f, const struct ship_verdict *v, struct vg_err *err)
{
	struct fim_rec fr;
	struct ocsf_err oe;
	int rc;

	if (!f->path)
		return vg_errf(err, "file integrity finding without a path");
	fim_rec_fill(&fr, time_ms, uid, f, v);
	rc = ocsf_pack_file_activity(pk, &h->src, &fr.r, &oe);
	if (rc)
		ship_ocsf_err(err, f->path, &oe);
	fim_rec_free(&fr);
	return rc;
}

int ship_tampering(msgpack_packer *pk, const struct ship_host *h, uint64_t time_ms,
		   const char *uid, const char *fim_uid, const struct fim_finding *f,
		   const struct ship_verdict *v, struct vg_err *err)
{
	struct fim_rec fr;
	struct ocsf_err oe;
	char *title;
	int rc;

	if (!f->path || !v || !uid)
		return vg_errf(err, "tampering: a finding, its verdict and a record id are "
			       "required");
	fim_rec_fill(&fr, time_ms, fim_uid, f, v);
	title = xasprintf("Tampering: %s", f->path);
	struct ocsf_detection d = {
		.h = {time_ms, uid},
		.finding_uid = uid,
		.title = title,
		.desc = v->reason,
		.severity_id = v->severity_id ? v->severity_id : OCSF_SEV_HIGH,
		.source = &fr.r,
	};
	rc = ocsf_pack_detection(pk, &h->src, &d, &oe);
	if (rc)
		ship_ocsf_err(err, f->path, &oe);
	free(title);
	fim_rec_free(&fr);
	return rc;
}
