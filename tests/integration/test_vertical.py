"""Vertical scaling by virtscaled against real libvirtd + KVM domains: a
high notification gives one more vCPU (live) to the member the policy names
- the busiest running member above cpu_high - and to no other.

The pool's two members are defined by the test (tagged for the pool, named
after its name_pattern): member 01 boots a sector that halts the CPU, member
02 one that spins (jmp $) and so burns its whole vCPU. Each has 1 vCPU of a
maximum of 2, so either could be grown: only the CPU the actuator measured
between two of its own listings tells them apart.

Shrinking is not tested here: a live vCPU unplug needs the guest's ACPI
code to eject the CPU (QEMU refuses it otherwise), and these guests have
no operating system.

Domains are named vst-vx-*; ports come from 19650-19699.
"""
import time

import pytest

import vstest

pytestmark = [pytest.mark.usefixtures("libvirtd"),
              pytest.mark.skipif(not vstest.kvm_usable(), reason="vCPU hotplug needs KVM")]

META_NS = "https://virtscale.invalid/xmlns/virtscale/1"


@pytest.fixture(scope="module")
def spin_disk():
    return vstest.ensure_spin_disk()


def member_metadata(pool, address):
    return (f"<metadata><vs:virtscale xmlns:vs='{META_NS}' pool='{pool}' "
            f"address='{address}'/></metadata>")


def live_vcpus(name):
    return int(vstest.virsh("vcpucount", name, "--live", "--active").stdout.split()[0])


def cpu_percent(names, seconds=1.0):
    """Percent of one host CPU each domain used over @seconds (virsh domstats)."""
    t0 = time.monotonic()
    c0 = {n: int(vstest.domstats(n, "cpu-total")["cpu.time"]) for n in names}
    time.sleep(seconds)
    c1 = {n: int(vstest.domstats(n, "cpu-total")["cpu.time"]) for n in names}
    dt = time.monotonic() - t0
    return {n: (c1[n] - c0[n]) / dt / 1e7 for n in names}


@pytest.mark.parametrize("pool_max", [2, 3], ids=["at-max", "below-max"])
def test_high_adds_a_vcpu_to_the_busy_member(make_actuator, spin_disk, pool_max):
    """A high notification on a pool with vertical = vcpu grows the member
    the policy names: the spinning member 02 gets a second vCPU live (virsh
    vcpucount), the idle member 01 keeps its one, no instance is cloned,
    and status.json says last_action vcpu-add.

    at-max (min = max = 2): horizontal scaling is impossible, so the vCPU is
    the only capacity the pool can gain. below-max (max 3): vertical comes
    first, before any clone."""
    tag = "vmax" if pool_max == 2 else "vout"
    # the template is defined: below max a clone must stay possible, or the
    # pool is reported blocked (and alerts) before the first notification
    a = make_actuator(tag, "19653-19655", template=True, namespace="vx",
                      pool={"vertical": "vcpu", "cpu_high": 50, "cpu_low": 15,
                            "stabilization": 0, "min": 2, "max": pool_max, "lb": "none",
                            "probe": "none", "cooldown": 3})
    idle, busy = f"{a.prefix}01", f"{a.prefix}02"
    vstest.define_domain(idle, vcpus=1, max_vcpus=2,
                         metadata=member_metadata(a.pool_name, "127.0.0.1:19651"))
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{spin_disk}'/><target dev='vda' bus='virtio'/>"
            f"<readonly/></disk>")
    vstest.define_domain(busy, vcpus=1, max_vcpus=2, disk=False, extra_devices=disk,
                         metadata=member_metadata(a.pool_name, "127.0.0.1:19652"))
    assert live_vcpus(idle) == 1 and live_vcpus(busy) == 1
    # firmware done: 01 halted, 02 spinning on its one vCPU (well above
    # cpu_high, whatever else the shared host runs)
    seen = []

    def settled():
        seen.append(cpu_percent([idle, busy]))
        return seen[-1][idle] < 5 and seen[-1][busy] > 60 and seen[-1]
    try:
        load = vstest.wait_for(settled, 60, 0, what="01 idle and 02 busy")
    except AssertionError as e:
        raise AssertionError(f"{e}; % of a CPU measured: {seen[-5:]}") from None

    a.start()
    # the first listing (the start-up sync) sees both members running
    vstest.wait_for(lambda: (lambda st: st["actual"] == 2 and len(st["instances"]) == 2)(
        a.pool_status()), 30, 0.2, what="the first sync to list both members")
    # the job the notification starts lists the members again: the CPU
    # of each is measured over the time since the sync
    time.sleep(3)
    a.notify("high")
    st = vstest.wait_for(
        lambda: (lambda st: st if st["last_result"] not in ("none", "running") or
                 st["alerts"] else None)(a.pool_status()),
        30, 0.2, what="the actuator to act on the high notification")
    assert st["last_action"] == "vcpu-add" and st["last_result"] == "ok", (
        f"the high notification did not grow {busy}: pool status {st}; "
        f"% of a CPU before the start {load}; log:\n{a.proc.output()[-3000:]}")
    assert live_vcpus(busy) == 2, vstest.virsh("vcpucount", busy).stdout
    assert live_vcpus(idle) == 1, vstest.virsh("vcpucount", idle).stdout
    assert f"{busy} now has 2 vCPUs" in a.proc.output()
    # capacity was added to a member, not by cloning one
    assert a.defined() == [idle, busy] and st["actual"] == 2
    assert st["failures"] == 0 and st["alerts"] == 0, st
    assert st["phase"] in ("cooldown", "idle"), st
    # and so does the published status.json
    vstest.wait_for(lambda: a.status_file_pool().get("last_action") == "vcpu-add", 5,
                    what="status.json to say vcpu-add")
