/*
 * ship_proc.c: `vigil watch` events as records (the facts event_json
 * writes, watchfmt.c), and the actors realtime drift captures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ship_int.h"

int ship_ocsf_err(struct vg_err *err, const char *what, const struct ocsf_err *oe)
{
	return vg_errf(err, "%s: %s", what, oe->msg);
}

static char *own(struct ship_chain *c, const char *s)
{
	char *copy;

	if (!s)
		return NULL;
	copy = xstrdup(s);
	c->own[c->nown++] = copy;
	return copy;
}

/* As process_obj: the table's view of each pid, else the event's for the
 * event's own process; a parent while depth < SHIP_ANCESTORS and one is
 * known. */
void ship_chain_fill(struct ship_chain *c, struct vg_proctab *t, const struct vg_event *ev,
		     uint32_t pid, int depth)
{
	memset(c, 0, sizeof(*c));
	while (c->n < SHIP_CHAIN) {
		const struct vg_proc *p = t ? proctab_get(t, pid) : NULL;
		struct ocsf_process *o = &c->p[c->n];
		char *comm = c->comm[c->n];
		bool self = pid == ev->tgid;
		uint32_t ppid = p ? p->ppid : self ? ev->ppid : 0;

		o->pid = pid;
		o->uid = p ? ship_id(p->uid) : self ? ship_id(ev->uid) : OCSF_NOID;
		snprintf(comm, EV_COMM_LEN + 1, "%.*s", EV_COMM_LEN,
			 p ? p->comm : self ? ev->comm : "");
		o->name = comm[0] ? comm : NULL;
		o->exe = p ? own(c, p->exe) : NULL;
		o->cmd_line = p ? own(c, p->args) : NULL;
		if (c->n)
			c->p[c->n - 1].parent = o;
		c->n++;
		if (depth >= SHIP_ANCESTORS || !ppid)
			break;
		depth++;
		pid = ppid;
	}
}

void ship_chain_free(struct ship_chain *c)
{
	for (size_t i = 0; i < c->nown; i++)
		free(c->own[i]);
	c->nown = c->n = 0;
}

/* As event_actor_json: the process and its parents, and the user (the
 * table's when the event does not know it: fanotify gives a pid only). */
static void actor_fill(struct ship_actor *a, const struct vg_event *ev, struct vg_proctab *t)
{
	const struct vg_proc *p;
	uint32_t uid = ev->uid;

	ship_chain_fill(&a->chain, t, ev, ev->tgid, 0);
	if (uid == (uint32_t)-1 && t && (p = proctab_get(t, ev->tgid)))
		uid = p->uid;
	a->a.process = &a->chain.p[0];
	a->a.uid = ship_id(uid);
}

struct ship_actor *ship_actor_capture(const struct vg_event *ev, struct vg_proctab *t,
				      const char *cgroup, const char *container)
{
	struct ship_actor *a = xcalloc(1, sizeof(*a));

	actor_fill(a, ev, t);
	a->cgroup = cgroup ? xstrdup(cgroup) : NULL;
	a->a.has_cgroup = true;
	a->a.cgroup_id = ev->cgroup_id;
	a->a.cgroup_path = a->cgroup;
	if (container) {
		snprintf(a->container, sizeof(a->container), "%s", container);
		a->chain.p[0].container_uid = a->container;
	}
	return a;
}

void ship_actor_free(struct ship_actor *a)
{
	if (!a)
		return;
	ship_chain_free(&a->chain);
	free(a->cgroup);
	free(a);
}

/* ---- events ------------------------------------------------------------- */

static bool is_process(enum ev_kind k)
{
	return k == EV_EXEC || k == EV_FORK || k == EV_EXIT;
}

/* argv arrives NUL-separated: one line, as the JSON's cmd_line. */
static char *cmd_line(const struct vg_event *ev)
{
	size_t len = ev->args_len;
	char *s;

	if (!ev->args)
		return NULL;
	s = xstrndup(ev->args, len);
	while (len && !s[len - 1])
		len--;
	for (size_t i = 0; i < len; i++)
		if (!s[i])
			s[i] = ' ';
	s[len] = 0;
	return s;
}

static int ship_process(msgpack_packer *pk, const struct ship_host *h,
			const struct vg_event *ev, struct vg_proctab *t, struct vg_err *err)
{
	char comm[EV_COMM_LEN + 1];
	struct ship_chain parents = {0};
	struct ocsf_actor actor = {.uid = OCSF_NOID};
	struct ocsf_err oe;
	bool signaled = ev->flags & EVF_SIGNALED;
	struct ocsf_process_activity r = {
		.h = {ev->time_ns / 1000000u, NULL},
		.activity_id = ev_kind_activity(ev->kind),
		.process = {.pid = ev->tgid, .tid = ev->pid != ev->tgid ? ev->pid : 0,
			    .uid = ship_id(ev->uid)},
		.event = ev_kind_name(ev->kind),
		.auid = ship_id(ev->auid),
		.cgroup_id = ev->cgroup_id,
		.mntns = ev->mntns,
	};
	int rc;

	memcpy(comm, ev->comm, EV_COMM_LEN);
	comm[EV_COMM_LEN] = 0;
	r.process.name = comm[0] ? comm : NULL;
	if (ev->kind == EV_EXEC) {
		r.process.cmd_line = cmd_line(ev);
		r.process.exe = ev->exe;
		r.cwd = ev->cwd;
		r.cmd_line_truncated = ev->flags & EVF_ARGS_TRUNC;
	}
	if (ev->kind == EV_EXIT) {
		r.has_exit_code = true;
		r.exit_code = signaled ? 128 + ev->code : ev->code;
		r.signal = signaled ? ev->code : 0;
	}
	/* Who launched it: its parent, and theirs, from the table. */
	if (ev->ppid) {
		ship_chain_fill(&parents, t, ev, ev->ppid, 1);
		actor.process = &parents.p[0];
		r.actor = &actor;
	}
	rc = ocsf_pack_process_activity(pk, &h->src, &r, &oe);
	if (rc)
		ship_ocsf_err(err, "process event", &oe);
	ship_chain_free(&parents);
	free((char *)r.process.cmd_line);
	return rc;
}

static int ship_file(msgpack_packer *pk, const struct ship_host *h, const struct vg_event *ev,
		     struct vg_proctab *t, struct vg_err *err)
{
	bool dir = ev->kind == EV_MKDIR || ev->kind == EV_RMDIR;
	int type = dir ? OCSF_FT_FOLDER : OCSF_FT_REGULAR;
	struct ship_actor actor = {0};
	struct ocsf_file result = {.type_id = type};
	struct ocsf_err oe;
	struct ocsf_file_activity r = {
		.h = {ev->time_ns / 1000000u, NULL},
		.activity_id = ev_kind_activity(ev->kind),
		.status_id = 1,
		.file = {.path = ev->path, .type_id = type},
		.event = ev_kind_name(ev->kind),
		.mode = -1,
		.owner_uid = OCSF_NOID,
		.owner_gid = OCSF_NOID,
		.path_incomplete = ev->flags & (EVF_PATH_TRUNC | EVF_PATH2_TRUNC |
						EVF_PATH_RELATIVE),
	};
	int rc;

	if (ev->kind == EV_SYMLINK) {
		r.file.path = ev->path2;	/* the new name; path is its target text */
		r.file.type_id = OCSF_FT_SYMLINK;
		r.symlink_target = ev->path;
	} else if (ev->kind == EV_SETXATTR) {
		r.xattr_name = ev->path2;
	} else if (ev->path2) {
		result.path = ev->path2;
		r.file_result = &result;
	}
	if (!r.file.path) {		/* the source could not name it */
		r.file.path = "";
		r.path_incomplete = true;
	}
	if (ev->kind == EV_CHMOD)
		r.mode = ev->mode & 07777;
	if (ev->kind == EV_CHOWN) {	/* -1: that id was left as it was */
		r.owner_uid = ship_id(ev->fuid);
		r.owner_gid = ship_id(ev->fgid);
	}
	if (ev->found_by) {
		r.found_by = ev->found_by;	/* nobody was seen doing it */
	} else {
		actor_fill(&actor, ev, t);
		r.actor = &actor.a;
	}
	rc = ocsf_pack_file_activity(pk, &h->src, &r, &oe);
	if (rc)
		ship_ocsf_err(err, "file event", &oe);
	ship_chain_free(&actor.chain);
	return rc;
}

int ship_event(msgpack_packer *pk, const struct ship_host *h, const struct vg_event *ev,
	       struct vg_proctab *t, struct vg_err *err)
{
	if (is_process(ev->kind))
		return ship_process(pk, h, ev, t, err);
	return ship_file(pk, h, ev, t, err);
}
