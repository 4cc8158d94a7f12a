"""virtscale-snmp against a real snmpd master, a real snmptrapd and real
libvirtd + QEMU domains: VM-MIB contents against virsh, notifications,
master restart, started before the master, libvirtd frozen, domains going
away, zero domains, odd names, VIRTSCALE-MIB pools, SET refused.

Domains are named vst-snmp-*; ports come from 19100-19199.
"""
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid as uuidlib

import pytest

import vstest
from snmpbed import COL, VM_ENTRY, VM_MIB, VS_MIB, SnmpBed

PREFIX = "vst-snmp-"
RUNNING = PREFIX + "run"
DEFINED = PREFIX + "off"
ODD = PREFIX + "é ünï 名前"
TAP = "vstsnmp0"
# A domain defined while the subagent runs is listed from the collector's next
# full refresh; on a shared, loaded host one bulk stats call takes seconds.
NEW_ROW_TIMEOUT = 30


@pytest.fixture(scope="module")
def vm_mib_domains(libvirtd):
    """A running domain with a disk and a tap NIC, a defined one, and a
    running one with spaces and UTF-8 in its name."""
    vstest.remove_domains(PREFIX)
    try:
        vstest.define_domain(RUNNING, vcpus=2, max_vcpus=3, mem_mib=96, tap=TAP)
        vstest.define_domain(DEFINED, start=False, mem_mib=64)
        vstest.define_domain(ODD, disk=False, mem_mib=64)
        yield {"running": RUNNING, "defined": DEFINED, "odd": ODD}
    finally:
        vstest.remove_domains(PREFIX)


@pytest.fixture
def bed(tmp_path, daemons):
    return SnmpBed(tmp_path, daemons)


def uuid_bytes(name):
    return uuidlib.UUID(vstest.virsh("domuuid", name).stdout.strip()).bytes


def test_walk_matches_virsh(vm_mib_domains, bed):
    bed.start_snmpd()
    bed.start_subagent()
    bed.wait_rows(*vm_mib_domains.values())
    # the slow groups (block, interface, balloon) arrive within slow_interval
    vstest.wait_for(lambda: f"{VM_MIB}.1.8.1.2.{bed.rows_by_name().get(RUNNING, 0)}.1"
                    in bed.walk(VM_MIB + ".1.8"), 10, what="the NIC row")
    walk = bed.walk(VM_MIB)
    rows = bed.rows_by_name(walk)
    for name in vm_mib_domains.values():
        assert name in rows, f"{name} missing from vmTable: {sorted(rows)}"
    # vmNumber counts every row
    assert walk[VM_MIB + ".1.2.0"][1] == len(rows)

    for name in vm_mib_domains.values():
        idx = rows[name]
        info = vstest.dominfo(name)
        running = info["State"] == "running"
        assert bed.col(walk, "uuid", idx) == uuid_bytes(name)
        assert bed.col(walk, "oper", idx) == (4 if running else 11)
        assert bed.col(walk, "admin", idx) == (1 if running else 4)
        assert bed.col(walk, "persistent", idx) == 2
        assert bed.col(walk, "memunit", idx) == 1024
        assert bed.col(walk, "maxmem", idx) == int(info["Max memory"].split()[0])
        assert bed.col(walk, "curmem", idx) == int(info["Used memory"].split()[0])
        assert bed.col(walk, "curcpu", idx) == int(info["CPU(s)"])
        assert bed.col(walk, "ostype", idx) == b"hvm"

    # CPU time within one refresh (1 s) of virsh, vCPU rows, max vCPUs
    idx = rows[RUNNING]
    stats = vstest.domstats(RUNNING, "cpu-total", "vcpu", "block", "interface")
    cpu_us = bed.col(walk, "cputime", idx)
    assert abs(cpu_us - int(stats["cpu.time"]) / 1000) <= 1_000_000 * 2
    assert bed.col(walk, "maxcpu", idx) == 3
    vcpu_rows = [k for k in walk if k.startswith(f"{VM_MIB}.1.5.1.2.{idx}.")]
    assert len(vcpu_rows) == int(stats["vcpu.current"]) == 2
    for i in range(2):
        core = walk[f"{VM_MIB}.1.5.1.2.{idx}.{i + 1}"][1]
        assert abs(core - int(stats[f"vcpu.{i}.time"]) / 1000) <= 2_000_000

    # disks: one row per block device, source path and read counters
    disk_rows = {k.rsplit(".", 1)[1] for k in walk if k.startswith(f"{VM_MIB}.1.7.1.6.{idx}.")}
    assert len(disk_rows) == int(stats["block.count"]) == 1
    assert walk[f"{VM_MIB}.1.7.1.6.{idx}.1"][1] == stats["block.0.path"].encode()
    assert walk[f"{VM_MIB}.1.7.1.8.{idx}.1"][1] == 3  # hardDisk
    # vmStorageSourceType: the disk is a qcow2 overlay file, i.e. sparse(5)
    assert walk[f"{VM_MIB}.1.7.1.4.{idx}.1"][1] == 5
    assert walk[f"{VM_MIB}.1.7.1.5.{idx}.1"][1] == b"file"
    # read requests and octets: the same as virsh once the slow group caught up
    def io_matches():
        st = vstest.domstats(RUNNING, "block")
        w = bed.walk(f"{VM_MIB}.1.7.1")
        return (w[f"{VM_MIB}.1.7.1.13.{idx}.1"][1] == int(st["block.0.rd.reqs"]) and
                w[f"{VM_MIB}.1.7.1.15.{idx}.1"][1] == int(st["block.0.rd.bytes"]))
    vstest.wait_for(io_matches, 5, what="vmStorageReadIOs/Octets = virsh domstats")

    # NIC: ifIndex of the tap on the host, its MAC
    net_rows = [k for k in walk if k.startswith(f"{VM_MIB}.1.8.1.2.{idx}.")]
    assert len(net_rows) == int(stats["net.count"]) == 1
    with open(f"/sys/class/net/{stats['net.0.name']}/ifindex") as f:
        assert walk[f"{VM_MIB}.1.8.1.2.{idx}.1"][1] == int(f.read())
    mac = vstest.virsh("domiflist", RUNNING).stdout.split()[-1]
    assert walk[f"{VM_MIB}.1.8.1.5.{idx}.1"][1] == bytes.fromhex(mac.replace(":", ""))

    # the defined domain has no vCPU rows; the domain with an odd name no disk
    assert not [k for k in walk if k.startswith(f"{VM_MIB}.1.5.1.2.{rows[DEFINED]}.")]
    assert not [k for k in walk if k.startswith(f"{VM_MIB}.1.7.1.6.{rows[ODD]}.")]
    # vCPU affinity: one row per vCPU x host CPU
    ncpu = os.cpu_count()
    vstest.wait_for(lambda: len([k for k in bed.walk(VM_MIB + ".1.6")
                                 if k.startswith(f"{VM_MIB}.1.6.1.3.{idx}.")]) == 2 * ncpu,
                    5, what="affinity rows")
    # hypervisor group
    assert walk[VM_MIB + ".1.1.1.0"][1].startswith(b"QEMU")
    assert walk[VM_MIB + ".1.1.4.0"][1] > 0


def test_vm_index_stable_across_restart_and_undefine(vm_mib_domains, bed, libvirtd):
    bed.start_snmpd()
    bed.start_subagent()
    name = PREFIX + "gone"
    vstest.define_domain(name, start=False, disk=False)
    try:
        # a new domain is listed from the collector's next full refresh
        before = bed.wait_rows(name, *vm_mib_domains.values(), timeout=NEW_ROW_TIMEOUT)
        bed.stop_subagent()
        bed.start_subagent()
        vstest.wait_for(lambda: name in bed.rows_by_name(), NEW_ROW_TIMEOUT, what="rows after restart")
        after = bed.rows_by_name()
        for n in vm_mib_domains.values():
            assert after[n] == before[n], f"vmIndex of {n} changed across a restart"
        # undefined between two walks: its row goes, the others stay put
        vstest.virsh("undefine", name)
        vstest.wait_for(lambda: name not in bed.rows_by_name(), NEW_ROW_TIMEOUT,
                        what="the row to go")
        final = bed.rows_by_name()
        assert all(final[n] == before[n] for n in vm_mib_domains.values())
        assert bed.walk(VM_MIB + ".1.2")[VM_MIB + ".1.2.0"][1] == len(final)
    finally:
        vstest.remove_domain(name)


def wait_trap(bed, trap_oid, uuid_b, timeout=2.0):
    want = " ".join(f"{b:02X}" for b in uuid_b)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t in bed.traps():
            if t.get("1.3.6.1.6.3.1.1.4.1.0", "").endswith(trap_oid):
                for k, v in t.items():
                    if k.startswith(f"{VM_ENTRY}.{COL['uuid']}.") and want in v.upper():
                        return t
        time.sleep(0.05)
    raise AssertionError(f"no trap {trap_oid} for {want} within {timeout}s: {bed.traps()}")


def test_traps_running_and_shutdown(vm_mib_domains, bed):
    bed.start_trapd()
    bed.start_snmpd()
    bed.start_subagent()
    name = PREFIX + "trap"
    vstest.define_domain(name, start=False, disk=False)
    try:
        vstest.wait_for(lambda: name in bed.rows_by_name(), NEW_ROW_TIMEOUT, what="the defined row")
        idx = bed.rows_by_name()[name]
        ub = uuid_bytes(name)
        vstest.virsh("start", name)
        t = wait_trap(bed, f"{VM_MIB}.0.1", ub)  # vmRunning
        assert f"{VM_ENTRY}.{COL['uuid']}.{idx}" in t
        assert name.encode().hex().upper() in t[f"{VM_ENTRY}.{COL['name']}.{idx}"].replace(" ", "")
        # vmOperState carries the previous state: shutdown(11)
        assert t[f"{VM_ENTRY}.{COL['oper']}.{idx}"].endswith("11")
        vstest.virsh("destroy", name)
        t = wait_trap(bed, f"{VM_MIB}.0.3", ub)  # vmShutdown
        assert f"{VM_ENTRY}.{COL['oper']}.{idx}" in t
        assert not t[f"{VM_ENTRY}.{COL['oper']}.{idx}"].endswith(" 11")
        # per-VM notifications switched off: the bulk variant with vmAffectedVMs
        assert bed.set(VM_MIB + ".1.9.0", "i", "2").returncode == 0
        vstest.virsh("start", name)
        affected = f"{VM_MIB}.1.11.0"

        def has_bit(t):
            # other domains on the shared host may change state at the same time
            bits = bytes.fromhex(t[affected].split(":", 1)[1].strip())
            return len(bits) > (idx - 1) // 8 and bits[(idx - 1) // 8] & (0x80 >> ((idx - 1) % 8))

        def bulk_running():
            for t in bed.traps():
                if t.get("1.3.6.1.6.3.1.1.4.1.0", "").endswith(f"{VM_MIB}.0.11") and \
                        affected in t and has_bit(t):
                    return t
        vstest.wait_for(bulk_running, 2, what="vmBulkRunning with our vmIndex")
        # and no per-VM vmRunning for it while they are switched off
        assert len([t for t in bed.traps()
                    if t.get("1.3.6.1.6.3.1.1.4.1.0", "").endswith(f"{VM_MIB}.0.1")
                    and f"{VM_ENTRY}.{COL['uuid']}.{idx}" in t]) == 1
        assert bed.set(VM_MIB + ".1.9.0", "i", "1").returncode == 0
        vstest.virsh("destroy", name)
        vstest.virsh("undefine", name)
        t = wait_trap(bed, f"{VM_MIB}.0.10", ub)  # vmDeleted
        assert t[f"{VM_ENTRY}.{COL['persistent']}.{idx}"].endswith("2")
    finally:
        vstest.remove_domain(name)


def test_set_only_on_enabled_objects(vm_mib_domains, bed):
    bed.start_snmpd()
    bed.start_subagent()
    idx = bed.wait_rows(RUNNING)[RUNNING]
    r = bed.set(f"{VM_ENTRY}.{COL['name']}.{idx}", "s", "evil")
    assert r.returncode != 0 and "notWritable" in (r.stdout + r.stderr)
    r = bed.set(VM_MIB + ".1.2.0", "i", "5")
    assert "notWritable" in (r.stdout + r.stderr)
    r = bed.set(VS_MIB + ".1.1.3.0", "i", "5")
    assert "notWritable" in (r.stdout + r.stderr)
    r = bed.set(VM_MIB + ".1.9.0", "i", "3")
    assert "wrongValue" in (r.stdout + r.stderr)
    r = bed.set(VM_MIB + ".1.9.0", "i", "2")
    assert r.returncode == 0, r.stderr
    assert bed.get(VM_MIB + ".1.9.0")[VM_MIB + ".1.9.0"][1] == 2
    r = bed.set(VM_MIB + ".1.10.0", "i", "2")
    assert r.returncode == 0, r.stderr
    assert bed.get(VM_MIB + ".1.10.0")[VM_MIB + ".1.10.0"][1] == 2


def test_master_restart_and_started_before_master(vm_mib_domains, bed):
    # started before snmpd: keeps retrying, registers once the master is up
    sub = bed.start_subagent(wait=False)
    time.sleep(2)
    assert sub.alive()
    bed.start_snmpd()
    bed.wait_registered(10)
    # master restart: re-registers by itself, no crash
    bed.stop_snmpd()
    time.sleep(1.5)
    assert sub.alive(), "subagent died when the master went away"
    bed.start_snmpd()
    bed.wait_registered(10)
    bed.wait_rows(RUNNING)
    assert sub.alive()
    # SIGTERM: a clean exit (sanitizers abort with another status)
    assert sub.stop() == 0


def test_walk_with_libvirtd_frozen(vm_mib_domains, bed):
    """libvirtd stopped (SIGSTOP) for 10 s: every request answered in < 1 s;
    when it comes back the data refreshes without a restart."""
    bed.start_snmpd()
    bed.start_subagent()
    idx = bed.wait_rows(RUNNING)[RUNNING]
    pid = vstest.libvirtd_pid()
    assert pid, "no running libvirtd in its pid file"
    worst = 0.0
    walks = 0
    os.kill(pid, signal.SIGSTOP)
    try:
        t_end = time.monotonic() + 10
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            bed.get_raw(f"{VM_ENTRY}.{COL['name']}.{idx}", timeout=1)
            w = bed.walk(VM_MIB, timeout=1)
            dt = time.monotonic() - t0
            worst = max(worst, dt)
            assert f"{VM_ENTRY}.{COL['name']}.{idx}" in w
            walks += 1
    finally:
        os.kill(pid, signal.SIGCONT)
    assert walks >= 5
    assert worst < 1.0, f"a request took {worst:.3f}s while libvirtd was frozen"
    assert bed.sub.alive()
    # data refreshes: a domain defined now shows up
    name = PREFIX + "thaw"
    vstest.define_domain(name, start=False, disk=False)
    try:
        vstest.wait_for(lambda: name in bed.rows_by_name(), NEW_ROW_TIMEOUT, what="a refresh after the thaw")
    finally:
        vstest.remove_domain(name)


@pytest.mark.skipif(os.environ.get("VS_TEST_RESTART_LIBVIRTD") != "1",
                    reason="restarts the shared libvirtd: set VS_TEST_RESTART_LIBVIRTD=1")
def test_libvirtd_restart(vm_mib_domains, bed):
    bed.start_snmpd()
    bed.start_subagent()
    pid = vstest.libvirtd_pid()
    assert pid, "no running libvirtd in its pid file"
    os.kill(pid, signal.SIGTERM)
    vstest.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 15, what="libvirtd to exit")
    # answers continue from the last snapshot while libvirtd is gone
    assert RUNNING in bed.rows_by_name()
    subprocess.run(["libvirtd", "-d"], check=True)
    vstest.wait_for(lambda: vstest.virsh("version", check=False).returncode == 0, 20,
                    what="libvirtd to come back")
    name = PREFIX + "restart"
    vstest.define_domain(name, start=False, disk=False)
    try:
        vstest.wait_for(lambda: name in bed.rows_by_name(), NEW_ROW_TIMEOUT, what="reconnect and refresh")
    finally:
        vstest.remove_domain(name)


def test_zero_domains(tmp_path, daemons):
    """A hypervisor with no domain at all (libvirt's test driver with an
    empty node): scalars answer, the tables are empty."""
    node = tmp_path / "empty-node.xml"
    node.write_text("<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores>"
                    "<threads>1</threads><active>2</active><mhz>2000</mhz></cpu>"
                    "<memory>2097152</memory></node>\n")
    bed = SnmpBed(tmp_path, daemons, agent_port=19103, trap_port=19104, uri=f"test://{node}")
    bed.start_snmpd()
    bed.start_subagent()
    walk = bed.walk(VM_MIB)
    assert walk[VM_MIB + ".1.2.0"][1] == 0
    assert not [k for k in walk if k.startswith(VM_ENTRY + ".")]
    assert VM_MIB + ".1.1.1.0" in walk and VM_MIB + ".1.9.0" in walk


def test_virtscale_pool_tables(vm_mib_domains, tmp_path, daemons):
    """A configured pool with one running member whose metadata gives its
    address: the pool and backend rows, sessions counted by sock_diag from
    real TCP connections, the actuator's absence said so (also by the
    enumerated columns 21-25: unknown, and 0 alerts). Then status.json
    documents written by hand drive the actuator columns: phase, last
    action and last alert as enumerations, the alert counter and time, a
    cancelled result, and a last error longer than the MIB's 255 bytes."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    port = srv.getsockname()[1]
    member = PREFIX + "web-01"
    warm = PREFIX + "web-02"
    meta = (f"<metadata><vs:virtscale xmlns:vs='https://virtscale.invalid/xmlns/virtscale/1' "
            f"pool='vstsnmp' address='127.0.0.1:{port}'/></metadata>")
    pool = {"pool vstsnmp": {"template": f"{PREFIX}web-tmpl", "name_pattern": f"{PREFIX}web-%02d",
                             "min": 1, "max": 3, "policy": "ratio", "session_capacity": 10,
                             "sessions": "sockdiag", "lb": "none"}}
    clients = []
    try:
        vstest.define_domain(member, disk=False, metadata=meta)
        # a warm instance (tagged warm, paused): not running, counted apart
        warm_meta = meta.replace(f"127.0.0.1:{port}'", "127.0.0.1:9' warm='yes'")
        vstest.define_domain(warm, disk=False, metadata=warm_meta)
        vstest.virsh("suspend", warm)
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", port))
            clients.append(c)
            clients.append(srv.accept()[0])  # both ends stay open: ESTABLISHED
        bed = SnmpBed(tmp_path, daemons, agent_port=19105, trap_port=19106, sections=pool)
        bed.start_trapd()
        bed.start_snmpd()
        bed.start_subagent()
        rows = bed.wait_rows(member)
        entry = VS_MIB + ".1.3.1"

        def backend():
            w = bed.walk(VS_MIB)
            ok = (w.get(f"{entry}.7.1.1", (None, None))[1] == 3 and
                  w.get(f"{VS_MIB}.1.2.1.5.1", (None, None))[1] == 1)
            return w if ok else None
        try:
            w = vstest.wait_for(backend, 10, what="3 sessions on 1 running instance")
        except AssertionError:
            print(bed.walk(VS_MIB))
            raise
        pool = VS_MIB + ".1.2.1"
        assert w[f"{pool}.2.1"][1] == b"vstsnmp"
        assert w[f"{pool}.3.1"][1] == 1 and w[f"{pool}.4.1"][1] == 3
        assert w[f"{pool}.5.1"][1] == 1        # running instances
        assert w[f"{pool}.6.1"][1] == -1       # desired: no actuator
        assert w[f"{pool}.8.1"][1] == 2        # ratio
        assert w[f"{pool}.10.1"][1] == 300     # 3.00 sessions on average
        assert w[f"{pool}.12.1"][1] == b"unknown"
        assert w[f"{pool}.13.1"][1] == 5       # last result unknown
        assert w[f"{pool}.16.1"][0] == "Counter64"
        assert w[f"{pool}.19.1"][1] == 3
        assert w[f"{pool}.20.1"][1] == b"unknown"
        assert w[f"{pool}.21.1"][1] == 5       # vsPoolPhaseState unknown
        assert w[f"{pool}.22.1"][1] == 9       # vsPoolLastActionKind unknown
        assert w[f"{pool}.23.1"] == ("Counter64", 0)  # vsPoolAlerts
        assert w[f"{pool}.24.1"][1] == 7       # vsPoolLastAlert unknown
        assert w[f"{pool}.25.1"][1] == 0       # vsPoolLastAlertTime
        assert w[VS_MIB + ".1.1.2.0"][1] == 2  # actuator not available
        assert w[VS_MIB + ".1.1.3.0"][1] == 1
        assert w[f"{entry}.2.1.1"][1] == member.encode()
        assert w[f"{entry}.3.1.1"][1] == rows[member]
        assert w[f"{entry}.4.1.1"][1] == 1 and w[f"{entry}.5.1.1"][1] == bytes([127, 0, 0, 1])
        assert w[f"{entry}.6.1.1"][1] == port
        assert w[f"{entry}.8.1.1"][1] == 10
        assert w[f"{entry}.9.1.1"][1] == 3000    # 30.00 % of capacity
        assert w[f"{entry}.11.1.1"][1] == 1      # running
        assert w[f"{entry}.15.1.1"][1] == 2      # vsBackendWarm: a member
        w = vstest.wait_for(lambda: (lambda w: w if w.get(f"{pool}.26.1", (0, 0))[1] == 1
                                     else None)(bed.walk(VS_MIB)), 10, what="vsPoolWarm 1")
        assert w[f"{entry}.2.1.2"][1] == warm.encode()
        assert w[f"{entry}.11.1.2"][1] == 2      # not running
        assert w[f"{entry}.15.1.2"][1] == 1      # vsBackendWarm
        assert w[f"{pool}.5.1"][1] == 1          # still one instance

        # the actuator's published state fills the actuator columns; a new
        # failed action is notified (vsActionFailed)
        def status(result, t, error="", alerts=0, last_alert="none", last_alert_time=0):
            doc = {"v": 1, "time": t, "pid": os.getpid(), "pools": [{
                "name": "vstsnmp", "desired": 2, "actual": 1, "phase": "cooldown",
                "cooldown_left": 12, "last_action": "scale-out", "last_result": result,
                "last_time": t, "last_error": error, "scale_outs": 4, "scale_ins": 1,
                "failures": 0 if result == "ok" else 1, "alerts": alerts,
                "last_alert": last_alert, "last_alert_time": last_alert_time,
                "instances": [{"name": member, "state": "running",
                               "address": f"127.0.0.1:{port}", "lb": "enabled",
                               "sessions": 3}]}]}
            tmp = os.path.join(bed.state, "status.json.tmp")
            with open(tmp, "w") as f:
                json.dump(doc, f)
            os.rename(tmp, os.path.join(bed.state, "status.json"))

        def walk_when(oid, pred, what):
            return vstest.wait_for(lambda: (lambda w: w if oid in w and pred(w[oid][1]) else None)(
                bed.walk(VS_MIB)), 10, what=what)
        alerted = time.time() - 3
        status("ok", time.time() - 5, alerts=7, last_alert="at-max", last_alert_time=alerted)
        w = walk_when(VS_MIB + ".1.1.2.0", lambda v: v == 1, "vsActuatorAvailable = true")
        assert w[f"{pool}.6.1"][1] == 2
        assert w[f"{pool}.12.1"][1] == b"scale-out"
        assert w[f"{pool}.13.1"][1] == 2       # ok
        assert w[f"{pool}.16.1"] == ("Counter64", 4)
        assert w[f"{pool}.17.1"] == ("Counter64", 1)
        assert w[f"{pool}.20.1"][1] == b"cooldown"
        assert w[f"{pool}.21.1"][1] == 4       # vsPoolPhaseState cooldown
        assert w[f"{pool}.22.1"][1] == 2       # vsPoolLastActionKind scaleOut
        assert w[f"{pool}.23.1"] == ("Counter64", 7)  # vsPoolAlerts
        assert w[f"{pool}.24.1"][1] == 2       # vsPoolLastAlert atMax
        assert w[f"{pool}.25.1"][1] == int(alerted)
        assert w[f"{entry}.10.1.1"][1] == 2    # lb enabled
        status("failed", time.time(), "clone failed: no space")

        def failed_trap():
            for t in bed.traps():
                if t.get("1.3.6.1.6.3.1.1.4.1.0", "").endswith(VS_MIB + ".0.7"):
                    return t
        t = vstest.wait_for(failed_trap, 10, what="vsActionFailed")
        # (snmptrapd wraps long hex values: the first 16 bytes are on this line)
        assert b"clone failed".hex().upper() in t[f"{pool}.15.1"].replace(" ", "")

        # vsPoolLastError is SIZE (0..255): a longer error (status.json keeps
        # up to 1024 bytes) is served cut at the last whole character
        long_error = "clone failed at step define:" + "\u00e9" * 200   # 28 + 400 bytes
        status("failed", time.time(), long_error)
        whole = long_error.encode()[:255].decode("utf-8", "ignore").encode()
        assert len(whole) == 254
        w = walk_when(f"{pool}.15.1", lambda v: v != b"clone failed: no space",
                      "the long vsPoolLastError")
        served = w[f"{pool}.15.1"][1]
        assert served == whole, (len(served), served)
        # an action cut short because virtscaled was stopping: cancelled(6)
        status("cancelled", time.time())
        w = walk_when(f"{pool}.13.1", lambda v: v != 3, "vsPoolLastResult after cancelled")
        assert w[f"{pool}.13.1"][1] == 6
        assert w[f"{pool}.15.1"][1] == b""
    finally:
        for c in clients:
            c.close()
        srv.close()
        vstest.remove_domain(member)
        vstest.remove_domain(warm)


SANITIZER_REPORTS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer",
                     "UndefinedBehaviorSanitizer", "runtime error:")


def test_stop_while_the_pool_monitor_counts_sessions(tmp_path, daemons, libvirtd):
    """SIGTERM while the pool monitor thread is in the middle of a sample
    (its session source, an HTTP status page, answers slowly): the monitor
    is joined before the collector stops, the subagent exits 0 and its log
    holds no sanitizer report."""
    import http.server
    import threading

    in_flight = threading.Event()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            in_flight.set()
            time.sleep(2)
            body = b"7\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    member = PREFIX + "stop-01"
    meta = (f"<metadata><vs:virtscale xmlns:vs='https://virtscale.invalid/xmlns/virtscale/1' "
            f"pool='vstsnmpstop' address='127.0.0.1:{port}'/></metadata>")
    pool = {"pool vstsnmpstop": {"template": f"{PREFIX}stop-tmpl",
                                 "name_pattern": f"{PREFIX}stop-%02d", "min": 1, "max": 2,
                                 "policy": "ratio", "session_capacity": 10,
                                 "sessions": "http:http://%a:%p/status", "lb": "none"}}
    try:
        vstest.define_domain(member, disk=False, metadata=meta)
        bed = SnmpBed(tmp_path, daemons, agent_port=19109, trap_port=19110, sections=pool)
        bed.start_snmpd()
        sub = bed.start_subagent()
        for _ in range(3):
            # a sample is being taken: the monitor waits for the page
            in_flight.clear()
            assert in_flight.wait(30), "the pool monitor never fetched the status page"
            time.sleep(0.3)
        t0 = time.monotonic()
        code = sub.stop(timeout=20)
        took = time.monotonic() - t0
        log = sub.output()
        assert code == 0, f"exit status {code}:\n{log[-3000:]}"
        assert took < 10, took
        for word in SANITIZER_REPORTS:
            assert word not in log, log[-3000:]
        assert "stopping" in log
    finally:
        srv.shutdown()
        vstest.remove_domain(member)



def test_mibs_lint_and_translate():
    top = vstest.SRCDIR
    mibdirs = ":".join(vstest.MIB_DIRS)
    env = dict(os.environ, SMIPATH=mibdirs)
    r = subprocess.run(["smilint", "-l", "6", "-p", f"{top}/mibs/VIRTSCALE-MIB.txt"],
                       capture_output=True, text=True, env=env)
    assert "error" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
    env = dict(os.environ, MIBDIRS=mibdirs, MIBS="")
    for module, root, path in (("VM-MIB", VM_MIB, f"{top}/mibs/ietf/VM-MIB.txt"),
                               ("VIRTSCALE-MIB", VS_MIB, f"{top}/mibs/VIRTSCALE-MIB.txt")):
        with open(path) as f:
            text = f.read()
        defined = set(re.findall(r"^\s*([a-z][A-Za-z0-9]*)\s+(?:OBJECT-TYPE|NOTIFICATION-TYPE|"
                                 r"OBJECT-IDENTITY|OBJECT IDENTIFIER|MODULE-IDENTITY|"
                                 r"MODULE-COMPLIANCE|OBJECT-GROUP|NOTIFICATION-GROUP)",
                                 text, re.M))
        assert len(defined) > 20
        for name in sorted(defined):
            t = subprocess.run(["snmptranslate", "-m", module, "-On", f"{module}::{name}"],
                               capture_output=True, text=True, env=env)
            assert t.returncode == 0 and t.stdout.strip().startswith("." + root), \
                f"{module}::{name}: {t.stdout} {t.stderr}"


def test_command_line(tmp_path):
    exe = vstest.build_path("snmp-subagent", "virtscale-snmp")
    env = dict(os.environ, **vstest.sanitizer_env())
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.startswith("virtscale-snmp ")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, env=env)
    assert r.returncode == 0
    for opt in ("-f", "-c", "-x", "-d", "-p", "--pid-file", "--version", "--help"):
        assert opt in r.stdout
    # a configuration error names file:line and exits 2 before anything starts
    bad = tmp_path / "bad.conf"
    bad.write_text("[snmp]\nagentx_socket = /tmp/x\nagentx_ping_intervall = 3\n")
    r = subprocess.run([exe, "-f", "-c", str(bad)], capture_output=True, text=True, env=env,
                       timeout=30)
    assert r.returncode == 2
    assert f"{bad}:3" in r.stderr
    r = subprocess.run([exe, "--no-such-option"], capture_output=True, text=True, env=env)
    assert r.returncode == 2
