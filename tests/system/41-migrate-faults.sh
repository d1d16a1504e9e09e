#!/bin/bash
# Migration under faults, between nodes 1 and 2 of three (the cluster the three-node tests
# share), each fault TRIALS times (default 10) against one long-running deterministic job:
# afterwards exactly one copy of the job runs (counted on every node), `ps` names the node
# that runs it, and its output is 0, 1, ... K with nothing lost or repeated.
#   - The target's CRIU refuses every restore: each migration aborts with the reason and the
#     job keeps running on the source.
#   - The source's clusterlived is killed (SIGKILL) right after a migration starts: the
#     migration's own process goes on without it, and the restarted daemon shows the outcome.
#   - The source's migration worker is killed (SIGKILL) while it waits on a CRIU pre-dump
#     round, and right after the final dump (the job frozen): the daemon recovers the
#     migration (the job runs again on the source, the target discards its copy).
#   - The target's migration worker is killed (SIGKILL) while it waits on its page server in
#     pre-copy, and right after the restore (a stopped copy there, which nobody else knows
#     of): the target's daemon finds the worker's claim and settles the attempt by the
#     record, so the stopped copy is killed and the job runs on at the source.
# tag: fault-trials
. "$(dirname "$0")/common.sh"
require_qemu
NODES=3
TRIALS="${TRIALS:-10}"
# A killed worker costs about 45 s (the target settles its attempt 30 s after it last heard
# of the source): 2 each by default, a quick check; WORKER_TRIALS=10 (make fault-trials) for
# the full count.
WORKER_TRIALS="${WORKER_TRIALS:-2}"
shared_cluster_up three-nodes "$NODES" --iso "$TEST_ISO"

. "$(dirname "$0")/migrate-helpers.sh"

a_failing_restore_leaves_the_job_where_it_was() {
	local marker=restorefail-$RANDOM id trial out rc
	# The target's daemon runs CRIU from its PATH, where /usr/local/sbin comes first.
	on 2 bash -c 'printf "#!/bin/sh\n[ \"\$1\" = restore ] && exit 1\nexec /usr/sbin/criu \"\$@\"\n" >/usr/local/sbin/criu && chmod +x /usr/local/sbin/criu' || return 1
	id="$(start_counter "$marker")" || return 1
	for trial in $(seq 1 "$TRIALS"); do
		rc=0
		out="$(as_user 1 clusterlive migrate "$id" "$(expected_name 2)" 2>&1)" || rc=$?
		check "trial $trial: migrate fails (got $rc)" [ "$rc" -ne 0 ] || return 1
		check "trial $trial: saying the restore failed (got: $out)" grep -q "restore failed on $(expected_name 2)" <<<"$out" || return 1
		check "trial $trial: the job runs on node 1, once" [ "$(copies_on 1 "$marker") $(copies_of "$marker")" = "1 1" ] || return 1
		check "trial $trial: ps says running on node 1" [ "$(job_json 1 "$id" | jq -r '"\(.state) \(.where)"')" = "running $(expected_name 1)" ] || return 1
	done
	on 2 rm -f /usr/local/sbin/criu || return 1
	stop_and_check "$id" "$marker"
}

killing_the_source_daemon_does_not_stop_a_migration() {
	local marker=daemonkill-$RANDOM id trial from to json
	id="$(start_counter "$marker")" || return 1
	from=1
	for trial in $(seq 1 "$TRIALS"); do
		to=$((3 - from))
		as_user "$from" clusterlive migrate --no-wait "$id" "$(expected_name "$to")" >/dev/null || return 1
		# The daemon alone (--kill-whom=main): its jobs and migration workers share its cgroup.
		on "$from" systemctl kill --kill-whom=main -s KILL clusterlived || return 1
		wait_until 60 "trial $trial: the restarted daemon to show the migration's end" \
			eval "job_json $from $id | jq -e '.migration.outcome != \"in_progress\"' >/dev/null" || return 1
		json="$(job_json "$from" "$id")"
		log "  trial $trial: $(jq -c '{where, state, outcome: .migration.outcome, reason: .migration.reason}' <<<"$json")"
		check "trial $trial: one copy of the job runs" [ "$(copies_of "$marker")" -eq 1 ] || return 1
		if [ "$(jq -r .migration.outcome <<<"$json")" = committed ]; then
			check "trial $trial: on node $to, as ps says" [ "$(copies_on "$to" "$marker") $(jq -r .where <<<"$json")" = "1 $(expected_name "$to")" ] || return 1
			from=$to
		else
			check "trial $trial: on node $from, as ps says" [ "$(copies_on "$from" "$marker") $(jq -r .where <<<"$json")" = "1 $(expected_name "$from")" ] || return 1
		fi
	done
	stop_and_check "$id" "$marker"
}

# Usage: killing_the_migration_worker_at CRIU-REQUEST before|after
killing_the_migration_worker_at() {
	local request="$1" when="$2" marker="workerkill-$1-$RANDOM" id trial json
	install_fault_criu 1 || return 1
	disarm_faults || return 1
	id="$(start_counter "$marker")" || return 1
	for trial in $(seq 1 "$WORKER_TRIALS"); do
		arm_fault 1 "$request" "$when" || return 1
		as_user 1 clusterlive migrate --no-wait "$id" "$(expected_name 2)" >/dev/null || return 1
		wait_until 120 "trial $trial: the migration to reach criu $request" on 1 test -e /tmp/fault.reached || return 1
		on 1 pkill -KILL -f "^/usr/libexec/clusterlive/clusterlive-migrate source .*--job $id" || return 1
		on 1 touch /tmp/fault.go || return 1
		wait_until 90 "trial $trial: the recovery to end the migration" \
			eval "job_json 1 $id | jq -e '.migration.outcome != \"in_progress\"' >/dev/null" || return 1
		json="$(job_json 1 "$id")"
		log "  trial $trial: $(jq -c '{where, state, outcome: .migration.outcome, reason: .migration.reason}' <<<"$json")"
		check "trial $trial: the job runs again on node 1, as ps says" [ "$(jq -r '"\(.state) \(.where)"' <<<"$json")" = "running $(expected_name 1)" ] || return 1
		wait_until 90 "trial $trial: one copy of the job (the target's discarded)" eval "[ \"\$(copies_on 1 $marker) \$(copies_of $marker)\" = '1 1' ]" || return 1
		# The target decides its attempt by the record after 30 s without news of the source;
		# until then it refuses another attempt of the job, as it should.
		wait_until 90 "trial $trial: node 2 to settle its attempt" on 2 flock -n "/run/clusterlive/migrations/$id.lock" true || return 1
		check "trial $trial: it is not stopped" not on 1 bash -c "ps -o stat= -p \$(pgrep -f '^sh .*$marker') | grep -q T" || return 1
	done
	on 1 rm -f /tmp/fault.at /usr/local/sbin/criu || return 1
	stop_and_check "$id" "$marker"
}

# Usage: killing_the_target_worker_at CRIU-REQUEST before|after
killing_the_target_worker_at() {
	local request="$1" when="$2" marker="targetkill-$1-$RANDOM" id trial json worker claim
	install_fault_criu 2 || return 1
	disarm_faults || return 1
	id="$(start_counter "$marker")" || return 1
	claim="/run/clusterlive/migrations/$id.claim"
	for trial in $(seq 1 "$WORKER_TRIALS"); do
		arm_fault 2 "$request" "$when" || return 1
		as_user 1 clusterlive migrate --no-wait "$id" "$(expected_name 2)" >/dev/null || return 1
		wait_until 120 "trial $trial: the migration to reach criu $request on node 2" on 2 test -e /tmp/fault.reached || return 1
		# The worker names itself in its claim on the attempt.
		worker="$(on 2 cat "$claim" | jq -r .worker_pid)"
		check "trial $trial: node 2's worker claims the attempt (pid $worker)" [ "$worker" -gt 1 ] || return 1
		on 2 kill -KILL "$worker" || return 1
		on 2 touch /tmp/fault.go || return 1
		wait_until 90 "trial $trial: the migration to end" \
			eval "job_json 1 $id | jq -e '.migration.outcome != \"in_progress\"' >/dev/null" || return 1
		json="$(job_json 1 "$id")"
		log "  trial $trial: $(jq -c '{where, state, outcome: .migration.outcome, reason: .migration.reason}' <<<"$json")"
		check "trial $trial: the job runs on node 1, as ps says" [ "$(jq -r '"\(.state) \(.where)"' <<<"$json")" = "running $(expected_name 1)" ] || return 1
		wait_until 60 "trial $trial: node 2 to settle the attempt (its claim gone)" not on 2 test -e "$claim" || return 1
		wait_until 30 "trial $trial: one copy of the job (none left stopped on node 2)" eval "[ \"\$(copies_on 1 $marker) \$(copies_of $marker)\" = '1 1' ]" || return 1
		check "trial $trial: it is not stopped" not on 1 bash -c "ps -o stat= -p \$(pgrep -f '^sh .*$marker') | grep -q T" || return 1
	done
	on 2 rm -f /tmp/fault.at /usr/local/sbin/criu || return 1
	stop_and_check "$id" "$marker"
}

run_test "every node is up and mounts /cluster" nodes_are_up_with_shared_storage
run_test "a failing restore leaves the job where it was ($TRIALS trials)" a_failing_restore_leaves_the_job_where_it_was
run_test "killing the source's daemon does not stop a migration ($TRIALS trials)" killing_the_source_daemon_does_not_stop_a_migration
run_test "killing the migration worker during pre-copy is recovered ($WORKER_TRIALS trials)" killing_the_migration_worker_at pre-dump before
run_test "killing the migration worker after the final dump is recovered ($WORKER_TRIALS trials)" killing_the_migration_worker_at dump after
run_test "killing the target's worker during pre-copy is settled ($WORKER_TRIALS trials)" killing_the_target_worker_at page-server before
run_test "killing the target's worker after the restore is settled ($WORKER_TRIALS trials)" killing_the_target_worker_at restore after
finish
