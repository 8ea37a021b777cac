#!/usr/bin/env bats
# The documentation as a new user runs it: every command of README.md's blocks and every line
# of every man page's EXAMPLES, taken from the files at test time and run as written, in
# order, in a scratch folder per document, each with the exit status the document implies.

load helpers

# The documents whose examples run: README.md, and every man page with an EXAMPLES section.
documents() {
	echo README.md
	(cd "$TOP" && grep -l '^\.SH EXAMPLES' man/*.[157])
}

# Lines that cannot run here, each with the reason: document, the command's first line, why.
# A listed line that is no longer in its document fails the test, so the list cannot go stale.
SKIP=(
	"README.md	make demo    # build, then run an end-to-end job on samples/ and show its results	builds in the source tree: make test is what runs this suite"
	"README.md	make test    # build and run the whole test suite	the suite itself"
	"README.md	make fuzz    # the libFuzzer harnesses of tests/fuzz, 30 s each (needs clang; FUZZ_S=N)	builds with clang in the source tree and runs for minutes; CI runs it (.ci/run)"
	"README.md	tail -f events.csv | mlpredict -m bc.mlm --line-buffered     # one answer per arriving line	tail -f follows a file that grows for ever: the command never ends (mlpredict(1) runs --line-buffered on rows that end)"
	"man/mlpipe.7	parallel --pipe --header : --keep-order -S host1,host2 --basefile f.mlm --basefile m.mlm \\	needs two hosts that ssh reaches; the same recipe runs on this host's cores just above it"
	"man/mlpipe.7	0 6 * * * cd \$HOME/churn && make -s check > /dev/null	a crontab line, not a command; make check, which it runs, runs just above it"
	"man/mldrift.1	0 6 * * * cd \$HOME/scoring && mldrift --ref ref.mlm today.csv > report.csv || mail -s drift ops < report.csv	a crontab line, not a command; the check it runs runs above it"
)

# The examples that do not exit 0: document, the command's first line, the statuses it may
# end with ('|' between them), and why.
STATUS=(
	"README.md	mlcat broken.csv	65	bad input data, as the README says and shows"
	"README.md	mlfeat --save dates.mlm --datetime date:month,dow --cyclical --lag temp_max:1,7 \\	0|141	head closes the pipe after three lines; mlfeat may be writing yet, and ends as SIGPIPE ends it (pipefail reports that), but with dates.mlm saved"
)

# What some examples claim beyond their exit status, checked after they run in the same
# folder: document, the command's first line, a shell check.
CHECK=(
	"README.md	mlfeat --save dates.mlm --datetime date:month,dow --cyclical --lag temp_max:1,7 \\	mlinfo --check dates.mlm"
	"README.md	mlpredict -j 4 -m rf.mlm big.csv > scores.csv   # trees, nb, mlp score on every thread, same bytes	mlpredict -j 1 -m rf.mlm big.csv | cmp - scores.csv"
	"README.md	mlcat jan.csv feb.csv.gz mar.mls > q1.csv	[ \"\$(head -1 q1.csv)\" = \"\$(head -1 jan.csv)\" ] && [ \$(wc -l <q1.csv) -eq 92 ]"
	"man/mlpipe.7	parallel --pipe --header : --keep-order \\	mlpredict -m f.mlm -m m.mlm big.csv | cmp - scored.csv"
	"man/mlpipe.7	mldrift --merge -o big.mlm part*.mlm	mldrift --profile --bins-from edges.mlm -o whole.mlm big.csv && mlinfo --table histograms whole.mlm | cmp - <(mlinfo --table histograms big.mlm)"
	"man/mleval.1	mleval -t target --min auc=0.99 --max logloss=0.2 scores.csv > metrics.csv || echo \"exit status \$?\"	[ \"\$(cat metrics.csv)\" = \"\$(mleval -t target scores.csv)\" ]"
)

# The files that stand for the user's own, made from samples/ when a document's examples
# name them (a word of an example, before any example runs; one an example makes is made
# again by it). The table, keyed by file name:
#   data.csv      a labelled table, binary 'target'           breast_cancer.csv
#   big.csv       a table to score, large enough that          breast_cancer.csv's rows 25
#                 parallel --pipe cuts it into blocks          times (3 MB)
#   big.csv.gz    the same, gzip'd                             big.csv
#   jan.csv, feb.csv.gz, mar.mls                               seattle_weather.csv's
#                 a month each, in three column orders and     January to March 2012
#                 three formats (CSV, gzip'd CSV, ml-stream)
#   train.csv, test.csv                                        pima.csv: 'diabetes' read as
#                 customer churn as exports give it (the       'churn' Yes/No, an 'id' of
#                 Telco churn data): an identifier, a          each row, 'contract' from the
#                 category, blank numbers (a space), 'churn'   age; its gaps as one space;
#                 Yes/No                                       rows 1-600 and the rest
#   broken.csv    a CSV with a stray field on line 3           written here
USER_FILES="data.csv big.csv big.csv.gz jan.csv feb.csv.gz mar.mls train.csv test.csv broken.csv"

user_file() {
	case $1 in
	data.csv) cp "$SAMPLES/breast_cancer.csv" data.csv ;;
	big.csv)
		{
			head -1 "$SAMPLES/breast_cancer.csv"
			for _ in $(seq 25); do tail -n +2 "$SAMPLES/breast_cancer.csv"; done
		} >big.csv
		;;
	big.csv.gz) user_file big.csv && gzip -c big.csv >big.csv.gz ;;
	jan.csv | feb.csv.gz | mar.mls)
		ml mlcat --select date,precipitation,temp_max,temp_min,wind,weather "$SAMPLES/seattle_weather.csv" |
			awk -F, 'NR == 1 || $1 ~ /^2012\/01/' >jan.csv
		ml mlcat --select weather,wind,temp_min,temp_max,precipitation,date "$SAMPLES/seattle_weather.csv" |
			awk -F, 'NR == 1 || $6 ~ /^2012\/02/' | gzip -c >feb.csv.gz
		ml mlcat --select temp_max,date,weather,precipitation,wind,temp_min "$SAMPLES/seattle_weather.csv" |
			awk -F, 'NR == 1 || $2 ~ /^2012\/03/' | ml mlcat -f stream >mar.mls
		;;
	train.csv | test.csv)
		awk -F, -v OFS=, '
			{ gsub(/"/, "") }
			NR == 1 { $9 = "churn"; print "id,contract," $0; next }
			{
				$9 = $9 == "pos" ? "Yes" : "No"
				for (i = 1; i <= NF; i++) if ($i == "") $i = " "
				c = $8 < 30 ? "month-to-month" : $8 < 45 ? "one year" : "two year"
				print sprintf("C%04d", NR - 1), c, $0
			}' "$SAMPLES/pima.csv" >churn.all
		head -601 churn.all >train.csv
		{ head -1 churn.all && tail -n +602 churn.all; } >test.csv
		rm churn.all
		;;
	broken.csv) printf 'a,b\n1,2\n3,4,5\n' >broken.csv ;;
	*) echo "no user file '$1' in the table" >&2 && return 1 ;;
	esac
}

# Roff's escapes, as a reader of the page sees them: \- \(aq \(dq \(ga \& \fX \e.
unroff() {
	sed 's/\\e/\x01/g; s/\\-/-/g; s/\\(aq/'"'"'/g; s/\\(dq/"/g; s/\\(ga/`/g; s/\\&//g; s/\\f[BIRP]//g; s/\x01/\\/g'
}

# The examples of a document, in order, into folder $2: N.cmd (the command, its continued
# lines joined as the shell joins them), N.out (the output the document shows after it, if
# any), N.file and N.name (a file the document shows whole: a Makefile), and an index of
# "N LINE KIND" lines. README.md: every line of a ```sh block (comments and blank lines
# aside), and the "$ " lines of a bare ``` block, the lines after one being its output.
# Man pages: the "$ " lines of the .EX blocks of EXAMPLES, the lines after one being its
# output; a block without "$ " lines is a file when it is a Makefile (a line begins with a
# tab), else each of its lines is an example: one that is no command, a crontab line, has to
# be in SKIP. A line ending in \, |, && or || goes on.
extract() {
	local doc=$1 out=$2
	mkdir -p "$out"
	if [[ $doc == *.md ]]; then
		cat "$TOP/$doc"
	else
		unroff <"$TOP/$doc"
	fi | awk -v md="$([[ $doc == *.md ]] && echo 1 || echo 0)" -v dir="$out" -v doc="$doc" '
		function bad(msg) { printf "%s:%d: %s\n", doc, NR, msg > "/dev/stderr"; err = 1; exit 1 }
		function add(kind) {
			n++
			f = sprintf("%s/%03d", dir, n)
			printf "%03d %d %s\n", n, NR, kind > (dir "/index")
		}
		function goes_on(s) { return s ~ /(\\|\||&&|\|\|)[ \t]*$/ }
		function command(s) { add("cmd"); print s > (f ".cmd"); cont = goes_on(s); cmds++ }
		function output(s) { print s > (f ".out") }
		md && /^```/ {
			if (!inblk) { inblk = 1; lang = substr($0, 4); cmds = 0; cont = 0; next }
			inblk = 0
			if (lang != "sh" && lang != "" ) bad("a block in " lang ", neither sh nor bare")
			if (lang == "" && !cmds) bad("a bare block with no \"$ \" line")
			next
		}
		md && inblk && lang == "sh" {
			if (cont) { print > (f ".cmd"); cont = goes_on($0); next }
			if ($0 ~ /^[ \t]*(#|$)/) next
			command($0)
			next
		}
		md && inblk && lang == "" {
			if (cont) { print > (f ".cmd"); cont = goes_on($0); next }
			if (/^\$ /) { command(substr($0, 3)); next }
			if (!cmds) bad("output before any \"$ \" line")
			output($0)
			next
		}
		md { next }
		/^\.SH / { ex = ($0 == ".SH EXAMPLES"); next }
		!ex { next }
		/^\.EX/ { inblk = 1; cmds = 0; cont = 0; lines = 0; text = ""; next }
		/^\.EE/ {
			inblk = 0
			if (!cmds && lines && text ~ /\n\t/) {
				add("file"); printf "%s", text > (f ".file"); print "Makefile" > (f ".name")
			} else if (!cmds && lines) {
				# not a command, nor a file: a line that must be listed in SKIP to pass
				k = split(substr(text, 2), l, "\n")
				for (i = 1; i <= k; i++) {
					if (cont) { print l[i] > (f ".cmd"); cont = goes_on(l[i]); continue }
					command(l[i])
				}
			}
			next
		}
		!inblk { next }
		{ lines++ }
		cont { print > (f ".cmd"); cont = goes_on($0); next }
		/^\$ / {
			if (!cmds && lines > 1) bad("a \"$ \" line after the lines of a file")
			command(substr($0, 3))
			next
		}
		cmds { output($0); next }
		{ text = text "\n" $0 }
		END { if (!err && inblk) bad("a block that does not end") }
	'
	# a Makefile block begins with the newline its lines were joined with
	local m
	for m in "$out"/*.file; do
		[ -e "$m" ] || continue
		tail -n +2 "$m" >"$m.tmp" && mv "$m.tmp" "$m"
	done
	touch "$out/index"
}

# The entries of table $1 (SKIP, STATUS or CHECK) for document $2, into the associative array
# $3: the command's first line -> the third field (CHECK: its checks, one a line).
entries() {
	local -n t=$1 into=$3
	local e rest key
	for e in "${t[@]}"; do
		[ "${e%%$'\t'*}" = "$2" ] || continue
		rest=${e#*$'\t'}
		key=${rest%%$'\t'*}
		rest=${rest#*$'\t'}
		into[$key]+="${into[$key]:+$'\n'}${rest%%$'\t'*}"
	done
}

# The files the examples in folder $1 say they write, as "N FILE" lines: the word after -o,
# --output, --save, --train-out, --test-out, --oof, --report, --plot-file or a '>' on its
# own, and the FILE of --plot KIND:FILE; not in quotes, not set -o's, not a device, not a
# name the shell makes ('train$k.csv').
outputs() {
	(cd "$1" && awk '
		{
			s = $0
			gsub(/\047[^\047]*\047|"[^"]*"/, "", s)
			gsub(/(^|[;&|[:space:]])set -o [a-z]+/, "", s)
			n = FILENAME
			sub(/\.cmd$/, "", n)
			while (match(s, /(^|[[:space:]])(-o|--output|--save|--train-out|--test-out|--oof|--report[[:space:]=]|--plot-file|>|--plot[[:space:]]+[a-z]+:)[[:space:]=]*[^[:space:]|;&<>()]+/)) {
				w = substr(s, RSTART, RLENGTH)
				s = substr(s, RSTART + RLENGTH)
				sub(/^[[:space:]]*(-o|--output|--save|--train-out|--test-out|--oof|--report[[:space:]=]|--plot-file|>|--plot[[:space:]]+[a-z]+:)[[:space:]=]*/, "", w)
				if (w !~ /^\/dev\// && w !~ /\$/ && w != "")
					print n, w
			}
		}' *.cmd) | sort -u
}

# Commands of the example folder's PATH: the built binaries, under $ML_TEST_WRAPPER if set.
command_path() {
	if [ -z "$ML_TEST_WRAPPER" ]; then
		echo "$ML_BIN"
		return
	fi
	mkdir -p "$BATS_TEST_TMPDIR/wrapped"
	for c in $COMMANDS; do
		printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$ML_TEST_WRAPPER" "$ML_BIN/$c" >"$BATS_TEST_TMPDIR/wrapped/$c"
		chmod +x "$BATS_TEST_TMPDIR/wrapped/$c"
	done
	echo "$BATS_TEST_TMPDIR/wrapped"
}

# Say which example of document $1 failed and how: $2 its line, $3 its number, $4 what.
failed() {
	echo "$1:$2: $4:"
	cat "$BATS_TEST_TMPDIR/ex/$3.cmd"
	[ -z "$stderr" ] || { echo "--- stderr:" && echo "$stderr" | head -20; }
	return 1
}

# Run the examples of document $1 in order in a folder of their own: samples/ copied in
# (and its files beside, as the man pages name them), the user's files it names made from
# the table, each example through bash with pipefail; its status, shown output (what it
# writes to standard error, then to standard output: an error, then the status echoed after
# it), the files it says it writes and the claims CHECK lists are checked.
run_doc() {
	local doc=$1 ex=$BATS_TEST_TMPDIR/ex dir=$BATS_TEST_TMPDIR/run n line kind key want o cmd shown
	local ran=0
	local -A skip=() want_status=() checks=() writes=()
	extract "$doc" "$ex"
	entries SKIP "$doc" skip
	entries STATUS "$doc" want_status
	entries CHECK "$doc" checks
	while read -r n o; do
		writes[$n]+=" $o"
	done < <(outputs "$ex")
	mkdir -p "$dir"
	cp -R "$SAMPLES" "$dir/samples"
	cp "$SAMPLES"/*.csv "$dir"
	PATH=$(command_path):$PATH
	cd "$dir"
	for o in $(cat "$ex"/*.cmd "$ex"/*.file 2>/dev/null | tr -s ' \t<>|;&()"'"'"'' '\n' |
		grep -xE "${USER_FILES// /|}" | sort -u); do
		[ -e "$o" ] || user_file "$o"
	done
	while read -r n line kind; do
		if [ "$kind" = file ]; then
			IFS= read -r o <"$ex/$n.name"
			cp "$ex/$n.file" "$o"
			continue
		fi
		IFS= read -r -d '' cmd <"$ex/$n.cmd" || true
		key=${cmd%%$'\n'*}
		[ -z "${skip[$key]}" ] || continue
		want=${want_status[$key]:-0}
		for o in ${writes[$n]}; do
			[ ! -e "$o" ] || rm -f "$o"
		done
		run --separate-stderr timeout 60 bash -o pipefail -c "$cmd" </dev/null
		[[ "|$want|" == *"|$status|"* ]] ||
			failed "$doc" "$line" "$n" "exit status $status, where the document implies $want"
		if [ -f "$ex/$n.out" ]; then
			IFS= read -r -d '' shown <"$ex/$n.out" || true
			shown=${shown%$'\n'}
			[ "$stderr${stderr:+${output:+$'\n'}}$output" = "$shown" ] ||
				failed "$doc" "$line" "$n" "not the output the document shows ('$shown')"
		fi
		if [[ "|$want|" == *"|0|"* ]]; then
			for o in ${writes[$n]}; do
				[ -s "$o" ] || failed "$doc" "$line" "$n" "'$o' was not written"
			done
		fi
		while IFS= read -r o; do
			[ -n "$o" ] || continue
			run --separate-stderr bash -o pipefail -c "$o" </dev/null
			[ "$status" -eq 0 ] || failed "$doc" "$line" "$n" "the check '$o' failed ($status)"
		done <<<"${checks[$key]}"
		ran=$((ran + 1))
	done <"$ex/index"
	[ "$ran" -gt 0 ] || { echo "$doc: no example ran"; return 1; }
}

@test "every man page has EXAMPLES, and every document is run here" {
	local d
	for d in "$TOP"/man/*.[157]; do
		grep -q '^\.SH EXAMPLES' "$d" || { echo "${d#"$TOP"/}: no EXAMPLES"; return 1; }
	done
	for d in $(documents); do
		grep -qF "@test \"$d runs as written\"" "$BATS_TEST_FILENAME" || { echo "no test for $d"; return 1; }
	done
}

@test "every listed line is still in its document, once" {
	local e d key table f
	local -A seen=()
	for d in $(documents); do
		extract "$d" "$BATS_TEST_TMPDIR/ex/$d"
		for f in "$BATS_TEST_TMPDIR/ex/$d"/*.cmd; do
			[ -e "$f" ] || continue
			IFS= read -r key <"$f"
			seen["$d	$key"]=$((${seen["$d	$key"]:-0} + 1))
		done
	done
	for table in SKIP STATUS CHECK; do
		local -n t=$table
		for e in "${t[@]}"; do
			d=${e%%$'\t'*}
			key=${e#*$'\t'}
			key=${key%%$'\t'*}
			[ "${seen["$d	$key"]:-0}" -eq 1 ] ||
				{ echo "$table: '$key' is in $d ${seen["$d	$key"]:-0} times, not once"; return 1; }
		done
		unset -n t
	done
}

@test "the documents name no command that is not built" {
	local w bad=0
	cd "$TOP"
	for w in $(grep -ohE '(^|[^[:alnum:]_./-])ml[a-z]+' README.md man/* | grep -oE 'ml[a-z]+' | sort -u); do
		case $w in
		mlpipe | mlm | mls | mlogloss | mlp) continue ;; # the suite, file suffixes, a metric's name, an algorithm
		esac
		if [ ! -x "$ML_BIN/$w" ]; then
			echo "the documents name '$w', which is not built:"
			grep -nE "(^|[^[:alnum:]_./-])$w([^[:alnum:]_]|$)" README.md man/* | head -5
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "README.md runs as written" {
	run_doc README.md
}

@test "man/mlcat.1 runs as written" {
	run_doc man/mlcat.1
}

@test "man/mlsplit.1 runs as written" {
	run_doc man/mlsplit.1
}

@test "man/mlfeat.1 runs as written" {
	run_doc man/mlfeat.1
}

@test "man/mltrain.1 runs as written" {
	run_doc man/mltrain.1
}

@test "man/mlpredict.1 runs as written" {
	run_doc man/mlpredict.1
}

@test "man/mleval.1 runs as written" {
	run_doc man/mleval.1
}

@test "man/mlinfo.1 runs as written" {
	run_doc man/mlinfo.1
}

@test "man/mldrift.1 runs as written" {
	run_doc man/mldrift.1
}

@test "man/mlensemble.1 runs as written" {
	run_doc man/mlensemble.1
}

@test "man/mlforecast.1 runs as written" {
	run_doc man/mlforecast.1
}

@test "man/mlpipe.7 runs as written" {
	run_doc man/mlpipe.7
}

@test "man/ml-stream.5 runs as written" {
	run_doc man/ml-stream.5
}

@test "man/ml-model.5 runs as written" {
	run_doc man/ml-model.5
}
