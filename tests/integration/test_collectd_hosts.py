"""The collectd plugin with several hypervisors, in a real collectd: per
configured host (plugin_instance = its name as a collectd identifier) the
values VIRTSCALE-MIB's vsHostTable serves: connected/lost, running pool
instances, CPU idle, free and total memory, round-trip time. Host "a" is
the real libvirtd (compared with virsh), the second libvirt's in-process
test driver, the third a port where nothing listens (lost after
host_grace = 2 s).

Domains are named vst-cd-hosts-*; backend ports 19230-19231.
"""
import math
import os
import re

import pytest

import collectdtest as ct
import vstest

POOL = "vstcdhosts"
MEMBERS = (("vst-cd-hosts-01", 19230), ("vst-cd-hosts-02", 19231))
DEAD_URI = "qemu+tcp://127.0.0.1:1/system"
# the plugin_instance of each host named by its URI
A, B, DEAD = "qemu_system", "test_default", "qemu_tcp_127_0_0_1_1_system"


@pytest.fixture
def tmp(tmp_path):
    d = tmp_path / "cd"
    d.mkdir()
    return str(d)


@pytest.fixture
def members(libvirtd):
    vstest.remove_domains("vst-cd-hosts-")
    try:
        ct.define_pool_domains(MEMBERS, POOL)
        vstest.define_domain("vst-cd-hosts-03", start=False,
                             metadata=vstest.virtscale_tag(POOL, "127.0.0.1:19232"))
        yield [n for n, _ in MEMBERS]
    finally:
        vstest.remove_domains("vst-cd-hosts-")


def write_vs_conf(tmp):
    path = os.path.join(tmp, "vs.conf")
    with open(path, "w") as f:
        f.write(f"""[libvirt]
hosts = {vstest.URI} test:///default {DEAD_URI}
refresh_interval = 1
slow_interval = 1
host_grace = 2

[actuator]
socket = {os.path.join(tmp, "act.sock")}
state_dir = {tmp}

[pool {POOL}]
template = vst-cd-hosts-tmpl
name_pattern = vst-cd-hosts-%02d
hosts = {vstest.URI}
min = 1
max = 3
policy = ratio
session_capacity = 10
sessions = sockdiag
lb = none
""")
    return path


def test_host_values(tmp, members, daemons):
    conf = ct.write_collectd_conf(tmp, write_vs_conf(tmp), plugin_block=(
        "  ForwardNotifications false\n  ForwardThresholds false"))
    cd = ct.start_collectd(daemons, conf)

    # every host has its values, named by its URI made an identifier
    for pi in (A, B, DEAD):
        ct.wait_csv(tmp, pi, "vs_host_state", timeout=40)
    # the host that never answers: lost after host_grace, no figures
    ct.wait_csv(tmp, DEAD, "vs_host_state", pred=lambda r: r[1] == 0 and r[2] == 1,
                what="the dead host lost")
    assert ct.csv_last(tmp, DEAD, "vs_host_instances")[1] == 0
    assert math.isnan(ct.csv_last(tmp, DEAD, "vs_host_cpu_idle")[1])
    assert math.isnan(ct.csv_last(tmp, DEAD, "vs_host_rtt")[1])
    # the test driver: connected, no pool member on it
    assert ct.csv_last(tmp, B, "vs_host_state")[1:] == [1, 0]
    assert ct.csv_last(tmp, B, "vs_host_instances")[1] == 0

    # host a: connected, the running tagged members, measured figures
    ct.wait_csv(tmp, A, "vs_host_instances", pred=lambda r: r[1] == 2,
                what="2 running instances on host a")
    running = [n for n in members if vstest.dominfo(n)["State"] == "running"]
    assert len(running) == 2
    assert ct.csv_last(tmp, A, "vs_host_state")[1:] == [1, 0]
    idle = ct.wait_csv(tmp, A, "vs_host_cpu_idle", pred=lambda r: not math.isnan(r[1]))[1]
    assert 0 <= idle <= 100
    free = int(re.search(r"Total:\s+([0-9]+) KiB",
                         vstest.virsh("freecell").stdout).group(1)) * 1024
    total = int(re.search(r"Memory size:\s+([0-9]+) KiB",
                          vstest.virsh("nodeinfo").stdout).group(1)) * 1024
    mem = ct.csv_last(tmp, A, "vs_host_memory")
    assert abs(mem[1] - free) <= max(64 << 20, free // 20), (mem, free)
    assert mem[2] == total
    rtt = ct.csv_last(tmp, A, "vs_host_rtt")[1]
    assert 0 < rtt < 5      # seconds
    assert cd.alive(), cd.output()
