/* ident.c: the sensor's identity on disk (ident.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
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
	return ident_load_at(id, state_dir, IDENT_DIR, err);
}

int ident_load_at(struct ident *id, const char *state_dir, const char *name,
		  struct vg_err *err)
{
	char *addr;
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (path_join(id->dir, state_dir, name) || path_join(id->key, id->dir, "host.key") ||
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

/* ---- the previous identity ------------------------------------------------------ */

static const struct {
	const char *name;
	mode_t mode;
} ident_files[] = {
	{"host.key", 0600}, {"host.crt", 0644}, {"ca.crt", 0644}, {"collector", 0644},
};
#define IDENT_FILE_MAX (64u << 10)

int ident_rmdir(const char *dir, struct vg_err *err)
{
	char p[PATH_MAX], tmp[PATH_MAX];

	for (size_t i = 0; i < sizeof(ident_files) / sizeof(*ident_files); i++) {
		if (path_join(p, dir, ident_files[i].name) ||
		    snprintf(tmp, sizeof(tmp), "%s.tmp", p) >= (int)sizeof(tmp))
			return vg_errf(err, "%s: path too long", dir);
		unlink(p);
		unlink(tmp);
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		return vg_errf(err, "remove %s: %s", dir, strerror(errno));
	return 0;
}

static int fsync_path(const char *dir, struct vg_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		vg_errf(err, "%s: fsync: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int ident_keep_prev(const char *state_dir, struct vg_err *err)
{
	char cur[PATH_MAX], prev[PATH_MAX], nw[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	struct stat st;

	if (path_join(cur, state_dir, IDENT_DIR) || path_join(prev, state_dir, IDENT_PREV) ||
	    path_join(nw, state_dir, IDENT_PREV ".new"))
		return vg_errf(err, "%s: path too long", state_dir);
	if (lstat(prev, &st) == 0)
		return vg_errf(err, "%s exists already", prev);
	if (ident_rmdir(nw, err))
		return -1;
	if (mkdir(nw, 0700) < 0)
		return vg_errf(err, "%s: %s", nw, strerror(errno));
	for (size_t i = 0; i < sizeof(ident_files) / sizeof(*ident_files); i++) {
		size_t len;
		char *data;
		int rc;

		if (path_join(src, cur, ident_files[i].name) ||
		    path_join(dst, nw, ident_files[i].name)) {
			vg_errf(err, "%s: path too long", state_dir);
			goto fail;
		}
		data = file_get(src, IDENT_FILE_MAX, &len, err);
		if (!data)
			goto fail;
		rc = file_put_atomic(dst, data, len, ident_files[i].mode, err);
		OPENSSL_cleanse(data, len);	/* the key, too */
		free(data);
		if (rc)
			goto fail;
	}
	if (rename(nw, prev) < 0) {
		vg_errf(err, "rename %s to %s: %s", nw, prev, strerror(errno));
		goto fail;
	}
	return fsync_path(state_dir, err);
fail:
	ident_rmdir(nw, &(struct vg_err){{0}});
	return -1;
}

int ident_drop_prev(const char *state_dir, struct vg_err *err)
{
	char prev[PATH_MAX], nw[PATH_MAX];

	if (path_join(prev, state_dir, IDENT_PREV) || path_join(nw, state_dir, IDENT_PREV ".new"))
		return vg_errf(err, "%s: path too long", state_dir);
	if (ident_rmdir(nw, err) || ident_rmdir(prev, err))
		return -1;
	return fsync_path(state_dir, err);
}
