/* config.c: /etc/vigil/vigil.yaml, the sensor's configuration. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil.h"

#define COMMAND_TIMEOUT_MAX 3600

struct checks_raw {
	int allow_commands;
	long long command_timeout;
	char *baseline, *baseline_dir;
};

static const struct yp_field checks_fields[] = {
	{"allow_commands", YP_BOOL, offsetof(struct checks_raw, allow_commands), false, NULL},
	{"command_timeout", YP_INT, offsetof(struct checks_raw, command_timeout), false, NULL},
	{"baseline", YP_STR, offsetof(struct checks_raw, baseline), false, NULL},
	{"baseline_dir", YP_STR, offsetof(struct checks_raw, baseline_dir), false, NULL},
	{0},
};

void config_defaults(struct vg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->allow_commands = false;
	c->command_timeout = 10;
	run_config_defaults(&c->run);
}

void config_free(struct vg_config *c)
{
	free(c->baseline);
	free(c->baseline_dir);
	fim_config_free(&c->fim);
	run_config_free(&c->run);
	config_defaults(c);
}

static int section(struct vg_yctx *y, const char *key, yaml_node_t *v, void *u, struct vg_err *err)
{
	struct vg_config *c = u;
	struct checks_raw raw = {.allow_commands = c->allow_commands,
				 .command_timeout = c->command_timeout};

	int r;

	if (!strcmp(key, "fim"))
		return fim_config_parse(y, v, &c->fim, err);
	if ((r = run_config_section(y, key, v, &c->run, err)) <= 0)
		return r;
	if (strcmp(key, "checks"))
		return vg_errf(err, "%s:%d: unknown section '%s' (known: checks, fim, run, outbox, "
			       "collector)", y->file, yline(v), key);
	if (yp_parse(y, v, checks_fields, &raw, "checks", err)) {
		yp_free(checks_fields, &raw);
		return -1;
	}
	if (raw.command_timeout < 1 || raw.command_timeout > COMMAND_TIMEOUT_MAX) {
		yp_free(checks_fields, &raw);
		return vg_errf(err, "%s:%d: checks.command_timeout must be 1..%d seconds", y->file,
			       ykey_line(y, v, "command_timeout"), COMMAND_TIMEOUT_MAX);
	}
	c->allow_commands = raw.allow_commands == 1;
	c->command_timeout = (int)raw.command_timeout;
	free(c->baseline);
	free(c->baseline_dir);
	c->baseline = raw.baseline;
	c->baseline_dir = raw.baseline_dir;
	return 0;
}

static bool only_comments(const char *s)
{
	for (;;) {
		s += strspn(s, " \t\r\n");
		if (!*s)
			return true;
		if (*s != '#')
			return false;
		s += strcspn(s, "\n");
	}
}

int config_parse(struct vg_config *c, const char *name, const char *buf, size_t len,
		 struct vg_err *err)
{
	struct vg_yctx y = {0};
	int rc;

	/* An empty file, or one of only comments, is a valid configuration. */
	if (memchr(buf, 0, len) == NULL && len < VG_YAML_MAX_BYTES) {
		char *s = xstrndup(buf, len);
		bool empty = only_comments(s);
		free(s);
		if (empty)
			return 0;
	}
	if (ydoc_load(&y, name, buf, len, err))
		return -1;
	rc = ymap_each(&y, ydoc_root(&y), "the configuration", section, c, err);
	ydoc_free(&y);
	return rc;
}

int config_load(struct vg_config *c, const char *path, bool must_exist, struct vg_err *err)
{
	struct vg_root r;
	char *buf;
	size_t len;
	int rc, saved;

	char abs[PATH_MAX];

	/* The file is read through a root at /, which takes absolute paths. */
	if (path[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= (int)sizeof(abs))
			return vg_errf(err, "%s: cannot make the path absolute", path);
		path = abs;
	}
	if (root_init(&r, "/", err))
		return -1;
	rc = root_read(&r, path, VG_YAML_MAX_BYTES, &buf, &len);
	saved = errno;
	root_fini(&r);
	if (rc < 0) {
		if (saved == ENOENT && !must_exist)
			return 0;
		return vg_errf(err, "%s: %s", path, strerror(saved));
	}
	rc = config_parse(c, path, buf, len, err);
	free(buf);
	return rc;
}

/* The sensor watches its own binary, as the running kernel knows it. */
static char *self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return xstrdup(buf);
}

int config_load_full(struct vg_config *c, const char *path, struct vg_err *err)
{
	const char *file = path ? path : VG_CONFIG_PATH;
	char *exe;

	config_defaults(c);
	if (config_load(c, file, path != NULL, err))
		return -1;
	exe = self_exe();
	fim_config_defaults(&c->fim, file, exe);
	free(exe);
	return 0;
}
