/*
 * probe_sysctl.c: the `sysctl` rule: a kernel parameter as it is now
 * (/proc/sys, live host only) and as it will be after a reboot (the
 * sysctl.d files in systemd-sysctl's order, last assignment wins).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

#define SYSCTL_FILE_MAX (1u << 20)

enum { SRC_RUNTIME, SRC_PERSISTED, SRC_BOTH };
static const char *const sources[] = {"runtime", "persisted", "both", NULL};

struct sysctl_arg {
	char *key;
	int source;
	struct vg_expect expect;
};

static const struct yp_field sysctl_fields[] = {
	{"key", YP_STR, offsetof(struct sysctl_arg, key), true, NULL},
	{"source", YP_ENUM, offsetof(struct sysctl_arg, source), false, sources},
	{"expect", YP_EXPECT, offsetof(struct sysctl_arg, expect), true, NULL},
	{0},
};

static void sysctl_init(void *p)
{
	((struct sysctl_arg *)p)->source = SRC_BOTH;
}

/* "net/ipv4/ip_forward" and "net.ipv4.ip_forward" name the same key. */
static void normalize_key(char *k)
{
	for (; *k; k++)
		if (*k == '/')
			*k = '.';
}

static int sysctl_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct sysctl_arg *a = p;

	normalize_key(a->key);
	if (!*a->key || strstr(a->key, "..") || a->key[0] == '.' || strchr(a->key, ' '))
		return vg_errf(err, "%s:%d: '%s' is not a sysctl key", y->file, yline(map), a->key);
	return 0;
}

/* Several spaces or tabs between numbers ("4096\t87380") mean one space. */
static void normalize_value(char *v)
{
	char *o = v;
	bool space = false;

	for (char *p = str_trim(v); *p; p++) {
		if (*p == ' ' || *p == '\t') {
			space = true;
			continue;
		}
		if (space && o != v)
			*o++ = ' ';
		space = false;
		*o++ = *p;
	}
	*o = 0;
}

struct sysctl_entry {
	char *key, *val, *where;
};

struct vg_sysctl {
	struct sysctl_entry *e;
	size_t n;
	struct vg_strv files;
	struct vg_strv excluded;
};

struct sysctl_load {
	struct vg_sysctl *s;
	const char *file;
};

static int persisted_line(void *u, char *raw, size_t lineno)
{
	struct sysctl_load *l = u;
	char *line = str_trim(raw), *eq, *key;

	if (!*line || *line == '#' || *line == ';')
		return 0;
	if (!(eq = strchr(line, '='))) {
		/* "-key" alone keeps key out of every glob assignment. */
		if (*line == '-' && line[1]) {
			normalize_key(line + 1);
			strv_push(&l->s->excluded, line + 1);
		}
		return 0;
	}
	*eq = 0;
	key = str_trim(line);
	if (*key == '-')	/* "-key = v": an error setting it is ignored */
		key++;
	normalize_key(key);
	char *val = xstrdup(eq + 1);
	normalize_value(val);
	l->s->e = xrealloc(l->s->e, (l->s->n + 1) * sizeof(*l->s->e));
	l->s->e[l->s->n++] = (struct sysctl_entry){xstrdup(key), val,
						   xasprintf("%s:%zu", l->file, lineno)};
	return 0;
}

static struct vg_sysctl *persisted(struct vg_ctx *ctx)
{
	static const char *const dirs[] = {"/etc/sysctl.d", "/run/sysctl.d",
					   "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
					   "/lib/sysctl.d", NULL};
	struct vg_sysctl *s;

	if (ctx->sysctl)
		return ctx->sysctl;
	s = ctx->sysctl = xcalloc(1, sizeof(*s));
	root_dropins(&ctx->root, dirs, ".conf", &s->files);
	strv_push(&s->files, "/etc/sysctl.conf");
	for (size_t i = 0; i < s->files.n; i++) {
		struct sysctl_load l = {s, s->files.v[i]};
		if (root_lines(&ctx->root, s->files.v[i], SYSCTL_FILE_MAX, persisted_line, &l) < 0 &&
		    errno != ENOENT)
			log_warn("%s: %s", s->files.v[i], strerror(errno));
	}
	return s;
}

void sysctl_free(struct vg_sysctl *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->e[i].key);
		free(s->e[i].val);
		free(s->e[i].where);
	}
	free(s->e);
	strv_free(&s->files);
	strv_free(&s->excluded);
	free(s);
}

static bool is_glob(const char *k)
{
	return strpbrk(k, "*?[") != NULL;
}

/* Globs match like systemd's, on the /proc/sys path: '*' stays within one
 * component. */
static bool glob_matches(const char *glob, const char *key)
{
	char g[512], k[512];

	snprintf(g, sizeof(g), "%s", glob);
	snprintf(k, sizeof(k), "%s", key);
	for (char *p = g; *p; p++)
		if (*p == '.')
			*p = '/';
	for (char *p = k; *p; p++)
		if (*p == '.')
			*p = '/';
	return fnmatch(g, k, FNM_PATHNAME) == 0;
}

/* An explicit assignment anywhere beats every glob, as in systemd-sysctl;
 * among either kind the last one read wins. */
static const struct sysctl_entry *lookup(const struct vg_sysctl *s, const char *key)
{
	const struct sysctl_entry *exact = NULL, *glob = NULL;

	for (size_t i = 0; i < s->n; i++) {
		if (!strcmp(s->e[i].key, key))
			exact = &s->e[i];
		else if (is_glob(s->e[i].key) && glob_matches(s->e[i].key, key))
			glob = &s->e[i];
	}
	if (exact || strv_has(&s->excluded, key))
		return exact;
	return glob;
}

static enum vg_status eval_persisted(const struct sysctl_arg *a, struct vg_ctx *ctx,
				     struct vg_ev *ev)
{
	struct vg_sysctl *s = persisted(ctx);
	const struct sysctl_entry *last = lookup(s, a->key);

	if (!last) {
		char *what = xasprintf("%s in sysctl.d", a->key);
		enum vg_status st = expect_eval(&a->expect, NULL, what, ev);
		free(what);
		return st;
	}
	char *what = strcmp(last->key, a->key)
			     ? xasprintf("%s: %s (by %s)", last->where, a->key, last->key)
			     : xasprintf("%s: %s", last->where, a->key);
	enum vg_status st = expect_eval(&a->expect, last->val, what, ev);
	free(what);
	return st;
}

static enum vg_status eval_runtime(const struct sysctl_arg *a, struct vg_ctx *ctx,
				   struct vg_ev *ev)
{
	char *path, *val;
	enum vg_status st;

	if (!ctx->root.live) {
		ev_add(ev, "%s: the running value is known on the live host only", a->key);
		return VG_NA;
	}
	path = xasprintf("/proc/sys/%s", a->key);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	if (root_read(&ctx->root, path, 64 << 10, &val, NULL) < 0) {
		int e = errno;
		ev_add(ev, "%s: %s", path, strerror(e));
		free(path);
		/* A key this kernel does not have (ipv6 off, module absent). */
		return e == ENOENT ? VG_NA : VG_ERROR;
	}
	normalize_value(val);
	char *what = xasprintf("%s (running)", a->key);
	st = expect_eval(&a->expect, val, what, ev);
	free(what);
	free(val);
	free(path);
	return st;
}

static enum vg_status sysctl_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct sysctl_arg *a = p;
	enum vg_status run = VG_NA, per = VG_NA;

	if (a->source != SRC_PERSISTED)
		run = eval_runtime(a, ctx, ev);
	if (a->source != SRC_RUNTIME)
		per = eval_persisted(a, ctx, ev);
	if (run == VG_FAILED || per == VG_FAILED)
		return VG_FAILED;
	if (run == VG_ERROR || per == VG_ERROR)
		return VG_ERROR;
	return run == VG_PASSED || per == VG_PASSED ? VG_PASSED : VG_NA;
}

const struct vg_probe probe_sysctl = {
	.name = "sysctl",
	.argsize = sizeof(struct sysctl_arg),
	.fields = sysctl_fields,
	.init = sysctl_init,
	.check = sysctl_check,
	.eval = sysctl_eval,
};
