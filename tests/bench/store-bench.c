/* store-bench.c: the collector store's ingest rate, as the server drives it:
 * chunk begin, one st_record per entry, commit (durable: synchronous=FULL).
 *
 *   store-bench [--store SPEC] [--hosts N] [--chunks N] [--batch N]
 *
 * Records are what a sensor sends (docs/records.md): per batch, 70% file
 * events, 20% process events, 8% check results, the rest scores,
 * heartbeats and detections. They are packed and unpacked before the clock
 * starts: only the store is timed. Without --store, a fresh directory under
 * /var/tmp (a real disk; /tmp may be tmpfs, where fsync costs nothing) is
 * used and removed. Prints records/s, chunks/s and the commit time.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void key(msgpack_packer *pk, const char *k)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
}

static void kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
	key(pk, k);
	msgpack_pack_int64(pk, v);
}

/* The part every record has; n: how many more keys the caller packs. */
static void head(msgpack_packer *pk, const char *host, int cls, int act, int64_t t, int n)
{
	msgpack_pack_map(pk, 7 + n);
	kv_int(pk, "class_uid", cls);
	kv_int(pk, "activity_id", act);
	kv_int(pk, "type_uid", cls * 100 + act);
	kv_int(pk, "time", t);
	kv_int(pk, "severity_id", 1);
	key(pk, "metadata");
	msgpack_pack_map(pk, 2);
	kv_str(pk, "version", "1.1.0");
	key(pk, "product");
	msgpack_pack_map(pk, 2);
	kv_str(pk, "name", "vigil");
	kv_str(pk, "version", "0.1.0");
	key(pk, "device");
	msgpack_pack_map(pk, 3);
	kv_str(pk, "uid", host);
	kv_str(pk, "hostname", host);
	key(pk, "os");
	msgpack_pack_map(pk, 1);
	kv_str(pk, "name", "Debian GNU/Linux");
}

static void record(msgpack_packer *pk, const char *host, unsigned i, int64_t t)
{
	char a[128], b[128];
	unsigned k = i % 100;

	if (k < 70) {			/* file event */
		head(pk, host, 1001, 1 + i % 4, t, 3);
		snprintf(a, sizeof(a), "/var/www/site%u/page%u.html", i % 13, i);
		key(pk, "file");
		msgpack_pack_map(pk, 2);
		kv_str(pk, "path", a);
		kv_int(pk, "size", 1000 + i);
		key(pk, "actor");
		msgpack_pack_map(pk, 1);
		key(pk, "process");
		msgpack_pack_map(pk, 3);
		kv_int(pk, "pid", 1000 + i % 500);
		key(pk, "file");
		msgpack_pack_map(pk, 1);
		kv_str(pk, "path", "/usr/sbin/nginx");
		key(pk, "user");
		msgpack_pack_map(pk, 1);
		kv_str(pk, "uid", "33");
		key(pk, "unmapped");
		msgpack_pack_map(pk, 1);
		key(pk, "fim");
		msgpack_pack_map(pk, 1);
		kv_str(pk, "verdict", i % 50 ? "change" : "tampering");
	} else if (k < 90) {		/* process event */
		head(pk, host, 1007, 1, t, 1);
		snprintf(a, sizeof(a), "/usr/bin/tool%u --flag=%u /srv/data/%u", i % 7, i, i);
		key(pk, "process");
		msgpack_pack_map(pk, 5);
		kv_int(pk, "pid", 20000 + i);
		key(pk, "file");
		msgpack_pack_map(pk, 1);
		kv_str(pk, "path", "/usr/bin/tool");
		kv_str(pk, "cmd_line", a);
		key(pk, "user");
		msgpack_pack_map(pk, 1);
		kv_int(pk, "uid", 1000);
		key(pk, "parent_process");
		msgpack_pack_map(pk, 1);
		kv_int(pk, "pid", 1);
	} else if (k < 98) {		/* check result */
		head(pk, host, 2003, 1, t, 3);
		snprintf(a, sizeof(a), "cis-%u.%u", i % 6, i % 40);
		snprintf(b, sizeof(b), "Ensure setting %u is configured", i % 40);
		key(pk, "finding_info");
		msgpack_pack_map(pk, 2);
		kv_str(pk, "uid", a);
		kv_str(pk, "title", b);
		key(pk, "compliance");
		msgpack_pack_map(pk, 4);
		kv_str(pk, "status", i % 3 ? "Pass" : "Fail");
		kv_int(pk, "status_id", i % 3 ? 1 : 3);
		kv_str(pk, "control", a + 4);
		key(pk, "standards");
		msgpack_pack_array(pk, 1);
		msgpack_pack_str_with_body(pk, "CIS Debian 12", 13);
		key(pk, "unmapped");
		msgpack_pack_map(pk, 1);
		key(pk, "vigil");
		msgpack_pack_map(pk, 1);
		key(pk, "baseline");
		msgpack_pack_map(pk, 2);
		kv_str(pk, "id", "cis-debian12");
		kv_str(pk, "version", "1");
	} else if (k == 98) {		/* score */
		head(pk, host, 5002, 1, t, 1);
		key(pk, "unmapped");
		msgpack_pack_map(pk, 1);
		key(pk, "vigil");
		msgpack_pack_map(pk, 2);
		key(pk, "baseline");
		msgpack_pack_map(pk, 3);
		kv_str(pk, "id", "cis-debian12");
		kv_str(pk, "name", "CIS Debian 12");
		kv_str(pk, "version", "1");
		key(pk, "summary");
		msgpack_pack_map(pk, 6);
		kv_int(pk, "passed", 180), kv_int(pk, "failed", 20);
		kv_int(pk, "not_applicable", 5), kv_int(pk, "errors", 0);
		kv_int(pk, "skipped", 2);
		key(pk, "score");
		msgpack_pack_double(pk, 90.0);
	} else {			/* heartbeat */
		head(pk, host, 0, 0, t, 1);
		key(pk, "unmapped");
		msgpack_pack_map(pk, 1);
		key(pk, "vigil");
		msgpack_pack_map(pk, 4);
		kv_str(pk, "kind", "heartbeat");
		kv_str(pk, "version", "0.1.0");
		kv_str(pk, "mode", "bpf");
		kv_int(pk, "interval_s", 60);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'}, {"hosts", required_argument, NULL, 'H'},
		{"chunks", required_argument, NULL, 'c'}, {"batch", required_argument, NULL, 'b'},
		{0},
	};
	const char *spec = NULL;
	unsigned hosts = 4, chunks = 50, batch = 1000;
	char dir[] = "/var/tmp/store-bench.XXXXXX", host[32], chunk[64];
	double t_all = 0, t_commit = 0, worst = 0;
	msgpack_object *recs;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_zone z;
	struct st_err err;
	struct st *s;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': spec = optarg; break;
		case 'H': hosts = (unsigned)atoi(optarg); break;
		case 'c': chunks = (unsigned)atoi(optarg); break;
		case 'b': batch = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: store-bench [--store SPEC] [--hosts N] [--chunks N] "
					"[--batch N]\n");
			return 2;
		}
	}
	if (!hosts || !chunks || !batch)
		return fprintf(stderr, "store-bench: counts must be at least 1\n"), 2;
	if (!spec) {
		if (!mkdtemp(dir))
			return perror("mkdtemp"), 1;
		spec = dir;
	}
	if (st_open(&s, spec, &err))
		return fprintf(stderr, "store-bench: %s\n", err.msg), 1;
	for (unsigned h = 0; h < hosts; h++) {
		char serial[32];

		snprintf(host, sizeof(host), "bench-%u", h);
		snprintf(serial, sizeof(serial), "bench-%u-%ld", h, (long)time(NULL));
		if (st_host_enroll(s, host, host, NULL, serial, 0, &err))
			return fprintf(stderr, "store-bench: %s\n", err.msg), 1;
	}
	recs = calloc(batch, sizeof(*recs));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_zone_init(&z, 1 << 16);
	for (unsigned c = 0; c < chunks; c++) {
		unsigned h = c % hosts;
		int64_t t0 = (int64_t)time(NULL) * 1000 + c * (int64_t)batch;
		size_t off = 0;
		bool seen;
		double a, b, e;

		snprintf(host, sizeof(host), "bench-%u", h);
		snprintf(chunk, sizeof(chunk), "%s.%ld.%u", host, (long)t0, c);
		msgpack_sbuffer_clear(&sb);
		msgpack_zone_clear(&z);
		for (unsigned i = 0; i < batch; i++)
			record(&pk, host, c * batch + i, t0 + i);
		for (unsigned i = 0; i < batch; i++) {
			msgpack_unpack_return r = msgpack_unpack(sb.data, sb.size, &off, &z, &recs[i]);

			if (r != MSGPACK_UNPACK_SUCCESS && r != MSGPACK_UNPACK_EXTRA_BYTES)
				return fprintf(stderr, "store-bench: unpack failed\n"), 1;
		}
		a = now_s();
		if (st_chunk_begin(s, host, chunk, &seen, &err))
			return fprintf(stderr, "store-bench: %s\n", err.msg), 1;
		for (unsigned i = 0; i < batch; i++)
			if (st_record(s, "vigil.events", 0, &recs[i], &err))
				return fprintf(stderr, "store-bench: %s\n", err.msg), 1;
		b = now_s();
		if (st_chunk_commit(s, &err))
			return fprintf(stderr, "store-bench: %s\n", err.msg), 1;
		e = now_s();
		t_all += e - a;
		t_commit += e - b;
		if (e - a > worst)
			worst = e - a;
	}
	printf("store-bench: %s, %u chunks of %u records, %u hosts, synchronous=FULL\n",
	       spec, chunks, batch, hosts);
	printf("  %.0f records/s, %.1f chunks/s; per chunk %.2f ms (commit %.2f ms), "
	       "worst %.2f ms\n", chunks * (double)batch / t_all, chunks / t_all,
	       1000 * t_all / chunks, 1000 * t_commit / chunks, 1000 * worst);
	st_close(s);
	msgpack_zone_destroy(&z);
	msgpack_sbuffer_destroy(&sb);
	free(recs);
	if (spec == dir) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			return 1;
	}
	return 0;
}
