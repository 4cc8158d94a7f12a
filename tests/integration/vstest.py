"""Shared helpers of the integration test bed: real libvirtd domains, free
loopback ports, daemons started and stopped by the tests, the build tree.

Every test names its domains with a prefix of its own (``vst-<area>-``) so
that tests of different areas never touch each other's domains, and cleans
them up even when it fails.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid as uuidlib

SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILDDIR = os.environ.get("VS_BUILDDIR", os.path.join(SRCDIR, "build"))
URI = os.environ.get("VS_TEST_URI", "qemu:///system")
IMAGES = "/var/lib/libvirt/images"
HALT_DISK = os.path.join(IMAGES, "vst-halt.img")
SHARED_MIBS = os.environ.get("VS_SHARED_MIBS", os.path.join(os.path.dirname(SRCDIR), "shared", "mibs"))


def build_path(*parts):
    """Path of a built file (binaries, the collectd plugin) in the build tree."""
    return os.path.join(BUILDDIR, *parts)


def run(argv, check=True, timeout=60, **kw):
    """Runs argv (never through a shell) and returns CompletedProcess with text."""
    return subprocess.run(argv, check=check, timeout=timeout, capture_output=True, text=True, **kw)


def virsh(*args, check=True, timeout=60):
    return run(["virsh", "-q", "-c", URI, *args], check=check, timeout=timeout)


def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK) and os.path.exists("/dev/kvm")


def ensure_halt_disk():
    """A 1 MiB raw disk whose boot sector halts the CPU (cli; hlt; jmp $-1):
    a domain booting it uses no CPU once SeaBIOS has handed over."""
    if os.path.exists(HALT_DISK):
        return HALT_DISK
    os.makedirs(IMAGES, exist_ok=True)
    sector = bytearray(512)
    sector[0:4] = b"\xfa\xf4\xeb\xfd"
    sector[510:512] = b"\x55\xaa"
    tmp = HALT_DISK + ".tmp"
    with open(tmp, "wb") as f:
        f.write(sector)
        f.write(b"\0" * (1024 * 1024 - 512))
    os.chmod(tmp, 0o644)
    os.rename(tmp, HALT_DISK)
    return HALT_DISK


def domain_xml(name, vcpus=1, max_vcpus=None, mem_mib=64, disk=True, tap=None, uuid=None,
               virt_type=None, extra_devices="", metadata=""):
    """XML of a small diskless-OS domain. ``tap``: a host tap device name for an
    ethernet NIC (has interface stats); None = no NIC."""
    virt_type = virt_type or ("kvm" if kvm_usable() else "qemu")
    max_vcpus = max_vcpus or vcpus
    uuid = uuid or str(uuidlib.uuid4())
    devs = ""
    if disk:
        overlay = os.path.join(IMAGES, f"{name}.qcow2")
        if not os.path.exists(overlay):
            ensure_halt_disk()
            run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", HALT_DISK, overlay])
            os.chmod(overlay, 0o644)
        devs += (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                 f"<source file='{overlay}'/><target dev='vda' bus='virtio'/></disk>")
    if tap:
        devs += (f"<interface type='ethernet'><target dev='{tap}' managed='yes'/>"
                 f"<model type='virtio'/></interface>")
    return f"""<domain type='{virt_type}'>
  <name>{name}</name><uuid>{uuid}</uuid>
  {metadata}
  <memory unit='MiB'>{mem_mib}</memory><currentMemory unit='MiB'>{mem_mib}</currentMemory>
  <vcpu current='{vcpus}'>{max_vcpus}</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    {devs}
    <memballoon model='virtio'><stats period='1'/></memballoon>
    {extra_devices}
  </devices>
</domain>
"""


def define_domain(name, start=True, **kw):
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(domain_xml(name, **kw))
        path = f.name
    try:
        virsh("define", path)
    finally:
        os.unlink(path)
    if start:
        virsh("start", name)
    return name


def remove_domain(name):
    """Destroys, undefines and deletes the overlay of a domain; ignores absence."""
    virsh("destroy", name, check=False)
    virsh("undefine", name, "--managed-save", "--snapshots-metadata", "--nvram", check=False)
    virsh("undefine", name, check=False)
    overlay = os.path.join(IMAGES, f"{name}.qcow2")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(overlay)


def list_domains(prefix):
    out = virsh("list", "--all", "--name").stdout
    return [n.strip() for n in out.splitlines() if n.strip().startswith(prefix)]


def remove_domains(prefix):
    for n in list_domains(prefix):
        remove_domain(n)


def domstats(name, *groups):
    """virsh domstats as a dict of key -> string value."""
    args = ["domstats", *[f"--{g}" for g in groups], name]
    out = virsh(*args).stdout
    stats = {}
    for line in out.splitlines():
        line = line.strip()
        if "=" in line:
            k, v = line.split("=", 1)
            stats[k] = v
    return stats


def free_port(host="127.0.0.1", kind=socket.SOCK_STREAM):
    """A port free right now on host (the kernel's choice)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.1, what="condition"):
    """Polls predicate until it returns a truthy value; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def wait_port(port, host="127.0.0.1", timeout=10.0):
    def try_connect():
        with contextlib.suppress(OSError):
            with socket.create_connection((host, port), timeout=0.5):
                return True
        return False
    wait_for(try_connect, timeout, what=f"{host}:{port} to accept")


class Daemon:
    """A process a test starts; its output goes to a log file that is printed
    when the test fails. Stopped with SIGTERM, then SIGKILL."""

    def __init__(self, argv, logdir, name=None, env=None, cwd=None):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self.log_path = os.path.join(logdir, f"{self.name}.log")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=full_env, cwd=cwd, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def stop(self, timeout=10):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode


def sanitizer_env():
    """Environment for ASan/UBSan builds: abort on UB, leaks are reported by
    the unit tests, not by daemons that are killed."""
    supp = os.path.join(SRCDIR, "tests", "lsan.supp")
    return {
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:handle_segv=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        "LSAN_OPTIONS": f"suppressions={supp}",
    }


def have(cmd):
    return shutil.which(cmd) is not None
