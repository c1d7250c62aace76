// SPDX-License-Identifier: GPL-2.0
/*
 * events.bpf.c: process and file events from tracepoints only.
 *
 * Kprobes, fentry/fexit and BPF-LSM are refused on many production kernels;
 * tracepoints load wherever BTF exists (DESIGN.md, decision 2). So file
 * activity is seen at the syscall boundary: tp_btf/sys_enter decides whether
 * a syscall touches a watched file and keeps what it needs per thread;
 * tp_btf/sys_exit emits the event if the syscall succeeded. Opens are
 * seen at exit only, by the file they opened. Process events
 * come from the sched_process_{exec,fork,exit} tracepoints.
 *
 * Every syscall of the machine runs sys_enter and sys_exit, so both start
 * with one bounds check and one byte load from a read-only table.
 *
 * Filtering happens here, so an unwatched syscall never reaches user space:
 *   - watched_inodes: (dev, ino) of watched files and directories. A file
 *     known by a struct file (the fd open returned, fchmod's fd, close's fd)
 *     or the directory a relative name starts from is watched when it or an
 *     ancestor (EV_PATH_DEPTH levels, across mounts) is in the map.
 *   - watched_prefixes: absolute path prefixes ending in '/'. A pathname is
 *     made absolute (after the task's root, the dirfd's path or the cwd's)
 *     and looked up with a '/' appended.
 * A name with a ".." component, or a start directory deeper than the walk
 * can follow, cannot be decided here: the event goes out with
 * EVF_PATH_RELATIVE and user space decides it lexically.
 *
 * Paths come from a dentry walk: d_name of each level up to the root of its
 * mount, then on from the mountpoint in the parent mount (struct mount's
 * mnt_parent and mnt_mountpoint), up to the root of the task's mount
 * namespace. A path is as the task's namespace sees it.
 *
 * Created or existed: open(O_CREAT) is EV_CREATE only if do_open() marked
 * the file FMODE_CREATED, i.e. this very open made it; O_EXCL or not, a
 * race with another creator is told right. mknod is always a create.
 *
 * Modify: an open with write access of a watched file puts its struct file
 * in wfds; a write-family syscall on any fd of that open file marks it
 * written; an fd of it going away after a write (close, dup2/dup3 over it,
 * the exit of the last task of its file table) is EV_MODIFY. Not seen:
 * writes through mmap or io_uring, and fds closed by exec (O_CLOEXEC).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

#ifndef __TARGET_ARCH_x86
#error "the syscall table below holds x86_64 syscall numbers"
#endif

char LICENSE[] SEC("license") = "GPL";

/* Macros of the kernel's and libc's headers: not in BTF, stable ABI. */
#define AT_FDCWD	-100
#define AT_REMOVEDIR	0x200
#define O_ACCMODE	00000003
#define O_CREAT		00000100
#define O_TRUNC		00001000
#define FMODE_WRITE	0x2
#define S_IFMT		0170000
#define S_IFREG		0100000
#define TS_COMPAT	0x0002		/* thread_info.status: an ia32 syscall */
#define NAME_MAX	255

/* ---- knobs user space sets before load --------------------------------- */

const volatile bool process_events = true;
const volatile bool has_ignored = false;	/* ignored_comm is not empty */
const volatile __u32 host_mntns = 0;		/* the sensor's mount namespace */
/* FMODE_CREATED: do_open() sets it when the open made the file. Bit 20
 * from 4.19 on; a knob in case a kernel moves it. */
const volatile __u32 fmode_created = 0x100000;

/* ---- the syscall table -------------------------------------------------- */

enum sc_type {
	T_NONE,
	T_OPEN,		/* open family: decided at exit only, by the file opened */
	T_PATH,		/* decided at enter by path or fd, emitted at exit */
	T_WRITE,	/* marks a tracked file written */
	T_CLOSE,	/* an fd of a written tracked file goes: EV_MODIFY */
	T_GEN,		/* changes the mount tree: bumps watch_gen at exit */
};

/* Where one path of a syscall comes from: arg indices, -1 for none. No
 * name means the fd's own file; no fd means the cwd (AT_FDCWD). */
struct sc_path {
	__s8 fd, name;
};

struct sc_desc {
	__u8 type;		/* enum sc_type */
	__u8 kind;		/* enum ev_kind */
	struct sc_path p1;	/* resolved into path */
	struct sc_path p2;	/* resolved into path2 */
	__s8 raw;		/* arg copied as is: symlink target, xattr name */
	__u8 raw_slot;		/* 1: into path, 2: into path2 */
	__s8 mode;		/* arg index of a mode, or open's flags */
	__s8 uid;		/* arg index of a uid; the gid follows */
};

#define SC_MAX 512		/* above every id in the table */
#define NOP {-1, -1}
#define CWD(n) {-1, n}
#define AT(d, n) {d, n}
#define FD(d) {d, -1}
#define OPEN(p, flags) {T_OPEN, 0, p, NOP, -1, 0, flags, -1}
#define WR(fdarg) {T_WRITE, 0, FD(fdarg), NOP, -1, 0, -1, -1}
#define PATH1(k, p) {T_PATH, k, p, NOP, -1, 0, -1, -1}
#define PATH2(k, p, q) {T_PATH, k, p, q, -1, 0, -1, -1}
#define MODE(k, p, m) {T_PATH, k, p, NOP, -1, 0, m, -1}
#define OWNER(p, u) {T_PATH, EV_CHOWN, p, NOP, -1, 0, -1, u}
#define SYMLINK(q) {T_PATH, EV_SYMLINK, NOP, q, 0, 1, -1, -1}
#define XATTR(p, r) {T_PATH, EV_SETXATTR, p, NOP, r, 2, -1, -1}
#define GEN {T_GEN, 0, NOP, NOP, -1, 0, -1, -1}

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
enum {
	NR_write = 1, NR_open = 2, NR_close = 3, NR_pwrite64 = 18, NR_writev = 20,
	NR_dup2 = 33, NR_sendfile = 40, NR_truncate = 76, NR_ftruncate = 77, NR_rename = 82,
	NR_mkdir = 83, NR_rmdir = 84, NR_creat = 85, NR_link = 86, NR_unlink = 87,
	NR_symlink = 88, NR_chmod = 90, NR_fchmod = 91, NR_chown = 92,
	NR_fchown = 93, NR_lchown = 94, NR_mknod = 133, NR_pivot_root = 155,
	NR_mount = 165, NR_umount2 = 166, NR_setxattr = 188,
	NR_lsetxattr = 189, NR_fsetxattr = 190, NR_openat = 257, NR_mkdirat = 258,
	NR_mknodat = 259, NR_fchownat = 260, NR_unlinkat = 263, NR_renameat = 264,
	NR_linkat = 265, NR_symlinkat = 266, NR_fchmodat = 268, NR_splice = 275,
	NR_fallocate = 285, NR_dup3 = 292, NR_pwritev = 296, NR_renameat2 = 316,
	NR_copy_file_range = 326, NR_pwritev2 = 328, NR_move_mount = 429, NR_openat2 = 437,
	NR_fchmodat2 = 452, NR_setxattrat = 463,
};

/* .rodata, frozen at load: one bounds check and one load reject the rest. */
static const volatile struct sc_desc sc_table[SC_MAX] = {
	[NR_open] = OPEN(CWD(0), 1),
	[NR_openat] = OPEN(AT(0, 1), 2),
	[NR_openat2] = OPEN(AT(0, 1), -1),	/* flags in struct open_how */
	[NR_creat] = OPEN(CWD(0), -1),		/* O_CREAT|O_WRONLY|O_TRUNC */
	[NR_write] = WR(0), [NR_pwrite64] = WR(0), [NR_writev] = WR(0),
	[NR_pwritev] = WR(0), [NR_pwritev2] = WR(0), [NR_fallocate] = WR(0),
	[NR_sendfile] = WR(0), [NR_splice] = WR(2), [NR_copy_file_range] = WR(2),
	[NR_close] = {T_CLOSE, EV_MODIFY, FD(0), NOP, -1, 0, -1, -1},
	/* dup2 and dup3 close newfd first: a shell's "echo x > f" ends so. */
	[NR_dup2] = {T_CLOSE, EV_MODIFY, FD(1), NOP, -1, 0, -1, -1},
	[NR_dup3] = {T_CLOSE, EV_MODIFY, FD(1), NOP, -1, 0, -1, -1},
	[NR_unlink] = PATH1(EV_DELETE, CWD(0)),
	[NR_unlinkat] = PATH1(EV_DELETE, AT(0, 1)),	/* AT_REMOVEDIR: rmdir */
	[NR_rmdir] = PATH1(EV_RMDIR, CWD(0)),
	[NR_rename] = PATH2(EV_RENAME, CWD(0), CWD(1)),
	[NR_renameat] = PATH2(EV_RENAME, AT(0, 1), AT(2, 3)),
	[NR_renameat2] = PATH2(EV_RENAME, AT(0, 1), AT(2, 3)),
	[NR_chmod] = MODE(EV_CHMOD, CWD(0), 1),
	[NR_fchmod] = MODE(EV_CHMOD, FD(0), 1),
	[NR_fchmodat] = MODE(EV_CHMOD, AT(0, 1), 2),
	[NR_fchmodat2] = MODE(EV_CHMOD, AT(0, 1), 2),
	[NR_chown] = OWNER(CWD(0), 1),
	[NR_lchown] = OWNER(CWD(0), 1),
	[NR_fchown] = OWNER(FD(0), 1),
	[NR_fchownat] = OWNER(AT(0, 1), 2),
	[NR_truncate] = PATH1(EV_TRUNCATE, CWD(0)),
	[NR_ftruncate] = PATH1(EV_TRUNCATE, FD(0)),
	[NR_link] = PATH2(EV_LINK, CWD(0), CWD(1)),
	[NR_linkat] = PATH2(EV_LINK, AT(0, 1), AT(2, 3)),
	[NR_symlink] = SYMLINK(CWD(1)),
	[NR_symlinkat] = SYMLINK(AT(1, 2)),
	[NR_mkdir] = MODE(EV_MKDIR, CWD(0), 1),
	[NR_mkdirat] = MODE(EV_MKDIR, AT(0, 1), 2),
	[NR_mknod] = MODE(EV_CREATE, CWD(0), 1),
	[NR_mknodat] = MODE(EV_CREATE, AT(0, 1), 2),
	[NR_setxattr] = XATTR(CWD(0), 1),
	[NR_lsetxattr] = XATTR(CWD(0), 1),
	[NR_fsetxattr] = XATTR(FD(0), 1),
	[NR_setxattrat] = XATTR(AT(0, 1), 3),
	[NR_mount] = GEN, [NR_umount2] = GEN, [NR_move_mount] = GEN, [NR_pivot_root] = GEN,
};

/* ---- maps --------------------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);		/* user space may change it */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct watch_inode);
	__type(value, __u8);
} watched_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct watch_prefix);
	__type(value, __u8);
} watched_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[EV_COMM_LEN]);
	__type(value, __u8);
} ignored_comm SEC(".maps");

/* A path or fd syscall on a watched file, between enter and exit. */
struct pend_file {
	__u32 id;
	__u32 pad;
	struct ev_file f;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);			/* tid */
	__type(value, struct pend_file);
} pending_ev SEC(".maps");

/*
 * Watched files open for writing, keyed by the open file (struct file),
 * not by fd: a shell opens, dup2s onto fd 1 and closes the first fd, a
 * forked child writes to the inherited one. Tracepoints never see the
 * last reference go, so an entry stays after a close (LRU bounds them);
 * a stale one is harmless, since an event is only sent after the file is
 * found watched again.
 */
struct wfd {
	__u32 written;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);			/* struct file * */
	__type(value, struct wfd);
} wfds SEC(".maps");

/*
 * The file tables (struct files_struct) that hold a file in wfds: a write
 * or close through any other table is done with after one lookup here,
 * before the fd is looked up. A table is marked when an open through it
 * lands in wfds, and a fork's copy when its parent's is marked; it goes
 * when the last task using it exits. Not seen: a tracked file passed to
 * another process over a socket (SCM_RIGHTS) or with pidfd_getfd, and a
 * table that exec unshares from threads.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);			/* struct files_struct * */
	__type(value, __u8);
} wtables SEC(".maps");

/*
 * The "watched?" verdict of a directory, for opens with write intent: most
 * of them are of unwatched files, and walking every ancestor of each costs
 * more than the open. Keyed by the directory's mount (its never reused
 * mnt_id_unique; the struct mount's address on kernels without one) and
 * inode number. An entry holds only while watch_gen is what it was when
 * the walk began. watch_gen goes up on every change that can alter the
 * ancestors of a directory or the meaning of a key:
 *   - user space changing watched_inodes (after the change);
 *   - the exit of a rename (a directory moved) or a rmdir (a directory's
 *     inode number freed for reuse), whether or not it succeeded;
 *   - the exit of mount, umount2, move_mount and pivot_root.
 * Bumped at exit, once the change is made: a walk that began before saw
 * an older generation, so its verdict is never used. A new mount has a
 * new mnt_id_unique, so nothing cached can name it. Not seen: changes
 * made by another machine on a network filesystem, and ia32 syscalls,
 * which this file ignores altogether (see sys_enter).
 */
struct dir_key {
	__u64 mnt;
	__u64 ino;
};

struct dir_verdict {
	__u64 gen;
	__u64 watched;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct dir_key);
	__type(value, struct dir_verdict);
} dir_cache SEC(".maps");

__u64 watch_gen;	/* .bss: user space bumps it too */

/* Too big for the 512-byte stack. One slot per program: a program never
 * runs nested in itself on one CPU, so no two runs share a slot. */
enum { SLOT_ENTER, SLOT_EXIT, SLOT_EXEC, SLOT_PEXIT, SLOT_MAX };

#define PB_LEN (2 * EV_PATH_LEN)	/* room for masked offsets */
#define PB_MASK (EV_PATH_LEN - 1)

/* A dentry walk and a name append; see path_of(). */
struct walk {
	__u64 d;		/* struct dentry *: the level to look at next */
	__u64 m;		/* struct mount *: its mount */
	__u32 n;		/* names kept */
	__u32 off;		/* bytes written to pb.path */
	bool check;		/* look levels up in watched_inodes */
	bool verdict_only;	/* check only: no names, stop when watched */
	bool watched;
	bool complete;		/* reached the root */
	bool names_full;	/* levels above the EV_PATH_DEPTH named ones */
	bool trunc;
	bool dotdot;		/* the name appended has a ".." */
	bool sep;		/* append: at the start of a component */
};

struct scratch {
	__u64 args[8];
	struct walk w;
	struct pend_file pf;
	struct ev_exec x;
	struct {			/* laid out as struct watch_prefix */
		__u32 prefixlen;
		char path[PB_LEN];
	} pb;
	char name[EV_PATH_LEN];		/* a pathname from user memory */
	__u64 names[EV_PATH_DEPTH];	/* d_name of each level, leaf first */
	__u32 lens[EV_PATH_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* ---- helpers ------------------------------------------------------------ */

static __always_inline struct scratch *scratch_get(__u32 slot)
{
	return bpf_map_lookup_elem(&scratch, &slot);
}

static __always_inline void drop(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &why);

	if (n)
		(*n)++;
}

/* bpf_ringbuf_output reserves, copies and commits: a failed reserve is
 * its failure. No wakeup (an irq_work, an IPI in a VM, for every record
 * when the reader keeps up) until an eighth of the ring waits: the reader
 * also drains the ring on a 10 ms timer (src_bpf.c). */
static __always_inline void emit(void *rec, __u64 size, __u32 flags)
{
	__u32 kind = ((struct ev_hdr *)rec)->kind;
	__u64 wake = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
	    bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 8)
		wake = BPF_RB_FORCE_WAKEUP;
	/* User space re-reads a watched path's inode on these (an editor's
	 * save replaces it): no delay, or the old inode number, free for
	 * reuse, stays watched longer. */
	else if (kind == EV_CREATE || kind == EV_MKDIR || kind == EV_RENAME ||
		 kind == EV_LINK || kind == EV_SYMLINK)
		wake = 0;
	if (bpf_ringbuf_output(&events, rec, size, wake)) {
		drop(DROP_RINGBUF_FULL);
		return;
	}
	if (flags & (EVF_PATH_TRUNC | EVF_PATH2_TRUNC))
		drop(DROP_PATH_TRUNC);
}

/* st_dev as stat(2) shows it: new_encode_dev() of the kernel's dev_t. */
static __always_inline __u32 encode_dev(__u32 dev)
{
	__u32 major = dev >> 20, minor = dev & 0xfffff;

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

static __always_inline __u32 task_auid(struct task_struct *t)
{
	if (bpf_core_field_exists(t->loginuid))
		return t->loginuid.val;
	return (__u32)-1;		/* kernel without CONFIG_AUDIT */
}

/* The one place an event header is filled, for every kind. */
/* t is a BTF pointer (a tracepoint's argument, bpf_get_current_task_btf):
 * plain loads, which the verifier guards, cost far less than a helper call
 * per field, and every event pays them. */
static __always_inline void hdr_fill(struct ev_hdr *h, __u32 kind, __u32 size, __u32 flags,
				     struct task_struct *t)
{
	const struct cred *c = t->cred;

	h->kind = kind;
	h->size = size;
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = t->pid;
	h->tgid = t->tgid;
	h->ppid = t->real_parent->tgid;
	h->uid = c->uid.val;
	h->gid = c->gid.val;
	h->euid = c->euid.val;
	h->auid = task_auid(t);
	h->flags = flags;
	/* The current task's; a fork child is in its parent's cgroup. */
	h->cgroup_id = bpf_get_current_cgroup_id();
	BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
}

static __always_inline bool comm_ignored(struct task_struct *t)
{
	char comm[EV_COMM_LEN] = {};	/* zero-padded: it is a hash key */

	if (!has_ignored)
		return false;
	BPF_CORE_READ_STR_INTO(&comm, t, comm);
	return bpf_map_lookup_elem(&ignored_comm, comm) != NULL;
}

/* t comes from bpf_get_current_task_btf(): its fields are read with
 * plain loads the verifier guards, not a helper call per field (the path
 * every write-intent open of the machine takes). */
static __always_inline struct file *fd_file(struct task_struct *t, long fd)
{
	struct files_struct *files = t->files;
	struct fdtable *fdt = files ? files->fdt : NULL;
	struct file *f = NULL;

	if (fd < 0 || !fdt || fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]))
		return NULL;
	return f;
}

static __always_inline struct mount *real_mount(struct vfsmount *mnt)
{
	return (void *)mnt - bpf_core_field_offset(struct mount, mnt);
}

static __always_inline bool inode_watched(struct dentry *d)
{
	struct inode *ino = BPF_CORE_READ(d, d_inode);
	struct watch_inode k = {};

	if (!ino)
		return false;
	k.ino = BPF_CORE_READ(ino, i_ino);
	k.dev = encode_dev(BPF_CORE_READ(ino, i_sb, s_dev));
	return bpf_map_lookup_elem(&watched_inodes, &k) != NULL;
}

/* ---- path building ------------------------------------------------------
 *
 * Two passes. walk_up goes from a dentry to the root of its mount
 * namespace, crossing each mount root to the mountpoint in the parent
 * mount, keeping the name of each level (and looking each level up in
 * watched_inodes when asked). walk_down then writes the names root first,
 * so a path cut at EV_PATH_LEN keeps its top, which is what the prefix
 * filter and a reader need.
 *
 * Only EV_PATH_DEPTH levels are named, but the inode checks go on up to
 * WALK_STEPS levels: a file deep below a watched directory is still seen,
 * with the bottom of its path, no leading '/' and EVF_PATH_TRUNC.
 */

/* The walk's state lives in the scratch map value, not on the stack: the
 * verifier does not track map contents, so every step of a bpf_loop starts
 * from the same state, and verifying the callback converges at once
 * whatever the count. */
struct wctx {
	struct scratch *s;
};

#define WALK_STEPS 512		/* levels and mount crossings */

static long walk_up(__u32 i, void *ctx)
{
	struct scratch *s = ((struct wctx *)ctx)->s;
	struct walk *w = &s->w;
	struct dentry *d = (void *)w->d, *parent;
	struct mount *m = (void *)w->m, *up;
	__u32 n = w->n;

	if (!d || !m)
		return 1;
	if (w->check && !w->watched && inode_watched(d)) {
		w->watched = true;
		if (w->verdict_only)
			return 1;
	}
	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		up = BPF_CORE_READ(m, mnt_parent);
		if (!up || up == m) {	/* the namespace's root mount */
			w->complete = true;
			return 1;
		}
		w->d = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		w->m = (__u64)up;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {	/* a root that is no mount's root */
		w->complete = true;
		return 1;
	}
	if (w->verdict_only) {
		/* no names */
	} else if (n < EV_PATH_DEPTH) {
		s->names[n] = (__u64)BPF_CORE_READ(d, d_name.name);
		s->lens[n] = BPF_CORE_READ(d, d_name.len);
		w->n = n + 1;
	} else {
		w->names_full = true;
	}
	w->d = (__u64)parent;
	return 0;
}

static long walk_down(__u32 i, void *ctx)
{
	struct scratch *s = ((struct wctx *)ctx)->s;
	struct walk *w = &s->w;
	__u32 k = w->n - 1 - i, off = w->off, len, room;

	if (k >= EV_PATH_DEPTH || off >= EV_PATH_LEN - 2) {
		w->trunc = true;
		return 1;
	}
	if (off > 0 || (w->complete && !w->names_full))
		s->pb.path[off++ & PB_MASK] = '/';
	len = s->lens[k];
	room = EV_PATH_LEN - 1 - off;
	if (len > NAME_MAX)
		len = NAME_MAX;
	if (len > room) {
		len = room;
		w->trunc = true;
	}
	bpf_probe_read_kernel(&s->pb.path[off & PB_MASK], len & NAME_MAX, (void *)s->names[k]);
	w->off = off + len;
	return 0;
}

/* Writes the path of (mnt, d) to s->pb.path; s->w says how it went. */
static __always_inline void path_of(struct scratch *s, struct vfsmount *mnt, struct dentry *d,
				    bool check)
{
	struct wctx c = {.s = s};
	struct walk *w = &s->w;
	__u32 off;

	__builtin_memset(w, 0, sizeof(*w));
	w->d = (__u64)d;
	w->m = (__u64)real_mount(mnt);
	w->check = check;
	bpf_loop(WALK_STEPS, walk_up, &c, 0);
	if (w->n > 0)
		bpf_loop(w->n, walk_down, &c, 0);
	off = w->off;
	if (off == 0 && w->complete)
		s->pb.path[off++ & PB_MASK] = '/';
	s->pb.path[off & PB_MASK] = '\0';
	w->off = off;
	if (!w->complete || w->names_full)
		w->trunc = true;
}

/* Is (mnt, d) or an ancestor in watched_inodes? The walk of path_of()
 * without the names, stopping at the first watched level. */
static __always_inline bool walk_watched(struct scratch *s, struct mount *m, struct dentry *d)
{
	struct wctx c = {.s = s};
	struct walk *w = &s->w;

	__builtin_memset(w, 0, sizeof(*w));
	w->d = (__u64)d;
	w->m = (__u64)m;
	w->check = true;
	w->verdict_only = true;
	bpf_loop(WALK_STEPS, walk_up, &c, 0);
	return w->watched;
}

static __always_inline __u64 mount_key(struct mount *m)
{
	if (bpf_core_field_exists(m->mnt_id_unique))
		return BPF_CORE_READ(m, mnt_id_unique);
	return (__u64)m;
}

/* Is an open file watched, by its inode or an ancestor's? The file's own
 * inode is looked up every time; its directory's verdict comes from
 * dir_cache when it is of the current watch_gen. */
static __always_inline bool file_watched(struct scratch *s, struct file *file)
{
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry), *parent;
	struct vfsmount *mnt = BPF_CORE_READ(file, f_path.mnt);
	struct mount *m = real_mount(mnt);
	struct dir_verdict v, *c;
	struct dir_key k = {};
	__u64 gen;

	if (!d)
		return false;
	if (inode_watched(d))
		return true;
	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d || d == BPF_CORE_READ(mnt, mnt_root))
		return walk_watched(s, m, d);	/* a mount's root: no cache */
	k.mnt = mount_key(m);
	k.ino = BPF_CORE_READ(parent, d_inode, i_ino);
	gen = *(volatile __u64 *)&watch_gen;	/* before the walk */
	c = bpf_map_lookup_elem(&dir_cache, &k);
	if (c && c->gen == gen)
		return c->watched;
	v.gen = gen;
	v.watched = walk_watched(s, m, parent);
	bpf_map_update_elem(&dir_cache, &k, &v, BPF_ANY);
	return v.watched;
}

/*
 * Appends s->name to the path in s->pb, one byte per step: empty and "."
 * components are dropped, so "a//./b" and "a/b" give one path; a ".."
 * component is kept and flagged, since only a lookup could resolve it.
 */
static long norm_step(__u32 i, void *ctx)
{
	struct scratch *s = ((struct wctx *)ctx)->s;
	struct walk *w = &s->w;
	__u32 off = w->off;
	char ch = s->name[i & PB_MASK], n1, n2;

	if (ch == '\0')
		return 1;
	if (w->sep) {
		if (ch == '/')
			return 0;
		if (ch == '.') {
			n1 = s->name[(i + 1) & PB_MASK];
			if (n1 == '/' || n1 == '\0')
				return 0;
			n2 = s->name[(i + 2) & PB_MASK];
			if (n1 == '.' && (n2 == '/' || n2 == '\0'))
				w->dotdot = true;
		}
		w->sep = false;
		if (off == 0 || s->pb.path[(off - 1) & PB_MASK] != '/') {
			if (off >= EV_PATH_LEN - 1)
				goto full;
			s->pb.path[off++ & PB_MASK] = '/';
		}
	} else if (ch == '/') {
		w->sep = true;
		return 0;
	}
	if (off >= EV_PATH_LEN - 1)
		goto full;
	s->pb.path[off++ & PB_MASK] = ch;
	w->off = off;
	return 0;
full:
	w->off = off;
	w->trunc = true;
	return 1;
}

static __always_inline void append_name(struct scratch *s)
{
	struct wctx c = {.s = s};

	s->w.sep = true;
	bpf_loop(EV_PATH_LEN, norm_step, &c, 0);
	s->pb.path[s->w.off & PB_MASK] = '\0';
}

/* Is s->pb.path (s->w.off bytes) under a watched prefix? */
static __always_inline bool prefix_watched(struct scratch *s)
{
	__u32 len = s->w.off & PB_MASK, n = len + 1;
	bool hit;

	s->pb.path[len] = '/';
	if (n > EV_MAX_PREFIX)
		n = EV_MAX_PREFIX;
	s->pb.prefixlen = n * 8;
	hit = bpf_map_lookup_elem(&watched_prefixes, &s->pb) != NULL;
	s->pb.path[len] = '\0';
	return hit;
}

static __always_inline bool foreign_mntns(struct task_struct *t)
{
	return host_mntns && BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum) != host_mntns;
}

/* What resolve() learnt about one path. */
struct resolved {
	bool ok;		/* false: the syscall is bound to fail */
	bool watched;
	bool relative;		/* undecidable here: user space decides */
	bool trunc;
	struct file *file;	/* the target, when known by an fd */
};

/*
 * Builds in s->pb the absolute path a syscall will act on, from an fd, or
 * from a pathname taken after the task's root (absolute), the dirfd's
 * directory or the cwd (relative); decides whether it is watched.
 *
 * The start directory is walked with inode checks, so a relative name
 * under a watched directory is caught whatever path reached it (a
 * symlinked cwd, a bind mount, another mount namespace). The prefix
 * lookup catches absolute names and watched files; it is skipped for tasks
 * in another mount namespace, whose paths are not the sensor's.
 */
static __always_inline struct resolved resolve(struct scratch *s, struct task_struct *t,
					       __s8 fdarg, __s8 namearg, bool foreign)
{
	struct resolved r = {};
	bool named = false;
	long fd = AT_FDCWD;
	struct vfsmount *mnt;
	struct dentry *d;

	if (fdarg >= 0)
		fd = (int)s->args[fdarg & 7];
	if (namearg >= 0) {
		long n = bpf_probe_read_user_str(s->name, EV_PATH_LEN,
						 (void *)s->args[namearg & 7]);

		if (n < 0)
			return r;	/* EFAULT for the syscall too */
		if (n == EV_PATH_LEN)
			r.trunc = true;
		named = s->name[0] != '\0';
	}
	if (named && s->name[0] == '/') {
		mnt = BPF_CORE_READ(t, fs, root.mnt);
		d = BPF_CORE_READ(t, fs, root.dentry);
	} else if (fd != AT_FDCWD) {
		struct file *file = fd_file(t, fd);

		if (!file)
			return r;	/* EBADF */
		mnt = BPF_CORE_READ(file, f_path.mnt);
		d = BPF_CORE_READ(file, f_path.dentry);
		r.file = file;
	} else {
		mnt = BPF_CORE_READ(t, fs, pwd.mnt);
		d = BPF_CORE_READ(t, fs, pwd.dentry);
	}
	path_of(s, mnt, d, true);
	if (named) {
		append_name(s);
		r.file = NULL;	/* the dirfd's file is not the target */
	}
	r.ok = true;
	r.watched = s->w.watched;
	/* A path missing its top can still be decided by inode, not by
	 * prefix; one that never reached the root, not at all. */
	if (s->w.dotdot || !s->w.complete)
		r.relative = true;
	else if (!r.watched && !foreign && !s->w.names_full)
		r.watched = prefix_watched(s);
	r.trunc = r.trunc || s->w.trunc;
	return r;
}

/* ---- syscalls ----------------------------------------------------------- */

static __always_inline void read_args(struct scratch *s, struct pt_regs *regs)
{
	/* tp_btf: regs is a trusted pointer, read like memory (CO-RE offsets). */
	s->args[0] = regs->di;
	s->args[1] = regs->si;
	s->args[2] = regs->dx;
	s->args[3] = regs->r10;
	s->args[4] = regs->r8;
	s->args[5] = regs->r9;
}

static __always_inline void copy_path(char *dst, struct scratch *s)
{
	bpf_probe_read_kernel(dst, EV_PATH_LEN, s->pb.path);
}

/* A path or fd syscall: decide now, keep the event for sys_exit. */
static __always_inline void path_enter(struct scratch *s, struct task_struct *t, __u32 id,
				       __u32 tid)
{
	const volatile struct sc_desc *sd = &sc_table[id & (SC_MAX - 1)];
	struct ev_file *f = &s->pf.f;
	bool foreign = foreign_mntns(t), watched = false, relative = false;
	__u32 flags = 0;
	__s8 raw = sd->raw, m = sd->mode, u = sd->uid;
	struct resolved r;

	f->path[0] = '\0';
	f->path2[0] = '\0';
	f->ino = 0;
	f->dev = 0;
	if (sd->p1.fd >= 0 || sd->p1.name >= 0) {
		r = resolve(s, t, sd->p1.fd, sd->p1.name, foreign);
		if (!r.ok)
			return;
		copy_path(f->path, s);
		watched |= r.watched;
		relative |= r.relative;
		if (r.trunc)
			flags |= EVF_PATH_TRUNC;
		if (r.file) {
			struct file *file = r.file;	/* no CO-RE on struct resolved */
			struct inode *ino = BPF_CORE_READ(file, f_inode);

			f->ino = BPF_CORE_READ(ino, i_ino);
			f->dev = encode_dev(BPF_CORE_READ(ino, i_sb, s_dev));
		}
	}
	if (sd->p2.fd >= 0 || sd->p2.name >= 0) {
		r = resolve(s, t, sd->p2.fd, sd->p2.name, foreign);
		if (!r.ok)
			return;
		copy_path(f->path2, s);
		watched |= r.watched;
		relative |= r.relative;
		if (r.trunc)
			flags |= EVF_PATH2_TRUNC;
	}
	/* A ".." cannot be decided in another namespace either: drop it. */
	if (!watched && (!relative || foreign))
		return;
	if (relative)
		flags |= EVF_PATH_RELATIVE;
	if (raw >= 0) {
		char *dst = sd->raw_slot == 1 ? f->path : f->path2;
		long n = bpf_probe_read_user_str(dst, EV_PATH_LEN, (void *)s->args[raw & 7]);

		if (n < 0)
			return;
		if (n == EV_PATH_LEN)
			flags |= sd->raw_slot == 1 ? EVF_PATH_TRUNC : EVF_PATH2_TRUNC;
	}
	f->h.kind = sd->kind;
	if (id == NR_unlinkat && (s->args[2] & AT_REMOVEDIR))
		f->h.kind = EV_RMDIR;
	f->h.flags = flags;
	f->mode = m >= 0 ? (__u32)s->args[m & 7] : 0;
	f->uid = u >= 0 ? (__u32)s->args[u & 7] : (__u32)-1;
	f->gid = u >= 0 ? (__u32)s->args[(u + 1) & 7] : (__u32)-1;
	s->pf.id = id;
	if (bpf_map_update_elem(&pending_ev, &tid, &s->pf, BPF_ANY))
		drop(DROP_MAP_FULL);
}

static __always_inline void write_enter(struct scratch *s, struct task_struct *t, __s8 fdarg)
{
	__u64 file = (__u64)fd_file(t, (int)s->args[fdarg & 7]);
	struct wfd *v;

	if (!file)
		return;
	v = bpf_map_lookup_elem(&wfds, &file);
	if (v && !v->written)
		v->written = 1;
}

/* Fills s->pf.f for a file known by its struct file, and says how long
 * the record is (up to path's NUL); 0 if unwatched. */
static __always_inline __u32 file_event(struct scratch *s, struct file *file, __u32 kind,
					__u32 mode)
{
	struct ev_file *f = &s->pf.f;
	struct inode *ino = BPF_CORE_READ(file, f_inode);
	__u32 n;

	path_of(s, BPF_CORE_READ(file, f_path.mnt), BPF_CORE_READ(file, f_path.dentry), true);
	if (!s->w.watched)
		return 0;
	n = (s->w.off & PB_MASK) + 1;		/* with the NUL */
	bpf_probe_read_kernel(f->path, n, s->pb.path);
	f->path2[0] = '\0';
	f->mode = mode;
	f->uid = (__u32)-1;
	f->gid = (__u32)-1;
	f->ino = BPF_CORE_READ(ino, i_ino);
	f->dev = encode_dev(BPF_CORE_READ(ino, i_sb, s_dev));
	n += EV_FILE_MIN - 1;
	/* A file event is the current task's, also when an exit sweeps it. */
	hdr_fill(&f->h, kind, n, s->w.trunc ? EVF_PATH_TRUNC : 0, bpf_get_current_task_btf());
	return n;
}

/* An fd of a written tracked file goes: EV_MODIFY, and later writes
 * count anew. Done at enter, where the fd still names the file; close
 * releases the fd even when it reports an error. */
static __always_inline void fd_gone(struct scratch *s, struct task_struct *t, struct file *file)
{
	__u64 key = (__u64)file;
	__u32 n;
	struct wfd *v = bpf_map_lookup_elem(&wfds, &key);

	if (!v || !v->written)
		return;
	v->written = 0;
	s->pf.f.ret = 0;
	if ((n = file_event(s, file, EV_MODIFY, 0)))
		emit(&s->pf.f, n, s->pf.f.h.flags);
}

static __always_inline void close_enter(struct scratch *s, struct task_struct *t, __u32 id)
{
	int fd = (int)s->args[sc_table[id & (SC_MAX - 1)].p1.fd & 7];
	struct file *file;

	if (id == NR_dup2 && (int)s->args[0] == fd)
		return;		/* dup2(fd, fd) closes nothing */
	file = fd_file(t, fd);
	if (file)
		fd_gone(s, t, file);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *t;
	struct scratch *s;
	__u32 tid;
	__u8 type;

	if ((unsigned long)id >= SC_MAX)
		return 0;
	type = sc_table[id].type;
	if (type == T_NONE || type == T_OPEN || type == T_GEN)
		return 0;	/* nothing to do before the syscall */

	t = bpf_get_current_task_btf();
	if (type != T_PATH) {
		/* Write and close matter only where a tracked file is open. */
		__u64 files = (__u64)t->files;

		if (!bpf_map_lookup_elem(&wtables, &files))
			return 0;
	}
	if (bpf_core_field_exists(t->thread_info.status) && (t->thread_info.status & TS_COMPAT))
		return 0;	/* ia32 numbers are not x86_64's */
	if (comm_ignored(t))
		return 0;
	s = scratch_get(SLOT_ENTER);
	if (!s)
		return 0;
	read_args(s, regs);
	tid = (__u32)bpf_get_current_pid_tgid();

	switch (type) {
	case T_WRITE:
		write_enter(s, t, sc_table[id].p1.fd);
		break;
	case T_CLOSE:
		close_enter(s, t, id);
		break;
	case T_PATH:
		path_enter(s, t, id, tid);
		break;
	}
	return 0;
}

/*
 * The open's flags, at exit: the syscall's arguments are still in regs
 * (only ax holds the return value). openat2's are in user memory, read
 * again; what they say only sorts a write-intent open into create,
 * truncate or modify, the file's f_mode says the rest.
 */
static __always_inline __u32 open_flags(__u64 arg1, __u64 arg2, __u32 id)
{
	__u64 fl = 0;	/* struct open_how starts with __u64 flags */

	if (id == NR_creat)
		return O_CREAT | O_TRUNC | 1;
	if (id == NR_open)
		return (__u32)arg1;
	if (id == NR_openat)
		return (__u32)arg2;
	if (bpf_probe_read_user(&fl, sizeof(fl), (void *)arg2))
		return 0;
	return (__u32)fl;
}

/* An LRU update allocates a node even when the key is there: look first. */
static __always_inline void track(struct task_struct *t, struct file *file)
{
	__u64 key = (__u64)file, files = (__u64)t->files;
	struct wfd v = {}, *old = bpf_map_lookup_elem(&wfds, &key);
	__u8 one = 1;

	if (old)
		old->written = 0;
	else if (bpf_map_update_elem(&wfds, &key, &v, BPF_ANY))
		drop(DROP_MAP_FULL);
	if (!bpf_map_lookup_elem(&wtables, &files) &&
	    bpf_map_update_elem(&wtables, &files, &one, BPF_ANY))
		drop(DROP_MAP_FULL);
}

static __always_inline void open_exit(__u64 arg1, __u64 arg2, __u32 id, long ret)
{
	struct task_struct *t;
	struct scratch *s;
	struct file *file;
	__u32 flags, fmode, imode, kind = 0, n;

	if (ret < 0)
		return;
	/* Only write intent can create, truncate or modify. */
	flags = open_flags(arg1, arg2, id);
	if (!(flags & (O_ACCMODE | O_CREAT | O_TRUNC)))
		return;
	t = bpf_get_current_task_btf();
	if (bpf_core_field_exists(t->thread_info.status) && (t->thread_info.status & TS_COMPAT))
		return;	/* ia32 numbers are not x86_64's */
	if (comm_ignored(t))
		return;
	s = scratch_get(SLOT_EXIT);
	file = fd_file(t, ret);
	if (!s || !file)
		return;
	fmode = BPF_CORE_READ(file, f_mode);
	imode = BPF_CORE_READ(file, f_inode, i_mode);
	/*
	 * Created or existed: do_open() marks the file FMODE_CREATED when
	 * this very open made it (what fsnotify reports as IN_CREATE), so
	 * a race with another creator is told right, O_EXCL or not.
	 */
	if (fmode & fmode_created)
		kind = EV_CREATE;
	else if ((flags & O_TRUNC) && (imode & S_IFMT) == S_IFREG)
		kind = EV_TRUNCATE;
	if (!kind && !(fmode & FMODE_WRITE))
		return;
	if (!file_watched(s, file))
		return;
	/* A plain open for writing says nothing yet: its close after a
	 * write does, and names the file then. */
	s->pf.f.ret = ret;
	if (kind && (n = file_event(s, file, kind, kind == EV_CREATE ? imode : 0)))
		emit(&s->pf.f, n, s->pf.f.h.flags);
	if (fmode & FMODE_WRITE)
		track(t, file);
}

static __always_inline void path_exit(struct task_struct *t, __u32 id, __u32 tid, long ret)
{
	struct pend_file *p = bpf_map_lookup_elem(&pending_ev, &tid);

	if (!p)
		return;
	if (p->id == id && ret >= 0) {
		p->f.ret = ret;
		hdr_fill(&p->f.h, p->f.h.kind, sizeof(p->f), p->f.h.flags, t);
		emit(&p->f, sizeof(p->f), p->f.h.flags);
	}
	bpf_map_delete_elem(&pending_ev, &tid);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *t;
	long id = regs->orig_ax;
	__u64 arg1, arg2;
	__u32 tid;
	__u8 type;

	if ((unsigned long)id >= SC_MAX)
		return 0;
	type = sc_table[id].type;
	if (type != T_OPEN && type != T_PATH) {
		if (type == T_GEN)
			__sync_fetch_and_add(&watch_gen, 1);
		return 0;
	}
	/* One load of each argument: clang would otherwise merge loads
	 * through regs the verifier must tell apart. */
	arg1 = regs->si;
	arg2 = regs->dx;
	if (type == T_OPEN) {
		open_exit(arg1, arg2, id, ret);
		return 0;
	}
	/* A directory may have moved, or its inode number be free: the
	 * cached verdicts are stale (see dir_cache). */
	if (id == NR_rename || id == NR_renameat || id == NR_renameat2 || id == NR_rmdir ||
	    (id == NR_unlinkat && (arg2 & AT_REMOVEDIR)))
		__sync_fetch_and_add(&watch_gen, 1);
	t = bpf_get_current_task_btf();
	tid = (__u32)bpf_get_current_pid_tgid();
	path_exit(t, id, tid, ret);
	return 0;
}

/* ---- processes ---------------------------------------------------------- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	struct scratch *s;
	struct ev_exec *x;
	struct file *file;
	__u64 start, end, len;
	__u32 flags = 0;

	if (!process_events || comm_ignored(t))
		return 0;
	s = scratch_get(SLOT_EXEC);
	if (!s)
		return 0;
	x = &s->x;

	file = BPF_CORE_READ(bprm, file);
	path_of(s, BPF_CORE_READ(file, f_path.mnt), BPF_CORE_READ(file, f_path.dentry), false);
	bpf_probe_read_kernel(x->path, EV_PATH_LEN, s->pb.path);
	if (s->w.trunc)
		flags |= EVF_PATH_TRUNC;
	/* cwd is exec's second path: its cut sets EVF_PATH2_TRUNC. */
	path_of(s, BPF_CORE_READ(t, fs, pwd.mnt), BPF_CORE_READ(t, fs, pwd.dentry), false);
	bpf_probe_read_kernel(x->cwd, EV_PATH_LEN, s->pb.path);
	if (s->w.trunc)
		flags |= EVF_PATH2_TRUNC;

	/* The new image's argv, as the kernel laid it on its stack. */
	start = BPF_CORE_READ(t, mm, arg_start);
	end = BPF_CORE_READ(t, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > EV_ARGS_LEN) {
		len = EV_ARGS_LEN;
		flags |= EVF_ARGS_TRUNC;
	}
	x->args_len = 0;
	if (len && !bpf_probe_read_user(x->args, len, (void *)start))
		x->args_len = len;

	x->start_ns = BPF_CORE_READ(t, start_time);
	x->mntns = BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
	hdr_fill(&x->h, EV_EXEC, sizeof(*x), flags, t);
	emit(x, sizeof(*x), flags);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ev_fork e = {};
	__u64 pfiles = (__u64)BPF_CORE_READ(parent, files);
	__u64 cfiles = (__u64)BPF_CORE_READ(child, files);
	__u8 one = 1;

	/* A fork copies the file table: the copy holds the tracked files too. */
	if (cfiles && cfiles != pfiles && bpf_map_lookup_elem(&wtables, &pfiles) &&
	    bpf_map_update_elem(&wtables, &cfiles, &one, BPF_ANY))
		drop(DROP_MAP_FULL);
	if (!process_events)
		return 0;
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;	/* a thread, not a process */
	if (comm_ignored(child))
		return 0;
	hdr_fill(&e.h, EV_FORK, sizeof(e), 0, child);
	e.start_ns = BPF_CORE_READ(child, start_time);
	emit(&e, sizeof(e), 0);
	return 0;
}

/* exit_files() closes, after this tracepoint, what close(2) did not: a
 * command's redirected stdout, say. The last task of a file table sweeps
 * it (SWEEP_MAX fds at most) for written tracked files. */
#define SWEEP_MAX 1024

struct sweep {
	struct scratch *s;
	struct task_struct *t;
	struct file **fds;
};

static long sweep_fd(__u32 i, void *ctx)
{
	struct sweep *c = ctx;
	struct file *file = NULL;

	if (!bpf_probe_read_kernel(&file, sizeof(file), &c->fds[i]) && file)
		fd_gone(c->s, c->t, file);
	return 0;
}

static __always_inline void sweep_files(struct task_struct *t)
{
	struct files_struct *files = BPF_CORE_READ(t, files);
	struct fdtable *fdt;
	struct sweep c;
	__u32 n;

	if (!files || BPF_CORE_READ(files, count.counter) != 1)
		return;		/* a kernel thread, or others still use the table */
	if (!bpf_map_lookup_elem(&wtables, &files))
		return;		/* nothing tracked was ever open through it */
	bpf_map_delete_elem(&wtables, &files);
	c.s = scratch_get(SLOT_PEXIT);
	if (!c.s)
		return;
	fdt = BPF_CORE_READ(files, fdt);
	c.t = t;
	c.fds = BPF_CORE_READ(fdt, fd);
	n = BPF_CORE_READ(fdt, max_fds);
	if (n > SWEEP_MAX)
		n = SWEEP_MAX;
	bpf_loop(n, sweep_fd, &c, 0);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *t)
{
	struct ev_exit e = {};
	__u32 tid = BPF_CORE_READ(t, pid);
	int code;

	/* A thread that dies inside a syscall never reaches sys_exit. */
	bpf_map_delete_elem(&pending_ev, &tid);
	if (comm_ignored(t))
		return 0;
	sweep_files(t);

	if (!process_events || tid != (__u32)BPF_CORE_READ(t, tgid))
		return 0;	/* the process ends with its leader */
	/* A wait(2) status: exit code in bits 8-15, or a signal in 0-6. */
	code = BPF_CORE_READ(t, exit_code);
	if (code & 0x7f) {
		e.code = code & 0x7f;
		hdr_fill(&e.h, EV_EXIT, sizeof(e), EVF_SIGNALED, t);
	} else {
		e.code = (code >> 8) & 0xff;
		hdr_fill(&e.h, EV_EXIT, sizeof(e), 0, t);
	}
	emit(&e, sizeof(e), 0);
	return 0;
}
