/* test_mpjson.c: msgpack objects as JSON text (proto/mpjson.h), checked byte
 * for byte, and against python3's json and msgpack modules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpjson.h"
#include "testutil.h"

/* The packed bytes of one value, unpacked; the JSON of it. */
struct one {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;
	struct mpj_buf b;
};

static msgpack_packer *one_start(struct one *o)
{
	memset(o, 0, sizeof(*o));
	msgpack_sbuffer_init(&o->sb);
	msgpack_packer_init(&o->pk, &o->sb, msgpack_sbuffer_write);
	msgpack_unpacked_init(&o->up);
	return &o->pk;
}

static int one_json(struct one *o, const struct mpj_opts *opts)
{
	size_t off = 0;

	assert_int_equal(msgpack_unpack_next(&o->up, o->sb.data, o->sb.size, &off),
			 MSGPACK_UNPACK_SUCCESS);
	return mpj_append(&o->b, &o->up.data, opts);
}

static void one_done(struct one *o)
{
	msgpack_sbuffer_destroy(&o->sb);
	msgpack_unpacked_destroy(&o->up);
	mpj_buf_free(&o->b);
}

static void pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

/* The JSON of a str holding s[0..n). */
static void expect_str(const char *s, size_t n, const char *want)
{
	struct one o;

	pack_str(one_start(&o), s, n);
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, want);
	one_done(&o);
}

static void test_scalars(void **state)
{
	struct one o;
	msgpack_packer *pk = one_start(&o);

	msgpack_pack_array(pk, 9);
	msgpack_pack_nil(pk);
	msgpack_pack_true(pk);
	msgpack_pack_false(pk);
	msgpack_pack_uint64(pk, UINT64_MAX);
	msgpack_pack_int64(pk, INT64_MIN);
	msgpack_pack_int64(pk, -1);
	msgpack_pack_uint8(pk, 0);
	msgpack_pack_map(pk, 0);
	msgpack_pack_array(pk, 0);
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, "[null,true,false,18446744073709551615,"
				   "-9223372036854775808,-1,0,{},[]]");
	one_done(&o);
}

static void expect_double(double v, const char *want)
{
	struct one o;

	msgpack_pack_double(one_start(&o), v);
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, want);
	if (isfinite(v))
		assert_true(strtod(o.b.p, NULL) == v);	/* reads back the same */
	one_done(&o);
}

static void test_floats(void **state)
{
	struct one o;

	expect_double(0.1, "0.1");
	expect_double(5.0, "5.0");			/* still a float to a reader */
	expect_double(-0.0, "-0.0");
	expect_double(1e300, "1e+300");
	expect_double(0.1 + 0.2, "0.30000000000000004");	/* 17 digits needed */
	expect_double(5e-324, "5e-324");
	expect_double(123.456, "123.456");
	expect_double(1e21, "1e+21");
	expect_double(NAN, "null");
	expect_double(INFINITY, "null");
	expect_double(-INFINITY, "null");
	/* A float32 prints as the float it is, not as its double. */
	msgpack_pack_float(one_start(&o), 0.1f);
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, "0.1");
	assert_true(strtof(o.b.p, NULL) == 0.1f);
	one_done(&o);
	msgpack_pack_float(one_start(&o), 16777217.0f);	/* 2^24 + 1 rounds to 2^24 */
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, "16777216.0");
	one_done(&o);
}

static void test_strings(void **state)
{
	expect_str("", 0, "\"\"");
	expect_str("plain ascii", 11, "\"plain ascii\"");
	expect_str("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
	expect_str("\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"");
	expect_str("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	expect_str("a\0b", 3, "\"a\\u0000b\"");
	/* Valid UTF-8 goes through, U+2028/2029 escaped for JavaScript. */
	expect_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		   "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	expect_str("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
	/* Each byte that starts no valid sequence is one U+FFFD. */
	expect_str("\xff", 1, "\"\xef\xbf\xbd\"");
	expect_str("a\x80z", 3, "\"a\xef\xbf\xbdz\"");
	expect_str("\xc0\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");		/* overlong NUL */
	expect_str("\xe0\x80\xaf", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_str("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");	/* surrogate */
	expect_str("\xf4\x90\x80\x80", 4,
		   "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");	/* > U+10FFFF */
	expect_str("\xe2\x82", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");		/* cut short */
	expect_str("x\xf0\x9f\x98", 4, "\"x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_bin_ext(void **state)
{
	static const char *const want[] = {"\"\"", "\"Zg==\"", "\"Zm8=\"", "\"Zm9v\"",
					   "\"Zm9vYg==\"", "\"Zm9vYmE=\"", "\"Zm9vYmFy\""};
	const unsigned char et[8] = {0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x2a};
	const unsigned char bad_ns[8] = {0, 0, 0, 1, 0x3b, 0x9a, 0xca, 0x00};	/* 10^9 ns */
	struct one o;

	for (size_t n = 0; n <= 6; n++) {	/* RFC 4648's test vectors */
		msgpack_pack_bin(one_start(&o), n);
		msgpack_pack_bin_body(&o.pk, "foobar", n);
		assert_int_equal(one_json(&o, NULL), MPJ_OK);
		assert_string_equal(o.b.p, want[n]);
		one_done(&o);
	}
	msgpack_pack_ext(one_start(&o), 8, 0);
	msgpack_pack_ext_body(&o.pk, et, 8);
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, "1700000000.000000042");
	one_done(&o);
	/* Not an EventTime (nanoseconds out of range, another type): tagged. */
	msgpack_pack_ext(one_start(&o), 8, 0);
	msgpack_pack_ext_body(&o.pk, bad_ns, 8);
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, "{\"ext\":0,\"base64\":\"AAAAATuaygA=\"}");
	one_done(&o);
	msgpack_pack_ext(one_start(&o), 3, -5);
	msgpack_pack_ext_body(&o.pk, "foo", 3);
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, "{\"ext\":-5,\"base64\":\"Zm9v\"}");
	one_done(&o);
}

static void test_keys(void **state)
{
	struct one o;
	msgpack_packer *pk = one_start(&o);

	msgpack_pack_map(pk, 8);
	pack_str(pk, "s", 1), msgpack_pack_int(pk, 1);
	msgpack_pack_int(pk, -7), msgpack_pack_int(pk, 2);
	msgpack_pack_true(pk), msgpack_pack_int(pk, 3);
	msgpack_pack_nil(pk), msgpack_pack_int(pk, 4);
	msgpack_pack_double(pk, 1.5), msgpack_pack_int(pk, 5);
	msgpack_pack_bin(pk, 3), msgpack_pack_bin_body(pk, "foo", 3), msgpack_pack_int(pk, 6);
	msgpack_pack_array(pk, 2), pack_str(pk, "a\"", 2), msgpack_pack_int(pk, 1);
	msgpack_pack_int(pk, 7);
	pack_str(pk, "s", 1), msgpack_pack_int(pk, 8);		/* duplicates stay */
	assert_int_equal(one_json(&o, NULL), MPJ_OK);
	assert_string_equal(o.b.p, "{\"s\":1,\"-7\":2,\"true\":3,\"null\":4,\"1.5\":5,"
				   "\"Zm9v\":6,\"[\\\"a\\\\\\\"\\\",1]\":7,\"s\":8}");
	one_done(&o);
}

static void pack_nested(msgpack_packer *pk, int depth)
{
	for (int i = 0; i < depth; i++) {
		if (i % 2) {
			msgpack_pack_array(pk, 1);
		} else {
			msgpack_pack_map(pk, 1);
			pack_str(pk, "k", 1);
		}
	}
	msgpack_pack_int(pk, 1);
}

static void test_depth(void **state)
{
	struct mpj_opts lim = {.depth_max = 3, .max_len = 1 << 20};
	struct one o;

	pack_nested(one_start(&o), 3);
	assert_int_equal(one_json(&o, &lim), MPJ_OK);
	assert_string_equal(o.b.p, "{\"k\":[{\"k\":1}]}");
	one_done(&o);
	/* One deeper: refused, and the buffer keeps what it had. */
	pack_nested(one_start(&o), 4);
	assert_int_equal(mpj_append_raw(&o.b, "kept", 4, 100), MPJ_OK);
	assert_int_equal(one_json(&o, &lim), MPJ_DEEP);
	assert_string_equal(o.b.p, "kept");
	assert_int_equal(o.b.len, 4);
	one_done(&o);
	/* A container as a map key counts as deeper too. */
	msgpack_pack_map(one_start(&o), 1);
	pack_nested(&o.pk, 3);
	msgpack_pack_int(&o.pk, 1);
	assert_int_equal(one_json(&o, &lim), MPJ_DEEP);
	assert_int_equal(o.b.len, 0);
	one_done(&o);
	/* The default stops runaway nesting far below any stack limit. msgpack-c
	 * unpacks at most 32 levels, so the object is built by hand. */
	{
		msgpack_object chain[MPJ_DEPTH_MAX + 2];
		struct mpj_buf b = {0};

		for (int i = 0; i <= MPJ_DEPTH_MAX; i++) {
			chain[i].type = MSGPACK_OBJECT_ARRAY;
			chain[i].via.array.size = 1;
			chain[i].via.array.ptr = &chain[i + 1];
		}
		chain[MPJ_DEPTH_MAX + 1].type = MSGPACK_OBJECT_NIL;
		assert_int_equal(mpj_append(&b, &chain[0], NULL), MPJ_DEEP);
		assert_int_equal(mpj_append(&b, &chain[1], NULL), MPJ_OK);
		assert_int_equal(b.len, 2 * MPJ_DEPTH_MAX + 4);
		mpj_buf_free(&b);
	}
	assert_string_equal(mpj_strerror(MPJ_DEEP), "nested too deeply");
}

static void test_size(void **state)
{
	struct mpj_opts lim = {.depth_max = 8, .max_len = 10};
	struct one o;

	pack_str(one_start(&o), "12345678", 8);		/* "12345678": 10 bytes */
	assert_int_equal(one_json(&o, &lim), MPJ_OK);
	assert_int_equal(o.b.len, 10);
	assert_int_equal(one_json(&o, &lim), MPJ_BIG);	/* the limit is the whole buffer's */
	assert_int_equal(o.b.len, 10);
	assert_string_equal(o.b.p, "\"12345678\"");
	one_done(&o);
	/* Escapes count as what they become. */
	pack_str(one_start(&o), "\x01\x01", 2);
	assert_int_equal(one_json(&o, &lim), MPJ_BIG);
	assert_true(o.b.len == 0);
	one_done(&o);
	msgpack_pack_bin(one_start(&o), 7);
	msgpack_pack_bin_body(&o.pk, "1234567", 7);	/* 12 base64 + 2 quotes */
	assert_int_equal(one_json(&o, &lim), MPJ_BIG);
	one_done(&o);
	/* A long string within the limit is not refused for its worst case. */
	lim.max_len = 1002;
	{
		char s[1000];

		memset(s, 'x', sizeof(s));
		pack_str(one_start(&o), s, sizeof(s));
		assert_int_equal(one_json(&o, &lim), MPJ_OK);
		assert_int_equal(o.b.len, 1002);
		one_done(&o);
	}
}

/* ---- against python3 ---------------------------------------------------------- */

static const char py_check[] =
	"import base64, decimal, json, math, struct, sys\n"
	"import msgpack\n"
	"mp = open(sys.argv[1], 'rb').read()\n"
	"got = json.loads(open(sys.argv[2], encoding='utf-8', errors='strict').read(),\n"
	"                 parse_float=decimal.Decimal, parse_constant=lambda c: 1 / 0)\n"
	"def ext(code, data):\n"
	"    if code == 0 and len(data) == 8 and int.from_bytes(data[4:], 'big') < 10**9:\n"
	"        return decimal.Decimal(int.from_bytes(data[:4], 'big')) + \\\n"
	"            decimal.Decimal(int.from_bytes(data[4:], 'big')).scaleb(-9)\n"
	"    return {'ext': code, 'base64': base64.b64encode(data).decode()}\n"
	"want = msgpack.unpackb(mp, raw=False, strict_map_key=False, ext_hook=ext,\n"
	"                       unicode_errors='replace')\n"
	"def norm(v):\n"
	"    if isinstance(v, bytes): return base64.b64encode(v).decode()\n"
	"    if isinstance(v, (list, tuple)): return [norm(x) for x in v]\n"
	"    if isinstance(v, dict):\n"
	"        return {(k if isinstance(k, str) else json.dumps(norm(k))): norm(x)\n"
	"                for k, x in v.items()}\n"
	"    if isinstance(v, float) and not math.isfinite(v): return None\n"
	"    return v\n"
	"def same(g, w, where):\n"
	"    if isinstance(w, float):\n"
	"        f = float(g)\n"
	"        f32 = struct.unpack('f', struct.pack('f', f))[0]\n"
	"        ok = isinstance(g, decimal.Decimal) and (f == w or f32 == w)\n"
	"    elif isinstance(w, list):\n"
	"        ok = isinstance(g, list) and len(g) == len(w)\n"
	"        ok = ok and all(same(a, b, where + [i]) for i, (a, b) in enumerate(zip(g, w)))\n"
	"    elif isinstance(w, dict):\n"
	"        ok = isinstance(g, dict) and g.keys() == w.keys()\n"
	"        ok = ok and all(same(g[k], w[k], where + [k]) for k in w)\n"
	"    else:\n"
	"        ok = type(g) == type(w) and g == w\n"
	"    if not ok: print('differs at', where, repr(g), repr(w))\n"
	"    return ok\n"
	"sys.exit(0 if same(got, norm(want), []) else 1)\n";

static void test_python(void **state)
{
	static const double dv[] = {0.1, 1.0 / 3, 1e-310, 123456789012345678.0, -2.5e-7,
				    1.7976931348623157e308, NAN};
	static const char *const strs[] = {"\"\\/\b\f\n\r\t", "\x01\x02\x1f\x7f", "\xff\xfe",
					   "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
					   "\xe2\x80\xa8 ok", "\xf0\x9f\x98\x80\xc3\xa9"};
	const unsigned char et[8] = {0xff, 0xff, 0xff, 0xff, 0x3b, 0x9a, 0xc9, 0xff};
	char dir[] = "/tmp/test_mpjson.XXXXXX", mp[64], js[64], py[64], cmd[256];
	struct one o;
	msgpack_packer *pk = one_start(&o);
	FILE *f;

	assert_non_null(mkdtemp(dir));
	msgpack_pack_map(pk, 9);
	pack_str(pk, "ints", 4);
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint64(pk, UINT64_MAX), msgpack_pack_int64(pk, INT64_MIN);
	msgpack_pack_int(pk, 0), msgpack_pack_int(pk, -32);
	pack_str(pk, "doubles", 7);
	msgpack_pack_array(pk, sizeof(dv) / sizeof(dv[0]));
	for (size_t i = 0; i < sizeof(dv) / sizeof(dv[0]); i++)
		msgpack_pack_double(pk, dv[i]);
	pack_str(pk, "floats", 6);
	msgpack_pack_array(pk, 3);
	msgpack_pack_float(pk, 0.1f), msgpack_pack_float(pk, 3.4028235e38f);
	msgpack_pack_float(pk, 1e-45f);
	pack_str(pk, "strings", 7);
	msgpack_pack_array(pk, sizeof(strs) / sizeof(strs[0]) + 1);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		pack_str(pk, strs[i], strlen(strs[i]));
	pack_str(pk, "nul\0inside", 10);
	pack_str(pk, "bin", 3);
	msgpack_pack_bin(pk, 5), msgpack_pack_bin_body(pk, "\0\xff\x10zz", 5);
	pack_str(pk, "time", 4);
	msgpack_pack_ext(pk, 8, 0), msgpack_pack_ext_body(pk, et, 8);
	pack_str(pk, "other ext", 9);
	msgpack_pack_ext(pk, 2, 7), msgpack_pack_ext_body(pk, "\x01\x02", 2);
	pack_str(pk, "keys", 4);
	msgpack_pack_map(pk, 4);
	msgpack_pack_int(pk, 42), msgpack_pack_true(pk);
	msgpack_pack_nil(pk), msgpack_pack_nil(pk);
	msgpack_pack_false(pk), msgpack_pack_int(pk, 1);
	pack_str(pk, "\xff", 1), msgpack_pack_int(pk, 2);
	pack_str(pk, "nested", 6);
	msgpack_pack_array(pk, 2);
	pack_nested(pk, 10);
	msgpack_pack_map(pk, 0);
	assert_int_equal(one_json(&o, NULL), MPJ_OK);

	snprintf(mp, sizeof(mp), "%s/in.mp", dir);
	snprintf(js, sizeof(js), "%s/out.json", dir);
	snprintf(py, sizeof(py), "%s/check.py", dir);
	assert_non_null(f = fopen(mp, "wb"));
	assert_int_equal(fwrite(o.sb.data, 1, o.sb.size, f), o.sb.size);
	fclose(f);
	assert_non_null(f = fopen(js, "wb"));
	assert_int_equal(fwrite(o.b.p, 1, o.b.len, f), o.b.len);
	fclose(f);
	assert_non_null(f = fopen(py, "w"));
	fputs(py_check, f);
	fclose(f);
	/* Debian's python3: python3-msgpack is installed for it (scripts/deps.sh). */
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s", py, mp, js);
	if (system(cmd) != 0)
		fail_msg("python3 disagrees with %s", o.b.p);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	one_done(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_bin_ext),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_python),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
