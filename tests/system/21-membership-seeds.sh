#!/bin/bash
# clusterlived where multicast does not pass: mDNS is dropped by the LAN's bridge, the LAN has
# a DHCP server (fixed leases: node K is 10.77.0.(10+K)), and every node is given only node
# 1's address as a seed on its kernel command line. Nodes 2 and 3 never hear of each other
# but through node 1, which passes on where each can be reached.
. "$(dirname "$0")/common.sh"
require_qemu
NODES=3
SEED=10.77.0.11
cluster_up "$NODES" --dhcp --iso "$TEST_ISO" --append "clusterlive.peers=$SEED" --no-wait
# Nodes take a minute and more to boot: the filter is in place long before avahi starts.
vc net mdns block
vc wait || hard_error "the nodes did not boot"

mdns_really_is_blocked() {
	local seen
	seen="$(on 1 avahi-browse -ptr _clusterlive._tcp 2>/dev/null | grep '^=' | grep -v '^=;lo;' || true)"
	check "node 1 sees no other node's _clusterlive._tcp record (got: ${seen:-none})" \
		not grep -q "$(expected_name 2)\|$(expected_name 3)" <<<"$seen"
}

every_node_lists_the_others_as_up_through_the_seed() {
	wait_until 120 "every node to list the others as up" all_up_among 1 2 3 || return 1
	local k
	for k in 1 2 3; do
		check "node $k: hellos were accepted" [ "$(status_json "$k" | jq '.counters.hellos_ok // 0')" -ge 1 ] || return 1
	done
	check "node 2 reaches node 3 over the mesh" \
		on 2 ping -c 2 -W 3 "$(status_json 3 | jq -r .mesh.address)" >/dev/null
}

a_node_that_reboots_finds_its_way_back_through_the_seed() {
	vc kill 2
	wait_until 30 "nodes 1 and 3 to mark node 2 dead" eval '[ "$(state_seen_by 1 "$(expected_name 2)")" = dead ] && [ "$(state_seen_by 3 "$(expected_name 2)")" = dead ]' || return 1
	vc start 2 || return 1  # the cluster's --append (the seed) applies again
	wait_until 120 "node 2 to be up again everywhere" all_up_among 1 2 3
}

run_test "mDNS really is blocked" mdns_really_is_blocked
run_test "every node lists the others as up through the seed" every_node_lists_the_others_as_up_through_the_seed
run_test "a node that reboots finds its way back through the seed" a_node_that_reboots_finds_its_way_back_through_the_seed
finish
