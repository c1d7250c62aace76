/* fimtest.h: a fixture image, a path set over its /data, and one-call runs. */
#ifndef VIGIL_FIMTEST_H
#define VIGIL_FIMTEST_H

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fim_impl.h"
#include "testutil.h"

struct fx {
	char *root;			/* the image, checked with --root */
	char state[PATH_MAX];		/* the baselines, outside the watched set */
	struct vg_fim_config cfg;
	struct fim_summary sum;
	char *out;			/* the last run's report */
	struct fim_opts o;
};

/* One set "data" over /data with attrs; more sets with fx_add_set. */
static inline void fx_init(struct fx *f, unsigned attrs)
{
	struct vg_fim_set *s;

	memset(f, 0, sizeof(*f));
	f->root = tu_mkroot();
	snprintf(f->state, sizeof(f->state), "%s/state", f->root);
	tu_mkdir(f->root, "/data", 0755);
	f->cfg.sets = xcalloc(8, sizeof(*f->cfg.sets));
	s = &f->cfg.sets[f->cfg.nsets++];
	s->name = xstrdup("data");
	s->attrs = attrs;
	strv_push(&s->paths, "/data");
	f->cfg.hash_threads = 2;
}

static inline struct vg_fim_set *fx_add_set(struct fx *f, const char *name, const char *path,
					    unsigned attrs)
{
	struct vg_fim_set *s = &f->cfg.sets[f->cfg.nsets++];

	s->name = xstrdup(name);
	s->attrs = attrs;
	strv_push(&s->paths, path);
	return s;
}

static inline void fx_free(struct fx *f)
{
	free(f->out);
	fim_config_free(&f->cfg);
	tu_rmroot(f->root);
}

/* Runs op; returns fim_run's result, keeps the text report in f->out. */
static inline int fx_run_opts(struct fx *f, enum fim_op op, bool full, bool json)
{
	struct vg_err err = {{0}};
	size_t len = 0;
	FILE *mem;
	int rc;

	free(f->out);
	f->out = NULL;
	mem = open_memstream(&f->out, &len);
	f->o.op = op;
	f->o.root = f->root;
	f->o.state_dir = f->state;
	f->o.full = full;
	f->o.json = json;
	f->o.out = mem;
	rc = fim_run(&f->cfg, &f->o, &f->sum, &err);
	fclose(mem);
	if (rc < 0)
		fail_msg("fim run failed: %s", err.msg);
	return rc;
}

static inline int fx_run(struct fx *f, enum fim_op op, bool full)
{
	return fx_run_opts(f, op, full, false);
}

static inline char *fx_path(const struct fx *f, const char *path)
{
	return xasprintf("%s%s", f->root, path);
}

/* Whether the last text report says path changed in attr ("mode", ...). */
static inline bool fx_changed(const struct fx *f, const char *path, const char *attr)
{
	char *head = xasprintf("changed    %s [", path);
	const char *p = f->out ? strstr(f->out, head) : NULL;
	bool found = false;

	free(head);
	if (!p)
		return false;
	p = strchr(p, '\n');
	while (p && !strncmp(p + 1, "           ", 11)) {
		const char *name = p + 12;
		size_t n = strcspn(name, " ");
		if (n == strlen(attr) && !strncmp(name, attr, n)) {
			found = true;
			break;
		}
		p = strchr(p + 1, '\n');
	}
	return found;
}

/* Whether the last report has a line "KIND PATH". */
static inline bool fx_has(const struct fx *f, const char *kind, const char *path)
{
	char *line = xasprintf("%-10s %s ", kind, path);
	bool yes = f->out && strstr(f->out, line);

	free(line);
	return yes;
}

#define assert_changed(f, path, attr)                                                  \
	do {                                                                           \
		if (!fx_changed((f), (path), (attr)))                                  \
			fail_msg("%s: no change of %s in:\n%s", (path), (attr),        \
				 (f)->out ? (f)->out : "");                            \
	} while (0)
#define assert_unchanged(f, path, attr)                                                \
	do {                                                                           \
		if (fx_changed((f), (path), (attr)))                                   \
			fail_msg("%s: unexpected change of %s in:\n%s", (path), (attr), \
				 (f)->out);                                            \
	} while (0)
#define assert_has(f, kind, path)                                                      \
	do {                                                                           \
		if (!fx_has((f), (kind), (path)))                                      \
			fail_msg("no '%s %s' in:\n%s", (kind), (path),                 \
				 (f)->out ? (f)->out : "");                            \
	} while (0)

#endif
