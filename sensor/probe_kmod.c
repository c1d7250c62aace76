/*
 * probe_kmod.c: the `kmod` rule: can a kernel module be loaded, and is it.
 *
 * A module cannot be loaded when no kernel tree of the root has it, or when
 * modprobe.d turns its loading into /bin/false (install) and keeps it from
 * being pulled in by an alias (blacklist). A built-in one always can.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil.h"

#define MODCONF_FILE_MAX (1u << 20)
#define MODULES_DEP_MAX (32u << 20)
#define KTREE_MAX_DEPTH 8

struct kmod_arg {
	char *name;
	int loadable, blacklist, loaded;
};

static const struct yp_field kmod_fields[] = {
	{"name", YP_STR, offsetof(struct kmod_arg, name), true, NULL},
	{"loadable", YP_BOOL, offsetof(struct kmod_arg, loadable), false, NULL},
	{"blacklist", YP_BOOL, offsetof(struct kmod_arg, blacklist), false, NULL},
	{"loaded", YP_BOOL, offsetof(struct kmod_arg, loaded), false, NULL},
	{0},
};

/* kmod treats '-' and '_' in module names as the same character. */
static void normalize(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

static void kmod_init(void *p)
{
	struct kmod_arg *a = p;

	a->loadable = a->loaded = -1;
	a->blacklist = 1;
}

static int kmod_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct kmod_arg *a = p;

	normalize(a->name);
	if (strspn(a->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
	    strlen(a->name))
		return vg_errf(err, "%s:%d: '%s' is not a module name", y->file, yline(map),
			       a->name);
	if (a->loadable < 0 && a->loaded < 0)
		return vg_errf(err, "%s:%d: kmod needs loadable or loaded", y->file, yline(map));
	return 0;
}

struct modline {
	char *mod, *arg, *where;
};

struct vg_modconf {
	struct modline *install, *blacklist;
	size_t ninstall, nblacklist;
	struct vg_strv present;		/* module names in the kernel trees */
	struct vg_strv builtin;
	struct vg_strv kernels;
	bool trees_read;
};

struct modload {
	struct vg_modconf *m;
	const char *file;
};

static void push_line(struct modline **v, size_t *n, const char *mod, const char *arg,
		      const char *where)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n] = (struct modline){xstrdup(mod), xstrdup(arg), xstrdup(where)};
	normalize((*v)[*n].mod);
	(*n)++;
}

static int modconf_line(void *u, char *raw, size_t lineno)
{
	struct modload *l = u;
	char *line = str_trim(raw), *save = NULL, *cmd, *mod, *rest;

	if (!*line || *line == '#')
		return 0;
	cmd = strtok_r(line, " \t", &save);
	mod = strtok_r(NULL, " \t", &save);
	rest = save ? str_trim(save) : (char *)"";
	if (!cmd || !mod)
		return 0;
	char *where = xasprintf("%s:%zu", l->file, lineno);
	if (!strcmp(cmd, "install"))
		push_line(&l->m->install, &l->m->ninstall, mod, rest, where);
	else if (!strcmp(cmd, "blacklist"))
		push_line(&l->m->blacklist, &l->m->nblacklist, mod, "", where);
	free(where);
	return 0;
}

static struct vg_modconf *modconf(struct vg_ctx *ctx)
{
	static const char *const dirs[] = {"/etc/modprobe.d", "/run/modprobe.d",
					   "/usr/local/lib/modprobe.d", "/lib/modprobe.d",
					   "/usr/lib/modprobe.d", NULL};
	struct vg_strv files = {0};
	struct vg_modconf *m;

	if (ctx->modconf)
		return ctx->modconf;
	m = ctx->modconf = xcalloc(1, sizeof(*m));
	root_dropins(&ctx->root, dirs, ".conf", &files);
	for (size_t i = 0; i < files.n; i++) {
		struct modload l = {m, files.v[i]};
		if (root_lines(&ctx->root, files.v[i], MODCONF_FILE_MAX, modconf_line, &l) < 0)
			log_warn("%s: %s", files.v[i], strerror(errno));
	}
	strv_free(&files);
	return m;
}

/* "kernel/fs/cramfs/cramfs.ko.xz" -> "cramfs" */
static char *module_of(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	const char *dot = strstr(b, ".ko");
	if (!dot)
		return NULL;
	char *name = xstrndup(b, (size_t)(dot - b));
	normalize(name);
	return name;
}

static int dep_line(void *u, char *line, size_t lineno)
{
	struct vg_strv *out = u;
	char *colon = strchr(line, ':');
	char *name;

	(void)lineno;
	if (colon)
		*colon = 0;
	if ((name = module_of(line)))
		strv_push_owned(out, name);
	return 0;
}

/* Without modules.dep (an image not finished by depmod) the tree is read. */
static void walk_tree(struct vg_ctx *ctx, const char *dir, int depth, struct vg_strv *out)
{
	int fd = root_open(&ctx->root, dir, O_RDONLY | O_DIRECTORY);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || depth > KTREE_MAX_DEPTH || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		char *name, *sub;
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type == DT_DIR) {
			sub = xasprintf("%s/%s", dir, de->d_name);
			walk_tree(ctx, sub, depth + 1, out);
			free(sub);
		} else if ((name = module_of(de->d_name))) {
			strv_push_owned(out, name);
		}
	}
	closedir(d);
}

static void read_trees(struct vg_ctx *ctx, struct vg_modconf *m)
{
	if (m->trees_read)
		return;
	m->trees_read = true;
	root_glob(&ctx->root, "/lib/modules/*", &m->kernels);
	for (size_t i = 0; i < m->kernels.n; i++) {
		char *dep = xasprintf("%s/modules.dep", m->kernels.v[i]);
		char *bi = xasprintf("%s/modules.builtin", m->kernels.v[i]);
		if (root_lines(&ctx->root, dep, MODULES_DEP_MAX, dep_line, &m->present) < 0)
			walk_tree(ctx, m->kernels.v[i], 0, &m->present);
		root_lines(&ctx->root, bi, MODULES_DEP_MAX, dep_line, &m->builtin);
		free(dep);
		free(bi);
	}
}

void modconf_free(struct vg_modconf *m)
{
	for (size_t i = 0; i < m->ninstall; i++) {
		free(m->install[i].mod);
		free(m->install[i].arg);
		free(m->install[i].where);
	}
	for (size_t i = 0; i < m->nblacklist; i++) {
		free(m->blacklist[i].mod);
		free(m->blacklist[i].arg);
		free(m->blacklist[i].where);
	}
	free(m->install);
	free(m->blacklist);
	strv_free(&m->present);
	strv_free(&m->builtin);
	strv_free(&m->kernels);
	free(m);
}

static const struct modline *find(const struct modline *v, size_t n, const char *mod)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].mod, mod))
			return &v[i];
	return NULL;
}

static bool disables(const char *cmd)
{
	static const char *const nops[] = {"/bin/false", "/usr/bin/false", "/bin/true",
					   "/usr/bin/true", NULL};
	for (int i = 0; nops[i]; i++)
		if (!strcmp(cmd, nops[i]))
			return true;
	return false;
}

/* true when the module can be loaded; the evidence says why. */
static bool can_load(const struct kmod_arg *a, struct vg_ctx *ctx, struct vg_ev *ev)
{
	struct vg_modconf *m = modconf(ctx);
	const struct modline *inst, *bl;

	read_trees(ctx, m);
	if (strv_has(&m->builtin, a->name)) {
		ev_add(ev, "%s is built into the kernel", a->name);
		return true;
	}
	if (!strv_has(&m->present, a->name)) {
		ev_add(ev, "%s: no such module in %zu kernel tree(s) under /lib/modules", a->name,
		       m->kernels.n);
		return false;
	}
	inst = find(m->install, m->ninstall, a->name);
	bl = find(m->blacklist, m->nblacklist, a->name);
	if (inst)
		ev_add(ev, "%s: install %s %s", inst->where, inst->mod, inst->arg);
	else
		ev_add(ev, "%s: no \"install %s /bin/false\" in modprobe.d", a->name, a->name);
	if (bl)
		ev_add(ev, "%s: blacklist %s", bl->where, bl->mod);
	else if (a->blacklist)
		ev_add(ev, "%s: no \"blacklist %s\" in modprobe.d", a->name, a->name);
	return !(inst && disables(inst->arg) && (bl || !a->blacklist));
}

static int loaded_line(void *u, char *line, size_t lineno)
{
	const char *name = ((void **)u)[0];
	bool *found = ((void **)u)[1];
	size_t n = strcspn(line, " ");

	(void)lineno;
	line[n] = 0;
	normalize(line);
	if (!strcmp(line, name))
		*found = true;
	return *found;
}

static enum vg_status eval_loaded(const struct kmod_arg *a, struct vg_ctx *ctx, struct vg_ev *ev)
{
	bool found = false;
	void *u[2] = {a->name, &found};

	if (!ctx->root.live) {
		ev_add(ev, "%s: loaded modules are known on the live host only", a->name);
		return VG_NA;
	}
	if (root_lines(&ctx->root, "/proc/modules", 4u << 20, loaded_line, u) < 0) {
		/* No /proc/modules: a kernel built without loadable modules. */
		if (errno != ENOENT) {
			ev_add(ev, "/proc/modules: %s", strerror(errno));
			return VG_ERROR;
		}
		ev_add(ev, "this kernel has no loadable module support (no /proc/modules)");
	}
	ev_add(ev, "%s is %sloaded", a->name, found ? "" : "not ");
	return found == (a->loaded == 1) ? VG_PASSED : VG_FAILED;
}

static enum vg_status kmod_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct kmod_arg *a = p;
	enum vg_status load = VG_NA, now = VG_NA;

	if (a->loadable >= 0)
		load = can_load(a, ctx, ev) == (a->loadable == 1) ? VG_PASSED : VG_FAILED;
	if (a->loaded >= 0)
		now = eval_loaded(a, ctx, ev);
	if (load == VG_FAILED || now == VG_FAILED)
		return VG_FAILED;
	if (now == VG_ERROR)
		return VG_ERROR;
	return load == VG_PASSED || now == VG_PASSED ? VG_PASSED : VG_NA;
}

const struct vg_probe probe_kmod = {
	.name = "kmod",
	.argsize = sizeof(struct kmod_arg),
	.fields = kmod_fields,
	.init = kmod_init,
	.check = kmod_check,
	.eval = kmod_eval,
};
