#!/bin/sh
# asn1c-bench.sh: side-by-side benchmark of keysync's UPER codec and the C
# that asn1c 0.9.28 generates (gcc -O2), decode+encode per message kind, on
# the same messages (BenchmarkAsn1c). Needs asn1c and gcc. Takes the best of
# three runs of each side and prints a markdown table with the ratio.
set -eu
cd "$(dirname "$0")/../.."
KEYSYNC_REQUIRE_PEERS=1 go test -count=3 -run '^$' -bench '^BenchmarkAsn1c$' ./wire |
	awk '
	$1 ~ /^BenchmarkAsn1c\// {
		name = $1
		sub(/^BenchmarkAsn1c\//, "", name)
		sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i++) {
			if ($(i + 1) == "ns/op") g = $i
			if ($(i + 1) == "asn1c-ns/op") c = $i
		}
		if (!(name in gns)) { order[++n] = name; gns[name] = g; cns[name] = c }
		if (g < gns[name]) gns[name] = g
		if (c < cns[name]) cns[name] = c
	}
	END {
		if (n == 0) { print "asn1c-bench.sh: no benchmark results" > "/dev/stderr"; exit 1 }
		print "| PDU | message | Go ns/op | asn1c ns/op | asn1c / Go |"
		print "|---|---|--:|--:|--:|"
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, p, "/")
			printf "| %s | %s | %.0f | %.0f | %.1f× |\n", p[1], p[2], gns[k], cns[k], cns[k] / gns[k]
			sg += gns[k]; sc += cns[k]
		}
		printf "| all | sum | %.0f | %.0f | %.1f× |\n", sg, sc, sc / sg
	}'
