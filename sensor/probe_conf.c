/*
 * probe_conf.c: the `conf` rule: a key in a configuration file, read the
 * way the program that owns the file reads it.
 *
 *   sshd        first value wins; Include followed in place; a Match block
 *               holds settings that apply to some connections only, so its
 *               values are judged too but never count as the global one
 *   login_defs  last value wins (shadow's getdef.c replaces on each line)
 *   kv, kv_eq   "key value" / "key = value", wins as configured
 *   ini         [Section] Key=Value over files in order (systemd drop-ins)
 */
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil.h"

#define CONF_FILE_MAX (4u << 20)
#define SSHD_INCLUDE_DEPTH 16

enum { F_SSHD, F_LOGIN_DEFS, F_KV, F_KV_EQ, F_INI };
static const char *const formats[] = {"sshd", "login_defs", "kv", "kv_eq", "ini", NULL};
static const char *const wins_names[] = {"first", "last", NULL};
enum { WINS_FIRST, WINS_LAST };

struct conf_arg {
	struct vg_strv path;
	char *key, *section;
	int format, wins;
	struct vg_expect expect;
};

static const struct yp_field conf_fields[] = {
	{"path", YP_STRV, offsetof(struct conf_arg, path), false, NULL},
	{"format", YP_ENUM, offsetof(struct conf_arg, format), true, formats},
	{"key", YP_STR, offsetof(struct conf_arg, key), true, NULL},
	{"section", YP_STR, offsetof(struct conf_arg, section), false, NULL},
	{"wins", YP_ENUM, offsetof(struct conf_arg, wins), false, wins_names},
	{"expect", YP_EXPECT, offsetof(struct conf_arg, expect), true, NULL},
	{0},
};

static void conf_init(void *p)
{
	struct conf_arg *a = p;

	a->format = a->wins = -1;
}

static int conf_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct conf_arg *a = p;

	if (!a->path.n) {
		if (a->format == F_SSHD)
			strv_push(&a->path, "/etc/ssh/sshd_config");
		else if (a->format == F_LOGIN_DEFS)
			strv_push(&a->path, "/etc/login.defs");
		else
			return vg_errf(err, "%s:%d: conf format %s needs a path", y->file,
				       yline(map), formats[a->format]);
	}
	for (size_t i = 0; i < a->path.n; i++)
		if (a->path.v[i][0] != '/')
			return vg_errf(err, "%s:%d: path '%s' must be absolute", y->file,
				       yline(map), a->path.v[i]);
	if ((a->format == F_INI) != (a->section != NULL))
		return vg_errf(err, "%s:%d: section goes with format ini, and ini needs one",
			       y->file, yline(map));
	if (a->wins >= 0 && a->format != F_KV && a->format != F_KV_EQ)
		return vg_errf(err, "%s:%d: wins is fixed by format %s", y->file, yline(map),
			       formats[a->format]);
	if (a->wins < 0)
		a->wins = a->format == F_SSHD ? WINS_FIRST : WINS_LAST;
	if (a->format == F_SSHD)
		expect_icase(&a->expect);
	return 0;
}

/* One assignment of the key, where it was made, and under which Match. */
struct hit {
	char *val, *where, *match;
};

struct reader {
	const struct conf_arg *a;
	struct vg_ctx *ctx;
	struct hit *hits;
	size_t nhits;
	const char *file;
	char *match;		/* current sshd Match criteria, NULL when global */
	char *section;		/* current ini section */
	int depth;
	bool error;
	struct vg_ev *ev;
};

static void add_hit(struct reader *r, const char *val, size_t lineno)
{
	r->hits = xrealloc(r->hits, (r->nhits + 1) * sizeof(*r->hits));
	r->hits[r->nhits++] = (struct hit){
		xstrdup(val), xasprintf("%s:%zu", r->file, lineno),
		r->match ? xstrdup(r->match) : NULL,
	};
}

static int read_file(struct reader *r, const char *path);

/* sshd: "Keyword arguments" or "Keyword=arguments". */
static void split_sshd(char *line, char **key, char **val)
{
	size_t n = strcspn(line, " \t=");

	*key = line;
	*val = line + n;
	if (**val) {
		*(*val)++ = 0;
		*val += strspn(*val, " \t=");
	}
	*val = str_trim(*val);
}

static void sshd_include(struct reader *r, char *args)
{
	char *save = NULL;

	for (char *g = strtok_r(args, " \t", &save); g; g = strtok_r(NULL, " \t", &save)) {
		struct vg_strv files = {0};
		char *pat = g[0] == '/' ? xstrdup(g) : xasprintf("/etc/ssh/%s", g);
		root_glob(&r->ctx->root, pat, &files);
		free(pat);
		for (size_t i = 0; i < files.n; i++) {
			/* A Match opened in an included file ends with that file. */
			char *saved = r->match ? xstrdup(r->match) : NULL;
			read_file(r, files.v[i]);
			free(r->match);
			r->match = saved;
		}
		strv_free(&files);
	}
}

static int sshd_line(struct reader *r, char *line, size_t lineno)
{
	char *key, *val;

	split_sshd(line, &key, &val);
	if (!strcasecmp(key, "Include")) {
		if (r->depth >= SSHD_INCLUDE_DEPTH) {
			ev_add(r->ev, "%s:%zu: Include nested deeper than %d", r->file, lineno,
			       SSHD_INCLUDE_DEPTH);
			r->error = true;
			return 0;
		}
		const char *file = r->file;
		r->depth++;
		sshd_include(r, val);
		r->depth--;
		r->file = file;
		return 0;
	}
	if (!strcasecmp(key, "Match")) {
		free(r->match);
		/* "Match all" ends a conditional block: what follows is global. */
		r->match = strcasecmp(val, "all") ? xasprintf("Match %s", val) : NULL;
		return 0;
	}
	if (!strcasecmp(key, r->a->key))
		add_hit(r, val, lineno);
	return 0;
}

static int ini_line(struct reader *r, char *line, size_t lineno)
{
	size_t n = strlen(line);
	char *eq;

	if (line[0] == '[' && line[n - 1] == ']') {
		free(r->section);
		r->section = xstrndup(line + 1, n - 2);
		return 0;
	}
	eq = strchr(line, '=');
	if (!eq || !r->section || strcmp(r->section, r->a->section))
		return 0;
	*eq = 0;
	if (!strcmp(str_trim(line), r->a->key))
		add_hit(r, str_trim(eq + 1), lineno);
	return 0;
}

static int kv_line(struct reader *r, char *line, size_t lineno)
{
	bool eq = r->a->format == F_KV_EQ;
	size_t n = strcspn(line, eq ? "=" : " \t");
	char *val;

	if (eq && !line[n])
		return 0;
	val = line + n;
	if (*val)
		*val++ = 0;
	if (!strcmp(str_trim(line), r->a->key))
		add_hit(r, str_trim(val), lineno);
	return 0;
}

static int one_line(void *u, char *raw, size_t lineno)
{
	struct reader *r = u;
	char *line = str_trim(raw);

	if (!*line || line[0] == '#' || (r->a->format == F_INI && line[0] == ';'))
		return 0;
	switch (r->a->format) {
	case F_SSHD: return sshd_line(r, line, lineno);
	case F_INI: return ini_line(r, line, lineno);
	default: return kv_line(r, line, lineno);
	}
}

static int read_file(struct reader *r, const char *path)
{
	const char *prev = r->file;

	r->file = path;
	if (root_lines(&r->ctx->root, path, CONF_FILE_MAX, one_line, r) < 0 && errno != ENOENT) {
		ev_add(r->ev, "%s: %s", path, strerror(errno));
		r->error = true;
	}
	r->file = prev;
	return 0;
}

/* The value in force outside any Match block, by the format's rule. */
static const struct hit *global_hit(const struct reader *r)
{
	const struct hit *h = NULL;

	for (size_t i = 0; i < r->nhits; i++) {
		if (r->hits[i].match)
			continue;
		h = &r->hits[i];
		if (r->a->wins == WINS_FIRST)
			break;
	}
	return h;
}

/* A Match block that sets a failing value weakens the host for the
 * connections it matches, so it fails the check as well. */
static bool match_blocks_ok(const struct reader *r, struct vg_ev *ev)
{
	bool ok = true;

	for (size_t i = 0; i < r->nhits; i++) {
		struct vg_ev mev = {0};
		const struct hit *h = &r->hits[i];
		bool first = true;

		if (!h->match)
			continue;
		/* Only the first value of each Match block is in force there. */
		for (size_t j = 0; j < i; j++)
			if (r->hits[j].match && !strcmp(r->hits[j].match, h->match))
				first = false;
		if (!first)
			continue;
		if (expect_eval(&r->a->expect, h->val, r->a->key, &mev) == VG_FAILED) {
			ev_add(ev, "%s: in \"%s\": %s", h->where, h->match, mev.item[0]);
			ok = false;
		}
		ev_free(&mev);
	}
	return ok;
}

static enum vg_status conf_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct conf_arg *a = p;
	struct reader r = {.a = a, .ctx = ctx, .ev = ev};
	struct vg_strv files = {0};
	enum vg_status st;
	const struct hit *h;

	for (size_t i = 0; i < a->path.n; i++)
		root_glob(&ctx->root, a->path.v[i], &files);
	for (size_t i = 0; i < files.n; i++)
		read_file(&r, files.v[i]);
	if (!files.n)
		ev_add(ev, "%s: not found", a->path.v[0]);
	h = global_hit(&r);
	if (r.error && !h) {
		st = VG_ERROR;
	} else {
		char *what = h ? xasprintf("%s: %s", h->where, a->key) : xstrdup(a->key);
		st = expect_eval(&a->expect, h ? h->val : NULL, what, ev);
		free(what);
		if (a->format == F_SSHD && !match_blocks_ok(&r, ev))
			st = VG_FAILED;
	}
	for (size_t i = 0; i < r.nhits; i++) {
		free(r.hits[i].val);
		free(r.hits[i].where);
		free(r.hits[i].match);
	}
	free(r.hits);
	free(r.match);
	free(r.section);
	strv_free(&files);
	return st;
}

const struct vg_probe probe_conf = {
	.name = "conf",
	.argsize = sizeof(struct conf_arg),
	.fields = conf_fields,
	.init = conf_init,
	.check = conf_check,
	.eval = conf_eval,
};
