/* test_store_print.c: what `vigil-collector hosts|checks|events` print, as
 * text (aligned, ordered, safe for a terminal) and as JSON (read back by
 * python3's json module), and the commands' options and exit codes, run in
 * child processes. */
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "storetest.h"

#define PY "/usr/bin/python3"

struct fx {
	char *dir;
	struct st *s;
	struct stt t;
};

static void put(struct fx *f, const char *host, const char *chunk, const char *json)
{
	struct st_err err = {{0}};
	msgpack_object r = stt_obj(&f->t, "%s", json);

	if (stt_chunk(f->s, host, chunk, &r, 1, NULL, &err))
		fail_msg("%s: %s", chunk, err.msg);
}

#define CHK(h, id, status, sid, sev, t) \
	"{\"class_uid\":2003,\"time\":" #t ",\"severity_id\":" #sev ",\"device\":{\"uid\":\"" h \
	"\"},\"finding_info\":{\"uid\":\"" id "\",\"title\":\"Title " id "\"},\"compliance\":" \
	"{\"status\":\"" status "\",\"status_id\":" #sid "},\"unmapped\":{\"vigil\":{" \
	"\"baseline\":{\"id\":\"cis\",\"version\":\"1\"}}}}"

/* h1 "web1": four checks, a score, three events, a heartbeat; h2, whose
 * hostname carries an escape sequence: one failed check, one event. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct st_err err = {{0}};

	f->dir = tu_mkroot();
	f->s = stt_open(f->dir);
	stt_enroll(f->s, "h1");
	stt_enroll(f->s, "h2");
	assert_int_equal(st_host_enroll(f->s, "h3", "idle", NULL, "s3", 0, &err), 0);
	put(f, "h1", "inv", "{\"class_uid\":5001,\"time\":1700000000000,\"device\":{\"uid\":\"h1\","
			    "\"hostname\":\"web1\",\"os\":{\"name\":\"Debian GNU/Linux\","
			    "\"version\":\"12\"}}}");
	put(f, "h1", "hb", "{\"class_uid\":0,\"time\":1700000000000,\"device\":{\"uid\":\"h1\"},"
			   "\"metadata\":{\"product\":{\"version\":\"0.1.0\"}},"
			   "\"unmapped\":{\"vigil\":{\"kind\":\"heartbeat\","
			   "\"mode\":\"bpf\",\"interval_s\":60}}}");
	put(f, "h2", "inv", "{\"class_uid\":5001,\"time\":1700000000000,\"device\":{\"uid\":\"h2\","
			    "\"hostname\":\"db\\u001b[31m1\"}}");
	put(f, "h1", "c1", CHK("h1", "c-low", "Fail", 3, 2, 1700000000000));
	put(f, "h1", "c2", CHK("h1", "c-pass", "Pass", 1, 5, 1700000000000));
	put(f, "h1", "c3", CHK("h1", "c-high", "Fail", 3, 4, 1700000000000));
	put(f, "h1", "c4", CHK("h1", "c-warn", "Warning", 2, 3, 1700000000000));
	put(f, "h2", "c1", CHK("h2", "c-crit", "Fail", 3, 5, 1700000000000));
	put(f, "h1", "s1", "{\"class_uid\":5002,\"time\":1700000000000,\"device\":{\"uid\":\"h1\"},"
			   "\"unmapped\":{\"vigil\":{\"baseline\":{\"id\":\"cis\",\"version\":\"1\"},"
			   "\"summary\":{\"passed\":7,\"failed\":1,\"score\":87.5}}}}");
	put(f, "h1", "s0", "{\"class_uid\":5002,\"time\":1600000000000,\"device\":{\"uid\":\"h1\"},"
			   "\"unmapped\":{\"vigil\":{\"baseline\":{\"id\":\"cis\",\"version\":\"1\"},"
			   "\"summary\":{\"passed\":1,\"failed\":7,\"score\":12.5}}}}");
	for (int i = 0; i < 3; i++) {
		char rec[512], chunk[8];

		snprintf(rec, sizeof(rec), "{\"class_uid\":1001,\"activity_id\":3,\"time\":%lld,"
			 "\"device\":{\"uid\":\"h1\"},\"file\":{\"path\":\"/etc/f%d\"},\"actor\":{"
			 "\"process\":{\"pid\":%d,\"file\":{\"path\":\"/usr/bin/vi\"}}},"
			 "\"unmapped\":{\"fim\":{\"verdict\":\"change\"}}}", STT_T0 + i, i, 100 + i);
		snprintf(chunk, sizeof(chunk), "e%d", i);
		put(f, "h1", chunk, rec);
	}
	put(f, "h2", "e", "{\"class_uid\":1007,\"activity_id\":1,\"time\":1700000000003,"
			  "\"device\":{\"uid\":\"h2\"},\"process\":{\"pid\":7,\"file\":{\"path\":"
			  "\"/bin/sh\"},\"cmd_line\":\"sh -c 'echo \\u001b]0;x'\"}}");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	st_close(f->s);
	stt_free(&f->t);
	tu_rmroot(f->dir);
	free(f);
	return 0;
}

typedef int (*print_fn)(struct st *, const struct st_query *, FILE *, struct st_err *);

static char *print(struct fx *f, print_fn fn, const struct st_query *q)
{
	struct st_err err = {{0}};
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);

	if (fn(f->s, q, out, &err))
		fail_msg("print: %s", err.msg);
	fclose(out);
	return text;
}

/* python3 reads text as JSON and runs the assertions in code (on `d`). */
static void py_json(const char *text, const char *code)
{
	char path[] = "/tmp/test_store_print.XXXXXX", cmd[8192];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 PY " -c 'import json, sys\nd = json.load(open(sys.argv[1]))\n%s' %s", code, path);
	if (system(cmd) != 0)
		fail_msg("python3 says no to:\n%s", text);
	unlink(path);
}

/* The byte offset of word in the header; every row has a cell starting there. */
static void aligned(const char *text, const char *word)
{
	const char *nl = strchr(text, '\n'), *h = strstr(text, word), *row;
	size_t col;

	assert_non_null(h);
	assert_true(h < nl);
	col = (size_t)(h - text);
	for (row = nl + 1; *row && *row != '\n'; row = strchr(row, '\n') + 1) {
		const char *end = strchr(row, '\n');

		assert_true((size_t)(end - row) > col);
		if (row[col - 1] != ' ' || row[col] == ' ')
			fail_msg("column %s not aligned in: %.*s", word, (int)(end - row), row);
	}
}

/* Line n (from 0) of text, in a static buffer. */
static const char *line(const char *text, int n)
{
	static char buf[1024];

	while (n-- > 0)
		text = strchr(text, '\n') + 1;
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(text, "\n"), text);
	return buf;
}

static void test_hosts(void **state)
{
	struct fx *f = *state;
	struct st_query q = {.now = (int64_t)time(NULL), .missed = 3};
	char *text;

	text = print(f, st_print_hosts, &q);
	assert_non_null(strstr(line(text, 0), "HOSTNAME"));
	assert_null(strchr(text, '\x1b'));		/* the escape never reaches a terminal */
	assert_non_null(strstr(text, "db?[31m1"));
	assert_non_null(strstr(text, "Debian GNU/Linux 12"));
	assert_non_null(strstr(line(text, 3), "web1"));	/* by hostname: db, idle, web1 */
	assert_non_null(strstr(line(text, 3), "0.1.0"));
	assert_non_null(strstr(line(text, 3), "s ago"));
	assert_non_null(strstr(line(text, 2), "never"));
	assert_non_null(strstr(line(text, 2), "not reporting"));
	aligned(text, "ID");
	aligned(text, "LAST SEEN");
	aligned(text, "STATUS");
	free(text);
	q.format = ST_JSON;
	text = print(f, st_print_hosts, &q);
	py_json(text, "assert [h[\"id\"] for h in d] == [\"h2\", \"h3\", \"h1\"], d\n"
		      "w = d[2]\n"
		      "assert w[\"hostname\"] == \"web1\" and w[\"os\"] == \"Debian GNU/Linux\"\n"
		      "assert w[\"os_version\"] == \"12\" and w[\"mode\"] == \"bpf\"\n"
		      "assert w[\"heartbeat_s\"] == 60 and w[\"status\"] == \"reporting\"\n"
		      "assert w[\"clone\"] is False and w[\"clone_detail\"] is None\n"
		      "assert d[0][\"hostname\"] == \"db\\x1b[31m1\"\n"
		      "assert d[1][\"last_seen\"] == 0 and d[1][\"age_s\"] is None\n"
		      "assert d[1][\"status\"] == \"not reporting\"");
	free(text);
	/* One host, by id or by name; none matching: an empty list. */
	q.host = "web1";
	text = print(f, st_print_hosts, &q);
	py_json(text, "assert len(d) == 1 and d[0][\"id\"] == \"h1\"");
	free(text);
	q.host = "nobody";
	text = print(f, st_print_hosts, &q);
	assert_string_equal(text, "[]\n");
	free(text);
}

static void test_checks(void **state)
{
	struct fx *f = *state;
	struct st_query q = {.now = (int64_t)time(NULL)};
	char *text;

	text = print(f, st_print_checks, &q);
	/* Failed first, the worst first; then warnings; passes last. */
	assert_non_null(strstr(line(text, 1), "c-crit"));
	assert_non_null(strstr(line(text, 1), "critical"));
	assert_non_null(strstr(line(text, 2), "c-high"));
	assert_non_null(strstr(line(text, 3), "c-low"));
	assert_non_null(strstr(line(text, 4), "c-warn"));
	assert_non_null(strstr(line(text, 5), "c-pass"));
	assert_non_null(strstr(line(text, 5), "Title c-pass"));
	aligned(text, "CHECK");
	aligned(text, "SEVERITY");
	aligned(text, "TITLE");
	/* The score table: the latest run only. */
	assert_string_equal(line(text, 6), "");
	assert_non_null(strstr(line(text, 7), "BASELINE"));
	assert_non_null(strstr(line(text, 8), "87.5"));
	assert_null(strstr(text, "12.5"));
	assert_null(strchr(text, '\x1b'));
	free(text);
	q.format = ST_JSON;
	text = print(f, st_print_checks, &q);
	py_json(text, "assert [h[\"host\"] for h in d] == [\"h2\", \"h1\"], d\n"
		      "w = d[1]\n"
		      "assert [c[\"check\"] for c in w[\"checks\"]] == "
		      "[\"c-high\", \"c-low\", \"c-warn\", \"c-pass\"]\n"
		      "c = w[\"checks\"][0]\n"
		      "assert c[\"status\"] == \"Fail\" and c[\"status_id\"] == 3\n"
		      "assert c[\"severity\"] == \"high\" and c[\"title\"] == \"Title c-high\"\n"
		      "assert c[\"time\"] == 1700000000000 and c[\"baseline\"] == \"cis\"\n"
		      "assert len(w[\"scores\"]) == 1 and w[\"scores\"][0][\"score\"] == 87.5\n"
		      "assert w[\"scores\"][0][\"passed\"] == 7 and w[\"scores\"][0][\"errors\"] is None\n"
		      "assert d[0][\"scores\"] == []");
	free(text);
	q.host = "h2";
	text = print(f, st_print_checks, &q);
	py_json(text, "assert len(d) == 1 and len(d[0][\"checks\"]) == 1");
	free(text);
}

static void test_events(void **state)
{
	struct fx *f = *state;
	struct st_query q = {.now = (int64_t)time(NULL), .limit = 2};
	char *text;

	text = print(f, st_print_events, &q);
	assert_non_null(strstr(line(text, 0), "TIME"));
	assert_non_null(strstr(line(text, 1), "process"));	/* newest first */
	assert_non_null(strstr(line(text, 1), "launch"));
	assert_non_null(strstr(line(text, 1), "2023-11-14 22:13:20Z"));
	assert_non_null(strstr(line(text, 2), "/etc/f2"));
	assert_non_null(strstr(line(text, 2), "update"));
	assert_non_null(strstr(line(text, 2), "change"));
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "sh -c 'echo ?]0;x'"));
	aligned(text, "PID");
	aligned(text, "PATH");
	{
		int lines = 0;

		for (const char *p = text; (p = strchr(p, '\n')); p++)
			lines++;
		assert_int_equal(lines, 3);	/* the header and two events */
	}
	free(text);
	q.format = ST_JSON;
	q.limit = 0;				/* the default: all four here */
	text = print(f, st_print_events, &q);
	py_json(text, "assert [e[\"time\"] % 10 for e in d] == [3, 2, 1, 0], d\n"
		      "e = d[1]\n"
		      "assert e[\"host\"] == \"h1\" and e[\"class_uid\"] == 1001\n"
		      "assert e[\"pid\"] == 102 and e[\"exe\"] == \"/usr/bin/vi\"\n"
		      "assert e[\"path\"] == \"/etc/f2\" and e[\"verdict\"] == \"change\"\n"
		      "assert e[\"record\"][\"file\"][\"path\"] == \"/etc/f2\"\n"
		      "assert d[0][\"detail\"] == \"sh -c \\x27echo \\x1b]0;x\\x27\"");
	free(text);
	q.host = "web1";
	text = print(f, st_print_events, &q);
	py_json(text, "assert len(d) == 3 and all(e[\"host\"] == \"h1\" for e in d)");
	free(text);
}

/* ---- the commands -------------------------------------------------------------------- */

/* Runs cmd in a child with stdout and stderr to files; its exit code. */
static int run(int (*cmd)(int, char **), char **out, char **errout, int argc, ...)
{
	char opath[] = "/tmp/test_store_print.o.XXXXXX", epath[] = "/tmp/test_store_print.e.XXXXXX";
	int ofd = mkstemp(opath), efd = mkstemp(epath), status;
	char *argv[16];
	va_list ap;
	pid_t pid;
	FILE *fp;
	long n;

	assert_true(ofd >= 0 && efd >= 0 && argc < 16);
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		int rc = cmd(argc, argv);

		fflush(stdout);			/* as returning from main would */
		fflush(stderr);
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	for (int i = 0; i < 2; i++) {
		char **dst = i ? errout : out;

		fp = fopen(i ? epath : opath, "r");
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		*dst = calloc(1, (size_t)n + 1);
		assert_int_equal(fread(*dst, 1, (size_t)n, fp), (size_t)n);
		fclose(fp);
	}
	close(ofd), close(efd);
	unlink(opath), unlink(epath);
	return WEXITSTATUS(status);
}

static void test_commands(void **state)
{
	struct fx *f = *state;
	char spec[512], empty[512], *out, *err;

	snprintf(spec, sizeof(spec), "sqlite:%s/vigil.db", f->dir);
	assert_int_equal(run(cmd_hosts, &out, &err, 4, "hosts", "--state-dir", f->dir,
			     "--missed=2"), 0);
	assert_non_null(strstr(out, "web1"));
	assert_string_equal(err, "");
	free(out), free(err);
	assert_int_equal(run(cmd_events, &out, &err, 7, "events", "--store", spec, "--limit", "1",
			     "--format", "json"), 0);
	py_json(out, "assert len(d) == 1 and d[0][\"host\"] == \"h2\"");
	free(out), free(err);
	assert_int_equal(run(cmd_checks, &out, &err, 6, "checks", "--store", spec, "--host",
			     "h2", "--format=json"), 0);
	py_json(out, "assert [c[\"check\"] for c in d[0][\"checks\"]] == [\"c-crit\"]");
	free(out), free(err);
	assert_int_equal(run(cmd_hosts, &out, &err, 2, "hosts", "--help"), 0);
	assert_non_null(strstr(out, "--missed N"));
	free(out), free(err);
	/* Bad usage: 2, with a reason. */
	assert_int_equal(run(cmd_checks, &out, &err, 4, "checks", "--state-dir", f->dir,
			     "--format=xml"), 2);
	assert_non_null(strstr(err, "text or json"));
	free(out), free(err);
	assert_int_equal(run(cmd_events, &out, &err, 4, "events", "--state-dir", f->dir,
			     "--limit=0"), 2);
	free(out), free(err);
	assert_int_equal(run(cmd_checks, &out, &err, 3, "checks", "--limit=5", f->dir), 2);
	free(out), free(err);
	assert_int_equal(run(cmd_hosts, &out, &err, 5, "hosts", "--state-dir", f->dir, "--store",
			     spec), 2);
	free(out), free(err);
	assert_int_equal(run(cmd_hosts, &out, &err, 4, "hosts", "--state-dir", f->dir, "more"),
			 2);
	assert_non_null(strstr(err, "unexpected 'more'"));
	free(out), free(err);
	/* No store: 1, and a query does not make one. */
	snprintf(empty, sizeof(empty), "%s/empty", f->dir);
	assert_int_equal(mkdir(empty, 0700), 0);
	assert_int_equal(run(cmd_hosts, &out, &err, 3, "hosts", "--state-dir", empty), 1);
	assert_non_null(strstr(err, "no store here"));
	free(out), free(err);
	snprintf(empty, sizeof(empty), "%s/empty/vigil.db", f->dir);
	assert_int_equal(access(empty, F_OK), -1);
	assert_int_equal(run(cmd_events, &out, &err, 3, "events", "--store", "/nonexistent/x"), 1);
	assert_non_null(strstr(err, "/nonexistent/x"));
	free(out), free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
