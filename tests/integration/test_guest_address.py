"""A guest-reported backend address is the guest's word: virtscaled takes
the first acceptable one (never loopback, link-local, multicast, broadcast,
unspecified or the host's own; inside address_cidr) and fails the
scale-out at step "address", rolled back, when there is none.

The clones use address = lease, the real path: libvirt reads the lease
file of the clone's libvirt network and reports each lease for the
clone's MAC as it is. The test writes that file with whatever a hostile
guest would get recorded.

No address outside 127.0.0.0/8 is ever configured in this host's network
namespace, not even a link-local one:
- the test's libvirt network has no <ip> element, so libvirt puts no
  address on its bridge, disables IPv6 on it and starts no dnsmasq; it
  still reports the leases of its lease file
  (/var/lib/libvirt/dnsmasq/BRIDGE.status);
- the network's MTU is below IPv6's minimum (1280), so the kernel gives
  the clones' tap devices, which libvirt creates in this namespace, no
  IPv6 (and so no fe80:: address) either;
- an `ip monitor` runs for the whole test, and every test checks that no
  address appeared on the bridge or on any port of it, and that none is
  there while the clone runs.
The networks in address_cidr (198.51.100.0/24, 203.0.113.0/24) are only
numbers in a config and a lease file: nothing is sent to them (probe and
lb = none for the accepted address, and the refused case fails before
its probe).

A network without <ip> gives no default networks, so the default of
address_cidr (the networks of the clone's libvirt network, from its <ip>
elements) is covered by the unit test of ops/network-xml.c
(tests/unit/test-actuator.c); here it shows as "any unicast address" when
address_cidr is not set. agent and arp go through the same rule
(lib/vs-ipv4-net.c, unit tested in tests/unit/test-ipv4-net.c); a guest
agent cannot be tested with an OS-less guest."""
import contextlib
import json
import os
import re
import subprocess
import threading
import time

import pytest

import vstest
from actbed import tagged

pytestmark = pytest.mark.usefixtures("libvirtd")

NET, BRIDGE = "vst-addr-net", "vstaddrbr0"
LEASE_DIR = "/var/lib/libvirt/dnsmasq"
NIC = f"<interface type='network'><source network='{NET}'/><model type='virtio'/></interface>"
# below IPv6's minimum MTU: the kernel gives the bridge's ports no IPv6
MTU = 1200


class Network:
    """The test's libvirt network and what it reports."""

    def __init__(self, monitor):
        self.monitor = monitor
        self.status = os.path.join(LEASE_DIR, f"{BRIDGE}.status")

    def set_leases(self, mac, ips):
        """The leases libvirt reports for @mac, in that order."""
        entries = [{"ip-address": ip, "mac-address": mac, "hostname": "guest",
                    "expiry-time": int(time.time()) + 3600} for ip in ips]
        with open(self.status + ".tmp", "w") as f:
            json.dump(entries, f)
        os.replace(self.status + ".tmp", self.status)

    def assert_no_address(self):
        """Neither the bridge nor a port of it has, or ever had, an address."""
        devices = json.loads(subprocess.run(
            ["ip", "-j", "addr", "show", "dev", BRIDGE], check=True, capture_output=True,
            text=True).stdout)
        devices += json.loads(subprocess.run(
            ["ip", "-j", "addr", "show", "master", BRIDGE], check=True, capture_output=True,
            text=True).stdout or "[]")
        assert devices and devices[0]["ifname"] == BRIDGE, devices
        for d in devices:
            assert d.get("addr_info", []) == [], f"{d['ifname']} has an address: {d}"
        seen = self.monitor.addresses_on_bridge()
        assert seen == [], f"an address appeared on {BRIDGE} or a port of it: {seen}"


class AddressMonitor:
    """`ip -o monitor link address` from before the network exists to its
    end: which devices were the bridge or a port of it, and every address
    event."""

    def __init__(self):
        self.lines = []
        self.proc = subprocess.Popen(["ip", "-o", "monitor", "link", "address"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        time.sleep(0.2)  # subscribed before anything is created

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.reader.join(5)

    def addresses_on_bridge(self):
        """The address events seen so far on the bridge or a port of it."""
        time.sleep(0.5)  # let pending events arrive
        assert self.proc.poll() is None or self.proc.returncode in (0, -15), self.lines
        return address_events_on(BRIDGE, list(self.lines))


def address_events_on(bridge, lines):
    """The address events of `ip -o monitor link address` @lines that concern
    @bridge or a device that was a port of it (by interface index)."""
    ours, events = set(), []
    for line in lines:
        m = re.match(r"(?:Deleted )?(\d+): (\S+?):? ", line)
        if not m:
            continue
        if re.search(r"\binet6? ", line):
            events.append((m.group(1), line))
        elif m.group(2) == bridge or re.search(rf"\bmaster {re.escape(bridge)}\b", line):
            ours.add(m.group(1))
    return [line for index, line in events if index in ours]


@pytest.fixture
def network(tmp_path):
    """A libvirt network without any address: Network."""
    xml = tmp_path / "net.xml"
    xml.write_text(f"<network><name>{NET}</name><bridge name='{BRIDGE}' stp='off'/>"
                   f"<mtu size='{MTU}'/><dns enable='no'/></network>")
    made_dir = not os.path.isdir(LEASE_DIR)

    def remove():
        vstest.virsh("net-destroy", NET, check=False)
        vstest.virsh("net-undefine", NET, check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(LEASE_DIR, f"{BRIDGE}.status"))

    remove()
    monitor = AddressMonitor()
    try:
        vstest.virsh("net-create", str(xml))
        os.makedirs(LEASE_DIR, exist_ok=True)
        net = Network(monitor)
        net.assert_no_address()
        yield net
    finally:
        remove()
        seen = monitor.addresses_on_bridge()
        monitor.stop()
        if made_dir:
            with contextlib.suppress(OSError):
                os.rmdir(LEASE_DIR)
    assert seen == [], f"an address appeared on {BRIDGE} or a port of it: {seen}"


def host_address():
    """One IPv4 address this host already has outside 127.0.0.0/8, or None."""
    out = json.loads(subprocess.run(["ip", "-j", "-4", "addr"], check=True,
                                    capture_output=True, text=True).stdout)
    for dev in out:
        for a in dev.get("addr_info", []):
            if not a["local"].startswith("127."):
                return a["local"]
    return None


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


def test_guest_reporting_nothing_acceptable_fails_at_address(network, make_actuator):
    a = make_actuator("bad", "19370-19379", namespace="addr",
                      pool={"min": 1, "address": "lease", "address_cidr": "198.51.100.0/24",
                            "probe": "tcp", "probe_timeout": 12})
    a.define_template(extra_devices=NIC)
    a.start()
    name = first_clone_running(a)
    uuid = uuid_of(name)
    network.assert_no_address()
    # loopback first (as a guest agent lists it), then everything a guest
    # could claim: link-local, multicast, one of this host's addresses,
    # the network's own and broadcast addresses, an address outside it
    bad = {"127.0.0.1": "loopback", "169.254.7.7": "link-local", "224.0.0.251": "multicast",
           "198.51.100.0": "the network's own address",
           "198.51.100.255": "the network's broadcast address",
           "203.0.113.7": "outside the accepted networks"}
    own = host_address()
    if own:
        bad[own] = "an address of this host"
    network.set_leases(mac_of(name), list(bad))
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
    network.assert_no_address()


@pytest.mark.parametrize("cidr,chosen", [("198.51.100.0/24", "198.51.100.50"),
                                         ("203.0.113.0/24", "203.0.113.7"),
                                         # the network has no <ip>: any unicast address
                                         (None, "203.0.113.7")])
def test_first_acceptable_address_whatever_the_guest_lists(network, make_actuator, cidr, chosen):
    # probe = none and lb = none: nothing is ever sent to these addresses
    pool = {"min": 1, "address": "lease", "probe": "none", "probe_timeout": 30}
    if cidr:
        pool["address_cidr"] = cidr
    a = make_actuator("good", "19380-19389", namespace="addr", pool=pool)
    a.define_template(extra_devices=NIC)
    a.start()
    name = first_clone_running(a)
    listed = ["127.0.0.1", "169.254.1.1"] + ([host_address()] if host_address() else [])
    network.set_leases(mac_of(name), listed + ["203.0.113.7", "198.51.100.50"])
    a.wait_running(1, 60)
    assert tagged(name) == (a.pool_name, f"{chosen}:80")
    st = a.pool_status()
    assert st["failures"] == 0 and st["scale_outs"] >= 1
    network.assert_no_address()
