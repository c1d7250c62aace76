/*
 * outbox_disk.c: the outbox's files, read without trusting them and
 * written so that a crash leaves either the old file or the new one.
 *
 *   state      text; replaced whole (temp, fsync, rename, fsync of dir)
 *   open.log   header, then entries each with its own CRC32; appended to
 *   <16 hex>   one sealed batch: a CompressedPackedForward frame
 *   bad/       what was found damaged, kept for a person to look at
 *
 * Everything here goes through ob->dirfd, so the spool can be reached only
 * by the directory the outbox opened (and locked).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "outbox_int.h"

bool ob_gap_pending(const struct ob_state *st)
{
	return st->gap.batches > 0;
}

void ob_name(char out[OB_NAME_LEN + 1], uint64_t seq)
{
	snprintf(out, OB_NAME_LEN + 1, "%016" PRIx64, seq);
}

static bool hex_parse(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;

		if (d == 16)
			return false;
		*v = *v << 4 | d;
	}
	return true;
}

bool ob_name_parse(const char *name, uint64_t *seq)
{
	return strlen(name) == OB_NAME_LEN && hex_parse(name, OB_NAME_LEN, seq) && *seq &&
	       *seq < OB_SEQ_MAX;
}

bool ob_sensor_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

void ob_chunk(char out[OB_CHUNK_SIZE], const char *sensor, uint64_t epoch, uint64_t seq)
{
	snprintf(out, OB_CHUNK_SIZE, "%s-%016" PRIx64 "-%016" PRIx64, sensor, epoch, seq);
}

/* <sensor>-<16 hex>-<16 hex>: the sensor id has no '-', so it splits one way. */
int ob_chunk_parse(const char *chunk, char *sensor, uint64_t *epoch, uint64_t *seq)
{
	size_t n = strlen(chunk), id = n - 2 * (OB_NAME_LEN + 1);

	if (n < 2 * (OB_NAME_LEN + 1) + 1 || !ob_sensor_ok(chunk, id) || chunk[id] != '-' ||
	    chunk[id + 1 + OB_NAME_LEN] != '-' ||
	    !hex_parse(chunk + id + 1, OB_NAME_LEN, epoch) ||
	    !hex_parse(chunk + id + 2 + OB_NAME_LEN, OB_NAME_LEN, seq) || !*seq ||
	    *seq >= OB_SEQ_MAX)
		return -1;
	memcpy(sensor, chunk, id);
	sensor[id] = 0;
	return 0;
}

/* ---- files --------------------------------------------------------------- */

int ob_fsync_dir(struct outbox *ob, struct vg_err *err)
{
	if (fsync(ob->dirfd))
		return vg_errf(err, "outbox %s: fsync of the directory: %s", ob->dir,
			       strerror(errno));
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int ob_write_file(struct outbox *ob, const char *name, const void *p, size_t n, bool sync,
		  struct vg_err *err)
{
	char tmp[64];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s" OB_TMP, name);
	fd = openat(ob->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return vg_errf(err, "outbox %s: create %s: %s", ob->dir, tmp, strerror(errno));
	if (write_all(fd, p, n) || (sync && fsync(fd))) {
		int e = errno;

		close(fd);
		unlinkat(ob->dirfd, tmp, 0);
		return vg_errf(err, "outbox %s: write %s (%zu bytes): %s", ob->dir, tmp, n,
			       strerror(e));
	}
	if (close(fd) || renameat(ob->dirfd, tmp, ob->dirfd, name)) {
		int e = errno;

		unlinkat(ob->dirfd, tmp, 0);
		return vg_errf(err, "outbox %s: rename %s to %s: %s", ob->dir, tmp, name,
			       strerror(e));
	}
	return 0;
}

static int read_fd(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EIO;		/* shrank under us */
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* Running out of descriptors or memory says nothing about the file. */
static int fail_kind(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EINTR ? -2 : -1;
}

/* The first min(size, max) bytes; *size is the file's whole size. */
static int read_head(struct outbox *ob, const char *name, size_t max, unsigned char **buf,
		     size_t *len, uint64_t *size, struct vg_err *err)
{
	int fd = openat(ob->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), e;
	struct stat st;

	*buf = NULL;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		e = errno;
		vg_errf(err, "open: %s", strerror(e));
		return fail_kind(e);
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return vg_errf(err, "not a regular file");
	}
	*size = (uint64_t)st.st_size;
	*len = *size < max ? (size_t)*size : max;
	*buf = xmalloc(*len);
	if (read_fd(fd, *buf, *len)) {
		e = errno;
		close(fd);
		free(*buf);
		*buf = NULL;
		vg_errf(err, "read: %s", strerror(e));
		return fail_kind(e);
	}
	close(fd);
	return 0;
}

int ob_read_file(struct outbox *ob, const char *name, size_t max, unsigned char **buf,
		 size_t *len, struct vg_err *err)
{
	uint64_t size = 0;	/* -O3 cannot see read_head fill it */
	int r = read_head(ob, name, max, buf, len, &size, err);

	if (r == 0 && size > max) {
		free(*buf);
		*buf = NULL;
		return vg_errf(err, "%" PRIu64 " bytes, over the %zu-byte limit", size, max);
	}
	return r;
}

static unsigned bad_count(int bfd)
{
	int fd = dup(bfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	unsigned n = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The log goes to bad/ by a hard link: the rewrite that follows replaces
 * open.log by rename, so a crash in between still finds the original. */
static void bad_put(struct outbox *ob, const char *name, const char *why, bool link,
		    bool damaged)
{
	char dst[96];
	int bfd, r = -1;

	if (damaged)
		ob->c.damaged++;
	if (mkdirat(ob->dirfd, OB_BAD, 0700) && errno != EEXIST) {
		log_err("outbox %s: %s: %s; cannot make bad/: %s", ob->dir, name, why,
			strerror(errno));
		return;
	}
	bfd = openat(ob->dirfd, OB_BAD, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (bfd >= 0 && bad_count(bfd) >= OB_BAD_KEEP) {
		close(bfd);
		if (!link)
			unlinkat(ob->dirfd, name, 0);
		log_warn("outbox %s: %s: %s; deleted, as bad/ holds %u files already", ob->dir,
			name, why, OB_BAD_KEEP);
		return;
	}
	for (unsigned k = 0; bfd >= 0 && k < 1000; k++) {
		snprintf(dst, sizeof(dst), "%s.%lld.%u", name, (long long)time(NULL), k);
		if (faccessat(bfd, dst, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		r = link ? linkat(ob->dirfd, name, bfd, dst, 0)
			 : renameat(ob->dirfd, name, bfd, dst);
		break;
	}
	if (r) {
		log_err("outbox %s: %s: %s; cannot move it to bad/: %s", ob->dir, name, why,
			strerror(errno));
		if (!link)
			unlinkat(ob->dirfd, name, 0);	/* else it is found bad at every open */
	} else {
		log_warn("outbox %s: %s: %s; moved to bad/%s", ob->dir, name, why, dst);
	}
	if (bfd >= 0)
		close(bfd);
}

void ob_to_bad(struct outbox *ob, const char *name, const char *why)
{
	bad_put(ob, name, why, false, true);
}

void ob_set_aside(struct outbox *ob, const char *name, const char *why)
{
	bad_put(ob, name, why, false, false);
}

/* ---- state --------------------------------------------------------------- */

/* Digits only: no sign, no space, no overflow. */
static const char *number(const char *p, int base, uint64_t *v)
{
	const char *s = p;

	*v = 0;
	for (;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			break;
		if (*v > (UINT64_MAX - d) / (unsigned)base)
			return NULL;
		*v = *v * (unsigned)base + d;
	}
	return p > s ? p : NULL;
}

int ob_state_read(struct outbox *ob, struct ob_state *st, struct vg_err *err)
{
	struct ob_gap *g = &st->gap;
	struct {
		const char *pre;
		int base;
		uint64_t *v;
	} f[] = {
		{"vigil-outbox 1\nepoch ", 16, &st->epoch},
		{"\nnext_seq ", 10, &st->next_seq},
		{"\ndrop_through ", 10, &st->drop_through},
		{"\ngap ", 10, &g->records}, {" ", 10, &g->batches},
		{" ", 10, &g->first_seq}, {" ", 10, &g->last_seq},
		{" ", 10, &g->since_ns}, {" ", 10, &g->until_ns}, {" ", 10, &st->gap_seq},
	};
	unsigned char *buf;
	const char *p;
	size_t len;
	int r;

	memset(st, 0, sizeof(*st));
	r = ob_read_file(ob, OB_STATE, OB_STATE_MAX, &buf, &len, err);
	if (r)
		return r;
	buf = xrealloc(buf, len + 1);
	buf[len] = 0;
	p = (const char *)buf;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && p; i++) {
		size_t n = strlen(f[i].pre);

		p = strncmp(p, f[i].pre, n) ? NULL : number(p + n, f[i].base, f[i].v);
	}
	/* Optional, last: "sensor <id>" (an older spool wrote none). */
	if (p && !strncmp(p, "\nsensor ", 8)) {
		const char *id = p + 8, *e = strchr(id, '\n');

		if (e && ob_sensor_ok(id, (size_t)(e - id))) {
			memcpy(st->sensor, id, (size_t)(e - id));
			st->sensor[e - id] = 0;
			p = e;
		} else {
			p = NULL;
		}
	}
	r = !p || strcmp(p, "\n") || strlen((const char *)buf) != len;
	free(buf);
	if (r)
		return vg_errf(err, "not the state file's format");
	if (!st->epoch || !st->next_seq || st->next_seq > OB_SEQ_MAX ||
	    st->drop_through >= st->next_seq)
		return vg_errf(err, "epoch %016" PRIx64 ", next_seq %" PRIu64 ", drop_through %"
			       PRIu64 " do not fit together", st->epoch, st->next_seq,
			       st->drop_through);
	if (g->batches ? g->first_seq > g->last_seq || !g->first_seq || !st->gap_seq
		       : g->records || g->first_seq || g->last_seq || st->gap_seq)
		return vg_errf(err, "the gap's numbers do not fit together");
	return 0;
}

int ob_state_write(struct outbox *ob, const struct ob_state *st, struct vg_err *err)
{
	const struct ob_gap *g = &st->gap;
	char buf[OB_STATE_MAX];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "vigil-outbox 1\nepoch %016" PRIx64 "\nnext_seq %" PRIu64
		     "\ndrop_through %" PRIu64 "\ngap %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		     " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		     st->epoch, st->next_seq, st->drop_through, g->records, g->batches,
		     g->first_seq, g->last_seq, g->since_ns, g->until_ns, st->gap_seq);
	if (st->sensor[0])
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "sensor %s\n", st->sensor);
	if (ob_write_file(ob, OB_STATE, buf, (size_t)n, true, err) || ob_fsync_dir(ob, err))
		return -1;
	ob->st = *st;
	return 0;
}

/* ---- batch files --------------------------------------------------------- */

int ob_batch_check(struct outbox *ob, const char *name, uint64_t seq, struct ob_sealed *s,
		   struct vg_err *err)
{
	char sensor[OB_SENSOR_MAX + 1];
	struct fwd_limits lim;
	struct fwd_frame f;
	struct fwd_err fe;
	unsigned char *buf;
	uint64_t epoch, cseq;
	size_t len, used;
	int r;

	r = ob_read_file(ob, name, FWD_FRAME_MAX, &buf, &len, err);
	if (r)
		return r > 0 ? vg_errf(err, "vanished") : r;
	fwd_limits_default(&lim);
	lim.inflate_max = OB_BATCH_BYTES_MAX + 2 * OB_GAP_MAX;
	lim.entries_max = OB_BATCH_RECORDS_MAX + 1;
	r = fwd_decode(&f, buf, len, &lim, &used, &fe);
	free(buf);
	if (r == FWD_MORE)
		return vg_errf(err, "truncated: %zu bytes are the start of a frame", len);
	if (r != FWD_OK)
		return vg_errf(err, "not a Forward frame: %s", fe.msg);
	r = -1;
	if (used != len)
		vg_errf(err, "%zu bytes after the frame", len - used);
	else if (f.mode != FWD_COMPRESSED)
		vg_errf(err, "a %s frame, not CompressedPackedForward", fwd_mode_name(f.mode));
	else if (f.n == 0)
		vg_errf(err, "no entries");
	else if (!f.has_size || f.size != f.n)
		vg_errf(err, "option size does not say %zu entries", f.n);
	else if (ob_chunk_parse(f.chunk, sensor, &epoch, &cseq))
		vg_errf(err, "chunk id \"%s\" is not <sensor>-<epoch>-<seq>", f.chunk);
	else if (cseq != seq)
		vg_errf(err, "chunk id %s names another sequence number", f.chunk);
	else
		r = 0;
	if (r == 0) {
		*s = (struct ob_sealed){.seq = seq, .epoch = epoch, .size = len, .n = (uint32_t)f.n,
					.t_first = f.entries[0].time_ns,
					.t_last = f.entries[f.n - 1].time_ns};
		s->sensor = strcmp(sensor, ob->sensor_id) ? xstrdup(sensor) : NULL;
	}
	fwd_frame_free(&f);
	return r;
}

/* ---- open.log ------------------------------------------------------------ */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* The CRC covers the length and the time too: a flipped length that still
 * lands inside the file is caught as surely as a flipped record byte. */
static uint32_t ent_crc(const unsigned char *head, const void *rec, uint32_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, head, 4);
	c = crc32(c, head + 8, 8);
	return (uint32_t)crc32(c, rec, len);
}

void ob_ent_head(unsigned char out[OB_ENT_HDR], uint64_t time_ns, const void *rec, uint32_t len)
{
	put_le32(out, len);
	put_le64(out + 8, time_ns);
	put_le32(out + 4, ent_crc(out, rec, len));
}

/* 0 when the entry at p can be kept; else -1 and err says why not. */
static int ent_check(struct outbox *ob, const unsigned char *p, size_t left, struct vg_err *err)
{
	uint32_t len;

	if (left < OB_ENT_HDR)
		return vg_errf(err, "torn: %zu bytes of a %d-byte entry header", left, OB_ENT_HDR);
	len = le32(p);
	if (len == 0 || len > OB_RECORD_MAX)
		return vg_errf(err, "a record length of %u bytes", len);
	if (left - OB_ENT_HDR < len)
		return vg_errf(err, "torn: %zu of the record's %u bytes", left - OB_ENT_HDR, len);
	if (ent_crc(p, p + OB_ENT_HDR, len) != le32(p + 4))
		return vg_errf(err, "CRC mismatch");
	if (le64(p + 8) / 1000000000u > UINT32_MAX)
		return vg_errf(err, "an event time past 2106");
	if (ob_record_check(ob, p + OB_ENT_HDR, len, err))
		return -1;
	if (ob->open_n >= OB_BATCH_RECORDS_MAX ||
	    ob->open_fwd + len + OB_FWD_ENT > OB_BATCH_BYTES_MAX)
		return vg_errf(err, "more than one batch can hold");
	return 0;
}

int ob_log_load(struct outbox *ob, uint64_t *seq, bool *rewrite, struct vg_err *err)
{
	/* The most a log can hold: a full batch of the smallest records. */
	size_t max = OB_LOG_HDR + OB_BATCH_BYTES_MAX +
		     (size_t)OB_BATCH_RECORDS_MAX * (OB_ENT_HDR - OB_FWD_ENT), len, off;
	struct vg_err why = {.msg = "past the size of any batch"};
	unsigned char *buf;
	uint64_t size = 0;	/* -O3 cannot see read_head fill it */
	int r;

	*seq = 0;
	*rewrite = true;
	r = read_head(ob, OB_LOG, max, &buf, &len, &size, &why);
	if (r > 0)
		return 0;
	if (r == -2)
		return vg_errf(err, "outbox %s: %s: %s", ob->dir, OB_LOG, why.msg);
	if (r < 0) {
		ob_to_bad(ob, OB_LOG, why.msg);
		return 0;
	}
	if (size == 0) {			/* made, never written: nothing to lose */
		free(buf);
		return 0;
	}
	if (len < OB_LOG_HDR || memcmp(buf, OB_LOG_MAGIC, 8) || !le64(buf + 8) ||
	    le64(buf + 8) >= OB_SEQ_MAX) {
		free(buf);
		bad_put(ob, OB_LOG, "no open.log header", true, true);
		return 0;
	}
	*seq = le64(buf + 8);
	for (off = OB_LOG_HDR; off < len;) {
		uint32_t n;

		if (ent_check(ob, buf + off, len - off, &why))
			break;
		n = le32(buf + off);
		if (ob->llen + OB_ENT_HDR + n > ob->lcap) {
			ob->lcap = (ob->llen + OB_ENT_HDR + n) * 2;
			ob->lbuf = xrealloc(ob->lbuf, ob->lcap);
		}
		memcpy(ob->lbuf + ob->llen, buf + off, OB_ENT_HDR + n);
		ob->llen += OB_ENT_HDR + n;
		ob->open_n++;
		ob->open_fwd += n + OB_FWD_ENT;
		off += OB_ENT_HDR + n;
	}
	free(buf);
	*rewrite = off != size;
	if (*rewrite) {
		char msg[sizeof(why.msg) + 128];

		snprintf(msg, sizeof(msg), "entry %u at offset %zu: %s; %" PRIu64 " bytes from there "
			 "not kept", ob->open_n, off, why.msg, size - off);
		bad_put(ob, OB_LOG, msg, true, true);
	}
	return 0;
}

int ob_log_reset(struct outbox *ob, struct vg_err *err)
{
	unsigned char head[OB_LOG_HDR];
	struct iovec iov[2] = {{head, sizeof(head)}, {ob->lbuf, ob->llen}};
	size_t want = sizeof(head) + ob->llen;
	const char *tmp = OB_LOG OB_TMP;
	ssize_t w;
	int fd;

	if (ob->logfd >= 0)
		close(ob->logfd);
	ob->logfd = -1;
	memcpy(head, OB_LOG_MAGIC, 8);
	put_le64(head + 8, ob->open_seq);
	fd = openat(ob->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return vg_errf(err, "outbox %s: create %s: %s", ob->dir, tmp, strerror(errno));
	do
		w = writev(fd, iov, ob->llen ? 2 : 1);
	while (w < 0 && errno == EINTR);
	/* Entries carried over are fsync'd: they may be the only copy left. */
	if (w != (ssize_t)want || (ob->llen && fsync(fd)) ||
	    renameat(ob->dirfd, tmp, ob->dirfd, OB_LOG)) {
		int e = w >= 0 && w != (ssize_t)want ? ENOSPC : errno;

		close(fd);
		unlinkat(ob->dirfd, tmp, 0);
		return vg_errf(err, "outbox %s: write %s: %s", ob->dir, OB_LOG, strerror(e));
	}
	ob->logfd = fd;
	return 0;
}
