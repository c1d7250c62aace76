/* fim_attr.c: attribute names, comparison of two records, printable values. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "fim_impl.h"

static const char *const attr_names[FIM_NATTRS] = {
	"type", "mode", "uid", "gid", "size", "inode", "device", "links",
	"mtime", "ctime", "target", "selinux", "capability", "sha256",
};

const char *fim_attr_name(unsigned attr)
{
	for (int i = 0; i < FIM_NATTRS; i++)
		if (attr == 1u << i)
			return attr_names[i];
	return "?";
}

int fim_attr_parse(const char *name, unsigned *bits)
{
	if (!strcmp(name, "all")) {
		*bits = FIM_A_ALL;
		return 0;
	}
	for (int i = 0; i < FIM_NATTRS; i++)
		if (!strcmp(name, attr_names[i])) {
			*bits = 1u << i;
			return 0;
		}
	return -1;
}

const char *fim_type_name(unsigned type)
{
	switch (type & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "char";
	case S_IFBLK: return "block";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	default: return "unknown";
	}
}

void fim_record_free(struct fim_record *r)
{
	free(r->target);
	free(r->selinux);
	free(r->cap);
	r->target = r->selinux = NULL;
	r->cap = NULL;
	r->cap_len = 0;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* What a quick check does not re-read is carried over from the baseline. */
void fim_record_copy_content(struct fim_record *dst, const struct fim_record *src)
{
	fim_record_free(dst);
	dst->target = dup_or_null(src->target);
	dst->selinux = dup_or_null(src->selinux);
	if (src->cap) {
		dst->cap = xmalloc(src->cap_len);
		memcpy(dst->cap, src->cap, src->cap_len);
		dst->cap_len = src->cap_len;
	}
	memcpy(dst->sha256, src->sha256, sizeof(dst->sha256));
	dst->flags = (dst->flags & ~FIM_F_HASHED) | (src->flags & FIM_F_HASHED);
}

/* dst (uninitialised) becomes a deep copy of src. */
void fim_record_dup(struct fim_record *dst, const struct fim_record *src)
{
	*dst = *src;
	dst->target = NULL;
	dst->selinux = NULL;
	dst->cap = NULL;
	dst->cap_len = 0;
	fim_record_copy_content(dst, src);
}

bool fim_same_stat(const struct fim_record *a, const struct fim_record *b)
{
	return a->ino == b->ino && a->dev == b->dev && a->type == b->type &&
	       a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

bool fim_must_read(const struct fim_record *old, const struct fim_record *cur, bool full)
{
	if (full || !old || !fim_same_stat(old, cur) || old->attrs != cur->attrs)
		return true;
	if (old->flags & (FIM_F_UNSTABLE | FIM_F_UNREADABLE))
		return true;
	return cur->type == S_IFREG && (cur->attrs & FIM_A_SHA256) && !(old->flags & FIM_F_HASHED);
}

static bool str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

static bool hash_differs(const struct fim_record *a, const struct fim_record *b)
{
	bool ha = a->flags & FIM_F_HASHED, hb = b->flags & FIM_F_HASHED;

	/* Only regular files have content; an unhashed side of a file that
	 * could not be read is reported as such, not as a changed digest. */
	if (a->type != S_IFREG || b->type != S_IFREG)
		return false;
	if (!ha || !hb)
		return false;
	return memcmp(a->sha256, b->sha256, sizeof(a->sha256)) != 0;
}

unsigned fim_diff(const struct fim_record *a, const struct fim_record *b, unsigned mask)
{
	unsigned d = 0;

	if (a->type != b->type)
		d |= FIM_A_TYPE;
	if (a->mode != b->mode)
		d |= FIM_A_MODE;
	if (a->uid != b->uid)
		d |= FIM_A_UID;
	if (a->gid != b->gid)
		d |= FIM_A_GID;
	if (a->size != b->size)
		d |= FIM_A_SIZE;
	if (a->ino != b->ino)
		d |= FIM_A_INODE;
	if (a->dev != b->dev)
		d |= FIM_A_DEVICE;
	if (a->nlink != b->nlink)
		d |= FIM_A_NLINK;
	if (a->mtime_ns != b->mtime_ns)
		d |= FIM_A_MTIME;
	if (a->ctime_ns != b->ctime_ns)
		d |= FIM_A_CTIME;
	if (str_differs(a->target, b->target))
		d |= FIM_A_TARGET;
	if (str_differs(a->selinux, b->selinux))
		d |= FIM_A_SELINUX;
	if (a->cap_len != b->cap_len || (a->cap_len && memcmp(a->cap, b->cap, a->cap_len)))
		d |= FIM_A_CAPS;
	if (hash_differs(a, b))
		d |= FIM_A_SHA256;
	return d & mask;
}

static void put_time(struct vg_buf *b, int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	char s[64];

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (!gmtime_r(&sec, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm)) {
		buf_printf(b, "%" PRId64 "ns", ns);
		return;
	}
	buf_printf(b, "%s.%09ldZ", s, frac);
}

static void put_hex(struct vg_buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		char h[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
		buf_put(b, h, 2);
	}
}

void fim_attr_format(struct vg_buf *b, const struct fim_record *r, unsigned attr)
{
	switch (attr) {
	case FIM_A_TYPE: buf_puts(b, fim_type_name(r->type)); break;
	case FIM_A_MODE: buf_printf(b, "%04o", r->mode); break;
	case FIM_A_UID: buf_printf(b, "%" PRIu32, r->uid); break;
	case FIM_A_GID: buf_printf(b, "%" PRIu32, r->gid); break;
	case FIM_A_SIZE: buf_printf(b, "%" PRIu64, r->size); break;
	case FIM_A_INODE: buf_printf(b, "%" PRIu64, r->ino); break;
	case FIM_A_DEVICE:
		buf_printf(b, "%u:%u", major((dev_t)r->dev), minor((dev_t)r->dev));
		break;
	case FIM_A_NLINK: buf_printf(b, "%" PRIu64, r->nlink); break;
	case FIM_A_MTIME: put_time(b, r->mtime_ns); break;
	case FIM_A_CTIME: put_time(b, r->ctime_ns); break;
	case FIM_A_TARGET: buf_puts(b, r->target ? r->target : "(none)"); break;
	case FIM_A_SELINUX: buf_puts(b, r->selinux ? r->selinux : "(none)"); break;
	case FIM_A_CAPS:
		if (r->cap)
			put_hex(b, r->cap, r->cap_len);
		else
			buf_puts(b, "(none)");
		break;
	case FIM_A_SHA256:
		if (r->flags & FIM_F_HASHED)
			put_hex(b, r->sha256, sizeof(r->sha256));
		else
			buf_puts(b, "(none)");
		break;
	default: buf_puts(b, "?"); break;
	}
}
