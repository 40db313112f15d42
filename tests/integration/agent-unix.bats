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
	if [ -n "${NETNS:-}" ]; then
		ip netns del "$NETNS"
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
	"$AGENT_BIN" --listen-unix "$AT/agent2.sock" --shared-dir "$AT/shared" --token-file "$AT/token" \
		2>>"$AT/agent.log" 3>&- &
	AGENT2_PID=$!
	"$AGENT_CLIENT" -u "$AT/agent2.sock" create orphan c1 "$AT/s16.json"
	run "$AGENT_CLIENT" -u "$AT/agent2.sock" start orphan
	pid=${output#pid }
	kill -KILL "$AGENT2_PID"
	wait "$AGENT2_PID" || true
	AGENT2_PID=
	timeout 20 tail --pid="$pid" -f /dev/null
}

@test "the agent serves only connections that show its token: none, another or a silent crowd are closed unserved, and it serves on" {
	# a client that knows no token: its request is no preamble, and it is closed after 5 s
	run env -u AGENT_TOKEN_FILE "$AGENT_CLIENT" -u "$AT/agent.sock" health
	[ "$status" -eq 1 ]
	grep -q "a connection that did not show the token within 5000 ms closed" "$AT/agent.log"
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$AT/other-token"
	run env AGENT_TOKEN_FILE="$AT/other-token" "$AGENT_CLIENT" -u "$AT/agent.sock" health
	[ "$status" -eq 1 ]
	grep -q "a connection without this sandbox's token refused" "$AT/agent.log"
	# more connections than the gate holds say nothing: the oldest are closed, so none stalls it
	run python3 -c '
import socket, sys
socks = []
for _ in range(12):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    socks.append(s)
s = socks[0]
s.settimeout(20)
print("closed" if s.recv(1) == b"" else "open")' "$AT/agent.sock"
	[ "$output" = closed ]
	run client health
	[ "$status" -eq 0 ]
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

@test "SetupNetwork configures the agent's network namespace; a later call applies its interfaces again" {
	NETNS=husk-agent-net-$$
	ip netns add "$NETNS"
	# the veth end stands for the guest's NIC: found by its MAC
	ip -n "$NETNS" link add vnic address 02:00:00:00:00:01 type veth peer name vpeer
	ip -n "$NETNS" link set vpeer up
	ip netns exec "$NETNS" "$AGENT_ASAN" --listen-unix "$AT/agent-net.sock" \
		--shared-dir "$AT/shared" --token-file "$AT/token" 2>>"$AT/agent.log" 3>&- &
	AGENT2_PID=$!
	net() { "$AGENT_CLIENT" -u "$AT/agent-net.sock" setup-network "$@"; }

	run net if=eth0,02:00:00:00:00:01,70000
	[ "$status" -eq 1 ]
	[[ "$output" == *"SetupNetwork: interfaces[0].mtu: 70000 out of range"* ]]

	net if=eth0,02:00:00:00:00:01,1400,10.1.0.2/24,fd00::2/64 \
		route=default,eth0,via=10.1.0.1,src=10.1.0.2 \
		route=10.2.0.0/16,eth0,via=10.1.0.1,mtu=1300 route=fd01::/64,eth0,via=fd00::1 \
		neigh=10.1.0.1,02:00:00:00:00:09,eth0
	run ip -n "$NETNS" -o link show eth0
	[[ "$output" == *"mtu 1400"* && "$output" == *",UP"* && "$output" == *"02:00:00:00:00:01"* ]]
	run ip -n "$NETNS" -o link show lo
	[[ "$output" == *"LOOPBACK,UP"* ]]
	run ip -n "$NETNS" -o addr show dev eth0
	[[ "$output" == *"inet 10.1.0.2/24"* && "$output" == *"inet6 fd00::2/64"* ]]
	run ip -n "$NETNS" -o -6 addr show dev eth0 scope global
	[[ "$output" == *"fd00::2/64"* && "$output" != *tentative* ]]
	run ip -n "$NETNS" route show
	[[ "$output" == *"default via 10.1.0.1 dev eth0 proto static src 10.1.0.2"* ]]
	[[ "$output" == *"10.2.0.0/16 via 10.1.0.1 dev eth0 proto static mtu 1300"* ]]
	run ip -n "$NETNS" -6 route show
	[[ "$output" == *"fd01::/64 via fd00::1 dev eth0 proto static"* ]]
	run ip -n "$NETNS" neigh show dev eth0
	[[ "$output" == *"10.1.0.1 lladdr 02:00:00:00:00:09 PERMANENT"* ]]

	# a later call (a hot-plugged NIC's) applies its interfaces again
	run net if=eth0,02:00:00:00:00:01,1500
	[ "$status" -eq 0 ]
	run ip -n "$NETNS" -o link show eth0
	[[ "$output" == *"mtu 1500"* && "$output" == *",UP"* ]]
}
