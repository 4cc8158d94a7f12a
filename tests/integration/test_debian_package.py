"""The Debian packages, as an operator installs them: scripts/build-deb.sh
builds them from a clean copy of the tree (lintian clean), `apt-get install
./...deb` installs them, the installed programs run against the real
daemons (the subagent answers through snmpd, collectd loads the installed
plugin, virtscaled scales a pool, virtscalectl drives it), and `apt-get
purge` leaves nothing behind: no package, no file, no user or group, no state.

The packages are built once for the module (about a minute), by the
README's quick start itself, without their unit tests (make check runs
them); VS_DEB_DIR names a directory of packages built already. Installing needs root; nothing starts on
installation here (no systemd: the units are enabled, not started)."""
import glob
import grp
import os
import pwd
import shutil
import stat
import subprocess

import pytest

import collectdtest
import test_command_line
import test_install_layout
import test_mibs
import vstest
from snmpbed import SnmpBed, VM_MIB

pytestmark = pytest.mark.usefixtures("libvirtd")

PACKAGES = ("virtscale-common", "virtscale-snmp", "virtscaled", "collectd-virtscale")
INSTALLED = {
    ("snmp-subagent", "virtscale-snmp"): "/usr/sbin/virtscale-snmp",
    ("actuator", "virtscaled"): "/usr/sbin/virtscaled",
    ("actuator", "virtscalectl"): "/usr/bin/virtscalectl",
    ("collectd-plugin", ".libs", "virtscale.so"): "/usr/lib/collectd/virtscale.so",
}
UNITS = ("virtscale-snmp.service", "virtscaled.service")
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def package_status(name):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", name],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def installed_path(*parts):
    """vstest.build_path for this module: the installed programs, and no
    file of the build tree."""
    return INSTALLED[parts]


def processes_of(exe):
    """Pids of processes running the installed @exe (by /proc/PID/exe: the
    same program from a build tree does not count)."""
    pids = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            if os.readlink(f"{d}/exe") == exe:
                pids.append(int(d[6:]))
        except OSError:
            pass
    return pids


@pytest.fixture(scope="module")
def quick_start():
    """The README's quick start, line by line, as root in the source tree:
    it builds the packages into build-deb/ (lintian included) and installs
    them. They are purged again before the fixture returns, so the tests
    below install the very packages it built. Returns each line with its
    result, the package states it left, and build-deb/."""
    if os.geteuid() != 0:
        pytest.skip("the quick start runs as root")
    assert not [p for p in PACKAGES if package_status(p)], \
        "virtscale packages are installed on this machine already"
    out_dir = os.path.join(vstest.SRCDIR, "build-deb")
    had_out_dir = os.path.exists(out_dir)
    # the unit tests of the package build are make check's: skipped here
    env = dict(APT_ENV, DEB_BUILD_OPTIONS="nocheck parallel=2")
    results = []
    try:
        for line in quick_start_lines():
            r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", line], cwd=vstest.SRCDIR,
                               capture_output=True, text=True, env=env, timeout=900)
            results.append((line, r))
            if r.returncode != 0:
                break
        states = {p: package_status(p) for p in PACKAGES}
    finally:
        subprocess.run(["apt-get", "purge", "-y", "-q", *PACKAGES], capture_output=True,
                       env=APT_ENV, timeout=600)
    yield results, states, out_dir
    if not had_out_dir:
        subprocess.run(["rm", "-rf", out_dir])


@pytest.fixture(scope="module")
def debs(request):
    if os.environ.get("VS_DEB_DIR"):
        out = os.environ["VS_DEB_DIR"]
    else:
        results, _, out = request.getfixturevalue("quick_start")
        built = [r for line, r in results if line.startswith("scripts/build-deb.sh")]
        assert built and built[0].returncode == 0, results[-1]
        # lintian passed (build-deb.sh fails otherwise) and said no more than info
        assert "\nW: " not in built[0].stdout and "\nE: " not in built[0].stdout, \
            built[0].stdout[-5000:]
    files = {p: glob.glob(os.path.join(out, f"{p}_*.deb")) for p in PACKAGES}
    assert all(len(f) == 1 for f in files.values()), files
    return {p: f[0] for p, f in files.items()}


@pytest.fixture(scope="module")
def installed(debs):
    """The four packages installed for the module, purged after it (also
    when a test failed)."""
    if os.geteuid() != 0:
        pytest.skip("installing packages needs root")
    already = [p for p in PACKAGES if package_status(p)]
    assert not already, f"virtscale packages are installed on this machine already: {already}"
    assert "virtscale" not in {g.gr_name for g in grp.getgrall()}, \
        "a group virtscale exists already: the purge check would remove it"
    assert "virtscale-notify" not in {p.pw_name for p in pwd.getpwall()}, \
        "a user virtscale-notify exists already: the purge check would remove it"
    r = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                        *debs.values()], capture_output=True, text=True, env=APT_ENV,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    files = {}
    for p in PACKAGES:
        out = subprocess.run(["dpkg", "-L", p], capture_output=True, text=True).stdout
        files[p] = [f for f in out.splitlines() if f.strip()]
    yield files
    if any(package_status(p) for p in PACKAGES):
        subprocess.run(["apt-get", "purge", "-y", "-q", *PACKAGES], capture_output=True,
                       env=APT_ENV, timeout=600)


def test_installed_layout(installed):
    for p in PACKAGES:
        assert package_status(p) == "ii", p
    every = [f for fs in installed.values() for f in fs]
    assert not [f for f in every if f.endswith(".la")]
    assert "/usr/lib/collectd/virtscale.so" in installed["collectd-virtscale"]
    test_install_layout.check_plugin_never_exits("/usr/lib/collectd/virtscale.so")
    assert "/usr/share/collectd/virtscale-types.db" in installed["collectd-virtscale"]
    assert "/usr/share/snmp/mibs/virtscale/VM-MIB.txt" in installed["virtscale-snmp"]
    # the shared configuration is a conffile of the common package
    conffiles = subprocess.run(["dpkg-query", "-W", "-f", "${Conffiles}", "virtscale-common"],
                               capture_output=True, text=True).stdout
    assert "/etc/virtscale/virtscale.conf" in conffiles
    r = vstest.run(["/usr/bin/virtscalectl", "-c", "/etc/virtscale/virtscale.conf",
                    "check-config"], check=False)
    assert r.returncode == 0, r.stderr
    # the socket's group and the user of the exec hooks (in that group only,
    # no login), the state directory
    group = grp.getgrnam("virtscale")
    assert group.gr_gid < 1000
    notify = pwd.getpwnam("virtscale-notify")
    assert notify.pw_uid < 1000 and notify.pw_gid == group.gr_gid, notify
    assert notify.pw_shell == "/usr/sbin/nologin" and not os.path.exists(notify.pw_dir), notify
    st = os.stat("/var/lib/virtscale")
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o750
    # units installed and enabled the Debian way, nothing started
    for unit in UNITS:
        assert os.path.exists(f"/lib/systemd/system/{unit}")
        assert os.path.islink(f"/etc/systemd/system/multi-user.target.wants/{unit}")
    for exe in ("/usr/sbin/virtscale-snmp", "/usr/sbin/virtscaled"):
        assert processes_of(exe) == [], exe
    # shlibs: the programs find every library they link
    for exe in INSTALLED.values():
        ldd = vstest.run(["ldd", exe]).stdout
        assert "not found" not in ldd, ldd


def test_installed_command_lines(installed):
    for name, exe in (("virtscale-snmp", "/usr/sbin/virtscale-snmp"),
                      ("virtscaled", "/usr/sbin/virtscaled"),
                      ("virtscalectl", "/usr/bin/virtscalectl")):
        test_command_line.check_help_and_version(name, exe)
    test_command_line.check_ctl_command_help("/usr/bin/virtscalectl")
    for page in ("virtscale.conf.5", "virtscale-snmp.8", "virtscaled.8", "virtscalectl.1"):
        section = page.rsplit(".", 1)[1]
        assert os.path.exists(f"/usr/share/man/man{section}/{page}.gz"), page


def test_installed_mibs(installed):
    test_mibs.check_mib_dir("/usr/share/snmp/mibs/virtscale")


def test_installed_subagent_answers_through_snmpd(installed, tmp_path, daemons, monkeypatch):
    monkeypatch.setattr(vstest, "build_path", installed_path)
    bed = SnmpBed(tmp_path, daemons, agent_port=19181, trap_port=19182)
    bed.start_snmpd()
    sub = bed.start_subagent()  # waits until VM-MIB answers through snmpd
    assert os.readlink(f"/proc/{sub.wait_pid_file()}/exe") == "/usr/sbin/virtscale-snmp"
    # by name, with the installed MIBs and net-snmp's own only
    r = subprocess.run(["snmpget", "-v2c", "-c", "public", "-M",
                        "/usr/share/snmp/mibs/virtscale:/usr/share/snmp/mibs",
                        "-m", "VM-MIB:VIRTSCALE-MIB", "127.0.0.1:19181",
                        "VM-MIB::vmHvSoftware.0", "VM-MIB::vmNumber.0"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MIBS="", MIBDIRS=""))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "VM-MIB::vmHvSoftware.0 = STRING:" in r.stdout, r.stdout
    assert "VM-MIB::vmNumber.0 = INTEGER:" in r.stdout, r.stdout
    assert VM_MIB + ".1.2.0" in bed.walk(VM_MIB + ".1.2")


def readme_block(marker):
    """The shell lines of the README between <!-- MARKER begin/end -->."""
    with open(os.path.join(vstest.SRCDIR, "README.md")) as f:
        text = f.read()
    block = text.split(f"<!-- {marker} begin -->", 1)[1].split(f"<!-- {marker} end -->", 1)[0]
    return block.strip().strip("`").strip() + "\n"


def unit_exec_start(unit):
    """ExecStart= of an installed unit, as argv."""
    with open(f"/lib/systemd/system/{unit}") as f:
        line = [x for x in f if x.startswith("ExecStart=")][0]
    return line.split("=", 1)[1].split()


def test_readme_snmpd_wiring_on_debians_own_config(installed, tmp_path, daemons):
    """The README's snmpd lines, run as written, make Debian's stock
    snmpd.conf (AgentX master, community public on 127.0.0.1, view
    systemonly) serve both MIBs from the installed subagent started as its
    unit starts it; the tools name the objects with Debian's snmp.conf plus
    the shipped snippet."""
    dropin = "/etc/snmp/snmpd.conf.d/virtscale.conf"
    assert not os.path.exists(dropin), "a virtscale snmpd drop-in is there already"
    made_run = not os.path.isdir("/run/virtscale")
    conf_dir = tmp_path / "snmpconf"
    conf_dir.mkdir()
    with open("/etc/snmp/snmp.conf") as f, \
            open("/usr/share/doc/virtscale-snmp/examples/snmp.conf.virtscale") as g:
        (conf_dir / "snmp.conf").write_text(f.read() + "\n" + g.read())
    env = {k: v for k, v in os.environ.items() if k not in ("MIBS", "MIBDIRS")}
    env["SNMPCONFPATH"] = str(conf_dir)

    def get(*oids):
        return subprocess.run(["snmpget", "-v2c", "-c", "public", "127.0.0.1", *oids],
                              capture_output=True, text=True, timeout=30, env=env)

    try:
        r = subprocess.run(["bash", "-e"], input=readme_block("wiring-snmpd"), text=True,
                           capture_output=True, timeout=30)
        assert r.returncode == 0 and os.path.exists(dropin), r.stderr
        persistent = tmp_path / "snmp-persistent"
        persistent.mkdir()
        daemons(["/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", "/etc/snmp/snmpd.conf",
                 "-p", str(tmp_path / "snmpd.pid")], name="snmpd-stock",
                env=dict(os.environ, SNMP_PERSISTENT_DIR=str(persistent)))
        os.makedirs("/run/virtscale", exist_ok=True)  # systemd's RuntimeDirectory=
        argv = unit_exec_start("virtscale-snmp.service")
        assert argv[0] == "/usr/sbin/virtscale-snmp", argv
        sub = daemons(argv, name="virtscale-snmp-unit")

        def both():
            r = get("VM-MIB::vmNumber.0", "VIRTSCALE-MIB::vsPoolName.1")
            return r if r.returncode == 0 and "No Such" not in r.stdout else None
        r = vstest.wait_for(both, timeout=60, interval=0.5,
                            what="both MIBs through Debian's snmpd")
        assert r.stderr == "", r.stderr
        assert "VM-MIB::vmNumber.0 = INTEGER:" in r.stdout, r.stdout
        # the example pool of the installed /etc/virtscale/virtscale.conf
        assert "VIRTSCALE-MIB::vsPoolName.1 = STRING: " in r.stdout and "web" in r.stdout, \
            r.stdout
        assert sub.alive(), sub.output()
        # Debian's own objects are served as before
        r = get(".1.3.6.1.2.1.1.6.0")  # sysLocation
        assert r.returncode == 0 and "STRING:" in r.stdout, r.stdout + r.stderr
    finally:
        if os.path.exists(dropin):
            os.unlink(dropin)
        if made_run and os.path.isdir("/run/virtscale"):
            shutil.rmtree("/run/virtscale")


def installed_collectd_conf(conf_dir, tail):
    """A collectd.conf in @conf_dir with collectd's own plugin directory (the
    installed plugin), a log on stdout and csv files, then @tail."""
    conf = os.path.join(conf_dir, "collectd.conf")
    with open(conf, "w") as f:
        f.write(f"""Hostname "vstcd"
FQDNLookup false
BaseDir "{conf_dir}"
PIDFile "{conf_dir}/collectd.pid"
PluginDir "/usr/lib/collectd"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{conf_dir}/csv"
</Plugin>
""" + tail)
    return conf


def test_installed_collectd_plugin(installed, tmp_path, daemons):
    pool = "vst-deb-cd"
    conf_dir = str(tmp_path)
    vs_conf = collectdtest.write_vs_config(
        os.path.join(conf_dir, "virtscale.conf"), actuator_socket=os.path.join(conf_dir, "a.sock"),
        state_dir=os.path.join(conf_dir, "state"),
        pools=collectdtest.pool_section(pool, "vst-deb-cd-%02d"))
    conf = installed_collectd_conf(conf_dir, f"""\
TypesDB "/usr/share/collectd/types.db" "/usr/share/collectd/virtscale-types.db"
LoadPlugin virtscale
<Plugin virtscale>
  ConfigFile "{vs_conf}"
  ForwardNotifications false
</Plugin>
""")
    cd = daemons([collectdtest.COLLECTD, "-f", "-C", conf], name="collectd")
    row = collectdtest.wait_csv(conf_dir, pool, "vs_instances", timeout=30)
    assert row[1] == 0, row
    assert "plugin \"virtscale\" successfully loaded" in cd.output(), cd.output()[-3000:]


def test_readme_collectd_wiring(installed, tmp_path, daemons):
    """The README's collectd line, run as written, puts the shipped example
    where Debian's collectd.conf includes it (<Include
    "/etc/collectd/collectd.conf.d">, as the collectd package's file does):
    collectd loads the installed plugin with the installed
    /etc/virtscale/virtscale.conf and dispatches its example pool."""
    conf_d = "/etc/collectd/collectd.conf.d"
    dropin = os.path.join(conf_d, "virtscale.conf")
    assert not os.path.exists(dropin), "a virtscale collectd drop-in is there already"
    made = [d for d in ("/etc/collectd", conf_d) if not os.path.isdir(d)]
    os.makedirs(conf_d, exist_ok=True)  # the collectd package's directory
    try:
        r = subprocess.run(["bash", "-e"], input=readme_block("wiring-collectd"), text=True,
                           capture_output=True, timeout=30)
        assert r.returncode == 0 and os.path.exists(dropin), r.stderr
        conf = installed_collectd_conf(str(tmp_path), f"""\
<Include "{conf_d}">
  Filter "*.conf"
</Include>
""")
        cd = daemons([collectdtest.COLLECTD, "-f", "-C", conf], name="collectd-dropin")
        row = collectdtest.wait_csv(str(tmp_path), "web", "vs_instances", timeout=30)
        assert row[1] == 0, row  # no member of the example pool here
        assert "plugin \"virtscale\" successfully loaded" in cd.output(), cd.output()[-3000:]
        assert "/etc/virtscale/virtscale.conf" in cd.output(), cd.output()[-3000:]
    finally:
        if os.path.exists(dropin):
            os.unlink(dropin)
        for d in reversed(made):
            os.rmdir(d)


def test_installed_virtscaled_scales_a_pool(installed, make_actuator, monkeypatch):
    monkeypatch.setattr(vstest, "build_path", installed_path)
    a = make_actuator("deb", "19380-19389", template=True, namespace="deb")
    a.start()
    assert os.readlink(f"/proc/{a.proc.wait_pid_file()}/exe") == "/usr/sbin/virtscaled"
    a.wait_running(1, 60)  # min = 1 with no notification
    r = vstest.run(["/usr/bin/virtscalectl", "-c", a.conf, "scale", a.pool_name, "2"],
                   check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    a.wait_running(2, 90)
    r = vstest.run(["/usr/bin/virtscalectl", "-c", a.conf, "status"])
    assert f"pool {a.pool_name}" in r.stdout and "2 running" in r.stdout, r.stdout
    a.proc.stop()


def test_purge_leaves_nothing_behind(installed):
    r = subprocess.run(["apt-get", "purge", "-y", "-q", *PACKAGES], capture_output=True,
                       text=True, env=APT_ENV, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    for p in PACKAGES:
        assert package_status(p) == "", (p, package_status(p))
    shared = {"/", "/etc", "/lib", "/usr", "/var", "/var/lib"}
    left = [f for fs in installed.values() for f in fs
            if os.path.lexists(f) and f not in shared and not os.path.isdir(f)]
    assert not left, left
    for path in ("/etc/virtscale", "/var/lib/virtscale", "/usr/share/snmp/mibs/virtscale",
                 "/usr/share/doc/virtscale-common"):
        assert not os.path.lexists(path), path
    for unit in UNITS:
        assert not os.path.lexists(f"/etc/systemd/system/multi-user.target.wants/{unit}")
    assert "virtscale" not in {g.gr_name for g in grp.getgrall()}
    assert "virtscale-notify" not in {p.pw_name for p in pwd.getpwall()}


def test_package_version_and_dist_list():
    """debian/changelog carries the version of configure.ac, and every file
    of debian/ is in the release tarball (EXTRA_DIST)."""
    version = vstest.run(["dpkg-parsechangelog", "-l",
                          os.path.join(vstest.SRCDIR, "debian", "changelog"),
                          "-S", "Version"]).stdout.strip()
    assert version == test_command_line.version()
    with open(os.path.join(vstest.SRCDIR, "Makefile.am")) as f:
        dist = f.read()
    for d, _, names in os.walk(os.path.join(vstest.SRCDIR, "debian")):
        for n in names:
            rel = os.path.relpath(os.path.join(d, n), vstest.SRCDIR)
            assert rel in dist.split(), f"{rel} is not in EXTRA_DIST of Makefile.am"


def quick_start_lines():
    """The commands of the README's quick start, as written there."""
    with open(os.path.join(vstest.SRCDIR, "README.md")) as f:
        text = f.read()
    block = text.split("<!-- quickstart begin -->", 1)[1].split("<!-- quickstart end -->", 1)[0]
    lines = [line for line in block.strip().strip("`").splitlines() if line.strip()]
    assert len(lines) >= 5, block
    return lines


def test_readme_quick_start(quick_start):
    """Every line of the README's quick start succeeded as written, the
    packages it installed were all installed, and their purge (the
    fixture's) removed them, their user and their group."""
    results, states, _ = quick_start
    for line, r in results:
        assert r.returncode == 0, (line, r.stdout[-4000:], r.stderr[-4000:])
        if line.startswith("snmptranslate"):
            assert r.stderr == "" and r.stdout.split() == [
                ".1.3.6.1.4.1.8072.9999.9999.1.2", ".1.3.6.1.2.1.236.1.4"], r
    assert [line for line, _ in results] == quick_start_lines()
    assert states == {p: "ii" for p in PACKAGES}, states
    assert not [p for p in PACKAGES if package_status(p)]
    assert "virtscale" not in {g.gr_name for g in grp.getgrall()}
    assert "virtscale-notify" not in {p.pw_name for p in pwd.getpwall()}
