/*
 * ocsf.h: OCSF 1.3.0 records packed as msgpack maps (library vigilproto).
 *
 * Every record the sensor ships is one map built here, from plain structs
 * that know nothing of the sensor (sensor/ship.c fills them). The keys, the
 * types and which keys are always present are in docs/records.md, which a
 * test holds to this code.
 *
 *   1001 File System Activity    ocsf_pack_file_activity
 *   1007 Process Activity        ocsf_pack_process_activity
 *   2003 Compliance Finding      ocsf_pack_compliance
 *   2004 Detection Finding       ocsf_pack_detection
 *   5001 Device Inventory Info   ocsf_pack_inventory
 *   5002 Device Config State     ocsf_pack_config_state
 *   0    Base Event              ocsf_pack_heartbeat, ocsf_pack_gap
 *                                (unmapped.vigil.kind "heartbeat" | "gap")
 *
 * Every record has class_uid, category_uid, activity_id, type_uid,
 * time (ms), severity_id, metadata and device (struct ocsf_src). Optional
 * fields are left out when absent (NULL strings, zero counts, the "unknown"
 * values each struct names): maps stay small, and a key present means a
 * fact known. Caption strings (class_name, activity_name, ...) are left
 * out: they follow from the ids.
 *
 * Strings go out as msgpack str, always valid UTF-8: a byte that is not
 * part of a valid UTF-8 sequence becomes U+FFFD (as the JSON output does),
 * and a string longer than OCSF_STR_MAX bytes is cut at a character
 * boundary and ends in U+2026. Lists keep at most OCSF_LIST_MAX items and
 * parent_process nests at most OCSF_LINEAGE_MAX deep. So a record never
 * holds a str a Forward receiver refuses (FWD_STR_MAX), whatever the host
 * put in a path or a command line.
 *
 * Zero is a value: uid 0 is root, mode 0 a mode, 0 packages a count. The
 * fields that may be unknown name their "unknown" (OCSF_NOID, -1), and a
 * struct set up by a designated initializer must set those explicitly.
 *
 * Each builder checks what it is given first (-1 and err, nothing packed)
 * and then packs exactly one map. A -1 after that is msgpack-c failing to
 * write (out of memory): the packer's buffer then holds part of a map and
 * must be thrown away. No global state; any thread may pack.
 */
#ifndef VIGIL_OCSF_H
#define VIGIL_OCSF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define OCSF_VERSION		"1.3.0"
#define OCSF_PRODUCT		"vigil"
#define OCSF_STR_MAX		16384	/* bytes of one str, after repair */
#define OCSF_LIST_MAX		64	/* items of one list */
#define OCSF_LINEAGE_MAX	8	/* parent_process levels */

enum ocsf_class {
	OCSF_BASE_EVENT = 0,
	OCSF_FILE_ACTIVITY = 1001,
	OCSF_PROCESS_ACTIVITY = 1007,
	OCSF_COMPLIANCE_FINDING = 2003,
	OCSF_DETECTION_FINDING = 2004,
	OCSF_INVENTORY_INFO = 5001,
	OCSF_CONFIG_STATE = 5002,
};

enum ocsf_severity {
	OCSF_SEV_UNKNOWN, OCSF_SEV_INFO, OCSF_SEV_LOW, OCSF_SEV_MEDIUM, OCSF_SEV_HIGH,
	OCSF_SEV_CRITICAL, OCSF_SEV_FATAL,
};

/* File System Activity activity_id */
enum ocsf_file_act {
	OCSF_FILE_CREATE = 1, OCSF_FILE_READ, OCSF_FILE_UPDATE, OCSF_FILE_DELETE,
	OCSF_FILE_RENAME, OCSF_FILE_SET_ATTR, OCSF_FILE_SET_SECURITY, OCSF_FILE_OTHER = 99,
};
/* Process Activity activity_id */
enum ocsf_proc_act { OCSF_PROC_LAUNCH = 1, OCSF_PROC_TERMINATE = 2, OCSF_PROC_OTHER = 99 };
/* file.type_id */
enum ocsf_file_type {
	OCSF_FT_UNKNOWN, OCSF_FT_REGULAR, OCSF_FT_FOLDER, OCSF_FT_CHAR, OCSF_FT_BLOCK,
	OCSF_FT_SOCKET, OCSF_FT_PIPE, OCSF_FT_SYMLINK, OCSF_FT_OTHER = 99,
};

struct ocsf_err {
	char msg[256];
};

/* The sender: metadata and device of every record. */
struct ocsf_src {
	const char *host_uid;		/* device.uid, required: the certificate CN */
	const char *hostname;		/* device.hostname */
	const char *os_name;		/* device.os.name; NULL: "Linux" */
	const char *os_version;		/* device.os.version */
	const char *product_version;	/* metadata.product.version (vigil's) */
};

/* What every record has of its own. */
struct ocsf_head {
	uint64_t time_ms;		/* time: ms since the epoch */
	const char *uid;		/* metadata.uid: a record id, NULL: none */
};

#define OCSF_NOID ((int64_t)-1)		/* a uid/gid/auid not known */

/* ---- objects ------------------------------------------------------------ */

/* An OCSF process; its parent chain through parent. */
struct ocsf_process {
	uint32_t pid;			/* required */
	uint32_t tid;			/* 0: left out */
	const char *name;		/* comm */
	const char *cmd_line;
	const char *exe;		/* file {path, name, parent_folder, type_id} */
	int64_t uid;			/* user.uid, OCSF_NOID: no user */
	const char *user_name;		/* user.name */
	const char *container_uid;	/* container.uid */
	const struct ocsf_process *parent;	/* parent_process */
};

/* An OCSF file. Only path is required; the rest is what is known. */
struct ocsf_file {
	const char *path;
	int type_id;			/* enum ocsf_file_type */
	bool has_stat;			/* size, modified_time, uid, owner below */
	uint64_t size;
	int64_t mtime_ms;
	uint64_t inode;			/* file.uid, as a str */
	uint32_t owner_uid;		/* owner.uid, as a str */
	const unsigned char *sha256;	/* 32 bytes: hashes[SHA-256]; NULL: none */
	const char *selinux;		/* xattributes["security.selinux"] */
	const char *capability;		/* xattributes["security.capability"], hex */
};

/* Who did it: actor {process, user}; the cgroup goes to unmapped.vigil. */
struct ocsf_actor {
	const struct ocsf_process *process;	/* NULL: unknown */
	int64_t uid;			/* user.uid, OCSF_NOID: none */
	const char *user_name;
	bool has_cgroup;
	uint64_t cgroup_id;
	const char *cgroup_path;
};

/* ---- 1001 File System Activity ------------------------------------------ */

/* unmapped.fim: a file integrity finding (the same facts as the JSON of
 * `vigil fim check --json` and `vigil watch --fim --json`). */
struct ocsf_fim_change {
	const char *attribute;
	const char *old, *new_;		/* as people read them; NULL: nil */
};
struct ocsf_fim_package {
	const char *name, *manager, *digest_algorithm;
	bool conffile;
	int verified;			/* 1, 0, or -1: nil (nothing to compare) */
};
struct ocsf_fim {
	const char *change;		/* required: added|removed|changed|unstable|unreadable */
	const char *set;		/* nil when NULL */
	const struct ocsf_fim_change *changes;
	size_t nchanges;
	/* Realtime drift's judgement; verdict NULL: none (a `fim check`). */
	const char *verdict;		/* change|package_update|tampering */
	const char *reason;
	const char *found_by;		/* event|rescan */
	const struct ocsf_fim_package *package;	/* NULL: nil (no package ships it) */
	const struct ocsf_actor *others;	/* other_actors: earlier writers */
	size_t nothers;
};

struct ocsf_file_activity {
	struct ocsf_head h;
	int activity_id;		/* enum ocsf_file_act, required */
	int severity_id;		/* 0: Informational */
	int status_id;			/* 0: left out; 1 Success, 2 Failure */
	const char *status_detail;
	struct ocsf_file file;		/* required: the file before the change */
	const struct ocsf_file *file_result;	/* the file after (rename, FIM change) */
	const struct ocsf_actor *actor;	/* NULL: actor {} (not known: a rescan) */
	/* unmapped.vigil */
	const char *event;		/* vigil's event kind: "modify", ... */
	const char *symlink_target;
	const char *xattr_name;		/* setxattr */
	int64_t mode;			/* chmod: a "0644" str; -1: left out */
	int64_t owner_uid, owner_gid;	/* chown; OCSF_NOID: left out */
	bool path_incomplete;		/* the kernel could not spell it out */
	const char *found_by;		/* "rescan", "coalesced": not seen happen */
	const struct ocsf_fim *fim;	/* unmapped.fim */
};
int ocsf_pack_file_activity(msgpack_packer *pk, const struct ocsf_src *s,
			    const struct ocsf_file_activity *r, struct ocsf_err *err);

/* ---- 1007 Process Activity ---------------------------------------------- */

struct ocsf_process_activity {
	struct ocsf_head h;
	int activity_id;		/* enum ocsf_proc_act, required */
	struct ocsf_process process;	/* required: the process itself */
	const struct ocsf_actor *actor;	/* who launched it (the parent); NULL: {} */
	bool has_exit_code;
	int exit_code;
	/* unmapped.vigil */
	const char *event;		/* exec|fork|exit */
	const char *cwd;
	int64_t auid;			/* OCSF_NOID: left out */
	uint64_t cgroup_id;		/* 0: left out */
	uint32_t mntns;			/* 0: left out */
	int signal;			/* exit by this signal; 0: left out */
	bool cmd_line_truncated;
};
int ocsf_pack_process_activity(msgpack_packer *pk, const struct ocsf_src *s,
			       const struct ocsf_process_activity *r, struct ocsf_err *err);

/* ---- 2003 Compliance Finding -------------------------------------------- */

enum ocsf_check_status {
	OCSF_CHECK_PASSED, OCSF_CHECK_FAILED, OCSF_CHECK_NA, OCSF_CHECK_ERROR,
	OCSF_CHECK_SKIPPED,
};
const char *ocsf_check_status_name(enum ocsf_check_status st);	/* "passed", ... */

struct ocsf_cis {
	const char *id;
	int level;			/* 0: not given */
};

struct ocsf_compliance {
	struct ocsf_head h;
	const char *finding_uid;	/* required: the same check on the same host */
	const char *check_id, *title;	/* required */
	const char *desc, *section, *rationale, *remediation;
	enum ocsf_check_status status;
	int check_severity;		/* enum ocsf_severity of the check (2..5) */
	const char *severity_name;	/* the baseline's word for it: "low", ... */
	const char *baseline_id, *baseline_name, *baseline_version;	/* required */
	const struct ocsf_cis *cis;
	size_t ncis;
	const char *const *nist;	/* NIST SP 800-53 control ids */
	size_t nnist;
	const char *const *evidence;
	size_t nevidence;
	size_t evidence_omitted;	/* lines the sensor did not keep */
};
int ocsf_pack_compliance(msgpack_packer *pk, const struct ocsf_src *s,
			 const struct ocsf_compliance *r, struct ocsf_err *err);

/* ---- 2004 Detection Finding --------------------------------------------- */

struct ocsf_detection {
	struct ocsf_head h;
	const char *finding_uid, *title;	/* required */
	const char *desc;
	int severity_id;		/* required, 1..6 */
	/* The record it came from: finding_info.related_events[0] from its
	 * uid and type, evidences[0] from its file and actor. */
	const struct ocsf_file_activity *source;
};
int ocsf_pack_detection(msgpack_packer *pk, const struct ocsf_src *s,
			const struct ocsf_detection *r, struct ocsf_err *err);

/* ---- 5001 Device Inventory Info ------------------------------------------ */

struct ocsf_inventory {
	struct ocsf_head h;
	/* device.* comes from the ocsf_src; unmapped.vigil has what OCSF 1.3
	 * has no attribute for (1.4+ names it os.kernel_release, device.boot_uid,
	 * hw_info.cpu_architecture). */
	const char *kernel_release, *machine_id, *boot_uid, *architecture;
	const char *os_id;		/* os-release ID: "debian" */
	int64_t packages;		/* installed packages; -1: left out */
};
int ocsf_pack_inventory(msgpack_packer *pk, const struct ocsf_src *s,
			const struct ocsf_inventory *r, struct ocsf_err *err);

/* ---- 5002 Device Config State -------------------------------------------- */

struct ocsf_config_state {
	struct ocsf_head h;
	const char *baseline_id, *baseline_name, *baseline_version;	/* required */
	uint64_t passed, failed, not_applicable, errors, skipped;
	bool has_score;
	double score;			/* passed / (passed + failed) * 100 */
};
int ocsf_pack_config_state(msgpack_packer *pk, const struct ocsf_src *s,
			   const struct ocsf_config_state *r, struct ocsf_err *err);

/* ---- 0 Base Event: heartbeat and gap -------------------------------------- */

struct ocsf_counter {
	const char *name;
	uint64_t n;
};

struct ocsf_outbox {
	uint64_t records, batches, bytes;	/* waiting for an ack */
	uint64_t dropped_records, dropped_batches;
	int64_t last_ack_ms;		/* 0: none yet */
};

struct ocsf_heartbeat {
	struct ocsf_head h;
	const char *mode;		/* required: bpf|hybrid|fanotify|rescan */
	uint64_t uptime_s;
	uint32_t interval_s;
	uint64_t events;
	const struct ocsf_counter *drops;	/* {cause: n}, every cause, zeros too */
	size_t ndrops;
	const struct ocsf_outbox *outbox;	/* NULL: left out */
	const struct ocsf_counter *fim;	/* realtime drift's counters; none: left out */
	size_t nfim;
};
int ocsf_pack_heartbeat(msgpack_packer *pk, const struct ocsf_src *s,
			const struct ocsf_heartbeat *r, struct ocsf_err *err);

/* The outbox dropped batches (sensor/outbox.h struct ob_gap, in ms). */
struct ocsf_gap {
	struct ocsf_head h;
	uint64_t records, batches;
	uint64_t first_seq, last_seq;
	uint64_t since_ms, until_ms;
};
int ocsf_pack_gap(msgpack_packer *pk, const struct ocsf_src *s, const struct ocsf_gap *r,
		  struct ocsf_err *err);

/* ---- helpers for the sensor's structs -------------------------------------- */

/* An S_IFMT type as file.type_id. */
int ocsf_file_type(unsigned st_mode);
/* The OCSF type_uid: class_uid * 100 + activity_id. */
static inline uint32_t ocsf_type_uid(int class_uid, int activity_id)
{
	return (uint32_t)class_uid * 100u + (uint32_t)activity_id;
}

#endif
