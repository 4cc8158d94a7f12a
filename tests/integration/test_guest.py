"""The test guest (tests/guest/): built from Debian packages, booted as a
real QEMU (TCG) domain from the template, serving HTTP through a user-mode
hostfwd port on 127.0.0.1 with a page that names the VM that answered.

Two domains are defined from template.xml.in and booted together: each must
answer with its own name (SMBIOS product, from the domain XML) and its own
domain UUID, run a CPU-burning CGI, carry its CPU cap, and shut down
cleanly on an ACPI power-button press (virsh shutdown).
"""
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import vstest  # noqa: E402

GUEST = os.path.join(vstest.SRCDIR, "tests", "guest")
PREFIX = "vst-guest-"
# about 3 s on an idle host; allow for a host shared with other test runs
BOOT_TIMEOUT = float(os.environ.get("VS_GUEST_BOOT_TIMEOUT", "120"))


def http_get(port, path="/", timeout=2):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read().decode()


def try_get(port, path="/"):
    try:
        return http_get(port, path, timeout=5)
    except OSError:
        return None


def remove_guests():
    for name in vstest.list_domains(PREFIX):
        vstest.remove_domain(name)
    vstest.virsh("pool-refresh", "default", check=False)
    out = vstest.virsh("vol-list", "default", check=False).stdout
    for line in out.splitlines():
        vol = line.split()[0] if line.split() else ""
        if vol.startswith(PREFIX):
            vstest.virsh("vol-delete", "--pool", "default", vol, check=False)


@pytest.fixture
def guests(libvirtd):
    remove_guests()
    yield
    remove_guests()


def test_build_is_cached():
    r = vstest.run([os.path.join(GUEST, "build.sh")], timeout=600)
    out = vstest.run([os.path.join(GUEST, "build.sh")], timeout=60).stdout
    assert "up to date" in out, r.stdout + out
    d = os.environ.get("VS_GUEST_DIR", "/var/lib/libvirt/images/virtscale-guest")
    for f in ("vmlinuz", "initrd.gz"):
        st = os.stat(os.path.join(d, f))
        assert st.st_size > 100000 and st.st_mode & 0o004, f"{f} must be readable by libvirt-qemu"
    # the initramfs is a gzip'd newc cpio with the init and the virtio_net module
    listing = subprocess.run(f"zcat {d}/initrd.gz | cpio -it --quiet", shell=True,
                             capture_output=True, text=True, check=True).stdout.split()
    assert "init" in listing and "lib/modules/virtio_net.ko" in listing
    assert "www/cgi-bin/burn" in listing


def test_template_boots_and_serves_its_name(guests):
    names = [f"{PREFIX}web-1", f"{PREFIX}web-2"]
    ports = {}
    for i, name in enumerate(names):
        ports[name] = vstest.free_port()
        quota = "50000" if i == 0 else "-1"
        vstest.run([os.path.join(GUEST, "define-template.sh"), name, str(ports[name]), quota],
                   timeout=600)
    xml = vstest.virsh("dumpxml", names[0]).stdout
    assert "<type arch='x86_64' machine=" in xml and "type='qemu'" in xml
    assert f"hostfwd=tcp:127.0.0.1:{ports[names[0]]}-:80" in xml
    with open(os.path.join(GUEST, "template.xml.in")) as f:
        template = re.sub(r"<!--.*?-->", "", f.read(), flags=re.S)
    assert not re.search(r"<cpu[\s>/]", template)  # TCG default model (see the template's comment on KVM)
    assert re.search(r"<disk type='file' device='disk'>.*?\.qcow2'", xml, re.S)

    start = time.monotonic()
    for name in names:
        vstest.virsh("start", name)
    answers = {}

    def all_answer():
        for name in names:
            if name not in answers:
                r = try_get(ports[name])
                if r:
                    answers[name] = r
        return len(answers) == len(names)

    vstest.wait_for(all_answer, timeout=BOOT_TIMEOUT, interval=0.3,
                    what=f"{names} to answer HTTP")
    boot = time.monotonic() - start
    print(f"both guests answered after {boot:.1f} s")

    for name in names:
        status, body = answers[name]
        uuid = vstest.virsh("domuuid", name).stdout.strip()
        assert status == 200
        assert body.strip() == f"virtscale guest {name} uuid {uuid}"
        assert http_get(ports[name], "/name")[1].strip() == name
        status, burned = http_get(ports[name], "/cgi-bin/burn?300", timeout=60)
        assert status == 200 and burned.strip() == f"{name} burned 300"

    sched = vstest.virsh("schedinfo", names[0]).stdout
    assert re.search(r"vcpu_quota\s*:\s*50000", sched), sched
    assert re.search(r"vcpu_period\s*:\s*100000", sched), sched
    sched = vstest.virsh("schedinfo", names[1]).stdout
    assert re.search(r"vcpu_quota\s*:\s*-1", sched) or "vcpu_quota" in sched

    # ACPI power button -> guest acpid -> poweroff
    vstest.virsh("shutdown", names[1])
    vstest.wait_for(lambda: "shut off" in vstest.virsh("domstate", names[1]).stdout,
                    timeout=60, interval=0.5, what="guest to power off")
    assert try_get(ports[names[1]]) is None
    assert try_get(ports[names[0]])[1].strip().startswith(f"virtscale guest {names[0]} ")


def test_kernel_command_line_name_wins(guests):
    """A clone can also be named on the kernel command line (vs.name=)."""
    name, port = f"{PREFIX}cmdline", vstest.free_port()
    xml_path = vstest.run([os.path.join(GUEST, "define-template.sh"), name, str(port), "-1"],
                          timeout=600).stdout.strip()
    with open(xml_path) as f:
        xml = f.read()
    os.unlink(xml_path)
    xml = xml.replace("<cmdline>console=ttyS0", "<cmdline>vs.name=web-07;evil console=ttyS0")
    patched = xml_path + ".patched"
    with open(patched, "w") as f:
        f.write(xml)
    vstest.virsh("undefine", name)  # the XML has no UUID: redefine from scratch
    try:
        vstest.virsh("define", patched)
    finally:
        os.unlink(patched)
    vstest.virsh("start", name)
    status, body = vstest.wait_for(lambda: try_get(port), timeout=BOOT_TIMEOUT, interval=0.3,
                                   what="guest to answer")
    # the name is filtered to [A-Za-z0-9._-] inside the guest
    assert body.startswith("virtscale guest web-07evil uuid ")
