#!/usr/bin/env bats
# husk as the OCI runtime of containerd's runc shim (io.containerd.runc.v2): a private
# containerd (own config, root, state and socket under $T) started with HUSK_CONFIG, a
# busybox OCI image built locally, and `ctr run --runc-binary <husk>`.

load helpers

setup() {
	command -v containerd >/dev/null && command -v ctr >/dev/null ||
		skip "containerd and ctr are not installed (Debian: apt-get install containerd)"
	husk_setup
	NS=husk-$$-${BATS_TEST_NUMBER}
	# the runc shim runs husk with --root /run/containerd/runc/<namespace>
	HROOT=/run/containerd/runc/$NS
	containerd_start docker.io/library/husk-busybox:latest
}

teardown() {
	if [ -n "${CTD_PID:-}" ]; then
		pkill -KILL -f -- "$HROOT/" 2>/dev/null || true
		pkill -KILL -f -- "$T/ctd/state" 2>/dev/null || true
		kill -KILL "$CTD_PID" 2>/dev/null || true
		grep -o -- "$T/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r umount -l
		rm -rf "$HROOT"
	fi
	husk_teardown
}

ctr_run() {
	status=0
	"${CTR[@]}" run --snapshotter native --runc-binary "$HUSK" --rm \
		docker.io/library/husk-busybox:latest "$@" >"$T/out" 2>"$T/err" </dev/null 3>&- ||
		status=$?
}

# Nothing of container $1 is left: no husk state, no owner or VM helper, no shim.
assert_ctd_clean() {
	local left
	left=$(pgrep -af -- "$HROOT/$1" || true)
	[ -z "$left" ] || { echo "left behind: $left" >&2; return 1; }
	[ ! -e "$HROOT/$1" ] || { echo "state left: $(ls -la "$HROOT/$1")" >&2; return 1; }
	[ -z "$("${CTR[@]}" containers ls -q)" ]
}

@test "containerd: ctr run --runc-binary husk --rm prints hello and exits 0; nothing left" {
	ctr_run c1 echo hello
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = hello ]
	assert_ctd_clean c1
}

@test "containerd: the exit code comes back, stdout and stderr stay separate" {
	ctr_run c2 sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ]
	[ "$(cat "$T/out")" = out ]
	[ "$(cat "$T/err")" = err ]
	assert_ctd_clean c2
}

@test "containerd: a detached task is running in its VM, ctr task kill stops it, delete cleans up" {
	"${CTR[@]}" run --snapshotter native --runc-binary "$HUSK" -d \
		docker.io/library/husk-busybox:latest c3 sleep 1000 </dev/null >/dev/null 3>&-
	[ "$("$HUSK" --root "$HROOT" state c3 | jq -r .status)" = running ]
	pgrep -f -- "$HROOT/c3/" >/dev/null
	"${CTR[@]}" task ls | grep -E '^c3 +[0-9]+ +RUNNING'
	# ctr task attach waits for the task's exit (the shim reaped the --pid-file process),
	# exits with its status, and deletes the task (husk delete)
	"${CTR[@]}" task attach c3 </dev/null >"$T/attach" 2>&1 3>&- &
	local waiter=$! code=0
	"${CTR[@]}" task kill -s KILL c3
	wait_exit 30 "$waiter"
	wait "$waiter" || code=$?
	cat "$T/attach"
	[ "$code" -eq 137 ]
	[ -z "$("${CTR[@]}" task ls -q)" ]
	"${CTR[@]}" containers delete c3
	assert_ctd_clean c3
}

@test "containerd: ctr task exec runs a process in the task's VM (output, exit code); ctr task ps lists guest pids" {
	"${CTR[@]}" run --snapshotter native --runc-binary "$HUSK" -d \
		docker.io/library/husk-busybox:latest c4 sleep 1000 </dev/null >/dev/null 3>&-
	status=0
	"${CTR[@]}" task exec --exec-id e1 c4 sh -c 'echo "pid 1 is $(cat /proc/1/comm)"; echo err >&2; exit 3' \
		</dev/null >"$T/out" 2>"$T/err" 3>&- || status=$?
	cat "$T/err"
	[ "$status" -eq 3 ]
	[ "$(cat "$T/out")" = "pid 1 is sleep" ]
	[ "$(cat "$T/err")" = err ]
	"${CTR[@]}" task exec -d --exec-id e2 c4 sleep 999 </dev/null >/dev/null 2>&1 3>&-
	run "${CTR[@]}" task ps c4
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^PID ]]
	# init and the detached exec, by the guest pids husk ps --format json gives
	[ "${#lines[@]}" -eq 3 ]
	[ "$("$HUSK" --root "$HROOT" ps --format json c4 | jq length)" -eq 2 ]
	"${CTR[@]}" task kill -s KILL c4
	local i
	for i in $(seq 300); do
		"${CTR[@]}" task ls | grep -qE '^c4 +[0-9]+ +STOPPED' && break
		sleep 0.1
	done
	"${CTR[@]}" task delete c4
	"${CTR[@]}" containers delete c4
	assert_ctd_clean c4
}

@test "containerd: ctr run -t on a terminal: the container gets a pty of the terminal's size, input reaches it, the mode is restored" {
	# ctr leaves OPOST on in its raw mode: lines end in \r\r\n (so they do with runc)
	run python3 "$BATS_TEST_DIRNAME/tty_driver.py" spawn "$T/tty.log" \
		'expect:/dev/pts/[0-9]+\r+\n24 80\r+\n' 'send:hi\r' 'expect:got:hi' -- \
		"${CTR[@]}" run -t --snapshotter native --runc-binary "$HUSK" --rm \
		docker.io/library/husk-busybox:latest c5 sh -c 'tty; stty size; read l; echo got:$l; exit 5'
	echo "$output"
	[ "$output" = $'exit=5\nmode=restored' ]
	assert_ctd_clean c5
}

@test "containerd: ctr task exec -t on a terminal: the exec gets its own pty of the terminal's size; its status comes back" {
	"${CTR[@]}" run --snapshotter native --runc-binary "$HUSK" -d \
		docker.io/library/husk-busybox:latest c6 sleep 1000 </dev/null >/dev/null 3>&-
	run python3 "$BATS_TEST_DIRNAME/tty_driver.py" spawn "$T/tty.log" \
		'expect:/dev/pts/[0-9]+\r+\n24 80\r+\n' 'send:hi\r' 'expect:got:hi' -- \
		"${CTR[@]}" task exec -t --exec-id e1 c6 sh -c 'tty; stty size; read l; echo got:$l; exit 4'
	echo "$output"
	[ "$output" = $'exit=4\nmode=restored' ]
	"${CTR[@]}" task kill -s KILL c6
	local i
	for i in $(seq 300); do
		"${CTR[@]}" task ls | grep -qE '^c6 +[0-9]+ +STOPPED' && break
		sleep 0.1
	done
	"${CTR[@]}" task delete c6
	"${CTR[@]}" containers delete c6
	assert_ctd_clean c6
}
