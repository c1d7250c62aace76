/* osrel.c: what system the root holds, and which baseline fits it. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil.h"

/* os-release values are shell-quoted; only what the format allows is undone. */
static char *unquote(char *v)
{
	size_t n = strlen(v);
	char *out, *o;

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = 0;
		v++;
	}
	out = o = xstrdup(v);
	for (char *p = v; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		*o++ = *p;
	}
	*o = 0;
	return out;
}

static int osrel_line(void *u, char *line, size_t lineno)
{
	struct vg_osrel *os = u;
	char *eq = strchr(line, '='), **slot = NULL;

	(void)lineno;
	if (!eq || line[0] == '#')
		return 0;
	*eq = 0;
	if (!strcmp(line, "ID"))
		slot = &os->id;
	else if (!strcmp(line, "VERSION_ID"))
		slot = &os->version_id;
	else if (!strcmp(line, "PRETTY_NAME"))
		slot = &os->pretty_name;
	else if (!strcmp(line, "ID_LIKE"))
		slot = &os->id_like;
	if (slot) {
		free(*slot);
		*slot = unquote(str_trim(eq + 1));
	}
	return 0;
}

int osrel_read(const struct vg_root *r, struct vg_osrel *os)
{
	memset(os, 0, sizeof(*os));
	if (root_lines(r, "/etc/os-release", 64 << 10, osrel_line, os) < 0 &&
	    root_lines(r, "/usr/lib/os-release", 64 << 10, osrel_line, os) < 0)
		return -1;
	return 0;
}

void osrel_free(struct vg_osrel *os)
{
	free(os->id);
	free(os->version_id);
	free(os->pretty_name);
	free(os->id_like);
	memset(os, 0, sizeof(*os));
}

/* "12" fits 12 and 12.5; "22.04" fits 22.04 but not 22.10. */
static bool version_fits(const char *want, const char *have)
{
	size_t n = strlen(want);

	return !strncmp(want, have, n) && (have[n] == 0 || have[n] == '.');
}

bool baseline_matches(const struct vg_baseline *b, const struct vg_osrel *os)
{
	if (!os->id)
		return false;
	for (size_t i = 0; i < b->nplat; i++) {
		if (strcmp(b->plat[i].id, os->id))
			continue;
		if (!b->plat[i].versions.n)
			return true;
		for (size_t j = 0; j < b->plat[i].versions.n; j++)
			if (os->version_id && version_fits(b->plat[i].versions.v[j], os->version_id))
				return true;
	}
	return false;
}

void baseline_dirs(const char *configured, struct vg_strv *out)
{
	const char *env = getenv("VIGIL_BASELINE_DIR");

	if (configured && *configured)
		strv_push(out, configured);
	if (env && *env)
		strv_push(out, env);
	strv_push(out, VIGIL_BASELINE_INSTALL_DIR);
	strv_push(out, VIGIL_BASELINE_SOURCE_DIR);
}

static bool is_yaml(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && !strcmp(name + n - 5, ".yaml") && name[0] != '.';
}

static char *by_name(const struct vg_strv *dirs, const char *name)
{
	for (size_t i = 0; i < dirs->n; i++) {
		char *p = xasprintf("%s/%s.yaml", dirs->v[i], name);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* The first baseline, in directory order then name order, that fits. */
static char *by_platform(const struct vg_strv *dirs, const struct vg_osrel *os)
{
	for (size_t i = 0; i < dirs->n; i++) {
		struct vg_strv names = {0};
		struct dirent *de;
		DIR *d = opendir(dirs->v[i]);
		char *found = NULL;

		if (!d)
			continue;
		while ((de = readdir(d)))
			if (is_yaml(de->d_name))
				strv_push(&names, de->d_name);
		closedir(d);
		strv_sort(&names);
		for (size_t j = 0; j < names.n && !found; j++) {
			struct vg_baseline b;
			struct vg_err err;
			char *p = xasprintf("%s/%s", dirs->v[i], names.v[j]);
			if (baseline_peek(&b, p, &err) == 0) {
				if (baseline_matches(&b, os))
					found = p;
				baseline_free(&b);
			} else {
				log_warn("skipping %s", err.msg);
			}
			if (!found)
				free(p);
		}
		strv_free(&names);
		if (found)
			return found;
	}
	return NULL;
}

int baseline_select(const char *spec, const char *configured_dir, const struct vg_osrel *os,
		    char **path, struct vg_err *err)
{
	struct vg_strv dirs = {0};
	struct vg_buf where = {0};

	if (spec && (strchr(spec, '/') || strstr(spec, ".yaml"))) {
		*path = xstrdup(spec);
		return 0;
	}
	baseline_dirs(configured_dir, &dirs);
	*path = spec ? by_name(&dirs, spec) : by_platform(&dirs, os);
	if (!*path) {
		for (size_t i = 0; i < dirs.n; i++)
			buf_printf(&where, "%s%s", i ? ", " : "", dirs.v[i]);
		if (spec)
			vg_errf(err, "no baseline named '%s' in %s", spec, where.p);
		else
			vg_errf(err, "no baseline fits %s %s (looked in %s); name one with "
				"--baseline", os->id ? os->id : "an unknown system",
				os->version_id ? os->version_id : "", where.p);
	}
	strv_free(&dirs);
	buf_free(&where);
	return *path ? 0 : -1;
}
