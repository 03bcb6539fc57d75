#!/usr/bin/env bash
# Run every test suite against a build and sum the results.
#
#   tests/run-all.sh BUILD_DIR        (make test: tests/run-all.sh build/test)
#
# Suites, chosen with SUITES (default "unit http e2e reliability browser fuzz
# image"):
#   unit  every executable BUILD_DIR/tests/test_* (cmocka)
#   http  every tests/http/t[0-9]*.sh, in order
#   e2e   every tests/e2e/t[0-9]*.sh, in order
#   reliability every tests/reliability/t[0-9]*.sh: kill -9 during uploads,
#         feedback and a rollout, a full disk, the short soak (tests/sim)
#   browser tests/browser/run.sh (Playwright driving Debian's chromium)
#   fuzz  tests/fuzz/replay.sh, if present
#   image every tests/image/t[0-9]*.sh: the container image built with
#         docker or podman, run and checked (tests/image/engine.sh)
# Each script prints "ok - ..." / "not ok - ..." lines and finally
# "N passed, N failed"; a script that ends without that line counts as one
# failure.  Full output goes to BUILD_DIR/test-logs/; only failures are
# echoed here (VERBOSE=1 echoes everything).  ONLY=GLOB runs only the
# scripts and binaries whose name matches.  The last line printed is always
# "N passed, N failed" over all suites; the exit status is 1 if anything
# failed.

set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || BUILD_DIR=$ROOT/$1
SUITES=${SUITES:-unit http e2e reliability browser fuzz image}
ONLY=${ONLY:-*}
LOGS=$BUILD_DIR/test-logs
SCRIPT_TIMEOUT=${SCRIPT_TIMEOUT:-600}
TOTAL_PASSED=0
TOTAL_FAILED=0

mkdir -p "$LOGS" 2>/dev/null || LOGS=$(mktemp -d)
cd "$ROOT" || exit 2

export FALCONET=$BUILD_DIR/falconet
export MKSWU=$BUILD_DIR/tools/mkswu
export BUILD_DIR
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

with_timeout()
{
	if command -v timeout >/dev/null 2>&1; then
		timeout -k 10 "$SCRIPT_TIMEOUT" "$@"
	else
		"$@"
	fi
}

# report NAME PASSED FAILED SECONDS LOG [NOTE]
report()
{
	local name=$1 p=$2 f=$3 secs=$4 log=$5 note=${6:-}
	TOTAL_PASSED=$((TOTAL_PASSED + p))
	TOTAL_FAILED=$((TOTAL_FAILED + f))
	printf '  %-34s %4d passed, %d failed  (%ss)%s\n' "$name" "$p" "$f" \
	    "$secs" "${note:+  $note}"
	if [ "$f" -gt 0 ] && [ -z "${VERBOSE:-}" ]; then
		grep -aE '^not ok|^\[  FAILED  \]|^\[  ERROR   \]|Sanitizer|runtime error:' \
		    "$log" | head -n 40 | cut -c1-300 | sed 's/^/      /'
		case $note in
		*"without a result line"* | *"exit status"* | *"timed out"*)
			echo "      last lines:"
			tail -n 6 "$log" | tr -cd '\11\12\15\40-\176' |
			    cut -c1-200 | sed 's/^/        /'
			;;
		esac
		echo "      (full output: $log)"
	fi
}

# run_logged LOG COMMAND...: run, output to LOG (and the terminal with
# VERBOSE), exit status in RC, duration in SECS.
run_logged()
{
	local log=$1 start
	shift
	start=$(date +%s)
	if [ -n "${VERBOSE:-}" ]; then
		with_timeout "$@" </dev/null 2>&1 | tee "$log"
		RC=${PIPESTATUS[0]}
	else
		with_timeout "$@" </dev/null >"$log" 2>&1
		RC=$?
	fi
	SECS=$(($(date +%s) - start))
}

# A script of a tap-like suite: sum its final "N passed, N failed" line.
run_script()
{
	local script=$1 name log line p f note=
	name=$(basename "$script" .sh)
	log=$LOGS/$(basename "$(dirname "$script")")-$name.log
	run_logged "$log" bash "$script"
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		p=$(grep -ac '^ok ' "$log")
		f=1
		note="ended without a result line (exit $RC)"
	else
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed}
		if [ "$RC" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			note="exit status $RC"
		fi
	fi
	[ "$RC" -eq 124 ] || [ "$RC" -eq 137 ] && note="timed out after ${SCRIPT_TIMEOUT}s"
	report "$name" "$p" "$f" "$SECS" "$log" "$note"
}

# A cmocka binary: sum its "[  PASSED  ] N test(s)." and "[  FAILED  ] N
# test(s)" lines; a crash or a non-zero exit without a FAILED line is one
# failure.
run_unit()
{
	local bin=$1 name log p f note=
	name=$(basename "$bin")
	log=$LOGS/unit-$name.log
	run_logged "$log" "$bin"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" |
	    awk '{ s += $1 } END { print s + 0 }')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" |
	    awk '{ s += $1 } END { print s + 0 }')
	if [ "$RC" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		note="exit status $RC"
		grep -aqE 'Sanitizer|runtime error:' "$log" &&
		    note="$note, sanitizer report"
	fi
	report "$name" "$p" "$f" "$SECS" "$log" "$note"
}

suite_unit()
{
	local bin n=0
	for bin in "$BUILD_DIR"/tests/test_*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		case $(basename "$bin") in $ONLY) ;; *) continue ;; esac
		run_unit "$bin"
		n=$((n + 1))
	done
	[ "$n" -eq 0 ] && echo "  (no unit test binaries in $BUILD_DIR/tests)"
}

# suite_scripts DIR: every DIR/t[0-9]*.sh in order.
suite_scripts()
{
	local dir=$1 script n=0
	for script in "$dir"/t[0-9]*.sh; do
		[ -f "$script" ] || continue
		case $(basename "$script" .sh) in $ONLY) ;; *) continue ;; esac
		run_script "$script"
		n=$((n + 1))
	done
	[ "$n" -eq 0 ] && echo "  (no scripts in $dir)"
}

suite_fuzz()
{
	if [ -f tests/fuzz/replay.sh ]; then
		run_script tests/fuzz/replay.sh
	else
		echo "  (skipped: tests/fuzz/replay.sh is absent)"
	fi
}

for suite in $SUITES; do
	echo "== $suite"
	case $suite in
	unit) suite_unit ;;
	http) suite_scripts tests/http ;;
	e2e) suite_scripts tests/e2e ;;
	reliability) suite_scripts tests/reliability ;;
	browser) run_script tests/browser/run.sh ;;
	fuzz) suite_fuzz ;;
	image) suite_scripts tests/image ;;
	*)
		echo "  unknown suite '$suite'"
		TOTAL_FAILED=$((TOTAL_FAILED + 1))
		;;
	esac
done

echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ]
