#!/bin/bash
# Host memory of idle containers, in one run: N containers of `sleep` (busybox bundle) with
# husk, runc and runsc, measured 10 s after the last started; prints the PSS (smaps_rollup) of
# every host process a runtime keeps for them, per container, and husk's split by process.
#   N=1 bench/pss.sh; N=10 bench/pss.sh
# Needs: make all, scripts/install-deps --bench (runc, runsc).
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
N=${N:-1}
for tool in runc runsc; do
	command -v $tool >/dev/null || { echo "pss: $tool missing (scripts/install-deps --bench)" >&2; exit 1; }
done
T=$(mktemp -d /tmp/husk-bench.XXXXXX)
cleanup() {
	for i in $(seq "$N"); do
		"$B/bin/husk" --root "$T/husk" delete -f "husk-p$i" >/dev/null 2>&1 || true
		runc --root "$T/runc" delete -f "runc-p$i" >/dev/null 2>&1 || true
		runsc --root "$T/runsc" delete --force "runsc-p$i" >/dev/null 2>&1 || true
	done
	pkill -KILL -f -- "$T/" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
cat >"$T/husk.json" <<JSON
{ "kernel": "$PWD/$B/guest/vmlinuz", "initrd": "$PWD/$B/guest/initrd.img",
  "vsockd": "$PWD/$B/bin/husk-vsockd", "accel": "tcg" }
JSON
scripts/mkbundle "$T/bundle" sleep 100000 >/dev/null

# pss_kib PID...: the sum of their PSS
pss_kib() {
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# tree PID: the pid and all its descendants
tree() {
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done
}

for i in $(seq "$N"); do
	# an id per runtime: each makes the cgroup <its cgroup>/<id> (no cgroupsPath in the bundle)
	"$B/bin/husk" --root "$T/husk" create --config "$T/husk.json" --bundle "$T/bundle" --pid-file "$T/husk-p$i.pid" "husk-p$i" </dev/null >/dev/null
	"$B/bin/husk" --root "$T/husk" start "husk-p$i"
	runc --root "$T/runc" run -d --pid-file "$T/runc-p$i.pid" --bundle "$T/bundle" "runc-p$i" </dev/null >/dev/null
	runsc --root "$T/runsc" --platform=ptrace --network=none run -detach --bundle "$T/bundle" "runsc-p$i" </dev/null >/dev/null
done
sleep 10 # idle: the guests' boot-time memory settles and free pages are reported

husk_pids=() runc_pids=() qemu=() fsd=() vsd=() own=()
for i in $(seq "$N"); do
	o=$(cat "$T/husk-p$i.pid")
	for p in $(tree "$o"); do
		husk_pids+=("$p")
		case $(tr '\0' ' ' <"/proc/$p/cmdline") in
		qemu-system*) qemu+=("$p") ;;
		*virtiofsd*) fsd+=("$p") ;;
		*husk-vsockd*) vsd+=("$p") ;;
		*) own+=("$p") ;;
		esac
	done
	runc_pids+=($(tree "$(cat "$T/runc-p$i.pid")"))
done
runsc_pids=($(pgrep -f -- "$T/runsc" || true))

per() { awk -v k="$1" -v n="$N" 'BEGIN { printf "%.1f", k / 1024 / n }'; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r); $N containers each"
echo
echo "| runtime | PSS per container, MiB |"
echo "|---|---:|"
echo "| husk (TCG) | $(per "$(pss_kib "${husk_pids[@]}")") |"
echo "| runc | $(per "$(pss_kib "${runc_pids[@]}")") |"
echo "| runsc (ptrace) | $(per "$(pss_kib "${runsc_pids[@]}")") |"
echo
echo "husk per container: QEMU $(per "$(pss_kib "${qemu[@]}")"), virtiofsd $(per "$(pss_kib "${fsd[@]}")"), husk-vsockd $(per "$(pss_kib "${vsd[@]}")"), owner $(per "$(pss_kib "${own[@]}")") MiB"
