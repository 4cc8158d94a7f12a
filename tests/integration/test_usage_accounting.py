"""Usage accounting against the real libvirtd, snmpd and virtscale-snmp: the
VIRTSCALE-MIB usage table of a halt-disk domain started while the subagent
watches agrees with what virsh reports (CPU time, disk bytes, the time it
ran), the counters survive a restart of virtscale-snmp (same discontinuity
time, the CPU used meanwhile counted) and a torn state file (its last good
copy is read), a destroyed domain stops growing,
and `virtscalectl usage` reads the same figures from the persisted file.

Domains are named vst-acct-*; SNMP ports 19155-19156.
"""
import json
import os
import subprocess
import time
import uuid as uuidlib

import pytest

import vstest
from snmpbed import VS_MIB, SnmpBed

pytestmark = pytest.mark.usefixtures("libvirtd")

PREFIX = "vst-acct-"
POOL = "vstacct"
USAGE = VS_MIB + ".1.8"
POOL_ENTRY = USAGE + ".2.1"
DOM_ENTRY = USAGE + ".3.1"
# vs_usage_kind order: pool columns from 1, domain columns from 4
KINDS = ["instance", "vcpu", "cpu", "mem_alloc", "mem_used", "disk_read", "disk_written",
         "net_in", "net_out", "max_instance"]


@pytest.fixture
def member():
    """A tagged member of the pool, defined and not started."""
    vstest.remove_domains(PREFIX)
    name, uuid = f"{PREFIX}web-01", str(uuidlib.uuid4())
    try:
        vstest.define_domain(name, start=False, uuid=uuid, mem_mib=48,
                             metadata=vstest.virtscale_tag(POOL, "127.0.0.1:19157"))
        yield name, uuid
    finally:
        vstest.remove_domains(PREFIX)


def make_bed(tmp_path, daemons):
    return SnmpBed(tmp_path, daemons, agent_port=19155, trap_port=19156, sections={
        f"pool {POOL}": {"template": f"{PREFIX}tmpl", "name_pattern": f"{PREFIX}web-%02d",
                         "min": 1, "max": 3, "sessions": "sockdiag", "lb": "none"},
        "prices": {"instance_hour": 3600, "cpu_hour": 36}})


def domain_usage(bed, uuid):
    """{kind: value} of the domain's row, None while it has none."""
    idx = ".".join(str(b) for b in uuidlib.UUID(uuid).bytes)
    oids = [f"{DOM_ENTRY}.{k + 4}.{idx}" for k in range(9)]
    r = bed.get_raw(*oids, check=False, timeout=2)
    got = {}
    for line in r.stdout.splitlines():
        oid, _, rest = line.partition(" = ")
        if "Counter64:" in rest:
            got[oid.lstrip(".")] = int(rest.split(":", 1)[1])
    if len(got) != 9:
        return None
    return {KINDS[k]: got[oids[k]] for k in range(9)}


def pool_usage(bed):
    w = bed.walk(POOL_ENTRY, check=False, timeout=2, retries=1)
    return {KINDS[c - 1]: w.get(f"{POOL_ENTRY}.{c}.1", (None, None))[1] for c in range(1, 11)}


def discontinuity(bed):
    return bed.get(f"{USAGE}.1.0")[f"{USAGE}.1.0"][1]


def virsh_stats(name):
    out = vstest.virsh("domstats", "--cpu-total", "--block", name).stdout
    kv = dict(line.strip().split("=", 1) for line in out.splitlines() if "=" in line)
    return int(kv["cpu.time"]) / 1e9, int(kv.get("block.0.rd.bytes", 0))


def settle(name, bed, uuid):
    """Waits until the guest's CPU time and our figure stop moving (the boot
    is over), then returns (ours, virsh cpu seconds, virsh bytes read)."""
    last = None
    for _ in range(30):
        time.sleep(1)
        cpu, rd = virsh_stats(name)
        ours = domain_usage(bed, uuid)
        if ours and last and abs(cpu - last) < 0.05 and ours["disk_read"] == rd:
            return ours, cpu, rd
        last = cpu
    raise AssertionError(f"no settled reading: ours {ours}, virsh cpu {cpu} rd {rd}")


def test_usage_table_agrees_with_virsh_and_survives_restart(tmp_path, daemons, member):
    name, uuid = member
    bed = make_bed(tmp_path, daemons)
    bed.start_snmpd()
    bed.start_subagent()
    # the pool row grows (max_instance) once the subagent has watched a while
    vstest.wait_for(lambda: (pool_usage(bed)["max_instance"] or 0) >= 3, 20,
                    what="the pool's usage row")
    t_start = time.monotonic()
    vstest.virsh("start", name)
    vstest.wait_for(lambda: domain_usage(bed, uuid), 20, what="the domain's usage row")

    ours, cpu, rd = settle(name, bed, uuid)
    ran = time.monotonic() - t_start
    # all of the run was watched: its CPU time and bytes read are all ours
    assert abs(ours["cpu"] - cpu) <= 1, (ours, cpu)
    assert ours["disk_read"] == rd > 0, (ours, rd)
    assert ran - 3 <= ours["instance"] <= ran + 1, (ours, ran)
    assert ours["vcpu"] == pytest.approx(ours["instance"], abs=1)
    assert ours["mem_alloc"] >= 40 * (ours["instance"] - 1)  # 48 MiB balloon
    pool = pool_usage(bed)
    assert abs(pool["instance"] - ours["instance"]) <= 2 and abs(pool["cpu"] - ours["cpu"]) <= 1
    assert pool["max_instance"] >= 3 * pool["instance"]
    idx = ".".join(str(b) for b in uuidlib.UUID(uuid).bytes)
    row = bed.get(f"{DOM_ENTRY}.2.{idx}", f"{DOM_ENTRY}.3.{idx}")
    assert row[f"{DOM_ENTRY}.2.{idx}"][1] == name.encode()
    assert row[f"{DOM_ENTRY}.3.{idx}"][1] == POOL.encode()
    disc = discontinuity(bed)
    assert 0 < disc <= time.time()

    # restart: the file is written at exit and read back
    bed.stop_subagent()
    state = os.path.join(bed.state, "usage-snmp.state")
    assert os.path.exists(state)
    before = usage_from_file(bed, state)
    time.sleep(2)
    bed.start_subagent()
    vstest.wait_for(lambda: domain_usage(bed, uuid), 20, what="the row after the restart")
    assert discontinuity(bed) == disc
    again, cpu2, rd2 = settle(name, bed, uuid)
    for k in KINDS[:9]:
        assert again[k] >= ours[k], (k, ours, again)
    assert abs(again["cpu"] - cpu2) <= 1, (again, cpu2)  # the same run: nothing lost
    assert again["disk_read"] == rd2
    assert before["pool"]["instance_seconds"] >= pool["instance"]

    # a torn file: moved aside, the last good copy read (no restart from zero)
    bed.stop_subagent()
    assert os.path.exists(state + ".prev")
    with open(state, "r+b") as f:
        f.truncate(os.path.getsize(state) // 2)
    bed.start_subagent()
    vstest.wait_for(lambda: domain_usage(bed, uuid), 20, what="the row after the repair")
    assert discontinuity(bed) == disc
    assert os.path.exists(state + ".corrupt")
    repaired = domain_usage(bed, uuid)
    assert repaired["instance"] >= ours["instance"] and repaired["cpu"] >= ours["cpu"]
    assert bed.sub.alive()

    # destroyed: no more time
    vstest.virsh("destroy", name)
    time.sleep(2)
    a = domain_usage(bed, uuid)
    time.sleep(2)
    b = domain_usage(bed, uuid)
    assert a == b, (a, b)


def usage_from_file(bed, path):
    """`virtscalectl usage --format json` on the file: its pool and total,
    and the cost of [prices] (1 per instance-second, 0.01 per CPU-second)."""
    r = subprocess.run([vstest.build_path("actuator", "virtscalectl"), "-c", bed.conf, "usage",
                        "--file", path, "--format", "json", "--pool", POOL],
                       capture_output=True, text=True, env=dict(os.environ,
                                                                 **vstest.sanitizer_env()),
                       timeout=30)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    pool = doc["pools"][0]
    assert pool["pool"] == POOL and doc["total"]["cost"] == pytest.approx(pool["cost"])
    assert pool["cost"] == pytest.approx(pool["instance_seconds"] + 0.01 * pool["cpu_seconds"],
                                         rel=1e-6)
    # the last hour's buckets hold all of this short run
    r = subprocess.run([vstest.build_path("actuator", "virtscalectl"), "-c", bed.conf, "usage",
                        "--file", path, "--format", "csv", "--since", "1h"],
                       capture_output=True, text=True, env=dict(os.environ,
                                                                 **vstest.sanitizer_env()),
                       timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header, rows = lines[0].split(","), {ln.split(",")[0]: ln.split(",") for ln in lines[1:]}
    since = dict(zip(header, rows[POOL]))
    assert float(since["instance_seconds"]) == pytest.approx(pool["instance_seconds"], abs=0.01)
    assert rows["total"][1:] == rows[POOL][1:]
    return {"pool": pool, "doc": doc}
