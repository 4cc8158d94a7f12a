"""One pool model for every program: the SNMP subagent, the collectd plugin
and the actuator read the same virtscale.conf and see the same members, the
same session counts (from the pool's own source) and the same verdict -
including "unknown" when the session source fails, which must never turn
into a scale-in. Real libvirtd/QEMU domains, snmpd, snmptrapd, collectd and
virtscaled; the members' session counts come from HTTP status pages the
test controls.
"""
import glob
import json
import math
import os
import time

import pytest

import collectdtest as ct
import vstest
from snmpbed import VS_MIB, SnmpBed

pytestmark = pytest.mark.usefixtures("libvirtd")

PREFIX = "vst-pm-"
POOL_ENTRY = VS_MIB + ".1.2.1"     # vsPoolEntry
BACKEND_ENTRY = VS_MIB + ".1.3.1"  # vsBackendEntry
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
POOL_HIGH_TRAP = VS_MIB + ".0.1"
POOL_LOW_TRAP = VS_MIB + ".0.2"
# VsPolicyState
HIGH, LOW, UNKNOWN = 2, 3, 5


@pytest.fixture
def pm_domains():
    vstest.remove_domains(PREFIX)
    yield
    vstest.remove_domains(PREFIX)


def count_servers(*ports, count=0):
    """SessionCountServers on 127.0.0.1:@ports; all of them stopped when
    one cannot start."""
    servers = []
    try:
        for p in ports:
            servers.append(vstest.SessionCountServer("127.0.0.1", p, count=count))
    except BaseException:
        for s in servers:
            s.stop()
        raise
    return servers


def traps_of(bed, trap_oid):
    return [t for t in bed.traps() if t.get(SNMP_TRAP_OID, "").endswith(trap_oid)]


def test_snmp_and_collectd_agree_on_the_pool(tmp_path, daemons, pm_domains):
    """The subagent and the collectd plugin, reading one virtscale.conf, count
    the same two running members with the same sessions from the pool's
    http: source, and both say high; when that source fails both say
    unknown (vsPoolState unknown(5), vs_policy_state NaN) and neither
    sends a low verdict: an unanswered session source is no idle pool."""
    pool = "vstpm"
    names = [f"{PREFIX}agree-01", f"{PREFIX}agree-02"]
    servers = count_servers(19603, 19604, count=8)
    cd_dir = tmp_path / "cd"
    cd_dir.mkdir()
    sink = ct.NotificationSink(str(cd_dir / "act.sock"))
    try:
        for name, srv in zip(names, servers):
            vstest.define_domain(name, metadata=vstest.virtscale_tag(pool, srv.address))
        sections = {
            "actuator": {"socket": sink.path},
            f"pool {pool}": {
                "template": f"{PREFIX}agree-tmpl", "name_pattern": f"{PREFIX}agree-%02d",
                "min": 1, "max": 4, "policy": "ratio", "session_capacity": 10,
                "ratio_high": 60, "ratio_low": 10, "debounce": "2/3", "repeat_interval": 1,
                # no stabilization: a sample read as idle would say low at once
                "stabilization": 0, "lb": "none", "sessions": "http:http://%a:%p/sessions"}}
        bed = SnmpBed(tmp_path / "snmp", daemons, agent_port=19601, trap_port=19602,
                      sections=sections)
        bed.start_trapd()
        bed.start_snmpd()
        bed.start_subagent()
        # the very file the subagent reads configures the plugin too
        conf = ct.write_collectd_conf(str(cd_dir), bed.conf)
        cd = ct.start_collectd(daemons, conf)

        def snmp_pool(state):
            w = bed.walk(VS_MIB, check=False, timeout=2, retries=1)
            return w if w.get(f"{POOL_ENTRY}.11.1", (None, None))[1] == state else None

        # phase 1: 8 sessions of capacity 10 on both members: high
        w = vstest.wait_for(lambda: snmp_pool(HIGH), 40, interval=0.5,
                            what="vsPoolState high(2)")
        assert w[f"{POOL_ENTRY}.2.1"][1] == pool.encode()
        assert w[f"{POOL_ENTRY}.5.1"][1] == 2            # vsPoolInstances
        assert w[f"{POOL_ENTRY}.19.1"][1] == 16          # vsPoolSessions
        for b, name in ((1, names[0]), (2, names[1])):
            assert w[f"{BACKEND_ENTRY}.2.1.{b}"][1] == name.encode()
            assert w[f"{BACKEND_ENTRY}.7.1.{b}"][1] == 8  # vsBackendSessions
        ct.wait_csv(str(cd_dir), pool, "vs_policy_state", timeout=40,
                    pred=lambda r: r[1] == 1, what="collectd: vs_policy_state high (1)")
        ct.wait_csv(str(cd_dir), pool, "vs_instances", timeout=10,
                    pred=lambda r: r[1] == 2, what="collectd: 2 running instances")
        for name in names:
            ct.wait_csv(str(cd_dir), name, "current_sessions", timeout=10,
                        pred=lambda r: r[1] == 8, what=f"collectd: 8 sessions on {name}")
        # both turned the verdict into their notification: a trap, a message
        vstest.wait_for(lambda: traps_of(bed, POOL_HIGH_TRAP), 10, what="vsPoolHigh")
        vstest.wait_for(lambda: sink.messages(pool=pool, state="high"), 10,
                        what="collectd's high notification")

        # phase 2: the session source fails
        hits = [s.hits for s in servers]
        for s in servers:
            s.answer(fail=True)
        vstest.wait_for(lambda: snmp_pool(UNKNOWN), 15, interval=0.5,
                        what="vsPoolState unknown(5)")
        ct.wait_csv(str(cd_dir), pool, "vs_policy_state", timeout=15,
                    pred=lambda r: math.isnan(r[1]), what="collectd: vs_policy_state NaN")
        # csv writes the NaN as "nan"
        files = sorted(glob.glob(os.path.join(str(cd_dir), "csv", "vstcd", f"virtscale-{pool}",
                                              "vs_policy_state-*")))
        with open(files[-1]) as f:
            assert f.read().rstrip().splitlines()[-1].endswith(",nan")
        # samples keep coming, each one asking both pages and failing:
        # more than debounce's 3 of them, and never a low verdict
        t_end, answered = time.monotonic() + 6, 0
        while time.monotonic() < t_end:
            w = bed.walk(VS_MIB, check=False, timeout=2, retries=1)
            if w:  # (a walk a busy host let time out proves nothing)
                assert w.get(f"{POOL_ENTRY}.11.1", (None, None))[1] == UNKNOWN, w
                answered += 1
            time.sleep(0.5)
        assert answered >= 3
        assert all(s.hits >= h + 4 for s, h in zip(servers, hits)), \
            ([s.hits for s in servers], hits)
        assert math.isnan(ct.csv_last(str(cd_dir), pool, "vs_policy_state")[1])
        assert traps_of(bed, POOL_LOW_TRAP) == [], bed.traps()
        assert sink.messages(pool=pool, state="low") == [], sink.lines
        assert "pool vstpm low" not in cd.output()
        assert bed.sub.alive() and cd.alive()
        for out in (bed.sub.output(), cd.output()):
            assert "AddressSanitizer" not in out and "runtime error" not in out
    finally:
        sink.stop()
        for s in servers:
            s.stop()


def read_status(a):
    try:
        with open(os.path.join(a.state, "status.json")) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None


def test_actuator_picks_the_victim_by_the_pools_session_source(make_actuator):
    """virtscaled counts sessions from the pool's own source (here each
    member's http: status page), not from sock_diag: member 01 says 0
    sessions, member 02 says 6, so a scale-in to 1 stops 01. Counted by
    sock_diag both would have none and the youngest, 02, would be stopped."""
    servers = count_servers(19605, 19606)
    try:
        servers[1].answer(6)
        a = make_actuator("pmvic", "19620-19621", pool={
            "min": 1, "max": 2, "sessions": "http:http://%a:%p/sessions", "lb": "none",
            "drain_timeout": 1, "shutdown_timeout": 1})
        first, second = a.prefix + "01", a.prefix + "02"
        for name, srv in ((first, servers[0]), (second, servers[1])):
            vstest.define_domain(name, metadata=vstest.virtscale_tag(a.pool_name, srv.address))
        a.start()
        a.wait_running(2, 30)

        def sessions_in_status():
            st = read_status(a)
            if not st or not st["pools"]:
                return None
            got = {i["name"]: i["sessions"] for i in st["pools"][0]["instances"]}
            return got if got == {first: 0, second: 6} else None
        vstest.wait_for(sessions_in_status, 20, interval=0.5,
                        what="status.json: sessions 0 and 6")
        assert all(s.hits >= 1 for s in servers)

        r = a.ctl("scale", a.pool_name, "1")
        assert r.returncode == 0, r.stdout + r.stderr
        vstest.wait_for(lambda: first not in a.defined(), 40, interval=0.5,
                        what=f"{first} stopped and undefined")
        st = a.wait_running(1, 30)
        assert a.running() == [second] and a.defined() == [second]
        assert st["scale_ins"] == 1 and st["failures"] == 0, st
        assert [i["name"] for i in st["instances"]] == [second]
        assert f"scaling in {first} (0 sessions)" in a.proc.output()
        assert a.proc.alive()
    finally:
        for s in servers:
            s.stop()
