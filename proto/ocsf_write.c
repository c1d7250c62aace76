/*
 * ocsf_write.c: the counting map writer (ocsf_int.h), strings made safe
 * for any msgpack reader, and what every record starts with.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocsf_int.h"

int ocsf_errf(struct ocsf_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void ow_rc(struct ow *w, int r)
{
	if (r)
		w->rc = -1;
}

static void pack_raw_str(struct ow *w, const char *s, size_t n)
{
	ow_rc(w, msgpack_pack_str(w->pk, n) || msgpack_pack_str_body(w->pk, s, n));
}

bool ow_key(struct ow *w, const char *key)
{
	w->n++;
	if (!w->pk)
		return false;
	pack_raw_str(w, key, strlen(key));	/* keys are this file's ASCII */
	return true;
}

bool ow_data_key(struct ow *w, const char *key)
{
	w->n++;
	if (!w->pk)
		return false;
	ow_str(w, key);
	return true;
}

void ow_map(struct ow *w, ow_fn fn, const void *arg)
{
	struct ow count = {0};
	uint32_t outer = w->n;

	if (!w->pk)
		return;
	fn(&count, arg);
	ow_rc(w, msgpack_pack_map(w->pk, count.n));
	w->n = 0;
	fn(w, arg);
	if (w->n != count.n)		/* a body that answered differently twice */
		w->rc = -1;
	w->n = outer;
}

void ow_array(struct ow *w, size_t n)
{
	ow_rc(w, msgpack_pack_array(w->pk, n));
}

/* ---- strings ------------------------------------------------------------ */

/* The length of the valid UTF-8 sequence at p (avail bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	size_t n;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, past U+10FFFF */
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static bool utf8_clean(const unsigned char *p, size_t len)
{
	for (size_t i = 0, n; i < len; i += n)
		if (!(n = utf8_seq(p + i, len - i)))
			return false;
	return true;
}

static const char REPLACEMENT[] = "\xef\xbf\xbd";	/* U+FFFD */
static const char ELLIPSIS[] = "\xe2\x80\xa6";		/* U+2026 */

/* Invalid bytes become U+FFFD; past OCSF_STR_MAX the string is cut on a
 * character boundary and ends in U+2026, all within OCSF_STR_MAX. */
static void pack_repaired(struct ow *w, const unsigned char *p, size_t len)
{
	char *out = malloc(OCSF_STR_MAX);
	size_t o = 0, i = 0;

	if (!out) {
		w->rc = -1;
		return;
	}
	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		const char *piece = n ? (const char *)p + i : REPLACEMENT;
		size_t plen = n ? n : 3;

		if (o + plen > OCSF_STR_MAX)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += n ? n : 1;
	}
	if (i < len) {			/* cut: make room for the ellipsis */
		while (o > OCSF_STR_MAX - 3) {
			do
				o--;
			while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80);
		}
		memcpy(out + o, ELLIPSIS, 3);
		o += 3;
	}
	pack_raw_str(w, out, o);
	free(out);
}

void ow_strn(struct ow *w, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (len <= OCSF_STR_MAX && utf8_clean(p, len))
		pack_raw_str(w, s, len);
	else
		pack_repaired(w, p, len);
}

void ow_str(struct ow *w, const char *s)
{
	ow_strn(w, s ? s : "", s ? strlen(s) : 0);
}

/* ---- scalars ------------------------------------------------------------ */

void ow_uint(struct ow *w, uint64_t v)
{
	ow_rc(w, msgpack_pack_uint64(w->pk, v));
}

void ow_int(struct ow *w, int64_t v)
{
	ow_rc(w, msgpack_pack_int64(w->pk, v));
}

void ow_bool(struct ow *w, bool v)
{
	ow_rc(w, v ? msgpack_pack_true(w->pk) : msgpack_pack_false(w->pk));
}

void ow_nil(struct ow *w)
{
	ow_rc(w, msgpack_pack_nil(w->pk));
}

void ow_double(struct ow *w, double v)
{
	ow_rc(w, msgpack_pack_double(w->pk, v));
}

void ow_kstr(struct ow *w, const char *k, const char *s)
{
	if (ow_key(w, k))
		ow_str(w, s);
}

void ow_kstr_nil(struct ow *w, const char *k, const char *s)
{
	if (ow_key(w, k)) {
		if (s)
			ow_str(w, s);
		else
			ow_nil(w);
	}
}

void ow_kuint(struct ow *w, const char *k, uint64_t v)
{
	if (ow_key(w, k))
		ow_uint(w, v);
}

void ow_kint(struct ow *w, const char *k, int64_t v)
{
	if (ow_key(w, k))
		ow_int(w, v);
}

void ow_kbool(struct ow *w, const char *k, bool v)
{
	if (ow_key(w, k))
		ow_bool(w, v);
}

void ow_kmap(struct ow *w, const char *k, ow_fn fn, const void *arg)
{
	if (ow_key(w, k))
		ow_map(w, fn, arg);
}

void ow_kstrs(struct ow *w, const char *k, const char *const *v, size_t n)
{
	if (!ow_key(w, k))
		return;
	if (n > OCSF_LIST_MAX)
		n = OCSF_LIST_MAX;
	ow_array(w, n);
	for (size_t i = 0; i < n; i++)
		ow_str(w, v[i]);
}

void ow_kuid(struct ow *w, const char *k, uint64_t id)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)id);

	if (ow_key(w, k))
		pack_raw_str(w, buf, (size_t)n);
}

/* unmapped: {vigil: body(r)} */
struct unmapped_arg {
	ow_fn body;
	const void *r;
};

static void unmapped_body(struct ow *w, const void *arg)
{
	const struct unmapped_arg *u = arg;

	ow_kmap(w, "vigil", u->body, u->r);
}

void ow_unmapped(struct ow *w, ow_fn body, const void *r)
{
	struct unmapped_arg u = {body, r};

	ow_kmap(w, "unmapped", unmapped_body, &u);
}

int ow_record(msgpack_packer *pk, ow_fn body, const void *arg, struct ocsf_err *err)
{
	struct ow w = {.pk = pk};

	ow_map(&w, body, arg);
	if (w.rc)
		return ocsf_errf(err, "out of memory packing a record");
	return 0;
}

/* ---- the common part ------------------------------------------------------ */

int ocsf_src_check(const struct ocsf_src *s, struct ocsf_err *err)
{
	if (!s || !s->host_uid || !*s->host_uid)
		return ocsf_errf(err, "device.uid: no host id (the certificate's CN)");
	if (strlen(s->host_uid) > 255)
		return ocsf_errf(err, "device.uid: %zu bytes, at most 255", strlen(s->host_uid));
	return 0;
}

static void product_body(struct ow *w, const void *arg)
{
	const struct ocsf_src *s = arg;

	ow_kstr(w, "name", OCSF_PRODUCT);
	ow_kstr(w, "vendor_name", OCSF_PRODUCT);
	if (s->product_version)
		ow_kstr(w, "version", s->product_version);
}

static void metadata_body(struct ow *w, const void *arg)
{
	const struct ocsf_common *c = arg;

	ow_kstr(w, "version", OCSF_VERSION);
	ow_kmap(w, "product", product_body, c->src);
	if (c->h->uid)
		ow_kstr(w, "uid", c->h->uid);
}

static void os_body(struct ow *w, const void *arg)
{
	const struct ocsf_src *s = arg;

	ow_kstr(w, "name", s->os_name ? s->os_name : "Linux");
	ow_kuint(w, "type_id", 200);	/* Linux */
	if (s->os_version)
		ow_kstr(w, "version", s->os_version);
}

static void device_body(struct ow *w, const void *arg)
{
	const struct ocsf_src *s = arg;

	ow_kstr(w, "uid", s->host_uid);
	if (s->hostname)
		ow_kstr(w, "hostname", s->hostname);
	ow_kuint(w, "type_id", 0);	/* Unknown: server, desktop or VM is not known */
	ow_kmap(w, "os", os_body, s);
}

void ocsf_common(struct ow *w, const struct ocsf_common *c)
{
	ow_kuint(w, "class_uid", (uint64_t)c->class_uid);
	ow_kuint(w, "category_uid", (uint64_t)c->category_uid);
	ow_kuint(w, "activity_id", (uint64_t)c->activity_id);
	ow_kuint(w, "type_uid", ocsf_type_uid(c->class_uid, c->activity_id));
	ow_kuint(w, "time", c->h->time_ms);
	ow_kuint(w, "severity_id", (uint64_t)c->severity_id);
	if (c->status_id)
		ow_kuint(w, "status_id", (uint64_t)c->status_id);
	ow_kmap(w, "metadata", metadata_body, c);
	ow_kmap(w, "device", device_body, c->src);
}
