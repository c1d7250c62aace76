/*
 * query.c: `vigil-collector hosts|checks|events`: the fleet, read from the
 * store. The store is opened read-only and must exist (a query never
 * creates an empty one); output is st_print_*'s (docs/collector-store.md).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"
#include "store_int.h"

#define STATE_DIR_DEFAULT "/var/lib/vigil-collector"
#define LIMIT_MAX 1000000
#define MISSED_MAX 1000

enum query_kind { Q_HOSTS_CMD, Q_CHECKS_CMD, Q_EVENTS_CMD };

static const char *const names[] = {"hosts", "checks", "events"};

static void usage(FILE *out, enum query_kind k)
{
	fprintf(out,
		"usage: vigil-collector %s [--config FILE | --state-dir DIR | --store SPEC] [--host H]\n"
		"                       [--format text|json]%s\n"
		"\n",
		names[k],
		k == Q_HOSTS_CMD ? " [--missed N]" : k == Q_EVENTS_CMD ? " [--limit N]" : "");
	switch (k) {
	case Q_HOSTS_CMD:
		fputs("hosts    every enrolled host: OS, sensor version and mode, when it was\n"
		      "         last seen, whether it still reports, and the clone flag\n", out);
		break;
	case Q_CHECKS_CMD:
		fputs("checks   the latest result of every check on every host, failures\n"
		      "         first, then by severity; then each host's latest scores\n", out);
		break;
	case Q_EVENTS_CMD:
		fputs("events   file, process and detection events, newest first\n", out);
		break;
	}
	fputs("\n"
	      "--config FILE    the store named by this collector.yaml (default " CCFG_PATH ")\n"
	      "--state-dir DIR  the collector's state directory (default " STATE_DIR_DEFAULT ")\n"
	      "--store SPEC     the store itself: sqlite:FILE, or a directory\n"
	      "--host H         one host, by id or hostname\n"
	      "--format F       text (aligned columns) or json (one array)\n",
	      out);
	if (k == Q_HOSTS_CMD)
		fputs("--missed N       heartbeats missed before a host is \"not reporting\""
		      " (default 3)\n", out);
	if (k == Q_EVENTS_CMD)
		fputs("--limit N        at most N events (default 100)\n", out);
	fputs("exit             0 ok, 1 the store cannot be read, 2 bad usage\n", out);
}

static int number(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int run(enum query_kind k, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, 'd'},
		{"store", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"host", required_argument, NULL, 'H'},
		{"format", required_argument, NULL, 'f'},
		{"limit", required_argument, NULL, 'n'},
		{"missed", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct st_query q = {.format = ST_TEXT, .missed = ST_MISSED_DEFAULT};
	const char *dir = NULL, *spec = NULL, *config = NULL;
	struct ccfg cfg;
	struct cerr cerr;
	struct st_err err = {{0}};
	struct st *s;
	long v;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 's': spec = optarg; break;
		case 'c': config = optarg; break;
		case 'H': q.host = optarg; break;
		case 'f':
			if (!strcmp(optarg, "text"))
				q.format = ST_TEXT;
			else if (!strcmp(optarg, "json"))
				q.format = ST_JSON;
			else {
				fprintf(stderr, "vigil-collector: --format: text or json, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			if (k != Q_EVENTS_CMD || number(optarg, LIMIT_MAX, &v)) {
				fprintf(stderr, "vigil-collector: --limit: 1 to %d, for events\n",
					LIMIT_MAX);
				return 2;
			}
			q.limit = (size_t)v;
			break;
		case 'm':
			if (k != Q_HOSTS_CMD || number(optarg, MISSED_MAX, &v)) {
				fprintf(stderr, "vigil-collector: --missed: 1 to %d, for hosts\n",
					MISSED_MAX);
				return 2;
			}
			q.missed = (int)v;
			break;
		case 'h': usage(stdout, k); return 0;
		default: usage(stderr, k); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil-collector: %s: unexpected '%s'\n", names[k], argv[optind]);
		usage(stderr, k);
		return 2;
	}
	if ((dir != NULL) + (spec != NULL) + (config != NULL) > 1) {
		fprintf(stderr, "vigil-collector: --state-dir, --store and --config name the same "
				"thing: give one\n");
		return 2;
	}
	/* Neither: where the collector's configuration says it keeps the store. */
	ccfg_defaults(&cfg);
	if (!spec && !dir && ccfg_load(&cfg, config ? config : CCFG_PATH, config != NULL, &cerr)) {
		fprintf(stderr, "vigil-collector: %s\n", cerr.msg);
		ccfg_free(&cfg);
		return 2;
	}
	if (!spec)
		spec = dir ? dir : cfg.store ? cfg.store : cfg.state_dir;
	rc = st_open_flags(&s, spec, ST_OPEN_EXISTING | ST_OPEN_READONLY, &err);
	if (rc) {
		fprintf(stderr, "vigil-collector: %s\n", err.msg);
		ccfg_free(&cfg);
		return 1;
	}
	q.now = (int64_t)time(NULL);
	switch (k) {
	case Q_HOSTS_CMD: rc = st_print_hosts(s, &q, stdout, &err); break;
	case Q_CHECKS_CMD: rc = st_print_checks(s, &q, stdout, &err); break;
	default: rc = st_print_events(s, &q, stdout, &err); break;
	}
	st_close(s);
	ccfg_free(&cfg);
	if (!rc && fflush(stdout))
		rc = st_errf(&err, "writing the output: %s", strerror(errno));
	if (rc) {
		fprintf(stderr, "vigil-collector: %s\n", err.msg);
		return 1;
	}
	return 0;
}

int cmd_hosts(int argc, char **argv)
{
	return run(Q_HOSTS_CMD, argc, argv);
}

int cmd_checks(int argc, char **argv)
{
	return run(Q_CHECKS_CMD, argc, argv);
}

int cmd_events(int argc, char **argv)
{
	return run(Q_EVENTS_CMD, argc, argv);
}
