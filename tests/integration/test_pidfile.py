"""The daemons' pid files (-p FILE, or [actuator] / [snmp] pid_file): the
file names the running daemon (the detached one, not its launcher), a
second daemon given the same file refuses to start with exit status 3 and
the holder's pid before it touches anything, a file left by a killed
daemon is taken over, and the file goes when the daemon stops on SIGTERM.
Every signal goes to the pid in the file. No domains; virtscale-snmp runs
without an AgentX master (it keeps retrying)."""
import os
import signal
import subprocess

import pytest

import vstest
from snmpbed import SnmpBed

pytestmark = pytest.mark.usefixtures("libvirtd")

VIRTSCALED = vstest.build_path("actuator", "virtscaled")
VIRTSCALE_SNMP = vstest.build_path("snmp-subagent", "virtscale-snmp")
ENV = {**os.environ, **vstest.sanitizer_env()}


def actuator_config(d, **actuator):
    """A virtscaled configuration of its own directory @d (socket, state),
    no pools; @actuator: more [actuator] keys."""
    os.makedirs(d, exist_ok=True)
    return vstest.write_config(os.path.join(d, "virtscale.conf"), {"actuator": {
        "socket": os.path.join(d, "act.sock"), "state_dir": os.path.join(d, "state"),
        "socket_group": "root", **actuator}})


def refused(argv, pid_file, holder):
    """Runs @argv, a daemon given the held @pid_file: it must exit 3 at
    once, naming the file and the pid holding it."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=ENV)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert f"{pid_file} is locked by a running daemon (pid {holder}); not starting" in r.stderr, \
        r.stderr
    return r


def dead_pid():
    """The pid of a process that has exited (a crashed daemon's, left in
    its file)."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_virtscaled_second_daemon_refused_file_removed_on_sigterm(tmp_path, daemons):
    pid_file = str(tmp_path / "virtscaled.pid")
    first_dir = str(tmp_path / "first")
    first = daemons([VIRTSCALED, "-f", "-c", actuator_config(first_dir), "-p", pid_file],
                    name="virtscaled-first", env=vstest.sanitizer_env(), pid_file=pid_file)
    pid = first.wait_pid_file()
    with open(pid_file) as f:
        assert f.read() == f"{pid}\n"
    vstest.wait_for(lambda: os.path.exists(os.path.join(first_dir, "act.sock")), 10,
                    what="the first daemon's socket")

    # a second one with a socket and state of its own: only the pid file
    # stands in its way, given by -p and by [actuator] pid_file
    second_dir = str(tmp_path / "second")
    refused([VIRTSCALED, "-f", "-c", actuator_config(second_dir), "-p", pid_file], pid_file, pid)
    refused([VIRTSCALED, "-f", "-c", actuator_config(second_dir, pid_file=pid_file)], pid_file,
            pid)
    # refused before the journal or the socket
    assert not os.path.exists(os.path.join(second_dir, "act.sock"))
    assert not os.path.exists(os.path.join(second_dir, "state", "journal"))
    # the first one is untouched, and so is its file
    assert first.alive() and vstest.pid_from_file(pid_file) == pid

    first.signal(signal.SIGTERM)
    assert first.proc.wait(30) == 0, first.output()
    assert not os.path.exists(pid_file), "the pid file outlived a clean stop"


def test_virtscaled_detached_takes_over_a_stale_file(tmp_path):
    """Without -f: the file names the detached daemon (the one answering
    on the socket), not the process that started it; a file a dead daemon
    left behind is taken over."""
    d = str(tmp_path / "detached")
    pid_file = str(tmp_path / "virtscaled.pid")
    stale = dead_pid()
    with open(pid_file, "w") as f:
        f.write(f"{stale}\n")
    conf = actuator_config(d, pid_file=pid_file)
    launcher = subprocess.run([VIRTSCALED, "-c", conf], capture_output=True, text=True,
                              timeout=30, env=ENV)
    pid = None
    try:
        assert launcher.returncode == 0, launcher.stderr
        pid = vstest.wait_for(lambda: (lambda p: p if p and p != stale else None)(
            vstest.pid_from_file(pid_file)), 10, what="the detached daemon's pid")
        assert not vstest.process_gone(pid)
        sock = os.path.join(d, "act.sock")
        vstest.wait_for(lambda: os.path.exists(sock), 10, what="the detached daemon's socket")
        reply = subprocess.run([vstest.build_path("actuator", "virtscalectl"), "-c", conf,
                                "status", "--json"], capture_output=True, text=True, timeout=30,
                               env=ENV)
        assert f'"pid":{pid},' in reply.stdout, reply

        os.kill(pid, signal.SIGTERM)
        vstest.wait_for(lambda: vstest.process_gone(pid), 30, what="the daemon to stop")
        assert not os.path.exists(pid_file), "the pid file outlived a clean stop"
    finally:
        if pid and not vstest.process_gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_virtscale_snmp_pid_file(tmp_path, daemons):
    bed = SnmpBed(tmp_path, daemons, agent_port=19109, trap_port=19110)
    sub = bed.start_subagent(wait=False)
    pid = sub.wait_pid_file()
    argv = [VIRTSCALE_SNMP, "-f", "-c", bed.conf]
    refused(argv + ["--pid-file", bed.sub_pid_file], bed.sub_pid_file, pid)
    # by [snmp] pid_file too
    conf = vstest.write_config(str(tmp_path / "by-key.conf"), {
        "snmp": {"agentx_socket": bed.sock, "pid_file": bed.sub_pid_file},
        "actuator": {"state_dir": bed.state}})
    refused([VIRTSCALE_SNMP, "-f", "-c", conf], bed.sub_pid_file, pid)
    assert sub.alive() and vstest.pid_from_file(bed.sub_pid_file) == pid

    # killed: the file stays; the next subagent takes it over
    sub.signal(signal.SIGKILL)
    sub.proc.wait(10)
    assert vstest.pid_from_file(bed.sub_pid_file) == pid
    again = bed.start_subagent(wait=False)
    assert again.wait_pid_file() != pid
    vstest.wait_for(lambda: f"taken over from pid {pid}," in again.output(), 10,
                    what="the takeover logged")

    again.signal(signal.SIGTERM)
    assert again.proc.wait(30) == 0, again.output()
    assert not os.path.exists(bed.sub_pid_file), "the pid file outlived a clean stop"
