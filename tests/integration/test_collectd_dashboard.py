"""The Grafana dashboard (contrib/grafana/virtscale.json) against real data:
real collectd with the virtscale plugin and write_prometheus, real
Prometheus (Debian package) scraping it on loopback; every panel's query
and every template variable must return series for this test's pool and
dashboard_domains.
"""
import json
import os
import re
import time
import urllib.parse
import urllib.request

import pytest

import collectdtest as ct
import vstest

PROM_EXPORT_PORT = 19220
PROM_PORT = 19221
BACKEND_PORTS = (19222, 19223)
POOL = "vstcddash"
DOMAINS = ("vst-cd-dash-01", "vst-cd-dash-02")
DASHBOARD = os.path.join(vstest.SRCDIR, "contrib", "grafana", "virtscale.json")


def prom_query(expr):
    url = f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def prom_ready():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PROM_PORT}/-/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def expand(expr):
    """Grafana's variables, as the dashboard would send them for this test."""
    return (expr.replace("$pool", POOL).replace("$domain", "vst-cd-dash-.*")
            .replace("$__rate_interval", "30s"))


def panel_queries():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):  # a row has none
            out.append((p["title"], t["expr"]))
    variables = [v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                 for v in dash["templating"]["list"]]
    return dash, out, variables


def test_dashboard_json_is_well_formed():
    dash, queries, variables = panel_queries()
    assert dash["title"] == "virtscale" and len(dash["panels"]) >= 8
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    assert queries and all(q.strip() for _, q in queries)
    assert {v["name"] for v in dash["templating"]["list"]} == {"pool", "domain"}
    assert any(p["type"] == "row" and p["title"] == "Usage accounting" for p in dash["panels"])


@pytest.fixture
def dashboard_domains(libvirtd):
    vstest.remove_domains("vst-cd-dash-")
    yield
    vstest.remove_domains("vst-cd-dash-")


def test_every_panel_returns_series(tmp_path, dashboard_domains, daemons):
    if not vstest.have("prometheus"):
        pytest.fail("prometheus is not installed: run scripts/setup-deps.sh")
    tmp = str(tmp_path / "cd")
    os.makedirs(tmp)
    backends = [vstest.HttpBackend("127.0.0.1", p) for p in BACKEND_PORTS]
    act = ct.NotificationSink(os.path.join(tmp, "act.sock"))
    try:
        ct.define_pool_domains(list(zip(DOMAINS, BACKEND_PORTS)), POOL)
        vs_conf = ct.write_vs_config(os.path.join(tmp, "vs.conf"), os.path.join(tmp, "act.sock"),
                                     tmp, pools=ct.pool_section(POOL, "vst-cd-dash-%02d"))
        conf = ct.write_collectd_conf(tmp, vs_conf, extra=f"""
LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host "127.0.0.1"
  Port "{PROM_EXPORT_PORT}"
  StalenessDelta 30
</Plugin>
""")
        cd = ct.start_collectd(daemons, conf)
        prom_dir = os.path.join(tmp, "prom")
        os.makedirs(prom_dir)
        prom_conf = os.path.join(prom_dir, "prometheus.yml")
        with open(prom_conf, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: collectd
    static_configs:
      - targets: ['127.0.0.1:{PROM_EXPORT_PORT}']
""")
        prom = daemons(["prometheus", f"--config.file={prom_conf}",
                        f"--storage.tsdb.path={prom_dir}/data",
                        f"--web.listen-address=127.0.0.1:{PROM_PORT}"], name="prometheus")
        vstest.wait_for(prom_ready, timeout=60, what="prometheus ready")
        backends[0].hold(3)
        backends[1].hold(1)

        _, queries, variables = panel_queries()
        pool_re = re.compile(re.escape(POOL))

        def all_answer():
            missing = []
            for title, expr in queries:
                res = prom_query(expand(expr))
                names = {s["metric"].get("virtscale", "") for s in res}
                if "$domain" in expr:
                    ok = set(DOMAINS) <= names
                elif "$pool" in expr:
                    ok = any(pool_re.fullmatch(n) for n in names)
                else:
                    ok = bool(res)
                if not ok:
                    missing.append((title, expr, sorted(names)))
            return missing

        deadline = time.monotonic() + 90
        missing = all_answer()
        while missing and time.monotonic() < deadline:
            time.sleep(2)
            missing = all_answer()
        assert not missing, f"panels without series: {missing}"

        # the template variables list this test's pool and domains
        for q in variables:
            m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", q)
            assert m, q
            metric, label = m.groups()
            values = {s["metric"][label] for s in prom_query(metric)}
            assert POOL in values or set(DOMAINS) <= values, (q, values)

        # and the numbers are the real ones: sessions held per backend
        res = prom_query('collectd_virtscale_current_sessions{virtscale="vst-cd-dash-01"}')
        assert float(res[0]["value"][1]) == 3
        res = prom_query(f'collectd_virtscale_vs_instances_running{{virtscale="{POOL}"}}')
        assert float(res[0]["value"][1]) == 2
        # usage accounting: two instances running, so two instance-seconds a second
        # (once the window holds only time both ran)
        def instances_used():
            res = prom_query('rate(collectd_virtscale_vs_pool_usage_total'
                             f'{{virtscale="{POOL}",type="instance_seconds"}}[10s])')
            return res and 1.5 <= float(res[0]["value"][1]) <= 2.5
        vstest.wait_for(instances_used, 40, interval=1, what="2 instance-seconds a second")
        # the host panels: the hypervisor (named by its URI made an
        # identifier) runs both instances
        host = re.sub(r"[^A-Za-z0-9_-]+", "_", vstest.URI).strip("_")
        res = prom_query(f'collectd_virtscale_vs_host_instances{{virtscale="{host}"}}')
        assert float(res[0]["value"][1]) == 2
        assert cd.alive() and prom.alive()
    finally:
        act.stop()
        for b in backends:
            b.stop()
