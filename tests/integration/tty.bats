#!/usr/bin/env bats
# Terminals (process.terminal) end to end, as runc does them: the pty master over
# --console-socket, husk run on the caller's own terminal, window resizing. Real VMs (TCG);
# the far end of each terminal is tests/integration/tty_driver.py.

load helpers

DRIVER=$BATS_TEST_DIRNAME/tty_driver.py

setup() {
	husk_setup
	H=("$HUSK" --root "$ROOT")
}

teardown() {
	if [ -n "${RECEIVER:-}" ]; then
		kill -KILL "$RECEIVER" 2>/dev/null || true
	fi
	husk_teardown
}

# tty_bundle ARGS_JSON [TERMINAL]: $T/bundle whose process runs ARGS on a terminal of 24x100
# (TERMINAL: true, the default, or false), with a devpts.
tty_bundle() {
	[ -d "$T/bundle/rootfs" ] || make_bundle "$T/bundle"
	cat >"$T/bundle/config.json" <<JSON
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": ${2:-true},
		"consoleSize": { "height": 24, "width": 100 },
		"user": { "uid": 0, "gid": 0 },
		"args": $1,
		"env": [ "PATH=/bin", "HOME=/", "TERM=xterm" ],
		"cwd": "/"
	},
	"root": { "path": "rootfs" },
	"hostname": "husk",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts",
		  "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] }
	],
	"linux": { "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" } ] }
}
JSON
}

# receiver STEP...: a --console-socket receiver on $T/console.sock running STEPs on the
# master it gets (its summary in $T/recv, all terminal output in $T/console.log).
receiver() {
	local i
	python3 "$DRIVER" console "$T/console.sock" "$T/console.log" "$@" >"$T/recv" 2>&1 3>&- &
	RECEIVER=$!
	for i in $(seq 100); do
		[ -S "$T/console.sock" ] && return 0
		sleep 0.05
	done
	echo "the receiver did not listen" >&2
	return 1
}

# tty_create [FLAGS...]: husk create under reap_owner.py (a subreaper, like containerd's
# shim); sets CREATED; the owner's status goes to $T/status.
tty_create() {
	mkfifo "$T/ready"
	python3 "$BATS_TEST_DIRNAME/reap_owner.py" "$T/ready" "$T/status" \
		"${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid" "$@" \
		"$ID" </dev/null >"$T/out" 2>"$T/err" 3>&- &
	REAPER=$!
	read -r -t 120 CREATED <"$T/ready"
}

# Waits for the receiver and the owner; sets OWNER_STATUS.
wait_both() {
	wait "$REAPER"
	read -r _ OWNER_STATUS <"$T/status"
	wait "$RECEIVER" || { cat "$T/recv" >&2; return 1; }
	RECEIVER=
}

@test "create --console-socket sends one fd and its name; the container's tty is /dev/pts/N of its devpts, sized by consoleSize; input reaches it; the owner's status is the container's" {
	tty_bundle '["sh", "-c", "tty; stty size; read l; echo got:$l; exit 3"]'
	receiver 'expect:/dev/pts/[0-9]+\r\n24 100\r\n' 'send:hello\r' 'expect:got:hello'
	tty_create --console-socket "$T/console.sock"
	[ "$CREATED" = created ]
	[ "$(cat "$T/recv")" = "fds=1 name=/dev/ptmx" ]
	"${H[@]}" start "$ID"
	wait_both
	[ "$OWNER_STATUS" -eq 3 ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "a resize of the console master by the receiver reaches the container (SIGWINCH, stty size)" {
	tty_bundle '["sh", "-c", "trap \"stty size; exit 4\" WINCH; stty size; while :; do sleep 1; done"]'
	receiver 'expect:24 100\r\n' 'resize:40x120' 'expect:40 120\r\n'
	tty_create --console-socket "$T/console.sock"
	"${H[@]}" start "$ID"
	wait_both
	[ "$OWNER_STATUS" -eq 4 ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "create: a terminal without --console-socket, --console-socket without a terminal, a socket nobody listens on: one error line, nothing left" {
	tty_bundle '["true"]'
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: create $ID: process.terminal is true but no --console-socket was given" ]
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --console-socket "$T/nobody.sock" "$ID"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "husk: create $ID: console socket $T/nobody.sock: "*"No such file or directory" ]]
	assert_clean
	bundle_with '["true"]'
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --console-socket "$T/nobody.sock" "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: create $ID: --console-socket given but process.terminal is false" ]
	assert_clean
}

# husk_on_tty STEP...: husk run of $T/bundle on a fresh 24x80 terminal driven by STEPs;
# $output is "exit=N" and "mode=restored|changed", the terminal's output in $T/tty.log.
husk_on_tty() {
	run python3 "$DRIVER" spawn "$T/tty.log" "$@" -- \
		"${H[@]}" run --config "$CONFIG" --bundle "$T/bundle" "$ID"
	echo "$output"
}

@test "husk run on a terminal is interactive: the container's pty has the terminal's size and follows its resizes; the exit status comes back and the terminal's mode is restored" {
	tty_bundle '["sh"]'
	husk_on_tty 'expect:# ' 'send:tty; stty size\r' 'expect:/dev/pts/[0-9]+\r\n24 80\r\n' \
		'resize:30x100' \
		'send:until [ "$(stty size)" = "30 100" ]; do sleep 0.1; done; echo $((6*7))x\r' \
		'expect:42x\r\n' 'send:exit 6\r'
	[ "$output" = $'exit=6\nmode=restored' ]
	assert_clean
}

@test "husk run on a terminal: the mode is restored when husk fails (its VM is killed)" {
	tty_bundle '["sh"]'
	husk_on_tty 'expect:# ' "run:pkill -KILL -f -- '^qemu-system-x86_64 .*$ROOT/$ID/'"
	[ "$output" = $'exit=1\nmode=restored' ]
	grep -a "husk: run $ID: " "$T/tty.log"
	assert_clean
}

@test "husk run: a terminal without a terminal on stdio, --console-socket without --detach: one error line, nothing started" {
	tty_bundle '["true"]'
	run "${H[@]}" run --config "$CONFIG" --bundle "$T/bundle" "$ID" </dev/null
	[ "$status" -eq 1 ]
	[ "$output" = "husk: run $ID: process.terminal is true but neither stdin, stdout nor stderr is a terminal" ]
	run "${H[@]}" run --config "$CONFIG" --bundle "$T/bundle" --console-socket "$T/c.sock" "$ID" </dev/null
	[ "$status" -eq 1 ]
	[ "$output" = "husk: run $ID: --console-socket needs --detach" ]
	assert_clean
}

@test "husk run --detach --console-socket: the master goes to the socket, the container runs detached" {
	tty_bundle '["sh", "-c", "tty; read l; echo got:$l; exit 2"]'
	receiver 'expect:/dev/pts/[0-9]+\r\n' 'send:x\r' 'expect:got:x'
	"${H[@]}" run --config "$CONFIG" --bundle "$T/bundle" --detach --pid-file "$T/pid" \
		--console-socket "$T/console.sock" "$ID" </dev/null
	wait "$RECEIVER"
	RECEIVER=
	[ "$(cat "$T/recv")" = "fds=1 name=/dev/ptmx" ]
	timeout 60 tail --pid="$(cat "$T/pid")" -f /dev/null
	[ "$("${H[@]}" state "$ID" | jq -r .status)" = stopped ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "a receiver that closes the console master hangs the terminal up: the container gets SIGHUP" {
	tty_bundle '["sh", "-c", "trap \"exit 9\" HUP; tty; while :; do sleep 1; done"]'
	receiver 'expect:/dev/pts/[0-9]+\r\n' 'close:'
	tty_create --console-socket "$T/console.sock"
	"${H[@]}" start "$ID"
	wait_both
	[ "$OWNER_STATUS" -eq 9 ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "husk exec -t on a terminal: the process gets its own /dev/pts/N of the terminal's size, follows resizes, its status comes back, the mode is restored" {
	tty_bundle '["sleep", "1000"]' false
	"${H[@]}" run --config "$CONFIG" --bundle "$T/bundle" --detach --pid-file "$T/pid" "$ID" </dev/null
	run python3 "$DRIVER" spawn "$T/tty.log" 'expect:# ' 'send:tty; stty size\r' \
		'expect:/dev/pts/[0-9]+\r\n24 80\r\n' 'resize:30x100' \
		'send:until [ "$(stty size)" = "30 100" ]; do sleep 0.1; done; echo $((6*7))x\r' \
		'expect:42x\r\n' 'send:exit 7\r' -- "${H[@]}" exec -t "$ID" sh
	echo "$output"
	[ "$output" = $'exit=7\nmode=restored' ]
	"${H[@]}" kill "$ID" KILL
	timeout 60 tail --pid="$(cat "$T/pid")" -f /dev/null
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "husk exec --detach -t --console-socket: the master goes to the socket, the holder's status is the process's" {
	tty_bundle '["sleep", "1000"]' false
	"${H[@]}" run --config "$CONFIG" --bundle "$T/bundle" --detach --pid-file "$T/pid" "$ID" </dev/null
	receiver 'expect:/dev/pts/[0-9]+\r\n' 'send:x\r' 'expect:got:x'
	mkfifo "$T/ready"
	python3 "$BATS_TEST_DIRNAME/reap_owner.py" "$T/ready" "$T/status" \
		"${H[@]}" exec --detach -t --pid-file "$T/epid" --console-socket "$T/console.sock" \
		"$ID" sh -c 'tty; read l; echo got:$l; exit 8' </dev/null >"$T/out" 2>"$T/err" 3>&- &
	REAPER=$!
	read -r -t 120 CREATED <"$T/ready"
	[ "$CREATED" = created ]
	wait_both
	[ "$OWNER_STATUS" -eq 8 ]
	[ "$(cat "$T/recv")" = "fds=1 name=/dev/ptmx" ]
	"${H[@]}" kill "$ID" KILL
	timeout 60 tail --pid="$(cat "$T/pid")" -f /dev/null
	"${H[@]}" delete "$ID"
	assert_clean
}
