"""The whole loop end to end, nothing faked: real web guests (tests/guest,
TCG, CPU-capped), real load (wrk) through a real nginx / Apache, collectd
with virtscale.so forwarding its pool notifications to a real virtscaled,
and virtscale-snmp behind a real snmpd.

nginx: load rises -> the pool scales out; the new guest answers through
nginx; the SNMP pool and backend tables and the collectd values show it;
load stops -> the pool drains and scales in to min; nothing leaked (domains,
volumes, upstream file). Apache: the same up to the scale-out.

Domains vst-e2e-*, ports 19800-19999, pool names of their own (virtscaled
adopts every domain tagged with its pool's name)."""
import os

import pytest

import lb_bed
import loopbed
import snmpbed
import vstest
from loopbed import answered_by, upstream_servers, uuid_of

pytestmark = pytest.mark.usefixtures("libvirtd")

PREFIX = "vst-e2e-"
TEMPLATE = "vst-e2e-tmpl"
PAGE = "/cgi-bin/burn?300"
BOOT = 240  # seconds a clone may take to boot and pass the probe on a busy host


def pool_keys(pool, ports, min_, max_, lb):
    return {
        "template": TEMPLATE, "name_pattern": f"{PREFIX}{pool}-%02d", "min": min_, "max": max_,
        # sessions decide: more than 3 per instance is high, none is low
        # (cpu_low above the guests' cap: CPU never holds a scale-in back)
        "policy": "average", "cpu_high": 100, "cpu_low": 99, "sessions_high": 3,
        "sessions_low": 1, "debounce": "2/3", "sessions": "sockdiag", "lb": lb,
        "cooldown": 2, "stabilization": 4, "repeat_interval": 1, "address": "hostfwd",
        "hostfwd_ports": ports, "probe": "http:/", "probe_timeout": BOOT,
        "drain_timeout": 3, "shutdown_timeout": 5,
    }


@pytest.fixture
def template():
    """The web guest's template domain (shut off), half a CPU per guest so
    that clones boot fast enough on a busy test host."""
    loopbed.remove_everything(PREFIX)
    loopbed.define_template(TEMPLATE, 19899, quota=50000)
    yield TEMPLATE
    loopbed.remove_everything(PREFIX)


def volumes():
    return loopbed.volumes(PREFIX)


def scale_out_and_check_traffic(loop, url, logdir, min_):
    """min running -> load -> min + 1 running, the new guest answers through
    the load balancer. Returns (the new instance's name, the load)."""
    first = loop.wait_steady(min_, BOOT * min_)
    before = {i["name"] for i in first["instances"]}
    # the guests answer through the load balancer before any load
    seen = answered_by(url, 6)
    assert set(seen) <= {uuid_of(n) for n in before}, seen
    load = loopbed.Wrk(url + PAGE, 4 * (min_ + 2), os.path.join(logdir, "wrk.log"))
    try:
        st = vstest.wait_for(lambda: (lambda s: s if s["scale_outs"] >= 1 and
                                      len([i for i in s["instances"] if i["state"] == "running"])
                                      > min_ and s["phase"] != "scaling-out" else None)(
            loop.status()), BOOT + 60, interval=1, what="a scale-out under load")
        assert st["failures"] == 0, st
        new = sorted({i["name"] for i in st["instances"] if i["state"] == "running"} - before)
        assert new, st
        # the new guest serves requests through the load balancer (least
        # busy first: the load keeps the old ones busy)
        new_uuids = {uuid_of(n) for n in new}
        seen = vstest.wait_for(lambda: (lambda s: s if set(s) & new_uuids else None)(
            answered_by(url, 10)), 60, interval=0.5, what="the new guest answering")
        assert not [k for k in seen if k.startswith("HTTP")], seen
    except BaseException:
        load.stop()
        raise
    return new[0], load


def test_nginx_scale_out_then_in_nothing_leaked(template, tmp_path, daemons, logdir):
    nginx = lb_bed.Nginx(tmp_path, daemons, port=19810, method="least_conn")
    loop = loopbed.Loop(tmp_path / "loop", daemons, "e2en",
                        pool_keys("e2en", "19900-19949", 1, 2, "nginx"),
                        {"nginx": nginx.nginx_keys}, 19801)
    loop.start()
    new, load = scale_out_and_check_traffic(loop, nginx.url, logdir, 1)
    try:
        st = loop.status()
        running = [i for i in st["instances"] if i["state"] == "running"]
        n = len(running)
        # nginx's upstream names exactly the running instances' addresses
        up = nginx.upstream_text()
        assert upstream_servers(up) == sorted(i["address"] for i in running), up
        # SNMP: the pool row counts them, the backend table names the new one
        def snmp_shows():
            pool_rows = loop.snmp.walk(snmpbed.VS_MIB + ".1.2.1.5")
            backends = loop.snmp.walk(snmpbed.VS_MIB + ".1.3.1.2")
            names = {v[1].decode() for v in backends.values()}
            counts = [v[1] for v in pool_rows.values()]
            return new in names and n in counts and (counts, names)
        vstest.wait_for(snmp_shows, 20, interval=1, what="the SNMP tables to show the new guest")
        # collectd: the pool's instance count and the new guest's own values
        vstest.wait_for(lambda: (loop.csv("e2en", "vs_instances") or [0, 0])[1] == n, 20,
                        interval=1, what="collectd's vs_instances")
        vstest.wait_for(lambda: loop.csv(new, "current_sessions") is not None, 20, interval=1,
                        what=f"collectd's current_sessions of {new}")
        assert (loop.csv("e2en", "vs_pool_sessions") or [0, 0])[1] > 3
    finally:
        result = load.stop()
    # every request of the load was answered
    assert result and result["requests"] > 0 and result["status_errors"] == 0, result
    # load gone: drained and scaled in to min, one instance left behind nginx
    st = loop.wait_steady(1, 120)
    assert st["scale_ins"] >= 1 and st["failures"] == 0, st
    left = [i for i in st["instances"] if i["state"] == "running"]
    assert len(left) == 1
    vstest.wait_for(lambda: upstream_servers(nginx.upstream_text()) == [left[0]["address"]], 10,
                    what="the upstream file to list the one left")
    assert answered_by(nginx.url, 4) == {uuid_of(left[0]["name"]): 4}
    # nothing leaked: the template and the one instance, their two volumes
    assert sorted(vstest.list_domains(PREFIX)) == sorted([TEMPLATE, left[0]["name"]])
    assert volumes() == sorted([f"{TEMPLATE}.qcow2", f"{left[0]['name']}.qcow2"])
    # the pool row follows it down
    vstest.wait_for(lambda: 1 in [v[1] for v in loop.snmp.walk(snmpbed.VS_MIB + ".1.2.1.5")
                                  .values()], 20, interval=1, what="vsPoolInstances = 1")
    # stop everything and remove what is left: no domain, no volume of ours
    loop.stop_actuator()
    loopbed.remove_everything(PREFIX)
    assert vstest.list_domains(PREFIX) == [] and volumes() == []


def test_apache_scale_out(template, tmp_path, daemons, logdir):
    apache = lb_bed.Apache(tmp_path, daemons, port=19811, other_port=19812, growth=6)
    loop = loopbed.Loop(tmp_path / "loop", daemons, "e2ea",
                        pool_keys("e2ea", "19950-19999", 1, 2, "apache"),
                        {"apache": dict(apache.apache_keys, timeout=5)}, 19803)
    loop.start()
    new, load = scale_out_and_check_traffic(loop, apache.url, logdir, 1)
    result = load.stop()
    assert result and result["requests"] > 0 and result["status_errors"] == 0, result
    # the balancer-manager has the new guest's worker enabled
    st = loop.status()
    addr = [i["address"] for i in st["instances"] if i["name"] == new][0]
    members = lb_bed.list_members(apache.config)
    assert members[addr][0] == "enabled", members
    loop.stop_actuator()
    loopbed.remove_everything(PREFIX)
    assert vstest.list_domains(PREFIX) == [] and volumes() == []
