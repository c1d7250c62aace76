/*
 * test_fim_race.c: a file that changes while it is hashed is read again,
 * and one that never holds still is reported unstable; neither is recorded
 * with a digest of content that never existed.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "fimtest.h"

#define BIG_SIZE (48u << 20)

static void make_big(const struct fx *f, const char *path)
{
	char *full = fx_path(f, path);
	char *block = xmalloc(1 << 20);
	int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		fail_msg("%s: %s", full, strerror(errno));
	for (unsigned i = 0; i < BIG_SIZE >> 20; i++) {
		memset(block, 'a' + (int)(i % 26), 1 << 20);
		if (write(fd, block, 1 << 20) != 1 << 20)
			fail_msg("write: %s", strerror(errno));
	}
	close(fd);
	free(block);
	free(full);
}

static void append(const char *full, size_t n)
{
	char buf[4096];
	int fd = open(full, O_WRONLY | O_APPEND);

	memset(buf, 'z', sizeof(buf));
	if (fd < 0 || write(fd, buf, n < sizeof(buf) ? n : sizeof(buf)) < 0)
		fail_msg("append %s: %s", full, strerror(errno));
	close(fd);
}

static void sha256_file(const char *full, unsigned char out[32])
{
	unsigned char buf[65536];
	unsigned int len;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int fd = open(full, O_RDONLY);
	ssize_t n;

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
	close(fd);
}

static void stored(const struct fx *f, const char *path, struct fim_record *r)
{
	char *file = fimdb_path(f->state, f->root);
	struct fim_db *db;
	struct vg_err err = {{0}};

	memset(r, 0, sizeof(*r));
	if (fimdb_open(&db, file, false, &err) || fimdb_get(db, path, r, &err) != 1)
		fail_msg("%s in %s: %s", path, file, err.msg);
	fimdb_close(db);
	free(file);
}

struct once {
	char *full;
	int appended;
	int calls_on_big;
};

/* Runs on the worker, after the first block of each file was read: grows
 * /data/big under the reader on its first attempt only. */
static void append_on_first_read(void *u, const char *path, int attempt)
{
	struct once *o = u;

	if (strcmp(path, "/data/big"))
		return;
	o->calls_on_big++;
	if (attempt == 0) {
		append(o->full, 4096);
		o->appended++;
	}
}

static void changed_while_hashed_is_requeued(void **state)
{
	struct fx f;
	struct once o = {0};
	struct fim_record r;
	unsigned char want[32];

	(void)state;
	fx_init(&f, FIM_A_ALL);
	tu_write(f.root, "/data/small", "small\n", 0644);
	make_big(&f, "/data/big");
	o.full = fx_path(&f, "/data/big");
	f.o.on_read = append_on_first_read;
	f.o.hook_u = &o;
	assert_int_equal(fx_run(&f, FIM_INIT, false), 0);
	assert_int_equal(o.appended, 1);
	assert_int_equal(o.calls_on_big, 2);		/* read, changed, read again */
	assert_int_equal(f.sum.requeued, 1);
	assert_int_equal(f.sum.unstable, 0);
	/* The digest is of the file as it ended up, not of a mix. */
	stored(&f, "/data/big", &r);
	sha256_file(o.full, want);
	assert_true(r.flags & FIM_F_HASHED);
	assert_int_equal(r.size, BIG_SIZE + 4096);
	assert_memory_equal(r.sha256, want, 32);
	fim_record_free(&r);
	f.o.on_read = NULL;
	assert_int_equal(fx_run(&f, FIM_CHECK, true), 0);
	free(o.full);
	fx_free(&f);
}

struct appender {
	char *full;
	volatile int stop;
	int writes;
};

static void *append_loop(void *u)
{
	struct appender *a = u;

	while (!a->stop) {
		append(a->full, 512);
		a->writes++;
		usleep(200);
	}
	return NULL;
}

static void never_still_is_unstable(void **state)
{
	struct fx f;
	struct appender a = {0};
	struct fim_record r;
	pthread_t t;

	(void)state;
	fx_init(&f, FIM_A_ALL);
	tu_write(f.root, "/data/small", "small\n", 0644);
	make_big(&f, "/data/big");
	a.full = fx_path(&f, "/data/big");
	pthread_create(&t, NULL, append_loop, &a);
	while (a.writes < 5)
		usleep(1000);
	assert_int_equal(fx_run(&f, FIM_INIT, false), 0);
	a.stop = 1;
	pthread_join(t, NULL);
	assert_int_equal(f.sum.unstable, 1);
	assert_true(f.sum.requeued >= 3);
	assert_has(&f, "unstable", "/data/big");
	stored(&f, "/data/big", &r);
	assert_true(r.flags & FIM_F_UNSTABLE);
	assert_false(r.flags & FIM_F_HASHED);
	fim_record_free(&r);
	/* Once it holds still, a quick check reads it: the baseline had no digest. */
	assert_int_equal(fx_run(&f, FIM_CHECK, false), 1);
	assert_int_equal(f.sum.hashed_files, 1);
	assert_int_equal(f.sum.unstable, 0);
	free(a.full);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(changed_while_hashed_is_requeued),
		cmocka_unit_test(never_still_is_unstable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
