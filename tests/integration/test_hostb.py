"""Host B (tests/hostb): a second, independent libvirtd on this machine.

It reports its own host UUID; guests on both hosts serve at once, each on
its own loopback address with the same port; a domain with the same name
runs on both hosts at once, each in a cgroup of its own; stop.sh leaves no
process, mount, cgroup or domain behind, even with a QEMU orphaned by a
killed libvirtd; the collector takes host B's CPU from libvirt (no cgroup
fast path on a remote host) and host A's from the cgroup.
"""
import contextlib
import glob
import json
import os
import socket
import time
import urllib.request

import pytest

import hostb as hostb_bed
import vstest

PREFIX = "vst-hostb-"
GUEST = os.path.join(vstest.SRCDIR, "tests", "guest")
DUMP = vstest.build_path("tests", "tools", "vs-collect-dump")
BOOT_TIMEOUT = float(os.environ.get("VS_GUEST_BOOT_TIMEOUT", "120"))


def halt_disk():
    """The halting boot disk, read-only: both hosts' QEMUs may open it."""
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{vstest.ensure_halt_disk()}'/><target dev='vda' bus='virtio'/>"
            f"<readonly/></disk>")


def spin_disk():
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{vstest.ensure_spin_disk()}'/><target dev='vda' bus='virtio'/>"
            f"<readonly/></disk>")


def qemu_pid(name, bed=None):
    """The QEMU pid of a running domain, from the pid file libvirt keeps for
    it in its host's /run/libvirt/qemu (host B's is the bed's run/)."""
    run_dir = os.path.join(bed.dir, "run") if bed else "/run/libvirt"
    pid = vstest.pid_from_file(os.path.join(run_dir, "qemu", f"{name}.pid"))
    assert pid and not vstest.process_gone(pid), f"no QEMU for {name} in {run_dir}"
    return pid


def cgroup_of(pid, controller="cpu"):
    """The v1 cgroup path of @pid in @controller's hierarchy."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(","):
                return path
    raise AssertionError(f"{pid} has no {controller} cgroup")


def domain_cgroup(pid):
    """The domain's own cgroup (QEMU's main thread is in its emulator/ child)."""
    path = cgroup_of(pid)
    return path[:-len("/emulator")] if path.endswith("/emulator") else path


def remove_everywhere(bed):
    """The test's domains on both hosts, and its volumes in the images
    directory they share (each libvirtd keeps its own list of what is in
    it: refreshed before and after)."""
    for uri in (vstest.URI, bed.uri):
        vstest.remove_domains(PREFIX, uri=uri)
    for uri in (vstest.URI, bed.uri):
        vstest.virsh("pool-refresh", "default", uri=uri)
        for line in vstest.virsh("vol-list", "default", uri=uri).stdout.splitlines():
            vol = line.split()[0] if line.split() else ""
            if vol.startswith(PREFIX):
                vstest.virsh("vol-delete", "--pool", "default", vol, uri=uri)


@pytest.fixture
def clean(hostb):
    remove_everywhere(hostb)
    yield hostb
    remove_everywhere(hostb)


def test_host_b_is_its_own_hypervisor(hostb):
    """Own host UUID, own daemon (pid file, mount namespace), the shared
    images directory as its active default pool."""
    a_uuid = hostb_bed.host_uuid(vstest.URI)
    b_uuid = hostb.host_uuid()
    with open(os.path.join(hostb.dir, "hostb.env")) as f:
        env = dict(line.strip().split("=", 1) for line in f if "=" in line)
    assert b_uuid == env["HOST_UUID"] and b_uuid != a_uuid
    pid = hostb.pid()
    assert pid and pid != vstest.libvirtd_pid()
    # it listens on loopback TCP only, on the bed's port
    listening = [line.split()[3] for line in vstest.run(["ss", "-Hltnp"]).stdout.splitlines()
                 if f"pid={pid}," in line]
    assert listening == [f"127.0.0.1:{hostb.port}"], listening
    assert os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    info = hostb.virsh("pool-info", "default").stdout
    assert "running" in info and "Autostart:      yes" in info, info
    assert hostb.virsh("pool-dumpxml", "default").stdout.count(
        "<path>/var/lib/libvirt/images</path>") == 1
    # host A's libvirtd is still found by its own pid file
    assert os.readlink(f"/proc/{vstest.libvirtd_pid()}/ns/mnt") == \
        os.readlink("/proc/self/ns/mnt")


def http_name(address, port):
    try:
        with urllib.request.urlopen(f"http://{address}:{port}/name", timeout=5) as r:
            return r.read().decode().strip()
    except OSError:
        return None


def port_free_on_both():
    """A port free on 127.0.0.1 and on 127.0.0.2 right now."""
    for _ in range(50):
        port = vstest.free_port()
        with contextlib.suppress(OSError), socket.socket() as s:
            s.bind((hostb_bed.HOSTFWD_ADDRESS, port))
            return port
    raise AssertionError("no port free on both loopback addresses")


def define_guest(name, port, uri=None, bed=None):
    env = dict(os.environ)
    if bed:
        env.update(VS_TEST_URI=bed.uri, VS_TEST_HOSTFWD_ADDRESS=bed.hostfwd_address,
                   VS_TEST_PARTITION=bed.partition)
    xml = vstest.run([os.path.join(GUEST, "define-template.sh"), name, str(port), "30000"],
                     timeout=600, env=env).stdout.strip()
    os.unlink(xml)


def test_guests_on_both_hosts_serve_on_their_own_address(clean):
    """A web guest on each host, same port: host A's answers on 127.0.0.1,
    host B's on 127.0.0.2, both at once."""
    bed = clean
    on_a, on_b = PREFIX + "web-a", PREFIX + "web-b"
    port = port_free_on_both()
    define_guest(on_a, port)
    define_guest(on_b, port, bed=bed)
    xml_b = bed.virsh("dumpxml", on_b).stdout
    assert f"hostfwd=tcp:127.0.0.2:{port}-:80" in xml_b
    assert f"<partition>{bed.partition}</partition>" in xml_b
    assert "<partition>" not in vstest.virsh("dumpxml", on_a).stdout
    vstest.virsh("start", on_a)
    bed.virsh("start", on_b)
    vstest.wait_for(lambda: http_name("127.0.0.1", port) == on_a and
                    http_name("127.0.0.2", port) == on_b,
                    BOOT_TIMEOUT, 0.3, what="both guests to answer on their own address")
    assert domain_cgroup(qemu_pid(on_b, bed)).startswith("/machine/hostb.partition/")
    # the CPU cap (<cputune>) holds in host B's partition
    assert "30000" in bed.virsh("schedinfo", on_b).stdout


def test_same_name_on_both_hosts_at_once(clean):
    """A migrating domain has the same name on both sides, and each daemon
    numbers its domains on its own: host B's partition keeps the two
    cgroups apart even when name and id are equal."""
    bed = clean
    twin = PREFIX + "twin"
    vstest.define_domain(twin, disk=False, extra_devices=halt_disk(),
                         cputune="<period>100000</period><quota>40000</quota>")
    a_id = int(vstest.dominfo(twin)["Id"])
    vstest.define_domain(twin, uri=bed.uri, disk=False, extra_devices=halt_disk(),
                         partition=bed.partition,
                         cputune="<period>100000</period><quota>20000</quota>")
    b_id = int(bed.virsh("domid", twin).stdout.strip())
    # Where it is cheap, bring host B's id up to host A's: then without the
    # partition both QEMUs would get the very same /machine/qemu-ID-NAME.
    if a_id - b_id <= 15:
        while b_id < a_id:
            bed.virsh("destroy", twin)
            bed.virsh("start", twin)
            b_id = int(bed.virsh("domid", twin).stdout.strip())
    a_pid, b_pid = qemu_pid(twin), qemu_pid(twin, bed)
    a_cg, b_cg = domain_cgroup(a_pid), domain_cgroup(b_pid)
    print(f"host A: id {a_id} {a_cg}; host B: id {b_id} {b_cg}")
    assert a_cg == f"/machine/qemu-{a_id}-{twin}.libvirt-qemu"
    assert b_cg == f"/machine/hostb.partition/qemu-{b_id}-{twin}.libvirt-qemu"
    # each cgroup holds its own QEMU only, with its own CPU cap
    for pid, cg, quota in ((a_pid, a_cg, 40000), (b_pid, b_cg, 20000)):
        with open(f"/sys/fs/cgroup/cpu{cg}/vcpu0/cpu.cfs_quota_us") as f:
            assert int(f.read()) == quota
        procs = set()
        for path in glob.glob(f"/sys/fs/cgroup/cpu{cg}/**/cgroup.procs", recursive=True):
            with open(path) as f:
                procs |= {int(x) for x in f.read().split()}
        assert procs == {pid}, (cg, procs)
    # stopping one leaves the other running in its own cgroup
    bed.virsh("destroy", twin)
    assert vstest.dominfo(twin)["State"] == "running"
    assert domain_cgroup(a_pid) == a_cg and os.path.isdir(f"/sys/fs/cgroup/cpu{a_cg}")


def mounts_naming(path):
    """The pids whose mount table names @path."""
    found = set()
    for mi in glob.glob("/proc/[0-9]*/mountinfo"):
        with contextlib.suppress(OSError):
            with open(mi) as f:
                if path in f.read():
                    found.add(int(mi.split("/")[2]))
    return found


def ns_members(ns):
    found = set()
    for link in glob.glob("/proc/[0-9]*/ns/mnt"):
        with contextlib.suppress(OSError):
            if os.readlink(link) == ns:
                found.add(int(link.split("/")[2]))
    return found


def test_stop_leaves_nothing_behind(libvirtd, tmp_path):
    """A bed of its own, with a domain left running by a killed libvirtd:
    stop.sh leaves no process, mount, cgroup or state of it; a second stop
    and a start over the stale directory work."""
    bed = hostb_bed.HostB(tmp_path / "bed")
    bed.partition = "/machine/vsthostbstop"
    name = PREFIX + "orphan"
    try:
        bed.start()
        vstest.define_domain(name, uri=bed.uri, disk=False, extra_devices=halt_disk(),
                             partition=bed.partition)
        q = qemu_pid(name, bed)
        with open(os.path.join(bed.dir, "mntns")) as f:
            ns = f.read().strip()
        daemons = {bed.pid(), vstest.pid_from_file(bed.virtlogd_pid_file)}
        # the daemons share the bed's namespace; libvirt gives each QEMU one
        # of its own, copied from it: all of them have the bed's mounts
        assert ns_members(ns) >= daemons and q not in ns_members(ns)
        assert mounts_naming(bed.dir) >= daemons | {q}
        bed.kill9()  # the QEMU and virtlogd go on: stop.sh must still end them
        assert not vstest.process_gone(q)
        bed.stop()
        for pid in daemons | {q}:
            assert vstest.process_gone(pid), pid
        assert ns_members(ns) == set()
        assert mounts_naming(bed.dir) == set()
        assert glob.glob("/sys/fs/cgroup/*/machine/vsthostbstop.partition") == []
        assert not os.path.exists(os.path.join(bed.dir, "libvirtd.pid"))
        bed.stop()  # stopping a stopped bed is fine
        # a start over the stale directory begins afresh, without the domain
        bed.start()
        assert bed.virsh("list", "--all", "--name").stdout.strip() == ""
    finally:
        bed.stop()
    assert mounts_naming(bed.dir) == set()
    vstest.run(["rm", "-rf", bed.dir])  # removable: nothing holds it


def test_restart_after_kill9_keeps_domains(clean):
    """kill9() and restart() through the bed's pid file: host B comes back
    in its own namespace and finds its running domain again."""
    bed = clean
    name = PREFIX + "survivor"
    vstest.define_domain(name, uri=bed.uri, disk=False, extra_devices=halt_disk(),
                         partition=bed.partition)
    q = qemu_pid(name, bed)
    a_pid = vstest.libvirtd_pid()
    old = bed.pid()
    bed.kill9()
    assert not bed.answers() and vstest.libvirtd_pid() == a_pid
    bed.restart()
    assert bed.pid() not in (None, old)
    assert bed.virsh("domstate", name).stdout.strip() == "running"
    assert qemu_pid(name, bed) == q


def dump_snapshots(config, seconds):
    proc = vstest.run([DUMP, "-c", config, "--interval-ms", "1000", "--duration", str(seconds)],
                      timeout=seconds + 60, env={**os.environ, **vstest.sanitizer_env()})
    return [json.loads(line) for line in proc.stdout.splitlines()
            if line.startswith("{") and '"snapshot"' in line]


def on_host(snap, uri, name):
    found = [d for d in snap["domains"] if d["host"] == uri and d["name"] == name]
    assert len(found) == 1, (uri, name, [(d["host"], d["name"]) for d in snap["domains"]])
    return found[0]


def test_collector_on_host_b_uses_libvirt_cpu(clean, tmp_path):
    """[libvirt] hosts = A B: host B's domain (busy, capped at 30%) gets the
    CPU% libvirt's cpu.time gives over the window, although a domain of the
    same name idles on host A, whose CPU the collector reads from its cgroup
    (a remote host has no cgroup fast path: its pid files are not ours)."""
    bed = clean
    twin = PREFIX + "col"
    vstest.define_domain(twin, disk=False, extra_devices=halt_disk())
    vstest.define_domain(twin, uri=bed.uri, disk=False, extra_devices=spin_disk(),
                         partition=bed.partition,
                         cputune="<period>100000</period><quota>30000</quota>")
    config = vstest.write_config(tmp_path / "virtscale.conf",
                                 {"libvirt": {"hosts": f"{vstest.URI} {bed.uri}"}})
    def a_twin_halted():  # SeaBIOS done: under 5% of a CPU over a second
        c = int(vstest.domstats(twin, "cpu-total")["cpu.time"])
        time.sleep(1)
        return int(vstest.domstats(twin, "cpu-total")["cpu.time"]) - c < 50_000_000
    vstest.wait_for(a_twin_halted, 90, 0, what="host A's twin to halt")
    t0 = time.monotonic()
    b0 = int(vstest.domstats(twin, "cpu-total", uri=bed.uri)["cpu.time"])
    a0 = int(vstest.domstats(twin, "cpu-total")["cpu.time"])
    # the snapshots that hold both hosts' domains (each host has a worker
    # of its own: host B's first refresh may come after host A's)
    snaps = [s for s in dump_snapshots(config, 6)
             if {d["host"] for d in s["domains"]} == {vstest.URI, bed.uri}]
    b1 = int(vstest.domstats(twin, "cpu-total", uri=bed.uri)["cpu.time"])
    a1 = int(vstest.domstats(twin, "cpu-total")["cpu.time"])
    t1 = time.monotonic()
    assert [h["uri"] for h in snaps[-1]["hosts"]] == [vstest.URI, bed.uri]
    assert all(h["state"] == "connected" for h in snaps[-1]["hosts"])
    series_b = [on_host(s, bed.uri, twin) for s in snaps]
    series_a = [on_host(s, vstest.URI, twin) for s in snaps]
    # every CPU time is host B's own, read between the two virsh readings
    assert b0 <= series_b[0]["cpu_time_ns"] <= series_b[-1]["cpu_time_ns"] <= b1
    assert a0 <= series_a[0]["cpu_time_ns"] <= series_a[-1]["cpu_time_ns"] <= a1
    virsh_pct = (b1 - b0) / (t1 - t0) / 1e7
    pcts = [d["cpu_percent"] for d in series_b if d["cpu_percent"] >= 0]
    assert len(pcts) >= 3, pcts
    mean = sum(pcts) / len(pcts)
    print(f"host B twin: virsh {virsh_pct:.1f}% collector {pcts}")
    assert 5 < virsh_pct <= 33, virsh_pct  # spinning, under its 30% cap
    assert abs(mean - virsh_pct) <= max(3.0, 0.15 * virsh_pct), (mean, virsh_pct, pcts)
    a_pcts = [d["cpu_percent"] for d in series_a if d["cpu_percent"] >= 0]
    assert a_pcts and max(a_pcts) < 5, a_pcts  # host A's twin halts
    # Host A's numbers came from the cgroup fast path: only it stamps a
    # domain that was already running with its QEMU pid file's mtime.
    st = os.stat(f"/run/libvirt/qemu/{twin}.pid")
    assert series_a[-1]["started_real_us"] == int(st.st_mtime) * 1_000_000
