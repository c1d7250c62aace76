/*
 * vigil.h: the sensor's types and the contract between its modules.
 *
 *   baseline.c  loads a YAML baseline (includes, vars, overrides) into
 *               struct vg_baseline; nothing is returned half-loaded.
 *   engine.c    evaluates each check's rules against a struct vg_ctx.
 *   probe_*.c   one file per kind of rule; each exports a struct vg_probe.
 *   root.c      every file access of a probe goes through a vg_root, so
 *               --root DIR can never be escaped through a symlink.
 *   report.c    text and JSON output of a run.
 *
 * Errors are returned (-1 with a struct vg_err filled in, or VG_ERROR with
 * evidence); nothing here exits the process.
 */
#ifndef VIGIL_H
#define VIGIL_H

#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <yaml.h>

#define VG_ATTR_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- util.c: errors, strings, evidence -------------------------------- */

struct vg_err {
	char msg[1024];
};
int vg_errf(struct vg_err *err, const char *fmt, ...) VG_ATTR_PRINTF(2, 3);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) VG_ATTR_PRINTF(1, 2);

struct vg_strv {			/* a growable list of owned strings */
	char **v;
	size_t n, cap;
};
void strv_push(struct vg_strv *sv, const char *s);
void strv_push_owned(struct vg_strv *sv, char *s);
void strv_sort(struct vg_strv *sv);
/* Appends the trimmed, non-empty items of a sep-separated list ("a, b,c"). */
void strv_split(struct vg_strv *sv, const char *s, const char *sep);
bool strv_has(const struct vg_strv *sv, const char *s);
void strv_free(struct vg_strv *sv);

struct vg_buf {				/* a growable byte string, always NUL-terminated */
	char *p;
	size_t len, cap;
};
void buf_put(struct vg_buf *b, const char *s, size_t n);
void buf_puts(struct vg_buf *b, const char *s);
void buf_printf(struct vg_buf *b, const char *fmt, ...) VG_ATTR_PRINTF(2, 3);
void buf_free(struct vg_buf *b);

/* A map from strings to pointers (strmap.c): keys are copied, values are
 * the caller's. Open addressing; a pointer from get/put is valid until the
 * next put or del. */
struct smap_slot;
struct vg_smap {
	struct smap_slot *slots;
	size_t cap, n;
};
void *smap_get(const struct vg_smap *m, const char *key, size_t len);
/* The value slot of key, added holding NULL when new (*added says so). */
void **smap_put(struct vg_smap *m, const char *key, size_t len, bool *added);
void *smap_del(struct vg_smap *m, const char *key, size_t len);	/* the old value */
/* Iteration: i from 0; returns the next index past an entry, 0 at the end. */
size_t smap_next(const struct vg_smap *m, size_t i, const char **key, void **val);
void smap_free(struct vg_smap *m, void (*free_val)(void *));

char *str_trim(char *s);		/* trims in place, returns s+skip */
bool str_to_ll(const char *s, long long *out);	/* whole string, base 10 */

/* Evidence: what decided a result. Kept to VG_EV_MAX items, all counted. */
#define VG_EV_MAX 10
struct vg_ev {
	char *item[VG_EV_MAX];
	size_t n;			/* kept */
	size_t total;			/* offered */
};
void ev_add(struct vg_ev *ev, const char *fmt, ...) VG_ATTR_PRINTF(2, 3);
void ev_append(struct vg_ev *dst, struct vg_ev *src);	/* empties src */
void ev_free(struct vg_ev *ev);

/* ---- log.c ------------------------------------------------------------- */

enum vg_loglevel { VG_LOG_ERROR, VG_LOG_WARN, VG_LOG_INFO, VG_LOG_DEBUG };
void log_set_level(enum vg_loglevel lvl);
void log_msg(enum vg_loglevel lvl, const char *fmt, ...) VG_ATTR_PRINTF(2, 3);
#define log_err(...)   log_msg(VG_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(VG_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(VG_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(VG_LOG_DEBUG, __VA_ARGS__)

/* ---- root.c: the checked file system ----------------------------------- */

struct vg_root {
	int fd;				/* O_PATH descriptor of the root directory */
	char *dir;			/* as given; "/" for the live host */
	bool live;			/* the running system, not an image */
	bool no_openat2;		/* resolve in user space (old kernels) */
};
int root_init(struct vg_root *r, const char *dir, struct vg_err *err);
void root_fini(struct vg_root *r);
/* All take absolute paths as seen inside the root and return -1 with errno. */
int root_open(const struct vg_root *r, const char *path, int flags);
int root_stat(const struct vg_root *r, const char *path, struct stat *st, bool follow);
ssize_t root_readlink(const struct vg_root *r, const char *path, char *buf, size_t size);
/* Reads a whole file of at most max bytes (EFBIG past that); NUL-terminated. */
int root_read(const struct vg_root *r, const char *path, size_t max, char **buf, size_t *len);
/* Sorted, absolute matches of a glob; a pattern without wildcards yields
 * itself only if it exists.  Returns the number of matches or -1. */
int root_glob(const struct vg_root *r, const char *pattern, struct vg_strv *out);
/* Lines of a file, split in place; the callback returns non-zero to stop. */
typedef int (*vg_line_fn)(void *u, char *line, size_t lineno);
int root_lines(const struct vg_root *r, const char *path, size_t max, vg_line_fn fn, void *u);
/* The *SUFFIX files of NULL-terminated dirs in systemd's drop-in order: a
 * name in an earlier dir hides the same name in later ones; sorted by name. */
void root_dropins(const struct vg_root *r, const char *const *dirs, const char *suffix,
		  struct vg_strv *out);

/* ---- yaml.c: reading baselines and configuration ----------------------- */

#define VG_YAML_MAX_BYTES (4u << 20)
#define VG_YAML_MAX_NODES 200000
#define VG_YAML_MAX_DEPTH 64
#define VG_YAML_MAX_SCALAR (64u << 10)

struct vg_var {
	char *name, *value;
};
struct vg_yctx {			/* one loaded YAML document */
	yaml_document_t doc;
	bool loaded;
	const char *file;		/* for messages */
	struct vg_var *vars;		/* ${name} substitutions, shared */
	size_t nvars;
};
int ydoc_load(struct vg_yctx *y, const char *file, const char *buf, size_t len, struct vg_err *err);
void ydoc_free(struct vg_yctx *y);
/* The length of the part of a block-mapping document before its top-level
 * key, or len: lets a caller read a file's header without its body. */
size_t ydoc_head(const char *buf, size_t len, const char *key);
yaml_node_t *ydoc_root(struct vg_yctx *y);
yaml_node_t *ynode(struct vg_yctx *y, int id);
int yline(const yaml_node_t *n);
/* The line of key in map, for a mistake in its value; map's own line if absent. */
int ykey_line(struct vg_yctx *y, const yaml_node_t *map, const char *key);
/* A scalar with ${vars} replaced, newly allocated; NULL + err if not a scalar. */
char *yscalar(struct vg_yctx *y, yaml_node_t *n, const char *what, struct vg_err *err);
int ybool(struct vg_yctx *y, yaml_node_t *n, int *out, struct vg_err *err);
/* Calls fn for each key of a mapping; errors carry file:line. */
typedef int (*vg_map_fn)(struct vg_yctx *y, const char *key, yaml_node_t *val, void *u,
			 struct vg_err *err);
int ymap_each(struct vg_yctx *y, yaml_node_t *map, const char *what, vg_map_fn fn, void *u,
	      struct vg_err *err);

/* Value expectations (expect.c), shared by every rule that reads a value. */
struct vg_expect {
	bool set;			/* any key given */
	bool icase;			/* set by the probe (sshd keys and values) */
	char *equals;
	struct vg_strv in, not_in;
	char *matches, *not_matches;
	regex_t re, not_re;
	bool has_min, has_max;
	long long min, max;
	char *dflt;			/* value assumed when unset */
	int absent;			/* enum vg_status when unset and no default */
};

/* Table-driven parsing of a rule's mapping: unknown keys are errors. */
enum yp_type {
	YP_STR,				/* char * */
	YP_BOOL,			/* int: -1 unset, 0, 1 */
	YP_INT,				/* long long; caller presets the default */
	YP_MODE,			/* int: octal permission bits, -1 unset */
	YP_STRV,			/* struct vg_strv: a scalar or a list of them */
	YP_ENUM,			/* int: index into .choices, -1 unset */
	YP_EXPECT,			/* struct vg_expect */
	YP_STATUS,			/* int: enum vg_status by name */
	YP_NODE,			/* yaml_node_t *: parsed by the probe itself */
};
struct yp_field {
	const char *key;
	enum yp_type type;
	size_t off;
	bool required;
	const char *const *choices;	/* YP_ENUM, NULL-terminated */
};
int yp_parse(struct vg_yctx *y, yaml_node_t *map, const struct yp_field *f, void *out,
	     const char *what, struct vg_err *err);
void yp_free(const struct yp_field *f, void *out);

int expect_parse(struct vg_yctx *y, yaml_node_t *n, struct vg_expect *e, struct vg_err *err);
void expect_free(struct vg_expect *e);
/* Makes comparisons case-insensitive (the probe knows, the YAML does not). */
void expect_icase(struct vg_expect *e);

/* ---- results ----------------------------------------------------------- */

enum vg_status { VG_PASSED, VG_FAILED, VG_NA, VG_ERROR };
const char *status_name(enum vg_status s);
int status_parse(const char *s);	/* -1 if unknown */

/* Decides a value against an expectation; val NULL means "not set". */
enum vg_status expect_eval(const struct vg_expect *e, const char *val, const char *what,
			   struct vg_ev *ev);

/* ---- baseline.c -------------------------------------------------------- */

enum vg_severity { VG_SEV_LOW, VG_SEV_MEDIUM, VG_SEV_HIGH, VG_SEV_CRITICAL };
const char *severity_name(enum vg_severity s);
int severity_parse(const char *s);

struct vg_ctx;
struct vg_probe {
	const char *name;
	size_t argsize;
	const struct yp_field *fields;
	void (*init)(void *arg);			/* defaults, before parsing */
	int (*check)(void *arg, struct vg_yctx *y, yaml_node_t *map, struct vg_err *err);
	void (*prepare)(const void *arg, struct vg_ctx *ctx);	/* before any eval */
	enum vg_status (*eval)(const void *arg, struct vg_ctx *ctx, struct vg_ev *ev);
	void (*fini)(void *arg);			/* beyond yp_free */
};
const struct vg_probe *probe_find(const char *name);

enum vg_join { VG_ALL, VG_ANY, VG_NONE, VG_LEAF };	/* zeroed: an empty "all" */
#define VG_RULE_MAX_DEPTH 8
struct vg_rule {
	enum vg_join join;
	const struct vg_probe *probe;	/* VG_LEAF */
	void *arg;
	struct vg_rule *kids;		/* groups */
	size_t nkids;
	int line;
};

struct vg_cisref {
	char *id;
	int level;			/* 0 if not given */
};

struct vg_check {
	char *id, *title, *section, *description, *rationale, *remediation;
	enum vg_severity severity;
	struct vg_cisref *cis;
	size_t ncis;
	struct vg_strv nist;
	struct vg_rule applies;		/* VG_ALL; no kids: always applies */
	struct vg_rule rule;		/* VG_ALL, VG_ANY or VG_NONE */
	char *file;
	int line;
};

struct vg_platform {
	char *id;
	struct vg_strv versions;
};

#define VG_MAX_CHECKS 10000
#define VG_MAX_INCLUDE_DEPTH 4
struct vg_baseline {
	char *id, *name, *version, *file;
	struct vg_platform *plat;
	size_t nplat;
	struct vg_check *checks;
	size_t nchecks;
};
/* Loads a file; includes are looked up beside it. */
int baseline_load(struct vg_baseline *b, const char *path, struct vg_err *err);
/* Reads only id, name, version and platforms: enough to pick a baseline. */
int baseline_peek(struct vg_baseline *b, const char *path, struct vg_err *err);
/* Loads from memory, refusing includes (for the fuzzer and tests). */
int baseline_load_mem(struct vg_baseline *b, const char *name, const char *buf, size_t len,
		      struct vg_err *err);
void baseline_free(struct vg_baseline *b);
const struct vg_check *baseline_find(const struct vg_baseline *b, const char *id);
void rule_free(struct vg_rule *r);

/* ---- osrel.c: which system is this, which baseline fits ---------------- */

struct vg_osrel {
	char *id, *version_id, *pretty_name, *id_like;
};
int osrel_read(const struct vg_root *r, struct vg_osrel *os);
void osrel_free(struct vg_osrel *os);
bool baseline_matches(const struct vg_baseline *b, const struct vg_osrel *os);
/* The directories searched for baselines by name, in order. */
void baseline_dirs(const char *configured, struct vg_strv *out);
/* Resolves --baseline NAME|FILE, or picks by os-release when spec is NULL. */
int baseline_select(const char *spec, const char *configured_dir, const struct vg_osrel *os,
		    char **path, struct vg_err *err);

/* ---- config.c: /etc/vigil/vigil.yaml ----------------------------------- */

struct vg_fim_set {			/* fim.sets[]: files watched alike */
	char *name;
	struct vg_strv paths;		/* absolute; globs allowed */
	struct vg_strv exclude;		/* globs (fim_config.c says how they match) */
	unsigned attrs;			/* enum fim_attr bits (fim.h) */
};
struct vg_fim_config {
	struct vg_fim_set *sets;	/* none: the defaults (fim_config_defaults) */
	size_t nsets;
	char *state_dir;		/* NULL: VG_STATE_DIR */
	int hash_threads;		/* 0: one per core */
};
#define VG_STATE_DIR "/var/lib/vigil"

#define VG_COALESCE_MS 1000		/* run.coalesce_ms, watch --coalesce-ms */

/* run:, outbox:, collector: (config_run.c), which only `vigil run` reads. */
struct vg_run_config {
	int mode;			/* run.mode: enum vg_mode, -1 auto */
	int check_interval;		/* run.check_interval, seconds */
	int heartbeat_interval;		/* run.heartbeat_interval, seconds */
	bool process_events, fim;	/* run.process_events, run.fim */
	unsigned coalesce_ms;		/* run.coalesce_ms: busy files (watch.h) */
	char *state_dir;		/* run.state_dir; NULL: /var/lib/vigil */
	uint64_t outbox_max_bytes;	/* outbox.max_bytes */
	unsigned batch_records, batch_bytes, batch_ms;
	unsigned rate;			/* outbox.rate: batches sent per second */
	char *collector;		/* collector.address; NULL: the enrolled one */
};

struct vg_config {
	bool allow_commands;		/* checks.allow_commands */
	int command_timeout;		/* checks.command_timeout, seconds */
	char *baseline;			/* checks.baseline */
	char *baseline_dir;		/* checks.baseline_dir */
	struct vg_fim_config fim;	/* fim: */
	struct vg_run_config run;	/* run:, outbox:, collector: */
};
#define VG_CONFIG_PATH "/etc/vigil/vigil.yaml"
/* fim_config.c: the `fim:` section (replaces fc whole, or leaves it); errors carry file:line. */
int fim_config_parse(struct vg_yctx *y, yaml_node_t *map, struct vg_fim_config *fc,
		     struct vg_err *err);
/* The server defaults, for a configuration that names no sets; config_file
 * and self_exe (may be NULL) are watched too. */
void fim_config_defaults(struct vg_fim_config *fc, const char *config_file,
			 const char *self_exe);
void fim_config_free(struct vg_fim_config *fc);
void config_defaults(struct vg_config *c);
/* A missing file at the default path is not an error; elsewhere it is. */
int config_load(struct vg_config *c, const char *path, bool must_exist, struct vg_err *err);
int config_parse(struct vg_config *c, const char *name, const char *buf, size_t len,
		 struct vg_err *err);
/* Defaults, then path (NULL: VG_CONFIG_PATH, which may be missing), then
 * the FIM defaults if it named no sets. config_free it even on error. */
int config_load_full(struct vg_config *c, const char *path, struct vg_err *err);
void config_free(struct vg_config *c);
void run_config_defaults(struct vg_run_config *r);
void run_config_free(struct vg_run_config *r);
/* 1 when key is none of run, outbox, collector. */
int run_config_section(struct vg_yctx *y, const char *key, yaml_node_t *v,
		       struct vg_run_config *r, struct vg_err *err);
/* config_cmd.c: `vigil config check [--config FILE]`; exit 0 ok, 2 not. */
int cmd_config(int argc, char **argv);

/* ---- engine.c ---------------------------------------------------------- */

struct vg_ctx {
	struct vg_root root;
	const struct vg_config *cfg;
	/* Caches the probes fill on first use and ctx_fini frees. */
	struct vg_accounts *accounts;
	struct vg_pkgdb *pkgs;
	struct vg_modconf *modconf;
	struct vg_mounts *mounts;
	struct vg_sysctl *sysctl;
	struct vg_sockets *sockets;
	struct vg_fswalk *walk;
};
int ctx_init(struct vg_ctx *ctx, const char *rootdir, const struct vg_config *cfg,
	     struct vg_err *err);
void ctx_fini(struct vg_ctx *ctx);

struct vg_result {
	bool selected;			/* false: filtered out by --only / --severity */
	bool skipped;			/* not selected because --quick left it out */
	enum vg_status status;
	struct vg_ev ev;
};
struct vg_filter {
	struct vg_strv only;		/* check ids; empty: all */
	int min_severity;		/* -1: all */
	bool quick;			/* leave out filesystem-wide searches */
};
struct vg_summary {
	size_t passed, failed, na, errors;
	size_t skipped;			/* left out by --quick */
	double score;			/* passed / (passed + failed) * 100; NAN if neither */
};
/* Fills res[0..b->nchecks); returns -1 if --only names an unknown id. */
int engine_run(const struct vg_baseline *b, struct vg_ctx *ctx, const struct vg_filter *f,
	       struct vg_result *res, struct vg_summary *sum, struct vg_err *err);
enum vg_status rule_eval(const struct vg_rule *r, struct vg_ctx *ctx, struct vg_ev *ev);
void results_free(struct vg_result *res, size_t n);

/* ---- report.c ---------------------------------------------------------- */

struct vg_host {
	char *hostname, *os, *kernel, *root;
	bool live;
};
void host_describe(const struct vg_ctx *ctx, const struct vg_osrel *os, struct vg_host *h);
void host_free(struct vg_host *h);
void report_text(FILE *out, const struct vg_baseline *b, const struct vg_host *h,
		 const struct vg_result *res, const struct vg_summary *sum, bool color);
void report_json(FILE *out, const struct vg_baseline *b, const struct vg_host *h,
		 const struct vg_result *res, const struct vg_summary *sum);
void json_str(struct vg_buf *b, const char *s);	/* a quoted, escaped JSON string */
/* "k":"v" (null for NULL), then a comma if comma. */
void json_kv(struct vg_buf *b, const char *k, const char *v, bool comma);

/* ---- probe caches (each freed by its probe file) ----------------------- */

void accounts_free(struct vg_accounts *a);
void pkgdb_free(struct vg_pkgdb *p);
void modconf_free(struct vg_modconf *m);
void mounts_free(struct vg_mounts *m);
void sysctl_free(struct vg_sysctl *s);
void sockets_free(struct vg_sockets *s);
void fswalk_free(struct vg_fswalk *w);

/* Installed packages in the root's dpkg and rpm databases, each counted
 * once; -1 when neither could be read. */
long long pkgdb_count(struct vg_ctx *ctx);

/* Names looked up in the checked root's own account database. */
int accounts_uid(struct vg_ctx *ctx, const char *name, uid_t *uid);
int accounts_gid(struct vg_ctx *ctx, const char *name, gid_t *gid);
const char *accounts_user_name(struct vg_ctx *ctx, uid_t uid);	/* NULL if none */
const char *accounts_group_name(struct vg_ctx *ctx, gid_t gid);
/* Loads ctx->accounts now rather than on first lookup: -1 with err naming
 * the file if the root's /etc/passwd or /etc/group cannot be read, which a
 * NULL from the lookups cannot tell apart from "no such id".  Not
 * thread-safe; once it has run, the lookups above are (fs_search calls it
 * before its walker threads start). */
int accounts_load(struct vg_ctx *ctx, struct vg_err *err);

#endif
