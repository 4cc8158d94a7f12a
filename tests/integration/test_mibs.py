"""The MIB modules as they are installed (make install, the Debian package):
with only their directory and net-snmp's own modules on the path, smilint
at level 6 finds no error in VIRTSCALE-MIB and VM-MIB, and snmptranslate
with every module loaded (-m ALL) resolves every object of both by name
without a single complaint. The snmp.conf snippet of contrib/ makes the
tools find them by name. Nothing outside the source and build trees is
read: the IETF modules come from the project's own mibs/."""
import glob
import os
import re
import subprocess
import tempfile

import vstest

NETSNMP_MIBS = "/usr/share/snmp/mibs"  # net-snmp's own modules (Debian: libsnmp-base)
ROOTS = {"VIRTSCALE-MIB": "1.3.6.1.4.1.8072.9999.9999", "VM-MIB": "1.3.6.1.2.1.236"}
DEFINITION = re.compile(r"^\s*([a-z][A-Za-z0-9]*)\s+(?:OBJECT-TYPE|NOTIFICATION-TYPE|"
                        r"OBJECT-IDENTITY|OBJECT IDENTIFIER|MODULE-IDENTITY|"
                        r"MODULE-COMPLIANCE|OBJECT-GROUP|NOTIFICATION-GROUP)", re.M)
# what smilint may say about VIRTSCALE-MIB at level 6 (see mibs/README.md)
SMILINT_BAD = re.compile(r"error|severe|fail|cannot|unknown|locate", re.I)


def defined_names(path):
    with open(path) as f:
        names = sorted(set(DEFINITION.findall(f.read())))
    assert len(names) > 20, path
    return names


def staged_mib_dir(destdir):
    """`make install` of mibs/ into @destdir; returns the installed MIB
    directory (PREFIX/share/snmp/mibs/virtscale)."""
    vstest.run(["make", "-C", vstest.build_path("mibs"), "install", f"DESTDIR={destdir}"],
               timeout=120)
    found = glob.glob(os.path.join(str(destdir), "**", "snmp", "mibs", "virtscale"),
                      recursive=True)
    assert len(found) == 1, found
    return found[0]


def check_mib_dir(mib_dir):
    """The checks of this module on an installed directory of our MIBs (the
    package test runs them on /usr/share/snmp/mibs/virtscale)."""
    with tempfile.TemporaryDirectory() as d:
        check_mib_dir_alone(mib_dir, netsnmp_env(d))


def netsnmp_env(d):
    """The environment of a net-snmp tool whose configuration and persistent
    files are in the directory @d, not the host's: neither /etc/snmp's
    snmp.conf nor /var/lib/snmp can add a module, a directory or a message
    (a tool that finds no cert_indexes in its persistent directory creates
    it and says so on stderr: whenever /var/lib/snmp had been emptied, the
    first check failed)."""
    os.makedirs(os.path.join(d, "cert_indexes"), exist_ok=True)
    return dict(os.environ, MIBS="", MIBDIRS="", SNMPCONFPATH=d, SNMP_PERSISTENT_DIR=d)


def check_mib_dir_alone(mib_dir, env):
    """check_mib_dir(), the net-snmp tools run with @env."""
    for module in ROOTS:
        path = os.path.join(mib_dir, f"{module}.txt")
        # smilint: our directory only (its SMIPATH replaces libsmi's default)
        r = subprocess.run(["smilint", "-l", "6", path], capture_output=True, text=True,
                           env=dict(os.environ, SMIPATH=mib_dir), timeout=60)
        bad = [line for line in (r.stdout + r.stderr).splitlines() if SMILINT_BAD.search(line)]
        assert r.returncode == 0 and not bad, r.stdout + r.stderr
        # net-snmp: our directory and net-snmp's own, every module of both loaded
        names = defined_names(path)
        t = subprocess.run(["snmptranslate", "-M", f"{mib_dir}:{NETSNMP_MIBS}", "-m", "ALL",
                            "-On", *(f"{module}::{n}" for n in names)],
                           capture_output=True, text=True, timeout=60, env=env)
        assert t.returncode == 0 and t.stderr == "", t.stderr
        oids = [line for line in t.stdout.splitlines() if line.strip()]
        assert len(oids) == len(names), (names, oids)
        for name, oid in zip(names, oids):
            assert oid.startswith("." + ROOTS[module]), f"{module}::{name} -> {oid}"


def test_installed_mibs_resolve_alone(tmp_path):
    mib_dir = staged_mib_dir(tmp_path / "dest")
    # every module VIRTSCALE-MIB and VM-MIB import, and nothing but .txt modules
    installed = sorted(os.listdir(mib_dir))
    for module in ("VIRTSCALE-MIB", "VM-MIB", "UUID-TC-MIB", "IANA-STORAGE-MEDIA-TYPE-MIB",
                   "SNMPv2-SMI", "SNMPv2-TC", "SNMPv2-CONF", "SNMP-FRAMEWORK-MIB",
                   "INET-ADDRESS-MIB", "IF-MIB"):
        assert f"{module}.txt" in installed, installed
    # verbatim copies of the source tree's files
    for name in installed:
        src = os.path.join(vstest.SRCDIR, "mibs", name)
        if not os.path.exists(src):
            src = os.path.join(vstest.SRCDIR, "mibs", "ietf", name)
        with open(src, "rb") as a, open(os.path.join(mib_dir, name), "rb") as b:
            assert a.read() == b.read(), name
    check_mib_dir(mib_dir)


def test_snmp_conf_snippet_loads_the_modules_by_name(tmp_path):
    """contrib/snmp/snmp.conf.virtscale after Debian's own snmp.conf (whose
    "mibs :" turns MIB loading off): the tools name our objects."""
    mib_dir = staged_mib_dir(tmp_path / "dest")
    with open(os.path.join(vstest.SRCDIR, "contrib", "snmp", "snmp.conf.virtscale")) as f:
        snippet = f.read()
    assert "/usr/share/snmp/mibs/virtscale" in snippet
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "snmp.conf").write_text(
        "mibs :\n" + snippet.replace("/usr/share/snmp/mibs/virtscale", mib_dir))
    # the modules come from snmp.conf alone: no MIBS or MIBDIRS
    env = {k: v for k, v in netsnmp_env(str(tmp_path / "persistent")).items()
           if k not in ("MIBS", "MIBDIRS")}
    env.update(SNMPCONFPATH=str(conf_dir), HOME=str(tmp_path))
    r = subprocess.run(["snmptranslate", "-On", "VIRTSCALE-MIB::vsPoolTable",
                        "VM-MIB::vmTable"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert [line for line in r.stdout.split() if line] == [
        ".1.3.6.1.4.1.8072.9999.9999.1.2", ".1.3.6.1.2.1.236.1.4"], r.stdout
    # and the other way round: names for numbers
    r = subprocess.run(["snmptranslate", ".1.3.6.1.2.1.236.1.4"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.stdout.strip() == "VM-MIB::vmTable", r.stdout + r.stderr
