#!/usr/bin/python3
"""bench/migration: live migration of the web guest between two hypervisors
by path, against plain pre-copy in the same run.

  VS_BUILDDIR=build-bench /usr/bin/python3 bench/migration/run.py [--runs N]
      [--bandwidth MIBS] [--raw FILE]
  /usr/bin/python3 bench/migration/run.py --report FILE

One virtscaled, host A (qemu:///system) and host B (tests/hostb, a second
libvirtd on this machine), six pools of one guest each (tests/guest under
TCG, address = hostfwd): one guest per size (256, 512 MiB) and load (idle:
nothing dirtied; moderate: 8 MiB/s; heavy: 32 MiB/s, the most /cgi-bin/dirty
does). Every way of moving memory moves the same guest, so the ways differ
by nothing but the way: "plain" (always path 1, pre-copy), "path2" (always
pre-copy with XBZRLE, post-copy after migrate_max_iterations), "path3"
(always post-copy) and "auto" (the defaults, 10% and 50% of the guest's
memory per second), set with the pools' dirty-rate bounds, which virtscaled
reads at start: for each way virtscaled is started with that way's bounds
(the running guests stay), then each guest dirties its load and moves to
the other host with `virtscalectl migrate`, one at a time. The ways take
turns in the order plain, path2, path3, auto, reversed every other run, so
each way moves each guest A -> B as often as B -> A (with an even --runs).
status.json gives libvirt's figures (total time of the job, downtime,
bytes, passes) and the path taken. A migration still running after
--timeout seconds is aborted (virsh domjobabort) and counted as not
converged. --bandwidth caps libvirt's migration speed (MiB/s, 0: none).
Prints a markdown table: medians, and each figure as a ratio to plain
pre-copy's median of the same guest, and each way's total time as a ratio
to plain's in the same run. Cells are medians over the converged runs with
(min-max) beside them, the run-to-run spread. A converged migration
without libvirt's figures (virtscaled then records 0 bytes and its own
clock) counts as converged, not in the figures. --raw keeps every run's
records; --report prints their table again.

Domains vst-mbench-*, ports 19600-19639; everything is removed, host B
stopped. Run it under the test lock (flock /tmp/vs-itest.lock).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import hostb  # noqa: E402
import vstest  # noqa: E402
from actbed import Actuator  # noqa: E402

PREFIX = "vst-mbench-"
A = "qemu:///system"
SIZES = (256, 512)
MODES = {"plain": (1000, 1000), "path2": (0, 1000), "path3": (0, 0), "auto": (10, 50)}
LOADS = (("idle", 0), ("moderate", 8), ("heavy", 32))


def template(size):
    return f"{PREFIX}{size}-tmpl"


def pool_name(size, load):
    return f"m{size}-{load}"


def remove_everything(bed):
    hostb.remove_everywhere(PREFIX, bed)


def pool_of(act, name):
    return next(p for p in act.status()["pools"] if p["name"] == name)


def http(address, path, timeout=30):
    with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as r:
        return r.read().decode()


def member(act, pool):
    p = pool_of(act, pool)
    inst = [i for i in p["instances"] if i["state"] == "running" and i.get("address")]
    return inst[0] if inst else None


def migrate(act, bed, pool, timeout):
    """Moves the pool's guest to the other host: its status.json record, or
    None when it did not converge within @timeout s (then aborted)."""
    m = member(act, pool)
    name, here = m["name"], m["host"]
    to = "b" if here == A else "a"
    done = {}
    t = threading.Thread(target=lambda: done.update(r=act.ctl("migrate", name, to)))
    t.start()
    t.join(timeout)
    if t.is_alive():
        vstest.virsh("domjobabort", name, uri=here, check=False)
        t.join(120)
        return None
    if done["r"].returncode != 0:
        raise RuntimeError(done["r"].stdout + done["r"].stderr)
    return pool_of(act, pool)["migration"]


def one(act, bed, pool, mib, bandwidth, timeout):
    m = vstest.wait_for(lambda: member(act, pool), 120, interval=0.2, what=f"{pool} serving")
    if bandwidth:
        vstest.virsh("migrate-setspeed", m["name"], str(bandwidth),
                     uri=m["host"] if m["host"] == A else bed.uri)
    http(m["address"], f"/cgi-bin/dirty?{mib}")
    time.sleep(3 if mib else 0.5)
    try:
        return migrate(act, bed, pool, timeout)
    finally:
        m = vstest.wait_for(lambda: member(act, pool), 120, interval=0.2, what=f"{pool} back")
        vstest.wait_for(lambda: http(m["address"], "/cgi-bin/dirty?0", timeout=5), 60,
                        interval=1, what="dirtying stopped")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--bandwidth", type=int, default=0, help="MiB/s, 0: no cap")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--raw", help="also write every run's records here (JSON)")
    ap.add_argument("--report", metavar="RAW",
                    help="only print the table of the records --raw wrote there")
    a = ap.parse_args()
    if a.report:
        with open(a.report) as f:
            rows = {(size, load, mode): recs for size, load, mode, recs in json.load(f)}
        print(f"# bench/migration, the records of {a.report}\n")
        report(rows)
        return
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="vs-mbench-")
    bed = hostb.HostB(os.path.join(tmp, "hostb"), port=19639)
    os.makedirs(bed.dir)
    bed.start()
    proc = None
    rows = {}  # (size, load, mode) -> [record or None]
    log = open(os.path.join(tmp, "virtscaled.log"), "ab")

    def start(act):
        p = subprocess.Popen([vstest.build_path("actuator", "virtscaled"), "-f", "-c", act.conf],
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        vstest.wait_for(lambda: os.path.exists(act.sock) or p.poll() is not None, 20,
                        what="the socket")
        for n in pools:
            vstest.wait_for(lambda: member(act, n), 600, interval=0.5, what=f"{n} serving")
        return p

    def stop(p):
        p.terminate()
        p.wait(120)
        if os.path.exists(act.sock):
            os.unlink(act.sock)

    try:
        remove_everything(bed)
        for size in SIZES:
            hostb.define_web_template(template(size), 19600, None, quota=-1, mem_mib=size)
            hostb.define_web_template(template(size), 19600, bed, quota=-1, mem_mib=size)
        base = {"min": 1, "max": 1, "policy": "average", "lb": "none", "hosts": "a b",
                "placement": "fewest", "address": "hostfwd", "probe": "http:/",
                "probe_timeout": 300, "cooldown": 0, "stabilization": 0, "drain_timeout": 0,
                "shutdown_timeout": 2, "repeat_interval": 1, "migrate_unsafe": "yes"}
        pools = {}
        port = 19601
        for size in SIZES:
            for load, _ in LOADS:
                pools[pool_name(size, load)] = {
                    **base, "template": template(size),
                    "name_pattern": f"{PREFIX}{size}{load}-%02d",
                    "hostfwd_ports": f"{port}-{port + 3}"}
                port += 4
        first = pool_name(SIZES[0], LOADS[0][0])
        hosts = {"host a": {"uri": A, "migrate_uri": "tcp://127.0.0.1"},
                 "host b": {"uri": bed.uri, "hostfwd_address": bed.hostfwd_address,
                            "partition": bed.partition, "migrate_uri": "tcp://127.0.0.1"}}
        act = Actuator(os.path.join(tmp, "act"), None, "x", pools[first]["hostfwd_ports"],
                       namespace="mbench", pool=pools[first], sections=hosts)
        act.pool_name = first

        def configure(mode):
            """Every pool with @mode's dirty-rate bounds."""
            low, high = MODES[mode]
            for p in pools.values():
                p.update(migrate_dirty_low=low, migrate_dirty_high=high)
            act.pool = pools[first]
            act.sections = {**hosts, **{f"pool {n}": p for n, p in pools.items() if n != first}}
            act.write_config()

        current = None
        for i in range(a.runs):
            modes = list(MODES) if i % 2 == 0 else list(reversed(MODES))
            for mode in modes:
                if mode != current:  # the first start boots the guests
                    if proc:
                        stop(proc)
                        proc = None
                    configure(mode)
                    proc = start(act)
                    current = mode
                for size in SIZES:
                    for load, mib in LOADS:
                        rec = one(act, bed, pool_name(size, load), mib, a.bandwidth, a.timeout)
                        rows.setdefault((size, load, mode), []).append(rec)
                        print(f"run {i} {size} MiB {load} {mode}: {rec}", file=sys.stderr,
                              flush=True)
    finally:
        if proc:
            proc.terminate()
            proc.wait(120)
        remove_everything(bed)
        bed.stop()

    if a.raw:
        with open(a.raw, "w") as f:
            json.dump([[size, load, mode, recs] for (size, load, mode), recs in rows.items()], f)
    print(f"# bench/migration, {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, {a.runs} run(s) in "
          f"{time.monotonic() - started:.0f} s, bandwidth "
          f"{a.bandwidth or 'not capped'}{' MiB/s' if a.bandwidth else ''}\n")
    report(rows)


def figures(r):
    """Has libvirt's figures: a converged migration whose completed job
    libvirt reported (after post-copy the destination may not have them;
    then virtscaled records 0 bytes and its own clock)."""
    return r and r["result"] == "ok" and r["bytes"] > 0


def report(rows):
    med = statistics.median

    def spread(vals, fmt):
        """median (min-max) of @vals, or "-" """
        vals = [v for v in vals if v is not None]
        if not vals:
            return "-"
        m = fmt.format(med(vals))
        return m if len(vals) == 1 else f"{m} ({fmt.format(min(vals))}-{fmt.format(max(vals))})"

    print("Cells: median over the converged runs with libvirt's figures (min-max); ratios: "
          "median of the way / median of plain; total / plain per run: that run's ratio, "
          "median (min-max); converged: runs that converged / runs (of which without "
          "libvirt's figures).\n")
    print("| guest | load | way | path taken | converged | total (ms) | downtime (ms) "
          "| transferred (MiB) | passes | total / plain | downtime / plain | bytes / plain "
          "| total / plain per run |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in SIZES:
        for load, mib in LOADS:
            def ok_recs(mode):
                return [r for r in rows[(size, load, mode)] if figures(r)]

            def fig(mode, key):
                ok = ok_recs(mode)
                return med(r[key] for r in ok) if ok else None
            for mode in MODES:
                recs = rows[(size, load, mode)]
                ok = ok_recs(mode)
                conv = [r for r in recs if r and r["result"] == "ok"]
                paths = sorted({f"{r['path']}{'+pc' if r['postcopy'] else ''}" for r in conv})
                cells = []
                for key in ("total_ms", "downtime_ms", "bytes"):
                    v, p = fig(mode, key), fig("plain", key)
                    cells.append(f"{v / p:.2f}" if v is not None and p else "-")
                per_run = [r["total_ms"] / p["total_ms"]
                           for r, p in zip(recs, rows[(size, load, "plain")])
                           if figures(r) and figures(p)]
                cells.append(spread(per_run, "{:.2f}"))
                print(f"| {size} MiB | {load} ({mib} MiB/s) | {mode} | {','.join(paths) or '-'} "
                      f"| {len(conv)}/{len(recs)}"
                      f"{f' ({len(conv) - len(ok)} without)' if len(conv) > len(ok) else ''} "
                      f"| {spread([r['total_ms'] for r in ok], '{:.0f}')} "
                      f"| {spread([r['downtime_ms'] for r in ok], '{:.0f}')} "
                      f"| {spread([r['bytes'] / 2**20 for r in ok], '{:.1f}')} "
                      f"| {spread([r['iterations'] for r in ok], '{:.0f}')} | "
                      + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
