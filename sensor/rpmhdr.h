/*
 * rpmhdr.h: RPM package headers as rpmdb.sqlite stores them, and the
 * database itself.  Both are bytes an attacker on the checked system may
 * have written: nothing here trusts a count, an offset or a terminator
 * before checking it against the blob, and SQLite runs in defensive mode
 * over an immutable, read-only view of the file.
 *
 * A stored header has no lead and no magic: be32 index count (il), be32
 * data size (dl), il 16-byte index entries (be32 tag, type, offset,
 * count), then dl bytes of data that the offsets point into.
 */
#ifndef VIGIL_RPMHDR_H
#define VIGIL_RPMHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "vigil.h"

#define RPMHDR_DB		"/var/lib/rpm/rpmdb.sqlite"
#define RPMHDR_MAX_FILES	1000000		/* per header; far beyond any real package */
#define RPMHDR_DIGEST_MAX	64		/* SHA-512 */

enum {
	RPMTAG_NAME = 1000,
	RPMTAG_FILESTATES = 1029,
	RPMTAG_FILEDIGESTS = 1035,
	RPMTAG_FILEFLAGS = 1037,
	RPMTAG_DIRINDEXES = 1116,
	RPMTAG_BASENAMES = 1117,
	RPMTAG_DIRNAMES = 1118,
	RPMTAG_FILEDIGESTALGO = 5011,
};
enum { RPM_CHAR_TYPE = 1, RPM_INT32_TYPE = 4, RPM_STRING_TYPE = 6, RPM_STRING_ARRAY_TYPE = 8 };
enum { RPM_HASH_MD5 = 1 };			/* PGPHASHALGO_MD5 */
#define RPMFILE_CONFIG	(1u << 0)
/* FILESTATES: only a NORMAL file is the package's on disk; the others were
 * replaced by another package's, not installed (--excludedocs, other
 * languages), or lost a multilib conflict ("wrong color"). */
#define RPMFILE_STATE_NORMAL 0

/* A header whose index and data lie inside its blob; the entries
 * themselves are checked only when a tag is looked up. */
struct rpmhdr {
	const unsigned char *ent;	/* il entries of 16 bytes */
	const unsigned char *data;	/* dl bytes */
	uint32_t il, dl;
};
bool rpmhdr_parse(struct rpmhdr *h, const void *blob, size_t size);

/* The data of one tag, all of it inside the header: count CHARs, count
 * INT32s, or count NUL-terminated strings. */
struct rpmhdr_tag {
	const unsigned char *p;
	size_t size;
	uint32_t count;
};
/* The first entry for tag: 1 when it has that type, at most max items (a
 * STRING exactly one) and fits; 0 when absent; -1 when malformed. */
int rpmhdr_tag(const struct rpmhdr *h, uint32_t tag, uint32_t type, uint32_t max,
	       struct rpmhdr_tag *t);
uint32_t rpmhdr_int32(const struct rpmhdr_tag *t, uint32_t i);	/* i < t->count */

/* The package name: a non-empty STRING without blanks or control bytes. */
bool rpmhdr_name(const struct rpmhdr *h, const char **name, size_t *len);

/* ---- the file list ---------------------------------------------------- */

struct rpmhdr_str {
	uint32_t off, len;		/* into the header's data */
};

struct rpmhdr_files {
	uint32_t n, next;		/* files, and the one next() returns */
	uint32_t algo;			/* FILEDIGESTALGO: rpm's PGPHASHALGO number */
	const unsigned char *data;
	const unsigned char *dirindex;	/* n be32 DIRINDEXES */
	const unsigned char *flags;	/* n be32 FILEFLAGS, or NULL */
	const unsigned char *states;	/* n FILESTATES, or NULL */
	const char *base;		/* the next BASENAMES string */
	const char *digest;		/* the next FILEDIGESTS string, or NULL */
	struct rpmhdr_str *dirs;	/* DIRNAMES */
	uint32_t ndirs;
	size_t dircap;
};

struct rpmhdr_file {
	const char *dir, *base;		/* the path is dir then base */
	size_t dirlen, baselen;
	const char *digest;		/* hex; "" for a directory, symlink or ghost */
	size_t digestlen;
	uint32_t flags;			/* RPMFILE_* */
	unsigned state;			/* RPMFILE_STATE_*; NORMAL when not recorded */
};

void rpmhdr_files_init(struct rpmhdr_files *f);
/* Checks the whole file list of h before any of it is used, so a header
 * is taken entirely or not at all: 1 with files, 0 without any, -1 when
 * malformed.  f may be loaded again with another header; it borrows h's
 * bytes until then. */
int rpmhdr_files_load(struct rpmhdr_files *f, const struct rpmhdr *h);
bool rpmhdr_files_next(struct rpmhdr_files *f, struct rpmhdr_file *file);
void rpmhdr_files_free(struct rpmhdr_files *f);

/* Decodes a hex file digest of algorithm algo into out (RPMHDR_DIGEST_MAX
 * bytes); 0 when it is empty, of an unknown algorithm, of the wrong length
 * for it or not hex. */
size_t rpmhdr_digest(uint32_t algo, const char *hex, size_t len, unsigned char *out);

/* ---- rpmdb.sqlite ----------------------------------------------------- */

struct rpmhdr_db {
	sqlite3 *sq;
	sqlite3_stmt *st;
	int fd;
	size_t rows;
};

/* Opens the root's rpmdb.sqlite: 1, to be closed; 0 when there is none;
 * -1 with err when it is there but cannot be read as one (a FIFO, a
 * directory, not a database, no Packages table). */
int rpmhdr_db_open(struct rpmhdr_db *db, const struct vg_root *r, struct vg_err *err);
/* The next header blob, valid until the next call: 1, 0 at the end, -1
 * with err.  The blob may be anything, and NULL when empty. */
int rpmhdr_db_next(struct rpmhdr_db *db, const unsigned char **blob, size_t *size,
		   struct vg_err *err);
void rpmhdr_db_close(struct rpmhdr_db *db);

#endif
