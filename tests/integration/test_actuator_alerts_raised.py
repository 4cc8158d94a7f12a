"""The alerts virtscaled documents (virtscaled(8), ALERTS) raised by the real
daemon against real libvirtd domains and delivered to a real SMTP server
(aiosmtpd through mail_smtpd.py): reconciled after a kill -9 in the middle
of a clone, recovered after an at-max alert (mailed only with
notify_recovered = yes, counted either way).

Domains are named vst-vx-*; ports come from 19650-19699.
"""
import pytest

import vstest

pytestmark = pytest.mark.usefixtures("libvirtd")


@pytest.fixture
def actuator(make_actuator):
    """actuator(tag, ports, **kw): an actbed.Actuator in this file's
    namespace (pool vx-TAG, domains vst-vx-TAG-*), its template defined."""
    return lambda tag, ports, **kw: make_actuator(tag, ports, template=True, namespace="vx", **kw)


def test_kill9_mid_clone_raises_reconciled_mail(smtp, actuator):
    """A clone cut short by kill -9 of virtscaled is settled when virtscaled
    starts again: the settling raises a reconciled alert, mailed (header
    X-Virtscale-Event: reconciled, the pool named) and recorded in
    status.json (last_alert reconciled, alerts counted)."""
    srv = smtp()
    # an HTTP probe a halted guest never passes keeps the clone half-made
    a = actuator("rc", "19661-19664", pool={"min": 1, "probe": "http:/", "probe_timeout": 120})
    a.start()
    vstest.wait_for(lambda: '"step":"started"' in a.journal_text(), 30, what="a started clone")
    a.kill9()
    ops = a.open_ops()
    assert len(ops) == 1 and ops[0]["op"] == "clone", ops
    assert srv.messages() == []
    # started again, now with [mail] and a probe the next clone passes at once
    a.sections["mail"] = srv.config()
    a.write_config(probe="none")
    a.start()
    mails = srv.wait_event("reconciled", timeout=40)
    assert len(mails) == 1, srv.events()
    msg = mails[0]
    assert msg["rcpt_tos"] == ["ops@localhost"]
    assert f"pool {a.pool_name}:" in msg["msg"]["Subject"], msg["data"]
    st = vstest.wait_for(lambda: (lambda p: p if p and p["last_alert"] == "reconciled" else None)(
        a.status_file_pool()), 10, what="status.json to record the reconciled alert")
    assert st["alerts"] >= 1 and st["last_alert_time"] > 0, st
    # the pool converges on a fresh clone; nothing of the old one is left
    a.wait_running(1, 40)
    vstest.wait_for(lambda: a.open_ops() == [], 10, what="an empty journal")
    assert len(a.defined()) == 1 and len(a.volumes()) == 1
    # converging raised nothing more: the last alert is still the reconciled one
    st = a.pool_status()
    assert st["last_alert"] == "reconciled" and st["failures"] == 0, st
    assert srv.events() == ["reconciled"]


@pytest.mark.parametrize("notify_recovered", ["yes", "no"])
def test_recovered_after_at_max(smtp, actuator, notify_recovered):
    """A pool at max (min = max = 1) that keeps getting high raises an
    at-max alert, mailed; an ok notification then raises recovered. With
    [mail] notify_recovered = yes the recovered alert is mailed too; with no
    (the default) it is only logged, yet still counted and recorded as
    last_alert recovered in status.json."""
    srv = smtp()
    # rate_limit 0: a later mail of a kind is not held back by an earlier one
    a = actuator("rv" + notify_recovered[0], "19667-19668",
                 pool={"min": 1, "max": 1, "cooldown": 2, "probe": "none"},
                 sections={"mail": srv.config(rate_limit=0,
                                               notify_recovered=notify_recovered)})
    a.start()
    a.wait_running(1, 30)
    # at max and still high: the at-max alert
    vstest.wait_for(lambda: (a.notify("high"), a.pool_status()["last_alert"])[1] == "at-max",
                    20, 0.5, what="the at-max alert")
    srv.wait_event("at-max")
    before = a.pool_status()
    assert before["alerts"] >= 1 and len(a.defined()) == 1, before
    # no longer high: recovered
    a.notify("ok")
    st = vstest.wait_for(lambda: (lambda p: p if p and p["last_alert"] == "recovered" else None)(
        a.status_file_pool()), 10, what="status.json to record the recovered alert")
    assert st["alerts"] == before["alerts"] + 1, (before, st)
    assert st["last_alert_time"] >= before["last_alert_time"] > 0, (before, st)
    if notify_recovered == "yes":
        mails = srv.wait_event("recovered")
        assert len(mails) == 1, srv.events()
        assert f"pool {a.pool_name}: back to normal" in mails[0]["msg"]["Subject"]
    else:
        vstest.wait_for(lambda: "(not mailed)" in a.proc.output(), 10,
                        what="the recovered alert logged as not mailed")
        line = [x for x in a.proc.output().splitlines() if "(not mailed)" in x][-1]
        assert f"pool {a.pool_name}: back to normal" in line, line
        # High again: the next at-max mail. The alerter delivers the oldest
        # due message first, so a recovered mail, had one been queued, would
        # have been accepted before this one.
        n = srv.events().count("at-max")
        vstest.wait_for(lambda: (a.notify("high"), srv.events().count("at-max"))[1] > n,
                        30, 0.5, what="a second at-max mail")
        assert "recovered" not in srv.events(), srv.events()
        assert a.pool_status()["last_alert"] == "at-max"
    assert len(a.defined()) == 1
