/* fuzz_ocsf.c: the OCSF record builders on arbitrary strings, as a host
 * may hand them over in paths, command lines, evidence and package names.
 * The input is cut at NUL bytes into strings; the first byte picks the
 * counts. Beyond not crashing or leaking: every record packs, is exactly
 * one map that msgpack-c reads back whole, every str in it is valid UTF-8
 * of at most OCSF_STR_MAX bytes, and a Forward batch of them passes the
 * checks a receiver makes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "ocsf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSTR 24

static bool utf8_ok(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i], need, cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += need + 1;
	}
	return true;
}

static void strs_ok(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		if (o->via.str.size > OCSF_STR_MAX ||
		    !utf8_ok((const unsigned char *)o->via.str.ptr, o->via.str.size))
			__builtin_trap();
		break;
	case MSGPACK_OBJECT_ARRAY:
		if (o->via.array.size > OCSF_LIST_MAX)
			__builtin_trap();
		for (uint32_t i = 0; i < o->via.array.size; i++)
			strs_ok(&o->via.array.ptr[i]);
		break;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			strs_ok(&o->via.map.ptr[i].key);
			strs_ok(&o->via.map.ptr[i].val);
		}
		break;
	case MSGPACK_OBJECT_BIN:
	case MSGPACK_OBJECT_EXT:
		__builtin_trap();		/* records hold no bin or ext */
	default:
		break;
	}
}

/* One record packed into the batch, checked as msgpack-c reads it. */
static void check_last(struct fwd_batch *b, size_t mark)
{
	msgpack_unpacked u;
	size_t off = 0;
	const char *p = b->buf.data + mark;
	size_t n = b->buf.size - mark;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, p, n, &off) != MSGPACK_UNPACK_SUCCESS || off != n ||
	    u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != 2 ||
	    u.data.via.array.ptr[1].type != MSGPACK_OBJECT_MAP)
		__builtin_trap();
	strs_ok(&u.data.via.array.ptr[1]);
	msgpack_unpacked_destroy(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *s[NSTR], *p;
	size_t k = 0, mark;
	unsigned n0 = size ? data[0] : 0;
	struct fwd_batch b;
	msgpack_sbuffer out;
	struct fwd_err ferr;
	struct ocsf_err err;
	msgpack_packer *pk;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	/* after the first byte: strings, each ended by a NUL or the end */
	for (p = buf + (size ? 1 : 0); k < NSTR && p <= buf + size; p += strlen(p) + 1)
		s[k++] = p;
	while (k < NSTR)
		s[k++] = "";
	size_t idlen = strlen(s[0]);
	const struct ocsf_src src = {.host_uid = idlen && idlen <= 255 ? s[0] : "h",
				     .hostname = s[1],
				     .os_name = s[2], .os_version = s[3],
				     .product_version = s[4]};
	const struct ocsf_process parent = {.pid = 1, .name = s[5], .cmd_line = s[6],
					    .exe = s[7], .uid = 0, .user_name = s[8]};
	const struct ocsf_process proc = {.pid = 2, .tid = 3, .name = s[9], .cmd_line = s[10],
					  .exe = s[11], .uid = OCSF_NOID, .container_uid = s[12],
					  .parent = &parent};
	const struct ocsf_actor actor = {.process = &proc, .uid = 5, .user_name = s[13],
					 .has_cgroup = true, .cgroup_path = s[14]};
	const struct ocsf_fim_change changes[] = {{s[15], s[16], s[17]}, {s[18], NULL, s[19]}};
	const struct ocsf_fim_package pkg = {.name = s[20], .manager = s[21],
					     .digest_algorithm = s[22], .verified = -1};
	const struct ocsf_fim fim = {.change = s[23], .set = s[15], .changes = changes,
				     .nchanges = n0 & 1 ? 2 : 0, .verdict = s[16],
				     .reason = s[17], .found_by = s[18], .package = &pkg,
				     .others = &actor, .nothers = 1};
	const struct ocsf_file after = {.path = s[19], .type_id = 1, .has_stat = true,
					.selinux = s[20], .capability = s[21]};
	const struct ocsf_file_activity fa = {
		.h = {1, s[22]}, .activity_id = 3, .file = {.path = s[23]}, .file_result = &after,
		.actor = &actor, .event = s[1], .symlink_target = s[2], .xattr_name = s[3],
		.mode = 0644, .owner_uid = 1, .owner_gid = OCSF_NOID, .fim = &fim,
	};
	const struct ocsf_process_activity pa = {.h = {2, NULL}, .activity_id = 1,
						 .process = proc, .actor = &actor, .event = s[4],
						 .cwd = s[5], .auid = 1000};
	const char *ev[NSTR];
	struct ocsf_cis cis[NSTR];
	for (size_t i = 0; i < NSTR; i++) {
		ev[i] = s[i];
		cis[i] = (struct ocsf_cis){s[i], (int)i};
	}
	const struct ocsf_compliance ca = {
		.h = {3, NULL}, .finding_uid = s[6], .check_id = s[7], .title = s[8],
		.desc = s[9], .section = s[10], .rationale = s[11], .remediation = s[12],
		.status = (enum ocsf_check_status)(n0 % 5), .check_severity = (int)(n0 % 6),
		.severity_name = s[13], .baseline_id = s[14], .baseline_name = s[15],
		.baseline_version = s[16], .cis = cis, .ncis = n0 % NSTR, .nist = ev,
		.nnist = (n0 >> 3) % NSTR, .evidence = ev, .nevidence = NSTR,
	};
	const struct ocsf_detection da = {.h = {4, s[17]}, .finding_uid = s[18], .title = s[19],
					  .desc = s[20], .severity_id = 4, .source = &fa};
	const struct ocsf_counter ctr[] = {{s[1], 1}, {s[2], 2}};
	const struct ocsf_heartbeat hb = {.h = {5, NULL}, .mode = s[3][0] ? s[3] : "bpf",
					  .drops = ctr, .ndrops = 2, .fim = ctr, .nfim = 2};

	fwd_batch_init(&b);
	msgpack_sbuffer_init(&out);
	/* A host id too long for a certificate's CN is refused, nothing packed. */
	if (idlen > 255) {
		const struct ocsf_src bad = {.host_uid = s[0]};
		pk = fwd_batch_add(&b, 1);
		mark = b.buf.size;
		if (!pk || ocsf_pack_heartbeat(pk, &bad, &hb, &err) != -1 || b.buf.size != mark)
			__builtin_trap();
		fwd_batch_clear(&b);
	}
#define ONE(call)                                                              \
	do {                                                                   \
		mark = b.buf.size;                                             \
		if (!(pk = fwd_batch_add(&b, 1)) || (call))                    \
			__builtin_trap();                                      \
		check_last(&b, mark);                                          \
	} while (0)
	ONE(ocsf_pack_file_activity(pk, &src, &fa, &err));
	ONE(ocsf_pack_process_activity(pk, &src, &pa, &err));
	if (*ca.finding_uid && *ca.check_id && *ca.title && *ca.baseline_id &&
	    *ca.baseline_name && *ca.baseline_version)
		ONE(ocsf_pack_compliance(pk, &src, &ca, &err));
	if (*da.finding_uid && *da.title)
		ONE(ocsf_pack_detection(pk, &src, &da, &err));
	ONE(ocsf_pack_heartbeat(pk, &src, &hb, &err));
	if (fwd_encode_packed(&out, "vigil.fuzz", &b, NULL, &ferr))
		__builtin_trap();		/* a receiver would refuse the batch */
	msgpack_sbuffer_destroy(&out);
	fwd_batch_free(&b);
	free(buf);
	return 0;
}
