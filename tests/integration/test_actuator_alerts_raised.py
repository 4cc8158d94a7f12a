"""The alerts virtscaled documents (virtscaled(8), ALERTS) raised by the real
daemon against real libvirtd domains and delivered to a real SMTP server
(aiosmtpd through mail_smtpd.py): reconciled after a kill -9 in the middle
of a clone, recovered after an at-max alert (mailed only with
notify_recovered = yes, counted either way).

Domains are named vst-vx-*; ports come from 19650-19699.
"""
import email
import email.policy
import glob
import json
import os

import pytest

import vstest
from actbed import Actuator

pytestmark = pytest.mark.usefixtures("libvirtd")

HERE = os.path.dirname(os.path.abspath(__file__))


class VxActuator(Actuator):
    """actbed's Actuator with its pool and domains in this file's namespace:
    pool vx-TAG, members vst-vx-TAG-NN, template vst-vx-TAG-tmpl."""

    def __init__(self, tmp, daemons, tag, ports, pool=None, sections=None):
        super().__init__(tmp, daemons, tag, ports, pool=pool, sections=sections)
        self.prefix = f"vst-vx-{tag}-"
        self.template = f"vst-vx-{tag}-tmpl"
        self.pool_name = f"vx-{tag}"
        self.write_config(template=self.template, name_pattern=f"vst-vx-{tag}-%02d")

    def status_file_pool(self):
        """The pool's entry of STATE_DIR/status.json as last written."""
        try:
            with open(os.path.join(self.state, "status.json")) as f:
                return json.load(f)["pools"][0]
        except (FileNotFoundError, ValueError):
            return None


@pytest.fixture
def actuator(tmp_path, daemons):
    """actuator(tag, ports, **kw): a VxActuator whose domains and volumes are
    removed before and after the test; its template is defined."""
    made = []

    def make(tag, ports, **kw):
        a = VxActuator(tmp_path / tag, daemons, tag, ports, **kw)
        made.append(a)
        a.cleanup()
        a.define_template()
        return a
    yield make
    for a in made:
        if a.proc:
            a.proc.stop()
        a.cleanup()
        vstest.remove_domain(a.template)


class Smtpd:
    """mail_smtpd.py on @port; every accepted message saved under @maildir."""

    def __init__(self, daemons, maildir, port):
        self.dir = str(maildir)
        self.port = port
        daemons(["/usr/bin/python3", os.path.join(HERE, "mail_smtpd.py"), "--port", str(port),
                 "--dir", self.dir], name=f"smtpd-{port}")
        vstest.wait_port(port, timeout=15)

    def messages(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "msg-*.json")),
                           key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0])):
            with open(path) as f:
                rec = json.load(f)
            rec["msg"] = email.message_from_string(rec["data"], policy=email.policy.default)
            out.append(rec)
        return out

    def events(self):
        """The X-Virtscale-Event of every message, in the order accepted."""
        return [m["msg"]["X-Virtscale-Event"] for m in self.messages()]

    def wait_event(self, kind, count=1, timeout=30):
        vstest.wait_for(lambda: self.events().count(kind) >= count, timeout, 0.2,
                        what=f"{count} '{kind}' mail(s) (got {self.events()})")
        return [m for m in self.messages() if m["msg"]["X-Virtscale-Event"] == kind]

    def config(self, **more):
        return {"server": f"127.0.0.1:{self.port}", "from": "virtscale@localhost",
                "to": "ops@localhost", **more}


def journal_text(a):
    try:
        with open(os.path.join(a.state, "journal")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def open_ops(a):
    ops = {}
    for line in journal_text(a).splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if "op" in r:
            ops[r["id"]] = r
        elif "end" in r:
            ops.pop(r["id"], None)
    return list(ops.values())


def test_kill9_mid_clone_raises_reconciled_mail(tmp_path, daemons, actuator):
    """A clone cut short by kill -9 of virtscaled is settled when virtscaled
    starts again: the settling raises a reconciled alert, mailed (header
    X-Virtscale-Event: reconciled, the pool named) and recorded in
    status.json (last_alert reconciled, alerts counted)."""
    smtp = Smtpd(daemons, tmp_path / "mail", 19660)
    # an HTTP probe a halted guest never passes keeps the clone half-made
    a = actuator("rc", "19661-19664", pool={"min": 1, "probe": "http:/", "probe_timeout": 120})
    a.start()
    vstest.wait_for(lambda: '"step":"started"' in journal_text(a), 30, what="a started clone")
    a.kill9()
    ops = open_ops(a)
    assert len(ops) == 1 and ops[0]["op"] == "clone", ops
    assert smtp.messages() == []
    # started again, now with [mail] and a probe the next clone passes at once
    a.sections["mail"] = smtp.config()
    a.write_config(probe="none")
    a.start()
    mails = smtp.wait_event("reconciled", timeout=40)
    assert len(mails) == 1, smtp.events()
    msg = mails[0]
    assert msg["rcpt_tos"] == ["ops@localhost"]
    assert f"pool {a.pool_name}:" in msg["msg"]["Subject"], msg["data"]
    st = vstest.wait_for(lambda: (lambda p: p if p and p["last_alert"] == "reconciled" else None)(
        a.status_file_pool()), 10, what="status.json to record the reconciled alert")
    assert st["alerts"] >= 1 and st["last_alert_time"] > 0, st
    # the pool converges on a fresh clone; nothing of the old one is left
    a.wait_running(1, 40)
    vstest.wait_for(lambda: open_ops(a) == [], 10, what="an empty journal")
    assert len(a.defined()) == 1 and len(a.volumes()) == 1
    # converging raised nothing more: the last alert is still the reconciled one
    st = a.pool_status()
    assert st["last_alert"] == "reconciled" and st["failures"] == 0, st
    assert smtp.events() == ["reconciled"]


@pytest.mark.parametrize("notify_recovered", ["yes", "no"])
def test_recovered_after_at_max(tmp_path, daemons, actuator, notify_recovered):
    """A pool at max (min = max = 1) that keeps getting high raises an
    at-max alert, mailed; an ok notification then raises recovered. With
    [mail] notify_recovered = yes the recovered alert is mailed too; with no
    (the default) it is only logged, yet still counted and recorded as
    last_alert recovered in status.json."""
    port = 19665 if notify_recovered == "yes" else 19666
    smtp = Smtpd(daemons, tmp_path / "mail", port)
    # rate_limit 0: a later mail of a kind is not held back by an earlier one
    a = actuator("rv" + notify_recovered[0], "19667-19668",
                 pool={"min": 1, "max": 1, "cooldown": 2, "probe": "none"},
                 sections={"mail": smtp.config(rate_limit=0,
                                               notify_recovered=notify_recovered)})
    a.start()
    a.wait_running(1, 30)
    # at max and still high: the at-max alert
    vstest.wait_for(lambda: (a.notify("high"), a.pool_status()["last_alert"])[1] == "at-max",
                    20, 0.5, what="the at-max alert")
    smtp.wait_event("at-max")
    before = a.pool_status()
    assert before["alerts"] >= 1 and len(a.defined()) == 1, before
    # no longer high: recovered
    a.notify("ok")
    st = vstest.wait_for(lambda: (lambda p: p if p and p["last_alert"] == "recovered" else None)(
        a.status_file_pool()), 10, what="status.json to record the recovered alert")
    assert st["alerts"] == before["alerts"] + 1, (before, st)
    assert st["last_alert_time"] >= before["last_alert_time"] > 0, (before, st)
    if notify_recovered == "yes":
        mails = smtp.wait_event("recovered")
        assert len(mails) == 1, smtp.events()
        assert f"pool {a.pool_name}: back to normal" in mails[0]["msg"]["Subject"]
    else:
        vstest.wait_for(lambda: "(not mailed)" in a.proc.output(), 10,
                        what="the recovered alert logged as not mailed")
        line = [x for x in a.proc.output().splitlines() if "(not mailed)" in x][-1]
        assert f"pool {a.pool_name}: back to normal" in line, line
        # High again: the next at-max mail. The alerter delivers the oldest
        # due message first, so a recovered mail, had one been queued, would
        # have been accepted before this one.
        n = smtp.events().count("at-max")
        vstest.wait_for(lambda: (a.notify("high"), smtp.events().count("at-max"))[1] > n,
                        30, 0.5, what="a second at-max mail")
        assert "recovered" not in smtp.events(), smtp.events()
        assert a.pool_status()["last_alert"] == "at-max"
    assert len(a.defined()) == 1
