/* main.c: the vigil command line. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fim.h"
#include "ident.h"
#include "run.h"
#include "vigil.h"
#include "watch.h"

#define EXIT_FAILED 1	/* a check failed or could not be evaluated */
#define EXIT_USAGE 2	/* bad usage, or a baseline or root that would not load */

static void usage(FILE *out)
{
	fputs("usage: vigil check [--baseline NAME|FILE] [--root DIR] [--format text|json]\n"
	      "                   [--only ID,...] [--severity LEVEL] [--config FILE] [--no-color]\n"
	      "                   [--quick] [--verbose]\n"
	      "       vigil watch [--json] [--paths P,...] [--no-process]\n"
	      "                   [--mode auto|bpf|hybrid|fanotify|rescan] [--duration S]\n"
	      "       vigil fim init|check|update [--root DIR] [--full] [--format text|json]\n"
	      "                 [--config FILE] [--state-dir DIR] [--threads N]\n"
	      "       vigil config check [--config FILE]\n"
	      "       vigil enroll --collector HOST:PORT --token TOKEN [--state-dir DIR]\n"
	      "       vigil run [--config FILE] [--verbose]\n"
	      "       vigil status [--state-dir DIR] [--json]\n"
	      "       vigil version\n"
	      "\n"
	      "check   evaluate a baseline against this host, or an image with --root\n"
	      "watch   stream process and file events live (eBPF, else fanotify, else rescan)\n"
	      "fim     file integrity: record a baseline, check or update it\n"
	      "enroll  trade a collector's token for this host's certificate\n"
	      "run     the daemon: checks, events and FIM on schedule, shipped to the collector\n"
	      "status  what the running daemon last reported\n"
	      "config  check a configuration file (vigil.yaml(5)): ok, or the line of a mistake\n"
	      "--quick leaves out checks that search the whole file system\n"
	      "exit    0 all evaluated checks passed, 1 a check failed or errored,\n"
	      "        2 usage error or a baseline, root or configuration that did not load\n",
	      out);
}

struct check_opts {
	const char *baseline, *root, *config;
	bool json, color, color_set;
	struct vg_filter filter;
};

static int parse_check_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		{"baseline", required_argument, NULL, 'b'},
		{"root", required_argument, NULL, 'r'},
		{"format", required_argument, NULL, 'f'},
		{"only", required_argument, NULL, 'o'},
		{"severity", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"no-color", no_argument, NULL, 'N'},
		{"verbose", no_argument, NULL, 'v'},
		{"quick", no_argument, NULL, 'Q'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int ch;

	o->root = "/";
	o->filter.min_severity = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "b:r:f:o:s:c:hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': o->baseline = optarg; break;
		case 'r': o->root = optarg; break;
		case 'c': o->config = optarg; break;
		case 'N': o->color = false; o->color_set = true; break;
		case 'o': strv_split(&o->filter.only, optarg, ","); break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				fprintf(stderr, "vigil: --format is text or json, not '%s'\n", optarg);
				return -1;
			}
			o->json = !strcmp(optarg, "json");
			break;
		case 's':
			o->filter.min_severity = severity_parse(optarg);
			if (o->filter.min_severity < 0) {
				fprintf(stderr, "vigil: --severity is low, medium, high or critical\n");
				return -1;
			}
			break;
		case 'v': log_set_level(VG_LOG_INFO); break;
		case 'Q': o->filter.quick = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->color_set)
		o->color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	return 0;
}

/* Loads what a run needs; on failure everything loaded so far is freed. */
static int prepare_run(const struct check_opts *o, struct vg_config *cfg, struct vg_ctx *ctx,
		       struct vg_osrel *os, struct vg_baseline *b, struct vg_err *err)
{
	char *path = NULL;

	config_defaults(cfg);
	if (config_load(cfg, o->config ? o->config : VG_CONFIG_PATH, o->config != NULL, err))
		return -1;
	if (ctx_init(ctx, o->root, cfg, err))
		return -1;
	if (osrel_read(&ctx->root, os) < 0)
		log_warn("%s: no /etc/os-release; the system is unknown", o->root);
	if (baseline_select(o->baseline ? o->baseline : cfg->baseline, cfg->baseline_dir, os,
			    &path, err) ||
	    baseline_load(b, path, err)) {
		free(path);
		osrel_free(os);
		ctx_fini(ctx);
		return -1;
	}
	free(path);
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	struct check_opts o = {0};
	struct vg_config cfg;
	struct vg_ctx ctx;
	struct vg_osrel os;
	struct vg_baseline b;
	struct vg_summary sum;
	struct vg_host host;
	struct vg_err err = {{0}};
	struct vg_result *res;
	int rc;

	if (parse_check_opts(argc, argv, &o)) {
		usage(stderr);
		strv_free(&o.filter.only);
		return EXIT_USAGE;
	}
	if (prepare_run(&o, &cfg, &ctx, &os, &b, &err)) {
		fprintf(stderr, "vigil: %s\n", err.msg);
		config_free(&cfg);
		strv_free(&o.filter.only);
		return EXIT_USAGE;
	}
	if (!baseline_matches(&b, &os) && os.id)
		log_warn("baseline %s is not written for %s %s", b.id, os.id,
			 os.version_id ? os.version_id : "");
	res = xcalloc(b.nchecks, sizeof(*res));
	if (engine_run(&b, &ctx, &o.filter, res, &sum, &err)) {
		fprintf(stderr, "vigil: %s\n", err.msg);
		rc = EXIT_USAGE;
	} else {
		host_describe(&ctx, &os, &host);
		if (o.json)
			report_json(stdout, &b, &host, res, &sum);
		else
			report_text(stdout, &b, &host, res, &sum, o.color);
		host_free(&host);
		rc = sum.failed || sum.errors ? EXIT_FAILED : 0;
	}
	results_free(res, b.nchecks);
	free(res);
	baseline_free(&b);
	osrel_free(&os);
	ctx_fini(&ctx);
	config_free(&cfg);
	strv_free(&o.filter.only);
	if (fflush(stdout) != 0) {
		perror("vigil: stdout");
		return EXIT_USAGE;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "watch"))
		return cmd_watch(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fim"))
		return cmd_fim(argc - 1, argv + 1);
	if (!strcmp(argv[1], "config"))
		return cmd_config(argc - 1, argv + 1);
	if (!strcmp(argv[1], "enroll"))
		return cmd_enroll(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("vigil %s\n", VIGIL_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vigil: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
