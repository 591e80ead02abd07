#!/bin/sh
# bench/fingerprints.sh: keysync vs libotr reading and writing otr.fingerprints.
#
# For 10k, 100k and 1M generated rows (contacts with two fingerprints, three
# local accounts, every trust value, scrambled order), time:
#   keysync: bench/fpbench run = libotr.ReadFingerprints, SortFingerprints
#            (libotr's context order), WriteFingerprints;
#   libotr:  internal/otrtest/c/otrtool benchfp = otrl_privkey_read_fingerprints
#            + otrl_privkey_write_fingerprints;
#   convert: the whole command `keysync convert --from pidgin:IN --to kopete:OUT`
#            (read into the model, merge, map to Kopete, write atomically),
#            timed by /usr/bin/time when it exists;
#   show:    `keysync show --json --from pidgin:IN` into /dev/null, the same way.
# Wall time is for the whole process; max RSS comes from getrusage in each
# program. libotr is skipped at a size where its quadratic growth projects
# more than LIBOTR_LIMIT seconds (default 120). Both outputs are checked to
# hold the same rows.
#
# Usage: bench/fingerprints.sh [ROWS...]     (default: 10000 100000 1000000)
set -eu
cd "$(dirname "$0")/.."
limit=${LIBOTR_LIMIT:-120}
work=$(mktemp -d "${TMPDIR:-/tmp}/keysync-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

go build -o "$work/fpbench" ./bench/fpbench
go build -o "$work/keysync" ./cmd/keysync
# shellcheck disable=SC2046
gcc -O2 -o "$work/otrtool" internal/otrtest/c/otrtool.c $(pkg-config --cflags --libs libotr) -lgcrypt

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

[ $# -gt 0 ] || set -- 10000 100000 1000000
echo "| rows | file MB | keysync s (read/sort/write) | keysync max RSS MiB | RSS/file | libotr s (read/write) | libotr max RSS MiB | libotr/keysync | keysync convert s, max RSS MiB | keysync show --json s, max RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
prev_n="" prev_t=""
for n in "$@"; do
	"$work/fpbench" gen "$n" "$work/in"
	bytes=$(wc -c <"$work/in")
	mb=$(calc %.1f "$bytes / 1048576")

	t0=$(now)
	out=$("$work/fpbench" run "$work/in" "$work/out.keysync")
	t1=$(now)
	set -- $out
	kt=$(calc %.2f "$t1 - $t0")
	krss=$(calc %.0f "$4 / 1024")
	kratio=$(calc %.2f "$4 * 1024 / $bytes")
	kparts="$1/$2/$3"

	conv="-" show="-"
	if [ -x /usr/bin/time ]; then
		rm -rf "$work/pidgin" "$work/kopete"
		mkdir "$work/pidgin"
		cp "$work/in" "$work/pidgin/otr.fingerprints"
		/usr/bin/time -f "%e %M" -o "$work/time" "$work/keysync" convert \
			--from "pidgin:$work/pidgin" --to "kopete:$work/kopete" >/dev/null
		read -r csec ckb <"$work/time"
		conv="$csec, $(calc %.0f "$ckb / 1024")"
		/usr/bin/time -f "%e %M" -o "$work/time" "$work/keysync" show --json \
			--from "pidgin:$work/pidgin" >/dev/null
		read -r ssec skb <"$work/time"
		show="$ssec, $(calc %.0f "$skb / 1024")"
		rm -rf "$work/pidgin" "$work/kopete"
	fi

	proj=""
	if [ -n "$prev_t" ]; then
		proj=$(calc %.0f "$prev_t * ($n / $prev_n) * ($n / $prev_n)")
	fi
	if [ -n "$proj" ] && [ "$proj" -gt "$limit" ]; then
		lt="skipped (projected ~${proj} s)" lrss="-" ratio="-"
	else
		t0=$(now)
		out=$("$work/otrtool" benchfp "$work/in" "$work/out.libotr")
		t1=$(now)
		set -- $out
		lsec=$(calc %.2f "$t1 - $t0")
		lt="$lsec ($1/$2)"
		lrss=$(calc %.0f "$3 / 1024")
		ratio=$(calc %.0fx "$lsec / $kt")
		prev_n=$n prev_t=$lsec
		# Same rows? (libotr reverses fingerprints within a context.)
		sort "$work/out.keysync" >"$work/a"
		sort "$work/out.libotr" >"$work/b"
		cmp -s "$work/a" "$work/b" || { echo "outputs differ at $n rows" >&2; exit 1; }
		rm -f "$work/a" "$work/b"
	fi
	echo "| $n | $mb | $kt ($kparts) | $krss | $kratio | $lt | $lrss | $ratio | $conv | $show |"
done
