#!/bin/sh
# asn1c-bench.sh: side-by-side benchmark of keysync's UPER codec and the C
# that asn1c 0.9.28 generates (gcc -O2), decode+encode per message kind, on
# the same messages. Needs asn1c and gcc. Prints a markdown table.
set -eu
cd "$(dirname "$0")/../.."
KEYSYNC_ASN1C_BENCH=1 go test -count=1 -run '^TestAsn1cBench$' -v ./wire |
	sed -n 's/^ *\(|.*|\)$/\1/p'
