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

SYNC_S = 2  # the pools' sync_interval


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
                          pool={"lb": "apache", "min": 1, "sync_interval": SYNC_S},
                          sections={"apache": ap.apache_keys})
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
        # it serves (the clone's halt disk answers nothing: what httpd sends
        # there waits for the client's timeout, 2 s, the static member's
        # answers come at once)
        assert lb_bed.spread(ap.url, 6, timeout=2).get("static", 0) >= 2

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


FOREIGN_PLACEHOLDER = "upstream web {\n\tserver 127.0.0.1:1 down;\n}\n"  # no virtscale header


@pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="no nginx")
def test_foreign_upstream_file_blocks_without_cloning(make_actuator, daemons, tmp_path):
    """An upstream file virtscale did not write: the pool is blocked before
    anything is cloned, with one alert and the condition in status and log;
    once the file is fixed the pool scales by itself."""
    ng = Nginx(tmp_path, daemons)
    with open(ng.upstream_file, "w") as f:
        f.write(FOREIGN_PLACEHOLDER)
    a = make_actuator("ngb", "19546-19549", template=True, namespace="lb",
                      pool={"lb": "nginx", "min": 1, "sync_interval": SYNC_S},
                      sections={"nginx": ng.nginx_keys})
    a.start()
    st = vstest.wait_for(lambda: "blocked" in a.pool_status()["last_error"] and a.pool_status(),
                         15, what="the pool reported blocked")
    assert ng.upstream_file in st["last_error"] and "refusing" in st["last_error"], st
    # the scale-out to min is retried (and refused again) for a while, a
    # blocked pool at least every sync_interval: never a clone
    end = time.monotonic() + 5 * SYNC_S
    while time.monotonic() < end:
        assert a.defined() == [] and a.volumes() == [], "a clone was made"
        time.sleep(0.5)
    st = a.pool_status()
    assert st["actual"] == 0 and st["failures"] >= 2, st
    assert st["alerts"] == 1 and st["last_alert"] == "action-failed", st
    assert "blocked" in st["last_error"]
    out = a.proc.output()
    assert out.count("nothing is cloned until this is fixed") == 1, out
    assert ng.upstream_text() == FOREIGN_PLACEHOLDER  # not overwritten

    # fixed: the next check passes and the pool scales out to min
    with open(ng.upstream_file, "w") as f:
        f.write(lb_bed.NGINX_PLACEHOLDER)
    st = a.wait_running(1, 60)
    clone = st["instances"][0]["address"]
    assert f"server {clone}; # enabled" in ng.upstream_text()
    assert st["last_error"] == "" and st["alerts"] == 2 and st["last_alert"] == "recovered", st


HANGING_NGINX = """#!/bin/sh
case " $* " in *" -t "*)
    echo $$ > {d}/hang.pid
    exec sleep 300
    ;;
esac
exec /usr/sbin/nginx "$@"
"""


@pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="no nginx")
def test_hanging_nginx_test_times_out_daemon_answers(make_actuator, daemons, tmp_path):
    """`nginx -t` hangs: the check fails with a timeout error within [nginx]
    timeout, the daemon answers status meanwhile, nothing is cloned, and a
    SIGTERM during a hanging check stops the daemon at once."""
    d = str(tmp_path)
    fake = os.path.join(d, "nginx-hangs")
    with open(fake, "w") as f:
        f.write(HANGING_NGINX.format(d=d))
    os.chmod(fake, 0o755)
    hang_pid = os.path.join(d, "hang.pid")
    ng = Nginx(tmp_path, daemons, nginx_keys={"binary": fake, "timeout": 3})
    a = make_actuator("ngh", "19550-19553", template=True, namespace="lb",
                      pool={"lb": "nginx", "min": 1}, sections={"nginx": ng.nginx_keys})
    a.start()
    vstest.wait_for(lambda: vstest.pid_from_file(hang_pid), 10, what="nginx -t hanging")
    start = time.monotonic()
    while time.monotonic() - start < 2:  # the check hangs; the loop does not
        t = time.monotonic()
        assert a.pool_status()["actual"] == 0
        assert time.monotonic() - t < 0.5
        time.sleep(0.2)
    st = vstest.wait_for(lambda: "timed out" in a.pool_status()["last_error"] and
                         a.pool_status(), 5, what="the timeout reported")
    assert "nginx -t" in st["last_error"] or "nginx-hangs" in st["last_error"], st
    assert "timed out after 3 s" in st["last_error"] and "blocked" in st["last_error"], st
    assert a.defined() == []
    # a later check hangs again: SIGTERM ends it and the daemon at once
    os.unlink(hang_pid)
    vstest.wait_for(lambda: vstest.pid_from_file(hang_pid), 30, what="nginx -t hanging again")
    hung = vstest.pid_from_file(hang_pid)
    t = time.monotonic()
    a.proc.signal(signal.SIGTERM)
    a.proc.proc.wait(10)
    assert time.monotonic() - t < 2.5, time.monotonic() - t
    assert vstest.process_gone(hung)
    assert a.defined() == []
    # blocked once; the check the stop cut short is no new condition
    assert a.proc.output().count("nothing is cloned until this is fixed") == 1, a.proc.output()


@pytest.mark.skipif(not os.path.exists("/usr/sbin/apache2"), reason="no apache2")
def test_apache_growth_slots_checked_before_cloning(make_actuator, daemons, tmp_path):
    """No growth slot left for the next member's address: the scale-out is
    blocked before anything is cloned (not cloned, booted, probed and rolled
    back over and over)."""
    ap = Apache(tmp_path, daemons, growth=1)
    a = make_actuator("apg", "19556-19559", template=True, namespace="lb",
                      pool={"lb": "apache", "min": 2, "sync_interval": SYNC_S},
                      sections={"apache": ap.apache_keys})
    a.start()
    st = vstest.wait_for(lambda: "blocked" in a.pool_status()["last_error"] and a.pool_status(),
                         60, what="the second scale-out blocked")
    assert "no free worker slot" in st["last_error"] and "1 of 1 used" in st["last_error"], st
    # retried at least every sync_interval, blocked each time
    end = time.monotonic() + 5 * SYNC_S
    while time.monotonic() < end:
        assert len(a.defined()) == 1, a.defined()
        time.sleep(0.5)
    st = a.pool_status()
    assert st["actual"] == 1 and st["alerts"] == 1 and st["scale_outs"] == 1, st
    assert st["failures"] >= 2, st  # tried again, and blocked again
