#!/usr/bin/env bats
# husk-vsockd end to end: QEMU (TCG) with vhost-user-vsock-pci, the guest test
# program as /init, vsock-peer on the host's hybrid socket.

load vsock_helpers

setup() {
	vsock_setup
}

teardown() {
	vsock_teardown
}

# The guest reports its own failures on the console.
guest_clean() {
	! grep -E 'husk-test: (FAIL|port |push stream)' "$VT/console.log"
}

@test "guest image: the kernel boots the test initrd and loads every listed module" {
	vsock_start_qemu bare
	wait_pid "$QEMU_PID" 60
	QEMU_PID=
	[ "$WAIT_STATUS" -eq 0 ]
	want=$(wc -l <"$VSOCK_BUILD/guest/modules.order")
	grep "husk-test: boot ok, $want modules in /proc/modules" "$VT/console.log"
}

@test "vsock: host->guest 16 MiB arrives intact (guest checksum, echo compare)" {
	vsock_boot
	run peer sink --bytes 16777216 --seed 11
	echo "$output"
	[ "$status" -eq 0 ]
	run peer echo --bytes 16777216 --seed 12
	echo "$output"
	[ "$status" -eq 0 ]
	run peer discard --bytes 16777216
	[ "$status" -eq 0 ]
	guest_clean
}

@test "vsock: guest->host 16 MiB arrives intact (host-initiated and guest-initiated)" {
	vsock_boot
	run peer source --bytes 16777216 --seed 21
	echo "$output"
	[ "$status" -eq 0 ]
	run peer push --bytes 16777216 --seed 22
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "${UDS}_6000" ]
	guest_clean
}

@test "vsock: 32 concurrent connections each way stay intact" {
	vsock_boot
	run peer echo --conns 32 --bytes 1048576 --seed 31
	echo "$output"
	[ "$status" -eq 0 ]
	run peer push --conns 32 --bytes 524288 --seed 32
	echo "$output"
	[ "$status" -eq 0 ]
	guest_clean
}

@test "vsock: CONNECT to a guest port with no listener is closed within 2 s" {
	vsock_boot
	run peer refused --port 4999 --timeout-ms 2000
	echo "$output"
	[ "$status" -eq 0 ]
	run peer refused --port 4999 --conns 8 --timeout-ms 2000
	[ "$status" -eq 0 ]
	# the daemon still serves afterwards
	run peer echo --bytes 65536
	[ "$status" -eq 0 ]
}

@test "vsock: the device survives a guest reboot" {
	vsock_boot reboot
	first=$BOOT_ID
	run peer echo --bytes 1048576 --seed 51
	[ "$status" -eq 0 ]
	# connections in flight at the reboot are cut, not left hanging
	mkfifo "$VT/peer.out"
	peer echo --bytes 4294967296 --conns 4 --timeout-ms 60000 --notify >"$VT/peer.out" \
		2>"$VT/peer.err" 3>&- &
	PEER_PID=$!
	read -r -t 30 line <"$VT/peer.out"
	[ "$line" = CONNECTED ]
	run peer reboot --timeout-ms 10000
	echo "$output"
	[ "$status" -eq 0 ]
	wait_pid "$PEER_PID" 30
	PEER_PID=
	cat "$VT/peer.err"
	[ "$WAIT_STATUS" -eq 1 ]
	second=$(vsock_wait_ready)
	echo "boot ids: $first then $second"
	[ -n "$second" ]
	[ "$second" != "$first" ]
	run peer echo --bytes 4194304 --seed 52
	echo "$output"
	[ "$status" -eq 0 ]
	run peer push --bytes 1048576 --seed 53
	[ "$status" -eq 0 ]
	guest_clean
}

@test "vsock: QEMU killed with SIGKILL => husk-vsockd exits 0 and removes its sockets" {
	vsock_boot
	run peer echo --bytes 65536
	[ "$status" -eq 0 ]
	# four transfers far too long to finish are in flight at the kill
	mkfifo "$VT/peer.out"
	peer echo --bytes 4294967296 --conns 4 --timeout-ms 60000 --notify >"$VT/peer.out" \
		2>"$VT/peer.err" 3>&- &
	PEER_PID=$!
	read -r -t 30 line <"$VT/peer.out"
	[ "$line" = CONNECTED ]
	kill -KILL "$QEMU_PID"
	wait "$QEMU_PID" || true
	QEMU_PID=
	wait_pid "$VSOCKD_PID" 10
	VSOCKD_PID=
	echo "husk-vsockd exit status $WAIT_STATUS"
	[ "$WAIT_STATUS" -eq 0 ]
	# the host side of the cut connections is closed, not left hanging
	wait_pid "$PEER_PID" 20
	PEER_PID=
	cat "$VT/peer.err"
	[ "$WAIT_STATUS" -eq 1 ]
	[ ! -e "$VHOST" ]
	[ ! -e "$UDS" ]
}

@test "vsock: guest poweroff ends QEMU and husk-vsockd cleanly" {
	vsock_boot
	run peer poweroff --timeout-ms 10000
	[ "$status" -eq 0 ]
	wait_pid "$QEMU_PID" 30
	QEMU_PID=
	[ "$WAIT_STATUS" -eq 0 ]
	wait_pid "$VSOCKD_PID" 10
	VSOCKD_PID=
	[ "$WAIT_STATUS" -eq 0 ]
	grep -q 'husk-test: powering off' "$VT/console.log"
	[ ! -e "$UDS" ]
}
