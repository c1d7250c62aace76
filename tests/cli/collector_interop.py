#!/usr/bin/python3
"""collector_interop.py VIGIL_COLLECTOR TMPDIR: a Forward client nobody here
wrote, @fluent-org/logger from npm, against the collector: TLS with the
enrolled host's certificate, requireAckResponse, in each of its four event
modes. Its records carry no OCSF fields: the collector takes them as
class 0 with device.uid from the certificate (docs/collector.md); a record
that claims another device.uid is refused and never acked.
Exits 77 (skipped) when npm cannot install the package (no registry).
"""
import json
import os
import subprocess
import sys

from collector_lib import Checks, Collector, enroll

binary, tmp = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
node_dir = os.path.join(tmp, "node")
os.makedirs(node_dir)
with open(os.path.join(node_dir, "package.json"), "w") as f:
    json.dump({"name": "collector-interop", "version": "1.0.0", "private": True}, f)
p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                    "@fluent-org/logger@1"], cwd=node_dir, capture_output=True, text=True,
                   timeout=300)
if p.returncode != 0:
    print("SKIP: npm install @fluent-org/logger failed: " + p.stderr[-500:])
    sys.exit(77)

t = Checks("collector-interop")
col = Collector(binary, tmp)
col.start()
_, host = enroll(col.port, col.token(), os.path.join(tmp, "host"))
t.check(host is not None, "the host enrolls")
env = dict(os.environ, NODE_PATH=os.path.join(node_dir, "node_modules"))
script = os.path.join(node_dir, "interop.js")
with open(os.path.join(here, "collector_interop.js")) as src, open(script, "w") as dst:
    dst.write(src.read())


def node(mode, n, uid=None):
    args = ["node", script, str(col.port), host.ca, host.cert, host.key, mode, str(n)]
    return subprocess.run(args + ([uid] if uid else []), cwd=node_dir, env=env,
                          capture_output=True, text=True, timeout=120)


total = 0
for mode, n in (("Message", 3), ("Forward", 4), ("PackedForward", 5),
                ("CompressedPackedForward", 6)):
    r = node(mode, n)
    t.check(r.returncode == 0 and ("acked %d" % n) in r.stdout,
            "%s: %d records acked (%s %s)" % (mode, n, r.stdout.strip(), r.stderr[-300:]))
    got = sum(1 for e in col.events()
              if ("hello from node %s " % mode) in json.dumps(e["record"]))
    t.check(got == n, "%s: %d records stored, got %s" % (mode, n, got))
    total += n
rows = col.sql("SELECT DISTINCT class_uid FROM events")
t.check(rows == "0", "generic records are class 0: %r" % rows)
uids = sum(1 for e in col.events() if e["record"]["device"]["uid"] == host.id)
t.check(uids == total, "every record got device.uid = the host id (%s of %d)"
        % (uids, total))
t.check(col.sql("SELECT count(*) FROM chunks") != "0", "the node client's chunks are recorded")

since = col.log_size()
r = node("CompressedPackedForward", 2, uid="another-host")
t.check(r.returncode != 0 and "acked" not in r.stdout,
        "records claiming another device.uid are not acked (%s)" % r.stdout.strip())
t.check(col.wait_log(r"host %s: frame refused: .*device.uid 'another-host'" % host.id, 5, since)
        is not None, "and the refusal is logged")
t.check(col.sql("SELECT count(*) FROM events") == str(total), "and nothing of them is stored")
t.check(col.stop() == 0, "SIGTERM: exit 0")
t.done()
