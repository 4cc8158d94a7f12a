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

Real everything: TCG web guests from tests/guest (CPU-capped through
<cputune>), siege as in the thesis (every client waits a random 0..DELAY s
before each request, one connection per request, 10 s timeout), nginx 1.22 /
httpd 2.4, collectd, virtscaled. Anchor of the ratios: the fixed 5 guests
with round-robin, measured in the same run.

  bench/closed-loop/run.sh [--seconds 40] [--clients 275] [--delay 14]

Domains vsdemo-b*, ports 18200-18299.
"""
import argparse
import os
import signal
import sys
import tempfile
import threading
import time

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
    ap.add_argument("--lbs", default="nginx,apache")
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
        for lb_name in a.lbs.split(","):
            if lb_name == "nginx":
                auto["nginx"] = autoscale_run(a, tmp, daemons, "nginx", nginx.url,
                                              nginx_section(nginx, "least_conn"))
            else:
                apache = lb_bed.Apache(tmp, daemons, port=APACHE_PORT, other_port=APACHE_OTHER,
                                       growth=16)
                auto["apache"] = autoscale_run(a, tmp, daemons, "apache", apache.url,
                                               apache_section(apache))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
