#!/usr/bin/python3
"""Writes the seed inputs of tests/fuzz/corpus/forward (Forward frames) and
tests/fuzz/corpus/handshake (HELO, PING, PONG, ack), with python3-msgpack
(scripts/deps.sh --test) and the standard library:

    /usr/bin/python3 tests/fuzz/mkcorpus-forward.py tests/fuzz/corpus

Every mode and spelling the decoder takes, and a few it must refuse (a
small zip bomb, deep nesting, lying counts), each small enough for the
fuzz loop's -max_len. The output is the same on every run.
"""
import gzip
import hashlib
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


def gz(data):
    return gzip.compress(data, mtime=0)     # mtime 0: the same bytes every run


REC = {"class_uid": 1001, "activity_id": 1, "file": {"path": "/etc/passwd", "size": 1234},
       "actor": {"process": {"pid": 42, "cmd_line": "vi /etc/passwd"}}, "raw": b"\x00\xff",
       "ok": True, "none": None, "ratio": 0.5, "neg": -7}
E1 = msgpack.packb([et(1700000000, 5), REC])
E2 = msgpack.packb([1441588984, {"message": "foo"}])

F = "forward"
write(F, "message-int.bin", msgpack.packb(["app.log", 1441588984, {"message": "bar"}]))
write(F, "message-eventtime.bin", msgpack.packb(["app.log", et(1700000000, 999999999), REC,
                                                 {"chunk": "p8n9gmxTQVC8/nh2wlKKeQ=="}]))
write(F, "message-ext8.bin", b"\x93\xa3app\xc7\x08\x00" + struct.pack(">II", 1, 2) + b"\x80")
write(F, "forward.bin", msgpack.packb(["vigil.t", [[et(1700000000, 5), {"k": "v"}],
                                                    [1441588984, REC]],
                                       {"chunk": "abc", "size": 2}]))
write(F, "packed-bin.bin", msgpack.packb(["vigil.events", E1 + E2, {"size": 2, "chunk": "c-1"}]))
write(F, "packed-str32.bin", b"\x93\xa6fluent\xdb" + struct.pack(">I", len(E1 + E2)) + E1 + E2 +
      msgpack.packb({"size": 2, "compressed": "text"}))
write(F, "compressed.bin", msgpack.packb(["vigil.events", gz(E1 + E2 + E1),
                                          {"size": 3, "chunk": "host-1.7", "compressed": "gzip"}]))
write(F, "compressed-2members.bin", msgpack.packb(["t", gz(E1) + gz(E2), {"compressed": "gzip"}]))
write(F, "heartbeat.bin", b"\xc0")
write(F, "two-frames.bin", msgpack.packb(["a", 1, {}]) + msgpack.packb(["b", [[2, {}]]]))
write(F, "bad-zip-bomb.bin", msgpack.packb(["t", gz(bytes(4 << 20)), {"compressed": "gzip"}]))
write(F, "bad-gzip-trailing.bin", msgpack.packb(["t", gz(E1) + b"junk", {"compressed": "gzip"}]))
write(F, "bad-deep.bin", b"\x91" * 100 + b"\xc0")
write(F, "bad-count.bin", b"\x92\xa1t\xdd\xff\xff\xff\xff\xc0")
write(F, "bad-str.bin", b"\x93\xa1t\x91\x92\x00\x81\xa1k\xdb\x00\x20\x00\x01")
write(F, "bad-option.bin", msgpack.packb(["t", b"", {"compressed": "zstd", "size": "x"}]))
write(F, "bad-time.bin", msgpack.packb(["t", [[et(1, 1000000000), {}], [-1, {}], [1.5, {}]]]))

H = "handshake"
nonce, salt, key = b"N" * 16, b"S" * 16, "shared"


def hexd(*parts):
    h = hashlib.sha512()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
    return h.hexdigest()


write(H, "helo.bin", msgpack.packb(["HELO", {"nonce": nonce, "auth": b"", "keepalive": True}]))
write(H, "helo-auth.bin", msgpack.packb(["HELO", {"nonce": "n" * 16, "auth": "a" * 16}]))
write(H, "ping.bin", msgpack.packb(["PING", "client.example", salt,
                                    hexd(salt, "client.example", nonce, key), "", ""]))
write(H, "ping-user.bin", msgpack.packb(["PING", "c", "s", hexd("s", "c", "n", key), "alice",
                                         hexd("a" * 16, "alice", "pw")]))
write(H, "pong.bin", msgpack.packb(["PONG", True, "", "server.example",
                                    hexd(salt, "server.example", nonce, key)]))
write(H, "pong-refused.bin", msgpack.packb(["PONG", False, "shared key mismatch", "s", ""]))
write(H, "ack.bin", msgpack.packb({"ack": "p8n9gmxTQVC8/nh2wlKKeQ=="}))
write(H, "bad-digest.bin", msgpack.packb(["PING", "c", "s", "DEADBEEF", "", ""]))
