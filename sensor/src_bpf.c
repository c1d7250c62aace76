/*
 * src_bpf.c: the eBPF source.
 *
 * Loads the tracepoint programs of bpf/events.bpf.c (embedded in the binary
 * by the events.skel.h skeleton), fills the maps that tell the kernel side
 * what is watched, and turns ring-buffer records into struct vg_event.
 *
 * The kernel decides almost everything. What it cannot decide, a path with
 * ".." or one it could not make absolute (EVF_PATH_RELATIVE), is decided
 * here, lexically, against the watched roots; no other event is filtered
 * here. Records are kernel memory, but each is still checked for a known
 * kind and an exact size before it is read.
 *
 * opts->ring_bytes, if set, is the ring buffer's size in bytes (a power of
 * two, at least a page); the default is the 8 MiB events.bpf.c declares.
 *
 * Latency: the kernel side commits records without waking the reader
 * until an eighth of the ring waits (a wakeup per record costs the
 * producer an irq_work, an IPI in a VM). The source's fd is an epoll set
 * of the ring buffer's fd and a DRAIN_MS timerfd, so a record is delivered
 * within DRAIN_MS (10 ms) even when no wakeup comes; a flood wakes the
 * reader at once.
 *
 * Whenever the watched inodes change, watch_gen (the kernel side's .bss)
 * is bumped: the kernel's cached per-directory verdicts are then stale.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.skel.h"
#include "watch.h"

struct wroot {				/* a watched path */
	char *path;			/* resolved, no trailing '/' unless "/" */
	struct watch_inode key;		/* its inode when last seen */
};

union rec {				/* a record, copied out of the ring */
	struct ev_hdr h;
	struct ev_exec x;
	struct ev_fork f;
	struct ev_exit e;
	struct ev_file fl;
};

struct bsrc {
	struct events_bpf *skel;
	struct bpf_link **links;
	size_t nlinks;
	struct ring_buffer *rb;
	int epfd;			/* the source's fd: rb's epoll fd and tfd */
	int tfd;			/* DRAIN_MS timer */
	int64_t rt_off_ns;		/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct wroot *roots;
	size_t nroots;
	uint64_t events;		/* delivered */
	uint64_t bad;			/* records refused: wrong kind or size */
	uint64_t watch_full;		/* paths the maps had no room for */
	/* While poll runs: */
	vg_event_fn fn;
	void *u;
	int delivered;
	int consumed;
	union rec rec;
	char norm[2][EV_PATH_LEN];
};

/* ---- libbpf's messages -------------------------------------------------- */

/* The verifier's log arrives as one message of many lines: each line goes
 * to the debug log on its own. */
VG_ATTR_PRINTF(2, 0)
static int libbpf_log(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char *msg, *line, *save = NULL;

	(void)lvl;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_debug("libbpf: %s", line);
	free(msg);
	return 0;
}

/* Records delivered by one poll at most: under a flood the loop still
 * gets to its signals and timers. The ring's fd stays readable (level
 * triggered) while records wait. */
#define POLL_BATCH 4096

/* The ring is drained this often even when the kernel wakes no one. */
#define DRAIN_MS 10

/* ---- watched roots ------------------------------------------------------ */

/* watched_inodes changed: the kernel's cached verdicts are stale. */
static void gen_bump(struct bsrc *b)
{
	__atomic_fetch_add(&b->skel->bss->watch_gen, 1, __ATOMIC_SEQ_CST);
}

static int map_full(int e)
{
	return e == -E2BIG || e == -ENOSPC || e == -ENOMEM;
}

static int put_inode(struct bsrc *b, const char *path, const struct watch_inode *key,
		     struct vg_err *err)
{
	uint8_t one = 1;
	int e = bpf_map__update_elem(b->skel->maps.watched_inodes, key, sizeof(*key), &one,
				     sizeof(one), BPF_ANY);

	if (!e)
		return 0;
	if (map_full(e)) {
		b->watch_full++;
		return vg_errf(err, "watch %s: watched_inodes is full (%u entries)", path,
			       bpf_map__max_entries(b->skel->maps.watched_inodes));
	}
	return vg_errf(err, "watch %s: watched_inodes: %s", path, strerror(-e));
}

static int put_prefix(struct bsrc *b, const char *path, struct vg_err *err)
{
	struct watch_prefix p;
	uint8_t one = 1;
	size_t n = strlen(path);
	int e;

	memset(&p, 0, sizeof(p));
	memcpy(p.path, path, n);
	if (n > 1)
		p.path[n++] = '/';
	p.prefixlen = n * 8;
	e = bpf_map__update_elem(b->skel->maps.watched_prefixes, &p, sizeof(p), &one, sizeof(one),
				 BPF_ANY);
	if (!e)
		return 0;
	if (map_full(e)) {
		b->watch_full++;
		return vg_errf(err, "watch %s: watched_prefixes is full (%u entries)", path,
			       bpf_map__max_entries(b->skel->maps.watched_prefixes));
	}
	return vg_errf(err, "watch %s: watched_prefixes: %s", path, strerror(-e));
}

/* A path as the kernel will see it: symlinks resolved, absolute, short
 * enough to be a prefix. Returns it allocated, or NULL with err naming it. */
static char *root_resolve(const char *path, struct stat *st, struct vg_err *err)
{
	char *real = realpath(path, NULL);

	if (!real) {
		vg_errf(err, "watch %s: %s", path, strerror(errno));
		return NULL;
	}
	if (stat(real, st)) {
		vg_errf(err, "watch %s: %s", real, strerror(errno));
		free(real);
		return NULL;
	}
	if (strlen(real) + 2 > EV_MAX_PREFIX) {
		vg_errf(err, "watch %s: longer than %d bytes", real, EV_MAX_PREFIX - 2);
		free(real);
		return NULL;
	}
	return real;
}

static void key_of(const struct stat *st, struct watch_inode *k)
{
	memset(k, 0, sizeof(*k));
	k->ino = st->st_ino;
	k->dev = (unsigned int)st->st_dev;	/* glibc's encoding is the kernel's */
}

/* Watches real (already resolved) and its subtree when it is a directory:
 * the inode for fd-based syscalls, the prefix for path-based ones. */
static int add_root(struct bsrc *b, char *real, const struct stat *st, struct vg_err *err)
{
	struct wroot *r;

	for (size_t i = 0; i < b->nroots; i++) {
		if (!strcmp(b->roots[i].path, real)) {
			free(real);
			return 0;
		}
	}
	b->roots = xrealloc(b->roots, (b->nroots + 1) * sizeof(*b->roots));
	r = &b->roots[b->nroots];
	r->path = real;
	key_of(st, &r->key);
	if (put_inode(b, real, &r->key, err)) {
		free(real);
		return -1;
	}
	if (put_prefix(b, real, err)) {
		bpf_map__delete_elem(b->skel->maps.watched_inodes, &r->key, sizeof(r->key), 0);
		gen_bump(b);
		free(real);
		return -1;
	}
	gen_bump(b);
	b->nroots++;
	return 0;
}

/* A watched path was made anew (an editor's save renames over it): its
 * name is what is watched, so the new inode replaces the old one. lstat:
 * a symlink put there is watched itself, not what it points to. */
static void refresh_root(struct bsrc *b, const char *path)
{
	struct watch_inode k;
	struct vg_err err;
	struct stat st;

	if (!path)
		return;
	for (size_t i = 0; i < b->nroots; i++) {
		struct wroot *r = &b->roots[i];

		if (strcmp(r->path, path) || lstat(path, &st))
			continue;
		key_of(&st, &k);
		if (k.ino == r->key.ino && k.dev == r->key.dev)
			return;
		bpf_map__delete_elem(b->skel->maps.watched_inodes, &r->key, sizeof(r->key), 0);
		if (put_inode(b, path, &k, &err))
			log_warn("%s", err.msg);
		gen_bump(b);
		r->key = k;
		return;
	}
}

/* ---- paths the kernel could not decide ---------------------------------- */

/* Resolves ".", ".." and "//" of an absolute path lexically into out;
 * false if the path is not absolute. */
static bool lexical(const char *in, char *out, size_t size)
{
	size_t o = 0;
	const char *p = in;

	if (in[0] != '/' || size < 2)
		return false;
	out[o++] = '/';
	while (*p) {
		const char *c;
		size_t n;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		if (o > 1) {
			if (o + 1 >= size)
				return false;
			out[o++] = '/';
		}
		if (o + n >= size)
			return false;
		memcpy(out + o, c, n);
		o += n;
	}
	out[o] = '\0';
	return true;
}

static bool under_root(const struct bsrc *b, const char *path)
{
	for (size_t i = 0; i < b->nroots; i++) {
		const char *r = b->roots[i].path;
		size_t n = strlen(r);

		if (n == 1 || (!strncmp(path, r, n) && (path[n] == '/' || path[n] == '\0')))
			return true;
	}
	return false;
}

/* Decides an EVF_PATH_RELATIVE event: normalises its paths in place of
 * the kernel's and keeps it only if one of them is watched. */
static bool decide_relative(struct bsrc *b, struct vg_event *ev)
{
	const char **slot[2] = {&ev->path, &ev->path2};
	bool is_path[2] = {ev->kind != EV_SYMLINK,
			   ev->kind == EV_RENAME || ev->kind == EV_LINK || ev->kind == EV_SYMLINK};
	bool watched = false;

	for (int i = 0; i < 2; i++) {
		if (!is_path[i] || !*slot[i])
			continue;
		if (!lexical(*slot[i], b->norm[i], sizeof(b->norm[i])))
			continue;
		*slot[i] = b->norm[i];
		watched = watched || under_root(b, b->norm[i]);
	}
	return watched;
}

/* ---- records ------------------------------------------------------------ */

static size_t rec_size(unsigned int kind)
{
	switch (kind) {
	case EV_EXEC:
		return sizeof(struct ev_exec);
	case EV_FORK:
		return sizeof(struct ev_fork);
	case EV_EXIT:
		return sizeof(struct ev_exit);
	default:
		return kind > EV_EXIT && kind < EV_KIND_MAX ? sizeof(struct ev_file) : 0;
	}
}

static void hdr_to_event(const struct bsrc *b, struct ev_hdr *h, struct vg_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = (enum ev_kind)h->kind;
	ev->time_ns = h->ts_ns + (uint64_t)b->rt_off_ns;
	ev->pid = h->pid;
	ev->tgid = h->tgid;
	ev->ppid = h->ppid;
	ev->uid = h->uid;
	ev->gid = h->gid;
	ev->euid = h->euid;
	ev->auid = h->auid;
	ev->flags = h->flags;
	ev->cgroup_id = h->cgroup_id;
	h->comm[EV_COMM_LEN - 1] = '\0';
	memcpy(ev->comm, h->comm, EV_COMM_LEN);
	ev->fuid = ev->fgid = (uint32_t)-1;
}

static void exec_to_event(struct ev_exec *x, struct vg_event *ev)
{
	x->path[EV_PATH_LEN - 1] = '\0';
	x->cwd[EV_PATH_LEN - 1] = '\0';
	ev->mntns = x->mntns;
	ev->exe = x->path;
	ev->cwd = x->cwd;
	ev->args = x->args;
	ev->args_len = x->args_len > EV_ARGS_LEN ? EV_ARGS_LEN : x->args_len;
}

static void file_to_event(struct ev_file *f, struct vg_event *ev)
{
	f->path[EV_PATH_LEN - 1] = '\0';
	f->path2[EV_PATH_LEN - 1] = '\0';
	ev->path = f->path[0] ? f->path : NULL;
	ev->path2 = f->path2[0] ? f->path2 : NULL;
	ev->code = f->ret;
	ev->mode = f->mode;
	ev->fuid = f->uid;
	ev->fgid = f->gid;
}

/* Checks one record, converts it and hands it to the callback. */
static void deliver(struct bsrc *b, const void *data, size_t size)
{
	const struct ev_hdr *h = data;
	struct vg_event ev;
	size_t want;

	if (size < sizeof(*h) || !(want = rec_size(h->kind)) || h->size != size ||
	    (size != want && !(want == sizeof(struct ev_file) && size >= EV_FILE_MIN &&
			       size < want))) {
		if (!b->bad++)
			log_warn("bpf: refused a record of %zu bytes, kind %u", size,
				 size >= sizeof(*h) ? h->kind : 0);
		return;
	}
	/* A short file record stops after path's NUL: the rest reads empty. */
	if (size < want)
		memset((char *)&b->rec + size, 0, want - size);
	memcpy(&b->rec, data, size);
	hdr_to_event(b, &b->rec.h, &ev);
	switch (ev.kind) {
	case EV_EXEC:
		exec_to_event(&b->rec.x, &ev);
		break;
	case EV_FORK:
		break;
	case EV_EXIT:
		ev.code = b->rec.e.code;
		break;
	default:
		file_to_event(&b->rec.fl, &ev);
		if ((ev.flags & EVF_PATH_RELATIVE) && !decide_relative(b, &ev))
			return;
		break;
	}
	b->fn(b->u, &ev);
	b->events++;
	b->delivered++;
	switch (ev.kind) {
	case EV_CREATE:
	case EV_MKDIR:
		refresh_root(b, ev.path);
		break;
	case EV_RENAME:
	case EV_LINK:
	case EV_SYMLINK:
		refresh_root(b, ev.path2);
		break;
	default:
		break;
	}
}

/* Delivers one record; a negative return stops the consume after it (the
 * record is consumed either way). */
static int on_record(void *ctx, void *data, size_t size)
{
	struct bsrc *b = ctx;

	deliver(b, data, size);
	return ++b->consumed >= POLL_BATCH ? -EAGAIN : 0;
}

/* ---- the source's operations -------------------------------------------- */

static int bsrc_fd(void *impl)
{
	struct bsrc *b = impl;

	return b->epfd;
}

static int bsrc_poll(void *impl, vg_event_fn fn, void *u)
{
	struct bsrc *b = impl;
	uint64_t expirations;
	int n;

	b->fn = fn;
	b->u = u;
	b->delivered = 0;
	b->consumed = 0;
	/* The timer's expirations: nothing to read is no error. */
	if (read(b->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_warn("bpf: timerfd: %s", strerror(errno));
	n = ring_buffer__consume(b->rb);
	if (n < 0 && !(n == -EAGAIN && b->consumed >= POLL_BATCH)) {
		errno = -n;
		return -1;
	}
	return b->delivered;
}

static int bsrc_watch(void *impl, const char *path, struct vg_err *err)
{
	struct bsrc *b = impl;
	struct stat st;
	char *real = root_resolve(path, &st, err);

	if (!real)
		return -1;
	return add_root(b, real, &st, err);
}

static void bsrc_counters(void *impl, struct vg_counters *c)
{
	struct bsrc *b = impl;
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(b->skel->maps.drops);
	uint64_t *v;

	memset(c, 0, sizeof(*c));
	c->events = b->events;
	if (ncpu <= 0)
		return;
	v = xcalloc((size_t)ncpu, sizeof(*v));
	for (uint32_t k = 0; k < DROP_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int i = 0; i < ncpu; i++)
			c->drops[k] += v[i];
	}
	free(v);
	c->drops[DROP_MAP_FULL] += b->watch_full;
}

static void bsrc_free(struct bsrc *b)
{
	if (!b)
		return;
	if (b->epfd >= 0)
		close(b->epfd);
	if (b->tfd >= 0)
		close(b->tfd);
	ring_buffer__free(b->rb);
	for (size_t i = 0; i < b->nlinks; i++)
		bpf_link__destroy(b->links[i]);
	free(b->links);
	events_bpf__destroy(b->skel);
	for (size_t i = 0; i < b->nroots; i++)
		free(b->roots[i].path);
	free(b->roots);
	free(b);
}

static void bsrc_close(void *impl)
{
	bsrc_free(impl);
}

/* ---- opening ------------------------------------------------------------ */

static int set_ring_size(struct bsrc *b, size_t n, struct vg_err *err)
{
	long page = sysconf(_SC_PAGESIZE);
	int e;

	if (!n)
		return 0;
	if (n < (size_t)page || n > (1u << 30) || (n & (n - 1)))
		return vg_errf(err, "ring buffer of %zu bytes: want a power of two from %ld to 2^30",
			       n, page);
	e = bpf_map__set_max_entries(b->skel->maps.events, (uint32_t)n);
	if (e)
		return vg_errf(err, "ring buffer of %zu bytes: %s", n, strerror(-e));
	return 0;
}

static int set_knobs(struct bsrc *b, const struct vg_source_opts *o, struct vg_err *err)
{
	struct stat st;

	b->skel->rodata->process_events = o->process_events;
	b->skel->rodata->has_ignored = o->ignore_comm && o->ignore_comm->n > 0;
	/* Paths of other mount namespaces are not ours to prefix-match. */
	if (stat("/proc/self/ns/mnt", &st) == 0)
		b->skel->rodata->host_mntns = (uint32_t)st.st_ino;
	return set_ring_size(b, o->ring_bytes, err);
}

static int put_ignored(struct bsrc *b, const struct vg_strv *names, struct vg_err *err)
{
	uint8_t one = 1;

	for (size_t i = 0; names && i < names->n; i++) {
		char key[EV_COMM_LEN] = {0};	/* the kernel's comm: 15 bytes, padded */
		int e;

		strncpy(key, names->v[i], EV_COMM_LEN - 1);
		e = bpf_map__update_elem(b->skel->maps.ignored_comm, key, sizeof(key), &one,
					 sizeof(one), BPF_ANY);
		if (e)
			return vg_errf(err, "ignore %s: ignored_comm: %s", names->v[i],
				       strerror(-e));
	}
	return 0;
}

static int attach_all(struct bsrc *b, struct vg_err *err)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, b->skel->obj)
		n++;
	b->links = xcalloc(n, sizeof(*b->links));
	bpf_object__for_each_program(prog, b->skel->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		if (!(l = bpf_program__attach(prog)))
			return vg_errf(err, "%s: attach failed: %s", bpf_program__section_name(prog),
				       strerror(errno));
		b->links[b->nlinks++] = l;
	}
	return 0;
}

/* b->epfd: the ring buffer's epoll fd and a DRAIN_MS timerfd. */
static int drain_timer(struct bsrc *b, struct vg_err *err)
{
	struct itimerspec its = {
		.it_interval = {.tv_nsec = DRAIN_MS * 1000000L},
		.it_value = {.tv_nsec = DRAIN_MS * 1000000L},
	};
	struct epoll_event ev = {.events = EPOLLIN};

	b->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b->tfd < 0 || timerfd_settime(b->tfd, 0, &its, NULL) < 0)
		return vg_errf(err, "timerfd: %s", strerror(errno));
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0 || epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->tfd, &ev) < 0 ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(b->rb), &ev) < 0)
		return vg_errf(err, "epoll: %s", strerror(errno));
	return 0;
}

/* The offset that turns bpf_ktime_get_ns() into wall-clock time, taken
 * from the tightest of a few readings. */
static int64_t realtime_offset(void)
{
	int64_t best = INT64_MAX, off = 0;

	for (int i = 0; i < 5; i++) {
		struct timespec m1, r, m2;
		int64_t a, z;

		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m2);
		a = m1.tv_sec * 1000000000LL + m1.tv_nsec;
		z = m2.tv_sec * 1000000000LL + m2.tv_nsec;
		if (z - a < best) {
			best = z - a;
			off = r.tv_sec * 1000000000LL + r.tv_nsec - (a + (z - a) / 2);
		}
	}
	return off;
}

static int load(struct bsrc *b, const struct vg_source_opts *o, struct vg_err *err)
{
	int e;

	libbpf_set_print(libbpf_log);
	b->skel = events_bpf__open();
	if (!b->skel)
		return vg_errf(err, "events.bpf: open failed: %s", strerror(errno));
	if (set_knobs(b, o, err))
		return -1;
	/* Process events alone need no syscall tracepoint: leaving these two
	 * out keeps every syscall of the machine on its fast path. */
	if (o->process_only) {
		bpf_program__set_autoload(b->skel->progs.sys_enter, false);
		bpf_program__set_autoload(b->skel->progs.sys_exit, false);
	}
	e = events_bpf__load(b->skel);
	if (e == -EPERM)
		return vg_errf(err, "events.bpf: load failed: %s (needs root, or CAP_BPF with "
			       "CAP_PERFMON)", strerror(-e));
	if (e)
		return vg_errf(err, "events.bpf: load failed: %s (libbpf and the verifier said "
			       "why at debug level)", strerror(-e));
	return 0;
}

int bpf_source_open(struct vg_source *s, const struct vg_source_opts *o, struct vg_err *err)
{
	const struct vg_strv *paths = o->paths;
	struct bsrc *b = xcalloc(1, sizeof(*b));
	struct stat *st = NULL;
	char **real = NULL;
	size_t n = paths ? paths->n : 0, i;

	b->epfd = b->tfd = -1;
	/* A path that cannot be watched is the caller's error whether or not
	 * BPF loads here: tell it first. */
	if (n) {
		st = xcalloc(n, sizeof(*st));
		real = xcalloc(n, sizeof(*real));
	}
	for (i = 0; i < n; i++)
		if (!(real[i] = root_resolve(paths->v[i], &st[i], err)))
			goto fail;
	if (load(b, o, err) || put_ignored(b, o->ignore_comm, err))
		goto fail;
	for (i = 0; i < n; i++) {
		char *r = real[i];

		real[i] = NULL;
		if (add_root(b, r, &st[i], err))
			goto fail;
	}
	/* Maps are filled before anything runs: no event is missed for want
	 * of a watched path. */
	if (attach_all(b, err))
		goto fail;
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), on_record, b, NULL);
	if (!b->rb) {
		vg_errf(err, "ring buffer: %s", strerror(errno));
		goto fail;
	}
	if (drain_timer(b, err))
		goto fail;
	b->rt_off_ns = realtime_offset();
	free(st);
	free(real);

	memset(s, 0, sizeof(*s));
	s->mode = VG_MODE_BPF;
	s->impl = b;
	s->fd = bsrc_fd;
	s->poll = bsrc_poll;
	s->watch = bsrc_watch;
	s->counters = bsrc_counters;
	s->close = bsrc_close;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(real[i]);
	free(real);
	free(st);
	bsrc_free(b);
	return -1;
}
