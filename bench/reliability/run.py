#!/usr/bin/python3
"""bench/reliability: virtscaled and virtscale-snmp under load.

Part 1, intake flood: `flood` (flood.c) writes notification lines into the
actuator's socket from --clients connections at --rate lines/s in total for
--seconds, half valid (state ok/low for a pool that never acts), half
refused (not JSON, unknown state, unknown pool, invalid UTF-8, over 4 KiB);
each client reads the answer the intake sends for every line.
Meanwhile one connection behaves like collectd's forwarder: every second a
notification for the real pool, high for 5 s then low for 5 s, so the pool
(min 0, max 1, halt-disk clones, probe none) scales out and in every 10 s.
Reported: virtscaled's RSS (VmRSS of /proc/PID/status every second), the
lines it took in, and per forwarded high/low the time from its first line to
the action done (scale_outs/scale_ins of the status reply), against the same
cycles with no flood measured first in the same run.

Part 1b, a client that never reads its answers: one `flood noread`
connection at full speed for --noread-seconds while the forwarder goes on.
Reported: when the intake stopped reading it (no progress for 1 s) and the
lines it took until then, virtscaled's RSS meanwhile, the forwarder's
actions.

Part 2, intake throughput: `flood` at full speed (rate 0) for --max-seconds
into `reader` (reader.c: epoll, counts newlines, nothing else; the anchor)
and then into virtscaled; lines/s read by each over the middle of the window.

Part 3, SNMP walkers: --walkers threads run `snmpbulkwalk` of VM-MIB and
VIRTSCALE-MIB back to back against a real snmpd with virtscale-snmp for
--walk-seconds with the pool idle (the anchor), then as long again while
the pool scales out to 1 and in to 0 over and over (`virtscalectl scale`).
Reported: walks, failed walks, latency median / p95 / max.

    VS_BUILDDIR=build-bench bench/reliability/run.sh [--seconds 60] [--rate 10000]

Domains vst-rel-*, ports 19070-19099, everything removed at the end. Prints
markdown tables.
"""
import argparse
import datetime
import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import vstest  # noqa: E402
from actbed import Actuator  # noqa: E402
from snmpbed import VM_MIB, VS_MIB, SnmpBed, snmp_env  # noqa: E402

_spec = importlib.util.spec_from_file_location("snmp_walk_run",
                                               os.path.join(SRC, "bench", "snmp-walk", "run.py"))
_walk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_walk)
Daemons = _walk.Daemons

POOL_TAG = "int"  # pool rel-int, domains vst-rel-int-NN
DECOY = "rel-decoy"
CYCLE = 10.0  # seconds of one high/low cycle of the forwarder


def build(tmp):
    """flood and reader, -O2 as the other benchmarks' helpers."""
    out = {}
    for name, extra in (("flood", ["-pthread"]), ("reader", [])):
        exe = os.path.join(tmp, name)
        subprocess.run(["gcc", "-O2", "-Wall", "-o", exe, os.path.join(HERE, f"{name}.c"),
                        *extra], check=True)
        out[name] = exe
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """VmRSS of @pid every second, with the phase it was taken in."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.phase, self.samples = pid, "start", []
        self.t0 = time.monotonic()
        self.stop_event = threading.Event()
        self.start()

    def run(self):
        while not self.stop_event.wait(1.0):
            try:
                self.samples.append((time.monotonic() - self.t0, self.phase, rss_kib(self.pid)))
            except FileNotFoundError:
                return

    def stop(self):
        self.stop_event.set()
        self.join()


class Forwarder:
    """One connection, one line a second, like collectd's forwarder with
    RepeatInterval 1: high for half a cycle, then low. Records when each
    half began."""

    def __init__(self, a):
        self.a = a
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(a.sock)
        self.highs, self.lows = [], []

    def cycles(self, n):
        for _ in range(n):
            for state, starts in (("high", self.highs), ("low", self.lows)):
                starts.append(time.monotonic())
                end = starts[-1] + CYCLE / 2
                while time.monotonic() < end:
                    line = {"v": 1, "type": "pool", "pool": self.a.pool_name, "state": state,
                            "severity": "warning", "source": "collectd", "host": "bench"}
                    self.s.sendall((json.dumps(line) + "\n").encode())
                    time.sleep(1.0)

    def close(self):
        self.s.close()


def watch_actions(a, until, out):
    """Polls the status reply every 0.1 s until @until is set; appends
    (time, scale_outs, scale_ins, seconds the reply took) to @out."""
    while not until.is_set():
        t = time.monotonic()
        try:
            st = a.request({"v": 1, "type": "status"}, timeout=10)
            p = st["pools"][0]
            out.append((t, p["scale_outs"], p["scale_ins"], time.monotonic() - t))
        except (OSError, ValueError):
            out.append((t, None, None, None))
        time.sleep(0.1)


def reaction_times(starts, polls, col):
    """For each start: seconds until the counter in column @col grew past
    its value at the start (None when it never did within the half cycle)."""
    out = []
    for t0 in starts:
        before = [p[col] for p in polls if p[0] <= t0 and p[col] is not None]
        base = before[-1] if before else 0
        grew = [p[0] for p in polls if t0 < p[0] <= t0 + CYCLE / 2 and p[col] is not None and
                p[col] > base]
        out.append(grew[0] - t0 if grew else None)
    return out


def run_cycles(a, n, flood_argv=None):
    """n forwarder cycles, with the flood running meanwhile when given.
    Returns (reaction times of the highs, of the lows, status reply times,
    the flood's summary line)."""
    polls, until = [], threading.Event()
    watcher = threading.Thread(target=watch_actions, args=(a, until, polls), daemon=True)
    watcher.start()
    flood = subprocess.Popen(flood_argv, stdout=subprocess.PIPE, text=True) if flood_argv else None
    fw = Forwarder(a)
    try:
        fw.cycles(n)
    finally:
        fw.close()
        summary = flood.communicate(timeout=120)[0].strip() if flood else ""
        until.set()
        watcher.join()
    replies = [p[3] for p in polls if p[3] is not None]
    return (reaction_times(fw.highs, polls, 1), reaction_times(fw.lows, polls, 2), replies,
            summary, sum(1 for p in polls if p[3] is None))


def intake(a):
    return a.request({"v": 1, "type": "status"}, timeout=10)["intake"]


def flood_summary(line):
    """flood's last line, key=value pairs, as a dict of numbers."""
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split())}


def lines_per_s_virtscaled(a, exe, clients, seconds):
    p = subprocess.Popen([exe, a.sock, DECOY, str(clients), "0", str(seconds), "read"],
                         stdout=subprocess.PIPE, text=True)
    time.sleep(seconds * 0.2)
    t0, n0 = time.monotonic(), intake(a)["lines"]
    time.sleep(seconds * 0.6)
    t1, n1 = time.monotonic(), intake(a)["lines"]
    p.communicate(timeout=120)
    return (n1 - n0) / (t1 - t0)


def lines_per_s_reader(exe_reader, exe_flood, tmp, clients, seconds):
    sock = os.path.join(tmp, "reader.sock")
    r = subprocess.Popen([exe_reader, sock], stdout=subprocess.PIPE, text=True)
    try:
        vstest.wait_for(lambda: os.path.exists(sock), 5, what="the reader's socket")
        subprocess.run([exe_flood, sock, DECOY, str(clients), "0", str(seconds), "read"],
                       check=True,
                       capture_output=True, timeout=120)
        time.sleep(1)
    finally:
        r.terminate()
        out = r.communicate(timeout=10)[0]
    pts = [tuple(map(float, line.split())) for line in out.splitlines() if line.strip()]
    # the window where the count moves; the same middle 60% as for virtscaled
    moving = [p for i, p in enumerate(pts) if i and p[1] > pts[i - 1][1]]
    t_start, t_end = moving[0][0], moving[-1][0]
    lo, hi = t_start + (t_end - t_start) * 0.2, t_start + (t_end - t_start) * 0.8
    inside = [p for p in pts if lo <= p[0] <= hi]
    return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


class Walkers:
    """@n threads walking VM-MIB then VIRTSCALE-MIB back to back."""

    def __init__(self, bed, n):
        self.bed, self.n = bed, n
        self.results = []  # (seconds, ok, varbinds)
        self.lock = threading.Lock()

    def walk_once(self):
        t0 = time.monotonic()
        ok, vbs = True, 0
        for oid in (VM_MIB, VS_MIB):
            r = subprocess.run(["snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Cr50", "-t",
                                "5", "-r", "0", f"127.0.0.1:{self.bed.agent_port}", oid],
                               capture_output=True, text=True, env=snmp_env(), timeout=60)
            vbs += r.stdout.count("\n")
            # a walk that ends in an error or returns nothing failed
            ok = ok and r.returncode == 0 and r.stdout.strip() != "" and "Timeout" not in \
                r.stderr and "No Such" not in r.stdout
        return time.monotonic() - t0, ok, vbs

    def run(self, seconds):
        self.results = []
        end = time.monotonic() + seconds

        def loop():
            while time.monotonic() < end:
                res = self.walk_once()
                with self.lock:
                    self.results.append(res)
        threads = [threading.Thread(target=loop) for _ in range(self.n)]
        for t in threads:
            t.start()
        return threads


def scale_loop(a, seconds):
    """scale to 1, wait, scale to 0, wait, ... for @seconds; returns the
    scale-outs and scale-ins done."""
    end = time.monotonic() + seconds
    first = a.pool_status()
    target = 1
    while time.monotonic() < end:
        r = a.ctl("scale", a.pool_name, str(target))
        if r.returncode != 0:
            raise RuntimeError(f"scale {target}: {r.stdout}{r.stderr}")
        vstest.wait_for(lambda: (lambda p: p["actual"] == target and
                                 p["phase"] not in ("scaling-out", "scaling-in"))(
            a.pool_status()), 60, interval=0.2, what=f"{target} instances")
        target = 0 if target else 1
    st = a.pool_status()
    return st["scale_outs"] - first["scale_outs"], st["scale_ins"] - first["scale_ins"]


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def fmt_times(xs):
    done = [x for x in xs if x is not None]
    if not done:
        return "none done"
    return (f"{len(done)}/{len(xs)} done, median {statistics.median(done):.2f} s, "
            f"max {max(done):.2f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--anchor-cycles", type=int, default=3)
    ap.add_argument("--max-seconds", type=int, default=10)
    ap.add_argument("--noread-seconds", type=int, default=20)
    ap.add_argument("--walkers", type=int, default=8)
    ap.add_argument("--walk-seconds", type=int, default=60)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    tmp = tempfile.mkdtemp(prefix="vs-rel-bench-")
    daemons = Daemons(tmp)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load0 = os.getloadavg()[0]
    exe = build(tmp)
    bed = SnmpBed(os.path.join(tmp, "snmp"), daemons, agent_port=19070, trap_port=19071)
    # one configuration for virtscaled and virtscale-snmp (the bed's file)
    a = Actuator(os.path.join(tmp, "act"), daemons, POOL_TAG, "19072-19073", namespace="rel",
                 pool={"min": 0, "max": 1, "cooldown": 1, "stabilization": 0, "probe": "none",
                       "drain_timeout": 1, "shutdown_timeout": 1, "repeat_interval": 1})
    a.conf = bed.conf
    vstest.write_config(a.conf, {
        "libvirt": {"refresh_interval": 1, "slow_interval": 1},
        "snmp": {"agentx_socket": bed.sock, "agentx_ping_interval": 1},
        # the socket's group must exist on the host: root's
        "actuator": {"socket": a.sock, "state_dir": bed.state, "socket_group": "root"},
        f"pool {a.pool_name}": a.pool,
        f"pool {DECOY}": {"template": "vst-rel-decoy-tmpl", "name_pattern": "vst-rel-decoy-%02d",
                          "min": 0, "max": 1, "lb": "none", "address": "hostfwd",
                          "hostfwd_ports": "19076-19077"}})
    a.state = bed.state
    a.cleanup()
    a.define_template()
    results = {}
    try:
        # virtscaled as installed: no -d, its log in a file of the run
        a.proc = daemons([vstest.build_path("actuator", "virtscaled"), "-f", "-c", a.conf],
                         name="virtscaled")
        vstest.wait_for(lambda: os.path.exists(a.sock), 10, what="the actuator socket")
        pid = a.status()["pid"]
        assert pid == a.proc.proc.pid
        sampler = Sampler(pid)

        # part 1: anchor cycles, then the same cycles under the flood
        sampler.phase = "no flood"
        results["anchor"] = run_cycles(a, args.anchor_cycles)
        before = intake(a)
        sampler.phase = "flood"
        n = max(1, int(args.seconds // CYCLE))
        results["flood"] = run_cycles(a, n, [exe["flood"], a.sock, DECOY, str(args.clients),
                                             str(args.rate), str(args.seconds), "read"])
        after = intake(a)
        sampler.phase = "after"
        time.sleep(5)
        results["intake"] = {k: after[k] - before[k] for k in after}
        results["rss"] = list(sampler.samples)
        log_bytes = os.path.getsize(a.proc.log_path)

        # part 1b: one client that never reads its answers
        sampler.phase = "noread"
        before = intake(a)
        results["noread"] = run_cycles(a, max(1, int(args.noread_seconds // CYCLE)), [
            exe["flood"], a.sock, DECOY, "1", "0", str(args.noread_seconds), "noread"])
        after = intake(a)
        results["noread_intake"] = {k: after[k] - before[k] for k in after}
        sampler.phase = "after noread"
        time.sleep(3)
        results["rss_noread"] = [(t, ph, k) for t, ph, k in sampler.samples
                                 if ph in ("noread", "after noread")]

        # part 2: full speed, reader then virtscaled
        sampler.phase = "full speed"
        results["reader_lps"] = lines_per_s_reader(exe["reader"], exe["flood"], tmp,
                                                   args.clients, args.max_seconds)
        results["vs_lps"] = lines_per_s_virtscaled(a, exe["flood"], args.clients,
                                                   args.max_seconds)
        sampler.stop()
        results["rss_all"] = list(sampler.samples)

        # part 3: SNMP walkers, idle pool then scaling
        bed.start_snmpd()
        bed.start_subagent()
        vstest.wait_for(lambda: a.pool_name.encode() in b"".join(
            v[1] for v in bed.walk(VS_MIB).values() if v[0] == "hex"), 20,
            what="the pool in VIRTSCALE-MIB")
        w = Walkers(bed, args.walkers)
        for t in w.run(args.walk_seconds):
            t.join()
        results["walk_idle"] = list(w.results)
        threads = w.run(args.walk_seconds)
        results["scaled"] = scale_loop(a, args.walk_seconds)
        for t in threads:
            t.join()
        results["walk_scaling"] = list(w.results)
        results["alive"] = {"virtscaled": a.proc.alive(), "virtscale-snmp": bed.sub.alive(),
                            "snmpd": bed.snmpd.alive()}
    finally:
        daemons.stop_all()
        a.cleanup()
        vstest.remove_domain(a.template)
        leftover = vstest.list_domains("vst-rel-")
        shutil.rmtree(tmp, ignore_errors=True)

    report(args, results, started, load0, log_bytes, leftover)


def report(args, r, started, load0, log_bytes, leftover):
    print(f"Run of {started}, {os.cpu_count()} CPUs, load average {load0:.1f} at the start.\n")
    rss = r["rss"]
    base = [k for _, ph, k in rss if ph == "no flood"]
    flood = [(t, k) for t, ph, k in rss if ph == "flood"]
    t_flood0 = flood[0][0] if flood else 0
    print("virtscaled RSS (VmRSS, KiB), every 10 s of the flood:\n")
    print("| t (s) | " + " | ".join(f"{int(t - t_flood0)}" for t, _ in flood[::10]) + " | after |")
    print("|---|" + "---|" * (len(flood[::10]) + 1))
    after = [k for _, ph, k in rss if ph == "after"]
    print("| RSS | " + " | ".join(str(k) for _, k in flood[::10]) +
          f" | {after[-1] if after else '-'} |")
    peak = max(k for _, k in flood) if flood else 0
    print(f"\nbefore the flood: {base[-1] if base else '-'} KiB; peak under the flood: {peak} KiB "
          f"(x{peak / base[-1]:.2f}); after: {after[-1] if after else '-'} KiB\n")
    i = r["intake"]
    fs = flood_summary(r["flood"][3])
    print(f"flood: {r['flood'][3]}; virtscaled counted lines={i['lines']} "
          f"accepted={i['accepted']} malformed={i['malformed']} oversized={i['oversized']} "
          f"invalid_utf8={i['invalid_utf8']} unknown_pool={i['unknown_pool']} "
          f"warnings_suppressed={i['warnings_suppressed']}; log {log_bytes / 1e6:.1f} MB; "
          f"answers read by the flood: {fs['answered'] / fs['sent']:.4f} of the lines sent\n")
    print("| forwarder's notifications | no flood (anchor) | flood | ratio of medians |")
    print("|---|---|---|---|")
    for label, col in (("high → scale-out done", 0), ("low → scale-in done", 1)):
        an, fl = r["anchor"][col], r["flood"][col]
        ad = [x for x in an if x is not None]
        fd = [x for x in fl if x is not None]
        ratio = (statistics.median(fd) / statistics.median(ad)) if ad and fd else float("nan")
        print(f"| {label} | {fmt_times(an)} | {fmt_times(fl)} | {ratio:.2f} |")
    an_rep, fl_rep = r["anchor"][2], r["flood"][2]
    print(f"| status reply (every 0.1 s) | median {statistics.median(an_rep) * 1e3:.1f} ms, "
          f"max {max(an_rep) * 1e3:.1f} ms | median {statistics.median(fl_rep) * 1e3:.1f} ms, "
          f"max {max(fl_rep) * 1e3:.1f} ms, {r['flood'][4]} unanswered | "
          f"{statistics.median(fl_rep) / statistics.median(an_rep):.2f} |\n")
    nr = flood_summary(r["noread"][3])
    ni = r["noread_intake"]
    nrss = [k for _, ph, k in r["rss_noread"] if ph == "noread"]
    nafter = [k for _, ph, k in r["rss_noread"] if ph == "after noread"]
    print(f"a client that never reads, {args.noread_seconds} s at full speed: "
          f"{r['noread'][3]}; virtscaled counted lines={ni['lines']}, "
          f"idle_closed={ni['idle_closed']}, evicted={ni['evicted']}; RSS during "
          f"{min(nrss)}..{max(nrss)} KiB, after {nafter[-1] if nafter else '-'} KiB; "
          f"forwarder: high → scale-out {fmt_times(r['noread'][0])}, "
          f"low → scale-in {fmt_times(r['noread'][1])}; status reply median "
          f"{statistics.median(r['noread'][2]) * 1e3:.1f} ms, max "
          f"{max(r['noread'][2]) * 1e3:.1f} ms, {r['noread'][4]} unanswered\n")
    if nr["stalled_clients"]:
        print(f"the non-reader was stopped {nr['stalled_at']:.2f} s after it began, after "
              f"{nr['sent_before_stall']:.0f} lines\n")
    print("| intake at full speed | lines/s | ratio |")
    print("|---|---|---|")
    print(f"| minimal reader (reader.c, anchor) | {r['reader_lps']:.0f} | 1.00 |")
    print(f"| virtscaled | {r['vs_lps']:.0f} | {r['vs_lps'] / r['reader_lps']:.2f} |\n")
    print(f"| {args.walkers} walkers, {args.walk_seconds} s | walks | failed | median s | "
          "p95 s | max s | ratio of medians |")
    print("|---|---|---|---|---|---|---|")
    idle = r["walk_idle"]
    mi = statistics.median(x[0] for x in idle)
    for label, ws in (("pool idle (anchor)", idle),
                      (f"scaling ({r['scaled'][0]} outs, {r['scaled'][1]} ins)",
                       r["walk_scaling"])):
        ts = [x[0] for x in ws]
        print(f"| {label} | {len(ws)} | {sum(1 for x in ws if not x[1])} | "
              f"{statistics.median(ts):.3f} | {pct(ts, 0.95):.3f} | {max(ts):.3f} | "
              f"{statistics.median(ts) / mi:.2f} |")
    print(f"\nstill running at the end: {r['alive']}; domains left: {leftover or 'none'}")


if __name__ == "__main__":
    main()
