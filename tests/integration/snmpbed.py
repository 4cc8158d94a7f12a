"""The SNMP test bed: a real snmpd master (AgentX on a socket of its own),
a real snmptrapd, and virtscale-snmp, all on 127.0.0.1 with ports from the
snmp area's range (19100-19199). Used by test_snmp_*.py and bench/snmp-walk.
"""
import os
import re
import subprocess
import time

import vstest

VM_MIB = "1.3.6.1.2.1.236"
VS_MIB = "1.3.6.1.4.1.8072.9999.9999"
VM_ENTRY = VM_MIB + ".1.4.1"
SNMP_ENV = {"MIBS": "", "MIBDIRS": ""}

# vmTable columns
COL = {"name": 2, "uuid": 3, "ostype": 4, "admin": 5, "oper": 6, "autostart": 7,
       "persistent": 8, "curcpu": 9, "mincpu": 10, "maxcpu": 11, "memunit": 12,
       "curmem": 13, "minmem": 14, "maxmem": 15, "uptime": 16, "cputime": 17}


def snmp_env():
    env = dict(os.environ)
    env.update(SNMP_ENV)
    return env


def parse_walk(text):
    """snmpwalk -On -Ox -Ot output -> {oid: (type, value)}; OCTET STRINGs
    become bytes, numbers int, OIDs str. Hex lines may wrap."""
    out = {}
    last = None
    for line in text.splitlines():
        m = re.match(r"^(\.[0-9.]+) = (.*)$", line)
        if not m:
            if last and out[last][0] == "hex":
                out[last] = ("hex", out[last][1] + bytes.fromhex(line.strip()))
            continue
        oid, rest = m.group(1).lstrip("."), m.group(2)
        if rest.startswith("Hex-STRING:"):
            out[oid] = ("hex", bytes.fromhex(rest[len("Hex-STRING:"):].strip()))
        elif rest == '""':
            out[oid] = ("hex", b"")
        elif rest.startswith("STRING:"):
            out[oid] = ("hex", rest[len("STRING:"):].strip().strip('"').encode())
        elif rest.startswith("OID:"):
            out[oid] = ("oid", rest[4:].strip().lstrip("."))
        elif re.fullmatch(r"-?[0-9]+", rest.strip()):
            out[oid] = ("Timeticks", int(rest))  # -Ot prints raw ticks without a type
        elif ":" in rest:
            t, v = rest.split(":", 1)
            v = v.strip()
            try:
                out[oid] = (t.strip(), int(v))
            except ValueError:
                out[oid] = (t.strip(), v)
        else:
            out[oid] = ("other", rest)
        last = oid
    return out


class SnmpBed:
    """One snmpd + snmptrapd + virtscale-snmp set, started by a test."""

    def __init__(self, tmpdir, daemons, agent_port=19101, trap_port=19102, uri=vstest.URI,
                 sections=None, ping=1):
        self.dir = str(tmpdir)
        self.daemons = daemons
        self.agent_port = agent_port
        self.trap_port = trap_port
        self.sock = os.path.join(self.dir, "agentx.sock")
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state, exist_ok=True)
        self.traps_log = os.path.join(self.dir, "traps.log")
        self.snmpd_pid_file = os.path.join(self.dir, "snmpd.pid")
        self.sub_pid_file = os.path.join(self.dir, "virtscale-snmp.pid")
        self.snmpd = self.trapd = self.sub = None
        self.conf = os.path.join(self.dir, "virtscale.conf")
        vstest.write_config(self.conf, {
            "libvirt": {"uri": uri, "refresh_interval": 1, "slow_interval": 1},
            "snmp": {"agentx_socket": self.sock, "agentx_ping_interval": ping},
            "actuator": {"state_dir": self.state}}, sections or {})
        with open(os.path.join(self.dir, "snmpd.conf"), "w") as f:
            f.write(f"agentAddress udp:127.0.0.1:{agent_port}\n"
                    "rocommunity public 127.0.0.1\n"
                    "rwcommunity private 127.0.0.1\n"
                    "master agentx\n"
                    f"agentXSocket {self.sock}\n"
                    "agentXPerms 0777 0755\n"
                    "agentXTimeout 1\nagentXRetries 5\n"
                    f"trap2sink 127.0.0.1:{trap_port} public\n")
        with open(os.path.join(self.dir, "snmptrapd.conf"), "w") as f:
            f.write("authCommunity log public\n")

    # --- daemons ---------------------------------------------------------
    def start_snmpd(self):
        # snmpd writes its persistent state as snmpd.conf in this directory:
        # never the directory of our own snmpd.conf
        persist = os.path.join(self.dir, "snmpd-persist")
        os.makedirs(persist, exist_ok=True)
        env = dict(SNMP_ENV, SNMP_PERSISTENT_DIR=persist)
        self.snmpd = self.daemons(
            ["snmpd", "-f", "-C", "-c", os.path.join(self.dir, "snmpd.conf"), "-Lo",
             "-p", self.snmpd_pid_file, "-I", "-smux"],
            name="snmpd", env=env, pid_file=self.snmpd_pid_file)
        vstest.wait_for(lambda: self.get_raw("1.3.6.1.2.1.1.3.0", check=False).returncode == 0,
                        10, what="snmpd to answer")
        return self.snmpd

    def stop_snmpd(self):
        if self.snmpd:
            self.snmpd.stop()
            self.snmpd = None

    def start_trapd(self):
        self.trapd = self.daemons(
            ["snmptrapd", "-f", "-C", "-c", os.path.join(self.dir, "snmptrapd.conf"),
             "-Lf", self.traps_log, "-On", "-Ox", "-F", "TRAP %V\t%v\n",
             "-p", os.path.join(self.dir, "snmptrapd.pid"), f"udp:127.0.0.1:{self.trap_port}"],
            name="snmptrapd", env=dict(SNMP_ENV))
        time.sleep(0.3)
        return self.trapd

    def start_subagent(self, wait=True):
        """virtscale-snmp with its pid file (self.sub_pid_file), which a
        test that signals it goes by."""
        self.sub = self.daemons(
            [vstest.build_path("snmp-subagent", "virtscale-snmp"), "-f", "-c", self.conf,
             "-p", self.sub_pid_file],
            name="virtscale-snmp", env=vstest.sanitizer_env(), pid_file=self.sub_pid_file)
        self.sub.wait_pid_file()
        if wait:
            self.wait_registered()
        return self.sub

    def stop_subagent(self):
        if self.sub:
            self.sub.stop()
            self.sub = None

    def wait_rows(self, *names, timeout=20):
        """Waits until vmTable lists every one of @names; returns the rows."""
        return vstest.wait_for(lambda: (lambda r: r if all(n in r for n in names) else None)(
            self.rows_by_name()), timeout, what=f"rows for {names}")

    def wait_registered(self, timeout=15):
        vstest.wait_for(lambda: VM_MIB + ".1.2.0" in self.walk(VM_MIB + ".1.2", check=False),
                        timeout, what="the subagent to register with the master")

    # --- requests --------------------------------------------------------
    def _base(self, community="public", timeout=1, retries=0):
        return ["-v2c", "-c", community, "-On", "-Ox", "-Ot", "-t", str(timeout),
                "-r", str(retries)]

    def get_raw(self, *oids, check=True, timeout=1):
        return subprocess.run(["snmpget", *self._base(timeout=timeout),
                               f"127.0.0.1:{self.agent_port}", *oids],
                              capture_output=True, text=True, env=snmp_env(), check=check,
                              timeout=30)

    def get(self, *oids):
        return parse_walk(self.get_raw(*oids).stdout)

    def walk(self, oid=VM_MIB, check=True, timeout=1, retries=0):
        r = subprocess.run(["snmpbulkwalk", *self._base(timeout=timeout, retries=retries),
                            "-Cr50", f"127.0.0.1:{self.agent_port}", oid],
                           capture_output=True, text=True, env=snmp_env(), timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"walk of {oid} failed: {r.stderr}")
        return parse_walk(r.stdout)

    def set(self, oid, typ, value, community="private"):
        return subprocess.run(["snmpset", *self._base(community=community),
                               f"127.0.0.1:{self.agent_port}", oid, typ, str(value)],
                              capture_output=True, text=True, env=snmp_env(), timeout=30)

    # --- helpers ---------------------------------------------------------
    def rows_by_name(self, walk=None):
        """{domain name: vmIndex} from a walk."""
        # a polling helper: a slow answer on a loaded host is retried, not fatal
        walk = walk if walk is not None else self.walk(VM_ENTRY + f".{COL['name']}",
                                                       check=False, timeout=2, retries=1)
        prefix = f"{VM_ENTRY}.{COL['name']}."
        return {v[1].decode("utf-8", "replace"): int(k[len(prefix):])
                for k, v in walk.items() if k.startswith(prefix)}

    def col(self, walk, name, idx):
        v = walk.get(f"{VM_ENTRY}.{COL[name]}.{idx}")
        return None if v is None else v[1]

    def traps(self):
        """Every trap of snmptrapd's log as {oid: value text}; a long
        Hex-STRING that snmptrapd wrapped over several lines does not hide
        the varbinds after it."""
        if not os.path.exists(self.traps_log):
            return []
        out = []
        with open(self.traps_log, errors="replace") as f:
            text = f.read()
        for chunk in re.split(r"(?m)^TRAP ", text)[1:]:
            vbs = {}
            for part in chunk.split("\t"):
                m = re.match(r"^\s*\.?([0-9.]+) = (.*)$", part, re.S)
                if m:
                    vbs[m.group(1)] = m.group(2).strip()
            out.append(vbs)
        return out
