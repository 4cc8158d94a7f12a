"""SIGHUP to the daemons, found by their pid files: neither dies, a
running scale-out completes, a configuration that does not load is
reported with FILE:LINE and the running one is kept."""
import signal
import time

import pytest

import vstest
from actbed import Actuator
from snmpbed import VS_MIB, SnmpBed

pytestmark = pytest.mark.usefixtures("libvirtd")


def test_virtscaled_sighup_mid_scale_out(tmp_path, daemons):
    a = Actuator(tmp_path / "hup", daemons, "hup", "19420-19429",
                 pool={"min": 0, "max": 1, "cooldown": 1, "probe": "none"}, namespace="hup")
    a.cleanup()
    a.define_template()
    try:
        a.start()
        pid = vstest.pid_from_file(a.pid_file)
        a.notify("high")
        vstest.wait_for(lambda: a.pool_status()["phase"] == "scaling-out", 20, interval=0.05,
                        what="the scale-out to start")
        a.signal(signal.SIGHUP)
        st = a.wait_running(1, 60)
        assert a.proc.alive(), a.proc.output()
        assert st["last_action"] == "scale-out" and st["last_result"] == "ok", st
        vstest.wait_for(lambda: "SIGHUP: " + a.conf + " is valid" in a.proc.output(), 10,
                        what="the reload's verdict")

        # a file that does not load: logged with FILE:LINE, the running one kept
        with open(a.conf, "a") as f:
            f.write("no_such_key = 1\n")
        n_lines = open(a.conf).read().count("\n")
        a.signal(signal.SIGHUP)
        vstest.wait_for(lambda: "the running configuration is kept" in a.proc.output(), 10,
                        what="the reload's error")
        assert f"{a.conf}:{n_lines}: [pool {a.pool_name}] no_such_key: unknown key" in \
            a.proc.output()
        assert a.proc.alive()
        # still the same daemon, still acting on its pool
        a.notify("ok")
        assert a.status()["pid"] == pid and a.pool_status()["actual"] == 1
        assert vstest.pid_from_file(a.pid_file) == pid
    finally:
        a.proc.stop()
        a.cleanup()
        vstest.remove_domain(a.template)


def test_virtscale_snmp_sighup(tmp_path, daemons):
    bed = SnmpBed(tmp_path, daemons, agent_port=19107, trap_port=19108)
    bed.start_snmpd()
    sub = bed.start_subagent()
    sub.signal(signal.SIGHUP)
    vstest.wait_for(lambda: "is valid; changes take effect" in sub.output(), 10,
                    what="the reload's verdict")
    with open(bed.conf, "a") as f:
        f.write("[bogus]\n")
    sub.signal(signal.SIGHUP)
    vstest.wait_for(lambda: "the running configuration is kept" in sub.output(), 10,
                    what="the reload's error")
    assert f"{bed.conf}:" in sub.output() and "[bogus]: unknown group" in sub.output()
    time.sleep(1)
    assert sub.alive(), sub.output()
    assert bed.walk(VS_MIB + ".1.1", check=False), "the subagent stopped answering"
