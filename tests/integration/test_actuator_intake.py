"""The actuator's intake: socket permissions, validation of every line,
hostile input (a fuzz loop of random bytes) that must never be acted on nor
bring the daemon down, and virtscalectl feeding it in three formats."""
import json
import os
import random
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

import vstest
from actbed import VIRTSCALECTL, VIRTSCALED, Actuator

pytestmark = pytest.mark.usefixtures("libvirtd")


@pytest.fixture
def idle_act(tmp_path, daemons):
    # min = 0 and no template: anything acted on would show as a failure
    a = Actuator(tmp_path / "in", daemons, "in", "19360-19369", pool={"min": 0, "max": 2})
    a.cleanup()
    a.start()
    yield a
    a.proc.stop()
    a.cleanup()


def intake(a):
    return a.status()["intake"]


def test_socket_mode_and_status_reply(idle_act):
    st = os.stat(idle_act.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    s = idle_act.status()
    assert s["v"] == 1 and s["pid"] == idle_act.proc.proc.pid
    assert s["pools"][0]["name"] == idle_act.pool_name and s["pools"][0]["actual"] == 0


def test_invalid_lines_counted_never_acted_connection_kept(idle_act):
    a = idle_act
    before = intake(a)
    P = a.pool_name.encode()
    bad = [
        b"not json at all",
        b'{"v":1,"type":"pool","pool":"' + P + b'","state":"high"',             # truncated
        b'{"v":2,"type":"pool","pool":"' + P + b'","state":"high"}',            # version
        b'{"v":1,"type":"pool","pool":"' + P + b'","state":"sky-high"}',        # bad state
        b'{"v":1,"type":"pool","pool":"' + P + b'","state":"high","value":"x"}',  # bad type
        b'{"v":1,"type":"pool","pool":"' + P + b';rm -rf /","state":"high"}',   # hostile name
        b'{"v":1,"type":"pool","pool":"' + P + b'","state":"high","evil":1}',   # unknown member
        b'{"v":1,"type":"pool","pool":"' + P + b'","state":"high","message":"a\\u0007b"}',
        b"\xff\xfe\xfd invalid utf-8",
        b'{"v":1,"type":"pool","pool":"' + P + b'","state":"high","message":"' + b"A" * 9000 + b'"}',
        b'{"v":1,"type":"pool","pool":"' + P + b'\x00","state":"high"}',
    ]
    unknown = b'{"v":1,"type":"pool","pool":"nosuchpool","state":"high"}'
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(a.sock)
        # (the unknown pool first: of a burst, only the first ten are logged)
        for line in [unknown] + bad:
            s.sendall(line + b"\n")
        # the same connection still works: a status request is answered,
        # after one answer per line before it
        s.sendall(b'{"v":1,"type":"status"}\n')
        buf = b""
        while buf.count(b"\n") < len(bad) + 2:
            chunk = s.recv(65536)
            assert chunk, buf
            buf += chunk
        answers = [json.loads(x) for x in buf.splitlines()]
        reply = answers[-1]
    assert all(x["ok"] is False for x in answers[:-1]), answers
    after = reply["intake"]
    assert after["malformed"] - before["malformed"] >= 8
    assert after["invalid_utf8"] - before["invalid_utf8"] == 1
    assert after["oversized"] - before["oversized"] == 1
    assert after["unknown_pool"] - before["unknown_pool"] == 1
    p = reply["pools"][0]
    assert p["scale_outs"] == 0 and p["failures"] == 0 and p["last_action"] == "none"
    assert a.defined() == []
    assert "unknown pool 'nosuchpool'" in a.proc.output()


def test_random_bytes_fuzz_loop(idle_act):
    a = idle_act
    rnd = random.Random(1234)
    before = intake(a)
    for i in range(300):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(a.sock)
            n = rnd.choice([1, 10, 100, 1000, 5000, 20000])
            data = bytes(rnd.getrandbits(8) for _ in range(n))
            if i % 3 == 0:
                data = data.replace(b"\n", b"") + b"\n"
            if i % 7 == 0:
                # JSON-ish garbage around valid keys
                data = b'{"v":1,"type":"pool","pool":"act-in","state":' + data[:50] + b"}\n"
            try:
                s.sendall(data)
            except OSError:
                pass
    assert a.proc.alive()
    after = intake(a)
    assert after["connections"] - before["connections"] >= 300
    rejected = sum(after[k] - before[k] for k in ("malformed", "oversized", "invalid_utf8"))
    assert rejected >= 100
    p = a.pool_status()
    assert p["scale_outs"] == 0 and p["scale_ins"] == 0 and p["failures"] == 0
    assert a.defined() == []


def test_check_config_errors_name_file_and_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[actuator]\nsocket = /tmp/x.sock\n\n[pool web]\ntemplate = t\n"
                    "name_pattern = w-%02d\nmin = 5\nmax = 2\nbogus_key = 1\n")
    ctl = vstest.build_path("actuator", "virtscalectl")
    r = subprocess.run([ctl, "-c", str(conf), "check-config"], capture_output=True, text=True)
    assert r.returncode == 2
    assert f"{conf}:" in r.stderr
    # virtscaled refuses to start with the same exit status, before anything starts
    d = subprocess.run([vstest.build_path("actuator", "virtscaled"), "-f", "-c", str(conf)],
                       capture_output=True, text=True, timeout=20)
    assert d.returncode == 2 and f"{conf}:" in d.stderr
    assert not os.path.exists("/tmp/x.sock")


COLLECTD_HIGH = """Severity: WARNING
Time: 1764000000.250
Host: hv1
Plugin: virtscale
PluginInstance: act-fmt
Type: sessions
DataSource: value
CurrentValue: 7.500000e+01
WarningMin: nan
WarningMax: 6.000000e+01
FailureMin: nan
FailureMax: nan

Pool act-fmt: sessions per instance 75 above 60
"""

SNMPTRAP_LOW = """localhost
UDP: [127.0.0.1]:40000->[127.0.0.1]:162
.1.3.6.1.2.1.1.3.0 0:0:01:00.00
.1.3.6.1.6.3.1.1.4.1.0 VIRTSCALE-MIB::vsPoolLow
.1.3.6.1.4.1.8072.9999.9999.1.2.1.2.1 "act-fmt"
"""

# another MIB's trap whose name says low, and a varbind with the pool's name
UPS_TRAP = """localhost
UDP: [127.0.0.1]:40000->[127.0.0.1]:162
SNMPv2-MIB::snmpTrapOID.0 UPS-MIB::upsBatteryLow
.1.3.6.1.4.1.99999.1.2 STRING: "act-fmt"
"""


def test_virtscalectl_notify_three_formats(tmp_path, daemons):
    a = Actuator(tmp_path / "fmt", daemons, "fmt", "19370-19379",
                 pool={"min": 0, "max": 1, "cooldown": 1, "probe": "none"})
    a.cleanup()
    a.define_template()
    try:
        a.start()
        # collectd exec notification: high -> one instance
        r = a.ctl("notify", stdin=COLLECTD_HIGH)
        assert r.returncode == 0, r.stderr
        a.wait_running(1, 40)
        # a trap of another MIB is refused, whatever it says
        r = a.ctl("notify", stdin=UPS_TRAP)
        assert r.returncode == 3 and "not a VIRTSCALE-MIB notification" in r.stderr
        # snmptrapd traphandle input: a pool-low trap naming the pool -> none
        r = a.ctl("notify", stdin=SNMPTRAP_LOW)
        assert r.returncode == 0, r.stderr
        a.wait_running(0, 40, keep_sending=None)
        # our JSON -> one again
        r = a.ctl("notify", stdin='{"v":1,"type":"pool","pool":"act-fmt","state":"high"}\n')
        assert r.returncode == 0, r.stderr
        a.wait_running(1, 40)
        # errors are the sender's to hear about, and nothing is sent
        r = a.ctl("notify", stdin='{"v":1,"type":"pool","pool":"nope","state":"high"}\n')
        assert r.returncode == 1 and "unknown pool" in r.stderr
        r = a.ctl("notify", "--format", "collectd", stdin="garbage\n")
        assert r.returncode == 1
        assert a.pool_status()["scale_outs"] == 2
    finally:
        a.proc.stop()
        a.cleanup()
        vstest.remove_domain(a.template)


# --- every line answered, peers, limits -------------------------------------------

def lines_and_replies(sock, lines, timeout=10):
    """Sends @lines on one connection and reads one reply per line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock)
        s.sendall(b"".join(l + b"\n" for l in lines))
        buf = b""
        while buf.count(b"\n") < len(lines):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return [json.loads(l) for l in buf.splitlines()]


def test_every_line_answered(idle_act):
    a = idle_act
    P = a.pool_name.encode()
    replies = lines_and_replies(a.sock, [
        b'{"v":1,"type":"pool","pool":"' + P + b'","state":"ok"}',
        b'{"v":1,"type":"pool","pool":"' + P + b'","state":"sky-high"}',
        b'{"v":1,"type":"pool","pool":"nosuchpool","state":"high"}',
        b"\xff\xfe",
        b'{"v":1,"type":"threshold","severity":"okay","plugin":"cpu"}',
        b'{"v":1,"type":"status"}',
    ])
    assert len(replies) == 6, replies
    assert replies[0] == {"v": 1, "ok": True}
    assert replies[1]["ok"] is False and "state" in replies[1]["error"]
    assert "sky-high" not in replies[1]["error"]  # never echoes what was sent
    assert replies[2] == {"v": 1, "ok": False, "error": "unknown pool"}
    assert replies[3]["ok"] is False and "UTF-8" in replies[3]["error"]
    assert replies[4] == {"v": 1, "ok": True}
    assert replies[5]["ok"] is True and "pools" in replies[5]


def test_peer_credentials_logged(idle_act):
    a = idle_act
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(a.sock)
        s.sendall(b"not json\n")
        assert json.loads(s.makefile().readline())["ok"] is False
    r = a.ctl("scale", a.pool_name, "1")
    assert r.returncode == 0, r.stderr
    out = a.proc.output()
    assert f"(pid {os.getpid()}, uid 0, gid 0): malformed notification" in out, out
    assert f"uid 0, gid 0): scale {a.pool_name} to 1" in out, out


def test_idle_client_disconnected(tmp_path, daemons):
    a = Actuator(tmp_path / "idle", daemons, "idle", "19380-19389", pool={"min": 0, "max": 1},
                 sections={"actuator": {"idle_timeout": 2}})
    a.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as quiet, \
                socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as talker:
            quiet.connect(a.sock)
            talker.connect(a.sock)
            talker.settimeout(5)
            t0 = time.monotonic()
            for _ in range(4):  # talks every second: stays
                time.sleep(1)
                talker.sendall(b'{"v":1,"type":"status"}\n')
                assert talker.recv(1 << 20)
            quiet.settimeout(10)
            assert quiet.recv(100) == b""  # closed by the daemon
            assert 2 <= time.monotonic() - t0 < 8
            talker.sendall(b'{"v":1,"type":"status"}\n')
            assert json.loads(talker.makefile().readline())["intake"]["idle_closed"] >= 1
    finally:
        a.proc.stop()


def test_idle_clients_do_not_lock_out_a_sender(idle_act):
    a = idle_act
    idle = []
    try:
        for _ in range(300):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(a.sock)
            idle.append(s)
        time.sleep(1.5)
        # a sender that keeps no connection: its line is taken (or it hears why not)
        line = json.dumps({"v": 1, "type": "pool", "pool": a.pool_name, "state": "ok"})
        r = a.ctl("notify", stdin=line + "\n")
        assert r.returncode == 0, r.stderr
        # the same on a raw connection: an answer, never silence
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(a.sock)
            s.sendall(line.encode() + b"\n")
            reply = json.loads(s.makefile().readline())
        assert reply.get("ok") is True or reply.get("retry") is True, reply
        st = intake(a)
        # 300 idle on 256 slots: 44 refused busy; virtscalectl's connection made
        # room by letting the longest-silent idle one go; the raw one took the
        # slot virtscalectl left, or let another idle one go if it came first
        assert st["evicted"] >= 1 and st["refused_busy"] + st["evicted"] >= 45, st
        # the idle ones that were let go or refused were told by a closed socket
        closed = 0
        for s in idle:
            s.setblocking(False)
            try:
                data = s.recv(4096)
                closed += data == b"" or b'"retry":true' in data
            except BlockingIOError:
                pass
        assert closed >= 44
    finally:
        for s in idle:
            s.close()
    out = a.proc.output()
    # bounded: the refusals and evictions are counted, not all logged
    assert out.count("clients connected;") <= 20, out.count("clients connected;")


def test_bad_line_flood_bounded_log(idle_act):
    a = idle_act
    before = intake(a)
    n = 3000
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(a.sock)
        s.settimeout(20)
        s.sendall(b"not json\n" * n + b'{"v":1,"type":"status"}\n')
        f = s.makefile("rb")
        replies = [f.readline() for _ in range(n + 1)]
    assert all(b'"ok":false' in r for r in replies[:n])
    after = json.loads(replies[n])["intake"]
    assert after["malformed"] - before["malformed"] == n
    assert after["warnings_suppressed"] - before["warnings_suppressed"] >= n - 20
    out = a.proc.output()
    assert out.count("malformed notification") <= 20
    vstest.wait_for(lambda: "more warnings about bad lines suppressed" in a.proc.output(), 15,
                    what="the summary of suppressed warnings")


def test_allow_uids_refuses_another_user(tmp_path, daemons):
    # a socket directory that nobody may traverse to, the group nobody is in
    pub = tempfile.mkdtemp(prefix="vst-in-", dir="/tmp")
    os.chmod(pub, 0o755)
    a = Actuator(tmp_path / "allow", daemons, "allow", "19390-19399", pool={"min": 0, "max": 1},
                 sections={"actuator": {"socket_group": "nogroup", "allow_uids": "root"}})
    a.sock = os.path.join(pub, "act.sock")
    a.write_config()
    try:
        a.start()
        line = json.dumps({"v": 1, "type": "pool", "pool": a.pool_name, "state": "ok"})
        # the refusal may be written and the socket closed before the line is
        # sent: the answer is still there to read
        client = ("import socket,sys\n"
                  "s=socket.socket(socket.AF_UNIX); s.settimeout(10)\n"
                  f"s.connect({a.sock!r})\n"
                  f"try: s.sendall({line!r}.encode()+b'\\n')\n"
                  "except BrokenPipeError: pass\n"
                  "sys.stdout.write(s.makefile().readline())")
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            "/usr/bin/python3", "-c", client],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"v": 1, "ok": False, "error": "not allowed"}
        assert "uid 65534, gid 65534) is not in allow_uids or allow_gids; refused" in \
            a.proc.output()
        # root is let in
        assert lines_and_replies(a.sock, [line.encode()]) == [{"v": 1, "ok": True}]
        st = intake(a)
        assert st["refused_peers"] == 1 and st["accepted"] >= 1
    finally:
        if a.proc:
            a.proc.stop()
        shutil.rmtree(pub, ignore_errors=True)


def test_socket_group_and_directory_checked_before_start(tmp_path):
    d = tmp_path / "chk"
    d.mkdir()
    conf = d / "v.conf"
    sock = d / "s" / "act.sock"
    daemon = vstest.build_path("actuator", "virtscaled")
    ctl = vstest.build_path("actuator", "virtscalectl")
    vstest.write_config(conf, {"actuator": {"socket": sock, "state_dir": d / "st",
                                            "socket_group": "vstnosuchgroup"}})
    line = open(conf).read().splitlines().index("socket_group = vstnosuchgroup") + 1
    for argv in ([daemon, "-f", "-c", str(conf)], [ctl, "-c", str(conf), "check-config"]):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        assert r.returncode == 2, r.stderr
        assert f"{conf}:{line}: [actuator] socket_group: no group 'vstnosuchgroup'" in r.stderr
    assert not sock.exists()
    # a directory others may write to: they could replace the socket
    (d / "s").mkdir()
    os.chmod(d / "s", 0o777)
    vstest.write_config(conf, {"actuator": {"socket": sock, "state_dir": d / "st",
                                            "socket_group": "root"}})
    r = subprocess.run([daemon, "-f", "-c", str(conf)], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 2 and "writable by its group or others" in r.stderr, r.stderr
    assert not sock.exists()


def test_out_of_descriptors_no_busy_loop(tmp_path, daemons):
    a = Actuator(tmp_path / "fd", daemons, "fd", "19400-19409", pool={"min": 0, "max": 1})
    a.proc = daemons(["prlimit", "--nofile=96:96", "--", VIRTSCALED(), "-f", "-d", "-c", a.conf],
                     name="virtscaled-fd", env=vstest.sanitizer_env())
    vstest.wait_for(lambda: os.path.exists(a.sock) or not a.proc.alive(), 10, what="socket")
    clients = []
    try:
        # more clients than the daemon has descriptors for
        deadline = time.monotonic() + 20
        while "not accepting for" not in a.proc.output() and time.monotonic() < deadline:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(a.sock)
                clients.append(s)
            except OSError:  # the listen queue is full: let the daemon take some
                s.close()
                time.sleep(0.05)
        assert "not accepting for" in a.proc.output()
        time.sleep(0.5)
        cpu = lambda: sum(int(x) for x in  # noqa: E731
                          open(f"/proc/{a.proc.proc.pid}/stat").read().split(")")[1].split()[11:13])
        c0 = cpu()
        time.sleep(3)
        used = (cpu() - c0) / os.sysconf("SC_CLK_TCK")
        assert used < 0.6, f"{used:.2f} s of CPU in 3 s"
        for s in clients:
            s.close()
        clients = []
        # accepting again once descriptors are free
        vstest.wait_for(lambda: intake(a)["accept_errors"] >= 1, 15, what="status answered")
    finally:
        for s in clients:
            s.close()
        a.proc.stop()


def test_snmptrapd_traphandle_takes_only_our_pool_notifications(idle_act, tmp_path, daemons):
    """A real snmptrapd (no MIB loaded, so it prints iso.3.6.1...) runs
    virtscalectl for traps of an authorized community: a vsPoolLow naming the
    pool is taken; another MIB's trap whose varbind holds the pool's name is
    refused (exit 3); a trap with another community never reaches it."""
    a = idle_act
    d = tmp_path / "trapd"
    d.mkdir()
    results, errors = d / "results", d / "errors"
    handler = d / "handler.sh"
    handler.write_text(
        "#!/bin/sh\n"
        "ASAN_OPTIONS=detect_leaks=0 "
        f"{VIRTSCALECTL()} -c {a.conf} notify --format snmptrap 2>>{errors}\n"
        f"echo rc=$? >>{results}\n")
    handler.chmod(0o755)
    port = 19197
    conf = d / "snmptrapd.conf"
    conf.write_text("authCommunity execute vst-s3cret 127.0.0.1\n"
                    f"traphandle default {handler}\n")
    env = {"MIBS": "", "MIBDIRS": ""}
    trapd = daemons(["snmptrapd", "-f", "-C", "-c", str(conf), "-Lo",
                     "-p", str(d / "snmptrapd.pid"), f"udp:127.0.0.1:{port}"],
                    name="snmptrapd-intake", env=env)
    time.sleep(0.5)
    vs = "1.3.6.1.4.1.8072.9999.9999"

    def trap(community, oid, *varbinds):
        subprocess.run(["snmptrap", "-v2c", "-c", community, f"127.0.0.1:{port}", "", oid,
                        *varbinds], check=True, env={**os.environ, **env}, timeout=20)

    def rcs():
        return results.read_text().split() if results.exists() else []

    before = intake(a)
    trap("public", f".{vs}.0.1", f".{vs}.1.2.1.2.1", "s", a.pool_name)
    trap("vst-s3cret", ".1.3.6.1.2.1.33.2.0.1", ".1.3.6.1.4.1.99999.1", "s", a.pool_name)
    vstest.wait_for(lambda: rcs() == ["rc=3"], 10, what="the foreign trap refused")
    assert "not a VIRTSCALE-MIB notification" in errors.read_text()
    trap("vst-s3cret", f".{vs}.0.2", f".{vs}.1.2.1.2.1", "s", a.pool_name)
    vstest.wait_for(lambda: rcs() == ["rc=3", "rc=0"], 10, what="our trap taken")
    after = intake(a)
    assert after["accepted"] - before["accepted"] == 2  # the trap's line and our status
    assert after["malformed"] == before["malformed"]
    assert trapd.alive()
