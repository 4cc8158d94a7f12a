#!/usr/bin/python3
"""bench/actuator: how fast virtscaled turns a notification into a serving
backend, and what a clone costs for a 1 GiB template.

  VS_BUILDDIR=build /usr/bin/python3 bench/actuator/run.py [--runs N] [--copy-runs N]

Part 1 boots the tiny web guest (tests/guest): a "high" notification is sent
at t0; the daemon's log gives when the clone was defined and started, and the
benchmark itself polls the hostfwd port until the guest's HTTP answers. The
anchor is the same work done by hand in the same run: a qcow2 volume + define
(tests/guest/define-template.sh), virsh start, poll until HTTP answers.

Part 2 clones a template whose disk is a 1 GiB raw volume of random data, as
a qcow2 overlay (clone = overlay) and as a full copy (clone = copy); the
anchor is `cp` of that file in the same run. Prints markdown tables.
Domains are named vst-act-bench-*, ports 19480-19499; everything is removed.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import vstest  # noqa: E402

VIRTSCALED = vstest.build_path("actuator", "virtscaled")
PREFIX = "vst-act-bench-"
LOG_RE = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) virtscaled\[\d+\] \w+: (.*)$")


def sod(h, m, s):
    return int(h) * 3600 + int(m) * 60 + float(s)


def now_sod():
    t = datetime.datetime.now()
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


class Daemon:
    def __init__(self, tmp, pool):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "act.sock")
        self.conf = os.path.join(tmp, "virtscale.conf")
        self.log = os.path.join(tmp, "virtscaled.log")
        vstest.write_config(self.conf, {
            "actuator": {"socket": self.sock, "state_dir": f"{tmp}/state",
                         "socket_group": "root"},
            "pool bench": pool})
        self.proc = subprocess.Popen([VIRTSCALED, "-f", "-c", self.conf],
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            vstest.wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None,
                            20, what="the socket")
            if self.proc.poll() is not None:
                raise AssertionError(f"{VIRTSCALED} exited with {self.proc.returncode}"
                                     " (set VS_BUILDDIR to your build directory)")
        except AssertionError:
            print(open(self.log).read(), file=sys.stderr)
            raise

    def send(self, obj):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.sock)
            s.sendall((json.dumps(obj) + "\n").encode())
            if obj.get("type") == "status":
                buf = b""
                while not buf.endswith(b"\n"):
                    buf += s.recv(65536)
                return json.loads(buf)
        return None

    def status(self):
        return self.send({"v": 1, "type": "status"})["pools"][0]

    def events(self):
        """(seconds of day, message) of every log line."""
        out = []
        with open(self.log, errors="replace") as f:
            for line in f:
                m = LOG_RE.match(line.strip())
                if m:
                    out.append((sod(*m.group(1, 2, 3)), m.group(4)))
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def http_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.settimeout(2)
            s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/1.")
    except OSError:
        return False


def wait_http(port, timeout=300):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if http_answers(port):
            return now_sod()
        time.sleep(0.05)
    raise RuntimeError(f"port {port} never answered")


def first_after(events, t0, pattern):
    for t, msg in events:
        if t >= t0 - 0.001 and re.search(pattern, msg):
            return t
    return None


def cleanup():
    vstest.remove_domains(PREFIX)
    vstest.virsh("pool-refresh", "default", check=False)
    for line in vstest.virsh("vol-list", "default", check=False).stdout.splitlines():
        p = line.split()
        if p and p[0].startswith(PREFIX):
            vstest.virsh("vol-delete", p[0], "--pool", "default", check=False)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def by_actuator(d, act):
    t0 = now_sod()
    d.send({"v": 1, "type": "pool", "pool": "bench", "state": "high", "source": "bench"})
    t_http = wait_http(19481)
    vstest.wait_for(lambda: d.status()["actual"] == 1 and d.status()["phase"] != "scaling-out",
                    300, what="scale-out")
    ev = d.events()
    act["defined"].append(first_after(ev, t0, r"defined$") - t0)
    act["running"].append(first_after(ev, t0, r"started$") - t0)
    act["answering"].append(t_http - t0)
    act["in_lb"].append(first_after(ev, t0, r"is serving at") - t0)
    # back to zero
    end = time.monotonic() + 120
    while d.status()["actual"] != 0 and time.monotonic() < end:
        d.send({"v": 1, "type": "pool", "pool": "bench", "state": "low"})
        time.sleep(0.5)


def by_hand(i, man):
    """The anchor: the same steps by hand (volume + define, start, poll)."""
    name = f"{PREFIX}man{i}"
    t0 = now_sod()
    subprocess.run([os.path.join(SRC, "tests", "guest", "define-template.sh"), name,
                    "19490", "-1", "96"], check=True, capture_output=True)
    man["defined"].append(now_sod() - t0)
    vstest.virsh("start", name)
    man["running"].append(now_sod() - t0)
    man["answering"].append(wait_http(19490) - t0)
    vstest.remove_domain(name)
    vstest.virsh("vol-delete", f"{name}.qcow2", "--pool", "default", check=False)


def part_boot(runs, tmp):
    tmpl = PREFIX + "tmpl"
    subprocess.run([os.path.join(SRC, "tests", "guest", "define-template.sh"), tmpl, "19480",
                    "-1", "96"], check=True, capture_output=True)
    d = Daemon(tmp, {"template": tmpl, "name_pattern": PREFIX + "%02d", "min": 0, "max": 1,
                     "lb": "none", "cooldown": 0, "stabilization": 0, "address": "hostfwd",
                     "hostfwd_ports": "19481-19489", "probe": "http:/", "probe_timeout": 300,
                     "drain_timeout": 0, "shutdown_timeout": 2, "repeat_interval": 1})
    act = {"defined": [], "running": [], "answering": [], "in_lb": []}
    man = {"defined": [], "running": [], "answering": []}
    try:
        vstest.wait_for(lambda: d.status()["phase"] == "idle", 30, what="idle")
        for i in range(runs):
            # alternate which goes first, so a change of the machine's load
            # does not always fall on the same side
            if i % 2:
                by_hand(i, man)
                by_actuator(d, act)
            else:
                by_actuator(d, act)
                by_hand(i, man)
    finally:
        d.stop()
        cleanup()
    return act, man


def make_big_template(size_mib):
    tmpl = PREFIX + "big"
    vol = os.path.join(vstest.IMAGES, tmpl + ".img")
    vstest.remove_domain(tmpl)
    subprocess.run(["dd", "if=/dev/urandom", f"of={vol}", "bs=1M", f"count={size_mib}",
                    "status=none"], check=True)
    with open(vol, "r+b") as f:  # a halting boot sector, so the clone could run
        f.write(b"\xfa\xf4\xeb\xfd")
        f.seek(510)
        f.write(b"\x55\xaa")
    os.chmod(vol, 0o644)
    vstest.virsh("pool-refresh", "default")
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{vol}'/><target dev='vda' bus='virtio'/></disk>")
    xml = vstest.domain_xml(tmpl, disk=False, extra_devices=disk)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(xml)
    vstest.virsh("define", f.name)
    os.unlink(f.name)
    return tmpl, vol


def part_clone(overlay_runs, copy_runs, tmp, size_mib):
    tmpl, vol = make_big_template(size_mib)
    res = {"overlay": [], "copy": [], "cp": []}
    try:
        for mode, runs in (("overlay", overlay_runs), ("copy", copy_runs)):
            sub = os.path.join(tmp, mode)
            os.makedirs(sub, exist_ok=True)
            d = Daemon(sub, {"template": tmpl, "name_pattern": PREFIX + mode[0] + "%02d",
                             "min": 0, "max": 1, "lb": "none", "cooldown": 0,
                             "stabilization": 0, "address": "hostfwd",
                             "hostfwd_ports": "19491-19499", "probe": "none",
                             "clone": mode, "drain_timeout": 0, "shutdown_timeout": 1,
                             "repeat_interval": 1})
            try:
                for _ in range(runs):
                    t0 = now_sod()
                    d.send({"v": 1, "type": "pool", "pool": "bench", "state": "high"})
                    vstest.wait_for(lambda: d.status()["actual"] == 1, 300, what="clone")
                    ev = d.events()
                    a = first_after(ev, t0, r"cloning ")
                    b = first_after(ev, t0, r"defined$")
                    res[mode].append(b - a)
                    end = time.monotonic() + 60
                    while d.status()["actual"] != 0 and time.monotonic() < end:
                        d.send({"v": 1, "type": "pool", "pool": "bench", "state": "low"})
                        time.sleep(0.3)
                    # the anchor in the same run: cp of the same file
                    dst = os.path.join(vstest.IMAGES, PREFIX + "cp.img")
                    t = time.monotonic()
                    shutil.copyfile(vol, dst)
                    res["cp"].append(time.monotonic() - t)
                    os.unlink(dst)
            finally:
                d.stop()
    finally:
        vstest.remove_domain(tmpl)
        vstest.virsh("vol-delete", os.path.basename(vol), "--pool", "default", check=False)
        if os.path.exists(vol):
            os.unlink(vol)
        cleanup()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--copy-runs", type=int, default=2)
    ap.add_argument("--size-mib", type=int, default=1024)
    args = ap.parse_args()
    cleanup()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="vs-bench-act-") as tmp:
        act, man = part_boot(args.runs, tmp)
        clone = part_clone(args.runs, args.copy_runs, tmp, args.size_mib)
    print(f"Load average at start: {load:.1f} (2 CPUs). Medians of {args.runs} runs.\n")
    print("| notification → | virtscaled (s) | by hand, same run (s) | ratio |")
    print("|---|---|---|---|")
    for k, label in (("defined", "clone defined"), ("running", "domain running"),
                     ("answering", "backend answering (HTTP)")):
        a, m = median(act[k]), median(man[k])
        print(f"| {label} | {a:.3f} | {m:.3f} | {a / m:.2f} |")
    print(f"| added to the load balancer | {median(act['in_lb']):.3f} | – | – |")
    print()
    cp = median(clone["cp"])
    print(f"| clone of a {args.size_mib} MiB template | seconds (median) | ratio to `cp` of the image, same run |")
    print("|---|---|---|")
    print(f"| `cp` of the image (anchor) | {cp:.3f} | 1.00 |")
    for mode, label in (("overlay", "clone = overlay (qcow2 over the template volume)"),
                        ("copy", "clone = copy (virStorageVolCreateXMLFrom)")):
        v = median(clone[mode])
        print(f"| {label} | {v:.3f} | {v / cp:.3f} |")


if __name__ == "__main__":
    main()
