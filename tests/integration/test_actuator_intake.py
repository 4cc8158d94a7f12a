"""The actuator's intake: socket permissions, validation of every line,
hostile input (a fuzz loop of random bytes) that must never be acted on nor
bring the daemon down, and virtscalectl feeding it in three formats."""
import json
import os
import random
import socket
import stat
import subprocess

import pytest

import vstest
from actbed import Actuator

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
        for line in bad + [unknown]:
            s.sendall(line + b"\n")
        # the same connection still works: a status request is answered
        s.sendall(b'{"v":1,"type":"status"}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            buf += s.recv(65536)
        reply = json.loads(buf)
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
.1.3.6.1.4.1.99999.1.2.1.2 "act-fmt"
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
