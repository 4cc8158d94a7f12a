"""Command-line conventions of every installed program: --help and -h print
the usage on stdout and exit 0, --version prints "PROGRAM VERSION" and
exits 0, long options work alongside the short ones, virtscalectl has a
help of its own for each command, and the man pages list the long options.
The programs are those of the build tree, or of another place through
PROGRAMS (the package test runs these checks on the installed ones)."""
import os
import re
import signal
import subprocess

import pytest

import vstest

PROGRAMS = {
    "virtscale-snmp": lambda: vstest.build_path("snmp-subagent", "virtscale-snmp"),
    "virtscaled": lambda: vstest.build_path("actuator", "virtscaled"),
    "virtscalectl": lambda: vstest.build_path("actuator", "virtscalectl"),
}
CTL_COMMANDS = ("status", "scale", "notify", "check-config", "test-mail", "usage", "help")
DAEMON_LONG_OPTIONS = ("--foreground", "--debug", "--config", "--pid-file", "--version", "--help")
MAN = {"virtscale-snmp": "docs/virtscale-snmp.8", "virtscaled": "docs/virtscaled.8",
       "virtscalectl": "docs/virtscalectl.1"}


def version():
    with open(os.path.join(vstest.SRCDIR, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[virtscale\], \[([^]]+)\]", f.read()).group(1)


def run(argv, **kw):
    env = dict(os.environ, **vstest.sanitizer_env())
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30, **kw)


def check_help_and_version(name, exe):
    """The conventions every program follows (used by the package test too)."""
    for opt in ("--help", "-h"):
        r = run([exe, opt])
        assert r.returncode == 0, (opt, r.stderr)
        assert r.stdout.lower().startswith("usage:"), r.stdout
        assert r.stderr == ""
        expected = DAEMON_LONG_OPTIONS if name != "virtscalectl" else (
            "--config", "--socket", "--help", "--version", *CTL_COMMANDS)
        for word in expected:
            assert word in r.stdout, (word, r.stdout)
    for opt in ("--version", "-V"):
        r = run([exe, opt])
        assert r.returncode == 0 and r.stdout == f"{name} {version()}\n", (opt, r.stdout)
    r = run([exe, "--no-such-option"])
    assert r.returncode == 2 and r.stdout == "", r.stdout


def check_ctl_command_help(exe):
    for cmd in CTL_COMMANDS:
        by_help = run([exe, "help", cmd])
        by_option = run([exe, cmd, "--help"])
        assert by_help.returncode == 0 and by_option.returncode == 0, by_help.stderr
        assert by_help.stdout == by_option.stdout
        assert by_help.stdout.startswith("Usage: virtscalectl ") and f" {cmd}" in \
            by_help.stdout.splitlines()[0], by_help.stdout
        assert "Exit status" in by_help.stdout or cmd == "help"
    r = run([exe, "help", "no-such-command"])
    assert r.returncode == 2 and "no-such-command" in r.stderr and r.stdout == ""
    assert run([exe, "help"]).stdout == run([exe, "--help"]).stdout


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_help_and_version(name):
    check_help_and_version(name, PROGRAMS[name]())


def test_virtscalectl_help_of_each_command():
    check_ctl_command_help(PROGRAMS["virtscalectl"]())


@pytest.mark.parametrize("name", sorted(MAN))
def test_man_pages_list_the_long_options(name):
    with open(os.path.join(vstest.SRCDIR, MAN[name])) as f:
        text = f.read().replace("\\-", "-")
    options = DAEMON_LONG_OPTIONS if name != "virtscalectl" else (
        "--config", "--socket", "--json", "--format", "--pool", "--state", "--help",
        "--version")
    for opt in options:
        assert opt in text, (name, opt)
    if name != "virtscalectl":
        assert ".SH SIGNALS" in text and "SIGHUP" in text and "SIGTERM" in text


@pytest.mark.usefixtures("libvirtd")
def test_daemons_take_long_options(tmp_path, daemons):
    """--foreground --debug --config --pid-file, spelled out: each daemon
    starts on them, names itself in its pid file, and stops on SIGTERM."""
    conf = vstest.write_config(str(tmp_path / "virtscale.conf"), {
        "snmp": {"agentx_socket": str(tmp_path / "no-master.sock"), "agentx_ping_interval": 1},
        "actuator": {"socket": str(tmp_path / "act.sock"), "state_dir": str(tmp_path / "state"),
                     "socket_group": "root"}})
    for name in ("virtscaled", "virtscale-snmp"):
        pid_file = str(tmp_path / f"{name}.pid")
        d = daemons([PROGRAMS[name](), "--foreground", "--debug", "--config", conf,
                     "--pid-file", pid_file], name=name, env=vstest.sanitizer_env(),
                    pid_file=pid_file)
        pid = d.wait_pid_file()
        assert d.alive()
        d.signal(signal.SIGTERM)
        vstest.wait_for(lambda: not d.alive(), 20, what=f"{name} to stop on SIGTERM")
        assert not os.path.exists(pid_file)
        assert pid > 0
