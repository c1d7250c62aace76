/*
 * drift.c: realtime drift (see drift.h for what it does and why).
 *
 *   event ──► pending (path -> due time, actor) ──► fim_recheck / rescan
 *         ──► held findings ──► one package lookup per batch ──► report
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drift.h"
#include "pkgfile.h"
#include "ship.h"

#define LINEAGE_MAX 16
#define CGROUP_MAX 4096
#define ACTORS_MAX 4			/* distinct processes kept per change */

/* Who made a change, as it was when the event arrived: the process may be
 * gone by the time the change is read. Shared by the findings it caused. */
struct actor {
	unsigned refs;
	char *json;			/* "actor":{...} */
	size_t obj;			/* where the {...} starts in json */
	char *text;			/* "by pid ... parents ..." */
	uint32_t pid;
	uint32_t pm_pid;		/* the package manager in the lineage, or 0 */
	char pm_name[EV_COMM_LEN];
	struct ship_actor *ship;	/* the same, for records; NULL without emit */
};

/* The processes behind one change, the latest last. Two writers within
 * the debounce time are one change: both are named, and the change counts
 * as the package manager's only if every one of them was. */
struct actors {
	struct actor *v[ACTORS_MAX];
	unsigned n;
};

struct pending {
	uint64_t first_ns, due_ns;
	bool rehash;			/* content may have changed: read it */
	bool tree;			/* a rename: the subtree moved */
	struct actors by;		/* none: found by a rescan */
	bool coalesced;			/* an event came with no actor: found when
					 * a busy file's window ended */
};

struct held {				/* a finding waiting to be judged */
	struct fim_finding f;
	struct actors by;
	bool coalesced;			/* as its pending entry */
	uint64_t since_ns;
};

struct drift {
	struct drift_opts o;
	struct fim_live *live;
	struct vg_root root;
	struct vg_smap pending;		/* path -> struct pending */
	struct held *held;
	size_t nheld, capheld;
	bool rescan_all;
	uint64_t last_lookup_ns;
	struct drift_counters c;
	char hostname[256];
	struct vg_buf line;
	const struct pending *current;	/* being rechecked: findings take its
					 * actors */
	struct vg_strv trees;		/* pending subtree rescans, for their actors */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ms(unsigned n)
{
	return (uint64_t)n * 1000000ull;
}

static struct actor *actor_ref(struct actor *a)
{
	if (a)
		a->refs++;
	return a;
}

static void actor_put(struct actor *a)
{
	if (!a || --a->refs)
		return;
	free(a->json);
	free(a->text);
	ship_actor_free(a->ship);
	free(a);
}

static void actors_add(struct actors *s, struct actor *a)
{
	unsigned i;

	if (!a)
		return;
	for (i = 0; i < s->n && s->v[i]->pid != a->pid; i++)
		;
	if (i < s->n) {			/* known: it becomes the latest */
		struct actor *same = s->v[i];
		memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
		s->v[s->n - 1] = same;
		return;
	}
	if (s->n == ACTORS_MAX) {	/* the oldest but the first make room */
		actor_put(s->v[1]);
		memmove(&s->v[1], &s->v[2], (ACTORS_MAX - 2) * sizeof(*s->v));
		s->n--;
	}
	s->v[s->n++] = actor_ref(a);
}

static void actors_copy(struct actors *dst, const struct actors *src)
{
	*dst = *src;
	for (unsigned i = 0; i < dst->n; i++)
		actor_ref(dst->v[i]);
}

static void actors_clear(struct actors *s)
{
	for (unsigned i = 0; i < s->n; i++)
		actor_put(s->v[i]);
	s->n = 0;
}

static const struct actor *latest(const struct actors *s)
{
	return s->n ? s->v[s->n - 1] : NULL;
}

/* ---- the actor ------------------------------------------------------------ */

/* Package managers by the executable the kernel ran; rpm front ends that
 * are scripts by their script, which is argv[1] of the interpreter. */
static const char *const pm_exes[] = {"/usr/bin/dpkg", "/usr/bin/rpm", "/usr/bin/microdnf",
				      "/usr/bin/zypper", "/usr/libexec/packagekitd", NULL};
static const char *const pm_scripts[] = {"/usr/bin/dnf", "/usr/bin/dnf-3", "/usr/bin/yum",
					 NULL};

static bool is_pm(const struct vg_proc *p)
{
	const char *arg1;

	if (!p->exe)
		return false;
	for (size_t i = 0; pm_exes[i]; i++)
		if (!strcmp(p->exe, pm_exes[i]))
			return true;
	if (!p->args || !(arg1 = strchr(p->args, ' ')))
		return false;
	arg1++;
	for (size_t i = 0; pm_scripts[i]; i++) {
		size_t n = strlen(pm_scripts[i]);
		if (!strncmp(arg1, pm_scripts[i], n) && (arg1[n] == ' ' || !arg1[n]))
			return true;
	}
	return false;
}

/* cgroup v2's "0::/system.slice/docker-<id>.scope" line of /proc/PID/cgroup. */
static char *read_cgroup(uint32_t pid)
{
	char file[64], *buf = NULL, *line;
	size_t len;
	FILE *fp;

	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	fp = fopen(file, "re");
	if (!fp)
		return NULL;
	buf = xmalloc(CGROUP_MAX);
	len = fread(buf, 1, CGROUP_MAX - 1, fp);
	fclose(fp);
	buf[len] = 0;
	line = strstr(buf, "0::");
	if (!line) {
		free(buf);
		return NULL;
	}
	line[strcspn(line, "\n")] = 0;
	memmove(buf, line + 3, strlen(line + 3) + 1);
	return buf;
}

/* A container's id from its cgroup path: the 64 hex digits that docker,
 * containerd, CRI-O and podman put in the last component. */
static bool container_id(const char *cg, char id[65])
{
	const char *last = strrchr(cg, '/');

	last = last ? last + 1 : cg;
	for (const char *p = last; *p; p++) {
		size_t n = strspn(p, "0123456789abcdef");
		if (n == 64) {
			memcpy(id, p, 64);
			id[64] = 0;
			return true;
		}
		p += n ? n - 1 : 0;
	}
	return false;
}

static void cgroup_json(struct vg_buf *b, const struct vg_event *ev, const char *cg,
			const char *container)
{
	buf_printf(b, ",\"cgroup\":{\"id\":%llu,\"path\":", (unsigned long long)ev->cgroup_id);
	json_str(b, cg);
	buf_puts(b, "}");
	if (container)
		buf_printf(b, ",\"container\":{\"uid\":\"%s\"}", container);
}

static struct actor *actor_capture(const struct vg_event *ev, struct vg_proctab *t, bool ship)
{
	struct actor *a = xcalloc(1, sizeof(*a));
	const struct vg_proc *chain[LINEAGE_MAX];
	size_t n = proctab_lineage(t, ev->tgid, chain, LINEAGE_MAX);
	struct vg_buf b = {0};
	char *cg = read_cgroup(ev->tgid), id[65];
	const char *container = cg && container_id(cg, id) ? id : NULL;

	a->refs = 1;
	a->pid = ev->tgid;
	for (size_t i = 0; i < n; i++)
		if (is_pm(chain[i])) {
			a->pm_pid = chain[i]->pid;
			memcpy(a->pm_name, chain[i]->comm, sizeof(a->pm_name));
			break;
		}
	event_actor_json(&b, ev, t);
	a->obj = strlen("\"actor\":");
	b.len--;			/* the actor object stays open for the cgroup */
	cgroup_json(&b, ev, cg, container);
	buf_puts(&b, "}");
	a->json = b.p;
	b = (struct vg_buf){0};
	event_actor_text(&b, ev, t);
	a->text = b.p ? b.p : xstrdup("");
	if (ship)
		a->ship = ship_actor_capture(ev, t, cg, container);
	free(cg);
	return a;
}

/* ---- the queue of paths to re-read ---------------------------------------- */

static void pending_free(void *p)
{
	struct pending *q = p;

	actors_clear(&q->by);
	free(q);
}

/* A change below a directory that is about to be rescanned may be found
 * by that rescan: its process must be named there too. */
static void tell_trees(struct drift *d, const char *path, struct actor *a)
{
	for (size_t i = 0; a && i < d->trees.n; i++) {
		struct pending *q = smap_get(&d->pending, d->trees.v[i], strlen(d->trees.v[i]));
		if (q && strcmp(d->trees.v[i], path) && fim_at_or_below(path, d->trees.v[i]))
			actors_add(&q->by, a);
	}
}

static void enqueue(struct drift *d, const char *path, bool rehash, bool tree,
		    struct actor *a, bool coalesced)
{
	uint64_t now = now_ns();
	struct pending *q = smap_get(&d->pending, path, strlen(path));
	bool added;

	if (!q && d->pending.n >= d->o.queue_max) {
		/* Nothing is dropped silently: the rescan will find it. */
		d->c.overflows++;
		d->rescan_all = true;
		return;
	}
	if (!q) {
		void **slot = smap_put(&d->pending, path, strlen(path), &added);
		q = *slot = xcalloc(1, sizeof(*q));
		q->first_ns = now;
	}
	q->due_ns = now + ms(d->o.debounce_ms);
	q->rehash |= rehash;
	if (tree && !q->tree)
		strv_push(&d->trees, path);
	q->tree |= tree;
	q->coalesced |= coalesced;
	actors_add(&q->by, a);
	tell_trees(d, path, a);
}

static bool monitored(struct drift *d, const char *path)
{
	return path && path[0] == '/' && fim_live_match(d->live, path);
}

void drift_event(struct drift *d, const struct vg_event *ev, struct vg_proctab *t)
{
	const char *p1 = ev->path, *p2 = NULL;
	bool rehash = false, tree = false;
	bool co;
	struct actor *a;

	switch (ev->kind) {
	case EV_EXEC: case EV_FORK: case EV_EXIT:
		return;
	case EV_CREATE: case EV_MODIFY: case EV_TRUNCATE:
		rehash = true;
		break;
	case EV_RENAME:
		p2 = ev->path2;
		rehash = tree = true;
		break;
	case EV_LINK:
		p2 = ev->path2;		/* the old name's link count changes too */
		break;
	case EV_SYMLINK:
		p1 = ev->path2;		/* path is the target, which is only text */
		break;
	default:
		break;
	}
	if (ev->flags & (EVF_PATH_TRUNC | EVF_PATH2_TRUNC | EVF_PATH_RELATIVE)) {
		/* Which file is not known for sure; a rescan finds it. */
		d->rescan_all = true;
		return;
	}
	if (!monitored(d, p1) && !monitored(d, p2) && !(tree && p1 && p2))
		return;
	d->c.events++;
	a = ev->found_by ? NULL : actor_capture(ev, t, d->o.emit != NULL);
	co = ev->found_by && !strcmp(ev->found_by, "coalesced");
	if (p1)
		enqueue(d, p1, rehash, tree, a, co);
	if (p2)
		enqueue(d, p2, rehash, tree, a, co);
	actor_put(a);
}

void drift_lost(struct drift *d)
{
	d->rescan_all = true;
}

/* ---- findings: held, judged, reported ------------------------------------- */

static void hold(void *u, const struct fim_finding *f)
{
	struct drift *d = u;
	struct held *h;

	if (d->nheld == d->capheld) {
		d->capheld = d->capheld ? d->capheld * 2 : 64;
		d->held = xrealloc(d->held, d->capheld * sizeof(*d->held));
	}
	h = &d->held[d->nheld++];
	/* The finding is moved, not copied: fim_live_rescan's caller and
	 * recheck_one below give up theirs. */
	h->f = *f;
	memset((struct fim_finding *)f, 0, sizeof(*f));
	if (d->current)
		actors_copy(&h->by, &d->current->by);
	else
		h->by.n = 0;
	h->coalesced = d->current && d->current->coalesced;
	h->since_ns = now_ns();
}

static void recheck_one(struct drift *d, const char *path, const struct pending *q)
{
	struct vg_err err = {{0}};
	struct fim_finding f;
	int rc;

	d->current = q;
	if (q && q->tree) {
		d->c.rescans++;
		rc = fim_live_rescan(d->live, path, hold, d, &err);
	} else {
		d->c.rechecks++;
		if ((rc = fim_recheck(d->live, path, q && q->rehash, &f, &err)) == 1)
			hold(d, &f);
	}
	if (rc < 0)
		log_warn("realtime drift: %s", err.msg);
	d->current = NULL;
}

static const char *verdict_name(int v)
{
	static const char *const names[] = {"change", "package_update", "tampering"};
	return names[v];
}
enum { V_CHANGE, V_PACKAGE, V_TAMPER };

struct judgement {
	int verdict;
	const char *why;
	int verified;			/* MATCH_* */
};

enum { MATCH_NO, MATCH_YES, MATCH_NONE, MATCH_MOVED };

/* Whether the file holds what its package recorded: MATCH_YES or MATCH_NO;
 * MATCH_NONE when there is nothing to compare (no digest, not a regular
 * file, unreadable); MATCH_MOVED when the file has changed again since
 * the finding (its SHA-256 differs), so a later finding speaks for it. */
static int matches_package(struct drift *d, const struct fim_finding *f,
			   const struct pkg_owner *o)
{
	unsigned char dig[PKG_DIGEST_MAX], sha[PKG_DIGEST_MAX];
	size_t n = 0, shan = 0;
	struct vg_err err = {{0}};

	if (!o || !o->package || o->alg == PKG_ALG_NONE || !f->cur ||
	    (f->cur->type & S_IFMT) != S_IFREG)
		return MATCH_NONE;
	if (pkgfile_digest(&d->root, f->path, o->alg, dig, &n, &err) ||
	    ((f->cur->flags & FIM_F_HASHED) &&
	     pkgfile_digest(&d->root, f->path, PKG_ALG_SHA256, sha, &shan, &err))) {
		log_info("realtime drift: %s", err.msg);
		return MATCH_NONE;
	}
	if ((f->cur->flags & FIM_F_HASHED) &&
	    (shan != sizeof(f->cur->sha256) || memcmp(sha, f->cur->sha256, shan)))
		return MATCH_MOVED;
	return n == o->digest_len && !memcmp(dig, o->digest, n) ? MATCH_YES : MATCH_NO;
}

static bool all_pm(const struct actors *by)
{
	for (unsigned i = 0; i < by->n; i++)
		if (!by->v[i]->pm_pid)
			return false;
	return by->n > 0;
}

static const char *pm_reason(const struct fim_finding *f, const struct pkg_owner *o, int m)
{
	switch (m) {
	case MATCH_NO: return "made by the package manager, but the content is not the package's";
	case MATCH_YES: return "made by the package manager; the content is the package's";
	case MATCH_MOVED: return "made by the package manager; the file changed again before "
				 "it could be compared (a later record says how)";
	default:
		if (f->kind == FIM_REMOVED)
			return "removed by the package manager";
		return o && o->package ? "made by the package manager; the package records no "
					 "digest for it" :
					 "made by the package manager; no package ships it";
	}
}

static struct judgement judge(struct drift *d, const struct held *h, const struct pkg_owner *o)
{
	int m = matches_package(d, &h->f, o);
	struct judgement j = {V_CHANGE, NULL, m};

	if (all_pm(&h->by)) {
		j.verdict = m == MATCH_NO ? V_TAMPER : V_PACKAGE;
		j.why = pm_reason(&h->f, o, m);
	} else if (m == MATCH_NO && !o->conffile) {
		/* A conffile is the admin's to edit; a package's program is not. */
		j.verdict = V_TAMPER;
		j.why = "a package's file changed outside the package manager";
	} else if (o && o->package) {
		j.why = o->conffile ? "a package's configuration file edited" :
				      "a package's file changed outside the package manager";
	} else {
		j.why = "not made by the package manager";
	}
	return j;
}

static void package_json(struct vg_buf *b, const struct pkg_owner *o, int m)
{
	buf_puts(b, ",\"package\":");
	if (!o || !o->package) {
		buf_puts(b, "null");
		return;
	}
	buf_puts(b, "{\"name\":");
	json_str(b, o->package);
	buf_printf(b, ",\"manager\":\"%s\",\"conffile\":%s,\"digest_algorithm\":", o->manager,
		   o->conffile ? "true" : "false");
	json_str(b, pkg_alg_name(o->alg));
	buf_printf(b, ",\"verified\":%s}", m == MATCH_YES ? "true" : m == MATCH_NO ? "false" :
					   "null");
}

/* Every process behind the change but the latest (which is "actor"). */
static void others_json(struct vg_buf *b, const struct actors *by)
{
	buf_puts(b, ",\"other_actors\":[");
	for (unsigned i = 0; i + 1 < by->n; i++)
		buf_printf(b, "%s%s", i ? "," : "", by->v[i]->json + by->v[i]->obj);
	buf_puts(b, "]");
}

/* OCSF severity_id: High for tampering, Informational for a package's
 * own update, the kind of change's otherwise (0). */
static int verdict_severity(int verdict)
{
	return verdict == V_TAMPER ? 4 : verdict == V_PACKAGE ? 1 : 0;
}

/* event: someone was seen doing it; else how it was found with nobody. */
static const char *found_by(const struct held *h)
{
	return h->by.n ? "event" : h->coalesced ? "coalesced" : "rescan";
}

static void drift_json(struct drift *d, const struct held *h, const struct pkg_owner *o,
			const struct judgement *j)
{
	const struct actor *a = latest(&h->by);
	struct vg_buf fim = {0};
	struct fim_json_extra x = {
		.severity_id = verdict_severity(j->verdict),
		.top = a ? a->json : "\"actor\":null",
	};

	buf_printf(&fim, "\"realtime\":true,\"found_by\":\"%s\",\"verdict\":\"%s\",\"reason\":",
		   found_by(h), verdict_name(j->verdict));
	json_str(&fim, j->why);
	package_json(&fim, o, j->verified);
	others_json(&fim, &h->by);
	x.fim = fim.p;
	fim_finding_json(&d->line, &h->f, d->hostname, &x);
	buf_puts(&d->line, "\n");
	buf_free(&fim);
}

static void drift_text(struct drift *d, const struct held *h, const struct pkg_owner *o,
			const struct judgement *j)
{
	fim_finding_text(&d->line, &h->f);
	buf_printf(&d->line, "  %s: %s", verdict_name(j->verdict), j->why);
	if (o && o->package)
		buf_printf(&d->line, " (%s package %s)", o->manager, o->package);
	buf_puts(&d->line, "\n");
	if (!h->by.n)
		buf_printf(&d->line, "  found by %s\n", found_by(h));
	for (unsigned i = h->by.n; i-- > 0;)
		buf_printf(&d->line, "  %s%s\n", i + 1 < h->by.n ? "and " : "", h->by.v[i]->text);
}

/* The same judgement for records (ship.h). */
static void drift_emit(struct drift *d, const struct held *h, const struct pkg_owner *o,
		       const struct judgement *j)
{
	const struct ship_actor *by[ACTORS_MAX];
	size_t n = 0;

	for (unsigned i = 0; i < h->by.n; i++)
		if (h->by.v[i]->ship)
			by[n++] = h->by.v[i]->ship;
	struct ship_verdict v = {
		.verdict = verdict_name(j->verdict),
		.reason = j->why,
		.severity_id = verdict_severity(j->verdict),
		.owner = o,
		.verified = j->verified == MATCH_YES ? 1 : j->verified == MATCH_NO ? 0 : -1,
		.actors = by,
		.nactors = n,
		.found_by = found_by(h),
	};
	d->o.emit(d->o.emit_u, &h->f, &v);
}

static void report(struct drift *d, const struct held *h, const struct pkg_owner *o)
{
	struct judgement j = judge(d, h, o);

	d->c.findings++;
	d->c.package_updates += j.verdict == V_PACKAGE;
	d->c.tampering += j.verdict == V_TAMPER;
	d->line.len = 0;
	if (d->o.json)
		drift_json(d, h, o, &j);
	else
		drift_text(d, h, o, &j);
	fputs(d->line.p, d->o.out);
	fflush(d->o.out);
	if (d->o.emit)
		drift_emit(d, h, o, &j);
}

/* A package manager's change is judged once it has finished: dpkg writes
 * the new md5sums after it unpacks the files. */
static bool ready(const struct drift *d, const struct held *h, uint64_t now, bool flush)
{
	if (flush || now - h->since_ns >= ms(d->o.pkg_wait_ms))
		return true;
	for (unsigned i = 0; i < h->by.n; i++) {
		uint32_t pm = h->by.v[i]->pm_pid;
		if (pm && !(kill((pid_t)pm, 0) < 0 && errno == ESRCH))
			return false;
	}
	return true;
}

static void judge_ready(struct drift *d, bool flush)
{
	uint64_t now = now_ns();
	struct pkg_query *q;
	struct vg_err err = {{0}};
	size_t n = 0, kept = 0;
	bool *go;

	if (!d->nheld || (!flush && now - d->last_lookup_ns < ms(d->o.lookup_ms)))
		return;
	q = pkgq_new();
	go = xcalloc(d->nheld, sizeof(*go));
	for (size_t i = 0; i < d->nheld; i++)
		if ((go[i] = ready(d, &d->held[i], now, flush))) {
			pkgq_add(q, d->held[i].f.path);
			n++;
		}
	if (n && pkgfile_lookup(&d->root, q, &err))
		log_warn("realtime drift: package lookup: %s", err.msg);
	for (size_t i = 0; i < d->nheld; i++) {
		struct held *h = &d->held[i];
		if (!go[i]) {
			d->held[kept++] = *h;
			continue;
		}
		report(d, h, pkgq_owner(q, h->f.path));
		fim_finding_fini(&h->f);
		actors_clear(&h->by);
	}
	d->nheld = kept;
	d->last_lookup_ns = now;
	free(go);
	pkgq_free(q);
}

/* ---- the tick ------------------------------------------------------------- */

struct due {
	uint64_t first_ns;
	const char *path;
};

static int due_cmp(const void *x, const void *y)
{
	const struct due *a = x, *b = y;

	return a->first_ns < b->first_ns ? -1 : a->first_ns > b->first_ns;
}

static void untree(struct drift *d, const char *path)
{
	for (size_t i = 0; i < d->trees.n; i++)
		if (!strcmp(d->trees.v[i], path)) {
			free(d->trees.v[i]);
			d->trees.v[i] = d->trees.v[--d->trees.n];
			return;
		}
}

/* What is due, in the order its first event came. */
static void run_due(struct drift *d, bool flush)
{
	uint64_t now = now_ns(), longest = 5 * ms(d->o.debounce_ms);
	struct due *due = xcalloc(d->pending.n + 1, sizeof(*due));
	struct vg_strv paths = {0};
	size_t n = 0;
	const char *key;
	void *val;

	for (size_t i = 0; (i = smap_next(&d->pending, i, &key, &val));) {
		const struct pending *q = val;
		if (flush || q->due_ns <= now || now - q->first_ns >= longest)
			due[n++] = (struct due){q->first_ns, key};
	}
	qsort(due, n, sizeof(*due), due_cmp);
	for (size_t i = 0; i < n; i++)
		strv_push(&paths, due[i].path);	/* keys die with their entries */
	free(due);
	for (size_t i = 0; i < paths.n; i++) {
		struct pending *q = smap_del(&d->pending, paths.v[i], strlen(paths.v[i]));
		if (q->tree)
			untree(d, paths.v[i]);
		recheck_one(d, paths.v[i], q);
		pending_free(q);
	}
	strv_free(&paths);
}

static void rescan_everything(struct drift *d)
{
	struct vg_strv roots = {0};

	d->rescan_all = false;
	fim_live_roots(d->live, &roots);
	log_warn("realtime drift: events were lost; rescanning %zu monitored path(s)",
		 roots.n);
	for (size_t i = 0; i < roots.n; i++)
		recheck_one(d, roots.v[i], &(struct pending){.tree = true});
	strv_free(&roots);
}

static void tick(struct drift *d, bool flush)
{
	struct vg_err err = {{0}};

	if (fim_live_reload(d->live, &err) < 0)
		log_warn("realtime drift: %s", err.msg);
	run_due(d, flush || d->rescan_all);
	if (d->rescan_all)
		rescan_everything(d);
	judge_ready(d, flush);
}

void drift_tick(struct drift *d)
{
	tick(d, false);
}

void drift_flush(struct drift *d)
{
	tick(d, true);
}

/* ---- life ----------------------------------------------------------------- */

int drift_open(struct drift **out, const struct drift_opts *o, struct vg_err *err)
{
	struct drift *d = xcalloc(1, sizeof(*d));

	d->o = *o;
	if (!d->o.debounce_ms)
		d->o.debounce_ms = 200;
	if (!d->o.queue_max)
		d->o.queue_max = 16384;
	if (!d->o.lookup_ms)
		d->o.lookup_ms = 1000;
	if (!d->o.pkg_wait_ms)
		d->o.pkg_wait_ms = 600000;
	if (!d->o.out)
		d->o.out = stdout;
	if (gethostname(d->hostname, sizeof(d->hostname) - 1) < 0)
		d->hostname[0] = 0;
	d->root.fd = -1;
	if (fim_live_open(&d->live, o->cfg, "/", o->state_dir, err) ||
	    root_init(&d->root, "/", err)) {
		drift_close(d);
		return -1;
	}
	*out = d;
	return 0;
}

void drift_close(struct drift *d)
{
	if (!d)
		return;
	smap_free(&d->pending, pending_free);
	strv_free(&d->trees);
	for (size_t i = 0; i < d->nheld; i++) {
		fim_finding_fini(&d->held[i].f);
		actors_clear(&d->held[i].by);
	}
	free(d->held);
	fim_live_close(d->live);
	if (d->root.fd >= 0)
		root_fini(&d->root);
	buf_free(&d->line);
	free(d);
}

void drift_roots(const struct drift *d, struct vg_strv *out)
{
	fim_live_roots(d->live, out);
}

void drift_counters(const struct drift *d, struct drift_counters *c)
{
	*c = d->c;
}
