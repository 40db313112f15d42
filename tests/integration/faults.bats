#!/usr/bin/env bats
# The CLI's fault matrix: each host process of a sandbox (QEMU, virtiofsd, husk-vsockd, the
# owner) killed with SIGKILL in each state a caller leaves it in (created, running, paused, with
# an exec running), and the guest kernel crashing (SysRq c from the debug console). In every
# cell the sandbox ends (its owner exits, state reads "stopped"), the exec in flight and the
# next command fail with one error line naming the container, delete removes everything
# (processes, state dir, mounts, host cgroups, metrics socket), and a bystander sandbox started
# first still answers. Real VMs (TCG).

load helpers

setup() {
	husk_setup
	bundle_with '["sleep", "100000"]'
	BY=$ID-bystander
	h create --config "$CONFIG" --bundle "$T/bundle" "$BY"
	h start "$BY"
}

teardown() {
	h delete --force "$BY" 2>/dev/null || true
	husk_teardown
}

h() {
	"$HUSK" --root "$ROOT" "$@" </dev/null
}

# one_error_line VERB ID FILE: FILE holds exactly one line, "husk: VERB ID: ...".
one_error_line() {
	[ "$(wc -l <"$3")" -eq 1 ] && grep -q -- "^husk: $1 $2: " "$3" ||
		{ echo "want one 'husk: $1 $2: ...' line, got:" >&2; cat "$3" >&2; return 1; }
}

# cell WHICH STATE: brings container $ID to STATE, kills WHICH, checks the outcome.
cell() {
	local which=$1 state=$2 id=$ID-$1-$2 owner exec_pid cgroups sock line
	h create --config "$CONFIG" --bundle "$T/bundle" "$id"
	[ "$state" = created ] || h start "$id"
	[ "$state" != paused ] || h pause "$id"
	if [ "$state" = exec ]; then
		mkfifo "$T/exec.$id"
		h exec "$id" sh -c 'echo ready; exec sleep 100000' >"$T/exec.$id" 2>"$T/exec-err.$id" &
		exec_pid=$!
		exec 7<"$T/exec.$id"
		read -r -t 60 -u 7 line
		[ "$line" = ready ]
	fi
	owner=$(jq -r .pid "$ROOT/$id/state.json")
	cgroups=$(cat "$ROOT/$id/cgroups")
	[ -n "$cgroups" ]
	sock=$(printf '/run/husk-metrics/%x-%x.sock' "$(stat -c %d "$ROOT/$id")" "$(stat -c %i "$ROOT/$id")")
	[ -S "$sock" ]
	if [ "$which" = owner ]; then
		kill -KILL "$owner"
	else
		break_sandbox "$which" "$ROOT/$id" "$id" --root "$ROOT"
	fi
	wait_exit 60 "$owner"
	[ "$(h state "$id" | jq -r .status)" = stopped ]
	if [ -n "${exec_pid:-}" ]; then
		status=0
		wait "$exec_pid" || status=$?
		exec 7<&-
		[ "$status" -ne 0 ]
		one_error_line exec "$id" "$T/exec-err.$id"
	fi
	# the next command a caller would send
	status=0
	case $state in
	created) h start "$id" 2>"$T/next.$id" || status=$? ;;
	paused) h resume "$id" 2>"$T/next.$id" || status=$? ;;
	*) h exec "$id" true 2>"$T/next.$id" || status=$? ;;
	esac
	[ "$status" -ne 0 ]
	grep -q -- "^husk: [a-z]* $id: " "$T/next.$id" && [ "$(wc -l <"$T/next.$id")" -eq 1 ] ||
		{ cat "$T/next.$id" >&2; return 1; }
	h delete "$id"
	ID=$id assert_clean
	local d
	for d in $cgroups; do
		[ ! -d "$d" ] || { echo "cgroup left: $d" >&2; return 1; }
	done
	[ ! -e "$sock" ] || { echo "metrics socket left: $sock" >&2; return 1; }
	# the bystander is untouched
	[ "$(h state "$BY" | jq -r .status)" = running ]
	[ "$(h exec "$BY" echo alive)" = alive ]
}

# matrix WHICH [STATE...]: cell WHICH in each STATE (by default all four).
matrix() {
	local which=$1 state states
	shift
	states=("$@")
	[ $# -gt 0 ] || states=(created running paused exec)
	for state in "${states[@]}"; do
		echo "# $which killed, $state" >&3
		cell "$which" "$state"
	done
}

@test "faults: QEMU killed in each state: the sandbox ends, the next command fails with one line, delete leaves nothing, the bystander runs on" {
	matrix qemu
}

@test "faults: virtiofsd killed in each state: the same" {
	matrix virtiofsd
}

@test "faults: husk-vsockd killed in each state: the same" {
	matrix vsockd
}

@test "faults: the owner killed in each state: its helpers die with it, the rest as above" {
	matrix owner
}

@test "faults: the guest kernel crashing (the agent's PID 1 cannot be killed) with the container running and in an exec: the same" {
	write_config debug_console=true
	matrix guest running exec
}
