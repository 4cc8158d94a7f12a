#!/usr/bin/python3
"""Collector benchmark: total CPU per second (collecting process + libvirtd +
every QEMU process) of our collector against collectd's stock virt plugin,
on the same running halt-disk domains, measured in one run.

Rows, for each N:
  stock      collectd 5.12 virt.so, Interval 1 (the anchor)
  (a)        vs-collect-dump --all-every-refresh, every group every 1 s
  (b)        vs-collect-dump default cadence: state + CPU every 1 s (local
             cgroup fast path), balloon/vcpu/block/interface every 10 s
  idle       nothing collecting (what libvirtd + QEMU cost anyway)

Prints a markdown table; ratios are against the stock plugin measured in
the same run. Usage: measure.py [--window S] [--warmup S] N [N...]
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
import vstest  # noqa: E402

PREFIX = "vst-bench-"
TICK = os.sysconf("SC_CLK_TCK")
DUMP = vstest.build_path("tests", "tools", "vs-collect-dump")


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def qemu_pids():
    """The QEMU processes of the benchmark's own domains (other domains on
    a host that runs other work come and go and would only add noise)."""
    return vstest.qemu_pids(PREFIX)


def measure(window, collector_pid=None):
    """CPU seconds per second over the window: (collector, libvirtd, qemu)."""
    groups = {"collector": [collector_pid] if collector_pid else [],
              "libvirtd": [vstest.libvirtd_pid()], "qemu": qemu_pids()}
    start = {k: {p: cpu_ticks(p) for p in v if p} for k, v in groups.items()}
    t0 = time.monotonic()
    time.sleep(window)
    dt = time.monotonic() - t0
    result = {}
    for k, pids in start.items():
        total = 0
        for p, t in pids.items():
            t1 = cpu_ticks(p)
            if t is not None and t1 is not None and t1 >= t:
                total += t1 - t  # processes gone meanwhile are left out
        result[k] = total / TICK / dt
    result["total"] = sum(result.values())
    return result


def retry(fn, *args, attempts=5, **kw):
    """libvirtd may be shared with other work that restarts it now and then."""
    for i in range(attempts):
        try:
            return fn(*args, **kw)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            if i == attempts - 1:
                raise
            time.sleep(3)


def start_domains(n):
    vstest.ensure_halt_disk()
    retry(vstest.remove_domains, PREFIX)
    names = []
    for i in range(n):
        name = f"{PREFIX}{i:02d}"
        if name not in vstest.list_domains(name):
            vstest.define_domain(name, start=False, tap=f"vstb{i:02d}")
        if vstest.virsh("domstate", name, check=False).stdout.strip() != "running":
            retry(vstest.virsh, "start", name)
        names.append(name)
    # wait until SeaBIOS has handed over to the halt sector everywhere
    deadline = time.monotonic() + 60 + 4 * n
    while time.monotonic() < deadline:
        pids = qemu_pids()
        a = sum(cpu_ticks(p) or 0 for p in pids)
        time.sleep(3)
        b = sum(cpu_ticks(p) or 0 for p in pids)
        # booting: about a core each; booted: a few ms/s each (other
        # collectors on a shared host may poll every domain)
        if (b - a) / TICK / 3 < 0.05 + 0.01 * n:
            break
    return names


def collectd_conf(d):
    conf = os.path.join(d, "collectd.conf")
    with open(conf, "w") as f:
        f.write(f"""Interval 1
BaseDir "{d}"
PIDFile "{d}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
FQDNLookup false
LoadPlugin virt
<Plugin virt>
  Connection "qemu:///system"
  RefreshInterval 60
  HostnameFormat name
</Plugin>
""")
    return conf


def run_row(argv, window, warmup):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        time.sleep(warmup)
        if p.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited with {p.returncode}")
        return measure(window, p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


LABELS = {"stock": ("collectd stock virt, 1 s (anchor)", ""),
          "a": ("(a) ours, every group every 1 s", "<= 1.0x"),
          "b": ("(b) ours default: state+CPU 1 s (cgroup), monitor groups 10 s", "<= 0.33x"),
          "idle": ("nothing collecting", "")}


def print_header():
    print("| N | running domains on host | row | collector ms/s | libvirtd ms/s | qemu ms/s "
          "| total ms/s | ratio to stock | above idle, ratio | target |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)


def print_rows(n, total, r):
    base = r["stock"]["total"]
    idle = r["idle"]["total"]
    for k in ("stock", "a", "b", "idle"):
        v = r[k]
        above = (v["total"] - idle) / (base - idle) if base > idle else float("nan")
        print(f"| {n} | {total} | {LABELS[k][0]} | {v['collector']*1000:.1f} | "
              f"{v['libvirtd']*1000:.1f} | {v['qemu']*1000:.1f} | {v['total']*1000:.1f} | "
              f"{v['total']/base:.2f}x | {above:.2f}x | {LABELS[k][1]} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions per N")
    ap.add_argument("n", type=int, nargs="+")
    args = ap.parse_args()
    if not os.access(DUMP, os.X_OK):
        sys.exit(f"build first: {DUMP} missing (set VS_BUILDDIR)")
    tmp = tempfile.mkdtemp(prefix="vs-bench-collector-")
    conf = collectd_conf(tmp)
    # -q: the tool prints host status only, so the figures are the cost of
    # collecting (every domain is still collected and published), not of
    # formatting JSON, which stock collectd without a writer does not do.
    dump = [DUMP, "-q", "-u", vstest.URI]
    print_header()
    try:
        for n in args.n:
            print(f"# starting {n} halt-disk domains...", file=sys.stderr, flush=True)
            retry(start_domains, n, attempts=3)
            domains_total = len(vstest.virsh("list", "--name").stdout.split())
            # Interleaved repetitions; the median of each row is reported
            # because the shared host's load changes under our feet.
            runs = {k: [] for k in ("idle", "stock", "a", "b")}
            for rep in range(args.reps):
                runs["idle"].append(measure(args.window))
                runs["stock"].append(run_row(["collectd", "-f", "-C", conf], args.window,
                                             args.warmup))
                runs["a"].append(run_row(dump + ["--all-every-refresh"], args.window,
                                         args.warmup))
                runs["b"].append(run_row(dump, args.window, args.warmup))
                for k, v in runs.items():
                    print(f"# N={n} rep={rep} {k}: " + " ".join(
                        f"{x}={y*1000:.1f}ms/s" for x, y in v[-1].items()),
                        file=sys.stderr, flush=True)
            r = {k: {x: statistics.median(run[x] for run in v) for x in v[0]}
                 for k, v in runs.items()}
            print_rows(n, domains_total, r)
            retry(vstest.remove_domains, PREFIX)
    finally:
        retry(vstest.remove_domains, PREFIX)


if __name__ == "__main__":
    main()
