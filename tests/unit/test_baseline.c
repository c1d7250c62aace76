/* test_baseline.c: the loader accepts what docs/baselines.md describes and
 * refuses everything else with file:line and a reason. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define CHECK(id, body) "  - id: " id "\n    title: t\n" body
#define FILE_RULE "    all:\n      - file: {path: /etc/passwd}\n"

static void loads_a_full_check(void **state)
{
	struct vg_baseline b;
	struct vg_err err = {{0}};
	const char *y =
		"id: full\nname: Full\nversion: '2.0'\n"
		"platforms: [{id: debian, versions: ['12']}]\n"
		"vars: {maxtries: '4'}\n"
		"checks:\n"
		"  - id: ssh-1\n    section: '5.1 SSH'\n    title: MaxAuthTries\n"
		"    description: d\n    rationale: r\n    remediation: fix it\n"
		"    severity: high\n"
		"    compliance: {cis: [{id: '5.1.7', level: 1}, '5.1.8'], nist_800_53: [AC-7]}\n"
		"    applies_when: [{file: {path: /etc/ssh/sshd_config}}]\n"
		"    any:\n"
		"      - conf: {format: sshd, key: MaxAuthTries, expect: {max: '${maxtries}'}}\n"
		"      - all: [{file: {path: /nonexistent, exists: false}}]\n";

	(void)state;
	assert_int_equal(baseline_load_mem(&b, "full.yaml", y, strlen(y), &err), 0);
	assert_string_equal(b.id, "full");
	assert_int_equal(b.nplat, 1);
	assert_int_equal(b.nchecks, 1);
	const struct vg_check *c = &b.checks[0];
	assert_string_equal(c->section, "5.1 SSH");
	assert_int_equal(c->severity, VG_SEV_HIGH);
	assert_int_equal(c->ncis, 2);
	assert_string_equal(c->cis[0].id, "5.1.7");
	assert_int_equal(c->cis[0].level, 1);
	assert_int_equal(c->cis[1].level, 0);
	assert_string_equal(c->nist.v[0], "AC-7");
	assert_int_equal(c->rule.join, VG_ANY);
	assert_int_equal(c->rule.nkids, 2);
	assert_int_equal(c->rule.kids[1].join, VG_ALL);
	assert_int_equal(c->applies.nkids, 1);
	baseline_free(&b);
}

/* Each hostile baseline and the words its error must contain. */
static const struct {
	const char *yaml, *want;
} bad[] = {
	{"id: x\nname: n\nversion: 1\nchecks: [\n", "bad.yaml:"},
	{TU_HEAD CHECK("a", "    all:\n      - frobnicate: {path: /x}\n"), "unknown rule type 'frobnicate'"},
	{TU_HEAD CHECK("a", "    all:\n      - line: {path: /x, match: '(unclosed'}\n"), "bad regex"},
	{TU_HEAD "  - title: no id\n" FILE_RULE, "needs an id"},
	{TU_HEAD CHECK("a", FILE_RULE) CHECK("a", FILE_RULE), "duplicate check id 'a'"},
	{TU_HEAD CHECK("a", ""), "has no rules"},
	{TU_HEAD CHECK("a", FILE_RULE "    any:\n      - file: {path: /x}\n"), "more than one of"},
	{TU_HEAD CHECK("a", "    all:\n      - file: {path: /x, modee: '0644'}\n"), "unknown key 'modee'"},
	{TU_HEAD CHECK("a", "    all:\n      - file: {path: /x, mode: '0999'}\n"), "not an octal mode"},
	{TU_HEAD CHECK("a", "    all:\n      - file: {path: relative}\n"), "must be absolute"},
	{TU_HEAD CHECK("a", "    severity: huge\n" FILE_RULE), "severity must be"},
	{TU_HEAD CHECK("bad id!", FILE_RULE), "must be 1-128"},
	{TU_HEAD CHECK("a", "    all: []\n"), "empty rule group"},
	{TU_HEAD CHECK("a", "    all:\n      - {file: {path: /x}, line: {path: /x, match: a}}\n"), "one key"},
	{TU_HEAD CHECK("a", "    all:\n      - conf: {format: toml, key: k, path: /x, expect: {equals: a}}\n"), "is not one of"},
	{TU_HEAD CHECK("a", "    all:\n      - conf: {format: kv, key: k, expect: {equals: a}}\n"), "needs a path"},
	{TU_HEAD CHECK("a", "    all:\n      - sysctl: {key: a.b, expect: {min: ten}}\n"), "not a whole number"},
	{TU_HEAD CHECK("a", "    all:\n      - sysctl: {key: a.b, expect: {equals: '${nope}'}}\n"), "undefined variable ${nope}"},
	{TU_HEAD CHECK("a", "    all:\n      - command: {argv: [ls, -l]}\n"), "absolute path"},
	{TU_HEAD CHECK("a", "    all:\n      - pam: {service: ../../etc/shadow, type: auth, module: x.so}\n"), "plain names"},
	{"id: x\nname: n\nversion: 1\ninclude: [other]\nchecks: []\n", "include is not allowed"},
	{"id: x\nname: n\nversion: 1\ndrop: [a]\nchecks: []\n", "need an include"},
	{"id: x\nname: n\nversion: 1\nchecks: []\n", "has no checks"},
	{"name: n\nversion: 1\nchecks: []\n", "needs id, name and version"},
	{"id: x\nname: n\nversion: 1\nbogus: 1\nchecks: []\n", "unknown key 'bogus'"},
	{"id: x\nname: n\nversion: 1\nid: y\nchecks: []\n", "duplicate key 'id'"},
	{"- just\n- a list\n", "must be a mapping"},
	{"a: &x [1]\nb: *x\n", "anchors and aliases"},
	{"--- {id: a}\n--- {id: b}\n", "only one YAML document"},
	{"", "empty document"},
	{TU_HEAD CHECK("a", "    compliance: {pci: [1]}\n" FILE_RULE), "unknown compliance framework"},
	{TU_HEAD CHECK("a", "    compliance: {cis: [{id: '1', level: 7}]}\n" FILE_RULE), "CIS level"},
	{TU_HEAD CHECK("a", "    all:\n      - file: {path: /x, if_missing: maybe}\n"), "is not passed, failed"},
};

static void refuses_hostile_baselines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *msg = tu_load_error(bad[i].yaml);
		if (!strstr(msg, bad[i].want))
			fail_msg("case %zu: want '%s' in '%s'", i, bad[i].want, msg);
		if (!strstr(msg, "bad.yaml"))
			fail_msg("case %zu: no file name in '%s'", i, msg);
	}
}

static void reports_the_line(void **state)
{
	const char *msg = tu_load_error(TU_HEAD CHECK("a", FILE_RULE)
					"  - id: b\n    title: t\n    all:\n      - nope: {}\n");
	(void)state;
	assert_non_null(strstr(msg, "bad.yaml:12:"));
}

static void refuses_deep_nesting(void **state)
{
	struct vg_buf y = {0};

	(void)state;
	/* Rule groups deeper than 8. */
	buf_puts(&y, TU_HEAD "  - id: a\n    title: t\n    all:\n");
	for (int i = 0; i < 10; i++)
		buf_printf(&y, "%*s- all:\n", 6 + 2 * i, "");
	buf_printf(&y, "%*s- file: {path: /x}\n", 6 + 20, "");
	assert_non_null(strstr(tu_load_error(y.p), "nested deeper than 8"));
	buf_free(&y);

	/* YAML itself deeper than 64: flow sequences. */
	buf_puts(&y, "id: x\nname: n\nversion: 1\nchecks: ");
	for (int i = 0; i < 100; i++)
		buf_puts(&y, "[");
	for (int i = 0; i < 100; i++)
		buf_puts(&y, "]");
	assert_non_null(strstr(tu_load_error(y.p), "nested deeper than 64"));
	buf_free(&y);
}

static void refuses_huge_input(void **state)
{
	size_t n = VG_YAML_MAX_BYTES + 10;
	char *big = xmalloc(n + 1);

	(void)state;
	memset(big, '#', n);
	big[n] = 0;
	assert_non_null(strstr(tu_load_error(big), "larger than"));
	free(big);

	/* Many small nodes: over the node limit long before the byte limit. */
	struct vg_buf y = {0};
	buf_puts(&y, "id: x\nname: n\nversion: 1\nchecks: [");
	for (int i = 0; i < VG_YAML_MAX_NODES + 5; i++)
		buf_puts(&y, "1,");
	buf_puts(&y, "]\n");
	assert_non_null(strstr(tu_load_error(y.p), "YAML nodes"));
	buf_free(&y);
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void includes_override_and_drop(void **state)
{
	char *dir = tu_mkroot();
	struct vg_baseline b;
	struct vg_err err = {{0}};

	(void)state;
	free(write_tmp(dir, "base.yaml",
		       "id: base\nname: Base\nversion: 1\nvars: {v: base}\n"
		       "platforms: [{id: debian}]\nchecks:\n"
		       "  - id: one\n    title: '${v}'\n" FILE_RULE
		       "  - id: two\n    title: two\n" FILE_RULE
		       "  - id: three\n    title: three\n    severity: low\n" FILE_RULE));
	char *top = write_tmp(dir, "top.yaml",
			      "id: top\nname: Top\nversion: 2\nvars: {v: top}\n"
			      "platforms: [{id: ubuntu, versions: ['22.04']}]\n"
			      "include: [base]\ndrop: [two]\n"
			      "override:\n  - {id: three, severity: critical}\n"
			      "checks:\n  - id: four\n    title: four\n" FILE_RULE);
	assert_int_equal(baseline_load(&b, top, &err), 0);
	assert_string_equal(b.id, "top");
	assert_int_equal(b.nchecks, 3);
	assert_string_equal(b.checks[0].id, "one");
	assert_string_equal(b.checks[0].title, "top");	/* outer vars win */
	assert_string_equal(b.checks[1].id, "three");
	assert_int_equal(b.checks[1].severity, VG_SEV_CRITICAL);
	assert_string_equal(b.checks[1].title, "three");	/* untouched by override */
	assert_string_equal(b.checks[2].id, "four");
	assert_string_equal(b.plat[0].id, "ubuntu");

	struct vg_osrel os = {.id = "ubuntu", .version_id = "22.04"};
	assert_true(baseline_matches(&b, &os));
	os.version_id = "22.10";
	assert_false(baseline_matches(&b, &os));
	os.id = "debian";
	assert_false(baseline_matches(&b, &os));
	baseline_free(&b);
	free(top);
	tu_rmroot(dir);
}

static void refuses_include_cycles_and_bad_overrides(void **state)
{
	char *dir = tu_mkroot();
	struct vg_baseline b;
	struct vg_err err = {{0}};

	(void)state;
	free(write_tmp(dir, "a.yaml", "id: a\nname: a\nversion: 1\ninclude: [b]\nchecks: []\n"));
	free(write_tmp(dir, "b.yaml", "id: b\nname: b\nversion: 1\ninclude: [a]\nchecks: []\n"));
	char *a = xasprintf("%s/a.yaml", dir);
	assert_int_equal(baseline_load(&b, a, &err), -1);
	assert_non_null(strstr(err.msg, "include cycle"));
	assert_non_null(strstr(err.msg, "b.yaml:4"));

	free(write_tmp(dir, "c.yaml", "id: c\nname: c\nversion: 1\ninclude: [missing]\nchecks: []\n"));
	char *c = xasprintf("%s/c.yaml", dir);
	assert_int_equal(baseline_load(&b, c, &err), -1);
	assert_non_null(strstr(err.msg, "missing.yaml"));

	free(write_tmp(dir, "base.yaml", TU_HEAD CHECK("one", FILE_RULE)));
	free(write_tmp(dir, "d.yaml", "id: d\nname: d\nversion: 1\ninclude: [base]\n"
				      "override: [{id: nope, title: x}]\n"));
	char *d = xasprintf("%s/d.yaml", dir);
	assert_int_equal(baseline_load(&b, d, &err), -1);
	assert_non_null(strstr(err.msg, "unknown check 'nope'"));

	free(write_tmp(dir, "e.yaml", "id: e\nname: e\nversion: 1\ninclude: [base]\n"
				      "checks:\n  - id: one\n    title: again\n" FILE_RULE));
	char *e = xasprintf("%s/e.yaml", dir);
	assert_int_equal(baseline_load(&b, e, &err), -1);
	assert_non_null(strstr(err.msg, "duplicate check id 'one'"));
	free(a);
	free(c);
	free(d);
	free(e);
	tu_rmroot(dir);
}

static void refuses_a_fifo(void **state)
{
	char *dir = tu_mkroot();
	char *fifo = xasprintf("%s/pipe.yaml", dir);
	struct vg_baseline b;
	struct vg_err err = {{0}};

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(baseline_load(&b, fifo, &err), -1);
	assert_non_null(strstr(err.msg, "pipe.yaml"));
	free(fifo);
	tu_rmroot(dir);
}

static void config_file(void **state)
{
	struct vg_config c;
	struct vg_err err = {{0}};
	const char *good = "# comment\nchecks:\n  allow_commands: true\n  command_timeout: 5\n";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_parse(&c, "v.yaml", good, strlen(good), &err), 0);
	assert_true(c.allow_commands);
	assert_int_equal(c.command_timeout, 5);
	config_free(&c);

	config_defaults(&c);
	assert_int_equal(config_parse(&c, "v.yaml", "# only\n", 7, &err), 0);
	assert_false(c.allow_commands);
	assert_int_equal(config_parse(&c, "v.yaml", "checks: {command_timeout: 0}\n", 29, &err), -1);
	assert_non_null(strstr(err.msg, "v.yaml:1"));
	assert_int_equal(config_parse(&c, "v.yaml", "chekcs: {}\n", 11, &err), -1);
	assert_non_null(strstr(err.msg, "unknown section 'chekcs'"));
	assert_int_equal(config_load(&c, "/nonexistent/vigil.yaml", true, &err), -1);
	assert_int_equal(config_load(&c, "/nonexistent/vigil.yaml", false, &err), 0);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_a_full_check),
		cmocka_unit_test(refuses_hostile_baselines),
		cmocka_unit_test(reports_the_line),
		cmocka_unit_test(refuses_deep_nesting),
		cmocka_unit_test(refuses_huge_input),
		cmocka_unit_test(includes_override_and_drop),
		cmocka_unit_test(refuses_include_cycles_and_bad_overrides),
		cmocka_unit_test(refuses_a_fifo),
		cmocka_unit_test(config_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
