#!/bin/sh
# Checks the build and test dependencies; installs the missing Debian packages when run as
# root with apt-get, otherwise prints the command that would. With the argument 'fuzz', also
# what make fuzz needs: clang and its libFuzzer runtime (nothing else asks for clang).
missing=
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
[ -f /usr/include/csv.h ] || missing="$missing libcsv-dev"
have_pc libcjson || missing="$missing libcjson-dev"
have_pc zlib || missing="$missing zlib1g-dev"
have_pc openblas || missing="$missing libopenblas-dev"
have_pc lapacke || missing="$missing liblapacke-dev"
command -v bats >/dev/null 2>&1 || missing="$missing bats"
# GNU parallel, not moreutils' command of the same name: mlpipe(7)'s recipe runs in the suite
parallel --version 2>/dev/null | grep -q '^GNU parallel' || missing="$missing parallel"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
if [ "$1" = fuzz ]; then
	command -v clang >/dev/null 2>&1 || missing="$missing clang"
	# The runtime: a harness that links with -fsanitize=fuzzer.
	fuzzrt=$(clang -print-runtime-dir 2>/dev/null)
	ls "$fuzzrt"/libclang_rt.fuzzer*.a >/dev/null 2>&1 || missing="$missing libclang-rt-14-dev"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
		echo "deps: apt-get install failed:$missing" >&2; exit 1; }
	exit 0
fi
echo "missing packages:$missing" >&2
echo "install them with: sudo apt-get install$missing" >&2
exit 1
