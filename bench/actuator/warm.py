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


def one(a, ng, warm):
    vstest.wait_for(lambda: settled(a, 0, warm), 300, interval=0.2, what="ready")
    t0 = time.monotonic()
    a.notify("high")
    while not answered(ng.url):
        if time.monotonic() - t0 > 300:
            raise RuntimeError("no answer through nginx")
        time.sleep(0.005)
    took = time.monotonic() - t0
    a.notify("ok")
    vstest.wait_for(lambda: settled(a, 1, warm), 300, interval=0.2, what="refilled")
    vstest.wait_for(lambda: (a.notify("low"), a.pool_status()["actual"] == 0)[1], 120,
                    interval=0.5, what="back to 0")
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()[0]
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
            loopbed.define_template("vst-warm-bench-tmpl", TEMPLATE_PORT)
            for _, a, _, _ in beds:
                a.start()
            res = {m: [] for m, _, _, _ in beds}
            for i in range(args.runs):
                for k in range(len(beds)):
                    mode, a, ng, warm = beds[(i + k) % len(beds)]
                    res[mode].append(one(a, ng, warm))
                    print(f"run {i + 1} {mode}: {res[mode][-1]:.3f} s", file=sys.stderr)
        finally:
            for d in reversed(started):
                d.stop()
            for _, a, _, _ in beds:
                a.cleanup()
            vstest.remove_domain("vst-warm-bench-tmpl")
    cold = statistics.median(res["cold"])
    print(f"Load average at start: {load:.1f} (2 CPUs). Medians of {args.runs} runs.\n")
    print("| notification → first request served through nginx | seconds (median) | "
          "min .. max | ratio to cold, same run |")
    print("|---|---|---|---|")
    for mode, label in (("cold", "cold clone (anchor)"), ("paused", "warm, paused"),
                        ("saved", "warm, saved")):
        m = statistics.median(res[mode])
        print(f"| {label} | {m:.3f} | {min(res[mode]):.3f} .. {max(res[mode]):.3f} | "
              f"{m / cold:.3f} |")


if __name__ == "__main__":
    main()
