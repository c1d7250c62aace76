/*
 * fwdtool.c: the Forward codec from the command line, for the interop test
 * (forward-interop.sh) that sets it against an independent msgpack
 * implementation (python3-msgpack).
 *
 *   fwdtool encode compressed|packed OUT   a fixed batch of 3 records
 *   fwdtool decode IN                      a stream of frames -> msgpack on stdout:
 *                                          [mode, tag, chunk, size|nil, [[ns, record]...]]
 *   fwdtool helo OUT                       a server's HELO (no users)
 *   fwdtool ping HELO HOST KEY OUT         the client's answer to it
 *   fwdtool pong HELO PING KEY HOST OUT    the server's answer (exit 1: refused)
 *   fwdtool pong-check HELO PING PONG KEY  the client's check of the server
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"

static int die(const char *what, const char *why)
{
	fprintf(stderr, "fwdtool: %s: %s\n", what, why);
	return 1;
}

static int slurp(const char *path, msgpack_sbuffer *sb)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (!f)
		return die(path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		msgpack_sbuffer_write(sb, buf, n);
	fclose(f);
	return 0;
}

static int spill(const char *path, const msgpack_sbuffer *sb)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(sb->data, 1, sb->size, f) != sb->size || fclose(f) != 0)
		return die(path, "cannot write");
	return 0;
}

static void pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Record i, as forward_interop.py expects it. */
static void record(msgpack_packer *pk, int i)
{
	msgpack_pack_map(pk, 7);
	pstr(pk, "class_uid");
	msgpack_pack_int(pk, 1001);
	pstr(pk, "seq");
	msgpack_pack_int(pk, i);
	pstr(pk, "msg");
	pstr(pk, "h\xc3\xa9llo");
	pstr(pk, "nested");
	msgpack_pack_map(pk, 1);
	pstr(pk, "a");
	msgpack_pack_array(pk, 3);
	msgpack_pack_int(pk, -1);
	msgpack_pack_true(pk);
	msgpack_pack_nil(pk);
	pstr(pk, "bin");
	msgpack_pack_bin_with_body(pk, "\0\1\2\xff", 4);
	pstr(pk, "f");
	msgpack_pack_double(pk, 1.5);
	pstr(pk, "big");
	msgpack_pack_uint64(pk, UINT64_MAX);
}

static int cmd_encode(const char *how, const char *out)
{
	struct fwd_batch b;
	msgpack_sbuffer sb;
	struct fwd_err err;
	int r;

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&sb);
	for (int i = 0; i < 3; i++)
		record(fwd_batch_add(&b, (1700000000ull + i) * 1000000000ull + 123456789 + i), i);
	r = strcmp(how, "packed") == 0 ?
		    fwd_encode_packed(&sb, "vigil.interop", &b, "chunk-0001", &err) :
		    fwd_encode_compressed(&sb, "vigil.interop", &b, "chunk-0001", &err);
	r = r ? die("encode", err.msg) : spill(out, &sb);
	msgpack_sbuffer_destroy(&sb);
	fwd_batch_free(&b);
	return r;
}

static void frame_print(msgpack_packer *pk, const struct fwd_frame *f)
{
	msgpack_pack_array(pk, 5);
	pstr(pk, fwd_mode_name(f->mode));
	pstr(pk, f->tag);
	pstr(pk, f->chunk);
	if (f->has_size)
		msgpack_pack_uint64(pk, f->size);
	else
		msgpack_pack_nil(pk);
	msgpack_pack_array(pk, (uint32_t)f->n);
	for (size_t i = 0; i < f->n; i++) {
		msgpack_pack_array(pk, 2);
		msgpack_pack_uint64(pk, f->entries[i].time_ns);
		msgpack_pack_object(pk, f->entries[i].record);
	}
}

/* Reads the stream as a non-blocking socket would deliver it, 7 bytes at a
 * time: the scanner says when a frame is whole, then it is decoded. */
static int decode_stream(const msgpack_sbuffer *in, msgpack_packer *pk)
{
	struct fwd_scanner s;
	struct fwd_frame f;
	struct fwd_err err;
	size_t off = 0, have, used;
	int frames = 0;

	while (off < in->size) {
		fwd_scanner_init(&s, NULL);
		have = 0;
		do {
			have = have + 7 < in->size - off ? have + 7 : in->size - off;
			if (fwd_scanner_feed(&s, in->data + off, have, &used, &err) == FWD_BAD)
				return die("scan", err.msg);
		} while (used == 0 && have < in->size - off);
		if (used == 0)
			return die("decode", "the stream ends inside a frame");
		if (fwd_decode(&f, in->data + off, used, NULL, &used, &err) != FWD_OK)
			return die("decode", err.msg);
		frame_print(pk, &f);
		fwd_frame_free(&f);
		off += used;
		frames++;
	}
	fprintf(stderr, "fwdtool: %d frames\n", frames);
	return 0;
}

static int cmd_decode(const char *path)
{
	msgpack_sbuffer in, out;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_init(&in);
	msgpack_sbuffer_init(&out);
	msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
	r = slurp(path, &in);
	if (!r)
		r = decode_stream(&in, &pk);
	if (!r && fwrite(out.data, 1, out.size, stdout) != out.size)
		r = die("stdout", "cannot write");
	msgpack_sbuffer_destroy(&in);
	msgpack_sbuffer_destroy(&out);
	return r;
}

/* Reads one handshake message of a kind from a file. */
#define READ_MSG(fn, type)                                                          \
	static int read_##fn(const char *path, type *m)                             \
	{                                                                           \
		msgpack_sbuffer sb;                                                 \
		struct fwd_err err;                                                 \
		size_t used;                                                        \
		int r;                                                              \
                                                                                    \
		msgpack_sbuffer_init(&sb);                                          \
		r = slurp(path, &sb);                                               \
		if (!r && fwd_##fn##_decode(m, sb.data, sb.size, &used, &err) != FWD_OK) \
			r = die(path, err.msg);                                     \
		msgpack_sbuffer_destroy(&sb);                                       \
		return r;                                                           \
	}
READ_MSG(helo, struct fwd_helo)
READ_MSG(ping, struct fwd_ping)
READ_MSG(pong, struct fwd_pong)

static int cmd_helo(const char *out)
{
	struct fwd_helo h;
	msgpack_sbuffer sb;
	struct fwd_err err;
	int r;

	if (fwd_helo_make(&h, false, true, &err))
		return die("helo", err.msg);
	msgpack_sbuffer_init(&sb);
	r = fwd_helo_encode(&sb, &h) ? die("helo", "out of memory") : spill(out, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

static int cmd_ping(const char *helo, const char *host, const char *key, const char *out)
{
	struct fwd_helo h;
	struct fwd_ping p;
	msgpack_sbuffer sb;
	struct fwd_err err;
	int r;

	if (read_helo(helo, &h))
		return 1;
	if (fwd_ping_make(&p, &h, host, key, NULL, NULL, &err))
		return die("ping", err.msg);
	msgpack_sbuffer_init(&sb);
	r = fwd_ping_encode(&sb, &p) ? die("ping", "out of memory") : spill(out, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

static int cmd_pong(const char *helo, const char *ping, const char *key, const char *host,
		    const char *out)
{
	struct fwd_helo h;
	struct fwd_ping p;
	struct fwd_pong pong;
	msgpack_sbuffer sb;
	struct fwd_err err, why = {{0}};
	int refused, r;

	if (read_helo(helo, &h) || read_ping(ping, &p))
		return 1;
	refused = fwd_ping_check(&p, &h, key, NULL, &why) != 0;
	if (fwd_pong_make(&pong, &p, &h, host, key, refused ? why.msg : NULL, &err))
		return die("pong", err.msg);
	msgpack_sbuffer_init(&sb);
	r = fwd_pong_encode(&sb, &pong) ? die("pong", "out of memory") : spill(out, &sb);
	msgpack_sbuffer_destroy(&sb);
	if (refused)
		return die("refused", why.msg);
	return r;
}

static int cmd_pong_check(const char *helo, const char *ping, const char *pong, const char *key)
{
	struct fwd_helo h;
	struct fwd_ping p;
	struct fwd_pong o;
	struct fwd_err err;

	if (read_helo(helo, &h) || read_ping(ping, &p) || read_pong(pong, &o))
		return 1;
	if (fwd_pong_check(&o, &p, &h, key, &err))
		return die("pong-check", err.msg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	if (!strcmp(c, "encode") && argc == 4)
		return cmd_encode(argv[2], argv[3]);
	if (!strcmp(c, "decode") && argc == 3)
		return cmd_decode(argv[2]);
	if (!strcmp(c, "helo") && argc == 3)
		return cmd_helo(argv[2]);
	if (!strcmp(c, "ping") && argc == 6)
		return cmd_ping(argv[2], argv[3], argv[4], argv[5]);
	if (!strcmp(c, "pong") && argc == 7)
		return cmd_pong(argv[2], argv[3], argv[4], argv[5], argv[6]);
	if (!strcmp(c, "pong-check") && argc == 6)
		return cmd_pong_check(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: fwdtool encode compressed|packed OUT | decode IN | helo OUT |\n"
			"       ping HELO HOST KEY OUT | pong HELO PING KEY HOST OUT |\n"
			"       pong-check HELO PING PONG KEY\n");
	return 2;
}
