#!/usr/bin/env bats
# What a container may do to itself inside its VM, as with runc: setuid programs of its rootfs.
# Real VMs (TCG).

load helpers

setup() {
	husk_setup
}

teardown() {
	husk_teardown
}

# spec_set JQ: edits the bundle's config.json
spec_set() {
	jq "$1" "$T/bundle/config.json" >"$T/c" && mv "$T/c" "$T/bundle/config.json"
}

@test "setuid: uid 1000 running a setuid-root program gets euid 0; with noNewPrivileges it stays 1000" {
	bundle_with '["/bin/euid"]'
	printf '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%%d %%d\\n", (int)getuid(), (int)geteuid()); return 0; }\n' >"$T/euid.c"
	gcc -static -o "$T/bundle/rootfs/bin/euid" "$T/euid.c"
	chmod 4755 "$T/bundle/rootfs/bin/euid"
	spec_set '.process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false'
	husk_run
	cat "$T/err" >&2
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "1000 0" ]
	spec_set '.process.noNewPrivileges = true'
	husk_run
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "1000 1000" ]
	assert_clean
}

# privileged_spec: makes $T/bundle's config.json what `docker run --privileged` writes (moby's
# WithDevices and privileged defaults): every device node of the HOST in linux.devices (runc's
# HostDevices walk of /dev), the device rules deny-all then allow-all, every capability, no
# seccomp, no masked or read-only paths, /sys and cgroups read-write.
privileged_spec() {
	local caps devices
	caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID","CAP_KILL",
		"CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_LINUX_IMMUTABLE","CAP_NET_BIND_SERVICE",
		"CAP_NET_BROADCAST","CAP_NET_ADMIN","CAP_NET_RAW","CAP_IPC_LOCK","CAP_IPC_OWNER",
		"CAP_SYS_MODULE","CAP_SYS_RAWIO","CAP_SYS_CHROOT","CAP_SYS_PTRACE","CAP_SYS_PACCT",
		"CAP_SYS_ADMIN","CAP_SYS_BOOT","CAP_SYS_NICE","CAP_SYS_RESOURCE","CAP_SYS_TIME",
		"CAP_SYS_TTY_CONFIG","CAP_MKNOD","CAP_LEASE","CAP_AUDIT_WRITE","CAP_AUDIT_CONTROL",
		"CAP_SETFCAP","CAP_MAC_OVERRIDE","CAP_MAC_ADMIN","CAP_SYSLOG","CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND","CAP_AUDIT_READ","CAP_PERFMON","CAP_BPF","CAP_CHECKPOINT_RESTORE"]'
	devices=$(find /dev \( -path /dev/pts -o -path /dev/shm -o -path /dev/fd -o -path /dev/mqueue \
		-o -path /dev/.udev -o -path /dev/.lxc \) -prune -o \( -type c -o -type b \) ! -name console \
		-exec stat -c '%n %Hr %Lr %a %u %g %F' {} + |
		awk 'function oct(s,  v, i) { for (i = 1; i <= length(s); i++) v = v * 8 + substr(s, i, 1); return v }
			{ printf "%s{\"path\":\"%s\",\"type\":\"%s\",\"major\":%d,\"minor\":%d,\"fileMode\":%d,\"uid\":%d,\"gid\":%d}",
				n++ ? "," : "", $1, $7 == "character" ? "c" : "b", $2, $3, oct($4), $5, $6 }')
	spec_set ".process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps, inheritable: $caps}
		| .mounts += [{destination: \"/sys\", type: \"sysfs\", source: \"sysfs\", options: [\"nosuid\", \"noexec\", \"nodev\", \"rw\"]},
			{destination: \"/dev/pts\", type: \"devpts\", source: \"devpts\", options: [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},
			{destination: \"/sys/fs/cgroup\", type: \"cgroup\", source: \"cgroup\", options: [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"rw\"]}]
		| .linux.devices = [$devices]
		| .linux.resources = {devices: [{allow: false, access: \"rwm\"}, {allow: true, access: \"rwm\"}]}"
}

@test "privileged (Docker's --privileged spec): bridge, veth, tap, nftables NAT, overlay and a rw /sys act on the VM, none of it on the host; modules load on demand" {
	command -v nft >/dev/null || skip "nft missing (scripts/install-deps)"
	local br veth tap tbl pid line links mounts
	br=$(link_name hb) veth=$(link_name hv) tap=$(link_name ht) tbl=$(link_name hn)
	bundle_with '["sh", "-e", "/priv.sh"]'
	cat >"$T/bundle/rootfs/priv.sh" <<-EOF
		grep -cE '^(bridge|veth|tun|nf_tables) ' /proc/modules || true
		ip link add $br type bridge
		ip link add $veth type veth
		brctl addif $br $veth
		tunctl -t $tap >/dev/null
		echo 1 >/sys/class/net/$br/bridge/stp_state
		nft add table ip $tbl
		nft add chain ip $tbl post '{ type nat hook postrouting priority 100; }'
		nft add rule ip $tbl post oifname $br masquerade
		mkdir -p /mnt && mount -t tmpfs tmpfs /mnt && cd /mnt && mkdir l u w m && echo low >l/f
		mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w m && echo up >m/f
		grep -cE '^(bridge|veth|tun|nf_tables|nft_chain_nat|nft_masq) ' /proc/modules
		ip -o link | grep -o '$br\\|$veth\\|$tap' | sort -u | tr '\\n' ' '; echo
		cat /sys/class/net/$br/bridge/stp_state
		nft list table ip $tbl | grep -o masquerade
		grep -c '^overlay /mnt/m overlay' /proc/mounts; cat u/f
		echo ready; read x
	EOF
	privileged_spec
	spec_set '.process.env = ["PATH=/bin:/usr/sbin"]'
	copy_with_libs "$(command -v nft)" "$T/bundle/rootfs"
	links=$(ip -o link | cut -d: -f2 | sort)
	mounts=$(sort /proc/self/mountinfo)
	mkfifo "$T/in" "$T/outp"
	"$HUSK" --root "$ROOT" run --config "$CONFIG" --bundle "$T/bundle" "$ID" <"$T/in" >"$T/outp" 2>"$T/err" &
	pid=$!
	exec 7>"$T/in" 8<"$T/outp"
	while read -r -t 300 line <&8; do
		echo "$line" >>"$T/out"
		[ "$line" != ready ] || break
	done
	cat "$T/out" "$T/err" >&2
	[ "$line" = ready ]
	# while they exist in the guest: no such link, table or mount on the host
	for l in "$br" "$veth" "$tap"; do ! ip link show "$l" 2>/dev/null; done
	! nft list table ip "$tbl" 2>/dev/null
	[ "$(ip -o link | cut -d: -f2 | sort)" = "$links" ]
	[ "$(sort /proc/self/mountinfo)" = "$mounts" ]
	echo go >&7
	exec 7>&-
	cat <&8 >>"$T/out"
	exec 8<&-
	wait "$pid"
	[ "$(sed -n 1p "$T/out")" = 0 ]
	[ "$(sed -n 2p "$T/out")" = 6 ]
	[ "$(sed -n 3p "$T/out")" = "$(printf '%s\n' "$br" "$tap" "$veth" | sort | paste -sd ' ')" ]
	[ "$(sed -n 4,7p "$T/out" | tr '\n' ' ')" = "1 masquerade 1 up " ]
	assert_clean
}

@test "privileged: a fuse mount (fuse-overlayfs) and a nested runc container run inside the VM" {
	local tool
	for tool in fuse-overlayfs runc; do
		command -v "$tool" >/dev/null || skip "$tool missing (scripts/install-deps)"
	done
	bundle_with '["sh", "-e", "/nest.sh"]'
	cat >"$T/bundle/rootfs/nest.sh" <<-'EOF2'
		mkdir -p /mnt /run && mount -t tmpfs tmpfs /mnt && cd /mnt && mkdir l u w m && echo low >l/f
		fuse-overlayfs -o lowerdir=l,upperdir=u,workdir=w m
		grep -c '^fuse-overlayfs /mnt/m fuse' /proc/mounts
		cat m/f; echo up >m/g; cat u/g
		umount m
		# as docker-in-docker's entrypoint: this container's processes move to a child cgroup
		# so that the controllers can be given to the nested container's
		cd /sys/fs/cgroup && mkdir init
		for p in $(cat cgroup.procs); do echo "$p" >init/cgroup.procs 2>/dev/null || true; done
		sed -e 's/ / +/g' -e 's/^/+/' cgroup.controllers >cgroup.subtree_control
		runc run -b /inner inner
		runc list -q | wc -l
	EOF2
	privileged_spec
	spec_set '.process.env = ["PATH=/bin:/usr/sbin:/usr/bin"]'
	copy_with_libs "$(command -v fuse-overlayfs)" "$T/bundle/rootfs"
	copy_with_libs "$(command -v runc)" "$T/bundle/rootfs"
	"$HUSK_SRC/scripts/mkrootfs" "$T/bundle/rootfs/inner/rootfs"
	runc spec -b "$T/bundle/rootfs/inner"
	jq '.process.terminal = false | .process.args = ["sh", "-c", "echo nested pid $$ on $(uname -r)"]' \
		"$T/bundle/rootfs/inner/config.json" >"$T/c" && mv "$T/c" "$T/bundle/rootfs/inner/config.json"
	husk_run
	cat "$T/out" "$T/err" >&2
	[ "$status" -eq 0 ]
	[ "$(sed -n 1,3p "$T/out" | tr '\n' ' ')" = "1 low up " ]
	# the nested container shares the VM's kernel, not the host's
	[[ "$(sed -n 4p "$T/out")" == "nested pid 1 on "* ]]
	[ "$(sed -n 4p "$T/out")" != "nested pid 1 on $(uname -r)" ]
	[ "$(sed -n 5p "$T/out")" = 0 ]
	assert_clean
}

@test "device nodes: made in the container's /dev (the guest's tmpfs), refused with EPERM on the rootfs and a rw bind (virtiofsd cannot make them on the host); FIFOs still work" {
	mkdir "$T/src"
	bundle_with '["sh", "-c", "mknod /dev/n1 c 1 3 && echo dev-ok; mknod /n2 c 1 3 2>&1; mknod /b/n3 b 8 0 2>&1; mkfifo /b/fifo && [ -p /b/fifo ] && echo fifo-ok"]'
	privileged_spec
	spec_set ".mounts += [{destination: \"/b\", type: \"bind\", source: \"$T/src\", options: [\"rbind\"]}]"
	husk_run
	cat "$T/out" "$T/err" >&2
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "dev-ok
mknod: /n2: Operation not permitted
mknod: /b/n3: Operation not permitted
fifo-ok" ]
	[ ! -e "$T/bundle/rootfs/n2" ]
	[ ! -e "$T/src/n3" ]
	[ -p "$T/src/fifo" ]
	assert_clean
}
