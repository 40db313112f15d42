#!/usr/bin/env bats
# The one spec contract (oci/limits.h): a bundle over any limit the agent enforces is refused on
# the host, before anything starts, with one error line naming the limit in the agent's words;
# by husk create, husk run and containerd-shim-husk-v2 alike. No VM boots in this file: qemu and
# virtiofsd are spies that leave a mark if anything ever starts them.

load helpers

SHIM=$HUSK_BUILD/bin/containerd-shim-husk-v2
IMAGE=docker.io/library/husk-busybox:latest

setup() {
	husk_setup
	# a 64-character id, as containerd and CRI make them
	ID=$(printf 'l%063d' "$$")
	# spies that QEMU's own user (docs/security.md, 3) can run and leave a mark from
	local spy
	chmod 711 "$T"
	mkdir -m 1777 "$T/spy"
	for spy in qemu virtiofsd; do
		printf '#!/bin/sh\ntouch "%s/started-%s"\nexit 1\n' "$T/spy" "$spy" >"$T/spy/$spy"
		chmod 755 "$T/spy/$spy"
	done
	write_config qemu="\"$T/spy/qemu\"" virtiofsd="\"$T/spy/virtiofsd\""
	bundle_with '["true"]'
	cp "$T/bundle/config.json" "$T/config.base"
}

teardown() {
	if [ -n "${CTD_PID:-}" ]; then
		pkill -KILL -f -- "containerd-shim-husk-v2 -namespace $NS " 2>/dev/null || true
		kill -KILL "$CTD_PID" 2>/dev/null || true
		grep -o -- "$T/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r umount -l
		rm -rf /run/husk-v2/"$NS"-*
	fi
	husk_teardown
}

# One jq program per limit over the base spec, and the refusal naming the limit (an ERE).
OVER=(
	'.process.args = [range(1025) | "a"]'
	'process.args: more than 1024 entries'
	'.process.env = [range(1025) | "K\(.)=v"]'
	'process.env: more than 1024 entries'
	'.process.args += ["x" * 32769]'
	'process.args\[1\]: longer than 32768 bytes'
	'.process.user.additionalGids = [range(65)]'
	'process.user.additionalGids: more than 64 entries'
	'.process.rlimits = [range(17) | {type: "RLIMIT_NOFILE", soft: 1, hard: 1}]'
	'process.rlimits: more than 16 entries'
	'.mounts += [range(63) | {destination: "/m\(.)", type: "tmpfs"}]'
	'mounts: more than 64 entries'
	'.hostname = ("h" * 65)'
	'hostname: longer than 64 bytes'
	'.linux.namespaces += [range(14) | {type: "mount"}]'
	'linux.namespaces: more than 16 entries'
	'.linux.maskedPaths = [range(129) | "/m\(.)"]'
	'linux.maskedPaths: more than 128 entries'
	'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [range(513) | {names: ["read"], action: "SCMP_ACT_LOG"}]}'
	'linux.seccomp: syscalls: more than 512 entries'
	'.linux.sysctl = ([range(65) | {key: "fs.mqueue.k\(.)", value: "1"}] | from_entries)'
	'linux.sysctl: more than 64 entries'
	'.linux.devices = [range(4097) | {path: "/dev/d\(.)", type: "c", major: 1, minor: 3}]'
	'linux.devices: more than 4096 entries'
	'.linux.resources.unified = ([range(65) | {key: "memory.k\(.)", value: "1"}] | from_entries)'
	'linux.resources: more than 64 settings'
	'.hooks = {prestart: [range(65) | {path: "/bin/true"}]}'
	'hooks.prestart: more than 64 hooks'
	'.annotations = {x: [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}'
	'invalid JSON at byte [0-9]+: nesting too deep'
	'.annotations = {x: ("x" * 1048576)}'
	'larger than 1048576 bytes'
)

# over_limit I: $T/bundle/config.json is the base spec through OVER[I]
over_limit() {
	jq -c "${OVER[$1]}" "$T/config.base" >"$T/bundle/config.json"
}

# Nothing was started (the spies never ran) and nothing of $ID is left.
assert_nothing_started() {
	[ -z "$(ls "$T/spy" | grep '^started-')" ] || { echo "started: $(ls "$T"/spy/started-*)" >&2; return 1; }
	assert_clean
}

@test "limits: husk create and husk run refuse a bundle over each limit with one line, starting nothing" {
	local i want
	for ((i = 0; i < ${#OVER[@]}; i += 2)); do
		over_limit "$i"
		want="bundle $T/bundle: config.json: ${OVER[$i + 1]}"
		run "$HUSK" --root "$ROOT" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
		[ "$status" -eq 1 ] || { echo "create: ${OVER[$i]}: $output" >&2; return 1; }
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" =~ ^"husk: create $ID: "${want}$ ]] || { echo "got: $output" >&2; return 1; }
		husk_run
		[ "$status" -eq 1 ]
		assert_one_error_line "$want$"
		assert_nothing_started
	done
}

@test "limits: at the limits husk create gets past the spec check (to the spy qemu)" {
	# short: under this test's --root a 64-character id's sockets would not fit in sun_path
	ID=t$$-${BATS_TEST_NUMBER}
	jq -c '.mounts += [range(62) | {destination: "/m\(.)", type: "tmpfs"}] |
		.process.env = [range(1024) | "K\(.)=v"] | .hostname = ("h" * 64)' \
		"$T/config.base" >"$T/bundle/config.json"
	run "$HUSK" --root "$ROOT" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" != *"more than"* && "$output" != *"longer than"* ]] || { echo "got: $output" >&2; return 1; }
	[ -e "$T/spy/started-qemu" ] || [ -e "$T/spy/started-virtiofsd" ] || { echo "got: $output" >&2; return 1; }
}

@test "limits: containerd-shim-husk-v2 refuses a spec over a limit at create; no VM, nothing left" {
	command -v containerd >/dev/null && command -v ctr >/dev/null ||
		skip "containerd and ctr are not installed (Debian: apt-get install containerd)"
	[ -x "$SHIM" ] || { echo "missing $SHIM (run: make all)" >&2; return 1; }
	NS=husk-lim-$$-${BATS_TEST_NUMBER}
	PATH=$HUSK_BUILD/bin:$PATH containerd_start "$IMAGE"
	local id=$NS-$(printf '%064d' 0 | cut -c$((${#NS} + 2))-) m=()
	for i in $(seq 65); do
		m+=(--mount "type=tmpfs,src=tmpfs,dst=/m$i,options=nosuid")
	done
	run "${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 --rm "${m[@]}" \
		"$IMAGE" "$id" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"create $id: bundle "*": config.json: mounts: more than 64 entries"* ]] ||
		{ echo "got: $output" >&2; return 1; }
	[ -z "$(ls "$T/spy" | grep '^started-')" ]
	for i in $(seq 100); do
		pgrep -f -- "-namespace $NS -id $id " >/dev/null || break
		sleep 0.1
	done
	! pgrep -af -- "-namespace $NS -id $id |/run/husk-v2/$id/"
	[ ! -e "/run/husk-v2/$id" ]
	! grep -qE -- "/run/husk-v2/$id" /proc/self/mountinfo
	[ -z "$("${CTR[@]}" containers ls -q)" ]
}
