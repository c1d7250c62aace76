/*
 * ocsf_objects.c: the OCSF objects records share: file, process, user,
 * actor.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ocsf_int.h"

int ocsf_file_type(unsigned st_mode)
{
	switch (st_mode & S_IFMT) {
	case S_IFREG: return OCSF_FT_REGULAR;
	case S_IFDIR: return OCSF_FT_FOLDER;
	case S_IFCHR: return OCSF_FT_CHAR;
	case S_IFBLK: return OCSF_FT_BLOCK;
	case S_IFSOCK: return OCSF_FT_SOCKET;
	case S_IFIFO: return OCSF_FT_PIPE;
	case S_IFLNK: return OCSF_FT_SYMLINK;
	case 0: return OCSF_FT_UNKNOWN;
	default: return OCSF_FT_OTHER;
	}
}

int ocsf_file_check(const struct ocsf_file *f, const char *what, struct ocsf_err *err)
{
	if (!f->path)
		return ocsf_errf(err, "%s.path: required", what);
	return 0;
}

/* path, name and parent_folder of a path: "/etc/ssh/sshd_config" is
 * sshd_config in /etc/ssh; "/etc" is etc in /; "/" and "rel" have no
 * parent folder and are their own name. */
static void path_keys(struct ow *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	bool named = slash && slash[1];

	ow_kstr(w, "path", path);
	ow_kstr(w, "name", named ? slash + 1 : path);
	if (named && ow_key(w, "parent_folder")) {
		if (slash == path)
			ow_str(w, "/");
		else
			ow_strn(w, path, (size_t)(slash - path));
	}
}

static void exe_body(struct ow *w, const void *arg)
{
	path_keys(w, arg);
	ow_kuint(w, "type_id", OCSF_FT_REGULAR);
}

static void sha256_body(struct ow *w, const void *arg)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *d = arg;
	char v[65];

	for (int i = 0; i < 32; i++) {
		v[2 * i] = hex[d[i] >> 4];
		v[2 * i + 1] = hex[d[i] & 15];
	}
	v[64] = 0;
	ow_kuint(w, "algorithm_id", 3);
	ow_kstr(w, "algorithm", "SHA-256");
	ow_kstr(w, "value", v);
}

static void xattr_body(struct ow *w, const void *arg)
{
	const struct ocsf_file *f = arg;

	if (f->selinux)
		ow_kstr(w, "security.selinux", f->selinux);
	if (f->capability)
		ow_kstr(w, "security.capability", f->capability);
}

static void owner_body(struct ow *w, const void *arg)
{
	ow_kuid(w, "uid", *(const uint32_t *)arg);
}

void ocsf_file_body(struct ow *w, const void *arg)
{
	const struct ocsf_file *f = arg;

	path_keys(w, f->path);
	ow_kuint(w, "type_id", (uint64_t)f->type_id);
	if (f->has_stat) {
		ow_kuint(w, "size", f->size);
		ow_kint(w, "modified_time", f->mtime_ms);
		ow_kuid(w, "uid", f->inode);
		ow_kmap(w, "owner", owner_body, &f->owner_uid);
	}
	if (f->sha256 && ow_key(w, "hashes")) {
		ow_array(w, 1);
		ow_map(w, sha256_body, f->sha256);
	}
	if ((f->selinux || f->capability))
		ow_kmap(w, "xattributes", xattr_body, f);
}

struct user_arg {
	int64_t uid;
	const char *name;
};

static void user_body(struct ow *w, const void *arg)
{
	const struct user_arg *u = arg;

	if (u->uid != OCSF_NOID)
		ow_kuid(w, "uid", (uint64_t)u->uid);
	if (u->name)
		ow_kstr(w, "name", u->name);
}

static void user_key(struct ow *w, int64_t uid, const char *name)
{
	struct user_arg u = {uid, name};

	if (uid != OCSF_NOID || name)
		ow_kmap(w, "user", user_body, &u);
}

static void container_body(struct ow *w, const void *arg)
{
	ow_kstr(w, "uid", arg);
}

/* A process and its parents, OCSF_LINEAGE_MAX deep at most: a chain that
 * loops (a reused pid) ends there too. */
struct proc_at {
	const struct ocsf_process *p;
	int depth;
};

static void proc_body(struct ow *w, const void *arg)
{
	const struct proc_at *at = arg;
	const struct ocsf_process *p = at->p;
	struct proc_at up = {p->parent, at->depth + 1};

	ow_kuint(w, "pid", p->pid);
	if (p->tid)
		ow_kuint(w, "tid", p->tid);
	if (p->name)
		ow_kstr(w, "name", p->name);
	if (p->cmd_line)
		ow_kstr(w, "cmd_line", p->cmd_line);
	if (p->exe)
		ow_kmap(w, "file", exe_body, p->exe);
	user_key(w, p->uid, p->user_name);
	if (p->container_uid)
		ow_kmap(w, "container", container_body, p->container_uid);
	if (p->parent && up.depth <= OCSF_LINEAGE_MAX)
		ow_kmap(w, "parent_process", proc_body, &up);
}

void ocsf_process_body(struct ow *w, const void *arg)
{
	struct proc_at at = {arg, 0};

	proc_body(w, &at);
}

void ocsf_actor_body(struct ow *w, const void *arg)
{
	const struct ocsf_actor *a = arg;

	if (a->process)
		ow_kmap(w, "process", ocsf_process_body, a->process);
	user_key(w, a->uid, a->user_name);
}
