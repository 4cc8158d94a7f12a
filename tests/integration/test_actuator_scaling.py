"""virtscaled against real libvirtd and QEMU domains: min -> max under
repeated high notifications, the at-max alert, back to min, cooldown and
flapping, manual targets, failures that must leave nothing behind."""
import os
import time

import pytest

import vstest
from actbed import tagged

pytestmark = pytest.mark.usefixtures("libvirtd")


def observe_actions(a, seconds, send=None, until=None):
    """Polls status for @seconds (or until @until(status)); returns the
    monotonic times at which the number of completed actions grew, and the
    last pool status."""
    times, last, st = [], None, None
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end and not (until and st and until(st)):
        if send:
            a.notify(send(i))
        i += 1
        st = a.pool_status()
        n = st["scale_outs"] + st["scale_ins"]
        if last is not None and n > last:
            times.extend([time.monotonic()] * (n - last))
        last = n
        time.sleep(0.5)
    return times, st


def test_min_to_max_at_max_alert_then_back_to_min(make_actuator):
    a = make_actuator("life", "19300-19309", pool={"cooldown": 3})
    a.define_template()
    a.start()
    # min = 1 is enforced without any notification
    a.wait_running(1, 30)
    # repeated high notifications: one instance per action, cooldown between
    times, st = observe_actions(a, 60, send=lambda i: "high",
                                until=lambda st: st["actual"] == 3 and st["phase"] != "scaling-out")
    assert st["actual"] == 3 and len(a.running()) == 3
    assert st["scale_outs"] == 3, st
    assert len(times) == 2
    # completions are at least a cooldown apart (the second waited it out)
    assert times[1] - times[0] >= 3 - 0.6, times
    # at max and still high: an alert, no fourth instance
    vstest.wait_for(lambda: (a.notify("high"), a.pool_status()["alerts"])[1] >= 1, 10,
                    what="the at-max alert")
    assert "at max" in a.proc.output()
    assert len(a.defined()) == 3
    # every clone is tagged with the pool and its own hostfwd port, which answers
    ports = set()
    for name in a.running():
        pool, addr = tagged(name)
        assert pool == a.pool_name and addr.startswith("127.0.0.1:193")
        ports.add(addr)
        vstest.wait_port(int(addr.split(":")[1]), timeout=5)
    assert len(ports) == 3
    st = a.pool_status()
    assert {i["name"] for i in st["instances"]} == set(a.running())
    # overlays, not copies: the clones' volumes are small qcow2 files over the template
    vols = a.volumes()
    assert len(vols) == 3 and all(v.endswith(".qcow2") for v in vols)
    info = vstest.run(["qemu-img", "info", "-U", f"{vstest.IMAGES}/{vols[0]}"]).stdout
    assert "backing file" in info and a.template in info
    # low: back to min, undefined and volumes deleted
    a.wait_running(1, 40, keep_sending="low")
    vstest.wait_for(lambda: len(a.defined()) == 1 and len(a.volumes()) == 1, 10,
                    what="undefine and volume deletion")
    st = a.pool_status()
    assert st["scale_ins"] == 2
    # the status file says the same
    import json
    with open(os.path.join(a.state, "status.json")) as f:
        assert json.load(f)["pools"][0]["actual"] == 1
    assert a.proc.alive()


def test_flapping_input_one_action_per_cooldown(make_actuator):
    # the input flips about every second; the cooldown is three flips long
    a = make_actuator("flap", "19310-19319", pool={"cooldown": 3, "max": 3})
    a.define_template()
    a.start()
    a.wait_running(1, 30)
    times, st = observe_actions(a, 12, send=lambda i: "high" if (i // 2) % 2 == 0 else "low")
    assert a.proc.alive()
    # 12 s with a 3 s cooldown: at most 12/3 + 1 actions, spaced by the cooldown
    assert 1 <= len(times) <= 5, times
    for x, y in zip(times, times[1:]):
        assert y - x >= 3 - 0.6, times
    assert st["failures"] == 0


def test_manual_target_and_bounds(make_actuator):
    a = make_actuator("man", "19320-19329", pool={"cooldown": 30, "min": 1, "max": 3})
    a.define_template()
    a.start()
    a.wait_running(1, 30)
    r = a.ctl("scale", a.pool_name, "3")
    assert r.returncode == 0, r.stderr + r.stdout
    # a manual target is reached step by step, without waiting for cooldowns
    a.wait_running(3, 40)
    r = a.ctl("scale", a.pool_name, "9")
    assert r.returncode != 0 and "outside" in r.stdout
    r = a.ctl("scale", a.pool_name, "1")
    assert r.returncode == 0
    a.wait_running(1, 40)
    r = a.ctl("status")
    assert r.returncode == 0 and f"pool {a.pool_name}" in r.stdout and "vst-act-man-" in r.stdout


def test_template_missing_fails_cleanly_and_retries(make_actuator):
    a = make_actuator("nt", "19330-19339", pool={"min": 1})
    # no template defined
    a.start()
    st = vstest.wait_for(lambda: a.pool_status()["failures"] >= 1 and a.pool_status(), 20,
                         what="a failure")
    assert "template" in st["last_error"]
    assert a.defined() == [] and a.volumes() == []
    # it retries with backoff and succeeds once the template exists
    a.define_template()
    a.wait_running(1, 60)
    assert a.proc.alive()


def test_name_collision_with_a_foreign_domain(make_actuator):
    a = make_actuator("coll", "19340-19349", pool={"min": 1})
    a.define_template()
    # an untagged domain already has the first member name
    foreign = "vst-act-coll-01"
    vstest.define_domain(foreign, start=False)
    # a running domain tagged with our pool name that our name_pattern does not
    # make (another configuration's pool of the same name) is not a member
    other = "vst-act-coll-other"
    tag = (f"<metadata><vs:virtscale xmlns:vs='https://virtscale.invalid/xmlns/virtscale/1' "
           f"pool='{a.pool_name}' address='127.0.0.1:19349'/></metadata>")
    vstest.define_domain(other, start=True, metadata=tag)
    try:
        a.start()
        a.wait_running(1, 30)
        assert a.running() == ["vst-act-coll-02"]
        assert tagged(foreign) is None
        assert foreign in vstest.list_domains(a.prefix)
        assert os.path.exists(f"{vstest.IMAGES}/{foreign}.qcow2")
        st = a.pool_status()
        assert st["actual"] == 1 and [i["name"] for i in st["instances"]] == ["vst-act-coll-02"]
        # scale in never chooses the foreign domains
        assert a.ctl("scale", a.pool_name, "2").returncode == 0
        a.wait_running(2, 40)
        assert a.ctl("scale", a.pool_name, "1").returncode == 0
        a.wait_running(1, 40)
        assert foreign in vstest.list_domains(a.prefix)
        assert other in vstest.virsh("list", "--name").stdout.split()
    finally:
        vstest.remove_domain(foreign)
        vstest.remove_domain(other)


def test_storage_pool_full(make_actuator, tmp_path):
    mnt = tmp_path / "tinyfs"
    mnt.mkdir()
    vstest.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)])
    spool = "vst-act-full"
    try:
        vstest.virsh("pool-destroy", spool, check=False)
        vstest.virsh("pool-undefine", spool, check=False)
        vstest.virsh("pool-define-as", spool, "dir", "--target", str(mnt))
        vstest.virsh("pool-start", spool)
        # fill it: a full copy of the 1 MiB template disk cannot fit
        with open(mnt / "filler", "wb") as f:
            try:
                f.write(b"\0" * (1024 * 1024))
            except OSError:
                pass
        a = make_actuator("full", "19350-19359", pool={"min": 1, "clone": "copy", "storage_pool": spool})
        a.define_template()
        a.start()
        st = vstest.wait_for(lambda: a.pool_status()["failures"] >= 1 and a.pool_status(), 30,
                             what="a failure")
        assert a.proc.alive()
        assert a.defined() == []
        vstest.virsh("pool-refresh", spool)
        vols = vstest.virsh("vol-list", spool).stdout
        assert "vst-act-full-" not in vols, vols
        assert st["actual"] == 0
    finally:
        vstest.virsh("pool-destroy", spool, check=False)
        vstest.virsh("pool-undefine", spool, check=False)
        vstest.run(["umount", str(mnt)], check=False)


def test_desired_count_within_max_step_up(make_actuator):
    # a proportional notifier asks for 2 from 0: one action adds both
    # instances (max_step_up = 2), then the cooldown holds further highs
    a = make_actuator("step", "19420-19429", pool={"cooldown": 30, "min": 0, "max": 4, "max_step_up": 2,
                                         "probe": "none"})
    a.define_template()
    a.start()
    vstest.wait_for(lambda: a.pool_status()["last_action"] == "none", 10, what="idle")
    a.send({"v": 1, "type": "pool", "pool": a.pool_name, "state": "high", "desired": 2})
    st = a.wait_running(2, 60)
    assert st["scale_outs"] == 1
    assert st["phase"] == "cooldown"
    a.send({"v": 1, "type": "pool", "pool": a.pool_name, "state": "high", "desired": 4})
    time.sleep(3)
    assert len(a.running()) == 2 and a.pool_status()["scale_outs"] == 1


@pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="no nginx")
def test_nginx_settings_reapplied_after_restart(make_actuator, tmp_path, daemons):
    """A setting that membership does not show (the balancing method) reaches
    the upstream after a restart with the same running members."""
    from lb_bed import Nginx
    ng = Nginx(tmp_path / "ngx", daemons)
    a = make_actuator("ngm", "19430-19439", pool={"min": 1, "max": 2, "lb": "nginx"},
                      sections={"nginx": dict(ng.nginx_keys)})
    a.define_template()
    a.start()
    a.wait_running(1, 30)
    _, addr = tagged(a.running()[0])
    vstest.wait_for(lambda: f"server {addr};" in ng.upstream_text(), 20,
                    what="the member in the upstream")
    assert "least_conn" not in ng.upstream_text()
    members = a.running()
    reloads = ng.error_log().count("reconfiguring")
    a.proc.stop()
    a.sections["nginx"]["method"] = "least_conn"
    a.write_config()
    a.start()
    vstest.wait_for(lambda: "\tleast_conn;\n" in ng.upstream_text(), 20,
                    what="the upstream re-rendered with least_conn")
    # the same member, no action taken; nginx reloaded the new file
    assert f"server {addr};" in ng.upstream_text()
    assert a.running() == members and a.pool_status()["scale_outs"] == 0
    vstest.wait_for(lambda: ng.error_log().count("reconfiguring") > reloads, 10,
                    what="nginx's reload")
