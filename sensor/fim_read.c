/*
 * fim_read.c: one entry's attributes, read so that a file changing under
 * the reader is noticed rather than recorded wrong.
 *
 * Content is read into one reused buffer per thread, not mapped: page
 * faults cost more than copies on the VMs this runs on (DESIGN.md), and a
 * mapping of a file truncated under us would fault with SIGBUS. The file is
 * opened with O_NOATIME where the kernel allows it, so a scan does not
 * rewrite every inode, and advised sequential when it is larger than one
 * buffer. It is not advised DONTNEED afterwards: that would also drop pages
 * other processes had cached and are using, while pages we only read once
 * sit on the kernel's inactive list and are the first to go anyway.
 *
 * The file is fstat'ed before and after reading; if inode, size, mtime or
 * ctime moved, the digest describes no version of the file and the caller
 * re-queues it. (A write within the same timestamp tick that keeps the size
 * cannot be seen this way on kernels without fine-grained timestamps.)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fim_impl.h"

#define READ_BUF_SIZE (256u << 10)	/* also holds an xattr name list (64 KiB max) */

static const char XA_SELINUX[] = "security.selinux";
static const char XA_CAPS[] = "security.capability";

int fim_reader_init(struct fim_reader *rd, struct vg_err *err)
{
	memset(rd, 0, sizeof(*rd));
	rd->bufsize = READ_BUF_SIZE;
	rd->buf = xmalloc(rd->bufsize);
	rd->md = EVP_MD_CTX_new();
	rd->alg = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!rd->md || !rd->alg) {
		fim_reader_fini(rd);
		return vg_errf(err, "OpenSSL: SHA-256 is not available");
	}
	return 0;
}

void fim_reader_fini(struct fim_reader *rd)
{
	free(rd->buf);
	EVP_MD_CTX_free(rd->md);
	EVP_MD_free(rd->alg);
	memset(rd, 0, sizeof(*rd));
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void from_stat(struct fim_record *r, const struct stat *st)
{
	r->type = st->st_mode & S_IFMT;
	r->mode = st->st_mode & 07777;
	r->uid = st->st_uid;
	r->gid = st->st_gid;
	r->size = (uint64_t)st->st_size;
	r->ino = st->st_ino;
	r->dev = st->st_dev;
	r->nlink = st->st_nlink;
	r->mtime_ns = ts_ns(&st->st_mtim);
	r->ctime_ns = ts_ns(&st->st_ctim);
}

int fim_stat(int dirfd, const char *name, struct fim_record *r)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno;
	from_stat(r, &st);
	return 0;
}

static bool moved(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
	       ts_ns(&a->st_mtim) != ts_ns(&b->st_mtim) || ts_ns(&a->st_ctim) != ts_ns(&b->st_ctim);
}

/* fd >= 0: the open file; otherwise the entry named by path (not followed). */
static ssize_t xa_get(int fd, const char *path, const char *name, void *buf, size_t size)
{
	return fd >= 0 ? fgetxattr(fd, name, buf, size) : lgetxattr(path, name, buf, size);
}

static bool list_has(const char *list, size_t len, const char *name)
{
	for (size_t off = 0; off < len; off += strlen(list + off) + 1)
		if (!strcmp(list + off, name))
			return true;
	return false;
}

/* security.selinux and security.capability, as r->attrs asks. A file
 * system without xattrs simply has none. */
static int read_xattrs(struct fim_reader *rd, int fd, const char *path, struct fim_record *r)
{
	unsigned char val[FIM_XATTR_MAX + 1];
	char *list = (char *)rd->buf;
	ssize_t n, len;

	free(r->selinux);
	free(r->cap);
	r->selinux = NULL;
	r->cap = NULL;
	r->cap_len = 0;
	if (!(r->attrs & (FIM_A_SELINUX | FIM_A_CAPS)))
		return 0;
	len = fd >= 0 ? flistxattr(fd, list, rd->bufsize) : llistxattr(path, list, rd->bufsize);
	if (len < 0)
		return errno == ENOTSUP || errno == ENOENT ? 0 : -1;
	if ((r->attrs & FIM_A_SELINUX) && list_has(list, (size_t)len, XA_SELINUX)) {
		n = xa_get(fd, path, XA_SELINUX, val, FIM_XATTR_MAX);
		while (n > 0 && val[n - 1] == 0)
			n--;
		if (n >= 0)
			r->selinux = xstrndup((char *)val, (size_t)n);
	}
	if ((r->attrs & FIM_A_CAPS) && list_has(list, (size_t)len, XA_CAPS)) {
		n = xa_get(fd, path, XA_CAPS, val, FIM_XATTR_MAX);
		if (n > 0) {
			r->cap = xmalloc((size_t)n);
			memcpy(r->cap, val, (size_t)n);
			r->cap_len = (size_t)n;
		}
	}
	return 0;
}

static int open_noatime(struct fim_reader *rd, int dirfd, const char *name)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	int fd;

	if (!rd->noatime_denied) {
		fd = openat(dirfd, name, flags | O_NOATIME);
		if (fd >= 0 || errno != EPERM)
			return fd;
		rd->noatime_denied = true;	/* not the owner, no CAP_FOWNER */
	}
	return openat(dirfd, name, flags);
}

/* Digests the first size bytes; a short file is caught by the re-stat. */
static int hash_fd(struct fim_reader *rd, int fd, uint64_t size, const char *path,
		   struct fim_record *r, int attempt, fim_read_hook hook, void *u)
{
	EVP_MD_CTX *md = rd->md;
	uint64_t done = 0;
	bool first = true;
	unsigned int mdlen;

	if (size > rd->bufsize)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (!EVP_DigestInit_ex2(md, rd->alg, NULL))
		return errno = EIO, -1;
	while (done < size || first) {
		size_t want = size - done < rd->bufsize ? (size_t)(size - done) : rd->bufsize;
		ssize_t n = want ? read(fd, rd->buf, want) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (first && hook)
			hook(u, path, attempt);
		first = false;
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(md, rd->buf, (size_t)n))
			return errno = EIO, -1;
		done += (uint64_t)n;
	}
	if (!EVP_DigestFinal_ex(md, r->sha256, &mdlen) || mdlen != sizeof(r->sha256))
		return errno = EIO, -1;
	r->flags |= FIM_F_HASHED;
	return 0;
}

static enum fim_read_rc read_regular(struct fim_reader *rd, int dirfd, const char *name,
				     const char *path, struct fim_record *r, int attempt,
				     fim_read_hook hook, void *u)
{
	struct stat before, after;
	enum fim_read_rc rc = FIM_READ_FAILED;
	int fd = open_noatime(rd, dirfd, name), saved;

	if (fd < 0)
		return errno == ENOENT ? FIM_READ_GONE :
		       errno == ELOOP ? FIM_READ_CHANGED : FIM_READ_FAILED;
	if (fstat(fd, &before) < 0)
		goto out;
	if (!S_ISREG(before.st_mode)) {		/* replaced since it was listed */
		rc = FIM_READ_CHANGED;
		goto out;
	}
	from_stat(r, &before);
	r->flags &= ~FIM_F_HASHED;
	if ((r->attrs & FIM_A_SHA256) &&
	    hash_fd(rd, fd, (uint64_t)before.st_size, path, r, attempt, hook, u) < 0)
		goto out;
	if (read_xattrs(rd, fd, path, r) < 0 || fstat(fd, &after) < 0)
		goto out;
	rc = moved(&before, &after) ? FIM_READ_CHANGED : FIM_READ_OK;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Symlinks, directories, devices: no content, but a target and xattrs. */
static enum fim_read_rc read_other(struct fim_reader *rd, int dirfd, const char *name,
				   struct fim_record *r)
{
	char proc[64 + NAME_MAX], target[PATH_MAX];
	ssize_t n;

	free(r->target);
	r->target = NULL;
	if (r->type == S_IFLNK && (r->attrs & FIM_A_TARGET)) {
		n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return errno == ENOENT ? FIM_READ_GONE :
			       errno == EINVAL ? FIM_READ_CHANGED : FIM_READ_FAILED;
		r->target = xstrndup(target, (size_t)n);
	}
	/* There is no lgetxattrat(): name the entry through its directory's
	 * descriptor, which keeps the lookup inside the checked root. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dirfd, name);
	return read_xattrs(rd, -1, proc, r) < 0 ? FIM_READ_FAILED : FIM_READ_OK;
}

enum fim_read_rc fim_read(struct fim_reader *rd, int dirfd, const char *name, const char *path,
			  struct fim_record *r, int attempt, fim_read_hook hook, void *u)
{
	if (r->type == S_IFREG)
		return read_regular(rd, dirfd, name, path, r, attempt, hook, u);
	return read_other(rd, dirfd, name, r);
}
