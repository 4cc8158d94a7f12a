"""pytest fixtures of the integration test bed; the helpers are in vstest.py."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import actbed  # noqa: E402
import hostb as hostb_bed  # noqa: E402
import mailbed  # noqa: E402
import vstest  # noqa: E402


@pytest.fixture
def logdir(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    return str(d)


@pytest.fixture
def daemons(logdir):
    """Starts daemons for a test and stops them all after it, printing their
    logs when the test failed (pytest shows captured output)."""
    started = []

    def start(argv, **kw):
        d = vstest.Daemon(argv, logdir, **kw)
        started.append(d)
        return d

    yield start
    for d in reversed(started):
        d.stop()
        print(f"----- {d.name} log -----")
        print(d.output()[-20000:])


@pytest.fixture(scope="session")
def libvirtd():
    """libvirtd answering on qemu:///system (scripts/setup-deps.sh starts it)."""
    r = vstest.virsh("version", check=False)
    if r.returncode != 0:
        pytest.fail("libvirtd is not running: run scripts/setup-deps.sh")
    vstest.ensure_halt_disk()
    return vstest.URI


@pytest.fixture(scope="session")
def hostb(libvirtd, tmp_path_factory):
    """Host B: a second libvirtd on this machine (tests/hostb), a
    hostb.HostB with .uri, .pid_file, .restart(), .kill9(). Started once per
    session under the session's temporary directory; stopped at its end,
    leaving no process, mount or domain of it, also when a test failed."""
    bed = hostb_bed.HostB(tmp_path_factory.mktemp("hostb"))
    try:
        yield bed.start()
    finally:
        bed.stop()


@pytest.fixture
def make_actuator(tmp_path, daemons):
    """make_actuator(tag, ports, template=False, **kw): an actbed.Actuator of
    the test (its domains and volumes removed before and after; with
    template=True its template is defined)."""
    made = []

    def make(tag, ports, template=False, **kw):
        a = actbed.Actuator(tmp_path / tag, daemons, tag, ports, **kw)
        a.cleanup()
        if template:
            a.define_template()
        made.append(a)
        return a
    yield make
    for a in made:
        if a.proc:
            a.proc.stop()
        a.cleanup()
        vstest.remove_domain(a.template)


@pytest.fixture
def lb_backends():
    """Three HTTP backends on 127.0.0.2-4 for the load-balancer tests."""
    bs = [vstest.HttpBackend(f"127.0.0.{i}") for i in (2, 3, 4)]
    yield bs
    for b in bs:
        b.stop()


@pytest.fixture
def smtp(daemons, tmp_path):
    """smtp(*options, start=True, name="smtpd"): a mailbed.SmtpServer of the
    test on a free loopback port, its messages under TMP/NAME-mail."""
    def make(*extra, start=True, name="smtpd"):
        s = mailbed.SmtpServer(daemons, tmp_path / f"{name}-mail", name=name, extra=extra)
        return s.start() if start else s
    return make
