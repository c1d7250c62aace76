/*
 * ingest-bench: how many records a second vigil-collector takes, acked after
 * commit, over mutual TLS (tests/bench/ingest-bench.sh runs it).
 *
 *   ingest-bench -s STATE_DIR [-n RECORDS] [-b PER_BATCH] [-w WINDOW] [-p COLLECTOR_PID]
 *
 * STATE_DIR holds an identity from `vigil enroll`. The records are OCSF
 * Process Activity (1007) of the sensor's shape, each with its own pid and
 * command line, packed and gzipped into Forward batches before the clock
 * starts, so what is measured is the collector: TLS, gunzip, the bounded
 * decode, the store and its fsync per chunk. With -p the collector's CPU
 * time is read from /proc before and after, which gives records per
 * CPU-second: the collector is one thread, so that is records/s/core.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forward.h"
#include "ident.h"
#include "link.h"
#include "ocsf.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of pid, in seconds; -1 when unreadable. */
static double cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void pack_record(msgpack_packer *pk, const struct ocsf_src *src, uint64_t i)
{
	char cmd[160], name[32];
	struct ocsf_process parent = {.pid = 1000 + (uint32_t)(i % 50), .name = "bash",
				      .cmd_line = "-bash", .exe = "/usr/bin/bash", .uid = 1000,
				      .user_name = "deploy"};
	struct ocsf_actor actor = {.process = &parent, .uid = 1000, .user_name = "deploy"};
	struct ocsf_process_activity r = {
		.h = {.time_ms = 1795400000000ull + i},
		.activity_id = OCSF_PROC_LAUNCH,
		.actor = &actor,
		.event = "exec",
		.cwd = "/srv/app",
		.auid = 1000,
	};
	struct ocsf_err err;

	snprintf(name, sizeof(name), "worker%llu", (unsigned long long)(i % 97));
	snprintf(cmd, sizeof(cmd), "/usr/bin/php /srv/app/bin/console queue:work --job=%llu",
		 (unsigned long long)i);
	r.process = (struct ocsf_process){.pid = 20000 + (uint32_t)i, .name = name,
					  .cmd_line = cmd, .exe = "/usr/bin/php", .uid = 1000,
					  .user_name = "deploy", .parent = &parent};
	if (ocsf_pack_process_activity(pk, src, &r, &err)) {
		fprintf(stderr, "ingest-bench: %s\n", err.msg);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *state = NULL;
	unsigned long n = 200000, per = 1000, window = 8;
	int pid = 0, c;
	struct ident id;
	struct vg_err err = {{0}};

	while ((c = getopt(argc, argv, "s:n:b:w:p:")) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'b': per = strtoul(optarg, NULL, 10); break;
		case 'w': window = strtoul(optarg, NULL, 10); break;
		case 'p': pid = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: ingest-bench -s STATE_DIR [-n N] [-b PER_BATCH] "
					"[-w WINDOW] [-p COLLECTOR_PID]\n");
			return 2;
		}
	}
	if (!state || !n || !per || !window || ident_load(&id, state, &err)) {
		fprintf(stderr, "ingest-bench: %s\n", err.msg[0] ? err.msg : "bad arguments");
		return 2;
	}

	struct ocsf_src src = {.host_uid = id.host_id, .hostname = "bench", .os_name = "Linux",
			       .product_version = "bench"};
	size_t nb = (n + per - 1) / per;
	msgpack_sbuffer *frames = calloc(nb, sizeof(*frames));
	size_t wire = 0, packed = 0;
	char run[17];

	snprintf(run, sizeof(run), "%08lx%08lx", (unsigned long)time(NULL), (unsigned long)getpid());
	for (size_t b = 0; b < nb; b++) {
		struct fwd_batch batch;
		struct fwd_err fe;
		char chunk[64];

		fwd_batch_init(&batch);
		for (unsigned long i = b * per; i < n && i < (b + 1) * per; i++)
			pack_record(fwd_batch_add(&batch, 1795400000000000000ull + i), &src, i);
		packed += batch.buf.size;
		snprintf(chunk, sizeof(chunk), "bench-%s-%zu", run, b);
		msgpack_sbuffer_init(&frames[b]);
		if (fwd_encode_compressed(&frames[b], "vigil", &batch, chunk, &fe)) {
			fprintf(stderr, "ingest-bench: %s\n", fe.msg);
			return 1;
		}
		wire += frames[b].size;
		fwd_batch_free(&batch);
	}

	SSL_CTX *ctx = ident_ctx(&id, &err);
	struct link l;
	struct fwd_limits lim;

	if (!ctx || link_open(&l, id.collector, ctx, 30000, 4096, &err)) {
		fprintf(stderr, "ingest-bench: %s\n", err.msg);
		return 1;
	}
	fwd_limits_default(&lim);
	lim.frame_max = lim.str_max = 512;
	double cpu0 = pid ? cpu_s(pid) : -1, t0 = now_s();
	size_t sent = 0, acked = 0;

	while (acked < nb) {
		while (sent < nb && sent - acked < window) {
			if (link_write(&l, frames[sent].data, frames[sent].size, &err)) {
				fprintf(stderr, "ingest-bench: %s\n", err.msg);
				return 1;
			}
			sent++;
		}
		msgpack_zone z;
		msgpack_object o;
		int r = link_read(&l, &lim, 60000, &z, &o, &err);

		if (r) {
			fprintf(stderr, "ingest-bench: %s\n", r == 1 ? "no ack in 60 s" : err.msg);
			return 1;
		}
		msgpack_zone_destroy(&z);
		acked++;
	}
	double secs = now_s() - t0, cpu = pid ? cpu_s(pid) - cpu0 : -1;

	link_close(&l);
	SSL_CTX_free(ctx);
	printf("records           %lu in %zu batches of %lu, window %lu\n", n, nb, per, window);
	printf("wire              %.1f bytes/record (msgpack %.1f before gzip)\n",
	       (double)wire / (double)n, (double)packed / (double)n);
	printf("acked             %.0f records/s (%.1f s wall, %.1f ms per batch)\n",
	       (double)n / secs, secs, secs * 1000 / (double)nb);
	if (cpu > 0)
		printf("collector CPU     %.2f s: %.0f records per CPU-second (goal 100000: %.2fx)\n",
		       cpu, (double)n / cpu, (double)n / cpu / 100000.0);
	for (size_t b = 0; b < nb; b++)
		msgpack_sbuffer_destroy(&frames[b]);
	free(frames);
	return 0;
}
