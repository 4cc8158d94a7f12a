#!/usr/bin/python3
"""bench/snmp-walk/transient.py: the walks of run.py while domains boot and
after. Starts N bench domains (vst-snmp-bNN) and, from then on, every ~2 s:
1.5 s without walks (the idle rate of virtscale-snmp), then 3 rounds of our
two walks and the anchor's (a static table of ROWS rows). Per 10 s bin since
the first start: the bench domains' QEMU CPU (s/s), and the raw CPU per
varbind of virtscale-snmp, the static table and snmpd (nothing subtracted
but in the last column).

    flock /tmp/vs-itest.lock env VS_BUILDDIR=$PWD/build-bench \
        bench/snmp-walk/transient.py N ROWS SLOW:SECONDS [SLOW:SECONDS ...]

Each SLOW:SECONDS is a phase with a fresh snmpd and virtscale-snmp of that
slow_interval (s), measured for SECONDS s; the domains are started in the
first one. The domains are removed at the end."""
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# run.py's bed and measures, loaded as a module (it is a script, not a package)
_spec = importlib.util.spec_from_file_location("walk_bench", os.path.join(HERE, "run.py"))
wb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wb)
vstest, SnmpBed = wb.vstest, wb.SnmpBed


def qemu_ns():
    """CPU time of every bench domain's QEMU process, ns."""
    return sum(wb.cpu_ns(p) for p in vstest.qemu_pids(wb.PREFIX))


def measure_round(bed, pids):
    """1.5 s without walks (each process's idle rate, CPU s per s), then 3
    rounds of our two walks and the anchor's. Returns the rounds, each
    [idle, walk VM-MIB, walk VIRTSCALE-MIB, walk anchor, QEMU CPU s/s]."""
    q0 = qemu_ns()
    s0 = {k: wb.cpu_ns(p) for k, p in pids.items()}
    ti = time.monotonic()
    time.sleep(1.5)
    dti = time.monotonic() - ti
    idle = {k: (wb.cpu_ns(p) - s0[k]) / 1e9 / dti for k, p in pids.items()}
    rounds = []
    for _ in range(3):
        w1 = wb.timed_cpu(wb.walk_argv(bed.agent_port, wb.VM_MIB), pids)
        w2 = wb.timed_cpu(wb.walk_argv(bed.agent_port, wb.VS_MIB), pids)
        a = wb.timed_cpu(wb.walk_argv(bed.agent_port, wb.STATIC_OID), pids)
        rounds.append([idle, w1, w2, a])
    q = (qemu_ns() - q0) / 1e9 / (time.monotonic() - ti)
    for r in rounds:
        r.append(q)
    return rounds


def bin_row(b, rs):
    """One table row: the rounds @rs of the 10 s bin @b. A walk is
    (seconds, varbinds, {process: CPU s})."""
    ours = [(r[1], r[2]) for r in rs]
    vb_ours = sum(w1[1] + w2[1] for w1, w2 in ours)
    vb_anchor = sum(r[3][1] for r in rs)
    sub = sum(w1[2]["sub"] + w2[2]["sub"] for w1, w2 in ours) / vb_ours
    sub_less_idle = sum(r[1][2]["sub"] + r[2][2]["sub"] - r[0]["sub"] * (r[1][0] + r[2][0])
                        for r in rs) / vb_ours
    static = sum(r[3][2]["static"] for r in rs) / vb_anchor
    snmpd_ours = sum(w1[2]["snmpd"] + w2[2]["snmpd"] for w1, w2 in ours) / vb_ours
    snmpd_anchor = sum(r[3][2]["snmpd"] for r in rs) / vb_anchor
    med = statistics.median
    cells = [
        f"{b * 10}-{b * 10 + 10}",
        f"{statistics.mean(r[4] for r in rs):.2f}",
        f"{med(r[0]['sub'] for r in rs) * 1e3:.1f}",
        f"{med(w1[1] + w2[1] for w1, w2 in ours):.0f}/{med(r[3][1] for r in rs):.0f}",
        f"{med(w1[0] + w2[0] for w1, w2 in ours) * 1e3:.1f}/{med(r[3][0] for r in rs) * 1e3:.1f}",
        f"{sub * 1e6:.1f}",
        f"{static * 1e6:.1f}",
        f"{snmpd_ours * 1e6:.1f}/{snmpd_anchor * 1e6:.1f}",
        f"{sub_less_idle * 1e6:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def phase(bed, pids, t0, dur):
    """Measures for @dur s; prints the rounds in 10 s bins since @t0."""
    bins = {}
    end = time.monotonic() + dur
    while time.monotonic() < end:
        b = int((time.monotonic() - t0) // 10)
        bins.setdefault(b, []).extend(measure_round(bed, pids))
    print("| s after start | qemu CPU s/s | sub idle ms/s | vb ours/anchor "
          "| walk ms ours(2)/anchor | sub CPU µs/vb raw | static µs/vb raw "
          "| snmpd µs/vb ours/anchor | sub µs/vb less idle |")
    print("|---|---|---|---|---|---|---|---|---|")
    for b, rs in sorted(bins.items()):
        print(bin_row(b, rs), flush=True)


def main():
    n, rows = int(sys.argv[1]), int(sys.argv[2])
    phases = [tuple(int(x) for x in a.split(":")) for a in sys.argv[3:]]
    tmp = tempfile.mkdtemp(prefix="walk-transient-")
    d = wb.Daemons(tmp)
    try:
        exe = wb.build_static_table(tmp)
        vstest.remove_domains(wb.PREFIX)
        t0 = None
        for slow, dur in phases:
            pd = tempfile.mkdtemp(dir=tmp)
            bed = SnmpBed(pd, d, agent_port=19120, trap_port=19121,
                          sections={"libvirt": {"slow_interval": slow}})
            bed.start_snmpd()
            bed.start_subagent()
            static = wb.start_static(bed, exe, d, rows)
            pids = {"sub": bed.sub.proc.pid, "snmpd": bed.snmpd.proc.pid,
                    "static": static.proc.pid}
            if t0 is None:
                t0 = time.monotonic()
                wb.ensure_domains(n)
                print(f"# {n} domains started in {time.monotonic() - t0:.1f} s", flush=True)
            bed.wait_rows(*[f"{wb.PREFIX}{i:02d}" for i in range(1, n + 1)], timeout=120)
            print(f"# phase slow={slow}: rows at {time.monotonic() - t0:.1f} s", flush=True)
            phase(bed, pids, t0, dur)
            d.stop_all()
            d.started.clear()
    finally:
        d.stop_all()
        vstest.remove_domains(wb.PREFIX)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
