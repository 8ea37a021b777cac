#!/usr/bin/env bats
# mldrift: profiles, merges and comparisons against SciPy's answers
# (tests/fixtures/gen_drift.py), the report's exact form, exit codes, corrections, bad input.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	DF=$FIX/drift
	fixture "$DF/ref.csv" "$DF/same.csv" "$DF/shift.csv" "$DF/scipy.csv"
}

# The rows of scipy.csv for file $1, as column,test,statistic,p_value.
want() {
	awk -F, -v f="$1" '$1 == f { print $2 "," $3 "," $4 "," $5 }' "$DF/scipy.csv" >want.csv
	[ -s want.csv ]
}

# The ks and chi2 rows of report $1 as column,test,statistic,p_value.
got() {
	awk -F, '$3 == "ks" || $3 == "chi2" { print $1 "," $3 "," $4 "," $5 }' "$1" >got.csv
}

# The --estimate report in ${lines[@]} against mleval: each metric's reference row equal to
# mleval's on ref.csv (refm.csv, to 1e-12) and its estimate within $1 of mleval's on the
# held-back labels (real.csv); f1 is mleval's $2 (f1, or f1_macro for more classes).
estimates_near() {
	local m ev est rr want wref
	for m in accuracy auc f1; do
		ev=$m
		[ $m != f1 ] || ev=$2
		est=$(printf '%s\n' "${lines[@]}" | awk -F, -v m=$m '$1 == m && $2 == "estimate" { print $4 }')
		rr=$(printf '%s\n' "${lines[@]}" | awk -F, -v m=$m '$1 == m && $2 == "reference" { print $4 }')
		want=$(awk -F, -v m=$ev '$1 == m { print $2 }' real.csv)
		wref=$(awk -F, -v m=$ev '$1 == m { print $2 }' refm.csv)
		awk -v a="$rr" -v b="$wref" 'BEGIN { d = a - b; exit !(d < 1e-12 && d > -1e-12) }' ||
			{ echo "$m: reference $rr, mleval $wref"; return 1; }
		awk -v a="$est" -v b="$want" -v t="$1" 'BEGIN { d = a - b; exit !(d < t && d > -t) }' ||
			{ echo "$m: estimated $est, realised $want"; return 1; }
	done
}

@test "against a raw reference: ks and chi2 as SciPy's ks_2samp and chi2_contingency" {
	for f in same shift; do
		run --separate-stderr ml mldrift --ref "$DF/ref.csv" -o rep.csv "$DF/$f.csv"
		[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
		[ -z "$stderr" ]
		want "$f"
		got rep.csv
		# statistics to 1e-9, p-values to 1e-6 (relative above 1)
		awk -F, 'NR == FNR { s[$1 "," $2] = $3; p[$1 "," $2] = $4; next }
			{ k = $1 "," $2; if (!(k in s)) { print "no row " k; exit 1 }
			  d = $3 - s[k]; if (d < 0) d = -d; if (d > 1e-9) { print k " stat " $3; exit 1 }
			  d = $4 - p[k]; if (d < 0) d = -d; if (d > 1e-6) { print k " p " $4; exit 1 } }' \
			want.csv got.csv
		[ "$(wc -l <got.csv)" -eq 3 ]
	done
}

@test "the report has exactly the documented columns and a dataset row" {
	run -1 --separate-stderr ml mldrift --ref "$DF/ref.csv" "$DF/shift.csv"
	[ "${lines[0]}" = "column,type,test,statistic,p_value,threshold,drift,severity" ]
	[ "${#lines[@]}" -eq 8 ]
	[[ "${lines[1]}" == x,num,ks,0.46938775510204*,5.88325984074*e-34,0.0333333333333333*,1,alert ]]
	[[ "${lines[2]}" == x,num,psi,*,,0.25,1,alert ]]
	[[ "${lines[5]}" == plan,cat,chi2,91.651162790697*,*e-20,0.0333333333333333*,1,alert ]]
	[ "${lines[7]}" = "*,dataset,share,0.6666666666666666,,0.5,1,alert" ]
}

@test "exit status: 0 without drift, 1 with drift, 0 with --report-only" {
	run -0 --separate-stderr ml mldrift --ref "$DF/ref.csv" "$DF/same.csv"
	[ "${lines[7]}" = "*,dataset,share,0.3333333333333333,,0.5,0,none" ]
	run -1 --separate-stderr ml mldrift --ref "$DF/ref.csv" "$DF/shift.csv"
	run -0 --separate-stderr ml mldrift --ref "$DF/ref.csv" --report-only "$DF/shift.csv"
	[ "${lines[7]}" = "*,dataset,share,0.6666666666666666,,0.5,1,alert" ]
	# --share 0: any drifted column is drift of the dataset
	run -1 --separate-stderr ml mldrift --ref "$DF/ref.csv" --share 0 "$DF/same.csv"
	run -0 --separate-stderr ml mldrift --ref "$DF/ref.csv" --share 1 "$DF/shift.csv"
}

@test "against a profile: the same ks and chi2 (exact sketch), psi and the verdict alike" {
	ml mldrift --profile -o ref.mlm "$DF/ref.csv"
	for f in same shift; do
		run --separate-stderr ml mldrift --ref "$DF/ref.csv" -o raw.csv "$DF/$f.csv"
		run --separate-stderr ml mldrift --ref ref.mlm -o prof.csv "$DF/$f.csv"
		[ -z "$stderr" ]
		csv_close raw.csv prof.csv 1e-12
	done
	run -0 ml mlinfo ref.mlm
	[[ "$output" == *'"kind": "profile"'* ]]
	[[ "$output" == *'"name": "plan"'* ]]
	run -0 ml mlinfo --table columns ref.mlm
	[ "${lines[0]}" = "column,type,count,missing,mean,std,min,max,bins" ]
	[[ "${lines[1]}" == x,num,392,8,* ]]
	[[ "${lines[3]}" == plan,cat,400,0,,,,,4 ]]
	run -0 ml mlinfo --table histograms ref.mlm
	[ "${lines[0]}" = "column,bin,lo,hi,category,count" ]
	[[ "${lines[1]}" == x,0,-inf,*,,0 ]]
}

@test "corrections: Benjamini-Hochberg, Bonferroni and none set the p-value thresholds" {
	run -1 ml mldrift --ref "$DF/ref.csv" --tests ks,chi2 "$DF/shift.csv"
	# m = 5 p-values (ks and chi2 of x and y, chi2 of plan); three below 3 * 0.05 / 5
	[[ "${lines[1]}" == x,num,ks,*,*,0.03000000000000000*,1,alert ]]
	[[ "${lines[4]}" == y,num,chi2,*,*,0.03000000000000000*,0,none ]]
	run -1 ml mldrift --ref "$DF/ref.csv" --tests ks,chi2 --correction bonferroni "$DF/shift.csv"
	[[ "${lines[1]}" == x,num,ks,*,*,0.01,1,alert ]]
	run -1 ml mldrift --ref "$DF/ref.csv" --tests ks,chi2 --correction none --alpha 0.01 "$DF/shift.csv"
	[[ "${lines[1]}" == x,num,ks,*,*,0.01,1,alert ]]
	# without correction, x of 'same' (p 0.0054) drifts; with bh over 3 tests (0.0167) too
	run -1 ml mldrift --ref "$DF/ref.csv" --tests ks --correction none --share 0.3 "$DF/same.csv"
	[[ "${lines[1]}" == x,num,ks,*,0.00535519154619*,0.05,1,alert ]]
	# warn: below alpha before the correction only
	run -0 ml mldrift --ref "$DF/ref.csv" --tests ks --alpha 0.006 --correction bonferroni "$DF/same.csv"
	[[ "${lines[1]}" == x,num,ks,*,*,0.003,0,warn ]]
}

@test "every test, thresholds changed, --cols, JSON" {
	run -1 ml mldrift --ref "$DF/ref.csv" --tests ks,chi2,psi,kl,js,wasserstein,mean,std,missing \
		--cols x,plan "$DF/shift.csv"
	[ "${#lines[@]}" -eq 16 ]
	[ "$(printf '%s\n' "${lines[@]}" | cut -d, -f1-3 | tr '\n' ' ')" = "column,type,test x,num,ks x,num,chi2 x,num,psi x,num,kl x,num,js x,num,wasserstein x,num,mean x,num,std x,num,missing plan,cat,chi2 plan,cat,psi plan,cat,kl plan,cat,js plan,cat,missing *,dataset,share " ]
	[[ "${lines[7]}" == x,num,mean,* ]]
	run -0 ml mldrift --ref "$DF/ref.csv" --tests psi --threshold psi=5 --threshold psi_warn=4 "$DF/shift.csv"
	[[ "${lines[1]}" == x,num,psi,*,,5,0,none ]]
	run -0 ml mldrift --ref "$DF/ref.csv" --tests missing "$DF/shift.csv"
	[[ "${lines[1]}" == "x,num,missing,0,,0.05,0,none" ]]
	run -1 ml mldrift --ref "$DF/ref.csv" --json "$DF/shift.csv"
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == '{"reference":"'*'ref.csv","rows":300,"tests":[{"column":"x","type":"num","test":"ks",'* ]]
	[[ "$output" == *'"method":"exact"'* ]]
	[[ "$output" == *'"columns":3,"drifted_columns":2,"share":0.66666666666666663,"dataset_drift":true}' ]]
}

@test "the JS distance, KL and the mean shift agree with a hand computation on the bins" {
	ml mldrift --profile --bins 4 -o ref.mlm "$DF/ref.csv"
	ml mlinfo --table histograms ref.mlm | awk -F, '$1 == "plan"' >h.csv
	run -1 ml mldrift --ref ref.mlm --cols plan --tests js,kl "$DF/shift.csv"
	# plan: reference counts per category, current counts by label
	r=$(cut -d, -f6 h.csv | tr '\n' ' ')
	c=$(for l in $(cut -d, -f5 h.csv); do tail -n +2 "$DF/shift.csv" | cut -d, -f3 | grep -cx "$l" || true; done | tr '\n' ' ')
	js=$(awk -v r="$r" -v c="$c" 'BEGIN { n = split(r, a, " "); split(c, b, " ");
		for (i = 1; i <= n; i++) { ta += a[i]; tb += b[i] }
		for (i = 1; i <= n; i++) { p = a[i] / ta; q = b[i] / tb; m = (p + q) / 2
			if (p > 0) s += p * log(p / m) / 2; if (q > 0) s += q * log(q / m) / 2 }
		printf "%.12f", sqrt(s) }')
	got=$(printf '%s\n' "${lines[@]}" | awk -F, '$3 == "js" { printf "%.12f", $4 }')
	[ "$got" = "$js" ]
}

# a.mlm, b.mlm and c.mlm: profiles of three pieces of table $1 (up to line $2, up to line
# $3, the rest), on the bins of profile $4.
profile_pieces() {
	head -n "$2" "$1" >a.csv
	{ head -n 1 "$1"; sed -n "$(($2 + 1)),$3p" "$1"; } >b.csv
	{ head -n 1 "$1"; tail -n +"$(($3 + 1))" "$1"; } >c.csv
	for p in a b c; do ml mldrift --profile --bins-from "$4" -o $p.mlm $p.csv; done
}

@test "profiles of pieces, merged in any order, equal the profile of the whole" {
	ml mldrift --profile -o ref.mlm "$DF/ref.csv"
	profile_pieces "$DF/ref.csv" 151 300 ref.mlm
	ml mldrift --merge -o abc.mlm a.mlm b.mlm c.mlm
	ml mldrift --merge -o ca.mlm c.mlm a.mlm
	ml mldrift --merge -o cab.mlm ca.mlm b.mlm
	# counts, moments (from exact sums) and histograms byte for byte
	for t in histograms columns; do
		ml mlinfo --table $t ref.mlm >whole.csv
		ml mlinfo --table $t abc.mlm >abc.csv
		ml mlinfo --table $t cab.mlm >cab.csv
		same abc.csv cab.csv
		same whole.csv abc.csv
	done
	# the exact sketch merges to the same quantiles: the comparison is the same too
	ml mldrift --ref ref.mlm --report-only -o one.csv "$DF/shift.csv"
	ml mldrift --ref abc.mlm --report-only -o merged.csv "$DF/shift.csv"
	csv_close one.csv merged.csv 1e-12
	# SOURCE_DATE_EPOCH makes a profile's bytes reproducible
	SOURCE_DATE_EPOCH=1700000000 ml mldrift --profile -o p1.mlm "$DF/ref.csv"
	SOURCE_DATE_EPOCH=1700000000 ml mldrift --profile -o p2.mlm "$DF/ref.csv"
	cmp p1.mlm p2.mlm
}

# The mean and std of each column of table $1 (mlinfo --table columns) against moments.csv:
# equal to the exact values' nearest doubles, and within 1e-9 of numpy's two passes.
moments_exact() {
	fixture "$DF/moments.csv"
	awk -F, 'NR == FNR { if (FNR > 1) { m[$1] = $2; s[$1] = $3; nm[$1] = $4; ns[$1] = $5 }; next }
		function far(a, b) { d = (a - b) / b; return d > 1e-9 || d < -1e-9 }
		FNR > 1 { k++
			if (sprintf("%.17g %.17g", $5, $6) != sprintf("%.17g %.17g", m[$1], s[$1])) {
				print $1 ": mean " $5 " std " $6 ", exactly " m[$1] " " s[$1]; bad = 1 }
			if (far($5, nm[$1]) || far($6, ns[$1])) { print $1 ": far from numpy"; bad = 1 } }
		END { exit bad || k != 4 }' "$DF/moments.csv" "$1"
}

@test "moments from exact sums: far from 0 and of every magnitude, in one pass, by pieces merged in any order, by windows" {
	fixture "$DF/offset.csv"
	ml mldrift --profile -o whole.mlm "$DF/offset.csv"
	ml mlinfo --table columns whole.mlm >whole.csv
	moments_exact whole.csv
	# three pieces on the whole's bins, merged in two orders and groupings
	profile_pieces "$DF/offset.csv" 401 801 whole.mlm
	ml mldrift --merge -o abc.mlm a.mlm b.mlm c.mlm
	ml mldrift --merge -o ab.mlm a.mlm b.mlm
	ml mldrift --merge -o cab.mlm c.mlm ab.mlm
	ml mldrift --merge -o bca.mlm b.mlm c.mlm a.mlm
	for m in abc cab bca; do
		for t in columns histograms; do
			ml mlinfo --table $t whole.mlm >want.csv
			ml mlinfo --table $t $m.mlm >got.csv
			same want.csv got.csv
		done
		ml mlinfo $m.mlm | grep -v '"created"' >got.json
		ml mlinfo abc.mlm | grep -v '"created"' >want.json
		same want.json got.json
	done
	# windows of 300 rows, merged backwards, give the whole on the first window's bins
	ml mldrift --profile --window 300 -o 'w-{}.mlm' "$DF/offset.csv"
	ml mldrift --merge -o w.mlm w-4.mlm w-3.mlm w-2.mlm w-1.mlm
	ml mldrift --profile --bins-from w-1.mlm -o all.mlm "$DF/offset.csv"
	for t in columns histograms; do
		ml mlinfo --table $t all.mlm >want.csv
		ml mlinfo --table $t w.mlm >got.csv
		same want.csv got.csv
	done
	ml mlinfo --table columns w.mlm >got.csv
	moments_exact got.csv
	# merged with itself: twice the rows, the same mean to the bit
	ml mldrift --merge -o twice.mlm whole.mlm whole.mlm
	ml mlinfo --table columns twice.mlm | cut -d, -f1,2,5,7- >got.csv
	cut -d, -f1,2,5,7- whole.csv >want.csv
	same want.csv got.csv
}

@test "a profile of version 1 (moments without exact sums) still loads, compares and merges" {
	# written by mldrift when the profile section was of version 1, with what it gave then
	V=$DF/profile-v1
	fixture "$V.mlm" "$V.columns.csv" "$V.histograms.csv" "$V.shift.csv"
	ml mlinfo --table columns "$V.mlm" >got.csv
	same "$V.columns.csv" got.csv
	ml mlinfo --table histograms "$V.mlm" >got.csv
	same "$V.histograms.csv" got.csv
	ml mldrift --ref "$V.mlm" --report-only -o got.csv "$DF/shift.csv"
	same "$V.shift.csv" got.csv
	run -0 ml mlinfo --check "$V.mlm"
	# merged with a profile of today, the moments combine to rounding, the counts exactly
	ml mldrift --profile --bins-from "$V.mlm" -o now.mlm "$DF/ref.csv"
	ml mldrift --merge -o m.mlm "$V.mlm" now.mlm
	ml mlinfo --table columns m.mlm >got.csv
	[[ "$(sed -n 2p got.csv)" == x,num,784,16,* ]]
	ml mldrift --merge -o m2.mlm now.mlm now.mlm
	ml mlinfo --table columns m2.mlm >want.csv
	csv_close want.csv got.csv 1e-14
}

@test "--window compares each N rows in turn, one block each" {
	run -1 --separate-stderr ml mldrift --ref "$DF/ref.csv" --window 100 "$DF/shift.csv"
	[ "${lines[0]}" = "window,column,type,test,statistic,p_value,threshold,drift,severity" ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c ',dataset,share,')" -eq 3 ]
	[[ "${lines[7]}" == "1,*,dataset,share,"* ]]
	[[ "${lines[21]}" == "3,*,dataset,share,"* ]]
	run -1 ml mldrift --ref "$DF/ref.csv" --window 250 --json "$DF/shift.csv"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == '{"window":1,'*'"rows":250,'* ]]
	[[ "${lines[1]}" == '{"window":2,'*'"rows":50,'* ]]
}

@test "bad input: different columns, types, empty data, not a profile, damaged, merge of other bins" {
	ml mldrift --profile -o ref.mlm "$DF/ref.csv"
	cut -d, -f1,3 "$DF/shift.csv" | sed '1s/plan/tier/' >cols.csv
	run -65 --separate-stderr ml mldrift --ref ref.mlm cols.csv
	[ "$stderr" = "mldrift: cols.csv: the columns differ from the reference 'ref.mlm'; missing here: 'y', 'plan'; not in the reference: 'tier' (use --cols to compare some)" ]
	[ "$output" = "" ]
	run -0 ml mldrift --ref ref.mlm --cols x --report-only cols.csv
	sed '1s/.*/x,plan,y/' "$DF/shift.csv" >types.csv
	run -65 --separate-stderr ml mldrift --ref ref.mlm types.csv
	[ "$stderr" = "mldrift: types.csv: column 'plan' is numeric here but categorical in the reference 'ref.mlm'" ]
	head -n 1 "$DF/shift.csv" >empty.csv
	run -65 --separate-stderr ml mldrift --ref ref.mlm -o rep.csv empty.csv
	[ "$stderr" = "mldrift: empty.csv: no rows to compare" ]
	[ ! -e rep.csv ]
	printf 'y,x\n1,2\n2,1\n1,3\n' >t.csv
	ml mltrain -q -t y -a linear --task regress -o m.mlm t.csv
	run -65 --separate-stderr ml mldrift --ref m.mlm t.csv
	[ "$stderr" = "mldrift: m.mlm: the model keeps no profile (train it with 'mltrain --profile')" ]
	ml mlfeat -q --save f.mlm --scale standard t.csv >/dev/null
	run -65 --separate-stderr ml mldrift --merge -o x.mlm ref.mlm f.mlm
	[ "$stderr" = "mldrift: f.mlm: not a profile but a 'features' artefact" ]
	[ ! -e x.mlm ]
	head -c 200 ref.mlm >cut.mlm
	run -65 --separate-stderr ml mldrift --ref cut.mlm "$DF/shift.csv"
	[[ "$stderr" == "mldrift: cut.mlm: "* ]]
	ml mldrift --profile --bins 5 -o five.mlm "$DF/ref.csv"
	run -65 --separate-stderr ml mldrift --merge -o x.mlm ref.mlm five.mlm
	[ "$stderr" = "mldrift: five.mlm: column 'x' has other bin edges in each profile (profile the pieces with --bins-from the same profile)" ]
	[ ! -e x.mlm ]
	run -66 --separate-stderr ml mldrift --ref nothere.csv "$DF/shift.csv"
}

@test "usage errors" {
	run -2 --separate-stderr ml mldrift "$DF/shift.csv"
	[ "$stderr" = "mldrift: give one of --ref, --profile and --merge
Try 'mldrift --help' for more information." ]
	run -2 --separate-stderr ml mldrift --profile "$DF/ref.csv"
	[[ "$stderr" == "mldrift: --profile writes a profile: give it -o FILE"* ]]
	run -2 --separate-stderr ml mldrift --ref "$DF/ref.csv" --tests ks,bogus "$DF/shift.csv"
	[[ "$stderr" == "mldrift: unknown test 'bogus' in --tests (tests: ks, chi2, psi, kl, js, wasserstein, mean, std, missing)"* ]]
	run -2 --separate-stderr ml mldrift --ref "$DF/ref.csv" --correction holm "$DF/shift.csv"
	[[ "$stderr" == "mldrift: --correction is bh, bonferroni or none, not 'holm'"* ]]
	run -2 --separate-stderr ml mldrift --ref "$DF/ref.csv" --threshold ks=0.1 "$DF/shift.csv"
	[[ "$stderr" == "mldrift: no threshold 'ks' "* ]]
	run -2 --separate-stderr ml mldrift --ref "$DF/ref.csv" --alpha 2 "$DF/shift.csv"
	run -65 --separate-stderr ml mldrift --ref "$DF/ref.csv" --cols z "$DF/shift.csv"
	[ "$stderr" = "mldrift: $DF/shift.csv: no column 'z' (--cols)" ]
}

@test "--plot goes with --ref: --profile and --merge refuse it instead of ignoring it" {
	run -2 --separate-stderr ml mldrift --profile --plot p.svg -o ref.mlm "$DF/ref.csv"
	[ "$stderr" = "mldrift: --plot draws a comparison: it goes with --ref, not --profile
Try 'mldrift --help' for more information." ]
	run -2 --separate-stderr ml mldrift --profile --window 50 --plot p.svg -o 'w-{}.mlm' "$DF/ref.csv"
	[ "${stderr%%$'\n'*}" = "mldrift: --plot draws a comparison: it goes with --ref, not --profile" ]
	[ ! -e ref.mlm ] && [ ! -e w-1.mlm ] && [ ! -e p.svg ]
	ml mldrift --profile -o ref.mlm "$DF/ref.csv"
	run -2 --separate-stderr ml mldrift --merge --plot p.svg -o ab.mlm ref.mlm ref.mlm
	[ "${stderr%%$'\n'*}" = "mldrift: --plot draws a comparison: it goes with --ref, not --merge" ]
	[ ! -e ab.mlm ] && [ ! -e p.svg ]
}

@test "mltrain --profile keeps the reference in the model; mldrift --ref model.mlm uses it" {
	ml mltrain -q -t plan -a nb --profile -o m.mlm "$DF/ref.csv"
	run -0 ml mlinfo --sections m.mlm
	[[ "$output" == *$'\nprofile,'* ]]
	ml mldrift --profile -o ref.mlm "$DF/ref.csv"
	run -1 ml mldrift --ref m.mlm -o a.csv "$DF/shift.csv"
	run -1 ml mldrift --ref ref.mlm -o b.csv "$DF/shift.csv"
	same a.csv b.csv
	run -0 ml mldrift --ref m.mlm "$DF/same.csv"
	# prediction drift: the same tests on the scored columns
	ml mlpredict -m m.mlm "$DF/ref.csv" >pr.csv
	ml mlpredict -m m.mlm "$DF/shift.csv" >ps.csv
	run -1 ml mldrift --ref pr.csv --cols pred,p_pro ps.csv
	[[ "${lines[1]}" == pred,cat,chi2,* ]]
	[[ "${lines[3]}" == p_pro,num,ks,* ]]
}

@test "--time-col with --period: one block per period, named by its start, in time order" {
	{
		echo "when,x,y,plan"
		tail -n +2 "$DF/shift.csv" | awk -F, -v OFS=, '{ d = int((NR - 1) / 100); h = (NR - 1) % 24
			printf "2024-03-%02dT%02d:00:00Z,%s\n", 4 + 7 * d, h, $0 }'
	} >timed.csv
	run -1 --separate-stderr ml mldrift --ref "$DF/ref.csv" --time-col when --period 1w timed.csv
	[ "${lines[0]}" = "window,column,type,test,statistic,p_value,threshold,drift,severity" ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c ',dataset,share,')" -eq 3 ]
	[[ "${lines[1]}" == "2024-03-04,x,num,ks,"* ]]
	[[ "${lines[21]}" == "2024-03-18,*,dataset,share,"* ]]
	# the same blocks as --window 100, but for the window column
	ml mldrift --ref "$DF/ref.csv" --window 100 --report-only timed.csv --cols x,y,plan | cut -d, -f2- >w.csv
	ml mldrift --ref "$DF/ref.csv" --time-col when --period 7d --report-only timed.csv | cut -d, -f2- >t.csv
	same w.csv t.csv
	run -0 ml mldrift --ref "$DF/ref.csv" --time-col when --period 1d --json --report-only timed.csv
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == '{"window":"2024-03-04",'* ]]
	sed '5s/^[^,]*,/,/' timed.csv >gap.csv
	run -65 --separate-stderr ml mldrift --ref "$DF/ref.csv" --time-col when --period 1h gap.csv
	[ "$stderr" = "mldrift: gap.csv:5: no time in column 'when' (--time-col)" ]
	run -2 --separate-stderr ml mldrift --ref "$DF/ref.csv" --time-col when timed.csv
	[[ "$stderr" == "mldrift: --time-col and --period go together"* ]]
	run -2 --separate-stderr ml mldrift --ref "$DF/ref.csv" --time-col when --period 2w timed.csv
}

@test "--plot draws a panel per drifting column, written whole, and nothing else changes" {
	ml mldrift --ref "$DF/ref.csv" --report-only -o plain.csv "$DF/shift.csv"
	run -1 --separate-stderr ml mldrift --ref "$DF/ref.csv" --plot d.svg -o rep.csv "$DF/shift.csv"
	same plain.csv rep.csv
	[[ "$(head -c 40 d.svg)" == '<svg xmlns="http://www.w3.org/2000/svg"'* ]]
	[ "$(grep -c 'share of each bin' d.svg)" -eq 2 ]
	grep -q '>x: reference' d.svg
	grep -q '>plan: reference' d.svg
	grep -q '>pro</text>' d.svg
	[ "$(tail -1 d.svg)" = "</svg>" ]
	run -0 ml mldrift --ref "$DF/ref.csv" --plot none.svg --cols y "$DF/same.csv"
	grep -q 'no column drifted' none.svg
	run -74 --separate-stderr ml mldrift --ref "$DF/ref.csv" --plot /nonexistent/d.svg "$DF/shift.csv"
}

@test "--plot with windows draws the last window's panels, as that window alone does" {
	n=$(($(wc -l <"$DF/shift.csv") - 1))
	{ cat "$DF/shift.csv"; tail -n +2 "$DF/same.csv"; } >shift_same.csv
	{ cat "$DF/same.csv"; tail -n +2 "$DF/shift.csv"; } >same_shift.csv
	ml mldrift --ref "$DF/ref.csv" --report-only --plot alone_same.svg "$DF/same.csv" >/dev/null
	ml mldrift --ref "$DF/ref.csv" --report-only --plot alone_shift.svg "$DF/shift.csv" >/dev/null
	run -1 --separate-stderr ml mldrift --ref "$DF/ref.csv" --window "$n" --plot w1.svg shift_same.csv
	same alone_same.svg w1.svg
	run -1 --separate-stderr ml mldrift --ref "$DF/ref.csv" --window "$n" --plot w2.svg same_shift.csv
	same alone_shift.svg w2.svg
}

@test "--estimate: CBPE of accuracy, AUC and F1 without labels, near the realised metrics" {
	ml mlsplit --test 0.5 --seed 3 --train-out tr.csv --test-out te.csv "$SAMPLES/breast_cancer.csv"
	ml mlsplit --test 0.5 --seed 4 --train-out te1.csv --test-out te2.csv te.csv
	ml mltrain -q -t target -a logistic -o lg.mlm tr.csv
	ml mlpredict -m lg.mlm --keep target te1.csv >ref.csv
	ml mlpredict -m lg.mlm te2.csv >cur.csv          # the labels held back
	ml mlpredict -m lg.mlm --keep target te2.csv | ml mleval -t target >real.csv
	run -0 --separate-stderr ml mldrift --ref ref.csv --truth target --estimate accuracy,auc,f1 --cols p_1 cur.csv
	[ "${lines[3]}" = "accuracy,estimate,cbpe,$(echo "${lines[3]}" | cut -d, -f4),,$(echo "${lines[3]}" | cut -d, -f6),0,none" ]
	[[ "${lines[4]}" == accuracy,reference,realised,*,,,0,none ]]
	# the reference's realised metrics are mleval's on its labels; estimated without labels
	# within 0.03 of the realised value on the held-back labels
	ml mleval -t target ref.csv >refm.csv
	estimates_near 0.03 f1
	# rows the model is unsure of: an estimated drop beyond --max-drop is a finding
	awk -F, 'NR == 1 || ($3 > 0.02 && $3 < 0.98)' cur.csv >unsure.csv
	run -1 --separate-stderr ml mldrift --ref ref.csv --truth target --estimate accuracy --cols p_1 --tests missing unsure.csv
	[[ "${lines[2]}" == accuracy,estimate,cbpe,*,,*,1,alert ]]
	run -0 --separate-stderr ml mldrift --ref ref.csv --truth target --estimate accuracy --cols p_1 --tests missing --max-drop 1 unsure.csv
	# per window
	run -0 ml mldrift --ref ref.csv --truth target --estimate auc --cols p_1 --window 50 --tests missing --max-drop 1 cur.csv
	[ "$(printf '%s\n' "${lines[@]}" | grep -c ',auc,estimate,cbpe,')" -eq 3 ]
	run -2 --separate-stderr ml mldrift --ref ref.csv --estimate accuracy cur.csv
	run -2 --separate-stderr ml mldrift --ref ref.csv --truth target --estimate recall cur.csv
	ml mldrift --profile -o p.mlm ref.csv
	run -65 --separate-stderr ml mldrift --ref p.mlm --truth target --estimate auc --cols p_1 cur.csv
	[ "$stderr" = "mldrift: p.mlm: --estimate needs a reference table with its truth and scores, not a profile" ]
}

@test "--estimate with more than two classes: macro averages, near the realised metrics" {
	cut -d, -f2- "$SAMPLES/seattle_weather.csv" >w.csv
	ml mlsplit --test 0.5 --seed 3 --train-out tr.csv --test-out te.csv w.csv
	ml mlsplit --test 0.5 --seed 4 --train-out te1.csv --test-out te2.csv te.csv
	ml mltrain -q -t weather -a gbdt --rounds 30 --max-depth 3 -o gb.mlm tr.csv
	ml mlpredict -m gb.mlm --keep weather te1.csv >ref.csv
	ml mlpredict -m gb.mlm te2.csv >cur.csv          # the labels held back
	ml mlpredict -m gb.mlm --keep weather te2.csv | ml mleval -t weather >real.csv
	ml mleval -t weather ref.csv >refm.csv
	[ "$(head -1 cur.csv)" = "pred,p_drizzle,p_fog,p_rain,p_snow,p_sun" ]
	run -0 --separate-stderr ml mldrift --ref ref.csv --truth weather --estimate accuracy,auc,f1 --cols p_sun --tests missing cur.csv
	# the realised metrics are mleval's: accuracy, auc (one against the rest), f1_macro;
	# the estimates near them on the held-back labels
	estimates_near 0.05 f1_macro
	# the expected accuracy is the mean of the largest probability (by hand)
	want=$(awk -F, 'NR > 1 { m = $2; for (i = 3; i <= 6; i++) if ($i > m) m = $i; s += m; n++ } END { printf "%.9f", s / n }' cur.csv)
	est=$(printf '%s\n' "${lines[@]}" | awk -F, '$1 == "accuracy" && $2 == "estimate" { printf "%.9f", $4 }')
	[ "$est" = "$want" ]
	# a current file with other classes is refused
	cut -d, -f1-4 cur.csv >three.csv
	run -65 --separate-stderr ml mldrift --ref ref.csv --truth weather --estimate accuracy --cols p_rain --tests missing three.csv
	[[ "$stderr" == *"the probability columns differ from the reference's ('p_drizzle' ... 'p_sun', 5 of them)"* ]]
}

@test "--profile with --window or --period: one profile per window, on the first window's bins, merging to the whole" {
	ml mldrift --profile --window 150 -o 'w-{}.mlm' "$DF/ref.csv"
	[ "$(ls w-*.mlm | tr '\n' ' ')" = "w-1.mlm w-2.mlm w-3.mlm " ]
	ml mlinfo w-1.mlm | grep -q '"rows": 150'
	ml mlinfo w-3.mlm | grep -q "\"rows\": $(($(wc -l <"$DF/ref.csv") - 301))"
	# every window has the first window's bins, so they merge; the merge is the whole's
	ml mldrift --merge -o merged.mlm w-3.mlm w-1.mlm w-2.mlm
	ml mldrift --profile --bins-from w-1.mlm -o whole.mlm "$DF/ref.csv"
	ml mlinfo --table histograms whole.mlm >whole.csv
	ml mlinfo --table histograms merged.mlm >merged.csv
	same whole.csv merged.csv
	ml mlinfo --table columns whole.mlm >whole.csv
	ml mlinfo --table columns merged.mlm >merged.csv
	same whole.csv merged.csv
	# a window's profile is the profile of its rows (on those bins)
	head -n 151 "$DF/ref.csv" >first.csv
	SOURCE_DATE_EPOCH=1700000000 ml mldrift --profile -o first.mlm first.csv
	SOURCE_DATE_EPOCH=1700000000 ml mldrift --profile --window 150 -o 'v-{}.mlm' "$DF/ref.csv"
	cmp first.mlm v-1.mlm
	# periods are named by their start; the time column is not profiled
	ml mldrift --profile --time-col date --period 365d -o 'y-{}.mlm' "$SAMPLES/seattle_weather.csv"
	[ "$(ls y-*.mlm | tr '\n' ' ')" = "y-2011-12-22.mlm y-2012-12-21.mlm y-2013-12-21.mlm y-2014-12-21.mlm y-2015-12-21.mlm " ]
	run -0 ml mlinfo y-2012-12-21.mlm
	[[ "$output" == *'"name": "temp_max"'* && "$output" != *'"name": "date"'* ]]
	ml mldrift --merge -o years.mlm y-*.mlm
	ml mlinfo years.mlm | grep -q '"rows": 1461'
	# and a year's profile serves as a reference
	run -0 ml mldrift --ref y-2012-12-21.mlm --report-only --cols temp_max "$SAMPLES/seattle_weather.csv"
	run -2 --separate-stderr ml mldrift --profile --window 100 -o w.mlm "$DF/ref.csv"
	[[ "$stderr" == "mldrift: --profile with windows writes a profile per window: give -o a name with {} for the window's"* ]]
}

@test "--profile records the data's fingerprint, the one mltrain records for the same file" {
	cut -d, -f2- "$SAMPLES/seattle_weather.csv" >w.csv
	# more rows than the reader types at once, so that they arrive in several blocks
	awk -F, 'NR == 1 { print; next } { l[NR] = $0 } END { for (k = 0; k < 80; k++) for (i = 2; i <= NR; i++) print l[i] }' w.csv >big.csv
	for f in w.csv big.csv; do
		ml mltrain -q -t weather -a nb -o m.mlm $f
		ml mldrift --profile -o p.mlm $f
		want=$(ml mlinfo m.mlm | awk '/"data"/ { d = 1 } d && /"crc32"/ { print; exit }')
		got=$(ml mlinfo p.mlm | awk '/"data"/ { d = 1 } d && /"crc32"/ { print; exit }')
		[ -n "$want" ]
		[ "$got" = "$want" ]
		ml mlinfo p.mlm | grep -q "\"rows\": $(($(wc -l <$f) - 1)),"
	done
	# from a pipe, and with --cols, the same: it is the table's, whatever is profiled
	ml mldrift --profile --cols wind -o q.mlm <big.csv
	[ "$(ml mlinfo q.mlm | awk '/"data"/ { d = 1 } d && /"crc32"/ { print; exit }')" = "$want" ]
}

@test "-j: the same report and profiles whatever the threads" {
	for j in 1 2 5; do
		ml mldrift -j $j --ref "$DF/ref.csv" --tests ks,chi2,psi,mean --report-only -o r$j.csv "$DF/shift.csv"
		SOURCE_DATE_EPOCH=1700000000 ml mldrift -j $j --profile -o p$j.mlm "$DF/ref.csv"
	done
	same r1.csv r2.csv
	same r1.csv r5.csv
	cmp p1.mlm p2.mlm
	cmp p1.mlm p5.mlm
}
