"""The example configs in contrib/nginx and contrib/apache really work with
the drivers: started (paths moved to a temporary directory, loopback ports),
a backend added through the driver receives the requests."""
import os
import re

import pytest

import lb_bed
import vstest
from lb_bed import lb_tool, spread

CONTRIB = os.path.join(vstest.SRCDIR, "contrib")
NGINX_PORT = 19520
APACHE_PORT = 19521


@pytest.fixture
def backend():
    b = vstest.HttpBackend("127.0.0.5")
    yield b
    b.stop()


@pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="no nginx")
def test_contrib_nginx_site(tmp_path, daemons, backend):
    d = str(tmp_path)
    with open(os.path.join(CONTRIB, "nginx", "virtscale-site.conf")) as f:
        site = f.read()
    site = site.replace("/etc/nginx/virtscale", d).replace("listen 80;",
                                                           f"listen 127.0.0.1:{NGINX_PORT};")
    with open(os.path.join(d, "site.conf"), "w") as f:
        f.write(site)
    with open(os.path.join(d, "web.conf"), "w") as f:
        f.write(lb_bed.NGINX_PLACEHOLDER)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\n"
                f"http {{ access_log off; include {d}/site.conf; }}\n")
    config = lb_bed.write_config(os.path.join(d, "virtscale.conf"), "nginx", {"nginx": {
        "upstream_file": f"{d}/web.conf", "upstream": "web", "conf": conf,
        "pid_file": f"{d}/nginx.pid", "method": "least_conn", "zone": "web"}})
    daemons(["/usr/sbin/nginx", "-c", conf, "-g", "daemon off;"], name="nginx")
    vstest.wait_port(NGINX_PORT)
    lb_tool(config, "add", backend.address, check=True)
    assert spread(f"http://127.0.0.1:{NGINX_PORT}/", 3) == {backend.name: 3}
    assert lb_bed.get(f"http://127.0.0.1:{NGINX_PORT}/nginx_status")[1].startswith(
        "Active connections:")


@pytest.mark.skipif(not os.path.exists("/usr/sbin/apache2"), reason="no apache2")
def test_contrib_apache_balancer(tmp_path, daemons, backend):
    d = str(tmp_path)
    with open(os.path.join(CONTRIB, "apache", "virtscale-balancer.conf")) as f:
        text = f.read()
    assert re.search(r"ProxySet growth=\d+", text) and "BalancerPersist On" in text
    modules = "\n".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so"
                        for m in lb_bed.APACHE_MODULES)
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as f:
        f.write(f"ServerRoot {d}\nListen 127.0.0.1:{APACHE_PORT}\nServerName 127.0.0.1\n"
                f"PidFile {d}/httpd.pid\nErrorLog {d}/error.log\nDefaultRuntimeDir {d}\n"
                f"Mutex file:{d}\nUser nobody\nGroup nogroup\n{modules}\n"
                f"Include {CONTRIB}/apache/virtscale-balancer.conf\n")
    config = lb_bed.write_config(os.path.join(d, "virtscale.conf"), "apache", {"apache": {
        "balancer_manager": f"http://127.0.0.1:{APACHE_PORT}/balancer-manager",
        "balancer": "web"}})
    daemons(["/usr/sbin/apache2", "-d", d, "-f", conf, "-DFOREGROUND"], name="apache2")
    vstest.wait_port(APACHE_PORT)
    lb_tool(config, "add", backend.address, check=True)
    assert spread(f"http://127.0.0.1:{APACHE_PORT}/", 3) == {backend.name: 3}
    status = lb_bed.get(f"http://127.0.0.1:{APACHE_PORT}/server-status?auto")
    assert status[0] == 200 and "BusyWorkers" in status[1]
