package wire

import (
	"fmt"
	"math"
	"os"
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

// TestAsn1cBench prints, per message kind, the ns of one UPER decode+encode
// in Go and in asn1c's generated C (-O2) on the same messages. Opt-in:
// KEYSYNC_ASN1C_BENCH=1 (wire/bench/asn1c-bench.sh).
func TestAsn1cBench(t *testing.T) {
	if os.Getenv("KEYSYNC_ASN1C_BENCH") != "1" {
		t.Skip("set KEYSYNC_ASN1C_BENCH=1 to compare with asn1c")
	}
	bin := asn1cDriver(t, false)
	var out strings.Builder
	out.WriteString("| PDU | message | Go ns/op | asn1c ns/op | asn1c / Go |\n|---|---|--:|--:|--:|\n")
	var sumGo, sumC float64
	for _, c := range codecs {
		for i := 0; i < c.alts; i++ {
			_, pers := benchMessages(c, i)
			// The best of three alternating rounds, against noise from
			// other work on the machine.
			gns, cns := math.Inf(1), math.Inf(1)
			for range 3 {
				v, err := strconv.ParseFloat(strings.TrimSpace(string(runDriver(t, bin, c.pdu, "bench", records(pers)))), 64)
				if err != nil {
					t.Fatal(err)
				}
				cns = min(cns, v)
				r := testing.Benchmark(func(b *testing.B) { roundTrip(b, c, pers) })
				gns = min(gns, float64(r.T.Nanoseconds())/float64(r.N))
			}
			sumGo += gns
			sumC += cns
			fmt.Fprintf(&out, "| %s | %s | %.0f | %.0f | %.1f× |\n", c.pdu, c.name(i), gns, cns, cns/gns)
		}
	}
	fmt.Fprintf(&out, "| all | sum | %.0f | %.0f | %.1f× |\n", sumGo, sumC, sumC/sumGo)
	t.Log("\n" + out.String())
}
