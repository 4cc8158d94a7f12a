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
import importlib.util, os, statistics, sys, time, tempfile, shutil
HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("wb", os.path.join(HERE, "run.py"))
wb = importlib.util.module_from_spec(spec); spec.loader.exec_module(wb)
vstest, SnmpBed = wb.vstest, wb.SnmpBed
N, ROWS = int(sys.argv[1]), int(sys.argv[2])
PHASES = [tuple(int(x) for x in a.split(":")) for a in sys.argv[3:]]
def qemu_ns():
    return sum(wb.cpu_ns(p) for p in vstest.qemu_pids(wb.PREFIX))
def phase(bed, pids, t0, dur):
    bins = {}
    end = time.monotonic() + dur
    while time.monotonic() < end:
        b = int((time.monotonic() - t0) // 10)
        q0 = qemu_ns(); s0 = {k: wb.cpu_ns(p) for k, p in pids.items()}; ti = time.monotonic()
        time.sleep(1.5)
        dti = time.monotonic() - ti
        idle = {k: (wb.cpu_ns(p) - s0[k]) / 1e9 / dti for k, p in pids.items()}
        rs = []
        for _ in range(3):
            w1 = wb.timed_cpu(wb.walk_argv(bed.agent_port, wb.VM_MIB), pids)
            w2 = wb.timed_cpu(wb.walk_argv(bed.agent_port, wb.VS_MIB), pids)
            a = wb.timed_cpu(wb.walk_argv(bed.agent_port, wb.STATIC_OID), pids)
            rs.append([idle, w1, w2, a])
        q = (qemu_ns() - q0) / 1e9 / (time.monotonic() - ti)
        for r in rs:
            r.append(q)
        bins.setdefault(b, []).extend(rs)
    print("| s after start | qemu CPU s/s | sub idle ms/s | vb ours/anchor | walk ms ours(2)/anchor | sub CPU µs/vb raw | static µs/vb raw | snmpd µs/vb ours/anchor | sub µs/vb less idle |")
    print("|---|---|---|---|---|---|---|---|---|")
    for b, rs in sorted(bins.items()):
        vbo = sum(r[1][1] + r[2][1] for r in rs); vba = sum(r[3][1] for r in rs)
        sub = sum(r[1][2]["sub"] + r[2][2]["sub"] for r in rs) / vbo
        subl = sum(r[1][2]["sub"] + r[2][2]["sub"] - r[0]["sub"] * (r[1][0] + r[2][0]) for r in rs) / vbo
        st = sum(r[3][2]["static"] for r in rs) / vba
        so = sum(r[1][2]["snmpd"] + r[2][2]["snmpd"] for r in rs) / vbo
        sa = sum(r[3][2]["snmpd"] for r in rs) / vba
        print(f"| {b*10}-{b*10+10} | {statistics.mean(r[4] for r in rs):.2f} | "
              f"{statistics.median(r[0]['sub'] for r in rs)*1e3:.1f} | "
              f"{statistics.median(r[1][1] + r[2][1] for r in rs):.0f}/{statistics.median(r[3][1] for r in rs):.0f} | "
              f"{statistics.median(r[1][0] + r[2][0] for r in rs)*1e3:.1f}/{statistics.median(r[3][0] for r in rs)*1e3:.1f} | "
              f"{sub*1e6:.1f} | {st*1e6:.1f} | {so*1e6:.1f}/{sa*1e6:.1f} | {subl*1e6:.1f} |", flush=True)
tmp = tempfile.mkdtemp(prefix="walk10-probe-")
d = wb.Daemons(tmp)
try:
    exe = wb.build_static_table(tmp)
    vstest.remove_domains(wb.PREFIX)
    t0 = None
    for i, (slow, dur) in enumerate(PHASES):
        pd = tempfile.mkdtemp(dir=tmp)
        bed = SnmpBed(pd, d, agent_port=19120, trap_port=19121,
                      sections={"libvirt": {"slow_interval": slow}})
        bed.start_snmpd(); bed.start_subagent()
        static = wb.start_static(bed, exe, d, ROWS)
        pids = {"sub": bed.sub.proc.pid, "snmpd": bed.snmpd.proc.pid, "static": static.proc.pid}
        if t0 is None:
            t0 = time.monotonic()
            wb.ensure_domains(N)
            print(f"# {N} domains started in {time.monotonic()-t0:.1f} s", flush=True)
        bed.wait_rows(*[f"{wb.PREFIX}{i:02d}" for i in range(1, N + 1)], timeout=120)
        print(f"# phase slow={slow}: rows at {time.monotonic()-t0:.1f} s", flush=True)
        phase(bed, pids, t0, dur)
        d.stop_all(); d.started.clear()
finally:
    d.stop_all()
    vstest.remove_domains(wb.PREFIX)
    shutil.rmtree(tmp, ignore_errors=True)
