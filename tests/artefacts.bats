#!/usr/bin/env bats
# Artefacts through the commands: a model whose algorithm this mlpipe lacks shows its
# metadata but is neither sound nor applicable; a kind this mlpipe does not know is said so.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	MF=$FIX/mltrain
}

@test "--check loads the content into a working scorer: an unknown algorithm is not sound" {
	[ -f "$MF/alien.mlm" ]
	run -65 --separate-stderr ml mlinfo --check "$MF/alien.mlm"
	[ "$stderr" = "mlinfo: $MF/alien.mlm: unknown algorithm 'nosuch'" ]
	run -65 --separate-stderr ml mlpredict -m "$MF/alien.mlm" "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: $MF/alien.mlm: unknown algorithm 'nosuch'" ]
	run -0 --separate-stderr ml mlinfo "$MF/alien.mlm"
	[ "${lines[6]}" = '  "created": "2026-01-01T00:00:00Z",' ]
	[ "${lines[4]}" = '  "algorithm": "nosuch",' ]
}

@test "--check of a kind this mlpipe does not know checks the container and says so" {
	[ -f "$MF/future.mlm" ]
	run -0 --separate-stderr ml mlinfo --check "$MF/future.mlm"
	[ "$output" = "" ]
	[ "$stderr" = "mlinfo: warning: $MF/future.mlm: a 'future' artefact, a kind this mlpipe does not know: only the container was checked" ]
	# a profile is a kind it knows: one without its content fails the check
	run -65 --separate-stderr ml mlinfo --check "$MF/profile.mlm"
	[ "$stderr" = "mlinfo: $MF/profile.mlm: not a valid profile: no section 'profile'" ]
}

@test "--std and --level need a model with a predictive standard deviation" {
	ml mltrain -q -t 'mean radius' -a linear -o lin.mlm "$SAMPLES/breast_cancer.csv"
	run -2 --separate-stderr ml mlpredict --std -m lin.mlm "$SAMPLES/breast_cancer.csv"
	[ "${stderr_lines[0]}" = "mlpredict: -a linear models give no predictive standard deviation" ]
	run -2 --separate-stderr ml mlpredict --level 80 -m lin.mlm "$SAMPLES/breast_cancer.csv"
	[ "${stderr_lines[0]}" = "mlpredict: -a linear models give no predictive standard deviation" ]
	ml mltrain -q -t target -a logistic -o lg.mlm "$SAMPLES/breast_cancer.csv"
	run -2 --separate-stderr ml mlpredict --std -m lg.mlm "$SAMPLES/breast_cancer.csv"
	[ "${stderr_lines[0]}" = "mlpredict: -a logistic models give no predictive standard deviation (it is for regression)" ]
	for bad in 0 100 80,x 1,2,3,4,5,6,7,8,9 ''; do
		run -2 --separate-stderr ml mlpredict --level "$bad" -m lin.mlm "$SAMPLES/breast_cancer.csv"
		[[ "${stderr_lines[0]}" == "mlpredict: invalid value '$bad' for --level "* ]]
	done
}
