/* test_strmap.c: the string map under churn, with keys that share
 * prefixes, keys given by length, and deletion inside probe runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MANY 100000

static uint64_t rng_state;

static uint64_t rng(void)			/* xorshift64*: the same run every time */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void *ival(size_t i)
{
	return (void *)(uintptr_t)(i + 1);
}

static void key_of(char *buf, size_t size, const char *prefix, size_t i)
{
	snprintf(buf, size, "%s%zu", prefix, i);
}

static void put_new(struct vg_smap *m, const char *key, void *val)
{
	bool added = false;
	void **slot = smap_put(m, key, strlen(key), &added);

	if (!added)
		fail_msg("%s: put of a new key said it was there", key);
	assert_null(*slot);
	*slot = val;
}

/* Every key i < n with alive[i] maps to ival(i); every other is absent. */
static void check_all(const struct vg_smap *m, const char *prefix, size_t n, const bool *alive)
{
	char key[64];
	size_t want = 0;

	for (size_t i = 0; i < n; i++) {
		key_of(key, sizeof(key), prefix, i);
		void *got = smap_get(m, key, strlen(key));
		if (alive[i] && got != ival(i))
			fail_msg("%s: want %p, got %p (n %zu)", key, ival(i), got, m->n);
		if (!alive[i] && got)
			fail_msg("%s: deleted but still found", key);
		want += alive[i];
	}
	assert_int_equal(m->n, want);
}

static void empty_map(void **state)
{
	struct vg_smap m = {0};
	const char *k;
	void *v;

	(void)state;
	assert_null(smap_get(&m, "x", 1));
	assert_null(smap_del(&m, "x", 1));
	assert_int_equal(smap_next(&m, 0, &k, &v), 0);
	smap_free(&m, NULL);
	assert_int_equal(m.n, 0);
}

static void many_keys(void **state)
{
	struct vg_smap m = {0};
	bool *alive = xcalloc(MANY, sizeof(*alive));
	char key[64];

	(void)state;
	for (size_t i = 0; i < MANY; i++) {
		key_of(key, sizeof(key), "key-", i);
		put_new(&m, key, ival(i));
		alive[i] = true;
	}
	assert_int_equal(m.n, MANY);
	/* The load factor stays at or below 3/4 and the table a power of two. */
	assert_true(m.n * 4 <= m.cap * 3);
	assert_int_equal(m.cap & (m.cap - 1), 0);
	check_all(&m, "key-", MANY, alive);
	assert_null(smap_get(&m, "key-", 4));
	assert_null(smap_get(&m, "key-100000", 10));

	/* Put of a present key: the same slot, not a second entry. */
	bool added = true;
	void **slot = smap_put(&m, "key-77", 6, &added);
	assert_false(added);
	assert_ptr_equal(*slot, ival(77));
	assert_int_equal(m.n, MANY);

	/* A random half goes, a thousand at a time, and everything left is
	 * still found after each batch: a hole left in a probe run would hide
	 * the keys behind it. */
	rng_state = 0x9e3779b97f4a7c15ull;
	size_t *order = xcalloc(MANY, sizeof(*order));
	for (size_t i = 0; i < MANY; i++)
		order[i] = i;
	for (size_t i = MANY - 1; i > 0; i--) {
		size_t j = (size_t)(rng() % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < MANY / 2; i++) {
		size_t k = order[i];
		key_of(key, sizeof(key), "key-", k);
		assert_ptr_equal(smap_del(&m, key, strlen(key)), ival(k));
		assert_null(smap_del(&m, key, strlen(key)));	/* only once */
		alive[k] = false;
		if (i % 1000 == 999)
			check_all(&m, "key-", MANY, alive);
	}
	check_all(&m, "key-", MANY, alive);
	assert_int_equal(m.n, MANY / 2);

	/* The deleted half comes back; the kept half is untouched. */
	for (size_t i = 0; i < MANY / 2; i++) {
		key_of(key, sizeof(key), "key-", order[i]);
		put_new(&m, key, ival(order[i]));
		alive[order[i]] = true;
	}
	check_all(&m, "key-", MANY, alive);

	/* And everything goes, leaving an empty, usable map. */
	for (size_t i = 0; i < MANY; i++) {
		key_of(key, sizeof(key), "key-", order[MANY - 1 - i]);
		assert_ptr_equal(smap_del(&m, key, strlen(key)), ival(order[MANY - 1 - i]));
	}
	assert_int_equal(m.n, 0);
	const char *k;
	void *v;
	assert_int_equal(smap_next(&m, 0, &k, &v), 0);
	put_new(&m, "again", ival(1));
	assert_ptr_equal(smap_get(&m, "again", 5), ival(1));
	smap_free(&m, NULL);
	free(order);
	free(alive);
}

/* The slot index of each occupied slot, from iteration. */
static bool slot_used(const struct vg_smap *m, size_t idx)
{
	const char *k;
	void *v;

	for (size_t i = 0; (i = smap_next(m, i, &k, &v));)
		if (i - 1 == idx)
			return true;
	return false;
}

/* A nearly full small table (47 keys in 64 slots), occupied across its
 * end so that runs wrap from the last slot to the first: deleting any one
 * key, and then all of them in a random order, must leave every other key
 * reachable. */
static void delete_in_probe_runs(void **state)
{
	enum { N = 47 };
	char prefix[32], key[64];
	bool alive[N];
	struct vg_smap m = {0};
	unsigned seed;

	(void)state;
	/* Find a key set whose layout wraps around the end of the table. */
	for (seed = 0; seed < 10000; seed++) {
		snprintf(prefix, sizeof(prefix), "s%u/", seed);
		for (size_t i = 0; i < N; i++) {
			key_of(key, sizeof(key), prefix, i);
			put_new(&m, key, ival(i));
		}
		assert_int_equal(m.cap, 64);
		if (slot_used(&m, 61) && slot_used(&m, 62) && slot_used(&m, 63) &&
		    slot_used(&m, 0) && slot_used(&m, 1))
			break;
		smap_free(&m, NULL);
	}
	assert_true(seed < 10000);
	smap_free(&m, NULL);

	for (size_t victim = 0; victim < N; victim++) {
		for (size_t i = 0; i < N; i++) {
			key_of(key, sizeof(key), prefix, i);
			put_new(&m, key, ival(i));
			alive[i] = true;
		}
		assert_int_equal(m.cap, 64);
		key_of(key, sizeof(key), prefix, victim);
		assert_ptr_equal(smap_del(&m, key, strlen(key)), ival(victim));
		alive[victim] = false;
		check_all(&m, prefix, N, alive);
		smap_free(&m, NULL);
	}

	rng_state = 12345;
	for (int round = 0; round < 200; round++) {
		size_t left = N;
		for (size_t i = 0; i < N; i++) {
			key_of(key, sizeof(key), prefix, i);
			put_new(&m, key, ival(i));
			alive[i] = true;
		}
		while (left) {
			size_t k = (size_t)(rng() % N);
			if (!alive[k])
				continue;
			key_of(key, sizeof(key), prefix, k);
			assert_ptr_equal(smap_del(&m, key, strlen(key)), ival(k));
			alive[k] = false;
			left--;
			check_all(&m, prefix, N, alive);
			/* Re-adding sometimes keeps runs long while they shift. */
			if (left > 1 && rng() % 3 == 0) {
				put_new(&m, key, ival(k));
				alive[k] = true;
				left++;
			}
		}
		assert_int_equal(m.n, 0);
		smap_free(&m, NULL);
	}
}

static void shared_prefixes(void **state)
{
	static const char *const keys[] = {"", "a", "ab", "abc", "abcd", "a/b", "a/b/c", "b",
					   "ba", "abd", "ab c", "abc\xff"};
	const size_t n = sizeof(keys) / sizeof(keys[0]);
	struct vg_smap m = {0};

	(void)state;
	for (size_t i = 0; i < n; i++)
		put_new(&m, keys[i], ival(i));
	assert_int_equal(m.n, n);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(smap_get(&m, keys[i], strlen(keys[i])), ival(i));
	assert_null(smap_get(&m, "abcde", 5));
	assert_null(smap_get(&m, "a/", 2));
	/* Deleting the middle of a chain of prefixes spares the rest. */
	assert_ptr_equal(smap_del(&m, "ab", 2), ival(2));
	assert_null(smap_get(&m, "ab", 2));
	assert_ptr_equal(smap_get(&m, "a", 1), ival(1));
	assert_ptr_equal(smap_get(&m, "abc", 3), ival(3));
	assert_ptr_equal(smap_get(&m, "", 0), ival(0));
	assert_ptr_equal(smap_del(&m, "", 0), ival(0));
	assert_null(smap_get(&m, "", 0));
	assert_ptr_equal(smap_get(&m, "a", 1), ival(1));
	assert_int_equal(m.n, n - 2);
	smap_free(&m, NULL);
}

/* A key is the first len bytes of the string it is given in. */
static void length_delimited(void **state)
{
	const char *line = "usr/bin/ls  trailing garbage";
	struct vg_smap m = {0};
	bool added;
	const char *k;
	void *v;
	void **slot;

	(void)state;
	slot = smap_put(&m, line, 10, &added);	/* "usr/bin/ls" */
	assert_true(added);
	*slot = ival(1);
	assert_ptr_equal(smap_get(&m, "usr/bin/ls", 10), ival(1));
	assert_ptr_equal(smap_get(&m, "usr/bin/lsblk", 10), ival(1));
	assert_null(smap_get(&m, "usr/bin/lsblk", 13));
	assert_null(smap_get(&m, line, strlen(line)));
	assert_null(smap_get(&m, "usr/bin/l", 9));
	/* The stored key is those bytes alone, NUL-terminated. */
	assert_true(smap_next(&m, 0, &k, &v) > 0);
	assert_string_equal(k, "usr/bin/ls");
	assert_ptr_equal(v, ival(1));
	/* Another put through a longer buffer finds the same entry. */
	slot = smap_put(&m, "usr/bin/ls\n", 10, &added);
	assert_false(added);
	assert_ptr_equal(*slot, ival(1));
	slot = smap_put(&m, "usr/bin/ls\n", 11, &added);
	assert_true(added);
	*slot = ival(2);
	assert_int_equal(m.n, 2);
	assert_ptr_equal(smap_del(&m, "usr/bin/lsXX", 10), ival(1));
	assert_ptr_equal(smap_get(&m, "usr/bin/ls\n", 11), ival(2));
	assert_null(smap_get(&m, "usr/bin/ls", 10));
	smap_free(&m, NULL);
}

static void iteration_visits_each_once(void **state)
{
	enum { N = 5000 };
	unsigned *seen = xcalloc(N, sizeof(*seen));
	struct vg_smap m = {0};
	char key[64];
	const char *k;
	void *v;
	size_t visits = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		key_of(key, sizeof(key), "it/", i);
		put_new(&m, key, ival(i));
	}
	for (size_t i = 0; i < N; i += 3) {	/* a third goes */
		key_of(key, sizeof(key), "it/", i);
		assert_ptr_equal(smap_del(&m, key, strlen(key)), ival(i));
	}
	for (size_t i = 0; (i = smap_next(&m, i, &k, &v));) {
		size_t idx = (size_t)(uintptr_t)v - 1;
		assert_true(idx < N);
		key_of(key, sizeof(key), "it/", idx);
		assert_string_equal(k, key);	/* the key belongs to its value */
		seen[idx]++;
		visits++;
	}
	assert_int_equal(visits, m.n);
	for (size_t i = 0; i < N; i++)
		if (seen[i] != (i % 3 ? 1u : 0u))
			fail_msg("it/%zu visited %u times", i, seen[i]);
	free(seen);
	smap_free(&m, NULL);
}

static size_t freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

static void free_calls_free_val(void **state)
{
	enum { N = 1000 };
	struct vg_smap m = {0};
	char key[64];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		key_of(key, sizeof(key), "v", i);
		put_new(&m, key, xstrdup(key));
	}
	for (size_t i = 0; i < N; i += 2) {	/* the caller frees what del returns */
		key_of(key, sizeof(key), "v", i);
		char *old = smap_del(&m, key, strlen(key));
		assert_non_null(old);
		assert_string_equal(old, key);
		free(old);
	}
	freed = 0;
	smap_free(&m, count_free);
	assert_int_equal(freed, N / 2);
	assert_null(m.slots);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.cap, 0);
	/* NULL values are passed to free_val too: it is called per entry. */
	put_new(&m, "a", NULL);
	put_new(&m, "b", NULL);
	freed = 0;
	smap_free(&m, count_free);
	assert_int_equal(freed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_map),
		cmocka_unit_test(many_keys),
		cmocka_unit_test(delete_in_probe_runs),
		cmocka_unit_test(shared_prefixes),
		cmocka_unit_test(length_delimited),
		cmocka_unit_test(iteration_visits_each_once),
		cmocka_unit_test(free_calls_free_val),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
