#!/usr/bin/python3
"""collector_enroll.py VIGIL_COLLECTOR TMPDIR: the happy path, end to end.

token create -> enrollment by a client that pins the CA from the token ->
certificate with CN = host id -> mutual TLS -> CompressedPackedForward
chunks acked after commit, stored once when resent -> a record speaking
for another host closes the connection and stores nothing -> frames
without a chunk are stored, not acked -> nil heartbeats -> records of a
generic client get device.uid and class_uid filled in -> clones flagged
-> SIGTERM stops it cleanly.
"""
import hashlib
import json
import os
import ssl
import sys

import msgpack

from collector_lib import (CLOSED, TIMEOUT, Checks, Collector, cert_info, compressed_frame,
                           enroll, entries, ocsf_record, send_chunk)

binary, tmp = sys.argv[1], sys.argv[2]
t = Checks("collector-enroll")
col = Collector(binary, tmp)
col.start()

# ---- the token ---------------------------------------------------------------
token = col.token(ttl="10m")
parts = token.split(".")
t.check(len(parts) == 3 and [len(p) for p in parts] == [16, 64, 64],
        "token is <16 hex>.<64 hex>.<64 hex pin>: %r" % token)
with open(os.path.join(col.state, "ca", "ca.crt")) as f:
    ca_der = ssl.PEM_cert_to_DER_cert(f.read())
t.check(parts[2] == hashlib.sha256(ca_der).hexdigest(),
        "the pin is the SHA-256 of the CA certificate's DER")
t.check(parts[1] not in col.log() and parts[1] not in open(os.path.join(col.state, "vigil.db"),
                                                          "rb").read().decode("latin-1"),
        "the secret is neither logged nor stored")

# ---- enrollment --------------------------------------------------------------
reply, host = enroll(col.port, token, os.path.join(tmp, "h1"), hostname="web-1",
                     machine_id="a" * 32)
t.check(host is not None, "enrollment succeeds: %r" % (reply,))
if host is None:
    col.stop()
    t.done()
cn, serial = cert_info(host.cert)
t.check(cn == host.id, "certificate CN %r is the host id %r" % (cn, host.id))
t.check(reply["ca"].strip() == open(host.ca).read().strip(), "the reply's CA is the pinned CA")
t.check(col.sql("SELECT hostname || ' ' || machine_id FROM hosts WHERE uid = '%s'" % host.id)
        == "web-1 " + "a" * 32, "the store has the host with its hostname and machine id")
t.check(col.sql("SELECT count(*) FROM certs WHERE serial = '%s'" % serial) == "1",
        "the store has the certificate's serial %s" % serial)
t.check(col.wait_log(r"enrolled host %s \(hostname web-1" % host.id) is not None,
        "enrollment is logged")

# ---- Forward over mutual TLS ---------------------------------------------------
c = host.connect(col.port)
t.check(send_chunk(c, host.id, "h1-1", n=3) == "h1-1", "chunk h1-1 is acked")
t.check(col.sql("SELECT count(*) FROM events") == "3", "3 records stored")
t.check(send_chunk(c, host.id, "h1-1", n=3) == "h1-1", "a resent chunk is acked again")
t.check(col.sql("SELECT count(*) FROM events") == "3", "a resent chunk is not stored twice")
t.check(col.sql("SELECT count(*) || ' ' || sum(records) FROM chunks WHERE chunk = 'h1-1'")
        == "1 3", "the chunk is recorded once, with 3 records")
q = col.run("events", "--state-dir", col.state, "--format", "json")
try:
    ev = json.loads(q.stdout)
except ValueError:
    ev = None
t.check(q.returncode == 0 and isinstance(ev, list) and len(ev) == 3 and
        all(host.id in json.dumps(e) for e in ev),
        "vigil-collector events --format json lists the 3 events of the host: %s %s"
        % (q.stdout[:300], q.stderr[:300]))

# A frame without a chunk is stored but not acked; a nil heartbeat is fine.
before = int(col.sql("SELECT count(*) FROM events"))
c.send(compressed_frame("vigil.events", [ocsf_record(host.id, 9)]))
c.send(msgpack.packb(None))
c.send(msgpack.packb(["vigil.events", entries([ocsf_record(host.id, 10)]), {"size": 1}],
                     use_bin_type=True))
t.check(send_chunk(c, host.id, "h1-2", n=2) == "h1-2",
        "after two chunkless frames and a heartbeat, the next reply is h1-2's ack")
t.check(int(col.sql("SELECT count(*) FROM events")) == before + 4,
        "chunkless frames are stored (2 records) along with h1-2 (2 records)")

# Records of a generic client: device.uid comes from the certificate.
generic = [{"message": "hello from a plain Forward client", "level": "info"},
           {"message": "second", "device": {"hostname": "x"}}]
t.check(send_chunk(c, host.id, "h1-3", records=generic) == "h1-3",
        "records without class_uid or device.uid are acked")
rows = [e for e in col.events()
        if e["record"].get("message") == "hello from a plain Forward client"]
t.check(len(rows) == 1 and rows[0]["class_uid"] == 0 and
        rows[0]["record"]["device"] == {"uid": host.id},
        "a generic record is kept as class 0 with device.uid = the host: %r" % rows[:1])

# A record that speaks for another host: refused, nothing of its chunk stored.
before = col.sql("SELECT count(*) FROM events")
since = col.log_size()
recs = [ocsf_record(host.id, 1), ocsf_record("someone-else", 2), ocsf_record(host.id, 3)]
r = send_chunk(c, host.id, "h1-4", records=recs)
t.check(r == CLOSED, "a record with another device.uid closes the connection (got %r)" % (r,))
t.check(col.sql("SELECT count(*) FROM events") == before, "none of that chunk is stored")
t.check(col.sql("SELECT count(*) FROM chunks WHERE chunk = 'h1-4'") == "0",
        "the refused chunk is not recorded")
t.check(col.wait_log(r"host %s: frame refused: chunk h1-4: entry 1: device.uid "
                     r"'someone-else' is not this connection's host" % host.id, 5, since),
        "the refusal is logged with the peer, host id and reason")
c.close()

# The collector goes on: a new connection of the same host is served.
c = host.connect(col.port)
t.check(send_chunk(c, host.id, "h1-5") == "h1-5", "the host reconnects and is acked")
c.close()

# ---- clones --------------------------------------------------------------------
token2 = col.token()
_, h2 = enroll(col.port, token2, os.path.join(tmp, "h2"), hostname="db-1")
t.check(h2 is not None and h2.id != host.id, "a second host gets its own id")
a = h2.connect(col.port, src="127.0.0.1")
b = h2.connect(col.port, src="127.0.0.2")
t.check(send_chunk(a, h2.id, "h2-a") == "h2-a" and send_chunk(b, h2.id, "h2-b") == "h2-b",
        "one certificate from two addresses: both are still served")
t.check(col.wait_log(r"host %s: possible clone: certificate %s in use from 127\.0\.0\.1 and "
                     r"127\.0\.0\.2" % (h2.id, cert_info(h2.cert)[1]), 5) is not None,
        "and flagged as a possible clone in the log")
t.check(col.sql("SELECT clone FROM hosts WHERE uid = '%s'" % h2.id) == "1",
        "and in the store")
a.close()
b.close()

token3 = col.token()
_, h3 = enroll(col.port, token3, os.path.join(tmp, "h3"), hostname="app-1")


def heartbeat(host_id, mid):
    return ocsf_record(host_id, cls=0, unmapped={"vigil": {"kind": "heartbeat", "version": "0.1",
                                                           "mode": "bpf", "interval_s": 60,
                                                           "machine_id": mid}})


a = h3.connect(col.port)
b = h3.connect(col.port)
t.check(send_chunk(a, h3.id, "h3-a", records=[heartbeat(h3.id, "1" * 32)]) == "h3-a" and
        send_chunk(b, h3.id, "h3-b", records=[heartbeat(h3.id, "2" * 32)]) == "h3-b",
        "one certificate announcing two machine ids: both served")
t.check(col.wait_log(r"host %s: possible clone: .*machine ids" % h3.id, 5) is not None,
        "and flagged as a possible clone")
t.check(col.sql("SELECT clone FROM hosts WHERE uid = '%s'" % host.id) == "0",
        "a host that did nothing of the sort is not flagged")
a.close()
b.close()

# ---- stop ----------------------------------------------------------------------
rc = col.stop()
t.check(rc == 0, "SIGTERM: exit 0 (got %r)" % (rc,))
t.check("stopped" in col.log(), "the log says it stopped")
errors = [l for l in col.log().splitlines() if l.startswith("vigil-collector: error:")]
t.check(not errors, "no error lines: %s" % errors[:3])
t.done()
