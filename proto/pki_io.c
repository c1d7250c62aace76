/*
 * pki_io.c: keys and certificates on disk.
 *
 * A key is written once: to a temporary file that is already 0600 when the
 * first byte lands, then renamed into place with RENAME_NOREPLACE, so a
 * crash leaves either no key or a whole one, and an existing key is never
 * replaced (losing the CA's key would orphan every host).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tls_int.h"

int pki_path(char *out, const char *dir, const char *name, struct tls_err *err)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_MAX) {
		tls_errf(err, "%s/%s: path too long", dir, name);
		return -1;
	}
	return 0;
}

int pki_mkdir(const char *dir, struct tls_err *err)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		tls_errf(err, "%s: not a directory", dir);
		return -1;
	}
	tls_errf(err, "%s: cannot create: %s", dir, strerror(errno));
	return -1;
}

static int sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, r;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* rename without replacing; hard link where the file system lacks
 * RENAME_NOREPLACE (both fail with EEXIST on an existing target). */
static int place_noreplace(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(tmp, path) != 0)
		return -1;
	unlink(tmp);
	return 0;
}

int pki_write_new(const char *path, const void *data, size_t len, mode_t mode,
		  struct tls_err *err)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd, n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		tls_errf(err, "%s: path too long", path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);		/* 0600 from the start */
	if (fd < 0) {
		tls_errf(err, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (place_noreplace(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		if (e == EEXIST)
			tls_errf(err, "%s: exists; not overwritten", path);
		else
			tls_errf(err, "%s: cannot rename %s into place: %s", path, tmp,
				 strerror(e));
		return -1;
	}
	if (sync_dir_of(path) != 0) {
		tls_errf(err, "%s: written, but its directory cannot be synced: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
fail:
	n = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	tls_errf(err, "%s: cannot write %s: %s", path, tmp, strerror(n));
	return -1;
}

/* A key that asks for a passphrase is refused, never prompted for. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

EVP_PKEY *pki_read_key(const char *path, mode_t deny, struct tls_err *err)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *key;
	struct stat st;

	if (!f) {
		tls_errf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		tls_errf(err, "%s: not a regular file", path);
		fclose(f);
		return NULL;
	}
	if (st.st_mode & deny) {
		tls_errf(err, "%s: mode %04o opens a private key to others; chmod 600 it", path,
			 (unsigned)(st.st_mode & 07777));
		fclose(f);
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!key)
		tls_errf_ssl(err, "%s: not a PEM private key (or one with a passphrase)", path);
	return key;
}

X509 *pki_read_cert(const char *path, struct tls_err *err)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (!f) {
		tls_errf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!x)
		tls_errf_ssl(err, "%s: not a PEM certificate", path);
	return x;
}

int pki_key_pem(EVP_PKEY *key, char **pem, size_t *len, struct tls_err *err)
{
	BIO *b = BIO_new(BIO_s_secmem());	/* wiped when freed */
	char *data;
	long n;

	*pem = NULL;
	*len = 0;
	if (!b || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) ||
	    (n = BIO_get_mem_data(b, &data)) <= 0 || !(*pem = malloc((size_t)n))) {
		tls_errf_ssl(err, "private key to PEM");
		BIO_free(b);
		return -1;
	}
	memcpy(*pem, data, (size_t)n);
	*len = (size_t)n;
	BIO_free(b);
	return 0;
}

void pki_pem_wipe(char *pem, size_t len)
{
	if (pem)
		OPENSSL_cleanse(pem, len);
	free(pem);
}

EVP_PKEY *pki_keygen(struct tls_err *err)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");

	if (!key)
		tls_errf_ssl(err, "EC P-256 key generation");
	return key;
}
