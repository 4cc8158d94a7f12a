#!/usr/bin/python3
"""A small SMTP server for the e-mail alert tests, built on aiosmtpd.

Each accepted message is saved as DIR/msg-N.json with the envelope, the raw
data and how the session was secured, and each AUTH attempt (accepted or
not) as DIR/auth-N.json with whether it came over TLS, so a test can check
exactly what a client sent. Options make it behave like the servers alerts meet in real
life: a recipient refused with 550, the first DATA answered 451, STARTTLS
offered or required, AUTH required.

  mail_smtpd.py --port P --dir DIR [--refuse ADDR]... [--tempfail-data N]
                [--cert C --key K [--require-tls]] [--auth USER:PASS]
"""
import argparse
import json
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, args):
        self.dir = args.dir
        self.refuse = {a.lower() for a in args.refuse}
        self.tempfail_left = args.tempfail_data
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.tempfail_left > 0:
                self.tempfail_left -= 1
                return "451 4.3.0 try again later"
            self.count += 1
            n = self.count
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
            "tls": session.ssl is not None,
            "auth": session.auth_data if session.authenticated else None,
        }
        tmp = os.path.join(self.dir, ".msg-%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.dir, "msg-%d.json" % n))
        return "250 2.0.0 OK queued as %d" % n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--refuse", action="append", default=[])
    p.add_argument("--tempfail-data", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--require-tls", action="store_true")
    p.add_argument("--auth")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    kw = {}
    if args.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        kw["tls_context"] = ctx
        kw["require_starttls"] = args.require_tls
    if args.auth:
        user, password = args.auth.split(":", 1)

        attempts = [0]
        attempts_lock = threading.Lock()

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
            with attempts_lock:
                attempts[0] += 1
                n = attempts[0]
            rec = {"tls": session.ssl is not None, "mechanism": mechanism,
                   "login": auth_data.login.decode("utf-8", "replace"), "ok": ok}
            tmp = os.path.join(args.dir, ".auth-%d.tmp" % n)
            with open(tmp, "w") as f:
                json.dump(rec, f)
            os.rename(tmp, os.path.join(args.dir, "auth-%d.json" % n))
            return AuthResult(success=ok, auth_data=user if ok else None)

        kw["authenticator"] = authenticator
        kw["auth_required"] = True
        kw["auth_require_tls"] = bool(args.cert)
    controller = Controller(Handler(args), hostname="127.0.0.1", port=args.port,
                            server_hostname="localhost", **kw)
    controller.start()
    print("listening on 127.0.0.1:%d" % args.port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
