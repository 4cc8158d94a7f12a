"""Vertical scaling per member by virtscaled, against real guests (the web
guest of tests/guest, under TCG): each member has its own M-of-N window on
its own CPU%, read by the actuator; the guest that burns CPU gets a second
vCPU live (libvirt's count and the guest's /proc/cpuinfo agree), gives it
back once the load stops, and its idle neighbour is never touched.

The two members are defined by the test from the guest's template recipe
(define-template.sh, 2 vCPUs at most, booted with 1, no CPU cap), tagged
for the pool and named after its name_pattern, and booted in parallel;
min = max = 2, so only vertical steps can change the pool. The guest onlines
a hot-plugged CPU itself (its init) and burns one CPU on demand
(/cgi-bin/spin?SECONDS); /cgi-bin/cpus reports /proc/cpuinfo.

Under TCG (these guests) the actuator does not unplug a vCPU (QEMU never
reports its removal to libvirt): the giving back is an expected failure.
An idle member is ballooned down a quarter of its maximum per step
(vertical = memory), which libvirt's balloon and the guest's kernel show.

Domains are named vst-vv-*; ports come from 19660-19679.
"""
import json
import os
import re
import urllib.request

import pytest

import vstest

pytestmark = [pytest.mark.usefixtures("libvirtd")]

GUEST = os.path.join(vstest.SRCDIR, "tests", "guest")
META_NS = "https://virtscale.invalid/xmlns/virtscale/1"
BOOT_TIMEOUT = float(os.environ.get("VS_GUEST_BOOT_TIMEOUT", "120"))


def define_member(name, port, pool):
    """A web guest with up to 2 vCPUs (1 at boot) and no CPU cap, tagged
    as a member of @pool serving on 127.0.0.1:@port; not started."""
    r = vstest.run(["sh", os.path.join(GUEST, "define-template.sh"), name, str(port), "-1",
                    "128"], check=False, timeout=900, env={**os.environ, "VS_TEST_MAX_VCPUS": "2"})
    assert r.returncode == 0, f"define-template.sh failed: {r.stdout}{r.stderr}"
    vstest.virsh("metadata", name, "--config", META_NS, "--key", "virtscale",
                 "--set", f"<virtscale pool='{pool}' address='127.0.0.1:{port}'/>")


def get(port, path, timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.read().decode()


def guest_cpus(port):
    """The processors in the guest's /proc/cpuinfo, None when it does not answer."""
    try:
        m = re.search(r" cpus (\d+) ", get(port, "/cgi-bin/cpus"))
    except OSError:
        return None
    return int(m.group(1)) if m else None


def live_vcpus(name):
    return int(vstest.virsh("vcpucount", name, "--live", "--active").stdout.split()[0])


def instance(st, name):
    return next(i for i in st["instances"] if i["name"] == name)


def test_busy_member_gains_a_vcpu_and_gives_it_back(make_actuator):
    """The member that burns a CPU gets a second vCPU (virsh vcpucount
    --live and the guest's /proc/cpuinfo agree, status.json says so) and
    loses it again once the burn stops; the idle member keeps its one
    vCPU throughout; each step is journaled and closed; nothing is cloned
    and nothing alerts."""
    a = make_actuator("cpu", "19661-19669", template=True, namespace="vv",
                      pool={"vertical": "vcpu", "vertical_interval": 1,
                            "vertical_debounce": "3/4", "vertical_cpu_high": 60,
                            "vertical_cpu_low": 15, "min": 2, "max": 2, "lb": "none",
                            "probe": "none", "cooldown": 1, "policy": "average"})
    idle, busy = f"{a.prefix}01", f"{a.prefix}02"
    ports = {idle: 19661, busy: 19662}
    for name, port in ports.items():
        define_member(name, port, a.pool_name)
    for name in ports:
        vstest.virsh("start", name)
    for name, port in ports.items():
        vstest.wait_for(lambda: guest_cpus(port) == 1, BOOT_TIMEOUT, 0.5,
                        what=f"{name} to boot and answer with 1 CPU")
    a.start()
    vstest.wait_for(lambda: len(a.pool_status()["instances"]) == 2, 30, 0.2,
                    what="the first sync to list both members")

    assert "spins 120 s" in get(ports[busy], "/cgi-bin/spin?120")
    vstest.wait_for(lambda: live_vcpus(busy) == 2, 60, 0.5,
                    what=f"{busy} to get a second vCPU; log:\n{a.proc.output()[-3000:]}")
    vstest.wait_for(lambda: guest_cpus(ports[busy]) == 2, 15, 0.5,
                    what=f"{busy}'s kernel to show the second CPU")
    st = vstest.wait_for(
        lambda: (lambda s: s if s.get("vertical", {}).get("result") == "ok" else None)(
            a.pool_status()), 10, 0.2, what="status to show the vertical step")
    assert st["vertical"]["domain"] == busy and st["vertical"]["action"] == "vcpu-add", st
    assert st["vertical"]["vcpus"] == 2 and st["vertical_steps"] == 1, st
    assert instance(st, busy)["vcpus"] == 2 and instance(st, busy)["vcpus_max"] == 2, st
    assert instance(st, idle)["vcpus"] == 1, st
    assert live_vcpus(idle) == 1 and guest_cpus(ports[idle]) == 1
    assert f"{busy} now has 2 vCPUs" in a.proc.output()
    out = a.ctl("status").stdout
    assert re.search(rf"^  {busy} .* vcpus=2/2 memory=128/128MiB$", out, re.M), out
    assert re.search(rf"^  {idle} .* vcpus=1/2 ", out, re.M), out
    assert f"last vertical step: vcpu-add of {busy}, ok, 2 vCPUs" in out, out

    # the load stops: the second vCPU goes (the guest ejects it) once the
    # window has seen enough idle samples
    assert "spins 0 s" in get(ports[busy], "/cgi-bin/spin?0")
    st = vstest.wait_for(
        lambda: (lambda s: s if s["vertical"]["action"] == "vcpu-remove" and
                 s["vertical"]["result"] in ("ok", "failed") else None)(a.pool_status()),
        75, 0.5, what=f"{busy} to give its second vCPU back")
    assert st["vertical"]["domain"] == busy, st
    if st["vertical"]["result"] == "failed":
        # libvirt 9.0 + QEMU 7.2 under TCG (measured by hand, `virsh
        # qemu-monitor-event --loop` during `virsh setvcpus DOM 1 --live`):
        # 0.05-0.13 s after device_del the guest has ejected the CPU (ACPI
        # _OST eject success; DEVICE_DELETED for .../vcpu1/lapic only;
        # query-cpus-fast lists one CPU), but no DEVICE_DELETED for "vcpu1"
        # ever comes (watched 45 s), so libvirt's 5 s wait times out and its
        # live count stays at 2; a libvirtd restart recounts 1, and then
        # `virsh setvcpus DOM 2 --live` crashes QEMU. So the actuator does
        # not unplug a TCG domain's vCPU: the step fails once (one alert),
        # is not asked again while the member has 2 vCPUs, and libvirt and
        # the guest both keep 2.
        assert "no vCPU unplug under TCG" in st["vertical"]["error"], st
        assert live_vcpus(busy) == 2 and guest_cpus(ports[busy]) == 2
        assert live_vcpus(idle) == 1 and guest_cpus(ports[idle]) == 1
        assert f"{idle} now has" not in a.proc.output()
        vstest.wait_for(
            lambda: f"{busy}: vcpu-remove not asked again while it has 2 vCPUs" in
            a.proc.output(), 5, 0.2, what="the failed step to be held back")
        st = a.pool_status()
        assert st["failures"] == 1 and st["vertical_steps"] == 1, st
        assert st["last_alert"] in ("action-failed", "recovered"), st
        assert a.open_ops() == [], a.open_ops()
        pytest.xfail("QEMU 7.2 under TCG never sends DEVICE_DELETED for an unplugged vCPU "
                     "(only for its lapic), so libvirt 9.0 would go on counting it: the "
                     "actuator does not unplug vCPUs of TCG domains")
    vstest.wait_for(lambda: live_vcpus(busy) == 1, 10, 0.5,
                    what=f"libvirt to count {busy}'s vCPU out")
    vstest.wait_for(lambda: guest_cpus(ports[busy]) == 1, 15, 0.5,
                    what=f"{busy}'s kernel to drop the second CPU")
    assert st["vertical"]["vcpus"] == 1, st
    assert st["vertical_steps"] == 2 and instance(st, busy)["vcpus"] == 1, st
    # the idle neighbour was never touched, nothing was cloned, nothing failed
    assert live_vcpus(idle) == 1 and guest_cpus(ports[idle]) == 1
    assert f"{idle} now has" not in a.proc.output()
    assert st["failures"] == 0 and st["alerts"] == 0 and st["scale_outs"] == 0, st
    assert sorted(n for n in a.defined() if a.member_name(n)) == [idle, busy]
    # journaled: two vertical operations, both closed
    ops = [json.loads(ln) for ln in a.journal_text().splitlines() if '"vertical"' in ln]
    assert len([o for o in ops if o.get("op") == "vertical"]) == 2, a.journal_text()
    assert a.open_ops() == [], a.open_ops()
    # and the published file says the same
    vstest.wait_for(lambda: a.status_file_pool().get("vertical_steps") == 2, 5,
                    what="status.json to count two vertical steps")


def memstat(name):
    """virsh dommemstat of @name as a dict of KiB."""
    out = vstest.virsh("dommemstat", name).stdout
    return {k: int(v) for k, v in (ln.split() for ln in out.splitlines() if ln.strip())}


def memory_use(st):
    """The percent of the memory the guest sees that it uses, as virtscaled
    reads it from the balloon statistics; None before the guest reports."""
    free = st.get("usable") or st.get("unused")
    if not st.get("available") or not free:
        return None
    return 100.0 * (st["available"] - free) / st["available"]


def test_idle_member_is_ballooned_down_by_a_step(make_actuator):
    """A member that uses little of its 128 MiB is ballooned down by one
    step, a quarter of its maximum (32 MiB): virsh dommemstat's actual and
    the memory the guest sees both drop by it, status.json and virtscalectl
    say so, the step is journaled and closed; never below what the guest
    uses divided by vertical_memory_high, never below a quarter."""
    a = make_actuator("mem", "19671-19673", template=True, namespace="vv",
                      pool={"vertical": "memory", "vertical_interval": 1,
                            "vertical_debounce": "3/4", "vertical_memory_low": 60,
                            "vertical_memory_high": 90, "min": 1, "max": 1, "lb": "none",
                            "probe": "none", "cooldown": 1, "policy": "average"})
    name, port = f"{a.prefix}01", 19671
    define_member(name, port, a.pool_name)
    vstest.virsh("start", name)
    vstest.wait_for(lambda: guest_cpus(port) == 1, BOOT_TIMEOUT, 0.5,
                    what=f"{name} to boot and answer")
    # the balloon driver reports every 5 s (<stats period='5'/>)
    before = vstest.wait_for(lambda: (lambda s: s if memory_use(s) is not None else None)(
        memstat(name)), 30, 0.5, what=f"{name}'s balloon statistics")
    assert before["actual"] == 128 * 1024, before
    assert memory_use(before) < 60, f"the idle guest uses too much to be ballooned: {before}"
    a.start()
    st = vstest.wait_for(
        lambda: (lambda s: s if (s.get("vertical") or {}).get("action") == "memory-remove" and
                 s["vertical"]["result"] in ("ok", "failed") else None)(a.pool_status()),
        60, 0.2, what=f"{name} to be ballooned down; log:\n{a.proc.output()[-3000:]}")
    assert st["vertical"]["result"] == "ok" and st["vertical"]["domain"] == name, st
    assert st["vertical"]["memory_kib"] == 96 * 1024, st
    assert f"{name} balloon 131072 -> 98304 KiB (of 131072)" in a.proc.output()
    # the guest's own view: its kernel has 32 MiB less
    vstest.wait_for(
        lambda: (lambda s: s if s["available"] <= before["available"] - 31 * 1024 else None)(
            memstat(name)), 15, 0.5, what=f"{name}'s kernel to see 32 MiB less")
    # more steps may follow while the guest still uses little: none by more
    # than a quarter, none below a quarter, and libvirt's balloon is the last
    def settled():
        steps = [(int(f), int(t)) for f, t in
                 re.findall(rf"{name} balloon (\d+) -> (\d+) KiB", a.proc.output())]
        return steps if steps and memstat(name)["actual"] == steps[-1][1] else None
    steps = vstest.wait_for(settled, 15, 0.5, what="libvirt's balloon to be the last step's")
    assert steps[0] == (128 * 1024, 96 * 1024), steps
    assert all(0 < f - t <= 32 * 1024 and t >= 32 * 1024 for f, t in steps), steps
    st = a.pool_status()
    assert st["scale_outs"] == 0 and st["failures"] == 0 and st["alerts"] == 0, st
    assert st["vertical_steps"] >= len(steps), st
    vstest.wait_for(lambda: a.open_ops() == [], 10, 0.2, what="every vertical step closed")
    out = a.ctl("status").stdout
    assert f"last vertical step: memory-remove of {name}, ok" in out, out
