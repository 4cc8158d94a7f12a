#!/usr/bin/python3
"""libvirt RPCs per second issued by our collector and by collectd's stock
virt plugin, on whatever domains the host runs: a figure the load of a
shared host cannot disturb (CPU time can). Counted from libvirt's own
client log (RPC_CLIENT_MSG_TX_QUEUE of calls, keepalive excluded) over the
last WINDOW seconds of a run, after the start-up.

Usage: rpc_count.py [--domains N] [--window S] [--warmup S]
  --domains N  starts N halt-disk domains first (removed after); 0 = count
               on the domains the host already runs
"""
import argparse
import collections
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import measure  # noqa: E402

KEEPALIVE_PROG = 0x6B656570
LINE = re.compile(r"^(\S+ \S+): .*RPC_CLIENT_MSG_TX_QUEUE: .* prog=(\d+) .* proc=(\d+) type=0 ")


def count(argv, window, warmup, d, name):
    log = os.path.join(d, f"{name}.log")
    env = dict(os.environ, LIBVIRT_LOG_FILTERS="1:rpc.netclient",
               LIBVIRT_LOG_OUTPUTS=f"1:file:{log}")
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(warmup + window)
    p.terminate()
    p.wait(15)
    stamps, procs = [], collections.Counter()
    with open(log, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m or int(m.group(2)) == KEEPALIVE_PROG:
                continue
            t = datetime.datetime.strptime(m.group(1)[:23], "%Y-%m-%d %H:%M:%S.%f")
            stamps.append((t, int(m.group(3))))
    if not stamps:
        return 0.0, procs
    end = stamps[-1][0]
    start = end - datetime.timedelta(seconds=window)
    for t, proc in stamps:
        if t > start:
            procs[proc] += 1
    return sum(procs.values()) / window, procs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=4)
    ap.add_argument("--domains", type=int, default=0)
    args = ap.parse_args()
    if args.domains:
        measure.start_domains(args.domains)
    try:
        run(args)
    finally:
        if args.domains:
            measure.retry(measure.vstest.remove_domains, measure.PREFIX)


def run(args):
    d = tempfile.mkdtemp(prefix="vs-bench-rpc-")
    conf = measure.collectd_conf(d)
    dump = [measure.DUMP, "-q", "-u", "qemu:///system"]
    running = len(measure.vstest.virsh("list", "--name").stdout.split())
    rows = [("collectd stock virt, 1 s (anchor)", ["collectd", "-f", "-C", conf]),
            ("(a) ours, every group every 1 s", dump + ["--all-every-refresh"]),
            ("(b) ours default cadence", dump)]
    result = []
    for label, argv in rows:
        rate, procs = count(argv, args.window, args.warmup, d, label[:3].strip("( )"))
        result.append((label, rate, procs))
    base = result[0][1]
    print(f"| row ({running} running domains) | libvirt RPCs/s | ratio | busiest procedures |")
    print("|---|---|---|---|")
    for label, rate, procs in result:
        top = ", ".join(f"{p}×{n / args.window:.0f}/s" for p, n in procs.most_common(4))
        print(f"| {label} | {rate:.1f} | {rate / base:.3f}x | {top} |")


if __name__ == "__main__":
    main()
