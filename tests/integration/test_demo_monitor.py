"""The live table of scripts/demo.sh (scripts/demo/vsdemo.py monitor) over
two hosts (demo.sh --hosts 2): each new instance is announced with its
host, and every row ends with the serving instances on each host, in the
configuration's order (a lost host's instance is not serving). The status
comes from a stand-in for `virtscalectl -j status`; nothing else runs.
"""
import json
import os
import subprocess
import sys
import time

import vstest

MONITOR = os.path.join(vstest.SRCDIR, "scripts", "demo", "vsdemo.py")
B = "qemu+tcp://127.0.0.1:18010/system"


def status():
    def inst(name, host, address, **kw):
        return {"name": name, "state": "running", "address": address, "host": host, **kw}
    return {
        "hosts": [{"name": "a", "uri": "qemu:///system"}, {"name": "b", "uri": B}],
        "pools": [{
            "name": "vsdemo", "phase": "idle", "warm": 1,
            "scale_outs": 0, "scale_ins": 0, "failures": 0, "alerts": 0,
            "last_action": "none", "last_result": "ok", "last_error": "",
            "instances": [
                inst("vsdemo-01", B, "127.0.0.2:18100"),
                inst("vsdemo-02", "qemu:///system", "127.0.0.1:18101"),
                inst("vsdemo-03", B, "127.0.0.2:18102"),
                inst("vsdemo-04", B, "127.0.0.2:18103", lost=True),
                inst("vsdemo-05", "qemu:///system", "127.0.0.1:18104", warm=True),
            ]}]}


def test_live_table_names_each_instances_host(tmp_path):
    ctl = tmp_path / "virtscalectl"
    ctl.write_text(f"#!{sys.executable}\nimport sys\n"
                   f"assert sys.argv[1:] == ['-c', 'demo.conf', '-j', 'status'], sys.argv\n"
                   f"print({json.dumps(json.dumps(status()))})\n")
    ctl.chmod(0o755)
    (tmp_path / "clients").write_text("10\n")
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-u", MONITOR, "monitor", "--ctl", str(ctl), "--conf", "demo.conf",
         "--pool", "vsdemo", "--csvdir", str(tmp_path / "csv"), "--url", "http://127.0.0.1:1/",
         "--clients-file", str(tmp_path / "clients"), "--out", str(tmp_path / "monitor.csv"),
         "--events", str(tmp_path / "events.txt"), "--probes", str(tmp_path / "probes.csv"),
         "--stop-file", str(stop), "--every", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        stop.write_text("")
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("actuator  per host"), lines[0]
    # each serving instance announced with its host's name
    for name, address, host in (("vsdemo-01", "127.0.0.2:18100", "b"),
                                ("vsdemo-02", "127.0.0.1:18101", "a"),
                                ("vsdemo-03", "127.0.0.2:18102", "b")):
        assert any(f"+ {name} serving at {address} on host {host} " in ln for ln in lines), out
    rows = [ln for ln in lines if ln.lstrip()[:1].isdigit() and " idle " in ln]
    assert rows, out
    # the serving ones per host: not the warm one, not the lost host's
    for row in rows:
        assert row.endswith("a: vsdemo-02 | b: vsdemo-01 vsdemo-03"), row
        assert row.split()[2] == "3", row  # instances: the serving ones
    assert not any("vsdemo-04" in ln or "vsdemo-05" in ln for ln in lines), out
