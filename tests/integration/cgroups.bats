#!/usr/bin/env bats
# The sandbox's host cgroup (linux.cgroupsPath) on a real host: husk create/run put the owner,
# husk-vsockd, virtiofsd and QEMU in it on every hierarchy (real cgroups, real VMs under TCG),
# the limits read back from the host's files, and husk delete (or the end of husk run) removes
# exactly the directories husk made. Every cgroup a test makes is named after $CG (or $ID) and
# goes in teardown.

load helpers

setup() {
	husk_setup
	H=("$HUSK" --root "$ROOT")
	CG=husk-cg$$-${BATS_TEST_NUMBER}
}

# The directories a test may have left, deepest first, in every cgroup mount.
left_dirs() {
	local m
	for m in $(cg_mounts); do
		find "$m" -depth -type d \( -name "$CG" -o -name "$ID" \) -print 2>/dev/null |
			while read -r d; do find "$d" -depth -type d; done
	done
}

teardown() {
	local d pids
	pkill -KILL -f -- "$ROOT/" 2>/dev/null || true
	pids=$(for d in $(left_dirs); do cat "$d/cgroup.procs"; done 2>/dev/null | sort -u)
	if [ -n "$pids" ]; then
		kill -KILL $pids 2>/dev/null || true
		wait_exit 10 $pids || true
	fi
	for d in $(left_dirs); do rmdir "$d" 2>/dev/null || true; done
	husk_teardown
}

# Pure cgroup v2 (no v1 hierarchy mounted): the limits are in the cgroup2 files.
pure_v2() {
	awk '{ for (i = 1; $i != "-"; i++) ; if ($(i + 1) == "cgroup") exit 1 }' /proc/self/mountinfo
}

# bundle_cg CGROUPS_PATH_JSON RESOURCES_JSON [ARGS_JSON]: $T/bundle with linux.cgroupsPath
# (null: none) and linux.resources; the process by default sleeps until killed.
bundle_cg() {
	bundle_with "${3:-[\"sleep\", \"600\"]}"
	jq --argjson p "$1" --argjson r "$2" \
		'.linux.resources = $r | if $p == null then . else .linux.cgroupsPath = $p end' \
		"$T/bundle/config.json" >"$T/config.json"
	mv "$T/config.json" "$T/bundle/config.json"
}

# The sandbox's host pids: the owner (state.pid) and its helpers, found by the state dir.
sandbox_pids() {
	echo "$1"
	pgrep -f -- "$ROOT/$ID/"
}

# assert_sandbox_in REL OWNER: in every hierarchy, MOUNT/REL (REL from the hierarchy root or,
# with "own:" in front, from this shell's own cgroup there) holds the owner, QEMU, virtiofsd
# and husk-vsockd, and the owner's /proc/PID/cgroup names it.
assert_sandbox_in() {
	local rel=$1 owner=$2 m dir pid comms n=0
	comms=$(for pid in $(sandbox_pids "$owner"); do cat "/proc/$pid/comm"; done | sort -u | tr '\n' ' ')
	echo "sandbox processes: $comms"
	for c in qemu-system-x86 virtiofsd husk-vsockd husk; do
		[[ " $comms" == *" $c"* ]] || { echo "no $c among the sandbox's processes" >&2; return 1; }
	done
	for m in $(cg_mounts); do
		dir=$m/$rel
		if [[ $rel == own:* ]]; then
			dir=$m$(own_cgroup "$m")/${rel#own:}
		fi
		[ -d "$dir" ] || { echo "missing $dir" >&2; return 1; }
		for pid in $(sandbox_pids "$owner"); do
			grep -qx "$pid" "$dir/cgroup.procs" ||
				{ echo "pid $pid ($(cat /proc/$pid/comm)) not in $dir" >&2; return 1; }
		done
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
	[ "$(grep -c "" "/proc/$owner/cgroup")" -eq "$(grep -c ":/${rel#own:}\$" "/proc/$owner/cgroup")" ] ||
		[[ $rel == own:* ]]
}

# own_cgroup MOUNT: this shell's cgroup in the hierarchy mounted at MOUNT ("" for the root).
own_cgroup() {
	local m=$1 name line
	name=$(awk -v m="$m" '{ for (i = 1; $i != "-"; i++) ; if ($5 == m) print ($(i + 1) == "cgroup2" ? "" : $(i + 3)) }' /proc/self/mountinfo)
	while IFS=: read -r _ ctrls path; do
		if [ -z "$name" ] && [ -z "$ctrls" ]; then
			echo "${path%/}"
			return
		fi
		if [ -n "$ctrls" ] && [[ ",$name," == *",${ctrls%%,*},"* ]]; then
			echo "${path%/}"
			return
		fi
	done </proc/self/cgroup
}

owner_pid() {
	"${H[@]}" state "$ID" | jq -r .pid
}

@test "create: an absolute cgroupsPath holds every host process of the sandbox on each hierarchy, with the limits; delete removes what it made, not a parent that was there" {
	local pids_mnt
	pids_mnt=$(cg_mounts | grep -m1 -E '/pids$|/unified$|^/sys/fs/cgroup$')
	# a parent that exists before, in one hierarchy: it stays
	mkdir "$pids_mnt/$CG"
	bundle_cg "\"/$CG/made/c\"" \
		'{"pids":{"limit":100},"memory":{"limit":67108864},
		  "cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0","mems":"0"}}'
	"${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID" </dev/null >"$T/out" 2>"$T/err"
	owner=$(owner_pid)
	assert_sandbox_in "$CG/made/c" "$owner"
	grep -x "[0-9]*:pids:/$CG/made/c" "/proc/$owner/cgroup" || pure_v2
	# the VM has 64 + 128 MiB; the host allows 256 MiB more for QEMU and the helpers
	local mem=$(((64 + 128 + 256) * 1024 * 1024))
	if pure_v2; then
		d=/sys/fs/cgroup/$CG/made/c
		[ "$(cat $d/pids.max)" = 100 ]
		[ "$(cat $d/cpu.max)" = "50000 100000" ]
		[ "$(cat $d/cpu.weight)" = 20 ]
		[ "$(cat $d/cpuset.cpus)" = 0 ]
		[ "$(cat $d/memory.max)" = $mem ]
	else
		[ "$(cat /sys/fs/cgroup/pids/$CG/made/c/pids.max)" = 100 ]
		[ "$(cat /sys/fs/cgroup/cpu*/$CG/made/c/cpu.shares)" = 512 ]
		[ "$(cat /sys/fs/cgroup/cpu*/$CG/made/c/cpu.cfs_quota_us)" = 50000 ]
		[ "$(cat /sys/fs/cgroup/cpu*/$CG/made/c/cpu.cfs_period_us)" = 100000 ]
		[ "$(cat /sys/fs/cgroup/cpuset/$CG/made/c/cpuset.cpus)" = 0 ]
		[ "$(cat /sys/fs/cgroup/cpuset/$CG/made/c/cpuset.mems)" = 0 ]
		[ "$(cat /sys/fs/cgroup/memory/$CG/made/c/memory.limit_in_bytes)" = $mem ]
	fi
	local helpers
	helpers=$(sandbox_pids "$owner")
	"${H[@]}" delete --force "$ID"
	wait_exit 10 $helpers
	for m in $(cg_mounts); do
		if [ "$m" = "$pids_mnt" ]; then
			[ -d "$m/$CG" ] && [ ! -e "$m/$CG/made" ]
		else
			[ ! -e "$m/$CG" ] || { echo "left: $m/$CG" >&2; return 1; }
		fi
	done
	assert_clean
}

@test "run: without cgroupsPath the sandbox gets runc's default, the id under the caller's cgroup; gone when run ends" {
	bundle_cg null '{}' '["sh", "-c", "echo ready; read line"]'
	mkfifo "$T/in" "$T/out.fifo"
	"${H[@]}" run --config "$CONFIG" --bundle "$T/bundle" "$ID" <"$T/in" >"$T/out.fifo" 2>"$T/err" &
	run_pid=$!
	exec 8>"$T/in" 7<"$T/out.fifo"
	read -r -t 120 -u 7 line
	[ "$line" = ready ]
	# the foreground husk run is the owner
	[ "$(owner_pid)" = "$run_pid" ]
	assert_sandbox_in "own:$ID" "$run_pid"
	echo bye >&8
	wait "$run_pid"
	exec 8>&- 7<&-
	[ -z "$(left_dirs)" ] || { echo "left: $(left_dirs)" >&2; return 1; }
	# and husk run itself is back where it started
	assert_clean
}

@test "a pids limit below what the sandbox's host processes need binds the container in the guest; the host cgroup gets their need" {
	bundle_cg "\"/$CG\"" '{"pids":{"limit":5}}' '["sh", "-c", "echo ran"]'
	husk_run
	cat "$T/err" >&2
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = ran ]
	[ -z "$(left_dirs)" ]
	assert_clean
}

@test "a cgroupsPath that cannot be made is one error line naming the directory; the parent it made is removed" {
	# cgroup.procs is a file of the directory husk makes first
	bundle_cg "\"/$CG/cgroup.procs/c\"" '{}'
	husk_run
	assert_one_error_line "cgroup /sys/fs/cgroup/[^ ]*$CG/cgroup.procs: mkdir: Not a directory"
	[ -z "$(left_dirs)" ] || { echo "left: $(left_dirs)" >&2; return 1; }
	assert_clean
}

@test "a limit the host refuses is one error line naming the file, before the VM starts; nothing is left" {
	bundle_cg "\"/$CG/c\"" "{\"cpu\":{\"cpus\":\"$(nproc)\"}}"
	husk_run
	assert_one_error_line "cgroup /sys/fs/cgroup/[^ ]*$CG/c/cpuset.cpus: write \"$(nproc)\": (Invalid argument|Numerical result out of range)"
	! grep -q "qemu" "$T/err"
	[ -z "$(left_dirs)" ] || { echo "left: $(left_dirs)" >&2; return 1; }
	assert_clean
}

@test "the systemd driver's slice:prefix:name and --systemd-cgroup are refused on a host without systemd" {
	[ ! -d /run/systemd/system ] || skip "the host runs systemd"
	bundle_cg '"system.slice:husk:c1"' '{}'
	husk_run
	assert_one_error_line 'linux.cgroupsPath "system.slice:husk:c1": the systemd driver.s slice:prefix:name, but the host does not run systemd \(no /run/systemd/system\): give a cgroupfs path'
	bundle_cg "\"/$CG\"" '{}'
	run "$HUSK" --systemd-cgroup --root "$ROOT" run --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.cgroupsPath \"/$CG\": --systemd-cgroup, but the host does not run systemd"* ]]
	[ -z "$(left_dirs)" ]
	assert_clean
}
