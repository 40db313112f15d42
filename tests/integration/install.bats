#!/usr/bin/env bats
# make install: the installed husk finds its helpers and guest image by its own
# location (libexec/husk, share/husk/guest) and runs a container.

load helpers

setup() {
	husk_setup
}

teardown() {
	husk_teardown
}

@test "install: the installed tree runs a container with its built-in defaults" {
	make -C "$HUSK_SRC" -s install DESTDIR="$T/dest" PREFIX=/usr/local SYSCONFDIR=/etc >/dev/null
	local prefix=$T/dest/usr/local
	[ -x "$prefix/bin/husk" ]
	[ -x "$prefix/bin/containerd-shim-husk-v2" ]
	[ -x "$prefix/libexec/husk/husk-vsockd" ]
	[ -x "$prefix/libexec/husk/husk-agent" ]
	[ -f "$prefix/share/husk/guest/vmlinuz" ]
	[ -f "$prefix/share/husk/guest/initrd.img" ]
	[ -f "$T/dest/etc/husk/husk.json" ]
	# no test programs in the installed tree
	[ -z "$(find "$T/dest" -name 'vsock-*' -o -name 'agent-client')" ]

	run "$prefix/bin/husk" check
	[[ "$output" == *"husk-vsockd   $prefix/libexec/husk/husk-vsockd"* ]]
	[[ "$output" == *"guest kernel  $prefix/share/husk/guest/vmlinuz"* ]]

	bundle_with '["sh", "-c", "echo out; exit 5"]'
	status=0
	"$prefix/bin/husk" --root "$ROOT" run --config "$T/dest/etc/husk/husk.json" \
		--bundle "$T/bundle" "$ID" >"$T/out" 2>"$T/err" </dev/null || status=$?
	[ "$status" -eq 5 ]
	[ "$(cat "$T/out")" = out ]
	assert_clean
}
