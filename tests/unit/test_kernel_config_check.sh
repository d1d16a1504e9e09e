# shellcheck shell=bash
# kernel-config/check-kernel-config: the image build fails naming a missing option.
CHECK="$CLUSTERLIVE_ROOT/kernel-config/check-kernel-config"

# A kernel config that has every option the fragments require, half of them as modules.
complete_config() {
	grep -h '^CONFIG_' "$CLUSTERLIVE_ROOT"/kernel-config/[0-9][0-9]-*.config |
		awk -F= 'NR % 2 { print $1 "=m"; next } { print $1 "=y" }'
	echo 'CONFIG_UNRELATED=y'
}

test_complete_config_passes() {
	complete_config >"$TMP/config"
	local out
	out="$("$CHECK" "$TMP/config")"
	assert_contains "$out" "has all"
}

test_missing_option_fails_naming_it_and_its_reason() {
	complete_config | grep -v '^CONFIG_CHECKPOINT_RESTORE=' >"$TMP/config"
	local out rc=0
	out="$("$CHECK" "$TMP/config" 2>&1)" || rc=$?
	assert_eq 1 "$rc" "exit code"
	assert_contains "$out" "lacks CONFIG_CHECKPOINT_RESTORE (10-checkpoint-restore.config): kcmp()"
}

test_option_explicitly_not_set_fails() {
	complete_config | sed 's/^CONFIG_WIREGUARD=.*/# CONFIG_WIREGUARD is not set/' >"$TMP/config"
	local out rc=0
	out="$("$CHECK" "$TMP/config" 2>&1)" || rc=$?
	assert_eq 1 "$rc" "exit code"
	assert_contains "$out" "lacks CONFIG_WIREGUARD"
	assert_not_contains "$out" "lacks CONFIG_CHECKPOINT_RESTORE"
}

test_every_missing_option_is_reported() {
	complete_config | grep -Ev '^CONFIG_(NFSD|USERFAULTFD|PID_NS)=' >"$TMP/config"
	local out
	out="$("$CHECK" "$TMP/config" 2>&1)" || true
	assert_contains "$out" "CONFIG_NFSD "
	assert_contains "$out" "CONFIG_USERFAULTFD "
	assert_contains "$out" "CONFIG_PID_NS "
	assert_eq 3 "$(grep -c lacks <<<"$out")" "reported lines"
}

test_unreadable_config_is_a_usage_error() {
	local rc=0
	"$CHECK" "$TMP/does-not-exist" 2>/dev/null || rc=$?
	assert_eq 2 "$rc" "exit code"
}

test_other_fragments_dir() {
	mkdir -p "$TMP/frag"
	printf '# Help: test\n# because\nCONFIG_FOO=y\n' >"$TMP/frag/10-x.config"
	echo 'CONFIG_BAR=y' >"$TMP/config"
	local out rc=0
	out="$("$CHECK" --fragments "$TMP/frag" "$TMP/config" 2>&1)" || rc=$?
	assert_eq 1 "$rc"
	assert_contains "$out" "lacks CONFIG_FOO (10-x.config): because"
}

test_every_fragment_is_sorted_and_every_option_has_a_reason() {
	local f
	for f in "$CLUSTERLIVE_ROOT"/kernel-config/[0-9][0-9]-*.config; do
		head -n1 "$f" | grep -q '^# Help: ' || fail "$f does not open with '# Help:'"
		diff <(grep '^CONFIG_' "$f") <(grep '^CONFIG_' "$f" | LC_ALL=C sort) >/dev/null || fail "$f is not sorted"
		awk '/^CONFIG_/ && prev !~ /^# ./ { print FILENAME ": " $0 " has no reason"; bad = 1 } { prev = $0 } END { exit bad }' "$f" ||
			fail "an option lacks its reason"
	done
}
