#!/usr/bin/python3
"""collector_crash.py VIGIL_COLLECTOR TMPDIR: kill -9 in the middle of a
stream of acked chunks loses nothing that was acked.

A client streams chunks with up to 8 in flight and appends each ack to a
file as it arrives. The collector is killed with SIGKILL mid-stream and
started again on the same port and state. Then: every acked chunk is in
the store, whole (its 5 records); no chunk is there in part; and when the
client resends everything it ever sent, all of it is acked and nothing is
stored twice.
"""
import os
import signal
import sys
import threading
import time

from collector_lib import CLOSED, TIMEOUT, Checks, Collector, compressed_frame, enroll, \
    ocsf_record

PER_CHUNK = 5
WINDOW = 8

binary, tmp = sys.argv[1], sys.argv[2]
t = Checks("collector-crash")
col = Collector(binary, tmp, log_level="info")
col.start()
_, host = enroll(col.port, col.token(), os.path.join(tmp, "host"))
t.check(host is not None, "the host enrolls")
ack_log = os.path.join(tmp, "acks")
sent = []


def frame(i):
    return compressed_frame("vigil.events", [ocsf_record(host.id, i * PER_CHUNK + k)
                                             for k in range(PER_CHUNK)], "crash-%05d" % i)


def stream(stop):
    """Sends until the collector goes away; logs each ack to ack_log."""
    c = host.connect(col.port)
    inflight = 0
    with open(ack_log, "a") as log:
        while not stop.is_set():
            while inflight < WINDOW:
                i = len(sent)
                if not c.send(frame(i)):
                    return
                sent.append(i)
                inflight += 1
            r = c.recv(10)
            if r in (CLOSED, TIMEOUT):
                return
            log.write(r["ack"] + "\n")
            log.flush()
            inflight -= 1


stop = threading.Event()
th = threading.Thread(target=stream, args=(stop,))
th.start()
end = time.time() + 60
while time.time() < end and (not os.path.exists(ack_log) or
                             sum(1 for _ in open(ack_log)) < 150):
    time.sleep(0.01)
col.kill9()
th.join(30)
acked = [l.strip() for l in open(ack_log) if l.strip()]
t.check(len(acked) >= 150, "a stream was running when the collector was killed: %d acks, "
        "%d chunks sent" % (len(acked), len(sent)))
t.check(len(sent) > len(acked), "chunks were in flight at the kill (%d sent, %d acked)"
        % (len(sent), len(acked)))

col.start(port=col.port)
stored = set(col.sql("SELECT chunk FROM chunks").split())
missing = [a for a in acked if a not in stored]
t.check(not missing, "every acked chunk is stored after kill -9 (%d acked, %d stored, "
        "missing %s)" % (len(acked), len(stored), missing[:5]))
n_events = int(col.sql("SELECT count(*) FROM events"))
t.check(n_events == PER_CHUNK * len(stored),
        "no chunk is stored in part: %d records for %d chunks" % (n_events, len(stored)))

# The sensor's retry: everything sent, again. Acked ones are acked again, not stored.
c = host.connect(col.port)
again = []
for i in sent:
    c.send(frame(i))
    r = c.recv(10)
    again.append(r.get("ack") if isinstance(r, dict) else r)
c.close()
t.check(again == ["crash-%05d" % i for i in sent], "every resent chunk is acked")
t.check(col.sql("SELECT count(*) FROM chunks") == str(len(sent)),
        "each chunk is stored once: %s chunks for %d sent"
        % (col.sql("SELECT count(*) FROM chunks"), len(sent)))
t.check(col.sql("SELECT count(*) FROM events") == str(PER_CHUNK * len(sent)),
        "and each record once")
t.check(col.stop(sig=signal.SIGINT) == 0, "SIGINT: exit 0")
t.check("signal 2: stopping" in col.log(), "the log says which signal stopped it")
t.done()
