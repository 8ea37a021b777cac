#!/usr/bin/env bats
# -a kmeans: fitted by mltrain without a target, scored by mlpredict (cluster, distance),
# shown by mlinfo; centres, labels and inertia against scikit-learn's KMeans
# (tests/fixtures/cluster, made by tests/fixtures/gen_kmeans.py), k-means++ quality,
# reproducibility and bad input.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	CF=$FIX/cluster
	fixture "$CF/train.csv" "$CF/blobs.csv"
}

# value FILE NAME: the value of row NAME of a name,value table.
value() {
	awk -F, -v k="$2" '$1 == k { print $2 }' "$1"
}

# from_first TAG K OPTIONS...: from the first K rows as centres, the centres, every
# training row's cluster and distance, and the inertia are scikit-learn's to 1e-9.
from_first() {
	local tag=$1 k=$2
	shift 2
	fixture "$CF/${tag}_centers.csv" "$CF/${tag}_pred.csv" "$CF/${tag}_inertia.txt" \
		"$CF/${tag}_silhouette.txt"
	ml mltrain -q -a kmeans --k "$k" --init first "$@" -o "$tag.mlm" "$CF/train.csv"
	ml mlinfo --table centers -o "$tag.centers" "$tag.mlm"
	csv_close "$CF/${tag}_centers.csv" "$tag.centers" 1e-9
	ml mlpredict -m "$tag.mlm" -o "$tag.pred" "$CF/train.csv"
	csv_close "$CF/${tag}_pred.csv" "$tag.pred" 1e-9
	ml mlinfo --table fit -o "$tag.fit" "$tag.mlm"
	awk -v a="$(value "$tag.fit" inertia)" -v b="$(cat "$CF/${tag}_inertia.txt")" \
		'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-9 * b) }'
	# the silhouette of every training row (240, under the 2000 of the sample)
	[ "$(value "$tag.fit" silhouette_rows)" = 240 ]
	awk -v a="$(value "$tag.fit" silhouette)" -v b="$(cat "$CF/${tag}_silhouette.txt")" \
		'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-9) }'
}

@test "kmeans from given centres: centres, labels and inertia as scikit-learn's lloyd" {
	from_first first5 5
	# stopped by --max-iter before converging: the rows are assigned to the last centres
	from_first first3_iter2 3 --max-iter 2 --tol 0
	# stopped by the tolerance (relative to the mean feature variance)
	from_first first8_tol 8 --tol 1e-2
}

@test "kmeans --method elkan from given centres: scikit-learn's elkan, the same clusters as lloyd" {
	from_first elkan_first5 5 --method elkan
	from_first elkan_first3_iter2 3 --method elkan --max-iter 2 --tol 0
	from_first elkan_first8_tol 8 --method elkan --tol 1e-2
	# an empty cluster (two equal first rows) takes the farthest row in both; k-means++
	# starts, on the threads: the same centres and fit, byte for byte
	{ sed -n 1,2p "$CF/train.csv"; tail -n +2 "$CF/train.csv"; } >dup.csv
	for m in lloyd elkan; do
		ml mltrain -q -a kmeans --k 4 --init first --method $m -o e$m.mlm dup.csv
		ml mlinfo --table centers -o e$m.centers e$m.mlm
		ml mlinfo --table fit -o e$m.fit e$m.mlm
		ml mltrain -q -j 2 --seed 3 -a kmeans --k 7 --n-init 3 --method $m -o k$m.mlm \
			"$CF/blobs.csv"
		ml mlinfo --table centers -o k$m.centers k$m.mlm
		ml mlinfo --table fit -o k$m.fit k$m.mlm
	done
	same elloyd.centers eelkan.centers
	same elloyd.fit eelkan.fit
	same klloyd.centers kelkan.centers
	same klloyd.fit kelkan.fit
	ml mltrain -q -j 1 --seed 3 -a kmeans --k 7 --n-init 3 --method elkan -o k1.mlm \
		"$CF/blobs.csv"
	ml mltrain -q -j 2 --seed 3 -a kmeans --k 7 --n-init 3 --method elkan -o k2.mlm \
		"$CF/blobs.csv"
	same k1.mlm k2.mlm
}

@test "kmeans++ reaches scikit-learn's inertia within 1% and finds separated blobs exactly" {
	local ref ours s
	fixture "$CF/kpp_inertia.txt"
	ref=$(cat "$CF/kpp_inertia.txt")
	for s in 1 2 3; do
		ml mltrain -q -a kmeans --k 5 --n-init 10 --seed $s -o kpp.mlm "$CF/train.csv"
		ml mlinfo --table fit -o kpp.fit kpp.mlm
		ours=$(value kpp.fit inertia)
		echo "seed $s: ours $ours, scikit-learn $ref" >&2
		awk -v a="$ours" -v b="$ref" 'BEGIN { exit !(a != "" && a <= 1.01 * b) }'
	done
	# adjusted Rand index 1: each blob is one cluster and each cluster one blob
	for s in 1 2 3 4; do
		ml mltrain -q -a kmeans --k 4 --seed $s --ignore blob -o b.mlm "$CF/blobs.csv"
		ml mlpredict -m b.mlm --keep blob -o b.csv "$CF/blobs.csv"
		awk -F, 'NR > 1 { p = $1 "," $2; if (!(p in seen)) { seen[p] = 1; nb[$1]++; nc[$2]++ } }
			END { for (b in nb) if (nb[b] != 1) exit 1
			      for (c in nc) if (nc[c] != 1) exit 1; exit length(nb) != 4 }' b.csv
	done
}

@test "kmeans output: cluster and distance, centres and fit tables, the summary line" {
	run --separate-stderr ml mltrain -a kmeans --k 3 --seed 2 -o m.mlm "$CF/train.csv"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"mltrain: kmeans: inertia "*" after "*" iterations"* ]]
	ml mlpredict -m m.mlm --keep x1 -o p.csv "$CF/train.csv"
	[ "$(head -1 p.csv)" = "x1,cluster,distance" ]
	# the distance is to the nearest centre, and the cluster is 0..k-1
	ml mlinfo --table centers -o c.csv m.mlm
	[ "$(head -1 c.csv)" = "cluster,size,x1,x2,x3,x4" ]
	[ "$(awk -F, 'NR > 1 { s += $2 } END { print s }' c.csv)" = 240 ]
	paste -d, "$CF/train.csv" p.csv | awk -F, -v cf=c.csv '
		BEGIN { while ((getline l < cf) > 0) if (n++) { split(l, f, ","); for (j = 1; j <= 4; j++) c[f[1], j] = f[2 + j] } }
		NR > 1 { best = -1
			for (k = 0; k < 3; k++) { s = 0; for (j = 1; j <= 4; j++) s += ($j - c[k, j]) ^ 2
				if (best < 0 || s < best) { best = s; arg = k } }
			if ($6 != arg) exit 1
			d = sqrt(best) - $7; if (d < 0) d = -d; if (d > 1e-9 * (1 + $7)) exit 2 }'
	run --separate-stderr ml mlinfo m.mlm
	[[ "$output" == *'"outputs": ["cluster", "distance"]'* ]]
	run -2 --separate-stderr ml mlinfo --table bogus m.mlm
}

@test "kmeans reports the silhouette of a seeded sample of 2000 rows, none for one cluster" {
	awk 'BEGIN { srand(4); print "u,v,w"
		for (i = 0; i < 3000; i++) { c = int(6 * rand())
			printf "%.5f,%.5f,%.5f\n", c + rand(), 2 * c * rand(), rand() - c } }' > big.csv
	run --separate-stderr ml mltrain -v -a kmeans --k 6 --seed 3 -o m.mlm big.csv
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"mltrain: kmeans: inertia "*", silhouette "*" on 2000 rows"* ]]
	ml mlinfo --table fit -o fit.csv m.mlm
	[ "$(value fit.csv silhouette_rows)" = 2000 ]
	awk -v s="$(value fit.csv silhouette)" 'BEGIN { exit !(s != "" && s > 0.3 && s <= 1) }'
	# the same seed, the same sample and bytes
	ml mltrain -q -a kmeans --k 6 --seed 3 -o again.mlm big.csv
	cmp m.mlm again.mlm
	# one cluster: no silhouette
	ml mltrain -q -a kmeans --k 1 -o one.mlm "$CF/train.csv"
	ml mlinfo --table fit -o one.csv one.mlm
	grep -qx 'silhouette,' one.csv
}

@test "a kmeans model of version 1 (before the silhouette) still loads and predicts" {
	# written by mltrain when the section was of version 1 (k 5 from the first rows)
	fixture "$CF/kmeans-v1.mlm" "$CF/first5_pred.csv"
	ml mlinfo --check "$CF/kmeans-v1.mlm"
	ml mlpredict -m "$CF/kmeans-v1.mlm" -o p.csv "$CF/train.csv"
	csv_close "$CF/first5_pred.csv" p.csv 1e-9
	ml mlinfo --table fit -o fit.csv "$CF/kmeans-v1.mlm"
	grep -qx 'silhouette,' fit.csv
	grep -qx 'silhouette_rows,0' fit.csv
}

@test "kmeans encodes categorical features as one-hot columns" {
	printf 'a,colour\n1,red\n2,blue\n1.5,red\n8,green\n' > cat.csv
	ml mltrain -q -a kmeans --k 2 -o cat.mlm cat.csv
	ml mlinfo --table centers -o c.csv cat.mlm
	cat > want.csv <<-'EOF2'
	cluster,size,a,colour=blue,colour=green,colour=red
	0,3,1.5,0.3333333333333333,0,0.6666666666666666
	1,1,8,0,1,0
	EOF2
	same want.csv c.csv
}

@test "kmeans gives the same bytes for a seed whatever -j" {
	awk 'BEGIN { srand(4); print "u,v,w"
		for (i = 0; i < 3000; i++) { c = int(6 * rand())
			printf "%.5f,%.5f,%.5f\n", c + rand(), 2 * c * rand(), rand() - c } }' > big.csv
	ml mltrain -q -a kmeans --k 6 --n-init 3 -j1 --seed 7 -o one.mlm big.csv
	ml mltrain -q -a kmeans --k 6 --n-init 3 -j2 --seed 7 -o two.mlm big.csv
	ml mltrain -q -a kmeans --k 6 --n-init 3 -j3 --seed 7 -o three.mlm big.csv
	cmp one.mlm two.mlm
	cmp one.mlm three.mlm
	ml mlpredict -j1 -m one.mlm -o p1.csv big.csv
	ml mlpredict -j3 -m one.mlm -o p3.csv big.csv
	same p1.csv p3.csv
	ml mltrain -q -a kmeans --k 6 --init random -j2 --seed 7 -o r2.mlm big.csv
	ml mltrain -q -a kmeans --k 6 --init random -j1 --seed 7 -o r1.mlm big.csv
	cmp r1.mlm r2.mlm
}

@test "kmeans refuses a bad --k, constant data, too few distinct rows, missing values and a target" {
	run -2 --separate-stderr ml mltrain -a kmeans --k 0 -o x.mlm "$CF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: invalid value '0' for --k (a whole number from 1 to 100000)" ]
	run -2 --separate-stderr ml mltrain -a kmeans --k 241 -o x.mlm "$CF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --k 241 is more clusters than the 240 training rows" ]
	printf 'a,b\n1,2\n1,2\n1,2\n' > const.csv
	run -65 --separate-stderr ml mltrain -a kmeans --k 2 -o x.mlm const.csv
	[ "$stderr" = "mltrain: -a kmeans: every feature is constant, so there is nothing to cluster into 2" ]
	printf 'a,b\n1,2\n1,2\n1,3\n' > dup.csv
	run -65 --separate-stderr ml mltrain -a kmeans --k 3 -o x.mlm dup.csv
	[ "$stderr" = "mltrain: -a kmeans: the training rows hold fewer than --k 3 distinct points" ]
	printf 'a,b\n1,2\n,2\n1,3\n' > miss.csv
	run -65 --separate-stderr ml mltrain -a kmeans --k 2 -o x.mlm miss.csv
	[ "$stderr" = "mltrain: miss.csv:3: missing value in column 'a' (-a kmeans takes no missing values; impute them with mlfeat --impute)" ]
	run -2 --separate-stderr ml mltrain -t a -a kmeans --k 2 -o x.mlm dup.csv
	[ "${stderr_lines[0]}" = "mltrain: -a kmeans takes no target (drop -t a)" ]
	[ ! -e x.mlm ]
}
