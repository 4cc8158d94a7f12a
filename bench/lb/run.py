#!/usr/bin/python3
"""bench/lb: time from the load-balancer driver call to the new backend
receiving its first request, for nginx and Apache httpd, median of runs.

Real nginx and httpd on loopback ports (19540-19542), real backends on
127.0.0.6/7, a steady stream of requests through the balancer. Each figure
is compared with an anchor measured in the same run: the bare mechanism
the driver wraps, without its checks (nginx: the include written by hand +
SIGHUP; httpd: one POST enabling a disabled worker with a known nonce).

Usage: VS_BUILDDIR=build /usr/bin/python3 bench/lb/run.py [-n RUNS]
Prints a markdown table.
"""
import argparse
import http.client
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import lb_bed  # noqa: E402
import vstest  # noqa: E402

signal.signal(signal.SIGPIPE, signal.SIG_DFL)
# The backends, the load and the timing share one interpreter: switch
# threads often so that a backend notes its first request when it arrives
# (the default 5 ms interval would dominate the figures).
sys.setswitchinterval(0.0002)


class Load:
    """Requests through the balancer from a few threads on keep-alive
    connections, each every ~1 ms (new connections at that rate would fill
    the loopback port range with TIME_WAIT sockets)."""

    def __init__(self, url, threads=3):
        self.host, self.port = urllib.parse.urlsplit(url).netloc.split(":")
        self.stop_flag = False
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def loop(self):
        conn = None
        while not self.stop_flag:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, int(self.port), timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None  # an old nginx worker closed it: reconnect
            time.sleep(0.001)

    def stop(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(10)


def wait_first_hit(backend, timeout=10):
    deadline = time.monotonic() + timeout
    while backend.first_hit is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{backend.name} never received a request")
        time.sleep(0.0005)
    return backend.first_hit


def tool(config, *args):
    r = lb_bed.lb_tool(config, "--time", *args, check=True)
    fields = dict(kv.split("=") for kv in r.stdout.split()[:2])
    return float(fields["call_start"]), float(fields["call_ms"])


def bench_nginx(tmp, daemons, new, runs):
    ng = lb_bed.Nginx(tmp, daemons, port=19540)
    old = vstest.HttpBackend("127.0.0.6")
    try:
        lb_bed.lb_tool(ng.config, "add", old.address, check=True)
        load = Load(ng.url)
        driver, calls, anchor = [], [], []
        for _ in range(runs):
            new.reset()
            start, call_ms = tool(ng.config, "add", new.address)
            driver.append((wait_first_hit(new) - start) * 1000)
            calls.append(call_ms)
            lb_bed.lb_tool(ng.config, "remove", new.address, check=True)
            time.sleep(0.05)
            # anchor: the file written by hand, then SIGHUP, nothing checked
            text = ng.upstream_text().replace(
                "}\n", f"\tserver {new.address}; # enabled\n}}\n")
            new.reset()
            start = time.time()
            with open(ng.upstream_file + ".tmp", "w") as f:
                f.write(text)
            os.rename(ng.upstream_file + ".tmp", ng.upstream_file)
            ng.daemon.signal(signal.SIGHUP)
            anchor.append((wait_first_hit(new) - start) * 1000)
            time.sleep(0.05)
            lb_bed.lb_tool(ng.config, "remove", new.address, check=True)
            time.sleep(0.05)
        load.stop()
        return driver, calls, anchor
    finally:
        old.stop()


def apache_post(ap, fields):
    """One balancer-manager POST with the current nonce, as an operator's
    script would send it."""
    ref = {"Referer": ap.manager}
    req = urllib.request.Request(ap.manager + "?b=web&xml=1", headers=ref)
    xml = urllib.request.urlopen(req, timeout=5).read().decode()
    nonce = xml.split("<httpd:nonce>")[1].split("<")[0]
    body = urllib.parse.urlencode({"b": "web", "nonce": nonce, **fields}).encode()
    return nonce, urllib.request.Request(ap.manager, data=body, headers=ref)


def bench_apache(tmp, daemons, new, runs):
    ap = lb_bed.Apache(tmp, daemons, port=19541, other_port=19542)
    old = vstest.HttpBackend("127.0.0.6")
    try:
        lb_bed.lb_tool(ap.config, "add", old.address, check=True)
        load = Load(ap.url)
        # the first add takes a new growth slot; later ones re-enable it
        new.reset()
        start, first_call = tool(ap.config, "add", new.address)
        first = (wait_first_hit(new) - start) * 1000
        driver, calls, anchor = [], [], []
        for _ in range(runs):
            lb_bed.lb_tool(ap.config, "remove", new.address, check=True)
            time.sleep(0.05)
            new.reset()
            start, call_ms = tool(ap.config, "add", new.address)
            driver.append((wait_first_hit(new) - start) * 1000)
            calls.append(call_ms)
            lb_bed.lb_tool(ap.config, "remove", new.address, check=True)
            time.sleep(0.05)
            _, req = apache_post(ap, {"w": f"http://{new.address}", "w_status_D": "0"})
            new.reset()
            start = time.time()
            urllib.request.urlopen(req, timeout=5).read()
            anchor.append((wait_first_hit(new) - start) * 1000)
            time.sleep(0.05)
        load.stop()
        return driver, calls, anchor, first, first_call
    finally:
        old.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", "--runs", type=int, default=7)
    args = ap.parse_args()
    if not os.access(lb_bed.tool_path(), os.X_OK):
        sys.exit(f"build first: {lb_bed.tool_path()} missing (set VS_BUILDDIR)")
    started = []
    logdir = tempfile.mkdtemp(prefix="vs-bench-lb-")

    def daemons(argv, **kw):
        d = vstest.Daemon(argv, logdir, **kw)
        started.append(d)
        return d

    new = vstest.HttpBackend("127.0.0.7")
    try:
        ng = bench_nginx(logdir, daemons, new, args.runs)
        aa = bench_apache(logdir, daemons, new, args.runs)
    finally:
        new.stop()
        for d in started:
            d.stop()
    med = statistics.median
    print(f"| load balancer (median of {args.runs}) | driver call → first request | "
          "driver call returns | anchor → first request | ratio driver / anchor |")
    print("|---|---|---|---|---|")
    print(f"| nginx 1.22 (`add`: render, `nginx -t`, reload, confirm) | {med(ng[0]):.1f} ms | "
          f"{med(ng[1]):.1f} ms | {med(ng[2]):.1f} ms (file + SIGHUP) | "
          f"{med(ng[0]) / med(ng[2]):.2f} |")
    print(f"| httpd 2.4 (`add` of a known worker: read, POST, verify) | {med(aa[0]):.1f} ms | "
          f"{med(aa[1]):.1f} ms | {med(aa[2]):.1f} ms (one POST) | "
          f"{med(aa[0]) / med(aa[2]):.2f} |")
    print(f"| httpd 2.4 (first `add`: new growth slot + enable, 1 run) | {aa[3]:.1f} ms | "
          f"{aa[4]:.1f} ms | {med(aa[2]):.1f} ms (one POST) | {aa[3] / med(aa[2]):.2f} |")


if __name__ == "__main__":
    main()
