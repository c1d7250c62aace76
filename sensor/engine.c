/* engine.c: evaluating a baseline's checks against a host or an image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

int ctx_init(struct vg_ctx *ctx, const char *rootdir, const struct vg_config *cfg,
	     struct vg_err *err)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	return root_init(&ctx->root, rootdir, err);
}

void ctx_fini(struct vg_ctx *ctx)
{
	if (ctx->accounts)
		accounts_free(ctx->accounts);
	if (ctx->pkgs)
		pkgdb_free(ctx->pkgs);
	if (ctx->modconf)
		modconf_free(ctx->modconf);
	if (ctx->mounts)
		mounts_free(ctx->mounts);
	if (ctx->sysctl)
		sysctl_free(ctx->sysctl);
	if (ctx->sockets)
		sockets_free(ctx->sockets);
	if (ctx->walk)
		fswalk_free(ctx->walk);
	root_fini(&ctx->root);
	memset(ctx, 0, sizeof(*ctx));
}

/* How a group's children decide it; see docs/baselines.md "Results". */
static enum vg_status decide(enum vg_join join, const size_t cnt[4])
{
	size_t pass = cnt[VG_PASSED], fail = cnt[VG_FAILED], error = cnt[VG_ERROR];

	switch (join) {
	case VG_ALL:
		return fail ? VG_FAILED : error ? VG_ERROR : pass ? VG_PASSED : VG_NA;
	case VG_ANY:
		return pass ? VG_PASSED : error ? VG_ERROR : fail ? VG_FAILED : VG_NA;
	case VG_NONE:
		return pass ? VG_FAILED : error ? VG_ERROR : fail ? VG_PASSED : VG_NA;
	case VG_LEAF:
		break;
	}
	return VG_ERROR;
}

/* Which children's evidence explains the group's result. */
static enum vg_status witness(enum vg_join join, enum vg_status result)
{
	if (join == VG_NONE && result == VG_FAILED)
		return VG_PASSED;
	if (join == VG_NONE && result == VG_PASSED)
		return VG_FAILED;
	return result;
}

enum vg_status rule_eval(const struct vg_rule *r, struct vg_ctx *ctx, struct vg_ev *ev)
{
	struct vg_ev *kev;
	enum vg_status *st, result;
	size_t cnt[4] = {0};

	if (r->join == VG_LEAF)
		return r->probe->eval(r->arg, ctx, ev);
	kev = xcalloc(r->nkids, sizeof(*kev));
	st = xcalloc(r->nkids, sizeof(*st));
	for (size_t i = 0; i < r->nkids; i++) {
		st[i] = rule_eval(&r->kids[i], ctx, &kev[i]);
		cnt[st[i]]++;
	}
	result = decide(r->join, cnt);
	for (size_t i = 0; i < r->nkids; i++) {
		if (result == VG_NA || st[i] == witness(r->join, result))
			ev_append(ev, &kev[i]);
		ev_free(&kev[i]);
	}
	free(kev);
	free(st);
	return result;
}

static void prepare(const struct vg_rule *r, struct vg_ctx *ctx)
{
	if (r->join == VG_LEAF) {
		if (r->probe->prepare)
			r->probe->prepare(r->arg, ctx);
		return;
	}
	for (size_t i = 0; i < r->nkids; i++)
		prepare(&r->kids[i], ctx);
}

static enum vg_status eval_check(const struct vg_check *c, struct vg_ctx *ctx, struct vg_ev *ev)
{
	if (c->applies.nkids) {
		struct vg_ev aev = {0};
		enum vg_status a = rule_eval(&c->applies, ctx, &aev);
		if (a != VG_PASSED) {
			ev_add(ev, a == VG_ERROR ? "could not tell whether the check applies"
						 : "does not apply to this system");
			ev_append(ev, &aev);
			return a == VG_ERROR ? VG_ERROR : VG_NA;
		}
		ev_free(&aev);
	}
	return rule_eval(&c->rule, ctx, ev);
}

static bool uses_probe(const struct vg_rule *r, const char *name)
{
	if (r->join == VG_LEAF)
		return !strcmp(r->probe->name, name);
	for (size_t i = 0; i < r->nkids; i++)
		if (uses_probe(&r->kids[i], name))
			return true;
	return false;
}

/* A filesystem-wide search walks every file of the root: seconds on a
 * large tree, where every other check takes microseconds. */
static bool walks_everything(const struct vg_check *c)
{
	return uses_probe(&c->rule, "fs_search") || uses_probe(&c->applies, "fs_search");
}

static bool selected(const struct vg_check *c, const struct vg_filter *f)
{
	if (f->only.n && !strv_has(&f->only, c->id))
		return false;
	return f->min_severity < 0 || (int)c->severity >= f->min_severity;
}

int engine_run(const struct vg_baseline *b, struct vg_ctx *ctx, const struct vg_filter *f,
	       struct vg_result *res, struct vg_summary *sum, struct vg_err *err)
{
	for (size_t i = 0; i < f->only.n; i++)
		if (!baseline_find(b, f->only.v[i]))
			return vg_errf(err, "--only: baseline %s has no check '%s'", b->id,
				       f->only.v[i]);
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < b->nchecks; i++) {
		res[i].selected = selected(&b->checks[i], f);
		res[i].skipped = false;
		if (res[i].selected && f->quick && walks_everything(&b->checks[i])) {
			res[i].selected = false;
			res[i].skipped = true;
			sum->skipped++;
		}
		if (res[i].selected) {
			prepare(&b->checks[i].applies, ctx);
			prepare(&b->checks[i].rule, ctx);
		}
	}
	for (size_t i = 0; i < b->nchecks; i++) {
		if (!res[i].selected)
			continue;
		res[i].status = eval_check(&b->checks[i], ctx, &res[i].ev);
		switch (res[i].status) {
		case VG_PASSED: sum->passed++; break;
		case VG_FAILED: sum->failed++; break;
		case VG_NA: sum->na++; break;
		case VG_ERROR: sum->errors++; break;
		}
	}
	sum->score = sum->passed + sum->failed
			     ? 100.0 * (double)sum->passed / (double)(sum->passed + sum->failed)
			     : NAN;
	return 0;
}

void results_free(struct vg_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ev_free(&res[i].ev);
}
