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
