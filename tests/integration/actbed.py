"""Test bed of the actuator tests: a config in a temporary directory, a
template domain (halt disk, shut off), virtscaled started and queried through
its socket, and checks that nothing of ours is left in libvirt."""
import json
import os
import signal
import socket
import subprocess
import time

import vstest

VIRTSCALED = lambda: vstest.build_path("actuator", "virtscaled")  # noqa: E731
VIRTSCALECTL = lambda: vstest.build_path("actuator", "virtscalectl")  # noqa: E731

BASE_POOL = {
    "min": 1, "max": 3, "policy": "average", "lb": "none", "cooldown": 3,
    "address": "hostfwd", "probe": "tcp", "probe_timeout": 20, "stabilization": 0,
    "drain_timeout": 1, "shutdown_timeout": 1, "repeat_interval": 1,
}


class Actuator:
    """virtscaled with one pool, pool NAMESPACE-TAG: members
    vst-NAMESPACE-TAG-NN, template vst-NAMESPACE-TAG-tmpl (a test module
    with a namespace of its own never meets another module's domains)."""

    def __init__(self, tmp, daemons, tag, ports, pool=None, sections=None, namespace="act"):
        self.tmp = str(tmp)
        os.makedirs(self.tmp, exist_ok=True)
        self.daemons = daemons
        self.tag = tag
        self.prefix = f"vst-{namespace}-{tag}-"
        self.template = f"vst-{namespace}-{tag}-tmpl"
        # a pool name of our own: other configurations on this host have "web"
        self.pool_name = f"{namespace}-{tag}"
        self.sock = os.path.join(self.tmp, "act.sock")
        self.state = os.path.join(self.tmp, "state")
        self.conf = os.path.join(self.tmp, "virtscale.conf")
        self.pid_file = os.path.join(self.tmp, "virtscaled.pid")
        p = dict(BASE_POOL)
        p.update({"template": self.template, "name_pattern": f"{self.prefix}%02d",
                  "hostfwd_ports": ports})
        if pool:
            p.update(pool)
        self.pool = p
        self.sections = dict(sections or {})  # more groups: {"mail": {...}}
        self.write_config()
        self.proc = None

    def write_config(self, **changes):
        """Writes the config; @changes update the pool's keys first."""
        self.pool.update(changes)
        vstest.write_config(self.conf, {
            # the socket's group must exist on the host: root's, in the tests
            "actuator": {"socket": self.sock, "state_dir": self.state, "socket_group": "root"},
            f"pool {self.pool_name}": self.pool}, self.sections)

    def define_template(self, **kw):
        vstest.remove_domain(self.template)
        vstest.define_domain(self.template, start=False, **kw)

    def start(self):
        """Starts virtscaled with its pid file (self.pid_file); returns once
        the file names it and the socket is there."""
        env = vstest.sanitizer_env()
        self.proc = self.daemons([VIRTSCALED(), "-f", "-d", "-c", self.conf, "-p", self.pid_file],
                                 name=f"virtscaled-{self.tag}-{int(time.time()*1000) % 100000}",
                                 env=env, pid_file=self.pid_file)
        self.proc.wait_pid_file()
        vstest.wait_for(lambda: os.path.exists(self.sock) or not self.proc.alive(), 10,
                        what="the actuator socket")
        assert self.proc.alive(), self.proc.output()
        return self.proc

    def signal(self, sig):
        """@sig to virtscaled, found by its pid file."""
        self.proc.signal(sig)

    def kill9(self):
        """SIGKILL by the pid file (which stays behind, as after a crash)."""
        self.signal(signal.SIGKILL)
        self.proc.proc.wait(10)

    def request(self, obj, timeout=10):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.sock)
            s.sendall((json.dumps(obj) + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return json.loads(buf)

    def status(self):
        return self.request({"v": 1, "type": "status"})

    def status_file_pool(self):
        """The pool's entry of STATE_DIR/status.json as last written ({} before)."""
        try:
            with open(os.path.join(self.state, "status.json")) as f:
                return json.load(f)["pools"][0]
        except (FileNotFoundError, ValueError):
            return {}

    def journal_text(self):
        try:
            with open(os.path.join(self.state, "journal")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def open_ops(self):
        """The journal's operations that have not ended."""
        ops = {}
        for line in self.journal_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if "op" in r:
                ops[r["id"]] = r
            elif "end" in r:
                ops.pop(r["id"], None)
        return list(ops.values())

    def pool_status(self):
        return self.status()["pools"][0]

    def send(self, *objs):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.sock)
            for o in objs:
                s.sendall(((o if isinstance(o, str) else json.dumps(o)) + "\n").encode())

    def notify(self, state, pool=None):
        self.send({"v": 1, "type": "pool", "pool": pool or self.pool_name, "state": state,
                   "severity": "okay" if state == "ok" else "warning",
                   "source": "test"})

    def member_name(self, n):
        """Domains named by the pool's name_pattern (PREFIX + NN)."""
        import re
        return re.fullmatch(re.escape(self.prefix) + r"[0-9]{2,}", n) is not None

    def running(self):
        out = vstest.virsh("list", "--name").stdout.split()
        return sorted(n for n in out if self.member_name(n))

    def defined(self):
        return sorted(n for n in vstest.list_domains(self.prefix) if self.member_name(n))

    def volumes(self, pool="default"):
        vstest.virsh("pool-refresh", pool, check=False)
        out = vstest.virsh("vol-list", pool).stdout
        names = [line.split()[0] for line in out.splitlines() if line.strip()]
        return sorted(n for n in names if n.startswith(self.prefix) and
                      not n.startswith(self.template))

    def ctl(self, *args, stdin=None, check=False):
        return subprocess.run([VIRTSCALECTL(), "-c", self.conf, *args], input=stdin,
                              capture_output=True, text=True, timeout=30, check=check,
                              env={**os.environ, **vstest.sanitizer_env()})

    def wait_running(self, n, timeout=60, keep_sending=None):
        def ok():
            if keep_sending:
                self.notify(keep_sending)
            st = self.pool_status()
            return st["actual"] == n and len(self.running()) == n and st["phase"] != "scaling-out" \
                and st["phase"] != "scaling-in" and st
        return vstest.wait_for(ok, timeout, interval=0.5, what=f"{n} running instances")

    def cleanup(self):
        vstest.remove_domains(self.prefix)
        vstest.virsh("pool-refresh", "default", check=False)
        out = vstest.virsh("vol-list", "default", check=False).stdout
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0].startswith(self.prefix):
                vstest.virsh("vol-delete", parts[0], "--pool", "default", check=False)


def tagged(name):
    """Our metadata tag of a domain (pool, address) or None."""
    r = vstest.virsh("metadata", name, "https://virtscale.invalid/xmlns/virtscale/1", check=False)
    if r.returncode != 0 or "pool=" not in r.stdout:
        return None
    import re
    pool = re.search(r"pool=\"([^\"]*)\"", r.stdout)
    addr = re.search(r"address=\"([^\"]*)\"", r.stdout)
    return (pool.group(1) if pool else None, addr.group(1) if addr else None)
