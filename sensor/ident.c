/* ident.c: the sensor's identity on disk (ident.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ident.h"

int path_join(char out[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

int file_put_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct vg_err *err)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return vg_errf(err, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return vg_errf(err, "%s: %s", tmp, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vg_errf(err, "%s: write: %s", tmp, strerror(errno));
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		vg_errf(err, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		vg_errf(err, "rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

char *file_get(const char *path, size_t max, size_t *len, struct vg_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf;
	size_t n = 0;

	if (fd < 0) {
		vg_errf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(max + 1);
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			vg_errf(err, "%s: read: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			vg_errf(err, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* The CN of the certificate in path: the host id. */
static int cert_cn(const char *path, char *out, size_t outlen, struct vg_err *err)
{
	FILE *f = fopen(path, "re");
	X509 *x;
	int n;

	if (!f)
		return vg_errf(err, "%s: %s", path, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return vg_errf(err, "%s: not a PEM certificate", path);
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)outlen);
	X509_free(x);
	if (n <= 0 || (size_t)n >= outlen)
		return vg_errf(err, "%s: no usable subject CN (the host id)", path);
	return 0;
}

int ident_load(struct ident *id, const char *state_dir, struct vg_err *err)
{
	char *addr;
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (path_join(id->dir, state_dir, "identity") || path_join(id->key, id->dir, "host.key") ||
	    path_join(id->cert, id->dir, "host.crt") || path_join(id->ca, id->dir, "ca.crt"))
		return vg_errf(err, "%s: path too long", state_dir);
	if (stat(id->dir, &st) < 0 && errno == ENOENT)
		return 1;
	if (stat(id->key, &st) < 0)
		return vg_errf(err, "%s: %s", id->key, strerror(errno));
	if (st.st_mode & 077)
		return vg_errf(err, "%s: mode %04o: the key must not be readable by others",
			       id->key, (unsigned)(st.st_mode & 07777));
	{
		char p[PATH_MAX];

		if (path_join(p, id->dir, "collector"))
			return vg_errf(err, "%s: path too long", id->dir);
		addr = file_get(p, sizeof(id->collector) - 1, NULL, err);
	}
	if (!addr)
		return -1;
	snprintf(id->collector, sizeof(id->collector), "%s", str_trim(addr));
	free(addr);
	return cert_cn(id->cert, id->host_id, sizeof(id->host_id), err);
}

SSL_CTX *ident_ctx(const struct ident *id, struct vg_err *err)
{
	struct tls_err te = {{0}};
	SSL_CTX *ctx = tls_client_ctx(id->ca, id->cert, id->key, &te);

	if (!ctx)
		vg_errf(err, "identity in %s: %s", id->dir, te.msg);
	return ctx;
}
