/*
 * strmap.c: a string-keyed hash map (open addressing, linear probing,
 * deletion by backward shift so no tombstones pile up under churn).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

struct smap_slot {
	char *key;			/* NULL: empty */
	size_t len;
	uint64_t hash;
	void *val;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static struct smap_slot *find(const struct vg_smap *m, const char *key, size_t len,
			      uint64_t h)
{
	if (!m->cap)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct smap_slot *s = &m->slots[i];
		if (!s->key)
			return s;
		if (s->hash == h && s->len == len && !memcmp(s->key, key, len))
			return s;
	}
}

static void grow(struct vg_smap *m)
{
	struct smap_slot *old = m->slots;
	size_t oldcap = m->cap;

	m->cap = oldcap ? oldcap * 2 : 64;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*find(m, old[i].key, old[i].len, old[i].hash) = old[i];
	free(old);
}

void *smap_get(const struct vg_smap *m, const char *key, size_t len)
{
	struct smap_slot *s = find(m, key, len, hash_bytes(key, len));

	return s && s->key ? s->val : NULL;
}

void **smap_put(struct vg_smap *m, const char *key, size_t len, bool *added)
{
	uint64_t h = hash_bytes(key, len);
	struct smap_slot *s;

	if ((m->n + 1) * 4 > m->cap * 3)	/* load factor 3/4 */
		grow(m);
	s = find(m, key, len, h);
	if (added)
		*added = !s->key;
	if (!s->key) {
		*s = (struct smap_slot){.key = xstrndup(key, len), .len = len, .hash = h};
		m->n++;
	}
	return &s->val;
}

void *smap_del(struct vg_smap *m, const char *key, size_t len)
{
	struct smap_slot *s = find(m, key, len, hash_bytes(key, len));
	size_t i, j, mask = m->cap - 1;
	void *val;

	if (!s || !s->key)
		return NULL;
	val = s->val;
	free(s->key);
	i = (size_t)(s - m->slots);
	/* Pull later members of the probe run back over the hole, unless
	 * their home lies cyclically in (i, j]. */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i] = (struct smap_slot){0};
	m->n--;
	return val;
}

size_t smap_next(const struct vg_smap *m, size_t i, const char **key, void **val)
{
	for (; i < m->cap; i++)
		if (m->slots[i].key) {
			*key = m->slots[i].key;
			*val = m->slots[i].val;
			return i + 1;
		}
	return 0;
}

void smap_free(struct vg_smap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key) {
			if (free_val)
				free_val(m->slots[i].val);
			free(m->slots[i].key);
		}
	free(m->slots);
	*m = (struct vg_smap){0};
}
