# shellcheck shell=bash
# A small xUnit for shell: each test file defines test_* functions; run_tests runs each in a
# subshell with a fresh temporary directory ($TMP) and prints one line per test.

TESTS_PASSED=0
TESTS_FAILED=0

fail() {
	printf '    %s\n' "$*" >&2
	exit 1
}

assert_eq() {
	# Usage: assert_eq EXPECTED ACTUAL [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_contains() {
	# Usage: assert_contains HAYSTACK NEEDLE [WHAT]
	case "$1" in *"$2"*) ;; *) fail "${3:-output} does not contain '$2': $1" ;; esac
}

assert_not_contains() {
	case "$1" in *"$2"*) fail "${3:-output} contains '$2': $1" ;; *) ;; esac
}

run_tests() {
	local t
	for t in $(declare -F | awk '$3 ~ /^test_/ { print $3 }'); do
		if (
			TMP="$(mktemp -d)"
			trap 'rm -rf "$TMP"' EXIT
			set -e
			"$t"
		); then
			TESTS_PASSED=$((TESTS_PASSED + 1))
			printf 'ok   %s\n' "$t"
		else
			TESTS_FAILED=$((TESTS_FAILED + 1))
			printf 'FAIL %s\n' "$t"
		fi
	done
}
