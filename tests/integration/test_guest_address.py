"""A guest-reported backend address is the guest's word: virtscaled takes
the first acceptable one (never loopback, link-local, multicast, broadcast,
unspecified or the host's own; inside address_cidr, by default inside the
networks of the clone's libvirt network) and fails the scale-out at step
"address", rolled back, when there is none.

The clones use address = lease on a libvirt network of the test's own
(198.51.100.1/24 on bridge vstaddrbr0, no DHCP server, nothing sent): the
test writes the network's lease file with whatever a hostile guest would
get recorded for its MAC, and libvirt reports it as it is. agent and arp
go through the same rule (lib/vs-ipv4-net.c, unit tested in
tests/unit/test-ipv4-net.c)."""
import contextlib
import json
import os
import re
import time

import pytest

import vstest
from actbed import tagged

pytestmark = pytest.mark.usefixtures("libvirtd")

NET, BRIDGE = "vst-addr-net", "vstaddrbr0"
LEASE_DIR = "/var/lib/libvirt/dnsmasq"
NIC = f"<interface type='network'><source network='{NET}'/><model type='virtio'/></interface>"


@pytest.fixture
def leases(tmp_path):
    """set(mac, ips): the leases libvirt reports on the test's network, in
    that order."""
    xml = tmp_path / "net.xml"
    xml.write_text(f"<network><name>{NET}</name><bridge name='{BRIDGE}' stp='off'/>"
                   "<dns enable='no'/><ip address='198.51.100.1' prefix='24'/></network>")
    status = os.path.join(LEASE_DIR, f"{BRIDGE}.status")
    made_dir = not os.path.isdir(LEASE_DIR)

    def remove():
        vstest.virsh("net-destroy", NET, check=False)
        vstest.virsh("net-undefine", NET, check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(status)

    remove()
    vstest.virsh("net-define", str(xml))
    vstest.virsh("net-start", NET)
    os.makedirs(LEASE_DIR, exist_ok=True)

    def set_leases(mac, ips):
        entries = [{"ip-address": ip, "mac-address": mac, "hostname": "guest",
                    "expiry-time": int(time.time()) + 3600} for ip in ips]
        with open(status + ".tmp", "w") as f:
            json.dump(entries, f)
        os.replace(status + ".tmp", status)
    try:
        yield set_leases
    finally:
        remove()
        if made_dir:
            with contextlib.suppress(OSError):
                os.rmdir(LEASE_DIR)


def mac_of(name):
    m = re.search(r"<mac address='([0-9a-f:]{17})'", vstest.virsh("dumpxml", name).stdout)
    assert m, f"{name} has no MAC"
    return m.group(1)


def first_clone_running(a):
    return vstest.wait_for(lambda: a.running() and a.running()[0], 40,
                           what="the clone to start")


def uuid_of(name):
    r = vstest.virsh("domuuid", name, check=False)
    return r.stdout.strip() if r.returncode == 0 else None


def test_guest_reporting_nothing_acceptable_fails_at_address(make_actuator, leases):
    a = make_actuator("bad", "19370-19379", namespace="addr",
                      pool={"min": 1, "address": "lease", "probe": "tcp", "probe_timeout": 12})
    a.define_template(extra_devices=NIC)
    a.start()
    name = first_clone_running(a)
    uuid = uuid_of(name)
    # loopback first (as a guest agent lists it), then everything a guest
    # could claim: link-local, multicast, the host's own address on the
    # network, its broadcast address, and an address outside it
    bad = {"127.0.0.1": "loopback", "169.254.7.7": "link-local", "224.0.0.251": "multicast",
           "198.51.100.1": "an address of this host",
           "198.51.100.255": "the network's broadcast address",
           "203.0.113.7": "outside the accepted networks"}
    leases(mac_of(name), list(bad))
    st = vstest.wait_for(lambda: a.pool_status()["failures"] >= 1 and a.pool_status(), 60,
                         what="the scale-out to fail")
    err = st["last_error"]
    assert "no acceptable IPv4 address" in err, err
    for ip, why in bad.items():
        assert f"{ip} ({why})" in err, err
    assert "accepted: 198.51.100.0/24" in err, err
    assert re.search(r"failed at step address: no acceptable IPv4", a.proc.output())
    # rolled back: that clone is gone (a retry may reuse its name, not its UUID)
    vstest.wait_for(lambda: uuid_of(name) != uuid, 30, what=f"{name} ({uuid}) removed")
    a.proc.stop()
    vstest.wait_for(lambda: a.defined() == [] and a.volumes() == [], 30,
                    what="no clone or volume left")
    assert a.open_ops() == []


@pytest.mark.parametrize("cidr,chosen", [(None, "198.51.100.50"),
                                         ("203.0.113.0/24", "203.0.113.7")])
def test_first_acceptable_address_whatever_the_guest_lists(make_actuator, leases, cidr, chosen):
    # probe = none and lb = none: nothing is ever sent to these addresses
    pool = {"min": 1, "address": "lease", "probe": "none", "probe_timeout": 30}
    if cidr:
        pool["address_cidr"] = cidr
    a = make_actuator("good", "19380-19389", namespace="addr", pool=pool)
    a.define_template(extra_devices=NIC)
    a.start()
    name = first_clone_running(a)
    leases(mac_of(name), ["127.0.0.1", "203.0.113.7", "198.51.100.50"])
    a.wait_running(1, 60)
    assert tagged(name) == (a.pool_name, f"{chosen}:80")
    st = a.pool_status()
    assert st["failures"] == 0 and st["scale_outs"] >= 1
