#!/bin/sh
# Cold start of a container that runs `true`, measured in one hyperfine run:
#   husk run (its own VM) | bare boot of the same VM to the agent | runc run | runsc run
# Prints hyperfine's markdown table. Needs: make all build/bench/boot-to-agent,
# scripts/install-deps --bench (runc, runsc, hyperfine).
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
RUNS=${RUNS:-10}
for tool in hyperfine runc runsc; do
	command -v $tool >/dev/null || { echo "coldstart: $tool missing (scripts/install-deps --bench)" >&2; exit 1; }
done
T=$(mktemp -d /tmp/husk-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat >"$T/husk.json" <<JSON
{ "kernel": "$PWD/$B/guest/vmlinuz", "initrd": "$PWD/$B/guest/initrd.img",
  "vsockd": "$PWD/$B/bin/husk-vsockd", "accel": "tcg" }
JSON
scripts/mkbundle "$T/bundle" true

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "husk accel: tcg (no usable KVM here)" 
hyperfine --runs "$RUNS" --warmup 1 --export-markdown "$T/table.md" \
	-n "husk run true" "$B/bin/husk --root $T/husk run --config $T/husk.json --bundle $T/bundle bench" \
	-n "bare VM boot to agent" "$B/bench/boot-to-agent --config $T/husk.json $T/bare bench" \
	-n "runc run true" "runc --root $T/runc run --bundle $T/bundle bench" \
	-n "runsc run true (ptrace)" "runsc --root $T/runsc --platform=ptrace --network=none run --bundle $T/bundle bench" \
	>&2
cat "$T/table.md"
