"""weights = ratio against real balancers: after each sync of virtscaled
(every 10 s) every running member's weight follows its load - 10 when idle,
one less per tenth of session_capacity in use, at least 1 - and the real
nginx / Apache httpd then sends the busier member less new traffic.
Sessions are counted by sock_diag from real TCP connections the test holds
open to one backend; the members are real (halted) QEMU domains tagged with
the backends' addresses.
"""
import os
import re
import urllib.request
import xml.etree.ElementTree as ET

import pytest

import lb_bed
import vstest

pytestmark = pytest.mark.usefixtures("libvirtd")

BACKEND_PORT = 19613
NGINX_PORT = 19610
APACHE_PORT, APACHE_OTHER_PORT = 19611, 19612
POOL = {"min": 2, "max": 2, "session_capacity": 10, "sessions": "sockdiag",
        "weights": "ratio", "drain_timeout": 1, "shutdown_timeout": 1,
        "sync_interval": 2}


@pytest.fixture
def backends():
    """HTTP backends A on 127.0.0.2 and B on 127.0.0.3."""
    a = vstest.HttpBackend("127.0.0.2", BACKEND_PORT, name="A")
    try:
        b = vstest.HttpBackend("127.0.0.3", BACKEND_PORT, name="B")
    except BaseException:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def nginx_weights(ng):
    """{address: weight} of the upstream file nginx loads (no weight= is 1)."""
    weights = {}
    for m in re.finditer(r"^\tserver (\S+?)((?: \S+)*?); # (\S+)$", ng.upstream_text(), re.M):
        w = re.search(r" weight=(\d+)", m.group(2))
        if m.group(3) == "enabled":
            weights[m.group(1)] = int(w.group(1)) if w else 1
    return weights


def apache_weights(ap):
    """{address: load factor} of the enabled workers, as httpd's own
    balancer-manager reports them (its XML view)."""
    url = f"{ap.manager}?b=web&xml=1"
    req = urllib.request.Request(url, headers={"Referer": ap.manager})
    with urllib.request.urlopen(req, timeout=5) as r:
        root = ET.fromstring(r.read())
    weights = {}
    for w in root.iter():
        if not w.tag.endswith("}worker"):
            continue
        f = {c.tag.split("}")[1]: (c.text or "") for c in w}
        name, status = f.get("name", ""), f.get("status", "")
        if name.startswith("http://") and "Init Ok" in status and "Dis" not in status:
            weights[name[len("http://"):].rstrip("/")] = float(f["loadfactor"])
    return weights


def weights_follow_load(make_actuator, tag, ports, lb, sections, weights, serving, url,
                        backends):
    """The course both balancers go through. @weights() reads the weights
    from the real balancer, @serving() says whether it serves with the
    newest of them (nginx: once the reloaded generation alone runs), @url
    is where it serves."""
    a_be, b_be = backends
    act = make_actuator(tag, ports, pool={**POOL, "lb": lb}, sections=sections)
    first, second = act.prefix + "01", act.prefix + "02"
    for name, be in ((first, a_be), (second, b_be)):
        vstest.define_domain(name, metadata=vstest.virtscale_tag(act.pool_name, be.address))
    act.start()
    act.wait_running(2, 30)

    def applied(wa, wb, *lines):
        """The balancer has A at @wa, B at @wb and serves with them; the
        actuator logged each of @lines (name, weight, sessions, times)."""
        def ok():
            out = act.proc.output()
            for name, w, n, times in lines:
                if out.count(f"pool {act.pool_name}: {name} weight {w} ({n} sessions)") < times:
                    return None
            got = weights()
            if got != {a_be.address: wa, b_be.address: wb} or not serving():
                return None
            return got
        return ok

    # the first sync puts both idle members in with weight 10, and
    # requests are shared evenly
    vstest.wait_for(applied(10, 10, (first, 10, 0, 1), (second, 10, 0, 1)), 20, interval=0.5,
                    what="weights 10 and 10 of two idle members")
    a_be.reset(), b_be.reset()
    split = lb_bed.spread(url, 20)
    # (httpd's byrequests keeps its counts per child: even give or take a few)
    assert set(split) == {"A", "B"} and sum(split.values()) == 20, split
    assert min(split.values()) >= 7, split

    # 8 sessions of capacity 10 on A: weight 2; B, idle, keeps 10
    a_be.hold(8)
    vstest.wait_for(applied(2, 10, (first, 2, 8, 1)), 25, interval=0.5,
                    what="weights 2 (A, 8 of 10 sessions) and 10 (B, idle)")
    a_be.reset(), b_be.reset()
    split = lb_bed.spread(url, 60)
    # weights 2:10 make it 10:50; equal ones would make it 30:30
    assert set(split) <= {"A", "B"} and sum(split.values()) == 60, split
    assert split.get("B", 0) >= 40 and split.get("B", 0) >= 3 * split.get("A", 0), split
    assert a_be.hits == split.get("A", 0)

    # A idle again: back to 10 and 10
    a_be.release()
    vstest.wait_for(applied(10, 10, (first, 10, 0, 2)), 25, interval=0.5,
                    what="weights back to 10 and 10")
    st = act.pool_status()
    assert st["failures"] == 0 and st["scale_ins"] == 0 and st["scale_outs"] == 0, st
    assert act.proc.alive()


@pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="no nginx")
def test_weights_follow_load_with_nginx(tmp_path, daemons, make_actuator, backends):
    """nginx: the upstream file's weight= of each member follows its
    sessions, and the reloaded nginx splits requests by it."""
    ng = lb_bed.Nginx(tmp_path, daemons, port=NGINX_PORT)
    # worker_processes 1: one worker left means the reloaded one alone serves
    weights_follow_load(make_actuator, "pmwn", "19622-19623", "nginx",
                        {"nginx": dict(ng.nginx_keys)}, lambda: nginx_weights(ng),
                        lambda: len(ng.workers()) == 1, ng.url, backends)


@pytest.mark.skipif(not os.path.exists("/usr/sbin/apache2"), reason="no apache2")
def test_weights_follow_load_with_apache(tmp_path, daemons, make_actuator, backends):
    """Apache httpd: each worker's load factor in the balancer-manager
    follows its member's sessions, and byrequests splits requests by it."""
    # httpd keeps its connections to a backend open for reuse, and sock_diag
    # would count those idle connections as sessions: close them after
    # each request, so that the held connections are the only sessions
    ap = lb_bed.Apache(tmp_path, daemons, port=APACHE_PORT, other_port=APACHE_OTHER_PORT,
                       extra_conf="LoadModule env_module /usr/lib/apache2/modules/mod_env.so\n"
                                  "SetEnv proxy-nokeepalive 1")
    # a load factor set through the balancer-manager applies at once
    weights_follow_load(make_actuator, "pmwa", "19624-19625", "apache",
                        {"apache": dict(ap.apache_keys)}, lambda: apache_weights(ap),
                        lambda: True, ap.url, backends)
