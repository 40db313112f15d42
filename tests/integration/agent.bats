#!/usr/bin/env bats
# husk-agent as the guest's PID 1: real QEMU (TCG), virtiofsd, husk-vsockd, one guest for the
# file, driven over hybrid vsock by tests/integration/helpers/agent-client.

load agent_helpers
load agent_cases

setup_file() {
	agent_setup
	agent_boot_vm
}

teardown_file() {
	agent_teardown
}

@test "Health names the agent version, the guest kernel and its boot id" {
	run client health
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^0\.1\.0\ $(cat "$AGENT_BUILD/guest/kernel-version")\ [0-9a-f-]{36}$ ]]
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

@test "a write a full stdin cannot take waits for the process to read" {
	case_stdin_full
}

@test "DestroySandbox powers the guest off" {
	write_spec "$AT/s7.json" '["sleep","1000"]'
	client create last c1 "$AT/s7.json"
	client start last
	run client destroy
	[ "$status" -eq 0 ]
	agent_wait_exit 60
	grep -q "destroying the sandbox" "$AT/console.log"
}
