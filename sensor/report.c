/* report.c: a run's results, for a person (text) or a program (JSON). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vigil.h"

void host_describe(const struct vg_ctx *ctx, const struct vg_osrel *os, struct vg_host *h)
{
	char name[256] = "";
	char *buf;
	struct utsname u;

	memset(h, 0, sizeof(*h));
	h->live = ctx->root.live;
	h->root = xstrdup(ctx->root.dir);
	if (h->live) {
		if (gethostname(name, sizeof(name) - 1) == 0)
			h->hostname = xstrdup(name);
		if (uname(&u) == 0)
			h->kernel = xstrdup(u.release);
	} else if (root_read(&ctx->root, "/etc/hostname", 4096, &buf, NULL) == 0) {
		h->hostname = xstrdup(str_trim(buf));
		free(buf);
	}
	if (os->pretty_name)
		h->os = xstrdup(os->pretty_name);
	else if (os->id)
		h->os = xasprintf("%s %s", os->id, os->version_id ? os->version_id : "");
}

void host_free(struct vg_host *h)
{
	free(h->hostname);
	free(h->os);
	free(h->kernel);
	free(h->root);
	memset(h, 0, sizeof(*h));
}

/* ---- text ---- */

struct paint {
	bool on;
};

static const char *col(const struct paint *p, const char *code)
{
	return p->on ? code : "";
}
#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define OFF "\033[0m"

static void indent_text(FILE *out, const char *label, const char *text)
{
	const char *p = text;
	bool first = true;

	while (*p) {
		size_t n = strcspn(p, "\n");
		fprintf(out, "      %-10s%.*s\n", first ? label : "", (int)n, p);
		first = false;
		p += n;
		if (*p == '\n')
			p++;
	}
}

static void text_refs(FILE *out, const struct vg_check *c)
{
	if (!c->ncis && !c->nist.n)
		return;
	fprintf(out, "      %-10s", "controls:");
	for (size_t i = 0; i < c->ncis; i++)
		fprintf(out, "CIS %s%s%s ", c->cis[i].id, c->cis[i].level ? " L" : "",
			c->cis[i].level ? (c->cis[i].level == 1 ? "1" : "2") : "");
	for (size_t i = 0; i < c->nist.n; i++)
		fprintf(out, "%s%s", i ? ", " : "NIST 800-53 ", c->nist.v[i]);
	fputc('\n', out);
}

static void text_detail(FILE *out, const struct vg_check *c, const struct vg_result *r,
			const struct paint *p)
{
	const char *tag = r->status == VG_FAILED ? "FAIL" : "ERROR";
	const char *color = r->status == VG_FAILED ? RED : YELLOW;

	fprintf(out, "  %s%-5s%s %s%s%s  [%s]\n", col(p, color), tag, col(p, OFF), col(p, BOLD),
		c->title, col(p, OFF), severity_name(c->severity));
	fprintf(out, "      %-10s%s\n", "id:", c->id);
	for (size_t i = 0; i < r->ev.n; i++)
		fprintf(out, "      %-10s%s\n", i ? "" : "evidence:", r->ev.item[i]);
	if (r->ev.total > r->ev.n)
		fprintf(out, "      %-10s... and %zu more\n", "", r->ev.total - r->ev.n);
	if (r->status == VG_FAILED && c->remediation)
		indent_text(out, "fix:", c->remediation);
	text_refs(out, c);
}

/* Sections in the order the baseline first names them. */
static void sections(const struct vg_baseline *b, struct vg_strv *out)
{
	for (size_t i = 0; i < b->nchecks; i++)
		if (!strv_has(out, b->checks[i].section))
			strv_push(out, b->checks[i].section);
}

static void text_section_details(FILE *out, const struct vg_baseline *b,
				 const struct vg_result *res, const char *sec,
				 enum vg_status want, const struct paint *p)
{
	bool header = false;

	for (size_t i = 0; i < b->nchecks; i++) {
		if (!res[i].selected || res[i].status != want || strcmp(b->checks[i].section, sec))
			continue;
		if (!header)
			fprintf(out, "\n%s%s%s\n", col(p, BOLD), sec, col(p, OFF));
		header = true;
		text_detail(out, &b->checks[i], &res[i], p);
	}
}

void report_text(FILE *out, const struct vg_baseline *b, const struct vg_host *h,
		 const struct vg_result *res, const struct vg_summary *sum, bool color)
{
	struct paint p = {color};
	struct vg_strv secs = {0};

	fprintf(out, "%s%s%s (%s %s)\n", col(&p, BOLD), b->name, col(&p, OFF), b->id, b->version);
	fprintf(out, "host %s, %s%s%s%s\n", h->hostname ? h->hostname : "(unknown)",
		h->os ? h->os : "unknown OS", h->kernel ? ", kernel " : "",
		h->kernel ? h->kernel : "", h->live ? "" : "");
	if (!h->live)
		fprintf(out, "offline: checking the image at %s\n", h->root);
	sections(b, &secs);
	for (size_t s = 0; s < secs.n; s++)
		text_section_details(out, b, res, secs.v[s], VG_FAILED, &p);
	for (size_t s = 0; s < secs.n; s++)
		text_section_details(out, b, res, secs.v[s], VG_ERROR, &p);
	fprintf(out, "\n%sBy section%s\n", col(&p, BOLD), col(&p, OFF));
	for (size_t s = 0; s < secs.n; s++) {
		size_t c[4] = {0};
		for (size_t i = 0; i < b->nchecks; i++)
			if (res[i].selected && !strcmp(b->checks[i].section, secs.v[s]))
				c[res[i].status]++;
		if (!(c[0] + c[1] + c[2] + c[3]))
			continue;
		fprintf(out, "  %-44s %s%3zu passed%s  %s%3zu failed%s  %zu n/a  %zu errors\n",
			secs.v[s], c[0] ? col(&p, GREEN) : "", c[0], col(&p, OFF),
			c[1] ? col(&p, RED) : "", c[1], col(&p, OFF), c[2], c[3]);
	}
	strv_free(&secs);
	if (isnan(sum->score))
		fprintf(out, "\nScore n/a: ");
	else
		fprintf(out, "\n%sScore %.1f%%%s: ", col(&p, BOLD), sum->score, col(&p, OFF));
	fprintf(out, "%zu passed, %zu failed, %zu not applicable, %zu errors\n", sum->passed,
		sum->failed, sum->na, sum->errors);
	if (sum->skipped)
		fprintf(out, "--quick: %zu filesystem-wide check(s) left out\n", sum->skipped);
}

/* ---- JSON ---- */

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void json_str(struct vg_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (!s) {
		buf_puts(b, "null");
		return;
	}
	buf_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7] = "\\u00";
		switch (*p) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 15];
				buf_put(b, esc, 6);
			} else if (*p < 0x80) {
				buf_put(b, (const char *)p, 1);
			} else {
				/* Evidence quotes files from the host: bytes that are
				 * not UTF-8 become U+FFFD so the document stays valid. */
				size_t n = utf8_len(p);
				if (n)
					buf_put(b, (const char *)p, n), p += n - 1;
				else
					buf_puts(b, "\\ufffd");
			}
		}
	}
	buf_put(b, "\"", 1);
}

void json_kv(struct vg_buf *b, const char *k, const char *v, bool comma)
{
	json_str(b, k);
	buf_put(b, ":", 1);
	json_str(b, v);
	if (comma)
		buf_put(b, ",", 1);
}

static void json_check(struct vg_buf *b, const struct vg_check *c, const struct vg_result *r)
{
	buf_puts(b, "{");
	json_kv(b, "id", c->id, true);
	json_kv(b, "title", c->title, true);
	json_kv(b, "section", c->section, true);
	json_kv(b, "status", status_name(r->status), true);
	json_kv(b, "severity", severity_name(c->severity), true);
	json_kv(b, "description", c->description, true);
	json_kv(b, "rationale", c->rationale, true);
	json_kv(b, "remediation", c->remediation, true);
	buf_puts(b, "\"compliance\":{\"cis\":[");
	for (size_t i = 0; i < c->ncis; i++) {
		buf_puts(b, i ? ",{" : "{");
		json_kv(b, "id", c->cis[i].id, true);
		buf_printf(b, "\"level\":%d}", c->cis[i].level);
	}
	buf_puts(b, "],\"nist_800_53\":[");
	for (size_t i = 0; i < c->nist.n; i++) {
		if (i)
			buf_put(b, ",", 1);
		json_str(b, c->nist.v[i]);
	}
	buf_puts(b, "]},\"evidence\":[");
	for (size_t i = 0; i < r->ev.n; i++) {
		if (i)
			buf_put(b, ",", 1);
		json_str(b, r->ev.item[i]);
	}
	buf_printf(b, "],\"evidence_omitted\":%zu}", r->ev.total - r->ev.n);
}

void report_json(FILE *out, const struct vg_baseline *b, const struct vg_host *h,
		 const struct vg_result *res, const struct vg_summary *sum)
{
	struct vg_buf j = {0};
	bool first = true;

	buf_puts(&j, "{\"baseline\":{");
	json_kv(&j, "id", b->id, true);
	json_kv(&j, "name", b->name, true);
	json_kv(&j, "version", b->version, true);
	json_kv(&j, "file", b->file, false);
	buf_puts(&j, "},\"host\":{");
	json_kv(&j, "hostname", h->hostname, true);
	json_kv(&j, "os", h->os, true);
	json_kv(&j, "kernel", h->kernel, true);
	json_kv(&j, "root", h->root, true);
	buf_printf(&j, "\"live\":%s},", h->live ? "true" : "false");
	buf_printf(&j, "\"summary\":{\"passed\":%zu,\"failed\":%zu,\"not_applicable\":%zu,"
		       "\"errors\":%zu,\"skipped\":%zu,\"score\":", sum->passed, sum->failed, sum->na,
		   sum->errors, sum->skipped);
	if (isnan(sum->score))
		buf_puts(&j, "null}");
	else
		buf_printf(&j, "%.2f}", sum->score);
	buf_puts(&j, ",\"checks\":[");
	for (size_t i = 0; i < b->nchecks; i++) {
		if (!res[i].selected)
			continue;
		if (!first)
			buf_put(&j, ",", 1);
		first = false;
		json_check(&j, &b->checks[i], &res[i]);
	}
	buf_puts(&j, "]}\n");
	fputs(j.p, out);
	buf_free(&j);
}
