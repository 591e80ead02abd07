package app

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/keysync/keysync/internal/atomicfile"
)

// Open and ReadFile record what they read, and a missing file as missing.
func TestSeenRecordsReads(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	seen := &Seen{}
	req := ReadRequest{Dir: dir, Seen: seen}
	f, err := req.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(f, make([]byte, 2)); err != nil { // read part, the rest is hashed on Close
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := req.ReadFile(b); err != nil {
		t.Fatal(err)
	}
	if _, err := req.Open(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("opened a missing file")
	}
	for path, want := range map[string]string{a: a, b: b, filepath.Join(dir, "missing"): ""} {
		got := seen.Version(path)
		var now atomicfile.Version
		if want != "" {
			if now, err = atomicfile.VersionOf(want); err != nil {
				t.Fatal(err)
			}
		} else {
			now = atomicfile.Missing
		}
		if got != now {
			t.Errorf("%s: seen %v, now %v", path, got, now)
		}
	}
	if v := seen.Version(filepath.Join(dir, "unread")); v != (atomicfile.Version{}) {
		t.Errorf("unread file has version %v", v)
	}
	var none ReadRequest // no Seen: reads record nothing and still work
	if _, err := none.ReadFile(a); err != nil {
		t.Fatal(err)
	}
}
