#!/bin/bash
# Migration when the target node dies (powered off hard), on three nodes, KILL_TRIALS times
# (default 1) at each of three points, against one long-running deterministic job per point:
# during pre-copy (when the source starts a CRIU pre-dump round), at the final dump (when it
# starts the dump), and after the restore on the target (a stopped copy there, the commit not
# written). Every point is before the commit, so each migration must abort and leave the job
# running on the source, once; `ps` says so; at the end its output is 0, 1, ... K with nothing
# lost or repeated.
# The job runs on the storage node (the commit record stays reachable from the source); the
# two other nodes take turns as the target, so one reboots while the other is used.
# tag: fault-trials
. "$(dirname "$0")/common.sh"
require_qemu
NODES=3
# A trial costs under a minute, and a reboot of the dead node in the background (the next
# trial uses the other target; a node still booting is not waited for until it is needed):
# one per point by default, KILL_TRIALS=10 for the full count.
KILL_TRIALS="${KILL_TRIALS:-1}"
shared_cluster_up three-nodes "$NODES" --iso "$TEST_ISO"
. "$(dirname "$0")/migrate-helpers.sh"

storage_node() { status_json 1 | jq -r .storage.server; }

# Usage: node_is_ready K   node K and the source list each other as up, K mounts /cluster and
# has the CRIU that can pause (gone with a reboot). The other target may still be rebooting:
# that is what lets a trial run while the previous one's target boots.
node_is_ready() {
	local k="$1"
	vc wait "$k" --timeout 300 >/dev/null || return 1
	wait_until 240 "nodes $SOURCE and $k to list each other as up" all_up_among "$SOURCE" "$k" || return 1
	wait_until 120 "node $k to mount /cluster" eval "[ \"\$(status_json $k | jq .storage.mounted)\" = true ]" || return 1
	install_fault_criu "$k"
}

the_nodes_are_ready() {
	local k
	check "node $SOURCE serves /cluster: the job runs there" [ -n "$SOURCE" ] || return 1
	for k in $(seq 1 "$NODES"); do node_is_ready "$k" || return 1; done
}

# Usage: up_nodes   the nodes that are up (a killed one boots again in the background).
up_nodes() { vc status --json | jq -r '.[] | select(.state == "up") | .node'; }
# Copies of the job on the nodes that are up: a node still booting after its kill runs none,
# its memory went with it.
copies_of() {
	local k total=0
	for k in $(up_nodes); do total=$((total + $(copies_on "$k" "$1"))); done
	echo "$total"
}

# Usage: kill_the_target_at FIRST source|target CRIU-REQUEST before|after
# FIRST (0 or 1): which of the two targets the first trial uses; they alternate, so one
# reboots while the other is used.
kill_the_target_at() {
	local first="$1" side="$2" request="$3" when="$4" marker="dies-$3-$RANDOM" id trial target where json out
	id="$(start_counter "$marker" "$SOURCE")" || return 1
	for trial in $(seq 1 "$KILL_TRIALS"); do
		target="${TARGETS[$(((first + trial - 1) % 2))]}"
		node_is_ready "$target" || return 1
		where="$([ "$side" = source ] && echo "$SOURCE" || echo "$target")"
		arm_fault "$where" "$request" "$when" || return 1
		as_user "$SOURCE" clusterlive migrate --no-wait "$id" "$(expected_name "$target")" >/dev/null || return 1
		wait_until 120 "trial $trial: the migration to reach criu $request on node $where" on "$where" test -e /tmp/fault.reached || return 1
		vc kill "$target" || return 1
		[ "$where" = "$target" ] || on "$where" touch /tmp/fault.go || return 1
		wait_until 240 "trial $trial: the migration to end on node $SOURCE" \
			eval "job_json $SOURCE $id | jq -e '.migration.outcome != \"in_progress\"' >/dev/null" || return 1
		json="$(job_json "$SOURCE" "$id")"
		log "  trial $trial (node $target killed): $(jq -c '{where, state, outcome: .migration.outcome, reason: .migration.reason}' <<<"$json")"
		check "trial $trial: the migration aborted" [ "$(jq -r .migration.outcome <<<"$json")" = aborted ] || return 1
		check "trial $trial: ps says running on node $SOURCE" [ "$(jq -r '"\(.state) \(.where)"' <<<"$json")" = "running $(expected_name "$SOURCE")" ] || return 1
		check "trial $trial: it runs on node $SOURCE, once (on the nodes that are up: $(up_nodes | xargs))" \
			[ "$(copies_on "$SOURCE" "$marker") $(copies_of "$marker")" = "1 1" ] || return 1
		vc start "$target" --no-wait >/dev/null || return 1
	done
	on "$SOURCE" rm -f /tmp/fault.at /tmp/fault.reached /tmp/fault.go || return 1
	on "$SOURCE" touch "/tmp/$marker.stop" || return 1
	as_user "$SOURCE" clusterlive wait "$id" >/dev/null || { log "  wait $id failed"; return 1; }
	out="$(as_user "$SOURCE" clusterlive logs "$id")"
	check "its output is every number once, in order ($(wc -l <<<"$out") lines)" [ "$out" = "$(seq 0 "$(tail -n 1 <<<"$out")")" ] || return 1
	check "no copy is left" [ "$(copies_of "$marker")" -eq 0 ]
}

run_test "every node is up and mounts /cluster" nodes_are_up_with_shared_storage
SOURCE="$(number_of "$(storage_node)")" || SOURCE=""
TARGETS=()
for k in $(seq 1 "$NODES"); do [ "$k" = "${SOURCE:-}" ] || TARGETS+=("$k"); done
run_test "the fault points are in place (a CRIU that can pause)" the_nodes_are_ready
run_test "the target dies during pre-copy ($KILL_TRIALS trials)" kill_the_target_at 0 source pre-dump before
run_test "the target dies at the final dump ($KILL_TRIALS trials)" kill_the_target_at 1 source dump before
run_test "the target dies after the restore, before the commit ($KILL_TRIALS trials)" kill_the_target_at 0 target restore after
finish
