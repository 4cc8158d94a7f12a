"""Helpers of the collectd plugin's integration tests: a real collectd with
its own configuration, BaseDir and plugin directory (the build tree's
virtscale.so next to Debian's plugins), csv output readers, local HTTP
backends with client connections held open, and a listening actuator socket.
"""
import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import vstest

STOCK_PLUGINDIR = "/usr/lib/collectd"
STOCK_TYPESDB = "/usr/share/collectd/types.db"
COLLECTD = "/usr/sbin/collectd"
TIRPC = "/lib/x86_64-linux-gnu/libtirpc.so.3"
PREFIX = "vst-cd-"
METADATA = ('<metadata><vs:virtscale xmlns:vs="https://virtscale.invalid/xmlns/virtscale/1" '
            'pool="{pool}" address="127.0.0.1:{port}"/></metadata>')


def plugin_so():
    """The built plugin (libtool puts it in .libs)."""
    path = vstest.build_path("collectd-plugin", ".libs", "virtscale.so")
    if not os.path.exists(path):
        raise AssertionError(f"{path} is not built (make -C collectd-plugin)")
    return path


STOCK_PLUGINS = ("logfile", "load", "csv", "write_prometheus", "threshold", "exec", "virt")


def _place(src, dst):
    """collectd loads regular files only (no symlinks): hard link, else copy."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def plugin_dir(tmpdir):
    """A plugin directory holding the built virtscale.so and the stock
    plugins the tests use, so one PluginDir serves both."""
    d = os.path.join(tmpdir, "plugins")
    os.makedirs(d, exist_ok=True)
    for name in STOCK_PLUGINS:
        _place(os.path.join(STOCK_PLUGINDIR, f"{name}.so"), os.path.join(d, f"{name}.so"))
    _place(plugin_so(), os.path.join(d, "virtscale.so"))
    return d


def collectd_env():
    """The plugin may be built with ASan while collectd is not: preload it."""
    env = {}
    out = subprocess.run(["ldd", plugin_so()], capture_output=True, text=True).stdout
    if "libasan" in out:
        lib = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                             text=True).stdout.strip()
        # libtirpc too: ASan intercepts the xdr* functions and resolves the
        # real ones when it starts; preloaded alone, that is before libvirt
        # (and libtirpc) are dlopened with the plugin, and libvirt's first
        # RPC calls a NULL xdrmem_create.
        env["LD_PRELOAD"] = f"{lib} {TIRPC}"
        env.update(vstest.sanitizer_env())
    if env.get("LD_PRELOAD") and os.environ.get("LD_PRELOAD"):
        env["LD_PRELOAD"] += " " + os.environ["LD_PRELOAD"]  # keep the caller's
    return env


def write_vs_config(path, actuator_socket, state_dir, pools=None, refresh=1, slow=1):
    """A virtscale.conf for a collectd test; @pools: groups from pool_section()."""
    return vstest.write_config(path, {
        "libvirt": {"refresh_interval": refresh, "slow_interval": slow},
        "actuator": {"socket": actuator_socket, "state_dir": state_dir}}, pools or {})


def pool_section(name, pattern, min_=2, max_=4, capacity=10, ratio_high=60, ratio_low=10,
                 debounce="3/4", repeat=2):
    """The [pool NAME] group of a ratio pool of tagged test members."""
    return {f"pool {name}": {
        "template": f"{PREFIX}template", "name_pattern": pattern, "min": min_, "max": max_,
        "policy": "ratio", "session_capacity": capacity, "ratio_high": ratio_high,
        "ratio_low": ratio_low, "debounce": debounce, "sessions": "sockdiag", "lb": "none",
        "repeat_interval": repeat}}


def write_collectd_conf(tmpdir, vs_conf, extra="", plugin_block="", interval=1):
    """collectd.conf: logfile, csv into tmpdir/csv, the virtscale plugin."""
    conf = os.path.join(tmpdir, "collectd.conf")
    text = f"""Hostname "vstcd"
FQDNLookup false
BaseDir "{tmpdir}"
PIDFile "{tmpdir}/collectd.pid"
PluginDir "{plugin_dir(tmpdir)}"
TypesDB "{STOCK_TYPESDB}" "{os.path.join(vstest.SRCDIR, 'collectd-plugin', 'types.db')}"
Interval {interval}
ReadThreads 2
WriteThreads 1

LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
  Timestamp true
</Plugin>
LoadPlugin load
LoadPlugin csv
<Plugin csv>
  DataDir "{tmpdir}/csv"
  StoreRates false
</Plugin>
{extra}
LoadPlugin virtscale
<Plugin virtscale>
  ConfigFile "{vs_conf}"
{plugin_block}
</Plugin>
"""
    with open(conf, "w") as f:
        f.write(text)
    return conf


def start_collectd(daemons, conf, name="collectd"):
    return daemons([COLLECTD, "-f", "-C", conf], name=name, env=collectd_env())


def csv_last(tmpdir, plugin_instance, type_name, host="vstcd", plugin="virtscale"):
    """The newest row of a csv plugin file as a list of floats (epoch first),
    or None when the file is not there yet."""
    pi = f"{plugin}-{plugin_instance}" if plugin_instance else plugin
    files = sorted(glob.glob(os.path.join(tmpdir, "csv", host, pi, f"{type_name}-*")))
    if not files:
        return None
    with open(files[-1]) as f:
        rows = [line.strip() for line in f if line.strip() and not line.startswith("epoch")]
    if not rows:
        return None
    return [float(x) for x in rows[-1].split(",")]


def csv_rows(tmpdir, plugin_instance, type_name, host="vstcd", plugin="virtscale"):
    pi = f"{plugin}-{plugin_instance}" if plugin_instance else plugin
    rows = []
    for path in sorted(glob.glob(os.path.join(tmpdir, "csv", host, pi, f"{type_name}-*"))):
        with open(path) as f:
            rows += [[float(x) for x in line.strip().split(",")] for line in f
                     if line.strip() and not line.startswith("epoch")]
    return rows


class NotificationSink:
    """A listening Unix socket standing in for virtscaled: collects every
    JSON line it receives and answers it as virtscaled does
    ({"v":1,"ok":true}: the forwarder lets a line go only when answered).
    stop() closes it (and its connections)."""

    def __init__(self, path):
        self.path = path
        self.lines = []
        self.lock = threading.Lock()
        self.conns = []
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        buf = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                with self.lock:
                    self.lines.append(json.loads(line))
                try:
                    conn.sendall(b'{"v":1,"ok":true}\n')
                except OSError:
                    return

    def messages(self, **match):
        with self.lock:
            return [m for m in self.lines if all(m.get(k) == v for k, v in match.items())]

    def stop(self):
        self.running = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()
        self.conns = []
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def define_pool_domains(names_ports, pool, tap=None):
    """Starts halt-disk domains tagged as members of pool, each with its
    backend address 127.0.0.1:port."""
    for name, port in names_ports:
        vstest.define_domain(name, metadata=METADATA.format(pool=pool, port=port), tap=tap)


def wait_csv(tmpdir, pi, type_name, timeout=30, pred=lambda row: True, what=None):
    return vstest.wait_for(lambda: (lambda r: r if r and pred(r) else None)(
        csv_last(tmpdir, pi, type_name)), timeout=timeout, interval=0.25,
        what=what or f"csv {pi}/{type_name}")


def now():
    return time.time()
