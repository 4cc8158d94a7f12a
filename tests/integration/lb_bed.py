"""Test bed of the load-balancer tests and bench/lb: real HTTP backends on
127.0.0.x that name themselves, a real nginx and a real Apache httpd (from
Debian) on loopback ports with their own configs, and the vs-lb-tool runner.

Backends answer ``GET /`` with their name and ``GET /slow?ms=N`` after N ms;
they count requests and remember when the first one arrived.
"""
import os
import subprocess
import time
import urllib.request

import vstest

# Ports of the lb area: 19500-19599.
NGINX_PORT = 19500
APACHE_PORT = 19501
APACHE_OTHER_PORT = 19502  # a vhost whose ServerName is not the one we call


def get(url, timeout=10):
    """(status, body) of GET url; status 0 when the connection failed."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return 0, ""


def spread(url, n=20, timeout=10):
    """Sends n sequential requests, each given @timeout seconds; returns
    {body: count}."""
    seen = {}
    for _ in range(n):
        status, body = get(url, timeout=timeout)
        key = body if status == 200 else f"HTTP {status}"
        seen[key] = seen.get(key, 0) + 1
    return seen


def tool_path():
    return vstest.build_path("tests", "tools", "vs-lb-tool")


def lb_tool(config, *args, pool="web", check=None, timeout=60):
    """Runs vs-lb-tool; returns CompletedProcess. check=True asserts success,
    check=False asserts failure."""
    argv = [tool_path(), "-c", config, "-p", pool, *args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **vstest.sanitizer_env()})
    if check is True:
        assert r.returncode == 0, f"{args}: rc={r.returncode} {r.stderr}"
    elif check is False:
        assert r.returncode == 1, f"{args}: rc={r.returncode} {r.stdout} {r.stderr}"
    return r


def list_members(config, pool="web"):
    """{address: (state, busy)} from vs-lb-tool list."""
    out = lb_tool(config, "list", pool=pool, check=True).stdout
    members = {}
    for line in out.splitlines():
        parts = line.split()
        members[parts[0]] = (parts[1], int(parts[4].split("=")[1]))
    return members


def write_config(path, lb, sections):
    """A virtscale.conf with one pool 'web' behind lb (nginx | apache) and
    the balancer's group(s) in @sections."""
    return vstest.write_config(path, {
        "libvirt": {"uri": "test:///default"},
        "actuator": {"state_dir": os.path.dirname(str(path))}}, sections, {
        "pool web": {"template": "web-template", "name_pattern": "web-%02d", "lb": lb}})


# --- nginx ---------------------------------------------------------------

NGINX_PLACEHOLDER = ("# virtscale: pool web. Rewritten on every change; do not edit.\n"
                     "upstream web {\n\tserver 127.0.0.1:1 down; # placeholder\n}\n")


class Nginx:
    """A real nginx (one worker) proxying 127.0.0.1:port to upstream 'web'
    from an include file the driver owns."""

    def __init__(self, tmpdir, daemons, port=NGINX_PORT, method="round-robin", nginx_keys=None):
        self.dir = os.path.join(str(tmpdir), "nginx")
        self.port = port
        os.makedirs(os.path.join(self.dir, "conf.d"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.pid_file = os.path.join(self.dir, "nginx.pid")
        self.upstream_file = os.path.join(self.dir, "conf.d", "virtscale-web.conf")
        with open(self.upstream_file, "w") as f:
            f.write(NGINX_PLACEHOLDER)
        d = self.dir
        with open(self.conf, "w") as f:
            f.write(f"""worker_processes 1;
error_log {d}/error.log info;
pid {d}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/conf.d/*.conf;
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://web; proxy_next_upstream off; }}
    }}
}}
""")
        self.nginx_keys = {"upstream_file": self.upstream_file, "upstream": "web",
                           "conf": self.conf, "pid_file": self.pid_file,
                           "binary": "/usr/sbin/nginx", "method": method, **(nginx_keys or {})}
        self.config = write_config(os.path.join(self.dir, "virtscale.conf"), "nginx",
                                   {"nginx": self.nginx_keys})
        self.daemon = daemons(["/usr/sbin/nginx", "-p", d, "-c", self.conf,
                               "-g", "daemon off;"], name="nginx", pid_file=self.pid_file)
        vstest.wait_port(port)
        self.url = f"http://127.0.0.1:{port}"

    def set_method(self, method):
        """Rewrites the config with another balancing method."""
        self.nginx_keys["method"] = method
        write_config(self.config, "nginx", {"nginx": self.nginx_keys})

    def workers(self):
        master = self.daemon.proc.pid
        with open(f"/proc/{master}/task/{master}/children") as f:
            return f.read().split()

    def settled_workers(self, timeout=15):
        """The worker pids once the previous generation has exited: after a
        reload the old worker finishes its connections before it leaves, so
        a snapshot taken at once may still list it."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.workers()
            if len(pids) == 1 or time.monotonic() > deadline:
                return pids
            time.sleep(0.05)

    def upstream_text(self):
        with open(self.upstream_file) as f:
            return f.read()

    def error_log(self):
        with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
            return f.read()


# --- Apache httpd ----------------------------------------------------------

APACHE_MODULES = ["mpm_event", "authz_core", "authz_host", "slotmem_shm", "proxy",
                  "proxy_http", "proxy_balancer", "lbmethod_byrequests", "status"]


class Apache:
    """A real httpd with balancer://web (growth slots, no static member) and
    its balancer-manager on 127.0.0.1:port, plus a vhost on other_port whose
    canonical name is not 127.0.0.1 (a manager that rejects our Referer).
    @static_members are BalancerMember addresses of the config (the
    operator's, not virtscale's). @extra_conf is added to the server config as it is (LoadModule lines
    included)."""

    def __init__(self, tmpdir, daemons, port=APACHE_PORT, other_port=APACHE_OTHER_PORT,
                 growth=3, manager_url=None, extra_conf="", static_members=()):
        self.dir = os.path.join(str(tmpdir), "apache")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        self.conf = os.path.join(self.dir, "httpd.conf")
        d = self.dir
        static = "".join(f"    BalancerMember http://{m}\n" for m in static_members)
        modules = "\n".join(
            f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so" for m in APACHE_MODULES)
        manager = """    <Location /balancer-manager>
        SetHandler balancer-manager
        Require ip 127.0.0.1
    </Location>"""
        with open(self.conf, "w") as f:
            f.write(f"""ServerRoot {d}
Listen 127.0.0.1:{port}
Listen 127.0.0.1:{other_port}
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
LogLevel warn
DefaultRuntimeDir {d}
Mutex file:{d}
User nobody
Group nogroup
{modules}
{extra_conf}
ServerName 127.0.0.1
BalancerPersist On
<Proxy balancer://web>
{static}    ProxySet growth={growth} lbmethod=byrequests
</Proxy>
<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
    ProxyPass /balancer-manager !
    ProxyPass / balancer://web/
{manager}
</VirtualHost>
<VirtualHost 127.0.0.1:{other_port}>
    ServerName manager.invalid
    UseCanonicalName On
{manager}
</VirtualHost>
""")
        self.manager = manager_url or f"http://127.0.0.1:{port}/balancer-manager"
        self.config = self.write_config(self.manager)
        self.daemon = daemons(["/usr/sbin/apache2", "-d", d, "-f", self.conf, "-DFOREGROUND"],
                              name="apache2", env={"APACHE_RUN_DIR": d, "APACHE_LOCK_DIR": d,
                                                   "APACHE_LOG_DIR": d})
        vstest.wait_port(port)
        self.url = f"http://127.0.0.1:{port}"

    def write_config(self, manager, name="virtscale.conf"):
        self.apache_keys = {"balancer_manager": manager, "balancer": "web", "timeout": 3}
        return write_config(os.path.join(self.dir, name), "apache", {"apache": self.apache_keys})

    def error_log(self):
        with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
            return f.read()
