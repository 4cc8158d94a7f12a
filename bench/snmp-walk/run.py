#!/usr/bin/python3
"""bench/snmp-walk: the cost of a full walk of VM-MIB + VIRTSCALE-MIB served
by virtscale-snmp, per varbind, against the limit of the path it goes
through: an equally sized in-memory table (static-table.c, net-snmp's
table_data_set helper with static data) behind the same snmpd over AgentX, in
the same run. Then the stall test: libvirtd stopped (SIGSTOP) for 5, 10 and
30 s while walks go on; the longest answer is reported.

    VS_BUILDDIR=build bench/snmp-walk/run.py [--domains 10 50] [--stall 5 10 30]

Real libvirtd + QEMU domains (vst-snmp-bNN, halt disk, tap NIC), a real snmpd
on 127.0.0.1:19120 (AgentX on a private socket). Prints a markdown table.
"""
import argparse
import glob
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import vstest  # noqa: E402
from snmpbed import VM_MIB, VS_MIB, SnmpBed, snmp_env  # noqa: E402

PREFIX = "vst-snmp-b"
STATIC_OID = "1.3.6.1.4.1.8072.9999.9998"
COLUMNS = 10


class Daemons:
    def __init__(self, logdir):
        self.logdir = logdir
        self.started = []

    def __call__(self, argv, **kw):
        d = vstest.Daemon(argv, self.logdir, **kw)
        self.started.append(d)
        return d

    def stop_all(self):
        for d in reversed(self.started):
            d.stop()


def build_static_table(outdir):
    exe = os.path.join(outdir, "static-table")
    cflags = subprocess.run(["net-snmp-config", "--base-cflags"], capture_output=True,
                            text=True, check=True).stdout.split()
    libs = subprocess.run(["net-snmp-config", "--agent-libs"], capture_output=True, text=True,
                          check=True).stdout.split()
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "static-table.c"), *cflags,
                    *libs], check=True)
    return exe


def ensure_domains(n):
    have = set(vstest.list_domains(PREFIX))
    for i in range(1, n + 1):
        name = f"{PREFIX}{i:02d}"
        if name not in have:
            vstest.define_domain(name, tap=f"vstsb{i:02d}")


def timed(argv):
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, env=snmp_env(), timeout=120)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{argv}: {r.stderr}")
    return dt, r.stdout.count("\n")


def cpu_ns(pid):
    """CPU time of every thread of @pid so far, in ns: the sum of
    /proc/PID/task/*/schedstat, the scheduler's own count of what
    /proc/PID/stat reports as utime+stime in 10 ms ticks (too coarse for a
    walk of a few ms)."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            pass  # a thread gone between the listing and the read
    return total


def children_cpu():
    """CPU seconds (user + system) of every waited-for child so far: the
    walking client's, read before and after each walk."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed_cpu(argv, pids):
    """timed(@argv), plus the CPU the client used and the CPU each process of
    @pids ({name: pid}) used meanwhile (s)."""
    before = {k: cpu_ns(p) for k, p in pids.items()}
    c0 = children_cpu()
    dt, count = timed(argv)
    cpu = {k: (cpu_ns(p) - before[k]) / 1e9 for k, p in pids.items()}
    cpu["client"] = children_cpu() - c0
    return dt, count, cpu


def walk_argv(port, oid, timeout=5):
    return ["snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Cr50", "-t", str(timeout), "-r",
            "0", f"127.0.0.1:{port}", oid]


def measure(bed, static_exe, daemons, n, repeat):
    """walks_against_static() with @n bench domains, once they have booted:
    a domain just started spends its first 20-30 s booting at most of a CPU,
    on the cores the walks need (bench/scale waits the same way)."""
    q, settled = vstest.wait_qemu_idle(PREFIX, n, 240)
    bed.wait_rows(*[f"{PREFIX}{i:02d}" for i in range(1, n + 1)], timeout=120)
    # wait for the slow groups (NIC rows) of every bench domain
    vstest.wait_for(lambda: len([k for k in bed.walk(VM_MIB + ".1.8.1.2", timeout=5)]) >= n,
                    30, what="NIC rows")
    return dict(walks_against_static(bed, static_exe, daemons, repeat), n=n, settled=settled,
                qemu_settled=q)


def our_varbinds(bed):
    return sum(timed(walk_argv(bed.agent_port, oid))[1] for oid in (VM_MIB, VS_MIB))


def stable_varbinds(bed, slow, max_wait):
    """The number of varbinds of our full walk once it stops growing: the
    same count in two walks at least one slow interval (@slow s: disks, NICs
    and every other slow group) apart, within @max_wait s (then the last
    count). Returns (count, seconds waited)."""
    t0 = time.monotonic()
    prev = our_varbinds(bed)
    while True:
        time.sleep(slow + 0.5)
        count = our_varbinds(bed)
        if count == prev or time.monotonic() - t0 > max_wait:
            return count, time.monotonic() - t0
        prev = count


def get_argv(port):
    """A one-varbind get: what starting a walk process costs."""
    return ["snmpget", "-v2c", "-c", "public", "-On", "-t", "5", "-r", "0", f"127.0.0.1:{port}",
            "1.3.6.1.2.1.1.3.0"]


def start_static(bed, static_exe, daemons, rows):
    """The static table of @rows rows behind bed's snmpd, once it answers."""
    static = daemons([static_exe, bed.sock, str(rows)], name=f"static-table-{rows}",
                     env=dict(os.environ, MIBS=""))
    vstest.wait_for(lambda: subprocess.run(walk_argv(bed.agent_port, STATIC_OID + ".1.1.2"),
                                           capture_output=True, text=True,
                                           env=snmp_env()).stdout.count("\n") == rows,
                    30, what="the static table")
    return static


def idle_rates(pids, seconds):
    """CPU s per s each process of @pids uses over @seconds with no walk."""
    before = {k: cpu_ns(p) for k, p in pids.items()}
    t0 = time.monotonic()
    time.sleep(seconds)
    dt = time.monotonic() - t0
    return {k: (cpu_ns(p) - before[k]) / 1e9 / dt for k, p in pids.items()}


def cpu_per_vb(walks, base, rate, proc, starts):
    """CPU s per varbind of @proc over all @walks (timed_cpu results), less
    its idle @rate times the walks' duration; the client's: less the CPU of
    @starts one-varbind gets (@base) per walk."""
    n = len(walks)
    total = sum(c[proc] for _, _, c in walks)
    if proc == "client":
        total -= starts * n * statistics.mean(c["client"] for _, _, c in base)
    else:
        total -= rate[proc] * sum(t for t, _, _ in walks)
    return total / sum(c for _, c, _ in walks)


def static_alone(bed, static_exe, daemons, rows, repeat, idle=3):
    """The anchor's path alone (no subagent walked, whatever domains run):
    walks of a static table of @rows rows behind snmpd; the wall time and the
    CPU per varbind of the static table's process, snmpd and the client."""
    static = start_static(bed, static_exe, daemons, rows)
    pids = {"snmpd": bed.snmpd.proc.pid, "static": static.proc.pid}
    rate = idle_rates(pids, idle)
    base, walks = [], []
    for _ in range(repeat):
        base.append(timed_cpu(get_argv(bed.agent_port), {}))
        walks.append(timed_cpu(walk_argv(bed.agent_port, STATIC_OID), pids))
    static.stop()
    b = statistics.median(t for t, _, _ in base)
    t = statistics.median(t for t, _, _ in walks)
    vb = statistics.median(c for _, c, _ in walks)
    return {"rows": rows, "vb": vb, "t": t, "per": max(t - b, 1e-9) / vb,
            "cpu": {k: cpu_per_vb(walks, base, rate, k, 1)
                    for k in ("static", "snmpd", "client")}}


def walks_against_static(bed, static_exe, daemons, repeat, slow=1, idle=5):
    """Our two walks (VM-MIB, VIRTSCALE-MIB) and the static table's walk, a
    table sized to the same varbinds behind the same snmpd, interleaved
    @repeat times; medians, and the cost per varbind of each. The table is
    sized once our walk has its every row (stable_varbinds, @slow the
    subagent's slow_interval).

    With the wall time, the CPU time each process spends per varbind: the
    subagent (virtscale-snmp) in our walks, the static-table process in the
    anchor's, snmpd in each, and the walking client in each. Every one of
    those processes also works when nobody walks (virtscale-snmp rebuilds its
    views every refresh, every process answers AgentX pings): that rate,
    measured over @idle s with no walk, times the walks' wall time, is
    subtracted. Also the CPU s per s of every QEMU process on the host over
    the walks (a booting domain takes most of a CPU from them)."""
    vb_stable, waited = stable_varbinds(bed, slow, max_wait=max(60, 6 * slow))
    static = start_static(bed, static_exe, daemons, math.ceil(vb_stable / COLUMNS))
    pids = {"sub": bed.sub.proc.pid, "snmpd": bed.snmpd.proc.pid, "static": static.proc.pid}
    rate = idle_rates(pids, idle)
    base, ours, anchor = [], [], []
    qemu = vstest.QemuCpu("")  # every domain on the host, the bench's or not
    for _ in range(repeat):  # interleaved: the machine is shared
        base.append(timed_cpu(get_argv(bed.agent_port), {}))
        w1 = timed_cpu(walk_argv(bed.agent_port, VM_MIB), pids)
        w2 = timed_cpu(walk_argv(bed.agent_port, VS_MIB), pids)
        ours.append((w1[0] + w2[0], w1[1] + w2[1], {k: w1[2][k] + w2[2][k] for k in w1[2]}))
        anchor.append(timed_cpu(walk_argv(bed.agent_port, STATIC_OID), pids))
    qemu_rate = qemu.rate()
    static.stop()
    b = statistics.median(t for t, _, _ in base)
    t_ours = statistics.median(t for t, _, _ in ours)
    vb = statistics.median(c for _, c, _ in ours)
    t_anchor = statistics.median(t for t, _, _ in anchor)
    vb_anchor = statistics.median(c for _, c, _ in anchor)
    # a walk costs one process start (b, the median of a one-varbind get);
    # ours is two walks (VM-MIB, VIRTSCALE-MIB), the anchor one
    per_ours = max(t_ours - 2 * b, 1e-9) / vb
    per_anchor = max(t_anchor - b, 1e-9) / vb_anchor

    cpu = {"sub": cpu_per_vb(ours, base, rate, "sub", 2),
           "static": cpu_per_vb(anchor, base, rate, "static", 1),
           "snmpd_ours": cpu_per_vb(ours, base, rate, "snmpd", 2),
           "snmpd_anchor": cpu_per_vb(anchor, base, rate, "snmpd", 1),
           "client_ours": cpu_per_vb(ours, base, rate, "client", 2),
           "client_anchor": cpu_per_vb(anchor, base, rate, "client", 1)}
    return {"vb": vb, "vb_anchor": vb_anchor, "vb_stable": vb_stable, "waited": waited,
            "t_ours": t_ours, "t_anchor": t_anchor, "base": b, "per_ours": per_ours,
            "per_anchor": per_anchor, "ratio": per_ours / per_anchor, "cpu": cpu,
            "idle_rate": rate, "qemu_rate": qemu_rate}


def stall(bed, seconds):
    """Walks of VM-MIB while libvirtd is stopped for @seconds; returns the
    longest walk, the number of walks and failures, and the unfrozen median."""
    normal = [timed(walk_argv(bed.agent_port, VM_MIB, timeout=1))[0] for _ in range(5)]
    pid = vstest.libvirtd_pid()
    assert pid, "no running libvirtd in its pid file"
    worst, walks, failures = 0.0, 0, 0
    os.kill(pid, signal.SIGSTOP)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                dt, _ = timed(walk_argv(bed.agent_port, VM_MIB, timeout=1))
                worst = max(worst, dt)
            except RuntimeError:
                failures += 1
            walks += 1
    finally:
        os.kill(pid, signal.SIGCONT)
    return {"s": seconds, "worst": worst, "walks": walks, "failures": failures,
            "normal": statistics.median(normal), "alive": bed.sub.alive()}


def main_static(args):
    tmp = tempfile.mkdtemp(prefix="vs-snmp-bench-")
    daemons = Daemons(tmp)
    results = []
    try:
        static_exe = build_static_table(tmp)
        bed = SnmpBed(tmp, daemons, agent_port=19120, trap_port=19121)
        bed.start_snmpd()
        for rows in args.static_only:
            results.append(static_alone(bed, static_exe, daemons, rows, args.repeat))
    finally:
        daemons.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print("| rows | varbinds | walk ms | µs per varbind | CPU µs per varbind: static table / "
          "snmpd / client |")
    print("|---|---|---|---|---|")
    for r in results:
        c = {k: v * 1e6 for k, v in r["cpu"].items()}
        print(f"| {r['rows']} | {r['vb']:.0f} | {r['t'] * 1e3:.1f} | {r['per'] * 1e6:.1f} | "
              f"{c['static']:.2f} / {c['snmpd']:.2f} / {c['client']:.2f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--domains", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--stall", type=int, nargs="*", default=[5, 10, 30])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--keep", action="store_true", help="keep the bench domains")
    ap.add_argument("--static-only", type=int, nargs="+", metavar="ROWS",
                    help="no domains, no subagent: walk static tables of ROWS rows each "
                    "(in this order) and print their wall and CPU time per varbind")
    args = ap.parse_args()
    if args.static_only:
        return main_static(args)

    # SIGTERM runs the clean-up below too (daemons, domains)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    tmp = tempfile.mkdtemp(prefix="vs-snmp-bench-")
    daemons = Daemons(tmp)
    results, stalls = [], []
    try:
        static_exe = build_static_table(tmp)
        bed = SnmpBed(tmp, daemons, agent_port=19120, trap_port=19121)
        bed.start_snmpd()
        bed.start_subagent()
        for n in sorted(args.domains):
            ensure_domains(n)
            results.append(measure(bed, static_exe, daemons, n, args.repeat))
        for s in args.stall:
            stalls.append(stall(bed, s))
    finally:
        daemons.stop_all()
        if not args.keep:
            vstest.remove_domains(PREFIX)
        shutil.rmtree(tmp, ignore_errors=True)

    print("| domains | varbinds (ours / anchor) | walk ms (ours / anchor) | "
          "µs per varbind (ours / anchor) | ratio |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['n']} | {r['vb']:.0f} / {r['vb_anchor']:.0f} | "
              f"{r['t_ours'] * 1e3:.1f} / {r['t_anchor'] * 1e3:.1f} | "
              f"{r['per_ours'] * 1e6:.1f} / {r['per_anchor'] * 1e6:.1f} | "
              f"{r['ratio']:.2f}x |")
    print(f"\n(process start, subtracted per walk: {results[0]['base'] * 1e3:.1f} ms)\n")
    for r in results:
        print(f"({r['n']} domains: their QEMU processes idle ({r['qemu_settled'] * 1e3:.0f} ms/s) "
              f"{r['settled']:.0f} s after the last start; every QEMU process on the host "
              f"during the walks: {r['qemu_rate'] * 1e3:.0f} ms/s)")
    print()
    print("| domains | CPU µs per varbind: virtscale-snmp / static table | ratio | "
          "snmpd (ours / anchor) | client (ours / anchor) |")
    print("|---|---|---|---|---|")
    for r in results:
        c = {k: v * 1e6 for k, v in r["cpu"].items()}
        print(f"| {r['n']} | {c['sub']:.1f} / {c['static']:.1f} | {c['sub'] / (c['static'] or math.nan):.2f}x | "
              f"{c['snmpd_ours']:.1f} / {c['snmpd_anchor']:.1f} | "
              f"{c['client_ours']:.1f} / {c['client_anchor']:.1f} |")
    print()
    if stalls:
        print("| libvirtd stopped | walks | failed | longest walk ms | unfrozen walk ms | "
              "ratio | subagent alive |")
        print("|---|---|---|---|---|---|---|")
        for s in stalls:
            print(f"| {s['s']} s | {s['walks']} | {s['failures']} | {s['worst'] * 1e3:.1f} | "
                  f"{s['normal'] * 1e3:.1f} | {s['worst'] / s['normal']:.2f}x | "
                  f"{'yes' if s['alive'] else 'NO'} |")


if __name__ == "__main__":
    main()
