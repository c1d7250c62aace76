/*
 * test_ocsf.c: the OCSF record builders (proto/ocsf.h), each record
 * unpacked with msgpack-c and read key by key: required keys with their
 * types and values, optional keys absent when not given, and hostile input
 * (NULL, invalid UTF-8, strings and lists past every limit, a parent chain
 * that loops, a packer that fails) giving what ocsf.h documents.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpcheck.h"
#include "ocsf.h"
#include "testutil.h"

static const struct ocsf_src src = {
	.host_uid = "h-1", .hostname = "web-01", .os_name = "Debian GNU/Linux 12 (bookworm)",
	.os_version = "12", .product_version = "9.9.9",
};
static const struct ocsf_src bare = {.host_uid = "h-1"};

#define T 1767225600123ull

/* What every record has, with these values. */
static void common(const msgpack_object *r, int cls, int cat, int act, int sev)
{
	mp_uint_eq(r, "class_uid", (uint64_t)cls);
	mp_uint_eq(r, "category_uid", (uint64_t)cat);
	mp_uint_eq(r, "activity_id", (uint64_t)act);
	mp_uint_eq(r, "type_uid", (uint64_t)cls * 100 + (uint64_t)act);
	mp_need(r, "time", MSGPACK_OBJECT_POSITIVE_INTEGER);
	mp_uint_eq(r, "severity_id", (uint64_t)sev);
	mp_str_eq(r, "metadata.version", "1.3.0");
	mp_str_eq(r, "metadata.product.name", "vigil");
	mp_str_eq(r, "metadata.product.vendor_name", "vigil");
	mp_str_eq(r, "device.uid", "h-1");
	mp_uint_eq(r, "device.type_id", 0);
	mp_uint_eq(r, "device.os.type_id", 200);
	mp_need(r, "device.os.name", MSGPACK_OBJECT_STR);
}

/* ---- the common part ------------------------------------------------------- */

static void test_common_full_and_bare(void **state)
{
	struct ocsf_gap g = {.h = {T, "run-7"}};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_gap(&m.pk, &src, &g, &err), 0);
	r = mp_root(&m);
	common(r, 0, 0, 99, 3);
	mp_uint_eq(r, "time", T);
	mp_str_eq(r, "metadata.uid", "run-7");
	mp_str_eq(r, "metadata.product.version", "9.9.9");
	mp_str_eq(r, "device.hostname", "web-01");
	mp_str_eq(r, "device.os.name", "Debian GNU/Linux 12 (bookworm)");
	mp_str_eq(r, "device.os.version", "12");
	assert_int_equal(mp_size(r, "metadata"), 3);
	assert_int_equal(mp_size(r, "device"), 4);

	/* Nothing known but the host id: the optional keys are not there. */
	msgpack_sbuffer_clear(&m.sb);
	g.h.uid = NULL;
	assert_int_equal(ocsf_pack_gap(&m.pk, &bare, &g, &err), 0);
	r = mp_root(&m);
	mp_str_eq(r, "device.os.name", "Linux");
	mp_absent(r, "device.hostname");
	mp_absent(r, "device.os.version");
	mp_absent(r, "metadata.uid");
	mp_absent(r, "metadata.product.version");
	assert_int_equal(mp_size(r, "metadata"), 2);
	assert_int_equal(mp_size(r, "device"), 3);
	mp_free(&m);
}

/* No host id, no record: the collector would refuse it anyway. */
static void test_host_id_required(void **state)
{
	const struct ocsf_src none = {.hostname = "x"}, empty = {.host_uid = ""};
	char long_id[300];
	struct ocsf_src too_long = {.host_uid = long_id};
	struct ocsf_inventory inv = {.packages = -1};
	struct ocsf_err err;
	struct mp m;

	(void)state;
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = 0;
	mp_init(&m);
	assert_int_equal(ocsf_pack_inventory(&m.pk, &none, &inv, &err), -1);
	assert_non_null(strstr(err.msg, "device.uid"));
	assert_int_equal(ocsf_pack_inventory(&m.pk, &empty, &inv, &err), -1);
	assert_int_equal(ocsf_pack_inventory(&m.pk, &too_long, &inv, &err), -1);
	assert_non_null(strstr(err.msg, "299 bytes"));
	assert_int_equal(ocsf_pack_inventory(&m.pk, NULL, &inv, &err), -1);
	assert_int_equal(m.sb.size, 0);		/* checked before anything was packed */
	mp_free(&m);
}

/* ---- 2003 ------------------------------------------------------------------ */

static const struct ocsf_cis cis2[] = {{"5.2.4", 1}, {"5.2.5", 0}};
static const char *const nist2[] = {"AC-6(2)", "IA-2"};
static const char *const ev2[] = {"/etc/ssh/sshd_config:32: PermitRootLogin yes", "want no"};

static struct ocsf_compliance check_rec(enum ocsf_check_status st)
{
	return (struct ocsf_compliance){
		.h = {T, NULL},
		.finding_uid = "h-1:debian-12:ssh-root", .check_id = "ssh-root",
		.title = "No root login", .desc = "d", .section = "5.2 SSH", .rationale = "r",
		.remediation = "PermitRootLogin no", .status = st,
		.check_severity = OCSF_SEV_HIGH, .severity_name = "high",
		.baseline_id = "debian-12", .baseline_name = "CIS-style Debian Linux 12",
		.baseline_version = "1.0.0",
		.cis = cis2, .ncis = 2, .nist = nist2, .nnist = 2,
		.evidence = ev2, .nevidence = 2, .evidence_omitted = 5,
	};
}

static void test_compliance_failed(void **state)
{
	struct ocsf_compliance c = check_rec(OCSF_CHECK_FAILED);
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_compliance(&m.pk, &src, &c, &err), 0);
	r = mp_root(&m);
	common(r, 2003, 2, 1, 4);		/* failed: the check's severity */
	mp_absent(r, "status_id");		/* a finding's workflow state is the consumer's */
	mp_str_eq(r, "finding_info.uid", "h-1:debian-12:ssh-root");
	mp_str_eq(r, "finding_info.title", "No root login");
	mp_str_eq(r, "finding_info.desc", "d");
	mp_str_eq(r, "compliance.control", "ssh-root");
	assert_int_equal(mp_size(r, "compliance.standards"), 2);
	mp_str_eq(r, "compliance.standards.0", "CIS-style Debian Linux 12");
	mp_str_eq(r, "compliance.standards.1", "NIST SP 800-53");
	assert_int_equal(mp_size(r, "compliance.requirements"), 4);
	mp_str_eq(r, "compliance.requirements.0", "CIS 5.2.4");
	mp_str_eq(r, "compliance.requirements.1", "CIS 5.2.5");
	mp_str_eq(r, "compliance.requirements.3", "NIST SP 800-53 IA-2");
	mp_uint_eq(r, "compliance.status_id", 3);
	mp_str_eq(r, "compliance.status", "Fail");
	mp_str_eq(r, "remediation.desc", "PermitRootLogin no");
	mp_str_eq(r, "unmapped.vigil.baseline.id", "debian-12");
	mp_str_eq(r, "unmapped.vigil.baseline.version", "1.0.0");
	mp_str_eq(r, "unmapped.vigil.section", "5.2 SSH");
	mp_str_eq(r, "unmapped.vigil.status", "failed");
	mp_str_eq(r, "unmapped.vigil.severity", "high");
	mp_str_eq(r, "unmapped.vigil.rationale", "r");
	mp_str_eq(r, "unmapped.vigil.cis.1.id", "5.2.5");
	mp_uint_eq(r, "unmapped.vigil.cis.0.level", 1);
	mp_uint_eq(r, "unmapped.vigil.cis.1.level", 0);
	mp_str_eq(r, "unmapped.vigil.nist_800_53.0", "AC-6(2)");
	mp_str_eq(r, "unmapped.vigil.evidence.0", ev2[0]);
	mp_uint_eq(r, "unmapped.vigil.evidence_omitted", 5);
	mp_free(&m);
}

/* Each status as OCSF words it; only a failure carries the check's severity. */
static void test_compliance_statuses(void **state)
{
	static const struct {
		enum ocsf_check_status st;
		unsigned id;
		const char *caption, *name;
		unsigned sev;
	} want[] = {
		{OCSF_CHECK_PASSED, 1, "Pass", "passed", 1},
		{OCSF_CHECK_FAILED, 3, "Fail", "failed", 4},
		{OCSF_CHECK_ERROR, 2, "Warning", "error", 1},
		{OCSF_CHECK_NA, 99, "Not Applicable", "not_applicable", 1},
		{OCSF_CHECK_SKIPPED, 99, "Skipped", "skipped", 1},
	};
	struct ocsf_err err;
	struct mp m;

	(void)state;
	mp_init(&m);
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		struct ocsf_compliance c = check_rec(want[i].st);
		msgpack_sbuffer_clear(&m.sb);
		assert_int_equal(ocsf_pack_compliance(&m.pk, &src, &c, &err), 0);
		const msgpack_object *r = mp_root(&m);
		mp_uint_eq(r, "compliance.status_id", want[i].id);
		mp_str_eq(r, "compliance.status", want[i].caption);
		mp_str_eq(r, "unmapped.vigil.status", want[i].name);
		mp_uint_eq(r, "severity_id", want[i].sev);
		assert_string_equal(ocsf_check_status_name(want[i].st), want[i].name);
	}
	struct ocsf_compliance bad = check_rec((enum ocsf_check_status)7);
	assert_int_equal(ocsf_pack_compliance(&m.pk, &src, &bad, &err), -1);
	bad = check_rec(OCSF_CHECK_FAILED);
	bad.check_severity = 42;
	assert_int_equal(ocsf_pack_compliance(&m.pk, &src, &bad, &err), -1);
	mp_free(&m);
}

/* A check with nothing but its id, title and baseline. */
static void test_compliance_bare(void **state)
{
	struct ocsf_compliance c = {
		.finding_uid = "u", .check_id = "c", .title = "t", .status = OCSF_CHECK_PASSED,
		.baseline_id = "b", .baseline_name = "B", .baseline_version = "1",
	};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_compliance(&m.pk, &bare, &c, &err), 0);
	r = mp_root(&m);
	common(r, 2003, 2, 1, 1);
	assert_int_equal(mp_size(r, "finding_info"), 2);
	mp_absent(r, "remediation");
	mp_absent(r, "compliance.requirements");
	assert_int_equal(mp_size(r, "compliance.standards"), 1);
	/* baseline and status only */
	assert_int_equal(mp_size(r, "unmapped.vigil"), 2);
	mp_free(&m);
}

static void test_compliance_required(void **state)
{
	static const char *const fields[] = {"finding_uid", "check_id", "title", "baseline_id",
					     "baseline_name", "baseline_version"};
	struct ocsf_err err;
	struct mp m;

	(void)state;
	mp_init(&m);
	for (size_t i = 0; i < 6; i++) {
		struct ocsf_compliance c = check_rec(OCSF_CHECK_PASSED);
		const char **f[] = {&c.finding_uid, &c.check_id, &c.title, &c.baseline_id,
				    &c.baseline_name, &c.baseline_version};
		*f[i] = NULL;
		if (ocsf_pack_compliance(&m.pk, &src, &c, &err) != -1)
			fail_msg("%s NULL was packed", fields[i]);
	}
	struct ocsf_compliance c = check_rec(OCSF_CHECK_PASSED);
	struct ocsf_cis nul[] = {{NULL, 1}};
	c.cis = nul;
	c.ncis = 1;
	assert_int_equal(ocsf_pack_compliance(&m.pk, &src, &c, &err), -1);
	assert_int_equal(m.sb.size, 0);
	mp_free(&m);
}

/* ---- 1001 ------------------------------------------------------------------ */

static const unsigned char digest[32] = {0xde, 0xad, 0xbe, 0xef, [31] = 0x01};

static struct ocsf_file_activity file_rec(const char *path)
{
	return (struct ocsf_file_activity){
		.h = {T, NULL}, .activity_id = OCSF_FILE_UPDATE, .file = {.path = path},
		.mode = -1, .owner_uid = OCSF_NOID, .owner_gid = OCSF_NOID,
	};
}

static void test_file_event_bare(void **state)
{
	struct ocsf_file_activity f = file_rec("/etc/ssh/sshd_config");
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), 0);
	r = mp_root(&m);
	common(r, 1001, 1, 3, 1);
	mp_absent(r, "status_id");
	mp_str_eq(r, "file.path", "/etc/ssh/sshd_config");
	mp_str_eq(r, "file.name", "sshd_config");
	mp_str_eq(r, "file.parent_folder", "/etc/ssh");
	mp_uint_eq(r, "file.type_id", 0);
	assert_int_equal(mp_size(r, "file"), 4);	/* no stat, no hash */
	assert_int_equal(mp_size(r, "actor"), 0);	/* required, and unknown */
	mp_absent(r, "file_result");
	mp_absent(r, "unmapped");
	mp_absent(r, "status_detail");
	mp_free(&m);
}

/* name and parent_folder of the paths a kernel may report. */
static void test_file_names(void **state)
{
	static const struct {
		const char *path, *name, *parent;
	} want[] = {
		{"/", "/", NULL},
		{"/etc", "etc", "/"},
		{"/etc/", "/etc/", NULL},
		{"relative", "relative", NULL},
		{"dir/file", "file", "dir"},
		{"", "", NULL},
		{"//x", "x", "/"},
	};
	struct ocsf_err err;
	struct mp m;

	(void)state;
	mp_init(&m);
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		struct ocsf_file_activity f = file_rec(want[i].path);
		msgpack_sbuffer_clear(&m.sb);
		assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), 0);
		const msgpack_object *r = mp_root(&m);
		mp_str_eq(r, "file.path", want[i].path);
		mp_str_eq(r, "file.name", want[i].name);
		if (want[i].parent)
			mp_str_eq(r, "file.parent_folder", want[i].parent);
		else
			mp_absent(r, "file.parent_folder");
	}
	struct ocsf_file_activity f = file_rec(NULL);
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), -1);
	assert_non_null(strstr(err.msg, "file.path"));
	struct ocsf_file nopath = {0};
	f = file_rec("/x");
	f.file_result = &nopath;
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), -1);
	assert_non_null(strstr(err.msg, "file_result.path"));
	f = file_rec("/x");
	f.activity_id = 100;
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), -1);
	mp_free(&m);
}

static const struct ocsf_process init_p = {.pid = 1, .name = "systemd", .uid = 0};
static const struct ocsf_process shell_p = {.pid = 700, .name = "bash", .cmd_line = "-bash",
	.exe = "/usr/bin/bash", .uid = 1000, .user_name = "alice", .parent = &init_p};
static const struct ocsf_process vim_p = {.pid = 812, .tid = 813, .name = "vim",
	.cmd_line = "vim /etc/hosts", .exe = "/usr/bin/vim.basic", .uid = 0,
	.container_uid = "abc123", .parent = &shell_p};

static void test_file_event_full(void **state)
{
	struct ocsf_file after = {.path = "/etc/hosts.new", .type_id = OCSF_FT_REGULAR,
				  .has_stat = true, .size = 1ull << 40, .mtime_ms = -5,
				  .inode = UINT64_MAX, .owner_uid = 4294967294u, .sha256 = digest,
				  .selinux = "system_u:object_r:etc_t:s0", .capability = "0100"};
	struct ocsf_actor actor = {.process = &vim_p, .uid = 0, .has_cgroup = true,
				   .cgroup_id = 99, .cgroup_path = "/user.slice"};
	struct ocsf_file_activity f = file_rec("/etc/hosts");
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	f.activity_id = OCSF_FILE_SET_SECURITY;
	f.severity_id = OCSF_SEV_HIGH;
	f.status_id = 2;
	f.status_detail = "Permission denied";
	f.file_result = &after;
	f.actor = &actor;
	f.event = "chown";
	f.mode = 0104755;		/* only the permission bits are a mode */
	f.owner_uid = 0;
	f.owner_gid = 4294967294ll;
	f.path_incomplete = true;
	f.symlink_target = "../x";
	f.xattr_name = "user.x";
	mp_init(&m);
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), 0);
	r = mp_root(&m);
	common(r, 1001, 1, 7, 4);
	mp_uint_eq(r, "status_id", 2);
	mp_str_eq(r, "status_detail", "Permission denied");
	mp_uint_eq(r, "file_result.size", 1ull << 40);
	mp_int_eq(r, "file_result.modified_time", -5);
	mp_str_eq(r, "file_result.uid", "18446744073709551615");
	mp_str_eq(r, "file_result.owner.uid", "4294967294");
	mp_uint_eq(r, "file_result.hashes.0.algorithm_id", 3);
	mp_str_eq(r, "file_result.hashes.0.algorithm", "SHA-256");
	mp_str_eq(r, "file_result.hashes.0.value",
		  "deadbeef00000000000000000000000000000000000000000000000000000001");
	const msgpack_object *x = mp_need(r, "file_result.xattributes", MSGPACK_OBJECT_MAP);
	mp_str_eq(mp_key(x, "security.selinux", 16), "", "system_u:object_r:etc_t:s0");
	mp_str_eq(mp_key(x, "security.capability", 19), "", "0100");
	/* the actor: OCSF's part, with its chain; the cgroup is vigil's */
	mp_uint_eq(r, "actor.process.pid", 812);
	mp_uint_eq(r, "actor.process.tid", 813);
	mp_str_eq(r, "actor.process.name", "vim");
	mp_str_eq(r, "actor.process.cmd_line", "vim /etc/hosts");
	mp_str_eq(r, "actor.process.file.path", "/usr/bin/vim.basic");
	mp_str_eq(r, "actor.process.file.name", "vim.basic");
	mp_uint_eq(r, "actor.process.file.type_id", 1);
	mp_str_eq(r, "actor.process.user.uid", "0");
	mp_str_eq(r, "actor.process.container.uid", "abc123");
	mp_str_eq(r, "actor.process.parent_process.user.name", "alice");
	mp_str_eq(r, "actor.process.parent_process.user.uid", "1000");
	mp_uint_eq(r, "actor.process.parent_process.parent_process.pid", 1);
	mp_absent(r, "actor.process.parent_process.parent_process.parent_process");
	mp_absent(r, "actor.process.parent_process.parent_process.file");
	mp_str_eq(r, "actor.user.uid", "0");
	mp_uint_eq(r, "unmapped.vigil.cgroup.id", 99);
	mp_str_eq(r, "unmapped.vigil.cgroup.path", "/user.slice");
	mp_str_eq(r, "unmapped.vigil.event", "chown");
	mp_str_eq(r, "unmapped.vigil.mode", "4755");
	mp_uint_eq(r, "unmapped.vigil.owner_uid", 0);
	mp_uint_eq(r, "unmapped.vigil.owner_gid", 4294967294u);
	mp_bool_eq(r, "unmapped.vigil.path_incomplete", true);
	mp_str_eq(r, "unmapped.vigil.symlink_target", "../x");
	mp_str_eq(r, "unmapped.vigil.xattr_name", "user.x");
	mp_absent(r, "unmapped.vigil.found_by");
	mp_absent(r, "unmapped.fim");
	mp_free(&m);
}

/* chmod to 0 is a mode; uid 0 is root: neither is "not given". */
static void test_file_zero_is_a_value(void **state)
{
	struct ocsf_file_activity f = file_rec("/x");
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	f.mode = 0;
	f.owner_uid = 0;
	mp_init(&m);
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), 0);
	r = mp_root(&m);
	mp_str_eq(r, "unmapped.vigil.mode", "0000");
	mp_uint_eq(r, "unmapped.vigil.owner_uid", 0);
	mp_absent(r, "unmapped.vigil.owner_gid");
	assert_int_equal(mp_size(r, "unmapped.vigil"), 2);
	mp_free(&m);
}

static const struct ocsf_fim_change chg[] = {
	{"sha256", "aa", "bb"}, {"mode", NULL, "0644"}, {"uid", "0", NULL},
};

static void test_fim_check_finding(void **state)
{
	struct ocsf_fim fim = {.change = "changed", .set = NULL, .changes = chg, .nchanges = 3};
	struct ocsf_file_activity f = file_rec("/etc/passwd");
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	f.fim = &fim;
	mp_init(&m);
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), 0);
	r = mp_root(&m);
	mp_absent(r, "unmapped.vigil");
	mp_str_eq(r, "unmapped.fim.change", "changed");
	mp_nil(r, "unmapped.fim.set");
	assert_int_equal(mp_size(r, "unmapped.fim.changes"), 3);
	mp_str_eq(r, "unmapped.fim.changes.0.attribute", "sha256");
	mp_str_eq(r, "unmapped.fim.changes.0.new", "bb");
	mp_nil(r, "unmapped.fim.changes.1.old");
	mp_nil(r, "unmapped.fim.changes.2.new");
	/* no verdict: `fim check` judges nothing */
	assert_int_equal(mp_size(r, "unmapped.fim"), 3);
	mp_absent(r, "unmapped.fim.verdict");
	mp_absent(r, "unmapped.fim.realtime");

	fim.change = NULL;
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), -1);
	assert_non_null(strstr(err.msg, "unmapped.fim.change"));
	mp_free(&m);
}

static void test_fim_drift_finding(void **state)
{
	struct ocsf_fim_package pkg = {.name = "coreutils", .manager = NULL,
				       .digest_algorithm = "md5", .conffile = true,
				       .verified = -1};
	struct ocsf_actor others[2] = {
		{.process = &shell_p, .uid = 1000, .has_cgroup = true, .cgroup_id = 7},
		{.uid = OCSF_NOID},
	};
	struct ocsf_fim fim = {.change = "changed", .set = "bin", .verdict = "package_update",
			       .reason = NULL, .found_by = "event", .package = &pkg,
			       .others = others, .nothers = 2};
	struct ocsf_file_activity f = file_rec("/usr/bin/ls");
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	f.fim = &fim;
	mp_init(&m);
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), 0);
	r = mp_root(&m);
	assert_int_equal(mp_size(r, "unmapped.fim.changes"), 0);
	mp_bool_eq(r, "unmapped.fim.realtime", true);
	mp_str_eq(r, "unmapped.fim.verdict", "package_update");
	mp_str_eq(r, "unmapped.fim.found_by", "event");
	mp_nil(r, "unmapped.fim.reason");
	mp_str_eq(r, "unmapped.fim.package.name", "coreutils");
	mp_nil(r, "unmapped.fim.package.manager");
	mp_bool_eq(r, "unmapped.fim.package.conffile", true);
	mp_nil(r, "unmapped.fim.package.verified");
	mp_uint_eq(r, "unmapped.fim.other_actors.0.process.pid", 700);
	mp_uint_eq(r, "unmapped.fim.other_actors.0.cgroup.id", 7);
	mp_absent(r, "unmapped.fim.other_actors.0.cgroup.path");
	mp_str_eq(r, "unmapped.fim.other_actors.0.user.uid", "1000");
	assert_int_equal(mp_size(r, "unmapped.fim.other_actors.1"), 0);

	pkg.verified = 0;
	fim.package = NULL;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), 0);
	r = mp_root(&m);
	mp_nil(r, "unmapped.fim.package");
	fim.package = &pkg;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ocsf_pack_file_activity(&m.pk, &src, &f, &err), 0);
	r = mp_root(&m);
	mp_bool_eq(r, "unmapped.fim.package.verified", false);
	mp_free(&m);
}

/* ---- 1007 ------------------------------------------------------------------ */

static void test_process_exec(void **state)
{
	struct ocsf_actor parent = {.process = &shell_p, .uid = OCSF_NOID};
	struct ocsf_process_activity p = {
		.h = {T, NULL}, .activity_id = OCSF_PROC_LAUNCH,
		.process = {.pid = 900, .name = "curl", .cmd_line = "curl -s x",
			    .exe = "/usr/bin/curl", .uid = 1000},
		.actor = &parent, .event = "exec", .cwd = "/home/alice", .auid = 1000,
		.cgroup_id = 5, .mntns = 4026531841u, .cmd_line_truncated = true,
	};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_process_activity(&m.pk, &src, &p, &err), 0);
	r = mp_root(&m);
	common(r, 1007, 1, 1, 1);
	mp_uint_eq(r, "status_id", 1);
	mp_uint_eq(r, "process.pid", 900);
	mp_absent(r, "process.tid");
	mp_absent(r, "process.parent_process");
	mp_str_eq(r, "process.file.parent_folder", "/usr/bin");
	mp_str_eq(r, "process.user.uid", "1000");
	mp_uint_eq(r, "actor.process.pid", 700);
	mp_uint_eq(r, "actor.process.parent_process.pid", 1);
	mp_absent(r, "actor.user");
	mp_absent(r, "exit_code");
	mp_str_eq(r, "unmapped.vigil.event", "exec");
	mp_str_eq(r, "unmapped.vigil.cwd", "/home/alice");
	mp_uint_eq(r, "unmapped.vigil.auid", 1000);
	mp_uint_eq(r, "unmapped.vigil.cgroup_id", 5);
	mp_uint_eq(r, "unmapped.vigil.mntns", 4026531841u);
	mp_bool_eq(r, "unmapped.vigil.cmd_line_truncated", true);
	mp_absent(r, "unmapped.vigil.signal");
	mp_free(&m);
}

static void test_process_exit_bare(void **state)
{
	struct ocsf_process_activity p = {
		.activity_id = OCSF_PROC_TERMINATE, .process = {.pid = 5, .uid = OCSF_NOID},
		.has_exit_code = true, .exit_code = -1, .auid = OCSF_NOID, .signal = 0,
	};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_process_activity(&m.pk, &bare, &p, &err), 0);
	r = mp_root(&m);
	common(r, 1007, 1, 2, 1);
	assert_int_equal(mp_size(r, "process"), 1);
	assert_int_equal(mp_size(r, "actor"), 0);
	mp_int_eq(r, "exit_code", -1);
	mp_absent(r, "unmapped");
	mp_free(&m);
}

/* A pid reused as its own ancestor: the chain stops at OCSF_LINEAGE_MAX. */
static void test_process_loop(void **state)
{
	struct ocsf_process loop = {.pid = 42, .uid = OCSF_NOID};
	struct ocsf_process_activity p = {.activity_id = 1, .auid = OCSF_NOID};
	const msgpack_object *o;
	struct ocsf_err err;
	struct mp m;
	int depth = 0;

	(void)state;
	loop.parent = &loop;
	p.process = loop;
	mp_init(&m);
	assert_int_equal(ocsf_pack_process_activity(&m.pk, &src, &p, &err), 0);
	for (o = mp_get(mp_root(&m), "process"); (o = mp_get(o, "parent_process"));)
		depth++;
	assert_int_equal(depth, OCSF_LINEAGE_MAX);
	mp_free(&m);
}

/* ---- 2004 ------------------------------------------------------------------ */

static void test_detection(void **state)
{
	struct ocsf_file before = {.path = "/usr/bin/ls", .type_id = 1, .sha256 = NULL};
	struct ocsf_file after = {.path = "/usr/bin/ls", .type_id = 1, .sha256 = digest};
	struct ocsf_actor actor = {.process = &vim_p, .uid = 0};
	struct ocsf_file_activity src_rec = file_rec("/usr/bin/ls");
	struct ocsf_detection d = {
		.h = {T, "r-2"}, .finding_uid = "r-2", .title = "Tampering: /usr/bin/ls",
		.desc = "why", .severity_id = OCSF_SEV_HIGH, .source = &src_rec,
	};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	src_rec.h.uid = "r-1";
	src_rec.file = before;
	src_rec.file_result = &after;
	src_rec.actor = &actor;
	mp_init(&m);
	assert_int_equal(ocsf_pack_detection(&m.pk, &src, &d, &err), 0);
	r = mp_root(&m);
	common(r, 2004, 2, 1, 4);
	mp_str_eq(r, "finding_info.uid", "r-2");
	mp_str_eq(r, "finding_info.title", "Tampering: /usr/bin/ls");
	mp_str_eq(r, "finding_info.desc", "why");
	mp_str_eq(r, "finding_info.related_events.0.uid", "r-1");
	mp_uint_eq(r, "finding_info.related_events.0.type_uid", 100103);
	mp_need(r, "evidences.0.file.hashes", MSGPACK_OBJECT_ARRAY);	/* the state after */
	mp_uint_eq(r, "evidences.0.actor.process.pid", 812);

	/* A source without a record id: no related event, still the evidence. */
	src_rec.h.uid = NULL;
	src_rec.file_result = NULL;
	src_rec.actor = NULL;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ocsf_pack_detection(&m.pk, &src, &d, &err), 0);
	r = mp_root(&m);
	mp_absent(r, "finding_info.related_events");
	mp_absent(r, "evidences.0.file.hashes");
	assert_int_equal(mp_size(r, "evidences.0.actor"), 0);

	d.source = NULL;
	d.desc = NULL;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ocsf_pack_detection(&m.pk, &src, &d, &err), 0);
	r = mp_root(&m);
	mp_absent(r, "evidences");
	assert_int_equal(mp_size(r, "finding_info"), 2);
	d.severity_id = 0;
	assert_int_equal(ocsf_pack_detection(&m.pk, &src, &d, &err), -1);
	mp_free(&m);
}

/* ---- 5001, 5002 ------------------------------------------------------------- */

static void test_inventory(void **state)
{
	struct ocsf_inventory inv = {.h = {T, NULL}, .kernel_release = "6.1.0",
				     .architecture = "x86_64", .packages = 0};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_inventory(&m.pk, &src, &inv, &err), 0);
	r = mp_root(&m);
	common(r, 5001, 5, 2, 1);
	mp_uint_eq(r, "status_id", 1);
	mp_str_eq(r, "unmapped.vigil.kernel_release", "6.1.0");
	mp_uint_eq(r, "unmapped.vigil.packages", 0);	/* none installed is a fact */
	mp_absent(r, "unmapped.vigil.machine_id");
	assert_int_equal(mp_size(r, "unmapped.vigil"), 3);
	inv = (struct ocsf_inventory){.packages = -1};
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ocsf_pack_inventory(&m.pk, &src, &inv, &err), 0);
	mp_absent(mp_root(&m), "unmapped");
	mp_free(&m);
}

static void test_config_state(void **state)
{
	struct ocsf_config_state c = {.h = {T, NULL}, .baseline_id = "debian-12",
				      .baseline_name = "D", .baseline_version = "1.0.0",
				      .passed = 3, .failed = 1, .not_applicable = 2, .errors = 4,
				      .skipped = 5, .has_score = true, .score = 75.0};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_config_state(&m.pk, &src, &c, &err), 0);
	r = mp_root(&m);
	common(r, 5002, 5, 2, 1);
	mp_str_eq(r, "unmapped.vigil.baseline.id", "debian-12");
	mp_uint_eq(r, "unmapped.vigil.summary.passed", 3);
	mp_uint_eq(r, "unmapped.vigil.summary.failed", 1);
	mp_uint_eq(r, "unmapped.vigil.summary.not_applicable", 2);
	mp_uint_eq(r, "unmapped.vigil.summary.errors", 4);
	mp_uint_eq(r, "unmapped.vigil.summary.skipped", 5);
	assert_true(mp_need(r, "unmapped.vigil.summary.score", MSGPACK_OBJECT_FLOAT64)->via.f64 ==
		    75.0);
	/* No passed nor failed check: no score, and NaN never goes out. */
	c.score = NAN;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ocsf_pack_config_state(&m.pk, &src, &c, &err), 0);
	mp_nil(mp_root(&m), "unmapped.vigil.summary.score");
	c.has_score = false;
	c.score = 1;
	msgpack_sbuffer_clear(&m.sb);
	assert_int_equal(ocsf_pack_config_state(&m.pk, &src, &c, &err), 0);
	mp_nil(mp_root(&m), "unmapped.vigil.summary.score");
	c.baseline_version = NULL;
	assert_int_equal(ocsf_pack_config_state(&m.pk, &src, &c, &err), -1);
	mp_free(&m);
}

/* ---- heartbeat, gap ---------------------------------------------------------- */

static void test_heartbeat(void **state)
{
	struct ocsf_counter drops[] = {{"ringbuf_full", 3}, {NULL, 1}};
	struct ocsf_outbox ob = {.records = 10, .batches = 2, .bytes = 999, .last_ack_ms = 0};
	struct ocsf_heartbeat h = {.h = {T, NULL}, .mode = "fanotify", .uptime_s = 60,
				   .interval_s = 30, .events = 12345, .drops = drops, .ndrops = 2,
				   .outbox = &ob};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_heartbeat(&m.pk, &src, &h, &err), 0);
	r = mp_root(&m);
	common(r, 0, 0, 99, 1);
	mp_uint_eq(r, "type_uid", 99);
	mp_str_eq(r, "unmapped.vigil.kind", "heartbeat");
	mp_str_eq(r, "unmapped.vigil.mode", "fanotify");
	mp_uint_eq(r, "unmapped.vigil.uptime_s", 60);
	mp_uint_eq(r, "unmapped.vigil.interval_s", 30);
	mp_uint_eq(r, "unmapped.vigil.events", 12345);
	mp_uint_eq(r, "unmapped.vigil.drops.ringbuf_full", 3);
	mp_uint_eq(r, "unmapped.vigil.drops.?", 1);
	mp_uint_eq(r, "unmapped.vigil.outbox.records", 10);
	mp_nil(r, "unmapped.vigil.outbox.last_ack");
	mp_absent(r, "unmapped.vigil.fim");
	h.mode = NULL;
	assert_int_equal(ocsf_pack_heartbeat(&m.pk, &src, &h, &err), -1);
	h.mode = "bpf";
	h.drops = NULL;
	assert_int_equal(ocsf_pack_heartbeat(&m.pk, &src, &h, &err), -1);
	mp_free(&m);
}

static void test_gap(void **state)
{
	struct ocsf_gap g = {.h = {T, NULL}, .records = 20000, .batches = 20, .first_seq = 7,
			     .last_seq = 26, .since_ms = 1000, .until_ms = 2000};
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_gap(&m.pk, &src, &g, &err), 0);
	r = mp_root(&m);
	mp_uint_eq(r, "status_id", 2);
	mp_str_eq(r, "message", "outbox full: 20000 records in 20 batches dropped");
	mp_uint_eq(r, "start_time", 1000);
	mp_uint_eq(r, "end_time", 2000);
	mp_str_eq(r, "unmapped.vigil.kind", "gap");
	mp_uint_eq(r, "unmapped.vigil.records", 20000);
	mp_uint_eq(r, "unmapped.vigil.batches", 20);
	mp_uint_eq(r, "unmapped.vigil.first_seq", 7);
	mp_uint_eq(r, "unmapped.vigil.last_seq", 26);
	mp_uint_eq(r, "unmapped.vigil.since", 1000);
	mp_uint_eq(r, "unmapped.vigil.until", 2000);
	mp_free(&m);
}

/* ---- hostile strings ----------------------------------------------------------- */

/* The path as packed, for a path given as bytes. */
static char *packed_path(struct mp *m, const char *path, size_t *len)
{
	struct ocsf_file_activity f = file_rec(path);
	struct ocsf_err err;
	const msgpack_object *v;

	msgpack_sbuffer_clear(&m->sb);
	assert_int_equal(ocsf_pack_file_activity(&m->pk, &src, &f, &err), 0);
	v = mp_need(mp_root(m), "file.path", MSGPACK_OBJECT_STR);
	*len = v->via.str.size;
	return strndup(v->via.str.ptr, v->via.str.size);
}

static void test_invalid_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} want[] = {
		{"/tmp/\xff", "/tmp/\xef\xbf\xbd"},
		{"/a\xc3", "/a\xef\xbf\xbd"},			/* cut at the end */
		{"/a\xc3(", "/a\xef\xbf\xbd("},			/* cut inside */
		{"/\xc0\xaf", "/\xef\xbf\xbd\xef\xbf\xbd"},	/* overlong '/' */
		{"/\xed\xa0\x80", "/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},	/* surrogate */
		{"/\xf4\x90\x80\x80", "/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"/caf\xc3\xa9/\xf0\x9f\x94\x91", "/caf\xc3\xa9/\xf0\x9f\x94\x91"},	/* valid */
		{"/\x01\x7f\"\\", "/\x01\x7f\"\\"},		/* control characters are data */
	};
	struct mp m;
	size_t len;

	(void)state;
	mp_init(&m);
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		char *got = packed_path(&m, want[i].in, &len);
		if (len != strlen(want[i].out) || memcmp(got, want[i].out, len))
			fail_msg("case %zu: got %zu bytes", i, len);
		free(got);
	}
	mp_free(&m);
}

static char *repeat(const char *unit, size_t times)
{
	size_t u = strlen(unit);
	char *s = xmalloc(u * times + 1);

	for (size_t i = 0; i < times; i++)
		memcpy(s + i * u, unit, u);
	s[u * times] = 0;
	return s;
}

/* Past OCSF_STR_MAX: cut on a character, ending in U+2026, within the max. */
static void test_long_strings(void **state)
{
	static const char *const units[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91",
					    "\xff"};
	struct mp m;
	size_t len;

	(void)state;
	mp_init(&m);
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		char *in = repeat(units[i], 100000);
		char *got = packed_path(&m, in, &len);
		assert_true(len <= OCSF_STR_MAX);
		assert_true(len > OCSF_STR_MAX - 8);
		assert_memory_equal(got + len - 3, "\xe2\x80\xa6", 3);
		assert_true(mp_utf8(got, len));
		free(got);
		free(in);
	}
	/* Exactly the max stays whole; one byte more is cut. */
	char *in = repeat("b", OCSF_STR_MAX);
	char *got = packed_path(&m, in, &len);
	assert_int_equal(len, OCSF_STR_MAX);
	assert_memory_equal(got, in, len);
	free(got);
	free(in);
	in = repeat("b", OCSF_STR_MAX + 1);
	got = packed_path(&m, in, &len);
	assert_int_equal(len, OCSF_STR_MAX);
	assert_memory_equal(got + len - 3, "\xe2\x80\xa6", 3);
	free(got);
	free(in);
	/* 6000 invalid bytes grow to 18000 once repaired: cut too. */
	in = repeat("\xfe", 6000);
	got = packed_path(&m, in, &len);
	assert_true(len <= OCSF_STR_MAX);
	assert_memory_equal(got + len - 3, "\xe2\x80\xa6", 3);
	free(got);
	free(in);
	mp_free(&m);
}

/* NULL where a string is optional leaves it out; lists stop at OCSF_LIST_MAX. */
static void test_nulls_and_long_lists(void **state)
{
	const char *ev[100];
	struct ocsf_cis cis[100];
	struct ocsf_compliance c = check_rec(OCSF_CHECK_ERROR);
	struct ocsf_err err;
	struct mp m;
	const msgpack_object *r;

	(void)state;
	for (int i = 0; i < 100; i++) {
		ev[i] = i == 3 ? NULL : "line";
		cis[i] = (struct ocsf_cis){"1.1", 2};
	}
	c.desc = c.section = c.rationale = c.remediation = c.severity_name = NULL;
	c.evidence = ev;
	c.nevidence = 100;
	c.cis = cis;
	c.ncis = 100;
	c.nist = NULL;
	c.nnist = 5;			/* a count without an array: nothing */
	mp_init(&m);
	assert_int_equal(ocsf_pack_compliance(&m.pk, &src, &c, &err), 0);
	r = mp_root(&m);
	mp_absent(r, "finding_info.desc");
	mp_absent(r, "remediation");
	mp_absent(r, "unmapped.vigil.section");
	mp_absent(r, "unmapped.vigil.severity");
	mp_absent(r, "unmapped.vigil.nist_800_53");
	assert_int_equal(mp_size(r, "unmapped.vigil.evidence"), OCSF_LIST_MAX);
	mp_str_eq(r, "unmapped.vigil.evidence.3", "");	/* a NULL line is an empty one */
	assert_int_equal(mp_size(r, "unmapped.vigil.cis"), OCSF_LIST_MAX);
	assert_int_equal(mp_size(r, "compliance.requirements"), OCSF_LIST_MAX);
	assert_int_equal(mp_size(r, "compliance.standards"), 1);
	mp_free(&m);
}

/* ---- a packer that fails ------------------------------------------------------- */

struct budget {
	size_t left;
};

static int budget_write(void *data, const char *buf, size_t len)
{
	struct budget *b = data;

	(void)buf;
	if (len > b->left)
		return -1;
	b->left -= len;
	return 0;
}

/* Out of memory at every byte: always -1 with a reason, never a crash. */
static void test_write_failures(void **state)
{
	struct ocsf_compliance c = check_rec(OCSF_CHECK_FAILED);
	struct ocsf_err err;
	struct budget b;
	msgpack_packer pk;
	struct mp m;
	size_t full;

	(void)state;
	mp_init(&m);
	assert_int_equal(ocsf_pack_compliance(&m.pk, &src, &c, &err), 0);
	full = m.sb.size;
	msgpack_packer_init(&pk, &b, budget_write);
	for (size_t n = 0; n < full; n++) {
		b.left = n;
		err.msg[0] = 0;
		if (ocsf_pack_compliance(&pk, &src, &c, &err) != -1)
			fail_msg("a budget of %zu of %zu bytes did not fail", n, full);
		assert_non_null(strstr(err.msg, "out of memory"));
	}
	b.left = full;
	assert_int_equal(ocsf_pack_compliance(&pk, &src, &c, &err), 0);
	mp_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_full_and_bare),
		cmocka_unit_test(test_host_id_required),
		cmocka_unit_test(test_compliance_failed),
		cmocka_unit_test(test_compliance_statuses),
		cmocka_unit_test(test_compliance_bare),
		cmocka_unit_test(test_compliance_required),
		cmocka_unit_test(test_file_event_bare),
		cmocka_unit_test(test_file_names),
		cmocka_unit_test(test_file_event_full),
		cmocka_unit_test(test_file_zero_is_a_value),
		cmocka_unit_test(test_fim_check_finding),
		cmocka_unit_test(test_fim_drift_finding),
		cmocka_unit_test(test_process_exec),
		cmocka_unit_test(test_process_exit_bare),
		cmocka_unit_test(test_process_loop),
		cmocka_unit_test(test_detection),
		cmocka_unit_test(test_inventory),
		cmocka_unit_test(test_config_state),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_nulls_and_long_lists),
		cmocka_unit_test(test_write_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
