/*
 * probe_accounts.c: the "accounts" rule and the account database cache.
 *
 * The root's /etc/passwd, /etc/group and /etc/shadow are read once per run
 * into ctx->accounts.  Lines are parsed the way glibc's nss_files parses
 * them (files-parse.c), because what matters is what login, su and PAM
 * will see: a line glibc accepts (" 0" is uid 0, missing trailing passwd
 * fields are empty) must not be skipped here, and a line it rejects is no
 * account at all.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil.h"

#define AC_MAX_BYTES	(64u << 20)	/* per account file */
#define AC_UID_MIN_DFLT	1000

enum { AC_PASSWD, AC_GROUP, AC_SHADOW, AC_NFILES };
#define F_PW	(1u << AC_PASSWD)
#define F_GR	(1u << AC_GROUP)
#define F_SP	(1u << AC_SHADOW)

static const char *const ac_path[AC_NFILES] = {
	[AC_PASSWD] = "/etc/passwd",
	[AC_GROUP] = "/etc/group",
	[AC_SHADOW] = "/etc/shadow",
};

struct ac_file {
	char *buf;			/* the file; entries point into it */
	int err;			/* errno of the read, 0 when read */
	size_t nbad;			/* lines glibc would skip */
	size_t bad[VG_EV_MAX];		/* the first of them */
};

struct ac_user {
	char *name, *pw, *shell;
	uid_t uid;
	gid_t gid;
	size_t line;
};

struct ac_group {
	char *name, *members;
	gid_t gid;
	size_t line;
};

struct ac_shadow {
	char *name, *hash;
	long long lstchg, min, max, warn, inact;	/* days; -1 empty */
	size_t line;
};

/* Sorted indexes: by key, then by file order, so the first of equal keys is
 * the entry getpwuid() and friends would return. */
struct ac_idkey {
	unsigned long id;
	size_t i;
};
struct ac_namekey {
	const char *name;
	size_t i;
};

struct vg_accounts {
	struct ac_file f[AC_NFILES];
	struct ac_user *u;
	size_t nu;
	struct ac_group *g;
	size_t ng;
	struct ac_shadow *s;
	size_t ns;
	struct ac_idkey *uid_ix, *gid_ix;
	struct ac_namekey *uname_ix, *gname_ix;
};

/* ---- parsing, after glibc's files-parse.c ------------------------------ */

/* STRING_FIELD: up to the next colon or the end of the line. */
static char *fld_str(char **line)
{
	char *s = *line, *colon = strchr(s, ':');

	if (colon) {
		*colon = 0;
		*line = colon + 1;
	} else {
		*line = s + strlen(s);
	}
	return s;
}

/* glibc's strtou32: 64-bit strtoul saturated to 32 bits, so a uid of
 * 4294967296 is 4294967295, not 0. */
static unsigned long strtou32(const char *s, char **end)
{
	unsigned long v = strtoul(s, end, 10);

	return v > 0xffffffffUL ? 0xffffffffUL : v;
}

/* Ends a numeric field: a colon is consumed, anything else but the end of
 * the line makes the whole line invalid. */
static bool fld_end(char **line, char *end)
{
	if (*end == ':')
		end++;
	else if (*end)
		return false;
	*line = end;
	return true;
}

/* INT_FIELD: a number is required. */
static bool fld_u32(char **line, unsigned long *out)
{
	char *end;

	*out = strtou32(*line, &end);
	if (end == *line)
		return false;
	return fld_end(line, end);
}

/* INT_FIELD_MAYBE_NULL for shadow's day counts: empty is -1, the value goes
 * through (long)(int) as in glibc, and the field must be there. */
static bool fld_days(char **line, long long *out)
{
	char *end;
	uint32_t v;

	if (**line == 0)
		return false;
	v = (uint32_t)strtou32(*line, &end);
	*out = end == *line ? -1 : (long long)(int32_t)v;
	return fld_end(line, end);
}

static bool parse_user(char *line, struct ac_user *u)
{
	unsigned long uid, gid;

	u->name = fld_str(&line);
	u->pw = fld_str(&line);
	if (!fld_u32(&line, &uid) || !fld_u32(&line, &gid))
		return false;
	u->uid = (uid_t)uid;
	u->gid = (gid_t)gid;
	(void)fld_str(&line);		/* gecos */
	(void)fld_str(&line);		/* home */
	u->shell = line;		/* the rest, colons and all */
	return true;
}

static bool parse_group(char *line, struct ac_group *g)
{
	unsigned long gid;

	g->name = fld_str(&line);
	(void)fld_str(&line);		/* password */
	if (!fld_u32(&line, &gid))
		return false;
	g->gid = (gid_t)gid;
	g->members = line;
	return true;
}

static bool parse_shadow(char *line, struct ac_shadow *s)
{
	long long expire;

	s->name = fld_str(&line);
	s->hash = fld_str(&line);
	if (!fld_days(&line, &s->lstchg) || !fld_days(&line, &s->min) ||
	    !fld_days(&line, &s->max))
		return false;
	while (*line == ' ' || *line == '\t')
		line++;
	s->warn = s->inact = -1;
	if (*line == 0)			/* the old, five-field form */
		return true;
	return fld_days(&line, &s->warn) && fld_days(&line, &s->inact) &&
	       fld_days(&line, &expire);
}

/* Walks the lines of a buffer, NUL-terminating each in place.  A line with
 * an embedded NUL ends there, as it does for glibc's string handling. */
struct ac_lines {
	char *p, *end;
	size_t lineno;
};

static char *next_line(struct ac_lines *it)
{
	char *line = it->p, *nl;

	if (line >= it->end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(it->end - line));
	if (nl) {
		*nl = 0;
		it->p = nl + 1;
	} else {
		it->p = it->end;
	}
	it->lineno++;
	return line;
}

/* Empty and comment lines are skipped, after leading blanks. */
static char *entry_start(char *line)
{
	while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\v' ||
	       *line == '\f')
		line++;
	return *line == 0 || *line == '#' ? NULL : line;
}

static void note_bad(struct ac_file *f, size_t lineno)
{
	if (f->nbad < VG_EV_MAX)
		f->bad[f->nbad] = lineno;
	f->nbad++;
}

/* Reads one file; returns the number of lines (an upper bound on entries),
 * or 0 with f->err set. */
static size_t ac_read(const struct vg_root *root, int which, struct ac_file *f, size_t *len)
{
	size_t n = 1;

	if (root_read(root, ac_path[which], AC_MAX_BYTES, &f->buf, len) < 0) {
		f->err = errno ? errno : EIO;
		f->buf = NULL;
		log_debug("%s: %s", ac_path[which], strerror(f->err));
		return 0;
	}
	for (const char *p = f->buf; (p = memchr(p, '\n', (size_t)(f->buf + *len - p))); p++)
		n++;
	return n;
}

static void load_users(const struct vg_root *root, struct vg_accounts *a)
{
	struct ac_file *f = &a->f[AC_PASSWD];
	struct ac_lines it = {0};
	size_t len, cap = ac_read(root, AC_PASSWD, f, &len);
	char *line;

	if (!cap)
		return;
	a->u = xcalloc(cap, sizeof(*a->u));
	it.p = f->buf;
	it.end = f->buf + len;
	while ((line = next_line(&it))) {
		if (!(line = entry_start(line)))
			continue;
		if (!parse_user(line, &a->u[a->nu])) {
			note_bad(f, it.lineno);
			continue;
		}
		a->u[a->nu++].line = it.lineno;
	}
}

static void load_groups(const struct vg_root *root, struct vg_accounts *a)
{
	struct ac_file *f = &a->f[AC_GROUP];
	struct ac_lines it = {0};
	size_t len, cap = ac_read(root, AC_GROUP, f, &len);
	char *line;

	if (!cap)
		return;
	a->g = xcalloc(cap, sizeof(*a->g));
	it.p = f->buf;
	it.end = f->buf + len;
	while ((line = next_line(&it))) {
		if (!(line = entry_start(line)))
			continue;
		if (!parse_group(line, &a->g[a->ng])) {
			note_bad(f, it.lineno);
			continue;
		}
		a->g[a->ng++].line = it.lineno;
	}
}

static void load_shadow(const struct vg_root *root, struct vg_accounts *a)
{
	struct ac_file *f = &a->f[AC_SHADOW];
	struct ac_lines it = {0};
	size_t len, cap = ac_read(root, AC_SHADOW, f, &len);
	char *line;

	if (!cap)
		return;
	a->s = xcalloc(cap, sizeof(*a->s));
	it.p = f->buf;
	it.end = f->buf + len;
	while ((line = next_line(&it))) {
		if (!(line = entry_start(line)))
			continue;
		if (!parse_shadow(line, &a->s[a->ns])) {
			note_bad(f, it.lineno);
			continue;
		}
		a->s[a->ns++].line = it.lineno;
	}
}

/* ---- indexes ----------------------------------------------------------- */

static int cmp_idkey(const void *x, const void *y)
{
	const struct ac_idkey *a = x, *b = y;

	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_namekey(const void *x, const void *y)
{
	const struct ac_namekey *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

static void build_indexes(struct vg_accounts *a)
{
	a->uid_ix = xcalloc(a->nu + 1, sizeof(*a->uid_ix));
	a->uname_ix = xcalloc(a->nu + 1, sizeof(*a->uname_ix));
	for (size_t i = 0; i < a->nu; i++) {
		a->uid_ix[i] = (struct ac_idkey){a->u[i].uid, i};
		a->uname_ix[i] = (struct ac_namekey){a->u[i].name, i};
	}
	qsort(a->uid_ix, a->nu, sizeof(*a->uid_ix), cmp_idkey);
	qsort(a->uname_ix, a->nu, sizeof(*a->uname_ix), cmp_namekey);

	a->gid_ix = xcalloc(a->ng + 1, sizeof(*a->gid_ix));
	a->gname_ix = xcalloc(a->ng + 1, sizeof(*a->gname_ix));
	for (size_t i = 0; i < a->ng; i++) {
		a->gid_ix[i] = (struct ac_idkey){a->g[i].gid, i};
		a->gname_ix[i] = (struct ac_namekey){a->g[i].name, i};
	}
	qsort(a->gid_ix, a->ng, sizeof(*a->gid_ix), cmp_idkey);
	qsort(a->gname_ix, a->ng, sizeof(*a->gname_ix), cmp_namekey);
}

/* The first index entry with this id, or NULL. */
static const struct ac_idkey *find_id(const struct ac_idkey *ix, size_t n, unsigned long id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ix[lo].id == id ? &ix[lo] : NULL;
}

static const struct ac_namekey *find_name(const struct ac_namekey *ix, size_t n,
					  const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(ix[lo].name, name) == 0 ? &ix[lo] : NULL;
}

/* ---- the cache --------------------------------------------------------- */

static struct vg_accounts *ac_get(struct vg_ctx *ctx)
{
	struct vg_accounts *a = ctx->accounts;

	if (a)
		return a;
	a = xcalloc(1, sizeof(*a));
	load_users(&ctx->root, a);
	load_groups(&ctx->root, a);
	load_shadow(&ctx->root, a);
	build_indexes(a);
	ctx->accounts = a;
	return a;
}

int accounts_load(struct vg_ctx *ctx, struct vg_err *err)
{
	const struct vg_accounts *a = ac_get(ctx);

	for (int i = AC_PASSWD; i <= AC_GROUP; i++) {
		if (a->f[i].err) {
			vg_errf(err, "%s: %s", ac_path[i], strerror(a->f[i].err));
			return -1;
		}
	}
	return 0;
}

void accounts_free(struct vg_accounts *a)
{
	if (!a)
		return;
	for (int i = 0; i < AC_NFILES; i++)
		free(a->f[i].buf);
	free(a->u);
	free(a->g);
	free(a->s);
	free(a->uid_ix);
	free(a->gid_ix);
	free(a->uname_ix);
	free(a->gname_ix);
	free(a);
}

int accounts_uid(struct vg_ctx *ctx, const char *name, uid_t *uid)
{
	const struct vg_accounts *a = ac_get(ctx);
	const struct ac_namekey *k = find_name(a->uname_ix, a->nu, name);

	if (!k)
		return -1;
	*uid = a->u[k->i].uid;
	return 0;
}

int accounts_gid(struct vg_ctx *ctx, const char *name, gid_t *gid)
{
	const struct vg_accounts *a = ac_get(ctx);
	const struct ac_namekey *k = find_name(a->gname_ix, a->ng, name);

	if (!k)
		return -1;
	*gid = a->g[k->i].gid;
	return 0;
}

const char *accounts_user_name(struct vg_ctx *ctx, uid_t uid)
{
	const struct vg_accounts *a = ac_get(ctx);
	const struct ac_idkey *k = find_id(a->uid_ix, a->nu, uid);

	return k ? a->u[k->i].name : NULL;
}

const char *accounts_group_name(struct vg_ctx *ctx, gid_t gid)
{
	const struct vg_accounts *a = ac_get(ctx);
	const struct ac_idkey *k = find_id(a->gid_ix, a->ng, gid);

	return k ? a->g[k->i].name : NULL;
}

/* ---- the rule ---------------------------------------------------------- */

enum ac_check {
	C_UNIQUE_UIDS,
	C_UNIQUE_GIDS,
	C_UNIQUE_USER_NAMES,
	C_UNIQUE_GROUP_NAMES,
	C_ONLY_ROOT_UID0,
	C_ROOT_GID0,
	C_NO_EMPTY_PASSWORDS,
	C_SHADOWED_PASSWORDS,
	C_GROUPS_EXIST,
	C_SHADOW_GROUP_EMPTY,
	C_PASSWORD_MAX_DAYS,
	C_PASSWORD_MIN_DAYS,
	C_PASSWORD_WARN_AGE,
	C_PASSWORD_INACTIVE,
	C_NO_FUTURE_PASSWORD_CHANGE,
	C_SYSTEM_ACCOUNTS_NOLOGIN,
	C_NCHECKS
};

static const char *const check_names[] = {
	[C_UNIQUE_UIDS] = "unique_uids",
	[C_UNIQUE_GIDS] = "unique_gids",
	[C_UNIQUE_USER_NAMES] = "unique_user_names",
	[C_UNIQUE_GROUP_NAMES] = "unique_group_names",
	[C_ONLY_ROOT_UID0] = "only_root_uid0",
	[C_ROOT_GID0] = "root_gid0",
	[C_NO_EMPTY_PASSWORDS] = "no_empty_passwords",
	[C_SHADOWED_PASSWORDS] = "shadowed_passwords",
	[C_GROUPS_EXIST] = "groups_exist",
	[C_SHADOW_GROUP_EMPTY] = "shadow_group_empty",
	[C_PASSWORD_MAX_DAYS] = "password_max_days",
	[C_PASSWORD_MIN_DAYS] = "password_min_days",
	[C_PASSWORD_WARN_AGE] = "password_warn_age",
	[C_PASSWORD_INACTIVE] = "password_inactive",
	[C_NO_FUTURE_PASSWORD_CHANGE] = "no_future_password_change",
	[C_SYSTEM_ACCOUNTS_NOLOGIN] = "system_accounts_nologin",
	[C_NCHECKS] = NULL,
};

#define BOUND_UNSET LLONG_MIN

struct acc_arg {
	int check;			/* enum ac_check */
	long long min, max;		/* BOUND_UNSET when not given */
};

static const struct yp_field acc_fields[] = {
	{"check", YP_ENUM, offsetof(struct acc_arg, check), true, check_names},
	{"min", YP_INT, offsetof(struct acc_arg, min), false, NULL},
	{"max", YP_INT, offsetof(struct acc_arg, max), false, NULL},
	{0},
};

enum ac_bound { B_NONE, B_MIN, B_MAX };

typedef enum vg_status (*ac_check_fn)(const struct acc_arg *arg, struct vg_ctx *ctx,
				      const struct vg_accounts *a, struct vg_ev *ev);

struct ac_checkdef {
	unsigned files;			/* F_* it reads */
	enum ac_bound bound;
	ac_check_fn fn;
};

/* Duplicate keys of a sorted index, one evidence line per key:
 * "uid 0: root, toor". */
static enum vg_status dup_ids(const struct ac_idkey *ix, size_t n, const char *what,
			      const char *(*name)(const struct vg_accounts *, size_t),
			      const struct vg_accounts *a, struct vg_ev *ev)
{
	enum vg_status st = VG_PASSED;

	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && ix[j].id == ix[i].id)
			j++;
		if (j - i > 1) {
			struct vg_buf b = {0};

			buf_printf(&b, "%s %lu:", what, ix[i].id);
			for (size_t k = i; k < j; k++)
				buf_printf(&b, "%s %s", k > i ? "," : "", name(a, ix[k].i));
			ev_add(ev, "%s", b.p);
			buf_free(&b);
			st = VG_FAILED;
		}
		i = j;
	}
	return st;
}

static enum vg_status dup_names(const struct ac_namekey *ix, size_t n, const char *file,
				size_t (*line)(const struct vg_accounts *, size_t),
				const struct vg_accounts *a, struct vg_ev *ev)
{
	enum vg_status st = VG_PASSED;

	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && strcmp(ix[j].name, ix[i].name) == 0)
			j++;
		if (j - i > 1) {
			struct vg_buf b = {0};

			buf_printf(&b, "%s: %s on lines", file, ix[i].name);
			for (size_t k = i; k < j; k++)
				buf_printf(&b, "%s %zu", k > i ? "," : "", line(a, ix[k].i));
			ev_add(ev, "%s", b.p);
			buf_free(&b);
			st = VG_FAILED;
		}
		i = j;
	}
	return st;
}

static const char *user_name(const struct vg_accounts *a, size_t i)
{
	return a->u[i].name;
}

static const char *group_name(const struct vg_accounts *a, size_t i)
{
	return a->g[i].name;
}

static size_t user_line(const struct vg_accounts *a, size_t i)
{
	return a->u[i].line;
}

static size_t group_line(const struct vg_accounts *a, size_t i)
{
	return a->g[i].line;
}

static enum vg_status chk_unique_uids(const struct acc_arg *arg, struct vg_ctx *ctx,
				      const struct vg_accounts *a, struct vg_ev *ev)
{
	if (dup_ids(a->uid_ix, a->nu, "uid", user_name, a, ev) == VG_FAILED)
		return VG_FAILED;
	ev_add(ev, "/etc/passwd: %zu accounts, no uid shared", a->nu);
	return VG_PASSED;
}

static enum vg_status chk_unique_gids(const struct acc_arg *arg, struct vg_ctx *ctx,
				      const struct vg_accounts *a, struct vg_ev *ev)
{
	if (dup_ids(a->gid_ix, a->ng, "gid", group_name, a, ev) == VG_FAILED)
		return VG_FAILED;
	ev_add(ev, "/etc/group: %zu groups, no gid shared", a->ng);
	return VG_PASSED;
}

static enum vg_status chk_unique_user_names(const struct acc_arg *arg, struct vg_ctx *ctx,
					    const struct vg_accounts *a, struct vg_ev *ev)
{
	if (dup_names(a->uname_ix, a->nu, "/etc/passwd", user_line, a, ev) == VG_FAILED)
		return VG_FAILED;
	ev_add(ev, "/etc/passwd: %zu accounts, no name repeated", a->nu);
	return VG_PASSED;
}

static enum vg_status chk_unique_group_names(const struct acc_arg *arg, struct vg_ctx *ctx,
					     const struct vg_accounts *a, struct vg_ev *ev)
{
	if (dup_names(a->gname_ix, a->ng, "/etc/group", group_line, a, ev) == VG_FAILED)
		return VG_FAILED;
	ev_add(ev, "/etc/group: %zu groups, no name repeated", a->ng);
	return VG_PASSED;
}

static enum vg_status chk_only_root_uid0(const struct acc_arg *arg, struct vg_ctx *ctx,
					 const struct vg_accounts *a, struct vg_ev *ev)
{
	enum vg_status st = VG_PASSED;

	for (size_t i = 0; i < a->nu; i++) {
		if (a->u[i].uid == 0 && strcmp(a->u[i].name, "root") != 0) {
			ev_add(ev, "/etc/passwd:%zu: %s has uid 0", a->u[i].line, a->u[i].name);
			st = VG_FAILED;
		}
	}
	if (st == VG_PASSED)
		ev_add(ev, "/etc/passwd: no account but root has uid 0");
	return st;
}

static const struct ac_user *find_user(const struct vg_accounts *a, const char *name)
{
	const struct ac_namekey *k = find_name(a->uname_ix, a->nu, name);

	return k ? &a->u[k->i] : NULL;
}

static const struct ac_group *find_group(const struct vg_accounts *a, const char *name)
{
	const struct ac_namekey *k = find_name(a->gname_ix, a->ng, name);

	return k ? &a->g[k->i] : NULL;
}

static enum vg_status chk_root_gid0(const struct acc_arg *arg, struct vg_ctx *ctx,
				    const struct vg_accounts *a, struct vg_ev *ev)
{
	const struct ac_user *root = find_user(a, "root");

	if (!root) {
		ev_add(ev, "/etc/passwd: no root account");
		return VG_FAILED;
	}
	ev_add(ev, "/etc/passwd:%zu: root has gid %lu", root->line, (unsigned long)root->gid);
	return root->gid == 0 ? VG_PASSED : VG_FAILED;
}

static enum vg_status chk_no_empty_passwords(const struct acc_arg *arg, struct vg_ctx *ctx,
					     const struct vg_accounts *a, struct vg_ev *ev)
{
	enum vg_status st = VG_PASSED;

	for (size_t i = 0; i < a->ns; i++) {
		if (a->s[i].hash[0] == 0) {
			ev_add(ev, "/etc/shadow:%zu: %s has an empty password", a->s[i].line,
			       a->s[i].name);
			st = VG_FAILED;
		}
	}
	/* An empty passwd field means no password at all, shadow or not. */
	for (size_t i = 0; i < a->nu; i++) {
		if (a->u[i].pw[0] == 0) {
			ev_add(ev, "/etc/passwd:%zu: %s has an empty password field", a->u[i].line,
			       a->u[i].name);
			st = VG_FAILED;
		}
	}
	if (st == VG_PASSED)
		ev_add(ev, "/etc/shadow: no empty password in %zu entries", a->ns);
	return st;
}

static enum vg_status chk_shadowed_passwords(const struct acc_arg *arg, struct vg_ctx *ctx,
					     const struct vg_accounts *a, struct vg_ev *ev)
{
	enum vg_status st = VG_PASSED;

	for (size_t i = 0; i < a->nu; i++) {
		if (strcmp(a->u[i].pw, "x") != 0) {
			/* Never show what is there: it may be a hash. */
			ev_add(ev, "/etc/passwd:%zu: %s has a password field other than \"x\"",
			       a->u[i].line, a->u[i].name);
			st = VG_FAILED;
		}
	}
	if (st == VG_PASSED)
		ev_add(ev, "/etc/passwd: all %zu accounts use /etc/shadow", a->nu);
	return st;
}

static enum vg_status chk_groups_exist(const struct acc_arg *arg, struct vg_ctx *ctx,
				       const struct vg_accounts *a, struct vg_ev *ev)
{
	enum vg_status st = VG_PASSED;

	for (size_t i = 0; i < a->nu; i++) {
		if (!find_id(a->gid_ix, a->ng, a->u[i].gid)) {
			ev_add(ev, "/etc/passwd:%zu: %s has gid %lu, not in /etc/group",
			       a->u[i].line, a->u[i].name, (unsigned long)a->u[i].gid);
			st = VG_FAILED;
		}
	}
	if (st == VG_PASSED)
		ev_add(ev, "/etc/passwd: the groups of all %zu accounts exist", a->nu);
	return st;
}

static enum vg_status chk_shadow_group_empty(const struct acc_arg *arg, struct vg_ctx *ctx,
					     const struct vg_accounts *a, struct vg_ev *ev)
{
	const struct ac_group *g = find_group(a, "shadow");
	enum vg_status st = VG_PASSED;

	if (!g) {
		ev_add(ev, "/etc/group: no shadow group");
		return VG_PASSED;
	}
	if (g->members[strspn(g->members, " \t\r")]) {
		ev_add(ev, "/etc/group:%zu: shadow has members %s", g->line, g->members);
		st = VG_FAILED;
	}
	for (size_t i = 0; i < a->nu; i++) {
		if (a->u[i].gid == g->gid) {
			ev_add(ev, "/etc/passwd:%zu: %s has the shadow group (gid %lu)",
			       a->u[i].line, a->u[i].name, (unsigned long)g->gid);
			st = VG_FAILED;
		}
	}
	if (st == VG_PASSED)
		ev_add(ev, "/etc/group:%zu: shadow has no members", g->line);
	return st;
}

/* Locked ("!", "*") and empty hashes cannot be logged in with, so password
 * aging means nothing for them. */
static bool usable_hash(const struct ac_shadow *s)
{
	return s->hash[0] && s->hash[0] != '!' && s->hash[0] != '*';
}

static long long sp_max(const struct ac_shadow *s)
{
	return s->max;
}

static long long sp_min(const struct ac_shadow *s)
{
	return s->min;
}

static long long sp_warn(const struct ac_shadow *s)
{
	return s->warn;
}

static long long sp_inact(const struct ac_shadow *s)
{
	return s->inact;
}

struct aging_rule {
	long long (*get)(const struct ac_shadow *s);
	const char *what;
	long long unset_as;		/* an empty field per shadow(5); -1: no limit */
	bool is_max;
};

/* One aging field of every account with a usable password against a
 * bound.  An empty field that means "no limit" fails. */
static enum vg_status aging(const struct vg_accounts *a, const struct aging_rule *r,
			    long long bound, struct vg_ev *ev)
{
	enum vg_status st = VG_PASSED;
	size_t n = 0;

	for (size_t i = 0; i < a->ns; i++) {
		const struct ac_shadow *s = &a->s[i];
		long long v;

		if (!usable_hash(s))
			continue;
		n++;
		v = r->get(s);
		if (v < 0)
			v = r->unset_as;
		if (v < 0) {
			ev_add(ev, "/etc/shadow:%zu: %s has no %s", s->line, s->name, r->what);
			st = VG_FAILED;
		} else if (r->is_max ? v > bound : v < bound) {
			ev_add(ev, "/etc/shadow:%zu: %s has %s %lld (%s %lld)", s->line, s->name,
			       r->what, v, r->is_max ? "max" : "min", bound);
			st = VG_FAILED;
		}
	}
	if (st == VG_PASSED)
		ev_add(ev, "/etc/shadow: %s within %s %lld for %zu accounts with a password",
		       r->what, r->is_max ? "max" : "min", bound, n);
	return st;
}

static enum vg_status chk_password_max_days(const struct acc_arg *arg, struct vg_ctx *ctx,
					    const struct vg_accounts *a, struct vg_ev *ev)
{
	static const struct aging_rule r = {sp_max, "maximum password age", -1, true};

	return aging(a, &r, arg->max, ev);
}

static enum vg_status chk_password_min_days(const struct acc_arg *arg, struct vg_ctx *ctx,
					    const struct vg_accounts *a, struct vg_ev *ev)
{
	static const struct aging_rule r = {sp_min, "minimum password age", 0, false};

	return aging(a, &r, arg->min, ev);
}

static enum vg_status chk_password_warn_age(const struct acc_arg *arg, struct vg_ctx *ctx,
					    const struct vg_accounts *a, struct vg_ev *ev)
{
	static const struct aging_rule r = {sp_warn, "password warning period", 0, false};

	return aging(a, &r, arg->min, ev);
}

static enum vg_status chk_password_inactive(const struct acc_arg *arg, struct vg_ctx *ctx,
					    const struct vg_accounts *a, struct vg_ev *ev)
{
	static const struct aging_rule r = {sp_inact, "password inactivity period", -1, true};

	return aging(a, &r, arg->max, ev);
}

static enum vg_status chk_no_future_password_change(const struct acc_arg *arg,
						    struct vg_ctx *ctx,
						    const struct vg_accounts *a,
						    struct vg_ev *ev)
{
	long long today = (long long)(time(NULL) / 86400);
	enum vg_status st = VG_PASSED;

	for (size_t i = 0; i < a->ns; i++) {
		const struct ac_shadow *s = &a->s[i];

		if (usable_hash(s) && s->lstchg > today) {
			ev_add(ev, "/etc/shadow:%zu: %s last changed on day %lld, today is %lld",
			       s->line, s->name, s->lstchg, today);
			st = VG_FAILED;
		}
	}
	if (st == VG_PASSED)
		ev_add(ev, "/etc/shadow: no password change after day %lld", today);
	return st;
}

struct uidmin_scan {
	long long uid_min;
};

/* login.defs: "KEY value", the last setting wins. */
static int uidmin_line(void *u, char *line, size_t lineno)
{
	struct uidmin_scan *sc = u;
	char *key = str_trim(line), *val;
	long long v;

	if (strncmp(key, "UID_MIN", 7) != 0 || (key[7] != ' ' && key[7] != '\t'))
		return 0;
	val = str_trim(key + 7);
	if (str_to_ll(val, &v) && v >= 0)
		sc->uid_min = v;
	return 0;
}

static const char *const nologin_shells[] = {
	"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", NULL,
};

/* Accounts that exist to run a command at login, not to log in. */
static const char *const login_exempt[] = {"root", "sync", "shutdown", "halt", NULL};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static enum vg_status chk_system_accounts_nologin(const struct acc_arg *arg,
						  struct vg_ctx *ctx,
						  const struct vg_accounts *a, struct vg_ev *ev)
{
	struct uidmin_scan sc = {AC_UID_MIN_DFLT};
	enum vg_status st = VG_PASSED;
	size_t n = 0;

	if (root_lines(&ctx->root, "/etc/login.defs", AC_MAX_BYTES, uidmin_line, &sc) < 0 &&
	    errno != ENOENT) {
		ev_add(ev, "/etc/login.defs: %s", strerror(errno));
		return VG_ERROR;
	}
	for (size_t i = 0; i < a->nu; i++) {
		const struct ac_user *u = &a->u[i];

		if ((long long)u->uid >= sc.uid_min || in_list(login_exempt, u->name))
			continue;
		n++;
		if (!in_list(nologin_shells, u->shell)) {
			ev_add(ev, "/etc/passwd:%zu: %s (uid %lu) has shell \"%s\"", u->line,
			       u->name, (unsigned long)u->uid, u->shell);
			st = VG_FAILED;
		}
	}
	if (st == VG_PASSED)
		ev_add(ev, "/etc/passwd: %zu system accounts (uid < %lld), none with a login shell",
		       n, sc.uid_min);
	return st;
}

static const struct ac_checkdef checks[C_NCHECKS] = {
	[C_UNIQUE_UIDS] = {F_PW, B_NONE, chk_unique_uids},
	[C_UNIQUE_GIDS] = {F_GR, B_NONE, chk_unique_gids},
	[C_UNIQUE_USER_NAMES] = {F_PW, B_NONE, chk_unique_user_names},
	[C_UNIQUE_GROUP_NAMES] = {F_GR, B_NONE, chk_unique_group_names},
	[C_ONLY_ROOT_UID0] = {F_PW, B_NONE, chk_only_root_uid0},
	[C_ROOT_GID0] = {F_PW, B_NONE, chk_root_gid0},
	[C_NO_EMPTY_PASSWORDS] = {F_PW | F_SP, B_NONE, chk_no_empty_passwords},
	[C_SHADOWED_PASSWORDS] = {F_PW, B_NONE, chk_shadowed_passwords},
	[C_GROUPS_EXIST] = {F_PW | F_GR, B_NONE, chk_groups_exist},
	[C_SHADOW_GROUP_EMPTY] = {F_PW | F_GR, B_NONE, chk_shadow_group_empty},
	[C_PASSWORD_MAX_DAYS] = {F_SP, B_MAX, chk_password_max_days},
	[C_PASSWORD_MIN_DAYS] = {F_SP, B_MIN, chk_password_min_days},
	[C_PASSWORD_WARN_AGE] = {F_SP, B_MIN, chk_password_warn_age},
	[C_PASSWORD_INACTIVE] = {F_SP, B_MAX, chk_password_inactive},
	[C_NO_FUTURE_PASSWORD_CHANGE] = {F_SP, B_NONE, chk_no_future_password_change},
	[C_SYSTEM_ACCOUNTS_NOLOGIN] = {F_PW, B_NONE, chk_system_accounts_nologin},
};

static void acc_init(void *p)
{
	struct acc_arg *arg = p;

	arg->check = -1;
	arg->min = arg->max = BOUND_UNSET;
}

/* Each check takes exactly the bound it uses: a stray "max" on a min check
 * is a typo that would otherwise be silently ignored. */
static int acc_check(void *p, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err)
{
	const struct acc_arg *arg = p;
	const struct ac_checkdef *def;
	const char *name;

	if (arg->check < 0 || arg->check >= C_NCHECKS) {
		vg_errf(err, "%s:%d: accounts: check is required", y->file, yline(map));
		return -1;
	}
	def = &checks[arg->check];
	name = check_names[arg->check];
	if (def->bound != B_MIN && arg->min != BOUND_UNSET) {
		vg_errf(err, "%s:%d: accounts: check %s takes no min", y->file, yline(map), name);
		return -1;
	}
	if (def->bound != B_MAX && arg->max != BOUND_UNSET) {
		vg_errf(err, "%s:%d: accounts: check %s takes no max", y->file, yline(map), name);
		return -1;
	}
	if ((def->bound == B_MIN && arg->min == BOUND_UNSET) ||
	    (def->bound == B_MAX && arg->max == BOUND_UNSET)) {
		vg_errf(err, "%s:%d: accounts: check %s needs %s", y->file, yline(map), name,
			def->bound == B_MIN ? "min" : "max");
		return -1;
	}
	if ((def->bound == B_MIN && arg->min < 0) || (def->bound == B_MAX && arg->max < 0)) {
		vg_errf(err, "%s:%d: accounts: %s: a number of days cannot be negative",
			y->file, yline(map), name);
		return -1;
	}
	return 0;
}

/* Lines the system itself ignores are worth seeing, but do not decide. */
static void note_malformed(const struct vg_accounts *a, unsigned files, struct vg_ev *ev)
{
	for (int i = 0; i < AC_NFILES; i++) {
		const struct ac_file *f = &a->f[i];

		if (!(files & (1u << i)))
			continue;
		for (size_t k = 0; k < f->nbad && k < VG_EV_MAX; k++)
			ev_add(ev, "%s:%zu: malformed entry, ignored as the system ignores it",
			       ac_path[i], f->bad[k]);
		if (f->nbad > VG_EV_MAX)
			ev_add(ev, "%s: %zu malformed entries in all", ac_path[i], f->nbad);
	}
}

static enum vg_status acc_eval(const void *p, struct vg_ctx *ctx, struct vg_ev *ev)
{
	const struct acc_arg *arg = p;
	const struct ac_checkdef *def = &checks[arg->check];
	const struct vg_accounts *a = ac_get(ctx);
	enum vg_status st = VG_PASSED;

	for (int i = 0; i < AC_NFILES; i++) {
		if ((def->files & (1u << i)) && a->f[i].err) {
			ev_add(ev, "%s: %s", ac_path[i], strerror(a->f[i].err));
			st = VG_ERROR;
		}
	}
	if (st == VG_ERROR)
		return st;
	st = def->fn(arg, ctx, a, ev);
	note_malformed(a, def->files, ev);
	return st;
}

const struct vg_probe probe_accounts = {
	.name = "accounts",
	.argsize = sizeof(struct acc_arg),
	.fields = acc_fields,
	.init = acc_init,
	.check = acc_check,
	.eval = acc_eval,
};
