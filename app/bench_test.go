package app

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/keysync/keysync"
)

// writeFingerprints writes a Pidgin otr.fingerprints of n rows: n/2
// contacts of two local accounts, two fingerprints each, every trust value.
func writeFingerprints(tb testing.TB, dir string, n int) int64 {
	tb.Helper()
	path := filepath.Join(dir, "otr.fingerprints")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	trusts := []string{"", "verified", "smp", "manual"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "contact%07d@example.org\tme%d@example.org/\tprpl-jabber\t%040x\t%s\n",
			i/2, i%2, uint64(i)*2654435761, trusts[i%4])
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)
	return st.Size()
}

// BenchmarkConvertFingerprints reads a Pidgin store, merges it and computes
// the Kopete files: the work of `keysync convert` without the disk writes.
func BenchmarkConvertFingerprints(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			size := writeFingerprints(b, dir, n)
			pidgin, _ := Lookup("pidgin")
			kopete, _ := Lookup("kopete")
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				s, _, err := pidgin.Read(ReadRequest{Dir: dir, Source: "pidgin:" + dir})
				if err != nil {
					b.Fatal(err)
				}
				m, _ := keysync.Merge([]keysync.Source{{Name: "pidgin:" + dir, Model: s}}, "")
				plan, _, err := kopete.Write(b.TempDir(), "kopete:x", m)
				if err != nil || len(plan.Files) != 1 {
					b.Fatal(err, len(plan.Files))
				}
				if _, err := plan.Files[0].Content.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkShowJSON reads a Pidgin store and writes its report as JSON:
// the work of `keysync show --json`.
func BenchmarkShowJSON(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			size := writeFingerprints(b, dir, n)
			locs, err := ParseLocations([]string{"pidgin:" + dir})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				r, err := Show(locs, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.WriteJSON(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
