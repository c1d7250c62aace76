/*
 * ocsf_activity.c: System Activity records: 1001 File System Activity (a
 * file event, or a file integrity finding) and 1007 Process Activity.
 */
#include <stdio.h>

#include "ocsf_int.h"

static const struct ocsf_actor no_actor = {.uid = OCSF_NOID};

static int id_check(int v, const char *what, struct ocsf_err *err)
{
	if (v < 0 || v > 99)
		return ocsf_errf(err, "%s: %d is not an OCSF id (0..99)", what, v);
	return 0;
}

/* ---- 1001 ------------------------------------------------------------------ */

static void cgroup_body(struct ow *w, const void *arg)
{
	const struct ocsf_actor *a = arg;

	ow_kuint(w, "id", a->cgroup_id);
	if (a->cgroup_path)
		ow_kstr(w, "path", a->cgroup_path);
}

/* An earlier writer in unmapped.fim.other_actors: the actor and its cgroup. */
static void other_body(struct ow *w, const void *arg)
{
	const struct ocsf_actor *a = arg;

	ocsf_actor_body(w, a);
	if (a->has_cgroup)
		ow_kmap(w, "cgroup", cgroup_body, a);
}

static void change_body(struct ow *w, const void *arg)
{
	const struct ocsf_fim_change *c = arg;

	ow_kstr(w, "attribute", c->attribute);
	ow_kstr_nil(w, "old", c->old);
	ow_kstr_nil(w, "new", c->new_);
}

static void package_body(struct ow *w, const void *arg)
{
	const struct ocsf_fim_package *p = arg;

	ow_kstr(w, "name", p->name);
	ow_kstr_nil(w, "manager", p->manager);
	ow_kbool(w, "conffile", p->conffile);
	ow_kstr_nil(w, "digest_algorithm", p->digest_algorithm);
	if (ow_key(w, "verified")) {
		if (p->verified < 0)
			ow_nil(w);
		else
			ow_bool(w, p->verified);
	}
}

static void fim_body(struct ow *w, const void *arg)
{
	const struct ocsf_fim *f = arg;
	size_t n;

	ow_kstr(w, "change", f->change);
	ow_kstr_nil(w, "set", f->set);
	if (ow_key(w, "changes")) {
		n = f->nchanges < OCSF_LIST_MAX ? f->nchanges : OCSF_LIST_MAX;
		ow_array(w, n);
		for (size_t i = 0; i < n; i++)
			ow_map(w, change_body, &f->changes[i]);
	}
	if (!f->verdict)
		return;
	ow_kbool(w, "realtime", true);
	ow_kstr_nil(w, "found_by", f->found_by);
	ow_kstr(w, "verdict", f->verdict);
	ow_kstr_nil(w, "reason", f->reason);
	if (ow_key(w, "package")) {
		if (f->package)
			ow_map(w, package_body, f->package);
		else
			ow_nil(w);
	}
	if (ow_key(w, "other_actors")) {
		n = f->nothers < OCSF_LIST_MAX ? f->nothers : OCSF_LIST_MAX;
		ow_array(w, n);
		for (size_t i = 0; i < n; i++)
			ow_map(w, other_body, &f->others[i]);
	}
}

static bool file_vigil_any(const struct ocsf_file_activity *r)
{
	return r->event || r->symlink_target || r->xattr_name || r->mode >= 0 ||
	       r->owner_uid != OCSF_NOID || r->owner_gid != OCSF_NOID || r->path_incomplete ||
	       r->found_by || (r->actor && r->actor->has_cgroup);
}

static void file_vigil_body(struct ow *w, const void *arg)
{
	const struct ocsf_file_activity *r = arg;
	char mode[16];

	if (r->event)
		ow_kstr(w, "event", r->event);
	if (r->symlink_target)
		ow_kstr(w, "symlink_target", r->symlink_target);
	if (r->xattr_name)
		ow_kstr(w, "xattr_name", r->xattr_name);
	if (r->mode >= 0) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(r->mode & 07777));
		ow_kstr(w, "mode", mode);
	}
	if (r->owner_uid != OCSF_NOID)
		ow_kint(w, "owner_uid", r->owner_uid);
	if (r->owner_gid != OCSF_NOID)
		ow_kint(w, "owner_gid", r->owner_gid);
	if (r->path_incomplete)
		ow_kbool(w, "path_incomplete", true);
	if (r->found_by)
		ow_kstr(w, "found_by", r->found_by);
	if (r->actor && r->actor->has_cgroup)
		ow_kmap(w, "cgroup", cgroup_body, r->actor);
}

static void file_unmapped_body(struct ow *w, const void *arg)
{
	const struct ocsf_file_activity *r = arg;

	if (file_vigil_any(r))
		ow_kmap(w, "vigil", file_vigil_body, r);
	if (r->fim)
		ow_kmap(w, "fim", fim_body, r->fim);
}

struct file_rec {
	const struct ocsf_src *src;
	const struct ocsf_file_activity *r;
};

static void file_rec_body(struct ow *w, const void *arg)
{
	const struct file_rec *fr = arg;
	const struct ocsf_file_activity *r = fr->r;
	const struct ocsf_common c = {
		.src = fr->src, .h = &r->h, .class_uid = OCSF_FILE_ACTIVITY, .category_uid = 1,
		.activity_id = r->activity_id,
		.severity_id = r->severity_id ? r->severity_id : OCSF_SEV_INFO,
		.status_id = r->status_id,
	};

	ocsf_common(w, &c);
	if (r->status_detail)
		ow_kstr(w, "status_detail", r->status_detail);
	ow_kmap(w, "file", ocsf_file_body, &r->file);
	if (r->file_result)
		ow_kmap(w, "file_result", ocsf_file_body, r->file_result);
	ow_kmap(w, "actor", ocsf_actor_body, r->actor ? r->actor : &no_actor);
	if (file_vigil_any(r) || r->fim)
		ow_kmap(w, "unmapped", file_unmapped_body, r);
}

int ocsf_pack_file_activity(msgpack_packer *pk, const struct ocsf_src *s,
			    const struct ocsf_file_activity *r, struct ocsf_err *err)
{
	struct file_rec fr = {s, r};

	if (ocsf_src_check(s, err) || id_check(r->activity_id, "activity_id", err) ||
	    id_check(r->severity_id, "severity_id", err) ||
	    id_check(r->status_id, "status_id", err) || ocsf_file_check(&r->file, "file", err) ||
	    (r->file_result && ocsf_file_check(r->file_result, "file_result", err)))
		return -1;
	if (r->fim && !r->fim->change)
		return ocsf_errf(err, "unmapped.fim.change: required");
	return ow_record(pk, file_rec_body, &fr, err);
}

/* ---- 1007 ------------------------------------------------------------------ */

static bool proc_vigil_any(const struct ocsf_process_activity *r)
{
	return r->event || r->cwd || r->auid != OCSF_NOID || r->cgroup_id || r->mntns ||
	       r->signal || r->cmd_line_truncated;
}

static void proc_vigil_body(struct ow *w, const void *arg)
{
	const struct ocsf_process_activity *r = arg;

	if (r->event)
		ow_kstr(w, "event", r->event);
	if (r->cwd)
		ow_kstr(w, "cwd", r->cwd);
	if (r->auid != OCSF_NOID)
		ow_kint(w, "auid", r->auid);
	if (r->cgroup_id)
		ow_kuint(w, "cgroup_id", r->cgroup_id);
	if (r->mntns)
		ow_kuint(w, "mntns", r->mntns);
	if (r->signal)
		ow_kint(w, "signal", r->signal);
	if (r->cmd_line_truncated)
		ow_kbool(w, "cmd_line_truncated", true);
}

struct proc_rec {
	const struct ocsf_src *src;
	const struct ocsf_process_activity *r;
};

static void proc_rec_body(struct ow *w, const void *arg)
{
	const struct proc_rec *pr = arg;
	const struct ocsf_process_activity *r = pr->r;
	const struct ocsf_common c = {
		.src = pr->src, .h = &r->h, .class_uid = OCSF_PROCESS_ACTIVITY, .category_uid = 1,
		.activity_id = r->activity_id, .severity_id = OCSF_SEV_INFO, .status_id = 1,
	};

	ocsf_common(w, &c);
	ow_kmap(w, "process", ocsf_process_body, &r->process);
	ow_kmap(w, "actor", ocsf_actor_body, r->actor ? r->actor : &no_actor);
	if (r->has_exit_code)
		ow_kint(w, "exit_code", r->exit_code);
	if (proc_vigil_any(r))
		ow_unmapped(w, proc_vigil_body, r);
}

int ocsf_pack_process_activity(msgpack_packer *pk, const struct ocsf_src *s,
			       const struct ocsf_process_activity *r, struct ocsf_err *err)
{
	struct proc_rec pr = {s, r};

	if (ocsf_src_check(s, err) || id_check(r->activity_id, "activity_id", err))
		return -1;
	return ow_record(pk, proc_rec_body, &pr, err);
}
