/*
 * events.h: the records the kernel side (events.bpf.c) writes into the ring
 * buffer, and the maps user space fills. Shared verbatim by both sides, so
 * it uses only fixed-width types and no kernel or libc headers.
 *
 * Every record starts with struct ev_hdr; hdr.kind says which one it is and
 * hdr.size how many bytes it has. Strings are NUL-terminated inside their
 * arrays; a string cut short sets EVF_*_TRUNC in hdr.flags.
 */
#ifndef VIGIL_BPF_EVENTS_H
#define VIGIL_BPF_EVENTS_H

#define EV_COMM_LEN 16
#define EV_PATH_LEN 512		/* one path; longer ones are cut and flagged */
#define EV_ARGS_LEN 1024	/* argv joined by NULs */
#define EV_PATH_DEPTH 48	/* dentry components named at most */
#define EV_MAX_PREFIX 256	/* bytes of a watched path prefix */

enum ev_kind {
	EV_EXEC = 1,
	EV_FORK,
	EV_EXIT,
	EV_CREATE,		/* open(O_CREAT) that made a file, mknod */
	EV_MODIFY,		/* closed after a write */
	EV_DELETE,		/* unlink */
	EV_RENAME,		/* path -> path2 */
	EV_CHMOD,
	EV_CHOWN,
	EV_TRUNCATE,		/* truncate, ftruncate, open(O_TRUNC) */
	EV_LINK,		/* hard link: path2 is the new name */
	EV_SYMLINK,		/* path2 is the new name, path the target text */
	EV_MKDIR,
	EV_RMDIR,
	EV_SETXATTR,		/* path, xattr name in path2 */
	EV_KIND_MAX,
};

enum ev_flags {
	EVF_PATH_TRUNC = 1 << 0,	/* path cut at EV_PATH_LEN or EV_PATH_DEPTH */
	EVF_PATH2_TRUNC = 1 << 1,
	EVF_ARGS_TRUNC = 1 << 2,
	EVF_PATH_RELATIVE = 1 << 3,	/* could not be made absolute in the kernel */
	EVF_SIGNALED = 1 << 4,		/* exit: code is the signal number */
};

/* Per-CPU drop counters, indexed by cause. */
enum ev_drop {
	DROP_RINGBUF_FULL,	/* bpf_ringbuf_reserve failed: an event was lost */
	DROP_PATH_TRUNC,	/* an event went out with a cut path */
	DROP_MAP_FULL,		/* per-thread scratch state could not be kept */
	DROP_MAX,
};

struct ev_hdr {
	unsigned int kind;
	unsigned int size;
	unsigned long long ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	unsigned int pid, tgid, ppid;		/* tid, process, parent process */
	unsigned int uid, gid, euid, auid;	/* auid: login uid, -1 if unset */
	unsigned int flags;
	unsigned long long cgroup_id;
	char comm[EV_COMM_LEN];
};

struct ev_exec {
	struct ev_hdr h;
	unsigned long long start_ns;	/* task start, CLOCK_MONOTONIC */
	unsigned int mntns;		/* mount namespace inode */
	unsigned int args_len;		/* bytes used in args */
	char path[EV_PATH_LEN];		/* the executable, absolute */
	char cwd[EV_PATH_LEN];
	char args[EV_ARGS_LEN];
};

struct ev_fork {
	struct ev_hdr h;		/* h.pid/tgid: the child; h.ppid: the parent */
	unsigned long long start_ns;
};

struct ev_exit {
	struct ev_hdr h;
	int code;			/* exit status, or signal with EVF_SIGNALED */
};

/* A file record ends where its paths do: one with no path2 may stop
 * after path's NUL (h.size says where), so the ring carries what a path
 * needs, not EV_PATH_LEN twice. */
struct ev_file {
	struct ev_hdr h;
	int ret;			/* the syscall's return value */
	unsigned int mode;		/* chmod, mkdir, create */
	unsigned int uid, gid;		/* chown (-1: unchanged) */
	unsigned long long ino;		/* of path's file, when known */
	unsigned int dev;
	char path[EV_PATH_LEN];
	char path2[EV_PATH_LEN];
};

#define EV_FILE_MIN (__builtin_offsetof(struct ev_file, path) + 1)

/* Map keys and values user space writes. */
struct watch_inode {			/* key of the watched-inode hash */
	unsigned long long ino;
	unsigned int dev;		/* new_encode_dev(sb->s_dev) as stat(2) shows it */
	unsigned int pad;
};

struct watch_prefix {			/* key of the watched-prefix LPM trie */
	unsigned int prefixlen;		/* in bits */
	char path[EV_MAX_PREFIX];	/* absolute, ending in '/' */
};

#endif
