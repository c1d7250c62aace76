/* test_probe_pkg.c: the `package` rule over dpkg's status file and rpmdb.sqlite. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"

static void has_evidence(struct tu_run *t, const char *id, const char *want)
{
	const char *ev = tu_evidence(t, id);

	if (!strstr(ev, want))
		fail_msg("%s: evidence lacks \"%s\": %s", id, want, ev);
}

static const char dpkg_status[] =
	"Package: openssh-server\n"
	"Status: install ok installed\n"
	"Priority: optional\n"
	"Architecture: amd64\n"
	"Description: secure shell server\n"
	" Continuation: lines are not fields\n"
	" Package: telnetd\n"
	"\n"
	"Package: telnet\n"
	"Status: deinstall ok config-files\n"
	"\n"
	"Package: pinned\n"
	"Status: hold ok installed\n"
	"\n"
	"Package: broken\n"
	"Status: install ok half-installed\n"
	"\n"
	"Package: libc6\n"
	"Architecture: i386\n"
	"status:   install   ok   installed  \n"
	"\n"
	"\n"
	"Package: libc6\n"
	"Status: install ok installed\n"
	"Architecture: amd64";			/* no final newline */

static void dpkg_rules(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_write(r, "/var/lib/dpkg/status", dpkg_status, 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: ssh, title: t, all: [{package: {name: openssh-server}}]}\n"
	       "  - {id: ssh-absent, title: t, all: [{package: {name: openssh-server, installed: false}}]}\n"
	       "  - {id: telnet, title: t, all: [{package: {name: telnet}}]}\n"
	       "  - {id: telnet-absent, title: t, all: [{package: {name: telnet, installed: false}}]}\n"
	       "  - {id: telnetd, title: t, all: [{package: {name: telnetd}}]}\n"
	       "  - {id: pinned, title: t, all: [{package: {name: pinned}}]}\n"
	       "  - {id: broken, title: t, all: [{package: {name: broken}}]}\n"
	       "  - {id: any, title: t, all: [{package: {name: [nope, libc6]}}]}\n"
	       "  - {id: none, title: t, all: [{package: {name: [nope, nada]}}]}\n"
	       "  - {id: none-absent, title: t, all: [{package: {name: [nope, libc6], installed: false}}]}\n"
	       "  - {id: arch, title: t, all: [{package: {name: 'libc6:i386'}}]}\n"
	       "  - {id: arch-other, title: t, all: [{package: {name: 'openssh-server:arm64'}}]}\n"
	       "  - {id: applies, title: t, applies_when: [{package: {name: nope}}], all: [{package: {name: libc6}}]}\n");
	assert_status(&t, "ssh", VG_PASSED);
	has_evidence(&t, "ssh", "openssh-server is installed (dpkg)");
	assert_status(&t, "ssh-absent", VG_FAILED);
	assert_status(&t, "telnet", VG_FAILED);
	has_evidence(&t, "telnet", "telnet is not installed");
	assert_status(&t, "telnet-absent", VG_PASSED);
	assert_status(&t, "telnetd", VG_FAILED);
	assert_status(&t, "pinned", VG_PASSED);
	assert_status(&t, "broken", VG_FAILED);
	assert_status(&t, "any", VG_PASSED);
	assert_status(&t, "none", VG_FAILED);
	has_evidence(&t, "none", "/var/lib/dpkg/status: 4 installed packages");
	assert_status(&t, "none-absent", VG_FAILED);
	has_evidence(&t, "none-absent", "libc6 is installed");
	assert_status(&t, "arch", VG_PASSED);
	assert_status(&t, "arch-other", VG_FAILED);
	assert_status(&t, "applies", VG_NA);
	tu_done(&t);
	tu_rmroot(r);
}

/* Random bytes, NULs, fields without values: nothing installed, no crash. */
static void garbage_dpkg_status(void **state)
{
	char *r = tu_mkroot(), path[PATH_MAX];
	struct tu_run t;
	unsigned char junk[8192];
	unsigned seed = 12345;
	FILE *f;

	(void)state;
	tu_write(r, "/var/lib/dpkg/status", "", 0644);
	snprintf(path, sizeof(path), "%s/var/lib/dpkg/status", r);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Package:\nStatus: install ok installed\n\nStatus: install ok installed\n"
	      "Package:: x\nPackage: nul\0x\nStatus install ok installed\n\n"
	      "Package: many\nStatus: install ok installed extra\n\n:\n::::\n", f);
	for (size_t i = 0; i < sizeof(junk); i++) {
		seed = seed * 1103515245u + 12345u;
		junk[i] = (unsigned char)(seed >> 16);
	}
	fwrite(junk, 1, sizeof(junk), f);
	for (int i = 0; i < 70000; i++)
		fputc('P', f);			/* one very long line */
	fclose(f);
	tu_run(&t, r, TU_HEAD
	       "  - {id: any, title: t, all: [{package: {name: [nul, many, x]}}]}\n"
	       "  - {id: absent, title: t, all: [{package: {name: nul, installed: false}}]}\n");
	assert_status(&t, "any", VG_FAILED);
	assert_status(&t, "absent", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

/* ---- rpmdb.sqlite ------------------------------------------------------ */

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

struct blob {
	unsigned char b[512];
	size_t n;
};

/* A header with NAME (1000) and VERSION (1001) strings. */
static void rpm_header(struct blob *h, const char *name, uint32_t name_type)
{
	size_t nlen = strlen(name) + 1;
	unsigned char *e = h->b + 8, *data = h->b + 8 + 2 * 16;

	be32(h->b, 2);
	be32(h->b + 4, (uint32_t)(nlen + 4));
	be32(e, 1000);
	be32(e + 4, name_type);
	be32(e + 8, 0);
	be32(e + 12, 1);
	be32(e + 16, 1001);
	be32(e + 20, 6);
	be32(e + 24, (uint32_t)nlen);
	be32(e + 28, 1);
	memcpy(data, name, nlen);
	memcpy(data + nlen, "1.0", 4);
	h->n = 8 + 2 * 16 + nlen + 4;
}

static void db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static void db_put(sqlite3 *db, const struct blob *h)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1,
					    &st, NULL), SQLITE_OK);
	if (h->n)
		sqlite3_bind_blob(st, 1, h->b, (int)h->n, SQLITE_STATIC);
	else
		sqlite3_bind_zeroblob(st, 1, 0);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* An rpmdb.sqlite as rpm writes it (WAL mode), with one good package and
 * headers broken every way the parser has to catch. */
static void make_rpmdb(const char *root)
{
	char path[PATH_MAX];
	struct blob h;
	sqlite3 *db;

	tu_mkdir(root, "/var/lib/rpm", 0755);
	snprintf(path, sizeof(path), "%s/var/lib/rpm/rpmdb.sqlite", root);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	db_exec(db, "PRAGMA journal_mode=WAL");
	db_exec(db, "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, "
		    "blob BLOB NOT NULL)");

	rpm_header(&h, "bash", 6);
	db_put(db, &h);
	rpm_header(&h, "coreutils", 6);
	db_put(db, &h);

	/* Truncated: shorter than its own counts say. */
	rpm_header(&h, "trunc", 6);
	h.n -= 3;
	db_put(db, &h);
	/* Shorter than the two counts. */
	h.n = 5;
	db_put(db, &h);
	/* Empty. */
	h.n = 0;
	db_put(db, &h);
	/* An index count that would overflow 32-bit arithmetic. */
	rpm_header(&h, "bigil", 6);
	be32(h.b, 0xffffffffu);
	db_put(db, &h);
	rpm_header(&h, "wrapil", 6);
	be32(h.b, 0x10000001u);
	db_put(db, &h);
	/* A data size past the blob. */
	rpm_header(&h, "bigdl", 6);
	be32(h.b + 4, 0x7fffffffu);
	db_put(db, &h);
	/* The name's offset outside the data. */
	rpm_header(&h, "badoff", 6);
	be32(h.b + 8 + 8, 0xfffffff0u);
	db_put(db, &h);
	/* The name runs to the end of the data without a NUL. */
	rpm_header(&h, "nonul", 6);
	be32(h.b + 4, 3);		/* data: "non" */
	h.n = 8 + 2 * 16 + 3;
	db_put(db, &h);
	/* The name is not a string. */
	rpm_header(&h, "intname", 4);
	db_put(db, &h);
	/* A control character in the name. */
	rpm_header(&h, "bad\nname", 6);
	db_put(db, &h);
	/* No index entries. */
	memset(h.b, 0, 8);
	h.n = 8;
	db_put(db, &h);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void rpm_rules(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	make_rpmdb(r);
	tu_run(&t, r, TU_HEAD
	       "  - {id: bash, title: t, all: [{package: {name: bash}}]}\n"
	       "  - {id: coreutils-absent, title: t, all: [{package: {name: coreutils, installed: false}}]}\n"
	       "  - {id: version-is-no-name, title: t, all: [{package: {name: '1.0'}}]}\n"
	       "  - {id: trunc, title: t, all: [{package: {name: [trunc, bigil, wrapil, bigdl, badoff, nonul, non, intname]}}]}\n"
	       "  - {id: absent, title: t, all: [{package: {name: telnet, installed: false}}]}\n");
	assert_status(&t, "bash", VG_PASSED);
	has_evidence(&t, "bash", "bash is installed (rpm)");
	assert_status(&t, "coreutils-absent", VG_FAILED);
	assert_status(&t, "version-is-no-name", VG_FAILED);
	assert_status(&t, "trunc", VG_FAILED);
	has_evidence(&t, "trunc", "/var/lib/rpm/rpmdb.sqlite: 2 packages");
	has_evidence(&t, "trunc", "11 malformed package headers skipped");
	assert_status(&t, "absent", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

/* Both databases: a package in either one counts. */
static void dpkg_and_rpm(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	make_rpmdb(r);
	tu_write(r, "/var/lib/dpkg/status", dpkg_status, 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: both, title: t, all: [{package: {name: bash}}, {package: {name: openssh-server}}]}\n");
	assert_status(&t, "both", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
}

static void no_database(void **state)
{
	char *r = tu_mkroot();
	struct tu_run t;

	(void)state;
	tu_mkdir(r, "/var/lib", 0755);
	tu_run(&t, r, TU_HEAD
	       "  - {id: x, title: t, all: [{package: {name: bash}}]}\n"
	       "  - {id: y, title: t, all: [{package: {name: bash, installed: false}}]}\n");
	assert_status(&t, "x", VG_NA);
	has_evidence(&t, "x", "no package database");
	assert_status(&t, "y", VG_NA);
	tu_done(&t);
	tu_rmroot(r);
}

/* A database that is not one, or not a file, is an error, not "absent";
 * and a FIFO must not hang the run. */
static void unreadable_databases(void **state)
{
	char *r = tu_mkroot(), path[PATH_MAX];
	struct tu_run t;

	(void)state;
	tu_write(r, "/var/lib/rpm/rpmdb.sqlite", "SQLite format 3\nthis is not a database", 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: x, title: t, all: [{package: {name: bash, installed: false}}]}\n");
	assert_status(&t, "x", VG_ERROR);
	has_evidence(&t, "x", "/var/lib/rpm/rpmdb.sqlite: ");
	tu_done(&t);

	snprintf(path, sizeof(path), "%s/var/lib/rpm/rpmdb.sqlite", r);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0644), 0);
	tu_mkdir(r, "/var/lib/dpkg/status", 0755);	/* a directory, not a file */
	tu_run(&t, r, TU_HEAD
	       "  - {id: x, title: t, all: [{package: {name: bash}}]}\n");
	assert_status(&t, "x", VG_ERROR);
	has_evidence(&t, "x", "/var/lib/dpkg/status: Is a directory");
	has_evidence(&t, "x", "/var/lib/rpm/rpmdb.sqlite: not a regular file");
	tu_done(&t);
	tu_rmroot(r);
}

/* The database is looked up inside the root, even through a symlink that
 * points at the host's own. */
static void rpmdb_symlink_stays_in_root(void **state)
{
	char *r = tu_mkroot(), *other = tu_mkroot(), target[PATH_MAX];
	struct tu_run t;

	(void)state;
	make_rpmdb(other);
	snprintf(target, sizeof(target), "%s/var/lib/rpm/rpmdb.sqlite", other);
	tu_symlink(r, target, "/var/lib/rpm/rpmdb.sqlite");
	tu_write(r, "/var/lib/dpkg/status", dpkg_status, 0644);
	tu_run(&t, r, TU_HEAD
	       "  - {id: x, title: t, all: [{package: {name: bash, installed: false}}]}\n");
	assert_status(&t, "x", VG_PASSED);
	tu_done(&t);
	tu_rmroot(r);
	tu_rmroot(other);
}

static void load_errors(void **state)
{
	(void)state;
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{package: {installed: true}}]}\n"), "name"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{package: {name: ../../etc}}]}\n"),
		"not a package name"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{package: {name: []}}]}\n"), "name"));
	assert_non_null(strstr(tu_load_error(TU_HEAD
		"  - {id: a, title: t, all: [{package: {name: x, version: 1}}]}\n"), "version"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dpkg_rules),
		cmocka_unit_test(garbage_dpkg_status),
		cmocka_unit_test(rpm_rules),
		cmocka_unit_test(dpkg_and_rpm),
		cmocka_unit_test(no_database),
		cmocka_unit_test(unreadable_databases),
		cmocka_unit_test(rpmdb_symlink_stays_in_root),
		cmocka_unit_test(load_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
