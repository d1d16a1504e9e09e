# shellcheck shell=bash
# Shared helpers for clusterlive's scripts. Source it; it defines functions only.

# Repository root, whichever script sourced us.
CLUSTERLIVE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CLUSTERLIVE_ROOT

# Where caches that survive a clean clone live (package cache, built ISOs).
CLUSTERLIVE_CACHE="${CLUSTERLIVE_CACHE:-/var/cache/clusterlive}"

die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

info() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# Runs a command, appending its output to LOGFILE; on failure shows the log's tail.
# Usage: run_and_log LOGFILE CMD...
run_and_log() {
	local log="$1"
	shift
	if ! "$@" >>"$log" 2>&1; then
		printf '%s: command failed: %s (last lines of %s follow)\n' "${0##*/}" "$*" "$log" >&2
		tail -n 30 "$log" >&2
		return 1
	fi
}

require_root() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (live-build, network namespaces and QEMU taps need it)"
}

# Installs Debian packages that are missing. Usage: ensure_packages PKG...
ensure_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	info "installing: ${missing[*]}"
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "could not install: ${missing[*]}"
}

# Prints a duration in seconds (float) since a start value from now_s.
now_s() { date +%s.%N; }
elapsed_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# Node K of a virtual cluster (scripts/vcluster): its MAC (QEMU's 52:54:00, then c1, then K
# in two bytes) and the name clusterlive derives from that MAC (node- + its last 3 bytes).
vcluster_node_mac() { printf '52:54:00:c1:%02x:%02x\n' $(($1 / 256)) $(($1 % 256)); }
vcluster_node_name() { printf 'node-c1%02x%02x\n' $(($1 / 256)) $(($1 % 256)); }

# Node-side bash for `vcluster exec K -- bash -c "$CLUSTERVIEW_TRAY_ICON_CHECK"` on a desktop
# node: succeeds when the one item in the live user's panel tray (LXQt's StatusNotifierWatcher,
# on their session bus) belongs to the clusterview process.
# shellcheck disable=SC2016,SC2034
CLUSTERVIEW_TRAY_ICON_CHECK='bus() { runuser -u user -- busctl --address=unix:path=/run/user/1000/bus "$@"; }
	item="$(bus get-property org.kde.StatusNotifierWatcher /StatusNotifierWatcher \
		org.kde.StatusNotifierWatcher RegisteredStatusNotifierItems 2>/dev/null)" || exit 1
	set -- $item   # as 1 ":1.15/StatusNotifierItem"
	[ "$1 $2" = "as 1" ] || exit 1
	owner="${3#\"}"; owner="${owner%%/*}"
	[ "$(bus status "$owner" | sed -n "s/^PID=//p")" = "$(pgrep -u user -x clusterview)" ]'
