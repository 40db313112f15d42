#!/usr/bin/env bats
# Many sandboxes started at once on a small host (2 cores here): every boot is admitted to one of
# a few host-wide boot slots (shim/lib/bootslot.c) and its timeout runs from then, so none fails
# because the others keep the CPUs busy. Real VMs (TCG), 16 of them.

load helpers

setup() {
	husk_setup
}

teardown() {
	husk_teardown
}

@test "16 husk run started at once all succeed: the boots wait for a slot, not time out" {
	local i n=16 pids=()
	bundle_with '["sh", "-c", "echo up"]'
	for i in $(seq "$n"); do
		"$HUSK" --root "$ROOT" --debug --log "$T/log.$i" run --config "$CONFIG" --bundle "$T/bundle" \
			"$ID-$i" >"$T/out.$i" 2>"$T/err.$i" </dev/null &
		pids+=($!)
	done
	for i in $(seq "$n"); do
		wait "${pids[i - 1]}" || { cat "$T/err.$i" >&2; return 1; }
		[ "$(cat "$T/out.$i")" = up ]
	done
	# with 2 slots on 2 cores most of them waited (the debug log says so)
	[ "$(grep -l "boot: admitted after" "$T"/log.* | wc -l)" -ge $((n / 2)) ]
	for i in $(seq "$n"); do
		ID=$ID-$i assert_clean
	done
}

# lifecycle ID: the OCI lifecycle of one container as containerd's runc shim drives it (create
# with a pid file, start, exec, kill, wait for the owner to exit, delete); the first failing
# step's stderr in $T/fail.ID.
lifecycle() {
	local id=$1 h=("$HUSK" --root "$ROOT")
	{
		"${h[@]}" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid.$id" "$id" </dev/null &&
			"${h[@]}" start "$id" &&
			[ "$("${h[@]}" exec "$id" echo up)" = up ] &&
			"${h[@]}" kill "$id" KILL &&
			wait_exit 120 "$(cat "$T/pid.$id")" &&
			[ "$("${h[@]}" state "$id" | jq -r .status)" = stopped ] &&
			"${h[@]}" delete "$id"
	} 2>"$T/fail.$id" || return 1
	rm "$T/fail.$id"
}

@test "16 concurrent full lifecycles (create, start, exec, kill, delete), three rounds: every step succeeds and nothing is left" {
	local round i n=16 pids sockets_before
	bundle_with '["sleep", "1000"]'
	sockets_before=$(ls /run/husk-metrics/ 2>/dev/null | grep -c '\.sock$' || true)
	for round in 1 2 3; do
		pids=()
		for i in $(seq "$n"); do
			lifecycle "$ID-$round-$i" &
			pids+=($!)
		done
		for i in $(seq "$n"); do
			wait "${pids[i - 1]}" || { cat "$T/fail.$ID-$round-$i" >&2; return 1; }
		done
		for i in $(seq "$n"); do
			ID=$ID-$round-$i assert_clean
		done
		[ -z "$(ls -A "$ROOT")" ]
		[ "$(ls /run/husk-metrics/ 2>/dev/null | grep -c '\.sock$' || true)" = "$sockets_before" ]
	done
}
