"""E-mail alerts (actuator/mail/: alert.c, mail-send.c) against a real SMTP server.

The server is aiosmtpd (Debian python3-aiosmtpd) on loopback, started by
each test through mail_smtpd.py, which records every accepted message with
its envelope and how the session was secured. The client is vs-alert-tool,
which drives the same alerter virtscaled uses: queue, worker thread,
journal in state_dir, rate limit, libesmtp delivery.
"""
import email.utils
import glob
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import vstest  # noqa: E402

TOOL = vstest.build_path("tests", "tools", "vs-alert-tool")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (its name also as a DNS name:
    libesmtp compares the server name with the DNS entries) and a password file."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = str(d / "cert.pem"), str(d / "key.pem")
    vstest.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                "subjectAltName=DNS:127.0.0.1,IP:127.0.0.1,DNS:localhost"])
    pw = str(d / "password")
    with open(pw, "w") as f:
        f.write("s3cret\n")
    os.chmod(pw, 0o600)
    return {"cert": cert, "key": key, "password_file": pw}


def write_conf(tmp_path, port=None, name="virtscale.conf", **mail):
    """A config with a [mail] section; port None = mail disabled."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    if port:
        mail.setdefault("server", f"127.0.0.1:{port}")
        mail.setdefault("to", "ops@example.test")
        mail.setdefault("from", "virtscale@example.test")
        mail.setdefault("timeout", "5")
        mail.setdefault("rate_limit", "0")
    return vstest.write_config(tmp_path / name, {"actuator": {"state_dir": state},
                                                 "mail": mail})


def tool(conf, *args, env=None, timeout=60, check=True):
    full_env = dict(os.environ, **vstest.sanitizer_env())
    if env:
        full_env.update(env)
    r = subprocess.run([TOOL, "-c", conf, *args], capture_output=True, text=True,
                       timeout=timeout, env=full_env)
    if check and r.returncode != 0:
        raise AssertionError(f"vs-alert-tool {args} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def stats(result):
    line = [l for l in result.stdout.splitlines() if l.startswith("stats ")][-1]
    return {k: int(v) for k, v in (f.split("=") for f in line.split()[1:])}


def journal(tmp_path):
    return glob.glob(str(tmp_path / "state" / "mail-queue" / "*.alert"))


def check_rfc5322(rec):
    """Headers every alert must carry, CRLF line ends, no over-long lines."""
    raw = rec["data"]
    head = raw.split("\r\n\r\n", 1)[0]
    assert "\n" not in head.replace("\r\n", ""), "bare LF in the header"
    assert all(len(l) <= 998 for l in raw.split("\r\n"))
    m = rec["msg"]
    for h in ("Date", "Message-ID", "From", "To", "Subject"):
        assert len(m.get_all(h) or []) == 1, f"{h} missing or repeated"
    assert email.utils.parsedate_to_datetime(m["Date"]) is not None
    assert m["Message-ID"].startswith("<") and m["Message-ID"].endswith(">") and "@" in m["Message-ID"]
    assert m["From"] == "virtscale@example.test"
    assert m.get_content_type() == "text/plain"
    return m


def test_each_event_type_headers_and_body(smtp, tmp_path):
    srv = smtp()
    conf = write_conf(tmp_path, srv.port, to="ops@example.test, oncall@example.test",
                      notify_recovered="yes")
    details = "web-01 cpu 95% sessions 80\\nweb-02 cpu 91% sessions 77\\nlast: clone web-07 at 12:00:01"
    r = tool(conf, "-s", "cpu 93% > cpu_high 50%, 6/6 instances (max 6)", "-d", details,
             "post", "at-max", "web",
             "post", "action-failed", "web", "clone", "virDomainCreateXML: no space left",
             "post", "reconciled", "web",
             "post", "recovered", "web",
             "wait-idle", "20")
    assert stats(r)["sent"] == 4, r.stderr
    r = tool(conf, "test-mail")
    assert "250" in r.stdout and "oncall@example.test" in r.stdout
    msgs = srv.messages()
    assert len(msgs) == 5
    by_event = {rec["msg"]["X-Virtscale-Event"]: rec for rec in msgs}
    assert set(by_event) == {"at-max", "action-failed", "reconciled", "recovered", "test"}
    ids = set()
    host = os.uname().nodename
    for event, rec in by_event.items():
        m = check_rfc5322(rec)
        ids.add(m["Message-ID"])
        assert sorted(rec["rcpt_tos"]) == ["oncall@example.test", "ops@example.test"]
        assert "ops@example.test" in m["To"] and "oncall@example.test" in m["To"]
        body = m.get_content()
        assert f"Host:        {host}" in body
        if event != "test":
            assert "Pool:        web" in body
            assert "cpu 93% > cpu_high 50%, 6/6 instances (max 6)" in body
            assert "web-02 cpu 91% sessions 77" in body and "last: clone web-07" in body
    assert len(ids) == 5
    assert by_event["at-max"]["msg"]["Subject"] == "[virtscale] pool web: at maximum size and still overloaded"
    assert by_event["action-failed"]["msg"]["Subject"] == "[virtscale] pool web: clone failed"
    fail_body = by_event["action-failed"]["msg"].get_content()
    assert "Step:        clone" in fail_body and "virDomainCreateXML: no space left" in fail_body
    assert "leftovers" in by_event["reconciled"]["msg"]["Subject"]
    assert "back to normal" in by_event["recovered"]["msg"]["Subject"]
    assert by_event["test"]["msg"]["Subject"] == "[virtscale] test message"
    assert journal(tmp_path) == []


def test_recovered_not_mailed_unless_configured(smtp, tmp_path):
    srv = smtp()
    conf = write_conf(tmp_path, srv.port)
    r = tool(conf, "post", "recovered", "web", "post", "at-max", "web", "wait-idle", "10")
    assert stats(r)["sent"] == 1
    assert [m["msg"]["X-Virtscale-Event"] for m in srv.messages()] == ["at-max"]
    assert "(not mailed)" in r.stderr and "back to normal" in r.stderr


def test_crlf_in_pool_name_cannot_inject_a_header(smtp, tmp_path):
    srv = smtp()
    conf = write_conf(tmp_path, srv.port)
    evil = "web\\r\\nBcc: victim@example.test\\r\\nX-Injected: yes\\nSubject: fake"
    tool(conf, "post", "action-failed", evil, "lb-add\\r\\nX-Step: 1", "err\\r\\n\\r\\nbody",
         "wait-idle", "10")
    [rec] = srv.messages()
    m = check_rfc5322(rec)
    assert rec["rcpt_tos"] == ["ops@example.test"]
    for h in ("Bcc", "X-Injected", "X-Step"):
        assert m[h] is None, f"{h} was injected"
    assert len(m.get_all("Subject")) == 1
    assert "\r" not in m["Subject"] and "\n" not in m["Subject"]
    assert m["Subject"].startswith("[virtscale] pool web??Bcc: victim@example.test??X-Injected")
    body = m.get_content()
    assert "Pool:        web??Bcc: victim@example.test??X-Injected: yes?Subject: fake" in body


def test_rate_limit_coalesces_same_pool_and_event(smtp, tmp_path):
    srv = smtp()
    conf = write_conf(tmp_path, srv.port, rate_limit="3")
    r = tool(conf, "post", "at-max", "web", "wait-idle", "10",
             "post", "at-max", "web", "post", "at-max", "web", "post", "at-max", "web",
             "post", "at-max", "db", "wait-idle", "30")
    st = stats(r)
    assert st["coalesced"] == 2 and st["sent"] == 3, r.stdout
    subjects = [m["msg"]["Subject"] for m in srv.messages()]
    assert subjects[0] == "[virtscale] pool web: at maximum size and still overloaded"
    assert "[virtscale] pool db: at maximum size and still overloaded" in subjects
    assert "[virtscale] pool web: at maximum size and still overloaded (3 times)" in subjects
    [coalesced] = [m for m in srv.messages() if "(3 times)" in m["msg"]["Subject"]]
    assert "3 times since" in coalesced["msg"].get_content()


def test_server_down_then_up_delivers_after_retries(smtp, tmp_path):
    srv = smtp(start=False)
    conf = write_conf(tmp_path, srv.port)
    full_env = dict(os.environ, **vstest.sanitizer_env())
    p = subprocess.Popen([TOOL, "-c", conf, "post", "at-max", "web", "run-for", "2",
                          "wait-idle", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=full_env)
    try:
        time.sleep(2.5)
        assert journal(tmp_path), "the undelivered alert must be journaled"
        srv.start()
        out, err = p.communicate(timeout=40)
    finally:
        if p.poll() is None:
            p.kill()
    st = stats(subprocess.CompletedProcess([], 0, out, err))
    assert st["sent"] == 1 and st["retried"] >= 1, err
    assert "retry in" in err
    assert len(srv.messages()) == 1
    assert journal(tmp_path) == []


def test_restart_with_queued_alerts_delivers_once(smtp, tmp_path):
    srv = smtp(start=False)
    conf = write_conf(tmp_path, srv.port)
    r = tool(conf, "post", "at-max", "web", "post", "action-failed", "web", "start", "boom",
             "run-for", "1.5")
    assert stats(r)["sent"] == 0
    assert len(journal(tmp_path)) == 2
    srv.start()
    r = tool(conf, "wait-idle", "20")
    assert "2 queued alert(s) from the previous run" in r.stderr
    assert stats(r)["sent"] == 2
    assert journal(tmp_path) == []
    first = srv.messages()
    assert len(first) == 2
    # a third run finds nothing to send: delivered once, not twice
    r = tool(conf, "run-for", "1.5")
    assert stats(r)["sent"] == 0
    assert len(srv.messages()) == 2
    # the Message-ID made before the restart is the one delivered
    assert len({m["msg"]["Message-ID"] for m in first}) == 2


def test_killed_while_queued_delivers_after_restart(smtp, tmp_path):
    srv = smtp(start=False)
    conf = write_conf(tmp_path, srv.port)
    full_env = dict(os.environ, **vstest.sanitizer_env())
    p = subprocess.Popen([TOOL, "-c", conf, "post", "at-max", "web", "run-for", "30"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=full_env)
    vstest.wait_for(lambda: journal(tmp_path), timeout=10, what="journal file")
    p.kill()
    p.wait(5)
    srv.start()
    r = tool(conf, "wait-idle", "20")
    assert stats(r)["sent"] == 1
    assert len(srv.messages()) == 1


def test_one_recipient_refused_others_delivered(smtp, tmp_path):
    srv = smtp("--refuse", "gone@example.test")
    conf = write_conf(tmp_path, srv.port, to="ops@example.test, gone@example.test, boss@example.test")
    r = tool(conf, "post", "at-max", "web", "wait-idle", "20")
    st = stats(r)
    assert st["sent"] == 1 and st["refused"] == 1 and st["retried"] == 0, r.stdout + r.stderr
    [rec] = srv.messages()
    assert sorted(rec["rcpt_tos"]) == ["boss@example.test", "ops@example.test"]
    assert "recipient refused permanently: gone@example.test: 550" in r.stderr
    assert journal(tmp_path) == []
    r = tool(conf, "test-mail", check=False)
    assert r.returncode == 1
    assert "gone@example.test: 550" in r.stdout and "ops@example.test: 250" in r.stdout


def test_permanent_refusal_is_not_retried(smtp, tmp_path):
    srv = smtp("--refuse", "ops@example.test")
    conf = write_conf(tmp_path, srv.port)
    r = tool(conf, "post", "at-max", "web", "wait-idle", "20")
    st = stats(r)
    assert st["sent"] == 0 and st["retried"] == 0 and st["refused"] >= 1
    assert "not retried" in r.stderr
    assert srv.messages() == [] and journal(tmp_path) == []


def test_temporary_failure_is_retried(smtp, tmp_path):
    srv = smtp("--tempfail-data", "1")
    conf = write_conf(tmp_path, srv.port)
    r = tool(conf, "post", "at-max", "web", "wait-idle", "15")
    st = stats(r)
    assert st["sent"] == 1 and st["retried"] == 1, r.stderr
    assert "451" in r.stderr
    assert len(srv.messages()) == 1


def test_queue_is_bounded_and_counts_drops(smtp, tmp_path):
    srv = smtp(start=False)
    conf = write_conf(tmp_path, srv.port, queue_max="2")
    r = tool(conf, "post", "at-max", "a", "post", "at-max", "b", "post", "at-max", "c",
             "run-for", "0.2", check=False)
    assert r.returncode == 3
    st = stats(r)
    assert st["queued"] == 2 and st["dropped"] == 1
    assert "dropped (queue full)" in r.stderr
    assert len(journal(tmp_path)) == 2


def test_mail_disabled_alerts_only_logged(tmp_path):
    conf = write_conf(tmp_path)
    r = tool(conf, "post", "action-failed", "web", "drain", "nginx -t failed", "run-for", "0.1")
    assert "alert (mail disabled)" in r.stderr and "nginx -t failed" in r.stderr
    assert stats(r)["sent"] == 0
    assert not os.path.exists(tmp_path / "state" / "mail-queue")
    r = tool(conf, "test-mail", check=False)
    assert r.returncode == 1 and "server is not set" in r.stderr


@pytest.mark.parametrize("mode", ["required", "optional"])
def test_starttls_with_auth(smtp, tmp_path, tls_files, mode):
    srv = smtp("--cert", tls_files["cert"], "--key", tls_files["key"], "--require-tls",
               "--auth", "alice:s3cret")
    conf = write_conf(tmp_path, srv.port, starttls=mode, user="alice",
                      password_file=tls_files["password_file"])
    env = {"SSL_CERT_FILE": tls_files["cert"]}
    r = tool(conf, "test-mail", env=env)
    assert "ops@example.test: 250" in r.stdout
    r = tool(conf, "post", "at-max", "web", "wait-idle", "10", env=env)
    assert stats(r)["sent"] == 1
    msgs = srv.messages()
    assert len(msgs) == 2
    assert all(m["tls"] for m in msgs) and all(m["auth"] == "alice" for m in msgs)
    assert "s3cret" not in r.stderr


def test_starttls_refuses_untrusted_certificate(smtp, tmp_path, tls_files):
    srv = smtp("--cert", tls_files["cert"], "--key", tls_files["key"])
    conf = write_conf(tmp_path, srv.port, starttls="required")
    r = tool(conf, "test-mail", check=False, env={"SSL_CERT_FILE": "/nonexistent"})
    assert r.returncode == 1
    assert "certificate" in r.stderr
    assert srv.messages() == []


def test_starttls_trusts_the_configured_ca_file(smtp, tmp_path, tls_files):
    srv = smtp("--cert", tls_files["cert"], "--key", tls_files["key"], "--require-tls")
    # the system store (here: none at all) does not know the server's CA
    no_store = {"SSL_CERT_FILE": "/nonexistent", "SSL_CERT_DIR": "/nonexistent"}
    conf = write_conf(tmp_path, srv.port, starttls="required", ca_file=tls_files["cert"])
    r = tool(conf, "test-mail", env=no_store)
    assert "ops@example.test: 250" in r.stdout
    assert [m["tls"] for m in srv.messages()] == [True]
    # a CA file that cannot be read: a clear failure, nothing sent
    conf = write_conf(tmp_path, srv.port, name="missing.conf", starttls="required",
                      ca_file=str(tmp_path / "no-such-ca.pem"))
    r = tool(conf, "test-mail", check=False, env=no_store)
    assert r.returncode == 1 and "no-such-ca.pem" in r.stderr, r.stderr
    assert len(srv.messages()) == 1


def test_starttls_required_but_not_offered(smtp, tmp_path):
    srv = smtp()
    conf = write_conf(tmp_path, srv.port, starttls="required")
    r = tool(conf, "test-mail", check=False)
    assert r.returncode == 1 and "STARTTLS" in r.stderr
    assert srv.messages() == []


def test_password_never_sent_in_clear_text(smtp, tmp_path, tls_files):
    """A server that offers AUTH but no STARTTLS (it records every AUTH it
    gets, and whether over TLS): user with starttls = no is a configuration
    error naming the file and line; with starttls = optional nothing is
    sent (the error says why); only allow_cleartext_auth = yes sends the
    password as it is."""
    srv = smtp("--auth", "alice:s3cret")
    pw = tls_files["password_file"]
    conf = write_conf(tmp_path, srv.port, name="no.conf", starttls="no", user="alice",
                      password_file=pw)
    r = tool(conf, "test-mail", check=False)
    assert r.returncode == 2 and f"{conf}:" in r.stderr and "clear text" in r.stderr, r.stderr
    ctl = subprocess.run([vstest.build_path("actuator", "virtscalectl"), "-c", conf,
                          "check-config"], capture_output=True, text=True, timeout=30,
                         env=dict(os.environ, **vstest.sanitizer_env()))
    assert ctl.returncode == 2 and f"{conf}:" in ctl.stderr, ctl.stderr

    conf = write_conf(tmp_path, srv.port, name="optional.conf", starttls="optional",
                      user="alice", password_file=pw)
    r = tool(conf, "test-mail", check=False)
    assert r.returncode == 1 and "allow_cleartext_auth" in r.stderr, r.stderr
    r = tool(conf, "post", "at-max", "web", "run-for", "1.5")
    assert stats(r)["sent"] == 0 and "allow_cleartext_auth" in r.stderr
    assert srv.auth_attempts() == [] and srv.messages() == []

    conf = write_conf(tmp_path, srv.port, name="allowed.conf", starttls="optional",
                      user="alice", password_file=pw, allow_cleartext_auth="yes")
    # the at-max alert queued above goes out too, now that it may
    r = tool(conf, "test-mail", "wait-idle", "10")
    assert "ops@example.test: 250" in r.stdout and stats(r)["sent"] == 1
    attempts = srv.auth_attempts()
    assert attempts and all(not a["tls"] and a["ok"] for a in attempts), attempts
    assert sorted(srv.events()) == ["at-max", "test"]
    assert all(not m["tls"] and m["auth"] == "alice" for m in srv.messages())



def test_wrong_password_reported_and_not_sent(smtp, tmp_path, tls_files):
    srv = smtp("--cert", tls_files["cert"], "--key", tls_files["key"], "--auth", "alice:other")
    conf = write_conf(tmp_path, srv.port, starttls="required", user="alice",
                      password_file=tls_files["password_file"])
    r = tool(conf, "test-mail", check=False, env={"SSL_CERT_FILE": tls_files["cert"]})
    assert r.returncode == 1 and "no transfer" in r.stderr
    assert srv.messages() == []


def test_virtscalectl_test_mail_reports_server_answer(smtp, tmp_path):
    """`virtscalectl test-mail` sends one message now and prints each answer."""
    ctl = vstest.build_path("actuator", "virtscalectl")
    srv = smtp("--refuse", "gone@example.test")
    env = dict(os.environ, **vstest.sanitizer_env())
    conf = write_conf(tmp_path, srv.port)
    r = subprocess.run([ctl, "-c", conf, "test-mail"], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert "ops@example.test: 250" in r.stdout and "message: 250" in r.stdout
    assert srv.messages()[0]["msg"]["X-Virtscale-Event"] == "test"
    conf = write_conf(tmp_path, srv.port, name="refused.conf",
                      to="ops@example.test, gone@example.test")
    r = subprocess.run([ctl, "-c", conf, "test-mail"], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode != 0
    assert "gone@example.test: 550" in r.stdout
    assert "refused by gone@example.test: 550" in r.stderr
