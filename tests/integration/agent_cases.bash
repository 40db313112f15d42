# Test bodies shared by agent.bats (agent as the guest's PID 1) and agent-unix.bats
# (agent on the host with --listen-unix); they need agent_helpers.bash and a running agent.

# a container runs in its namespaces with the spec's mounts, hostname and exit code
case_namespaces() {
	write_spec "$AT/s1.json" '["sh","-c","echo out; echo err >&2; hostname; ls /dev | tr \"\\n\" \" \"; echo; grep NSpid /proc/self/status; grep -c \" /sys sysfs ro\" /proc/mounts; exit 3"]'
	run client run ns1 c1 "$AT/s1.json"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"out"* ]]
	[[ "$output" == *"err"* ]]
	[[ "$output" == *$'\nctr\n'* ]]
	[[ "$output" == *"full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"* ]]
	[[ "$output" =~ NSpid:.[0-9]+.[0-9]+ ]]
	[[ "$output" == *$'\n1\n'* ]]
	[ "${lines[-1]}" = "exit 3" ]
	client remove ns1
}

# stdin reaches the init, exec joins its namespaces, SIGKILL gives 137
case_stdin_exec_signal() {
	write_spec "$AT/s2.json" '["sh","-c","read l; echo got:$l; exec sleep 1000"]'
	echo '{"args":["sh","-c","echo exec:$(hostname):$(id -u); cat /proc/1/comm"],"env":["PATH=/bin"],"cwd":"/"}' >"$AT/p1.json"
	client create io c1 "$AT/s2.json" --stdin
	client start io
	run client write io "" $'hello\n'
	[ "$output" = "written 6" ]
	run client exec io e1 "$AT/p1.json"
	[[ "$output" =~ ^pid\ [0-9]+$ ]]
	run client output io e1
	echo "$output"
	[ "${lines[0]}" = "exec:ctr:0" ]
	[ "${lines[1]}" = sleep ] # PID 1 of the container's pid namespace
	[ "${lines[2]}" = "exit 0" ]
	client signal io "" 9
	run client output io ""
	echo "$output"
	[ "${lines[0]}" = "got:hello" ]
	[ "${lines[1]}" = "exit 137" ]
	client remove io
}

# errors name the container and the cause
case_errors() {
	write_spec "$AT/s3.json" '["sleep","1000"]'
	client create dup c1 "$AT/s3.json"
	run client create dup c1 "$AT/s3.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"create dup: container already exists [EEXIST]"* ]]
	run client remove dup
	[ "$status" -eq 0 ]
	run client start nosuch
	[[ "$output" == *"start nosuch: container not found [ENOENT]"* ]]
	run client create bad ../c1 "$AT/s3.json"
	[[ "$output" == *"invalid rootfs tag"*"[EINVAL]"* ]]
	run client create bad missing "$AT/s3.json"
	[[ "$output" == *"create bad: rootfs "*"/missing: No such file or directory"* ]]
	echo '{"process":{"args":["true"]},"mounts":[{"destination":"/etc/hosts","type":"bind","source":"/etc/hosts","options":["rbind"]}]}' >"$AT/s4.json"
	run client create bad c1 "$AT/s4.json"
	[[ "$output" == *"mount /etc/hosts: bind mount without a shared source [EINVAL]"* ]]
	write_spec "$AT/s5.json" '["/bin/nonexistent"]'
	client create noexec c1 "$AT/s5.json"
	run client start noexec
	[[ "$output" == *"start noexec: exec /bin/nonexistent: No such file or directory"* ]]
	run client wait noexec
	[ "$output" = "exit 127" ]
	client remove noexec
}

# SignalProcess --all ends every process of the container; the status is 128+N
case_kill_all() {
	write_spec "$AT/s6.json" '["sh","-c","trap \"\" TERM; sleep 1000 & sleep 1000 & wait"]'
	client create all c1 "$AT/s6.json"
	client start all
	client signal all "" 9 --all
	run client wait all
	[ "$output" = "exit 137" ]
	client remove all
}

# output far beyond the pipe buffer arrives complete and in order through the long-poll reads
case_bulk_output() {
	write_spec "$AT/s8.json" '["sh","-c","seq 1 200000; seq 1 50000 >&2"]'
	client run bulk c1 "$AT/s8.json" >"$AT/bulk.out" 2>"$AT/bulk.err"
	[[ "$(head -n 1 "$AT/bulk.out")" =~ ^pid\ [0-9]+$ ]]
	[ "$(sed -n '2,200001p' "$AT/bulk.out" | md5sum)" = "$(seq 1 200000 | md5sum)" ]
	[ "$(tail -n 1 "$AT/bulk.out")" = "exit 0" ]
	[ "$(md5sum <"$AT/bulk.err")" = "$(seq 1 50000 | md5sum)" ]
	client remove bulk
}

# a host that hangs up with reads pending leaves the agent serving, the process untouched
case_host_gone_mid_read() {
	write_spec "$AT/s9.json" '["sh","-c","read l; echo late:$l"]'
	client create gone c1 "$AT/s9.json" --stdin
	client start gone
	client abandon gone ""
	client abandon gone ""
	client write gone "" $'x\n'
	run client output gone ""
	echo "$output"
	[ "${lines[0]}" = "late:x" ]
	[ "${lines[1]}" = "exit 0" ]
	client remove gone
}

# a container set up later holds no fd of an earlier one: closing stdin still ends its cat
case_stdin_eof_beside_created() {
	write_spec "$AT/s10.json" '["cat"]'
	write_spec "$AT/s11.json" '["true"]'
	client create cat c1 "$AT/s10.json" --stdin
	client start cat
	client create idle c1 "$AT/s11.json"
	client write cat "" $'through\n'
	client close-stdin cat ""
	run client output cat ""
	echo "$output"
	[ "${lines[0]}" = "through" ]
	[ "${lines[1]}" = "exit 0" ]
	client remove cat
	client remove idle
}

# process.rlimits, user (uid, gid, additionalGids, umask) and cwd apply to the container's process
case_process_settings() {
	cat >"$AT/s12.json" <<-'JSON'
	{"process":{"args":["sh","-c","echo $(ulimit -n) $(ulimit -Hn) $(umask) $(id -u):$(id -g):$(id -G) $PWD"],
	 "env":["PATH=/bin"],"cwd":"/work/dir",
	 "user":{"uid":1000,"gid":1001,"additionalGids":[5,7],"umask":63},
	 "rlimits":[{"type":"RLIMIT_NOFILE","soft":123,"hard":456}]},
	 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}]}
	JSON
	run client run settings c1 "$AT/s12.json"
	echo "$output"
	[ "${lines[1]}" = "123 456 0077 1000:1001:1001 5 7 /work/dir" ]
	[ "${lines[2]}" = "exit 0" ]
	client remove settings
}

# execs started at once, exiting at once: each reports its own pid and status
case_concurrent_execs() {
	local i pids=
	write_spec "$AT/s13.json" '["sleep","1000"]'
	client create many c1 "$AT/s13.json"
	client start many
	for i in 1 2 3 4 5 6 7 8; do
		echo "{\"args\":[\"sh\",\"-c\",\"echo e$i; exit $i\"],\"env\":[\"PATH=/bin\"]}" >"$AT/px$i.json"
		client exec many "e$i" "$AT/px$i.json" >"$AT/exec$i.out" &
		pids="$pids $!"
	done
	for i in $pids; do
		wait "$i"
	done
	for i in 1 2 3 4 5 6 7 8; do
		[[ "$(cat "$AT/exec$i.out")" =~ ^pid\ [0-9]+$ ]]
		run client output many "e$i"
		echo "$output"
		[ "${lines[0]}" = "e$i" ]
		[ "${lines[1]}" = "exit $i" ]
	done
	client signal many "" 9
	client wait many
	client remove many
}

# linux.maskedPaths hide files and directories, linux.readonlyPaths are read-only, missing ones skipped
case_masked_paths() {
	cat >"$AT/s14.json" <<-'JSON'
	{"process":{"args":["sh","-c","wc -c </proc/cmdline; ls /proc/sys/fs | wc -l; grep -c ' /proc/sys proc ro,' /proc/mounts"],
	 "env":["PATH=/bin"]},
	 "linux":{"maskedPaths":["/proc/cmdline","/proc/sys/fs","/proc/nonexistent"],"readonlyPaths":["/proc/sys"]},
	 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
	  {"destination":"/dev","type":"tmpfs","source":"tmpfs"}]}
	JSON
	run client run masked c1 "$AT/s14.json"
	echo "$output"
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 1 ]
	[ "${lines[4]}" = "exit 0" ]
	client remove masked
}

# process.capabilities replace the process's sets across the uid change; after exec (no file
# capabilities, non-root) permitted and effective are what the ambient set carries over
case_capabilities() {
	cat >"$AT/s15.json" <<-'JSON'
	{"process":{"args":["sh","-c","grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status | tr -d '\\t' | tr '\\n' ' '"],
	 "env":["PATH=/bin"],"user":{"uid":1000,"gid":1000},
	 "capabilities":{"bounding":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"],
	  "effective":["CAP_KILL"],"permitted":["CAP_KILL","CAP_NET_BIND_SERVICE"],
	  "inheritable":["CAP_NET_BIND_SERVICE"],"ambient":["CAP_NET_BIND_SERVICE"]}},
	 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}]}
	JSON
	run client run caps c1 "$AT/s15.json"
	echo "$output"
	[ "${lines[1]}" = "CapInh:0000000000000400 CapPrm:0000000000000400 CapEff:0000000000000400 CapBnd:0000000000000421 CapAmb:0000000000000400 exit 0" ]
	client remove caps
}

# wait_file PATH: bounded wait for a file a container process creates
wait_file() {
	local i
	for i in $(seq 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# a terminal process gets a pty of the container's devpts sized by consoleSize; ResizePty
# reaches it; stderr ends at once; CloseStdin is EOF for an exec on a pty
case_terminal() {
	rm -f "$AT/shared/c1/tty-ready"
	write_spec "$AT/t1.json" '["sh","-c","tty; stty size; : >/tty-ready; read l; stty size; echo got:$l; exit 5"]' \
		'{}' '"terminal":true,"consoleSize":{"height":24,"width":100}'
	client create tty1 c1 "$AT/t1.json" --stdin
	client start tty1
	wait_file "$AT/shared/c1/tty-ready"
	client resize tty1 "" 120 40
	client write tty1 "" $'hi\n'
	run client output tty1 ""
	output=${output//$'\r'/}
	echo "$output"
	[ "$output" = $'/dev/pts/0\n24 100\nhi\n40 120\ngot:hi\nexit 5' ]
	echo '{"args":["sh","-c","cat; echo done"],"env":["PATH=/bin"],"cwd":"/","terminal":true}' >"$AT/tp.json"
	client exec tty1 e1 "$AT/tp.json" --stdin 2>&1 | grep -q "container is not running"
	client remove tty1
	write_spec "$AT/t2.json" '["sleep","1000"]'
	client create tty2 c1 "$AT/t2.json"
	client start tty2
	client exec tty2 e1 "$AT/tp.json" --stdin
	client write tty2 e1 $'abc\n'
	client close-stdin tty2 e1
	run client output tty2 e1
	output=${output//$'\r'/}
	echo "$output"
	[ "$output" = $'abc\nabc\ndone\nexit 0' ] # the pty's echo, then cat's copy
	run client resize tty2 "" 80 25
	[[ "$output" == *"resize tty2: process has no terminal"* ]]
	client signal tty2 "" 9
	client wait tty2
	client remove tty2
}

# a container joins another's uts, ipc, net and pid namespaces by /proc/<init>/ns/<type>,
# keeping its own mounts; SignalProcess --all of it leaves the other alone
case_join_namespaces() {
	local show='hostname; for n in uts ipc net pid mnt; do readlink /proc/self/ns/$n; done'
	write_spec "$AT/sb.json" "[\"sh\",\"-c\",\"$show; read l\"]"
	sed -i 's/"hostname":"ctr"/"hostname":"sandbox1"/' "$AT/sb.json"
	client create sb c1 "$AT/sb.json" --stdin
	run client start sb
	[[ "$output" =~ ^pid\ ([0-9]+)$ ]]
	local pid=${BASH_REMATCH[1]}
	local joins="\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"uts\",\"path\":\"/proc/$pid/ns/uts\"},
	 {\"type\":\"ipc\",\"path\":\"/proc/$pid/ns/ipc\"},{\"type\":\"network\",\"path\":\"/proc/$pid/ns/net\"},
	 {\"type\":\"pid\",\"path\":\"/proc/$pid/ns/pid\"}]"
	write_spec "$AT/j.json" "[\"sh\",\"-c\",\"$show; echo \$\$\"]" "{$joins}"
	# a pod container does not set the hostname of the namespace it shares
	sed -i 's/"hostname":"ctr",//' "$AT/j.json"
	run client run j c1 "$AT/j.json"
	echo "$output"
	local joined=("${lines[@]:1}")
	[ "${joined[-1]}" = "exit 0" ]
	# SignalProcess --all of a container in the sandbox's pid namespace ends its own processes
	# (its cgroup's), not the sandbox's
	write_spec "$AT/k.json" '["sh","-c","sleep 1000 & wait"]' "{$joins}"
	sed -i 's/"hostname":"ctr",//' "$AT/k.json"
	client create k c1 "$AT/k.json"
	client start k
	client signal k "" 9 --all
	run client wait k
	[ "$output" = "exit 137" ]
	client remove k
	client write sb "" $'go\n'
	run client output sb ""
	echo "$output"
	[ "${lines[0]}" = sandbox1 ]
	[ "${lines[-1]}" = "exit 0" ] # the sandbox lived on
	[ "${joined[0]}" = sandbox1 ]
	for i in 1 2 3 4; do [ "${joined[$i]}" = "${lines[$i]}" ]; done
	[ "${joined[5]}" != "${lines[5]}" ] # its own mount namespace
	[ "${joined[6]}" -gt 1 ] # the sandbox's init is pid 1 of the shared pid namespace
	client remove j
	client remove sb
}

# a WriteStdin that a full stdin cannot take is answered once the process reads, not with 0
case_stdin_full() {
	rm -f "$AT/shared/c1/go"
	write_spec "$AT/f1.json" '["sh","-c","while [ ! -e /go ]; do sleep 0.1; done; wc -c"]'
	client create full c1 "$AT/f1.json" --stdin
	client start full
	local data n
	data=$(head -c 100000 /dev/zero | tr '\0' x)
	run client write full "" "$data"
	[ "$output" = "written 65536" ] # the pipe's buffer
	data=${data:65536}
	client write full "" "$data" >"$AT/held.out" &
	local writer=$!
	: >"$AT/shared/c1/go"
	wait "$writer"
	# held until the reader made room; it takes what fits then
	while n=$(sed -n 's/^written //p' "$AT/held.out") && [ "$n" -gt 0 ] && [ "$n" -lt "${#data}" ]; do
		data=${data:$n}
		client write full "" "$data" >"$AT/held.out"
	done
	[ "$n" -eq "${#data}" ]
	client close-stdin full ""
	run client output full ""
	[ "${lines[0]}" = 100000 ]
	[ "${lines[1]}" = "exit 0" ]
	client remove full
}
