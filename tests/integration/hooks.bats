#!/usr/bin/env bats
# OCI hooks end to end (real VMs): the host runs prestart, createRuntime, poststart and
# poststop; the guest runs createContainer and startContainer in the container.

load helpers

setup() {
	husk_setup
	H=("$HUSK" --root "$ROOT")
	# host hook: appends "NAME STATUS ID [ANNOTATIONS]" (from the state on stdin) to $T/host.log
	cat >"$T/hook" <<'SH'
#!/bin/sh
state=$(cat)
printf '%s %s\n' "$1" "$(printf '%s' "$state" |
	jq -r '.status + " " + .id + (if .annotations then " " + (.annotations | tojson) else "" end)')" >>"$2"
SH
	chmod +x "$T/hook"
	bundle_with '["sh", "-c", "echo ready; read line"]'
	# guest hook, in the container's rootfs: appends "NAME STATE-JSON" to /hooks.log
	cat >"$T/bundle/rootfs/hook" <<'SH'
#!/bin/sh
state=$(cat)
echo "$1 $state" >>/hooks.log
SH
	chmod +x "$T/bundle/rootfs/hook"
}

teardown() {
	if [ -n "${T:-}" ] && [ -s "$T/pid" ]; then
		kill -KILL "$(cat "$T/pid")" 2>/dev/null || true
	fi
	husk_teardown
}

# host_hook NAME [EXTRA_JSON]: a hook object running $T/hook NAME $T/host.log
host_hook() {
	echo "{\"path\": \"$T/hook\", \"args\": [\"hook\", \"$1\", \"$T/host.log\"], \"env\": [\"PATH=/usr/bin:/bin\"]${2:+, $2}}"
}

# guest_hook NAME: a hook object running /hook NAME in the container
guest_hook() {
	echo "{\"path\": \"/hook\", \"args\": [\"hook\", \"$1\"], \"env\": [\"PATH=/bin\"]}"
}

# set_hooks JSON: config.json's "hooks"
set_hooks() {
	jq --argjson h "$1" '.hooks = $h' "$T/bundle/config.json" >"$T/config.tmp"
	mv "$T/config.tmp" "$T/bundle/config.json"
}

all_hooks() {
	set_hooks "{
		\"prestart\": [$(host_hook prestart)],
		\"createRuntime\": [$(host_hook createRuntime)],
		\"createContainer\": [$(guest_hook createContainer)],
		\"startContainer\": [$(guest_hook startContainer)],
		\"poststart\": [$(host_hook poststart)],
		\"poststop\": [$(host_hook poststop)]}"
}

# husk create in the background holding stdin open (FIFO on fd 8), stdout on fd 9.
husk_create() {
	mkfifo "$T/in" "$T/out"
	exec 8<>"$T/in" 9<>"$T/out"
	status=0
	"${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid" "$ID" \
		<"$T/in" >"$T/out" 2>"$T/err" 3>&- 8>&- 9>&- || status=$?
}

expect_line() {
	local line
	read -r -t 60 -u 9 line
	[ "$line" = "$1" ] || { echo "expected '$1', got '$line'" >&2; return 1; }
}

# guest_log: "NAME STATUS ID PID-IS-A-NUMBER BUNDLE" for every line of the guest hooks' log
guest_log() {
	local name json
	while read -r name json; do
		echo "$name $(echo "$json" | jq -r '[.status, .id, (.pid > 0 | tostring), .bundle] | join(" ")')"
	done <"$T/bundle/rootfs/hooks.log"
}

@test "hooks: every kind runs at its point of the lifecycle, in order, with the state of that point" {
	all_hooks
	jq '.annotations = {"org.example.any": "a b"}' "$T/bundle/config.json" >"$T/config.tmp"
	mv "$T/config.tmp" "$T/bundle/config.json"
	local a='{"org.example.any":"a b"}'
	husk_create
	cat "$T/err"
	[ "$status" -eq 0 ]
	# create: prestart, createRuntime (host, "created": runtime.md's steps 3 and 4 come after the
	# environment of step 2), then createContainer in the guest; the state carries the annotations
	[ "$(cat "$T/host.log")" = "$(printf 'prestart created %s %s\ncreateRuntime created %s %s' "$ID" "$a" "$ID" "$a")" ]
	[ "$(guest_log)" = "createContainer creating $ID true /" ]
	[ "$("${H[@]}" state "$ID" | jq -c .annotations)" = "$a" ]
	# config.json changed after create changes nothing (poststop comes from ROOT/ID/config.json)
	set_hooks '{}'
	"${H[@]}" start "$ID"
	expect_line ready
	# start: startContainer in the guest ("created": the program is not running yet), then poststart
	[ "$(guest_log | tail -n 1)" = "startContainer created $ID true /" ]
	[ "$(tail -n 1 "$T/host.log")" = "poststart running $ID $a" ]
	echo bye >&8
	wait_exit 60 "$(cat "$T/pid")"
	[ "$(wc -l <"$T/host.log")" -eq 3 ]
	"${H[@]}" delete "$ID"
	# poststop once the container is gone
	[ "$(tail -n 1 "$T/host.log")" = "poststop stopped $ID $a" ]
	[ "$(wc -l <"$T/host.log")" -eq 4 ]
	[ "$(wc -l <"$T/bundle/rootfs/hooks.log")" -eq 2 ]
	assert_clean
}

@test "hooks: husk run runs them all, poststop after the container is deleted" {
	bundle_with '["true"]'
	all_hooks
	husk_run
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cut -d' ' -f1,2 "$T/host.log" | tr '\n' ,)" = "prestart created,createRuntime created,poststart running,poststop stopped," ]
	[ "$(guest_log | cut -d' ' -f1,2 | tr '\n' ,)" = "createContainer creating,startContainer created," ]
	assert_clean
	# --keep: the container is deleted, and poststop runs, only at husk delete; hook output is logged
	rm "$T/host.log"
	set_hooks "{\"poststart\": [{\"path\": \"/bin/echo\", \"args\": [\"echo\", \"said-hello\"]}],
		\"poststop\": [$(host_hook poststop)]}"
	status=0
	"${H[@]}" --debug --log "$T/log.json" --log-format json run --config "$CONFIG" \
		--bundle "$T/bundle" --keep "$ID" </dev/null >"$T/out" 2>"$T/err" || status=$?
	[ "$status" -eq 0 ]
	[ ! -e "$T/host.log" ]
	jq -s -e 'any(.[]; .msg == "hook poststart[0]: said-hello")' "$T/log.json"
	"${H[@]}" delete "$ID"
	[ "$(cat "$T/host.log")" = "poststop stopped $ID" ]
	assert_clean
}

@test "hooks: a failing prestart or createRuntime hook fails create naming it, leaves nothing, runs poststop" {
	local kind
	for kind in prestart createRuntime; do
		rm -f "$T/host.log"
		set_hooks "{\"$kind\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo no-network >&2; exit 3\"]}],
			\"createContainer\": [$(guest_hook createContainer)],
			\"poststop\": [$(host_hook poststop)]}"
		run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid" "$ID"
		[ "$status" -eq 1 ]
		[ "$output" = "husk: create $ID: hook $kind[0] /bin/sh: exited with status 3: no-network" ]
		[ ! -e "$T/pid" ]
		[ ! -e "$T/bundle/rootfs/hooks.log" ]
		[ "$(cat "$T/host.log")" = "poststop stopped $ID" ]
		assert_clean
	done
}

@test "hooks: a failing createContainer hook fails create with the guest's reason, leaves nothing, runs poststop" {
	cat >"$T/bundle/rootfs/hook" <<'SH'
#!/bin/sh
echo "no /dev/fuse here" >&2
exit 5
SH
	set_hooks "{\"createContainer\": [$(guest_hook createContainer)], \"poststop\": [$(host_hook poststop)]}"
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid" "$ID"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "husk: create $ID: "*"hook createContainer[0] /hook: exited with status 5: no /dev/fuse here" ]]
	[ ! -e "$T/pid" ]
	[ "$(cat "$T/host.log")" = "poststop stopped $ID" ]
	assert_clean
}

@test "hooks: a hook's timeout is enforced: the hook and its children are killed, create fails" {
	set_hooks '{"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 7654321 & sleep 7654322"], "timeout": 1}]}'
	SECONDS=0
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: create $ID: hook createRuntime[0] /bin/sh: timed out after 1 s" ]
	[ "$SECONDS" -lt 60 ]
	! pgrep -f "sleep 765432[12]"
	assert_clean
}

@test "hooks: a failing poststart or poststop hook only warns" {
	bundle_with '["sh", "-c", "echo out; exit 4"]'
	set_hooks '{"poststart": [{"path": "/bin/false"}], "poststop": [{"path": "/no/such/hook"}]}'
	husk_run
	[ "$status" -eq 4 ]
	[ "$(cat "$T/out")" = out ]
	cat "$T/err"
	[ "$(wc -l <"$T/err")" -eq 2 ]
	grep -q "warn: hook poststart\[0\] /bin/false: exited with status 1" "$T/err"
	grep -q "warn: hook poststop\[0\] /no/such/hook: exited with status 127: exec /no/such/hook: No such file or directory" "$T/err"
	assert_clean
}

@test "hooks: guest hooks run in the container's root and namespaces; a failing startContainer fails start" {
	cat >"$T/bundle/rootfs/hook" <<'SH'
#!/bin/sh
cat >/dev/null
[ -e /only-in-this-rootfs ] && echo "root ok $(hostname)" >>/hooks.log
[ "$1" = startContainer ] && { echo bad-start >&2; exit 9; }
exit 0
SH
	touch "$T/bundle/rootfs/only-in-this-rootfs"
	set_hooks "{\"createContainer\": [$(guest_hook createContainer)],
		\"startContainer\": [$(guest_hook startContainer)]}"
	husk_create
	[ "$status" -eq 0 ]
	[ "$(cat "$T/bundle/rootfs/hooks.log")" = "root ok husk" ]
	run "${H[@]}" start "$ID"
	[ "$status" -eq 1 ]
	[[ "$output" == "husk: start $ID: "*"hook startContainer[0] /hook: exited with status 9: bad-start"* ]]
	wait_exit 60 "$(cat "$T/pid")"
	"${H[@]}" delete "$ID"
	assert_clean
}

@test "hooks: invalid hooks are refused naming the field; nothing starts" {
	set_hooks '{"prestart": [{"path": "relative/hook"}]}'
	run "${H[@]}" create --config "$CONFIG" --bundle "$T/bundle" "$ID"
	[ "$status" -eq 1 ]
	[ "$output" = "husk: create $ID: bundle $T/bundle: config.json: hooks.prestart[0].path: must be an absolute path" ]
	set_hooks '{"poststop": [{"path": "/bin/true"}, {"path": "/bin/true", "timeout": 0}]}'
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "config.json: hooks.poststop\[1\].timeout: must be a whole number of seconds, 1 to 86400$"
	set_hooks '{"createContainer": {"path": "/bin/true"}}'
	husk_run
	[ "$status" -eq 1 ]
	assert_one_error_line "config.json: hooks.createContainer: must be an array$"
	assert_clean
}
