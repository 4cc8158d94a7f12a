"""The tests need nothing outside the source tree (and the build tree and
the system's packages): a clone with no sibling directories passes.
Two guards: no test, script or benchmark names a path that leaves the
tree, and the tests that read only sources (the MIB checks) pass in a
copy of the tree alone in an empty temporary directory."""
import os
import re
import shutil
import subprocess

import vstest

# Paths that climb out of the tree: a sibling of the checkout ("../shared",
# "$top/..", SRCDIR + ".."), or a machine's own absolute directories.
LEAVING = re.compile(
    r"""\.\./shared|(?:^|[\s"'=:(])/work/|\$\(top_srcdir\)/\.\.|\$\{?top\}?/\.\.|\$\{?SRCDIR\}?/\.\."""
    r"""|SRCDIR\s*,\s*["']\.\.["']|dirname\(\s*(?:vstest\.)?SRCDIR\s*\)"""
    r"""|srcdir\)/\.\./\.\.""")
SCANNED = ("tests", "scripts", "bench")
THIS_FILE = "tests/integration/test_source_tree.py"  # its patterns name such paths
TEXT_SUFFIXES = (".py", ".sh", ".c", ".h", ".am", ".conf", ".json", ".md", "")


def tree_files():
    """The files of the tree: git's list when this is a checkout, else a walk
    (an unpacked release tarball)."""
    r = subprocess.run(["git", "-C", vstest.SRCDIR, "ls-files", "--cached", "--others",
                        "--exclude-standard"], capture_output=True, text=True)
    if r.returncode == 0:
        return [f for f in r.stdout.splitlines() if os.path.isfile(os.path.join(vstest.SRCDIR, f))]
    files = []
    for d, dirs, names in os.walk(vstest.SRCDIR):
        dirs[:] = [x for x in dirs if not x.startswith(("build", ".git", "__pycache__"))]
        files += [os.path.relpath(os.path.join(d, n), vstest.SRCDIR) for n in names]
    return files


def test_no_test_names_a_path_outside_the_tree():
    offenders = []
    scanned = 0
    for rel in tree_files():
        if rel.split("/", 1)[0] not in SCANNED or "/corpus/" in rel or rel == THIS_FILE:
            continue
        if os.path.splitext(rel)[1] not in TEXT_SUFFIXES:
            continue
        scanned += 1
        with open(os.path.join(vstest.SRCDIR, rel), errors="replace") as f:
            for no, line in enumerate(f, 1):
                if LEAVING.search(line):
                    offenders.append(f"{rel}:{no}: {line.strip()}")
    assert scanned > 50
    assert not offenders, "\n".join(offenders)


def test_guard_sees_a_sibling_path():
    """The pattern catches the ways a test has reached out of the tree."""
    for line in ('MIB_DIRS = [os.path.join(SRCDIR, "..", "shared", "mibs")]',
                 'SMIPATH=$top/../shared/mibs smilint', "open('/work/shared/mibs/VM-MIB.txt')",
                 "os.path.join(os.path.dirname(SRCDIR), 'x')"):
        assert LEAVING.search(line), line
    assert not LEAVING.search('os.path.join(vstest.SRCDIR, "mibs", "ietf")')


def test_source_only_tests_pass_in_a_lone_copy(tmp_path):
    """The MIB tests that read only sources, run from a copy of the tree in
    an otherwise empty directory (no ../shared, no build tree)."""
    lone = tmp_path / "virtscale"
    for rel in tree_files():
        if rel.startswith(("build", ".git/")):
            continue
        dst = lone / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(vstest.SRCDIR, rel), dst)
    assert sorted(os.listdir(tmp_path)) == ["virtscale"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VS_", "MIB", "SMIPATH"))}
    env["VS_BUILDDIR"] = str(tmp_path / "virtscale" / "no-build")
    r = subprocess.run(["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/integration/test_snmp_subagent.py", "-k",
                        "test_mibs_lint_and_translate"],
                       cwd=lone, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
