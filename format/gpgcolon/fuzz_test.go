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
// order. Its seeds are small packet streams in both header formats and
// every length form: the engine minimises every new input in time
// quadratic in its length, and the 100 KB sample keyring left it
// minimising rather than fuzzing (TestSplitKeysSample reads it).
func FuzzSplitKeys(f *testing.F) {
	f.Add([]byte{0x98, 3, 4, 1, 2, 0xb4, 1, 'a', 0x88, 1, 0, 0x98, 1, 3})              // old format, 1-byte lengths
	f.Add([]byte{0x99, 0, 2, 4, 0, 0x9a, 0, 0, 0, 1, 4, 0x94, 1, 4, 0xb4, 0, 0x98, 0}) // 2- and 4-byte lengths, a secret key
	f.Add([]byte{0xc6, 2, 4, 0, 0xcd, 1, 'b', 0xc6, 0xc0, 0, 4, 0xc5, 0xff, 0, 0, 0, 1, 4})
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
