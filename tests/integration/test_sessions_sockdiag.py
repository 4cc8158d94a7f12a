"""Session sources against real servers on loopback: the sock_diag count of
real held-open TCP connections (IPv4 and IPv6, remote and local end, behind a
real nginx proxy), Apache's server-status and balancer-manager, and nginx's
stub_status, all read through tests/tools/vs-sessions-count (lib/)."""
import contextlib
import os
import random
import socket
import textwrap

import pytest

import vstest

PORTS = range(19700, 19800)
SLOW_BACKEND = textwrap.dedent("""\
    import http.server, sys, time
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(float(sys.argv[3]))
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"ok\\n")
        def log_message(self, *a):
            pass
    http.server.ThreadingHTTPServer.daemon_threads = True
    http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
    """)


def tool():
    path = vstest.build_path("tests", "tools", "vs-sessions-count")
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} not built")
    return path


def port_in_range(family=socket.AF_INET, host="127.0.0.1"):
    """A port of this area's range (19700-19799) that is free right now."""
    candidates = list(PORTS)
    random.shuffle(candidates)
    for p in candidates:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, p))
                return p
            except OSError:
                continue
    pytest.skip("no free port in 19700-19799")


def count(*endpoints, local=False):
    argv = [tool()] + (["--local"] if local else []) + list(endpoints)
    r = vstest.run(argv, env={**os.environ, **vstest.sanitizer_env()})
    return [int(line) for line in r.stdout.split()]


def count_http(url):
    r = vstest.run([tool(), "--http", url], check=False,
                   env={**os.environ, **vstest.sanitizer_env()})
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


@contextlib.contextmanager
def connections(host, port, n, family=socket.AF_INET, request=None):
    """n TCP connections held open (optionally each sends @request)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect((host, port))
            if request:
                s.sendall(request)
            socks.append(s)
        yield socks
    finally:
        for s in socks:
            s.close()


def start_http_server(daemons, host, tmp_path):
    port = port_in_range(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    daemons(["/usr/bin/python3", "-m", "http.server", "-b", host, "-d", str(tmp_path),
             str(port)], name=f"http-server-{port}")
    vstest.wait_port(port, host=host)
    return port


def test_sockdiag_counts_real_connections_ipv4(daemons, tmp_path):
    a = start_http_server(daemons, "127.0.0.1", tmp_path)
    b = start_http_server(daemons, "127.0.0.1", tmp_path)
    ea, eb = f"127.0.0.1:{a}", f"127.0.0.1:{b}"
    assert count(ea, eb) == [0, 0]
    with connections("127.0.0.1", a, 7), connections("127.0.0.1", b, 2):
        # The clients' sockets have the server as their remote end; the
        # server's accepted sockets have it as their local end.
        vstest.wait_for(lambda: count(ea, eb) == [7, 2], what="7 and 2 sessions")
        vstest.wait_for(lambda: count(ea, eb, local=True) == [7, 2], what="7 and 2 accepted")
        # The same endpoint twice is counted for each entry.
        assert count(eb, ea, eb) == [2, 7, 2]
    vstest.wait_for(lambda: count(ea, eb) == [0, 0], what="sessions to close")
    vstest.wait_for(lambda: count(ea, eb, local=True) == [0, 0], what="server side to close")


def test_sockdiag_multipart_dump():
    """Enough sockets (600 with both ends) that the kernel answers the dump
    in several netlink messages. A plain listener with a deep backlog: the
    kernel completes every handshake (http.server's backlog of 5 would make
    the clients wait for SYN retransmits)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port_in_range()))
        listener.listen(1024)
        ep = "127.0.0.1:%d" % listener.getsockname()[1]
        with connections("127.0.0.1", listener.getsockname()[1], 300):
            vstest.wait_for(lambda: count(ep) == [300], what="300 sessions")
            assert count(ep, local=True) == [300]
        vstest.wait_for(lambda: count(ep) == [0], what="300 sessions to close")


def test_sockdiag_counts_real_connections_ipv6(daemons, tmp_path):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1")
    p = start_http_server(daemons, "::1", tmp_path)
    with connections("::1", p, 5, family=socket.AF_INET6):
        vstest.wait_for(lambda: count(f"[::1]:{p}") == [5], what="5 IPv6 sessions")
        assert count(f"[::1]:{p}", local=True) == [5]
        # Not confused with the IPv4 endpoint of the same port.
        assert count(f"127.0.0.1:{p}") == [0]
    vstest.wait_for(lambda: count(f"[::1]:{p}") == [0], what="IPv6 sessions to close")


def test_http_source_bounds(daemons, tmp_path):
    """A status page is read whole or not at all: bodies over the limit
    (1 MiB in the tool) and unreachable servers are errors."""
    (tmp_path / "big").write_bytes(b"1" * (2 * 1024 * 1024))
    (tmp_path / "small").write_bytes(b"23\n")
    p = start_http_server(daemons, "127.0.0.1", tmp_path)
    assert count_http(f"http://127.0.0.1:{p}/small") == 23
    r = vstest.run([tool(), "--http", f"http://127.0.0.1:{p}/big"], check=False)
    assert r.returncode == 1 and "larger than" in r.stderr
    dead = port_in_range()
    r = vstest.run([tool(), "--http", f"http://127.0.0.1:{dead}/"], check=False)
    assert r.returncode == 1 and r.stdout == ""


def test_sockdiag_rejects_bad_endpoints():
    r = vstest.run([tool(), "localhost:80"], check=False)
    assert r.returncode == 2 and "numeric" in r.stderr
    r = vstest.run([tool(), "127.0.0.1:99999"], check=False)
    assert r.returncode == 2


@pytest.mark.skipif(not vstest.have("nginx"), reason="nginx not installed")
def test_sockdiag_counts_proxy_upstream_connections(daemons, tmp_path):
    """The production case: a real nginx on this host proxies to a backend;
    sock_diag sees nginx's upstream connections towards that backend."""
    backend = port_in_range()
    script = tmp_path / "slow.py"
    script.write_text(SLOW_BACKEND)
    daemons(["/usr/bin/python3", str(script), "127.0.0.1", str(backend), "6"], name="slow")
    vstest.wait_port(backend)
    front = port_in_range()
    conf = tmp_path / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""\
        daemon off;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/nginx-error.log;
        events {{ worker_connections 128; }}
        http {{
            access_log off;
            client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};
            fastcgi_temp_path {tmp_path}; uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};
            server {{
                listen 127.0.0.1:{front};
                location / {{ proxy_pass http://127.0.0.1:{backend}; proxy_read_timeout 30s; }}
            }}
        }}
        """))
    daemons(["nginx", "-c", str(conf), "-p", str(tmp_path), "-e", f"{tmp_path}/nginx-error.log"],
            name="nginx-proxy")
    vstest.wait_port(front)
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connections("127.0.0.1", front, 4, request=request):
        vstest.wait_for(lambda: count(f"127.0.0.1:{backend}") == [4], timeout=5,
                        what="4 upstream sessions")
    vstest.wait_for(lambda: count(f"127.0.0.1:{backend}") == [0], timeout=15,
                    what="upstream sessions to end")


APACHE_MODULES = ["mpm_event", "authz_core", "status", "proxy", "proxy_http", "proxy_balancer",
                  "slotmem_shm", "lbmethod_byrequests"]


@pytest.mark.skipif(not vstest.have("apache2"), reason="apache2 not installed")
def test_apache_server_status_and_balancer_busy(daemons, tmp_path):
    backend = port_in_range()
    script = tmp_path / "slow.py"
    script.write_text(SLOW_BACKEND)
    daemons(["/usr/bin/python3", str(script), "127.0.0.1", str(backend), "6"], name="slow")
    vstest.wait_port(backend)
    port = port_in_range()
    idle = port_in_range()
    loads = "\n".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so"
                      for m in APACHE_MODULES)
    conf = tmp_path / "httpd.conf"
    conf.write_text(textwrap.dedent("""\
        ServerRoot {d}
        ServerName 127.0.0.1
        Listen 127.0.0.1:{port}
        PidFile {d}/httpd.pid
        ErrorLog {d}/error.log
        DefaultRuntimeDir {d}
        DocumentRoot {d}
        {loads}
        ExtendedStatus On
        <Proxy "balancer://web">
            BalancerMember "http://127.0.0.1:{backend}"
            BalancerMember "http://127.0.0.1:{idle}" status=+D
            ProxySet lbmethod=byrequests
        </Proxy>
        ProxyPass "/app" "balancer://web" timeout=30
        <Location "/balancer-manager">
            SetHandler balancer-manager
        </Location>
        <Location "/server-status">
            SetHandler server-status
        </Location>
        """).format(d=tmp_path, port=port, loads=loads, backend=backend, idle=idle))
    daemons(["apache2", "-d", str(tmp_path), "-f", str(conf), "-DFOREGROUND"], name="apache2")
    vstest.wait_port(port)
    status = f"http://127.0.0.1:{port}/server-status?auto"
    manager = f"http://127.0.0.1:{port}/balancer-manager?b=web&xml=1"

    # The status request itself is one busy worker.
    vstest.wait_for(lambda: count_http(status) == 1, what="BusyWorkers 1")

    def balancer():
        r = vstest.run([tool(), "--balancer", manager, "web"],
                       env={**os.environ, **vstest.sanitizer_env()})
        return dict((n, int(b)) for n, b in (line.split() for line in r.stdout.splitlines()))

    assert balancer() == {f"http://127.0.0.1:{backend}": 0, f"http://127.0.0.1:{idle}": 0}
    request = b"GET /app HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connections("127.0.0.1", port, 3, request=request):
        vstest.wait_for(lambda: count_http(status) == 4, timeout=5, what="BusyWorkers 4")
        vstest.wait_for(lambda: balancer()[f"http://127.0.0.1:{backend}"] == 3, timeout=5,
                        what="worker busy 3")
        assert balancer()[f"http://127.0.0.1:{idle}"] == 0
        # sock_diag agrees: httpd holds 3 connections to the backend.
        assert count(f"127.0.0.1:{backend}") == [3]
    vstest.wait_for(lambda: count_http(status) == 1, timeout=15, what="BusyWorkers back to 1")

    # A page that is not a session count is an error, not a number.
    r = vstest.run([tool(), "--http", f"http://127.0.0.1:{port}/balancer-manager"], check=False)
    assert r.returncode == 1 and "no session count" in r.stderr
    r = vstest.run([tool(), "--http", f"http://127.0.0.1:{port}/nothing-here"], check=False)
    assert r.returncode == 1 and "404" in r.stderr


@pytest.mark.skipif(not vstest.have("nginx"), reason="nginx not installed")
def test_nginx_stub_status(daemons, tmp_path):
    port = port_in_range()
    conf = tmp_path / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""\
        daemon off;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/nginx-error.log;
        events {{ worker_connections 128; }}
        http {{
            access_log off;
            client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};
            fastcgi_temp_path {tmp_path}; uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};
            keepalive_timeout 60s;
            server {{
                listen 127.0.0.1:{port};
                location /stub {{ stub_status; }}
                location /count {{ return 200 "17\\n"; }}
                location /redirect {{ return 302 "file:///etc/passwd"; }}
            }}
        }}
        """))
    daemons(["nginx", "-c", str(conf), "-p", str(tmp_path), "-e", f"{tmp_path}/nginx-error.log"],
            name="nginx-stub")
    vstest.wait_port(port)
    url = f"http://127.0.0.1:{port}/stub"
    vstest.wait_for(lambda: count_http(url) == 1, what="Active connections 1")
    with connections("127.0.0.1", port, 6):
        # Six idle connections plus the status request itself.
        vstest.wait_for(lambda: count_http(url) == 7, timeout=5, what="Active connections 7")
        assert count(f"127.0.0.1:{port}") == [6]
    vstest.wait_for(lambda: count_http(url) == 1, timeout=10, what="Active connections 1")
    # A plain number page.
    assert count_http(f"http://127.0.0.1:{port}/count") == 17
    # A redirect to another protocol is refused.
    r = vstest.run([tool(), "--http", f"http://127.0.0.1:{port}/redirect"], check=False)
    assert r.returncode == 1
    # Only http(s) URLs.
    r = vstest.run([tool(), "--http", "file:///etc/hostname"], check=False)
    assert r.returncode == 1 and "http" in r.stderr


COUNT_BACKEND = textwrap.dedent("""\
    import http.server, sys
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = ("%d\\n" % (self.server.server_address[1] % 100)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    for port in sys.argv[1:]:
        import threading
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Event().wait()
    """)


def pool_counts(conf, pool, *members, expect_rc=0):
    r = vstest.run([tool(), "--pool", str(conf), pool, *members], check=False,
                   env={**os.environ, **vstest.sanitizer_env()})
    assert r.returncode == expect_rc, r.stdout + r.stderr
    lines = [line.split() for line in r.stdout.splitlines()]
    per = {f[0]: (None if f[1] == "-" else int(f[1]), f[2]) for f in lines if f[0] != "pool"}
    agg = [f for f in lines if f[0] == "pool"][0]
    return per, agg


@pytest.mark.skipif(not vstest.have("apache2"), reason="apache2 not installed")
def test_pool_collects_sessions_from_each_source(daemons, tmp_path):
    """vs_pool_collect_sessions() end to end: pool members (tagged domains
    with backend addresses) get their sessions from sock_diag, from a real
    Apache balancer-manager (with the workers' LB states) and from each
    backend's own status page."""
    b1, b2 = port_in_range(), port_in_range()
    while b2 == b1:
        b2 = port_in_range()
    script = tmp_path / "count.py"
    script.write_text(COUNT_BACKEND)
    daemons(["/usr/bin/python3", str(script), str(b1), str(b2)], name="count-backends")
    vstest.wait_port(b1)
    vstest.wait_port(b2)
    slow = port_in_range()
    (tmp_path / "slow.py").write_text(SLOW_BACKEND)
    daemons(["/usr/bin/python3", str(tmp_path / "slow.py"), "127.0.0.1", str(slow), "6"],
            name="slow")
    vstest.wait_port(slow)

    port = port_in_range()
    loads = "\n".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so"
                      for m in APACHE_MODULES)
    (tmp_path / "httpd.conf").write_text(textwrap.dedent("""\
        ServerRoot {d}
        ServerName 127.0.0.1
        Listen 127.0.0.1:{port}
        PidFile {d}/httpd.pid
        ErrorLog {d}/error.log
        DefaultRuntimeDir {d}
        DocumentRoot {d}
        {loads}
        <Proxy "balancer://web">
            BalancerMember "http://127.0.0.1:{slow}"
            BalancerMember "http://127.0.0.1:{b1}" status=+D
            BalancerMember "http://127.0.0.1:{b2}" status=+N
            ProxySet lbmethod=byrequests
        </Proxy>
        ProxyPass "/app" "balancer://web" timeout=30
        <Location "/balancer-manager">
            SetHandler balancer-manager
        </Location>
        """).format(d=tmp_path, port=port, loads=loads, slow=slow, b1=b1, b2=b2))
    daemons(["apache2", "-d", str(tmp_path), "-f", str(tmp_path / "httpd.conf"),
             "-DFOREGROUND"], name="apache2")
    vstest.wait_port(port)

    conf = vstest.write_config(tmp_path / "virtscale.conf", {
        "apache": {"balancer_manager": f"http://127.0.0.1:{port}/balancer-manager",
                   "balancer": "web"},
        "pool web": {"template": "web-template", "name_pattern": "web-%02d",
                     "session_capacity": 10, "sessions": "apache", "lb": "none"},
        "pool direct": {"template": "direct-template", "name_pattern": "direct-%02d",
                        "session_capacity": 10, "sessions": "sockdiag", "lb": "none"},
        "pool own": {"template": "own-template", "name_pattern": "own-%02d",
                     "sessions": "http:http://%a:%p/sessions", "lb": "none"}})

    # sock_diag: connections held to two members, none to the third.
    dead = port_in_range()
    with connections("127.0.0.1", b1, 3), connections("127.0.0.1", b2, 1):
        per, agg = pool_counts(conf, "direct", f"direct-01=127.0.0.1:{b1}",
                               f"direct-02=127.0.0.1:{b2}", f"direct-03=127.0.0.1:{dead}")
        assert per == {"direct-01": (3, "unknown"), "direct-02": (1, "unknown"),
                       "direct-03": (0, "unknown")}
        assert agg[1:4] == ["3", "4", "1.33"]
        assert agg[4:] == ["0.00", "0.30"]

    # Apache: busy per worker, matched to members by address; LB states.
    request = b"GET /app HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connections("127.0.0.1", port, 2, request=request):
        def apache_counts():
            return pool_counts(conf, "web", f"web-01=127.0.0.1:{slow}",
                               f"web-02=127.0.0.1:{b1}", f"web-03=127.0.0.1:{b2}",
                               f"web-04=127.0.0.1:{dead}")[0]
        vstest.wait_for(lambda: apache_counts()["web-01"] == (2, "enabled"), timeout=5,
                        what="worker busy 2")
        per = apache_counts()
        assert per["web-02"] == (0, "disabled")
        assert per["web-03"] == (0, "draining")
        assert per["web-04"] == (None, "unknown")  # not a worker of the balancer

    # Each backend's own page; a silent backend keeps the others' figures.
    per, agg = pool_counts(conf, "own", f"own-01=127.0.0.1:{b1}", f"own-02=127.0.0.1:{b2}")
    assert per == {"own-01": (b1 % 100, "unknown"), "own-02": (b2 % 100, "unknown")}
    assert int(agg[2]) == b1 % 100 + b2 % 100
    per, _ = pool_counts(conf, "own", f"own-01=127.0.0.1:{b1}", f"own-02=127.0.0.1:{dead}",
                         expect_rc=1)
    assert per == {"own-01": (b1 % 100, "unknown"), "own-02": (None, "unknown")}


REDIRECTOR = textwrap.dedent("""\
    import http.server, sys, threading
    # argv: HOST PORT LOCATION TARGET_HOST TARGET_PORT HITS_FILE
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", sys.argv[3])
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"7\\n")  # a body that would parse as a count
        def log_message(self, *a):
            pass
    class Target(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with open(sys.argv[6], "a") as f:
                f.write(self.path + "\\n")
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"42\\n")
        def log_message(self, *a):
            pass
    for host, port, h in ((sys.argv[1], sys.argv[2], Redirect),
                          (sys.argv[4], sys.argv[5], Target)):
        srv = http.server.ThreadingHTTPServer((host, int(port)), h)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Event().wait()
    """)


@pytest.mark.parametrize("same_server", [False, True])
def test_http_source_never_follows_a_redirect(daemons, tmp_path, same_server):
    """A guest's status page that answers 302 cannot make the collectors
    fetch another URL (another loopback address here, standing for the
    host's or the LAN's services): the count fails with a clear message and
    the target is never asked. Same for a redirect to the same server."""
    port = port_in_range(host="127.0.0.2")
    target_host = "127.0.0.2" if same_server else "127.0.0.3"
    target = port_in_range(host=target_host)
    while target == port:
        target = port_in_range(host=target_host)
    if same_server:
        # the target listens on the redirector's address, another port
        location = f"http://127.0.0.2:{target}/secret"
    else:
        location = f"http://127.0.0.3:{target}/secret"
    hits = tmp_path / "hits"
    hits.write_text("")
    (tmp_path / "redirect.py").write_text(REDIRECTOR)
    daemons(["/usr/bin/python3", str(tmp_path / "redirect.py"), "127.0.0.2", str(port),
             location, target_host, str(target), str(hits)], name="redirector")
    vstest.wait_port(port, host="127.0.0.2")
    vstest.wait_port(target, host=target_host)
    env = {**os.environ, **vstest.sanitizer_env()}
    # The target works when asked directly (and records it).
    assert count_http(f"http://{target_host}:{target}/direct") == 42
    assert hits.read_text() == "/direct\n"

    r = vstest.run([tool(), "--http", f"http://127.0.0.2:{port}/sessions"], check=False,
                   env=env)
    assert r.returncode == 1 and r.stdout == "", r.stdout + r.stderr
    assert "302" in r.stderr and "redirect" in r.stderr, r.stderr

    # The same through a pool's sessions = http: source.
    conf = vstest.write_config(tmp_path / "virtscale.conf", {
        "pool own": {"template": "own-template", "name_pattern": "own-%02d",
                     "sessions": "http:http://%a:%p/sessions", "lb": "none"}})
    per, _ = pool_counts(conf, "own", f"own-01=127.0.0.2:{port}", expect_rc=1)
    assert per == {"own-01": (None, "unknown")}
    assert hits.read_text() == "/direct\n", "the redirect target was fetched"
