#!/usr/bin/python3
"""bench/closed-loop: the QoS thesis's Table 5-1 on this machine, then the
same load with virtscale scaling the pool.

Part 1 (Table 5-1): 275 concurrent clients through nginx against a fixed 3
and a fixed 5 web guests, round-robin and least_conn: average response time
and availability (responded / all requests).
Part 2: the same load against a pool virtscale scales between 2 and 6
(collectd + virtscale.so -> virtscaled -> libvirt + the load balancer), for
nginx and for Apache: availability, response time once scaled out, time to
the first and to the last scale-out, scaling actions (no flapping).

Part 3 (--ramp): the demo's load step (scripts/demo.sh: wrk with
scripts/demo/think.lua, 10 clients, then 275 clients each thinking a random
0..20 s between requests) against the pool of 2..6, once scaling out cold
one instance per action (warm = 0, step = 1: the anchor) and once with warm
instances and several instances per action (the demo's: warm = 2 paused,
step = 2, max_parallel = 4; --ramp-configs cold,warm:W:S,... for others),
in the same run: requests of the high phase answered, mean and p99 latency
(wrk's, per request), time from the load step to each scale-out and to the
pool's final size. Its timeline (every
0.5 s: running, warm, phase, and the latency of a lone probe request through
the balancer) goes to ramp-CONFIG.csv in the log directory.

Real everything: TCG web guests from tests/guest (CPU-capped through
<cputune>), siege as in the thesis (every client waits a random 0..DELAY s
before each request, one connection per request, 10 s timeout), nginx 1.22 /
httpd 2.4, collectd, virtscaled. Anchor of the ratios: the fixed 5 guests
with round-robin, measured in the same run.

  bench/closed-loop/run.sh [--seconds 40] [--clients 275] [--delay 14]
  bench/closed-loop/run.sh --skip-fixed --lbs none --ramp   # part 3 only

Domains vsdemo-b*, ports 18200-18299.
"""
import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
os.environ.setdefault("VS_BUILDDIR", os.path.join(TOP, "build-demo"))

import lb_bed  # noqa: E402
import loopbed  # noqa: E402
import vstest  # noqa: E402

PREFIX = "vsdemo-b"
TEMPLATE = "vsdemo-btmpl"
POOL = "vsbench"
NGINX_PORT, APACHE_PORT, APACHE_OTHER, SNMP_PORT = 18280, 18281, 18282, 18283
HOSTFWD = "18200-18259"


def say(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


class Daemons:
    """The `daemons` callable of the test beds, outside pytest."""

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
        self.started = []


def widen_nginx(nginx):
    """The test bed's nginx has 256 worker connections: 275 clients need
    more (each proxied request holds two)."""
    with open(nginx.conf) as f:
        text = f.read()
    with open(nginx.conf, "w") as f:
        f.write(text.replace("worker_connections 256;", "worker_connections 4096;")
                .replace("proxy_next_upstream off;", "proxy_next_upstream off; "
                         "proxy_read_timeout 60s;"))
    nginx.daemon.signal(signal.SIGHUP)
    time.sleep(1)


def pool_keys(a, min_, max_, lb):
    return {
        "template": TEMPLATE, "name_pattern": PREFIX + "%02d", "min": min_, "max": max_,
        # the demo's policy (scripts/demo.sh): average CPU of the capped
        # guests or sessions per instance, 3 of the last 5 samples
        "policy": "average", "cpu_high": int(a.quota / 1000 * 2 / 3), "cpu_low": 8,
        "sessions_high": 6, "sessions_low": 2, "debounce": "3/5", "sessions": "sockdiag",
        "lb": lb, "cooldown": 5, "stabilization": 15, "repeat_interval": 2,
        "address": "hostfwd", "hostfwd_ports": HOSTFWD, "probe": "http:/",
        "probe_timeout": 300, "drain_timeout": 5, "shutdown_timeout": 5,
    }


def nginx_section(nginx, method):
    return {"nginx": dict(nginx.nginx_keys, method=method)}


def apache_section(apache):
    return {"apache": dict(apache.apache_keys, timeout=5)}


def run_load(a, url, logdir, name, seconds):
    d = os.path.join(logdir, f"siege-{name}")
    os.makedirs(d, exist_ok=True)
    r = loopbed.siege(url + a.page, a.clients, seconds, d, delay_s=a.delay, timeout=a.timeout)
    say(f"  {name}: {r['transactions']} answered, {r['failed_transactions']} failed, "
        f"{r['response_time']:.2f} s average, availability {r['availability']:.1f}%")
    return r


def fixed_run(a, tmp, daemons, nginx, n, method):
    """One row of Table 5-1: n guests, nginx with method, the load for
    a.seconds."""
    loop = loopbed.Loop(os.path.join(tmp, f"fixed-{n}-{method}"), daemons, POOL,
                        pool_keys(a, n, n, "nginx"), nginx_section(nginx, method), SNMP_PORT)
    # virtscaled re-renders the upstream only when its members change: start
    # each method from the placeholder, so the members are added with it
    with open(nginx.upstream_file, "w") as f:
        f.write(lb_bed.NGINX_PLACEHOLDER)
    nginx.daemon.signal(signal.SIGHUP)
    loop.start(snmp=False, collectd=False)
    say(f"fixed {n} guests, {method}: waiting for them")
    loop.wait_steady(n, 300 * n)
    up = nginx.upstream_text()
    assert len(loopbed.upstream_servers(up)) == n, up
    assert ("least_conn;" in up) == (method == "least_conn"), up
    say(f"fixed {n} guests, {method}: {a.clients} clients for {a.seconds} s")
    r = run_load(a, nginx.url, loop.tmp, "load", a.seconds)
    loop.stop_actuator()
    return r


def autoscale_run(a, tmp, daemons, lb_name, url, lb_section):
    """The load against a pool of 2..6 that virtscale scales: phase A, the
    load for a.max_scale_seconds while the pool scales out (watched every
    second), then phase B, the same load for a.seconds once scaled out."""
    loopbed.remove_everything(PREFIX + "0")  # clones only, the template stays
    loopbed.remove_everything(PREFIX + "1")
    loop = loopbed.Loop(os.path.join(tmp, f"auto-{lb_name}"), daemons, POOL,
                        pool_keys(a, 2, 6, lb_name), lb_section, SNMP_PORT)
    loop.start(snmp=False, collectd=False)
    say(f"autoscale {lb_name}: waiting for the minimum of 2")
    loop.wait_steady(2, 600)
    loop.start_collectd()
    time.sleep(5)
    st0 = loop.status()
    outs0, ins0 = st0["scale_outs"], st0["scale_ins"]
    say(f"autoscale {lb_name}: {a.clients} clients for {a.max_scale_seconds} s while it scales")
    result_a = {}
    th = threading.Thread(target=lambda: result_a.update(
        run_load(a, url, loop.tmp, "a", a.max_scale_seconds)))
    th.start()
    t0 = time.monotonic()
    first = last = None
    outs = 0
    while True:
        time.sleep(1)
        t = time.monotonic() - t0
        st = loop.status()
        if st["scale_outs"] - outs0 > outs:
            outs = st["scale_outs"] - outs0
            last = t
            first = first if first is not None else t
            say(f"  scale-out #{outs} done at {t:.0f} s: {len(loop.running_of(st))} running")
        if not th.is_alive():
            break
    th.join()
    ra = result_a
    ta = time.monotonic() - t0
    say(f"autoscale {lb_name}: scaled out, {a.clients} clients for {a.seconds} s")
    rb = run_load(a, url, loop.tmp, "b", a.seconds)
    st = loop.status()
    loop.stop_actuator()
    loop.collectd.stop()
    return {"a": ra, "b": rb, "ta": ta, "first": first, "last": last,
            "outs": st["scale_outs"] - outs0,
            "ins": st["scale_ins"] - ins0, "failures": st["failures"],
            "running": len(loop.running_of(st))}


def ramp_config(label):
    """cold: warm = 0, one instance per action (the anchor); warm:W:S: W
    warm instances (paused), S instances per high (the demo's is warm:2:2)."""
    if label == "cold":
        return {"warm": 0, "step": 1, "max_step_up": 1, "max_parallel": 1}
    _, w, n = label.split(":")
    return {"warm": int(w), "warm_mode": "paused", "step": int(n),
            "max_step_up": max(int(n), 4), "max_parallel": 4}


class Probe(threading.Thread):
    """One request at a time through the balancer, every 0.5 s at most:
    (seconds since t0, latency in s or None when it failed)."""

    def __init__(self, url, t0):
        super().__init__(daemon=True)
        self.url, self.t0, self.points, self.running = url, t0, [], True

    def run(self):
        while self.running:
            t = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=60) as r:
                    r.read()
                    ok = r.status == 200
            except OSError:
                ok = False
            dt = time.monotonic() - t
            self.points.append((t - self.t0, dt if ok else None))
            time.sleep(max(0.0, 0.5 - dt))


def ramp_run(a, tmp, daemons, nginx, label, extra):
    """The demo's load step against the pool of 2..6 with @extra keys: 10
    clients for a.ramp_low seconds, then a.clients for a.ramp_seconds."""
    loopbed.remove_everything(PREFIX + "0")  # clones only, the template stays
    loopbed.remove_everything(PREFIX + "1")
    with open(nginx.upstream_file, "w") as f:
        f.write(lb_bed.NGINX_PLACEHOLDER)
    nginx.daemon.signal(signal.SIGHUP)
    keys = dict(pool_keys(a, 2, 6, "nginx"), **extra)
    loop = loopbed.Loop(os.path.join(tmp, f"ramp-{label}"), daemons, POOL, keys,
                        nginx_section(nginx, "least_conn"), SNMP_PORT)
    loop.start(snmp=False, collectd=False)
    warm = extra.get("warm", 0)
    say(f"ramp {label}: waiting for 2 running and {warm} warm")
    vstest.wait_for(lambda: (lambda st: st["actual"] == 2 and st.get("warm", 0) == warm and
                             st["phase"] in ("idle", "cooldown") and st)(loop.status()),
                    900, interval=1, what=f"2 running and {warm} warm")
    loop.start_collectd()
    time.sleep(5)
    st0 = loop.status()
    url = nginx.url + a.page
    logs = os.path.join(loop.tmp, "wrk")
    os.makedirs(logs, exist_ok=True)
    say(f"ramp {label}: 10 clients for {a.ramp_low} s")
    w = loopbed.Wrk(url, 10, os.path.join(logs, "low.txt"), think_ms=a.think_ms, timeout=60)
    time.sleep(a.ramp_low)
    low = w.stop()
    say(f"ramp {label}: {a.clients} clients for {a.ramp_seconds} s")
    t0 = time.monotonic()
    w = loopbed.Wrk(url, a.clients, os.path.join(logs, "high.txt"), think_ms=a.think_ms,
                    timeout=60)
    probe = Probe(url, t0)
    probe.start()
    timeline, outs, out_times = [], st0["scale_outs"], []
    while time.monotonic() - t0 < a.ramp_seconds:
        time.sleep(0.5)
        t = time.monotonic() - t0
        st = loop.status()
        if st["scale_outs"] > outs:
            outs = st["scale_outs"]
            out_times.append((t, st["actual"]))
            say(f"  scale-out #{len(out_times)} done at {t:.1f} s: {st['actual']} running, "
                f"{st.get('warm', 0)} warm")
        lat = [d for (pt, d) in probe.points if pt > t - 0.5 and d is not None]
        timeline.append((t, st["actual"], st.get("warm", 0), st["phase"],
                         max(lat) if lat else None))
    high = w.stop()
    probe.running = False
    st = loop.status()
    loop.stop_actuator()
    loop.collectd.stop()
    with open(os.path.join(tmp, f"ramp-{label}.csv"), "w") as f:
        f.write("t_s,running,warm,phase,probe_s\n")
        for t, n, wn, ph, lat in timeline:
            f.write(f"{t:.1f},{n},{wn},{ph},{'' if lat is None else f'{lat:.3f}'}\n")
        for t, lat in probe.points:
            f.write(f"# probe {t:.2f} {'failed' if lat is None else f'{lat:.3f}'}\n")
    final = max(n for _, n, _, _, _ in timeline)
    reached = next((t for t, n, _, _, _ in timeline if n == final), None)
    slow = [pt for pt, d in probe.points if d is None or d > 2]
    answered = [d for _, d in probe.points if d is not None]
    say(f"ramp {label}: high phase {high}")
    return {"low": low, "high": high, "outs": out_times, "final": final, "reached": reached,
            "ins": st["scale_ins"] - st0["scale_ins"], "failures": st["failures"] - st0["failures"],
            "probe_p99": statistics.quantiles(answered, n=100)[98] if len(answered) > 2 else None,
            "probe_slow": (min(slow), max(slow)) if slow else None}


def availability(*runs):
    ok = sum(r["successful_transactions"] for r in runs)
    total = ok + sum(r["failed_transactions"] for r in runs)
    return 100.0 * ok / total if total else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=40, help="each measured load run")
    ap.add_argument("--clients", type=int, default=275)
    ap.add_argument("--delay", type=int, default=14,
                    help="siege -d: each client waits a random 0..DELAY s before a request")
    ap.add_argument("--timeout", type=int, default=10, help="siege's request timeout, s")
    ap.add_argument("--page", default="/cgi-bin/burn?300")
    ap.add_argument("--quota", type=int, default=30000, help="guest CPU cap, µs per 100 ms")
    ap.add_argument("--max-scale-seconds", type=int, default=180,
                    help="longest load while the pool scales out")
    ap.add_argument("--skip-fixed", action="store_true")
    ap.add_argument("--lbs", default="nginx,apache", help="the autoscaled runs; none: none")
    ap.add_argument("--ramp", action="store_true", help="part 3: the demo's load step")
    ap.add_argument("--ramp-configs", default="cold,warm:2:2",
                    help="cold and/or warm:WARM:STEP, comma-separated")
    ap.add_argument("--ramp-low", type=int, default=15, help="seconds of 10 clients")
    ap.add_argument("--ramp-seconds", type=int, default=120, help="seconds of the high phase")
    ap.add_argument("--think-ms", type=int, default=10000,
                    help="part 3: mean think time of a client (the demo's)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (libvirt domains)")
    # started in the background by a shell, SIGINT arrives ignored: make
    # both INT and TERM end the run through the clean-up below
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="vs-closed-loop-")
    daemons = Daemons(tmp)
    rows = {}
    try:
        loopbed.remove_everything(PREFIX)
        loopbed.define_template(TEMPLATE, 18299, quota=a.quota)
        nginx = lb_bed.Nginx(tmp, daemons, port=NGINX_PORT)
        widen_nginx(nginx)
        if not a.skip_fixed:
            for n in (3, 5):
                for method in ("round-robin", "least_conn"):
                    rows[(n, method)] = fixed_run(a, tmp, daemons, nginx, n, method)
        auto = {}
        for lb_name in (a.lbs.split(",") if a.lbs != "none" else []):
            if lb_name == "nginx":
                auto["nginx"] = autoscale_run(a, tmp, daemons, "nginx", nginx.url,
                                              nginx_section(nginx, "least_conn"))
            else:
                apache = lb_bed.Apache(tmp, daemons, port=APACHE_PORT, other_port=APACHE_OTHER,
                                       growth=16)
                auto["apache"] = autoscale_run(a, tmp, daemons, "apache", apache.url,
                                               apache_section(apache))
        ramp = {}
        if a.ramp:
            for label in a.ramp_configs.split(","):
                ramp[label] = ramp_run(a, tmp, daemons, nginx, label.replace(":", "-"),
                                       ramp_config(label))
    finally:
        daemons.stop_all()
        loopbed.remove_everything(PREFIX)
        say(f"logs in {tmp}")

    anchor = rows.get((5, "round-robin"))
    print(f"\nsiege -c {a.clients} -d {a.delay} (timeout {a.timeout} s), page {a.page}, "
          f"guests capped at {a.quota / 1000:.0f}% of a CPU, {a.seconds} s per measured run; "
          "anchor = fixed 5 guests, round-robin\n")
    print("| configuration | avg response | ratio to anchor | availability | ratio to anchor "
          "| answered/s | longest |")
    print("|---|---:|---:|---:|---:|---:|---:|")

    def ratio(r, k):
        return f"{r[k] / anchor[k]:.2f}" if anchor and anchor.get(k) else "-"

    def line(name, r):
        print(f"| {name} | {r['response_time']:.2f} s | {ratio(r, 'response_time')} | "
              f"{r['availability']:.1f}% | {ratio(r, 'availability')} | "
              f"{r['transaction_rate']:.1f} | {r['longest_transaction']:.1f} s |")
    for (n, method), r in rows.items():
        line(f"fixed {n} guests, nginx {method}", r)
    for lb_name, x in auto.items():
        line(f"virtscale 2..6, {lb_name}: while scaling out ({x['ta']:.0f} s)", x["a"])
        line(f"virtscale 2..6, {lb_name}: once scaled out ({x['running']} guests)", x["b"])
    if auto:
        print("\n| virtscale 2..6 | availability (all) | first scale-out done | last scale-out done "
              "| scale-outs | scale-ins under load | failures |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for lb_name, x in auto.items():
            f = "-" if x["first"] is None else f"{x['first']:.0f} s"
            la = "-" if x["last"] is None else f"{x['last']:.0f} s"
            print(f"| {lb_name} | {availability(x['a'], x['b']):.1f}% | {f} | {la} | {x['outs']} | "
                  f"{x['ins']} | {x['failures']} |")
    if ramp:
        anchor = ramp.get("cold")
        print(f"\nLoad step (the demo's): wrk, 10 clients for {a.ramp_low} s, then {a.clients} "
              f"clients for {a.ramp_seconds} s, each thinking 0..{2 * a.think_ms / 1000:.0f} s "
              f"between requests, page {a.page}; pool 2..6 behind nginx least_conn; anchor = "
              "cold, one instance per action, same run\n")
        print("| configuration | high phase: answered | requests | mean | p99 | ratio of p99 "
              "to anchor | scale-outs done at (s after the step: running) | final size "
              "reached | lone probe: p99, slow (> 2 s) from .. to |")
        print("|---|---:|---:|---:|---:|---:|---|---:|---|")
        for label, x in ramp.items():
            h = x["high"]
            keys = ramp_config(label)
            name = (f"warm = {keys['warm']} {keys.get('warm_mode', '')}, step = {keys['step']}, "
                    f"max_parallel = {keys['max_parallel']}")
            r99 = (f"{h['p99_ms'] / anchor['high']['p99_ms']:.2f}"
                   if anchor and anchor["high"].get("p99_ms") else "-")
            outs = ", ".join(f"{t:.1f}: {n}" for t, n in x["outs"]) or "-"
            slow = ("-" if not x["probe_slow"] else
                    f"{x['probe_slow'][0]:.0f} .. {x['probe_slow'][1]:.0f} s")
            p99p = "-" if x["probe_p99"] is None else f"{x['probe_p99']:.2f} s"
            print(f"| {name} ({label}) | {loopbed.availability(h):.2f}% | {h['requests']:.0f} | "
                  f"{h['mean_ms'] / 1000:.2f} s | {h['p99_ms'] / 1000:.2f} s | {r99} | {outs} | "
                  f"{x['final']} at {x['reached']:.1f} s | {p99p}, {slow} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
