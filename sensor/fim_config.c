/*
 * fim_config.c: the `fim:` section of vigil.yaml, and the default sets.
 *
 *   fim:
 *     state_dir: /var/lib/vigil      # where the baselines live
 *     hash_threads: 0                # 0: one per core
 *     sets:
 *       - name: system
 *         paths: [/etc, /usr/bin]     # absolute; globs allowed
 *         exclude: [/etc/adjtime, "*.swp"]
 *         attributes: [all, -device]  # the default is all
 *
 * An exclusion that contains a '/' is matched against the whole path, one
 * without against the entry's name; '*' also matches '/', so "/var/cache/" + "*"
 * leaves out a whole subtree. An excluded directory is not descended into.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fim.h"
#include "vigil.h"

#define FIM_MAX_SETS 64
#define FIM_MAX_PATHS 256		/* per set, and exclusions per set */
#define FIM_MAX_THREADS 64

struct fim_raw {
	char *state_dir;
	long long hash_threads;
	yaml_node_t *sets;
};

static const struct yp_field fim_fields[] = {
	{"state_dir", YP_STR, offsetof(struct fim_raw, state_dir), false, NULL},
	{"hash_threads", YP_INT, offsetof(struct fim_raw, hash_threads), false, NULL},
	{"sets", YP_NODE, offsetof(struct fim_raw, sets), false, NULL},
	{0},
};

struct set_raw {
	char *name;
	struct vg_strv paths, exclude, attributes;
};

static const struct yp_field set_fields[] = {
	{"name", YP_STR, offsetof(struct set_raw, name), false, NULL},
	{"paths", YP_STRV, offsetof(struct set_raw, paths), true, NULL},
	{"exclude", YP_STRV, offsetof(struct set_raw, exclude), false, NULL},
	{"attributes", YP_STRV, offsetof(struct set_raw, attributes), false, NULL},
	{0},
};

static void set_free(struct vg_fim_set *s)
{
	free(s->name);
	strv_free(&s->paths);
	strv_free(&s->exclude);
	memset(s, 0, sizeof(*s));
}

void fim_config_free(struct vg_fim_config *fc)
{
	for (size_t i = 0; i < fc->nsets; i++)
		set_free(&fc->sets[i]);
	free(fc->sets);
	free(fc->state_dir);
	memset(fc, 0, sizeof(*fc));
}

/* The value node of key in map, for the line of a message. */
static yaml_node_t *map_value(struct vg_yctx *y, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = ynode(y, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return ynode(y, p->value);
	}
	return map;
}

static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == 0))
			return true;
	return false;
}

static int check_paths(struct vg_yctx *y, yaml_node_t *map, const struct vg_strv *paths,
		       struct vg_err *err)
{
	int line = yline(map_value(y, map, "paths"));

	if (paths->n == 0 || paths->n > FIM_MAX_PATHS)
		return vg_errf(err, "%s:%d: a set needs 1..%d paths", y->file, line,
			       FIM_MAX_PATHS);
	for (size_t i = 0; i < paths->n; i++) {
		const char *p = paths->v[i];
		if (p[0] != '/' || strlen(p) >= PATH_MAX || has_dotdot(p))
			return vg_errf(err, "%s:%d: path '%s' must be absolute, without '..'",
				       y->file, line, p);
	}
	return 0;
}

static int check_excludes(struct vg_yctx *y, yaml_node_t *map, const struct vg_strv *ex,
			  struct vg_err *err)
{
	int line = yline(map_value(y, map, "exclude"));

	if (ex->n > FIM_MAX_PATHS)
		return vg_errf(err, "%s:%d: more than %d exclusions", y->file, line,
			       FIM_MAX_PATHS);
	for (size_t i = 0; i < ex->n; i++)
		if (!ex->v[i][0] || strlen(ex->v[i]) >= PATH_MAX)
			return vg_errf(err, "%s:%d: an empty or overlong exclusion", y->file,
				       line);
	return 0;
}

/* [a, b, -c]: a union of attributes, minus the ones named with '-'; a list
 * that starts with a removal starts from all. */
static int parse_attrs(struct vg_yctx *y, yaml_node_t *map, const struct vg_strv *names,
		       unsigned *out, struct vg_err *err)
{
	unsigned bits, acc = 0;

	if (names->n == 0) {
		*out = FIM_A_ALL;
		return 0;
	}
	if (names->v[0][0] == '-')
		acc = FIM_A_ALL;
	for (size_t i = 0; i < names->n; i++) {
		const char *n = names->v[i];
		bool minus = n[0] == '-';
		if (fim_attr_parse(minus ? n + 1 : n, &bits))
			return vg_errf(err, "%s:%d: unknown attribute '%s' (known: all, type, "
				       "mode, uid, gid, size, inode, device, links, mtime, ctime, "
				       "target, selinux, capability, sha256)", y->file,
				       yline(map_value(y, map, "attributes")), n);
		acc = minus ? acc & ~bits : acc | bits;
	}
	*out = acc;
	return 0;
}

static int parse_set(struct vg_yctx *y, yaml_node_t *map, size_t idx, struct vg_fim_set *s,
		     struct vg_err *err)
{
	struct set_raw raw = {0};
	int rc = -1;

	if (yp_parse(y, map, set_fields, &raw, "a fim set", err))
		goto out;
	if (check_paths(y, map, &raw.paths, err) || check_excludes(y, map, &raw.exclude, err) ||
	    parse_attrs(y, map, &raw.attributes, &s->attrs, err))
		goto out;
	s->name = raw.name ? raw.name : xasprintf("set%zu", idx + 1);
	raw.name = NULL;
	s->paths = raw.paths;
	s->exclude = raw.exclude;
	memset(&raw.paths, 0, sizeof(raw.paths));
	memset(&raw.exclude, 0, sizeof(raw.exclude));
	rc = 0;
out:
	yp_free(set_fields, &raw);
	return rc;
}

static int parse_sets(struct vg_yctx *y, yaml_node_t *seq, struct vg_fim_config *fc,
		      struct vg_err *err)
{
	size_t n;

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return vg_errf(err, "%s:%d: fim.sets must be a list of sets", y->file, yline(seq));
	n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n == 0 || n > FIM_MAX_SETS)
		return vg_errf(err, "%s:%d: fim.sets needs 1..%d sets", y->file, yline(seq),
			       FIM_MAX_SETS);
	fc->sets = xcalloc(n, sizeof(*fc->sets));
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *m = ynode(y, seq->data.sequence.items.start[i]);
		if (!m || m->type != YAML_MAPPING_NODE)
			return vg_errf(err, "%s:%d: a fim set must be a mapping", y->file,
				       yline(m));
		if (parse_set(y, m, i, &fc->sets[i], err))
			return -1;
		fc->nsets++;
	}
	return 0;
}

int fim_config_parse(struct vg_yctx *y, yaml_node_t *map, struct vg_fim_config *fc,
		     struct vg_err *err)
{
	struct fim_raw raw = {.hash_threads = 0};
	struct vg_fim_config next = {0};

	if (yp_parse(y, map, fim_fields, &raw, "fim", err))
		goto fail;
	if (raw.state_dir && raw.state_dir[0] != '/') {
		vg_errf(err, "%s:%d: fim.state_dir must be an absolute path", y->file,
			yline(map_value(y, map, "state_dir")));
		goto fail;
	}
	if (raw.hash_threads < 0 || raw.hash_threads > FIM_MAX_THREADS) {
		vg_errf(err, "%s:%d: fim.hash_threads must be 0 (one per core) .. %d", y->file,
			yline(map_value(y, map, "hash_threads")), FIM_MAX_THREADS);
		goto fail;
	}
	if (raw.sets && parse_sets(y, raw.sets, &next, err))
		goto fail;
	next.state_dir = raw.state_dir;
	next.hash_threads = (int)raw.hash_threads;
	fim_config_free(fc);
	*fc = next;
	return 0;
fail:
	fim_config_free(&next);
	yp_free(fim_fields, &raw);
	return -1;
}

static void add_set(struct vg_fim_config *fc, const char *name, const char *const *paths,
		    const char *const *exclude)
{
	struct vg_fim_set *s;

	fc->sets = xrealloc(fc->sets, (fc->nsets + 1) * sizeof(*fc->sets));
	s = &fc->sets[fc->nsets++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->attrs = FIM_A_ALL;
	for (; paths && *paths; paths++)
		strv_push(&s->paths, *paths);
	for (; exclude && *exclude; exclude++)
		strv_push(&s->exclude, *exclude);
}

void fim_config_defaults(struct vg_fim_config *fc, const char *config_file,
			 const char *self_exe)
{
	static const char *const system[] = {"/etc", "/usr/bin", "/usr/sbin", "/usr/lib",
					     "/boot", NULL};
	/* Rewritten by the system itself in normal operation. */
	static const char *const system_ex[] = {"/etc/adjtime", "/boot/grub/grubenv", NULL};
	static const char *const ssh[] = {"/root/.ssh", "/home/*/.ssh", NULL};
	static const char *const cron[] = {"/etc/crontab", "/etc/cron.d", "/etc/cron.hourly",
					   "/etc/cron.daily", "/etc/cron.weekly",
					   "/etc/cron.monthly", "/var/spool/cron", NULL};
	static const char *const systemd[] = {"/etc/systemd/system", "/usr/lib/systemd/system",
					      NULL};
	const char *self[] = {config_file, self_exe, NULL};

	if (fc->nsets)
		return;
	add_set(fc, "system", system, system_ex);
	add_set(fc, "ssh", ssh, NULL);
	add_set(fc, "cron", cron, NULL);
	add_set(fc, "systemd", systemd, NULL);
	if (!config_file) {
		self[0] = self_exe;
		self[1] = NULL;
	}
	if (self[0])
		add_set(fc, "vigil", self, NULL);
}
