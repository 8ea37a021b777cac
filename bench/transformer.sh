#!/bin/sh
# -a mlp --arch tabular-transformer against the mlp on small real tables, by 5-fold
# cross-validation (the same folds for both): the samples' breast cancer, Pima and
# penguins (missing values imputed by mlfeat), and, when scikit-learn's bundled data is
# installed (python3-sklearn), its wine and diabetes tables. Both train with Adam, batches
# of 64, up to 200 epochs with early stopping after 10 on a fifth of each fold's training
# rows: the mlp with one hidden layer of 100 at 0.001 (its defaults), the transformer
# with its defaults (3 blocks, 8 heads, width 64) at 3e-4 with 0.1 dropout, and again
# with the FT-Transformer paper's recipe (AdamW with decay 1e-5, attention dropout 0.2,
# feed-forward dropout 0.1). Prints each model's cross-validated metrics and CPU time.
# Not a test; after make:  sh bench/transformer.sh
set -e
ML_BIN=${ML_BIN:-bin}
T=${BENCH_THREADS:-2}
D=bench/data/tabular
SK=/usr/lib/python3/dist-packages/sklearn/datasets/data
mkdir -p "$D"
"$ML_BIN/mlfeat" -t diabetes --impute median samples/pima.csv >"$D/pima.csv"
"$ML_BIN/mlfeat" -t species --impute median --impute mode:sex samples/penguins.csv \
	>"$D/penguins.csv"
set -- "breast_cancer target samples/breast_cancer.csv" "pima diabetes $D/pima.csv" \
	"penguins species $D/penguins.csv"
if [ -r "$SK/wine_data.csv" ] && [ -r "$SK/diabetes_data_raw.csv.gz" ]; then
	{
		echo "a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,class"
		tail -n +2 "$SK/wine_data.csv" | sed 's/,\([0-9]\)$/,c\1/'
	} >"$D/wine.csv"
	{
		echo "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,y"
		zcat "$SK/diabetes_data_raw.csv.gz" >"$D/dx.txt"
		zcat "$SK/diabetes_target.csv.gz" | paste -d' ' "$D/dx.txt" - | tr ' ' ,
	} >"$D/diabetes.csv"
	set -- "$@" "wine class $D/wine.csv" "diabetes y $D/diabetes.csv"
fi
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); -j $T"
common="-j $T --seed 1 --cv 5 --batch-size 64 --epochs 200 --valid-frac 0.2 --early-stop 10"
for spec in "$@"; do
	set -- $spec
	for arch in mlp tabular-transformer ft-recipe; do
		case $arch in
		mlp) opts="--learning-rate 0.001" ;;
		tabular-transformer)
			opts="--arch tabular-transformer --learning-rate 3e-4 --dropout 0.1" ;;
		*)
			opts="--arch tabular-transformer --learning-rate 3e-4 --dropout 0.1"
			opts="$opts --attention-dropout 0.2 --optimizer adamw --weight-decay 1e-5" ;;
		esac
		/usr/bin/time -f "%U %S" -o "$D/time.txt" "$ML_BIN/mltrain" $common -t "$2" -a mlp \
			$opts -o "$D/m.mlm" "$3" 2>"$D/log.txt"
		cv=$(sed -n 's/^mltrain: cross-validation ([^)]*): //p' "$D/log.txt")
		cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$D/time.txt")
		printf '%-14s %-20s %s  (%s CPU s)\n' "$1" "$arch" "$cv" "$cpu"
	done
done
