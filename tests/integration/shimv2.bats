#!/usr/bin/env bats
# containerd-shim-husk-v2 under a private containerd (own config, root, state and socket under
# $T; the shim found on containerd's PATH): `ctr run --runtime io.containerd.husk.v2` of a
# locally imported busybox image, each task in its own VM.

load helpers

SHIM=$HUSK_BUILD/bin/containerd-shim-husk-v2
IMAGE=docker.io/library/husk-busybox:latest

setup() {
	command -v containerd >/dev/null && command -v ctr >/dev/null ||
		skip "containerd and ctr are not installed (Debian: apt-get install containerd)"
	[ -x "$SHIM" ] || { echo "missing $SHIM (run: make all)" >&2; return 1; }
	husk_setup
	NS=husk-v2-$$-${BATS_TEST_NUMBER}
	PATH=$HUSK_BUILD/bin:$PATH containerd_start "$IMAGE"
}

teardown() {
	if [ -n "${CTD_PID:-}" ]; then
		pkill -KILL -f -- "containerd-shim-husk-v2 -namespace $NS " 2>/dev/null || true
		pkill -KILL -f -- "/run/husk-v2/$NS-" 2>/dev/null || true
		kill -KILL "$CTD_PID" 2>/dev/null || true
		grep -o -- "$T/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r umount -l
		rm -rf /run/husk-v2/"$NS"-*
		local c
		for c in c1 c2 c3 c4 c5 c6 c7 c8 c9 c10 c11 c12 c13 c14 c15 c16 c17 c18 c19 c20 c21 c22 c23 \
			c24 c25 c26 c27 c28 c29 c30 c31 c32 c33 c34 c35 c36 \
			c37 c38 c39 c40; do
			rm -f "$(shim_socket "$NS-$c")"
		done
	fi
	husk_teardown
}

# ctr_run ID ARGS...: ctr run --rm of the image with the husk runtime (and the ctr options in
# RUN_OPTS); $status, $T/out, $T/err
RUN_OPTS=()
ctr_run() {
	local id=$NS-$1
	shift
	status=0
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 --rm "${RUN_OPTS[@]}" \
		"$IMAGE" "$id" "$@" >"$T/out" 2>"$T/err" </dev/null 3>&- || status=$?
}

# The socket a shim of group $1 listens on: sha256(containerd address/namespace/group).
shim_socket() {
	echo "/run/containerd/s/$(printf '%s' "$T/ctd.sock/$NS/$1" | sha256sum | cut -d' ' -f1)"
}

# Nothing of task $1 is left: no shim, VM or helper process, state, mount, socket or container.
assert_v2_clean() {
	local id=$NS-$1 left i
	for i in $(seq 100); do
		pgrep -f -- "-namespace $NS -id $id " >/dev/null || break
		sleep 0.1
	done
	left=$(pgrep -af -- "-namespace $NS -id $id |/run/husk-v2/$id/" || true)
	[ -z "$left" ] || { echo "left behind: $left" >&2; return 1; }
	[ ! -e "/run/husk-v2/$id" ] || { echo "state left: $(ls -laR "/run/husk-v2/$id")" >&2; return 1; }
	[ ! -e "$(shim_socket "$id")" ] || { echo "socket left: $(shim_socket "$id")" >&2; return 1; }
	! grep -qE -- "$T/|/run/husk-v2/$id" /proc/self/mountinfo ||
		{ echo "mount left: $(grep -E -- "$T/|/run/husk-v2/$id" /proc/self/mountinfo)" >&2; return 1; }
	! "${CTR[@]}" containers ls -q | grep -qx -- "$id" || { echo "container left: $id" >&2; return 1; }
}

# wait_task ID STATUS: until `ctr task ls` shows task ID with STATUS (bounded)
wait_task() {
	local i
	for i in $(seq 600); do
		"${CTR[@]}" task ls | grep -qE "^$NS-$1 +[0-9]+ +$2" && return 0
		sleep 0.1
	done
	"${CTR[@]}" task ls >&2
	return 1
}

@test "shimv2: ctr run --rm prints hello from the guest kernel and exits 0; nothing left" {
	ctr_run c1 sh -c 'echo hello; uname -r'
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$T/out")" = hello ]
	# the guest's own kernel, not the host's
	[ "$(sed -n 2p "$T/out")" = "$(cat "$HUSK_BUILD/guest/kernel-version")" ]
	[ "$(sed -n 2p "$T/out")" != "$(uname -r)" ]
	assert_v2_clean c1
}

@test "shimv2: the host's network (ctr run --net-host) is refused with the reason; nothing left" {
	RUN_OPTS=(--net-host)
	ctr_run c24 true
	cat "$T/err"
	[ "$status" -ne 0 ]
	grep -F "linux.namespaces: no network namespace: a VM cannot share the host's network" "$T/err"
	assert_v2_clean c24
}

@test "shimv2: the exit code comes back, stdout and stderr stay separate" {
	ctr_run c2 sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ]
	[ "$(cat "$T/out")" = out ]
	[ "$(cat "$T/err")" = err ]
	assert_v2_clean c2
}

@test "shimv2: a long-running task: task ps, exec, pause, resume, metrics, kill, delete; the task pid is the VM's" {
	local id=$NS-c3 pid
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d "$IMAGE" "$id" \
		sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c3 RUNNING
	# the host process standing for the task is the VM's QEMU
	pid=$("${CTR[@]}" task ls | awk -v id="$id" '$1 == id { print $2 }')
	grep -q qemu "/proc/$pid/cmdline"
	run "${CTR[@]}" task exec --exec-id e1 "$id" sh -c 'echo in-guest; exit 5'
	[ "$status" -eq 5 ]
	[ "$output" = in-guest ]
	# guest pids from the agent's ListProcesses: a header and sleep
	run "${CTR[@]}" task ps "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -ge 2 ]
	# the freezer: PAUSED while frozen, RUNNING again after resume, events for both
	"${CTR[@]}" task pause "$id"
	"${CTR[@]}" task ls | grep -E "^$id +[0-9]+ +PAUSED"
	"${CTR[@]}" task resume "$id"
	"${CTR[@]}" task ls | grep -E "^$id +[0-9]+ +RUNNING"
	# Stats as cgroups v2 Metrics from the guest's container cgroup
	run "${CTR[@]}" task metrics "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *pids.current* ]]
	"${CTR[@]}" task kill -s KILL "$id"
	wait_task c3 STOPPED
	"${CTR[@]}" task delete "$id"
	"${CTR[@]}" containers delete "$id"
	assert_v2_clean c3
}

@test "shimv2: runtime options name the husk config (ConfigPath); a bad one fails the create" {
	write_config qemu='"/nonexistent/qemu"'
	mv "$CONFIG" "$T/bad.json"
	write_config
	status=0
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 \
		--runtime-config-path "$T/bad.json" --rm "$IMAGE" "$NS-c4" true \
		>"$T/out" 2>"$T/err" </dev/null 3>&- || status=$?
	cat "$T/err"
	[ "$status" -ne 0 ]
	grep -q /nonexistent/qemu "$T/err"
	"${CTR[@]}" containers delete "$NS-c4" 2>/dev/null || true
	assert_v2_clean c4
}

@test "shimv2: events reach containerd in order: create, start, exit, delete" {
	"${CTR[@]}" events >"$T/events" 2>&1 &
	local events_pid=$!
	ctr_run c5 true
	[ "$status" -eq 0 ]
	local i
	for i in $(seq 100); do
		grep -q "/tasks/delete" "$T/events" && break
		sleep 0.1
	done
	kill "$events_pid"
	cat "$T/events"
	grep "$NS-c5" "$T/events" | grep -oE '/tasks/[a-z-]+' | uniq >"$T/topics"
	[ "$(tr '\n' ' ' <"$T/topics")" = "/tasks/create /tasks/start /tasks/exit /tasks/delete " ]
	assert_v2_clean c5
}

@test "shimv2: a VM that dies: the task exits with 255, nothing hangs, delete cleans up" {
	local id=$NS-c6 pid
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d "$IMAGE" "$id" \
		sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c6 RUNNING
	pid=$("${CTR[@]}" task ls | awk -v id="$id" '$1 == id { print $2 }')
	grep -q qemu "/proc/$pid/cmdline"
	kill -KILL "$pid"
	wait_task c6 STOPPED
	run "${CTR[@]}" task delete "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	"${CTR[@]}" containers delete "$id"
	assert_v2_clean c6
}

@test "shimv2: file:// and binary:// log URIs get the task's output" {
	RUN_OPTS=(--log-uri "file://$T/c7.log")
	ctr_run c7 sh -c 'echo to-file; echo err-to-file >&2'
	[ "$status" -eq 0 ]
	grep -qx to-file "$T/c7.log"
	grep -qx err-to-file "$T/c7.log"
	assert_v2_clean c7
	# a logger: stdout on fd 3, stderr on fd 4, ready once fd 5 is closed
	cat >"$T/logger" <<'SH'
#!/bin/sh
echo "$CONTAINER_NAMESPACE/$CONTAINER_ID" >"$1.who"
exec 5>&-
cat <&3 >"$1.out" &
exec cat <&4 >"$1.err"
SH
	chmod +x "$T/logger"
	RUN_OPTS=(--log-uri "binary://$T/logger?$T/c8")
	ctr_run c8 sh -c 'echo to-logger; echo err-to-logger >&2'
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/c8.out")" = to-logger ]
	[ "$(cat "$T/c8.err")" = err-to-logger ]
	[ "$(cat "$T/c8.who")" = "$NS/$NS-c8" ]
	assert_v2_clean c8
}

@test "shimv2: a task past its memory limit is OOM-killed (137) and containerd gets /tasks/oom" {
	"${CTR[@]}" events >"$T/events" 2>&1 &
	local events_pid=$!
	RUN_OPTS=(--memory-limit 67108864)
	ctr_run c9 sh -c 'exec dd if=/dev/zero of=/dev/null bs=80M count=1'
	local i
	for i in $(seq 100); do
		grep -q "/tasks/oom" "$T/events" && break
		sleep 0.1
	done
	kill "$events_pid"
	cat "$T/err" "$T/events"
	[ "$status" -eq 137 ]
	grep "/tasks/oom" "$T/events" | grep -q "$NS-c9"
	assert_v2_clean c9
}

@test "shimv2: tasks of one group share a shim and a VM; the VM outlives the first task's delete" {
	local g=io.containerd.runc.v2.group=$NS-c10
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d --annotation "$g" \
		"$IMAGE" "$NS-c10" sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c10 RUNNING
	local boot
	boot=$("${CTR[@]}" task exec --exec-id b "$NS-c10" cat /proc/sys/kernel/random/boot_id)
	RUN_OPTS=(--annotation "$g")
	ctr_run c11 cat /proc/sys/kernel/random/boot_id
	cat "$T/err"
	[ "$status" -eq 0 ]
	# the second task ran in the first one's VM, and deleting it left that VM serving
	[ "$(cat "$T/out")" = "$boot" ]
	[ "$(pgrep -fc -- "-namespace $NS -id ")" -eq 1 ]
	run "${CTR[@]}" task exec --exec-id b2 "$NS-c10" cat /proc/sys/kernel/random/boot_id
	[ "$output" = "$boot" ]
	"${CTR[@]}" task kill -s KILL "$NS-c10"
	wait_task c10 STOPPED
	"${CTR[@]}" task delete "$NS-c10"
	"${CTR[@]}" containers delete "$NS-c10"
	assert_v2_clean c10
	assert_v2_clean c11
}

@test "shimv2: the delete action answers a DeleteResponse and is idempotent without a shim" {
	local i
	for i in 1 2; do
		"$SHIM" -namespace "$NS" -address "$T/ctd.sock" -id "$NS-gone" -bundle "$T/nonexistent" \
			delete >"$T/resp" 2>"$T/err"
		# exit_status (field 2) 137, exited_at (field 3) set, no pid
		[ "$(od -An -tx1 -N4 "$T/resp" | tr -d ' ')" = 1089011a ]
	done
}

@test "shimv2: a group's second task gets a bind mount made after the VM booted; ro holds" {
	local g=io.containerd.runc.v2.group=$NS-c12
	mkdir -p "$T/src"
	echo post-boot >"$T/src/f"
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d --annotation "$g" \
		"$IMAGE" "$NS-c12" sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c12 RUNNING
	RUN_OPTS=(--annotation "$g" --mount "type=bind,src=$T/src,dst=/data,options=rbind:ro")
	ctr_run c13 sh -c 'cat /data/f; touch /data/x 2>/dev/null || echo ro'
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "post-boot
ro" ]
	[ ! -e "$T/src/x" ]
	"${CTR[@]}" task kill -s KILL "$NS-c12"
	wait_task c12 STOPPED
	"${CTR[@]}" task delete "$NS-c12"
	"${CTR[@]}" containers delete "$NS-c12"
	assert_v2_clean c12
	assert_v2_clean c13
	! grep -F -- "$T/src" /proc/[0-9]*/mountinfo
}

@test "shimv2: a mount the host makes under an rslave bind after the start reaches the running task" {
	mkdir -p "$T/src/late"
	# the source is a shared mount, as kubelet makes its volume directories and systemd the host's /
	mount --bind "$T/src" "$T/src"
	mount --make-shared "$T/src"
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d \
		--mount "type=bind,src=$T/src,dst=/data,options=rbind:rslave" "$IMAGE" "$NS-c23" \
		sh -c 'touch /data/ready; i=0; while [ ! -e /data/late/f ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; cat /data/late/f >/data/seen' \
		</dev/null >/dev/null 3>&-
	local i
	for i in $(seq 1200); do [ -e "$T/src/ready" ] && break; sleep 0.1; done
	[ -e "$T/src/ready" ]
	mount -t tmpfs tmpfs "$T/src/late"
	echo late-mount >"$T/src/late/f"
	wait_task c23 STOPPED
	umount "$T/src/late"
	[ "$(cat "$T/src/seen")" = late-mount ]
	umount "$T/src"
	"${CTR[@]}" task delete "$NS-c23"
	"${CTR[@]}" containers delete "$NS-c23"
	assert_v2_clean c23
	! grep -F -- "$T/src" /proc/[0-9]*/mountinfo
}

@test "shimv2: a group's task given the pod's namespace paths shares the first task's uts, ipc and net" {
	local g=io.containerd.runc.v2.group=$NS-c14 show='hostname; for n in uts ipc net mnt; do readlink /proc/self/ns/$n; done'
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d --annotation "$g" \
		--cap-add CAP_SYS_ADMIN "$IMAGE" "$NS-c14" sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c14 RUNNING
	local pid
	pid=$("${CTR[@]}" task ls | awk -v id="$NS-c14" '$1 == id { print $2 }')
	local pod
	pod=$("${CTR[@]}" task exec --exec-id s "$NS-c14" sh -c "hostname podhost; $show")
	# as CRI writes them: the paths name the pod's task pid (its QEMU)
	RUN_OPTS=(--annotation "$g" --with-ns "uts:/proc/$pid/ns/uts" --with-ns "ipc:/proc/$pid/ns/ipc"
		--with-ns "network:/proc/$pid/ns/net")
	ctr_run c15 sh -c "$show"
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	mapfile -t mine <"$T/out"
	mapfile -t theirs <<<"$pod"
	[ "${theirs[0]}" = podhost ]
	[ "${mine[0]}" = podhost ]
	[ "${mine[1]}" = "${theirs[1]}" ]
	[ "${mine[2]}" = "${theirs[2]}" ]
	[ "${mine[3]}" = "${theirs[3]}" ]
	[ "${mine[4]}" != "${theirs[4]}" ] # its own mount namespace
	"${CTR[@]}" task kill -s KILL "$NS-c14"
	wait_task c14 STOPPED
	"${CTR[@]}" task delete "$NS-c14"
	"${CTR[@]}" containers delete "$NS-c14"
	assert_v2_clean c14
	assert_v2_clean c15
}

@test "shimv2: stdin reaches the task" {
	# ctr 1.6 never sends CloseIO (stdin's EOF), so the task reads one line and exits
	status=0
	printf 'line1\n' | "${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 \
		--rm "$IMAGE" "$NS-c16" sh -c 'read l; echo got:$l' >"$T/out" 2>"$T/err" 3>&- ||
		status=$?
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = got:line1 ]
	assert_v2_clean c16
}

@test "shimv2: malformed requests, unknown ids and oversized frames get an error; the shim serves on" {
	local id=$NS-c17
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d "$IMAGE" "$id" \
		sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c17 RUNNING
	local tid
	tid=$(printf '%s' "$id" | od -An -tx1 | tr -d ' \n')
	# State of bytes that are not protobuf, of an unknown id and of an id that is not one;
	# Checkpoint; a frame past the limit; then State of the task still works
	"$BATS_TEST_DIRNAME/task_ttrpc.py" "$(shim_socket "$id")" State:ffffff:3 \
		"State:0a066e6f73756368:5" "State:0a092e2e2f626164206964:3" \
		"Checkpoint:0a$(printf '%02x' ${#id})$tid:12" oversize:8 \
		"State:0a$(printf '%02x' ${#id})$tid:0"
	"${CTR[@]}" task ls | grep -E "^$id +[0-9]+ +RUNNING"
	"${CTR[@]}" task kill -s KILL "$id"
	wait_task c17 STOPPED
	"${CTR[@]}" task delete "$id"
	"${CTR[@]}" containers delete "$id"
	assert_v2_clean c17
}

@test "shimv2: a shim killed outright: its VM goes with it and the delete action clears the rest" {
	local id=$NS-c18 shim
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d "$IMAGE" "$id" \
		sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c18 RUNNING
	shim=$(pgrep -f -- "-namespace $NS -id $id ")
	kill -KILL "$shim"
	# containerd notices the closed connection, runs `delete` and then drops the task
	local i
	for i in $(seq 300); do
		"${CTR[@]}" task ls | grep -q -- "^$id " || break
		sleep 0.1
	done
	! "${CTR[@]}" task ls | grep -- "^$id "
	"${CTR[@]}" containers delete "$id"
	# containerd drops the task only once the delete action has returned: the state is gone
	assert_v2_clean c18
}

@test "shimv2: ctr run -t and task exec -t: a pty of the terminal's size that follows resizes" {
	# ctr leaves OPOST on in its raw mode: lines end in \r\r\n (so they do with runc)
	run python3 "$BATS_TEST_DIRNAME/tty_driver.py" spawn "$T/tty.log" \
		'expect:/dev/pts/[0-9]+\r+\n24 80\r+\n' 'resize:30x100' 'send:stty size\r' \
		'expect:30 100' 'send:exit 5\r' -- \
		"${CTR[@]}" run -t --snapshotter native --runtime io.containerd.husk.v2 --rm "$IMAGE" \
		"$NS-c19" sh -c 'tty; stty size; exec sh'
	echo "$output"
	[ "$output" = $'exit=5\nmode=restored' ]
	assert_v2_clean c19
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d "$IMAGE" "$NS-c20" \
		sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c20 RUNNING
	run python3 "$BATS_TEST_DIRNAME/tty_driver.py" spawn "$T/tty.log" \
		'expect:/dev/pts/[0-9]+\r+\n24 80\r+\n' 'send:hi\r' 'expect:got:hi' -- \
		"${CTR[@]}" task exec -t --exec-id e1 "$NS-c20" sh -c 'tty; stty size; read l; echo got:$l; exit 4'
	echo "$output"
	[ "$output" = $'exit=4\nmode=restored' ]
	"${CTR[@]}" task kill -s KILL "$NS-c20"
	wait_task c20 STOPPED
	"${CTR[@]}" task delete "$NS-c20"
	"${CTR[@]}" containers delete "$NS-c20"
	assert_v2_clean c20
}

@test "shimv2: debug-console reaches a pod created with io.husk.debug_console=true by its sandbox id and by a task's id; one without it is refused" {
	local g=io.containerd.runc.v2.group=$NS-c21
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d --annotation "$g" \
		--annotation io.husk.debug_console=true "$IMAGE" "$NS-c21" sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c21 RUNNING
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d --annotation "$g" \
		"$IMAGE" "$NS-c22" sleep 1001 </dev/null >/dev/null 3>&-
	wait_task c22 RUNNING
	# by the pod (the group's sandbox id) and by its second task: one guest, both rootfs
	run "$HUSK" debug-console "$NS-c21" <<<'cat /proc/1/cmdline; echo; ls /run/husk/shared; exit 4'
	echo "$output"
	[ "$status" -eq 4 ]
	[ "${lines[0]}" = /init ]
	[[ "$output" == *"$NS-c21"* ]] && [[ "$output" == *"$NS-c22"* ]]
	run "$HUSK" debug-console "$NS-c22" <<<'ps -o args | grep -x "sleep 100[01]" | sort'
	[ "$output" = $'sleep 1000\nsleep 1001' ]
	local t
	for t in c22 c21; do
		"${CTR[@]}" task kill -s KILL "$NS-$t"
		wait_task "$t" STOPPED
		"${CTR[@]}" task delete "$NS-$t"
		"${CTR[@]}" containers delete "$NS-$t"
	done
	assert_v2_clean c21
	assert_v2_clean c22

	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d "$IMAGE" "$NS-c21" \
		sleep 1000 </dev/null >/dev/null 3>&-
	wait_task c21 RUNNING
	run "$HUSK" debug-console "$NS-c21" </dev/null
	[ "$status" -eq 255 ]
	[[ "$output" == "husk: debug-console $NS-c21: the debug console is off for this sandbox"* ]]
	"${CTR[@]}" task kill -s KILL "$NS-c21"
	wait_task c21 STOPPED
	"${CTR[@]}" task delete "$NS-c21"
	"${CTR[@]}" containers delete "$NS-c21"
	assert_v2_clean c21
}

@test "shimv2: the guest agent's warnings reach containerd's log, naming the sandbox" {
	RUN_OPTS=(--apparmor-profile husk-test)
	ctr_run c23 true
	cat "$T/err"
	[ "$status" -eq 0 ]
	grep -F "warn: guest $NS-c23: husk-agent: create $NS-c23: apparmorProfile, selinuxLabel and mountLabel are ignored" \
		"$T/containerd.log"
	assert_v2_clean c23
}


# v2_fault WHICH STATE C: task C brought to STATE (running, paused, exec), then WHICH killed (or,
# for guest, the guest kernel crashed from the debug console): the task stops with 255, an exec
# in flight fails, delete leaves nothing, the bystander answers.
v2_fault() {
	local which=$1 state=$2 id=$NS-$3 exec_pid="" line
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d \
		--annotation io.husk.debug_console=true "$IMAGE" "$id" \
		sleep 100000 </dev/null >/dev/null 3>&-
	wait_task "$3" RUNNING
	[ "$state" != paused ] || { "${CTR[@]}" task pause "$id" && wait_task "$3" PAUSED; }
	if [ "$state" = exec ]; then
		mkfifo "$T/exec.$3"
		"${CTR[@]}" task exec --exec-id e1 "$id" sh -c 'echo ready; exec sleep 100000' \
			>"$T/exec.$3" 2>"$T/exec-err.$3" </dev/null 3>&- &
		exec_pid=$!
		exec 7<"$T/exec.$3"
		read -r -t 60 -u 7 line
		[ "$line" = ready ]
	fi
	break_sandbox "$which" "/run/husk-v2/$id" "$id"
	wait_task "$3" STOPPED
	if [ -n "$exec_pid" ]; then
		status=0
		wait "$exec_pid" || status=$?
		exec 7<&-
		[ "$status" -ne 0 ]
	fi
	"${CTR[@]}" task delete "$id" 2>"$T/delete.$3"
	grep -q "exit code 255" "$T/delete.$3"
	"${CTR[@]}" containers delete "$id"
	assert_v2_clean "$3"
	[ "$("${CTR[@]}" task exec --exec-id "alive-$3" "$NS-c24" echo alive </dev/null 3>&-)" = alive ]
}

@test "shimv2: virtiofsd or husk-vsockd killed with the task running, paused or in an exec, or the guest kernel crashing: the task stops with 255, the exec fails, delete leaves nothing, a task in another VM runs on" {
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 -d "$IMAGE" "$NS-c24" \
		sleep 100000 </dev/null >/dev/null 3>&-
	wait_task c24 RUNNING
	local c=25 which state
	for which in virtiofsd vsockd; do
		for state in running paused exec; do
			echo "# $which killed, $state" >&3
			v2_fault "$which" "$state" "c$c"
			c=$((c + 1))
		done
	done
	for state in running exec; do
		echo "# the guest kernel crashed, $state" >&3
		v2_fault guest "$state" "c$c"
		c=$((c + 1))
	done
	"${CTR[@]}" task kill -s KILL "$NS-c24"
	wait_task c24 STOPPED
	"${CTR[@]}" task delete "$NS-c24"
	"${CTR[@]}" containers delete "$NS-c24"
	assert_v2_clean c24
}

# v2_hostile MODE C PATTERN: ctr run of task C with tests/guest/hostile.h's guest in MODE
# (agent calls time out after 5 s): it fails with PATTERN in its error, the shim's peak
# resident memory stays under 64 MiB, nothing is left.
v2_hostile() {
	local id=$NS-$2 pid hwm
	write_config initrd="\"$(hostile_initrd "$1")\"" timeouts='{"boot_ms": 20000, "agent_call_ms": 5000}'
	"${CTR[@]}" run --snapshotter native --runtime io.containerd.husk.v2 \
		--runtime-config-path "$CONFIG" --rm "$IMAGE" "$id" true \
		>"$T/out" 2>"$T/err" </dev/null 3>&- &
	pid=$!
	hwm=$("$BATS_TEST_DIRNAME/peak-rss" "$pid" --match "-namespace $NS -id $id ")
	status=0
	wait "$pid" || status=$?
	echo "# $1: ctr status $status, the shim's peak $hwm KiB: $(cat "$T/err")" >&3
	[ "$status" -ne 0 ]
	grep -q -- "$3" "$T/err"
	[ "$hwm" -gt 0 ] && [ "$hwm" -lt $((64 * 1024)) ]
	"${CTR[@]}" containers delete "$id" 2>/dev/null || true
	assert_v2_clean "$2"
}

@test "shimv2: a hostile guest (silent, a 4 GiB frame, 4 MiB of empty fields, a flood): the create fails with the cause, the shim stays under 64 MiB, nothing left" {
	v2_hostile silent c37 "Health: timed out after 5000 ms"
	v2_hostile huge c38 "Health: response exceeds the ttrpc message size limit"
	v2_hostile amplify c39 "Health: response envelope needs more than 16777216 bytes of memory"
	v2_hostile flood c40 "Health: timed out after 5000 ms"
}
