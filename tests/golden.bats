#!/usr/bin/env bats
# Golden files: ml-model(5) and ml-stream(5) files written by the binaries of the day each
# format version was added (tests/fixtures/golden/mlm-vN and mls-vN, made once by
# tests/fixtures/gen_golden.sh) still load, and give the bytes they gave then. A failure
# here means that files users keep would be orphaned: mend the reader, never the files.

load helpers

G=$FIX/golden

# The version in bytes 8-11 of a file (u32, little-endian), gzip'd or not.
version_of() {
	if [[ $1 == *.gz ]]; then
		gzip -dc "$1" | od -An -tu4 -j8 -N4 | tr -d ' '
	else
		od -An -tu4 -j8 -N4 "$1" | tr -d ' '
	fi
}

# The folders of one format (mlm or mls); version 1's must be among them.
folders() {
	fixture "$G/$1-v1/cases"
	ls -d "$G/$1"-v*
}

# Replay every case of a folder's cases file: each line is EXPECTED COMMAND ARGUMENT...
# [<STDIN], run in the folder. Every case must exit 0, print nothing on stderr and give
# EXPECTED byte for byte; each one that does not is named.
replay() {
	local dir=$1 line expected cmd args in rc n=0 bad=0
	local -a argv
	fixture "$dir/cases"
	while read -r line; do
		case $line in
		'#'* | '') continue ;;
		esac
		read -r expected cmd args <<<"$line"
		in=/dev/null
		if [[ $args == *'<'* ]]; then
			in=$dir/${args##*<}
			args=${args%<*}
		fi
		read -r -a argv <<<"$args"
		n=$((n + 1))
		fixture "$dir/$expected"
		rc=0
		(cd "$dir" && ml "$cmd" "${argv[@]}" <"$in" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err") ||
			rc=$?
		if [ "$rc" -ne 0 ] || [ -s "$BATS_TEST_TMPDIR/err" ]; then
			echo "${dir##*/}: $line: exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"
			bad=$((bad + 1))
		elif ! same "$dir/$expected" "$BATS_TEST_TMPDIR/out"; then
			echo "${dir##*/}: $line: other bytes"
			bad=$((bad + 1))
		fi
	done <"$dir/cases"
	echo "${dir##*/}: $n cases, $bad failed"
	[ "$n" -gt 0 ]
	[ "$bad" -eq 0 ]
}

@test "golden models and pipelines load and score to the same bytes, metadata included" {
	dirs=$(folders mlm)
	for d in $dirs; do
		replay "$d"
	done
}

@test "golden streams read back to the same CSV and schema" {
	dirs=$(folders mls)
	for d in $dirs; do
		replay "$d"
	done
}

@test "golden models pass mlinfo --check" {
	local n=0
	dirs=$(folders mlm)
	for d in $dirs; do
		for f in "$d"/*.mlm "$d"/*.mlm.gz; do
			run -0 --separate-stderr ml mlinfo --check "$f"
			[ -z "$output$stderr" ] || { echo "${f#"$G"/}: $output$stderr"; return 1; }
			n=$((n + 1))
		done
	done
	[ "$n" -ge 30 ]
}

@test "each golden file has its folder's version, and each is replayed" {
	local n=0
	dirs=$(folders mlm)
	dirs="$dirs $(folders mls)"
	for d in $dirs; do
		v=${d##*-v}
		for f in "$d"/*.mlm "$d"/*.mlm.gz "$d"/*.mls "$d"/*.mls.gz; do
			[ -e "$f" ] || continue
			[ "$(version_of "$f")" = "$v" ] || { echo "${f#"$G"/}: version $(version_of "$f")"; return 1; }
			awk -v f="${f##*/}" '!/^#/ { for (i = 3; i <= NF; i++) if ($i == f || $i == "<" f) found = 1 }
				END { exit !found }' "$d/cases" || { echo "${f#"$G"/}: in no case"; return 1; }
			n=$((n + 1))
		done
	done
	[ "$n" -ge 40 ]
}

@test "the format versions today's binaries write have golden files" {
	cd "$BATS_TEST_TMPDIR"
	ml mlcat -f stream "$SAMPLES/airpassengers.csv" >v.mls
	ml mltrain -q -a linear -t y -o v.mlm "$SAMPLES/airpassengers.csv"
	v=$(version_of v.mls)
	[ -f "$G/mls-v$v/cases" ] || { echo "no golden streams of version $v: run tests/fixtures/gen_golden.sh"; return 1; }
	v=$(version_of v.mlm)
	[ -f "$G/mlm-v$v/cases" ] || { echo "no golden models of version $v: run tests/fixtures/gen_golden.sh"; return 1; }
}
