#!/usr/bin/env bats
# pause/resume, update, events and VM sizing from linux.resources, end to end: real QEMU (TCG),
# virtiofsd, husk-vsockd and agent behind every container.

load helpers

setup() {
	husk_setup
	H=("$HUSK" --root "$ROOT")
}

teardown() {
	if [ -n "${EVENTS:-}" ]; then
		kill "$EVENTS" 2>/dev/null || true
	fi
	if [ -n "${T:-}" ] && [ -s "$T/pid" ]; then
		kill -KILL "$(cat "$T/pid")" 2>/dev/null || true
	fi
	husk_teardown
}

# ctl_bundle ARGS_JSON [RESOURCES_JSON]: $T/bundle running ARGS_JSON with linux.resources.
ctl_bundle() {
	bundle_with "$1"
	if [ -n "${2:-}" ]; then
		jq --argjson r "$2" '.linux.resources = $r' "$T/bundle/config.json" >"$T/config.json"
		mv "$T/config.json" "$T/bundle/config.json"
	fi
}

# ctl_create: husk create of $ID under reap_owner.py (a subreaper, as containerd's shim is);
# the container's stdin is the FIFO the test writes on fd 8, its stdout and stderr the FIFO
# it reads on fd 9. Returns once create did.
ctl_create() {
	mkfifo "$T/in" "$T/out" "$T/ready"
	exec 8<>"$T/in" 9<>"$T/out"
	python3 "$BATS_TEST_DIRNAME/reap_owner.py" "$T/ready" "$T/status" \
		"${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid" "$ID" \
		<"$T/in" >"$T/out" 2>&1 7>&- 8>&- 9>&- &
	REAPER=$!
	read -r -t 120 CREATED <"$T/ready"
	[ "$CREATED" = created ]
}

# Waits for the --pid-file process to be reaped; sets OWNER_STATUS to its exit code.
wait_owner() {
	wait "$REAPER"
	read -r _ OWNER_STATUS <"$T/status"
}

# next_line: the next line the container wrote (fd 9), within 60 s, in $LINE.
next_line() {
	read -r -t 60 -u 9 LINE
}

state_status() {
	"${H[@]}" state "$ID" | jq -r .status
}

# assert_error TEXT: $output is exactly the one line TEXT.
assert_error() {
	[ "$status" -ne 0 ] || { echo "expected failure, got status 0: $output" >&2; return 1; }
	[ "$output" = "$1" ] || { echo "expected '$1', got '$output'" >&2; return 1; }
}

COUNTER='["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done"]'

@test "pause stops a counter from advancing, state and list show paused, resume continues it" {
	ctl_bundle "$COUNTER"
	ctl_create
	"${H[@]}" start "$ID"
	next_line
	next_line
	"${H[@]}" pause "$ID"
	[ "$(state_status)" = paused ]
	"${H[@]}" list | grep -E "^$ID +[0-9]+ +paused "
	[ "$("${H[@]}" list --format json | jq -r ".[] | select(.id == \"$ID\") | .status")" = paused ]
	# what was written before the freeze may still be in flight; then nothing for 3 s
	local last=$LINE n=0
	while read -r -t 3 -u 9 LINE; do
		last=$LINE
		n=$((n + 1))
		[ "$n" -lt 5 ] || { echo "still counting while paused: $LINE" >&2; return 1; }
	done
	"${H[@]}" resume "$ID"
	[ "$(state_status)" = running ]
	next_line
	[ "$LINE" -eq $((last + 1)) ]
	"${H[@]}" delete --force "$ID"
	assert_clean
}

@test "pause and resume refuse the wrong state, an unknown container and a bad id" {
	ctl_bundle '["sh", "-c", "read x"]'
	ctl_create
	run "${H[@]}" pause "$ID"
	assert_error "husk: pause $ID: container is created, not running"
	"${H[@]}" start "$ID"
	run "${H[@]}" resume "$ID"
	assert_error "husk: resume $ID: container is running, not paused"
	"${H[@]}" pause "$ID"
	run "${H[@]}" pause "$ID"
	assert_error "husk: pause $ID: container is paused, not running"
	run "${H[@]}" exec "$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot exec in a paused container" ]]
	"${H[@]}" resume "$ID"
	echo done >&8
	wait_owner
	[ "$OWNER_STATUS" -eq 0 ]
	[ "$(state_status)" = stopped ]
	run "${H[@]}" pause "$ID"
	assert_error "husk: pause $ID: container has stopped"
	run "${H[@]}" resume "$ID"
	assert_error "husk: resume $ID: container has stopped"
	run "${H[@]}" pause nosuch
	assert_error "husk: pause nosuch: container nosuch does not exist"
	run "${H[@]}" resume ../x
	[ "$status" -eq 1 ]
	[[ "$output" == "husk: resume ../x: "* ]]
	run "${H[@]}" pause
	[ "$status" -eq 2 ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "a paused container dies of SIGKILL (128+9) and reads as stopped" {
	ctl_bundle "$COUNTER"
	ctl_create
	"${H[@]}" start "$ID"
	next_line
	"${H[@]}" pause "$ID"
	"${H[@]}" kill "$ID" KILL
	wait_owner
	[ "$OWNER_STATUS" -eq 137 ]
	[ "$(state_status)" = stopped ]
	[ ! -e "$ROOT/$ID/paused" ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "delete of a paused container needs --force; --force removes VM, helpers and state" {
	ctl_bundle "$COUNTER"
	ctl_create
	"${H[@]}" start "$ID"
	"${H[@]}" pause "$ID"
	run "${H[@]}" delete "$ID"
	assert_error "husk: delete $ID: cannot delete container $ID that is not stopped: paused"
	[ "$(state_status)" = paused ]
	"${H[@]}" delete --force "$ID"
	wait_owner
	assert_clean
}

@test "update lowers a running container's pids limit and the next fork past it fails" {
	ctl_bundle '["sh", "-c", "exec 2>&1; read x; for i in 1 2 3 4 5; do sleep 60 & done; echo forked"]' \
		'{"pids": {"limit": 100}}'
	ctl_create
	"${H[@]}" start "$ID"
	[ "$("${H[@]}" events --stats "$ID" | jq .data.pids.limit)" -eq 100 ]
	echo '{"pids": {"limit": 50}, "memory": {"limit": 100000000}}' |
		"${H[@]}" update --resources - "$ID"
	"${H[@]}" events --stats "$ID" >"$T/stats"
	[ "$(jq .data.pids.limit "$T/stats")" -eq 50 ]
	[ "$(jq .data.memory.usage.limit "$T/stats")" -eq 99999744 ] # memory.max rounds to pages
	"${H[@]}" update --pids-limit 3 "$ID"
	[ "$("${H[@]}" events --stats "$ID" | jq .data.pids.limit)" -eq 3 ]
	echo go >&8
	next_line
	[[ "$LINE" == *"can't fork"* ]]
	wait_owner
	[ "$OWNER_STATUS" -eq 2 ] # ash gives up on a failed fork
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "update rejects malformed resources, bad flags, unknown and stopped containers" {
	run "${H[@]}" update --resources - nosuch <<<'{"memory": {"limit": "64m"}}'
	assert_error "husk: update nosuch: --resources: linux.resources.memory.limit: must be an integer"
	run "${H[@]}" update --resources - nosuch <<<'{"memory": '
	assert_error "husk: update nosuch: --resources: invalid JSON at byte 12: unexpected end of input"
	run "${H[@]}" update --resources - nosuch <<<'{"cpus": 2}'
	assert_error "husk: update nosuch: --resources: linux.resources.cpus: unknown field"
	head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big"
	run "${H[@]}" update --resources "$T/big" nosuch
	assert_error "husk: update nosuch: --resources: $T/big: larger than 65536 bytes"
	run "${H[@]}" update --resources "$T/none" nosuch
	assert_error "husk: update nosuch: --resources: $T/none: No such file or directory"
	run "${H[@]}" update --memory 12q nosuch
	assert_error "husk: update nosuch: --memory 12q: not a size in bytes"
	run "${H[@]}" update --cpuset-cpus 0-x nosuch
	assert_error "husk: update nosuch: linux.resources.cpu.cpus: \"0-x\" is not a list of CPUs 0..63"
	run "${H[@]}" update --pids-limit 5 nosuch
	assert_error "husk: update nosuch: container nosuch does not exist"
	run "${H[@]}" update nosuch
	[ "$status" -eq 2 ]
	ctl_bundle '["true"]'
	ctl_create
	"${H[@]}" start "$ID"
	wait_owner
	run "${H[@]}" update --memory 64m "$ID"
	assert_error "husk: update $ID: container has stopped"
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "past a 64 MiB memory limit the process is OOM-killed (137) and events reports it; events ends with the container" {
	ctl_bundle '["sh", "-c", "echo ready; read x; tail /dev/zero"]' '{"memory": {"limit": 67108864}}'
	ctl_create
	"${H[@]}" start "$ID"
	next_line
	[ "$LINE" = ready ]
	mkfifo "$T/events"
	exec 7<>"$T/events"
	"${H[@]}" events --interval 500ms "$ID" >"$T/events" 2>"$T/events.err" 8>&- 9>&- &
	EVENTS=$!
	read -r -t 60 -u 7 LINE
	[ "$(jq -r .type <<<"$LINE")" = stats ]
	[ "$(jq -r .id <<<"$LINE")" = "$ID" ]
	echo go >&8
	while read -r -t 60 -u 7 LINE && [ "$(jq -r .type <<<"$LINE")" = stats ]; do :; done
	[ "$LINE" = "{\"type\":\"oom\",\"id\":\"$ID\"}" ]
	wait_owner
	[ "$OWNER_STATUS" -eq 137 ]
	wait "$EVENTS"
	EVENTS=
	[ ! -s "$T/events.err" ]
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "events --stats prints one runc-shaped line with sane numbers and the host's side apart; bad --interval is refused" {
	ctl_bundle '["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo spun; read x"]' \
		'{"memory": {"limit": 67108864}, "pids": {"limit": 10}}'
	ctl_create
	"${H[@]}" start "$ID"
	next_line
	[ "$LINE" = spun ]
	"${H[@]}" events --stats "$ID" >"$T/stats"
	[ "$(wc -l <"$T/stats")" -eq 1 ]
	jq -e --arg id "$ID" '.type == "stats" and .id == $id' "$T/stats"
	jq -e '.data.cpu.usage.total > 0 and .data.cpu.usage.user + .data.cpu.usage.kernel <= .data.cpu.usage.total + 20000000' "$T/stats"
	jq -e '.data.memory.usage.limit == 67108864 and .data.memory.usage.usage > 0 and .data.memory.usage.usage < 67108864' "$T/stats"
	jq -e '.data.pids.current >= 1 and .data.pids.current <= 10 and .data.pids.limit == 10' "$T/stats"
	jq -e '.data.blkio.ioServiceBytesRecursive | length == 2' "$T/stats"
	# the host's side apart: the owner, QEMU, husk-vsockd and virtiofsd (with its child); QEMU
	# holds the guest's memory and spends more CPU than the container (it runs the guest)
	jq -e '.data.host.processes >= 5 and .data.host.memory.pss > .data.memory.usage.usage' "$T/stats"
	jq -e '.data.host.memory.rss >= .data.host.memory.pss' "$T/stats"
	jq -e '.data.host.cpu.usage.total > .data.cpu.usage.total' "$T/stats"
	run "${H[@]}" events --interval 0s "$ID"
	assert_error "husk: events: --interval 0s: not a duration greater than 0 (like 5s or 500ms)"
	run "${H[@]}" events --interval 5 "$ID"
	[ "$status" -eq 1 ]
	run "${H[@]}" events --stats nosuch
	assert_error "husk: events nosuch: container nosuch does not exist"
	echo done >&8
	wait_owner
	run "${H[@]}" events "$ID"
	assert_error "husk: events $ID: container has stopped"
	"${H[@]}" delete "$ID"
	assert_clean
}

# guest_size RESOURCES_JSON: runs a container; the guest's MemTotal (kB) and CPUs in $MEM, $CPUS.
guest_size() {
	ctl_bundle '["sh", "-c", "grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo"]' "$1"
	husk_run
	[ "$status" -eq 0 ] || { cat "$T/err" >&2; return 1; }
	MEM=$(awk '/MemTotal/ { print $2 }' "$T/out")
	CPUS=$(tail -n 1 "$T/out")
}

# in_range KB MIB: KB (a guest's MemTotal) is what a VM of MIB MiB shows: up to 56 MiB below.
in_range() {
	[ "$1" -le $(($2 * 1024)) ] && [ "$1" -gt $((($2 - 56) * 1024)) ] ||
		{ echo "MemTotal $1 kB does not fit a $2 MiB VM" >&2; return 1; }
}

@test "the VM's memory and vCPUs follow memory.limit + 128 MiB and the cpu quota; the config's without them" {
	guest_size '{"memory": {"limit": 67108864}, "cpu": {"quota": 150000, "period": 100000}}'
	in_range "$MEM" $((64 + 128))
	[ "$CPUS" -eq 2 ]
	write_config memory_mib=320
	guest_size '{"pids": {"limit": 10}}'
	in_range "$MEM" 320
	[ "$CPUS" -eq 1 ]
	guest_size '{"cpu": {"cpus": "1"}}'
	[ "$CPUS" -eq 2 ]
	assert_clean
}

@test "an ill-shaped linux.resources fails create naming the field, with nothing left behind" {
	ctl_bundle '["true"]' '{"memory": {"limit": "64m"}}'
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == "husk: create $ID: bundle $T/bundle: config.json: linux.resources.memory.limit: not an integer" ]]
	ctl_bundle '["true"]' '{"cpu": {"cpus": "0-99"}}'
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.resources.cpu.cpus: \"0-99\" is not a list of CPUs 0..63" ]]
	[ ! -e "$ROOT/$ID/state.json" ] || "${H[@]}" delete "$ID"
	assert_clean
}
