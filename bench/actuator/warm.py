#!/usr/bin/python3
"""bench/actuator/warm.py: notification -> first request served by the new
backend through nginx, for a cold clone, a warm paused instance and a warm
saved instance, in the same run.

  VS_BUILDDIR=build /usr/bin/python3 bench/actuator/warm.py [--runs N]

Three virtscaled, each with one pool of the tiny web guest (tests/guest,
TCG), min 0, max 1, its own nginx: warm = 0 (cold: clone, define, start,
probe, balancer), warm = 1 paused, warm = 1 saved. Each run, in turn for
each pool (the order rotates between runs): wait until the pool is idle with
0 running and its warm instance ready, send a "high" notification at t0, poll
the pool's nginx every 5 ms until a guest answers (the guests' page names
their UUID; before, nginx has no server up), then scale back to 0 once the
warm pool is refilled. The anchor is the cold clone of the same run. Prints a
markdown table. Domains vst-warm-bench-*, ports 19740-19799.

The memory cost, measured in the same runs: the resident set (VmRSS) of a
paused warm instance's QEMU process just before it is taken, the size of a
saved one's managed-save file (apparent and allocated; a saved instance has
no process), against the RSS of the running instance that serves once the
pool has settled.
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import lb_bed  # noqa: E402
import loopbed  # noqa: E402
import vstest  # noqa: E402
from actbed import Actuator  # noqa: E402

MODES = (("cold", {"warm": 0}, 19740, "19750-19759"),
         ("paused", {"warm": 1, "warm_mode": "paused"}, 19741, "19760-19769"),
         ("saved", {"warm": 1, "warm_mode": "saved"}, 19742, "19770-19779"))
TEMPLATE_PORT = 19743
GUEST_MIB = 96


def answered(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200 and re.search(rb"uuid [0-9a-f-]{36}", r.read())
    except OSError:
        return False


def settled(a, running, warm):
    st = a.pool_status()
    return (st["actual"] == running and st["warm"] == warm and
            st["phase"] in ("idle", "cooldown") and not a.open_ops())


SAVE_DIR = "/var/lib/libvirt/qemu/save"
QEMU_PID_DIR = "/run/libvirt/qemu"


def names(a, warm):
    return [i["name"] for i in a.pool_status()["instances"] if bool(i.get("warm")) == warm]


def rss_mib(name):
    """VmRSS of domain @name's QEMU process, in MiB (None without one)."""
    try:
        with open(os.path.join(QEMU_PID_DIR, name + ".pid")) as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def save_mib(name):
    """(apparent, allocated) MiB of domain @name's managed-save file."""
    st = os.stat(os.path.join(SAVE_DIR, name + ".save"))
    return st.st_size / 2**20, st.st_blocks * 512 / 2**20


def one(a, ng, warm, mode, mem):
    vstest.wait_for(lambda: settled(a, 0, warm), 300, interval=0.2, what="ready")
    if mode == "paused":
        mem["paused"] += [rss_mib(n) for n in names(a, True)]
    elif mode == "saved":
        mem["saved"] += [save_mib(n) for n in names(a, True)]
        mem["saved_rss"] += [rss_mib(n) for n in names(a, True)]
    t0 = time.monotonic()
    a.notify("high")
    while not answered(ng.url):
        if time.monotonic() - t0 > 300:
            raise RuntimeError("no answer through nginx")
        time.sleep(0.005)
    took = time.monotonic() - t0
    a.notify("ok")
    vstest.wait_for(lambda: settled(a, 1, warm), 300, interval=0.2, what="refilled")
    mem["running"] += [rss_mib(n) for n in names(a, False)]
    vstest.wait_for(lambda: (a.notify("low"), a.pool_status()["actual"] == 0)[1], 120,
                    interval=0.5, what="back to 0")
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    started = []

    def daemons(argv, **kw):
        d = vstest.Daemon(argv, tmp, **kw)
        started.append(d)
        return d

    with tempfile.TemporaryDirectory(prefix="vs-bench-warm-") as tmp:
        beds = []
        try:
            for mode, keys, ngport, ports in MODES:
                ng = lb_bed.Nginx(os.path.join(tmp, mode), daemons, port=ngport)
                pool = {"min": 0, "max": 1, "lb": "nginx", "probe": "http:/",
                        "probe_timeout": 300, "cooldown": 0, "stabilization": 0,
                        "template": "vst-warm-bench-tmpl", **keys}
                a = Actuator(os.path.join(tmp, mode, "act"), daemons, mode, ports,
                             pool=pool, sections={"nginx": dict(ng.nginx_keys)},
                             namespace="warm-bench")
                a.template = "vst-warm-bench-tmpl"
                a.cleanup()
                beds.append((mode, a, ng, keys["warm"]))
            loopbed.define_template("vst-warm-bench-tmpl", TEMPLATE_PORT, mem_mib=GUEST_MIB)
            for _, a, _, _ in beds:
                a.start()
            res = {m: [] for m, _, _, _ in beds}
            mem = {"paused": [], "saved": [], "saved_rss": [], "running": []}
            for i in range(args.runs):
                for k in range(len(beds)):
                    mode, a, ng, warm = beds[(i + k) % len(beds)]
                    res[mode].append(one(a, ng, warm, mode, mem))
                    print(f"run {i + 1} {mode}: {res[mode][-1]:.3f} s", file=sys.stderr)
        finally:
            for d in reversed(started):
                d.stop()
            for _, a, _, _ in beds:
                a.cleanup()
            vstest.remove_domain("vst-warm-bench-tmpl")
    cold = statistics.median(res["cold"])
    print(f"Run of {started_at} UTC. Load average at start: {load:.1f} ({os.cpu_count()} CPUs)."
          f" Medians of {args.runs} runs.\n")
    print("| notification → first request served through nginx | seconds (median) | "
          "min .. max | ratio to cold, same run |")
    print("|---|---|---|---|")
    for mode, label in (("cold", "cold clone (anchor)"), ("paused", "warm, paused"),
                        ("saved", "warm, saved")):
        m = statistics.median(res[mode])
        print(f"| {label} | {m:.3f} | {min(res[mode]):.3f} .. {max(res[mode]):.3f} | "
              f"{m / cold:.3f} |")

    print()
    print(f"Memory of the {GUEST_MIB} MiB guest (medians of {args.runs} runs):\n")
    print("| instance | QEMU resident set (MiB) | on disk (MiB) |")
    print("|---|---|---|")

    def med(xs):
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else float("nan")
    print(f"| running, serving (anchor) | {med(mem['running']):.1f} | – |")
    print(f"| warm, paused | {med(mem['paused']):.1f} | – |")
    saved_rss = [x for x in mem["saved_rss"] if x is not None]
    print(f"| warm, saved (managed-save file: apparent / allocated) | "
          f"{f'{med(saved_rss):.1f}' if saved_rss else 'no process'} | "
          f"{med([x[0] for x in mem['saved']]):.1f} / {med([x[1] for x in mem['saved']]):.1f} |")


if __name__ == "__main__":
    main()
