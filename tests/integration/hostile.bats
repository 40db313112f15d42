#!/usr/bin/env bats
# A hostile guest in place of the agent (tests/guest/hostile.h: the vsock test initramfs with
# /hostile naming how it misbehaves). For each way, husk run fails with one error line naming
# the cause once its timeouts run out, the husk process (the sandbox's owner, which reads every
# reply) peaks under 64 MiB of resident memory, what the guest writes to the host is bounded
# (console.log, the share), and nothing is left (processes, state dir, mounts). Real VMs (TCG).

load helpers

HWM_LIMIT_KIB=$((64 * 1024))

setup() {
	husk_setup
	bundle_with '["true"]'
}

teardown() {
	husk_teardown
}

# run_hostile MODE: husk run of $T/bundle with the hostile guest (boot within 20 s, agent calls
# 5 s); sets $status, $HWM (KiB) and $CONSOLE_MAX (bytes), keeps stderr in $T/err and the
# console's head in $T/console.head.
run_hostile() {
	local pid
	write_config initrd="\"$(hostile_initrd "$1")\"" timeouts='{"boot_ms": 20000, "agent_call_ms": 5000}'
	"$HUSK" --root "$ROOT" run --config "$CONFIG" --bundle "$T/bundle" "$ID" \
		>"$T/out" 2>"$T/err" </dev/null &
	pid=$!
	read -r HWM CONSOLE_MAX < <("$BATS_TEST_DIRNAME/peak-rss" "$pid" --file "$ROOT/$ID/console.log" "$T/console.head")
	status=0
	wait "$pid" || status=$?
	echo "husk: status $status, peak $HWM KiB, console.log at most $CONSOLE_MAX bytes"
	cat "$T/err"
}

# outcome PATTERN: the run failed with one error line matching PATTERN, within the memory
# bound, and left nothing.
outcome() {
	[ "$status" -eq 1 ]
	assert_one_error_line "$1"
	[ "$HWM" -gt 0 ] && [ "$HWM" -lt "$HWM_LIMIT_KIB" ]
	assert_clean
}

@test "hostile guest: accepts, never answers: the Health call times out" {
	run_hostile silent
	outcome "Health: timed out after 5000 ms"
}

@test "hostile guest: answers with bytes that are no ttrpc frame: skipped as a frame of no call, the call times out" {
	run_hostile garbage
	outcome "Health: timed out after 5000 ms"
	# nothing of the guest's bytes (an escape sequence among them) reaches the terminal raw
	! grep -q $'\e' "$T/err"
}

@test "hostile guest: announces a 4 GiB frame: refused before any allocation" {
	run_hostile huge
	outcome "Health: response exceeds the ttrpc message size limit"
}

@test "hostile guest: a 4 MiB reply of 2 M empty fields: refused at the unpack budget" {
	run_hostile amplify
	outcome "Health: response envelope needs more than 16777216 bytes of memory"
}

@test "hostile guest: responses to streams never opened, without end: the call still ends" {
	run_hostile flood
	outcome "Health: timed out after 5000 ms"
}

@test "hostile guest: no agent, a full share, a deep tree, a setuid file and a console without end: the boot times out, both stay within their caps" {
	run_hostile vandal
	outcome "agent not reachable within 20000 ms"
	grep -a "husk-test: vandal" "$T/console.head"
	grep -aq "husk-test: vandal: a tree [0-9]* deep" "$T/console.head"
	grep -aq "husk-test: vandal: setuid file: made" "$T/console.head"
	# the share is a 1 MiB tmpfs of 4096 inodes (docs/security.md, 2b)
	bytes=$(grep -ao "the share took [0-9]* bytes (No space left on device)" "$T/console.head" | grep -o "[0-9]*")
	[ "$bytes" -le $((1024 * 1024)) ]
	files=$(grep -ao "the share took [0-9]* files (No space left on device)" "$T/console.head" | grep -o "[0-9]*")
	[ "$files" -le 4096 ]
	grep -aq "husk-test: vandal: the console without end" "$T/console.head"
	# console.log: at most CONSLOG_MAX (1 MiB) however much the guest writes
	[ "$CONSOLE_MAX" -gt 0 ] && [ "$CONSOLE_MAX" -le $((1024 * 1024)) ]
}
