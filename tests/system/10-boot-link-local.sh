#!/bin/bash
# Three nodes on a LAN without a DHCP server: each names itself from its MAC, takes link-local
# addresses, resolves the others' .local names, passes `criu check`. A node killed hard leaves
# the others' mDNS view; booted again, it comes back.
. "$(dirname "$0")/common.sh"
require_qemu
NODES=3
shared_cluster_up three-nodes "$NODES" --iso "$TEST_ISO"

names_come_from_macs_and_are_unique() {
	local k name all=""
	for k in $(seq 1 "$NODES"); do
		name="$(on "$k" hostname)"
		check "node $k named $(expected_name "$k"), got '$name'" [ "$name" = "$(expected_name "$k")" ] || return 1
		all="$all $name"
	done
	check "unique names:$all" [ "$(tr ' ' '\n' <<<"$all" | sed '/^$/d' | sort -u | wc -l)" -eq "$NODES" ]
}

every_node_has_link_local_addresses() {
	local k v4 v6
	for k in $(seq 1 "$NODES"); do
		v4="$(lan_ipv4s "$k")"
		v6="$(on "$k" ip -6 -o addr show scope link | awk '$2 != "lo" { print $4 }')"
		log "  node $k: ${v4//$'\n'/ } ${v6//$'\n'/ }"
		check "node $k to have an IPv4 link-local address" grep -q '^169\.254\.' <<<"$v4" &&
			check "node $k to have only link-local IPv4 (no DHCP server here)" [ -z "$(grep -v '^169\.254\.' <<<"$v4")" ] &&
			check "node $k to have an IPv6 link-local address" grep -q '^fe80:' <<<"$v6" || return 1
	done
}

criu_check_passes_on_every_node() {
	local k record
	for k in $(seq 1 "$NODES"); do
		record="$(on "$k" cat /var/lib/clusterlive/criu-check.json)" || { log "  node $k has no criu-check record"; return 1; }
		log "  node $k: $(jq -c '{ok, criu_version, output}' <<<"$record")"
		check "node $k: criu check ok" [ "$(jq -r .ok <<<"$record")" = true ] &&
			check "node $k: CRIU 4.x" grep -q '^4\.' <<<"$(jq -r .criu_version <<<"$record")" || return 1
	done
}

only_networkd_manages_links() {
	local k
	for k in $(seq 1 "$NODES"); do
		check "node $k: systemd-networkd active" on "$k" systemctl is-active --quiet systemd-networkd &&
			check "node $k: no dhcpcd or ifupdown running" not on "$k" pgrep -x 'dhcpcd|ifup|dhclient' || return 1
	done
}

image_records_its_commit() {
	local release
	release="$(on 1 cat /etc/clusterlive-release)"
	log "  $(tr '\n' ' ' <<<"$release")"
	check "a git commit in /etc/clusterlive-release" grep -Eq '^CLUSTERLIVE_COMMIT=[0-9a-f]{40}(-dirty)?$' <<<"$release" &&
		check "the test variant" grep -qx 'CLUSTERLIVE_VARIANT=test' <<<"$release"
}

killed_node_leaves_and_comes_back() {
	local gone
	gone="$(expected_name 3)"
	check "node 1 sees $gone before the kill" mdns_sees 1 "$gone" || return 1
	vc kill 3
	# The A/SRV records of a silent host expire within their 120 s TTL (avahi re-queries at
	# 80-95 % of it); allow for emulator slowness.
	wait_until 300 "node 1 to lose $gone" mdns_lost 1 "$gone" &&
		wait_until 60 "node 2 to lose $gone" mdns_lost 2 "$gone" || return 1
	log "  $gone left the view of nodes 1 and 2"
	# Booted again with an extra kernel argument, which must reach the node's command line.
	vc start 3 --append clusterlive.testmark=restarted || return 1
	check "--append to reach node 3's kernel command line" grep -qw 'clusterlive.testmark=restarted' <<<"$(on 3 cat /proc/cmdline)" || return 1
	wait_until 120 "node 1 to see $gone again" mdns_sees 1 "$gone" &&
		wait_until 60 "node 2 to see $gone again" mdns_sees 2 "$gone" &&
		check "node 3 to see node 1" mdns_sees 3 "$(expected_name 1)"
}

status_and_log_describe_the_nodes() {
	local status k
	status="$(vc status --json)"
	for k in $(seq 1 "$NODES"); do
		check "status: node $k up as $(expected_name "$k")" \
			jq -e --argjson k "$k" --arg name "$(expected_name "$k")" '.[] | select(.node == $k) | .state == "up" and .name == $name' <<<"$status" >/dev/null &&
			check "status: node $k has a link-local address" \
				jq -e --argjson k "$k" '.[] | select(.node == $k) | any(.addresses[]; startswith("169.254."))' <<<"$status" >/dev/null &&
			check "log: node $k's console shows it ready" grep -q "clusterlive: $(expected_name "$k") ready" <(vc log "$k") || return 1
	done
}

run_test "names come from MACs and are unique" names_come_from_macs_and_are_unique
run_test "vcluster status and log describe the nodes" status_and_log_describe_the_nodes
run_test "every node has link-local IPv4 and IPv6 addresses" every_node_has_link_local_addresses
run_test "every node resolves every other's .local name" every_node_resolves_every_other "$NODES"
run_test "criu check passes on every node" criu_check_passes_on_every_node
run_test "only systemd-networkd manages links" only_networkd_manages_links
run_test "the image records its git commit" image_records_its_commit
run_test "a node killed hard leaves the mDNS view and comes back" killed_node_leaves_and_comes_back
finish
