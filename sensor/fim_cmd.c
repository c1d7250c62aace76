/* fim_cmd.c: `vigil fim init|check|update`. */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fim.h"

#define EXIT_DRIFT 1
#define EXIT_ERROR 2

static void fim_usage(FILE *out)
{
	fputs("usage: vigil fim init|check|update [--root DIR] [--full] [--format text|json]\n"
	      "                 [--config FILE] [--state-dir DIR] [--threads N]\n"
	      "                 [--no-progress] [--verbose]\n"
	      "\n"
	      "init    record a new baseline of the configured path sets, reading every file\n"
	      "check   compare with the baseline; a file whose inode, size, mtime and ctime\n"
	      "        are unchanged is not re-read unless --full\n"
	      "update  like check, then make what was found the baseline\n"
	      "exit    0 no drift (check), baseline written (init, update); 1 drift (check);\n"
	      "        2 error\n",
	      out);
}

struct fim_cli {
	struct fim_opts o;
	const char *config;
	bool no_progress;
};

static int parse_op(const char *s, enum fim_op *op)
{
	static const char *const ops[] = {"init", "check", "update"};

	for (int i = 0; i < 3; i++)
		if (!strcmp(s, ops[i])) {
			*op = (enum fim_op)i;
			return 0;
		}
	fprintf(stderr, "vigil: fim: unknown operation '%s'\n", s);
	return -1;
}

static int parse_threads(const char *s, int *out)
{
	long long n;

	if (!str_to_ll(s, &n) || n < 1 || n > 64) {
		fprintf(stderr, "vigil: --threads is 1..64, not '%s'\n", s);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int parse_fim_opts(int argc, char **argv, struct fim_cli *c)
{
	static const struct option longopts[] = {
		{"root", required_argument, NULL, 'r'},
		{"full", no_argument, NULL, 'F'},
		{"format", required_argument, NULL, 'f'},
		{"config", required_argument, NULL, 'c'},
		{"state-dir", required_argument, NULL, 's'},
		{"threads", required_argument, NULL, 't'},
		{"no-progress", no_argument, NULL, 'P'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int ch;

	c->o.root = "/";
	c->o.out = stdout;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:f:c:s:t:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': c->o.root = optarg; break;
		case 'F': c->o.full = true; break;
		case 'c': c->config = optarg; break;
		case 's': c->o.state_dir = optarg; break;
		case 'P': c->no_progress = true; break;
		case 'v': log_set_level(VG_LOG_INFO); break;
		case 't':
			if (parse_threads(optarg, &c->o.threads))
				return -1;
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				fprintf(stderr, "vigil: --format is text or json, not '%s'\n", optarg);
				return -1;
			}
			c->o.json = !strcmp(optarg, "json");
			break;
		case 'h': fim_usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vigil: fim needs one of init, check, update\n");
		return -1;
	}
	if (c->o.state_dir && c->o.state_dir[0] != '/') {
		fprintf(stderr, "vigil: --state-dir must be an absolute path\n");
		return -1;
	}
	return parse_op(argv[optind], &c->o.op);
}

int cmd_fim(int argc, char **argv)
{
	struct fim_cli c;
	struct vg_config cfg;
	struct fim_summary sum;
	struct vg_err err = {{0}};
	int rc;

	memset(&c, 0, sizeof(c));
	if (parse_fim_opts(argc, argv, &c)) {
		fim_usage(stderr);
		return EXIT_ERROR;
	}
	/* The baseline says which files matter and what they hold. */
	umask(077);
	if (config_load_full(&cfg, c.config, &err)) {
		fprintf(stderr, "vigil: %s\n", err.msg);
		config_free(&cfg);
		return EXIT_ERROR;
	}
	c.o.progress = !c.no_progress && isatty(STDERR_FILENO);
	rc = fim_run(&cfg.fim, &c.o, &sum, &err);
	config_free(&cfg);
	if (fflush(stdout) != 0) {
		perror("vigil: stdout");
		return EXIT_ERROR;
	}
	if (rc < 0) {
		fprintf(stderr, "vigil: %s\n", err.msg);
		return EXIT_ERROR;
	}
	/* update reports what it accepted; once written, nothing drifts. */
	return rc && c.o.op == FIM_CHECK ? EXIT_DRIFT : 0;
}
