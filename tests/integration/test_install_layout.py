"""What `make install` puts where (the Debian package is built from it):
the programs, the collectd plugin without its libtool archive and without
a call to exit() (lintian's exit-in-shared-library: it would take collectd
down), our types, the MIB directory, the man pages; and `make uninstall`
takes it all away."""
import os

import vstest


def installed_files(root):
    out = set()
    for d, _, names in os.walk(root):
        out |= {os.path.relpath(os.path.join(d, n), root) for n in names}
    return out


def plugin_imports(so):
    """The functions the shared object @so takes from other libraries."""
    out = vstest.run(["nm", "-D", "--undefined-only", so]).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def check_plugin_never_exits(so):
    """Used by the package test on the installed plugin too."""
    imports = plugin_imports(so)
    assert "plugin_register_complex_read" in imports, sorted(imports)  # the listing works
    assert not imports & {"exit", "_exit", "_Exit", "quick_exit"}, sorted(imports)


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
    check_plugin_never_exits(os.path.join(root, "lib/collectd/virtscale.so"))
    vstest.run(["make", "-C", vstest.BUILDDIR, "uninstall", f"DESTDIR={dest}"], timeout=300)
    assert installed_files(root) == set()
