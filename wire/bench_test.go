package wire

import (
	"strconv"
	"strings"
	"testing"
)

// benchMessages returns the messages both benchmarks (Go and asn1c) use for
// alternative i of c: 64 random messages with realistic string lengths
// (0..40 octets), up to 3 identities per list, fixed seed.
func benchMessages(c codec, i int) (msgs []walker, pers [][]byte) {
	f := &randFiller{r: newRand(uint64(1000 + i)), nonNegativeRatings: true, maxList: 3, shortStrings: true}
	for range 64 {
		m := c.random(f, i)
		p, err := c.per(Options{}, m)
		if err != nil {
			panic(err)
		}
		msgs, pers = append(msgs, m), append(pers, p)
	}
	return msgs, pers
}

// roundTrip is one benchmark operation: decode a payload, encode the result.
func roundTrip(b *testing.B, c codec, pers [][]byte) {
	var size int
	for _, p := range pers {
		size += len(p)
	}
	b.SetBytes(int64(size / len(pers)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m, err := c.unper(pers[i])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.per(Options{}, m); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(pers)
	}
}

// BenchmarkRoundTrip measures UPER decode+encode per message kind.
func BenchmarkRoundTrip(b *testing.B) {
	for _, c := range codecs {
		for i := 0; i < c.alts; i++ {
			_, pers := benchMessages(c, i)
			b.Run(c.pdu+"/"+c.name(i), func(b *testing.B) { roundTrip(b, c, pers) })
		}
	}
}

// BenchmarkXER measures XER print+parse of a GroupKeysUpdate.
func BenchmarkXER(b *testing.B) {
	msgs, _ := benchMessages(codecs[0], int(KindGroupKeysUpdate)-2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x, err := MarshalSyncXER(msgs[i].(SyncMessage))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := UnmarshalSyncXER(x); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(msgs)
	}
}

// BenchmarkAsn1c measures UPER decode+encode per message kind in Go
// (ns/op) on the messages asn1c's generated C (gcc -O2) is timed on
// (asn1c-ns/op, as its driver measures it). wire/bench/asn1c-bench.sh runs
// it and prints the comparison.
func BenchmarkAsn1c(b *testing.B) {
	bin := asn1cDriver(b, false)
	for _, c := range codecs {
		for i := 0; i < c.alts; i++ {
			_, pers := benchMessages(c, i)
			out := runDriver(b, bin, c.pdu, "bench", records(pers))
			cns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			if err != nil {
				b.Fatalf("asn1c driver: %v", err)
			}
			b.Run(c.pdu+"/"+c.name(i), func(b *testing.B) {
				roundTrip(b, c, pers)
				b.ReportMetric(cns, "asn1c-ns/op")
			})
		}
	}
}
