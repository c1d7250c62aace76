#!/usr/bin/python3
"""collector_hostile.py VIGIL_COLLECTOR TMPDIR: every refusal, each with its
log line, while a bystander connection keeps getting acks.

Tokens (used up, expired, wrong secret, unknown, malformed; a broken CSR
does not spend the token), enrollment requests (oversized, wrong shape,
missing fields), TLS (Forward without a client certificate, a certificate
from another CA, a revoked one, a client that never finishes the
handshake), frames (oversized, zip bomb, deep nesting, a huge count in few
bytes, non-msgpack bytes), timeouts (a frame never finished), a client
that never reads its acks, and limits.max_connections.
"""
import gzip
import os
import socket
import subprocess
import sys
import time

import msgpack

from collector_lib import (CLOSED, TIMEOUT, Checks, Collector, Conn, cert_info, client_ctx,
                           compressed_frame, enroll, enroll_request, make_key_csr,
                           ocsf_record, send_chunk)

binary, tmp = sys.argv[1], sys.argv[2]
t = Checks("collector-hostile")
LIMITS = """limits:
  frame_max: 256KiB
  inflate_max: 1MiB
  write_max: 4KiB
  frame_timeout: 2s
  handshake_timeout: 2s
"""
col = Collector(binary, tmp, config=LIMITS)
col.start()
seq = [0]


def refused_reply(reply, words, what):
    ok = isinstance(reply, dict) and reply.get("ok") is False and words in reply.get("error", "")
    return t.check(ok, "%s: refused with '%s' (got %r)" % (what, words, reply))


def logged(pattern, since, what, timeout=5):
    return t.check(col.wait_log(pattern, timeout, since) is not None,
                   "%s: log line /%s/; log since: %s" % (what, pattern, col.log(since)[-600:]))


# ---- tokens ----------------------------------------------------------------------
tok = col.token(ttl="10m", uses=1)
tid, secret, pin = tok.split(".")
work = os.path.join(tmp, "tok")
os.makedirs(work)
key, csr = make_key_csr(work)
csr_pem = open(csr).read()
ca = os.path.join(work, "ca.pem")
with open(ca, "w") as f:
    f.write(open(os.path.join(col.state, "ca", "ca.crt")).read())


def enroll_raw(payload, timeout=10):
    c = Conn(col.port, client_ctx(ca))
    c.send(payload)
    r = c.recv(timeout)
    c.close()
    return r


since = col.log_size()
r = enroll_raw(enroll_request(tid + "." + secret, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                              "-----END CERTIFICATE REQUEST-----\n"))
refused_reply(r, "csr", "a CSR that does not parse")
logged(r"enrollment of hostname test-host refused: csr", since, "broken CSR")
r = enroll_raw(enroll_request(tid + "." + "0" * 64, csr_pem))
refused_reply(r, "wrong secret", "the wrong secret")
r = enroll_raw(enroll_request("0" * 16 + "." + secret, csr_pem))
refused_reply(r, "unknown", "an unknown token id")
r = enroll_raw(enroll_request("abc.def", csr_pem))
refused_reply(r, "not a token", "a malformed token")
r = enroll_raw(enroll_request(tok, csr_pem))
t.check(isinstance(r, dict) and r.get("ok") is True,
        "after all that the token is still good, and the full printed form is taken: %r" % (r,))
since = col.log_size()
r = enroll_raw(enroll_request(tid + "." + secret, csr_pem))
refused_reply(r, "used up", "a token used a second time")
logged(r"token refused: token %s is used up" % tid, since, "reused token")
t.check(secret not in col.log(), "the token secret is never logged")

short = col.token(ttl="1s")
time.sleep(2.2)
s_id, s_secret, _ = short.split(".")
r = enroll_raw(enroll_request(s_id + "." + s_secret, csr_pem))
refused_reply(r, "expired", "an expired token")

# ---- enrollment requests ----------------------------------------------------------
good = col.token(uses=5)
g_id, g_secret, _ = good.split(".")
r = enroll_raw(msgpack.packb({"enroll": {"token": g_id + "." + g_secret, "csr": "x" * 40000,
                                         "hostname": "h", "machine_id": "m"}}))
refused_reply(r, "limit", "a 40 kB request")
r = enroll_raw(msgpack.packb({"enroll": {"token": g_id + "." + g_secret, "hostname": "h",
                                         "machine_id": "m"}}))
refused_reply(r, "enroll.csr is missing", "a request without csr")
r = enroll_raw(msgpack.packb({"enroll": {"token": g_id + "." + g_secret, "csr": csr_pem,
                                         "hostname": "bad host\n", "machine_id": "m"}}))
refused_reply(r, "enroll.hostname", "a hostname with a space and a newline")
r = enroll_raw(msgpack.packb({"enroll": {"token": [1, [2, [3]]]}}))
refused_reply(r, "nesting", "nesting in a request")
since = col.log_size()
c = Conn(col.port, client_ctx(ca))
c.send(b'{"enroll": 1}')                 # JSON is not msgpack: '{' is the int 123
r = c.recv()
refused_reply(r, "not an enrollment request", "JSON instead of msgpack")
c.close()

# The request's clock starts at the handshake: a byte sent late does not restart it.
since = col.log_size()
c = Conn(col.port, client_ctx(ca))
t0 = time.time()
time.sleep(1.8)
c.send(b"\x81")
r = c.recv(15)
took = time.time() - t0
c.close()
t.check(r == CLOSED and 1.5 < took < 3.3,
        "an enrollment request not whole 2 s after the handshake is closed then, "
        "a late first byte notwithstanding (%.1f s, %r)" % (took, r))
logged(r"enrollment request not whole in 2000 ms", since, "slow enrollment")

# ---- the enrolled host and a bystander --------------------------------------------
_, host = enroll(col.port, col.token(), os.path.join(tmp, "host"))
_, other = enroll(col.port, col.token(), os.path.join(tmp, "bystander"))
t.check(host is not None and other is not None, "two hosts enroll")
by = other.connect(col.port)


def bystander_ok(what):
    seq[0] += 1
    chunk = "by-%d" % seq[0]
    return t.check(send_chunk(by, other.id, chunk) == chunk,
                   "after %s, the bystander still gets acks" % what)


bystander_ok("the enrollment refusals")

# ---- TLS --------------------------------------------------------------------------
since = col.log_size()
c = Conn(col.port, client_ctx(host.ca))      # no client certificate
c.send(compressed_frame("vigil.events", [ocsf_record(host.id)], "nocert-1"))
r = c.recv()
t.check(r != {"ack": "nocert-1"} and (r == CLOSED or
                                     (isinstance(r, dict) and r.get("ok") is False)),
        "Forward without a client certificate is not acked (got %r)" % (r,))
c.close()
logged(r"enrollment refused: not an enrollment request: a msgpack array", since,
       "Forward without a certificate")
t.check(col.sql("SELECT count(*) FROM chunks WHERE chunk = 'nocert-1'") == "0",
        "and nothing of it is stored")

evil = os.path.join(tmp, "evil")
os.makedirs(evil)
run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=evil)
run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=evil CA", "-days", "2",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign")
ekey, ecsr = make_key_csr(evil, cn=host.id)
with open(os.path.join(evil, "ext"), "w") as f:
    f.write("extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
run("openssl", "x509", "-req", "-in", ecsr, "-CA", "ca.crt", "-CAkey", "ca.key",
    "-CAcreateserial", "-out", "cert.pem", "-days", "1", "-extfile", "ext")
since = col.log_size()
try:
    c = Conn(col.port, client_ctx(host.ca, os.path.join(evil, "cert.pem"), ekey))
    c.send(compressed_frame("vigil.events", [ocsf_record(host.id)], "evil-1"))
    r = c.recv()
    c.close()
except (OSError, ValueError) as e:
    r = CLOSED
t.check(r == CLOSED, "a certificate from another CA with the host's CN is refused (got %r)"
        % (r,))
logged(r"warning: .*client certificate refused in the TLS handshake: ", since, "another CA")
t.check(col.sql("SELECT count(*) FROM chunks WHERE chunk = 'evil-1'") == "0",
        "nothing of the other CA's client is stored")

_, rev = enroll(col.port, col.token(), os.path.join(tmp, "revoked"))
c = rev.connect(col.port)
t.check(send_chunk(c, rev.id, "rev-1") == "rev-1", "a host is served before revocation")
c.close()
serial = cert_info(rev.cert)[1]
p = col.run("cert", "revoke", serial, "--config", col.cfg)
t.check(p.returncode == 0 and "revoked" in p.stdout, "cert revoke: %s %s" % (p.stdout, p.stderr))
since = col.log_size()
c = rev.connect(col.port)
c.send(compressed_frame("vigil.events", [ocsf_record(rev.id)], "rev-2"))
r = c.recv()
t.check(r == CLOSED, "a revoked certificate is refused (got %r)" % (r,))
c.close()
logged(r"certificate %s \(CN %s\) refused: .*revoked" % (serial, rev.id), since, "revoked")
t.check(col.sql("SELECT count(*) FROM chunks WHERE chunk = 'rev-2'") == "0",
        "nothing of the revoked host is stored")

since = col.log_size()
raw = socket.create_connection(("127.0.0.1", col.port))
t0 = time.time()
raw.settimeout(15)
try:
    got = raw.recv(100)
except OSError:
    got = b""
took = time.time() - t0
raw.close()
t.check(got == b"" and 1.5 < took < 8,
        "a client that never starts TLS is closed after the 2 s handshake timeout "
        "(%.1f s, got %r)" % (took, got))
logged(r"TLS handshake not done in 2000 ms", since, "handshake timeout")
bystander_ok("the TLS refusals")

# ---- hostile frames -----------------------------------------------------------------


def hostile(what, payload, pattern):
    since = col.log_size()
    c = host.connect(col.port)
    seq[0] += 1
    ok_before = send_chunk(c, host.id, "pre-%d" % seq[0]) == "pre-%d" % seq[0]
    c.send(payload)
    r = c.recv(10)
    c.close()
    t.check(ok_before and r == CLOSED, "%s: the connection is closed (got %r)" % (what, r))
    logged(r"host %s: frame refused: .*%s" % (host.id, pattern), since, what)
    bystander_ok(what)


hostile("a frame over frame_max",
        msgpack.packb(["vigil.events", b"\0" * (300 << 10), {"chunk": "big"}]),
        "262144-byte limit")
bomb = gzip.compress(b"\0" * (64 << 20), 9)
t.check(len(bomb) < 100 << 10, "the bomb is small: %d bytes" % len(bomb))
hostile("a zip bomb (64 MiB of zeros in %d bytes)" % len(bomb),
        compressed_frame("vigil.events", [{}], "bomb", blob=bomb), "1048576")
deep = {"class_uid": 1001}
for _ in range(40):
    deep = {"d": deep}
hostile("nesting 40 deep", compressed_frame("vigil.events", [deep], "deep"), "nesting")
hostile("an array of 2^32-1 elements in 5 bytes", b"\xdd\xff\xff\xff\xff", "cannot fit")
hostile("a map of 2^32-1 pairs inside a frame",
        b"\x93\xacvigil.events\xdf\xff\xff\xff\xff", "cannot fit")
hostile("non-msgpack bytes", b"\xc1\xc1\xc1\xc1", "0xc1")
hostile("an HTTP request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "")
hostile("a frame that is not an array", msgpack.packb({"tag": "x"}), "")

# A frame that never ends.
since = col.log_size()
c = host.connect(col.port)
whole = compressed_frame("vigil.events", [ocsf_record(host.id)], "slow")
c.send(whole[: len(whole) // 2])
t0 = time.time()
r = c.recv(15)
took = time.time() - t0
c.close()
t.check(r == CLOSED and 1.5 < took < 8,
        "half a frame is closed after the 2 s frame timeout (%.1f s, %r)" % (took, r))
logged(r"host %s: frame not whole in 2000 ms, %d bytes so far" % (host.id, len(whole) // 2),
       since, "slow frame")
bystander_ok("the slow frame")

# A client that sends and never reads: its acks pile up to write_max, then it is closed.
since = col.log_size()
c = host.connect(col.port, rcvbuf=4096)
empty = b"".join(msgpack.packb(["vigil.events", b"", {"chunk": "unread-%06d" % i}])
                 for i in range(60000))
sent = c.send(empty)
r = col.wait_log(r"host %s: frame refused: chunk unread-\d+ committed, but its ack does not "
                 r"fit: .*limits.write_max" % host.id, 20, since)
t.check(r is not None, "a client that does not read its acks is closed at write_max: %s"
        % col.log(since)[-500:])
c.close()
bystander_ok("the client that did not read")

# ---- max_connections ------------------------------------------------------------------
few = Collector(binary, tmp, name="few", config="limits:\n  max_connections: 3\n")
few.start()
conns = [socket.create_connection(("127.0.0.1", few.port)) for _ in range(3)]
time.sleep(0.3)
since = few.log_size()
extra = socket.create_connection(("127.0.0.1", few.port))
extra.settimeout(5)
try:
    got = extra.recv(10)
except OSError:
    got = b""
t.check(got == b"", "the 4th connection over max_connections 3 is closed at once")
t.check(few.wait_log(r"connection from 127\.0\.0\.1:\d+ closed: limits.max_connections "
                     r"reached", 5, since) is not None, "and logged")
for s in conns + [extra]:
    s.close()
t.check(few.stop() == 0, "the second collector stops")

# ---- memory_max: frames wait for memory, and every one of them finishes -------------------
# 1 MiB for all read buffers, frames up to 512 KiB: eight clients each send 90% of a
# 450 kB frame at once, so most must wait; then they finish their frames. One
# connection at a time may overdraw by a frame, so waiting never deadlocks.
import threading  # noqa: E402

tight = Collector(binary, tmp, name="tight", config="limits:\n  frame_max: 512KiB\n"
                  "  memory_max: 1MiB\n  write_max: 4KiB\n  frame_timeout: 60s\n")
tight.start()
_, th = enroll(tight.port, tight.token(), os.path.join(tmp, "tight-host"))
big = [msgpack.packb(["vigil.events", [[int(time.time()), ocsf_record(th.id, k, pad="p%d" % i *
                                                                     75000)]
                                       for k in range(3)], {"chunk": "mem-%d" % i}],
                     use_bin_type=True) for i in range(8)]
results = [None] * 8
go = threading.Event()


def heavy(i):
    c = th.connect(tight.port, timeout=90)
    cut = len(big[i]) * 9 // 10
    c.send(big[i][:cut])
    go.wait(30)
    c.send(big[i][cut:])
    r = c.recv(90)
    results[i] = r.get("ack") if isinstance(r, dict) else r
    c.close()


since = tight.log_size()
threads = [threading.Thread(target=heavy, args=(i,)) for i in range(8)]
for th_ in threads:
    th_.start()
time.sleep(1.5)
go.set()
for th_ in threads:
    th_.join(120)
t.check(results == ["mem-%d" % i for i in range(8)],
        "8 frames of %d bytes under memory_max 1 MiB: all acked (%r)" % (len(big[0]), results))
t.check(tight.wait_log(r"waiting for memory \(limits.memory_max\)", 1, since) is not None,
        "and some of them did wait for memory")
t.check(tight.stop() == 0, "the tight collector stops")

# The deadlock it avoids: two clients each hold 500 kB of a 700 kB frame, which fills
# the 1 MiB between them; then both need more. Without the overdraft both would
# wait for each other until frame_timeout (20 s); with it, one finishes, then the other.
dl = Collector(binary, tmp, name="deadlock", config="limits:\n  frame_max: 768KiB\n"
               "  memory_max: 1MiB\n  write_max: 4KiB\n  frame_timeout: 20s\n"
               "  idle_timeout: 3s\n")
dl.start()
_, dh = enroll(dl.port, dl.token(), os.path.join(tmp, "deadlock-host"))
two = [msgpack.packb(["vigil.events", [[int(time.time()), ocsf_record(dh.id, 0, pad="d" * 699000)]],
                      {"chunk": "dl-%d" % i}], use_bin_type=True) for i in range(2)]
conns = [dh.connect(dl.port, timeout=60) for _ in range(2)]
for i in range(2):
    conns[i].send(two[i][:500000])
    time.sleep(1)                       # the collector has read it all
t0 = time.time()
for i in range(2):
    conns[i].send(two[i][500000:])
got = [c.recv(15) for c in conns]
took = time.time() - t0
t.check([g.get("ack") if isinstance(g, dict) else g for g in got] == ["dl-0", "dl-1"],
        "two frames that together pass memory_max both finish, in %.1f s, not at the 20 s "
        "frame timeout (%r)" % (took, got))
for c in conns:
    c.close()

# Idle between frames: closed after idle_timeout (3 s here).
since = dl.log_size()
c = dh.connect(dl.port)
ok = send_chunk(c, dh.id, "idle-1") == "idle-1"
t0 = time.time()
r = c.recv(15)
took = time.time() - t0
c.close()
t.check(ok and r == CLOSED and 2.5 < took < 6,
        "a connection idle after its frame is closed after 3 s (%.1f s, %r)" % (took, r))
t.check(dl.wait_log(r"host %s: idle for 3000 ms \(limits.idle_timeout\)" % dh.id, 2, since)
        is not None, "and logged")
t.check(dl.stop() == 0, "the deadlock collector stops")

# ---- the end ----------------------------------------------------------------------------
t.check(col.alive(), "the collector survived all of it")
t.check(col.stop() == 0, "SIGTERM: exit 0")
t.done()
