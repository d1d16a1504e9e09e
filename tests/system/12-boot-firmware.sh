#!/bin/bash
# The hybrid ISO boots unattended through its own boot menus, by BIOS (isolinux) and by UEFI
# (GRUB): the menus time out by themselves and the node comes up as with a direct boot.
. "$(dirname "$0")/common.sh"
require_qemu
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || hard_error "no OVMF firmware (apt-get install ovmf)"
# Both at once: two nodes boot in about the time of one on two cores.
cluster_up 1 --firmware bios --iso "$TEST_ISO" --no-wait
vc start 2 --firmware uefi --no-wait >/dev/null || hard_error "could not start node 2 by UEFI"
vc wait || hard_error "the nodes did not boot"

booted_by() {
	# Usage: booted_by K bios|uefi
	local k="$1" want="$2" efi cmdline
	efi="$(on "$k" sh -c 'test -d /sys/firmware/efi && echo uefi || echo bios')"
	cmdline="$(on "$k" cat /proc/cmdline)"
	log "  node $k: $efi, cmdline: $cmdline"
	check "node $k booted by $want, got $efi" [ "$efi" = "$want" ] &&
		check "node $k booted the live entry of the ISO's menu" grep -q 'boot=live' <<<"$cmdline" &&
		check "node $k booted from the menu, not directly" grep -q 'BOOT_IMAGE=' <<<"$cmdline" &&
		check "node $k named from its MAC" [ "$(on "$k" hostname)" = "$(expected_name "$k")" ]
}

run_test "the ISO boots by BIOS through isolinux" booted_by 1 bios
run_test "the ISO boots by UEFI through GRUB" booted_by 2 uefi
run_test "the two see each other" mdns_sees 1 "$(expected_name 2)"
finish
