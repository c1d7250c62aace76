/* test_pkgfile_dpkg.c: which dpkg package ships a file and the MD5 it
 * recorded, from info/ *.md5sums and the status file's Conffiles, on roots
 * built by hand, merged-/usr and not, well-formed and hostile; and the
 * digests of files on disk that those are compared with. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkgfile.h"
#include "testutil.h"

#define INFO "/var/lib/dpkg/info/"
#define GUARD_SECONDS 20		/* a FIFO that blocks kills the test, not the suite */

static void must(int rc, const char *what)
{
	if (rc < 0)
		fail_msg("%s: %s", what, strerror(errno));
}

static void mkfifo_in(const char *root, const char *path)
{
	char *full = xasprintf("%s%s", root, path);

	must(mkfifo(full, 0644), "mkfifo");
	free(full);
}

/* Writes exactly n bytes (NULs and all). */
static void write_bytes(const char *root, const char *path, const char *p, size_t n)
{
	char *full = xasprintf("%s%s", root, path);
	FILE *f;

	tu_write(root, path, "", 0644);		/* parents */
	f = fopen(full, "wb");
	if (!f || fwrite(p, 1, n, f) != n)
		fail_msg("write %s: %s", full, strerror(errno));
	fclose(f);
	free(full);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The answer for path is package's, with this digest (NULL: none). */
static void assert_owner(const struct pkg_query *q, const char *path, const char *package,
			 const char *hex, bool conffile)
{
	const struct pkg_owner *o = pkgq_owner(q, path);

	if (!o)
		fail_msg("%s: never asked", path);
	if (!package) {
		if (o->package)
			fail_msg("%s: want no package, got %s", path, o->package);
		return;
	}
	if (!o->package)
		fail_msg("%s: want %s, got no package", path, package);
	if (strcmp(o->package, package))
		fail_msg("%s: want %s, got %s", path, package, o->package);
	assert_string_equal(o->manager, "dpkg");
	if (o->conffile != conffile)
		fail_msg("%s: conffile %d, want %d", path, o->conffile, conffile);
	if (!hex) {
		assert_int_equal(o->alg, PKG_ALG_NONE);
		assert_int_equal(o->digest_len, 0);
		return;
	}
	assert_int_equal(o->alg, PKG_ALG_MD5);
	assert_int_equal(o->digest_len, 16);
	assert_int_equal(strlen(hex), 32);
	for (size_t i = 0; i < 16; i++) {
		unsigned want = (unsigned)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
		if (o->digest[i] != want)
			fail_msg("%s: digest byte %zu is %02x, want %02x (%s)", path, i,
				 o->digest[i], want, hex);
	}
}

static int lookup(const char *root, struct pkg_query *q, struct vg_err *err)
{
	struct vg_root r;
	int rc;

	if (root_init(&r, root, err))
		fail_msg("root_init: %s", err->msg);
	alarm(GUARD_SECONDS);
	rc = pkgfile_lookup(&r, q, err);
	alarm(0);
	root_fini(&r);
	return rc;
}

static struct pkg_query *query(const char *const *paths)
{
	struct pkg_query *q = pkgq_new();

	for (size_t i = 0; paths[i]; i++)
		pkgq_add(q, paths[i]);
	return q;
}

/* ---- a well-formed, merged-/usr root ------------------------------------- */

#define MD5_MODULI	"5fd4bd3b2e8a7ec1e5b2a3c4d5e6f708"
#define MD5_OLDCONF	"00112233445566778899aabbccddeeff"
#define MD5_OLDCONF_B	"0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define MD5_FOOCONF	"ffeeddccbbaa99887766554433221100"
#define MD5_SITE	"1234567890abcdef1234567890ABCDEF"
#define MD5_LIBFOO	"a1a1a1a1b2b2b2b2c3c3c3c3d4d4d4d4"
#define MD5_LIBFOO_M	"9e107d9d372bb6826bd81d3542a419d6"
#define MD5_README_1	"e4d909c290d0fb1ca068ffaddf22cbd0"
#define MD5_README_2	"d41d8cd98f00b204e9800998ecf8427e"
#define MD5_LS		"0cc175b9c0f1b6a831c399e269772661"
#define MD5_CAT		"92eb5ffee6ae2fec3ad71c777531578f"
#define MD5_NOALIAS	"4a8a08f09d37b73795649038408b5f33"
#define MD5_GPP		"8277e0910d750195b448797616e091ad"
#define MD5_STAR	"e1671797c52e15f763380b45e841ec32"
#define MD5_DOT		"8fa14cdd754f91cc6554c9e71929cce7"
#define MD5_PY		"b026324c6904b2a9cb4b88d6d61c81d1"
#define MD5_L32		"26ab0db90d72e28ad0ba1e22ee510510"
#define MD5_SPACE	"6d7fce9fee471194aa8b5b6e47267f03"
#define MD5_ROU		"48a24b70a0b376535542b996af517398"

static const char status_text[] =
	"Package: openssh-server\n"
	"Status: install ok installed\n"
	"Priority: optional\n"
	"Architecture: amd64\n"
	"Version: 1:9.2p1-2+deb12u3\n"
	"Conffiles:\n"
	" /etc/ssh/moduli " MD5_MODULI "\n"
	" /etc/ssh/sshd_config.d/old.conf " MD5_OLDCONF " obsolete\n"
	" /etc/ssh/gone.conf " MD5_OLDCONF " obsolete\n"
	" /etc/ssh/new.conf newconffile\n"
	" /etc/ssh/with space.conf " MD5_SPACE "\n"
	" /etc/ssh/rou.conf " MD5_ROU " remove-on-upgrade\n"
	" /etc/ssh/orou.conf " MD5_OLDCONF " obsolete remove-on-upgrade\n"
	"Description: secure shell (SSH) server\n"
	" Conffiles:\n"
	" /etc/desc/trap 0123456789abcdef0123456789abcdef\n"
	"\n"
	"Package: libfoo1\n"
	"Status: install ok installed\n"
	"Architecture: amd64\n"
	"Multi-Arch: same\n"
	"Conffiles:\n"
	"\t/etc/foo.conf   " MD5_FOOCONF "  \n"
	" /etc/ssh/sshd_config.d/old.conf " MD5_OLDCONF_B "\n"
	"\n"
	"\n"
	"Package: python3.11\n"
	"Status: install ok installed\n"
	"Conffiles:\n"
	" /etc/python3.11/sitecustomize.py " MD5_SITE;	/* no final newline */

static void merged_root(const char *root)
{
	tu_write(root, "/var/lib/dpkg/status", status_text, 0644);
	tu_write(root, INFO "libfoo1:amd64.md5sums",
		 MD5_LIBFOO "  usr/lib/x86_64-linux-gnu/libfoo.so.1\n"
		 MD5_LIBFOO_M "  lib/x86_64-linux-gnu/libfoo-merged.so.1\n"
		 MD5_README_1 "  usr/share/doc/shared/README\n"
		 "00000000000000000000000000000000  etc/foo.conf\n", 0644);
	tu_write(root, INFO "libfoo1:amd64.list", "/usr/lib/x86_64-linux-gnu/libfoo.so.1\n",
		 0644);
	tu_write(root, INFO "coreutils.md5sums",
		 MD5_LS "  bin/ls\n"
		 MD5_CAT "  usr/bin/cat\n"
		 MD5_NOALIAS "  sbin/noalias\n"
		 MD5_L32 "  lib32/libx.so\n", 0644);
	tu_write(root, INFO "g++-12.md5sums",
		 MD5_GPP "  usr/bin/x86_64-linux-gnu-g++-12\n"
		 MD5_STAR " *usr/bin/star\n"
		 MD5_DOT "  ./usr/bin/dotted\n", 0644);
	tu_write(root, INFO "python3.11.md5sums",
		 MD5_PY "  usr/bin/python3.11\n"
		 MD5_README_2 "  usr/share/doc/shared/README\n", 0644);
	/* /usr-merge: /bin and /lib are links into /usr; /sbin is a real
	 * directory; /lib32 points somewhere that is not /usr. */
	tu_mkdir(root, "/usr/bin", 0755);
	tu_mkdir(root, "/usr/lib", 0755);
	tu_mkdir(root, "/sbin", 0755);
	tu_symlink(root, "usr/bin", "/bin");
	tu_symlink(root, "/usr/lib", "/lib");
	tu_symlink(root, "/opt/lib32", "/lib32");
}

static void owners_and_digests(void **state)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/libfoo.so.1",
		"/usr/lib/x86_64-linux-gnu/libfoo-merged.so.1",
		"/usr/share/doc/shared/README",
		"/usr/bin/ls", "/usr/bin/cat", "/usr/sbin/noalias", "/sbin/noalias",
		"/usr/lib32/libx.so", "/lib32/libx.so",
		"/usr/bin/x86_64-linux-gnu-g++-12", "/usr/bin/star", "/usr/bin/dotted",
		"/usr/bin/python3.11",
		"/etc/ssh/moduli", "/etc/ssh/sshd_config.d/old.conf", "/etc/ssh/gone.conf",
		"/etc/ssh/new.conf", "/etc/desc/trap", "/etc/foo.conf",
		"/etc/ssh/with space.conf", "/etc/ssh/with", "/etc/ssh/rou.conf",
		"/etc/ssh/orou.conf",
		"/etc/python3.11/sitecustomize.py",
		"/usr/bin/nobody-ships-this", "/usr/lib/x86_64-linux-gnu/libfoo.so",
		NULL};
	char *root = tu_mkroot();
	struct pkg_query *q = query(paths);
	struct vg_err err = {{0}};

	(void)state;
	merged_root(root);
	pkgq_add(q, "/usr/bin/ls");		/* twice: one entry */
	assert_int_equal(pkgq_size(q), 26);
	if (lookup(root, q, &err))
		fail_msg("lookup: %s", err.msg);
	/* The package name is the file's without ":arch", dots and pluses kept. */
	assert_owner(q, "/usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo1", MD5_LIBFOO, false);
	assert_owner(q, "/usr/bin/x86_64-linux-gnu-g++-12", "g++-12", MD5_GPP, false);
	assert_owner(q, "/usr/bin/python3.11", "python3.11", MD5_PY, false);
	/* Listed through a merged directory: answers the /usr path. */
	assert_owner(q, "/usr/bin/ls", "coreutils", MD5_LS, false);
	assert_owner(q, "/usr/lib/x86_64-linux-gnu/libfoo-merged.so.1", "libfoo1", MD5_LIBFOO_M,
		     false);
	assert_owner(q, "/usr/bin/cat", "coreutils", MD5_CAT, false);
	/* /sbin is no link here, /lib32 no link into /usr: taken as listed. */
	assert_owner(q, "/usr/sbin/noalias", NULL, NULL, false);
	assert_owner(q, "/sbin/noalias", "coreutils", MD5_NOALIAS, false);
	assert_owner(q, "/usr/lib32/libx.so", NULL, NULL, false);
	assert_owner(q, "/lib32/libx.so", "coreutils", MD5_L32, false);
	/* "*" (binary mode) and "./" are not part of the path. */
	assert_owner(q, "/usr/bin/star", "g++-12", MD5_STAR, false);
	assert_owner(q, "/usr/bin/dotted", "g++-12", MD5_DOT, false);
	/* Two packages list it: the first one read (info/ in name order) keeps it. */
	assert_owner(q, "/usr/share/doc/shared/README", "libfoo1", MD5_README_1, false);
	/* Conffiles: the digest from status; an obsolete entry claims nothing,
	 * so another package's current entry for the same path stands. */
	assert_owner(q, "/etc/ssh/moduli", "openssh-server", MD5_MODULI, true);
	assert_owner(q, "/etc/ssh/sshd_config.d/old.conf", "libfoo1", MD5_OLDCONF_B, true);
	assert_owner(q, "/etc/ssh/gone.conf", NULL, NULL, false);
	assert_owner(q, "/etc/ssh/new.conf", "openssh-server", NULL, true);
	/* Read from the end, as dpkg does: a name with a space in it, and the
	 * flags after the digest. */
	assert_owner(q, "/etc/ssh/with space.conf", "openssh-server", MD5_SPACE, true);
	assert_owner(q, "/etc/ssh/with", NULL, NULL, false);
	assert_owner(q, "/etc/ssh/rou.conf", "openssh-server", MD5_ROU, true);
	assert_owner(q, "/etc/ssh/orou.conf", NULL, NULL, false);
	assert_owner(q, "/etc/foo.conf", "libfoo1", MD5_FOOCONF, true);	/* not md5sums' */
	assert_owner(q, "/etc/python3.11/sitecustomize.py", "python3.11", MD5_SITE, true);
	/* A Description continuation is not a Conffiles entry. */
	assert_owner(q, "/etc/desc/trap", NULL, NULL, false);
	/* Nobody ships these (a prefix of a shipped name is not it). */
	assert_owner(q, "/usr/bin/nobody-ships-this", NULL, NULL, false);
	assert_owner(q, "/usr/lib/x86_64-linux-gnu/libfoo.so", NULL, NULL, false);
	assert_null(pkgq_owner(q, "/usr/bin/never-asked"));
	pkgq_free(q);
	tu_rmroot(root);
}

/* Without /usr-merge links, "bin/ls" is /bin/ls and nothing else. */
static void unmerged_root(void **state)
{
	static const char *const paths[] = {"/bin/ls", "/usr/bin/ls", NULL};
	char *root = tu_mkroot();
	struct pkg_query *q = query(paths);
	struct vg_err err = {{0}};

	(void)state;
	tu_write(root, INFO "coreutils.md5sums", MD5_LS "  bin/ls\n", 0644);
	tu_mkdir(root, "/bin", 0755);
	tu_mkdir(root, "/usr/bin", 0755);
	assert_int_equal(lookup(root, q, &err), 0);		/* and no status file */
	assert_owner(q, "/bin/ls", "coreutils", MD5_LS, false);
	assert_owner(q, "/usr/bin/ls", NULL, NULL, false);
	pkgq_free(q);
	tu_rmroot(root);
}

static void no_database(void **state)
{
	static const char *const paths[] = {"/usr/bin/ls", "/etc/passwd", NULL};
	char *root = tu_mkroot();
	struct pkg_query *q = query(paths);
	struct vg_err err = {{0}};

	(void)state;
	assert_int_equal(lookup(root, q, &err), 0);
	assert_owner(q, "/usr/bin/ls", NULL, NULL, false);
	assert_owner(q, "/etc/passwd", NULL, NULL, false);
	/* An empty info directory and an empty status file: the same. */
	tu_write(root, "/var/lib/dpkg/status", "", 0644);
	tu_mkdir(root, "/var/lib/dpkg/info", 0755);
	assert_int_equal(lookup(root, q, &err), 0);
	assert_owner(q, "/usr/bin/ls", NULL, NULL, false);
	pkgq_free(q);
	tu_rmroot(root);
}

/* ---- hostile input -------------------------------------------------------- */

#define HEX32 "0123456789abcdef0123456789abcdef"

static void hostile_md5sums(void **state)
{
	static const char *const paths[] = {
		"/usr/bin/short", "/usr/bin/badhex", "/usr/bin/nosep", "/usr/bin/crlf",
		"/usr/bin/tab", "/usr/bin/after-huge", "/usr/bin/after-long-path",
		"/usr/bin/after-nul", "/usr/bin/last", "/usr/bin/spaces", "/", NULL};
	char *root = tu_mkroot();
	struct pkg_query *q = query(paths);
	struct vg_err err = {{0}};
	struct vg_buf b = {0};

	(void)state;
	buf_puts(&b, "\n\n   \n");
	buf_puts(&b, HEX32 "\n");				/* no path at all */
	buf_puts(&b, HEX32 " \n");
	buf_puts(&b, HEX32 "  \n");
	buf_puts(&b, HEX32 " *\n");
	buf_puts(&b, "0123456789abcdef0123456789abcde  usr/bin/short\n");	/* 31 digits */
	buf_puts(&b, "0123456789abcdef0123456789abcdeX  usr/bin/badhex\n");
	buf_puts(&b, HEX32 "usr/bin/nosep\n");
	buf_puts(&b, HEX32 "\tusr/bin/tab\n");
	buf_puts(&b, HEX32 "  usr/bin/crlf\r\n");
	buf_puts(&b, HEX32 "      usr/bin/spaces\n");		/* any run of spaces */
	for (size_t i = 0; i < (1u << 20); i++)			/* a 1 MiB line */
		buf_put(&b, "f", 1);
	buf_puts(&b, "\n" HEX32 "  usr/bin/after-huge\n");
	buf_puts(&b, HEX32 "  usr/");				/* past PATH_MAX */
	for (size_t i = 0; i < 3 * PATH_MAX; i++)
		buf_put(&b, "x", 1);
	buf_puts(&b, "\n" HEX32 "  usr/bin/after-long-path\n");
	buf_puts(&b, HEX32 "  usr/bin/n");
	buf_put(&b, "\0ul\n", 4);				/* a NUL inside a line */
	buf_puts(&b, HEX32 "  usr/bin/after-nul\n");
	buf_puts(&b, HEX32 "  usr/bin/last");			/* no final newline */
	write_bytes(root, INFO "hostile.md5sums", b.p, b.len);
	buf_free(&b);
	assert_int_equal(lookup(root, q, &err), 0);
	assert_owner(q, "/usr/bin/short", NULL, NULL, false);
	assert_owner(q, "/usr/bin/badhex", NULL, NULL, false);
	assert_owner(q, "/usr/bin/nosep", NULL, NULL, false);
	assert_owner(q, "/usr/bin/tab", NULL, NULL, false);
	/* The CR is part of what the line names: not this path. */
	assert_owner(q, "/usr/bin/crlf", NULL, NULL, false);
	assert_owner(q, "/", NULL, NULL, false);
	assert_owner(q, "/usr/bin/spaces", "hostile", HEX32, false);
	/* Whatever came before, the lines after it are read. */
	assert_owner(q, "/usr/bin/after-huge", "hostile", HEX32, false);
	assert_owner(q, "/usr/bin/after-long-path", "hostile", HEX32, false);
	assert_owner(q, "/usr/bin/after-nul", "hostile", HEX32, false);
	assert_owner(q, "/usr/bin/last", "hostile", HEX32, false);
	pkgq_free(q);
	tu_rmroot(root);
}

/* A FIFO or a directory named *.md5sums is refused at once (no reader
 * blocked forever) and skipped: every other package is still answered. */
static void md5sums_not_a_file(void **state)
{
	static const char *const paths[] = {"/usr/bin/a", "/usr/bin/z", NULL};
	char *root = tu_mkroot();
	struct pkg_query *q = query(paths);
	struct vg_err err = {{0}};

	(void)state;
	tu_write(root, INFO "a.md5sums", HEX32 "  usr/bin/a\n", 0644);
	tu_write(root, INFO "z.md5sums", HEX32 "  usr/bin/z\n", 0644);
	mkfifo_in(root, INFO "m-fifo.md5sums");
	assert_int_equal(lookup(root, q, &err), 0);
	/* What comes before and after it is answered. */
	assert_owner(q, "/usr/bin/a", "a", HEX32, false);
	assert_owner(q, "/usr/bin/z", "z", HEX32, false);
	pkgq_free(q);

	char *fifo = xasprintf("%s" INFO "m-fifo.md5sums", root);
	must(unlink(fifo), "unlink");
	must(mkdir(fifo, 0755), "mkdir");
	free(fifo);
	tu_write(root, INFO "m-fifo.md5sums/inner", HEX32 "  usr/bin/other\n", 0644);
	q = query(paths);
	memset(&err, 0, sizeof(err));
	assert_int_equal(lookup(root, q, &err), 0);
	assert_owner(q, "/usr/bin/a", "a", HEX32, false);
	assert_owner(q, "/usr/bin/z", "z", HEX32, false);
	pkgq_free(q);
	tu_rmroot(root);
}

static void status_not_a_file(void **state)
{
	static const char *const paths[] = {"/usr/bin/a", NULL};
	char *root = tu_mkroot();
	struct pkg_query *q = query(paths);
	struct vg_err err = {{0}};

	(void)state;
	tu_write(root, INFO "a.md5sums", HEX32 "  usr/bin/a\n", 0644);
	mkfifo_in(root, "/var/lib/dpkg/status");
	assert_int_equal(lookup(root, q, &err), -1);
	assert_non_null(strstr(err.msg, "/var/lib/dpkg/status"));
	/* Asked nothing, it reads nothing and cannot fail. */
	struct pkg_query *empty = pkgq_new();
	assert_int_equal(lookup(root, empty, &err), 0);
	pkgq_free(empty);
	pkgq_free(q);
	tu_rmroot(root);
}

/* A link in info/ resolves inside the root, never to the host's file. */
static void md5sums_link_stays_inside(void **state)
{
	static const char *const paths[] = {"/usr/bin/outside", "/usr/bin/inside", NULL};
	char *root = tu_mkroot(), *host = tu_mkroot();
	char *target = xasprintf("%s/evil.md5sums", host);
	struct pkg_query *q = query(paths);
	struct vg_err err = {{0}};

	(void)state;
	tu_write(host, "/evil.md5sums", HEX32 "  usr/bin/outside\n", 0644);
	tu_symlink(root, target, INFO "evil.md5sums");	/* absolute: the root's own */
	tu_write(root, "/srv/good.md5sums", HEX32 "  usr/bin/inside\n", 0644);
	tu_symlink(root, "/srv/good.md5sums", INFO "good.md5sums");
	assert_int_equal(lookup(root, q, &err), 0);
	assert_owner(q, "/usr/bin/outside", NULL, NULL, false);
	assert_owner(q, "/usr/bin/inside", "good", HEX32, false);
	free(target);
	pkgq_free(q);
	tu_rmroot(host);
	tu_rmroot(root);
}

/* ---- digests of files on disk --------------------------------------------- */

static void digest_is(const struct vg_root *r, const char *path, enum pkg_alg alg,
		      const char *hex)
{
	unsigned char out[PKG_DIGEST_MAX], want[PKG_DIGEST_MAX];
	size_t len = 0, n = strlen(hex) / 2;
	struct vg_err err = {{0}};

	for (size_t i = 0; i < n; i++)
		want[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	alarm(GUARD_SECONDS);
	if (pkgfile_digest(r, path, alg, out, &len, &err))
		fail_msg("%s %s: %s", pkg_alg_name(alg), path, err.msg);
	alarm(0);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
}

static void digest_fails(const struct vg_root *r, const char *path, enum pkg_alg alg,
			 const char *why)
{
	unsigned char out[PKG_DIGEST_MAX];
	size_t len = 12345;
	struct vg_err err = {{0}};

	alarm(GUARD_SECONDS);
	assert_int_equal(pkgfile_digest(r, path, alg, out, &len, &err), -1);
	alarm(0);
	assert_int_equal(len, 12345);
	if (!strstr(err.msg, why))
		fail_msg("%s: want \"%s\" in: %s", path, why, err.msg);
}

static void file_digests(void **state)
{
	char *root = tu_mkroot();
	struct vg_root r;
	struct vg_err err = {{0}};
	char *million = xmalloc(1000000);

	(void)state;
	tu_write(root, "/abc", "abc", 0644);
	tu_write(root, "/empty", "", 0644);
	memset(million, 'a', 1000000);		/* several reads' worth */
	write_bytes(root, "/million", million, 1000000);
	free(million);
	tu_write(root, "/secret", "abc", 0000);	/* root reads it anyway */
	tu_symlink(root, "/abc", "/link");
	tu_mkdir(root, "/dir", 0755);
	mkfifo_in(root, "/fifo");
	if (root_init(&r, root, &err))
		fail_msg("root_init: %s", err.msg);
	digest_is(&r, "/abc", PKG_ALG_MD5, "900150983cd24fb0d6963f7d28e17f72");
	digest_is(&r, "/abc", PKG_ALG_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d");
	digest_is(&r, "/abc", PKG_ALG_SHA256,
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_is(&r, "/abc", PKG_ALG_SHA512,
		  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	digest_is(&r, "/empty", PKG_ALG_MD5, "d41d8cd98f00b204e9800998ecf8427e");
	digest_is(&r, "/empty", PKG_ALG_SHA256,
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_is(&r, "/million", PKG_ALG_MD5, "7707d6ae4e027c70eea2a935c2296f21");
	digest_is(&r, "/million", PKG_ALG_SHA256,
		  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	if (geteuid() == 0)
		digest_is(&r, "/secret", PKG_ALG_MD5, "900150983cd24fb0d6963f7d28e17f72");
	digest_fails(&r, "/fifo", PKG_ALG_MD5, "not a regular file");
	digest_fails(&r, "/dir", PKG_ALG_SHA256, "not a regular file");
	digest_fails(&r, "/link", PKG_ALG_MD5, strerror(ELOOP));	/* not followed */
	digest_fails(&r, "/missing", PKG_ALG_MD5, strerror(ENOENT));
	digest_fails(&r, "/abc", PKG_ALG_NONE, "not available");
	digest_fails(&r, "/abc", (enum pkg_alg)3, "not available");
	root_fini(&r);
	tu_rmroot(root);
}

static void unhex(void **state)
{
	unsigned char out[8];

	(void)state;
	memset(out, 0xee, sizeof(out));
	assert_int_equal(pkg_unhex("00ff7F80", 8, out, sizeof(out)), 4);
	assert_memory_equal(out, "\x00\xff\x7f\x80", 4);
	assert_int_equal(out[4], 0xee);			/* nothing past the end */
	assert_int_equal(pkg_unhex("DEADbeef", 8, out, 4), 4);	/* exactly fits */
	assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
	assert_int_equal(pkg_unhex("abcd", 2, out, sizeof(out)), 1);	/* n, not strlen */
	assert_int_equal(out[0], 0xab);
	assert_int_equal(pkg_unhex("abc", 3, out, sizeof(out)), 0);	/* odd */
	assert_int_equal(pkg_unhex("a", 1, out, sizeof(out)), 0);
	assert_int_equal(pkg_unhex("", 0, out, sizeof(out)), 0);	/* empty */
	assert_int_equal(pkg_unhex("0011223344", 10, out, 4), 0);	/* too long */
	assert_int_equal(pkg_unhex("00112233", 8, out, 3), 0);
	assert_int_equal(pkg_unhex("0g", 2, out, sizeof(out)), 0);	/* not hex */
	assert_int_equal(pkg_unhex("g0", 2, out, sizeof(out)), 0);
	assert_int_equal(pkg_unhex(" 0", 2, out, sizeof(out)), 0);
	assert_int_equal(pkg_unhex("0x12", 4, out, sizeof(out)), 0);
	assert_int_equal(pkg_unhex("-1", 2, out, sizeof(out)), 0);
	assert_int_equal(pkg_unhex("\xc3\xa9", 2, out, sizeof(out)), 0);
	assert_int_equal(pkg_unhex("12\0" "4", 4, out, sizeof(out)), 0);	/* a NUL */
	assert_string_equal(pkg_alg_name(PKG_ALG_MD5), "MD5");
	assert_string_equal(pkg_alg_name(PKG_ALG_SHA256), "SHA256");
	assert_null(pkg_alg_name(PKG_ALG_NONE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(owners_and_digests),
		cmocka_unit_test(unmerged_root),
		cmocka_unit_test(no_database),
		cmocka_unit_test(hostile_md5sums),
		cmocka_unit_test(md5sums_not_a_file),
		cmocka_unit_test(status_not_a_file),
		cmocka_unit_test(md5sums_link_stays_inside),
		cmocka_unit_test(file_digests),
		cmocka_unit_test(unhex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
