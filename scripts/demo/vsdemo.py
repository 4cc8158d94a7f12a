#!/usr/bin/python3
"""Helpers of scripts/demo.sh (and bench/closed-loop): the live monitor, the
summary table, the SNMP tables and the plot.

  vsdemo.py monitor --ctl VIRTSCALECTL --conf CONF --csvdir DIR --url URL
                    --clients-file FILE --out CSV --events FILE --stop-file FILE
      Once a second: instances (virtscalectl status), average CPU and sessions
      (the collectd plugin's csv values), latency of a probe request through
      the load balancer, the current number of clients; prints a line every
      few seconds (ending with the serving instances on each host) and
      every scaling action as it happens; writes CSV rows.
  vsdemo.py summary PHASE_FILE...      markdown table of the wrk phases
  vsdemo.py snmp-tables --port P --mib MIBFILE
      walks the VIRTSCALE-MIB pool and backend tables (numeric OIDs: Debian
      ships no IETF MIBs) and prints them with the column names of MIBFILE
  vsdemo.py plot --csv CSV --events FILE --png PNG
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

VS_MIB = "1.3.6.1.4.1.8072.9999.9999"
POOL_ENTRY = VS_MIB + ".1.2.1"
BACKEND_ENTRY = VS_MIB + ".1.3.1"


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


# --- monitor -----------------------------------------------------------------

class Prober(threading.Thread):
    """Sends one request at a time through the load balancer and keeps the
    latency of the newest one (ms; None while failing), so that a slow answer
    never stalls the monitor."""

    def __init__(self, url, t0, timeout=10):
        super().__init__(daemon=True)
        self.url, self.timeout, self.t0 = url, timeout, t0
        self.points = []  # (seconds since t0 at the answer, ms or None = failed)
        self.latency_ms = None
        self.last_body = ""
        self.failures = 0
        self.running = True

    def run(self):
        while self.running:
            t0 = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=self.timeout) as r:
                    self.last_body = r.read(200).decode(errors="replace").strip()
                    ok = r.status == 200
            except OSError:
                ok = False
            dt = (time.monotonic() - t0) * 1000
            self.points.append((time.monotonic() - self.t0, dt if ok else None))
            if ok:
                self.latency_ms = dt
            else:
                self.latency_ms = None
                self.failures += 1
            time.sleep(max(0.0, 1.0 - dt / 1000))


def ctl_status(ctl, conf):
    try:
        r = subprocess.run([ctl, "-c", conf, "-j", "status"], capture_output=True, text=True,
                           timeout=5)
        if r.returncode == 0:
            return json.loads(r.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError):
        pass
    return None


def csv_last(csvdir, pool, type_name):
    """Newest row of the collectd csv plugin's file for pool/type_name."""
    files = sorted(glob.glob(os.path.join(csvdir, "*", f"virtscale-{pool}", f"{type_name}-*")))
    if not files:
        return None
    with open(files[-1]) as f:
        rows = [ln.strip() for ln in f if ln.strip() and not ln.startswith("epoch")]
    if not rows:
        return None
    try:
        return [float(x) for x in rows[-1].split(",")]
    except ValueError:
        return None


def read_clients(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def fmt(x, spec="{:.0f}", none="-"):
    return none if x is None or x != x else spec.format(x)


def serving(inst):
    """Running, not warm, not on a lost host: an instance the balancer uses."""
    return inst["state"] == "running" and not inst.get("warm") and not inst.get("lost")


def per_host_names(pool, hosts):
    """The serving instances of @pool on each host, in the configuration's
    order: "a: vsdemo-02 | b: vsdemo-01 vsdemo-03"."""
    names = {h["uri"]: [] for h in hosts}
    for i in sorted(pool["instances"], key=lambda i: i["name"]):
        if serving(i):
            names.setdefault(i.get("host") or "?", []).append(i["name"])
    label = {h["uri"]: h["name"] for h in hosts}
    return " | ".join(f"{label.get(uri, uri)}: {' '.join(ns) or '-'}" for uri, ns in names.items())


def monitor(a):
    t0 = time.monotonic()
    prober = Prober(a.url, t0)
    prober.start()
    probes = open(a.probes, "w")
    probes.write("t,latency_ms,failed_ms\n")
    n_points = 0
    seen = {}
    counters = None
    last_print = -99
    events = open(a.events, "a")
    out = open(a.out, "w")
    out.write("t,clients,instances,cpu,sessions,latency_ms,phase,warm\n")
    header = (" time  clients  instances  warm  avg-cpu%  sessions/inst  probe-ms  actuator"
              "  per host")
    print(header, flush=True)
    while not os.path.exists(a.stop_file):
        t = time.monotonic() - t0
        st = ctl_status(a.ctl, a.conf)
        pool = st["pools"][0] if st and st.get("pools") else None
        clients = read_clients(a.clients_file)
        cpu = csv_last(a.csvdir, a.pool, "vs_pool_cpu")
        sess = csv_last(a.csvdir, a.pool, "vs_pool_sessions")
        cpu = cpu[1] if cpu else None
        sess = sess[1] if sess else None
        running = None
        warm = None
        phase = "-"
        per_host = ""
        if pool:
            # a warm instance (paused or saved, or booting to become one) is
            # not serving: counted apart; a lost host's instance is not
            # serving either
            running = sum(1 for i in pool["instances"] if serving(i))
            warm = pool.get("warm", 0)
            phase = pool["phase"]
            now_inst = {i["name"]: i for i in pool["instances"]}
            host_of = {h["uri"]: h["name"] for h in st.get("hosts", [])}
            per_host = per_host_names(pool, st.get("hosts", []))
            for name, i in now_inst.items():
                if name not in seen and serving(i):
                    log(f"  + {name} serving at {i.get('address') or '?'} on host "
                        f"{host_of.get(i.get('host'), i.get('host') or '?')} "
                        f"(now {running} running)")
                    events.write(f"{t:.1f} +{name}\n")
                    seen[name] = i
            for name in list(seen):
                if name not in now_inst or not serving(now_inst[name]):
                    gone = "lost with its host" if now_inst.get(name, {}).get("lost") \
                        else "removed"
                    log(f"  - {name} {gone} (now {running} running)")
                    events.write(f"{t:.1f} -{name}\n")
                    del seen[name]
            c = (pool["scale_outs"], pool["scale_ins"], pool["failures"], pool["alerts"])
            if counters and c != counters:
                err = f": {pool['last_error']}" if pool.get("last_error") else ""
                what = []
                if c[0] > counters[0]:
                    what.append(f"scale-out #{c[0]}")
                if c[1] > counters[1]:
                    what.append(f"scale-in #{c[1]}")
                if c[2] > counters[2]:
                    what.append(f"FAILURE #{c[2]}{err}")
                if c[3] > counters[3]:
                    what.append(f"alert #{c[3]} (at max and still high)")
                log("  action: " + ", ".join(what) + f" [{pool['last_action']} "
                    f"{pool['last_result']}]")
                events.flush()
            counters = c
        lat = prober.latency_ms
        out.write(f"{t:.1f},{clients},{'' if running is None else running},"
                  f"{'' if cpu is None else f'{cpu:.1f}'},{'' if sess is None else f'{sess:.1f}'},"
                  f"{'' if lat is None else f'{lat:.0f}'},{phase},"
                  f"{'' if warm is None else warm}\n")
        out.flush()
        for pt, ms in prober.points[n_points:]:
            probes.write(f"{pt:.1f},{'' if ms is None else f'{ms:.0f}'},"
                         f"{'' if ms is not None else prober.timeout * 1000}\n")
        n_points = len(prober.points)
        probes.flush()
        if t - last_print >= a.every:
            last_print = t
            print(f"{t:5.0f}  {clients:7d}  {fmt(running):>9}  {fmt(warm):>4}  "
                  f"{fmt(cpu, '{:.1f}'):>8}  "
                  f"{fmt(sess, '{:.1f}'):>13}  {fmt(lat, '{:.0f}', 'fail'):>8}  {phase:<8}"
                  f"  {per_host}", flush=True)
        time.sleep(max(0.0, 1.0 - ((time.monotonic() - t0) - t)))
    prober.running = False
    out.close()
    probes.close()
    events.close()


# --- summary -------------------------------------------------------------------

def parse_phase(path):
    """A phase file: first line 'PHASE name clients seconds', then wrk output."""
    with open(path, errors="replace") as f:
        text = f.read()
    m = re.search(r"^PHASE (\S+) (\d+) ", text, re.M)
    r = re.search(r"^VSRESULT (.*)$", text, re.M)
    if not m or not r:
        return None
    vals = dict(kv.split("=", 1) for kv in r.group(1).split())
    vals = {k: float(v) for k, v in vals.items()}
    vals["name"], vals["clients"] = m.group(1), int(m.group(2))
    return vals


def availability(v):
    """Answered 2xx/3xx / (answers + socket errors). wrk's timeout counter
    is left out: it counts thinking clients too, and a slow request still
    completes (wrk keeps latencies up to its --timeout, 60 s here)."""
    failed = v["connect"] + v["read"] + v["write"]
    total = v["requests"] + failed
    ok = v["requests"] - v["status_errors"]
    return 100.0 * ok / total if total else 0.0


def summary(a):
    rows = [p for p in (parse_phase(f) for f in a.phases) if p]
    print("| phase | clients | seconds | requests | req/s | avg ms | p90 ms | p99 ms | "
          "errors | availability |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for v in rows:
        rate = v["requests"] / v["duration_s"] if v["duration_s"] else 0
        print(f"| {v['name']} | {v['clients']} | {v['duration_s']:.0f} | {v['requests']:.0f} | "
              f"{rate:.1f} | {v['mean_ms']:.0f} | {v['p90_ms']:.0f} | {v['p99_ms']:.0f} | "
              f"{v['status_errors'] + v['connect'] + v['read'] + v['write']:.0f} | "
              f"{availability(v):.1f}% |")


# --- SNMP tables ---------------------------------------------------------------

def mib_objects(mibfile):
    """{entry: {column: (name, formatter)}} from the MIB text: each column's
    name, and how to show its value (enumerations by name, DISPLAY-HINT
    "d-N" as a decimal, addresses dotted)."""
    with open(mibfile) as f:
        text = f.read()

    def enum_of(body):
        m = re.search(r"SYNTAX\s+INTEGER\s*\{([^}]*)\}", body)
        return dict((int(n), name) for name, n in re.findall(r"(\w+)\((\d+)\)", m.group(1))) \
            if m else None

    tcs = {}
    for name, body in re.findall(r"^(\w+) ::= TEXTUAL-CONVENTION(.*?)(?=^\S)", text, re.M | re.S):
        hint = re.search(r'DISPLAY-HINT\s+"d-(\d)"', body)
        tcs[name] = ("enum", enum_of(body)) if enum_of(body) else \
            ("dec", int(hint.group(1))) if hint else None
    objects = {}
    blocks = re.split(r"^(?=\w+ OBJECT-TYPE)", text, flags=re.M)
    for b in blocks:
        m = re.match(r"(\w+) OBJECT-TYPE(.*?)::= \{ (\w+) (\d+) \}", b, re.S)
        if not m:
            continue
        name, body, parent, col = m.group(1), m.group(2), m.group(3), int(m.group(4))
        syntax = re.search(r"SYNTAX\s+(\w+)", body)
        kind = ("enum", enum_of(body)) if enum_of(body) else \
            tcs.get(syntax.group(1)) if syntax else None
        if syntax and syntax.group(1) == "TruthValue":
            kind = ("enum", {1: "true", 2: "false"})
        if syntax and syntax.group(1) == "InetAddress":
            kind = ("addr", None)
        objects.setdefault(parent, {})[col] = (name, kind)
    return objects


def show_value(raw, kind):
    try:
        if kind and kind[0] == "enum":
            return kind[1].get(int(raw), raw)
        if kind and kind[0] == "dec":
            v = int(raw)
            return "-" if v < 0 else f"{v / 10 ** kind[1]:.{kind[1]}f}"
        if kind and kind[0] == "addr":
            octets = raw.split()
            if len(octets) == 4:
                return ".".join(str(int(o, 16)) for o in octets)
    except ValueError:
        pass
    return raw


def snmp_walk(port, oid):
    r = subprocess.run(["snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Oq", "-t", "2",
                        f"127.0.0.1:{port}", oid], capture_output=True, text=True,
                       env={**os.environ, "MIBS": "", "MIBDIRS": ""}, timeout=30)
    rows = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^\.?" + re.escape(oid) + r"\.(\d+)\.([0-9.]+) (.*)$", line)
        if m:
            val = m.group(3).strip().strip('"')
            rows.setdefault(m.group(2), {})[int(m.group(1))] = val
    return rows, r


def print_table(title, oid, port, cols, skip):
    rows, r = snmp_walk(port, oid)
    print(f"{title}  (snmpbulkwalk -v2c -c public 127.0.0.1:{port} {oid})")
    if not rows:
        print(f"  (no rows: {r.stderr.strip() or 'empty'})")
        return 0
    show = [c for c in sorted(cols) if cols[c][0] not in skip]
    cells = {i: [show_value(rows[i].get(c, ""), cols[c][1]) for c in show] for i in rows}
    names = [cols[c][0] for c in show]
    widths = [max(len(n), *(len(cells[i][k]) for i in cells)) for k, n in enumerate(names)]
    print("  " + "  ".join(n.ljust(w) for n, w in zip(names, widths)))
    for idx in sorted(rows, key=lambda s: [int(x) for x in s.split(".")]):
        print("  " + "  ".join(v.ljust(w) for v, w in zip(cells[idx], widths)))
    return len(rows)


def snmp_tables(a):
    objects = mib_objects(a.mib)
    print_table("VIRTSCALE-MIB::vsPoolTable", POOL_ENTRY, a.port, objects["vsPoolEntry"],
                ("vsPoolIndex", "vsPoolLastError", "vsPoolLastTime"))
    print()
    print_table("VIRTSCALE-MIB::vsBackendTable", BACKEND_ENTRY, a.port,
                objects["vsBackendEntry"], ("vsBackendIndex", "vsBackendAddressType"))


# --- plot ----------------------------------------------------------------------

def plot(a):
    events = []
    if os.path.exists(a.events):
        with open(a.events) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    events.append((float(parts[0]), parts[1]))
    arrows = "\n".join(
        f"set arrow from {t},graph 0 to {t},graph 1 nohead lc rgb "
        f"'{'#2ca02c' if what.startswith('+') else '#d62728'}' dt 2"
        for t, what in events)
    gp = f"""set terminal pngcairo size 1100,900 font 'sans,10'
set output '{a.png}'
set datafile separator ','
set key autotitle columnhead
set multiplot layout 3,1 title '{a.title}'
set grid
set lmargin 10
set rmargin 10
set xlabel ''
{arrows}
set ylabel 'clients (wrk)'
set y2label 'avg CPU % (per vCPU)'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
plot '{a.csv}' using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'clients', \\
     '' using 1:4 axes x1y2 with lines lc rgb '#ff7f0e' title 'avg CPU % (collectd)'
set ylabel 'instances'
set y2label 'sessions / instance'
set yrange [0:7]
plot '{a.csv}' using 1:3 with steps lw 2 lc rgb '#2ca02c' title 'running instances', \\
     '' using 1:8 with steps lw 1 dt 3 lc rgb '#8c564b' title 'warm instances', \\
     '' using 1:5 axes x1y2 with lines lc rgb '#9467bd' title 'sessions per instance (collectd)'
set ylabel 'probe latency (ms)'
unset y2label
unset y2tics
set logscale y
set yrange [*:*]
set xlabel 'seconds since the pool was up'
set yrange [*:20000]
plot '{a.probes}' using 1:2 with linespoints pt 7 ps 0.4 lc rgb '#d62728' title 'probe through the load balancer (ms)', \\
     '' using 1:3 with points pt 2 ps 1 lc rgb 'black' title 'probe failed (timeout or error)'
unset multiplot
"""
    script = os.path.splitext(a.png)[0] + ".gp"
    with open(script, "w") as f:
        f.write(gp)
    r = subprocess.run(["gnuplot", script], capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return 1
    print(f"plot: {a.png} (gnuplot script {script})")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("monitor")
    m.add_argument("--ctl", required=True)
    m.add_argument("--conf", required=True)
    m.add_argument("--pool", default="web")
    m.add_argument("--csvdir", required=True)
    m.add_argument("--url", required=True)
    m.add_argument("--clients-file", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--events", required=True)
    m.add_argument("--probes", required=True)
    m.add_argument("--stop-file", required=True)
    m.add_argument("--every", type=float, default=3)
    s = sub.add_parser("summary")
    s.add_argument("phases", nargs="+")
    t = sub.add_parser("snmp-tables")
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--mib", required=True)
    p = sub.add_parser("plot")
    p.add_argument("--csv", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--probes", required=True)
    p.add_argument("--png", required=True)
    p.add_argument("--title", default="virtscale demo")
    a = ap.parse_args()
    return {"monitor": monitor, "summary": summary, "snmp-tables": snmp_tables,
            "plot": plot}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
