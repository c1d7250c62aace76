/*
 * ocsf_int.h: what the ocsf_*.c files share: a map writer that counts.
 *
 * A msgpack map states its number of keys before them. Each map here is
 * written by one body function, run twice: first counting (ow_key returns
 * false and nothing is written), then writing (ow_key writes the key and
 * returns true, and the caller writes the value). So a key is counted
 * exactly when it is written, and an optional field needs one test, in
 * one place:
 *
 *	static void body(struct ow *w, const void *arg)
 *	{
 *		const struct x *x = arg;
 *		ow_kuint(w, "pid", x->pid);
 *		if (x->name)
 *			ow_kstr(w, "name", x->name);
 *		if (x->parent && ow_key(w, "parent_process"))
 *			ow_map(w, body, x->parent);
 *	}
 *
 * Counting does not descend into nested maps: a nested map is one key.
 * Errors are sticky in w->rc; a body never needs to check them.
 */
#ifndef VIGIL_OCSF_INT_H
#define VIGIL_OCSF_INT_H

#include "ocsf.h"

struct ow {
	msgpack_packer *pk;		/* NULL: counting */
	uint32_t n;			/* keys of the map being written */
	int rc;				/* 0, or -1 once any write failed */
};

typedef void (*ow_fn)(struct ow *w, const void *arg);

bool ow_key(struct ow *w, const char *key);	/* true: write the value now */
bool ow_data_key(struct ow *w, const char *key);	/* a key that is data: repaired */
void ow_map(struct ow *w, ow_fn fn, const void *arg);
void ow_array(struct ow *w, size_t n);		/* then n values */
void ow_str(struct ow *w, const char *s);	/* repaired and cut (ocsf.h); NULL: "" */
void ow_strn(struct ow *w, const char *s, size_t len);
void ow_uint(struct ow *w, uint64_t v);
void ow_int(struct ow *w, int64_t v);
void ow_bool(struct ow *w, bool v);
void ow_nil(struct ow *w);
void ow_double(struct ow *w, double v);

/* key and value in one call */
void ow_kstr(struct ow *w, const char *k, const char *s);	/* NULL: "" */
void ow_kstr_nil(struct ow *w, const char *k, const char *s);	/* NULL: nil */
void ow_kuint(struct ow *w, const char *k, uint64_t v);
void ow_kint(struct ow *w, const char *k, int64_t v);
void ow_kbool(struct ow *w, const char *k, bool v);
void ow_kmap(struct ow *w, const char *k, ow_fn fn, const void *arg);
void ow_kstrs(struct ow *w, const char *k, const char *const *v, size_t n);	/* [str] */
void ow_kuid(struct ow *w, const char *k, uint64_t id);	/* an id as a decimal str */
void ow_unmapped(struct ow *w, ow_fn body, const void *r);	/* unmapped: {vigil: {body}} */

/* Packs a whole record: the one top-level map body writes. */
int ow_record(msgpack_packer *pk, ow_fn body, const void *arg, struct ocsf_err *err);
int ocsf_errf(struct ocsf_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- what every record starts with -------------------------------------- */

struct ocsf_common {
	const struct ocsf_src *src;
	const struct ocsf_head *h;
	int class_uid, category_uid, activity_id, severity_id;
	int status_id;			/* 0: left out */
};
/* class_uid ... severity_id, time, status_id, metadata, device. */
void ocsf_common(struct ow *w, const struct ocsf_common *c);
int ocsf_src_check(const struct ocsf_src *s, struct ocsf_err *err);

/* ---- objects (ocsf_objects.c) --------------------------------------------- */

void ocsf_process_body(struct ow *w, const void *p);	/* struct ocsf_process */
void ocsf_file_body(struct ow *w, const void *f);	/* struct ocsf_file */
void ocsf_actor_body(struct ow *w, const void *a);	/* struct ocsf_actor: OCSF part */
/* The path of a file object, required where a file is. */
int ocsf_file_check(const struct ocsf_file *f, const char *what, struct ocsf_err *err);

#endif
