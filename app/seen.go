package app

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/keysync/keysync/internal/atomicfile"
)

// Seen records what a read saw of each file of a store, so that a later
// write into the same folder refuses a file that changed in between
// (atomicfile.Version). The zero Seen is ready to use.
type Seen struct {
	mu       sync.Mutex
	versions map[string]atomicfile.Version
}

// Version returns what was seen of the file at path: the zero Version,
// which checks nothing, when it was not read.
func (s *Seen) Version(path string) atomicfile.Version {
	if s == nil {
		return atomicfile.Version{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[filepath.Clean(path)]
}

func (s *Seen) record(path string, v atomicfile.Version) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.versions == nil {
		s.versions = map[string]atomicfile.Version{}
	}
	s.versions[filepath.Clean(path)] = v
}

// Open opens a file of the store for reading, as os.Open does, and
// records in r.Seen what was read of it once it is closed. A missing
// file is recorded as missing; the error wraps fs.ErrNotExist. Every app
// opens the files of its store through Open or ReadFile.
func (r ReadRequest) Open(path string) (io.ReadCloser, error) {
	if r.Seen == nil {
		return os.Open(path) // nothing to record: no hashing
	}
	f, err := atomicfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		r.Seen.record(path, atomicfile.Missing)
	}
	if err != nil {
		return nil, err
	}
	return &seenReader{Reader: f, path: path, seen: r.Seen}, nil
}

// ReadFile reads a whole file of the store, as os.ReadFile does, and
// records in r.Seen what it read.
func (r ReadRequest) ReadFile(path string) ([]byte, error) {
	if r.Seen == nil {
		return os.ReadFile(path)
	}
	data, v, err := atomicfile.ReadFile(path)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		r.Seen.record(path, v)
	}
	return data, err
}

// seenReader records the file's Version when it is closed.
type seenReader struct {
	*atomicfile.Reader
	path string
	seen *Seen
}

func (s *seenReader) Close() error {
	v, err := s.Reader.Version()
	if err != nil {
		s.Reader.Close()
		return err
	}
	s.seen.record(s.path, v)
	return s.Reader.Close()
}
