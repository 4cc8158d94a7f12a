"""The collectd plugin in a real collectd (Debian's 5.12) against real
libvirtd/QEMU domains: values match virsh domstats, pool notifications
reach a listening actuator socket with the right fields (and M-of-N holds
back a short spike), a vanished actuator does not stall collectd, and a
configuration error keeps the plugin from loading.
"""
import os
import time

import pytest

import collectdtest as ct
import vstest

PORTS = (19210, 19211, 19212)


@pytest.fixture
def tmp(tmp_path):
    # collectd's BaseDir and the actuator socket: short paths for sun_path
    d = tmp_path / "cd"
    d.mkdir()
    return str(d)


@pytest.fixture
def plugin_domains(libvirtd):
    vstest.remove_domains(ct.PREFIX)
    yield
    vstest.remove_domains(ct.PREFIX)


def test_values_match_domstats(tmp, plugin_domains, daemons):
    vstest.define_domain("vst-cd-val-a", vcpus=2)
    vstest.define_domain("vst-cd-val-b", tap="vstcdtap0")
    vs_conf = ct.write_vs_config(os.path.join(tmp, "vs.conf"), os.path.join(tmp, "act.sock"),
                                 tmp)
    conf = ct.write_collectd_conf(tmp, vs_conf, plugin_block="  SlowInterval 1\n"
                                  "  ForwardNotifications false\n  ForwardThresholds false")
    cd = ct.start_collectd(daemons, conf)

    for dom in ("vst-cd-val-a", "vst-cd-val-b"):
        ct.wait_csv(tmp, dom, "virt_cpu_total", timeout=40)
        ct.wait_csv(tmp, dom, "disk_ops-vda")
        ct.wait_csv(tmp, dom, "memory-total")
    ct.wait_csv(tmp, "vst-cd-val-b", "if_octets-vstcdtap0")
    # booted domains settle (on a busy machine SeaBIOS can take a while):
    # wait until their CPU time stops moving, then for fresh samples
    for dom in ("vst-cd-val-a", "vst-cd-val-b"):
        def settled():
            a = int(vstest.domstats(dom, "cpu-total")["cpu.time"])
            time.sleep(1)
            return int(vstest.domstats(dom, "cpu-total")["cpu.time"]) - a < 2e7
        vstest.wait_for(settled, timeout=90, interval=0, what=f"{dom} to settle")
    time.sleep(3)
    assert cd.alive(), cd.output()

    for dom, vcpus in (("vst-cd-val-a", 2), ("vst-cd-val-b", 1)):
        st = vstest.domstats(dom)
        cpu = ct.csv_last(tmp, dom, "virt_cpu_total")[1]
        # cumulative ns; the guest halts, so a second of sampling skew is plenty
        assert abs(cpu - int(st["cpu.time"])) < 1e9, (cpu, st["cpu.time"])
        for i in range(vcpus):
            v = ct.csv_last(tmp, dom, f"virt_vcpu-{i}")[1]
            assert abs(v - int(st[f"vcpu.{i}.time"])) < 1e9, (i, v, st[f"vcpu.{i}.time"])
        assert ct.csv_last(tmp, dom, f"virt_vcpu-{vcpus}") is None
        mem = ct.csv_last(tmp, dom, "memory-total")[1]
        assert mem == int(st["balloon.current"]) * 1024
        ops = ct.csv_last(tmp, dom, "disk_ops-vda")
        assert ops[1] == int(st["block.0.rd.reqs"]) and ops[2] == int(st["block.0.wr.reqs"])
        octets = ct.csv_last(tmp, dom, "disk_octets-vda")
        assert octets[1] == int(st["block.0.rd.bytes"])
        state = ct.csv_last(tmp, dom, "domain_state")
        assert state[1] == int(st["state.state"]) == 1
        pct = ct.csv_last(tmp, dom, "percent-virt_cpu_total")
        assert 0 <= pct[1] <= 100
    st = vstest.domstats("vst-cd-val-b")
    idx = [k.split(".")[1] for k, v in st.items() if k.endswith(".name") and v == "vstcdtap0"][0]
    rx = ct.csv_last(tmp, "vst-cd-val-b", "if_packets-vstcdtap0")
    assert abs(rx[1] - int(st[f"net.{idx}.rx.pkts"])) <= 2
    assert abs(rx[2] - int(st[f"net.{idx}.tx.pkts"])) <= 2
    assert "AddressSanitizer" not in cd.output() and "runtime error" not in cd.output()


def test_started_domain_value_follows_the_event(tmp, plugin_domains, daemons):
    """With a 10 s read interval, a domain started right after a read has
    its state, first CPU value, memory and disk values in collectd within
    seconds: the lifecycle event triggers a refresh whose values are
    dispatched at once, and the next read does not send them again
    (collectd would log "value too old")."""
    dom = vstest.define_domain("vst-cd-evt-a", start=False)
    marker = vstest.define_domain("vst-cd-evt-b")  # running: a row at every read
    vs_conf = ct.write_vs_config(os.path.join(tmp, "vs.conf"), os.path.join(tmp, "act.sock"),
                                 tmp, refresh=10, slow=10)
    conf = ct.write_collectd_conf(tmp, vs_conf, interval=10, plugin_block=(
        "  ForwardNotifications false\n  ForwardThresholds false"))
    cd = ct.start_collectd(daemons, conf)
    first = ct.wait_csv(tmp, dom, "domain_state", timeout=40, what="the shut-off state")
    assert first[1] == 5, first  # VIR_DOMAIN_SHUTOFF
    # a read writes the running domain's next row: start right after it, so
    # the read after that is about 10 s away
    seen_b = ct.wait_csv(tmp, marker, "virt_cpu_total", timeout=40)
    ct.wait_csv(tmp, marker, "virt_cpu_total", timeout=25, pred=lambda r: r[0] > seen_b[0],
                what="a read")
    t0 = time.time()
    vstest.virsh("start", dom)
    cpu = ct.wait_csv(tmp, dom, "virt_cpu_total", timeout=20, what="the first CPU value")
    seen = time.time() - t0
    assert seen < 5, f"first value {seen:.1f} s after virsh start, as late as a read"
    assert ct.csv_last(tmp, dom, "domain_state")[1] == 1  # running, sent with it
    # the same refresh asked its memory and disk (the monitor-bound groups,
    # of this domain alone): they go with it, not at the next read
    for type_name in ("memory-total", "disk_ops-vda"):
        row = ct.wait_csv(tmp, dom, type_name, timeout=5, what=type_name)
        assert time.time() - t0 < 5, f"{type_name} {time.time() - t0:.1f} s after virsh start"
        assert row[0] <= cpu[0] + 1, (type_name, row, cpu)
    # the read after the start sends only newer samples
    ct.wait_csv(tmp, dom, "virt_cpu_total", timeout=25, pred=lambda r: r[0] > cpu[0],
                what="the next read's CPU value")
    rows = ct.csv_rows(tmp, dom, "virt_cpu_total")
    assert [r[0] for r in rows] == sorted(set(r[0] for r in rows)), rows
    out = cd.output()
    assert "too old" not in out, out[-3000:]
    assert "AddressSanitizer" not in out and "runtime error" not in out


# collectd's own threshold plugin on a virtscale value: its notifications
# are forwarded to the actuator as "threshold" messages.
THRESHOLDS = """
LoadPlugin threshold
<Plugin threshold>
  <Plugin "virtscale">
    <Type "vs_ratio">
      WarningMax 0.5
    </Type>
  </Plugin>
</Plugin>
"""


def _pool_setup(tmp, extra_plugin=""):
    """Pool vstcdweb: two tagged members with real HTTP backends; pool
    vstcdmax: one member, max 1 (to reach at_max)."""
    backends = [vstest.HttpBackend("127.0.0.1", p) for p in PORTS]
    try:
        ct.define_pool_domains([("vst-cd-web-01", PORTS[0]), ("vst-cd-web-02", PORTS[1])],
                               "vstcdweb")
        ct.define_pool_domains([("vst-cd-max-01", PORTS[2])], "vstcdmax")
    except BaseException:
        for b in backends:
            b.stop()
        raise
    pools = {**ct.pool_section("vstcdweb", "vst-cd-web-%02d", min_=2, max_=4),
             **ct.pool_section("vstcdmax", "vst-cd-max-%02d", min_=1, max_=1)}
    sock = os.path.join(tmp, "act.sock")
    vs_conf = ct.write_vs_config(os.path.join(tmp, "vs.conf"), sock, tmp, pools=pools)
    conf = ct.write_collectd_conf(tmp, vs_conf, extra=THRESHOLDS,
                                  plugin_block="  RepeatInterval 2\n" + extra_plugin)
    return backends, sock, conf


def test_pool_notifications(tmp, plugin_domains, daemons):
    backends, sock, conf = _pool_setup(tmp)
    act = ct.NotificationSink(sock)
    try:
        cd = ct.start_collectd(daemons, conf)
        # both members running and counted: instances 2, no sessions yet
        ct.wait_csv(tmp, "vstcdweb", "vs_instances", timeout=40, pred=lambda r: r[1] == 2)
        ct.wait_csv(tmp, "vst-cd-web-01", "current_sessions", pred=lambda r: r[1] == 0)
        ct.wait_csv(tmp, "vstcdweb", "vs_warm", pred=lambda r: r[1] == 0)  # no warm instance
        time.sleep(2)
        assert act.messages(pool="vstcdweb") == [], act.lines

        # a short spike stays below 3 of the last 4 samples: hold the
        # connections until a sample has seen them, then let go at once
        backends[0].hold(7)
        backends[1].hold(7)
        ct.wait_csv(tmp, "vst-cd-web-02", "current_sessions", timeout=10,
                    pred=lambda r: r[1] == 7, what="the spike sampled")
        backends[0].release()
        backends[1].release()
        ct.wait_csv(tmp, "vst-cd-web-02", "current_sessions", timeout=10,
                    pred=lambda r: r[1] == 0, what="the spike over")
        time.sleep(4)
        assert act.messages(pool="vstcdweb", state="high") == [], act.lines

        # a lasting breach: 7 of capacity 10 on every instance >= 60%
        backends[0].hold(7)
        backends[1].hold(7)
        t0 = time.time()
        high = vstest.wait_for(lambda: act.messages(pool="vstcdweb", state="high"), timeout=15,
                               what="high notification")[0]
        assert high["v"] == 1 and high["type"] == "pool"
        assert high["severity"] == "warning"
        assert high["metric"] == "ratio"
        assert high["value"] == pytest.approx(70.0)
        assert high["threshold_high"] == pytest.approx(60.0)
        assert high["threshold_low"] == pytest.approx(10.0)
        assert high["instances"] == 2 and high["desired"] == 3
        assert high["source"] == "collectd" and high["host"] == "vstcd"
        assert abs(high["time"] - t0) < 10
        # repeated while the breach lasts (RepeatInterval 2)
        vstest.wait_for(lambda: len(act.messages(pool="vstcdweb", state="high")) >= 2,
                        timeout=8, what="repeated high notification")
        ct.wait_csv(tmp, "vstcdweb", "vs_instances", timeout=10,
                    pred=lambda r: r[1] == 2 and r[2] == 3, what="running 2, desired 3")
        ct.wait_csv(tmp, "vstcdweb", "vs_policy_state", timeout=10, pred=lambda r: r[1] == 1,
                    what="policy state high")
        assert ct.csv_last(tmp, "vst-cd-web-02", "vs_ratio")[1] == pytest.approx(0.7)
        # the threshold plugin's notification about our value, forwarded too
        # (the spike above already made one warning and its okay: take the newest)
        th = vstest.wait_for(lambda: act.messages(type="threshold", severity="warning",
                                                  plugin_instance="vst-cd-web-02"),
                             timeout=10, what="threshold notification")[-1]
        assert th["plugin"] == "virtscale" and th["type_name"] == "vs_ratio"
        assert th["severity"] == "warning" and th["metric"] == "vs_ratio"
        # the value when the threshold was crossed: the held connections may
        # not all be counted yet in that sample (6 or 7 of 10)
        assert 0.5 < th["value"] <= 0.7 + 1e-9 and th["threshold_high"] == pytest.approx(0.5)

        # at max: FAILURE
        backends[2].hold(8)
        at_max = vstest.wait_for(lambda: act.messages(pool="vstcdmax", state="at_max"),
                                 timeout=15, what="at_max notification")[0]
        assert at_max["severity"] == "failure" and at_max["desired"] == 1
        assert at_max["instances"] == 1

        # back to normal: OKAY
        backends[0].release()
        backends[1].release()
        ok = vstest.wait_for(lambda: act.messages(pool="vstcdweb", state="ok"), timeout=15,
                             what="okay notification")[0]
        assert ok["severity"] == "okay" and ok["instances"] == 2 and ok["desired"] == 2
        n_ok = len(act.messages(pool="vstcdweb"))
        time.sleep(4)
        # nothing repeats once normal
        assert len(act.messages(pool="vstcdweb")) == n_ok
        assert cd.alive()
        # collectd's own chain saw them too (logfile prints notifications)
        assert "pool vstcdweb high" in cd.output()
    finally:
        act.stop()
        for b in backends:
            b.stop()


def test_dropped_actuator_does_not_stall(tmp, plugin_domains, daemons):
    backends, sock, conf = _pool_setup(tmp, extra_plugin="  QueueLength 3\n  RepeatInterval 1\n")
    act = ct.NotificationSink(sock)
    try:
        cd = ct.start_collectd(daemons, conf)
        ct.wait_csv(tmp, "vstcdweb", "vs_instances", timeout=40, pred=lambda r: r[1] == 2)
        backends[0].hold(7)
        backends[1].hold(7)
        vstest.wait_for(lambda: act.messages(pool="vstcdweb", state="high"), timeout=15,
                        what="high notification")
        act.stop()  # the actuator goes away while the breach lasts
        t_stop = time.time()
        # collectd keeps reading and writing: a row of our values and one of
        # the stock load plugin's from more than 5 s after the actuator
        # went, both there within 8 s of it
        ct.wait_csv(tmp, "vst-cd-web-01", "virt_cpu_total", timeout=t_stop + 8 - time.time(),
                    pred=lambda r: r[0] > t_stop + 5, what="our values written on")
        vstest.wait_for(lambda: (lambda r: r and r[0] > t_stop + 5)(
            ct.csv_last(tmp, None, "load", plugin="load")), t_stop + 8 - time.time(),
            interval=0.25, what="the load plugin's values written on")
        # lines queued while away, the oldest dropped beyond QueueLength 3
        ct.wait_csv(tmp, "actuator", "vs_forwarder", timeout=15, pred=lambda r: r[2] >= 1,
                    what="a dropped notification counted")
        assert ct.csv_last(tmp, "actuator", "vs_queue_length")[1] <= 3
        # the actuator comes back: reconnect with backoff, the breach is re-sent
        act = ct.NotificationSink(sock)
        vstest.wait_for(lambda: act.messages(pool="vstcdweb", state="high"), timeout=20,
                        what="high notification after reconnect")
        assert "actuator" in cd.output() and "connected" in cd.output()
        assert cd.alive()
    finally:
        act.stop()
        for b in backends:
            b.stop()


def _run_collectd_once(tmp, conf, timeout=20):
    return vstest.run([ct.COLLECTD, "-f", "-C", conf], check=False, timeout=timeout,
                      env={**os.environ, **ct.collectd_env()})


def test_config_errors_refuse_to_load(tmp):
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("[libvirt]\nuri = qemu:///system\nrefresh_intervall = 1\n")
    conf = ct.write_collectd_conf(tmp, bad)
    r = _run_collectd_once(tmp, conf)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert f"{bad}:3" in out, out
    assert "virtscale: configuration error" in out and "not loaded" in out

    # a bad key in the <Plugin virtscale> block
    good = ct.write_vs_config(os.path.join(tmp, "vs.conf"), os.path.join(tmp, "a.sock"), tmp)
    conf = ct.write_collectd_conf(tmp, good, plugin_block="  RepeatIntervall 3")
    r = _run_collectd_once(tmp, conf)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "unknown option `RepeatIntervall'" in out, out

    # a bad value
    conf = ct.write_collectd_conf(tmp, good, plugin_block="  Interval -1")
    r = _run_collectd_once(tmp, conf)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "Interval" in out and "out of range" in out, out

    # a missing file
    conf = ct.write_collectd_conf(tmp, os.path.join(tmp, "nope.conf"))
    r = _run_collectd_once(tmp, conf)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "nope.conf" in out, out
