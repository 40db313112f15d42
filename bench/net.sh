#!/usr/bin/env bash
# Network throughput and request latency between the host and a container, for husk (its VM:
# virtio-net on a tap redirected from the veth, see docs/networking.md), runc and runsc
# (gVisor, --platform=ptrace), one runtime after the other in one run. Each
# container runs in a network namespace this script makes (a veth, the host's end
# 10.201.X.1/24, the container's 10.201.X.2/24), named by path in the bundle as CRI does:
#   throughput  iperf3, server in the container, client on the host, one TCP stream for
#               $TIME s (10): host -> container, and container -> host (-R)
#   latency     sockperf ping-pong over one TCP connection, server in the container, 64-byte
#               messages for $TIME s: the round trip's median and p99, round trips per second
# runsc: Debian's runsc (2022-12) refuses its own netstack here ("cannot run with network
# enabled in root network namespace": its root-namespace test misfires on recent kernels), so it
# runs with --network=host (hostinet: the sandbox's sockets are the host kernel's) from inside
# the namespace. There iperf3's closing exchange of results fails (the client's per-second
# figures stand in, marked *) and sockperf's connection is reset (n/a).
# The container's rootfs is busybox plus Debian's iperf3 and sockperf with their libraries.
# For husk it also reports the CPU seconds QEMU (guest vCPU under TCG, virtio-net device) used
# during the host -> container run. Prints a markdown table. Traffic only between the host and
# the namespace. Needs: make all; scripts/install-deps --bench (runc, runsc, iperf3, sockperf).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
TIME=${TIME:-10}
MSG=${MSG:-64}
RUNTIMES=${RUNTIMES:-husk runc runsc} # a subset for a quick look; the table wants all three
VCPUS=${VCPUS:-1}                     # the husk guest's vCPUs (1: configs/husk.json's default)
for tool in runc runsc iperf3 sockperf jq; do
	command -v $tool >/dev/null || { echo "net: $tool missing (scripts/install-deps --bench)" >&2; exit 1; }
done
[ -x "$B/bin/husk" ] || { echo "net: $B/bin/husk missing (make all)" >&2; exit 1; }

T=$(mktemp -d /tmp/husk-bench-net.XXXXXX)
NS=husk-bench-net-$$
HOSTIF=hbn$$
NET=10.201.$((RANDOM % 256))
IP=$NET.2
ID=bench-net-$$
RUNTIME=

cleanup() {
	[ -z "$RUNTIME" ] || stop_container
	ip link del "$HOSTIF" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf --one-file-system "$T"
}
trap cleanup EXIT

# A fresh namespace for each runtime (runsc takes the veth's addresses into its netstack).
make_netns() {
	ip link del "$HOSTIF" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	ip link add "$HOSTIF" type veth peer name eth0 netns "$NS"
	ip addr add "$NET.1/24" dev "$HOSTIF"
	ip link set "$HOSTIF" up
	ip -n "$NS" addr add "$IP/24" dev eth0
	ip -n "$NS" link set eth0 up
	ip -n "$NS" route add default via "$NET.1"
}

# The bundle: busybox, iperf3 and sockperf (binaries and the libraries ldd names), the
# servers started by the container's shell (an iperf3 server per direction: under runsc an
# iperf3 server fails every test after its first), in the namespace at /var/run/netns/$NS.
make_bundle() {
	local bin lib
	scripts/mkbundle "$T/bundle" sh -c \
		'sockperf server --tcp -i 0.0.0.0 -p 5001 & iperf3 -s -p 5202 & exec iperf3 -s -p 5201'
	for bin in "$(command -v iperf3)" "$(command -v sockperf)"; do
		cp --parents "$bin" "$T/bundle/rootfs"
		for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
			[ -e "$T/bundle/rootfs$lib" ] || cp -L --parents "$lib" "$T/bundle/rootfs"
		done
	done
	jq --arg p "/var/run/netns/$NS" \
		'.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' \
		"$T/bundle/config.json" >"$T/config.json"
	mv "$T/config.json" "$T/bundle/config.json"
	cat >"$T/husk.json" <<JSON
{ "kernel": "$PWD/$B/guest/vmlinuz", "initrd": "$PWD/$B/guest/initrd.img",
  "vsockd": "$PWD/$B/bin/husk-vsockd", "accel": "tcg", "vcpus": $VCPUS }
JSON
}

# cli: the runtime's command with its state root (and options).
cli() {
	case $RUNTIME in
	husk) "$B/bin/husk" --root "$T/husk" "$@" ;;
	runc) runc --root "$T/runc" "$@" ;;
	runsc) nsenter --net="/var/run/netns/$NS" runsc --root "$T/runsc" --platform=ptrace --network=host "$@" ;;
	esac
}

start_container() {
	local created=(create --bundle "$T/bundle")
	[ "$RUNTIME" != husk ] || created=(create --config "$T/husk.json" --bundle "$T/bundle")
	if ! cli "${created[@]}" "$ID" </dev/null >"$T/$RUNTIME.out" 2>&1 ||
		! cli start "$ID" >>"$T/$RUNTIME.out" 2>&1; then
		echo "net: $RUNTIME create/start failed:" >&2
		cat "$T/$RUNTIME.out" >&2
		return 1
	fi
}

stop_container() {
	cli delete --force "$ID" >/dev/null 2>&1 || true
	RUNTIME=
}

# until_served CMD...: runs CMD (a client) until its server in the container accepts the
# connection (retried while refused: the container is starting; at most 3 min); its output in
# $T/client.out and client.err. No probe of the servers' ports: under runsc an empty
# connection kills them. A run that fails otherwise is tried at most 3 times (only runsc's
# fail so; see above).
until_served() {
	local failed=0
	for _ in $(seq 180); do
		# both exit 0 when refused or failed (iperf3 with -J, sockperf): the output tells
		if "$@" >"$T/client.out" 2>"$T/client.err" &&
			! grep -qE 'refused|unable to connect|"error":|ERROR' "$T/client.out" "$T/client.err"; then
			return 0
		elif ! grep -qiE 'refused|unable to connect' "$T/client.out" "$T/client.err"; then
			failed=$((failed + 1))
			[ "$failed" -lt 3 ] || break
			echo "net: $1 against $RUNTIME failed, trying again" >&2
		fi
		sleep 1
	done
	echo "net: $* against $RUNTIME failed:" >&2
	cat "$T/client.out" "$T/client.err" "$T/$RUNTIME.out" >&2
	return 1
}

# iperf3_mbps PORT [-R]: one stream for $TIME s, the receiver's Mbit/s.
iperf3_mbps() {
	local port=$1
	shift
	# under runsc (hostinet) the data flows but the closing exchange of results fails: the
	# client's own per-second figures then stand in for the receiver's (marked *)
	until_served iperf3 -c "$IP" -p "$port" -t "$TIME" -J "$@" ||
		[ "$(jq '.intervals | length' "$T/client.out" 2>/dev/null || echo 0)" -gt 0 ] || return 1
	cp "$T/client.out" "$T/iperf3-$port.json"
	jq -r 'def mbps: . / 1e6 | . * 10 | round / 10 | tostring;
		if .end.sum_received.bits_per_second then .end.sum_received.bits_per_second | mbps
		else ([.intervals[].sum.bits_per_second] | add / length | mbps) + "*" end' "$T/client.out"
}

# QEMU's CPU seconds (user + system) so far: the qemu-system process whose command line
# names this run's directory.
qemu_cpu() {
	local p
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q "^[^ ]*qemu-system-.*$T"; then
			awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "$p/stat"
			return
		fi
	done
	echo 0
}

# measure: "up down rtt_median rtt_p99 round_trips_per_s qemu_cpu_s" for $RUNTIME.
measure() {
	local up down cpu0 cpu1 pp median p99 rps
	cpu0=$(qemu_cpu)
	up=$(iperf3_mbps 5201) || up=n/a
	cpu1=$(qemu_cpu)
	down=$(iperf3_mbps 5202 -R) || down=n/a
	if ! until_served sockperf ping-pong --tcp -i "$IP" -p 5001 -t "$TIME" -m "$MSG" --full-rtt; then
		echo "$up $down n/a n/a n/a -"
		return
	fi
	pp=$(cat "$T/client.out")
	median=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' <<<"$pp")
	p99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' <<<"$pp")
	rps=$(sed -n 's/.*RunTime=\([0-9.]*\) sec; SentMessages=[0-9]*; ReceivedMessages=\([0-9]*\).*/\2 \1/p' <<<"$pp" |
		awk '{ printf "%d", $1 / $2 }')
	if [ -z "$median" ] || [ -z "$rps" ]; then
		echo "net: sockperf printed no result: $pp" >&2
		return 1
	fi
	echo "$up $down $median $p99 $rps $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }')"
}

make_bundle
declare -A R=([husk]="- - - - - -" [runc]="- - - - - -" [runsc]="- - - - - -")
for RUNTIME in $RUNTIMES; do
	make_netns
	start_container
	R[$RUNTIME]=$(measure)
	echo "net: $RUNTIME: ${R[$RUNTIME]}" >&2
	stop_container
done

read -r h_up h_down h_med h_p99 h_rps h_cpu <<<"${R[husk]}"
read -r c_up c_down c_med c_p99 c_rps _ <<<"${R[runc]}"
read -r g_up g_down g_med g_p99 g_rps _ <<<"${R[runsc]}"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/) print "-"; else printf "%.0f%%", 100 * a / b }'; }

cat <<TABLE
Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/ { print $2 }') GiB, host kernel $(uname -r), load average $(cut -d' ' -f1 /proc/loadavg) at the end.
husk: QEMU $(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([^ ]*\).*/\1/p') TCG, $VCPUS vCPU, virtio-net on a tap (vhost: $([ -w /dev/vhost-net ] && echo on || echo off)); runc $(runc --version | sed -n 's/^runc version //p'); runsc $(runsc --version | sed -n 's/^runsc version //p') (ptrace; --network=host run in the namespace, see below).
iperf3 $(iperf3 --version | sed -n 's/^iperf \([^ ]*\).*/\1/p'): one TCP stream, ${TIME} s, server in the container; sockperf ping-pong over TCP, ${MSG}-byte messages, ${TIME} s, server in the container.

| | husk | runc | runsc (ptrace) | husk/runc |
|---|---:|---:|---:|---:|
| host -> container, Mbit/s | $h_up | $c_up | $g_up | $(ratio "$h_up" "$c_up") |
| container -> host, Mbit/s | $h_down | $c_down | $g_down | $(ratio "$h_down" "$c_down") |
| TCP round trip, median, µs | $h_med | $c_med | $g_med | $(ratio "$h_med" "$c_med") |
| TCP round trip, p99, µs | $h_p99 | $c_p99 | $g_p99 | $(ratio "$h_p99" "$c_p99") |
| round trips per second | $h_rps | $c_rps | $g_rps | $(ratio "$h_rps" "$c_rps") |

\* the iperf3 client's own mean of its per-second figures (the receiver's total was not returned).

QEMU used ${h_cpu} s of CPU during husk's ${TIME} s host -> container run.
TABLE
