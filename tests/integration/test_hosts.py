"""Pools over two real hypervisors: host A (this machine's libvirtd) and host
B (tests/hostb: a second libvirtd in its own mount namespace, on loopback
TCP), real web guests (tests/guest), a real nginx and a real SMTP server.

- fewest (the Luban paper): a pool of hosts "b a" goes 2 -> 6 -> 2; clones
  alternate hosts starting with B, host_max = 3 holds, the scale-in keeps
  one per host (host_min = 1); both hosts' guests answer through nginx.
- weighted (the Xen paper): a CPU burner on A; B receives more clones.
- failover: host B's libvirtd killed with SIGKILL under load; after
  host_grace its instance is lost, nginx sends only to host A's, the pool is
  refilled on A, a host-lost mail arrives; B restarted: its old instance is
  removed (the pool is at max without it), host-back mailed, nothing left
  twice or leaked on either host.
- an SNMP walk (vsHostTable, the backends' host) and the collectd values
  show both hosts.

- a returned host's instance adopted when max leaves room for it.
- the template is the operator's, on each host: missing on B, a scale-out
  placed there is blocked naming B.

Domains vst-hosts-*, hostfwd ports 19920-19959 (on 127.0.0.1 for A, on
127.0.0.2 for B)."""
import json
import os
import re
import time

import pytest

import hostb as hostb_bed
import lb_bed
import loopbed
import vstest
from actbed import Actuator

pytestmark = pytest.mark.usefixtures("libvirtd")

PREFIX = "vst-hosts-"
TEMPLATE = "vst-hosts-tmpl"
BOOT = 240  # seconds a clone may take to boot and pass the probe on a busy host
A = "qemu:///system"


def define_template(port, hostb=None):
    # no CPU cap: nothing here measures a guest's CPU, and it boots in half the time
    hostb_bed.define_web_template(TEMPLATE, port, hostb, quota=-1)


def names_on(uri, everything=False):
    """Our pool's domains on @uri (running ones, or all with @everything)."""
    return hostb_bed.pool_names(uri, PREFIX, everything)


def remove_everything(hostb):
    hostb_bed.remove_everywhere(PREFIX, hostb)


def uuid_on(uri, name):
    return vstest.virsh("domuuid", name, uri=uri).stdout.strip()


@pytest.fixture
def two_hosts(hostb):
    """The web template on both hosts; everything of ours removed before and
    after, on both."""
    remove_everything(hostb)
    define_template(19959)
    define_template(19959, hostb)
    yield hostb
    remove_everything(hostb)


class Pool:
    """virtscaled with hosts a (host A) and b (host B) and one pool."""

    def __init__(self, tmp, daemons, hostb, tag, keys, sections=None):
        self.hostb = hostb
        self.tag = tag
        pool = {"template": TEMPLATE, "min": 2, "max": 6, "policy": "average",
                "address": "hostfwd", "probe": "http:/", "probe_timeout": BOOT,
                "cooldown": 1, "stabilization": 0, "repeat_interval": 1,
                "drain_timeout": 1, "shutdown_timeout": 3, **keys}
        self.act = Actuator(tmp, daemons, tag, pool["hostfwd_ports"], pool=pool,
                            namespace="hosts", sections={
                                "host a": {"uri": A},
                                "host b": {"uri": hostb.uri,
                                           "hostfwd_address": hostb.hostfwd_address},
                                **(sections or {})})
        # the name pattern of the module, the pool's tag inside it
        self.act.pool["name_pattern"] = f"{PREFIX}{tag}-%02d"
        self.act.pool["template"] = TEMPLATE
        self.act.write_config()
        self.name = self.act.pool_name
        self.placed = {}  # member -> host name, as first seen running

    def start(self):
        self.act.start()
        return self

    def status(self):
        return self.act.status()

    def on(self):
        """{"a": [...], "b": [...]}: running members per host, from libvirt."""
        return {"a": [n for n in names_on(A) if f"-{self.tag}-" in n],
                "b": [n for n in names_on(self.hostb.uri) if f"-{self.tag}-" in n]}

    def wait(self, n, timeout, check=None):
        """Until n run in libvirt and per virtscaled, and nothing is under way;
        @check(on) is asserted at every poll."""
        def ok():
            on = self.on()
            for host, names in on.items():
                for name in names:
                    self.placed.setdefault(name, host)
            if check:
                check(on)
            st = self.status()
            pool = st["pools"][0]
            return (pool["phase"] in ("idle", "cooldown") and pool["actual"] == n and
                    len(on["a"]) + len(on["b"]) == n and st)
        return vstest.wait_for(ok, timeout, interval=1, what=f"{n} running over two hosts")

    def scale(self, n):
        r = self.act.ctl("scale", self.name, str(n))
        assert r.returncode == 0, r.stdout + r.stderr


def host_max_3(on):
    assert len(on["a"]) <= 3 and len(on["b"]) <= 3, on


def test_fewest_alternates_hosts_2_6_2(two_hosts, tmp_path, daemons):
    hostb = two_hosts
    nginx = lb_bed.Nginx(tmp_path, daemons, port=19958)
    pool = Pool(tmp_path / "act", daemons, hostb, "few",
                {"hosts": "b a", "host_max": 3, "host_min": 1, "placement": "fewest",
                 "hostfwd_ports": "19930-19939", "lb": "nginx"},
                sections={"nginx": nginx.nginx_keys}).start()
    try:
        pool.wait(2, 2 * BOOT, host_max_3)
        # ties go to host B (listed first), then the host with fewer
        assert pool.placed == {f"{PREFIX}few-01": "b", f"{PREFIX}few-02": "a"}, pool.placed

        pool.scale(6)
        st = pool.wait(6, 6 * BOOT, host_max_3)
        on = pool.on()
        assert on == {"a": [f"{PREFIX}few-02", f"{PREFIX}few-04", f"{PREFIX}few-06"],
                      "b": [f"{PREFIX}few-01", f"{PREFIX}few-03", f"{PREFIX}few-05"]}, on
        # each clone's forward listens on its host's address, and answers there
        insts = {i["name"]: i for i in st["pools"][0]["instances"]}
        for name in on["b"]:
            assert insts[name]["address"].startswith("127.0.0.2:"), insts[name]
            assert insts[name]["host"] == hostb.uri
        for name in on["a"]:
            assert insts[name]["address"].startswith("127.0.0.1:"), insts[name]
        # traffic through nginx reaches the guests of both hosts
        uuids = {uuid_on(A, n): "a" for n in on["a"]}
        uuids.update({uuid_on(hostb.uri, n): "b" for n in on["b"]})
        seen = loopbed.answered_by(nginx.url, 30)
        assert set(seen) <= set(uuids), seen
        assert {uuids[u] for u in seen} == {"a", "b"}, seen
        hosts = {h["name"]: h for h in st["hosts"]}
        assert hosts["a"]["instances"] == 3 and hosts["b"]["instances"] == 3, hosts
        assert hosts["b"]["answers"] and not hosts["b"]["lost"], hosts
        assert hosts["b"]["uri"] == hostb.uri

        # scale-in from the host with the most, never below one per host
        pool.scale(2)
        pool.wait(2, 120)
        on = pool.on()
        assert len(on["a"]) == 1 and len(on["b"]) == 1, on
        # what virtscalectl status prints names each instance's host
        r = pool.act.ctl("status")
        assert r.returncode == 0, r.stderr
        assert re.search(rf"{on['b'][0]} .*host=b\b", r.stdout), r.stdout
        assert re.search(r"^host b \(qemu\+tcp://127\.0\.0\.1:\d+/system\): answers, 1 instance",
                         r.stdout, re.M), r.stdout
        # nothing left of the stopped ones, on either host
        assert names_on(A, True) == on["a"] and names_on(hostb.uri, True) == on["b"]
        assert not pool.act.open_ops(), pool.act.journal_text()
    finally:
        pool.act.proc.stop()


def test_weighted_busy_host_gets_fewer_clones(two_hosts, tmp_path, daemons):
    hostb = two_hosts
    burner = PREFIX + "burn"
    spin = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{vstest.ensure_spin_disk()}'/><target dev='vda' bus='virtio'/>"
            f"<readonly/></disk>")
    vstest.define_domain(burner, disk=False, extra_devices=spin, virt_type="qemu")
    # host A first: a tie would go to A, so only the score can send clones to B
    pool = Pool(tmp_path / "act", daemons, hostb, "wgt",
                {"hosts": "a b", "min": 0, "max": 3, "placement": "weighted",
                 "placement_rtt_weight": 0, "hostfwd_ports": "19940-19949", "lb": "none",
                 "probe": "tcp"}).start()
    try:
        # both hosts measured twice (the host watch samples every 2 s)
        def measured():
            hosts = {h["name"]: h for h in pool.status()["hosts"]}
            return all(h["cpu_idle"] >= 0 for h in hosts.values()) and hosts
        hosts = vstest.wait_for(measured, 30, interval=1, what="both hosts measured")
        # the burner's vCPU is busy: A's domains leave less of its CPUs idle
        assert hosts["a"]["cpu_idle"] < hosts["b"]["cpu_idle"] - 1500, hosts
        pool.scale(3)
        pool.wait(3, 3 * BOOT)
        on = pool.on()
        assert len(on["a"]) < len(on["b"]), on
    finally:
        pool.act.proc.stop()
        vstest.remove_domain(burner)


def host_loss_pool(tmp_path, daemons, hostb, name, max_, ports, nginx, mail):
    """A started pool of at least 2 over a and b behind @nginx, at most 2 per
    host, a host lost after 6 s of silence, alerts to @mail."""
    return Pool(tmp_path / "act", daemons, hostb, name,
                {"hosts": "a b", "min": 2, "max": max_, "host_max": 2,
                 "hostfwd_ports": ports, "lb": "nginx"},
                sections={"nginx": nginx.nginx_keys,
                          "libvirt": {"host_grace": 6},
                          "mail": {"server": f"127.0.0.1:{mail.port}", "to": "ops@localhost",
                                   "rate_limit": 0}}).start()


def test_host_b_killed_failover_and_return(two_hosts, tmp_path, daemons, smtp):
    hostb = two_hosts
    mail = smtp()
    nginx = lb_bed.Nginx(tmp_path, daemons, port=19957)
    pool = host_loss_pool(tmp_path, daemons, hostb, "fail", 2, "19950-19956", nginx, mail)
    load = None
    try:
        pool.wait(2, 2 * BOOT)
        before = pool.on()
        assert len(before["a"]) == 1 and len(before["b"]) == 1, before
        lost = before["b"][0]
        lost_uuid = uuid_on(hostb.uri, lost)
        load = loopbed.Wrk(nginx.url + "/", 4, str(tmp_path / "wrk.log"), think_ms=50)
        time.sleep(2)

        killed = time.monotonic()
        hostb.kill9()
        # its guest still runs (QEMU outlives libvirtd) and still answers on
        # 127.0.0.2, but after host_grace it counts as lost: out of nginx,
        # refilled on host A
        def refilled():
            st = pool.status()
            p = st["pools"][0]
            insts = {i["name"]: i for i in p["instances"]}
            return (p["actual"] == 2 and insts.get(lost, {}).get("lost") and
                    len(pool.on()["a"]) == 2 and p["phase"] in ("idle", "cooldown") and st)
        st = vstest.wait_for(refilled, 6 + BOOT, interval=1, what="the pool refilled on host A")
        assert time.monotonic() - killed >= 6, "lost before host_grace"
        hosts = {h["name"]: h for h in st["hosts"]}
        assert hosts["b"]["lost"] and not hosts["b"]["answers"], hosts
        servers = re.findall(r"server (127\.0\.0\.\d+:\d+)", nginx.upstream_text())
        assert servers and all(s.startswith("127.0.0.1:") for s in servers), servers
        seen = loopbed.answered_by(nginx.url, 20)
        a_uuids = {uuid_on(A, n) for n in pool.on()["a"]}
        assert set(seen) <= a_uuids and lost_uuid not in seen, seen
        vstest.wait_for(lambda: "host-lost" in mail.events(), 30, what="the host-lost mail")

        # host B back: its old instance is one too many and goes
        peak = []
        hostb.restart()

        def settled():
            p = pool.status()["pools"][0]
            on = pool.on()
            peak.append(len(re.findall(r"^\tserver ", nginx.upstream_text(), re.M)))
            return (not any(i.get("lost") for i in p["instances"]) and
                    not names_on(hostb.uri, True) and len(on["a"]) == 2 and
                    p["phase"] in ("idle", "cooldown") and p)
        vstest.wait_for(settled, 120, interval=0.5, what="host B's old instance removed")
        assert max(peak) <= 2, peak  # never more than max in the balancer
        vstest.wait_for(lambda: "host-back" in mail.events(), 30, what="the host-back mail")
        body = [m["msg"].get_body().get_content() for m in mail.messages()
                if m["msg"]["X-Virtscale-Event"] == "host-lost"][0]
        assert lost in body and "b" in body, body
        body = [m["msg"].get_body().get_content() for m in mail.messages()
                if m["msg"]["X-Virtscale-Event"] == "host-back"][0]
        assert "0 of its instance(s) kept, 1 removed" in body, body
        # nothing twice, nothing leaked: two domains on A, their volumes only
        assert names_on(A, True) == pool.on()["a"]
        vols = loopbed.volumes(PREFIX + "fail-")
        assert vols == sorted(f"{n}.qcow2" for n in pool.on()["a"]), vols
        assert not pool.act.open_ops(), pool.act.journal_text()
    finally:
        if load:
            load.stop()
        pool.act.proc.stop()
        if not hostb.answers():
            hostb.restart()


def test_host_b_returns_with_room_its_instance_is_adopted(two_hosts, tmp_path, daemons, smtp):
    """The other way back: host B lost and the pool refilled on A, but max
    leaves room for B's old instance, which still runs and answers its
    probe: it is adopted (the same domain, not a new one), served by nginx
    again, and the host-back mail says so; max still holds."""
    hostb = two_hosts
    mail = smtp()
    nginx = lb_bed.Nginx(tmp_path, daemons, port=19928)
    pool = host_loss_pool(tmp_path, daemons, hostb, "back", 3, "19920-19923", nginx, mail)
    try:
        pool.wait(2, 2 * BOOT)
        before = pool.on()
        assert len(before["a"]) == 1 and len(before["b"]) == 1, before
        back = before["b"][0]
        back_uuid = uuid_on(hostb.uri, back)

        hostb.kill9()
        def refilled():
            p = pool.status()["pools"][0]
            insts = {i["name"]: i for i in p["instances"]}
            return (p["actual"] == 2 and insts.get(back, {}).get("lost") and
                    len(pool.on()["a"]) == 2 and p["phase"] in ("idle", "cooldown"))
        vstest.wait_for(refilled, 6 + BOOT, interval=1, what="the pool refilled on host A")
        vstest.wait_for(lambda: "host-lost" in mail.events(), 30, what="the host-lost mail")

        peak = []
        hostb.restart()
        def adopted():
            p = pool.status()["pools"][0]
            insts = {i["name"]: i for i in p["instances"]}
            servers = re.findall(r"server (127\.0\.0\.\d+:\d+)", nginx.upstream_text())
            peak.append(len(servers))
            return (back in insts and not insts[back].get("lost") and
                    insts[back]["host"] == hostb.uri and p["actual"] == 3 and
                    any(s.startswith("127.0.0.2:") for s in servers) and p)
        vstest.wait_for(adopted, 120, interval=0.5, what="host B's old instance adopted")
        assert max(peak) <= 3, peak  # never more than max in the balancer
        # the very domain that ran before the outage, nothing made anew on B
        assert names_on(hostb.uri, True) == [back]
        assert uuid_on(hostb.uri, back) == back_uuid
        assert len(pool.on()["a"]) == 2
        vstest.wait_for(lambda: "host-back" in mail.events(), 30, what="the host-back mail")
        body = [m["msg"].get_body().get_content() for m in mail.messages()
                if m["msg"]["X-Virtscale-Event"] == "host-back"][0]
        assert "1 of its instance(s) kept, 0 removed" in body, body
        # traffic through nginx reaches host B's guest again
        seen = loopbed.answered_by(nginx.url, 30)
        assert back_uuid in seen, seen
        assert not pool.act.open_ops(), pool.act.journal_text()
    finally:
        pool.act.proc.stop()
        if not hostb.answers():
            hostb.restart()


def test_template_is_the_operators_on_each_host(hostb, tmp_path, daemons):
    """virtscale copies no template between hosts: the operator defines it,
    with the same name, on each host of the pool. With it on host A only, a
    scale-out that placement sends to host B is blocked naming the template
    and host B, and nothing is made on either host; once the template is
    defined on B, the clone starts there."""
    remove_everything(hostb)
    define_template(19959)  # host A only
    pool = Pool(tmp_path / "act", daemons, hostb, "tpl",
                {"hosts": "b a", "min": 0, "max": 1, "hostfwd_ports": "19924-19924",
                 "lb": "none"}).start()
    try:
        pool.scale(1)
        p = vstest.wait_for(lambda: (lambda p: p if "blocked" in (p["last_error"] or "") else None)(
            pool.status()["pools"][0]), 30, what="the scale-out blocked")
        assert f"{TEMPLATE} on host b" in p["last_error"], p["last_error"]
        assert "template" in p["last_error"], p["last_error"]
        assert names_on(A, True) == [] and names_on(hostb.uri, True) == []
        assert loopbed.volumes(PREFIX + "tpl-") == []
        define_template(19959, hostb)
        pool.wait(1, BOOT)
        assert pool.on() == {"a": [], "b": [f"{PREFIX}tpl-01"]}, pool.on()
    finally:
        pool.act.proc.stop()
        remove_everything(hostb)


def test_status_json_hosts_match_config(two_hosts, tmp_path, daemons):
    """status.json names both hosts in config order, with their URIs."""
    hostb = two_hosts
    pool = Pool(tmp_path / "act", daemons, hostb, "st",
                {"min": 0, "max": 1, "hostfwd_ports": "19929-19929", "lb": "none"}).start()
    try:
        st = vstest.wait_for(lambda: (lambda s: s if len(s.get("hosts", [])) == 2 and all(
            h["rtt_us"] > 0 for h in s["hosts"]) else None)(pool.status()), 20,
            what="both hosts in status")
        assert [h["name"] for h in st["hosts"]] == ["a", "b"], st["hosts"]
        assert [h["uri"] for h in st["hosts"]] == [A, hostb.uri]
        # the file says the same (written by a thread of its own, soon)
        def in_file():
            try:
                with open(os.path.join(pool.act.state, "status.json")) as f:
                    return [h["name"] for h in json.load(f)["hosts"]] == ["a", "b"]
            except (FileNotFoundError, ValueError, KeyError):
                return False
        vstest.wait_for(in_file, 10, what="the hosts in status.json")
    finally:
        pool.act.proc.stop()


def test_snmp_walk_and_collectd_show_both_hosts(two_hosts, tmp_path, daemons):
    """One tagged member on each real host: vsHostTable names a and b with
    their figures, each backend names its host, collectd has both hosts'
    values."""
    import collectdtest
    from snmpbed import VS_MIB, SnmpBed

    hostb = two_hosts
    tag = vstest.virtscale_tag
    vstest.define_domain(f"{PREFIX}mon-01", metadata=tag("hosts-mon", "127.0.0.1:19927"))
    vstest.define_domain(f"{PREFIX}mon-02", uri=hostb.uri, partition=hostb.partition,
                         metadata=tag("hosts-mon", "127.0.0.2:19927"))
    bed = SnmpBed(tmp_path / "snmp", daemons, agent_port=19925, trap_port=19926)
    with open(bed.conf, "w") as f:
        f.write(f"""[libvirt]
refresh_interval = 1
slow_interval = 1

[host a]
uri = {A}

[host b]
uri = {hostb.uri}
hostfwd_address = 127.0.0.2

[snmp]
agentx_socket = {bed.sock}
agentx_ping_interval = 1

[actuator]
state_dir = {bed.state}

[pool hosts-mon]
template = {TEMPLATE}
name_pattern = {PREFIX}mon-%02d
min = 1
max = 2
lb = none
""")
    bed.start_snmpd()
    bed.start_subagent()
    host, backend = VS_MIB + ".1.4.1", VS_MIB + ".1.3.1"

    def both_measured():
        w = bed.walk(VS_MIB)
        ok = all(w.get(f"{host}.5.{i}", (0, 0))[1] == 1 and w.get(f"{host}.9.{i}", (0, -1))[1] > 0
                 for i in (1, 2))
        # the backend rows come with the pool's view, which may be built a
        # refresh after the host figures
        ok = ok and sum(k.startswith(f"{backend}.14.") for k in w) == 2
        return w if ok else None
    w = vstest.wait_for(both_measured, 30, what="both hosts with one instance each")
    assert [w[f"{host}.2.{i}"][1] for i in (1, 2)] == [b"a", b"b"]
    assert w[f"{host}.3.2"][1] == hostb.uri.encode()
    assert w[f"{host}.4.1"][1] == 1 and w[f"{host}.4.2"][1] == 1   # connected
    hosts_of = sorted(w[k][1] for k in w if k.startswith(f"{backend}.14."))
    assert hosts_of == [b"a", b"b"], hosts_of

    cd_dir = str(tmp_path / "cd")
    os.makedirs(cd_dir)
    conf = collectdtest.write_collectd_conf(cd_dir, bed.conf, plugin_block=(
        "  ForwardNotifications false\n  ForwardThresholds false"))
    collectdtest.start_collectd(daemons, conf)
    for name in ("a", "b"):
        row = collectdtest.wait_csv(cd_dir, name, "vs_host_instances", pred=lambda r: r[1] == 1,
                                    timeout=40, what=f"host {name}'s instance in collectd")
        assert row[1] == 1
        assert collectdtest.csv_last(cd_dir, name, "vs_host_state")[1:] == [1, 0]
        assert collectdtest.csv_last(cd_dir, name, "vs_host_rtt")[1] > 0
