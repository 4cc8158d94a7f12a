"""virtscaled with a real load balancer in front of its pool: the operator's
static Apache members are never touched by a sync, across restarts of
virtscaled; the preconditions of a scale-out are checked before anything is
cloned (a foreign nginx upstream file blocks the pool with one alert and no
clone until it is fixed); a hanging `nginx -t` is killed after [nginx]
timeout while the daemon keeps answering."""
import os
import signal
import time

import pytest

import lb_bed
import vstest
from lb_bed import Apache, Nginx, lb_tool

pytestmark = pytest.mark.usefixtures("libvirtd")

SYNC_S = 10  # the actuator's sync interval


def balancer(a):
    """{address: line} of the pool's balancer, as vs-lb-tool lists it."""
    out = lb_tool(a.conf, "list", pool=a.pool_name, check=True).stdout
    return {line.split()[0]: line for line in out.splitlines()}


@pytest.mark.skipif(not os.path.exists("/usr/sbin/apache2"), reason="no apache2")
def test_apache_static_member_stays_enabled(make_actuator, daemons, tmp_path):
    static = vstest.HttpBackend("127.0.0.6", name="static")
    try:
        ap = Apache(tmp_path, daemons, growth=3, static_members=[static.address])
        a = make_actuator("aps", "19540-19544", template=True, namespace="lb",
                          pool={"lb": "apache", "min": 1}, sections={"apache": ap.apache_keys})
        a.start()
        st = a.wait_running(1, 60)
        clone = st["instances"][0]["address"]
        vstest.wait_for(lambda: " enabled " in balancer(a).get(clone, ""), 2 * SYNC_S,
                        what="the clone enabled in the balancer")
        # a stray of ours (a marked worker no member has) is disabled by a sync...
        stray = "127.0.0.9:19545"
        lb_tool(a.conf, "add", stray, pool=a.pool_name, check=True)
        vstest.wait_for(lambda: " disabled " in balancer(a)[stray], 2 * SYNC_S + 5,
                        what="our stray disabled by a sync")
        time.sleep(SYNC_S + 1)  # ...and one more sync
        lines = balancer(a)
        # ...the operator's static member is not
        assert " enabled " in lines[static.address], lines
        assert lines[static.address].endswith(" ours=no"), lines
        assert " enabled " in lines[clone] and lines[clone].endswith(" ours=yes"), lines
        assert lb_bed.spread(ap.url, 6).get("static", 0) >= 2  # it serves

        # the same after a restart of virtscaled (nothing remembered but httpd's state)
        a.kill9()
        a.start()
        time.sleep(2 * SYNC_S + 1)
        lines = balancer(a)
        assert " enabled " in lines[static.address], lines
        assert " enabled " in lines[clone], lines
        assert " disabled " in lines[stray], lines
        assert static.address not in a.proc.output()  # not even looked at
    finally:
        static.stop()
