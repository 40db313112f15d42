#!/usr/bin/env bats
# husk debug-console: a shell in the guest outside any container (docs/operations.md), over
# the debug console's own vsock port, which the guest serves only when the host created the
# sandbox with it. Real VMs (TCG); the far end of the terminal is tests/integration/tty_driver.py.

load helpers

DRIVER=$BATS_TEST_DIRNAME/tty_driver.py

setup() {
	husk_setup
	H=("$HUSK" --root "$ROOT")
	export HUSK_CONFIG=$CONFIG
}

teardown() {
	if [ -n "${T:-}" ] && [ -d "$ROOT/$ID" ]; then
		"${H[@]}" delete --force "$ID" 2>/dev/null || true
	fi
	husk_teardown
}

# run_detached [ANNOTATION_VALUE]: container $ID running `sleep 1000` detached, with
# io.husk.debug_console set to ANNOTATION_VALUE when given; a marker file in its rootfs.
run_detached() {
	bundle_with '["sleep", "1000"]'
	echo "rootfs of $ID" >"$T/bundle/rootfs/debug-marker"
	if [ -n "${1:-}" ]; then
		jq --arg v "$1" '.annotations["io.husk.debug_console"] = $v' "$T/bundle/config.json" \
			>"$T/config.tmp"
		mv "$T/config.tmp" "$T/bundle/config.json"
	fi
	"${H[@]}" run --bundle "$T/bundle" --detach --pid-file "$T/pid" "$ID" </dev/null
}

stop_and_clean() {
	"${H[@]}" delete --force "$ID"
	assert_clean
}

@test "debug-console reads commands from stdin: the guest's own view (its kernel, the agent as PID 1, the container's root and processes); exits with the shell's status" {
	write_config debug_console=true
	run_detached
	[ -f "$ROOT/$ID/debug-console" ]
	run "${H[@]}" debug-console "$ID" <<'SH'
uname -r
cat /proc/1/cmdline; echo
cat /run/husk/shared/*/debug-marker
ps -o args | grep -x 'sleep 1000'
exit 3
SH
	echo "$output"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = "$(cat "$HUSK_BUILD/guest/kernel-version")" ]
	[ "${lines[1]}" = /init ]
	[ "${lines[2]}" = "rootfs of $ID" ]
	[ "${lines[3]}" = "sleep 1000" ]
	[ "${#lines[@]}" -eq 4 ]
	# the container's own view is another: its PID 1 is its process
	run "${H[@]}" exec "$ID" cat /proc/1/cmdline
	[ "$output" = "sleep1000" ] || [ "$output" = $'sleep\x001000' ]
	stop_and_clean
}

@test "the guest's root fills what virtio-fs shares outside the binds: bounded (1 MiB, 4096 inodes), nothing on the host, the container unharmed" {
	write_config debug_console=true
	run_detached
	run "${H[@]}" debug-console "$ID" <<'SH'
dd if=/dev/zero of=/run/husk/shared/fill bs=64k count=64 2>&1 | grep -o 'No space left on device'
i=0; while : >/run/husk/shared/f$i; do i=$((i+1)); done 2>/dev/null; echo $i
SH
	echo "$output"
	[ "${lines[0]}" = "No space left on device" ]
	[ "${lines[1]}" -gt 0 ] && [ "${lines[1]}" -lt 4096 ]
	# the host's state directory has none of it
	[ -z "$(find "$ROOT/$ID/shared" -mindepth 1 -maxdepth 1 \( -name fill -o -name 'f[0-9]*' \))" ]
	run "${H[@]}" exec "$ID" cat /debug-marker
	[ "$output" = "rootfs of $ID" ]
	stop_and_clean
}

@test "debug-console on a terminal is interactive: the shell's pty has the terminal's size and follows its resizes; the status comes back and the terminal's mode is restored" {
	write_config debug_console=true
	run_detached
	run python3 "$DRIVER" spawn "$T/tty.log" 'expect:husk-debug:[^#]*# ' 'send:tty; stty size\r' \
		'expect:/dev/pts/[0-9]+\r\n24 80\r\n' 'resize:30x100' \
		'send:until [ "$(stty size)" = "30 100" ]; do sleep 0.1; done; echo $((6*7))x\r' \
		'expect:42x\r\n' 'send:exit 7\r' -- "${H[@]}" debug-console "$ID"
	echo "$output"
	[ "$output" = $'exit=7\nmode=restored' ]
	stop_and_clean
}

@test "a debug console whose caller is killed takes its shell along in the guest" {
	write_config debug_console=true
	run_detached
	mkfifo "$T/in"
	"${H[@]}" debug-console "$ID" <"$T/in" >"$T/out" 2>&1 &
	local console=$!
	exec 8>"$T/in"
	echo 'sleep 1001; echo still here' >&8
	# the guest runs it once it shows in the container's sandbox (the same guest)
	run "${H[@]}" debug-console "$ID" <<<'until ps -o args | grep -qx "sleep 1001"; do sleep 0.1; done; echo seen'
	[ "$output" = seen ]
	kill -KILL "$console"
	wait "$console" || true
	exec 8>&-
	run "${H[@]}" debug-console "$ID" <<<'while ps -o args | grep -q "^sleep 1001"; do sleep 0.1; done; echo gone'
	[ "$output" = gone ]
	! grep -q 'still here' "$T/out"
	stop_and_clean
}

@test "without the debug console (the default, or the annotation false over the config's true) debug-console fails with one line and starts nothing" {
	run_detached
	[ ! -e "$ROOT/$ID/debug-console" ]
	run "${H[@]}" debug-console "$ID" </dev/null
	[ "$status" -eq 255 ]
	[ "$output" = "husk: debug-console $ID: the debug console is off for this sandbox (enable it at creation: \"debug_console\": true in husk.json, or the annotation io.husk.debug_console=true)" ]
	# nothing ran in the guest: the container's processes are its own
	[ "$("${H[@]}" ps --format json "$ID" | jq length)" -eq 1 ]
	# and the guest does not serve the port: a forged record on the host reaches nothing
	touch "$ROOT/$ID/debug-console"
	run "${H[@]}" debug-console "$ID" </dev/null
	echo "$output"
	[ "$status" -eq 255 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "husk: debug-console $ID: debug console: "* ]]
	stop_and_clean

	write_config debug_console=true
	run_detached false
	[ ! -e "$ROOT/$ID/debug-console" ]
	run "${H[@]}" debug-console "$ID" </dev/null
	[ "$status" -eq 255 ]
	[[ "$output" == *"the debug console is off for this sandbox"* ]]
	stop_and_clean
}

@test "the annotation enables it without the config; a value other than true or false is refused at create with one line; an unknown id is one line" {
	run_detached true
	run "${H[@]}" debug-console "$ID" <<<'cat /run/husk/shared/*/debug-marker'
	[ "$status" -eq 0 ]
	[ "$output" = "rootfs of $ID" ]
	stop_and_clean

	bundle_with '["true"]'
	jq '.annotations["io.husk.debug_console"] = "yes"' "$T/bundle/config.json" >"$T/config.tmp"
	mv "$T/config.tmp" "$T/bundle/config.json"
	run "${H[@]}" create --bundle "$T/bundle" "$ID" </dev/null
	[ "$status" -eq 1 ]
	[ "$output" = "husk: create $ID: annotations.io.husk.debug_console: must be \"true\" or \"false\"" ]
	assert_clean

	run "${H[@]}" debug-console nosuch </dev/null
	[ "$status" -eq 255 ]
	[ "$output" = "husk: debug-console nosuch: container nosuch does not exist" ]
}

@test "the agent serves only its host: a local process dialling the sandbox's vsock socket without the token is closed; the token is in the state dir (0600) and nowhere in the guest" {
	write_config debug_console=true
	run_detached
	[ "$(stat -c %a "$ROOT/$ID/agent-token")" = 600 ]
	local token
	token=$(cat "$ROOT/$ID/agent-token")
	[ "${#token}" -eq 64 ]
	# the guest took it out of the share as it started: neither the owner's view nor the guest's has it
	run nsenter -t "$(cat "$T/pid")" -m ls -A "$ROOT/$ID/shared"
	[ "$status" -eq 0 ]
	! grep -qx .husk-token <<<"$output"
	run "${H[@]}" debug-console "$ID" <<SH
ls -A /run/husk/shared | grep -cx .husk-token
grep -c "$token" /proc/cmdline
SH
	[ "${lines[0]}" = 0 ] && [ "${lines[1]}" = 0 ]
	# another token: the hybrid vsock connects, the agent closes it unserved
	run timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"CONNECT 1024\n")
ok = b""
while not ok.endswith(b"\n"):
    ok += s.recv(1)
s.sendall(b"HUSK-TOKEN " + b"0" * 64 + b"\n")
print(ok.split()[0].decode(), "closed" if s.recv(1) == b"" else "answered")' "$ROOT/$ID/vsock/vsock.sock"
	[ "$output" = "OK closed" ]
	grep -q "a connection without this sandbox's token refused" "$ROOT/$ID/console.log"
	# the host's own commands show it and are served
	run "${H[@]}" exec "$ID" echo served
	[ "$output" = served ]
	stop_and_clean
}
