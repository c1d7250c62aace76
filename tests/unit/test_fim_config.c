/* test_fim_config.c: the `fim:` section of vigil.yaml, its errors and defaults. */
#include <stdio.h>

#include "fimtest.h"

static int parse(struct vg_config *c, const char *yaml, struct vg_err *err)
{
	config_defaults(c);
	return config_parse(c, "v.yaml", yaml, strlen(yaml), err);
}

static void full_section(void **state)
{
	const char *yaml =
		"checks:\n"
		"  allow_commands: true\n"
		"fim:\n"
		"  state_dir: /srv/vigil\n"
		"  hash_threads: 3\n"
		"  sets:\n"
		"    - name: web\n"
		"      paths: [/srv/www, \"/home/*/.ssh\"]\n"
		"      exclude: [\"*.log\", /srv/www/cache/*]\n"
		"      attributes: [all, -device, -inode]\n"
		"    - paths: /etc\n"
		"      attributes: [mode, uid, gid, sha256]\n"
		"    - paths: [/var/log]\n"
		"      attributes: [-sha256]\n";
	struct vg_config c;
	struct vg_err err = {{0}};

	(void)state;
	if (parse(&c, yaml, &err))
		fail_msg("%s", err.msg);
	assert_true(c.allow_commands);			/* checks: still works beside fim: */
	assert_string_equal(c.fim.state_dir, "/srv/vigil");
	assert_int_equal(c.fim.hash_threads, 3);
	assert_int_equal(c.fim.nsets, 3);
	assert_string_equal(c.fim.sets[0].name, "web");
	assert_int_equal(c.fim.sets[0].paths.n, 2);
	assert_string_equal(c.fim.sets[0].paths.v[1], "/home/*/.ssh");
	assert_int_equal(c.fim.sets[0].exclude.n, 2);
	assert_int_equal(c.fim.sets[0].attrs, FIM_A_ALL & ~(FIM_A_DEVICE | FIM_A_INODE));
	assert_string_equal(c.fim.sets[1].name, "set2");
	assert_int_equal(c.fim.sets[1].attrs, FIM_A_MODE | FIM_A_UID | FIM_A_GID | FIM_A_SHA256);
	assert_int_equal(c.fim.sets[2].attrs, FIM_A_ALL & ~FIM_A_SHA256);
	config_free(&c);
}

/* Each bad configuration names the file and the line of the fault. */
static void errors_point_at_lines(void **state)
{
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{"fim:\n  sets:\n    - paths: [/etc]\n      pathz: [/x]\n",
		 "v.yaml:4: unknown key 'pathz' in a fim set"},
		{"fim:\n  sets:\n    - paths: [/etc]\n\n      attributes: [mode, colour]\n",
		 "v.yaml:5: unknown attribute 'colour'"},
		{"fim:\n  sets:\n    - paths: [etc]\n", "v.yaml:3: path 'etc' must be absolute"},
		{"fim:\n  sets:\n    - paths: [/etc/../root]\n", "v.yaml:3: path '/etc/../root'"},
		{"fim:\n  state_dir: var/lib\n", "v.yaml:2: fim.state_dir must be an absolute"},
		{"fim:\n  hash_threads: 1000\n", "v.yaml:2: fim.hash_threads must be"},
		{"fim:\n  hash_threads: many\n", "v.yaml:2: hash_threads: 'many' is not a whole"},
		{"fim:\n  sets: /etc\n", "v.yaml:2: fim.sets must be a list"},
		{"fim:\n  sets: []\n", "v.yaml:2: fim.sets needs 1.."},
		{"fim:\n  sets:\n    - /etc\n", "v.yaml:3: a fim set must be a mapping"},
		{"fim:\n  sets:\n    - name: x\n", "v.yaml:3: a fim set needs 'paths'"},
		{"fim:\n  watch: yes\n", "v.yaml:2: unknown key 'watch' in fim"},
		{"fim: [1]\n", "v.yaml:1: fim must be a mapping"},
		{"fimm: {}\n", "unknown section 'fimm' (known: checks, fim, run, outbox, collector)"},
	};
	struct vg_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_err err = {{0}};
		assert_int_equal(parse(&c, cases[i].yaml, &err), -1);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want, err.msg);
		config_free(&c);
	}
}

static void error_from_a_file(void **state)
{
	char *dir = tu_mkroot(), *file = xasprintf("%s/vigil.yaml", dir);
	struct vg_config c;
	struct vg_err err = {{0}};

	(void)state;
	tu_write(dir, "/vigil.yaml",
		 "# vigil\n"
		 "fim:\n"
		 "  sets:\n"
		 "    - name: etc\n"
		 "      paths: /etc\n"
		 "      attributes:\n"
		 "        - sha512\n", 0644);
	config_defaults(&c);
	assert_int_equal(config_load(&c, file, true, &err), -1);
	char *want = xasprintf("%s:7: unknown attribute 'sha512'", file);
	if (!strstr(err.msg, want))
		fail_msg("want '%s', got '%s'", want, err.msg);
	free(want);
	config_free(&c);
	free(file);
	tu_rmroot(dir);
}

static bool set_has(const struct vg_fim_config *fc, const char *path)
{
	for (size_t i = 0; i < fc->nsets; i++)
		if (strv_has(&fc->sets[i].paths, path))
			return true;
	return false;
}

static void server_defaults(void **state)
{
	struct vg_config c;
	struct vg_err err = {{0}};

	(void)state;
	assert_int_equal(parse(&c, "fim:\n  hash_threads: 2\n", &err), 0);
	assert_int_equal(c.fim.nsets, 0);
	fim_config_defaults(&c.fim, "/etc/vigil/vigil.yaml", "/usr/sbin/vigil");
	static const char *const want[] = {"/etc", "/usr/bin", "/usr/sbin", "/usr/lib", "/boot",
					   "/root/.ssh", "/home/*/.ssh", "/etc/cron.d",
					   "/var/spool/cron", "/etc/systemd/system",
					   "/usr/lib/systemd/system", "/etc/vigil/vigil.yaml",
					   "/usr/sbin/vigil", NULL};
	for (int i = 0; want[i]; i++)
		if (!set_has(&c.fim, want[i]))
			fail_msg("the defaults lack %s", want[i]);
	assert_int_equal(c.fim.hash_threads, 2);
	config_free(&c);

	/* Sets that are configured replace the defaults. */
	assert_int_equal(parse(&c, "fim: {sets: [{paths: /srv}]}\n", &err), 0);
	fim_config_defaults(&c.fim, "/etc/vigil/vigil.yaml", "/usr/sbin/vigil");
	assert_int_equal(c.fim.nsets, 1);
	assert_false(set_has(&c.fim, "/etc"));
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_section),
		cmocka_unit_test(errors_point_at_lines),
		cmocka_unit_test(error_from_a_file),
		cmocka_unit_test(server_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
