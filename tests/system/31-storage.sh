#!/bin/bash
# The shared /cluster on three nodes: they elect one storage node by themselves (the first
# node up serves, as the others boot they find it serving; among nodes up together, the lowest
# node id when nobody is pinned), it exports /cluster over the mesh only, every node mounts
# it, and a job started on one node is seen, with its files, from the others, as is the live
# user's home (/home/user leads to /cluster/home/user). When the storage node dies the others
# elect the next one and remount (with a fresh home); when it comes back, even pinned with
# clusterlive.role=storage, it does not take the storage back from the running one. A job
# whose node dies is shown as unreachable (not running, not ended) by the others. A restart of
# clusterlived on a node leaves its /cluster mount in place.
. "$(dirname "$0")/common.sh"
require_qemu
NODES=3
shared_cluster_up three-nodes "$NODES" --iso "$TEST_ISO"

storage_of() { status_json "$1" | jq -c .storage; }
# Usage: lowest_name K...   the smallest node id among nodes K...
lowest_name() { for k in "$@"; do expected_name "$k"; done | sort | head -n 1; }
number_of() { local k; for k in 1 2 3; do [ "$(expected_name "$k")" = "$1" ] && echo "$k"; done; }
# Usage: all_mounted_from NAME K...   every node K... mounts /cluster from NAME
all_mounted_from() {
	local name="$1" k json
	shift
	for k in "$@"; do
		json="$(storage_of "$k")" || return 1
		[ "$(jq -r '"\(.mounted) \(.server)"' <<<"$json")" = "true $name" ] || return 1
	done
}
as_user() { local k="$1"; shift; on "$k" runuser -u user -- env -C /home/user "$@"; }
# Each case runs in a subshell: what one case learns for the next goes through a file.
mkdir -p "$ARTIFACTS"
STATE="$ARTIFACTS/case-state"
: >"$STATE"
remember() { printf '%s=%s\n' "$1" "$2" >>"$STATE"; }
recall() { awk -F= -v k="$1" '$1 == k { v = $2 } END { print v }' "$STATE"; }
every_node_mounts_the_elected_storage_node() {
	wait_until 180 "every node to list the others as up" all_up_among 1 2 3 || return 1
	local SERVER k serving=0
	wait_until 60 "node 1 to name a storage node" eval '[ -n "$(storage_of 1 | jq -r .server)" ]' || return 1
	SERVER="$(storage_of 1 | jq -r .server)"
	remember server "$SERVER"
	wait_until 60 "every node to mount /cluster from $SERVER" all_mounted_from "$SERVER" 1 2 3 || return 1
	for k in 1 2 3; do
		[ "$(storage_of "$k" | jq .serving)" = true ] && serving=$((serving + 1))
	done
	check "exactly one node serves (got $serving)" [ "$serving" -eq 1 ] || return 1
	check "and it is $SERVER" [ "$(storage_of "$(number_of "$SERVER")" | jq .serving)" = true ]
}

nfs_listens_on_the_mesh_only() {
	local k mesh listeners
	k="$(number_of "$(recall server)")"
	mesh="$(status_json "$k" | jq -r .mesh.address)"
	listeners="$(on "$k" ss -Hltn 'sport = :2049' | awk '{print $4}' | sort -u | tr '\n' ' ')"
	check "nfsd listens on [$mesh]:2049 only (got: $listeners)" [ "$listeners" = "[$mesh]:2049 " ] || return 1
	listeners="$(on "$k" ss -Hlnu 'sport = :111' ; on "$k" ss -Hlnt 'sport = :111')"
	check "no rpcbind listens (got: $listeners)" [ -z "$listeners" ]
}

files_and_jobs_are_shared() {
	local id out where
	check "a file written on node 2" on 2 bash -c 'echo shared-text >/cluster/tmp/from-node-2' || return 1
	out="$(on 3 cat /cluster/tmp/from-node-2)"
	check "is read on node 3 (got: $out)" [ "$out" = shared-text ] || return 1
	id="$(as_user 3 clusterlive run -d --name sharer -- sh -c 'echo out-of-3; echo from-job >/cluster/tmp/job-file')" || return 1
	as_user 3 clusterlive wait "$id" || return 1
	where="$(on 1 clusterlive ps --json | jq -r --arg id "$id" '.jobs[] | select(.id == $id) | "\(.home) \(.state)"')"
	check "node 1 lists node 3's job (got: $where)" [ "$where" = "$(expected_name 3) exited" ] || return 1
	out="$(as_user 2 clusterlive logs "$id")"
	check "node 2 shows its output (got: $out)" [ "$out" = out-of-3 ] || return 1
	out="$(on 1 cat /cluster/tmp/job-file)"
	check "node 1 reads the file it wrote (got: $out)" [ "$out" = from-job ] || return 1
	home_is_shared
}

# The live user's home is on /cluster: /home/user leads there on every node, and what the user
# writes in ~ on one node is in ~ on the others.
home_is_shared() {
	local k out
	for k in 1 2 3; do
		# The homes are linked by an action of their own after the mount (retried if it fails).
		wait_until 30 "node $k to say the homes lead to /cluster" eval "[ \"\$(storage_of $k | jq .homes_linked)\" = true ]" || return 1
		check "node $k: /home/user leads to /cluster/home/user" [ "$(on "$k" readlink /home/user)" = /cluster/home/user ] || return 1
	done
	check "the home keeps its owner and the skeleton's files" on 2 bash -c '[ "$(stat -c %U /cluster/home/user)" = user ] && [ -f /cluster/home/user/.bashrc ]' || return 1
	check "the user writes a file in ~ on node 1" as_user 1 sh -c 'echo in-my-home >notes.txt' || return 1
	out="$(as_user 3 cat notes.txt)"
	check "and reads it in ~ on node 3 (got: $out)" [ "$out" = in-my-home ]
}

# A restarted daemon learns the members anew; meanwhile the mount its previous run made stays
# (it is under the node's running jobs) and its jobs are listed at once.
a_daemon_restart_keeps_the_mount() {
	local k id before after state
	for k in 1 2 3; do [ "$(expected_name "$k")" != "$(recall server)" ] && break; done
	id="$(as_user "$k" clusterlive run -d --name keeper -- sleep 600)" || return 1
	before="$(on "$k" findmnt -n -o ID --mountpoint /cluster)"
	check "node $k restarts clusterlived" on "$k" systemctl restart clusterlived || return 1
	wait_until 30 "the daemon to answer again" on "$k" clusterlive status >/dev/null || return 1
	state="$(on "$k" clusterlive ps --json | jq -r --arg id "$id" '.jobs[] | select(.id == $id) | .state')"
	check "ps on node $k lists its job as running at once (got: $state)" [ "$state" = running ] || return 1
	wait_until 30 "node $k to name the storage node again" eval "[ \"\$(storage_of $k | jq -r .server)\" = $(recall server) ]" || return 1
	after="$(on "$k" findmnt -n -o ID --mountpoint /cluster)"
	check "/cluster is the same mount as before the restart (mount id $before, now $after)" [ "${before:-none}" = "$after" ] || return 1
	check "the job's owner kills it" as_user "$k" clusterlive kill "$id"
}

the_next_node_takes_over_when_the_storage_node_dies() {
	local dead survivors=() k next start took out
	dead="$(number_of "$(recall server)")"
	remember dead "$dead"
	for k in 1 2 3; do [ "$k" != "$dead" ] && survivors+=("$k"); done
	start="$(host_now)"
	vc kill "$dead"
	next="$(lowest_name "${survivors[@]}")"
	wait_until 90 "nodes ${survivors[*]} to mount /cluster from $next" all_mounted_from "$next" "${survivors[@]}" || return 1
	took="$(seconds_between "$start" "$(host_now)")"
	record_figure storage_failover_s "$took"
	for k in "${survivors[@]}"; do
		log "  node $k, storage since the kill:"
		on "$k" journalctl -u clusterlived --since "-$((${took%.*} + 10))s" -o short-monotonic --no-pager |
			grep -E 'storage|dead' | sed 's/^/    /'
	done
	out="$(as_user "${survivors[1]}" clusterlive run -- sh -c 'echo after-failover')"
	check "a job runs again (got: $out)" [ "$out" = after-failover ] || return 1
	# The dead node's store went with it: the new one has a fresh home, from the skeleton.
	for k in "${survivors[@]}"; do
		wait_until 30 "node $k to lead the homes to the new /cluster" eval "[ \"\$(storage_of $k | jq .homes_linked)\" = true ]" || return 1
		check "node $k: the user's home is there again" on "$k" test -f /home/user/.bashrc || return 1
	done
	remember server "$next"
}

a_returning_pinned_node_does_not_take_the_storage_back() {
	local dead server json
	dead="$(recall dead)" server="$(recall server)"
	vc start "$dead" --append "clusterlive.role=storage" || return 1
	# On an idle host boot and rejoin took 87 s together; a 180 s wait for the rejoin alone ran
	# out once in a CI rehearsal while the host also compiled (three emulated nodes on two cores).
	wait_until 300 "node $dead to be up everywhere again" all_up_among 1 2 3 || return 1
	wait_until 60 "all three to mount /cluster from $server" all_mounted_from "$server" 1 2 3 || return 1
	json="$(storage_of "$dead")"
	check "node $dead is pinned and does not serve (got $json)" [ "$(jq -r '"\(.pinned) \(.serving)"' <<<"$json")" = "true false" ] || return 1
	sleep 10
	check "ten seconds later the storage has not moved" all_mounted_from "$server" 1 2 3
}

a_job_on_a_dead_node_is_shown_unreachable() {
	local server k victim="" id state
	server="$(number_of "$(recall server)")"
	for k in 1 2 3; do [ "$k" != "$server" ] && victim="$k"; done
	id="$(as_user "$victim" clusterlive run -d --name stranded -- sleep 600)" || return 1
	wait_until 30 "the job to run on node $victim" eval '[ "$(on "$server" clusterlive ps --json | jq -r --arg id "$id" ".jobs[] | select(.id == \$id) | .state")" = running ]' || return 1
	vc kill "$victim"
	wait_until 30 "node $server to show the job unreachable" eval '[ "$(on "$server" clusterlive ps --json | jq -r --arg id "$id" ".jobs[] | select(.id == \$id) | .state")" = unreachable ]' || return 1
	state="$(on "$server" clusterlive ps --json | jq -r --arg id "$id" '.jobs[] | select(.id == $id) | .where')"
	check "ps still says where it was (got $state)" [ "$state" = "$(expected_name "$victim")" ]
}

run_test "every node mounts /cluster from the elected storage node" every_node_mounts_the_elected_storage_node
run_test "nfsd listens on the mesh only, no rpcbind" nfs_listens_on_the_mesh_only
run_test "files, jobs and the user's home on /cluster are seen from every node" files_and_jobs_are_shared
run_test "a restart of clusterlived keeps /cluster mounted and lists the jobs at once" a_daemon_restart_keeps_the_mount
run_test "the next node takes over when the storage node dies" the_next_node_takes_over_when_the_storage_node_dies
run_test "a returning pinned node does not take the storage back" a_returning_pinned_node_does_not_take_the_storage_back
run_test "a job on a dead node is shown unreachable" a_job_on_a_dead_node_is_shown_unreachable
finish
