"""A collectd whose Hostname is no RFC 1123 name ("hv_1") still drives the
real virtscaled: the host travels as data in the notification, and the
pool scales out."""
import os

import pytest

import collectdtest as ct
import vstest
from actbed import Actuator

pytestmark = pytest.mark.usefixtures("libvirtd")

# a threshold that always fires on the pool's running count: high
THRESHOLD = """
LoadPlugin threshold
<Plugin threshold>
  <Plugin "virtscale">
    Instance "{pool}"
    <Type "vs_instances">
      DataSource "running"
      WarningMax -1
    </Type>
  </Plugin>
</Plugin>
"""


def test_hostname_with_underscore_still_scales(tmp_path, daemons):
    a = Actuator(tmp_path / "a", daemons, "hn", "19430-19439",
                 pool={"min": 0, "max": 1, "cooldown": 1, "probe": "none"}, namespace="cdh")
    a.cleanup()
    a.define_template()
    cd_dir = str(tmp_path / "cd")
    os.makedirs(cd_dir)
    try:
        a.start()
        conf = ct.write_collectd_conf(cd_dir, a.conf, extra=THRESHOLD.format(pool=a.pool_name))
        with open(conf) as f:
            text = f.read().replace('Hostname "vstcd"', 'Hostname "hv_1"')
        with open(conf, "w") as f:
            f.write(text)
        cd = ct.start_collectd(daemons, conf)
        a.wait_running(1, 120)
        st = a.status()["intake"]
        assert st["malformed"] == 0 and st["accepted"] >= 1, st
        assert cd.alive(), cd.output()
    finally:
        a.proc.stop()
        a.cleanup()
        vstest.remove_domain(a.template)
