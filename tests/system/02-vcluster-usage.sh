#!/bin/bash
# scripts/vcluster refuses bad input with a clear message and leaves nothing behind.
. "$(dirname "$0")/common.sh"
require_root
mkdir -p "${ARTIFACTS%/*}"
trap 'vc down >/dev/null 2>&1 || true' EXIT

fails_saying() {
	# Usage: fails_saying TEXT CMD...   CMD must exit non-zero and print TEXT.
	local text="$1" out rc=0
	shift
	out="$("$@" 2>&1)" || rc=$?
	[ "$rc" -ne 0 ] || { log "  '$*' succeeded"; return 1; }
	grep -qF -- "$text" <<<"$out" || { log "  '$*' said: $out"; return 1; }
}

no_netns_left() { ! ip netns list | awk '{ print $1 }' | grep -qx "vcl-$VCLUSTER_NAME"; }

commands_without_a_cluster_fail_clearly() {
	vc down >/dev/null 2>&1 || true
	fails_saying "no virtual cluster is up" vc exec 1 -- true &&
		fails_saying "no virtual cluster is up" vc status &&
		fails_saying "no virtual cluster is up" vc kill 1 &&
		fails_saying "no virtual cluster is up" vc net 1 down
}

bad_arguments_are_refused() {
	fails_saying "node number expected" vc up 0 &&
		fails_saying "node number expected" vc up abc &&
		fails_saying "--mem takes MiB" vc up 2 --mem lots &&
		fails_saying "--firmware takes bios or uefi" vc up 1 --firmware coreboot &&
		fails_saying "--append needs a direct boot" vc up 1 --firmware bios --append x=1 &&
		fails_saying "no ISO at" vc up 2 --iso /nonexistent.iso &&
		check "no namespace left behind" no_netns_left &&
		check "no state left behind" [ ! -e "$VCLUSTER_STATE/cluster.env" ]
}

usage_is_shown_for_unknown_commands() {
	local rc=0 out
	out="$(vc frobnicate 2>&1)" || rc=$?
	check "exit code 2, got $rc" [ "$rc" -eq 2 ] && check "usage text" grep -q 'Usage: scripts/vcluster' <<<"$out"
}

interrupted_up_leaves_nothing() {
	[ -f "$TEST_ISO" ] || { log "  no test image at $TEST_ISO"; return 1; }
	command -v qemu-system-x86_64 >/dev/null || { log "  no QEMU"; return 1; }
	"$VCLUSTER" up 2 --iso "$TEST_ISO" >"$ARTIFACTS.up.log" 2>&1 &
	local up_pid=$!
	wait_until 60 "both nodes started" grep -q 'node 2 started' "$ARTIFACTS.up.log" || { kill "$up_pid"; return 1; }
	# SIGTERM: a background job of a script ignores SIGINT; vcluster traps both alike.
	kill -TERM "$up_pid"
	local rc=0
	wait "$up_pid" || rc=$?
	check "up to exit 130 when interrupted, got $rc" [ "$rc" -eq 130 ] &&
		check "no namespace left" no_netns_left &&
		check "no QEMU of this cluster left" not pgrep -f "qemu-system.*-name $VCLUSTER_NAME-node" &&
		check "no state left" [ ! -e "$VCLUSTER_STATE" ]
}

run_test "commands without a cluster fail clearly" commands_without_a_cluster_fail_clearly
run_test "bad arguments are refused and leave nothing" bad_arguments_are_refused
run_test "unknown commands show the usage" usage_is_shown_for_unknown_commands
run_test "an interrupted up removes everything it made" interrupted_up_leaves_nothing
finish
