/*
 * fim_report.c: findings for people (text) and machines (JSON), written as
 * they are found so a large drift never has to be held in memory.
 *
 * A JSON finding is an OCSF 1.1 File System Activity (class 1001) record:
 * a new entry is Create, a missing one Delete, a content change Update, a
 * mode, owner or security label change Set Security, any other attribute
 * Set Attributes. What OCSF has no attribute for (mode, group, inode,
 * ctime, links, ...) is in unmapped.fim.changes as old/new pairs, which
 * also lists every attribute that differs in its own words.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fim_impl.h"

#define OCSF_VERSION "1.1.0"

const char *fim_change_name(enum fim_change k)
{
	switch (k) {
	case FIM_ADDED: return "added";
	case FIM_REMOVED: return "removed";
	case FIM_CHANGED: return "changed";
	case FIM_UNSTABLE: return "unstable";
	case FIM_UNREADABLE: return "unreadable";
	}
	return "?";
}

static void human_bytes(char *s, size_t n, double v)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB"};
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(s, n, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

/* ---- text -------------------------------------------------------------- */

static void text_attrs(struct vg_buf *b, const struct fim_record *old,
		       const struct fim_record *cur, unsigned mask)
{
	for (int i = 0; i < FIM_NATTRS; i++) {
		unsigned a = 1u << i;
		if (!(mask & a))
			continue;
		buf_printf(b, "           %-10s ", fim_attr_name(a));
		if (old)
			fim_attr_format(b, old, a);
		if (old && cur)
			buf_puts(b, " \u2192 ");
		if (cur)
			fim_attr_format(b, cur, a);
		buf_puts(b, "\n");
	}
}

static void text_brief(struct vg_buf *b, const struct fim_record *r)
{
	buf_printf(b, " (%s %04o %" PRIu32 ":%" PRIu32, fim_type_name(r->type), r->mode, r->uid,
		   r->gid);
	if (r->type == S_IFREG)
		buf_printf(b, ", %" PRIu64 " bytes", r->size);
	if (r->target)
		buf_printf(b, ", \u2192 %s", r->target);
	buf_puts(b, ")");
}

void fim_finding_text(struct vg_buf *b, const struct fim_finding *f)
{
	buf_printf(b, "%-10s %s", fim_change_name(f->kind), f->path);
	switch (f->kind) {
	case FIM_ADDED:
		text_brief(b, f->cur);
		break;
	case FIM_REMOVED:
		text_brief(b, f->old);
		break;
	case FIM_CHANGED:
		break;
	case FIM_UNSTABLE:
		buf_puts(b, " (changed every time it was read; no digest)");
		break;
	case FIM_UNREADABLE:
		buf_printf(b, " (could not be read: %s)", f->err ? strerror(f->err) : "unknown");
		break;
	}
	if (f->set)
		buf_printf(b, " [%s]", f->set);
	buf_puts(b, "\n");
	if (f->kind == FIM_CHANGED)
		text_attrs(b, f->old, f->cur, f->changed);
}

/* ---- JSON -------------------------------------------------------------- */

static int ocsf_type_id(unsigned type)
{
	switch (type & S_IFMT) {
	case S_IFREG: return 1;
	case S_IFDIR: return 2;
	case S_IFCHR: return 3;
	case S_IFBLK: return 4;
	case S_IFSOCK: return 5;
	case S_IFIFO: return 6;
	case S_IFLNK: return 7;
	default: return 99;
	}
}

static const char *ocsf_type_name(int id)
{
	static const char *const names[] = {"Unknown", "Regular File", "Folder",
					    "Character Device", "Block Device", "Local Socket",
					    "Named Pipe", "Symbolic Link"};
	return id >= 0 && id <= 7 ? names[id] : "Other";
}

static void json_attr(struct vg_buf *b, const struct fim_record *r, unsigned a)
{
	struct vg_buf v = {0};

	if (!r) {
		buf_puts(b, "null");
		return;
	}
	fim_attr_format(&v, r, a);
	json_str(b, v.p);
	buf_free(&v);
}

static void json_file(struct vg_buf *b, const char *path, const struct fim_record *r)
{
	const char *slash = strrchr(path, '/');
	int tid = r ? ocsf_type_id(r->type) : 0;
	struct vg_buf v = {0};

	buf_puts(b, "{\"path\":");
	json_str(b, path);
	buf_puts(b, ",\"name\":");
	json_str(b, slash && slash[1] ? slash + 1 : path);
	char *parent = slash && slash != path ? xstrndup(path, (size_t)(slash - path)) :
						xstrdup("/");
	buf_puts(b, ",\"parent_folder\":");
	json_str(b, parent);
	free(parent);
	if (!r) {		/* known by name only: it could not be read */
		buf_puts(b, "}");
		return;
	}
	buf_printf(b, ",\"type_id\":%d,\"type\":\"%s\",\"size\":%" PRIu64, tid,
		   ocsf_type_name(tid), r->size);
	buf_printf(b, ",\"uid\":\"%" PRIu64 "\",\"modified_time\":%" PRId64, r->ino,
		   r->mtime_ns / 1000000);
	buf_printf(b, ",\"owner\":{\"uid\":\"%" PRIu32 "\"}", r->uid);
	if (r->flags & FIM_F_HASHED) {
		fim_attr_format(&v, r, FIM_A_SHA256);
		buf_printf(b, ",\"hashes\":[{\"algorithm_id\":3,\"algorithm\":\"SHA-256\","
			   "\"value\":\"%s\"}]", v.p);
		v.len = 0;
	}
	if (r->selinux || r->cap) {
		buf_puts(b, ",\"xattributes\":{");
		if (r->selinux) {
			buf_puts(b, "\"security.selinux\":");
			json_str(b, r->selinux);
		}
		if (r->cap) {
			fim_attr_format(&v, r, FIM_A_CAPS);
			buf_printf(b, "%s\"security.capability\":\"%s\"", r->selinux ? "," : "",
				   v.p);
		}
		buf_puts(b, "}");
	}
	buf_free(&v);
	buf_puts(b, "}");
}

int fim_finding_activity(const struct fim_finding *f, const char **name)
{
	const unsigned content = FIM_A_TYPE | FIM_A_SIZE | FIM_A_SHA256 | FIM_A_TARGET |
				 FIM_A_INODE | FIM_A_MTIME;
	const unsigned security = FIM_A_MODE | FIM_A_UID | FIM_A_GID | FIM_A_SELINUX |
				  FIM_A_CAPS;

	switch (f->kind) {
	case FIM_ADDED: *name = "Create"; return 1;
	case FIM_REMOVED: *name = "Delete"; return 4;
	case FIM_CHANGED:
		if (f->changed & content) {
			*name = "Update";
			return 3;
		}
		if (f->changed & security) {
			*name = "Set Security";
			return 7;
		}
		*name = "Set Attributes";
		return 6;
	default:
		*name = "Other";
		return 99;
	}
}

static void json_changes(struct vg_buf *b, const struct fim_finding *f)
{
	unsigned mask = f->kind == FIM_CHANGED ? f->changed :
			f->cur ? f->cur->attrs : f->old ? f->old->attrs : 0;
	bool first = true;

	buf_puts(b, "\"changes\":[");
	for (int i = 0; i < FIM_NATTRS; i++) {
		unsigned a = 1u << i;
		if (!(mask & a))
			continue;
		buf_printf(b, "%s{\"attribute\":\"%s\",\"old\":", first ? "" : ",",
			   fim_attr_name(a));
		json_attr(b, f->old, a);
		buf_puts(b, ",\"new\":");
		json_attr(b, f->kind == FIM_UNSTABLE || f->kind == FIM_UNREADABLE ? NULL : f->cur,
			  a);
		buf_puts(b, "}");
		first = false;
	}
	buf_puts(b, "]");
}

void fim_finding_json(struct vg_buf *b, const struct fim_finding *f, const char *hostname,
		      const struct fim_json_extra *x)
{
	const struct fim_record *file = f->cur ? f->cur : f->old;
	const char *aname;
	int aid = fim_finding_activity(f, &aname);
	struct timeval tv;
	bool problem = f->kind == FIM_UNSTABLE || f->kind == FIM_UNREADABLE;

	gettimeofday(&tv, NULL);
	buf_printf(b, "{\"class_uid\":1001,\"class_name\":\"File System Activity\","
		   "\"category_uid\":1,\"category_name\":\"System Activity\","
		   "\"activity_id\":%d,\"activity_name\":\"%s\",\"type_uid\":%d,"
		   "\"time\":%lld,\"severity_id\":%d,\"status_id\":%d,",
		   aid, aname, 100100 + aid,
		   (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000,
		   x && x->severity_id ? x->severity_id : problem ? 2 : 3, problem ? 2 : 1);
	if (x && x->top)
		buf_printf(b, "%s,", x->top);
	buf_puts(b, "\"metadata\":{\"version\":\"" OCSF_VERSION "\",\"product\":{\"name\":"
		    "\"vigil\",\"vendor_name\":\"vigil\",\"version\":\"" VIGIL_VERSION "\"}},");
	buf_puts(b, "\"device\":{\"hostname\":");
	json_str(b, hostname ? hostname : "");
	buf_puts(b, "},\"file\":");
	json_file(b, f->path, file);
	if (f->kind == FIM_UNREADABLE) {
		buf_puts(b, ",\"status_detail\":");
		json_str(b, f->err ? strerror(f->err) : "unknown");
	}
	buf_puts(b, ",\"unmapped\":{\"fim\":{\"change\":");
	json_str(b, fim_change_name(f->kind));
	buf_puts(b, ",\"set\":");
	json_str(b, f->set);
	buf_puts(b, ",");
	json_changes(b, f);
	if (x && x->fim)
		buf_printf(b, ",%s", x->fim);
	buf_puts(b, "}}}");
}

/* ---- the report -------------------------------------------------------- */

void fim_report_begin(struct fim_report *rep)
{
	struct vg_buf b = {0};

	rep->nfindings = 0;
	if (!rep->json)
		return;
	buf_printf(&b, "{\"op\":\"%s\",\"root\":", rep->op);
	json_str(&b, rep->root);
	buf_puts(&b, ",\"baseline\":");
	json_str(&b, rep->db);
	buf_puts(&b, ",\"findings\":[");
	fputs(b.p, rep->out);
	buf_free(&b);
}

void fim_report_finding(struct fim_report *rep, const struct fim_finding *f)
{
	struct vg_buf b = {0};

	if (rep->json) {
		if (rep->nfindings)
			buf_puts(&b, ",\n");
		else
			buf_puts(&b, "\n");
		fim_finding_json(&b, f, rep->hostname, NULL);
	} else {
		fim_finding_text(&b, f);
	}
	fputs(b.p, rep->out);
	buf_free(&b);
	rep->nfindings++;
}

static void json_summary(struct vg_buf *b, const struct fim_summary *s)
{
	buf_printf(b, "\"summary\":{\"entries\":%" PRIu64 ",\"hashed_files\":%" PRIu64
		   ",\"hashed_bytes\":%" PRIu64 ",\"added\":%" PRIu64 ",\"removed\":%" PRIu64
		   ",\"changed\":%" PRIu64 ",\"unstable\":%" PRIu64 ",\"unreadable\":%" PRIu64
		   ",\"requeued\":%" PRIu64 ",\"seconds\":%.3f}",
		   s->entries, s->hashed_files, s->hashed_bytes, s->added, s->removed,
		   s->changed, s->unstable, s->unreadable, s->requeued, s->seconds);
}

void fim_report_end(struct fim_report *rep, const struct fim_summary *s)
{
	struct vg_buf b = {0};
	char bytes[32];

	if (rep->json) {
		buf_puts(&b, rep->nfindings ? "\n]," : "],");
		json_summary(&b, s);
		buf_puts(&b, "}\n");
	} else {
		human_bytes(bytes, sizeof(bytes), (double)s->hashed_bytes);
		if (strcmp(rep->op, "init"))
			buf_printf(&b, "%s: %" PRIu64 " added, %" PRIu64 " removed, %" PRIu64
				   " changed", rep->op, s->added, s->removed, s->changed);
		else
			buf_printf(&b, "init: baseline written");
		if (s->unstable || s->unreadable)
			buf_printf(&b, ", %" PRIu64 " unstable, %" PRIu64 " unreadable",
				   s->unstable, s->unreadable);
		buf_printf(&b, "; %" PRIu64 " entries, %" PRIu64 " files read (%s) in %.2f s\n",
			   s->entries, s->hashed_files, bytes, s->seconds);
		buf_printf(&b, "baseline: %s\n", rep->db);
	}
	fputs(b.p, rep->out);
	buf_free(&b);
}

/* ---- progress ---------------------------------------------------------- */

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fim_progress_tick(struct fim_progress *p, const struct fim_summary *s, bool force)
{
	double t = now_real(), el, rate;
	char done[32], speed[32], eta[32] = "";

	if (!p->on)
		return;
	if (p->start == 0)
		p->start = p->last = t;
	if (!force && t - p->last < 0.25)
		return;
	p->last = t;
	el = t - p->start > 1e-3 ? t - p->start : 1e-3;
	rate = (double)s->hashed_bytes / el;
	human_bytes(done, sizeof(done), (double)s->hashed_bytes);
	human_bytes(speed, sizeof(speed), rate);
	/* The last baseline's size is the best guess of this run's. */
	double frac = p->by_bytes ?
		(p->total_bytes ? (double)s->hashed_bytes / (double)p->total_bytes : 0) :
		(p->total_entries ? (double)s->entries / (double)p->total_entries : 0);
	if (frac > 0 && frac < 1) {
		double left = el * (1 - frac) / frac;
		snprintf(eta, sizeof(eta), ", ETA %d:%02d", (int)left / 60, (int)left % 60);
	}
	fprintf(stderr, "\r\033[K%" PRIu64 " entries, %" PRIu64 " files, %s read, %s/s%s",
		s->entries, s->hashed_files, done, speed, eta);
	fflush(stderr);
}

void fim_progress_clear(struct fim_progress *p)
{
	if (p->on && p->start != 0)
		fputs("\r\033[K", stderr);
}
