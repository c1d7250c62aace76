/*
 * ocsftool.c: the OCSF record builders (proto/ocsf.h) from the command
 * line, for ocsf-interop.sh, which decodes what it writes with an
 * independent msgpack (python3-msgpack) and holds docs/records.md to it.
 *
 *   ocsftool examples   the examples of docs/records.md
 *   ocsftool all        one record of each kind with every optional field
 *   ocsftool minimal    one record of each kind with required fields only
 *   ocsftool hostile    records made of hostile strings
 *   ocsftool frame      the examples as one CompressedPackedForward frame
 *
 * Each but frame writes a stream of [name, record] pairs to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "ocsf.h"

#define T0 1767225600000ull		/* 2026-01-01T00:00:00Z */

static const struct ocsf_src src = {
	.host_uid = "h-5f2c9e1a",
	.hostname = "web-01",
	.os_name = "Debian GNU/Linux 12 (bookworm)",
	.os_version = "12",
	.product_version = "0.1.0",
};
static const struct ocsf_src src_min = {.host_uid = "h-5f2c9e1a"};

static const unsigned char sha_old[32] = {
	0x8b, 0x1a, 0x99, 0x53, 0xc4, 0x61, 0x12, 0x96, 0xa8, 0x27, 0xab, 0xf8, 0xc4, 0x78,
	0x04, 0xd7, 0xe6, 0xc4, 0x9c, 0x6b, 0x3a, 0x1c, 0x2c, 0x6b, 0x4c, 0x8f, 0x3b, 0x6d,
	0x2f, 0x1e, 0x0a, 0x55};
static const unsigned char sha_new[32] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
	0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
	0x78, 0x52, 0xb8, 0x55};

typedef int (*pack_fn)(msgpack_packer *pk, struct ocsf_err *err);

static void pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* ---- the people and processes of the examples ------------------------------ */

/* The sensor names up to 4 parents; the examples stop at 2 to stay short. */
static const struct ocsf_process sshd_s = {.pid = 4090, .name = "sshd",
	.cmd_line = "sshd: alice [priv]", .exe = "/usr/sbin/sshd", .uid = 0};
static const struct ocsf_process bash = {.pid = 4100, .name = "bash", .cmd_line = "-bash",
	.exe = "/usr/bin/bash", .uid = 0, .parent = &sshd_s};
static const struct ocsf_process vim = {.pid = 4242, .name = "vim",
	.cmd_line = "vim /etc/ssh/sshd_config", .exe = "/usr/bin/vim.basic", .uid = 0,
	.parent = &bash};
static const struct ocsf_actor vim_actor = {.process = &vim, .uid = 0};

static const struct ocsf_process cp = {.pid = 5150, .name = "cp",
	.cmd_line = "cp /tmp/.x/ls /usr/bin/ls", .exe = "/usr/bin/cp", .uid = 0,
	.container_uid = "4f1c0de2b7a35e6c9d8e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e",
	.parent = &bash};
static const struct ocsf_actor cp_actor = {.process = &cp, .uid = 0, .has_cgroup = true,
	.cgroup_id = 4711,
	.cgroup_path = "/system.slice/docker-4f1c0de2b7a35e6c9d8e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e.scope"};
static const struct ocsf_process touch = {.pid = 5144, .name = "touch",
	.cmd_line = "touch /usr/bin/ls", .exe = "/usr/bin/touch", .uid = 0, .parent = &bash};
static const struct ocsf_actor touch_actor = {.process = &touch, .uid = 0,
	.has_cgroup = true, .cgroup_id = 4711, .cgroup_path = "/user.slice/user-0.slice"};

/* ---- 1001 ---------------------------------------------------------------------- */

static int ex_file_event(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_file_activity r = {
		.h = {T0 + 1234, NULL},
		.activity_id = OCSF_FILE_UPDATE,
		.status_id = 1,
		.file = {.path = "/etc/ssh/sshd_config", .type_id = OCSF_FT_REGULAR},
		.actor = &vim_actor,
		.event = "modify",
		.mode = -1, .owner_uid = OCSF_NOID, .owner_gid = OCSF_NOID,
	};
	return ocsf_pack_file_activity(pk, &src, &r, err);
}

static const struct ocsf_fim_change added_changes[] = {
	{"type", NULL, "file"}, {"mode", NULL, "0644"}, {"uid", NULL, "0"},
	{"sha256", NULL, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
};

static int ex_fim_check(msgpack_packer *pk, struct ocsf_err *err)
{
	const struct ocsf_fim fim = {.change = "added", .set = "etc",
				     .changes = added_changes, .nchanges = 4};
	struct ocsf_file_activity r = {
		.h = {T0 + 60000, "0a1b2c3d4e5f6071-17"},
		.activity_id = OCSF_FILE_CREATE,
		.severity_id = OCSF_SEV_MEDIUM,
		.status_id = 1,
		.file = {.path = "/etc/cron.d/backup", .type_id = OCSF_FT_REGULAR, .has_stat = true,
			 .size = 0, .mtime_ms = T0 - 5000, .inode = 1837422, .owner_uid = 0,
			 .sha256 = sha_new},
		.mode = -1, .owner_uid = OCSF_NOID, .owner_gid = OCSF_NOID,
		.fim = &fim,
	};
	return ocsf_pack_file_activity(pk, &src, &r, err);
}

static const struct ocsf_fim_change drift_changes[] = {
	{"size", "138856", "141232"},
	{"mtime", "2025-04-05T10:20:31.000000000Z", "2026-01-01T00:02:00.412093101Z"},
	{"sha256", "8b1a9953c4611296a827abf8c47804d7e6c49c6b3a1c2c6b4c8f3b6d2f1e0a55",
	 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
};
static const struct ocsf_fim_package coreutils = {.name = "coreutils", .manager = "dpkg",
	.digest_algorithm = "md5", .conffile = false, .verified = 0};
/* A macro, not an object: a static initializer may not copy an object (clang). */
#define LS_BEFORE {.path = "/usr/bin/ls", .type_id = OCSF_FT_REGULAR, \
	.has_stat = true, .size = 138856, .mtime_ms = 1743848431000, .inode = 262345, \
	.owner_uid = 0, .sha256 = sha_old}
static const struct ocsf_file ls_after = {.path = "/usr/bin/ls", .type_id = OCSF_FT_REGULAR,
	.has_stat = true, .size = 141232, .mtime_ms = T0 + 120412, .inode = 262345,
	.owner_uid = 0, .sha256 = sha_new};
static const struct ocsf_fim drift_fim = {
	.change = "changed", .set = "binaries", .changes = drift_changes, .nchanges = 3,
	.verdict = "tampering",
	.reason = "a package's file changed outside the package manager",
	.found_by = "event", .package = &coreutils, .others = &touch_actor, .nothers = 1,
};
static const struct ocsf_file_activity drift_rec = {
	.h = {T0 + 120600, "0a1b2c3d4e5f6071-18"},
	.activity_id = OCSF_FILE_UPDATE,
	.severity_id = OCSF_SEV_HIGH,
	.status_id = 1,
	.file = LS_BEFORE,
	.file_result = &ls_after,
	.actor = &cp_actor,
	.mode = -1, .owner_uid = OCSF_NOID, .owner_gid = OCSF_NOID,
	.fim = &drift_fim,
};

static int ex_fim_drift(msgpack_packer *pk, struct ocsf_err *err)
{
	return ocsf_pack_file_activity(pk, &src, &drift_rec, err);
}

/* ---- 1007 ---------------------------------------------------------------------- */

static int ex_exec(msgpack_packer *pk, struct ocsf_err *err)
{
	const struct ocsf_actor parent = {.process = &bash, .uid = OCSF_NOID};
	struct ocsf_process_activity r = {
		.h = {T0 + 2001, NULL},
		.activity_id = OCSF_PROC_LAUNCH,
		.process = {.pid = 4301, .name = "curl",
			    .cmd_line = "curl -fsS https://example.net/install.sh",
			    .exe = "/usr/bin/curl", .uid = 1000},
		.actor = &parent,
		.event = "exec",
		.cwd = "/home/alice",
		.auid = 1000,
		.cgroup_id = 5132,
		.mntns = 4026531841u,
	};
	return ocsf_pack_process_activity(pk, &src, &r, err);
}

static int ex_exit(msgpack_packer *pk, struct ocsf_err *err)
{
	const struct ocsf_actor parent = {.process = &bash, .uid = OCSF_NOID};
	struct ocsf_process_activity r = {
		.h = {T0 + 2950, NULL},
		.activity_id = OCSF_PROC_TERMINATE,
		.process = {.pid = 4301, .name = "curl", .uid = 1000},
		.actor = &parent,
		.has_exit_code = true, .exit_code = 137,
		.event = "exit",
		.auid = 1000,
		.cgroup_id = 5132,
		.mntns = 4026531841u,
		.signal = 9,
	};
	return ocsf_pack_process_activity(pk, &src, &r, err);
}

/* ---- 2003 ---------------------------------------------------------------------- */

static const struct ocsf_cis root_cis[] = {{"5.1.20", 1}};
static const char *const root_nist[] = {"AC-6(2)", "IA-2"};
static const char *const root_ev[] = {
	"/etc/ssh/sshd_config:32: PermitRootLogin yes",
	"PermitRootLogin is 'yes', want one of: no"};

static int ex_compliance(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_compliance r = {
		.h = {T0 + 3000, NULL},
		.finding_uid = "h-5f2c9e1a:debian-12:deb12-ssh-root-login",
		.check_id = "deb12-ssh-root-login",
		.title = "Ensure sshd PermitRootLogin is disabled",
		.desc = "The check passes when sshd refuses logins as root.",
		.section = "5.1 Configure SSH Server",
		.rationale = "Logging in as an ordinary user first leaves an audit trail.",
		.remediation = "Set PermitRootLogin no in /etc/ssh/sshd_config; systemctl reload ssh",
		.status = OCSF_CHECK_FAILED,
		.check_severity = OCSF_SEV_HIGH,
		.severity_name = "high",
		.baseline_id = "debian-12",
		.baseline_name = "CIS-style Debian Linux 12",
		.baseline_version = "1.0.0",
		.cis = root_cis, .ncis = 1,
		.nist = root_nist, .nnist = 2,
		.evidence = root_ev, .nevidence = 2,
	};
	return ocsf_pack_compliance(pk, &src, &r, err);
}

/* ---- 2004 ---------------------------------------------------------------------- */

static int ex_detection(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_detection r = {
		.h = {T0 + 120600, "0a1b2c3d4e5f6071-19"},
		.finding_uid = "0a1b2c3d4e5f6071-19",
		.title = "Tampering: /usr/bin/ls",
		.desc = "a package's file changed outside the package manager",
		.severity_id = OCSF_SEV_HIGH,
		.source = &drift_rec,
	};
	return ocsf_pack_detection(pk, &src, &r, err);
}

/* ---- 5001, 5002 ------------------------------------------------------------------ */

static int ex_inventory(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_inventory r = {
		.h = {T0, NULL},
		.kernel_release = "6.1.0-28-amd64",
		.machine_id = "3f9a2b7c4d5e6f708192a3b4c5d6e7f8",
		.boot_uid = "6d1f7a3e-2b4c-4e8f-9a1b-2c3d4e5f6a7b",
		.architecture = "x86_64",
		.os_id = "debian",
		.packages = 412,
	};
	return ocsf_pack_inventory(pk, &src, &r, err);
}

static int ex_config_state(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_config_state r = {
		.h = {T0 + 3100, NULL},
		.baseline_id = "debian-12", .baseline_name = "CIS-style Debian Linux 12",
		.baseline_version = "1.0.0",
		.passed = 141, .failed = 39, .not_applicable = 12, .errors = 1, .skipped = 3,
		.has_score = true, .score = 78.3333,
	};
	return ocsf_pack_config_state(pk, &src, &r, err);
}

/* ---- heartbeat, gap --------------------------------------------------------------- */

static const struct ocsf_counter drops[] = {
	{"ringbuf_full", 0}, {"path_trunc", 2}, {"map_full", 0}, {"overflow", 0}};
static const struct ocsf_counter fimc[] = {
	{"events", 311}, {"rechecks", 296}, {"rescans", 1}, {"overflows", 0},
	{"findings", 4}, {"package_updates", 3}, {"tampering", 1}};
static const struct ocsf_outbox outbox = {.records = 87, .batches = 1, .bytes = 5312,
	.dropped_records = 0, .dropped_batches = 0, .last_ack_ms = T0 + 29500};

static int ex_heartbeat(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_heartbeat r = {
		.h = {T0 + 30000, NULL},
		.mode = "bpf", .uptime_s = 86430, .interval_s = 30, .events = 1093312,
		.drops = drops, .ndrops = 4, .outbox = &outbox, .fim = fimc, .nfim = 7,
	};
	return ocsf_pack_heartbeat(pk, &src, &r, err);
}

static int ex_gap(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_gap r = {
		.h = {T0 + 7200000, NULL},
		.records = 20000, .batches = 20, .first_seq = 1041, .last_seq = 1060,
		.since_ms = T0 + 3600000, .until_ms = T0 + 3660000,
	};
	return ocsf_pack_gap(pk, &src, &r, err);
}

static const struct example {
	const char *name;
	pack_fn fn;
} examples[] = {
	{"file-event", ex_file_event}, {"fim-check", ex_fim_check}, {"fim-drift", ex_fim_drift},
	{"process-exec", ex_exec}, {"process-exit", ex_exit}, {"compliance", ex_compliance},
	{"detection", ex_detection}, {"inventory", ex_inventory},
	{"config-state", ex_config_state}, {"heartbeat", ex_heartbeat}, {"gap", ex_gap},
	{NULL, NULL},
};

/* ---- every optional field --------------------------------------------------------- */

static int all_1001(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_file f = ls_after;
	struct ocsf_fim fim = drift_fim;
	struct ocsf_file_activity r = drift_rec;
	struct ocsf_actor other = touch_actor;

	other.user_name = "root";
	fim.others = &other;

	f.selinux = "system_u:object_r:bin_t:s0";
	f.capability = "0100000200200000000000000000000000000000";
	r.file_result = &f;
	r.status_detail = "Permission denied";
	r.event = "modify";
	r.symlink_target = "../lib/x";
	r.xattr_name = "security.selinux";
	r.mode = 0644;
	r.owner_uid = 0;
	r.owner_gid = 0;
	r.path_incomplete = true;
	r.found_by = "rescan";
	fim.found_by = "event";
	r.fim = &fim;
	return ocsf_pack_file_activity(pk, &src, &r, err);
}

static int all_1007(msgpack_packer *pk, struct ocsf_err *err)
{
	const struct ocsf_actor parent = {.process = &bash, .uid = 0, .user_name = "root"};
	struct ocsf_process_activity r = {
		.h = {T0, "0a1b2c3d4e5f6071-20"},
		.activity_id = OCSF_PROC_TERMINATE,
		.process = {.pid = 4301, .tid = 4302, .name = "curl", .cmd_line = "curl x",
			    .exe = "/usr/bin/curl", .uid = 1000, .user_name = "alice",
			    .container_uid = "4f1c0de2b7a3", .parent = &bash},
		.actor = &parent,
		.has_exit_code = true, .exit_code = 137,
		.event = "exit", .cwd = "/", .auid = 1000, .cgroup_id = 1, .mntns = 2, .signal = 9,
		.cmd_line_truncated = true,
	};
	return ocsf_pack_process_activity(pk, &src, &r, err);
}

static int all_2003(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_compliance r = {
		.h = {T0, "0a1b2c3d4e5f6071-21"},
		.finding_uid = "u", .check_id = "c", .title = "t", .desc = "d", .section = "s",
		.rationale = "r", .remediation = "fix", .status = OCSF_CHECK_ERROR,
		.check_severity = OCSF_SEV_LOW, .severity_name = "low",
		.baseline_id = "b", .baseline_name = "B", .baseline_version = "1",
		.cis = root_cis, .ncis = 1, .nist = root_nist, .nnist = 2,
		.evidence = root_ev, .nevidence = 2, .evidence_omitted = 3,
	};
	return ocsf_pack_compliance(pk, &src, &r, err);
}

static int all_5001(msgpack_packer *pk, struct ocsf_err *err)
{
	return ex_inventory(pk, err);
}

static const struct example all[] = {
	{"1001", all_1001}, {"1007", all_1007}, {"2003", all_2003}, {"2004", ex_detection},
	{"5001", all_5001}, {"5002", ex_config_state}, {"heartbeat", ex_heartbeat},
	{"gap", ex_gap}, {NULL, NULL},
};

/* ---- required fields only ----------------------------------------------------------- */

static int min_1001(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_file_activity r = {.activity_id = OCSF_FILE_DELETE, .file = {.path = "/"},
				       .mode = -1, .owner_uid = OCSF_NOID,
				       .owner_gid = OCSF_NOID};
	return ocsf_pack_file_activity(pk, &src_min, &r, err);
}

static int min_1007(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_process_activity r = {.activity_id = OCSF_PROC_LAUNCH,
					  .process = {.pid = 7, .uid = OCSF_NOID},
					  .auid = OCSF_NOID};
	return ocsf_pack_process_activity(pk, &src_min, &r, err);
}

static int min_2003(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_compliance r = {.finding_uid = "u", .check_id = "c", .title = "t",
				    .status = OCSF_CHECK_PASSED, .baseline_id = "b",
				    .baseline_name = "B", .baseline_version = "1"};
	return ocsf_pack_compliance(pk, &src_min, &r, err);
}

static int min_2004(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_detection r = {.finding_uid = "u", .title = "t", .severity_id = 4};
	return ocsf_pack_detection(pk, &src_min, &r, err);
}

static int min_5001(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_inventory r = {.packages = -1};
	return ocsf_pack_inventory(pk, &src_min, &r, err);
}

static int min_5002(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_config_state r = {.baseline_id = "b", .baseline_name = "B",
				      .baseline_version = "1"};
	return ocsf_pack_config_state(pk, &src_min, &r, err);
}

static int min_heartbeat(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_heartbeat r = {.mode = "rescan"};
	return ocsf_pack_heartbeat(pk, &src_min, &r, err);
}

static int min_gap(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_gap r = {0};
	return ocsf_pack_gap(pk, &src_min, &r, err);
}

static const struct example minimal[] = {
	{"1001", min_1001}, {"1007", min_1007}, {"2003", min_2003}, {"2004", min_2004},
	{"5001", min_5001}, {"5002", min_5002}, {"heartbeat", min_heartbeat},
	{"gap", min_gap}, {NULL, NULL},
};

/* ---- hostile strings ----------------------------------------------------------------- */

static char *long_string(size_t n, char fill)
{
	char *s = malloc(n + 1);

	if (!s)
		exit(1);
	memset(s, fill, n);
	s[n] = 0;
	return s;
}

/* A path with bytes that are not UTF-8 (as a file name may have). */
static int bad_utf8(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_file_activity r = {
		.activity_id = OCSF_FILE_CREATE,
		.file = {.path = "/tmp/a\xff\xfe" "b/\xc3\x28x\xe2\x82/\xed\xa0\x80"},
		.mode = -1, .owner_uid = OCSF_NOID, .owner_gid = OCSF_NOID,
	};
	return ocsf_pack_file_activity(pk, &src, &r, err);
}

/* A command line far past OCSF_STR_MAX, ending in multibyte characters. */
static int long_cmdline(msgpack_packer *pk, struct ocsf_err *err)
{
	char *cmd = long_string(100000, 'A');
	int rc;

	for (size_t i = OCSF_STR_MAX - 4; i + 2 < 100000; i += 2)
		memcpy(cmd + i, "\xc3\xa9", 2);	/* é: cut must land between two */
	struct ocsf_process_activity r = {.activity_id = OCSF_PROC_LAUNCH,
					  .process = {.pid = 1, .cmd_line = cmd, .uid = OCSF_NOID},
					  .auid = OCSF_NOID};
	rc = ocsf_pack_process_activity(pk, &src, &r, err);
	free(cmd);
	return rc;
}

/* Control characters and quotes are data: kept as they are. */
static int control_chars(msgpack_packer *pk, struct ocsf_err *err)
{
	struct ocsf_file_activity r = {
		.activity_id = OCSF_FILE_CREATE,
		.file = {.path = "/tmp/new\nline\t\"q\"\\\x1b[31m"},
		.mode = -1, .owner_uid = OCSF_NOID, .owner_gid = OCSF_NOID,
	};
	return ocsf_pack_file_activity(pk, &src, &r, err);
}

static const struct example hostile[] = {
	{"bad-utf8", bad_utf8}, {"long-cmdline", long_cmdline},
	{"control-chars", control_chars}, {NULL, NULL},
};

/* ---- output ------------------------------------------------------------------------- */

static int write_out(const msgpack_sbuffer *sb)
{
	return fwrite(sb->data, 1, sb->size, stdout) == sb->size ? 0 : 1;
}

static int pairs(const struct example *ex)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ocsf_err err;
	int rc = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (; ex->name && !rc; ex++) {
		msgpack_pack_array(&pk, 2);
		pstr(&pk, ex->name);
		if (ex->fn(&pk, &err)) {
			fprintf(stderr, "ocsftool: %s: %s\n", ex->name, err.msg);
			rc = 1;
		}
	}
	if (!rc)
		rc = write_out(&sb);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* The time of a record just packed: its "time" key, found by unpacking. */
static uint64_t record_time(const msgpack_sbuffer *sb, size_t off)
{
	msgpack_unpacked u;
	uint64_t t = 0;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, sb->data + off, sb->size - off, NULL) ==
	    MSGPACK_UNPACK_SUCCESS && u.data.type == MSGPACK_OBJECT_MAP)
		for (uint32_t i = 0; i < u.data.via.map.size; i++) {
			const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
			if (kv->key.via.str.size == 4 && !memcmp(kv->key.via.str.ptr, "time", 4))
				t = kv->val.via.u64;
		}
	msgpack_unpacked_destroy(&u);
	return t;
}

static int frame(void)
{
	struct fwd_batch b;
	msgpack_sbuffer one, out;
	msgpack_packer pk;
	struct fwd_err ferr;
	struct ocsf_err err;
	int rc = 0;

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&one);
	msgpack_sbuffer_init(&out);
	msgpack_packer_init(&pk, &one, msgpack_sbuffer_write);
	for (const struct example *ex = examples; ex->name && !rc; ex++) {
		msgpack_sbuffer_clear(&one);
		if (ex->fn(&pk, &err)) {
			fprintf(stderr, "ocsftool: %s: %s\n", ex->name, err.msg);
			rc = 1;
			break;
		}
		msgpack_packer *bp = fwd_batch_add(&b, record_time(&one, 0) * 1000000ull);
		if (!bp || msgpack_sbuffer_write(&b.buf, one.data, one.size))
			rc = 1;
	}
	if (!rc && fwd_encode_compressed(&out, "vigil.events", &b, "h-5f2c9e1a-1-1", &ferr)) {
		fprintf(stderr, "ocsftool: frame: %s\n", ferr.msg);
		rc = 1;
	}
	if (!rc)
		rc = write_out(&out);
	msgpack_sbuffer_destroy(&one);
	msgpack_sbuffer_destroy(&out);
	fwd_batch_free(&b);
	return rc;
}

int main(int argc, char **argv)
{
	const char *cmd = argc == 2 ? argv[1] : "";

	if (!strcmp(cmd, "examples"))
		return pairs(examples);
	if (!strcmp(cmd, "all"))
		return pairs(all);
	if (!strcmp(cmd, "minimal"))
		return pairs(minimal);
	if (!strcmp(cmd, "hostile"))
		return pairs(hostile);
	if (!strcmp(cmd, "frame"))
		return frame();
	fprintf(stderr, "usage: ocsftool examples|all|minimal|hostile|frame\n");
	return 2;
}
