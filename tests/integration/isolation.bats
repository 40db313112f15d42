#!/usr/bin/env bats
# In-guest isolation from the spec's linux object: seccomp, cgroup v2 resources, sysctl,
# devices, oomScoreAdj. One real guest (QEMU TCG, virtiofsd, husk-vsockd) for the file.

load agent_helpers

setup_file() {
	agent_setup
	agent_boot_vm
}

teardown_file() {
	agent_teardown
}

# with_cgroup FILE: adds the container's cgroup2 mount at /sys/fs/cgroup
with_cgroup() {
	sed -i 's|"options":\["nosuid","noexec","nodev","ro"\]}|&,{"destination":"/sys/fs/cgroup","type":"cgroup2","source":"cgroup"}|' "$1"
	grep -q /sys/fs/cgroup "$1"
}

# run_ctr ID SPEC: runs a container; $output without its first line ("pid N")
run_ctr() {
	run client run "$1" c1 "$2"
	echo "$output"
	lines=("${lines[@]:1}")
}

MKDIR_DENIED='{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
 "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}}'

@test "a seccomp profile denying mkdir makes mkdir fail with EPERM, for the init and an exec" {
	write_spec "$AT/sc.json" '["sh","-c","mkdir /tmp/x; echo rc=$?; read l; echo ok"]' "$MKDIR_DENIED"
	echo '{"args":["mkdir","/tmp/y"],"env":["PATH=/bin"],"cwd":"/"}' >"$AT/sc-exec.json"
	client create sc c1 "$AT/sc.json" --stdin
	client start sc
	run client exec sc e1 "$AT/sc-exec.json"
	run client output sc e1
	echo "$output"
	[[ "$output" == *"mkdir: can't create directory '/tmp/y': Operation not permitted"* ]]
	[ "${lines[-1]}" = "exit 1" ]
	client write sc "" $'go\n'
	run client output sc ""
	echo "$output"
	[[ "$output" == *"Operation not permitted"* ]]
	[[ "$output" == *"rc=1"* ]]
	[ "${lines[-1]}" = "exit 0" ]
	client remove sc
}

@test "seccomp with no_new_privileges, a default-allow profile, unknown names skipped, errors naming the field" {
	write_spec "$AT/sc2.json" '["sh","-c","mkdir /dev/shm/x && echo made"]' \
		'{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ALLOW"}]}}' \
		'"noNewPrivileges":true'
	run_ctr sc2 "$AT/sc2.json"
	[ "${lines[0]}" = made ]
	[ "${lines[-1]}" = "exit 0" ]
	client remove sc2
	write_spec "$AT/sc3.json" '["sh","-c","mkdir /dev/shm/x"]' "$MKDIR_DENIED" '"noNewPrivileges":true'
	run_ctr sc3 "$AT/sc3.json"
	[[ "$output" == *"Operation not permitted"* ]]
	[ "${lines[-1]}" = "exit 1" ]
	client remove sc3
	# like runc, syscall names libseccomp does not know are skipped (with a warning)
	write_spec "$AT/sc4.json" '["sh","-c","mkdir /dev/shm/x"]' \
		'{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["nosuchcall","mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}}'
	run_ctr sc4 "$AT/sc4.json"
	[[ "$output" == *"Operation not permitted"* ]]
	[ "${lines[-1]}" = "exit 1" ]
	client remove sc4
	write_spec "$AT/bad.json" '["true"]' '{"seccomp":{"defaultAction":"SCMP_ACT_NOTIFY"}}'
	run client create bad c1 "$AT/bad.json"
	[[ "$output" == *"linux.seccomp: defaultAction: unsupported action SCMP_ACT_NOTIFY"* ]]
}

# the init (exec'd dd) allocates an 80 MiB block buffer
@test "a process allocating past a 64 MiB memory limit is OOM-killed: 137" {
	write_spec "$AT/oom.json" '["sh","-c","cat /sys/fs/cgroup/memory.max; exec dd if=/dev/zero of=/dev/null bs=80M count=1"]' \
		'{"resources":{"memory":{"limit":67108864,"swap":67108864}}}'
	with_cgroup "$AT/oom.json"
	client oom-event >"$AT/oom-event.out" &
	local waiter=$!
	run_ctr oom "$AT/oom.json"
	[ "${lines[0]}" = 67108864 ]
	[ "${lines[-1]}" = "exit 137" ]
	# the long-poll that was waiting gets the event
	wait "$waiter"
	[ "$(cat "$AT/oom-event.out")" = "oom oom" ]
	run client stats oom
	echo "$output"
	[[ "$output" == *$'\nmemory_max 67108864\n'* ]]
	[[ "$output" == *$'\nmemory_oom_kill 1\n'* ]]
	[[ "$output" =~ cpu_usage_usec\ [1-9] ]]
	client remove oom
}

@test "update lowers a running container's pids limit: the next fork fails" {
	write_spec "$AT/upd.json" '["sh","-c","read l; sleep 100 & echo first=$?; read l; sleep 100 & echo second=$?; read l"]' \
		'{"resources":{"pids":{"limit":10}}}'
	client create upd c1 "$AT/upd.json" --stdin
	client start upd
	client write upd "" $'1\n'
	run client stats upd
	echo "$output"
	[[ "$output" == *$'\npids_max 10\n'* ]]
	# sh and the first sleep: 2 pids; a limit of 2 leaves no room for another
	echo '{"pids":{"limit":2}}' >"$AT/upd-res.json"
	client update upd "$AT/upd-res.json"
	run client stats upd
	[[ "$output" == *$'\npids_max 2\n'* ]]
	client write upd "" $'2\n'
	client write upd "" $'3\n'
	run client output upd ""
	echo "$output"
	[[ "$output" == *"first=0"* ]]
	[[ "$output" == *"can't fork"* ]]
	[[ "$output" != *"second=0"* ]]
	echo '{"cpu":{"realtimePeriod":5}}' >"$AT/upd-bad.json"
	run client update upd "$AT/upd-bad.json"
	[[ "$output" == *"linux.resources.cpu.realtimeRuntime: not in cgroup v2"* ]]
	run client update nosuch "$AT/upd-res.json"
	[[ "$output" == *"update nosuch: container not found"* ]]
	client signal upd "" 9 --all || true
	client remove upd
}

@test "pids.max 5: the sixth process cannot fork" {
	write_spec "$AT/pids.json" '["sh","-c","cat /sys/fs/cgroup/pids.max; for i in 1 2 3 4; do sleep 100 & done; sleep 100 & echo rc=$?; sleep 100 && echo forked"]' \
		'{"resources":{"pids":{"limit":5}}}'
	with_cgroup "$AT/pids.json"
	run_ctr pids "$AT/pids.json"
	[ "${lines[0]}" = 5 ]
	[[ "$output" == *"can't fork"* || "$output" == *"Resource temporarily unavailable"* ]]
	[[ "$output" != *forked* ]]
	client signal pids "" 9 --all || true
	client remove pids
}

@test "cpu, cpuset and io settings land in the container's cgroup, which is its cgroup root" {
	write_spec "$AT/cpu.json" '["sh","-c","cat /proc/self/cgroup /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight /sys/fs/cgroup/cpuset.cpus"]' \
		'{"resources":{"cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0"},"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]}}'
	with_cgroup "$AT/cpu.json"
	run_ctr cpu "$AT/cpu.json"
	[ "${lines[0]}" = "0::/" ]
	[ "${lines[1]}" = "50000 100000" ]
	[ "${lines[2]}" = 39 ] # runc: 1 + (1024 - 2) * 9999 / 262142
	[ "${lines[3]}" = 0 ]
	[ "${lines[-1]}" = "exit 0" ]
	client remove cpu
	write_spec "$AT/bad.json" '["true"]' '{"resources":{"cpu":{"realtimeRuntime":1}}}'
	run client create bad c1 "$AT/bad.json"
	[[ "$output" == *"linux.resources.cpu.realtimeRuntime: not in cgroup v2"* ]]
	write_spec "$AT/bad.json" '["true"]' '{"resources":{"hugepageLimits":[{"pageSize":"1GB","limit":0}]}}'
	run client create bad c1 "$AT/bad.json"
	echo "$output"
	[[ "$output" == *"linux.resources.hugepageLimits: not supported by the guest kernel (no hugetlb.1GB.max)"* ]]
}

@test "sysctl, oomScoreAdj, domainname and linux.devices apply; other sysctls are refused" {
	write_spec "$AT/sys.json" '["sh","-c","cat /proc/sys/kernel/shmmni /proc/self/oom_score_adj /proc/sys/kernel/domainname; ls -l /dev/mynull; echo x >/dev/mynull && echo written"]' \
		'{"sysctl":{"kernel.shmmni":"1234"},"devices":[{"path":"/dev/mynull","type":"c","major":1,"minor":3,"fileMode":438}]}' \
		'"oomScoreAdj":123'
	sed -i 's/"hostname":"ctr"/"hostname":"ctr","domainname":"example.org"/' "$AT/sys.json"
	run_ctr sys "$AT/sys.json"
	[ "${lines[0]}" = 1234 ]
	[ "${lines[1]}" = 123 ]
	[ "${lines[2]}" = example.org ]
	[[ "${lines[3]}" =~ ^crw-rw-rw-.*1,\ +3.*/dev/mynull$ ]]
	[ "${lines[4]}" = written ]
	[ "${lines[-1]}" = "exit 0" ]
	client remove sys
	write_spec "$AT/bad.json" '["true"]' '{"sysctl":{"kernel.panic":"1"}}'
	run client create bad c1 "$AT/bad.json"
	[[ "$output" == *"linux.sysctl kernel.panic: not namespaced [EINVAL]"* ]]
	write_spec "$AT/bad.json" '["true"]' '{"uidMappings":[{"containerID":0,"hostID":1000,"size":1}]}'
	run client create bad c1 "$AT/bad.json"
	[[ "$output" == *"linux.uidMappings: needs a user namespace"* ]]
}

@test "with the default capability set CAP_NET_ADMIN is absent; an LSM profile only warns" {
	local caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'
	write_spec "$AT/caps.json" '["sh","-c","grep CapEff /proc/self/status"]' '{}' \
		"\"apparmorProfile\":\"docker-default\",\"capabilities\":{\"bounding\":$caps,\"effective\":$caps,\"permitted\":$caps}"
	run_ctr caps "$AT/caps.json"
	[[ "${lines[0]}" =~ ^CapEff:.([0-9a-f]{16})$ ]]
	local eff=$((16#${BASH_REMATCH[1]}))
	[ $((eff & (1 << 12))) -eq 0 ] # CAP_NET_ADMIN
	[ $((eff & (1 << 0))) -ne 0 ]  # CAP_CHOWN
	[ "${lines[-1]}" = "exit 0" ]
	grep -q "create caps: apparmorProfile, selinuxLabel and mountLabel are ignored" "$AT/console.log"
	client remove caps
}

@test "a container removed before start can be created again under its id" {
	write_spec "$AT/again.json" '["echo","again"]' '{"resources":{"pids":{"limit":3}}}'
	client create again c1 "$AT/again.json"
	client remove again
	run_ctr again "$AT/again.json"
	[ "${lines[0]}" = again ]
	[ "${lines[-1]}" = "exit 0" ]
	client remove again
}
