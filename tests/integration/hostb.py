"""Host B of the integration test bed: a second libvirtd on this machine
(tests/hostb/start.sh, README there), reached over loopback TCP.

Its domains forward their guest ports on HOSTFWD_ADDRESS (host A's on
127.0.0.1) and live in their own cgroup partition, so a domain may have the
same name and id on both hosts. Its daemons are found by the bed's own pid
files only: host A runs the same programs.
"""
import os
import re
import signal

import vstest

SCRIPTS = os.path.join(vstest.SRCDIR, "tests", "hostb")
HOSTFWD_ADDRESS = "127.0.0.2"
PARTITION = "/machine/hostb"


class HostB:
    """A running host B with its state in @bed_dir, libvirtd on 127.0.0.1:@port."""

    def __init__(self, bed_dir, port=None):
        self.dir = str(bed_dir)
        self.port = port or vstest.free_port()
        self.uri = f"qemu+tcp://127.0.0.1:{self.port}/system"
        self.pid_file = os.path.join(self.dir, "libvirtd.pid")
        self.virtlogd_pid_file = os.path.join(self.dir, "virtlogd.pid")
        self.log = os.path.join(self.dir, "log", "libvirtd.log")
        self.hostfwd_address = HOSTFWD_ADDRESS
        self.partition = PARTITION

    def _script(self, name, *args, timeout=120):
        r = vstest.run([os.path.join(SCRIPTS, name), "--dir", self.dir, *args], check=False,
                       timeout=timeout)
        assert r.returncode == 0, f"{name} failed ({r.returncode}): {r.stderr}{self.log_tail()}"
        return r.stdout

    def start(self):
        """Starts a fresh host B (a stale one in the directory is wiped)."""
        out = self._script("start.sh", "--port", str(self.port), "--partition", self.partition)
        assert out.strip() == self.uri, out
        return self

    def restart(self):
        """Starts whichever of host B's daemons is not running (after
        kill9(), say), keeping its domains; returns once it answers."""
        self._script("start.sh", "--restart")
        return self

    def stop(self):
        """Destroys and undefines host B's domains, stops its daemons and
        leaves no process or mount of it (tests/hostb/stop.sh)."""
        self._script("stop.sh")

    def pid(self):
        """libvirtd's pid from the bed's pid file, or None when not running."""
        pid = vstest.pid_from_file(self.pid_file)
        return None if pid is None or vstest.process_gone(pid) else pid

    def kill9(self):
        """SIGKILL to host B's libvirtd (its domains keep running); returns
        once it is gone."""
        pid = self.pid()
        assert pid, f"host B's libvirtd is not running ({self.pid_file})"
        os.kill(pid, signal.SIGKILL)
        vstest.wait_for(lambda: vstest.process_gone(pid), 10, what="host B's libvirtd to die")

    def answers(self):
        return self.virsh("uri", check=False).returncode == 0

    def virsh(self, *args, **kw):
        return vstest.virsh(*args, uri=self.uri, **kw)

    def host_uuid(self):
        return host_uuid(self.uri)

    def log_tail(self, n=4000):
        try:
            with open(self.log, errors="replace") as f:
                return f"\n--- {self.log} ---\n" + f.read()[-n:]
        except FileNotFoundError:
            return ""


def host_uuid(uri):
    """The host UUID a libvirtd reports (<capabilities><host><uuid>)."""
    xml = vstest.virsh("capabilities", uri=uri).stdout
    start = xml.index("<uuid>") + len("<uuid>")
    return xml[start:xml.index("</uuid>", start)]


def define_web_template(name, port, bed=None, quota=50000, mem_mib=96):
    """The web guest's template (tests/guest), shut off, on host A or (with
    @bed) on host B: there its forward listens on the bed's address and it
    lives in the bed's partition. @quota: CPU µs per 100 ms, -1 no cap (a
    guest capped at half a CPU takes about twice as long to boot)."""
    env = dict(os.environ)
    if bed:
        env.update({"VS_TEST_URI": bed.uri, "VS_TEST_HOSTFWD_ADDRESS": bed.hostfwd_address,
                    "VS_TEST_PARTITION": bed.partition})
    r = vstest.run(["sh", os.path.join(vstest.SRCDIR, "tests", "guest", "define-template.sh"),
                    name, str(port), str(quota), str(mem_mib)], check=False, timeout=900,
                   env=env)
    assert r.returncode == 0, f"define-template.sh failed: {r.stdout}{r.stderr}"


def pool_names(uri, prefix, everything=False):
    """Pool members PREFIX + TAG-NN on @uri: the running ones, or all."""
    args = ["list", "--name"] + (["--all"] if everything else [])
    out = vstest.virsh(*args, uri=uri, check=False).stdout.split()
    return sorted(n for n in out if re.fullmatch(re.escape(prefix) + r"[a-z]+-[0-9]{2}", n))


def remove_everywhere(prefix, bed):
    """Every domain named PREFIX* on host A and host B, and the volumes of the
    shared images directory named so (seen through both hosts' pools)."""
    for uri in (vstest.URI, bed.uri):
        for name in vstest.virsh("list", "--all", "--name", uri=uri, check=False).stdout.split():
            if name.startswith(prefix):
                vstest.virsh("destroy", name, uri=uri, check=False)
                vstest.virsh("undefine", name, uri=uri, check=False)
    vstest.virsh("pool-refresh", "default", check=False)
    for line in vstest.virsh("vol-list", "default", check=False).stdout.splitlines():
        p = line.split()
        if p and p[0].startswith(prefix):
            vstest.virsh("vol-delete", p[0], "--pool", "default", check=False)
    vstest.virsh("pool-refresh", "default", uri=bed.uri, check=False)
