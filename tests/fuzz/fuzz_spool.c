/* fuzz_spool.c: the outbox opening a spool whose files are arbitrary bytes.
 *
 * The first byte says what the rest becomes, in a fresh directory:
 *   & 3 == 0   open.log
 *   & 3 == 1   the batch file 0000000000000001
 *   & 3 == 2   open.log (its length in the next two bytes, little-endian),
 *              then the batch file
 *   & 3 == 3   the state file
 *   & 4        also a valid state file (unless the input is the state)
 *
 * Beyond not crashing or leaking: damage is never fatal (ob_open succeeds);
 * every batch it keeps decodes as a CompressedPackedForward frame under the
 * default limits; a record put afterwards seals into a batch that does too;
 * and every batch acks. The directory is on tmpfs where there is one, so
 * the fsyncs cost nothing. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forward.h"
#include "outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64], dir[96];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void rm_root(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(root);
}

static void setup(void)
{
	if (root[0])
		return;
	snprintf(root, sizeof(root), "%s", "/dev/shm/vigil-fuzz-XXXXXX");
	if (!mkdtemp(root)) {
		snprintf(root, sizeof(root), "%s", "/tmp/vigil-fuzz-XXXXXX");
		if (!mkdtemp(root))
			__builtin_trap();
	}
	snprintf(dir, sizeof(dir), "%s/spool", root);
	atexit(rm_root);
	log_set_level(VG_LOG_ERROR);	/* damage is what this feeds it */
}

static void spit(const char *name, const void *p, size_t n)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n)
		__builtin_trap();
	fclose(f);
}

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

/* Every batch the spool holds is one the collector takes. */
static size_t check_batches(struct outbox *ob)
{
	struct ob_batch b;
	struct vg_err err;
	size_t i = 0;
	int r;

	while ((r = ob_peek(ob, i, &b, &err)) == 0) {
		struct fwd_frame f;
		struct fwd_err fe;
		size_t used;

		if (fwd_decode(&f, b.frame, b.len, NULL, &used, &fe) != FWD_OK || used != b.len ||
		    f.mode != FWD_COMPRESSED || f.n != b.records || strcmp(f.chunk, b.chunk))
			__builtin_trap();
		fwd_frame_free(&f);
		i++;
	}
	if (r != 1)
		__builtin_trap();
	return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char state[] = "vigil-outbox 1\nepoch 0123456789abcdef\nnext_seq 5\n"
				    "drop_through 0\ngap 0 0 0 0 0 0 0\n";
	static const unsigned char rec[] = {0x81, 0xa1, 'k', 0x01};	/* {"k": 1} */
	struct ob_opts o = {.dir = dir, .sensor_id = "fuzz", .tag = "vigil.fuzz",
			    .batch_records = 100, .batch_bytes = 64u << 10,
			    .max_bytes = 1u << 20, .gap_fn = gap_fn};
	struct outbox *ob;
	struct ob_stats st;
	struct ob_batch b;
	struct vg_err err;
	unsigned mode;

	if (size < 1)
		return 0;
	setup();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(dir, 0700))
		__builtin_trap();
	mode = data[0];
	data++, size--;
	if ((mode & 4) && (mode & 3) != 3)
		spit("state", state, sizeof(state) - 1);
	switch (mode & 3) {
	case 0:
		spit("open.log", data, size);
		break;
	case 1:
		spit("0000000000000001", data, size);
		break;
	case 2: {
		size_t n = size >= 2 ? (size_t)(data[0] | data[1] << 8) : 0;

		data += size >= 2 ? 2 : size, size -= size >= 2 ? 2 : size;
		n = n < size ? n : size;
		spit("open.log", data, n);
		spit("0000000000000001", data + n, size - n);
		break;
	}
	default:
		spit("state", data, size);
		break;
	}
	if (ob_open(&ob, &o, &err))
		__builtin_trap();	/* damaged files are never fatal */
	check_batches(ob);
	if (ob_put(ob, 1700000000000000000ull, rec, sizeof(rec), &err) || ob_flush(ob, &err))
		__builtin_trap();
	ob_stats(ob, &st);
	if (st.open_records != 0 || check_batches(ob) != st.batches || st.batches == 0)
		__builtin_trap();
	while (ob_peek(ob, 0, &b, &err) == 0) {
		char chunk[sizeof(b.chunk)];

		memcpy(chunk, b.chunk, sizeof(chunk));
		if (ob_ack(ob, chunk, &err) != 0)
			__builtin_trap();
	}
	ob_close(ob);
	return 0;
}
