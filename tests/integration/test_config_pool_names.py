"""Pool names: one definition ([A-Za-z0-9][A-Za-z0-9_-], at most 64), so a
name that check-config accepts works in every consumer (the nginx include,
the MIB, the wire format, mail) and any other is refused with FILE:LINE and
exit status 2 before anything starts."""
import os
import subprocess

import vstest


def config(tmp_path, pool):
    """A config with one pool named @pool; returns its path and the line of
    the [pool NAME] header."""
    conf = vstest.write_config(tmp_path / "virtscale.conf", {
        "actuator": {"socket": tmp_path / "act.sock", "state_dir": tmp_path / "state"},
        f"pool {pool}": {"template": "vst-names-tmpl", "name_pattern": "vst-names-%02d"}})
    with open(conf) as f:
        line = f.read().splitlines().index(f"[pool {pool}]") + 1
    return conf, line


def check_config(conf):
    ctl = vstest.build_path("actuator", "virtscalectl")
    return subprocess.run([ctl, "-c", str(conf), "check-config"], capture_output=True,
                          text=True, timeout=30, env={**os.environ, **vstest.sanitizer_env()})


def test_pool_name_with_a_dot_is_refused_with_file_and_line(tmp_path):
    conf, line = config(tmp_path, "web.1")
    r = check_config(conf)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{conf}:{line}: [pool web.1]: invalid pool name" in r.stderr
    d = subprocess.run([vstest.build_path("actuator", "virtscaled"), "-f", "-c", str(conf)],
                       capture_output=True, text=True, timeout=20,
                       env={**os.environ, **vstest.sanitizer_env()})
    assert d.returncode == 2 and f"{conf}:{line}:" in d.stderr
    assert not os.path.exists(tmp_path / "act.sock")


def test_pool_name_of_every_allowed_character_passes(tmp_path):
    r = check_config(config(tmp_path, "Web_2-a")[0])
    # (the template need not exist for the name to pass)
    assert "invalid pool name" not in r.stderr
    assert r.returncode != 0 or "OK, 1 pool(s)" in r.stdout, r.stdout + r.stderr
