#!/usr/bin/env bats
# Pod networking with husk run: a network namespace the test makes (ip netns add) with a veth
# whose peer is in a second namespace of the test's, named by path in the spec. The container
# sees the veth's addresses, routes and MTU on a NIC with the veth's MAC and reaches the peer
# (ICMP, TCP); afterwards the namespace is exactly as it was. Traffic only between the test's
# two namespaces. One real VM (QEMU TCG) per test.

load helpers

setup() {
	husk_setup
	NS=husk-pod-$$-$BATS_TEST_NUMBER
	PEER=husk-peer-$$-$BATS_TEST_NUMBER
	ip netns add "$NS"
	ip netns add "$PEER"
	ip -n "$NS" link set lo up
	ip -n "$PEER" link set lo up
	ip -n "$NS" link add eth0 mtu 1400 type veth peer name p0 mtu 1400 netns "$PEER"
	ip -n "$NS" addr add 10.99.0.2/24 dev eth0
	ip -n "$NS" addr add fd99::2/64 dev eth0 nodad
	ip -n "$NS" link set eth0 up
	ip -n "$NS" route add 10.98.0.0/16 via 10.99.0.1
	ip -n "$PEER" addr add 10.99.0.1/24 dev p0
	ip -n "$PEER" addr add fd99::1/64 dev p0 nodad
	ip -n "$PEER" link set p0 up
	MAC=$(ip -n "$NS" -o link show eth0 | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p')
}

teardown() {
	[ -z "${LISTENER:-}" ] || kill "$LISTENER" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$PEER" 2>/dev/null || true
	husk_teardown
}

# bundle_in_netns ARGS...: a busybox bundle running ARGS in the network namespace at
# /var/run/netns/$NS.
bundle_in_netns() {
	"$HUSK_SRC/scripts/mkbundle" "$T/bundle" "$@"
	jq --arg p "/var/run/netns/$NS" \
		'.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' \
		"$T/bundle/config.json" >"$T/config.json"
	mv "$T/config.json" "$T/bundle/config.json"
}

# What the namespace's maker made: links, addresses, routes, neighbours, qdiscs (an IPv6
# link-local address may have finished DAD in between).
netns_snapshot() {
	{
		ip -n "$NS" -o link show
		ip -n "$NS" -o addr show
		ip -n "$NS" route show
		ip -n "$NS" -6 route show
		ip -n "$NS" neigh show nud permanent
		tc -n "$NS" qdisc show
	} | sed 's/ tentative//; s/ *$//'
}

@test "net: the container has the namespace's addresses, routes, MTU and MAC and reaches the peer; afterwards the namespace is as it was" {
	netns_snapshot >"$T/before"
	ip netns exec "$PEER" socat -u TCP-LISTEN:5000,reuseaddr OPEN:"$T/tcp",creat &
	LISTENER=$!
	bundle_in_netns sh -c 'ip -o addr show eth0; ip -o link show eth0; ip route; ip -6 route; '`
		`'ping -c 1 -W 10 10.99.0.1 >/dev/null && echo ping-ok; '`
		`'ping6 -c 1 -W 10 fd99::1 >/dev/null && echo ping6-ok; '`
		`'echo hello-tcp | nc 10.99.0.1 5000 && echo tcp-ok'
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	grep -q 'inet 10.99.0.2/24' "$T/out"
	grep -q 'inet6 fd99::2/64' "$T/out"
	grep -q "eth0: .* mtu 1400 " "$T/out"
	grep -q "link/ether $MAC " "$T/out"
	grep -q '^10.98.0.0/16 via 10.99.0.1 dev eth0' "$T/out"
	grep -q '^10.99.0.0/24 dev eth0' "$T/out"
	grep -q '^fd99::/64 dev eth0' "$T/out"
	grep -qx ping-ok "$T/out"
	grep -qx ping6-ok "$T/out"
	grep -qx tcp-ok "$T/out"
	wait "$LISTENER"
	LISTENER=
	[ "$(cat "$T/tcp")" = hello-tcp ]
	netns_snapshot >"$T/after"
	diff "$T/before" "$T/after"
	! ip -n "$NS" -o link show type tun | grep .
	! tc -n "$NS" qdisc show | grep -q ingress
	assert_clean
}

@test "net: the redirect is in place while the container runs, and gone after delete" {
	bundle_in_netns sleep 1000
	"$HUSK" --root "$ROOT" create --config "$CONFIG" --bundle "$T/bundle" "$ID" </dev/null
	[ "$(tc -n "$NS" qdisc show | grep -c ingress)" -eq 2 ]
	tc -n "$NS" filter show dev eth0 ingress | grep -q 'mirred (Egress Redirect to device tap'
	[ "$(ip -n "$NS" -o link show type tun | wc -l)" -eq 1 ]
	"$HUSK" --root "$ROOT" delete --force "$ID"
	! tc -n "$NS" qdisc show | grep -q ingress
	! ip -n "$NS" -o link show type tun | grep .
	assert_clean
}

@test "net: a path that is no network namespace is one error line; nothing left" {
	bundle_in_netns true
	: >"$T/notns"
	jq --arg p "$T/notns" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' \
		"$T/bundle/config.json" >"$T/c" && mv "$T/c" "$T/bundle/config.json"
	husk_run
	[ "$status" -ne 0 ]
	assert_one_error_line "network namespace $T/notns: not a network namespace"
	assert_clean
}

@test "net: an interface of a kind husk cannot attach is one error line; the namespace is left as it was" {
	ip -n "$NS" link add br0 type bridge
	ip -n "$NS" addr add 10.97.0.1/24 dev br0
	netns_snapshot >"$T/before"
	bundle_in_netns true
	husk_run
	[ "$status" -ne 0 ]
	assert_one_error_line "network namespace /var/run/netns/$NS: interface br0: kind \"bridge\" not supported \(veth, macvlan\)"
	netns_snapshot >"$T/after"
	diff "$T/before" "$T/after"
	assert_clean
}

@test "net: a spec without a network namespace (the host's network) is refused before any VM" {
	"$HUSK_SRC/scripts/mkbundle" "$T/bundle" true
	jq '.linux.namespaces |= map(select(.type != "network"))' "$T/bundle/config.json" >"$T/c"
	mv "$T/c" "$T/bundle/config.json"
	husk_run
	[ "$status" -ne 0 ]
	assert_one_error_line "linux.namespaces: no network namespace: a VM cannot share the host's network"
	[ ! -e "$T/root/$ID" ]
	assert_clean
}
