"""Shared helpers of the integration test bed: real libvirtd domains, free
loopback ports, daemons started and stopped by the tests, the build tree.

Every test names its domains with a prefix of its own (``vst-<area>-``) so
that tests of different areas never touch each other's domains, and cleans
them up even when it fails.
"""
import contextlib
import glob
import http.client
import http.server
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import uuid as uuidlib

SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILDDIR = os.environ.get("VS_BUILDDIR", os.path.join(SRCDIR, "build"))
URI = os.environ.get("VS_TEST_URI", "qemu:///system")
IMAGES = "/var/lib/libvirt/images"
HALT_DISK = os.path.join(IMAGES, "vst-halt.img")
SPIN_DISK = os.path.join(IMAGES, "vst-spin.img")
# the MIB modules the project ships: ours and the IETF ones they import
MIB_DIRS = [os.path.join(SRCDIR, "mibs"), os.path.join(SRCDIR, "mibs", "ietf")]


def build_path(*parts):
    """Path of a built file (binaries, the collectd plugin) in the build tree."""
    return os.path.join(BUILDDIR, *parts)


def write_config(path, *sections, text=""):
    """The one writer of virtscale.conf in the tests. Each of @sections maps
    a group ("libvirt", "actuator", "pool web", ...) to its keys (a dict);
    later ones add groups and keys to earlier ones; groups are written in
    the order they first appear, [libvirt] first with uri defaulting to URI
    (none when [libvirt] hosts or a [host NAME] group is given: they exclude
    each other).
    @text is appended as it is (a deliberate mistake, a hand-written group).
    Returns @path (a str)."""
    groups = {"libvirt": {"uri": URI}}
    for more in sections:
        for group, keys in more.items():
            groups.setdefault(group, {}).update(keys or {})
    named_hosts = any(g.startswith("host ") for g in groups)
    if ("hosts" in groups["libvirt"] or named_hosts) and groups["libvirt"].get("uri") == URI:
        del groups["libvirt"]["uri"]
    lines = []
    for group, keys in groups.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in keys.items()]
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines) + text)
    return str(path)


def run(argv, check=True, timeout=60, **kw):
    """Runs argv (never through a shell) and returns CompletedProcess with text."""
    return subprocess.run(argv, check=check, timeout=timeout, capture_output=True, text=True, **kw)


def virsh(*args, check=True, timeout=60, uri=None):
    """virsh on @uri (default URI: host A; tests/hostb's host B has its own)."""
    return run(["virsh", "-q", "-c", uri or URI, *args], check=check, timeout=timeout)


def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK) and os.path.exists("/dev/kvm")


def _boot_disk(path, boot_code):
    """A 1 MiB raw disk whose boot sector runs @boot_code (SeaBIOS boots a
    virtio disk of one sector no further than the firmware: pad it)."""
    if os.path.exists(path):
        return path
    os.makedirs(IMAGES, exist_ok=True)
    sector = bytearray(512)
    sector[0:len(boot_code)] = boot_code
    sector[510:512] = b"\x55\xaa"
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(sector)
        f.write(b"\0" * (1024 * 1024 - 512))
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)
    return path


def ensure_halt_disk():
    """A disk whose boot sector halts the CPU (cli; hlt; jmp $-1): a domain
    booting it uses no CPU once SeaBIOS has handed over."""
    return _boot_disk(HALT_DISK, b"\xfa\xf4\xeb\xfd")


def ensure_spin_disk():
    """A disk whose boot sector spins (jmp $): the guest burns its vCPU."""
    return _boot_disk(SPIN_DISK, b"\xeb\xfe")


def domain_xml(name, vcpus=1, max_vcpus=None, mem_mib=64, disk=True, tap=None, uuid=None,
               virt_type=None, extra_devices="", metadata="", partition=None, cputune=""):
    """XML of a small diskless-OS domain. ``tap``: a host tap device name for an
    ethernet NIC (has interface stats); None = no NIC. The tap is in this
    host's network namespace, so its MTU is below IPv6's minimum (1280): the
    kernel gives it no link-local address and it never sends a packet.
    ``partition``: the cgroup <partition> (host B's, see hostb.py);
    ``cputune``: the inside of a <cputune> element."""
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
                 f"<mtu size='1200'/><model type='virtio'/></interface>")
    return f"""<domain type='{virt_type}'>
  <name>{name}</name><uuid>{uuid}</uuid>
  {metadata}
  {f"<resource><partition>{partition}</partition></resource>" if partition else ""}
  {f"<cputune>{cputune}</cputune>" if cputune else ""}
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


def define_domain(name, start=True, uri=None, **kw):
    """Defines (and starts) domain_xml(name, **kw) on @uri (default URI)."""
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(domain_xml(name, **kw))
        path = f.name
    try:
        virsh("define", path, uri=uri)
    finally:
        os.unlink(path)
    if start:
        virsh("start", name, uri=uri)
    return name


def remove_domain(name, uri=None):
    """Destroys, undefines and deletes the overlay of a domain; ignores absence.
    The overlay is in the images directory both hosts share: give domains
    on host B names of their own."""
    virsh("destroy", name, check=False, uri=uri)
    virsh("undefine", name, "--managed-save", "--snapshots-metadata", "--nvram", check=False,
          uri=uri)
    virsh("undefine", name, check=False, uri=uri)
    overlay = os.path.join(IMAGES, f"{name}.qcow2")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(overlay)


def list_domains(prefix, uri=None):
    out = virsh("list", "--all", "--name", uri=uri).stdout
    return [n.strip() for n in out.splitlines() if n.strip().startswith(prefix)]


def remove_domains(prefix, uri=None):
    for n in list_domains(prefix, uri=uri):
        remove_domain(n, uri=uri)


def dominfo(name):
    """virsh dominfo as a dict of field -> value."""
    info = {}
    for line in virsh("dominfo", name).stdout.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    return info


def domstats(name, *groups, uri=None):
    """virsh domstats as a dict of key -> string value."""
    args = ["domstats", *[f"--{g}" for g in groups], name]
    out = virsh(*args, uri=uri).stdout
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


# --- pid files: how a test finds a daemon it signals -----------------------

# where `libvirtd -d` (scripts/setup-deps.sh) writes its pid, as root
LIBVIRTD_PID_FILE = "/run/libvirtd.pid"


def pid_from_file(path):
    """The pid written in the pid file @path, or None while there is no
    file or no pid in it yet."""
    try:
        with open(path) as f:
            text = f.read(32)
    except FileNotFoundError:
        return None
    return int(text) if re.fullmatch(r"[1-9][0-9]*\n?", text) else None


def process_gone(pid):
    """True once @pid has exited (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def libvirtd_pid():
    """libvirtd's pid from its pid file, or None when none runs (the file
    of one that was killed stays behind: its pid must still be libvirtd)."""
    pid = pid_from_file(LIBVIRTD_PID_FILE)
    if pid is None or process_gone(pid):
        return None
    try:
        with open(f"/proc/{pid}/comm") as f:
            return pid if f.read().strip() == "libvirtd" else None
    except FileNotFoundError:
        return None


def qemu_pids(prefix):
    """The QEMU processes of the domains named @prefix..., from the pid
    files libvirt keeps for them (other domains come and go)."""
    pids = []
    for path in glob.glob(f"/run/libvirt/qemu/{glob.escape(prefix)}*.pid"):
        pid = pid_from_file(path)
        if pid and not process_gone(pid):
            pids.append(pid)
    return pids


def stat_ticks(pid):
    """utime + stime of @pid in clock ticks, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


class QemuCpu:
    """CPU seconds per second the QEMU processes of the domains named
    @prefix... (every domain with "") use together from now to rate()
    (/proc/PID/stat; processes started meanwhile are not counted)."""

    def __init__(self, prefix):
        self.start = {p: stat_ticks(p) for p in qemu_pids(prefix)}
        self.t0 = time.monotonic()

    def rate(self):
        dt = time.monotonic() - self.t0
        ticks = 0
        for p, a in self.start.items():
            b = stat_ticks(p)
            if a is not None and b is not None and b >= a:
                ticks += b - a
        return ticks / os.sysconf("SC_CLK_TCK") / dt


def qemu_cpu_rate(prefix, window):
    """QemuCpu(@prefix) over @window s."""
    q = QemuCpu(prefix)
    time.sleep(window)
    return q.rate()


def wait_qemu_idle(prefix, n, max_wait, window=3):
    """Waits until the @n domains named @prefix... are done booting: their
    QEMU processes use less than 0.5 ms/s each + 30 ms/s together over a
    @window s window (a booting domain uses most of a CPU, an idle halt-disk
    one well under 1 ms/s). Gives up after @max_wait s. Returns (the last
    window's CPU s per s, seconds waited)."""
    t0 = time.monotonic()
    q = None
    while time.monotonic() - t0 < max_wait:
        q = qemu_cpu_rate(prefix, window)
        if q < 0.0005 * n + 0.03:
            break
    return q, time.monotonic() - t0


def restart_libvirtd(freeze_first=False):
    """SIGTERM to libvirtd by its pid file (with @freeze_first, stopped
    with SIGSTOP first, so the signal lands in the middle of whatever it
    was answering), then a new `libvirtd -d` as scripts/setup-deps.sh
    starts it; returns once it answers."""
    pid = libvirtd_pid()
    assert pid, f"no running libvirtd in {LIBVIRTD_PID_FILE}"
    if freeze_first:
        os.kill(pid, signal.SIGSTOP)
    os.kill(pid, signal.SIGTERM)
    if freeze_first:
        os.kill(pid, signal.SIGCONT)
    wait_for(lambda: process_gone(pid), 30, interval=0.2, what="libvirtd to exit")
    run(["libvirtd", "-d"], timeout=30)
    wait_for(lambda: virsh("version", check=False).returncode == 0, 30,
             what="libvirtd to answer again")


class Daemon:
    """A process a test starts; its output goes to a log file that is printed
    when the test fails. Stopped with SIGTERM, then SIGKILL. With @pid_file
    (the file the daemon writes its pid to) signal() finds it there, as an
    operator's tools would."""

    def __init__(self, argv, logdir, name=None, env=None, cwd=None, pid_file=None):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self.pid_file = str(pid_file) if pid_file else None
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

    def wait_pid_file(self, timeout=10):
        """Waits until the daemon's pid file names it (a file left by a
        killed predecessor names another pid until then); returns the pid."""
        pid = self.proc.pid
        wait_for(lambda: pid_from_file(self.pid_file) == pid or not self.alive(), timeout,
                 what=f"{self.pid_file} to name {self.name}")
        assert self.alive(), self.output()
        return pid

    def signal(self, sig):
        """Sends @sig, to the pid in the pid file when the daemon has one."""
        if not self.alive():
            return
        if self.pid_file:
            pid = pid_from_file(self.pid_file)
            assert pid == self.proc.pid, f"{self.pid_file} names {pid}, not {self.name}"
            os.kill(pid, sig)
        else:
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


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class HttpBackend:
    """A real HTTP/1.1 server on host:port in a thread of the test process:
    answers its name, counts requests, can be slow, and holds client
    connections open (keep-alive) on request: the sessions a pool counts."""

    def __init__(self, host, port=19510, name=None, delay_ms=0):
        self.host, self.port = host, port
        self.name = name or f"{host}:{port}"
        self.address = f"{host}:{port}"
        self.delay_ms = delay_ms
        self.lock = threading.Lock()
        self.hits = 0
        self.active = 0
        self.first_hit = None
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: fewer TIME_WAIT sockets

            def do_GET(self):
                with backend.lock:
                    backend.hits += 1
                    backend.active += 1
                    if backend.first_hit is None:
                        backend.first_hit = time.time()
                try:
                    delay = backend.delay_ms
                    if self.path.startswith("/slow?ms="):
                        delay = int(self.path.split("=", 1)[1])
                    if delay:
                        time.sleep(delay / 1000.0)
                    body = backend.name.encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with backend.lock:
                        backend.active -= 1

            def log_message(self, *args):
                pass

        self.server = _Server((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.clients = []

    def hold(self, n):
        """Opens n more client connections, each completing one request."""
        for _ in range(n):
            c = http.client.HTTPConnection(self.host, self.port, timeout=5)
            c.request("GET", "/")
            r = c.getresponse()
            assert r.status == 200
            r.read()
            self.clients.append(c)

    def release(self):
        """Closes the connections hold() opened."""
        for c in self.clients:
            c.close()
        self.clients = []

    def reset(self):
        with self.lock:
            self.hits = 0
            self.first_hit = None

    def stop(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


def virtscale_tag(pool, address):
    """The <metadata> element of a domain tagged as a member of @pool that
    serves at @address (host:port), for define_domain(metadata=...)."""
    return ("<metadata><vs:virtscale xmlns:vs='https://virtscale.invalid/xmlns/virtscale/1' "
            f"pool='{pool}' address='{address}'/></metadata>")


class SessionCountServer:
    """A backend's own status page for ``sessions = http:URL``: a real HTTP
    server on host:port in a thread of the test process whose every GET
    answers ``count`` as a plain integer, or HTTP 500 while ``fail`` is set.
    ``hits`` counts the requests it answered (either way)."""

    def __init__(self, host="127.0.0.1", port=19600, count=0):
        self.host, self.port = host, port
        self.address = f"{host}:{port}"
        self.lock = threading.Lock()
        self.count = count
        self.fail = False
        self.hits = 0
        page = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with page.lock:
                    page.hits += 1
                    fail, count = page.fail, page.count
                body = b"internal error\n" if fail else f"{count}\n".encode()
                self.send_response(500 if fail else 200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = _Server((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, count=None, fail=False):
        """From now on answer @count (unchanged when None), or fail."""
        with self.lock:
            if count is not None:
                self.count = count
            self.fail = fail

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
