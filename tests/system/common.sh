# shellcheck shell=bash
# Shared by every numbered system test. A test sources this file, then calls run_test for
# each case; cases share the cluster the test booted.
# Exit codes (Automake's): 0 pass, 1 a case failed, 77 skipped (QEMU cannot run here at all,
# with the reason), 99 hard error (the harness itself broke).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"  # shared helpers; this file redefines require_root for tests
VCLUSTER="$ROOT/scripts/vcluster"
TEST_NAME="$(basename "$0" .sh)"
TEST_ISO="${TEST_ISO:-$ROOT/image/clusterlive-test-amd64.iso}"
ARTIFACTS="${ARTIFACTS:-$ROOT/image/test-artifacts}/$TEST_NAME"
# Each test file owns its cluster, so a failed test cannot leave state for the next one
# (shared_cluster_up below lets tests of one group share one, on the same terms).
export VCLUSTER_NAME="t-$TEST_NAME"
export VCLUSTER_STATE="/var/tmp/clusterlive-vcluster/$VCLUSTER_NAME"

CASES_FAILED=0
# The last lines of each failed case, shown again by `finish`: a CI log is often cut to the
# lines around a test's FAIL, long after the case that failed.
FAILED_CASES_ENDS=""
CASE_LOG=""
CASES_PASSED=0
POLL_INTERVAL_S=3

# Also into the running case's own log (CASE_LOG), whose end `finish` shows again.
log() {
	local line
	line="$(printf '[%s %s] %s' "$(date +%T)" "$TEST_NAME" "$*")"
	printf '%s\n' "$line"
	[ -z "${CASE_LOG:-}" ] || printf '%s\n' "$line" >>"$CASE_LOG"
}
skip() { log "SKIP: $*"; exit 77; }
hard_error() { log "HARD ERROR: $*"; exit 99; }

# A case fails by returning non-zero; `check` makes a failed assertion say what it expected.
check() {
	local what="$1"
	shift
	if ! "$@"; then
		log "  expected: $what"
		return 1
	fi
}

# Usage: check "what" not CMD...   (a `!` cannot be passed as a command)
not() { ! "$@"; }

run_test() {
	local name="$1"
	shift
	log "case: $name"
	CASE_LOG="$(mktemp)"
	if ("$@"); then
		CASES_PASSED=$((CASES_PASSED + 1))
		log "ok: $name"
	else
		CASES_FAILED=$((CASES_FAILED + 1))
		log "FAIL: $name"
		FAILED_CASES_ENDS+="$(tail -n 12 "$CASE_LOG")"$'\n'
		dump_cluster_state
	fi
	rm -f "$CASE_LOG"
	CASE_LOG=""
}

# After a failed case: what every running node thinks, in the test's own output (a CI log
# is often all there is to go on).
dump_cluster_state() {
	local k
	for k in $(vc status --json 2>/dev/null | jq -r '.[] | select(.state == "up") | .node' 2>/dev/null); do
		log "  --- node $k: clusterlive nodes / wg show / clusterlived journal (last 40 lines)"
		{
			on "$k" clusterlive nodes
			on "$k" wg show clmesh0
			on "$k" journalctl -u clusterlived -o short-monotonic -n 40 --no-pager
		} 2>&1 | sed 's/^/    /' || true
	done
}

finish() {
	if [ "$CASES_FAILED" -gt 0 ]; then
		log "the failed cases again, their last lines:"
		printf '%s' "$FAILED_CASES_ENDS"
	fi
	log "$CASES_PASSED passed, $CASES_FAILED failed"
	[ "$CASES_FAILED" -eq 0 ] || exit 1
	exit 0
}

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, taps)"; }

# QEMU runs everywhere (TCG when there is no usable KVM): skip only where it cannot run.
require_qemu() {
	require_root
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun: QEMU cannot attach nodes to a bridge"
	ip netns add "probe-$$" 2>/dev/null || skip "cannot create network namespaces here"
	ip netns delete "probe-$$"
	[ -f "$TEST_ISO" ] || hard_error "no test image at $TEST_ISO (tests/system/run builds it)"
}

vc() { "$VCLUSTER" "$@"; }
# Usage: on K CMD...   run CMD in node K, its output on stdout.
on() {
	local k="$1"
	shift
	"$VCLUSTER" exec "$k" --timeout 120 -- "$@"
}

# Boots a cluster for this test and removes it (after saving the console logs) on exit.
cluster_up() {
	vc down >/dev/null 2>&1 || true
	trap cluster_cleanup EXIT
	log "booting: vcluster up $*"
	vc up "$@" || hard_error "vcluster up $* failed"
}

# Usage: shared_cluster_up GROUP ARGS...   as cluster_up, except under tests/system/run
# (which sets SHARED_CLUSTERS to a directory of its own): consecutive tests of one GROUP run
# on one cluster, booted by the first (an emulated boot costs minutes); ARGS start with the
# number of nodes, N. A test that passed leaves it up for the next one, which boots its nodes
# 1..N that an earlier one powered off and powers off any it added; a test that failed
# removes it, as its state is suspect, so the next test boots afresh. The runner removes the
# cluster after the group's last test. Run alone, a test boots and removes its own.
shared_cluster_up() {
	local group="$1" nodes="$2" k
	shift
	if [ -z "${SHARED_CLUSTERS:-}" ]; then
		cluster_up "$@"
		return
	fi
	export VCLUSTER_NAME="t-shared-$group"
	export VCLUSTER_STATE="/var/tmp/clusterlive-vcluster/$VCLUSTER_NAME"
	trap cluster_cleanup EXIT
	KEEP_SHARED_CLUSTER="$SHARED_CLUSTERS/$group"
	if [ "$(cat "$KEEP_SHARED_CLUSTER" 2>/dev/null)" = "$*" ] && vc status >/dev/null 2>&1; then
		log "reusing cluster $VCLUSTER_NAME (vcluster up $*, booted by an earlier test)"
		# Its nodes 1..N as booted; a node an earlier test added is powered off.
		for k in $(vc status --json | jq -r --argjson n "$nodes" '.[] | select(.node > $n and .state != "stopped") | .node'); do
			vc kill "$k" >/dev/null || hard_error "could not power off node $k"
		done
		for k in $(vc status --json | jq -r --argjson n "$nodes" '.[] | select(.node <= $n and .state == "stopped") | .node'); do
			vc start "$k" --no-wait >/dev/null || hard_error "could not start node $k again"
		done
		vc wait --timeout 600 >/dev/null || hard_error "the shared cluster's nodes did not come up"
		return
	fi
	rm -f "$KEEP_SHARED_CLUSTER"
	vc down >/dev/null 2>&1 || true
	log "booting (shared by the $group tests): vcluster up $*"
	vc up "$@" || hard_error "vcluster up $* failed"
	printf '%s\n' "$*" >"$KEEP_SHARED_CLUSTER"
}

cluster_cleanup() {
	local rc=$? dir
	mkdir -p "$ARTIFACTS"
	for dir in "$VCLUSTER_STATE"/node*/; do
		dir="${dir%/}"
		for f in "$dir"/serial.log*; do
			[ -f "$f" ] && cp -f "$f" "$ARTIFACTS/${dir##*/}-${f##*/}"
		done
	done
	cp -f "$VCLUSTER_STATE"/dnsmasq.* "$ARTIFACTS/" 2>/dev/null || true
	if [ "$rc" -eq 0 ] && [ -n "${KEEP_SHARED_CLUSTER:-}" ]; then
		exit 0  # left up for the next test of its group
	fi
	[ -z "${KEEP_SHARED_CLUSTER:-}" ] || rm -f "$KEEP_SHARED_CLUSTER"
	vc down >/dev/null 2>&1 || true
	exit "$rc"
}

# The name a node must have: node- + the last three bytes of the MAC vcluster gives node K.
expected_name() { vcluster_node_name "$1"; }

# Usage: wait_until TIMEOUT_S DESCRIPTION CMD...   polls CMD until it succeeds.
wait_until() {
	local timeout="$1" what="$2" deadline
	shift 2
	deadline=$(($(date +%s) + timeout))
	until "$@"; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			log "  gave up after ${timeout}s waiting for: $what"
			return 1
		fi
		sleep "$POLL_INTERVAL_S"
	done
}

# Node K's IPv4 addresses on its LAN interface, one per line.
ipv4_of() { on "$1" ip -4 -o addr show scope global; on "$1" ip -4 -o addr show scope link; } 2>/dev/null
lan_ipv4s() { ipv4_of "$1" | awk '$2 != "lo" { sub(/\/.*/, "", $4); print $4 }'; }

# Node K's mDNS view of NAME: a resolved workstation record on the LAN interface (a mere
# cached pointer whose host no longer answers does not count), and NAME.local resolving
# through nss-mdns as every program would.
mdns_record_resolves() {
	on "$1" avahi-browse -ptr _workstation._tcp 2>/dev/null | grep -v '^=;lo;' | grep -q "^=;.*;$2\\.local;"
}
mdns_name_resolves() { on "$1" getent hosts "$2.local" >/dev/null 2>&1; }
mdns_sees() { mdns_record_resolves "$1" "$2" && mdns_name_resolves "$1" "$2"; }
# All addresses of node K, one per line (IPv4 and IPv6, no prefix length).
all_addresses() { on "$1" ip -o addr show | awk '$2 != "lo" { sub(/\/.*/, "", $4); print $4 }'; }

# True when node I resolves node J's name to one of node J's own addresses.
resolves_peer() {
	local i="$1" j="$2" addr
	addr="$(on "$i" getent hosts "$(expected_name "$j").local" | awk '{ print $1; exit }')" || return 1
	[ -n "$addr" ] && all_addresses "$j" | grep -qxF "$addr"
}

# Every node resolves every other's name; a freshly booted node's records may still be
# probing, so each pair gets up to a minute. Logs the pairs that needed to wait.
every_node_resolves_every_other() {
	local i j start
	for i in $(seq 1 "$1"); do
		for j in $(seq 1 "$1"); do
			[ "$i" = "$j" ] && continue
			resolves_peer "$i" "$j" && continue
			start=$(date +%s)
			wait_until 60 "node $i to resolve $(expected_name "$j").local to one of node $j's addresses" resolves_peer "$i" "$j" ||
				return 1
			log "  node $i resolved node $j only after a retry, $(($(date +%s) - start))s later"
		done
	done
}

mdns_lost() { ! mdns_name_resolves "$1" "$2" && ! mdns_record_resolves "$1" "$2"; }

# --- clusterlived membership ----------------------------------------------------------------
# Node K's `clusterlive nodes --json` / `status --json`.
nodes_json() { on "$1" clusterlive nodes --json; }
status_json() { on "$1" clusterlive status --json; }
# Usage: state_seen_by K NAME   the state node K gives NAME ("" if it does not list it).
state_seen_by() { nodes_json "$1" | jq -r --arg n "$2" '.nodes[] | select(.name == $n) | .state'; }
# True when each of the nodes K... lists every other one of them as up.
all_up_among() {
	local i j json
	for i in "$@"; do
		json="$(nodes_json "$i")" || return 1
		for j in "$@"; do
			[ "$i" = "$j" ] && continue
			[ "$(jq -r --arg n "$(expected_name "$j")" '.nodes[] | select(.name == $n) | .state' <<<"$json")" = up ] || return 1
		done
	done
}
# Seconds since the epoch, with fractions, on the host.
host_now() { date +%s.%N; }
# Usage: seconds_between START END   END - START, one decimal.
seconds_between() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", e - s }'; }
# Usage: at_most VALUE LIMIT   true when VALUE <= LIMIT (decimals allowed).
at_most() { awk -v v="$1" -v l="$2" 'BEGIN { exit !(v <= l) }'; }
# Records a figure for `make bench` and the test log: NAME VALUE (appended to figures.json).
record_figure() {
	mkdir -p "$ARTIFACTS"
	log "  figure: $1 = $2"
	printf '{"test":"%s","figure":"%s","value":%s}\n' "$TEST_NAME" "$1" "$2" >>"$ARTIFACTS/figures.jsonl"
}
