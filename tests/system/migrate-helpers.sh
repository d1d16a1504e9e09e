# Helpers for the migration fault tests (41, 42): one long-running deterministic job, counted
# on every node. Sourced after common.sh; NODES must be set.

# From /cluster/tmp: a job whose working directory is on one node only could not move.
as_user() { local k="$1"; shift; on "$k" runuser -u user -- env -C /cluster/tmp "$@"; }
job_json() { on "$1" clusterlive job --json "$2" | jq -c '.job // .'; }
# The job counts until /tmp/MARKER.stop exists on the node it runs on (see 40-migrate.sh).
COUNTER='i=0
while [ ! -e "/tmp/$1.stop" ]; do echo "$i"; i=$((i+1)); sleep 0.2; done'
# The job's shells: command lines starting with "sh " (not its shim's or init's).
copies_on() { on "$1" bash -c "pgrep -fc -- '^sh .*$2' || true"; }
copies_of() {
	local k total=0
	for k in $(seq 1 "$NODES"); do total=$((total + $(copies_on "$k" "$1"))); done
	echo "$total"
}
# Usage: number_of NAME   the number K of the node named NAME; fails if none is.
number_of() {
	local k
	for k in $(seq 1 "$NODES"); do
		if [ "$(expected_name "$k")" = "$1" ]; then
			echo "$k"
			return 0
		fi
	done
	return 1
}

# Usage: start_counter MARKER [K]   starts the counter as the live user on node K (default 1).
start_counter() {
	local marker="$1" k="${2:-1}" id
	on "$k" bash -c "echo $(base64 -w0 <<<"$COUNTER") | base64 -d >/cluster/tmp/count.sh" || return 1
	id="$(as_user "$k" clusterlive run -d --name "$marker" -- sh /cluster/tmp/count.sh "$marker")" || return 1
	wait_until 30 "$marker to run" eval "[ \"\$(job_json $k $id | jq -r .state)\" = running ]" || return 1
	echo "$id"
}
# Usage: stop_and_check ID MARKER   ends the job where it runs, then checks its output.
stop_and_check() {
	local id="$1" marker="$2" where out
	where="$(number_of "$(job_json 1 "$id" | jq -r .where)")"
	on "$where" touch "/tmp/$marker.stop" || return 1
	as_user 1 clusterlive wait "$id" >/dev/null || { log "  wait $id failed"; return 1; }
	out="$(as_user 1 clusterlive logs "$id")"
	check "its output is every number once, in order ($(wc -l <<<"$out") lines)" [ "$out" = "$(seq 0 "$(tail -n 1 <<<"$out")")" ] || return 1
	check "no copy is left" [ "$(copies_of "$marker")" -eq 0 ]
}

nodes_are_up_with_shared_storage() {
	local k
	# shellcheck disable=SC2046
	wait_until 240 "the nodes to list each other as up" all_up_among $(seq 1 "$NODES") || return 1
	for k in $(seq 1 "$NODES"); do
		wait_until 120 "node $k to mount /cluster" eval "[ \"\$(status_json $k | jq .storage.mounted)\" = true ]" || return 1
	done
}

# A CRIU in front of the real one (clusterlived's PATH has /usr/local/sbin first) that pauses
# once at the request named in /tmp/fault.at, before or after running it (/tmp/fault.when),
# until /tmp/fault.go exists; /tmp/fault.reached says it got there.
FAULT_CRIU='#!/bin/sh
at="$(cat /tmp/fault.at 2>/dev/null)"
pause() {
	rm -f /tmp/fault.at
	touch /tmp/fault.reached
	i=0
	while [ ! -e /tmp/fault.go ] && [ "$i" -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	rm -f /tmp/fault.go
}
if [ -n "$at" ] && [ "$1" = "$at" ]; then
	if [ "$(cat /tmp/fault.when)" = before ]; then pause; exec /usr/sbin/criu "$@"; fi
	/usr/sbin/criu "$@"
	rc=$?
	pause
	exit "$rc"
fi
exec /usr/sbin/criu "$@"'
install_fault_criu() { on "$1" bash -c "echo $(base64 -w0 <<<"$FAULT_CRIU") | base64 -d >/usr/local/sbin/criu && chmod +x /usr/local/sbin/criu"; }
# Usage: disarm_faults   no CRIU request pauses on any node (also after a case that failed).
disarm_faults() { local k; for k in $(seq 1 "$NODES"); do on "$k" rm -f /tmp/fault.at /tmp/fault.reached /tmp/fault.go; done; }
# Usage: arm_fault K CRIU-REQUEST before|after   the next such request on node K pauses.
arm_fault() { on "$1" bash -c "rm -f /tmp/fault.*; echo $3 >/tmp/fault.when; echo $2 >/tmp/fault.at"; }
