/* outbox-bench.c: what the outbox costs per record.
 *
 *   outbox-bench [-n RECORDS] [-d DIR]
 *
 * Puts RECORDS (default 1,000,000) OCSF-like Process Activity records of
 * about 300 bytes into a fresh spool under DIR (default /var/tmp) with the
 * default options (1000 records or 512 KiB a batch, gzip), then acks every
 * batch. Prints records/s for ob_put alone, for sealing (gzip, write, two
 * fsyncs) and for acking (unlink, fsync of the directory); gzip alone,
 * timed apart on the same batches; and the bytes on disk per record. It
 * measures and prints; it never fails on a number. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "forward.h"
#include "outbox.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* A Process Activity (1007) launch, as the sensor will send one. */
static void record(msgpack_sbuffer *sb, uint64_t i)
{
	static const char *const exe[] = {"/usr/bin/bash", "/usr/sbin/sshd", "/usr/bin/python3.11",
					  "/usr/bin/curl", "/usr/lib/systemd/systemd-journald",
					  "/usr/bin/apt-get", "/usr/bin/find", "/usr/sbin/cron"};
	static const char *const user[] = {"root", "www-data", "postgres", "deploy", "nobody"};
	uint64_t x = i * 0x9e3779b97f4a7c15ull;
	const char *e = exe[x % 8];
	char cmd[160], uid[64];
	msgpack_packer pk;

	snprintf(cmd, sizeof(cmd), "%s --session %" PRIu64 " -o /var/tmp/job-%" PRIx64 ".out",
		 strrchr(e, '/') + 1, (x >> 8) % 100000, x >> 40);
	snprintf(uid, sizeof(uid), "%016" PRIx64, x ^ 0x5555);
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 7);
	pstr(&pk, "class_uid");
	msgpack_pack_uint32(&pk, 1007);
	pstr(&pk, "activity_id");
	msgpack_pack_uint8(&pk, 1);
	pstr(&pk, "severity_id");
	msgpack_pack_uint8(&pk, 1);
	pstr(&pk, "device");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "hostname");
	pstr(&pk, "web-07.prod.example.net");
	pstr(&pk, "process");
	msgpack_pack_map(&pk, 5);
	pstr(&pk, "pid");
	msgpack_pack_uint32(&pk, (uint32_t)(1000 + (x >> 16) % 4000000));
	pstr(&pk, "uid");
	pstr(&pk, uid);
	pstr(&pk, "cmd_line");
	pstr(&pk, cmd);
	pstr(&pk, "file");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "path");
	pstr(&pk, e);
	pstr(&pk, "parent_process");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "pid");
	msgpack_pack_uint32(&pk, (uint32_t)(1 + (x >> 24) % 30000));
	pstr(&pk, "actor");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "user");
	msgpack_pack_map(&pk, 2);
	pstr(&pk, "name");
	pstr(&pk, user[(x >> 4) % 5]);
	pstr(&pk, "uid");
	msgpack_pack_uint32(&pk, (uint32_t)((x >> 4) % 5 * 1000));
	pstr(&pk, "metadata");
	msgpack_pack_map(&pk, 2);
	pstr(&pk, "product");
	pstr(&pk, "vigil");
	pstr(&pk, "version");
	pstr(&pk, "1.1.0");
}

static int gap_fn(void *u, const struct ob_gap *g, msgpack_packer *pk)
{
	(void)u;
	msgpack_pack_map(pk, 2);
	pstr(pk, "kind");
	pstr(pk, "gap");
	pstr(pk, "records");
	msgpack_pack_uint64(pk, g->records);
	return 0;
}

/* Blocks the directory's files take, in bytes. */
static uint64_t disk_use(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t n = 0;

	while (d && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			n += (uint64_t)st.st_blocks * 512;
	}
	if (d)
		closedir(d);
	return n;
}

/* gzip and framing alone: the same records, batches of 1000, no files. */
static double gzip_rate(uint64_t n)
{
	msgpack_sbuffer sb, out;
	struct fwd_batch b;
	struct fwd_err fe;
	double t = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&out);
	fwd_batch_init(&b);
	for (uint64_t i = 0; i < n; i++) {
		record(&sb, i);
		fwd_batch_add(&b, 1700000000000000000ull + i);
		msgpack_sbuffer_write(&b.buf, sb.data, sb.size);
		if (b.n == 1000 || i + 1 == n) {
			double t0 = now();

			msgpack_sbuffer_clear(&out);
			if (fwd_encode_compressed(&out, "vigil", &b, "bench-0000000000000000-1", &fe))
				fprintf(stderr, "encode: %s\n", fe.msg), exit(1);
			t += now() - t0;
			fwd_batch_clear(&b);
		}
	}
	fwd_batch_free(&b);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&out);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	const char *base = "/var/tmp";
	uint64_t n = 1000000, seals = 0, sealed_records = 0, bytes = 0;
	double t_put = 0, t_seal = 0, t_ack = 0, t0, t1, rec_bytes = 0;
	char dir[4096], cmd[4200];
	struct ob_opts o = {.sensor_id = "bench", .tag = "vigil", .max_bytes = 4ull << 30,
			    .gap_fn = gap_fn};
	struct outbox *ob;
	struct ob_stats st;
	struct ob_batch b;
	struct vg_err err;
	msgpack_sbuffer sb;
	int c;

	while ((c = getopt(argc, argv, "n:d:")) != -1) {
		if (c == 'n')
			n = strtoull(optarg, NULL, 10);
		else if (c == 'd')
			base = optarg;
		else
			return fprintf(stderr, "usage: %s [-n RECORDS] [-d DIR]\n", argv[0]), 2;
	}
	snprintf(dir, sizeof(dir), "%s/vigil-outbox-bench-XXXXXX", base);
	if (!mkdtemp(dir))
		return perror(dir), 1;
	o.dir = dir;
	if (ob_open(&ob, &o, &err))
		return fprintf(stderr, "%s\n", err.msg), 1;
	msgpack_sbuffer_init(&sb);

	/* A put that seals is timed as a seal (less one plain put's time). */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t before;

		record(&sb, i);
		rec_bytes += (double)sb.size;
		ob_stats(ob, &st);
		before = st.batches;
		t0 = now();
		if (ob_put(ob, 1700000000000000000ull + i * 1000, sb.data, sb.size, &err))
			return fprintf(stderr, "put %" PRIu64 ": %s\n", i, err.msg), 1;
		t1 = now() - t0;
		ob_stats(ob, &st);
		if (st.batches != before) {
			seals++;
			sealed_records += st.records - sealed_records;
			t_seal += t1;
		} else {
			t_put += t1;
		}
	}
	t0 = now();
	if (ob_flush(ob, &err))
		return fprintf(stderr, "flush: %s\n", err.msg), 1;
	t_seal += now() - t0;
	seals++;
	ob_stats(ob, &st);
	t_seal -= (double)seals * t_put / (double)(n - seals);	/* the put inside each seal */
	bytes = disk_use(dir);
	printf("records          %" PRIu64 " of %.0f bytes on average (msgpack)\n", n,
	       rec_bytes / (double)n);
	printf("batches          %" PRIu64 " of %.0f records\n", st.batches,
	       (double)st.records / (double)st.batches);
	printf("ob_put           %.0f records/s (%.2f us each; write(2) to open.log, no fsync)\n",
	       (double)(n - seals) / t_put, t_put / (double)(n - seals) * 1e6);
	printf("seal             %.0f records/s, %.0f batches/s (%.2f ms each: gzip, write, "
	       "fsync file and directory)\n", (double)st.records / t_seal,
	       (double)seals / t_seal, t_seal / (double)seals * 1e3);
	printf("  gzip alone     %.0f records/s (framing and gzip of the same batches, no I/O)\n",
	       gzip_rate(n));
	printf("on disk          %.1f bytes/record (%" PRIu64 " bytes of frames; %" PRIu64
	       " bytes of blocks, %.1f/record)\n", (double)st.bytes / (double)st.records,
	       st.bytes, bytes, (double)bytes / (double)st.records);
	printf("  open.log       %.1f bytes/record before sealing (entry header 16 + record)\n",
	       rec_bytes / (double)n + 16);

	t0 = now();
	while (ob_peek(ob, 0, &b, &err) == 0) {
		char chunk[sizeof(b.chunk)];

		memcpy(chunk, b.chunk, sizeof(chunk));
		if (ob_ack(ob, chunk, &err))
			return fprintf(stderr, "ack: %s\n", err.msg), 1;
	}
	t_ack = now() - t0;
	printf("ack              %.0f records/s, %.0f batches/s (peek + unlink + fsync of the "
	       "directory)\n", (double)st.records / t_ack, (double)st.batches / t_ack);
	ob_close(ob);
	msgpack_sbuffer_destroy(&sb);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? 1 : 0;
}
