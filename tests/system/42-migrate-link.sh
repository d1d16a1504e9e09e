#!/bin/bash
# Migration when the link to the target is cut, or the target's image space is full, on three
# nodes (the cluster the three-node tests share), each cut CUT_TRIALS times (default 1) and the
# full image space TRIALS times (default 10), against one long-running deterministic job.
# The job starts on the storage node (so the commit record stays reachable from the source)
# and is moved to another node; the third looks on, on the source's side of each cut. After
# each trial: exactly one copy of the job runs (counted on every node), `ps` names the node
# that runs it, the storage node is the one that held the job's files (the older store wins
# after the split), and at the end the job's output is 0, 1, ... K with nothing lost or
# repeated.
#   - The link is cut during pre-copy (when the source starts a CRIU pre-dump round), at the
#     final dump (when it starts the dump), and after the restore on the target (a stopped
#     copy there, the commit not written): each migration ends (aborted, or committed when
#     the commit got through), and after the link is back the other copy is gone.
#   - The target's image space is full (a tiny tmpfs over its image directory): each migration
#     aborts with the reason and the job keeps running on the source; once there is room
#     again, the job moves.
# tag: fault-trials
. "$(dirname "$0")/common.sh"
require_qemu
NODES=3
TRIALS="${TRIALS:-10}"
# A cut costs about a minute (the members meet again within seconds of the link coming back;
# the target settles its attempt 30 s after it last heard of the source): 1 each by default, a
# quick check; CUT_TRIALS=10 (make fault-trials) for the full count (34 min in all here).
CUT_TRIALS="${CUT_TRIALS:-1}"
shared_cluster_up three-nodes "$NODES" --iso "$TEST_ISO"
. "$(dirname "$0")/migrate-helpers.sh"

IMAGES=/var/lib/clusterlive/migrations

storage_node() { status_json 1 | jq -r .storage.server; }

the_fault_points_are_in_place() {
	local k
	check "node $SOURCE serves /cluster: the job runs there and moves to node $TARGET" [ -n "$SOURCE" ] || return 1
	for k in "$SOURCE" "$TARGET"; do install_fault_criu "$k" || return 1; done
}

# Usage: after_the_trial ID MARKER TRIAL   waits for the cluster to heal, then checks it.
after_the_trial() {
	local id="$1" marker="$2" trial="$3" json where
	vc net "$TARGET" up || return 1
	nodes_are_up_with_shared_storage || return 1
	check "trial $trial: node $SOURCE (the older store) serves /cluster again" \
		[ "$(number_of "$(storage_node)") $(status_json "$TARGET" | jq -r .storage.server)" = "$SOURCE $(expected_name "$SOURCE")" ] || return 1
	wait_until 180 "trial $trial: one copy of the job (the other discarded)" eval "[ \"\$(copies_of $marker)\" -eq 1 ]" || return 1
	# The target decides its attempt by the record after 30 s of silence; until then it
	# refuses another migration of the job (one undecided attempt per job), as it should.
	wait_until 180 "trial $trial: node $TARGET to settle its attempt" on "$TARGET" flock -n "/run/clusterlive/migrations/$id.lock" true || return 1
	json="$(job_json "$SOURCE" "$id")"
	log "  trial $trial: $(jq -c '{where, state, outcome: .migration.outcome, reason: .migration.reason}' <<<"$json")"
	where="$(number_of "$(jq -r .where <<<"$json")")"
	check "trial $trial: it runs where ps says (node $where), once" [ "$(copies_on "$where" "$marker")" -eq 1 ] || return 1
	check "trial $trial: ps says running" [ "$(jq -r .state <<<"$json")" = running ] || return 1
	if [ "$where" != "$SOURCE" ]; then
		# Committed before the cut: bring it back for the next trial.
		as_user "$SOURCE" clusterlive migrate "$id" home >/dev/null || return 1
	fi
}

# Usage: cut_the_link_at source|target CRIU-REQUEST before|after
cut_the_link_at() {
	local where request="$2" when="$3" marker="cut-$2-$RANDOM" id trial
	where="$([ "$1" = source ] && echo "$SOURCE" || echo "$TARGET")"
	disarm_faults || return 1
	id="$(start_counter "$marker" "$SOURCE")" || return 1
	for trial in $(seq 1 "$CUT_TRIALS"); do
		arm_fault "$where" "$request" "$when" || return 1
		as_user "$SOURCE" clusterlive migrate --no-wait "$id" "$(expected_name "$TARGET")" >/dev/null || return 1
		wait_until 120 "trial $trial: the migration to reach criu $request" on "$where" test -e /tmp/fault.reached || return 1
		vc net "$TARGET" down || return 1
		on "$where" touch /tmp/fault.go || return 1
		wait_until 240 "trial $trial: the migration to end on node $SOURCE" \
			eval "job_json $SOURCE $id | jq -e '.migration.outcome != \"in_progress\"' >/dev/null" || return 1
		after_the_trial "$id" "$marker" "$trial" || return 1
	done
	disarm_faults || return 1
	stop_and_check "$id" "$marker"
}

a_full_image_space_on_the_target_aborts_the_migration() {
	local marker="full-$RANDOM" id trial out rc
	id="$(start_counter "$marker" "$SOURCE")" || return 1
	on "$TARGET" bash -c "mkdir -p $IMAGES && mount -t tmpfs -o size=64k tmpfs $IMAGES" || return 1
	for trial in $(seq 1 "$TRIALS"); do
		rc=0
		out="$(as_user "$SOURCE" clusterlive migrate "$id" "$(expected_name "$TARGET")" 2>&1)" || rc=$?
		check "trial $trial: migrate fails (got $rc: $(tail -n 1 <<<"$out"))" [ "$rc" -ne 0 ] || return 1
		# The source's CRIU sees only the connection drop; the reason must carry the target's.
		check "trial $trial: the reason names the full space" grep -q 'No space left on device' <<<"$out" || return 1
		check "trial $trial: the job runs on node $SOURCE, once" [ "$(copies_on "$SOURCE" "$marker") $(copies_of "$marker")" = "1 1" ] || return 1
		check "trial $trial: ps says running on node $SOURCE" [ "$(job_json "$SOURCE" "$id" | jq -r '"\(.state) \(.where)"')" = "running $(expected_name "$SOURCE")" ] || return 1
	done
	on "$TARGET" umount "$IMAGES" || return 1
	check "with room again, the job moves" as_user "$SOURCE" clusterlive migrate "$id" "$(expected_name "$TARGET")" || return 1
	check "and runs on node $TARGET, once" [ "$(copies_on "$TARGET" "$marker") $(copies_of "$marker")" = "1 1" ] || return 1
	stop_and_check "$id" "$marker"
}

run_test "every node is up and mounts /cluster" nodes_are_up_with_shared_storage
SOURCE="$(number_of "$(storage_node)")" || SOURCE=""
# The first other node; the third one only looks on.
TARGET=$([ "${SOURCE:-}" = 1 ] && echo 2 || echo 1)
run_test "the fault points are in place (a CRIU that can pause)" the_fault_points_are_in_place
run_test "a full image space on the target aborts the migration ($TRIALS trials)" a_full_image_space_on_the_target_aborts_the_migration
run_test "cutting the link during pre-copy ($CUT_TRIALS trials)" cut_the_link_at source pre-dump before
run_test "cutting the link at the final dump ($CUT_TRIALS trials)" cut_the_link_at source dump before
run_test "cutting the link after the restore, before the commit ($CUT_TRIALS trials)" cut_the_link_at target restore after
finish
