#!/bin/bash
# clusterlived on three nodes of one cluster (the test image carries its secret on the
# medium), on a LAN without DHCP (link-local addresses): they find each other by mDNS, build
# the WireGuard mesh and track each other with SWIM. A killed node is declared dead quickly
# and comes back when it boots again; packet loss causes no false death; a node holding
# another cluster's secret is shown as foreign and gets in nowhere.
. "$(dirname "$0")/common.sh"
require_qemu
NODES=3
shared_cluster_up three-nodes "$NODES" --iso "$TEST_ISO"

# Boot times vary a lot under emulation: first wait for the three to agree at all.
every_node_lists_the_others_as_up() {
	wait_until 180 "every node to list the others as up" all_up_among 1 2 3 || return 1
	local k status
	for k in 1 2 3; do
		status="$(status_json "$k")"
		check "node $k: 2 members up" [ "$(jq .members_up <<<"$status")" = 2 ] || return 1
		check "node $k: mesh up" [ "$(jq .mesh.up <<<"$status")" = true ] || return 1
		check "node $k: 2 WireGuard peers" [ "$(jq .mesh.peers <<<"$status")" = 2 ] || return 1
		check "node $k: this node listed and marked" \
			[ "$(nodes_json "$k" | jq -r '.nodes[] | select(.self) | .name')" = "$(expected_name "$k")" ] || return 1
	done
}

traffic_flows_over_the_mesh() {
	local mesh2
	mesh2="$(status_json 2 | jq -r .mesh.address)"
	check "node 1 pings node 2's mesh address $mesh2" on 1 ping -c 2 -W 3 "$mesh2" >/dev/null || return 1
	check "the tunnel had a handshake" [ "$(status_json 1 | jq .mesh.peers_with_recent_handshake)" -ge 1 ] || return 1
}

nodes_join_within_10s_of_the_last_daemon_start() {
	local k t_last t_joined took
	for k in 1 2 3; do on "$k" systemctl stop clusterlived; done
	on 1 systemctl start clusterlived
	on 2 systemctl start clusterlived
	# Type=notify: `systemctl start` returns once the daemon is running. Conservative: the
	# clock starts before the last start is even asked for.
	t_last="$(host_now)"
	on 3 systemctl start clusterlived
	until all_up_among 1 2 3; do
		at_most "$(seconds_between "$t_last" "$(host_now)")" 30 || break
	done
	t_joined="$(host_now)"
	took="$(seconds_between "$t_last" "$t_joined")"
	record_figure join_after_last_daemon_start_s "$took"
	check "all three to see each other up within 10 s of the last start (took ${took}s)" at_most "$took" 10
}

# Node K's view of NAME: "STATE STATE_FOR_MS".
state_and_age() { nodes_json "$1" | jq -r --arg n "$2" '.nodes[] | select(.name == $n) | "\(.state) \(.state_for_ms)"'; }

killed_node_is_declared_dead_by_every_other_within_5s() {
	local name3 t_kill k seen state age t_seen dead_at took worst=0
	name3="$(expected_name 3)"
	all_up_among 1 2 3 || wait_until 60 "all up before the kill" all_up_among 1 2 3 || return 1
	t_kill="$(host_now)"
	vc kill 3
	for k in 1 2; do
		while :; do
			seen="$(state_and_age "$k" "$name3")"
			t_seen="$(host_now)"
			read -r state age <<<"$seen"
			[ "$state" = dead ] && break
			at_most "$(seconds_between "$t_kill" "$t_seen")" 30 || { log "  node $k still sees $name3 as ${state:-?}"; return 1; }
		done
		# When node K marked it dead, on the host clock (late by at most one agent round trip).
		dead_at="$(awk -v t="$t_seen" -v a="$age" 'BEGIN { printf "%.3f", t - a / 1000 }')"
		took="$(seconds_between "$t_kill" "$dead_at")"
		log "  node $k marked $name3 dead ${took}s after the kill"
		at_most "$took" "$worst" || worst="$took"
	done
	record_figure crash_to_dead_everywhere_s "$worst"
	check "every node to mark the killed node dead within 5 s (worst ${worst}s)" at_most "$worst" 5
}

restarted_node_comes_back_up() {
	vc start 3 || return 1
	wait_until 120 "node 3 to be up again everywhere" all_up_among 1 2 3
}

five_percent_loss_on_one_link_for_60s_causes_no_false_death() {
	local since k deaths
	all_up_among 1 2 3 || wait_until 60 "all up first" all_up_among 1 2 3 || return 1
	since="$(on 1 date +%s)"
	vc net 2 loss 5
	sleep 60
	vc net 2 loss 0
	for k in 1 2 3; do
		deaths="$(on "$k" journalctl -u clusterlived --since "@$since" -o cat | grep -c ' is dead' || true)"
		check "node $k: no member declared dead during the loss (saw $deaths)" [ "${deaths:-0}" -eq 0 ] || return 1
	done
	check "still all up after the loss" all_up_among 1 2 3
}

node_with_another_secret_stays_out() {
	local other name4 key4 k peers lan1 mesh1 before after
	other="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
	name4="$(expected_name 4)"
	vc start 4 --append "clusterlive.key=$other" || return 1
	wait_until 120 "node 1 to show $name4 as foreign" eval '[ "$(state_seen_by 1 "$name4")" = foreign ]' || return 1
	key4="$(status_json 4 | jq -r .mesh.public_key)"
	check "node 4 is in another cluster" [ "$(status_json 4 | jq -r .cluster_id)" != "$(status_json 1 | jq -r .cluster_id)" ] || return 1
	check "node 4 counts no member" [ "$(status_json 4 | jq .members_up)" = 0 ] || return 1
	for k in 1 2 3; do
		peers="$(on "$k" wg show clmesh0 peers)"
		check "node $k: node 4's key is not a WireGuard peer" not grep -qF "$key4" <<<"$peers" || return 1
		check "node $k: node 4 is shown as foreign" [ "$(state_seen_by "$k" "$name4")" = foreign ] || return 1
	done
	check "node 4 has no WireGuard peer" [ -z "$(on 4 wg show clmesh0 peers)" ] || return 1
	# The control port listens on the mesh address only; node 4 cannot reach it either way.
	mesh1="$(status_json 1 | jq -r .mesh.address)"
	lan1="$(lan_ipv4s 1 | head -n1)"
	local listening
	listening="$(on 1 ss -Hlun 'sport = :51873' | awk '{ print $4 }')"
	check "node 1's control port bound to its mesh address on clmesh0 only (got: ${listening//$'\n'/ })" \
		grep -qxE "\\[$mesh1\\](%clmesh0)?:51873" <<<"$listening" || return 1
	check "one control socket only" [ "$(wc -l <<<"$listening")" -eq 1 ] || return 1
	before="$(status_json 1 | jq '[.counters | to_entries[] | select((.key | startswith("datagrams_")) and .key != "datagrams_ok") | .value] | add')"
	on 4 bash -c "echo probe >/dev/udp/$lan1/51873; echo probe >/dev/udp/$lan1/51872" || true
	check "node 4 has no route into the mesh" not on 4 ping -c 1 -W 2 "$mesh1" >/dev/null || return 1
	sleep 2
	after="$(status_json 1 | jq '[.counters | to_entries[] | select((.key | startswith("datagrams_")) and .key != "datagrams_ok") | .value] | add')"
	check "node 1's membership got nothing from node 4 ($before -> $after rejected datagrams)" [ "$before" = "$after" ] || return 1
	check "node 1 counted node 4's junk hello as rejected" [ "$(status_json 1 | jq '.counters.hellos_truncated // 0')" -ge 1 ] || return 1
	check "the three members are still all up" all_up_among 1 2 3
}

# avahi-daemon restarts (an upgrade, a crash): clusterlived keeps running, publishes its service
# again when avahi is back, and the cluster never notices (membership runs over the mesh).
avahi_daemon_restart_is_survived() {
	local pid_before pid_after
	pid_before="$(on 1 systemctl show -P MainPID clusterlived)"
	on 1 systemctl restart avahi-daemon
	# The new avahi-daemon knows nothing of our service until clusterlived publishes it again.
	wait_until 60 "node 1's own avahi-daemon to list its _clusterlive._tcp service again" \
		eval 'on 1 avahi-browse -ptr _clusterlive._tcp 2>/dev/null | grep -q "^=;[^;]*;IPv4;$(expected_name 1);_clusterlive._tcp;"' || return 1
	wait_until 60 "node 2 to see node 1's _clusterlive._tcp service again" \
		eval 'on 2 avahi-browse -ptr _clusterlive._tcp 2>/dev/null | grep -q "^=;[^;]*;IPv4;$(expected_name 1);_clusterlive._tcp;"' || return 1
	pid_after="$(on 1 systemctl show -P MainPID clusterlived)"
	check "clusterlived on node 1 kept running ($pid_before -> $pid_after)" [ "$pid_before" = "$pid_after" ] || return 1
	check "its journal says it lost avahi-daemon and got it back" \
		eval 'on 1 journalctl -u clusterlived -o cat | grep -qE "avahi client failed.*reconnecting|waiting for avahi-daemon"' || return 1
	check "still all up" all_up_among 1 2 3
}

run_test "every node lists the others as up" every_node_lists_the_others_as_up
run_test "traffic flows over the mesh" traffic_flows_over_the_mesh
run_test "an avahi-daemon restart is survived" avahi_daemon_restart_is_survived
run_test "nodes join within 10 s of the last daemon start" nodes_join_within_10s_of_the_last_daemon_start
run_test "a killed node is declared dead by every other within 5 s" killed_node_is_declared_dead_by_every_other_within_5s
run_test "a restarted node comes back up" restarted_node_comes_back_up
run_test "5 % loss on one link for 60 s causes no false death" five_percent_loss_on_one_link_for_60s_causes_no_false_death
run_test "a node with another secret stays out" node_with_another_secret_stays_out
finish
