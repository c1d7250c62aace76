/*
 * src_fanotify.c: file events from fanotify, where eBPF cannot load.
 *
 * One fanotify group reports directory-entry and attribute events with
 * directory file handles and names (FAN_REPORT_DFID_NAME), from inode marks:
 *   - every directory of a watched tree (FAN_EVENT_ON_CHILD | FAN_ONDIR), so
 *     its entries' events come with its handle and their names, and its own
 *     with its handle and the name ".";
 *   - a watched path that is not a directory, on itself; its events come
 *     with its directory's handle and its name, as if that were marked;
 *   - the directory a watched path is in, for entry events only (no
 *     children's events), so a watched path that is removed, renamed away,
 *     replaced by a rename (an editor's or a package manager's save) or made
 *     again is seen: paths are watched by name, and the new object is marked.
 * Why not one FAN_MARK_FILESYSTEM mark, as this file had: the kernel then
 * queues an event for every file operation anywhere on the filesystem, and
 * this file threw away what was not watched. tests/bench/watch-bench.sh
 * measured +110..155% on an open/write/close loop in an *unwatched*
 * directory; with inode marks the kernel queues nothing there, and the cost
 * is within the noise of none (the goal is <= 3%).
 *
 * What inode marks cost instead: a directory is watched from when it is
 * marked. A directory made (FAN_CREATE | FAN_ONDIR) or moved in (FAN_RENAME,
 * FAN_MOVED_TO) under a watched one is marked when its event is read, with
 * its subtree (seed(): a walk on one filesystem, no symlinks followed, each
 * directory marked before it is read); what was made in it before, with no
 * event of its own (mkdir -p a/b/c && touch a/b/c/f), the walk reports as
 * made, found by a rescan (no actor: anyone could have made it). Its own
 * creation event, if the mark came in time for it, is then not said twice.
 * What was made and removed inside a directory before it could be marked is
 * not seen at all; nothing of it is left either. A directory moved out of
 * the watched set has its marks taken off (they are remembered by handle,
 * so even a legacy rename with no new name finds them); one removed loses
 * them with its inode. The path filter (watched()) stays, behind all this.
 * fs.fanotify.max_user_marks bounds the marks: a directory that cannot be
 * marked is said (once as a warning) and counted as an overflow, so the
 * caller rescans; it stays unwatched until the next overflow repair.
 *
 * Resolving: a directory handle becomes a path through a cache (below),
 * else the kernel (open_by_handle_at on a descriptor of that filesystem,
 * then /proc/self/fd); the name is appended, and the result is matched
 * against the watched paths on component boundaries.
 *
 * What the running kernel gives decides the mode, best first:
 *   FAN_REPORT_DFID_NAME_TARGET + FAN_RENAME (Linux 5.17): a rename comes
 *	as one event with both names, and every event carries the handle of
 *	the object itself, so its attributes can be read even after it was
 *	renamed, and a directory made and removed before its events were read
 *	still has a name (its handle is remembered from its mkdir event). The
 *	kernel names only the sides in marked directories: moved in, the old
 *	name is NULL; moved out, the new one is where the object's handle says
 *	it is now.
 *   FAN_REPORT_DFID_NAME + FAN_MOVED_FROM/FAN_MOVED_TO (Linux 5.9): a
 *	rename is two events, paired here by order (same process, adjacent);
 *	a half without its other half (a move across the edge of the watched
 *	set has only one) is reported with the other name NULL.
 * Older kernels are refused, and the caller falls back to rescanning.
 * VIGIL_FANOTIFY_LEGACY=1 in the environment forces the second mode, so it
 * can be tested on a new kernel. FAN_DELETE_SELF and FAN_MOVE_SELF are not
 * asked for: the parent's entry events say the same with names, and on a
 * non-directory the legacy mode would not even get them.
 *
 * fanotify says which operations happened (and merges several on one name
 * by one process into one event) but not their arguments, so kinds are
 * told apart by comparing the object's attributes now with those remembered
 * for its path (a cache seeded by walking the watched paths at open):
 *   FAN_CREATE		EV_MKDIR (FAN_ONDIR), EV_SYMLINK (path = target,
 *			path2 = name), EV_LINK for a regular file with more
 *			than one link (path2 = the new name, path = another
 *			known name of the inode or NULL), else EV_CREATE;
 *			mode, fuid and fgid are the new file's, so a chmod or
 *			chown merged into its creation still shows
 *   FAN_DELETE		EV_DELETE, EV_RMDIR
 *   FAN_RENAME		EV_RENAME, path = old, path2 = new
 *   FAN_MODIFY		EV_TRUNCATE if the size went down; marks the file
 *			written
 *   FAN_CLOSE_WRITE	EV_MODIFY if the file was written (FAN_MODIFY, which
 *			truncation also raises) since its last close-after-write
 *   FAN_ATTRIB		EV_CHMOD (permission bits), EV_CHOWN (owner or group;
 *			the one unchanged is (uint32_t)-1), EV_TRUNCATE (size
 *			down without FAN_MODIFY), EV_SETXATTR (a digest of the
 *			extended attributes' names and values changed), and if
 *			none of those: EV_MODIFY when only the mtime moved
 *			(utimensat), nothing when only the link count did
 *			(link/unlink, reported by their own events), else
 *			EV_SETXATTR: an attribute operation left no visible
 *			change (set to the value it had, or changed and changed
 *			back before the event was read). A ctime equal to the
 *			one last compared means this change was already
 *			reported. fanotify does not name the extended
 *			attribute, so path2 is NULL.
 * The actor is the event's process (its tgid) with comm, ids, login uid and
 * mount namespace read from /proc when it still runs; when it has exited
 * they are unknown ((uint32_t)-1, empty comm): only eBPF sees them in time.
 * A pid reused in between would be misnamed, and a process in a pid
 * namespace we cannot see has pid 0 (unknown). ignore_comm can only mute a
 * process whose name is still there to read. Attributes are read when the
 * event is read, not when it happened (a hard link whose other name is gone
 * by then is a plain create); time_ns is the time it was read. There are no
 * process events in this mode.
 *
 * Directory handles become paths through a cache, so an event in a known
 * directory costs no system call: seeded with the watched directories when
 * they are marked, fed by mkdir and rename events (with target handles), and
 * by the kernel's answer for any other directory. Entries from events are
 * right as of the event being read, and renames are applied to them in event
 * order; the kernel's answers may already reflect later renames, so any
 * directory rename drops those. Every rename in a marked directory is looked
 * at for this, reported or not.
 *
 * Coalescing busy files (coalesce_ms). Each write
 * and each close after a write makes the kernel allocate an event and
 * encode its handles before it merges it with the one already queued; on a
 * file rewritten thousands of times a second that, not the reading, is the
 * cost (docs/events.md). So a regular file with write events in
 * FAN_HOT_READS reads in a row, each less than FAN_HOT_NS after the one
 * before (a writer that keeps at it, not a script that writes a file twice
 * and truncates or removes it), gets an ignore mark for FAN_MODIFY and
 * FAN_CLOSE_WRITE (surviving modification) for coalesce_ms; its size and
 * mtime are remembered as they were *before* the mark went on. When the
 * window ends the mark comes off first, and then the file is compared: a
 * size or mtime that moved is said as EV_MODIFY (EV_TRUNCATE if it shrank)
 * with found_by "coalesced" and no actor, since nobody was seen writing.
 * A write seen (its FAN_MODIFY read) whose close the window hides is said
 * when the window opens, or when it is read, with its actor: the close
 * that would have said it will not come.
 * A write between the snapshot and the mark, or between unmarking and
 * comparing, may be said twice (once with its actor, once coalesced), never
 * not at all. What is lost is *who* wrote inside the window; the first
 * writes of every window have their actors, and so does every other kind
 * of event (attributes, entries, renames), which the mark does not touch.
 * Also lost: a write that moves neither size nor mtime (O_NOCMTIME, same
 * size), and the window's writes to a file removed, or moved out of the
 * watched set, before it ends (its removal or move is said, with its
 * actor). At most FAN_WINDOWS_MAX windows are open; a file beyond them, or
 * one the kernel will not mark (max_user_marks), keeps its events.
 *
 * Only the filesystems of the watched paths are marked, as the rescan walks
 * them: another filesystem mounted below a watched directory is not watched
 * unless named itself (a mount point's parent is not marked either: its
 * entry there is not what it shows). A file is reported under the name it
 * was reached by, so a change through a hard link outside the watched paths
 * is not seen. Events are resolved through one mount per filesystem; a
 * watched path reached only through a bind mount of a subdirectory may not
 * resolve. A watched path is watched by name only as far as its parent: an
 * ancestor further up renamed is not seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "watch.h"

#define FAN_BUF_SIZE (64 * 1024)	/* one read; the kernel's events are small */
#define FAN_READS_PER_POLL 64		/* then the loop gets a turn */
#define FAN_ATTR_MAX 1000000		/* paths whose attributes are remembered */
#define FAN_DIR_MAX 65536		/* directory handles whose paths are remembered */
#define FAN_LINK_SCAN_MAX 65536		/* EV_LINK looks for another name up to this */
#define FAN_MARKS_CHECK 4096		/* marks remembered before the first check */
#define FAN_KEY_MAX (8 + 4 + MAX_HANDLE_SZ)	/* fsid, handle type, handle */
#define FAN_HOT_NS 100000000LL		/* write events this close in a row... */
#define FAN_HOT_READS 8			/* ...this many times: coalesce */
#define FAN_WINDOWS_MAX 1024		/* coalescing windows open at once */
#define UNKNOWN_ID ((uint32_t)-1)

/* ---- a hash table: byte-string keys stored inside their values --------- */

struct hslot {
	uint64_t hash;
	const void *key;		/* points into val */
	size_t klen;
	void *val;			/* NULL: empty */
};

struct htab {
	struct hslot *s;
	size_t n, cap;			/* cap: 0 or a power of two; at most half full */
};

#define FNV_BASIS 0xcbf29ce484222325ull

/* FNV-1a, continued over n more bytes. */
static void fnv_mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ull;
	}
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	uint64_t h = FNV_BASIS;

	fnv_mix(&h, p, n);
	return h;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t ht_slot(const struct htab *t, const void *key, size_t klen, uint64_t h)
{
	size_t mask = t->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct hslot *s = &t->s[i];
		if (!s->val || (s->hash == h && s->klen == klen && !memcmp(s->key, key, klen)))
			return i;
	}
}

static void *ht_get(const struct htab *t, const void *key, size_t klen)
{
	if (!t->cap)
		return NULL;
	return t->s[ht_slot(t, key, klen, hash_bytes(key, klen))].val;
}

static void ht_grow(struct htab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct htab nt = {xcalloc(cap, sizeof(struct hslot)), t->n, cap};

	for (size_t i = 0; i < t->cap; i++)
		if (t->s[i].val)
			nt.s[ht_slot(&nt, t->s[i].key, t->s[i].klen, t->s[i].hash)] = t->s[i];
	free(t->s);
	*t = nt;
}

/* Adds or replaces; returns the value replaced, for the caller to free. */
static void *ht_put(struct htab *t, const void *key, size_t klen, void *val)
{
	uint64_t h = hash_bytes(key, klen);
	struct hslot *s;
	void *old;

	if ((t->n + 1) * 2 > t->cap)
		ht_grow(t);
	s = &t->s[ht_slot(t, key, klen, h)];
	old = s->val;
	if (!old)
		t->n++;
	*s = (struct hslot){h, key, klen, val};
	return old;
}

/* Removes key and returns its value. Later entries of the probe chain are
 * shifted back, so lookups need no tombstones. */
static void *ht_take(struct htab *t, const void *key, size_t klen)
{
	size_t mask, i, j;
	void *val;

	if (!t->cap)
		return NULL;
	mask = t->cap - 1;
	i = ht_slot(t, key, klen, hash_bytes(key, klen));
	if (!(val = t->s[i].val))
		return NULL;
	t->n--;
	for (j = i;;) {
		t->s[i].val = NULL;
		for (;;) {
			size_t home;

			j = (j + 1) & mask;
			if (!t->s[j].val)
				return val;
			home = t->s[j].hash & mask;
			/* Movable to i unless its home lies cyclically in (i, j]. */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		t->s[i] = t->s[j];
		i = j;
	}
}

static void ht_free(struct htab *t, void (*free_val)(void *))
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->s[i].val)
			free_val(t->s[i].val);
	free(t->s);
	memset(t, 0, sizeof(*t));
}

/* ---- paths ------------------------------------------------------------- */

/* Is path root itself or below it, on a component boundary? */
static bool path_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return path[0] == '/';
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void path_append(struct vg_buf *b, const char *name)
{
	if (!(b->len == 1 && b->p[0] == '/'))
		buf_put(b, "/", 1);
	buf_puts(b, name);
}

/* new + what follows old in path (path is under old). */
static char *path_rebase(const char *path, const char *old, const char *new)
{
	return xasprintf("%s%s", new, path + strlen(old));
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* ---- the source -------------------------------------------------------- */

struct fan_fs {				/* one filesystem of the watched paths */
	unsigned char fsid[8];		/* as statfs and the events give it */
	int mfd;			/* a directory on it, for open_by_handle_at */
	char *path;			/* the watched path it was found by */
};

struct fattr {				/* what is remembered of one watched path */
	uint64_t ino, dev, size, xattrs;	/* xattrs: digest of names and values */
	int64_t mtime, ctime;
	uint32_t mode, uid, gid, nlink;
	bool dirty;			/* written since its last close-after-write */
	bool coalescing;		/* in a window: writes raise no events */
	int64_t wrote_ns;		/* monotonic: its last write event read */
	unsigned streak;		/* write events read, each FAN_HOT_NS or less
					 * after the one before */
	bool scanned;			/* reported as found by a scan, and its own
					 * creation event may still come */
	size_t plen;
	char path[];
};

struct dent {				/* a directory handle's path */
	char *path;
	bool exact;			/* true: right as of the event being read;
					 * false: the path when it was looked up,
					 * dropped at any directory rename */
	size_t klen;
	unsigned char key[];
};

struct fmark {				/* a directory this group has marked */
	char *path;			/* as of the last event read */
	size_t klen;
	unsigned char key[];		/* fsid, handle type, handle */
};

struct actor {				/* the process of the current event */
	bool valid, muted;
	int32_t pid;
	uint32_t ppid, uid, gid, euid, auid, mntns;
	char comm[EV_COMM_LEN];
};

struct window {				/* a busy file's writes, coalesced */
	int64_t until;			/* monotonic ns */
	uint64_t size;			/* the file before the mark went on */
	int64_t mtime;
	size_t klen;
	unsigned char key[FAN_KEY_MAX];	/* fsid, handle type, handle */
};

struct move {				/* legacy: half of a rename, waiting */
	char *path;
	int32_t pid;
	bool dir, exact;
};

struct fan {
	int fd;
	/* batch_ms or coalesce_ms > 0: epfd holds fd and tfd; see fan_poll */
	int epfd, tfd;
	unsigned batch_ms;
	bool resting;			/* fd disarmed until tfd expires */
	unsigned coalesce_ms;		/* 0: no windows */
	struct window *win;		/* open windows, FAN_WINDOWS_MAX */
	size_t nwin;
	bool rename_ev;			/* FAN_RENAME: old and new in one event */
	bool marked_any;		/* a mark was accepted: the masks are final */
	uint64_t mask;			/* every event asked for */
	uint64_t dir_mask;		/* a watched directory: mask + its children */
	uint64_t file_mask;		/* a watched path that is not a directory */
	uint64_t parent_mask;		/* a watched path's parent: its entries */
	struct vg_strv roots;		/* real paths, watched */
	struct vg_strv ignore;		/* comms whose events are dropped */
	struct fan_fs *fs;
	size_t nfs;
	struct htab attrs;		/* path -> struct fattr */
	struct htab dirs;		/* fsid+handle -> struct dent */
	struct htab marks;		/* fsid+handle -> struct fmark */
	size_t marks_check;		/* checked against the kernel at this many */
	bool attrs_full_said, marks_full_said;
	struct vg_counters c;
	unsigned char *buf;
	bool reseed;			/* after an overflow */
	struct move from, to;
	struct vg_buf pa, pb;		/* the current event's paths */
	/* while poll runs */
	vg_event_fn fn;
	void *u;
	int delivered;
	int32_t pid;			/* of the current event */
	uint64_t now;
	int64_t mono;			/* CLOCK_MONOTONIC at this poll */
	struct actor actor;
};

/* ---- reading the event buffer ------------------------------------------ */

struct fid {				/* a file handle record, inside the buffer */
	const unsigned char *fsid;	/* 8 bytes; NULL: the event has none */
	const unsigned char *fh;	/* struct file_handle, unaligned, checked */
	const char *name;		/* a checked single component, or NULL */
};

struct fev {
	uint64_t mask;
	int32_t pid;
	struct fid dir, obj, old, new;
};

/* Checks one handle record: header, fsid, file_handle, then a name. */
static int parse_fid(const unsigned char *rec, size_t len, bool named, struct fid *id)
{
	const size_t head = sizeof(struct fanotify_event_info_fid) + sizeof(struct file_handle);
	struct file_handle fh;
	const char *name, *nul;
	size_t room;

	if (id->fsid || len < head)
		return -1;			/* a second record of a kind, or too short */
	memcpy(&fh, rec + sizeof(struct fanotify_event_info_fid), sizeof(fh));
	if (fh.handle_bytes == 0 || fh.handle_bytes > MAX_HANDLE_SZ ||
	    fh.handle_bytes > len - head)
		return -1;
	id->fsid = rec + offsetof(struct fanotify_event_info_fid, fsid);
	id->fh = rec + sizeof(struct fanotify_event_info_fid);
	if (!named)
		return 0;
	name = (const char *)rec + head + fh.handle_bytes;
	room = len - head - fh.handle_bytes;
	if (!(nul = memchr(name, '\0', room)) || nul == name ||
	    memchr(name, '/', (size_t)(nul - name)) || !strcmp(name, ".."))
		return -1;
	id->name = name;
	return 0;
}

static int parse_record(const unsigned char *rec, size_t len, unsigned type, struct fev *e)
{
	switch (type) {
	case FAN_EVENT_INFO_TYPE_FID: return parse_fid(rec, len, false, &e->obj);
	case FAN_EVENT_INFO_TYPE_DFID: return parse_fid(rec, len, false, &e->dir);
	case FAN_EVENT_INFO_TYPE_DFID_NAME: return parse_fid(rec, len, true, &e->dir);
	case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME: return parse_fid(rec, len, true, &e->old);
	case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME: return parse_fid(rec, len, true, &e->new);
	default: return 0;		/* a record this code does not use */
	}
}

/*
 * One event at p, at most avail bytes. Returns 0 and its length in *used;
 * 1 if its records are malformed (skip it: *used is still right); -1 if its
 * header is, and nothing after it can be trusted.
 */
static int parse_event(const unsigned char *p, size_t avail, struct fev *e, size_t *used)
{
	struct fanotify_event_metadata md;

	if (avail < sizeof(md))
		return -1;
	memcpy(&md, p, sizeof(md));
	if (md.vers != FANOTIFY_METADATA_VERSION || md.metadata_len < sizeof(md) ||
	    md.event_len < md.metadata_len || md.event_len > avail)
		return -1;
	*used = md.event_len;
	if (md.fd >= 0)
		close(md.fd);		/* not asked for; never kept */
	memset(e, 0, sizeof(*e));
	e->mask = md.mask;
	e->pid = md.pid;
	for (size_t off = md.metadata_len; off < md.event_len;) {
		struct fanotify_event_info_header h;

		if (md.event_len - off < sizeof(h))
			return 1;
		memcpy(&h, p + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > md.event_len - off)
			return 1;
		if (parse_record(p + off, h.len, h.info_type, e))
			return 1;
		off += h.len;
	}
	return 0;
}

/* ---- handles to paths -------------------------------------------------- */

static uint32_t fid_bytes(const struct fid *id)
{
	uint32_t n;

	memcpy(&n, id->fh, sizeof(n));
	return n;
}

/* The cache key of a handle: fsid, handle type, handle bytes. */
static size_t fid_key(const struct fid *id, unsigned char *key)
{
	uint32_t n = fid_bytes(id);

	memcpy(key, id->fsid, 8);
	memcpy(key + 8, id->fh + offsetof(struct file_handle, handle_type), 4);
	memcpy(key + 12, id->fh + sizeof(struct file_handle), n);
	return 12 + n;
}

static struct fan_fs *fs_by_fsid(struct fan *f, const unsigned char *fsid)
{
	for (size_t i = 0; i < f->nfs; i++)
		if (!memcmp(f->fs[i].fsid, fsid, 8))
			return &f->fs[i];
	return NULL;
}

union fhbuf {				/* a file handle with room for any */
	struct file_handle fh;
	unsigned char b[sizeof(struct file_handle) + MAX_HANDLE_SZ];
};

/* Opens what a cache key names; -1 with errno, ESTALE if it is gone. */
static int key_open(struct fan *f, const unsigned char *key, size_t klen, int flags)
{
	struct fan_fs *fs = fs_by_fsid(f, key);
	union fhbuf h;
	int type;

	if (!fs || klen <= 12 || klen - 12 > MAX_HANDLE_SZ) {
		errno = EXDEV;
		return -1;
	}
	memcpy(&type, key + 8, 4);
	h.fh.handle_bytes = (unsigned)(klen - 12);
	h.fh.handle_type = type;
	memcpy(h.fh.f_handle, key + 12, klen - 12);
	return open_by_handle_at(fs->mfd, &h.fh, flags | O_CLOEXEC);
}

/* Opens what a handle names (O_PATH); -1 with errno, ESTALE if it is gone. */
static int fid_open(struct fan *f, const struct fid *id)
{
	unsigned char key[FAN_KEY_MAX];

	return key_open(f, key, fid_key(id, key), O_PATH);
}

/* The cache key of what fd is open on, on the filesystem fsid; 0: none. */
static size_t fd_key(int fd, const unsigned char *fsid, unsigned char *key)
{
	union fhbuf h;
	int mnt;

	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", &h.fh, &mnt, AT_EMPTY_PATH))
		return 0;
	memcpy(key, fsid, 8);
	memcpy(key + 8, &h.fh.handle_type, 4);
	memcpy(key + 12, h.fh.f_handle, h.fh.handle_bytes);
	return 12 + h.fh.handle_bytes;
}

/* The path the kernel knows for fd: -1 if it has none in our namespace. */
static int fd_path(int fd, struct vg_buf *out)
{
	static const char deleted[] = " (deleted)";
	const size_t dl = sizeof(deleted) - 1;
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path));
	if (n <= 0 || (size_t)n >= sizeof(path) || path[0] != '/')
		return -1;
	path[n] = '\0';
	/* Removed since: the kernel appends " (deleted)" to the path it had. */
	if (!fstat(fd, &st) && st.st_nlink == 0 && (size_t)n > dl &&
	    !strcmp(path + n - dl, deleted))
		path[n - dl] = '\0';
	buf_puts(out, path);
	return 0;
}

static void dent_free(void *p)
{
	struct dent *d = p;

	free(d->path);
	free(d);
}

static void dir_put(struct fan *f, const unsigned char *key, size_t klen, const char *path,
		    bool exact);

/* A directory handle's path into out (appended); exact tells whether it is
 * right as of the event being read, or merely the path it has now. */
static int dir_resolve(struct fan *f, const struct fid *id, struct vg_buf *out, bool *exact)
{
	unsigned char key[FAN_KEY_MAX];
	size_t klen = fid_key(id, key), start = out->len;
	struct dent *d = ht_get(&f->dirs, key, klen);
	int fd, rc;

	if (d) {
		buf_puts(out, d->path);
		*exact = d->exact;
		return 0;
	}
	if ((fd = fid_open(f, id)) < 0)
		return -1;
	rc = fd_path(fd, out);
	close(fd);
	if (rc)
		return -1;
	*exact = false;
	dir_put(f, key, klen, out->p + start, false);
	return 0;
}

/* The path an event is about: its directory's path and the name in it. */
static int fid_path(struct fan *f, const struct fid *id, struct vg_buf *out, bool *exact)
{
	out->len = 0;
	buf_puts(out, "");
	if (dir_resolve(f, id, out, exact))
		return -1;
	if (id->name && strcmp(id->name, "."))
		path_append(out, id->name);
	return 0;
}

static bool watched(const struct fan *f, const char *path)
{
	for (size_t i = 0; path && i < f->roots.n; i++)
		if (path_under(path, f->roots.v[i]))
			return true;
	return false;
}

/* ---- the directory cache ----------------------------------------------- */

/* When full, the looked-up entries go first, then everything. */
static void dir_prune(struct fan *f)
{
	struct htab keep = {0};

	for (size_t i = 0; i < f->dirs.cap; i++) {
		struct dent *d = f->dirs.s[i].val;
		if (!d)
			continue;
		if (d->exact)
			ht_put(&keep, d->key, d->klen, d);
		else
			dent_free(d);
	}
	free(f->dirs.s);
	f->dirs = keep;
	if (f->dirs.n >= FAN_DIR_MAX / 2) {
		ht_free(&f->dirs, dent_free);
		log_debug("fanotify: directory cache emptied at %d entries", FAN_DIR_MAX);
	}
}

static void dir_put(struct fan *f, const unsigned char *key, size_t klen, const char *path,
		    bool exact)
{
	struct dent *d;

	if (f->dirs.n >= FAN_DIR_MAX)
		dir_prune(f);
	d = xmalloc(sizeof(*d) + klen);
	d->path = xstrdup(path);
	d->exact = exact;
	d->klen = klen;
	memcpy(d->key, key, klen);
	if ((d = ht_put(&f->dirs, d->key, klen, d)))
		dent_free(d);
}

/*
 * A directory was renamed (in a marked directory). Exact entries
 * below it follow it; looked-up ones may already show this rename or a
 * later one, so they go. An exchange leaves something at the old name, and
 * nothing below either name can be rewritten safely: those go too. old or
 * new is NULL when a legacy rename lost its other half.
 */
static void dir_moved(struct fan *f, const char *old, const char *new, bool exchanged)
{
	struct htab keep = {0};

	for (size_t i = 0; i < f->dirs.cap; i++) {
		struct dent *d = f->dirs.s[i].val;
		bool in_old = d && old && path_under(d->path, old);
		bool in_new = d && new && path_under(d->path, new);

		if (!d)
			continue;
		if (!d->exact || ((in_old || in_new) && (exchanged || !old || !new))) {
			dent_free(d);
			continue;
		}
		if (in_old) {
			char *p = path_rebase(d->path, old, new);
			free(d->path);
			d->path = p;
		}
		ht_put(&keep, d->key, d->klen, d);
	}
	free(f->dirs.s);
	f->dirs = keep;
}

/* ---- marks ------------------------------------------------------------- */

/* What is asked for, from what the kernel gives (see the top of the file). */
static void set_masks(struct fan *f)
{
	uint64_t moves = f->rename_ev ? FAN_RENAME : FAN_MOVED_FROM | FAN_MOVED_TO;

	f->mask = FAN_CREATE | FAN_DELETE | FAN_ATTRIB | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ONDIR |
		  moves;
	f->dir_mask = f->mask | FAN_EVENT_ON_CHILD;
	/* Entry events are refused on a non-directory (ENOTDIR). */
	f->file_mask = FAN_ATTRIB | FAN_MODIFY | FAN_CLOSE_WRITE;
	f->parent_mask = FAN_CREATE | FAN_DELETE | FAN_ONDIR | moves;
}

/*
 * fanotify_mark (FAN_MARK_ADD), on path or, when path is NULL, on what dfd
 * is open on. The masks have one fallback, which only the first mark can
 * find out: target handles given but FAN_RENAME refused. Then renames are
 * paired from two events instead.
 */
static int mark_add(struct fan *f, uint64_t mask, int dfd, const char *path)
{
	unsigned flags = FAN_MARK_ADD | (path ? FAN_MARK_DONT_FOLLOW : 0);
	int rc = fanotify_mark(f->fd, flags, mask, dfd, path);

	if (rc && errno == EINVAL && f->rename_ev && !f->marked_any && (mask & FAN_RENAME)) {
		f->rename_ev = false;
		set_masks(f);
		mask = (mask & ~(uint64_t)FAN_RENAME) | FAN_MOVED_FROM | FAN_MOVED_TO;
		log_info("fanotify: FAN_RENAME refused; renames are paired from two events");
		rc = fanotify_mark(f->fd, flags, mask, dfd, path);
	}
	if (!rc)
		f->marked_any = true;
	return rc;
}

/* A mark that failed leaves a gap, unless what it was for is gone or was
 * replaced since it was seen: the events of that say so. */
static bool mark_gap(int e)
{
	return e != ENOENT && e != ENOTDIR && e != ELOOP && e != ESTALE;
}

/* Events in a gap are lost: counted so (the caller rescans what is there)
 * and said, once as a warning when the limit is what refused them. */
static void mark_lost(struct fan *f, const char *path, size_t more, int e)
{
	bool full = e == ENOSPC;

	f->c.overflows++;
	if (full && f->marks_full_said) {
		log_debug("fanotify: %s and %zu more directories not marked: %s", path, more,
			  strerror(e));
		return;
	}
	f->marks_full_said |= full;
	log_warn("fanotify: %zu director%s not marked, %s first (%s%s); what happens there is "
		 "not seen%s", more + 1, more ? "ies" : "y", path, strerror(e),
		 full ? ": fs.fanotify.max_user_marks" : "",
		 full ? " (said once; later ones at debug level)" : "");
}

static void fmark_free(void *p)
{
	struct fmark *m = p;

	free(m->path);
	free(m);
}

static void marks_prune(struct fan *f);

static void marks_put(struct fan *f, const unsigned char *key, size_t klen, const char *path)
{
	struct fmark *m;

	if (f->marks.n >= f->marks_check)
		marks_prune(f);
	m = xmalloc(sizeof(*m) + klen);
	m->path = xstrdup(path);
	m->klen = klen;
	memcpy(m->key, key, klen);
	if ((m = ht_put(&f->marks, m->key, klen, m)))
		fmark_free(m);
}

/*
 * Marks the directory at path (not a symlink to one) for its own events and
 * its entries', and remembers it by handle so its mark can be taken off when
 * it leaves the watched set; its handle goes to the directory cache too.
 * Returns 0 or an errno.
 */
static int mark_dir(struct fan *f, const char *path, const unsigned char *fsid)
{
	unsigned char key[FAN_KEY_MAX];
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e = 0;
	size_t klen;

	if (fd < 0)
		return errno;
	if (mark_add(f, f->dir_mask, fd, NULL))
		e = errno;
	if ((klen = fd_key(fd, fsid, key))) {
		if (!e)
			marks_put(f, key, klen, path);
		dir_put(f, key, klen, path, true);
	}
	close(fd);
	return e;
}

/* A watched path that is not a directory is marked itself; its events come
 * with its directory's handle and its name, as its siblings' would. */
static int mark_file(struct fan *f, const char *path)
{
	return mark_add(f, f->file_mask, AT_FDCWD, path);
}

/* Takes this group's mark off one directory, if it is still there. */
static void unmark(struct fan *f, const struct fmark *m)
{
	int fd = key_open(f, m->key, m->klen, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return;			/* gone: its mark went with it */
	if (fanotify_mark(f->fd, FAN_MARK_REMOVE, f->dir_mask, fd, NULL) && errno != ENOENT)
		log_debug("fanotify: unmarking %s: %s", m->path, strerror(errno));
	close(fd);
}

/*
 * The directory a watched path is in gets entry events only (none of its
 * children's): so a watched path that is removed, renamed away, replaced by
 * a rename (an editor's or a package manager's save) or made again is seen,
 * and the new object marked. Not across a mount: a mount point's name in its
 * parent is not what it shows. Failing, only that is not seen: said, not
 * counted.
 */
static void mark_parent(struct fan *f, const char *root)
{
	struct stat rs, ps;
	char *dir;

	if (!strcmp(root, "/"))
		return;
	dir = xstrdup(root);
	*strrchr(dir, '/') = '\0';
	if (!dir[0])
		strcpy(dir, "/");	/* "/x": room for two bytes */
	if (!lstat(dir, &ps) && (lstat(root, &rs) || rs.st_dev == ps.st_dev) &&
	    mark_add(f, f->parent_mask, AT_FDCWD, dir))
		log_warn("fanotify: marking %s: %s; %s being removed or replaced is not seen", dir,
			 strerror(errno), root);
	free(dir);
}

static void marks_parents(struct fan *f)
{
	for (size_t i = 0; i < f->roots.n; i++)
		mark_parent(f, f->roots.v[i]);
}

/*
 * A directory was renamed: the marks below it follow it, and come off where
 * it left the watched set. old or new is NULL when a legacy rename lost its
 * other half: what was below old went somewhere unwatched. Entries below new
 * that were there stay: the directory the rename replaced (gone with its
 * mark; marks_prune forgets it), or one already seen there by marks_prune.
 */
static void marks_moved(struct fan *f, const char *old, const char *new, bool exchanged)
{
	struct htab keep = {0};
	bool off = false;

	for (size_t i = 0; i < f->marks.cap; i++) {
		struct fmark *m = f->marks.s[i].val;
		bool in_old = m && old && path_under(m->path, old);
		bool in_new = m && new && path_under(m->path, new);
		char *p = NULL;

		if (!m)
			continue;
		if (in_old && new)
			p = path_rebase(m->path, old, new);
		else if (in_new && exchanged)
			p = path_rebase(m->path, new, old);
		if (p) {
			free(m->path);
			m->path = p;
		}
		if ((in_old && !new) || ((in_old || (in_new && exchanged)) &&
					 !watched(f, m->path))) {
			unmark(f, m);
			fmark_free(m);
			off = true;
			continue;
		}
		ht_put(&keep, m->key, m->klen, m);
	}
	free(f->marks.s);
	f->marks = keep;
	if (off)
		marks_parents(f);	/* one may have been a parent's mark too */
}

/*
 * Every remembered mark against what the kernel says now: those of
 * directories gone are forgotten, those of directories that left the
 * watched set unseen (events lost) come off. After an overflow, and when the
 * table has doubled since (a legacy rmdir carries no handle to forget its
 * mark by).
 */
static void marks_prune(struct fan *f)
{
	struct htab keep = {0};
	struct vg_buf p = {0};
	bool off = false;

	for (size_t i = 0; i < f->marks.cap; i++) {
		struct fmark *m = f->marks.s[i].val;
		struct stat st;
		int fd;

		if (!m)
			continue;
		fd = key_open(f, m->key, m->klen, O_RDONLY | O_DIRECTORY);
		p.len = 0;
		if (fd < 0 || fstat(fd, &st) || st.st_nlink == 0 || fd_path(fd, &p)) {
			if (fd >= 0)
				close(fd);
			fmark_free(m);
			continue;
		}
		if (!watched(f, p.p)) {
			if (fanotify_mark(f->fd, FAN_MARK_REMOVE, f->dir_mask, fd, NULL) == 0)
				off = true;
			close(fd);
			fmark_free(m);
			continue;
		}
		close(fd);
		free(m->path);
		m->path = xstrdup(p.p);
		ht_put(&keep, m->key, m->klen, m);
	}
	free(f->marks.s);
	f->marks = keep;
	buf_free(&p);
	f->marks_check = f->marks.n * 2 > FAN_MARKS_CHECK ? f->marks.n * 2 : FAN_MARKS_CHECK;
	if (off)
		marks_parents(f);
}

/* A directory removed: the kernel drops its mark with it. */
static void marks_gone(struct fan *f, const struct fid *id)
{
	unsigned char key[FAN_KEY_MAX];
	struct fmark *m = ht_take(&f->marks, key, fid_key(id, key));

	if (m)
		fmark_free(m);
}

/* ---- the attribute cache ----------------------------------------------- */

static ssize_t xattr_list(const char *path, bool follow, char *buf, size_t size)
{
	return follow ? listxattr(path, buf, size) : llistxattr(path, buf, size);
}

static ssize_t xattr_value(const char *path, bool follow, const char *name, char *buf,
			   size_t size)
{
	return follow ? getxattr(path, name, buf, size) : lgetxattr(path, name, buf, size);
}

/* Reads a list or a value into b, growing it while it grows under us. A size
 * of 0 asks the kernel for the size, so b always has room for one byte. */
static ssize_t xattr_read(const char *path, bool follow, const char *name, struct vg_buf *b)
{
	ssize_t n;

	for (int tries = 0; tries < 4; tries++) {
		if (!b->cap) {
			b->cap = 256;
			b->p = xmalloc(b->cap);
		}
		n = name ? xattr_value(path, follow, name, b->p, b->cap)
			 : xattr_list(path, follow, b->p, b->cap);
		if (n >= 0 || errno != ERANGE)
			return n;
		n = name ? xattr_value(path, follow, name, NULL, 0)
			 : xattr_list(path, follow, NULL, 0);
		if (n < 0)
			return n;
		b->cap = (size_t)n + 256;
		b->p = xrealloc(b->p, b->cap);
	}
	errno = ERANGE;
	return -1;
}

/*
 * A digest of a file's extended attributes, names and values, so a change
 * of them is seen as such. follow: path is a /proc/self/fd link to the
 * object. 0 when it has none or they cannot be read.
 */
static uint64_t xattr_digest(const char *path, bool follow)
{
	struct vg_buf names = {0}, val = {0};
	uint64_t h = FNV_BASIS;
	ssize_t n = xattr_read(path, follow, NULL, &names);

	if (n <= 0) {
		free(names.p);
		return 0;
	}
	names.p[n - 1] = '\0';		/* the kernel ends each name with one */
	for (char *p = names.p; p < names.p + n; p += strlen(p) + 1) {
		ssize_t v = xattr_read(path, follow, p, &val);

		fnv_mix(&h, p, strlen(p) + 1);
		if (v > 0)
			fnv_mix(&h, val.p, (size_t)v);
		fnv_mix(&h, &v, sizeof(v));
	}
	free(names.p);
	free(val.p);
	return h;
}

/* The digest of the event's object: through its descriptor when there is
 * one (right even if it was renamed), else through its path. */
static uint64_t object_xattrs(int ofd, const char *path, const struct stat *st)
{
	char link[64];

	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return 0;		/* user xattrs live on files and directories */
	if (ofd < 0)
		return xattr_digest(path, false);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", ofd);
	return xattr_digest(link, true);
}

static void attr_fill(struct fattr *a, const struct stat *st, uint64_t xattrs)
{
	a->ino = st->st_ino;
	a->dev = st->st_dev;
	a->size = (uint64_t)st->st_size;
	a->mtime = ts_ns(&st->st_mtim);
	a->ctime = ts_ns(&st->st_ctim);
	a->mode = st->st_mode;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->nlink = st->st_nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)st->st_nlink;
	a->xattrs = xattrs;
}

static struct fattr *attr_get(struct fan *f, const char *path)
{
	return ht_get(&f->attrs, path, strlen(path));
}

static struct fattr *attr_get_same(struct fan *f, const char *path, const struct stat *st)
{
	struct fattr *a = attr_get(f, path);

	return a && a->ino == st->st_ino && a->dev == st->st_dev ? a : NULL;
}

/* Keeps a (its path already set); NULL when the cache is full. */
static struct fattr *attr_keep(struct fan *f, struct fattr *a)
{
	struct fattr *old;

	if (f->attrs.n >= FAN_ATTR_MAX && !attr_get(f, a->path)) {
		if (!f->attrs_full_said)
			log_warn("fanotify: attributes of more than %d paths are not kept; "
				 "chmod, chown and truncation of the others are reported as chmod",
				 FAN_ATTR_MAX);
		f->attrs_full_said = true;
		free(a);
		return NULL;
	}
	if ((old = ht_put(&f->attrs, a->path, a->plen, a)))
		free(old);
	return a;
}

static struct fattr *attr_set(struct fan *f, const char *path, const struct stat *st,
			      uint64_t xattrs)
{
	size_t n = strlen(path);
	struct fattr *a = xcalloc(1, sizeof(*a) + n + 1);

	memcpy(a->path, path, n + 1);
	a->plen = n;
	attr_fill(a, st, xattrs);
	return attr_keep(f, a);
}

/* Remembers path as it is on disk now, or forgets it if it is gone. */
static void attr_refresh(struct fan *f, const char *path)
{
	struct stat st;

	if (watched(f, path) && !lstat(path, &st))
		attr_set(f, path, &st, object_xattrs(-1, path, &st));
	else
		free(ht_take(&f->attrs, path, strlen(path)));
}

/* Entries below old move below new (or go, if new is not watched); entries
 * below new that were there go (the rename replaced them). */
static void attr_move_tree(struct fan *f, const char *old, const char *new)
{
	struct htab keep = {0};

	for (size_t i = 0; i < f->attrs.cap; i++) {
		struct fattr *a = f->attrs.s[i].val, *b;
		char *p;

		if (!a)
			continue;
		if (new && path_under(a->path, new) && !(old && path_under(a->path, old))) {
			free(a);
			continue;
		}
		if (!old || !path_under(a->path, old)) {
			ht_put(&keep, a->path, a->plen, a);
			continue;
		}
		p = new ? path_rebase(a->path, old, new) : NULL;
		if (!p || !watched(f, p)) {
			free(p);
			free(a);
			continue;
		}
		b = xmalloc(sizeof(*b) + strlen(p) + 1);
		*b = *a;
		b->plen = strlen(p);
		memcpy(b->path, p, b->plen + 1);
		free(p);
		free(a);
		ht_put(&keep, b->path, b->plen, b);
	}
	free(f->attrs.s);
	f->attrs = keep;
}

/* Another watched name of the same inode, for EV_LINK's path. */
static const char *attr_other_name(struct fan *f, const char *path, const struct stat *st)
{
	if (f->attrs.n > FAN_LINK_SCAN_MAX)
		return NULL;
	for (size_t i = 0; i < f->attrs.cap; i++) {
		const struct fattr *a = f->attrs.s[i].val;
		if (a && a->ino == st->st_ino && a->dev == st->st_dev && strcmp(a->path, path))
			return a->path;
	}
	return NULL;
}

/* ---- the actor --------------------------------------------------------- */

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return len ? 0 : -1;
}

static void actor_status(struct actor *a, char *status)
{
	char *save = NULL;

	for (char *l = strtok_r(status, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "Name:\t", 6))
			snprintf(a->comm, sizeof(a->comm), "%s", l + 6);
		else if (!strncmp(l, "PPid:\t", 6))
			sscanf(l + 6, "%u", &a->ppid);
		else if (!strncmp(l, "Uid:\t", 5))
			sscanf(l + 5, "%u %u", &a->uid, &a->euid);
		else if (!strncmp(l, "Gid:\t", 5))
			sscanf(l + 5, "%u", &a->gid);
	}
}

/* Who pid is, while it still runs; unknown fields stay (uint32_t)-1. */
static void actor_read(struct actor *a, int32_t pid)
{
	char path[64], buf[4096];
	ssize_t n;

	*a = (struct actor){.valid = true, .pid = pid, .ppid = UNKNOWN_ID, .uid = UNKNOWN_ID,
			    .gid = UNKNOWN_ID, .euid = UNKNOWN_ID, .auid = UNKNOWN_ID};
	if (pid <= 0)
		return;			/* 0: in a pid namespace we cannot see */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)))
		return;			/* exited: only eBPF sees it in time */
	actor_status(a, buf);
	snprintf(path, sizeof(path), "/proc/%d/loginuid", (int)pid);
	if (!read_small(path, buf, sizeof(buf)))
		sscanf(buf, "%u", &a->auid);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	if ((n = readlink(path, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		sscanf(buf, "mnt:[%u]", &a->mntns);
	}
}

/* ---- events out -------------------------------------------------------- */

static void deliver(struct fan *f, const struct vg_event *ev)
{
	f->c.events++;
	f->delivered++;
	f->fn(f->u, ev);
}

/* The current event's process, read once per poll; true if ignore_comm
 * mutes it. */
static bool actor_muted(struct fan *f)
{
	struct actor *a = &f->actor;

	if (!a->valid || a->pid != f->pid) {
		actor_read(a, f->pid);
		a->muted = a->comm[0] && strv_has(&f->ignore, a->comm);
	}
	return a->muted;
}

static void emit(struct fan *f, enum ev_kind kind, const char *path, const char *path2,
		 uint32_t mode, uint32_t fuid, uint32_t fgid)
{
	struct actor *a = &f->actor;
	struct vg_event ev = {0};

	if (actor_muted(f))
		return;
	ev.kind = kind;
	ev.time_ns = f->now;
	ev.pid = ev.tgid = f->pid > 0 ? (uint32_t)f->pid : UNKNOWN_ID;
	ev.ppid = a->ppid;
	ev.uid = a->uid;
	ev.gid = a->gid;
	ev.euid = a->euid;
	ev.auid = a->auid;
	ev.mntns = a->mntns;
	memcpy(ev.comm, a->comm, sizeof(ev.comm));
	ev.path = path;
	ev.path2 = path2;
	ev.mode = mode;
	ev.fuid = fuid;
	ev.fgid = fgid;
	deliver(f, &ev);
}

/* Something found by comparing (how: a walk, a window), not seen happen:
 * no actor. */
static void emit_found(struct fan *f, enum ev_kind kind, const char *path, const char *path2,
		       const struct stat *st, const char *how)
{
	struct vg_event ev = {
		.kind = kind, .time_ns = f->now, .found_by = how,
		.pid = UNKNOWN_ID, .tgid = UNKNOWN_ID, .ppid = UNKNOWN_ID,
		.uid = UNKNOWN_ID, .gid = UNKNOWN_ID, .euid = UNKNOWN_ID, .auid = UNKNOWN_ID,
		.path = path, .path2 = path2, .mode = st->st_mode & 07777,
		.fuid = st->st_uid, .fgid = st->st_gid,
	};

	deliver(f, &ev);
}

static void emit_path(struct fan *f, enum ev_kind kind, const char *path, uint32_t mode)
{
	emit(f, kind, path, NULL, mode, UNKNOWN_ID, UNKNOWN_ID);
}

/* ---- walking the watched set -------------------------------------------- */

struct made {				/* what made a path, told from what it is */
	enum ev_kind kind;
	const char *path, *path2;
	char target[PATH_MAX];
};

/* EV_MKDIR, EV_SYMLINK (path = target, path2 = name), EV_LINK for a regular
 * file with more than one link (path2 = name, path = another known name or
 * NULL), else EV_CREATE. ofd: an O_PATH descriptor of it, or -1. */
static void made_what(struct fan *f, const char *path, const struct stat *st, int ofd,
		      struct made *m)
{
	ssize_t n;

	*m = (struct made){.kind = EV_CREATE, .path = path};
	if (S_ISDIR(st->st_mode)) {
		m->kind = EV_MKDIR;
	} else if (S_ISLNK(st->st_mode)) {
		n = ofd >= 0 ? readlinkat(ofd, "", m->target, sizeof(m->target) - 1)
			     : readlink(path, m->target, sizeof(m->target) - 1);
		if (n >= 0)
			m->target[n] = '\0';
		m->kind = EV_SYMLINK;
		m->path = n >= 0 ? m->target : NULL;
		m->path2 = path;
	} else if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		m->kind = EV_LINK;
		m->path = attr_other_name(f, path, st);
		m->path2 = path;
	}
}

/*
 * What a walk found that no event told of: made before its directory was
 * marked (mkdir -p a/b/c, or a tree unpacked into a new directory). Said as
 * made, found by a rescan: the directory's maker most likely made it too,
 * but anyone could have, before the mark was placed. Remembered as said, so
 * its own creation event, if the mark came in time for it, says nothing new.
 */
static void seed_found(struct fan *f, const char *path, const struct stat *st)
{
	struct fattr *a;
	struct made m;

	if (attr_get_same(f, path, st))
		return;			/* known: its event came first */
	made_what(f, path, st, -1, &m);
	emit_found(f, m.kind, m.path, m.path2, st, "rescan");
	if ((a = attr_set(f, path, st, object_xattrs(-1, path, st))))
		a->scanned = true;
}

struct walk {				/* the marks of one walk */
	size_t failed;			/* directories left unmarked */
	int err;			/* why the first one was */
	char *first;
};

static void seed_mark(struct fan *f, const char *path, const unsigned char *fsid,
		      struct walk *w)
{
	int e = w->err == ENOSPC ? ENOSPC : mark_dir(f, path, fsid);

	if (!e || !mark_gap(e))
		return;
	if (!w->failed++) {
		w->err = e;
		w->first = xstrdup(path);
	}
}

/*
 * Brings the tree at path (which is watched) into the watched set: marks
 * every directory, remembers their handles and everyone's attributes. One
 * filesystem, as the rescan walks it (a mount below a watched directory is
 * watched only if named itself); no symlink followed; as deep as the tree
 * goes, fts holding one descriptor per level. A directory is marked when fts
 * returns it, before it reads it, so whatever is made in it later has its
 * event. report: what is below path and not remembered is said as found
 * (path was made while the walk runs late: see seed_found).
 */
static void seed(struct fan *f, const char *path, bool report)
{
	char *argv[] = {(char *)path, NULL};
	struct walk w = {0};
	struct statfs sfs;
	FTSENT *e;
	FTS *fts;

	if (statfs(path, &sfs))
		return;			/* gone already: nothing to remember */
	if (!(fts = fts_open(argv, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL))) {
		log_warn("fanotify: walking %s: %s", path, strerror(errno));
		return;
	}
	while ((e = fts_read(fts))) {
		const struct stat *st = e->fts_statp;

		if (e->fts_info == FTS_DP)
			continue;
		if (e->fts_info == FTS_NS || e->fts_info == FTS_ERR || e->fts_info == FTS_DNR) {
			log_debug("fanotify: walking %s: %s", e->fts_path, strerror(e->fts_errno));
			if (e->fts_info != FTS_DNR)
				continue;
		}
		if (e->fts_info == FTS_D)
			seed_mark(f, e->fts_path, (const unsigned char *)&sfs.f_fsid, &w);
		if (!report)
			attr_set(f, e->fts_path, st, object_xattrs(-1, e->fts_path, st));
		else if (e->fts_level > 0)
			seed_found(f, e->fts_path, st);
	}
	fts_close(fts);
	if (w.failed)
		mark_lost(f, w.first, w.failed - 1, w.err);
	free(w.first);
}

/* A directory renamed inside the watched set is marked already, unless it
 * was made and renamed before its creation was read (its walk then found
 * nothing at the old name): then it is walked now. */
static void ensure_marked(struct fan *f, const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	unsigned char key[FAN_KEY_MAX];
	struct statfs sfs;
	size_t klen = 0;

	if (fd < 0)
		return;
	if (!fstatfs(fd, &sfs))
		klen = fd_key(fd, (const unsigned char *)&sfs.f_fsid, key);
	close(fd);
	if (!klen || !ht_get(&f->marks, key, klen))
		seed(f, path, true);
}

/* A watched path that is not a directory has a new object (made again, or
 * replaced by a rename): the new one is marked. */
static void remark_root(struct fan *f, const char *path)
{
	struct stat st;

	if (!strv_has(&f->roots, path) || lstat(path, &st) || S_ISDIR(st.st_mode))
		return;
	if (mark_file(f, path) && mark_gap(errno))
		mark_lost(f, path, 0, errno);
}

/* After an overflow: every mark checked, placed again where one is
 * missing (a directory made meanwhile), every attribute read again. */
static void reseed(struct fan *f)
{
	ht_free(&f->attrs, free);
	ht_free(&f->dirs, dent_free);
	marks_prune(f);
	for (size_t i = 0; i < f->roots.n; i++) {
		mark_parent(f, f->roots.v[i]);
		seed(f, f->roots.v[i], false);
		remark_root(f, f->roots.v[i]);
	}
	f->reseed = false;
}

/* ---- what each operation means ----------------------------------------- */

/*
 * The event's object as it is now, and an O_PATH descriptor of it in *ofd
 * (or -1): through its own handle when the event has one, so it is the
 * right file even if renamed since; else through the path. false: gone.
 */
static bool object_stat(struct fan *f, const struct fev *e, const char *path, struct stat *st,
			int *ofd)
{
	const struct fid *id = e->obj.fsid ? &e->obj : NULL;

	*ofd = -1;
	if (!id && e->dir.fsid && (!e->dir.name || !strcmp(e->dir.name, ".")))
		id = &e->dir;		/* an event on a directory itself */
	if (id) {
		int fd = fid_open(f, id);
		if (fd >= 0 && !fstat(fd, st) && st->st_nlink > 0) {
			*ofd = fd;
			return true;
		}
		if (fd >= 0)
			close(fd);
		if (fd >= 0 || errno == ESTALE || errno == ENOENT)
			return false;
	}
	return lstat(path, st) == 0;
}

/* Does path name st's inode now? */
static bool at_path(const char *path, const struct stat *st)
{
	struct stat now;

	return !lstat(path, &now) && now.st_ino == st->st_ino && now.st_dev == st->st_dev;
}

static void on_create(struct fan *f, const struct fev *e, const char *path, bool exact,
		      const struct stat *st, int ofd)
{
	bool dir = e->mask & FAN_ONDIR;
	struct fattr *a = st ? attr_get_same(f, path, st) : NULL;
	bool said = a && a->scanned;	/* by the walk of the directory it is in */
	struct made m;

	if (dir && e->obj.fsid) {	/* so what happens inside has a name, even if
					 * the directory is gone before it is read */
		unsigned char key[FAN_KEY_MAX];
		size_t klen = fid_key(&e->obj, key);
		dir_put(f, key, klen, path, exact);
	}
	if (!st) {			/* gone again; its deletion follows */
		emit_path(f, dir ? EV_MKDIR : EV_CREATE, path, 0);
		return;
	}
	if (!said) {
		made_what(f, path, st, ofd, &m);
		emit(f, m.kind, m.path, m.path2, st->st_mode & 07777, st->st_uid, st->st_gid);
	}
	if ((a = attr_set(f, path, st, object_xattrs(ofd, path, st))) && (e->mask & FAN_MODIFY))
		a->dirty = true;
	/* A new directory is marked, and what was made in it before is said;
	 * a watched file made again is marked again. */
	if (S_ISDIR(st->st_mode))
		seed(f, path, true);
	else
		remark_root(f, path);
}

static void on_modify(struct fan *f, const char *path, const struct stat *st, int ofd)
{
	struct fattr *a = st ? attr_get_same(f, path, st) : attr_get(f, path);

	if (st && a) {
		if ((uint64_t)st->st_size < a->size)
			emit_path(f, EV_TRUNCATE, path, st->st_mode & 07777);
		a->size = (uint64_t)st->st_size;
		a->mtime = ts_ns(&st->st_mtim);
	} else if (st && watched(f, path)) {
		a = attr_set(f, path, st, object_xattrs(ofd, path, st));	/* a baseline */
	}
	if (a)
		a->dirty = true;
}

static void on_attrib(struct fan *f, const char *path, const struct stat *st, int ofd,
		      uint64_t mask)
{
	struct fattr *a = attr_get_same(f, path, st);
	uint32_t perm = st->st_mode & 07777;
	uint64_t xattrs;
	int n = 0;

	if (!a) {			/* nothing to compare with: say what is */
		emit(f, EV_CHMOD, path, NULL, perm, st->st_uid, st->st_gid);
		attr_set(f, path, st, object_xattrs(ofd, path, st));
		return;
	}
	if (ts_ns(&st->st_ctim) == a->ctime)
		return;			/* compared, and reported, since this change */
	xattrs = object_xattrs(ofd, path, st);
	if ((a->mode & 07777) != perm && ++n)
		emit_path(f, EV_CHMOD, path, perm);
	if ((a->uid != st->st_uid || a->gid != st->st_gid) && ++n)
		emit(f, EV_CHOWN, path, NULL, perm, a->uid != st->st_uid ? st->st_uid : UNKNOWN_ID,
		     a->gid != st->st_gid ? st->st_gid : UNKNOWN_ID);
	if (!(mask & FAN_MODIFY) && (uint64_t)st->st_size < a->size && ++n)
		emit_path(f, EV_TRUNCATE, path, perm);
	if (xattrs != a->xattrs && ++n)
		emit_path(f, EV_SETXATTR, path, perm);
	if (!n && !(mask & FAN_MODIFY) && a->mtime != ts_ns(&st->st_mtim))
		emit_path(f, EV_MODIFY, path, perm);	/* times set: utimensat */
	else if (!n && a->nlink == st->st_nlink)
		emit_path(f, EV_SETXATTR, path, perm);	/* no visible change */
	attr_fill(a, st, xattrs);
}

static void on_close_write(struct fan *f, const char *path, uint64_t mask)
{
	struct fattr *a = attr_get(f, path);
	bool written = (mask & FAN_MODIFY) || (a && a->dirty);

	if (a)
		a->dirty = false;
	if (written)
		emit_path(f, EV_MODIFY, path, a ? a->mode & 07777 : 0);
}

static void on_delete(struct fan *f, const struct fev *e, const char *path)
{
	struct fattr *a = ht_take(&f->attrs, path, strlen(path));

	/* A removed directory's handle is not forgotten: the kernel may have
	 * merged its rmdir into its mkdir event, ahead of the events inside it
	 * that still need its name. Handles are never reused; the cache bound
	 * drops it in time. */
	emit_path(f, (e->mask & FAN_ONDIR) ? EV_RMDIR : EV_DELETE, path, a ? a->mode & 07777 : 0);
	free(a);
	if ((e->mask & FAN_ONDIR) && e->obj.fsid)
		marks_gone(f, &e->obj);
}

/* ---- coalescing busy files (see the top of the file) -------------------- */

static int64_t clock_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return ts_ns(&t);
}

/* Puts on or takes off the ignore mark of a window. fanotify_mark refuses
 * O_PATH descriptors, but their /proc link names the very object. */
static int ignore_writes(struct fan *f, int ofd, bool on)
{
	const unsigned flags = FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY;
	char link[64];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", ofd);
	return fanotify_mark(f->fd, (on ? FAN_MARK_ADD : FAN_MARK_REMOVE) | flags,
			     FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD, link);
}

/* A write seen whose close a window hides (it opens now, or the write was
 * queued before the mark): said now, with the actor of the write. */
static void written_now(struct fan *f, struct fattr *a, const char *path)
{
	if (!a->dirty)
		return;
	a->dirty = false;
	emit_path(f, EV_MODIFY, path, a->mode & 07777);
}

/* Opens a window on a's file: st is how it was before the mark goes on,
 * ofd an O_PATH descriptor of it on the filesystem fsid. */
static void window_open(struct fan *f, struct fattr *a, const struct stat *st, int ofd,
			const unsigned char *fsid)
{
	struct window *w = &f->win[f->nwin];

	if (f->nwin >= FAN_WINDOWS_MAX || !(w->klen = fd_key(ofd, fsid, w->key)))
		return;
	if (ignore_writes(f, ofd, true)) {
		log_debug("fanotify: %s: writes not coalesced: %s", a->path, strerror(errno));
		return;
	}
	w->until = f->mono + (int64_t)f->coalesce_ms * 1000000;
	w->size = (uint64_t)st->st_size;
	w->mtime = ts_ns(&st->st_mtim);
	f->nwin++;
	f->c.windows++;
	a->coalescing = true;
	written_now(f, a, a->path);
}

/* Ends a window: unmarks first, so a write from now on raises its event,
 * then says what its writes changed, if anything, under the name the file
 * has now. Removed or moved out of the watched set, it has nothing to say:
 * its removal or its move was. */
static void window_close(struct fan *f, const struct window *w)
{
	int fd = key_open(f, w->key, w->klen, O_PATH);
	bool changed;
	struct fattr *a;
	struct stat st;

	if (fd < 0)
		return;			/* gone, and its mark with it */
	if (ignore_writes(f, fd, false) && errno != ENOENT)
		log_warn("fanotify: a coalesced file's writes stay unseen: %s", strerror(errno));
	f->pb.len = 0;
	if (fstat(fd, &st) || st.st_nlink == 0 || fd_path(fd, &f->pb) || !watched(f, f->pb.p)) {
		close(fd);
		return;
	}
	changed = (uint64_t)st.st_size != w->size || ts_ns(&st.st_mtim) != w->mtime;
	if (changed)
		emit_found(f, (uint64_t)st.st_size < w->size ? EV_TRUNCATE : EV_MODIFY, f->pb.p,
			   NULL, &st, "coalesced");
	if ((a = attr_get_same(f, f->pb.p, &st))) {
		a->coalescing = false;
		a->wrote_ns = 0;
		a->streak = 0;
		a->dirty &= !changed;
		a->size = (uint64_t)st.st_size;
		a->mtime = ts_ns(&st.st_mtim);
	}
	close(fd);
}

/* Ends the windows whose time is up; run before the queue is read. All
 * last coalesce_ms, so f->win is in the order they end. */
static void windows_due(struct fan *f)
{
	size_t n = 0;

	f->mono = clock_ns(CLOCK_MONOTONIC);
	f->now = (uint64_t)clock_ns(CLOCK_REALTIME);
	while (n < f->nwin && f->win[n].until <= f->mono)
		window_close(f, &f->win[n++]);
	f->nwin -= n;
	memmove(f->win, f->win + n, f->nwin * sizeof(*f->win));
}

/* A regular file's write event (st: the file before anything else is done
 * to it; ofd: an O_PATH descriptor of it, or -1 when the event had no
 * handle of it): the FAN_HOT_READS-th in a row opens a window, unless its
 * writer is muted (the window would hide the others' writes for nothing). */
static void coalesce(struct fan *f, const struct fev *e, const char *path,
		     const struct stat *st, int ofd)
{
	struct fattr *a = attr_get_same(f, path, st);
	const unsigned char *fsid = e->obj.fsid ? e->obj.fsid : e->dir.fsid;
	struct stat now;
	int fd = ofd;

	if (a && a->coalescing)
		written_now(f, a, path);
	if (!a || a->coalescing || !fsid)
		return;
	a->streak = a->wrote_ns && f->mono - a->wrote_ns < FAN_HOT_NS ? a->streak + 1 : 1;
	a->wrote_ns = f->mono;
	if (a->streak < FAN_HOT_READS || actor_muted(f))
		return;
	if (fd < 0)
		fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &now) && now.st_ino == st->st_ino && now.st_dev == st->st_dev)
		window_open(f, a, st, fd, fsid);
	if (fd >= 0 && fd != ofd)
		close(fd);
}

/*
 * Everything but renames, for one name, in the order things happen: a
 * merged event says which operations happened, not in what order, so a
 * creation comes first, then writes and attribute changes, then a close,
 * then a deletion -- unless the name now denotes this very object again, in
 * which case it was deleted and then created. A write to a regular file
 * that is still there may open a coalescing window on it.
 */
static void on_entry(struct fan *f, const struct fev *e, const char *path, bool exact)
{
	uint64_t m = e->mask;
	struct stat st;
	int ofd = -1;
	bool here = (m & (FAN_CREATE | FAN_MODIFY | FAN_ATTRIB)) &&
		    object_stat(f, e, path, &st, &ofd);
	bool del_first = (m & FAN_CREATE) && (m & FAN_DELETE) && here && at_path(path, &st);

	if (del_first)
		on_delete(f, e, path);
	if (m & FAN_CREATE) {
		on_create(f, e, path, exact, here ? &st : NULL, ofd);
	} else {
		if (m & FAN_MODIFY)
			on_modify(f, path, here ? &st : NULL, ofd);
		if ((m & FAN_ATTRIB) && here)
			on_attrib(f, path, &st, ofd, m);
	}
	if (m & FAN_CLOSE_WRITE)
		on_close_write(f, path, m);
	if ((m & FAN_DELETE) && !del_first)
		on_delete(f, e, path);
	else if (f->coalesce_ms && here && (m & FAN_MODIFY) && !(m & FAN_CREATE) &&
		 S_ISREG(st.st_mode))
		coalesce(f, e, path, &st, ofd);
	if (ofd >= 0)
		close(ofd);
}

/* ---- renames ----------------------------------------------------------- */

/* Watched paths below a renamed directory moved with it: said once, as a
 * rename of each; they are watched by name, so what is there now is not. */
static void roots_moved(struct fan *f, const char *old, const char *new)
{
	for (size_t i = 0; i < f->roots.n; i++) {
		const char *r = f->roots.v[i];
		char *to;

		if (!path_under(r, old) || !strcmp(r, old))
			continue;
		to = new ? path_rebase(r, old, new) : NULL;
		log_warn("fanotify: watched path %s was moved to %s; it is watched by name",
			 r, to ? to : "an unknown place");
		emit(f, EV_RENAME, r, to, 0, UNKNOWN_ID, UNKNOWN_ID);
		attr_move_tree(f, r, NULL);
		free(to);
	}
}

/* The remembered attributes follow a rename. */
static void attrs_renamed(struct fan *f, const char *old, const char *new, bool dir,
			  bool exchanged)
{
	bool in_old = watched(f, old), in_new = watched(f, new);
	struct fattr *a;

	if (dir) {
		if (exchanged) {
			attr_move_tree(f, NULL, old);
			attr_move_tree(f, NULL, new);
			if (in_old)
				seed(f, old, false);
			if (in_new)
				seed(f, new, false);
			return;
		}
		if (in_old || in_new)
			attr_move_tree(f, old, new);
		if (in_new && !in_old)
			seed(f, new, false);	/* moved in: marked */
		return;
	}
	a = old ? ht_take(&f->attrs, old, strlen(old)) : NULL;
	if (exchanged || !a || !in_new) {
		free(a);
		if (old)
			attr_refresh(f, old);
		if (new)
			attr_refresh(f, new);
		return;
	}
	a = xrealloc(a, sizeof(*a) + strlen(new) + 1);
	a->plen = strlen(new);
	memcpy(a->path, new, a->plen + 1);
	attr_keep(f, a);
}

/* A watched file's own mark follows its name: on for the new object at a
 * watched file's name, off for one that left for an unwatched name. */
static void file_renamed(struct fan *f, const char *old, const char *new, bool in_new,
			 bool exchanged)
{
	if (new)
		remark_root(f, new);
	if (old && exchanged)
		remark_root(f, old);
	if (old && new && !in_new && strv_has(&f->roots, old) &&
	    fanotify_mark(f->fd, FAN_MARK_REMOVE | FAN_MARK_DONT_FOLLOW, f->file_mask, AT_FDCWD,
			  new) && errno != ENOENT)
		log_debug("fanotify: unmarking %s: %s", new, strerror(errno));
}

/*
 * One rename, old -> new; either may be NULL when a legacy half lost its
 * other half, or was in a directory not marked. Caches are kept up to date
 * for every rename in a marked directory; the event is reported when either
 * name is watched.
 */
static void on_rename(struct fan *f, const struct fev *e, const char *old, const char *new,
		      bool dir, bool exact)
{
	bool in_old = watched(f, old), in_new = watched(f, new);
	bool exchanged = false;
	struct fattr *a;
	struct stat st;

	if ((dir || in_old || in_new) && old && new)
		exchanged = !lstat(old, &st);	/* RENAME_EXCHANGE, or made again since */
	if (dir) {
		dir_moved(f, old, new, exchanged);
		marks_moved(f, old, new, exchanged);
	}
	if (dir && new && e && e->obj.fsid && in_new && !exchanged) {
		unsigned char key[FAN_KEY_MAX];
		size_t klen = fid_key(&e->obj, key);
		dir_put(f, key, klen, new, exact);
	}
	if (dir && old)
		roots_moved(f, old, new);
	if (!in_old && !in_new)
		return;
	a = old ? attr_get(f, old) : NULL;
	emit(f, EV_RENAME, old, new, a ? a->mode & 07777 : 0, UNKNOWN_ID, UNKNOWN_ID);
	attrs_renamed(f, old, new, dir, exchanged);
	if (dir && in_old && in_new && !exchanged)
		ensure_marked(f, new);
	else if (!dir)
		file_renamed(f, old, new, in_new, exchanged);
}

/* Where the object of an event is now (its name out of the watched set). */
static bool object_path(struct fan *f, const struct fid *id, struct vg_buf *out)
{
	struct stat st;
	bool ok;
	int fd;

	if (!id->fsid || (fd = fid_open(f, id)) < 0)
		return false;
	out->len = 0;
	ok = !fstat(fd, &st) && st.st_nlink > 0 && !fd_path(fd, out) && !watched(f, out->p);
	close(fd);
	return ok;
}

/*
 * FAN_RENAME: both names in one event, but only those in marked directories:
 * moved in, the old name is not told; moved out, the new one is looked up
 * through the object's handle (its name now; gone, or back in the watched
 * set since: not told).
 */
static void on_rename_event(struct fan *f, const struct fev *e)
{
	bool ox = false, nx = false;
	bool have_old = e->old.fsid && !fid_path(f, &e->old, &f->pa, &ox);
	bool have_new = e->new.fsid && !fid_path(f, &e->new, &f->pb, &nx);

	if (!e->new.fsid && have_old)
		have_new = object_path(f, &e->obj, &f->pb);

	if (!have_old && !have_new) {
		log_debug("fanotify: a rename by pid %d in directories no longer there", e->pid);
		return;
	}
	on_rename(f, e, have_old ? f->pa.p : NULL, have_new ? f->pb.p : NULL,
		  e->mask & FAN_ONDIR, ox && nx);
}

static void move_clear(struct move *m)
{
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* Legacy halves still waiting are reported as they are. */
static void moves_flush(struct fan *f)
{
	int32_t pid = f->pid;

	if (f->from.path) {
		f->pid = f->from.pid;
		on_rename(f, NULL, f->from.path, NULL, f->from.dir, false);
		move_clear(&f->from);
	}
	if (f->to.path) {
		f->pid = f->to.pid;
		on_rename(f, NULL, NULL, f->to.path, f->to.dir, false);
		move_clear(&f->to);
	}
	f->pid = pid;
}

static bool move_pairs(const struct move *m, int32_t pid, bool dir, const char *path)
{
	return m->path && m->pid == pid && m->dir == dir && strcmp(m->path, path);
}

/*
 * Legacy renames: FAN_MOVED_FROM then FAN_MOVED_TO, one after the other,
 * from the same process. When both land on one name in one merged event
 * (RENAME_EXCHANGE: a -> b and b -> a), the "to" half is taken first and
 * waits for the "from" half of the next name.
 */
static void on_moved_to(struct fan *f, const char *path, bool dir, bool exact)
{
	if (move_pairs(&f->from, f->pid, dir, path)) {
		on_rename(f, NULL, f->from.path, path, dir, exact && f->from.exact);
		move_clear(&f->from);
		return;
	}
	if (f->to.path)
		moves_flush(f);
	f->to = (struct move){xstrdup(path), f->pid, dir, exact};
}

static void on_moved_from(struct fan *f, const char *path, bool dir, bool exact)
{
	if (move_pairs(&f->to, f->pid, dir, path)) {
		on_rename(f, NULL, path, f->to.path, dir, exact && f->to.exact);
		move_clear(&f->to);
		return;
	}
	if (f->from.path)
		moves_flush(f);
	f->from = (struct move){xstrdup(path), f->pid, dir, exact};
}

/* ---- one event --------------------------------------------------------- */

static void on_event(struct fan *f, const struct fev *e)
{
	const struct fid *id = e->dir.fsid ? &e->dir : NULL;
	bool exact = false, dir = e->mask & FAN_ONDIR;
	const char *path;

	f->pid = e->pid;
	f->now = (uint64_t)clock_ns(CLOCK_REALTIME);
	if (e->mask & FAN_Q_OVERFLOW) {
		f->c.overflows++;
		f->reseed = true;
		return;
	}
	if (e->mask & FAN_RENAME) {
		on_rename_event(f, e);
		return;
	}
	if (!id && dir && e->obj.fsid)
		id = &e->obj;		/* an event on a directory, without its parent */
	if (!id || fid_path(f, id, &f->pa, &exact)) {
		/* Nameless (a link count change), or in a directory gone before
		 * it was ever seen: nothing to put a name on. */
		return;
	}
	path = f->pa.p;
	if (e->mask & FAN_MOVED_TO)
		on_moved_to(f, path, dir, exact);
	if (watched(f, path) && (e->mask & (FAN_CREATE | FAN_DELETE | FAN_MODIFY |
					    FAN_ATTRIB | FAN_CLOSE_WRITE)))
		on_entry(f, e, path, exact);
	if (e->mask & FAN_MOVED_FROM)
		on_moved_from(f, path, dir, exact);
}

static void on_buffer(struct fan *f, size_t len)
{
	size_t off = 0, used = 0;
	struct fev e;

	while (off < len) {
		int rc = parse_event(f->buf + off, len - off, &e, &used);

		if (rc < 0) {
			log_err("fanotify: malformed event header at byte %zu of %zu; "
				"the rest of this read is dropped", off, len);
			f->c.overflows++;	/* events lost: the caller rescans */
			return;
		}
		f->c.received++;
		if (rc > 0)
			log_warn("fanotify: malformed event records at byte %zu; event skipped",
				 off);
		else
			on_event(f, &e);
		off += used;
	}
}

/* ---- the source operations --------------------------------------------- */

static int fan_fd(void *impl)
{
	struct fan *f = impl;

	return f->epfd >= 0 ? f->epfd : f->fd;
}

/*
 * Batching (batch_ms > 0). A reader asleep on the queue is woken by every
 * event, and each wakeup is a cross-CPU interrupt the writing process pays
 * for, which in a VM costs more than the event itself. So after a read
 * that found events the queue is left alone for batch_ms: the fd stays in
 * epfd with no event asked (EPOLLONESHOT would not do: nobody calls
 * epoll_wait on epfd, the loop polls it nested), so the kernel queues
 * without waking anyone and merges what repeats (a file written again and
 * again becomes one event). When the timer expires the queue is read;
 * found empty, the fd asks for EPOLLIN again. Events are late by batch_ms
 * at most; the queue (16384 events) outlasts that at any rate this
 * machine can write, and an overflow is repaired as always.
 */
static int rest(struct fan *f, bool resting)
{
	struct epoll_event ev = {.events = resting ? 0 : EPOLLIN};
	int64_t ns = resting ? (int64_t)f->batch_ms * 1000000 : 0;
	struct itimerspec t = {0};

	if (resting != f->resting && epoll_ctl(f->epfd, EPOLL_CTL_MOD, f->fd, &ev))
		return -1;
	f->resting = resting;
	if (!resting && f->nwin) {	/* awake anyway when the first window ends */
		ns = f->win[0].until - clock_ns(CLOCK_MONOTONIC);
		ns = ns < 1000000 ? 1000000 : ns;
	}
	t.it_value.tv_sec = ns / 1000000000;
	t.it_value.tv_nsec = ns % 1000000000;
	return timerfd_settime(f->tfd, 0, &t, NULL);
}

/* Whether to read the queue now (batching: only once the timer expired,
 * unless it was set for the end of a window while the queue was armed). */
static bool due(struct fan *f)
{
	uint64_t n;
	bool expired;

	if (f->tfd < 0)
		return true;
	expired = read(f->tfd, &n, sizeof(n)) == (ssize_t)sizeof(n);
	return expired || !f->resting;
}

static int fan_poll(void *impl, vg_event_fn fn, void *u)
{
	struct fan *f = impl;
	int rc = 0, reads = 0;

	if (!due(f))
		return 0;
	f->fn = fn;
	f->u = u;
	f->delivered = 0;
	f->actor.valid = false;		/* a pid is looked up again on every poll */
	if (f->coalesce_ms)
		windows_due(f);
	for (int i = 0; i < FAN_READS_PER_POLL; i++) {
		ssize_t n = read(f->fd, f->buf, FAN_BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			log_err("fanotify: read: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		reads++;
		on_buffer(f, (size_t)n);
	}
	moves_flush(f);
	if (f->reseed)
		reseed(f);
	if (f->epfd >= 0 && !rc && rest(f, f->batch_ms && reads > 0)) {
		log_err("fanotify: batching: %s", strerror(errno));
		rc = -1;
	}
	return rc ? rc : f->delivered;
}

static int mark_error(struct vg_err *err, const char *path, int e)
{
	switch (e) {
	case ENODEV:
	case EOPNOTSUPP:
		return vg_errf(err, "fanotify: %s: its filesystem cannot report file handles (%s)",
			       path, strerror(e));
	case EXDEV:
		return vg_errf(err, "fanotify: %s: a mark is refused here "
			       "(a subvolume or an idmapped mount?) (%s)", path, strerror(e));
	case EPERM:
		return vg_errf(err, "fanotify: %s: marking needs CAP_SYS_ADMIN (%s)", path,
			       strerror(e));
	case ENOSPC:
		return vg_errf(err, "fanotify: %s: too many marks "
			       "(fs.fanotify.max_user_marks) (%s)", path, strerror(e));
	default:
		return vg_errf(err, "fanotify: marking %s: %s", path, strerror(e));
	}
}

/* A directory on path's filesystem: path, or the directory it is in. Not
 * O_PATH: open_by_handle_at refuses those as its mount_fd (EBADF). */
static int open_mount_fd(const char *path, const struct stat *st)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	char *dir;
	int fd;

	if (S_ISDIR(st->st_mode))
		return open(path, flags);
	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	fd = open(dir[0] ? dir : "/", flags);
	free(dir);
	return fd;
}

/* Remembers path's filesystem, for open_by_handle_at, unless it is known. */
static int fs_add(struct fan *f, const char *path, const struct stat *st, struct vg_err *err)
{
	struct statfs sfs;
	struct fan_fs fs;

	if (statfs(path, &sfs))
		return vg_errf(err, "fanotify: %s: %s", path, strerror(errno));
	if (fs_by_fsid(f, (const unsigned char *)&sfs.f_fsid))
		return 0;
	memcpy(fs.fsid, &sfs.f_fsid, 8);
	if ((fs.mfd = open_mount_fd(path, st)) < 0)
		return vg_errf(err, "fanotify: %s: %s", path, strerror(errno));
	fs.path = xstrdup(path);
	f->fs = xrealloc(f->fs, (f->nfs + 1) * sizeof(*f->fs));
	f->fs[f->nfs++] = fs;
	return 0;
}

/* The watched path itself must take a mark: else it is not watched at all,
 * and the caller is told. (The walk marks it again, and what is below.) */
static int mark_root(struct fan *f, const char *path, const struct stat *st, struct vg_err *err)
{
	int rc = S_ISDIR(st->st_mode) ? mark_add(f, f->dir_mask, AT_FDCWD, path)
				      : mark_file(f, path);

	return rc ? mark_error(err, path, errno) : 0;
}

/* Watches path: it, its parent's entries and every directory below it
 * marked, its files remembered. */
static int fan_add(struct fan *f, const char *path, struct vg_err *err)
{
	struct stat st;
	char *real;

	if (!path || path[0] != '/')
		return vg_errf(err, "fanotify: %s: not an absolute path", path ? path : "(null)");
	if (!(real = realpath(path, NULL)))
		return vg_errf(err, "fanotify: %s: %s", path, strerror(errno));
	if (lstat(real, &st)) {
		vg_errf(err, "fanotify: %s: %s", real, strerror(errno));
		free(real);
		return -1;
	}
	if (watched(f, real)) {
		free(real);
		return 0;
	}
	if (fs_add(f, real, &st, err) || mark_root(f, real, &st, err)) {
		free(real);
		return -1;
	}
	strv_push_owned(&f->roots, real);
	mark_parent(f, real);
	seed(f, real, false);
	return 0;
}

static int fan_watch(void *impl, const char *path, struct vg_err *err)
{
	return fan_add(impl, path, err);
}

static void fan_counters(void *impl, struct vg_counters *c)
{
	*c = ((struct fan *)impl)->c;
}

static void fan_close(void *impl)
{
	struct fan *f = impl;

	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->epfd >= 0)
		close(f->epfd);
	if (f->tfd >= 0)
		close(f->tfd);
	for (size_t i = 0; i < f->nfs; i++) {
		close(f->fs[i].mfd);
		free(f->fs[i].path);
	}
	free(f->fs);
	ht_free(&f->attrs, free);
	ht_free(&f->dirs, dent_free);
	ht_free(&f->marks, fmark_free);
	move_clear(&f->from);
	move_clear(&f->to);
	buf_free(&f->pa);
	buf_free(&f->pb);
	strv_free(&f->roots);
	strv_free(&f->ignore);
	free(f->win);
	free(f->buf);
	free(f);
}

static int init_error(struct vg_err *err, int e)
{
	switch (e) {
	case EPERM:
		return vg_errf(err, "fanotify: fanotify_init needs CAP_SYS_ADMIN (%s)", strerror(e));
	case EINVAL:
		return vg_errf(err, "fanotify: the kernel lacks directory-handle reporting "
			       "(FAN_REPORT_DFID_NAME, Linux 5.9) (%s)", strerror(e));
	case ENOSYS:
		return vg_errf(err, "fanotify: the kernel is built without fanotify (%s)",
			       strerror(e));
	case EMFILE:
		return vg_errf(err, "fanotify: too many fanotify groups or open files "
			       "(fs.fanotify.max_user_groups) (%s)", strerror(e));
	default:
		return vg_errf(err, "fanotify: fanotify_init: %s", strerror(e));
	}
}

/* The best reporting this kernel has (see the top of the file). */
static int fan_init(struct fan *f, struct vg_err *err)
{
	const unsigned base = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK;
	const unsigned evf = O_RDONLY | O_LARGEFILE | O_CLOEXEC;
	bool legacy = getenv("VIGIL_FANOTIFY_LEGACY") != NULL;

	f->fd = f->epfd = f->tfd = -1;
	if (!legacy) {
		f->fd = fanotify_init(base | FAN_REPORT_DFID_NAME_TARGET, evf);
		if (f->fd < 0 && errno != EINVAL)
			return init_error(err, errno);
		f->rename_ev = f->fd >= 0;
	}
	if (f->fd < 0 && (f->fd = fanotify_init(base | FAN_REPORT_DFID_NAME, evf)) < 0)
		return init_error(err, errno);
	set_masks(f);
	return 0;
}

static int batch_open(struct fan *f, unsigned ms, struct vg_err *err)
{
	struct epoll_event ev = {.events = EPOLLIN};

	f->batch_ms = ms;
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	f->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (f->epfd < 0 || f->tfd < 0 || epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->fd, &ev) ||
	    epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->tfd, &(struct epoll_event){.events = EPOLLIN}))
		return vg_errf(err, "fanotify: batching: %s", strerror(errno));
	return 0;
}

int fan_source_open(struct vg_source *s, const struct vg_source_opts *o, struct vg_err *err)
{
	struct fan *f = xcalloc(1, sizeof(*f));

	if (fan_init(f, err))
		goto fail;
	f->buf = xmalloc(FAN_BUF_SIZE);
	for (size_t i = 0; o->ignore_comm && i < o->ignore_comm->n; i++)
		strv_push(&f->ignore, o->ignore_comm->v[i]);
	for (size_t i = 0; o->paths && i < o->paths->n; i++)
		if (fan_add(f, o->paths->v[i], err))
			goto fail;
	/* Windows end at the timer that batches use. */
	if ((o->batch_ms || o->coalesce_ms) && batch_open(f, o->batch_ms, err))
		goto fail;
	if (o->coalesce_ms) {
		f->coalesce_ms = o->coalesce_ms;
		f->win = xcalloc(FAN_WINDOWS_MAX, sizeof(*f->win));
	}
	if (o->process_events)
		log_info("fanotify: no process events in this mode");
	log_info("fanotify: %zu path(s) on %zu filesystem(s), %zu directories marked; renames %s; "
		 "%zu paths remembered", f->roots.n, f->nfs, f->marks.n,
		 f->rename_ev ? "in one event" : "paired from two events", f->attrs.n);
	*s = (struct vg_source){
		.mode = VG_MODE_FANOTIFY,
		.impl = f,
		.fd = fan_fd,
		.poll = fan_poll,
		.watch = fan_watch,
		.counters = fan_counters,
		.close = fan_close,
	};
	return 0;
fail:
	fan_close(f);
	return -1;
}
