#!/usr/bin/python3
"""bench/collectd: total CPU per second (collectd + libvirtd + every qemu
process) of collectd with the virtscale plugin against collectd's stock
`virt` plugin, on the same running domains, in the same run.

  anchor  stock virt plugin, Interval 1, cpu/vcpu/memory/disk/interface
          + ExtraStats cpu_util domain_state
  same    virtscale, Interval 1, SlowInterval 0 (every group every second)
  default virtscale, Interval 1, default SlowInterval (10 s)

Usage: bench/collectd/run.py [-n 10] [-n 50] [--seconds 20]
       VS_BUILDDIR=build-dir (a build without sanitizers: CPU figures)
Prints a markdown table; ratios are against the anchor of the same N.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import collectdtest as ct  # noqa: E402
import vstest  # noqa: E402

PREFIX = "vst-cd-bench-"
TICK = os.sysconf("SC_CLK_TCK")


def libvirtd_pids():
    pid = vstest.libvirtd_pid()
    return [pid] if pid else []


def cpu_seconds(pids):
    """pid -> utime + stime in seconds, for the pids still alive."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / TICK
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return out


def qemu_pids():
    """The QEMU processes of this benchmark's domains only (the machine is
    shared: other domains come and go)."""
    return vstest.qemu_pids(PREFIX)


def measure(pid_groups, seconds):
    """CPU seconds per wall second of each group over the window (pids
    alive at both ends)."""
    before = {k: cpu_seconds(p) for k, p in pid_groups.items()}
    t0 = time.monotonic()
    time.sleep(seconds)
    dt = time.monotonic() - t0
    after = {k: cpu_seconds(p) for k, p in pid_groups.items()}
    return {k: sum(after[k][p] - before[k][p] for p in after[k] if p in before[k]) / dt
            for k in pid_groups}


def stock_block():
    return """LoadPlugin virt
<Plugin virt>
  Connection "qemu:///system"
  RefreshInterval 60
  Domain "/^vst-cd-bench-/"
  IgnoreSelected false
  ExtraStats "cpu_util domain_state"
</Plugin>
"""


def run_collectd(tmp, conf, seconds, warmup):
    env = dict(os.environ)
    env.update(ct.collectd_env())
    log = open(os.path.join(tmp, "collectd.log"), "w")
    p = subprocess.Popen([ct.COLLECTD, "-f", "-C", conf], stdout=log, stderr=subprocess.STDOUT,
                         env=env)
    try:
        time.sleep(warmup)
        if p.poll() is not None:
            raise RuntimeError(f"collectd exited: see {log.name}")
        groups = {"collectd": [p.pid], "libvirtd": libvirtd_pids(), "qemu": qemu_pids()}
        return measure(groups, seconds)
    finally:
        p.terminate()
        p.wait(10)
        log.close()


def scenario(n, name, seconds, warmup):
    tmp = tempfile.mkdtemp(prefix="vscb")
    try:
        vs_conf = ct.write_vs_config(os.path.join(tmp, "vs.conf"), os.path.join(tmp, "a.sock"),
                                     tmp, slow=10)
        if name == "anchor":
            conf = ct.write_collectd_conf(tmp, vs_conf, extra=stock_block())
            # the stock plugin alone: drop our plugin from this config
            text = open(conf).read()
            text = text[:text.index("LoadPlugin virtscale")]
            open(conf, "w").write(text)
        elif name == "same":
            conf = ct.write_collectd_conf(tmp, vs_conf, plugin_block="  SlowInterval 0\n"
                                          "  ForwardNotifications false\n"
                                          "  ForwardThresholds false")
        else:
            conf = ct.write_collectd_conf(tmp, vs_conf, plugin_block="  ForwardNotifications "
                                          "false\n  ForwardThresholds false")
        # no writer: the plugins dispatch into collectd's cache only, so the
        # figure is the collection's cost, not csv's (a writer's cost grows
        # with the number of values, and ours dispatches more of them)
        text = open(conf).read()
        text = text.replace("LoadPlugin csv\n", "")
        text = text[:text.index("<Plugin csv>")] + text[text.index("</Plugin>",
                                                              text.index("<Plugin csv>")) + 10:]
        open(conf, "w").write(text)
        r = run_collectd(tmp, conf, seconds, warmup)
        return r, 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def settle(max_wait=150):
    """Waits until the domains are booted: qemu CPU under 5% of a core."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        q = measure({"qemu": qemu_pids()}, 3)["qemu"]
        if q < 0.002 * len(qemu_pids()) + 0.01:
            return q
    return q


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, action="append")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=6)
    args = ap.parse_args()
    sizes = args.n or [10]
    print("| N | collector | collectd CPU s/s | libvirtd CPU s/s | qemu CPU s/s | total CPU s/s "
          "| ratio to stock virt | ratio of the cost above idle |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    label = {"anchor": "stock `virt` plugin, 1 s (anchor, mean of a run before and after)",
             "same": "virtscale, same metrics, 1 s (SlowInterval 0)",
             "default": "virtscale, default cadence (1 s fast, 10 s slow)",
             "idle": "no collector (same window, before)"}
    for n in sizes:
        rows = []
        vstest.remove_domains(PREFIX)
        try:
            for i in range(n):
                name = f"{PREFIX}{i:02d}"
                vstest.define_domain(name, start=False, tap=f"vstcdb{i}")
                # a busy shared machine can take more than a minute to start one
                vstest.run(["virsh", "-q", "-c", vstest.URI, "start", name], timeout=300)
            settle()
            # the same window with no collector: what libvirtd (shared with
            # whatever else runs here) and the idle domains cost anyway
            idle = measure({"collectd": [], "libvirtd": libvirtd_pids(),
                            "qemu": qemu_pids()}, args.seconds)
            res = {}
            # the anchor before and after ours: drift (a boot tail, other
            # load on the shared machine) shows as a difference between them
            first = scenario(n, "anchor", args.seconds, args.warmup)
            for name in ("same", "default"):
                res[name] = scenario(n, name, args.seconds, args.warmup)
            last = scenario(n, "anchor", args.seconds, args.warmup)
            res["anchor"] = ({k: (first[0][k] + last[0][k]) / 2 for k in first[0]}, first[1])
            base = sum(res["anchor"][0].values())
            idle_tot = sum(idle.values())
            print(f"N={n}: anchor total before {sum(first[0].values()):.3f}, after "
                  f"{sum(last[0].values()):.3f} CPU s/s", file=sys.stderr)
            for name in ("anchor", "same", "default"):
                r, files = res[name]
                tot = sum(r.values())
                rows.append((n, name, r["collectd"], r["libvirtd"], r["qemu"], tot, tot / base,
                             (tot - idle_tot) / (base - idle_tot), files))
            rows.append((n, "idle", 0, idle["libvirtd"], idle["qemu"], idle_tot, None, None, 0))
        finally:
            vstest.remove_domains(PREFIX)
        for n_, name, c, l, q, tot, ratio, over, files in rows:
            rs = f"{ratio:.2f}x" if ratio is not None else "-"
            os_ = f"{over:.2f}x" if over is not None else "-"
            print(f"| {n_} | {label[name]} | {c:.3f} | {l:.3f} | {q:.3f} | {tot:.3f} | {rs} "
                  f"| {os_} |", flush=True)


if __name__ == "__main__":
    main()
