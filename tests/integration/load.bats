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
