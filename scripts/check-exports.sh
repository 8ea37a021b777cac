#!/bin/sh
# Checks that libml.so exports exactly what the public headers declare with ML_API: every
# such function and object, and nothing else. Prints the differences and exits 1 when the
# two lists differ, 2 when it cannot read them.
#   sh scripts/check-exports.sh [LIBML.SO [INCLUDE-DIR]]   (default build/libml.so include/ml)
so=${1:-build/libml.so}
inc=${2:-include/ml}
export LC_ALL=C

if [ ! -f "$so" ]; then
	echo "check-exports: $so: no such file (make builds it)" >&2
	exit 2
fi
command -v nm >/dev/null 2>&1 || { echo "check-exports: needs nm (binutils)" >&2; exit 2; }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# The names the headers declare with ML_API: comments and preprocessor lines dropped, the
# text cut into declarations at ';' and '{', and from each that starts with ML_API the
# name: the identifier before the first '(' for a function, else the last one before any
# '[' or '=' for an object.
for h in "$inc"/*.h; do
	sed -e 's://.*$::' "$h" | awk '
		{ text = text $0 "\n" }
		END {
			while ((i = index(text, "/*")) > 0) {
				rest = substr(text, i + 2)
				j = index(rest, "*/")
				text = substr(text, 1, i - 1) " " (j ? substr(rest, j + 2) : "")
			}
			n = split(text, lines, "\n")
			text = ""
			for (k = 1; k <= n; k++)
				if (lines[k] !~ /^[ \t]*#/)
					text = text lines[k] " "
			gsub(/[\t ]+/, " ", text)
			n = split(text, decl, /[;{}]/)
			for (k = 1; k <= n; k++) {
				d = decl[k]
				sub(/^ +/, "", d)
				if (d !~ /^ML_API /)
					continue
				if ((p = index(d, "(")) > 0)
					d = substr(d, 1, p - 1)
				else
					sub(/ *[[=].*$/, "", d)
				if (match(d, /[A-Za-z_][A-Za-z0-9_]* *$/)) {
					name = substr(d, RSTART, RLENGTH)
					sub(/ +$/, "", name)
					print name
				}
			}
		}'
done | sort -u >"$tmp/declared"

# The dynamic symbols libml.so defines, less those the linker adds to every shared object.
nm -D --defined-only "$so" >"$tmp/nm" || exit 2
awk 'NF >= 3 { print $3 }' "$tmp/nm" | sed 's/@.*//' |
	grep -v -x -e _init -e _fini -e _edata -e _end -e __bss_start |
	sort -u >"$tmp/exported"

if [ ! -s "$tmp/declared" ] || [ ! -s "$tmp/exported" ]; then
	echo "check-exports: found $(wc -l <"$tmp/declared") ML_API declarations in $inc and" \
		"$(wc -l <"$tmp/exported") exports in $so" >&2
	exit 2
fi
comm -13 "$tmp/declared" "$tmp/exported" >"$tmp/extra"
comm -23 "$tmp/declared" "$tmp/exported" >"$tmp/missing"
if [ -s "$tmp/extra" ] || [ -s "$tmp/missing" ]; then
	if [ -s "$tmp/extra" ]; then
		echo "check-exports: $so exports what no public header declares with ML_API:"
		sed 's/^/  + /' "$tmp/extra"
	fi
	if [ -s "$tmp/missing" ]; then
		echo "check-exports: $so does not export what $inc declares with ML_API:"
		sed 's/^/  - /' "$tmp/missing"
	fi
	exit 1
fi
echo "check-exports: $so exports the $(wc -l <"$tmp/exported") names $inc declares with ML_API"
