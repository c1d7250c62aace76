/*
 * probe_mount.c: the `mount` rule: is a path its own mount, with which
 * options, now (/proc/self/mountinfo) and at boot (fstab and systemd
 * .mount units, e.g. Debian's tmp.mount).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

#define MOUNT_FILE_MAX (4u << 20)

enum { SRC_RUNTIME, SRC_FSTAB, SRC_BOTH };
static const char *const sources[] = {"runtime", "fstab", "both", NULL};

struct mount_arg {
	char *path;
	int mounted, source, if_not_mounted;
	struct vg_strv options;
};

static const struct yp_field mount_fields[] = {
	{"path", YP_STR, offsetof(struct mount_arg, path), true, NULL},
	{"mounted", YP_BOOL, offsetof(struct mount_arg, mounted), false, NULL},
	{"options", YP_STRV, offsetof(struct mount_arg, options), false, NULL},
	{"source", YP_ENUM, offsetof(struct mount_arg, source), false, sources},
	{"if_not_mounted", YP_STATUS, offsetof(struct mount_arg, if_not_mounted), false, NULL},
	{0},
};

static void mount_init(void *p)
{
	struct mount_arg *a = p;

	a->mounted = -1;
	a->source = SRC_BOTH;
	a->if_not_mounted = VG_FAILED;
}

static int mount_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct mount_arg *a = p;
	size_t n = strlen(a->path);

	if (a->path[0] != '/')
		return vg_errf(err, "%s:%d: path must be absolute", y->file, yline(map));
	if (n > 1 && a->path[n - 1] == '/')
		a->path[n - 1] = 0;
	if (a->mounted < 0 && !a->options.n)
		return vg_errf(err, "%s:%d: mount needs mounted or options", y->file, yline(map));
	if (a->mounted == 0 && a->options.n)
		return vg_errf(err, "%s:%d: a path that must not be a mount has no options",
			       y->file, yline(map));
	return 0;
}

struct mnt {
	char *target, *opts, *where;
};

struct mtab {
	struct mnt *m;
	size_t n;
	bool read;
};

struct vg_mounts {
	struct mtab runtime, boot;
};

/* mountinfo and fstab escape space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
}

static void add_mnt(struct mtab *t, const char *target, const char *opts, char *where)
{
	t->m = xrealloc(t->m, (t->n + 1) * sizeof(*t->m));
	t->m[t->n] = (struct mnt){xstrdup(target), xstrdup(opts), where};
	unescape(t->m[t->n].target);
	if (strlen(t->m[t->n].target) > 1 && t->m[t->n].target[strlen(t->m[t->n].target) - 1] == '/')
		t->m[t->n].target[strlen(t->m[t->n].target) - 1] = 0;
	t->n++;
}

struct mload {
	struct mtab *t;
	const char *file;
};

/* 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue */
static int mountinfo_line(void *u, char *line, size_t lineno)
{
	struct mload *l = u;
	char *f[6], *save = NULL;
	int i;

	for (i = 0; i < 6; i++)
		if (!(f[i] = strtok_r(i ? NULL : line, " ", &save)))
			return 0;
	add_mnt(l->t, f[4], f[5], xasprintf("%s:%zu", l->file, lineno));
	return 0;
}

static int fstab_line(void *u, char *raw, size_t lineno)
{
	struct mload *l = u;
	char *line = str_trim(raw), *f[4], *save = NULL;

	if (!*line || *line == '#')
		return 0;
	for (int i = 0; i < 4; i++)
		if (!(f[i] = strtok_r(i ? NULL : line, " \t", &save)))
			return 0;
	if (!strcmp(f[2], "swap"))
		return 0;
	add_mnt(l->t, f[1], f[3], xasprintf("%s:%zu", l->file, lineno));
	return 0;
}

struct unit_scan {
	char *where, *options;
	bool in_mount;
};

static int unit_line(void *u, char *raw, size_t lineno)
{
	struct unit_scan *s = u;
	char *line = str_trim(raw), *eq;

	(void)lineno;
	if (*line == '[') {
		s->in_mount = !strcmp(line, "[Mount]");
		return 0;
	}
	if (!s->in_mount || !(eq = strchr(line, '=')))
		return 0;
	*eq = 0;
	char **slot = !strcmp(str_trim(line), "Where") ? &s->where
		      : !strcmp(str_trim(line), "Options") ? &s->options : NULL;
	if (slot) {
		free(*slot);
		*slot = xstrdup(str_trim(eq + 1));
	}
	return 0;
}

/* A .mount unit mounts at boot only when something wants it. */
static bool unit_enabled(struct vg_ctx *ctx, const char *unit)
{
	struct vg_strv links = {0};
	char *pat = xasprintf("/etc/systemd/system/*.wants/%s", unit);
	bool on = root_glob(&ctx->root, pat, &links) > 0;

	free(pat);
	strv_free(&links);
	return on;
}

static void read_units(struct vg_ctx *ctx, struct mtab *t)
{
	static const char *const dirs[] = {"/etc/systemd/system", "/run/systemd/system",
					   "/usr/lib/systemd/system", "/lib/systemd/system", NULL};
	struct vg_strv units = {0};

	root_dropins(&ctx->root, dirs, ".mount", &units);
	for (size_t i = 0; i < units.n; i++) {
		struct unit_scan s = {0};
		const char *base = strrchr(units.v[i], '/') + 1;
		if (unit_enabled(ctx, base) &&
		    root_lines(&ctx->root, units.v[i], MOUNT_FILE_MAX, unit_line, &s) == 0 && s.where)
			add_mnt(t, s.where, s.options ? s.options : "defaults",
				xstrdup(units.v[i]));
		free(s.where);
		free(s.options);
	}
	strv_free(&units);
}

static struct vg_mounts *mounts(struct vg_ctx *ctx)
{
	if (!ctx->mounts)
		ctx->mounts = xcalloc(1, sizeof(*ctx->mounts));
	return ctx->mounts;
}

static int load(struct vg_ctx *ctx, struct mtab *t, bool runtime, struct vg_ev *ev)
{
	const char *file = runtime ? "/proc/self/mountinfo" : "/etc/fstab";
	struct mload l = {t, file};

	if (t->read)
		return 0;
	t->read = true;
	if (root_lines(&ctx->root, file, MOUNT_FILE_MAX, runtime ? mountinfo_line : fstab_line,
		       &l) < 0 && (runtime || errno != ENOENT)) {
		ev_add(ev, "%s: %s", file, strerror(errno));
		t->read = false;
		return -1;
	}
	if (!runtime)
		read_units(ctx, t);
	return 0;
}

static void free_tab(struct mtab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->m[i].target);
		free(t->m[i].opts);
		free(t->m[i].where);
	}
	free(t->m);
}

void mounts_free(struct vg_mounts *m)
{
	free_tab(&m->runtime);
	free_tab(&m->boot);
	free(m);
}

static bool has_opt(const char *opts, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = opts; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, want, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

static enum vg_status judge(const struct mount_arg *a, const struct mtab *t, const char *label,
			    struct vg_ev *ev)
{
	const struct mnt *m = NULL;
	bool ok = true;

	/* The last mount on a path is the one on top, the one in force. */
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->m[i].target, a->path))
			m = &t->m[i];
	if (!m) {
		ev_add(ev, "%s is not a separate mount (%s)", a->path, label);
		if (a->mounted == 0)
			return VG_PASSED;
		return a->mounted == 1 ? VG_FAILED : (enum vg_status)a->if_not_mounted;
	}
	if (a->mounted == 0) {
		ev_add(ev, "%s: %s is a separate mount", m->where, a->path);
		return VG_FAILED;
	}
	for (size_t i = 0; i < a->options.n; i++)
		if (!has_opt(m->opts, a->options.v[i])) {
			ev_add(ev, "%s: %s lacks %s (options %s)", m->where, a->path,
			       a->options.v[i], m->opts);
			ok = false;
		}
	if (ok)
		ev_add(ev, "%s: %s mounted with %s", m->where, a->path, m->opts);
	return ok ? VG_PASSED : VG_FAILED;
}

static enum vg_status mount_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct mount_arg *a = p;
	struct vg_mounts *ms = mounts(ctx);
	enum vg_status run = VG_NA, boot = VG_NA;

	if (a->source != SRC_FSTAB) {
		if (!ctx->root.live)
			ev_add(ev, "%s: current mounts are known on the live host only", a->path);
		else
			run = load(ctx, &ms->runtime, true, ev) ? VG_ERROR
				: judge(a, &ms->runtime, "now", ev);
	}
	if (a->source != SRC_RUNTIME)
		boot = load(ctx, &ms->boot, false, ev) ? VG_ERROR
			: judge(a, &ms->boot, "fstab and .mount units", ev);
	if (run == VG_FAILED || boot == VG_FAILED)
		return VG_FAILED;
	if (run == VG_ERROR || boot == VG_ERROR)
		return VG_ERROR;
	return run == VG_PASSED || boot == VG_PASSED ? VG_PASSED : VG_NA;
}

const struct vg_probe probe_mount = {
	.name = "mount",
	.argsize = sizeof(struct mount_arg),
	.fields = mount_fields,
	.init = mount_init,
	.check = mount_check,
	.eval = mount_eval,
};
