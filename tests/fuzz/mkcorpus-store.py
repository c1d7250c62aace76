#!/usr/bin/python3
"""Writes the seed inputs of tests/fuzz/corpus/mpjson (any msgpack value)
and tests/fuzz/corpus/store (a commit/abort byte, then an array of records
for host "h1"), with python3-msgpack (scripts/deps.sh --test):

    /usr/bin/python3 tests/fuzz/mkcorpus-store.py tests/fuzz/corpus

Records follow the shapes the sensor packs (docs/records.md): every class
the store files, the ones it must refuse, and hostile strings and nesting.
The output is the same on every run.
"""
import os
import struct
import sys

import msgpack

out = sys.argv[1]


def write(sub, name, data):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
    with open(os.path.join(out, sub, name), "wb") as f:
        f.write(data)


def et(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


T = 1700000000000
DEV = {"uid": "h1", "hostname": "web1", "os": {"name": "Debian GNU/Linux", "version": "12"}}
META = {"version": "1.1.0", "product": {"name": "vigil", "version": "0.1.0"}}


def rec(cls, act, extra):
    r = {"class_uid": cls, "activity_id": act, "type_uid": cls * 100 + act, "time": T,
         "severity_id": 1, "metadata": META, "device": DEV}
    r.update(extra)
    return r


CHECK = rec(2003, 1, {"finding_info": {"uid": "cis-1.1.1", "title": "cramfs disabled"},
                      "compliance": {"status": "Fail", "status_id": 3, "control": "1.1.1",
                                     "standards": ["CIS Debian 12"]},
                      "unmapped": {"vigil": {"baseline": {"id": "cis-debian12",
                                                          "version": "1"}}}})
SCORE = rec(5002, 1, {"unmapped": {"vigil": {
    "baseline": {"id": "cis-debian12", "name": "CIS Debian 12", "version": "1"},
    "summary": {"passed": 70, "failed": 10, "not_applicable": 3, "errors": 0, "skipped": 1,
                "score": 87.5}}}})
INV = rec(5001, 2, {"device": dict(DEV, type_id=1)})
FILE = rec(1001, 3, {"file": {"path": "/etc/passwd"},
                     "actor": {"process": {"pid": 42, "file": {"path": "/usr/bin/vi"},
                                           "user": {"uid": "0"}}},
                     "unmapped": {"fim": {"verdict": "tampering"}}})
PROC = rec(1007, 1, {"process": {"pid": 4242, "file": {"path": "/usr/bin/curl"},
                                 "cmd_line": "curl http://x", "user": {"uid": 1000},
                                 "parent_process": {"pid": 1}}})
DET = rec(2004, 1, {"finding_info": {"uid": "det-1", "title": "shell from web server"}})
HB = rec(0, 0, {"unmapped": {"vigil": {"kind": "heartbeat", "version": "0.1.0", "mode": "bpf",
                                       "interval_s": 60}}})
GAP = rec(0, 0, {"unmapped": {"vigil": {"kind": "gap", "records": 10, "batches": 1,
                                        "first_seq": 5, "last_seq": 6, "since": T - 1000,
                                        "until": T}}})
ALL = [CHECK, SCORE, INV, FILE, PROC, DET, HB, GAP]

S = "store"
write(S, "all-commit.bin", b"\x01" + msgpack.packb(ALL))
write(S, "all-abort.bin", b"\x00" + msgpack.packb(ALL))
write(S, "check-pass.bin", b"\x01" + msgpack.packb(
    [CHECK, dict(CHECK, time=T + 1, compliance={"status": "Pass", "status_id": 1})]))
write(S, "unknown-class.bin", b"\x01" + msgpack.packb(rec(4001, 1, {"src": {"ip": "::1"}})))
write(S, "other-host.bin", b"\x01" + msgpack.packb([FILE, dict(FILE, device={"uid": "h2"})]))
write(S, "no-time.bin", b"\x01" + msgpack.packb(
    [{k: v for k, v in FILE.items() if k != "time"}]))
write(S, "str-class.bin", b"\x01" + msgpack.packb([dict(FILE, class_uid="1001")]))
write(S, "bad-types.bin", b"\x01" + msgpack.packb(
    [dict(PROC, process={"pid": "x", "file": ["p"], "cmd_line": b"\xff\x00"}),
     dict(SCORE, unmapped={"vigil": {"baseline": {"id": 5}, "summary": {"score": "high"}}}),
     dict(HB, unmapped={"vigil": {"kind": "heartbeat", "interval_s": -1, "mode": 7}})]))
write(S, "long-key.bin", b"\x01" + msgpack.packb(
    [dict(CHECK, finding_info={"uid": "c" * 300})]))
write(S, "bad-utf8.bin", b"\x01" + msgpack.packb(
    [dict(FILE, file={"path": b"/tmp/\xff\xfe\x00x".decode("latin-1")})], use_bin_type=True)
    .replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe\xed\xa0"))
deep = 1
for i in range(31):
    deep = [deep]
write(S, "deep.bin", b"\x01" + msgpack.packb([dict(FILE, extra=deep)]))
write(S, "time-ext.bin", b"\x01" + msgpack.packb([dict(FILE, time=et(1700000000, 1))]))

M = "mpjson"
write(M, "records.bin", msgpack.packb(ALL))
write(M, "scalars.bin", msgpack.packb([None, True, False, 0, -1, 2**64 - 1, -2**63, 0.1,
                                       float("nan"), float("inf"), "", b"", b"\x00\xff"]))
write(M, "float32.bin", b"\x92\xca" + struct.pack(">f", 0.1) + b"\xca" + struct.pack(">f", 1e-45))
write(M, "strings.bin", b"\x94" + msgpack.packb("\"\\\n\t\x01\x7f\u2028\u2029")
      + msgpack.packb("caf\u00e9 \U0001f600") + b"\xa4\xc0\x80\xed\xa0" + b"\xa3\xf4\x90\x80")
write(M, "keys.bin", msgpack.packb({1: 1, None: 2, True: 3, 1.5: 4, b"k": 5, (1, "a"): 6,
                                    "k": 7}, use_bin_type=True, strict_types=False))
write(M, "ext.bin", msgpack.packb([et(1700000000, 42), et(1, 10**9),
                                   msgpack.ExtType(5, b"abc")]))
write(M, "deep.bin", msgpack.packb(deep))
