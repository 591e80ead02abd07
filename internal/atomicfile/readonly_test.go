package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// A target without its owner's write bit is refused, naming the file,
// unless Force is set; with Force it is replaced and keeps its mode.
func TestReadOnlyRefusedUnlessForce(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no mode bits on Windows")
	}
	for _, mode := range []os.FileMode{0o400, 0o444, 0o555} {
		dir := t.TempDir()
		p := filepath.Join(dir, "otr.fingerprints")
		mustWrite(t, p, "old\n", mode)
		_, err := Plan([]File{{Path: p, Content: Bytes("new\n")}})
		if err == nil || !strings.Contains(err.Error(), p) || !errors.Is(err, ErrReadOnly) {
			t.Fatalf("mode %v: Plan error %v, want ErrReadOnly naming %s", mode, err, p)
		}
		checkFile(t, p, "old\n", mode)
		if got := entries(t, dir); !reflect.DeepEqual(got, []string{"otr.fingerprints"}) {
			t.Errorf("mode %v: folder holds %v", mode, got)
		}

		res := planApply(t, File{Path: p, Content: Bytes("new\n"), Force: true})
		checkFile(t, p, "new\n", mode)
		checkFile(t, res[0].Backup, "old\n", mode)
	}
}

// A read-only target whose content would not change needs no Force.
func TestReadOnlyUnchanged(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	mustWrite(t, p, "same", 0o444)
	res := planApply(t, File{Path: p, Content: Bytes("same")})
	if res[0].Op != Unchanged {
		t.Errorf("op %v, want unchanged", res[0].Op)
	}
}

// A read-only secret file replaced with Force keeps its mode, at most 0600.
func TestReadOnlySecretForced(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no mode bits on Windows")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.private_key")
	mustWrite(t, p, "old key", 0o444)
	if _, err := Plan([]File{{Path: p, Content: Bytes("new key"), Secret: true}}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Plan error %v, want ErrReadOnly", err)
	}
	res := planApply(t, File{Path: p, Content: Bytes("new key"), Secret: true, Force: true})
	checkFile(t, p, "new key", 0o400)
	checkFile(t, res[0].Backup, "old key", 0o400)
}

// Write refuses a read-only target too.
func TestWriteReadOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no mode bits on Windows")
	}
	p := filepath.Join(t.TempDir(), "f")
	mustWrite(t, p, "old", 0o400)
	if _, err := Write(p, []byte("new"), 0o600); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Write error %v, want ErrReadOnly", err)
	}
	checkFile(t, p, "old", 0o400)
}
