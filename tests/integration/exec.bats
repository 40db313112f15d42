#!/usr/bin/env bats
# husk exec and husk ps against a running container in its own VM (real QEMU under TCG):
# the foreground relay, runc's flags, --process files, the detached --pid-file holder as
# conmon and containerd's runc shim use it, the guest process list, and bad input.

load helpers

setup() {
	husk_setup
	H=("$HUSK" --root "$ROOT")
	export HUSK_CONFIG=$CONFIG
}

teardown() {
	if [ -n "${RECEIVER:-}" ]; then
		kill -KILL "$RECEIVER" 2>/dev/null || true
	fi
	if [ -n "${T:-}" ] && [ -d "$ROOT/$ID" ]; then
		"${H[@]}" delete --force "$ID" 2>/dev/null || true
	fi
	husk_teardown
}

# devpts_bundle ARGS_JSON: $T/bundle running ARGS (no terminal) with a devpts for exec -t.
devpts_bundle() {
	bundle_with "$1"
	jq '.mounts += [{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
		"options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}]
		| .process.env += ["TERM=xterm"]' "$T/bundle/config.json" >"$T/config.tmp"
	mv "$T/config.tmp" "$T/bundle/config.json"
}

# start_container ARGS_JSON: create (stdin from the FIFO $T/init.in, held open on fd 8)
# and start container $ID.
start_container() {
	[ -e "$T/bundle/config.json" ] || bundle_with "$1"
	mkfifo "$T/init.in"
	exec 8<>"$T/init.in"
	"${H[@]}" create --bundle "$T/bundle" --pid-file "$T/init.pid" "$ID" \
		<"$T/init.in" >"$T/init.out" 2>"$T/init.err" 3>&- 8>&-
	"${H[@]}" start "$ID"
}

# husk_exec ARGS...: husk exec in the foreground; stdin from $T/in (or /dev/null), stdout in
# $T/out, stderr in $T/err, $status set.
husk_exec() {
	status=0
	local in=/dev/null
	[ -e "$T/in" ] && in=$T/in
	"${H[@]}" exec "$@" <"$in" >"$T/out" 2>"$T/err" 3>&- || status=$?
}

# Under reap_owner.py (a subreaper, as conmon and containerd's runc shim are): husk exec
# --detach ARGS... with stdin from the FIFO $T/in (held open on fd 6), stdout in $T/out,
# stderr in $T/err. Waits until exec returned; READY is "created" on success.
exec_detached() {
	mkfifo "$T/in" "$T/ready"
	exec 6<>"$T/in"
	python3 "$BATS_TEST_DIRNAME/reap_owner.py" "$T/ready" "$T/status" \
		"${H[@]}" exec --detach "$@" <"$T/in" >"$T/out" 2>"$T/err" 3>&- 6>&- &
	REAPER=$!
	read -r -t 120 READY <"$T/ready"
}

# Waits for the detached holder to be reaped; sets HOLDER_STATUS to its exit code.
wait_holder() {
	wait "$REAPER"
	read -r _ HOLDER_STATUS <"$T/status"
}

# No husk exec is left running for this test's root.
assert_no_exec_left() {
	! pgrep -af -- "--root $ROOT exec" >&2
}

# expect_error STATUS TEXT: the last husk_exec failed with STATUS and the one line TEXT.
expect_error() {
	[ "$status" -eq "$1" ] || { echo "status $status, stderr: $(cat "$T/err")" >&2; return 1; }
	[ "$(wc -l <"$T/err")" -eq 1 ] && [ "$(cat "$T/err")" = "$2" ] ||
		{ echo "expected '$2', got: $(cat "$T/err")" >&2; return 1; }
}

@test "exec in the foreground: stdin, stdout, stderr stay apart; exit code and 128+N come back" {
	start_container '["sleep", "1000"]'
	echo hello >"$T/in"
	husk_exec "$ID" sh -c 'read l; echo "got $l"; echo err >&2; exit 3'
	[ "$status" -eq 3 ]
	[ "$(cat "$T/out")" = "got hello" ]
	[ "$(cat "$T/err")" = err ]
	rm "$T/in"
	husk_exec "$ID" sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ]
	husk_exec "$ID" true
	[ "$status" -eq 0 ]
	[ ! -s "$T/out" ] && [ ! -s "$T/err" ]
	[ "$("${H[@]}" state "$ID" | jq -r .status)" = running ]
	"${H[@]}" delete --force "$ID"
	assert_clean
	assert_no_exec_left
}

@test "exec forwards SIGTERM to the process, which exits with its own status" {
	start_container '["sleep", "1000"]'
	mkfifo "$T/out.fifo"
	"${H[@]}" exec "$ID" sh -c 'trap "echo term; exit 9" TERM; echo ready; while :; do sleep 1; done' \
		</dev/null >"$T/out.fifo" 2>"$T/err" 3>&- &
	local pid=$! line
	exec 7<"$T/out.fifo"
	read -r -t 120 -u 7 line
	[ "$line" = ready ]
	kill -TERM "$pid"
	read -r -t 60 -u 7 line
	[ "$line" = term ]
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 9 ]
	"${H[@]}" delete --force "$ID"
	assert_clean
}

@test "exec --env, --cwd, --user, --additional-gids override the bundle's process" {
	start_container '["sleep", "1000"]'
	husk_exec --env A=1 -e PATH=/bin:/sbin --cwd /work --user 1000:100 --additional-gids 5 \
		--additional-gids 6 "$ID" sh -c 'echo "$A $PATH $HOME"; pwd; id -u; id -g; id -G'
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "$(printf '1 /bin:/sbin /\n/work\n1000\n100\n100 5 6')" ]
	# without a group the bundle's gid stays
	husk_exec -u 7 "$ID" id -g
	[ "$(cat "$T/out")" = 0 ]
	"${H[@]}" delete --force "$ID"
	assert_clean
}

@test "exec of a missing binary fails with one line and status 255; the container runs on" {
	start_container '["sleep", "1000"]'
	husk_exec "$ID" /nosuch/binary arg
	[ "$status" -eq 255 ]
	[ "$(wc -l <"$T/err")" -eq 1 ]
	[ "$(cat "$T/err")" = "husk: exec $ID: exec /nosuch/binary: No such file or directory" ]
	[ "$("${H[@]}" state "$ID" | jq -r .status)" = running ]
	husk_exec "$ID" echo still
	[ "$(cat "$T/out")" = still ]
	assert_no_exec_left
	"${H[@]}" delete --force "$ID"
	assert_clean
}

@test "exec --detach --pid-file: a live holder relays the given fds and exits with the status" {
	start_container '["sleep", "1000"]'
	exec_detached --pid-file "$T/exec.pid" "$ID" sh -c 'read l; echo "got $l"; echo err >&2; exit 5'
	[ "$READY" = created ]
	local pid
	pid=$(cat "$T/exec.pid")
	kill -0 "$pid"
	[ "$(ps -o sid= -p "$pid")" -eq "$pid" ]
	echo detached >&6
	exec 6>&-
	wait_holder
	[ "$HOLDER_STATUS" -eq 5 ]
	[ "$(cat "$T/out")" = "got detached" ]
	[ "$(cat "$T/err")" = err ]
	"${H[@]}" delete --force "$ID"
	assert_clean
	assert_no_exec_left
}

@test "conmon's pattern: exec --pid-file P --process F --detach from a subreaper; CRI-O's foreground exec --process F" {
	start_container '["sleep", "1000"]'
	cat >"$T/process.json" <<-'JSON'
		{"args": ["sh", "-c", "echo \"$X in $(pwd) as $(id -u)\"; exit 4"], "env": ["PATH=/bin", "X=conmon"],
		 "cwd": "/work", "user": {"uid": 2, "gid": 2}, "terminal": false}
	JSON
	exec_detached --pid-file "$T/exec.pid" --process "$T/process.json" "$ID"
	[ "$READY" = created ]
	exec 6>&-
	wait_holder
	[ "$HOLDER_STATUS" -eq 4 ]
	[ "$(cat "$T/out")" = "conmon in /work as 2" ]
	[ "$(cat "$T/status" | cut -d' ' -f1)" = "$(cat "$T/exec.pid")" ]
	# CRI-O's streaming exec: in the foreground, the pid file names the relaying process
	rm -f "$T/in"
	"${H[@]}" exec --pid-file "$T/fg.pid" --process "$T/process.json" "$ID" \
		</dev/null >"$T/out" 2>"$T/err" 3>&- &
	local pid=$!
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 4 ]
	[ "$(cat "$T/fg.pid")" = "$pid" ]
	[ "$(cat "$T/out")" = "conmon in /work as 2" ]
	"${H[@]}" delete --force "$ID"
	assert_clean
	assert_no_exec_left
}

@test "ps: json lists init and an exec'd process by guest pid; the table shows their commands" {
	start_container '["sleep", "1000"]'
	exec_detached --pid-file "$T/exec.pid" "$ID" sleep 999
	[ "$READY" = created ]
	run "${H[@]}" ps --format json "$ID"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e 'type == "array" and length >= 2 and all(type == "number" and . > 0)'
	run "${H[@]}" ps "$ID"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^PID\ +PPID\ +UID\ +STAT\ +CMD$ ]]
	printf '%s\n' "${lines[@]}"
	printf '%s\n' "${lines[@]}" | grep -E '^[0-9]+ +1 +0 +S +sleep 1000$'
	printf '%s\n' "${lines[@]}" | grep -E '^[0-9]+ +[0-9]+ +0 +[A-Z] +sleep 999$'
	[ "${#lines[@]}" -eq "$(( $("${H[@]}" ps --format json "$ID" | jq length) + 1 ))" ]
	run "${H[@]}" ps --format yaml "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: ps $ID: --format yaml: must be table or json" ]
	"${H[@]}" delete --force "$ID"
	wait "$REAPER" || true
	run "${H[@]}" ps nosuch
	[ "$status" -eq 1 ]
	[ "$output" = "husk: ps nosuch: container nosuch does not exist" ]
	assert_clean
	assert_no_exec_left
}

@test "bad input to exec: unknown, created, paused and stopped containers, malformed or empty process, bad flags; nothing changes" {
	husk_exec nosuch true
	expect_error 255 "husk: exec nosuch: container nosuch does not exist"
	bundle_with '["sh", "-c", "read l"]'
	mkfifo "$T/init.in" "$T/init.ready"
	exec 8<>"$T/init.in"
	python3 "$BATS_TEST_DIRNAME/reap_owner.py" "$T/init.ready" "$T/init.status" \
		"${H[@]}" create --bundle "$T/bundle" --pid-file "$T/init.pid" "$ID" \
		<"$T/init.in" >/dev/null 2>&1 3>&- 8>&- &
	local reaper=$!
	read -r -t 120 _ <"$T/init.ready"
	husk_exec "$ID" true
	expect_error 255 "husk: exec $ID: cannot exec in a created container: start it first"
	"${H[@]}" start "$ID"
	"${H[@]}" pause "$ID"
	husk_exec "$ID" true
	expect_error 255 "husk: exec $ID: cannot exec in a paused container"
	"${H[@]}" resume "$ID"
	echo '{"args": ["true"], "cwd": "/"' >"$T/bad.json"
	husk_exec --process "$T/bad.json" "$ID"
	[ "$status" -eq 255 ]
	grep -E "^husk: exec $ID: process file $T/bad.json: invalid JSON at byte [0-9]+: unexpected end of input$" "$T/err"
	echo '{"args": [], "cwd": "/"}' >"$T/empty.json"
	husk_exec --process "$T/empty.json" "$ID"
	expect_error 255 "husk: exec $ID: process file $T/empty.json: process.args: must not be empty"
	husk_exec --process "$T/nosuch.json" "$ID"
	expect_error 255 "husk: exec $ID: process file: $T/nosuch.json: No such file or directory"
	husk_exec --user bob "$ID" true
	expect_error 255 "husk: exec $ID: --user bob: must be UID[:GID] (numbers)"
	husk_exec --user 1:x "$ID" true
	expect_error 255 "husk: exec $ID: --user 1:x: must be UID[:GID] (numbers)"
	husk_exec --env NOEQUALS "$ID" true
	expect_error 255 "husk: exec $ID: --env NOEQUALS: must be KEY=VALUE"
	husk_exec --cwd relative "$ID" true
	expect_error 255 "husk: exec $ID: --cwd relative: must be an absolute path"
	husk_exec --console-socket "$T/sock" "$ID" true
	expect_error 255 "husk: exec $ID: --console-socket needs a terminal (--tty)"
	husk_exec --detach -t "$ID" true
	expect_error 255 "husk: exec $ID: --detach with a terminal needs --console-socket"
	husk_exec "$ID"
	[ "$status" -eq 2 ]
	[ "$("${H[@]}" state "$ID" | jq -r .status)" = running ]
	assert_no_exec_left
	echo done >&8
	wait "$reaper"
	[ "$("${H[@]}" state "$ID" | jq -r .status)" = stopped ]
	husk_exec "$ID" true
	expect_error 255 "husk: exec $ID: cannot exec in a stopped container"
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "conmon's terminal exec: --process F (terminal true) --detach --console-socket S: the master goes to S, its resizes reach the process, the holder exits with the status" {
	devpts_bundle '["sleep", "1000"]'
	start_container
	python3 "$BATS_TEST_DIRNAME/tty_driver.py" console "$T/console.sock" "$T/console.log" \
		'expect:/dev/pts/[0-9]+\r\n' 'resize:30x100' 'expect:30 100\r\n' 'send:hello\r' \
		'expect:got:hello' >"$T/recv" 2>&1 3>&- &
	RECEIVER=$!
	local i
	for i in $(seq 100); do
		[ -S "$T/console.sock" ] && break
		sleep 0.05
	done
	# busybox's read returns 1 when a WINCH trap interrupts it (the resize, and the holder's
	# initial ResizePty if it lands after the trap is set): then it reads again
	cat >"$T/process.json" <<-'JSON'
		{"args": ["sh", "-c", "trap 'stty size' WINCH; tty; for i in 1 2 3 4; do read l && break; done; echo got:$l; exit 3"],
		 "env": ["PATH=/bin", "TERM=xterm"], "cwd": "/", "terminal": true}
	JSON
	exec_detached --pid-file "$T/exec.pid" --process "$T/process.json" \
		--console-socket "$T/console.sock" "$ID"
	[ "$READY" = created ] || { cat "$T/err" "$T/recv" >&2; return 1; }
	wait_holder
	[ "$HOLDER_STATUS" -eq 3 ]
	wait "$RECEIVER" || { cat "$T/recv" >&2; return 1; }
	RECEIVER=
	[ "$(head -1 "$T/recv")" = "fds=1 name=/dev/ptmx" ]
	"${H[@]}" delete --force "$ID"
	assert_clean
	assert_no_exec_left
}
