/*
 * proctab.c: the processes of the host, as events and /proc tell them.
 *
 * Seeded from /proc at start so processes that were already running have
 * parents; kept current by fork/exec/exit events; and asked of /proc
 * lazily for a pid it has not seen. An exited process stays for a while,
 * because its file events may still be in flight when its exit arrives.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "watch.h"

#define PT_MAX (1u << 18)		/* processes kept, live and exited */
#define PT_EXITED_KEEP_NS (30ull * 1000000000ull)
#define PT_LINEAGE_MAX 64

struct slot {
	struct vg_proc p;
	uint64_t exited_at;	/* CLOCK_MONOTONIC ns */
	bool used;
};

struct vg_proctab {
	struct slot *slots;	/* open addressing, linear probing */
	size_t cap, n;
	char *procdir;
	uint64_t ticks_ns;	/* ns per clock tick of /proc/PID/stat */
	uint64_t boot_ns;	/* CLOCK_MONOTONIC at boot: 0 */
	unsigned applied;	/* events since the last sweep */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t hash(uint32_t pid, size_t cap)
{
	return (size_t)(pid * 2654435761u) & (cap - 1);
}

static void proc_clear(struct vg_proc *p)
{
	free(p->exe);
	free(p->args);
	memset(p, 0, sizeof(*p));
}

static struct slot *find(struct vg_proctab *t, uint32_t pid)
{
	for (size_t i = hash(pid, t->cap), n = 0; n < t->cap; i = (i + 1) & (t->cap - 1), n++) {
		if (!t->slots[i].used)
			return NULL;
		if (t->slots[i].p.pid == pid)
			return &t->slots[i];
	}
	return NULL;
}

static void rehash(struct vg_proctab *t, size_t cap);

/* Removes a slot and re-inserts the run after it, as linear probing needs. */
static void erase(struct vg_proctab *t, struct slot *s)
{
	size_t i = (size_t)(s - t->slots);

	proc_clear(&s->p);
	s->used = false;
	t->n--;
	for (size_t j = (i + 1) & (t->cap - 1); t->slots[j].used; j = (j + 1) & (t->cap - 1)) {
		struct slot tmp = t->slots[j];
		t->slots[j].used = false;
		size_t k = hash(tmp.p.pid, t->cap);
		while (t->slots[k].used)
			k = (k + 1) & (t->cap - 1);
		t->slots[k] = tmp;
	}
}

static void sweep(struct vg_proctab *t)
{
	uint64_t now = mono_ns();

	for (size_t i = 0; i < t->cap; i++) {
		struct slot *s = &t->slots[i];
		/* Erasing moves later slots back, so look at i again. */
		while (s->used && s->p.exited && now - s->exited_at > PT_EXITED_KEEP_NS)
			erase(t, s);
	}
}

static struct slot *insert(struct vg_proctab *t, uint32_t pid)
{
	struct slot *s = find(t, pid);

	if (s) {		/* a reused pid: the old process is gone */
		proc_clear(&s->p);
		s->p.pid = pid;
		return s;
	}
	if (t->n + 1 > t->cap / 2) {
		if (t->cap >= PT_MAX)
			sweep(t);
		if (t->n + 1 > t->cap / 2 && t->cap < PT_MAX)
			rehash(t, t->cap * 2);
		if (t->n + 1 > t->cap * 3 / 4)
			return NULL;	/* full of live processes: don't track more */
	}
	size_t i = hash(pid, t->cap);
	while (t->slots[i].used)
		i = (i + 1) & (t->cap - 1);
	s = &t->slots[i];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->p.pid = pid;
	t->n++;
	return s;
}

static void rehash(struct vg_proctab *t, size_t cap)
{
	struct slot *old = t->slots;
	size_t oldcap = t->cap;

	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->cap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		size_t j = hash(old[i].p.pid, cap);
		while (t->slots[j].used)
			j = (j + 1) & (cap - 1);
		t->slots[j] = old[i];
	}
	free(old);
}

/* ---- /proc ---- */

static char *read_small(const char *path, size_t *len)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	if (len)
		*len = (size_t)n;
	return xstrndup(buf, (size_t)n);
}

/* /proc/PID/stat: "pid (comm) state ppid ... starttime(22)"; comm may
 * hold spaces and parentheses, so parse from the last ')'. */
static bool parse_stat(struct vg_proctab *t, const char *text, struct vg_proc *p)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	unsigned long long start = 0;
	unsigned ppid = 0;
	int field = 3;

	if (!open || !close || close < open)
		return false;
	size_t n = (size_t)(close - open - 1);
	if (n >= sizeof(p->comm))
		n = sizeof(p->comm) - 1;
	memcpy(p->comm, open + 1, n);
	p->comm[n] = 0;
	for (const char *s = close + 2; *s && field <= 22; field++) {
		if (field == 4)
			ppid = (unsigned)strtoul(s, NULL, 10);
		if (field == 22)
			start = strtoull(s, NULL, 10);
		s = strchr(s, ' ');
		if (!s)
			break;
		s++;
	}
	p->ppid = ppid;
	p->start_ns = start * t->ticks_ns;
	return true;
}

static uint32_t status_uid(const char *status)
{
	const char *u = status ? strstr(status, "\nUid:") : NULL;
	return u ? (uint32_t)strtoul(u + 5, NULL, 10) : (uint32_t)-1;
}

static void load_proc(struct vg_proctab *t, uint32_t pid, struct vg_proc *p)
{
	char path[PATH_MAX], link[PATH_MAX];
	char *text;
	size_t len;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", t->procdir, pid);
	if ((text = read_small(path, NULL))) {
		parse_stat(t, text, p);
		free(text);
	}
	snprintf(path, sizeof(path), "%s/%u/status", t->procdir, pid);
	text = read_small(path, NULL);
	p->uid = status_uid(text);
	free(text);
	snprintf(path, sizeof(path), "%s/%u/loginuid", t->procdir, pid);
	text = read_small(path, NULL);
	p->auid = text ? (uint32_t)strtoul(text, NULL, 10) : (uint32_t)-1;
	free(text);
	snprintf(path, sizeof(path), "%s/%u/exe", t->procdir, pid);
	if ((n = readlink(path, link, sizeof(link) - 1)) > 0)
		p->exe = xstrndup(link, (size_t)n);
	snprintf(path, sizeof(path), "%s/%u/cmdline", t->procdir, pid);
	if ((text = read_small(path, &len))) {
		for (size_t i = 0; i + 1 < len; i++)
			if (!text[i])
				text[i] = ' ';
		p->args = text;
	}
}

static bool numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

struct vg_proctab *proctab_new(const char *procdir)
{
	struct vg_proctab *t = xcalloc(1, sizeof(*t));
	long hz = sysconf(_SC_CLK_TCK);
	struct dirent *de;
	DIR *d;

	t->procdir = xstrdup(procdir);
	t->ticks_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	rehash(t, 4096);
	if (!(d = opendir(procdir))) {
		log_warn("%s: %s; processes will be learnt from events only", procdir,
			 strerror(errno));
		return t;
	}
	while ((de = readdir(d))) {
		if (!numeric(de->d_name))
			continue;
		uint32_t pid = (uint32_t)strtoul(de->d_name, NULL, 10);
		struct slot *s = insert(t, pid);
		if (s)
			load_proc(t, pid, &s->p);
	}
	closedir(d);
	return t;
}

void proctab_free(struct vg_proctab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			proc_clear(&t->slots[i].p);
	free(t->slots);
	free(t->procdir);
	free(t);
}

size_t proctab_size(const struct vg_proctab *t)
{
	return t->n;
}

const struct vg_proc *proctab_get(struct vg_proctab *t, uint32_t pid)
{
	struct slot *s = find(t, pid);
	char path[PATH_MAX];

	if (s)
		return &s->p;
	/* Not seen yet (started between seeding and the first event). */
	snprintf(path, sizeof(path), "%s/%u", t->procdir, pid);
	if (pid == 0 || access(path, F_OK) != 0 || !(s = insert(t, pid)))
		return NULL;
	load_proc(t, pid, &s->p);
	return &s->p;
}

/* argv arrives NUL-separated; the table keeps it as one readable line. */
static char *join_args(const char *args, size_t len)
{
	char *s = xstrndup(args, len);

	while (len && !s[len - 1])
		len--;
	for (size_t i = 0; i < len; i++)
		if (!s[i])
			s[i] = ' ';
	s[len] = 0;
	return s;
}

void proctab_apply(struct vg_proctab *t, const struct vg_event *ev)
{
	struct slot *s, *parent;

	if (++t->applied % 4096 == 0)
		sweep(t);
	switch (ev->kind) {
	case EV_FORK:
		if (ev->pid != ev->tgid)
			return;		/* a new thread, not a new process */
		parent = find(t, ev->ppid);
		struct vg_proc copy = {0};
		if (parent) {
			copy = parent->p;
			copy.exe = parent->p.exe ? xstrdup(parent->p.exe) : NULL;
			copy.args = parent->p.args ? xstrdup(parent->p.args) : NULL;
		}
		if (!(s = insert(t, ev->tgid))) {
			proc_clear(&copy);
			return;
		}
		copy.pid = ev->tgid;
		copy.ppid = ev->ppid;
		copy.exited = false;
		if (!parent) {
			memcpy(copy.comm, ev->comm, sizeof(copy.comm));
			copy.uid = ev->uid;
			copy.auid = ev->auid;
		}
		s->p = copy;
		return;
	case EV_EXEC:
		if (!(s = find(t, ev->tgid)) && !(s = insert(t, ev->tgid)))
			return;
		s->p.ppid = ev->ppid;
		s->p.uid = ev->uid;
		s->p.auid = ev->auid;
		s->p.exited = false;
		memcpy(s->p.comm, ev->comm, sizeof(s->p.comm));
		s->p.comm[sizeof(s->p.comm) - 1] = 0;
		free(s->p.exe);
		free(s->p.args);
		s->p.exe = ev->exe ? xstrdup(ev->exe) : NULL;
		s->p.args = ev->args ? join_args(ev->args, ev->args_len) : NULL;
		return;
	case EV_EXIT:
		if ((s = find(t, ev->tgid))) {
			s->p.exited = true;
			s->exited_at = mono_ns();
		}
		return;
	default:
		return;
	}
}

size_t proctab_lineage(struct vg_proctab *t, uint32_t pid, const struct vg_proc **out,
		       size_t max)
{
	uint32_t pids[PT_LINEAGE_MAX];
	size_t n = 0;

	if (max > PT_LINEAGE_MAX)
		max = PT_LINEAGE_MAX;
	/* Pids first: proctab_get may load from /proc and move every slot. */
	while (n < max && pid) {
		const struct vg_proc *p = proctab_get(t, pid);
		bool seen = false;
		if (!p)
			break;
		/* A pid that is its own ancestor means a stale, reused entry. */
		for (size_t i = 0; i < n; i++)
			seen |= pids[i] == pid;
		if (seen)
			break;
		pids[n++] = pid;
		pid = p->ppid;
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *s = find(t, pids[i]);
		if (!s)
			return i;
		out[i] = &s->p;
	}
	return n;
}
