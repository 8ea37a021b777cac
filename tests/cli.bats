#!/usr/bin/env bats
# What every command shares: --help, --version, bad options, man pages, exit codes.

load helpers

@test "there are commands to check" {
	[ -n "$COMMANDS" ]
}

@test "--help prints usage to stdout and exits 0" {
	for c in $COMMANDS; do
		run --separate-stderr ml "$c" --help
		[ "$status" -eq 0 ] || { echo "$c --help: $status"; return 1; }
		[[ "$output" == "Usage: $c "* ]] || { echo "$c: $output" | head -3; return 1; }
		[ -z "$stderr" ] || { echo "$c --help wrote to stderr"; return 1; }
	done
}

@test "--version names the command and its libraries" {
	for c in $COMMANDS; do
		run --separate-stderr ml "$c" --version
		[ "$status" -eq 0 ]
		[[ "$output" =~ ^$c\ [0-9]+\.[0-9]+\.[0-9]+\ \(libml\ .*OpenBLAS.*zlib.*cJSON.*libcsv ]] ||
			{ echo "$c: $output"; return 1; }
	done
}

@test "an unknown option is a usage error with two lines on stderr" {
	for c in $COMMANDS; do
		run -2 --separate-stderr ml "$c" --bogus
		[ "$output" = "" ]
		[ "$stderr" = "$c: unrecognized option '--bogus'
Try '$c --help' for more information." ] || { echo "$c: $stderr"; return 1; }
	done
}

@test "a missing option argument is a usage error" {
	for c in $COMMANDS; do
		run -2 --separate-stderr ml "$c" --output
		[ "$stderr" = "$c: option '--output' requires an argument
Try '$c --help' for more information." ] || { echo "$c: $stderr"; return 1; }
	done
}

@test "bad numbers for common options are usage errors" {
	for c in $COMMANDS; do
		run -2 --separate-stderr ml "$c" -j x
		[[ "$stderr" == "$c: invalid value 'x' for --threads"* ]] || { echo "$c: $stderr"; return 1; }
		run -2 --separate-stderr ml "$c" --seed -1
		[[ "$stderr" == "$c: invalid value '-1' for --seed"* ]] || { echo "$c: $stderr"; return 1; }
	done
}

@test "every command has a man page naming every long option and the exit codes" {
	for c in $COMMANDS; do
		[ -f "$TOP/man/$c.1" ] || { echo "no man/$c.1"; return 1; }
		for o in $(ml "$c" --list-options | sed 's/=$//'); do
			grep -q -- "${o//-/\\\\-}" "$TOP/man/$c.1" || grep -q -- "$o" "$TOP/man/$c.1" ||
				{ echo "man/$c.1 does not name $o"; return 1; }
		done
		grep -q '^\.SH EXIT STATUS' "$TOP/man/$c.1" || { echo "$c.1: no EXIT STATUS"; return 1; }
		grep -q '^\.SH EXAMPLES' "$TOP/man/$c.1" || { echo "$c.1: no EXAMPLES"; return 1; }
	done
}

@test "every long option is in --help" {
	for c in $COMMANDS; do
		for o in $(ml "$c" --list-options | sed 's/=$//'); do
			ml "$c" --help | grep -q -- "$o" || { echo "$c --help lacks $o"; return 1; }
		done
	done
}

@test "man page EXAMPLES run" {
	cd "$BATS_TEST_TMPDIR"
	cp "$SAMPLES"/*.csv .
	for c in $COMMANDS; do
		# Lines of the EXAMPLES section that start with '$ ' are commands.
		sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$TOP/man/$c.1" | sed -n 's/^\\\$ //p; s/^\$ //p' |
			sed 's/\\-/-/g; s/\\(aq/'"'"'/g; s/\\e/\\/g' >examples.sh
		[ -s examples.sh ] || { echo "$c.1: no runnable examples"; return 1; }
		PATH="$ML_BIN:$PATH" bash -e -o pipefail examples.sh >out.txt 2>err.txt ||
			{ echo "$c.1 example failed:"; cat examples.sh err.txt; return 1; }
	done
}

@test "the man pages of the formats and the overview exist" {
	for m in ml-stream.5 ml-model.5 mlpipe.7; do
		[ -f "$TOP/man/$m" ] || { echo "no man/$m"; return 1; }
	done
}

@test "completions know every command's options" {
	for c in $COMMANDS; do
		for o in $(ml "$c" --list-options | sed 's/=$//'); do
			grep -q -- "$o" "$TOP/completions/mlpipe.bash" ||
				{ echo "completions lack $c $o"; return 1; }
		done
	done
}

@test "a full disk is a write error (74)" {
	run -74 --separate-stderr bash -c "'$ML_BIN/mlcat' '$SAMPLES/penguins.csv' >/dev/full"
	[[ "$stderr" == "mlcat: "*"write error"* ]]
}

@test "-o onto a device or a FIFO writes to it and leaves it in place" {
	ml mlcat "$SAMPLES/penguins.csv" -o /dev/null
	[ -c /dev/null ]
	run -74 --separate-stderr ml mlcat "$SAMPLES/penguins.csv" -o /dev/full
	[[ "$stderr" == "mlcat: /dev/full: write error"* ]]
	[ -c /dev/full ]
	mkfifo "$BATS_TEST_TMPDIR/f"
	cat "$BATS_TEST_TMPDIR/f" >"$BATS_TEST_TMPDIR/got" &
	ml mlcat "$SAMPLES/airpassengers.csv" -o "$BATS_TEST_TMPDIR/f"
	wait
	[ -p "$BATS_TEST_TMPDIR/f" ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/got")" -eq 145 ]
	run -74 --separate-stderr ml mlcat "$SAMPLES/airpassengers.csv" -o "$BATS_TEST_TMPDIR"
	[[ "$stderr" == *"Is a directory"* ]]
}

@test "a closed pipe ends quietly" {
	run --separate-stderr bash -c "'$ML_BIN/mlcat' '$SAMPLES/seattle_weather.csv' | head -1"
	[ "$status" -eq 0 ]
	[ "$output" = "date,precipitation,temp_max,temp_min,wind,weather" ]
	[ -z "$stderr" ]
}
