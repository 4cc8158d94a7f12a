"""Crash safety of virtscaled: kill -9 in the middle of a clone and of a
scale-in, libvirtd restarted during an action. After a restart nothing may
be leaked (virsh list --all, virsh vol-list) and the pool converges."""
import contextlib
import json
import os
import signal
import socket
import time

import pytest

import vstest

pytestmark = pytest.mark.usefixtures("libvirtd")


def test_kill9_mid_clone_rolls_back_and_converges(make_actuator):
    # an HTTP probe a halted guest never passes keeps the clone half-made
    a = make_actuator("kc", "19380-19389", template=True, pool={"min": 1, "probe": "http:/", "probe_timeout": 120})
    a.start()
    vstest.wait_for(lambda: '"step":"started"' in a.journal_text(), 30, what="a started clone")
    a.kill9()
    ops = a.open_ops()
    assert len(ops) == 1 and ops[0]["op"] == "clone"
    half = ops[0]["name"]
    assert half in a.defined() and half in a.running()
    assert len(a.volumes()) == 1
    # restart, now with a probe the guest passes: the half-made clone is
    # rolled back (not adopted), then min = 1 is reached with a fresh one
    a.write_config(probe="tcp", probe_timeout=20)
    a.start()
    vstest.wait_for(lambda: "rolled back" in a.proc.output(), 30, what="the rollback")
    a.wait_running(1, 40)
    vstest.wait_for(lambda: a.open_ops() == [] and a.journal_text() == "", 10,
                    what="an empty journal")
    assert len(a.defined()) == 1 and len(a.volumes()) == 1
    assert a.pool_status()["failures"] == 0


def stop_timed(a):
    """SIGTERM by the pid file; returns (seconds until exit, exit status)."""
    t0 = time.monotonic()
    a.signal(signal.SIGTERM)
    a.proc.proc.wait(60)
    return time.monotonic() - t0, a.proc.proc.returncode


def test_sigterm_mid_clone_stops_at_once_and_rolls_back(make_actuator):
    a = make_actuator("tc", "19440-19449", template=True, pool={"min": 1, "probe": "http:/", "probe_timeout": 120})
    a.start()
    vstest.wait_for(lambda: '"step":"started"' in a.journal_text(), 30, what="a started clone")
    half = a.open_ops()[0]["name"]
    seconds, status = stop_timed(a)
    # not the 120 s probe timeout: the probe's wait ends, the clone is undone
    assert status == 0 and seconds < 15, (seconds, a.proc.output())
    out = a.proc.output()
    assert "scale-out stopped at step probe: virtscaled is stopping" in out, out
    assert half not in a.defined() and a.volumes() == []
    assert a.open_ops() == []
    with open(os.path.join(a.state, "status.json")) as f:
        pool = json.load(f)["pools"][0]
    assert pool["last_result"] == "cancelled" and pool["failures"] == 0, pool
    assert pool["alerts"] == 0


def hold_connections(addresses):
    socks = []
    for addr in addresses:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=5)
        socks.append(s)
    return socks


def draining_in_status(a, victim):
    """The pool's entry of status.json once it shows @victim draining."""
    try:
        with open(os.path.join(a.state, "status.json")) as f:
            pool = json.load(f)["pools"][0]
    except (FileNotFoundError, ValueError):
        return None
    if any(i["name"] == victim and i["lb"] == "draining" for i in pool["instances"]):
        return pool
    return None


@contextlib.contextmanager
def draining_scale_in(make_actuator, tag, ports):
    """Two instances, a session held on each, then a scale-in to 1: yields
    the actuator once the scale-in is draining (drain_timeout 120 s) and
    status.json says so: the pool scaling in, its action running, the
    member being drained (the journaled victim) in state "draining"."""
    a = make_actuator(tag, ports, template=True,
                      pool={"min": 1, "max": 2, "drain_timeout": 120, "cooldown": 1})
    a.start()
    a.wait_running(1, 30)
    assert a.ctl("scale", a.pool_name, "2").returncode == 0
    a.wait_running(2, 40)
    # a session on every instance: the drain of whichever is chosen waits
    socks = hold_connections([i["address"] for i in a.pool_status()["instances"]])
    try:
        assert a.ctl("scale", a.pool_name, "1").returncode == 0
        vstest.wait_for(lambda: '"step":"draining"' in a.journal_text(), 30,
                        what="a draining scale-in")
        victim = the_journaled_scale_in(a)
        pool = vstest.wait_for(lambda: draining_in_status(a, victim), 10, interval=0.2,
                               what=f"status.json: {victim} draining")
        assert pool["phase"] == "scaling-in" and pool["last_action"] == "scale-in", pool
        assert pool["last_result"] == "running", pool
        lb = {i["name"]: i["lb"] for i in pool["instances"]}
        # the victim only: the other member keeps serving
        assert len(lb) == 2 and lb[victim] == "draining", lb
        assert list(lb.values()).count("draining") == 1, lb
        yield a
    finally:
        for s in socks:
            s.close()


def the_journaled_scale_in(a):
    ops = a.open_ops()
    assert len(ops) == 1 and ops[0]["op"] == "scale-in", ops
    return ops[0]["name"]


def test_kill9_mid_scale_in_finishes_it_after_restart(make_actuator):
    with draining_scale_in(make_actuator, "ki", "19390-19399") as a:
        a.kill9()
        victim = the_journaled_scale_in(a)
        assert len(a.defined()) == 2
        a.write_config(drain_timeout=1)
        a.start()
        vstest.wait_for(lambda: victim not in a.defined(), 30, what="the scale-in to finish")
        a.wait_running(1, 30)
        vstest.wait_for(lambda: len(a.volumes()) == 1 and a.open_ops() == [], 10,
                        what="its volume deleted")
        assert "finished" in a.proc.output()


def test_sigterm_mid_drain_keeps_the_scale_in_for_the_next_start(make_actuator):
    with draining_scale_in(make_actuator, "td", "19450-19459") as a:
        seconds, status = stop_timed(a)
        assert status == 0 and seconds < 15, (seconds, a.proc.output())
        assert "scale-in stopped at step lb-drain" in a.proc.output()
        victim = the_journaled_scale_in(a)
        assert victim in a.running()
        a.write_config(drain_timeout=1)
        a.start()
        vstest.wait_for(lambda: victim not in a.defined(), 30, what="the scale-in to finish")
        a.wait_running(1, 30)


def test_libvirtd_restarted_during_scale_in(make_actuator):
    # a halted guest ignores the ACPI shutdown: the scale-in waits
    # shutdown_timeout before destroying, and libvirtd goes away meanwhile
    a = make_actuator("lr", "19400-19409", template=True, pool={"min": 1, "max": 2, "shutdown_timeout": 6,
                                       "cooldown": 1})
    a.start()
    a.wait_running(1, 30)
    assert a.ctl("scale", a.pool_name, "2").returncode == 0
    a.wait_running(2, 40)
    assert a.ctl("scale", a.pool_name, "1").returncode == 0
    vstest.wait_for(lambda: '"step":"drained"' in a.journal_text(), 30, what="the shutdown step")
    vstest.restart_libvirtd()
    # the daemon reconnects and completes (directly or through reconcile)
    a.wait_running(1, 60)
    vstest.wait_for(lambda: len(a.defined()) == 1 and len(a.volumes()) == 1 and
                    a.open_ops() == [], 30, what="nothing leaked")
    assert a.proc.alive()
    # and it still acts after the reconnect
    assert a.ctl("scale", a.pool_name, "2").returncode == 0
    a.wait_running(2, 40)
