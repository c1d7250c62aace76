/* test_store.c: the collector's store on real SQLite files: chunks stored
 * once and whole, records refused for what they lack, check history,
 * tokens, certificates, reporting hosts, the schema, a corrupt file, and
 * commits that survive kill -9. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storetest.h"
#include "store_int.h"

#define FILE_EV(h, path) \
	"{\"class_uid\":1001,\"activity_id\":3,\"type_uid\":100103,\"time\":%lld," \
	"\"severity_id\":1," STT_META "," STT_DEV(h) ",\"file\":{\"path\":\"" path "\"}," \
	"\"actor\":{\"process\":{\"pid\":42,\"file\":{\"path\":\"/usr/bin/vi\"}," \
	"\"user\":{\"uid\":\"0\"}}},\"unmapped\":{\"fim\":{\"verdict\":\"change\"}}}"
#define PROC_EV(h) \
	"{\"class_uid\":1007,\"activity_id\":1,\"type_uid\":100701,\"time\":%lld," \
	"\"severity_id\":1," STT_META "," STT_DEV(h) ",\"process\":{\"pid\":4242," \
	"\"file\":{\"path\":\"/usr/bin/curl\"},\"cmd_line\":\"curl http://x\"," \
	"\"user\":{\"uid\":1000},\"parent_process\":{\"pid\":1}}}"
#define CHECK(h, id, status, status_id, sev) \
	"{\"class_uid\":2003,\"activity_id\":1,\"type_uid\":200301,\"time\":%lld," \
	"\"severity_id\":" #sev "," STT_META "," STT_DEV(h) "," \
	"\"finding_info\":{\"uid\":\"" id "\",\"title\":\"Title of " id "\"}," \
	"\"compliance\":{\"status\":\"" status "\",\"status_id\":" #status_id "," \
	"\"control\":\"1.1\",\"standards\":[\"CIS\"]}," \
	"\"unmapped\":{\"vigil\":{\"baseline\":{\"id\":\"cis\",\"version\":\"1\"}}}}"

struct fx {
	char *dir;
	struct st *s;
	struct stt t;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tu_mkroot();
	f->s = stt_open(f->dir);
	stt_enroll(f->s, "h1");
	stt_enroll(f->s, "h2");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	st_close(f->s);
	stt_free(&f->t);
	tu_rmroot(f->dir);
	free(f);
	return 0;
}

static int64_t count(struct fx *f, const char *table)
{
	return stt_int(f->dir, "SELECT count(*) FROM %s", table);
}

/* ---- chunks ------------------------------------------------------------------------ */

static void test_chunk_dedupe(void **state)
{
	struct fx *f = *state;
	msgpack_object r[3] = {
		stt_obj(&f->t, FILE_EV("h1", "/etc/passwd"), STT_T0),
		stt_obj(&f->t, PROC_EV("h1"), STT_T0 + 1),
		stt_obj(&f->t, CHECK("h1", "c-1", "Fail", 3, 4), STT_T0 + 2),
	};
	struct st_err err = {{0}};
	bool seen = true;

	assert_int_equal(stt_chunk(f->s, "h1", "h1.1", r, 3, &seen, &err), 0);
	assert_false(seen);
	assert_int_equal(count(f, "events"), 2);
	assert_int_equal(count(f, "check_latest"), 1);
	assert_int_equal(stt_int(f->dir, "SELECT records FROM chunks WHERE chunk = 'h1.1'"), 3);
	/* The retry: seen, acked, nothing stored twice. */
	assert_int_equal(stt_chunk(f->s, "h1", "h1.1", r, 3, &seen, &err), 0);
	assert_true(seen);
	assert_int_equal(count(f, "events"), 2);
	assert_int_equal(count(f, "check_history"), 1);
	assert_int_equal(count(f, "chunks"), 1);
	/* Chunk ids are per host: h2's "h1.1" is another chunk. */
	r[0] = stt_obj(&f->t, FILE_EV("h2", "/etc/shadow"), STT_T0);
	assert_int_equal(stt_chunk(f->s, "h2", "h1.1", r, 1, &seen, &err), 0);
	assert_false(seen);
	assert_int_equal(count(f, "chunks"), 2);
	assert_int_equal(count(f, "events"), 3);
	/* The event columns. */
	assert_int_equal(stt_int(f->dir, "SELECT pid FROM events WHERE class_uid = 1007"), 4242);
	char *v = stt_text(f->dir, "SELECT exe || '|' || actor || '|' || detail FROM events"
				   " WHERE class_uid = 1007");
	assert_string_equal(v, "/usr/bin/curl|1000|curl http://x");
	free(v);
	v = stt_text(f->dir, "SELECT path || '|' || exe || '|' || actor || '|' || verdict"
			     " FROM events WHERE class_uid = 1001 AND host_id ="
			     " (SELECT id FROM hosts WHERE uid = 'h1')");
	assert_string_equal(v, "/etc/passwd|/usr/bin/vi|0|change");
	free(v);
	/* The record is kept whole, as msgpack; its JSON is the record. */
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM events WHERE"
					 " typeof(record) = 'blob'"), 3);
	assert_int_equal(stt_int(f->dir, "SELECT json_extract(mpjson(record),"
					 " '$.process.parent_process.pid') FROM events"
					 " WHERE class_uid = 1007"), 1);
	/* Ingest counts as being seen. */
	assert_true(stt_int(f->dir, "SELECT last_seen FROM hosts WHERE uid = 'h1'") >=
		    (int64_t)time(NULL) - 5);
}

static void test_chunk_abort(void **state)
{
	struct fx *f = *state;
	msgpack_object r = stt_obj(&f->t, FILE_EV("h1", "/etc/passwd"), STT_T0);
	struct st_err err = {{0}};
	bool seen = true;

	assert_int_equal(st_chunk_begin(f->s, "h1", "c", &seen, &err), 0);
	assert_false(seen);
	assert_int_equal(st_record(f->s, "t", 0, &r, &err), 0);
	assert_int_equal(st_record(f->s, "t", 0, &r, &err), 0);
	st_chunk_abort(f->s);
	assert_int_equal(count(f, "chunks"), 0);
	assert_int_equal(count(f, "events"), 0);
	/* Not seen: the sensor's retry is stored. */
	assert_int_equal(stt_chunk(f->s, "h1", "c", &r, 1, &seen, &err), 0);
	assert_false(seen);
	assert_int_equal(count(f, "events"), 1);
	/* Misuse is an error, not a crash. */
	assert_int_equal(st_record(f->s, "t", 0, &r, &err), -1);
	assert_int_equal(st_chunk_commit(f->s, &err), -1);
	assert_int_equal(st_chunk_begin(f->s, "h1", "d", &seen, &err), 0);
	assert_int_equal(st_chunk_begin(f->s, "h1", "e", &seen, &err), -1);
	st_chunk_abort(f->s);
	st_chunk_abort(f->s);
	/* An unknown host, a bad chunk id. */
	assert_int_equal(st_chunk_begin(f->s, "h9", "c", &seen, &err), ST_REFUSED);
	assert_non_null(strstr(err.msg, "not enrolled"));
	assert_int_equal(st_chunk_begin(f->s, "h1", "", &seen, &err), ST_REFUSED);
	assert_int_equal(st_chunk_begin(f->s, "h1", "a b", &seen, &err), ST_REFUSED);
	assert_int_equal(count(f, "chunks"), 1);
}

static void test_other_host(void **state)
{
	struct fx *f = *state;
	msgpack_object r[3] = {
		stt_obj(&f->t, FILE_EV("h1", "/etc/passwd"), STT_T0),
		stt_obj(&f->t, FILE_EV("h2", "/etc/passwd"), STT_T0),
		stt_obj(&f->t, FILE_EV("h1", "/etc/group"), STT_T0),
	};
	struct st_err err = {{0}};
	bool seen;

	assert_int_equal(st_chunk_begin(f->s, "h1", "x", &seen, &err), 0);
	assert_int_equal(st_record(f->s, "t", 0, &r[0], &err), 0);
	assert_int_equal(st_record(f->s, "t", 0, &r[1], &err), ST_REFUSED);
	assert_non_null(strstr(err.msg, "record 1: device.uid 'h2' is not this connection's "
					"host 'h1'"));
	/* The chunk is gone: what follows is refused, commit fails, nothing stays. */
	assert_int_equal(st_record(f->s, "t", 0, &r[2], &err), -1);
	assert_non_null(strstr(err.msg, "aborted"));
	assert_int_equal(st_chunk_commit(f->s, &err), -1);
	assert_int_equal(count(f, "events"), 0);
	assert_int_equal(count(f, "chunks"), 0);
	assert_int_equal(st_chunk_begin(f->s, "h1", "x", &seen, &err), 0);
	assert_false(seen);
	st_chunk_abort(f->s);
}

/* Each record must be refused with err naming the field, and leave nothing. */
static void refused(struct fx *f, msgpack_object r, const char *want)
{
	struct st_err err = {{0}};
	msgpack_object two[2] = {stt_obj(&f->t, FILE_EV("h1", "/ok"), STT_T0), r};

	if (stt_chunk(f->s, "h1", "r", two, 2, NULL, &err) != ST_REFUSED)
		fail_msg("taken, want refused with '%s'", want);
	if (!strstr(err.msg, want))
		fail_msg("refused with '%s', want '%s'", err.msg, want);
	assert_int_equal(count(f, "events"), 0);
	assert_int_equal(count(f, "chunks"), 0);
}

/* {class_uid, time, device {uid: h1}, big: str of n bytes, and for a 2003 a
 * check id}: too big to write as JSON text in a test. */
static msgpack_object big_record(msgpack_sbuffer *sb, msgpack_unpacked *up, int cls,
				 const char *big, size_t n)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, cls == 2003 ? 5 : 4);
	msgpack_pack_str_with_body(&pk, "class_uid", 9), msgpack_pack_int(&pk, cls);
	msgpack_pack_str_with_body(&pk, "time", 4), msgpack_pack_int(&pk, 1);
	msgpack_pack_str_with_body(&pk, "device", 6), msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "uid", 3), msgpack_pack_str_with_body(&pk, "h1", 2);
	msgpack_pack_str_with_body(&pk, "big", 3);
	msgpack_pack_str_with_body(&pk, big, n);
	if (cls == 2003) {
		msgpack_pack_str_with_body(&pk, "finding_info", 12), msgpack_pack_map(&pk, 1);
		msgpack_pack_str_with_body(&pk, "uid", 3), msgpack_pack_str_with_body(&pk, "c", 1);
	}
	msgpack_unpacked_init(up);
	assert_int_equal(msgpack_unpack_next(up, sb->data, sb->size, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	return up->data;
}

static void big_free(msgpack_sbuffer *sb, msgpack_unpacked *up)
{
	msgpack_unpacked_destroy(up);
	msgpack_sbuffer_destroy(sb);
}

static void test_required_fields(void **state)
{
	struct fx *f = *state;
	msgpack_sbuffer sb;
	msgpack_unpacked up;
	char *big;

	refused(f, stt_obj(&f->t, "{\"time\":1,\"device\":{\"uid\":\"h1\"}}"),
		"class_uid is missing");
	refused(f, stt_obj(&f->t, "{\"class_uid\":\"1001\",\"time\":1,\"device\":{\"uid\":\"h1\"}}"),
		"class_uid is a str, not an int");
	refused(f, stt_obj(&f->t, "{\"class_uid\":-1,\"time\":1,\"device\":{\"uid\":\"h1\"}}"),
		"class_uid -1 is out of range");
	refused(f, stt_obj(&f->t, "{\"class_uid\":1001,\"device\":{\"uid\":\"h1\"}}"),
		"time is missing");
	refused(f, stt_obj(&f->t, "{\"class_uid\":1001,\"time\":1.5,\"device\":{\"uid\":\"h1\"}}"),
		"time is a float, not an int");
	refused(f, stt_obj(&f->t, "{\"class_uid\":1001,\"time\":-5,\"device\":{\"uid\":\"h1\"}}"),
		"time -5 is out of range");
	refused(f, stt_obj(&f->t, "{\"class_uid\":1001,\"time\":1}"), "device.uid is missing");
	refused(f, stt_obj(&f->t, "{\"class_uid\":1001,\"time\":1,\"device\":\"h1\"}"),
		"device.uid is missing");
	refused(f, stt_obj(&f->t, "{\"class_uid\":1001,\"time\":1,\"device\":{\"uid\":7}}"),
		"device.uid is an int, not a str");
	refused(f, stt_obj(&f->t, "[1001, 1, \"h1\"]"), "record is an array, not a map");
	/* A check id is a key: cut, it could merge two checks. */
	refused(f, stt_obj(&f->t, "{\"class_uid\":2003,\"time\":1,\"device\":{\"uid\":\"h1\"},"
				  "\"finding_info\":{\"uid\":\"%0300d\"}}", 7),
		"finding_info.uid is 300 bytes, more than 256");
	/* Nesting: the record and 16 arrays below it are 17 containers. */
	refused(f, stt_obj(&f->t, "{\"class_uid\":1,\"time\":1,\"device\":{\"uid\":\"h1\"},\"x\":"
				  "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}"),
		"record nests deeper than 16");
	/* More than 1 MiB of msgpack. */
	big = calloc(1, 1u << 20);
	memset(big, 'a', 1u << 20);
	refused(f, big_record(&sb, &up, 1001, big, 1u << 20),
		"record is more than 1048576 bytes as msgpack");
	big_free(&sb, &up);
	/* 200,000 NULs are 200 kB of msgpack, 1.2 MB of JSON ("\u0000"): an
	 * event is taken (stored as msgpack); a check, kept as JSON, is not. */
	memset(big, 0, 200000);
	refused(f, big_record(&sb, &up, 2003, big, 200000),
		"record is more than 1048576 bytes as JSON");
	big_free(&sb, &up);
	{
		struct st_err err = {{0}};
		msgpack_object r = big_record(&sb, &up, 1001, big, 200000);

		assert_int_equal(stt_chunk(f->s, "h1", "big", &r, 1, NULL, &err), 0);
		big_free(&sb, &up);
		assert_true(stt_int(f->dir, "SELECT length(record) FROM events") < 200100);
		assert_true(stt_int(f->dir, "SELECT length(mpjson(record)) FROM events") >
			    6 * 200000);
	}
	free(big);
}

static void test_liberal(void **state)
{
	struct fx *f = *state;
	char *v;
	msgpack_object r[5] = {
		/* Optional fields of the wrong type: NULL columns, the record kept. */
		stt_obj(&f->t, "{\"class_uid\":1007,\"time\":%lld,\"device\":{\"uid\":\"h1\"},"
			       "\"activity_id\":\"launch\",\"process\":{\"pid\":\"x\","
			       "\"file\":[\"/bin/sh\"],\"cmd_line\":7}}", STT_T0),
		/* A class nobody told the store about. */
		stt_obj(&f->t, "{\"class_uid\":4001,\"activity_id\":6,\"time\":%lld,"
			       "\"device\":{\"uid\":\"h1\"},\"src_endpoint\":{\"ip\":\"::1\"}}",
			STT_T0 + 1),
		/* A path of 5000 bytes, and one with bytes that are not UTF-8. */
		stt_obj(&f->t, "{\"class_uid\":1001,\"time\":%lld,\"device\":{\"uid\":\"h1\"},"
			       "\"file\":{\"path\":\"/%04999d\"}}", STT_T0 + 2, 0),
		stt_obj(&f->t, "{\"class_uid\":1001,\"time\":%lld,\"device\":{\"uid\":\"h1\"},"
			       "\"file\":{\"path\":\"/tmp/\\u00ff\\u0000x\"}}", STT_T0 + 3),
		/* A compliance finding without a check id is kept, as an event. */
		stt_obj(&f->t, "{\"class_uid\":2003,\"time\":%lld,\"device\":{\"uid\":\"h1\"},"
			       "\"compliance\":{\"status\":\"Fail\"}}", STT_T0 + 4),
	};
	struct st_err err = {{0}};

	assert_int_equal(stt_chunk(f->s, "h1", "l", r, 5, NULL, &err), 0);
	assert_int_equal(count(f, "events"), 5);
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM events WHERE class_uid = 1007 AND"
					 " pid IS NULL AND exe IS NULL AND detail IS NULL AND"
					 " activity_id IS NULL"), 1);
	v = stt_text(f->dir, "SELECT mpjson(record) FROM events WHERE class_uid = 4001");
	assert_string_equal(v, "{\"class_uid\":4001,\"activity_id\":6,\"time\":1700000000001,"
			       "\"device\":{\"uid\":\"h1\"},\"src_endpoint\":{\"ip\":\"::1\"}}");
	free(v);
	assert_int_equal(stt_int(f->dir, "SELECT activity_id FROM events WHERE class_uid = 4001"),
			 6);
	/* The column is cut to 4 KiB; the record keeps all 5000 bytes. */
	assert_int_equal(stt_int(f->dir, "SELECT length(path) FROM events WHERE time = %lld",
				 STT_T0 + 2), 4096);
	assert_int_equal(stt_int(f->dir, "SELECT length(json_extract(mpjson(record), '$.file.path'))"
					 " FROM events WHERE time = %lld", STT_T0 + 2), 5000);
	/* A bad byte and a NUL become U+FFFD in the column, JSON escapes the NUL. */
	v = stt_text(f->dir, "SELECT path FROM events WHERE time = %lld", STT_T0 + 3);
	assert_string_equal(v, "/tmp/\xef\xbf\xbd\xef\xbf\xbdx");
	free(v);
	v = stt_text(f->dir, "SELECT mpjson(record) FROM events WHERE time = %lld", STT_T0 + 3);
	assert_non_null(strstr(v, "\"/tmp/\xef\xbf\xbd\\u0000x\""));
	free(v);
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM events WHERE class_uid = 2003"), 1);
	assert_int_equal(count(f, "check_latest"), 0);
}

/* ---- what records become ------------------------------------------------------------- */

static void one(struct fx *f, const char *host, const char *chunk, msgpack_object r)
{
	struct st_err err = {{0}};

	if (stt_chunk(f->s, host, chunk, &r, 1, NULL, &err))
		fail_msg("chunk %s: %s", chunk, err.msg);
}

static void test_check_history(void **state)
{
	struct fx *f = *state;
	char *v;

	one(f, "h1", "1", stt_obj(&f->t, CHECK("h1", "c-1", "Fail", 3, 4), STT_T0));
	assert_int_equal(count(f, "check_history"), 1);
	/* The same status again: the latest moves, the history does not. */
	one(f, "h1", "2", stt_obj(&f->t, CHECK("h1", "c-1", "Fail", 3, 4), STT_T0 + 1000));
	assert_int_equal(count(f, "check_history"), 1);
	assert_int_equal(stt_int(f->dir, "SELECT time FROM check_latest"), STT_T0 + 1000);
	/* A change: one more row, naming what it was. */
	one(f, "h1", "3", stt_obj(&f->t, CHECK("h1", "c-1", "Pass", 1, 4), STT_T0 + 2000));
	assert_int_equal(count(f, "check_history"), 2);
	v = stt_text(f->dir, "SELECT prev_status || '>' || status FROM check_history"
			     " ORDER BY time DESC");
	assert_string_equal(v, "Fail>Pass");
	free(v);
	/* An older result arriving late changes nothing. */
	one(f, "h1", "4", stt_obj(&f->t, CHECK("h1", "c-1", "Fail", 3, 4), STT_T0 + 1500));
	assert_int_equal(count(f, "check_history"), 2);
	v = stt_text(f->dir, "SELECT status FROM check_latest");
	assert_string_equal(v, "Pass");
	free(v);
	/* Same check, another host: its own row and history. */
	one(f, "h2", "1", stt_obj(&f->t, CHECK("h2", "c-1", "Pass", 1, 4), STT_T0));
	assert_int_equal(count(f, "check_latest"), 2);
	assert_int_equal(count(f, "check_history"), 3);
	assert_int_equal(stt_int(f->dir, "SELECT rank FROM check_latest WHERE host_id ="
					 " (SELECT id FROM hosts WHERE uid = 'h2')"), 3);
	v = stt_text(f->dir, "SELECT baseline || ' ' || baseline_version || ' ' || control || ' '"
			     " || title FROM check_latest LIMIT 1");
	assert_string_equal(v, "cis 1 1.1 Title of c-1");
	free(v);
}

static void test_classes(void **state)
{
	struct fx *f = *state;
	char *v;

	one(f, "h1", "s", stt_obj(&f->t,
		"{\"class_uid\":5002,\"time\":%lld,\"device\":{\"uid\":\"h1\"},\"unmapped\":{"
		"\"vigil\":{\"baseline\":{\"id\":\"cis\",\"name\":\"CIS\",\"version\":\"1\"},"
		"\"summary\":{\"passed\":70,\"failed\":10,\"not_applicable\":3,\"errors\":0,"
		"\"skipped\":1,\"score\":87.5}}}}", STT_T0));
	v = stt_text(f->dir, "SELECT baseline_name || passed || '/' || failed || '/' ||"
			     " not_applicable || '/' || errors || '/' || skipped || '/' || score"
			     " FROM scores");
	assert_string_equal(v, "CIS70/10/3/0/1/87.5");
	free(v);
	one(f, "h1", "i", stt_obj(&f->t,
		"{\"class_uid\":5001,\"time\":%lld,\"device\":{\"uid\":\"h1\",\"hostname\":"
		"\"web1\",\"os\":{\"name\":\"Debian GNU/Linux\",\"version\":\"12\"}}}", STT_T0));
	v = stt_text(f->dir, "SELECT hostname || '|' || os_name || '|' || os_version ||"
			     " '|' || json_extract(inventory, '$.device.hostname')"
			     " FROM hosts WHERE uid = 'h1'");
	assert_string_equal(v, "web1|Debian GNU/Linux|12|web1");
	free(v);
	one(f, "h1", "hb", stt_obj(&f->t,
		"{\"class_uid\":0,\"time\":%lld,\"device\":{\"uid\":\"h1\",\"os\":{\"version\":"
		"\"13\"}},\"metadata\":{\"product\":{\"version\":\"0.1.0\"}},"
		"\"unmapped\":{\"vigil\":{\"kind\":\"heartbeat\",\"version\":\"9.9.9\","
		"\"mode\":\"bpf\",\"interval_s\":30}}}", STT_T0));
	v = stt_text(f->dir, "SELECT sensor_version || '|' || mode || '|' || heartbeat_s || '|' ||"
			     " os_name || ' ' || os_version FROM hosts WHERE uid = 'h1'");
	assert_string_equal(v, "0.1.0|bpf|30|Debian GNU/Linux 13");
	free(v);
	/* An older heartbeat does not undo a newer one. */
	one(f, "h1", "hb0", stt_obj(&f->t,
		"{\"class_uid\":0,\"time\":%lld,\"device\":{\"uid\":\"h1\"},\"metadata\":{"
		"\"product\":{\"version\":\"0.0.9\"}},\"unmapped\":{"
		"\"vigil\":{\"kind\":\"heartbeat\",\"mode\":\"rescan\","
		"\"interval_s\":60}}}", STT_T0 - 1));
	v = stt_text(f->dir, "SELECT mode FROM hosts WHERE uid = 'h1'");
	assert_string_equal(v, "bpf");
	free(v);
	one(f, "h1", "g", stt_obj(&f->t,
		"{\"class_uid\":0,\"time\":%lld,\"device\":{\"uid\":\"h1\"},\"unmapped\":{"
		"\"vigil\":{\"kind\":\"gap\",\"records\":10,\"batches\":2,\"first_seq\":5,"
		"\"last_seq\":6,\"since\":1,\"until\":2}}}", STT_T0));
	assert_int_equal(stt_int(f->dir, "SELECT records * 1000 + batches * 100 + first_seq * 10"
					 " + last_seq FROM gaps"), 10256);
	assert_int_equal(count(f, "events"), 0);	/* none of these is an event */
	/* Findings: detections, and FIM tampering (not other changes). */
	one(f, "h1", "d", stt_obj(&f->t,
		"{\"class_uid\":2004,\"activity_id\":1,\"time\":%lld,\"severity_id\":4,"
		"\"device\":{\"uid\":\"h1\"},\"finding_info\":{\"uid\":\"det-1\",\"title\":"
		"\"shell from nginx\"}}", STT_T0));
	one(f, "h1", "t", stt_obj(&f->t,
		"{\"class_uid\":1001,\"time\":%lld,\"device\":{\"uid\":\"h1\"},\"file\":{"
		"\"path\":\"/usr/bin/ls\"},\"unmapped\":{\"fim\":{\"verdict\":\"tampering\"}}}",
		STT_T0));
	one(f, "h1", "c", stt_obj(&f->t, FILE_EV("h1", "/etc/motd"), STT_T0));
	assert_int_equal(count(f, "events"), 3);
	assert_int_equal(count(f, "findings"), 2);
	v = stt_text(f->dir, "SELECT group_concat(kind || ':' || coalesce(uid, '') || ':' ||"
			     " coalesce(title, '') || ':' || e.class_uid, ',') FROM (SELECT * FROM"
			     " findings ORDER BY kind) f JOIN events e ON e.id = f.event_id");
	assert_string_equal(v, "detection:det-1:shell from nginx:2004,tampering:::1001");
	free(v);
}

/* ---- tokens and certificates ------------------------------------------------------ */

#define H_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void spend_refused(struct st *s, const char *id, const char *hash, int64_t now,
			  const char *want)
{
	struct st_err err = {{0}};

	assert_int_equal(st_token_spend(s, id, hash, now, &err), ST_REFUSED);
	if (!strstr(err.msg, want))
		fail_msg("refused with '%s', want '%s'", err.msg, want);
}

static void test_tokens(void **state)
{
	struct fx *f = *state;
	struct st_err err = {{0}};
	int64_t now = 1000000;

	/* Single use. */
	assert_int_equal(st_token_add(f->s, "01", H_A, now + 3600, 1, &err), 0);
	spend_refused(f->s, "01", H_B, now, "wrong secret");
	assert_int_equal(st_token_spend(f->s, "01", H_A, now, &err), 0);
	spend_refused(f->s, "01", H_A, now, "used up");
	/* Three uses; hex in either case is the same token. */
	assert_int_equal(st_token_add(f->s, "0A", H_B, now + 3600, 3, &err), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(st_token_spend(f->s, i % 2 ? "0a" : "0A",
						"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
						now, &err), 0);
	spend_refused(f->s, "0a", H_B, now, "used up");
	assert_int_equal(stt_int(f->dir, "SELECT uses_left FROM tokens WHERE id = '0a'"), 0);
	/* Expired, at the second it expires. */
	assert_int_equal(st_token_add(f->s, "02", H_A, now + 10, 5, &err), 0);
	spend_refused(f->s, "02", H_A, now + 10, "expired");
	assert_int_equal(st_token_spend(f->s, "02", H_A, now + 9, &err), 0);
	/* Unknown, malformed, duplicate, no uses. */
	spend_refused(f->s, "99", H_A, now, "unknown");
	spend_refused(f->s, "zz", H_A, now, "not hex");
	spend_refused(f->s, "01", "abc", now, "64 to 64 hex digits");
	assert_int_equal(st_token_add(f->s, "01", H_A, now, 1, &err), ST_REFUSED);
	assert_non_null(strstr(err.msg, "exists"));
	assert_int_equal(st_token_add(f->s, "03", H_A, now, 0, &err), ST_REFUSED);
	/* Only the hash is kept. */
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM tokens WHERE secret_hash = '%s'",
				 H_B), 1);
}

static void test_certs(void **state)
{
	struct fx *f = *state;
	struct st_err err = {{0}};
	int64_t later = (int64_t)time(NULL) + 86400;
	char *v;

	assert_int_equal(st_host_enroll(f->s, "h3", "db1", "0123abcd", "5A", later, &err), 0);
	assert_int_equal(st_cert_check(f->s, "5A", "h3", &err), 0);
	assert_int_equal(st_cert_check(f->s, "5A", "h1", &err), ST_REFUSED);
	assert_non_null(strstr(err.msg, "issued to host h3, not h1"));
	assert_int_equal(st_cert_check(f->s, "77", "h3", &err), ST_REFUSED);
	assert_non_null(strstr(err.msg, "unknown"));
	/* A serial is recorded once. */
	assert_int_equal(st_host_enroll(f->s, "h1", "x", NULL, "5A", later, &err), ST_REFUSED);
	assert_non_null(strstr(err.msg, "already recorded"));
	/* Re-enrollment: new details, same host row; the old cert still works. */
	assert_int_equal(st_host_enroll(f->s, "h3", "db1-new", NULL, "5B", later, &err), 0);
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM hosts WHERE uid = 'h3'"), 1);
	v = stt_text(f->dir, "SELECT hostname || '|' || machine_id FROM hosts WHERE uid = 'h3'");
	assert_string_equal(v, "db1-new|0123abcd");
	free(v);
	assert_int_equal(st_cert_check(f->s, "5A", "h3", &err), 0);
	/* Revoked: refused from then on; revoking twice is fine; unknown is not. */
	assert_int_equal(st_cert_revoke(f->s, "5A", &err), 0);
	assert_int_equal(st_cert_check(f->s, "5A", "h3", &err), ST_REFUSED);
	assert_non_null(strstr(err.msg, "revoked"));
	assert_int_equal(st_cert_revoke(f->s, "5A", &err), 0);
	assert_int_equal(st_cert_revoke(f->s, "nope", &err), ST_REFUSED);
	assert_int_equal(st_cert_check(f->s, "5B", "h3", &err), 0);
	/* Expired. */
	assert_int_equal(st_host_enroll(f->s, "h4", NULL, NULL, "6", 1000, &err), 0);
	assert_int_equal(st_cert_check(f->s, "6", "h4", &err), ST_REFUSED);
	assert_non_null(strstr(err.msg, "expired"));
	/* Clones: flagged with a detail, cleared with NULL; unknown hosts refused. */
	assert_int_equal(st_host_clone(f->s, "h3", "two addresses", &err), 0);
	v = stt_text(f->dir, "SELECT clone || clone_detail FROM hosts WHERE uid = 'h3'");
	assert_string_equal(v, "1two addresses");
	free(v);
	assert_int_equal(st_host_clone(f->s, "h3", NULL, &err), 0);
	assert_int_equal(stt_int(f->dir, "SELECT clone FROM hosts WHERE uid = 'h3'"), 0);
	assert_int_equal(st_host_clone(f->s, "h9", "x", &err), ST_REFUSED);
	assert_int_equal(st_host_seen(f->s, "h9", 5, &err), ST_REFUSED);
	/* Not while a chunk is open on the handle. */
	bool seen;
	assert_int_equal(st_chunk_begin(f->s, "h1", "z", &seen, &err), 0);
	assert_int_equal(st_cert_revoke(f->s, "5B", &err), -1);
	st_chunk_abort(f->s);
}

/* ---- hosts that stop reporting ------------------------------------------------------ */

static char *print_hosts(struct st *s, struct st_query *q)
{
	struct st_err err = {{0}};
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);

	if (st_print_hosts(s, q, out, &err))
		fail_msg("st_print_hosts: %s", err.msg);
	fclose(out);
	return text;
}

/* The status the text output gives host's line. */
static void expect_status(struct st *s, struct st_query *q, const char *host, const char *want)
{
	char *text = print_hosts(s, q), *line = strstr(text, host), *nl;

	assert_non_null(line);
	nl = strchr(line, '\n');
	*nl = 0;
	if (!strstr(line, want) || (!strcmp(want, "reporting") && strstr(line, "not reporting")))
		fail_msg("%s: want '%s' in: %s", host, want, line);
	free(text);
}

static void test_reporting(void **state)
{
	struct fx *f = *state;
	struct st_err err = {{0}};
	int64_t now = (int64_t)time(NULL);
	struct st_query q = {.now = now, .missed = 3};

	stt_enroll(f->s, "h3");
	/* h1 announces a 10 s heartbeat; h2 never says (60 s is assumed). */
	one(f, "h1", "hb", stt_obj(&f->t,
		"{\"class_uid\":0,\"time\":%lld,\"device\":{\"uid\":\"h1\"},\"unmapped\":{"
		"\"vigil\":{\"kind\":\"heartbeat\",\"interval_s\":10}}}", STT_T0));
	assert_int_equal(st_host_seen(f->s, "h2", now, &err), 0);
	expect_status(f->s, &q, "h1", "reporting");
	expect_status(f->s, &q, "h2", "reporting");
	expect_status(f->s, &q, "h3", "not reporting");		/* never seen */
	q.now = now + 29;
	expect_status(f->s, &q, "h1", "reporting");
	q.now = now + 35;
	expect_status(f->s, &q, "h1", "not reporting");		/* 3 x 10 s missed */
	expect_status(f->s, &q, "h2", "reporting");
	q.missed = 4;
	expect_status(f->s, &q, "h1", "reporting");
	q.missed = 3;
	q.now = now + 181;
	expect_status(f->s, &q, "h2", "not reporting");		/* 3 x 60 s */
	/* Seen again: reporting. last_seen only moves forward. */
	assert_int_equal(st_host_seen(f->s, "h2", now + 180, &err), 0);
	assert_int_equal(st_host_seen(f->s, "h2", now, &err), 0);
	expect_status(f->s, &q, "h2", "reporting");
}

/* ---- the file -------------------------------------------------------------------------- */

static void test_schema(void **state)
{
	struct fx *f = *state;
	struct st_err err = {{0}};
	char path[512], *other;
	struct st *s2;
	sqlite3 *db;

	one(f, "h1", "1", stt_obj(&f->t, FILE_EV("h1", "/etc/passwd"), STT_T0));
	st_close(f->s);
	assert_int_equal(stt_int(f->dir, "PRAGMA user_version"), 2);
	assert_int_equal(stt_int(f->dir, "PRAGMA application_id"), 0x5647434c);
	assert_int_equal(stt_int(f->dir, "PRAGMA page_size"), 16384);
	/* Reopened, everything is there, and the chunk is still known. */
	f->s = stt_open(f->dir);
	assert_int_equal(count(f, "events"), 1);
	bool seen = false;
	assert_int_equal(st_chunk_begin(f->s, "h1", "1", &seen, &err), 0);
	assert_true(seen);
	st_close(f->s);
	f->s = NULL;
	/* The store is the collector's alone. */
	snprintf(path, sizeof(path), "%s/vigil.db", f->dir);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* A newer schema: refused, untouched. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), 0);
	sqlite3_close(db);
	assert_int_equal(st_open(&s2, f->dir, &err), -1);
	assert_null(s2);
	assert_non_null(strstr(err.msg, "schema version 99 is newer"));
	assert_int_equal(stt_int(f->dir, "PRAGMA user_version"), 99);
	assert_int_equal(count(f, "events"), 1);
	/* Somebody else's database. */
	other = tu_mkroot();
	snprintf(path, sizeof(path), "%s/vigil.db", other);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), 0);
	sqlite3_close(db);
	assert_int_equal(st_open(&s2, other, &err), -1);
	assert_non_null(strstr(err.msg, "not a vigil-collector store"));
	/* Specs: sqlite:FILE, a directory; nothing else. */
	snprintf(path, sizeof(path), "sqlite:%s/other.db", other);
	assert_int_equal(st_open(&s2, path, &err), 0);
	st_close(s2);
	snprintf(path, sizeof(path), "%s/missing", other);
	assert_int_equal(st_open(&s2, path, &err), -1);
	assert_non_null(strstr(err.msg, "No such file"));
	assert_int_equal(st_open(&s2, "postgresql://db/vigil", &err), -1);
	assert_non_null(strstr(err.msg, "PostgreSQL"));
	tu_rmroot(other);
	tu_rmroot(f->dir);		/* teardown's is a fresh one */
	f->dir = tu_mkroot();
	f->s = stt_open(f->dir);
}

static char *print_events_json(struct st *s)
{
	struct st_query q = {.format = ST_JSON, .now = time(NULL)};
	struct st_err err = {{0}};
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);

	if (st_print_events(s, &q, out, &err))
		fail_msg("st_print_events: %s", err.msg);
	fclose(out);
	return text;
}

/* A store of schema 1 kept each event's JSON text; schema 2 keeps msgpack.
 * Version 2 altered no table, so a version 1 store is a version 2 one with
 * JSON text in events.record and user_version 1. Opened, it migrates, and
 * the events query prints old and new records alike. */
static void test_migrate_v1(void **state)
{
	struct fx *f = *state;
	static const char old[] = "{\"class_uid\":1001,\"time\":1700000000000,"
				  "\"device\":{\"uid\":\"h1\"},\"old\":true}";
	struct st_err err = {{0}};
	char path[512], sql[512], *text;
	struct st *ro = NULL;
	sqlite3 *db;

	one(f, "h1", "1", stt_obj(&f->t, FILE_EV("h1", "/etc/old"), STT_T0));
	st_close(f->s);
	f->s = NULL;
	snprintf(path, sizeof(path), "%s/vigil.db", f->dir);
	snprintf(sql, sizeof(sql), "UPDATE events SET record = '%s'; PRAGMA user_version = 1",
		 old);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* A query does not migrate: it asks for the collector to be started. */
	assert_int_equal(st_open_flags(&ro, f->dir, ST_OPEN_READONLY, &err), -1);
	assert_non_null(strstr(err.msg, "schema version 1 is older"));
	f->s = stt_open(f->dir);
	assert_int_equal(stt_int(f->dir, "PRAGMA user_version"), 2);
	one(f, "h1", "2", stt_obj(&f->t, FILE_EV("h1", "/etc/new"), STT_T0 + 1));
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM events WHERE"
					 " typeof(record) = 'text'"), 1);
	text = print_events_json(f->s);
	assert_non_null(strstr(text, old));
	assert_non_null(strstr(text, "\"record\":{\"class_uid\":1001,"));
	assert_non_null(strstr(text, "\"file\":{\"path\":\"/etc/new\"}"));
	free(text);
}

/* Ingest hands the store the bytes it received: they are stored as they
 * are, not packed again (a 2-byte str in a str8 header shows which). */
static void test_raw_bytes(void **state)
{
	struct fx *f = *state;
	static const unsigned char raw[] = {
		0x84, 0xa9, 'c', 'l', 'a', 's', 's', '_', 'u', 'i', 'd', 0xcd, 0x03, 0xe9,
		0xa4, 't', 'i', 'm', 'e', 0x01,
		0xa6, 'd', 'e', 'v', 'i', 'c', 'e', 0x81, 0xa3, 'u', 'i', 'd', 0xd9, 0x02, 'h', '1',
		0xa4, 'f', 'i', 'l', 'e', 0x81, 0xa4, 'p', 'a', 't', 'h', 0xa2, '/', 'x',
	};
	struct st_err err = {{0}};
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;
	bool seen;
	char hex[2 * sizeof(raw) + 1], *v, *text;

	assert_true(msgpack_zone_init(&z, 1024));
	assert_int_equal(msgpack_unpack((const char *)raw, sizeof(raw), &off, &z, &o),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(st_chunk_begin(f->s, "h1", "raw", &seen, &err), 0);
	assert_int_equal(st_record_raw(f->s, "t", 0, &o, raw, sizeof(raw), &err), 0);
	assert_int_equal(st_chunk_commit(f->s, &err), 0);
	msgpack_zone_destroy(&z);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02X", raw[i]);
	v = stt_text(f->dir, "SELECT hex(record) FROM events");
	assert_string_equal(v, hex);
	free(v);
	assert_int_equal(stt_int(f->dir, "SELECT pid IS NULL AND path = '/x' FROM events"), 1);
	text = print_events_json(f->s);
	assert_non_null(strstr(text, "\"record\":{\"class_uid\":1001,\"time\":1,"
				     "\"device\":{\"uid\":\"h1\"},\"file\":{\"path\":\"/x\"}}"));
	free(text);
}

static void test_corrupt(void **state)
{
	struct fx *f = *state;
	struct st_err err = {{0}};
	struct st_query q = {.now = time(NULL)};
	char path[512], junk[8192];
	struct st *s2 = NULL;
	FILE *out;
	int fd, rc;

	/* Garbage from the first byte. */
	snprintf(path, sizeof(path), "%s/junk", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/junk/vigil.db", f->dir);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 >> 3);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	snprintf(path, sizeof(path), "%s/junk", f->dir);
	assert_int_equal(st_open(&s2, path, &err), -1);
	assert_non_null(strstr(err.msg, "vigil.db"));
	assert_non_null(strstr(err.msg, "not a database"));
	/* A real store whose pages after the first are overwritten: the schema
	 * reads, the tables do not. Errors, never a crash. */
	one(f, "h1", "1", stt_obj(&f->t, FILE_EV("h1", "/etc/passwd"), STT_T0));
	st_close(f->s);
	f->s = NULL;
	snprintf(path, sizeof(path), "%s/vigil.db", f->dir);
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	for (off_t at = 4096; at < 4096 * 40; at += sizeof(junk))
		assert_int_equal(pwrite(fd, junk, sizeof(junk), at), sizeof(junk));
	close(fd);
	rc = st_open(&s2, f->dir, &err);
	if (rc == 0) {
		out = fopen("/dev/null", "w");
		rc = st_print_events(s2, &q, out, &err);
		fclose(out);
		st_close(s2);
	}
	assert_int_equal(rc, -1);
	assert_true(strstr(err.msg, "malformed") || strstr(err.msg, "not a database"));
}

/* ---- kill -9 ----------------------------------------------------------------------------- */

#define CRASH_RECORDS 50

/* Commits chunks from `first` on, forever, reporting each id on fd once its
 * commit returned. A chunk already stored (committed, then killed before it
 * was reported) is seen: the retry a sensor would make. */
static void crash_child(const char *dir, uint32_t first, int fd)
{
	struct st_err err;
	struct st *s;
	struct stt t = {0};
	msgpack_object r[CRASH_RECORDS];
	char chunk[32];
	bool seen;

	if (st_open(&s, dir, &err))
		_exit(2);
	for (uint32_t c = first;; c++) {
		snprintf(chunk, sizeof(chunk), "h1.%u", c);
		for (int i = 0; i < CRASH_RECORDS; i++)
			r[i] = stt_obj(&t, "{\"class_uid\":1001,\"time\":%lld,\"device\":{\"uid\":"
					   "\"h1\"},\"file\":{\"path\":\"/f/%u/%d\"},\"unmapped\":{"
					   "\"t\":{\"chunk\":%u}}}", STT_T0 + c, c, i, c);
		if (stt_chunk(s, "h1", chunk, r, CRASH_RECORDS, &seen, &err))
			_exit(3);
		if (write(fd, &c, sizeof(c)) != sizeof(c))
			_exit(4);
		stt_free(&t);
	}
}

static void test_crash(void **state)
{
	struct fx *f = *state;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	uint32_t next = 0, c;
	int64_t reported = 0, kills = 0;

	st_close(f->s);			/* the children write; this process only reads */
	f->s = NULL;
	print_message("crash seed %u\n", seed);
	for (int round = 0; round < 10; round++) {
		int fds[2], status;
		pid_t pid;
		struct timespec ts = {0, (long)(rand_r(&seed) % 150 + 20) * 1000000L};

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			crash_child(f->dir, next, fds[1]);
		}
		close(fds[1]);
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		kills++;
		/* Ids come in order, each once. */
		while (read(fds[0], &c, sizeof(c)) == sizeof(c)) {
			assert_int_equal(c, next);
			next = c + 1;
			reported++;
		}
		close(fds[0]);
	}
	print_message("%lld kills, %lld chunks reported\n", (long long)kills,
		      (long long)reported);
	assert_true(reported > 0);
	/* Every id reported was committed before it was written: its chunk row
	 * and all its records are there. */
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM chunks WHERE"
				 " CAST(substr(chunk, 4) AS INTEGER) < %u", next), reported);
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM (SELECT json_extract(mpjson(record),"
				 " '$.unmapped.t.chunk') c FROM events WHERE c < %u GROUP BY c"
				 " HAVING count(*) = %d)", next, CRASH_RECORDS), reported);
	/* Whatever else was committed is whole, and nothing is there twice. */
	assert_int_equal(stt_int(f->dir, "SELECT count(*) FROM (SELECT json_extract(mpjson(record),"
				 " '$.unmapped.t.chunk') c, count(*) n FROM events GROUP BY c"
				 " HAVING n != %d)", CRASH_RECORDS), 0);
	assert_int_equal(count(f, "events"), count(f, "chunks") * CRASH_RECORDS);
	assert_int_equal(stt_int(f->dir, "SELECT count(DISTINCT path) FROM events"),
			 count(f, "events"));
	assert_true(count(f, "chunks") >= reported && count(f, "chunks") <= reported + 10);
	f->s = stt_open(f->dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chunk_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunk_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_required_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_liberal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reporting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
