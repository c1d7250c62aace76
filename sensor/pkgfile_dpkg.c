/*
 * pkgfile_dpkg.c: what dpkg says a file should hold.
 *
 * Files of a package: /var/lib/dpkg/info/PKG[:ARCH].md5sums, lines of
 * "md5  relative/path". Conffiles are not there; their md5 of the shipped
 * version is in the status file's Conffiles field (" /etc/x md5 [obsolete]").
 * Diversions are not followed: a diverted file is answered for the path
 * the package names.
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>

#include "pkgfile.h"

#define DPKG_INFO_GLOB	"/var/lib/dpkg/info/*.md5sums"
#define DPKG_STATUS	"/var/lib/dpkg/status"
#define MD5SUMS_MAX	(64u << 20)
#define STATUS_MAX	(256u << 20)
#define MD5_HEX		32

/* One md5sums line: "0123...ef  usr/bin/ls" ("*" marks binary mode). */
static void md5sums_line(struct pkg_query *q, const char *pkg, size_t plen, char *line,
			 size_t *bad)
{
	unsigned char md5[16];
	char *path = line + MD5_HEX;
	struct pkg_owner *o;

	if (strlen(line) <= MD5_HEX + 1 || *path != ' ' ||
	    pkg_unhex(line, MD5_HEX, md5, sizeof(md5)) != sizeof(md5)) {
		(*bad)++;
		return;
	}
	while (*path == ' ')
		path++;
	if (*path == '*')
		path++;
	if (*path && (o = pkgq_find(q, path, strlen(path))))
		pkgq_claim(o, "dpkg", pkg, plen, PKG_ALG_MD5, md5, sizeof(md5), false);
}

struct md5sums {
	struct pkg_query *q;
	const char *pkg;
	size_t plen;
	size_t *bad;
};

static int md5sums_each(void *u, char *line, size_t lineno)
{
	struct md5sums *m = u;

	(void)lineno;
	if (*line)
		md5sums_line(m->q, m->pkg, m->plen, line, m->bad);
	return 0;
}

static int read_md5sums(const struct vg_root *r, struct pkg_query *q, const char *file,
			size_t *bad, struct vg_err *err)
{
	const char *base = strrchr(file, '/') + 1;
	size_t plen = strlen(base) - strlen(".md5sums");
	const char *colon = memchr(base, ':', plen);	/* "libc6:amd64.md5sums" */
	struct md5sums m = {q, base, colon ? (size_t)(colon - base) : plen, bad};

	if (root_lines(r, file, MD5SUMS_MAX, md5sums_each, &m) < 0)
		return errno == ENOENT ? 0 : vg_errf(err, "%s: %s", file, strerror(errno));
	return 0;
}

/* Cuts the last space-separated word off s (trimmed), and the spaces
 * before it: the word, or NULL when s is a single word. */
static char *cut_last_word(char *s)
{
	char *sp = strrchr(s, ' '), *end;

	if (!sp)
		return NULL;
	for (end = sp; end > s && end[-1] == ' '; end--)
		;
	*end = 0;
	return sp + 1;
}

/* " /etc/ssh/sshd_config 1c7c6c0fe8e5b0f1b3a5d1c3a4f2e0d9" [" obsolete"]
 * [" remove-on-upgrade"]. Words are taken from the end, as dpkg does: the
 * name may hold spaces, and the flags come after the digest. */
static void conffile_line(struct pkg_query *q, const char *pkg, char *line)
{
	char *path = str_trim(line), *md5s = cut_last_word(path);
	unsigned char md5[16];
	struct pkg_owner *o;

	if (!pkg || !md5s)
		return;
	if (!strcmp(md5s, "remove-on-upgrade") && !(md5s = cut_last_word(path)))
		return;
	if (!strcmp(md5s, "obsolete") || !*path || !(o = pkgq_find(q, path, strlen(path))))
		return;
	/* "newconffile": unpacked but not configured yet, no digest to trust. */
	if (pkg_unhex(md5s, strlen(md5s), md5, sizeof(md5)) == sizeof(md5))
		pkgq_claim(o, "dpkg", pkg, strlen(pkg), PKG_ALG_MD5, md5, sizeof(md5), true);
	else
		pkgq_claim(o, "dpkg", pkg, strlen(pkg), PKG_ALG_NONE, NULL, 0, true);
}

/* deb822 paragraphs: a Package field, then a Conffiles field whose value
 * is on the continuation lines that follow it. */
struct status {
	struct pkg_query *q;
	char *pkg;			/* the paragraph's, in root_lines' buffer */
	bool in_conffiles;
};

static int status_each(void *u, char *line, size_t lineno)
{
	struct status *st = u;

	(void)lineno;
	if (!*line) {
		st->pkg = NULL;
		st->in_conffiles = false;
	} else if (*line == ' ' || *line == '\t') {
		if (st->in_conffiles)
			conffile_line(st->q, st->pkg, line);
	} else {
		st->in_conffiles = !strncmp(line, "Conffiles:", 10);
		if (!strncmp(line, "Package:", 8))
			st->pkg = str_trim(line + 8);
	}
	return 0;
}

static int read_status(const struct vg_root *r, struct pkg_query *q, struct vg_err *err)
{
	struct status st = {q, NULL, false};

	if (root_lines(r, DPKG_STATUS, STATUS_MAX, status_each, &st) < 0)
		return errno == ENOENT ? 0 : vg_errf(err, "%s: %s", DPKG_STATUS, strerror(errno));
	return 0;
}

int pkgfile_dpkg(const struct vg_root *r, struct pkg_query *q, struct vg_err *err)
{
	struct vg_strv files = {0};
	size_t bad = 0;
	int rc = 0;

	if (!pkgq_size(q))
		return 0;
	if (read_status(r, q, err))
		return -1;
	if (root_glob(r, DPKG_INFO_GLOB, &files) < 0)
		rc = vg_errf(err, "%s: %s", DPKG_INFO_GLOB, strerror(errno));
	/* One unreadable list (a FIFO planted there, say) must not cost the
	 * answers of all the others. */
	for (size_t i = 0; !rc && i < files.n; i++)
		if (read_md5sums(r, q, files.v[i], &bad, err))
			log_warn("dpkg md5sums skipped: %s", err->msg);
	if (bad)
		log_info("dpkg md5sums: %zu malformed line(s) skipped", bad);
	strv_free(&files);
	return rc;
}
