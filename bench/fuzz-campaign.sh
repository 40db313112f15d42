#!/bin/bash
# The long fuzz campaign: every libFuzzer target (or those named) on a copy of its corpus until
# it has run RUNS inputs or SECONDS seconds, whichever comes first (10 M and 600 by default),
# one after another. Prints a table (target, executions, seconds, exec/s, coverage edges,
# features, corpus size at the end, crashes) and keeps each log in $OUT (build/fuzz-campaign).
# A crash input is saved there as <target>-crash-*: fix it and add it to tests/fuzz/corpus/<target>.
#   bench/fuzz-campaign.sh; SECONDS_EACH=60 bench/fuzz-campaign.sh fuzz_spec
# Needs: make fuzz (the targets built under build/fuzz).
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}
RUNS=${RUNS:-10000000}
SECS=${SECONDS_EACH:-600}
OUT=${OUT:-$B/fuzz-campaign}
mkdir -p "$OUT"
if [ $# -eq 0 ]; then
	set -- $(cd "$B/fuzz" && ls)
fi
[ $# -gt 0 ] || { echo "fuzz-campaign: no targets in $B/fuzz (run: make fuzz)" >&2; exit 1; }

work=$(mktemp -d /tmp/husk-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '%-28s %12s %6s %9s %7s %8s %7s %s\n' TARGET EXECS SECS EXEC/S COV FT CORPUS CRASHES
status=0
for t in "$@"; do
	bin=$B/fuzz/$t
	[ -x "$bin" ] || { echo "fuzz-campaign: $bin missing" >&2; status=1; continue; }
	corpus=$work/$t
	mkdir -p "$corpus"
	[ -d "tests/fuzz/corpus/$t" ] && cp -r "tests/fuzz/corpus/$t/." "$corpus/"
	log=$OUT/$t.log
	rm -f "$OUT/$t-"*
	start=$(date +%s)
	"$bin" -runs="$RUNS" -max_total_time="$SECS" -print_final_stats=1 \
		-artifact_prefix="$OUT/$t-" "$corpus" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
	rate=$(awk '/stat::average_exec_per_sec/ { print $2 }' "$log")
	# the last status line: "#N DONE cov: C ft: F corp: K/..." (or the last pulse before a crash)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
	crashes=$(find "$OUT" -maxdepth 1 -name "$t-*" | wc -l)
	[ "$rc" -eq 0 ] || status=1
	printf '%-28s %12s %6s %9s %7s %8s %7s %s\n' "$t" "${execs:-?}" "$secs" "${rate:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes$([ "$rc" -eq 0 ] || echo " (exit $rc)")"
done
exit $status
