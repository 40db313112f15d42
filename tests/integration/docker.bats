#!/usr/bin/env bats
# Docker Engine (Debian's docker.io) end to end with husk as its default runtime (issue 15):
# a private dockerd (data-root, exec-root, pidfile, socket and daemon.json under a temp dir,
# live-restore on) drives husk through containerd's runc shim with husk as the runtime binary.
# The image is the test rootfs, `docker import`ed; no registry. Docker's bridge network runs
# on a bridge and /24 of the file's own; its libnetwork-setkey prestart hook configures the
# network namespace husk gives each container (state.pid's), whose interfaces become the
# VM's NICs. Real VMs (TCG).

load helpers

IMAGE=husk-test/busybox

# dk ARGS...: docker's client (Debian's, not a newer one earlier in PATH) on the private daemon
dk() {
	/usr/bin/docker -H "unix://$DK/docker.sock" "$@"
}

start_dockerd() {
	dockerd --data-root "$DK/data" --exec-root "$DK/exec" --pidfile "$DK/dockerd.pid" \
		-H "unix://$DK/docker.sock" --config-file "$DK/daemon.json" >>"$DK/dockerd.log" 2>&1 &
	DK_PID=$!
	local i
	for i in $(seq 600); do
		dk version >/dev/null 2>&1 && return 0
		kill -0 "$DK_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "dockerd did not come up:" >&2
	tail -20 "$DK/dockerd.log" >&2
	return 1
}

# Stops dockerd (SIGTERM: with live-restore its containers and their shims stay) and waits
# for it and the containerd it started to exit.
stop_dockerd() {
	local pid
	pid=$(cat "$DK/dockerd.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_exit 60 "$pid"
	# shellcheck disable=SC2046
	wait_exit 30 $(pgrep -f -- "containerd --config $DK/") || true
}

setup_file() {
	command -v dockerd >/dev/null || skip "docker.io not installed (scripts/install-deps)"
	DK=$(mktemp -d /tmp/husk-dk.XXXXXX)
	export DK
	CONFIG=$DK/husk.json write_config
	# dockerd runs the runtime as given: the config comes from the environment
	cat >"$DK/husk-runtime" <<SH
#!/bin/sh
HUSK_CONFIG=$DK/husk.json exec $HUSK "\$@"
SH
	chmod +x "$DK/husk-runtime"
	export DK_BRIDGE=$(link_name hkdk)
	export DK_PREFIX=10.252.$((RANDOM % 256))
	iptables_rules >"$DK/iptables.before"
	# Docker's cgroupfs parent: husk leaves it, as runc does, when a second sandbox was in it
	cg_dirs docker >"$DK/cgroups.before"
	sysctl -n net.ipv4.ip_forward >"$DK/ip_forward.before"
	ip link add "$DK_BRIDGE" type bridge
	ip addr add "$DK_PREFIX.1/24" dev "$DK_BRIDGE"
	ip link set "$DK_BRIDGE" up
	cat >"$DK/daemon.json" <<JSON
{
	"runtimes": { "husk": { "path": "$DK/husk-runtime" } },
	"default-runtime": "husk",
	"bridge": "$DK_BRIDGE",
	"live-restore": true,
	"storage-driver": "overlay2"
}
JSON
	start_dockerd
	"$HUSK_SRC/scripts/mkrootfs" "$DK/rootfs" >/dev/null
	tar -C "$DK/rootfs" -c . | dk import - "$IMAGE" >/dev/null
}

teardown_file() {
	[ -n "${DK:-}" ] || return 0
	dk rm -f $(dk ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	dk network prune -f >/dev/null 2>&1 || true
	stop_dockerd || true
	pkill -KILL -f -- "$DK/" 2>/dev/null || true
	grep -F " $DK/" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	ip link del "$DK_BRIDGE" 2>/dev/null || true
	iptables_undo "$DK/iptables.before" || true
	cg_remove_new "$DK/cgroups.before" docker
	sysctl -qw net.ipv4.ip_forward="$(cat "$DK/ip_forward.before")" || true
	rm -rf "$DK"
}

setup() {
	command -v dockerd >/dev/null || skip "docker.io not installed (scripts/install-deps)"
	husk_setup
}

teardown() {
	husk_teardown
}

# Fails if container $1 left a husk state dir, a process or a docker container behind.
# docker rm returns before the runc shim is gone: its exit is waited for first (bounded).
assert_dk_clean() {
	local cid=$1 left
	# shellcheck disable=SC2046
	wait_exit 30 $(pgrep -f -- "$cid") || true
	left=$(pgrep -af -- "$cid" || true)
	if [ -n "$left" ]; then
		echo "processes left behind: $left" >&2
		return 1
	fi
	if [ -n "$(find "$DK/exec" -name "$cid*" -print -quit)" ]; then
		echo "state left behind: $(find "$DK/exec" -name "$cid*")" >&2
		return 1
	fi
	[ -z "$(dk ps -aq)" ]
}

# wait_log CID LINE: waits (bounded) until the container's output has the line LINE
wait_log() {
	local line
	coproc LOGS { dk logs -f "$1" 2>&1; }
	while read -r -t 120 -u "${LOGS[0]}" line; do
		[ "$line" = "$2" ] && break
	done
	kill "$LOGS_PID" 2>/dev/null || true
	[ "$line" = "$2" ]
}

@test "docker run --rm: output, stderr, exit status and the guest's own kernel; nothing left" {
	[ "$(dk info -f '{{.DefaultRuntime}}')" = husk ]
	run dk run --rm --network none --cidfile "$T/cid" "$IMAGE" sh -c 'echo hello; uname -r; echo oops >&2; exit 3'
	echo "$output"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = hello ]
	[ -n "${lines[1]}" ]
	[ "${lines[1]}" != "$(uname -r)" ]
	[ "${lines[2]}" = oops ]
	assert_dk_clean "$(cat "$T/cid")"
}

@test "docker run -d, logs, exec with and without -it, stop: SIGTERM reaches the container's trap" {
	local cid
	cid=$(dk run -d --network none "$IMAGE" sh -c 'trap "echo got-term; exit 4" TERM; echo up; sleep 1000 & wait')
	wait_log "$cid" up
	run dk exec "$cid" sh -c 'echo in-exec $(id -u); exit 6'
	[ "$status" -eq 6 ]
	[ "$output" = "in-exec 0" ]
	run dk exec -u 1000:1000 "$cid" id
	[ "$output" = "uid=1000 gid=1000 groups=1000" ]
	run python3 "$BATS_TEST_DIRNAME/tty_driver.py" spawn "$T/tty.log" \
		'expect:/dev/pts/[0-9]+\r+\n' 'send:hi\r' 'expect:got:hi' -- \
		/usr/bin/docker -H "unix://$DK/docker.sock" exec -it "$cid" sh -c 'tty; read l; echo got:$l; exit 5'
	echo "$output"
	[ "$output" = $'exit=5\nmode=restored' ]
	run dk stop -t 60 "$cid"
	[ "$status" -eq 0 ]
	[ "$(dk wait "$cid")" = 4 ]
	[ "$(dk logs "$cid")" = "up
got-term" ]
	dk rm "$cid" >/dev/null
	assert_dk_clean "$cid"
}

@test "docker stop: a container that ignores SIGTERM is killed after the timeout (137)" {
	local cid
	# PID 1 without a handler ignores SIGTERM
	cid=$(dk run -d --network none "$IMAGE" sh -c 'echo up; sleep 1000 & wait')
	wait_log "$cid" up
	run dk stop -t 1 "$cid"
	[ "$status" -eq 0 ]
	[ "$(dk inspect -f '{{.State.ExitCode}}' "$cid")" = 137 ]
	dk rm "$cid" >/dev/null
	assert_dk_clean "$cid"
}

@test "docker kill -s USR1 reaches the container; docker wait gives its exit code; rm -f of a running one" {
	local cid
	cid=$(dk run -d --network none "$IMAGE" sh -c 'trap "exit 7" USR1; echo up; sleep 1000 & wait')
	wait_log "$cid" up
	dk kill -s USR1 "$cid" >/dev/null
	[ "$(dk wait "$cid")" = 7 ]
	dk rm "$cid" >/dev/null
	assert_dk_clean "$cid"
	cid=$(dk run -d --network none "$IMAGE" sleep 1000)
	[ "$(dk inspect -f '{{.State.Status}}' "$cid")" = running ]
	dk rm -f "$cid" >/dev/null
	assert_dk_clean "$cid"
}

@test "docker run --memory --cpus --user --read-only -v: limits in the guest's cgroup, ids, a read-only root, ro and rw binds" {
	mkdir -p "$T/ro" "$T/rw"
	echo host-data >"$T/ro/f"
	chmod 777 "$T/rw"
	run dk run --rm --network none --memory 200m --cpus 1 --user 1000:1000 --read-only \
		-v "$T/ro:/ro:ro" -v "$T/rw:/rw" "$IMAGE" sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max; id;
			touch /x 2>/dev/null || echo root-ro; cat /ro/f; touch /ro/new 2>/dev/null || echo ro-denied; echo w >/rw/f'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "209715200
100000 100000
uid=1000 gid=1000 groups=1000
root-ro
host-data
ro-denied" ]
	[ "$(cat "$T/rw/f")" = w ]
	[ "$(stat -c %u "$T/rw/f")" = 1000 ]
}

@test "docker stats reads the sandbox's host cgroup: the VM's memory and its host processes, the limit the VM's size plus overhead" {
	local cid line
	cid=$(dk run -d --network none --memory 200m "$IMAGE" sh -c 'echo up; sleep 1000 & wait')
	wait_log "$cid" up
	line=$(dk stats --no-stream --format '{{.MemUsage}}|{{.PIDs}}' "$cid")
	echo "$line"
	# 200 MiB + 128 MiB of VM + 256 MiB of host overhead (docs/isolation.md, the host cgroup)
	[[ "$line" =~ ^([0-9.]+)MiB\ /\ 584MiB\|([0-9]+)$ ]]
	# QEMU alone holds tens of MiB of the guest and threads of its own
	[ "${BASH_REMATCH[1]%.*}" -ge 20 ]
	[ "${BASH_REMATCH[2]}" -ge 5 ]
	dk rm -f "$cid" >/dev/null
	assert_dk_clean "$cid"
}

@test "docker run --restart=on-failure:2: the container is restarted twice, then stays exited" {
	local cid i
	cid=$(dk run -d --network none --restart=on-failure:2 "$IMAGE" sh -c 'echo run; exit 1')
	for i in $(seq 600); do
		[ "$(dk inspect -f '{{.RestartCount}} {{.State.Status}}' "$cid")" = "2 exited" ] && break
		sleep 0.2
	done
	[ "$(dk inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' "$cid")" = "2 exited 1" ]
	[ "$(dk logs "$cid")" = "run
run
run" ]
	dk rm "$cid" >/dev/null
	assert_dk_clean "$cid"
}

@test "live-restore: a container keeps running through a dockerd restart; exec and stop work after it" {
	local cid
	cid=$(dk run -d --network none "$IMAGE" sh -c 'echo up; sleep 1000 & wait')
	wait_log "$cid" up
	dk exec "$cid" sh -c 'echo before >/tmp/mark'
	stop_dockerd
	run dk version
	[ "$status" -ne 0 ]
	# the VM is still there, its runc shim too
	pgrep -f -- "containerd-shim-runc-v2 .*-id $cid" >/dev/null
	start_dockerd
	[ "$(dk inspect -f '{{.State.Status}}' "$cid")" = running ]
	[ "$(dk exec "$cid" cat /tmp/mark)" = before ]
	dk stop -t 1 "$cid" >/dev/null
	dk rm "$cid" >/dev/null
	assert_dk_clean "$cid"
}

@test "docker's default bridge: Docker's address is the guest's eth0's, -p publishes a port the host reaches" {
	local port cid ip
	port=$(free_port)
	cid=$(dk run -d -p "$port:8080" "$IMAGE" sh -c \
		'nc -ll -p 8080 -e sh -c "echo hello-from-husk; ip -o -4 addr show eth0" &
		until netstat -ltn | grep -q ":8080 "; do usleep 20000; done; echo listening; wait')
	wait_log "$cid" listening
	ip=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' "$cid")
	[[ "$ip" == "$DK_PREFIX".* ]]
	# through docker-proxy on the host's loopback, and DNATed to the container
	run timeout 60 socat -u "TCP:127.0.0.1:$port" STDOUT
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hello-from-husk ]
	[[ "${lines[1]}" == *" eth0 "*"inet $ip/24 "* ]]
	run timeout 60 socat -u "TCP:$ip:8080" STDOUT
	[ "${lines[0]}" = hello-from-husk ]
	dk rm -f "$cid" >/dev/null
	assert_dk_clean "$cid"
}

@test "a user-defined network: two husk containers talk to each other, by name through Docker's DNS at 127.0.0.11" {
	local net=husk-dk-$$ srv ip
	dk network create --subnet "10.253.$((RANDOM % 256)).0/24" \
		-o "com.docker.network.bridge.name=$(link_name hkdn)" "$net" >/dev/null
	srv=$(dk run -d --network "$net" --name "srv-$$" "$IMAGE" sh -c \
		'nc -ll -p 80 -e echo hello-from-srv & until netstat -ltn | grep -q ":80 "; do usleep 20000; done; echo listening; wait')
	wait_log "$srv" listening
	ip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$srv")
	run dk run --rm --network "$net" "$IMAGE" nc "$ip" 80
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = hello-from-srv ]
	# the name, from the guest's resolv.conf (127.0.0.11), relayed to Docker's DNS on the host
	run dk run --rm --network "$net" "$IMAGE" sh -c \
		"grep nameserver /etc/resolv.conf; nslookup srv-$$ | sed -n 's/^Address: //p'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "nameserver 127.0.0.11
$ip" ]
	dk rm -f "$srv" >/dev/null
	dk network rm "$net" >/dev/null
	assert_dk_clean "$srv"
}

@test "docker network connect: the second network's interface is hot-plugged into the running VM and carries traffic" {
	local net=husk-dk2-$$ srv cid ip i
	dk network create --subnet "10.254.$((RANDOM % 256)).0/24" \
		-o "com.docker.network.bridge.name=$(link_name hkdc)" "$net" >/dev/null
	srv=$(dk run -d --network "$net" "$IMAGE" sh -c \
		'nc -ll -p 80 -e echo hello-from-net2 & until netstat -ltn | grep -q ":80 "; do usleep 20000; done; echo listening; wait')
	wait_log "$srv" listening
	ip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$srv")
	cid=$(dk run -d "$IMAGE" sh -c 'echo up; sleep 1000 & wait')
	wait_log "$cid" up
	dk network connect "$net" "$cid"
	local want
	want=$(dk inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$cid")
	# the NIC appears in the guest once QEMU hot-plugged it and the agent configured it
	for i in $(seq 300); do
		dk exec "$cid" ip -o -4 addr show eth1 2>/dev/null | grep -q "inet $want/" && break
		sleep 0.2
	done
	run dk exec "$cid" ip -o -4 addr show eth1
	echo "$output"
	[[ "$output" == *"inet $want/24"* ]]
	run dk exec "$cid" nc "$ip" 80
	echo "$output"
	[ "$output" = hello-from-net2 ]
	dk rm -f "$cid" "$srv" >/dev/null
	dk network rm "$net" >/dev/null
	assert_dk_clean "$cid"
}

@test "docker run --network none: the guest has loopback only, and it is up" {
	run dk run --rm --network none "$IMAGE" sh -c 'ip -o link show | cut -d: -f2; ping -c 1 -W 5 127.0.0.1 >/dev/null && echo lo-up'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = " lo
lo-up" ]
}

@test "docker run --privileged: every host node's number names the VM's device (/dev/net/tun), and a bridge, veth, tap and tmpfs mount are made in the guest" {
	run dk run --rm --privileged "$IMAGE" sh -ec '
		[ -c /dev/net/tun ] && [ -c /dev/fuse ]
		ip link add b0 type bridge; ip link add v0 type veth; tunctl -t t0 >/dev/null
		brctl addif b0 v0; echo 1 >/sys/class/net/b0/bridge/stp_state
		mkdir -p /mnt && mount -t tmpfs t /mnt && echo ok >/mnt/f
		echo "$(ip -o link | grep -c "b0\|v0\|t0") $(cat /mnt/f)"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "4 ok" ]
}

@test "docker run --device: fuse and loop nodes are the VM's own and open there; a host disk is refused with one line, nothing left" {
	mknod "$T/fuse" c 10 229
	mknod "$T/loop5" b 7 5
	mknod "$T/sda" b 8 0
	run dk run --rm --device "$T/fuse:/dev/fuse" --device "$T/loop5:/dev/loop5" "$IMAGE" sh -ec '
		exec 3<>/dev/fuse 4<>/dev/loop5
		echo "$(ls -l /dev/fuse | cut -c1) $(ls -l /dev/loop5 | cut -c1) opened"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "c b opened" ]
	rm -f "$T/cid"
	run dk run --rm --cidfile "$T/cid" --device "$T/sda:/dev/xvdc" "$IMAGE" true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"create $(cat "$T/cid")"*"linux.resources.devices["*"]: b 8:0 is a host device: none is passed into the VM"* ]]
	dk rm -f "$(cat "$T/cid")" >/dev/null 2>&1 || true
	assert_dk_clean "$(cat "$T/cid")"
}

@test "what a VM cannot honour fails docker run with husk's one line: --network host, --pid host, --ipc host, --uts host, device rules; nothing left" {
	local opt want
	for opt in "--network=host" "--pid=host" "--ipc=host" "--uts=host" "--device-cgroup-rule=c 42:* rwm"; do
		case $opt in
		*network*) want="the runtime's own (the host's network): a VM cannot share it" ;;
		*pid*) want="linux.namespaces: no pid namespace: a VM cannot share the host's processes" ;;
		*ipc*) want="linux.namespaces: no ipc namespace: a VM cannot share the host's IPC" ;;
		*uts*) want="linux.namespaces: no uts namespace: a VM cannot share the host's hostname" ;;
		*device*) want="]: c 42:* is a host device: none is passed into the VM" ;;
		esac
		rm -f "$T/cid"
		run dk run --rm "$opt" --cidfile "$T/cid" "$IMAGE" true
		echo "$output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"OCI runtime create failed: create $(cat "$T/cid")"*"$want"* ]]
		dk rm -f "$(cat "$T/cid")" >/dev/null 2>&1 || true
		assert_dk_clean "$(cat "$T/cid")"
	done
}

@test "stopping the private dockerd leaves no dockerd, containerd, shim, husk, QEMU or virtiofsd process and no mount" {
	[ -z "$(dk ps -aq)" ]
	stop_dockerd
	local left
	left=$(pgrep -af -- "$DK/" || true)
	echo "$left"
	[ -z "$left" ]
	# dockerd itself leaves two mounts of its own (teardown_file removes them): its data-root
	# (overlay2 makes it private) and the host's network namespace under exec-root
	left=$(grep -F " $DK/" /proc/self/mountinfo | grep -vE " $DK/(data|exec/netns/default) " || true)
	echo "$left"
	[ -z "$left" ]
	[ -z "$(ls "$DK/exec/runtime-runc/moby" 2>/dev/null)" ]
}
