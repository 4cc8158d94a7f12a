"""Test bed of the closed loop (test_e2e_*.py, bench/closed-loop): the web
guest's template (tests/guest), one virtscale.conf for the three programs,
snmpd + virtscale-snmp (snmpbed), virtscaled (actbed's client), collectd
with virtscale.so (collectdtest), load from wrk or siege, and checks of
which guest answered.

Pool names are the caller's own: virtscaled adopts every domain tagged with
its pool's name, so loops that share a libvirtd must not share pool names.
"""
import os
import re
import subprocess

import collectdtest
import lb_bed
import snmpbed
import vstest
from actbed import Actuator

GUEST = os.path.join(vstest.SRCDIR, "tests", "guest")
THINK_LUA = os.path.join(vstest.SRCDIR, "scripts", "demo", "think.lua")


def volumes(prefix):
    """Volumes of the default storage pool whose names start with prefix."""
    vstest.virsh("pool-refresh", "default", check=False)
    out = vstest.virsh("vol-list", "default", check=False).stdout
    return sorted(p[0] for p in (ln.split() for ln in out.splitlines()) if p and
                  p[0].startswith(prefix))


def remove_everything(prefix):
    """Every domain and default-pool volume whose name starts with prefix."""
    vstest.remove_domains(prefix)
    for name in volumes(prefix):
        vstest.virsh("vol-delete", name, "--pool", "default", check=False)


def define_template(name, port, quota=50000, mem_mib=96):
    """The web guest's template domain, shut off; the guest is built first
    (cached). quota: CPU µs per 100 ms period."""
    r = vstest.run(["sh", os.path.join(GUEST, "define-template.sh"), name, str(port),
                    str(quota), str(mem_mib)], check=False, timeout=900)
    if r.returncode != 0:
        raise AssertionError(f"define-template.sh failed: {r.stdout}{r.stderr}")
    return name


class Loop:
    """One config for all three programs and the loop's daemons.

    pool: the pool's name; keys: its [pool] keys (template, name_pattern...);
    lb_sections: the [nginx] or [apache] group ({"nginx": {...}})."""

    def __init__(self, tmp, daemons, pool, keys, lb_sections=None, snmp_port=19801):
        self.tmp = str(tmp)
        os.makedirs(self.tmp, exist_ok=True)
        self.pool = pool
        self.keys = keys
        self.sock = os.path.join(self.tmp, "actuator.sock")
        # SnmpBed writes the one file: its groups and these
        self.snmp = snmpbed.SnmpBed(self.tmp, daemons, agent_port=snmp_port,
                                    trap_port=snmp_port + 1, sections={
                                        # the socket's group must exist: root's
                                        "actuator": {"socket": self.sock,
                                                     "socket_group": "root"},
                                        **(lb_sections or {}), f"pool {pool}": keys})
        self.conf = self.snmp.conf
        r = self.ctl("check-config")
        if r.returncode != 0:
            raise AssertionError(f"config refused: {r.stdout}{r.stderr}")
        # actbed's client (status, notify), pointed at this config
        self.act = Actuator(os.path.join(self.tmp, "actbed"), daemons, pool, "1-1")
        self.act.conf, self.act.sock, self.act.state = self.conf, self.sock, self.snmp.state
        prefix = keys["name_pattern"].split("%")[0]
        self.act.prefix, self.act.template = prefix, keys["template"]
        self.daemons = daemons
        self.collectd_dir = os.path.join(self.tmp, "collectd")
        os.makedirs(self.collectd_dir, exist_ok=True)
        self.collectd = None

    def ctl(self, *args):
        return subprocess.run([vstest.build_path("actuator", "virtscalectl"), "-c", self.conf,
                               *args], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **vstest.sanitizer_env()})

    def start(self, snmp=True, collectd=True):
        if snmp:
            self.snmp.start_snmpd()
            self.snmp.start_subagent()
        self.act.start()
        if collectd:
            self.start_collectd()

    def start_collectd(self):
        conf = collectdtest.write_collectd_conf(self.collectd_dir, self.conf)
        self.collectd = collectdtest.start_collectd(self.daemons, conf)

    def stop_actuator(self):
        if self.act.proc:
            self.act.proc.stop()
            self.act.proc = None

    def status(self):
        return self.act.pool_status()

    @staticmethod
    def running_of(st):
        return [i for i in st["instances"] if i["state"] == "running"]

    def wait_steady(self, n, timeout):
        """Waits until n instances run, in libvirt and per the actuator, and
        no action is under way; returns the pool status."""
        def ok():
            st = self.status()
            return (st["phase"] in ("idle", "cooldown") and len(self.running_of(st)) == n and
                    len(self.act.running()) == n and st)
        return vstest.wait_for(ok, timeout, interval=1, what=f"{n} running instances")

    def csv(self, plugin_instance, type_name):
        return collectdtest.csv_last(self.collectd_dir, plugin_instance, type_name)


def parse_vsresult(text):
    m = re.search(r"^VSRESULT (.*)$", text, re.M)
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())} if m else {}


class Wrk:
    """wrk in the background: clients connections, each waiting a random
    0..2*think_ms after every response (0: closed loop, always a request in
    flight)."""

    def __init__(self, url, clients, logpath, think_ms=0, seconds=900, timeout=20):
        self.log = open(logpath, "w")
        self.proc = subprocess.Popen(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s",
                                      "--timeout", f"{timeout}s", "-s", THINK_LUA, url, "--",
                                      str(think_ms)], stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        """Stops wrk (SIGINT: it still reports) and returns its VSRESULT."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        with open(self.log.name) as f:
            return parse_vsresult(f.read())


def availability(r):
    """wrk: answered 2xx/3xx / (answers + socket errors), in percent. wrk's
    own timeout counter is left out: it counts, every 2 s, each connection
    whose last request started more than --timeout ago, thinking clients
    included, and a slow request still completes (its time is in the
    latency figures)."""
    failed = r["connect"] + r["read"] + r["write"]
    total = r["requests"] + failed
    return 100.0 * (r["requests"] - r["status_errors"]) / total if total else 0.0


SIEGERC = """verbose = false
quiet = true
json_output = true
show-logfile = false
logging = false
protocol = HTTP/1.1
connection = close
parser = false
failures = 10000000
limit = 10000
timeout = {timeout}
"""


def siege(url, clients, seconds, workdir, delay_s=0, timeout=10):
    """Runs siege (the seeds' load generator) and returns its JSON figures:
    transactions, availability (answers < 400 / all, socket failures and
    timeouts counted as failed), response_time (s, average),
    transaction_rate, failed_transactions, longest_transaction. Every client
    waits a random 0..delay_s before each request; one connection per
    request. HOME is workdir: siege writes a config template there."""
    import json
    rc = os.path.join(workdir, "siegerc")
    with open(rc, "w") as f:
        f.write(SIEGERC.format(timeout=timeout))
    argv = ["siege", "-R", rc, "-c", str(clients), "-t", f"{seconds}S"]
    argv += ["-d", str(delay_s)] if delay_s else ["-b"]
    r = subprocess.run(argv + [url], capture_output=True, text=True, timeout=seconds + 300,
                       env={**os.environ, "HOME": workdir})
    start = r.stdout.find("{")
    if start < 0:
        raise AssertionError(f"siege printed no figures: {r.stdout}{r.stderr}")
    return json.loads(r.stdout[start:r.stdout.rindex("}") + 1])


def uuid_of(name):
    return vstest.virsh("domuuid", name).stdout.strip()


def answered_by(url, n=30, timeout=30):
    """{domain uuid or 'HTTP status': count} of n requests to url: the guest's
    page names its SMBIOS UUID, which libvirt sets to the domain's UUID."""
    seen = {}
    for _ in range(n):
        status, body = lb_bed.get(url, timeout=timeout)
        m = re.search(r"uuid ([0-9a-f-]{36})", body)
        key = m.group(1) if status == 200 and m else f"HTTP {status}"
        seen[key] = seen.get(key, 0) + 1
    return seen


def upstream_servers(text):
    """The enabled servers of a rendered nginx upstream include."""
    return sorted(re.findall(r"^\tserver (127\.0\.0\.1:\d+);", text, re.M))
