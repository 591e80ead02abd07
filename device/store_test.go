package device

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// newStore makes a device in a new home and returns the home and its
// device.db's content.
func newStore(t *testing.T) (string, []byte) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "h")
	if err := Create(home, "a@example.org", "", fakeCodec{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(home, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	return home, b
}

// withStore makes a home whose device.db holds b.
func withStore(t *testing.T, b []byte) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "h")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, DBFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// wantNotStore checks that opening home, read-only and not, and creating a
// device there fail with an error that wraps ErrNotStore, names the file
// and says want; and that none of them changed the file.
func wantNotStore(t *testing.T, home, want string) {
	t.Helper()
	path := filepath.Join(home, DBFile)
	before, _ := os.ReadFile(path)
	for _, ro := range []bool{true, false} {
		d, err := Open(home, Options{Codec: fakeCodec{}, ReadOnly: ro})
		if err == nil {
			d.Close()
			t.Fatalf("Open(ReadOnly: %v): no error", ro)
		}
		if !errors.Is(err, ErrNotStore) || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(ReadOnly: %v): %v; want %s: %v … %s", ro, err, path, ErrNotStore, want)
		}
	}
	err := Create(home, "a@example.org", "", fakeCodec{})
	if !errors.Is(err, ErrNotStore) || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), want) {
		t.Errorf("Create: %v; want %s: %v … %s", err, path, ErrNotStore, want)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("%s changed: %d bytes, was %d", path, len(after), len(before))
	}
}

func TestEmptyStore(t *testing.T) {
	wantNotStore(t, withStore(t, nil), "the file is empty; it holds nothing, so remove it")
}

// A truncated store is refused with an error naming the file: bbolt
// panicked on most lengths. (bbolt grows the file ahead of its pages: cut
// from the end, the part it does not use yet can go.)
func TestTruncatedStore(t *testing.T) {
	_, b := newStore(t)
	wantNotStore(t, withStore(t, b[:1]), "not a bbolt database")
	for _, n := range []int{100, 4096, 4096 + 100, 8192, 12288, 16384} {
		wantNotStore(t, withStore(t, b[:n]), "truncated: ")
	}
	for n := 16384; n < len(b); n += 4096 - 1 {
		home := withStore(t, b[:n])
		d, err := Open(home, Options{Codec: fakeCodec{}, ReadOnly: true})
		if err == nil {
			d.Close()
			continue
		}
		if !errors.Is(err, ErrNotStore) || !strings.HasPrefix(err.Error(), filepath.Join(home, DBFile)+": ") {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
}

// Garbage in the pages after the meta pages: bbolt panics reading them,
// and the error names the file.
func TestGarbledStore(t *testing.T) {
	_, b := newStore(t)
	for off := 8192; off+4096 <= len(b); off += 4096 {
		g := bytes.Clone(b)
		for i := off; i < off+4096; i++ {
			g[i] = byte(i*7 + 3)
		}
		home := withStore(t, g)
		for _, ro := range []bool{true, false} {
			d, err := Open(home, Options{Codec: fakeCodec{}, ReadOnly: ro})
			if err == nil {
				d.Status()
				d.Close()
				continue // a page the device does not read
			}
			if !strings.HasPrefix(err.Error(), filepath.Join(home, DBFile)+": ") {
				t.Errorf("page at %d: %v: does not name the file", off, err)
			}
		}
	}
}

func TestStoreWithoutRecord(t *testing.T) {
	home, _ := newStore(t)
	db, err := bolt.Open(filepath.Join(home, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete([]byte(recCore)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantNotStore(t, home, "damaged: record core missing; move it away")
}

func TestStoreWithoutDevice(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	os.Mkdir(home, 0o700)
	db, err := bolt.Open(filepath.Join(home, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantNotStore(t, home, "a database with nothing in it (a keysync init that did not finish?); it holds nothing")
}

func TestCreateOnDevice(t *testing.T) {
	home, _ := newStore(t)
	err := Create(home, "b@example.org", "", fakeCodec{})
	if !errors.Is(err, ErrExists) || !strings.HasPrefix(err.Error(), filepath.Join(home, DBFile)+": ") {
		t.Fatalf("Create: %v; want %v naming the file", err, ErrExists)
	}
}

// A store opened read-only is not written: not its mode, not its content.
func TestReadOnlyOpenWritesNothing(t *testing.T) {
	home, b := newStore(t)
	path := filepath.Join(home, DBFile)
	os.Chmod(path, 0o400)
	d, err := Open(home, Options{Codec: fakeCodec{}, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	d.Status()
	if err := d.Start(); err == nil {
		t.Error("Start on a read-only device: no error")
	}
	d.Close()
	fi, _ := os.Stat(path)
	after, _ := os.ReadFile(path)
	if fi.Mode().Perm() != 0o400 || !bytes.Equal(after, b) {
		t.Errorf("read-only open changed %s: mode %o, content same %v", path, fi.Mode().Perm(), bytes.Equal(after, b))
	}
}

// Of two inits at once in one home, one makes the device and the other
// fails without touching it (told that it exists, or, while the store is
// still being written, that it is not a store yet); the device made is
// whole.
func TestConcurrentCreate(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- Create(home, "a@example.org", "", fakeCodec{}) }()
	}
	var ok, exists int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrExists), errors.Is(err, ErrNotStore):
			exists++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || exists != 1 {
		t.Fatalf("%d made, %d refused", ok, exists)
	}
	d, err := Open(home, Options{Codec: fakeCodec{}})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}
