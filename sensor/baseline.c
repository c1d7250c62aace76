/*
 * baseline.c: loading a baseline file and what it includes.
 *
 * The loader is strict: an unknown key, rule type or severity, a bad
 * regex, a duplicate id or an include cycle is refused with file:line,
 * because a check that is silently skipped reads as "passed" in a report.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil.h"

struct loader {
	struct vg_baseline *b;
	struct vg_var *vars;		/* the outermost definition of a name wins */
	size_t nvars;
	char *stack[VG_MAX_INCLUDE_DEPTH + 2];	/* files being loaded, for cycles */
	int depth;
	bool allow_include;
	bool peek;		/* only id, name, version and platforms */
};

/* The parts of a baseline file, picked out before any is interpreted,
 * because vars must be known before any scalar is read. */
struct parts {
	yaml_node_t *id, *name, *version, *platforms, *include, *vars, *drop, *override,
		*checks;
};

static int load_doc(struct loader *L, const char *file, const char *buf, size_t len,
		    struct vg_err *err);

/* ---- rules ---- */

void rule_free(struct vg_rule *r)
{
	if (r->join == VG_LEAF && r->probe && r->arg) {
		yp_free(r->probe->fields, r->arg);
		if (r->probe->fini)
			r->probe->fini(r->arg);
		free(r->arg);
	}
	for (size_t i = 0; i < r->nkids; i++)
		rule_free(&r->kids[i]);
	free(r->kids);
	memset(r, 0, sizeof(*r));
}

static int join_of(const char *key)
{
	if (!strcmp(key, "all"))
		return VG_ALL;
	if (!strcmp(key, "any"))
		return VG_ANY;
	if (!strcmp(key, "none"))
		return VG_NONE;
	return -1;
}

static int parse_group(struct vg_yctx *y, yaml_node_t *seq, enum vg_join join, int depth,
		       struct vg_rule *out, struct vg_err *err);

static int parse_leaf(struct vg_yctx *y, const char *type, yaml_node_t *v, struct vg_rule *r,
		      struct vg_err *err)
{
	const struct vg_probe *p = probe_find(type);

	if (!p)
		return vg_errf(err, "%s:%d: unknown rule type '%s'", y->file, yline(v), type);
	r->join = VG_LEAF;
	r->probe = p;
	r->line = yline(v);
	r->arg = xcalloc(1, p->argsize);
	if (p->init)
		p->init(r->arg);
	if (yp_parse(y, v, p->fields, r->arg, type, err))
		return -1;
	if (p->check && p->check(r->arg, y, v, err))
		return -1;
	return 0;
}

static int parse_rule(struct vg_yctx *y, yaml_node_t *item, int depth, struct vg_rule *r,
		      struct vg_err *err)
{
	if (!item || item->type != YAML_MAPPING_NODE ||
	    item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
		return vg_errf(err, "%s:%d: a rule is a mapping with one key, its type (file, "
			       "conf, sysctl, ...) or all/any/none", y->file, yline(item));
	yaml_node_pair_t *p = item->data.mapping.pairs.start;
	yaml_node_t *k = ynode(y, p->key), *v = ynode(y, p->value);
	if (!k || k->type != YAML_SCALAR_NODE)
		return vg_errf(err, "%s:%d: a rule type must be a name", y->file, yline(item));
	const char *type = (const char *)k->data.scalar.value;
	int join = join_of(type);
	if (join >= 0)
		return parse_group(y, v, (enum vg_join)join, depth + 1, r, err);
	return parse_leaf(y, type, v, r, err);
}

static int parse_group(struct vg_yctx *y, yaml_node_t *seq, enum vg_join join, int depth,
		       struct vg_rule *out, struct vg_err *err)
{
	size_t n;

	rule_free(out);
	out->join = join;
	out->line = yline(seq);
	if (depth > VG_RULE_MAX_DEPTH)
		return vg_errf(err, "%s:%d: rule groups nested deeper than %d", y->file,
			       yline(seq), VG_RULE_MAX_DEPTH);
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return vg_errf(err, "%s:%d: a rule group must be a list of rules", y->file,
			       yline(seq));
	n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n == 0)
		return vg_errf(err, "%s:%d: an empty rule group decides nothing", y->file,
			       yline(seq));
	out->kids = xcalloc(n, sizeof(*out->kids));
	for (size_t i = 0; i < n; i++) {
		out->nkids++;
		if (parse_rule(y, ynode(y, seq->data.sequence.items.start[i]), depth,
			       &out->kids[i], err))
			return -1;
	}
	return 0;
}

/* ---- checks ---- */

static void check_free(struct vg_check *c)
{
	free(c->id);
	free(c->title);
	free(c->section);
	free(c->description);
	free(c->rationale);
	free(c->remediation);
	for (size_t i = 0; i < c->ncis; i++)
		free(c->cis[i].id);
	free(c->cis);
	strv_free(&c->nist);
	rule_free(&c->applies);
	rule_free(&c->rule);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

struct cis_raw {
	char *id;
	long long level;
};

static int parse_cis(struct vg_yctx *y, yaml_node_t *seq, struct vg_check *c, struct vg_err *err)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return vg_errf(err, "%s:%d: compliance.cis must be a list", y->file, yline(seq));
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *n = ynode(y, *i);
		struct cis_raw ref = {NULL, 0};
		static const struct yp_field f[] = {
			{"id", YP_STR, offsetof(struct cis_raw, id), true, NULL},
			{"level", YP_INT, offsetof(struct cis_raw, level), false, NULL},
			{0},
		};
		if (n && n->type == YAML_SCALAR_NODE) {
			if (!(ref.id = yscalar(y, n, "a CIS id", err)))
				return -1;
		} else if (yp_parse(y, n, f, &ref, "a CIS reference", err)) {
			free(ref.id);
			return -1;
		}
		if (ref.level < 0 || ref.level > 2) {
			free(ref.id);
			return vg_errf(err, "%s:%d: CIS level must be 1 or 2", y->file, yline(n));
		}
		c->cis = xrealloc(c->cis, (c->ncis + 1) * sizeof(*c->cis));
		c->cis[c->ncis++] = (struct vg_cisref){ref.id, (int)ref.level};
	}
	return 0;
}

static int compliance_key(struct vg_yctx *y, const char *key, yaml_node_t *v, void *u,
			  struct vg_err *err)
{
	struct vg_check *c = u;

	if (!strcmp(key, "cis"))
		return parse_cis(y, v, c, err);
	if (!strcmp(key, "nist_800_53")) {
		struct vg_strv sv = {0};
		yaml_node_t *seq = v;
		if (!seq || seq->type != YAML_SEQUENCE_NODE)
			return vg_errf(err, "%s:%d: nist_800_53 must be a list", y->file, yline(v));
		for (yaml_node_item_t *i = seq->data.sequence.items.start;
		     i < seq->data.sequence.items.top; i++) {
			char *s = yscalar(y, ynode(y, *i), "a NIST control", err);
			if (!s) {
				strv_free(&sv);
				return -1;
			}
			strv_push_owned(&sv, s);
		}
		strv_free(&c->nist);
		c->nist = sv;
		return 0;
	}
	return vg_errf(err, "%s:%d: unknown compliance framework '%s' (known: cis, nist_800_53)",
		       y->file, yline(v), key);
}

struct check_parse {
	struct vg_check *c;
	int njoins;
};

static int set_text(struct vg_yctx *y, yaml_node_t *v, const char *key, char **slot,
		    struct vg_err *err)
{
	char *s = yscalar(y, v, key, err);

	if (!s)
		return -1;
	free(*slot);
	*slot = s;
	return 0;
}

static int check_key(struct vg_yctx *y, const char *key, yaml_node_t *v, void *u,
		     struct vg_err *err)
{
	struct check_parse *cp = u;
	struct vg_check *c = cp->c;
	int join = join_of(key), sev;
	char *s;

	if (join >= 0) {
		cp->njoins++;
		return parse_group(y, v, (enum vg_join)join, 1, &c->rule, err);
	}
	if (!strcmp(key, "id")) {
		if (set_text(y, v, key, &c->id, err))
			return -1;
		if (!valid_id(c->id))
			return vg_errf(err, "%s:%d: check id '%s' must be 1-128 of "
				       "[A-Za-z0-9._-]", y->file, yline(v), c->id);
		return 0;
	}
	if (!strcmp(key, "title"))
		return set_text(y, v, key, &c->title, err);
	if (!strcmp(key, "section"))
		return set_text(y, v, key, &c->section, err);
	if (!strcmp(key, "description"))
		return set_text(y, v, key, &c->description, err);
	if (!strcmp(key, "rationale"))
		return set_text(y, v, key, &c->rationale, err);
	if (!strcmp(key, "remediation"))
		return set_text(y, v, key, &c->remediation, err);
	if (!strcmp(key, "severity")) {
		if (!(s = yscalar(y, v, key, err)))
			return -1;
		sev = severity_parse(s);
		free(s);
		if (sev < 0)
			return vg_errf(err, "%s:%d: severity must be low, medium, high or "
				       "critical", y->file, yline(v));
		c->severity = (enum vg_severity)sev;
		return 0;
	}
	if (!strcmp(key, "compliance")) {
		for (size_t i = 0; i < c->ncis; i++)
			free(c->cis[i].id);
		free(c->cis);
		c->cis = NULL;
		c->ncis = 0;
		return ymap_each(y, v, "compliance", compliance_key, c, err);
	}
	if (!strcmp(key, "applies_when"))
		return parse_group(y, v, VG_ALL, 1, &c->applies, err);
	return vg_errf(err, "%s:%d: unknown key '%s' in a check", y->file, yline(v), key);
}

/* partial: an override, which replaces only the fields it names. */
static int parse_check(struct vg_yctx *y, yaml_node_t *n, struct vg_check *c, bool partial,
		       struct vg_err *err)
{
	struct check_parse cp = {.c = c};

	if (!partial) {
		c->severity = VG_SEV_MEDIUM;
		c->file = xstrdup(y->file);
		c->line = yline(n);
	}
	if (ymap_each(y, n, "a check", check_key, &cp, err))
		return -1;
	if (cp.njoins > 1)
		return vg_errf(err, "%s:%d: check %s has more than one of all/any/none", y->file,
			       yline(n), c->id ? c->id : "?");
	if (partial)
		return 0;
	if (!c->id)
		return vg_errf(err, "%s:%d: a check needs an id", y->file, yline(n));
	if (!c->title)
		return vg_errf(err, "%s:%d: check %s needs a title", y->file, yline(n), c->id);
	if (cp.njoins == 0)
		return vg_errf(err, "%s:%d: check %s has no rules (all, any or none)", y->file,
			       yline(n), c->id);
	if (!c->section)
		c->section = xstrdup("General");
	return 0;
}

static ssize_t find_check(const struct vg_baseline *b, const char *id)
{
	for (size_t i = 0; i < b->nchecks; i++)
		if (!strcmp(b->checks[i].id, id))
			return (ssize_t)i;
	return -1;
}

const struct vg_check *baseline_find(const struct vg_baseline *b, const char *id)
{
	ssize_t i = find_check(b, id);
	return i < 0 ? NULL : &b->checks[i];
}

static int add_checks(struct vg_yctx *y, struct vg_baseline *b, yaml_node_t *seq,
		      struct vg_err *err)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return vg_errf(err, "%s:%d: checks must be a list", y->file, yline(seq));
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *n = ynode(y, *i);
		if (b->nchecks >= VG_MAX_CHECKS)
			return vg_errf(err, "%s:%d: more than %d checks", y->file, yline(n),
				       VG_MAX_CHECKS);
		/* Doubling: at a power of two the array is full (or larger). */
		if ((b->nchecks & (b->nchecks - 1)) == 0)
			b->checks = xrealloc(b->checks,
					     (b->nchecks ? 2 * b->nchecks : 8) * sizeof(*b->checks));
		struct vg_check *c = &b->checks[b->nchecks++];
		memset(c, 0, sizeof(*c));
		if (parse_check(y, n, c, false, err))
			return -1;
		if (find_check(b, c->id) != (ssize_t)(b->nchecks - 1))
			return vg_errf(err, "%s:%d: duplicate check id '%s'", y->file, yline(n),
				       c->id);
	}
	return 0;
}

static int drop_checks(struct vg_yctx *y, struct vg_baseline *b, yaml_node_t *seq,
		       struct vg_err *err)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return vg_errf(err, "%s:%d: drop must be a list of check ids", y->file, yline(seq));
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *n = ynode(y, *i);
		char *id = yscalar(y, n, "a check id", err);
		if (!id)
			return -1;
		ssize_t at = find_check(b, id);
		if (at < 0) {
			vg_errf(err, "%s:%d: drop names unknown check '%s'", y->file, yline(n), id);
			free(id);
			return -1;
		}
		free(id);
		check_free(&b->checks[at]);
		memmove(&b->checks[at], &b->checks[at + 1],
			(b->nchecks - (size_t)at - 1) * sizeof(*b->checks));
		b->nchecks--;
	}
	return 0;
}

static int override_checks(struct vg_yctx *y, struct vg_baseline *b, yaml_node_t *seq,
			   struct vg_err *err)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return vg_errf(err, "%s:%d: override must be a list", y->file, yline(seq));
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *n = ynode(y, *i);
		struct vg_check probe = {0};
		struct check_parse cp = {.c = &probe};
		yaml_node_t *idn = NULL;

		if (!n || n->type != YAML_MAPPING_NODE)
			return vg_errf(err, "%s:%d: an override is a mapping with an id", y->file,
				       yline(n));
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = ynode(y, p->key);
			if (k && k->type == YAML_SCALAR_NODE &&
			    !strcmp((char *)k->data.scalar.value, "id"))
				idn = ynode(y, p->value);
		}
		if (!idn || check_key(y, "id", idn, &cp, err)) {
			check_free(&probe);
			return idn ? -1 : vg_errf(err, "%s:%d: an override needs an id", y->file,
						  yline(n));
		}
		ssize_t at = find_check(b, probe.id);
		if (at < 0) {
			vg_errf(err, "%s:%d: override names unknown check '%s'", y->file, yline(n),
				probe.id);
			check_free(&probe);
			return -1;
		}
		check_free(&probe);
		if (parse_check(y, n, &b->checks[at], true, err))
			return -1;
	}
	return 0;
}

/* ---- the file ---- */

static int add_vars(struct loader *L, struct vg_yctx *y, const char *key, yaml_node_t *v,
		    struct vg_err *err)
{
	char *val;

	for (size_t i = 0; i < L->nvars; i++)
		if (!strcmp(L->vars[i].name, key))
			return 0;	/* defined by an including file: that one wins */
	if (!v || v->type != YAML_SCALAR_NODE)
		return vg_errf(err, "%s:%d: variable '%s' must be a single value", y->file,
			       yline(v), key);
	if (!valid_id(key))
		return vg_errf(err, "%s:%d: bad variable name '%s'", y->file, yline(v), key);
	val = xstrndup((const char *)v->data.scalar.value, v->data.scalar.length);
	L->vars = xrealloc(L->vars, (L->nvars + 1) * sizeof(*L->vars));
	L->vars[L->nvars++] = (struct vg_var){xstrdup(key), val};
	return 0;
}

static int var_key(struct vg_yctx *y, const char *key, yaml_node_t *v, void *u, struct vg_err *err)
{
	return add_vars(u, y, key, v, err);
}

static int part_key(struct vg_yctx *y, const char *key, yaml_node_t *v, void *u,
		    struct vg_err *err)
{
	struct parts *p = u;
	static const char *const names[] = {"id", "name", "version", "platforms", "include",
					     "vars", "drop", "override", "checks", NULL};
	yaml_node_t **slots[] = {&p->id, &p->name, &p->version, &p->platforms, &p->include,
				 &p->vars, &p->drop, &p->override, &p->checks};

	for (int i = 0; names[i]; i++)
		if (!strcmp(key, names[i])) {
			*slots[i] = v;
			return 0;
		}
	return vg_errf(err, "%s:%d: unknown key '%s' at the top of a baseline", y->file, yline(v),
		       key);
}

static int parse_platforms(struct vg_yctx *y, struct vg_baseline *b, yaml_node_t *seq,
			   struct vg_err *err)
{
	static const struct yp_field f[] = {
		{"id", YP_STR, offsetof(struct vg_platform, id), true, NULL},
		{"versions", YP_STRV, offsetof(struct vg_platform, versions), false, NULL},
		{0},
	};

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return vg_errf(err, "%s:%d: platforms must be a list", y->file, yline(seq));
	for (size_t i = 0; i < b->nplat; i++) {
		yp_free(f, &b->plat[i]);
	}
	free(b->plat);
	b->plat = NULL;
	b->nplat = 0;
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		b->plat = xrealloc(b->plat, (b->nplat + 1) * sizeof(*b->plat));
		memset(&b->plat[b->nplat], 0, sizeof(*b->plat));
		b->nplat++;
		if (yp_parse(y, ynode(y, *i), f, &b->plat[b->nplat - 1], "a platform", err))
			return -1;
	}
	return 0;
}

static int resolve_include(struct loader *L, struct vg_yctx *y, yaml_node_t *n, char **path,
			   struct vg_err *err)
{
	char *name = yscalar(y, n, "an include", err), *dir, *copy;

	if (!name)
		return -1;
	if (name[0] == '/') {
		*path = name;
		return 0;
	}
	copy = xstrdup(L->stack[L->depth - 1]);
	dir = dirname(copy);
	*path = strchr(name, '/') || strstr(name, ".yaml") ? xasprintf("%s/%s", dir, name)
							   : xasprintf("%s/%s.yaml", dir, name);
	free(copy);
	free(name);
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len, struct vg_err *err)
{
	struct vg_root r;

	/* Baselines are read from the sensor's own file system; root_read gives
	 * the size limit and refuses FIFOs and devices. */
	if (root_init(&r, "/", err))
		return -1;
	char *abs = path[0] == '/' ? xstrdup(path) : NULL;
	if (!abs) {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd))) {
			root_fini(&r);
			return vg_errf(err, "%s: %s", path, strerror(errno));
		}
		abs = xasprintf("%s/%s", cwd, path);
	}
	int rc = root_read(&r, abs, VG_YAML_MAX_BYTES, buf, len);
	int saved = errno;
	free(abs);
	root_fini(&r);
	if (rc < 0)
		return vg_errf(err, "%s: %s", path,
			       saved == EFBIG ? "larger than the 4 MiB a baseline may be"
			       : saved == EINVAL ? "not a regular file"
					      : strerror(saved));
	return 0;
}

static int load_include(struct loader *L, struct vg_yctx *y, yaml_node_t *n, struct vg_err *err)
{
	char *path, *real, *buf;
	size_t len;
	int rc;

	if (resolve_include(L, y, n, &path, err))
		return -1;
	real = realpath(path, NULL);
	if (!real) {
		vg_errf(err, "%s:%d: include %s: %s", y->file, yline(n), path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	for (int i = 0; i < L->depth; i++)
		if (!strcmp(L->stack[i], real)) {
			vg_errf(err, "%s:%d: include cycle: %s includes itself", y->file, yline(n),
				real);
			free(real);
			return -1;
		}
	if (L->depth > VG_MAX_INCLUDE_DEPTH) {
		vg_errf(err, "%s:%d: includes nested deeper than %d", y->file, yline(n),
			VG_MAX_INCLUDE_DEPTH);
		free(real);
		return -1;
	}
	if (read_file(real, &buf, &len, err)) {
		free(real);
		return -1;
	}
	L->stack[L->depth++] = real;
	rc = load_doc(L, real, buf, len, err);
	L->depth--;
	free(real);
	free(buf);
	return rc;
}

static int load_parts(struct loader *L, struct vg_yctx *y, struct parts *p, struct vg_err *err)
{
	struct vg_baseline *b = L->b;
	bool outer = L->depth <= 1;

	if (!p->id || !p->name || !p->version)
		return vg_errf(err, "%s:%d: a baseline needs id, name and version", y->file,
			       yline(ydoc_root(y)));
	if (p->vars && ymap_each(y, p->vars, "vars", var_key, L, err))
		return -1;
	y->vars = L->vars;
	y->nvars = L->nvars;
	if (L->peek) {
		if (set_text(y, p->id, "id", &b->id, err) ||
		    set_text(y, p->name, "name", &b->name, err) ||
		    set_text(y, p->version, "version", &b->version, err))
			return -1;
		return p->platforms ? parse_platforms(y, b, p->platforms, err) : 0;
	}
	if (p->include) {
		if (!L->allow_include)
			return vg_errf(err, "%s:%d: include is not allowed here", y->file,
				       yline(p->include));
		if (p->include->type != YAML_SEQUENCE_NODE)
			return vg_errf(err, "%s:%d: include must be a list", y->file,
				       yline(p->include));
		for (yaml_node_item_t *i = p->include->data.sequence.items.start;
		     i < p->include->data.sequence.items.top; i++)
			if (load_include(L, y, ynode(y, *i), err))
				return -1;
		y->vars = L->vars;	/* includes may have grown the table */
		y->nvars = L->nvars;
	} else if (p->drop || p->override) {
		return vg_errf(err, "%s:%d: drop and override need an include", y->file,
			       yline(p->drop ? p->drop : p->override));
	}
	if (outer) {
		if (set_text(y, p->id, "id", &b->id, err) ||
		    set_text(y, p->name, "name", &b->name, err) ||
		    set_text(y, p->version, "version", &b->version, err))
			return -1;
		if (!valid_id(b->id))
			return vg_errf(err, "%s:%d: baseline id '%s' must be [A-Za-z0-9._-]",
				       y->file, yline(p->id), b->id);
	}
	if (p->platforms && (outer || !b->nplat) && parse_platforms(y, b, p->platforms, err))
		return -1;
	if (p->drop && drop_checks(y, b, p->drop, err))
		return -1;
	if (p->override && override_checks(y, b, p->override, err))
		return -1;
	if (p->checks && add_checks(y, b, p->checks, err))
		return -1;
	return 0;
}

static int load_doc(struct loader *L, const char *file, const char *buf, size_t len,
		    struct vg_err *err)
{
	struct vg_yctx y = {0};
	struct parts p = {0};
	int rc;

	if (ydoc_load(&y, file, buf, len, err))
		return -1;
	rc = ymap_each(&y, ydoc_root(&y), "a baseline", part_key, &p, err);
	if (rc == 0)
		rc = load_parts(L, &y, &p, err);
	ydoc_free(&y);
	return rc;
}

static void loader_fini(struct loader *L)
{
	for (size_t i = 0; i < L->nvars; i++) {
		free(L->vars[i].name);
		free(L->vars[i].value);
	}
	free(L->vars);
}

static int finish(struct loader *L, int rc, struct vg_err *err)
{
	loader_fini(L);
	if (rc == 0 && L->b->nchecks == 0 && !L->peek)
		rc = vg_errf(err, "%s: the baseline has no checks", L->b->file);
	if (rc)
		baseline_free(L->b);
	return rc;
}

static int load_path(struct vg_baseline *b, const char *path, bool peek, struct vg_err *err)
{
	struct loader L = {.b = b, .allow_include = true, .peek = peek};
	char *buf, *real;
	size_t len;
	int rc;

	memset(b, 0, sizeof(*b));
	if (!(real = realpath(path, NULL)))
		return vg_errf(err, "%s: %s", path, strerror(errno));
	b->file = real;
	if (read_file(real, &buf, &len, err)) {
		baseline_free(b);
		return -1;
	}
	L.stack[L.depth++] = real;
	/* Picking a baseline needs its header only; the checks can be large.
	 * A file that names its platforms after its checks is read whole. */
	size_t head = peek ? ydoc_head(buf, len, "checks") : len;
	rc = load_doc(&L, path, buf, head, err);
	if (rc == 0 && peek && !b->nplat && head < len)
		rc = load_doc(&L, path, buf, len, err);
	free(buf);
	return finish(&L, rc, err);
}

int baseline_load(struct vg_baseline *b, const char *path, struct vg_err *err)
{
	return load_path(b, path, false, err);
}

int baseline_peek(struct vg_baseline *b, const char *path, struct vg_err *err)
{
	return load_path(b, path, true, err);
}

int baseline_load_mem(struct vg_baseline *b, const char *name, const char *buf, size_t len,
		      struct vg_err *err)
{
	struct loader L = {.b = b, .allow_include = false};

	memset(b, 0, sizeof(*b));
	b->file = xstrdup(name);
	L.stack[L.depth++] = b->file;
	return finish(&L, load_doc(&L, name, buf, len, err), err);
}

void baseline_free(struct vg_baseline *b)
{
	for (size_t i = 0; i < b->nchecks; i++)
		check_free(&b->checks[i]);
	free(b->checks);
	for (size_t i = 0; i < b->nplat; i++) {
		free(b->plat[i].id);
		strv_free(&b->plat[i].versions);
	}
	free(b->plat);
	free(b->id);
	free(b->name);
	free(b->version);
	free(b->file);
	memset(b, 0, sizeof(*b));
}
