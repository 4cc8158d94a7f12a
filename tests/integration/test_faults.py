"""Faults of the daemons virtscale works with, injected while it works:
libvirtd frozen (SIGSTOP) and restarted in the middle of a scale-out, the
nginx master killed, httpd restarted with its balancer state lost, snmpd
killed under the subagent, collectd killed under its forwarder, virtscaled
restarted under a flood of notification lines, the SMTP server down while
alerts are raised, the mail queue's directory full, `nginx -t` hanging
until it answers again, SIGHUP to virtscaled and virtscale-snmp in the
middle of a scale-out while the MIBs are walked. The state_dir full at each
journal record is in test_actuator_journal.py.

Each fault: the programs stay up, nothing is leaked in libvirt (virsh list
--all, vol-list), what was acknowledged is not lost, the fault is reported
(log, status, alert) and everything converges once it ends. libvirtd,
nginx, snmpd and virtscaled are signalled through their pid files;
collectd (in the foreground it writes none) and httpd (stopped, not
signalled) are the test's own children.

Domains are named vst-flt-*; ports come from 19000-19099.
"""
import contextlib
import glob
import json
import os
import random
import select
import signal
import socket
import subprocess
import threading
import time

import pytest

import collectdtest
import lb_bed
import snmpbed
import vstest
from actbed import tagged
from loopbed import upstream_servers

pytestmark = pytest.mark.usefixtures("libvirtd")

restarts_libvirtd = pytest.mark.skipif(
    os.environ.get("VS_TEST_RESTART_LIBVIRTD") != "1",
    reason="restarts the shared libvirtd: set VS_TEST_RESTART_LIBVIRTD=1")


@pytest.fixture
def actuator(make_actuator):
    """actuator(tag, ports, **kw): an actbed.Actuator in this file's
    namespace (pool flt-TAG, domains vst-flt-TAG-*), its template defined."""
    return lambda tag, ports, **kw: make_actuator(tag, ports, template=True, namespace="flt", **kw)


# --- helpers ---------------------------------------------------------------

def nothing_leaked(a, n, timeout=20):
    """@n members, each defined, running and with its one volume; no
    operation left open in the journal."""
    def ok():
        return (len(a.running()) == n and a.defined() == a.running() and
                len(a.volumes()) == n and a.open_ops() == [])
    vstest.wait_for(ok, timeout, interval=0.5,
                    what=f"{n} members and nothing else (defined, volumes, journal)")


def wait_clone_begun(a, timeout=30):
    """Polls the journal closely until a clone is recorded: the scale-out
    is then between its journal record and its end (the next libvirt call
    is still to come)."""
    path = os.path.join(a.state, "journal")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            with open(path) as f:
                if '"op":"clone"' in f.read():
                    return
        time.sleep(0.001)
    raise AssertionError(f"no clone journaled within {timeout}s: {a.journal_text()!r}")


def timed_status(a):
    """(seconds the status request took, the pool's status)."""
    t0 = time.monotonic()
    st = a.pool_status()
    return time.monotonic() - t0, st


def scale_to(a, n):
    r = a.ctl("scale", a.pool_name, str(n))
    assert r.returncode == 0, f"scale {n} refused: {r.stdout}{r.stderr}"


def failed_once(a, timeout=40):
    return vstest.wait_for(lambda: (lambda st: st if st["failures"] >= 1 else None)(
        a.pool_status()), timeout, interval=0.3, what="the action to fail")


# --- libvirtd ----------------------------------------------------------------

def test_libvirtd_frozen_mid_scale_out(actuator):
    """libvirtd stopped (SIGSTOP) for 8 s right after a clone is journaled:
    virtscaled keeps answering at once and says it is scaling out; once
    libvirtd continues, the clone completes with no failure and no leftover."""
    a = actuator("frz", "19000-19003", pool={"min": 1, "max": 2, "cooldown": 1})
    a.start()
    a.wait_running(1, 30)
    scale_to(a, 2)
    wait_clone_begun(a)
    pid = vstest.libvirtd_pid()
    assert pid, "no running libvirtd in its pid file"
    os.kill(pid, signal.SIGSTOP)
    answers = []
    try:
        end = time.monotonic() + 8
        while time.monotonic() < end:
            answers.append(timed_status(a))
            time.sleep(0.5)
    finally:
        os.kill(pid, signal.SIGCONT)
    worst = max(dt for dt, _ in answers)
    assert worst < 1.0, f"a status request took {worst:.2f}s while libvirtd was stopped"
    assert {st["phase"] for _, st in answers} == {"scaling-out"}, answers[-1]
    assert all(st["last_result"] == "running" for _, st in answers), answers[-1]
    st = a.wait_running(2, 60)
    assert st["failures"] == 0 and st["last_result"] == "ok", st
    nothing_leaked(a, 2)
    assert a.proc.alive()


@restarts_libvirtd
def test_libvirtd_restarted_mid_scale_out(actuator):
    """libvirtd restarted while a clone is being made: the scale-out fails
    at a named step (logged, alerted, in status), its leftovers are removed
    once libvirtd is back, and the pool reaches its target without a restart
    of virtscaled."""
    a = actuator("lvr", "19004-19007", pool={"min": 1, "max": 2, "cooldown": 1})
    a.start()
    a.wait_running(1, 30)
    scale_to(a, 2)
    wait_clone_begun(a)
    # stopped first: the SIGTERM lands in the middle of what it was answering
    vstest.restart_libvirtd(freeze_first=True)
    # the connection dropped mid-action: a failure naming its step
    st = failed_once(a, 60)
    assert st["last_error"], st
    assert a.proc.alive()
    vstest.wait_for(lambda: " failed at step " in a.proc.output(), 10,
                    what="the failure logged with its step")
    assert st["alerts"] >= 1 and st["last_alert"] == "action-failed", st
    # reconnect, clean up, reach the target of 2
    st = a.wait_running(2, 90)
    nothing_leaked(a, 2)
    assert a.proc.alive()


# --- load balancers ------------------------------------------------------------

def test_nginx_master_killed(actuator, tmp_path, daemons):
    """The nginx master killed (SIGKILL, by its pid file; its workers go on
    serving the old upstream): the next scale-out is blocked before anything
    is cloned, naming the pid file, alerted once; the upstream file is left
    as it was. nginx started again: the scale-out converges."""
    ng = lb_bed.Nginx(tmp_path / "ngx", daemons, port=19050)
    # a blocked pool is tried again at least every sync_interval: 2 s here
    a = actuator("ngk", "19008-19011", pool={"min": 1, "max": 2, "lb": "nginx", "cooldown": 1,
                                             "sync_interval": 2},
                 sections={"nginx": dict(ng.nginx_keys)})
    a.start()
    a.wait_running(1, 30)
    _, first = tagged(a.running()[0])
    vstest.wait_for(lambda: upstream_servers(ng.upstream_text()) == [first], 20,
                    what="the first member in the upstream")
    master = vstest.pid_from_file(ng.pid_file)
    os.kill(master, signal.SIGKILL)
    try:
        nginx_master_killed_then_started(a, ng, master, first, daemons)
    finally:
        # the orphaned workers (the master's process group) go in any case
        with contextlib.suppress(ProcessLookupError):
            os.killpg(master, signal.SIGKILL)


def nginx_master_killed_then_started(a, ng, master, first, daemons):
    vstest.wait_for(lambda: not ng.daemon.alive(), 10, what="the nginx master to die")
    scale_to(a, 2)
    st = failed_once(a)
    assert st["last_error"].startswith("blocked: "), st
    assert "no running nginx master" in st["last_error"] and ng.pid_file in st["last_error"], st
    assert st["last_alert"] == "action-failed" and a.proc.alive(), st
    blocked = "scale-out blocked, nothing is cloned until this is fixed"
    vstest.wait_for(lambda: blocked in a.proc.output(), 10, what="the blocked scale-out logged")
    # nothing cloned: one member, its volume, the upstream file unchanged
    time.sleep(2)
    nothing_leaked(a, 1)
    assert upstream_servers(ng.upstream_text()) == [first]
    # the fault ends: the orphaned workers go (same process group as the
    # master), nginx starts again on the same files
    with contextlib.suppress(ProcessLookupError):
        os.killpg(master, signal.SIGKILL)
    vstest.wait_for(lambda: port_free(19050), 10, what="the old nginx workers to let go of 19050")
    ng.daemon = daemons(ng.daemon.argv, name="nginx-again", pid_file=ng.pid_file)
    vstest.wait_port(19050)
    a.wait_running(2, 60)
    nothing_leaked(a, 2)
    want = sorted(tagged(n)[1] for n in a.running())
    vstest.wait_for(lambda: upstream_servers(ng.upstream_text()) == want, 10,
                    what=f"the upstream to list {want}")
    # the new master took the file in (its reload confirmed by the driver)
    assert vstest.pid_from_file(ng.pid_file) == ng.daemon.proc.pid
    out = a.proc.output()
    assert out.count(blocked) == 1 and "the preconditions of a scale-out hold again" in out


def port_free(port, host="127.0.0.1"):
    """Nothing listens on @port (bound as nginx binds: SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def nginx_tests_running(conf):
    """Pids of `nginx -t` processes checking @conf."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if b"-t" in argv and conf.encode() in argv:
                out.append(int(pid))
    return out


def test_hanging_nginx_test_then_answering_pool_converges(actuator, tmp_path, daemons):
    """`nginx -t` hangs (the configuration includes a FIFO no one writes):
    the pool (min 1) is blocked before anything is cloned, each hanging
    check killed at [nginx] timeout, alerted once. Once `nginx -t` answers
    again the pool converges without a restart: the member cloned and in
    the upstream nginx serves, recovered."""
    ng = lb_bed.Nginx(tmp_path / "ngh", daemons, port=19053, nginx_keys={"timeout": 2})
    vstest.wait_port(19053)
    fifo = os.path.join(os.path.dirname(ng.upstream_file), "hang.conf")
    os.mkfifo(fifo)
    # a blocked pool is tried again at least every sync_interval: 2 s here
    a = actuator("ngh", "19030-19031", pool={"min": 1, "max": 1, "lb": "nginx",
                                             "sync_interval": 2},
                 sections={"nginx": dict(ng.nginx_keys)})
    a.start()
    st = vstest.wait_for(lambda: (lambda s: "timed out" in s["last_error"] and s)(
        a.pool_status()), 30, what="the hanging check reported")
    assert st["last_error"].startswith("blocked: ") and st["last_alert"] == "action-failed", st
    assert a.defined() == [] and a.volumes() == [] and a.proc.alive()

    os.unlink(fifo)
    a.wait_running(1, 60)
    _, addr = tagged(a.running()[0])
    vstest.wait_for(lambda: upstream_servers(ng.upstream_text()) == [addr], 10,
                    what=f"{addr} in the upstream")
    nothing_leaked(a, 1)
    st = vstest.wait_for(lambda: (lambda s: s["last_error"] == "" and s)(a.pool_status()), 10,
                         what="the error cleared")
    assert st["failures"] >= 1 and st["last_alert"] == "recovered", st
    out = a.proc.output()
    assert out.count("nothing is cloned until this is fixed") == 1, out
    assert nginx_tests_running(ng.conf) == [], "a hanging nginx -t was left behind"
    assert ng.daemon.alive()


APACHE_ENV = ("APACHE_RUN_DIR", "APACHE_LOCK_DIR", "APACHE_LOG_DIR")


def test_httpd_restarted_balancer_state_lost(actuator, tmp_path, daemons):
    """httpd stopped and started with its balancer state gone (the
    persisted slotmem removed, as after a reboot): the next sync of the
    pool adds the running members again, with no action taken."""
    ap = lb_bed.Apache(tmp_path / "apx", daemons, port=19051, other_port=19052, growth=3)
    a = actuator("htr", "19012-19015", pool={"min": 1, "max": 1, "lb": "apache", "sync_interval": 2},
                 sections={"apache": dict(ap.apache_keys, timeout=2)})
    a.start()
    st = a.wait_running(1, 30)
    _, addr = tagged(a.running()[0])
    vstest.wait_for(lambda: lb_bed.list_members(ap.config).get(addr, ("",))[0] == "enabled",
                    20, what=f"{addr} enabled in the balancer")
    ap.daemon.stop()
    for f in glob.glob(os.path.join(ap.dir, "slotmem-shm-*")):
        os.unlink(f)
    ap.daemon = daemons(ap.daemon.argv, name="apache2-again",
                        env={k: ap.dir for k in APACHE_ENV})
    vstest.wait_port(19051)
    assert addr not in lb_bed.list_members(ap.config), "the balancer state survived the restart"
    # the next sync (every 2 s here) puts the member back, enabled
    vstest.wait_for(lambda: lb_bed.list_members(ap.config).get(addr, ("",))[0] == "enabled",
                    25, interval=0.5, what=f"{addr} re-added by the sync")
    vstest.wait_for(lambda: [i["lb"] for i in a.pool_status()["instances"]] == ["enabled"], 15,
                    what="status to show the member enabled")
    after = a.pool_status()
    assert after["scale_outs"] == st["scale_outs"] and after["scale_ins"] == 0, after
    nothing_leaked(a, 1)
    assert a.proc.alive()


# --- snmpd, collectd ---------------------------------------------------------

def test_snmpd_killed_subagent_back_within_seconds(tmp_path, daemons):
    """snmpd killed (SIGKILL, by its pid file) and started again: the
    subagent, still running, is back in both MIBs' tables within a few
    seconds (agentx_ping_interval 1)."""
    name = "vst-flt-snmp-off"
    vstest.remove_domain(name)
    vstest.define_domain(name, start=False, disk=False)
    try:
        bed = snmpbed.SnmpBed(tmp_path, daemons, agent_port=19060, trap_port=19061, sections={
            "pool flt-snmp": {"template": "vst-flt-snmp-tmpl", "name_pattern": "vst-flt-snmp-%02d",
                              "lb": "none", "min": 0, "max": 1}})
        bed.start_snmpd()
        sub = bed.start_subagent()
        bed.wait_rows(name, timeout=30)

        def pool_row():
            return any(v[1] == b"flt-snmp" for v in bed.walk(snmpbed.VS_MIB, check=False).values()
                       if v[0] == "hex")
        vstest.wait_for(pool_row, 10, what="the pool's row in VIRTSCALE-MIB")
        bed.snmpd.signal(signal.SIGKILL)
        vstest.wait_for(lambda: not bed.snmpd.alive(), 10, what="snmpd to die")
        time.sleep(1)
        assert sub.alive(), "the subagent died with its master"
        bed.start_snmpd()
        t0 = time.monotonic()
        vstest.wait_for(lambda: name in bed.rows_by_name(), 8, interval=0.2,
                        what="the subagent's rows after the master came back")
        vstest.wait_for(pool_row, 3, interval=0.2, what="the pool's row after the master came back")
        back = time.monotonic() - t0
        assert back < 5, f"the subagent took {back:.1f}s to come back"
        assert sub.alive()
        assert sub.stop() == 0, "the subagent did not exit cleanly after the fault"
    finally:
        vstest.remove_domain(name)


def walk_loop(bed, until, results):
    """snmpbulkwalk of VM-MIB then VIRTSCALE-MIB, back to back, until
    @until is set; appends True (a whole walk) or the error to @results."""
    while not until.is_set():
        for oid in (snmpbed.VM_MIB, snmpbed.VS_MIB):
            r = subprocess.run(["snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Cr50", "-t", "5",
                                "-r", "0", f"127.0.0.1:{bed.agent_port}", oid],
                               capture_output=True, text=True, env=snmpbed.snmp_env(), timeout=60)
            ok = r.returncode == 0 and r.stdout.strip() and "No Such" not in r.stdout
            results.append(True if ok else (oid, r.returncode, r.stderr[-300:]))


def test_sighup_to_both_daemons_mid_scale_out_while_walking(actuator, tmp_path, daemons):
    """SIGHUP to virtscale-snmp and to virtscaled (its pid from status.json)
    while the scale-out an acknowledged notification asked for runs and four
    walkers walk both MIBs: no walk fails, neither daemon dies, both say the
    configuration is valid, the scale-out completes and the subagent shows
    the new member."""
    bed = snmpbed.SnmpBed(tmp_path / "snmp", daemons, agent_port=19062, trap_port=19063)
    a = actuator("hup", "19032-19033", pool={"min": 0, "max": 1, "cooldown": 1})
    a.conf, a.state = bed.conf, bed.state
    vstest.write_config(a.conf, {
        "libvirt": {"refresh_interval": 1, "slow_interval": 1},
        "snmp": {"agentx_socket": bed.sock, "agentx_ping_interval": 1},
        "actuator": {"socket": a.sock, "state_dir": a.state, "socket_group": "root"},
        f"pool {a.pool_name}": a.pool})
    bed.start_snmpd()
    sub = bed.start_subagent()
    a.start()
    a.wait_running(0, 20)
    until, results = threading.Event(), []
    walkers = [threading.Thread(target=walk_loop, args=(bed, until, results)) for _ in range(4)]
    for t in walkers:
        t.start()
    try:
        time.sleep(1)
        answer = a.request({"v": 1, "type": "pool", "pool": a.pool_name, "state": "high",
                            "source": "test"})
        assert answer == {"v": 1, "ok": True}, answer
        wait_clone_begun(a)
        with open(os.path.join(a.state, "status.json")) as f:
            pid = json.load(f)["pid"]
        assert pid == a.proc.proc.pid
        os.kill(sub.proc.pid, signal.SIGHUP)
        os.kill(pid, signal.SIGHUP)
        st = a.wait_running(1, 60)
        assert st["last_action"] == "scale-out" and st["last_result"] == "ok", st
        name = a.running()[0]
        vstest.wait_for(lambda: name in bed.rows_by_name(), 10, what=f"{name} in VM-MIB")
        time.sleep(2)
    finally:
        until.set()
        for t in walkers:
            t.join(60)
    failed = [r for r in results if r is not True]
    assert len(results) > 20 and not failed, failed[:5]
    assert a.proc.alive() and sub.alive()
    vstest.wait_for(lambda: f"SIGHUP: {a.conf} is valid" in a.proc.output() and
                    "is valid; changes take effect" in sub.output(), 10,
                    what="both reloads' verdicts")
    nothing_leaked(a, 1)


SESSION_POOL = {
    # sessions decide (cpu_low above what a halted guest uses): more than 3
    # per instance is high, fewer than 1 is low, each one-second sample on
    # its own (a window of several would still hold the samples of before a
    # scale-out, and scale out again); the cooldown lets collectd's next
    # samples count the new member first
    "policy": "average", "cpu_high": 100, "cpu_low": 99, "sessions_high": 3,
    "sessions_low": 1, "debounce": "1/1", "sessions": "sockdiag", "repeat_interval": 1,
    "min": 1, "max": 3, "cooldown": 3, "stabilization": 0,
}


@contextlib.contextmanager
def held_sessions(address, n):
    """@n TCP connections to a member's hostfwd address, open meanwhile."""
    host, port = address.rsplit(":", 1)
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection((host, int(port)), timeout=5))
        yield socks
    finally:
        for s in socks:
            s.close()


def start_collectd(a, daemons, name="collectd"):
    """collectd with virtscale.so reading the actuator's own configuration;
    its forwarder connects to the actuator's socket with its first
    notification."""
    d = os.path.join(a.tmp, "collectd")
    os.makedirs(d, exist_ok=True)
    conf = collectdtest.write_collectd_conf(d, a.conf, plugin_block="  RepeatInterval 1\n")
    cd = collectdtest.start_collectd(daemons, conf, name=name)
    vstest.wait_for(lambda: "Initialization complete" in cd.output() or not cd.alive(), 30,
                    what="collectd to start")
    assert cd.alive(), cd.output()
    return cd


def test_collectd_killed_forwarder_back(actuator, daemons):
    """collectd killed (SIGKILL) and started again: its
    forwarder connects to virtscaled again and its notifications scale the
    pool (sessions held on the member -> high -> a scale-out)."""
    a = actuator("cdk", "19016-19019", pool=SESSION_POOL,
                 sections={"libvirt": {"refresh_interval": 1, "slow_interval": 1}})
    a.start()
    a.wait_running(1, 30)
    cd = start_collectd(a, daemons)
    # collectd in the foreground writes no pid file: the test's own child
    cd.signal(signal.SIGKILL)
    vstest.wait_for(lambda: not cd.alive(), 10, what="collectd to die")
    before = a.status()["intake"]
    cd = start_collectd(a, daemons, name="collectd-again")
    _, addr = tagged(a.running()[0])
    with held_sessions(addr, 6):
        st = a.wait_running(2, 40)
        assert st["scale_outs"] == 2 and st["failures"] == 0, st  # min, then high
        nothing_leaked(a, 2)
    after = a.status()["intake"]
    assert after["connections"] > before["connections"] and after["accepted"] > before["accepted"]
    # no sessions: low, back to min
    st = a.wait_running(1, 40)
    assert st["scale_ins"] == 1 and st["failures"] == 0, st
    assert a.proc.alive() and cd.alive()
    nothing_leaked(a, 1)


class Flood:
    """Clients writing notification lines to the actuator's socket as fast
    as @rate lines/s (all clients together) allows: valid ones for a pool
    that never acts (state ok or low at min 0) and invalid ones of every
    kind the intake refuses. Each client reads the answers as they come
    (one per line: taken, refused, or busy) and reconnects when the socket
    goes away (virtscaled restarting); sent counts complete lines."""

    def __init__(self, sock, pool, clients=4, rate=2000):
        self.sock, self.pool = sock, pool
        self.stop_event = threading.Event()
        self.sent = [0] * clients
        self.reconnects = [0] * clients
        self.answers = [{"ok": 0, "refused": 0, "retry": 0} for _ in range(clients)]
        self.period = clients / rate
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(clients)]
        for t in self.threads:
            t.start()

    def lines(self, rnd):
        p = self.pool.encode()
        valid = [b'{"v":1,"type":"pool","pool":"' + p + b'","state":"ok","source":"flood"}',
                 b'{"v":1,"type":"pool","pool":"' + p + b'","state":"low","source":"flood"}']
        invalid = [b"not json", b'{"v":1,"type":"pool","pool":"' + p + b'","state":"sky"}',
                   b'{"v":1,"type":"pool","pool":"nosuchpool","state":"high"}',
                   b'{"v":1,"type":"pool","pool":"' + p + b'"', b"\xff\xfe garbage",
                   b'{"v":1,"type":"pool","pool":"' + p + b'","state":"high","message":"' +
                   b"A" * 5000 + b'"}']
        while True:
            yield rnd.choice(valid) if rnd.random() < 0.5 else rnd.choice(invalid)

    def read_answers(self, s, i, pending):
        """Takes in the answers waiting on @s; returns the unfinished rest."""
        while select.select([s], [], [], 0)[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionResetError("closed by the actuator")
            pending += chunk
            *whole, pending = pending.split(b"\n")
            for line in whole:
                answer = json.loads(line)
                kind = "ok" if answer["ok"] else "retry" if answer.get("retry") else "refused"
                self.answers[i][kind] += 1
        return pending

    def run(self, i):
        rnd = random.Random(i)
        gen = self.lines(rnd)
        s = None
        pending = b""
        next_t = time.monotonic()
        while not self.stop_event.is_set():
            try:
                if s is None:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.settimeout(2)
                    s.connect(self.sock)
                    pending = b""
                s.sendall(next(gen) + b"\n")
                self.sent[i] += 1
                pending = self.read_answers(s, i, pending)
            except OSError:
                if s:
                    s.close()
                s = None
                self.reconnects[i] += 1
                time.sleep(0.05)
                continue
            next_t += self.period
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1:
                next_t = time.monotonic()
        if s:
            s.close()

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(10)
        return sum(self.sent)

    def answered(self, kind):
        return sum(a[kind] for a in self.answers)


def test_virtscaled_restarted_under_flood(actuator, daemons):
    """A flood of valid and invalid lines from four clients while collectd
    forwards real notifications: the pool scales out on collectd's high,
    virtscaled is restarted (SIGTERM) in the middle of the flood, collectd's
    forwarder connects to the new one and the next high scales again.
    Every line is counted, every status request answered in time."""
    decoy = "flt-decoy"
    a = actuator("fld", "19020-19023", pool=SESSION_POOL, sections={
        "libvirt": {"refresh_interval": 1, "slow_interval": 1},
        f"pool {decoy}": {"template": "vst-flt-decoy-tmpl", "name_pattern": "vst-flt-decoy-%02d",
                          "min": 0, "max": 1, "lb": "none", "address": "hostfwd",
                          "hostfwd_ports": "19024-19025"}})
    a.start()
    a.wait_running(1, 30)
    cd = start_collectd(a, daemons)
    flood = Flood(a.sock, decoy)
    try:
        _, first = tagged(a.running()[0])
        with held_sessions(first, 5):
            # 5 sessions on one member: high; on two: 2.5 each, normal
            st = a.wait_running(2, 40)
            assert st["scale_outs"] == 2, st  # min, then high
            dt, _ = timed_status(a)
            assert dt < 1.0, f"status took {dt:.2f}s under the flood"
            intake = a.status()["intake"]
            assert intake["malformed"] and intake["oversized"] and intake["invalid_utf8"], intake
            assert intake["unknown_pool"] and intake["accepted"] > 100, intake
            a.signal(signal.SIGTERM)
            code = a.proc.proc.wait(60)
            assert code == 0, f"virtscaled exited with {code} on SIGTERM under the flood"
            assert not os.path.exists(a.pid_file), "the pid file outlived a clean stop"
            a.start()
            second = [tagged(n)[1] for n in a.running() if tagged(n)[1] != first][0]
            with held_sessions(second, 5):
                # 10 sessions on two members: high again, the third instance
                st = a.wait_running(3, 40)
                assert st["scale_outs"] == 1 and st["failures"] == 0, st
                nothing_leaked(a, 3)
            # the forwarder's notifications reached the new virtscaled
            assert f"pool {a.pool_name}: high from collectd" in a.proc.output()
    finally:
        sent = flood.stop()
    assert sent > 5000, f"the flood sent only {sent} lines"
    assert sum(flood.reconnects) >= 1, "the flood never met the restart"
    # every line answered but those in flight when virtscaled stopped; none busy
    answered = flood.answered("ok") + flood.answered("refused")
    assert flood.answered("ok") > 1000 and flood.answered("refused") > 1000, flood.answers
    assert sent * 0.9 <= answered <= sent and flood.answered("retry") == 0, (sent, flood.answers)
    assert a.proc.alive() and cd.alive()
    st = a.status()
    decoy_st = [p for p in st["pools"] if p["name"] == decoy][0]
    assert decoy_st["scale_outs"] == 0 and decoy_st["failures"] == 0, decoy_st
    assert st["intake"]["lines"] > 1000, st["intake"]


# --- mail ----------------------------------------------------------------------

def raise_alert(a, state, kind):
    """Sends @state until the pool's last alert is of @kind; then "ok" (a
    pool at max raises at-max every second while high lasts); returns the
    status once no more alerts come."""
    vstest.wait_for(lambda: (a.notify(state), a.pool_status()["last_alert"] == kind)[1], 20,
                    interval=0.5, what=f"a {kind} alert")
    a.notify("ok")

    def settled():
        before = a.pool_status()["alerts"]
        time.sleep(1.5)
        st = a.pool_status()
        return st["alerts"] == before and st
    return vstest.wait_for(settled, 15, interval=0, what="the alerts to stop")


def queued_alerts(a):
    """{Message-ID: kind} of the alerts journaled in STATE_DIR/mail-queue."""
    out = {}
    for path in glob.glob(os.path.join(a.state, "mail-queue", "*.alert")):
        with open(path) as f:
            keys = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        out[keys["message_id"]] = keys["kind"]
    return out


def delivered(srv):
    """{Message-ID: event} of every message the server accepted; a second
    message with the same Message-ID fails the test."""
    out = {}
    for m in srv.messages():
        mid = m["msg"]["Message-ID"]
        assert mid not in out, f"{mid} delivered twice"
        out[mid] = m["msg"]["X-Virtscale-Event"]
    return out


def test_smtp_down_then_up_each_alert_once(actuator, smtp):
    """Alerts raised while the SMTP server is down (at-max while high lasts,
    recovered, at-max again), virtscaled restarted with them still queued:
    once the server is up, every queued alert is delivered exactly once,
    under the Message-ID it was given when raised, and the queue empties."""
    srv = smtp(start=False)
    a = actuator("sm", "19026-19027", pool={"min": 1, "max": 1, "cooldown": 1, "probe": "none"},
                 sections={"mail": srv.config(rate_limit=0, notify_recovered="yes", timeout=2)})
    a.start()
    a.wait_running(1, 30)
    raise_alert(a, "high", "at-max")
    st = raise_alert(a, "high", "at-max")
    vstest.wait_for(lambda: len(queued_alerts(a)) == st["alerts"], 10,
                    what=f"{st['alerts']} alerts journaled")
    assert a.proc.output().count(" not delivered (Connection refused), retry in ") >= \
        st["alerts"], "a failed delivery not logged with its retry"
    assert a.proc.stop() == 0
    queued = queued_alerts(a)
    assert sorted(set(queued.values())) == ["at-max", "recovered"], queued
    a.start()
    vstest.wait_for(lambda: f"{len(queued)} queued alert(s) from the previous run" in
                    a.proc.output(), 10, what="the queue taken over from the previous run")
    srv.start()
    vstest.wait_for(lambda: len(srv.messages()) >= len(queued), 60, interval=0.5,
                    what=f"{len(queued)} messages")
    vstest.wait_for(lambda: queued_alerts(a) == {}, 10, what="the queue emptied")
    time.sleep(3)  # a duplicate would come with the next retry
    assert delivered(srv) == queued
    assert a.proc.alive()
    nothing_leaked(a, 1)


def test_mail_queue_directory_full(actuator, smtp, tmp_path):
    """The mail queue's directory full (a tmpfs of 64 KiB filled up) while
    the SMTP server is down: an alert that cannot be journaled is logged as
    an error naming the cause and kept in memory; once space returns, each
    is journaled at its next retry, and delivered once when the server
    comes up."""
    srv = smtp(start=False)
    a = actuator("mq", "19028-19029", pool={"min": 1, "max": 1, "cooldown": 1, "probe": "none"},
                 sections={"mail": srv.config(rate_limit=0, timeout=2)})
    qdir = os.path.join(a.state, "mail-queue")
    os.makedirs(qdir)
    vstest.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", qdir])
    filler = os.path.join(qdir, "filler")
    try:
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
        os.close(fd)
        a.start()
        a.wait_running(1, 30)
        st = raise_alert(a, "high", "at-max")
        # recovered is counted but not mailed (notify_recovered = no)
        mailed = st["alerts"] - 1
        line = [x for x in a.proc.output().splitlines() if "cannot journal" in x][0]
        assert "No space left on device" in line and "kept in memory" in line, line
        assert queued_alerts(a) == {} and a.proc.alive()
        os.unlink(filler)
        vstest.wait_for(lambda: len(queued_alerts(a)) == mailed, 40, interval=0.2,
                        what=f"{mailed} alert(s) journaled once space returned")
        queued = queued_alerts(a)
        srv.start()
        vstest.wait_for(lambda: len(srv.messages()) >= mailed, 60, interval=0.5,
                        what=f"{mailed} message(s)")
        vstest.wait_for(lambda: queued_alerts(a) == {}, 10, what="the queue emptied")
        time.sleep(2)
        assert delivered(srv) == queued
        assert a.proc.alive()
        nothing_leaked(a, 1)
    finally:
        if a.proc:
            a.proc.stop()
        vstest.run(["umount", qdir], check=False)
