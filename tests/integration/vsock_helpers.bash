# Shared by the vsock tests and bench/vsock.sh: a husk-vsockd, a QEMU (TCG)
# guest running the vsock test initrd, and the host peer. Everything lives in
# one temp dir ($VT) and is torn down by vsock_teardown.

VSOCK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VSOCK_BUILD=${BUILD:-$VSOCK_ROOT/build}
VSOCKD=$VSOCK_BUILD/bin/husk-vsockd
VSOCK_PEER=$VSOCK_BUILD/tests/bin/vsock-peer
VSOCK_KERNEL=$VSOCK_BUILD/guest/vmlinuz
VSOCK_INITRD=$VSOCK_BUILD/tests/vsock-initrd.img
VSOCK_MEM=${VSOCK_MEM:-256M}

vsock_setup() {
	local f
	for f in "$VSOCKD" "$VSOCK_PEER" "$VSOCK_KERNEL" "$VSOCK_INITRD"; do
		if [ ! -e "$f" ]; then
			echo "missing $f (run: make build/bin/husk-vsockd vsock-test-image)" >&2
			return 1
		fi
	done
	# short path: Unix socket names are limited to 107 bytes
	VT=$(mktemp -d /tmp/husk-vsock.XXXXXX)
	UDS=$VT/vsock.sock
	VHOST=$VT/vhost-vsock.sock
	VSOCKD_PID=
	QEMU_PID=
	PEER_PID= # a vsock-peer a test runs in the background
}

# Starts husk-vsockd and returns once it wrote READY on its --ready-fd.
vsock_start_daemon() {
	local line
	mkfifo "$VT/ready"
	"$VSOCKD" --socket "$VHOST" --uds-path "$UDS" --guest-cid 3 --log-level info \
		--ready-fd 4 4>"$VT/ready" 2>"$VT/vsockd.log" 3>&- &
	VSOCKD_PID=$!
	if ! read -r -t 20 line <"$VT/ready" || [ "$line" != READY ]; then
		echo "husk-vsockd did not become ready ('$line'):" >&2
		cat "$VT/vsockd.log" >&2
		return 1
	fi
}

# vsock_start_qemu [reboot|no-reboot|bare]: boots the test initrd. "reboot" lets
# the guest reboot; "bare" has no vsock device and runs the guest's boot check.
vsock_start_qemu() {
	local noreboot=-no-reboot mode=vsock
	local -a dev=(-chardev "socket,id=c0,path=$VHOST" -device "vhost-user-vsock-pci,chardev=c0")
	case ${1:-} in
	reboot) noreboot= ;;
	bare) dev=() mode=boot ;;
	esac
	qemu-system-x86_64 -accel tcg,tb-size=64 -m "$VSOCK_MEM" \
		-object memory-backend-memfd,id=mem,size="$VSOCK_MEM",share=on -numa node,memdev=mem \
		"${dev[@]}" -nodefaults -display none $noreboot -serial file:"$VT/console.log" \
		-kernel "$VSOCK_KERNEL" -initrd "$VSOCK_INITRD" \
		-append "console=ttyS0 panic=-1 quiet husk.log=info husk.test=$mode" \
		</dev/null >"$VT/qemu.log" 2>&1 3>&- &
	QEMU_PID=$!
}

# Prints the guest's boot id once its services listen (it dials the host's port 6001).
vsock_wait_ready() {
	local line
	line=$("$VSOCK_PEER" ready --uds "$UDS" --timeout-ms 90000) || return 1
	echo "${line#READY }"
}

vsock_boot() {
	vsock_start_daemon && vsock_start_qemu "$@" && BOOT_ID=$(vsock_wait_ready)
}

peer() {
	"$VSOCK_PEER" "$1" --uds "$UDS" "${@:2}"
}

# wait_pid PID SECONDS: waits for a child and sets WAIT_STATUS to its exit
# status; after SECONDS it is SIGKILLed (then the status is 137).
# Not for $(...): a subshell cannot wait for its parent's children.
wait_pid() {
	local pid=$1 timer first
	sleep "$2" 3>&- &
	timer=$!
	WAIT_STATUS=0
	wait -n -p first "$pid" "$timer" || WAIT_STATUS=$?
	if [ "$first" = "$timer" ]; then
		echo "pid $pid still running after $2 s: killed" >&2
		kill -KILL "$pid" 2>/dev/null
		WAIT_STATUS=0
		wait "$pid" || WAIT_STATUS=$?
	else
		kill -KILL "$timer" 2>/dev/null
		wait "$timer" 2>/dev/null || true
	fi
}

# Safe under set -e: nothing here may stop the cleanup half-way.
vsock_teardown() {
	local f
	if [ -n "${PEER_PID:-}" ]; then
		kill -KILL "$PEER_PID" 2>/dev/null || true
		wait "$PEER_PID" 2>/dev/null || true
	fi
	if [ -n "${QEMU_PID:-}" ]; then
		kill -KILL "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	if [ -n "${VSOCKD_PID:-}" ]; then
		kill -TERM "$VSOCKD_PID" 2>/dev/null || true
		wait_pid "$VSOCKD_PID" 5
	fi
	if [ -n "${VT:-}" ] && [ -d "$VT" ]; then
		if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${BATS_TEST_NAME:-}" ]; then
			for f in console.log vsockd.log qemu.log; do
				if [ -s "$VT/$f" ]; then
					echo "--- $f"
					tail -n 40 "$VT/$f"
				fi
			done
		fi
		rm -rf "$VT"
	fi
	PEER_PID=
	QEMU_PID=
	VSOCKD_PID=
	VT=
}
