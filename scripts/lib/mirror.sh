# shellcheck shell=bash
# Finds the Debian package mirror this machine already uses, so that no mirror host name is
# ever written into the repository. Pure text processing over apt source files: testable with
# fixture files (tests/unit/test_mirror.sh).

# Prints "URI SUITE" for every enabled Debian source in the given files (one-line or deb822).
# Usage: apt_sources_entries FILE...
apt_sources_entries() {
	local f
	for f in "$@"; do
		[ -r "$f" ] || continue
		case "$f" in
		*.sources) _deb822_entries "$f" ;;
		*) _oneline_entries "$f" ;;
		esac
	done
}

_oneline_entries() {
	# deb [opts] URI SUITE COMPONENTS...; skip deb-src and comments.
	awk '
		/^[[:space:]]*#/ { next }
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
			if (i + 1 <= NF) print $i, $(i + 1)
		}' "$1"
}

_deb822_entries() {
	# Stanzas separated by blank lines; fields Types, URIs, Suites, Enabled.
	awk '
		function flush() {
			if (types ~ /(^| )deb( |$)/ && enabled != "no")
				for (u = 1; u <= nu; u++) for (s = 1; s <= ns; s++) print uris[u], suites[s]
			types = ""; enabled = ""; nu = 0; ns = 0
		}
		/^[[:space:]]*#/ { next }
		/^[[:space:]]*$/ { flush(); next }
		{
			key = tolower($1); sub(/:$/, "", key)
			if (key == "types") { types = ""; for (i = 2; i <= NF; i++) types = types " " $i; sub(/^ /, "", types) }
			else if (key == "uris") { nu = 0; for (i = 2; i <= NF; i++) uris[++nu] = $i }
			else if (key == "suites") { ns = 0; for (i = 2; i <= NF; i++) suites[++ns] = $i }
			else if (key == "enabled") { enabled = tolower($2) }
		}
		END { flush() }' "$1"
}

# Prints the main archive mirror URI (the first source whose suite is not a -security one).
# Usage: debian_mirror FILE...
debian_mirror() {
	apt_sources_entries "$@" | awk '$2 !~ /-security$|\/updates$/ { sub(/\/+$/, "", $1); print $1; exit }'
}

# Prints the security archive URI: the configured one if the machine has one, else derived
# from the main mirror ("<mirror>-security", the layout Debian mirrors use).
# Usage: debian_security_mirror FILE...
debian_security_mirror() {
	local sec
	sec="$(apt_sources_entries "$@" | awk '$2 ~ /-security$|\/updates$/ { sub(/\/+$/, "", $1); print $1; exit }')"
	if [ -n "$sec" ]; then
		printf '%s\n' "$sec"
		return
	fi
	local main
	main="$(debian_mirror "$@")"
	[ -n "$main" ] && printf '%s-security\n' "$main"
}

# The apt source files of this machine, in apt's own order.
system_apt_source_files() {
	local f
	[ -e /etc/apt/sources.list ] && echo /etc/apt/sources.list
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] && echo "$f"
	done
}
