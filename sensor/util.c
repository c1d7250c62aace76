/* util.c: allocation that cannot fail silently, strings, evidence. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

int vg_errf(struct vg_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Out of memory is not a condition a compliance run can report honestly
 * about, so it ends the program with a clear message. */
static void oom(size_t n)
{
	fprintf(stderr, "vigil: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(0);
	va_end(ap);
	return s;
}

void strv_push_owned(struct vg_strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
}

void strv_push(struct vg_strv *sv, const char *s)
{
	strv_push_owned(sv, xstrdup(s));
}

void strv_split(struct vg_strv *sv, const char *s, const char *sep)
{
	char *copy = xstrdup(s), *save = NULL;

	for (char *t = strtok_r(copy, sep, &save); t; t = strtok_r(NULL, sep, &save))
		if (*(t = str_trim(t)))
			strv_push(sv, t);
	free(copy);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct vg_strv *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

bool strv_has(const struct vg_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void strv_free(struct vg_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

void buf_put(struct vg_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void buf_puts(struct vg_buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_printf(struct vg_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	buf_put(b, s, (size_t)n);
	free(s);
}

void buf_free(struct vg_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

char *str_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
		     s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

bool str_to_ll(const char *s, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

void ev_add(struct vg_ev *ev, const char *fmt, ...)
{
	va_list ap;

	ev->total++;
	if (ev->n == VG_EV_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&ev->item[ev->n], fmt, ap) < 0)
		oom(0);
	va_end(ap);
	ev->n++;
}

void ev_append(struct vg_ev *dst, struct vg_ev *src)
{
	for (size_t i = 0; i < src->n; i++) {
		if (dst->n < VG_EV_MAX)
			dst->item[dst->n++] = src->item[i];
		else
			free(src->item[i]);
	}
	dst->total += src->total;
	src->n = src->total = 0;
}

void ev_free(struct vg_ev *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		free(ev->item[i]);
	ev->n = ev->total = 0;
}

const char *status_name(enum vg_status s)
{
	static const char *const names[] = {"passed", "failed", "not_applicable", "error"};
	return (unsigned)s < 4 ? names[s] : "?";
}

int status_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, status_name((enum vg_status)i)) == 0)
			return i;
	return -1;
}

const char *severity_name(enum vg_severity s)
{
	static const char *const names[] = {"low", "medium", "high", "critical"};
	return (unsigned)s < 4 ? names[s] : "?";
}

int severity_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, severity_name((enum vg_severity)i)) == 0)
			return i;
	return -1;
}
