#!/usr/bin/python3
"""Writes the seed inputs of tests/fuzz/corpus/enroll (enrollment requests),
tests/fuzz/corpus/ccfg (collector.yaml) and tests/fuzz/corpus/ingest
(Forward frames whose records test the device.uid rule), with python3-msgpack
(scripts/deps.sh --test) and the standard library:

    /usr/bin/python3 tests/fuzz/mkcorpus-enroll.py tests/fuzz/corpus

Requests the parser takes (str and bin CSR, extra keys, a trailing frame)
and ones it must refuse (missing fields, bad characters, nesting, a huge
count in few bytes, a Forward frame, JSON); configurations likewise. The
output is the same on every run.
"""
import gzip
import os
import shutil
import struct
import sys

import msgpack

out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
TOKEN = "0123456789abcdef." + "0123456789abcdef" * 4
CSR = ("-----BEGIN CERTIFICATE REQUEST-----\n"
       "MIHXMH4CAQAwHDEaMBgGA1UEAwwRd2hhdGV2ZXItaXQtYXNrczBZMBMGByqGSM49\n"
       "AgEGCCqGSM49AwEHA0IABM0=\n"
       "-----END CERTIFICATE REQUEST-----\n")


def write(sub, name, data):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
    with open(os.path.join(out, sub, name), "wb") as f:
        f.write(data)


def req(**fields):
    base = {"token": TOKEN, "csr": CSR, "hostname": "web-1.example.com",
            "machine_id": "4f1c2e9ab0d34c8e9f7a6b5c4d3e2f10"}
    base.update(fields)
    return msgpack.packb({"enroll": {k: v for k, v in base.items() if v is not None}},
                         use_bin_type=True)


write("enroll", "ok.bin", req())
write("enroll", "ok-pin.bin", req(token=TOKEN + "." + "ab" * 32))
write("enroll", "ok-csr-bin.bin", req(csr=CSR.encode()))
write("enroll", "ok-extra-key.bin", req(os="debian", version="0.1"))
write("enroll", "ok-trailing.bin", req() + msgpack.packb(["vigil", b"", {"chunk": "c"}]))
write("enroll", "bad-no-csr.bin", req(csr=None))
write("enroll", "bad-no-token.bin", req(token=None))
write("enroll", "bad-hostname.bin", req(hostname="web 1\n"))
write("enroll", "bad-machine-id.bin", req(machine_id="../etc"))
write("enroll", "bad-csr-nul.bin", req(csr="ab\0cd"))
write("enroll", "bad-token-type.bin", req(token=12345))
write("enroll", "bad-nested.bin", req(token=[[["x"]]]))
write("enroll", "bad-top-key.bin", msgpack.packb({"enroll": {}, "more": 1}))
write("enroll", "bad-dup-key.bin", b"\x82\xa6enroll\x80\xa6enroll\x80")
write("enroll", "bad-count.bin", b"\x81\xa6enroll\xdf\xff\xff\xff\xff")
write("enroll", "bad-big-str.bin", b"\x81\xa6enroll\x81\xa3csr\xdb\x00\x01\x00\x00AAAA")
write("enroll", "bad-forward.bin", msgpack.packb(["vigil.events", b"\x1f\x8b", {"chunk": "c"}]))
write("enroll", "bad-json.bin", b'{"enroll": {"token": "x"}}')
write("enroll", "bad-c1.bin", b"\xc1")
write("enroll", "cut.bin", req()[:57])

os.makedirs(os.path.join(out, "ccfg"), exist_ok=True)
shutil.copy(os.path.join(here, "..", "..", "packaging", "collector.yaml"),
            os.path.join(out, "ccfg", "packaged.yaml"))
write("ccfg", "empty.yaml", b"")
write("ccfg", "small.yaml", b"listen: 127.0.0.1:24224\nstate_dir: /tmp/c\nlog_level: debug\n")
write("ccfg", "list.yaml", b"listen:\n  - '[::1]:1'\n  - '*:2'\nserver_names: [a.example, 10.0.0.1]\n"
      b"limits: {frame_max: 1MiB, idle_timeout: 250ms, memory_max: 2GiB}\n")
write("ccfg", "bad-unknown.yaml", b"state_dir: /x\nlisen: 1\n")
write("ccfg", "bad-alias.yaml", b"state_dir: &a /x\nstore: *a\n")
write("ccfg", "bad-range.yaml", b"limits:\n  frame_max: 99GiB\n  handshake_timeout: 1ms\n")
write("ccfg", "bad-twice.yaml", b"cert_days: 1\ncert_days: 2\n")
write("ccfg", "bad-docs.yaml", b"cert_days: 1\n---\ncert_days: 2\n")
write("ccfg", "bad-nesting.yaml", b"limits: " + b"[" * 200)

HOST = "5d719581c38566f5e3cebf1b1a1b9cb0"


def frame(records, compressed=True):
    ent = b"".join(msgpack.packb([msgpack.ExtType(0, struct.pack(">II", 1700000000, 5)), r],
                                 use_bin_type=True) for r in records)
    if compressed:
        return msgpack.packb(["t", gzip.compress(ent, mtime=0), {"chunk": "c", "compressed": "gzip"}],
                             use_bin_type=True)
    return msgpack.packb(["t", ent, {"chunk": "c"}], use_bin_type=True)


ocsf = {"class_uid": 1001, "time": 1700000000000, "device": {"uid": HOST, "hostname": "h"}}
write("ingest", "ours.bin", frame([ocsf]))
write("ingest", "generic.bin", frame([{"message": "hi"}, {"device": {"hostname": "x"}}], False))
write("ingest", "other-host.bin", frame([dict(ocsf, device={"uid": "someone-else"})]))
write("ingest", "device-not-map.bin", frame([{"device": 5}], False))
write("ingest", "uid-not-str.bin", frame([{"device": {"uid": 7}}], False))
write("ingest", "dup-device.bin",
      msgpack.packb(["t", b"\x92\xd7\x00" + struct.pack(">II", 1, 0) +
                     b"\x82\xa6device\x80\xa6device\x80", {}], use_bin_type=True))
write("ingest", "message-mode.bin", msgpack.packb(["t", 1700000000, {"device": {}}],
                                                  use_bin_type=True))
write("ingest", "empty-keys.bin", frame([{"": 1, "device": {"": 2}}], False))
