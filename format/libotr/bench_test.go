package libotr

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

var benchSizes = []int{10_000, 100_000, 1_000_000}

func benchFile(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := WriteFingerprints(&buf, genRows(n)); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkReadFingerprints reads generated files of 10k, 100k and 1M rows.
func BenchmarkReadFingerprints(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			data := benchFile(b, n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				rows, err := ReadFingerprints(bytes.NewReader(data), "bench")
				if err != nil || len(rows) != n {
					b.Fatal(err, len(rows))
				}
			}
		})
	}
}

// BenchmarkWriteFingerprints writes 10k, 100k and 1M rows.
func BenchmarkWriteFingerprints(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			rows := genRows(n)
			data := benchFile(b, n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := WriteFingerprints(io.Discard, rows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSortFingerprints sorts 1M scrambled rows into libotr's order.
func BenchmarkSortFingerprints(b *testing.B) {
	rows := genRows(1_000_000)
	for i := range rows {
		j := (i * 7919) % len(rows)
		rows[i], rows[j] = rows[j], rows[i]
	}
	work := make([]FingerprintRow, len(rows))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, rows)
		SortFingerprints(work)
	}
}
