package atomicfile

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
)

// Version is what a reader saw of a file: whether it existed and the
// SHA-256 of its content. A File's Read field carries it to Plan and
// Apply, which refuse a target that differs from it. The zero Version
// records nothing and checks nothing.
type Version struct {
	known  bool
	exists bool
	sum    [32]byte
}

// Missing is the Version of a file that did not exist when it was read.
var Missing = Version{known: true}

// Reader reads a file like an *os.File and hashes what it reads, to tell
// its Version.
type Reader struct {
	f *os.File
	h hash.Hash
}

// Open opens path for reading, like os.Open. If the file does not exist
// the error wraps fs.ErrNotExist and the caller records Missing.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &Reader{f: f, h: sha256.New()}, nil
}

// Read reads from the file.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.h.Write(p[:n])
	return n, err
}

// Version returns the version of the file read. It reads and hashes what
// the caller left unread, so that the Version covers the whole file.
func (r *Reader) Version() (Version, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return Version{}, err
	}
	v := Version{known: true, exists: true}
	copy(v.sum[:], r.h.Sum(nil))
	return v, nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }

// VersionOf returns the Version of the file at path as it is now, or
// Missing. For a file read by other means than Open and ReadFile, take it
// before reading, with the folder locked: a change between the two then
// makes Plan refuse the file rather than go unnoticed.
func VersionOf(path string) (Version, error) {
	sum, exists, err := sumFile(path)
	if err != nil {
		return Version{}, fmt.Errorf("%s: %w", path, err)
	}
	if !exists {
		return Missing, nil
	}
	return Version{known: true, exists: true, sum: sum}, nil
}

// ReadFile reads the whole file at path, like os.ReadFile, and returns
// its Version; a missing file gives Missing and an error wrapping
// fs.ErrNotExist.
func ReadFile(path string) ([]byte, Version, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Missing, err
	}
	if err != nil {
		return nil, Version{}, err
	}
	return data, Version{known: true, exists: true, sum: sha256.Sum256(data)}, nil
}
