#!/usr/bin/env bats
# Ids and --root paths of any length runc accepts: Docker's 64-character ids under
# /run/docker/runtime-runc/moby, longer ones under a long --root. No socket address depends
# on either (docs/architecture.md, "State directory"). Real QEMU (TCG) behind each container.

load helpers

# long_id N: an id of N characters, unique to this test
long_id() {
	local id=t$$-${BATS_TEST_NUMBER}-
	while [ ${#id} -lt "$1" ]; do id=${id}0123456789abcdef; done
	echo "${id:0:$1}"
}

setup() {
	husk_setup
	local pad
	pad=$(printf "%$((200 - ${#T} - 1))s" "" | tr ' ' r)
	ROOT=$T/$pad
	[ ${#ROOT} -eq 200 ]
	H=("$HUSK" --root "$ROOT")
}

teardown() {
	if [ -n "${T:-}" ] && [ -s "$T/pid" ]; then
		kill -KILL "$(cat "$T/pid")" 2>/dev/null || true
	fi
	husk_teardown
}

@test "run: a 64-character id under a 200-character --root" {
	ID=$(long_id 64)
	bundle_with '["sh", "-c", "echo hello from $(hostname)"]'
	husk_run
	cat "$T/err" >&2
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "hello from husk" ]
	assert_clean
}

@test "create, start, exec, state, list, kill, delete: a 128-character id under a 200-character --root" {
	ID=$(long_id 128)
	bundle_with '["sleep", "1000"]'
	"${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid" "$ID" \
		</dev/null >"$T/out" 2>"$T/err"
	[ "$(cat "$T/err")" = "" ]
	[ "$("${H[@]}" state "$ID" | jq -r .status)" = created ]
	"${H[@]}" start "$ID"
	[ "$("${H[@]}" state "$ID" | jq -r .status)" = running ]
	[ "$("${H[@]}" state "$ID" | jq -r .id)" = "$ID" ]
	"${H[@]}" list -q | grep -qxF -- "$ID"
	run "${H[@]}" exec "$ID" sh -c 'echo exec in $(hostname); exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = "exec in husk" ]
	"${H[@]}" kill "$ID" KILL
	wait_exit 60 "$(cat "$T/pid")"
	[ "$("${H[@]}" state "$ID" | jq -r .status)" = stopped ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "a 256-character id is refused with one line naming the limit before anything starts" {
	ID=$(long_id 256)
	bundle_with '["true"]'
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "container id longer than 255 bytes$"
	[ ! -e "$ROOT" ]
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: create $ID: container id longer than 255 bytes" ]
	[ ! -e "$ROOT" ]
}
