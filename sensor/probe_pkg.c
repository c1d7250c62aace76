/*
 * probe_pkg.c: the "package" rule and the installed-package cache.
 *
 * The set of installed packages is read once per run into ctx->pkgs from
 * the root's dpkg status file and, where there is one, its RPM database
 * (rpmdb.sqlite, read through rpmhdr.c).  Both are input an attacker on
 * the checked system may have written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rpmhdr.h"
#include "vigil.h"

#define DPKG_STATUS	"/var/lib/dpkg/status"
#define RPMDB		RPMHDR_DB

#define DPKG_MAX_BYTES	(256u << 20)

enum { SRC_DPKG = 1, SRC_RPM = 2 };

struct pkg_ent {
	char *name;			/* "name", or "name:arch" for dpkg */
	unsigned src;			/* SRC_* */
};

struct vg_pkgdb {
	struct pkg_ent *v;		/* sorted by name, unique */
	size_t n, cap;
	bool have_dpkg, have_rpm;	/* the database exists and was read */
	char *dpkg_err, *rpm_err;	/* why it could not be read */
	size_t dpkg_pkgs, rpm_pkgs;	/* installed packages found in each */
	size_t rpm_bad;			/* malformed headers skipped */
};

static void pkg_add(struct vg_pkgdb *db, const char *name, size_t len, unsigned src)
{
	if (db->n == db->cap) {
		db->cap = db->cap ? db->cap * 2 : 256;
		db->v = xrealloc(db->v, db->cap * sizeof(*db->v));
	}
	db->v[db->n].name = xstrndup(name, len);
	db->v[db->n].src = src;
	db->n++;
}

static int cmp_ent(const void *x, const void *y)
{
	const struct pkg_ent *a = x, *b = y;

	return strcmp(a->name, b->name);
}

/* Sorts the set and folds duplicates (multi-arch, or both databases). */
static void pkg_index(struct vg_pkgdb *db)
{
	size_t out = 0;

	if (!db->n)
		return;
	qsort(db->v, db->n, sizeof(*db->v), cmp_ent);
	for (size_t i = 0; i < db->n; i++) {
		if (out && strcmp(db->v[out - 1].name, db->v[i].name) == 0) {
			db->v[out - 1].src |= db->v[i].src;
			free(db->v[i].name);
			continue;
		}
		db->v[out++] = db->v[i];
	}
	db->n = out;
}

static const struct pkg_ent *pkg_find(const struct vg_pkgdb *db, const char *name)
{
	struct pkg_ent key = {(char *)name, 0};

	if (!db->n)
		return NULL;
	return bsearch(&key, db->v, db->n, sizeof(*db->v), cmp_ent);
}

/* ---- dpkg -------------------------------------------------------------- */

struct dpkg_para {
	char *pkg, *arch, *status;
};

/* "Status: want flag state": installed, and not on its way out. */
static bool dpkg_installed(const char *status)
{
	char want[16], flag[16], state[32], extra;

	if (sscanf(status, "%15s %15s %31s %c", want, flag, state, &extra) != 3)
		return false;
	return (strcmp(want, "install") == 0 || strcmp(want, "hold") == 0) &&
	       strcmp(flag, "ok") == 0 && strcmp(state, "installed") == 0;
}

static void dpkg_commit(struct vg_pkgdb *db, struct dpkg_para *p)
{
	if (p->pkg && *p->pkg && p->status && dpkg_installed(p->status)) {
		pkg_add(db, p->pkg, strlen(p->pkg), SRC_DPKG);
		if (p->arch && *p->arch) {
			char *full = xasprintf("%s:%s", p->pkg, p->arch);

			pkg_add(db, full, strlen(full), SRC_DPKG);
			free(full);
		}
		db->dpkg_pkgs++;
	}
	memset(p, 0, sizeof(*p));
}

/* The value of "Field: value" when the line is that field, else NULL. */
static char *dpkg_field(char *line, const char *field)
{
	size_t n = strlen(field);

	if (strncasecmp(line, field, n) != 0 || line[n] != ':')
		return NULL;
	return str_trim(line + n + 1);
}

/* deb822 paragraphs; continuation lines (leading blank) and fields other
 * than the three we need are skipped, as is anything unparseable. */
static void dpkg_parse(struct vg_pkgdb *db, char *buf, size_t len)
{
	struct dpkg_para para = {0};
	char *p = buf, *end = buf + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = p, *v;

		if (nl) {
			*nl = 0;
			p = nl + 1;
		} else {
			p = end;
		}
		if (*str_trim(line) == 0) {
			dpkg_commit(db, &para);
			continue;
		}
		if (*line == ' ' || *line == '\t')
			continue;
		if ((v = dpkg_field(line, "Package")))
			para.pkg = v;
		else if ((v = dpkg_field(line, "Architecture")))
			para.arch = v;
		else if ((v = dpkg_field(line, "Status")))
			para.status = v;
	}
	dpkg_commit(db, &para);
}

static void dpkg_load(const struct vg_root *root, struct vg_pkgdb *db)
{
	char *buf;
	size_t len;

	if (root_read(root, DPKG_STATUS, DPKG_MAX_BYTES, &buf, &len) < 0) {
		if (errno != ENOENT)
			db->dpkg_err = xasprintf("%s: %s", DPKG_STATUS, strerror(errno));
		return;
	}
	db->have_dpkg = true;
	dpkg_parse(db, buf, len);
	free(buf);
}

/* ---- rpm --------------------------------------------------------------- */

static void rpm_load(const struct vg_root *root, struct vg_pkgdb *db)
{
	struct rpmhdr_db rdb;
	struct vg_err err;
	const unsigned char *blob;
	size_t size;
	int rc = rpmhdr_db_open(&rdb, root, &err);

	if (rc <= 0) {
		if (rc < 0)
			db->rpm_err = xstrdup(err.msg);
		return;
	}
	db->have_rpm = true;
	while ((rc = rpmhdr_db_next(&rdb, &blob, &size, &err)) > 0) {
		struct rpmhdr h;
		const char *name;
		size_t len;

		if (!rpmhdr_parse(&h, blob, size) || !rpmhdr_name(&h, &name, &len)) {
			db->rpm_bad++;
			continue;
		}
		pkg_add(db, name, len, SRC_RPM);
		db->rpm_pkgs++;
	}
	if (rc < 0)
		db->rpm_err = xstrdup(err.msg);
	rpmhdr_db_close(&rdb);
}

/* ---- the cache --------------------------------------------------------- */

static struct vg_pkgdb *pkg_get(struct vg_ctx *ctx)
{
	struct vg_pkgdb *db = ctx->pkgs;

	if (db)
		return db;
	db = xcalloc(1, sizeof(*db));
	dpkg_load(&ctx->root, db);
	rpm_load(&ctx->root, db);
	pkg_index(db);
	ctx->pkgs = db;
	return db;
}

void pkgdb_free(struct vg_pkgdb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n; i++)
		free(db->v[i].name);
	free(db->v);
	free(db->dpkg_err);
	free(db->rpm_err);
	free(db);
}

long long pkgdb_count(struct vg_ctx *ctx)
{
	const struct vg_pkgdb *db = pkg_get(ctx);

	return db->have_dpkg || db->have_rpm ? (long long)db->n : -1;
}

/* ---- the rule ---------------------------------------------------------- */

struct pkg_arg {
	struct vg_strv names;		/* any of them */
	int installed;			/* -1 unset: true */
};

static const struct yp_field pkg_fields[] = {
	{"name", YP_STRV, offsetof(struct pkg_arg, names), true, NULL},
	{"installed", YP_BOOL, offsetof(struct pkg_arg, installed), false, NULL},
	{0},
};

static void pkg_init(void *p)
{
	struct pkg_arg *arg = p;

	arg->installed = -1;
}

static int pkg_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	const struct pkg_arg *arg = p;

	if (arg->names.n == 0) {
		vg_errf(err, "%s:%d: package: name is required", y->file, yline(map));
		return -1;
	}
	for (size_t i = 0; i < arg->names.n; i++) {
		const char *s = arg->names.v[i];

		if (!*s || s[strcspn(s, " \t\n/")]) {
			vg_errf(err, "%s:%d: package: \"%s\" is not a package name", y->file,
				yline(map), s);
			return -1;
		}
	}
	return 0;
}

static const char *src_name(unsigned src)
{
	switch (src) {
	case SRC_DPKG:
		return "dpkg";
	case SRC_RPM:
		return "rpm";
	default:
		return "dpkg, rpm";
	}
}

/* What could not be read, when it leaves the answer open. */
static bool pkg_errors(const struct vg_pkgdb *db, struct vg_ev *ev)
{
	if (db->dpkg_err)
		ev_add(ev, "%s", db->dpkg_err);
	if (db->rpm_err)
		ev_add(ev, "%s", db->rpm_err);
	return db->dpkg_err || db->rpm_err;
}

static void pkg_sources(const struct vg_pkgdb *db, struct vg_ev *ev)
{
	if (db->have_dpkg)
		ev_add(ev, "%s: %zu installed packages", DPKG_STATUS, db->dpkg_pkgs);
	if (db->have_rpm)
		ev_add(ev, "%s: %zu packages", RPMDB, db->rpm_pkgs);
	if (db->rpm_bad)
		ev_add(ev, "%s: %zu malformed package headers skipped", RPMDB, db->rpm_bad);
}

static enum vg_status pkg_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct pkg_arg *arg = p;
	const struct vg_pkgdb *db = pkg_get(ctx);
	bool want = arg->installed != 0;
	size_t found = 0;

	for (size_t i = 0; i < arg->names.n; i++) {
		const struct pkg_ent *e = pkg_find(db, arg->names.v[i]);

		if (e) {
			ev_add(ev, "%s is installed (%s)", e->name, src_name(e->src));
			found++;
		}
	}
	/* Something installed decides either way, whatever could not be read. */
	if (found)
		return want ? VG_PASSED : VG_FAILED;
	if (pkg_errors(db, ev))
		return VG_ERROR;
	if (!db->have_dpkg && !db->have_rpm) {
		ev_add(ev, "no package database (%s, %s)", DPKG_STATUS, RPMDB);
		return VG_NA;
	}
	for (size_t i = 0; i < arg->names.n; i++)
		ev_add(ev, "%s is not installed", arg->names.v[i]);
	pkg_sources(db, ev);
	return want ? VG_FAILED : VG_PASSED;
}

const struct vg_probe probe_package = {
	.name = "package",
	.argsize = sizeof(struct pkg_arg),
	.fields = pkg_fields,
	.init = pkg_init,
	.check = pkg_check,
	.eval = pkg_eval,
};
