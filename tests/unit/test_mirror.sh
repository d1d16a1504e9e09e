# shellcheck shell=bash
# scripts/lib/mirror.sh: the build finds the mirror in the machine's own apt sources.
. "$CLUSTERLIVE_ROOT/scripts/lib/mirror.sh"

test_deb822_sources_give_mirror_and_security() {
	cat >"$TMP/debian.sources" <<-'X'
		Types: deb
		# a comment inside a stanza
		URIs: http://mirror.example/debian/
		Suites: bookworm bookworm-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: http://security.example/debian-security
		Suites: bookworm-security
		Components: main
	X
	assert_eq http://mirror.example/debian "$(debian_mirror "$TMP/debian.sources")" mirror
	assert_eq http://security.example/debian-security "$(debian_security_mirror "$TMP/debian.sources")" security
}

test_oneline_sources_with_options_and_deb_src() {
	cat >"$TMP/sources.list" <<-'X'
		# deb http://commented.example/debian bookworm main
		deb-src http://src.example/debian bookworm main
		deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main
	X
	assert_eq http://one.example/debian "$(debian_mirror "$TMP/sources.list")"
}

test_security_derived_from_mirror_when_absent() {
	echo 'deb http://one.example/debian bookworm main' >"$TMP/sources.list"
	assert_eq http://one.example/debian-security "$(debian_security_mirror "$TMP/sources.list")"
}

test_disabled_and_src_only_stanzas_are_ignored() {
	cat >"$TMP/a.sources" <<-'X'
		Types: deb
		URIs: http://disabled.example/debian
		Suites: trixie
		Enabled: no

		Types: deb-src
		URIs: http://src.example/debian
		Suites: trixie

		Types: deb deb-src
		URIs: http://good.example/debian
		Suites: trixie
	X
	assert_eq http://good.example/debian "$(debian_mirror "$TMP/a.sources")"
}

test_first_file_wins_and_missing_files_are_skipped() {
	echo 'deb http://first.example/debian bookworm main' >"$TMP/sources.list"
	printf 'Types: deb\nURIs: http://second.example/debian\nSuites: bookworm\n' >"$TMP/b.sources"
	assert_eq http://first.example/debian "$(debian_mirror "$TMP/nonexistent" "$TMP/sources.list" "$TMP/b.sources")"
}

test_no_sources_prints_nothing() {
	: >"$TMP/empty.list"
	assert_eq "" "$(debian_mirror "$TMP/empty.list")"
	assert_eq "" "$(debian_security_mirror "$TMP/empty.list")"
}
