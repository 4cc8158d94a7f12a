"""pytest fixtures of the integration test bed; the helpers are in vstest.py."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
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
