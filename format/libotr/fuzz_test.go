package libotr

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/sexp"
)

// maxErrorLen bounds every error a reader gives: input is quoted cut short.
const maxErrorLen = 1 << 10

// hostileKeys are private key files beyond what libotr writes: nesting
// past sexp.MaxDepth, a long name, and DSA parameters far larger than
// libotr's 1024-bit p with everything else valid, so that validation
// reaches g^x mod p.
func hostileKeys() [][]byte {
	deep := "(privkeys " + strings.Repeat("(a ", sexp.MaxDepth) + strings.Repeat(")", sexp.MaxDepth) + ")"
	name := `(privkeys (account (name "` + strings.Repeat("n", 4<<10) + `") (protocol prpl-jabber)))`
	huge := func(bytes int) string {
		p := "C" + strings.Repeat("F", 2*bytes-2) + "B"
		q := "8" + strings.Repeat("0", 38) + "1"
		return "(privkeys (account (name a) (protocol prpl-jabber) (private-key (dsa (p #" + p + "#) (q #" + q +
			"#) (g #02#) (y #08#) (x #7" + strings.Repeat("F", 39) + "#)))))"
	}
	return [][]byte{[]byte(deep), []byte(name), []byte(huge(1 << 10)), []byte(huge(4 << 10))}
}

// addKeySeeds adds the seeds of the private key targets. They are small:
// the engine minimises every new input in time quadratic in its length,
// so the samples (3-4 KB) and hostileKeys' large keys left it minimising
// rather than fuzzing; TestPrivKeySamples runs the targets' checks on
// those.
func addKeySeeds(f *testing.F) {
	f.Add([]byte("(privkeys (account (protocol 1:p) (name \"\\x01\") (private-key (dsa (x 2:ab) (y #00#) (g |AQ==|) (q [h]\"\") (p 5#0102#)))))"))
	f.Add([]byte("(privkeys (account (name \"a@b/\") (protocol prpl-jabber) (private-key (dsa (p #17#) (q #0B#) (g #04#) (y #08#) (x #03#))))\n (account (name b) (protocol IRC)))"))
	f.Add([]byte(`(privkeys (account (name "` + strings.Repeat("n", 100) + `") (protocol prpl-jabber)))`))
	f.Add([]byte("(privkeys " + strings.Repeat("(a ", sexp.MaxDepth) + strings.Repeat(")", sexp.MaxDepth) + ")"))
}

// TestPrivKeySamples runs the checks of FuzzReadPrivKeys and
// FuzzValidatePrivKeys on the samples and on hostileKeys.
func TestPrivKeySamples(t *testing.T) {
	inputs := hostileKeys()
	for _, name := range keyFiles {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	for _, in := range inputs {
		checkReadPrivKeys(t, in)
		checkValidatePrivKeys(t, in)
	}
}

func addFixtures(f *testing.F, files []string) {
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzReadPrivKeys checks that reading never panics and that what was read
// is written and read back to the same keys, byte-stable.
func FuzzReadPrivKeys(f *testing.F) {
	addKeySeeds(f)
	f.Fuzz(checkReadPrivKeys)
}

// checkReadPrivKeys is FuzzReadPrivKeys' check of one input.
func checkReadPrivKeys(t *testing.T, data []byte) {
	keys, err := ReadPrivKeys(bytes.NewReader(data), "f")
	if err != nil {
		if len(err.Error()) > maxErrorLen {
			t.Fatalf("error of %d bytes", len(err.Error()))
		}
		return
	}
	for _, k := range keys {
		// Validation is bounded whatever the sizes (see TestValidateRejectsHugeP).
		if err := k.Key.Validate(); err != nil && !errors.Is(err, keysync.ErrInvalidKey) {
			t.Fatalf("Validate: %v", err)
		}
	}
	var out bytes.Buffer
	if err := WritePrivKeys(&out, keys); err != nil {
		return // a NUL in a name: libotr cannot write it either
	}
	again, err := ReadPrivKeys(bytes.NewReader(out.Bytes()), "f")
	if err != nil {
		t.Fatalf("reading written file: %v\n%s", err, out.Bytes())
	}
	if len(again) != len(keys) {
		t.Fatalf("%d keys, then %d", len(keys), len(again))
	}
	for i := range keys {
		a, b := keys[i], again[i]
		if a.Name != b.Name || a.Protocol != b.Protocol || !a.Key.Equal(b.Key) || !reflect.DeepEqual(a.Key.Native, b.Key.Native) {
			t.Fatalf("key %d changed: %+v -> %+v", i, a, b)
		}
	}
	var out2 bytes.Buffer
	if err := WritePrivKeys(&out2, again); err != nil || !bytes.Equal(out.Bytes(), out2.Bytes()) {
		t.Fatalf("second write differs (%v)", err)
	}
}

// FuzzValidatePrivKeys feeds every key read through Validate, which must
// not panic, must give short errors and must never show the secret x.
func FuzzValidatePrivKeys(f *testing.F) {
	addKeySeeds(f)
	f.Fuzz(checkValidatePrivKeys)
}

// checkValidatePrivKeys is FuzzValidatePrivKeys' check of one input.
func checkValidatePrivKeys(t *testing.T, data []byte) {
	keys, err := ReadPrivKeys(bytes.NewReader(data), "f")
	if err != nil {
		return
	}
	for _, k := range keys {
		err := k.Key.Validate()
		if err == nil {
			continue
		}
		msg := err.Error()
		if len(msg) > maxErrorLen {
			t.Fatalf("error of %d bytes", len(msg))
		}
		if x := k.Key.X.Bytes(); len(x) >= 4 && strings.Contains(strings.ToLower(msg), hex.EncodeToString(x)) {
			t.Fatalf("error shows x: %s", msg)
		}
	}
}

// FuzzReadFingerprints checks that reading never panics, that the result
// does not depend on how the input is chunked, and that write-then-read
// gives the same rows.
func FuzzReadFingerprints(f *testing.F) {
	addFixtures(f, fpFiles)
	f.Add([]byte("u\ta\tp\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\tv\r\n\nu\ta\tp\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"))
	f.Add([]byte(strings.Repeat("u", MaxLineLen-60) + "\ta\tp\t" + strings.Repeat("a", 40) + "\tverified\n"))
	f.Add([]byte(strings.Repeat("u\ta\tp\t"+strings.Repeat("a", 40)+"\n", 50) + strings.Repeat("x", MaxLineLen+1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadFingerprints(bytes.NewReader(data), "f")
		rows2, err2 := ReadFingerprints(iotest.OneByteReader(bytes.NewReader(data)), "f")
		if err != nil && len(err.Error()) > maxErrorLen {
			t.Fatalf("error of %d bytes", len(err.Error()))
		}
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("chunking changes the error: %v vs %v", err, err2)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(rows, rows2) {
			t.Fatalf("chunking changes the rows")
		}
		var out bytes.Buffer
		if err := WriteFingerprints(&out, rows); err != nil {
			t.Fatalf("writing rows that were read: %v", err)
		}
		again, err := ReadFingerprints(bytes.NewReader(out.Bytes()), "f")
		if err != nil {
			t.Fatalf("reading written file: %v", err)
		}
		if len(again) != len(rows) {
			t.Fatalf("%d rows, then %d", len(rows), len(again))
		}
		for i := range rows {
			a, b := rows[i], again[i]
			a.Line, b.Line = 0, 0
			if a != b {
				t.Fatalf("row %d changed: %+v -> %+v", i, a, b)
			}
		}
	})
}

// FuzzReadInstanceTags checks that reading never panics and that
// write-then-read gives the same tags.
func FuzzReadInstanceTags(f *testing.F) {
	f.Add([]byte(InstagHeader + "\notrtest1\tprpl-aim\t27e32500\nb\tc\t00000100\r\n\n"))
	f.Add([]byte("#x\na\tb\t0000000f\n"))
	f.Add([]byte(strings.Repeat("a", MaxLineLen-20) + "\tprpl-irc\t27e32500\n" + strings.Repeat("b", MaxLineLen+1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tags, err := ReadInstanceTags(bytes.NewReader(data), "f")
		if err != nil {
			if len(err.Error()) > maxErrorLen {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		var out bytes.Buffer
		if err := WriteInstanceTags(&out, tags); err != nil {
			t.Fatalf("writing tags that were read: %v", err)
		}
		again, err := ReadInstanceTags(bytes.NewReader(out.Bytes()), "f")
		if err != nil {
			t.Fatalf("reading written file: %v", err)
		}
		if len(again) != len(tags) {
			t.Fatalf("%d tags, then %d", len(tags), len(again))
		}
		for i := range tags {
			a, b := tags[i], again[i]
			a.Line, b.Line = 0, 0
			if a != b {
				t.Fatalf("tag %d changed: %+v -> %+v", i, a, b)
			}
		}
	})
}
