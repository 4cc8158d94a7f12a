#!/usr/bin/python3
"""bench/hosts: a pool over two hypervisors. What a placement decision costs,
and how much longer a scale-out takes on host B (a second libvirtd reached
over loopback TCP, tests/hostb) than on host A (this machine's libvirtd,
its local UNIX socket), in the same run.

  VS_BUILDDIR=build /usr/bin/python3 bench/hosts/run.py [--runs N]

One virtscaled with three pools of the tiny web guest (tests/guest, TCG):
"on-a" (hosts = a), "on-b" (hosts = b) and "both" (hosts = a b, placement
fewest). Each run scales on-a and on-b from 0 to 1 (alternating which goes
first) with `virtscalectl scale`; virtscaled's log gives when the clone was
defined, started and serving; the benchmark polls the guest's HTTP itself.
Then "both" goes 0 -> 2 -> 0 and the log's "placement ... in X ms" lines
give each decision's time; the anchor of that row is one libvirt call's
round trip to host B measured by virtscaled in the same run (status.json
hosts[].rtt_us). Prints markdown tables.
Domains vst-hbench-*, ports 19700-19729; everything is removed, host B
stopped.
"""
import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import hostb  # noqa: E402
import vstest  # noqa: E402
from actbed import Actuator  # noqa: E402

PREFIX = "vst-hbench-"
TEMPLATE = PREFIX + "tmpl"
A = "qemu:///system"
LOG_RE = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) virtscaled\[\d+\] \w+: (.*)$")


def now_sod():
    t = datetime.datetime.now()
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def events(log):
    out = []
    with open(log, errors="replace") as f:
        for line in f:
            m = LOG_RE.match(line.strip())
            if m:
                h, mi, s = m.group(1, 2, 3)
                out.append((int(h) * 3600 + int(mi) * 60 + float(s), m.group(4)))
    return out


def first_after(evs, t0, pattern):
    for t, msg in evs:
        if t >= t0 - 0.001 and re.search(pattern, msg):
            return t
    raise RuntimeError(f"no log line /{pattern}/ after {t0}")


def define_template(port, bed=None):
    hostb.define_web_template(TEMPLATE, port, bed, quota=-1)


def remove_everything(bed):
    hostb.remove_everywhere(PREFIX, bed)


def http_answers(address):
    import socket
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1) as s:
            s.settimeout(2)
            s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/1.")
    except OSError:
        return False


def pool_of(act, name):
    return next(p for p in act.status()["pools"] if p["name"] == name)


def scale_and_wait(act, pool, n, timeout=300):
    r = act.ctl("scale", pool, str(n))
    if r.returncode != 0:
        raise RuntimeError(r.stdout + r.stderr)
    def done():
        p = pool_of(act, pool)
        running = [i for i in p["instances"] if i["state"] == "running"]
        return len(running) == n and p["phase"] in ("idle", "cooldown") and p
    return vstest.wait_for(done, timeout, interval=0.2, what=f"{pool} at {n}")


def one_scale_out(act, pool, log):
    """notification -> defined / running / answering / serving, seconds."""
    t0 = now_sod()
    r = act.ctl("scale", pool, "1")
    if r.returncode != 0:
        raise RuntimeError(r.stdout + r.stderr)

    def serving_address():
        p = pool_of(act, pool)
        inst = [i for i in p["instances"] if i["state"] == "running" and i.get("address")]
        return inst[0]["address"] if inst else None
    address = vstest.wait_for(serving_address, 300, interval=0.05, what=f"{pool} running")
    vstest.wait_for(lambda: http_answers(address), 300, interval=0.05, what="HTTP")
    t_http = now_sod()
    scale_and_wait(act, pool, 1)
    ev = events(log)
    out = {"defined": first_after(ev, t0, rf"pool {pool}: \S+ defined$") - t0,
           "running": first_after(ev, t0, rf"pool {pool}: \S+ started$") - t0,
           "answering": t_http - t0,
           "serving": first_after(ev, t0, rf"pool {pool}: \S+ is serving at") - t0}
    scale_and_wait(act, pool, 0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vs-hbench-")
    bed = hostb.HostB(os.path.join(tmp, "hostb"), port=19729)
    os.makedirs(bed.dir)
    bed.start()
    act = None
    try:
        remove_everything(bed)
        define_template(19700)
        define_template(19700, bed)
        base = {"template": TEMPLATE, "min": 0, "max": 2, "policy": "average", "lb": "none",
                "address": "hostfwd", "probe": "http:/", "probe_timeout": 300, "cooldown": 0,
                "stabilization": 0, "drain_timeout": 0, "shutdown_timeout": 2,
                "repeat_interval": 1}
        act = Actuator(os.path.join(tmp, "act"), None, "x", "19701-19709", namespace="hbench",
                       pool={**base, "hosts": "a", "name_pattern": PREFIX + "a-%02d"},
                       sections={
                           "host a": {"uri": A},
                           "host b": {"uri": bed.uri, "hostfwd_address": bed.hostfwd_address},
                           "pool on-b": {**base, "hosts": "b", "hostfwd_ports": "19711-19719",
                                         "name_pattern": PREFIX + "b-%02d"},
                           "pool both": {**base, "hosts": "a b", "placement": "fewest",
                                         "hostfwd_ports": "19721-19728",
                                         "name_pattern": PREFIX + "ab-%02d"}})
        # the first pool is "on-a": actbed names its pool after namespace and tag
        act.pool_name = "hbench-x"
        log = os.path.join(tmp, "virtscaled.log")
        env = {**os.environ}
        proc = subprocess.Popen([vstest.build_path("actuator", "virtscaled"), "-f", "-c", act.conf],
                                stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)
        vstest.wait_for(lambda: os.path.exists(act.sock) or proc.poll() is not None, 20,
                        what="the socket")
        pools = {"a": act.pool_name, "b": "on-b"}
        rows = {"a": [], "b": []}
        for i in range(a.runs):
            order = ("a", "b") if i % 2 == 0 else ("b", "a")
            for h in order:
                rows[h].append(one_scale_out(act, pools[h], log))
        t0 = now_sod()
        scale_and_wait(act, "both", 2)
        scale_and_wait(act, "both", 0)
        ev = events(log)
        decisions = [float(m.group(1)) for t, msg in ev if t >= t0 - 0.001
                     for m in [re.search(r"pool both: placement fewest -> \S+ in ([0-9.]+) ms",
                                         msg)] if m]
        rtt_b_us = next(h["rtt_us"] for h in act.status()["hosts"] if h["name"] == "b")
        rtt_a_us = next(h["rtt_us"] for h in act.status()["hosts"] if h["name"] == "a")
        proc.terminate()
        proc.wait(120)
    finally:
        remove_everything(bed)
        bed.stop()

    med = statistics.median
    print(f"# bench/hosts, {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, medians of {a.runs} runs\n")
    print("| notification → | host A, local socket (s) | host B, loopback TCP (s) | B / A |")
    print("|---|---|---|---|")
    for k, label in (("defined", "clone defined"), ("running", "domain running"),
                     ("answering", "backend answering (HTTP)"),
                     ("serving", "serving (probe passed)")):
        va, vb = med(r[k] for r in rows["a"]), med(r[k] for r in rows["b"])
        print(f"| {label} | {va:.3f} | {vb:.3f} | {vb / va:.2f} |")
    print()
    print("| placement decision (fewest, 2 hosts) | ms | anchor: one libvirt call's round trip "
          "to host B, same run (ms) | ratio |")
    print("|---|---|---|---|")
    d = med(decisions)
    print(f"| median of {len(decisions)} decisions | {d:.3f} | {rtt_b_us / 1000:.3f} | "
          f"{d / (rtt_b_us / 1000):.4f} |")
    print(f"\n(host A's round trip in the same run: {rtt_a_us / 1000:.3f} ms)")


if __name__ == "__main__":
    main()
