/* mkcorpus-spool.c: seeds for fuzz_spool, made by the outbox itself.
 *
 *   cmake --build build --target mkcorpus-spool
 *   build/tests/fuzz/mkcorpus-spool tests/fuzz/corpus/spool
 *
 * Each seed is fuzz_spool's mode byte and the files a real spool wrote. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbox.h"

static const char *out;

static int gap_fn(void *u, const struct ob_gap *g, msgpack_packer *pk)
{
	(void)u;
	msgpack_pack_map(pk, 2);
	msgpack_pack_str_with_body(pk, "kind", 4);
	msgpack_pack_str_with_body(pk, "gap", 3);
	msgpack_pack_str_with_body(pk, "records", 7);
	msgpack_pack_uint64(pk, g->records);
	return 0;
}

static unsigned char *slurp(const char *dir, const char *name, size_t *n)
{
	char path[512];
	FILE *f;
	unsigned char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "rb")))
		perror(path), exit(1);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
		exit(1);
	fclose(f);
	*n = (size_t)len;
	return buf;
}

/* mode byte, [le16 of a's length,] a, b */
static void seed(const char *name, unsigned mode, const void *a, size_t alen, bool len16,
		 const void *b, size_t blen)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out, name);
	if (!(f = fopen(path, "wb")))
		perror(path), exit(1);
	fputc((int)mode, f);
	if (len16) {
		fputc((int)(alen & 0xff), f);
		fputc((int)(alen >> 8), f);
	}
	fwrite(a, 1, alen, f);
	if (b)
		fwrite(b, 1, blen, f);
	fclose(f);
	printf("%s\n", path);
}

/* A spool in a fresh directory with n records put, sealed or not. */
static char *spool(int n, bool sealed)
{
	static char dir[64];
	struct ob_opts o = {.sensor_id = "fuzz", .tag = "vigil.fuzz", .batch_records = 100,
			    .batch_bytes = 64u << 10, .max_bytes = 1u << 20, .gap_fn = gap_fn};
	struct outbox *ob;
	struct vg_err err;
	snprintf(dir, sizeof(dir), "/tmp/vigil-mkcorpus-XXXXXX");
	if (!mkdtemp(dir))
		exit(1);
	o.dir = dir;
	if (ob_open(&ob, &o, &err))
		fprintf(stderr, "%s\n", err.msg), exit(1);
	for (int i = 0; i < n; i++) {
		msgpack_sbuffer sb;
		msgpack_packer pk;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 3);
		msgpack_pack_str_with_body(&pk, "class_uid", 9);
		msgpack_pack_uint32(&pk, 1007);
		msgpack_pack_str_with_body(&pk, "pid", 3);
		msgpack_pack_int(&pk, 4000 + i);
		msgpack_pack_str_with_body(&pk, "cmd", 3);
		msgpack_pack_str_with_body(&pk, "/usr/bin/true --x", 17);
		if (ob_put(ob, 1700000000000000000ull + (uint64_t)i * 1000, sb.data, sb.size, &err))
			fprintf(stderr, "%s\n", err.msg), exit(1);
		msgpack_sbuffer_destroy(&sb);
	}
	if (sealed && ob_flush(ob, &err))
		fprintf(stderr, "%s\n", err.msg), exit(1);
	ob_close(ob);
	return dir;
}

static void rm(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		exit(1);
}

int main(int argc, char **argv)
{
	unsigned char *log, *batch, *state, *log2;
	size_t loglen, blen, slen, log2len;
	char *dir;

	if (argc != 2)
		return fprintf(stderr, "usage: %s OUTDIR\n", argv[0]), 2;
	out = argv[1];

	dir = spool(3, false);
	log = slurp(dir, "open.log", &loglen);
	state = slurp(dir, "state", &slen);
	rm(dir);
	seed("log-3.bin", 0, log, loglen, false, NULL, 0);
	seed("log-3-state.bin", 4, log, loglen, false, NULL, 0);
	seed("log-torn.bin", 0, log, loglen - 7, false, NULL, 0);
	seed("state.bin", 3, state, slen, false, NULL, 0);

	dir = spool(5, true);			/* the first batch of a spool: seq 1 */
	batch = slurp(dir, "0000000000000001", &blen);
	log2 = slurp(dir, "open.log", &log2len);	/* the empty open.log after a seal */
	rm(dir);
	seed("batch.bin", 1, batch, blen, false, NULL, 0);
	seed("batch-state.bin", 5, batch, blen, false, NULL, 0);
	seed("log-and-batch.bin", 2, log, loglen, true, batch, blen);
	seed("sealed-log-and-batch.bin", 6, log2, log2len, true, batch, blen);
	free(log);
	free(log2);
	free(batch);
	free(state);
	return 0;
}
