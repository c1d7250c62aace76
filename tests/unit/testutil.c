#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

char *tu_mkroot(void)
{
	char tmpl[] = "/tmp/vigil-test-XXXXXX";
	if (!mkdtemp(tmpl))
		fail_msg("mkdtemp: %s", strerror(errno));
	return xstrdup(tmpl);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

void tu_rmroot(char *root)
{
	if (root && strncmp(root, "/tmp/vigil-test-", 16) == 0)
		nftw(root, rm_one, 32, FTW_DEPTH | FTW_PHYS);
	free(root);
}

static void mkparents(const char *full)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", full);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
}

void tu_write(const char *root, const char *path, const char *text, mode_t mode)
{
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "%s%s", root, path);
	mkparents(full);
	FILE *f = fopen(full, "w");
	if (!f)
		fail_msg("write %s: %s", full, strerror(errno));
	fputs(text, f);
	fclose(f);
	if (chmod(full, mode))
		fail_msg("chmod %s: %s", full, strerror(errno));
}

void tu_mkdir(const char *root, const char *path, mode_t mode)
{
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "%s%s/", root, path);
	mkparents(full);
	if (chmod(full, mode))
		fail_msg("chmod %s: %s", full, strerror(errno));
}

void tu_symlink(const char *root, const char *target, const char *path)
{
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "%s%s", root, path);
	mkparents(full);
	unlink(full);
	if (symlink(target, full))
		fail_msg("symlink %s: %s", full, strerror(errno));
}

void tu_chown(const char *root, const char *path, uid_t uid, gid_t gid)
{
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "%s%s", root, path);
	if (lchown(full, uid, gid))
		fail_msg("chown %s: %s", full, strerror(errno));
}

void tu_run(struct tu_run *t, const char *root, const char *yaml)
{
	struct vg_err err = {{0}};
	struct vg_filter f = {.min_severity = -1};

	memset(t, 0, sizeof(*t));
	config_defaults(&t->cfg);
	if (baseline_load_mem(&t->b, "test.yaml", yaml, strlen(yaml), &err))
		fail_msg("baseline did not load: %s", err.msg);
	if (ctx_init(&t->ctx, root, &t->cfg, &err))
		fail_msg("ctx_init: %s", err.msg);
	t->res = xcalloc(t->b.nchecks ? t->b.nchecks : 1, sizeof(*t->res));
	if (engine_run(&t->b, &t->ctx, &f, t->res, &t->sum, &err))
		fail_msg("engine_run: %s", err.msg);
}

static size_t tu_index(struct tu_run *t, const char *id)
{
	for (size_t i = 0; i < t->b.nchecks; i++)
		if (strcmp(t->b.checks[i].id, id) == 0)
			return i;
	fail_msg("no check %s", id);
	return 0;
}

enum vg_status tu_status(struct tu_run *t, const char *id)
{
	return t->res[tu_index(t, id)].status;
}

const char *tu_evidence(struct tu_run *t, const char *id)
{
	const struct vg_ev *ev = &t->res[tu_index(t, id)].ev;
	size_t off = 0;

	t->evbuf[0] = 0;
	for (size_t i = 0; i < ev->n && off < sizeof(t->evbuf); i++)
		off += snprintf(t->evbuf + off, sizeof(t->evbuf) - off, "%s%s",
				i ? " | " : "", ev->item[i]);
	return t->evbuf;
}

void tu_done(struct tu_run *t)
{
	results_free(t->res, t->b.nchecks);
	free(t->res);
	ctx_fini(&t->ctx);
	baseline_free(&t->b);
	config_free(&t->cfg);
}

const char *tu_load_error(const char *yaml)
{
	static struct vg_err err;
	struct vg_baseline b;

	memset(&err, 0, sizeof(err));
	if (baseline_load_mem(&b, "bad.yaml", yaml, strlen(yaml), &err) == 0) {
		baseline_free(&b);
		fail_msg("baseline loaded but should not have");
	}
	return err.msg;
}
