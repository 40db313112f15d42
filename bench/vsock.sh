#!/usr/bin/env bash
# Throughput and connect latency through husk-vsockd (QEMU TCG guest running
# the vsock test initrd), beside the same figures for a plain Unix socket on
# this machine (vsock-peer --baseline: same handshake line, same services).
# Prints a markdown table. Needs: make build/bin/husk-vsockd vsock-test-image
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/integration/vsock_helpers.bash
source "$(dirname "$0")/../tests/integration/vsock_helpers.bash"

BYTES=${BYTES:-67108864}
RUNS=${RUNS:-3}
LATENCY_CONNS=${LATENCY_CONNS:-200}

# field KEY LINE: the value of KEY=... in a vsock-peer report line
field() {
	local kv
	for kv in $2; do
		[ "${kv%%=*}" = "$1" ] && echo "${kv#*=}" && return
	done
	echo "vsock-peer printed no $1 in: $2" >&2
	return 1
}

# median KEY CMD...: runs CMD $RUNS times, prints the median of KEY
median() {
	local key=$1 out
	shift
	for _ in $(seq "$RUNS"); do
		out=$("$@")
		field "$key" "$out"
	done | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

measure() { # measure PEER_ARGS...: one table column's five numbers
	local discard sink source push latency
	discard=$(median MiBps "$VSOCK_PEER" discard "$@" --bytes "$BYTES")
	sink=$(median MiBps "$VSOCK_PEER" sink "$@" --bytes "$BYTES")
	source=$(median MiBps "$VSOCK_PEER" source "$@" --bytes "$BYTES")
	if [ "$1" = --baseline ]; then
		push="n/a"
	else
		push=$(median MiBps "$VSOCK_PEER" push "$@" --bytes "$BYTES")
	fi
	latency=$(median connect_ms_avg "$VSOCK_PEER" echo "$@" --bytes 0 --repeat "$LATENCY_CONNS")
	echo "$discard $sink $source $push $latency"
}

trap vsock_teardown EXIT
vsock_setup
vsock_boot no-reboot
read -r v_discard v_sink v_source v_push v_lat <<<"$(measure --uds "$UDS")"
read -r b_discard b_sink b_source b_push b_lat <<<"$(measure --baseline)"

cat <<TABLE
Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), guest under QEMU $(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([^ ]*\).*/\1/p') TCG ($VSOCK_MEM).
$((BYTES / 1048576)) MiB per transfer, median of $RUNS runs; connect latency = mean over $LATENCY_CONNS sequential connects (connect() until the "OK" line is read), median of $RUNS.
The receiving/sending side in the guest runs under TCG: the checksum (sink) and the
pattern generation (source, push) cost guest CPU; discard only counts bytes.

| | husk-vsockd (hybrid vsock, TCG guest) | plain Unix socket (same host) |
|---|---|---|
| host -> guest (discard), MiB/s | $v_discard | $b_discard |
| host -> guest, guest checksums (sink), MiB/s | $v_sink | $b_sink |
| guest -> host, host-initiated (source), MiB/s | $v_source | $b_source |
| guest -> host, guest-initiated (push to \`<uds>_6000\`), MiB/s | $v_push | $b_push |
| connect latency, ms | $v_lat | $b_lat |
TABLE
