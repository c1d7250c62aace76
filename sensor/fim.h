/*
 * fim.h: file integrity monitoring, the module's contract.
 *
 * A baseline of the configured path sets (vigil.yaml `fim:`) is recorded in
 * SQLite under the state directory; a check compares the file system with
 * it, re-reading only what a stat says may have changed; realtime drift
 * re-checks single paths as the event engine reports them.
 *
 *   fim_config.c  the `fim:` section of vigil.yaml; the default path sets
 *   fim_scan.c    the plan (configured roots, resolved) and the walk, in path order
 *   fim_read.c    one entry's attributes: stat, SHA-256, xattrs, symlink target
 *   fim_hash.c    worker threads over an in-order ring; re-queues what changes
 *   fim_attr.c    attribute names, comparison, printable values
 *   fim_db.c      the baseline in SQLite (WAL), replaced in one transaction
 *   fim_report.c  findings as text or JSON (OCSF 1001 names), progress line
 *   fim_run.c     init / check / update
 *   fim_live.c    realtime drift: one path or subtree against the last report
 *   fim_cmd.c     `vigil fim ...`
 *   fim_impl.h    what those files share beyond this contract
 */
#ifndef VIGIL_FIM_H
#define VIGIL_FIM_H

#include <stdint.h>

#include "vigil.h"

enum fim_attr {
	FIM_A_TYPE = 1u << 0,
	FIM_A_MODE = 1u << 1,
	FIM_A_UID = 1u << 2,
	FIM_A_GID = 1u << 3,
	FIM_A_SIZE = 1u << 4,
	FIM_A_INODE = 1u << 5,
	FIM_A_DEVICE = 1u << 6,
	FIM_A_NLINK = 1u << 7,
	FIM_A_MTIME = 1u << 8,
	FIM_A_CTIME = 1u << 9,
	FIM_A_TARGET = 1u << 10,
	FIM_A_SELINUX = 1u << 11,
	FIM_A_CAPS = 1u << 12,
	FIM_A_SHA256 = 1u << 13,
	FIM_A_ALL = (1u << 14) - 1,
};
#define FIM_NATTRS 14

enum fim_flag {
	FIM_F_HASHED = 1u << 0,		/* sha256 holds the content's digest */
	FIM_F_UNSTABLE = 1u << 1,	/* changed every time it was read */
	FIM_F_UNREADABLE = 1u << 2,	/* could not be opened or read */
};

#define FIM_XATTR_MAX 4096		/* longest security.* value kept */

struct fim_record {
	unsigned attrs;			/* what the file's set tracks */
	unsigned flags;			/* enum fim_flag */
	unsigned type;			/* S_IFMT bits */
	unsigned mode;			/* 07777 bits */
	uint32_t uid, gid;
	uint64_t size, ino, dev, nlink;
	int64_t mtime_ns, ctime_ns;
	unsigned char sha256[32];
	char *target;			/* symlink target, or NULL */
	char *selinux;			/* security.selinux, or NULL */
	unsigned char *cap;		/* security.capability (raw), or NULL */
	size_t cap_len;
};
void fim_record_free(struct fim_record *r);
const char *fim_attr_name(unsigned attr);	/* one bit */
int fim_attr_parse(const char *name, unsigned *bits);	/* "all" too; -1 unknown */
/* A value as people read it: 0644, 2026-11-23T07:00:00.123456789Z, hex... */
void fim_attr_format(struct vg_buf *b, const struct fim_record *r, unsigned attr);

enum fim_change { FIM_ADDED, FIM_REMOVED, FIM_CHANGED, FIM_UNSTABLE, FIM_UNREADABLE };
const char *fim_change_name(enum fim_change k);	/* "added", ... */

struct fim_finding {
	enum fim_change kind;
	const char *path;
	const char *set;		/* the set's name, or NULL */
	const struct fim_record *old, *cur;	/* NULL when absent */
	unsigned changed;		/* FIM_CHANGED: the attributes that differ */
	int err;			/* FIM_UNREADABLE: why, an errno (0: unknown) */
};
/* One finding as text lines, as `vigil fim check` prints them. */
void fim_finding_text(struct vg_buf *b, const struct fim_finding *f);
/* What a caller adds to a finding's record (realtime drift: the actor). */
struct fim_json_extra {
	int severity_id;		/* 0: from the kind of change */
	const char *top;		/* JSON members for the record itself */
	const char *fim;		/* JSON members for unmapped.fim */
};
/* Its OCSF File System Activity activity_id, and that activity's name. */
int fim_finding_activity(const struct fim_finding *f, const char **name);
/* One finding as a JSON object (OCSF File System Activity 1001); x may be NULL. */
void fim_finding_json(struct vg_buf *b, const struct fim_finding *f, const char *hostname,
		      const struct fim_json_extra *x);

struct fim_summary {
	uint64_t entries, hashed_files, hashed_bytes;
	uint64_t added, removed, changed, unstable, unreadable, requeued;
	double seconds;
};

enum fim_op { FIM_INIT, FIM_CHECK, FIM_UPDATE };

typedef void (*fim_read_hook)(void *u, const char *path, int attempt);
struct fim_opts {
	enum fim_op op;
	const char *root;		/* "/" for this host, or an image */
	const char *state_dir;		/* overrides the configuration's */
	bool full;			/* re-read every file, not only changed stat */
	bool json;
	bool progress;			/* the progress line on stderr */
	FILE *out;
	int threads;			/* 0: the configuration's */
	fim_read_hook on_read;		/* tests and tracing: on a worker, per file */
	void *hook_u;
};
/* 0 no drift, 1 drift (check and update; init: 0), -1 error with err filled. */
int fim_run(const struct vg_fim_config *cfg, const struct fim_opts *o, struct fim_summary *s,
	    struct vg_err *err);

/* Realtime drift (fim_live.c): re-reads one path, or one subtree, now and
 * compares it with what was last reported for it, else the baseline. */
struct fim_live;
int fim_live_open(struct fim_live **l, const struct vg_fim_config *cfg, const char *root,
		  const char *state_dir, struct vg_err *err);
void fim_live_close(struct fim_live *l);
/* A baseline replaced since (fim update) is opened instead: 1 if it was,
 * 0 if not, -1 error. */
int fim_live_reload(struct fim_live *l, struct vg_err *err);
/* The configured roots that exist here, for the event engine to watch. */
void fim_live_roots(const struct fim_live *l, struct vg_strv *out);
/* The set that monitors path, or NULL: cheap, for filtering events. */
const struct vg_fim_set *fim_live_match(const struct fim_live *l, const char *path);
/* 1 drift (f filled; fim_finding_fini frees it), 0 none, -1 error. rehash
 * re-reads content even when stat is unchanged (close after write). */
int fim_recheck(struct fim_live *l, const char *path, bool rehash, struct fim_finding *f,
		struct vg_err *err);
/* path is prefix or lies below it, on component boundaries. */
bool fim_at_or_below(const char *path, const char *prefix);
typedef void (*fim_finding_fn)(void *u, const struct fim_finding *f);
/* Everything at or below prefix, after events were lost or a directory
 * moved: fn per finding; the number found, or -1. */
int fim_live_rescan(struct fim_live *l, const char *prefix, fim_finding_fn fn, void *u,
		    struct vg_err *err);
void fim_finding_fini(struct fim_finding *f);

int cmd_fim(int argc, char **argv);

#endif
