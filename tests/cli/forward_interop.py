#!/usr/bin/python3
"""Sets vigil's Forward codec against an independent implementation:
python3-msgpack, gzip and hashlib from Python's standard library.

    forward_interop.py FWDTOOL TMPDIR

1. fwdtool encodes a CompressedPackedForward (and a PackedForward) frame;
   Python unpacks it, gunzips the entries and checks tag, option, EventTime
   (ExtType 0: be32 seconds, be32 nanoseconds) and every record field.
2. Python writes frames in all four modes, in the spellings other senders
   use (Fluentd's str32 entries, ext8 EventTime, several gzip members, the
   nil heartbeat) into one stream; fwdtool decodes it and echoes what it
   took, which must be what Python meant.
3. The handshake both ways: Python as client of fwdtool's HELO/PONG, and as
   server to fwdtool's PING, with digests from hashlib.
Prints one line per failed check and exits 1 if any failed.
"""
import gzip
import hashlib
import io
import os
import struct
import subprocess
import sys

import msgpack

tool, tmp = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what)


def run(*args, ok=True):
    p = subprocess.run([tool] + list(args), capture_output=True)
    check((p.returncode == 0) == ok,
          "fwdtool %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()))
    return p


def path(name):
    return os.path.join(tmp, name)


def unpack_all(data):
    return list(msgpack.Unpacker(io.BytesIO(data), raw=False))


def event_time(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))


# ---- 1. vigil encodes, Python decodes -------------------------------------

def want_record(i):
    return {"class_uid": 1001, "seq": i, "msg": "h\u00e9llo", "nested": {"a": [-1, True, None]},
            "bin": b"\x00\x01\x02\xff", "f": 1.5, "big": 2**64 - 1}


def check_vigil_frame(kind):
    out = path(kind + ".bin")
    run("encode", kind, out)
    frames = unpack_all(open(out, "rb").read())
    check(len(frames) == 1, "%s: one frame, got %d" % (kind, len(frames)))
    tag, blob, option = frames[0]
    check(tag == "vigil.interop", "%s: tag %r" % (kind, tag))
    check(isinstance(blob, bytes), "%s: entries are bin" % kind)
    want_opt = {"size": 3, "chunk": "chunk-0001"}
    if kind == "compressed":
        want_opt["compressed"] = "gzip"
        blob = gzip.decompress(blob)
    check(option == want_opt, "%s: option %r" % (kind, option))
    entries = unpack_all(blob)
    check(len(entries) == 3, "%s: 3 entries, got %d" % (kind, len(entries)))
    for i, (t, rec) in enumerate(entries):
        check(t == event_time(1700000000 + i, 123456789 + i), "%s: entry %d time %r" % (kind, i, t))
        check(rec == want_record(i), "%s: entry %d record %r" % (kind, i, rec))


check_vigil_frame("compressed")
check_vigil_frame("packed")

# ---- 2. Python encodes every mode, vigil decodes ----------------------------

R1 = {"message": "foo", "n": -5, "f": 0.25, "ok": False, "none": None,
      "list": [1, "two", {"three": 3}], "raw": b"\xde\xad"}
R2 = {"message": "bar", "unicode": "\u65e5\u672c", "big": 2**63}
T1 = 1441588984                      # integer seconds
T2 = (1700000000, 999999999)         # EventTime


def entry(t, rec):
    return msgpack.packb([event_time(*t) if isinstance(t, tuple) else t, rec])


def ns(t):
    return t[0] * 10**9 + t[1] if isinstance(t, tuple) else t * 10**9


stream, want = b"", []


def frame(data, mode, tag, chunk, size, entries):
    global stream
    stream += data
    want.append([mode, tag, chunk, size, [[ns(t), r] for t, r in entries]])


frame(msgpack.packb(["app.msg", T1, R1]), "Message", "app.msg", "", None, [(T1, R1)])
frame(msgpack.packb(["app.msg", event_time(*T2), R2, {"chunk": "m-1"}]),
      "Message", "app.msg", "m-1", None, [(T2, R2)])
# EventTime as ext8 (c7 08 00) rather than fixext8
frame(b"\x93" + msgpack.packb("app.ext8") + b"\xc7\x08\x00" + struct.pack(">II", *T2) +
      msgpack.packb(R1), "Message", "app.ext8", "", None, [(T2, R1)])
frame(msgpack.packb(["app.fwd", [[T1, R1], [event_time(*T2), R2]], {"chunk": "f-1", "size": 2}]),
      "Forward", "app.fwd", "f-1", 2, [(T1, R1), (T2, R2)])
packed = entry(T1, R1) + entry(T2, R2)
frame(msgpack.packb(["app.packed", packed, {"size": 2}]),
      "PackedForward", "app.packed", "", 2, [(T1, R1), (T2, R2)])
# Fluentd's out_forward: entries as a str32, "compressed": "text"
frame(b"\x93" + msgpack.packb("app.fluentd") + b"\xdb" + struct.pack(">I", len(packed)) + packed +
      msgpack.packb({"size": 2, "compressed": "text"}),
      "PackedForward", "app.fluentd", "", 2, [(T1, R1), (T2, R2)])
# two gzip members end to end, as the spec allows
gz = gzip.compress(entry(T2, R2)) + gzip.compress(entry(T1, R1) + entry(T2, R1))
frame(msgpack.packb(["app.gz", gz, {"compressed": "gzip", "chunk": "g-1", "size": 3}]),
      "CompressedPackedForward", "app.gz", "g-1", 3, [(T2, R2), (T1, R1), (T2, R1)])
frame(msgpack.packb(None), "heartbeat", "", "", None, [])

open(path("stream.bin"), "wb").write(stream)
p = run("decode", path("stream.bin"))
got = unpack_all(p.stdout) if p.returncode == 0 else []
check(len(got) == len(want), "decode: %d frames, want %d" % (len(got), len(want)))
for i, (g, w) in enumerate(zip(got, want)):
    check(g == w, "frame %d (%s): got %r, want %r" % (i, w[0], g, w))

# a stream that stops inside a frame, and one that is not Forward at all
open(path("cut.bin"), "wb").write(stream[:-3])
p = run("decode", path("cut.bin"), ok=False)
check(b"ends inside a frame" in p.stderr, "cut stream: %r" % p.stderr)
open(path("junk.bin"), "wb").write(msgpack.packb({"not": "a frame"}))
p = run("decode", path("junk.bin"), ok=False)
check(b"want array, got map" in p.stderr, "junk stream: %r" % p.stderr)

# ---- 3. the handshake -------------------------------------------------------


def hexdigest(*parts):
    h = hashlib.sha512()
    for x in parts:
        h.update(x if isinstance(x, bytes) else x.encode())
    return h.hexdigest()


KEY = "interop-shared-key"
# Python as the client of vigil's server
run("helo", path("helo.bin"))
kind, opts = unpack_all(open(path("helo.bin"), "rb").read())[0]
check(kind == "HELO" and len(opts["nonce"]) == 16 and opts["auth"] == b"" and
      opts["keepalive"] is True, "HELO %r" % opts)
nonce, salt = opts["nonce"], os.urandom(16)
for key, ok in ((KEY, True), ("wrong key", False)):
    ping = ["PING", "py-client.example", salt, hexdigest(salt, "py-client.example", nonce, key), "", ""]
    open(path("ping.bin"), "wb").write(msgpack.packb(ping))
    run("pong", path("helo.bin"), path("ping.bin"), KEY, "collector.example", path("pong.bin"), ok=ok)
    pong = unpack_all(open(path("pong.bin"), "rb").read())[0]
    if ok:
        check(pong == ["PONG", True, "", "collector.example",
                       hexdigest(salt, "collector.example", nonce, KEY)], "PONG %r" % pong)
    else:
        check(pong == ["PONG", False, "shared key mismatch", "collector.example", ""],
              "refusing PONG %r" % pong)

# Python as the server of vigil's client
nonce = os.urandom(16)
open(path("helo2.bin"), "wb").write(msgpack.packb(["HELO", {"nonce": nonce, "auth": "", "keepalive": True}]))
run("ping", path("helo2.bin"), "vigil-sensor.example", KEY, path("ping2.bin"))
kind, host, salt, digest, user, password = unpack_all(open(path("ping2.bin"), "rb").read())[0]
check(kind == "PING" and host == "vigil-sensor.example" and user == "" and password == "",
      "PING %r" % [kind, host, user, password])
check(digest == hexdigest(salt, host, nonce, KEY), "PING digest is not the spec's")
for key, ok in ((KEY, True), ("wrong key", False)):
    pong = ["PONG", True, "", "py-server.example", hexdigest(salt, "py-server.example", nonce, key)]
    open(path("pong2.bin"), "wb").write(msgpack.packb(pong))
    run("pong-check", path("helo2.bin"), path("ping2.bin"), path("pong2.bin"), KEY, ok=ok)

print("forward interop: %s" % ("ok" if failures == 0 else "%d failures" % failures))
sys.exit(1 if failures else 0)
