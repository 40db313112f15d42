# The agent under test: either a guest (QEMU TCG + virtiofsd + husk-vsockd,
# the agent as /init) or the agent binary on the host with --listen-unix.
# Everything lives in $AT and is torn down by agent_teardown.

AGENT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AGENT_BUILD=${BUILD:-$AGENT_ROOT/build}
AGENT_BIN=$AGENT_BUILD/bin/husk-agent
AGENT_ASAN=$AGENT_BUILD/tests/bin/husk-agent-asan
AGENT_CLIENT=$AGENT_BUILD/tests/bin/agent-client
AGENT_KERNEL=$AGENT_BUILD/guest/vmlinuz
AGENT_INITRD=$AGENT_BUILD/guest/initrd.img
AGENT_VSOCKD=$AGENT_BUILD/bin/husk-vsockd
VIRTIOFSD=${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
AGENT_MEM=256M

agent_setup() {
	make -s -C "$AGENT_ROOT" BUILD="$AGENT_BUILD" "$AGENT_CLIENT" "$AGENT_BIN" "$AGENT_ASAN" >&2 || return 1
	# short path: Unix socket names are limited to 107 bytes
	AT=$(mktemp -d /tmp/husk-agent.XXXXXX)
	mkdir -p "$AT/shared"
	make_rootfs "$AT/shared/c1"
	# the sandbox's token, as the host makes it (lib/token.h); the guest takes it from the share
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$AT/token"
	AGENT_TOKEN_FILE=$AT/token
	AGENT_PIDS=
	export AT AGENT_OPT AGENT_PATH AGENT_TOKEN_FILE
}

# make_rootfs DIR: a busybox root (scripts/mkrootfs)
make_rootfs() {
	"$AGENT_ROOT/scripts/mkrootfs" "$1"
}

# write_spec FILE ARGS_JSON [LINUX_JSON [PROCESS_EXTRA]]: a config.json running ARGS with proc,
# dev, sys mounts; LINUX_JSON is its linux object, PROCESS_EXTRA more members of process.
write_spec() {
	local lx=${3:-}
	[ -n "$lx" ] || lx='{}'
	cat >"$1" <<-JSON
	{"ociVersion":"1.0.2","process":{"args":$2,"env":["PATH=/bin","HOME=/"],"cwd":"/"${4:+,$4}},
	 "linux":$lx,
	 "root":{"path":"rootfs"},"hostname":"ctr",
	 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
	  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
	  {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
	  {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
	  {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
	  {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}]}
	JSON
}

# Serves $AT/shared on a socket bound before virtiofsd starts; returns once it listens.
start_virtiofsd() {
	local line
	mkfifo "$AT/fs.ready"
	python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
os.set_inheritable(s.fileno(), True)
os.write(4, b"READY\n")
os.close(4)
os.execv(sys.argv[2], [sys.argv[2], "--fd=%d" % s.fileno()] + sys.argv[3:])' \
		"$AT/virtiofsd.sock" "$VIRTIOFSD" -o source="$AT/shared" -o cache=none \
		</dev/null >"$AT/virtiofsd.log" 2>&1 4>"$AT/fs.ready" 3>&- &
	AGENT_PIDS="$AGENT_PIDS $!"
	read -r -t 20 line <"$AT/fs.ready" && [ "$line" = READY ]
}

start_vsockd() {
	local line
	mkfifo "$AT/ready"
	"$AGENT_VSOCKD" --socket "$AT/vhost-vsock.sock" --uds-path "$AT/vsock.sock" --guest-cid 3 \
		--ready-fd 4 4>"$AT/ready" 2>"$AT/vsockd.log" 3>&- &
	AGENT_PIDS="$AGENT_PIDS $!"
	read -r -t 20 line <"$AT/ready" && [ "$line" = READY ]
}

start_qemu() {
	qemu-system-x86_64 -M pc -accel tcg,tb-size=64 -m "$AGENT_MEM" \
		-object memory-backend-memfd,id=mem,size="$AGENT_MEM",share=on -numa node,memdev=mem \
		-chardev socket,id=vs,path="$AT/vhost-vsock.sock" -device vhost-user-vsock-pci,chardev=vs \
		-chardev socket,id=fs0,path="$AT/virtiofsd.sock" \
		-device vhost-user-fs-pci,chardev=fs0,tag=husk \
		-nodefaults -display none -no-reboot -serial file:"$AT/console.log" \
		-kernel "$AGENT_KERNEL" -initrd "$AGENT_INITRD" \
		-append "console=ttyS0 panic=-1 quiet husk.log=debug" \
		</dev/null >"$AT/qemu.log" 2>&1 3>&- &
	QEMU_PID=$!
	AGENT_PIDS="$AGENT_PIDS $QEMU_PID"
	export QEMU_PID
}

# Boots the guest; the first Health call waits (bounded) until the agent listens.
agent_boot_vm() {
	AGENT_OPT=-H AGENT_PATH=$AT/vsock.sock
	cp "$AT/token" "$AT/shared/.husk-token"
	make -s -C "$AGENT_ROOT" BUILD="$AGENT_BUILD" "$AGENT_INITRD" >&2 || return 1
	start_virtiofsd && start_vsockd && start_qemu
}

# The sanitized build: agent_teardown fails on any ASan/UBSan/LSan report in its log.
agent_start_unix() {
	AGENT_OPT=-u AGENT_PATH=$AT/agent.sock
	"$AGENT_ASAN" --listen-unix "$AT/agent.sock" --shared-dir "$AT/shared" \
		--token-file "$AT/token" --debug \
		2>"$AT/agent.log" 3>&- &
	AGENT_PID=$!
	AGENT_PIDS="$AGENT_PIDS $AGENT_PID"
	export AGENT_PID
}

# agent_wait_exit SECONDS: waits until QEMU has exited (the guest powered off)
agent_wait_exit() {
	timeout "$1" tail --pid="$QEMU_PID" -f /dev/null
}

client() {
	"$AGENT_CLIENT" "$AGENT_OPT" "$AGENT_PATH" "$@"
}

agent_teardown() {
	local p f ret=0
	for p in $AGENT_PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "${AT:-}" ] && [ -s "$AT/agent.log" ] && grep -E "Sanitizer|runtime error" "$AT/agent.log"; then
		ret=1
	fi
	if [ -n "${AT:-}" ] && [ -d "$AT" ]; then
		for f in console.log agent.log vsockd.log virtiofsd.log qemu.log; do
			[ -s "$AT/$f" ] && { echo "--- $f"; tail -n 40 "$AT/$f"; }
		done
		rm -rf "$AT"
	fi
	AGENT_PIDS=
	AT=
	return $ret
}
