#!/usr/bin/env bats
# Kubernetes' CRI end to end: a Node CRI client (tests/cri/pod.js) drives a private containerd
# (own config, root, state and sockets under $T/c, the CRI plugin with the runc handler and the
# husk handler, containerd-shim-husk-v2) through a pod of two containers on a CNI bridge network
# of the test's own (its address, its DNS config, a server in the pod reached from the host),
# ExecSync, the CRI logs, pod removal and a containerd restart mid-pod; two pods talking over
# that network (husk and husk, husk and runc); a hostPort through CNI's portmap plugin, whose
# iptables rules all go with the test. The pods' cgroup parent is the test's, as the kubelet's
# pod cgroup: each pod's host processes live in <parent>/<pod id>, which goes with the pod. The runc cases prove the harness itself. Traffic only
# between the host, the test's bridge and the pods' namespaces.

load helpers

SHIM=$HUSK_BUILD/bin/containerd-shim-husk-v2

# bats 1.8 cannot skip from setup_file: it leaves the reason in CRI_SKIP for setup.
setup_file() {
	export CRI_SKIP=
	if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null || ! command -v runc >/dev/null; then
		CRI_SKIP="containerd, ctr and runc are not installed (Debian: apt-get install containerd runc)"
	elif [ ! -x /usr/lib/cni/bridge ] || [ ! -x /usr/lib/cni/host-local ]; then
		CRI_SKIP="the CNI plugins are not installed (Debian: apt-get install containernetworking-plugins)"
	elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		CRI_SKIP="node and npm are not installed (Debian: apt-get install nodejs npm)"
	fi
	[ -z "$CRI_SKIP" ] || return 0
	"$HUSK_SRC/tests/cri/install"
	node -e "require('$HUSK_SRC/tests/cri/cri.js').apiProtoPath()" 2>/dev/null ||
		CRI_SKIP="Kubernetes' CRI api.proto not found (shared/third_party/cri-api/ beside the repository, or \$CRI_API_PROTO)"
	export CRI_IMAGE_TAR=$BATS_FILE_TMPDIR/image.tar
	# one image for the pod sandbox (its Cmd) and the containers (their own commands), with
	# /bin/euid setuid root (it prints its uid and euid), the host's nft and fuse-overlayfs with
	# their libraries for the privileged scenario
	mkdir -p "$BATS_FILE_TMPDIR/extra/bin"
	local tool
	for tool in nft fuse-overlayfs; do
		! command -v "$tool" >/dev/null || copy_with_libs "$(command -v "$tool")" "$BATS_FILE_TMPDIR/extra"
	done
	printf '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%%d %%d\\n", (int)getuid(), (int)geteuid()); return 0; }\n' >"$BATS_FILE_TMPDIR/euid.c"
	gcc -static -o "$BATS_FILE_TMPDIR/extra/bin/euid" "$BATS_FILE_TMPDIR/euid.c"
	chmod 4755 "$BATS_FILE_TMPDIR/extra/bin/euid"
	OCI_IMAGE_EXTRA=$BATS_FILE_TMPDIR/extra "$BATS_TEST_DIRNAME/make-oci-image" "$CRI_IMAGE_TAR" \
		docker.io/library/husk-busybox:latest sleep 2147483647
}

setup() {
	[ -z "$CRI_SKIP" ] || skip "$CRI_SKIP"
	husk_setup
	export CRI_DIR=$T/c HUSK_SHIM=$SHIM HUSK_CONFIG=$CONFIG HUSK_CLI=$HUSK
	# the pods' bridge and /24, the test's own (CNI's bridge plugin makes the bridge)
	export CRI_BRIDGE=$(link_name hk)
	export CRI_SUBNET=10.250.$((RANDOM % 256)).0/24
	# a host port nothing listens on, for the hostport cases
	export CRI_HOSTPORT
	while CRI_HOSTPORT=$((20000 + RANDOM % 20000)); ss -Htln "sport = :$CRI_HOSTPORT" | grep -q .; do :; done
	mkdir "$CRI_DIR"
	# the pods' cgroup parent, made beforehand as the kubelet makes its pod cgroups
	export CRI_CGROUP_PARENT=/husk-cri$$-$BATS_TEST_NUMBER CRI_CGROUP_MOUNTS
	CRI_CGROUP_MOUNTS=$(cg_mounts | tr '\n' ' ')
	pod_cgroup_parent_make
}

pod_cgroup_parent_make() {
	local m
	for m in $CRI_CGROUP_MOUNTS; do
		mkdir "$m$CRI_CGROUP_PARENT"
		if [ -f "$m/cpuset.cpus" ] && [ ! -f "$m/cgroup.subtree_control" ]; then
			cat "$m/cpuset.cpus" >"$m$CRI_CGROUP_PARENT/cpuset.cpus"
			cat "$m/cpuset.mems" >"$m$CRI_CGROUP_PARENT/cpuset.mems"
		fi
	done
}

# The parent and whatever a failed test left in it, once its processes are gone.
pod_cgroup_parent_remove() {
	local m d
	for m in $CRI_CGROUP_MOUNTS; do
		[ -d "$m$CRI_CGROUP_PARENT" ] || continue
		find "$m$CRI_CGROUP_PARENT" -depth -type d | while read -r d; do
			kill -KILL $(cat "$d/cgroup.procs") 2>/dev/null || true
			wait_exit 10 $(cat "$d/cgroup.procs") 2>/dev/null || true
			rmdir "$d"
		done
	done
}

teardown() {
	local id ns
	[ -n "${T:-}" ] || return 0
	if [ -s "$CRI_DIR/containerd.pid" ]; then
		kill -KILL "$(cat "$CRI_DIR/containerd.pid")" 2>/dev/null || true
	fi
	pkill -KILL -f -- "$T/" 2>/dev/null || true
	# runc containers outlive their killed shims
	for id in $(runc --root "$CRI_DIR/runc/k8s.io" list -q 2>/dev/null); do
		runc --root "$CRI_DIR/runc/k8s.io" delete --force "$id" 2>/dev/null || true
	done
	# a killed shim leaves its pod's state (/run/husk-v2/<pod id>)
	if [ -s "$CRI_DIR/ids" ]; then
		while read -r id; do
			pkill -KILL -f -- "$id" 2>/dev/null || true
			rm -rf --one-file-system "/run/husk-v2/$id"
		done <"$CRI_DIR/ids"
	fi
	awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r umount -l
	[ ! -s "$T/iptables.before" ] || portmap_cleanup "$T/iptables.before" "${CRI_SUBNET%0/24}" || true
	# a pod never removed keeps its CNI namespace (/var/run/netns/cni-*, an address in our /24)
	for ns in /var/run/netns/cni-*; do
		[ -e "$ns" ] || continue
		if ip -n "${ns##*/}" -o -4 addr show 2>/dev/null | grep -q " inet ${CRI_SUBNET%0/24}"; then
			ip netns del "${ns##*/}" 2>/dev/null || true
		fi
	done
	ip link del "$CRI_BRIDGE" 2>/dev/null || true
	pod_cgroup_parent_remove
	husk_teardown
}

# cri_scenario SCENARIO HANDLER [PEER_HANDLER]: runs tests/cri/pod.js; its step lines are the
# test's output.
cri_scenario() {
	run node "$HUSK_SRC/tests/cri/pod.js" "$@"
	echo "$output"
	[ "$status" -eq 0 ]
}

# cri_scenario_hostport HANDLER: the hostport scenario; afterwards the host's iptables rules
# are exactly those before it (once the chains portmap shares between pods are removed).
cri_scenario_hostport() {
	iptables_rules >"$T/iptables.before"
	cri_scenario hostport "$1"
	portmap_cleanup "$T/iptables.before" "${CRI_SUBNET%0/24}"
	iptables_rules >"$T/iptables.after"
	diff "$T/iptables.before" "$T/iptables.after"
}

# pod_cgroup_memory_limit BYTES: the pods' cgroup parent limited as the kubelet limits a pod's
pod_cgroup_memory_limit() {
	local m
	for m in $CRI_CGROUP_MOUNTS; do
		if [ -f "$m$CRI_CGROUP_PARENT/memory.limit_in_bytes" ]; then
			echo "$1" >"$m$CRI_CGROUP_PARENT/memory.limit_in_bytes"
		elif [ -f "$m$CRI_CGROUP_PARENT/memory.max" ]; then
			echo "$1" >"$m$CRI_CGROUP_PARENT/memory.max"
		fi
	done
}

need_shim() {
	[ -x "$SHIM" ] || skip "containerd-shim-husk-v2 not built"
}

@test "cri (runc): a pod of two containers, ExecSync, CRI logs, stop and remove; nothing left" {
	cri_scenario pod runc
}

@test "cri (runc): containerd restarted mid-pod; the pod still serves ExecSync" {
	cri_scenario restart runc
}

@test "cri (runc): shareProcessNamespace: the containers share the pod's PID namespace" {
	cri_scenario sharedpid runc
}

@test "cri (runc): two pods on the CNI network; a server in each answers a client in the other" {
	cri_scenario twopods runc
}

@test "cri (runc): a hostPort (CNI portmap) reaches the pod from the host; no iptables rule left" {
	cri_scenario_hostport runc
}

@test "cri (husk): a pod of two containers in one VM (same boot id, own rootfs), ExecSync, CRI logs, stop and remove; nothing left" {
	need_shim
	cri_scenario pod husk
}

@test "cri (husk): containerd restarted mid-pod; the pod's VM still serves ExecSync" {
	need_shim
	cri_scenario restart husk
}

@test "cri (husk): shareProcessNamespace: the containers share the pod's PID namespace in its VM" {
	need_shim
	cri_scenario sharedpid husk
}

@test "cri (husk): the pod's VM (QEMU) killed; its running container exits, a created one fails to start, the pod goes cleanly" {
	need_shim
	cri_scenario vmdies husk
}

@test "cri (husk): two husk pods (two VMs) on the CNI network; a server in each answers a client in the other" {
	need_shim
	cri_scenario twopods husk
}

@test "cri (husk): a husk pod and a runc pod on the CNI network; a server in each answers a client in the other" {
	need_shim
	cri_scenario twopods husk runc
}

@test "cri (husk): privileged: true makes a bridge, veth, tap, nftables NAT rule, overlay and fuse mount in the pod's VM, none on the host; setuid gives euid 0 unless no_new_privs" {
	need_shim
	command -v nft >/dev/null && command -v fuse-overlayfs >/dev/null ||
		skip "nft or fuse-overlayfs missing (scripts/install-deps)"
	cri_scenario privileged husk
}

@test "cri (husk): a pod of two 300 MiB containers gets a VM they both fit in (the pod cgroup's limit); each holds 250 MiB at once" {
	need_shim
	# the containers' limits plus the RuntimeClass overhead
	pod_cgroup_memory_limit $(((2 * 300 + 320) << 20))
	cri_scenario sizing husk
}

@test "cri (husk): husk metrics shows the pod by its CRI name and namespace with its guest's figures; the sandbox task's metrics are the pod's host side, a container's its guest's; an ExecSync moves its exec counter; gone with the pod" {
	need_shim
	cri_scenario metrics husk
}

@test "cri (husk): a pod whose cgroup allows more memory than the host has is refused with both figures; nothing left" {
	need_shim
	pod_cgroup_memory_limit $((2 * $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
	cri_scenario toobig husk
}

@test "cri (husk): hostNetwork, hostIPC and hostPID pods are refused with the reason; nothing left" {
	need_shim
	cri_scenario hostns husk
}

@test "cri (husk): a hostPort (CNI portmap) reaches the pod's VM from the host at 127.0.0.1 and the bridge's address; no iptables rule left" {
	need_shim
	cri_scenario_hostport husk
}
