/* mpcheck.h: one packed record, unpacked with msgpack_unpack, and looked
 * into by dotted paths ("actor.process.parent_process.pid"). */
#ifndef VIGIL_MPCHECK_H
#define VIGIL_MPCHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

struct mp {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	bool unpacked;
};

static inline void mp_init(struct mp *m)
{
	memset(m, 0, sizeof(*m));
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
	msgpack_unpacked_init(&m->u);
}

static inline void mp_free(struct mp *m)
{
	msgpack_unpacked_destroy(&m->u);
	msgpack_sbuffer_destroy(&m->sb);
}

/* A valid UTF-8 byte string (the test's own reading, not the builder's). */
static inline bool mp_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		unsigned c = p[i], need, cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			need = 1, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			need = 2, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			need = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

/* Every str in o (keys too) is valid UTF-8. */
static inline bool mp_all_utf8(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		return mp_utf8(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++)
			if (!mp_all_utf8(&o->via.array.ptr[i]))
				return false;
		return true;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++)
			if (!mp_all_utf8(&o->via.map.ptr[i].key) ||
			    !mp_all_utf8(&o->via.map.ptr[i].val))
				return false;
		return true;
	default:
		return true;
	}
}

/* Unpacks the buffer: exactly one map, every byte used, distinct keys. */
static inline const msgpack_object *mp_root(struct mp *m)
{
	size_t off = 0;

	if (m->unpacked)
		msgpack_unpacked_destroy(&m->u), msgpack_unpacked_init(&m->u);
	assert_int_equal(msgpack_unpack_next(&m->u, m->sb.data, m->sb.size, &off),
			 MSGPACK_UNPACK_SUCCESS);
	m->unpacked = true;
	assert_int_equal(off, m->sb.size);
	assert_int_equal(m->u.data.type, MSGPACK_OBJECT_MAP);
	assert_true(mp_all_utf8(&m->u.data));
	return &m->u.data;
}

static inline const msgpack_object *mp_key(const msgpack_object *o, const char *k, size_t n)
{
	const msgpack_object *hit = NULL;

	if (!o || o->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *key = &o->via.map.ptr[i].key;
		if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == n &&
		    !memcmp(key->via.str.ptr, k, n)) {
			if (hit)
				fail_msg("key %.*s twice in one map", (int)n, k);
			hit = &o->via.map.ptr[i].val;
		}
	}
	return hit;
}

/* "a.b.c" below o; "a.2.b" takes item 2 of array a. NULL when absent. */
static inline const msgpack_object *mp_get(const msgpack_object *o, const char *path)
{
	while (o && *path) {
		size_t n = strcspn(path, ".");
		char *end;
		unsigned long idx = strtoul(path, &end, 10);
		if (o->type == MSGPACK_OBJECT_ARRAY && end == path + n && n)
			o = idx < o->via.array.size ? &o->via.array.ptr[idx] : NULL;
		else
			o = mp_key(o, path, n);
		path += n + (path[n] == '.');
	}
	return o;
}

#define mp_absent(o, path)                                                         \
	do {                                                                       \
		if (mp_get((o), (path)))                                           \
			fail_msg("%s: present, want absent", (path));              \
	} while (0)

static inline const msgpack_object *mp_need(const msgpack_object *o, const char *path,
					    msgpack_object_type t)
{
	const msgpack_object *v = mp_get(o, path);

	if (!v)
		fail_msg("%s: absent", path);
	if (v->type != t)
		fail_msg("%s: type %d, want %d", path, v->type, t);
	return v;
}

static inline void mp_str_eq(const msgpack_object *o, const char *path, const char *want)
{
	const msgpack_object *v = mp_need(o, path, MSGPACK_OBJECT_STR);

	if (v->via.str.size != strlen(want) || memcmp(v->via.str.ptr, want, strlen(want)))
		fail_msg("%s: \"%.*s\", want \"%s\"", path, (int)v->via.str.size, v->via.str.ptr,
			 want);
}

static inline void mp_uint_eq(const msgpack_object *o, const char *path, uint64_t want)
{
	const msgpack_object *v = mp_need(o, path, MSGPACK_OBJECT_POSITIVE_INTEGER);

	if (v->via.u64 != want)
		fail_msg("%s: %llu, want %llu", path, (unsigned long long)v->via.u64,
			 (unsigned long long)want);
}

static inline void mp_int_eq(const msgpack_object *o, const char *path, int64_t want)
{
	const msgpack_object *v = mp_get(o, path);

	if (!v)
		fail_msg("%s: absent", path);
	if (want >= 0)
		mp_uint_eq(o, path, (uint64_t)want);
	else if (v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER || v->via.i64 != want)
		fail_msg("%s: not %lld", path, (long long)want);
}

static inline void mp_bool_eq(const msgpack_object *o, const char *path, bool want)
{
	const msgpack_object *v = mp_need(o, path, MSGPACK_OBJECT_BOOLEAN);

	if (v->via.boolean != want)
		fail_msg("%s: %d, want %d", path, v->via.boolean, want);
}

static inline void mp_nil(const msgpack_object *o, const char *path)
{
	mp_need(o, path, MSGPACK_OBJECT_NIL);
}

static inline uint32_t mp_size(const msgpack_object *o, const char *path)
{
	const msgpack_object *v = mp_get(o, path);

	if (!v)
		fail_msg("%s: absent", path);
	if (v->type == MSGPACK_OBJECT_MAP)
		return v->via.map.size;
	if (v->type == MSGPACK_OBJECT_ARRAY)
		return v->via.array.size;
	if (v->type == MSGPACK_OBJECT_STR)
		return v->via.str.size;
	fail_msg("%s: no size", path);
	return 0;
}

#endif
