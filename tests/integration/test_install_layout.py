"""What `make install` puts where (the Debian package is built from it):
the programs, the collectd plugin without its libtool archive, our types,
the MIB directory, the man pages; and `make uninstall` takes it all away."""
import os

import vstest


def installed_files(root):
    out = set()
    for d, _, names in os.walk(root):
        out |= {os.path.relpath(os.path.join(d, n), root) for n in names}
    return out


def test_make_install_layout_and_uninstall(tmp_path):
    dest = tmp_path / "dest"
    vstest.run(["make", "-C", vstest.BUILDDIR, "install", f"DESTDIR={dest}"], timeout=300)
    prefix = vstest.run(["sed", "-n", "s/^prefix = //p",
                         os.path.join(vstest.BUILDDIR, "Makefile")]).stdout.strip()
    root = str(dest) + prefix
    files = installed_files(root)
    assert not [f for f in files if f.endswith(".la")], sorted(files)
    for f in ("sbin/virtscale-snmp", "sbin/virtscaled", "bin/virtscalectl",
              "lib/collectd/virtscale.so", "share/collectd/virtscale-types.db",
              "share/snmp/mibs/virtscale/VIRTSCALE-MIB.txt",
              "share/snmp/mibs/virtscale/VM-MIB.txt",
              "share/man/man5/virtscale.conf.5", "share/man/man8/virtscale-snmp.8",
              "share/man/man8/virtscaled.8", "share/man/man1/virtscalectl.1"):
        assert f in files, (f, sorted(files))
    vstest.run(["make", "-C", vstest.BUILDDIR, "uninstall", f"DESTDIR={dest}"], timeout=300)
    assert installed_files(root) == set()
