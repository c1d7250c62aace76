/* storetest.h: what the store's tests share (test_store.c, test_store_print.c):
 * records written as JSON text and packed as msgpack (so a test reads like
 * the record it sends), a store in a fresh directory, chunks in one call,
 * and values read straight from the SQLite file (where SQL gets mpjson(x):
 * events.record's msgpack as JSON text, made by proto/mpjson.h as the
 * queries make it). Static functions: each test program includes it once. */
#ifndef VIGIL_STORETEST_H
#define VIGIL_STORETEST_H

#include <ctype.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpjson.h"
#include "store.h"
#include "testutil.h"

/* Not every test program uses every helper. */
#define STT_FN static __attribute__((unused))

/* ---- JSON text -> msgpack object ------------------------------------------------ */

struct jm {
	const char *p;
	msgpack_packer *pk;
};

STT_FN void jm_ws(struct jm *j)
{
	while (isspace((unsigned char)*j->p))
		j->p++;
}

/* A JSON string (escapes \" \\ \n \t \uXXXX below 0x100 as one byte: tests
 * write invalid UTF-8 with \u00ff). */
STT_FN void jm_str(struct jm *j, msgpack_packer *pk)
{
	char *buf = malloc(strlen(j->p) + 1);
	size_t n = 0;

	assert_non_null(buf);
	assert_true(*j->p == '"');
	for (j->p++; *j->p && *j->p != '"'; j->p++) {
		if (*j->p != '\\') {
			buf[n++] = *j->p;
			continue;
		}
		j->p++;
		switch (*j->p) {
		case 'n': buf[n++] = '\n'; break;
		case 't': buf[n++] = '\t'; break;
		case 'u': {
			char hex[5] = {0};
			memcpy(hex, j->p + 1, 4);
			buf[n++] = (char)strtol(hex, NULL, 16);
			j->p += 4;
			break;
		}
		default: buf[n++] = *j->p; break;
		}
	}
	assert_true(*j->p == '"');
	j->p++;
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, buf, n);
	free(buf);
}

STT_FN void jm_value(struct jm *j)
{
	msgpack_sbuffer inner;
	msgpack_packer ipk, *save;
	uint32_t n = 0;
	char open;

	jm_ws(j);
	if (*j->p == '"')
		return jm_str(j, j->pk);
	if (*j->p == '{' || *j->p == '[') {
		/* Elements go to a side buffer until their count is known. */
		open = *j->p++;
		msgpack_sbuffer_init(&inner);
		msgpack_packer_init(&ipk, &inner, msgpack_sbuffer_write);
		save = j->pk;
		j->pk = &ipk;
		for (jm_ws(j); *j->p != (open == '{' ? '}' : ']');) {
			if (open == '{') {
				jm_ws(j);
				jm_str(j, &ipk);
				jm_ws(j);
				assert_true(*j->p == ':');
				j->p++;
			}
			jm_value(j);
			n++;
			jm_ws(j);
			if (*j->p == ',')
				j->p++, jm_ws(j);
		}
		j->p++;
		j->pk = save;
		if (open == '{')
			msgpack_pack_map(j->pk, n);
		else
			msgpack_pack_array(j->pk, n);
		msgpack_sbuffer_write(j->pk->data, inner.data, inner.size);
		msgpack_sbuffer_destroy(&inner);
		return;
	}
	if (!strncmp(j->p, "true", 4))
		return j->p += 4, (void)msgpack_pack_true(j->pk);
	if (!strncmp(j->p, "false", 5))
		return j->p += 5, (void)msgpack_pack_false(j->pk);
	if (!strncmp(j->p, "null", 4))
		return j->p += 4, (void)msgpack_pack_nil(j->pk);
	{
		char *end;
		size_t len = strspn(j->p, "-+0123456789.eE");

		if (memchr(j->p, '.', len) || memchr(j->p, 'e', len)) {
			msgpack_pack_double(j->pk, strtod(j->p, &end));
		} else {
			long long v = strtoll(j->p, &end, 10);
			msgpack_pack_int64(j->pk, v);
		}
		assert_true(end > j->p);
		j->p = end;
	}
}

/* Unpacked objects stay valid until stt_free. */
struct stt {
	msgpack_zone z;
	bool init;
};

STT_FN void stt_free(struct stt *t)
{
	if (t->init)
		msgpack_zone_destroy(&t->z);
	t->init = false;
}

/* The object that the JSON text fmt (printf-style) describes. */
__attribute__((format(printf, 2, 3))) STT_FN msgpack_object stt_obj(struct stt *t,
								    const char *fmt, ...)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_object o;
	struct jm j;
	char *text;
	size_t off = 0;
	va_list ap;

	if (!t->init)
		assert_true(msgpack_zone_init(&t->z, 4096));
	t->init = true;
	va_start(ap, fmt);
	assert_true(vasprintf(&text, fmt, ap) >= 0);
	va_end(ap);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	j.p = text;
	j.pk = &pk;
	jm_value(&j);
	/* The zone references the bytes: they live as long as it does. */
	{
		char *keep = msgpack_zone_malloc(&t->z, sb.size ? sb.size : 1);

		assert_non_null(keep);
		memcpy(keep, sb.data, sb.size);
		assert_int_equal(msgpack_unpack(keep, sb.size, &off, &t->z, &o),
				 MSGPACK_UNPACK_SUCCESS);
	}
	msgpack_sbuffer_destroy(&sb);
	free(text);
	return o;
}

/* ---- records as the sensor packs them ------------------------------------------- */

#define STT_T0 1700000000000LL		/* ms */

/* "device":{...} for host h. */
#define STT_DEV(h) "\"device\":{\"uid\":\"" h "\",\"hostname\":\"host-" h "\"," \
		   "\"os\":{\"name\":\"Debian GNU/Linux\",\"version\":\"12\"}}"
#define STT_META "\"metadata\":{\"version\":\"1.1.0\",\"product\":{\"name\":\"vigil\"," \
		 "\"version\":\"0.1.0\"}}"

/* ---- a store in a fresh directory -------------------------------------------------- */

STT_FN struct st *stt_open(const char *dir)
{
	struct st_err err = {{0}};
	struct st *s = NULL;

	if (st_open(&s, dir, &err))
		fail_msg("st_open %s: %s", dir, err.msg);
	return s;
}

STT_FN void stt_enroll(struct st *s, const char *host)
{
	struct st_err err = {{0}};
	char serial[80];

	snprintf(serial, sizeof(serial), "serial-%s", host);
	if (st_host_enroll(s, host, host, NULL, serial, 0, &err))
		fail_msg("enroll %s: %s", host, err.msg);
}

/* begin, every record, commit: the first failure's code (err says). */
STT_FN int stt_chunk(struct st *s, const char *host, const char *chunk,
		     const msgpack_object *recs, size_t n, bool *seen, struct st_err *err)
{
	bool dummy;
	int rc;

	if ((rc = st_chunk_begin(s, host, chunk, seen ? seen : &dummy, err)))
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = st_record(s, "vigil.test", 0, &recs[i], err))) {
			st_chunk_abort(s);
			return rc;
		}
	return st_chunk_commit(s, err);
}

/* mpjson(x): a BLOB of msgpack as JSON text; text and NULL as they are. */
STT_FN void stt_sql_mpjson(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const void *p = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	struct mpj_buf b = {0};
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	assert_true(msgpack_zone_init(&z, 4096));
	assert_int_equal(msgpack_unpack(p, (size_t)n, &off, &z, &o), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, (size_t)n);
	assert_int_equal(mpj_append(&b, &o, NULL), MPJ_OK);
	sqlite3_result_text(ctx, b.p, (int)b.len, SQLITE_TRANSIENT);
	mpj_buf_free(&b);
	msgpack_zone_destroy(&z);
}

/* The store's file, read-only, with mpjson(x). */
STT_FN sqlite3 *stt_db(const char *dir)
{
	char path[512];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/vigil.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_create_function(db, "mpjson", 1, SQLITE_UTF8, NULL,
						 stt_sql_mpjson, NULL, NULL), SQLITE_OK);
	return db;
}

/* One integer from the store's file, read with SQLite directly. */
__attribute__((format(printf, 2, 3))) STT_FN int64_t stt_int(const char *dir,
							     const char *fmt, ...)
{
	char *sql;
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&sql, fmt, ap) >= 0);
	va_end(ap);
	db = stt_db(dir);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(sql);
	return v;
}

/* One text value (malloc'd, NULL for SQL NULL or no row). */
__attribute__((format(printf, 2, 3))) STT_FN char *stt_text(const char *dir, const char *fmt,
							    ...)
{
	char *sql, *v = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&sql, fmt, ap) >= 0);
	va_end(ap);
	db = stt_db(dir);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(sql);
	return v;
}

#endif
