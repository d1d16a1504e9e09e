#!/bin/bash
# Two nodes on a LAN whose DHCP server (dnsmasq in the test's namespace) hands out leases:
# each takes a lease under its own name, resolves the others, passes `criu check`. The
# harness's link controls (down, up, loss) really cut and restore a node's traffic.
. "$(dirname "$0")/common.sh"
require_qemu
NODES=2
LAN=10.77.0
MEM_MIB=900
cluster_up "$NODES" --dhcp --mem "$MEM_MIB" --iso "$TEST_ISO"

nodes_have_the_memory_asked_for() {
	local k total_mib
	for k in $(seq 1 "$NODES"); do
		total_mib="$(($(on "$k" awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))"
		# The kernel keeps some for itself: MemTotal is a little under what the VM has.
		check "node $k: MemTotal ${total_mib} MiB close to --mem $MEM_MIB" [ "$total_mib" -le "$MEM_MIB" ] && [ "$total_mib" -ge $((MEM_MIB - 150)) ] || return 1
	done
}

every_node_takes_a_dhcp_lease_under_its_name() {
	local k v4 leases
	for k in $(seq 1 "$NODES"); do
		v4="$(lan_ipv4s "$k")"
		log "  node $k: ${v4//$'\n'/ }"
		check "node $k to have a DHCP address in $LAN.0/24" grep -q "^$LAN\\." <<<"$v4" || return 1
	done
	leases="$(cat "$VCLUSTER_STATE/dnsmasq.leases")"
	for k in $(seq 1 "$NODES"); do
		check "a lease for $(expected_name "$k")" grep -q " $(expected_name "$k") " <<<"$leases" || return 1
	done
}

criu_check_passes_on_every_node() {
	local k
	for k in $(seq 1 "$NODES"); do
		check "node $k: criu check ok" [ "$(on "$k" jq -r .ok /var/lib/clusterlive/criu-check.json)" = true ] || return 1
	done
}

# Node 1 pings node 2's DHCP address: COUNT probes, prints how many came back.
pings_answered() {
	local target
	target="$(lan_ipv4s 2 | grep "^$LAN\\." | head -n1)"
	on 1 ping -n -q -c "$1" -i 0.2 -W 1 "$target" 2>/dev/null | awk '/received/ { print $4 }' || true
}

all_pings_answered() { [ "$(pings_answered "$1")" = "$1" ]; }

link_controls_cut_and_restore_traffic() {
	local got
	got="$(pings_answered 5)"
	check "5/5 pings before any cut, got ${got:-0}" [ "${got:-0}" -eq 5 ] || return 1
	vc net 2 down
	got="$(pings_answered 5)"
	check "0/5 pings with node 2's link down, got ${got:-0}" [ "${got:-0}" -eq 0 ] || return 1
	vc net 2 up
	wait_until 30 "pings to pass again after net up" all_pings_answered 2
	got="$(pings_answered 5)"
	check "5/5 pings after the link is back, got ${got:-0}" [ "${got:-0}" -eq 5 ] || return 1
	vc net 2 loss 50
	got="$(pings_answered 60)"
	log "  with 50 % loss each way: $got/60 answered"
	# Both directions drop half: about a quarter come back; far from none and from all.
	check "some but not all pings through 50 % loss, got ${got:-0}/60" [ "${got:-0}" -ge 3 ] && [ "${got:-0}" -le 35 ] || return 1
	vc net 2 loss 0
	got="$(pings_answered 5)"
	check "5/5 pings after loss 0, got ${got:-0}" [ "${got:-0}" -eq 5 ]
}

run_test "nodes have the memory --mem asked for" nodes_have_the_memory_asked_for
run_test "every node takes a DHCP lease under its own name" every_node_takes_a_dhcp_lease_under_its_name
run_test "every node resolves every other's .local name" every_node_resolves_every_other "$NODES"
run_test "criu check passes on every node" criu_check_passes_on_every_node
run_test "vcluster net down/up/loss cut and restore a node's traffic" link_controls_cut_and_restore_traffic
finish
