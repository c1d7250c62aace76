#!/usr/bin/env python3
"""Writes the seed headers of tests/fuzz/corpus/rpmhdr: RPM header blobs as
rpmdb.sqlite stores them (be32 il, be32 dl, il 16-byte entries, the data),
laid out the way rpm lays them out.

corpus/rpmhdr/rpm-4.18-vtest.hdr is not written here: it is a real header,
the Packages blob of a noarch package built by rpmbuild 4.18 and installed
with `rpm --root` (a %config(noreplace) file, a binary, a %dir, a symlink, a
%ghost; SHA-256 digests).

    python3 tests/fuzz/mkcorpus-rpmhdr.py tests/fuzz/corpus/rpmhdr
"""
import hashlib
import os
import struct
import sys

INT32, STRING, STRING_ARRAY = 4, 6, 8
CHAR = 1
NAME, VERSION, FILESTATES, FILEDIGESTS, FILEFLAGS = 1000, 1001, 1029, 1035, 1037
DIRINDEXES, BASENAMES, DIRNAMES, FILEDIGESTALGO = 1116, 1117, 1118, 5011
CONFIG, GHOST = 1 << 0, 1 << 6


def header(tags):
    """tags: (tag, type, value) in order; INT32 data is 4-aligned as in rpm."""
    ent, data = b"", b""
    for tag, typ, val in tags:
        if typ == CHAR:
            blob, count = bytes(val), len(val)
        elif typ == INT32:
            data += b"\0" * (-len(data) % 4)
            blob, count = b"".join(struct.pack(">I", v) for v in val), len(val)
        elif typ == STRING:
            blob, count = val.encode() + b"\0", 1
        else:
            blob, count = b"".join(s.encode() + b"\0" for s in val), len(val)
        ent += struct.pack(">IIII", tag, typ, len(data), count)
        data += blob
    return struct.pack(">II", len(tags), len(data)) + ent + data


def package(name, dirs, files, algo, digest, states=None):
    """files: (dir index, basename, flags, content or None for no digest)."""
    tags = [(NAME, STRING, name), (VERSION, STRING, "1.0")]
    if digest:
        tags.append((FILEDIGESTS, STRING_ARRAY,
                     [digest(c).hexdigest() if c is not None else "" for _, _, _, c in files]))
    tags.append((FILEFLAGS, INT32, [f for _, _, f, _ in files]))
    tags.append((DIRINDEXES, INT32, [d for d, _, _, _ in files]))
    if algo is not None:
        tags.append((FILEDIGESTALGO, INT32, [algo]))
    tags.append((DIRNAMES, STRING_ARRAY, dirs))
    tags.append((BASENAMES, STRING_ARRAY, [b for _, b, _, _ in files]))
    if states:
        tags.append((FILESTATES, CHAR, states))
    return header(tags)


def main(out):
    seeds = {
        "sha256-config.hdr": package(
            "vim-enhanced", ["/usr/bin/", "/etc/"],
            [(0, "vim", 0, b"vim"), (1, "vimrc", CONFIG | 1 << 4, b"set nocp"),
             (0, "vimdiff", 0, b"vimdiff")], 8, hashlib.sha256, [0, 0, 4]),
        "md5-noalgo.hdr": package(
            "old-docs", ["/usr/share/doc/", "/usr/share/doc/old/"],
            [(1, "README", 0, b"readme"), (0, "old", 0, None), (1, "NEWS", 0, b"news")],
            None, hashlib.md5),
        "sha512-ghost.hdr": package(
            "logger", ["/var/log/", "/usr/sbin/"],
            [(1, "logger", 0, b"elf"), (0, "logger.log", GHOST, None)], 10, hashlib.sha512),
        "sha1-nodigests.hdr": package(
            "bare", ["/opt/bare/"], [(0, "a", 0, b"a"), (0, "b", CONFIG, b"b")], 2, None),
        "nofiles.hdr": header([(NAME, STRING, "gpg-pubkey"), (VERSION, STRING, "d4082792")]),
    }
    os.makedirs(out, exist_ok=True)
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "rpmhdr"))
