/*
 * config_cmd.c: `vigil config check [--config FILE]`: loads a configuration
 * exactly as the other commands do (config_load_full) and says "ok", or
 * prints the loader's FILE:LINE message. A baseline named by
 * checks.baseline is loaded too, since a name that resolves to nothing
 * would stop every `vigil check` that reads this file.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil.h"

#define EXIT_INVALID 2

static void config_usage(FILE *out)
{
	fputs("usage: vigil config check [--config FILE]\n"
	      "\n"
	      "check   load FILE (default " VG_CONFIG_PATH ") as every vigil command does,\n"
	      "        and the baseline it names; print \"ok\" or the first mistake with\n"
	      "        its line. Keys are described in vigil.yaml(5)\n"
	      "exit    0 ok, 2 the file (or its baseline) does not load, or bad usage\n",
	      out);
}

/* The baseline that checks.baseline names, if any, must load. */
static int check_baseline(const struct vg_config *cfg, struct vg_err *err)
{
	struct vg_osrel os = {0};
	struct vg_baseline b;
	char *path = NULL;
	int rc;

	if (!cfg->baseline)
		return 0;
	if (baseline_select(cfg->baseline, cfg->baseline_dir, &os, &path, err))
		return -1;
	rc = baseline_load(&b, path, err);
	if (rc == 0)
		baseline_free(&b);
	free(path);
	return rc;
}

int cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *file = NULL;
	char *abs = NULL;
	struct vg_config cfg;
	struct vg_err err = {{0}};
	int ch, rc;

	if (argc < 2 || strcmp(argv[1], "check")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			config_usage(stdout);
			return 0;
		}
		if (argc >= 2)
			fprintf(stderr, "vigil: unknown config command '%s'\n", argv[1]);
		config_usage(stderr);
		return EXIT_INVALID;
	}
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'h': config_usage(stdout); return 0;
		default: config_usage(stderr); return EXIT_INVALID;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		config_usage(stderr);
		return EXIT_INVALID;
	}
	/* The loader reads absolute paths only (it resolves them under "/"). */
	if (file && file[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd))) {
			fprintf(stderr, "vigil: %s: %s\n", file, strerror(errno));
			return EXIT_INVALID;
		}
		file = abs = xasprintf("%s/%s", cwd, file);
	}
	if (!file && access(VG_CONFIG_PATH, F_OK) < 0 && errno == ENOENT) {
		printf("%s: not present; the defaults apply\n", VG_CONFIG_PATH);
		return 0;
	}
	rc = config_load_full(&cfg, file, &err);
	if (rc == 0 && check_baseline(&cfg, &err)) {
		char msg[sizeof(err.msg)];
		memcpy(msg, err.msg, sizeof(msg));
		vg_errf(&err, "%s: checks.baseline: %.900s", file ? file : VG_CONFIG_PATH, msg);
		rc = -1;
	}
	config_free(&cfg);
	if (rc) {
		fprintf(stderr, "vigil: %s\n", err.msg);
		free(abs);
		return EXIT_INVALID;
	}
	printf("%s: ok\n", file ? file : VG_CONFIG_PATH);
	free(abs);
	return fflush(stdout) == 0 ? 0 : EXIT_INVALID;
}
