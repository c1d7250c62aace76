/*
 * yaml.c: YAML documents with limits, and table-driven parameter parsing.
 *
 * A document is first scanned as an event stream, where the limits are
 * enforced (size, node count, depth, scalar length, no aliases) before
 * libyaml builds a tree: an alias can make a small file expand into an
 * exponential walk, so aliases are refused outright.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vigil.h"

static int scan_error(struct vg_err *err, const char *file, yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed document";

	if (p->context)
		return vg_errf(err, "%s:%zu: YAML error: %s (%s started at line %zu)", file,
			       p->problem_mark.line + 1, problem, p->context,
			       p->context_mark.line + 1);
	return vg_errf(err, "%s:%zu: YAML error: %s", file, p->problem_mark.line + 1, problem);
}

static int scan_limits(const char *file, const char *buf, size_t len, struct vg_err *err)
{
	yaml_parser_t p;
	yaml_event_t ev;
	size_t nodes = 0, docs = 0;
	int depth = 0, rc = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = scan_error(err, file, &p);
			break;
		}
		size_t line = ev.start_mark.line + 1;
		yaml_event_type_t t = ev.type;
		bool anchored = (t == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
				(t == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor) ||
				(t == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor);
		size_t slen = t == YAML_SCALAR_EVENT ? ev.data.scalar.length : 0;
		yaml_event_delete(&ev);

		if (t == YAML_STREAM_END_EVENT)
			break;
		if (t == YAML_ALIAS_EVENT || anchored) {
			rc = vg_errf(err, "%s:%zu: YAML anchors and aliases are not allowed", file, line);
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			rc = vg_errf(err, "%s:%zu: only one YAML document is allowed", file, line);
			break;
		}
		if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
		    t == YAML_MAPPING_START_EVENT) {
			if (++nodes > VG_YAML_MAX_NODES) {
				rc = vg_errf(err, "%s:%zu: more than %d YAML nodes", file, line,
					     VG_YAML_MAX_NODES);
				break;
			}
		}
		if (slen > VG_YAML_MAX_SCALAR) {
			rc = vg_errf(err, "%s:%zu: a value longer than %u bytes", file, line,
				     VG_YAML_MAX_SCALAR);
			break;
		}
		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
			if (++depth > VG_YAML_MAX_DEPTH) {
				rc = vg_errf(err, "%s:%zu: YAML nested deeper than %d", file, line,
					     VG_YAML_MAX_DEPTH);
				break;
			}
		}
		if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
			depth--;
	}
	yaml_parser_delete(&p);
	return rc;
}

size_t ydoc_head(const char *buf, size_t len, const char *key)
{
	yaml_parser_t p;
	yaml_event_t ev;
	size_t end = len;
	int depth = 0;
	bool is_key = false;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (yaml_parser_parse(&p, &ev)) {
		yaml_event_type_t t = ev.type;
		bool block = t == YAML_MAPPING_START_EVENT &&
			     ev.data.mapping_start.style == YAML_BLOCK_MAPPING_STYLE;
		if (t == YAML_MAPPING_START_EVENT && depth == 0 && !block) {
			yaml_event_delete(&ev);
			break;	/* a flow mapping cannot be cut at a key */
		}
		if (depth == 1 && t == YAML_SCALAR_EVENT) {
			is_key = !is_key;
			if (is_key && !strcmp((const char *)ev.data.scalar.value, key)) {
				end = ev.start_mark.index;
				yaml_event_delete(&ev);
				break;
			}
		} else if (depth == 1 && (t == YAML_SEQUENCE_START_EVENT ||
					  t == YAML_MAPPING_START_EVENT)) {
			is_key = false;	/* a collection is always a value here */
		}
		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
			depth++;
		if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
			depth--;
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT || depth > VG_YAML_MAX_DEPTH)
			break;
	}
	yaml_parser_delete(&p);
	return end;
}

int ydoc_load(struct vg_yctx *y, const char *file, const char *buf, size_t len, struct vg_err *err)
{
	yaml_parser_t p;
	int rc = 0;

	y->file = file;
	y->loaded = false;
	if (len > VG_YAML_MAX_BYTES)
		return vg_errf(err, "%s: larger than %u bytes", file, VG_YAML_MAX_BYTES);
	if (memchr(buf, 0, len))
		return vg_errf(err, "%s: contains a NUL byte", file);
	if (scan_limits(file, buf, len, err))
		return -1;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &y->doc))
		rc = scan_error(err, file, &p);
	else
		y->loaded = true;
	yaml_parser_delete(&p);
	if (rc == 0 && !yaml_document_get_root_node(&y->doc)) {
		ydoc_free(y);
		return vg_errf(err, "%s: empty document", file);
	}
	return rc;
}

void ydoc_free(struct vg_yctx *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

yaml_node_t *ydoc_root(struct vg_yctx *y)
{
	return yaml_document_get_root_node(&y->doc);
}

yaml_node_t *ynode(struct vg_yctx *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

int yline(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

int ykey_line(struct vg_yctx *y, const yaml_node_t *map, const char *key)
{
	if (map && map->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		     p < map->data.mapping.pairs.top; p++) {
			yaml_node_t *k = ynode(y, p->key);

			if (k && k->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k->data.scalar.value, key))
				return yline(k);
		}
	return yline(map);
}

static const char *var_lookup(struct vg_yctx *y, const char *name, size_t len)
{
	for (size_t i = 0; i < y->nvars; i++)
		if (strlen(y->vars[i].name) == len && memcmp(y->vars[i].name, name, len) == 0)
			return y->vars[i].value;
	return NULL;
}

char *yscalar(struct vg_yctx *y, yaml_node_t *n, const char *what, struct vg_err *err)
{
	struct vg_buf b = {0};
	const char *s, *end;

	if (!n || n->type != YAML_SCALAR_NODE) {
		vg_errf(err, "%s:%d: %s must be a single value", y->file, yline(n), what);
		return NULL;
	}
	s = (const char *)n->data.scalar.value;
	end = s + n->data.scalar.length;
	buf_put(&b, "", 0);
	while (s < end) {
		const char *open = strstr(s, "${");
		if (!open || open >= end) {
			buf_put(&b, s, (size_t)(end - s));
			break;
		}
		const char *close = memchr(open, '}', (size_t)(end - open));
		if (!close) {
			vg_errf(err, "%s:%d: unterminated ${ in %s", y->file, yline(n), what);
			buf_free(&b);
			return NULL;
		}
		const char *val = var_lookup(y, open + 2, (size_t)(close - open - 2));
		if (!val) {
			vg_errf(err, "%s:%d: undefined variable ${%.*s} in %s", y->file, yline(n),
				(int)(close - open - 2), open + 2, what);
			buf_free(&b);
			return NULL;
		}
		buf_put(&b, s, (size_t)(open - s));
		buf_puts(&b, val);
		s = close + 1;
		if (b.len > VG_YAML_MAX_SCALAR) {
			vg_errf(err, "%s:%d: %s longer than %u bytes after substitution",
				y->file, yline(n), what, VG_YAML_MAX_SCALAR);
			buf_free(&b);
			return NULL;
		}
	}
	return b.p;
}

int ybool(struct vg_yctx *y, yaml_node_t *n, int *out, struct vg_err *err)
{
	static const char *const yes[] = {"true", "yes", "on", "True", "TRUE", "Yes", NULL};
	static const char *const no[] = {"false", "no", "off", "False", "FALSE", "No", NULL};
	char *s = yscalar(y, n, "a boolean", err);

	if (!s)
		return -1;
	for (int i = 0; yes[i]; i++)
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			free(s);
			return 0;
		}
	vg_errf(err, "%s:%d: '%s' is not true or false", y->file, yline(n), s);
	free(s);
	return -1;
}

int ymap_each(struct vg_yctx *y, yaml_node_t *map, const char *what, vg_map_fn fn, void *u,
	      struct vg_err *err)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return vg_errf(err, "%s:%d: %s must be a mapping", y->file, yline(map), what);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = ynode(y, p->key), *v = ynode(y, p->value);
		if (!k || k->type != YAML_SCALAR_NODE)
			return vg_errf(err, "%s:%d: a key in %s must be a plain name", y->file,
				       yline(k), what);
		const char *key = (const char *)k->data.scalar.value;
		/* Duplicate keys would let a later one silently undo an earlier. */
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *qk = ynode(y, q->key);
			if (qk && qk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)qk->data.scalar.value, key))
				return vg_errf(err, "%s:%d: duplicate key '%s' in %s", y->file,
					       yline(k), key, what);
		}
		if (fn(y, key, v, u, err))
			return -1;
	}
	return 0;
}

static int parse_mode(struct vg_yctx *y, yaml_node_t *n, int *out, struct vg_err *err)
{
	char *s = yscalar(y, n, "a mode", err), *end;
	long v;

	if (!s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 8);
	if (errno || *end || !*s || v < 0 || v > 07777) {
		vg_errf(err, "%s:%d: '%s' is not an octal mode like \"0644\"", y->file, yline(n), s);
		free(s);
		return -1;
	}
	free(s);
	*out = (int)v;
	return 0;
}

static int parse_strv(struct vg_yctx *y, yaml_node_t *n, const char *key, struct vg_strv *sv,
		      struct vg_err *err)
{
	char *s;

	strv_free(sv);
	if (n && n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			if (!(s = yscalar(y, ynode(y, *i), key, err)))
				return -1;
			strv_push_owned(sv, s);
		}
		return 0;
	}
	if (!(s = yscalar(y, n, key, err)))
		return -1;
	strv_push_owned(sv, s);
	return 0;
}

static int parse_choice(struct vg_yctx *y, yaml_node_t *n, const char *key,
			const char *const *choices, int *out, struct vg_err *err)
{
	struct vg_buf all = {0};
	char *s = yscalar(y, n, key, err);

	if (!s)
		return -1;
	for (int i = 0; choices[i]; i++)
		if (!strcmp(s, choices[i])) {
			*out = i;
			free(s);
			return 0;
		}
	for (int i = 0; choices[i]; i++)
		buf_printf(&all, "%s%s", i ? ", " : "", choices[i]);
	vg_errf(err, "%s:%d: %s: '%s' is not one of %s", y->file, yline(n), key, s, all.p);
	buf_free(&all);
	free(s);
	return -1;
}

struct yp_state {
	const struct yp_field *f;
	void *out;
	const char *what;
	unsigned long seen;	/* a bit per field */
};

static int parse_field(struct vg_yctx *y, const struct yp_field *fd, yaml_node_t *v, void *out,
		       struct vg_err *err)
{
	void *slot = (char *)out + fd->off;
	char *s;
	int st;

	switch (fd->type) {
	case YP_STR:
		if (!(s = yscalar(y, v, fd->key, err)))
			return -1;
		free(*(char **)slot);
		*(char **)slot = s;
		return 0;
	case YP_BOOL:
		return ybool(y, v, (int *)slot, err);
	case YP_INT:
		if (!(s = yscalar(y, v, fd->key, err)))
			return -1;
		if (!str_to_ll(s, (long long *)slot)) {
			vg_errf(err, "%s:%d: %s: '%s' is not a whole number", y->file, yline(v),
				fd->key, s);
			free(s);
			return -1;
		}
		free(s);
		return 0;
	case YP_MODE:
		return parse_mode(y, v, (int *)slot, err);
	case YP_STRV:
		return parse_strv(y, v, fd->key, (struct vg_strv *)slot, err);
	case YP_ENUM:
		return parse_choice(y, v, fd->key, fd->choices, (int *)slot, err);
	case YP_EXPECT:
		return expect_parse(y, v, (struct vg_expect *)slot, err);
	case YP_STATUS:
		if (!(s = yscalar(y, v, fd->key, err)))
			return -1;
		st = status_parse(s);
		if (st < 0) {
			vg_errf(err, "%s:%d: %s: '%s' is not passed, failed, not_applicable or "
				"error", y->file, yline(v), fd->key, s);
			free(s);
			return -1;
		}
		free(s);
		*(int *)slot = st;
		return 0;
	case YP_NODE:
		*(yaml_node_t **)slot = v;
		return 0;
	}
	return vg_errf(err, "%s:%d: internal: bad field type", y->file, yline(v));
}

static int yp_one(struct vg_yctx *y, const char *key, yaml_node_t *v, void *u, struct vg_err *err)
{
	struct yp_state *st = u;
	struct vg_buf keys = {0};

	for (size_t i = 0; st->f[i].key; i++) {
		if (strcmp(st->f[i].key, key))
			continue;
		st->seen |= 1ul << i;
		return parse_field(y, &st->f[i], v, st->out, err);
	}
	for (size_t i = 0; st->f[i].key; i++)
		buf_printf(&keys, "%s%s", i ? ", " : "", st->f[i].key);
	vg_errf(err, "%s:%d: unknown key '%s' in %s (known: %s)", y->file, yline(v), key, st->what,
		keys.p ? keys.p : "none");
	buf_free(&keys);
	return -1;
}

int yp_parse(struct vg_yctx *y, yaml_node_t *map, const struct yp_field *f, void *out,
	     const char *what, struct vg_err *err)
{
	struct yp_state st = {.f = f, .out = out, .what = what};

	if (ymap_each(y, map, what, yp_one, &st, err))
		return -1;
	for (size_t i = 0; f[i].key; i++)
		if (f[i].required && !(st.seen & (1ul << i)))
			return vg_errf(err, "%s:%d: %s needs '%s'", y->file, yline(map), what,
				       f[i].key);
	return 0;
}

void yp_free(const struct yp_field *f, void *out)
{
	for (size_t i = 0; f[i].key; i++) {
		void *slot = (char *)out + f[i].off;
		switch (f[i].type) {
		case YP_STR:
			free(*(char **)slot);
			*(char **)slot = NULL;
			break;
		case YP_STRV:
			strv_free((struct vg_strv *)slot);
			break;
		case YP_EXPECT:
			expect_free((struct vg_expect *)slot);
			break;
		default:
			break;
		}
	}
}
