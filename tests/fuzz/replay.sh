#!/usr/bin/env bash
# Replay the committed corpus through every fuzz target, then fuzz each for a
# few seconds (FUZZ_SECONDS, default 10) from a scratch copy.  Prints one
# line per target and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0
secs=${FUZZ_SECONDS:-10}
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	corpus=tests/fuzz/corpus/$name
	[ -d "$corpus" ] || { echo "not ok - fuzz $name: no corpus $corpus"; fail=$((fail + 1)); continue; }
	scratch=$(mktemp -d)
	if "$bin" -runs=0 "$corpus" >"$scratch/replay.log" 2>&1 &&
	   "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
	       -artifact_prefix="$scratch/" "$scratch" "$corpus" \
	       >"$scratch/fuzz.log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$scratch/fuzz.log" | tail -1)
		echo "ok - fuzz $name (${runs:-replayed})"
		pass=$((pass + 1))
	else
		echo "not ok - fuzz $name"
		tail -n 30 "$scratch"/*.log
		ls "$scratch"/crash-* "$scratch"/leak-* 2>/dev/null
		fail=$((fail + 1))
	fi
	rm -rf "$scratch"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
