#!/usr/bin/env bats
# husk metrics (docs/operations.md, Metrics): every sandbox's Prometheus text from its owner's
# socket in /run/husk-metrics, merged with the host's figures; each exposition checked by the
# Prometheus client's own parser (promcheck.py). Real VMs (TCG). Shim v2 pods: cri.bats.

load helpers

PROMCHECK=$BATS_TEST_DIRNAME/promcheck.py

setup() {
	husk_setup
	# as Docker and containerd name containers
	ID=$(echo "$T" | sha256sum | cut -c1-64)
	H=("$HUSK" --root "$ROOT")
}

teardown() {
	if [ -n "${T:-}" ] && [ -d "$ROOT/$ID" ]; then
		"${H[@]}" delete --force "$ID" 2>/dev/null || true
	fi
	[ -z "${LISTENER:-}" ] || kill "$LISTENER" 2>/dev/null || true
	husk_teardown
}

# metrics: husk metrics, checked, into $T/samples ("NAME LABELS VALUE" lines).
metrics() {
	"$HUSK" metrics >"$T/metrics.txt"
	"$PROMCHECK" <"$T/metrics.txt" >"$T/samples"
}

# sample NAME LABELS: the value of that sample in $T/samples ("" when absent).
sample() {
	awk -v n="$1" -v l="$2" '$1 == n && $2 == l { print $3 }' "$T/samples"
}

# the owner's socket for the state directory $ROOT/$ID (shim/lib/metricsdir.h)
metrics_sock() {
	printf '/run/husk-metrics/%x-%x.sock' "$(stat -c %d "$ROOT/$ID")" "$(stat -c %i "$ROOT/$ID")"
}

@test "husk metrics: a container by its 64-character id, created then running, with its VM, host processes and guest; an exec moves its exec counter; a write counts in virtiofsd's bytes; gone with delete" {
	metrics
	local running execs sock
	running=$(sample husk_sandboxes state=running)
	bundle_with '["sleep", "1000"]'
	"${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID" </dev/null
	metrics
	[ "$(sample husk_sandbox_state "sandbox=$ID,state=created")" = 1 ]
	"${H[@]}" start "$ID"
	metrics
	cat "$T/samples"
	[ "$(sample husk_sandboxes state=running)" -eq $((running + 1)) ]
	[ "$(sample husk_sandbox_state "sandbox=$ID,state=running")" = 1 ]
	[ "$(sample husk_sandbox_info "accel=tcg,kind=cli,sandbox=$ID")" = 1 ]
	[ "$(sample husk_vm_memory_bytes "sandbox=$ID")" -gt 0 ]
	[ "$(sample husk_host_process_pss_bytes "process=qemu,sandbox=$ID")" -gt 0 ]
	[ "$(sample husk_host_process_rss_bytes "process=virtiofsd,sandbox=$ID")" -gt 0 ]
	[ "$(sample husk_guest_memory_total_bytes "sandbox=$ID")" -gt 0 ]
	[ "$(sample husk_guest_containers "sandbox=$ID")" = 1 ]
	[ -n "$(sample husk_sandbox_start_seconds "sandbox=$ID")" ]
	[ "$(sample husk_agent_rpc_errors_total "sandbox=$ID")" = 0 ]
	execs=$(sample husk_exec_seconds_count "sandbox=$ID")
	"${H[@]}" exec "$ID" true
	metrics
	[ "$(sample husk_exec_seconds_count "sandbox=$ID")" -eq $((execs + 1)) ]
	# 2 MiB written to the rootfs cross virtiofsd, whose child process serves the guest
	"${H[@]}" exec "$ID" dd if=/dev/zero of=/work/f bs=64k count=32 conv=fsync
	metrics
	[ "$(sample husk_virtiofs_host_bytes_total "direction=write,sandbox=$ID")" -ge $((2 << 20)) ]
	sock=$(metrics_sock)
	[ -S "$sock" ]
	"${H[@]}" delete --force "$ID"
	metrics
	! grep -F "sandbox=$ID" "$T/samples"
	[ "$(sample husk_sandboxes state=running)" -eq "$running" ]
	[ ! -e "$sock" ]
	assert_clean
}

@test "husk metrics: an owner killed (SIGKILL) leaves a dead socket, which husk metrics drops without counting it; husk delete leaves nothing" {
	bundle_with '["sleep", "1000"]'
	"${H[@]}" run --config "$CONFIG" --bundle "$T/bundle" --detach --pid-file "$T/pid" "$ID" </dev/null
	local sock
	sock=$(metrics_sock)
	kill -KILL "$(cat "$T/pid")"
	wait_exit 30 "$(cat "$T/pid")"
	[ -S "$sock" ]
	metrics
	[ "$(sample husk_metrics_unanswered -)" = 0 ]
	! grep -F "sandbox=$ID" "$T/samples"
	[ ! -e "$sock" ]
	"${H[@]}" delete --force "$ID"
	assert_clean
}

@test "husk metrics: failures by cause: a refused bundle counts under bundle, a VM that cannot start under boot, each once" {
	metrics
	local bundle boot
	bundle=$(sample husk_failures_total cause=bundle)
	boot=$(sample husk_failures_total cause=boot)
	# runc spec's bundle asking for a host disk
	mkdir -p "$T/bundle"
	make_bundle "$T/bundle"
	(cd "$T/bundle" && "$HUSK" spec)
	jq '.process.terminal = false | .linux.resources.devices += [{"allow": true, "type": "b", "major": 8, "minor": 0, "access": "rwm"}]' \
		"$T/bundle/config.json" >"$T/c.json"
	mv "$T/c.json" "$T/bundle/config.json"
	husk_run
	[ "$status" -ne 0 ]
	grep -q 'is a host device' "$T/err"
	write_config qemu='"/bin/false"'
	bundle_with '["true"]'
	husk_run
	[ "$status" -ne 0 ]
	metrics
	[ "$(sample husk_failures_total cause=bundle)" -eq $((bundle + 1)) ]
	[ "$(sample husk_failures_total cause=boot)" -eq $((boot + 1)) ]
	assert_clean
}

@test "husk metrics --listen serves the same exposition over HTTP on loopback (a port it picks); other paths 404, other methods 405; SIGTERM ends it with status 0; a bad address fails with one line" {
	mkfifo "$T/listen"
	"$HUSK" metrics --listen 0 >"$T/listen" &
	LISTENER=$!
	local url
	read -r -t 10 _ url <"$T/listen"
	[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+/metrics$ ]]
	curl -sf "$url" >"$T/metrics.txt"
	"$PROMCHECK" <"$T/metrics.txt" >"$T/samples"
	[ -n "$(sample husk_failures_total cause=boot)" ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${url%/metrics}/other")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")" = 405 ]
	kill -TERM "$LISTENER"
	wait "$LISTENER"
	LISTENER=
	run "$HUSK" metrics --listen 127.0.0.1:http
	[ "$status" -eq 1 ]
	[ "$output" = "husk: metrics: --listen 127.0.0.1:http: port http: not a number from 0 to 65535" ]
}
