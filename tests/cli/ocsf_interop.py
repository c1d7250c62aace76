#!/usr/bin/python3
"""Sets vigil's OCSF records against an independent msgpack decoder
(python3-msgpack) and holds docs/records.md to them.

    ocsf_interop.py OCSFTOOL RECORDS_MD

1. Every record ocsftool writes decodes (strict UTF-8 for every str) and has
   class_uid, category_uid, activity_id, type_uid = class_uid*100 +
   activity_id, an int time in ms, severity_id, metadata (version 1.3.0,
   product vigil) and device (uid, os).
2. Each example of docs/records.md (a ```json block after
   <!-- example: NAME -->) is exactly what `ocsftool examples` packs for
   NAME, and every example is there.
3. The key tables of docs/records.md (after <!-- keys: NAME -->) are the
   records' keys: every key of a record has a row with its type; every row
   marked "always" is in every record, and `ocsftool minimal` has nothing
   else; every row is in `ocsftool all`.
4. `ocsftool frame` is one CompressedPackedForward frame holding the
   examples, with EventTime = each record's time.
5. Hostile strings come out as documented: U+FFFD for bytes that are not
   UTF-8, at most 16384 bytes ending in U+2026 when cut.
Prints one line per failed check and exits 1 if any failed.
"""
import gzip
import io
import json
import re
import struct
import subprocess
import sys

import msgpack

tool, docs_path = sys.argv[1], sys.argv[2]
failures = 0
STR_MAX = 16384


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what)
    return cond


def run(mode):
    p = subprocess.run([tool, mode], capture_output=True)
    check(p.returncode == 0, "ocsftool %s: exit %d: %s" % (mode, p.returncode, p.stderr.decode()))
    return p.stdout


def pairs(mode):
    """[(name, record)] of an ocsftool mode; every str must be UTF-8."""
    try:
        return [tuple(x) for x in msgpack.Unpacker(io.BytesIO(run(mode)), raw=False,
                                                   strict_map_key=True)]
    except (UnicodeDecodeError, ValueError) as e:
        check(False, "ocsftool %s: does not decode: %s" % (mode, e))
        return []


# ---- 1. what every record has ----------------------------------------------------

CLASSES = {0: 0, 1001: 1, 1007: 1, 2003: 2, 2004: 2, 5001: 5, 5002: 5}


def check_common(name, r):
    what = "%s: " % name
    if not check(isinstance(r, dict), what + "not a map"):
        return
    cls = r.get("class_uid")
    check(cls in CLASSES, what + "class_uid %r" % cls)
    check(r.get("category_uid") == CLASSES.get(cls), what + "category_uid %r" % r.get("category_uid"))
    act = r.get("activity_id")
    check(isinstance(act, int) and 0 <= act <= 99, what + "activity_id %r" % act)
    if isinstance(cls, int) and isinstance(act, int):
        check(r.get("type_uid") == cls * 100 + act, what + "type_uid %r" % r.get("type_uid"))
    t = r.get("time")
    check(isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 2**53,
          what + "time %r is not ms" % t)
    check(r.get("severity_id") in (0, 1, 2, 3, 4, 5, 6, 99), what + "severity_id")
    md = r.get("metadata", {})
    check(md.get("version") == "1.3.0", what + "metadata.version %r" % md.get("version"))
    prod = md.get("product", {})
    check(prod.get("name") == "vigil" and prod.get("vendor_name") == "vigil",
          what + "metadata.product %r" % prod)
    dev = r.get("device", {})
    check(isinstance(dev.get("uid"), str) and dev["uid"], what + "device.uid %r" % dev.get("uid"))
    check(dev.get("os", {}).get("type_id") == 200, what + "device.os.type_id")
    check(isinstance(dev.get("os", {}).get("name"), str), what + "device.os.name")


examples = pairs("examples")
allrecs = pairs("all")
minimal = pairs("minimal")
hostile = pairs("hostile")
check(len(examples) == 11, "examples: %d records, want 11" % len(examples))
check(len(allrecs) == 8 and len(minimal) == 8, "all/minimal: one record per kind")
for name, rec in examples + allrecs + minimal + hostile:
    check_common(name, rec)

# ---- 2. the examples of docs/records.md ------------------------------------------

docs = open(docs_path, encoding="utf-8").read()
doc_examples = {}
for m in re.finditer(r"<!-- example: ([\w-]+) -->\s*```json\n(.*?)```", docs, re.S):
    try:
        doc_examples[m.group(1)] = json.loads(m.group(2))
    except ValueError as e:
        check(False, "records.md: example %s is not JSON: %s" % (m.group(1), e))
for name, rec in examples:
    if check(name in doc_examples, "records.md: no example %s" % name):
        want = doc_examples.pop(name)
        if not check(want == rec, "records.md: example %s differs from the code" % name):
            print("  code packs: " + json.dumps(rec, ensure_ascii=False))
check(not doc_examples, "records.md: examples the code does not make: %s" % sorted(doc_examples))

# ---- 3. the key tables -----------------------------------------------------------

KIND = {1001: "1001", 1007: "1007", 2003: "2003", 2004: "2004", 5001: "5001", 5002: "5002"}


def kind_of(r):
    if r.get("class_uid") == 0:
        return r.get("unmapped", {}).get("vigil", {}).get("kind", "?")
    return KIND.get(r.get("class_uid"), "?")


tables = {}     # name -> {path: (types, always)}
for m in re.finditer(r"<!-- keys: ([\w-]+) -->\s*\n((?:\|.*\n)+)", docs):
    rows = {}
    for line in m.group(2).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3:
            check(False, "records.md: table %s: bad row %r" % (m.group(1), line))
            continue
        key = cells[0].strip("`")
        types = [t.strip().strip("`") for t in cells[1].split(" or ")]
        rows[key] = (types, cells[2].startswith("always"))
    tables[m.group(1)] = rows
for name in ("common", "file", "process", "actor", "1001", "1007", "2003", "2004", "5001",
             "5002", "heartbeat", "gap"):
    check(name in tables, "records.md: no key table %s" % name)

OBJECTS = ("file", "process", "actor")
seen = set()    # (table, path) of every row a record had


def tname(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if v is None:
        return "nil"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def fits(v, t):
    """Whether value v is of documented type t."""
    if t in OBJECTS or t == "map":
        return isinstance(v, dict)
    if t.startswith("map of "):
        return isinstance(v, dict) and all(fits(x, t[7:]) for x in v.values())
    if t.startswith("[") and t.endswith("]"):
        return isinstance(v, list) and all(fits(x, t[1:-1]) for x in v)
    return tname(v) == t


def validate(m, rows, table, prefix, where, only_always=False):
    """Checks map m against the rows of table below prefix."""
    mine = {}
    for k, v in rows.items():
        rest = k[len(prefix):]
        if k.startswith(prefix) and "." not in rest and "[]" not in rest:
            mine[rest] = v
    for key, val in m.items():
        path = prefix + key
        if not check(key in mine, "%s: key %s has no row in table %s" % (where, path, table)):
            continue
        types, always = mine[key]
        seen.add((table, path))
        check(not only_always or always,
              "%s: %s is there but not marked always (table %s)" % (where, path, table))
        t = next((t for t in types if fits(val, t)), None)
        if not check(t is not None, "%s: %s is %s, table %s says %s" %
                     (where, path, tname(val), table, " or ".join(types))):
            continue
        if t in OBJECTS:
            validate(val, tables.get(t, {}), t, "", where + ":" + path, only_always)
        elif t == "map":
            validate(val, rows, table, path + ".", where, only_always)
        elif t == "[map]":
            for item in val:
                validate(item, rows, table, path + "[].", where, only_always)
    for key, (types, always) in mine.items():
        if always:
            check(key in m, "%s: %s is marked always but missing (table %s)" %
                  (where, prefix + key, table))


def record_rows(r):
    kind = kind_of(r)
    rows = dict(tables.get("common", {}))
    rows.update(tables.get(kind, {}))
    return kind, rows


for mode, recs in (("examples", examples), ("all", allrecs), ("minimal", minimal),
                   ("hostile", hostile)):
    for name, rec in recs:
        kind, rows = record_rows(rec)
        check(kind in tables, "%s %s: kind %s has no table" % (mode, name, kind))
        validate(rec, rows, kind, "", "%s %s" % (mode, name), only_always=mode == "minimal")
        if mode == "all":
            check(name == kind, "all: %s packed a %s" % (name, kind))

# Every row is a key some record of `all` has (the common rows under their kind).
for table, rows in tables.items():
    for path in rows:
        hit = (table, path) in seen or (table == "common" and any(
            (k, path) in seen for k in tables))
        check(hit, "records.md: table %s row %s is in no record of `ocsftool all`" %
              (table, path))

# ---- 4. the examples in one Forward frame ----------------------------------------

frames = list(msgpack.Unpacker(io.BytesIO(run("frame")), raw=False))
if check(len(frames) == 1 and len(frames[0]) == 3, "frame: one [tag, entries, option]"):
    tag, blob, option = frames[0]
    check(tag == "vigil.events", "frame: tag %r" % tag)
    check(option == {"size": len(examples), "chunk": "h-5f2c9e1a-1-1", "compressed": "gzip"},
          "frame: option %r" % option)
    entries = list(msgpack.Unpacker(io.BytesIO(gzip.decompress(blob)), raw=False))
    check([e[1] for e in entries] == [r for _, r in examples], "frame: records differ")
    for t, rec in entries:
        sec, nsec = struct.unpack(">II", t.data) if isinstance(t, msgpack.ExtType) else (0, 0)
        check(isinstance(t, msgpack.ExtType) and t.code == 0 and
              sec * 1000 + nsec // 1000000 == rec["time"],
              "frame: EventTime %r is not the record's time %d" % (t, rec["time"]))

# ---- 5. hostile strings ------------------------------------------------------------

h = dict(hostile)
path = h.get("bad-utf8", {}).get("file", {}).get("path")
# One U+FFFD per byte that is not part of a valid sequence (a lone lead
# byte, a cut sequence, an encoded surrogate), as the JSON output does.
check(path == "/tmp/a\ufffd\ufffdb/\ufffd(x\ufffd\ufffd/\ufffd\ufffd\ufffd",
      "bad-utf8: path %r" % path)
check(h.get("bad-utf8", {}).get("file", {}).get("name") == "\ufffd\ufffd\ufffd",
      "bad-utf8: name")
cmd = h.get("long-cmdline", {}).get("process", {}).get("cmd_line", "")
check(len(cmd.encode()) <= STR_MAX and cmd.endswith("\u2026") and cmd.startswith("AAAA"),
      "long-cmdline: %d bytes, ends %r" % (len(cmd.encode()), cmd[-3:]))
check("\ufffd" not in cmd, "long-cmdline: cut inside a character")
ctl = h.get("control-chars", {}).get("file", {}).get("path")
check(ctl == "/tmp/new\nline\t\"q\"\\\x1b[31m", "control-chars: path %r" % ctl)

if failures:
    print("ocsf interop: %d failed" % failures)
    sys.exit(1)
print("ocsf interop: %d records checked" %
      (len(examples) + len(allrecs) + len(minimal) + len(hostile)))
