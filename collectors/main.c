/* main.c: vigil-collector's command line. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0"
#endif

#define EXIT_FAIL	1
#define EXIT_USAGE	2

static void usage(FILE *out)
{
	fputs("usage: vigil-collector serve [--config FILE]\n"
	      "       vigil-collector token create [--ttl DURATION] [--uses N] [--config FILE]\n"
	      "                                    [--state-dir DIR]\n"
	      "       vigil-collector cert revoke SERIAL [--config FILE] [--state-dir DIR]\n"
	      "       vigil-collector hosts|checks|events [options]\n"
	      "       vigil-collector config check [--config FILE]\n"
	      "       vigil-collector version\n"
	      "\n"
	      "The configuration is " CCFG_PATH " unless --config names one\n"
	      "(see vigil-collector(8) and docs/collector.md).\n"
	      "exit: 0 done, 1 failed, 2 usage or configuration error\n",
	      out);
}

struct opts {
	const char *config, *state_dir, *ttl, *uses;
};

/* Options of the commands here; argv[optind...] are what is left. */
static int parse(int argc, char **argv, struct opts *o, bool token)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'},
		{"state-dir", required_argument, NULL, 's'},
		{"ttl", required_argument, NULL, 't'},
		{"uses", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longs, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 't': o->ttl = optarg; break;
		case 'u': o->uses = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
		if ((ch == 't' || ch == 'u') && !token) {
			fprintf(stderr, "vigil-collector: --%s is for token create\n",
				ch == 't' ? "ttl" : "uses");
			return -1;
		}
	}
	return 0;
}

static int load(struct ccfg *c, const struct opts *o)
{
	struct cerr err;

	ccfg_defaults(c);
	if (ccfg_load(c, o->config ? o->config : CCFG_PATH, o->config != NULL, &err)) {
		fprintf(stderr, "vigil-collector: %s\n", err.msg);
		ccfg_free(c);
		return -1;
	}
	if (o->state_dir) {
		free(c->state_dir);
		c->state_dir = strdup(o->state_dir);
	}
	clog_set_level(c->log_level);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	struct opts o;
	struct ccfg c;
	struct cerr err;
	int rc;

	if (parse(argc, argv, &o, false) || optind != argc || o.state_dir) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (load(&c, &o))
		return EXIT_USAGE;
	clog_msg(CLOG_INFO, "vigil-collector %s starting", VIGIL_VERSION);
	rc = priv_become_owner(c.state_dir, &err) < 0 || srv_run(&c, &err);
	if (rc)
		clog_msg(CLOG_ERR, "%s", err.msg);
	ccfg_free(&c);
	return rc ? EXIT_FAIL : 0;
}

static int cmd_token(int argc, char **argv)
{
	char text[TOK_TEXT_MAX + 1];
	uint64_t ttl_ms = 3600 * 1000, uses = 1;
	const char *rest;
	struct opts o;
	struct ccfg c;
	struct sst x;
	struct cerr err;
	int rc;

	if (argc < 2 || strcmp(argv[1], "create")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (parse(argc - 1, argv + 1, &o, true) || optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.ttl && (ccfg_duration(o.ttl, &ttl_ms) || ttl_ms < 1000 ||
		      ttl_ms > 365ull * 86400 * 1000)) {
		fprintf(stderr, "vigil-collector: --ttl %s: a duration from 1s to 365d "
			"(e.g. 30m, 1h, 7d)\n", o.ttl);
		return EXIT_USAGE;
	}
	if (o.uses) {
		uses = strtoull(o.uses, (char **)&rest, 10);
		if (!isdigit((unsigned char)o.uses[0]) || *rest || uses < 1 || uses > 100000) {
			fprintf(stderr, "vigil-collector: --uses %s: a number from 1 to 100000\n",
				o.uses);
			return EXIT_USAGE;
		}
	}
	if (load(&c, &o))
		return EXIT_USAGE;
	memset(&x, 0, sizeof(x));
	rc = priv_become_owner(c.state_dir, &err) < 0 || sst_open(&x, &c, false, &err) ||
	     tok_create(x.st, x.ca_pem, x.ca_pem_len, (int64_t)time(NULL),
			(int64_t)(ttl_ms / 1000), (int)uses, text, &err);
	if (rc)
		fprintf(stderr, "vigil-collector: %s\n", err.msg);
	else
		printf("%s\n", text);
	OPENSSL_cleanse(text, sizeof(text));
	sst_close(&x);
	ccfg_free(&c);
	return rc ? EXIT_FAIL : 0;
}

static int cmd_cert(int argc, char **argv)
{
	char serial[PKI_SERIAL_HEX * 2 + 1];
	struct st_err serr;
	struct cerr err;
	struct opts o;
	struct ccfg c;
	struct st *st;
	size_t i = 0;
	int rc;

	if (argc < 2 || strcmp(argv[1], "revoke") ||
	    parse(argc - 1, argv + 1, &o, false) || optind != argc - 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* As OpenSSL prints it (upper case, maybe with colons) or as logged. */
	for (const char *p = argv[1 + optind]; *p && i < sizeof(serial) - 1; p++)
		if (*p != ':')
			serial[i++] = (char)tolower((unsigned char)*p);
	serial[i] = 0;
	if (load(&c, &o))
		return EXIT_USAGE;
	if (priv_become_owner(c.state_dir, &err) < 0) {
		fprintf(stderr, "vigil-collector: %s\n", err.msg);
		ccfg_free(&c);
		return EXIT_FAIL;
	}
	rc = st_open(&st, c.store ? c.store : c.state_dir, &serr);
	if (rc == 0) {
		rc = st_cert_revoke(st, serial, &serr);
		st_close(st);
	}
	if (rc)
		fprintf(stderr, "vigil-collector: revoking %s: %s\n", serial, serr.msg);
	else
		printf("revoked %s\n", serial);
	ccfg_free(&c);
	return rc == 0 ? 0 : rc == ST_REFUSED ? EXIT_USAGE : EXIT_FAIL;
}

static int cmd_config(int argc, char **argv)
{
	struct opts o;
	struct ccfg c;

	if (argc < 2 || strcmp(argv[1], "check") || parse(argc - 1, argv + 1, &o, false) ||
	    optind != argc - 1 || o.state_dir) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (load(&c, &o))
		return EXIT_USAGE;
	printf("%s: valid; listen", o.config ? o.config : CCFG_PATH);
	for (size_t i = 0; i < c.n_listen; i++)
		printf(" %s", c.listen[i]);
	printf(", state_dir %s, at most %u connections\n", c.state_dir, c.lim.max_connections);
	ccfg_free(&c);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{"serve", cmd_serve},	{"token", cmd_token},	{"cert", cmd_cert},
		{"config", cmd_config}, {"hosts", cmd_hosts},	{"checks", cmd_checks},
		{"events", cmd_events},
	};

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("vigil-collector %s\n", VIGIL_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vigil-collector: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
