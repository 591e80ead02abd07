package gpgcolon

import (
	"bytes"
	"os"
	"testing"
)

func addSamples(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseListing feeds listings to ParseListing: any input gives keys or
// an error, never a panic, and every key read has a fingerprint or says
// why not.
func FuzzParseListing(f *testing.F) {
	addSamples(f, "testdata/list-keys.txt", "testdata/list-secret-keys.txt")
	f.Fuzz(func(t *testing.T, in []byte) {
		keys, err := ParseListing(bytes.NewReader(in))
		if err != nil && len(err.Error()) > 1<<10 {
			t.Fatalf("error of %d bytes", len(err.Error()))
		}
		for _, k := range keys {
			if len(k.UserIDs) > MaxUserIDs {
				t.Fatalf("%d user IDs", len(k.UserIDs))
			}
		}
	})
}

// FuzzParseOwnertrust checks that what ParseOwnertrust reads, written
// with AppendOwnertrust, reads back the same.
func FuzzParseOwnertrust(f *testing.F) {
	addSamples(f, "testdata/ownertrust.txt")
	f.Fuzz(func(t *testing.T, in []byte) {
		values, _, err := ParseOwnertrust(bytes.NewReader(in))
		if err != nil {
			return
		}
		back, _, err := ParseOwnertrust(bytes.NewReader(AppendOwnertrust(nil, values)))
		if err != nil || len(back) != len(values) {
			t.Fatalf("read back %d values, %v; want %d", len(back), err, len(values))
		}
		for i := range back {
			if back[i].Fingerprint != values[i].Fingerprint || back[i].Value != values[i].Value {
				t.Fatalf("value %d read back as %+v, want %+v", i, back[i], values[i])
			}
		}
	})
}

// FuzzSplitKeys checks that SplitKeys' blocks cover the input exactly, in
// order.
func FuzzSplitKeys(f *testing.F) {
	addSamples(f, "../../testdata/fixtures/gnupg/pubring.gpg", "../../testdata/fixtures/gnupg/secring.gpg")
	f.Fuzz(func(t *testing.T, in []byte) {
		blocks, err := SplitKeys(in)
		if err != nil {
			return
		}
		var joined []byte
		for _, b := range blocks {
			joined = append(joined, b.Data...)
		}
		if !bytes.Equal(joined, in) {
			t.Fatalf("blocks hold %d bytes, input %d", len(joined), len(in))
		}
	})
}
