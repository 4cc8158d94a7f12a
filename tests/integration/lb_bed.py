"""Test bed of the load-balancer tests and bench/lb: real HTTP backends on
127.0.0.x that name themselves, a real nginx and a real Apache httpd (from
Debian) on loopback ports with their own configs, and the vs-lb-tool runner.

Backends answer ``GET /`` with their name and ``GET /slow?ms=N`` after N ms;
they count requests and remember when the first one arrived.
"""
import http.server
import os
import socketserver
import subprocess
import threading
import time
import urllib.request

import vstest

# Ports of the lb area: 19500-19599.
NGINX_PORT = 19500
APACHE_PORT = 19501
APACHE_OTHER_PORT = 19502  # a vhost whose ServerName is not the one we call
BACKEND_PORT = 19510


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Backend:
    """A real HTTP server on host:port, in a thread of the test process."""

    def __init__(self, host, port=BACKEND_PORT, name=None, delay_ms=0):
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

    def reset(self):
        with self.lock:
            self.hits = 0
            self.first_hit = None

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def get(url, timeout=10):
    """(status, body) of GET url; status 0 when the connection failed."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return 0, ""


def spread(url, n=20):
    """Sends n sequential requests; returns {body: count}."""
    seen = {}
    for _ in range(n):
        status, body = get(url)
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


def write_config(path, body, lb):
    """A virtscale.conf with one pool 'web' behind lb (nginx | apache) and the
    given [nginx]/[apache] text."""
    text = ("[libvirt]\nuri = test:///default\n\n"
            f"[actuator]\nstate_dir = {os.path.dirname(path)}\n\n"
            f"{body}\n"
            "[pool web]\ntemplate = web-template\nname_pattern = web-%02d\n"
            f"lb = {lb}\n")
    with open(path, "w") as f:
        f.write(text)
    return path


# --- nginx ---------------------------------------------------------------

NGINX_PLACEHOLDER = ("# virtscale: pool web. Rewritten on every change; do not edit.\n"
                     "upstream web {\n\tserver 127.0.0.1:1 down; # placeholder\n}\n")


class Nginx:
    """A real nginx (one worker) proxying 127.0.0.1:port to upstream 'web'
    from an include file the driver owns."""

    def __init__(self, tmpdir, daemons, port=NGINX_PORT, method="round-robin", extra=""):
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
        self.config = write_config(os.path.join(self.dir, "virtscale.conf"), f"""[nginx]
upstream_file = {self.upstream_file}
upstream = web
conf = {self.conf}
pid_file = {self.pid_file}
binary = /usr/sbin/nginx
method = {method}
{extra}
""", "nginx")
        self.daemon = daemons(["/usr/sbin/nginx", "-p", d, "-c", self.conf,
                               "-g", "daemon off;"], name="nginx")
        vstest.wait_port(port)
        self.url = f"http://127.0.0.1:{port}"

    def set_method(self, method):
        with open(self.config) as f:
            text = f.read()
        for m in ("round-robin", "least_conn"):
            text = text.replace(f"method = {m}", f"method = {method}")
        with open(self.config, "w") as f:
            f.write(text)

    def workers(self):
        master = self.daemon.proc.pid
        with open(f"/proc/{master}/task/{master}/children") as f:
            return f.read().split()

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
    canonical name is not 127.0.0.1 (a manager that rejects our Referer)."""

    def __init__(self, tmpdir, daemons, port=APACHE_PORT, other_port=APACHE_OTHER_PORT,
                 growth=3, manager_url=None):
        self.dir = os.path.join(str(tmpdir), "apache")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        self.conf = os.path.join(self.dir, "httpd.conf")
        d = self.dir
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
ServerName 127.0.0.1
BalancerPersist On
<Proxy balancer://web>
    ProxySet growth={growth} lbmethod=byrequests
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
        return write_config(os.path.join(self.dir, name),
                            f"[apache]\nbalancer_manager = {manager}\nbalancer = web\ntimeout = 3\n",
                            "apache")

    def error_log(self):
        with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
            return f.read()
