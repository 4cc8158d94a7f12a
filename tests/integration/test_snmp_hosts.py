"""virtscale-snmp with several hypervisors, against a real snmpd, a real
snmptrapd and the real libvirtd: vsHostTable names every configured host
with its measured figures, the backends name their host, vsHostLost and
vsHostBack reach snmptrapd when a host stops answering for host_grace and
when it answers again, and vmTable keeps one row per domain UUID when two
hosts list the same domains.

Hosts: "a" (qemu:///system), "b" (test:///default, libvirt's in-process
test driver), "relay" (qemu+tcp to host a's libvirtd through a relay the
test starts and stops: hostrelay.py), "dead" (a port where nothing
listens). Domains are named vst-snmph-*; SNMP ports 19130-19131, the relay
on 19132.
"""
import os
import re
import subprocess
import time

import pytest

import hostrelay
import vstest
from snmpbed import COL, VM_ENTRY, VM_MIB, VS_MIB, SnmpBed

pytestmark = [pytest.mark.usefixtures("libvirtd"),
              pytest.mark.skipif(not hostrelay.available(), reason="no local libvirtd socket")]

PREFIX = "vst-snmph-"
POOL = "vstsnmph"
HOST = VS_MIB + ".1.4.1"
BACKEND = VS_MIB + ".1.3.1"
TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
HOST_LOST, HOST_BACK = VS_MIB + ".0.8", VS_MIB + ".0.9"
DEAD_URI = "qemu+tcp://127.0.0.1:1/system"
RELAY_PORT = 19132


@pytest.fixture
def members():
    """Two running members of the pool and one defined, tagged, on host a."""
    vstest.remove_domains(PREFIX)
    names = [f"{PREFIX}web-0{i}" for i in (1, 2, 3)]
    try:
        for i, n in enumerate(names):
            vstest.define_domain(n, start=i < 2, mem_mib=64,
                                 metadata=vstest.virtscale_tag(POOL, f"127.0.0.1:{19140 + i}"))
        yield names
    finally:
        vstest.remove_domains(PREFIX)


def write_conf(bed, relay_uri):
    text = f"""[libvirt]
refresh_interval = 1
slow_interval = 1
host_grace = 2

[host a]
uri = {vstest.URI}

[host b]
uri = test:///default

[host relay]
uri = {relay_uri}

[host dead]
uri = {DEAD_URI}

[snmp]
agentx_socket = {bed.sock}
agentx_ping_interval = 1

[actuator]
state_dir = {bed.state}

[pool {POOL}]
template = {PREFIX}tmpl
name_pattern = {PREFIX}web-%02d
hosts = a
min = 1
max = 3
policy = ratio
session_capacity = 10
sessions = sockdiag
lb = none
"""
    with open(bed.conf, "w") as f:
        f.write(text)


def host_col(walk, col, idx):
    v = walk.get(f"{HOST}.{col}.{idx}")
    return None if v is None else v[1]


def all_traps(bed):
    """Every trap of snmptrapd's log as {oid: value text}, a value wrapped
    over several lines (long Hex-STRINGs) kept whole."""
    if not os.path.exists(bed.traps_log):
        return []
    with open(bed.traps_log, errors="replace") as f:
        text = f.read()
    out = []
    for chunk in text.split("TRAP ")[1:]:
        vbs = {}
        for part in chunk.split("\t"):
            m = re.match(r"^\s*\.?([0-9.]+) = (.*)$", part, re.S)
            if m:
                vbs[m.group(1)] = m.group(2).strip()
        out.append(vbs)
    return out


def host_traps(bed, notif):
    return [t for t in all_traps(bed) if t.get(TRAP_OID, "").endswith(notif)]


def trap_text(value):
    """A Hex-STRING (or STRING) value of snmptrapd -Ox as text."""
    if value.startswith("STRING:"):
        return value[len("STRING:"):].strip().strip('"')
    hexpart = value.split(":", 1)[1] if value.startswith("Hex-STRING:") else ""
    return bytes.fromhex("".join(hexpart.split())).decode("utf-8", "replace")


def free_kib():
    out = vstest.virsh("freecell").stdout  # virNodeGetFreeMemory, as the collector
    return int(re.search(r"Total:\s+([0-9]+) KiB", out).group(1))


def test_host_table_traps_and_rows(members, tmp_path, daemons):
    relay = hostrelay.LibvirtRelay(RELAY_PORT)
    bed = SnmpBed(tmp_path, daemons, agent_port=19130, trap_port=19131)
    write_conf(bed, relay.uri)
    try:
        bed.start_trapd()
        bed.start_snmpd()
        bed.start_subagent()

        # the host that never answers: disconnected, then lost after
        # host_grace (2 s), announced once at snmptrapd
        lost = vstest.wait_for(lambda: [t for t in host_traps(bed, HOST_LOST)
                                        if f"{HOST}.2.4" in t], 20, what="vsHostLost for dead")
        t = lost[0]
        assert trap_text(t[f"{HOST}.2.4"]) == "dead"
        assert trap_text(t[f"{HOST}.3.4"]) == DEAD_URI
        assert t[f"{HOST}.4.4"].endswith("4")           # lost(4)
        since = int(t[f"{HOST}.10.4"].split(":")[-1])
        assert time.time() - 60 < since <= time.time()
        assert trap_text(t[f"{HOST}.13.4"])             # why it does not answer
        # the relay host has not answered yet either: lost too
        vstest.wait_for(lambda: host_traps(bed, HOST_LOST) and any(
            f"{HOST}.2.3" in t for t in host_traps(bed, HOST_LOST)), 20,
            what="vsHostLost for relay")

        def table_ready():
            w = bed.walk(VS_MIB)
            ok = (host_col(w, 4, 1) == 1 and host_col(w, 5, 1) == 2 and
                  host_col(w, 6, 1) is not None and host_col(w, 6, 1) >= 0 and
                  host_col(w, 4, 4) == 4)
            return w if ok else None
        w = vstest.wait_for(table_ready, 30, what="host a measured, 2 instances, dead lost")

        # every configured host, in file order, by name and URI
        names = [host_col(w, 2, i) for i in (1, 2, 3, 4)]
        assert names == [b"a", b"b", b"relay", b"dead"]
        assert [host_col(w, 3, i) for i in (1, 2, 3, 4)] == \
            [vstest.URI.encode(), b"test:///default", relay.uri.encode(), DEAD_URI.encode()]
        assert host_col(w, 4, 2) == 1                   # the test driver: connected
        # host a: measured figures
        assert 0 <= host_col(w, 6, 1) <= 10000          # CPU idle, hundredths of a percent
        assert abs(host_col(w, 7, 1) - free_kib()) <= max(65536, free_kib() // 20)
        total = int(re.search(r"Memory size:\s+([0-9]+) KiB",
                              vstest.virsh("nodeinfo").stdout).group(1))
        assert host_col(w, 8, 1) == total
        assert host_col(w, 9, 1) > 0                    # RTT in microseconds
        assert host_col(w, 10, 1) == 0 and host_col(w, 11, 1) == 0
        assert w[f"{HOST}.12.1"][0] == "Counter64"
        assert host_col(w, 13, 1) == b""
        # instances: the running tagged members (the defined one does not count)
        running = [n for n in members if vstest.dominfo(n)["State"] == "running"]
        assert host_col(w, 5, 1) == len(running) == 2
        assert host_col(w, 5, 2) == 0
        # the dead host: no figures, since when and how long
        assert host_col(w, 5, 4) == 0
        assert host_col(w, 6, 4) == -1 and host_col(w, 9, 4) == -1
        assert host_col(w, 7, 4) == 0
        assert host_col(w, 10, 4) > 0 and host_col(w, 11, 4) >= 2
        assert host_col(w, 13, 4)
        assert w[VS_MIB + ".1.1.4.0"][1] == 2           # vsHostsConnected: a and b
        # each backend names its host
        for i in (1, 2, 3):
            assert w[f"{BACKEND}.13.1.{i}"][1] == 1
            assert w[f"{BACKEND}.14.1.{i}"][1] == b"a"

        # vmTable: the domains of every host (the test driver's "test" too)
        rows = bed.rows_by_name()
        assert "test" in rows and all(n in rows for n in members)
        before = bed.walk(VM_MIB)
        # VM-MIB's hypervisor group describes the first configured host (a,
        # the real QEMU), not the test driver (b) nor the dead one
        a_version = re.search(r"Running hypervisor: QEMU (\S+)", vstest.virsh("version").stdout)
        assert before[VM_MIB + ".1.1.1.0"][1].startswith(b"QEMU via libvirt "), \
            before[VM_MIB + ".1.1.1.0"]
        assert before[VM_MIB + ".1.1.2.0"][1] == a_version.group(1).encode()
        assert before[VM_MIB + ".1.1.4.0"][1] > 0                    # vmHvUpTime

        # the relay host answers: vsHostBack; it lists host a's domains
        # again, with the same UUIDs: still one row per UUID
        relay.start()
        back = vstest.wait_for(lambda: [t for t in host_traps(bed, HOST_BACK)
                                        if f"{HOST}.2.3" in t], 30, what="vsHostBack for relay")
        assert trap_text(back[0][f"{HOST}.2.3"]) == "relay"
        assert back[0][f"{HOST}.4.3"].endswith("1")     # connected(1)
        vstest.wait_for(lambda: host_col(bed.walk(HOST), 4, 3) == 1, 10, what="relay connected")
        time.sleep(3)  # a few refreshes of both views of the same libvirtd
        after = bed.walk(VM_MIB)
        assert bed.rows_by_name(after) == bed.rows_by_name(before) or \
            set(bed.rows_by_name(after)) >= set(bed.rows_by_name(before))
        rows = bed.rows_by_name(after)
        uuids = [v[1] for k, v in after.items() if k.startswith(f"{VM_ENTRY}.{COL['uuid']}.")]
        assert len(uuids) == len(set(uuids)) == len(rows)
        assert after[VM_MIB + ".1.2.0"][1] == len(rows)  # vmNumber
        for n in members:
            idx = rows[n]
            assert bed.col(after, "name", idx) == n.encode()
            state = vstest.dominfo(n)["State"]
            assert bed.col(after, "oper", idx) == (4 if state == "running" else 11)
        # the pool spans host a only: the relay host shows none of its members
        w = bed.walk(HOST)
        assert host_col(w, 5, 1) == 2 and host_col(w, 5, 3) == 0
        # one vsHostLost per outage: dead was announced once
        assert len([t for t in host_traps(bed, HOST_LOST) if f"{HOST}.2.4" in t]) == 1

        # the relay stops answering again: lost again, and back again, with
        # one more reconnect counted
        relay.stop()
        vstest.wait_for(lambda: len([t for t in host_traps(bed, HOST_LOST)
                                     if f"{HOST}.2.3" in t]) == 2, 20,
                        what="a second vsHostLost for relay")
        assert host_col(bed.walk(HOST), 4, 3) == 4
        relay.start()
        vstest.wait_for(lambda: len([t for t in host_traps(bed, HOST_BACK)
                                     if f"{HOST}.2.3" in t]) == 2, 30,
                        what="a second vsHostBack for relay")
        w = vstest.wait_for(lambda: (lambda w: w if host_col(w, 12, 3) == 1 else None)(
            bed.walk(HOST)), 10, what="vsHostReconnects = 1")
        assert host_col(w, 4, 3) == 1
    finally:
        relay.stop()


def test_host_objects_translate():
    """The new objects resolve by name with the shipped MIBs."""
    env = dict(MIBDIRS=":".join(vstest.MIB_DIRS), MIBS="", PATH="/usr/bin:/bin")
    for name, oid in (("vsHostTable", VS_MIB + ".1.4"), ("vsHostRtt", HOST + ".9"),
                      ("vsBackendHost", BACKEND + ".14"), ("vsHostLost", HOST_LOST),
                      ("vsHostBack", HOST_BACK)):
        t = subprocess.run(["snmptranslate", "-m", "VIRTSCALE-MIB", "-On",
                            f"VIRTSCALE-MIB::{name}"], capture_output=True, text=True, env=env)
        assert t.stdout.strip() == "." + oid, (name, t.stdout, t.stderr)
