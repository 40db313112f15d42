#!/bin/bash
# Cost of the guest's on-demand kernel modules: initrd size, boot to the agent (hyperfine) and
# the guest's own memory (/proc/meminfo in a container) idle and after a container made a
# bridge, veth, VLAN, vxlan and an nftables NAT rule, for OLD_INITRD (an initrd built without
# them, e.g. from the commit before) against build/guest/initrd.img.
# Usage: OLD_INITRD=path bench/modules.sh   Needs: make all build/bench/boot-to-agent, nft, hyperfine.
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
: "${OLD_INITRD:?set OLD_INITRD to an initrd without the on-demand modules}"
T=$(mktemp -d /tmp/priv-m.XXXXXX)
trap 'rm -rf "$T"' EXIT
for v in old new; do
	initrd=$PWD/$B/guest/initrd.img
	if [ $v = old ]; then initrd=$OLD_INITRD; fi
	cat >"$T/husk-$v.json" <<JSON
{ "kernel": "$PWD/$B/guest/vmlinuz", "initrd": "$initrd",
  "vsockd": "$PWD/$B/bin/husk-vsockd", "accel": "tcg" }
JSON
	echo "$v initrd: $(stat -c %s "$initrd") bytes"
done
scripts/mkbundle "$T/bundle" sh /m.sh >/dev/null
cat >"$T/bundle/rootfs/m.sh" <<'SH'
m() { awk '/^(MemTotal|MemFree|MemAvailable|Cached|Unevictable):/ { printf "%s %s ", $1, $2 } END { print "" }' /proc/meminfo; }
echo "idle: $(m) modules $(wc -l </proc/modules)"
if ip link add b0 type bridge 2>/dev/null; then
	ip link add v0 type veth; ip link add link b0 name b0.5 type vlan id 5 || true
	ip link add vx0 type vxlan id 42 dstport 4789 dev b0 || true
	nft add table ip t && nft add chain ip t post '{ type nat hook postrouting priority 100; }' && nft add rule ip t post masquerade
	mkdir -p /mnt && mount -t tmpfs t /mnt
	echo "loaded: $(m) modules $(wc -l </proc/modules)"
fi
SH
for f in /usr/sbin/nft $(ldd /usr/sbin/nft | grep -o '/[^ ]*'); do
	mkdir -p "$T/bundle/rootfs$(dirname "$f")"; cp -L "$f" "$T/bundle/rootfs$f"
done
jq '.process.capabilities = {bounding: ["CAP_NET_ADMIN","CAP_SYS_ADMIN"], effective: ["CAP_NET_ADMIN","CAP_SYS_ADMIN"], permitted: ["CAP_NET_ADMIN","CAP_SYS_ADMIN"]} | .linux.namespaces += [{type: "network"}]' \
	"$T/bundle/config.json" >"$T/c" && mv "$T/c" "$T/bundle/config.json"
for v in old new old new; do
	echo "$v: $($B/bin/husk --root "$T/r" run --config "$T/husk-$v.json" --bundle "$T/bundle" m$v 2>&1 | tr '\n' ' ')"
done
hyperfine --runs 8 --warmup 1 --export-markdown "$T/table.md" \
	-n "boot to agent, old initrd" "$B/bench/boot-to-agent --config $T/husk-old.json $T/bare b" \
	-n "boot to agent, new initrd" "$B/bench/boot-to-agent --config $T/husk-new.json $T/bare b" >&2
cat "$T/table.md"
