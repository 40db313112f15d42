# Shared by the husk CLI tests: busybox bundles, a private --root, a husk.json
# written per test, and checks that nothing of a sandbox is left behind.
# Every test gets its own temp dir $T (removed by husk_teardown).

HUSK_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HUSK_BUILD=${BUILD:-$HUSK_SRC/build}
HUSK=$HUSK_BUILD/bin/husk

husk_setup() {
	local f
	for f in "$HUSK" "$HUSK_BUILD/bin/husk-vsockd" "$HUSK_BUILD/guest/vmlinuz" \
		"$HUSK_BUILD/guest/initrd.img"; do
		[ -e "$f" ] || { echo "missing $f (run: make all)" >&2; return 1; }
	done
	T=$(mktemp -d /tmp/husk-t.XXXXXX)
	ROOT=$T/root
	ID=t$$-${BATS_TEST_NUMBER:-0}
	CONFIG=$T/husk.json
	write_config
}

# Kills whatever a failed test left (scoped to this test's state dir), then removes $T.
husk_teardown() {
	[ -n "${T:-}" ] || return 0
	pkill -KILL -f -- "$ROOT/" 2>/dev/null || true
	rm -rf "$T"
}

# write_config [KEY=JSON ...]: husk.json with the built guest image and TCG, plus overrides
# given as top-level "key": value pairs (value is raw JSON), e.g. qemu='"/bin/false"'.
write_config() {
	local extra="" kv
	for kv in "$@"; do
		extra="$extra, \"${kv%%=*}\": ${kv#*=}"
	done
	cat >"$CONFIG" <<JSON
{
	"kernel": "$HUSK_BUILD/guest/vmlinuz",
	"initrd": "$HUSK_BUILD/guest/initrd.img",
	"vsockd": "$HUSK_BUILD/bin/husk-vsockd",
	"accel": "tcg"$extra
}
JSON
}

# make_bundle DIR: a busybox rootfs (scripts/mkrootfs) with a /work directory.
make_bundle() {
	"$HUSK_SRC/scripts/mkrootfs" "$1/rootfs"
	mkdir -p "$1/rootfs/work"
}

# write_spec DIR ARGS_JSON [PROCESS_EXTRA_JSON]: config.json running ARGS_JSON (a JSON array).
write_spec() {
	local dir=$1 args=$2 extra=${3:-}
	cat >"$dir/config.json" <<JSON
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": false,
		"user": { "uid": 0, "gid": 0 },
		"args": $args,
		"env": [ "PATH=/bin", "HOME=/" ],
		"cwd": "/"${extra:+, $extra}
	},
	"root": { "path": "rootfs", "readonly": false },
	"hostname": "husk",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] }
	],
	"linux": { "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" } ] }
}
JSON
}

# bundle_with ARGS_JSON [PROCESS_EXTRA_JSON]: $T/bundle ready to run.
bundle_with() {
	[ -d "$T/bundle/rootfs" ] || make_bundle "$T/bundle"
	write_spec "$T/bundle" "$@"
}

# husk_run [husk run flags...]: runs the container $ID from $T/bundle with $CONFIG.
# Sets $status; stdout in $T/out, stderr in $T/err.
husk_run() {
	status=0
	"$HUSK" --root "$ROOT" run --config "$CONFIG" --bundle "$T/bundle" "$@" "$ID" \
		>"$T/out" 2>"$T/err" </dev/null || status=$?
}

# Fails, showing what is left, if any process, mount or state of sandbox $ID remains.
assert_clean() {
	local left
	left=$(pgrep -af -- "$ROOT/$ID" || true)
	if [ -n "$left" ]; then
		echo "processes left behind: $left" >&2
		return 1
	fi
	if [ -e "$ROOT/$ID" ]; then
		echo "state dir left behind: $(ls -la "$ROOT/$ID")" >&2
		return 1
	fi
	if grep -F -- "$ID" /proc/self/mountinfo >&2; then
		echo "mounts left behind" >&2
		return 1
	fi
}

# assert_one_error_line PATTERN: stderr is exactly one line, "husk: run ID: ..." matching PATTERN.
assert_one_error_line() {
	local lines
	lines=$(wc -l <"$T/err")
	if [ "$lines" -ne 1 ] || ! grep -qE -- "^husk: run $ID: .*$1" "$T/err"; then
		echo "expected one error line matching '$1', got:" >&2
		cat "$T/err" >&2
		return 1
	fi
}

# wait_exit TIMEOUT_S PID...: waits on pidfds (no polling) until every PID has exited;
# fails at the timeout. PIDs need not be our children; one already gone counts as exited.
wait_exit() {
	python3 - "$@" <<'PY'
import os, select, sys, time
timeout, pids = float(sys.argv[1]), sys.argv[2:]
p = select.poll()
left = 0
for pid in pids:
    try:
        p.register(os.pidfd_open(int(pid)), select.POLLIN)
        left += 1
    except ProcessLookupError:
        pass
deadline = time.monotonic() + timeout
while left:
    ms = (deadline - time.monotonic()) * 1000
    ready = p.poll(max(ms, 0)) if ms > 0 else []
    if not ready:
        sys.exit("still running after %gs: %s" % (timeout, " ".join(pids)))
    for fd, _ in ready:
        p.unregister(fd)
        left -= 1
PY
}

# containerd_start IMAGE: a private containerd (config, root, state and sockets under $T, no CRI)
# started with HUSK_CONFIG=$CONFIG, waited for; $CTD_PID, $CTR (ctr in namespace $NS); the
# locally built busybox image imported as IMAGE.
containerd_start() {
	cat >"$T/containerd.toml" <<TOML
version = 2
root = "$T/ctd/root"
state = "$T/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$T/ctd.sock"
[ttrpc]
  address = "$T/ctd.sock.ttrpc"
[debug]
  address = "$T/ctd-debug.sock"
TOML
	CTD_PID=$(HUSK_CONFIG=$CONFIG "$BATS_TEST_DIRNAME/start-notified" 60 \
		containerd --config "$T/containerd.toml" 2>"$T/containerd.log" 3>&-)
	CTR=(ctr --address "$T/ctd.sock" --namespace "$NS")
	"$BATS_TEST_DIRNAME/make-oci-image" "$T/image.tar" "$1"
	"${CTR[@]}" images import "$T/image.tar" >/dev/null
}

# The host's iptables and ip6tables rules, without counters and comments, and without the tables
# that hold no rule, no chain of their own and no policy but ACCEPT (a fresh host has no nat
# table until the first rule there makes one, and it stays, empty, after the last goes).
iptables_rules() {
	{ iptables-save; ip6tables-save; } | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//' |
		awk '/^\*/ { buf = $0; keep = 0; next }
			/^COMMIT/ { if (keep) print buf "\n" $0; next }
			{ buf = buf "\n" $0; if (/^-A/ || (/^:/ && $2 != "ACCEPT")) keep = 1 }'
}

# portmap_cleanup BEFORE NET: CNI's portmap deletes a pod's own nat chain (CNI-DN-<hash>) and its
# jump when the pod goes, but never the chains it shares between pods (CNI-HOSTPORT-DNAT,
# -SETMARK, -MASQ and their jumps from PREROUTING, OUTPUT, POSTROUTING); a pod never removed (a
# failed test) keeps its own too. Removes the test's: the CNI-DN chains naming its network NET
# (an address prefix, "10.250.3.") with the jumps to them, then the shared chains if BEFORE
# (iptables_rules) had none and no other pod's mapping is left in them.
portmap_cleanup() {
	local net=$2 was tmp
	tmp=$(mktemp -d)
	was=$(sed -n 's/^:\(CNI-HOSTPORT-[A-Z]*\) .*/\1/p' "$1" | tr '\n' ' ')
	iptables-save -t nat | awk -v net="$net" -v was="$was" '
		BEGIN { split(was, w, " "); for (i in w) old[w[i]] = 1 }
		/^:CNI-HOSTPORT-/ { c = substr($1, 2); if (!(c in old)) shared[c] = 1 }
		/^-A / {
			rule[++n] = $0; chain[n] = $2
			for (i = 3; i < NF; i++) if ($i == "-j") target[n] = $(i + 1)
			if ($2 ~ /^CNI-DN-/ && index($0, net)) ours[$2] = 1
		}
		END {
			# the jumps and rules first; the chains (iptables-nft refuses to delete a chain in
			# the transaction that deletes its last jump) in a second file
			print "*nat"
			for (i = 1; i <= n; i++) if ((target[i] in ours) && !(chain[i] in ours)) print "-D" substr(rule[i], 3)
			for (c in ours) { print "-F " c; print "*nat\n-X " c "\nCOMMIT" >drop }
			for (i = 1; i <= n; i++) if (chain[i] == "CNI-HOSTPORT-DNAT" && !(target[i] in ours)) others++
			if (!others) {
				for (i = 1; i <= n; i++) if ((target[i] in shared) && !(chain[i] in shared) && !(chain[i] in ours)) print "-D" substr(rule[i], 3)
				for (c in shared) { print "-F " c; print "*nat\n-X " c "\nCOMMIT" >drop }
			}
			print "COMMIT"
		}' drop="$tmp/drop" >"$tmp/cleanup"
	iptables-restore --noflush <"$tmp/cleanup" &&
		{ [ ! -s "$tmp/drop" ] || iptables-restore --noflush <"$tmp/drop"; }
	local status=$?
	rm -rf "$tmp"
	return $status
}

# firewall_cleanup BEFORE: CNI's firewall plugin leaves its CNI-FORWARD and CNI-ADMIN chains
# (and FORWARD's jump) when its last container goes; removes them if BEFORE (iptables_rules)
# had none and no container's rule is left in them.
firewall_cleanup() {
	grep -q '^:CNI-FORWARD ' "$1" && return 0
	[ "$(iptables -S CNI-FORWARD 2>/dev/null | grep -vc -- '-j CNI-ADMIN$')" = 1 ] || return 0
	[ "$(iptables -S CNI-ADMIN 2>/dev/null)" = "-N CNI-ADMIN" ] || return 0
	iptables -D FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD &&
		iptables -F CNI-FORWARD && iptables -X CNI-FORWARD && iptables -X CNI-ADMIN
}

# iptables_undo BEFORE: removes from iptables and ip6tables every rule and chain that is not in
# BEFORE (iptables_rules), for daemons that leave their rules behind (dockerd keeps its chains
# and its network's masquerade after it exits). Rules first, then the chains they jumped to.
iptables_undo() {
	local cmd table line chain
	for cmd in iptables ip6tables; do
		"$cmd-save" | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//' | while IFS= read -r line; do
			case $line in
			\**) table=${line#\*} ;;
			-A\ *) grep -qxF -- "$line" "$1" || eval "$cmd -t $table -D ${line#-A }" ;;
			esac
		done
		"$cmd-save" | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//' | while IFS= read -r line; do
			case $line in
			\**) table=${line#\*} ;;
			:*)
				chain=${line#:}
				chain=${chain%% *}
				grep -q "^:$chain " "$1" || "$cmd" -t "$table" -X "$chain"
				;;
			esac
		done
	done
}

# free_port: a TCP port nothing on the host listens on
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 10000))
		ss -Hltn "sport = :$port" | grep -q . || break
	done
	echo "$port"
}

# link_name PREFIX: PREFIX and 6 random hex digits, a host link name of the test's own (<= 15 bytes)
link_name() {
	echo "$1$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
}

# The mount points of the hierarchies runc (and husk) join: cgroup2, and the v1 ones with one
# of runc's subsystems or name=systemd.
cg_mounts() {
	awk '{
		for (i = 1; $i != "-"; i++) ;
		fs = $(i + 1); opts = "," $(i + 3) ","
		if (fs == "cgroup2" || (fs == "cgroup" && opts ~ /,(cpuset|devices|memory|cpu|cpuacct|pids|blkio|hugetlb|net_cls|net_prio|perf_event|freezer|rdma|name=systemd),/))
			print $5
	}' /proc/self/mountinfo
}

# cg_dirs NAME...: the directories NAME (relative to a hierarchy's root) in every cgroup mount
# where they exist.
cg_dirs() {
	local m n
	for m in $(cg_mounts); do
		for n; do
			[ ! -d "$m/$n" ] || echo "$m/$n"
		done
	done
}

# cg_remove_new BEFORE NAME...: removes, in the order given, each directory NAME that is not
# listed in the file BEFORE (cg_dirs output) and is empty: the parents another tool (dockerd,
# podman, runc) made for a test and leaves behind.
cg_remove_new() {
	local before=$1 d n
	shift
	for n; do
		for d in $(cg_dirs "$n"); do
			grep -qxF "$d" "$before" || rmdir "$d" 2>/dev/null || true
		done
	done
}

# copy_with_libs PROGRAM ROOT: PROGRAM and the shared libraries it links, at their paths under ROOT
copy_with_libs() {
	local f
	for f in "$1" $(ldd "$1" | grep -o '/[^ ]*'); do
		mkdir -p "$2$(dirname "$f")"
		cp -L "$f" "$2$f"
	done
}

# break_sandbox WHICH DIR ID [HUSK_OPTION...]: SIGKILLs the qemu, virtiofsd or husk-vsockd of the
# sandbox whose state directory is DIR, or, for guest, crashes its kernel (SysRq c over `husk
# HUSK_OPTION... debug-console ID`): the agent is the guest's PID 1, which no signal kills.
break_sandbox() {
	local which=$1 dir=$2 id=$3 pid
	shift 3
	case $which in
	guest)
		# the console's connection goes down with the guest: its status says nothing
		echo 'echo c >/proc/sysrq-trigger' | "$HUSK" "$@" debug-console "$id" >/dev/null 2>&1 ||
			true
		return 0
		;;
	qemu) pid=$(pgrep -f -- "^qemu-system.*$dir/") ;;
	virtiofsd) pid=$(pgrep -f -- "virtiofsd --fd=3 -o source=$dir/" | head -n 1) ;;
	vsockd) pid=$(pgrep -f -- "husk-vsockd --dir $dir/vsock/ ") ;;
	esac
	[ -n "$pid" ] || { echo "no $which for $dir" >&2; return 1; }
	kill -KILL "$pid"
}

# hostile_initrd MODE: the vsock test initramfs and a second archive holding /hostile (the
# kernel unpacks both, the second over the first): tests/guest/hostile.h's guest in MODE.
hostile_initrd() {
	local dir=$T/hostile-$1
	mkdir -p "$dir"
	echo "$1" >"$dir/hostile"
	{
		cat "$HUSK_BUILD/tests/vsock-initrd.img"
		(cd "$dir" && echo hostile | cpio -o -H newc --quiet)
	} >"$dir.img"
	echo "$dir.img"
}
