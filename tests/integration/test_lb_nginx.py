"""nginx driver against a real nginx (Debian 1.22) on 127.0.0.1 and real HTTP
backends on 127.0.0.2-4: requests follow add / drain / remove, least_conn
really balances by connections, a failing `nginx -t` or reload leaves the old
config serving and the file restored, hostile addresses are refused."""
import os
import signal
import subprocess
import threading
import time

import pytest

import lb_bed
import vstest
from lb_bed import Nginx, lb_tool, list_members, spread

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="no nginx")


def test_add_drain_remove_follow_requests(tmp_path, daemons, lb_backends):
    a, b, _ = lb_backends
    ng = Nginx(tmp_path, daemons)
    assert spread(ng.url, 3) == {"HTTP 502": 3}  # only the placeholder

    lb_tool(ng.config, "add", a.address, check=True)
    assert spread(ng.url, 6) == {a.name: 6}
    lb_tool(ng.config, "add", b.address, check=True)
    assert spread(ng.url, 10) == {a.name: 5, b.name: 5}
    assert list_members(ng.config) == {a.address: ("enabled", 0), b.address: ("enabled", 0)}

    # A slow request in flight on b, then b drained: it completes, new ones go to a.
    lb_tool(ng.config, "drain", a.address, check=True)
    slow = {}
    t = threading.Thread(target=lambda: slow.update(r=lb_bed.get(ng.url + "/slow?ms=2500")))
    t.start()
    vstest.wait_for(lambda: b.active == 1, 5, what="slow request on b")
    lb_tool(ng.config, "enable", a.address, check=True)
    workers_before = ng.workers()
    lb_tool(ng.config, "drain", b.address, check=True)
    assert ng.workers() != workers_before
    assert "127.0.0.3:19510 down; # draining" in ng.upstream_text()
    a.reset(), b.reset()
    assert spread(ng.url, 10) == {a.name: 10}
    assert b.hits == 0 and b.active == 1
    # State survives across driver instances: the file is the state.
    assert list_members(ng.config)[b.address] == ("draining", 1)
    r = lb_tool(ng.config, "-t", "1", "wait-drained", b.address, check=False)
    assert "error[timeout]" in r.stderr
    start = time.monotonic()
    lb_tool(ng.config, "-t", "10", "wait-drained", b.address, check=True)
    assert time.monotonic() - start < 4
    t.join(5)
    assert slow["r"] == (200, b.name)  # the in-flight request completed

    lb_tool(ng.config, "remove", b.address, check=True)
    assert b.address not in ng.upstream_text()
    assert spread(ng.url, 6) == {a.name: 6} and b.hits == 0

    # Unchanged content: no file write, no reload.
    workers = ng.settled_workers()
    mtime = os.stat(ng.upstream_file).st_mtime_ns
    lb_tool(ng.config, "add", a.address, check=True)
    assert ng.workers() == workers and os.stat(ng.upstream_file).st_mtime_ns == mtime

    # Disabled: added but no traffic; remove of the last member: placeholder.
    lb_tool(ng.config, "add-disabled", b.address, check=True)
    assert "127.0.0.3:19510 down; # disabled" in ng.upstream_text()
    assert spread(ng.url, 4) == {a.name: 4}
    lb_tool(ng.config, "remove", a.address, check=True)
    lb_tool(ng.config, "remove", b.address, check=True)
    assert ng.upstream_text() == lb_bed.NGINX_PLACEHOLDER
    assert spread(ng.url, 2) == {"HTTP 502": 2}


def test_weight_rendered_and_applied(tmp_path, daemons, lb_backends):
    a, b, c = lb_backends
    conf = os.path.join(str(tmp_path), "nginx", "nginx.conf")
    # reload through a configured command (argv, no shell), still confirmed
    ng = Nginx(tmp_path, daemons, nginx_keys={
        "max_conns": 50, "zone": "webzone",
        "reload_command": f"/usr/sbin/nginx -c {conf} -s reload"})
    for x in (a, b, c):
        lb_tool(ng.config, "add", x.address, check=True)
    workers = ng.settled_workers()
    lb_tool(ng.config, "weight", a.address, "3", check=True)
    assert set(ng.workers()) - set(workers)  # a new generation took over
    text = ng.upstream_text()
    assert "\tzone webzone 64k;\n" in text
    assert "\tserver 127.0.0.2:19510 weight=3 max_conns=50; # enabled\n" in text
    assert "\tserver 127.0.0.4:19510 max_conns=50; # enabled\n" in text
    assert spread(ng.url, 10) == {a.name: 6, b.name: 2, c.name: 2}  # weights 3:1:1
    r = lb_tool(ng.config, "weight", a.address, "0", check=False)
    assert "error[invalid]" in r.stderr


def concurrent_split(url, slow_backend, n=12):
    """Fires n staggered concurrent requests; returns hits of slow_backend."""
    slow_backend.reset()
    threads = [threading.Thread(target=lb_bed.get, args=(url,)) for _ in range(n)]
    for t in threads:
        t.start()
        time.sleep(0.03)
    for t in threads:
        t.join(10)
    return slow_backend.hits


def test_least_conn_versus_round_robin(tmp_path, daemons):
    slow = vstest.HttpBackend("127.0.0.2", name="slow", delay_ms=900)
    fast = vstest.HttpBackend("127.0.0.3", name="fast")
    try:
        ng = Nginx(tmp_path, daemons)
        lb_tool(ng.config, "add", slow.address, check=True)
        lb_tool(ng.config, "add", fast.address, check=True)
        assert "least_conn" not in ng.upstream_text()
        rr_hits = concurrent_split(ng.url, slow)
        ng.set_method("least_conn")
        lb_tool(ng.config, "add", slow.address, check=True)  # re-rendered with the method
        assert "upstream web {\n\tleast_conn;\n" in ng.upstream_text()
        time.sleep(1)  # the round-robin requests are over
        lc_hits = concurrent_split(ng.url, slow)
        # Round-robin alternates whatever the backends' load; least_conn sends
        # new requests to the backend with fewer open connections.
        assert rr_hits == 6, rr_hits
        assert lc_hits <= 2, lc_hits
    finally:
        slow.stop()
        fast.stop()


def test_failed_config_test_or_reload_restores(tmp_path, daemons, lb_backends):
    a, b, _ = lb_backends
    ng = Nginx(tmp_path, daemons)
    lb_tool(ng.config, "add", a.address, check=True)
    before = ng.upstream_text()
    workers = ng.settled_workers()

    # A conflicting main config: `nginx -t` fails, the old file comes back.
    conflict = os.path.join(ng.dir, "conf.d", "conflict.conf")
    with open(conflict, "w") as f:
        f.write("upstream web { server 127.0.0.1:9; }\n")
    r = lb_tool(ng.config, "add", b.address, check=False)
    assert "error[config-test]" in r.stderr and "duplicate upstream" in r.stderr
    assert "restored" in r.stderr
    assert ng.upstream_text() == before
    assert ng.workers() == workers
    assert spread(ng.url, 4) == {a.name: 4}  # old config keeps serving
    assert not [f for f in os.listdir(os.path.dirname(conflict)) if ".tmp-" in f]
    os.unlink(conflict)

    # nginx not running: reload impossible, file restored.
    ng.daemon.stop()
    r = lb_tool(ng.config, "add", b.address, check=False)
    assert "error[unreachable]" in r.stderr and "restored" in r.stderr
    assert ng.upstream_text() == before


def test_hostile_addresses_and_foreign_file(tmp_path, daemons, lb_backends):
    a = lb_backends[0]
    ng = Nginx(tmp_path, daemons)
    lb_tool(ng.config, "add", a.address, check=True)
    before = ng.upstream_text()
    for bad in ["127.0.0.1:80;", "127.0.0.1:80; server 10.6.6.6:80", "web}:80", "a b:80",
                "127.0.0.1:80\n}", "127.0.0.1:80 backup", "127.0.0.1", "127.0.0.1:99999",
                "-bad.example:80", "[::1]:80;", "host:80#"]:
        r = lb_tool(ng.config, "--", "add", bad, check=False)
        assert "error[invalid]" in r.stderr, bad
    assert ng.upstream_text() == before

    # A file edited by hand is refused, not overwritten.
    hand = before.replace("# enabled", "# enabled\n\tkeepalive 4;")
    with open(ng.upstream_file, "w") as f:
        f.write(hand)
    r = lb_tool(ng.config, "add", "127.0.0.3:19510", check=False)
    assert f"{ng.upstream_file}:4:" in r.stderr and "refusing" in r.stderr
    assert ng.upstream_text() == hand


def test_unconfirmed_reload_restores(tmp_path, daemons, lb_backends):
    """A reload that never takes effect (here a reload command that does
    nothing) is reported after the confirmation timeout, file restored."""
    a, b, _ = lb_backends
    ng = Nginx(tmp_path, daemons, nginx_keys={"reload_command": "/bin/true"})
    with open(ng.upstream_file, "w") as f:
        f.write(lb_bed.NGINX_PLACEHOLDER.replace(
            "\tserver 127.0.0.1:1 down; # placeholder\n", f"\tserver {a.address}; # enabled\n"))
    ng.daemon.signal(signal.SIGHUP)
    vstest.wait_for(lambda: spread(ng.url, 1) == {a.name: 1}, 5, what="nginx serving a")
    before = ng.upstream_text()
    start = time.monotonic()
    r = lb_tool(ng.config, "add", b.address, check=False)
    assert "error[reload]" in r.stderr and "did not start new workers" in r.stderr
    assert "restored" in r.stderr
    assert 9 < time.monotonic() - start < 20
    assert ng.upstream_text() == before
    assert spread(ng.url, 4) == {a.name: 4}


HANGING_NGINX = """#!/bin/sh
# nginx -t that never returns, with a child of its own in its process group
case " $* " in *" -t "*)
    echo $$ > {d}/hang.pid
    sleep 300 &
    echo $! > {d}/hang-child.pid
    wait
    ;;
esac
exec /usr/sbin/nginx "$@"
"""


def test_hanging_config_test_is_killed(tmp_path, daemons, lb_backends):
    """`nginx -t` that hangs: killed with its process group after [nginx]
    timeout, the change fails with a timeout error, the file is restored."""
    a = lb_backends[0]
    d = str(tmp_path)
    fake = os.path.join(d, "nginx-hangs")
    with open(fake, "w") as f:
        f.write(HANGING_NGINX.format(d=d))
    os.chmod(fake, 0o755)
    ng = Nginx(tmp_path, daemons, nginx_keys={"binary": fake, "timeout": 2})
    before = ng.upstream_text()
    start = time.monotonic()
    r = lb_tool(ng.config, "add", a.address, check=False, timeout=30)
    took = time.monotonic() - start
    assert "error[config-test]" in r.stderr and "timed out after 2 s" in r.stderr, r.stderr
    assert "restored" in r.stderr
    assert 2 <= took < 6, took
    with open(os.path.join(d, "hang.pid")) as f:
        hung = int(f.read())
    with open(os.path.join(d, "hang-child.pid")) as f:
        child = int(f.read())
    vstest.wait_for(lambda: vstest.process_gone(hung) and vstest.process_gone(child), 5,
                    what="the hanging nginx -t and its child killed")
    assert ng.upstream_text() == before


def test_stale_pid_file_is_not_signalled(tmp_path, daemons, lb_backends):
    """A pid file naming a process that is no nginx master (a stale file whose
    pid was reused, or a worker): refused with a clear error, nothing signalled."""
    a = lb_backends[0]
    ng = Nginx(tmp_path, daemons)
    stranger = subprocess.Popen(["sleep", "300"])  # SIGHUP would end it
    try:
        stale = os.path.join(ng.dir, "stale.pid")
        for pid in (stranger.pid, int(ng.workers()[0])):
            with open(stale, "w") as f:
                f.write(f"{pid}\n")
            ng.nginx_keys["pid_file"] = stale
            lb_bed.write_config(ng.config, "nginx", {"nginx": ng.nginx_keys})
            before = ng.upstream_text()
            workers = ng.settled_workers()
            r = lb_tool(ng.config, "add", a.address, check=False)
            assert "error[unreachable]" in r.stderr and f"pid {pid}" in r.stderr, r.stderr
            assert "no nginx master" in r.stderr and "not signalled" in r.stderr
            assert "restored" in r.stderr and ng.upstream_text() == before
            time.sleep(0.5)
            assert stranger.poll() is None, "the stranger was signalled"
            assert ng.workers() == workers  # no reload either
        # the real master's pid file still works
        ng.nginx_keys["pid_file"] = ng.pid_file
        lb_bed.write_config(ng.config, "nginx", {"nginx": ng.nginx_keys})
        lb_tool(ng.config, "add", a.address, check=True)
        assert spread(ng.url, 2) == {a.name: 2}
    finally:
        stranger.kill()
        stranger.wait()
