#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang (in build-fuzz/,
# ASan + UBSan + libFuzzer) and runs each for SECONDS (default 60). A run
# that crashes is restarted for the time left, so the figures cover the
# whole time; every crash leaves its input in
# build-fuzz/tests/fuzz/artifacts/NAME/. New inputs that reach new code go
# to build-fuzz/tests/fuzz/work/NAME/, never into the seed corpus
# (tests/fuzz/corpus/NAME/, which `make replay` checks on every build).
#
# Prints one line per harness, "NAME: N executions in S s, C crashes", and
# exits 1 when any harness crashed.
#
# Usage: scripts/fuzz.sh [-j JOBS] [--only NAME,...] [SECONDS]
#   -j JOBS    harnesses run at the same time (default 1)
#   --only     only these harnesses (names as in tests/fuzz/corpus/)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-fuzz"
seconds=60
jobs=1
only=""
while [ $# -gt 0 ]; do
	case "$1" in
	-j) jobs="$2"; shift 2 ;;
	--only) only="$2"; shift 2 ;;
	[0-9]*) seconds="$1"; shift ;;
	*) echo "usage: $0 [-j JOBS] [--only NAME,...] [SECONDS]" >&2; exit 2 ;;
	esac
done

if ! command -v clang >/dev/null; then
	echo "fuzz: clang not found: scripts/setup-deps.sh installs clang and libclang-rt-14-dev" >&2
	exit 2
fi

# --- build ------------------------------------------------------------------
mkdir -p "$build"
log="$build/fuzz-build.log"
if ! {
	{ [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi); } &&
		{ [ -f "$build/Makefile" ] || (cd "$build" && CC=clang "$top/configure" \
			--enable-fuzzers --disable-snmp-subagent --disable-collectd-plugin); } &&
		make -C "$build/lib" -j"$(nproc)" &&
		make -C "$build/actuator" -j"$(nproc)" libactuator.la &&
		make -C "$build/tests/fuzz" -j"$(nproc)"
} >"$log" 2>&1; then
	tail -n 40 "$log"
	echo "fuzz: build failed (log: $log)" >&2
	exit 2
fi

harnesses=()
for dir in "$top"/tests/fuzz/corpus/*/; do
	name=$(basename "$dir")
	if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then
		continue
	fi
	harnesses+=("$name")
done
if [ "${#harnesses[@]}" -eq 0 ]; then
	echo "fuzz: no harness selected" >&2
	exit 2
fi

# --- run ------------------------------------------------------------------
# One harness for $seconds; its summary line goes to results/NAME.
run_one() {
	local name=$1
	local bin="$build/tests/fuzz/fuzz-$name"
	local work="$build/tests/fuzz/work/$name"
	local artifacts="$build/tests/fuzz/artifacts/$name"
	local logdir="$build/tests/fuzz/logs/$name"
	local left=$seconds execs=0 crashes=0 restarts=0
	local start now rc n part

	mkdir -p "$work" "$artifacts" "$logdir"
	start=$(date +%s)
	while [ "$left" -gt 0 ]; do
		part="$logdir/run-$restarts.log"
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			LSAN_OPTIONS=suppressions="$top/tests/lsan.supp" \
			"$bin" -max_total_time="$left" -timeout=10 -print_final_stats=1 \
			-artifact_prefix="$artifacts/" "$work" "$top/tests/fuzz/corpus/$name" \
			>"$part" 2>&1
		rc=$?
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$part" | tail -n 1)
		execs=$((execs + ${n:-0}))
		if [ "$rc" -ne 0 ]; then
			crashes=$((crashes + 1))
			echo "fuzz: $name crashed (exit $rc), log: $part" >&2
			grep -m 3 -E 'ERROR|fuzz assertion|CRITICAL|runtime error|Test unit written' "$part" >&2
		fi
		now=$(date +%s)
		left=$((seconds - (now - start)))
		restarts=$((restarts + 1))
		# a crash on loading the corpus would repeat forever
		if [ "$rc" -ne 0 ] && [ "$restarts" -ge 20 ]; then
			break
		fi
		[ "$rc" -eq 0 ] && break
	done
	echo "$name: $execs executions in $(($(date +%s) - start)) s, $crashes crashes" \
		>"$build/tests/fuzz/results/$name"
}

rm -rf "$build/tests/fuzz/results"
mkdir -p "$build/tests/fuzz/results"
echo "fuzz: ${#harnesses[@]} harnesses, $seconds s each, $jobs at a time ($(clang --version | head -n 1))"
running=0
for name in "${harnesses[@]}"; do
	run_one "$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

total_execs=0
total_crashes=0
for name in "${harnesses[@]}"; do
	line=$(cat "$build/tests/fuzz/results/$name" 2>/dev/null || echo "$name: 0 executions in 0 s, 1 crashes")
	echo "$line"
	read -r e c < <(sed -E 's/.*: ([0-9]+) executions in [0-9]+ s, ([0-9]+) crashes/\1 \2/' <<<"$line")
	total_execs=$((total_execs + e))
	total_crashes=$((total_crashes + c))
done
echo "total: $total_execs executions, $total_crashes crashes"
[ "$total_crashes" -eq 0 ]
