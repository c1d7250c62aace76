/* probe_file.c: the `file` rule (existence, type, mode, owner, group) and
 * the `line` rule (a regex over the lines of files). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

#define LINE_FILE_MAX (16u << 20)
#define LINE_SHOW 200		/* characters of a line quoted as evidence */

static int check_paths(const struct vg_strv *paths, struct vg_yctx *y, yaml_node_t *map,
		       struct vg_err *err)
{
	for (size_t i = 0; i < paths->n; i++)
		if (paths->v[i][0] != '/')
			return vg_errf(err, "%s:%d: path '%s' must be absolute", y->file,
				       yline(map), paths->v[i]);
	return 0;
}

/* Globs of every pattern, in pattern order. */
static void expand(const struct vg_ctx *ctx, const struct vg_strv *pats, struct vg_strv *out)
{
	for (size_t i = 0; i < pats->n; i++)
		root_glob(&ctx->root, pats->v[i], out);
}

static void join_patterns(const struct vg_strv *pats, char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < pats->n && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", pats->v[i]);
}

/* ---- file ---- */

enum { T_FILE, T_DIR, T_SYMLINK, T_ANY };
static const char *const file_types[] = {"file", "dir", "symlink", "any", NULL};

struct file_arg {
	struct vg_strv path, owner, group;
	int exists, type, mode, mode_max, follow, if_missing;
};

static const struct yp_field file_fields[] = {
	{"path", YP_STRV, offsetof(struct file_arg, path), true, NULL},
	{"exists", YP_BOOL, offsetof(struct file_arg, exists), false, NULL},
	{"type", YP_ENUM, offsetof(struct file_arg, type), false, file_types},
	{"mode", YP_MODE, offsetof(struct file_arg, mode), false, NULL},
	{"mode_max", YP_MODE, offsetof(struct file_arg, mode_max), false, NULL},
	{"owner", YP_STRV, offsetof(struct file_arg, owner), false, NULL},
	{"group", YP_STRV, offsetof(struct file_arg, group), false, NULL},
	{"follow", YP_BOOL, offsetof(struct file_arg, follow), false, NULL},
	{"if_missing", YP_STATUS, offsetof(struct file_arg, if_missing), false, NULL},
	{0},
};

static void file_init(void *p)
{
	struct file_arg *a = p;

	a->exists = a->type = a->mode = a->mode_max = a->follow = -1;
	a->if_missing = VG_FAILED;
}

static int file_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct file_arg *a = p;

	if (a->exists == 0 && (a->type >= 0 || a->mode >= 0 || a->mode_max >= 0 || a->owner.n ||
			       a->group.n))
		return vg_errf(err, "%s:%d: a file that must not exist has no attributes to "
			       "check", y->file, yline(map));
	return check_paths(&a->path, y, map, err);
}

static bool type_ok(int want, mode_t m)
{
	switch (want) {
	case T_FILE: return S_ISREG(m);
	case T_DIR: return S_ISDIR(m);
	case T_SYMLINK: return S_ISLNK(m);
	default: return true;
	}
}

/* An owner list entry is a name in the root's passwd, or a number. */
static bool id_listed(struct vg_ctx *ctx, const struct vg_strv *list, unsigned id, bool user)
{
	for (size_t i = 0; i < list->n; i++) {
		long long n;
		uid_t u;
		gid_t g;

		if (str_to_ll(list->v[i], &n)) {
			if ((unsigned long long)n == id)
				return true;
		} else if (user ? accounts_uid(ctx, list->v[i], &u) == 0 && u == id
				: accounts_gid(ctx, list->v[i], &g) == 0 && g == id) {
			return true;
		}
	}
	return false;
}

static const char *user_str(struct vg_ctx *ctx, uid_t uid, char *buf, size_t n)
{
	const char *name = accounts_user_name(ctx, uid);
	snprintf(buf, n, "%s(%u)", name ? name : "?", (unsigned)uid);
	return buf;
}

static const char *group_str(struct vg_ctx *ctx, gid_t gid, char *buf, size_t n)
{
	const char *name = accounts_group_name(ctx, gid);
	snprintf(buf, n, "%s(%u)", name ? name : "?", (unsigned)gid);
	return buf;
}

static enum vg_status file_one(const struct file_arg *a, struct vg_ctx *ctx, const char *path,
			       struct vg_ev *ev)
{
	char ubuf[96], gbuf[96];
	struct stat st;
	unsigned perm;
	bool ok = true;

	if (root_stat(&ctx->root, path, &st, a->follow != 0) < 0) {
		ev_add(ev, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? (enum vg_status)a->if_missing : VG_ERROR;
	}
	perm = st.st_mode & 07777;
	if (a->type >= 0 && !type_ok(a->type, st.st_mode)) {
		ev_add(ev, "%s: not a %s", path, file_types[a->type]);
		ok = false;
	}
	if (a->mode >= 0 && perm != (unsigned)a->mode) {
		ev_add(ev, "%s: mode %04o, expected %04o", path, perm, a->mode);
		ok = false;
	}
	if (a->mode_max >= 0 && (perm & ~(unsigned)a->mode_max)) {
		ev_add(ev, "%s: mode %04o, allowed at most %04o", path, perm, a->mode_max);
		ok = false;
	}
	if (a->owner.n && !id_listed(ctx, &a->owner, st.st_uid, true)) {
		ev_add(ev, "%s: owner %s, expected %s", path,
		       user_str(ctx, st.st_uid, ubuf, sizeof(ubuf)), a->owner.v[0]);
		ok = false;
	}
	if (a->group.n && !id_listed(ctx, &a->group, st.st_gid, false)) {
		ev_add(ev, "%s: group %s, expected %s%s", path,
		       group_str(ctx, st.st_gid, gbuf, sizeof(gbuf)), a->group.v[0],
		       a->group.n > 1 ? " or another allowed group" : "");
		ok = false;
	}
	if (ok)
		ev_add(ev, "%s: mode %04o owner %s group %s", path, perm,
		       user_str(ctx, st.st_uid, ubuf, sizeof(ubuf)),
		       group_str(ctx, st.st_gid, gbuf, sizeof(gbuf)));
	return ok ? VG_PASSED : VG_FAILED;
}

/* A literal path names one file that must be there; a glob may match none. */
static size_t missing_literals(const struct file_arg *a, struct vg_ctx *ctx, struct vg_ev *ev)
{
	size_t n = 0;
	struct stat st;

	for (size_t i = 0; i < a->path.n; i++) {
		if (strpbrk(a->path.v[i], "*?[") ||
		    root_stat(&ctx->root, a->path.v[i], &st, false) == 0)
			continue;
		ev_add(ev, "%s: not found", a->path.v[i]);
		n++;
	}
	return n;
}

static enum vg_status file_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct file_arg *a = p;
	struct vg_strv found = {0};
	size_t cnt[4] = {0};
	char pats[512];

	expand(ctx, &a->path, &found);
	join_patterns(&a->path, pats, sizeof(pats));
	if (!found.n) {
		ev_add(ev, "%s: not found", pats);
		return a->exists == 0 ? VG_PASSED : (enum vg_status)a->if_missing;
	}
	if (a->exists != 0 && missing_literals(a, ctx, ev))
		cnt[a->if_missing]++;
	if (a->exists == 0) {
		for (size_t i = 0; i < found.n; i++)
			ev_add(ev, "%s exists", found.v[i]);
		strv_free(&found);
		return VG_FAILED;
	}
	for (size_t i = 0; i < found.n; i++)
		cnt[file_one(a, ctx, found.v[i], ev)]++;
	strv_free(&found);
	return cnt[VG_FAILED] ? VG_FAILED : cnt[VG_ERROR] ? VG_ERROR
					  : cnt[VG_PASSED] ? VG_PASSED : VG_NA;
}

const struct vg_probe probe_file = {
	.name = "file",
	.argsize = sizeof(struct file_arg),
	.fields = file_fields,
	.init = file_init,
	.check = file_check,
	.eval = file_eval,
};

/* ---- line ---- */

static const char *const line_expects[] = {"present", "absent", NULL};

struct line_arg {
	struct vg_strv path;
	char *match, *comments;
	int expect, icase, if_missing;
	regex_t re;
	bool compiled;
};

static const struct yp_field line_fields[] = {
	{"path", YP_STRV, offsetof(struct line_arg, path), true, NULL},
	{"match", YP_STR, offsetof(struct line_arg, match), true, NULL},
	{"expect", YP_ENUM, offsetof(struct line_arg, expect), false, line_expects},
	{"icase", YP_BOOL, offsetof(struct line_arg, icase), false, NULL},
	{"comments", YP_STR, offsetof(struct line_arg, comments), false, NULL},
	{"if_missing", YP_STATUS, offsetof(struct line_arg, if_missing), false, NULL},
	{0},
};

static void line_init(void *p)
{
	struct line_arg *a = p;

	a->expect = 0;
	a->icase = -1;
	a->if_missing = -1;
}

static int line_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct line_arg *a = p;
	char msg[256];
	int rc;

	if (check_paths(&a->path, y, map, err))
		return -1;
	if (a->comments && strlen(a->comments) != 1)
		return vg_errf(err, "%s:%d: comments is one character", y->file, yline(map));
	rc = regcomp(&a->re, a->match, REG_EXTENDED | REG_NOSUB | (a->icase == 1 ? REG_ICASE : 0));
	if (rc) {
		regerror(rc, &a->re, msg, sizeof(msg));
		regfree(&a->re);
		return vg_errf(err, "%s:%d: bad regex '%s': %s", y->file, yline(map), a->match, msg);
	}
	a->compiled = true;
	if (a->if_missing < 0)
		a->if_missing = a->expect == 0 ? VG_FAILED : VG_PASSED;
	return 0;
}

static void line_fini(void *p)
{
	struct line_arg *a = p;

	if (a->compiled)
		regfree(&a->re);
}

struct line_scan {
	const struct line_arg *a;
	const char *path;
	struct vg_ev *ev;
	size_t hits;
};

static int line_one(void *u, char *line, size_t lineno)
{
	struct line_scan *s = u;
	const char *t = line + strspn(line, " \t");

	if (s->a->comments && *t == s->a->comments[0])
		return 0;
	if (regexec(&s->a->re, line, 0, NULL, 0) != 0)
		return 0;
	s->hits++;
	ev_add(s->ev, "%s:%zu: %.*s%s", s->path, lineno, LINE_SHOW, line,
	       strlen(line) > LINE_SHOW ? "..." : "");
	/* One line proves "present"; for "absent" every offender is listed. */
	return s->a->expect == 0;
}

static enum vg_status line_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct line_arg *a = p;
	struct vg_strv found = {0};
	struct line_scan s = {.a = a, .ev = ev};
	bool error = false;
	char pats[512];

	expand(ctx, &a->path, &found);
	join_patterns(&a->path, pats, sizeof(pats));
	for (size_t i = 0; i < found.n && !(a->expect == 0 && s.hits); i++) {
		s.path = found.v[i];
		if (root_lines(&ctx->root, found.v[i], LINE_FILE_MAX, line_one, &s) < 0) {
			if (errno == EISDIR)
				continue;
			ev_add(ev, "%s: %s", found.v[i], strerror(errno));
			error = true;
		}
	}
	if (!found.n) {
		strv_free(&found);
		ev_add(ev, "%s: not found", pats);
		return (enum vg_status)a->if_missing;
	}
	strv_free(&found);
	if (a->expect == 0 && s.hits)
		return VG_PASSED;
	if (a->expect == 1 && s.hits)
		return VG_FAILED;
	if (error)
		return VG_ERROR;
	ev_add(ev, "no line of %s matches /%s/", pats, a->match);
	return a->expect == 0 ? VG_FAILED : VG_PASSED;
}

const struct vg_probe probe_line = {
	.name = "line",
	.argsize = sizeof(struct line_arg),
	.fields = line_fields,
	.init = line_init,
	.check = line_check,
	.eval = line_eval,
	.fini = line_fini,
};
