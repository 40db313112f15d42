#!/usr/bin/env bats
# husk-agent's container logic on the host: the agent binary with --listen-unix (not PID 1,
# so no init duties; pivot_root instead of the initramfs move) over a Unix socket.

load agent_helpers
load agent_cases

setup_file() {
	agent_setup
	agent_start_unix
}

teardown_file() {
	agent_teardown
}

teardown() {
	if [ -n "${AGENT2_PID:-}" ]; then
		kill -KILL "$AGENT2_PID" 2>/dev/null
		wait "$AGENT2_PID" 2>/dev/null
	fi
	return 0
}

@test "a container runs in its namespaces with the spec's mounts, hostname and exit code" {
	case_namespaces
}

@test "stdin reaches the init, exec joins its namespaces, SIGKILL gives 137" {
	case_stdin_exec_signal
}

@test "errors name the container and the cause" {
	case_errors
}

@test "output beyond the pipe buffer arrives complete and in order" {
	case_bulk_output
}

@test "a host that hangs up with reads pending leaves the agent serving" {
	case_host_gone_mid_read
}

@test "closing stdin ends a container even beside one created after it" {
	case_stdin_eof_beside_created
}

@test "rlimits, user, umask and cwd apply to the container's process" {
	case_process_settings
}

@test "concurrent execs each report their own pid, output and status" {
	case_concurrent_execs
}

@test "masked paths are hidden, readonly paths read-only" {
	case_masked_paths
}

@test "capabilities from the spec replace the process's sets" {
	case_capabilities
}

@test "SignalProcess --all ends every process of the container; the status is 128+N" {
	case_kill_all
}

@test "a terminal process gets its own pty; ResizePty and CloseStdin reach it" {
	case_terminal
}

@test "a container joins another's uts, ipc, net and pid namespaces by path, keeping its own mounts" {
	case_join_namespaces
}

@test "a write a full stdin cannot take waits for the process to read" {
	case_stdin_full
}

@test "a container dies with an agent that is killed" {
	write_spec "$AT/s16.json" '["sleep","1000"]'
	"$AGENT_BIN" --listen-unix "$AT/agent2.sock" --shared-dir "$AT/shared" 2>>"$AT/agent.log" 3>&- &
	AGENT2_PID=$!
	"$AGENT_CLIENT" -u "$AT/agent2.sock" create orphan c1 "$AT/s16.json"
	run "$AGENT_CLIENT" -u "$AT/agent2.sock" start orphan
	pid=${output#pid }
	kill -KILL "$AGENT2_PID"
	wait "$AGENT2_PID" || true
	AGENT2_PID=
	timeout 20 tail --pid="$pid" -f /dev/null
}

@test "DestroySandbox ends every container and the agent" {
	write_spec "$AT/s7.json" '["sleep","1000"]'
	client create last c1 "$AT/s7.json"
	run client start last
	pid=${output#pid }
	run client destroy
	[ "$status" -eq 0 ]
	timeout 20 tail --pid="$AGENT_PID" -f /dev/null
	timeout 20 tail --pid="$pid" -f /dev/null # the container init was killed too
}
