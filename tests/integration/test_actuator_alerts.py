"""Alerts from virtscaled by e-mail through a real SMTP server (aiosmtpd):
`virtscalectl test-mail`, and the at-max alert of a pool that is at max and
still high."""
import glob
import json
import os

import pytest

import vstest
from actbed import Actuator

pytestmark = pytest.mark.usefixtures("libvirtd")

SMTP_PORT = 19450


def messages(d):
    out = []
    for p in sorted(glob.glob(os.path.join(d, "msg-*.json"))):
        with open(p) as f:
            out.append(json.load(f))
    return out


def test_test_mail_and_at_max_alert(tmp_path, daemons):
    maildir = tmp_path / "mail"
    maildir.mkdir()
    daemons(["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "mail_smtpd.py"),
             "--port", str(SMTP_PORT), "--dir", str(maildir)], name="smtpd")
    vstest.wait_port(SMTP_PORT, timeout=15)
    mail = {"server": f"127.0.0.1:{SMTP_PORT}", "from": "virtscale@localhost",
            "to": "ops@localhost"}
    a = Actuator(tmp_path / "al", daemons, "al", "19440-19449",
                 pool={"min": 1, "max": 1, "cooldown": 2, "probe": "none"},
                 sections={"mail": mail})
    a.cleanup()
    a.define_template()
    try:
        r = a.ctl("test-mail")
        assert r.returncode == 0, r.stderr
        vstest.wait_for(lambda: len(messages(maildir)) == 1, 10, what="the test mail")
        assert messages(maildir)[0]["rcpt_tos"] == ["ops@localhost"]
        a.start()
        a.wait_running(1, 30)
        # at max and still high: one alert, delivered by e-mail, no clone
        vstest.wait_for(lambda: (a.notify("high"), a.pool_status()["alerts"])[1] >= 1, 20,
                        what="the at-max alert")
        msgs = vstest.wait_for(lambda: len(messages(maildir)) >= 2 and messages(maildir), 30,
                               what="the alert e-mail")
        body = msgs[1]["data"]
        assert a.pool_name in body and "max" in body.lower()
        assert len(a.defined()) == 1
    finally:
        if a.proc:
            a.proc.stop()
        a.cleanup()
        vstest.remove_domain(a.template)
