#!/usr/bin/env bats
# podman (Debian's) end to end with husk as its OCI runtime (issue 5): podman --runtime
# build/bin/husk run of a busybox image loaded from a local archive, with private storage
# (--root/--runroot/--tmpdir under a temp dir), cgroupfs, file events, and a private network
# config: podman's CNI backend with a config dir of the file's own holding its default
# network (podman's default conflist: bridge, portmap, firewall, tuning) on a bridge and /24
# of the file's own, host-local state under the temp dir. Most cases run with --network none.
# Podman's spec brings bind mounts (/etc/hosts, /etc/hostname, /run/.containerenv,
# /dev/shm), its cgroupsPath, namespaces and seccomp profile. Real VMs (TCG).

load helpers

IMAGE=localhost/husk-test/busybox:latest

# ipt_ours IP: the rules of the container $CID at IP (its id or address in them) and every
# line of the chains they name but the chains CNI's plugins share between containers (other
# CNI users on the host, e.g. a CRI test, may add rules of their own meanwhile). The chains are
# remembered in $T/ipt-chains: once the container is gone its rules no longer name them.
ipt_ours() {
	local ip=$1
	iptables_rules >"$T/ipt-all"
	grep -F -e "$CID" -e "$ip/" -e "$ip:" "$T/ipt-all" |
		grep -o -- '-[Aj] CNI-[A-Za-z0-9-]*' | cut -d' ' -f2 |
		grep -vxE 'CNI-(HOSTPORT-DNAT|HOSTPORT-MASQ|HOSTPORT-SETMARK|FORWARD|ADMIN)' >>"$T/ipt-chains" || true
	sort -u -o "$T/ipt-chains" "$T/ipt-chains"
	grep -F -e "$CID" -e "$ip/" -e "$ip:" "$T/ipt-all" || true
	[ ! -s "$T/ipt-chains" ] || grep -wF -f "$T/ipt-chains" "$T/ipt-all" || true
}

setup_file() {
	command -v podman >/dev/null || skip "podman not installed (scripts/install-deps)"
	PM=$(mktemp -d /tmp/husk-pm.XXXXXX)
	export PM
	mkdir -p "$PM/tmp"
	# conmon passes only conmon_env_vars to the runtime: that is how husk gets its config
	# (TCG, the built guest image) without touching /etc/husk. runtime_supports_json makes
	# podman pass --log/--log-format json, so husk's own messages stay out of the
	# container's stderr.
	CONFIG=$PM/husk.json write_config
	# the default network, the file's own: not /etc/cni/net.d's "podman" (cni-podman0,
	# 10.88.0.0/16), which podman would make in memory if no network had the default name
	export PM_NET=husk-pm-$$
	export PM_BRIDGE=$(link_name hkpm)
	export PM_PREFIX=10.251.$((RANDOM % 256))
	iptables_rules >"$PM/iptables.before"
	# podman's cgroupfs parent and conmon's cgroup in it, which podman leaves
	cg_dirs libpod_parent/conmon libpod_parent >"$PM/cgroups.before"
	mkdir -p "$PM/cni"
	cat >"$PM/cni/$PM_NET.conflist" <<JSON
{
	"cniVersion": "0.4.0",
	"name": "$PM_NET",
	"plugins": [
		{
			"type": "bridge", "bridge": "$PM_BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
			"ipam": {
				"type": "host-local", "routes": [{ "dst": "0.0.0.0/0" }],
				"ranges": [[{ "subnet": "$PM_PREFIX.0/24", "gateway": "$PM_PREFIX.1" }]],
				"dataDir": "$PM/cni-ipam"
			}
		},
		{ "type": "portmap", "capabilities": { "portMappings": true } },
		{ "type": "firewall" },
		{ "type": "tuning" }
	]
}
JSON
	cat >"$PM/containers.conf" <<CONF
[engine]
conmon_env_vars = ["PATH=$PATH", "HUSK_CONFIG=$PM/husk.json"]
runtime_supports_json = ["husk"]

[network]
network_backend = "cni"
network_config_dir = "$PM/cni"
cni_plugin_dirs = ["/usr/lib/cni"]
default_network = "$PM_NET"
CONF
	"$BATS_TEST_DIRNAME/make-oci-image" "$PM/image.tar" husk-test/busybox:latest sh
	pm load -i "$PM/image.tar" >/dev/null
}

teardown_file() {
	[ -n "${PM:-}" ] || return 0
	pm rm -af >/dev/null 2>&1 || true
	pm system reset -f >/dev/null 2>&1 || true
	pkill -KILL -f -- "$PM/" 2>/dev/null || true
	ip link del "$PM_BRIDGE" 2>/dev/null || true
	portmap_cleanup "$PM/iptables.before" "$PM_PREFIX." || true
	firewall_cleanup "$PM/iptables.before" || true
	cg_remove_new "$PM/cgroups.before" libpod_parent/conmon libpod_parent
	rm -rf "$PM"
}

setup() {
	command -v podman >/dev/null || skip "podman not installed (scripts/install-deps)"
	husk_setup
}

teardown() {
	[ -z "${CID:-}" ] || pm rm -f -t 0 "$CID" >/dev/null 2>&1 || true
	# CNI's bridge plugin makes the bridge and leaves it when the last container goes
	ip link del "$PM_BRIDGE" 2>/dev/null || true
	husk_teardown
}

# pm ARGS...: podman with the private storage and husk as its runtime
pm() {
	CONTAINERS_CONF=$PM/containers.conf TMPDIR=$PM/tmp podman --root "$PM/storage" --runroot "$PM/run" --tmpdir "$PM/libpod" \
		--storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
		--runtime "$HUSK" "$@"
}

# Fails if container CID left a husk state dir, a process or a podman container behind.
# podman rm returns before conmon and its exit command (podman container cleanup) are gone:
# their exits are waited for first (bounded), so only a process that stays counts.
assert_pm_clean() {
	local cid=$1 left
	# shellcheck disable=SC2046
	wait_exit 30 $(pgrep -f -- "$cid") || true
	if [ -e "/run/husk/$cid" ]; then
		echo "husk state left behind: /run/husk/$cid" >&2
		return 1
	fi
	left=$(pgrep -af -- "$cid" || true)
	if [ -n "$left" ]; then
		echo "processes left behind: $left" >&2
		return 1
	fi
	[ -z "$(pm ps -aq)" ]
}

@test "podman run --rm: output, exit code and the guest's own kernel; nothing left" {
	run pm run --rm --network none --cidfile "$T/cid" "$IMAGE" sh -c 'echo hello; uname -r; echo oops >&2; exit 3'
	echo "$output"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = hello ]
	[ -n "${lines[1]}" ]
	[ "${lines[1]}" != "$(uname -r)" ]
	[ "${lines[2]}" = oops ]
	[ "${#lines[@]}" -eq 3 ]
	assert_pm_clean "$(cat "$T/cid")"
}

@test "podman's bind mounts reach the container: hosts, hostname, .containerenv, /dev/shm, -v ro and rw" {
	mkdir -p "$T/ro" "$T/rw"
	echo host-data >"$T/ro/f"
	run pm run --rm --network none --hostname podhost -v "$T/ro:/ro:ro" -v "$T/rw:/rw" "$IMAGE" \
		sh -c 'hostname; cat /etc/hostname; echo; grep -c localhost /etc/hosts; test -e /run/.containerenv && echo containerenv;
			echo shm >/dev/shm/x && cat /dev/shm/x; cat /ro/f; touch /ro/new 2>/dev/null || echo ro-denied; echo w >/rw/f'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = podhost ]
	[ "${lines[1]}" = podhost ]
	[ "${lines[2]}" -ge 1 ]
	[ "${lines[3]}" = containerenv ]
	[ "${lines[4]}" = shm ]
	[ "${lines[5]}" = host-data ]
	[ "${lines[6]}" = ro-denied ]
	[ "$(cat "$T/rw/f")" = w ]
	[ ! -e "$T/ro/new" ]
	[ -z "$(pm ps -aq)" ]
}

@test "podman run --read-only: the root is read-only, podman's tmpfs mounts are not" {
	run pm run --rm --network none --read-only "$IMAGE" \
		sh -c 'touch /x 2>/dev/null || echo root-ro; touch /tmp/y && echo tmp-rw'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "root-ro
tmp-rw" ]
}

@test "a spec husk cannot honour fails podman run with husk's one-line error; nothing left" {
	# the host's network (no network namespace in the spec) cannot be a VM's
	run pm run --rm --network host --cidfile "$T/cid" "$IMAGE" true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"husk: create "*"linux.namespaces: no network namespace: a VM cannot share the host's network"* ]]
	pm rm -f "$(cat "$T/cid")" >/dev/null 2>&1 || true
	assert_pm_clean "$(cat "$T/cid")"
}

@test "podman run -d -p on the default bridge network: the host reaches the container's server; podman's address is the guest's eth0's; rm leaves no netns, iptables rule or process" {
	local port line ip netns
	port=$(free_port)
	# "listening" once the server is bound: the test waits for that line
	CID=$(pm run -d -p "$port:8080" "$IMAGE" sh -c \
		'nc -ll -p 8080 -e sh -c "echo hello-from-husk; ip -o -4 addr show eth0" &
		until netstat -ltn | grep -q ":8080 "; do usleep 20000; done; echo listening; wait')
	coproc LOGS { pm logs -f "$CID"; }
	read -r -t 120 -u "${LOGS[0]}" line
	[ "$line" = listening ]
	ip=$(pm inspect -f "{{(index .NetworkSettings.Networks \"$PM_NET\").IPAddress}}" "$CID")
	[[ "$ip" == "$PM_PREFIX".* ]]
	netns=$(pm inspect -f '{{.NetworkSettings.SandboxKey}}' "$CID")
	[ -e "$netns" ]
	# CNI's rules for the container: bridge's masquerade, portmap's DNAT, firewall's accepts
	ipt_ours "$ip" >"$T/ipt-during"
	grep -q -- "--to-destination $ip:8080" "$T/ipt-during"
	grep -q -- "-d $ip/32 .* -j ACCEPT" "$T/ipt-during"
	# the host's loopback and its address on the network's bridge, both DNATed by portmap
	run timeout 60 socat -u "TCP:127.0.0.1:$port" STDOUT
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hello-from-husk ]
	[[ "${lines[1]}" == *" eth0 "*"inet $ip/24 "* ]]
	run timeout 60 socat -u "TCP:$PM_PREFIX.1:$port" STDOUT
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hello-from-husk ]
	pm rm -f -t 0 "$CID" >/dev/null
	wait "$LOGS_PID" || true
	assert_pm_clean "$CID"
	[ ! -e "$netns" ]
	ipt_ours "$ip" >"$T/ipt-after"
	cat "$T/ipt-after"
	[ ! -s "$T/ipt-after" ]
}

@test "podman run --network none: the guest has loopback only" {
	run pm run --rm --network none "$IMAGE" sh -c 'ip -o link show | cut -d: -f2'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = " lo" ]
}

@test "podman run -d, stop (SIGTERM reaches the container), rm: nothing left" {
	cid=$(pm run -d --network none "$IMAGE" sh -c 'trap "echo got-term; exit 0" TERM; echo up; sleep 1000 & wait')
	[ "$(pm inspect -f '{{.State.Status}}' "$cid")" = running ]
	# "up" means the trap is set
	local line
	coproc LOGS { pm logs -f "$cid"; }
	read -r -t 120 -u "${LOGS[0]}" line
	[ "$line" = up ]
	run pm stop -t 60 "$cid"
	[ "$status" -eq 0 ]
	# logs -f follows the container to its end
	wait "$LOGS_PID"
	run pm inspect -f '{{.State.ExitCode}}' "$cid"
	echo "exit code $output"
	[ "$output" -eq 0 ]
	run pm logs "$cid"
	[ "$output" = "up
got-term" ]
	pm rm "$cid"
	assert_pm_clean "$cid"
}

@test "podman exec runs a process in the running container" {
	"$HUSK" exec 2>&1 | grep -q "not implemented" && skip "husk exec not implemented yet"
	cid=$(pm run -d --network none "$IMAGE" sleep 1000)
	run pm exec "$cid" sh -c 'echo in-exec; exit 4'
	echo "$output"
	[ "$status" -eq 4 ]
	[ "$output" = in-exec ]
	pm rm -f -t 0 "$cid"
	assert_pm_clean "$cid"
}

# pm_on_tty PODMAN_ARGS...: podman (as pm runs it) on a fresh 24x80 terminal that types "hi"
# once the process printed its tty and size; $output is "exit=N" and "mode=restored|changed".
pm_on_tty() {
	run python3 "$BATS_TEST_DIRNAME/tty_driver.py" spawn "$T/tty.log" \
		'expect:/dev/pts/[0-9]+\r+\n24 80\r+\n' 'send:hi\r' 'expect:got:hi' -- \
		env CONTAINERS_CONF="$PM/containers.conf" TMPDIR="$PM/tmp" podman --root "$PM/storage" \
		--runroot "$PM/run" --tmpdir "$PM/libpod" --storage-driver overlay \
		--cgroup-manager cgroupfs --events-backend file --runtime "$HUSK" "$@"
	echo "$output"
}

@test "podman run -it and exec -it on a terminal: conmon gets the master over --console-socket; tty, the terminal's size, typed input, exit code" {
	pm_on_tty run --rm -it --network none --cidfile "$T/cid" "$IMAGE" \
		sh -c 'tty; stty size; read l; echo got:$l; exit 5'
	[ "$output" = $'exit=5\nmode=restored' ]
	assert_pm_clean "$(cat "$T/cid")"
	cid=$(pm run -d --network none "$IMAGE" sleep 1000)
	pm_on_tty exec -it "$cid" sh -c 'tty; stty size; read l; echo got:$l; exit 6'
	[ "$output" = $'exit=6\nmode=restored' ]
	pm rm -f -t 0 "$cid"
	assert_pm_clean "$cid"
}

@test "podman run --uidmap/--gidmap, exec: the container's root is the mapped host uid, in a user namespace in the guest" {
	# a rootfs owned by the mapped root (as podman's storage makes it for an image); husk does
	# not chown (nor does runc)
	"$HUSK_SRC/scripts/mkrootfs" "$T/rfs"
	mkdir "$T/rfs/run" "$T/rfs/etc"
	chown -R 100000:100000 "$T/rfs"
	local cid
	cid=$(pm run -d --network none --uidmap 0:100000:65536 --gidmap 0:100000:65536 --rootfs "$T/rfs" \
		sh -c 'cat /proc/self/uid_map; readlink /proc/self/ns/user; exec sleep 1000')
	# the exec joins the init's user namespace
	run pm exec "$cid" sh -c 'cat /proc/self/uid_map; readlink /proc/self/ns/user; id -u; stat -c %u /bin/sh; touch /made && stat -c %u /made'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo ${lines[0]})" = "0 100000 65536" ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 0 ]
	[ "${lines[4]}" = 0 ]
	[ "$(stat -c %u "$T/rfs/made")" = 100000 ]
	local exec_ns=${lines[1]} map ns
	coproc LOGS { pm logs -f "$cid"; }
	read -r -t 120 -u "${LOGS[0]}" map
	read -r -t 120 -u "${LOGS[0]}" ns
	[ "$(echo $map)" = "0 100000 65536" ]
	[ "$ns" = "$exec_ns" ]
	pm rm -f -t 0 "$cid" >/dev/null
	wait "$LOGS_PID" || true
	assert_pm_clean "$cid"
}
