#!/usr/bin/env bats
# The OCI runtime CLI (create, start, state, kill, delete, list, spec, features) end to end:
# real QEMU (TCG), virtiofsd, husk-vsockd and agent behind every container.

load helpers

setup() {
	husk_setup
	H=("$HUSK" --root "$ROOT")
}

teardown() {
	if [ -n "${T:-}" ] && [ -s "$T/pid" ]; then
		kill -KILL "$(cat "$T/pid")" 2>/dev/null || true
	fi
	husk_teardown
}

# husk_create [ID]: husk create as containerd's runc shim runs it, under reap_owner.py (a
# subreaper, like the shim), stdin from the FIFO $T/in (held open by the test on fd 8),
# stdout in ${OUT:-$T/out}, stderr in $T/err. Waits until create returned.
husk_create() {
	local id=${1:-$ID}
	mkfifo "$T/in" "$T/ready"
	exec 8<>"$T/in"
	python3 "$BATS_TEST_DIRNAME/reap_owner.py" "$T/ready" "$T/status" \
		"$HUSK" --root "$ROOT" create --config "$CONFIG" --bundle "$T/bundle" \
		--pid-file "$T/pid" "$id" <"$T/in" >"${OUT:-$T/out}" 2>"$T/err" 3>&- 8>&- 9>&- &
	REAPER=$!
	read -r -t 120 CREATED <"$T/ready"
}

# Waits for the --pid-file process to be reaped; sets OWNER_STATUS to its exit code.
wait_owner() {
	wait "$REAPER"
	read -r _ OWNER_STATUS <"$T/status"
}

# Container stdout through the FIFO $OUT, read by the test on fd 9.
out_fifo() {
	OUT=$T/out.fifo
	mkfifo "$OUT"
	exec 9<>"$OUT"
}

# expect_line TEXT: the next line of container stdout (fd 9) is TEXT.
expect_line() {
	local line
	read -r -t 60 -u 9 line
	[ "$line" = "$1" ] || { echo "expected '$1', got '$line'" >&2; return 1; }
}

state_field() {
	"${H[@]}" state "${2:-$ID}" | jq -r ".$1"
}

# Fails if the sandbox owner of the last husk_create is still alive.
assert_owner_gone() {
	local pid
	pid=$(cat "$T/pid")
	! kill -0 "$pid" 2>/dev/null
}

@test "create leaves the container created with a live --pid-file process; start runs it; exit status comes back" {
	bundle_with '["sh", "-c", "read line; echo got $line; echo err >&2; exit 7"]'
	husk_create
	[ "$CREATED" = created ]
	[ "$(state_field status)" = created ]
	[ "$(state_field pid)" = "$(cat "$T/pid")" ]
	[ "$(state_field bundle)" = "$T/bundle" ]
	[ "$(state_field id)" = "$ID" ]
	kill -0 "$(cat "$T/pid")"
	[ ! -s "$T/out" ]
	"${H[@]}" start "$ID"
	[ "$(state_field status)" = running ]
	echo hello >&8
	exec 8>&-
	wait_owner
	[ "$OWNER_STATUS" -eq 7 ]
	[ "$(cat "$T/out")" = "got hello" ]
	[ "$(cat "$T/err")" = err ]
	[ "$(state_field status)" = stopped ]
	[ "$(state_field pid)" = 0 ]
	"${H[@]}" delete "$ID"
	run "${H[@]}" state "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"container $ID does not exist"* ]]
	assert_clean
}

@test "kill: names with and without SIG, numbers; default SIGTERM; stopped container cannot be killed" {
	bundle_with '["sh", "-c", "trap \"echo usr1\" USR1; trap \"echo term; exit 4\" TERM; echo ready; while :; do sleep 1; done"]'
	out_fifo
	husk_create
	"${H[@]}" start "$ID"
	expect_line ready
	"${H[@]}" kill "$ID" USR1
	expect_line usr1
	"${H[@]}" kill "$ID" SIGUSR1
	expect_line usr1
	"${H[@]}" kill "$ID" 10
	expect_line usr1
	run "${H[@]}" kill "$ID" SIGNOPE
	[ "$status" -eq 1 ]
	[[ "$output" == "husk: kill $ID: invalid signal SIGNOPE" ]]
	"${H[@]}" kill "$ID"
	expect_line term
	wait_owner
	[ "$OWNER_STATUS" -eq 4 ]
	run "${H[@]}" kill "$ID" KILL
	[ "$status" -eq 1 ]
	[[ "$output" == "husk: kill $ID: container not running" ]]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "kill --all KILL of a running container; 128+9 comes back" {
	bundle_with '["sleep", "1000"]'
	husk_create
	"${H[@]}" start "$ID"
	"${H[@]}" kill --all "$ID" 9
	wait_owner
	[ "$OWNER_STATUS" -eq 137 ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "a created container killed before start is stopped and can be deleted" {
	bundle_with '["echo", "never"]'
	husk_create
	"${H[@]}" kill "$ID" KILL
	wait_owner
	[ "$(state_field status)" = stopped ]
	[ ! -s "$T/out" ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "delete of a created container (no --force) tears its VM down" {
	bundle_with '["echo", "never"]'
	husk_create
	"${H[@]}" delete "$ID"
	wait_owner
	assert_owner_gone
	assert_clean
}

@test "delete of a running container needs --force; --force removes VM, helpers and state" {
	bundle_with '["sleep", "1000"]'
	husk_create
	"${H[@]}" start "$ID"
	run "${H[@]}" delete "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: delete $ID: cannot delete container $ID that is not stopped: running" ]
	[ "$(state_field status)" = running ]
	"${H[@]}" delete --force "$ID"
	assert_owner_gone
	assert_clean
	wait "$REAPER"
}

@test "start twice fails and leaves the container running" {
	bundle_with '["sleep", "1000"]'
	husk_create
	"${H[@]}" start "$ID"
	run "${H[@]}" start "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: start $ID: cannot start an already running container" ]
	[ "$(state_field status)" = running ]
	"${H[@]}" delete --force "$ID"
	assert_clean
}

@test "a dead sandbox owner shows as stopped, cannot be started, and can be deleted" {
	bundle_with '["sleep", "1000"]'
	husk_create
	local helpers
	helpers=$(pgrep -f -- "$ROOT/$ID/")
	[ -n "$helpers" ]
	kill -KILL "$(cat "$T/pid")"
	wait "$REAPER"
	[ "$(state_field status)" = stopped ]
	run "${H[@]}" start "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: start $ID: cannot start a container that has stopped" ]
	"${H[@]}" delete "$ID"
	# the helpers die with the owner (PR_SET_PDEATHSIG), asynchronously
	wait_exit 30 $helpers
	assert_clean
}

@test "duplicate id: the second create fails, the first container is untouched" {
	bundle_with '["sleep", "1000"]'
	husk_create
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: create $ID: container $ID already exists" ]
	[ "$(state_field status)" = created ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "unknown container: state, start, kill and delete fail naming it; delete --force succeeds" {
	for verb in state start kill delete; do
		run "${H[@]}" "$verb" nosuch
		[ "$status" -eq 1 ]
		[ "$output" = "husk: $verb nosuch: container nosuch does not exist" ]
	done
	"${H[@]}" delete --force nosuch
}

@test "bad input to create: invalid id, malformed config.json, missing bundle, terminal; nothing left" {
	bundle_with '["true"]'
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "a/b"
	[ "$status" -eq 1 ]
	[[ "$output" == "husk: create a/b: "*"a/b"* ]]
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/nosuch" "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: create $ID: bundle $T/nosuch: No such file or directory" ]
	echo '{"ociVersion": "1.0.2", "process": {' >"$T/bundle/config.json"
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == "husk: create $ID: bundle $T/bundle: config.json: "* ]]
	[ "${#lines[@]}" -eq 1 ]
	bundle_with '["true"]' '"terminal": true'
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.terminal is true but no --console-socket was given" ]]
	[ ! -e "$ROOT/$ID" ]
	assert_clean
}

@test "a failing boot: create fails with one line, writes no pid file, leaves nothing" {
	write_config qemu='"/bin/false"'
	bundle_with '["true"]'
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid" "$ID"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "husk: create $ID: "*"qemu"* ]]
	[ ! -e "$T/pid" ]
	assert_clean
}

@test "--log-format json: an error is one {\"level\":\"error\",\"msg\":...} line in --log" {
	run "$HUSK" --root "$ROOT" --log "$T/log.json" --log-format json start nosuch
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.level == "error") | .msg' "$T/log.json")" = "start nosuch: container nosuch does not exist" ]
}

@test "list: table and json" {
	bundle_with '["sleep", "1000"]'
	run "${H[@]}" list --format json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq length)" -eq 0 ]
	husk_create
	run "${H[@]}" list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^ID\ +PID\ +STATUS\ +BUNDLE\ +CREATED\ +OWNER ]]
	[[ "${lines[1]}" =~ ^$ID\ +$(cat "$T/pid")\ +created\ +$T/bundle ]]
	run "${H[@]}" list --format json
	[ "$(echo "$output" | jq -r '.[0].id + " " + .[0].status')" = "$ID created" ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "spec writes a config.json that husk runs; a second spec refuses to overwrite it" {
	make_bundle "$T/bundle"
	(cd "$T/bundle" && "$HUSK" spec)
	run "$HUSK" spec --bundle "$T/bundle"
	[ "$status" -eq 1 ]
	[[ "$output" == *"config.json exists"* ]]
	jq -e '.process.args == ["sh"] and .root.path == "rootfs"' "$T/bundle/config.json"
	status=0
	echo 'echo from-spec; exit 5' | "$HUSK" --root "$ROOT" run --config "$CONFIG" \
		--bundle "$T/bundle" "$ID" >"$T/out" 2>"$T/err" || status=$?
	cat "$T/err"
	[ "$status" -eq 5 ]
	[ "$(cat "$T/out")" = from-spec ]
	assert_clean
}

@test "features prints runc-style JSON" {
	run "$HUSK" features
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.ociVersionMin and .ociVersionMax and (.linux.namespaces | index("pid"))'
}
