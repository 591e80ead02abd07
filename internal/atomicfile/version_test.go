package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// A file changed between the read and Plan is refused, naming it; the
// change is caught even though Plan saw the target only after it.
func TestChangedSinceRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.fingerprints")
	mustWrite(t, p, "row 1\n", 0o600)
	data, v, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, p, "row 1\nrow 2 (theirs)\n", 0o600)
	_, err = Plan([]File{{Path: p, Content: Bytes(string(data) + "row 3 (mine)\n"), Read: v}})
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("Plan error %v, want one naming %s as changed since read", err, p)
	}
	checkFile(t, p, "row 1\nrow 2 (theirs)\n", 0o600)
}

// Reader hashes what is read, and the rest of the file too.
func TestReaderVersion(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	mustWrite(t, p, "abcdef", 0o600)
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	v, err := r.Version()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, same, _ := ReadFile(p); same != v {
		t.Errorf("Reader version %v differs from ReadFile's", v)
	}
	planApply(t, File{Path: p, Content: Bytes("new"), Read: v}) // unchanged since read: accepted

	mustWrite(t, p, "abcdeX", 0o600)
	if _, err := Plan([]File{{Path: p, Content: Bytes("new"), Read: v}}); err == nil {
		t.Error("Plan accepted a file changed since read")
	}
}

// A file that was missing when read and exists at Plan is refused; so is
// one that existed and is gone.
func TestCreatedOrRemovedSinceRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if _, err := Open(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing file: %v", err)
	}
	_, v, err := ReadFile(p)
	if !errors.Is(err, fs.ErrNotExist) || v != Missing {
		t.Fatalf("ReadFile of a missing file = %v, %v", v, err)
	}
	mustWrite(t, p, "theirs", 0o600)
	if _, err := Plan([]File{{Path: p, Content: Bytes("mine"), Read: Missing}}); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Plan error %v, want one naming %s", err, p)
	}
	_, v, err = ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "g")
	if _, err := Plan([]File{{Path: q, Content: Bytes("mine"), Read: v}}); err == nil || !strings.Contains(err.Error(), q) {
		t.Errorf("Plan error %v, want one naming %s", err, q)
	}
}

// VersionOf agrees with ReadFile, and gives Missing for a missing file.
func TestVersionOf(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if v, err := VersionOf(p); v != Missing || err != nil {
		t.Errorf("VersionOf a missing file = %v, %v", v, err)
	}
	mustWrite(t, p, "content", 0o600)
	v, err := VersionOf(p)
	if _, want, _ := ReadFile(p); v != want || err != nil {
		t.Errorf("VersionOf = %v, %v; ReadFile's is %v", v, err, want)
	}
	if v == Missing || v == (Version{}) {
		t.Errorf("VersionOf an existing file = %v", v)
	}
}
