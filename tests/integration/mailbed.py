"""A real SMTP server for the tests: mail_smtpd.py (aiosmtpd) on loopback,
saving every accepted message as DIR/msg-N.json."""
import email
import email.policy
import glob
import json
import os

import vstest

HERE = os.path.dirname(os.path.abspath(__file__))


class SmtpServer:
    """mail_smtpd.py on @port (a free loopback port by default) with the
    options @extra (--refuse, --cert, ...); messages saved under @maildir."""

    def __init__(self, daemons, maildir, port=None, name="smtpd", extra=()):
        self.port = port or vstest.free_port()
        self.dir = str(maildir)
        self.argv = ["/usr/bin/python3", os.path.join(HERE, "mail_smtpd.py"),
                     "--port", str(self.port), "--dir", self.dir, *extra]
        self.daemons = daemons
        self.name = name
        self.proc = None

    def start(self):
        self.proc = self.daemons(self.argv, name=self.name)
        vstest.wait_port(self.port, timeout=15)
        return self

    def stop(self):
        self.proc.stop()

    def messages(self):
        """Every accepted message in the order accepted: the envelope as
        saved, plus "msg", the parsed message."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "msg-*.json")),
                           key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0])):
            with open(path) as f:
                rec = json.load(f)
            rec["msg"] = email.message_from_string(rec["data"], policy=email.policy.default)
            out.append(rec)
        return out

    def auth_attempts(self):
        """Every AUTH the server received (with --auth), in order: {"tls",
        "mechanism", "login", "ok"}."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "auth-*.json")),
                           key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0])):
            with open(path) as f:
                out.append(json.load(f))
        return out

    def events(self):
        """The X-Virtscale-Event of every message, in the order accepted."""
        return [m["msg"]["X-Virtscale-Event"] for m in self.messages()]

    def wait_event(self, kind, count=1, timeout=30):
        vstest.wait_for(lambda: self.events().count(kind) >= count, timeout, 0.2,
                        what=f"{count} '{kind}' mail(s) (got {self.events()})")
        return [m for m in self.messages() if m["msg"]["X-Virtscale-Event"] == kind]

    def config(self, **more):
        """A [mail] section that sends to this server."""
        return {"server": f"127.0.0.1:{self.port}", "from": "virtscale@localhost",
                "to": "ops@localhost", **more}
