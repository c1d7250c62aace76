/* fuzz_rpmhdr.c: an RPM header blob from rpmdb.sqlite, as pkgfile_rpm.c
 * reads it: the name, then every file's path, flags and digest.  It must
 * never read outside the blob, crash, leak or hang, and what it hands out
 * must be what it promises (NUL-terminated strings inside the blob,
 * digests of the algorithm's size). */
#include <stdint.h>
#include <string.h>

#include "rpmhdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *lo, *hi;

/* A string of len bytes and its NUL, inside the input. */
static void check_str(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;

	if (p < lo || p > hi || len >= (size_t)(hi - p) || p[len] != 0 || memchr(p, 0, len))
		__builtin_trap();
}

static void check_files(const struct rpmhdr *h)
{
	struct rpmhdr_files f;
	struct rpmhdr_file file;
	unsigned char digest[RPMHDR_DIGEST_MAX];
	uint32_t n = 0;

	rpmhdr_files_init(&f);
	if (rpmhdr_files_load(&f, h) > 0) {
		while (rpmhdr_files_next(&f, &file)) {
			size_t dlen;

			check_str(file.dir, file.dirlen);
			check_str(file.base, file.baselen);
			if (file.digestlen)
				check_str(file.digest, file.digestlen);
			dlen = rpmhdr_digest(f.algo, file.digest, file.digestlen, digest);
			if (dlen > RPMHDR_DIGEST_MAX || (dlen && dlen * 2 != file.digestlen))
				__builtin_trap();
			n++;
		}
		if (n != f.n || n == 0 || n > RPMHDR_MAX_FILES)
			__builtin_trap();
	}
	rpmhdr_files_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpmhdr h;
	const char *name;
	size_t len;

	lo = data;
	hi = data + size;
	if (!rpmhdr_parse(&h, data, size))
		return 0;
	if (8 + (size_t)h.il * 16 + h.dl > size)
		__builtin_trap();
	if (rpmhdr_name(&h, &name, &len))
		check_str(name, len);
	check_files(&h);
	return 0;
}
