/*
 * status.c: STATE/status.json, written by `vigil run` every few seconds
 * (atomically: a reader never sees half a file), and `vigil status`, which
 * prints it. A file, not a control socket: the reader needs no privilege
 * the daemon must check, and a stale file is told apart by its pid and age.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#define STATUS_MAX (64u << 10)

static void jstr(struct vg_buf *b, const char *k, const char *v)
{
	buf_printf(b, "\"%s\":", k);
	json_str(b, v ? v : "");
	buf_puts(b, ",");
}

int status_write(const char *state_dir, const struct run_status *st, struct vg_err *err)
{
	struct vg_buf b = {0};
	char path[PATH_MAX];
	int rc;

	if (path_join(path, state_dir, "status.json"))
		return vg_errf(err, "%s: path too long", state_dir);
	buf_printf(&b, "{\"pid\":%d,\"updated\":%lld,\"started\":%lld,", (int)getpid(),
		   (long long)time(NULL), (long long)st->started);
	jstr(&b, "version", VIGIL_VERSION);
	jstr(&b, "mode", st->mode);
	jstr(&b, "host_id", st->host_id);
	jstr(&b, "collector", st->collector);
	buf_printf(&b, "\"connected\":%s,\"last_ack\":%lld,\"connects\":%llu,\"failures\":%llu,",
		   st->sh.connected ? "true" : "false", (long long)st->sh.last_ack,
		   (unsigned long long)st->sh.connects, (unsigned long long)st->sh.failures);
	jstr(&b, "last_error", st->sh.last_error);
	/* Flat, like the rest: `vigil status` finds members by name. */
	jstr(&b, "prev_host_id", st->prev_host);
	buf_printf(&b, "\"prev_batches\":%llu,\"prev_records\":%llu,",
		   (unsigned long long)st->prev_batches, (unsigned long long)st->prev_records);
	buf_printf(&b, "\"outbox\":{\"batches\":%llu,\"records\":%llu,\"bytes\":%llu,"
		       "\"open_records\":%llu,\"acked_batches\":%llu,\"acked_records\":%llu,"
		       "\"dropped_records\":%llu,\"dropped_batches\":%llu,\"damaged\":%llu},",
		   (unsigned long long)st->ob.batches, (unsigned long long)st->ob.records,
		   (unsigned long long)st->ob.bytes, (unsigned long long)st->ob.open_records,
		   (unsigned long long)st->ob.acked_batches,
		   (unsigned long long)st->ob.acked_records,
		   (unsigned long long)st->ob.dropped_records,
		   (unsigned long long)st->ob.dropped_batches, (unsigned long long)st->ob.damaged);
	buf_printf(&b, "\"discarded_batches\":%llu,\"discarded_records\":%llu,",
		   (unsigned long long)st->ob.discarded_batches,
		   (unsigned long long)st->ob.discarded_records);
	buf_printf(&b, "\"events\":%llu,\"drops\":%llu,\"findings\":%llu,\"checks_runs\":%llu,"
		       "\"last_checks\":%lld,\"score\":",
		   (unsigned long long)st->events, (unsigned long long)st->drops,
		   (unsigned long long)st->findings, (unsigned long long)st->checks_runs,
		   (long long)st->last_checks);
	if (st->score == st->score)
		buf_printf(&b, "%.2f}\n", st->score);
	else
		buf_puts(&b, "null}\n");
	rc = file_put_atomic(path, b.p, b.len, 0644, err);
	buf_free(&b);
	return rc;
}

/* A number member of the flat status object; -1 when absent. */
static long long num(const char *js, const char *key)
{
	char pat[64];
	const char *p;
	long long v;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(js, pat);
	if (!p)
		return -1;
	v = strtoll(p + strlen(pat), NULL, 10);
	return v;
}

static void str(const char *js, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *e;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(js, pat);
	if (!p)
		return;
	p += strlen(pat);
	for (e = p; *e && *e != '"'; e++)
		if (*e == '\\' && e[1])
			e++;
	snprintf(out, len, "%.*s", (int)(e - p), p);
}

static const char *age(long long then, char *buf, size_t len)
{
	long long d = (long long)time(NULL) - then;

	if (then <= 0)
		return "never";
	if (d < 120)
		snprintf(buf, len, "%llds ago", d);
	else if (d < 7200)
		snprintf(buf, len, "%lldm ago", d / 60);
	else
		snprintf(buf, len, "%lldh ago", d / 3600);
	return buf;
}

static void print_text(const char *js)
{
	char mode[32], host[80], prev[80], coll[256], lerr[256], a1[32], a2[32];
	long long pid = num(js, "pid"), updated = num(js, "updated");
	bool alive = pid > 0 && kill((pid_t)pid, 0) == 0;

	str(js, "mode", mode, sizeof(mode));
	str(js, "host_id", host, sizeof(host));
	str(js, "collector", coll, sizeof(coll));
	str(js, "last_error", lerr, sizeof(lerr));
	str(js, "prev_host_id", prev, sizeof(prev));
	printf("vigil run: %s (pid %lld, status written %s)\n",
	       alive ? "running" : "NOT running", pid, age(updated, a1, sizeof(a1)));
	printf("mode:      %s\n", mode[0] ? mode : "-");
	printf("host id:   %s\n", host[0] ? host : "(not enrolled)");
	printf("collector: %s, %s, last ack %s\n", coll[0] ? coll : "-",
	       strstr(js, "\"connected\":true") ? "connected" : "not connected",
	       age(num(js, "last_ack"), a2, sizeof(a2)));
	if (lerr[0])
		printf("last error: %s\n", lerr);
	printf("outbox:    %lld batches (%lld records, %lld bytes) waiting, %lld records open\n",
	       num(js, "batches"), num(js, "records"), num(js, "bytes"), num(js, "open_records"));
	if (prev[0])
		printf("previous:  host %s: %lld batches (%lld records) still to send as %s\n", prev,
		       num(js, "prev_batches"), num(js, "prev_records"), prev);
	printf("dropped:   %lld records in %lld batches (spool full), %lld damaged files\n",
	       num(js, "dropped_records"), num(js, "dropped_batches"), num(js, "damaged"));
	if (num(js, "discarded_batches") > 0)
		printf("given up:  %lld records in %lld batches (no identity here can send them)\n",
		       num(js, "discarded_records"), num(js, "discarded_batches"));
	printf("events:    %lld, %lld lost in the kernel; %lld file findings; %lld check runs\n",
	       num(js, "events"), num(js, "drops"), num(js, "findings"), num(js, "checks_runs"));
}

static void usage_status(FILE *out)
{
	fputs("usage: vigil status [--state-dir DIR] [--json]\n"
	      "What `vigil run` last reported: mode, collector, queue depth, last ack, drops.\n"
	      "exit 0 running, 1 not running, 2 no status (never started here)\n",
	      out);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *state = VG_STATE_DIR;
	struct vg_err err = {{0}};
	char path[PATH_MAX], *js;
	bool json = false;
	long long pid;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'j': json = true; break;
		case 'h': usage_status(stdout); return 0;
		default: usage_status(stderr); return 2;
		}
	}
	if (optind != argc || path_join(path, state, "status.json")) {
		usage_status(stderr);
		return 2;
	}
	js = file_get(path, STATUS_MAX, NULL, &err);
	if (!js) {
		fprintf(stderr, "vigil status: %s (has `vigil run` started here?)\n", err.msg);
		return 2;
	}
	pid = num(js, "pid");
	rc = pid > 0 && kill((pid_t)pid, 0) == 0 ? 0 : 1;
	if (json)
		fputs(js, stdout);
	else
		print_text(js);
	free(js);
	return rc;
}
