"""Without -f the daemons detach and log to syslog (facility daemon), not to
the terminal. Each runs in a mount namespace of its own whose /dev/log is
a datagram socket of the test (the host's /dev is not touched), is found
by its pid file, and stops on SIGTERM."""
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import vstest

pytestmark = pytest.mark.usefixtures("libvirtd")

# /dev in the namespace: a tmpfs with the devices the programs open and
# /dev/log pointing at the test's socket
WRAPPER = """set -e
mkdir -p "$1/host-dev"
mount --rbind /dev "$1/host-dev"
mount -t tmpfs tmpfs /dev
for n in null zero random urandom full; do
	touch "/dev/$n"
	mount --bind "$1/host-dev/$n" "/dev/$n"
done
ln -s "$1/log.sock" /dev/log
shift
exec "$@"
"""
DAEMON_NOTICE = "<29>"  # LOG_DAEMON | LOG_NOTICE


class SyslogSink:
    """A /dev/log stand-in: collects every datagram."""

    def __init__(self, path):
        self.messages = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                self.messages.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                continue

    def stop(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def pid_gone(pid):
    try:
        os.kill(pid, 0)
        return False
    except ProcessLookupError:
        return True


@pytest.mark.parametrize("name,path", [("virtscaled", ("actuator", "virtscaled")),
                                       ("virtscale-snmp", ("snmp-subagent", "virtscale-snmp"))])
def test_detached_daemon_logs_to_syslog(tmp_path, name, path):
    d = str(tmp_path)
    conf = vstest.write_config(os.path.join(d, "virtscale.conf"), {
        "snmp": {"agentx_socket": os.path.join(d, "no-master.sock")},
        "actuator": {"socket": os.path.join(d, "act.sock"), "state_dir": os.path.join(d, "state"),
                     "socket_group": "root"}})
    pid_file = os.path.join(d, f"{name}.pid")
    sink = SyslogSink(os.path.join(d, "log.sock"))
    pid = None
    try:
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", WRAPPER,
                            "sh", d, vstest.build_path(*path), "-c", conf, "-p", pid_file],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, **vstest.sanitizer_env()))
        # the launcher returns once the daemon has detached, and says nothing
        assert r.returncode == 0, r.stderr
        assert r.stdout == "" and r.stderr == "", r.stderr
        pid = int(vstest.wait_for(lambda: open(pid_file).read().strip() or None
                                  if os.path.exists(pid_file) else None, 10,
                                  what="the pid file"))
        tag = f"{name}[{pid}]:"
        vstest.wait_for(lambda: any(tag in m for m in sink.messages), 15,
                        what=f"a syslog message of {tag}")
        os.kill(pid, signal.SIGTERM)
        vstest.wait_for(lambda: pid_gone(pid), 20, what=f"{name} to stop")
        pid = None
        time.sleep(0.3)
        ours = [m for m in sink.messages if tag in m]
        assert all(m.startswith("<") for m in ours)
        assert any(m.startswith(DAEMON_NOTICE) for m in ours), ours
        assert not os.path.exists(pid_file)
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
        sink.stop()
