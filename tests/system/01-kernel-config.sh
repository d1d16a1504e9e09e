#!/bin/bash
# The image's real kernel config passes the kernel-config check; a doctored copy lacking
# options fails it, naming each missing option.
. "$(dirname "$0")/common.sh"

CHECK="$ROOT/kernel-config/check-kernel-config"
[ -f "$TEST_ISO" ] || hard_error "no test image at $TEST_ISO"
command -v unsquashfs >/dev/null || hard_error "unsquashfs missing (squashfs-tools)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The kernel config as shipped inside the image's root filesystem.
xorriso -osirrox on -indev "$TEST_ISO" -extract /live/filesystem.squashfs "$WORK/root.squashfs" >/dev/null 2>&1 ||
	hard_error "cannot extract the root filesystem from $TEST_ISO"
unsquashfs -q -n -d "$WORK/root" "$WORK/root.squashfs" 'boot/config-*' >/dev/null ||
	hard_error "cannot read boot/config-* from the image"
KCONFIG="$(find "$WORK/root/boot" -name "config-*" | head -n1)"
log "image kernel config: ${KCONFIG##*/}"

real_config_passes() {
	local out
	out="$("$CHECK" "$KCONFIG")" || { echo "$out"; return 1; }
	check "the checker to accept the image's kernel config" grep -q 'has all' <<<"$out"
}

doctored_config_fails_naming_options() {
	sed -e '/^CONFIG_CHECKPOINT_RESTORE=/d' \
		-e 's/^CONFIG_WIREGUARD=.*/# CONFIG_WIREGUARD is not set/' "$KCONFIG" >"$WORK/doctored"
	local out rc=0
	out="$("$CHECK" "$WORK/doctored" 2>&1)" || rc=$?
	printf '%s\n' "$out"
	check "exit code 1 on a doctored config, got $rc" [ "$rc" -eq 1 ] &&
		check "CONFIG_CHECKPOINT_RESTORE named" grep -q 'lacks CONFIG_CHECKPOINT_RESTORE' <<<"$out" &&
		check "CONFIG_WIREGUARD named" grep -q 'lacks CONFIG_WIREGUARD' <<<"$out" &&
		check "only those two named" [ "$(grep -c lacks <<<"$out")" -eq 2 ]
}

image_ships_the_same_checker() {
	unsquashfs -q -n -d "$WORK/root2" "$WORK/root.squashfs" 'usr/share/clusterlive/kernel-config' >/dev/null
	check "the image's kernel-config to be this tree's" diff -r "$ROOT/kernel-config" "$WORK/root2/usr/share/clusterlive/kernel-config"
}

run_test "the image's real kernel config passes" real_config_passes
run_test "a config lacking options fails, naming each" doctored_config_fails_naming_options
run_test "the image carries this tree's kernel-config" image_ships_the_same_checker
finish
