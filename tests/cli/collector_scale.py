#!/usr/bin/python3
"""collector_scale.py VIGIL_COLLECTOR TMPDIR: 1,000 concurrent mutual-TLS
connections (Python asyncio) on one collector.

Every connection sends half a frame and holds it, so the collector holds
1,000 partial frames at once; then each finishes its frame and must get
its ack while all 1,000 stay open. The collector's VmRSS is sampled all
along and must stay under a generous bound (a bound, not a timing).
"""
import asyncio
import os
import sys
import time

import msgpack

from collector_lib import Checks, Collector, enroll, ocsf_record

N = 1000
RSS_MAX_KB = 200 * 1024

binary, tmp = sys.argv[1], sys.argv[2]
t = Checks("collector-scale")
col = Collector(binary, tmp, log_level="info",
                config="limits:\n  max_connections: %d\n" % (N + 50))
col.start()
_, host = enroll(col.port, col.token(), os.path.join(tmp, "host"))
t.check(host is not None, "the host enrolls")
ctx = host.ctx()
peak = [0]


def sample():
    kb = col.rss_kb()
    peak[0] = max(peak[0], kb)
    return kb


async def sampler(stop):
    while not stop.is_set():
        sample()
        await asyncio.sleep(0.1)


async def client(i, port, opened, release, finish, acks, errors):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1"), 120)
    except Exception as e:               # noqa: BLE001: any failure is counted
        errors.append("connect %d: %r" % (i, e))
        opened.append(False)
        return
    # Forward mode, uncompressed: about 40 kB, so half of it is 20 kB held.
    recs = [ocsf_record(host.id, k, padding="x" * 4000) for k in range(10)]
    frame = msgpack.packb(["vigil.events", [[int(time.time()), r] for r in recs],
                           {"chunk": "scale-%d" % i}], use_bin_type=True)
    half = len(frame) // 2
    writer.write(frame[:half])
    await writer.drain()
    opened.append(True)
    await release.wait()
    writer.write(frame[half:])
    await writer.drain()
    u = msgpack.Unpacker(raw=False)
    try:
        while True:
            data = await asyncio.wait_for(reader.read(4096), 120)
            if not data:
                errors.append("%d: closed before its ack" % i)
                break
            u.feed(data)
            got = next(iter(u), None)
            if got is not None:
                acks.append(got)
                break
    except Exception as e:               # noqa: BLE001
        errors.append("%d: %r" % (i, e))
    await finish.wait()
    writer.close()


async def main():
    opened, acks, errors = [], [], []
    release, finish, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    samp = asyncio.create_task(sampler(stop))
    tasks = []
    for i in range(N):
        tasks.append(asyncio.create_task(client(i, col.port, opened, release, finish, acks,
                                                errors)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)    # a ramp, not a SYN flood
    end = time.time() + 300
    while len(opened) < N and time.time() < end:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    held = sample()
    t.check(all(opened) and len(opened) == N,
            "%d connections opened, each holding half a frame (errors: %s)"
            % (opened.count(True), errors[:3]))
    t.check(held < RSS_MAX_KB, "RSS with %d partial frames held: %d kB < %d kB"
            % (N, held, RSS_MAX_KB))
    release.set()
    while len(acks) + len(errors) < N and time.time() < end:
        await asyncio.sleep(0.1)
    got = sorted(a.get("ack", "") for a in acks if isinstance(a, dict))
    t.check(got == sorted("scale-%d" % i for i in range(N)),
            "all %d connections got their own ack (%d acks, errors %s)"
            % (N, len(acks), errors[:3]))
    t.check(sample() < RSS_MAX_KB, "RSS with %d open connections after their frames: %d kB"
            % (N, sample()))
    finish.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    stop.set()
    await samp


asyncio.run(main())
t.check(peak[0] < RSS_MAX_KB, "peak RSS %d kB < %d kB" % (peak[0], RSS_MAX_KB))
print("collector-scale: peak RSS %d kB" % peak[0])
t.check(col.sql("SELECT count(*) FROM chunks WHERE chunk LIKE 'scale-%'") == str(N),
        "%d chunks stored" % N)
t.check(col.sql("SELECT count(*) FROM events") == str(N * 10), "%d records stored" % (N * 10))
t.check(col.alive(), "the collector is alive")
t.check(col.stop() == 0, "SIGTERM: exit 0")
t.done()
