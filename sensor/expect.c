/* expect.c: deciding a value read from the host against a baseline's
 * expectation (equals, in, matches, min/max, default when unset). */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil.h"


#define F(k, t, m) {k, t, offsetof(struct vg_expect, m), false, NULL}
static const struct yp_field expect_fields[] = {
	F("equals", YP_STR, equals),
	F("in", YP_STRV, in),
	F("not_in", YP_STRV, not_in),
	F("matches", YP_STR, matches),
	F("not_matches", YP_STR, not_matches),
	F("min", YP_INT, min),
	F("max", YP_INT, max),
	F("default", YP_STR, dflt),
	F("absent", YP_STATUS, absent),
	{0},
};
#undef F

static int compile(struct vg_yctx *y, yaml_node_t *n, regex_t *re, const char *src, int flags,
		   struct vg_err *err)
{
	char msg[256];
	int rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB | flags);

	if (rc == 0)
		return 0;
	regerror(rc, re, msg, sizeof(msg));
	regfree(re);
	return vg_errf(err, "%s:%d: bad regex '%s': %s", y ? y->file : "?", yline(n), src, msg);
}

int expect_parse(struct vg_yctx *y, yaml_node_t *n, struct vg_expect *e, struct vg_err *err)
{
	expect_free(e);
	e->min = LLONG_MIN;
	e->max = LLONG_MAX;
	e->absent = VG_FAILED;
	if (yp_parse(y, n, expect_fields, e, "expect", err))
		return -1;
	e->has_min = e->min != LLONG_MIN;
	e->has_max = e->max != LLONG_MAX;
	e->set = e->equals || e->in.n || e->not_in.n || e->matches || e->not_matches ||
		 e->has_min || e->has_max;
	if (!e->set && !e->dflt && n && n->type == YAML_MAPPING_NODE &&
	    n->data.mapping.pairs.top == n->data.mapping.pairs.start)
		return vg_errf(err, "%s:%d: empty expect", y->file, yline(n));
	if (e->matches && compile(y, n, &e->re, e->matches, 0, err)) {
		free(e->matches);
		e->matches = NULL;
		return -1;
	}
	if (e->not_matches && compile(y, n, &e->not_re, e->not_matches, 0, err)) {
		free(e->not_matches);
		e->not_matches = NULL;
		return -1;
	}
	return 0;
}

void expect_icase(struct vg_expect *e)
{
	e->icase = true;
	/* Both compiled once already, so they compile again. */
	if (e->matches) {
		regfree(&e->re);
		regcomp(&e->re, e->matches, REG_EXTENDED | REG_NOSUB | REG_ICASE);
	}
	if (e->not_matches) {
		regfree(&e->not_re);
		regcomp(&e->not_re, e->not_matches, REG_EXTENDED | REG_NOSUB | REG_ICASE);
	}
}

void expect_free(struct vg_expect *e)
{
	if (e->matches)
		regfree(&e->re);
	if (e->not_matches)
		regfree(&e->not_re);
	yp_free(expect_fields, e);
	bool icase = e->icase;
	memset(e, 0, sizeof(*e));
	e->icase = icase;
	e->absent = VG_FAILED;
}

static bool same(const struct vg_expect *e, const char *a, const char *b)
{
	return e->icase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

static bool in_list(const struct vg_expect *e, const struct vg_strv *sv, const char *v)
{
	for (size_t i = 0; i < sv->n; i++)
		if (same(e, sv->v[i], v))
			return true;
	return false;
}

/* Returns NULL when val meets e, else what it missed. */
static const char *first_miss(const struct vg_expect *e, const char *val, char *why, size_t n)
{
	long long num;

	if (e->equals && !same(e, e->equals, val))
		return snprintf(why, n, "expected \"%s\"", e->equals), why;
	if (e->in.n && !in_list(e, &e->in, val))
		return snprintf(why, n, "expected one of the allowed values"), why;
	if (e->not_in.n && in_list(e, &e->not_in, val))
		return snprintf(why, n, "a forbidden value"), why;
	if (e->matches && regexec(&e->re, val, 0, NULL, 0) != 0)
		return snprintf(why, n, "expected to match /%s/", e->matches), why;
	if (e->not_matches && regexec(&e->not_re, val, 0, NULL, 0) == 0)
		return snprintf(why, n, "must not match /%s/", e->not_matches), why;
	if (e->has_min || e->has_max) {
		if (!str_to_ll(val, &num))
			return snprintf(why, n, "not a whole number"), why;
		if (e->has_min && num < e->min)
			return snprintf(why, n, "expected at least %lld", e->min), why;
		if (e->has_max && num > e->max)
			return snprintf(why, n, "expected at most %lld", e->max), why;
	}
	return NULL;
}

enum vg_status expect_eval(const struct vg_expect *e, const char *val, const char *what,
			   struct vg_ev *ev)
{
	const char *miss;
	char why[256];
	bool dflt = false;

	if (!val) {
		if (!e->dflt) {
			ev_add(ev, "%s is not set", what);
			return (enum vg_status)e->absent;
		}
		val = e->dflt;
		dflt = true;
	}
	miss = first_miss(e, val, why, sizeof(why));
	ev_add(ev, "%s = \"%s\"%s%s%s", what, val, dflt ? " (default, not set)" : "",
	       miss ? ": " : "", miss ? miss : "");
	return miss ? VG_FAILED : VG_PASSED;
}
