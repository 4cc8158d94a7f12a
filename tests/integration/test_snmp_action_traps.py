"""vsAction* notifications from a real actuator: virtscaled scaling a pool
behind a real nginx, virtscale-snmp reading the status.json it writes,
registered with a real snmpd, its traps received by a real snmptrapd.

Domains are named vst-snmp-af-*; SNMP ports 19107-19108, hostfwd ports
19460-19469, nginx on lb_bed's port.
"""
import json
import os
import re

import pytest

import vstest
from lb_bed import Nginx
from snmpbed import VS_MIB, SnmpBed

pytestmark = [pytest.mark.usefixtures("libvirtd"),
              pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="no nginx")]

TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
ACTION_FAILED = VS_MIB + ".0.7"
LAST_ERROR = VS_MIB + ".1.2.1.15.1"   # vsPoolLastError of the only pool


def trap_varbinds(bed):
    """Every trap of snmptrapd's log as {oid: value text}, a value wrapped
    over several lines (long Hex-STRINGs) kept whole."""
    if not os.path.exists(bed.traps_log):
        return []
    with open(bed.traps_log, errors="replace") as f:
        text = f.read()
    out = []
    for chunk in text.split("TRAP ")[1:]:
        vbs = {}
        for part in chunk.split("\t"):
            m = re.match(r"^\s*\.?([0-9.]+) = (.*)$", part, re.S)
            if m:
                vbs[m.group(1)] = m.group(2).strip()
        out.append(vbs)
    return out


def octets(value):
    """The bytes of a Hex-STRING (or empty string) as snmptrapd -Ox prints it."""
    if value in ('""', ""):
        return b""
    assert value.startswith("Hex-STRING:"), value
    return bytes.fromhex("".join(value[len("Hex-STRING:"):].split()))


def test_nginx_test_failure_is_trapped(make_actuator, tmp_path, daemons):
    """`nginx -t` fails during a scale-out with several lines of errors,
    with UTF-8 in them, that make an error longer than status.json's 1024
    bytes (a broken include): status.json stays readable, so the subagent keeps the actuator
    available and sends vsActionFailed with the error cut to vsPoolLastError's
    255 bytes on a character boundary."""
    ng = Nginx(tmp_path / "ngx", daemons)
    bed = SnmpBed(tmp_path / "snmp", daemons, agent_port=19107, trap_port=19108)
    a = make_actuator("af", "19460-19469", namespace="snmp",
                      pool={"min": 0, "max": 2, "lb": "nginx", "cooldown": 1},
                      sections={"nginx": dict(ng.nginx_keys),
                                "libvirt": {"refresh_interval": 1, "slow_interval": 1},
                                "snmp": {"agentx_socket": bed.sock,
                                         "agentx_ping_interval": 1}})
    a.define_template()
    a.start()
    vstest.wait_for(lambda: a.pool_status()["phase"] == "idle", 20, what="the pool idle")
    # the subagent reads the actuator's own configuration and state_dir
    bed.conf = a.conf
    bed.start_trapd()
    bed.start_snmpd()
    bed.start_subagent()
    vstest.wait_for(lambda: bed.walk(VS_MIB + ".1.1.2").get(VS_MIB + ".1.1.2.0", (0, 0))[1] == 1,
                    20, what="vsActuatorAvailable = true")

    # a broken include: nginx -t reports an unknown directive (a name of
    # two-byte characters) on one line, then "test failed" on the next
    broken = os.path.join(ng.dir, "conf.d", "zz-broken.conf")

    def nginx_t(n):
        with open(broken, "w", encoding="utf-8") as f:
            f.write("\u00e9" * n + " on;\n")
        r = vstest.run(["/usr/sbin/nginx", "-t", "-q", "-c", ng.conf], check=False)
        assert r.returncode != 0
        return r.stderr
    first, second = (len(line.encode()) for line in nginx_t(100).strip().split("\n"))
    # 984 bytes of output: with the actuator's words around it (which file
    # it restored, which command failed: 40 to 150 bytes) the error is over
    # 1 KiB and its line break still inside the first 1024 bytes
    stderr = nginx_t(100 + (984 - 1 - second - first) // 2)
    assert 970 < len(stderr.encode()) <= 984 and stderr.strip().count("\n") == 1, stderr
    try:
        a.send({"v": 1, "type": "pool", "pool": a.pool_name, "state": "high", "desired": 1})

        def failed_trap():
            for t in trap_varbinds(bed):
                if t.get(TRAP_OID, "").endswith(ACTION_FAILED):
                    return t
        t = vstest.wait_for(failed_trap, 120, interval=0.5, what="vsActionFailed")
    finally:
        os.unlink(broken)

    # status.json holds the error as one line of at most 1024 bytes: the
    # line break became '?', the second line is cut on a character boundary
    with open(os.path.join(a.state, "status.json"), encoding="utf-8") as f:
        pool = json.load(f)["pools"][0]
    assert pool["last_result"] == "failed"
    error = pool["last_error"]
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in error), error
    assert 1020 <= len(error.encode()) <= 1024, len(error.encode())
    printed = stderr.strip().replace("\n", "?")
    tail = error[error.index("unknown directive"):]
    assert printed[printed.index("unknown directive"):].startswith(tail), (tail, printed)
    assert "?nginx" in tail, error
    # the trap: the same text, cut to 255 bytes, never inside a character
    sent = octets(t[LAST_ERROR])
    assert 254 <= len(sent) <= 255, len(sent)
    assert error.encode().startswith(sent), (sent, error)
    sent.decode("utf-8")
    # the actuator stayed available to the subagent throughout
    assert bed.walk(VS_MIB + ".1.1.2")[VS_MIB + ".1.1.2.0"][1] == 1
