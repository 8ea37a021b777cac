#!/usr/bin/env bats
# The learner interface: every hyperparameter name the library asks for is one an algorithm
# declares (ml_param returns NaN for any other name, so a typo would pass silently).

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# The hyperparameters of -a ALGO, one name per line, from mltrain --help.
algo_params() {
	ml mltrain --help | awk -v a="  -a $1:" '
		$0 == a || index($0, a " ") == 1 { on = 1; next }
		on && /^  -a / { exit }
		on && /^      --/ { sub(/^      --/, ""); sub(/=.*/, ""); print }'
}

@test "every parameter name libml asks for is in its algorithm's table" {
	local f names algos a n bad=0 all known
	all=$(ml mltrain --list-options | sed 's/^--//; s/=$//')
	[ -n "$all" ]
	# (forecasting methods, lib/ts, read their own tables, which mlforecast -p checks)
	for f in $(grep -rlE 'ml_param(_given|_text|_list)?\(' "$TOP/lib" | grep -v '/params\.c$' |
		grep -v '/lib/ts/'); do
		names=$(grep -hoE 'ml_param(_given|_text|_list)?\([^,()]+, "[a-z0-9-]+"' "$f" |
			sed -E 's/.*"([a-z0-9-]+)"$/\1/' | sort -u)
		algos=$(grep -hoE '^const struct ml_algo ml_algo_[a-z0-9_]+' "$f" | sed 's/.*ml_algo_//')
		# A file that defines algorithms reads the parameters of one of them (ridge,
		# lasso and elasticnet share one file); any other file, those of any.
		known=$all
		if [ -n "$algos" ]; then
			known=$(for a in $algos; do algo_params "$a"; done)
		fi
		# A forecasting method's file reads the parameters of its own table.
		if grep -qE '^const struct ml_fc_method ml_fc_' "$f"; then
			known=$(grep -hoE '^[[:space:]]*\{"[a-z0-9-]+", ML_P_' "$f" |
				sed -E 's/.*"([a-z0-9-]+)".*/\1/')
		fi
		for n in $names; do
			if ! printf '%s\n' $known | grep -qx -- "$n"; then
				echo "${f#$TOP/}: '$n' is not a parameter of -a ${algos:-any algorithm}" >&2
				bad=1
			fi
		done
	done
	[ "$bad" -eq 0 ]
}

@test "the scan above finds parameter reads at all" {
	run -0 algo_params gbdt
	[[ "$output" == *rounds* ]]
	run -0 grep -rlE 'ml_param\([^,()]+, "rounds"' "$TOP/lib"
}
