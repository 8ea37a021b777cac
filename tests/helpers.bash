# Shared set-up for the bats suites: where the binaries, samples and fixtures are.
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
ML_BIN=$(cd "${ML_BIN:-$TOP/bin}" && pwd)
SAMPLES=$TOP/samples
FIX=$TOP/tests/fixtures
COMMANDS=$(cd "$ML_BIN" && ls ml* 2>/dev/null)

# Run an mlpipe command, under $ML_TEST_WRAPPER (valgrind) when set.
ml() {
	local c=$1
	shift
	$ML_TEST_WRAPPER "$ML_BIN/$c" "$@"
}

# Fail, naming the file, when a reference fixture is missing or unreadable: a test never
# passes on a fixture that is not there (a pipe or a $(...) would hide the reader's error).
fixture() {
	local f
	for f in "$@"; do
		if [ ! -f "$f" ] || [ ! -r "$f" ]; then
			echo "fixture '${f#"$TOP"/}' is missing or unreadable" >&2
			return 1
		fi
	done
}

# Compare two files, showing the difference when they differ.
same() {
	if ! cmp -s "$1" "$2"; then
		diff -u "$1" "$2" | head -40 >&2
		return 1
	fi
}

# Numbers in two CSV files agree to a relative tolerance (header and text must match).
csv_close() {
	awk -F, -v tol="${3:-1e-9}" '
		NR == FNR { a[FNR] = $0; n = FNR; next }
		{
			if (!(FNR in a)) { print "extra line " FNR; bad = 1; exit }
			m = split(a[FNR], x, ","); k = split($0, y, ",")
			if (m != k) { print "line " FNR ": field count"; bad = 1; exit }
			for (i = 1; i <= m; i++) {
				if (x[i] == y[i]) continue
				if (x[i] ~ /^[-+0-9.eE]+$/ && y[i] ~ /^[-+0-9.eE]+$/) {
					d = x[i] - y[i]; if (d < 0) d = -d
					s = (x[i] < 0 ? -x[i] : x[i]); if (s < 1) s = 1
					if (d <= tol * s) continue
				}
				print "line " FNR " field " i ": " x[i] " vs " y[i]; bad = 1; exit
			}
		}
		END { if (!bad && FNR != n) { print "line counts differ"; bad = 1 } exit bad }
	' "$1" "$2" >&2
}
