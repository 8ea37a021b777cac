#!/usr/bin/env bats
# Reliability: outputs written through symbolic links and onto existing files, temporaries
# on signals, closed standard descriptors, and runs in which an allocation, a write or a
# read fails or comes short (the shims in tests/fault/).

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	umask 022
	pima
	pid=
}

teardown() {
	if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
}

# 60 rows of pima.csv with no missing values.
pima() {
	awk -F, 'NR == 1 || !/(^|,)(,|$)/' "$SAMPLES/pima.csv" | head -61 >raw.csv
	ml mlcat -o p.csv raw.csv
	rm raw.csv
	[ "$(wc -l <p.csv)" -eq 61 ]
}

# Every kind of atomic output, as a command line in which @ stands for the output's path.
WRITERS=(
	"mlcat -o @ p.csv"
	"mlcat -f stream -o @ p.csv"
	"mltrain -q -t diabetes -a logistic -o @ p.csv"
	"mltrain -q -t diabetes -a nb --cv 3 --report @ --oof oof.csv -o m2.mlm p.csv"
	"mltrain -q -t diabetes -a nb --cv 3 --oof @ -o m2.mlm p.csv"
	"mlfeat --save @ -t diabetes --impute median --scale standard -o f.csv p.csv"
	"mlfeat -t diabetes --impute median --scale standard -o @ p.csv"
	"mlsplit --test 0.25 --train-out @ --test-out te.csv p.csv"
	"mlsplit --test 0.25 --train-out tr.csv --test-out @ p.csv"
	"mlsplit --kfold 3 -o @ p.csv"
	"mlpredict -m m.mlm -o @ p.csv"
	"mleval -t target --plot roc --plot-file @ -o ev.csv $FIX/metrics/binary.csv"
	"mleval -t target -o @ $FIX/metrics/binary.csv"
	"mlinfo -o @ m.mlm"
	"mlinfo --table coef -o @ m.mlm"
	"mldrift --profile -o @ p.csv"
	"mldrift --ref p.csv --report-only -o @ p.csv"
	"mldrift --ref p.csv --report-only --plot @ -o rep.csv p.csv"
	"mlensemble --method mean -m m.mlm -m n.mlm -o @"
	"mlensemble -q --method stack -t diabetes --base logistic --base nb --cv 3 -o @ p.csv"
	"mlensemble -q --method stack -t diabetes --base logistic --base nb --cv 3 --report @ -o s.mlm p.csv"
	"mlforecast -q --time t -y y --model ets --horizon 6 -o @ air.csv"
	"mlforecast -q --time t -y y --model ets --horizon 6 --save @ -o fc.csv air.csv"
	"mlforecast -q --time t -y y --model ets,theta --horizon 6 --backtest 2 --report @ -o fc.csv air.csv"
	"mlforecast -q --time t -y y --model theta --horizon 6 --plot @ -o fc.csv air.csv"
)

# Run writer $1 with its output at $2; the other files it writes go to the current folder.
write_with() {
	local words w args=()
	read -ra words <<<"$1"
	for w in "${words[@]:1}"; do
		[ "$w" = @ ] && w=$2
		args+=("$w")
	done
	ml "${words[0]}" "${args[@]}" >/dev/null
}

# The models and the series the writers read: m.mlm and n.mlm, air.csv.
model() {
	ml mltrain -q -t diabetes -a logistic -o m.mlm p.csv
	ml mltrain -q -t diabetes -a nb -o n.mlm p.csv
	head -61 "$SAMPLES/airpassengers.csv" >air.csv
}

@test "-o through a symbolic link replaces the file it names and keeps the link, for every output" {
	model
	local w
	for w in "${WRITERS[@]}"; do
		rm -rf d t ref
		mkdir d t
		write_with "$w" ref
		echo old >t/real
		chmod 600 t/real
		ln -s ../t/real d/link
		write_with "$w" d/link || { echo "$w: failed"; return 1; }
		[ -L d/link ] && [ "$(readlink d/link)" = ../t/real ] || { echo "$w: link replaced"; return 1; }
		same ref t/real || { echo "$w: target not written"; return 1; }
		[ "$(stat -c %a t/real)" = 600 ] || { echo "$w: mode $(stat -c %a t/real)"; return 1; }
		[ "$(ls -A d t | tr '\n' ' ')" = "d: link  t: real " ] || { ls -A d t; return 1; }
	done
}

@test "a dangling link and a chain of links name the file to write" {
	ln -s sub/new.csv dangling.csv
	mkdir sub
	ml mlcat -o dangling.csv p.csv
	[ -L dangling.csv ]
	same p.csv sub/new.csv
	[ "$(stat -c %a sub/new.csv)" = 644 ]
	ln -s dangling.csv chain.csv
	echo old >sub/new.csv
	ml mlcat -o chain.csv p.csv
	[ -L chain.csv ] && [ -L dangling.csv ]
	same p.csv sub/new.csv
	ln -s loop1 loop2
	ln -s loop2 loop1
	run -74 --separate-stderr ml mlcat -o loop1 p.csv
	[ "$stderr" = "mlcat: loop1: cannot open: Too many levels of symbolic links" ]
	[ -L loop1 ] && [ -L loop2 ]
}

@test "an existing file keeps its mode (and its owner where permitted); a new one gets the umask's" {
	model
	local w
	for w in "${WRITERS[@]}"; do
		rm -f out
		(umask 027 && write_with "$w" out) || { echo "$w: failed"; return 1; }
		[ "$(stat -c %a out)" = 640 ] || { echo "$w: new file $(stat -c %a out)"; return 1; }
		chmod 604 out
		write_with "$w" out
		[ "$(stat -c %a out)" = 604 ] || { echo "$w: kept $(stat -c %a out)"; return 1; }
	done
	echo old >owned
	chmod 640 owned
	if [ "$(id -u)" = 0 ]; then
		chown nobody:nogroup owned 2>/dev/null || chown 65534:65534 owned
	fi
	local owner
	owner=$(stat -c %u:%g owned)
	ml mlcat -o owned p.csv
	same p.csv owned
	[ "$(stat -c %u:%g owned)" = "$owner" ]
	[ "$(stat -c %a owned)" = 640 ]
}

# Start a command on a FIFO whose writer stays open, with the signals at their defaults, and
# wait until its temporary $1 (a glob) exists. Sets pid; the command line follows.
start_stuck() {
	local tmp=$1 i
	shift
	rm -f fifo
	mkfifo fifo
	exec 7<>fifo
	head -2 p.csv >&7
	env --default-signal=HUP,INT,TERM $ML_TEST_WRAPPER "$ML_BIN/$1" "${@:2}" <fifo 2>err.txt 3>&- &
	pid=$!
	for i in $(seq 200); do
		compgen -G "$tmp" >/dev/null && return 0
		sleep 0.05
	done
	echo "no temporary $tmp"
	return 1
}

# Wait for the command start_stuck began; sets st to its status and closes the FIFO.
reap() {
	st=0
	wait "$pid" || st=$?
	exec 7>&-
}

@test "SIGINT, SIGTERM and SIGHUP remove the temporaries and end the run by that signal" {
	local sig num
	for sig in INT:2 TERM:15 HUP:1; do
		num=${sig#*:}
		sig=${sig%:*}
		rm -rf ./* ./.??*
		pima
		echo old >out.csv
		echo old >m.mlm
		start_stuck ".out.csv.mlpipe-tmp.*" mlcat -o out.csv
		[[ "$(compgen -G '.out.csv.mlpipe-tmp.*')" =~ ^\.out\.csv\.mlpipe-tmp\.$pid\.[A-Za-z0-9]{6}$ ]]
		kill -"$sig" "$pid"
		reap
		[ "$st" -eq $((128 + num)) ] || { echo "mlcat $sig: status $st"; return 1; }
		[ "$(cat out.csv)" = old ]
		# mltrain opens its three outputs before reading
		start_stuck ".oof.csv.mlpipe-tmp.*" mltrain -t diabetes -a nb --cv 2 --report r.csv \
			--oof oof.csv -o m.mlm
		[ "$(compgen -G '.*.mlpipe-tmp.*' | wc -l)" -eq 3 ]
		kill -"$sig" "$pid"
		reap
		[ "$st" -eq $((128 + num)) ] || { echo "mltrain $sig: status $st"; return 1; }
		[ "$(cat m.mlm)" = old ]
		[ "$(ls -A | sort | tr '\n' ' ')" = "err.txt fifo m.mlm out.csv p.csv " ] || { ls -A; return 1; }
		[ ! -s err.txt ]
	done
}

@test "the temporary sits beside the file a link names; an ignored SIGINT stays ignored" {
	mkdir d t
	ln -s ../t/real d/link
	start_stuck "t/.real.mlpipe-tmp.*" mltrain -t diabetes -a nb -o d/link
	[ "$(ls -A d)" = link ]
	kill -0 "$pid"
	kill -TERM "$pid"
	reap
	[ "$st" -eq 143 ]
	[ "$(ls -A t)" = "" ]
	[ "$(ls -A | sort | tr '\n' ' ')" = "d err.txt fifo p.csv t " ]
	# With SIGINT ignored (nohup, a background job), the command keeps it so.
	rm -f fifo
	mkfifo fifo
	exec 7<>fifo
	env --ignore-signal=INT "$ML_BIN/mlcat" -o out.csv <fifo 3>&- &
	pid=$!
	sleep 0.3
	kill -INT "$pid"
	sleep 0.2
	kill -0 "$pid"
	kill -TERM "$pid"
	reap
	[ "$st" -eq 143 ]
	[ ! -e out.csv ]
}

@test "after SIGKILL the temporary says what it is and whose it was" {
	start_stuck ".out.csv.mlpipe-tmp.*" mlcat -o out.csv
	kill -KILL "$pid"
	reap
	[ "$st" -eq 137 ]
	[[ "$(compgen -G '.out.csv.mlpipe-tmp.*')" =~ ^\.out\.csv\.mlpipe-tmp\.$pid\.[A-Za-z0-9]{6}$ ]]
	[ ! -e out.csv ]
	# A run after it writes its output and leaves the stale temporary alone.
	ml mlcat -o out.csv p.csv
	same p.csv out.csv
	[ "$(compgen -G '.out.csv.mlpipe-tmp.*' | wc -l)" -eq 1 ]
}

@test "a long output name is cut in its temporary's name" {
	local name
	name=$(printf 'n%.0s' $(seq 250)).csv
	ml mlcat -o "$name" p.csv
	same p.csv "$name"
	start_stuck ".nnn*.mlpipe-tmp.*" mlcat -o "$name"
	[ "$(compgen -G '.nnn*.mlpipe-tmp.*' | wc -c)" -eq 256 ]
	kill -TERM "$pid"
	reap
	[ "$st" -eq 143 ]
	same p.csv "$name"
}

# Run a command with standard input, standard output, or every standard descriptor closed
# (inside run, whose capture would otherwise take the free descriptor).
no_stdin() {
	ml "$@" <&-
}
no_stdout() {
	ml "$@" >&-
}
no_std() {
	ml "$@" <&- >&- 2>&-
}

@test "standard input closed is status 66 with a message, never the command's own file" {
	model
	local c
	for c in "mlcat -o out.csv" "mlsplit --test 0.5 --train-out out.csv --test-out te.csv" \
		"mlfeat --scale standard -o out.csv" "mlfeat --save out.csv --scale standard" \
		"mltrain -t diabetes -a logistic -o out.csv" "mlpredict -m m.mlm -o out.csv" \
		"mleval -t diabetes -o out.csv" "mlinfo -o out.csv -"; do
		run -66 --separate-stderr no_stdin $c
		[ "$stderr" = "${c%% *}: <stdin>: standard input is closed" ] || { echo "$c: $stderr"; return 1; }
		[ "$output" = "" ]
		[ ! -e out.csv ] && [ -z "$(compgen -G '.*.mlpipe-tmp.*')" ] || { echo "$c:"; ls -A; return 1; }
	done
	# with its input named, a command needs no standard input
	run -0 --separate-stderr no_stdin mlcat -o out.csv p.csv
	same p.csv out.csv
}

@test "standard output closed is status 74 with a message; with -o it is not needed" {
	model
	run -74 --separate-stderr no_stdout mlcat p.csv
	[ "$stderr" = "mlcat: <stdout>: standard output is closed" ]
	run -74 --separate-stderr no_stdout mlpredict -m m.mlm p.csv
	[ "$stderr" = "mlpredict: <stdout>: standard output is closed" ]
	run -74 --separate-stderr no_stdout mlinfo m.mlm
	[ "$stderr" = "mlinfo: <stdout>: standard output is closed" ]
	run -74 --separate-stderr no_stdout mlcat --help
	[ "$stderr" = "mlcat: <stdout>: standard output is closed" ]
	run -0 --separate-stderr no_stdout mlcat -o out.csv p.csv
	[ "$stderr" = "" ]
	same p.csv out.csv
}

@test "with every standard descriptor closed, no file the command opens takes their place" {
	ml mltrain -t diabetes -a logistic -o ref.mlm p.csv 2>/dev/null
	run -0 no_std mltrain -t diabetes -a logistic -o m.mlm p.csv
	same ref.mlm m.mlm
	run -0 no_std mlcat -o out.csv p.csv
	same p.csv out.csv
	run -66 no_std mlcat -o out.csv nothere.csv
	run -65 no_std mltrain -t nothere -a logistic -o m2.mlm p.csv
	[ "$(ls -A | sort | tr '\n' ' ')" = "m.mlm out.csv p.csv ref.mlm " ]
}

# The fault build (make fault; make test builds it): the commands in which allocation N can
# be made to fail, and the preloaded shims. Sets FAULT.
fault_build() {
	FAULT=${ML_FAULT:-build/fault}
	# make passes it relative to the top, and the tests run elsewhere
	[[ "$FAULT" == /* ]] || FAULT=$TOP/$FAULT
	[ -x "$FAULT/mltrain" ] && [ -f "$FAULT/failwrite.so" ] && [ -f "$FAULT/shortread.so" ] ||
		{ echo "no fault build in $FAULT (make fault)"; return 1; }
	FAULT=$(cd "$FAULT" && pwd)
	# the sanitizer build's runtime need not come first when a shim is preloaded
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

# A bounded sweep of allocation failures over the representative runs of command $1 in
# tests/fault/sweep-all.sh: about 6 values of N per run (make fault tries every N).
sweep() {
	fault_build
	run sh "$TOP/tests/fault/sweep-all.sh" -b 6 -c "$1" "$FAULT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$1: "*" tried "* ]]
}

@test "a failed allocation ends mlcat with 71 and its message, no file written, no leak" {
	sweep mlcat
}

@test "a failed allocation ends mlsplit with 71 and its message, no file written, no leak" {
	sweep mlsplit
}

@test "a failed allocation ends mlfeat with 71 and its message, no file written, no leak" {
	sweep mlfeat
}

@test "a failed allocation ends mltrain with 71 and its message, no file written, no leak" {
	sweep mltrain
}

@test "a failed allocation ends mlpredict with 71 and its message, no file written, no leak" {
	sweep mlpredict
}

@test "a failed allocation ends mleval with 71 and its message, no file written, no leak" {
	sweep mleval
}

@test "a failed allocation ends mlinfo with 71 and its message, no file written, no leak" {
	sweep mlinfo
}

@test "a failed allocation ends mldrift with 71 and its message, no file written, no leak" {
	sweep mldrift
}

@test "a failed allocation ends mlensemble with 71 and its message, no file written, no leak" {
	sweep mlensemble
}

@test "a failed allocation ends mlforecast with 71 and its message, no file written, no leak" {
	sweep mlforecast
}

@test "the sweep sees a run that survives a failed allocation with other bytes" {
	# a stand-in for a command that writes another file when memory runs out
	fault_build
	mkdir bin data
	cat >bin/mlfake <<'SH'
#!/bin/sh
if [ -n "$ML_FAILMALLOC" ]; then echo other >out.txt; else echo same >out.txt; fi
[ -z "$ML_FAILMALLOC_COUNT" ] || echo 1 >"$ML_FAILMALLOC_COUNT"
[ -z "$ML_FAILMALLOC_HIT" ] || : >"$ML_FAILMALLOC_HIT"
SH
	chmod +x bin/mlfake
	run --separate-stderr sh "$TOP/tests/fault/sweep.sh" bin data mlfake
	[ "$status" -eq 1 ]
	[ "$output" = "mlfake: 1 allocations, 1 tried (every 1), 1 findings" ]
	[[ "$stderr" == *"FINDING mlfake N=1: status 0 but the files differ"* ]]
}

# The folder's names, types, modes and contents.
snapshot() {
	find . -printf '%p %y %m %l\n' | LC_ALL=C sort
	find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
}

# Run writer $1 in a fresh folder w (a copy of the inputs, with 'old' at the output) with
# the write shim preloaded and the environment that follows ($2...); sets st, err, and
# before/after to the folder's snapshots.
write_failing() {
	local w=$1
	shift
	rm -rf w
	mkdir w
	cp p.csv m.mlm n.mlm air.csv w/
	echo old >w/out
	before=$(cd w && snapshot)
	st=0
	(cd w && export LD_PRELOAD="$FAULT/failwrite.so" "$@" && write_with "$w" out) 2>err.txt || st=$?
	err=$(cat err.txt)
	after=$(cd w && snapshot)
}

# The bytes of the files in w that the last run wrote.
written() {
	comm -13 <(grep '  \./' <<<"$before" | sort) <(grep '  \./' <<<"$after" | sort) |
		awk '{ print $2 }' | (cd w && xargs -r stat -c %s) | awk '{ s += $1 } END { print s + 0 }'
}

@test "a disk that fills or fails at any point of an output: 74, the file and reason, nothing changed" {
	fault_build
	model
	local w k total prog
	for w in "${WRITERS[@]}"; do
		prog=${w%% *}
		# what a run writes in all, from a run that fails nowhere
		write_failing "$w"
		[ "$st" -eq 0 ] || { echo "$w: $st $err"; return 1; }
		total=$(written)
		for k in 0 $((total / 2)) $((total - 1)); do
			write_failing "$w" ML_FAILWRITE=$k
			[ "$st" -eq 74 ] || { echo "$w, K=$k of $total: status $st: $err"; return 1; }
			[[ "$err" =~ ^$prog:\ [^:]+:\ write\ error:\ No\ space\ left\ on\ device$ ]] ||
				{ echo "$w, K=$k: $err"; return 1; }
			[ "$before" = "$after" ] || { echo "$w, K=$k: files changed"; diff <(echo "$before") <(echo "$after"); return 1; }
		done
		write_failing "$w" ML_FAILWRITE=1 ML_FAILWRITE_ERRNO=EIO
		[ "$st" -eq 74 ] && [[ "$err" == *": write error: Input/output error" ]] ||
			{ echo "$w, EIO: $st $err"; return 1; }
		[ "$before" = "$after" ]
		# an error that comes at fsync (a network file system's)
		write_failing "$w" ML_FAILWRITE_SYNC=1 ML_FAILWRITE_ERRNO=EIO
		[ "$st" -eq 74 ] && [[ "$err" == *": write error: Input/output error" ]] ||
			{ echo "$w, fsync: $st $err"; return 1; }
		[ "$before" = "$after" ] || { echo "$w, fsync: files changed"; return 1; }
		# a disk with room for it all
		write_failing "$w" ML_FAILWRITE=$total
		[ "$st" -eq 0 ] || { echo "$w, K=$total: $st $err"; return 1; }
	done
}

@test "a full disk under standard output: 74 and its reason" {
	model
	local c
	for c in "mlcat p.csv" "mlcat -f stream p.csv" "mlsplit --test 0.5 --train-out - --test-out te.csv p.csv" \
		"mlfeat --scale standard p.csv" "mltrain -q -t diabetes -a logistic -o - p.csv" \
		"mlpredict -m m.mlm p.csv" "mleval -t target $FIX/metrics/binary.csv" "mlinfo m.mlm" \
		"mlinfo --table coef m.mlm" "mldrift --ref p.csv --report-only p.csv" \
		"mlforecast -q --time t -y y --model theta --horizon 6 air.csv" \
		"mlensemble --method mean -m m.mlm -m n.mlm -o -"; do
		rm -f te.csv
		run -74 --separate-stderr bash -c "$(declare -f ml); ML_BIN=$ML_BIN; ml $c >/dev/full"
		[ "$stderr" = "${c%% *}: <stdout>: write error: No space left on device" ] || { echo "$c: $stderr"; return 1; }
		[ ! -e te.csv ] || { echo "$c: te.csv written"; return 1; }
	done
}

@test "reads cut short or interrupted (EINTR) at random give the same bytes out" {
	fault_build
	model
	ml mlfeat --save f.mlm -t diabetes --impute median --scale standard -o /dev/null p.csv
	ml mlcat -f stream -o p.mls p.csv
	gzip -c p.csv >p.csv.gz
	# past 1 MiB, the parallel reader's
	awk 'NR == 1 { print; next } { for (i = 0; i < 800; i++) print }' p.csv >big.csv
	[ "$(stat -c %s big.csv)" -gt 1048576 ]
	local c seed
	for c in "mlcat p.csv" "mlcat p.csv.gz" "mlcat -f stream p.mls" "mlcat big.csv" "mlcat -" \
		"mlcat - <p.csv.gz" "mlcat - <p.mls" \
		"mlsplit --test 0.3 --seed 2 --train-out - --test-out /dev/null p.csv" \
		"mlfeat -t diabetes --scale standard -" "mltrain -q -j 2 -t diabetes -a logistic -o - p.csv" \
		"mltrain -q -t diabetes -a gbdt --rounds 3 -o - p.mls" \
		"mlpredict -m f.mlm -m m.mlm -" "mlpredict -m f.mlm -m m.mlm p.csv.gz" \
		"mleval -t target $FIX/metrics/binary.csv" "mlinfo m.mlm" "mlinfo - <m.mlm"; do
		[[ "$c" == *"<"* ]] || c="$c <p.csv"
		bash -c "$(declare -f ml); ML_BIN=$ML_BIN; ml $c" >ref.out 2>ref.err
		for seed in 1 2; do
			ML_SHORTREAD_SEED=$seed LD_PRELOAD="$FAULT/shortread.so" \
				bash -c "$(declare -f ml); ML_BIN=$ML_BIN; ml $c" >got.out 2>got.err ||
				{ echo "$c, seed $seed: $(cat got.err)"; return 1; }
			same ref.out got.out || { echo "$c, seed $seed"; return 1; }
			same ref.err got.err || { echo "$c, seed $seed"; return 1; }
		done
		[ -s ref.out ]
	done
}
