"""Usage accounting adds no libvirt call: the collector run with it
(vs-collect-dump --usage) and without it, on the same running domains and
cadence, sends the same libvirt RPCs (counted from libvirt's client log,
as bench/collector/rpc_count.py does), and the accounting did account.

Domains are named vst-acctrpc-*.
"""
import collections
import os
import re
import subprocess

import pytest

import vstest

pytestmark = pytest.mark.usefixtures("libvirtd")

PREFIX = "vst-acctrpc-"
KEEPALIVE_PROG = 0x6B656570
LINE = re.compile(r"RPC_CLIENT_MSG_TX_QUEUE: .* prog=(\d+) .* proc=(\d+) type=0 ")


@pytest.fixture
def running():
    vstest.remove_domains(PREFIX)
    try:
        for i in (1, 2):
            vstest.define_domain(f"{PREFIX}{i:02d}", mem_mib=48)
        yield
    finally:
        vstest.remove_domains(PREFIX)


def rpc_calls(tmp_path, label, extra):
    """libvirt calls (procedure -> count) of a 5 s run of the collector."""
    log = str(tmp_path / f"{label}.log")
    env = dict(os.environ, **vstest.sanitizer_env(), LIBVIRT_LOG_FILTERS="1:rpc.netclient",
               LIBVIRT_LOG_OUTPUTS=f"1:file:{log}")
    r = subprocess.run([vstest.build_path("tests", "tools", "vs-collect-dump"), "-q",
                        "-u", vstest.URI, "--interval-ms", "500", "--slow-ms", "1000",
                        "--duration", "5", *extra],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    calls = collections.Counter()
    with open(log, errors="replace") as f:
        for line in f:
            m = LINE.search(line)
            if m and int(m.group(1)) != KEEPALIVE_PROG:
                calls[int(m.group(2))] += 1
    assert calls, "no RPC logged"
    return calls


def test_accounting_adds_no_rpc(tmp_path, running):
    usage = str(tmp_path / "usage.state")
    off = rpc_calls(tmp_path, "off", [])
    on = rpc_calls(tmp_path, "on", ["--usage", usage])
    print(f"RPCs by procedure: accounting off {dict(off)}, on {dict(on)}")
    # the same procedures, as often give or take one round of the cadence
    assert set(on) == set(off), (on, off)
    for proc in off:
        assert abs(on[proc] - off[proc]) <= max(2, off[proc] // 5), (proc, on, off)
    assert sum(on.values()) <= sum(off.values()) * 1.1 + 2, (on, off)
    # and the accounting ran: both domains have a record in the saved file
    with open(usage) as f:
        text = f.read()
    names = re.findall(rf"^domain \S+ ({PREFIX}\d+) ", text, re.M)
    assert sorted(names) == [f"{PREFIX}01", f"{PREFIX}02"], text
