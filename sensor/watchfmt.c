/*
 * watchfmt.c: events for a person (one line) and for a machine (one JSON
 * object per line with OCSF 1.x attribute names, so a SIEM can take them
 * as they are: File System Activity 1001, Process Activity 1007).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "watch.h"

#define OCSF_VERSION "1.1.0"
#define ANCESTORS_SHOWN 4

static const char *const kind_names[EV_KIND_MAX] = {
	[EV_EXEC] = "exec",	  [EV_FORK] = "fork",	  [EV_EXIT] = "exit",
	[EV_CREATE] = "create",	  [EV_MODIFY] = "modify", [EV_DELETE] = "delete",
	[EV_RENAME] = "rename",	  [EV_CHMOD] = "chmod",	  [EV_CHOWN] = "chown",
	[EV_TRUNCATE] = "truncate", [EV_LINK] = "link",	  [EV_SYMLINK] = "symlink",
	[EV_MKDIR] = "mkdir",	  [EV_RMDIR] = "rmdir",	  [EV_SETXATTR] = "setxattr",
};

const char *ev_kind_name(enum ev_kind k)
{
	return k > 0 && k < EV_KIND_MAX && kind_names[k] ? kind_names[k] : "unknown";
}

static bool is_process(enum ev_kind k)
{
	return k == EV_EXEC || k == EV_FORK || k == EV_EXIT;
}

int ev_kind_activity(enum ev_kind k)
{
	switch (k) {
	case EV_EXEC: case EV_FORK: return 1;		/* Launch */
	case EV_EXIT: return 2;				/* Terminate */
	case EV_CREATE: case EV_MKDIR: case EV_LINK: case EV_SYMLINK: return 1;	/* Create */
	case EV_MODIFY: case EV_TRUNCATE: return 3;	/* Update */
	case EV_DELETE: case EV_RMDIR: return 4;	/* Delete */
	case EV_RENAME: return 5;			/* Rename */
	case EV_SETXATTR: return 6;			/* Set Attributes */
	case EV_CHMOD: case EV_CHOWN: return 7;		/* Set Security */
	default: return 99;				/* Other */
	}
}

static void timestamp(char *buf, size_t n, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;

	localtime_r(&s, &tm);
	size_t off = strftime(buf, n, "%H:%M:%S", &tm);
	snprintf(buf + off, n - off, ".%03u", (unsigned)(ns / 1000000ull % 1000));
}

/* Parents by name, the nearest first: "bash(812) < sshd(700) < systemd(1)". */
static void text_lineage(struct vg_buf *b, uint32_t ppid, struct vg_proctab *t)
{
	const struct vg_proc *chain[ANCESTORS_SHOWN];
	size_t n = t ? proctab_lineage(t, ppid, chain, ANCESTORS_SHOWN) : 0;

	if (!n) {
		buf_printf(b, " parent %u", ppid);
		return;
	}
	buf_puts(b, " parents");
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%s(%u)", i ? " < " : " ", chain[i]->comm, chain[i]->pid);
}

void event_text(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t)
{
	char ts[32];

	timestamp(ts, sizeof(ts), ev->time_ns);
	buf_printf(b, "%s %-8s ", ts, ev_kind_name(ev->kind));
	switch (ev->kind) {
	case EV_EXEC:
		buf_printf(b, "pid %u uid %d %s", ev->tgid, (int)ev->uid, ev->exe ? ev->exe : "?");
		for (size_t i = 0, start = 0; ev->args && i <= ev->args_len; i++) {
			if (i < ev->args_len && ev->args[i])
				continue;
			if (start && i > start)	/* argv[0] is shown as the exe */
				buf_printf(b, " %.*s", (int)(i - start), ev->args + start);
			start = i + 1;
		}
		if (ev->flags & EVF_ARGS_TRUNC)
			buf_puts(b, " ...");
		break;
	case EV_FORK:
		buf_printf(b, "pid %u (%s)", ev->tgid, ev->comm);
		break;
	case EV_EXIT:
		buf_printf(b, "pid %u (%s) %s %d", ev->tgid, ev->comm,
			   ev->flags & EVF_SIGNALED ? "signal" : "code", ev->code);
		break;
	default:
		buf_puts(b, ev->path ? ev->path : "?");
		if (ev->path2)
			buf_printf(b, " -> %s", ev->path2);
		if (ev->kind == EV_CHMOD)
			buf_printf(b, " mode %04o", ev->mode & 07777);
		if (ev->kind == EV_CHOWN)
			buf_printf(b, " owner %d:%d", (int)ev->fuid, (int)ev->fgid);
		if (ev->flags & (EVF_PATH_TRUNC | EVF_PATH2_TRUNC))
			buf_puts(b, " [path cut short]");
		if (ev->found_by && !strcmp(ev->found_by, "coalesced")) {
			buf_puts(b, " [busy file, writers not seen: coalesced]");
			return;
		}
		if (ev->found_by) {
			buf_printf(b, " [found by %s]", ev->found_by);
			return;
		}
		buf_puts(b, "  ");
		event_actor_text(b, ev, t);
		return;
	}
	text_lineage(b, ev->ppid, t);
}

void event_actor_text(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t)
{
	const struct vg_proc *p = t ? proctab_get(t, ev->tgid) : NULL;
	char *exe = p && p->exe ? xstrdup(p->exe) : NULL;
	/* fanotify knows the pid only; the table may know the rest. */
	uint32_t uid = ev->uid != (uint32_t)-1 || !p ? ev->uid : p->uid;
	uint32_t ppid = ev->ppid && ev->ppid != (uint32_t)-1 ? ev->ppid : p ? p->ppid : 0;

	buf_printf(b, "by pid %u %s uid %d", ev->tgid, exe ? exe : ev->comm, (int)uid);
	text_lineage(b, ppid, t);
	free(exe);
}

/* ---- JSON ---- */

/* {"path","name","parent_folder","type"} of an absolute path. */
static void file_obj(struct vg_buf *b, const char *key, const char *path, bool dir)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	buf_printf(b, "\"%s\":{", key);
	json_kv(b, "path", path, true);
	json_kv(b, "name", slash ? slash + 1 : path, true);
	if (slash) {
		char *parent = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
		json_kv(b, "parent_folder", parent, true);
		free(parent);
	}
	buf_printf(b, "\"type_id\":%d}", dir ? 2 : 1);	/* 1 Regular File, 2 Folder */
}

static void uid_obj(struct vg_buf *b, const char *key, uint32_t uid)
{
	if (uid == (uint32_t)-1)
		buf_printf(b, "\"%s\":null", key);
	else
		buf_printf(b, "\"%s\":{\"uid\":\"%u\"}", key, uid);
}

/* A process object from the table (or the event when the table has none). */
static void process_obj(struct vg_buf *b, const char *key, uint32_t pid,
			const struct vg_event *ev, struct vg_proctab *t, int depth)
{
	const struct vg_proc *p = t ? proctab_get(t, pid) : NULL;
	char *exe = p && p->exe ? xstrdup(p->exe) : NULL;
	char *cmd = p && p->args ? xstrdup(p->args) : NULL;
	uint32_t ppid = p ? p->ppid : (pid == ev->tgid ? ev->ppid : 0);
	uint32_t uid = p ? p->uid : (pid == ev->tgid ? ev->uid : (uint32_t)-1);
	char comm[EV_COMM_LEN];

	snprintf(comm, sizeof(comm), "%s", p ? p->comm : pid == ev->tgid ? ev->comm : "");
	buf_printf(b, "\"%s\":{\"pid\":%u,", key, pid);
	json_kv(b, "name", comm[0] ? comm : NULL, true);
	json_kv(b, "cmd_line", cmd, true);
	if (exe) {
		file_obj(b, "file", exe, false);
		buf_put(b, ",", 1);
	}
	uid_obj(b, "user", uid);
	/* Parents through the table (proctab_get may move entries: only pids
	 * and copies are held across the recursion). */
	if (depth < ANCESTORS_SHOWN && ppid) {
		buf_put(b, ",", 1);
		process_obj(b, "parent_process", ppid, ev, t, depth + 1);
	}
	buf_put(b, "}", 1);
	free(exe);
	free(cmd);
}

static void header(struct vg_buf *b, const struct vg_event *ev, int class_uid)
{
	int act = ev_kind_activity(ev->kind);

	buf_printf(b, "{\"class_uid\":%d,\"category_uid\":1,\"activity_id\":%d,"
		       "\"type_uid\":%d,\"severity_id\":1,\"time\":%llu,",
		   class_uid, act, class_uid * 100 + act,
		   (unsigned long long)(ev->time_ns / 1000000ull));
	buf_printf(b, "\"metadata\":{\"version\":\"%s\",\"product\":{\"name\":\"vigil\","
		       "\"vendor_name\":\"vigil\"}},", OCSF_VERSION);
	json_kv(b, "activity_name", ev_kind_name(ev->kind), true);
}

static void json_process(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t)
{
	header(b, ev, 1007);
	if (ev->kind == EV_EXIT)
		buf_printf(b, "\"exit_code\":%d,", ev->flags & EVF_SIGNALED ? 128 + ev->code
									       : ev->code);
	/* The event's own view of the new process beats the table's, which
	 * may not have seen this exec yet. */
	buf_printf(b, "\"process\":{\"pid\":%u,\"tid\":%u,", ev->tgid, ev->pid);
	json_kv(b, "name", ev->comm, true);
	if (ev->kind == EV_EXEC) {
		char *cmd = ev->args ? xstrndup(ev->args, ev->args_len) : NULL;
		for (size_t i = 0; cmd && i + 1 < ev->args_len; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		json_kv(b, "cmd_line", cmd, true);
		free(cmd);
		json_kv(b, "cwd", ev->cwd, true);
		if (ev->exe) {
			file_obj(b, "file", ev->exe, false);
			buf_put(b, ",", 1);
		}
		if (ev->flags & EVF_ARGS_TRUNC)
			buf_puts(b, "\"cmd_line_truncated\":true,");
	}
	buf_printf(b, "\"uid\":%d,\"auid\":%d,\"cgroup_id\":%llu,\"mntns\":%u,",
		   (int)ev->uid, (int)ev->auid, (unsigned long long)ev->cgroup_id, ev->mntns);
	uid_obj(b, "user", ev->uid);
	buf_put(b, "}", 1);
	if (ev->ppid) {
		buf_puts(b, ",\"actor\":{");
		process_obj(b, "process", ev->ppid, ev, t, 1);
		buf_put(b, "}", 1);
	}
	buf_put(b, "}", 1);
}

static void json_file(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t)
{
	bool dir = ev->kind == EV_MKDIR || ev->kind == EV_RMDIR;

	header(b, ev, 1001);
	if (ev->kind == EV_SYMLINK) {
		file_obj(b, "file", ev->path2, false);
		buf_put(b, ",", 1);
		json_kv(b, "symlink_target", ev->path, true);
	} else {
		file_obj(b, "file", ev->path, dir);
		buf_put(b, ",", 1);
		if (ev->path2 && ev->kind != EV_SETXATTR) {
			file_obj(b, "file_result", ev->path2, dir);
			buf_put(b, ",", 1);
		}
	}
	if (ev->kind == EV_SETXATTR)
		json_kv(b, "xattr_name", ev->path2, true);
	if (ev->kind == EV_CHMOD)
		buf_printf(b, "\"mode\":\"%04o\",", ev->mode & 07777);
	if (ev->kind == EV_CHOWN)
		buf_printf(b, "\"owner_uid\":%d,\"owner_gid\":%d,", (int)ev->fuid, (int)ev->fgid);
	if (ev->flags & (EVF_PATH_TRUNC | EVF_PATH2_TRUNC | EVF_PATH_RELATIVE))
		buf_printf(b, "\"path_incomplete\":true,");
	if (ev->found_by) {
		json_kv(b, "found_by", ev->found_by, true);
		buf_puts(b, "\"actor\":null}");
		return;
	}
	event_actor_json(b, ev, t);
	buf_put(b, "}", 1);
}

void event_actor_json(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t)
{
	const struct vg_proc *p;
	uint32_t uid = ev->uid;

	buf_puts(b, "\"actor\":{");
	process_obj(b, "process", ev->tgid, ev, t, 0);
	buf_put(b, ",", 1);
	/* fanotify knows the pid only; the table may know the user. */
	if (uid == (uint32_t)-1 && t && (p = proctab_get(t, ev->tgid)))
		uid = p->uid;
	uid_obj(b, "user", uid);
	buf_put(b, "}", 1);
}

void event_json(struct vg_buf *b, const struct vg_event *ev, struct vg_proctab *t)
{
	if (is_process(ev->kind))
		json_process(b, ev, t);
	else
		json_file(b, ev, t);
}
