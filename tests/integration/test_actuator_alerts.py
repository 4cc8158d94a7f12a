"""Alerts from virtscaled by e-mail through a real SMTP server (aiosmtpd):
`virtscalectl test-mail`, and the at-max alert of a pool that is at max and
still high."""
import pytest

import vstest

pytestmark = pytest.mark.usefixtures("libvirtd")


def test_test_mail_and_at_max_alert(smtp, make_actuator):
    srv = smtp()
    a = make_actuator("al", "19440-19449", template=True,
                      pool={"min": 1, "max": 1, "cooldown": 2, "probe": "none"},
                      sections={"mail": srv.config()})
    r = a.ctl("test-mail")
    assert r.returncode == 0, r.stderr
    vstest.wait_for(lambda: len(srv.messages()) == 1, 10, what="the test mail")
    assert srv.messages()[0]["rcpt_tos"] == ["ops@localhost"]
    assert srv.events() == ["test"], srv.events()
    a.start()
    a.wait_running(1, 30)
    # at max and still high: one alert, delivered by e-mail, no clone
    vstest.wait_for(lambda: (a.notify("high"), a.pool_status()["alerts"])[1] >= 1, 20,
                    what="the at-max alert")
    mail = srv.wait_event("at-max")[0]
    body = mail["data"]
    assert a.pool_name in body and "max" in body.lower()
    assert len(a.defined()) == 1
