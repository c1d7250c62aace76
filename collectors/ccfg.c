/*
 * ccfg.c: collector.yaml. Read with libyaml's event parser, which keeps no
 * tree and never recurses, against a fixed shape: a map of scalars, lists
 * of scalars, and one nested map (limits). Anything else is an error that
 * names the line, so a typo never falls back to a default silently.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "collector.h"
#include "forward.h"

#define SCALAR_MAX	4096
#define DUR_MAX_MS	(86400ull * 1000)

void ccfg_defaults(struct ccfg *c)
{
	memset(c, 0, sizeof(*c));
	c->cert_days = 365;
	c->log_level = CLOG_INFO;
	c->lim.max_connections = 1024;
	c->lim.frame_max = FWD_FRAME_MAX;
	c->lim.inflate_max = FWD_INFLATE_MAX;
	c->lim.write_max = 64u << 10;
	c->lim.memory_max = 256u << 20;
	c->lim.handshake_ms = 10 * 1000;
	c->lim.idle_ms = 300 * 1000;
	c->lim.frame_ms = 30 * 1000;
}

static void strs_free(char **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

void ccfg_free(struct ccfg *c)
{
	strs_free(c->listen, &c->n_listen);
	strs_free(c->names, &c->n_names);
	free(c->state_dir);
	free(c->store);
	ccfg_defaults(c);
}

/* ---- values -------------------------------------------------------------- */

/* A whole number, then what follows it. */
static int number(const char *s, uint64_t *v, const char **rest)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	while (*end == ' ')
		end++;
	*rest = end;
	return 0;
}

static int scaled(uint64_t v, uint64_t unit, uint64_t *out)
{
	if (v > UINT64_MAX / unit)
		return -1;
	*out = v * unit;
	return 0;
}

int ccfg_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t unit;
	} units[] = {{"", 1}, {"B", 1}, {"K", 1u << 10}, {"KiB", 1u << 10}, {"M", 1u << 20},
		     {"MiB", 1u << 20}, {"G", 1u << 30}, {"GiB", 1u << 30}};
	const char *rest;
	uint64_t v = 0;	/* -O3 cannot see set_int fill it */

	if (number(s, &v, &rest))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(rest, units[i].suffix))
			return scaled(v, units[i].unit, out);
	return -1;
}

int ccfg_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		uint64_t unit;
	} units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
		     {"d", 86400000}};
	const char *rest;
	uint64_t v = 0;	/* -O3 cannot see set_int fill it */

	if (number(s, &v, &rest))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(rest, units[i].suffix))
			return scaled(v, units[i].unit, ms);
	return -1;
}

/* ---- the event stream ------------------------------------------------------ */

struct yp {
	yaml_parser_t p;
	yaml_event_t ev;
	bool have;			/* ev holds an event to delete */
	const char *name;
	struct cerr *err;
};

static int line(const struct yp *y)
{
	return (int)y->ev.start_mark.line + 1;
}

static int next(struct yp *y)
{
	if (y->have)
		yaml_event_delete(&y->ev);
	y->have = false;
	if (!yaml_parser_parse(&y->p, &y->ev))
		return cerrf(y->err, "%s:%d: %s", y->name, (int)y->p.problem_mark.line + 1,
			     y->p.problem ? y->p.problem : "YAML syntax error");
	y->have = true;
	if (y->ev.type == YAML_ALIAS_EVENT)
		return cerrf(y->err, "%s:%d: anchors and aliases are not taken", y->name, line(y));
	if (y->ev.type == YAML_SCALAR_EVENT && y->ev.data.scalar.length > SCALAR_MAX)
		return cerrf(y->err, "%s:%d: a value longer than %d bytes", y->name, line(y),
			     SCALAR_MAX);
	return 0;
}

static const char *scalar(const struct yp *y)
{
	return (const char *)y->ev.data.scalar.value;
}

static bool is_null(const struct yp *y)
{
	const char *s = scalar(y);

	return y->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

/* The value of key, which must be a scalar. */
static int want_scalar(struct yp *y, const char *key)
{
	if (next(y))
		return -1;
	if (y->ev.type != YAML_SCALAR_EVENT)
		return cerrf(y->err, "%s:%d: %s: expected a single value", y->name, line(y), key);
	if (memchr(scalar(y), 0, y->ev.data.scalar.length))
		return cerrf(y->err, "%s:%d: %s: NUL in the value", y->name, line(y), key);
	return 0;
}

static int set_str(struct yp *y, const char *key, char **dst)
{
	if (want_scalar(y, key))
		return -1;
	if (!*scalar(y))
		return cerrf(y->err, "%s:%d: %s: empty", y->name, line(y), key);
	free(*dst);
	*dst = strdup(scalar(y));
	return *dst ? 0 : cerrf(y->err, "out of memory");
}

/* A scalar or a list of scalars: the list replaces what was there. */
static int set_list(struct yp *y, const char *key, char **v, size_t *n, size_t max,
		    int (*check)(const char *))
{
	bool seq;

	if (next(y))
		return -1;
	strs_free(v, n);
	seq = y->ev.type == YAML_SEQUENCE_START_EVENT;
	if (!seq && y->ev.type != YAML_SCALAR_EVENT)
		return cerrf(y->err, "%s:%d: %s: expected a value or a list of values", y->name,
			     line(y), key);
	for (;;) {
		if (seq && next(y))
			return -1;
		if (seq && y->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (y->ev.type != YAML_SCALAR_EVENT)
			return cerrf(y->err, "%s:%d: %s: a list of single values is expected",
				     y->name, line(y), key);
		if (!seq && is_null(y))
			return 0;
		if (*n == max)
			return cerrf(y->err, "%s:%d: %s: more than %zu values", y->name, line(y),
				     key, max);
		if (!*scalar(y) || memchr(scalar(y), 0, y->ev.data.scalar.length) ||
		    (check && check(scalar(y))))
			return cerrf(y->err, "%s:%d: %s: '%s' is not valid here", y->name,
				     line(y), key, scalar(y));
		if (!(v[*n] = strdup(scalar(y))))
			return cerrf(y->err, "out of memory");
		(*n)++;
		if (!seq)
			return 0;
	}
}

/* "host:port", "[v6]:port", "*:port", ":port": a port 0..65535 is there. */
static int check_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;
	const char *rest;

	if (!colon || number(colon + 1, &port, &rest) || *rest || port > 65535)
		return -1;
	if (s[0] == '[' && (colon == s || colon[-1] != ']'))
		return -1;
	return 0;
}

static int check_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".-_:*", *s))
			return -1;
	return 0;
}

static int set_int(struct yp *y, const char *key, uint64_t lo, uint64_t hi, uint64_t *out,
		   int (*conv)(const char *, uint64_t *), const char *what)
{
	uint64_t v = 0;	/* -O3 cannot see set_int fill it */

	if (want_scalar(y, key))
		return -1;
	if (conv(scalar(y), &v))
		return cerrf(y->err, "%s:%d: %s: '%s' is not %s", y->name, line(y), key,
			     scalar(y), what);
	if (v < lo || v > hi)
		return cerrf(y->err, "%s:%d: %s: %s is out of range (%llu to %llu%s)", y->name,
			     line(y), key, scalar(y), (unsigned long long)lo,
			     (unsigned long long)hi, conv == ccfg_duration ? " ms" : "");
	*out = v;
	return 0;
}

static int plain_int(const char *s, uint64_t *v)
{
	const char *rest;

	return number(s, v, &rest) || *rest ? -1 : 0;
}

enum lkind { L_COUNT, L_SIZE, L_DURATION };
static const struct lfield {
	const char *name;
	enum lkind kind;
	uint64_t lo, hi;
	size_t off;
} lfields[] = {
	{"max_connections", L_COUNT, 1, 100000, offsetof(struct ccfg_limits, max_connections)},
	{"frame_max", L_SIZE, 1024, FWD_FRAME_MAX, offsetof(struct ccfg_limits, frame_max)},
	{"inflate_max", L_SIZE, 1024, FWD_INFLATE_MAX, offsetof(struct ccfg_limits, inflate_max)},
	{"write_max", L_SIZE, 1024, 16u << 20, offsetof(struct ccfg_limits, write_max)},
	{"memory_max", L_SIZE, 1u << 20, 64ull << 30, offsetof(struct ccfg_limits, memory_max)},
	{"handshake_timeout", L_DURATION, 100, 3600 * 1000,
	 offsetof(struct ccfg_limits, handshake_ms)},
	{"idle_timeout", L_DURATION, 100, DUR_MAX_MS, offsetof(struct ccfg_limits, idle_ms)},
	{"frame_timeout", L_DURATION, 100, 3600 * 1000, offsetof(struct ccfg_limits, frame_ms)},
};
#define N_LFIELDS (sizeof(lfields) / sizeof(lfields[0]))

static int limit(struct yp *y, struct ccfg_limits *l, const struct lfield *f)
{
	static int (*const conv[])(const char *, uint64_t *) = {plain_int, ccfg_size,
								 ccfg_duration};
	static const char *const what[] = {"a number", "a size", "a duration"};
	char key[64];
	uint64_t v = 0;	/* -O3 cannot see set_int fill it */

	snprintf(key, sizeof(key), "limits.%s", f->name);
	if (set_int(y, key, f->lo, f->hi, &v, conv[f->kind], what[f->kind]))
		return -1;
	if (f->kind == L_SIZE)
		*(size_t *)((char *)l + f->off) = (size_t)v;
	else
		*(uint32_t *)((char *)l + f->off) = (uint32_t)v;
	return 0;
}

static int limits(struct yp *y, struct ccfg_limits *l)
{
	unsigned seen = 0;

	if (next(y))
		return -1;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return cerrf(y->err, "%s:%d: limits: expected a map", y->name, line(y));
	for (;;) {
		size_t i;

		if (next(y))
			return -1;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (y->ev.type != YAML_SCALAR_EVENT)
			return cerrf(y->err, "%s:%d: limits: expected a key", y->name, line(y));
		for (i = 0; i < N_LFIELDS && strcmp(lfields[i].name, scalar(y)); i++)
			;
		if (i == N_LFIELDS)
			return cerrf(y->err,
				     "%s:%d: limits: unknown key '%s' (known: max_connections, "
				     "frame_max, inflate_max, write_max, memory_max, "
				     "handshake_timeout, idle_timeout, frame_timeout)",
				     y->name, line(y), scalar(y));
		if (seen & (1u << i))
			return cerrf(y->err, "%s:%d: limits.%s is given twice", y->name, line(y),
				     lfields[i].name);
		seen |= 1u << i;
		if (limit(y, l, &lfields[i]))
			return -1;
	}
}

/* One top-level key and its value. */
static int top_key(struct yp *y, struct ccfg *c, const char *key)
{
	uint64_t v = 0;	/* -O3 cannot see set_int fill it */

	if (!strcmp(key, "listen"))
		return set_list(y, key, c->listen, &c->n_listen, CCFG_LISTEN_MAX, check_listen);
	if (!strcmp(key, "server_names"))
		return set_list(y, key, c->names, &c->n_names, CCFG_NAMES_MAX, check_name);
	if (!strcmp(key, "state_dir"))
		return set_str(y, key, &c->state_dir);
	if (!strcmp(key, "store"))
		return set_str(y, key, &c->store);
	if (!strcmp(key, "limits"))
		return limits(y, &c->lim);
	if (!strcmp(key, "cert_days")) {
		if (set_int(y, key, 1, 3650, &v, plain_int, "a number of days"))
			return -1;
		c->cert_days = (int)v;
		return 0;
	}
	if (!strcmp(key, "log_level")) {
		if (want_scalar(y, key))
			return -1;
		if (clog_level_parse(scalar(y), &c->log_level))
			return cerrf(y->err, "%s:%d: log_level: '%s' is not error, warning, "
				     "info or debug", y->name, line(y), scalar(y));
		return 0;
	}
	return cerrf(y->err,
		     "%s:%d: unknown key '%s' (known: listen, state_dir, store, server_names, "
		     "cert_days, log_level, limits)",
		     y->name, line(y), key);
}

static int document(struct yp *y, struct ccfg *c)
{
	unsigned seen = 0;		/* top-level keys, each once */
	static const char *const keys[] = {"listen", "server_names", "state_dir", "store",
					   "limits", "cert_days", "log_level"};

	if (next(y))
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT)
		return 0;			/* empty, or comments only */
	if (y->ev.type != YAML_DOCUMENT_START_EVENT)
		return cerrf(y->err, "%s:%d: expected a document", y->name, line(y));
	if (next(y))
		return -1;
	if (y->ev.type == YAML_SCALAR_EVENT && is_null(y))
		goto end;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return cerrf(y->err, "%s:%d: the configuration must be a map of keys",
			     y->name, line(y));
	for (;;) {
		char key[64];
		size_t k;

		if (next(y))
			return -1;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (y->ev.type != YAML_SCALAR_EVENT)
			return cerrf(y->err, "%s:%d: expected a key", y->name, line(y));
		snprintf(key, sizeof(key), "%s", scalar(y));
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], key); k++)
			;
		if (k < sizeof(keys) / sizeof(keys[0])) {
			if (seen & (1u << k))
				return cerrf(y->err, "%s:%d: '%s' is given twice", y->name,
					     line(y), key);
			seen |= 1u << k;
		}
		if (top_key(y, c, key))
			return -1;
	}
end:
	if (next(y))
		return -1;
	if (y->ev.type != YAML_DOCUMENT_END_EVENT)
		return cerrf(y->err, "%s:%d: expected the end of the document", y->name, line(y));
	if (next(y))
		return -1;
	if (y->ev.type != YAML_STREAM_END_EVENT)
		return cerrf(y->err, "%s:%d: one document only", y->name, line(y));
	return 0;
}

/* Checks across keys, once everything is read. */
static int coherent(struct ccfg *c, const char *name, struct cerr *err)
{
	if (c->lim.memory_max < c->lim.frame_max + c->lim.write_max)
		return cerrf(err, "%s: limits.memory_max (%zu) must hold at least one frame and "
			     "one write buffer (%zu)", name, c->lim.memory_max,
			     c->lim.frame_max + c->lim.write_max);
	if (c->n_listen == 0 && !(c->listen[c->n_listen++] = strdup(CCFG_LISTEN)))
		return cerrf(err, "out of memory");
	if (!c->state_dir && !(c->state_dir = strdup(CCFG_STATE_DIR)))
		return cerrf(err, "out of memory");
	return 0;
}

int ccfg_parse(struct ccfg *c, const char *name, const char *buf, size_t len, struct cerr *err)
{
	struct yp y = {.name = name, .err = err};
	int rc;

	if (len > CCFG_FILE_MAX)
		return cerrf(err, "%s: larger than %u bytes", name, CCFG_FILE_MAX);
	if (memchr(buf, 0, len))
		return cerrf(err, "%s: a NUL byte: not a YAML text file", name);
	if (!yaml_parser_initialize(&y.p))
		return cerrf(err, "%s: out of memory", name);
	yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
	if ((rc = next(&y)) == 0 && y.ev.type != YAML_STREAM_START_EVENT)
		rc = cerrf(err, "%s: not a YAML stream", name);
	if (rc == 0)
		rc = document(&y, c);
	if (y.have)
		yaml_event_delete(&y.ev);
	yaml_parser_delete(&y.p);
	if (rc == 0)
		rc = coherent(c, name, err);
	return rc;
}

int ccfg_load(struct ccfg *c, const char *path, bool must_exist, struct cerr *err)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return ccfg_parse(c, path, "", 0, err);
		return cerrf(err, "%s: %s", path, strerror(errno));
	}
	if (!(buf = malloc(CCFG_FILE_MAX + 1))) {
		close(fd);
		return cerrf(err, "out of memory");
	}
	while (len <= CCFG_FILE_MAX && (n = read(fd, buf + len, CCFG_FILE_MAX + 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = cerrf(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	rc = ccfg_parse(c, path, buf, len, err);
out:
	free(buf);
	close(fd);
	return rc;
}
