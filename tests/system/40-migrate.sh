#!/bin/bash
# Live migration on three nodes: a job started on node 1 is moved 1 -> 2 -> 3 -> home with
# `clusterlive migrate` (sent home from node 1 while it runs on node 3: the request is passed
# on); it keeps its PID-namespace view (its init is PID 1 wherever it runs),
# the file it holds open on /cluster and its output, with nothing lost or repeated; exactly
# one copy of it runs at any time; `ps` follows it. A foreground `run` returns the job's exit
# status after two moves (the second asked on node 1). A job that moved away is killed from
# its home node. A job started from the live user's home (on /cluster) moves too. A job
# holding a file outside /cluster and the image is refused with the reason, and keeps running
# where it was.
. "$(dirname "$0")/common.sh"
require_qemu
NODES=3
shared_cluster_up three-nodes "$NODES" --iso "$TEST_ISO"

# From /cluster/tmp: a job whose working directory is on one node only could not move.
as_user() { local k="$1"; shift; on "$k" runuser -u user -- env -C /cluster/tmp "$@"; }
# From the user's home directory, which is on /cluster too.
as_home() { local k="$1"; shift; on "$k" runuser -u user -- env -C /home/user "$@"; }
job_json() { on "$1" clusterlive ps --json | jq -c --arg id "$2" '.jobs[] | select(.id == $id)'; }
mkdir -p "$ARTIFACTS"
STATE="$ARTIFACTS/case-state"
: >"$STATE"
remember() { printf '%s=%s\n' "$1" "$2" >>"$STATE"; }
recall() { awk -F= -v k="$1" '$1 == k { v = $2 } END { print v }' "$STATE"; }

# A deterministic job, run as `sh /cluster/tmp/counter.sh MARKER STATUS`: counts, one number
# every 0.2 s, on stdout and into /cluster/tmp/MARKER.txt, which it keeps open, until
# /tmp/MARKER.stop exists on the node it runs on, then exits with STATUS. Whatever the timing,
# its output must be 0, 1, ... K: nothing lost or repeated across moves. MARKER, on its command
# line, lets its copies be counted.
COUNTER='exec 3>>"/cluster/tmp/$1.txt"
i=0
while [ ! -e "/tmp/$1.stop" ]; do echo "$i"; echo "$i" >&3; i=$((i+1)); sleep 0.2; done
exit "$2"'
install_counter() { on 1 bash -c "echo $(base64 -w0 <<<"$COUNTER") | base64 -d >/cluster/tmp/counter.sh"; }
# Usage: copies_on K MARKER   how many shells of the job run on node K: command lines that
# start with "sh " (not the shim's or the job init's, which name the command after theirs,
# nor the bash that looks).
copies_on() { on "$1" bash -c "pgrep -fc -- '^sh .*$2' || true"; }
# Usage: copies_of MARKER   how many shells of the job run, over all nodes.
copies_of() {
	local k total=0 n
	for k in 1 2 3; do
		n="$(copies_on "$k" "$1")"
		total=$((total + n))
	done
	echo "$total"
}
# Usage: init_nspid K ID   the NSpid line of the job's init on node K ("NSpid: 1234 1").
init_nspid() { on "$1" bash -c "pid=\$(cut -d' ' -f1 /run/clusterlive/jobs/$2.pid) && grep NSpid /proc/\$pid/status"; }
# Usage: migrate_to ASKED_ON TO ID   moves the job to node TO ("home": its home), asked on node
# ASKED_ON (the node it runs on, or any other: that one's daemon passes the request on).
migrate_to() {
	local asked_on="$1" to="$2" id="$3" out rc=0 name
	[ "$to" = home ] && name=home || name="$(expected_name "$to")"
	out="$(as_user "$asked_on" clusterlive migrate "$id" "$name" 2>&1)" || rc=$?
	log "  migrate $id $name (asked on node $asked_on): $out"
	check "migrate $id to $name, asked on node $asked_on, succeeds (got $rc)" [ "$rc" -eq 0 ]
}

every_node_is_up_with_shared_storage() {
	wait_until 240 "every node to list the others as up" all_up_among 1 2 3 || return 1
	local k
	for k in 1 2 3; do
		wait_until 90 "node $k to mount /cluster and lead the homes there" eval "[ \"\$(status_json $k | jq .storage.homes_linked)\" = true ]" || return 1
	done
	check "the test program is on /cluster" install_counter
}

a_job_moves_around_the_cluster_and_home() {
	local id marker=count-$RANDOM n1 n2 json out
	n1="$(expected_name 1)"
	n2="$(expected_name 2)"
	id="$(as_user 1 clusterlive run -d --name counter -- sh /cluster/tmp/counter.sh "$marker" 0)" || return 1
	remember id "$id"
	wait_until 30 "the job to run" eval "[ \"\$(job_json 1 $id | jq -r .state)\" = running ]" || return 1
	check "its init is PID 1 of its namespace on node 1" grep -qE 'NSpid:\s+[0-9]+\s+1$' <<<"$(init_nspid 1 "$id")" || return 1
	migrate_to 1 2 "$id" || return 1
	check "ps on node 1 says it runs on $n2" [ "$(job_json 1 "$id" | jq -r '"\(.state) \(.where)"')" = "running $n2" ] || return 1
	check "one copy runs" [ "$(copies_of "$marker")" -eq 1 ] || return 1
	check "it runs on node 2" [ "$(copies_on 2 "$marker")" -eq 1 ] || return 1
	check "its init is still PID 1 of its namespace, on node 2" grep -qE 'NSpid:\s+[0-9]+\s+1$' <<<"$(init_nspid 2 "$id")" || return 1
	migrate_to 2 3 "$id" || return 1
	check "one copy runs, on node 3" [ "$(copies_of "$marker") $(copies_on 3 "$marker")" = "1 1" ] || return 1
	# Sent home from its home node, where the user started it: node 1 passes it on to node 3.
	migrate_to 1 home "$id" || return 1
	json="$(job_json 1 "$id")"
	check "ps: back home, moved 3 times (got $json)" [ "$(jq -r '"\(.where) \(.migrations)"' <<<"$json")" = "$n1 3" ] || return 1
	check "one copy runs, on node 1" [ "$(copies_of "$marker") $(copies_on 1 "$marker")" = "1 1" ] || return 1
	on 1 touch "/tmp/$marker.stop" || return 1
	as_user 1 clusterlive wait "$id" >/dev/null || { log "  wait failed"; return 1; }
	out="$(as_user 1 clusterlive logs "$id")"
	check "its output is every number once, in order ($(wc -l <<<"$out") lines)" [ "$out" = "$(seq 0 "$(tail -n 1 <<<"$out")")" ] || return 1
	check "the file it held open on /cluster too" [ "$(on 2 cat "/cluster/tmp/$marker.txt")" = "$out" ] || return 1
	check "no copy is left" [ "$(copies_of "$marker")" -eq 0 ]
}

foreground_run_returns_the_status_after_two_moves() {
	local marker=fg-$RANDOM id rc out
	on 1 bash -c "setsid runuser -u user -- env -C /cluster/tmp sh -c 'clusterlive run --name fg -- sh /cluster/tmp/counter.sh $marker 5 >/tmp/fg.out 2>/tmp/fg.err; echo \$? >/tmp/fg.rc' </dev/null >/dev/null 2>&1 &" || return 1
	wait_until 30 "the foreground job to start" eval "[ -n \"\$(on 1 clusterlive ps --json | jq -r '.jobs[] | select(.name == \"fg\" and .state == \"running\") | .id')\" ]" || return 1
	id="$(on 1 clusterlive ps --json | jq -r '.jobs[] | select(.name == "fg") | .id')"
	migrate_to 1 2 "$id" || return 1
	migrate_to 1 3 "$id" || return 1
	on 3 touch "/tmp/$marker.stop" || return 1
	wait_until 120 "the foreground run to return" on 1 test -s /tmp/fg.rc || return 1
	rc="$(on 1 cat /tmp/fg.rc)"
	check "run returned the job's exit status 5 (got $rc)" [ "$rc" -eq 5 ] || return 1
	out="$(on 1 cat /tmp/fg.out)"
	check "and streamed every number once ($(wc -l <<<"$out") lines)" [ "$out" = "$(seq 0 "$(tail -n 1 <<<"$out")")" ]
}

a_moved_job_is_killed_from_its_home_node() {
	local marker=killed-$RANDOM id rc=0
	id="$(as_user 1 clusterlive run -d --name victim -- sh /cluster/tmp/counter.sh "$marker" 0)" || return 1
	wait_until 30 "the job to run" eval "[ \"\$(job_json 1 $id | jq -r .state)\" = running ]" || return 1
	migrate_to 1 2 "$id" || return 1
	check "another user may not kill it" not on 1 runuser -u nobody -- clusterlive kill "$id" || return 1
	check "its owner kills it from node 1" as_user 1 clusterlive kill "$id" || return 1
	as_user 1 clusterlive wait "$id" >/dev/null || rc=$?
	check "wait returns 128+9 (got $rc)" [ "$rc" -eq 137 ] || return 1
	check "ps says killed by 9" [ "$(job_json 1 "$id" | jq -r '"\(.state) \(.signal)"')" = "killed 9" ] || return 1
	check "no copy is left" [ "$(copies_of "$marker")" -eq 0 ]
}

# The live user's home is on /cluster (/home/user leads to /cluster/home/user): a job started
# from ~, running a program kept in ~, moves like any other.
a_job_started_from_the_home_directory_moves() {
	local marker=home-$RANDOM id out cwd
	check "the user copies the test program into ~ on node 1" as_home 1 cp /cluster/tmp/counter.sh counter.sh || return 1
	id="$(as_home 1 clusterlive run -d --name from-home -- sh counter.sh "$marker" 0)" || return 1
	wait_until 30 "the job to run" eval "[ \"\$(job_json 1 $id | jq -r .state)\" = running ]" || return 1
	migrate_to 1 2 "$id" || return 1
	check "one copy runs, on node 2" [ "$(copies_of "$marker") $(copies_on 2 "$marker")" = "1 1" ] || return 1
	cwd="$(on 2 bash -c "readlink /proc/\$(pgrep -f -- '^sh counter.sh $marker')/cwd")"
	check "in the user's home on /cluster (got $cwd)" [ "$cwd" = /cluster/home/user ] || return 1
	on 2 touch "/tmp/$marker.stop" || return 1
	as_home 3 clusterlive wait "$id" >/dev/null || { log "  wait failed"; return 1; }
	out="$(as_home 3 clusterlive logs "$id")"
	check "its output is every number once, in order ($(wc -l <<<"$out") lines)" [ "$out" = "$(seq 0 "$(tail -n 1 <<<"$out")")" ]
}

a_job_with_a_local_file_is_refused_and_keeps_running() {
	local id out rc=0 marker=local-$RANDOM
	id="$(as_user 1 clusterlive run -d --name pinned -- sh -c "exec 3>/tmp/$marker.txt; while :; do sleep 1; done" "$marker")" || return 1
	wait_until 30 "the job to run" eval "[ \"\$(job_json 1 $id | jq -r .state)\" = running ]" || return 1
	out="$(as_user 1 clusterlive migrate "$id" "$(expected_name 2)" 2>&1)" || rc=$?
	log "  migrate: $out"
	check "migrate fails (got $rc)" [ "$rc" -ne 0 ] || return 1
	check "naming the file (got: $out)" grep -q "/tmp/$marker.txt" <<<"$out" || return 1
	check "the job still runs on node 1" [ "$(job_json 1 "$id" | jq -r '"\(.state) \(.where)"')" = "running $(expected_name 1)" ] || return 1
	check "one copy" [ "$(copies_of "$marker")" -eq 1 ] || return 1
	as_user 1 clusterlive kill "$id" >/dev/null
}

run_test "every node is up and mounts /cluster" every_node_is_up_with_shared_storage
run_test "a job moves 1 -> 2 -> 3 -> home, output and open file intact" a_job_moves_around_the_cluster_and_home
run_test "a foreground run returns the job's status after two moves" foreground_run_returns_the_status_after_two_moves
run_test "a job moved away is killed from its home node" a_moved_job_is_killed_from_its_home_node
run_test "a job started from the user's home directory moves" a_job_started_from_the_home_directory_moves
run_test "a job holding a local file is refused and keeps running" a_job_with_a_local_file_is_refused_and_keeps_running
finish
