#!/usr/bin/env bats
# Host bind mounts shared into the guest through virtio-fs (issue 6): read-only enforced on
# the host, writes of a rw bind reaching the host, file binds, rbind vs bind, relative
# sources, file system options ignored on binds (as runc), errors, and nothing left mounted. Real VMs (TCG), one per test.

load helpers

setup() {
	husk_setup
	make_bundle "$T/bundle"
	SRC=$T/src
	mkdir -p "$SRC"
	echo from-host >"$SRC/file"
}

teardown() {
	if [ -n "${T:-}" ] && [ -s "$T/pid" ]; then
		kill -KILL "$(cat "$T/pid")" 2>/dev/null || true
	fi
	[ -z "${SUBMOUNT:-}" ] || umount "$SUBMOUNT" 2>/dev/null || true
	[ -z "${SHARED_SRC:-}" ] || umount "$SHARED_SRC" 2>/dev/null || true
	husk_teardown
}

# bind_spec ARGS_JSON MOUNT_JSON...: $T/bundle/config.json running ARGS with the mounts added.
bind_spec() {
	local args=$1 m
	shift
	write_spec "$T/bundle" "$args"
	for m in "$@"; do
		jq --argjson m "$m" '.mounts += [$m]' "$T/bundle/config.json" >"$T/config.new"
		mv "$T/config.new" "$T/bundle/config.json"
	done
}

# Fails if any process's mount table still names $SRC.
assert_src_unmounted() {
	if grep -l -F -- "$SRC" /proc/[0-9]*/mountinfo 2>/dev/null; then
		echo "mounts of $SRC left behind" >&2
		return 1
	fi
}

@test "a host directory bind-mounted read-only is visible and not writable" {
	bind_spec '["sh","-c","cat /data/file; touch /data/new; echo touch=$?; grep \" /data \" /proc/mounts"]' \
		"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"$SRC\",\"options\":[\"rbind\",\"ro\",\"nosuid\"]}"
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$T/out")" = from-host ]
	grep -q "Read-only file system" "$T/out" "$T/err"
	grep -qx "touch=1" "$T/out"
	grep -E -q "^[^ ]+ /data [^ ]+ ro,nosuid" "$T/out"
	[ ! -e "$SRC/new" ]
	assert_clean
	assert_src_unmounted
}

@test "writes to a rw bind mount reach the host; the container's uname differs from the host's" {
	bind_spec '["sh","-c","echo written >/data/out; mkdir /data/d; uname -r"]' \
		"{\"destination\":\"/data\",\"source\":\"$SRC\",\"options\":[\"bind\"]}"
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$SRC/out")" = written ]
	[ -d "$SRC/d" ]
	[ "$(cat "$T/out")" != "$(uname -r)" ]
	assert_clean
	assert_src_unmounted
}

@test "file system options on a bind (mode=, size=) are ignored as runc does, not refused" {
	bind_spec '["sh","-c","cat /data/file; grep \" /data \" /proc/mounts"]' \
		"{\"destination\":\"/data\",\"source\":\"$SRC\",\"options\":[\"nosuid\",\"mode=755\",\"size=1k\",\"rbind\",\"rshared\"]}"
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$T/out")" = from-host ]
	grep -E -q "^[^ ]+ /data [^ ]+ rw,nosuid" "$T/out"
	! grep -q "size=1k" "$T/out"
	assert_clean
	assert_src_unmounted
}

@test "a file bind mount: the destination is created as a file, ro is enforced" {
	echo "10.0.0.1 host-entry" >"$T/hosts"
	bind_spec '["sh","-c","cat /etc/extra/hosts; [ -f /etc/extra/hosts ] && echo is-file; echo x >>/etc/extra/hosts || echo denied"]' \
		"{\"destination\":\"/etc/extra/hosts\",\"type\":\"bind\",\"source\":\"$T/hosts\",\"options\":[\"rbind\",\"ro\"]}"
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$T/out")" = "10.0.0.1 host-entry" ]
	grep -qx is-file "$T/out"
	grep -qx denied "$T/out"
	[ "$(cat "$T/hosts")" = "10.0.0.1 host-entry" ]
	assert_clean
}

@test "rbind brings the source's submounts, bind does not; a relative source is the bundle's" {
	SUBMOUNT=$SRC/sub
	mkdir "$SUBMOUNT"
	mount -t tmpfs tmpfs "$SUBMOUNT"
	echo in-submount >"$SUBMOUNT/f"
	mkdir "$T/bundle/rel"
	echo relative >"$T/bundle/rel/f"
	bind_spec '["sh","-c","cat /r/sub/f; cat /b/sub/f 2>/dev/null || echo no-submount; cat /rel/f"]' \
		"{\"destination\":\"/r\",\"source\":\"$SRC\",\"options\":[\"rbind\",\"rprivate\"]}" \
		"{\"destination\":\"/b\",\"source\":\"$SRC\",\"options\":[\"bind\",\"rslave\"]}" \
		'{"destination":"/rel","source":"rel","options":["bind"]}'
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "in-submount
no-submount
relative" ]
	assert_clean
}

@test "a mount the host makes under an rslave bind after the start reaches the running container, not an rprivate one" {
	# the source is a shared mount, as kubelet makes its volume directories and systemd the host's /
	mount --bind "$SRC" "$SRC"
	SHARED_SRC=$SRC
	mount --make-shared "$SRC"
	SUBMOUNT=$SRC/late
	mkdir "$SUBMOUNT"
	# waits (bounded) for the host's mount to show, then prints what is in it
	bind_spec '["sh","-c","echo ready; i=0; while [ ! -e /r/late/f ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; cat /r/late/f; cat /p/late/f 2>/dev/null || echo private"]' \
		"{\"destination\":\"/r\",\"source\":\"$SRC\",\"options\":[\"rbind\",\"rslave\"]}" \
		"{\"destination\":\"/p\",\"source\":\"$SRC\",\"options\":[\"rbind\",\"rprivate\"]}"
	mkfifo "$T/out.fifo"
	"$HUSK" --root "$ROOT" run --config "$CONFIG" --bundle "$T/bundle" "$ID" \
		>"$T/out.fifo" 2>"$T/err" </dev/null &
	local pid=$! line
	exec 7<"$T/out.fifo"
	read -r -t 120 -u 7 line
	[ "$line" = ready ]
	mount -t tmpfs tmpfs "$SUBMOUNT"
	echo late-mount >"$SUBMOUNT/f"
	local seen private
	read -r -t 150 -u 7 seen || true
	read -r -t 30 -u 7 private || true
	exec 7<&-
	status=0
	wait "$pid" || status=$?
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$seen" = late-mount ]
	[ "$private" = private ]
	umount "$SUBMOUNT" "$SRC"
	assert_clean
	assert_src_unmounted
}

@test "a missing bind source is a one-line error naming the mount and leaves nothing" {
	bind_spec '["true"]' \
		"{\"destination\":\"/data\",\"source\":\"$T/nosuch\",\"options\":[\"rbind\"]}"
	husk_run
	cat "$T/err"
	[ "$status" -ne 0 ]
	assert_one_error_line "mount /data: $T/nosuch: No such file or directory"
	assert_clean
}

@test "a bind over a file with a directory source fails naming the mount; nothing left" {
	bind_spec '["true"]' \
		"{\"destination\":\"/bin/sh\",\"source\":\"$SRC\",\"options\":[\"rbind\"]}"
	husk_run
	cat "$T/err"
	[ "$status" -ne 0 ]
	assert_one_error_line "mount /bin/sh: "
	assert_clean
	assert_src_unmounted
}

@test "create, start, delete --force: nothing stays mounted on the host" {
	bind_spec '["sh","-c","echo up >/data/up; echo up; exec sleep 1000"]' \
		"{\"destination\":\"/data\",\"source\":\"$SRC\",\"options\":[\"rbind\"]}"
	mkfifo "$T/out.fifo"
	exec 9<>"$T/out.fifo"
	"$HUSK" --root "$ROOT" create --config "$CONFIG" --bundle "$T/bundle" --pid-file "$T/pid" \
		"$ID" </dev/null >"$T/out.fifo" 2>"$T/err" 9>&-
	"$HUSK" --root "$ROOT" start "$ID"
	local line
	read -r -t 120 -u 9 line
	[ "$line" = up ]
	[ -e "$SRC/up" ]
	"$HUSK" --root "$ROOT" delete --force "$ID"
	! kill -0 "$(cat "$T/pid")" 2>/dev/null
	assert_clean
	assert_src_unmounted
	rm -rf "$SRC"
}

@test "many bind mounts of one container, ro and rw mixed, each lands where the spec says" {
	mkdir "$SRC/a" "$SRC/b"
	echo A >"$SRC/a/f"
	echo B >"$SRC/b/f"
	bind_spec '["sh","-c","cat /m/a/f /m/b/f /m/file; echo w >/m/b/w && echo b-rw; echo w >/m/a/w || echo a-ro"]' \
		"{\"destination\":\"/m/a\",\"source\":\"$SRC/a\",\"options\":[\"rbind\",\"ro\"]}" \
		"{\"destination\":\"/m/b\",\"source\":\"$SRC/b\",\"options\":[\"rbind\",\"rw\"]}" \
		"{\"destination\":\"/m/file\",\"source\":\"$SRC/file\",\"options\":[\"bind\"]}"
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "A
B
from-host
b-rw
a-ro" ]
	[ -e "$SRC/b/w" ]
	[ ! -e "$SRC/a/w" ]
	assert_clean
}

@test "a read-only root still gets its missing mount points (as runc) and stays read-only" {
	bind_spec '["sh","-c","cat /newdir/file; touch /x 2>/dev/null || echo root-ro"]' \
		"{\"destination\":\"/newdir\",\"source\":\"$SRC\",\"options\":[\"rbind\"]}"
	jq '.root.readonly = true' "$T/bundle/config.json" >"$T/config.new"
	mv "$T/config.new" "$T/bundle/config.json"
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/out")" = "from-host
root-ro" ]
	[ -d "$T/bundle/rootfs/newdir" ]
	[ ! -e "$T/bundle/rootfs/x" ]
	assert_clean
}

@test "a tmpfs with tmpcopyup starts with the directory's contents; writes stay in the guest" {
	mkdir -p "$T/bundle/rootfs/seed/sub"
	echo seeded >"$T/bundle/rootfs/seed/sub/f"
	ln -s sub/f "$T/bundle/rootfs/seed/link"
	bind_spec '["sh","-c","cat /seed/sub/f /seed/link; echo new >/seed/g; grep \" /seed \" /proc/mounts"]' \
		'{"destination":"/seed","type":"tmpfs","source":"tmpfs","options":["rw","nosuid","tmpcopyup"]}'
	husk_run
	cat "$T/out" "$T/err"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1,2p "$T/out")" = "seeded
seeded" ]
	grep -q "^tmpfs /seed tmpfs" "$T/out"
	[ ! -e "$T/bundle/rootfs/seed/g" ]
	assert_clean
}
