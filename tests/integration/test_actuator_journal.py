"""The action journal under faults: a state_dir that fills up at each
record of a scale-out and of a scale-in, a clone whose final record is
missing although it serves, operations of a pool that left the
configuration. Nothing may leak, a
serving clone must not be destroyed, the journal must never pin a pool.

Domains vst-jn-*, pools jn-*."""
import contextlib
import errno
import json
import os
import signal
import subprocess

import pytest

import actbed
import vstest
from actbed import tagged

pytestmark = pytest.mark.usefixtures("libvirtd")

PAGE = 4096  # tmpfs allocates the journal page by page


@pytest.fixture
def make_jn(make_actuator):
    return lambda tag, ports, **kw: make_actuator(tag, ports, namespace="jn", **kw)


@contextlib.contextmanager
def small_tmpfs(path, size="512k"):
    """@path as a tmpfs of @size (a state_dir that can fill up), unmounted
    afterwards even when the test fails."""
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0750", "tmpfs", path],
                   check=True)
    try:
        yield path
    finally:
        if subprocess.run(["umount", path]).returncode != 0:
            subprocess.run(["umount", "-l", path])


def fill_up(directory):
    """Writes a file into @directory until the file system is full; returns it.
    Unbuffered: a buffered writer keeps the part of a short write it could
    not place and raises ENOSPC again when it is closed."""
    filler = os.path.join(directory, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (b"\0" * 65536, b"\0" * 512):  # then the last partial chunk
            while True:
                try:
                    if os.write(fd, chunk) == 0:
                        break
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
    finally:
        os.close(fd)
    return filler


def pad_journal(path, room):
    """Blank lines (replayed as nothing) until the journal's page has only
    @room bytes left: its next record is cut short by a full tmpfs."""
    size = os.path.getsize(path)
    pad = (PAGE - room - size % PAGE) % PAGE
    with open(path, "a") as f:
        f.write("\n" * pad)
    assert os.path.getsize(path) % PAGE == PAGE - room


def records_whole(text):
    """Every non-blank line of the journal is a JSON record."""
    for line in text.splitlines():
        if line.strip():
            json.loads(line)
    return True


# --- the state_dir full at each journal record ----------------------------

# the records of a scale-out (op "clone") and of a scale-in, in the order
# actuator/ops/scale-out.c and scale-in.c write them
RECORDS = {"scale-out": ["begin", "volumes", "defined", "started", "probed", "end"],
           "scale-in": ["begin", "draining", "drained", "stopped", "lb-removed", "end"]}
# a scale-out and a scale-in in turn: each case leaves the pool as the next
# one needs it (0 members, then 1)
MATRIX = [(action, record) for i in range(6) for action, record in
          (("scale-out", RECORDS["scale-out"][i]), ("scale-in", RECORDS["scale-in"][i]))]
FILL_PORTS = (19460, 19463)


@pytest.fixture(scope="module")
def full_bed(tmp_path_factory, libvirtd):
    """One pool (min 0, max 1, lb none) whose state_dir is a small tmpfs,
    shared by the cases of the matrix; each case runs its own virtscaled.
    Its syncs, which settle the journal's interrupted operations, come
    every 2 s (not 10)."""
    a = actbed.Actuator(tmp_path_factory.mktemp("jn-fill"), None, "fill",
                        "%d-%d" % FILL_PORTS, namespace="jn",
                        pool={"min": 0, "max": 1, "cooldown": 1, "sync_interval": 2})
    a.cleanup()
    a.define_template()
    try:
        with small_tmpfs(a.state):
            yield a
    finally:
        a.cleanup()
        vstest.remove_domain(a.template)


def compact(record):
    """A record as the journal writes it: compact JSON, one line."""
    return json.dumps(record, separators=(",", ":")) + "\n"


def action_records(a, action):
    """[(record, line)] the next @action of the pool writes, in order, as
    operation 1: a scale-out makes member 01 on the first port, a scale-in
    removes the one member."""
    if action == "scale-out":
        name = f"{a.prefix}01"
        op = {"op": "clone", "name": name, "address": "127.0.0.1:%d" % FILL_PORTS[0],
              "vols": [f"{name}.qcow2"]}
    else:
        [name] = a.running()
        op = {"op": "scale-in", "name": name, "address": tagged(name)[1], "vols": a.volumes()}
    begin = {"id": 1, "op": op["op"], "pool": a.pool_name, "name": name, "uri": vstest.URI,
             "vol_pool": "default", "address": op["address"], "vols": op["vols"]}
    return ([("begin", compact(begin))] +
            [(s, compact({"id": 1, "step": s})) for s in RECORDS[action][1:-1]] +
            [("end", compact({"id": 1, "end": "ok"}))])


def failure_logged(action, record, name, journal):
    """The log line of @action failing at @record for lack of space."""
    cause = f"journal {journal}: No space left on device"
    what = {"begin": "", "end": (f"cannot record the finished clone {name}: "
                                 if action == "scale-out" else
                                 f"cannot record the finished scale-in of {name}: ")}
    return (f"{action} failed at step journal: " +
            what.get(record, f"cannot record step {record}: ") + cause)


def start_settled(a, daemons, members):
    """virtscaled on a settled (empty) journal with the pool at @members:
    its next operation is operation 1. A pool elsewhere is scaled there
    first, with room on the disk, and virtscaled started again."""
    a.daemons = daemons
    a.start()
    if len(a.running()) != members or a.open_ops():
        assert a.ctl("scale", a.pool_name, str(members)).returncode == 0
        a.wait_running(members, 120)
        vstest.wait_for(lambda: a.open_ops() == [], 30, what="a settled journal")
        assert a.proc.stop() == 0
        a.start()
    a.wait_running(members, 30)
    assert a.journal_text() == "", a.journal_text()


def no_leak(a):
    """Every member defined is running and has its one volume."""
    return a.defined() == a.running() and len(a.volumes()) == len(a.running())


@pytest.mark.parametrize("action,record", MATRIX, ids=[f"{a}-{r}" for a, r in MATRIX])
def test_state_dir_full_at_each_journal_record(full_bed, daemons, action, record):
    """The state_dir fills up exactly at one record of a scale-out or a
    scale-in (the journal padded so that the records before it fit in its
    last page, and this one only half): the action fails at step journal
    with the cause logged, in status and alerted; the half record is cut
    (the journal holds exactly the records before it); what the action made
    is rolled back or finished; once space returns the pool converges, the
    journal settles and the manual target is on the disk."""
    a = full_bed
    members = 0 if action == "scale-out" else 1
    start_settled(a, daemons, members)
    journal = os.path.join(a.state, "journal")
    records = action_records(a, action)
    k = [r for r, _ in records].index(record)
    before = "".join(line for _, line in records[:k])
    # half the record fits: a short write, then ENOSPC (a rollback or
    # reconcile record, 26 bytes or more, does not fit either)
    pad_journal(journal, room=len(before) + len(records[k][1]) // 2)
    padded = a.journal_text()
    filler = fill_up(a.state)
    try:
        assert a.ctl("scale", a.pool_name, str(1 - members)).returncode == 0
        st = vstest.wait_for(lambda: (lambda s: s["last_result"] == "failed" and s)(
            a.pool_status()), 60, interval=0.1, what=f"{action} to fail")
        assert "No space left on device" in st["last_error"], st
        assert st["last_alert"] == "action-failed", st
        failed = [x for x in a.proc.output().splitlines() if " failed at step " in x]
        want = failure_logged(action, record, json.loads(records[0][1])["name"], journal)
        assert failed[0].endswith(want), failed
        # the cut record is gone: the records before it, whole, and no more
        vstest.wait_for(lambda: a.journal_text() == padded + before, 10, interval=0.2,
                        what="the journal to hold the records before the cut one")
        vstest.wait_for(lambda: no_leak(a), 30, interval=0.5,
                        what="nothing half-made left while the disk is full")
        assert a.proc.alive()
    finally:
        os.unlink(filler)

    # room again: the pool goes to the user's target, the journal settles;
    # by itself at the next retry of its backoff (the begin cases), or at
    # once when the operator repeats the target (the others: the backoff
    # has grown to 16 s by then while the disk was full)
    if record != "begin":
        assert a.ctl("scale", a.pool_name, str(1 - members)).returncode == 0
    a.wait_running(1 - members, 120)
    vstest.wait_for(lambda: a.open_ops() == [], 30, what="a settled journal")
    assert no_leak(a) and len(a.running()) == 1 - members
    assert records_whole(a.journal_text())
    vstest.wait_for(lambda: target_on_disk(a) == 1 - members, 10,
                    what="the manual target written once space returned")
    assert a.proc.alive()


def target_on_disk(a):
    """The pool's manual target in STATE_DIR/targets.json (None: none)."""
    try:
        with open(os.path.join(a.state, "targets.json")) as f:
            return json.load(f)["targets"].get(a.pool_name)
    except FileNotFoundError:
        return None


def kill9_by_pid_file(a):
    """SIGKILL to the pid in virtscaled's pid file, which stays behind as
    after a crash; returns the pid."""
    pid = vstest.pid_from_file(a.pid_file)
    a.kill9()
    assert vstest.pid_from_file(a.pid_file) == pid
    return pid


def start_after_kill(a, killed):
    """Starts virtscaled again: it takes over the pid file the killed one
    (pid @killed) left; its socket file is still there too, so wait until
    the new one answers."""
    a.start()
    assert f"pid file {a.pid_file}: taken over from pid {killed}," in a.proc.output()

    def answers():
        try:
            return a.status()["ok"]
        except (OSError, ValueError):
            return False
    vstest.wait_for(answers, 20, interval=0.2, what="the restarted virtscaled")


def clone_records(a, name, address, last_step):
    """The journal a crash right after the clone joined the balancer leaves:
    its begin record and steps, no final record."""
    op = {"id": 1, "op": "clone", "pool": a.pool_name, "name": name, "uri": vstest.URI,
          "vol_pool": "default", "address": address, "vols": a.volumes()}
    steps = ["volumes", "defined", "started", "probed"]
    lines = [json.dumps(op)] + [json.dumps({"id": 1, "step": s})
                                for s in steps[:steps.index(last_step) + 1]]
    return "\n".join(lines) + "\n"


def domuuid(name):
    return vstest.virsh("domuuid", name).stdout.strip()


@pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="no nginx")
def test_serving_clone_without_final_record_is_adopted(make_jn, tmp_path, daemons):
    from lb_bed import Nginx
    ng = Nginx(tmp_path / "ngx", daemons)
    a = make_jn("adopt", "19470-19479", template=True,
                pool={"min": 1, "max": 2, "lb": "nginx"}, sections={"nginx": dict(ng.nginx_keys)})
    a.start()
    a.wait_running(1, 40)
    name = a.running()[0]
    _, addr = tagged(name)
    vstest.wait_for(lambda: f"server {addr};" in ng.upstream_text(), 20,
                    what="the clone in the upstream")
    uuid = domuuid(name)
    vols = a.volumes()
    killed = kill9_by_pid_file(a)
    with open(os.path.join(a.state, "journal"), "w") as f:
        f.write(clone_records(a, name, addr, "probed"))

    start_after_kill(a, killed)
    vstest.wait_for(lambda: a.open_ops() == [], 30, what="the journal settled")
    out = a.proc.output()
    assert f"clone of {name} (reached 'probed') adopted" in out, out
    # the very same domain serves on: not destroyed and cloned again
    assert a.running() == [name] and domuuid(name) == uuid
    assert a.volumes() == vols
    assert f"server {addr};" in ng.upstream_text()
    st = a.wait_running(1, 20)
    assert st["failures"] == 0 and st["scale_outs"] == 0, st
    assert st["last_alert"] == "reconciled", st


def test_operation_of_removed_pool_alerted_once_and_dropped(make_jn):
    a = make_jn("gone", "19480-19484", template=True, pool={"min": 0})
    os.makedirs(a.state, exist_ok=True)
    gone = {"id": 4, "op": "clone", "pool": "jn-removed", "name": "vst-jn-removed-01",
            "uri": vstest.URI, "vol_pool": "default", "address": "127.0.0.1:19485",
            "vols": ["vst-jn-removed-01.qcow2"]}
    moved = {"id": 5, "op": "scale-in", "pool": a.pool_name, "name": f"{a.prefix}07",
             "uri": "qemu+ssh://gone.invalid/system", "vol_pool": "default", "vols": []}
    with open(os.path.join(a.state, "journal"), "w") as f:
        f.write(json.dumps(gone) + "\n" + json.dumps({"id": 4, "step": "started"}) + "\n" +
                json.dumps(moved) + "\n")
    a.start()
    vstest.wait_for(lambda: a.open_ops() == [], 20, what="the leftovers dropped")
    vstest.wait_for(lambda: a.pool_status()["last_action"] == "none", 20, what="idle")
    out = a.proc.output()
    alerts = [line for line in out.splitlines() if "alert" in line]
    named = [line for line in alerts if "vst-jn-removed-01" in line]
    assert len(named) == 1 and "pool jn-removed is no longer configured" in named[0], alerts
    named = [line for line in alerts if f"{a.prefix}07" in line]
    assert len(named) == 1 and "gone.invalid" in named[0], alerts
    assert a.proc.alive()

    # reported once: the next start has nothing left to say about them
    a.proc.stop()
    a.start()
    vstest.wait_for(lambda: a.pool_status()["last_action"] == "none", 20, what="idle")
    out = a.proc.output()
    assert "vst-jn-removed-01" not in out and f"{a.prefix}07" not in out, out


def test_manual_target_survives_kill9_mid_scale_out(make_jn):
    # a clone's HTTP probe a halted guest never passes holds the scale-out
    # in the middle; virtscaled is killed there
    a = make_jn("tgt", "19486-19495", template=True,
                pool={"min": 1, "max": 3, "probe": "http:/", "probe_timeout": 120, "cooldown": 1})
    a.write_config(probe="tcp", probe_timeout=20)
    a.start()
    st = a.wait_running(1, 40)
    assert st["target_source"] == "min", st
    a.write_config(probe="http:/", probe_timeout=120)
    a.proc.stop()
    a.start()
    assert a.ctl("scale", a.pool_name, "3").returncode == 0
    st = a.pool_status()
    assert st["desired"] >= 2 and st["target_source"] == "manual", st
    vstest.wait_for(lambda: '"step":"started"' in a.journal_text(), 40, what="a started clone")
    killed = kill9_by_pid_file(a)

    # restarted with a probe the guest passes: the half-made clone is
    # rolled back, and the pool still goes to the user's 3
    a.write_config(probe="tcp", probe_timeout=20)
    start_after_kill(a, killed)
    st = a.wait_running(3, 120)
    assert st["desired"] == 3 and st["target_source"] == "manual", st
    assert "manual target 3 restored" in a.proc.output()
    out = a.ctl("status")
    assert out.returncode == 0 and "desired 3 (manual)" in out.stdout, out.stdout
    with open(os.path.join(a.state, "status.json")) as f:
        assert json.load(f)["pools"][0]["target_source"] == "manual"
    vstest.wait_for(lambda: a.open_ops() == [], 20, what="a settled journal")
    assert len(a.defined()) == 3 and len(a.volumes()) == 3


def recorded_targets(a):
    """STATE_DIR/targets.json's targets ({} while there is no file)."""
    try:
        with open(os.path.join(a.state, "targets.json")) as f:
            return json.load(f)["targets"]
    except FileNotFoundError:
        return {}


def published_source(a):
    """target_source of the pool in STATE_DIR/status.json as last written."""
    return a.status_file_pool().get("target_source")


def test_manual_target_cleared_by_auto(make_jn):
    """virtscalectl scale POOL auto: the manual target is gone from status
    (the socket's and status.json) and from targets.json at once, the pool
    keeps its size, and a restart does not bring the target back."""
    a = make_jn("auto", "19496-19498", template=True, pool={"min": 1, "max": 2, "cooldown": 1})
    a.start()
    a.wait_running(1, 40)
    assert a.ctl("scale", a.pool_name, "2").returncode == 0
    st = a.wait_running(2, 60)
    assert st["desired"] == 2 and st["target_source"] == "manual", st
    vstest.wait_for(lambda: recorded_targets(a) == {a.pool_name: 2}, 10,
                    what="the target in targets.json")

    r = a.ctl("scale", a.pool_name, "auto")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"v": 1, "ok": True, "pool": a.pool_name, "desired": "auto"}
    st = a.pool_status()
    assert st["target_source"] == "policy" and st["desired"] == 2, st
    vstest.wait_for(lambda: a.pool_name not in recorded_targets(a), 10,
                    what="the target gone from targets.json")
    vstest.wait_for(lambda: published_source(a) == "policy", 10,
                    what="status.json to say policy")
    assert "manual target 2 ended: virtscalectl scale auto" in a.proc.output()
    out = a.ctl("status")
    assert "desired 2 (policy)" in out.stdout, out.stdout

    # across a restart: nothing to restore, the pool keeps its two members
    a.signal(signal.SIGTERM)
    assert a.proc.proc.wait(60) == 0
    a.start()
    st = a.wait_running(2, 40)
    assert st["target_source"] == "policy" and a.pool_name not in recorded_targets(a), st
    assert "manual target" not in a.proc.output()
    # clearing what is not there is no error
    assert a.ctl("scale", a.pool_name, "auto").returncode == 0
    # and a count still sets one
    assert a.ctl("scale", a.pool_name, "1").returncode == 0
    st = a.wait_running(1, 60)
    assert st["target_source"] == "manual", st
