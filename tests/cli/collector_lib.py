"""collector_lib.py: what the collector's whole-program tests share.

The client side here is not vigil's C code: TLS is Python's ssl module,
msgpack is python3-msgpack, gzip is Python's, keys and CSRs come from the
openssl command. The collector is the real binary, started on a loopback
port in a scratch state directory, stopped with SIGTERM or kill -9.
"""
import atexit
import gzip
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time

import msgpack

CLOSED = "closed"
TIMEOUT = "timeout"


class Checks:
    """Counts checks; prints one line per failure and the closing line."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what, flush=True)
        return cond

    def done(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed), flush=True)
        sys.exit(1 if self.failed or not self.passed else 0)


class Collector:
    """One vigil-collector process and its scratch directory."""

    def __init__(self, binary, tmp, name="collector", config="", log_level="debug"):
        self.bin = binary
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state")
        self.cfg = os.path.join(self.dir, "collector.yaml")
        self.logpath = os.path.join(self.dir, "log")
        self.extra = config
        self.log_level = log_level
        self.proc = None
        self.port = 0
        self.env = dict(os.environ)
        # ASan keeps freed memory in quarantine (256 MiB by default), which
        # would count against the RSS bound; the bound is the program's.
        asan = self.env.get("ASAN_OPTIONS", "")
        self.env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
            "quarantine_size_mb=8:malloc_context_size=5"

    def write_config(self, port):
        with open(self.cfg, "w") as f:
            f.write("listen: 127.0.0.1:%d\nstate_dir: %s\nlog_level: %s\n%s\n"
                    % (port, self.state, self.log_level, self.extra))

    def start(self, port=None, timeout=30):
        self.write_config(self.port if port is None else port)
        since = self.log_size()
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([self.bin, "serve", "--config", self.cfg],
                                     stdout=log, stderr=log, env=self.env)
        log.close()
        atexit.register(self.reap, self.proc)
        m = self.wait_log(r"listening on 127\.0\.0\.1:(\d+)", timeout, since)
        if not m:
            raise RuntimeError("collector did not start: " + self.log()[-2000:])
        self.port = int(m.group(1))
        self.wait_log(r"serving: ", timeout, since)
        return self.port

    @staticmethod
    def reap(proc):
        """A test that failed half-way leaves no collector running."""
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    def log_size(self):
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def log(self, since=0):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=10, since=0):
        end = time.time() + timeout
        while True:
            m = re.search(pattern, self.log(since))
            if m or time.time() > end:
                return m
            if self.proc and self.proc.poll() is not None:
                return re.search(pattern, self.log(since))
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30, sig=signal.SIGTERM):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "hung"
        self.proc = None
        if re.search(r"Sanitizer|runtime error:", self.log()):
            return "sanitizer report in the log"
        return rc

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.proc = None

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def run(self, *args, timeout=60):
        return subprocess.run([self.bin] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=self.env)

    def token(self, ttl="1h", uses=1):
        p = self.run("token", "create", "--config", self.cfg, "--ttl", ttl, "--uses", str(uses))
        if p.returncode != 0:
            raise RuntimeError("token create: " + p.stderr)
        return p.stdout.strip()

    def events(self, limit=100000):
        """The stored events, newest first, as `vigil-collector events
        --format json` prints them (events.record is msgpack in the file)."""
        p = self.run("events", "--state-dir", self.state, "--format", "json", "--limit",
                     str(limit))
        if p.returncode != 0:
            raise RuntimeError("events: " + p.stderr)
        return json.loads(p.stdout)

    def sql(self, query):
        p = subprocess.run(["sqlite3", "-batch", "-noheader",
                            os.path.join(self.state, "vigil.db"), query],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("sqlite3: " + p.stderr)
        return p.stdout.strip()


# ---- PKI from the openssl command ---------------------------------------------

def make_key_csr(work, cn="whatever-the-host-asks"):
    key, csr = os.path.join(work, "key.pem"), os.path.join(work, "csr.pem")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
                    "/CN=" + cn, "-out", csr], check=True, capture_output=True)
    return key, csr


def fetch_pinned_ca(port, pin, out):
    """The certificate in the server's chain whose SHA-256 is the pin: the
    only trust a host has before it enrolls."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-showcerts"], input=b"", capture_output=True, timeout=30)
    for pem in re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----",
                          p.stdout, re.S):
        der = ssl.PEM_cert_to_DER_cert(pem.decode())
        if hashlib.sha256(der).hexdigest() == pin.lower():
            with open(out, "wb") as f:
                f.write(pem + b"\n")
            return True
    return False


def cert_info(pem_path):
    """(CN, serial as lowercase hex) of a certificate, from openssl x509."""
    p = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout", "-subject", "-serial",
                        "-nameopt", "RFC2253"], capture_output=True, text=True, check=True)
    cn = re.search(r"subject=.*?CN=([^,\n]+)", p.stdout)
    serial = re.search(r"serial=([0-9A-Fa-f]+)", p.stdout)
    return (cn.group(1) if cn else None, serial.group(1).lower() if serial else None)


def client_ctx(ca, cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


class Conn:
    """A TLS connection to the collector and the msgpack objects it sends."""

    def __init__(self, port, ctx, timeout=15, rcvbuf=None, src=None):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if src:
            raw.bind((src, 0))
        if rcvbuf:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(timeout)
        raw.connect(("127.0.0.1", port))
        self.s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.u = msgpack.Unpacker(raw=False)
        self.why = None

    def send(self, data):
        """True when sent; False when the collector had closed (why says)."""
        try:
            self.s.sendall(data)
            return True
        except (OSError, ssl.SSLError) as e:
            self.why = str(e)
            return False

    def recv(self, timeout=15):
        """The next msgpack object; CLOSED when the collector closed (or
        refused: self.why); TIMEOUT when nothing came in time."""
        end = time.time() + timeout
        while True:
            for obj in self.u:
                return obj
            left = end - time.time()
            if left <= 0:
                return TIMEOUT
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return TIMEOUT
            except (OSError, ssl.SSLError) as e:
                self.why = str(e)
                return CLOSED
            if not data:
                self.why = "EOF"
                return CLOSED
            self.u.feed(data)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# ---- enrollment ------------------------------------------------------------------

class Host:
    """An enrolled host: its id, key, certificate and the pinned CA."""

    def __init__(self, work, host_id, key, cert, ca):
        self.work, self.id, self.key, self.cert, self.ca = work, host_id, key, cert, ca

    def ctx(self):
        return client_ctx(self.ca, self.cert, self.key)

    def connect(self, port, **kw):
        return Conn(port, self.ctx(), **kw)


def enroll_request(token, csr_pem, hostname="test-host", machine_id="0" * 32):
    return msgpack.packb({"enroll": {"token": token, "csr": csr_pem, "hostname": hostname,
                                     "machine_id": machine_id}}, use_bin_type=True)


def enroll(port, token, work, hostname="test-host", machine_id=None):
    """Enrolls as a sensor would: pins the CA from the token, sends a CSR.
    Returns (reply, Host or None)."""
    os.makedirs(work, exist_ok=True)
    tid, secret, pin = token.split(".")
    ca = os.path.join(work, "pinned-ca.pem")
    if not fetch_pinned_ca(port, pin, ca):
        return {"ok": False, "error": "no certificate in the chain has the pin"}, None
    key, csr = make_key_csr(work)
    c = Conn(port, client_ctx(ca))
    with open(csr) as f:
        c.send(enroll_request(tid + "." + secret, f.read(), hostname,
                              machine_id or hashlib.md5(work.encode()).hexdigest()))
    reply = c.recv()
    c.close()
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        return reply, None
    cert = os.path.join(work, "cert.pem")
    with open(cert, "w") as f:
        f.write(reply["cert"])
    return reply, Host(work, reply["host_id"], key, cert, ca)


# ---- Forward ----------------------------------------------------------------------

def event_time(t):
    sec = int(t)
    return msgpack.ExtType(0, struct.pack(">II", sec, int((t - sec) * 1e9)))


def ocsf_record(host_id, i=0, cls=1001, **extra):
    r = {"class_uid": cls, "activity_id": 1, "time": int(time.time() * 1000),
         "severity_id": 1, "type_uid": cls * 100 + 1,
         "device": {"uid": host_id, "hostname": "test-host"},
         "file": {"path": "/etc/test-%d" % i},
         "metadata": {"version": "1.1.0", "product": {"name": "collector-test"}}}
    r.update(extra)
    return r


def entries(records, t0=None):
    t0 = time.time() if t0 is None else t0
    return b"".join(msgpack.packb([event_time(t0 + i / 1000.0), r], use_bin_type=True)
                    for i, r in enumerate(records))


def compressed_frame(tag, records, chunk=None, blob=None):
    """CompressedPackedForward; blob: the gzip payload as given."""
    if blob is None:
        blob = gzip.compress(entries(records))
    opt = {"size": len(records), "compressed": "gzip"}
    if chunk:
        opt["chunk"] = chunk
    return msgpack.packb([tag, blob, opt], use_bin_type=True)


def send_chunk(conn, host_id, chunk, n=3, tag="vigil.events", records=None):
    """Sends one chunk and waits for its ack: the ack's chunk, or CLOSED/TIMEOUT."""
    recs = records if records is not None else [ocsf_record(host_id, i) for i in range(n)]
    if not conn.send(compressed_frame(tag, recs, chunk)):
        return CLOSED
    reply = conn.recv()
    if isinstance(reply, dict):
        return reply.get("ack")
    return reply
