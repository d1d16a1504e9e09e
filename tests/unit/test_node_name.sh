# shellcheck shell=bash
# node-name: every node's hostname comes from its primary MAC.
NODE_NAME="$CLUSTERLIVE_ROOT/config/common/includes.chroot/usr/lib/clusterlive/node-name"

# Usage: fake_iface DIR NAME IFINDEX MAC [physical|virtual] [TYPE]
fake_iface() {
	local d="$1/$2"
	mkdir -p "$d"
	echo "$3" >"$d/ifindex"
	echo "$4" >"$d/address"
	echo "${6:-1}" >"$d/type"
	[ "${5:-physical}" = physical ] && mkdir -p "$d/device"
	return 0
}

test_name_is_last_three_mac_bytes_lowercase() {
	fake_iface "$TMP/net" lo 1 00:00:00:00:00:00 virtual 772
	fake_iface "$TMP/net" ens3 2 52:54:00:3A:9F:01
	assert_eq node-3a9f01 "$(sh "$NODE_NAME" "$TMP/net")"
}

test_lowest_ifindex_physical_interface_wins() {
	fake_iface "$TMP/net" enp2s0 5 aa:bb:cc:00:00:05
	fake_iface "$TMP/net" enp1s0 3 aa:bb:cc:00:00:03
	fake_iface "$TMP/net" br0 2 aa:bb:cc:00:00:02 virtual
	fake_iface "$TMP/net" wg0 4 aa:bb:cc:00:00:04 virtual 65534
	assert_eq node-000003 "$(sh "$NODE_NAME" "$TMP/net")"
}

test_non_ethernet_physical_interfaces_are_skipped() {
	fake_iface "$TMP/net" ib0 2 80:00:00:00:00:01 physical 32
	fake_iface "$TMP/net" eth1 7 02:00:00:ab:cd:ef
	assert_eq node-abcdef "$(sh "$NODE_NAME" "$TMP/net")"
}

test_falls_back_to_machine_id_without_nic() {
	fake_iface "$TMP/net" lo 1 00:00:00:00:00:00 virtual 772
	echo 0123456789abcdef0123456789abcdef >"$TMP/machine-id"
	assert_eq node-012345 "$(CLUSTERLIVE_MACHINE_ID_FILE="$TMP/machine-id" sh "$NODE_NAME" "$TMP/net")"
}

test_fails_clearly_without_nic_and_machine_id() {
	mkdir -p "$TMP/net"
	local out rc=0
	out="$(CLUSTERLIVE_MACHINE_ID_FILE="$TMP/none" sh "$NODE_NAME" "$TMP/net" 2>&1)" || rc=$?
	assert_eq 1 "$rc" "exit code"
	assert_contains "$out" "no physical Ethernet interface"
}
