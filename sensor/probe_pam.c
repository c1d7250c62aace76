/*
 * probe_pam.c: the `pam` rule: the first line of a PAM service with a given
 * type and module, following @include and include/substack the way
 * libpam assembles a stack.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

#define PAM_FILE_MAX (1u << 20)
#define PAM_INCLUDE_DEPTH 8

static const char *const pam_types[] = {"auth", "account", "password", "session", NULL};

struct pam_argexp {
	char *name;
	struct vg_expect e;
};

struct pam_arg {
	char *service, *module;
	int type, present;
	yaml_node_t *args_node;
	struct vg_strv args_absent;
	struct pam_argexp *args;
	size_t nargs;
};

static const struct yp_field pam_fields[] = {
	{"service", YP_STR, offsetof(struct pam_arg, service), true, NULL},
	{"type", YP_ENUM, offsetof(struct pam_arg, type), true, pam_types},
	{"module", YP_STR, offsetof(struct pam_arg, module), true, NULL},
	{"present", YP_BOOL, offsetof(struct pam_arg, present), false, NULL},
	{"args", YP_NODE, offsetof(struct pam_arg, args_node), false, NULL},
	{"args_absent", YP_STRV, offsetof(struct pam_arg, args_absent), false, NULL},
	{0},
};

static void pam_init(void *p)
{
	((struct pam_arg *)p)->present = 1;
}

static int add_argexp(struct vg_yctx *y, const char *key, yaml_node_t *v, void *u,
		      struct vg_err *err)
{
	struct pam_arg *a = u;

	a->args = xrealloc(a->args, (a->nargs + 1) * sizeof(*a->args));
	memset(&a->args[a->nargs], 0, sizeof(*a->args));
	a->args[a->nargs].name = xstrdup(key);
	a->nargs++;
	return expect_parse(y, v, &a->args[a->nargs - 1].e, err);
}

static bool plain_name(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static int pam_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct pam_arg *a = p;

	if (!plain_name(a->service) || !plain_name(a->module))
		return vg_errf(err, "%s:%d: service and module are plain names "
			       "(common-auth, pam_faillock.so)", y->file, yline(map));
	if (a->present == 0 && (a->args_node || a->args_absent.n))
		return vg_errf(err, "%s:%d: a module that must be absent has no arguments to "
			       "check", y->file, yline(map));
	if (a->args_node && ymap_each(y, a->args_node, "pam args", add_argexp, a, err))
		return -1;
	a->args_node = NULL;	/* the document is gone after loading */
	return 0;
}

static void pam_fini(void *p)
{
	struct pam_arg *a = p;

	for (size_t i = 0; i < a->nargs; i++) {
		free(a->args[i].name);
		expect_free(&a->args[i].e);
	}
	free(a->args);
}

struct pam_find {
	const struct pam_arg *a;
	const struct vg_root *root;
	const char *type;	/* only lines of this type, inside an include */
	int depth;
	char *line, *where;	/* the first matching line */
	struct vg_ev *ev;
	bool error;
};

static int scan_service(struct pam_find *f, const char *service, const char *type);

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Splits "type control module args"; control may be "[a=b c=d]". */
static bool split(char *line, char **type, char **control, char **module, char **args)
{
	char *p = line + strspn(line, " \t");

	*type = p;
	p += strcspn(p, " \t");
	if (!*p)
		return false;
	*p++ = 0;
	p += strspn(p, " \t");
	*control = p;
	p = *p == '[' ? strchr(p, ']') : p + strcspn(p, " \t");
	if (!p || !*p)
		return false;
	if (*p == ']')
		p++;
	if (!*p)
		return false;
	*p++ = 0;
	p += strspn(p, " \t");
	*module = p;
	p += strcspn(p, " \t");
	if (*p)
		*p++ = 0;
	*args = str_trim(p);
	return **module != 0;
}

struct pam_scan {
	struct pam_find *f;
	const char *file, *type;
};

static int pam_line(void *u, char *raw, size_t lineno)
{
	struct pam_scan *s = u;
	struct pam_find *f = s->f;
	char *line = str_trim(raw), *type, *control, *module, *args;
	char *copy;

	if (!*line || *line == '#')
		return 0;
	if (!strncmp(line, "@include", 8)) {
		scan_service(f, str_trim(line + 8), s->type);
		return f->line != NULL;
	}
	copy = xstrdup(line);
	if (!split(copy, &type, &control, &module, &args)) {
		free(copy);
		return 0;
	}
	if (*type == '-')
		type++;
	if (s->type && strcmp(type, s->type)) {
		free(copy);
		return 0;
	}
	if (!strcmp(control, "include") || !strcmp(control, "substack")) {
		scan_service(f, module, type);
	} else if (!strcmp(type, pam_types[f->a->type]) && !strcmp(base(module), f->a->module)) {
		f->line = xstrdup(line);
		f->where = xasprintf("%s:%zu", s->file, lineno);
	}
	free(copy);
	return f->line != NULL;
}

static int scan_service(struct pam_find *f, const char *service, const char *type)
{
	char *path;
	struct pam_scan s = {.f = f, .type = type};

	if (!plain_name(service) || f->depth >= PAM_INCLUDE_DEPTH) {
		ev_add(f->ev, "PAM include of '%s' refused (not a plain name, or nested deeper "
		       "than %d)", service, PAM_INCLUDE_DEPTH);
		f->error = true;
		return -1;
	}
	path = xasprintf("/etc/pam.d/%s", service);
	s.file = path;
	f->depth++;
	if (root_lines(f->root, path, PAM_FILE_MAX, pam_line, &s) < 0) {
		ev_add(f->ev, "%s: %s", path, strerror(errno));
		f->error = errno != ENOENT;
	}
	f->depth--;
	free(path);
	return 0;
}

/* The value of argument name on a module line: "" for a bare flag, NULL
 * when it is not there. */
static char *arg_value(const char *args, const char *name)
{
	char *copy = xstrdup(args), *save = NULL, *val = NULL;
	size_t n = strlen(name);

	for (char *t = strtok_r(copy, " \t", &save); t && !val; t = strtok_r(NULL, " \t", &save))
		if (!strncmp(t, name, n) && (t[n] == 0 || t[n] == '='))
			val = xstrdup(t[n] ? t + n + 1 : "");
	free(copy);
	return val;
}

static enum vg_status judge_args(const struct pam_arg *a, const char *line, struct vg_ev *ev)
{
	char *copy = xstrdup(line), *type, *control, *module, *args;
	enum vg_status st = VG_PASSED;

	if (!split(copy, &type, &control, &module, &args))
		args = (char *)"";
	for (size_t i = 0; i < a->nargs; i++) {
		char *v = arg_value(args, a->args[i].name);
		enum vg_status s = expect_eval(&a->args[i].e, v, a->args[i].name, ev);
		free(v);
		if (s == VG_FAILED || (s == VG_ERROR && st == VG_PASSED))
			st = s;
	}
	for (size_t i = 0; i < a->args_absent.n; i++) {
		char *v = arg_value(args, a->args_absent.v[i]);
		if (v) {
			ev_add(ev, "%s is set", a->args_absent.v[i]);
			st = VG_FAILED;
		}
		free(v);
	}
	free(copy);
	return st;
}

static enum vg_status pam_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct pam_arg *a = p;
	struct pam_find f = {.a = a, .root = &ctx->root, .ev = ev};
	enum vg_status st;

	scan_service(&f, a->service, NULL);
	if (!f.line) {
		if (f.error)
			return VG_ERROR;
		ev_add(ev, "/etc/pam.d/%s: no %s line with %s", a->service, pam_types[a->type],
		       a->module);
		return a->present ? VG_FAILED : VG_PASSED;
	}
	ev_add(ev, "%s: %s", f.where, f.line);
	st = a->present ? judge_args(a, f.line, ev) : VG_FAILED;
	free(f.line);
	free(f.where);
	return st;
}

const struct vg_probe probe_pam = {
	.name = "pam",
	.argsize = sizeof(struct pam_arg),
	.fields = pam_fields,
	.init = pam_init,
	.check = pam_check,
	.eval = pam_eval,
	.fini = pam_fini,
};
