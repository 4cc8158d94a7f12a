"""The collectd plugin's usage accounting with a real collectd and real
domains: the pool's and the domains' usage counters arrive as DERIVE values
(vs_pool_usage, vs_domain_usage, csv plugin), the instance-seconds grow with
the running members, and a restart of collectd goes on from the counters it
saved in state_dir/usage-collectd.state (never back to zero).

Domains are named vst-cd-acct-*.
"""
import os

import pytest

import collectdtest as ct
import vstest

POOL = "vstcdacct"
DOMAINS = ("vst-cd-acct-01", "vst-cd-acct-02")
PORTS = (19224, 19225)


@pytest.fixture
def members(libvirtd):
    vstest.remove_domains("vst-cd-acct-")
    try:
        ct.define_pool_domains(list(zip(DOMAINS, PORTS)), POOL)
        yield
    finally:
        vstest.remove_domains("vst-cd-acct-")


def instance_seconds(tmp):
    row = ct.csv_last(tmp, POOL, "vs_pool_usage-instance_seconds")
    return None if row is None else row[1]


def test_usage_values_survive_a_collectd_restart(tmp_path, members, daemons):
    tmp = str(tmp_path)
    vs_conf = ct.write_vs_config(os.path.join(tmp, "vs.conf"), os.path.join(tmp, "act.sock"),
                                 tmp, pools=ct.pool_section(POOL, "vst-cd-acct-%02d"))
    conf = ct.write_collectd_conf(tmp, vs_conf)
    cd = ct.start_collectd(daemons, conf)
    # two members running: the pool's instance-seconds grow about twice as
    # fast as the clock, and each member has its own counter
    first = vstest.wait_for(lambda: (lambda v: v if v and v >= 2 else None)(
        instance_seconds(tmp)), 30, what="the pool's instance-seconds")
    t0 = ct.now()
    later = vstest.wait_for(lambda: (lambda v: v if v and v >= first + 6 else None)(
        instance_seconds(tmp)), 30, what="instance-seconds growing")
    elapsed = ct.now() - t0
    assert later - first <= 2 * elapsed + 2, (first, later, elapsed)
    for d in DOMAINS:
        assert ct.csv_last(tmp, d, "vs_domain_usage-instance_seconds")[1] >= 1
    fixed = ct.csv_last(tmp, POOL, "vs_pool_usage-max_instance_seconds")[1]
    assert fixed >= 1.5 * later  # max = 4 against 2 running

    cd.stop()
    state = os.path.join(tmp, "usage-collectd.state")
    assert os.path.exists(state)
    before = instance_seconds(tmp)
    cd = ct.start_collectd(daemons, conf, name="collectd-2")
    vstest.wait_for(lambda: (lambda v: v if v and v >= before + 2 else None)(
        instance_seconds(tmp)), 30, what="instance-seconds after the restart")
    values = [r[1] for r in ct.csv_rows(tmp, POOL, "vs_pool_usage-instance_seconds")]
    assert values == sorted(values), values  # never back to zero
    assert cd.alive()
