#!/usr/bin/python3
"""bench/scale: how every cost of virtscale grows with the number of running
domains on one host, each N measured in one run.

For each N (default 10 50 100 200 running halt-disk KVM domains of 48 MiB,
vst-bench-sNNN, 1 vCPU, a qcow2 disk, a tap NIC), the domains started in
batches and the machine left to settle, then:

  collection  CPU per second (collecting process + libvirtd + the domains'
              QEMU processes, /proc/PID/stat) of collectd's stock virt plugin
              (Interval 1, the anchor), vs-collect-dump with every group every
              second, vs-collect-dump at the default cadence, and nothing
              collecting; reported per domain
  snmp        a full snmpbulkwalk -Cr50 of VM-MIB + VIRTSCALE-MIB through snmpd
              and virtscale-snmp, against an equally sized static table
              (bench/snmp-walk/static-table.c) behind the same snmpd, sized
              once our walk stops growing: us per varbind and walk time, and
              the CPU time per varbind of virtscale-snmp, the static table's
              process, snmpd and the walking client in the same walks
  dispatch    CPU of collectd's read threads per interval with virtscale.so
              (default cadence), against the stock virt plugin's read threads
              in the collection window above
  rss         VmRSS of virtscale-snmp, of collectd with virtscale.so and of
              collectd with the stock virt plugin
  start       `virsh start` of one more (defined) domain -> virsh returns (the
              anchor), its vmOperState running(4) in VM-MIB, its first
              virt_cpu_total value written by collectd (csv)

    flock /tmp/vs-itest.lock env VS_BUILDDIR=$PWD/build-bench \\
        bench/scale/run.py --dat docs/scale.dat    # then bench/scale/plot.sh

Prints a markdown table per measure and writes one line per N to --dat (the
input of plot.gp). A build without sanitizers (VS_BUILDDIR).
"""
import argparse
import concurrent.futures
import glob
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
import collectdtest as ct  # noqa: E402
import vstest  # noqa: E402
from snmpbed import COL, VM_ENTRY, VM_MIB, SnmpBed, snmp_env  # noqa: E402


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


collector = _load("bench_collector", os.path.join(SRCDIR, "bench", "collector", "measure.py"))
walkbench = _load("bench_walk", os.path.join(SRCDIR, "bench", "snmp-walk", "run.py"))

PREFIX = "vst-bench-s"
EXTRA = "vst-bench-x"
TICK = os.sysconf("SC_CLK_TCK")
DUMP = vstest.build_path("tests", "tools", "vs-collect-dump")
MEM_MIB = 48
BATCH = 20
SLOW = 10  # virtscale-snmp's and virtscale.so's slow_interval (s)


def log(msg):
    print(f"# {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def run_ns(path):
    """Time on CPU in ns from a schedstat file (clock ticks are too coarse
    for a read callback of a few hundred microseconds)."""
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def reader_tids(pid):
    """collectd's read threads (named reader#N): where a read callback runs."""
    out = []
    for d in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(os.path.join(d, "comm")) as f:
                if f.read().startswith("reader#"):
                    out.append(os.path.basename(d))
        except OSError:
            pass
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_window(window, pid=None, readers=False):
    """CPU seconds per second over the window: collector, libvirtd, qemu (the
    bench's domains), total; with @readers, 'reader' = collectd's read threads."""
    paths = {"collector": [pid] if pid else [], "libvirtd": [vstest.libvirtd_pid()],
             "qemu": vstest.qemu_pids(PREFIX)}
    rpaths = [f"/proc/{pid}/task/{t}/schedstat" for t in reader_tids(pid)] if readers else []
    start = {k: {p: vstest.stat_ticks(p) for p in v} for k, v in paths.items()}
    rstart = {p: run_ns(p) for p in rpaths}
    t0 = time.monotonic()
    time.sleep(window)
    dt = time.monotonic() - t0
    out = {}
    for k, v in start.items():
        total = 0
        for p, a in v.items():
            b = vstest.stat_ticks(p)
            if a is not None and b is not None and b >= a:
                total += b - a
        out[k] = total / TICK / dt
    if readers:
        out["reader"] = sum(b - a for a, b in ((rstart[p], run_ns(p)) for p in rpaths)
                            if a is not None and b is not None and b >= a) / 1e9 / dt
    out["total"] = out["collector"] + out["libvirtd"] + out["qemu"]
    return out


def grow_to(n, have):
    """Defines and starts domains have..n-1 in batches, each batch left to
    boot: the host has N domains, all running (defined ones would be rows,
    values and records of their own)."""
    for first in range(have, n, BATCH):
        parallel(lambda i: vstest.define_domain(f"{PREFIX}{i:03d}", start=False,
                                                mem_mib=MEM_MIB, tap=f"vstsc{i:03d}"),
                 [(i,) for i in range(first, min(first + BATCH, n))])
        for i in range(first, min(first + BATCH, n)):
            vstest.virsh("start", f"{PREFIX}{i:03d}", timeout=300)
        q, _ = vstest.wait_qemu_idle(PREFIX, min(first + BATCH, n), 240)
        log(f"{min(first + BATCH, n)} running, qemu {q * 1000:.0f} ms/s")
    time.sleep(5)


def parallel(fn, items):
    """libvirtd takes several defines or removals at once."""
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for f in [ex.submit(fn, *i) for i in items]:
            f.result()


def remove_all():
    parallel(vstest.remove_domain, [(n,) for n in vstest.list_domains("vst-bench-")])


def run_proc(argv, env=None):
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=env)


def stop_proc(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def collection(tmp, window, warmup, reps):
    """Rows idle / stock / all / default, interleaved @reps times; medians.
    The stock row also gives its read threads' CPU and collectd's RSS."""
    conf = collector.collectd_conf(tmp)
    dump = [DUMP, "-q", "-u", vstest.URI]
    argvs = {"stock": ["collectd", "-f", "-C", conf], "all": dump + ["--all-every-refresh"],
             "default": dump}
    runs = {k: [] for k in ("idle", "stock", "all", "default")}
    rss = []
    for _ in range(reps):
        runs["idle"].append(cpu_window(window))
        for k, argv in argvs.items():
            p = run_proc(argv)
            try:
                time.sleep(warmup)
                if p.poll() is not None:
                    raise RuntimeError(f"{argv[0]} exited with {p.returncode}")
                runs[k].append(cpu_window(window, p.pid, readers=k == "stock"))
                if k == "stock":
                    rss.append(rss_kib(p.pid))
            finally:
                stop_proc(p)
    r = {k: {x: statistics.median(run[x] for run in v) for x in v[0]} for k, v in runs.items()}
    r["stock_rss"] = statistics.median(rss)
    return r


def snmp_walks(bed, static_exe, daemons, repeat):
    """The snmp-walk bench's measure, for whatever domains the host has."""
    r = walkbench.walks_against_static(bed, static_exe, daemons, repeat, slow=SLOW, idle=SLOW)
    log(f"walks: {r['vb_stable']} varbinds, stable after {r['waited']:.0f} s")
    return dict(r, us_ours=r["per_ours"] * 1e6, us_anchor=r["per_anchor"] * 1e6,
                cpu_us={k: v * 1e6 for k, v in r["cpu"].items()})


def plugin_collectd(tmp):
    """collectd with virtscale.so at its default cadence (1 s, monitor groups
    10 s), csv into tmp/csv (for the first-value time), no other plugin."""
    vs_conf = ct.write_vs_config(os.path.join(tmp, "vs.conf"), os.path.join(tmp, "a.sock"), tmp,
                                 slow=SLOW)
    conf = ct.write_collectd_conf(tmp, vs_conf, plugin_block="  ForwardNotifications false\n"
                                  "  ForwardThresholds false")
    text = open(conf).read().replace("LoadPlugin load\n", "")
    open(conf, "w").write(text)
    env = dict(os.environ)
    env.update(ct.collectd_env())
    return run_proc([ct.COLLECTD, "-f", "-C", conf], env=env)


def oper_state(bed, idx):
    r = subprocess.run(["snmpget", "-v2c", "-c", "public", "-On", "-Oqv", "-t", "1", "-r", "0",
                        f"127.0.0.1:{bed.agent_port}", f"{VM_ENTRY}.{COL['oper']}.{idx}"],
                       capture_output=True, text=True, env=snmp_env(), timeout=10)
    return r.stdout.strip()


def start_one(bed, cd_tmp, name):
    """Seconds from `virsh start NAME` to: virsh returned, vmOperState
    running(4), the first virt_cpu_total value in collectd's csv."""
    idx = bed.wait_rows(name, timeout=60)[name]
    assert oper_state(bed, idx) != "4", f"{name} already running"
    cpu_files = os.path.join(cd_tmp, "csv", "vstcd", f"virtscale-{name}", "virt_cpu_total-*")
    t0 = time.monotonic()
    p = subprocess.Popen(["virsh", "-q", "-c", vstest.URI, "start", name],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_virsh = t_row = t_value = None
    while time.monotonic() - t0 < 60 and None in (t_virsh, t_row, t_value):
        if t_virsh is None and p.poll() is not None:
            t_virsh = time.monotonic() - t0
        if t_row is None and oper_state(bed, idx) == "4":
            t_row = time.monotonic() - t0
        if t_value is None and glob.glob(cpu_files):
            t_value = time.monotonic() - t0
    p.wait()
    return t_virsh, t_row, t_value


def interface_rows(bed):
    return len(bed.walk(VM_MIB + ".1.8.1.2", check=False, timeout=5))


def services(tmp, static_exe, n, args):
    """virtscale-snmp + snmpd, then collectd with virtscale.so: walks, RSS,
    dispatch time, start times."""
    d = tempfile.mkdtemp(prefix="snmp-", dir=tmp)
    daemons = walkbench.Daemons(d)
    cd_tmp = tempfile.mkdtemp(prefix="cd-", dir=tmp)
    cd = None
    try:
        bed = SnmpBed(d, daemons, agent_port=19130, trap_port=19131,
                      sections={"libvirt": {"slow_interval": SLOW}})
        bed.start_snmpd()
        bed.start_subagent()
        names = [f"{PREFIX}{i:03d}" for i in range(n)]
        bed.wait_rows(*names, timeout=180)
        # the NIC rows come with the first slow round of each domain
        vstest.wait_for(lambda: interface_rows(bed) >= n, 60, interval=1, what="NIC rows")
        w = snmp_walks(bed, static_exe, daemons, args.walks)
        w["sub_rss"] = rss_kib(bed.sub.proc.pid)
        cd = plugin_collectd(cd_tmp)
        time.sleep(args.warmup + 2)
        if cd.poll() is not None:
            raise RuntimeError(f"collectd exited: {cd.returncode}")
        c = cpu_window(args.window, cd.pid, readers=True)
        w["plugin_reader"] = c["reader"]
        w["plugin_rss"] = rss_kib(cd.pid)
        starts = []
        for k in range(args.starts):
            name = f"{EXTRA}{k}"
            starts.append(start_one(bed, cd_tmp, name))
            vstest.virsh("destroy", name, check=False)
        w["starts"] = starts
        w["sub_rss_end"] = rss_kib(bed.sub.proc.pid)
        return w
    finally:
        if cd:
            stop_proc(cd)
        daemons.stop_all()


def div(a, b):
    return a / b if b else float("nan")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", type=int, nargs="*", default=[10, 50, 100, 200])
    ap.add_argument("--window", type=float, default=10, help="seconds per CPU window")
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--reps", type=int, default=2,
                    help="interleaved CPU windows per row (1 at the largest N)")
    ap.add_argument("--walks", type=int, default=5)
    ap.add_argument("--starts", type=int, default=2)
    ap.add_argument("--dat", help="write one line per N here (plot.gp's input)")
    ap.add_argument("--raw", help="write every figure measured here (JSON), after each N")
    ap.add_argument("--report-from", metavar="RAW",
                    help="measure nothing: print the tables (and --dat) of a --raw file")
    args = ap.parse_args()
    if args.report_from:
        with open(args.report_from) as f:
            raw = json.load(f)
        res = {int(n): r for n, r in raw["res"].items()}
        args.starts = raw["starts"]
        report(res, args)
        return
    if not os.access(DUMP, os.X_OK):
        sys.exit(f"build first: {DUMP} missing (set VS_BUILDDIR)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sizes = sorted(args.sizes)
    tmp = tempfile.mkdtemp(prefix="vs-bench-scale-")
    res = {}
    t_start = time.monotonic()
    try:
        static_exe = walkbench.build_static_table(tmp)
        remove_all()
        # the domains started one more at a time: defined, shut off
        for k in range(args.starts):
            vstest.define_domain(f"{EXTRA}{k}", start=False, mem_mib=MEM_MIB, tap=f"vstsx{k}")
        have = 0
        for n in sizes:
            grow_to(n, have)
            have = n
            running = len(vstest.virsh("list", "--name").stdout.split())
            log(f"N={n} ({running} running on the host): collection")
            # the largest N once: its domains cost the most time to boot
            r = collection(tmp, args.window, args.warmup, 1 if n == sizes[-1] else args.reps)
            log(f"N={n}: snmp, collectd plugin, starts")
            r.update(services(tmp, static_exe, n, args))
            r["running"] = running
            res[n] = r
            log(f"N={n} done: {r!r}")
            if args.raw:
                with open(args.raw, "w") as f:
                    json.dump({"starts": args.starts, "res": res}, f, indent=1)
    except Exception:  # what was measured is still reported
        traceback.print_exc()
    finally:
        log("removing the domains")
        remove_all()
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"whole run {time.monotonic() - t_start:.0f} s")
    if res:
        report(res, args)


def report(res, args):
    sizes = sorted(res)
    n0 = sizes[0]

    def rel(n, f):
        return div(f(res[n]), f(res[n0]))

    print("Collection, CPU per domain (collector + libvirtd + QEMU, ms/s per domain):\n")
    print("| N | stock virt 1 s (anchor) | ours, every group 1 s | ours, default cadence | "
          "nothing collecting | every group / stock | default / stock |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        r = res[n]
        s, a, b, i = (r[k]["total"] * 1000 / n for k in ("stock", "all", "default", "idle"))
        print(f"| {n} | {s:.3f} | {a:.3f} | {b:.3f} | {i:.3f} | {div(a, s):.2f}x | "
              f"{div(b, s):.2f}x |")
    print("\nSNMP walk of VM-MIB + VIRTSCALE-MIB against the static table (anchor):\n")
    print("| N | varbinds (ours / anchor) | walk ms (ours / anchor) | µs per varbind "
          "(ours / anchor) | ratio | walk ms per domain |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        r = res[n]
        print(f"| {n} | {r['vb']:.0f} / {r['vb_anchor']:.0f} | {r['t_ours'] * 1e3:.1f} / "
              f"{r['t_anchor'] * 1e3:.1f} | {r['us_ours']:.1f} / {r['us_anchor']:.1f} | "
              f"{r['ratio']:.2f}x | {r['t_ours'] * 1e3 / n:.2f} |")
    print("\nThe same walks, CPU time per varbind of each process (µs; each process's "
          "rate with no walk subtracted; the client's own start subtracted):\n")
    print("| N | virtscale-snmp | static table (anchor) | ratio | snmpd serving ours / anchor "
          "| client ours / anchor | virtscale-snmp with no walk, ms/s (per domain) |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        c = res[n]["cpu_us"]
        idle = res[n]["idle_rate"]["sub"] * 1e3
        print(f"| {n} | {c['sub']:.2f} | {c['static']:.2f} | {div(c['sub'], c['static']):.2f}x | "
              f"{c['snmpd_ours']:.2f} / {c['snmpd_anchor']:.2f} | "
              f"{c['client_ours']:.2f} / {c['client_anchor']:.2f} | "
              f"{idle:.2f} ({idle / n:.3f}) |")
    print("\ncollectd read threads, CPU per 1 s interval, and RSS:\n")
    print("| N | virtscale.so ms | stock virt ms (anchor) | ratio | virtscale.so µs per domain "
          "| RSS KiB: virtscale-snmp / collectd + virtscale.so / collectd + virt |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        r = res[n]
        o, s = r["plugin_reader"] * 1e3, r["stock"]["reader"] * 1e3
        print(f"| {n} | {o:.3f} | {s:.3f} | {div(o, s):.2f}x | {o * 1e3 / n:.1f} | "
              f"{r['sub_rss']} / {r['plugin_rss']} / {r['stock_rss']:.0f} |")
    print("\n`virsh start` of one more domain to (ms, median of "
          f"{args.starts}):\n")
    print("| N | virsh returns (anchor) | VM-MIB row running | first collectd value | "
          "row / anchor |")
    print("|---|---|---|---|---|")
    for n in sizes:
        st = res[n]["starts"]
        v, row, val = (med(s[i] for s in st) * 1e3 for i in range(3))
        print(f"| {n} | {v:.0f} | {row:.0f} | {val:.0f} | {div(row, v):.2f}x |")
    print("\nGrowth from N = {0}: each per-domain cost at N over its value at N = {0}:\n"
          .format(n0))
    cols = [("collection stock", lambda r: r["stock"]["total"] / r["n"]),
            ("collection every group", lambda r: r["all"]["total"] / r["n"]),
            ("collection default", lambda r: r["default"]["total"] / r["n"]),
            ("µs per varbind", lambda r: r["us_ours"]),
            ("virtscale-snmp CPU per varbind", lambda r: r["cpu_us"]["sub"]),
            ("static table CPU per varbind", lambda r: r["cpu_us"]["static"]),
            ("snmpd CPU per varbind (ours)", lambda r: r["cpu_us"]["snmpd_ours"]),
            ("walk per domain", lambda r: r["t_ours"] / r["n"]),
            ("dispatch per domain", lambda r: r["plugin_reader"] / r["n"]),
            ("start → row", lambda r: med(s[1] for s in r["starts"])),
            ("start → collectd value", lambda r: med(s[2] for s in r["starts"]))]
    for n in sizes:
        res[n]["n"] = n
    print("| N | " + " | ".join(c for c, _ in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for n in sizes:
        print(f"| {n} | " + " | ".join(f"{rel(n, f):.2f}" for _, f in cols) + " |")
    if args.dat:
        with open(args.dat, "w") as f:
            f.write("# N stock_ms/s/dom all_ms/s/dom default_ms/s/dom idle_ms/s/dom "
                    "us/vb_ours us/vb_anchor walk_ms_ours walk_ms_anchor reader_ms_ours "
                    "reader_ms_stock rss_sub rss_plugin rss_stock start_virsh_ms start_row_ms "
                    "start_value_ms cpu_us/vb_sub cpu_us/vb_static cpu_us/vb_snmpd_ours "
                    "cpu_us/vb_snmpd_anchor cpu_us/vb_client_ours cpu_us/vb_client_anchor "
                    "varbinds_ours varbinds_anchor\n")
            for n in sizes:
                r = res[n]
                st = r["starts"]
                f.write(" ".join(str(round(x, 4)) for x in (
                    n, r["stock"]["total"] * 1e3 / n, r["all"]["total"] * 1e3 / n,
                    r["default"]["total"] * 1e3 / n, r["idle"]["total"] * 1e3 / n,
                    r["us_ours"], r["us_anchor"], r["t_ours"] * 1e3, r["t_anchor"] * 1e3,
                    r["plugin_reader"] * 1e3, r["stock"]["reader"] * 1e3, r["sub_rss"],
                    r["plugin_rss"], r["stock_rss"], *(med(s[i] for s in st) * 1e3
                                                       for i in range(3)),
                    *(r["cpu_us"][k] for k in ("sub", "static", "snmpd_ours", "snmpd_anchor",
                                               "client_ours", "client_anchor")),
                    r["vb"], r["vb_anchor"])) + "\n")


if __name__ == "__main__":
    main()
