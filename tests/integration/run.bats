#!/usr/bin/env bats
# husk run / check / --version end to end: real QEMU (TCG), virtiofsd, husk-vsockd, agent.

load helpers

setup() {
	husk_setup
}

teardown() {
	husk_teardown
}

# husk_run_bg [RUN FLAGS...]: husk run in the background, stdout on fd 7 (a FIFO; bats
# owns fd 3), stderr in $T/err.
# Sets HUSK_PID.
GLOBAL_OPTS=() # husk's options before the command (--debug)
husk_run_bg() {
	mkfifo "$T/out.fifo"
	"$HUSK" --root "$ROOT" "${GLOBAL_OPTS[@]}" run --config "$CONFIG" --bundle "$T/bundle" "$@" "$ID" \
		>"$T/out.fifo" 2>"$T/err" </dev/null &
	HUSK_PID=$!
	exec 7<"$T/out.fifo"
}

# Waits (bounded) for the container to print the line "ready".
wait_ready() {
	local line
	read -r -t 120 -u 7 line
	[ "$line" = ready ]
}

# Reaps husk run; sets $status.
husk_wait() {
	status=0
	wait "$HUSK_PID" || status=$?
	exec 7<&-
}

@test "husk --version names the version and the OCI spec" {
	run "$HUSK" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^husk\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[[ "${lines[1]}" =~ ^spec:\ 1\. ]]
}

@test "husk check reports KVM, vsock, QEMU, virtiofsd, the guest image and pod networking" {
	run "$HUSK" check --config "$CONFIG"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"kvm"* ]]
	[[ "$output" == *"vhost-vsock"* ]]
	[[ "$output" =~ qemu\ +QEMU\ emulator\ version ]]
	[[ "$output" =~ qemu\ devices\ +vhost-user-vsock-pci\ .*vhost-user-fs-pci\ .*virtio-net-pci ]]
	[[ "$output" =~ virtiofsd\ +.*[0-9] ]]
	[[ "$output" == *"guest kernel  $HUSK_BUILD/guest/vmlinuz"* ]]
	[[ "$output" =~ tun\ +/dev/net/tun ]]
	[[ "$output" =~ vhost-net\ + ]]
	[[ "$output" =~ tc\ redirect\ +ingress\ qdisc,\ u32\ filter,\ mirred\ action ]]
	# the host cgroups as mounted here, room for state in /run, containerd's husk runtime
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		[[ "$output" =~ cgroup\ +v2:\ .*memory ]]
	else
		[[ "$output" =~ cgroup\ +v1:.*\ memory ]]
	fi
	[[ "$output" =~ /run\ +[0-9]+\ MiB\ free ]]
	[[ "$output" =~ containerd\ +(no:\ )?/etc/containerd/config.toml ]]
}

@test "husk check fails naming a missing guest kernel" {
	write_config kernel="\"$T/nope/vmlinuz\""
	run "$HUSK" check --config "$CONFIG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"guest kernel  MISSING: $T/nope/vmlinuz: No such file or directory"* ]]
}

@test "husk check fails naming the devices a QEMU lacks" {
	# a QEMU built without vhost-user-fs and virtio-balloon
	cat >"$T/qemu" <<'SH'
#!/bin/sh
case "$*" in
--version) echo "QEMU emulator version 7.2.0" ;;
*help*) printf 'name "%s", bus PCI\n' vhost-user-vsock-pci vhost-vsock-pci virtio-net-pci ;;
esac
SH
	chmod +x "$T/qemu"
	write_config qemu="\"$T/qemu\""
	run "$HUSK" check --config "$CONFIG"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"qemu devices  MISSING: $T/qemu: no device vhost-user-fs-pci virtio-balloon-pci"* ]]
}

@test "husk check --boot boots the guest image, timed, and leaves nothing; a missing initrd fails it without a boot" {
	run "$HUSK" check --config "$CONFIG" --boot
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ boot\ +the\ agent\ answered\ [0-9]+\ ms\ after\ the\ boot\ began ]]
	[ -z "$(ls -d /tmp/husk-check.* 2>/dev/null)" ]
	! pgrep -f -- "/tmp/husk-check\." >/dev/null
	write_config initrd="\"$T/nope/initrd.img\""
	run "$HUSK" check --config "$CONFIG" --boot
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"guest initrd  MISSING: $T/nope/initrd.img: No such file or directory"* ]]
	[[ "$output" == *"boot          no: not tried: a required component is missing"* ]]
	[[ "$output" == *"husk: check: 1 required component missing"* ]]
}

@test "husk check --boot fails naming the cause when the guest does not come up" {
	write_config initrd="\"$HUSK_BUILD/guest/vmlinuz\"" timeouts='{"boot_ms": 3000}'
	run "$HUSK" check --config "$CONFIG" --boot
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" =~ boot\ +MISSING:\ .+ ]]
	[ -z "$(ls -d /tmp/husk-check.* 2>/dev/null)" ]
	! pgrep -f -- "/tmp/husk-check\." >/dev/null
}

@test "run: stdout and stderr stay separate, exit status 3 comes back" {
	bundle_with '["sh", "-c", "echo out; echo err >&2; exit 3"]'
	husk_run
	cat "$T/err"
	[ "$status" -eq 3 ]
	[ "$(cat "$T/out")" = out ]
	[ "$(cat "$T/err")" = err ]
	assert_clean
}

@test "run: a bundle straight from runc spec (terminal off) runs; its ambient capabilities outside the inheritable set are not raised, with one warning" {
	command -v runc >/dev/null || skip "runc is not installed (Debian: apt-get install runc)"
	make_bundle "$T/bundle"
	(cd "$T/bundle" && runc spec)
	jq '.process.terminal = false | .process.args = ["sh", "-c", "grep -E \"^Cap(Eff|Amb)\" /proc/self/status"]' \
		"$T/bundle/config.json" >"$T/spec" && mv "$T/spec" "$T/bundle/config.json"
	husk_run
	cat "$T/err"
	[ "$status" -eq 0 ]
	# runc spec: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE effective; ambient without inheritable
	grep -qx 'CapEff:	0000000020000420' "$T/out"
	grep -qx 'CapAmb:	0000000000000000' "$T/out"
	[ "$(grep -c 'warn: config.json: process.capabilities.ambient: CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE not in the permitted and inheritable sets: not raised (as runc)' "$T/err")" -eq 1 ]
	[ "$(grep -vc 'warn: KVM unusable' "$T/err")" -eq 1 ]
	assert_clean
}

@test "run: accel auto on a host without usable KVM warns once and uses TCG" {
	if grep -qwE 'vmx|svm' /proc/cpuinfo; then
		skip "this host's CPU offers vmx/svm"
	fi
	write_config accel='"auto"'
	bundle_with '["sh", "-c", "echo err >&2"]'
	husk_run
	[ "$status" -eq 0 ]
	[ "$(grep -c 'warn: KVM unusable: .*; using TCG' "$T/err")" -eq 1 ]
	[ "$(grep -vc 'warn: KVM unusable' "$T/err")" -eq 1 ]
	grep -qx err "$T/err"
	assert_clean
}

@test "run: exit statuses 0, 1 and 42" {
	local code
	for code in 0 1 42; do
		bundle_with "[\"sh\", \"-c\", \"exit $code\"]"
		husk_run
		[ "$status" -eq "$code" ] || { cat "$T/err"; false; }
		[ ! -s "$T/err" ]
		assert_clean
	done
}

@test "run: stdin and its EOF reach the process" {
	bundle_with '["cat"]'
	status=0
	printf 'a\nb\n' | "$HUSK" --root "$ROOT" run --config "$CONFIG" --bundle "$T/bundle" "$ID" \
		>"$T/out" 2>"$T/err" || status=$?
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "$(printf 'a\nb')" ]
	assert_clean
	# a closed stdin reads as empty, it must not hang nor steal one of husk's own fds
	bundle_with '["sh", "-c", "cat; echo done"]'
	status=0
	"$HUSK" --root "$ROOT" run --config "$CONFIG" --bundle "$T/bundle" "$ID" \
		>"$T/out" 2>"$T/err" <&- || status=$?
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = done ]
	assert_clean
}

@test "run: a large output arrives whole and in order" {
	bundle_with '["sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"]'
	husk_run
	cat "$T/err"
	[ "$status" -eq 0 ]
	for ((i = 0; i < 5000; i++)); do
		echo "line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	done >"$T/expected"
	cmp "$T/expected" "$T/out"
	assert_clean
}

@test "run: errors also go to --log as JSON lines" {
	status=0
	"$HUSK" --root "$ROOT" --log "$T/log.json" --log-format json run --bundle "$T/nope" "$ID" \
		2>"$T/err" || status=$?
	[ "$status" -eq 1 ]
	assert_one_error_line "bundle $T/nope: No such file or directory$"
	grep -q '^{"level":"error","msg":"run '"$ID"': bundle .*No such file or directory","time":"' \
		"$T/log.json"
}

@test "run: the guest agent's warnings reach --log as JSON lines naming the sandbox" {
	bundle_with '["true"]' '"apparmorProfile": "husk-test"'
	"$HUSK" --root "$ROOT" --log "$T/log.json" --log-format json run --config "$CONFIG" \
		--bundle "$T/bundle" "$ID" </dev/null
	cat "$T/log.json"
	grep -q '^{"level":"warn","msg":"guest '"$ID"': husk-agent: create '"$ID"': apparmorProfile, selinuxLabel and mountLabel are ignored: the guest has no LSM","time":"' \
		"$T/log.json"
	assert_clean
}

@test "run: env, cwd, user, hostname from the spec; the guest kernel is not the host's" {
	bundle_with '["sh", "-c", "echo $FOO; pwd; id -u; id -g; hostname; uname -r"]' \
		'"user": {"uid": 1000, "gid": 1000}, "cwd": "/work", "env": ["PATH=/bin", "FOO=bar baz"]'
	husk_run
	cat "$T/err"
	[ "$status" -eq 0 ]
	mapfile -t got <"$T/out"
	[ "${got[0]}" = "bar baz" ]
	[ "${got[1]}" = /work ]
	[ "${got[2]}" = 1000 ]
	[ "${got[3]}" = 1000 ]
	[ "${got[4]}" = husk ]
	[ -n "${got[5]}" ]
	[ "${got[5]}" != "$(uname -r)" ]
	assert_clean
}

@test "run: root.readonly gives the container a read-only rootfs" {
	bundle_with '["sh", "-c", "if echo x >/x; then echo writable; else echo read-only; fi"]'
	sed -i 's/"readonly": false/"readonly": true/' "$T/bundle/config.json"
	husk_run
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = read-only ]
	[ ! -e "$T/bundle/rootfs/x" ]
	assert_clean
}

@test "run: SIGTERM to husk run is forwarded to the container (143)" {
	bundle_with '["sh", "-c", "trap \"echo got-TERM; exit 143\" TERM; echo ready; sleep 60 & wait"]'
	husk_run_bg
	wait_ready
	kill -TERM "$HUSK_PID"
	local line
	read -r -t 60 -u 7 line
	husk_wait
	cat "$T/err"
	# the trap's line proves the container got it (husk itself dying would also say 143)
	[ "$line" = got-TERM ]
	[ "$status" -eq 143 ]
	[ ! -s "$T/err" ]
	assert_clean
}

@test "run: the foreground container is running in husk state, as the husk run process; husk kill reaches it" {
	bundle_with '["sh", "-c", "trap \"exit 5\" TERM; echo ready; sleep 60 & wait"]'
	husk_run_bg --pid-file "$T/pid"
	wait_ready
	[ "$("$HUSK" --root "$ROOT" state "$ID" | jq -r '.status + " " + (.pid | tostring)')" = "running $HUSK_PID" ]
	[ "$(cat "$T/pid")" = "$HUSK_PID" ]
	"$HUSK" --root "$ROOT" kill "$ID" TERM
	husk_wait
	cat "$T/err"
	[ "$status" -eq 5 ]
	assert_clean
}

@test "run --keep leaves the stopped container to husk delete" {
	bundle_with '["sh", "-c", "exit 6"]'
	husk_run --keep
	[ "$status" -eq 6 ]
	[ "$("$HUSK" --root "$ROOT" state "$ID" | jq -r .status)" = stopped ]
	"$HUSK" --root "$ROOT" delete "$ID"
	assert_clean
}

@test "run --detach: the container runs on after husk run returns; kill, delete" {
	bundle_with '["sleep", "1000"]'
	husk_run --detach --pid-file "$T/pid"
	cat "$T/err"
	[ "$status" -eq 0 ]
	local pid
	pid=$(cat "$T/pid")
	[ "$("$HUSK" --root "$ROOT" state "$ID" | jq -r '.status + " " + (.pid | tostring)')" = "running $pid" ]
	"$HUSK" --root "$ROOT" kill "$ID" KILL
	wait_exit 60 "$pid"
	[ "$("$HUSK" --root "$ROOT" state "$ID" | jq -r .status)" = stopped ]
	"$HUSK" --root "$ROOT" delete "$ID"
	assert_clean
}

@test "run: an id that is already in use is refused and left alone" {
	mkdir -p "$ROOT/$ID"
	bundle_with '["true"]'
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "container $ID already exists"
	[ -d "$ROOT/$ID" ]
	rmdir "$ROOT/$ID"
	assert_clean
}

@test "run fails cleanly: missing bundle" {
	status=0
	"$HUSK" --root "$ROOT" run --config "$CONFIG" --bundle "$T/nope" "$ID" 2>"$T/err" || status=$?
	[ "$status" -eq 1 ]
	assert_one_error_line "bundle $T/nope: No such file or directory$"
	assert_clean
}

@test "run fails cleanly: bundle without config.json" {
	mkdir -p "$T/bundle"
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "bundle $T/bundle: config.json: No such file or directory$"
	assert_clean
}

@test "run fails cleanly: malformed config.json and a bad field" {
	make_bundle "$T/bundle"
	echo '{"ociVersion": "1.0.2", "process": ' >"$T/bundle/config.json"
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "config.json: invalid JSON at byte [0-9]+: unexpected end of input$"
	assert_clean
	bundle_with '[]'
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "config.json: process.args: must not be empty$"
	assert_clean
}

@test "run fails cleanly: bad value in husk.json" {
	bundle_with '["true"]'
	write_config vcpus='"many"'
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "vcpus"
	assert_clean
}

@test "run fails cleanly: missing guest kernel" {
	bundle_with '["true"]'
	write_config kernel="\"$T/nope/vmlinuz\""
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "guest kernel $T/nope/vmlinuz: No such file or directory$"
	assert_clean
}

@test "run fails cleanly: QEMU exits at once or does not exist" {
	bundle_with '["true"]'
	write_config qemu='"/bin/false"'
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "qemu exited unexpectedly \(exited with status 1\)"
	assert_clean
	write_config qemu="\"$T/no-such-qemu\""
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "no-such-qemu: No such file or directory"
	assert_clean
}

@test "run fails cleanly: the agent never answers" {
	# a guest whose /init just sleeps: the VM boots, nobody listens on port 1024
	mkdir -p "$T/initrd/bin"
	cp /bin/busybox "$T/initrd/bin/busybox"
	printf '#!/bin/busybox sh\nexec /bin/busybox sleep 1000\n' >"$T/initrd/init"
	chmod +x "$T/initrd/init"
	(cd "$T/initrd" && find . | cpio -o -H newc --quiet) >"$T/sleep-initrd.img"
	bundle_with '["true"]'
	write_config initrd="\"$T/sleep-initrd.img\"" timeouts='{"boot_ms": 4000}'
	husk_run
	[ "$status" -eq 1 ]
	# nobody listens: the guest's vsock refused every attempt
	assert_one_error_line "agent not reachable within 4000 ms \\([0-9]+ attempts failed, the last: connect: Connection refused\\)"
	assert_clean
}

# console_dropped FILE: the byte count of console.log's "[husk: N bytes of console output
# dropped here]" line, 0 before the log was first cut (or made).
console_dropped() {
	sed -n 's/^\[husk: \([0-9]*\) bytes of console output dropped here\]$/\1/p' "$1" 2>/dev/null |
		grep . || echo 0
}

@test "run: a guest writing to its console without end leaves a console.log of at most 1 MiB" {
	# a guest whose /init floods the serial console; the agent never answers meanwhile
	mkdir -p "$T/initrd/bin" "$T/initrd/dev"
	cp /bin/busybox "$T/initrd/bin/busybox"
	printf '#!/bin/busybox sh\n/bin/busybox mount -t devtmpfs dev /dev\nexec /bin/busybox yes "console flood 0123456789abcdefghijklmnopqrstuvwxyz" >/dev/console\n' \
		>"$T/initrd/init"
	chmod +x "$T/initrd/init"
	(cd "$T/initrd" && find . | cpio -o -H newc --quiet) >"$T/flood-initrd.img"
	bundle_with '["true"]'
	write_config initrd="\"$T/flood-initrd.img\"" timeouts='{"boot_ms": 300000}'
	# --debug: the guest's console lines are logged at info
	GLOBAL_OPTS=(--debug)
	husk_run_bg
	local log=$ROOT/$ID/console.log size biggest=0 dropped=0 i start=$SECONDS
	# until the guest has written 4 MiB more than the cap, checking the size all along
	for ((i = 0; i < 2400 && dropped < 4 * 1048576; i++)); do
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		[ "$size" -le 1048576 ] || { echo "console.log is $size bytes" >&2; false; }
		((size > biggest)) && biggest=$size
		dropped=$(console_dropped "$log")
		sleep 0.1
	done
	echo "console.log: at most $biggest bytes seen, $dropped bytes dropped" >&3
	[ "$dropped" -ge $((4 * 1048576)) ]
	# the head, one line marking the cut, then the latest output
	[ "$(grep -c '^\[husk: [0-9]* bytes of console output dropped here\]$' "$log")" -eq 1 ]
	# a whole line of the flood among the last bytes (the very last line may still be partial)
	tail -c 4096 "$log" | grep -q "^console flood 0123456789abcdefghijklmnopqrstuvwxyz"
	kill -TERM "$HUSK_PID"
	husk_wait
	# the host's log (stderr here) got at most 100 of the flood's lines a second, and a count
	# of the rest
	local logged
	logged=$(grep -c " info: guest $ID: console: console flood 0123456789" "$T/err")
	echo "stderr: $logged flood lines in $((SECONDS - start + 1)) s" >&3
	[ "$logged" -ge 1 ]
	[ "$logged" -le $((100 * (SECONDS - start + 1))) ]
	grep -q " warn: guest $ID: [0-9]* console lines not logged (more than 100 a second)$" "$T/err"
	assert_clean
}

@test "run: the helpers run with no_new_privs and only the capabilities they need; QEMU and husk-vsockd under seccomp, each as a user of its own" {
	bundle_with '["sh", "-c", "echo ready; sleep 60 & wait"]'
	husk_run_bg
	wait_ready
	local pid comm seen=""
	local -A uid
	status_of() { sed -n "s/^$1:\t//p" "/proc/$pid/status"; }
	for pid in $(pgrep -f -- "$ROOT/$ID/"); do
		comm=$(cat "/proc/$pid/comm")
		echo "$pid $comm: $(grep -E '^(Cap(Bnd|Eff|Inh|Amb)|NoNewPrivs|Seccomp):' "/proc/$pid/status" | tr '\n\t' '  ')"
		[ "$(status_of NoNewPrivs)" = 1 ]
		[ "$(status_of CapInh)" = 0000000000000000 ]
		[ "$(status_of CapAmb)" = 0000000000000000 ]
		case $comm in
		qemu-system-*|husk-vsockd)
			[ "$(status_of Seccomp)" = 2 ]
			[ "$(status_of CapBnd)" = 0000000000000000 ]
			[ "$(status_of CapEff)" = 0000000000000000 ]
			# a user and group of its own (2100000000 + a slot, husk-vsockd's range next),
			# in all four ids
			read -r _ r e s f <<<"$(grep '^Uid:' "/proc/$pid/status")"
			[ "$r" -ge 2100000000 ] && [ "$e" = "$r" ] && [ "$s" = "$r" ] && [ "$f" = "$r" ]
			uid[$comm]=$r
			read -r _ r e s f <<<"$(grep '^Gid:' "/proc/$pid/status")"
			[ "$r" = "${uid[$comm]}" ] && [ "$e" = "$r" ] && [ "$s" = "$r" ] && [ "$f" = "$r" ]
			[ -z "$(status_of Groups | tr -d ' ')" ] ;;
		virtiofsd)
			# at most what it needs (docs/security.md): chown, dac_override, fowner, fsetid,
			# setgid, setuid, setpcap, sys_admin, setfcap (no mknod); its sandboxed child keeps
			# no more than the file-server set and has its own seccomp filter
			(( (0x$(status_of CapBnd) & ~0x802001db) == 0 )) ;;
		*) false ;;
		esac
		seen="$seen $comm"
	done
	[[ "$seen" == *qemu-system-* ]]
	[[ "$seen" == *husk-vsockd* ]]
	[[ "$seen" == *virtiofsd* ]]
	[ "${uid[husk-vsockd]}" -eq $((${uid[qemu-system-x86]} + 65536)) ]
	# its sockets in its own directory, which only it (and root) may enter
	[ "$(stat -c %u:%a "$ROOT/$ID/vsock")" = "${uid[husk-vsockd]}:700" ]
	[ -S "$ROOT/$ID/vsock/vsock.sock" ]
	kill -TERM "$HUSK_PID"
	husk_wait
	assert_clean
}

@test "run fails cleanly: virtiofsd dies while the container runs" {
	bundle_with '["sh", "-c", "echo ready; sleep 60 & wait"]'
	husk_run_bg
	wait_ready
	pkill -KILL -f -- "virtiofsd --fd=3 -o source=$ROOT/$ID/"
	husk_wait
	[ "$status" -eq 1 ]
	assert_one_error_line "virtiofsd exited unexpectedly \(killed by signal 9"
	assert_clean
}

@test "run fails cleanly: QEMU or husk-vsockd dies while the container runs" {
	bundle_with '["sh", "-c", "echo ready; sleep 60 & wait"]'
	husk_run_bg
	wait_ready
	pkill -KILL -f -- "^qemu-system.*$ROOT/$ID/"
	husk_wait
	[ "$status" -eq 1 ]
	assert_one_error_line "qemu exited unexpectedly \(killed by signal 9"
	assert_clean
	rm "$T/out.fifo"
	husk_run_bg
	wait_ready
	pkill -KILL -f -- "husk-vsockd --dir $ROOT/$ID/vsock/ "
	husk_wait
	[ "$status" -eq 1 ]
	# QEMU may notice the lost vhost-user back-end first; either way a helper is named
	assert_one_error_line "(husk-vsockd|qemu) exited unexpectedly"
	assert_clean
}

@test "run: SIGINT while the VM boots aborts and cleans up" {
	bundle_with '["true"]'
	mkfifo "$T/err.fifo"
	"$HUSK" --root "$ROOT" --debug run --config "$CONFIG" --bundle "$T/bundle" "$ID" \
		>"$T/out" 2>"$T/err.fifo" </dev/null &
	HUSK_PID=$!
	exec 8<"$T/err.fifo"
	local line
	while read -r -t 120 -u 8 line; do
		[[ "$line" == *"boot: qemu started"* ]] && break
	done
	kill -INT "$HUSK_PID"
	cat <&8 >"$T/err"
	exec 8<&-
	husk_wait
	[ "$status" -eq 130 ]
	grep -q "^husk: run $ID: .*interrupted by SIGINT" "$T/err"
	assert_clean
}
