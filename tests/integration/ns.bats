#!/usr/bin/env bats
# Namespaces in the guest: a user namespace with the spec's uid/gid mappings (the init and its
# execs), bad mappings refused, and containers of one sandbox joining another container's
# ipc/uts/net/pid namespaces by /proc/<its init>/ns/<type>. One real guest (QEMU TCG, virtiofsd,
# husk-vsockd) for the file, driven by agent-client.

load agent_helpers
load agent_cases

setup_file() {
	agent_setup
	# a directory only the mapped root (host uid 100000) may write
	mkdir "$AT/shared/c1/data"
	chown 100000:100000 "$AT/shared/c1/data"
	agent_boot_vm
}

teardown_file() {
	agent_teardown
}

USERNS='"namespaces":[{"type":"user"},{"type":"mount"},{"type":"pid"}],
 "uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
 "gidMappings":[{"containerID":0,"hostID":100000,"size":65536}]'

@test "a user namespace: the maps are the spec's, root inside is uid 100000 outside, an exec joins it" {
	write_spec "$AT/u.json" '["sh","-c","cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin; touch /x 2>/dev/null || echo root-denied; touch /data/f && stat -c %u /data/f; readlink /proc/self/ns/user; read l"]' \
		"{$USERNS}"
	echo '{"args":["sh","-c","id -u; readlink /proc/self/ns/user; cat /proc/self/uid_map"],"env":["PATH=/bin"],"cwd":"/"}' >"$AT/u-exec.json"
	client create u c1 "$AT/u.json" --stdin
	client start u
	client write u "" $'go\n'
	run client output u ""
	echo "$output"
	[ "$(echo ${lines[0]})" = "0 100000 65536" ]
	[ "$(echo ${lines[1]})" = "0 100000 65536" ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 65534 ] # the rootfs's owner, host root, is not mapped
	[ "${lines[4]}" = root-denied ]
	[ "${lines[5]}" = 0 ]
	[[ "${lines[6]}" == user:\[* ]]
	[ "${lines[-1]}" = "exit 0" ]
	# what the container's root made is the unprivileged host uid's
	[ "$(stat -c %u:%g "$AT/shared/c1/data/f")" = 100000:100000 ]
	rm -f "$AT/shared/c1/data/f"
	client remove u

	write_spec "$AT/u2.json" '["sh","-c","readlink /proc/self/ns/user; read l"]' "{$USERNS}"
	client create u2 c1 "$AT/u2.json" --stdin
	client start u2
	run client exec u2 e1 "$AT/u-exec.json"
	run client output u2 e1
	echo "$output"
	[ "${lines[0]}" = 0 ]
	local exec_ns=${lines[1]}
	[ "$(echo ${lines[2]})" = "0 100000 65536" ]
	[ "${lines[-1]}" = "exit 0" ]
	# an exec's ids must be in the container's maps
	echo '{"args":["true"],"env":["PATH=/bin"],"cwd":"/","user":{"uid":70000,"gid":0}}' >"$AT/u-bad.json"
	run client exec u2 e2 "$AT/u-bad.json"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"exec e2 in u2: process.user.uid 70000: not in linux.uidMappings"* ]]
	client write u2 "" $'go\n'
	run client output u2 ""
	echo "$output"
	[ "${lines[0]}" = "$exec_ns" ]
	[ "${lines[-1]}" = "exit 0" ]
	client remove u2
}

# bad_lx LINUX_MEMBERS MESSAGE: create fails with one line naming the field
bad_lx() {
	write_spec "$AT/bad.json" '["true"]' "{$1}"
	run client create bad c1 "$AT/bad.json"
	echo "$output"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"$2"* ]]
}

@test "bad mappings are refused with one line naming the field" {
	local ns='"namespaces":[{"type":"user"}]'
	local g='"gidMappings":[{"containerID":0,"hostID":100000,"size":65536}]'
	bad_lx "$ns,$g,\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":10},{\"containerID\":5,\"hostID\":200000,\"size\":10}]" \
		"linux.uidMappings[1]: containerID 5 overlaps [0]"
	bad_lx "$ns,$g,\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":10},{\"containerID\":10,\"hostID\":100005,\"size\":10}]" \
		"linux.uidMappings[1]: hostID 100005 overlaps [0]"
	bad_lx "$ns,$g,\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":0}]" \
		"linux.uidMappings[0]: size 0: empty or past the last id"
	bad_lx "$ns,$g,\"uidMappings\":[{\"containerID\":0,\"hostID\":4294967290,\"size\":10}]" \
		"linux.uidMappings[0]: size 10: empty or past the last id"
	bad_lx "$ns,\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":1}]" \
		"linux.namespaces user: needs linux.uidMappings and linux.gidMappings"
	bad_lx "$ns,$g,\"uidMappings\":[{\"containerID\":1,\"hostID\":100000,\"size\":1}]" \
		"linux.uidMappings: containerID 0 (the container's root) not mapped"
	bad_lx "$g" "linux.gidMappings: needs a user namespace"
	bad_lx "$ns,$g,\"uidMappings\":[{\"containerID\":0,\"hostID\":100000}]" \
		"linux.uidMappings[0]: size: missing"
	write_spec "$AT/bad.json" '["true"]' "{$ns,$g,\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":100}]}" \
		'"user":{"uid":1000}'
	run client create bad c1 "$AT/bad.json"
	[[ "$output" == *"process.user.uid 1000: not in linux.uidMappings"* ]]
}

@test "a container joins another's uts, ipc, net and pid namespaces by /proc/<init>/ns/<type>, keeping its own mounts" {
	case_join_namespaces
}

@test "a namespace path naming anything but a container init of this sandbox is refused" {
	bad_lx '"namespaces":[{"type":"ipc","path":"/proc/1/ns/ipc"}]' \
		"linux.namespaces ipc: path /proc/1/ns/ipc: not the init of a running container in this sandbox"
	bad_lx '"namespaces":[{"type":"uts","path":"/var/run/netns/x"}]' \
		"linux.namespaces uts: path /var/run/netns/x: not /proc/<pid>/ns/uts of a container in this sandbox"
	bad_lx '"namespaces":[{"type":"uts","path":"/proc/5/ns/ipc"}]' \
		"linux.namespaces uts: path /proc/5/ns/ipc: not /proc/<pid>/ns/uts"
	bad_lx '"namespaces":[{"type":"mount","path":"/proc/5/ns/mnt"}]' \
		"linux.namespaces mount: joining one by path not supported"
	bad_lx '"namespaces":[{"type":"user","path":"/proc/5/ns/user"}]' \
		"linux.namespaces user: joining one by path not supported"
}

teardown() {
	[ -z "${ROOT:-}" ] || husk_teardown
}

@test "husk run: a namespace path is one error line naming the field, before any VM; nothing left" {
	load helpers
	husk_setup
	bundle_with '["true"]'
	sed -i 's|{ "type": "uts" }|{ "type": "uts", "path": "/proc/1/ns/uts" }|' "$T/bundle/config.json"
	husk_run
	cat "$T/err"
	[ "$status" -ne 0 ]
	assert_one_error_line "config.json: linux.namespaces uts: path /proc/1/ns/uts: cannot be joined \(the container gets a VM of its own\)"
	[ ! -s "$T/out" ]
	assert_clean
}
