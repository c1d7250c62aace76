/*
 * probe_service.c: the "service" rule, read from systemd's unit
 * directories in the checked root (no D-Bus, no systemctl, so it works the
 * same on an image as on the live host).
 *
 * enabled:     linked from a *.wants or *.requires directory under
 *              /etc/systemd/system (what "systemctl enable" creates), and
 *              not masked.
 * masked:      /etc/systemd/system/NAME or /run/systemd/system/NAME is a
 *              symlink to /dev/null (for an instance, its template too).
 * not_enabled: not enabled: disabled, masked or not installed.
 * absent:      no file named NAME (or its template) in any unit directory.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

#define SYSTEMD_ETC "/etc/systemd/system"

static const char *const unit_dirs[] = {
	SYSTEMD_ETC,
	"/run/systemd/system",
	"/usr/local/lib/systemd/system",
	"/lib/systemd/system",
	"/usr/lib/systemd/system",
	NULL,
};

static const char *const mask_dirs[] = {SYSTEMD_ETC, "/run/systemd/system", NULL};

static const char *const unit_suffixes[] = {
	".service", ".socket", ".target", ".timer", ".mount", ".automount", ".swap",
	".path", ".slice", ".scope", ".device", NULL,
};

enum svc_state { S_ENABLED, S_MASKED, S_NOT_ENABLED, S_ABSENT };

static const char *const state_names[] = {"enabled", "masked", "not_enabled", "absent", NULL};

struct svc_arg {
	char *name;			/* a full unit name once checked */
	int state;			/* enum svc_state */
	char *tmpl;			/* "foo@.service" for "foo@bar.service" */
};

static const struct yp_field svc_fields[] = {
	{"name", YP_STR, offsetof(struct svc_arg, name), true, NULL},
	{"state", YP_ENUM, offsetof(struct svc_arg, state), true, state_names},
	{0},
};

static void svc_init(void *p)
{
	struct svc_arg *arg = p;

	arg->state = -1;
}

static void svc_fini(void *p)
{
	struct svc_arg *arg = p;

	free(arg->tmpl);
	arg->tmpl = NULL;
}

static bool has_unit_suffix(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && unit_suffixes[i]; i++)
		if (strcmp(dot, unit_suffixes[i]) == 0)
			return true;
	return false;
}

/* systemd's own alphabet for unit names; anything else (a slash above all)
 * would let the name wander out of the unit directories. */
static bool valid_unit_name(const char *name)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789:-_.\\@";

	return *name && *name != '.' && strlen(name) < NAME_MAX && !name[strspn(name, ok)];
}

/* "foo@bar.service" is an instance of "foo@.service". */
static char *template_of(const char *unit)
{
	const char *at = strchr(unit, '@'), *dot = strrchr(unit, '.');

	if (!at || !dot || dot < at || dot == at + 1)
		return NULL;
	return xasprintf("%.*s%s", (int)(at - unit + 1), unit, dot);
}

static int svc_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	struct svc_arg *arg = p;

	if (!valid_unit_name(arg->name)) {
		vg_errf(err, "%s:%d: service: '%s' is not a unit name", y->file, yline(map),
			arg->name);
		return -1;
	}
	if (!has_unit_suffix(arg->name)) {
		char *full = xasprintf("%s.service", arg->name);

		free(arg->name);
		arg->name = full;
	}
	arg->tmpl = template_of(arg->name);
	return 0;
}

/* Whether DIR/NAME exists (not following it): 1 yes, 0 no, -1 on an error
 * other than "not there", with evidence. */
static int unit_entry(struct vg_ctx *ctx, const char *dir, const char *name, struct vg_ev *ev)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (root_stat(&ctx->root, path, &st, false) == 0)
		return 1;
	/* A symlink loop on the way is as unusable to systemd as nothing. */
	if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
		return 0;
	ev_add(ev, "%s: %s", path, strerror(errno));
	return -1;
}

/* 1 when DIR/NAME is a symlink to /dev/null, 0 when it is not, -1 on error. */
static int masked_in(struct vg_ctx *ctx, const char *dir, const char *name, struct vg_ev *ev)
{
	char path[PATH_MAX], target[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (root_readlink(&ctx->root, path, target, sizeof(target)) >= 0) {
		if (strcmp(target, "/dev/null") != 0)
			return 0;
		ev_add(ev, "%s -> /dev/null (masked)", path);
		return 1;
	}
	/* Not there, there but not a symlink, or behind a loop. */
	if (errno == ENOENT || errno == ENOTDIR || errno == EINVAL || errno == ELOOP)
		return 0;
	ev_add(ev, "%s: %s", path, strerror(errno));
	return -1;
}

static int is_masked(const struct svc_arg *arg, struct vg_ctx *ctx, struct vg_ev *ev)
{
	for (size_t i = 0; mask_dirs[i]; i++) {
		int rc = masked_in(ctx, mask_dirs[i], arg->name, ev);

		if (rc == 0 && arg->tmpl)
			rc = masked_in(ctx, mask_dirs[i], arg->tmpl, ev);
		if (rc)
			return rc;
	}
	return 0;
}

static int links_in(struct vg_ctx *ctx, const char *pattern, const char *name, struct vg_ev *ev)
{
	struct vg_strv dirs = {0};
	int rc = 0;

	if (root_glob(&ctx->root, pattern, &dirs) < 0) {
		ev_add(ev, "%s: %s", pattern, strerror(errno));
		strv_free(&dirs);
		return -1;
	}
	for (size_t i = 0; i < dirs.n && rc == 0; i++) {
		rc = unit_entry(ctx, dirs.v[i], name, ev);
		if (rc == 1) {
			char path[PATH_MAX], target[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s", dirs.v[i], name);
			if (root_readlink(&ctx->root, path, target, sizeof(target)) >= 0)
				ev_add(ev, "%s -> %s", path, target);
			else
				ev_add(ev, "%s", path);
		}
	}
	strv_free(&dirs);
	return rc;
}

/* 1 when linked from a *.wants or *.requires directory, 0 not, -1 error. */
static int is_enabled(const struct svc_arg *arg, struct vg_ctx *ctx, struct vg_ev *ev)
{
	int rc = links_in(ctx, SYSTEMD_ETC "/*.wants", arg->name, ev);

	if (rc == 0)
		rc = links_in(ctx, SYSTEMD_ETC "/*.requires", arg->name, ev);
	return rc;
}

/* 1 with the unit's file as evidence, 0 when there is none, -1 on error. */
static int unit_file(const struct svc_arg *arg, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const char *const names[] = {arg->name, arg->tmpl};

	for (size_t i = 0; unit_dirs[i]; i++) {
		for (size_t k = 0; k < 2; k++) {
			int rc = names[k] ? unit_entry(ctx, unit_dirs[i], names[k], ev) : 0;

			if (rc == 1)
				ev_add(ev, "%s/%s: unit file", unit_dirs[i], names[k]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static enum vg_status eval_enabled(const struct svc_arg *arg, struct vg_ctx *ctx,
				   struct vg_ev *ev, bool want)
{
	int masked = is_masked(arg, ctx, ev), enabled;

	if (masked < 0)
		return VG_ERROR;
	if (masked)
		return want ? VG_FAILED : VG_PASSED;
	enabled = is_enabled(arg, ctx, ev);
	if (enabled < 0)
		return VG_ERROR;
	if (!enabled)
		ev_add(ev, "%s: not linked from any *.wants or *.requires directory in %s",
		       arg->name, SYSTEMD_ETC);
	return enabled == want ? VG_PASSED : VG_FAILED;
}

static enum vg_status svc_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct svc_arg *arg = p;
	int rc;

	switch ((enum svc_state)arg->state) {
	case S_ENABLED:
		return eval_enabled(arg, ctx, ev, true);
	case S_NOT_ENABLED:
		return eval_enabled(arg, ctx, ev, false);
	case S_MASKED:
		rc = is_masked(arg, ctx, ev);
		if (rc == 0)
			ev_add(ev, "%s: not masked in %s or /run/systemd/system", arg->name,
			       SYSTEMD_ETC);
		return rc < 0 ? VG_ERROR : rc ? VG_PASSED : VG_FAILED;
	case S_ABSENT:
		rc = unit_file(arg, ctx, ev);
		if (rc == 0)
			ev_add(ev, "%s: no unit file in any systemd unit directory", arg->name);
		return rc < 0 ? VG_ERROR : rc ? VG_FAILED : VG_PASSED;
	}
	ev_add(ev, "service: no state");
	return VG_ERROR;
}

const struct vg_probe probe_service = {
	.name = "service",
	.argsize = sizeof(struct svc_arg),
	.fields = svc_fields,
	.init = svc_init,
	.check = svc_check,
	.eval = svc_eval,
	.fini = svc_fini,
};
