package atomicfile

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"
)

// Recover removes keysync's own temporary files, and nothing else, and
// says so.
func TestRecoverRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	keep := []string{".keysync.lock", ".otr.keysync-tmp-abc", "otr.private_key", "otr.private_key.keysync-tmp-1", "otr.private_key.keysync-backup"}
	for _, name := range keep {
		mustWrite(t, filepath.Join(dir, name), "keep", 0o600)
	}
	if err := os.Mkdir(filepath.Join(dir, ".d.keysync-tmp-7"), 0o700); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, ".keysync-journal.keysync-tmp-12"), "{", 0o600)
	mustWrite(t, filepath.Join(dir, ".otr.private_key.keysync-tmp-3456"), "a private key", 0o600)
	rep, err := Recover(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".keysync-journal.keysync-tmp-12", ".otr.private_key.keysync-tmp-3456"}
	if !reflect.DeepEqual(rep.Removed, want) || rep.Outcome != NoSet {
		t.Errorf("report %+v, want removed %q", rep, want)
	}
	msg := dir + ": removed keysync's leftover temporary files .keysync-journal.keysync-tmp-12, .otr.private_key.keysync-tmp-3456"
	if ms := rep.Messages(); !reflect.DeepEqual(ms, []string{msg}) {
		t.Errorf("messages %q, want %q", ms, msg)
	}
	want = append([]string{".d.keysync-tmp-7"}, keep...)
	slices.Sort(want)
	if got := entries(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %q, want %q", got, want)
	}
	if rep, err := Recover(filepath.Join(dir, "missing")); err != nil || len(rep.Messages()) != 0 {
		t.Errorf("Recover of a missing folder = %q, %v", rep.Messages(), err)
	}
}

// Temporary files and temporary backups have mode 0600 while they are
// written, whatever mode they get in the end.
func TestTempFilesPrivateWhileWritten(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no mode bits on Windows")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	mustWrite(t, p, "old content", 0o644)
	seen := 0
	step = func() {
		for _, name := range entries(t, dir) {
			if !isTemp(name) {
				continue
			}
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				continue // renamed meanwhile
			}
			seen++
			if m := fi.Mode().Perm(); m != 0o600 && m != 0o644 {
				t.Errorf("%s has mode %v", name, m)
			}
			if m := fi.Mode().Perm(); m != 0o600 && fi.Size() != int64(len("old content")) && fi.Size() != int64(len("new content")) {
				t.Errorf("%s has mode %v while partly written", name, m)
			}
		}
	}
	defer func() { step = nil }()
	planApply(t, File{Path: p, Content: Bytes("new content")})
	if seen == 0 {
		t.Fatal("saw no temporary file")
	}
	checkFile(t, p, "new content", 0o644)
}
