#!/usr/bin/env bash
# The test command: installs what is missing, builds with -Werror and
# ASan/UBSan, runs the unit tests (Check), replays the fuzz corpora
# (tests/fuzz), runs the integration tests (pytest, real libvirtd/QEMU,
# snmpd, collectd, nginx, apache2, SMTP), a format check and
# `make distcheck`. Its last line is "N passed, N failed".
#
# Usage: scripts/check.sh [-k PYTEST_EXPR] [--no-distcheck] [--no-setup]
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build="$top/build"
results="$build/check-results"
pytest_expr=""
do_distcheck=1
do_setup=1
while [ $# -gt 0 ]; do
	case "$1" in
	-k) pytest_expr="$2"; shift 2 ;;
	--no-distcheck) do_distcheck=0; shift ;;
	--no-setup) do_setup=0; shift ;;
	*) echo "usage: $0 [-k PYTEST_EXPR] [--no-distcheck] [--no-setup]" >&2; exit 2 ;;
	esac
done

passed=0
failed=0
step() { printf '\n=== %s ===\n' "$*"; }
count() { # count NAME STATUS
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1)); echo "PASS: $1"
	else
		failed=$((failed + 1)); echo "FAIL: $1"
	fi
}
finish() {
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

if [ "$do_setup" -eq 1 ]; then
	step "setup (scripts/setup-deps.sh)"
	if ! bash scripts/setup-deps.sh; then
		count setup 1
		finish
	fi
fi

step "build (-Werror, ASan/UBSan)"
mkdir -p "$build" "$results"
if ! { autoreconf -fi && (cd "$build" && ../configure --enable-werror --enable-sanitizers &&
	make -j"$(nproc)"); } >"$results/build.log" 2>&1; then
	tail -n 60 "$results/build.log"
	count build 1
	finish
fi
count build 0

step "unit tests (make check)"
make -C "$build" -j"$(nproc)" check >"$results/unit.log" 2>&1
unit_status=$?
grep -E '^(PASS|FAIL|ERROR|XPASS):' "$results/unit.log" || true
# Count Check's test cases, not programs: each program's log has a line
# "NN%: Checks: N, Failures: F, Errors: E". A program that died before
# printing it counts as one failure.
unit_pass=0
unit_fail=0
for trs in "$build"/tests/unit/*.trs; do
	[ -e "$trs" ] || continue
	log="${trs%.trs}.log"
	summary=$(grep -hE '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" 2>/dev/null | tail -n 1)
	if [ -z "$summary" ]; then
		unit_fail=$((unit_fail + 1))
		echo "FAIL: $(basename "${trs%.trs}") (no Check summary)"
		continue
	fi
	echo "$(basename "${trs%.trs}"): $summary"
	read -r checks failures errors < <(sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/' <<<"$summary")
	unit_pass=$((unit_pass + checks - failures - errors))
	unit_fail=$((unit_fail + failures + errors))
done
if [ "$unit_status" -ne 0 ] && [ "$unit_fail" -eq 0 ]; then
	tail -n 40 "$results/unit.log"
	unit_fail=1
fi
passed=$((passed + unit_pass))
failed=$((failed + unit_fail))

step "fuzz corpus replay (tests/fuzz)"
# Every seed and every crash the fuzzers found, once through its harness,
# built with the compiler and sanitizers above (no clang needed): one
# check per harness.
make -C "$build/tests/fuzz" replay >"$results/fuzz-replay.log" 2>&1
replay_status=$?
replay_pass=$(grep -cE '^replay-[a-z-]+: [0-9]+ inputs replayed, no crash$' "$results/fuzz-replay.log")
replay_fail=$(grep -cE '^FAIL: replay-' "$results/fuzz-replay.log")
grep -E '^(replay-|FAIL: replay-)' "$results/fuzz-replay.log" || true
if [ "$replay_status" -ne 0 ] && [ "$replay_fail" -eq 0 ]; then
	tail -n 40 "$results/fuzz-replay.log"
	replay_fail=1
fi
passed=$((passed + replay_pass))
failed=$((failed + replay_fail))

step "format (.clang-format)"
mapfile -t sources < <(git ls-files '*.c' '*.h')
if [ "${#sources[@]}" -gt 0 ] && clang-format --dry-run -Werror "${sources[@]}" >"$results/format.log" 2>&1; then
	count clang-format 0
else
	head -n 40 "$results/format.log"
	count clang-format 1
fi

step "integration tests (pytest)"
pytest_args=(-q -rfE --junitxml="$results/pytest.xml" -p no:cacheprovider)
[ -n "$pytest_expr" ] && pytest_args+=(-k "$pytest_expr")
# The suite runs one test at a time, so tests that restart libvirtd may.
VS_TEST_RESTART_LIBVIRTD=1 VS_BUILDDIR="$build" /usr/bin/python3 -m pytest "${pytest_args[@]}" tests/integration
py_status=$?
if [ -f "$results/pytest.xml" ]; then
	read -r py_pass py_fail < <(/usr/bin/python3 - "$results/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(tests - bad - skipped, bad)
PY
)
else
	py_pass=0; py_fail=1
fi
# pytest exits 5 when nothing was collected: with -k that is the user's choice.
if [ "$py_status" -ne 0 ] && [ "$py_status" -ne 5 ] && [ "$py_fail" -eq 0 ]; then
	py_fail=1
fi
passed=$((passed + py_pass))
failed=$((failed + py_fail))

if [ "$do_distcheck" -eq 1 ]; then
	step "make distcheck"
	# -j as for the build above: distcheck configures, builds and checks
	# the tarball in a tree of its own, serially unless told.
	if make -C "$build" -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
		>"$results/distcheck.log" 2>&1; then
		count distcheck 0
	else
		tail -n 40 "$results/distcheck.log"
		count distcheck 1
	fi
fi

finish
