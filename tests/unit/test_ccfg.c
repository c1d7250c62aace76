/* test_ccfg.c: collector.yaml: values, defaults, and each refusal with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "collector.h"

static int parse(struct ccfg *c, const char *yaml, struct cerr *err)
{
	ccfg_defaults(c);
	err->msg[0] = 0;
	return ccfg_parse(c, "t.yaml", yaml, strlen(yaml), err);
}

/* yaml must be refused with a message holding want. */
static void refused(const char *yaml, const char *want)
{
	struct ccfg c;
	struct cerr err;

	if (parse(&c, yaml, &err) == 0)
		fail_msg("taken: %s", yaml);
	if (!strstr(err.msg, want))
		fail_msg("for %s: want '%s' in '%s'", yaml, want, err.msg);
	ccfg_free(&c);
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ccfg_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ccfg_size("1536", &v), 0);
	assert_int_equal(v, 1536);
	assert_int_equal(ccfg_size("64KiB", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(ccfg_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(ccfg_size("16 MiB", &v), 0);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(ccfg_size("2G", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(ccfg_size("100B", &v), 0);
	assert_int_equal(v, 100);
	/* Refused: signs, fractions, unknown units, overflow, nothing. */
	assert_int_equal(ccfg_size("-1", &v), -1);
	assert_int_equal(ccfg_size("+1", &v), -1);
	assert_int_equal(ccfg_size("1.5M", &v), -1);
	assert_int_equal(ccfg_size("1Mb", &v), -1);
	assert_int_equal(ccfg_size("1MB", &v), -1);
	assert_int_equal(ccfg_size("M", &v), -1);
	assert_int_equal(ccfg_size("", &v), -1);
	assert_int_equal(ccfg_size("18446744073709551615", &v), 0);
	assert_int_equal(ccfg_size("18446744073709551616", &v), -1);
	assert_int_equal(ccfg_size("17179869184G", &v), -1);	/* 2^34 GiB wraps */
}

static void test_durations(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(ccfg_duration("30", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(ccfg_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(ccfg_duration("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(ccfg_duration("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(ccfg_duration("7d", &ms), 0);
	assert_int_equal(ms, 7ull * 86400000);
	assert_int_equal(ccfg_duration("1w", &ms), -1);
	assert_int_equal(ccfg_duration("1.5s", &ms), -1);
	assert_int_equal(ccfg_duration("-5s", &ms), -1);
	assert_int_equal(ccfg_duration("s", &ms), -1);
	assert_int_equal(ccfg_duration("999999999999999999d", &ms), -1);
}

static void test_defaults(void **state)
{
	struct ccfg c;
	struct cerr err;

	(void)state;
	assert_int_equal(parse(&c, "", &err), 0);
	assert_int_equal(c.n_listen, 1);
	assert_string_equal(c.listen[0], CCFG_LISTEN);
	assert_string_equal(c.state_dir, CCFG_STATE_DIR);
	assert_null(c.store);
	assert_int_equal(c.n_names, 0);
	assert_int_equal(c.cert_days, 365);
	assert_int_equal(c.log_level, CLOG_INFO);
	assert_int_equal(c.lim.max_connections, 1024);
	assert_int_equal(c.lim.frame_max, 16u << 20);
	assert_int_equal(c.lim.inflate_max, 64u << 20);
	assert_int_equal(c.lim.handshake_ms, 10000);
	assert_int_equal(c.lim.idle_ms, 300000);
	assert_int_equal(c.lim.frame_ms, 30000);
	ccfg_free(&c);
	/* Comments only, an explicit null document: the same. */
	assert_int_equal(parse(&c, "# nothing\n\n# here\n", &err), 0);
	assert_int_equal(c.lim.max_connections, 1024);
	ccfg_free(&c);
	assert_int_equal(parse(&c, "~\n", &err), 0);
	ccfg_free(&c);
}

static void test_values(void **state)
{
	struct ccfg c;
	struct cerr err;

	(void)state;
	assert_int_equal(parse(&c,
			       "listen:\n  - 127.0.0.1:1234\n  - '[::1]:1234'\n  - '*:99'\n"
			       "state_dir: /srv/coll\nstore: sqlite:/srv/x.db\n"
			       "server_names: [collector.example.com, 10.1.2.3]\ncert_days: 30\n"
			       "log_level: debug\n"
			       "limits:\n  max_connections: 5000\n  frame_max: 1MiB\n"
			       "  inflate_max: 4MiB\n  write_max: 8KiB\n  memory_max: 64MiB\n"
			       "  handshake_timeout: 500ms\n  idle_timeout: 1h\n  frame_timeout: 2s\n",
			       &err),
			 0);
	assert_int_equal(c.n_listen, 3);
	assert_string_equal(c.listen[1], "[::1]:1234");
	assert_string_equal(c.state_dir, "/srv/coll");
	assert_string_equal(c.store, "sqlite:/srv/x.db");
	assert_int_equal(c.n_names, 2);
	assert_string_equal(c.names[1], "10.1.2.3");
	assert_int_equal(c.cert_days, 30);
	assert_int_equal(c.log_level, CLOG_DEBUG);
	assert_int_equal(c.lim.max_connections, 5000);
	assert_int_equal(c.lim.frame_max, 1u << 20);
	assert_int_equal(c.lim.inflate_max, 4u << 20);
	assert_int_equal(c.lim.write_max, 8192);
	assert_int_equal(c.lim.memory_max, 64u << 20);
	assert_int_equal(c.lim.handshake_ms, 500);
	assert_int_equal(c.lim.idle_ms, 3600000);
	assert_int_equal(c.lim.frame_ms, 2000);
	ccfg_free(&c);
	/* One listen address as a plain value. */
	assert_int_equal(parse(&c, "listen: 10.0.0.1:24224\n", &err), 0);
	assert_int_equal(c.n_listen, 1);
	assert_string_equal(c.listen[0], "10.0.0.1:24224");
	ccfg_free(&c);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("listen: 1.2.3.4:5\nfoo: 1\n", "t.yaml:2: unknown key 'foo'");
	refused("limits:\n  nope: 1\n", "t.yaml:2: limits: unknown key 'nope'");
	refused("limits: 5\n", "t.yaml:1: limits: expected a map");
	refused("limits:\n  frame_max: [1]\n", "t.yaml:2: limits.frame_max: expected a single value");
	refused("limits:\n  frame_max: 512\n", "limits.frame_max: 512 is out of range (1024 to");
	refused("limits:\n  inflate_max: 65MiB\n", "limits.inflate_max: 65MiB is out of range");
	refused("limits:\n  handshake_timeout: 50ms\n", "out of range (100 to 3600000 ms)");
	refused("limits:\n  max_connections: 1e3\n", "'1e3' is not a number");
	refused("limits:\n  max_connections: 100001\n", "out of range");
	refused("cert_days: 3651\n", "cert_days: 3651 is out of range");
	refused("log_level: [debug]\n", "t.yaml:1: log_level: expected a single value");
	refused("state_dir: ''\n", "t.yaml:1: state_dir: empty");
	refused("server_names: [ok, 'bad name']\n", "server_names: 'bad name' is not valid here");
	refused("listen: [a:1, b:2, c:3, d:4, e:5, f:6, g:7, h:8, i:9]\n", "more than 8 values");
	refused("listen: [[1]]\n", "a list of single values is expected");
	refused("listen: '[::1:99'\n", "is not valid here");
	refused("listen: ':'\n", "is not valid here");
	refused("state_dir: &x /a\nstore: *x\n", "t.yaml:2: anchors and aliases are not taken");
	refused("- 1\n- 2\n", "the configuration must be a map of keys");
	refused("cert_days: 1\n---\ncert_days: 2\n", "t.yaml:2: one document only");
	refused("limits: {frame_max: 1MiB, frame_max: 2MiB}\n", "limits.frame_max is given twice");
	refused("listen: a:1\nlisten: b:2\n", "t.yaml:2: 'listen' is given twice");
	refused("limits:\n  frame_max: 16MiB\n  memory_max: 1MiB\n",
		"limits.memory_max (1048576) must hold at least one frame");
	refused("{", "t.yaml:");
}

static void test_hostile_yaml(void **state)
{
	struct ccfg c;
	struct cerr err;
	char *big = malloc(CCFG_FILE_MAX + 2);
	size_t n = 0;

	(void)state;
	/* Deep nesting: the event parser keeps no stack of its own to blow. */
	assert_non_null(big);
	memcpy(big, "limits: ", 8);
	for (n = 8; n < 8 + 20000; n++)
		big[n] = '[';
	big[n] = 0;
	ccfg_defaults(&c);
	assert_int_equal(ccfg_parse(&c, "deep", big, n, &err), -1);
	ccfg_free(&c);
	/* A long value, a NUL, and a file over the size limit. */
	memset(big, 'a', CCFG_FILE_MAX + 1);
	memcpy(big, "state_dir: ", 11);
	ccfg_defaults(&c);
	assert_int_equal(ccfg_parse(&c, "long", big, 6000, &err), -1);
	assert_non_null(strstr(err.msg, "a value longer than 4096 bytes"));
	assert_int_equal(ccfg_parse(&c, "huge", big, CCFG_FILE_MAX + 1, &err), -1);
	assert_non_null(strstr(err.msg, "larger than"));
	assert_int_equal(ccfg_parse(&c, "nul", "state_dir: a\0b\n", 15, &err), -1);
	assert_non_null(strstr(err.msg, "NUL"));
	ccfg_free(&c);
	free(big);
}

static void test_load(void **state)
{
	char path[] = "/tmp/test_ccfg_XXXXXX";
	int fd = mkstemp(path);
	struct ccfg c;
	struct cerr err;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "cert_days: 7\n", 13), 13);
	close(fd);
	ccfg_defaults(&c);
	assert_int_equal(ccfg_load(&c, path, true, &err), 0);
	assert_int_equal(c.cert_days, 7);
	ccfg_free(&c);
	unlink(path);
	/* Missing: an error only when it had to be there. */
	assert_int_equal(ccfg_load(&c, path, false, &err), 0);
	assert_int_equal(c.cert_days, 365);
	ccfg_free(&c);
	assert_int_equal(ccfg_load(&c, path, true, &err), -1);
	assert_non_null(strstr(err.msg, "No such file"));
	ccfg_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),	     cmocka_unit_test(test_durations),
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_values),
		cmocka_unit_test(test_refusals),     cmocka_unit_test(test_hostile_yaml),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
